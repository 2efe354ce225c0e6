/*
 * mail.h - composing and sending the mail the outbox holds (outbox.h).
 *
 *   mail_compose (mail/compose.c)   what a queued message says, read from
 *                                   the catalogue as its recipient may see
 *                                   it now: subject, plain text, HTML, an
 *                                   attachment (the visit's .ics)
 *   mail_render  (mail/message.c)   the RFC 5322 / MIME bytes: headers
 *                                   encoded (RFC 2047, no CR or LF from a
 *                                   title or name reaches a header),
 *                                   multipart/alternative text and HTML,
 *                                   List-Unsubscribe (RFC 2369, 8058)
 *   smtp_send    (mail/smtp.c)      libcurl's SMTP: STARTTLS or SMTPS,
 *                                   AUTH from smtp_user/smtp_password_file
 *   mail_sender  (mail/sender.c)    the background thread of a server that
 *                                   processes (and of `kindling work`):
 *                                   claims, composes, sends, retries with
 *                                   growing pauses; queues the reminders
 *                                   and digests when they are due
 *
 * Settings (kindling.conf, config.h): smtp_url (smtp://HOST[:PORT] for
 * STARTTLS, smtps://HOST[:PORT] for TLS from the start; absent: no mail
 * is queued at all), smtp_user, smtp_password_file, smtp_ca_file (a CA
 * bundle to trust instead of the system's), mail_from ("kindling
 * <kindling@district.org>"), digest_day (monday..sunday, default monday),
 * public_url (links in mail lead there; required with smtp_url).
 */
#ifndef KINDLING_MAIL_H
#define KINDLING_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kindling/buf.h"
#include "kindling/outbox.h"

struct kd_db;     /* db.h */
struct kd_config; /* config.h */

struct mail_attachment {
	char *filename;     /* "visit.ics" */
	char *content_type; /* "text/calendar; method=PUBLISH; charset=UTF-8" */
	char *data;
	size_t len;
};

/* What a message says.  All text is UTF-8 as it came (titles, names): the
 * renderer makes it safe for headers; html is markup written with
 * kindling/html.h (escaped there). */
struct mail_message {
	char *to_addr;        /* the recipient's address */
	char *to_name;        /* their name, or NULL */
	char *subject;
	char *text;           /* text/plain body */
	char *html;           /* text/html body */
	struct mail_attachment *attach;
	size_t n_attach;
};
void mail_message_free(struct mail_message *m);

/* Compose the message it holds for its recipient.  public_url: links
 * (no trailing '/'); unsubscribe_url: the message's one-click link, which
 * the body names too.  Returns 0, KD_ENOTFOUND when there is nothing to
 * send any more (the visit or batch is gone, the recipient has no address
 * or is disabled, a digest with nothing the recipient may see): why says
 * so for the log. */
int mail_compose(struct kd_db *db, const struct outbox_item *it, const char *public_url,
                 const char *unsubscribe_url, struct mail_message *out, char *why,
                 size_t whylen);

/* The envelope and headers a message is rendered with. */
struct mail_envelope {
	const char *from;        /* mail_from: "Name <addr>" or "addr" */
	const char *message_id;  /* "<...@host>" */
	const char *unsubscribe_url; /* NULL: no List-Unsubscribe headers */
	time_t date;
};

/* The whole message, CRLF lines, ready for SMTP DATA (without the dot
 * stuffing, which libcurl does).  KD_EINVAL with err when an address is
 * not one (no '@', CR/LF, spaces, '<' '>'). */
int mail_render(const struct mail_message *m, const struct mail_envelope *env,
                struct kd_buf *out, char *err, size_t errlen);

/* The address part of "Name <addr>" or "addr" (new string), or NULL when
 * it is not one. */
char *mail_address_of(const char *from);

/* Send rendered bytes to rcpt.  handed(arg) is called when the last byte
 * has been given to the server (outbox_handed), before its answer.
 * Returns 0 when accepted; KD_EAGAIN (down, 4xx, timeout before the
 * end: try again later), KD_EPERM (5xx: refused for good), with the
 * server's words in err; *was_handed says whether handed() ran and no
 * answer said the server did not take it (issue 16, H1: a 4xx to the
 * last byte clears it, so the message is tried again). */
struct smtp_settings {
	const char *url;
	const char *user;
	const char *password;
	const char *ca_file;
	long timeout_s;
	/* issue 16 (H1): asked now and then during the exchange; true ends it
	 * before the message is handed (KD_EAGAIN), so that a stopping server
	 * does not wait out a slow SMTP server.  NULL: never. */
	bool (*cancel)(void *arg);
	void *cancel_arg;
};
int smtp_send(const struct smtp_settings *s, const char *from_addr, const char *rcpt,
              const struct kd_buf *data, int (*handed)(void *arg), void *arg,
              bool *was_handed, char *err, size_t errlen);

/* The sender thread.  start: NULL *out and 0 when mail is off.  It looks
 * at the outbox every 2 s; every round (60 s; the environment's
 * KINDLING_MAIL_ROUND_S, 1 to 3600, sets another, for tests) and at its
 * start it recovers interrupted messages and queues the reminders, stale
 * batches and, on digest_day, the digests (issue 16, H1). */
struct mail_sender;
int mail_sender_start(const struct kd_config *cfg, struct mail_sender **out);
void mail_sender_stop(struct mail_sender **s);

#endif
