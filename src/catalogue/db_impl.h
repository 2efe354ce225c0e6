/*
 * db_impl.h - what a connection and a statement are, for the files of
 * src/catalogue/ that implement db.h.  Exactly one of lite and pg is set.
 */
#ifndef KINDLING_CATALOGUE_DB_IMPL_H
#define KINDLING_CATALOGUE_DB_IMPL_H

#include <sqlite3.h>

#include "db_pg.h"
#include "kindling/db.h"

struct kd_db {
	sqlite3 *lite;
	struct pg_conn *pg;
};

struct kd_stmt {
	struct kd_db *db;
	sqlite3_stmt *lite;
	struct pg_stmt *pg;
};

/* Prepare sql on db (db.c); persistent: the statement will be kept and
 * reused (stmt_cache.c). */
int db_prepare_kept(struct kd_db *db, const char *sql, bool persistent, struct kd_stmt **out);

#endif
