/* pictures.c - the thumbnail, poster and storyboard of a clip, from one
 * pass over its video (media_make_pictures; media_make_images and
 * media_make_storyboard are each half of it), and with the rendition all
 * a clip's outputs made durable at once (media_make_outputs). */
#include "kindling/media.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libswscale/swscale.h>

#include "kindling/buf.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "media/blur.h"
#include "media/frames.h"
#include "media/lav_compat.h"
#include "media/outputs.h"
#include "media/picture.h"
#include "media/rendition.h"

#define THUMB_W 320
#define POSTER_MAX 1280
#define THUMB_Q 4
#define POSTER_Q 3
#define UNKNOWN_LENGTH_S 10.0 /* how far to look when the length is unknown */
#define UNKNOWN_LENGTH_KEYS 6

#define TILE_W 160
#define COLUMNS 10
#define MAX_TILES 100
#define TILE_Q 5

/* Where to look for the thumbnail, as fractions of the length: past the
 * opening (titles, someone walking away from the camera), before the end
 * (packing up).  The second look counts only when every one of the first
 * is black or blank: a lens cap, a slow start. */
static const double first_look[] = {0.10, 0.175, 0.25, 0.325, 0.40};
static const double second_look[] = {0.50, 0.60, 0.70, 0.80, 0.90};
#define LOOKS 5

/* The regions to blur, and the clock of the frames they are timed by. */
struct hide {
	const struct media_blur *blur; /* NULL: nothing to blur */
	double slack;                  /* blur_slack() */
	int64_t origin;                /* the file's start, in tb */
	AVRational tb;                 /* the video stream's time base */
};

/* Blur in img (made from frame) the regions that apply to frame. */
static int hide_in(const struct hide *h, AVFrame *img, const AVFrame *frame)
{
	if (!h->blur)
		return 0;
	double t = (double)(frame->pts - h->origin) * av_q2d(h->tb);
	int rc = blur_frame(img, h->blur, t, h->slack);
	return rc < 0 ? rc : 0;
}

/* The best candidate of one look. */
struct pick {
	AVFrame *src;   /* the decoded frame, kept for the poster */
	AVFrame *thumb; /* it as a thumbnail */
	double score;
	bool usable;
};

struct thumbs {
	bool on;
	const struct hide *hide;
	int tw, th;
	struct SwsContext *sws;
	struct pick look[2];   /* first, second */
	int64_t seen;          /* the last candidate frame, by pts */
	bool have_seen;
};

struct board {
	bool on;
	const struct hide *hide;
	AVFrame *sprite;
	int n;           /* tiles */
	int cols;
	int tw, th;
	int64_t step_ms; /* time between tiles */
	int64_t total_ms;
	int placed;      /* tiles that got a picture */
	struct SwsContext *sws;
	AVFrame *tile;   /* the last tile made, of the frame at tile_pts */
	int64_t tile_pts;
};

struct work {
	const struct media_facts *f;
	struct hide hide;
	struct thumbs t;
	struct board b;
	/* the moments of the pass: thumbnail looks first, then tiles */
	double *times;
	int *who;        /* < 2 * LOOKS: a look; else the tile who - 2 * LOOKS */
	int n;
};

/* ------------------------------------------------------------ thumbnail */

/* Score a candidate frame and keep it if it beats the best of its look. */
static int consider(struct thumbs *t, struct pick *best, const AVFrame *frame,
                    const struct media_facts *f)
{
	if (t->have_seen && frame->pts == t->seen)
		return 0; /* short clips land on the same frame twice */
	t->seen = frame->pts;
	t->have_seen = true;
	AVFrame *thumb = NULL;
	bool usable;
	int rc = picture_upright(&t->sws, frame, f, t->tw, t->th, &thumb);
	if (rc == 0)
		rc = hide_in(t->hide, thumb, frame);
	if (rc < 0) {
		av_frame_free(&thumb);
		return rc;
	}
	double score = picture_detail(thumb, &usable);
	log_debug("media", "thumbnail candidate at pts %" PRId64 ": detail %.1f%s", frame->pts,
	          score, usable ? "" : " (black or blank)");
	if (best->thumb &&
	    (best->usable > usable || (best->usable == usable && best->score >= score))) {
		av_frame_free(&thumb);
		return 0;
	}
	av_frame_free(&best->thumb);
	best->thumb = thumb;
	if (!best->src && !(best->src = av_frame_alloc()))
		return KD_ENOMEM;
	av_frame_unref(best->src);
	if (av_frame_ref(best->src, frame) < 0)
		return KD_ENOMEM;
	best->score = score;
	best->usable = usable;
	return 0;
}

/* The first look's best when it shows something, else the best of both. */
static const struct pick *chosen(const struct thumbs *t)
{
	const struct pick *a = &t->look[0], *b = &t->look[1];
	if (!a->thumb || (!a->usable && b->thumb && (b->usable || b->score > a->score)))
		return b->thumb ? b : NULL;
	return a;
}

/* No length to take fractions of: the keyframes of the first seconds. */
static int look_at_start(struct thumbs *t, struct frames_decoder *d, const struct media_facts *f)
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
		rc = consider(t, &t->look[0], d->frame, f);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int write_images(struct thumbs *t, const struct media_facts *f, struct outputs *out,
                        const char *thumb_path, const char *poster_path, char *err,
                        size_t errlen)
{
	const struct pick *best = chosen(t);
	struct SwsContext *sws = NULL;
	AVFrame *poster = NULL;
	if (!best) {
		snprintf(err, errlen, "no picture could be decoded from this video: the file is "
		                      "damaged; copy it again from the camera or card");
		return KD_EINVAL;
	}
	/* At most POSTER_MAX on the longer side, never larger than shown. */
	double s = fmin(1.0, (double)POSTER_MAX / fmax(f->width, f->height));
	int pw = picture_even_down(f->width * s), ph = picture_even_down(f->height * s);
	int rc = picture_upright(&sws, best->src, f, pw, ph, &poster);
	if (rc == 0)
		rc = hide_in(t->hide, poster, best->src);
	if (rc < 0)
		snprintf(err, errlen, "the picture could not be converted");
	if (rc == 0)
		rc = picture_write_jpeg(poster, POSTER_Q, out, poster_path, err, errlen);
	if (rc == 0)
		rc = picture_write_jpeg(best->thumb, THUMB_Q, out, thumb_path, err, errlen);
	av_frame_free(&poster);
	sws_freeContext(sws);
	return rc;
}

/* ------------------------------------------------------------ storyboard */

static double tile_time(const struct board *b, int i)
{
	return (double)i * (double)b->step_ms / 1000;
}

/* Lay the board out: integer milliseconds, so the cues meet exactly and
 * the last one ends at the duration written in it. */
static int board_new(struct board *b, const struct media_facts *f)
{
	b->total_ms = llround(f->duration_s * 1000);
	if (b->total_ms < 1)
		b->total_ms = 1;
	int64_t step_s = (b->total_ms + MAX_TILES * 1000 - 1) / (MAX_TILES * 1000);
	b->step_ms = 1000 * (step_s < 1 ? 1 : step_s);
	b->n = (int)((b->total_ms + b->step_ms - 1) / b->step_ms);
	b->cols = b->n < COLUMNS ? b->n : COLUMNS;
	b->tw = TILE_W;
	b->th = picture_even((double)TILE_W * f->height / f->width);
	if (b->th > 4 * TILE_W)
		b->th = 4 * TILE_W;
	int rows = (b->n + b->cols - 1) / b->cols;
	b->sprite = picture_new(b->cols * b->tw, rows * b->th);
	return b->sprite ? 0 : KD_ENOMEM;
}

/* Tile i shows frame: scaled once however many tiles it serves. */
static int place(struct board *b, int i, const AVFrame *frame, const struct media_facts *f)
{
	if (!b->tile || frame->pts != b->tile_pts) {
		av_frame_free(&b->tile);
		int rc = picture_upright(&b->sws, frame, f, b->tw, b->th, &b->tile);
		if (rc == 0)
			rc = hide_in(b->hide, b->tile, frame);
		if (rc < 0) {
			av_frame_free(&b->tile);
			return rc;
		}
		b->tile_pts = frame->pts;
	}
	picture_blit(b->sprite, (i % b->cols) * b->tw, (i / b->cols) * b->th, b->tile);
	b->placed++;
	return 0;
}

static void put_time(struct kd_buf *vtt, int64_t ms)
{
	kd_buf_printf(vtt, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64, ms / 3600000,
	              ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

static int write_board(struct board *b, struct outputs *out, const char *sprite_path,
                       const char *vtt_path, const char *sprite_url, char *err, size_t errlen)
{
	struct kd_buf vtt = KD_BUF_INIT(1 << 20);
	int rc = 0;
	if (b->placed == 0) {
		snprintf(err, errlen, "no picture could be decoded from this video: the file is "
		                      "damaged; copy it again from the camera or card");
		return KD_EINVAL;
	}
	kd_buf_puts(&vtt, "WEBVTT\n\n");
	for (int i = 0; i < b->n; i++) {
		int64_t start = i * b->step_ms;
		int64_t end = start + b->step_ms < b->total_ms ? start + b->step_ms : b->total_ms;
		put_time(&vtt, start);
		kd_buf_puts(&vtt, " --> ");
		put_time(&vtt, end);
		if (kd_buf_printf(&vtt, "\n%s#xywh=%d,%d,%d,%d\n\n", sprite_url, (i % b->cols) * b->tw,
		                  (i / b->cols) * b->th, b->tw, b->th) < 0) {
			snprintf(err, errlen, "the sprite address is too long");
			rc = KD_EINVAL;
			goto out;
		}
	}
	rc = picture_write_jpeg(b->sprite, TILE_Q, out, sprite_path, err, errlen);
	if (rc == 0)
		rc = outputs_write(out, vtt_path, vtt.data, vtt.len, err, errlen);
out:
	kd_buf_release(&vtt);
	return rc;
}

/* ------------------------------------------------------------ the pass */

static int take(void *ctx, int i, const AVFrame *frame)
{
	struct work *w = ctx;
	int who = w->who[i];
	if (who < 2 * LOOKS)
		return consider(&w->t, &w->t.look[who / LOOKS], frame, w->f);
	return place(&w->b, who - 2 * LOOKS, frame, w->f);
}

/* The moments to look at, in time order (ties: looks first): the tiles
 * and the first look, or the second look alone. */
static void moments(struct work *w, bool second)
{
	int cap = (w->t.on ? LOOKS : 0) + (w->b.on && !second ? w->b.n : 0);
	free(w->times);
	free(w->who);
	w->n = 0;
	w->times = kd_calloc((size_t)(cap ? cap : 1), sizeof *w->times);
	w->who = kd_calloc((size_t)(cap ? cap : 1), sizeof *w->who);
	for (int k = 0; w->t.on && k < LOOKS; k++) {
		w->times[w->n] = (second ? second_look[k] : first_look[k]) * w->f->duration_s;
		w->who[w->n++] = second ? LOOKS + k : k;
	}
	for (int i = 0; w->b.on && !second && i < w->b.n; i++) {
		w->times[w->n] = tile_time(&w->b, i);
		w->who[w->n++] = 2 * LOOKS + i;
	}
	/* Insertion sort: a few hundred at most, nearly in order already. */
	for (int i = 1; i < w->n; i++) {
		double t = w->times[i];
		int who = w->who[i], j = i;
		for (; j > 0 && (w->times[j - 1] > t || (w->times[j - 1] == t && w->who[j - 1] > who));
		     j--) {
			w->times[j] = w->times[j - 1];
			w->who[j] = w->who[j - 1];
		}
		w->times[j] = t;
		w->who[j] = who;
	}
}

/* Every moment shows the first picture, when the pass found none. */
static int first_picture(struct work *w, struct frames_decoder *d)
{
	frames_set_mode(d, FRAMES_ALL);
	int rc = frames_at(d, 0);
	for (int i = 0; rc == 0 && i < w->n; i++)
		rc = take(w, i, d->frame);
	return rc < 0 ? rc : 0;
}

/* The pictures, their files joining out uncommitted. */
static int pictures_make(const char *path, const struct media_facts *f,
                         const struct media_picture_paths *p, const struct media_blur *blur,
                         struct outputs *out, char *err, size_t errlen)
{
	struct frames_decoder d;
	struct work w = {.f = f};
	int rc;

	w.t.hide = w.b.hide = &w.hide;

	memset(&d, 0, sizeof d);
	if (errlen)
		err[0] = '\0';
	w.t.on = p->thumb_path && p->poster_path;
	w.b.on = p->sprite_path && p->vtt_path && p->sprite_url;
	if (f->width <= 0 || f->height <= 0) {
		snprintf(err, errlen, "the video's picture size is unknown");
		return KD_EINVAL;
	}
	bool known = f->duration_s > 0;
	if (w.b.on && !known) {
		snprintf(err, errlen, "the length of the video is unknown, so it has no storyboard");
		return KD_EINVAL;
	}
	w.t.tw = THUMB_W;
	w.t.th = picture_even((double)THUMB_W * f->height / f->width);
	if (w.t.th > 4 * THUMB_W)
		w.t.th = 4 * THUMB_W;
	if (w.b.on && (rc = board_new(&w.b, f)) < 0)
		goto out;

	rc = frames_decoder_open(&d, path, f, known ? FRAMES_ALL : FRAMES_KEYS, err, errlen);
	if (rc < 0)
		goto out;
	if (blur && blur->n > 0) {
		/* Times on the clip are read from a player, which starts at
		 * the file's start; the stream may start a little after. */
		int64_t file_start = d.in.fmt->start_time;
		w.hide.blur = blur;
		w.hide.tb = d.st->time_base;
		w.hide.origin = file_start == AV_NOPTS_VALUE
		                        ? d.start
		                        : av_rescale_q(file_start, AV_TIME_BASE_Q, d.st->time_base);
		w.hide.slack = blur_slack(f, (double)(d.start - w.hide.origin) * av_q2d(d.st->time_base));
	}
	if (known) {
		moments(&w, false);
		rc = frames_pass(&d, w.times, w.n, take, &w);
		if (rc == 1)
			rc = first_picture(&w, &d);
		/* Only black or blank in the first look: once more, further on. */
		if (rc == 0 && w.t.on && w.t.look[0].thumb && !w.t.look[0].usable) {
			moments(&w, true);
			rc = frames_pass(&d, w.times, w.n, take, &w);
			rc = rc == 1 ? 0 : rc;
		}
	} else {
		rc = look_at_start(&w.t, &d, f);
		if (rc == 0 && !chosen(&w.t)) {
			/* Keyframes found nothing: the very first picture, if any. */
			frames_set_mode(&d, FRAMES_ALL);
			rc = frames_at(&d, 0);
			rc = rc == 0 ? consider(&w.t, &w.t.look[0], d.frame, f) : rc < 0 ? rc : 0;
		}
	}
	if (rc < 0)
		goto out;

	/* The sprite before its WebVTT, the poster before the thumbnail, and
	 * all of them named at once: none ever points at a missing file. */
	if (w.t.on && (rc = write_images(&w.t, f, out, p->thumb_path, p->poster_path, err,
	                                 errlen)) < 0)
		goto out;
	if (w.b.on)
		rc = write_board(&w.b, out, p->sprite_path, p->vtt_path, p->sprite_url, err, errlen);
out:
	if (rc == KD_ENOMEM && errlen && !err[0])
		snprintf(err, errlen, "out of memory");
	if (rc == KD_EINVAL && errlen && !err[0])
		snprintf(err, errlen, "the pictures of this video could not be made (or blurred)");
	for (int k = 0; k < 2; k++) {
		av_frame_free(&w.t.look[k].src);
		av_frame_free(&w.t.look[k].thumb);
	}
	sws_freeContext(w.t.sws);
	av_frame_free(&w.b.sprite);
	av_frame_free(&w.b.tile);
	sws_freeContext(w.b.sws);
	free(w.times);
	free(w.who);
	frames_decoder_close(&d);
	return rc;
}

int media_make_pictures(const char *path, const struct media_facts *f,
                        const struct media_picture_paths *p, const struct media_blur *blur,
                        char *err, size_t errlen)
{
	struct outputs out;
	outputs_init(&out);
	int rc = pictures_make(path, f, p, blur, &out, err, errlen);
	if (rc == 0)
		rc = outputs_commit(&out, err, errlen);
	outputs_release(&out);
	return rc;
}

/* The rendition, made in a thread of its own beside the pictures. */
struct rendition_job {
	const char *path, *video_path;
	const struct media_facts *f;
	const struct media_blur *blur;
	struct outputs out;
	char err[KD_ERRMSG_MAX];
	int rc;
};

static void *rendition_thread(void *arg)
{
	struct rendition_job *j = arg;
	j->rc = rendition_make(j->path, j->f, j->video_path, j->blur, &j->out, j->err, sizeof j->err);
	return NULL;
}

int media_make_outputs(const char *path, const struct media_facts *f,
                       const struct media_picture_paths *p, const char *video_path,
                       const struct media_blur *blur, char *err, size_t errlen)
{
	/* The rendition mostly waits for the disk and the pictures for the
	 * processor: side by side, a long clip takes the longer of the two
	 * rather than both. */
	struct rendition_job j = {.path = path, .video_path = video_path, .f = f, .blur = blur};
	struct outputs out;
	outputs_init(&out);
	outputs_init(&j.out);
	pthread_t t;
	bool threaded = pthread_create(&t, NULL, rendition_thread, &j) == 0;
	int rc = pictures_make(path, f, p, blur, &out, err, errlen);
	if (threaded)
		pthread_join(t, NULL);
	else
		rendition_thread(&j);
	/* The pictures' reason first: the file's fault shows there first. */
	if (rc == 0 && j.rc != 0) {
		rc = j.rc;
		snprintf(err, errlen, "%s", j.err);
	}
	if (rc == 0)
		rc = outputs_move(&out, &j.out, err, errlen);
	if (rc == 0)
		rc = outputs_commit(&out, err, errlen);
	outputs_release(&j.out);
	outputs_release(&out);
	return rc;
}

int media_make_images(const char *path, const struct media_facts *f, const char *thumb_path,
                      const char *poster_path, char *err, size_t errlen)
{
	struct media_picture_paths p = {.thumb_path = thumb_path, .poster_path = poster_path};
	return media_make_pictures(path, f, &p, NULL, err, errlen);
}

int media_make_storyboard(const char *path, const struct media_facts *f,
                          const char *sprite_path, const char *vtt_path,
                          const char *sprite_url, char *err, size_t errlen)
{
	struct media_picture_paths p = {.sprite_path = sprite_path, .vtt_path = vtt_path,
	                                .sprite_url = sprite_url};
	return media_make_pictures(path, f, &p, NULL, err, errlen);
}
