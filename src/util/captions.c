/* captions.c - reading WebVTT and SRT, checking them, writing the WebVTT
 * that is served (see captions.h; the catalogue's part is in
 * src/catalogue/captions.c).  Owner: issue 15, H3.
 *
 * What is accepted, and why it is strict where it is: a cue the browser
 * would silently drop (times out of order, an end before its start, text
 * that holds "-->") is refused with its line, so the person who made the
 * file learns it now rather than from a deaf colleague later.  Cue
 * settings (position, alignment) are not kept: the served file is made
 * from the catalogue's cues, which hold times and text only. */
#define _GNU_SOURCE /* memmem */
#include "kindling/captions.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/buf.h"
#include "kindling/err.h"
#include "kindling/mem.h"

/* The longest time written (99999 hours), so sums stay exact in a double. */
#define HOURS_DIGITS_MAX 5
/* How much of a bad line an error quotes. */
#define QUOTE_MAX 40

const char *captions_source_name(enum captions_source s)
{
	switch (s) {
	case CAPTIONS_UPLOADED: return "uploaded";
	case CAPTIONS_AUTOMATIC: return "automatic";
	default: return "none";
	}
}

void captions_free(struct captions *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->cues[i].text);
	free(c->cues);
	c->cues = NULL;
	c->n = 0;
}

/* ---------------------------------------------------------------- lines */

struct reader {
	const char *p, *end;
	size_t line;       /* of the line last read, from 1 */
	const char *s;     /* that line, without its ending */
	size_t len;
	char *err;
	size_t errlen;
};

/* The next line (ended by LF, CRLF or CR); false at the end. */
static bool next_line(struct reader *r)
{
	if (r->p >= r->end)
		return false;
	const char *s = r->p;
	while (r->p < r->end && *r->p != '\n' && *r->p != '\r')
		r->p++;
	r->s = s;
	r->len = (size_t)(r->p - s);
	if (r->p < r->end)
		r->p += *r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n' ? 2 : 1;
	r->line++;
	return true;
}

static bool blank(const struct reader *r)
{
	for (size_t i = 0; i < r->len; i++)
		if (r->s[i] != ' ' && r->s[i] != '\t')
			return false;
	return true;
}

static bool has_arrow(const char *s, size_t len)
{
	return len >= 3 && memmem(s, len, "-->", 3) != NULL;
}

/* Refuse at the current line: "line N: " and the reason; KD_EINVAL. */
__attribute__((format(printf, 2, 3))) static int refuse(struct reader *r, const char *fmt, ...)
{
	int n = snprintf(r->err, r->errlen, "line %zu: ", r->line);
	if (n >= 0 && (size_t)n < r->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return KD_EINVAL;
}

/* The start of the line as a quote: at most QUOTE_MAX bytes, cut at a
 * character's start (the input is valid UTF-8 by then). */
static int quote_len(const char *s, size_t len)
{
	if (len <= QUOTE_MAX)
		return (int)len;
	size_t n = QUOTE_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return (int)n;
}

/* Valid UTF-8 with no NUL, else the line of the first bad byte.  Overlong
 * forms, surrogates and code points past U+10FFFF are refused as the
 * standard says. */
static int check_utf8(const char *text, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	size_t line = 1;
	while (p < end) {
		unsigned c = *p;
		if (c == '\n' || (c == '\r' && !(p + 1 < end && p[1] == '\n')))
			line++;
		if (c == 0) {
			snprintf(err, errlen, "line %zu: a NUL byte; captions are text (save the file "
			         "as UTF-8 text)", line);
			return KD_EINVAL;
		}
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
		         : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		bool ok = n && (size_t)(end - p) >= n;
		for (size_t i = 1; ok && i < n; i++)
			ok = (p[i] & 0xC0) == 0x80;
		if (ok && n == 3)
			ok = !(c == 0xE0 && p[1] < 0xA0) && !(c == 0xED && p[1] >= 0xA0);
		if (ok && n == 4)
			ok = !(c == 0xF0 && p[1] < 0x90) && !(c == 0xF4 && p[1] >= 0x90);
		if (!ok) {
			snprintf(err, errlen, "line %zu: not UTF-8 text (byte 0x%02X); save the file as "
			         "UTF-8", line, c);
			return KD_EINVAL;
		}
		p += n;
	}
	return 0;
}

/* ---------------------------------------------------------------- times */

/* Read digits at *p (at most max, at least min): the value, or -1. */
static long digits(const char **p, const char *end, int min, int max)
{
	long v = 0;
	int n = 0;
	while (*p < end && **p >= '0' && **p <= '9') {
		if (n == max)
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n < min ? -1 : v;
}

/* A time: [hh:]mm:ss.ttt (WebVTT, sep '.') or hh:mm:ss,ttt (SRT, sep ',';
 * '.' is taken too, as many tools write it).  Advances *p.  0 or -1. */
static int parse_time(const char **p, const char *end, bool srt, double *out)
{
	const char *s = *p;
	long a = digits(&s, end, 1, HOURS_DIGITS_MAX);
	if (a < 0 || s >= end || *s != ':')
		return -1;
	s++;
	long b = digits(&s, end, 2, 2);
	if (b < 0)
		return -1;
	long h = 0, m, sec;
	if (s < end && *s == ':') {
		s++;
		long c = digits(&s, end, 2, 2);
		if (c < 0)
			return -1;
		h = a, m = b, sec = c;
	} else {
		if (srt || a > 99 || s - *p != 5)
			return -1; /* SRT always has hours; WebVTT minutes are two digits */
		m = a, sec = b;
	}
	if (s >= end || !(*s == '.' || (srt && *s == ',')))
		return -1;
	s++;
	long ms = digits(&s, end, 3, 3);
	if (ms < 0 || m > 59 || sec > 59)
		return -1;
	*out = (double)h * 3600 + (double)m * 60 + (double)sec + (double)ms / 1000;
	*p = s;
	return 0;
}

/* "1:02.500" or "1:02:03.250", for messages. */
static const char *time_text(double t, char *buf, size_t len)
{
	long long ms = llround(t * 1000);
	long long h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
	if (h)
		snprintf(buf, len, "%lld:%02lld:%02lld.%03lld", h, m, s, ms % 1000);
	else
		snprintf(buf, len, "%lld:%02lld.%03lld", m, s, ms % 1000);
	return buf;
}

/* ---------------------------------------------------------------- cues */

struct parse {
	struct reader r;
	bool srt;
	double duration_s;
	struct captions *out;
	size_t cap;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The timing line of a cue: start --> end, then WebVTT settings (not
 * kept) or SRT's coordinates (not kept). */
static int timing(struct parse *ps, double *start, double *end)
{
	struct reader *r = &ps->r;
	const char *p = r->s, *e = r->s + r->len;
	const char *example = ps->srt ? "00:00:01,000 --> 00:00:04,000" : "00:01.000 --> 00:04.000";
	while (p < e && is_space(*p))
		p++;
	if (parse_time(&p, e, ps->srt, start) < 0)
		return refuse(r, "\"%.*s\" does not start with a time; write the cue's times as "
		              "\"%s\"", quote_len(r->s, r->len), r->s, example);
	while (p < e && is_space(*p))
		p++;
	if (e - p < 3 || memcmp(p, "-->", 3) != 0)
		return refuse(r, "expected \"-->\" after the start time, as in \"%s\"", example);
	p += 3;
	while (p < e && is_space(*p))
		p++;
	if (parse_time(&p, e, ps->srt, end) < 0)
		return refuse(r, "the end time after \"-->\" is not a time; write it as in \"%s\"",
		              example);
	if (p < e && !is_space(*p))
		return refuse(r, "unexpected \"%.*s\" after the end time", quote_len(p, (size_t)(e - p)),
		              p);
	char a[32], b[32];
	if (*end < *start)
		return refuse(r, "the cue ends (%s) before it starts (%s)", time_text(*end, a, sizeof a),
		              time_text(*start, b, sizeof b));
	if (*end == *start)
		return refuse(r, "the cue ends when it starts (%s): it would never be shown",
		              time_text(*start, a, sizeof a));
	if (ps->out->n && *start < ps->out->cues[ps->out->n - 1].start_s)
		return refuse(r, "this cue starts (%s) before the one before it (%s); put the cues "
		              "in order of time", time_text(*start, a, sizeof a),
		              time_text(ps->out->cues[ps->out->n - 1].start_s, b, sizeof b));
	if (ps->duration_s > 0 && *start >= ps->duration_s)
		return refuse(r, "the cue starts at %s, at or past the end of the clip (it is %s "
		              "long)", time_text(*start, a, sizeof a),
		              time_text(ps->duration_s, b, sizeof b));
	if (ps->duration_s > 0 && *end > ps->duration_s)
		*end = ps->duration_s; /* runs past the end: shown until the end */
	return 0;
}

/* The text lines after the timing line, up to a blank line or the end;
 * the cue is kept when it has any. */
static int cue_text(struct parse *ps, double start, double end)
{
	struct reader *r = &ps->r;
	struct kd_buf text = KD_BUF_INIT(CAPTIONS_CUE_TEXT_MAX);
	size_t first = r->line + 1;
	while (next_line(r) && !blank(r)) {
		if (has_arrow(r->s, r->len)) {
			kd_buf_release(&text);
			return refuse(r, "a cue's text may not hold \"-->\"; if this is the next cue, "
			              "put a blank line before it");
		}
		if ((text.len && kd_buf_putc(&text, '\n') < 0) ||
		    kd_buf_append(&text, r->s, r->len) < 0) {
			kd_buf_release(&text);
			r->line = first;
			return refuse(r, "the cue's text is longer than %d bytes; split it into shorter "
			              "cues", CAPTIONS_CUE_TEXT_MAX);
		}
	}
	if (!text.len)
		return 0; /* nothing to show: not kept */
	struct captions *c = ps->out;
	if (c->n == CAPTIONS_CUES_MAX) {
		kd_buf_release(&text);
		r->line = first - 1;
		return refuse(r, "more than %d cues; a clip's captions may have at most %d",
		              CAPTIONS_CUES_MAX, CAPTIONS_CUES_MAX);
	}
	if (c->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 64;
		c->cues = kd_realloc(c->cues, ps->cap * sizeof *c->cues);
	}
	c->cues[c->n++] = (struct caption_cue){start, end, kd_buf_take(&text, NULL)};
	return 0;
}

/* Does the line start with a time (times with a mistyped arrow)? */
static bool starts_with_time(const struct parse *ps)
{
	const char *p = ps->r.s, *e = ps->r.s + ps->r.len;
	double t;
	while (p < e && is_space(*p))
		p++;
	return parse_time(&p, e, ps->srt, &t) == 0;
}

/* Skip the rest of a block (a NOTE, STYLE or REGION). */
static void skip_block(struct reader *r)
{
	while (next_line(r) && !blank(r))
		;
}

static bool block_is(const struct reader *r, const char *word)
{
	size_t n = strlen(word);
	return r->len >= n && !memcmp(r->s, word, n) && (r->len == n || is_space(r->s[n]));
}

static int parse_vtt(struct parse *ps)
{
	struct reader *r = &ps->r;
	skip_block(r); /* "WEBVTT" and its header lines */
	for (;;) {
		bool got;
		while ((got = next_line(r)) && blank(r))
			;
		if (!got)
			return 0;
		if (block_is(r, "NOTE") || block_is(r, "STYLE") || block_is(r, "REGION")) {
			skip_block(r);
			continue;
		}
		if (!has_arrow(r->s, r->len) && starts_with_time(ps))
			return timing(ps, &(double){0}, &(double){0}); /* says what is wrong */
		if (!has_arrow(r->s, r->len)) { /* an identifier: the times follow */
			if (!next_line(r) || blank(r))
				return refuse(r, "expected the cue's times (\"00:01.000 --> 00:04.000\") "
				              "after its identifier");
			if (!has_arrow(r->s, r->len))
				return refuse(r, "expected the cue's times (\"00:01.000 --> 00:04.000\"), "
				              "found \"%.*s\"", quote_len(r->s, r->len), r->s);
		}
		double start, end;
		int rc = timing(ps, &start, &end);
		if (rc == 0)
			rc = cue_text(ps, start, end);
		if (rc < 0)
			return rc;
	}
}

static bool all_digits(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && is_space(s[len - 1]))
		len--;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

static int parse_srt(struct parse *ps)
{
	struct reader *r = &ps->r;
	for (;;) {
		bool got;
		while ((got = next_line(r)) && blank(r))
			;
		if (!got)
			return 0;
		if (all_digits(r->s, r->len)) { /* the cue's number (not kept: they are renumbered) */
			if (!next_line(r))
				return refuse(r, "the cue's times are missing after its number");
			if (!has_arrow(r->s, r->len) && starts_with_time(ps))
				return timing(ps, &(double){0}, &(double){0}); /* says what is wrong */
			if (!has_arrow(r->s, r->len))
				return refuse(r, "expected the cue's times (\"00:00:01,000 --> "
				              "00:00:04,000\") on the line after its number");
		} else if (!has_arrow(r->s, r->len) && starts_with_time(ps)) {
			return timing(ps, &(double){0}, &(double){0}); /* says what is wrong */
		} else if (!has_arrow(r->s, r->len)) {
			return refuse(r, "expected a cue's number or its times (\"00:00:01,000 --> "
			              "00:00:04,000\"), found \"%.*s\"", quote_len(r->s, r->len), r->s);
		}
		double start, end;
		int rc = timing(ps, &start, &end);
		if (rc == 0)
			rc = cue_text(ps, start, end);
		if (rc < 0)
			return rc;
	}
}

int captions_parse(const char *text, size_t len, double duration_s, struct captions *out,
                   char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (len > CAPTIONS_BYTES_MAX) {
		snprintf(err, errlen, "the captions are %zu bytes, more than the %u allowed; split "
		         "the clip or shorten the cues", len, CAPTIONS_BYTES_MAX);
		return KD_ETOOBIG;
	}
	int rc = check_utf8(text, len, err, errlen);
	if (rc < 0)
		return rc;
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		text += 3, len -= 3;
	struct parse ps = {
		.r = {.p = text, .end = text + len, .err = err, .errlen = errlen},
		.duration_s = duration_s > 0 && isfinite(duration_s) ? duration_s : 0,
		.out = out,
	};
	struct reader probe = ps.r;
	if (!next_line(&probe) && probe.line == 0) {
		snprintf(err, errlen, "line 1: the captions are empty; send a WebVTT file (starting "
		         "\"WEBVTT\") or an SRT file");
		return KD_EINVAL;
	}
	if (probe.len >= 6 && !memcmp(probe.s, "WEBVTT", 6) &&
	    (probe.len == 6 || is_space(probe.s[6]))) {
		rc = parse_vtt(&ps);
	} else {
		/* SRT has no signature: its first block is a number or times */
		while (blank(&probe) && next_line(&probe))
			;
		if (!all_digits(probe.s, probe.len) && !has_arrow(probe.s, probe.len)) {
			snprintf(err, errlen, "line %zu: neither WebVTT (the first line must be "
			         "\"WEBVTT\") nor SRT (numbered cues with times as \"00:00:01,000 --> "
			         "00:00:04,000\")", probe.line);
			return KD_EINVAL;
		}
		ps.srt = true;
		rc = parse_srt(&ps);
	}
	if (rc == 0 && out->n == 0) {
		snprintf(err, errlen, "line %zu: no cues with text; each cue is its times, then its "
		         "text, then a blank line", ps.r.line ? ps.r.line : 1);
		rc = KD_EINVAL;
	}
	if (rc < 0)
		captions_free(out);
	return rc;
}

/* ---------------------------------------------------------------- writing */

static void put_time(struct kd_buf *b, double t)
{
	long long ms = llround(t * 1000);
	kd_buf_printf(b, "%02lld:%02lld:%02lld.%03lld", ms / 3600000, ms / 60000 % 60,
	              ms / 1000 % 60, ms % 1000);
}

char *captions_to_vtt(const struct captions *c, size_t *len)
{
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	kd_buf_puts(&b, "WEBVTT\n");
	for (size_t i = 0; i < c->n; i++) {
		kd_buf_putc(&b, '\n');
		put_time(&b, c->cues[i].start_s);
		kd_buf_puts(&b, " --> ");
		put_time(&b, c->cues[i].end_s);
		kd_buf_putc(&b, '\n');
		kd_buf_puts(&b, c->cues[i].text);
		kd_buf_putc(&b, '\n');
	}
	return kd_buf_take(&b, len);
}
