/* test_spread.c - how a practice spread (spread.h), over a catalogue of
 * known clips, views and visits: exact lanes, arrows and events, from the
 * clips in memory as from SQL; the privacy rule; the same first arrival
 * as the principal's summary; the district's ranking; the SVG. */
#include <stdio.h>
#include <unistd.h>

#include "helpers.h"
#include "web/pages_spread.h"
#include "kindling/catalogue.h"
#include "kindling/spread.h"
#include "kindling/summary.h"
#include "kindling/users.h"

struct world {
	struct kd_db *db;
	struct kd_user admin, teacher_a, teacher_b, teacher_c, princ_c;
};

/* Station rotation (SR) and student choice (SC):
 *   alder  1 SR  2026-01-10
 *          2 SR  2026-01-05 private, nobody's upload (admins only)
 *          3 SR  2026-01-10 (the same day as 1: 1 is the first)
 *   birch 11 SR  2026-02-10
 *         12 SR  2026-02-12 visible to birch only
 *   cedar 21 SR  2026-03-20
 *         22 SR  2026-03-01 queued (never counted)
 *         23 SC  2026-01-01 consent pending (admins only) */
static const char FIXTURE[] =
	"INSERT INTO schools (id, slug, name) VALUES (1, 'alder', 'Alder'), (2, 'birch', 'Birch'),"
	" (3, 'cedar', 'Cedar');"
	"INSERT INTO clips (id, title, school_id, teacher, recorded_on, uploaded_at, consent,"
	" visibility, status, duration_s) VALUES"
	" (1, 'a1', 1, 'Ann', '2026-01-10', '2026-01-11T10:00:00Z', 'on-file', 'district', 'ready', 60),"
	" (2, 'a2', 1, 'Ann', '2026-01-05', '2026-01-05T10:00:00Z', 'on-file', 'private', 'ready', 60),"
	" (3, 'a3', 1, 'Ann', NULL, '2026-01-10T23:00:00Z', 'on-file', 'district', 'ready', 60),"
	" (11, 'b1', 2, 'Bea', '2026-02-10', '2026-02-10T10:00:00Z', 'on-file', 'district', 'ready', 60),"
	" (12, 'b2', 2, 'Bea', '2026-02-12', '2026-02-12T10:00:00Z', 'on-file', 'school', 'ready', 60),"
	" (21, 'c1', 3, 'Cy', '2026-03-20', '2026-03-20T10:00:00Z', 'on-file', 'district', 'ready', 60),"
	" (22, 'c2', 3, 'Cy', '2026-03-01', '2026-03-01T10:00:00Z', 'on-file', 'district', 'queued', NULL),"
	" (23, 'c3', 3, 'Cy', '2026-01-01', '2026-01-01T10:00:00Z', 'pending', 'district', 'ready', 60);"
	"INSERT INTO clip_practices (clip_id, practice_id) SELECT c, (SELECT id FROM practices"
	" WHERE slug = p) FROM (SELECT 1 AS c, 'station-rotation' AS p"
	" UNION ALL SELECT 2, 'station-rotation' UNION ALL SELECT 3, 'station-rotation'"
	" UNION ALL SELECT 11, 'station-rotation' UNION ALL SELECT 12, 'station-rotation'"
	" UNION ALL SELECT 21, 'station-rotation' UNION ALL SELECT 22, 'station-rotation'"
	" UNION ALL SELECT 23, 'student-choice') AS cp;";

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
	         "(%d, %lld, %lld, '%s')", clip, (long long)u->id, (long long)u->school_id, day);
}

/* A visit by u's school to host (clip, or 0 for one about the practice). */
static void visit(struct world *w, const struct kd_user *u, int clip, int host,
                  const char *status, const char *date)
{
	exec_fmt(w->db, "INSERT INTO visits (clip_id, requester_id, visitor_school_id, "
	         "host_school_id, practice_id, proposed_dates, date, status, created_at) VALUES "
	         "(nullif(%d, 0), %lld, %lld, %d, (SELECT id FROM practices WHERE slug = "
	         "'station-rotation'), '[]', %s%s%s, '%s', '2026-01-02T12:00:00Z')",
	         clip, (long long)u->id, (long long)u->school_id, host, date ? "'" : "",
	         date ? date : "NULL", date ? "'" : "", status);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	w->db = test_db();
	test_exec(w->db, FIXTURE);
	w->admin = test_user(w->db, "admin", KD_ROLE_ADMIN, NULL);
	w->teacher_a = test_user(w->db, "Tia", KD_ROLE_TEACHER, "alder");
	w->teacher_b = test_user(w->db, "Tob", KD_ROLE_TEACHER, "birch");
	w->teacher_c = test_user(w->db, "Tam", KD_ROLE_TEACHER, "cedar");
	w->princ_c = test_user(w->db, "Pam", KD_ROLE_PRINCIPAL, "cedar");
	view(w, &w->teacher_b, 1, "2026-01-20"); /* alder -> birch */
	view(w, &w->teacher_b, 3, "2026-01-20"); /* the same day: clip 1 names it */
	view(w, &w->teacher_b, 1, "2026-01-25");
	view(w, &w->teacher_c, 12, "2026-02-15"); /* birch -> cedar, a clip few see */
	view(w, &w->teacher_c, 1, "2026-03-25");  /* after cedar's first */
	view(w, &w->teacher_a, 11, "2026-02-11"); /* alder had it before */
	view(w, &w->teacher_c, 11, "2026-03-20"); /* cedar's first day: not before */
	view(w, &w->teacher_b, 11, "2026-01-01"); /* a school's own clip */
	visit(w, &w->teacher_c, 11, 2, "accepted", "2026-03-01");
	visit(w, &w->teacher_c, 0, 1, "done", "2026-02-15");  /* about the practice */
	visit(w, &w->teacher_c, 1, 1, "declined", NULL);
	visit(w, &w->teacher_c, 1, 1, "requested", NULL);
	visit(w, &w->teacher_c, 1, 1, "accepted", "2026-04-01"); /* after */
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

static char *dump(json_t *j)
{
	char *t = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return t;
}

static char *spread(struct world *w, const struct kd_user *u, const char *slug)
{
	json_t *s = NULL;
	char err[KD_ERRMSG_MAX] = "";
	int rc = spread_practice(w->db, u, slug, &s, err, sizeof err);
	if (rc != 0)
		fail_msg("spread_practice: %d %s", rc, err);
	return dump(s);
}

static const char LANES_TEACHER[] =
	"{\"practice\":\"station-rotation\",\"schools\":["
	"{\"school\":\"alder\",\"first_clip_on\":\"2026-01-10\",\"arrived_from\":[]},"
	"{\"school\":\"birch\",\"first_clip_on\":\"2026-02-10\",\"arrived_from\":"
	"[{\"school\":\"alder\",\"via\":\"view\",\"on\":\"2026-01-20\"}]},"
	"{\"school\":\"cedar\",\"first_clip_on\":\"2026-03-20\",\"arrived_from\":"
	"[{\"school\":\"birch\",\"via\":\"view\",\"on\":\"2026-02-15\"},"
	"{\"school\":\"alder\",\"via\":\"visit\",\"on\":\"2026-02-15\"},"
	"{\"school\":\"birch\",\"via\":\"visit\",\"on\":\"2026-03-01\"}]}],";

static void exact_lanes_and_arrows(void **state)
{
	struct world *w = *state;
	char *got = spread(w, &w->teacher_a, "station-rotation");
	char want[4096];
	snprintf(want, sizeof want, "%s%s", LANES_TEACHER,
	         "\"events\":["
	         "{\"on\":\"2026-01-10\",\"kind\":\"clip\",\"from_school\":null,\"to_school\":"
	         "\"alder\",\"clip_id\":1},"
	         "{\"on\":\"2026-01-20\",\"kind\":\"view\",\"from_school\":\"alder\",\"to_school\":"
	         "\"birch\",\"clip_id\":1},"
	         "{\"on\":\"2026-02-10\",\"kind\":\"clip\",\"from_school\":null,\"to_school\":"
	         "\"birch\",\"clip_id\":11},"
	         "{\"on\":\"2026-02-15\",\"kind\":\"view\",\"from_school\":\"birch\",\"to_school\":"
	         "\"cedar\",\"clip_id\":null},"
	         "{\"on\":\"2026-02-15\",\"kind\":\"visit\",\"from_school\":\"alder\",\"to_school\":"
	         "\"cedar\",\"clip_id\":null},"
	         "{\"on\":\"2026-03-01\",\"kind\":\"visit\",\"from_school\":\"birch\",\"to_school\":"
	         "\"cedar\",\"clip_id\":11},"
	         "{\"on\":\"2026-03-20\",\"kind\":\"clip\",\"from_school\":null,\"to_school\":"
	         "\"cedar\",\"clip_id\":21}]}");
	assert_string_equal(got, want);
	free(got);
}

static void the_asker_s_rights(void **state)
{
	struct world *w = *state;
	/* birch's teacher sees clip 12 (birch only): the view names it */
	char *got = spread(w, &w->teacher_b, "station-rotation");
	assert_non_null(strstr(got, "{\"on\":\"2026-02-15\",\"kind\":\"view\",\"from_school\":"
	                            "\"birch\",\"to_school\":\"cedar\",\"clip_id\":12}"));
	free(got);
	/* an admin: alder's first is the private clip 2, on 2026-01-05 */
	got = spread(w, &w->admin, "station-rotation");
	assert_non_null(strstr(got, "{\"school\":\"alder\",\"first_clip_on\":\"2026-01-05\""));
	assert_non_null(strstr(got, "{\"on\":\"2026-01-05\",\"kind\":\"clip\",\"from_school\":null,"
	                            "\"to_school\":\"alder\",\"clip_id\":2}"));
	/* never a name, whoever asks */
	assert_null(strstr(got, "Tam"));
	assert_null(strstr(got, "Tob"));
	assert_null(strstr(got, "Ann"));
	free(got);
	/* student choice: cedar's only clip is for admins */
	got = spread(w, &w->teacher_a, "student-choice");
	assert_string_equal(got, "{\"practice\":\"student-choice\",\"schools\":[],\"events\":[]}");
	free(got);
	json_t *s = NULL;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(spread_practice(w->db, &w->teacher_a, "no-such", &s, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_null(s);
	assert_non_null(strstr(err, "/api/v1/practices"));
}

/* A view of a clip at a school whose every clip the asker may not see:
 * an arrow still, its school a lane without a first clip. */
static void a_school_seen_only_through_an_arrow(void **state)
{
	struct world *w = *state;
	test_exec(w->db, "UPDATE clips SET visibility = 'private' WHERE school_id = 2");
	char *got = spread(w, &w->teacher_a, "station-rotation");
	assert_non_null(strstr(got, "{\"school\":\"birch\",\"first_clip_on\":null,"
	                            "\"arrived_from\":[]}]"));
	assert_non_null(strstr(got, "{\"on\":\"2026-02-15\",\"kind\":\"view\",\"from_school\":"
	                            "\"birch\",\"to_school\":\"cedar\",\"clip_id\":null}"));
	assert_null(strstr(got, "\"clip_id\":11"));
	assert_null(strstr(got, "\"clip_id\":12"));
	free(got);
}

/* The first arrival at each school is what its principal's summary says
 * arrived from elsewhere. */
static void the_summary_s_rule(void **state)
{
	struct world *w = *state;
	json_t *sum = NULL, *sp = NULL;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(summary_school(w->db, &w->princ_c, "cedar", "2026-01-01", "2026-12-31",
	                                &sum, err, sizeof err), 0);
	assert_int_equal(spread_practice(w->db, &w->princ_c, "station-rotation", &sp, err,
	                                 sizeof err), 0);
	json_t *a = json_array_get(json_object_get(sum, "arrived_from_elsewhere"), 0);
	json_t *lane = json_array_get(json_object_get(sp, "schools"), 2);
	json_t *f = json_array_get(json_object_get(lane, "arrived_from"), 0);
	assert_string_equal(json_string_value(json_object_get(lane, "school")), "cedar");
	assert_string_equal(json_string_value(json_object_get(a, "practice")), "station-rotation");
	assert_string_equal(json_string_value(json_object_get(a, "first_clip_on")),
	                    json_string_value(json_object_get(lane, "first_clip_on")));
	assert_string_equal(json_string_value(json_object_get(a, "seen_at_school")),
	                    json_string_value(json_object_get(f, "school")));
	assert_string_equal(json_string_value(json_object_get(a, "seen_on")),
	                    json_string_value(json_object_get(f, "on")));
	assert_string_equal(json_string_value(json_object_get(a, "via")),
	                    json_string_value(json_object_get(f, "via")));
	json_decref(sum);
	json_decref(sp);
}

static char *ranking(struct world *w, const struct kd_user *u, const char *from, const char *to)
{
	json_t *r = NULL;
	char err[KD_ERRMSG_MAX] = "";
	int rc = spread_ranking(w->db, u, from, to, &r, err, sizeof err);
	if (rc != 0)
		fail_msg("spread_ranking: %d %s", rc, err);
	return dump(r);
}

static void ranked_by_schools_reached(void **state)
{
	struct world *w = *state;
	char *got = ranking(w, &w->admin, "2026-01-01", "2026-03-31");
	assert_string_equal(got, "{\"from\":\"2026-01-01\",\"to\":\"2026-03-31\",\"practices\":["
	                         "{\"practice\":\"station-rotation\",\"name\":\"Station rotation\","
	                         "\"reached\":3,\"schools\":3},"
	                         "{\"practice\":\"student-choice\",\"name\":\"Student choice\","
	                         "\"reached\":1,\"schools\":1}]}");
	free(got);
	got = ranking(w, &w->admin, "2026-02-01", "2026-03-31");
	assert_string_equal(got, "{\"from\":\"2026-02-01\",\"to\":\"2026-03-31\",\"practices\":["
	                         "{\"practice\":\"station-rotation\",\"name\":\"Station rotation\","
	                         "\"reached\":2,\"schools\":3}]}");
	free(got);
	/* before cedar's first: two schools by then, one reached in the range */
	got = ranking(w, &w->teacher_a, "2026-02-01", "2026-03-19");
	assert_string_equal(got, "{\"from\":\"2026-02-01\",\"to\":\"2026-03-19\",\"practices\":["
	                         "{\"practice\":\"station-rotation\",\"name\":\"Station rotation\","
	                         "\"reached\":1,\"schools\":2}]}");
	free(got);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void the_svg(void **state)
{
	struct world *w = *state;
	json_t *s = NULL;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(spread_practice(w->db, &w->teacher_a, "station-rotation", &s, err,
	                                 sizeof err), 0);
	char *svg = spread_svg(s);
	json_decref(s);
	assert_non_null(strstr(svg, "role=\"img\" aria-labelledby=\"spread-t spread-d\""));
	assert_non_null(strstr(svg, "<title id=\"spread-t\">How station-rotation spread"));
	assert_int_equal(count(svg, "<g class=\"lane\">"), 3);
	assert_int_equal(count(svg, "<circle class=\"first\""), 3);
	assert_int_equal(count(svg, "<line class=\"arrow view\""), 2);
	assert_int_equal(count(svg, "<line class=\"arrow visit\""), 2);
	assert_non_null(strstr(svg, "<title>Visit from cedar to alder on 2026-02-15</title>"));
	assert_non_null(strstr(svg, "<title>View from birch of a clip at alder on 2026-01-20"
	                            "</title>"));
	free(svg);
	/* text from the catalogue cannot add markup */
	s = json_pack("{ss s[{ss ss s[]}] s[{ss ss sn ss si}]}", "practice", "a<b>\"&", "schools",
	              "school", "<script>x</script>", "first_clip_on", "2026-01-01",
	              "arrived_from", "events", "on", "2026-01-01", "kind", "clip", "from_school",
	              "to_school", "<script>x</script>", "clip_id", 1);
	svg = spread_svg(s);
	json_decref(s);
	assert_null(strstr(svg, "<script>"));
	assert_null(strstr(svg, "a<b>"));
	assert_non_null(strstr(svg, "&lt;script&gt;x&lt;/script&gt;"));
	assert_int_equal(count(svg, "<circle class=\"first\""), 1);
	free(svg);
}

/* Each test again with the clips in memory, as the server has them. */
#define FROM_MEMORY(f)                      \
	static void f##_from_memory(void **state) \
	{                                         \
		cat_index_enable(true);               \
		f(state);                             \
		cat_index_enable(false);              \
	}
FROM_MEMORY(exact_lanes_and_arrows)
FROM_MEMORY(the_asker_s_rights)
FROM_MEMORY(a_school_seen_only_through_an_arrow)
FROM_MEMORY(the_summary_s_rule)
FROM_MEMORY(ranked_by_schools_reached)

int main(void)
{
	users_init();
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(exact_lanes_and_arrows), T(the_asker_s_rights),
		T(a_school_seen_only_through_an_arrow), T(the_summary_s_rule),
		T(ranked_by_schools_reached), T(the_svg),
		T(exact_lanes_and_arrows_from_memory), T(the_asker_s_rights_from_memory),
		T(a_school_seen_only_through_an_arrow_from_memory), T(the_summary_s_rule_from_memory),
		T(ranked_by_schools_reached_from_memory),
	};
	return cmocka_run_group_tests_name("spread", tests, NULL, NULL);
}
