/* test_db.c - opening, migrating and refusing newer catalogues. */
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/wait.h>

#include "helpers.h"
#include "kindling/fs.h"
#include "kindling/mem.h"

static int int_query(struct kd_db *db, const char *sql)
{
	struct kd_stmt *st;
	assert_int_equal(db_prepare(db, sql, &st), DB_OK);
	assert_int_equal(db_step(st), DB_ROW);
	int v = db_column_int(st, 0);
	db_finalize(st);
	return v;
}

static void fresh_database_gets_every_migration(void **state)
{
	(void)state;
	struct kd_db *db = test_db();
	bool pg = db_backend(db) == DB_POSTGRES;
	assert_true(db_schema_version() >= 1);
	assert_int_equal(db_pg_migrations_count, db_migrations_count);
	assert_int_equal(int_query(db, pg ? "SELECT max(version) FROM kindling_schema"
	                                  : "PRAGMA user_version"),
	                 db_schema_version());
	if (!pg)
		assert_int_equal(int_query(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(int_query(db, "SELECT count(*) FROM practices"), 10);
	assert_int_equal(
		int_query(db, "SELECT count(*) FROM practices WHERE slug = 'blended-learning'"), 1);
	/* every table of the domain is there */
	const char *tables[] = {"schools", "practices", "users", "tokens", "sessions", "clips",
	                        "clip_practices", "clip_tags", "comments", "visits", "views",
	                        "jobs", "clips_fts"};
	for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
		char sql[160];
		snprintf(sql, sizeof sql,
		         pg ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
		              "current_schema() AND table_name = '%s'"
		            : "SELECT count(*) FROM sqlite_master WHERE name = '%s'",
		         tables[i]);
		assert_int_equal(int_query(db, sql), 1);
	}
	db_close(&db);
	assert_null(db);
}

#include <pthread.h>

struct opener {
	const char *where;
	int rc;
	char err[KD_ERRMSG_MAX];
};

static void *open_one(void *arg)
{
	struct opener *o = arg;
	struct kd_db *db = NULL;
	o->rc = db_open(o->where, &db, o->err, sizeof o->err);
	db_close(&db);
	return NULL;
}

/* Nodes that start together on an empty PostgreSQL catalogue: each
 * migration is applied once (the advisory lock), and every node opens. */
static void nodes_starting_together_migrate_once(void **state)
{
	(void)state;
	TEST_POSTGRES_ONLY();
	struct kd_db *bare = test_db_bare();
	char url[1024];
	snprintf(url, sizeof url, "%s", test_pg_url_of(test_pg_current));
	enum { N = 6 };
	pthread_t t[N];
	struct opener o[N];
	for (int i = 0; i < N; i++) {
		o[i] = (struct opener){.where = url};
		assert_int_equal(pthread_create(&t[i], NULL, open_one, &o[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		if (o[i].rc != 0)
			fail_msg("node %d: %s", i, o[i].err);
	}
	assert_int_equal(int_query(bare, "SELECT count(*) FROM kindling_schema"), db_schema_version());
	assert_int_equal(int_query(bare, "SELECT count(*) FROM practices"), 10);
	/* a catalogue from a newer kindling is refused, as on SQLite */
	test_exec(bare, "INSERT INTO kindling_schema (version, name) VALUES (999, 'later.sql')");
	struct kd_db *db = NULL;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(db_open(url, &db, err, sizeof err), KD_EVERSION);
	assert_non_null(strstr(err, "999"));
	db_close(&bare);
}

static void reopening_is_idempotent_and_uses_wal(void **state)
{
	(void)state;
	char dir[] = "/tmp/kd-db-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = kd_path_join(dir, "catalogue.db");
	char err[KD_ERRMSG_MAX] = "";
	struct kd_db *db;
	assert_int_equal(db_open(path, &db, err, sizeof err), 0);
	test_exec(db, "INSERT INTO schools (slug, name) VALUES ('a', 'A')");
	db_close(&db);
	assert_int_equal(db_open(path, &db, err, sizeof err), 0);
	assert_int_equal(int_query(db, "SELECT count(*) FROM schools"), 1);
	assert_int_equal(int_query(db, "SELECT count(*) FROM practices"), 10);
	struct kd_stmt *st;
	assert_int_equal(db_prepare(db, "PRAGMA journal_mode", &st), DB_OK);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal((const char *)db_column_text(st, 0), "wal");
	db_finalize(st);
	db_close(&db);
	free(path);
	kd_remove_tree(dir);
}

/* The epoch moves with every commit, by this connection, another, or
 * another process (the sqlite3 shell), and with nothing else. */
/* Whether this process still holds its share of the WAL index (the read
 * lock on byte 128 of the -shm file, walformat.html's DMS lock): without
 * it, another process finding no one there starts the index again, cutting
 * the file to 3 bytes under this one's readers.  Asked by a child, since a
 * process never sees its own locks with F_GETLK. */
static bool holds_wal_index(const char *shm)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(shm, O_RDWR);
		struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 128, .l_len = 1};
		_exit(fd >= 0 && fcntl(fd, F_GETLK, &l) == 0 && l.l_type == F_RDLCK ? 0 : 1);
	}
	int status;
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

static void epoch_follows_every_commit(void **state)
{
	(void)state;
	char dir[] = "/tmp/kd-db-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = kd_path_join(dir, "catalogue.db");
	char err[KD_ERRMSG_MAX] = "";
	struct kd_db *db, *other;
	assert_int_equal(db_open(path, &db, err, sizeof err), 0);
	assert_int_equal(db_open(path, &other, err, sizeof err), 0);
	char *shm = kd_asprintf("%s-shm", path);
	int64_t e = db_epoch(db);
	assert_true(holds_wal_index(shm));
	assert_int_equal(db_epoch(db), e);
	assert_int_equal(db_epoch(other), e);
	(void)int_query(db, "SELECT count(*) FROM schools"); /* reading is no change */
	assert_int_equal(db_epoch(db), e);
	test_exec(db, "INSERT INTO schools (slug, name) VALUES ('a', 'A')");
	int64_t e2 = db_epoch(other);
	assert_true(e2 > e);
	assert_int_equal(db_epoch(db), e2);
	test_exec(other, "UPDATE schools SET name = 'B'");
	int64_t e3 = db_epoch(db);
	assert_true(e3 > e2);
	for (int i = 0; i < 3; i++) { /* each commit of another process, one after another */
		char cmd[512];
		snprintf(cmd, sizeof cmd,
		         "sqlite3 -cmd '.timeout 5000' %s \"UPDATE schools SET name = name || 'x'\"", path);
		assert_int_equal(system(cmd), 0);
		int64_t e4 = db_epoch(db);
		assert_true(e4 > e3);
		e3 = e4;
		assert_true(holds_wal_index(shm));
		assert_int_equal(int_query(db, "SELECT count(*) FROM schools"), 1);
	}
	/* a transaction rolled back is nothing to see */
	test_exec(db, "BEGIN; UPDATE schools SET name = 'C'; ROLLBACK");
	assert_int_equal(db_epoch(db), e3);
	db_close(&other);
	db_close(&db);
	free(shm);
	free(path);
	kd_remove_tree(dir);
}

static void newer_database_is_refused_with_a_message(void **state)
{
	(void)state;
	char dir[] = "/tmp/kd-db-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = kd_path_join(dir, "catalogue.db");
	char err[KD_ERRMSG_MAX] = "";
	struct kd_db *db;
	assert_int_equal(db_open(path, &db, err, sizeof err), 0);
	test_exec(db, "PRAGMA user_version = 999");
	db_close(&db);
	assert_int_equal(db_open(path, &db, err, sizeof err), KD_EVERSION);
	assert_non_null(strstr(err, "newer"));
	assert_non_null(strstr(err, "999"));
	free(path);
	kd_remove_tree(dir);
}

static void foreign_keys_and_checks_are_enforced(void **state)
{
	(void)state;
	struct kd_db *db = test_db();
	assert_int_not_equal(
		db_exec(db, "INSERT INTO clips (title, school_id) VALUES ('t', 42)"),
		DB_OK);
	assert_int_not_equal(
		db_exec(db, "INSERT INTO schools (slug, name) VALUES ('Bad Slug', 'x')"),
		DB_OK);
	test_exec(db, "INSERT INTO schools (slug, name) VALUES ('s', 'S')");
	assert_int_not_equal(db_exec(db, "INSERT INTO clips (title, school_id, status) "
	                                  "VALUES ('t', 1, 'done')"),
	                     DB_OK);
	db_close(&db);
}

static void pool_hands_out_and_takes_back(void **state)
{
	(void)state;
	char dir[] = "/tmp/kd-db-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = kd_path_join(dir, "catalogue.db");
	char err[KD_ERRMSG_MAX] = "";
	struct kd_db *db;
	assert_int_equal(db_open(path, &db, err, sizeof err), 0);
	db_close(&db);
	struct db_pool *pool;
	assert_int_equal(db_pool_open(path, 2, &pool, err, sizeof err), 0);
	struct kd_db *a = db_pool_get(pool), *b = db_pool_get(pool);
	assert_ptr_not_equal(a, b);
	assert_int_equal(db_begin(a), 0); /* an open transaction is rolled back on return */
	db_pool_put(pool, a);
	assert_true(!db_in_transaction(a));
	db_pool_put(pool, b);
	db_pool_close(&pool);
	assert_null(pool);
	free(path);
	kd_remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fresh_database_gets_every_migration),
		cmocka_unit_test(nodes_starting_together_migrate_once),
		cmocka_unit_test(reopening_is_idempotent_and_uses_wal),
		cmocka_unit_test(epoch_follows_every_commit),
		cmocka_unit_test(newer_database_is_refused_with_a_message),
		cmocka_unit_test(foreign_keys_and_checks_are_enforced),
		cmocka_unit_test(pool_hands_out_and_takes_back),
	};
	return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
