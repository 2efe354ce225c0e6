/*
 * rendition.h - the rendition's file handed over uncommitted, for a caller
 * committing several outputs at once.  Private to src/media/.
 */
#ifndef KINDLING_MEDIA_RENDITION_H
#define KINDLING_MEDIA_RENDITION_H

#include <stddef.h>

#include "kindling/media.h"
#include "media/outputs.h"

/* media_make_rendition(), except that with into the finished file joins
 * that set (outputs.h) instead of being committed here. */
int rendition_make(const char *path, const struct media_facts *f, const char *out_path,
                   const struct media_blur *blur, struct outputs *into, char *err,
                   size_t errlen);

#endif
