/* test_catalogue.c - clips: create, list, filter, search, privacy, edit. */
#include <stdio.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/users.h"

struct world {
	struct kd_db *db;
	struct kd_user admin, coach_a, teacher_a, teacher_b;
	int64_t open_clip, school_clip, pending_clip, private_clip, queued_clip;
};

static int64_t clip(struct kd_db *db, const char *title, const char *school, const char *practice,
                    const char *teacher, const char *tag, const char *consent,
                    const char *visibility, enum cat_status status, int64_t uploader)
{
	const char *practices[] = {practice};
	const char *tags[] = {tag};
	struct cat_clip_new c = {
		.title = title, .school = school, .practices = practices, .n_practices = 1,
		.tags = tags, .n_tags = tag ? 1 : 0, .teacher = teacher, .grade = "3-5",
		.subject = "math", .consent = consent, .visibility = visibility, .status = status,
		.uploader_id = uploader,
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
	assert_int_equal(cat_school_add(w->db, "school-a", "Alder School", "", err, sizeof err), 0);
	assert_int_equal(cat_school_add(w->db, "school-b", "Birch School", "", err, sizeof err), 0);
	w->admin = test_user(w->db, "admin", KD_ROLE_ADMIN, NULL);
	w->coach_a = test_user(w->db, "coach", KD_ROLE_COACH, "school-a");
	w->teacher_a = test_user(w->db, "ta", KD_ROLE_TEACHER, "school-a");
	w->teacher_b = test_user(w->db, "tb", KD_ROLE_TEACHER, "school-b");
	int64_t up = w->coach_a.id;
	w->open_clip = clip(w->db, "Station rotation in fractions", "school-a", "station-rotation",
	                    "Marta Quispe", "fractions", NULL, NULL, CAT_READY, up);
	w->school_clip = clip(w->db, "Choice boards", "school-a", "student-choice", "Ola Berg",
	                      NULL, "on-file", "school", CAT_READY, up);
	w->pending_clip = clip(w->db, "Exit tickets", "school-a", "formative-assessment",
	                       "Ola Berg", NULL, "pending", "district", CAT_READY, up);
	w->private_clip = clip(w->db, "Private practice", "school-a", "differentiation", "Ola Berg",
	                       NULL, "on-file", "private", CAT_READY, up);
	w->queued_clip = clip(w->db, "Still processing", "school-a", "differentiation",
	                      "Ola Berg", NULL, NULL, NULL, CAT_QUEUED, up);
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

static int64_t count(struct world *w, const struct kd_user *u, struct cat_query q)
{
	if (!q.page)
		q.page = 1;
	if (!q.per_page)
		q.per_page = 24;
	struct cat_page page;
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_clips_list(w->db, u, &q, &page, err, sizeof err);
	if (rc != 0)
		fail_msg("cat_clips_list: %s", err);
	assert_true(page.n <= (size_t)page.total);
	int64_t total = page.total;
	cat_page_free(&page);
	return total;
}

static bool sees(struct world *w, const struct kd_user *u, int64_t id)
{
	struct cat_clip c;
	int rc = cat_clip_get(w->db, u, id, &c);
	if (rc == 0)
		cat_clip_free(&c);
	else
		assert_int_equal(rc, KD_ENOTFOUND);
	return rc == 0;
}

static void privacy_rules_apply_to_get_and_list(void **state)
{
	struct world *w = *state;
	/* another school's teacher: only the open, ready, consented clip */
	assert_true(sees(w, &w->teacher_b, w->open_clip));
	assert_false(sees(w, &w->teacher_b, w->school_clip));
	assert_false(sees(w, &w->teacher_b, w->pending_clip));
	assert_false(sees(w, &w->teacher_b, w->private_clip));
	assert_false(sees(w, &w->teacher_b, w->queued_clip));
	assert_int_equal(count(w, &w->teacher_b, (struct cat_query){0}), 1);
	/* the same school's teacher also sees the school-only clip */
	assert_true(sees(w, &w->teacher_a, w->school_clip));
	assert_false(sees(w, &w->teacher_a, w->private_clip));
	assert_int_equal(count(w, &w->teacher_a, (struct cat_query){0}), 2);
	/* the uploader and the admin see everything */
	assert_int_equal(count(w, &w->coach_a, (struct cat_query){0}), 5);
	assert_int_equal(count(w, &w->admin, (struct cat_query){0}), 5);
	/* withdrawing consent hides a clip at once */
	struct cat_clip_edit e = {.consent = "withdrawn", .consent_reason = "a parent asked"};
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(cat_clip_update(w->db, w->open_clip, &e, err, sizeof err), 0);
	assert_false(sees(w, &w->teacher_b, w->open_clip));
	assert_true(sees(w, &w->admin, w->open_clip));
	assert_int_equal(count(w, &w->teacher_b, (struct cat_query){0}), 0);
}

static void filters_and_unknown_slugs(void **state)
{
	struct world *w = *state;
	assert_int_equal(count(w, &w->admin, (struct cat_query){.practice = "differentiation"}), 2);
	assert_int_equal(count(w, &w->admin, (struct cat_query){.school = "school-b"}), 0);
	assert_int_equal(count(w, &w->admin, (struct cat_query){.grade = "3-5"}), 5);
	assert_int_equal(count(w, &w->admin, (struct cat_query){.subject = "MATH"}), 5);
	assert_int_equal(count(w, &w->admin, (struct cat_query){.subject = "art"}), 0);

	struct cat_page page;
	char err[KD_ERRMSG_MAX] = "";
	struct cat_query q = {.practice = "juggling", .page = 1, .per_page = 10};
	assert_int_equal(cat_clips_list(w->db, &w->admin, &q, &page, err, sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "juggling"));
	assert_non_null(strstr(err, "blended-learning")); /* lists the known ones */
	q = (struct cat_query){.school = "nowhere", .page = 1, .per_page = 10};
	assert_int_equal(cat_clips_list(w->db, &w->admin, &q, &page, err, sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "school-a"));
	q = (struct cat_query){.page = 0, .per_page = 10};
	assert_int_equal(cat_clips_list(w->db, &w->admin, &q, &page, err, sizeof err), KD_EINVAL);
	q = (struct cat_query){.page = 1, .per_page = CAT_PER_PAGE_MAX + 1};
	assert_int_equal(cat_clips_list(w->db, &w->admin, &q, &page, err, sizeof err), KD_EINVAL);
}

static void pages_and_sorting(void **state)
{
	struct world *w = *state;
	struct cat_page page;
	char err[KD_ERRMSG_MAX] = "";
	struct cat_query q = {.page = 2, .per_page = 2, .sort = CAT_SORT_OLDEST};
	assert_int_equal(cat_clips_list(w->db, &w->admin, &q, &page, err, sizeof err), 0);
	assert_int_equal(page.total, 5);
	assert_int_equal(page.n, 2);
	assert_int_equal(page.clips[0].id, w->pending_clip);
	assert_int_equal(page.clips[1].id, w->private_clip);
	cat_page_free(&page);
	q = (struct cat_query){.page = 1, .per_page = 5, .sort = CAT_SORT_TITLE};
	assert_int_equal(cat_clips_list(w->db, &w->admin, &q, &page, err, sizeof err), 0);
	assert_string_equal(page.clips[0].title, "Choice boards");
	assert_string_equal(page.clips[4].title, "Still processing");
	cat_page_free(&page);
	q = (struct cat_query){.page = 99, .per_page = 5};
	assert_int_equal(cat_clips_list(w->db, &w->admin, &q, &page, err, sizeof err), 0);
	assert_int_equal(page.total, 5);
	assert_int_equal(page.n, 0);
	cat_page_free(&page);
}

static void relevance_gives_way_to_newest_past_the_limit(void **state)
{
	struct world *w = *state;
	struct cat_page page;
	char err[KD_ERRMSG_MAX] = "";
	struct cat_query q = {.q = "ola", .sort = CAT_SORT_RELEVANCE, .page = 1, .per_page = 10};
	assert_int_equal(cat_clips_list(w->db, &w->admin, &q, &page, err, sizeof err), 0);
	assert_int_equal(page.sort, CAT_SORT_RELEVANCE); /* few matches: ranked */
	cat_page_free(&page);
	/* past CAT_RANK_MAX matches the newest come first */
	const char *practices[] = {"peer-feedback"};
	for (int i = 0; i <= CAT_RANK_MAX; i++) {
		char title[64];
		snprintf(title, sizeof title, "Common words %d", i);
		struct cat_clip_new n = {.title = title, .school = "school-b", .practices = practices,
		                         .n_practices = 1, .status = CAT_READY};
		int64_t id;
		assert_int_equal(cat_clip_create(w->db, &n, &id, err, sizeof err), 0);
	}
	q = (struct cat_query){.q = "common", .sort = CAT_SORT_RELEVANCE, .page = 1, .per_page = 3};
	assert_int_equal(cat_clips_list(w->db, &w->admin, &q, &page, err, sizeof err), 0);
	assert_int_equal(page.total, CAT_RANK_MAX + 1);
	assert_int_equal(page.sort, CAT_SORT_NEWEST);
	assert_string_equal(page.clips[0].title, "Common words 2000");
	assert_string_equal(page.clips[2].title, "Common words 1998");
	cat_page_free(&page);
	q.sort = CAT_SORT_OLDEST;
	assert_int_equal(cat_clips_list(w->db, &w->admin, &q, &page, err, sizeof err), 0);
	assert_string_equal(page.clips[0].title, "Common words 0");
	cat_page_free(&page);
}

static void clip_detail_carries_links(void **state)
{
	struct world *w = *state;
	struct cat_clip c;
	assert_int_equal(cat_clip_get(w->db, &w->teacher_b, w->open_clip, &c), 0);
	assert_string_equal(c.title, "Station rotation in fractions");
	assert_string_equal(c.school, "school-a");
	assert_string_equal(c.school_name, "Alder School");
	assert_int_equal(c.n_practices, 1);
	assert_string_equal(c.practices[0], "station-rotation");
	assert_int_equal(c.n_tags, 1);
	assert_string_equal(c.tags[0], "fractions");
	assert_string_equal(c.uploader, "coach");
	assert_string_equal(c.consent, "on-file");
	assert_string_equal(c.visibility, "district");
	assert_false(c.media.probed);
	cat_clip_free(&c);
	assert_int_equal(cat_clip_get(w->db, &w->admin, 999, &c), KD_ENOTFOUND);
}

static void search_is_safe_and_finds_every_field(void **state)
{
	struct world *w = *state;
	const struct kd_user *a = &w->admin;
	assert_int_equal(count(w, a, (struct cat_query){.q = "Quispe"}), 1);          /* teacher */
	assert_int_equal(count(w, a, (struct cat_query){.q = "alder"}), 5);           /* school */
	assert_int_equal(count(w, a, (struct cat_query){.q = "station rotation"}), 1);
	assert_int_equal(count(w, a, (struct cat_query){.q = "fractions"}), 1);       /* tag+title */
	assert_int_equal(count(w, a, (struct cat_query){.q = "differ"}), 2);          /* prefix */
	assert_int_equal(count(w, a, (struct cat_query){.q = "student choice"}), 1);  /* practice */
	/* FTS and SQL syntax typed by a person is just text */
	const char *hostile[] = {"\"", "*", "(", "NEAR(a b)", "a AND OR", "'; DROP TABLE clips; --",
	                         "title:x", "^start", "-", "\"\"\"", "\xc3\xa9l\xc3\xa8ve", "   "};
	for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++)
		(void)count(w, a, (struct cat_query){.q = hostile[i]});
	assert_int_equal(count(w, a, (struct cat_query){.q = "*"}), 5); /* no words: no filter */
	/* edits reach the index at once */
	const char *tags[] = {"zebra-crossing"};
	struct cat_clip_edit e = {.title = "Renamed walkthrough", .tags = tags, .n_tags = 1,
	                          .set_tags = true};
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(cat_clip_update(w->db, w->school_clip, &e, err, sizeof err), 0);
	assert_int_equal(count(w, a, (struct cat_query){.q = "walkthrough"}), 1);
	assert_int_equal(count(w, a, (struct cat_query){.q = "zebra"}), 1);
	assert_int_equal(count(w, a, (struct cat_query){.q = "choice boards"}), 0);
	test_exec(w->db, "UPDATE schools SET name = 'Cedar School' WHERE slug = 'school-a'");
	assert_int_equal(count(w, a, (struct cat_query){.q = "cedar"}), 5);
	assert_int_equal(cat_clip_delete(w->db, w->school_clip), 0);
	assert_int_equal(count(w, a, (struct cat_query){.q = "zebra"}), 0);
}

static void fts_query_quotes_every_word(void **state)
{
	(void)state;
	char *q = cat_fts_query("station rotation");
	assert_string_equal(q, "\"station\" \"rotation\"*");
	free(q);
	q = cat_fts_query("say \"hi\"");
	assert_string_equal(q, "\"say\" \"\"\"hi\"\"\"");
	free(q);
	q = cat_fts_query("a* (b)");
	assert_string_equal(q, "\"a*\" \"(b)\"");
	free(q);
	assert_null(cat_fts_query(""));
	assert_null(cat_fts_query("  \t "));
	assert_null(cat_fts_query("* ( ) \" -"));
	char longer[600];
	memset(longer, 'a', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	longer[100] = ' ';
	q = cat_fts_query(longer);
	assert_string_equal(q, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"*");
	free(q);
}

static void edits_are_checked_before_they_are_applied(void **state)
{
	struct world *w = *state;
	char err[KD_ERRMSG_MAX] = "";
	char long_title[300];
	memset(long_title, 'x', sizeof long_title - 1);
	long_title[sizeof long_title - 1] = '\0';
	const char *bad_practice[] = {"juggling"};
	const char *bad_tag[] = {"two\nlines"};
	struct {
		struct cat_clip_edit e;
		const char *expect;
	} cases[] = {
		{{.title = ""}, "title"},
		{{.title = long_title}, "title"},
		{{.recorded_on = "2023-02-30"}, "YYYY-MM-DD"},
		{{.recorded_on = "yesterday"}, "YYYY-MM-DD"},
		{{.consent = "maybe"}, "on-file, pending, withdrawn"},
		{{.visibility = "public"}, "district, school, private"},
		{{.school = "nowhere"}, "unknown school"},
		{{.practices = bad_practice, .n_practices = 1, .set_practices = true}, "juggling"},
		{{.set_practices = true}, "1 to 10 practices"},
		{{.tags = bad_tag, .n_tags = 1, .set_tags = true}, "control character"},
		{{.teacher = "tab\there"}, "control character"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		err[0] = '\0';
		int rc = cat_clip_update(w->db, w->open_clip, &cases[i].e, err, sizeof err);
		assert_true(rc == KD_EINVAL || rc == KD_ENOTFOUND);
		if (!strstr(err, cases[i].expect))
			fail_msg("case %zu: '%s' does not mention '%s'", i, err, cases[i].expect);
	}
	struct cat_clip c;
	assert_int_equal(cat_clip_get(w->db, &w->admin, w->open_clip, &c), 0);
	assert_string_equal(c.title, "Station rotation in fractions"); /* unchanged */
	cat_clip_free(&c);

	const char *practices[] = {"peer-feedback", "differentiation"};
	struct cat_clip_edit good = {.title = "New title", .description = "line one\nline two",
	                             .recorded_on = "2024-02-29", .school = "school-b",
	                             .practices = practices, .n_practices = 2,
	                             .set_practices = true, .visibility = "school"};
	assert_int_equal(cat_clip_update(w->db, w->open_clip, &good, err, sizeof err), 0);
	assert_int_equal(cat_clip_get(w->db, &w->admin, w->open_clip, &c), 0);
	assert_string_equal(c.title, "New title");
	assert_string_equal(c.recorded_on, "2024-02-29");
	assert_string_equal(c.school, "school-b");
	assert_int_equal(c.n_practices, 2);
	assert_string_equal(c.practices[0], "differentiation");
	assert_string_equal(c.tags[0], "fractions"); /* tags not given: kept */
	cat_clip_free(&c);
	struct cat_clip_edit clear = {.recorded_on = ""};
	assert_int_equal(cat_clip_update(w->db, w->open_clip, &clear, err, sizeof err), 0);
	assert_int_equal(cat_clip_get(w->db, &w->admin, w->open_clip, &c), 0);
	assert_null(c.recorded_on);
	cat_clip_free(&c);
	assert_int_equal(cat_clip_update(w->db, 12345, &clear, err, sizeof err), KD_ENOTFOUND);
}

static void who_may_edit(void **state)
{
	struct world *w = *state;
	struct cat_clip c;
	assert_int_equal(cat_clip_get(w->db, &w->admin, w->open_clip, &c), 0);
	assert_true(cat_clip_may_edit(&w->admin, &c));
	assert_true(cat_clip_may_edit(&w->coach_a, &c));
	assert_false(cat_clip_may_edit(&w->teacher_a, &c));
	assert_false(cat_clip_may_edit(&w->teacher_b, &c));
	struct kd_user coach_b = w->teacher_b;
	coach_b.role = KD_ROLE_COACH;
	assert_false(cat_clip_may_edit(&coach_b, &c));
	cat_clip_free(&c);
}

static void duplicates_by_hash_and_deletes(void **state)
{
	struct world *w = *state;
	const char *practices[] = {"peer-feedback"};
	struct cat_clip_new n = {.title = "Hashed", .school = "school-b", .practices = practices,
	                         .n_practices = 1, .sha256 = "ab12"};
	char err[KD_ERRMSG_MAX] = "";
	int64_t id, again;
	assert_int_equal(cat_clip_create(w->db, &n, &id, err, sizeof err), 0);
	assert_int_equal(cat_clip_create(w->db, &n, &again, err, sizeof err), KD_EEXIST);
	assert_int_equal(again, id);
	assert_int_equal(cat_clip_delete(w->db, id), 0);
	assert_int_equal(cat_clip_delete(w->db, id), KD_ENOTFOUND);
	n.school = "nowhere";
	assert_int_equal(cat_clip_create(w->db, &n, &id, err, sizeof err), KD_ENOTFOUND);
}

static void slugs_dates_and_counts(void **state)
{
	struct world *w = *state;
	assert_true(cat_slug_valid("north-high"));
	assert_true(cat_slug_valid("k12"));
	assert_false(cat_slug_valid(""));
	assert_false(cat_slug_valid("-x"));
	assert_false(cat_slug_valid("North"));
	assert_false(cat_slug_valid("a b"));
	assert_false(cat_slug_valid("a/b"));
	assert_true(cat_date_valid("2024-02-29"));
	assert_false(cat_date_valid("2023-02-29"));
	assert_false(cat_date_valid("2024-13-01"));
	assert_false(cat_date_valid("2024-1-01"));
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(cat_school_add(w->db, "school-a", "Again", "", err, sizeof err), KD_EEXIST);
	assert_int_equal(cat_practice_add(w->db, "Bad Slug", "x", "", err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "lowercase"));
	struct cat_practice *ps;
	size_t n;
	assert_int_equal(cat_practices_list(w->db, &w->teacher_b, &ps, &n), 0);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ps[i].clips, !strcmp(ps[i].slug, "station-rotation"));
	cat_practices_free(ps, n);
	struct cat_school *ss;
	assert_int_equal(cat_schools_list(w->db, &w->admin, &ss, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ss[0].slug, "school-a");
	assert_int_equal(ss[0].clips, 5);
	cat_schools_free(ss, n);
}

static void slugs_never_carry_url_syntax(void **state)
{
	(void)state;
	/* pages put slugs in links and forms as they are */
	assert_true(cat_slug_valid("north-high"));
	assert_true(cat_slug_valid("a1"));
	assert_false(cat_slug_valid(""));
	assert_false(cat_slug_valid("North"));
	assert_false(cat_slug_valid("a/b"));
	assert_false(cat_slug_valid("a&b=c"));
	assert_false(cat_slug_valid("x#y"));
	char long_slug[70];
	memset(long_slug, 'a', 65);
	long_slug[65] = '\0';
	assert_false(cat_slug_valid(long_slug));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(privacy_rules_apply_to_get_and_list),
		T(filters_and_unknown_slugs),
		T(pages_and_sorting),
		T(clip_detail_carries_links),
		T(relevance_gives_way_to_newest_past_the_limit),
		T(search_is_safe_and_finds_every_field),
		cmocka_unit_test(fts_query_quotes_every_word),
		T(edits_are_checked_before_they_are_applied),
		T(who_may_edit),
		T(duplicates_by_hash_and_deletes),
		T(slugs_dates_and_counts),
		cmocka_unit_test(slugs_never_carry_url_syntax),
	};
	return cmocka_run_group_tests_name("catalogue", tests, NULL, NULL);
}
