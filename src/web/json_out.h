/*
 * json_out.h - JSON written straight into a buffer, for the answers the
 * server gives most (a page of clips).
 *
 * Building a jansson tree of 24 clips and dumping it was most of a list's
 * time: a value allocated per field, a hash per object.  These write the
 * same text jansson writes with RESPOND_JSON_FLAGS (compact, every
 * character past ASCII as \uXXXX, reals as %.17g with a ".0" when they
 * would read as integers), so a client cannot tell which wrote an answer;
 * the unit tests compare the two.  Text that is not valid UTF-8 (which the
 * catalogue never stores) is written with U+FFFD in place of each bad byte
 * rather than producing invalid JSON.
 *
 * The caller places the punctuation between values ('{', ',', ':', ...).
 */
#ifndef KINDLING_WEB_JSON_OUT_H
#define KINDLING_WEB_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "kindling/buf.h"

/* A string, quoted and escaped; NULL writes null. */
void json_out_string(struct kd_buf *b, const char *s);
/* "key": (key is the program's own, never from input, but escaped all the
 * same), preceded by a comma unless first. */
void json_out_key(struct kd_buf *b, const char *key, bool first);
void json_out_int(struct kd_buf *b, int64_t v);
void json_out_real(struct kd_buf *b, double v);
void json_out_bool(struct kd_buf *b, bool v);
void json_out_null(struct kd_buf *b);
/* ["a","b",...] */
void json_out_strings(struct kd_buf *b, char *const *items, size_t n);

#endif
