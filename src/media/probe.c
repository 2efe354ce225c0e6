/* probe.c - media_probe(): the facts about a file, as ffprobe tells them. */
#include "kindling/media.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/avstring.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>

#include "kindling/err.h"
#include "kindling/log.h"
#include "media/input.h"
#include "media/picture.h"
#include "media/lav_compat.h"

#define MAX_SIDE 8192
#define MAX_DURATION_S (24.0 * 3600)

/*
 * The display matrix as rotation + mirroring, the way fftools reads it.
 *
 * theta is get_rotation() of fftools/cmdutils.c: the clockwise turn that
 * shows the picture upright, which is minus what av_display_rotation_get()
 * (and ffprobe's "rotation") reports: ffprobe says -90 (or 270) where we say
 * 90, and 90 where we say 270.  It is snapped to a multiple of 90.
 *
 * Mirroring follows the autorotate code of fftools/ffmpeg_filter.c, written
 * in our convention (turn clockwise by rotation, then mirror left-right if
 * hflip, then top-bottom if vflip):
 *   90:  m[3] > 0 means transpose=cclock_flip, a plain transpose, which is
 *        a 90 degree turn then a left-right mirror;
 *   270: m[3] < 0 means transpose=clock_flip, which is a 270 degree turn
 *        then a left-right mirror;
 *   180: ffmpeg applies hflip when m[0] < 0 and vflip when m[4] < 0; both
 *        together are the 180 degree turn, so what remains after our turn
 *        is hflip when m[0] > 0 and vflip when m[4] > 0;
 *   0:   vflip when m[4] < 0.
 */
static void read_orientation(const int32_t *m, int *rotation, bool *hflip, bool *vflip)
{
	*rotation = 0;
	*hflip = *vflip = false;
	if (!m)
		return;
	double a = av_display_rotation_get(m);
	if (isnan(a))
		return;
	double theta = -round(a);
	theta -= 360 * floor(theta / 360 + 0.9 / 360);
	int r = (int)(90 * lround(theta / 90)) % 360;
	*rotation = r;
	switch (r) {
	case 90:
		*hflip = m[3] > 0;
		break;
	case 180:
		*hflip = m[0] > 0;
		*vflip = m[4] > 0;
		break;
	case 270:
		*hflip = m[3] < 0;
		break;
	default:
		*vflip = m[4] < 0;
		break;
	}
}

/* The main picture: FFmpeg's own choice unless that is cover art, else the
 * largest real video stream. */
static int main_video_stream(AVFormatContext *fmt)
{
	int best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (best >= 0 && !(fmt->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC))
		return best;
	best = -1;
	int64_t best_area = -1;
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		const AVStream *st = fmt->streams[i];
		if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO ||
		    (st->disposition & AV_DISPOSITION_ATTACHED_PIC))
			continue;
		int64_t area = (int64_t)st->codecpar->width * st->codecpar->height;
		if (area > best_area) {
			best = (int)i;
			best_area = area;
		}
	}
	return best;
}

/* Whether the index points past the end of the file: a file with its index
 * first (faststart) whose copy stopped early still opens. */
static bool index_past_end(AVFormatContext *fmt, int64_t size)
{
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		AVStream *st = fmt->streams[i];
		int n = avformat_index_get_entries_count(st);
		if (n <= 0)
			continue;
		const AVIndexEntry *e = avformat_index_get_entry(st, n - 1);
		if (e && e->pos >= 0 && e->pos + e->size > size)
			return true;
	}
	return false;
}

static bool is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

int media_probe(const char *path, struct media_facts *f, char *err, size_t errlen)
{
	struct media_input in;
	AVFormatContext *fmt;
	int rc;

	if (errlen)
		err[0] = '\0';
	memset(f, 0, sizeof *f);
	f->video_stream = -1;
	f->audio_stream = -1;
	f->sar_num = f->sar_den = 1;

	rc = media_input_open(&in, path, err, errlen);
	if (rc < 0)
		goto out;
	fmt = in.fmt;

	av_strlcpy(f->container, fmt->iformat->name, sizeof f->container);
	f->size_bytes = in.size;
	if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
		f->duration_s = (double)fmt->duration / AV_TIME_BASE;
	f->bit_rate = fmt->bit_rate > 0 ? fmt->bit_rate : 0;
	const AVDictionaryEntry *ct = av_dict_get(fmt->metadata, "creation_time", NULL, 0);
	if (ct)
		av_strlcpy(f->creation_time, ct->value, sizeof f->creation_time);

	int vi = main_video_stream(fmt);
	int ai = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, vi, NULL, 0);
	if (ai >= 0) {
		f->audio_stream = ai;
		av_strlcpy(f->audio_codec, avcodec_get_name(fmt->streams[ai]->codecpar->codec_id),
		           sizeof f->audio_codec);
	}
	if (vi < 0) {
		if (ai >= 0)
			snprintf(err, errlen, "this file has sound but no picture: "
			                      "pick the video file itself, not an audio recording");
		else
			snprintf(err, errlen, "this file has no video in it");
		rc = KD_EINVAL;
		goto out;
	}

	AVStream *st = fmt->streams[vi];
	const AVCodecParameters *par = st->codecpar;
	f->video_stream = vi;
	av_strlcpy(f->video_codec, avcodec_get_name(par->codec_id), sizeof f->video_codec);
	const char *pf = av_get_pix_fmt_name(par->format);
	av_strlcpy(f->pix_fmt, pf ? pf : "", sizeof f->pix_fmt);
	f->coded_width = par->width;
	f->coded_height = par->height;

	if (par->width <= 0 || par->height <= 0) {
		snprintf(err, errlen, "the video has no picture size: the file is damaged; "
		                      "copy it again from the camera or card");
		rc = KD_EINVAL;
		goto out;
	}
	if (par->width > MAX_SIDE || par->height > MAX_SIDE) {
		snprintf(err, errlen, "the picture is too large (%dx%d): kindling takes at most %d "
		                      "pixels a side; export the video at a smaller size",
		         par->width, par->height, MAX_SIDE);
		rc = KD_EINVAL;
		goto out;
	}
	if (!avcodec_find_decoder(par->codec_id)) {
		snprintf(err, errlen, "kindling cannot read this kind of video (%s): export it "
		                      "again as MP4 from the camera or editing app", f->video_codec);
		rc = KD_EINVAL;
		goto out;
	}
	if (f->duration_s > MAX_DURATION_S) {
		snprintf(err, errlen, "the file says it lasts %.0f hours, which cannot be right: "
		                      "it is damaged; copy it again from the camera or card",
		         f->duration_s / 3600);
		rc = KD_EINVAL;
		goto out;
	}
	if (index_past_end(fmt, in.size)) {
		snprintf(err, errlen, "the file seems to be cut off: it may not have finished "
		                      "copying; copy it again from the camera or card");
		rc = KD_EINVAL;
		goto out;
	}

	AVRational sar = av_guess_sample_aspect_ratio(fmt, st, NULL);
	if (sar.num > 0 && sar.den > 0) {
		f->sar_num = sar.num;
		f->sar_den = sar.den;
	}
	read_orientation(lav_stream_displaymatrix(st), &f->rotation, &f->hflip, &f->vflip);

	/* As ffprobe's display_aspect_ratio implies: the height stays, the
	 * width stretches by the sample aspect ratio. */
	int w = par->width, h = par->height;
	if (f->sar_num != f->sar_den) {
		w = picture_even((double)par->width * f->sar_num / f->sar_den);
		if (w > 2 * MAX_SIDE)
			w = 2 * MAX_SIDE;
	}
	if (f->rotation == 90 || f->rotation == 270) {
		f->width = h;
		f->height = w;
	} else {
		f->width = w;
		f->height = h;
	}

	AVRational rate = st->avg_frame_rate;
	if (rate.num <= 0 || rate.den <= 0)
		rate = st->r_frame_rate;
	if (rate.num > 0 && rate.den > 0)
		f->fps = av_q2d(rate);

	f->browser_ready = is(f->video_codec, "h264") &&
	                   (is(f->pix_fmt, "yuv420p") || is(f->pix_fmt, "yuvj420p")) &&
	                   (f->audio_stream < 0 || is(f->audio_codec, "aac"));
out:
	if (rc < 0 && errlen && !err[0])
		snprintf(err, errlen, "%s", kd_strerror(rc));
	if (rc < 0)
		log_info("media", "probe %s: %s", path, err);
	media_input_close(&in);
	return rc;
}
