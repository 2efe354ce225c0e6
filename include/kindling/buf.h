/*
 * buf.h - a growable byte buffer with a hard size cap.
 *
 * Every request body, response body and generated text goes through one of
 * these.  The cap is fixed at init: an append that would pass it fails with
 * KD_ETOOBIG and leaves the buffer as it was, so a hostile peer cannot make
 * the process grow without bound.  The content is always NUL-terminated
 * (the terminator is not counted in len).
 *
 * Out of memory aborts the process (see util/mem.c): callers do not check
 * for it.
 */
#ifndef KINDLING_BUF_H
#define KINDLING_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct kd_buf {
	char *data;   /* NULL until the first append; then NUL-terminated */
	size_t len;   /* bytes used, not counting the terminator */
	size_t alloc; /* bytes allocated */
	size_t cap;   /* largest len allowed */
};

#define KD_BUF_INIT(capacity) { NULL, 0, 0, (capacity) }

void kd_buf_init(struct kd_buf *b, size_t cap);

/* Append bytes.  Returns 0, or KD_ETOOBIG (buffer unchanged). */
int kd_buf_append(struct kd_buf *b, const void *data, size_t n);
int kd_buf_puts(struct kd_buf *b, const char *s);
int kd_buf_putc(struct kd_buf *b, char c);
/* A decimal integer, as printf's %lld writes it (without its cost). */
int kd_buf_put_i64(struct kd_buf *b, int64_t v);
int kd_buf_printf(struct kd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kd_buf_vprintf(struct kd_buf *b, const char *fmt, va_list ap);

/* The content as a C string; "" for an empty buffer.  Owned by the buffer. */
const char *kd_buf_str(const struct kd_buf *b);

/* Forget the content but keep the memory. */
void kd_buf_reset(struct kd_buf *b);

/* Hand the content over: the caller now owns it and frees it with free().
 * Never returns NULL.  The buffer is empty afterwards and may be reused. */
char *kd_buf_take(struct kd_buf *b, size_t *len);

/* Free the content; the buffer may be reused. */
void kd_buf_release(struct kd_buf *b);

#endif
