/*
 * blur.h - hiding regions of decoded pictures (struct media_blur, media.h)
 * with a filter of our own on the planes: no libavfilter.  Private to
 * src/media/.
 *
 * A region's rectangle is pixelated into blocks of about a sixth of its
 * shorter side (8 px at least) and the blocks then smoothed by three
 * passes of a box blur each way: a face or a line of text becomes a few
 * soft patches of colour, whatever the size of the picture, since the
 * blocks scale with the region.  Every plane gets it, the chroma planes at
 * their own subsampling, and only the rectangle (its edges rounded
 * outward) changes: a pixel outside keeps its value to the bit.
 *
 * The pictures given here are the upright ones about to be encoded
 * (thumbnails, posters, tiles, the rendition's frames), so the region's
 * fractions of the upright picture are fractions of the frame as it is.
 */
#ifndef KINDLING_MEDIA_BLUR_H
#define KINDLING_MEDIA_BLUR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavutil/frame.h>

#include "kindling/media.h"

/* How far before from_s and after to_s a frame still counts, in seconds:
 * one frame of f (1/25 s when its rate is unknown, a second at most),
 * plus offset (seconds between the video stream's start and the file's:
 * the two clocks a time on the clip may have been read by), at most a
 * second of it. */
double blur_slack(const struct media_facts *f, double offset);

/* Whether a region of b (NULL: none) applies to a frame at t seconds. */
bool blur_any(const struct media_blur *b, double t, double slack);

/* Blur in img every region of b that applies at t.  img: writable, 8-bit
 * planar YUV or grey (yuv420p and the like, full or limited range).
 * Returns how many regions were blurred (0: img untouched), or KD_EINVAL
 * for a pixel format it cannot blur (img untouched: the caller must not
 * go on with a picture that should have been blurred). */
int blur_frame(AVFrame *img, const struct media_blur *b, double t, double slack);

/* The rectangle [x0, x1) x [y0, y1) of a w x h plane of bytes (ls bytes a
 * row), clamped to it, pixelated into bw x bh blocks from its top left
 * corner, then box-blurred within itself (radius half a block).  Nothing
 * outside the rectangle is read or written. */
void blur_plane(uint8_t *p, ptrdiff_t ls, int w, int h, int x0, int y0, int x1, int y1, int bw,
                int bh);

#endif
