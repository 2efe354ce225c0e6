/*
 * frames.h - decoding the frames of a video stream: the next one, or the
 * one at a time, seeking only when it helps, within limits a hostile file
 * cannot exhaust.  For images.c and storyboard.c.  Private to src/media/.
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
#include "media/input.h"

enum frames_mode {
	FRAMES_ALL,  /* every frame at full quality: thumbnails, posters */
	FRAMES_FAST, /* skip frames no other frame refers to, and the loop filter */
	FRAMES_KEYS, /* keyframes only */
};

struct frames_decoder {
	struct media_input in;
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
	int64_t budget_px;    /* frames_pass: pixels it may decode besides keyframes */
	int64_t packets;      /* read so far */
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

/*
 * Pictures at given times, in one pass over the file in decoding order,
 * never seeking and never decoding a frame twice.
 *
 * times: n moments in seconds from the start of the stream, ascending.
 * take(ctx, i, frame) is called once for each i in order, with the
 * decoded frame nearest times[i] (frame->pts set, as frames_next does);
 * the same frame may come for several i.  A non-zero return from take
 * ends the pass with that value.
 *
 * How near: exact (the frame at the moment) when that costs at most
 * d->budget_px (FRAMES_BUDGET_PX unless changed after opening) pixels of
 * decoding besides keyframes; otherwise each
 * moment is allowed a tolerance, the same for all and as small as the
 * budget allows, within which a keyframe may stand for it.  The file's
 * index says where keyframes are, so frames of a stretch between two
 * keyframes that no moment needs are not even read (MP4, MOV), and
 * keyframes no moment needs are not decoded.  A long clip with x264's
 * default of a keyframe every 250 frames is then mostly keyframes, never
 * more than half that interval from their moment; a short clip, or one
 * with dense keyframes, exact or nearly.  Without an index (MPEG-TS):
 * everything when it fits the budget, else keyframes only.
 *
 * It starts from the beginning of the file, whatever was read before.
 * Returns 0 (take was called for every i), 1 when no frame could be
 * decoded at all (take never called), KD_ENOMEM, or take's value.
 */
typedef int (*frames_take_fn)(void *ctx, int i, const AVFrame *frame);
/* Five seconds of 1080p at 30 frames a second (about a quarter second of
 * decoding): a short clip fits whole. */
#define FRAMES_BUDGET_PX (150LL * 1920 * 1080)
int frames_pass(struct frames_decoder *d, const double *times, int n, frames_take_fn take,
                void *ctx);

#endif
