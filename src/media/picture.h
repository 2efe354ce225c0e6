/*
 * picture.h - what thumbnails, posters, storyboards and the rendition do to
 * a decoded frame: scale it, turn it upright, keep sizes even, tile it,
 * judge it, write it as JPEG (picture.c, jpeg.c).  Private to src/media/.
 *
 * Pictures are AVFrames in AV_PIX_FMT_YUV420P with color_range
 * AVCOL_RANGE_JPEG and even width and height, so they go straight to the
 * MJPEG encoder and tile at even offsets.
 *
 * Orientation, as in media_facts: the stored picture is first turned
 * clockwise by rotation degrees, then mirrored left-right (hflip), then
 * top-bottom (vflip), the order av_display_matrix_flip() composes them.
 */
#ifndef KINDLING_MEDIA_PICTURE_H
#define KINDLING_MEDIA_PICTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavutil/frame.h>

#include "kindling/media.h"
#include "media/outputs.h"

struct SwsContext;

/* x rounded to the nearest even number / down to an even number; at
 * least 2 (a 4:2:0 picture has no odd sides). */
int picture_even(double x);
int picture_even_down(double x);

/* A black picture of w x h (both even).  Returns NULL when out of memory. */
AVFrame *picture_new(int w, int h);

/* Copy one w x h plane of bytes into dst, turned by rotation (0, 90, 180,
 * 270) and mirrored by hflip and vflip; dst holds the turned size. */
void picture_orient_plane(const uint8_t *src, int sls, int w, int h, uint8_t *dst, int dls,
                          int rotation, bool hflip, bool vflip);

/* Scale src into a w x h picture (w, h even, as displayed) and turn it
 * upright by the orientation in f: scaling happens in the box before
 * rotation, so the result fills w x h exactly.  *sws is a scaler cache the
 * caller frees with sws_freeContext().  Returns 0 with *out set (caller
 * frees with av_frame_free), KD_EINVAL for a frame swscale cannot read,
 * KD_ENOMEM. */
int picture_upright(struct SwsContext **sws, const AVFrame *src, const struct media_facts *f,
                    int w, int h, AVFrame **out);

/* Copy src into dst with its top left corner at x, y (both even). */
void picture_blit(AVFrame *dst, int x, int y, const AVFrame *src);

/* How much there is to see: the spread of the brightness plus the mean
 * gradient.  *usable is false for a near-black, near-white or near-flat
 * picture (a fade, a lens cap, a blank screen). */
double picture_detail(const AVFrame *img, bool *usable);

/* Encode img as a JPEG (q: 2 best .. 31 worst) and write it for path as
 * one of out (outputs.h: it gets its name at outputs_commit).  Returns 0,
 * KD_EIO (err says which file), KD_ENOMEM or KD_EINVAL. */
int picture_write_jpeg(const AVFrame *img, int q, struct outputs *out, const char *path,
                       char *err, size_t errlen);

#endif
