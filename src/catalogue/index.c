/* index.c - the catalogue's clips in memory, with a bitmap per facet (see
 * index.h). */
#include "index.h"

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* ---------------------------------------------------------------- records */

enum { CONSENT_ON_FILE, CONSENT_PENDING, CONSENT_WITHDRAWN };
enum { VIS_DISTRICT, VIS_SCHOOL, VIS_PRIVATE };

/* The strings of a clip, one after another in one allocation, in this
 * order; a NULL one is "" with its bit set in `nulls`. */
enum { S_RECORDED, S_TITLE, S_DESCRIPTION, S_TEACHER, S_GRADE, S_SUBJECT, S_UPLOADED,
       S_ERROR, S_UPLOADER, S_SHA, S_ORIGINAL, S_CONTAINER, S_VCODEC, S_ACODEC, S_COUNT };
/* (the two that orders compare come first: found without a walk) */

struct iclip {
	int64_t id;           /* 0: an empty slot (a deleted clip) */
	int64_t uploader_id, school_id, bit_rate, size_bytes;
	double duration_s, fps;
	int width, height, rotation;
	uint32_t grade, subject;  /* interned, ASCII-lowercased; 0: none */
	uint16_t nulls;
	uint8_t status, consent, visibility;
	bool probed, has_captions;
	uint8_t n_practices, n_tags;
	uint16_t school;      /* index in ix.schools, UINT16_MAX if unknown */
	uint32_t strings_len; /* bytes of all the strings in the block */
	uint16_t *practices;  /* practice table indexes, in the block */
	char *block;          /* the strings, then the practices' slugs, then the tags */
};

struct named {
	int64_t id;
	char *slug, *name, *extra;
	uint64_t *bits;        /* the clips of this school / practice */
	uint64_t *shared_bits; /* schools: ready, on file, visible to the school only */
};

/* A string (grade, subject) to a small number, ASCII case folded. */
struct interned {
	char *key;
	uint32_t id;
	uint64_t *bits;
};

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
#define REBUILD_PAST 5000 /* changes past which a full reload is quicker */

static pthread_rwlock_t ix_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t fts_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool ix_enabled;

/* What the locks guard: everything here under ix_lock, but fts and
 * fts_next, under fts_lock (taken with ix_lock held, for reading or
 * writing). */
static struct {
	bool built;
	bool bulk;               /* loading everything: orders are sorted at the end */
	int64_t seq;             /* the last clip_changes row applied */
	struct iclip *slots;     /* in id order */
	size_t n_slots, cap_slots;
	size_t nw;               /* words of every bitmap */
	int64_t *slot_id;        /* the id each slot was made for, ascending */
	uint64_t *live, *public_ready;
	struct named *schools, *practices;
	size_t n_schools, n_practices;
	struct values { struct interned *v; size_t n, cap; } grades, subjects;
	/* Each uploader's own clips, as slots in ascending order: few per
	 * person, so a list costs less than a bitmap. */
	struct own { int64_t uploader; size_t *slots, n, cap; } *uploaders;
	size_t n_uploaders;
	int64_t max_id;          /* slots are in id order: a new clip must come after */
	bool out_of_order;       /* one did not: rebuild */
	size_t *by_title, *by_recorded; /* the live slots in those orders */
	size_t n_order;
	struct fts_entry fts[FTS_CACHE];
	size_t fts_bytes;
	uint64_t fts_clock;
} ix;

void cat_index_enable(bool on)
{
	atomic_store(&ix_enabled, on);
}

bool idx_usable(sqlite3 *db)
{
	return atomic_load(&ix_enabled) && sqlite3_get_autocommit(db);
}

/* ---------------------------------------------------------------- bitmaps */

static uint64_t *bits_new(void)
{
	return kd_calloc(ix.nw ? ix.nw : 1, sizeof(uint64_t));
}

static void bit_set(uint64_t *b, size_t i, bool on)
{
	if (on)
		b[i / 64] |= (uint64_t)1 << (i % 64);
	else
		b[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static bool bit_get(const uint64_t *b, size_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

/* Every bitmap the index owns, to grow them all at once. */
static void each_bitmap(void (*fn)(uint64_t **b, size_t old_nw, size_t new_nw), size_t o,
                        size_t n)
{
	fn(&ix.live, o, n);
	fn(&ix.public_ready, o, n);
	for (size_t i = 0; i < ix.n_schools; i++) {
		fn(&ix.schools[i].bits, o, n);
		fn(&ix.schools[i].shared_bits, o, n);
	}
	for (size_t i = 0; i < ix.n_practices; i++)
		fn(&ix.practices[i].bits, o, n);
	for (size_t i = 0; i < ix.grades.n; i++)
		fn(&ix.grades.v[i].bits, o, n);
	for (size_t i = 0; i < ix.subjects.n; i++)
		fn(&ix.subjects.v[i].bits, o, n);
}

static void grow_one(uint64_t **b, size_t o, size_t n)
{
	*b = kd_realloc(*b, n * sizeof **b);
	memset(*b + o, 0, (n - o) * sizeof **b);
}

static void ensure_slots(size_t n)
{
	if (n > ix.cap_slots) {
		ix.cap_slots = n < 1024 ? 1024 : n + n / 2;
		ix.slots = kd_realloc(ix.slots, ix.cap_slots * sizeof *ix.slots);
		ix.by_title = kd_realloc(ix.by_title, ix.cap_slots * sizeof *ix.by_title);
		ix.by_recorded = kd_realloc(ix.by_recorded, ix.cap_slots * sizeof *ix.by_recorded);
		ix.slot_id = kd_realloc(ix.slot_id, ix.cap_slots * sizeof *ix.slot_id);
	}
	size_t nw = (ix.cap_slots + 63) / 64;
	if (nw > ix.nw) {
		each_bitmap(grow_one, ix.nw, nw);
		ix.nw = nw;
	}
}

/* ---------------------------------------------------------------- the id map */

/* The first slot in [lo, hi) whose id is not below id. */
static size_t lower_bound(size_t lo, size_t hi, int64_t id)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix.slot_id[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The slot of id, or SIZE_MAX: slots are in id order, and slot_id keeps a
 * deleted clip's id too, so a binary search finds any. */
static size_t map_get(int64_t id)
{
	size_t at = lower_bound(0, ix.n_slots, id);
	return at < ix.n_slots && ix.slot_id[at] == id ? at : SIZE_MAX;
}

/* The same for ids asked in ascending order: the slot of id at or after
 * *from (galloping from there, then halving), and *from moved on.  The
 * first search of a word that matches 190,000 of 1,000,000 clips went from
 * 30 to 26 ms (the rest is SQLite stepping through the matches). */
static size_t map_next(int64_t id, size_t *from)
{
	size_t lo = *from, step = 1, hi = lo;
	while (hi < ix.n_slots && ix.slot_id[hi] < id) {
		lo = hi + 1;
		hi += step;
		step *= 2;
	}
	size_t at = lower_bound(lo, hi < ix.n_slots ? hi : ix.n_slots, id);
	*from = at;
	return at < ix.n_slots && ix.slot_id[at] == id ? at : SIZE_MAX;
}

/* ---------------------------------------------------------------- names */

static size_t school_index(int64_t id)
{
	for (size_t i = 0; i < ix.n_schools; i++)
		if (ix.schools[i].id == id)
			return i;
	return SIZE_MAX;
}

static size_t practice_by_slug(const char *slug)
{
	for (size_t i = 0; i < ix.n_practices; i++)
		if (!strcmp(ix.practices[i].slug, slug))
			return i;
	return SIZE_MAX;
}

static size_t practice_by_id(int64_t id)
{
	for (size_t i = 0; i < ix.n_practices; i++)
		if (ix.practices[i].id == id)
			return i;
	return SIZE_MAX;
}

/* The number of a grade or subject in its table, ASCII case folded
 * (COLLATE NOCASE); 0 for "", UINT32_MAX for one nobody has.  With add, a
 * new one is made. */
static uint32_t intern(struct values *t, const char *s, bool add)
{
	if (!s || !*s)
		return 0;
	for (size_t i = 0; i < t->n; i++)
		if (!sqlite3_stricmp(t->v[i].key, s))
			return t->v[i].id;
	if (!add)
		return UINT32_MAX;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->v = kd_realloc(t->v, t->cap * sizeof *t->v);
	}
	struct interned *v = &t->v[t->n++];
	v->key = kd_strdup(s);
	v->id = (uint32_t)t->n;
	v->bits = bits_new();
	return v->id;
}

static struct own *uploader_own(int64_t uploader, bool add)
{
	for (size_t i = 0; i < ix.n_uploaders; i++)
		if (ix.uploaders[i].uploader == uploader)
			return &ix.uploaders[i];
	if (!add)
		return NULL;
	ix.uploaders = kd_realloc(ix.uploaders, (ix.n_uploaders + 1) * sizeof *ix.uploaders);
	struct own *o = &ix.uploaders[ix.n_uploaders++];
	memset(o, 0, sizeof *o);
	o->uploader = uploader;
	return o;
}

/* Where slot is, or would be, in o's ascending list. */
static size_t own_pos(const struct own *o, size_t slot)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->slots[mid] < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void own_set(struct own *o, size_t slot, bool on)
{
	size_t at = own_pos(o, slot);
	bool there = at < o->n && o->slots[at] == slot;
	if (on && !there) {
		if (o->n == o->cap)
			o->slots = kd_realloc(o->slots, (o->cap = o->cap ? o->cap * 2 : 16) *
			                                        sizeof *o->slots);
		memmove(o->slots + at + 1, o->slots + at, (o->n - at) * sizeof *o->slots);
		o->slots[at] = slot;
		o->n++;
	} else if (!on && there) {
		memmove(o->slots + at, o->slots + at + 1, (o->n - at - 1) * sizeof *o->slots);
		o->n--;
	}
}

static int load_named(sqlite3 *db, const char *sql, struct named **out, size_t *n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return KD_EDB;
	int rc;
	size_t cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap)
			*out = kd_realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof **out);
		struct named *x = &(*out)[(*n)++];
		x->id = sqlite3_column_int64(st, 0);
		x->slug = cat_col_dup(st, 1);
		x->name = cat_col_dup(st, 2);
		x->extra = cat_col_dup(st, 3);
		x->bits = bits_new();
		x->shared_bits = bits_new();
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err_code(rc);
}

/* ---------------------------------------------------------------- one clip */

static uint8_t consent_of(const char *s)
{
	return !strcmp(s, "on-file") ? CONSENT_ON_FILE
	       : !strcmp(s, "pending") ? CONSENT_PENDING : CONSENT_WITHDRAWN;
}

static uint8_t visibility_of(const char *s)
{
	return !strcmp(s, "district") ? VIS_DISTRICT : !strcmp(s, "school") ? VIS_SCHOOL
	                                                                    : VIS_PRIVATE;
}

static const char *const CONSENT_NAMES[] = {"on-file", "pending", "withdrawn"};
static const char *const VISIBILITY_NAMES[] = {"district", "school", "private"};

/* A record of c (its strings copied into one block). */
static void record_of(const struct cat_clip *c, struct iclip *r)
{
	memset(r, 0, sizeof *r);
	const char *s[S_COUNT] = {
		[S_TITLE] = c->title, [S_DESCRIPTION] = c->description, [S_TEACHER] = c->teacher,
		[S_GRADE] = c->grade, [S_SUBJECT] = c->subject, [S_RECORDED] = c->recorded_on,
		[S_UPLOADED] = c->uploaded_at, [S_ERROR] = c->error, [S_UPLOADER] = c->uploader,
		[S_SHA] = c->sha256, [S_ORIGINAL] = c->original_name,
		[S_CONTAINER] = c->media.container, [S_VCODEC] = c->media.video_codec,
		[S_ACODEC] = c->media.audio_codec,
	};
	size_t len = 0;
	for (int i = 0; i < S_COUNT; i++)
		len += (s[i] ? strlen(s[i]) : 0) + 1;
	size_t np = c->n_practices < 255 ? c->n_practices : 255;
	size_t nt = c->n_tags < 255 ? c->n_tags : 255;
	for (size_t i = 0; i < np; i++)
		len += strlen(c->practices[i]) + 1;
	for (size_t i = 0; i < nt; i++)
		len += strlen(c->tags[i]) + 1;
	/* the practice indexes first, aligned, then the strings */
	size_t head = np * sizeof(uint16_t);
	r->block = kd_malloc(head + len);
	r->practices = (uint16_t *)(void *)r->block;
	char *p = r->block + head;
	for (int i = 0; i < S_COUNT; i++) {
		if (!s[i])
			r->nulls |= (uint16_t)(1u << i);
		size_t n = s[i] ? strlen(s[i]) : 0;
		memcpy(p, s[i] ? s[i] : "", n + 1);
		p += n + 1;
	}
	for (size_t i = 0; i < np; i++) {
		size_t n = strlen(c->practices[i]);
		memcpy(p, c->practices[i], n + 1);
		p += n + 1;
		size_t pi = practice_by_slug(c->practices[i]);
		r->practices[i] = pi == SIZE_MAX ? UINT16_MAX : (uint16_t)pi;
	}
	for (size_t i = 0; i < nt; i++) {
		size_t n = strlen(c->tags[i]);
		memcpy(p, c->tags[i], n + 1);
		p += n + 1;
	}
	r->id = c->id;
	r->strings_len = (uint32_t)len;
	size_t si = school_index(c->school_id);
	r->school = si == SIZE_MAX ? UINT16_MAX : (uint16_t)si;
	r->uploader_id = c->uploader_id;
	r->school_id = c->school_id;
	r->status = (uint8_t)c->status;
	r->consent = consent_of(c->consent ? c->consent : "");
	r->visibility = visibility_of(c->visibility ? c->visibility : "");
	r->has_captions = c->has_captions;
	r->n_practices = (uint8_t)np;
	r->n_tags = (uint8_t)nt;
	r->grade = intern(&ix.grades, c->grade, true);
	r->subject = intern(&ix.subjects, c->subject, true);
	const struct cat_media *m = &c->media;
	r->probed = m->probed;
	r->duration_s = m->duration_s;
	r->fps = m->fps;
	r->width = m->width;
	r->height = m->height;
	r->rotation = m->rotation;
	r->bit_rate = m->bit_rate;
	r->size_bytes = m->size_bytes;
}

/* The i-th string of r's block (after the practice indexes). */
static const char *str_at(const struct iclip *r, int i)
{
	const char *p = r->block + r->n_practices * sizeof(uint16_t);
	while (i-- > 0)
		p += strlen(p) + 1;
	return p;
}

/* The clip of record r, as cat_read_clip would fill it, but with every
 * string in one allocation (c->block): a page of clips is 24 allocations,
 * not 600. */
static void clip_of(const struct iclip *r, struct cat_clip *c)
{
	memset(c, 0, sizeof *c);
	const char *school = r->school == UINT16_MAX ? "" : ix.schools[r->school].slug;
	const char *school_name = r->school == UINT16_MAX ? "" : ix.schools[r->school].name;
	const char *consent = CONSENT_NAMES[r->consent], *visibility = VISIBILITY_NAMES[r->visibility];
	/* the record's strings are contiguous: S_COUNT, then the practices,
	 * then the tags, each with its terminator */
	const char *first = str_at(r, 0), *end = first + r->strings_len;
	size_t lists = ((size_t)r->n_practices + r->n_tags) * sizeof(char *);
	size_t extra = strlen(school) + strlen(school_name) + strlen(consent) +
	               strlen(visibility) + 4;
	char *block = kd_malloc(lists + (size_t)(end - first) + extra);
	char **list = (char **)(void *)block;
	char *p = block + lists;
	memcpy(p, first, (size_t)(end - first));
	char **s[S_COUNT] = {
		[S_TITLE] = &c->title, [S_DESCRIPTION] = &c->description, [S_TEACHER] = &c->teacher,
		[S_GRADE] = &c->grade, [S_SUBJECT] = &c->subject, [S_RECORDED] = &c->recorded_on,
		[S_UPLOADED] = &c->uploaded_at, [S_ERROR] = &c->error, [S_UPLOADER] = &c->uploader,
		[S_SHA] = &c->sha256, [S_ORIGINAL] = &c->original_name,
		[S_CONTAINER] = &c->media.container, [S_VCODEC] = &c->media.video_codec,
		[S_ACODEC] = &c->media.audio_codec,
	};
	for (int i = 0; i < S_COUNT; i++) {
		*s[i] = r->nulls >> i & 1 ? NULL : p;
		p += strlen(p) + 1;
	}
	c->practices = r->n_practices ? list : NULL;
	for (size_t i = 0; i < r->n_practices; i++, p += strlen(p) + 1)
		list[i] = p;
	c->tags = r->n_tags ? list + r->n_practices : NULL;
	for (size_t i = 0; i < r->n_tags; i++, p += strlen(p) + 1)
		list[r->n_practices + i] = p;
	c->n_practices = r->n_practices;
	c->n_tags = r->n_tags;
	const char *more[] = {school, school_name, consent, visibility};
	char **to[] = {&c->school, &c->school_name, &c->consent, &c->visibility};
	for (size_t i = 0; i < 4; i++) {
		size_t n = strlen(more[i]) + 1;
		memcpy(p, more[i], n);
		*to[i] = p;
		p += n;
	}
	c->block = block;
	c->id = r->id;
	c->school_id = r->school_id;
	c->status = (enum cat_status)r->status;
	c->uploader_id = r->uploader_id;
	c->has_captions = r->has_captions;
	c->media.probed = r->probed;
	c->media.duration_s = r->duration_s;
	c->media.fps = r->fps;
	c->media.width = r->width;
	c->media.height = r->height;
	c->media.rotation = r->rotation;
	c->media.bit_rate = r->bit_rate;
	c->media.size_bytes = r->size_bytes;
}

/* Set or clear slot i in the bitmaps r belongs to. */
static void mark(const struct iclip *r, size_t i, bool on)
{
	bit_set(ix.live, i, on);
	bool shared = r->status == CAT_READY && r->consent == CONSENT_ON_FILE;
	bit_set(ix.public_ready, i, on && shared && r->visibility == VIS_DISTRICT);
	if (r->school != UINT16_MAX) {
		bit_set(ix.schools[r->school].bits, i, on);
		bit_set(ix.schools[r->school].shared_bits, i,
		        on && shared && r->visibility == VIS_SCHOOL);
	}
	for (size_t k = 0; k < r->n_practices; k++)
		if (r->practices[k] != UINT16_MAX)
			bit_set(ix.practices[r->practices[k]].bits, i, on);
	if (r->grade)
		bit_set(ix.grades.v[r->grade - 1].bits, i, on);
	if (r->subject)
		bit_set(ix.subjects.v[r->subject - 1].bits, i, on);
	struct own *own = r->uploader_id ? uploader_own(r->uploader_id, on) : NULL;
	if (own)
		own_set(own, i, on);
}

/* ---------------------------------------------------------------- orders */

/* ORDER BY c.title COLLATE NOCASE, c.id */
static int title_cmp(const void *a, const void *b)
{
	const struct iclip *x = &ix.slots[*(const size_t *)a], *y = &ix.slots[*(const size_t *)b];
	int c = sqlite3_stricmp(str_at(x, S_TITLE), str_at(y, S_TITLE));
	return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* ORDER BY c.recorded_on DESC NULLS LAST, c.id DESC */
static int recorded_cmp(const void *a, const void *b)
{
	const struct iclip *x = &ix.slots[*(const size_t *)a], *y = &ix.slots[*(const size_t *)b];
	bool xn = x->nulls >> S_RECORDED & 1, yn = y->nulls >> S_RECORDED & 1;
	if (xn != yn)
		return xn ? 1 : -1;
	int c = xn ? 0 : -strcmp(str_at(x, S_RECORDED), str_at(y, S_RECORDED));
	return c ? c : (x->id < y->id) - (x->id > y->id);
}

/* Where slot sits (or would sit) in an order, by binary search on its
 * record as it is now. */
static size_t order_pos(const size_t *o, size_t slot, int (*cmp)(const void *, const void *))
{
	size_t lo = 0, hi = ix.n_order;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp(&o[mid], &slot) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Keep both orders sorted as a clip comes (on) or goes (off); while
 * loading everything they are sorted once at the end instead. */
static void order_update(size_t slot, bool on)
{
	if (ix.bulk)
		return;
	size_t *orders[2] = {ix.by_title, ix.by_recorded};
	int (*cmps[2])(const void *, const void *) = {title_cmp, recorded_cmp};
	for (int k = 0; k < 2; k++) {
		size_t *o = orders[k];
		size_t at = order_pos(o, slot, cmps[k]);
		if (on) {
			memmove(o + at + 1, o + at, (ix.n_order - at) * sizeof *o);
			o[at] = slot;
		} else if (at < ix.n_order && o[at] == slot) {
			memmove(o + at, o + at + 1, (ix.n_order - at - 1) * sizeof *o);
		}
	}
	if (on)
		ix.n_order++;
	else
		ix.n_order--;
}

static void sort_orders(void)
{
	ix.n_order = 0;
	for (size_t i = 0; i < ix.n_slots; i++)
		if (ix.slots[i].id)
			ix.by_title[ix.n_order++] = i;
	memcpy(ix.by_recorded, ix.by_title, ix.n_order * sizeof *ix.by_title);
	qsort(ix.by_title, ix.n_order, sizeof *ix.by_title, title_cmp);
	qsort(ix.by_recorded, ix.n_order, sizeof *ix.by_recorded, recorded_cmp);
}

/* ---------------------------------------------------------------- loading */

static void fts_free(struct fts_entry *e);

static void fts_forget(void)
{
	pthread_mutex_lock(&fts_lock);
	for (size_t i = 0; i < FTS_CACHE; i++)
		fts_free(&ix.fts[i]);
	ix.fts_bytes = 0;
	pthread_mutex_unlock(&fts_lock);
}

static void free_named(struct named *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].slug);
		free(list[i].name);
		free(list[i].extra);
		free(list[i].bits);
		free(list[i].shared_bits);
	}
	free(list);
}

static void free_values(struct values *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].bits);
	}
	free(t->v);
}

/* Forget everything but the last change applied.  With the write lock. */
static void drop_all(void)
{
	fts_forget();
	for (size_t i = 0; i < ix.n_slots; i++)
		free(ix.slots[i].block);
	free(ix.slots);
	free(ix.slot_id);
	free(ix.live);
	free(ix.public_ready);
	free_named(ix.schools, ix.n_schools);
	free_named(ix.practices, ix.n_practices);
	free_values(&ix.grades);
	free_values(&ix.subjects);
	for (size_t i = 0; i < ix.n_uploaders; i++)
		free(ix.uploaders[i].slots);
	free(ix.uploaders);
	free(ix.by_title);
	free(ix.by_recorded);
	int64_t seq = ix.seq;
	memset(&ix, 0, sizeof ix);
	ix.seq = seq;
}

/* Put clip c in its slot (a new one at the end for a new clip). */
static void put_clip(const struct cat_clip *c)
{
	size_t i = map_get(c->id);
	if (i == SIZE_MAX) {
		if (c->id < ix.max_id)
			ix.out_of_order = true;
		ix.max_id = c->id;
		ensure_slots(ix.n_slots + 1);
		i = ix.n_slots++;
		ix.slot_id[i] = c->id;
	} else if (ix.slots[i].id) {
		order_update(i, false);
		mark(&ix.slots[i], i, false);
		free(ix.slots[i].block);
	}
	record_of(c, &ix.slots[i]);
	mark(&ix.slots[i], i, true);
	order_update(i, true);
}

static void drop_clip(int64_t id)
{
	size_t i = map_get(id);
	if (i == SIZE_MAX || !ix.slots[i].id)
		return;
	order_update(i, false);
	mark(&ix.slots[i], i, false);
	free(ix.slots[i].block);
	memset(&ix.slots[i], 0, sizeof ix.slots[i]);
}

/* Reload every clip whose id the statement yields (or all, with NULL). */
static int load_clips(sqlite3 *db, const int64_t *ids, size_t n)
{
	char sql[4096];
	snprintf(sql, sizeof sql, "SELECT %s FROM clips c%s%s", CAT_CLIP_COLUMNS, CAT_CLIP_JOINS,
	         ids ? " WHERE c.id = ?1" : " ORDER BY c.id");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("index", "%s", sqlite3_errmsg(db));
		return KD_EDB;
	}
	int rc = SQLITE_DONE;
	for (size_t k = 0; ids ? k < n : k == 0; k++) {
		if (ids) {
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 1, ids[k]);
		}
		bool found = false;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct cat_clip c;
			cat_read_clip(st, &c);
			put_clip(&c);
			cat_clip_free(&c);
			found = true;
		}
		if (rc != SQLITE_DONE)
			break;
		if (ids && !found)
			drop_clip(ids[k]);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err_code(rc);
}

static int rebuild(sqlite3 *db)
{
	drop_all();
	ensure_slots(1024);
	int rc = load_named(db, "SELECT id, slug, name, district FROM schools ORDER BY id",
	                    &ix.schools, &ix.n_schools);
	if (rc == 0)
		rc = load_named(db, "SELECT id, slug, name, description FROM practices ORDER BY id",
		                &ix.practices, &ix.n_practices);
	ix.bulk = true;
	if (rc == 0)
		rc = load_clips(db, NULL, 0);
	ix.bulk = false;
	sort_orders();
	ix.built = rc == 0;
	return rc;
}

static int64_t last_change(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t seq = -1;
	if (db_stmt(db, sql, &st) < 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	db_stmt_done(st);
	return seq;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static int id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Apply the changes after ix.seq up to seq; a full reload when they are
 * many, name a renamed school or practice, or were pruned. */
static int catch_up(sqlite3 *db, int64_t seq)
{
	/* Behind what is still recorded, or ahead of it (another catalogue,
	 * or this one restored from a backup): start again. */
	if (!ix.built || seq < ix.seq ||
	    last_change(db, "SELECT coalesce(min(seq), 0) FROM clip_changes") > ix.seq + 1)
		return rebuild(db);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
	                       "SELECT DISTINCT clip_id FROM clip_changes WHERE seq > ?1 AND seq <= ?2 "
	                       "LIMIT ?3",
	                       -1, &st, NULL) != SQLITE_OK)
		return KD_EDB;
	sqlite3_bind_int64(st, 1, ix.seq);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int(st, 3, REBUILD_PAST + 1);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	bool all = false;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		all |= id == 0;
		if (n == cap)
			ids = kd_realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *ids);
		ids[n++] = id;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		rc = db_err_code(rc);
	else if (all || n > REBUILD_PAST)
		rc = rebuild(db);
	else {
		/* new clips take slots in the order they come: ids ascending */
		qsort(ids, n, sizeof *ids, id_cmp);
		rc = load_clips(db, ids, n);
		if (rc == 0 && ix.out_of_order)
			rc = rebuild(db);
	}
	free(ids);
	return rc;
}

/* Bring the index up to the catalogue; returns with the read lock held
 * (or an error, with no lock held). */
static int sync_and_read(sqlite3 *db)
{
	int64_t seq = last_change(db, "SELECT coalesce(max(seq), 0) FROM clip_changes");
	if (seq < 0)
		return KD_EDB;
	pthread_rwlock_rdlock(&ix_lock);
	if (ix.built && ix.seq == seq)
		return 0;
	pthread_rwlock_unlock(&ix_lock);
	pthread_rwlock_wrlock(&ix_lock);
	int rc = 0;
	if (!ix.built || ix.seq != seq) {
		rc = catch_up(db, seq);
		if (rc == 0)
			ix.seq = seq;
		fts_forget();
		if (rc < 0) {
			log_error("index", "cannot bring the index up to date: %s", kd_strerror(rc));
			ix.built = false;
		}
	}
	pthread_rwlock_unlock(&ix_lock);
	if (rc < 0)
		return rc;
	pthread_rwlock_rdlock(&ix_lock);
	return 0;
}

/* ---------------------------------------------------------------- queries */

/* The slots user may see, into a new bitmap. */
static uint64_t *visible(const struct kd_user *u)
{
	uint64_t *v = bits_new();
	if (u->role == KD_ROLE_ADMIN) {
		memcpy(v, ix.live, ix.nw * sizeof *v);
		return v;
	}
	memcpy(v, ix.public_ready, ix.nw * sizeof *v);
	size_t si = u->school_id ? school_index(u->school_id) : SIZE_MAX;
	for (size_t w = 0; si != SIZE_MAX && w < ix.nw; w++)
		v[w] |= ix.schools[si].shared_bits[w];
	const struct own *own = uploader_own(u->id, false);
	for (size_t k = 0; own && k < own->n; k++)
		bit_set(v, own->slots[k], true);
	return v;
}

static bool may_see(const struct kd_user *u, const struct iclip *r)
{
	if (u->role == KD_ROLE_ADMIN || (r->uploader_id && r->uploader_id == u->id))
		return true;
	return r->status == CAT_READY && r->consent == CONSENT_ON_FILE &&
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

/* The matches of an FTS5 expression, asked of the catalogue (outside
 * fts_lock: a search can take milliseconds, and other requests would
 * wait on it).  With ranked, in rank order too.  With ix_lock held. */
static void fts_query(sqlite3 *db, const char *match, bool ranked, struct fts_entry *e)
{
	memset(e, 0, sizeof *e);
	sqlite3_stmt *st;
	const char *sql = ranked ? "SELECT rowid FROM clips_fts WHERE clips_fts MATCH ?1 "
	                           "ORDER BY rank, rowid DESC"
	                         : "SELECT rowid FROM clips_fts WHERE clips_fts MATCH ?1";
	uint32_t *slots = NULL;
	size_t n = 0, cap = 0, from = 0;
	int64_t last = INT64_MIN;
	if (db_stmt(db, sql, &st) == 0) {
		sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			/* unranked, FTS5 gives rowids in ascending order (any other
			 * is looked up whole, leaving the cursor where it is) */
			int64_t id = sqlite3_column_int64(st, 0);
			size_t slot;
			if (!ranked && id > last) {
				slot = map_next(id, &from);
				last = id;
			} else {
				slot = map_get(id);
			}
			if (slot == SIZE_MAX)
				continue;
			if (n == cap)
				slots = kd_realloc(slots, (cap = cap ? cap * 2 : 256) * sizeof *slots);
			slots[n++] = (uint32_t)slot;
		}
		db_stmt_done(st);
	}
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
	if (n * sizeof *slots < ix.nw * sizeof(uint64_t)) {
		e->slots = slots;
		slots = NULL;
	} else {
		e->bits = bits_new();
		for (size_t i = 0; i < n; i++)
			bit_set(e->bits, slots[i], true);
	}
	free(slots);
	e->n = n;
	e->bytes = strlen(match) + (e->slots ? n * sizeof *e->slots : 0) +
	           (e->bits ? ix.nw * sizeof(uint64_t) : 0) + e->n_ranked * sizeof *e->ranked;
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
static struct fts_entry *fts_find(const char *match, bool ranked)
{
	for (size_t i = 0; i < FTS_CACHE; i++) {
		struct fts_entry *e = &ix.fts[i];
		if (e->match && e->seq == ix.seq && (!ranked || e->ranked) && !strcmp(e->match, match)) {
			e->used = ++ix.fts_clock;
			return e;
		}
	}
	return NULL;
}

/* Keep q as the entry of match, making room within the budget by forgetting
 * the least recently used.  With fts_lock held; q is taken. */
static struct fts_entry *fts_keep(const char *match, struct fts_entry *q)
{
	struct fts_entry *slot = NULL;
	for (;;) {
		struct fts_entry *oldest = NULL, *free_one = NULL;
		for (size_t i = 0; i < FTS_CACHE; i++) {
			struct fts_entry *e = &ix.fts[i];
			if (!e->match) {
				free_one = free_one ? free_one : e;
				continue;
			}
			if (!strcmp(e->match, match) || e->seq != ix.seq) { /* replaced, or stale */
				ix.fts_bytes -= e->bytes;
				fts_free(e);
				free_one = free_one ? free_one : e;
				continue;
			}
			if (!oldest || e->used < oldest->used)
				oldest = e;
		}
		size_t budget = FTS_BITMAPS * ix.nw * sizeof(uint64_t);
		if (free_one && ix.fts_bytes + q->bytes <= (budget > FTS_BYTES_MIN ? budget : FTS_BYTES_MIN)) {
			slot = free_one;
			break;
		}
		if (!oldest)
			break; /* the cache is empty and q alone is too big: do not keep it */
		ix.fts_bytes -= oldest->bytes;
		fts_free(oldest);
	}
	if (!slot)
		return NULL;
	*slot = *q;
	memset(q, 0, sizeof *q);
	slot->match = kd_strdup(match);
	slot->seq = ix.seq;
	slot->used = ++ix.fts_clock;
	ix.fts_bytes += slot->bytes;
	return slot;
}

/* m &= the matches of match.  With the read lock held. */
static void fts_filter(sqlite3 *db, const char *match, uint64_t *m)
{
	pthread_mutex_lock(&fts_lock);
	struct fts_entry *e = fts_find(match, false);
	struct fts_entry q;
	if (!e) {
		pthread_mutex_unlock(&fts_lock);
		fts_query(db, match, false, &q);
		pthread_mutex_lock(&fts_lock);
		e = fts_keep(match, &q);
		if (!e)
			e = &q; /* too big to keep: used once */
	}
	if (e->bits) {
		and_into(m, e->bits);
	} else {
		uint64_t *kept = bits_new();
		for (size_t i = 0; i < e->n; i++)
			if (bit_get(m, e->slots[i]))
				bit_set(kept, e->slots[i], true);
		memcpy(m, kept, ix.nw * sizeof *m);
		free(kept);
	}
	if (e == &q)
		fts_free(&q);
	pthread_mutex_unlock(&fts_lock);
}

/* A copy of the matches in rank order (caller frees).  With the read lock
 * held. */
static uint32_t *fts_ranked(sqlite3 *db, const char *match, size_t *n)
{
	pthread_mutex_lock(&fts_lock);
	struct fts_entry *e = fts_find(match, true);
	struct fts_entry q;
	if (!e) {
		pthread_mutex_unlock(&fts_lock);
		fts_query(db, match, true, &q);
		pthread_mutex_lock(&fts_lock);
		e = fts_keep(match, &q);
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

int idx_list(sqlite3 *db, const struct kd_user *user, const struct cat_query *q,
             int64_t practice_id, int64_t school_id, const char *match,
             struct cat_page *out)
{
	int rc = sync_and_read(db);
	if (rc < 0)
		return rc;
	uint64_t *m = visible(user);
	bool empty = false;
	if (practice_id) {
		size_t pi = practice_by_id(practice_id);
		if (pi == SIZE_MAX)
			empty = true;
		else
			and_into(m, ix.practices[pi].bits);
	}
	if (school_id) {
		size_t si = school_index(school_id);
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
		uint32_t v = intern(tables[f], facets[f], false);
		if (v == UINT32_MAX)
			empty = true;
		else
			and_into(m, tables[f]->v[v - 1].bits);
	}
	if (match && !empty)
		fts_filter(db, match, m);
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
		uint32_t *ranked = fts_ranked(db, match, &n);
		walk_ranked(m, ranked, n, &w);
		free(ranked);
		break;
	}
	default: walk_ids(m, true, &w); break;
	}
	out->n = w.n;
	out->clips = w.n ? kd_calloc(w.n, sizeof *out->clips) : NULL;
	for (size_t i = 0; i < w.n; i++)
		clip_of(&ix.slots[w.out[i]], &out->clips[i]);
	pthread_rwlock_unlock(&ix_lock);
	free(w.out);
	free(m);
	return 0;
}

int idx_get(sqlite3 *db, const struct kd_user *user, int64_t id, struct cat_clip *out)
{
	int rc = sync_and_read(db);
	if (rc < 0)
		return rc;
	size_t i = map_get(id);
	if (i == SIZE_MAX || !ix.slots[i].id || !may_see(user, &ix.slots[i]))
		rc = KD_ENOTFOUND;
	else
		clip_of(&ix.slots[i], out);
	pthread_rwlock_unlock(&ix_lock);
	return rc;
}

static int count_by(sqlite3 *db, const struct kd_user *user, bool schools, const int64_t *ids,
                    int64_t *counts, size_t n)
{
	int rc = sync_and_read(db);
	if (rc < 0)
		return rc;
	uint64_t *v = visible(user);
	for (size_t k = 0; k < n; k++) {
		size_t i = schools ? school_index(ids[k]) : practice_by_id(ids[k]);
		const uint64_t *b = i == SIZE_MAX ? NULL
		                    : schools ? ix.schools[i].bits : ix.practices[i].bits;
		counts[k] = b ? popcount_and(v, b) : 0;
	}
	pthread_rwlock_unlock(&ix_lock);
	free(v);
	return 0;
}

int idx_count_by_school(sqlite3 *db, const struct kd_user *user, const int64_t *ids,
                        int64_t *counts, size_t n)
{
	return count_by(db, user, true, ids, counts, n);
}

int idx_count_by_practice(sqlite3 *db, const struct kd_user *user, const int64_t *ids,
                          int64_t *counts, size_t n)
{
	return count_by(db, user, false, ids, counts, n);
}

int cat_index_warm(sqlite3 *db)
{
	int rc = sync_and_read(db);
	if (rc == 0)
		pthread_rwlock_unlock(&ix_lock);
	return rc;
}

int cat_changes_prune(sqlite3 *db, int64_t keep)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "DELETE FROM clip_changes WHERE seq <= "
	                           "(SELECT max(seq) FROM clip_changes) - ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		return KD_EDB;
	sqlite3_bind_int64(st, 1, keep);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err_code(rc);
}

/* ---------------------------------------------------------------- summaries
 * Read access for the summaries (index.h, summary_index.c).  Only reads:
 * the index stays as the code above keeps it. */

int idx_summary_begin(sqlite3 *db)
{
	return sync_and_read(db);
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
	return str_at(f->record, S_TEACHER);
}

static void fact_of(const struct iclip *r, struct idx_fact *f)
{
	bool recorded_null = r->nulls >> S_RECORDED & 1;
	bool shared = r->status == CAT_READY && r->consent == CONSENT_ON_FILE;
	*f = (struct idx_fact){
		.id = r->id, .school_id = r->school_id, .uploader_id = r->uploader_id,
		.status = (enum cat_status)r->status,
		.shared_district = shared && r->visibility == VIS_DISTRICT,
		.shared_school = shared && r->visibility == VIS_SCHOOL,
		.recorded_on = recorded_null ? NULL : str_at(r, S_RECORDED),
		.uploaded_at = recorded_null ? str_at(r, S_UPLOADED) : NULL,
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
	size_t i = map_get(id);
	if (i == SIZE_MAX || !ix.slots[i].id)
		return KD_ENOTFOUND;
	fact_of(&ix.slots[i], f);
	return 0;
}
