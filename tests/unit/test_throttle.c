/* test_throttle.c - slowing down password guessing (src/web/throttle.h). */
#include <stdio.h>

#include "helpers.h"
#include "web/throttle.h"

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
	throttle_reset();
}

static void a_full_table_refuses_rather_than_forgets(void **state)
{
	(void)state;
	throttle_reset();
	time_t t = 2000000;
	for (int i = 0; i < 6; i++)
		throttle_fail("addr", "10.0.0.1", 5, t);
	assert_int_equal(throttle_wait("addr", "10.0.0.1", t), 5);
	/* far more failing names than the table holds, all within the half
	 * hour in which each still counts */
	char key[32];
	int refused = 0, room_said_no = 0;
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof key, "u%d", i);
		bool room = throttle_room("name", key, t + 1);
		long r = throttle_fail("name", key, 5, t + 1);
		refused += r == -1;
		room_said_no += !room;
		assert_true((r == -1) == !room); /* throttle_room tells beforehand */
	}
	assert_true(refused > 0);
	/* the lock is not forgotten, nor any count that was taken */
	assert_int_equal(throttle_wait("addr", "10.0.0.1", t + 1), 4);
	assert_int_equal(throttle_fail("addr", "10.0.0.1", 5, t + 6), 10);
	/* once the half hour has passed, quiet keys make room again */
	assert_true(throttle_room("name", "newcomer", t + THROTTLE_FORGET + 10));
	assert_true(throttle_fail("name", "newcomer", 5, t + THROTTLE_FORGET + 10) == 0);
	printf("# %d of 10000 failures found no room and were refused\n", refused);
	throttle_reset();
}

static void keys_land_where_nobody_can_choose(void **state)
{
	(void)state;
	/* Names that an unkeyed hash would put in one window do not crowd out
	 * a locked name: lock one, then fail with 5,000 names next to it. */
	throttle_reset();
	time_t t = 3000000;
	for (int i = 0; i < 7; i++)
		throttle_fail("name", "victim", 5, t);
	char key[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "victim%d", i);
		throttle_fail("name", key, 5, t);
	}
	assert_true(throttle_wait("name", "victim", t) > 0);
	throttle_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guessing_is_slowed_not_slept),
		cmocka_unit_test(a_full_table_refuses_rather_than_forgets),
		cmocka_unit_test(keys_land_where_nobody_can_choose),
	};
	return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}
