/* db.c - opening the catalogue on either back end, migrations,
 * transactions, the pool, and the statement calls of db.h, each passed to
 * SQLite or to the PostgreSQL driver (db_pg.c). */
#include "kindling/db.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/log.h"
#include "kindling/mem.h"

#include "db_impl.h"
#include "pg_epoch.h"

/* db.h promises SQLite's numbers. */
static_assert(DB_ROW == SQLITE_ROW && DB_DONE == SQLITE_DONE && DB_BUSY == SQLITE_BUSY &&
                      DB_CONSTRAINT_UNIQUE == SQLITE_CONSTRAINT_UNIQUE &&
                      DB_NULL == SQLITE_NULL && DB_TEXT == SQLITE_TEXT &&
                      DB_RANGE == SQLITE_RANGE && DB_NOMEM == SQLITE_NOMEM,
              "db.h result codes are SQLite's");

/* How long a connection waits for another writer before giving up.  Long
 * enough to ride out a burst of writes, short enough that a stuck request
 * shows up as an error rather than a hang. */
#define BUSY_TIMEOUT_MS 5000

/* The advisory locks kindling takes on PostgreSQL: one while migrating
 * (nodes starting together apply each migration once), one held by every
 * write transaction (what SQLite's BEGIN IMMEDIATE gives: the catalogue's
 * read-then-write steps see no other writer between them).  Keys are
 * "kdmi" and "kdwr"; the clip_changes triggers use their own
 * (schema/postgres/005). */
#define PG_LOCK_MIGRATE 1801743721LL /* 0x6b646d69 */
#define PG_LOCK_WRITE "1801746290"   /* 0x6b647772 */

void db_global_init(void)
{
	/* Memory statistics take a global lock on every allocation, which
	 * serialises the request threads; kindling never reads them. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int db_schema_version(void)
{
	return (int)db_migrations_count;
}

bool db_is_postgres_url(const char *where)
{
	return where && (!strncmp(where, "postgresql://", 13) || !strncmp(where, "postgres://", 11));
}

enum db_backend db_backend(const struct kd_db *db)
{
	return db->pg ? DB_POSTGRES : DB_SQLITE;
}

/* ---------------------------------------------------------- transactions */

static int exec(struct kd_db *db, const char *sql)
{
	int rc = db_exec(db, sql);
	if (rc != DB_OK) {
		log_error("db", "%s: %s", sql, db_errmsg(db));
		return db_err_code(rc);
	}
	return 0;
}

int db_begin(struct kd_db *db)
{
	if (!db->pg)
		return exec(db, "BEGIN IMMEDIATE");
	int rc = exec(db, "BEGIN");
	if (rc == 0 && (rc = exec(db, "SELECT pg_advisory_xact_lock(" PG_LOCK_WRITE ")")) < 0)
		db_rollback(db);
	return rc;
}

int db_commit(struct kd_db *db)
{
	if (!db->pg)
		return exec(db, "COMMIT");
	/* the notification goes with the commit (pg_epoch.h) */
	bool wrote = pg_take_wrote(db->pg);
	int rc = wrote ? exec(db, "NOTIFY " PG_EPOCH_CHANNEL) : 0;
	if (rc == 0)
		rc = exec(db, "COMMIT");
	if (rc == 0 && wrote)
		pg_epoch_committed();
	return rc;
}

void db_rollback(struct kd_db *db)
{
	if (db_in_transaction(db))
		db_exec(db, "ROLLBACK");
	if (db->pg)
		pg_take_wrote(db->pg); /* (nothing of it stays) */
}

/* ------------------------------------------------------ SQLite migrations */

static int user_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(rc);
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_err(rc);
}

/* A migration that rebuilds a table says so on its first line: foreign
 * keys are off while it runs (they cannot be turned off inside its
 * transaction), and checked before it commits. */
static bool wants_fk_off(const struct db_migration *m)
{
	return !strncmp(m->sql, "-- kindling: foreign_keys=off", 29);
}

/* How many rows break a foreign key (-1 when it cannot be told). */
static long fk_violations(sqlite3 *db)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
		return -1;
	long n = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		n++;
	sqlite3_finalize(st);
	return n;
}

static void newer_schema(int have, int want, char *err, size_t errlen)
{
	snprintf(err, errlen,
	         "the catalogue was written by a newer kindling (schema %d, this binary knows %d); "
	         "run the newer kindling, or restore a backup made with this version",
	         have, want);
}

static int lite_migrate(struct kd_db *kdb, char *err, size_t errlen)
{
	sqlite3 *db = kdb->lite;
	int have = 0, want = db_schema_version();
	bool fk_off = false;
	if (user_version(db, &have) == 0)
		for (int v = have; v >= 0 && v < want; v++)
			fk_off |= wants_fk_off(&db_migrations[v]);
	if (fk_off)
		sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	/* Take the write lock before reading the version, so two processes
	 * starting at once cannot both apply the same migration. */
	int rc = db_begin(kdb);
	if (rc < 0 || (rc = user_version(db, &have)) < 0) {
		snprintf(err, errlen, "cannot read the database version: %s", sqlite3_errmsg(db));
		db_rollback(kdb);
		return rc;
	}
	if (have > want) {
		db_rollback(kdb);
		newer_schema(have, want, err, errlen);
		return KD_EVERSION;
	}
	for (int v = have; v < want; v++) {
		char pragma[48];
		if (v > have && (rc = db_begin(kdb)) < 0)
			break;
		/* Rows that broke a key before (written with foreign keys off by
		 * some other tool) are not this migration's to judge. */
		long broken = wants_fk_off(&db_migrations[v]) ? fk_violations(db) : 0;
		rc = sqlite3_exec(db, db_migrations[v].sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK && broken >= 0 && fk_violations(db) > broken) {
			snprintf(err, errlen, "migration %s would leave rows pointing at missing ones; "
			         "the catalogue is unchanged: keep running the previous kindling and "
			         "report this", db_migrations[v].name);
			db_rollback(kdb);
			sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
			return KD_EDB;
		}
		if (rc == SQLITE_OK) {
			snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
			rc = sqlite3_exec(db, pragma, NULL, NULL, NULL);
		}
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "migration %s failed: %s", db_migrations[v].name,
			         sqlite3_errmsg(db));
			db_rollback(kdb);
			sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
			return db_err(rc) ? db_err(rc) : KD_EDB;
		}
		if ((rc = db_commit(kdb)) < 0) {
			snprintf(err, errlen, "migration %s could not be committed: %s",
			         db_migrations[v].name, sqlite3_errmsg(db));
			db_rollback(kdb);
			return rc;
		}
		log_info("db", "applied migration %s", db_migrations[v].name);
	}
	if (have >= want)
		db_rollback(kdb);
	if (fk_off)
		sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start a migration: %s", sqlite3_errmsg(db));
		return rc;
	}
	return 0;
}

/* -------------------------------------------------- PostgreSQL migrations */

static int pg_version(struct kd_db *db, int *version)
{
	struct kd_stmt *st;
	*version = 0;
	if (db_prepare(db, "SELECT max(version) FROM kindling_schema", &st) != DB_OK)
		return KD_EDB;
	int rc = db_step(st);
	if (rc == DB_ROW)
		*version = (int)db_column_int64(st, 0);
	db_finalize(st);
	return rc == DB_ROW ? 0 : db_err_code(rc);
}

/* Every node runs this at start: the first to take the lock applies what
 * is missing, the others wait for it and then find nothing to do. */
static int pg_migrate(struct kd_db *db, char *err, size_t errlen)
{
	int want = (int)db_pg_migrations_count, have = 0, rc;
	if (want != db_schema_version()) {
		snprintf(err, errlen, "this binary's PostgreSQL schema (%d migrations) is out of step "
		         "with its SQLite schema (%d); it was built wrongly", want,
		         db_schema_version());
		return KD_EDB;
	}
	char lock[80];
	snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%lld)", PG_LOCK_MIGRATE);
	if (db_exec(db, lock) != DB_OK ||
	    db_exec(db, "CREATE TABLE IF NOT EXISTS kindling_schema ("
	                "version integer PRIMARY KEY, name text NOT NULL, "
	                "applied_at text NOT NULL DEFAULT "
	                "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))") != DB_OK ||
	    (rc = pg_version(db, &have)) < 0) {
		snprintf(err, errlen, "cannot read the catalogue's schema version: %s", db_errmsg(db));
		rc = KD_EDB;
		goto out;
	}
	if (have > want) {
		newer_schema(have, want, err, errlen);
		rc = KD_EVERSION;
		goto out;
	}
	for (int v = have; v < want; v++) {
		const struct db_migration *m = &db_pg_migrations[v];
		struct kd_stmt *st = NULL;
		if ((rc = db_exec(db, "BEGIN")) != DB_OK || (rc = db_exec(db, m->sql)) != DB_OK ||
		    (rc = db_prepare(db, "INSERT INTO kindling_schema (version, name) VALUES (?1, ?2)",
		                     &st)) != DB_OK ||
		    db_bind_int(st, 1, v + 1) != DB_OK ||
		    db_bind_text(st, 2, m->name, -1, DB_STATIC) != DB_OK ||
		    (rc = db_step(st)) != DB_DONE || (rc = db_exec(db, "COMMIT")) != DB_OK) {
			snprintf(err, errlen, "migration postgres/%s failed: %s", m->name, db_errmsg(db));
			db_finalize(st);
			db_rollback(db);
			rc = db_err_code(rc);
			goto out;
		}
		db_finalize(st);
		log_info("db", "applied migration postgres/%s", m->name);
	}
	rc = 0;
out:
	snprintf(lock, sizeof lock, "SELECT pg_advisory_unlock(%lld)", PG_LOCK_MIGRATE);
	db_exec(db, lock);
	return rc;
}

int db_migrate(struct kd_db *db, char *err, size_t errlen)
{
	return db->pg ? pg_migrate(db, err, errlen) : lite_migrate(db, err, errlen);
}

/* ------------------------------------------------------------ connections */

static int configure(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	static const char *pragmas =
		"PRAGMA journal_mode = WAL;"
		/* A commit is on the disk when it returns: an upload the client
		 * was told is complete survives a power cut. */
		"PRAGMA synchronous = FULL;"
		"PRAGMA foreign_keys = ON;"
		"PRAGMA temp_store = MEMORY;"
		/* No mapping of the file: every page read through it stays in the
		 * process's resident memory, and the server reads lists from its
		 * own index (catalogue/index.c), not the file.  What SQL still
		 * reads (search, summaries) fits a modest cache per connection. */
		"PRAGMA mmap_size = 0;"
		"PRAGMA cache_size = -1024;";
	int rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot configure the database: %s", sqlite3_errmsg(db));
		return db_err(rc);
	}
	return 0;
}

int db_connect(const char *where, struct kd_db **out, char *err, size_t errlen)
{
	struct kd_db *kdb = kd_calloc(1, sizeof *kdb);
	if (db_is_postgres_url(where)) {
		int rc = pg_open(where, &kdb->pg, err, errlen);
		if (rc < 0) {
			free(kdb);
			return rc;
		}
		*out = kdb;
		return 0;
	}
	int rc = sqlite3_open_v2(where, &kdb->lite,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                                 SQLITE_OPEN_NOMUTEX,
	                         NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open the catalogue %s: %s", where,
		         kdb->lite ? sqlite3_errmsg(kdb->lite) : sqlite3_errstr(rc));
		sqlite3_close(kdb->lite);
		free(kdb);
		return KD_EIO;
	}
	if ((rc = configure(kdb->lite, err, errlen)) < 0) {
		sqlite3_close(kdb->lite);
		free(kdb);
		return rc;
	}
	*out = kdb;
	return 0;
}

int db_open(const char *where, struct kd_db **out, char *err, size_t errlen)
{
	struct kd_db *db;
	int rc = db_connect(where, &db, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = db_migrate(db, err, errlen)) < 0) {
		db_close(&db);
		return rc;
	}
	*out = db;
	return 0;
}

void db_close(struct kd_db **db)
{
	if (!db || !*db)
		return;
	db_stmt_forget(*db);
	if ((*db)->pg) {
		pg_close((*db)->pg);
	} else if (sqlite3_close((*db)->lite) != SQLITE_OK) {
		log_warn("db", "closing with statements still open: %s", sqlite3_errmsg((*db)->lite));
		sqlite3_close_v2((*db)->lite);
	}
	free(*db);
	*db = NULL;
}

struct db_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	int n;
	int n_free;
	struct kd_db **conns; /* conns[0..n_free) are free */
};

int db_pool_open(const char *where, int n, struct db_pool **out, char *err, size_t errlen)
{
	struct db_pool *p = kd_calloc(1, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	p->conns = kd_calloc((size_t)n, sizeof *p->conns);
	for (int i = 0; i < n; i++) {
		int rc = db_connect(where, &p->conns[i], err, errlen);
		if (rc < 0) {
			p->n = p->n_free = i;
			db_pool_close(&p);
			return rc;
		}
	}
	p->n = p->n_free = n;
	*out = p;
	return 0;
}

struct kd_db *db_pool_get(struct db_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->n_free == 0)
		pthread_cond_wait(&p->freed, &p->lock);
	struct kd_db *db = p->conns[--p->n_free];
	pthread_mutex_unlock(&p->lock);
	return db;
}

void db_pool_put(struct db_pool *p, struct kd_db *db)
{
	db_rollback(db); /* never hand on an open transaction */
	pthread_mutex_lock(&p->lock);
	p->conns[p->n_free++] = db;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

void db_pool_close(struct db_pool **pp)
{
	struct db_pool *p = *pp;
	if (!p)
		return;
	for (int i = 0; i < p->n_free; i++)
		db_close(&p->conns[i]);
	if (p->n_free != p->n)
		log_warn("db", "%d connections were still borrowed at shutdown", p->n - p->n_free);
	free(p->conns);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	free(p);
	*pp = NULL;
}

int db_backup_to(struct kd_db *db, const char *path, char *err, size_t errlen)
{
	if (db->pg) {
		snprintf(err, errlen, "the catalogue is in PostgreSQL: back it up with pg_dump");
		return KD_EINVAL;
	}
	char *tmp = kd_asprintf("%s.part", path);
	remove(tmp);
	sqlite3 *copy = NULL;
	int rc = KD_EDB;
	if (sqlite3_open_v2(tmp, &copy, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot create %s: %s", tmp,
		         copy ? sqlite3_errmsg(copy) : "out of memory");
		rc = KD_EIO;
		goto out;
	}
	sqlite3_busy_timeout(db->lite, 10000);
	sqlite3_backup *b = sqlite3_backup_init(copy, "main", db->lite, "main");
	if (!b) {
		snprintf(err, errlen, "cannot begin the copy: %s", sqlite3_errmsg(copy));
		goto out;
	}
	/* all pages in one step: one read transaction, so one consistent
	 * snapshot however much the server writes meanwhile (WAL readers do not
	 * block writers) */
	int step = sqlite3_backup_step(b, -1);
	int fin = sqlite3_backup_finish(b);
	if (step != SQLITE_DONE || fin != SQLITE_OK) {
		snprintf(err, errlen, "the copy stopped: %s (is the disk of the backup full?)",
		         sqlite3_errstr(step != SQLITE_DONE ? step : fin));
		rc = step == SQLITE_FULL || step == SQLITE_IOERR ? KD_EIO : KD_EDB;
		goto out;
	}
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(copy, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
	          sqlite3_step(st) == SQLITE_ROW &&
	          !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
	if (!ok)
		snprintf(err, errlen, "the copy does not pass SQLite's integrity check (%s)",
		         st && sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0)
		                                          : sqlite3_errmsg(copy));
	sqlite3_finalize(st);
	if (!ok)
		goto out;
	/* one file, no -wal beside it: what a backup should be */
	if (sqlite3_exec(copy, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot finish the copy: %s", sqlite3_errmsg(copy));
		goto out;
	}
	sqlite3_close(copy);
	copy = NULL;
	if (kd_commit_file(-1, tmp, path) < 0) {
		snprintf(err, errlen, "cannot put the copy in place at %s: %s", path, strerror(errno));
		rc = KD_EIO;
		goto out;
	}
	rc = 0;
out:
	if (copy)
		sqlite3_close(copy);
	if (rc != 0)
		remove(tmp);
	free(tmp);
	return rc;
}
