/*
 * test_blur.c - the blur of regions on decoded planes (src/media/blur.h),
 * the blur.json a worker reads (jobs_blur_parse) and the blur_rev of its
 * report.  The media-level measure (thumbnails, posters, storyboards and
 * renditions of real clips) is test_media_blur.c.
 *
 * "Detail" here is the high-frequency energy of a rectangle: the mean
 * absolute difference between neighbours, across and down.  A one-pixel
 * checkerboard has the most there can be (255 a pixel); a blur worth the
 * name leaves next to none of it.
 */
#include "helpers.h"

#include <math.h>

#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>

#include "kindling/jobs.h"
#include "kindling/media.h"
#include "media/blur.h"

/* A w x h plane of a one-pixel checkerboard (0 and 255), ls bytes a row
 * with padding that must stay as it is. */
static uint8_t *checkerboard(int w, int h, int ls)
{
	uint8_t *p = malloc((size_t)ls * h);
	assert_non_null(p);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < ls; x++)
			p[(size_t)y * ls + x] = x >= w ? 0x5a : ((x + y) & 1) ? 255 : 0;
	return p;
}

/* Mean absolute neighbour difference within [x0, x1) x [y0, y1). */
static double detail(const uint8_t *p, int ls, int x0, int y0, int x1, int y1)
{
	double sum = 0;
	long n = 0;
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			const uint8_t *q = p + (size_t)y * ls + x;
			if (x + 1 < x1) {
				sum += abs(q[0] - q[1]);
				n++;
			}
			if (y + 1 < y1) {
				sum += abs(q[0] - q[ls]);
				n++;
			}
		}
	return n ? sum / (double)n : 0;
}

/* Every byte outside [x0, x1) x [y0, y1) of two planes is the same. */
static void same_outside(const uint8_t *a, const uint8_t *b, int ls, int h, int x0, int y0, int x1,
                         int y1)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < ls; x++) {
			bool inside = x >= x0 && x < x1 && y >= y0 && y < y1;
			if (!inside && a[(size_t)y * ls + x] != b[(size_t)y * ls + x])
				fail_msg("byte (%d, %d) outside the rectangle changed: %d -> %d", x, y,
				         a[(size_t)y * ls + x], b[(size_t)y * ls + x]);
		}
}

/* Blur [x0, x1) x [y0, y1) of a checkerboard; return detail after/before,
 * having checked nothing outside changed. */
static double blur_checker(int w, int h, int x0, int y0, int x1, int y1, int block)
{
	int ls = w + 13;
	uint8_t *p = checkerboard(w, h, ls), *orig = checkerboard(w, h, ls);
	int cx0 = x0 < 0 ? 0 : x0, cy0 = y0 < 0 ? 0 : y0;
	int cx1 = x1 > w ? w : x1, cy1 = y1 > h ? h : y1;
	double before = detail(orig, ls, cx0, cy0, cx1, cy1);
	blur_plane(p, ls, w, h, x0, y0, x1, y1, block, block);
	same_outside(orig, p, ls, h, cx0, cy0, cx1, cy1);
	double after = detail(p, ls, cx0, cy0, cx1, cy1);
	free(p);
	free(orig);
	return before > 0 ? after / before : after;
}

static void checkerboard_loses_its_detail_inside_only(void **state)
{
	(void)state;
	/* odd sizes and odd corners, blocks of 8 and of 17 */
	double r = blur_checker(200, 120, 37, 21, 137, 91, 16);
	if (r > 0.02)
		fail_msg("a 100x70 rectangle kept %.1f%% of its detail", r * 100);
	r = blur_checker(201, 119, 3, 5, 40, 18, 8);
	if (r > 0.05)
		fail_msg("a 37x13 rectangle kept %.1f%% of its detail", r * 100);
	r = blur_checker(333, 211, 100, 50, 311, 199, 17);
	if (r > 0.02)
		fail_msg("a 211x149 rectangle kept %.1f%% of its detail", r * 100);
}

static void rectangles_at_the_edges_are_clamped(void **state)
{
	(void)state;
	/* the whole plane, the top rows, the right and bottom edges past the
	 * plane, a single pixel, a column one pixel wide */
	assert_true(blur_checker(64, 48, 0, 0, 64, 48, 8) < 0.02);
	assert_true(blur_checker(64, 48, -5, -5, 64, 10, 8) < 0.05);
	assert_true(blur_checker(65, 49, 50, 30, 90, 80, 8) < 0.05);
	blur_checker(64, 48, 10, 10, 11, 11, 8);
	assert_true(blur_checker(64, 48, 20, 0, 21, 48, 8) < 0.05);
	/* empty, inverted and wholly outside: nothing changes */
	assert_true(blur_checker(64, 48, 10, 10, 10, 30, 8) >= 0);
	int ls = 64;
	uint8_t *p = checkerboard(64, 48, ls), *orig = checkerboard(64, 48, ls);
	blur_plane(p, ls, 64, 48, 30, 30, 20, 20, 8, 8);
	blur_plane(p, ls, 64, 48, 70, 0, 90, 48, 8, 8);
	blur_plane(p, ls, 64, 48, 0, -20, 64, 0, 8, 8);
	assert_memory_equal(p, orig, (size_t)ls * 48);
	free(p);
	free(orig);
}

/* Noise (no pattern for a block to average away exactly) also goes. */
static void noise_loses_its_detail(void **state)
{
	(void)state;
	int w = 160, h = 120;
	uint8_t *p = malloc((size_t)w * h), *orig = malloc((size_t)w * h);
	uint32_t s = 12345;
	for (int i = 0; i < w * h; i++) {
		s = s * 1103515245 + 12345;
		p[i] = orig[i] = (uint8_t)(s >> 16);
	}
	double before = detail(p, w, 40, 30, 120, 90);
	blur_plane(p, w, w, h, 40, 30, 120, 90, 13, 13);
	double after = detail(p, w, 40, 30, 120, 90);
	same_outside(orig, p, w, h, 40, 30, 120, 90);
	if (after > before / 20)
		fail_msg("noise kept %.1f of %.1f", after, before);
	free(p);
	free(orig);
}

/* A yuv420p frame of odd size with a one-pixel checkerboard in every
 * plane. */
static AVFrame *checker_frame(int w, int h, enum AVPixelFormat fmt)
{
	AVFrame *f = av_frame_alloc();
	f->format = fmt;
	f->width = w;
	f->height = h;
	assert_int_equal(av_frame_get_buffer(f, 0), 0);
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
	for (int p = 0; p < 3 && f->data[p]; p++) {
		int pw = p ? AV_CEIL_RSHIFT(w, d->log2_chroma_w) : w;
		int ph = p ? AV_CEIL_RSHIFT(h, d->log2_chroma_h) : h;
		for (int y = 0; y < ph; y++)
			for (int x = 0; x < f->linesize[p]; x++)
				f->data[p][(size_t)y * f->linesize[p] + x] =
				        x >= pw ? 7 : ((x + y) & 1) ? 240 : 16;
	}
	return f;
}

static void frames_blur_every_plane_at_its_subsampling(void **state)
{
	(void)state;
	int w = 161, h = 97;
	AVFrame *f = checker_frame(w, h, AV_PIX_FMT_YUV420P);
	AVFrame *orig = checker_frame(w, h, AV_PIX_FMT_YUV420P);
	/* x 0.2..0.55 of 161: 32.2..88.55 -> [32, 89); y 0.3..0.9 of 97:
	 * 29.1..87.3 -> [29, 88); chroma (81 x 49): [16, 45) x [14, 44) */
	struct media_blur_region reg = {.from_s = 0, .to_s = 10, .x = 0.2, .y = 0.3, .w = 0.35,
	                                .h = 0.6};
	struct media_blur b = {&reg, 1};
	assert_int_equal(blur_frame(f, &b, 5, 0.04), 1);
	const int r[3][4] = {{32, 29, 89, 88}, {16, 14, 45, 44}, {16, 14, 45, 44}};
	for (int p = 0; p < 3; p++) {
		int ph = p ? (h + 1) / 2 : h;
		same_outside(orig->data[p], f->data[p], f->linesize[p], ph, r[p][0], r[p][1], r[p][2],
		             r[p][3]);
		double before = detail(orig->data[p], f->linesize[p], r[p][0], r[p][1], r[p][2], r[p][3]);
		double after = detail(f->data[p], f->linesize[p], r[p][0], r[p][1], r[p][2], r[p][3]);
		if (after > before / 20)
			fail_msg("plane %d kept %.1f of %.1f", p, after, before);
		/* the rectangle's edge rows and columns changed too: covered fully */
		const uint8_t *a = orig->data[p], *c = f->data[p];
		int ls = f->linesize[p];
		bool edge_moved[4] = {false, false, false, false};
		for (int x = r[p][0]; x < r[p][2]; x++) {
			edge_moved[0] |= a[(size_t)r[p][1] * ls + x] != c[(size_t)r[p][1] * ls + x];
			edge_moved[1] |= a[(size_t)(r[p][3] - 1) * ls + x] != c[(size_t)(r[p][3] - 1) * ls + x];
		}
		for (int y = r[p][1]; y < r[p][3]; y++) {
			edge_moved[2] |= a[(size_t)y * ls + r[p][0]] != c[(size_t)y * ls + r[p][0]];
			edge_moved[3] |= a[(size_t)y * ls + r[p][2] - 1] != c[(size_t)y * ls + r[p][2] - 1];
		}
		for (int e = 0; e < 4; e++)
			if (!edge_moved[e])
				fail_msg("plane %d: edge %d of the rectangle was left as it was", p, e);
	}
	av_frame_free(&f);
	av_frame_free(&orig);
}

/* A region applies from from_s - slack to to_s + slack, and only then. */
static void regions_apply_within_their_time(void **state)
{
	(void)state;
	struct media_blur_region reg[2] = {
		{.from_s = 1, .to_s = 2, .x = 0, .y = 0, .w = 0.5, .h = 0.5},
		{.from_s = 4, .to_s = 4, .x = 0.5, .y = 0.5, .w = 0.5, .h = 0.5},
	};
	struct media_blur b = {reg, 2};
	assert_false(blur_any(NULL, 1.5, 0.04));
	assert_false(blur_any(&(struct media_blur){reg, 0}, 1.5, 0.04));
	assert_false(blur_any(&b, 0.95, 0.04));
	assert_true(blur_any(&b, 0.97, 0.04));
	assert_true(blur_any(&b, 1.5, 0.04));
	assert_true(blur_any(&b, 2.03, 0.04));
	assert_false(blur_any(&b, 2.05, 0.04));
	assert_false(blur_any(&b, 3.9, 0.04));
	assert_true(blur_any(&b, 3.97, 0.04)); /* a moment long: the frames around it */
	assert_true(blur_any(&b, 4.03, 0.04));

	AVFrame *f = checker_frame(64, 48, AV_PIX_FMT_YUV420P);
	AVFrame *orig = checker_frame(64, 48, AV_PIX_FMT_YUV420P);
	assert_int_equal(blur_frame(f, &b, 3, 0.04), 0);
	assert_int_equal(blur_frame(f, NULL, 1.5, 0.04), 0);
	for (int p = 0; p < 3; p++)
		assert_memory_equal(f->data[p], orig->data[p], (size_t)f->linesize[p] * (p ? 24 : 48));
	assert_int_equal(blur_frame(f, &b, 1.5, 0.04), 1);
	same_outside(orig->data[0], f->data[0], f->linesize[0], 48, 0, 0, 32, 24);
	av_frame_free(&f);
	av_frame_free(&orig);

	/* one frame of the clip, plus how far its stream starts from the file */
	struct media_facts facts = {.fps = 25};
	assert_true(fabs(blur_slack(&facts, 0) - 0.04) < 1e-9);
	assert_true(fabs(blur_slack(&facts, -0.5) - 0.54) < 1e-9);
	assert_true(fabs(blur_slack(&facts, 30) - 1.04) < 1e-9);
	facts.fps = 0;
	assert_true(fabs(blur_slack(&facts, 0) - 0.04) < 1e-9);
	facts.fps = 0.1; /* a slide a ten seconds: a second at most */
	assert_true(fabs(blur_slack(&facts, 0) - 1) < 1e-9);
}

/* A format it cannot blur is refused, and the picture left as it was. */
static void unknown_formats_are_refused(void **state)
{
	(void)state;
	AVFrame *f = av_frame_alloc();
	f->format = AV_PIX_FMT_RGB24;
	f->width = 32;
	f->height = 32;
	assert_int_equal(av_frame_get_buffer(f, 0), 0);
	memset(f->data[0], 9, (size_t)f->linesize[0] * 32);
	struct media_blur_region reg = {.from_s = 0, .to_s = 1, .x = 0, .y = 0, .w = 1, .h = 1};
	struct media_blur b = {&reg, 1};
	assert_int_equal(blur_frame(f, &b, 0.5, 0.04), KD_EINVAL);
	for (int i = 0; i < f->linesize[0] * 32; i++)
		assert_int_equal(f->data[0][i], 9);
	f->format = AV_PIX_FMT_YUV420P10LE;
	assert_int_equal(blur_frame(f, &b, 0.5, 0.04), KD_EINVAL);
	av_frame_free(&f);
	/* 4:2:2 and grey are fine */
	f = checker_frame(40, 30, AV_PIX_FMT_YUV422P);
	assert_int_equal(blur_frame(f, &b, 0.5, 0.04), 1);
	av_frame_free(&f);
}

/* ------------------------------------------------------------ blur.json */

static int parse(const char *text, struct media_blur_region **r, size_t *n, int64_t *rev,
                 char *err, size_t errlen)
{
	return jobs_blur_parse(text, strlen(text), r, n, rev, err, errlen);
}

static void blur_json_is_read(void **state)
{
	(void)state;
	struct media_blur_region *r;
	size_t n;
	int64_t rev;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(parse("{\"rev\": 7, \"regions\": [{\"from_s\": 1.5, \"to_s\": 3, \"x\": 0.1, "
	                       "\"y\": 0.2, \"w\": 0.3, \"h\": 0.4, \"source\": \"editor\"}, "
	                       "{\"from_s\": 0, \"to_s\": 0, \"x\": 0, \"y\": 0, \"w\": 1, "
	                       "\"h\": 1}]}",
	                       &r, &n, &rev, err, sizeof err),
	                 0);
	assert_int_equal(n, 2);
	assert_int_equal(rev, 7);
	assert_true(r[0].from_s == 1.5 && r[0].to_s == 3 && r[0].x == 0.1 && r[0].y == 0.2 &&
	            r[0].w == 0.3 && r[0].h == 0.4);
	assert_true(r[1].w == 1 && r[1].h == 1);
	free(r);
	/* none: the file written for a clip whose regions were all removed */
	assert_int_equal(parse("{\"rev\": 3, \"regions\": []}", &r, &n, &rev, err, sizeof err), 0);
	assert_int_equal(n, 0);
	assert_null(r);
	assert_int_equal(rev, 3);
	assert_int_equal(parse("[]", &r, &n, &rev, err, sizeof err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rev, 0);
	/* rounding past the edge is clamped, not refused */
	assert_int_equal(parse("{\"rev\": 1, \"regions\": [{\"from_s\": 0, \"to_s\": 1, \"x\": 0.7, "
	                       "\"y\": 0.9, \"w\": 0.30000000001, \"h\": 0.1}]}",
	                       &r, &n, &rev, err, sizeof err),
	                 0);
	assert_true(r[0].x + r[0].w <= 1 && r[0].y + r[0].h <= 1);
	free(r);
}

static void bad_blur_json_is_refused(void **state)
{
	(void)state;
	static const struct {
		const char *text, *says;
	} bad[] = {
		{"", "not JSON"},
		{"{\"rev\": 1, \"regions\": [", "not JSON"},
		{"{\"rev\": 1}", "no list of regions"},
		{"{\"regions\": []}", "rev is missing"},
		{"{\"rev\": -1, \"regions\": []}", "rev is not"},
		{"{\"rev\": 1.5, \"regions\": []}", "rev is not"},
		{"{\"rev\": \"2\", \"regions\": []}", "rev is not"},
		{"{\"rev\": 1, \"regions\": {}}", "no list"},
		{"{\"rev\": 1, \"rev\": 2, \"regions\": []}", "not JSON"},
		{"\"regions\"", "not JSON"},
		{"{\"rev\": 1, \"regions\": [3]}", "region 1 is not an object"},
		{"{\"rev\": 1, \"regions\": [{\"from_s\": 0, \"to_s\": 1, \"x\": 0, \"y\": 0, \"w\": 1}]}",
		 "region 1: h is missing"},
		{"{\"rev\": 1, \"regions\": [{\"from_s\": 0, \"to_s\": 1, \"x\": \"0\", \"y\": 0, "
		 "\"w\": 1, \"h\": 1}]}",
		 "region 1: x is not a number"},
		{"{\"rev\": 1, \"regions\": [{\"from_s\": -1, \"to_s\": 1, \"x\": 0, \"y\": 0, "
		 "\"w\": 1, \"h\": 1}]}",
		 "from_s is out of range"},
		{"{\"rev\": 1, \"regions\": [{\"from_s\": 2, \"to_s\": 1, \"x\": 0, \"y\": 0, "
		 "\"w\": 1, \"h\": 1}]}",
		 "ends (to_s) before"},
		{"{\"rev\": 1, \"regions\": [{\"from_s\": 0, \"to_s\": 1e300, \"x\": 0, \"y\": 0, "
		 "\"w\": 1, \"h\": 1}]}",
		 "to_s is out of range"},
		{"{\"rev\": 1, \"regions\": [{\"from_s\": 0, \"to_s\": 1, \"x\": 1.2, \"y\": 0, "
		 "\"w\": 0.1, \"h\": 1}]}",
		 "x is out of range"},
		{"{\"rev\": 1, \"regions\": [{\"from_s\": 0, \"to_s\": 1, \"x\": 0, \"y\": 0, "
		 "\"w\": 0, \"h\": 1}]}",
		 "no area"},
		{"{\"rev\": 1, \"regions\": [{\"from_s\": 0, \"to_s\": 1, \"x\": 1, \"y\": 0, "
		 "\"w\": 0.5, \"h\": 1}]}",
		 "no area"},
		{"{\"rev\": 1, \"regions\": [{\"from_s\": 0, \"to_s\": 1, \"x\": 0.6, \"y\": 0, "
		 "\"w\": 0.5, \"h\": 1}]}",
		 "past the picture's edge"},
		{"{\"rev\": 1, \"regions\": [{\"from_s\": 0, \"to_s\": 1, \"x\": 0, \"y\": 0.5, "
		 "\"w\": 0.5, \"h\": 0.6}]}",
		 "past the picture's edge"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct media_blur_region *r = (void *)1;
		size_t n = 99;
		int64_t rev = 99;
		char err[KD_ERRMSG_MAX] = "";
		if (parse(bad[i].text, &r, &n, &rev, err, sizeof err) != KD_EINVAL)
			fail_msg("accepted: %s", bad[i].text);
		assert_null(r);
		assert_int_equal(n, 0);
		assert_int_equal(rev, 0);
		if (!strstr(err, bad[i].says))
			fail_msg("%s: said \"%s\", not \"%s\"", bad[i].text, err, bad[i].says);
	}
}

static void blur_json_is_bounded(void **state)
{
	(void)state;
	const char *one = "{\"from_s\":0,\"to_s\":1,\"x\":0,\"y\":0,\"w\":1,\"h\":1},";
	size_t cap = 64 + 1001 * strlen(one);
	char *text = malloc(cap);
	struct media_blur_region *r;
	size_t n;
	int64_t rev;
	char err[KD_ERRMSG_MAX] = "";
	for (int count = 1000; count <= 1001; count++) {
		strcpy(text, "{\"rev\": 2, \"regions\": [");
		for (int i = 0; i < count; i++)
			strcat(text, one);
		strcpy(text + strlen(text) - 1, "]}");
		int rc = parse(text, &r, &n, &rev, err, sizeof err);
		if (count == 1000) {
			assert_int_equal(rc, 0);
			assert_int_equal(n, 1000);
			free(r);
		} else {
			assert_int_equal(rc, KD_EINVAL);
			assert_non_null(strstr(err, "1001 regions, more than 1000"));
		}
	}
	free(text);
	/* over 256 KiB, however it is laid out */
	size_t big = JOBS_BLUR_MAX_BYTES + 1;
	text = malloc(big + 1);
	memset(text, ' ', big);
	memcpy(text, "[]", 2);
	text[big] = '\0';
	assert_int_equal(jobs_blur_parse(text, big, &r, &n, &rev, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "over 256 KiB"));
	free(text);
}

/* The worker's report carries the rev of the regions its media hide. */
static void reports_carry_the_blur_rev(void **state)
{
	(void)state;
	struct jobs_result r = {.status = CAT_READY, .probed = true, .width = 640, .height = 360,
	                        .blur_rev = 42};
	strcpy(r.video_codec, "h264");
	char *line = jobs_result_json(&r);
	assert_non_null(strstr(line, "\"blur_rev\":42"));
	struct jobs_result back;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(jobs_result_parse(line, strlen(line), &back, err, sizeof err), 0);
	assert_int_equal(back.blur_rev, 42);
	assert_int_equal(back.width, 640);
	free(line);
	/* none said: 0 (a report from before blurring) */
	const char *old = "{\"status\":\"failed\",\"error\":\"x\"}";
	assert_int_equal(jobs_result_parse(old, strlen(old), &back, err, sizeof err), 0);
	assert_int_equal(back.blur_rev, 0);
	const char *bad = "{\"status\":\"failed\",\"error\":\"x\",\"blur_rev\":\"7\"}";
	assert_int_equal(jobs_result_parse(bad, strlen(bad), &back, err, sizeof err), KD_EINVAL);
	bad = "{\"status\":\"failed\",\"error\":\"x\",\"blur_rev\":-3}";
	assert_int_equal(jobs_result_parse(bad, strlen(bad), &back, err, sizeof err), KD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checkerboard_loses_its_detail_inside_only),
		cmocka_unit_test(rectangles_at_the_edges_are_clamped),
		cmocka_unit_test(noise_loses_its_detail),
		cmocka_unit_test(frames_blur_every_plane_at_its_subsampling),
		cmocka_unit_test(regions_apply_within_their_time),
		cmocka_unit_test(unknown_formats_are_refused),
		cmocka_unit_test(blur_json_is_read),
		cmocka_unit_test(bad_blur_json_is_refused),
		cmocka_unit_test(blur_json_is_bounded),
		cmocka_unit_test(reports_carry_the_blur_rev),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
