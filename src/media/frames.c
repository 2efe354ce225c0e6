/* frames.c - decoding the frames of a video stream (see frames.h). */
#include "media/frames.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/log.h"
#include "media/lav_compat.h"

/* Limits that keep a hostile or broken file from spinning a worker. */
#define MAX_PACKETS_PER_FRAME 5000
#define MAX_FRAMES_PER_SEEK 1000
#define MAX_DECODE_ERRORS 200

int frames_decoder_open(struct frames_decoder *d, const char *path, const struct media_facts *f,
                        enum frames_mode mode, char *err, size_t errlen)
{
	const AVCodec *codec;
	AVFormatContext *fmt;
	int rc, ret, idx;

	memset(d, 0, sizeof *d);
	d->last_ts = AV_NOPTS_VALUE;
	d->last_target = AV_NOPTS_VALUE;
	rc = media_input_open(&d->in, path, err, errlen);
	if (rc < 0)
		return rc;
	fmt = d->in.fmt;

	idx = f->video_stream;
	if (idx < 0 || (unsigned)idx >= fmt->nb_streams ||
	    fmt->streams[idx]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
		idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (idx < 0) {
		snprintf(err, errlen, "this file has no picture in it");
		return KD_EINVAL;
	}
	d->st = fmt->streams[idx];
	/* The demuxer then skips other streams (and, for keyframes only, the
	 * frames in between) instead of handing them to us. */
	for (unsigned i = 0; i < fmt->nb_streams; i++)
		fmt->streams[i]->discard = AVDISCARD_ALL;
	d->st->discard = AVDISCARD_DEFAULT;

	codec = avcodec_find_decoder(d->st->codecpar->codec_id);
	if (!codec) {
		snprintf(err, errlen, "kindling cannot decode this kind of video (%s)",
		         avcodec_get_name(d->st->codecpar->codec_id));
		return KD_EINVAL;
	}
	d->dec = avcodec_alloc_context3(codec);
	d->pkt = av_packet_alloc();
	d->frame = av_frame_alloc();
	d->prev = av_frame_alloc();
	if (!d->dec || !d->pkt || !d->frame || !d->prev)
		return KD_ENOMEM;
	ret = avcodec_parameters_to_context(d->dec, d->st->codecpar);
	if (ret < 0)
		return ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
	d->dec->pkt_timebase = d->st->time_base;
	/* Workers are limited to a share of a small machine: two threads are
	 * what one job may use. */
	d->dec->thread_count = 2;
	d->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
	frames_set_mode(d, mode);
	ret = avcodec_open2(d->dec, codec, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "the video could not be decoded (%s): the file may be damaged",
		         avcodec_get_name(d->st->codecpar->codec_id));
		return ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
	}

	d->start = d->st->start_time != AV_NOPTS_VALUE ? d->st->start_time : 0;
	AVRational rate = d->st->avg_frame_rate;
	if (rate.num <= 0 || rate.den <= 0)
		rate = d->st->r_frame_rate;
	if (rate.num <= 0 || rate.den <= 0)
		rate = (AVRational){25, 1};
	d->step = av_rescale_q(1, av_inv_q(rate), d->st->time_base);
	if (d->step <= 0)
		d->step = 1;
	return 0;
}

void frames_set_mode(struct frames_decoder *d, enum frames_mode mode)
{
	/* For keyframes only the demuxer skips the rest too (MP4 does not even
	 * read them); the decoder setting covers demuxers that do not. */
	d->st->discard = mode == FRAMES_KEYS ? AVDISCARD_NONKEY : AVDISCARD_DEFAULT;
	d->dec->skip_frame = mode == FRAMES_KEYS   ? AVDISCARD_NONKEY
	                     : mode == FRAMES_FAST ? AVDISCARD_NONREF
	                                           : AVDISCARD_DEFAULT;
	/* Tiles 160 px wide hide the blockiness; the speed shows. */
	d->dec->skip_loop_filter = mode == FRAMES_FAST ? AVDISCARD_ALL : AVDISCARD_DEFAULT;
}

int frames_index_keyframes(struct frames_decoder *d)
{
	int n = avformat_index_get_entries_count(d->st), keys = 0;
	for (int i = 0; i < n; i++) {
		const AVIndexEntry *e = avformat_index_get_entry(d->st, i);
		if (e && (e->flags & AVINDEX_KEYFRAME))
			keys++;
	}
	return keys;
}

void frames_decoder_close(struct frames_decoder *d)
{
	av_frame_free(&d->frame);
	av_frame_free(&d->prev);
	av_packet_free(&d->pkt);
	avcodec_free_context(&d->dec);
	media_input_close(&d->in);
}

/* The next packet of our stream into d->pkt: 0, or AVERROR_EOF at the end
 * (a read error past which nothing can be trusted counts as the end). */
static int read_packet(struct frames_decoder *d)
{
	for (int n = 0; n < MAX_PACKETS_PER_FRAME; n++) {
		int ret = av_read_frame(d->in.fmt, d->pkt);
		if (ret == AVERROR(EAGAIN))
			continue;
		if (ret < 0)
			return ret == AVERROR(ENOMEM) ? ret : AVERROR_EOF;
		if (d->pkt->stream_index == d->st->index)
			return 0;
		av_packet_unref(d->pkt);
	}
	return AVERROR_EOF;
}

/* Receive the next frame into out, feeding the decoder as it asks.
 * Returns 0, 1 when there are no more frames, or KD_ENOMEM. */
static int decode_next(struct frames_decoder *d, AVFrame *out)
{
	for (int packets = 0; packets < MAX_PACKETS_PER_FRAME; packets++) {
		int ret = avcodec_receive_frame(d->dec, out);
		if (ret == 0) {
			int64_t ts = out->best_effort_timestamp;
			if (ts == AV_NOPTS_VALUE)
				ts = out->pts;
			if (ts == AV_NOPTS_VALUE)
				ts = d->last_ts != AV_NOPTS_VALUE ? d->last_ts + d->step : d->start;
			out->pts = ts;
			return 0;
		}
		if (ret == AVERROR_EOF) {
			d->drained = true;
			return 1;
		}
		if (ret == AVERROR(ENOMEM))
			return KD_ENOMEM;
		if (ret != AVERROR(EAGAIN) && ++d->errors > MAX_DECODE_ERRORS)
			return 1;
		if (d->draining) {
			/* Nothing more will come once the decoder has been told. */
			if (ret == AVERROR(EAGAIN))
				return 1;
			continue;
		}

		ret = read_packet(d);
		if (ret == AVERROR(ENOMEM))
			return KD_ENOMEM;
		if (ret < 0) {
			/* The decoder still holds frames (reordering, threads):
			 * an empty packet asks for them. */
			avcodec_send_packet(d->dec, NULL);
			d->draining = true;
			continue;
		}
		ret = avcodec_send_packet(d->dec, d->pkt);
		av_packet_unref(d->pkt);
		if (ret == AVERROR(ENOMEM))
			return KD_ENOMEM;
		if (ret < 0 && ret != AVERROR(EAGAIN) && ++d->errors > MAX_DECODE_ERRORS)
			return 1;
	}
	return 1;
}

int frames_next(struct frames_decoder *d)
{
	av_frame_unref(d->frame);
	int rc = decode_next(d, d->frame);
	if (rc == 0)
		d->last_ts = d->frame->pts;
	return rc;
}

/* Whether seeking beats decoding on from where we are to reach target. */
static bool seek_helps(struct frames_decoder *d, int64_t target)
{
	if (d->last_ts == AV_NOPTS_VALUE || d->last_ts >= target || d->drained)
		return true;
	const AVIndexEntry *e = avformat_index_get_entry_from_timestamp(d->st, target,
	                                                                 AVSEEK_FLAG_BACKWARD);
	if (e)
		return e->timestamp > d->last_ts;
	/* No index: a seek costs a bisection of the file, worth it a couple
	 * of seconds ahead. */
	return (double)(target - d->last_ts) * av_q2d(d->st->time_base) > 2.0;
}

static void seek_to(struct frames_decoder *d, int64_t target)
{
	AVFormatContext *fmt = d->in.fmt;
	int ret = av_seek_frame(fmt, d->st->index, target, AVSEEK_FLAG_BACKWARD);
	if (ret < 0) /* from the start, then decode on */
		ret = av_seek_frame(fmt, d->st->index, d->start, AVSEEK_FLAG_BACKWARD);
	if (ret < 0)
		log_debug("media", "cannot seek: decoding on from where we are");
	avcodec_flush_buffers(d->dec);
	d->draining = false;
	d->drained = false;
	d->last_ts = AV_NOPTS_VALUE;
	av_frame_unref(d->frame);
	av_frame_unref(d->prev);
}

int frames_at(struct frames_decoder *d, double t)
{
	int64_t target = d->start + (int64_t)llround(t / av_q2d(d->st->time_base));

	if (d->last_ts != AV_NOPTS_VALUE && d->frame->buf[0]) {
		/* The frame we hold already answers: it was the first at or
		 * after an earlier, smaller time, and is at or after this one;
		 * or the file ended before this time. */
		if ((d->last_target != AV_NOPTS_VALUE && d->last_target <= target &&
		     d->last_ts >= target) ||
		    (d->drained && d->last_ts <= target)) {
			d->last_target = target;
			return 0;
		}
	}
	if (seek_helps(d, target))
		seek_to(d, target);
	d->last_target = target;
	av_frame_unref(d->prev);

	for (int n = 0; n < MAX_FRAMES_PER_SEEK; n++) {
		av_frame_unref(d->frame);
		int rc = decode_next(d, d->frame);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			if (!d->prev->buf[0])
				return 1;
			av_frame_move_ref(d->frame, d->prev);
			d->last_ts = d->frame->pts;
			return 0;
		}
		d->last_ts = d->frame->pts;
		if (d->frame->pts >= target)
			return 0;
		av_frame_unref(d->prev);
		av_frame_move_ref(d->prev, d->frame);
	}
	/* A very long run of frames without reaching t: settle for the last. */
	av_frame_move_ref(d->frame, d->prev);
	d->last_ts = d->frame->buf[0] ? d->frame->pts : AV_NOPTS_VALUE;
	return d->frame->buf[0] ? 0 : 1;
}

double frames_time(const struct frames_decoder *d)
{
	if (!d->frame->buf[0] || d->frame->pts == AV_NOPTS_VALUE)
		return 0;
	return (double)(d->frame->pts - d->start) * av_q2d(d->st->time_base);
}

