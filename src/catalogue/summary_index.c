/* summary_index.c - the summaries from the catalogue in memory (see
 * summary_index.h).
 *
 * Each answer is the one summary.c's SQL gives, taken apart: clips from
 * the table summary_cache.c keeps, views from the counts of schema/006,
 * visits, which are few, from SQL as before. */
#include "summary_index.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "index.h"
#include "summary_cache.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

int sumx_warm(struct kd_db *db)
{
	int rc = sumc_begin(db, NULL);
	if (rc == 0)
		sumc_end();
	return rc;
}

/* ---------------------------------------------------------------- SQL */

/* A step of a statement of db_stmt(): DB_ROW or DB_DONE with the
 * statement still out (give it back), or another code, logged, with the
 * statement given back. */
static int stmt_step(struct kd_stmt *st)
{
	int rc = db_step(st);
	if (rc != DB_ROW && rc != DB_DONE) {
		log_error("summary", "%s", db_errmsg(db_of(st)));
		db_stmt_done(st);
	}
	return rc;
}

static int64_t count_of(struct kd_db *db, const char *sql, int64_t school, const char *from,
                        const char *to, int64_t user)
{
	struct kd_stmt *st;
	if (db_stmt(db, sql, &st) < 0)
		return -1;
	db_bind_int64(st, 1, school);
	db_bind_text(st, 2, from, -1, DB_STATIC);
	db_bind_text(st, 3, to, -1, DB_STATIC);
	if (db_has_param(st, 4))
		db_bind_int64(st, 4, user);
	if (stmt_step(st) != DB_ROW)
		return -1;
	int64_t n = db_column_int64(st, 0);
	db_stmt_done(st);
	return n;
}

/* Views of school's clips by people of other schools, from..to, of the
 * clips user may see.  A user who may summarise a school is an admin (who
 * sees every clip) or one of its people, who sees its shared clips (the
 * counts keep them apart) and the clips they uploaded themselves: those
 * not shared are few, and counted from views. */
static int64_t views_from_others(struct kd_db *db, const struct kd_user *user, int64_t school,
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
static json_t *visit_counts(struct kd_db *db, bool hosted, int64_t school, const char *from,
                            const char *to)
{
	static const char host[] = "SELECT status, count(*) FROM visits WHERE host_school_id = ?1 "
	                           "AND substr(created_at, 1, 10) BETWEEN ?2 AND ?3 GROUP BY status";
	static const char visitor[] = "SELECT status, count(*) FROM visits WHERE "
	                              "visitor_school_id = ?1 AND substr(created_at, 1, 10) "
	                              "BETWEEN ?2 AND ?3 GROUP BY status";
	struct kd_stmt *st;
	if (db_stmt(db, hosted ? host : visitor, &st) < 0)
		return NULL;
	db_bind_int64(st, 1, school);
	db_bind_text(st, 2, from, -1, DB_STATIC);
	db_bind_text(st, 3, to, -1, DB_STATIC);
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof STATUSES / sizeof *STATUSES; i++)
		json_object_set_new(o, STATUSES[i], json_integer(0));
	int rc;
	while ((rc = stmt_step(st)) == DB_ROW)
		json_object_set_new(o, (const char *)db_column_text(st, 0),
		                    json_integer(db_column_int64(st, 1)));
	if (rc != DB_DONE) {
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
static int first_seen(struct kd_db *db, int64_t school, int64_t practice, const char *first,
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
		struct kd_stmt *st;
		if (db_stmt(db, k ? visit : view, &st) < 0)
			return KD_EDB;
		db_bind_int64(st, 1, school);
		db_bind_int64(st, 2, practice);
		db_bind_text(st, 3, first, -1, DB_STATIC);
		int rc = stmt_step(st);
		if (rc != DB_ROW && rc != DB_DONE) {
			free(*day);
			free(*at);
			return KD_EDB;
		}
		/* a visit only when strictly earlier: on the same day the view
		 * comes first (ORDER BY day, rank) */
		if (rc == DB_ROW &&
		    (!*via || strcmp((const char *)db_column_text(st, 0), *day) < 0)) {
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
	sumc_texts_rank(&sumc.dates);
	sumc_texts_rank(&sumc.months);
	struct slice f = sumc_slice_of(from), t = sumc_slice_of(to);
	struct day *days = kd_calloc(sumc.dates.n + 1, sizeof *days);
	for (uint32_t d = 0; d < sumc.dates.n; d++) {
		struct slice date = sumc_text_at(&sumc.dates, d);
		uint32_t m = sumc.dates.month[d];
		days[d] = (struct day){.rank = sumc.dates.rank[d], .month = m,
		                       .month_rank = sumc.months.rank[m],
		                       .in = sumc_slice_cmp(date, f) >= 0 && sumc_slice_cmp(date, t) <= 0};
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
	size_t np = sumc.np, w = sumc.words;
	int64_t clips = 0, *p_clips = kd_calloc(np + 1, sizeof *p_clips);
	int64_t *m_clips = kd_calloc(sumc.months.n + 1, sizeof *m_clips);
	int64_t *t_clips = kd_calloc(sumc.teachers.n + 1, sizeof *t_clips);
	double seconds = 0, *p_seconds = kd_calloc(np + 1, sizeof *p_seconds);
	uint32_t *first = kd_malloc((np + 1) * sizeof *first); /* a date's rank */
	for (size_t p = 0; p < np; p++)
		first[p] = UINT32_MAX;
	/* the clips counted: ready, and seen by the user (index.c's may_see) */
	bool admin = user->role == KD_ROLE_ADMIN;
	uint8_t shared = F_DISTRICT | (user->school_id == sid ? F_SCHOOL : 0);
	const struct cschool *s = sumc_school(sid, false);
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
			.slug = kd_strdup(slugs[p]), .id = sumc.practice_ids[p], .clips = p_clips[p],
			.seconds = p_seconds[p],
			.first = first[p] == UINT32_MAX ? NULL
			         : kd_strdup(sumc.dates.s[sumc.dates.order[first[p]]])};
	qsort(rows, np, sizeof *rows, by_count_then_slug);
	json_t *a = json_array();
	json_object_set_new(o, "by_practice", a);
	for (size_t p = 0; p < np && rows[p].clips; p++)
		json_array_append_new(a, json_pack("{ss sI sf}", "practice", rows[p].slug, "clips",
		                                   (json_int_t)rows[p].clips, "minutes",
		                                   summary_minutes(rows[p].seconds)));

	a = json_array();
	json_object_set_new(o, "by_month", a);
	for (uint32_t r = 0; r < sumc.months.n; r++) {
		uint32_t m = sumc.months.order[r];
		if (m_clips[m])
			json_array_append_new(a, json_pack("{ss sI}", "month", sumc.months.s[m], "clips",
			                                   (json_int_t)m_clips[m]));
	}

	struct teacher_count *tc = kd_calloc(sumc.teachers.n + 1, sizeof *tc);
	size_t nt = 0;
	for (uint32_t t = 0; t < sumc.teachers.n; t++)
		if (t_clips[t] && sumc.teachers.len[t]) /* c.teacher != '' */
			tc[nt++] = (struct teacher_count){sumc.teachers.s[t], t_clips[t]};
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

int sumx_school(struct kd_db *db, const struct kd_user *user, int64_t sid, const char *from,
                const char *to, json_t *o)
{
	/* the views of the clips this user sees are counted for an admin and
	 * for the school's own people only (views_from_others) */
	if (user->role != KD_ROLE_ADMIN && user->school_id != sid)
		return KD_EPERM;
	char **slugs;
	int rc = sumc_begin(db, &slugs);
	if (rc < 0)
		return rc;
	size_t np = sumc.np;
	struct practice_row *rows;
	size_t n_rows;
	school_clips(user, sid, from, to, slugs, o, &rows, &n_rows);
	sumc_end();
	sumc_slugs_free(slugs, np);

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

static int read_schools(struct kd_db *db, const char *from, const char *to,
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
	struct kd_stmt *st;
	*out = NULL;
	*n = 0;
	if (db_stmt(db, sql, &st) < 0)
		return KD_EDB;
	db_bind_text(st, 1, from, -1, DB_STATIC);
	db_bind_text(st, 2, to, -1, DB_STATIC);
	size_t cap = 0;
	int rc;
	while ((rc = stmt_step(st)) == DB_ROW) {
		if (*n == cap)
			*out = kd_realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof **out);
		(*out)[(*n)++] = (struct school_row){
			.id = db_column_int64(st, 0), .slug = cat_col_dup(st, 1),
			.name = cat_col_dup(st, 2), .hosted = db_column_int64(st, 3),
			.made = db_column_int64(st, 4), .views = db_column_int64(st, 5)};
	}
	if (rc != DB_DONE)
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

static char *const *slugs_sorting; /* for by_slug, under sumc_lock */

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
	size_t ns = c->ns = sumc.ns, np = c->np = sumc.np, nm = c->nm = sumc.months.n, w = sumc.words;
	c->clips = kd_calloc(ns + 1, sizeof *c->clips);
	c->seconds = kd_calloc(ns + 1, sizeof *c->seconds);
	c->grid = kd_calloc(np * ns + 1, sizeof *c->grid);
	c->first_month = kd_malloc((np * ns + 1) * sizeof *c->first_month);
	c->months = kd_calloc(np * nm + 1, sizeof *c->months);
	int64_t *grid = kd_malloc((np + 1) * sizeof *grid);
	uint32_t *first = kd_malloc((np + 1) * sizeof *first);
	uint8_t *months = c->months;
	for (size_t k = 0; k < ns; k++) {
		const struct cschool *s = &sumc.schools[k];
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
			int64_t n = c->grid[p * c->ns + (size_t)(schools[s].clips - sumc.schools)];
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
			uint32_t m = sumc.months.order[r];
			if (!c->months[p * c->nm + m])
				continue;
			int64_t had = 0;
			for (size_t k = 0; k < c->ns; k++)
				had += c->first_month[p * c->ns + k] <= r;
			json_array_append_new(spread, json_pack("{ss ss sI}", "practice", slugs[p],
			                                        "month", sumc.months.s[m], "schools",
			                                        (json_int_t)had));
		}
	}
	free(order);
}

int sumx_district(struct kd_db *db, const char *from, const char *to, json_t *o)
{
	struct school_row *schools;
	size_t n_schools;
	char **slugs;
	int rc = read_schools(db, from, to, &schools, &n_schools);
	if (rc < 0 || (rc = sumc_begin(db, &slugs)) < 0) {
		schools_free(schools, n_schools);
		return rc;
	}
	size_t np = sumc.np;
	struct district_counts c;
	district_count(from, to, &c);
	for (size_t s = 0; s < n_schools; s++)
		schools[s].clips = sumc_school(schools[s].id, false);
	district_tables(&c, slugs, schools, n_schools, json_object_get(o, "grid"),
	                json_object_get(o, "spread"));
	json_t *list = json_object_get(o, "schools");
	for (size_t s = 0; s < n_schools; s++) {
		size_t k = schools[s].clips ? (size_t)(schools[s].clips - sumc.schools) : SIZE_MAX;
		json_array_append_new(
			list, json_pack("{ss ss sI sf sI sI sI}", "school", schools[s].slug, "name",
			                schools[s].name, "clips",
			                (json_int_t)(k == SIZE_MAX ? 0 : c.clips[k]), "minutes",
			                summary_minutes(k == SIZE_MAX ? 0 : c.seconds[k]),
			                "views_from_other_schools", (json_int_t)schools[s].views,
			                "visits_hosted", (json_int_t)schools[s].hosted, "visits_made",
			                (json_int_t)schools[s].made));
	}
	sumc_end();
	district_counts_free(&c);
	sumc_slugs_free(slugs, np);
	schools_free(schools, n_schools);
	return 0;
}
