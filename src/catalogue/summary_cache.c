/* summary_cache.c - the summaries' table of clips in memory (see
 * summary_cache.h).
 *
 * It holds what a summary reads of each clip, and nothing else, in arrays
 * per school in id order: a school's summary reads its schools' arrays
 * from end to end, the district's all of them.  Read from the index itself
 * (index.c), the same walk touched each clip's strings somewhere in the
 * heap, a miss of the processor's caches per clip: 9 ms a school at
 * 100,000 clips, and ten times that at a million.  Texts a summary groups
 * or compares (dates, months, teachers) are numbered once; dates and
 * months are compared by their rank in text order.  The cache follows the
 * index: each summary brings it to the change the index holds
 * (clip_changes, schema/005) by reloading the clips that changed since,
 * from the index; it reloads everything when it cannot tell what changed
 * (the record was pruned, or the catalogue is another).
 *
 * Text is compared as SQLite compares it (bytes, then the shorter first)
 * and cut as its substr() cuts it, so dates and months group and sort the
 * same even when they are not what the forms allow. */
#include "summary_cache.h"

#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* ---------------------------------------------------------------- text */


struct slice sumc_slice_of(const char *s)
{
	return (struct slice){s, strlen(s)};
}

/* SQLite's BINARY collation: the bytes, then the shorter first. */
int sumc_slice_cmp(struct slice a, struct slice b)
{
	int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
	return c ? c : (a.n > b.n) - (a.n < b.n);
}

/* The bytes of SQLite's substr(s, 1, chars) of the n bytes at s: a
 * character is a byte, and a byte from 0xc0 up takes the continuation
 * bytes after it (DB_SKIP_UTF8). */
static size_t prefix_len(const char *s, size_t n, size_t chars)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	for (; chars && p < end && *p; chars--)
		if (*p++ >= 0xc0)
			while (p < end && (*p & 0xc0) == 0x80)
				p++;
	return (size_t)(p - (const unsigned char *)s);
}

/* coalesce(c.recorded_on, substr(c.uploaded_at, 1, 10)) */
static struct slice clip_date(const struct idx_fact *f)
{
	if (f->recorded_on)
		return sumc_slice_of(f->recorded_on);
	return (struct slice){f->uploaded_at,
	                      prefix_len(f->uploaded_at, strlen(f->uploaded_at), 10)};
}

/* substr(date, 1, 7) */
static struct slice month_of(struct slice date)
{
	return (struct slice){date.p, prefix_len(date.p, date.n, 7)};
}

/* ---------------------------------------------------------------- numbered texts */


static size_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3u;
	return (size_t)(h ^ h >> 32);
}

static bool text_is(const struct texts *t, uint32_t k, struct slice s)
{
	return t->len[k] == s.n && !memcmp(t->s[k], s.p, s.n);
}

static void texts_place(struct texts *t, uint32_t k)
{
	size_t i = hash_bytes(t->s[k], t->len[k]) & (t->table_cap - 1);
	while (t->table[i])
		i = (i + 1) & (t->table_cap - 1);
	t->table[i] = k + 1;
}

/* The number of s, a new one when it is new. */
static uint32_t text_number(struct texts *t, struct slice s)
{
	if (t->last && text_is(t, t->last - 1, s))
		return t->last - 1;
	if ((t->n + 1) * 2 > t->table_cap) {
		free(t->table);
		t->table_cap = t->table_cap ? t->table_cap * 2 : 256;
		t->table = kd_calloc(t->table_cap, sizeof *t->table);
		for (uint32_t k = 0; k < t->n; k++)
			texts_place(t, k);
	}
	size_t i = hash_bytes(s.p, s.n) & (t->table_cap - 1);
	for (; t->table[i]; i = (i + 1) & (t->table_cap - 1))
		if (text_is(t, t->table[i] - 1, s))
			return (t->last = t->table[i]) - 1;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->s = kd_realloc(t->s, t->cap * sizeof *t->s);
		t->len = kd_realloc(t->len, t->cap * sizeof *t->len);
		t->month = kd_realloc(t->month, t->cap * sizeof *t->month);
	}
	t->s[t->n] = kd_strndup(s.p, s.n);
	t->len[t->n] = s.n;
	t->month[t->n] = 0;
	t->table[i] = (uint32_t)++t->n;
	return (t->last = (uint32_t)t->n) - 1;
}

struct slice sumc_text_at(const struct texts *t, uint32_t k)
{
	return (struct slice){t->s[k], t->len[k]};
}

static const struct texts *sorting; /* qsort has no context; under sumc_lock */

static int by_text(const void *a, const void *b)
{
	return sumc_slice_cmp(sumc_text_at(sorting, *(const uint32_t *)a),
	                 sumc_text_at(sorting, *(const uint32_t *)b));
}

/* Rank every text (when some came since the last time). */
void sumc_texts_rank(struct texts *t)
{
	if (t->ranked == t->n)
		return;
	t->rank = kd_realloc(t->rank, (t->n + 1) * sizeof *t->rank);
	t->order = kd_realloc(t->order, (t->n + 1) * sizeof *t->order);
	for (uint32_t k = 0; k < t->n; k++)
		t->order[k] = k;
	sorting = t;
	qsort(t->order, t->n, sizeof *t->order, by_text);
	for (uint32_t r = 0; r < t->n; r++)
		t->rank[t->order[r]] = r;
	t->ranked = t->n;
}

static void texts_free(struct texts *t)
{
	for (size_t k = 0; k < t->n; k++)
		free(t->s[k]);
	free(t->s);
	free(t->len);
	free(t->month);
	free(t->table);
	free(t->rank);
	free(t->order);
	memset(t, 0, sizeof *t);
}

/* ---------------------------------------------------------------- the cache */

pthread_mutex_t sumc_lock = PTHREAD_MUTEX_INITIALIZER;
struct summary_cache sumc;



#define CACHE_REBUILD_PAST 20000 /* changes past which reloading all is quicker */



static void cache_drop_all(void)
{
	for (size_t k = 0; k < sumc.ns; k++) {
		struct cschool *s = &sumc.schools[k];
		free(s->ids);
		free(s->uploaders);
		free(s->seconds);
		free(s->dates);
		free(s->teachers);
		free(s->flags);
		free(s->practices);
	}
	free(sumc.schools);
	free(sumc.practice_ids);
	texts_free(&sumc.dates);
	texts_free(&sumc.months);
	texts_free(&sumc.teachers);
	memset(&sumc, 0, sizeof sumc);
}

struct cschool *sumc_school(int64_t id, bool add)
{
	for (size_t k = 0; k < sumc.ns; k++)
		if (sumc.schools[k].id == id)
			return &sumc.schools[k];
	if (!add)
		return NULL;
	sumc.schools = kd_realloc(sumc.schools, (sumc.ns + 1) * sizeof *sumc.schools);
	struct cschool *s = &sumc.schools[sumc.ns++];
	memset(s, 0, sizeof *s);
	s->id = id;
	return s;
}

/* Room for one more clip, at position at (the others move up). */
static void cschool_open(struct cschool *s, size_t at)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap + s->cap / 2 : 256;
		s->ids = kd_realloc(s->ids, s->cap * sizeof *s->ids);
		s->uploaders = kd_realloc(s->uploaders, s->cap * sizeof *s->uploaders);
		s->seconds = kd_realloc(s->seconds, s->cap * sizeof *s->seconds);
		s->dates = kd_realloc(s->dates, s->cap * sizeof *s->dates);
		s->teachers = kd_realloc(s->teachers, s->cap * sizeof *s->teachers);
		s->flags = kd_realloc(s->flags, s->cap * sizeof *s->flags);
		s->practices = kd_realloc(s->practices, s->cap * sumc.words * sizeof *s->practices);
	}
	size_t after = s->n - at;
	memmove(s->ids + at + 1, s->ids + at, after * sizeof *s->ids);
	memmove(s->uploaders + at + 1, s->uploaders + at, after * sizeof *s->uploaders);
	memmove(s->seconds + at + 1, s->seconds + at, after * sizeof *s->seconds);
	memmove(s->dates + at + 1, s->dates + at, after * sizeof *s->dates);
	memmove(s->teachers + at + 1, s->teachers + at, after * sizeof *s->teachers);
	memmove(s->flags + at + 1, s->flags + at, after * sizeof *s->flags);
	memmove(s->practices + (at + 1) * sumc.words, s->practices + at * sumc.words,
	        after * sumc.words * sizeof *s->practices);
	s->n++;
}

/* Leave out the dead clips (when they are many). */
static void cschool_compact(struct cschool *s)
{
	size_t w = sumc.words, to = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->flags[i] & F_DEAD)
			continue;
		s->ids[to] = s->ids[i];
		s->uploaders[to] = s->uploaders[i];
		s->seconds[to] = s->seconds[i];
		s->dates[to] = s->dates[i];
		s->teachers[to] = s->teachers[i];
		s->flags[to] = s->flags[i];
		memmove(s->practices + to * w, s->practices + i * w, w * sizeof *s->practices);
		to++;
	}
	s->n = to;
	s->dead = 0;
}

/* Where id is, or would go, in s. */
static size_t cschool_pos(const struct cschool *s, int64_t id)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The cache's number for each of the index's practice numbers (new
 * practices get one).  Caller frees. */
static uint32_t *practice_map(void)
{
	size_t n = idx_summary_practices();
	uint32_t *map = kd_calloc(n + 1, sizeof *map);
	for (size_t k = 0; k < n; k++) {
		int64_t id = idx_summary_practice_id(k);
		size_t p = 0;
		while (p < sumc.np && sumc.practice_ids[p] != id)
			p++;
		if (p == sumc.np) {
			if (sumc.np == sumc.cap_p)
				sumc.practice_ids = kd_realloc(sumc.practice_ids, (sumc.cap_p = sumc.cap_p ? sumc.cap_p * 2 : 16) *
				                                                      sizeof *sumc.practice_ids);
			sumc.practice_ids[sumc.np++] = id;
		}
		map[k] = (uint32_t)p;
	}
	return map;
}

/* Write clip f at row i of s. */
static void cschool_fill(struct cschool *s, size_t i, const struct idx_fact *f,
                         const uint32_t *map)
{
	s->ids[i] = f->id;
	s->uploaders[i] = f->uploader_id;
	s->seconds[i] = f->duration_s;
	size_t before = sumc.dates.n;
	uint32_t d = text_number(&sumc.dates, clip_date(f));
	if (sumc.dates.n != before)
		sumc.dates.month[d] = text_number(&sumc.months, month_of(sumc_text_at(&sumc.dates, d)));
	s->dates[i] = d;
	s->teachers[i] = text_number(&sumc.teachers, sumc_slice_of(idx_fact_teacher(f)));
	s->flags[i] = (uint8_t)((f->status == CAT_READY ? F_READY : 0) |
	                        (f->shared_district ? F_DISTRICT : 0) |
	                        (f->shared_school ? F_SCHOOL : 0));
	uint64_t *bits = s->practices + i * sumc.words;
	memset(bits, 0, sumc.words * sizeof *bits);
	for (size_t k = 0; k < f->n_practices; k++)
		if (f->practices[k] != UINT16_MAX) {
			uint32_t p = map[f->practices[k]];
			bits[p / 64] |= (uint64_t)1 << (p % 64);
		}
}

static void cache_kill(struct cschool *s, size_t i)
{
	if (!(s->flags[i] & F_DEAD)) {
		s->flags[i] |= F_DEAD;
		s->dead++;
	}
}

/* Clip f as the index has it now: in place, or moved to its school (where
 * it may have been before, dead), and dead anywhere else. */
static void cache_put(const struct idx_fact *f, const uint32_t *map)
{
	struct cschool *to = sumc_school(f->school_id, true);
	size_t at = SIZE_MAX;
	for (size_t k = 0; k < sumc.ns; k++) {
		struct cschool *s = &sumc.schools[k];
		size_t i = cschool_pos(s, f->id);
		if (i == s->n || s->ids[i] != f->id)
			continue;
		if (s == to)
			at = i;
		else
			cache_kill(s, i);
	}
	if (at == SIZE_MAX) {
		at = cschool_pos(to, f->id);
		cschool_open(to, at);
	} else if (to->flags[at] & F_DEAD) {
		to->dead--;
	}
	cschool_fill(to, at, f, map);
}

static void cache_drop(int64_t id)
{
	for (size_t k = 0; k < sumc.ns; k++) {
		struct cschool *s = &sumc.schools[k];
		size_t i = cschool_pos(s, id);
		if (i < s->n && s->ids[i] == id)
			cache_kill(s, i);
	}
}

struct rebuild {
	const uint32_t *map;
};

/* Clips come in id order: each goes at the end of its school's. */
static void rebuild_fact(const struct idx_fact *f, void *ctx)
{
	const struct rebuild *r = ctx;
	struct cschool *s = sumc_school(f->school_id, true);
	cschool_open(s, s->n);
	cschool_fill(s, s->n - 1, f, r->map);
}

/* Everything again from the index (held). */
static void cache_rebuild(int64_t seq)
{
	cache_drop_all();
	sumc.words = (idx_summary_practices() + 64) / 64;
	uint32_t *map = practice_map();
	struct rebuild r = {.map = map};
	idx_summary_walk(rebuild_fact, &r);
	free(map);
	sumc.built = true;
	sumc.seq = seq;
}

/* Bring the cache to the change the index holds (held, as sumc_lock). */
static int cache_sync(struct kd_db *db)
{
	int64_t seq = idx_summary_seq();
	if (sumc.built && sumc.seq == seq)
		return 0;
	struct kd_stmt *st;
	int64_t oldest = -1;
	if (sumc.built && seq > sumc.seq) {
		if (db_stmt(db, "SELECT coalesce(min(seq), 0) FROM clip_changes", &st) < 0)
			return KD_EDB;
		if (db_step(st) == DB_ROW)
			oldest = db_column_int64(st, 0);
		db_stmt_done(st);
	}
	/* never built, behind, another catalogue, or what changed was pruned */
	if (oldest < 0 || oldest > sumc.seq + 1) {
		cache_rebuild(seq);
		return 0;
	}
	uint32_t *map = practice_map();
	if (sumc.np > sumc.words * 64) {
		free(map);
		cache_rebuild(seq);
		return 0;
	}
	if (db_stmt(db, "SELECT DISTINCT clip_id FROM clip_changes WHERE seq > ?1 AND seq <= ?2 "
	                "LIMIT ?3", &st) < 0) {
		free(map);
		return KD_EDB;
	}
	db_bind_int64(st, 1, sumc.seq);
	db_bind_int64(st, 2, seq);
	db_bind_int(st, 3, CACHE_REBUILD_PAST + 1);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (n == cap)
			ids = kd_realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *ids);
		ids[n++] = db_column_int64(st, 0);
	}
	db_stmt_done(st);
	if (rc != DB_DONE) {
		free(map);
		free(ids);
		return db_err_code(rc);
	}
	if (n > CACHE_REBUILD_PAST) {
		cache_rebuild(seq);
	} else {
		/* 0 is "names changed": the cache keeps ids, not names */
		for (size_t i = 0; i < n; i++) {
			struct idx_fact f;
			if (!ids[i])
				continue;
			if (idx_summary_get(ids[i], &f) == 0)
				cache_put(&f, map);
			else
				cache_drop(ids[i]);
		}
		for (size_t k = 0; k < sumc.ns; k++)
			if (sumc.schools[k].dead > 64 && sumc.schools[k].dead * 4 > sumc.schools[k].n)
				cschool_compact(&sumc.schools[k]);
		sumc.seq = seq;
	}
	free(map);
	free(ids);
	return 0;
}

/* The cache up to date and held (sumc_lock), with each practice number's
 * slug in *slugs (caller frees them).  0, or a KD_E* code and nothing held. */
int sumc_begin(struct kd_db *db, char ***slugs)
{
	int rc = idx_summary_begin(db);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&sumc_lock);
	rc = cache_sync(db);
	if (rc == 0 && slugs) {
		*slugs = kd_calloc(sumc.np + 1, sizeof **slugs);
		for (size_t k = 0, n = idx_summary_practices(); k < n; k++)
			for (size_t p = 0; p < sumc.np; p++)
				if (sumc.practice_ids[p] == idx_summary_practice_id(k))
					(*slugs)[p] = kd_strdup(idx_summary_practice_slug(k));
		/* a practice the index no longer has has no clip either */
		for (size_t p = 0; p < sumc.np; p++)
			if (!(*slugs)[p])
				(*slugs)[p] = kd_strdup("");
	}
	idx_summary_end();
	if (rc < 0)
		pthread_mutex_unlock(&sumc_lock);
	return rc;
}

void sumc_end(void)
{
	pthread_mutex_unlock(&sumc_lock);
}

void sumc_slugs_free(char **slugs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(slugs[i]);
	free(slugs);
}

