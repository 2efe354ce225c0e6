/* storyboard.c - media_make_storyboard(): a sprite sheet and its WebVTT. */
#include "kindling/media.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libswscale/swscale.h>

#include "kindling/buf.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/log.h"
#include "media/frames.h"
#include "media/picture.h"

#define TILE_W 160
#define COLUMNS 10
#define MAX_TILES 100
#define TILE_Q 5

struct board {
	AVFrame *sprite;
	int n;           /* tiles */
	int cols;
	int tw, th;
	int64_t step_ms; /* time between tiles */
	int64_t total_ms;
	int placed;      /* tiles that got a picture */
};

static void place(struct board *b, int i, const AVFrame *tile)
{
	picture_blit(b->sprite, (i % b->cols) * b->tw, (i / b->cols) * b->th, tile);
	b->placed++;
}

static double tile_time(const struct board *b, int i)
{
	return (double)i * (double)b->step_ms / 1000;
}

/*
 * Keyframes only, read straight through: each tile takes the keyframe
 * nearest its time.  A frame is scaled only when a tile takes it.
 */
static int fill_from_keyframes(struct board *b, struct frames_decoder *d, struct SwsContext **sws,
                               const struct media_facts *f)
{
	AVFrame *held = av_frame_alloc(), *held_tile = NULL, *cur_tile = NULL;
	double held_t = 0;
	int next = 0, rc = 0;

	if (!held)
		return KD_ENOMEM;
	while (next < b->n) {
		rc = frames_next(d);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			rc = 0;
			break;
		}
		double t = frames_time(d);
		while (next < b->n && tile_time(b, next) <= t) {
			double ti = tile_time(b, next);
			if (held->buf[0] && ti - held_t < t - ti) {
				if (!held_tile && (rc = picture_upright(sws, held, f, b->tw, b->th, &held_tile)) < 0)
					goto out;
				place(b, next, held_tile);
			} else {
				if (!cur_tile && (rc = picture_upright(sws, d->frame, f, b->tw, b->th, &cur_tile)) < 0)
					goto out;
				place(b, next, cur_tile);
			}
			next++;
		}
		av_frame_unref(held);
		av_frame_move_ref(held, d->frame);
		held_t = t;
		av_frame_free(&held_tile);
		held_tile = cur_tile;
		cur_tile = NULL;
	}
	/* Past the last keyframe every tile repeats it. */
	for (; next < b->n && held->buf[0]; next++) {
		if (!held_tile && (rc = picture_upright(sws, held, f, b->tw, b->th, &held_tile)) < 0)
			goto out;
		place(b, next, held_tile);
	}
out:
	av_frame_free(&cur_tile);
	av_frame_free(&held_tile);
	av_frame_free(&held);
	return rc;
}

/* One look per tile; frames_at decodes on instead of seeking when no
 * keyframe lies between two tiles. */
static int fill_by_seeking(struct board *b, struct frames_decoder *d, struct SwsContext **sws,
                           const struct media_facts *f)
{
	AVFrame *tile = NULL;
	int64_t shown = AV_NOPTS_VALUE;
	int rc = 0;

	for (int i = 0; i < b->n; i++) {
		rc = frames_at(d, tile_time(b, i));
		if (rc < 0)
			goto out;
		rc = 0;
		if (d->frame->buf[0] && d->frame->pts != shown) {
			av_frame_free(&tile);
			if ((rc = picture_upright(sws, d->frame, f, b->tw, b->th, &tile)) < 0)
				goto out;
			shown = d->frame->pts;
		}
		/* No new frame: the tile repeats the one before. */
		if (tile)
			place(b, i, tile);
	}
out:
	av_frame_free(&tile);
	return rc;
}

static void put_time(struct kd_buf *vtt, int64_t ms)
{
	kd_buf_printf(vtt, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64, ms / 3600000,
	              ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

int media_make_storyboard(const char *path, const struct media_facts *f,
                          const char *sprite_path, const char *vtt_path,
                          const char *sprite_url, char *err, size_t errlen)
{
	struct frames_decoder d;
	struct SwsContext *sws = NULL;
	struct board b = {0};
	struct kd_buf vtt = KD_BUF_INIT(1 << 20);
	int rc;

	memset(&d, 0, sizeof d);
	if (errlen)
		err[0] = '\0';
	if (f->width <= 0 || f->height <= 0) {
		snprintf(err, errlen, "the video's picture size is unknown");
		return KD_EINVAL;
	}
	if (!(f->duration_s > 0)) {
		snprintf(err, errlen, "the length of the video is unknown, so it has no storyboard");
		return KD_EINVAL;
	}

	/* Integer milliseconds, so the cues meet exactly and the last one ends
	 * at the duration written in it. */
	b.total_ms = llround(f->duration_s * 1000);
	if (b.total_ms < 1)
		b.total_ms = 1;
	int64_t step_s = (b.total_ms + MAX_TILES * 1000 - 1) / (MAX_TILES * 1000);
	b.step_ms = 1000 * (step_s < 1 ? 1 : step_s);
	b.n = (int)((b.total_ms + b.step_ms - 1) / b.step_ms);
	b.cols = b.n < COLUMNS ? b.n : COLUMNS;
	b.tw = TILE_W;
	b.th = picture_even((double)TILE_W * f->height / f->width);
	if (b.th > 4 * TILE_W)
		b.th = 4 * TILE_W;
	int rows = (b.n + b.cols - 1) / b.cols;
	b.sprite = picture_new(b.cols * b.tw, rows * b.th);
	if (!b.sprite) {
		rc = KD_ENOMEM;
		goto out;
	}

	rc = frames_decoder_open(&d, path, f, FRAMES_FAST, err, errlen);
	if (rc < 0)
		goto out;
	/* Keyframes at least as dense as the tiles: decoding only them, in
	 * one pass, is the cheapest.  Otherwise look once per tile. */
	int keys = frames_index_keyframes(&d);
	bool by_keys = keys >= 2 && f->duration_s / keys <= (double)b.step_ms / 1000;
	log_debug("media", "storyboard: %d tiles every %" PRId64 " ms, %d keyframes, %s", b.n,
	          b.step_ms, keys, by_keys ? "keyframes only" : "one look per tile");
	if (by_keys) {
		frames_set_mode(&d, FRAMES_KEYS);
		rc = fill_from_keyframes(&b, &d, &sws, f);
	} else {
		rc = fill_by_seeking(&b, &d, &sws, f);
	}
	if (rc < 0)
		goto out;
	if (b.placed == 0) {
		snprintf(err, errlen, "no picture could be decoded from this video: the file is "
		                      "damaged; copy it again from the camera or card");
		rc = KD_EINVAL;
		goto out;
	}

	kd_buf_puts(&vtt, "WEBVTT\n\n");
	for (int i = 0; i < b.n; i++) {
		int64_t start = i * b.step_ms;
		int64_t end = start + b.step_ms < b.total_ms ? start + b.step_ms : b.total_ms;
		put_time(&vtt, start);
		kd_buf_puts(&vtt, " --> ");
		put_time(&vtt, end);
		if (kd_buf_printf(&vtt, "\n%s#xywh=%d,%d,%d,%d\n\n", sprite_url, (i % b.cols) * b.tw,
		                  (i / b.cols) * b.th, b.tw, b.th) < 0) {
			snprintf(err, errlen, "the sprite address is too long");
			rc = KD_EINVAL;
			goto out;
		}
	}

	/* The sprite first: the WebVTT never points at a missing picture. */
	rc = picture_write_jpeg(b.sprite, TILE_Q, sprite_path, err, errlen);
	if (rc < 0)
		goto out;
	if (kd_write_file_atomic(vtt_path, vtt.data, vtt.len) < 0) {
		snprintf(err, errlen, "could not write %s: %s", vtt_path, strerror(errno));
		rc = KD_EIO;
		goto out;
	}
out:
	if (rc == KD_ENOMEM && errlen && !err[0])
		snprintf(err, errlen, "out of memory");
	kd_buf_release(&vtt);
	av_frame_free(&b.sprite);
	sws_freeContext(sws);
	frames_decoder_close(&d);
	return rc;
}
