/* buf.c - growable, capped byte buffer (see buf.h). */
#include "kindling/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/mem.h"

void kd_buf_init(struct kd_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

/* Make room for n more bytes plus the terminator. */
static int reserve(struct kd_buf *b, size_t n)
{
	if (n > b->cap || b->len > b->cap - n)
		return KD_ETOOBIG;
	size_t need = b->len + n + 1;
	if (need <= b->alloc)
		return 0;
	size_t a = b->alloc ? b->alloc : 64;
	while (a < need)
		a = a > SIZE_MAX / 2 ? need : a * 2;
	b->data = kd_realloc(b->data, a);
	b->alloc = a;
	return 0;
}

int kd_buf_append(struct kd_buf *b, const void *data, size_t n)
{
	int rc = reserve(b, n);
	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int kd_buf_puts(struct kd_buf *b, const char *s)
{
	return kd_buf_append(b, s, strlen(s));
}

int kd_buf_putc(struct kd_buf *b, char c)
{
	/* pages are written a character at a time in places: no call to
	 * reserve() while there is room */
	if (b->len + 2 <= b->alloc && b->len < b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return 0;
	}
	return kd_buf_append(b, &c, 1);
}

int kd_buf_put_i64(struct kd_buf *b, int64_t v)
{
	char digits[24], *p = digits + sizeof digits;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	return kd_buf_append(b, p, (size_t)(digits + sizeof digits - p));
}

int kd_buf_vprintf(struct kd_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	/* Format once into the room there is; only when it does not fit,
	 * make room and format again. */
	size_t room = b->alloc > b->len ? b->alloc - b->len : 0;
	int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	int rc = 0;
	if (n < 0) {
		rc = KD_EINVAL;
	} else if ((size_t)n >= room || (size_t)n > b->cap - b->len) {
		if ((rc = reserve(b, (size_t)n)) == 0)
			vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
	}
	if (rc == 0)
		b->len += (size_t)n;
	else if (b->data)
		b->data[b->len] = '\0'; /* undo what the first attempt wrote */
	va_end(ap2);
	return rc;
}

int kd_buf_printf(struct kd_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = kd_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *kd_buf_str(const struct kd_buf *b)
{
	return b->data ? b->data : "";
}

void kd_buf_reset(struct kd_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *kd_buf_take(struct kd_buf *b, size_t *len)
{
	char *p = b->data ? b->data : kd_strdup("");
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

void kd_buf_release(struct kd_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}
