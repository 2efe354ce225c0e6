/* helpers.h - what the cmocka unit tests share. */
#ifndef KINDLING_TEST_HELPERS_H
#define KINDLING_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"

#include <stdio.h>
#include <unistd.h>

/* The catalogue tests run on SQLite (in memory), or on PostgreSQL when
 * KINDLING_TEST_DATABASE names a database (postgresql://...) of a
 * throwaway cluster (tests/pg_cluster.sh; `make unit-pg` starts one).
 * There each catalogue is a database of its own, copied from a migrated
 * template, and the copies of earlier tests are dropped as they go. */
static inline const char *test_pg_url(void)
{
	const char *u = getenv("KINDLING_TEST_DATABASE");
	return u && *u ? u : NULL;
}

static inline void test_pg_admin(const char *sql)
{
	struct kd_db *admin = NULL;
	char err[KD_ERRMSG_MAX] = "";
	if (db_connect(test_pg_url(), &admin, err, sizeof err) != 0)
		fail_msg("cannot connect to the test cluster: %s", err);
	if (db_exec(admin, sql) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(admin));
	db_close(&admin);
}

/* The URL of database name on the test cluster (dbname= overrides). */
static inline char *test_pg_url_of(const char *name)
{
	static char url[1024];
	const char *base = test_pg_url();
	snprintf(url, sizeof url, "%s%sdbname=%s", base, strchr(base, '?') ? "&" : "?", name);
	return url;
}

/* The name of the last database test_pg_db() made. */
static char test_pg_current[64];

/* A database with nothing in it (bare) or migrated, for this test. */
static inline struct kd_db *test_pg_db(bool bare)
{
	static int made;
	char sql[512], name[64], err[KD_ERRMSG_MAX] = "";
	struct kd_db *db = NULL;
	if (!made++) {
		/* once per test program: the template, migrated */
		if (db_connect(test_pg_url_of("kd_template"), &db, err, sizeof err) != 0) {
			test_pg_admin("CREATE DATABASE kd_template");
		} else {
			db_close(&db);
		}
		if (db_open(test_pg_url_of("kd_template"), &db, err, sizeof err) != 0)
			fail_msg("cannot migrate the template catalogue: %s", err);
		db_close(&db);
	} else {
		/* the catalogues of earlier tests, unless still open */
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS kd_t%d_%d", (int)getpid(), made - 1);
		struct kd_db *admin = NULL;
		if (db_connect(test_pg_url(), &admin, err, sizeof err) == 0) {
			db_exec(admin, sql);
			db_close(&admin);
		}
	}
	snprintf(name, sizeof name, "kd_t%d_%d", (int)getpid(), made);
	snprintf(test_pg_current, sizeof test_pg_current, "%s", name);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s%s", name, bare ? "" : " TEMPLATE kd_template");
	test_pg_admin(sql);
	int rc = bare ? db_connect(test_pg_url_of(name), &db, err, sizeof err)
	              : db_open(test_pg_url_of(name), &db, err, sizeof err);
	if (rc != 0)
		fail_msg("db_open: %s", err);
	return db;
}

/* A fresh, migrated catalogue. */
static inline struct kd_db *test_db(void)
{
	struct kd_db *db = NULL;
	char err[KD_ERRMSG_MAX] = "";
	kd_log_set_level(KD_LOG_WARN);
	if (test_pg_url())
		return test_pg_db(false);
	int rc = db_open(":memory:", &db, err, sizeof err);
	if (rc != 0)
		fail_msg("db_open: %s", err);
	return db;
}

/* A fresh database with no schema at all. */
static inline struct kd_db *test_db_bare(void)
{
	struct kd_db *db = NULL;
	char err[KD_ERRMSG_MAX] = "";
	if (test_pg_url())
		return test_pg_db(true);
	if (db_connect(":memory:", &db, err, sizeof err) != 0)
		fail_msg("db_connect: %s", err);
	return db;
}

/* The migrations of db's back end. */
static inline const struct db_migration *test_migrations(struct kd_db *db, size_t *n)
{
	bool pg = db_backend(db) == DB_POSTGRES;
	*n = pg ? db_pg_migrations_count : db_migrations_count;
	return pg ? db_pg_migrations : db_migrations;
}

/* Skip a test that is about one back end when running on the other. */
#define TEST_SQLITE_ONLY()                                                      \
	do {                                                                    \
		if (test_pg_url())                                              \
			skip();                                                 \
	} while (0)
#define TEST_POSTGRES_ONLY()                                                    \
	do {                                                                    \
		if (!test_pg_url())                                             \
			skip();                                                 \
	} while (0)

/* cmocka group fixtures: a fresh catalogue with one school in *state. */
static inline struct kd_db *test_db_with_school(const char *slug, const char *name)
{
	struct kd_db *db = test_db();
	char err[KD_ERRMSG_MAX];
	if (cat_school_add(db, slug, name, "", err, sizeof err) != 0)
		fail_msg("%s", err);
	return db;
}

static inline int test_db_teardown(void **state)
{
	struct kd_db *db = *state;
	db_close(&db);
	return 0;
}

/* Run one SQL statement that must succeed. */
static inline void test_exec(struct kd_db *db, const char *sql)
{
	if (db_exec(db, sql) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
}

#include <stdio.h>

#include "kindling/users.h"

/* A new account, as the catalogue would describe it to a request. */
static inline struct kd_user test_user(struct kd_db *db, const char *name, enum kd_role role, const char *school)
{
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	if (users_add(db, name, role, school, NULL, &id, err, sizeof err) != 0)
		fail_msg("users_add: %s", err);
	struct kd_user u = {.id = id, .role = role};
	snprintf(u.name, sizeof u.name, "%s", name);
	if (school) {
		struct kd_stmt *st;
		db_prepare(db, "SELECT id FROM schools WHERE slug = ?1", &st);
		db_bind_text(st, 1, school, -1, DB_STATIC);
		assert_int_equal(db_step(st), DB_ROW);
		u.school_id = db_column_int64(st, 0);
		db_finalize(st);
		snprintf(u.school, sizeof u.school, "%s", school);
	}
	return u;
}

#endif
