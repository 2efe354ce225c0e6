/*
 * html.h - the one way kindling writes HTML: the pages (src/web/) and the
 * HTML part of mail (src/mail/).
 *
 * A small writer over struct kd_buf.  Text is escaped by default:
 * html_text() for element content, html_attr() for a quoted attribute
 * value.  Markup the program itself spells goes through html_raw(), which
 * must only ever be given string literals or values built from them (the
 * name says so on purpose: grep for it when reviewing).  html_textf() and
 * html_attrf() format first, then escape the result.
 *
 * Like kd_buf, a writer that passes its cap stops growing; the page then
 * ends short and html_failed() says so.
 */
#ifndef KINDLING_HTML_H
#define KINDLING_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "kindling/buf.h"

struct html {
	struct kd_buf b;
	bool failed;
};

void html_init(struct html *h, size_t cap);
/* Markup written by the program: never a value from a request or the
 * catalogue. */
void html_raw(struct html *h, const char *markup);
/* An <svg> made by charts.c (which escapes every piece of text in it);
 * takes ownership of svg.  Never anything else. */
void html_chart(struct html *h, char *svg);
/* Text for element content, through html_escape(). */
void html_text(struct html *h, const char *text);
void html_textf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A value inside a double-quoted attribute: the same escaping. */
void html_attr(struct html *h, const char *value);
void html_attrf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* text with the words of a search query wrapped in <mark>: the text is
 * escaped piece by piece, then the marks are added around whole words that
 * equal a query word (the last query word also as a prefix), ignoring
 * ASCII case, as the full-text index matches them. */
void html_text_marked(struct html *h, const char *text, const char *query);
/* The one escaper: append n bytes of s to b with & < > " ' as entities
 * and control characters but tab and line ends dropped, for HTML text,
 * attributes and SVG alike.  Returns 0, or KD_ETOOBIG past b's cap. */
int html_escape(struct kd_buf *b, const char *s, size_t n);
/* Append s percent-encoded for a URL query value (then attribute-escaped
 * by the caller's html_attr if needed: the result holds no & < > " '). */
void html_url_encode(struct kd_buf *b, const char *s);
bool html_failed(const struct html *h);
void html_release(struct html *h);

/* Decode an application/x-www-form-urlencoded body: the n-th (from 0)
 * value of field name, as a new string, or NULL when absent. */
char *form_value(const char *body, size_t len, const char *name, int n);

#endif
