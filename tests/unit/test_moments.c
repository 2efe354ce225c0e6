/* test_moments.c - moments of clips (include/kindling/moments.h): the
 * spec the command line reads, who may add and change them, the ranges
 * against the clip's length, privacy across schools, lists by practice
 * and school, and a practice merge carrying them along.  Owner: issue 15,
 * H1. */
#include <math.h>
#include <stdio.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/moments.h"
#include "kindling/users.h"

static int parse(const char *spec, struct cat_moment_edit *m, char *buf, size_t len, char *err,
                 size_t errlen)
{
	snprintf(buf, len, "%s", spec);
	return moment_spec_parse(buf, m, err, errlen);
}

static void spec_reads_times_practice_and_title(void **state)
{
	(void)state;
	char buf[512], err[KD_ERRMSG_MAX];
	struct cat_moment_edit m;
	assert_int_equal(parse("0:45-2:10 station-rotation Groups rotate", &m, buf, sizeof buf,
	                       err, sizeof err), 0);
	assert_true(fabs(m.start_s - 45) < 1e-9);
	assert_true(fabs(m.end_s - 130) < 1e-9);
	assert_string_equal(m.practice, "station-rotation");
	assert_string_equal(m.title, "Groups rotate");

	assert_int_equal(parse("  1:02:03.5 - 1:02:10  peer-feedback   Two  stars  ", &m, buf,
	                       sizeof buf, err, sizeof err), 0);
	assert_true(fabs(m.start_s - 3723.5) < 1e-9);
	assert_true(fabs(m.end_s - 3730) < 1e-9);
	assert_string_equal(m.practice, "peer-feedback");
	assert_string_equal(m.title, "Two  stars"); /* inner spaces kept, ends trimmed */

	assert_int_equal(parse("45.25-90 differentiation Ünïcode title", &m, buf, sizeof buf, err,
	                       sizeof err), 0);
	assert_true(fabs(m.start_s - 45.25) < 1e-9);
	assert_true(fabs(m.end_s - 90) < 1e-9);
	assert_string_equal(m.title, "Ünïcode title");
}

static void spec_refuses_what_is_wrong(void **state)
{
	(void)state;
	char buf[512], err[KD_ERRMSG_MAX];
	struct cat_moment_edit m;
	static const struct {
		const char *spec, *says;
	} bad[] = {
		{"", "empty"},
		{"   ", "empty"},
		{"2:10-0:45 station-rotation Backwards", "must end after it starts"},
		{"0:45-0:45 station-rotation Nothing", "must end after it starts"},
		{"0:45 station-rotation No end", "'-'"},
		{"0:45- station-rotation No end", "end time is missing"},
		{"x-2:10 station-rotation Bad", "start time is missing"},
		{"0:7-2:10 station-rotation Bad", "two digits"},
		{"0:60-2:10 station-rotation Bad", "two digits"},
		{"1:2:3:4-2:10 station-rotation Bad", "two digits"},
		{"1:02:03:04-9:00:00 p t", "too many parts"},
		{"0:45-2:10", "no practice"},
		{"0:45-2:10 station-rotation", "no title"},
		{"0:45-2:10 station-rotation    ", "no title"},
		{"0:45-2:10x station-rotation Glued", "followed by 'x'"},
		{"0:45.-2:10 station-rotation Dot", "ends in a dot"},
		{"0:45.1234-2:10 station-rotation Decimals", "three decimals"},
		{"1234567-1234568 p t", "too many digits"},
		{"25:00:00-26:00:00 p t", "past 24 hours"},
		{"-5-10 station-rotation Negative", "start time is missing"},
		{"0:45-2:10 station-rotation Bell\a", "control character"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		int rc = parse(bad[i].spec, &m, buf, sizeof buf, err, sizeof err);
		if (rc != KD_EINVAL || !strstr(err, bad[i].says))
			fail_msg("\"%s\": rc %d, err \"%s\", wanted \"%s\"", bad[i].spec, rc, err,
			         bad[i].says);
	}
	char longspec[400];
	snprintf(longspec, sizeof longspec, "0:01-0:02 p %0*d", MOMENT_TITLE_MAX + 1, 0);
	assert_int_equal(parse(longspec, &m, buf, sizeof buf, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "too long"));
}

struct world {
	struct kd_db *db;
	struct kd_user coach_a, teacher_a, featured, teacher_b, coach_b, admin;
	int64_t open_id, school_id;
};

static void set_duration(struct kd_db *db, int64_t id, double s)
{
	struct kd_stmt *st;
	assert_int_equal(db_prepare(db, "UPDATE clips SET duration_s = ?2 WHERE id = ?1", &st),
	                 DB_OK);
	db_bind_int64(st, 1, id);
	db_bind_double(st, 2, s);
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
}

static void make_world(struct world *w)
{
	char err[KD_ERRMSG_MAX] = "";
	w->db = test_db();
	assert_int_equal(cat_school_add(w->db, "school-a", "Alder", "", err, sizeof err), 0);
	assert_int_equal(cat_school_add(w->db, "school-b", "Birch", "", err, sizeof err), 0);
	w->coach_a = test_user(w->db, "Coach A", KD_ROLE_COACH, "school-a");
	w->teacher_a = test_user(w->db, "Teacher A", KD_ROLE_TEACHER, "school-a");
	w->featured = test_user(w->db, "Rosa Featured", KD_ROLE_TEACHER, "school-a");
	w->teacher_b = test_user(w->db, "Teacher B", KD_ROLE_TEACHER, "school-b");
	w->coach_b = test_user(w->db, "Coach B", KD_ROLE_COACH, "school-b");
	w->admin = test_user(w->db, "Admin", KD_ROLE_ADMIN, NULL);
	const char *practices[] = {"station-rotation"};
	struct cat_clip_new c = {.title = "Open lesson", .school = "school-a",
	                         .practices = practices, .n_practices = 1, .consent = "on-file",
	                         .visibility = "district", .status = CAT_READY,
	                         .teacher = "rosa featured", .uploader_id = w->coach_a.id};
	assert_int_equal(cat_clip_create(w->db, &c, &w->open_id, err, sizeof err), 0);
	c.title = "School-only lesson";
	c.visibility = "school";
	assert_int_equal(cat_clip_create(w->db, &c, &w->school_id, err, sizeof err), 0);
	set_duration(w->db, w->open_id, 192); /* 3:12 */
}

static struct cat_moment_edit edit(double a, double b, const char *p, const char *t)
{
	return (struct cat_moment_edit){.start_s = a, .end_s = b, .practice = p, .title = t};
}

static void who_may_add_and_what_is_checked(void **state)
{
	(void)state;
	struct world w;
	make_world(&w);
	char err[KD_ERRMSG_MAX];
	int64_t id;
	struct cat_moment_edit e = edit(45, 130, "station-rotation", "Groups rotate");

	/* may edit: the uploader's school's coach, admins, the featured teacher */
	assert_true(cat_moment_may_edit(&w.coach_a, &(struct cat_clip){.school_id = w.coach_a.school_id}));
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err), 0);
	e.title = "Featured adds";
	assert_int_equal(cat_moment_add(w.db, &w.featured, w.open_id, &e, &id, err, sizeof err), 0);
	e.title = "Admin adds";
	assert_int_equal(cat_moment_add(w.db, &w.admin, w.open_id, &e, &id, err, sizeof err), 0);
	/* sees, may not edit: 403; does not see: 404 with err left empty */
	assert_int_equal(cat_moment_add(w.db, &w.teacher_a, w.open_id, &e, &id, err, sizeof err),
	                 KD_EPERM);
	assert_non_null(strstr(err, "featured teacher"));
	assert_int_equal(cat_moment_add(w.db, &w.coach_b, w.open_id, &e, &id, err, sizeof err),
	                 KD_EPERM);
	assert_int_equal(cat_moment_add(w.db, &w.teacher_b, w.school_id, &e, &id, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_string_equal(err, "");
	assert_int_equal(cat_moment_add(w.db, &w.admin, 9999, &e, &id, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_string_equal(err, "");

	/* ranges, against the clip's 3:12 */
	e = edit(150, 200, "station-rotation", "Too far");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err),
	                 KD_EINVAL);
	assert_string_equal(err, "the moment ends at 3:20, past the end of the clip: the clip is "
	                         "3:12 long");
	e = edit(130, 45, "station-rotation", "Backwards");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err),
	                 KD_EINVAL);
	assert_string_equal(err, "the moment must end after it starts: it starts at 2:10 and ends "
	                         "at 0:45");
	e = edit(NAN, 45, "station-rotation", "NaN");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err),
	                 KD_EINVAL);
	e = edit(-1, 45, "station-rotation", "Negative");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "start_s must be from 0"));
	/* no duration known yet: any range is taken */
	e = edit(150, 4000, "station-rotation", "Long, on a clip not measured");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.school_id, &e, &id, err, sizeof err), 0);
	/* titles */
	e = edit(1, 2, "station-rotation", "");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "title is empty"));
	e.title = "   ";
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err),
	                 KD_EINVAL);
	char longt[MOMENT_TITLE_MAX + 2];
	memset(longt, 'a', sizeof longt - 1);
	longt[sizeof longt - 1] = '\0';
	e.title = longt;
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "too long"));
	longt[MOMENT_TITLE_MAX] = '\0';
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err), 0);
	/* an unknown practice: not found, with the known ones */
	e = edit(1, 2, "juggling", "Unknown");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_non_null(strstr(err, "unknown practice 'juggling'"));
	assert_non_null(strstr(err, "station-rotation"));
	/* a retired practice takes no new moments */
	assert_int_equal(cat_practice_retire(w.db, "peer-feedback", true, err, sizeof err), 0);
	e = edit(1, 2, "peer-feedback", "Retired");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "retired"));
	db_close(&w.db);
}

static void list_change_remove_and_privacy(void **state)
{
	(void)state;
	struct world w;
	make_world(&w);
	char err[KD_ERRMSG_MAX];
	int64_t a, b, c;
	struct cat_moment_edit e = edit(100, 150, "differentiation", "Second");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &a, err, sizeof err), 0);
	e = edit(10.0004, 20, "station-rotation", "First");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &b, err, sizeof err), 0);
	e = edit(5, 6, "station-rotation", "Hidden");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.school_id, &e, &c, err, sizeof err), 0);

	struct cat_moment *list;
	size_t n;
	assert_int_equal(cat_moments_of_clip(w.db, &w.teacher_b, w.open_id, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, b); /* by start */
	assert_true(fabs(list[0].start_s - 10) < 1e-9); /* to the millisecond */
	assert_string_equal(list[0].practice, "station-rotation");
	assert_string_equal(list[0].practice_name, "Station rotation");
	assert_string_equal(list[0].school, "school-a");
	assert_string_equal(list[0].school_name, "Alder");
	assert_string_equal(list[0].clip_title, "Open lesson");
	assert_true(fabs(list[0].clip_duration_s - 192) < 1e-9);
	cat_moments_free(list, n);
	/* another school's school-only clip: not there */
	assert_int_equal(cat_moments_of_clip(w.db, &w.teacher_b, w.school_id, &list, &n),
	                 KD_ENOTFOUND);
	struct cat_moment m;
	assert_int_equal(cat_moment_get(w.db, &w.teacher_b, c, &m), KD_ENOTFOUND);
	assert_int_equal(cat_moment_get(w.db, &w.teacher_a, c, &m), 0);
	assert_string_equal(m.title, "Hidden");
	cat_moment_free(&m);

	/* across schools */
	struct cat_moment_query q = {.practice = "station-rotation", .page = 1, .per_page = 10};
	struct cat_moment_page p;
	assert_int_equal(cat_moments_list(w.db, &w.teacher_b, &q, &p, err, sizeof err), 0);
	assert_int_equal(p.total, 1);
	assert_int_equal(p.moments[0].id, b);
	cat_moment_page_free(&p);
	assert_int_equal(cat_moments_list(w.db, &w.teacher_a, &q, &p, err, sizeof err), 0);
	assert_int_equal(p.total, 2);
	cat_moment_page_free(&p);
	q = (struct cat_moment_query){.school = "school-a", .page = 2, .per_page = 2};
	assert_int_equal(cat_moments_list(w.db, &w.admin, &q, &p, err, sizeof err), 0);
	assert_int_equal(p.total, 3);
	assert_int_equal(p.n, 1);
	cat_moment_page_free(&p);
	q = (struct cat_moment_query){.school = "school-a", .page = 9, .per_page = 2};
	assert_int_equal(cat_moments_list(w.db, &w.admin, &q, &p, err, sizeof err), 0);
	assert_int_equal(p.total, 3); /* past the end: none, and the count */
	assert_int_equal(p.n, 0);
	cat_moment_page_free(&p);
	q = (struct cat_moment_query){.practice = "juggling", .page = 1, .per_page = 2};
	assert_int_equal(cat_moments_list(w.db, &w.admin, &q, &p, err, sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "unknown practice 'juggling'"));
	q = (struct cat_moment_query){.school = "nowhere", .page = 1, .per_page = 2};
	assert_int_equal(cat_moments_list(w.db, &w.admin, &q, &p, err, sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "unknown school 'nowhere'"));

	/* change: a subset; the rest as it was; checked again */
	struct cat_moment_edit ch = {.start_s = -1, .end_s = 180, .practice = NULL, .title = NULL};
	assert_int_equal(cat_moment_update(w.db, &w.featured, a, &ch, err, sizeof err), 0);
	assert_int_equal(cat_moment_get(w.db, &w.admin, a, &m), 0);
	assert_true(fabs(m.start_s - 100) < 1e-9 && fabs(m.end_s - 180) < 1e-9);
	assert_string_equal(m.title, "Second");
	cat_moment_free(&m);
	ch = (struct cat_moment_edit){.start_s = 190, .end_s = -1};
	assert_int_equal(cat_moment_update(w.db, &w.coach_a, a, &ch, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "must end after it starts"));
	ch = (struct cat_moment_edit){.start_s = -1, .end_s = 200};
	assert_int_equal(cat_moment_update(w.db, &w.coach_a, a, &ch, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "the clip is 3:12 long"));
	ch = (struct cat_moment_edit){.start_s = -1, .end_s = -1, .practice = "student-choice",
	                              .title = "Renamed"};
	assert_int_equal(cat_moment_update(w.db, &w.teacher_a, a, &ch, err, sizeof err), KD_EPERM);
	assert_int_equal(cat_moment_update(w.db, &w.teacher_b, c, &ch, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_int_equal(cat_moment_update(w.db, &w.coach_a, a, &ch, err, sizeof err), 0);
	assert_int_equal(cat_moment_get(w.db, &w.admin, a, &m), 0);
	assert_string_equal(m.practice, "student-choice");
	assert_string_equal(m.title, "Renamed");
	cat_moment_free(&m);

	/* a practice merge carries the moments along */
	struct cat_practice_merge done;
	assert_int_equal(cat_practice_merge(w.db, "student-choice", "differentiation", &done, err,
	                                    sizeof err), 0);
	assert_int_equal(cat_moment_get(w.db, &w.admin, a, &m), 0);
	assert_string_equal(m.practice, "differentiation");
	cat_moment_free(&m);

	/* remove */
	assert_int_equal(cat_moment_delete(w.db, &w.teacher_a, a, err, sizeof err), KD_EPERM);
	assert_int_equal(cat_moment_delete(w.db, &w.teacher_b, c, err, sizeof err), KD_ENOTFOUND);
	assert_int_equal(cat_moment_delete(w.db, &w.featured, a, err, sizeof err), 0);
	assert_int_equal(cat_moment_get(w.db, &w.admin, a, &m), KD_ENOTFOUND);
	assert_int_equal(cat_moment_delete(w.db, &w.admin, a, err, sizeof err), KD_ENOTFOUND);

	/* the clip's deletion takes its moments */
	assert_int_equal(cat_clip_delete(w.db, w.open_id), 0);
	assert_int_equal(cat_moment_get(w.db, &w.admin, b, &m), KD_ENOTFOUND);
	db_close(&w.db);
}

static void at_most_per_clip(void **state)
{
	(void)state;
	struct world w;
	make_world(&w);
	char err[KD_ERRMSG_MAX];
	int64_t id;
	for (int i = 0; i < MOMENTS_PER_CLIP_MAX; i++) {
		struct cat_moment_edit e = edit(i, i + 1, "station-rotation", "One of many");
		assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err),
		                 0);
	}
	struct cat_moment_edit e = edit(0, 1, "station-rotation", "One too many");
	assert_int_equal(cat_moment_add(w.db, &w.coach_a, w.open_id, &e, &id, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "as many as a clip may have"));
	struct cat_moment *list;
	size_t n;
	assert_int_equal(cat_moments_of_clip(w.db, &w.admin, w.open_id, &list, &n), 0);
	assert_int_equal(n, MOMENTS_PER_CLIP_MAX);
	cat_moments_free(list, n);
	db_close(&w.db);
}

int main(void)
{
	users_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spec_reads_times_practice_and_title),
		cmocka_unit_test(spec_refuses_what_is_wrong),
		cmocka_unit_test(who_may_add_and_what_is_checked),
		cmocka_unit_test(list_change_remove_and_privacy),
		cmocka_unit_test(at_most_per_clip),
	};
	return cmocka_run_group_tests_name("moments", tests, NULL, NULL);
}
