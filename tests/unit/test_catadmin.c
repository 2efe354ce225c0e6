/* test_catadmin.c - schools and practices as an admin keeps them: schools
 * listed with their clips and people and edited; practices renamed,
 * described, retired (their clips keep them, new clips may not take them)
 * and brought back, and merged (clips, visits and view counts moved, no
 * duplicates, the old one gone); and that every answer kept in memory
 * (the index, its full-text cache, the summaries' cache) shows each change
 * on the very next question, as the SQL does. */
#include <stdarg.h>
#include <stdio.h>

#include <jansson.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/summary.h"
#include "kindling/users.h"

struct world {
	struct kd_db *db;
	struct kd_user admin, teacher_a, teacher_b;
	/* c1 alder [zebra-talk], c2 alder [zebra-talk, quokka-talk],
	 * c3 birch [quokka-talk], c4 birch [zebra-talk, peer-feedback] */
	int64_t c1, c2, c3, c4;
};

static void exec_fmt(struct kd_db *db, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	test_exec(db, sql);
}

static int64_t number(struct kd_db *db, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	if (db_step(st) != DB_ROW)
		fail_msg("%s: no row: %s", sql, db_errmsg(db));
	int64_t v = db_column_int64(st, 0);
	db_finalize(st);
	return v;
}

static int64_t clip(struct kd_db *db, const char *title, const char *school, const char *p1,
                    const char *p2, const char *recorded)
{
	const char *practices[] = {p1, p2};
	struct cat_clip_new c = {
		.title = title, .school = school, .practices = practices, .n_practices = p2 ? 2 : 1,
		.status = CAT_READY, .recorded_on = recorded,
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
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(cat_school_add(w->db, "alder", "Alder School", "", err, sizeof err), 0);
	assert_int_equal(cat_school_add(w->db, "birch", "Birch School", "", err, sizeof err), 0);
	assert_int_equal(cat_practice_add(w->db, "zebra-talk", "Zebra talk", "Talk in stripes.",
	                                  err, sizeof err), 0);
	assert_int_equal(cat_practice_add(w->db, "quokka-talk", "Quokka talk", "Talk, smiling.",
	                                  err, sizeof err), 0);
	w->admin = test_user(w->db, "admin", KD_ROLE_ADMIN, NULL);
	w->teacher_a = test_user(w->db, "Tia Alder", KD_ROLE_TEACHER, "alder");
	w->teacher_b = test_user(w->db, "Tob Birch", KD_ROLE_TEACHER, "birch");
	w->c1 = clip(w->db, "Warm-up circle", "alder", "zebra-talk", NULL, "2026-02-02");
	w->c2 = clip(w->db, "Turn and talk", "alder", "zebra-talk", "quokka-talk", "2026-02-03");
	w->c3 = clip(w->db, "Gallery walk", "birch", "quokka-talk", NULL, "2026-01-05");
	w->c4 = clip(w->db, "Feedback pairs", "birch", "zebra-talk", "peer-feedback",
	             "2026-01-06");
	/* alder's teacher watched birch's c4 (the summaries count it under
	 * its practices), and asked to visit it about zebra talk */
	exec_fmt(w->db, "INSERT INTO views (clip_id, user_id, school_id, day) VALUES "
	         "(%lld, %lld, %lld, '2026-01-10')", (long long)w->c4, (long long)w->teacher_a.id,
	         (long long)w->teacher_a.school_id);
	exec_fmt(w->db, "INSERT INTO visits (clip_id, requester_id, visitor_school_id, "
	         "host_school_id, practice_id, proposed_dates) VALUES (%lld, %lld, %lld, %lld, "
	         "(SELECT id FROM practices WHERE slug = 'zebra-talk'), '[\"2026-03-01\"]')",
	         (long long)w->c4, (long long)w->teacher_a.id, (long long)w->teacher_a.school_id,
	         (long long)w->teacher_b.school_id);
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

/* The total of clips the admin finds under a practice (-1: no such
 * practice), from the index or the SQL. */
static int64_t total_of(struct world *w, const char *practice, const char *q, bool index)
{
	cat_index_enable(index);
	struct cat_query cq = {.practice = practice, .q = q, .page = 1, .per_page = 50};
	struct cat_page p;
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_clips_list(w->db, &w->admin, &cq, &p, err, sizeof err);
	cat_index_enable(false);
	if (rc == KD_ENOTFOUND)
		return -1;
	if (rc != 0)
		fail_msg("cat_clips_list: %d %s", rc, err);
	int64_t t = p.total;
	cat_page_free(&p);
	return t;
}

/* Both ways must agree: the index answers as the SQL does. */
static int64_t total(struct world *w, const char *practice, const char *q)
{
	int64_t sql = total_of(w, practice, q, false), idx = total_of(w, practice, q, true);
	if (sql != idx)
		fail_msg("practice %s q %s: SQL %lld, index %lld", practice ? practice : "-",
		         q ? q : "-", (long long)sql, (long long)idx);
	return sql;
}

/* A school's summary as compact JSON, from the summaries' cache (index
 * on) and from the SQL, which must agree. */
static char *summary(struct world *w, const char *school)
{
	char *text[2];
	for (int k = 0; k < 2; k++) {
		cat_index_enable(k == 1);
		json_t *s = NULL;
		char err[KD_ERRMSG_MAX] = "";
		if (summary_school(w->db, &w->admin, school, "2026-01-01", "2026-03-31", &s, err,
		                   sizeof err) != 0)
			fail_msg("summary_school: %s", err);
		json_object_del(s, "school_name");
		text[k] = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
		json_decref(s);
	}
	cat_index_enable(false);
	assert_string_equal(text[0], text[1]);
	free(text[1]);
	return text[0];
}

static struct cat_practice *practice(struct world *w, const char *slug)
{
	struct cat_practice *p = NULL;
	int rc = cat_practice_get(w->db, slug, &p);
	return rc == 0 ? p : NULL;
}

/* ---------------------------------------------------------------- schools */

static void test_schools(void **state)
{
	struct world *w = *state;
	char err[KD_ERRMSG_MAX] = "";
	test_user(w->db, "Second Alder", KD_ROLE_COACH, "alder");
	test_exec(w->db, "UPDATE schools SET sourced_id = 'org-17' WHERE slug = 'birch'");
	struct cat_school_row *rows;
	size_t n;
	assert_int_equal(cat_schools_admin_list(w->db, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].slug, "alder");
	assert_int_equal(rows[0].clips, 2);
	assert_int_equal(rows[0].people, 2);
	assert_false(rows[0].from_roster);
	assert_string_equal(rows[1].slug, "birch");
	assert_int_equal(rows[1].clips, 2);
	assert_int_equal(rows[1].people, 1);
	assert_true(rows[1].from_roster);
	cat_school_rows_free(rows, n);

	/* warm: the index holds the school's name in each clip */
	cat_index_enable(true);
	struct cat_clip c;
	assert_int_equal(cat_clip_get(w->db, &w->admin, w->c1, &c), 0);
	assert_string_equal(c.school_name, "Alder School");
	cat_clip_free(&c);
	assert_int_equal(cat_school_edit(w->db, "alder", "Alder <Primary> & Co", "North District",
	                                 err, sizeof err), 0);
	assert_int_equal(cat_clip_get(w->db, &w->admin, w->c1, &c), 0);
	assert_string_equal(c.school_name, "Alder <Primary> & Co");
	assert_string_equal(c.school, "alder");
	cat_clip_free(&c);
	cat_index_enable(false);
	/* NULL leaves a field as it is */
	assert_int_equal(cat_school_edit(w->db, "alder", NULL, "South", err, sizeof err), 0);
	struct cat_school *s;
	assert_int_equal(cat_school_get(w->db, "alder", &s), 0);
	assert_string_equal(s->name, "Alder <Primary> & Co");
	assert_string_equal(s->district, "South");
	cat_schools_free(s, 1);

	assert_int_equal(cat_school_edit(w->db, "alder", "", NULL, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "name"));
	assert_int_equal(cat_school_edit(w->db, "alder", "   ", NULL, err, sizeof err), KD_EINVAL);
	assert_int_equal(cat_school_edit(w->db, "alder", "Line\nbreak", NULL, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "control"));
	char longer[260];
	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	assert_int_equal(cat_school_edit(w->db, "alder", NULL, longer, err, sizeof err), KD_EINVAL);
	assert_int_equal(cat_school_edit(w->db, "nowhere", "Name", NULL, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_non_null(strstr(err, "nowhere"));
	assert_int_equal(cat_school_edit(w->db, "nowhere", NULL, NULL, err, sizeof err),
	                 KD_ENOTFOUND);
	/* the same again, or nothing, is no change and no error */
	assert_int_equal(cat_school_edit(w->db, "alder", "Alder <Primary> & Co", "South", err,
	                                 sizeof err), 0);
	assert_int_equal(cat_school_edit(w->db, "alder", NULL, NULL, err, sizeof err), 0);
	assert_int_equal(cat_school_add(w->db, "cedar", "Cedar\tSchool", "", err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(cat_school_add(w->db, "alder", "Again", "", err, sizeof err), KD_EEXIST);
	assert_int_equal(cat_school_get(w->db, "alder", &s), 0);
	assert_string_equal(s->district, "South");
	cat_schools_free(s, 1);
}

/* ---------------------------------------------------------------- rename */

static void test_rename_and_describe(void **state)
{
	struct world *w = *state;
	char err[KD_ERRMSG_MAX] = "";
	/* asked once before, so the full-text cache holds the answers */
	assert_int_equal(total(w, NULL, "walrus"), 0);
	assert_int_equal(total(w, NULL, "zebra"), 3);
	assert_int_equal(cat_practice_edit(w->db, "zebra-talk", "Walrus talk", NULL, err,
	                                   sizeof err), 0);
	assert_int_equal(total(w, NULL, "walrus"), 3);
	assert_int_equal(total(w, NULL, "zebra"), 3); /* the slug is searched too, and stays */
	assert_int_equal(total(w, "zebra-talk", NULL), 3);
	struct cat_practice *p = practice(w, "zebra-talk");
	assert_non_null(p);
	assert_string_equal(p->name, "Walrus talk");
	assert_string_equal(p->description, "Talk in stripes.");
	assert_null(p->retired_at);
	cat_practices_free(p, 1);
	assert_int_equal(cat_practice_edit(w->db, "zebra-talk", NULL, "Line one.\nLine two.", err,
	                                   sizeof err), 0);
	p = practice(w, "zebra-talk");
	assert_string_equal(p->name, "Walrus talk");
	assert_string_equal(p->description, "Line one.\nLine two.");
	cat_practices_free(p, 1);

	assert_int_equal(cat_practice_edit(w->db, "zebra-talk", "", NULL, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(cat_practice_edit(w->db, "zebra-talk", "Bell\a", NULL, err, sizeof err),
	                 KD_EINVAL);
	char *huge = calloc(1, 2100);
	memset(huge, 'd', 2050);
	assert_int_equal(cat_practice_edit(w->db, "zebra-talk", NULL, huge, err, sizeof err),
	                 KD_EINVAL);
	free(huge);
	assert_int_equal(cat_practice_edit(w->db, "no-such", "Name", NULL, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_int_equal(cat_practice_edit(w->db, "zebra-talk", "Walrus talk", NULL, err,
	                                   sizeof err), 0);
	/* a case of its own is a change */
	assert_int_equal(cat_practice_edit(w->db, "zebra-talk", "WALRUS talk", NULL, err,
	                                   sizeof err), 0);
	p = practice(w, "zebra-talk");
	assert_string_equal(p->name, "WALRUS talk");
	cat_practices_free(p, 1);
	assert_int_equal(cat_practice_edit(w->db, "zebra-talk", "Walrus talk", NULL, err,
	                                   sizeof err), 0);
	p = practice(w, "zebra-talk");
	assert_string_equal(p->name, "Walrus talk");
	cat_practices_free(p, 1);
}

/* ---------------------------------------------------------------- retire */

static bool listed_in_use(struct kd_db *db, const char *slug)
{
	char *known = cat_practice_slugs(db);
	bool found = false;
	for (char *t = strtok(known, ", "); t; t = strtok(NULL, ", "))
		found |= !strcmp(t, slug);
	free(known);
	return found;
}

static void test_retire(void **state)
{
	struct world *w = *state;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(total(w, "zebra-talk", NULL), 3);
	assert_true(listed_in_use(w->db, "zebra-talk"));
	assert_int_equal(cat_practice_retire(w->db, "zebra-talk", true, err, sizeof err), 0);
	/* listed, marked, and no longer among those offered */
	struct cat_practice *ps;
	size_t n;
	cat_index_enable(true);
	assert_int_equal(cat_practices_list(w->db, &w->admin, &ps, &n), 0);
	cat_index_enable(false);
	bool seen = false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ps[i].slug, "zebra-talk")) {
			seen = true;
			assert_non_null(ps[i].retired_at);
			assert_int_equal(strlen(ps[i].retired_at), 20);
			assert_int_equal(ps[i].clips, 3);
		} else {
			assert_null(ps[i].retired_at);
		}
	assert_true(seen);
	cat_practices_free(ps, n);
	assert_false(listed_in_use(w->db, "zebra-talk"));
	assert_true(listed_in_use(w->db, "quokka-talk"));
	/* its clips keep it, and are still found by it */
	assert_int_equal(total(w, "zebra-talk", NULL), 3);
	struct cat_clip c;
	cat_index_enable(true);
	assert_int_equal(cat_clip_get(w->db, &w->teacher_b, w->c1, &c), 0);
	cat_index_enable(false);
	assert_int_equal(c.n_practices, 1);
	assert_string_equal(c.practices[0], "zebra-talk");
	cat_clip_free(&c);

	/* a new clip may not take it: the reason, and what to use instead */
	const char *retired[] = {"quokka-talk", "zebra-talk"};
	struct cat_clip_new nc = {.title = "New", .school = "alder", .practices = retired,
	                          .n_practices = 2, .status = CAT_READY};
	int64_t id;
	assert_int_equal(cat_clip_new_check(w->db, &nc, err, sizeof err), KD_EINVAL);
	assert_int_equal(cat_clip_create(w->db, &nc, &id, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "'zebra-talk'"));
	assert_non_null(strstr(err, "retired"));
	assert_non_null(strstr(err, "quokka-talk"));
	assert_null(strstr(err + (strstr(err, "instead") - err), "zebra-talk"));
	assert_int_equal(number(w->db, "SELECT count(*) FROM clips"), 4);

	/* an edit may keep it on a clip that has it, not give it to another */
	const char *keep[] = {"zebra-talk", "peer-feedback"};
	struct cat_clip_edit e = {.practices = keep, .n_practices = 2, .set_practices = true};
	assert_int_equal(cat_clip_update(w->db, w->c1, &e, err, sizeof err), 0);
	assert_int_equal(cat_clip_update(w->db, w->c3, &e, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "retired"));
	assert_int_equal(number(w->db, "SELECT count(*) FROM clip_practices cp JOIN practices p "
	                               "ON p.id = cp.practice_id WHERE p.slug = 'zebra-talk'"),
	                 3);
	/* an edit that leaves the practices alone is no matter */
	struct cat_clip_edit title = {.title = "Gallery walk, again"};
	assert_int_equal(cat_clip_update(w->db, w->c3, &title, err, sizeof err), 0);

	/* twice is no error; the date stays the first one */
	test_exec(w->db, "UPDATE practices SET retired_at = '2026-01-01T00:00:00Z' "
	                 "WHERE slug = 'zebra-talk'");
	assert_int_equal(cat_practice_retire(w->db, "zebra-talk", true, err, sizeof err), 0);
	struct cat_practice *p = practice(w, "zebra-talk");
	assert_string_equal(p->retired_at, "2026-01-01T00:00:00Z");
	cat_practices_free(p, 1);
	assert_int_equal(cat_practice_retire(w->db, "nowhere", true, err, sizeof err),
	                 KD_ENOTFOUND);

	/* back in use: offered again */
	assert_int_equal(cat_practice_retire(w->db, "zebra-talk", false, err, sizeof err), 0);
	assert_int_equal(cat_practice_retire(w->db, "zebra-talk", false, err, sizeof err), 0);
	p = practice(w, "zebra-talk");
	assert_null(p->retired_at);
	cat_practices_free(p, 1);
	assert_true(listed_in_use(w->db, "zebra-talk"));
	assert_int_equal(cat_clip_create(w->db, &nc, &id, err, sizeof err), 0);
	assert_int_equal(total(w, "zebra-talk", NULL), 4);

	/* the last practice in use cannot be retired: nothing could be filed */
	test_exec(w->db, "UPDATE practices SET retired_at = '2026-01-01T00:00:00Z' "
	                 "WHERE slug <> 'quokka-talk'");
	assert_int_equal(cat_practice_retire(w->db, "quokka-talk", true, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "last practice"));
	p = practice(w, "quokka-talk");
	assert_null(p->retired_at);
	cat_practices_free(p, 1);
}

/* ---------------------------------------------------------------- merge */

static bool has(const char *json, const char *piece)
{
	return strstr(json, piece) != NULL;
}

static void test_merge(void **state)
{
	struct world *w = *state;
	char err[KD_ERRMSG_MAX] = "";
	int64_t zebra = number(w->db, "SELECT id FROM practices WHERE slug = 'zebra-talk'");
	int64_t quokka = number(w->db, "SELECT id FROM practices WHERE slug = 'quokka-talk'");
	/* asked before, with every cache warm */
	assert_int_equal(total(w, "zebra-talk", NULL), 3);
	assert_int_equal(total(w, "quokka-talk", NULL), 2);
	assert_int_equal(total(w, NULL, "zebra"), 3);
	char *before = summary(w, "alder");
	assert_true(has(before, "{\"clips\":2,\"minutes\":0.0,\"practice\":\"zebra-talk\"}"));
	free(before);
	char *seen_before = summary(w, "alder");
	free(seen_before);

	struct cat_practice_merge m;
	assert_int_equal(cat_practice_merge_plan(w->db, "zebra-talk", "quokka-talk", &m, err,
	                                         sizeof err), 0);
	assert_int_equal(m.clips, 3);
	assert_int_equal(m.already, 1);
	assert_int_equal(m.moved, 2);
	assert_int_equal(m.visits, 1);
	/* a plan changes nothing */
	assert_int_equal(total(w, "zebra-talk", NULL), 3);

	memset(&m, 0, sizeof m);
	assert_int_equal(cat_practice_merge(w->db, "zebra-talk", "quokka-talk", &m, err,
	                                    sizeof err), 0);
	assert_int_equal(m.clips, 3);
	assert_int_equal(m.moved, 2);
	assert_int_equal(m.already, 1);
	assert_int_equal(m.visits, 1);

	/* the old one is gone, everywhere */
	assert_null(practice(w, "zebra-talk"));
	assert_int_equal(total(w, "zebra-talk", NULL), -1);
	assert_int_equal(total(w, "quokka-talk", NULL), 4);
	assert_int_equal(total(w, NULL, "zebra"), 0);
	assert_int_equal(total(w, NULL, "quokka"), 4);
	assert_int_equal(number(w->db, "SELECT count(*) FROM practices WHERE id = %lld",
	                        (long long)zebra), 0);
	/* every clip once under the new one: c2 had both */
	assert_int_equal(number(w->db, "SELECT count(*) FROM clip_practices WHERE practice_id = "
	                               "%lld", (long long)quokka), 4);
	assert_int_equal(number(w->db, "SELECT count(*) FROM clip_practices WHERE clip_id = %lld",
	                        (long long)w->c2), 1);
	assert_int_equal(number(w->db, "SELECT count(*) FROM clip_practices WHERE clip_id = %lld",
	                        (long long)w->c4), 2);
	/* the visit keeps a practice: the new one */
	assert_int_equal(number(w->db, "SELECT count(*) FROM visits WHERE practice_id = %lld",
	                        (long long)quokka), 1);
	assert_int_equal(number(w->db, "SELECT count(*) FROM visits WHERE practice_id IS NULL"), 0);
	/* the summaries' view counts: none left for the old one, the view
	 * counted once under the new one */
	assert_int_equal(number(w->db, "SELECT count(*) FROM view_practice_counts WHERE "
	                               "practice_id = %lld", (long long)zebra), 0);
	assert_int_equal(number(w->db, "SELECT coalesce(sum(n), 0) FROM view_practice_counts WHERE "
	                               "practice_id = %lld", (long long)quokka), 1);

	/* the clip as the index gives it */
	struct cat_clip c;
	cat_index_enable(true);
	assert_int_equal(cat_clip_get(w->db, &w->admin, w->c4, &c), 0);
	cat_index_enable(false);
	assert_int_equal(c.n_practices, 2);
	assert_string_equal(c.practices[0], "peer-feedback");
	assert_string_equal(c.practices[1], "quokka-talk");
	cat_clip_free(&c);
	/* the counts beside each practice, both ways */
	for (int k = 0; k < 2; k++) {
		struct cat_practice *ps;
		size_t n;
		cat_index_enable(k == 1);
		assert_int_equal(cat_practices_list(w->db, &w->admin, &ps, &n), 0);
		cat_index_enable(false);
		bool seen = false;
		for (size_t i = 0; i < n; i++) {
			assert_string_not_equal(ps[i].slug, "zebra-talk");
			if (!strcmp(ps[i].slug, "quokka-talk")) {
				seen = true;
				assert_int_equal(ps[i].clips, 4);
			}
		}
		assert_true(seen);
		cat_practices_free(ps, n);
	}
	/* the summaries: from the cache as from the SQL */
	char *after = summary(w, "alder");
	assert_false(has(after, "zebra-talk"));
	assert_true(has(after, "{\"clips\":2,\"minutes\":0.0,\"practice\":\"quokka-talk\"}"));
	free(after);
	after = summary(w, "birch");
	assert_false(has(after, "zebra-talk"));
	assert_true(has(after, "{\"clips\":2,\"minutes\":0.0,\"practice\":\"quokka-talk\"}"));
	free(after);
}

static void test_merge_refused(void **state)
{
	struct world *w = *state;
	char err[KD_ERRMSG_MAX] = "";
	struct cat_practice_merge m;
	assert_int_equal(cat_practice_merge(w->db, "zebra-talk", "zebra-talk", &m, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "itself"));
	assert_int_equal(cat_practice_merge(w->db, "no-such", "zebra-talk", &m, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_non_null(strstr(err, "no-such"));
	assert_int_equal(cat_practice_merge(w->db, "zebra-talk", "nope", &m, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_int_equal(cat_practice_merge_plan(w->db, "zebra-talk", "nope", &m, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_false(db_in_transaction(w->db));
	assert_int_equal(total(w, "zebra-talk", NULL), 3);
	/* a retired practice merges like any other, into one retired or not */
	assert_int_equal(cat_practice_retire(w->db, "zebra-talk", true, err, sizeof err), 0);
	assert_int_equal(cat_practice_merge(w->db, "zebra-talk", "peer-feedback", &m, err,
	                                    sizeof err), 0);
	assert_int_equal(m.moved, 2);
	assert_int_equal(m.already, 1);
	assert_int_equal(total(w, "peer-feedback", NULL), 3);
}

/* ---------------------------------------------------------------- many practices */

/* Past 255 practices, with practices deleted from the middle of the
 * index's table: every clip still counted under the right one. */
static void test_many_practices(void **state)
{
	struct world *w = *state;
	char err[KD_ERRMSG_MAX] = "", slug[16], name[32];
	for (int i = 0; i < 300; i++) {
		snprintf(slug, sizeof slug, "p%03d", i);
		snprintf(name, sizeof name, "Practice %d", i);
		assert_int_equal(cat_practice_add(w->db, slug, name, "", err, sizeof err), 0);
	}
	int64_t a = clip(w->db, "Late one", "alder", "p299", "p150", "2026-03-01");
	int64_t b = clip(w->db, "Early one", "birch", "p001", NULL, "2026-03-02");
	clip(w->db, "Middle one", "birch", "p200", NULL, "2026-03-03");
	assert_int_equal(total(w, "p299", NULL), 1);
	assert_int_equal(total(w, "p001", NULL), 1);
	free(summary(w, "alder"));
	struct cat_practice_merge m;
	for (int i = 2; i < 120; i++) { /* holes below the ones in use */
		snprintf(slug, sizeof slug, "p%03d", i);
		assert_int_equal(cat_practice_merge(w->db, slug, "p000", &m, err, sizeof err), 0);
		assert_int_equal(m.clips, 0);
	}
	assert_int_equal(total(w, "p200", NULL), 1);
	assert_int_equal(cat_practice_merge(w->db, "p299", "p001", &m, err, sizeof err), 0);
	assert_int_equal(m.moved, 1);
	assert_int_equal(total(w, "p001", NULL), 2);
	assert_int_equal(cat_practice_merge(w->db, "p150", "p001", &m, err, sizeof err), 0);
	assert_int_equal(m.moved, 0);
	assert_int_equal(m.already, 1);
	assert_int_equal(total(w, "p001", NULL), 2);
	assert_int_equal(total(w, "p150", NULL), -1);
	assert_int_equal(total(w, "p200", NULL), 1);
	assert_int_equal(total(w, "zebra-talk", NULL), 3);
	char *s = summary(w, "alder");
	assert_true(has(s, "\"practice\":\"p001\""));
	assert_false(has(s, "p299"));
	assert_false(has(s, "p150"));
	free(s);
	s = summary(w, "birch");
	assert_true(has(s, "\"practice\":\"p200\""));
	free(s);
	struct cat_clip c;
	cat_index_enable(true);
	assert_int_equal(cat_clip_get(w->db, &w->admin, a, &c), 0);
	assert_int_equal(c.n_practices, 1);
	assert_string_equal(c.practices[0], "p001");
	cat_clip_free(&c);
	assert_int_equal(cat_clip_get(w->db, &w->admin, b, &c), 0);
	cat_index_enable(false);
	assert_string_equal(c.practices[0], "p001");
	cat_clip_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_and_describe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_practices, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
