/*
 * index.h - the catalogue's clips in memory, for the server.  Private to
 * src/catalogue/.
 *
 * Counting the clips a viewer may see under a filter, and sorting them
 * before taking a page, reads every matching row of the catalogue; at a
 * district's scale that is milliseconds a request.  The index keeps every
 * clip in memory with a bitmap per practice, school, grade and subject and
 * per privacy class, as search engines keep facets: a count is a popcount
 * of ANDed bitmaps, a page is a walk in an order kept sorted.
 *
 * It answers exactly as the SQL of list.c and clips.c does (the unit tests
 * compare the two).  It follows the catalogue through clip_changes
 * (schema/005): each call first reads the last change's number and loads
 * what changed since, so a change made by any process shows on the very
 * next request.  Full-text matching stays SQL (FTS5); its results are
 * kept until the catalogue changes.
 *
 * One index per process, used only after cat_index_enable(); thread-safe.
 */
#ifndef KINDLING_CATALOGUE_INDEX_H
#define KINDLING_CATALOGUE_INDEX_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/catalogue.h"

/* May db's caller ask the index?  Only when it is enabled and db is
 * outside a transaction: a transaction's own writes are not the
 * catalogue's until it commits, and may never be. */
bool idx_usable(sqlite3 *db);

/* A page of the clips user may see matching q (practice_id and school_id
 * resolved, 0 for none; match: the FTS5 expression or NULL).  Like
 * cat_clips_list.  Returns 0 or a KD_E* code. */
int idx_list(sqlite3 *db, const struct kd_user *user, const struct cat_query *q,
             int64_t practice_id, int64_t school_id, const char *match,
             struct cat_page *out);

/* One clip user may see: 0, KD_ENOTFOUND, or a KD_E* code. */
int idx_get(sqlite3 *db, const struct kd_user *user, int64_t id, struct cat_clip *out);

/* The clips user may see per school / practice: counts[i] for ids[i]. */
int idx_count_by_school(sqlite3 *db, const struct kd_user *user, const int64_t *ids,
                        int64_t *counts, size_t n);
int idx_count_by_practice(sqlite3 *db, const struct kd_user *user, const int64_t *ids,
                          int64_t *counts, size_t n);

#endif
