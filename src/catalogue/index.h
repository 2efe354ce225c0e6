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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/catalogue.h"

struct kd_db; /* db.h */

/* May db's caller ask the index?  Only when it is enabled and db is
 * outside a transaction: a transaction's own writes are not the
 * catalogue's until it commits, and may never be. */
bool idx_usable(struct kd_db *db);

/* A page of the clips user may see matching q (practice_id and school_id
 * resolved, 0 for none; match: the FTS5 expression or NULL).  Like
 * cat_clips_list.  Returns 0 or a KD_E* code. */
int idx_list(struct kd_db *db, const struct kd_user *user, const struct cat_query *q,
             int64_t practice_id, int64_t school_id, const char *match,
             struct cat_page *out);

/* One clip user may see: 0, KD_ENOTFOUND, or a KD_E* code. */
int idx_get(struct kd_db *db, const struct kd_user *user, int64_t id, struct cat_clip *out);

/* The clips user may see per school / practice: counts[i] for ids[i]. */
int idx_count_by_school(struct kd_db *db, const struct kd_user *user, const int64_t *ids,
                        int64_t *counts, size_t n);
int idx_count_by_practice(struct kd_db *db, const struct kd_user *user, const int64_t *ids,
                          int64_t *counts, size_t n);

/* ---------------------------------------------------------------- summaries
 * Read access for the summaries (summary_index.c), which copy what they
 * read of each clip into a table of their own and follow the index's
 * changes.  Between idx_summary_begin() and idx_summary_end() the index
 * is held for reading (writers wait): call no other idx_ function then,
 * and keep nothing it gives past idx_summary_end(). */

/* What a summary reads of one clip. */
struct idx_fact {
	int64_t id, school_id, uploader_id;
	enum cat_status status;
	/* ready, consent on file, and visible to the district / to its school */
	bool shared_district, shared_school;
	const char *recorded_on;   /* NULL for SQL NULL */
	const char *uploaded_at;   /* only when recorded_on is NULL, else NULL */
	double duration_s;         /* 0 for SQL NULL (unprobed) */
	size_t n_practices;
	const uint16_t *practices; /* practice numbers; UINT16_MAX: not in the index */
	const void *record;        /* for idx_fact_teacher() */
};

/* The clip's teacher: found only when asked, as it lies after the title
 * and the description. */
const char *idx_fact_teacher(const struct idx_fact *f);

/* Bring the index up to the catalogue and hold it: 0, or a KD_E* code
 * (then nothing is held). */
int idx_summary_begin(struct kd_db *db);
void idx_summary_end(void);

/* The last change of the catalogue (clip_changes.seq) the index holds. */
int64_t idx_summary_seq(void);

/* The practices the index knows, numbered from 0. */
size_t idx_summary_practices(void);
int64_t idx_summary_practice_id(size_t k);
const char *idx_summary_practice_slug(size_t k);

/* Call fn for every clip, in id order. */
void idx_summary_walk(void (*fn)(const struct idx_fact *f, void *ctx), void *ctx);
/* The clip of id: 0, or KD_ENOTFOUND when the catalogue has none. */
int idx_summary_get(int64_t id, struct idx_fact *f);

#endif
