/*
 * cache.c - counts kept in memory between requests.
 *
 * Counting the clips a user may see under a filter reads every matching
 * row (tens of thousands at district scale) while the page itself reads
 * 24.  Counts are kept here, keyed by the question asked, and all dropped
 * when the catalogue generation (schema/002_generation.sql) moves on.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/log.h"
#include "kindling/mem.h"

#define SLOTS 4096 /* a power of two */

struct entry {
	char *key;
	int64_t value;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry table[SLOTS];
static int64_t table_gen = -1;

int64_t cat_generation(struct kd_db *db)
{
	struct kd_stmt *st;
	int64_t gen = -1;
	if (db_stmt(db, "SELECT gen FROM catalogue_generation", &st) < 0)
		return -1;
	if (db_step(st) == DB_ROW)
		gen = db_column_int64(st, 0);
	db_stmt_done(st);
	return gen;
}

static size_t slot_of(const char *key)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211u;
	return (size_t)(h & (SLOTS - 1));
}

static void drop_all(void)
{
	for (size_t i = 0; i < SLOTS; i++) {
		free(table[i].key);
		table[i].key = NULL;
	}
}

bool cat_cache_get(int64_t gen, const char *key, int64_t *value)
{
	if (gen < 0)
		return false;
	bool hit = false;
	pthread_mutex_lock(&lock);
	if (gen == table_gen) {
		struct entry *e = &table[slot_of(key)];
		if (e->key && !strcmp(e->key, key)) {
			*value = e->value;
			hit = true;
		}
	}
	pthread_mutex_unlock(&lock);
	return hit;
}

void cat_cache_put(int64_t gen, const char *key, int64_t value)
{
	if (gen < 0)
		return;
	pthread_mutex_lock(&lock);
	if (gen != table_gen) {
		if (gen < table_gen) { /* a slow reader from the past: keep the newer */
			pthread_mutex_unlock(&lock);
			return;
		}
		drop_all();
		table_gen = gen;
	}
	/* One entry per slot: a collision simply replaces the older count. */
	struct entry *e = &table[slot_of(key)];
	free(e->key);
	e->key = kd_strdup(key);
	e->value = value;
	pthread_mutex_unlock(&lock);
}
