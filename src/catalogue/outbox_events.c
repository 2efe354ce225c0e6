/*
 * outbox_events.c - what is queued when (outbox.h, "events"): who hears of
 * a visit asked for, answered or due tomorrow, of an upload batch that
 * finished, and who gets the weekly digest; and the batches themselves.
 *
 * Each function decides only WHO is told and files one outbox row per
 * person and event (outbox_queue, with the event's dedupe key); what the
 * mail says, and whether the person may still see what it names, is
 * decided when it is sent (mail/compose.c).  They run in the caller's
 * transaction when one is open, so the event and its mail commit together.
 *
 * The recipients mirror visits.c's rules (visit_may_answer): the host side
 * of a visit is its school's principals and the featured teacher (a
 * teacher account at the host school whose name is the clip's teacher).
 * This file reads the tables itself rather than calling visits.c, which
 * calls it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalogue_sql.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/outbox.h"

/* A batch is given up waiting for files its client announced but never
 * sent after this long; batches older than STALE_MAX_S are not looked at
 * again (the sender asks every minute). */
#define STALE_AFTER_S 3600
#define STALE_MAX_S (8 * 24 * 3600)

#define BATCH_TOKEN_MIN 8
#define BATCH_TOKEN_MAX 64
#define BATCH_SIZE_MAX 100000

struct ids {
	int64_t (*pair)[2];
	size_t n, cap;
};

static void ids_add(struct ids *l, int64_t a, int64_t b)
{
	if (l->n == l->cap)
		l->pair = kd_realloc(l->pair, (l->cap = l->cap ? l->cap * 2 : 16) * sizeof *l->pair);
	l->pair[l->n][0] = a;
	l->pair[l->n][1] = b;
	l->n++;
}

/* Read every row's first two integer columns into l (the statement is
 * finished first, so queueing never interleaves with an open read). */
static int read_pairs(struct kd_db *db, struct kd_stmt *st, struct ids *l)
{
	int rc;
	while ((rc = db_step(st)) == DB_ROW)
		ids_add(l, db_column_int64(st, 0),
		        db_column_count(st) > 1 ? db_column_int64(st, 1) : 0);
	db_finalize(st);
	if (rc != DB_DONE) {
		log_error("outbox", "%s", db_errmsg(db));
		free(l->pair);
		l->pair = NULL;
		l->n = l->cap = 0;
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

/* Those on the host side of visit v (?1): its school's principals and the
 * featured teacher, enabled, never the requester.  As visit_may_answer. */
#define HOST_SIDE                                                                         \
	"SELECT v.id, u.id FROM visits v JOIN users u ON u.school_id = v.host_school_id"     \
	" LEFT JOIN clips c ON c.id = v.clip_id"                                             \
	" WHERE u.disabled = 0 AND u.id <> v.requester_id AND (u.role = 'principal' OR"      \
	" (u.role = 'teacher' AND c.teacher <> '' AND u.name = c.teacher COLLATE NOCASE))"

int outbox_visit_requested(struct kd_db *db, int64_t visit_id)
{
	if (!outbox_enabled())
		return 0;
	struct kd_stmt *st;
	struct ids l = {0};
	int rc = prepare(db, HOST_SIDE " AND v.id = ?1 ORDER BY u.id", &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, visit_id);
	if ((rc = read_pairs(db, st, &l)) < 0)
		return rc;
	int queued = 0;
	for (size_t i = 0; i < l.n && rc >= 0; i++) {
		char key[96];
		snprintf(key, sizeof key, "visit_requested:%lld:%lld", (long long)visit_id,
		         (long long)l.pair[i][1]);
		rc = outbox_queue(db, MAIL_VISIT_REQUESTED, l.pair[i][1], visit_id, NULL, key);
		queued += rc > 0;
	}
	free(l.pair);
	return rc < 0 ? rc : queued;
}

int outbox_visit_answered(struct kd_db *db, int64_t visit_id)
{
	if (!outbox_enabled())
		return 0;
	struct kd_stmt *st;
	int rc = prepare(db, "SELECT requester_id, status FROM visits WHERE id = ?1", &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, visit_id);
	int64_t requester = 0;
	char status[16] = "";
	int s = db_step(st);
	if (s == DB_ROW) {
		requester = db_column_int64(st, 0);
		const char *t = (const char *)db_column_text(st, 1);
		snprintf(status, sizeof status, "%s", t ? t : "");
	}
	db_finalize(st);
	if (s != DB_ROW && s != DB_DONE) {
		log_error("outbox", "%s", db_errmsg(db));
		return db_err_code(s);
	}
	/* Only an answer is news to the requester; the status rides along so
	 * the mail says the answer that was given, whatever came after. */
	if (s == DB_DONE || (strcmp(status, "accepted") && strcmp(status, "declined")))
		return 0;
	char key[96];
	snprintf(key, sizeof key, "visit_answered:%lld:%s:%lld", (long long)visit_id, status,
	         (long long)requester);
	rc = outbox_queue(db, MAIL_VISIT_ANSWERED, requester, visit_id, status, key);
	return rc < 0 ? rc : rc > 0;
}

int outbox_reminders_due(struct kd_db *db, const char *day)
{
	if (!outbox_enabled())
		return 0;
	if (!day || !cat_date_valid(day))
		return KD_EINVAL;
	struct kd_stmt *st;
	struct ids l = {0};
	int rc = prepare(db,
	                 "SELECT v.id, v.requester_id FROM visits v JOIN users r ON r.id = "
	                 "v.requester_id WHERE v.status = 'accepted' AND v.date = ?1 AND "
	                 "r.disabled = 0 UNION " HOST_SIDE
	                 " AND v.status = 'accepted' AND v.date = ?1 ORDER BY 1, 2",
	                 &st);
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, day, -1, DB_STATIC);
	if ((rc = read_pairs(db, st, &l)) < 0)
		return rc;
	int queued = 0;
	for (size_t i = 0; i < l.n && rc >= 0; i++) {
		char key[96];
		snprintf(key, sizeof key, "visit_reminder:%lld:%lld", (long long)l.pair[i][0],
		         (long long)l.pair[i][1]);
		rc = outbox_queue(db, MAIL_VISIT_REMINDER, l.pair[i][1], l.pair[i][0], day, key);
		queued += rc > 0;
	}
	free(l.pair);
	if (queued)
		log_info("outbox", "queued %d reminder%s of visits on %s", queued,
		         queued == 1 ? "" : "s", day);
	return rc < 0 ? rc : queued;
}

/* ---------------------------------------------------------------- batches */

/* Batch id: when it is over (all its clips finished and, unless stale, as
 * many as announced arrived), tell its uploader once - if a clip failed
 * or they asked.  1 when queued. */
static int batch_check(struct kd_db *db, int64_t batch_id, bool stale)
{
	struct kd_stmt *st;
	int rc = prepare(db,
	                 "SELECT b.user_id, b.size, b.notify, count(c.id), "
	                 "coalesce(sum(CASE WHEN c.status IN ('ready', 'failed') THEN 1 ELSE 0 END), 0), "
	                 "coalesce(sum(CASE WHEN c.status = 'failed' THEN 1 ELSE 0 END), 0) "
	                 "FROM upload_batches b LEFT JOIN clips c ON c.batch_id = b.id "
	                 "WHERE b.id = ?1 GROUP BY b.id, b.user_id, b.size, b.notify",
	                 &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, batch_id);
	int s = db_step(st);
	int64_t user = 0, size = 0, arrived = 0, finished = 0, failed = 0;
	bool notify = false;
	if (s == DB_ROW) {
		user = db_column_int64(st, 0);
		size = db_column_int64(st, 1);
		notify = db_column_int(st, 2) != 0;
		arrived = db_column_int64(st, 3);
		finished = db_column_int64(st, 4);
		failed = db_column_int64(st, 5);
	}
	db_finalize(st);
	if (s != DB_ROW && s != DB_DONE) {
		log_error("outbox", "%s", db_errmsg(db));
		return db_err_code(s);
	}
	if (s == DB_DONE || arrived == 0 || finished < arrived || (!stale && arrived < size))
		return 0;
	if (!failed && !notify)
		return 0;
	char key[64];
	snprintf(key, sizeof key, "processing:%lld", (long long)batch_id);
	rc = outbox_queue(db, MAIL_PROCESSING, user, batch_id, NULL, key);
	return rc < 0 ? rc : rc > 0;
}

int outbox_clip_finished(struct kd_db *db, int64_t clip_id)
{
	if (!outbox_enabled())
		return 0;
	struct kd_stmt *st;
	int rc = prepare(db, "SELECT coalesce(batch_id, 0) FROM clips WHERE id = ?1", &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, clip_id);
	int s = db_step(st);
	int64_t batch = s == DB_ROW ? db_column_int64(st, 0) : 0;
	db_finalize(st);
	if (s != DB_ROW && s != DB_DONE) {
		log_error("outbox", "%s", db_errmsg(db));
		return db_err_code(s);
	}
	return batch ? batch_check(db, batch, false) : 0;
}

/* now + delta seconds as the catalogue writes times. */
static void iso_time(time_t delta, char out[24])
{
	time_t t = time(NULL) + delta;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int outbox_batches_stale(struct kd_db *db)
{
	if (!outbox_enabled())
		return 0;
	char before[24], after[24];
	iso_time(-STALE_AFTER_S, before);
	iso_time(-STALE_MAX_S, after);
	struct kd_stmt *st;
	struct ids l = {0};
	/* Not yet told, every clip that arrived finished, fewer than announced. */
	int rc = prepare(db,
	                 "SELECT b.id FROM upload_batches b WHERE b.created_at < ?1 AND "
	                 "b.created_at > ?2 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE "
	                 "o.kind = 'processing' AND o.ref_id = b.id) AND NOT EXISTS (SELECT 1 "
	                 "FROM clips c WHERE c.batch_id = b.id AND c.status NOT IN ('ready', "
	                 "'failed')) AND (SELECT count(*) FROM clips c WHERE c.batch_id = b.id) "
	                 "BETWEEN 1 AND b.size - 1 ORDER BY b.id",
	                 &st);
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, before, -1, DB_STATIC);
	db_bind_text(st, 2, after, -1, DB_STATIC);
	if ((rc = read_pairs(db, st, &l)) < 0)
		return rc;
	int queued = 0;
	for (size_t i = 0; i < l.n && rc >= 0; i++) {
		rc = batch_check(db, l.pair[i][0], true);
		queued += rc > 0;
	}
	free(l.pair);
	return rc < 0 ? rc : queued;
}

static bool token_ok(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	return n >= BATCH_TOKEN_MIN && n <= BATCH_TOKEN_MAX &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int outbox_batch_attach(struct kd_db *db, int64_t user_id, const char *token, int64_t size,
                        bool notify, int64_t clip_id, char *err, size_t errlen)
{
	if (!token_ok(token)) {
		snprintf(err, errlen, "the batch token must be %d to %d letters, digits, '-' or '_'",
		         BATCH_TOKEN_MIN, BATCH_TOKEN_MAX);
		return KD_EINVAL;
	}
	if (size < 1 || size > BATCH_SIZE_MAX) {
		snprintf(err, errlen, "batch_size must be the number of files sent, 1 to %d",
		         BATCH_SIZE_MAX);
		return KD_EINVAL;
	}
	struct kd_stmt *st;
	int rc, s;
	if (clip_id <= 0) {
		/* A file of the batch that made no clip (the catalogue had it): one
		 * fewer to wait for; the batch may be over now. */
		if ((rc = prepare(db,
		                  "UPDATE upload_batches SET size = size - 1 WHERE user_id = ?1 AND "
		                  "token = ?2 AND size > 1 RETURNING id",
		                  &st)) < 0)
			return rc;
		db_bind_int64(st, 1, user_id);
		db_bind_text(st, 2, token, -1, DB_STATIC);
		int64_t batch = 0;
		while ((s = db_step(st)) == DB_ROW)
			batch = db_column_int64(st, 0);
		db_finalize(st);
		if (s != DB_DONE) {
			snprintf(err, errlen, "cannot update the upload batch: %s", db_errmsg(db));
			return db_err_code(s);
		}
		rc = batch && outbox_enabled() ? batch_check(db, batch, false) : 0;
		return rc < 0 ? rc : 0;
	}
	/* Each upload of a run says how many files the run may still send
	 * (what it knows of duplicates so far): the smallest is the truest. */
	if ((rc = prepare(db,
	                  "INSERT INTO upload_batches (user_id, token, size, notify) VALUES (?1, ?2, "
	                  "?3, ?4) ON CONFLICT (user_id, token) DO UPDATE SET size = CASE WHEN "
	                  "excluded.size < upload_batches.size THEN excluded.size ELSE "
	                  "upload_batches.size END, notify = CASE WHEN excluded.notify = 1 THEN 1 "
	                  "ELSE upload_batches.notify END RETURNING id",
	                  &st)) < 0)
		return rc;
	db_bind_int64(st, 1, user_id);
	db_bind_text(st, 2, token, -1, DB_STATIC);
	db_bind_int64(st, 3, size);
	db_bind_int(st, 4, notify ? 1 : 0);
	int64_t batch = 0;
	while ((s = db_step(st)) == DB_ROW)
		batch = db_column_int64(st, 0);
	db_finalize(st);
	if (s != DB_DONE || !batch) {
		snprintf(err, errlen, "cannot record the upload batch: %s", db_errmsg(db));
		return s != DB_DONE ? db_err_code(s) : KD_EDB;
	}
	if ((rc = prepare(db, "UPDATE clips SET batch_id = ?1 WHERE id = ?2 AND batch_id IS NULL",
	                  &st)) < 0)
		return rc;
	db_bind_int64(st, 1, batch);
	db_bind_int64(st, 2, clip_id);
	s = db_step(st);
	db_finalize(st);
	if (s != DB_DONE) {
		snprintf(err, errlen, "cannot file the clip in its upload batch: %s", db_errmsg(db));
		return db_err_code(s);
	}
	return 0;
}

/* ---------------------------------------------------------------- digest */

int outbox_digests_due(struct kd_db *db, const char *since, const char *today)
{
	if (!outbox_enabled())
		return 0;
	if (!since || !today || !cat_date_valid(since) || !cat_date_valid(today))
		return KD_EINVAL;
	struct kd_stmt *st;
	struct ids l = {0};
	/* Only those with something that might be news: a ready, shared clip
	 * or a moment of a practice they follow, from another school.  Whether
	 * they may see it is decided as the digest is composed.  (Asked every
	 * round of the day: who has this week's already is passed over first.) */
	int rc = prepare(db,
	                 "SELECT DISTINCT f.user_id FROM follows f JOIN users u ON u.id = f.user_id "
	                 "WHERE u.disabled = 0 AND u.email IS NOT NULL AND NOT EXISTS (SELECT 1 "
	                 "FROM outbox o WHERE o.dedupe = 'digest:' || f.user_id || ':' || ?2) "
	                 "AND (EXISTS (SELECT 1 FROM "
	                 "clip_practices cp JOIN clips c ON c.id = cp.clip_id WHERE cp.practice_id "
	                 "= f.practice_id AND c.status = 'ready' AND c.consent = 'on-file' AND "
	                 "c.uploaded_at >= ?1 AND c.school_id <> coalesce(u.school_id, 0)) OR "
	                 "EXISTS (SELECT 1 FROM moments m JOIN clips c ON c.id = m.clip_id WHERE "
	                 "m.practice_id = f.practice_id AND m.created_at >= ?1 AND c.status = "
	                 "'ready' AND c.consent = 'on-file' AND c.school_id <> "
	                 "coalesce(u.school_id, 0))) ORDER BY f.user_id",
	                 &st);
	if (rc < 0)
		return rc;
	db_bind_text(st, 1, since, -1, DB_STATIC);
	db_bind_text(st, 2, today, -1, DB_STATIC);
	if ((rc = read_pairs(db, st, &l)) < 0)
		return rc;
	int queued = 0;
	for (size_t i = 0; i < l.n && rc >= 0; i++) {
		char key[64];
		snprintf(key, sizeof key, "digest:%lld:%s", (long long)l.pair[i][0], today);
		rc = outbox_queue(db, MAIL_DIGEST, l.pair[i][0], 0, since, key);
		queued += rc > 0;
	}
	free(l.pair);
	if (queued)
		log_info("outbox", "queued %d weekly digest%s (since %s)", queued,
		         queued == 1 ? "" : "s", since);
	return rc < 0 ? rc : queued;
}
