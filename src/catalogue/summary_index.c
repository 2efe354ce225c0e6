/* summary_index.c - the summaries from the catalogue in memory (see
 * summary_index.h).
 *
 * Each answer is the one summary.c's SQL gives, taken apart: clips from a
 * table of their own kept here (the cache below), views from the counts
 * of schema/006, visits, which are few, from SQL as before.
 *
 * The cache holds what a summary reads of each clip, and nothing else, in
 * arrays per school in id order: a school's summary reads its schools'
 * arrays from end to end, the district's all of them.  Read from the
 * index itself (index.c), the same walk touched each clip's strings
 * somewhere in the heap, a miss of the processor's caches per clip: 9 ms
 * a school at 100,000 clips, and ten times that at a million.  Texts a
 * summary groups or compares (dates, months, teachers) are numbered once;
 * dates and months are compared by their rank in text order.  The cache
 * follows the index: each summary brings it to the change the index holds
 * (clip_changes, schema/005) by reloading the clips that changed since,
 * from the index; it reloads everything when it cannot tell what changed
 * (the record was pruned, or the catalogue is another).
 *
 * Text is compared as SQLite compares it (bytes, then the shorter first)
 * and cut as its substr() cuts it, so dates and months group and sort the
 * same even when they are not what the forms allow. */
#include "summary_index.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "index.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* ---------------------------------------------------------------- text */

/* A piece of a clip's text (a date, a month), not terminated. */
struct slice {
	const char *p;
	size_t n;
};

static struct slice slice_of(const char *s)
{
	return (struct slice){s, strlen(s)};
}

/* SQLite's BINARY collation: the bytes, then the shorter first. */
static int slice_cmp(struct slice a, struct slice b)
{
	int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
	return c ? c : (a.n > b.n) - (a.n < b.n);
}

/* The bytes of SQLite's substr(s, 1, chars) of the n bytes at s: a
 * character is a byte, and a byte from 0xc0 up takes the continuation
 * bytes after it (SQLITE_SKIP_UTF8). */
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
		return slice_of(f->recorded_on);
	return (struct slice){f->uploaded_at,
	                      prefix_len(f->uploaded_at, strlen(f->uploaded_at), 10)};
}

/* substr(date, 1, 7) */
static struct slice month_of(struct slice date)
{
	return (struct slice){date.p, prefix_len(date.p, date.n, 7)};
}

/* ---------------------------------------------------------------- numbered texts */

/* Distinct texts, numbered as they come, found by hash; ranked (put in
 * text order) when asked. */
struct texts {
	char **s;         /* copies (index text has no NUL inside) */
	size_t *len;
	uint32_t *month;  /* dates: the number of their month in cc.months */
	size_t n, cap;
	uint32_t *table;  /* number + 1; 0: empty */
	size_t table_cap; /* a power of two */
	uint32_t last;    /* the number found last, + 1: clips next to each
	                   * other in id order often share a date or a teacher */
	uint32_t *rank;   /* rank[number]: its place in text order */
	uint32_t *order;  /* order[place]: the number there */
	size_t ranked;    /* how many the ranks cover */
};

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

static struct slice text_at(const struct texts *t, uint32_t k)
{
	return (struct slice){t->s[k], t->len[k]};
}

static const struct texts *sorting; /* qsort has no context; under cc_lock */

static int by_text(const void *a, const void *b)
{
	return slice_cmp(text_at(sorting, *(const uint32_t *)a),
	                 text_at(sorting, *(const uint32_t *)b));
}

/* Rank every text (when some came since the last time). */
static void texts_rank(struct texts *t)
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

enum {
	F_READY = 1,
	F_DISTRICT = 2, /* ready, consent on file, visible to the district */
	F_SCHOOL = 4,   /* the same, visible to its own school */
	F_DEAD = 8,     /* gone (deleted, or moved to another school) */
};

/* The clips of one school, in id order, a column per field. */
struct cschool {
	int64_t id;
	size_t n, cap, dead;
	int64_t *ids, *uploaders; /* uploader 0: none */
	double *seconds;          /* 0 for SQL NULL, which sum() skips: the same sum */
	uint32_t *dates, *teachers;
	uint8_t *flags;
	uint64_t *practices;      /* cc.words per clip: a bit per practice number */
};

#define CACHE_REBUILD_PAST 20000 /* changes past which reloading all is quicker */

/* Everything below but the lock is guarded by it. */
static pthread_mutex_t cc_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
	bool built;
	int64_t seq;                /* the index's, when the cache was last brought up */
	size_t words;               /* of practice bits per clip */
	int64_t *practice_ids;      /* practice numbers of the cache, in the order seen */
	size_t np, cap_p;
	struct cschool *schools;
	size_t ns;
	struct texts dates, months, teachers;
} cc;

static void cache_drop_all(void)
{
	for (size_t k = 0; k < cc.ns; k++) {
		struct cschool *s = &cc.schools[k];
		free(s->ids);
		free(s->uploaders);
		free(s->seconds);
		free(s->dates);
		free(s->teachers);
		free(s->flags);
		free(s->practices);
	}
	free(cc.schools);
	free(cc.practice_ids);
	texts_free(&cc.dates);
	texts_free(&cc.months);
	texts_free(&cc.teachers);
	memset(&cc, 0, sizeof cc);
}

static struct cschool *cschool_of(int64_t id, bool add)
{
	for (size_t k = 0; k < cc.ns; k++)
		if (cc.schools[k].id == id)
			return &cc.schools[k];
	if (!add)
		return NULL;
	cc.schools = kd_realloc(cc.schools, (cc.ns + 1) * sizeof *cc.schools);
	struct cschool *s = &cc.schools[cc.ns++];
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
		s->practices = kd_realloc(s->practices, s->cap * cc.words * sizeof *s->practices);
	}
	size_t after = s->n - at;
	memmove(s->ids + at + 1, s->ids + at, after * sizeof *s->ids);
	memmove(s->uploaders + at + 1, s->uploaders + at, after * sizeof *s->uploaders);
	memmove(s->seconds + at + 1, s->seconds + at, after * sizeof *s->seconds);
	memmove(s->dates + at + 1, s->dates + at, after * sizeof *s->dates);
	memmove(s->teachers + at + 1, s->teachers + at, after * sizeof *s->teachers);
	memmove(s->flags + at + 1, s->flags + at, after * sizeof *s->flags);
	memmove(s->practices + (at + 1) * cc.words, s->practices + at * cc.words,
	        after * cc.words * sizeof *s->practices);
	s->n++;
}

/* Leave out the dead clips (when they are many). */
static void cschool_compact(struct cschool *s)
{
	size_t w = cc.words, to = 0;
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
		while (p < cc.np && cc.practice_ids[p] != id)
			p++;
		if (p == cc.np) {
			if (cc.np == cc.cap_p)
				cc.practice_ids = kd_realloc(cc.practice_ids, (cc.cap_p = cc.cap_p ? cc.cap_p * 2 : 16) *
				                                                      sizeof *cc.practice_ids);
			cc.practice_ids[cc.np++] = id;
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
	size_t before = cc.dates.n;
	uint32_t d = text_number(&cc.dates, clip_date(f));
	if (cc.dates.n != before)
		cc.dates.month[d] = text_number(&cc.months, month_of(text_at(&cc.dates, d)));
	s->dates[i] = d;
	s->teachers[i] = text_number(&cc.teachers, slice_of(idx_fact_teacher(f)));
	s->flags[i] = (uint8_t)((f->status == CAT_READY ? F_READY : 0) |
	                        (f->shared_district ? F_DISTRICT : 0) |
	                        (f->shared_school ? F_SCHOOL : 0));
	uint64_t *bits = s->practices + i * cc.words;
	memset(bits, 0, cc.words * sizeof *bits);
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
	struct cschool *to = cschool_of(f->school_id, true);
	size_t at = SIZE_MAX;
	for (size_t k = 0; k < cc.ns; k++) {
		struct cschool *s = &cc.schools[k];
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
	for (size_t k = 0; k < cc.ns; k++) {
		struct cschool *s = &cc.schools[k];
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
	struct cschool *s = cschool_of(f->school_id, true);
	cschool_open(s, s->n);
	cschool_fill(s, s->n - 1, f, r->map);
}

/* Everything again from the index (held). */
static void cache_rebuild(int64_t seq)
{
	cache_drop_all();
	cc.words = (idx_summary_practices() + 64) / 64;
	uint32_t *map = practice_map();
	struct rebuild r = {.map = map};
	idx_summary_walk(rebuild_fact, &r);
	free(map);
	cc.built = true;
	cc.seq = seq;
}

/* Bring the cache to the change the index holds (held, as cc_lock). */
static int cache_sync(sqlite3 *db)
{
	int64_t seq = idx_summary_seq();
	if (cc.built && cc.seq == seq)
		return 0;
	sqlite3_stmt *st;
	int64_t oldest = -1;
	if (cc.built && seq > cc.seq) {
		if (db_stmt(db, "SELECT coalesce(min(seq), 0) FROM clip_changes", &st) < 0)
			return KD_EDB;
		if (sqlite3_step(st) == SQLITE_ROW)
			oldest = sqlite3_column_int64(st, 0);
		db_stmt_done(st);
	}
	/* never built, behind, another catalogue, or what changed was pruned */
	if (oldest < 0 || oldest > cc.seq + 1) {
		cache_rebuild(seq);
		return 0;
	}
	uint32_t *map = practice_map();
	if (cc.np > cc.words * 64) {
		free(map);
		cache_rebuild(seq);
		return 0;
	}
	if (db_stmt(db, "SELECT DISTINCT clip_id FROM clip_changes WHERE seq > ?1 AND seq <= ?2 "
	                "LIMIT ?3", &st) < 0) {
		free(map);
		return KD_EDB;
	}
	sqlite3_bind_int64(st, 1, cc.seq);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int(st, 3, CACHE_REBUILD_PAST + 1);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap)
			ids = kd_realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *ids);
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	db_stmt_done(st);
	if (rc != SQLITE_DONE) {
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
		for (size_t k = 0; k < cc.ns; k++)
			if (cc.schools[k].dead > 64 && cc.schools[k].dead * 4 > cc.schools[k].n)
				cschool_compact(&cc.schools[k]);
		cc.seq = seq;
	}
	free(map);
	free(ids);
	return 0;
}

/* The cache up to date and held (cc_lock), with each practice number's
 * slug in *slugs (caller frees them).  0, or a KD_E* code and nothing held. */
static int cache_begin(sqlite3 *db, char ***slugs)
{
	int rc = idx_summary_begin(db);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&cc_lock);
	rc = cache_sync(db);
	if (rc == 0 && slugs) {
		*slugs = kd_calloc(cc.np + 1, sizeof **slugs);
		for (size_t k = 0, n = idx_summary_practices(); k < n; k++)
			for (size_t p = 0; p < cc.np; p++)
				if (cc.practice_ids[p] == idx_summary_practice_id(k))
					(*slugs)[p] = kd_strdup(idx_summary_practice_slug(k));
		/* a practice the index no longer has has no clip either */
		for (size_t p = 0; p < cc.np; p++)
			if (!(*slugs)[p])
				(*slugs)[p] = kd_strdup("");
	}
	idx_summary_end();
	if (rc < 0)
		pthread_mutex_unlock(&cc_lock);
	return rc;
}

static void cache_end(void)
{
	pthread_mutex_unlock(&cc_lock);
}

static void slugs_free(char **slugs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(slugs[i]);
	free(slugs);
}

int sumx_warm(sqlite3 *db)
{
	int rc = cache_begin(db, NULL);
	if (rc == 0)
		cache_end();
	return rc;
}

/* ---------------------------------------------------------------- SQL */

/* A step of a statement of db_stmt(): SQLITE_ROW or SQLITE_DONE with the
 * statement still out (give it back), or another code, logged, with the
 * statement given back. */
static int stmt_step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_error("summary", "%s", sqlite3_errmsg(sqlite3_db_handle(st)));
		db_stmt_done(st);
	}
	return rc;
}

static int64_t count_of(sqlite3 *db, const char *sql, int64_t school, const char *from,
                        const char *to, int64_t user)
{
	sqlite3_stmt *st;
	if (db_stmt(db, sql, &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, school);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 4)
		sqlite3_bind_int64(st, 4, user);
	if (stmt_step(st) != SQLITE_ROW)
		return -1;
	int64_t n = sqlite3_column_int64(st, 0);
	db_stmt_done(st);
	return n;
}

/* Views of school's clips by people of other schools, from..to, of the
 * clips user may see.  A user who may summarise a school is an admin (who
 * sees every clip) or one of its people, who sees its shared clips (the
 * counts keep them apart) and the clips they uploaded themselves: those
 * not shared are few, and counted from views. */
static int64_t views_from_others(sqlite3 *db, const struct kd_user *user, int64_t school,
                                 const char *from, const char *to)
{
	static const char all[] = "SELECT coalesce(sum(n), 0) FROM view_counts "
	                          "WHERE clip_school_id = ?1 AND day BETWEEN ?2 AND ?3";
	static const char shared[] = "SELECT coalesce(sum(n), 0) FROM view_counts "
	                             "WHERE clip_school_id = ?1 AND day BETWEEN ?2 AND ?3 "
	                             "AND shared = 1";
	static const char own[] =
		"SELECT count(*) FROM clips c JOIN views v ON v.clip_id = c.id "
		"WHERE c.uploader_id = ?4 AND c.school_id = ?1 AND NOT (c.status = 'ready' "
		"AND c.consent = 'on-file' AND c.visibility IN ('district', 'school')) "
		"AND v.school_id != ?1 AND v.day BETWEEN ?2 AND ?3";
	if (user->role == KD_ROLE_ADMIN)
		return count_of(db, all, school, from, to, 0);
	int64_t a = count_of(db, shared, school, from, to, 0);
	int64_t b = a < 0 ? -1 : count_of(db, own, school, from, to, user->id);
	return b < 0 ? -1 : a + b;
}

static const char *const STATUSES[] = {"requested", "accepted", "declined", "done"};

/* Visits of school (hosted or made) created from..to, by status. */
static json_t *visit_counts(sqlite3 *db, bool hosted, int64_t school, const char *from,
                            const char *to)
{
	static const char host[] = "SELECT status, count(*) FROM visits WHERE host_school_id = ?1 "
	                           "AND substr(created_at, 1, 10) BETWEEN ?2 AND ?3 GROUP BY status";
	static const char visitor[] = "SELECT status, count(*) FROM visits WHERE "
	                              "visitor_school_id = ?1 AND substr(created_at, 1, 10) "
	                              "BETWEEN ?2 AND ?3 GROUP BY status";
	sqlite3_stmt *st;
	if (db_stmt(db, hosted ? host : visitor, &st) < 0)
		return NULL;
	sqlite3_bind_int64(st, 1, school);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof STATUSES / sizeof *STATUSES; i++)
		json_object_set_new(o, STATUSES[i], json_integer(0));
	int rc;
	while ((rc = stmt_step(st)) == SQLITE_ROW)
		json_object_set_new(o, (const char *)sqlite3_column_text(st, 0),
		                    json_integer(sqlite3_column_int64(st, 1)));
	if (rc != SQLITE_DONE) {
		json_decref(o);
		return NULL;
	}
	db_stmt_done(st);
	return o;
}

/* The first time (before first) school's people saw practice at another
 * school: the earliest view (by day, then that school's slug), else an
 * earlier accepted or done visit (by date, then slug); a view wins a tie
 * of days.  0 with *via NULL when there was none, or KD_EDB. */
static int first_seen(sqlite3 *db, int64_t school, int64_t practice, const char *first,
                      char **day, char **at, const char **via)
{
	static const char view[] =
		"SELECT t.day, s.slug FROM view_practice_counts t JOIN schools s "
		"ON s.id = t.clip_school_id WHERE t.viewer_school_id = ?1 AND t.practice_id = ?2 "
		"AND t.day < ?3 AND t.n > 0 ORDER BY t.day, s.slug LIMIT 1";
	static const char visit[] =
		"SELECT vi.date, s.slug FROM visits vi JOIN schools s ON s.id = vi.host_school_id "
		"WHERE vi.visitor_school_id = ?1 AND vi.host_school_id != ?1 "
		"AND vi.status IN ('accepted', 'done') AND vi.date < ?3 "
		"AND (vi.practice_id = ?2 OR EXISTS (SELECT 1 FROM clip_practices cp "
		"WHERE cp.clip_id = vi.clip_id AND cp.practice_id = ?2)) "
		"ORDER BY vi.date, s.slug LIMIT 1";
	*day = *at = NULL;
	*via = NULL;
	for (int k = 0; k < 2; k++) {
		sqlite3_stmt *st;
		if (db_stmt(db, k ? visit : view, &st) < 0)
			return KD_EDB;
		sqlite3_bind_int64(st, 1, school);
		sqlite3_bind_int64(st, 2, practice);
		sqlite3_bind_text(st, 3, first, -1, SQLITE_STATIC);
		int rc = stmt_step(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			free(*day);
			free(*at);
			return KD_EDB;
		}
		/* a visit only when strictly earlier: on the same day the view
		 * comes first (ORDER BY day, rank) */
		if (rc == SQLITE_ROW &&
		    (!*via || strcmp((const char *)sqlite3_column_text(st, 0), *day) < 0)) {
			free(*day);
			free(*at);
			*day = cat_col_dup(st, 0);
			*at = cat_col_dup(st, 1);
			*via = k ? "visit" : "view";
		}
		db_stmt_done(st);
	}
	return 0;
}

/* ---------------------------------------------------------------- a school */

/* What the cache gave for one practice, kept past its lock. */
struct practice_row {
	char *slug;
	int64_t id, clips;
	double seconds;
	char *first; /* its first clip's date here, over all time; NULL: none */
};

static int by_count_then_slug(const void *a, const void *b)
{
	const struct practice_row *x = a, *y = b;
	if (x->clips != y->clips)
		return x->clips > y->clips ? -1 : 1;
	return strcmp(x->slug, y->slug);
}

/* ORDER BY first, slug */
static int by_first_then_slug(const void *a, const void *b)
{
	const struct practice_row *x = a, *y = b;
	int c = strcmp(x->first, y->first);
	return c ? c : strcmp(x->slug, y->slug);
}

struct teacher_count {
	const char *name;
	int64_t clips;
};

/* ORDER BY count(*) DESC, c.teacher */
static int by_count_then_name(const void *a, const void *b)
{
	const struct teacher_count *x = a, *y = b;
	if (x->clips != y->clips)
		return x->clips > y->clips ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* What a summary asks of each date number: in the range or not, its rank,
 * its month and that month's rank (both texts ranked). */
struct day {
	uint32_t rank, month, month_rank;
	bool in;
};

static struct day *days_of(const char *from, const char *to)
{
	texts_rank(&cc.dates);
	texts_rank(&cc.months);
	struct slice f = slice_of(from), t = slice_of(to);
	struct day *days = kd_calloc(cc.dates.n + 1, sizeof *days);
	for (uint32_t d = 0; d < cc.dates.n; d++) {
		struct slice date = text_at(&cc.dates, d);
		uint32_t m = cc.dates.month[d];
		days[d] = (struct day){.rank = cc.dates.rank[d], .month = m,
		                       .month_rank = cc.months.rank[m],
		                       .in = slice_cmp(date, f) >= 0 && slice_cmp(date, t) <= 0};
	}
	return days;
}

/* clips, minutes, by_practice, by_month and teachers into o, and per
 * practice its first date (rows[0..*n]), from the cache (held). */
static void school_clips(const struct kd_user *user, int64_t sid, const char *from,
                         const char *to, char **slugs, json_t *o, struct practice_row **out,
                         size_t *n_out)
{
	struct day *days = days_of(from, to);
	size_t np = cc.np, w = cc.words;
	int64_t clips = 0, *p_clips = kd_calloc(np + 1, sizeof *p_clips);
	int64_t *m_clips = kd_calloc(cc.months.n + 1, sizeof *m_clips);
	int64_t *t_clips = kd_calloc(cc.teachers.n + 1, sizeof *t_clips);
	double seconds = 0, *p_seconds = kd_calloc(np + 1, sizeof *p_seconds);
	uint32_t *first = kd_malloc((np + 1) * sizeof *first); /* a date's rank */
	for (size_t p = 0; p < np; p++)
		first[p] = UINT32_MAX;
	/* the clips counted: ready, and seen by the user (index.c's may_see) */
	bool admin = user->role == KD_ROLE_ADMIN;
	uint8_t shared = F_DISTRICT | (user->school_id == sid ? F_SCHOOL : 0);
	const struct cschool *s = cschool_of(sid, false);
	size_t n = s ? s->n : 0;
	const uint8_t *flags = s ? s->flags : NULL;
	const int64_t *uploaders = s ? s->uploaders : NULL;
	const uint32_t *dates = s ? s->dates : NULL, *teachers = s ? s->teachers : NULL;
	const double *secs = s ? s->seconds : NULL;
	const uint64_t *practices = s ? s->practices : NULL;
	for (size_t i = 0; i < n; i++) {
		uint8_t f = flags[i];
		if ((f & (F_READY | F_DEAD)) != F_READY ||
		    !(admin || (f & shared) || (uploaders[i] && uploaders[i] == user->id)))
			continue;
		const struct day *day = &days[dates[i]];
		double sec = secs[i];
		const uint64_t *bits = practices + i * w;
		for (size_t k = 0; k < w; k++)
			for (uint64_t b = bits[k]; b; b &= b - 1) {
				size_t p = k * 64 + (size_t)__builtin_ctzll(b);
				if (day->rank < first[p])
					first[p] = day->rank;
				if (day->in) {
					p_clips[p]++;
					p_seconds[p] += sec;
				}
			}
		if (!day->in)
			continue;
		clips++;
		seconds += sec;
		m_clips[day->month]++;
		t_clips[teachers[i]]++;
	}
	json_object_set_new(o, "clips", json_integer(clips));
	json_object_set_new(o, "minutes", json_real(summary_minutes(seconds)));

	struct practice_row *rows = kd_calloc(np + 1, sizeof *rows);
	for (size_t p = 0; p < np; p++)
		rows[p] = (struct practice_row){
			.slug = kd_strdup(slugs[p]), .id = cc.practice_ids[p], .clips = p_clips[p],
			.seconds = p_seconds[p],
			.first = first[p] == UINT32_MAX ? NULL
			         : kd_strdup(cc.dates.s[cc.dates.order[first[p]]])};
	qsort(rows, np, sizeof *rows, by_count_then_slug);
	json_t *a = json_array();
	json_object_set_new(o, "by_practice", a);
	for (size_t p = 0; p < np && rows[p].clips; p++)
		json_array_append_new(a, json_pack("{ss sI sf}", "practice", rows[p].slug, "clips",
		                                   (json_int_t)rows[p].clips, "minutes",
		                                   summary_minutes(rows[p].seconds)));

	a = json_array();
	json_object_set_new(o, "by_month", a);
	for (uint32_t r = 0; r < cc.months.n; r++) {
		uint32_t m = cc.months.order[r];
		if (m_clips[m])
			json_array_append_new(a, json_pack("{ss sI}", "month", cc.months.s[m], "clips",
			                                   (json_int_t)m_clips[m]));
	}

	struct teacher_count *tc = kd_calloc(cc.teachers.n + 1, sizeof *tc);
	size_t nt = 0;
	for (uint32_t t = 0; t < cc.teachers.n; t++)
		if (t_clips[t] && cc.teachers.len[t]) /* c.teacher != '' */
			tc[nt++] = (struct teacher_count){cc.teachers.s[t], t_clips[t]};
	qsort(tc, nt, sizeof *tc, by_count_then_name);
	a = json_array();
	json_object_set_new(o, "teachers", a);
	for (size_t i = 0; i < nt; i++)
		json_array_append_new(a, json_pack("{ss sI}", "teacher", tc[i].name, "clips",
		                                   (json_int_t)tc[i].clips));
	free(tc);
	free(days);
	free(p_clips);
	free(p_seconds);
	free(m_clips);
	free(t_clips);
	free(first);
	*out = rows;
	*n_out = np;
}

static void rows_free(struct practice_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].slug);
		free(rows[i].first);
	}
	free(rows);
}

int sumx_school(sqlite3 *db, const struct kd_user *user, int64_t sid, const char *from,
                const char *to, json_t *o)
{
	/* the views of the clips this user sees are counted for an admin and
	 * for the school's own people only (views_from_others) */
	if (user->role != KD_ROLE_ADMIN && user->school_id != sid)
		return KD_EPERM;
	char **slugs;
	int rc = cache_begin(db, &slugs);
	if (rc < 0)
		return rc;
	size_t np = cc.np;
	struct practice_row *rows;
	size_t n_rows;
	school_clips(user, sid, from, to, slugs, o, &rows, &n_rows);
	cache_end();
	slugs_free(slugs, np);

	rc = KD_EDB;
	int64_t views = views_from_others(db, user, sid, from, to);
	if (views < 0)
		goto out;
	json_object_set_new(o, "views_from_other_schools", json_integer(views));
	json_t *hosted = visit_counts(db, true, sid, from, to);
	json_t *made = hosted ? visit_counts(db, false, sid, from, to) : NULL;
	if (!made) {
		json_decref(hosted);
		goto out;
	}
	json_object_set_new(o, "visits", json_pack("{so so}", "hosted", hosted, "made", made));

	/* practices whose first clip here falls in the range, that the
	 * school's people had seen elsewhere before */
	json_t *arrived = json_array();
	json_object_set_new(o, "arrived_from_elsewhere", arrived);
	size_t n = 0;
	for (size_t p = 0; p < n_rows; p++)
		if (rows[p].first && strcmp(rows[p].first, from) >= 0 &&
		    strcmp(rows[p].first, to) <= 0) {
			struct practice_row t = rows[n];
			rows[n++] = rows[p];
			rows[p] = t;
		}
	qsort(rows, n, sizeof *rows, by_first_then_slug);
	for (size_t p = 0; p < n; p++) {
		char *day, *at;
		const char *via;
		if (first_seen(db, sid, rows[p].id, rows[p].first, &day, &at, &via) < 0)
			goto out;
		if (via)
			json_array_append_new(arrived,
			                      json_pack("{ss ss ss ss ss}", "practice", rows[p].slug,
			                                "first_clip_on", rows[p].first, "seen_at_school",
			                                at, "seen_on", day, "via", via));
		free(day);
		free(at);
	}
	rc = 0;
out:
	rows_free(rows, n_rows);
	return rc;
}

/* ---------------------------------------------------------------- the district */

struct school_row {
	int64_t id, hosted, made, views;
	char *slug, *name;
	const struct cschool *clips; /* NULL: none */
};

static int read_schools(sqlite3 *db, const char *from, const char *to,
                        struct school_row **out, size_t *n)
{
	static const char sql[] =
		"SELECT s.id, s.slug, s.name,"
		" (SELECT count(*) FROM visits WHERE host_school_id = s.id AND"
		"  substr(created_at, 1, 10) BETWEEN ?1 AND ?2),"
		" (SELECT count(*) FROM visits WHERE visitor_school_id = s.id AND"
		"  substr(created_at, 1, 10) BETWEEN ?1 AND ?2),"
		" (SELECT coalesce(sum(n), 0) FROM view_counts WHERE clip_school_id = s.id AND"
		"  day BETWEEN ?1 AND ?2)"
		" FROM schools s ORDER BY s.slug";
	sqlite3_stmt *st;
	*out = NULL;
	*n = 0;
	if (db_stmt(db, sql, &st) < 0)
		return KD_EDB;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	size_t cap = 0;
	int rc;
	while ((rc = stmt_step(st)) == SQLITE_ROW) {
		if (*n == cap)
			*out = kd_realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof **out);
		(*out)[(*n)++] = (struct school_row){
			.id = sqlite3_column_int64(st, 0), .slug = cat_col_dup(st, 1),
			.name = cat_col_dup(st, 2), .hosted = sqlite3_column_int64(st, 3),
			.made = sqlite3_column_int64(st, 4), .views = sqlite3_column_int64(st, 5)};
	}
	if (rc != SQLITE_DONE)
		return KD_EDB;
	db_stmt_done(st);
	return 0;
}

static void schools_free(struct school_row *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].slug);
		free(s[i].name);
	}
	free(s);
}

static char *const *slugs_sorting; /* for by_slug, under cc_lock */

static int by_slug(const void *a, const void *b)
{
	return strcmp(slugs_sorting[*(const size_t *)a], slugs_sorting[*(const size_t *)b]);
}

/* Per school of the cache (k), practice (p) and month (m) of the range. */
struct district_counts {
	size_t ns, np, nm;
	int64_t *clips;        /* [k] in the range */
	double *seconds;       /* [k] */
	int64_t *grid;         /* [p * ns + k] in the range */
	uint32_t *first_month; /* [p * ns + k] the rank of its first month, over all time */
	uint8_t *months;       /* [p * nm + m] a clip of p in m, in the range */
};

/* An admin's: every ready clip counts.  A school at a time, into counts
 * of its own, in locals: the loop runs over every clip of the catalogue. */
static void district_count(const char *from, const char *to, struct district_counts *c)
{
	struct day *days = days_of(from, to);
	size_t ns = c->ns = cc.ns, np = c->np = cc.np, nm = c->nm = cc.months.n, w = cc.words;
	c->clips = kd_calloc(ns + 1, sizeof *c->clips);
	c->seconds = kd_calloc(ns + 1, sizeof *c->seconds);
	c->grid = kd_calloc(np * ns + 1, sizeof *c->grid);
	c->first_month = kd_malloc((np * ns + 1) * sizeof *c->first_month);
	c->months = kd_calloc(np * nm + 1, sizeof *c->months);
	int64_t *grid = kd_malloc((np + 1) * sizeof *grid);
	uint32_t *first = kd_malloc((np + 1) * sizeof *first);
	uint8_t *months = c->months;
	for (size_t k = 0; k < ns; k++) {
		const struct cschool *s = &cc.schools[k];
		const uint8_t *flags = s->flags;
		const uint32_t *dates = s->dates;
		const double *secs = s->seconds;
		const uint64_t *practices = s->practices;
		int64_t clips = 0;
		double seconds = 0;
		memset(grid, 0, np * sizeof *grid);
		for (size_t p = 0; p < np; p++)
			first[p] = UINT32_MAX;
		for (size_t i = 0, n = s->n; i < n; i++) {
			if ((flags[i] & (F_READY | F_DEAD)) != F_READY)
				continue;
			const struct day *day = &days[dates[i]];
			uint32_t rank = day->month_rank;
			bool inside = day->in;
			if (inside) {
				clips++;
				seconds += secs[i];
			}
			const uint64_t *bits = practices + i * w;
			for (size_t word = 0; word < w; word++)
				for (uint64_t b = bits[word]; b; b &= b - 1) {
					size_t p = word * 64 + (size_t)__builtin_ctzll(b);
					if (rank < first[p])
						first[p] = rank;
					if (inside) {
						grid[p]++;
						months[p * nm + day->month] = 1;
					}
				}
		}
		c->clips[k] = clips;
		c->seconds[k] = seconds;
		for (size_t p = 0; p < np; p++) {
			c->grid[p * ns + k] = grid[p];
			c->first_month[p * ns + k] = first[p];
		}
	}
	free(grid);
	free(first);
	free(days);
}

static void district_counts_free(struct district_counts *c)
{
	free(c->clips);
	free(c->seconds);
	free(c->grid);
	free(c->first_month);
	free(c->months);
}

/* grid and spread, practices in slug order (the cache held: months are
 * its text). */
static void district_tables(const struct district_counts *c, char **slugs,
                            const struct school_row *schools, size_t n_schools, json_t *grid,
                            json_t *spread)
{
	size_t *order = kd_calloc(c->np + 1, sizeof *order);
	for (size_t p = 0; p < c->np; p++)
		order[p] = p;
	slugs_sorting = slugs;
	qsort(order, c->np, sizeof *order, by_slug);
	for (size_t i = 0; i < c->np; i++) {
		size_t p = order[i];
		json_t *row = NULL;
		for (size_t s = 0; s < n_schools; s++) {
			if (!schools[s].clips)
				continue;
			int64_t n = c->grid[p * c->ns + (size_t)(schools[s].clips - cc.schools)];
			if (!n)
				continue;
			if (!row) {
				row = json_pack("{ss s{}}", "practice", slugs[p], "schools");
				json_array_append_new(grid, row);
			}
			json_object_set_new(json_object_get(row, "schools"), schools[s].slug,
			                    json_integer(n));
		}
		/* for each month of the range with a clip of it: how many
		 * schools had one by then */
		for (uint32_t r = 0; r < c->nm; r++) {
			uint32_t m = cc.months.order[r];
			if (!c->months[p * c->nm + m])
				continue;
			int64_t had = 0;
			for (size_t k = 0; k < c->ns; k++)
				had += c->first_month[p * c->ns + k] <= r;
			json_array_append_new(spread, json_pack("{ss ss sI}", "practice", slugs[p],
			                                        "month", cc.months.s[m], "schools",
			                                        (json_int_t)had));
		}
	}
	free(order);
}

int sumx_district(sqlite3 *db, const char *from, const char *to, json_t *o)
{
	struct school_row *schools;
	size_t n_schools;
	char **slugs;
	int rc = read_schools(db, from, to, &schools, &n_schools);
	if (rc < 0 || (rc = cache_begin(db, &slugs)) < 0) {
		schools_free(schools, n_schools);
		return rc;
	}
	size_t np = cc.np;
	struct district_counts c;
	district_count(from, to, &c);
	for (size_t s = 0; s < n_schools; s++)
		schools[s].clips = cschool_of(schools[s].id, false);
	district_tables(&c, slugs, schools, n_schools, json_object_get(o, "grid"),
	                json_object_get(o, "spread"));
	json_t *list = json_object_get(o, "schools");
	for (size_t s = 0; s < n_schools; s++) {
		size_t k = schools[s].clips ? (size_t)(schools[s].clips - cc.schools) : SIZE_MAX;
		json_array_append_new(
			list, json_pack("{ss ss sI sf sI sI sI}", "school", schools[s].slug, "name",
			                schools[s].name, "clips",
			                (json_int_t)(k == SIZE_MAX ? 0 : c.clips[k]), "minutes",
			                summary_minutes(k == SIZE_MAX ? 0 : c.seconds[k]),
			                "views_from_other_schools", (json_int_t)schools[s].views,
			                "visits_hosted", (json_int_t)schools[s].hosted, "visits_made",
			                (json_int_t)schools[s].made));
	}
	cache_end();
	district_counts_free(&c);
	slugs_free(slugs, np);
	schools_free(schools, n_schools);
	return 0;
}
