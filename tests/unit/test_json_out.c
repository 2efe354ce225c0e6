/* test_json_out.c - JSON written directly reads exactly as jansson writes
 * it (the server's answers may come from either). */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include <jansson.h>

#include "helpers.h"
#include "web/http.h"
#include "web/json_out.h"

static unsigned seed = 99;

static unsigned rnd(unsigned n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 16) % n;
}

/* What jansson writes for v, as the server does. */
static char *jansson_text(json_t *v)
{
	char *s = json_dumps(v, RESPOND_JSON_FLAGS | JSON_ENCODE_ANY);
	json_decref(v);
	assert_non_null(s);
	return s;
}

static void same_string(const char *s)
{
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	json_out_string(&b, s);
	char *want = jansson_text(json_string(s));
	assert_string_equal(kd_buf_str(&b), want);
	free(want);
	kd_buf_release(&b);
}

/* Append the UTF-8 of code point cp. */
static size_t utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static void strings_as_jansson(void **state)
{
	(void)state;
	const char *fixed[] = {"", "plain", "quote \" and \\ backslash", "tab\there\nnew\rline",
	                       "\b\f\x01\x1f\x7f", "/slash/", "Écoute — ça va? 中文 😀",
	                       "</script><!--"};
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		same_string(fixed[i]);
	/* random text of every kind of character */
	for (int k = 0; k < 2000; k++) {
		char s[256];
		size_t n = 0;
		while (n < sizeof s - 5) {
			unsigned kind = rnd(6), cp;
			if (kind == 0)
				cp = 1 + rnd(0x1f);
			else if (kind == 1)
				cp = 0x20 + rnd(0x60);
			else if (kind == 2)
				cp = 0x80 + rnd(0x780);
			else if (kind == 3)
				cp = 0x800 + rnd(0xd000);
			else if (kind == 4)
				cp = 0xe000 + rnd(0x2000);
			else
				cp = 0x10000 + rnd(0xfffff);
			if (cp >= 0xd800 && cp <= 0xdfff)
				continue;
			n += utf8(s + n, cp);
			if (rnd(20) == 0)
				break;
		}
		s[n] = '\0';
		same_string(s);
	}
}

/* Bytes that are not UTF-8 (the catalogue refuses them; if one got in
 * anyway) still make valid JSON. */
static void invalid_utf8_still_json(void **state)
{
	(void)state;
	const char *bad[] = {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	                     "ok\x80ok", "\xe2\x82"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
		json_out_string(&b, bad[i]);
		json_error_t e;
		json_t *v = json_loads(kd_buf_str(&b), JSON_DECODE_ANY, &e);
		assert_non_null(v);
		assert_true(json_is_string(v));
		assert_non_null(strstr(json_string_value(v), "\xef\xbf\xbd")); /* U+FFFD */
		json_decref(v);
		kd_buf_release(&b);
	}
}

static void numbers_as_jansson(void **state)
{
	(void)state;
	double reals[] = {0.0, 1.0, -1.0, 5.0, 29.97, 30000.0 / 1001.0, 1e21, 1.5e-7, 123456789.0,
	                  DBL_MAX, DBL_MIN, -0.0, 437.0, 0.1};
	for (size_t i = 0; i < sizeof reals / sizeof *reals; i++) {
		struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
		json_out_real(&b, reals[i]);
		char *want = jansson_text(json_real(reals[i]));
		assert_string_equal(kd_buf_str(&b), want);
		free(want);
		kd_buf_release(&b);
	}
	for (int k = 0; k < 5000; k++) {
		double v = ldexp((double)rnd(1u << 30), (int)rnd(120) - 60) * (rnd(2) ? 1 : -1);
		int64_t n = ((int64_t)rnd(1u << 30) << 31 | rnd(1u << 30)) * (rnd(2) ? 1 : -1);
		struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
		json_out_real(&b, v);
		kd_buf_putc(&b, ' ');
		json_out_int(&b, n);
		char *r = jansson_text(json_real(v)), *i = jansson_text(json_integer(n));
		char want[128];
		snprintf(want, sizeof want, "%s %s", r, i);
		assert_string_equal(kd_buf_str(&b), want);
		free(r);
		free(i);
		kd_buf_release(&b);
	}
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	json_out_int(&b, INT64_MIN);
	kd_buf_putc(&b, ',');
	json_out_int(&b, INT64_MAX);
	kd_buf_putc(&b, ',');
	json_out_real(&b, NAN);
	assert_string_equal(kd_buf_str(&b), "-9223372036854775808,9223372036854775807,null");
	kd_buf_release(&b);
}

/* An object and array built piece by piece parse back to what went in. */
static void pieces_make_an_object(void **state)
{
	(void)state;
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	char *items[] = {"a", "b\"c"};
	kd_buf_putc(&b, '{');
	json_out_key(&b, "list", true);
	json_out_strings(&b, items, 2);
	json_out_key(&b, "none", false);
	json_out_strings(&b, NULL, 0);
	json_out_key(&b, "yes", false);
	json_out_bool(&b, true);
	json_out_key(&b, "null", false);
	json_out_string(&b, NULL);
	kd_buf_putc(&b, '}');
	assert_string_equal(kd_buf_str(&b),
	                    "{\"list\":[\"a\",\"b\\\"c\"],\"none\":[],\"yes\":true,\"null\":null}");
	kd_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strings_as_jansson),
		cmocka_unit_test(invalid_utf8_still_json),
		cmocka_unit_test(numbers_as_jansson),
		cmocka_unit_test(pieces_make_an_object),
	};
	return cmocka_run_group_tests_name("json_out", tests, NULL, NULL);
}
