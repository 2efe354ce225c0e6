/* test_pages.c - what the pages are made of: the escaping HTML writer,
 * form bodies, sign-in throttling, comments and their privacy. */
#include <math.h>
#include <stdio.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/comments.h"
#include "kindling/users.h"
#include "web/html.h"
#include "web/pages.h"
#include "web/throttle.h"

static void text_and_attributes_are_escaped(void **state)
{
	(void)state;
	struct html h;
	html_init(&h, 4096);
	html_raw(&h, "<p title=\"");
	html_attr(&h, "\"><script>alert('x')</script>");
	html_raw(&h, "\">");
	html_text(&h, "<img src=x onerror=alert(1)> & 'so' \"on\"");
	html_textf(&h, " %s %d", "<b>", 5);
	html_text(&h, NULL);
	html_raw(&h, "</p>");
	assert_false(html_failed(&h));
	assert_string_equal(kd_buf_str(&h.b),
	                    "<p title=\"&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\">"
	                    "&lt;img src=x onerror=alert(1)&gt; &amp; &#39;so&#39; &quot;on&quot;"
	                    " &lt;b&gt; 5</p>");
	html_release(&h);

	/* a long formatted value is escaped whole */
	char big[600];
	memset(big, '<', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	html_init(&h, 8192);
	html_attrf(&h, "%s", big);
	assert_int_equal(h.b.len, 4 * (sizeof big - 1));
	html_release(&h);

	/* past the cap the writer stops and says so */
	html_init(&h, 16);
	html_text(&h, "0123456789");
	html_text(&h, "0123456789");
	assert_true(html_failed(&h));
	html_release(&h);
}

static const char *marked(const char *text, const char *query, struct html *h)
{
	html_release(h);
	html_init(h, 4096);
	html_text_marked(h, text, query);
	return kd_buf_str(&h->b);
}

static void search_words_are_marked_after_escaping(void **state)
{
	(void)state;
	struct html h;
	html_init(&h, 4096);
	assert_string_equal(marked("Ana Ruiz & co", "ruiz", &h), "Ana <mark>Ruiz</mark> &amp; co");
	/* the last word is a prefix, the others whole words */
	assert_string_equal(marked("Differentiation in differ land", "differ land", &h),
	                    "Differentiation in <mark>differ</mark> <mark>land</mark>");
	assert_string_equal(marked("Differentiation in maths", "differ", &h),
	                    "<mark>Differentiation</mark> in maths");
	assert_string_equal(marked("Differentiation", "differ ", &h), "<mark>Differentiation</mark>");
	assert_string_equal(marked("Differentiation", "differ. !", &h), "Differentiation");
	/* markup in the text or the query never becomes markup */
	assert_string_equal(marked("<img src=x onerror=alert(1)>", "img", &h),
	                    "&lt;<mark>img</mark> src=x onerror=alert(1)&gt;");
	assert_string_equal(marked("a <mark> b", "<mark>", &h),
	                    "a &lt;<mark>mark</mark>&gt; b");
	assert_string_equal(marked("plain", NULL, &h), "plain");
	assert_string_equal(marked("plain", "\"\"''", &h), "plain");
	html_release(&h);
}

static void forms_and_urls(void **state)
{
	(void)state;
	const char *body = "name=Ana+Ruiz&password=p%26ss%3D1&practices=a&practices=b&empty=&flag"
	                   "&nul=x%00y&bad=%zz%4";
	size_t n = strlen(body);
	char *v;
	assert_string_equal(v = form_value(body, n, "name", 0), "Ana Ruiz");
	free(v);
	assert_string_equal(v = form_value(body, n, "password", 0), "p&ss=1");
	free(v);
	assert_string_equal(v = form_value(body, n, "practices", 1), "b");
	free(v);
	assert_null(form_value(body, n, "practices", 2));
	assert_string_equal(v = form_value(body, n, "empty", 0), "");
	free(v);
	assert_string_equal(v = form_value(body, n, "flag", 0), "");
	free(v);
	assert_string_equal(v = form_value(body, n, "nul", 0), "xy");
	free(v);
	assert_string_equal(v = form_value(body, n, "bad", 0), "%zz%4");
	free(v);
	assert_null(form_value(body, n, "nam", 0));
	assert_null(form_value(NULL, 0, "name", 0));

	struct kd_buf b = KD_BUF_INIT(256);
	html_url_encode(&b, "/clips/1?q=a b&c=\"<x>\"");
	assert_string_equal(kd_buf_str(&b), "/clips/1%3Fq%3Da%20b%26c%3D%22%3Cx%3E%22");
	kd_buf_release(&b);
}

static void slugs_and_charts_in_pages(void **state)
{
	(void)state;
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
	/* the form's repeated fields: the n-th value, empty ones kept */
	const char *body = "dates=2030-05-14&dates=&dates=2030-05-21&note=a+%3Cb%3E";
	char *d0 = form_value(body, strlen(body), "dates", 0);
	char *d1 = form_value(body, strlen(body), "dates", 1);
	char *d2 = form_value(body, strlen(body), "dates", 2);
	char *d3 = form_value(body, strlen(body), "dates", 3);
	char *note = form_value(body, strlen(body), "note", 0);
	assert_string_equal(d0, "2030-05-14");
	assert_string_equal(d1, "");
	assert_string_equal(d2, "2030-05-21");
	assert_null(d3);
	assert_string_equal(note, "a <b>");
	free(d0), free(d1), free(d2), free(note);
	/* a chart goes in as made (its text escaped by charts.c); NULL adds nothing */
	struct html h;
	html_init(&h, 1 << 16);
	html_chart(&h, NULL);
	char *svg = malloc(16);
	strcpy(svg, "<svg></svg>");
	html_chart(&h, svg);
	assert_string_equal(kd_buf_str(&h.b), "<svg></svg>");
	html_release(&h);
}

static void guessing_is_slowed_not_slept(void **state)
{
	(void)state;
	throttle_reset();
	time_t t = 1000000;
	for (int i = 0; i < 5; i++)
		assert_int_equal(throttle_fail("name", "Ana", 5, t), 0);
	assert_int_equal(throttle_wait("name", "ana", t), 0);
	assert_int_equal(throttle_fail("name", "ANA", 5, t), 5);
	assert_int_equal(throttle_wait("name", "Ana", t), 5);
	assert_int_equal(throttle_wait("name", "Ana", t + 4), 1);
	assert_int_equal(throttle_wait("name", "Ana", t + 5), 0);
	assert_int_equal(throttle_fail("name", "Ana", 5, t + 5), 10);
	assert_int_equal(throttle_fail("name", "Ana", 5, t + 15), 20);
	for (int i = 0; i < 20; i++)
		throttle_fail("name", "Ana", 5, t + 10);
	assert_int_equal(throttle_wait("name", "Ana", t + 10), THROTTLE_MAX_LOCK);
	/* other keys and kinds are apart */
	assert_int_equal(throttle_wait("name", "Ben", t + 10), 0);
	assert_int_equal(throttle_wait("addr", "Ana", t + 10), 0);
	throttle_clear("name", "Ana");
	assert_int_equal(throttle_wait("name", "Ana", t + 10), 0);
	/* a full table makes room without losing recent locks */
	for (int i = 0; i < 6; i++)
		throttle_fail("addr", "10.0.0.1", 5, t + 20);
	char key[32];
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof key, "u%d", i);
		throttle_fail("name", key, 5, t + 21);
	}
	assert_true(throttle_wait("addr", "10.0.0.1", t + 20) >= 0);
	throttle_reset();
}

static struct kd_user make_user(sqlite3 *db, const char *name, enum kd_role role,
                                const char *school, int64_t school_id)
{
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	if (users_add(db, name, role, school, NULL, &id, err, sizeof err) != 0)
		fail_msg("users_add: %s", err);
	struct kd_user u = {.id = id, .role = role, .school_id = school_id};
	snprintf(u.name, sizeof u.name, "%s", name);
	snprintf(u.school, sizeof u.school, "%s", school ? school : "");
	return u;
}

static void comments_follow_the_clip_privacy(void **state)
{
	(void)state;
	sqlite3 *db = test_db();
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(cat_school_add(db, "school-a", "Alder", "", err, sizeof err), 0);
	assert_int_equal(cat_school_add(db, "school-b", "Birch", "", err, sizeof err), 0);
	struct kd_user coach = make_user(db, "coach", KD_ROLE_COACH, "school-a", 1);
	struct kd_user other = make_user(db, "other", KD_ROLE_TEACHER, "school-b", 2);
	const char *practices[] = {"differentiation"};
	struct cat_clip_new c = {.title = "T", .school = "school-a", .practices = practices,
	                         .n_practices = 1, .consent = "on-file", .visibility = "district",
	                         .status = CAT_READY, .uploader_id = coach.id};
	int64_t open_id, school_id, id;
	assert_int_equal(cat_clip_create(db, &c, &open_id, err, sizeof err), 0);
	c.visibility = "school";
	assert_int_equal(cat_clip_create(db, &c, &school_id, err, sizeof err), 0);

	double at = 12.34, late = 3.0, bad = -1, nan_v = NAN;
	assert_int_equal(comments_add(db, &other, open_id, &at, "  look here\n", &id, err,
	                              sizeof err), 0);
	assert_int_equal(comments_add(db, &coach, open_id, NULL, "whole clip", &id, err,
	                              sizeof err), 0);
	assert_int_equal(comments_add(db, &coach, open_id, &late, "<b>early</b>", &id, err,
	                              sizeof err), 0);
	struct comment *list;
	size_t n;
	assert_int_equal(comments_list(db, &other, open_id, &list, &n), 0);
	assert_int_equal(n, 3);
	assert_true(list[0].has_at);
	assert_true(fabs(list[0].at_s - 3.0) < 1e-9);
	assert_string_equal(list[0].body, "<b>early</b>"); /* stored as typed: escaped on output */
	assert_true(fabs(list[1].at_s - 12.3) < 1e-9);     /* to a tenth of a second */
	assert_string_equal(list[1].body, "look here");    /* trimmed */
	assert_string_equal(list[1].author, "other");
	assert_false(list[2].has_at);
	comments_free(list, n);

	/* a clip the user may not see: nothing to read, nothing to add */
	assert_int_equal(comments_add(db, &other, school_id, NULL, "sneaky", &id, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_int_equal(comments_add(db, &coach, school_id, NULL, "mine", &id, err, sizeof err), 0);
	assert_int_equal(comments_list(db, &other, school_id, &list, &n), 0);
	assert_int_equal(n, 0);
	comments_free(list, n);
	assert_int_equal(comments_add(db, &other, 999, NULL, "x", &id, err, sizeof err),
	                 KD_ENOTFOUND);

	/* bad input */
	assert_int_equal(comments_add(db, &coach, open_id, NULL, " \n ", &id, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(comments_add(db, &coach, open_id, &bad, "x", &id, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(comments_add(db, &coach, open_id, &nan_v, "x", &id, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(comments_add(db, &coach, open_id, NULL, "bell\a", &id, err, sizeof err),
	                 KD_EINVAL);
	char *longbody = malloc(COMMENT_BODY_MAX + 2);
	memset(longbody, 'a', COMMENT_BODY_MAX + 1);
	longbody[COMMENT_BODY_MAX + 1] = '\0';
	assert_int_equal(comments_add(db, &coach, open_id, NULL, longbody, &id, err, sizeof err),
	                 KD_EINVAL);
	free(longbody);

	/* deleting the clip deletes its comments */
	assert_int_equal(cat_clip_delete(db, open_id), 0);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT count(*) FROM comments WHERE clip_id = ?1", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, open_id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	db_close(&db);
}

int main(void)
{
	users_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_and_attributes_are_escaped),
		cmocka_unit_test(search_words_are_marked_after_escaping),
		cmocka_unit_test(forms_and_urls),
		cmocka_unit_test(guessing_is_slowed_not_slept),
		cmocka_unit_test(slugs_and_charts_in_pages),
		cmocka_unit_test(comments_follow_the_clip_privacy),
	};
	return cmocka_run_group_tests_name("pages", tests, NULL, NULL);
}
