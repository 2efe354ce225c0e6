/* test_buf.c - the capped growable buffer. */
#include <stdio.h>

#include "helpers.h"
#include "kindling/buf.h"

static void appends_and_terminates(void **state)
{
	(void)state;
	struct kd_buf b = KD_BUF_INIT(1024);
	assert_string_equal(kd_buf_str(&b), "");
	assert_int_equal(kd_buf_puts(&b, "hello"), 0);
	assert_int_equal(kd_buf_putc(&b, ' '), 0);
	assert_int_equal(kd_buf_printf(&b, "%s %d", "world", 42), 0);
	assert_string_equal(kd_buf_str(&b), "hello world 42");
	assert_int_equal(b.len, 14);
	kd_buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void refuses_past_cap_and_keeps_content(void **state)
{
	(void)state;
	struct kd_buf b = KD_BUF_INIT(8);
	assert_int_equal(kd_buf_puts(&b, "12345678"), 0);
	assert_int_equal(kd_buf_putc(&b, '9'), KD_ETOOBIG);
	assert_int_equal(kd_buf_printf(&b, "%d", 1), KD_ETOOBIG);
	assert_string_equal(kd_buf_str(&b), "12345678");
	assert_int_equal(kd_buf_append(&b, "x", SIZE_MAX), KD_ETOOBIG);
	assert_int_equal(b.len, 8);
	kd_buf_release(&b);
}

static void grows_through_many_appends(void **state)
{
	(void)state;
	struct kd_buf b = KD_BUF_INIT(1 << 20);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(kd_buf_printf(&b, "%04d", i % 10000), 0);
	assert_int_equal(b.len, 40000);
	assert_memory_equal(b.data + 39996, "9999", 4);
	assert_int_equal(b.data[b.len], '\0');
	kd_buf_release(&b);
}

static void take_hands_over_and_empties(void **state)
{
	(void)state;
	struct kd_buf b = KD_BUF_INIT(64);
	size_t len = 99;
	char *empty = kd_buf_take(&b, &len);
	assert_string_equal(empty, "");
	assert_int_equal(len, 0);
	free(empty);
	kd_buf_puts(&b, "abc");
	char *s = kd_buf_take(&b, &len);
	assert_string_equal(s, "abc");
	assert_int_equal(len, 3);
	assert_null(b.data);
	kd_buf_puts(&b, "again");
	assert_string_equal(kd_buf_str(&b), "again");
	free(s);
	kd_buf_reset(&b);
	assert_string_equal(kd_buf_str(&b), "");
	kd_buf_release(&b);
}

/* printf formats into the room there is, or makes room and formats
 * again; past the cap it changes nothing. */
static void printf_fits_grows_and_refuses(void **state)
{
	(void)state;
	struct kd_buf b = KD_BUF_INIT(40);
	assert_int_equal(kd_buf_printf(&b, "%s-%d", "abc", 12), 0);
	assert_string_equal(kd_buf_str(&b), "abc-12");
	assert_int_equal(kd_buf_printf(&b, "%020d", 7), 0); /* past the first allocation */
	assert_string_equal(kd_buf_str(&b), "abc-1200000000000000000007");
	assert_int_equal(kd_buf_printf(&b, "%30s", "x"), KD_ETOOBIG);
	assert_string_equal(kd_buf_str(&b), "abc-1200000000000000000007");
	kd_buf_release(&b);
}

static void integers_as_printf_writes_them(void **state)
{
	(void)state;
	int64_t vs[] = {0, 1, -1, 9, 10, 12345, -987654321, INT64_MAX, INT64_MIN};
	for (size_t i = 0; i < sizeof vs / sizeof *vs; i++) {
		struct kd_buf b = KD_BUF_INIT(64);
		char want[32];
		snprintf(want, sizeof want, "%lld", (long long)vs[i]);
		assert_int_equal(kd_buf_put_i64(&b, vs[i]), 0);
		assert_string_equal(kd_buf_str(&b), want);
		kd_buf_release(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(appends_and_terminates),
		cmocka_unit_test(refuses_past_cap_and_keeps_content),
		cmocka_unit_test(grows_through_many_appends),
		cmocka_unit_test(take_hands_over_and_empties),
		cmocka_unit_test(printf_fits_grows_and_refuses),
		cmocka_unit_test(integers_as_printf_writes_them),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
