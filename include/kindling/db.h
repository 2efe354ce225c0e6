/*
 * db.h - opening the catalogue database and keeping its schema current.
 *
 * The catalogue is one SQLite file, catalogue.db, in the data folder.  Each
 * connection runs in WAL mode with foreign keys on and a busy timeout, so
 * the server, the command line and processing workers can share it.
 *
 * The schema is the numbered SQL files of schema/, compiled into the
 * binary.  db_open() applies the ones the file has not seen yet, each in
 * its own transaction, and records progress in PRAGMA user_version.  A file
 * whose user_version is newer than this binary knows is refused.
 *
 * A connection belongs to one thread at a time.  The server keeps a small
 * pool of them (db_pool_*).
 */
#ifndef KINDLING_DB_H
#define KINDLING_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* Results and types as both back ends report them: SQLite's numbers,
 * which the PostgreSQL driver maps its SQLSTATEs onto. */
#define DB_OK SQLITE_OK
#define DB_ERROR SQLITE_ERROR
#define DB_BUSY SQLITE_BUSY
#define DB_RANGE SQLITE_RANGE
#define DB_IOERR SQLITE_IOERR
#define DB_FULL SQLITE_FULL
#define DB_CONSTRAINT SQLITE_CONSTRAINT
#define DB_CONSTRAINT_CHECK SQLITE_CONSTRAINT_CHECK
#define DB_CONSTRAINT_FOREIGNKEY SQLITE_CONSTRAINT_FOREIGNKEY
#define DB_CONSTRAINT_NOTNULL SQLITE_CONSTRAINT_NOTNULL
#define DB_CONSTRAINT_UNIQUE SQLITE_CONSTRAINT_UNIQUE
#define DB_ROW SQLITE_ROW
#define DB_DONE SQLITE_DONE
#define DB_INTEGER SQLITE_INTEGER
#define DB_FLOAT SQLITE_FLOAT
#define DB_TEXT SQLITE_TEXT
#define DB_BLOB SQLITE_BLOB
#define DB_NULL SQLITE_NULL

/* One migration: its file name and its SQL.  Generated from schema/. */
struct db_migration {
	const char *name;
	const char *sql;
};
extern const struct db_migration db_migrations[];
extern const size_t db_migrations_count;

/* Open (creating if needed) the database at path, apply pending migrations
 * and set the connection options.  On success *out owns the connection:
 * close it with db_close().  On failure returns KD_EDB, KD_EVERSION or
 * KD_EIO and writes a message for a person into err. */
int db_open(const char *path, sqlite3 **out, char *err, size_t errlen);

/* Apply pending migrations to an open connection (db_open does this). */
int db_migrate(sqlite3 *db, char *err, size_t errlen);

/* Process-wide SQLite settings: call first thing in main(). */
void db_global_init(void);

/* The schema version this binary writes: the number of migrations. */
int db_schema_version(void);

/* Close a connection; NULL is a no-op.  Sets *db to NULL. */
void db_close(sqlite3 **db);

/* Run BEGIN IMMEDIATE / COMMIT / ROLLBACK.  Return 0 or KD_EDB/KD_EBUSY. */
int db_begin(sqlite3 *db);
int db_commit(sqlite3 *db);
void db_rollback(sqlite3 *db);

/* Translate a SQLITE_* result into a KD_E* code (0 for OK, DONE, ROW). */
int db_err(int sqlite_rc);
/* The same for a result known to be a failure: never 0. */
int db_err_code(int sqlite_rc);

/* A prepared statement for sql, kept prepared on db for the next caller:
 * sql must be a string that outlives db (a literal, as a rule).  Give it
 * back with db_stmt_done(), which resets it and clears its bindings; a
 * statement asked for again while still out is prepared anew and finalized
 * when done.  Returns 0 or KD_EDB (logged). */
int db_stmt(sqlite3 *db, const char *sql, sqlite3_stmt **st);
void db_stmt_done(sqlite3_stmt *st);
/* A number that changes whenever anything in the catalogue has changed
 * since this process last asked through any of its connections: a commit
 * by another connection or process, or by db itself.  What is kept in
 * memory from the catalogue (answers, sign-ins) is kept for one epoch.
 * Asking costs one statement. */
int64_t db_epoch(sqlite3 *db);

/* Finalize db's kept statements (db_close does). */
void db_stmt_forget(sqlite3 *db);

/* A fixed set of connections shared by threads. */
struct db_pool;

/* Open n connections to path.  Migrations must already be applied. */
int db_pool_open(const char *path, int n, struct db_pool **out, char *err, size_t errlen);
/* Borrow a connection, waiting while all are in use.  Never fails. */
sqlite3 *db_pool_get(struct db_pool *pool);
/* Give a connection back. */
void db_pool_put(struct db_pool *pool, sqlite3 *db);
/* Close every connection; all must have been given back. */
void db_pool_close(struct db_pool **pool);

#endif
