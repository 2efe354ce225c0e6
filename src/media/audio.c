/*
 * audio.c - media_make_wav(): a clip's sound as a transcription engine
 * wants it, 16 kHz mono signed 16-bit PCM in a WAV file (issue 15, H4).
 *
 * The WAV's second 0 is the container's start, the same origin as the
 * rendition's and the storyboard's times, so captions made from it line up
 * with the picture: audio that starts late is preceded by silence.
 * libswresample does the downmix and the resampling.
 */
#include "kindling/media.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/mem.h"
#include "media/input.h"

#define WAV_HEADER 44
/* A leading gap longer than this is a file's oddity, not a late start. */
#define MAX_LEAD_S 60.0

struct wav_out {
	int fd;
	int16_t buf[32768];
	size_t n;          /* samples in buf */
	int64_t written;   /* samples in the file */
	int64_t max;       /* samples wanted at most; 0: all */
	bool io_error;
};

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static bool write_all(int fd, const void *data, size_t len, off_t at)
{
	const char *p = data;
	while (len) {
		ssize_t n = at >= 0 ? pwrite(fd, p, len, at) : write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
		if (at >= 0)
			at += n;
	}
	return true;
}

static void header(uint8_t h[WAV_HEADER], int64_t samples)
{
	uint32_t data = (uint32_t)(samples * 2);
	memcpy(h, "RIFF", 4);
	put_le32(h + 4, 36 + data);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le32(h + 16, 16);                  /* the fmt chunk's size */
	put_le16(h + 20, 1);                   /* PCM */
	put_le16(h + 22, 1);                   /* mono */
	put_le32(h + 24, MEDIA_WAV_RATE);
	put_le32(h + 28, MEDIA_WAV_RATE * 2);  /* bytes a second */
	put_le16(h + 32, 2);                   /* bytes a frame */
	put_le16(h + 34, 16);                  /* bits a sample */
	memcpy(h + 36, "data", 4);
	put_le32(h + 40, data);
}

static void flush_out(struct wav_out *w)
{
	if (w->n && !w->io_error) {
		/* WAV is little-endian, as are the machines kindling runs on;
		 * swapped here on any other. */
		for (size_t i = 0; i < w->n; i++) {
			uint8_t *b = (uint8_t *)&w->buf[i];
			uint16_t v = (uint16_t)w->buf[i];
			b[0] = (uint8_t)v;
			b[1] = (uint8_t)(v >> 8);
		}
		w->io_error = !write_all(w->fd, w->buf, w->n * 2, -1);
	}
	w->n = 0;
}

static bool full(const struct wav_out *w)
{
	return w->max && w->written >= w->max;
}

static void put_samples(struct wav_out *w, const int16_t *s, size_t n)
{
	for (size_t i = 0; i < n && !full(w); i++) {
		w->buf[w->n++] = s ? s[i] : 0;
		w->written++;
		if (w->n == sizeof w->buf / sizeof *w->buf)
			flush_out(w);
	}
}

/* Feed one frame (NULL: drain) through swr into w. */
static int convert(SwrContext *swr, const AVFrame *frame, struct wav_out *w)
{
	int in = frame ? frame->nb_samples : 0;
	int room = swr_get_out_samples(swr, in);
	if (room < 0)
		return KD_EINVAL;
	if (room == 0)
		return 0;
	int16_t *out = kd_malloc((size_t)room * sizeof *out);
	uint8_t *planes[1] = {(uint8_t *)out};
	int got = swr_convert(swr, planes, room, frame ? (const uint8_t **)frame->extended_data : NULL,
	                      in);
	if (got > 0)
		put_samples(w, out, (size_t)got);
	free(out);
	return got < 0 ? KD_EINVAL : 0;
}

/* A resampler from the frame's format to ours. */
static int resampler(SwrContext **swr, const AVFrame *f)
{
	AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO, in;
	/* A decoder that left the layout unspecified: its count's default. */
	if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
		av_channel_layout_default(&in, f->ch_layout.nb_channels);
	else if (av_channel_layout_copy(&in, &f->ch_layout) < 0)
		return KD_ENOMEM;
	swr_free(swr);
	int ret = swr_alloc_set_opts2(swr, &mono, AV_SAMPLE_FMT_S16, MEDIA_WAV_RATE, &in,
	                              (enum AVSampleFormat)f->format, f->sample_rate, 0, NULL);
	av_channel_layout_uninit(&in);
	if (ret < 0 || swr_init(*swr) < 0)
		return KD_EINVAL;
	return 0;
}

static bool same_format(const AVFrame *a, int format, int rate, const AVChannelLayout *l)
{
	return a->format == format && a->sample_rate == rate &&
	       av_channel_layout_compare(&a->ch_layout, l) == 0;
}

int media_make_wav(const char *path, const char *wav_path, double max_s, int64_t *samples,
                   char *err, size_t errlen)
{
	struct media_input in;
	AVCodecContext *dec = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVFrame *frame = av_frame_alloc();
	SwrContext *swr = NULL;
	AVChannelLayout cur_layout = {0};
	int cur_format = -1, cur_rate = 0;
	struct wav_out *w = kd_calloc(1, sizeof *w);
	char *tmp = NULL;
	w->fd = -1;
	*samples = 0;
	int rc = media_input_open(&in, path, err, errlen);
	if (rc < 0)
		goto out;
	if (!pkt || !frame) {
		rc = KD_ENOMEM;
		goto out;
	}
	AVFormatContext *fmt = in.fmt;
	int idx = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
	if (idx < 0) {
		snprintf(err, errlen, "this file has no sound in it");
		rc = KD_ENOTFOUND;
		goto out;
	}
	AVStream *st = fmt->streams[idx];
	for (unsigned i = 0; i < fmt->nb_streams; i++)
		fmt->streams[i]->discard = (int)i == idx ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
	const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
	if (!codec || !(dec = avcodec_alloc_context3(codec)) ||
	    avcodec_parameters_to_context(dec, st->codecpar) < 0) {
		snprintf(err, errlen, "kindling cannot decode this kind of sound (%s)",
		         avcodec_get_name(st->codecpar->codec_id));
		rc = KD_EINVAL;
		goto out;
	}
	dec->pkt_timebase = st->time_base;
	if (avcodec_open2(dec, codec, NULL) < 0) {
		snprintf(err, errlen, "the sound could not be decoded (%s): the file may be damaged",
		         avcodec_get_name(st->codecpar->codec_id));
		rc = KD_EINVAL;
		goto out;
	}
	size_t tlen = strlen(wav_path) + 8;
	tmp = kd_malloc(tlen);
	snprintf(tmp, tlen, "%s.tmp", wav_path);
	w->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	uint8_t h[WAV_HEADER];
	header(h, 0);
	if (w->fd < 0 || !write_all(w->fd, h, sizeof h, -1)) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		rc = KD_EIO;
		goto out;
	}
	w->max = max_s > 0 ? (int64_t)llround(max_s * MEDIA_WAV_RATE) : 0;
	double origin = fmt->start_time != AV_NOPTS_VALUE ? (double)fmt->start_time / AV_TIME_BASE : 0;
	bool first = true, eof = false;
	while (!eof && !full(w) && !w->io_error) {
		int ret = av_read_frame(fmt, pkt);
		if (ret < 0)
			eof = true; /* a cut-off end is still the sound up to it */
		else if (pkt->stream_index != idx) {
			av_packet_unref(pkt);
			continue;
		}
		ret = avcodec_send_packet(dec, eof ? NULL : pkt);
		av_packet_unref(pkt);
		if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
			continue; /* a damaged packet: the next may decode */
		while (avcodec_receive_frame(dec, frame) == 0) {
			if (first) {
				/* Sound that starts after the picture: silence until it does. */
				double at = frame->best_effort_timestamp != AV_NOPTS_VALUE
				                ? frame->best_effort_timestamp * av_q2d(st->time_base) - origin
				                : 0;
				if (at > 0.001 && at < MAX_LEAD_S)
					put_samples(w, NULL, (size_t)llround(at * MEDIA_WAV_RATE));
				first = false;
			}
			if (!swr || !same_format(frame, cur_format, cur_rate, &cur_layout)) {
				/* The format changed mid-stream (rare): finish with the old. */
				if (swr)
					convert(swr, NULL, w);
				if ((rc = resampler(&swr, frame)) < 0) {
					snprintf(err, errlen, "the sound could not be converted (%d channels at "
					         "%d Hz)", frame->ch_layout.nb_channels, frame->sample_rate);
					goto out;
				}
				av_channel_layout_uninit(&cur_layout);
				av_channel_layout_copy(&cur_layout, &frame->ch_layout);
				cur_format = frame->format;
				cur_rate = frame->sample_rate;
			}
			if ((rc = convert(swr, frame, w)) < 0) {
				snprintf(err, errlen, "the sound could not be converted");
				goto out;
			}
			av_frame_unref(frame);
		}
	}
	if (swr && !full(w))
		convert(swr, NULL, w);
	flush_out(w);
	if (w->written == 0) {
		snprintf(err, errlen, "the sound track has nothing that decodes");
		rc = KD_EINVAL;
		goto out;
	}
	header(h, w->written);
	if (w->io_error || !write_all(w->fd, h, sizeof h, 0) ||
	    kd_commit_file(w->fd, tmp, wav_path) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", wav_path, strerror(errno));
		rc = KD_EIO;
		goto out;
	}
	*samples = w->written;
	rc = 0;
out:
	if (w->fd >= 0)
		close(w->fd);
	if (rc < 0 && tmp)
		unlink(tmp);
	free(tmp);
	free(w);
	av_channel_layout_uninit(&cur_layout);
	swr_free(&swr);
	avcodec_free_context(&dec);
	av_frame_free(&frame);
	av_packet_free(&pkt);
	media_input_close(&in);
	return rc;
}
