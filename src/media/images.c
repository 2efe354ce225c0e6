/* images.c - media_make_images(): the thumbnail and poster of a clip. */
#include "kindling/media.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libswscale/swscale.h>

#include "kindling/err.h"
#include "kindling/log.h"
#include "media/frames.h"
#include "media/picture.h"
#include "media/lav_compat.h"

#define THUMB_W 320
#define POSTER_MAX 1280
#define THUMB_Q 4
#define POSTER_Q 3
#define UNKNOWN_LENGTH_S 10.0 /* how far to look when the length is unknown */
#define UNKNOWN_LENGTH_KEYS 6

/* Where to look, as fractions of the length: past the opening (titles,
 * someone walking away from the camera), before the end (packing up). */
static const double first_look[] = {0.10, 0.175, 0.25, 0.325, 0.40};
/* When every one of those is black or blank: a lens cap, a slow start. */
static const double second_look[] = {0.50, 0.60, 0.70, 0.80, 0.90};

struct pick {
	AVFrame *src;   /* the decoded frame, kept for the poster */
	AVFrame *thumb; /* it as a thumbnail */
	double score;
	bool usable;
	int64_t pts;
};

/* Score the frame the decoder holds and keep it if it beats the best. */
static int consider(struct pick *best, struct frames_decoder *d, struct SwsContext **sws,
                    const struct media_facts *f, int tw, int th)
{
	AVFrame *thumb = NULL;
	bool usable;
	int rc = picture_upright(sws, d->frame, f, tw, th, &thumb);
	if (rc < 0)
		return rc;
	double score = picture_detail(thumb, &usable);
	log_debug("media", "thumbnail candidate at %.2f s: detail %.1f%s", frames_time(d), score,
	          usable ? "" : " (black or blank)");
	if (best->thumb && (best->usable > usable || (best->usable == usable && best->score >= score))) {
		av_frame_free(&thumb);
		return 0;
	}
	av_frame_free(&best->thumb);
	best->thumb = thumb;
	av_frame_unref(best->src);
	if (av_frame_ref(best->src, d->frame) < 0)
		return KD_ENOMEM;
	best->score = score;
	best->usable = usable;
	best->pts = d->frame->pts;
	return 0;
}

static int look_at(struct pick *best, struct frames_decoder *d, struct SwsContext **sws,
                   const struct media_facts *f, int tw, int th, const double *fractions, int n)
{
	int64_t seen = AV_NOPTS_VALUE;
	for (int i = 0; i < n; i++) {
		int rc = frames_at(d, fractions[i] * f->duration_s);
		if (rc < 0)
			return rc;
		/* Short clips land on the same frame twice. */
		if (rc == 1 || d->frame->pts == seen)
			continue;
		seen = d->frame->pts;
		rc = consider(best, d, sws, f, tw, th);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* No length to take fractions of: the keyframes of the first seconds. */
static int look_at_start(struct pick *best, struct frames_decoder *d, struct SwsContext **sws,
                         const struct media_facts *f, int tw, int th)
{
	for (int keys = 0; keys < UNKNOWN_LENGTH_KEYS;) {
		int rc = frames_next(d);
		if (rc < 0)
			return rc;
		if (rc == 1 || frames_time(d) > UNKNOWN_LENGTH_S)
			break;
		if (!lav_frame_is_key(d->frame))
			continue;
		keys++;
		rc = consider(best, d, sws, f, tw, th);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int media_make_images(const char *path, const struct media_facts *f, const char *thumb_path,
                      const char *poster_path, char *err, size_t errlen)
{
	struct frames_decoder d;
	struct SwsContext *sws_thumb = NULL, *sws_poster = NULL;
	struct pick best = {0};
	AVFrame *poster = NULL;
	int rc;

	memset(&d, 0, sizeof d);
	if (errlen)
		err[0] = '\0';
	if (f->width <= 0 || f->height <= 0) {
		snprintf(err, errlen, "the video's picture size is unknown");
		return KD_EINVAL;
	}
	int tw = THUMB_W;
	int th = picture_even((double)THUMB_W * f->height / f->width);
	if (th > 4 * THUMB_W)
		th = 4 * THUMB_W;
	/* At most POSTER_MAX on the longer side, never larger than shown. */
	double s = fmin(1.0, (double)POSTER_MAX / fmax(f->width, f->height));
	int pw = picture_even_down(f->width * s), ph = picture_even_down(f->height * s);

	best.src = av_frame_alloc();
	if (!best.src) {
		rc = KD_ENOMEM;
		goto out;
	}
	bool known = f->duration_s > 0;
	rc = frames_decoder_open(&d, path, f, known ? FRAMES_ALL : FRAMES_KEYS, err, errlen);
	if (rc < 0)
		goto out;

	if (known) {
		rc = look_at(&best, &d, &sws_thumb, f, tw, th, first_look,
		             (int)(sizeof first_look / sizeof *first_look));
		if (rc == 0 && !best.usable)
			rc = look_at(&best, &d, &sws_thumb, f, tw, th, second_look,
			             (int)(sizeof second_look / sizeof *second_look));
	} else {
		rc = look_at_start(&best, &d, &sws_thumb, f, tw, th);
	}
	if (rc < 0)
		goto out;
	if (!best.thumb) {
		/* Seeking found nothing: the very first picture, if any. */
		frames_set_mode(&d, FRAMES_ALL);
		rc = frames_at(&d, 0);
		if (rc == 0)
			rc = consider(&best, &d, &sws_thumb, f, tw, th);
		if (rc < 0)
			goto out;
		if (!best.thumb) {
			snprintf(err, errlen, "no picture could be decoded from this video: the file is "
			                      "damaged; copy it again from the camera or card");
			rc = KD_EINVAL;
			goto out;
		}
	}

	rc = picture_upright(&sws_poster, best.src, f, pw, ph, &poster);
	if (rc < 0) {
		snprintf(err, errlen, "the picture could not be converted");
		goto out;
	}
	rc = picture_write_jpeg(poster, POSTER_Q, poster_path, err, errlen);
	if (rc < 0)
		goto out;
	rc = picture_write_jpeg(best.thumb, THUMB_Q, thumb_path, err, errlen);
out:
	if (rc == KD_ENOMEM && errlen && !err[0])
		snprintf(err, errlen, "out of memory");
	av_frame_free(&poster);
	av_frame_free(&best.thumb);
	av_frame_free(&best.src);
	sws_freeContext(sws_thumb);
	sws_freeContext(sws_poster);
	frames_decoder_close(&d);
	return rc;
}
