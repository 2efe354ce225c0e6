/*
 * paths.h - the one place that maps a clip to its files on disk.
 *
 * A clip's files live in <data>/media/<id>/, or under the key prefix <id>/
 * of the object storage (storage.h): the original upload and what
 * processing makes from it; uploads in progress in <data>/uploads/<id>/.
 * Nothing outside this module builds these paths and keys, and none ever
 * comes from a URL: the web layer asks by clip id and by one of the names
 * below.
 */
#ifndef KINDLING_PATHS_H
#define KINDLING_PATHS_H

#include <stdint.h>

enum kd_media_file {
	KD_FILE_ORIGINAL,
	KD_FILE_VIDEO,          /* the browser-playable rendition, MP4 */
	KD_FILE_THUMBNAIL,      /* JPEG, 320 px wide */
	KD_FILE_POSTER,         /* JPEG, at most 1280 px */
	KD_FILE_STORYBOARD_VTT, /* WebVTT cues pointing into the sprite */
	KD_FILE_STORYBOARD_JPG, /* sprite sheet of small frames */
	KD_FILE_CAPTIONS,       /* WebVTT captions, when given */
	KD_FILE_COUNT
};

/* The name of a file as it appears on disk and in media URLs. */
const char *paths_file_name(enum kd_media_file f);
/* Its MIME type. */
const char *paths_file_type(enum kd_media_file f);
/* Look a URL name up; returns 0 and sets *f, or -1 for an unknown name.
 * The original is not served, so it has no URL name. */
int paths_file_by_name(const char *name, enum kd_media_file *f);

/* <data>/uploads, where uploads in progress live, and <data>/uploads/<id>
 * for one of them; the caller frees. */
char *paths_uploads_dir(const char *data_dir);
char *paths_upload_dir(const char *data_dir, const char *upload_id);

/* <data>/media/<id> and <data>/media/<id>/<name>; the caller frees.
 * With media in object storage this folder is where a clip is processed,
 * and is emptied once its files are stored. */
char *paths_clip_dir(const char *data_dir, int64_t id);
char *paths_clip_file(const char *data_dir, int64_t id, enum kd_media_file f);

/* <data>/media/<id>/blur.json: the regions to blur, written by the runner
 * for the worker (jobs.h).  Not a kd_media_file: never served or stored. */
char *paths_clip_blur_file(const char *data_dir, int64_t id);

/* The storage key of a clip's file, "<id>/<name>" (storage.h), and the
 * prefix of all of them, "<id>/".  On the data folder a key is the file
 * paths_clip_file names. */
#define PATHS_KEY_MAX 64
void paths_clip_key(int64_t id, enum kd_media_file f, char key[PATHS_KEY_MAX]);
void paths_clip_prefix(int64_t id, char prefix[PATHS_KEY_MAX]);

#endif
