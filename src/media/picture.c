/* picture.c - upright full-range pictures of a given size: scaling,
 * orientation, even sizes, tiling, how much detail (see picture.h). */
#include "media/picture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "kindling/err.h"
#include "kindling/log.h"

/* Side of the square tiles picture_orient_plane walks. */
#define ROT_TILE 32

int picture_even(double x)
{
	int v = 2 * (int)lround(x / 2);
	return v < 2 ? 2 : v;
}

int picture_even_down(double x)
{
	int v = (int)x & ~1;
	return v < 2 ? 2 : v;
}

AVFrame *picture_new(int w, int h)
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

int picture_upright(struct SwsContext **sws, const AVFrame *src, const struct media_facts *f,
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

	box = picture_new(bw, bh);
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
	img = picture_new(w, h);
	if (!img) {
		rc = KD_ENOMEM;
		goto out;
	}
	for (int p = 0; p < 3; p++) {
		int sh = p ? 1 : 0;
		picture_orient_plane(box->data[p], box->linesize[p], bw >> sh, bh >> sh, img->data[p],
		                     img->linesize[p], rotation, f->hflip, f->vflip);
	}
	*out = img;
out:
	av_frame_free(&box);
	return rc;
}

void picture_blit(AVFrame *dst, int x, int y, const AVFrame *src)
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

double picture_detail(const AVFrame *img, bool *usable)
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

/*
 * Stored pixel (x, y) goes to display (X, Y) = (a x + b y + x0, c x + d y +
 * y0).  Walking the source in tiles keeps both reads and writes within a
 * few cache lines when the turn makes one of them stride a whole row.
 */
void picture_orient_plane(const uint8_t *src, int sls, int w, int h, uint8_t *dst, int dls,
                          int rotation, bool hflip, bool vflip)
{
	int rot = (rotation % 360 + 360) % 360 / 90;
	static const int m[4][4] = {
		{ 1, 0, 0, 1 },   /* X = x,       Y = y */
		{ 0, -1, 1, 0 },  /* X = h-1-y,   Y = x */
		{ -1, 0, 0, -1 }, /* X = w-1-x,   Y = h-1-y */
		{ 0, 1, -1, 0 },  /* X = y,       Y = w-1-x */
	};
	int a = m[rot][0], b = m[rot][1], c = m[rot][2], d = m[rot][3];
	int dw = (rot & 1) ? h : w, dh = (rot & 1) ? w : h;
	if (hflip)
		a = -a, b = -b;
	if (vflip)
		c = -c, d = -d;
	ptrdiff_t x0 = (a < 0 || b < 0) ? dw - 1 : 0;
	ptrdiff_t y0 = (c < 0 || d < 0) ? dh - 1 : 0;
	ptrdiff_t step_x = (ptrdiff_t)c * dls + a; /* dst step for x + 1 */
	ptrdiff_t step_y = (ptrdiff_t)d * dls + b; /* dst step for y + 1 */
	uint8_t *origin = dst + y0 * dls + x0;

	for (int ty = 0; ty < h; ty += ROT_TILE) {
		int ey = ty + ROT_TILE < h ? ty + ROT_TILE : h;
		for (int tx = 0; tx < w; tx += ROT_TILE) {
			int ex = tx + ROT_TILE < w ? tx + ROT_TILE : w;
			for (int y = ty; y < ey; y++) {
				const uint8_t *s = src + (ptrdiff_t)y * sls;
				uint8_t *o = origin + y * step_y + tx * step_x;
				for (int x = tx; x < ex; x++, o += step_x)
					*o = s[x];
			}
		}
	}
}

