/* stmt_cache.c - what is kept per connection (see db.h): its prepared
 * statements, and what it last saw of the catalogue's changes.
 *
 * Preparing a statement parses and plans its SQL: tens of microseconds,
 * more than running most of the server's queries.  A request asks the
 * same few dozen questions each time, so each connection keeps its
 * statements prepared. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

#include "db_impl.h"
#include "pg_epoch.h"

#define CONNS 64    /* connections with a cache; more are served uncached */
#define PER_CONN 64 /* statements per connection */

struct entry {
	struct kd_stmt *st;
	const char *sql; /* the caller's pointer, compared first */
	bool busy;
};

static struct cache {
	struct kd_db *db;
	struct entry e[PER_CONN];
	unsigned next; /* the next entry to replace when all are taken */
	/* db_epoch(): what this connection last saw */
	bool seen;
	int64_t data_version;
	int64_t total_changes;
	bool wal_looked;
	const volatile unsigned char *wal_hdr; /* the connection's WAL index, or NULL */
} caches[CONNS];

static atomic_int_fast64_t epoch = 1;

/* Guards which connection owns which cache; the entries of one are used by
 * the one thread that holds its connection. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct cache *cache_of(struct kd_db *db, bool add)
{
	struct cache *found = NULL, *empty = NULL;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < CONNS && !found; i++) {
		if (caches[i].db == db)
			found = &caches[i];
		else if (!caches[i].db && !empty)
			empty = &caches[i];
	}
	if (!found && add && empty) {
		empty->db = db;
		found = empty;
	}
	pthread_mutex_unlock(&lock);
	return found;
}

int db_stmt(struct kd_db *db, const char *sql, struct kd_stmt **out)
{
	struct cache *c = cache_of(db, true);
	for (size_t i = 0; c && i < PER_CONN; i++) {
		struct entry *e = &c->e[i];
		if (e->st && !e->busy && e->sql == sql && !strcmp(db_sql(e->st), sql)) {
			e->busy = true;
			*out = e->st;
			return 0;
		}
	}
	struct kd_stmt *st;
	if (db_prepare_kept(db, sql, true, &st) != DB_OK) {
		log_error("db", "%s", db_errmsg(db));
		return KD_EDB;
	}
	*out = st;
	if (!c)
		return 0;
	/* a free slot, or else one not in use, in turn */
	struct entry *slot = NULL;
	for (size_t i = 0; i < PER_CONN && !slot; i++)
		if (!c->e[i].st)
			slot = &c->e[i];
	for (size_t k = 0; k < PER_CONN && !slot; k++) {
		struct entry *e = &c->e[c->next++ % PER_CONN];
		if (!e->busy) {
			db_finalize(e->st);
			slot = e;
		}
	}
	if (slot)
		*slot = (struct entry){.st = st, .sql = sql, .busy = true};
	return 0;
}

void db_stmt_done(struct kd_stmt *st)
{
	if (!st)
		return;
	struct cache *c = cache_of(db_of(st), false);
	for (size_t i = 0; c && i < PER_CONN; i++) {
		if (c->e[i].st == st) {
			db_reset(st);
			db_clear_bindings(st);
			c->e[i].busy = false;
			return;
		}
	}
	db_finalize(st); /* never cached: nested use, or no room */
}

/* A fingerprint of the WAL index header of db's file, in *out; false when
 * it cannot be read (not WAL, no index yet, or a writer between its two
 * copies).
 *
 * The header (https://www.sqlite.org/walformat.html, "the WAL-index
 * header": two copies of 48 bytes at the start of the -shm file) changes
 * with every commit to the file, by any connection of any process: a
 * commit appends frames (mxFrame grows), and a log started again gets new
 * salts.  (Its iChange counter is not enough: a connection new to the file
 * counts from what it last saw, as the sqlite3 shell showed.)  Reading it
 * costs no transaction, where PRAGMA data_version starts one, locks and
 * all, on every request.
 *
 * The header is read through the connection's own mapping of the index
 * (the VFS's xShmMap, region 0, never extended), not a mapping of our own:
 * opening and closing the -shm file ourselves would drop every POSIX lock
 * this process holds on it, and another process, finding no one there,
 * would start the index again under this one's readers (SQLITE_PROTOCOL,
 * then SIGBUS on a file cut to 3 bytes: found by the crash rounds). */
static bool wal_change(struct kd_db *kdb, struct cache *c, uint64_t *out)
{
	sqlite3 *db = kdb->lite;
	if (!c->wal_looked) {
		c->wal_looked = true;
		sqlite3_file *f = NULL;
		struct kd_stmt *st;
		bool is_wal = false;
		if (db_stmt(kdb, "PRAGMA journal_mode", &st) == 0) {
			is_wal = db_step(st) == DB_ROW &&
			         !sqlite3_stricmp((const char *)db_column_text(st, 0), "wal");
			db_stmt_done(st);
		}
		volatile void *region = NULL;
		if (is_wal &&
		    sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) == SQLITE_OK &&
		    f && f->pMethods && f->pMethods->iVersion >= 2 && f->pMethods->xShmMap &&
		    f->pMethods->xShmMap(f, 0, 32768, 0, &region) == SQLITE_OK)
			c->wal_hdr = region;
	}
	if (!c->wal_hdr)
		return false;
	unsigned char a[48], b[48];
	atomic_thread_fence(memory_order_acquire);
	memcpy(a, (const unsigned char *)c->wal_hdr, sizeof a);
	memcpy(b, (const unsigned char *)c->wal_hdr + 48, sizeof b);
	atomic_thread_fence(memory_order_acquire);
	if (memcmp(a, b, sizeof a) != 0)
		return false;
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	for (size_t i = 0; i < sizeof a; i++)
		h = (h ^ a[i]) * 1099511628211u;
	*out = h;
	return true;
}

int64_t db_epoch(struct kd_db *db)
{
	if (db->pg)
		return pg_epoch(db->pg);
	static _Atomic uint64_t last_change;
	static atomic_bool have_change;
	uint64_t now;
	struct cache *c = cache_of(db, true);
	if (c && wal_change(db, c, &now)) {
		if (atomic_load(&have_change) && atomic_load(&last_change) == now)
			return atomic_load(&epoch);
		/* new: bump first, then record, so that no request can see the
		 * new counter with the old epoch */
		int64_t e = atomic_fetch_add(&epoch, 1) + 1;
		atomic_store(&last_change, now);
		atomic_store(&have_change, true);
		return e;
	}
	struct kd_stmt *st;
	int64_t version = -1;
	if (!c || db_stmt(db, "PRAGMA data_version", &st) < 0)
		return atomic_fetch_add(&epoch, 1) + 1; /* unknown: changed */
	if (db_step(st) == DB_ROW)
		version = db_column_int64(st, 0);
	db_stmt_done(st);
	/* data_version moves with the commits of other connections (and
	 * processes), total_changes with this one's own */
	int64_t mine = sqlite3_total_changes64(db->lite);
	if (version < 0 || !c->seen || version != c->data_version || mine != c->total_changes) {
		/* (a connection's first look counts as a change too: it cannot
		 * know what happened before it) */
		c->seen = version >= 0;
		c->data_version = version;
		c->total_changes = mine;
		return atomic_fetch_add(&epoch, 1) + 1;
	}
	return atomic_load(&epoch);
}

void db_stmt_forget(struct kd_db *db)
{
	struct cache *c = cache_of(db, false);
	if (!c)
		return;
	for (size_t i = 0; i < PER_CONN; i++)
		db_finalize(c->e[i].st);
	memset(c->e, 0, sizeof c->e);
	c->next = 0;
	c->seen = false;
	c->wal_looked = false;
	c->wal_hdr = NULL;
	pthread_mutex_lock(&lock);
	c->db = NULL;
	pthread_mutex_unlock(&lock);
}
