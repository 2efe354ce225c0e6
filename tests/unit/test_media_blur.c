/*
 * test_media_blur.c - regions blurred in what a clip's processing makes
 * (media_make_outputs with struct media_blur; src/media/blur.c), measured
 * on the files themselves, decoded here with libavcodec.
 *
 * The clips are made with the ffmpeg command line: a fine checkerboard
 * (8 px squares: 4 px on the thumbnail, 2 px on a storyboard tile), which
 * nothing can blur and keep.  Each output is made twice, with the regions
 * and without, and compared region against the same region: inside, the
 * detail (mean absolute Laplacian of the brightness) must fall to a small
 * fraction of what the unblurred output has there; away from the region's
 * edge it must stay what it was.
 */
#include "helpers.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "kindling/fs.h"
#include "kindling/jobs.h"
#include "kindling/media.h"
#include "kindling/mem.h"
#include "kindling/paths.h"

static char dir[64];

#define FF "ffmpeg -nostdin -v error -y"
/* Blurred: at most this share of the unblurred detail left inside. */
#define GONE 0.10
/* Sharp: the detail away from the region within this much of before. */
#define KEPT 0.15

static char *in_dir(const char *name)
{
	return kd_asprintf("%s/%s", dir, name);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int make_clips(void **state)
{
	(void)state;
	kd_log_set_level(KD_LOG_WARN);
	strcpy(dir, "/tmp/kd-blur-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	int rc = 0;
	/* Browser-ready (H.264 + AAC): without regions it is remuxed. */
	rc |= run(FF " -f lavfi -i \"nullsrc=s=640x360:r=25:d=4,format=yuv420p,"
	          "geq=lum='if(mod(floor(X/8)+floor(Y/8),2),210,40)':cb=128:cr=128\" "
	          "-f lavfi -i sine=d=4 -c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p "
	          "-c:a aac -b:a 48k %s/pattern.mp4", dir);
	/* The same, stored sideways with a matrix saying to turn it a
	 * quarter: shown 360 x 640. */
	rc |= run(FF " -i %s/pattern.mp4 -c copy -metadata:s:v:0 rotate=90 %s/rot.mp4", dir, dir);
	return rc == 0 ? 0 : -1;
}

static int remove_clips(void **state)
{
	(void)state;
	if (!getenv("KEEP_MEDIA_CLIPS"))
		kd_remove_tree(dir);
	return 0;
}

/* ------------------------------------------------------------ decoding */

/* One decoded picture's brightness, at t seconds from the file's start. */
struct pic {
	double t;
	int w, h;
	uint8_t *y;
};

struct pics {
	struct pic *p;
	int n;
};

static void pics_free(struct pics *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->p[i].y);
	free(s->p);
	s->p = NULL;
	s->n = 0;
}

/* Every picture of the file's video (a JPEG is one). */
static struct pics decode(const char *path)
{
	struct pics s = {0};
	AVFormatContext *ic = NULL;
	if (avformat_open_input(&ic, path, NULL, NULL) < 0 || avformat_find_stream_info(ic, NULL) < 0)
		fail_msg("cannot open %s", path);
	int idx = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	assert_true(idx >= 0);
	AVStream *st = ic->streams[idx];
	const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
	AVCodecContext *dec = avcodec_alloc_context3(codec);
	avcodec_parameters_to_context(dec, st->codecpar);
	assert_int_equal(avcodec_open2(dec, codec, NULL), 0);
	int64_t start = ic->start_time == AV_NOPTS_VALUE
	                        ? 0
	                        : av_rescale_q(ic->start_time, AV_TIME_BASE_Q, st->time_base);
	AVPacket *pkt = av_packet_alloc();
	AVFrame *fr = av_frame_alloc();
	bool eof = false;
	while (!eof) {
		int ret = av_read_frame(ic, pkt);
		if (ret < 0) {
			eof = true;
			avcodec_send_packet(dec, NULL);
		} else if (pkt->stream_index == idx) {
			avcodec_send_packet(dec, pkt);
		}
		av_packet_unref(pkt);
		while (avcodec_receive_frame(dec, fr) == 0) {
			s.p = realloc(s.p, sizeof *s.p * (size_t)(s.n + 1));
			struct pic *p = &s.p[s.n++];
			int64_t ts = fr->best_effort_timestamp;
			p->t = ts == AV_NOPTS_VALUE ? 0 : (double)(ts - start) * av_q2d(st->time_base);
			p->w = fr->width;
			p->h = fr->height;
			p->y = malloc((size_t)p->w * p->h);
			for (int y = 0; y < p->h; y++)
				memcpy(p->y + (size_t)y * p->w, fr->data[0] + (size_t)y * fr->linesize[0],
				       (size_t)p->w);
			av_frame_unref(fr);
		}
	}
	av_frame_free(&fr);
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&ic);
	if (s.n == 0)
		fail_msg("no picture in %s", path);
	return s;
}

/* ------------------------------------------------------------ measuring */

struct rect {
	int x0, y0, x1, y1;
};

/* A region's rectangle on a w x h picture, as the blur rounds it. */
static struct rect on(const struct media_blur_region *r, int w, int h)
{
	return (struct rect){(int)floor(r->x * w), (int)floor(r->y * h),
	                     (int)ceil((r->x + r->w) * w), (int)ceil((r->y + r->h) * h)};
}

static struct rect grow(struct rect r, int by)
{
	return (struct rect){r.x0 - by, r.y0 - by, r.x1 + by, r.y1 + by};
}

static bool in_rect(struct rect r, int x, int y)
{
	return x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;
}

/* Mean absolute Laplacian of the brightness over the pixels of the
 * window (x, y, w, h) of p that are inside `inside` (when inside_only) or
 * outside `away` (otherwise). */
static double detail_in(const struct pic *p, int wx, int wy, int ww, int wh, struct rect r,
                        bool inside_only)
{
	double sum = 0;
	long n = 0;
	for (int y = wy + 1; y < wy + wh - 1; y++)
		for (int x = wx + 1; x < wx + ww - 1; x++) {
			if (in_rect(r, x - wx, y - wy) != inside_only)
				continue;
			const uint8_t *q = p->y + (size_t)y * p->w + x;
			sum += fabs(4.0 * q[0] - q[-1] - q[1] - q[-p->w] - q[p->w]);
			n++;
		}
	if (n == 0)
		fail_msg("nothing to measure");
	return sum / (double)n;
}

/* The extremes of what compare() measured since the last report():
 * inside blurred regions (share of before left), inside regions out of
 * their time, and away from the regions. */
static double worst_in = 0, worst_timed = 0, worst_out = 0;

static void report(const char *what)
{
	printf("# %s: at most %.1f%% of the detail left inside blurred regions; "
	       "the rest within %.1f%% of the unblurred%s",
	       what, 100 * worst_in, 100 * worst_out, worst_timed > 0 ? "" : "\n");
	if (worst_timed > 0)
		printf(", regions out of their time within %.1f%%\n", 100 * worst_timed);
	worst_in = worst_timed = worst_out = 0;
}

/* Compare a blurred picture (window) with the unblurred one: detail well
 * inside the region (margin px in from its edge) is at most GONE of
 * before, detail well away from it (margin px out) within KEPT of before
 * (skip_outside: not measured).  what names the picture in messages. */
static void compare(const struct pic *a, const struct pic *b, int wx, int wy, int ww, int wh,
                    const struct media_blur_region *regs, int nregs, int margin, bool blurred,
                    const char *what)
{
	struct rect inner[4], outer[4];
	assert_true(nregs <= 4);
	for (int i = 0; i < nregs; i++) {
		struct rect r = on(&regs[i], ww, wh);
		inner[i] = grow(r, -margin);
		outer[i] = grow(r, margin);
		/* a region at the picture's edge: measured up to the edge */
		if (r.x0 <= 0)
			inner[i].x0 = 0;
		if (r.y0 <= 0)
			inner[i].y0 = 0;
		if (r.x1 >= ww)
			inner[i].x1 = ww;
		if (r.y1 >= wh)
			inner[i].y1 = wh;
		double in_a = detail_in(a, wx, wy, ww, wh, inner[i], true);
		double in_b = detail_in(b, wx, wy, ww, wh, inner[i], true);
		if (in_b < 5)
			fail_msg("%s: the unblurred picture has no detail in region %d to lose (%.2f)",
			         what, i, in_b);
		if (blurred)
			worst_in = fmax(worst_in, in_a / in_b);
		else
			worst_timed = fmax(worst_timed, fabs(in_a / in_b - 1));
		if (blurred && in_a > GONE * in_b)
			fail_msg("%s: region %d kept %.0f%% of its detail (%.2f of %.2f)", what, i,
			         100 * in_a / in_b, in_a, in_b);
		if (!blurred && fabs(in_a / in_b - 1) > KEPT)
			fail_msg("%s: region %d was blurred out of its time (%.2f, unblurred %.2f)", what,
			         i, in_a, in_b);
	}
	/* Away from every region: one rectangle covering them all, grown. */
	struct rect away = outer[0];
	for (int i = 1; i < nregs; i++) {
		away.x0 = away.x0 < outer[i].x0 ? away.x0 : outer[i].x0;
		away.y0 = away.y0 < outer[i].y0 ? away.y0 : outer[i].y0;
		away.x1 = away.x1 > outer[i].x1 ? away.x1 : outer[i].x1;
		away.y1 = away.y1 > outer[i].y1 ? away.y1 : outer[i].y1;
	}
	double out_a = detail_in(a, wx, wy, ww, wh, away, false);
	double out_b = detail_in(b, wx, wy, ww, wh, away, false);
	worst_out = fmax(worst_out, fabs(out_a / out_b - 1));
	if (fabs(out_a / out_b - 1) > KEPT)
		fail_msg("%s: the rest of the picture changed: detail %.2f, unblurred %.2f", what, out_a,
		         out_b);
}

/* The outputs of one clip in a folder of their own. */
struct outs {
	char *thumb, *poster, *sprite, *vtt, *video;
};

static struct outs make(const char *clip, const char *tag, const struct media_blur *blur,
                        double *seconds)
{
	struct outs o = {
		kd_asprintf("%s/%s.thumb.jpg", dir, tag), kd_asprintf("%s/%s.poster.jpg", dir, tag),
		kd_asprintf("%s/%s.sb.jpg", dir, tag), kd_asprintf("%s/%s.sb.vtt", dir, tag),
		kd_asprintf("%s/%s.video.mp4", dir, tag),
	};
	char *src = in_dir(clip);
	struct media_facts f;
	char err[KD_ERRMSG_MAX] = "";
	if (media_probe(src, &f, err, sizeof err) != 0)
		fail_msg("probe %s: %s", clip, err);
	struct media_picture_paths p = {o.thumb, o.poster, o.sprite, o.vtt, "sb.jpg"};
	double t0 = now();
	if (media_make_outputs(src, &f, &p, o.video, blur, err, sizeof err) != 0)
		fail_msg("media_make_outputs %s (%s): %s", clip, tag, err);
	if (seconds)
		*seconds = now() - t0;
	free(src);
	return o;
}

static void outs_free(struct outs *o)
{
	free(o->thumb);
	free(o->poster);
	free(o->sprite);
	free(o->vtt);
	free(o->video);
}

/* The tiles of a storyboard, from its WebVTT: x, y, w, h each. */
static int tiles(const char *vtt, int xywh[][4], int max)
{
	char *text = NULL;
	size_t len;
	assert_int_equal(kd_read_file(vtt, 1 << 20, &text, &len), 0);
	int n = 0;
	for (const char *p = text; (p = strstr(p, "#xywh=")) && n < max; p++) {
		assert_int_equal(sscanf(p, "#xywh=%d,%d,%d,%d", &xywh[n][0], &xywh[n][1], &xywh[n][2],
		                        &xywh[n][3]),
		                 4);
		n++;
	}
	free(text);
	return n;
}

/* The same picture of both files: one picture each. */
static void compare_images(const char *a, const char *b, const struct media_blur_region *regs,
                           int nregs, int margin, const char *what)
{
	struct pics pa = decode(a), pb = decode(b);
	assert_int_equal(pa.p[0].w, pb.p[0].w);
	assert_int_equal(pa.p[0].h, pb.p[0].h);
	compare(&pa.p[0], &pb.p[0], 0, 0, pa.p[0].w, pa.p[0].h, regs, nregs, margin, true, what);
	pics_free(&pa);
	pics_free(&pb);
}

/* ------------------------------------------------------------ tests */

/* A region for the whole clip: every output hides it, and nothing else. */
static void a_region_is_blurred_in_every_output(void **state)
{
	(void)state;
	struct media_blur_region reg = {.from_s = 0, .to_s = 1000, .x = 0.30, .y = 0.25, .w = 0.35,
	                                .h = 0.45};
	struct media_blur blur = {&reg, 1};
	double with_s, without_s;
	struct outs a = make("pattern.mp4", "all", &blur, &with_s);
	struct outs b = make("pattern.mp4", "none", NULL, &without_s);
	printf("# 4 s 640x360: outputs with a region %.0f ms, without (a remux) %.0f ms\n",
	       with_s * 1e3, without_s * 1e3);

	compare_images(a.thumb, b.thumb, &reg, 1, 8, "thumbnail");
	report("thumbnail");
	compare_images(a.poster, b.poster, &reg, 1, 16, "poster");
	report("poster");

	struct pics sa = decode(a.sprite), sb = decode(b.sprite);
	int xywh[16][4];
	int n = tiles(a.vtt, xywh, 16);
	assert_int_equal(n, 4);
	for (int i = 0; i < n; i++) {
		char what[32];
		snprintf(what, sizeof what, "storyboard tile %d", i);
		compare(&sa.p[0], &sb.p[0], xywh[i][0], xywh[i][1], xywh[i][2], xywh[i][3], &reg, 1, 4,
		        true, what);
	}
	report("storyboard tiles");
	pics_free(&sa);
	pics_free(&sb);

	struct pics va = decode(a.video), vb = decode(b.video);
	assert_int_equal(va.n, vb.n);
	assert_true(va.n >= 95);
	for (int i = 0; i < va.n; i++) {
		char what[48];
		snprintf(what, sizeof what, "rendition frame at %.2f s", va.p[i].t);
		assert_true(fabs(va.p[i].t - vb.p[i].t) < 0.001);
		compare(&va.p[i], &vb.p[i], 0, 0, va.p[i].w, va.p[i].h, &reg, 1, 16, true, what);
	}
	report("rendition frames");
	pics_free(&va);
	pics_free(&vb);
	outs_free(&a);
	outs_free(&b);
}

/* A region from 1 s to 2 s: the frames in that time hide it, the
 * frames well before and after do not. */
static void a_region_is_blurred_only_in_its_time(void **state)
{
	(void)state;
	struct media_blur_region reg = {.from_s = 1.0, .to_s = 2.0, .x = 0.5, .y = 0.1, .w = 0.4,
	                                .h = 0.5};
	struct media_blur blur = {&reg, 1};
	struct outs a = make("pattern.mp4", "timed", &blur, NULL);
	struct outs b = make("pattern.mp4", "untimed", NULL, NULL);

	struct pics va = decode(a.video), vb = decode(b.video);
	assert_int_equal(va.n, vb.n);
	int blurred = 0, sharp = 0;
	for (int i = 0; i < va.n; i++) {
		double t = va.p[i].t;
		char what[48];
		snprintf(what, sizeof what, "rendition frame at %.2f s", t);
		if (t >= 1.0 - 1e-6 && t <= 2.0 + 1e-6) {
			compare(&va.p[i], &vb.p[i], 0, 0, va.p[i].w, va.p[i].h, &reg, 1, 16, true, what);
			blurred++;
		} else if (t <= 0.88 || t >= 2.12) {
			compare(&va.p[i], &vb.p[i], 0, 0, va.p[i].w, va.p[i].h, &reg, 1, 16, false, what);
			sharp++;
		}
	}
	assert_true(blurred >= 25);
	assert_true(sharp >= 60);
	report("rendition, region from 1 s to 2 s");
	pics_free(&va);
	pics_free(&vb);

	/* tiles at 0, 1, 2, 3 s */
	struct pics sa = decode(a.sprite), sb = decode(b.sprite);
	int xywh[16][4];
	assert_int_equal(tiles(a.vtt, xywh, 16), 4);
	for (int i = 0; i < 4; i++) {
		char what[32];
		snprintf(what, sizeof what, "storyboard tile %d", i);
		compare(&sa.p[0], &sb.p[0], xywh[i][0], xywh[i][1], xywh[i][2], xywh[i][3], &reg, 1, 4,
		        i == 1 || i == 2, what);
	}
	report("storyboard, region from 1 s to 2 s");
	pics_free(&sa);
	pics_free(&sb);
	outs_free(&a);
	outs_free(&b);
}

/* A clip stored sideways: the regions are where they are on the upright
 * picture, one of them against its right edge. */
static void a_turned_clip_is_blurred_upright(void **state)
{
	(void)state;
	char *src = in_dir("rot.mp4");
	struct media_facts f;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(media_probe(src, &f, err, sizeof err), 0);
	assert_int_equal(f.width, 360);
	assert_int_equal(f.height, 640);
	assert_int_equal(f.rotation % 180, 90);
	free(src);
	struct media_blur_region regs[2] = {
		{.from_s = 0, .to_s = 1000, .x = 0.05, .y = 0.55, .w = 0.5, .h = 0.3},
		{.from_s = 0, .to_s = 1000, .x = 0.8, .y = 0.1, .w = 0.2, .h = 0.25},
	};
	struct media_blur blur = {regs, 2};
	struct outs a = make("rot.mp4", "rot-blur", &blur, NULL);
	struct outs b = make("rot.mp4", "rot-none", NULL, NULL);
	compare_images(a.thumb, b.thumb, regs, 2, 8, "turned thumbnail");
	compare_images(a.poster, b.poster, regs, 2, 16, "turned poster");
	report("turned thumbnail and poster");

	/* The rendition is turned upright when it is encoded again; the
	 * unblurred one, a remux, is still stored sideways: its frames are
	 * turned here to compare. */
	struct pics va = decode(a.video), vb = decode(b.video);
	assert_int_equal(va.n, vb.n);
	for (int i = 0; i < va.n; i += 10) {
		struct pic *p = &va.p[i], *q = &vb.p[i];
		assert_int_equal(p->w, 360);
		assert_int_equal(p->h, 640);
		assert_int_equal(q->w, 640);
		assert_int_equal(q->h, 360);
		/* turned as picture_orient_plane turns it (src/media/picture.c) */
		struct pic up = {q->t, 360, 640, malloc(360 * 640)};
		for (int y = 0; y < 640; y++)
			for (int x = 0; x < 360; x++)
				up.y[y * 360 + x] = f.rotation == 90 ? q->y[(size_t)(359 - x) * 640 + y]
				                                     : q->y[(size_t)x * 640 + 639 - y];
		char what[48];
		snprintf(what, sizeof what, "turned rendition frame at %.2f s", p->t);
		compare(p, &up, 0, 0, 360, 640, regs, 2, 16, true, what);
		free(up.y);
	}
	report("turned rendition");
	pics_free(&va);
	pics_free(&vb);
	outs_free(&a);
	outs_free(&b);
}

/* Whether the first packets of the video of two files are the same
 * bytes: a remux keeps them. */
static bool same_video_packets(const char *x, const char *y)
{
	AVFormatContext *ic[2] = {NULL, NULL};
	const char *path[2] = {x, y};
	int idx[2];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(avformat_open_input(&ic[i], path[i], NULL, NULL), 0);
		assert_true(avformat_find_stream_info(ic[i], NULL) >= 0);
		idx[i] = av_find_best_stream(ic[i], AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	}
	AVPacket *p[2] = {av_packet_alloc(), av_packet_alloc()};
	bool same = true;
	for (int k = 0; k < 10 && same; k++) {
		for (int i = 0; i < 2; i++)
			do {
				av_packet_unref(p[i]);
				assert_int_equal(av_read_frame(ic[i], p[i]), 0);
			} while (p[i]->stream_index != idx[i]);
		same = p[0]->size == p[1]->size && !memcmp(p[0]->data, p[1]->data, (size_t)p[0]->size);
	}
	for (int i = 0; i < 2; i++) {
		av_packet_free(&p[i]);
		avformat_close_input(&ic[i]);
	}
	return same;
}

/* No regions: the browser-ready clip is remuxed as before.  Any region,
 * even one the clip never reaches: encoded again, never a copy. */
static void regions_rule_out_the_remux(void **state)
{
	(void)state;
	char *src = in_dir("pattern.mp4"), *out = in_dir("remux.mp4");
	struct media_facts f;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(media_probe(src, &f, err, sizeof err), 0);
	assert_true(f.browser_ready);
	struct media_blur none = {NULL, 0};
	assert_int_equal(media_make_rendition(src, &f, out, &none, err, sizeof err), 0);
	assert_true(same_video_packets(src, out));
	struct media_blur_region later = {.from_s = 100, .to_s = 200, .x = 0, .y = 0, .w = 1, .h = 1};
	struct media_blur blur = {&later, 1};
	assert_int_equal(media_make_rendition(src, &f, out, &blur, err, sizeof err), 0);
	assert_false(same_video_packets(src, out));
	free(src);
	free(out);
}

/* The worker reads the clip's blur.json, blurs what it says and reports
 * its rev; an invalid one fails the clip and makes nothing. */
static void the_worker_blurs_what_blur_json_says(void **state)
{
	(void)state;
	char *data = in_dir("data");
	char *clipdir = paths_clip_dir(data, 5);
	assert_int_equal(kd_mkdirs(clipdir, 0750), 0);
	char *original = paths_clip_file(data, 5, KD_FILE_ORIGINAL);
	char *src = in_dir("pattern.mp4");
	char *bytes = NULL;
	size_t len;
	assert_int_equal(kd_read_file(src, 1 << 26, &bytes, &len), 0);
	assert_int_equal(kd_write_file_atomic(original, bytes, len), 0);
	free(bytes);
	char *json = paths_clip_blur_file(data, 5);
	char *thumb = paths_clip_file(data, 5, KD_FILE_THUMBNAIL);
	char *video = paths_clip_file(data, 5, KD_FILE_VIDEO);
	struct jobs_result r;
	char err[KD_ERRMSG_MAX] = "";

	const char *good = "{\"rev\": 9, \"regions\": [{\"from_s\": 0, \"to_s\": 60, \"x\": 0.25, "
	                   "\"y\": 0.25, \"w\": 0.5, \"h\": 0.5}]}";
	assert_int_equal(kd_write_file_atomic(json, good, strlen(good)), 0);
	assert_int_equal(jobs_process_clip(data, 5, &r, err, sizeof err), 0);
	if (r.status != CAT_READY)
		fail_msg("not ready: %s", r.error);
	assert_int_equal(r.blur_rev, 9);
	char *line = jobs_result_json(&r);
	assert_non_null(strstr(line, "\"blur_rev\":9"));
	free(line);
	/* inside the region next to nothing of the detail the rest has */
	struct media_blur_region reg = {0, 60, 0.25, 0.25, 0.5, 0.5};
	struct pics t = decode(thumb);
	struct rect in = grow(on(&reg, t.p[0].w, t.p[0].h), -8);
	struct rect out = grow(on(&reg, t.p[0].w, t.p[0].h), 8);
	double d_in = detail_in(&t.p[0], 0, 0, t.p[0].w, t.p[0].h, in, true);
	double d_out = detail_in(&t.p[0], 0, 0, t.p[0].w, t.p[0].h, out, false);
	if (d_in > GONE * d_out)
		fail_msg("the worker's thumbnail kept %.2f inside, %.2f outside", d_in, d_out);
	pics_free(&t);
	struct pics v = decode(video);
	in = grow(on(&reg, v.p[0].w, v.p[0].h), -16);
	out = grow(on(&reg, v.p[0].w, v.p[0].h), 16);
	d_in = detail_in(&v.p[v.n / 2], 0, 0, v.p[0].w, v.p[0].h, in, true);
	d_out = detail_in(&v.p[v.n / 2], 0, 0, v.p[0].w, v.p[0].h, out, false);
	if (d_in > GONE * d_out)
		fail_msg("the worker's rendition kept %.2f inside, %.2f outside", d_in, d_out);
	pics_free(&v);

	/* invalid: the clip fails, with the reason, and nothing is made */
	unlink(thumb);
	unlink(video);
	const char *bad = "{\"rev\": 10, \"regions\": [{\"from_s\": 0, \"to_s\": 60, \"x\": 0.25, "
	                  "\"y\": 0.25, \"w\": 0.9, \"h\": 0.5}]}";
	assert_int_equal(kd_write_file_atomic(json, bad, strlen(bad)), 0);
	assert_int_equal(jobs_process_clip(data, 5, &r, err, sizeof err), 0);
	assert_int_equal(r.status, CAT_FAILED);
	assert_non_null(strstr(r.error, "blur.json"));
	assert_non_null(strstr(r.error, "past the picture's edge"));
	assert_int_equal(r.blur_rev, 0);
	assert_int_equal(access(thumb, F_OK), -1);
	assert_int_equal(access(video, F_OK), -1);
	assert_int_equal(kd_write_file_atomic(json, "{\"rev\": 1", 9), 0);
	assert_int_equal(jobs_process_clip(data, 5, &r, err, sizeof err), 0);
	assert_int_equal(r.status, CAT_FAILED);
	assert_non_null(strstr(r.error, "not JSON"));

	/* none: made as before, rev 0 */
	unlink(json);
	assert_int_equal(jobs_process_clip(data, 5, &r, err, sizeof err), 0);
	assert_int_equal(r.status, CAT_READY);
	assert_int_equal(r.blur_rev, 0);
	assert_true(same_video_packets(original, video));

	free(json);
	free(thumb);
	free(video);
	free(src);
	free(original);
	free(clipdir);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_region_is_blurred_in_every_output),
		cmocka_unit_test(a_region_is_blurred_only_in_its_time),
		cmocka_unit_test(a_turned_clip_is_blurred_upright),
		cmocka_unit_test(regions_rule_out_the_remux),
		cmocka_unit_test(the_worker_blurs_what_blur_json_says),
	};
	return cmocka_run_group_tests(tests, make_clips, remove_clips);
}
