/* db.c - opening the catalogue, migrations, transactions, the pool. */
#include "kindling/db.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* How long a connection waits for another writer before giving up.  Long
 * enough to ride out a burst of writes, short enough that a stuck request
 * shows up as an error rather than a hang. */
#define BUSY_TIMEOUT_MS 5000

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

static int exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_error("db", "%s: %s", sql, sqlite3_errmsg(db));
		return db_err(rc);
	}
	return 0;
}

int db_begin(sqlite3 *db)
{
	return exec(db, "BEGIN IMMEDIATE");
}

int db_commit(sqlite3 *db)
{
	return exec(db, "COMMIT");
}

void db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

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

int db_migrate(sqlite3 *db, char *err, size_t errlen)
{
	int have = 0, want = db_schema_version();
	bool fk_off = false;
	if (user_version(db, &have) == 0)
		for (int v = have; v >= 0 && v < want; v++)
			fk_off |= wants_fk_off(&db_migrations[v]);
	if (fk_off)
		sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	/* Take the write lock before reading the version, so two processes
	 * starting at once cannot both apply the same migration. */
	int rc = db_begin(db);
	if (rc < 0 || (rc = user_version(db, &have)) < 0) {
		snprintf(err, errlen, "cannot read the database version: %s", sqlite3_errmsg(db));
		db_rollback(db);
		return rc;
	}
	if (have > want) {
		db_rollback(db);
		snprintf(err, errlen,
		         "the catalogue was written by a newer kindling (schema %d, this binary knows %d); "
		         "run the newer kindling, or restore a backup made with this version",
		         have, want);
		return KD_EVERSION;
	}
	for (int v = have; v < want; v++) {
		char pragma[48];
		if (v > have && (rc = db_begin(db)) < 0)
			break;
		/* Rows that broke a key before (written with foreign keys off by
		 * some other tool) are not this migration's to judge. */
		long broken = wants_fk_off(&db_migrations[v]) ? fk_violations(db) : 0;
		rc = sqlite3_exec(db, db_migrations[v].sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK && broken >= 0 && fk_violations(db) > broken) {
			snprintf(err, errlen, "migration %s would leave rows pointing at missing ones; "
			         "the catalogue is unchanged: keep running the previous kindling and "
			         "report this", db_migrations[v].name);
			db_rollback(db);
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
			db_rollback(db);
			sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
			return db_err(rc) ? db_err(rc) : KD_EDB;
		}
		if ((rc = db_commit(db)) < 0) {
			snprintf(err, errlen, "migration %s could not be committed: %s",
			         db_migrations[v].name, sqlite3_errmsg(db));
			db_rollback(db);
			return rc;
		}
		log_info("db", "applied migration %s", db_migrations[v].name);
	}
	if (have >= want)
		db_rollback(db);
	if (fk_off)
		sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start a migration: %s", sqlite3_errmsg(db));
		return rc;
	}
	return 0;
}

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

static int open_conn(const char *path, sqlite3 **out, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                                 SQLITE_OPEN_NOMUTEX,
	                         NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open the catalogue %s: %s", path,
		         db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return KD_EIO;
	}
	if ((rc = configure(db, err, errlen)) < 0) {
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

int db_open(const char *path, sqlite3 **out, char *err, size_t errlen)
{
	sqlite3 *db;
	int rc = open_conn(path, &db, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = db_migrate(db, err, errlen)) < 0) {
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

void db_close(sqlite3 **db)
{
	if (!db || !*db)
		return;
	db_stmt_forget(*db);
	int rc = sqlite3_close(*db);
	if (rc != SQLITE_OK)
		log_warn("db", "closing with statements still open: %s", sqlite3_errmsg(*db));
	*db = NULL;
}

struct db_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	int n;
	int n_free;
	sqlite3 **conns; /* conns[0..n_free) are free */
};

int db_pool_open(const char *path, int n, struct db_pool **out, char *err, size_t errlen)
{
	struct db_pool *p = kd_calloc(1, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	p->conns = kd_calloc((size_t)n, sizeof *p->conns);
	for (int i = 0; i < n; i++) {
		int rc = open_conn(path, &p->conns[i], err, errlen);
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

sqlite3 *db_pool_get(struct db_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->n_free == 0)
		pthread_cond_wait(&p->freed, &p->lock);
	sqlite3 *db = p->conns[--p->n_free];
	pthread_mutex_unlock(&p->lock);
	return db;
}

void db_pool_put(struct db_pool *p, sqlite3 *db)
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
