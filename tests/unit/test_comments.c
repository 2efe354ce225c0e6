/* test_comments.c - notes on a clip, at a time in it or about all of it
 * (include/kindling/comments.h): the clip's privacy applies. */
#include <math.h>
#include <stdio.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/comments.h"
#include "kindling/users.h"

#define PER_DAY 20 /* notes one person may add to a clip in a day */

static void comments_follow_the_clip_privacy(void **state)
{
	(void)state;
	struct kd_db *db = test_db();
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(cat_school_add(db, "school-a", "Alder", "", err, sizeof err), 0);
	assert_int_equal(cat_school_add(db, "school-b", "Birch", "", err, sizeof err), 0);
	struct kd_user coach = test_user(db, "coach", KD_ROLE_COACH, "school-a");
	struct kd_user other = test_user(db, "other", KD_ROLE_TEACHER, "school-b");
	const char *practices[] = {"differentiation"};
	struct cat_clip_new c = {.title = "T", .school = "school-a", .practices = practices,
	                         .n_practices = 1, .consent = "on-file", .visibility = "district",
	                         .status = CAT_READY, .uploader_id = coach.id};
	int64_t open_id, school_id, id;
	assert_int_equal(cat_clip_create(db, &c, &open_id, err, sizeof err), 0);
	c.visibility = "school";
	assert_int_equal(cat_clip_create(db, &c, &school_id, err, sizeof err), 0);

	double at = 12.34, late = 3.0, bad = -1, nan_v = NAN;
	assert_int_equal(comments_add(db, &other, open_id, &at, "  look here\n", PER_DAY, &id, err,
	                              sizeof err), 0);
	assert_int_equal(comments_add(db, &coach, open_id, NULL, "whole clip", PER_DAY, &id, err,
	                              sizeof err), 0);
	assert_int_equal(comments_add(db, &coach, open_id, &late, "<b>early</b>", PER_DAY, &id, err,
	                              sizeof err), 0);
	struct comment *list;
	size_t n;
	int64_t total;
	assert_int_equal(comments_list(db, &other, open_id, 1, &list, &n, &total), 0);
	assert_int_equal(n, 3);
	assert_int_equal(total, 3);
	assert_true(list[0].has_at);
	assert_true(fabs(list[0].at_s - 3.0) < 1e-9);
	assert_string_equal(list[0].body, "<b>early</b>"); /* stored as typed: escaped on output */
	assert_true(fabs(list[1].at_s - 12.3) < 1e-9);     /* to a tenth of a second */
	assert_string_equal(list[1].body, "look here");    /* trimmed */
	assert_string_equal(list[1].author, "other");
	assert_false(list[2].has_at);
	comments_free(list, n);

	/* a clip the user may not see: nothing to read, nothing to add */
	assert_int_equal(comments_add(db, &other, school_id, NULL, "sneaky", PER_DAY,
	                              &id, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_int_equal(comments_add(db, &coach, school_id, NULL, "mine", PER_DAY,
	                              &id, err, sizeof err), 0);
	assert_int_equal(comments_list(db, &other, school_id, 1, &list, &n, &total),
	                 KD_ENOTFOUND);
	assert_null(list);
	assert_int_equal(n, 0);
	assert_int_equal(comments_add(db, &other, 999, NULL, "x", PER_DAY, &id, err, sizeof err),
	                 KD_ENOTFOUND);

	/* bad input */
	assert_int_equal(comments_add(db, &coach, open_id, NULL, " \n ", PER_DAY,
	                              &id, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(comments_add(db, &coach, open_id, &bad, "x", PER_DAY,
	                              &id, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(comments_add(db, &coach, open_id, &nan_v, "x", PER_DAY,
	                              &id, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(comments_add(db, &coach, open_id, NULL, "bell\a", PER_DAY,
	                              &id, err, sizeof err),
	                 KD_EINVAL);
	char *longbody = malloc(COMMENT_BODY_MAX + 2);
	memset(longbody, 'a', COMMENT_BODY_MAX + 1);
	longbody[COMMENT_BODY_MAX + 1] = '\0';
	assert_int_equal(comments_add(db, &coach, open_id, NULL, longbody, PER_DAY,
	                              &id, err, sizeof err),
	                 KD_EINVAL);
	free(longbody);

	/* deleting the clip deletes its comments */
	assert_int_equal(cat_clip_delete(db, open_id), 0);
	struct kd_stmt *st;
	db_prepare(db, "SELECT count(*) FROM comments WHERE clip_id = ?1", &st);
	db_bind_int64(st, 1, open_id);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_column_int(st, 0), 0);
	db_finalize(st);
	db_close(&db);
}

int main(void)
{
	users_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(comments_follow_the_clip_privacy),
	};
	return cmocka_run_group_tests_name("comments", tests, NULL, NULL);
}
