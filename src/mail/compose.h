/*
 * compose.h - private to src/mail/: the pieces of mail_compose (mail.h).
 *
 *   draft.c            a message's plain text and HTML written side by
 *                      side (text as it is, HTML escaped by html.h), the
 *                      greeting and the footer with the unsubscribe link
 *   compose_digest.c   the weekly digest
 *   compose.c          the visits' and the upload batches' mail, and
 *                      mail_compose itself
 */
#ifndef KINDLING_MAIL_COMPOSE_H
#define KINDLING_MAIL_COMPOSE_H

#include <stddef.h>

#include "kindling/buf.h"
#include "kindling/html.h"
#include "kindling/mail.h"
#include "kindling/users.h"

/* A digest or a batch names at most this many clips (and moments); the
 * rest are counted. */
#define LIST_MAX 50

/* The message being written: its two bodies side by side. */
struct draft {
	struct kd_buf t;
	struct html h;
	const char *base; /* public_url */
};

void draft_init(struct draft *d, const char *base);
void draft_release(struct draft *d);
/* A paragraph of text from the program (fmt) and the catalogue (its %s). */
void draft_para(struct draft *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "label: URL" in the text, a link in the HTML; path is under base. */
void draft_link(struct draft *d, const char *label, const char *path);
void draft_list_begin(struct draft *d);
void draft_list_end(struct draft *d);
/* One item of a list: its name, linked to path (NULL: not), then rest. */
void draft_item(struct draft *d, const char *name, const char *path, const char *rest);
/* The HTML's head and the greeting of name. */
void draft_open(struct draft *d, const char *subject, const char *name);
/* Why they get it (because), the one-click link and /account. */
void draft_close(struct draft *d, const char *because, const char *unsubscribe_url);
/* part's bodies after d's. */
void draft_append(struct draft *d, const struct draft *part);
/* Hand the bodies and subject (taken over) to out: 0, or KD_ETOOBIG when a
 * body passed its size limit. */
int draft_finish(struct draft *d, struct mail_message *out, char *subject, char *why,
                 size_t whylen);

/* The weekly digest it is for u (compose_digest.c): 0, KD_ENOTFOUND when
 * there is nothing u may see, <0 on a catalogue error; why says which. */
int compose_digest(struct kd_db *db, const struct outbox_item *it, const struct kd_user *u,
                   struct draft *d, struct mail_message *out, const char *unsub, char *why,
                   size_t whylen);

#endif
