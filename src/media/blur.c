/* blur.c - hiding regions of decoded pictures (see blur.h). */
#include "media/blur.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/pixdesc.h>

#include "kindling/err.h"
#include "kindling/mem.h"

/* Blocks: this fraction of the rectangle's shorter side, at least BLOCK_MIN
 * px.  Six blocks across a face leave no feature; the box blur after it
 * takes away the block edges, which would otherwise still carry a coarse
 * outline. */
#define BLOCK_PARTS 6
#define BLOCK_MIN 8
#define BOX_PASSES 3
/* (where mean() stays exact; a block is never near twice that) */
#define BOX_MAX_R 8000

double blur_slack(const struct media_facts *f, double offset)
{
	double frame = f && f->fps > 0 ? 1 / f->fps : 1.0 / 25;
	if (!(frame <= 1))
		frame = 1;
	offset = fabs(offset);
	if (!(offset <= 1))
		offset = 1;
	return frame + offset;
}

static bool applies(const struct media_blur_region *r, double t, double slack)
{
	return r->from_s - slack <= t && t <= r->to_s + slack;
}

bool blur_any(const struct media_blur *b, double t, double slack)
{
	if (!b)
		return false;
	for (size_t i = 0; i < b->n; i++)
		if (applies(&b->regions[i], t, slack))
			return true;
	return false;
}

/* Dividing by d, rounded, as a multiplication: the division was most of
 * the time the blur took.  Exact for every sum of up to 256 d (a window
 * of d bytes) when d < 2^14: sum * (m d - 2^40) < 2^40. */
#define RECIP_SHIFT 40
static inline uint64_t recip(uint32_t d)
{
	return (((uint64_t)1 << RECIP_SHIFT) + d - 1) / d;
}

static inline uint8_t mean(uint32_t sum, uint32_t d, uint64_t m)
{
	return (uint8_t)(((uint64_t)(sum + d / 2) * m) >> RECIP_SHIFT);
}

/* Every pixel of [x0, x1) x [y0, y1) the mean of its block. */
static void pixelate(uint8_t *p, ptrdiff_t ls, int x0, int y0, int x1, int y1, int bw, int bh)
{
	for (int by = y0; by < y1; by += bh) {
		int ey = by + bh < y1 ? by + bh : y1;
		for (int bx = x0; bx < x1; bx += bw) {
			int ex = bx + bw < x1 ? bx + bw : x1;
			uint32_t sum = 0, n = (uint32_t)((ey - by) * (ex - bx));
			for (int y = by; y < ey; y++) {
				const uint8_t *row = p + (ptrdiff_t)y * ls;
				for (int x = bx; x < ex; x++)
					sum += row[x];
			}
			uint8_t v = (uint8_t)((sum + n / 2) / n);
			for (int y = by; y < ey; y++)
				memset(p + (ptrdiff_t)y * ls + bx, v, (size_t)(ex - bx));
		}
	}
}

/* One box blur of radius r along a row of rw bytes, its own end pixels
 * repeated past it; line: rw + 2r bytes. */
static void box_row(uint8_t *row, int rw, int r, uint8_t *line)
{
	uint32_t d = (uint32_t)(2 * r + 1);
	uint64_t m = recip(d);
	memset(line, row[0], (size_t)r);
	memcpy(line + r, row, (size_t)rw);
	memset(line + r + rw, row[rw - 1], (size_t)r);
	uint32_t sum = 0;
	for (int k = 0; k < 2 * r + 1; k++)
		sum += line[k];
	for (int x = 0; x < rw; x++) {
		row[x] = mean(sum, d, m);
		if (x + 1 < rw)
			sum += (uint32_t)line[x + 2 * r + 1] - line[x];
	}
}

/* The same down each column, through a copy of the rectangle (copy: rw x
 * rh bytes) and running sums of the columns (sums: rw of them), so that
 * rows are read and written whole. */
static void box_columns(uint8_t *p, ptrdiff_t ls, int x0, int y0, int rw, int rh, int r,
                        uint8_t *copy, uint32_t *sums)
{
	uint32_t d = (uint32_t)(2 * r + 1);
	uint64_t m = recip(d);
	for (int y = 0; y < rh; y++)
		memcpy(copy + (size_t)y * rw, p + (ptrdiff_t)(y0 + y) * ls + x0, (size_t)rw);
#define ROW(i) (copy + (size_t)((i) < 0 ? 0 : (i) >= rh ? rh - 1 : (i)) * rw)
	memset(sums, 0, (size_t)rw * sizeof *sums);
	for (int k = -r; k <= r; k++) {
		const uint8_t *s = ROW(k);
		for (int x = 0; x < rw; x++)
			sums[x] += s[x];
	}
	for (int y = 0; y < rh; y++) {
		uint8_t *row = p + (ptrdiff_t)(y0 + y) * ls + x0;
		for (int x = 0; x < rw; x++)
			row[x] = mean(sums[x], d, m);
		if (y + 1 < rh) {
			const uint8_t *in = ROW(y + r + 1), *out = ROW(y - r);
			for (int x = 0; x < rw; x++)
				sums[x] += (uint32_t)in[x] - out[x];
		}
	}
#undef ROW
}

void blur_plane(uint8_t *p, ptrdiff_t ls, int w, int h, int x0, int y0, int x1, int y1, int bw,
                int bh)
{
	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	x1 = x1 > w ? w : x1;
	y1 = y1 > h ? h : y1;
	if (x1 <= x0 || y1 <= y0)
		return;
	bw = bw < 1 ? 1 : bw;
	bh = bh < 1 ? 1 : bh;
	int rw = x1 - x0, rh = y1 - y0;
	pixelate(p, ls, x0, y0, x1, y1, bw, bh);
	/* Half a block each way: three passes smooth a block edge over about
	 * a block and a half, so no edge between blocks is left sharp. */
	int rx = bw / 2 < rw ? bw / 2 : rw, ry = bh / 2 < rh ? bh / 2 : rh;
	rx = rx < BOX_MAX_R ? rx : BOX_MAX_R;
	ry = ry < BOX_MAX_R ? ry : BOX_MAX_R;
	if (rx < 1 && ry < 1)
		return;
	uint8_t *line = kd_malloc((size_t)rw + 2 * (size_t)rx);
	uint8_t *copy = kd_malloc((size_t)rw * (size_t)rh);
	uint32_t *sums = kd_malloc((size_t)rw * sizeof *sums);
	/* Across, then down (the two commute).  Pixelated, the rows of a
	 * row of blocks are all alike, and stay so across: each row of
	 * blocks is blurred across once, on its first row, and copied. */
	for (int by = y0; rx > 0 && by < y1; by += bh) {
		uint8_t *first = p + (ptrdiff_t)by * ls + x0;
		for (int pass = 0; pass < BOX_PASSES; pass++)
			box_row(first, rw, rx, line);
		for (int y = by + 1; y < by + bh && y < y1; y++)
			memcpy(p + (ptrdiff_t)y * ls + x0, first, (size_t)rw);
	}
	for (int pass = 0; ry > 0 && pass < BOX_PASSES; pass++)
		box_columns(p, ls, x0, y0, rw, rh, ry, copy, sums);
	free(line);
	free(copy);
	free(sums);
}

/* A region's rectangle on a w x h picture, every edge rounded outward. */
static bool region_rect(const struct media_blur_region *r, int w, int h, int *x0, int *y0,
                        int *x1, int *y1)
{
	double l = fmax(0, fmin(1, r->x)), t = fmax(0, fmin(1, r->y));
	double rt = fmax(0, fmin(1, r->x + r->w)), b = fmax(0, fmin(1, r->y + r->h));
	*x0 = (int)floor(l * w);
	*y0 = (int)floor(t * h);
	*x1 = (int)ceil(rt * w);
	*y1 = (int)ceil(b * h);
	return *x1 > *x0 && *y1 > *y0;
}

static bool blurrable(const AVPixFmtDescriptor *d)
{
	if (!d || (d->flags & (AV_PIX_FMT_FLAG_BE | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM |
	                       AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_RGB)))
		return false;
	if (d->nb_components != 1 && !(d->flags & AV_PIX_FMT_FLAG_PLANAR))
		return false;
	for (int c = 0; c < d->nb_components; c++)
		if (d->comp[c].depth != 8 || d->comp[c].step != 1 || d->comp[c].shift != 0 ||
		    d->comp[c].offset != 0)
			return false;
	return true;
}

int blur_frame(AVFrame *img, const struct media_blur *b, double t, double slack)
{
	if (!blur_any(b, t, slack))
		return 0;
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(img->format);
	if (!blurrable(d) || img->width <= 0 || img->height <= 0)
		return KD_EINVAL;
	int done = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct media_blur_region *r = &b->regions[i];
		int x0, y0, x1, y1;
		if (!applies(r, t, slack) || !region_rect(r, img->width, img->height, &x0, &y0, &x1, &y1))
			continue;
		int side = x1 - x0 < y1 - y0 ? x1 - x0 : y1 - y0;
		int block = side / BLOCK_PARTS > BLOCK_MIN ? side / BLOCK_PARTS : BLOCK_MIN;
		for (int c = 0; c < d->nb_components; c++) {
			/* Each component its own plane (blurrable() checked);
			 * alpha, if any, is left alone. */
			int plane = d->comp[c].plane;
			bool chroma = c == 1 || c == 2;
			if (c == 3)
				continue;
			int sw = chroma ? d->log2_chroma_w : 0, sh = chroma ? d->log2_chroma_h : 0;
			int pw = AV_CEIL_RSHIFT(img->width, sw), ph = AV_CEIL_RSHIFT(img->height, sh);
			blur_plane(img->data[plane], img->linesize[plane], pw, ph, x0 >> sw, y0 >> sh,
			           AV_CEIL_RSHIFT(x1, sw), AV_CEIL_RSHIFT(y1, sh), block >> sw, block >> sh);
		}
		done++;
	}
	return done;
}
