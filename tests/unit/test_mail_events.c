/* test_mail_events.c - what is queued when (catalogue/outbox_events.c) and
 * what it then says (mail/compose.c): a visit's host side and requester,
 * reminders once, upload batches (the smallest announced size, duplicates
 * counted off, a mail only for a failure or --notify, stale batches), the
 * weekly digest's followers, and messages with nothing left to say
 * dropped at sending time. */
#include <stdio.h>
#include <time.h>

#include "helpers.h"
#include "kindling/mail.h"
#include "kindling/outbox.h"
#include "kindling/users.h"

struct world {
	struct kd_db *db;
	int64_t tom, nora, rick, rosa, sam, cai, lena, rita;
};

static void exec(struct kd_db *db, const char *sql)
{
	if (db_exec(db, sql) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
}

static int64_t int_of(struct kd_db *db, const char *sql)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	int64_t v = db_step(st) == DB_ROW ? db_column_int64(st, 0) : -1;
	db_finalize(st);
	return v;
}

static int64_t person(struct kd_db *db, const char *name, enum kd_role role, const char *school,
                      const char *email)
{
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	struct users_new n = {.name = name, .role = role, .school = school, .email = email};
	if (users_create(db, &n, &id, err, sizeof err) != 0)
		fail_msg("users_create %s: %s", name, err);
	return id;
}

static void sqlf(struct kd_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sqlf(struct kd_db *db, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	exec(db, sql);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	struct kd_db *db = w->db = test_db();
	exec(db, "INSERT INTO schools (slug, name) VALUES ('north-high', 'North High'), "
	         "('river-school', 'River School'), ('lake-school', 'Lake School')");
	w->tom = person(db, "Tom North", KD_ROLE_TEACHER, "north-high", "tom@north.test");
	w->nora = person(db, "Nora North", KD_ROLE_PRINCIPAL, "north-high", "nora@north.test");
	w->rick = person(db, "Rick River", KD_ROLE_PRINCIPAL, "river-school", "rick@river.test");
	w->rosa = person(db, "Rosa Diaz", KD_ROLE_TEACHER, "river-school", "rosa@river.test");
	w->sam = person(db, "Sam Other", KD_ROLE_TEACHER, "river-school", "sam@river.test");
	w->cai = person(db, "Cai River", KD_ROLE_COACH, "river-school", "cai@river.test");
	w->lena = person(db, "Lena Lake", KD_ROLE_TEACHER, "lake-school", "lena@lake.test");
	w->rita = person(db, "Rita River", KD_ROLE_TEACHER, "river-school", "rita@river.test");
	/* 101: the river clip of the visits; 201-206: a coach's uploads */
	sqlf(db, "INSERT INTO clips (id, title, school_id, teacher, uploader_id, consent, status, "
	         "original_name) SELECT 101, 'Rotation <b>&</b> timers', id, 'ROSA DIAZ', NULL, "
	         "'on-file', 'ready', '' FROM schools WHERE slug = 'river-school'");
	for (int c = 201; c <= 206; c++)
		sqlf(db, "INSERT INTO clips (id, title, school_id, uploader_id, consent, status, "
		         "original_name, sha256) SELECT %d, 'clip %d', id, %lld, 'on-file', 'queued', "
		         "'clip_%d.mp4', 'sha%d' FROM schools WHERE slug = 'river-school'",
		         c, c, (long long)w->cai, c, c);
	exec(db, "INSERT INTO clip_practices (clip_id, practice_id) SELECT c.id, p.id FROM clips c, "
	         "practices p WHERE p.slug = 'station-rotation'");
	outbox_set_enabled(true);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	db_close(&w->db);
	free(w);
	outbox_set_enabled(false);
	return 0;
}

/* The recipients of kind, as "id id ...", by id. */
static char *recipients(struct kd_db *db, const char *kind)
{
	static char out[256];
	struct kd_stmt *st;
	out[0] = '\0';
	if (db_prepare(db, "SELECT user_id FROM outbox WHERE kind = ?1 ORDER BY user_id", &st) != DB_OK)
		fail_msg("%s", db_errmsg(db));
	db_bind_text(st, 1, kind, -1, DB_STATIC);
	while (db_step(st) == DB_ROW)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld", out[0] ? " " : "",
		         (long long)db_column_int64(st, 0));
	db_finalize(st);
	return out;
}

static char *ids(int64_t a, int64_t b, int64_t c, int64_t d)
{
	static char out[128];
	int64_t v[] = {a, b, c, d};
	out[0] = '\0';
	for (int i = 0; i < 4; i++)
		if (v[i])
			snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld", out[0] ? " " : "",
			         (long long)v[i]);
	return out;
}

/* Claim the next due message and compose it. */
static int compose_next(struct kd_db *db, struct mail_message *m, char *why, size_t n)
{
	struct outbox_item it;
	if (outbox_claim(db, "test", 1, (int64_t)time(NULL) + 1, 300, &it) != 1)
		fail_msg("nothing to claim");
	int rc = mail_compose(db, &it, "https://kindling.test", "https://kindling.test/mail/unsubscribe?m=1&s=x",
	                      m, why, n);
	outbox_sent(db, it.id, "<x@y>");
	outbox_item_free(&it);
	return rc;
}

static void visits(void **state)
{
	struct world *w = *state;
	struct kd_db *db = w->db;
	sqlf(db, "INSERT INTO visits (id, clip_id, requester_id, visitor_school_id, host_school_id, "
	         "proposed_dates, note, practice_id) SELECT 1, 101, %lld, (SELECT id FROM schools "
	         "WHERE slug = 'north-high'), id, '[\"2030-05-06\",\"2030-05-07\"]', 'May I?', "
	         "(SELECT id FROM practices WHERE slug = 'station-rotation') FROM schools "
	         "WHERE slug = 'river-school'", (long long)w->tom);
	/* the host principal and the featured teacher (any case): not the
	 * requester, the visitor school's principal, another teacher */
	assert_int_equal(outbox_visit_requested(db, 1), 2);
	assert_string_equal(recipients(db, "visit_requested"), ids(w->rick, w->rosa, 0, 0));
	assert_int_equal(outbox_visit_requested(db, 1), 0); /* once */
	assert_int_equal(outbox_visit_answered(db, 1), 0);  /* nothing answered yet */

	struct mail_message m;
	char why[KD_ERRMSG_MAX];
	assert_int_equal(compose_next(db, &m, why, sizeof why), 0);
	assert_string_equal(m.to_addr, "rick@river.test");
	assert_string_equal(m.subject, "Tom North asks to visit River School");
	assert_non_null(strstr(m.text, "\"Rotation <b>&</b> timers\" (Station rotation)"));
	assert_non_null(strstr(m.text, "https://kindling.test/visits"));
	assert_non_null(strstr(m.text, "https://kindling.test/mail/unsubscribe?m=1&s=x"));
	assert_non_null(strstr(m.html, "Rotation &lt;b&gt;&amp;&lt;/b&gt; timers"));
	assert_null(strstr(m.html, "<b>&"));
	assert_int_equal(m.n_attach, 0);
	mail_message_free(&m);

	/* answered before Rosa's went out: hers is not sent any more */
	exec(db, "UPDATE visits SET status = 'accepted', date = '2030-05-07', answer_note = 'Room 12' "
	         "WHERE id = 1");
	assert_int_equal(compose_next(db, &m, why, sizeof why), KD_ENOTFOUND);
	assert_non_null(strstr(why, "accepted"));
	assert_int_equal(outbox_visit_answered(db, 1), 1);
	assert_int_equal(outbox_visit_answered(db, 1), 0);
	assert_string_equal(recipients(db, "visit_answered"), ids(w->tom, 0, 0, 0));
	assert_int_equal(compose_next(db, &m, why, sizeof why), 0);
	assert_string_equal(m.to_addr, "tom@north.test");
	assert_string_equal(m.subject, "Your visit to River School on 2030-05-07 is accepted");
	assert_int_equal(m.n_attach, 1);
	assert_string_equal(m.attach[0].filename, "visit-1.ics");
	assert_non_null(strstr(m.attach[0].data, "DTSTART;VALUE=DATE:20300507"));
	mail_message_free(&m);

	/* the day before: both sides, once */
	assert_int_equal(outbox_reminders_due(db, "2030-05-06"), 0);
	assert_int_equal(outbox_reminders_due(db, "2030-05-07"), 3);
	assert_int_equal(outbox_reminders_due(db, "2030-05-07"), 0);
	assert_int_equal(outbox_reminders_due(db, "2030-02-30"), KD_EINVAL);
	assert_string_equal(recipients(db, "visit_reminder"), ids(w->tom, w->rick, w->rosa, 0));
	/* moved to another day since: the reminder has nothing to say */
	exec(db, "UPDATE visits SET date = '2030-05-06' WHERE id = 1");
	assert_int_equal(compose_next(db, &m, why, sizeof why), KD_ENOTFOUND);
	(void)w->nora;
	(void)w->sam;
}

static void batches(void **state)
{
	struct world *w = *state;
	struct kd_db *db = w->db;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(outbox_batch_attach(db, w->cai, "short", 2, false, 201, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(outbox_batch_attach(db, w->cai, "run-aaaaaaaa", 0, false, 201, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(outbox_batch_attach(db, w->cai, "bad token!", 2, false, 201, err, sizeof err),
	                 KD_EINVAL);
	/* a run of three files: 201, a duplicate, 202 (which knows of it) */
	assert_int_equal(outbox_batch_attach(db, w->cai, "run-aaaaaaaa", 3, false, 201, err, sizeof err), 0);
	assert_int_equal(int_of(db, "SELECT size FROM upload_batches"), 3);
	assert_int_equal(outbox_batch_attach(db, w->cai, "run-aaaaaaaa", 3, false, 0, err, sizeof err), 0);
	assert_int_equal(int_of(db, "SELECT size FROM upload_batches"), 2);
	assert_int_equal(outbox_batch_attach(db, w->cai, "run-aaaaaaaa", 2, false, 202, err, sizeof err), 0);
	assert_int_equal(int_of(db, "SELECT count(*) FROM clips WHERE batch_id = (SELECT id FROM "
	                            "upload_batches WHERE token = 'run-aaaaaaaa')"), 2);
	/* all good and no --notify: nothing */
	exec(db, "UPDATE clips SET status = 'ready' WHERE id IN (201, 202)");
	assert_int_equal(outbox_clip_finished(db, 201), 0);
	assert_int_equal(outbox_clip_finished(db, 202), 0);

	/* --notify: once all are in */
	assert_int_equal(outbox_batch_attach(db, w->cai, "run-bbbbbbbb", 2, true, 203, err, sizeof err), 0);
	exec(db, "UPDATE clips SET status = 'ready' WHERE id = 203");
	assert_int_equal(outbox_clip_finished(db, 203), 0); /* one more to come */
	assert_int_equal(outbox_batch_attach(db, w->cai, "run-bbbbbbbb", 1, false, 204, err, sizeof err), 0);
	exec(db, "UPDATE clips SET status = 'ready' WHERE id = 204");
	assert_int_equal(outbox_clip_finished(db, 204), 1);
	assert_int_equal(outbox_clip_finished(db, 204), 0);
	struct mail_message m;
	char why[KD_ERRMSG_MAX];
	assert_int_equal(compose_next(db, &m, why, sizeof why), 0);
	assert_string_equal(m.to_addr, "cai@river.test");
	assert_string_equal(m.subject, "Your 2 clips are ready");
	assert_non_null(strstr(m.text, "clip 203 (clip_203.mp4)"));
	mail_message_free(&m);

	/* a failure: told, with the reason; a file that never arrived only
	 * after an hour */
	assert_int_equal(outbox_batch_attach(db, w->cai, "run-cccccccc", 3, false, 205, err, sizeof err), 0);
	assert_int_equal(outbox_batch_attach(db, w->cai, "run-cccccccc", 3, false, 206, err, sizeof err), 0);
	exec(db, "UPDATE clips SET status = 'failed', error = 'the file is not a video' WHERE id = 205");
	exec(db, "UPDATE clips SET status = 'ready' WHERE id = 206");
	assert_int_equal(outbox_clip_finished(db, 206), 0);
	assert_int_equal(outbox_batches_stale(db), 0);
	exec(db, "UPDATE upload_batches SET created_at = '2000-01-01T00:00:00Z' WHERE token = 'run-cccccccc'");
	assert_int_equal(outbox_batches_stale(db), 0); /* too old to look at */
	char sql[256];
	time_t t = time(NULL) - 7200;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(sql, sizeof sql, "UPDATE upload_batches SET created_at = '%Y-%m-%dT%H:%M:%SZ' "
	         "WHERE token = 'run-cccccccc'", &tm);
	exec(db, sql);
	assert_int_equal(outbox_batches_stale(db), 1);
	assert_int_equal(outbox_batches_stale(db), 0);
	assert_int_equal(compose_next(db, &m, why, sizeof why), 0);
	assert_string_equal(m.subject, "1 of 2 clips could not be processed");
	assert_non_null(strstr(m.text, "clip 205 (clip_205.mp4): the file is not a video"));
	assert_non_null(strstr(m.text, "1 file of this upload never arrived"));
	mail_message_free(&m);
}

static void digest(void **state)
{
	struct world *w = *state;
	struct kd_db *db = w->db;
	sqlf(db, "INSERT INTO follows (user_id, practice_id) SELECT u, id FROM practices, (SELECT "
	         "%lld AS u UNION ALL SELECT %lld) AS x WHERE slug = 'station-rotation'",
	         (long long)w->lena, (long long)w->rita);
	exec(db, "UPDATE clips SET status = 'ready', title = 'New rotation' WHERE id = 201");
	/* Rita is at the river school: nothing new from another school */
	assert_int_equal(outbox_digests_due(db, "2000-01-01", "2030-01-07"), 1);
	assert_int_equal(outbox_digests_due(db, "2000-01-01", "2030-01-07"), 0);
	assert_string_equal(recipients(db, "digest"), ids(w->lena, 0, 0, 0));
	assert_int_equal(outbox_digests_due(db, "2000-13-01", "2030-01-07"), KD_EINVAL);
	struct mail_message m;
	char why[KD_ERRMSG_MAX];
	assert_int_equal(compose_next(db, &m, why, sizeof why), 0);
	assert_string_equal(m.to_addr, "lena@lake.test");
	assert_non_null(strstr(m.text, "New rotation"));
	assert_non_null(strstr(m.text, "https://kindling.test/practices/station-rotation"));
	mail_message_free(&m);
	/* next week: withdrawn after queueing, so nothing to say */
	assert_int_equal(outbox_digests_due(db, "2000-01-01", "2030-01-14"), 1);
	exec(db, "UPDATE clips SET consent = 'withdrawn' WHERE id = 201");
	assert_int_equal(compose_next(db, &m, why, sizeof why), KD_ENOTFOUND);
	assert_non_null(strstr(why, "nothing new"));
}

static void mail_off(void **state)
{
	struct world *w = *state;
	outbox_set_enabled(false);
	assert_int_equal(outbox_digests_due(w->db, "2000-01-01", "2030-01-07"), 0);
	assert_int_equal(outbox_reminders_due(w->db, "2030-05-07"), 0);
	assert_int_equal(int_of(w->db, "SELECT count(*) FROM outbox"), 0);
	outbox_set_enabled(true);
}

int main(void)
{
	users_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(visits, setup, teardown),
		cmocka_unit_test_setup_teardown(batches, setup, teardown),
		cmocka_unit_test_setup_teardown(digest, setup, teardown),
		cmocka_unit_test_setup_teardown(mail_off, setup, teardown),
	};
	return cmocka_run_group_tests_name("mail_events", tests, NULL, NULL);
}
