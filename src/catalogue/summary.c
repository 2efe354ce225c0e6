/* summary.c - per-school and district summaries (see summary.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "index.h"
#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/summary.h"
#include "summary_index.h"

/* The date of clip c. */
#define CLIP_DATE "coalesce(c.recorded_on, substr(c.uploaded_at, 1, 10))"
/* Clips a summary counts: ready and visible to the asker. */
#define COUNTED "c.status = 'ready' AND " CAT_VISIBLE
#define IN_RANGE "(" CLIP_DATE " BETWEEN ?2 AND ?3)"

static const char *const STATUSES[] = {"requested", "accepted", "declined", "done"};

/* Prepare sql and bind ?1 school id, ?2 from, ?3 to and the viewer. */
static struct kd_stmt *query(struct kd_db *db, const char *sql, int64_t school, const char *from,
                           const char *to, const struct kd_user *user)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK) {
		log_error("summary", "%s: %s", db_errmsg(db), sql);
		return NULL;
	}
	if (db_has_param(st, 1))
		db_bind_int64(st, 1, school);
	if (db_has_param(st, 2))
		db_bind_text(st, 2, from, -1, DB_TRANSIENT);
	if (db_has_param(st, 3))
		db_bind_text(st, 3, to, -1, DB_TRANSIENT);
	if (db_has_param(st, 90))
		cat_bind_viewer(st, user);
	return st;
}

static json_t *text(struct kd_stmt *st, int col)
{
	const char *t = (const char *)db_column_text(st, col);
	return t ? json_string(t) : json_null();
}

int summary_range(struct kd_db *db, const char *from_arg, const char *to_arg, char *from, char *to,
                  char *err, size_t errlen)
{
	if ((to_arg && *to_arg && !cat_date_valid(to_arg)) ||
	    (from_arg && *from_arg && !cat_date_valid(from_arg))) {
		snprintf(err, errlen, "from and to must be dates written YYYY-MM-DD, for example "
		         "from=2025-09-01&to=2026-06-30");
		return KD_EINVAL;
	}
	struct kd_stmt *st;
	if (db_stmt(db,
	            "SELECT coalesce(?1, strftime('%Y-%m-%d', 'now')), "
	            "coalesce(?2, date(coalesce(?1, strftime('%Y-%m-%d', 'now')), '-1 year'))",
	            &st) < 0)
		return KD_EDB;
	if (to_arg && *to_arg)
		db_bind_text(st, 1, to_arg, -1, DB_STATIC);
	if (from_arg && *from_arg)
		db_bind_text(st, 2, from_arg, -1, DB_STATIC);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		snprintf(to, 11, "%s", (const char *)db_column_text(st, 0));
		snprintf(from, 11, "%s", (const char *)db_column_text(st, 1));
	}
	db_stmt_done(st);
	if (rc != DB_ROW)
		return KD_EDB;
	if (strcmp(from, to) > 0) {
		snprintf(err, errlen, "from (%s) is after to (%s): swap them", from, to);
		return KD_EINVAL;
	}
	return 0;
}

static int school_id(struct kd_db *db, const char *slug, int64_t *id, char **name)
{
	struct kd_stmt *st;
	if (db_stmt(db, "SELECT id, name FROM schools WHERE slug = ?1", &st) < 0)
		return KD_EDB;
	db_bind_text(st, 1, slug, -1, DB_STATIC);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*id = db_column_int64(st, 0);
		if (name)
			*name = cat_col_dup(st, 1);
	}
	db_stmt_done(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

/* Visits of school (hosted or made) created in range, by status. */
static json_t *visit_counts(struct kd_db *db, const char *column, int64_t school, const char *from,
                            const char *to)
{
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof STATUSES / sizeof *STATUSES; i++)
		json_object_set_new(o, STATUSES[i], json_integer(0));
	char sql[512];
	snprintf(sql, sizeof sql,
	         "SELECT status, count(*) FROM visits WHERE %s = ?1 AND "
	         "substr(created_at, 1, 10) BETWEEN ?2 AND ?3 GROUP BY status",
	         column);
	struct kd_stmt *st = query(db, sql, school, from, to, NULL);
	if (!st) {
		json_decref(o);
		return NULL;
	}
	while (db_step(st) == DB_ROW)
		json_object_set_new(o, (const char *)db_column_text(st, 0),
		                    json_integer(db_column_int64(st, 1)));
	db_finalize(st);
	return o;
}

static int64_t views_from_others(struct kd_db *db, const struct kd_user *user, int64_t school,
                                 const char *from, const char *to)
{
	struct kd_stmt *st = query(db,
	                         "SELECT count(*) FROM views v JOIN clips c ON c.id = v.clip_id "
	                         "WHERE c.school_id = ?1 AND v.school_id IS NOT NULL AND "
	                         "v.school_id != ?1 AND v.day BETWEEN ?2 AND ?3 AND " CAT_VISIBLE,
	                         school, from, to, user);
	int64_t n = -1;
	if (st && db_step(st) == DB_ROW)
		n = db_column_int64(st, 0);
	db_finalize(st);
	return n;
}

/* Practices whose first clip at school (over all time) falls in the range
 * and that teachers of the school saw (a view) or visited (an accepted or
 * done visit) at another school before that date. */
static json_t *arrived(struct kd_db *db, const struct kd_user *user, int64_t school,
                       const char *from, const char *to)
{
	static const char sql[] =
		"WITH firsts AS ("
		"  SELECT cp.practice_id AS pid, min(" CLIP_DATE ") AS first FROM clips c"
		"  JOIN clip_practices cp ON cp.clip_id = c.id"
		"  WHERE c.school_id = ?1 AND " COUNTED " GROUP BY cp.practice_id),"
		" seen AS ("
		"  SELECT f.pid, v.day AS day, s2.slug AS school, 'view' AS via, 0 AS rank"
		"  FROM firsts f JOIN clip_practices cp2 ON cp2.practice_id = f.pid"
		"  JOIN clips c2 ON c2.id = cp2.clip_id JOIN views v ON v.clip_id = c2.id"
		"  JOIN schools s2 ON s2.id = c2.school_id"
		"  WHERE v.school_id = ?1 AND c2.school_id != ?1 AND v.day < f.first"
		"  UNION ALL"
		"  SELECT f.pid, vi.date, s3.slug, 'visit', 1 FROM firsts f JOIN visits vi"
		"  ON (vi.practice_id = f.pid OR vi.clip_id IN"
		"      (SELECT clip_id FROM clip_practices WHERE practice_id = f.pid))"
		"  JOIN schools s3 ON s3.id = vi.host_school_id"
		"  WHERE vi.visitor_school_id = ?1 AND vi.host_school_id != ?1"
		"  AND vi.status IN ('accepted', 'done') AND vi.date < f.first)"
		" SELECT p.slug, f.first,"
		"  (SELECT school FROM seen WHERE seen.pid = f.pid ORDER BY day, rank, school LIMIT 1),"
		"  (SELECT day FROM seen WHERE seen.pid = f.pid ORDER BY day, rank, school LIMIT 1),"
		"  (SELECT via FROM seen WHERE seen.pid = f.pid ORDER BY day, rank, school LIMIT 1)"
		" FROM firsts f JOIN practices p ON p.id = f.pid"
		" WHERE f.first BETWEEN ?2 AND ?3"
		"  AND EXISTS (SELECT 1 FROM seen WHERE seen.pid = f.pid)"
		" ORDER BY f.first, p.slug";
	struct kd_stmt *st = query(db, sql, school, from, to, user);
	if (!st)
		return NULL;
	json_t *a = json_array();
	while (db_step(st) == DB_ROW)
		json_array_append_new(a, json_pack("{so so so so so}", "practice", text(st, 0),
		                                   "first_clip_on", text(st, 1), "seen_at_school",
		                                   text(st, 2), "seen_on", text(st, 3), "via",
		                                   text(st, 4)));
	db_finalize(st);
	return a;
}

int summary_school(struct kd_db *db, const struct kd_user *user, const char *school,
                   const char *from, const char *to, json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	int64_t sid = 0;
	char *name = NULL;
	int rc = school_id(db, school, &sid, &name);
	if (rc == KD_ENOTFOUND)
		snprintf(err, errlen, "no school '%.64s': GET /api/v1/schools lists them", school);
	if (rc < 0)
		return rc;
	if (user->role != KD_ROLE_ADMIN &&
	    !(user->role == KD_ROLE_PRINCIPAL && user->school_id == sid)) {
		snprintf(err, errlen, "a school's summary is for its principals and for admins");
		free(name);
		return KD_EPERM;
	}
	json_t *o = json_object();
	json_object_set_new(o, "school", json_string(school));
	json_object_set_new(o, "school_name", json_string(name));
	free(name);
	json_object_set_new(o, "from", json_string(from));
	json_object_set_new(o, "to", json_string(to));
	struct kd_stmt *st = NULL;
	/* The server answers from the catalogue in memory (summary_index.c);
	 * the SQL below answers elsewhere, and tells the tests what the
	 * answer must be. */
	if (idx_usable(db)) {
		if ((rc = sumx_school(db, user, sid, from, to, o)) < 0)
			goto fail;
		*out = o;
		return 0;
	}
	rc = KD_EDB;

	st = query(db,
	           "SELECT count(*), coalesce(sum(c.duration_s), 0) FROM clips c "
	           "WHERE c.school_id = ?1 AND " COUNTED " AND " IN_RANGE,
	           sid, from, to, user);
	if (!st || db_step(st) != DB_ROW)
		goto fail;
	json_object_set_new(o, "clips", json_integer(db_column_int64(st, 0)));
	json_object_set_new(o, "minutes",
	                    json_real(summary_minutes(db_column_double(st, 1))));
	db_finalize(st);

	json_t *a = json_array();
	json_object_set_new(o, "by_practice", a);
	st = query(db,
	           "SELECT p.slug, count(*), coalesce(sum(c.duration_s), 0) FROM clips c "
	           "JOIN clip_practices cp ON cp.clip_id = c.id JOIN practices p ON "
	           "p.id = cp.practice_id WHERE c.school_id = ?1 AND " COUNTED " AND " IN_RANGE
	           " GROUP BY p.slug ORDER BY count(*) DESC, p.slug",
	           sid, from, to, user);
	if (!st)
		goto fail;
	while (db_step(st) == DB_ROW)
		json_array_append_new(a, json_pack("{so sI sf}", "practice", text(st, 0), "clips",
		                                   (json_int_t)db_column_int64(st, 1), "minutes",
		                                   summary_minutes(db_column_double(st, 2))));
	db_finalize(st);

	a = json_array();
	json_object_set_new(o, "by_month", a);
	st = query(db,
	           "SELECT substr(" CLIP_DATE ", 1, 7) AS m, count(*) FROM clips c WHERE "
	           "c.school_id = ?1 AND " COUNTED " AND " IN_RANGE " GROUP BY m ORDER BY m",
	           sid, from, to, user);
	if (!st)
		goto fail;
	while (db_step(st) == DB_ROW)
		json_array_append_new(a, json_pack("{so sI}", "month", text(st, 0), "clips",
		                                   (json_int_t)db_column_int64(st, 1)));
	db_finalize(st);

	a = json_array();
	json_object_set_new(o, "teachers", a);
	st = query(db,
	           "SELECT c.teacher, count(*) FROM clips c WHERE c.school_id = ?1 AND "
	           "c.teacher != '' AND " COUNTED " AND " IN_RANGE
	           " GROUP BY c.teacher ORDER BY count(*) DESC, c.teacher",
	           sid, from, to, user);
	if (!st)
		goto fail;
	while (db_step(st) == DB_ROW)
		json_array_append_new(a, json_pack("{so sI}", "teacher", text(st, 0), "clips",
		                                   (json_int_t)db_column_int64(st, 1)));
	db_finalize(st);
	st = NULL;

	int64_t views = views_from_others(db, user, sid, from, to);
	if (views < 0)
		goto fail;
	json_object_set_new(o, "views_from_other_schools", json_integer(views));
	json_t *hosted = visit_counts(db, "host_school_id", sid, from, to);
	json_t *made = visit_counts(db, "visitor_school_id", sid, from, to);
	json_t *arr = arrived(db, user, sid, from, to);
	if (!hosted || !made || !arr) {
		json_decref(hosted);
		json_decref(made);
		json_decref(arr);
		goto fail;
	}
	json_object_set_new(o, "visits", json_pack("{so so}", "hosted", hosted, "made", made));
	json_object_set_new(o, "arrived_from_elsewhere", arr);
	*out = o;
	return 0;
fail:
	db_finalize(st);
	json_decref(o);
	snprintf(err, errlen, "the summary could not be read from the catalogue");
	return rc;
}

int summary_district(struct kd_db *db, const struct kd_user *user, const char *from, const char *to,
                     json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (user->role != KD_ROLE_ADMIN) {
		snprintf(err, errlen, "the district summary is for admins; principals can ask for "
		         "their school's at /api/v1/schools/SLUG/summary");
		return KD_EPERM;
	}
	json_t *o = json_pack("{ss ss}", "from", from, "to", to);
	json_t *schools = json_array(), *grid = json_array(), *spread = json_array();
	json_object_set_new(o, "schools", schools);
	json_object_set_new(o, "grid", grid);
	json_object_set_new(o, "spread", spread);
	if (idx_usable(db)) {
		int rc = sumx_district(db, from, to, o);
		if (rc == 0) {
			*out = o;
			return 0;
		}
		json_decref(o);
		snprintf(err, errlen, "the district summary could not be read from the catalogue");
		return rc;
	}
	struct kd_stmt *st = query(
		db,
		"SELECT s.id, s.slug, s.name,"
		" (SELECT count(*) FROM clips c WHERE c.school_id = s.id AND " COUNTED " AND " IN_RANGE "),"
		" (SELECT coalesce(sum(c.duration_s), 0) FROM clips c WHERE c.school_id = s.id AND "
		COUNTED " AND " IN_RANGE "),"
		" (SELECT count(*) FROM visits WHERE host_school_id = s.id AND"
		"  substr(created_at, 1, 10) BETWEEN ?2 AND ?3),"
		" (SELECT count(*) FROM visits WHERE visitor_school_id = s.id AND"
		"  substr(created_at, 1, 10) BETWEEN ?2 AND ?3)"
		" FROM schools s ORDER BY s.slug",
		0, from, to, user);
	if (!st)
		goto fail;
	while (db_step(st) == DB_ROW) {
		int64_t views = views_from_others(db, user, db_column_int64(st, 0), from, to);
		json_array_append_new(
			schools,
			json_pack("{so so sI sf sI sI sI}", "school", text(st, 1), "name", text(st, 2),
			          "clips", (json_int_t)db_column_int64(st, 3), "minutes",
			          summary_minutes(db_column_double(st, 4)),
			          "views_from_other_schools", (json_int_t)views, "visits_hosted",
			          (json_int_t)db_column_int64(st, 5), "visits_made",
			          (json_int_t)db_column_int64(st, 6)));
	}
	db_finalize(st);

	st = query(db,
	           "SELECT p.slug, s.slug, count(*) FROM clips c JOIN clip_practices cp ON "
	           "cp.clip_id = c.id JOIN practices p ON p.id = cp.practice_id JOIN schools s ON "
	           "s.id = c.school_id WHERE " COUNTED " AND " IN_RANGE
	           " GROUP BY p.slug, s.slug ORDER BY p.slug, s.slug",
	           0, from, to, user);
	if (!st)
		goto fail;
	json_t *row = NULL;
	while (db_step(st) == DB_ROW) {
		const char *p = (const char *)db_column_text(st, 0);
		if (!row || strcmp(json_string_value(json_object_get(row, "practice")), p)) {
			row = json_pack("{ss s{}}", "practice", p, "schools");
			json_array_append_new(grid, row);
		}
		json_object_set_new(json_object_get(row, "schools"),
		                    (const char *)db_column_text(st, 1),
		                    json_integer(db_column_int64(st, 2)));
	}
	db_finalize(st);

	/* For each practice and each month of the range with one of its clips:
	 * how many schools had a clip of it by then (over all time). */
	st = query(db,
	           "WITH cd AS (SELECT cp.practice_id AS pid, c.school_id AS sid, " CLIP_DATE
	           " AS d FROM clips c JOIN clip_practices cp ON cp.clip_id = c.id WHERE " COUNTED
	           "), firsts AS (SELECT pid, sid, min(substr(d, 1, 7)) AS m FROM cd GROUP BY pid, sid),"
	           " months AS (SELECT DISTINCT pid, substr(d, 1, 7) AS m FROM cd"
	           "  WHERE d BETWEEN ?2 AND ?3)"
	           " SELECT p.slug, months.m, (SELECT count(*) FROM firsts f WHERE f.pid = months.pid"
	           "  AND f.m <= months.m) FROM months JOIN practices p ON p.id = months.pid"
	           " ORDER BY p.slug, months.m",
	           0, from, to, user);
	if (!st)
		goto fail;
	while (db_step(st) == DB_ROW)
		json_array_append_new(spread,
		                      json_pack("{so so sI}", "practice", text(st, 0), "month",
		                                text(st, 1), "schools",
		                                (json_int_t)db_column_int64(st, 2)));
	db_finalize(st);
	*out = o;
	return 0;
fail:
	json_decref(o);
	snprintf(err, errlen, "the district summary could not be read from the catalogue");
	return KD_EDB;
}

int summary_warm(struct kd_db *db)
{
	return idx_usable(db) ? sumx_warm(db) : 0;
}

/* ---------------------------------------------------------------- CSV */

/* One RFC 4180 field.  A field a spreadsheet would run as a formula
 * (starting = + - @) gets a leading apostrophe. */
static void csv_field(struct kd_buf *b, const char *s)
{
	if (!s)
		s = "";
	bool formula = strchr("=+-@", s[0]) && s[0];
	bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		kd_buf_putc(b, '"');
	if (formula)
		kd_buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			kd_buf_putc(b, '"');
		kd_buf_putc(b, *s);
	}
	if (quote)
		kd_buf_putc(b, '"');
}

static void csv_row(struct kd_buf *b, const char *section, const char *key, const char *field,
                    const json_t *value)
{
	char num[64];
	const char *v = "";
	if (json_is_string(value))
		v = json_string_value(value);
	else if (json_is_integer(value))
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(value)), v = num;
	else if (json_is_real(value))
		snprintf(num, sizeof num, "%.1f", json_real_value(value)), v = num;
	csv_field(b, section);
	kd_buf_putc(b, ',');
	csv_field(b, key);
	kd_buf_putc(b, ',');
	csv_field(b, field);
	kd_buf_putc(b, ',');
	csv_field(b, v);
	kd_buf_puts(b, "\r\n");
}

char *summary_csv(const json_t *s)
{
	struct kd_buf b = KD_BUF_INIT(64u << 20);
	kd_buf_puts(&b, "section,key,field,value\r\n");
	static const char *const top[] = {"school", "from", "to", "clips", "minutes",
	                                  "views_from_other_schools"};
	for (size_t i = 0; i < sizeof top / sizeof *top; i++)
		csv_row(&b, "summary", "", top[i], json_object_get(s, top[i]));
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(s, "by_practice"), i, e) {
		const char *p = json_string_value(json_object_get(e, "practice"));
		csv_row(&b, "by_practice", p, "clips", json_object_get(e, "clips"));
		csv_row(&b, "by_practice", p, "minutes", json_object_get(e, "minutes"));
	}
	json_array_foreach(json_object_get(s, "by_month"), i, e)
		csv_row(&b, "by_month", json_string_value(json_object_get(e, "month")), "clips",
		        json_object_get(e, "clips"));
	json_array_foreach(json_object_get(s, "teachers"), i, e)
		csv_row(&b, "teachers", json_string_value(json_object_get(e, "teacher")), "clips",
		        json_object_get(e, "clips"));
	static const char *const kinds[] = {"hosted", "made"};
	for (size_t k = 0; k < 2; k++) {
		char section[32];
		snprintf(section, sizeof section, "visits_%s", kinds[k]);
		json_t *o = json_object_get(json_object_get(s, "visits"), kinds[k]);
		for (size_t t = 0; t < sizeof STATUSES / sizeof *STATUSES; t++)
			csv_row(&b, section, STATUSES[t], "visits", json_object_get(o, STATUSES[t]));
	}
	json_array_foreach(json_object_get(s, "arrived_from_elsewhere"), i, e) {
		const char *p = json_string_value(json_object_get(e, "practice"));
		static const char *const f[] = {"first_clip_on", "seen_at_school", "seen_on", "via"};
		for (size_t k = 0; k < 4; k++)
			csv_row(&b, "arrived_from_elsewhere", p, f[k], json_object_get(e, f[k]));
	}
	return kd_buf_take(&b, NULL);
}
