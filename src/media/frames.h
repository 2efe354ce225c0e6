/*
 * frames.h - what probe.c, images.c and storyboard.c share: opening an input
 * the safe way, finding the frame at a time, turning a frame into an
 * upright full-range picture of a given size, scoring it, writing it as JPEG.
 *
 * Pictures ("images") are AVFrames in AV_PIX_FMT_YUV420P with color_range
 * AVCOL_RANGE_JPEG and even width and height, so they can go straight to
 * the MJPEG encoder and be tiled at even offsets.
 */
#ifndef KINDLING_MEDIA_FRAMES_H
#define KINDLING_MEDIA_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>

#include "kindling/media.h"

struct SwsContext;

/* An opened input.  Only the file protocol is allowed, and only demuxers of
 * real audio and video formats: a playlist or a concat script posing as a
 * video cannot make us read other files or the network. */
struct frames_input {
	AVFormatContext *fmt;
	AVIOContext *pb;
	int64_t size;          /* bytes */
	char format[64];       /* the demuxer's name, also set when opening failed */
};

/* Open path and read its stream information.  Returns 0, or KD_EINVAL (the
 * file is empty, not media, cut off or damaged: err says so in plain words),
 * KD_ENOTFOUND, KD_EIO or KD_ENOMEM.  Call frames_input_close() in every
 * case. */
int frames_input_open(struct frames_input *in, const char *path, char *err, size_t errlen);
void frames_input_close(struct frames_input *in);

enum frames_mode {
	FRAMES_ALL,  /* every frame at full quality: thumbnails, posters */
	FRAMES_FAST, /* skip frames no other frame refers to, and the loop filter */
	FRAMES_KEYS, /* keyframes only */
};

struct frames_decoder {
	struct frames_input in;
	AVStream *st;
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame;       /* what the last frames_next/frames_at returned */
	AVFrame *prev;        /* the frame before it while looking for a time */
	int64_t start;        /* the stream's first timestamp, in st->time_base */
	int64_t step;         /* one frame's duration, for frames without timestamps */
	int64_t last_ts;      /* timestamp of frame, AV_NOPTS_VALUE when none */
	int64_t last_target;  /* what frames_at was last asked for */
	bool draining;        /* the end of the file was reached and the decoder told */
	bool drained;         /* and it has given back every frame */
	int errors;           /* decoding errors so far */
};

/* Open path and a decoder for the video stream f->video_stream (or the best
 * one when that index does not fit the file).  Returns 0 or a KD_E* code
 * with err set; call frames_decoder_close() in every case. */
int frames_decoder_open(struct frames_decoder *d, const char *path, const struct media_facts *f,
                        enum frames_mode mode, char *err, size_t errlen);
void frames_decoder_close(struct frames_decoder *d);

/* Change what the decoder skips.  It applies from the next packet on, so
 * change it before the first frame or just before a frames_at() that seeks. */
void frames_set_mode(struct frames_decoder *d, enum frames_mode mode);

/* How many keyframes of the stream the file's index lists (0 when the file
 * has no index, as MPEG-TS). */
int frames_index_keyframes(struct frames_decoder *d);

/* The next frame in decoding order into d->frame.  Returns 0, 1 at the end
 * of the file, or KD_ENOMEM. */
int frames_next(struct frames_decoder *d);

/* The first frame at or after t seconds from the start of the stream into
 * d->frame (the last frame of the file when t lies past it).  Seeks only
 * when a keyframe lies between the current position and t, so increasing
 * times decode the file once.  Returns 0, 1 when no frame could be decoded,
 * or KD_ENOMEM. */
int frames_at(struct frames_decoder *d, double t);

/* Seconds from the start of the stream to d->frame. */
double frames_time(const struct frames_decoder *d);

/* A black image of w x h (both even).  Returns NULL when out of memory. */
AVFrame *frames_image_new(int w, int h);

/* Scale src into a w x h image (w, h even, as displayed) and turn it upright
 * by the orientation in f: scaling happens in the box before rotation, so
 * the result fills w x h exactly.  *sws is a scaler cache the caller frees
 * with sws_freeContext().  Returns 0 with *out set (caller frees with
 * av_frame_free), KD_EINVAL for a frame swscale cannot read, KD_ENOMEM. */
int frames_upright(struct SwsContext **sws, const AVFrame *src, const struct media_facts *f,
                   int w, int h, AVFrame **out);

/* Copy src into dst with its top left corner at x, y (both even). */
void frames_blit(AVFrame *dst, int x, int y, const AVFrame *src);

/* How much there is to see in an image: the spread of its brightness plus
 * its mean gradient.  *usable is false for a near-black, near-white or
 * near-flat image (a fade, a lens cap, a blank screen). */
double frames_detail(const AVFrame *img, bool *usable);

/* Encode img as a JPEG (q: 2 best .. 31 worst) and write it atomically to
 * path.  Returns 0, KD_EIO (err says which file), KD_ENOMEM or KD_EINVAL. */
int frames_write_jpeg(const AVFrame *img, int q, const char *path, char *err, size_t errlen);

/* x rounded to the nearest even number, at least 2. */
int frames_even(double x);

#endif
