/* html.c - escaping HTML writer, URL encoding, form bodies (see html.h). */
#include "kindling/html.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/mem.h"

void html_init(struct html *h, size_t cap)
{
	kd_buf_init(&h->b, cap);
	h->failed = false;
}

static void put(struct html *h, const char *s, size_t n)
{
	if (!h->failed && kd_buf_append(&h->b, s, n) < 0)
		h->failed = true;
}

void html_raw(struct html *h, const char *markup)
{
	put(h, markup, strlen(markup));
}

void html_chart(struct html *h, char *svg)
{
	if (svg)
		put(h, svg, strlen(svg));
	free(svg);
}

int html_escape(struct kd_buf *b, const char *s, size_t n)
{
	size_t start = 0;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep;
		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			/* Control characters have no business in a page or an SVG
			 * (XML forbids most); tab and line ends stay. */
			if ((c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' || c == '\r')
				continue;
			rep = "";
		}
		rc = kd_buf_append(b, s + start, i - start);
		if (rc == 0)
			rc = kd_buf_puts(b, rep);
		start = i + 1;
	}
	return rc == 0 ? kd_buf_append(b, s + start, n - start) : rc;
}

static void escape(struct html *h, const char *s, size_t n)
{
	if (!h->failed && html_escape(&h->b, s, n) < 0)
		h->failed = true;
}

void html_text(struct html *h, const char *text)
{
	if (text)
		escape(h, text, strlen(text));
}

void html_attr(struct html *h, const char *value)
{
	html_text(h, value);
}

static void vescaped(struct html *h, const char *fmt, va_list ap)
{
	char small[256];
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(small, sizeof small, fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		escape(h, small, (size_t)n);
		return;
	}
	char *big = kd_malloc((size_t)n + 1);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	escape(h, big, (size_t)n);
	free(big);
}

void html_textf(struct html *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vescaped(h, fmt, ap);
	va_end(ap);
}

void html_attrf(struct html *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vescaped(h, fmt, ap);
	va_end(ap);
}

/* The bytes the full-text index treats as part of a word. */
static bool word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

/* Does word [w, w+wn) match query word [q, q+qn) (prefix: q may be shorter)? */
static bool word_match(const char *w, size_t wn, const char *q, size_t qn, bool prefix)
{
	if (qn == 0 || qn > wn || (!prefix && qn != wn))
		return false;
	for (size_t i = 0; i < qn; i++)
		if (tolower((unsigned char)w[i]) != tolower((unsigned char)q[i]))
			return false;
	return true;
}

void html_text_marked(struct html *h, const char *text, const char *query)
{
	if (!text)
		return;
	/* the query's words, as [start, len) pairs */
	enum { MAXW = 32 };
	const char *qw[MAXW];
	size_t ql[MAXW];
	size_t nq = 0;
	bool last_prefix = false;
	for (const char *p = query ? query : ""; *p && nq < MAXW;) {
		while (*p && !word_byte((unsigned char)*p))
			p++;
		const char *s = p;
		while (word_byte((unsigned char)*p))
			p++;
		if (p > s) {
			qw[nq] = s;
			ql[nq++] = (size_t)(p - s);
		}
	}
	/* as cat_fts_query decides: the last space-separated piece that holds
	 * a word is a prefix when it ends with a word character */
	for (const char *p = query ? query : ""; *p;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		bool has_word = false;
		const char *s = p;
		while (*p && !isspace((unsigned char)*p))
			has_word |= word_byte((unsigned char)*p++);
		if (has_word && p > s)
			last_prefix = word_byte((unsigned char)p[-1]);
	}
	const char *p = text;
	while (*p) {
		const char *s = p;
		if (!word_byte((unsigned char)*p)) {
			while (*p && !word_byte((unsigned char)*p))
				p++;
			escape(h, s, (size_t)(p - s));
			continue;
		}
		while (word_byte((unsigned char)*p))
			p++;
		size_t n = (size_t)(p - s);
		bool hit = false;
		for (size_t i = 0; i < nq && !hit; i++)
			hit = word_match(s, n, qw[i], ql[i], last_prefix && i == nq - 1);
		if (hit)
			html_raw(h, "<mark>");
		escape(h, s, n);
		if (hit)
			html_raw(h, "</mark>");
	}
}

void html_url_encode(struct kd_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || *p == '/') {
			kd_buf_putc(b, (char)*p);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			kd_buf_append(b, e, 3);
		}
	}
}

bool html_failed(const struct html *h)
{
	return h->failed;
}

void html_release(struct html *h)
{
	kd_buf_release(&h->b);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode [s, s+n) from form encoding into a new string. */
static char *decode(const char *s, size_t n)
{
	char *out = kd_malloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		           hexval(s[i + 2]) >= 0) {
			char c = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
			if (c == '\0')
				continue; /* a NUL would cut the value short */
			*o++ = c;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

char *form_value(const char *body, size_t len, const char *name, int n)
{
	if (!body)
		return NULL;
	size_t nlen = strlen(name);
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *fe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(fe - p));
		const char *ke = eq ? eq : fe;
		char *key = decode(p, (size_t)(ke - p));
		bool same = strlen(key) == nlen && !memcmp(key, name, nlen);
		free(key);
		if (same && n-- == 0)
			return eq ? decode(eq + 1, (size_t)(fe - eq - 1)) : kd_strdup("");
		p = fe + 1;
	}
	return NULL;
}
