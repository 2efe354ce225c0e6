/*
 * media.h - what kindling learns from and makes out of a video file, with
 * FFmpeg's libraries (libavformat, libavcodec, libswscale).
 *
 * Nothing here knows about HTTP or the catalogue: each function reads one
 * input file and writes its outputs to the paths it is given.  Outputs are
 * written to a temporary name in the same folder, synced and renamed, so a
 * crash never leaves half a file under the final name.
 *
 * These functions run inside a worker process with memory and CPU limits
 * (see jobs.h): they must fail cleanly on any input, however broken.
 *
 * Errors: KD_EINVAL means the input is unusable (the message, written into
 * err, says what is wrong with the file and what the coach can do, in plain
 * words: "the file seems to be cut off: it may not have finished copying;
 * copy it again from the camera"); KD_EIO means an output could not be
 * written; KD_ENOMEM; KD_EDB is never returned.  FFmpeg version differences
 * live in src/media/lav_compat.h only.
 */
#ifndef KINDLING_MEDIA_H
#define KINDLING_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Facts about the original file.  Names and figures agree with ffprobe. */
struct media_facts {
	char container[64];     /* ffprobe format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" */
	double duration_s;      /* container duration; 0 when unknown */
	int64_t bit_rate;       /* container bit rate, bits/s; 0 when unknown */
	int64_t size_bytes;     /* file size */
	char creation_time[32]; /* container creation_time tag as given, "" if none */

	int video_stream;       /* index of the main video stream (never an attached picture) */
	char video_codec[32];   /* FFmpeg short name: h264, hevc, vp9, mpeg4... */
	char pix_fmt[32];       /* e.g. yuv420p, yuv420p10le */
	int coded_width;        /* as stored */
	int coded_height;
	int sar_num, sar_den;   /* sample aspect ratio, 1:1 when unknown */
	int rotation;           /* clockwise degrees to display upright: 0, 90, 180, 270 */
	bool hflip;             /* the display matrix also mirrors the picture */
	bool vflip;
	int width;              /* as displayed: after SAR and rotation */
	int height;
	double fps;             /* average frame rate; 0 when unknown */

	int audio_stream;       /* -1 when there is no audio */
	char audio_codec[32];   /* FFmpeg short name: aac, opus, mp3...; "" when none */

	/* The streams already play in every browser (H.264 8-bit 4:2:0, AAC or
	 * no audio), so the rendition can be a remux without re-encoding. */
	bool browser_ready;
};

/*
 * Regions to blur: rectangles over time ranges that an editor marked (or a
 * face finder proposed and an editor applied).  x, y, w, h are fractions
 * (0..1) of the UPRIGHT picture as displayed (after the sample aspect ratio
 * and the turn); from_s and to_s are seconds of the clip's timeline as a
 * player shows it (from the start of the file).  A region applies to a
 * frame shown at t when from_s - s <= t <= to_s + s, s being one frame
 * (plus the gap between the video stream's start and the file's, when
 * there is one): a frame too many is blurred rather than one too few.  A
 * storyboard tile or a thumbnail shows a frame and is blurred as that
 * frame is.  Its rectangle, every edge rounded outward, is blurred beyond
 * recognition (src/media/blur.h says how) in the rendition, the
 * thumbnail, the poster and the storyboard; the rest of the picture is
 * left as it was.  The worker checks the values when it reads them
 * (jobs_blur_parse, jobs.h); here they are clamped to the picture, and a
 * region with no area blurs nothing.
 */
struct media_blur_region {
	double from_s, to_s;
	double x, y, w, h;
};
/* regions[0..n); the caller owns them.  A NULL struct media_blur * or
 * n == 0: nothing is blurred, and the outputs are made exactly as without
 * (a browser-ready clip is remuxed).  With regions the rendition is always
 * encoded again: a copy of the original's packets would show what the
 * regions hide. */
struct media_blur {
	const struct media_blur_region *regions;
	size_t n;
};

/* Set up once what FFmpeg keeps for the whole process: its log going to
 * ours, and the static tables of the decoders and encoders kindling uses
 * most, so that worker processes forked afterwards share them instead of
 * each building its own.  Reads no file.  Cannot fail: what it could not
 * set up, the first use sets up as it would have anyway. */
void media_prepare(void);

/* How many threads each decoder and encoder of this process may use
 * (1..16; 2 until set): a worker's share of the machine. */
void media_set_threads(int n);

/* Open and probe path.  KD_EINVAL (with a plain reason) for anything that is
 * not a usable video: empty, not a media file, no video stream, cut off,
 * absurd dimensions (over 8192 px a side). */
int media_probe(const char *path, struct media_facts *f, char *err, size_t errlen);

/* Pick a representative frame (never black or faded: several candidates
 * between 10% and 40% of the duration, the most detailed kept), turn it
 * upright, and write a 320 px wide thumbnail and a poster at most 1280 px on
 * its longer side, as full-range JPEG, aspect kept. */
int media_make_images(const char *path, const struct media_facts *f, const char *thumb_path,
                      const char *poster_path, char *err, size_t errlen);

/* Hover-scrub previews: one sprite sheet JPEG of small upright frames (160
 * px wide, at most about 100 tiles, at a regular interval) and a WebVTT file
 * whose cues cover the whole duration, each pointing at its tile as
 * "<sprite_url>#xywh=x,y,w,h" (a URL, or a name relative to the WebVTT
 * file's own URL). */
int media_make_storyboard(const char *path, const struct media_facts *f,
                          const char *sprite_path, const char *vtt_path,
                          const char *sprite_url, char *err, size_t errlen);

/* Both of the above from one pass over the video: each picture is decoded
 * once whichever of them shows it, and the files are made durable
 * together.  Paths left NULL are not made (a NULL thumbnail or poster: no
 * images; a NULL sprite, WebVTT or sprite URL: no storyboard).
 *
 * Every picture is the frame at its moment when decoding those costs
 * little; a long video with keyframes far apart gets, for each moment, a
 * nearby keyframe or a frame as near as a bounded amount of decoding
 * reaches (see frames_pass in src/media/frames.h): a keyframe every 250
 * frames at 30 fps is then at most about 4 s from its moment, which a
 * storyboard of a five-minute video (a tile every 3 s) shows as
 * neighbouring tiles sharing a picture.  blur: the regions each picture
 * hides (NULL: none). */
struct media_picture_paths {
	const char *thumb_path, *poster_path;
	const char *sprite_path, *vtt_path, *sprite_url;
};
int media_make_pictures(const char *path, const struct media_facts *f,
                        const struct media_picture_paths *paths, const struct media_blur *blur,
                        char *err, size_t errlen);

/* Everything a clip's processing makes from its original: the pictures
 * (media_make_pictures) and then the rendition (media_make_rendition),
 * every file synced and named at the end, together: a sync or two for the
 * lot rather than two a file.  A failure before that end leaves none of
 * them.  blur: the regions every one of them hides (NULL: none). */
int media_make_outputs(const char *path, const struct media_facts *f,
                       const struct media_picture_paths *pictures, const char *video_path,
                       const struct media_blur *blur, char *err, size_t errlen);

/* A browser-playable MP4 with its index first (faststart): a remux when
 * f->browser_ready, otherwise H.264 (libx264, 8-bit 4:2:0, upright, at most
 * 1080p: short side 1080, long side 1920) + AAC.  Location and device
 * metadata are not copied.  With blur regions (NULL: none) always the
 * latter, the regions blurred in every frame they apply to. */
int media_make_rendition(const char *path, const struct media_facts *f, const char *out_path,
                         const struct media_blur *blur, char *err, size_t errlen);

/* issue 15: transcription (src/media/audio.c).  The sound of path's main
 * audio stream as a transcription engine takes it: a WAV file of 16-bit
 * mono PCM at MEDIA_WAV_RATE, its second 0 the picture's (silence first
 * when the sound starts late), at most max_s seconds (0: all), written to
 * a temporary name, synced and renamed to wav_path.  0 with *samples set;
 * KD_ENOTFOUND when the file has no sound; KD_EINVAL (err says why) when
 * it cannot be decoded; KD_EIO when the file cannot be written. */
#define MEDIA_WAV_RATE 16000
int media_make_wav(const char *path, const char *wav_path, double max_s, int64_t *samples,
                   char *err, size_t errlen);

#endif
