/* test_mail_prefs.c - what people decide about their mail (issue 16,
 * mail_prefs.c): the switches, following practices (and a merge moving
 * the followers), what an unsubscribe link would do before it does it, and
 * the count of visits waiting for someone's answer (visits.c). */
#include <stdio.h>
#include <time.h>

#include <sodium.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/outbox.h"
#include "kindling/users.h"
#include "kindling/visits.h"

struct world {
	struct kd_db *db;
	struct kd_user admin, admin_b, princ_b, featured_b, other_b, coach_b, teacher_a;
	int64_t clip_b, clip_b2;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	w->db = test_db();
	char err[KD_ERRMSG_MAX];
	assert_int_equal(cat_school_add(w->db, "alder", "Alder School", "", err, sizeof err), 0);
	assert_int_equal(cat_school_add(w->db, "birch", "Birch School", "", err, sizeof err), 0);
	w->admin = test_user(w->db, "admin", KD_ROLE_ADMIN, NULL);
	w->admin_b = test_user(w->db, "Ada Birch", KD_ROLE_ADMIN, "birch");
	w->princ_b = test_user(w->db, "Pat Birch", KD_ROLE_PRINCIPAL, "birch");
	w->featured_b = test_user(w->db, "Rosa Diaz", KD_ROLE_TEACHER, "birch");
	w->other_b = test_user(w->db, "Other Birch", KD_ROLE_TEACHER, "birch");
	w->coach_b = test_user(w->db, "Cai Birch", KD_ROLE_COACH, "birch");
	w->teacher_a = test_user(w->db, "Tom Alder", KD_ROLE_TEACHER, "alder");
	const char *sr[] = {"station-rotation"};
	struct cat_clip_new c = {.title = "Timers", .school = "birch", .practices = sr,
	                         .n_practices = 1, .teacher = "rosa diaz", .status = CAT_READY};
	assert_int_equal(cat_clip_create(w->db, &c, &w->clip_b, err, sizeof err), 0);
	c.title = "Another class";
	c.teacher = "Sam Lee";
	assert_int_equal(cat_clip_create(w->db, &c, &w->clip_b2, err, sizeof err), 0);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	outbox_set_enabled(false);
	db_close(&w->db);
	free(w);
	return 0;
}

static void switches_are_on_until_turned_off(void **state)
{
	struct world *w = *state;
	bool on[MAIL_KIND_COUNT];
	assert_int_equal(mail_prefs_get(w->db, w->princ_b.id, on), 0);
	for (int k = 0; k < MAIL_KIND_COUNT; k++)
		assert_true(on[k]);
	assert_int_equal(mail_prefs_set(w->db, w->princ_b.id, MAIL_DIGEST, false), 0);
	assert_int_equal(mail_prefs_set(w->db, w->princ_b.id, MAIL_DIGEST, false), 0); /* again */
	assert_int_equal(mail_prefs_get(w->db, w->princ_b.id, on), 0);
	for (int k = 0; k < MAIL_KIND_COUNT; k++)
		assert_int_equal(on[k], k != MAIL_DIGEST);
	/* only theirs */
	assert_int_equal(mail_prefs_get(w->db, w->featured_b.id, on), 0);
	assert_true(on[MAIL_DIGEST]);
	assert_int_equal(mail_prefs_set(w->db, w->princ_b.id, MAIL_DIGEST, true), 0);
	assert_int_equal(mail_prefs_get(w->db, w->princ_b.id, on), 0);
	assert_true(on[MAIL_DIGEST]);
	assert_int_equal(mail_prefs_set(w->db, w->princ_b.id, MAIL_KIND_COUNT, false), KD_EINVAL);
	assert_int_equal(mail_prefs_set(w->db, 999999, MAIL_DIGEST, false), KD_ENOTFOUND);
}

static void a_switch_decides_what_is_queued(void **state)
{
	struct world *w = *state;
	outbox_set_enabled(true);
	test_exec(w->db, "UPDATE users SET email = 'pat@birch.test' WHERE name = 'Pat Birch'");
	assert_int_equal(mail_prefs_set(w->db, w->princ_b.id, MAIL_PROCESSING, false), 0);
	assert_int_equal(outbox_queue(w->db, MAIL_PROCESSING, w->princ_b.id, 1, NULL, "t:1"), 0);
	assert_int_equal(outbox_queue(w->db, MAIL_DIGEST, w->princ_b.id, 0, "2026-01-01", "t:2"),
	                 1);
	assert_int_equal(mail_prefs_set(w->db, w->princ_b.id, MAIL_PROCESSING, true), 0);
	assert_int_equal(outbox_queue(w->db, MAIL_PROCESSING, w->princ_b.id, 1, NULL, "t:3"), 1);
}

static void following_practices(void **state)
{
	struct world *w = *state;
	char err[KD_ERRMSG_MAX] = "";
	const struct kd_user *u = &w->teacher_a;
	assert_false(follow_get(w->db, u, "station-rotation"));
	assert_int_equal(follow_set(w->db, u, "station-rotation", true, err, sizeof err), 0);
	assert_int_equal(follow_set(w->db, u, "station-rotation", true, err, sizeof err), 0);
	assert_int_equal(follow_set(w->db, u, "differentiation", true, err, sizeof err), 0);
	assert_true(follow_get(w->db, u, "station-rotation"));
	assert_false(follow_get(w->db, &w->other_b, "station-rotation"));
	assert_false(follow_get(w->db, u, "no-such-practice"));
	struct cat_practice *ps;
	size_t n;
	assert_int_equal(follow_list(w->db, u->id, &ps, &n), 0);
	assert_int_equal(n, 2); /* by name: Differentiation, Station rotation */
	assert_string_equal(ps[0].slug, "differentiation");
	assert_string_equal(ps[1].slug, "station-rotation");
	assert_null(ps[1].retired_at);
	cat_practices_free(ps, n);

	assert_int_equal(follow_set(w->db, u, "kite-surfing", true, err, sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "kite-surfing"));
	assert_non_null(strstr(err, "station-rotation")); /* the known ones */
	assert_int_equal(follow_set(w->db, u, "Not A Slug/..", true, err, sizeof err),
	                 KD_ENOTFOUND);

	assert_int_equal(follow_set(w->db, u, "differentiation", false, err, sizeof err), 0);
	assert_int_equal(follow_set(w->db, u, "differentiation", false, err, sizeof err), 0);
	assert_false(follow_get(w->db, u, "differentiation"));
	assert_int_equal(follow_list(w->db, w->other_b.id, &ps, &n), 0);
	assert_int_equal(n, 0);
	cat_practices_free(ps, n);
}

static void a_merge_moves_the_followers(void **state)
{
	struct world *w = *state;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(follow_set(w->db, &w->teacher_a, "peer-feedback", true, err, sizeof err), 0);
	assert_int_equal(follow_set(w->db, &w->teacher_a, "student-choice", true, err, sizeof err), 0);
	assert_int_equal(follow_set(w->db, &w->other_b, "peer-feedback", true, err, sizeof err), 0);
	struct cat_practice_merge m;
	assert_int_equal(cat_practice_merge(w->db, "peer-feedback", "student-choice", &m, err,
	                                    sizeof err), 0);
	assert_true(follow_get(w->db, &w->teacher_a, "student-choice"));
	assert_true(follow_get(w->db, &w->other_b, "student-choice"));
	struct kd_stmt *st;
	assert_int_equal(db_prepare(w->db, "SELECT count(*) FROM follows", &st), DB_OK);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_column_int64(st, 0), 2); /* once each, nothing left of the old one */
	db_finalize(st);
}

static void an_unsubscribe_link_is_looked_at_without_using_it(void **state)
{
	struct world *w = *state;
	outbox_set_enabled(true);
	test_exec(w->db, "UPDATE users SET email = 'rosa@birch.test' WHERE name = 'Rosa Diaz'");
	assert_int_equal(outbox_queue(w->db, MAIL_VISIT_REQUESTED, w->featured_b.id, 7, NULL,
	                              "visit_requested:7:x"), 1);
	/* as the sender does: claimed, then given its secret's hash */
	struct outbox_item it;
	assert_int_equal(outbox_claim(w->db, "test", getpid(), (int64_t)time(NULL), 300, &it), 1);
	int64_t id = it.id;
	outbox_item_free(&it);
	const char *secret = "Ab0_-Ab0_-Ab0_-Ab0_-Ab0_-Ab0_-Ab0_-Ab0_-Ab0";
	unsigned char hash[32];
	crypto_generichash(hash, sizeof hash, (const unsigned char *)secret, strlen(secret), NULL, 0);
	assert_int_equal(outbox_set_unsubscribe(w->db, id, hash), 0);

	enum mail_kind kind = MAIL_DIGEST;
	bool used = true;
	assert_int_equal(outbox_unsubscribe_peek(w->db, id, secret, &kind, &used), 0);
	assert_int_equal(kind, MAIL_VISIT_REQUESTED);
	assert_false(used);
	bool on[MAIL_KIND_COUNT];
	assert_int_equal(mail_prefs_get(w->db, w->featured_b.id, on), 0);
	assert_true(on[MAIL_VISIT_REQUESTED]); /* looking changed nothing */
	assert_int_equal(outbox_unsubscribe_peek(w->db, id, "Ab0_-Ab0_-Ab0_-Ab0_-Ab0_-Ab0_-Ab0_-Ab0_-Ab1",
	                                         &kind, &used), KD_ENOTFOUND);
	assert_int_equal(outbox_unsubscribe_peek(w->db, id + 1, secret, &kind, &used), KD_ENOTFOUND);
	assert_int_equal(outbox_unsubscribe_peek(w->db, id, "", &kind, &used), KD_ENOTFOUND);
	assert_int_equal(outbox_unsubscribe_peek(w->db, 0, secret, &kind, &used), KD_ENOTFOUND);

	int64_t who = 0;
	assert_int_equal(outbox_unsubscribe(w->db, id, secret, &kind, &who), 0);
	assert_int_equal(who, w->featured_b.id);
	assert_int_equal(outbox_unsubscribe_peek(w->db, id, secret, &kind, &used), 0);
	assert_true(used);
	assert_int_equal(mail_prefs_get(w->db, w->featured_b.id, on), 0);
	assert_false(on[MAIL_VISIT_REQUESTED]);
}

static int64_t waiting(struct world *w, const struct kd_user *u)
{
	int64_t n = -1;
	assert_int_equal(visit_count_waiting(w->db, u, &n), 0);
	return n;
}

static void the_visits_waiting_for_an_answer(void **state)
{
	struct world *w = *state;
	const char *dates[] = {"2031-03-04"};
	char err[KD_ERRMSG_MAX] = "";
	int64_t v1, v2;
	assert_int_equal(visit_create(w->db, &w->teacher_a, w->clip_b, dates, 1, "", &v1, err,
	                              sizeof err), 0);
	assert_int_equal(visit_create(w->db, &w->teacher_a, w->clip_b2, dates, 1, "", &v2, err,
	                              sizeof err), 0);
	assert_int_equal(waiting(w, &w->princ_b), 2);    /* the host school's principal: both */
	assert_int_equal(waiting(w, &w->admin_b), 2);    /* an admin of that school */
	assert_int_equal(waiting(w, &w->featured_b), 1); /* her class only (names match, any case) */
	assert_int_equal(waiting(w, &w->other_b), 0);
	assert_int_equal(waiting(w, &w->coach_b), 0);
	assert_int_equal(waiting(w, &w->admin), 0);      /* the district's admin: none of theirs */
	assert_int_equal(waiting(w, &w->teacher_a), 0);  /* the requester */
	assert_int_equal(visit_update(w->db, &w->featured_b, v1, "accepted", "2031-03-04", NULL,
	                              NULL, err, sizeof err), 0);
	assert_int_equal(waiting(w, &w->featured_b), 0);
	assert_int_equal(waiting(w, &w->princ_b), 1);
	assert_int_equal(visit_update(w->db, &w->princ_b, v2, "declined", NULL, NULL, NULL, err,
	                              sizeof err), 0);
	assert_int_equal(waiting(w, &w->princ_b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(switches_are_on_until_turned_off, setup, teardown),
		cmocka_unit_test_setup_teardown(a_switch_decides_what_is_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(following_practices, setup, teardown),
		cmocka_unit_test_setup_teardown(a_merge_moves_the_followers, setup, teardown),
		cmocka_unit_test_setup_teardown(an_unsubscribe_link_is_looked_at_without_using_it,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(the_visits_waiting_for_an_answer, setup, teardown),
	};
	return cmocka_run_group_tests_name("mail_prefs", tests, NULL, NULL);
}
