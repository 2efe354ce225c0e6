/* index_fts.c - the full-text matches of the index, kept (see index_fts.h). */
#include "index_fts.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/db.h"
#include "kindling/mem.h"

/* The matches of one full-text expression: as a bitmap when they are
 * many, as ascending slots when few; in rank order once asked so. */
struct fts_entry {
	char *match;
	int64_t seq;           /* the index's, when asked */
	uint64_t used;         /* when last asked: the least recent goes first */
	size_t bytes;
	uint64_t *bits;
	uint32_t *slots;
	size_t n;
	uint32_t *ranked;
	size_t n_ranked;
};

/* Searches people type repeat (a page, then the next): kept, up to this
 * many, in 4 MB or room for FTS_BITMAPS whole bitmaps, whichever is more
 * (at 1,000,000 clips a common word's matches take 125 KB: 4 MB held 32
 * of them, and the mixed load's searches went back to FTS5 by turns). */
#define FTS_CACHE 1024
#define FTS_BYTES_MIN ((size_t)4 << 20)
#define FTS_BITMAPS 256

/* The kept matches; all under the lock, taken with the index's lock held. */
static pthread_mutex_t fts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct fts_entry e[FTS_CACHE];
	size_t bytes;
	uint64_t clock;
} F;

static void fts_free(struct fts_entry *e);

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

void fts_forget(void)
{
	pthread_mutex_lock(&fts_lock);
	for (size_t i = 0; i < FTS_CACHE; i++)
		fts_free(&F.e[i]);
	F.bytes = 0;
	pthread_mutex_unlock(&fts_lock);
}

static int u32_rcmp(const void *a, const void *b)
{
	return u32_cmp(b, a);
}

/* issue 15: the clips matched only by their captions, after slots[0, *n)
 * (those matched by their own words), newest first, as list.c's SQL ranks
 * them.  Returns slots, grown. */
static uint32_t *caption_matches(struct kd_db *db, const struct fts_view *v, const char *match,
                                 uint32_t *slots, size_t *n, size_t *cap)
{
	struct kd_stmt *st;
	if (db_stmt(db, cat_fts_sql(db)->caption_ids, &st) < 0)
		return slots;
	db_bind_text(st, 1, match, -1, DB_STATIC);
	uint64_t *seen = NULL;
	size_t own = *n;
	while (db_step(st) == DB_ROW) {
		size_t slot = slots_find(v->slot_id, v->n_slots, db_column_int64(st, 0));
		if (slot == SIZE_MAX)
			continue;
		if (!seen) { /* the first caption match: which are in already */
			seen = slots_bits_new(v->nw);
			for (size_t i = 0; i < own; i++)
				bit_set(seen, slots[i], true);
		}
		if (bit_get(seen, slot))
			continue;
		bit_set(seen, slot, true);
		if (*n == *cap)
			slots = kd_realloc(slots, (*cap = *cap ? *cap * 2 : 256) * sizeof *slots);
		slots[(*n)++] = (uint32_t)slot;
	}
	db_stmt_done(st);
	free(seen);
	if (*n > own)
		qsort(slots + own, *n - own, sizeof *slots, u32_rcmp);
	return slots;
}

/* The matches of an FTS5 expression, asked of the catalogue (outside
 * fts_lock: a search can take milliseconds, and other requests would
 * wait on it).  With ranked, in rank order too.  With ix_lock held. */
static void fts_query(struct kd_db *db, const struct fts_view *v, const char *match, bool ranked,
                      struct fts_entry *e)
{
	memset(e, 0, sizeof *e);
	struct kd_stmt *st;
	const char *sql = ranked ? cat_fts_sql(db)->ranked : cat_fts_sql(db)->ids;
	uint32_t *slots = NULL;
	size_t n = 0, cap = 0, from = 0;
	int64_t last = INT64_MIN;
	if (db_stmt(db, sql, &st) == 0) {
		db_bind_text(st, 1, match, -1, DB_STATIC);
		while (db_step(st) == DB_ROW) {
			/* unranked, FTS5 gives rowids in ascending order (any other
			 * is looked up whole, leaving the cursor where it is) */
			int64_t id = db_column_int64(st, 0);
			size_t slot;
			if (!ranked && id > last) {
				slot = slots_next(v->slot_id, v->n_slots, id, &from);
				last = id;
			} else {
				slot = slots_find(v->slot_id, v->n_slots, id);
			}
			if (slot == SIZE_MAX)
				continue;
			if (n == cap)
				slots = kd_realloc(slots, (cap = cap ? cap * 2 : 256) * sizeof *slots);
			slots[n++] = (uint32_t)slot;
		}
		db_stmt_done(st);
	}
	slots = caption_matches(db, v, match, slots, &n, &cap);
	if (ranked) {
		e->ranked = kd_malloc((n ? n : 1) * sizeof *e->ranked);
		if (n) {
			memcpy(e->ranked, slots, n * sizeof *slots);
			qsort(slots, n, sizeof *slots, u32_cmp);
		}
		e->n_ranked = n;
	}
	/* few matches as a list of slots, many as a bitmap: whichever is
	 * smaller */
	if (n * sizeof *slots < v->nw * sizeof(uint64_t)) {
		e->slots = slots;
		slots = NULL;
	} else {
		e->bits = slots_bits_new(v->nw);
		for (size_t i = 0; i < n; i++)
			bit_set(e->bits, slots[i], true);
	}
	free(slots);
	e->n = n;
	e->bytes = strlen(match) + (e->slots ? n * sizeof *e->slots : 0) +
	           (e->bits ? v->nw * sizeof(uint64_t) : 0) + e->n_ranked * sizeof *e->ranked;
}

static void fts_free(struct fts_entry *e)
{
	free(e->match);
	free(e->bits);
	free(e->slots);
	free(e->ranked);
	memset(e, 0, sizeof *e);
}

/* The cached entry of match (for the index as it is now), or NULL.  With
 * fts_lock held. */
static struct fts_entry *fts_find(const struct fts_view *v, const char *match, bool ranked)
{
	for (size_t i = 0; i < FTS_CACHE; i++) {
		struct fts_entry *e = &F.e[i];
		if (e->match && e->seq == v->seq && (!ranked || e->ranked) && !strcmp(e->match, match)) {
			e->used = ++F.clock;
			return e;
		}
	}
	return NULL;
}

/* Keep q as the entry of match, making room within the budget by forgetting
 * the least recently used.  With fts_lock held; q is taken. */
static struct fts_entry *fts_keep(const struct fts_view *v, const char *match,
                                  struct fts_entry *q)
{
	struct fts_entry *slot = NULL;
	for (;;) {
		struct fts_entry *oldest = NULL, *free_one = NULL;
		for (size_t i = 0; i < FTS_CACHE; i++) {
			struct fts_entry *e = &F.e[i];
			if (!e->match) {
				free_one = free_one ? free_one : e;
				continue;
			}
			if (!strcmp(e->match, match) || e->seq != v->seq) { /* replaced, or stale */
				F.bytes -= e->bytes;
				fts_free(e);
				free_one = free_one ? free_one : e;
				continue;
			}
			if (!oldest || e->used < oldest->used)
				oldest = e;
		}
		size_t budget = FTS_BITMAPS * v->nw * sizeof(uint64_t);
		if (free_one && F.bytes + q->bytes <= (budget > FTS_BYTES_MIN ? budget : FTS_BYTES_MIN)) {
			slot = free_one;
			break;
		}
		if (!oldest)
			break; /* the cache is empty and q alone is too big: do not keep it */
		F.bytes -= oldest->bytes;
		fts_free(oldest);
	}
	if (!slot)
		return NULL;
	*slot = *q;
	memset(q, 0, sizeof *q);
	slot->match = kd_strdup(match);
	slot->seq = v->seq;
	slot->used = ++F.clock;
	F.bytes += slot->bytes;
	return slot;
}

/* m &= the matches of match.  With the read lock held. */
void fts_filter(struct kd_db *db, const struct fts_view *v, const char *match, uint64_t *m)
{
	pthread_mutex_lock(&fts_lock);
	struct fts_entry *e = fts_find(v, match, false);
	struct fts_entry q;
	if (!e) {
		pthread_mutex_unlock(&fts_lock);
		fts_query(db, v, match, false, &q);
		pthread_mutex_lock(&fts_lock);
		e = fts_keep(v, match, &q);
		if (!e)
			e = &q; /* too big to keep: used once */
	}
	if (e->bits) {
		for (size_t w = 0; w < v->nw; w++)
			m[w] &= e->bits[w];
	} else {
		uint64_t *kept = slots_bits_new(v->nw);
		for (size_t i = 0; i < e->n; i++)
			if (bit_get(m, e->slots[i]))
				bit_set(kept, e->slots[i], true);
		memcpy(m, kept, v->nw * sizeof *m);
		free(kept);
	}
	if (e == &q)
		fts_free(&q);
	pthread_mutex_unlock(&fts_lock);
}

/* A copy of the matches in rank order (caller frees).  With the read lock
 * held. */
uint32_t *fts_ranked(struct kd_db *db, const struct fts_view *v, const char *match, size_t *n)
{
	pthread_mutex_lock(&fts_lock);
	struct fts_entry *e = fts_find(v, match, true);
	struct fts_entry q;
	if (!e) {
		pthread_mutex_unlock(&fts_lock);
		fts_query(db, v, match, true, &q);
		pthread_mutex_lock(&fts_lock);
		e = fts_keep(v, match, &q);
		if (!e)
			e = &q;
	}
	uint32_t *copy = kd_malloc((e->n_ranked ? e->n_ranked : 1) * sizeof *copy);
	if (e->n_ranked)
		memcpy(copy, e->ranked, e->n_ranked * sizeof *copy);
	*n = e->n_ranked;
	if (e == &q)
		fts_free(&q);
	pthread_mutex_unlock(&fts_lock);
	return copy;
}

