/* index_load.c - the index loaded from the catalogue and kept in step
 * with it: slots, bitmaps, names, each clip's record, the orders (see
 * index_state.h). */
#include "index_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

pthread_rwlock_t ix_lock = PTHREAD_RWLOCK_INITIALIZER;
struct index_state ix;

/* ---------------------------------------------------------------- bitmaps */

uint64_t *ix_bits_new(void)
{
	return slots_bits_new(ix.nw);
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

/* The slot of id, or SIZE_MAX: slots are in id order, and slot_id keeps a
 * deleted clip's id too, so a binary search finds any. */
size_t ix_map_get(int64_t id)
{
	return slots_find(ix.slot_id, ix.n_slots, id);
}

/* What the full-text cache (index_fts.c) needs to know of the slots. */
struct fts_view ix_fts_view(void)
{
	return (struct fts_view){ix.slot_id, ix.n_slots, ix.nw, ix.seq};
}

/* ---------------------------------------------------------------- names */

size_t ix_school_index(int64_t id)
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

size_t ix_practice_by_id(int64_t id)
{
	for (size_t i = 0; i < ix.n_practices; i++)
		if (ix.practices[i].id == id)
			return i;
	return SIZE_MAX;
}

/* The number of a grade or subject in its table, ASCII case folded
 * (COLLATE NOCASE); 0 for "", UINT32_MAX for one nobody has.  With add, a
 * new one is made. */
uint32_t ix_intern(struct values *t, const char *s, bool add)
{
	if (!s || !*s)
		return 0;
	for (size_t i = 0; i < t->n; i++)
		if (!strcasecmp(t->v[i].key, s))
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
	v->bits = ix_bits_new();
	return v->id;
}

struct own *ix_uploader_own(int64_t uploader, bool add)
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

static int load_named(struct kd_db *db, const char *sql, struct named **out, size_t *n)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		return KD_EDB;
	int rc;
	size_t cap = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap)
			*out = kd_realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof **out);
		struct named *x = &(*out)[(*n)++];
		x->id = db_column_int64(st, 0);
		x->slug = cat_col_dup(st, 1);
		x->name = cat_col_dup(st, 2);
		x->extra = cat_col_dup(st, 3);
		x->bits = ix_bits_new();
		x->shared_bits = ix_bits_new();
	}
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
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
		[S_ACODEC] = c->media.audio_codec, [S_BASIS] = c->consent_basis,
		[S_CONSENT_BY] = c->consent_by, [S_CONSENT_AT] = c->consent_at,
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
			r->nulls |= 1u << i;
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
	size_t si = ix_school_index(c->school_id);
	r->school = si == SIZE_MAX ? UINT16_MAX : (uint16_t)si;
	r->uploader_id = c->uploader_id;
	r->school_id = c->school_id;
	r->status = (uint8_t)c->status;
	r->consent = consent_of(c->consent ? c->consent : "");
	r->visibility = visibility_of(c->visibility ? c->visibility : "");
	r->has_captions = c->has_captions;
	r->captions = (uint8_t)c->captions; /* issue 15 */
	r->held = c->held;
	r->media_stale = c->media_stale;
	r->n_practices = (uint8_t)np;
	r->n_tags = (uint8_t)nt;
	r->grade = ix_intern(&ix.grades, c->grade, true);
	r->subject = ix_intern(&ix.subjects, c->subject, true);
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
const char *ix_str_at(const struct iclip *r, int i)
{
	const char *p = r->block + r->n_practices * sizeof(uint16_t);
	while (i-- > 0)
		p += strlen(p) + 1;
	return p;
}

/* The clip of record r, as cat_read_clip would fill it, but with every
 * string in one allocation (c->block): a page of clips is 24 allocations,
 * not 600. */
void ix_clip_of(const struct iclip *r, struct cat_clip *c)
{
	memset(c, 0, sizeof *c);
	const char *school = r->school == UINT16_MAX ? "" : ix.schools[r->school].slug;
	const char *school_name = r->school == UINT16_MAX ? "" : ix.schools[r->school].name;
	const char *consent = CONSENT_NAMES[r->consent], *visibility = VISIBILITY_NAMES[r->visibility];
	/* the record's strings are contiguous: S_COUNT, then the practices,
	 * then the tags, each with its terminator */
	const char *first = ix_str_at(r, 0), *end = first + r->strings_len;
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
		[S_ACODEC] = &c->media.audio_codec, [S_BASIS] = &c->consent_basis,
		[S_CONSENT_BY] = &c->consent_by, [S_CONSENT_AT] = &c->consent_at,
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
	c->captions = r->captions; /* issue 15 */
	c->held = r->held;
	c->media_stale = r->media_stale;
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
	bool shared = ix_shared(r);
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
	struct own *own = r->uploader_id ? ix_uploader_own(r->uploader_id, on) : NULL;
	if (own)
		own_set(own, i, on);
}

/* ---------------------------------------------------------------- orders */

/* ORDER BY c.title COLLATE NOCASE, c.id */
static int title_cmp(const void *a, const void *b)
{
	const struct iclip *x = &ix.slots[*(const size_t *)a], *y = &ix.slots[*(const size_t *)b];
	int c = strcasecmp(ix_str_at(x, S_TITLE), ix_str_at(y, S_TITLE));
	return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* ORDER BY c.recorded_on DESC NULLS LAST, c.id DESC */
static int recorded_cmp(const void *a, const void *b)
{
	const struct iclip *x = &ix.slots[*(const size_t *)a], *y = &ix.slots[*(const size_t *)b];
	bool xn = x->nulls >> S_RECORDED & 1, yn = y->nulls >> S_RECORDED & 1;
	if (xn != yn)
		return xn ? 1 : -1;
	int c = xn ? 0 : -strcmp(ix_str_at(x, S_RECORDED), ix_str_at(y, S_RECORDED));
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
	size_t i = ix_map_get(c->id);
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
	size_t i = ix_map_get(id);
	if (i == SIZE_MAX || !ix.slots[i].id)
		return;
	order_update(i, false);
	mark(&ix.slots[i], i, false);
	free(ix.slots[i].block);
	memset(&ix.slots[i], 0, sizeof ix.slots[i]);
}

/* Reload every clip whose id the statement yields (or all, with NULL). */
static int load_clips(struct kd_db *db, const int64_t *ids, size_t n)
{
	char sql[4096];
	snprintf(sql, sizeof sql, "SELECT %s FROM clips c%s%s", CAT_CLIP_COLUMNS, CAT_CLIP_JOINS,
	         ids ? " WHERE c.id = ?1" : " ORDER BY c.id");
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK) {
		log_error("index", "%s", db_errmsg(db));
		return KD_EDB;
	}
	int rc = DB_DONE;
	for (size_t k = 0; ids ? k < n : k == 0; k++) {
		if (ids) {
			db_reset(st);
			db_bind_int64(st, 1, ids[k]);
		}
		bool found = false;
		while ((rc = db_step(st)) == DB_ROW) {
			struct cat_clip c;
			cat_read_clip(st, &c);
			put_clip(&c);
			cat_clip_free(&c);
			found = true;
		}
		if (rc != DB_DONE)
			break;
		if (ids && !found)
			drop_clip(ids[k]);
	}
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}

static int rebuild(struct kd_db *db)
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
	ix.captions_required = cat_captions_required(); /* issue 15 */
	return rc;
}

static int64_t last_change(struct kd_db *db, const char *sql)
{
	struct kd_stmt *st;
	int64_t seq = -1;
	if (db_stmt(db, sql, &st) < 0)
		return -1;
	if (db_step(st) == DB_ROW)
		seq = db_column_int64(st, 0);
	db_stmt_done(st);
	return seq;
}

static int id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Apply the changes after ix.seq up to seq; a full reload when they are
 * many, name a renamed school or practice, or were pruned. */
static int catch_up(struct kd_db *db, int64_t seq)
{
	/* Behind what is still recorded, or ahead of it (another catalogue,
	 * or this one restored from a backup): start again. */
	if (!ix.built || seq < ix.seq || ix.captions_required != cat_captions_required() ||
	    last_change(db, "SELECT coalesce(min(seq), 0) FROM clip_changes") > ix.seq + 1)
		return rebuild(db);
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT DISTINCT clip_id FROM clip_changes WHERE seq > ?1 AND seq <= ?2 "
	                       "LIMIT ?3", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, ix.seq);
	db_bind_int64(st, 2, seq);
	db_bind_int(st, 3, REBUILD_PAST + 1);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	bool all = false;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t id = db_column_int64(st, 0);
		all |= id == 0;
		if (n == cap)
			ids = kd_realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *ids);
		ids[n++] = id;
	}
	db_finalize(st);
	if (rc != DB_DONE)
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
int ix_sync_and_read(struct kd_db *db)
{
	int64_t seq = last_change(db, "SELECT coalesce(max(seq), 0) FROM clip_changes");
	if (seq < 0)
		return KD_EDB;
	pthread_rwlock_rdlock(&ix_lock);
	/* (issue 15: the require_captions setting changes who sees what) */
	bool same = ix.captions_required == cat_captions_required();
	if (ix.built && ix.seq == seq && same)
		return 0;
	pthread_rwlock_unlock(&ix_lock);
	pthread_rwlock_wrlock(&ix_lock);
	int rc = 0;
	if (!ix.built || ix.seq != seq || ix.captions_required != cat_captions_required()) {
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

