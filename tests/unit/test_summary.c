/* test_summary.c - a school's and the district's summary over a seeded
 * catalogue of known clips, views and visits: exact figures, roles, the
 * privacy rule, date ranges, CSV. */
#include <stdio.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/summary.h"
#include "kindling/users.h"

struct world {
	struct kd_db *db;
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
	" UNION ALL SELECT 22, 'mastery-tracking') AS cp;";

static void exec_fmt(struct kd_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void exec_fmt(struct kd_db *db, const char *fmt, ...)
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
	exec_fmt(w->db, "INSERT INTO views (clip_id, user_id, school_id, day) VALUES "
	         "(%d, %lld, nullif(%lld, 0), '%s') ON CONFLICT DO NOTHING", clip, (long long)u->id,
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
	cat_index_enable(false);
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

/* ---------------------------------------------------------------- memory and SQL
 *
 * The server answers from the catalogue in memory and the view counts of
 * schema/006 (summary_index.c); the SQL of summary.c is what it must
 * answer.  A varied catalogue, written as the command line and the
 * server's other connections would, is asked both ways by every kind of
 * asker over several ranges, before and after each kind of change. */
#define V_CLIPS 400
#define V_SCHOOLS 5 /* the fifth, elm, has people but no clips: it is deleted */

static const char *const V_SCHOOL[V_SCHOOLS] = {"alder", "birch", "cedar", "dogwood", "elm"};
static const char *const V_PRACTICE[] = {"station-rotation", "student-choice",
                                         "differentiation", "peer-feedback",
                                         "formative-assessment"};
static const char *const V_TEACHER[] = {"Ann", "ann", "Bo, Jr.", "", "Zoë", "Cy"};
static const char *const V_CONSENT[] = {"on-file", "on-file", "on-file", "pending",
                                        "withdrawn"};
static const char *const V_VISIBILITY[] = {"district", "district", "school", "private"};
static const char *const V_STATUS[] = {"requested", "accepted", "declined", "done"};

struct varied {
	char path[64];
	struct kd_db *db;    /* the server's connection, which the summaries read */
	struct kd_db *other; /* another writer: the command line, a worker */
	struct kd_user admin, principal[V_SCHOOLS], teacher[V_SCHOOLS], coach, nobody;
};

static unsigned v_state = 2026;

static unsigned v_rnd(unsigned n)
{
	v_state = v_state * 1103515245u + 12345u;
	return (v_state >> 16) % n;
}

static void v_day(char *out, size_t n)
{
	snprintf(out, n, "20%02u-%02u-%02u", 24 + v_rnd(2), 1 + v_rnd(12), 1 + v_rnd(28));
}

static int64_t v_clip(struct varied *v, struct kd_db *db, const char *school)
{
	const char *practices[3] = {V_PRACTICE[v_rnd(5)], V_PRACTICE[v_rnd(5)],
	                            V_PRACTICE[v_rnd(5)]};
	size_t np = 1 + v_rnd(3);
	if (np >= 2 && practices[1] == practices[0])
		np = 1;
	if (np == 3 && (practices[2] == practices[0] || practices[2] == practices[1]))
		np = 2;
	char recorded[11];
	v_day(recorded, sizeof recorded);
	const struct kd_user *uploaders[] = {NULL, &v->principal[0], &v->principal[1], &v->coach,
	                                     &v->principal[2]};
	const struct kd_user *up = uploaders[v_rnd(5)];
	struct cat_clip_new c = {
		.title = "clip", .school = school ? school : V_SCHOOL[v_rnd(4)],
		.practices = practices, .n_practices = np, .teacher = V_TEACHER[v_rnd(6)],
		.recorded_on = v_rnd(4) ? recorded : NULL, .consent = V_CONSENT[v_rnd(5)],
		.visibility = V_VISIBILITY[v_rnd(4)],
		.status = v_rnd(5) ? CAT_READY : (enum cat_status)v_rnd(4),
		.uploader_id = up ? up->id : 0,
	};
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	if (cat_clip_create(db, &c, &id, err, sizeof err) != 0)
		fail_msg("cat_clip_create: %s", err);
	char day[11];
	v_day(day, sizeof day);
	/* a duration with a fraction (sums in another order would differ in
	 * their last bits), or none */
	if (v_rnd(6))
		exec_fmt(db, "UPDATE clips SET duration_s = %u / 7.0, uploaded_at = '%sT%02u:00:00Z' "
		         "WHERE id = %lld", 10 + v_rnd(4000), day, v_rnd(24), (long long)id);
	else
		exec_fmt(db, "UPDATE clips SET uploaded_at = '%sT23:59:59Z' WHERE id = %lld", day,
		         (long long)id);
	return id;
}

static void v_view(struct kd_db *db, const struct kd_user *u)
{
	char day[11];
	v_day(day, sizeof day);
	exec_fmt(db, "INSERT INTO views (clip_id, user_id, school_id, day) "
	         "SELECT id, %lld, nullif(%lld, 0), '%s' FROM clips WHERE true ORDER BY id LIMIT 1 "
	         "OFFSET %u %% (SELECT count(*) FROM clips) ON CONFLICT DO NOTHING",
	         (long long)u->id, (long long)u->school_id, day, v_rnd(100000));
}

static void v_visit(struct kd_db *db, const struct kd_user *u)
{
	char date[16] = "NULL", created[11], practice[96] = "NULL";
	if (v_rnd(4)) {
		date[0] = '\'';
		v_day(date + 1, 11);
		strcat(date, "'");
	}
	v_day(created, sizeof created);
	switch (v_rnd(3)) { /* the clip's practice, any other, or none */
	case 0: snprintf(practice, sizeof practice, "(SELECT min(practice_id) FROM "
	                 "clip_practices WHERE clip_id = c.id)"); break;
	case 1: snprintf(practice, sizeof practice, "(SELECT id FROM practices ORDER BY id "
	                 "LIMIT 1 OFFSET %u)", v_rnd(10)); break;
	}
	exec_fmt(db, "INSERT INTO visits (clip_id, requester_id, visitor_school_id, "
	         "host_school_id, practice_id, proposed_dates, date, status, created_at) "
	         "SELECT c.id, %lld, nullif(%lld, 0), c.school_id, %s, '[]', %s, '%s', "
	         "'%sT12:00:00Z' FROM clips c ORDER BY c.id LIMIT 1 OFFSET %u %% "
	         "(SELECT count(*) FROM clips)",
	         (long long)u->id, (long long)u->school_id, practice, date, V_STATUS[v_rnd(4)],
	         created, v_rnd(100000));
}

static int varied_setup(void **state)
{
	struct varied *v = calloc(1, sizeof *v);
	snprintf(v->path, sizeof v->path, "/tmp/kindling-test-summary-XXXXXX");
	int fd = mkstemp(v->path);
	assert_true(fd >= 0);
	close(fd);
	char err[KD_ERRMSG_MAX] = "";
	kd_log_set_level(KD_LOG_WARN);
	if (db_open(v->path, &v->db, err, sizeof err) != 0 ||
	    db_open(v->path, &v->other, err, sizeof err) != 0)
		fail_msg("db_open: %s", err);
	for (size_t i = 0; i < V_SCHOOLS; i++)
		assert_int_equal(cat_school_add(v->db, V_SCHOOL[i], V_SCHOOL[i], "", err, sizeof err),
		                 0);
	v->admin = test_user(v->db, "admin", KD_ROLE_ADMIN, NULL);
	for (size_t i = 0; i < V_SCHOOLS; i++) {
		char name[32];
		snprintf(name, sizeof name, "principal %s", V_SCHOOL[i]);
		v->principal[i] = test_user(v->db, name, KD_ROLE_PRINCIPAL, V_SCHOOL[i]);
		snprintf(name, sizeof name, "teacher %s", V_SCHOOL[i]);
		v->teacher[i] = test_user(v->db, name, KD_ROLE_TEACHER, V_SCHOOL[i]);
	}
	v->coach = test_user(v->db, "coach", KD_ROLE_COACH, "alder");
	v->nobody = test_user(v->db, "nobody", KD_ROLE_TEACHER, NULL);
	test_exec(v->db, "BEGIN");
	for (size_t i = 0; i < V_CLIPS; i++)
		v_clip(v, v->db, NULL);
	/* text no form would write, that SQL still compares and cuts: an empty
	 * date, a month alone, a date with more after it, and upload times
	 * whose first ten characters are more than ten bytes */
	test_exec(v->db, "UPDATE clips SET recorded_on = '' WHERE id % 41 = 0");
	test_exec(v->db, "UPDATE clips SET recorded_on = '2025-03' WHERE id % 43 = 0");
	test_exec(v->db, "UPDATE clips SET recorded_on = '2025-04-01x' WHERE id % 47 = 0");
	test_exec(v->db, "UPDATE clips SET recorded_on = NULL, uploaded_at = '2025-0\xc3\xa9-01T10:00:00Z'"
	                 " WHERE id % 53 = 0");
	test_exec(v->db, "UPDATE clips SET recorded_on = NULL, uploaded_at = '2025-05-3\xc3\xa9T10:00:00Z'"
	                 " WHERE id % 59 = 0");
	for (size_t i = 0; i < 1500; i++) {
		const struct kd_user *u = v_rnd(10) == 0 ? &v->nobody
		                          : v_rnd(2) ? &v->teacher[v_rnd(V_SCHOOLS)]
		                                     : &v->principal[v_rnd(V_SCHOOLS)];
		v_view(v->db, u);
	}
	for (size_t i = 0; i < 80; i++)
		v_visit(v->db, &v->teacher[v_rnd(V_SCHOOLS)]);
	test_exec(v->db, "COMMIT");
	*state = v;
	return 0;
}

static int varied_teardown(void **state)
{
	struct varied *v = *state;
	cat_index_enable(false);
	db_close(&v->db);
	db_close(&v->other);
	unlink(v->path);
	char side[96];
	snprintf(side, sizeof side, "%s-wal", v->path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", v->path);
	unlink(side);
	free(v);
	return 0;
}

/* One summary (the district's for school NULL), from memory or SQL, as
 * text with every bit of its numbers, or the error it gave. */
static char *asked(struct kd_db *db, const struct kd_user *u, const char *school, const char *from,
                   const char *to, bool memory)
{
	cat_index_enable(memory);
	json_t *s = NULL;
	char err[KD_ERRMSG_MAX] = "";
	int rc = school ? summary_school(db, u, school, from, to, &s, err, sizeof err)
	                : summary_district(db, u, from, to, &s, err, sizeof err);
	cat_index_enable(false);
	if (rc < 0) {
		char *e = malloc(KD_ERRMSG_MAX + 32);
		snprintf(e, KD_ERRMSG_MAX + 32, "error %d: %s", rc, err);
		return e;
	}
	char *text = json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(s);
	return text;
}

static void same_from_both(struct kd_db *db, const struct kd_user *u, const char *school,
                           const char *from, const char *to, const char *when)
{
	char *sql = asked(db, u, school, from, to, false);
	char *mem = asked(db, u, school, from, to, true);
	if (strcmp(sql, mem)) {
		size_t at = 0;
		while (sql[at] && sql[at] == mem[at])
			at++;
		size_t from_at = at > 80 ? at - 80 : 0;
		fail_msg("%s: %s's summary of %s, %s..%s differs at byte %zu:\n  SQL:    ...%.240s\n"
		         "  memory: ...%.240s", when, u->name, school ? school : "the district", from,
		         to, at, sql + from_at, mem + from_at);
	}
	free(sql);
	free(mem);
}

/* The counts of schema/006 are what counting every view again gives. */
static void counts_hold(struct kd_db *db, const char *when)
{
	static const char *const checks[] = {
		"SELECT count(*) FROM view_counts WHERE n < 0",
		"SELECT count(*) FROM view_practice_counts WHERE n < 0",
		"SELECT count(*) FROM ("
		" SELECT clip_school_id, day, shared, n FROM view_counts WHERE n != 0 EXCEPT"
		" SELECT c.school_id, v.day, CASE WHEN c.status = 'ready' AND c.consent = 'on-file' AND"
		"  c.visibility IN ('district', 'school') THEN 1 ELSE 0 END, count(*) FROM views v JOIN clips c"
		"  ON c.id = v.clip_id WHERE v.school_id != c.school_id GROUP BY 1, 2, 3) AS d",
		"SELECT count(*) FROM ("
		" SELECT c.school_id, v.day, CASE WHEN c.status = 'ready' AND c.consent = 'on-file' AND"
		"  c.visibility IN ('district', 'school') THEN 1 ELSE 0 END, count(*) FROM views v JOIN clips c"
		"  ON c.id = v.clip_id WHERE v.school_id != c.school_id GROUP BY 1, 2, 3 EXCEPT"
		" SELECT clip_school_id, day, shared, n FROM view_counts WHERE n != 0) AS d",
		"SELECT count(*) FROM ("
		" SELECT viewer_school_id, practice_id, day, clip_school_id, n"
		"  FROM view_practice_counts WHERE n != 0 EXCEPT"
		" SELECT v.school_id, cp.practice_id, v.day, c.school_id, count(*) FROM views v"
		"  JOIN clips c ON c.id = v.clip_id JOIN clip_practices cp ON cp.clip_id = c.id"
		"  WHERE v.school_id != c.school_id GROUP BY 1, 2, 3, 4) AS d",
		"SELECT count(*) FROM ("
		" SELECT v.school_id, cp.practice_id, v.day, c.school_id, count(*) FROM views v"
		"  JOIN clips c ON c.id = v.clip_id JOIN clip_practices cp ON cp.clip_id = c.id"
		"  WHERE v.school_id != c.school_id GROUP BY 1, 2, 3, 4 EXCEPT"
		" SELECT viewer_school_id, practice_id, day, clip_school_id, n"
		"  FROM view_practice_counts WHERE n != 0) AS d",
	};
	for (size_t i = 0; i < sizeof checks / sizeof *checks; i++) {
		struct kd_stmt *st;
		assert_int_equal(db_prepare(db, checks[i], &st), DB_OK);
		assert_int_equal(db_step(st), DB_ROW);
		int64_t bad = db_column_int64(st, 0);
		db_finalize(st);
		if (bad)
			fail_msg("%s: %lld rows wrong: %s", when, (long long)bad, checks[i]);
	}
}

static const char *const V_RANGES[][2] = {
	{"2024-01-01", "2025-12-31"}, {"2025-01-01", "2025-06-30"}, {"2025-03-01", "2025-03-31"},
	{"2024-07-15", "2024-07-15"}, {"2000-01-01", "2099-12-31"}, {"2025-05-30", "2025-06-01"},
};

/* Every school asked by an admin and by its principal, the district by
 * an admin, over every range: the same from memory as from SQL. */
static void same_everywhere(struct varied *v, const char *when)
{
	counts_hold(v->db, when);
	for (size_t r = 0; r < sizeof V_RANGES / sizeof *V_RANGES; r++) {
		const char *from = V_RANGES[r][0], *to = V_RANGES[r][1];
		for (size_t i = 0; i < V_SCHOOLS; i++) {
			same_from_both(v->db, &v->admin, V_SCHOOL[i], from, to, when);
			same_from_both(v->db, &v->principal[i], V_SCHOOL[i], from, to, when);
		}
		same_from_both(v->db, &v->admin, NULL, from, to, when);
	}
	/* refusals are the same too */
	same_from_both(v->db, &v->teacher[0], "alder", "2025-01-01", "2025-12-31", when);
	same_from_both(v->db, &v->principal[1], "alder", "2025-01-01", "2025-12-31", when);
	same_from_both(v->db, &v->principal[1], NULL, "2025-01-01", "2025-12-31", when);
	same_from_both(v->db, &v->admin, "nowhere", "2025-01-01", "2025-12-31", when);
}

static void memory_answers_as_sql_does(void **state)
{
	struct varied *v = *state;
	char err[KD_ERRMSG_MAX] = "";
	same_everywhere(v, "as seeded");

	/* new clips, written by another process, and some get processed */
	for (int i = 0; i < 12; i++)
		v_clip(v, v->other, i % 2 ? "alder" : NULL);
	test_exec(v->other, "UPDATE clips SET status = 'ready' WHERE id IN "
	                    "(SELECT id FROM clips WHERE status != 'ready' ORDER BY id DESC LIMIT 5)");
	same_everywhere(v, "after new clips");

	/* consent withdrawn, through the catalogue and behind its back */
	int64_t viewed[8];
	struct kd_stmt *st;
	assert_int_equal(db_prepare(v->db, "SELECT clip_id FROM views v JOIN clips c ON "
	                                           "c.id = v.clip_id WHERE c.consent = 'on-file' "
	                                           "AND c.status = 'ready' GROUP BY clip_id "
	                                           "ORDER BY count(*) DESC LIMIT 8", &st),
	                 DB_OK);
	size_t n = 0;
	while (n < 8 && db_step(st) == DB_ROW)
		viewed[n++] = db_column_int64(st, 0);
	db_finalize(st);
	assert_int_equal(n, 8);
	struct cat_clip_edit withdraw = {.consent = "withdrawn", .consent_reason = "a parent asked"};
	assert_int_equal(cat_clip_update(v->other, viewed[0], &withdraw, err, sizeof err), 0);
	exec_fmt(v->other, "UPDATE clips SET consent = 'pending' WHERE id = %lld",
	         (long long)viewed[1]);
	same_everywhere(v, "after consent withdrawn");

	/* made private, then shared with the school only; failed */
	struct cat_clip_edit private = {.visibility = "private"}, school_only = {.visibility = "school"};
	assert_int_equal(cat_clip_update(v->other, viewed[2], &private, err, sizeof err), 0);
	assert_int_equal(cat_clip_update(v->other, viewed[3], &school_only, err, sizeof err), 0);
	exec_fmt(v->other, "UPDATE clips SET status = 'failed' WHERE id = %lld",
	         (long long)viewed[4]);
	same_everywhere(v, "after visibility and status changes");

	/* moved to another school, and given other practices */
	struct cat_clip_edit move = {.school = "dogwood"};
	assert_int_equal(cat_clip_update(v->other, viewed[5], &move, err, sizeof err), 0);
	const char *practices[] = {"peer-feedback", "formative-assessment"};
	struct cat_clip_edit relink = {.practices = practices, .n_practices = 2,
	                               .set_practices = true};
	assert_int_equal(cat_clip_update(v->other, viewed[6], &relink, err, sizeof err), 0);
	same_everywhere(v, "after a move and new practices");
	/* moved back, and away again */
	const char *schools[] = {"alder", "birch", "cedar", "dogwood", "alder", "cedar", "birch"};
	for (size_t i = 0; i < 7; i++) {
		struct cat_clip_edit back = {.school = schools[i]};
		assert_int_equal(cat_clip_update(v->other, viewed[5], &back, err, sizeof err), 0);
		same_everywhere(v, "after a clip moved back and forth");
	}

	/* deleted, with its views */
	assert_int_equal(cat_clip_delete(v->other, viewed[7]), 0);
	test_exec(v->other, "DELETE FROM clips WHERE id IN (SELECT clip_id FROM views "
	                    "GROUP BY clip_id ORDER BY clip_id LIMIT 3)");
	same_everywhere(v, "after deletions");
	/* many of one school's: what memory holds of it is packed again */
	test_exec(v->other, "DELETE FROM clips WHERE id IN (SELECT id FROM clips WHERE school_id = "
	                    "(SELECT id FROM schools WHERE slug = 'birch') ORDER BY id % 7, id LIMIT 70)");
	same_everywhere(v, "after many deletions");

	/* views and visits come, visits are answered */
	for (int i = 0; i < 40; i++)
		v_view(v->other, &v->teacher[v_rnd(V_SCHOOLS)]);
	for (int i = 0; i < 10; i++)
		v_visit(v->other, &v->teacher[v_rnd(V_SCHOOLS)]);
	test_exec(v->other, "UPDATE visits SET status = 'done', date = '2024-02-02' WHERE id % 5 = 0");
	same_everywhere(v, "after views and visits");

	/* a person leaves (their views go), a school closes (its people's
	 * views stay, with no school), a practice is renamed */
	exec_fmt(v->other, "DELETE FROM users WHERE id = %lld", (long long)v->teacher[1].id);
	test_exec(v->other, "DELETE FROM schools WHERE slug = 'elm'");
	test_exec(v->other, "UPDATE practices SET slug = 'zz-choice' WHERE slug = 'student-choice'");
	test_exec(v->other, "UPDATE schools SET slug = 'aaa-cedar' WHERE slug = 'cedar'");
	same_everywhere(v, "after people, schools and practices changed");
	same_from_both(v->db, &v->admin, "aaa-cedar", "2024-01-01", "2025-12-31", "renamed");
	test_exec(v->other, "UPDATE practices SET slug = 'student-choice' WHERE slug = 'zz-choice'");

	/* the record of changes pruned past what memory holds: it reloads */
	for (int i = 0; i < 5; i++)
		v_clip(v, v->other, "birch");
	assert_int_equal(cat_changes_prune(v->other, 0), 0);
	v_clip(v, v->other, "birch");
	same_everywhere(v, "after the record of changes was pruned");

	/* more practices than fit in a word of bits, one of them on clips */
	for (int i = 0; i < 70; i++)
		exec_fmt(v->other, "INSERT INTO practices (slug, name) VALUES ('extra-%d', 'Extra %d')",
		         i, i);
	test_exec(v->other, "INSERT INTO clip_practices (clip_id, practice_id) SELECT id, "
	                    "(SELECT max(id) FROM practices) FROM clips WHERE id % 3 = 0");
	test_exec(v->other, "UPDATE clips SET status = 'ready' WHERE id % 3 = 0");
	same_everywhere(v, "after 70 more practices");
}

/* The counts of schema/006 start from the views already there. */
static void counts_start_from_existing_views(void **state)
{
	(void)state;
	struct kd_db *db = test_db_bare();
	size_t i = 0, n;
	const struct db_migration *m = test_migrations(db, &n);
	if (db_backend(db) == DB_SQLITE) /* as a plain connection has it: 004 rebuilds tables */
		test_exec(db, "PRAGMA foreign_keys = OFF");
	for (; i < n && strncmp(m[i].name, "006", 3); i++)
		test_exec(db, m[i].sql);
	assert_true(i < n);
	if (db_backend(db) == DB_SQLITE)
		test_exec(db, "PRAGMA foreign_keys = ON");
	test_exec(db, "INSERT INTO schools (id, slug, name) VALUES (1, 'a', 'A'), (2, 'b', 'B');"
	              "INSERT INTO users (id, name, role, school_id) VALUES (1, 'x', 'teacher', 1),"
	              " (2, 'y', 'teacher', 2), (3, 'z', 'teacher', NULL);"
	              "INSERT INTO clips (id, title, school_id, status, consent, visibility) VALUES"
	              " (1, 't', 1, 'ready', 'on-file', 'district'),"
	              " (2, 't', 2, 'ready', 'pending', 'district'),"
	              " (3, 't', 2, 'queued', 'on-file', 'school');"
	              "INSERT INTO clip_practices VALUES (1, 1), (1, 2), (2, 2), (3, 3);"
	              "INSERT INTO views VALUES (1, 2, 2, '2025-01-01'), (1, 2, 2, '2025-01-02'),"
	              " (1, 1, 1, '2025-01-01'), (2, 1, 1, '2025-01-01'), (3, 1, 1, '2025-01-03'),"
	              " (3, 3, NULL, '2025-01-03'), (2, 2, 2, '2025-01-04');");
	for (; i < n; i++)
		test_exec(db, m[i].sql);
	counts_hold(db, "after the migration");
	struct kd_stmt *st;
	assert_int_equal(db_prepare(db, "SELECT sum(n), count(*) FROM view_counts", &st), DB_OK);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_column_int64(st, 0), 4); /* two of 1 from b, 2 and 3 from a */
	db_finalize(st);
	db_close(&db);
}

/* Ties: a view and a visit on the same day (the view wins), two schools
 * seen the same day (the first slug wins), two visits the same day. */
static void ties_from_memory_as_from_sql(void **state)
{
	struct world *w = *state;
	test_exec(w->db,
	          "INSERT INTO schools (id, slug, name) VALUES (4, 'able', 'Able');"
	          "INSERT INTO clips (id, title, school_id, teacher, recorded_on, consent, status,"
	          " duration_s) VALUES (31, 'x1', 4, 'Al', '2025-11-01', 'on-file', 'ready', 10);"
	          "INSERT INTO clip_practices (clip_id, practice_id) SELECT 31, id FROM practices"
	          " WHERE slug = 'station-rotation';");
	view(w, &w->teacher_a, 31, "2026-01-20"); /* the day alder saw it at birch */
	/* a visit the same day as that view, and two visits on one day */
	exec_fmt(w->db, "INSERT INTO visits (clip_id, requester_id, visitor_school_id, "
	         "host_school_id, practice_id, proposed_dates, date, status, created_at) VALUES "
	         "(NULL, %lld, 1, 3, (SELECT id FROM practices WHERE slug = 'station-rotation'), "
	         "'[]', '2026-01-20', 'accepted', '2026-01-02T10:00:00Z'), "
	         "(NULL, %lld, 1, 2, (SELECT id FROM practices WHERE slug = 'student-choice'), "
	         "'[]', '2026-02-01', 'done', '2026-01-02T10:00:00Z')",
	         (long long)w->teacher_a.id, (long long)w->teacher_a.id);
	char *sql = NULL;
	for (int memory = 0; memory < 2; memory++) {
		cat_index_enable(memory);
		char *got = school(w, &w->princ_a, "alder");
		cat_index_enable(false);
		assert_non_null(strstr(got, "{\"practice\":\"station-rotation\",\"first_clip_on\":"
		                            "\"2026-02-10\",\"seen_at_school\":\"able\",\"seen_on\":"
		                            "\"2026-01-20\",\"via\":\"view\"}"));
		assert_non_null(strstr(got, "{\"practice\":\"student-choice\",\"first_clip_on\":"
		                            "\"2026-02-20\",\"seen_at_school\":\"birch\",\"seen_on\":"
		                            "\"2026-02-01\",\"via\":\"visit\"}"));
		if (sql)
			assert_string_equal(got, sql);
		free(sql);
		sql = got;
	}
	free(sql);
}

/* The figures of the tests above, from memory as from SQL. */
#define FROM_MEMORY(f)                      \
	static void f##_from_memory(void **state) \
	{                                         \
		cat_index_enable(true);               \
		f(state);                             \
		cat_index_enable(false);              \
	}
FROM_MEMORY(a_principal_sees_exact_figures)
FROM_MEMORY(an_admin_counts_every_clip_they_see)
FROM_MEMORY(roles)
FROM_MEMORY(ranges)
FROM_MEMORY(district)
FROM_MEMORY(csv)

int main(void)
{
	users_init();
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(a_principal_sees_exact_figures), T(an_admin_counts_every_clip_they_see), T(roles),
		T(ranges), T(district), T(csv),
		T(a_principal_sees_exact_figures_from_memory),
		T(an_admin_counts_every_clip_they_see_from_memory), T(roles_from_memory),
		T(ranges_from_memory), T(district_from_memory), T(csv_from_memory),
		T(ties_from_memory_as_from_sql),
		cmocka_unit_test_setup_teardown(memory_answers_as_sql_does, varied_setup,
		                                varied_teardown),
		cmocka_unit_test(counts_start_from_existing_views),
	};
	return cmocka_run_group_tests_name("summary", tests, NULL, NULL);
}
