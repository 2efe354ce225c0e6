/* paths.c - clip id to file paths (see paths.h). */
#include "kindling/paths.h"

#include <stdio.h>
#include <string.h>

#include "kindling/mem.h"

static const struct {
	const char *name;
	const char *type;
} files[KD_FILE_COUNT] = {
	[KD_FILE_ORIGINAL] = {"original", "application/octet-stream"},
	[KD_FILE_VIDEO] = {"video.mp4", "video/mp4"},
	[KD_FILE_THUMBNAIL] = {"thumbnail.jpg", "image/jpeg"},
	[KD_FILE_POSTER] = {"poster.jpg", "image/jpeg"},
	[KD_FILE_STORYBOARD_VTT] = {"storyboard.vtt", "text/vtt; charset=utf-8"},
	[KD_FILE_STORYBOARD_JPG] = {"storyboard.jpg", "image/jpeg"},
	[KD_FILE_CAPTIONS] = {"captions.vtt", "text/vtt; charset=utf-8"},
};

const char *paths_file_name(enum kd_media_file f)
{
	return files[f].name;
}

const char *paths_file_type(enum kd_media_file f)
{
	return files[f].type;
}

int paths_file_by_name(const char *name, enum kd_media_file *f)
{
	for (int i = KD_FILE_VIDEO; i < KD_FILE_COUNT; i++)
		if (!strcmp(name, files[i].name)) {
			*f = (enum kd_media_file)i;
			return 0;
		}
	return -1;
}

char *paths_uploads_dir(const char *data_dir)
{
	return kd_asprintf("%s/uploads", data_dir);
}

char *paths_upload_dir(const char *data_dir, const char *upload_id)
{
	return kd_asprintf("%s/uploads/%s", data_dir, upload_id);
}

char *paths_clip_dir(const char *data_dir, int64_t id)
{
	return kd_asprintf("%s/media/%lld", data_dir, (long long)id);
}

char *paths_clip_file(const char *data_dir, int64_t id, enum kd_media_file f)
{
	return kd_asprintf("%s/media/%lld/%s", data_dir, (long long)id, files[f].name);
}

char *paths_clip_blur_file(const char *data_dir, int64_t id)
{
	return kd_asprintf("%s/media/%lld/blur.json", data_dir, (long long)id);
}

void paths_clip_key(int64_t id, enum kd_media_file f, char key[PATHS_KEY_MAX])
{
	snprintf(key, PATHS_KEY_MAX, "%lld/%s", (long long)id, files[f].name);
}

void paths_clip_prefix(int64_t id, char prefix[PATHS_KEY_MAX])
{
	snprintf(prefix, PATHS_KEY_MAX, "%lld/", (long long)id);
}
