/* frames.c - decoding the frames of a video stream (see frames.h). */
#include "media/frames.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
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
	d->budget_px = FRAMES_BUDGET_PX;
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
	/* A worker's share of the machine (media_set_threads). */
	d->dec->thread_count = media_threads();
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
		if (d->pkt->stream_index == d->st->index) {
			d->packets++;
			return 0;
		}
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


/* ------------------------------------------------------------ one planned pass */

/* The stretch of frames from one keyframe to the next. */
struct gop {
	double key;     /* the keyframe's time, s from the stream's start */
	double until;   /* decode the frames after it up to this time; < key: none */
	bool need_key;  /* some moment is served by the keyframe itself */
};

struct pass {
	struct frames_decoder *d;
	const double *times;
	int n, next;            /* next: the first moment not yet served */
	frames_take_fn take;
	void *ctx;
	bool have_prev;         /* d->prev holds the last frame decoded */
	double tprev;
};

static double stream_time(const struct frames_decoder *d, int64_t ts)
{
	return (double)(ts - d->start) * av_q2d(d->st->time_base);
}

/* The index's keyframes, ascending: how many (0 when it has none). */
static int index_gops(struct frames_decoder *d, struct gop **out)
{
	int n = avformat_index_get_entries_count(d->st), k = 0;
	struct gop *g = n > 0 ? kd_calloc((size_t)n, sizeof *g) : NULL;
	for (int i = 0; i < n; i++) {
		const AVIndexEntry *e = avformat_index_get_entry(d->st, i);
		if (!e || !(e->flags & AVINDEX_KEYFRAME) || (e->flags & AVINDEX_DISCARD_FRAME))
			continue;
		double t = stream_time(d, e->timestamp);
		if (k > 0 && t <= g[k - 1].key)
			continue; /* out of order or repeated: not one to plan by */
		g[k++].key = t;
	}
	*out = g;
	return k;
}

/*
 * What to decode for every moment to have a decoded frame within tol of
 * it: the keyframe nearest it when that is within tol, else the frames
 * from the keyframe before it up to tol before it.  Fills g and returns
 * the pixels decoded besides keyframes.
 */
static double plan(struct gop *g, int ng, const double *times, int n, double tol, double px_per_s)
{
	for (int j = 0; j < ng; j++) {
		g[j].until = -INFINITY;
		g[j].need_key = false;
	}
	int j = 0;
	for (int i = 0; i < n; i++) {
		double t = times[i];
		while (j + 1 < ng && g[j + 1].key <= t)
			j++;
		double before = t - g[j].key;
		double after = j + 1 < ng ? g[j + 1].key - t : INFINITY;
		if (before <= tol || after <= tol) {
			/* (before the first keyframe: that keyframe is the first frame) */
			g[before <= after || j + 1 >= ng ? j : j + 1].need_key = true;
			continue;
		}
		g[j].need_key = true;
		g[j].until = fmax(g[j].until, t - tol);
	}
	double px = 0;
	for (j = 0; j < ng; j++)
		if (g[j].until > g[j].key)
			px += (g[j].until - g[j].key) * px_per_s;
	return px;
}

/* The smallest tolerance whose plan fits the budget, and that plan. */
static double plan_within_budget(struct gop *g, int ng, const double *times, int n,
                                 double px_per_s, double budget)
{
	if (plan(g, ng, times, n, 0, px_per_s) <= budget)
		return 0;
	/* At the largest distance from a moment to its nearest keyframe,
	 * nothing but keyframes is decoded. */
	double hi = 0;
	for (int i = 0, j = 0; i < n; i++) {
		while (j + 1 < ng && g[j + 1].key <= times[i])
			j++;
		double d = fabs(times[i] - g[j].key);
		if (j + 1 < ng)
			d = fmin(d, g[j + 1].key - times[i]);
		hi = fmax(hi, d);
	}
	double lo = 0;
	for (int k = 0; k < 30 && hi - lo > 0.01; k++) {
		double mid = (lo + hi) / 2;
		if (plan(g, ng, times, n, mid, px_per_s) <= budget)
			hi = mid;
		else
			lo = mid;
	}
	plan(g, ng, times, n, hi, px_per_s);
	return hi;
}

/* Serve the moments a new frame settles (cur NULL: the end, the last
 * frame serves the rest), then keep cur as the previous frame. */
static int serve(struct pass *p, AVFrame *cur)
{
	struct frames_decoder *d = p->d;
	double tc = cur ? stream_time(d, cur->pts) : 0;
	if (cur && p->have_prev && tc <= p->tprev)
		return 0; /* going back in time: damaged timestamps; not one to show */
	while (p->next < p->n) {
		double t = p->times[p->next];
		const AVFrame *use;
		if (!cur) {
			if (!p->have_prev)
				return 0;
			use = d->prev;
		} else if (tc < t) {
			break;
		} else {
			use = p->have_prev && t - p->tprev < tc - t ? d->prev : cur;
		}
		int rc = p->take(p->ctx, p->next, use);
		if (rc)
			return rc;
		p->next++;
	}
	if (cur) {
		av_frame_unref(d->prev);
		av_frame_move_ref(d->prev, cur);
		p->have_prev = true;
		p->tprev = tc;
	}
	return 0;
}

int frames_pass(struct frames_decoder *d, const double *times, int n, frames_take_fn take,
                void *ctx)
{
	struct pass p = {.d = d, .times = times, .n = n, .take = take, .ctx = ctx};
	AVCodecParameters *par = d->st->codecpar;
	double fps = d->step > 0 ? 1 / (d->step * av_q2d(d->st->time_base)) : 25;
	double px_per_s = fps * (par->width > 0 ? par->width : 1920) *
	                  (par->height > 0 ? par->height : 1080);
	struct gop *g = NULL;
	int ng = n > 0 ? index_gops(d, &g) : 0;
	int last = -1;      /* the last stretch anything is needed from */
	bool all = false;   /* without an index: every frame, or keyframes only */
	double tol = 0;
	if (n <= 0) {
		free(g);
		return 0;
	}
	if (ng > 0) {
		tol = plan_within_budget(g, ng, times, n, px_per_s, (double)d->budget_px);
		for (int j = 0; j < ng; j++)
			if (g[j].need_key || g[j].until > g[j].key)
				last = j;
	} else {
		all = times[n - 1] * px_per_s <= (double)d->budget_px;
	}
	log_debug("media", "%d moments, %d keyframes in the index: %s, within %.2f s", n, ng,
	          ng ? "as planned" : all ? "every frame" : "keyframes only", tol);

	/* Frames nothing refers to are never needed exactly: a moment takes
	 * the nearest frame decoded, and these cost as much as the rest. */
	d->dec->skip_frame = AVDISCARD_NONREF;
	d->dec->skip_loop_filter = AVDISCARD_DEFAULT;
	if (d->packets > 0)
		seek_to(d, d->start); /* a second look, from the start again */
	if (!all)
		d->st->discard = AVDISCARD_NONKEY;
	av_frame_unref(d->prev);

	/* What the plan allows between keyframes, four times over: past it
	 * the index or the timestamps lied (a hostile file), and only
	 * keyframes are decoded from there on. */
	double px_frame = px_per_s / fps, px_fed = 0, px_cap = 4.0 * (double)d->budget_px;
	int cur = -1;           /* the stretch being read */
	bool span = false;      /* its frames after the keyframe are wanted */
	double key_shown = 0;   /* when its keyframe is shown */
	bool reading = true;
	int rc = 0, ret;
	while (rc == 0 && p.next < n) {
		ret = avcodec_receive_frame(d->dec, d->frame);
		if (ret == 0) {
			int64_t ts = d->frame->best_effort_timestamp;
			if (ts == AV_NOPTS_VALUE)
				ts = d->frame->pts;
			if (ts == AV_NOPTS_VALUE)
				ts = p.have_prev ? d->prev->pts + d->step : d->start;
			d->frame->pts = ts;
			rc = serve(&p, d->frame);
			av_frame_unref(d->frame);
			continue;
		}
		if (ret == AVERROR_EOF)
			break;
		if (ret == AVERROR(ENOMEM)) {
			rc = KD_ENOMEM;
			break;
		}
		if (ret != AVERROR(EAGAIN) && ++d->errors > MAX_DECODE_ERRORS)
			break;
		if (!reading) {
			if (ret == AVERROR(EAGAIN))
				break; /* told to drain, and nothing more comes */
			continue;
		}
		ret = read_packet(d);
		if (ret == AVERROR(ENOMEM)) {
			rc = KD_ENOMEM;
			break;
		}
		if (ret < 0) {
			/* The end: the decoder still holds frames (reordering,
			 * threads); an empty packet asks for them. */
			avcodec_send_packet(d->dec, NULL);
			reading = false;
			continue;
		}
		AVPacket *pkt = d->pkt;
		bool key = pkt->flags & AV_PKT_FLAG_KEY;
		int64_t ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
		double t = ts != AV_NOPTS_VALUE ? stream_time(d, ts) : (cur >= 0 ? g[cur].key : 0);
		bool feed;
		if (ng > 0) {
			if (key) {
				/* Which stretch: the last keyframe of the index at or
				 * before it (a frame's worth of slack for rounding). */
				int j = cur < 0 ? 0 : cur;
				while (j + 1 < ng && g[j + 1].key <= t + 0.5 / fps)
					j++;
				cur = j;
				key_shown = pkt->pts != AV_NOPTS_VALUE ? stream_time(d, pkt->pts) : t;
				if (cur > last) {
					/* Nothing further is wanted: let the decoder finish. */
					av_packet_unref(pkt);
					avcodec_send_packet(d->dec, NULL);
					reading = false;
					continue;
				}
				span = g[cur].until > g[cur].key;
				feed = g[cur].need_key || span;
				d->st->discard = span ? AVDISCARD_DEFAULT : AVDISCARD_NONKEY;
			} else {
				/* Not the pictures an open GOP shows before its
				 * keyframe: they refer to the stretch before, which
				 * was not read to its end. */
				double shown = pkt->pts != AV_NOPTS_VALUE ? stream_time(d, pkt->pts) : t;
				feed = cur >= 0 && span && t <= g[cur].until && shown >= key_shown &&
				       px_fed <= px_cap;
				if (feed)
					px_fed += px_frame;
				if (cur >= 0 && span && t > g[cur].until)
					d->st->discard = AVDISCARD_NONKEY; /* the rest is not even read */
			}
		} else if (all) {
			feed = key || (px_fed += px_frame) <= px_cap;
			if (t > times[n - 1] + 1) {
				/* Well past the last moment: let the decoder finish. */
				av_packet_unref(pkt);
				avcodec_send_packet(d->dec, NULL);
				reading = false;
				continue;
			}
		} else {
			feed = key;
		}
		if (feed) {
			ret = avcodec_send_packet(d->dec, pkt);
			if (ret == AVERROR(ENOMEM))
				rc = KD_ENOMEM;
			else if (ret < 0 && ret != AVERROR(EAGAIN) && ++d->errors > MAX_DECODE_ERRORS)
				reading = false;
		}
		av_packet_unref(pkt);
	}
	if (rc == 0 && p.next < n)
		rc = p.have_prev ? serve(&p, NULL) : 1;
	d->st->discard = AVDISCARD_DEFAULT;
	/* The decoder is part-way through the file: frames_next or frames_at
	 * after this start from a seek. */
	d->last_ts = AV_NOPTS_VALUE;
	d->drained = true;
	free(g);
	return rc;
}
