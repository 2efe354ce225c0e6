/* test_cache.c - counts remembered per catalogue generation
 * (src/catalogue/catalogue_sql.h: cat_cache_get/put, cat_generation).
 *
 * The cache is one table for the process, and a put for an older
 * generation is ignored, so each test takes generations above those of
 * the tests before it. */
#include <stdio.h>

#include "helpers.h"
#include "catalogue/catalogue_sql.h"
#include "kindling/catalogue.h"

static int64_t next_gen = 1000;

/* A generation newer than any used so far, with room for +1..+9. */
static int64_t fresh_gen(void)
{
	next_gen += 10;
	return next_gen;
}

static void same_generation_hits(void **state)
{
	(void)state;
	int64_t g = fresh_gen(), v = -99;
	cat_cache_put(g, "list|0|5|2", 17);
	assert_true(cat_cache_get(g, "list|0|5|2", &v));
	assert_int_equal(v, 17);
	v = -99;
	assert_false(cat_cache_get(g, "list|0|5|3", &v)); /* another question */
	assert_int_equal(v, -99);                        /* untouched on a miss */
	cat_cache_put(g, "list|0|5|2", 18);              /* the same key again: replaced */
	assert_true(cat_cache_get(g, "list|0|5|2", &v));
	assert_int_equal(v, 18);
	cat_cache_put(g, "", 0); /* an empty key is a key */
	assert_true(cat_cache_get(g, "", &v));
	assert_int_equal(v, 0);
}

static void another_generation_misses(void **state)
{
	(void)state;
	int64_t g = fresh_gen(), v = -99;
	cat_cache_put(g, "k", 7);
	assert_false(cat_cache_get(g + 1, "k", &v));
	assert_false(cat_cache_get(g - 1, "k", &v));
	assert_int_equal(v, -99);
	/* asking does not drop anything */
	assert_true(cat_cache_get(g, "k", &v));
	assert_int_equal(v, 7);
}

static void newer_put_drops_the_older_entries(void **state)
{
	(void)state;
	int64_t g = fresh_gen(), v = -99;
	cat_cache_put(g, "a", 1);
	cat_cache_put(g, "b", 2);
	cat_cache_put(g + 1, "b", 3);
	/* "a" was not put for g + 1: kept, it would be a stale hit */
	assert_false(cat_cache_get(g + 1, "a", &v));
	assert_false(cat_cache_get(g, "a", &v));
	assert_false(cat_cache_get(g, "b", &v));
	assert_int_equal(v, -99);
	assert_true(cat_cache_get(g + 1, "b", &v));
	assert_int_equal(v, 3);
}

static void older_put_is_ignored(void **state)
{
	(void)state;
	int64_t g = fresh_gen(), v = -99;
	cat_cache_put(g + 1, "x", 5);
	cat_cache_put(g, "x", 9); /* a slow reader from before the change */
	cat_cache_put(g, "y", 4);
	assert_true(cat_cache_get(g + 1, "x", &v));
	assert_int_equal(v, 5);
	v = -99;
	assert_false(cat_cache_get(g, "x", &v));
	assert_false(cat_cache_get(g, "y", &v));
	assert_false(cat_cache_get(g + 1, "y", &v));
	assert_int_equal(v, -99);
}

static void negative_generation_never_caches(void **state)
{
	(void)state;
	int64_t g = fresh_gen(), v = -99;
	cat_cache_put(g, "k", 1);
	cat_cache_put(-1, "k", 2); /* cat_generation() could not read it */
	cat_cache_put(-1, "n", 3);
	assert_false(cat_cache_get(-1, "k", &v));
	assert_false(cat_cache_get(-1, "n", &v));
	assert_int_equal(v, -99);
	/* nor does it disturb what is there */
	assert_true(cat_cache_get(g, "k", &v));
	assert_int_equal(v, 1);
	assert_false(cat_cache_get(g, "n", &v));
}

static void generation_moves_with_the_catalogue(void **state)
{
	(void)state;
	struct kd_db *db = test_db();
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(cat_school_add(db, "alder", "Alder School", "", err, sizeof err), 0);
	int64_t g0 = cat_generation(db);
	assert_int_not_equal(g0, -1);
	assert_int_equal(cat_generation(db), g0); /* reading does not move it */

	/* a count made now is not served once a clip is added */
	struct kd_user admin = {.id = 1, .role = KD_ROLE_ADMIN};
	struct cat_query q = {.page = 1, .per_page = 10};
	struct cat_page page;
	assert_int_equal(cat_clips_list(db, &admin, &q, &page, err, sizeof err), 0);
	assert_int_equal(page.total, 0);
	cat_page_free(&page);
	const char *practices[] = {"differentiation"};
	struct cat_clip_new c = {.title = "New", .school = "alder", .practices = practices,
	                         .n_practices = 1, .status = CAT_READY};
	int64_t id;
	assert_int_equal(cat_clip_create(db, &c, &id, err, sizeof err), 0);
	int64_t g1 = cat_generation(db);
	assert_true(g1 > g0);
	assert_int_equal(cat_clips_list(db, &admin, &q, &page, err, sizeof err), 0);
	assert_int_equal(page.total, 1);
	cat_page_free(&page);
	/* an edit and a school's new name move it too */
	struct cat_clip_edit e = {.title = "Renamed"};
	assert_int_equal(cat_clip_update(db, id, &e, err, sizeof err), 0);
	int64_t g2 = cat_generation(db);
	assert_true(g2 > g1);
	test_exec(db, "UPDATE schools SET name = 'Cedar School' WHERE slug = 'alder'");
	assert_true(cat_generation(db) > g2);

	/* two catalogues start apart, so never share remembered counts */
	struct kd_db *other = test_db();
	assert_int_not_equal(cat_generation(other), cat_generation(db));
	db_close(&other);
	db_close(&db);

	/* a database without the table: -1, which never caches */
	struct kd_db *bare;
	bare = test_db_bare();
	assert_int_equal(cat_generation(bare), -1);
	db_close(&bare);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_generation_hits),
		cmocka_unit_test(another_generation_misses),
		cmocka_unit_test(newer_put_drops_the_older_entries),
		cmocka_unit_test(older_put_is_ignored),
		cmocka_unit_test(negative_generation_never_caches),
		cmocka_unit_test(generation_moves_with_the_catalogue),
	};
	return cmocka_run_group_tests_name("cache", tests, NULL, NULL);
}
