/*
 * static.h - the embedded CSS, JavaScript and icons (kindling/assets.h),
 * served at /assets/v<content hash>/<name>.  Private to src/web/.
 */
#ifndef KINDLING_WEB_STATIC_H
#define KINDLING_WEB_STATIC_H

#include <stddef.h>

#include "http.h"

enum MHD_Result asset_get(struct request *req);
/* The URL path of an embedded asset, with its version. */
const char *asset_url(const char *name, char *out, size_t outlen);

#endif
