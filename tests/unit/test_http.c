/* test_http.c - parsers of what arrives over HTTP: Range, PATCH bodies. */
#include "helpers.h"
#include "web/api.h"
#include "web/auth.h"
#include "web/http.h"
#include "web/media_files.h"

static void ranges(void **state)
{
	(void)state;
	uint64_t a = 0, b = 0;
	assert_int_equal(http_parse_range("bytes=0-99", 1000, &a, &b), 1);
	assert_int_equal(a, 0);
	assert_int_equal(b, 99);
	assert_int_equal(http_parse_range("bytes=900-", 1000, &a, &b), 1);
	assert_int_equal(a, 900);
	assert_int_equal(b, 999);
	assert_int_equal(http_parse_range("bytes=-100", 1000, &a, &b), 1);
	assert_int_equal(a, 900);
	assert_int_equal(b, 999);
	assert_int_equal(http_parse_range("bytes=-5000", 1000, &a, &b), 1);
	assert_int_equal(a, 0);
	assert_int_equal(http_parse_range("bytes=500-99999", 1000, &a, &b), 1);
	assert_int_equal(b, 999); /* clamped to the end */
	assert_int_equal(http_parse_range("bytes=1000-", 1000, &a, &b), -1);
	assert_int_equal(http_parse_range("bytes=-0", 1000, &a, &b), -1);
	assert_int_equal(http_parse_range("bytes=0-", 0, &a, &b), -1);
	/* ignored: absent, several, other units, malformed, reversed */
	assert_int_equal(http_parse_range(NULL, 1000, &a, &b), 0);
	assert_int_equal(http_parse_range("bytes=0-1,5-6", 1000, &a, &b), 0);
	assert_int_equal(http_parse_range("items=0-1", 1000, &a, &b), 0);
	assert_int_equal(http_parse_range("bytes=abc", 1000, &a, &b), 0);
	assert_int_equal(http_parse_range("bytes=5-1", 1000, &a, &b), 0);
	assert_int_equal(http_parse_range("bytes=-", 1000, &a, &b), 0);
	assert_int_equal(http_parse_range("bytes=99999999999999999999999-", 1000, &a, &b), 0);
}

static int parse(const char *text, struct clip_edit_json *ej, char *err, json_t **keep)
{
	json_error_t jerr;
	*keep = json_loads(text, 0, &jerr);
	assert_non_null(*keep);
	return clip_edit_from_json(*keep, ej, err, KD_ERRMSG_MAX);
}

static void patch_bodies(void **state)
{
	(void)state;
	struct clip_edit_json ej;
	char err[KD_ERRMSG_MAX];
	json_t *v;
	assert_int_equal(parse("{\"title\": \"T\", \"practices\": [\"a\", \"b\"], \"tags\": [],"
	                       " \"recorded_on\": null}", &ej, err, &v), 0);
	assert_string_equal(ej.edit.title, "T");
	assert_true(ej.edit.set_practices);
	assert_int_equal(ej.edit.n_practices, 2);
	assert_string_equal(ej.edit.practices[1], "b");
	assert_true(ej.edit.set_tags);
	assert_int_equal(ej.edit.n_tags, 0);
	assert_string_equal(ej.edit.recorded_on, ""); /* null clears */
	assert_null(ej.edit.teacher);
	clip_edit_json_release(&ej);
	json_decref(v);

	const char *bad[][2] = {
		{"{\"title\": 5}", "title must be a string"},
		{"{\"practices\": \"a\"}", "array of practice slugs"},
		{"{\"practices\": [1]}", "array of practice slugs"},
		{"{\"tags\": [null]}", "array of strings"},
		{"{\"colour\": \"red\"}", "unknown field 'colour'"},
		{"[1, 2]", "JSON object"},
		{"{\"teacher\": null}", "teacher must be a string"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(parse(bad[i][0], &ej, err, &v), KD_EINVAL);
		if (!strstr(err, bad[i][1]))
			fail_msg("%s: '%s' lacks '%s'", bad[i][0], err, bad[i][1]);
		clip_edit_json_release(&ej);
		json_decref(v);
	}
}

static void csrf_rule(void **state)
{
	(void)state;
	assert_true(auth_csrf_needed("POST", "/api/v1/clips/3/views"));
	assert_true(auth_csrf_needed("PATCH", "/api/v1/visits/1"));
	assert_true(auth_csrf_needed("DELETE", "/api/v1/clips/1"));
	assert_true(auth_csrf_needed("POST", "/api/v1/uploads"));
	assert_false(auth_csrf_needed("GET", "/api/v1/visits/1/ics"));
	assert_false(auth_csrf_needed("HEAD", "/api/v1/uploads/x"));
	assert_false(auth_csrf_needed("OPTIONS", "/api/v1/uploads"));
	/* pages check their form field themselves */
	assert_false(auth_csrf_needed("POST", "/clips/1/visit"));
	assert_false(auth_csrf_needed("POST", "/api/v1"));
	assert_true(auth_csrf_equal("abcDEF_-12", "abcDEF_-12"));
	assert_false(auth_csrf_equal("abcDEF_-1", "abcDEF_-12"));
	assert_false(auth_csrf_equal("abcDEF_-123", "abcDEF_-12"));
	assert_false(auth_csrf_equal("xbcDEF_-12", "abcDEF_-12"));
	assert_false(auth_csrf_equal(NULL, "abc"));
	assert_false(auth_csrf_equal("", ""));
	assert_false(auth_csrf_equal("abc", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ranges),
		cmocka_unit_test(patch_bodies),
		cmocka_unit_test(csrf_rule),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
