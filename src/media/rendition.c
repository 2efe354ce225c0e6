/*
 * rendition.c - the browser-playable MP4 that video_url serves (see media.h).
 *
 * Two ways to make it:
 *
 *  - remux, when the probe says the streams already play in every browser
 *    (H.264 8-bit 4:2:0 + AAC or no audio): packets are copied into a fresh
 *    MP4 with the index first, nothing is decoded, so it costs little more
 *    than a file copy and loses no quality;
 *  - transcode otherwise: decode the main video stream, scale to at most
 *    1920x1080 with square pixels, turn the pixels upright, encode libx264;
 *    decode the audio, resample to stereo float planar and encode AAC.
 *
 * Regions to blur (media.h) rule out the remux: the frames are decoded,
 * turned upright and scaled, and the regions blurred in them (blur.h)
 * right before they are encoded.
 *
 * Either way only the main video stream and the main audio stream are
 * written, and no metadata dictionary is copied: phones put the place of
 * filming (ISO 6709 location) and the device make and model there, and the
 * rendition is what gets served to every signed-in user.
 *
 * The output goes to out_path + ".tmp" (outputs.h), its way to the disk
 * started every few megabytes as it is written, then synced and renamed;
 * on failure the temporary file is removed.  A remux of an MP4 or MOV
 * reserves room for the index at the front (its size bounded from the
 * input's sample count), so faststart costs no second pass rewriting the
 * whole file; otherwise the muxer's faststart pass moves it there.
 *
 * The input is opened with media_input_open() (input.h): local files
 * only, demuxers of real video formats only.
 *
 * FFmpeg version: written for FFmpeg 5.1 (libavcodec 59.37); the display
 * matrix goes through lav_compat.h, channel layouts use the AVChannelLayout
 * API (5.1 and later), nothing else here differs between versions.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/avstring.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/media.h"
#include "media/blur.h"
#include "media/input.h"
#include "media/lav_compat.h"
#include "media/outputs.h"
#include "media/picture.h"
#include "media/rendition.h"

#define FAC "rendition"

/* The biggest picture we send to browsers: 1080 lines, 1920 wide. */
#define MAX_W 1920
#define MAX_H 1080

#define VIDEO_CRF "23"
#define VIDEO_PRESET "veryfast"
/* Threads for each decoder and for x264: the worker's share of the
 * machine (media_set_threads), as frames.c. */
#define JOB_THREADS media_threads()
#define AUDIO_BIT_RATE 128000

/* Gaps in the sound up to this long are filled with silence so that it
 * stays in step with the picture; longer ones are taken as broken
 * timestamps and closed up. */
#define MAX_GAP_S 60

/* Consecutive decoder errors tolerated while draining one packet. */
#define MAX_DRAIN_ERRORS 16

/* The output is sent on its way to the disk every so many bytes, so that
 * the final sync finds most of it written. */
#define FLUSH_EVERY (8 << 20)
#define OUT_BUFFER (256 << 10)

/* Room kept at the front for the index of a remux: no sample costs more
 * than this in the tables (sizes 4, times 8, offsets 8, composition 8,
 * chunk map 12, keyframes 4 bytes), plus what does not grow with length. */
#define MOOV_PER_SAMPLE 48
#define MOOV_FIXED (64 << 10)

/* The output file, written through our own I/O so that it can be sent
 * to the disk as it grows. */
struct out_file {
	int fd;
	int64_t pos, size;
	int64_t flushed;       /* bytes before this are on their way */
};

struct rend {
	const struct media_facts *f;
	const struct media_blur *blur; /* NULL: nothing to blur */
	double blur_slack;
	char *err;
	size_t errlen;

	struct media_input in;
	AVFormatContext *ic;   /* in.fmt */
	AVFormatContext *oc;
	AVStream *vist, *aist; /* input streams used */
	AVStream *vost, *aost; /* their output streams */
	int64_t voff, aoff;    /* file start time, in each input stream's time base */
	AVPacket *pkt;         /* read from the input */
	AVPacket *opkt;        /* from an encoder */
	AVFrame *frame;        /* from a decoder */
	int read_error;        /* av_read_frame error other than EOF, 0 if none */

	/* video transcode */
	AVCodecContext *vdec, *venc;
	struct SwsContext *sws;
	int sws_w, sws_h, sws_fmt, sws_full;
	int scale_w, scale_h;  /* the scaled picture, before it is turned */
	int rot;               /* clockwise quarter turns to apply: 0..3 */
	bool hflip, vflip;
	AVFrame *scaled;       /* scaled, not yet turned (only when turning) */
	AVFrame *vframe;       /* what goes to the encoder */
	AVFrame *pass;         /* a decoded frame passed on as it is */
	int64_t vlast;         /* last pts given to the encoder */
	int64_t vstep;         /* one frame, in the encoder time base */
	bool vhave;

	/* counts, to judge how damaged the input was */
	int64_t vpackets, vbad, vframes, vdropped, vconcealed, abad;
	bool damage_seen;
	double first_bad_s;    /* where the first damage was */
	double vfirst_s, vlast_s;

	/* output */
	struct outputs outs;
	struct out_file file;
	int64_t moov_reserve;  /* bytes kept at the front for the index; 0: faststart pass */

	/* audio transcode */
	AVCodecContext *adec, *aenc;
	SwrContext *swr;
	int swr_rate, swr_fmt;
	AVChannelLayout swr_layout;
	AVAudioFifo *fifo;
	uint8_t **conv;        /* swr output, fltp stereo */
	int conv_cap;          /* samples per channel conv can hold */
	AVFrame *aframe;
	int64_t anext;         /* pts of the next sample to leave the fifo */
	bool astarted;
};

static void set_err(struct rend *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The first message wins: helpers deep down know best what went wrong. */
static void set_err(struct rend *r, const char *fmt, ...)
{
	if (!r->err || r->errlen == 0 || r->err[0] != '\0')
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
}

static const char *averr(int e, char *buf, size_t n)
{
	if (av_strerror(e, buf, n) < 0)
		snprintf(buf, n, "error %d", e);
	return buf;
}

static void clock_str(double s, char *buf, size_t n)
{
	if (!(s >= 0) || s > 1e7)
		s = 0;
	long t = (long)s;
	snprintf(buf, n, "%02ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

/* An FFmpeg error from writing the output file: the disk, not the video. */
static int write_failed(struct rend *r, int e)
{
	char b[128];
	if (e == AVERROR(ENOMEM))
		return KD_ENOMEM;
	set_err(r, "could not write the browser copy of the video (%s); check that the "
	        "data folder's disk has free space and is writable", averr(e, b, sizeof b));
	return KD_EIO;
}

static double ts_seconds(int64_t ts, int64_t off, AVRational tb)
{
	if (ts == AV_NOPTS_VALUE)
		return NAN;
	return (double)(ts - off) * av_q2d(tb);
}

/* ---------------------------------------------------------------- input */

static int open_input(struct rend *r, const char *path)
{
	const struct media_facts *f = r->f;
	char msg[KD_ERRMSG_MAX] = "";
	int rc = media_input_open(&r->in, path, msg, sizeof msg);
	if (rc) {
		set_err(r, "%s", msg);
		return rc;
	}
	r->ic = r->in.fmt;
	unsigned n = r->ic->nb_streams;
	if (f->video_stream < 0 || (unsigned)f->video_stream >= n ||
	    r->ic->streams[f->video_stream]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO ||
	    (r->ic->streams[f->video_stream]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
		set_err(r, "the file's video stream is not where the probe found it; the file "
		        "changed while it was processed: upload it again");
		return KD_EINVAL;
	}
	r->vist = r->ic->streams[f->video_stream];
	if (f->audio_stream >= 0 && (unsigned)f->audio_stream < n &&
	    r->ic->streams[f->audio_stream]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
		r->aist = r->ic->streams[f->audio_stream];
	else if (f->audio_stream >= 0)
		log_warn(FAC, "audio stream %d not found; making a silent rendition", f->audio_stream);

	/* Data, subtitle, cover-art and extra streams are never written:
	 * let the demuxer skip them. */
	for (unsigned i = 0; i < n; i++) {
		AVStream *st = r->ic->streams[i];
		if (st != r->vist && st != r->aist)
			st->discard = AVDISCARD_ALL;
	}

	/* Like the ffmpeg tool, start the output at 0 and keep the streams'
	 * offsets to each other: a clip cut from a camera's transport stream
	 * often starts at several seconds, which players show as a black gap. */
	int64_t start = r->ic->start_time == AV_NOPTS_VALUE ? 0 : r->ic->start_time;
	r->voff = av_rescale_q(start, AV_TIME_BASE_Q, r->vist->time_base);
	if (r->aist)
		r->aoff = av_rescale_q(start, AV_TIME_BASE_Q, r->aist->time_base);
	return 0;
}

/* The probe decided from its own look at the file; check the streams we
 * are about to copy really are what browsers play, since a stream copy
 * of anything else would make a file that plays nowhere. */
static bool streams_browser_ready(const struct rend *r)
{
	const AVCodecParameters *v = r->vist->codecpar;
	if (v->codec_id != AV_CODEC_ID_H264)
		return false;
	if (v->format != AV_PIX_FMT_YUV420P && v->format != AV_PIX_FMT_YUVJ420P)
		return false;
	if (r->aist && r->aist->codecpar->codec_id != AV_CODEC_ID_AAC)
		return false;
	return true;
}

/* ---------------------------------------------------------------- output */

static int out_write(void *opaque, LAV_AVIO_WRITE_BUF buf, int len)
{
	struct out_file *o = opaque;
	const uint8_t *p = buf;
	int left = len;
	while (left > 0) {
		ssize_t n = pwrite(o->fd, p, (size_t)left, o->pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? AVERROR(errno) : AVERROR(EIO);
		p += n;
		left -= (int)n;
		o->pos += n;
	}
	if (o->pos > o->size)
		o->size = o->pos;
	if (o->size - o->flushed >= FLUSH_EVERY) {
		outputs_flush_start(o->fd, o->flushed, o->size - o->flushed);
		o->flushed = o->size;
	}
	return len;
}

static int64_t out_seek(void *opaque, int64_t off, int whence)
{
	struct out_file *o = opaque;
	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE: return o->size;
	case SEEK_SET: break;
	case SEEK_CUR: off += o->pos; break;
	case SEEK_END: off += o->size; break;
	default: return AVERROR(EINVAL);
	}
	if (off < 0)
		return AVERROR(EINVAL);
	o->pos = off;
	return off;
}

static int open_output(struct rend *r, const char *out_path)
{
	const char *tmp;
	char msg[KD_ERRMSG_MAX];
	if (outputs_open(&r->outs, out_path, &r->file.fd, &tmp, msg, sizeof msg) < 0) {
		set_err(r, "could not write the browser copy of the video (%s); check that the "
		        "data folder's disk has free space and is writable", msg);
		return KD_EIO;
	}
	int ret = avformat_alloc_output_context2(&r->oc, NULL, "mp4", tmp);
	if (ret < 0 || !r->oc)
		return ret == AVERROR(ENOMEM) || !r->oc ? KD_ENOMEM : write_failed(r, ret);
	return 0;
}

/* Room for the index of a remux from an MP4 or MOV, whose index lists
 * every sample; 0 (the faststart pass) for anything else. */
static int64_t moov_room(const struct rend *r)
{
	if (av_match_list(r->in.format, "mov", ',') <= 0)
		return 0;
	int64_t samples = 0;
	const AVStream *st[2] = {r->vist, r->aist};
	for (int i = 0; i < 2; i++) {
		if (!st[i])
			continue;
		int n = avformat_index_get_entries_count(st[i]);
		if (n <= 0)
			return 0;
		samples += n;
	}
	int64_t room = samples * MOOV_PER_SAMPLE + MOOV_FIXED;
	return room < INT_MAX ? room : 0;
}

static int write_header(struct rend *r)
{
	char b[128];
	uint8_t *buf = av_malloc(OUT_BUFFER);
	if (!buf)
		return KD_ENOMEM;
	r->oc->pb = avio_alloc_context(buf, OUT_BUFFER, 1, &r->file, NULL, out_write, out_seek);
	if (!r->oc->pb) {
		av_free(buf);
		return KD_ENOMEM;
	}
	/* A file: written in big pieces, not one system call per packet. */
	r->oc->pb->seekable = AVIO_SEEKABLE_NORMAL;
	r->oc->pb->min_packet_size = OUT_BUFFER / 2;
	r->oc->flush_packets = 0;
	/* The index (moov) first, so browsers start playing and seeking
	 * before the whole file has arrived: in the room kept for it, or
	 * moved there by a second pass over the file. */
	AVDictionary *opts = NULL;
	if (r->moov_reserve > 0)
		av_dict_set_int(&opts, "moov_size", r->moov_reserve, 0);
	else
		av_dict_set(&opts, "movflags", "+faststart", 0);
	int ret = avformat_write_header(r->oc, &opts);
	av_dict_free(&opts);
	if (ret < 0) {
		if (ret == AVERROR(ENOMEM))
			return KD_ENOMEM;
		set_err(r, "could not start the browser copy of the video (%s)",
		        averr(ret, b, sizeof b));
		return ret == AVERROR(EINVAL) ? KD_EINVAL : KD_EIO;
	}
	return 0;
}

/* The room kept for the index was too small after all (a muxer writing
 * more than its tables): the remux is done again with the faststart pass. */
#define MOOV_TOO_SMALL 1

static void close_output_io(struct rend *r)
{
	if (r->oc && r->oc->pb) {
		av_freep(&r->oc->pb->buffer);
		avio_context_free(&r->oc->pb);
	}
}

static int finish_output(struct rend *r)
{
	int ret = av_write_trailer(r->oc);
	if (ret == AVERROR(EINVAL) && r->moov_reserve > 0) {
		log_warn(FAC, "%lld bytes were not room enough for the index; once more",
		         (long long)r->moov_reserve);
		return MOOV_TOO_SMALL;
	}
	if (ret < 0)
		return write_failed(r, ret);
	avio_flush(r->oc->pb);
	ret = r->oc->pb->error;
	close_output_io(r);
	if (ret < 0)
		return write_failed(r, ret);
	return 0;
}

/* Make the finished temporary file durable and give it its final name. */
static int publish(struct rend *r)
{
	char msg[KD_ERRMSG_MAX];
	if (outputs_commit(&r->outs, msg, sizeof msg) < 0) {
		set_err(r, "could not save the browser copy of the video: %s", msg);
		return KD_EIO;
	}
	return 0;
}

/* ---------------------------------------------------------------- judging damage */

static void note_damage_at(struct rend *r, double s)
{
	if (!r->damage_seen) {
		r->damage_seen = true;
		r->first_bad_s = isnan(s) ? r->vlast_s : s;
	}
}

/* A video packet that could not be decoded (pkt NULL: found at draining). */
static void note_bad(struct rend *r, const AVPacket *pkt)
{
	r->vbad++;
	double s = NAN;
	if (pkt)
		s = ts_seconds(pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts, r->voff,
		               r->vist->time_base);
	note_damage_at(r, s);
}

/* Tolerate a few damaged packets (decoders conceal them and the ffmpeg
 * tool carries on too), but not a file that is mostly broken or cannot be
 * read to its end.  (A last picture long before the announced end is not
 * refused: screen recordings with a still slide legitimately do that.) */
static int judge_damage(struct rend *r, const char *what)
{
	const struct media_facts *f = r->f;
	char at[32], b[128];
	double span = r->vframes > 0 ? r->vlast_s - r->vfirst_s : 0;
	int64_t decoded = r->vframes + r->vdropped;

	if (decoded == 0) {
		set_err(r, "no picture in this video could be %s: the file is damaged; "
		        "re-export it or copy it again from the camera", what);
		return KD_EINVAL;
	}
	/* Over a quarter of the packets refused; or (garbage often decodes to
	 * nothing without any error) under half of them giving a picture; or
	 * over half the pictures patched up, and more than a second of them
	 * (one lost keyframe in a short clip smears a whole GOP). */
	int64_t lost = r->vpackets - decoded;
	if (r->vbad > lost)
		lost = r->vbad;
	if (r->vconcealed > lost)
		lost = r->vconcealed;
	if ((r->vbad > 0 && r->vbad * 4 > r->vpackets) ||
	    (r->vpackets >= 10 && decoded * 2 < r->vpackets) ||
	    (r->vconcealed * 2 > decoded && r->vconcealed > 30)) {
		double from = r->damage_seen ? r->first_bad_s : r->vlast_s;
		clock_str(from, at, sizeof at);
		if (from < 1)
			set_err(r, "the video stream is damaged from the start (%lld of %lld pictures "
			        "unreadable); re-export or re-copy the file", (long long)lost,
			        (long long)r->vpackets);
		else
			set_err(r, "the video stream is damaged half-way (at %s; %lld of %lld pictures "
			        "unreadable); re-export or re-copy the file", at, (long long)lost,
			        (long long)r->vpackets);
		return KD_EINVAL;
	}
	if (r->read_error && f->duration_s > 0 && span < 0.9 * f->duration_s - 1) {
		clock_str(r->vlast_s, at, sizeof at);
		set_err(r, "the file could not be read past %s (%s); it is damaged or cut off: "
		        "copy it again from the camera", at, averr(r->read_error, b, sizeof b));
		return KD_EINVAL;
	}
	if (r->vbad > 0) {
		clock_str(r->first_bad_s, at, sizeof at);
		log_warn(FAC, "skipped %lld damaged video packets of %lld (first at %s)",
		         (long long)r->vbad, (long long)r->vpackets, at);
	}
	if (r->vconcealed > 0)
		log_warn(FAC, "%lld video frames were damaged and patched up by the decoder",
		         (long long)r->vconcealed);
	if (r->abad > 0)
		log_warn(FAC, "skipped %lld damaged audio packets", (long long)r->abad);
	if (r->vdropped > 0)
		log_info(FAC, "dropped %lld video frames with repeated timestamps",
		         (long long)r->vdropped);
	return 0;
}

/* ---------------------------------------------------------------- remux */

static AVStream *copy_stream(struct rend *r, const AVStream *ist)
{
	AVStream *ost = avformat_new_stream(r->oc, NULL);
	if (!ost)
		return NULL;
	if (avcodec_parameters_copy(ost->codecpar, ist->codecpar) < 0)
		return NULL;
	/* Let the MP4 muxer pick the sample entry (avc1, mp4a) itself: a tag
	 * valid in the source container may not be valid in MP4. */
	ost->codecpar->codec_tag = 0;
	ost->time_base = ist->time_base;
	ost->sample_aspect_ratio = ist->codecpar->sample_aspect_ratio;
	ost->avg_frame_rate = ist->avg_frame_rate;
	/* Keep only the display matrix: a phone held upright records the
	 * picture sideways plus a matrix saying how to turn it.  Metadata
	 * dictionaries are not copied (location, make, model, software). */
	const int32_t *dm = lav_stream_displaymatrix(ist);
	if (dm && lav_stream_set_displaymatrix(ost, dm) < 0)
		return NULL;
	return ost;
}

/* MP4 needs each stream's dts to increase; some sources (raw streams,
 * broken cameras) lack dts or repeat it.  Repair as the ffmpeg tool does:
 * fill from pts, and push a repeated dts one tick on (pts never before). */
static void fix_dts(AVPacket *pkt, int64_t *last_dts)
{
	if (pkt->dts == AV_NOPTS_VALUE) {
		if (*last_dts != AV_NOPTS_VALUE)
			pkt->dts = *last_dts + 1;
		else
			pkt->dts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : 0;
		if (pkt->pts != AV_NOPTS_VALUE && pkt->dts > pkt->pts)
			pkt->dts = pkt->pts;
	}
	if (pkt->pts == AV_NOPTS_VALUE)
		pkt->pts = pkt->dts;
	if (*last_dts != AV_NOPTS_VALUE && pkt->dts <= *last_dts) {
		int64_t next = *last_dts + 1;
		if (pkt->pts >= pkt->dts && pkt->pts < next)
			pkt->pts = next;
		pkt->dts = next;
	}
	if (pkt->pts < pkt->dts)
		pkt->pts = pkt->dts;
	*last_dts = pkt->dts;
}

static int remux(struct rend *r)
{
	int rc = 0, ret;
	int64_t last_dts[2] = { AV_NOPTS_VALUE, AV_NOPTS_VALUE };

	r->vost = copy_stream(r, r->vist);
	if (!r->vost)
		return KD_ENOMEM;
	if (r->aist) {
		r->aost = copy_stream(r, r->aist);
		if (!r->aost)
			return KD_ENOMEM;
	}
	rc = write_header(r);
	if (rc)
		return rc;

	for (;;) {
		ret = av_read_frame(r->ic, r->pkt);
		if (ret == AVERROR(EAGAIN))
			continue;
		if (ret < 0) {
			if (ret != AVERROR_EOF)
				r->read_error = ret;
			break;
		}
		AVPacket *pkt = r->pkt;
		AVStream *ist, *ost;
		int64_t off;
		int slot;
		if (pkt->stream_index == r->vist->index) {
			ist = r->vist, ost = r->vost, off = r->voff, slot = 0;
		} else if (r->aist && pkt->stream_index == r->aist->index) {
			ist = r->aist, ost = r->aost, off = r->aoff, slot = 1;
		} else {
			av_packet_unref(pkt);
			continue;
		}
		if (pkt->pts != AV_NOPTS_VALUE)
			pkt->pts -= off;
		if (pkt->dts != AV_NOPTS_VALUE)
			pkt->dts -= off;
		av_packet_rescale_ts(pkt, ist->time_base, ost->time_base);
		fix_dts(pkt, &last_dts[slot]);
		if (slot == 0) {
			/* Packets count as frames here, so that judge_damage
			 * can tell a file that stops early. */
			double s = (double)pkt->pts * av_q2d(ost->time_base);
			if (r->vframes++ == 0) {
				r->vfirst_s = r->vlast_s = s;
			} else {
				r->vfirst_s = fmin(r->vfirst_s, s);
				r->vlast_s = fmax(r->vlast_s, s);
			}
			r->vpackets++;
		}
		pkt->stream_index = ost->index;
		pkt->pos = -1;
		ret = av_interleaved_write_frame(r->oc, pkt);
		av_packet_unref(pkt);
		if (ret < 0)
			return write_failed(r, ret);
	}
	rc = judge_damage(r, "read");
	if (rc)
		return rc;
	return finish_output(r);
}

/* ---------------------------------------------------------------- encoding */

/* Send one frame (NULL: flush) and write every packet that comes out. */
static int encode(struct rend *r, AVCodecContext *enc, AVStream *ost, const AVFrame *frame)
{
	char b[128];
	int ret = avcodec_send_frame(enc, frame);
	if (ret < 0 && ret != AVERROR_EOF) {
		if (ret == AVERROR(ENOMEM))
			return KD_ENOMEM;
		set_err(r, "could not encode the browser copy of the video (%s)",
		        averr(ret, b, sizeof b));
		return KD_EIO;
	}
	for (;;) {
		ret = avcodec_receive_packet(enc, r->opkt);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret < 0) {
			if (ret == AVERROR(ENOMEM))
				return KD_ENOMEM;
			set_err(r, "could not encode the browser copy of the video (%s)",
			        averr(ret, b, sizeof b));
			return KD_EIO;
		}
		r->opkt->stream_index = ost->index;
		av_packet_rescale_ts(r->opkt, enc->time_base, ost->time_base);
		ret = av_interleaved_write_frame(r->oc, r->opkt);
		av_packet_unref(r->opkt);
		if (ret < 0)
			return write_failed(r, ret);
	}
}

static AVCodecContext *open_decoder(struct rend *r, AVStream *st, int *rc)
{
	char b[128];
	const AVCodec *dec = avcodec_find_decoder(st->codecpar->codec_id);
	const char *kind = st == r->vist ? "video" : "sound";
	if (!dec) {
		set_err(r, "this file's %s format (%s) cannot be read here; re-export the "
		        "video as MP4 (H.264) and upload that", kind,
		        avcodec_get_name(st->codecpar->codec_id));
		*rc = KD_EINVAL;
		return NULL;
	}
	AVCodecContext *c = avcodec_alloc_context3(dec);
	if (!c || avcodec_parameters_to_context(c, st->codecpar) < 0) {
		avcodec_free_context(&c);
		*rc = KD_ENOMEM;
		return NULL;
	}
	c->pkt_timebase = st->time_base;
	c->thread_count = JOB_THREADS;
	int ret = avcodec_open2(c, dec, NULL);
	if (ret < 0) {
		set_err(r, "this file's %s (%s) cannot be decoded (%s); re-export the video as "
		        "MP4 (H.264) and upload that", kind, avcodec_get_name(st->codecpar->codec_id),
		        averr(ret, b, sizeof b));
		avcodec_free_context(&c);
		*rc = ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
		return NULL;
	}
	return c;
}

/* Even, at least 2, at most max. */
static int even_at_most(double v, int max)
{
	int n = picture_even(v);
	return n > max ? max & ~1 : n;
}

/* Picture size: display aspect (SAR applied, then the turn), fitted in
 * MAX_W x MAX_H without enlarging, even sides for 4:2:0. */
static void output_size(struct rend *r, int *out_w, int *out_h)
{
	const AVCodecParameters *p = r->vist->codecpar;
	AVRational sar = av_guess_sample_aspect_ratio(r->ic, r->vist, NULL);
	if (sar.num <= 0 || sar.den <= 0) {
		sar = (AVRational){ r->f->sar_num, r->f->sar_den };
		if (sar.num <= 0 || sar.den <= 0)
			sar = (AVRational){ 1, 1 };
	}
	double dw = p->width * av_q2d(sar), dh = p->height;
	if (r->rot & 1) {
		double t = dw;
		dw = dh;
		dh = t;
	}
	/* "1080p" bounds the short side: a portrait phone clip may be
	 * 1080x1920, as a landscape one may be 1920x1080. */
	double box_w = dw >= dh ? MAX_W : MAX_H, box_h = dw >= dh ? MAX_H : MAX_W;
	double s = fmin(1.0, fmin(box_w / dw, box_h / dh));
	*out_w = even_at_most(dw * s, (int)box_w);
	*out_h = even_at_most(dh * s, (int)box_h);
}

static bool is_hdr_transfer(enum AVColorTransferCharacteristic t)
{
	return t == AVCOL_TRC_SMPTE2084 || t == AVCOL_TRC_ARIB_STD_B67;
}

static int open_video_encoder(struct rend *r)
{
	char b[128];
	const AVCodecParameters *p = r->vist->codecpar;
	const AVCodec *x264 = avcodec_find_encoder_by_name("libx264");
	if (!x264) {
		set_err(r, "this server's FFmpeg has no H.264 encoder (libx264), so videos that "
		        "browsers cannot play as they are cannot be converted; ask the "
		        "administrator to install FFmpeg with libx264");
		return KD_EIO;
	}
	if (p->width <= 0 || p->height <= 0) {
		set_err(r, "the video stream has no picture size; the file is damaged: re-export "
		        "it or copy it again from the camera");
		return KD_EINVAL;
	}
	int w, h;
	output_size(r, &w, &h);
	r->scale_w = (r->rot & 1) ? h : w;
	r->scale_h = (r->rot & 1) ? w : h;

	/* Frame rate: the probe's average, else the demuxer's guess. */
	AVRational fr = { 0, 1 };
	if (r->f->fps > 0 && r->f->fps < 1000)
		fr = av_d2q(r->f->fps, 1001000);
	if (fr.num <= 0 || fr.den <= 0)
		fr = av_guess_frame_rate(r->ic, r->vist, NULL);
	if (fr.num <= 0 || fr.den <= 0 || av_q2d(fr) > 1000)
		fr = (AVRational){ 30, 1 };

	/* Pass the stream's own timestamps through (variable frame rate
	 * phone video stays in sync); only a useless time base is replaced. */
	AVRational tb = r->vist->time_base;
	if (tb.num <= 0 || tb.den <= 0 || av_q2d(tb) > 0.1)
		tb = (AVRational){ 1, 90000 };

	AVCodecContext *c = r->venc = avcodec_alloc_context3(x264);
	if (!c)
		return KD_ENOMEM;
	c->width = w;
	c->height = h;
	c->pix_fmt = AV_PIX_FMT_YUV420P;
	c->sample_aspect_ratio = (AVRational){ 1, 1 };
	c->time_base = tb;
	c->framerate = fr;
	c->gop_size = (int)fmax(1, lround(2 * av_q2d(fr)));
	c->thread_count = JOB_THREADS;
	/* Keep the colour description the decoder will use; the range
	 * becomes limited (swscale converts full-range sources).  HDR
	 * transfer curves are not tone-mapped here, so they are not claimed
	 * on the 8-bit output either. */
	c->color_range = AVCOL_RANGE_MPEG;
	c->color_primaries = p->color_primaries;
	c->color_trc = is_hdr_transfer(p->color_trc) ? AVCOL_TRC_UNSPECIFIED : p->color_trc;
	c->colorspace = p->color_space == AVCOL_SPC_RGB ? AVCOL_SPC_SMPTE170M : p->color_space;
	c->chroma_sample_location = AVCHROMA_LOC_LEFT;
	if (r->oc->oformat->flags & AVFMT_GLOBALHEADER)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

	AVDictionary *opts = NULL;
	av_dict_set(&opts, "preset", VIDEO_PRESET, 0);
	av_dict_set(&opts, "crf", VIDEO_CRF, 0);
	av_dict_set(&opts, "profile", "high", 0);
	int ret = avcodec_open2(c, x264, &opts);
	av_dict_free(&opts);
	if (ret < 0) {
		set_err(r, "could not start the H.264 encoder (%s)", averr(ret, b, sizeof b));
		return ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EIO;
	}
	r->vstep = av_rescale_q(1, av_inv_q(fr), tb);
	if (r->vstep < 1)
		r->vstep = 1;

	r->vost = avformat_new_stream(r->oc, NULL);
	if (!r->vost || avcodec_parameters_from_context(r->vost->codecpar, c) < 0)
		return KD_ENOMEM;
	r->vost->time_base = tb;
	r->vost->avg_frame_rate = fr;

	r->vframe = av_frame_alloc();
	r->pass = av_frame_alloc();
	if (!r->vframe || !r->pass)
		return KD_ENOMEM;
	r->vframe->format = AV_PIX_FMT_YUV420P;
	r->vframe->width = w;
	r->vframe->height = h;
	if (av_frame_get_buffer(r->vframe, 0) < 0)
		return KD_ENOMEM;
	if (r->rot || r->hflip || r->vflip) {
		r->scaled = av_frame_alloc();
		if (!r->scaled)
			return KD_ENOMEM;
		r->scaled->format = AV_PIX_FMT_YUV420P;
		r->scaled->width = r->scale_w;
		r->scaled->height = r->scale_h;
		if (av_frame_get_buffer(r->scaled, 0) < 0)
			return KD_ENOMEM;
	}
	log_debug(FAC, "transcode %dx%d %s -> %dx%d, turn %d, flip %d/%d, %d/%d fps",
	          p->width, p->height, av_get_pix_fmt_name(p->format), w, h, r->rot * 90,
	          r->hflip, r->vflip, fr.num, fr.den);
	return 0;
}

/* Stereo AAC at the source rate when browsers commonly get it, else 48 kHz. */
static int open_audio_encoder(struct rend *r)
{
	char b[128];
	const AVCodec *aac = avcodec_find_encoder(AV_CODEC_ID_AAC);
	if (!aac) {
		set_err(r, "this server's FFmpeg has no AAC encoder; ask the administrator to "
		        "install a complete FFmpeg");
		return KD_EIO;
	}
	AVCodecContext *c = r->aenc = avcodec_alloc_context3(aac);
	if (!c)
		return KD_ENOMEM;
	int rate = r->adec->sample_rate;
	c->sample_rate = rate == 44100 || rate == 48000 ? rate : 48000;
	c->sample_fmt = AV_SAMPLE_FMT_FLTP;
	av_channel_layout_default(&c->ch_layout, 2);
	c->bit_rate = AUDIO_BIT_RATE;
	c->time_base = (AVRational){ 1, c->sample_rate };
	if (r->oc->oformat->flags & AVFMT_GLOBALHEADER)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	int ret = avcodec_open2(c, aac, NULL);
	if (ret < 0) {
		set_err(r, "could not start the AAC encoder (%s)", averr(ret, b, sizeof b));
		return ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EIO;
	}
	r->aost = avformat_new_stream(r->oc, NULL);
	if (!r->aost || avcodec_parameters_from_context(r->aost->codecpar, c) < 0)
		return KD_ENOMEM;
	r->aost->time_base = c->time_base;
	r->fifo = av_audio_fifo_alloc(c->sample_fmt, c->ch_layout.nb_channels,
	                              c->frame_size > 0 ? c->frame_size : 1024);
	r->aframe = av_frame_alloc();
	if (!r->fifo || !r->aframe)
		return KD_ENOMEM;
	return 0;
}

/* ---------------------------------------------------------------- video */

/* A decoded frame that is already limited-range yuv420p of the size we
 * want needs no swscale: the copy would cost as much as the decode of a
 * small clip.  Returns the frame to encode: in itself, or r->vframe. */
static int convert_picture(struct rend *r, AVFrame *in, AVFrame **out)
{
	int full = in->color_range == AVCOL_RANGE_JPEG;
	bool as_is = in->format == AV_PIX_FMT_YUV420P && !full && in->width == r->scale_w &&
	             in->height == r->scale_h;
	if (as_is && !r->scaled) {
		av_frame_unref(r->pass);
		if (av_frame_ref(r->pass, in) < 0)
			return KD_ENOMEM;
		/* libx264 obeys a frame's picture type as a forced type, and
		 * reads captions and regions from side data: neither should
		 * come from the source. */
		r->pass->pict_type = AV_PICTURE_TYPE_NONE;
		while (r->pass->nb_side_data > 0)
			av_frame_remove_side_data(r->pass, r->pass->side_data[0]->type);
		*out = r->pass;
		return 0;
	}
	*out = r->vframe;
	if (av_frame_make_writable(r->vframe) < 0)
		return KD_ENOMEM;
	if (as_is) {
		for (int p = 0; p < 3; p++) {
			int w = p ? r->scale_w / 2 : r->scale_w;
			int h = p ? r->scale_h / 2 : r->scale_h;
			picture_orient_plane(in->data[p], in->linesize[p], w, h, r->vframe->data[p],
			                     r->vframe->linesize[p], r->rot * 90, r->hflip, r->vflip);
		}
		return 0;
	}
	if (!r->sws || in->width != r->sws_w || in->height != r->sws_h || in->format != r->sws_fmt ||
	    full != r->sws_full) {
		sws_freeContext(r->sws);
		r->sws = sws_getContext(in->width, in->height, in->format, r->scale_w, r->scale_h,
		                        AV_PIX_FMT_YUV420P, SWS_BICUBIC, NULL, NULL, NULL);
		if (!r->sws) {
			set_err(r, "this video's picture format (%s, %dx%d) cannot be converted; "
			        "re-export the video as MP4 (H.264) and upload that",
			        av_get_pix_fmt_name(in->format) ? av_get_pix_fmt_name(in->format) : "?",
			        in->width, in->height);
			return KD_EINVAL;
		}
		if (full) {
			/* Phones flag full-range YUV on plain yuv420p frames;
			 * without this it would look washed out or crushed. */
			int *inv, *tab, src_range, dst_range, bri, con, sat;
			if (sws_getColorspaceDetails(r->sws, &inv, &src_range, &tab, &dst_range, &bri,
			                             &con, &sat) >= 0)
				sws_setColorspaceDetails(r->sws, inv, 1, tab, 0, bri, con, sat);
		}
		r->sws_w = in->width;
		r->sws_h = in->height;
		r->sws_fmt = in->format;
		r->sws_full = full;
	}
	AVFrame *dst = r->scaled ? r->scaled : r->vframe;
	sws_scale(r->sws, (const uint8_t *const *)in->data, in->linesize, 0, in->height, dst->data,
	          dst->linesize);
	if (r->scaled) {
		for (int p = 0; p < 3; p++) {
			int w = p ? r->scale_w / 2 : r->scale_w;
			int h = p ? r->scale_h / 2 : r->scale_h;
			picture_orient_plane(dst->data[p], dst->linesize[p], w, h, r->vframe->data[p],
			                     r->vframe->linesize[p], r->rot * 90, r->hflip, r->vflip);
		}
	}
	return 0;
}

static int video_frame(struct rend *r, AVFrame *in)
{
	if (in->width <= 0 || in->height <= 0 || in->format < 0) {
		note_bad(r, NULL);
		return 0;
	}
	int64_t pts = in->best_effort_timestamp;
	if (pts == AV_NOPTS_VALUE)
		pts = r->vhave ? r->vlast + r->vstep : 0;
	else
		pts = av_rescale_q(pts - r->voff, r->vist->time_base, r->venc->time_base);
	/* Timestamps passed through must increase; a frame that repeats one
	 * (duplicated by the camera or the container) is dropped. */
	if (r->vhave && pts <= r->vlast) {
		r->vdropped++;
		return 0;
	}
	AVFrame *enc_in;
	int rc = convert_picture(r, in, &enc_in);
	if (rc)
		return rc;
	enc_in->pts = pts;
	double s = (double)pts * av_q2d(r->venc->time_base);
	if (blur_any(r->blur, s, r->blur_slack)) {
		/* A frame passed on as decoded may still be the decoder's
		 * reference for the next ones: blur a copy. */
		if (enc_in == r->pass && av_frame_make_writable(r->pass) < 0)
			return KD_ENOMEM;
		if (blur_frame(enc_in, r->blur, s, r->blur_slack) < 0) {
			set_err(r, "the regions to blur could not be blurred in this video's "
			        "pictures (%s)", av_get_pix_fmt_name(enc_in->format) ?
			        av_get_pix_fmt_name(enc_in->format) : "?");
			return KD_EINVAL;
		}
	}
	if (r->vframes++ == 0)
		r->vfirst_s = s;
	r->vlast_s = s;
	r->vlast = pts;
	r->vhave = true;
	rc = encode(r, r->venc, r->vost, enc_in);
	av_frame_unref(r->pass);
	return rc;
}

/* Decode one video packet (NULL: drain the decoder) and encode what comes. */
static int video_packet(struct rend *r, const AVPacket *pkt)
{
	int ret = avcodec_send_packet(r->vdec, pkt);
	if (pkt)
		r->vpackets++;
	if (ret == AVERROR(ENOMEM))
		return KD_ENOMEM;
	if (ret < 0 && ret != AVERROR_EOF && ret != AVERROR(EAGAIN))
		note_bad(r, pkt);
	int errors = 0;
	for (;;) {
		ret = avcodec_receive_frame(r->vdec, r->frame);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret == AVERROR(ENOMEM))
			return KD_ENOMEM;
		if (ret < 0) {
			note_bad(r, pkt);
			if (++errors > MAX_DRAIN_ERRORS)
				return 0;
			continue;
		}
		/* Concealed damage (a smear until the next keyframe) is shown
		 * rather than refused, unless most pictures are smeared. */
		if (r->frame->decode_error_flags || (r->frame->flags & AV_FRAME_FLAG_CORRUPT)) {
			r->vconcealed++;
			note_damage_at(r, ts_seconds(r->frame->best_effort_timestamp, r->voff,
			                             r->vist->time_base));
		}
		int rc = video_frame(r, r->frame);
		av_frame_unref(r->frame);
		if (rc)
			return rc;
	}
}

/* ---------------------------------------------------------------- audio */

static int audio_drain_fifo(struct rend *r, bool all)
{
	int fs = r->aenc->frame_size > 0 ? r->aenc->frame_size : 1024;
	while (av_audio_fifo_size(r->fifo) >= fs || (all && av_audio_fifo_size(r->fifo) > 0)) {
		int n = av_audio_fifo_size(r->fifo);
		if (n > fs)
			n = fs;
		AVFrame *af = r->aframe;
		af->nb_samples = n;
		af->format = r->aenc->sample_fmt;
		af->sample_rate = r->aenc->sample_rate;
		if (av_channel_layout_copy(&af->ch_layout, &r->aenc->ch_layout) < 0 ||
		    av_frame_get_buffer(af, 0) < 0)
			return KD_ENOMEM;
		if (av_audio_fifo_read(r->fifo, (void **)af->data, n) < n) {
			av_frame_unref(af);
			return KD_ENOMEM;
		}
		af->pts = r->anext;
		r->anext += n;
		int rc = encode(r, r->aenc, r->aost, af);
		av_frame_unref(af);
		if (rc)
			return rc;
	}
	return 0;
}

static int ensure_conv(struct rend *r, int samples)
{
	if (samples <= r->conv_cap)
		return 0;
	if (r->conv)
		av_freep(&r->conv[0]);
	av_freep(&r->conv);
	r->conv_cap = 0;
	if (av_samples_alloc_array_and_samples(&r->conv, NULL, r->aenc->ch_layout.nb_channels,
	                                       samples, r->aenc->sample_fmt, 0) < 0)
		return KD_ENOMEM;
	r->conv_cap = samples;
	return 0;
}

/* Put samples converted by swr into the fifo and encode full frames. */
static int audio_push(struct rend *r, int n)
{
	if (n <= 0)
		return 0;
	if (av_audio_fifo_write(r->fifo, (void **)r->conv, n) < n)
		return KD_ENOMEM;
	return audio_drain_fifo(r, false);
}

/* Silence for a gap in the sound (a damaged packet skipped, or a pause
 * in recording), so later sound still lines up with the picture. */
static int audio_silence(struct rend *r, int64_t n)
{
	int fs = r->aenc->frame_size > 0 ? r->aenc->frame_size : 1024;
	int rc = ensure_conv(r, fs);
	if (rc)
		return rc;
	while (n > 0) {
		int k = n > fs ? fs : (int)n;
		/* fltp: silence is all-zero bytes in every plane */
		for (int ch = 0; ch < r->aenc->ch_layout.nb_channels; ch++)
			memset(r->conv[ch], 0, (size_t)k * sizeof(float));
		rc = audio_push(r, k);
		if (rc)
			return rc;
		n -= k;
	}
	return 0;
}

static int audio_setup_swr(struct rend *r, const AVFrame *in)
{
	AVChannelLayout layout = { 0 };
	if (in->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || !av_channel_layout_check(&in->ch_layout))
		av_channel_layout_default(&layout, in->ch_layout.nb_channels);
	else if (av_channel_layout_copy(&layout, &in->ch_layout) < 0)
		return KD_ENOMEM;
	if (r->swr && r->swr_rate == in->sample_rate && r->swr_fmt == in->format &&
	    !av_channel_layout_compare(&layout, &r->swr_layout)) {
		av_channel_layout_uninit(&layout);
		return 0;
	}
	/* The format changed mid-stream (rare: a camera switching
	 * microphones): what the old resampler still holds is dropped. */
	swr_free(&r->swr);
	av_channel_layout_uninit(&r->swr_layout);
	int ret = swr_alloc_set_opts2(&r->swr, &r->aenc->ch_layout, r->aenc->sample_fmt,
	                              r->aenc->sample_rate, &layout, in->format, in->sample_rate,
	                              0, NULL);
	if (ret >= 0)
		ret = swr_init(r->swr);
	if (ret < 0) {
		av_channel_layout_uninit(&layout);
		swr_free(&r->swr);
		return ret == AVERROR(ENOMEM) ? KD_ENOMEM : KD_EINVAL;
	}
	r->swr_layout = layout;
	r->swr_rate = in->sample_rate;
	r->swr_fmt = in->format;
	return 0;
}

static int audio_frame(struct rend *r, AVFrame *in)
{
	if (in->nb_samples <= 0 || in->sample_rate <= 0 || in->ch_layout.nb_channels <= 0) {
		r->abad++;
		return 0;
	}
	int rc = audio_setup_swr(r, in);
	if (rc == KD_EINVAL) {
		r->abad++;
		return 0;
	}
	if (rc)
		return rc;

	int rate = r->aenc->sample_rate;
	int64_t pts = in->best_effort_timestamp;
	if (pts != AV_NOPTS_VALUE)
		pts = av_rescale_q(pts - r->aoff, r->aist->time_base, (AVRational){ 1, rate });
	if (!r->astarted) {
		r->anext = pts != AV_NOPTS_VALUE ? pts : 0;
		r->astarted = true;
	} else if (pts != AV_NOPTS_VALUE) {
		int64_t have = r->anext + av_audio_fifo_size(r->fifo) + swr_get_delay(r->swr, rate);
		int64_t gap = pts - have;
		if (gap > rate / 10 && gap < (int64_t)rate * MAX_GAP_S) {
			rc = audio_silence(r, gap);
			if (rc)
				return rc;
		}
	}
	rc = ensure_conv(r, swr_get_out_samples(r->swr, in->nb_samples));
	if (rc)
		return rc;
	int n = swr_convert(r->swr, r->conv, r->conv_cap, (const uint8_t **)in->extended_data,
	                    in->nb_samples);
	if (n < 0) {
		r->abad++;
		return 0;
	}
	return audio_push(r, n);
}

static int audio_packet(struct rend *r, const AVPacket *pkt)
{
	int ret = avcodec_send_packet(r->adec, pkt);
	if (ret == AVERROR(ENOMEM))
		return KD_ENOMEM;
	if (ret < 0 && ret != AVERROR_EOF && ret != AVERROR(EAGAIN))
		r->abad++;
	int errors = 0;
	for (;;) {
		ret = avcodec_receive_frame(r->adec, r->frame);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret == AVERROR(ENOMEM))
			return KD_ENOMEM;
		if (ret < 0) {
			r->abad++;
			if (++errors > MAX_DRAIN_ERRORS)
				return 0;
			continue;
		}
		int rc = audio_frame(r, r->frame);
		av_frame_unref(r->frame);
		if (rc)
			return rc;
	}
}

/* Everything still inside the decoder, resampler and encoder. */
static int audio_flush(struct rend *r)
{
	int rc = audio_packet(r, NULL);
	if (rc)
		return rc;
	if (!r->astarted && r->vframes > 0) {
		/* Not one sound frame decoded: a silent track as long as the
		 * picture, rather than an empty one some players refuse. */
		log_warn(FAC, "the sound could not be decoded (%lld damaged packets); it is silent",
		         (long long)r->abad);
		r->astarted = true;
		r->anext = 0;
		double secs = r->vlast_s + av_q2d(av_inv_q(r->venc->framerate));
		rc = audio_silence(r, (int64_t)(secs * r->aenc->sample_rate));
		if (rc)
			return rc;
	}
	if (r->swr) {
		for (;;) {
			rc = ensure_conv(r, 4096);
			if (rc)
				return rc;
			int n = swr_convert(r->swr, r->conv, r->conv_cap, NULL, 0);
			if (n <= 0)
				break;
			rc = audio_push(r, n);
			if (rc)
				return rc;
		}
	}
	rc = audio_drain_fifo(r, true);
	if (rc)
		return rc;
	return encode(r, r->aenc, r->aost, NULL);
}

/* ---------------------------------------------------------------- transcode */

static int transcode(struct rend *r)
{
	int rc = 0;
	int rot = ((r->f->rotation % 360) + 360) % 360;
	r->rot = (rot + 45) / 90 % 4;
	r->hflip = r->f->hflip;
	r->vflip = r->f->vflip;

	r->vdec = open_decoder(r, r->vist, &rc);
	if (!r->vdec)
		return rc;
	if (r->aist) {
		r->adec = open_decoder(r, r->aist, &rc);
		if (!r->adec) {
			/* Sound we cannot decode should not cost the coach the
			 * picture: make a silent rendition and say so in the log. */
			if (rc == KD_ENOMEM)
				return rc;
			log_warn(FAC, "sound dropped: %s", r->err ? r->err : "cannot decode");
			if (r->err && r->errlen)
				r->err[0] = '\0';
			r->aist->discard = AVDISCARD_ALL;
			r->aist = NULL;
			rc = 0;
		}
	}
	if (r->blur) {
		/* The video stream may start after the file (whose start is
		 * the rendition's 0): a time read either way still counts. */
		int64_t vstart = r->vist->start_time == AV_NOPTS_VALUE ? r->voff : r->vist->start_time;
		r->blur_slack = blur_slack(r->f, (double)(vstart - r->voff) * av_q2d(r->vist->time_base));
	}
	rc = open_video_encoder(r);
	if (!rc && r->aist)
		rc = open_audio_encoder(r);
	if (!rc)
		rc = write_header(r);
	if (rc)
		return rc;

	for (;;) {
		int ret = av_read_frame(r->ic, r->pkt);
		if (ret == AVERROR(EAGAIN))
			continue;
		if (ret < 0) {
			if (ret != AVERROR_EOF)
				r->read_error = ret;
			break;
		}
		if (r->pkt->stream_index == r->vist->index)
			rc = video_packet(r, r->pkt);
		else if (r->aist && r->pkt->stream_index == r->aist->index)
			rc = audio_packet(r, r->pkt);
		av_packet_unref(r->pkt);
		if (rc)
			return rc;
	}
	rc = video_packet(r, NULL);
	if (!rc && r->aist)
		rc = audio_flush(r);
	if (rc)
		return rc;
	rc = judge_damage(r, "decoded");
	if (rc)
		return rc;
	rc = encode(r, r->venc, r->vost, NULL);
	if (rc)
		return rc;
	return finish_output(r);
}

/* ---------------------------------------------------------------- entry */

static void rend_free(struct rend *r)
{
	if (r->oc) {
		/* No trailer on failure: it would run the faststart rewrite on
		 * a file about to be removed; avformat_free_context() deinits
		 * the muxer and frees its queued packets. */
		close_output_io(r);
		avformat_free_context(r->oc);
		r->oc = NULL;
	}
	outputs_release(&r->outs);
	media_input_close(&r->in);
	r->ic = NULL;
	av_packet_free(&r->pkt);
	av_packet_free(&r->opkt);
	av_frame_free(&r->frame);
	avcodec_free_context(&r->vdec);
	avcodec_free_context(&r->venc);
	avcodec_free_context(&r->adec);
	avcodec_free_context(&r->aenc);
	sws_freeContext(r->sws);
	av_frame_free(&r->scaled);
	av_frame_free(&r->vframe);
	av_frame_free(&r->pass);
	swr_free(&r->swr);
	av_channel_layout_uninit(&r->swr_layout);
	if (r->fifo)
		av_audio_fifo_free(r->fifo);
	if (r->conv)
		av_freep(&r->conv[0]);
	av_freep(&r->conv);
	av_frame_free(&r->aframe);
}

/* One attempt: reserve is the room for the index, -1 to work it out. */
static int make(struct rend *r, const char *path, const char *out_path, int64_t reserve,
                struct outputs *into)
{
	int rc;
	outputs_init(&r->outs);
	r->pkt = av_packet_alloc();
	r->opkt = av_packet_alloc();
	r->frame = av_frame_alloc();
	if (!r->pkt || !r->opkt || !r->frame)
		return KD_ENOMEM;
	rc = open_input(r, path);
	if (rc)
		return rc;
	rc = open_output(r, out_path);
	if (rc)
		return rc;
	bool copy = r->f->browser_ready && streams_browser_ready(r) && !r->blur;
	if (r->f->browser_ready && !copy)
		log_info(FAC, "%s: %s; transcoding", path,
		         r->blur ? "regions to blur" : "streams not browser-ready after all");
	r->moov_reserve = !copy ? 0 : reserve >= 0 ? reserve : moov_room(r);
	rc = copy ? remux(r) : transcode(r);
	if (rc)
		return rc;
	if (into) {
		char msg[KD_ERRMSG_MAX];
		if (outputs_move(into, &r->outs, msg, sizeof msg) < 0) {
			set_err(r, "%s", msg);
			return KD_EIO;
		}
		return 0;
	}
	return publish(r);
}

/* The rendition for out_path; with into, its file is handed to that set
 * for the caller to commit (outputs.h) instead of being committed here. */
int rendition_make(const char *path, const struct media_facts *f, const char *out_path,
                   const struct media_blur *blur, struct outputs *into, char *err,
                   size_t errlen)
{
	/* No regions is no blur at all: the remux stays possible. */
	const struct media_blur *b = blur && blur->n > 0 ? blur : NULL;
	struct rend r = { .f = f, .blur = b, .err = err, .errlen = errlen };
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !f || !out_path) {
		set_err(&r, "internal error: no file given for the browser copy");
		return KD_EINVAL;
	}
	rc = make(&r, path, out_path, -1, into);
	if (rc == MOOV_TOO_SMALL) {
		rend_free(&r);
		r = (struct rend){ .f = f, .blur = b, .err = err, .errlen = errlen };
		rc = make(&r, path, out_path, 0, into);
	}
	rend_free(&r); /* removes the temporary file of a failed attempt */
	if (rc != 0) {
		if (rc == KD_ENOMEM)
			set_err(&r, "out of memory while making the browser copy of the video");
		else
			set_err(&r, "could not make the browser copy of the video");
		log_warn(FAC, "%s: %s", path, err && errlen ? err : kd_strerror(rc));
	}
	return rc;
}

int media_make_rendition(const char *path, const struct media_facts *f, const char *out_path,
                         const struct media_blur *blur, char *err, size_t errlen)
{
	return rendition_make(path, f, out_path, blur, NULL, err, errlen);
}
