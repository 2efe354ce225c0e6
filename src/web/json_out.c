/* json_out.c - JSON text written directly (see json_out.h). */
#include "json_out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char HEX[] = "0123456789ABCDEF"; /* as jansson 2.14 writes them */

static void put_u(struct kd_buf *b, unsigned cp)
{
	char e[6] = {'\\', 'u', HEX[cp >> 12 & 15], HEX[cp >> 8 & 15], HEX[cp >> 4 & 15],
	             HEX[cp & 15]};
	kd_buf_append(b, e, sizeof e);
}

/* The code point of the UTF-8 sequence at s and its length, or 0 for a
 * byte that does not start a valid sequence.  s is NUL-terminated, and a
 * NUL is never a continuation byte, so this never reads past it. */
static size_t utf8_decode(const unsigned char *s, unsigned *cp)
{
	unsigned c = s[0];
	size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
	if (c >= 0xf5 || len == 0)
		return 0;
	unsigned v = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and past U+10FFFF are not UTF-8 */
	static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
	if (v < least[len] || (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return 0;
	*cp = v;
	return len;
}

void json_out_string(struct kd_buf *b, const char *s)
{
	if (!s) {
		json_out_null(b);
		return;
	}
	kd_buf_putc(b, '"');
	const unsigned char *p = (const unsigned char *)s;
	for (;;) {
		/* the run that needs no escape, in one copy */
		size_t run = 0;
		while (p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
			run++;
		kd_buf_append(b, p, run);
		p += run;
		if (!*p)
			break;
		unsigned c = *p;
		const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b"
		                : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
		                : c == '\t' ? "\\t" : NULL;
		if (esc) {
			kd_buf_puts(b, esc);
			p++;
		} else if (c < 0x20) {
			put_u(b, c);
			p++;
		} else {
			unsigned cp;
			size_t len = utf8_decode(p, &cp);
			if (!len) {
				cp = 0xfffd;
				len = 1;
			}
			if (cp >= 0x10000) { /* as a surrogate pair */
				cp -= 0x10000;
				put_u(b, 0xd800 | (cp >> 10));
				put_u(b, 0xdc00 | (cp & 0x3ff));
			} else {
				put_u(b, cp);
			}
			p += len;
		}
	}
	kd_buf_putc(b, '"');
}

void json_out_key(struct kd_buf *b, const char *key, bool first)
{
	if (!first)
		kd_buf_putc(b, ',');
	json_out_string(b, key);
	kd_buf_putc(b, ':');
}

void json_out_int(struct kd_buf *b, int64_t v)
{
	kd_buf_put_i64(b, v);
}

void json_out_real(struct kd_buf *b, double v)
{
	if (!isfinite(v)) { /* jansson refuses these; so does JSON */
		json_out_null(b);
		return;
	}
	char num[40];
	int n = snprintf(num, sizeof num, "%.17g", v);
	/* as jansson: a real always reads as one, and the exponent has no '+'
	 * or leading zeros */
	char *e = strchr(num, 'e');
	if (e) {
		char *d = e + 1;
		if (*d == '-')
			d++;
		char *from = d;
		if (*from == '+') {
			memmove(from, from + 1, strlen(from));
			n--;
			d = from;
		}
		size_t zeros = strspn(d, "0");
		if (zeros && d[zeros]) {
			memmove(d, d + zeros, strlen(d + zeros) + 1);
			n -= (int)zeros;
		}
	} else if (!strpbrk(num, ".")) {
		memcpy(num + n, ".0", 3);
		n += 2;
	}
	kd_buf_append(b, num, (size_t)n);
}

void json_out_bool(struct kd_buf *b, bool v)
{
	kd_buf_puts(b, v ? "true" : "false");
}

void json_out_null(struct kd_buf *b)
{
	kd_buf_puts(b, "null");
}

void json_out_strings(struct kd_buf *b, char *const *items, size_t n)
{
	kd_buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			kd_buf_putc(b, ',');
		json_out_string(b, items[i]);
	}
	kd_buf_putc(b, ']');
}
