/*
 * input.h - opening a video file the safe way, for probing, decoding and
 * the rendition alike.  Private to src/media/.
 */
#ifndef KINDLING_MEDIA_INPUT_H
#define KINDLING_MEDIA_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include <libavformat/avformat.h>

/* An opened input.  Only the file protocol is allowed, and only demuxers of
 * real audio and video formats: a playlist or a concat script posing as a
 * video cannot make us read other files or the network. */
struct media_input {
	AVFormatContext *fmt;
	AVIOContext *pb;
	int64_t size;          /* bytes */
	char format[64];       /* the demuxer's name, also set when opening failed */
};

/* Open path and read its stream information.  Returns 0, or KD_EINVAL (the
 * file is empty, not media, cut off or damaged: err says so in plain words),
 * KD_ENOTFOUND, KD_EIO or KD_ENOMEM.  Call media_input_close() in every
 * case. */
int media_input_open(struct media_input *in, const char *path, char *err, size_t errlen);
void media_input_close(struct media_input *in);

/* What media_set_threads() last set: threads per decoder or encoder. */
int media_threads(void);

#endif
