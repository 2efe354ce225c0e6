/*
 * lav_compat.h - the one place that knows which FFmpeg it is built against.
 *
 * kindling is built and tested with FFmpeg 5.1 (libavformat 59, libavcodec
 * 59.37); the branches below keep it building on 6.x and 7.x, where side data
 * moved from the stream to its codec parameters and frame flags replaced
 * single-purpose fields.  Everything else in src/ and tests/ calls these
 * helpers instead of testing versions itself.
 */
#ifndef KINDLING_LAV_COMPAT_H
#define KINDLING_LAV_COMPAT_H

#include <stdint.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>

#if LIBAVFORMAT_VERSION_MAJOR < 59
#error "kindling needs FFmpeg 5.0 or newer (libavformat 59)"
#endif

/* libavcodec 60.29 (FFmpeg 6.1) added codecpar->coded_side_data and
 * deprecated the per-stream side data, which later releases removed. */
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 29, 100)
#define LAV_CODECPAR_SIDE_DATA 1
#else
#define LAV_CODECPAR_SIDE_DATA 0
#endif

/* The stream's display matrix (nine 16.16/2.30 fixed-point numbers, see
 * libavutil/display.h), or NULL when the stream has none or it is short. */
static inline const int32_t *lav_stream_displaymatrix(const AVStream *st)
{
#if LAV_CODECPAR_SIDE_DATA
	const AVPacketSideData *sd = av_packet_side_data_get(st->codecpar->coded_side_data,
	                                                     st->codecpar->nb_coded_side_data,
	                                                     AV_PKT_DATA_DISPLAYMATRIX);
	if (!sd || sd->size < 9 * sizeof(int32_t))
		return NULL;
	return (const int32_t *)sd->data;
#else
	size_t size = 0;
	const uint8_t *data = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
	if (!data || size < 9 * sizeof(int32_t))
		return NULL;
	return (const int32_t *)data;
#endif
}

/* Attach a display matrix to a stream about to be muxed (the tests use it
 * to make mirrored clips, which the FFmpeg 5.1 command line cannot).
 * Returns 0 or AVERROR(ENOMEM). */
static inline int lav_stream_set_displaymatrix(AVStream *st, const int32_t m[9])
{
#if LAV_CODECPAR_SIDE_DATA
	AVPacketSideData *sd = av_packet_side_data_new(&st->codecpar->coded_side_data,
	                                               &st->codecpar->nb_coded_side_data,
	                                               AV_PKT_DATA_DISPLAYMATRIX,
	                                               9 * sizeof(int32_t), 0);
	if (!sd)
		return AVERROR(ENOMEM);
	memcpy(sd->data, m, 9 * sizeof(int32_t));
#else
	uint8_t *data = av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t));
	if (!data)
		return AVERROR(ENOMEM);
	memcpy(data, m, 9 * sizeof(int32_t));
#endif
	return 0;
}

/* FFmpeg 6.1 (libavutil 58.29) moved key_frame into frame->flags. */
static inline int lav_frame_is_key(const AVFrame *f)
{
#ifdef AV_FRAME_FLAG_KEY
	return !!(f->flags & AV_FRAME_FLAG_KEY);
#else
	return f->key_frame;
#endif
}

/* FFmpeg 7.0 (libavformat 61) made the buffer an AVIOContext's write
 * callback is given const. */
#if LIBAVFORMAT_VERSION_MAJOR >= 61
#define LAV_AVIO_WRITE_BUF const uint8_t *
#else
#define LAV_AVIO_WRITE_BUF uint8_t *
#endif

#endif
