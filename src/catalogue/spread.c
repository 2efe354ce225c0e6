/* spread.c - how a practice spread from school to school (see spread.h).
 * Issue 15, H6.  The rules are summary.c's arrived_from_elsewhere (and
 * summary_index.c's first_seen), for every school of a practice at once. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "index.h"
#include "summary_cache.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/spread.h"

/* The date of clip c (summary.c's CLIP_DATE). */
#define CLIP_DATE "coalesce(c.recorded_on, substr(c.uploaded_at, 1, 10))"
#define COUNTED "c.status = 'ready' AND " CAT_VISIBLE

/* A school's first clip of a practice. */
struct first {
	int64_t pid, sid, clip; /* clip 0: none the asker may see */
	char *date;             /* NULL with clip 0 */
};

struct firsts {
	struct first *v;
	size_t n, cap;
};

static void firsts_add(struct firsts *f, int64_t pid, int64_t sid, int64_t clip, const char *date)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->v = kd_realloc(f->v, f->cap * sizeof *f->v);
	}
	f->v[f->n++] = (struct first){pid, sid, clip, date ? kd_strdup(date) : NULL};
}

static void firsts_free(struct firsts *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].date);
	free(f->v);
	*f = (struct firsts){0};
}

/* A statement of db_stmt() that failed to step: logged, given back. */
static int step(struct kd_stmt *st)
{
	int rc = db_step(st);
	if (rc != DB_ROW && rc != DB_DONE) {
		log_error("spread", "%s", db_errmsg(db_of(st)));
		db_stmt_done(st);
	}
	return rc;
}

/* The first clips from the clips in memory: the rule of summary_index.c's
 * school_clips (ready, not gone, and shared with the asker, or theirs, or
 * an admin asking), the lowest date and then the lowest id.  pid 0: every
 * practice.  Called with the cache held. */
static void firsts_memory(const struct kd_user *user, int64_t pid, struct firsts *out)
{
	size_t np = sumc.np, w = sumc.words;
	size_t only = SIZE_MAX;
	for (size_t p = 0; pid && p < np; p++)
		if (sumc.practice_ids[p] == pid)
			only = p;
	if (pid && only == SIZE_MAX)
		return; /* no clip has it */
	sumc_texts_rank(&sumc.dates);
	bool admin = user->role == KD_ROLE_ADMIN;
	uint32_t *rank = kd_malloc((np + 1) * sizeof *rank);
	int64_t *clip = kd_malloc((np + 1) * sizeof *clip);
	uint32_t *date = kd_malloc((np + 1) * sizeof *date);
	for (size_t k = 0; k < sumc.ns; k++) {
		const struct cschool *s = &sumc.schools[k];
		uint8_t shared = F_DISTRICT | (user->school_id == s->id ? F_SCHOOL : 0);
		for (size_t p = 0; p < np; p++)
			rank[p] = UINT32_MAX;
		for (size_t i = 0; i < s->n; i++) {
			uint8_t f = s->flags[i];
			if ((f & (F_READY | F_DEAD)) != F_READY ||
			    !(admin || (f & shared) || (s->uploaders[i] && s->uploaders[i] == user->id)))
				continue;
			const uint64_t *bits = s->practices + i * w;
			uint32_t r = sumc.dates.rank[s->dates[i]];
			if (only != SIZE_MAX) {
				if ((bits[only / 64] >> (only % 64) & 1) && r < rank[only]) {
					rank[only] = r;
					clip[only] = s->ids[i];
					date[only] = s->dates[i];
				}
				continue;
			}
			for (size_t q = 0; q < w; q++)
				for (uint64_t b = bits[q]; b; b &= b - 1) {
					size_t p = q * 64 + (size_t)__builtin_ctzll(b);
					if (r < rank[p]) {
						rank[p] = r;
						clip[p] = s->ids[i];
						date[p] = s->dates[i];
					}
				}
		}
		for (size_t p = 0; p < np; p++)
			if (rank[p] != UINT32_MAX)
				firsts_add(out, sumc.practice_ids[p], s->id, clip[p], sumc.dates.s[date[p]]);
	}
	free(rank);
	free(clip);
	free(date);
}

/* The same from SQL: the rows come by practice, school, date and id, the
 * first of each pair is its first clip. */
static int firsts_sql(struct kd_db *db, const struct kd_user *user, int64_t pid,
                      struct firsts *out)
{
	static const char sql[] =
		"SELECT cp.practice_id, c.school_id, c.id, " CLIP_DATE " AS d FROM clips c"
		" JOIN clip_practices cp ON cp.clip_id = c.id"
		" WHERE (?1 = 0 OR cp.practice_id = ?1) AND " COUNTED
		" ORDER BY cp.practice_id, c.school_id, d, c.id";
	struct kd_stmt *st;
	if (db_stmt(db, sql, &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, pid);
	cat_bind_viewer(st, user);
	int rc;
	while ((rc = step(st)) == DB_ROW) {
		int64_t p = db_column_int64(st, 0), s = db_column_int64(st, 1);
		if (out->n && out->v[out->n - 1].pid == p && out->v[out->n - 1].sid == s)
			continue;
		const char *d = (const char *)db_column_text(st, 3);
		firsts_add(out, p, s, db_column_int64(st, 2), d ? d : "");
	}
	if (rc != DB_DONE)
		return KD_EDB;
	db_stmt_done(st);
	return 0;
}

static int firsts_of(struct kd_db *db, const struct kd_user *user, int64_t pid,
                     struct firsts *out)
{
	*out = (struct firsts){0};
	if (!idx_usable(db))
		return firsts_sql(db, user, pid, out);
	int rc = sumc_begin(db, NULL);
	if (rc < 0)
		return rc;
	firsts_memory(user, pid, out);
	sumc_end();
	return 0;
}

/* ---------------------------------------------------------------- names */

/* Every school's slug by id (schools are few). */
struct names {
	int64_t *ids;
	char **slugs, **titles;
	size_t n;
};

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++) {
		free(nm->slugs[i]);
		free(nm->titles[i]);
	}
	free(nm->ids);
	free(nm->slugs);
	free(nm->titles);
	*nm = (struct names){0};
}

static int names_load(struct kd_db *db, const char *sql, struct names *nm)
{
	*nm = (struct names){0};
	struct kd_stmt *st;
	if (db_stmt(db, sql, &st) < 0)
		return KD_EDB;
	size_t cap = 0;
	int rc;
	while ((rc = step(st)) == DB_ROW) {
		if (nm->n == cap) {
			cap = cap ? cap * 2 : 16;
			nm->ids = kd_realloc(nm->ids, cap * sizeof *nm->ids);
			nm->slugs = kd_realloc(nm->slugs, cap * sizeof *nm->slugs);
			nm->titles = kd_realloc(nm->titles, cap * sizeof *nm->titles);
		}
		nm->ids[nm->n] = db_column_int64(st, 0);
		nm->slugs[nm->n] = cat_col_dup(st, 1);
		nm->titles[nm->n++] = cat_col_dup(st, 2);
	}
	if (rc != DB_DONE) {
		names_free(nm);
		return KD_EDB;
	}
	db_stmt_done(st);
	return 0;
}

static const char *slug_of(const struct names *nm, int64_t id)
{
	for (size_t i = 0; i < nm->n; i++)
		if (nm->ids[i] == id)
			return nm->slugs[i];
	return "";
}

/* ---------------------------------------------------------------- arrows */

/* One arrow: the earliest view or visit by to's people at from. */
struct arrow {
	int64_t from, to, clip; /* clip 0: none to name */
	char *on;
	const char *from_slug, *to_slug; /* (set before sorting) */
	int via; /* 0 view, 1 visit (the order of a tie) */
};

struct arrows {
	struct arrow *v;
	size_t n, cap;
};

static void arrows_free(struct arrows *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].on);
	free(a->v);
	*a = (struct arrows){0};
}

/* The clip of an arrow that the asker may see, or 0: a clip of the
 * practice at from that to's people watched (or visited for) that day. */
static int arrow_clip(struct kd_db *db, const struct kd_user *user, int64_t pid,
                      struct arrow *a)
{
	/* from that day's views of to's people (views_school_day), not from
	 * the clips of from, which are many: hence CROSS JOIN, which SQLite
	 * takes in the order written */
	static const char view[] =
		"SELECT c.id FROM views v CROSS JOIN clips c"
		" WHERE c.id = v.clip_id AND v.school_id = ?1 AND v.day = ?3 AND c.school_id = ?4"
		" AND EXISTS (SELECT 1 FROM clip_practices cp WHERE cp.clip_id = c.id"
		"  AND cp.practice_id = ?2) AND " CAT_VISIBLE " ORDER BY c.id LIMIT 1";
	static const char visit[] =
		"SELECT c.id FROM visits vi JOIN clips c ON c.id = vi.clip_id"
		" WHERE vi.visitor_school_id = ?1 AND vi.host_school_id = ?4 AND vi.date = ?3"
		" AND vi.status IN ('accepted', 'done') AND (vi.practice_id = ?2 OR EXISTS"
		" (SELECT 1 FROM clip_practices cp WHERE cp.clip_id = vi.clip_id"
		"  AND cp.practice_id = ?2)) AND " CAT_VISIBLE " ORDER BY vi.id LIMIT 1";
	struct kd_stmt *st;
	if (db_stmt(db, a->via ? visit : view, &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, a->to);
	db_bind_int64(st, 2, pid);
	db_bind_text(st, 3, a->on, -1, DB_STATIC);
	db_bind_int64(st, 4, a->from);
	cat_bind_viewer(st, user);
	int rc = step(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return KD_EDB;
	a->clip = rc == DB_ROW ? db_column_int64(st, 0) : 0;
	db_stmt_done(st);
	return 0;
}

/* The arrows into school to, whose first clip of pid is on first. */
static int arrows_into(struct kd_db *db, const struct kd_user *user, int64_t pid, int64_t to,
                       const char *first, struct arrows *out)
{
	static const char view[] =
		"SELECT t.clip_school_id, min(t.day) FROM view_practice_counts t"
		" WHERE t.viewer_school_id = ?1 AND t.practice_id = ?2 AND t.day < ?3 AND t.n > 0"
		" AND t.clip_school_id != ?1 GROUP BY t.clip_school_id";
	static const char visit[] =
		"SELECT vi.host_school_id, min(vi.date) FROM visits vi"
		" WHERE vi.visitor_school_id = ?1 AND vi.host_school_id != ?1"
		" AND vi.status IN ('accepted', 'done') AND vi.date < ?3"
		" AND (vi.practice_id = ?2 OR EXISTS (SELECT 1 FROM clip_practices cp"
		"  WHERE cp.clip_id = vi.clip_id AND cp.practice_id = ?2))"
		" GROUP BY vi.host_school_id";
	for (int via = 0; via < 2; via++) {
		struct kd_stmt *st;
		if (db_stmt(db, via ? visit : view, &st) < 0)
			return KD_EDB;
		db_bind_int64(st, 1, to);
		db_bind_int64(st, 2, pid);
		db_bind_text(st, 3, first, -1, DB_STATIC);
		int rc;
		size_t start = out->n;
		while ((rc = step(st)) == DB_ROW) {
			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 16;
				out->v = kd_realloc(out->v, out->cap * sizeof *out->v);
			}
			out->v[out->n++] = (struct arrow){.from = db_column_int64(st, 0), .to = to,
			                                  .on = cat_col_dup(st, 1), .via = via};
		}
		if (rc != DB_DONE)
			return KD_EDB;
		db_stmt_done(st);
		for (size_t i = start; i < out->n; i++)
			if (arrow_clip(db, user, pid, &out->v[i]) < 0)
				return KD_EDB;
	}
	return 0;
}

/* ---------------------------------------------------------------- answer */

struct lane {
	int64_t sid, clip;
	const char *slug, *first; /* first NULL: a school seen through an arrow only */
};

static int by_first_then_slug(const void *a, const void *b)
{
	const struct lane *x = a, *y = b;
	if (!x->first != !y->first)
		return x->first ? -1 : 1;
	int c = x->first ? strcmp(x->first, y->first) : 0;
	return c ? c : strcmp(x->slug, y->slug);
}

static int by_day_via_school(const void *a, const void *b)
{
	const struct arrow *x = a, *y = b;
	int c = strcmp(x->on, y->on);
	if (c)
		return c;
	if (x->via != y->via)
		return x->via - y->via;
	c = strcmp(x->to_slug, y->to_slug);
	return c ? c : strcmp(x->from_slug, y->from_slug);
}

static const char *const VIA[] = {"view", "visit", "clip"};

/* An event for the sorted list. */
struct event {
	const char *on, *from, *to;
	int kind; /* VIA's index */
	int64_t clip;
};

static int by_event_order(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	int c = strcmp(x->on, y->on);
	if (c)
		return c;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	c = strcmp(x->to, y->to);
	return c ? c : strcmp(x->from ? x->from : "", y->from ? y->from : "");
}

static json_t *text_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *answer(const char *slug, struct lane *lanes, size_t nl, struct arrows *ar,
                      const struct names *nm)
{
	json_t *schools = json_array(), *events = json_array();
	size_t ne = 0;
	struct event *ev = kd_calloc(nl + ar->n + 1, sizeof *ev);
	for (size_t i = 0; i < nl; i++) {
		json_t *from = json_array();
		for (size_t k = 0; k < ar->n; k++)
			if (ar->v[k].to == lanes[i].sid)
				json_array_append_new(from, json_pack("{ss ss ss}", "school",
				                                      slug_of(nm, ar->v[k].from), "via",
				                                      VIA[ar->v[k].via], "on", ar->v[k].on));
		json_array_append_new(schools, json_pack("{ss so so}", "school", lanes[i].slug,
		                                         "first_clip_on", text_or_null(lanes[i].first),
		                                         "arrived_from", from));
		if (lanes[i].first)
			ev[ne++] = (struct event){lanes[i].first, NULL, lanes[i].slug, 2, lanes[i].clip};
	}
	for (size_t k = 0; k < ar->n; k++)
		ev[ne++] = (struct event){ar->v[k].on, slug_of(nm, ar->v[k].from),
		                          slug_of(nm, ar->v[k].to), ar->v[k].via, ar->v[k].clip};
	qsort(ev, ne, sizeof *ev, by_event_order);
	for (size_t i = 0; i < ne; i++)
		json_array_append_new(
			events, json_pack("{ss ss so ss so}", "on", ev[i].on, "kind", VIA[ev[i].kind],
			                  "from_school", text_or_null(ev[i].from), "to_school", ev[i].to,
			                  "clip_id", ev[i].clip ? json_integer(ev[i].clip) : json_null()));
	free(ev);
	return json_pack("{ss so so}", "practice", slug, "schools", schools, "events", events);
}

static int practice_id(struct kd_db *db, const char *slug, int64_t *id)
{
	struct kd_stmt *st;
	if (db_stmt(db, "SELECT id FROM practices WHERE slug = ?1", &st) < 0)
		return KD_EDB;
	db_bind_text(st, 1, slug, -1, DB_STATIC);
	int rc = step(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return KD_EDB;
	if (rc == DB_ROW)
		*id = db_column_int64(st, 0);
	db_stmt_done(st);
	return rc == DB_ROW ? 0 : KD_ENOTFOUND;
}

static const char SCHOOLS_SQL[] = "SELECT id, slug, name FROM schools ORDER BY id";

int spread_practice(struct kd_db *db, const struct kd_user *user, const char *slug,
                    json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	int64_t pid = 0;
	int rc = practice_id(db, slug, &pid);
	if (rc == KD_ENOTFOUND) {
		snprintf(err, errlen, "no practice '%.64s': GET /api/v1/practices lists them", slug);
		return rc;
	}
	struct firsts f = {0};
	struct names nm = {0};
	struct arrows ar = {0};
	struct lane *lanes = NULL;
	if (rc < 0 || (rc = firsts_of(db, user, pid, &f)) < 0 ||
	    (rc = names_load(db, SCHOOLS_SQL, &nm)) < 0)
		goto out;
	/* one lane per school that has the practice on video (that the asker
	 * sees), then one per school only an arrow names */
	lanes = kd_calloc(f.n + nm.n + 1, sizeof *lanes);
	size_t nl = 0;
	for (size_t i = 0; i < f.n; i++) {
		lanes[nl] = (struct lane){f.v[i].sid, f.v[i].clip, slug_of(&nm, f.v[i].sid),
		                          f.v[i].date};
		if ((rc = arrows_into(db, user, pid, f.v[i].sid, f.v[i].date, &ar)) < 0)
			goto out;
		nl++;
	}
	for (size_t k = 0; k < ar.n; k++) {
		bool have = false;
		for (size_t i = 0; i < nl && !have; i++)
			have = lanes[i].sid == ar.v[k].from;
		if (!have)
			lanes[nl++] = (struct lane){ar.v[k].from, 0, slug_of(&nm, ar.v[k].from), NULL};
	}
	qsort(lanes, nl, sizeof *lanes, by_first_then_slug);
	for (size_t k = 0; k < ar.n; k++) {
		ar.v[k].from_slug = slug_of(&nm, ar.v[k].from);
		ar.v[k].to_slug = slug_of(&nm, ar.v[k].to);
	}
	if (ar.n) /* (qsort may not be given NULL, even for none) */
		qsort(ar.v, ar.n, sizeof *ar.v, by_day_via_school);
	*out = answer(slug, lanes, nl, &ar, &nm);
	rc = 0;
out:
	if (rc < 0 && rc != KD_ENOTFOUND)
		snprintf(err, errlen, "the spread could not be read from the catalogue: try again "
		         "in a moment");
	free(lanes);
	arrows_free(&ar);
	names_free(&nm);
	firsts_free(&f);
	return rc;
}

/* ---------------------------------------------------------------- ranking */

struct ranked {
	const char *slug, *name;
	int64_t reached, schools;
};

static int by_reach(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->reached != y->reached)
		return x->reached > y->reached ? -1 : 1;
	if (x->schools != y->schools)
		return x->schools > y->schools ? -1 : 1;
	return strcmp(x->slug, y->slug);
}

int spread_ranking(struct kd_db *db, const struct kd_user *user, const char *from,
                   const char *to, json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	struct firsts f = {0};
	struct names pr = {0};
	int rc = firsts_of(db, user, 0, &f);
	if (rc == 0)
		rc = names_load(db, "SELECT id, slug, name FROM practices ORDER BY id", &pr);
	if (rc < 0) {
		firsts_free(&f);
		snprintf(err, errlen, "the practices' reach could not be read from the catalogue");
		return rc;
	}
	struct ranked *r = kd_calloc(pr.n + 1, sizeof *r);
	for (size_t p = 0; p < pr.n; p++)
		r[p] = (struct ranked){pr.slugs[p], pr.titles[p], 0, 0};
	for (size_t i = 0; i < f.n; i++)
		for (size_t p = 0; p < pr.n; p++)
			if (pr.ids[p] == f.v[i].pid && strcmp(f.v[i].date, to) <= 0) {
				r[p].schools++;
				r[p].reached += strcmp(f.v[i].date, from) >= 0;
			}
	qsort(r, pr.n, sizeof *r, by_reach);
	json_t *a = json_array();
	for (size_t p = 0; p < pr.n && r[p].reached; p++)
		json_array_append_new(a, json_pack("{ss ss sI sI}", "practice", r[p].slug, "name",
		                                   r[p].name, "reached", (json_int_t)r[p].reached,
		                                   "schools", (json_int_t)r[p].schools));
	*out = json_pack("{ss ss so}", "from", from, "to", to, "practices", a);
	free(r);
	names_free(&pr);
	firsts_free(&f);
	return 0;
}
