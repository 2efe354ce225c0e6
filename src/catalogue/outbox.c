/* outbox.c - mail waiting to be sent (outbox.h): the kinds, the switch
 * that says this process mails at all, queueing, and the life of a row
 * from queued to sent as one sender holds it; the one-click unsubscribe.
 * (Who gets which message: outbox_events.c; the switches and follows:
 * mail_prefs.c; composing and sending: src/mail/.) */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/outbox.h"

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
/* An unsubscribe secret is 43 characters (outbox.h's link format); a
 * longer one is not one of ours and is not hashed. */
#define SECRET_MAX 128

static const char *const NAMES[MAIL_KIND_COUNT] = {
	"visit_requested", "visit_answered", "visit_reminder", "processing", "digest",
};

static const char *const LABELS[MAIL_KIND_COUNT] = {
	"Someone asks to visit your classroom or school",
	"Your request to visit is accepted or declined",
	"A reminder the day before a visit",
	"Your uploaded clips have been processed (when some failed, or when you asked)",
	"A weekly digest of new clips of the practices you follow",
};

const char *mail_kind_name(enum mail_kind k)
{
	return (unsigned)k < MAIL_KIND_COUNT ? NAMES[k] : "unknown";
}

int mail_kind_parse(const char *name, enum mail_kind *out)
{
	for (int k = 0; name && k < MAIL_KIND_COUNT; k++)
		if (!strcmp(name, NAMES[k])) {
			*out = (enum mail_kind)k;
			return 0;
		}
	return KD_EINVAL;
}

const char *mail_kind_label(enum mail_kind k)
{
	return (unsigned)k < MAIL_KIND_COUNT ? LABELS[k] : "";
}

/* Set once before any thread starts and read by every request thread: an
 * atomic, so that tests which flip it are well-defined too. */
static atomic_bool enabled;

void outbox_set_enabled(bool on)
{
	atomic_store(&enabled, on);
}

bool outbox_enabled(void)
{
	return atomic_load(&enabled);
}

/* Run a prepared statement that returns nothing; 0, or the error logged. */
static int step_done(struct kd_db *db, struct kd_stmt *st)
{
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE && rc != DB_ROW) {
		log_error("outbox", "%s", db_errmsg(db));
		return db_err_code(rc);
	}
	return 0;
}

static int prepare(struct kd_db *db, const char *sql, struct kd_stmt **st)
{
	if (db_prepare(db, sql, st) != DB_OK) {
		log_error("outbox", "%s", db_errmsg(db));
		return KD_EDB;
	}
	return 0;
}

int outbox_queue(struct kd_db *db, enum mail_kind kind, int64_t user_id, int64_t ref_id,
                 const char *ref_text, const char *dedupe)
{
	if (!outbox_enabled())
		return 0;
	if ((unsigned)kind >= MAIL_KIND_COUNT || !dedupe || !*dedupe)
		return KD_EINVAL;
	/* One statement decides and writes: whether the person can and wants
	 * to hear, and whether this event already queued their message (the
	 * dedupe key, however many nodes noticed it). */
	struct kd_stmt *st;
	int rc = prepare(db, "INSERT INTO outbox (kind, user_id, ref_id, ref_text, dedupe) "
		"SELECT ?1, u.id, NULLIF(?3, 0), ?4, ?5 FROM users u WHERE u.id = ?2 "
		"AND u.email IS NOT NULL AND u.email <> '' AND u.disabled = 0 "
		"AND NOT EXISTS (SELECT 1 FROM mail_prefs p WHERE p.user_id = u.id "
		"AND p.kind = ?1 AND p.enabled = 0) "
		"ON CONFLICT (dedupe) DO NOTHING", &st);
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, NAMES[kind], -1, DB_STATIC);
	db_bind_int64(st, 2, user_id);
	db_bind_int64(st, 3, ref_id > 0 ? ref_id : 0);
	if (ref_text)
		db_bind_text(st, 4, ref_text, -1, DB_STATIC);
	else
		db_bind_null(st, 4);
	db_bind_text(st, 5, dedupe, -1, DB_STATIC);
	if ((rc = db_step(st)) != DB_DONE) {
		log_error("outbox", "cannot queue %s: %s", dedupe, db_errmsg(db));
		db_finalize(st);
		return db_err_code(rc);
	}
	int64_t n = db_changes(db);
	db_finalize(st);
	return n > 0 ? 1 : 0;
}

void outbox_item_free(struct outbox_item *it)
{
	if (!it)
		return;
	free(it->ref_text);
	free(it->created_at);
	memset(it, 0, sizeof *it);
}

int outbox_claim(struct kd_db *db, const char *node, pid_t pid, int64_t now, int lease_s,
                 struct outbox_item *out)
{
	memset(out, 0, sizeof *out);
	/* As jobs are claimed (src/jobs/queue.c): one statement moves the row
	 * from queued to sending, and on PostgreSQL a row another node is
	 * taking is passed over, not waited for.  attempts counts this try
	 * already, so a message that crashes its sender every time still
	 * reaches its limit. */
#define CLAIM_SQL(lock)                                                                     \
	"UPDATE outbox SET state = 'sending', attempts = attempts + 1, node = ?1, pid = ?2, "  \
	"lease_until = ?3 WHERE id = (SELECT id FROM outbox WHERE state = 'queued' "           \
	"AND next_at <= ?4 ORDER BY next_at, id LIMIT 1" lock ") "                             \
	"RETURNING id, kind, user_id, coalesce(ref_id, 0), ref_text, attempts - 1, created_at"
	struct kd_stmt *st;
	int rc = prepare(db, db_backend(db) == DB_POSTGRES ? CLAIM_SQL(" FOR UPDATE SKIP LOCKED")
	                                                   : CLAIM_SQL(""), &st);
#undef CLAIM_SQL
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, node, -1, DB_STATIC);
	db_bind_int64(st, 2, (int64_t)pid);
	db_bind_int64(st, 3, now + lease_s);
	db_bind_int64(st, 4, now);
	int found = 0;
	rc = db_step(st);
	if (rc == DB_ROW) {
		const char *kind = (const char *)db_column_text(st, 1);
		const char *ref = (const char *)db_column_text(st, 4);
		const char *created = (const char *)db_column_text(st, 6);
		out->id = db_column_int64(st, 0);
		if (mail_kind_parse(kind, &out->kind) < 0)
			out->kind = MAIL_KIND_COUNT; /* (the schema's CHECK keeps this from happening) */
		out->user_id = db_column_int64(st, 2);
		out->ref_id = db_column_int64(st, 3);
		out->ref_text = ref ? kd_strdup(ref) : NULL;
		out->attempts = db_column_int(st, 5);
		out->created_at = kd_strdup(created ? created : "");
		found = 1;
	}
	/* RETURNING rows must be stepped to the end for the UPDATE to commit. */
	while (rc == DB_ROW)
		rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		log_error("outbox", "cannot claim a message: %s", db_errmsg(db));
		outbox_item_free(out);
		return db_err_code(rc);
	}
	return found;
}

/* Run sql (?1 the id, maybe ?2 a text) on one message; KD_ENOTFOUND when
 * it changed nothing: the message is not in the state the sender thinks
 * (its lease ran out and another sender took it over). */
static int on_row(struct kd_db *db, const char *sql, int64_t id, const char *text)
{
	struct kd_stmt *st;
	int rc = prepare(db, sql, &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, id);
	if (db_has_param(st, 2)) {
		if (text)
			db_bind_text(st, 2, text, -1, DB_STATIC);
		else
			db_bind_null(st, 2);
	}
	if ((rc = step_done(db, st)) < 0)
		return rc;
	return db_changes(db) > 0 ? 0 : KD_ENOTFOUND;
}

int outbox_set_unsubscribe(struct kd_db *db, int64_t id, const unsigned char hash[32])
{
	struct kd_stmt *st;
	int rc = prepare(db, "UPDATE outbox SET unsub_hash = ?2, unsub_used_at = NULL "
		"WHERE id = ?1 AND state = 'sending'", &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, id);
	db_bind_blob(st, 2, hash, 32, DB_STATIC);
	if ((rc = step_done(db, st)) < 0)
		return rc;
	return db_changes(db) > 0 ? 0 : KD_ENOTFOUND;
}

int outbox_handed(struct kd_db *db, int64_t id)
{
	return on_row(db, "UPDATE outbox SET state = 'handed' WHERE id = ?1 AND state = 'sending'",
	              id, NULL);
}

int outbox_sent(struct kd_db *db, int64_t id, const char *message_id)
{
	return on_row(db, "UPDATE outbox SET state = 'sent', message_id = ?2, last_error = NULL, "
		"node = NULL, pid = NULL, lease_until = NULL, sent_at = " NOW_SQL " "
		"WHERE id = ?1 AND state IN ('sending', 'handed')", id, message_id);
}

int outbox_retry(struct kd_db *db, int64_t id, int64_t next_at, const char *why)
{
	struct kd_stmt *st;
	int rc = prepare(db, "UPDATE outbox SET state = 'queued', next_at = ?3, last_error = ?2, "
		"node = NULL, pid = NULL, lease_until = NULL WHERE id = ?1 "
		"AND state IN ('sending', 'handed')", &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, why ? why : "", -1, DB_STATIC);
	db_bind_int64(st, 3, next_at);
	if ((rc = step_done(db, st)) < 0)
		return rc;
	return db_changes(db) > 0 ? 0 : KD_ENOTFOUND;
}

int outbox_give_up(struct kd_db *db, int64_t id, bool dropped, const char *why)
{
	return on_row(db, dropped
		? "UPDATE outbox SET state = 'dropped', last_error = ?2, node = NULL, pid = NULL, "
		  "lease_until = NULL WHERE id = ?1 AND state IN ('queued', 'sending')"
		: "UPDATE outbox SET state = 'failed', last_error = ?2, node = NULL, pid = NULL, "
		  "lease_until = NULL WHERE id = ?1 AND state IN ('queued', 'sending', 'handed')",
		id, why ? why : "");
}

/* Is the message held by sender pid on node until lease abandoned?  As
 * jobs_recover decides for jobs (src/jobs/queue.c), and past its lease in
 * any case: one message is never held that long (its SMTP exchange is
 * bounded well below the lease), so one still held was left behind by a
 * sender whose catalogue connection broke mid-way. */
static bool abandoned(const char *me_node, pid_t me_pid, bool at_start, pid_t pid,
                      const char *node, int64_t lease, int64_t now)
{
	if (lease < now || !node || strcmp(node, me_node) != 0)
		return lease < now; /* another machine's: only its lease can tell */
	if (pid == me_pid)
		return at_start; /* ours, unless we have just started (a reused pid) */
	return !(pid > 0 && (kill(pid, 0) == 0 || errno == EPERM));
}

int outbox_recover(struct kd_db *db, const char *node, pid_t pid, bool at_start)
{
	struct kd_stmt *st;
	int rc = prepare(db, "SELECT id, state, pid, node, coalesce(lease_until, 0) FROM outbox "
		"WHERE state IN ('sending', 'handed')", &st);
	if (rc < 0)
		return rc;
	struct held { int64_t id; bool handed; } *h = NULL;
	size_t n = 0, cap = 0;
	int64_t now = (int64_t)time(NULL);
	while ((rc = db_step(st)) == DB_ROW) {
		if (!abandoned(node, pid, at_start, (pid_t)db_column_int64(st, 2),
		               (const char *)db_column_text(st, 3), db_column_int64(st, 4), now))
			continue;
		if (n == cap)
			h = kd_realloc(h, (cap = cap ? cap * 2 : 16) * sizeof *h);
		h[n].id = db_column_int64(st, 0);
		h[n++].handed = !strcmp((const char *)db_column_text(st, 1), "handed");
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		free(h);
		log_error("outbox", "cannot look for interrupted messages: %s", db_errmsg(db));
		return db_err_code(rc);
	}
	int first = 0;
	for (size_t i = 0; i < n; i++) {
		/* Handed: the SMTP server had every byte, and may have kept it
		 * before the sender died; sending it again could mail it twice,
		 * which the design rules out.  Sending: the server never had all
		 * of it, so it cannot have been delivered. */
		if (h[i].handed) {
			rc = on_row(db, "UPDATE outbox SET state = 'sent', last_error = ?2, node = NULL, "
				"pid = NULL, lease_until = NULL, sent_at = " NOW_SQL " "
				"WHERE id = ?1 AND state = 'handed'", h[i].id,
				"the sender stopped after handing the message to the SMTP server and "
				"before its answer: it may have arrived, and is not sent again");
			if (rc == 0)
				log_warn("outbox", "message %lld was handed to the SMTP server when its "
				         "sender stopped: counted as sent (it may have arrived; not sent "
				         "twice)", (long long)h[i].id);
		} else {
			rc = on_row(db, "UPDATE outbox SET state = 'queued', next_at = 0, node = NULL, "
				"pid = NULL, lease_until = NULL WHERE id = ?1 AND state = 'sending'",
				h[i].id, NULL);
			if (rc == 0)
				log_warn("outbox", "message %lld was being sent when its sender stopped; "
				         "queued again", (long long)h[i].id);
		}
		if (rc == KD_ENOTFOUND)
			rc = 0; /* another node recovered it first */
		if (rc < 0 && !first)
			first = rc;
	}
	free(h);
	return first;
}

int outbox_unsubscribe(struct kd_db *db, int64_t id, const char *secret, enum mail_kind *kind,
                       int64_t *user_id)
{
	size_t len = secret ? strnlen(secret, SECRET_MAX + 1) : 0;
	if (id <= 0 || len == 0 || len > SECRET_MAX)
		return KD_ENOTFOUND;
	unsigned char want[32];
	crypto_generichash(want, sizeof want, (const unsigned char *)secret, len, NULL, 0);
	bool own = !db_in_transaction(db);
	int rc = own ? db_begin(db) : 0;
	if (rc < 0)
		return rc;
	struct kd_stmt *st = NULL;
	if ((rc = prepare(db, "SELECT kind, user_id, unsub_hash, unsub_used_at FROM outbox "
	                      "WHERE id = ?1", &st)) < 0)
		goto out;
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	if (rc != DB_ROW) {
		rc = rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
		goto out;
	}
	const void *have = db_column_blob(st, 2);
	/* (compared in constant time: how long it takes says nothing about
	 * how much of a guess was right) */
	if (!have || db_column_bytes(st, 2) != (int)sizeof want ||
	    sodium_memcmp(have, want, sizeof want) != 0 ||
	    mail_kind_parse((const char *)db_column_text(st, 0), kind) < 0) {
		rc = KD_ENOTFOUND;
		goto out;
	}
	*user_id = db_column_int64(st, 1);
	bool used = db_column_type(st, 3) != DB_NULL;
	db_finalize(st);
	st = NULL;
	if (used) {
		rc = KD_EEXIST;
		goto out;
	}
	/* the link is spent in the same transaction as the switch it turns
	 * off: two clicks at once switch it once, and the second hears so */
	rc = on_row(db, "UPDATE outbox SET unsub_used_at = " NOW_SQL " WHERE id = ?1 "
	            "AND unsub_used_at IS NULL", id, NULL);
	if (rc == KD_ENOTFOUND)
		rc = KD_EEXIST;
	if (rc < 0)
		goto out;
	if ((rc = prepare(db, "INSERT INTO mail_prefs (user_id, kind, enabled) VALUES (?1, ?2, 0) "
	                      "ON CONFLICT (user_id, kind) DO UPDATE SET enabled = 0, "
	                      "updated_at = " NOW_SQL, &st)) < 0)
		goto out;
	db_bind_int64(st, 1, *user_id);
	db_bind_text(st, 2, NAMES[*kind], -1, DB_STATIC);
	rc = step_done(db, st);
	st = NULL;
out:
	if (st)
		db_finalize(st);
	if (own) {
		if (rc < 0)
			db_rollback(db);
		else
			rc = db_commit(db);
	}
	return rc < 0 ? rc : 0;
}
