/* test_db_pg.c - the PostgreSQL driver (src/catalogue/db_pg.c) against a
 * real server: a throwaway cluster from Debian's postgresql package,
 * started for this test by tests/pg_cluster.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "catalogue/db_pg.h"
#include "kindling/db.h"
#include "kindling/mem.h"

static char cluster[] = "/tmp/kd-pg-unit-XXXXXX";
static char url[512];

static int start_cluster(void **state)
{
	(void)state;
	if (!mkdtemp(cluster))
		return -1;
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "bash tests/pg_cluster.sh start %s", cluster);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	bool got = fgets(url, sizeof url, p) != NULL;
	if (pclose(p) != 0 || !got) {
		fprintf(stderr, "cannot start a PostgreSQL cluster for the test\n");
		return -1;
	}
	url[strcspn(url, "\n")] = '\0';
	return 0;
}

static int stop_cluster(void **state)
{
	(void)state;
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "bash tests/pg_cluster.sh stop %s", cluster);
	return system(cmd) == 0 ? 0 : -1;
}

static struct pg_conn *connect_test(void)
{
	struct pg_conn *c = NULL;
	char err[512] = "";
	int rc = pg_open(url, &c, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "%s\n", err);
	assert_int_equal(rc, 0);
	return c;
}

static void expect_translation(const char *sql, const char *want, int want_max)
{
	int max = -1;
	char *got = pg_translate(sql, &max);
	assert_string_equal(got, want);
	assert_int_equal(max, want_max);
	free(got);
}

static void parameters_are_numbered_outside_quotes_and_comments(void **state)
{
	(void)state;
	expect_translation("SELECT 1", "SELECT 1", 0);
	expect_translation("SELECT ?1, ?2, ?1", "SELECT $1, $2, $1", 2);
	expect_translation("SELECT ?, ?", "SELECT $1, $2", 2);          /* as SQLite counts */
	expect_translation("SELECT ?3, ?", "SELECT $3, $4", 4);
	expect_translation("SELECT '?1', \"a?b\" FROM t WHERE x = ?2", "SELECT '?1', \"a?b\" FROM t WHERE x = $2", 2);
	expect_translation("SELECT 'it''s ?' || ?1", "SELECT 'it''s ?' || $1", 1);
	expect_translation("SELECT ?1 -- why ?2\n, ?3", "SELECT $1 -- why ?2\n, $3", 3);
	expect_translation("SELECT /* ?9 */ ?1", "SELECT /* ?9 */ $1", 1);
	expect_translation("SELECT 'unterminated ?1", "SELECT 'unterminated ?1", 0);
}

static void values_go_in_and_come_back_typed(void **state)
{
	(void)state;
	struct pg_conn *c = connect_test();
	assert_int_equal(pg_exec(c, "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY "
	                            "PRIMARY KEY, n bigint, x double precision, s text, b bytea, "
	                            "UNIQUE (s))"),
	                 DB_OK);
	struct pg_stmt *ins;
	static const char insert_sql[] = "INSERT INTO t (n, x, s, b) VALUES (?1, ?2, ?3, ?4) RETURNING id";
	assert_int_equal(pg_prepare(c, insert_sql, &ins), DB_OK);
	assert_ptr_equal(pg_sql(ins), insert_sql);
	static const unsigned char bytes[] = {0, 1, 2, 0xff, '\\', 'x'};
	assert_int_equal(pg_bind_int64(ins, 1, -9007199254740993LL), DB_OK);
	assert_int_equal(pg_bind_double(ins, 2, 2.5), DB_OK);
	assert_int_equal(pg_bind_text(ins, 3, "élève 'quoted' ?1", -1), DB_OK);
	assert_int_equal(pg_bind_blob(ins, 4, bytes, (int)sizeof bytes), DB_OK);
	assert_int_equal(pg_step(ins), DB_ROW);
	assert_int_equal(pg_column_type(ins, 0), DB_INTEGER);
	assert_int_equal(pg_column_int64(ins, 0), 1);
	assert_int_equal(pg_step(ins), DB_DONE);
	assert_int_equal(pg_changes(c), 1);

	/* the same statement again with other types: a NULL, a shorter text */
	pg_reset(ins);
	pg_clear_bindings(ins);
	assert_int_equal(pg_bind_null(ins, 1), DB_OK);
	assert_int_equal(pg_bind_text(ins, 3, "abcdef", 3), DB_OK);
	assert_int_equal(pg_step(ins), DB_ROW);
	assert_int_equal(pg_column_int64(ins, 0), 2);
	pg_finalize(ins);

	struct pg_stmt *sel;
	assert_int_equal(pg_prepare(c, "SELECT n, x, s, b FROM t WHERE id = ?1", &sel), DB_OK);
	assert_int_equal(pg_bind_int64(sel, 1, 1), DB_OK);
	assert_int_equal(pg_step(sel), DB_ROW);
	assert_int_equal(pg_column_count(sel), 4);
	assert_int_equal(pg_column_int64(sel, 0), -9007199254740993LL);
	assert_int_equal(pg_column_type(sel, 1), DB_FLOAT);
	assert_true(pg_column_double(sel, 1) == 2.5);
	assert_int_equal(pg_column_type(sel, 2), DB_TEXT);
	assert_string_equal(pg_column_text(sel, 2), "élève 'quoted' ?1");
	assert_int_equal(pg_column_type(sel, 3), DB_BLOB);
	assert_int_equal(pg_column_bytes(sel, 3), (int)sizeof bytes);
	assert_memory_equal(pg_column_blob(sel, 3), bytes, sizeof bytes);
	assert_int_equal(pg_step(sel), DB_DONE);

	pg_reset(sel);
	assert_int_equal(pg_bind_int64(sel, 1, 2), DB_OK);
	assert_int_equal(pg_step(sel), DB_ROW);
	assert_int_equal(pg_column_type(sel, 0), DB_NULL);
	assert_null(pg_column_text(sel, 0));
	assert_string_equal(pg_column_text(sel, 2), "abc");
	assert_int_equal(pg_column_type(sel, 3), DB_NULL);
	pg_finalize(sel);

	/* a NULL where nothing implies a type, as the catalogue's optional
	 * filters are written; and a parameter left unbound is a NULL */
	assert_int_equal(pg_prepare(c, "SELECT count(*) FROM t WHERE ?1 IS NULL OR s = ?1", &sel),
	                 DB_OK);
	assert_int_equal(pg_step(sel), DB_ROW);
	assert_int_equal(pg_column_int64(sel, 0), 2);
	pg_reset(sel);
	pg_bind_text(sel, 1, "abc", -1);
	assert_int_equal(pg_step(sel), DB_ROW);
	assert_int_equal(pg_column_int64(sel, 0), 1);
	pg_finalize(sel);
	pg_close(c);
}

static void errors_come_back_as_codes_with_the_server_s_message(void **state)
{
	(void)state;
	struct pg_conn *c = connect_test();
	assert_int_equal(pg_exec(c, "CREATE TABLE p (id bigint PRIMARY KEY, name text NOT NULL "
	                            "CHECK (name <> ''));"
	                            "CREATE TABLE k (p_id bigint REFERENCES p (id))"),
	                 DB_OK);
	struct pg_stmt *st;
	assert_int_equal(pg_prepare(c, "INSERT INTO p (id, name) VALUES (?1, ?2)", &st), DB_OK);
	pg_bind_int64(st, 1, 1);
	pg_bind_text(st, 2, "a", -1);
	assert_int_equal(pg_step(st), DB_DONE);
	pg_reset(st);
	assert_int_equal(pg_step(st), DB_CONSTRAINT_UNIQUE);
	assert_non_null(strstr(pg_errmsg(c), "duplicate key"));
	pg_reset(st);
	pg_bind_int64(st, 1, 2);
	pg_bind_null(st, 2);
	assert_int_equal(pg_step(st), DB_CONSTRAINT_NOTNULL);
	pg_reset(st);
	pg_bind_text(st, 2, "", -1);
	assert_int_equal(pg_step(st), DB_CONSTRAINT_CHECK);
	pg_finalize(st);
	assert_int_equal(pg_exec(c, "INSERT INTO k VALUES (42)"), DB_CONSTRAINT_FOREIGNKEY);
	assert_int_equal(pg_prepare(c, "SELECT nothing FROM nowhere", &st), DB_OK);
	assert_int_equal(pg_step(st), DB_ERROR);
	assert_non_null(strstr(pg_errmsg(c), "nowhere"));
	pg_finalize(st);
	/* the connection is still good after its errors */
	assert_int_equal(pg_exec(c, "SELECT 1"), DB_OK);
	pg_close(c);
}

static void transactions_are_seen_and_rolled_back(void **state)
{
	(void)state;
	struct pg_conn *a = connect_test(), *b = connect_test();
	assert_int_equal(pg_exec(a, "CREATE TABLE tx (v int)"), DB_OK);
	assert_false(pg_in_transaction(a));
	assert_int_equal(pg_exec(a, "BEGIN; INSERT INTO tx VALUES (1)"), DB_OK);
	assert_true(pg_in_transaction(a));
	struct pg_stmt *count;
	assert_int_equal(pg_prepare(b, "SELECT count(*) FROM tx", &count), DB_OK);
	assert_int_equal(pg_step(count), DB_ROW);
	assert_int_equal(pg_column_int64(count, 0), 0); /* not committed: not seen */
	pg_reset(count);
	assert_int_equal(pg_exec(a, "ROLLBACK"), DB_OK);
	assert_false(pg_in_transaction(a));
	assert_int_equal(pg_exec(a, "BEGIN; INSERT INTO tx VALUES (2); COMMIT"), DB_OK);
	assert_int_equal(pg_step(count), DB_ROW);
	assert_int_equal(pg_column_int64(count, 0), 1);
	pg_finalize(count);
	pg_close(a);
	pg_close(b);
}

static void a_notification_wakes_a_listener(void **state)
{
	(void)state;
	struct pg_conn *listener = connect_test(), *other = connect_test();
	assert_int_equal(pg_listen(listener, "kindling_jobs"), DB_OK);
	assert_int_equal(pg_wait_notify(listener, 50), 0); /* nothing yet */
	assert_int_equal(pg_exec(other, "NOTIFY kindling_jobs"), DB_OK);
	assert_int_equal(pg_wait_notify(listener, 5000), 1);
	assert_int_equal(pg_wait_notify(listener, 50), 0); /* taken */
	/* a notification of a transaction rolled back never comes */
	assert_int_equal(pg_exec(other, "BEGIN; NOTIFY kindling_jobs; ROLLBACK"), DB_OK);
	assert_int_equal(pg_wait_notify(listener, 200), 0);
	pg_close(listener);
	pg_close(other);
}

static void a_lost_connection_is_made_again(void **state)
{
	(void)state;
	struct pg_conn *c = connect_test(), *killer = connect_test();
	struct pg_stmt *st;
	assert_int_equal(pg_prepare(c, "SELECT pg_backend_pid()", &st), DB_OK);
	assert_int_equal(pg_step(st), DB_ROW);
	int64_t pid = pg_column_int64(st, 0);
	pg_reset(st);
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)pid);
	assert_int_equal(pg_exec(killer, sql), DB_OK);
	usleep(100 * 1000);
	/* the request that finds the connection gone fails, saying so... */
	assert_int_equal(pg_step(st), DB_IOERR);
	pg_reset(st);
	/* ...and the next one works on a new connection, its statement prepared again */
	assert_int_equal(pg_step(st), DB_ROW);
	assert_true(pg_column_int64(st, 0) != pid);
	pg_finalize(st);
	pg_close(c);
	pg_close(killer);
}

static void a_refused_connection_says_what_to_check(void **state)
{
	(void)state;
	struct pg_conn *c = NULL;
	char err[512] = "", bad[600];
	snprintf(bad, sizeof bad, "postgresql:///nosuchdb?host=%s&user=kindling", cluster);
	assert_int_equal(pg_open(bad, &c, err, sizeof err), KD_EIO);
	assert_null(c);
	assert_non_null(strstr(err, "nosuchdb"));
	assert_non_null(strstr(err, "database setting"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parameters_are_numbered_outside_quotes_and_comments),
		cmocka_unit_test(values_go_in_and_come_back_typed),
		cmocka_unit_test(errors_come_back_as_codes_with_the_server_s_message),
		cmocka_unit_test(transactions_are_seen_and_rolled_back),
		cmocka_unit_test(a_notification_wakes_a_listener),
		cmocka_unit_test(a_lost_connection_is_made_again),
		cmocka_unit_test(a_refused_connection_says_what_to_check),
	};
	return cmocka_run_group_tests_name("db_pg", tests, start_cluster, stop_cluster);
}
