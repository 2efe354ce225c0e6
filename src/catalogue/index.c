/* index.c - the catalogue's clips in memory, with a bitmap per facet:
 * the answers (see index.h); index_load.c loads and follows the
 * catalogue. */
#include "index.h"
#include "index_state.h"

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"


static atomic_bool ix_enabled;


void cat_index_enable(bool on)
{
	atomic_store(&ix_enabled, on);
}

bool idx_usable(struct kd_db *db)
{
	return atomic_load(&ix_enabled) && !db_in_transaction(db);
}

/* ---------------------------------------------------------------- queries */

/* The slots user may see, into a new bitmap. */
static uint64_t *visible(const struct kd_user *u)
{
	uint64_t *v = ix_bits_new();
	if (u->role == KD_ROLE_ADMIN) {
		memcpy(v, ix.live, ix.nw * sizeof *v);
		return v;
	}
	memcpy(v, ix.public_ready, ix.nw * sizeof *v);
	size_t si = u->school_id ? ix_school_index(u->school_id) : SIZE_MAX;
	for (size_t w = 0; si != SIZE_MAX && w < ix.nw; w++)
		v[w] |= ix.schools[si].shared_bits[w];
	const struct own *own = ix_uploader_own(u->id, false);
	for (size_t k = 0; own && k < own->n; k++)
		bit_set(v, own->slots[k], true);
	return v;
}

static bool may_see(const struct kd_user *u, const struct iclip *r)
{
	if (u->role == KD_ROLE_ADMIN || (r->uploader_id && r->uploader_id == u->id))
		return true;
	return ix_shared(r) &&
	       (r->visibility == VIS_DISTRICT ||
	        (r->visibility == VIS_SCHOOL && r->school_id == u->school_id));
}

static void and_into(uint64_t *m, const uint64_t *b)
{
	for (size_t w = 0; w < ix.nw; w++)
		m[w] &= b[w];
}

/* Counting is most of a count: with the processor's own instruction
 * where it has one (chosen when the program loads), else the compiler's
 * portable loop. */
#define POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))

POPCNT_CLONES static int64_t popcount(const uint64_t *m)
{
	int64_t n = 0;
	for (size_t w = 0; w < ix.nw; w++)
		n += __builtin_popcountll(m[w]);
	return n;
}

/* The bits set in both a and b. */
POPCNT_CLONES static int64_t popcount_and(const uint64_t *a, const uint64_t *b)
{
	int64_t n = 0;
	for (size_t w = 0; w < ix.nw; w++)
		n += __builtin_popcountll(a[w] & b[w]);
	return n;
}

/* Walk slots of m in an order, skipping `skip` and keeping up to `want`. */
struct walk {
	size_t skip, want, n;
	size_t *out;
};

static bool take(struct walk *w, size_t slot)
{
	if (w->skip) {
		w->skip--;
		return true;
	}
	w->out[w->n++] = slot;
	return w->n < w->want;
}

static void walk_ids(const uint64_t *m, bool newest, struct walk *w)
{
	for (size_t k = 0; k < ix.nw && w->n < w->want; k++) {
		size_t word = newest ? ix.nw - 1 - k : k;
		uint64_t b = m[word];
		size_t c = (size_t)__builtin_popcountll(b);
		if (w->skip >= c) {
			w->skip -= c;
			continue;
		}
		while (b) {
			int bit = newest ? 63 - __builtin_clzll(b) : __builtin_ctzll(b);
			b &= ~((uint64_t)1 << bit);
			if (!take(w, word * 64 + (size_t)bit))
				return;
		}
	}
}

static void walk_order(const uint64_t *m, const size_t *o, size_t n, struct walk *w)
{
	for (size_t i = 0; i < n && w->n < w->want; i++)
		if (bit_get(m, o[i]) && !take(w, o[i]))
			return;
}

static void walk_ranked(const uint64_t *m, const uint32_t *o, size_t n, struct walk *w)
{
	for (size_t i = 0; i < n && w->n < w->want; i++)
		if (bit_get(m, o[i]) && !take(w, o[i]))
			return;
}

int idx_list(struct kd_db *db, const struct kd_user *user, const struct cat_query *q,
             int64_t practice_id, int64_t school_id, const char *match,
             struct cat_page *out)
{
	int rc = ix_sync_and_read(db);
	if (rc < 0)
		return rc;
	uint64_t *m = visible(user);
	bool empty = false;
	if (practice_id) {
		size_t pi = ix_practice_by_id(practice_id);
		if (pi == SIZE_MAX)
			empty = true;
		else
			and_into(m, ix.practices[pi].bits);
	}
	if (school_id) {
		size_t si = ix_school_index(school_id);
		if (si == SIZE_MAX)
			empty = true;
		else
			and_into(m, ix.schools[si].bits);
	}
	const char *facets[2] = {q->grade, q->subject};
	struct values *tables[2] = {&ix.grades, &ix.subjects};
	for (int f = 0; f < 2; f++) {
		if (!facets[f] || !*facets[f])
			continue;
		uint32_t v = ix_intern(tables[f], facets[f], false);
		if (v == UINT32_MAX)
			empty = true;
		else
			and_into(m, tables[f]->v[v - 1].bits);
	}
	struct fts_view fv = ix_fts_view();
	if (match && !empty)
		fts_filter(db, &fv, match, m);
	if (empty)
		memset(m, 0, ix.nw * sizeof *m);
	out->total = popcount(m);
	out->sort = q->sort;
	if (q->sort == CAT_SORT_RELEVANCE && (!match || out->total > CAT_RANK_MAX))
		out->sort = CAT_SORT_NEWEST;
	size_t want = (size_t)q->per_page;
	struct walk w = {.skip = (size_t)((q->page - 1) * q->per_page), .want = want,
	                 .out = kd_malloc(want * sizeof(size_t))};
	switch (out->sort) {
	case CAT_SORT_OLDEST: walk_ids(m, false, &w); break;
	case CAT_SORT_TITLE: walk_order(m, ix.by_title, ix.n_order, &w); break;
	case CAT_SORT_RECORDED: walk_order(m, ix.by_recorded, ix.n_order, &w); break;
	case CAT_SORT_RELEVANCE: {
		size_t n;
		uint32_t *ranked = fts_ranked(db, &fv, match, &n);
		walk_ranked(m, ranked, n, &w);
		free(ranked);
		break;
	}
	default: walk_ids(m, true, &w); break;
	}
	out->n = w.n;
	out->clips = w.n ? kd_calloc(w.n, sizeof *out->clips) : NULL;
	for (size_t i = 0; i < w.n; i++)
		ix_clip_of(&ix.slots[w.out[i]], &out->clips[i]);
	pthread_rwlock_unlock(&ix_lock);
	free(w.out);
	free(m);
	return 0;
}

int idx_get(struct kd_db *db, const struct kd_user *user, int64_t id, struct cat_clip *out)
{
	int rc = ix_sync_and_read(db);
	if (rc < 0)
		return rc;
	size_t i = ix_map_get(id);
	if (i == SIZE_MAX || !ix.slots[i].id || !may_see(user, &ix.slots[i]))
		rc = KD_ENOTFOUND;
	else
		ix_clip_of(&ix.slots[i], out);
	pthread_rwlock_unlock(&ix_lock);
	return rc;
}

static int count_by(struct kd_db *db, const struct kd_user *user, bool schools, const int64_t *ids,
                    int64_t *counts, size_t n)
{
	int rc = ix_sync_and_read(db);
	if (rc < 0)
		return rc;
	uint64_t *v = visible(user);
	for (size_t k = 0; k < n; k++) {
		size_t i = schools ? ix_school_index(ids[k]) : ix_practice_by_id(ids[k]);
		const uint64_t *b = i == SIZE_MAX ? NULL
		                    : schools ? ix.schools[i].bits : ix.practices[i].bits;
		counts[k] = b ? popcount_and(v, b) : 0;
	}
	pthread_rwlock_unlock(&ix_lock);
	free(v);
	return 0;
}

int idx_count_by_school(struct kd_db *db, const struct kd_user *user, const int64_t *ids,
                        int64_t *counts, size_t n)
{
	return count_by(db, user, true, ids, counts, n);
}

int idx_count_by_practice(struct kd_db *db, const struct kd_user *user, const int64_t *ids,
                          int64_t *counts, size_t n)
{
	return count_by(db, user, false, ids, counts, n);
}

int cat_index_warm(struct kd_db *db)
{
	int rc = ix_sync_and_read(db);
	if (rc == 0)
		pthread_rwlock_unlock(&ix_lock);
	return rc;
}

int cat_changes_prune(struct kd_db *db, int64_t keep)
{
	struct kd_stmt *st;
	if (db_prepare(db, "DELETE FROM clip_changes WHERE seq <= "
	                           "(SELECT max(seq) FROM clip_changes) - ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, keep);
	int rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}

/* ---------------------------------------------------------------- summaries
 * Read access for the summaries (index.h, summary_index.c).  Only reads:
 * the index stays as the code above keeps it. */

int idx_summary_begin(struct kd_db *db)
{
	return ix_sync_and_read(db);
}

void idx_summary_end(void)
{
	pthread_rwlock_unlock(&ix_lock);
}

int64_t idx_summary_seq(void)
{
	return ix.seq;
}

size_t idx_summary_practices(void)
{
	return ix.n_practices;
}

int64_t idx_summary_practice_id(size_t k)
{
	return ix.practices[k].id;
}

const char *idx_summary_practice_slug(size_t k)
{
	return ix.practices[k].slug;
}

const char *idx_fact_teacher(const struct idx_fact *f)
{
	return ix_str_at(f->record, S_TEACHER);
}

static void fact_of(const struct iclip *r, struct idx_fact *f)
{
	bool recorded_null = r->nulls >> S_RECORDED & 1;
	bool shared = ix_shared(r);
	*f = (struct idx_fact){
		.id = r->id, .school_id = r->school_id, .uploader_id = r->uploader_id,
		.status = (enum cat_status)r->status,
		.shared_district = shared && r->visibility == VIS_DISTRICT,
		.shared_school = shared && r->visibility == VIS_SCHOOL,
		.recorded_on = recorded_null ? NULL : ix_str_at(r, S_RECORDED),
		.uploaded_at = recorded_null ? ix_str_at(r, S_UPLOADED) : NULL,
		.duration_s = r->duration_s,
		.n_practices = r->n_practices, .practices = r->practices,
		.record = r,
	};
}

void idx_summary_walk(void (*fn)(const struct idx_fact *f, void *ctx), void *ctx)
{
	/* slots are in id order: a walk of the bits in order is id order */
	for (size_t w = 0; w < ix.nw; w++) {
		for (uint64_t b = ix.live[w]; b; b &= b - 1) {
			struct idx_fact f;
			fact_of(&ix.slots[w * 64 + (size_t)__builtin_ctzll(b)], &f);
			fn(&f, ctx);
		}
	}
}

int idx_summary_get(int64_t id, struct idx_fact *f)
{
	size_t i = ix_map_get(id);
	if (i == SIZE_MAX || !ix.slots[i].id)
		return KD_ENOTFOUND;
	fact_of(&ix.slots[i], f);
	return 0;
}
