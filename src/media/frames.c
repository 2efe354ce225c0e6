/* frames.c - safe input, frame finding, upright pictures, JPEG (see frames.h). */
#include "media/frames.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/avstring.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "media/lav_compat.h"

/* Demuxers of formats cameras, phones and editors write, plus the common
 * audio ones so an audio file gets "sound but no picture" rather than "not
 * media".  Playlists (hls, dash), scripts (concat), image sequences
 * (image2) and anything else that opens further files stay out. */
static const char allowed_formats[] =
	"mov,matroska,avi,mpegts,mpeg,flv,asf,mxf,dv,ogg,h264,hevc,m4v,mpegvideo,"
	"mp3,aac,wav,w64,flac,amr";

/* Limits that keep a hostile or broken file from spinning a worker. */
#define MAX_PACKETS_PER_FRAME 5000
#define MAX_FRAMES_PER_SEEK 1000
#define MAX_DECODE_ERRORS 200

static const char msg_not_media[] =
	"this is not a video file kindling can read: check that it is the video itself "
	"(for example .mp4 or .mov), not a shortcut, a playlist or a document";
static const char msg_cut_off[] =
	"the file seems to be cut off: it may not have finished copying; "
	"copy it again from the camera or card";
static const char msg_damaged[] =
	"the file is damaged and cannot be read: copy it again from the camera or card";

/* FFmpeg's own messages (a missing moov atom, a broken packet) help whoever
 * runs the service, not the coach: they go to the debug log, not stderr. */
static void lav_log(void *avcl, int level, const char *fmt, va_list vl)
{
	if (level > AV_LOG_WARNING)
		return;
	char line[512];
	int print_prefix = 1;
	av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n > 0)
		log_debug("ffmpeg", "%s", line);
}

static void lav_log_init(void)
{
	av_log_set_callback(lav_log);
}

int frames_input_open(struct frames_input *in, const char *path, char *err, size_t errlen)
{
	static pthread_once_t log_once = PTHREAD_ONCE_INIT;
	AVDictionary *opts = NULL;
	const AVInputFormat *ifmt = NULL;
	char *url = NULL;
	struct stat st;
	int rc = 0, ret;

	memset(in, 0, sizeof *in);
	pthread_once(&log_once, lav_log_init);

	if (stat(path, &st) < 0) {
		if (errno == ENOENT) {
			snprintf(err, errlen,
			         "the file is not there any more: it may have been moved or deleted");
			return KD_ENOTFOUND;
		}
		snprintf(err, errlen, "the file could not be read: %s", strerror(errno));
		return KD_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "this is a folder or a device, not a video file");
		return KD_EINVAL;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "the file is empty: nothing was copied into it; "
		                      "copy it again from the camera or card");
		return KD_EINVAL;
	}

	/* "file:" first, so a name like "http:x.mp4" is still a local file. */
	url = kd_asprintf("file:%s", path);
	av_dict_set(&opts, "protocol_whitelist", "file", 0);
	ret = avio_open2(&in->pb, url, AVIO_FLAG_READ, NULL, &opts);
	av_dict_free(&opts);
	if (ret < 0) {
		snprintf(err, errlen, "the file could not be opened: %s", av_err2str(ret));
		rc = ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EIO;
		goto out;
	}
	in->size = avio_size(in->pb);
	if (in->size < 0)
		in->size = st.st_size;

	/* Probe before opening, so nothing from a refused demuxer ever runs and
	 * an open failure can be explained by the format it was meant to be. */
	int score = ret = av_probe_input_buffer2(in->pb, &ifmt, path, NULL, 0, 0);
	if (ret < 0 || !ifmt) {
		snprintf(err, errlen, "%s", msg_not_media);
		rc = ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
		goto out;
	}
	av_strlcpy(in->format, ifmt->name, sizeof in->format);
	if (av_match_list(ifmt->name, allowed_formats, ',') <= 0) {
		log_info("media", "refused input format %s", ifmt->name);
		snprintf(err, errlen, "%s", msg_not_media);
		rc = KD_EINVAL;
		goto out;
	}

	in->fmt = avformat_alloc_context();
	if (!in->fmt) {
		rc = KD_ENOMEM;
		goto out;
	}
	in->fmt->pb = in->pb;
	av_dict_set(&opts, "protocol_whitelist", "file", 0);
	av_dict_set(&opts, "format_whitelist", allowed_formats, 0);
	ret = avformat_open_input(&in->fmt, path, ifmt, &opts); /* frees fmt on failure */
	av_dict_free(&opts);
	if (ret < 0) {
		if (ret == AVERROR(ENOMEM)) {
			rc = KD_ENOMEM;
		} else if (ret == AVERROR_INVALIDDATA && score <= AVPROBE_SCORE_RETRY) {
			/* Only the name said what it was (a document called
			 * .mp4): there was nothing of the format inside. */
			snprintf(err, errlen, "%s", msg_not_media);
			rc = KD_EINVAL;
		} else if (ret == AVERROR_INVALIDDATA && av_match_list(in->format, "mov", ',') > 0) {
			/* An MP4 or MOV whose index (the moov atom) is missing:
			 * cameras write it last, so the copy stopped early. */
			snprintf(err, errlen, "%s", msg_cut_off);
			rc = KD_EINVAL;
		} else if (ret == AVERROR_INVALIDDATA || ret == AVERROR_EOF) {
			snprintf(err, errlen, "%s", msg_damaged);
			rc = KD_EINVAL;
		} else {
			snprintf(err, errlen, "the file could not be read: %s", av_err2str(ret));
			rc = KD_EIO;
		}
		goto out;
	}
	ret = avformat_find_stream_info(in->fmt, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "%s", ret == AVERROR(ENOMEM) ? "out of memory" : msg_damaged);
		rc = ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
		goto out;
	}
out:
	free(url);
	return rc;
}

void frames_input_close(struct frames_input *in)
{
	/* The AVIOContext is ours (custom I/O): closing the format leaves it. */
	avformat_close_input(&in->fmt);
	avio_closep(&in->pb);
}

int frames_decoder_open(struct frames_decoder *d, const char *path, const struct media_facts *f,
                        enum frames_mode mode, char *err, size_t errlen)
{
	const AVCodec *codec;
	AVFormatContext *fmt;
	int rc, ret, idx;

	memset(d, 0, sizeof *d);
	d->last_ts = AV_NOPTS_VALUE;
	d->last_target = AV_NOPTS_VALUE;
	rc = frames_input_open(&d->in, path, err, errlen);
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
	frames_input_close(&d->in);
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

int frames_even(double x)
{
	int v = 2 * (int)lround(x / 2);
	return v < 2 ? 2 : v;
}

AVFrame *frames_image_new(int w, int h)
{
	AVFrame *img = av_frame_alloc();
	if (!img)
		return NULL;
	img->format = AV_PIX_FMT_YUV420P;
	img->color_range = AVCOL_RANGE_JPEG;
	img->width = w;
	img->height = h;
	if (av_frame_get_buffer(img, 0) < 0) {
		av_frame_free(&img);
		return NULL;
	}
	for (int y = 0; y < h; y++)
		memset(img->data[0] + (ptrdiff_t)y * img->linesize[0], 0, (size_t)w);
	for (int p = 1; p < 3; p++)
		for (int y = 0; y < h / 2; y++)
			memset(img->data[p] + (ptrdiff_t)y * img->linesize[p], 128, (size_t)w / 2);
	return img;
}

static bool full_range_format(enum AVPixelFormat fmt)
{
	/* The deprecated "J" formats are full range whatever the frame says. */
	return fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUVJ422P ||
	       fmt == AV_PIX_FMT_YUVJ444P || fmt == AV_PIX_FMT_YUVJ440P ||
	       fmt == AV_PIX_FMT_YUVJ411P;
}

/*
 * A scaler from src's size, format and range to w x h full-range yuv420p,
 * the cached one when it fits.  The ranges are set before the scaler is
 * initialised: swscale picks a plain copy for same-size, same-format input
 * at init time, and setting the ranges afterwards does not undo that, so
 * limited-range black would stay grey.
 */
static struct SwsContext *scaler(struct SwsContext *cached, const AVFrame *src, int src_full,
                                 int w, int h)
{
	const char *names[] = {"srcw", "srch", "src_format", "src_range", "dstw", "dsth"};
	const int64_t want[] = {src->width, src->height, src->format, src_full, w, h};
	if (cached) {
		bool same = true;
		for (int i = 0; i < 6 && same; i++) {
			int64_t v;
			same = av_opt_get_int(cached, names[i], 0, &v) >= 0 && v == want[i];
		}
		if (same)
			return cached;
		sws_freeContext(cached);
	}
	struct SwsContext *c = sws_alloc_context();
	if (!c)
		return NULL;
	int ret = 0;
	for (int i = 0; i < 6 && ret >= 0; i++)
		ret = av_opt_set_int(c, names[i], want[i], 0);
	if (ret >= 0)
		ret = av_opt_set_int(c, "dst_format", AV_PIX_FMT_YUV420P, 0);
	if (ret >= 0)
		ret = av_opt_set_int(c, "dst_range", 1, 0);
	if (ret >= 0)
		ret = av_opt_set_int(c, "sws_flags", SWS_BICUBIC, 0);
	if (ret < 0 || sws_init_context(c, NULL, NULL) < 0) {
		sws_freeContext(c);
		return NULL;
	}
	return c;
}

/* Orientation convention (the same as media_facts): the stored picture is
 * first turned clockwise by rotation degrees, then mirrored left-right
 * (hflip), then top-bottom (vflip).  Each output pixel reads the source
 * pixel that lands on it. */
static void orient_plane(uint8_t *dst, int dls, int dw, int dh, const uint8_t *src, int sls,
                         int sw, int sh, int rotation, bool hflip, bool vflip)
{
	for (int y = 0; y < dh; y++) {
		int ry = vflip ? dh - 1 - y : y;
		uint8_t *row = dst + (ptrdiff_t)y * dls;
		for (int x = 0; x < dw; x++) {
			int rx = hflip ? dw - 1 - x : x;
			int sx, sy;
			switch (rotation) {
			case 90:
				sx = ry;
				sy = sh - 1 - rx;
				break;
			case 180:
				sx = sw - 1 - rx;
				sy = sh - 1 - ry;
				break;
			case 270:
				sx = sw - 1 - ry;
				sy = rx;
				break;
			default:
				sx = rx;
				sy = ry;
				break;
			}
			row[x] = src[(ptrdiff_t)sy * sls + sx];
		}
	}
}

int frames_upright(struct SwsContext **sws, const AVFrame *src, const struct media_facts *f,
                   int w, int h, AVFrame **out)
{
	int rotation = f->rotation % 360;
	bool turn = rotation == 90 || rotation == 270;
	int bw = turn ? h : w, bh = turn ? w : h;
	AVFrame *box = NULL, *img = NULL;
	int rc = 0;

	*out = NULL;
	if (src->width <= 0 || src->height <= 0 || src->format < 0 || w < 2 || h < 2)
		return KD_EINVAL;
	enum AVPixelFormat sfmt = src->format;
	int src_full = src->color_range == AVCOL_RANGE_JPEG || full_range_format(sfmt);
	*sws = scaler(*sws, src, src_full, bw, bh);
	if (!*sws) {
		log_warn("media", "cannot convert %s pictures", av_get_pix_fmt_name(sfmt));
		return KD_EINVAL;
	}
	/* For a source in RGB: the JPEG (BT.601) matrix. */
	sws_setColorspaceDetails(*sws, sws_getCoefficients(src->colorspace), src_full,
	                         sws_getCoefficients(SWS_CS_ITU601), 1, 0, 1 << 16, 1 << 16);

	box = frames_image_new(bw, bh);
	if (!box) {
		rc = KD_ENOMEM;
		goto out;
	}
	sws_scale(*sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
	          box->data, box->linesize);

	if (rotation != 90 && rotation != 180 && rotation != 270 && !f->hflip && !f->vflip) {
		*out = box;
		box = NULL;
		goto out;
	}
	img = frames_image_new(w, h);
	if (!img) {
		rc = KD_ENOMEM;
		goto out;
	}
	for (int p = 0; p < 3; p++) {
		int sh = p ? 1 : 0;
		orient_plane(img->data[p], img->linesize[p], w >> sh, h >> sh, box->data[p],
		             box->linesize[p], bw >> sh, bh >> sh, rotation, f->hflip, f->vflip);
	}
	*out = img;
out:
	av_frame_free(&box);
	return rc;
}

void frames_blit(AVFrame *dst, int x, int y, const AVFrame *src)
{
	for (int p = 0; p < 3; p++) {
		int sh = p ? 1 : 0;
		int w = src->width >> sh, h = src->height >> sh;
		int dx = x >> sh, dy = y >> sh;
		if (dx + w > dst->width >> sh)
			w = (dst->width >> sh) - dx;
		if (dy + h > dst->height >> sh)
			h = (dst->height >> sh) - dy;
		for (int r = 0; r < h; r++)
			memcpy(dst->data[p] + (ptrdiff_t)(dy + r) * dst->linesize[p] + dx,
			       src->data[p] + (ptrdiff_t)r * src->linesize[p], (size_t)w);
	}
}

double frames_detail(const AVFrame *img, bool *usable)
{
	const uint8_t *y0 = img->data[0];
	int ls = img->linesize[0], w = img->width, h = img->height;
	double sum = 0, sumsq = 0, grad = 0;

	for (int y = 0; y < h; y++) {
		const uint8_t *row = y0 + (ptrdiff_t)y * ls;
		const uint8_t *below = y + 1 < h ? row + ls : row;
		for (int x = 0; x < w; x++) {
			int v = row[x];
			sum += v;
			sumsq += (double)v * v;
			if (x + 1 < w)
				grad += abs(v - row[x + 1]);
			grad += abs(v - below[x]);
		}
	}
	double n = (double)w * h;
	double mean = sum / n;
	double var = sumsq / n - mean * mean;
	double sd = var > 0 ? sqrt(var) : 0;
	double g = grad / n;
	/* Thresholds on full-range luma: a dark classroom still averages well
	 * above 20, a fade or a lens cap does not. */
	*usable = mean >= 20 && mean <= 240 && sd >= 8;
	return sd + 4 * g;
}

int frames_write_jpeg(const AVFrame *img, int q, const char *path, char *err, size_t errlen)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *enc = NULL;
	AVFrame *fr = NULL;
	AVPacket *pkt = NULL;
	int rc = 0, ret;

	if (!codec) {
		snprintf(err, errlen, "this FFmpeg has no JPEG encoder");
		return KD_EINVAL;
	}
	enc = avcodec_alloc_context3(codec);
	fr = av_frame_clone(img);
	pkt = av_packet_alloc();
	if (!enc || !fr || !pkt) {
		rc = KD_ENOMEM;
		goto out;
	}
	enc->width = img->width;
	enc->height = img->height;
	/* yuv420p marked full range is what YUVJ420P meant, without the
	 * deprecated format: the encoder accepts it and writes a normal JFIF. */
	enc->pix_fmt = AV_PIX_FMT_YUV420P;
	enc->color_range = AVCOL_RANGE_JPEG;
	enc->sample_aspect_ratio = (AVRational){1, 1};
	enc->time_base = (AVRational){1, 1};
	enc->flags |= AV_CODEC_FLAG_QSCALE | AV_CODEC_FLAG_BITEXACT;
	enc->global_quality = q * FF_QP2LAMBDA;
	enc->thread_count = 1;
	ret = avcodec_open2(enc, codec, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "the JPEG encoder refused the picture: %s", av_err2str(ret));
		rc = ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
		goto out;
	}
	/* With a fixed quantiser the encoder reads the quality off each frame. */
	fr->quality = enc->global_quality;
	fr->pts = 0;
	ret = avcodec_send_frame(enc, fr);
	if (ret >= 0)
		ret = avcodec_send_frame(enc, NULL);
	if (ret >= 0)
		ret = avcodec_receive_packet(enc, pkt);
	if (ret < 0) {
		snprintf(err, errlen, "the picture could not be encoded as JPEG: %s", av_err2str(ret));
		rc = ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
		goto out;
	}
	if (kd_write_file_atomic(path, pkt->data, (size_t)pkt->size) < 0) {
		snprintf(err, errlen, "could not write %s: %s", path, strerror(errno));
		rc = KD_EIO;
		goto out;
	}
out:
	av_packet_free(&pkt);
	av_frame_free(&fr);
	avcodec_free_context(&enc);
	return rc;
}
