/*
 * outbox.h - mail waiting to be sent, kept in the catalogue
 * (schema/012_mail.sql), and what decides who gets it: each person's
 * switches, the practices they follow, the upload batches a coach hears
 * about.  (Composing and sending: mail.h.)
 *
 * A message is queued by a row written in the transaction of the event
 * that causes it (the caller's, when one is open), with a dedupe key that
 * names the event and the recipient: however often and by however many
 * nodes an event is noticed, it queues one message.  Nothing is queued
 * while mail is off (outbox_enabled(): no smtp_url), nor for a recipient
 * without an address, disabled, or who switched that kind of mail off.
 * What a message says is decided when it is sent (mail_compose), so a
 * clip withdrawn in between is not named.
 *
 * Life of a row: queued -> sending (claimed by one sender, with a lease)
 * -> handed (its last byte given to the SMTP server: a crash now must not
 * send it again) -> sent; or back to queued with a later next_at (the
 * server was down or said "try later"); or failed (refused for good, or
 * too many tries), or dropped (nothing left to say, the recipient gone).
 *
 * Strings in the structs are owned by them (free with the _free calls).
 */
#ifndef KINDLING_OUTBOX_H
#define KINDLING_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kindling/users.h"

struct kd_db; /* db.h */

enum mail_kind {
	MAIL_VISIT_REQUESTED, /* to the host school's principals and the featured teacher */
	MAIL_VISIT_ANSWERED,  /* accepted (with the .ics) or declined: to the requester */
	MAIL_VISIT_REMINDER,  /* the day before an accepted visit: to both sides */
	MAIL_PROCESSING,      /* an upload batch finished: to its uploader */
	MAIL_DIGEST,          /* weekly: new clips and moments of followed practices */
	MAIL_KIND_COUNT
};

/* "visit_requested", ... (the schema's and the API's names). */
const char *mail_kind_name(enum mail_kind k);
/* The name back; KD_EINVAL for anything else. */
int mail_kind_parse(const char *name, enum mail_kind *out);
/* What the switch on /account says, e.g. "Someone asks to visit your
 * classroom or school". */
const char *mail_kind_label(enum mail_kind k);

/* Mail is on in this process (smtp_url is set).  Every command that opens
 * the catalogue with a configuration sets it once, before any thread. */
void outbox_set_enabled(bool on);
bool outbox_enabled(void);

/* Queue a message of kind for user_id about ref_id / ref_text, keyed by
 * dedupe (e.g. "visit_requested:12:5").  Returns 1 when queued, 0 when
 * not (mail off, no address, disabled, switched off, already queued),
 * <0 on a catalogue error. */
int outbox_queue(struct kd_db *db, enum mail_kind kind, int64_t user_id, int64_t ref_id,
                 const char *ref_text, const char *dedupe);

/* ---- events (outbox_events.c): each queues in the caller's transaction */

/* A visit was asked for: its host school's principals and the featured
 * teacher (not the requester). */
int outbox_visit_requested(struct kd_db *db, int64_t visit_id);
/* A visit was accepted or declined: the requester. */
int outbox_visit_answered(struct kd_db *db, int64_t visit_id);
/* Accepted visits on day (YYYY-MM-DD, tomorrow in the sender's time):
 * both sides, once per visit and person. */
int outbox_reminders_due(struct kd_db *db, const char *day);
/* A clip of a batch finished (ready or failed): when all the batch's clips
 * have, its uploader, once, if some failed or they asked (--notify). */
int outbox_clip_finished(struct kd_db *db, int64_t clip_id);
/* Batches all of whose clips finished but fewer than announced arrived
 * (a file the client never sent), older than an hour: as above. */
int outbox_batches_stale(struct kd_db *db);
/* The weekly digest, on its day: everyone following a practice, covering
 * since (YYYY-MM-DD) to today; once per person and week. */
int outbox_digests_due(struct kd_db *db, const char *since, const char *today);

/* An upload that names a batch (tus metadata batch, batch_size, notify):
 * the batch of (uploader, token), made on its first clip; the clip is
 * filed in it.  KD_EINVAL with err for a bad token or size.
 * issue 16 (H2): size is how many files the run may still make clips of;
 * the batch keeps the smallest it is told.  clip_id 0: a file of the run
 * that made no clip (the catalogue had it): one fewer to wait for (then
 * the batch may be over: see outbox_clip_finished). */
int outbox_batch_attach(struct kd_db *db, int64_t user_id, const char *token, int64_t size,
                        bool notify, int64_t clip_id, char *err, size_t errlen);

/* ---- sending (mail/sender.c) */

struct outbox_item {
	int64_t id;
	enum mail_kind kind;
	int64_t user_id;
	int64_t ref_id;
	char *ref_text;   /* or NULL */
	int attempts;     /* before this one */
	char *created_at; /* when queued, ISO 8601 UTC */
};
void outbox_item_free(struct outbox_item *it);

/* Claim the oldest due message (queued, next_at <= now) for this sender
 * (node, pid) until now + lease_s.  1 with *out, 0 when none is due. */
int outbox_claim(struct kd_db *db, const char *node, pid_t pid, int64_t now, int lease_s,
                 struct outbox_item *out);
/* The message's one-click unsubscribe secret, chosen as it is composed:
 * its hash is kept, the secret goes in the message only. */
int outbox_set_unsubscribe(struct kd_db *db, int64_t id, const unsigned char hash[32]);
/* The message's last byte is handed to the SMTP server. */
int outbox_handed(struct kd_db *db, int64_t id);
/* Accepted by the SMTP server, with this Message-ID. */
int outbox_sent(struct kd_db *db, int64_t id, const char *message_id);
/* Try again at next_at: why the last try failed. */
int outbox_retry(struct kd_db *db, int64_t id, int64_t next_at, const char *why);
/* Not sent, for good: failed (refused, too many tries) or dropped
 * (nothing left to say). */
int outbox_give_up(struct kd_db *db, int64_t id, bool dropped, const char *why);
/* After a crash: this node's messages held by a process that is gone (or
 * by any process of it when at_start... as jobs_recover), and any node's
 * past their lease: sending -> queued (the server never got all of it),
 * handed -> sent (it may have arrived: not sent twice).  Logged. */
int outbox_recover(struct kd_db *db, const char *node, pid_t pid, bool at_start);

/* ---- people decide */

/* The switches of user_id: on[k] for each kind (no row: on). */
int mail_prefs_get(struct kd_db *db, int64_t user_id, bool on[MAIL_KIND_COUNT]);
int mail_prefs_set(struct kd_db *db, int64_t user_id, enum mail_kind kind, bool on);

/* Use a one-click unsubscribe link: message id with its secret (the text
 * after the id in the link).  Turns that message's kind off for its
 * recipient and nothing else.  KD_ENOTFOUND: no such message or not its
 * secret; KD_EEXIST: the link was used already.  *kind and *user_id say
 * what was switched off. */
int outbox_unsubscribe(struct kd_db *db, int64_t id, const char *secret, enum mail_kind *kind,
                       int64_t *user_id);

/* issue 16 (H3): what outbox_unsubscribe would do, changing nothing (the
 * link's page, before its button): *kind, and *used when the link was
 * used already.  KD_ENOTFOUND as there. */
int outbox_unsubscribe_peek(struct kd_db *db, int64_t id, const char *secret,
                            enum mail_kind *kind, bool *used);

/* Follow (on) or stop following a practice (by slug).  KD_ENOTFOUND with
 * err for an unknown practice. */
int follow_set(struct kd_db *db, const struct kd_user *user, const char *slug, bool on,
               char *err, size_t errlen);
/* Does user follow the practice?  false for an unknown one. */
bool follow_get(struct kd_db *db, const struct kd_user *user, const char *slug);
/* issue 16 (H3): the practices user_id follows, by name (id, slug, name,
 * retired_at; description empty): free with cat_practices_free. */
struct cat_practice; /* catalogue.h */
int follow_list(struct kd_db *db, int64_t user_id, struct cat_practice **out, size_t *n);

#endif
