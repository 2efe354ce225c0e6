/* db_stmt.c - the statement calls of db.h, each passed to SQLite or to the
 * PostgreSQL driver (db_pg.c), and the notifications of processing work. */
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "db_impl.h"
#include "pg_epoch.h"
#include "kindling/err.h"
#include "kindling/mem.h"

int db_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return KD_EBUSY;
	case SQLITE_CONSTRAINT:
		return KD_EEXIST;
	case SQLITE_NOMEM:
		return KD_ENOMEM;
	default:
		return KD_EDB;
	}
}

int db_err_code(int rc)
{
	int e = db_err(rc);
	return e ? e : KD_EDB;
}

int db_prepare_kept(struct kd_db *db, const char *sql, bool persistent, struct kd_stmt **out)
{
	struct kd_stmt *st = kd_calloc(1, sizeof *st);
	st->db = db;
	int rc = db->pg ? pg_prepare(db->pg, sql, &st->pg)
	                : sqlite3_prepare_v3(db->lite, sql, -1,
	                                     persistent ? SQLITE_PREPARE_PERSISTENT : 0, &st->lite,
	                                     NULL);
	if (rc != DB_OK) {
		free(st);
		*out = NULL;
		return rc;
	}
	*out = st;
	return DB_OK;
}

int db_prepare(struct kd_db *db, const char *sql, struct kd_stmt **out)
{
	return db_prepare_kept(db, sql, false, out);
}

/* A write outside a transaction has committed: tell the other processes,
 * and move this one's epoch on (pg_epoch.h). */
static void pg_autocommitted(struct pg_conn *c)
{
	if (!pg_in_transaction(c) && pg_take_wrote(c)) {
		pg_notify_quietly(c, PG_EPOCH_CHANNEL);
		pg_epoch_committed();
	}
}

int db_step(struct kd_stmt *st)
{
	if (!st->pg)
		return sqlite3_step(st->lite);
	int rc = pg_step(st->pg);
	pg_autocommitted(pg_conn_of(st->pg));
	return rc;
}

int db_reset(struct kd_stmt *st)
{
	if (st->pg) {
		pg_reset(st->pg);
		return DB_OK;
	}
	return sqlite3_reset(st->lite);
}

int db_clear_bindings(struct kd_stmt *st)
{
	if (st->pg) {
		pg_clear_bindings(st->pg);
		return DB_OK;
	}
	return sqlite3_clear_bindings(st->lite);
}

void db_finalize(struct kd_stmt *st)
{
	if (!st)
		return;
	if (st->pg)
		pg_finalize(st->pg);
	else
		sqlite3_finalize(st->lite);
	free(st);
}

int db_bind_int(struct kd_stmt *st, int i, int v)
{
	return st->pg ? pg_bind_int64(st->pg, i, v) : sqlite3_bind_int(st->lite, i, v);
}

int db_bind_int64(struct kd_stmt *st, int i, int64_t v)
{
	return st->pg ? pg_bind_int64(st->pg, i, v) : sqlite3_bind_int64(st->lite, i, v);
}

int db_bind_double(struct kd_stmt *st, int i, double v)
{
	return st->pg ? pg_bind_double(st->pg, i, v) : sqlite3_bind_double(st->lite, i, v);
}

int db_bind_text(struct kd_stmt *st, int i, const char *s, int n, db_destructor how)
{
	return st->pg ? pg_bind_text(st->pg, i, s, n) : sqlite3_bind_text(st->lite, i, s, n, how);
}

int db_bind_blob(struct kd_stmt *st, int i, const void *p, int n, db_destructor how)
{
	return st->pg ? pg_bind_blob(st->pg, i, p, n) : sqlite3_bind_blob(st->lite, i, p, n, how);
}

int db_bind_null(struct kd_stmt *st, int i)
{
	return st->pg ? pg_bind_null(st->pg, i) : sqlite3_bind_null(st->lite, i);
}

bool db_has_param(struct kd_stmt *st, int i)
{
	if (st->pg)
		return pg_has_param(st->pg, i);
	char name[16];
	snprintf(name, sizeof name, "?%d", i);
	return sqlite3_bind_parameter_index(st->lite, name) != 0;
}

int db_column_count(struct kd_stmt *st)
{
	return st->pg ? pg_column_count(st->pg) : sqlite3_column_count(st->lite);
}

int db_column_type(struct kd_stmt *st, int col)
{
	return st->pg ? pg_column_type(st->pg, col) : sqlite3_column_type(st->lite, col);
}

int db_column_int(struct kd_stmt *st, int col)
{
	return st->pg ? (int)pg_column_int64(st->pg, col) : sqlite3_column_int(st->lite, col);
}

int64_t db_column_int64(struct kd_stmt *st, int col)
{
	return st->pg ? pg_column_int64(st->pg, col) : sqlite3_column_int64(st->lite, col);
}

double db_column_double(struct kd_stmt *st, int col)
{
	return st->pg ? pg_column_double(st->pg, col) : sqlite3_column_double(st->lite, col);
}

const unsigned char *db_column_text(struct kd_stmt *st, int col)
{
	return st->pg ? (const unsigned char *)pg_column_text(st->pg, col)
	              : sqlite3_column_text(st->lite, col);
}

const void *db_column_blob(struct kd_stmt *st, int col)
{
	return st->pg ? pg_column_blob(st->pg, col) : sqlite3_column_blob(st->lite, col);
}

int db_column_bytes(struct kd_stmt *st, int col)
{
	return st->pg ? pg_column_bytes(st->pg, col) : sqlite3_column_bytes(st->lite, col);
}

struct kd_db *db_of(struct kd_stmt *st)
{
	return st->db;
}

const char *db_sql(struct kd_stmt *st)
{
	return st->pg ? pg_sql(st->pg) : sqlite3_sql(st->lite);
}

int db_exec(struct kd_db *db, const char *sql)
{
	if (!db->pg)
		return sqlite3_exec(db->lite, sql, NULL, NULL, NULL);
	int rc = pg_exec(db->pg, sql);
	pg_autocommitted(db->pg);
	return rc;
}

const char *db_errmsg(struct kd_db *db)
{
	return db->pg ? pg_errmsg(db->pg) : sqlite3_errmsg(db->lite);
}

int64_t db_changes(struct kd_db *db)
{
	return db->pg ? pg_changes(db->pg) : sqlite3_changes64(db->lite);
}

bool db_in_transaction(struct kd_db *db)
{
	return db->pg ? pg_in_transaction(db->pg) : !sqlite3_get_autocommit(db->lite);
}

int db_listen(struct kd_db *db, const char *channel)
{
	if (!db->pg || pg_listen(db->pg, channel) != DB_OK)
		return -1;
	return pg_socket(db->pg);
}

int db_heard(struct kd_db *db)
{
	return db->pg ? pg_drain_notify(db->pg) : 0;
}

int db_notify(struct kd_db *db, const char *channel)
{
	if (!db->pg)
		return 0;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT pg_notify(?1, '')", &st) != DB_OK)
		return KD_EDB;
	db_bind_text(st, 1, channel, -1, DB_STATIC);
	int rc = db_step(st);
	db_finalize(st);
	return rc == DB_ROW ? 0 : db_err_code(rc);
}

