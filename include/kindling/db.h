/*
 * db.h - the catalogue's database: opening it, keeping its schema current,
 * and running SQL on it, whichever engine holds it.
 *
 * Two back ends sit behind one API:
 *   - SQLite (the default): catalogue.db in the data folder, each
 *     connection in WAL mode with foreign keys on and a busy timeout, so the
 *     server, the command line and processing workers can share it;
 *   - PostgreSQL, when the configuration says `database = postgresql://...`
 *     (catalogue/db_pg.c, through libpq), for several nodes at once.
 * The catalogue's SQL is written once, in the dialect both speak; what
 * differs is kept in one place per back end (db_pg.h says what it
 * translates, schema/postgres/ provides the rest).
 *
 * The schema is the numbered SQL files of schema/ (SQLite) and
 * schema/postgres/ (the same numbers and names), compiled into the binary.
 * db_open() applies the ones the catalogue has not seen yet, each in its
 * own transaction, and records the version (PRAGMA user_version; a table
 * in PostgreSQL, where the migrations run under an advisory lock so that
 * nodes starting together apply each once).  A catalogue whose version is
 * newer than this binary knows is refused.
 *
 * A connection belongs to one thread at a time.  The server keeps a small
 * pool of them (db_pool_*).  The statement calls mirror SQLite's C API
 * (prepare, bind, step, column, finalize) and return its result codes.
 */
#ifndef KINDLING_DB_H
#define KINDLING_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Results and types as both back ends report them: SQLite's numbers
 * (db.c checks they match), which the PostgreSQL driver maps its
 * SQLSTATEs onto. */
#define DB_OK 0
#define DB_ERROR 1
#define DB_BUSY 5
#define DB_NOMEM 7
#define DB_IOERR 10
#define DB_FULL 13
#define DB_CONSTRAINT 19
#define DB_RANGE 25
#define DB_ROW 100
#define DB_DONE 101
#define DB_CONSTRAINT_CHECK (DB_CONSTRAINT | (1 << 8))
#define DB_CONSTRAINT_FOREIGNKEY (DB_CONSTRAINT | (3 << 8))
#define DB_CONSTRAINT_NOTNULL (DB_CONSTRAINT | (5 << 8))
#define DB_CONSTRAINT_UNIQUE (DB_CONSTRAINT | (8 << 8))
#define DB_INTEGER 1
#define DB_FLOAT 2
#define DB_TEXT 3
#define DB_BLOB 4
#define DB_NULL 5
/* How a bound text or blob is kept: the caller's until the statement is
 * reset (STATIC), or copied now (TRANSIENT).  PostgreSQL always copies. */
typedef void (*db_destructor)(void *);
#define DB_STATIC ((db_destructor)0)
#define DB_TRANSIENT ((db_destructor)-1)

/* A connection, and a statement prepared on one. */
struct kd_db;
struct kd_stmt;

/* Which engine a connection talks to. */
enum db_backend { DB_SQLITE, DB_POSTGRES };

/* One migration: its file name and its SQL.  Generated from schema/. */
struct db_migration {
	const char *name;
	const char *sql;
};
extern const struct db_migration db_migrations[];
extern const size_t db_migrations_count;
extern const struct db_migration db_pg_migrations[];
extern const size_t db_pg_migrations_count;

/* Open the catalogue at where: a postgresql:// (or postgres://) URL, or
 * else the path of a SQLite file (created if needed; ":memory:" for a
 * private one).  Applies pending migrations and sets the connection
 * options.  On success *out owns the connection: close it with
 * db_close().  On failure returns KD_EDB, KD_EVERSION or KD_EIO and writes
 * a message for a person into err. */
int db_open(const char *where, struct kd_db **out, char *err, size_t errlen);
/* Connect to where without touching its schema (db_open is this, then
 * db_migrate).  The same results. */
int db_connect(const char *where, struct kd_db **out, char *err, size_t errlen);
/* Does where name a PostgreSQL database? */
bool db_is_postgres_url(const char *where);
enum db_backend db_backend(const struct kd_db *db);
/* Copy an embedded (SQLite) catalogue to a new file at path while others
 * go on writing: SQLite's online backup, one read snapshot, so the copy is
 * the catalogue as it was at one commit.  The copy is written beside path,
 * checked (PRAGMA integrity_check), synced and renamed.  Returns 0;
 * KD_EINVAL for a PostgreSQL catalogue (pg_dump backs those up); KD_EIO or
 * KD_EDB with a sentence in err. */
int db_backup_to(struct kd_db *db, const char *path, char *err, size_t errlen);

/* Apply pending migrations to an open connection (db_open does this). */
int db_migrate(struct kd_db *db, char *err, size_t errlen);

/* Process-wide SQLite settings: call first thing in main(). */
void db_global_init(void);

/* The schema version this binary writes: the number of migrations. */
int db_schema_version(void);

/* Close a connection; NULL is a no-op.  Sets *db to NULL. */
void db_close(struct kd_db **db);

/* Run BEGIN IMMEDIATE / COMMIT / ROLLBACK.  Return 0 or KD_EDB/KD_EBUSY. */
int db_begin(struct kd_db *db);
int db_commit(struct kd_db *db);
void db_rollback(struct kd_db *db);

/* Translate a DB_* result into a KD_E* code (0 for OK, DONE, ROW). */
int db_err(int rc);
/* The same for a result known to be a failure: never 0. */
int db_err_code(int rc);

/* A prepared statement for sql, kept prepared on db for the next caller:
 * sql must be a string that outlives db (a literal, as a rule).  Give it
 * back with db_stmt_done(), which resets it and clears its bindings; a
 * statement asked for again while still out is prepared anew and finalized
 * when done.  Returns 0 or KD_EDB (logged). */
int db_stmt(struct kd_db *db, const char *sql, struct kd_stmt **st);
void db_stmt_done(struct kd_stmt *st);
/* A number that changes whenever anything in the catalogue has changed
 * since this process last asked through any of its connections: a commit
 * by another connection or process, or by db itself.  What is kept in
 * memory from the catalogue (answers, sign-ins) is kept for one epoch.
 * Asking costs one statement. */
int64_t db_epoch(struct kd_db *db);

/* Statements, as SQLite's C API has them (sqlite3_prepare_v2 and so on),
 * on either back end.  A statement from db_prepare() is the caller's to
 * db_finalize(); one from db_stmt() goes back with db_stmt_done(). */
int db_prepare(struct kd_db *db, const char *sql, struct kd_stmt **out);
int db_step(struct kd_stmt *st);
int db_reset(struct kd_stmt *st);
int db_clear_bindings(struct kd_stmt *st);
void db_finalize(struct kd_stmt *st);
int db_bind_int(struct kd_stmt *st, int i, int v);
int db_bind_int64(struct kd_stmt *st, int i, int64_t v);
int db_bind_double(struct kd_stmt *st, int i, double v);
int db_bind_text(struct kd_stmt *st, int i, const char *s, int n, db_destructor how);
int db_bind_blob(struct kd_stmt *st, int i, const void *p, int n, db_destructor how);
int db_bind_null(struct kd_stmt *st, int i);
/* Does the statement's SQL use parameter ?i? */
bool db_has_param(struct kd_stmt *st, int i);
int db_column_count(struct kd_stmt *st);
int db_column_type(struct kd_stmt *st, int col);
int db_column_int(struct kd_stmt *st, int col);
int64_t db_column_int64(struct kd_stmt *st, int col);
double db_column_double(struct kd_stmt *st, int col);
/* NULL for SQL NULL; valid until the next step, reset or finalize. */
const unsigned char *db_column_text(struct kd_stmt *st, int col);
const void *db_column_blob(struct kd_stmt *st, int col);
int db_column_bytes(struct kd_stmt *st, int col);
struct kd_db *db_of(struct kd_stmt *st);
const char *db_sql(struct kd_stmt *st);

/* Run SQL without parameters (SQLite: several statements allowed).
 * Returns a DB_* result. */
int db_exec(struct kd_db *db, const char *sql);
/* The last error's message, for a log. */
const char *db_errmsg(struct kd_db *db);
/* Rows the last INSERT, UPDATE or DELETE changed. */
int64_t db_changes(struct kd_db *db);
/* Is a transaction open on db? */
bool db_in_transaction(struct kd_db *db);

/* Processing nodes hear of new work at once on PostgreSQL: db_notify()
 * sends a notification on channel when the current transaction commits
 * (now, outside one); db_listen() subscribes db to it and returns the file
 * descriptor to poll, and db_heard() reads what came (1: a notification,
 * 0: none, <0: the connection failed; listen again).  On SQLite there is
 * no one to tell across processes: db_listen() returns -1, db_notify()
 * does nothing, and the nodes look for work by polling. */
int db_listen(struct kd_db *db, const char *channel);
int db_heard(struct kd_db *db);
int db_notify(struct kd_db *db, const char *channel);

/* Finalize db's kept statements (db_close does). */
void db_stmt_forget(struct kd_db *db);

/* A fixed set of connections shared by threads. */
struct db_pool;

/* Open n connections to path.  Migrations must already be applied. */
int db_pool_open(const char *path, int n, struct db_pool **out, char *err, size_t errlen);
/* Borrow a connection, waiting while all are in use.  Never fails. */
struct kd_db *db_pool_get(struct db_pool *pool);
/* Give a connection back. */
void db_pool_put(struct db_pool *pool, struct kd_db *db);
/* Close every connection; all must have been given back. */
void db_pool_close(struct db_pool **pool);

#endif
