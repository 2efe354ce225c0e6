/* test_summary.c - a school's and the district's summary over a seeded
 * catalogue of known clips, views and visits: exact figures, roles, the
 * privacy rule, date ranges, CSV. */
#include <stdio.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/summary.h"
#include "kindling/users.h"

struct world {
	sqlite3 *db;
	struct kd_user admin, princ_a, princ_b, teacher_a, teacher_b, user_c;
};

/* The catalogue (range 2026-01-01..2026-03-31 in the tests):
 *   alder  1 station-rotation             2026-02-10  90 s  Ann
 *          2 station-rotation, choice     2026-02-20 150 s  Ann
 *          3 student-choice  (uploaded)   2026-03-05  30 s  Bo, Jr.
 *          4 peer-feedback, consent pending 2026-03-15 600 s (admins only)
 *          5 differentiation              2025-06-01  60 s  (before the range)
 *          7 formative-assessment, queued 2026-03-01        (never counted)
 *   birch 11 station-rotation             2026-01-05  60 s
 *   cedar 21 student-choice               2025-12-01  60 s
 *         22 mastery-tracking             2026-01-10  no duration */
static const char FIXTURE[] =
	"INSERT INTO schools (id, slug, name) VALUES (1, 'alder', 'Alder'), (2, 'birch', 'Birch'),"
	" (3, 'cedar', 'Cedar');"
	"INSERT INTO clips (id, title, school_id, teacher, recorded_on, uploaded_at, consent,"
	" status, duration_s) VALUES"
	" (1, 'a1', 1, 'Ann', '2026-02-10', '2026-02-11T10:00:00Z', 'on-file', 'ready', 90),"
	" (2, 'a2', 1, 'Ann', '2026-02-20', '2026-02-21T10:00:00Z', 'on-file', 'ready', 150),"
	" (3, 'a3', 1, 'Bo, Jr.', NULL, '2026-03-05T23:59:59Z', 'on-file', 'ready', 30),"
	" (4, 'a4', 1, 'Ann', '2026-03-15', '2026-03-15T10:00:00Z', 'pending', 'ready', 600),"
	" (5, 'a5', 1, 'Ann', '2025-06-01', '2025-06-01T10:00:00Z', 'on-file', 'ready', 60),"
	" (7, 'a7', 1, 'Ann', '2026-03-01', '2026-03-01T10:00:00Z', 'on-file', 'queued', NULL),"
	" (11, 'b1', 2, 'Bea', '2026-01-05', '2026-01-05T10:00:00Z', 'on-file', 'ready', 60),"
	" (21, 'c1', 3, 'Cy', '2025-12-01', '2025-12-01T10:00:00Z', 'on-file', 'ready', 60),"
	" (22, 'c2', 3, 'Cy', '2026-01-10', '2026-01-10T10:00:00Z', 'on-file', 'ready', NULL);"
	"INSERT INTO clip_practices (clip_id, practice_id) SELECT c, (SELECT id FROM practices"
	" WHERE slug = p) FROM (SELECT 1 AS c, 'station-rotation' AS p"
	" UNION ALL SELECT 2, 'station-rotation' UNION ALL SELECT 2, 'student-choice'"
	" UNION ALL SELECT 3, 'student-choice' UNION ALL SELECT 4, 'peer-feedback'"
	" UNION ALL SELECT 5, 'differentiation' UNION ALL SELECT 7, 'formative-assessment'"
	" UNION ALL SELECT 11, 'station-rotation' UNION ALL SELECT 21, 'student-choice'"
	" UNION ALL SELECT 22, 'mastery-tracking');";

static void exec_fmt(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void exec_fmt(sqlite3 *db, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	test_exec(db, sql);
}

static void view(struct world *w, const struct kd_user *u, int clip, const char *day)
{
	exec_fmt(w->db, "INSERT OR IGNORE INTO views (clip_id, user_id, school_id, day) VALUES "
	         "(%d, %lld, nullif(%lld, 0), '%s')", clip, (long long)u->id,
	         (long long)u->school_id, day);
}

static void visit(struct world *w, const struct kd_user *u, int clip, const char *status,
                  const char *date, const char *created)
{
	exec_fmt(w->db, "INSERT INTO visits (clip_id, requester_id, visitor_school_id, "
	         "host_school_id, practice_id, proposed_dates, date, status, created_at) VALUES "
	         "(%d, %lld, %lld, (SELECT school_id FROM clips WHERE id = %d), (SELECT "
	         "min(practice_id) FROM clip_practices WHERE clip_id = %d), '[]', %s%s%s, '%s', "
	         "'%sT12:00:00Z')", clip, (long long)u->id, (long long)u->school_id, clip, clip,
	         date ? "'" : "", date ? date : "NULL", date ? "'" : "", status, created);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	w->db = test_db();
	test_exec(w->db, FIXTURE);
	w->admin = test_user(w->db, "admin", KD_ROLE_ADMIN, NULL);
	w->princ_a = test_user(w->db, "Pia", KD_ROLE_PRINCIPAL, "alder");
	w->princ_b = test_user(w->db, "Pat", KD_ROLE_PRINCIPAL, "birch");
	w->teacher_a = test_user(w->db, "Tia", KD_ROLE_TEACHER, "alder");
	w->teacher_b = test_user(w->db, "Tob", KD_ROLE_TEACHER, "birch");
	w->user_c = test_user(w->db, "Cam", KD_ROLE_COACH, "cedar");
	/* views of alder's clips by others: 3 in range that a principal counts */
	view(w, &w->teacher_b, 1, "2026-02-11");
	view(w, &w->teacher_b, 1, "2026-02-12");
	view(w, &w->user_c, 2, "2026-03-01");
	view(w, &w->teacher_b, 1, "2026-04-02"); /* after the range */
	view(w, &w->teacher_a, 1, "2026-02-11"); /* own school */
	view(w, &w->admin, 2, "2026-02-11");     /* no school */
	view(w, &w->teacher_b, 4, "2026-03-20"); /* a clip only admins see */
	/* alder saw station rotation at birch (a view) before its first clip */
	view(w, &w->teacher_a, 11, "2026-01-20");
	view(w, &w->teacher_a, 21, "2026-02-25"); /* after alder's first choice clip */
	/* visits */
	visit(w, &w->teacher_a, 11, "accepted", "2026-01-25", "2026-01-15");
	visit(w, &w->teacher_a, 21, "done", "2026-02-01", "2026-01-20");
	visit(w, &w->teacher_a, 22, "declined", NULL, "2026-02-02");
	visit(w, &w->teacher_b, 1, "requested", NULL, "2026-03-02");
	visit(w, &w->user_c, 2, "accepted", "2026-04-10", "2026-03-10");
	visit(w, &w->teacher_b, 1, "requested", NULL, "2026-05-01"); /* after the range */
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

static char *school(struct world *w, const struct kd_user *u, const char *slug)
{
	json_t *s = NULL;
	char err[KD_ERRMSG_MAX] = "";
	int rc = summary_school(w->db, u, slug, "2026-01-01", "2026-03-31", &s, err, sizeof err);
	if (rc != 0)
		fail_msg("summary_school: %d %s", rc, err);
	json_object_del(s, "school_name");
	char *text = json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(s);
	return text;
}

static void a_principal_sees_exact_figures(void **state)
{
	struct world *w = *state;
	char *got = school(w, &w->princ_a, "alder");
	assert_string_equal(
		got,
		"{\"school\":\"alder\",\"from\":\"2026-01-01\",\"to\":\"2026-03-31\",\"clips\":3,"
		"\"minutes\":4.5,"
		"\"by_practice\":[{\"practice\":\"station-rotation\",\"clips\":2,\"minutes\":4.0},"
		"{\"practice\":\"student-choice\",\"clips\":2,\"minutes\":3.0}],"
		"\"by_month\":[{\"month\":\"2026-02\",\"clips\":2},{\"month\":\"2026-03\",\"clips\":1}],"
		"\"teachers\":[{\"teacher\":\"Ann\",\"clips\":2},{\"teacher\":\"Bo, Jr.\",\"clips\":1}],"
		"\"views_from_other_schools\":3,"
		"\"visits\":{\"hosted\":{\"requested\":1,\"accepted\":1,\"declined\":0,\"done\":0},"
		"\"made\":{\"requested\":0,\"accepted\":1,\"declined\":1,\"done\":1}},"
		"\"arrived_from_elsewhere\":["
		"{\"practice\":\"station-rotation\",\"first_clip_on\":\"2026-02-10\","
		"\"seen_at_school\":\"birch\",\"seen_on\":\"2026-01-20\",\"via\":\"view\"},"
		"{\"practice\":\"student-choice\",\"first_clip_on\":\"2026-02-20\","
		"\"seen_at_school\":\"cedar\",\"seen_on\":\"2026-02-01\",\"via\":\"visit\"}]}");
	free(got);
}

static void an_admin_counts_every_clip_they_see(void **state)
{
	struct world *w = *state;
	json_t *s;
	char err[KD_ERRMSG_MAX];
	assert_int_equal(summary_school(w->db, &w->admin, "alder", "2026-01-01", "2026-03-31", &s,
	                                err, sizeof err), 0);
	assert_int_equal(json_integer_value(json_object_get(s, "clips")), 4);
	assert_true(json_real_value(json_object_get(s, "minutes")) == 14.5);
	assert_int_equal(json_integer_value(json_object_get(s, "views_from_other_schools")), 4);
	json_t *pf = json_array_get(json_object_get(s, "by_practice"), 2);
	assert_string_equal(json_string_value(json_object_get(pf, "practice")), "peer-feedback");
	assert_true(json_real_value(json_object_get(pf, "minutes")) == 10.0);
	/* peer feedback's first clip was seen nowhere before: it did not arrive */
	assert_int_equal(json_array_size(json_object_get(s, "arrived_from_elsewhere")), 2);
	json_decref(s);
}

static void roles(void **state)
{
	struct world *w = *state;
	json_t *s = NULL;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(summary_school(w->db, &w->teacher_a, "alder", "2026-01-01", "2026-03-31",
	                                &s, err, sizeof err), KD_EPERM);
	assert_non_null(strstr(err, "principals"));
	assert_int_equal(summary_school(w->db, &w->princ_b, "alder", "2026-01-01", "2026-03-31",
	                                &s, err, sizeof err), KD_EPERM);
	assert_int_equal(summary_school(w->db, &w->user_c, "cedar", "2026-01-01", "2026-03-31",
	                                &s, err, sizeof err), KD_EPERM); /* a coach */
	assert_int_equal(summary_school(w->db, &w->admin, "nowhere", "2026-01-01", "2026-03-31",
	                                &s, err, sizeof err), KD_ENOTFOUND);
	assert_null(s);
	assert_int_equal(summary_district(w->db, &w->princ_a, "2026-01-01", "2026-03-31", &s, err,
	                                  sizeof err), KD_EPERM);
	char *b = school(w, &w->princ_b, "birch");
	assert_non_null(strstr(b, "\"clips\":1,\"minutes\":1.0"));
	assert_non_null(strstr(b, "\"views_from_other_schools\":1"));
	free(b);
}

static void ranges(void **state)
{
	struct world *w = *state;
	char from[11], to[11], err[KD_ERRMSG_MAX];
	assert_int_equal(summary_range(w->db, NULL, "2026-03-31", from, to, err, sizeof err), 0);
	assert_string_equal(from, "2025-03-31");
	assert_string_equal(to, "2026-03-31");
	assert_int_equal(summary_range(w->db, "2026-02-01", "2026-02-01", from, to, err, sizeof err),
	                 0);
	assert_int_equal(summary_range(w->db, "", NULL, from, to, err, sizeof err), 0);
	assert_int_equal(strlen(to), 10);
	assert_int_equal(summary_range(w->db, "2026-02-30", NULL, from, to, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(summary_range(w->db, "2026-03-02", "2026-03-01", from, to, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "after"));
	/* one day: only what happened that day */
	json_t *s;
	assert_int_equal(summary_school(w->db, &w->princ_a, "alder", "2026-03-05", "2026-03-05", &s,
	                                err, sizeof err), 0);
	assert_int_equal(json_integer_value(json_object_get(s, "clips")), 1); /* by upload day */
	assert_int_equal(json_array_size(json_object_get(s, "arrived_from_elsewhere")), 0);
	json_decref(s);
}

static void district(void **state)
{
	struct world *w = *state;
	json_t *s;
	char err[KD_ERRMSG_MAX];
	assert_int_equal(summary_district(w->db, &w->admin, "2026-01-01", "2026-03-31", &s, err,
	                                  sizeof err), 0);
	json_t *schools = json_object_get(s, "schools");
	for (size_t i = 0; i < json_array_size(schools); i++)
		json_object_del(json_array_get(schools, i), "name");
	char *t = json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	assert_string_equal(
		t,
		"{\"from\":\"2026-01-01\",\"to\":\"2026-03-31\",\"schools\":["
		"{\"school\":\"alder\",\"clips\":4,\"minutes\":14.5,\"views_from_other_schools\":4,"
		"\"visits_hosted\":2,\"visits_made\":3},"
		"{\"school\":\"birch\",\"clips\":1,\"minutes\":1.0,\"views_from_other_schools\":1,"
		"\"visits_hosted\":1,\"visits_made\":1},"
		"{\"school\":\"cedar\",\"clips\":1,\"minutes\":0.0,\"views_from_other_schools\":1,"
		"\"visits_hosted\":2,\"visits_made\":1}],"
		"\"grid\":[{\"practice\":\"mastery-tracking\",\"schools\":{\"cedar\":1}},"
		"{\"practice\":\"peer-feedback\",\"schools\":{\"alder\":1}},"
		"{\"practice\":\"station-rotation\",\"schools\":{\"alder\":2,\"birch\":1}},"
		"{\"practice\":\"student-choice\",\"schools\":{\"alder\":2}}],"
		"\"spread\":[{\"practice\":\"mastery-tracking\",\"month\":\"2026-01\",\"schools\":1},"
		"{\"practice\":\"peer-feedback\",\"month\":\"2026-03\",\"schools\":1},"
		"{\"practice\":\"station-rotation\",\"month\":\"2026-01\",\"schools\":1},"
		"{\"practice\":\"station-rotation\",\"month\":\"2026-02\",\"schools\":2},"
		"{\"practice\":\"student-choice\",\"month\":\"2026-02\",\"schools\":2},"
		"{\"practice\":\"student-choice\",\"month\":\"2026-03\",\"schools\":2}]}");
	free(t);
	json_decref(s);
}

static void csv(void **state)
{
	struct world *w = *state;
	json_t *s;
	char err[KD_ERRMSG_MAX];
	assert_int_equal(summary_school(w->db, &w->princ_a, "alder", "2026-01-01", "2026-03-31", &s,
	                                err, sizeof err), 0);
	/* a hostile name: quotes, a comma, a formula, a line break */
	json_array_append_new(json_object_get(s, "teachers"),
	                      json_pack("{ss si}", "teacher", "=HYPERLINK(\"x\"),\nEvil", "clips", 9));
	char *text = summary_csv(s);
	json_decref(s);
	static const char head[] = "section,key,field,value\r\n"
	                           "summary,,school,alder\r\n"
	                           "summary,,from,2026-01-01\r\n"
	                           "summary,,to,2026-03-31\r\n"
	                           "summary,,clips,3\r\n"
	                           "summary,,minutes,4.5\r\n"
	                           "summary,,views_from_other_schools,3\r\n"
	                           "by_practice,station-rotation,clips,2\r\n"
	                           "by_practice,station-rotation,minutes,4.0\r\n";
	assert_true(strncmp(text, head, strlen(head)) == 0);
	assert_non_null(strstr(text, "\r\nteachers,\"Bo, Jr.\",clips,1\r\n"));
	assert_non_null(strstr(text, "\r\nteachers,\"'=HYPERLINK(\"\"x\"\"),\nEvil\",clips,9\r\n"));
	assert_non_null(strstr(text, "\r\nvisits_made,done,visits,1\r\n"));
	assert_non_null(strstr(text, "\r\narrived_from_elsewhere,student-choice,via,visit\r\n"));
	assert_non_null(strstr(text, "\r\narrived_from_elsewhere,station-rotation,seen_at_school,"
	                             "birch\r\n"));
	size_t len = strlen(text);
	assert_true(len > 2 && text[len - 2] == '\r' && text[len - 1] == '\n');
	free(text);
}

int main(void)
{
	users_init();
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(a_principal_sees_exact_figures), T(an_admin_counts_every_clip_they_see), T(roles),
		T(ranges), T(district), T(csv),
	};
	return cmocka_run_group_tests_name("summary", tests, NULL, NULL);
}
