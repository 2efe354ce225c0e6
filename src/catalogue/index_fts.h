/*
 * index_fts.h - full-text search for the index (index.c): the clips an
 * FTS5 expression matches, as slots of the index, asked of the catalogue
 * once and kept (a search people type is asked again: the next page,
 * another filter) until the index changes.  Private to src/catalogue/.
 */
#ifndef KINDLING_CATALOGUE_INDEX_FTS_H
#define KINDLING_CATALOGUE_INDEX_FTS_H

#include <stddef.h>
#include <stdint.h>

#include "slots.h"

struct kd_db; /* db.h */

/* The index as the search sees it: its slots' ids, its bitmaps' words, and
 * its change (a kept answer of another change is stale). */
struct fts_view {
	const int64_t *slot_id;
	size_t n_slots;
	size_t nw;
	int64_t seq;
};

/* m &= the clips match matches.  Call with the index's lock held. */
void fts_filter(struct kd_db *db, const struct fts_view *v, const char *match, uint64_t *m);
/* The clips match matches in rank order (caller frees); *n of them. */
uint32_t *fts_ranked(struct kd_db *db, const struct fts_view *v, const char *match, size_t *n);
/* Forget every kept answer (the index is loaded again). */
void fts_forget(void);

#endif
