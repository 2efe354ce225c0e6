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

/* Run one SQL statement that must succeed. */
static inline void test_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

#endif
