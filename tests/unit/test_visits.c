/* test_visits.c - visits: asking, answering, who may, listing; the .ics;
 * views once per viewer per clip per day. */
#include <stdio.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/users.h"
#include "kindling/visits.h"

struct world {
	struct kd_db *db;
	struct kd_user admin, princ_a, princ_b, featured_b, teacher_a, teacher_b2, coach_b;
	int64_t clip_b, clip_a, pending_b;
};

static int64_t clip(struct kd_db *db, const char *title, const char *school, const char *p1,
                    const char *p2, const char *teacher, const char *consent)
{
	const char *practices[] = {p1, p2};
	struct cat_clip_new c = {
		.title = title, .school = school, .practices = practices, .n_practices = p2 ? 2 : 1,
		.teacher = teacher, .consent = consent, .status = CAT_READY,
	};
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	if (cat_clip_create(db, &c, &id, err, sizeof err) != 0)
		fail_msg("cat_clip_create: %s", err);
	return id;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	w->db = test_db();
	char err[KD_ERRMSG_MAX];
	assert_int_equal(cat_school_add(w->db, "alder", "Alder School", "", err, sizeof err), 0);
	assert_int_equal(cat_school_add(w->db, "birch", "Birch School", "", err, sizeof err), 0);
	w->admin = test_user(w->db, "admin", KD_ROLE_ADMIN, NULL);
	w->princ_a = test_user(w->db, "Pia Alder", KD_ROLE_PRINCIPAL, "alder");
	w->princ_b = test_user(w->db, "Pat Birch", KD_ROLE_PRINCIPAL, "birch");
	w->featured_b = test_user(w->db, "Rosa Diaz", KD_ROLE_TEACHER, "birch");
	w->teacher_a = test_user(w->db, "Tom Alder", KD_ROLE_TEACHER, "alder");
	w->teacher_b2 = test_user(w->db, "Other Birch", KD_ROLE_TEACHER, "birch");
	w->coach_b = test_user(w->db, "Cai Birch", KD_ROLE_COACH, "birch");
	/* practices sorted by slug: station-rotation comes before student-choice */
	w->clip_b = clip(w->db, "Timers, and; stations", "birch", "student-choice",
	                 "station-rotation", "Rosa Diaz", NULL);
	w->clip_a = clip(w->db, "Alder clip", "alder", "differentiation", NULL, "Tom Alder", NULL);
	w->pending_b = clip(w->db, "Pending", "birch", "peer-feedback", NULL, "Rosa Diaz",
	                    "pending");
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	db_close(&w->db);
	free(w);
	return 0;
}

static int64_t ask(struct world *w, const struct kd_user *u, int64_t clip_id, const char *d1,
                   const char *d2, int want)
{
	const char *dates[] = {d1, d2};
	char err[KD_ERRMSG_MAX] = "";
	int64_t id = 0;
	int rc = visit_create(w->db, u, clip_id, dates, d2 ? 2 : 1, "May I come?", &id, err,
	                      sizeof err);
	if (rc != want)
		fail_msg("visit_create: %d, wanted %d: %s", rc, want, err);
	if (rc < 0)
		assert_true(strlen(err) > 10); /* says what is wrong */
	return id;
}

static int answer(struct world *w, const struct kd_user *u, int64_t id, const char *status,
                  const char *date, const char *note, const char *reflection)
{
	char err[KD_ERRMSG_MAX] = "";
	int rc = visit_update(w->db, u, id, status, date, note, reflection, err, sizeof err);
	if (rc < 0)
		assert_true(strlen(err) > 10);
	return rc;
}

static void asking_records_host_practice_and_visitor_school(void **state)
{
	struct world *w = *state;
	int64_t id = ask(w, &w->teacher_a, w->clip_b, "2030-03-01", "2030-03-02", 0);
	struct visit v;
	assert_int_equal(visit_get(w->db, NULL, id, &v), 0);
	assert_string_equal(v.status, "requested");
	assert_string_equal(v.host_school, "birch");
	assert_string_equal(v.visitor_school, "alder");
	assert_string_equal(v.practice, "station-rotation");
	assert_string_equal(v.requester, "Tom Alder");
	assert_int_equal(v.n_dates, 2);
	assert_string_equal(v.dates[1], "2030-03-02");
	assert_null(v.date);
	assert_string_equal(v.note, "May I come?");
	visit_free(&v);
}

static void asking_is_checked(void **state)
{
	struct world *w = *state;
	ask(w, &w->teacher_a, w->clip_a, "2030-03-01", NULL, KD_EPERM);      /* own school */
	ask(w, &w->teacher_a, w->pending_b, "2030-03-01", NULL, KD_ENOTFOUND); /* not visible */
	ask(w, &w->teacher_a, 9999, "2030-03-01", NULL, KD_ENOTFOUND);
	ask(w, &w->teacher_a, w->clip_b, "2030-02-29", NULL, KD_EINVAL);     /* no such day */
	ask(w, &w->teacher_a, w->clip_b, "2030-3-1", NULL, KD_EINVAL);
	ask(w, &w->teacher_a, w->clip_b, "2030-03-01", "2030-03-01", KD_EINVAL); /* twice */
	const char *four[] = {"2030-03-01", "2030-03-02", "2030-03-03", "2030-03-04"};
	char err[KD_ERRMSG_MAX];
	int64_t id;
	assert_int_equal(visit_create(w->db, &w->teacher_a, w->clip_b, four, 4, "", &id, err,
	                              sizeof err), KD_EINVAL);
	assert_int_equal(visit_create(w->db, &w->teacher_a, w->clip_b, four, 0, "", &id, err,
	                              sizeof err), KD_EINVAL);
	char *long_note = malloc(VISIT_NOTE_MAX + 2);
	memset(long_note, 'x', VISIT_NOTE_MAX + 1);
	long_note[VISIT_NOTE_MAX + 1] = '\0';
	assert_int_equal(visit_create(w->db, &w->teacher_a, w->clip_b, four, 1, long_note, &id,
	                              err, sizeof err), KD_EINVAL);
	free(long_note);
	struct kd_stmt *st;
	db_prepare(w->db, "SELECT count(*) FROM visits", &st);
	db_step(st);
	assert_int_equal(db_column_int(st, 0), 0);
	db_finalize(st);
}

static void who_answers(void **state)
{
	struct world *w = *state;
	int64_t id = ask(w, &w->teacher_a, w->clip_b, "2030-03-01", "2030-03-02", 0);
	struct visit v;
	assert_int_equal(visit_get(w->db, NULL, id, &v), 0);
	assert_true(visit_may_answer(w->db, &w->admin, &v));
	assert_true(visit_may_answer(w->db, &w->princ_b, &v));
	assert_true(visit_may_answer(w->db, &w->featured_b, &v));  /* the featured teacher */
	assert_false(visit_may_answer(w->db, &w->teacher_b2, &v)); /* another teacher there */
	assert_false(visit_may_answer(w->db, &w->coach_b, &v));
	assert_false(visit_may_answer(w->db, &w->princ_a, &v));
	assert_false(visit_may_answer(w->db, &w->teacher_a, &v));
	assert_true(visit_may_see(w->db, &w->princ_a, &v));   /* the visitor school's principal */
	assert_true(visit_may_see(w->db, &w->teacher_a, &v)); /* the requester */
	assert_false(visit_may_see(w->db, &w->teacher_b2, &v));
	visit_free(&v);

	assert_int_equal(answer(w, &w->princ_a, id, "accepted", "2030-03-01", NULL, NULL), KD_EPERM);
	assert_int_equal(answer(w, &w->teacher_b2, id, "accepted", "2030-03-01", NULL, NULL),
	                 KD_ENOTFOUND);
	assert_int_equal(answer(w, &w->teacher_a, id, "done", NULL, NULL, "x"), KD_EEXIST);
	assert_int_equal(answer(w, &w->featured_b, id, "accepted", "2030-03-09", NULL, NULL),
	                 KD_EINVAL); /* not proposed */
	assert_int_equal(answer(w, &w->featured_b, id, "accepted", NULL, NULL, NULL), KD_EINVAL);
	assert_int_equal(answer(w, &w->featured_b, id, "maybe", NULL, NULL, NULL), KD_EINVAL);
	assert_int_equal(answer(w, &w->featured_b, id, "accepted", "2030-03-02", "Room 12", NULL),
	                 0);
	assert_int_equal(visit_get(w->db, NULL, id, &v), 0);
	assert_string_equal(v.status, "accepted");
	assert_string_equal(v.date, "2030-03-02");
	assert_string_equal(v.answer_note, "Room 12");
	visit_free(&v);

	assert_int_equal(answer(w, &w->princ_b, id, "declined", NULL, NULL, NULL), KD_EEXIST);
	assert_int_equal(answer(w, &w->princ_b, id, "done", NULL, NULL, NULL), KD_EPERM);
	assert_int_equal(answer(w, &w->teacher_a, id, "done", NULL, NULL, "Three stations."), 0);
	assert_int_equal(visit_get(w->db, NULL, id, &v), 0);
	assert_string_equal(v.status, "done");
	assert_string_equal(v.reflection, "Three stations.");
	assert_string_equal(v.date, "2030-03-02");
	visit_free(&v);

	int64_t id2 = ask(w, &w->teacher_a, w->clip_b, "2030-04-01", NULL, 0);
	assert_int_equal(answer(w, &w->princ_b, id2, "declined", NULL, "Exams", NULL), 0);
	assert_int_equal(answer(w, &w->admin, id2, "accepted", "2030-04-01", NULL, NULL), KD_EEXIST);
}

static void listing(void **state)
{
	struct world *w = *state;
	int64_t v1 = ask(w, &w->teacher_a, w->clip_b, "2030-03-01", NULL, 0);
	int64_t v2 = ask(w, &w->featured_b, w->clip_a, "2030-03-01", NULL, 0);
	struct visit *list;
	size_t n;
	int64_t total;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(visit_list(w->db, &w->teacher_a, NULL, true, 1, 50, &list, &n, &total, err,
	                            sizeof err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, v1);
	visits_free(list, n);
	assert_int_equal(visit_list(w->db, &w->princ_a, "alder", false, 1, 50, &list, &n, &total, err,
	                            sizeof err),
	                 0);
	assert_int_equal(n, 2); /* made v1, hosted v2, newest first */
	assert_int_equal(total, 2);
	assert_int_equal(list[0].id, v2);
	visits_free(list, n);
	/* in pages: one a page, the second page holds the older */
	assert_int_equal(visit_list(w->db, &w->princ_a, "alder", false, 2, 1, &list, &n, &total, err,
	                            sizeof err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(total, 2);
	assert_int_equal(list[0].id, v1);
	visits_free(list, n);
	assert_int_equal(visit_list(w->db, &w->princ_b, "alder", false, 1, 50, &list, &n, &total, err,
	                            sizeof err),
	                 KD_EPERM);
	assert_int_equal(visit_list(w->db, &w->teacher_a, "alder", false, 1, 50, &list, &n, &total, err,
	                            sizeof err), KD_EPERM);
	assert_int_equal(visit_list(w->db, &w->admin, "birch", false, 1, 50, &list, &n, &total, err,
	                            sizeof err), 0);
	assert_int_equal(n, 2);
	visits_free(list, n);
	assert_int_equal(visit_list(w->db, &w->admin, "nowhere", false, 1, 50, &list, &n, &total, err,
	                            sizeof err),
	                 KD_ENOTFOUND);
	assert_int_equal(visit_list(w->db, &w->admin, NULL, false, 1, 50, &list, &n, &total, err,
	                            sizeof err),
	                 KD_EINVAL);
	/* the featured teacher sees the visits to their classroom, no one else's */
	assert_int_equal(visit_list_featured(w->db, &w->featured_b, 1, 50, &list, &n, &total), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, v1);
	assert_true(visit_may_answer(w->db, &w->featured_b, &list[0]));
	visits_free(list, n);
	assert_int_equal(visit_list_featured(w->db, &w->teacher_a, 1, 50, &list, &n, &total), 0);
	assert_int_equal(n, 1); /* v2 asks for Tom Alder's classroom */
	assert_int_equal(list[0].id, v2);
	visits_free(list, n);
	assert_int_equal(visit_list_featured(w->db, &w->teacher_b2, 1, 50, &list, &n, &total), 0);
	assert_int_equal(n, 0);
	assert_int_equal(visit_list_featured(w->db, &w->princ_b, 1, 50, &list, &n, &total), 0);
	assert_int_equal(n, 0);
}

static void ics_is_rfc5545(void **state)
{
	(void)state;
	struct visit v = {0};
	v.id = 42;
	v.clip_title = strdup("Timers, and; stations \\ more");
	v.host_school_name = strdup("Birch School");
	v.requester = strdup("Tom Alder");
	v.note = strdup("Line one\nline two with a long enough text to need folding, "
	                "ééééééééééééééééééééééééééééé and more");
	v.date = strdup("2030-12-31");
	v.status = strdup("accepted");
	char *ics = visit_ics(&v, "20300101T000000Z");
	assert_non_null(ics);
	assert_true(strncmp(ics, "BEGIN:VCALENDAR\r\n", 17) == 0);
	assert_non_null(strstr(ics, "\r\nUID:visit-42@kindling\r\n"));
	assert_non_null(strstr(ics, "\r\nDTSTAMP:20300101T000000Z\r\n"));
	assert_non_null(strstr(ics, "\r\nDTSTART;VALUE=DATE:20301231\r\n"));
	assert_non_null(strstr(ics, "\r\nDTEND;VALUE=DATE:20310101\r\n")); /* across the year */
	assert_non_null(strstr(ics, "\r\nSUMMARY:Classroom visit: Timers\\, and\\; stations "
	                            "\\\\ more\r\n"));
	assert_non_null(strstr(ics, "\r\nLOCATION:Birch School\r\n"));
	assert_non_null(strstr(ics, "\r\nPRODID:"));
	assert_non_null(strstr(ics, "END:VCALENDAR\r\n"));
	/* every line ends CRLF, none passes 75 octets, and a fold never cuts a
	 * UTF-8 character */
	size_t lines = 0;
	for (const char *p = ics; *p;) {
		const char *e = strstr(p, "\r\n");
		assert_non_null(e);
		assert_true(e - p <= 75);
		assert_true(((unsigned char)*p & 0xc0) != 0x80 || p == ics);
		if (*p == ' ')
			assert_true(((unsigned char)p[1] & 0xc0) != 0x80);
		assert_null(memchr(p, '\n', (size_t)(e - p)));
		p = e + 2;
		lines++;
	}
	assert_true(lines >= 15);
	/* unfolded, the note reads as written, newline as \n */
	char *un = strdup(ics), *o = un;
	for (const char *p = ics; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
			p += 2;
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	assert_non_null(strstr(un, "Note: Line one\\nline two with a long enough text to need "
	                           "folding\\, ééééééééééééééééééééééééééééé and more"));
	free(un);
	free(ics);
	free(v.date);
	v.date = NULL;
	assert_null(visit_ics(&v, "20300101T000000Z"));
	visit_free(&v);
}

static int64_t count(struct kd_db *db, const char *sql)
{
	struct kd_stmt *st;
	db_prepare(db, sql, &st);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t n = db_column_int64(st, 0);
	db_finalize(st);
	return n;
}

static void views_once_a_day(void **state)
{
	struct world *w = *state;
	assert_int_equal(view_record(w->db, &w->teacher_a, w->clip_b, "2030-01-01"), 0);
	assert_int_equal(view_record(w->db, &w->teacher_a, w->clip_b, "2030-01-01"), 0);
	assert_int_equal(view_record(w->db, &w->teacher_a, w->clip_b, "2030-01-02"), 0);
	assert_int_equal(view_record(w->db, &w->admin, w->clip_b, NULL), 0);
	assert_int_equal(view_record(w->db, &w->teacher_a, w->pending_b, "2030-01-01"),
	                 KD_ENOTFOUND);
	assert_int_equal(count(w->db, "SELECT count(*) FROM views"), 3);
	assert_int_equal(count(w->db, "SELECT count(*) FROM views WHERE school_id IS NULL AND "
	                              "day = strftime('%Y-%m-%d', 'now')"), 1);
	assert_int_equal(count(w->db, "SELECT count(*) FROM views v JOIN schools s ON "
	                              "s.id = v.school_id WHERE s.slug = 'alder'"), 2);
}

int main(void)
{
	users_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(asking_records_host_practice_and_visitor_school, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(asking_is_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(who_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(listing, setup, teardown),
		cmocka_unit_test(ics_is_rfc5545),
		cmocka_unit_test_setup_teardown(views_once_a_day, setup, teardown),
	};
	return cmocka_run_group_tests_name("visits", tests, NULL, NULL);
}
