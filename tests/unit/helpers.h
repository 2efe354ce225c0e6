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
#include <sqlite3.h>

#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"

/* A fresh, migrated in-memory catalogue. */
static inline sqlite3 *test_db(void)
{
	sqlite3 *db = NULL;
	char err[KD_ERRMSG_MAX] = "";
	kd_log_set_level(KD_LOG_WARN);
	int rc = db_open(":memory:", &db, err, sizeof err);
	if (rc != 0)
		fail_msg("db_open: %s", err);
	return db;
}

/* cmocka group fixtures: a fresh catalogue with one school in *state. */
static inline sqlite3 *test_db_with_school(const char *slug, const char *name)
{
	sqlite3 *db = test_db();
	char err[KD_ERRMSG_MAX];
	if (cat_school_add(db, slug, name, "", err, sizeof err) != 0)
		fail_msg("%s", err);
	return db;
}

static inline int test_db_teardown(void **state)
{
	sqlite3 *db = *state;
	db_close(&db);
	return 0;
}

/* Run one SQL statement that must succeed. */
static inline void test_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

#include <stdio.h>

#include "kindling/users.h"

/* A new account, as the catalogue would describe it to a request. */
static inline struct kd_user test_user(sqlite3 *db, const char *name, enum kd_role role, const char *school)
{
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	if (users_add(db, name, role, school, NULL, &id, err, sizeof err) != 0)
		fail_msg("users_add: %s", err);
	struct kd_user u = {.id = id, .role = role};
	snprintf(u.name, sizeof u.name, "%s", name);
	if (school) {
		sqlite3_stmt *st;
		sqlite3_prepare_v2(db, "SELECT id FROM schools WHERE slug = ?1", -1, &st, NULL);
		sqlite3_bind_text(st, 1, school, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		u.school_id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		snprintf(u.school, sizeof u.school, "%s", school);
	}
	return u;
}

#endif
