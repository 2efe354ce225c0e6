/*
 * media_files.h - a clip's files over HTTP, by clip id and file name, after
 * the same privacy check as the clip itself: Range, HEAD, ETag from the
 * data folder; from object storage, a redirect to a presigned URL.  The
 * one place media URLs are spelled.  Private to src/web/.
 */
#ifndef KINDLING_WEB_MEDIA_FILES_H
#define KINDLING_WEB_MEDIA_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "kindling/catalogue.h"
#include "kindling/paths.h"

enum MHD_Result media_get(struct request *req);

/* Has processing made file f of clip c, so that it can be asked for
 * (made, with the clip's present blur regions, and consent not withdrawn)? */
bool media_file_made(const struct cat_clip *c, enum kd_media_file f);
/* Is c's consent withdrawn (its files then go to nobody)? */
bool media_withdrawn(const struct cat_clip *c);

/* GET /api/v1/clips/{id}/original?reason=: the original file, for an
 * admin answering a records request (the route is admins only); the
 * reason goes into the audit trail with who took it. */
enum MHD_Result media_original(struct request *req);

/* The URL path of a clip's file: "/media/clips/<id>/<name>". */
const char *media_url(int64_t clip_id, enum kd_media_file f, char *out, size_t outlen);

/* Parse one Range header value against a file of size bytes: 1 with the
 * inclusive [*from, *to] set, 0 to ignore it (absent, several ranges, other
 * unit, malformed), -1 when it cannot be satisfied (answer 416). */
int http_parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to);

#endif
