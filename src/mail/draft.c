/* draft.c - the writer of a message's two bodies side by side (compose.h):
 * every paragraph, list and link goes into the plain text as it is and
 * into the HTML through kindling/html.h, so a title or name is escaped the
 * one way pages escape it; the greeting and the footer with the
 * unsubscribe link are the same in every mail. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "kindling/err.h"
#include "kindling/mem.h"

#define TEXT_MAX (2u << 20)
#define HTML_MAX (4u << 20)

void draft_init(struct draft *d, const char *base)
{
	kd_buf_init(&d->t, TEXT_MAX);
	html_init(&d->h, HTML_MAX);
	d->base = base;
}

void draft_release(struct draft *d)
{
	kd_buf_release(&d->t);
	html_release(&d->h);
}

/* A paragraph of text from the program (fmt) and the catalogue (its %s):
 * the text body gets it as it is, the HTML escaped. */
void draft_para(struct draft *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct kd_buf line = KD_BUF_INIT(64 * 1024);
	kd_buf_vprintf(&line, fmt, ap);
	va_end(ap);
	kd_buf_printf(&d->t, "%s\n\n", kd_buf_str(&line));
	html_raw(&d->h, "<p>");
	html_text(&d->h, kd_buf_str(&line));
	html_raw(&d->h, "</p>\n");
	kd_buf_release(&line);
}

/* A labelled link: "label: URL" in text, <a href=URL>label</a> in HTML. */
void draft_link(struct draft *d, const char *label, const char *path)
{
	kd_buf_printf(&d->t, "%s: %s%s\n\n", label, d->base, path);
	html_raw(&d->h, "<p><a href=\"");
	html_attrf(&d->h, "%s%s", d->base, path);
	html_raw(&d->h, "\">");
	html_text(&d->h, label);
	html_raw(&d->h, "</a></p>\n");
}

void draft_list_begin(struct draft *d)
{
	html_raw(&d->h, "<ul>\n");
}

void draft_list_end(struct draft *d)
{
	html_raw(&d->h, "</ul>\n");
	kd_buf_puts(&d->t, "\n");
}

/* One item: its linked name (path: NULL for none) and what follows it. */
void draft_item(struct draft *d, const char *name, const char *path, const char *rest)
{
	kd_buf_printf(&d->t, "- %s%s%s", name, rest && *rest ? ": " : "", rest ? rest : "");
	if (path)
		kd_buf_printf(&d->t, "\n  %s%s", d->base, path);
	kd_buf_puts(&d->t, "\n");
	html_raw(&d->h, "<li>");
	if (path) {
		html_raw(&d->h, "<a href=\"");
		html_attrf(&d->h, "%s%s", d->base, path);
		html_raw(&d->h, "\">");
	}
	html_text(&d->h, name);
	if (path)
		html_raw(&d->h, "</a>");
	if (rest && *rest) {
		html_raw(&d->h, ": ");
		html_text(&d->h, rest);
	}
	html_raw(&d->h, "</li>\n");
}

/* The greeting, after the HTML's head. */
void draft_open(struct draft *d, const char *subject, const char *name)
{
	html_raw(&d->h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	                "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	html_text(&d->h, subject);
	html_raw(&d->h, "</title></head>\n<body style=\"font-family: sans-serif; line-height: 1.5; "
	                "color: #1a1a1a; max-width: 40em\">\n");
	draft_para(d, "Hello %s,", name);
}

/* Why they get it and how to stop it: the one-click link (RFC 8058's,
 * also in the headers) and /account. */
void draft_close(struct draft *d, const char *because, const char *unsubscribe_url)
{
	kd_buf_printf(&d->t, "-- \nkindling, %s\n", d->base);
	kd_buf_printf(&d->t, "You get this mail because %s.\n", because);
	kd_buf_printf(&d->t, "Stop this kind of mail (one click): %s\n", unsubscribe_url);
	kd_buf_printf(&d->t, "Choose what kindling mails you: %s/account\n", d->base);
	html_raw(&d->h, "<hr>\n<p style=\"font-size: 0.875em; color: #555\">");
	html_text(&d->h, "You get this mail because ");
	html_text(&d->h, because);
	html_raw(&d->h, ". <a href=\"");
	html_attr(&d->h, unsubscribe_url);
	html_raw(&d->h, "\">Stop this kind of mail</a> (one click) or <a href=\"");
	html_attrf(&d->h, "%s/account", d->base);
	html_raw(&d->h, "\">choose what kindling mails you</a>.</p>\n</body></html>\n");
}

/* Hand the draft over to the message; KD_ETOOBIG when a body passed its cap. */
int draft_finish(struct draft *d, struct mail_message *out, char *subject, char *why,
                        size_t whylen)
{
	out->subject = subject;
	if (html_failed(&d->h) || d->t.len >= d->t.cap) {
		snprintf(why, whylen, "the message grew past its size limit");
		return KD_ETOOBIG;
	}
	out->text = kd_buf_take(&d->t, NULL);
	out->html = kd_buf_take(&d->h.b, NULL);
	if (!out->text)
		out->text = kd_strdup("");
	if (!out->html)
		out->html = kd_strdup("");
	return 0;
}

void draft_append(struct draft *d, const struct draft *part)
{
	if (part->t.len && kd_buf_append(&d->t, part->t.data, part->t.len) < 0)
		d->h.failed = true; /* (draft_finish reports it) */
	if (part->h.b.len && kd_buf_append(&d->h.b, part->h.b.data, part->h.b.len) < 0)
		d->h.failed = true;
	if (html_failed(&part->h))
		d->h.failed = true;
}
