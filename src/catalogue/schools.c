/* schools.c - schools and practices: adding, naming, listing (see
 * catalogue.h); a practice's retirement and merging are practices.c's. */
#include <stddef.h>
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

bool cat_slug_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

static const char *const WHAT[] = {[CAT_SCHOOLS] = "school", [CAT_PRACTICES] = "practice"};

int cat_slug_id(struct kd_db *db, enum cat_named what, const char *slug, int64_t *id)
{
	static const char *const SQL[] = {
		[CAT_SCHOOLS] = "SELECT id FROM schools WHERE slug = ?1",
		[CAT_PRACTICES] = "SELECT id FROM practices WHERE slug = ?1",
	};
	struct kd_stmt *st;
	if (db_stmt(db, SQL[what], &st) < 0)
		return KD_EDB;
	db_bind_text(st, 1, slug, -1, DB_STATIC);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_column_int64(st, 0);
	db_stmt_done(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

int cat_unknown_slug(struct kd_db *db, int rc, enum cat_named what, const char *slug, char *err,
                     size_t errlen)
{
	if (rc != KD_ENOTFOUND)
		return rc;
	char *known = what == CAT_PRACTICES ? cat_practice_slugs(db) : cat_school_slugs(db);
	snprintf(err, errlen, "unknown %s '%.64s'; known %ss: %s", WHAT[what], slug, WHAT[what],
	         *known ? known : "(none yet)");
	free(known);
	return KD_ENOTFOUND;
}

/* Longest district and practice description an admin may write. */
#define DISTRICT_MAX 200
#define PRACTICE_DESCRIPTION_MAX 2000

/* A name, district or description a person typed: its length in bytes,
 * no control characters (line ends only where multiline), and a name
 * not made of spaces alone, which would show as nothing. */
static int check_named_text(const char *what, const char *field, const char *v, size_t min,
                            size_t max, bool multiline, char *err, size_t errlen)
{
	size_t n = strlen(v);
	if (n < min || n > max) {
		snprintf(err, errlen, "a %s %s must be %zu to %zu characters long", what, field, min,
		         max);
		return KD_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f) {
			snprintf(err, errlen, "a %s %s may not hold control characters; remove them",
			         what, field);
			return KD_EINVAL;
		}
	}
	if (min && strspn(v, " ") == n) {
		snprintf(err, errlen, "a %s %s needs some words, not only spaces", what, field);
		return KD_EINVAL;
	}
	return 0;
}

static int add_named(struct kd_db *db, const char *what, const char *sql, const char *slug,
                     const char *name, const char *extra, char *err, size_t errlen)
{
	if (!cat_slug_valid(slug)) {
		snprintf(err, errlen,
		         "'%.80s' is not a valid %s slug: use 1 to 63 lowercase letters, digits and "
		         "'-', for example 'north-high'",
		         slug, what);
		return KD_EINVAL;
	}
	bool school = !strcmp(what, "school");
	int crc = check_named_text(what, "name", name, 1, 200, false, err, errlen);
	if (crc == 0 && extra)
		crc = check_named_text(what, school ? "district" : "description", extra, 0,
		                       school ? DISTRICT_MAX : PRACTICE_DESCRIPTION_MAX, !school, err,
		                       errlen);
	if (crc < 0)
		return crc;
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK) {
		snprintf(err, errlen, "cannot add the %s: %s", what, db_errmsg(db));
		return KD_EDB;
	}
	db_bind_text(st, 1, slug, -1, DB_STATIC);
	db_bind_text(st, 2, name, -1, DB_STATIC);
	db_bind_text(st, 3, extra ? extra : "", -1, DB_STATIC);
	int rc = db_step(st);
	db_finalize(st);
	if (rc == DB_DONE)
		return 0;
	if ((rc & 0xff) == DB_CONSTRAINT) {
		snprintf(err, errlen, "a %s with slug '%s' already exists", what, slug);
		return KD_EEXIST;
	}
	snprintf(err, errlen, "cannot add the %s: %s", what, db_errmsg(db));
	return db_err_code(rc);
}

int cat_school_add(struct kd_db *db, const char *slug, const char *name, const char *district,
                   char *err, size_t errlen)
{
	return add_named(db, "school",
	                 "INSERT INTO schools (slug, name, district) VALUES (?1, ?2, ?3)", slug,
	                 name, district, err, errlen);
}

int cat_practice_add(struct kd_db *db, const char *slug, const char *name, const char *description,
                     char *err, size_t errlen)
{
	return add_named(db, "practice",
	                 "INSERT INTO practices (slug, name, description) VALUES (?1, ?2, ?3)",
	                 slug, name, description, err, errlen);
}

#define SCHOOL_COUNTS \
	"SELECT c.school_id, count(*) FROM clips c WHERE " CAT_VISIBLE " GROUP BY c.school_id"
#define PRACTICE_COUNTS                                                               \
	"SELECT cp.practice_id, count(*) FROM clip_practices cp JOIN clips c ON c.id = " \
	"cp.clip_id WHERE " CAT_VISIBLE " GROUP BY cp.practice_id"

/* Fill the clip counts of n items (struct of size `size` with an int64 id
 * and count at the given offsets) for what user may see: from the count
 * cache when every one is there, else with one grouped query. */
static int count_by(struct kd_db *db, const struct kd_user *user, const char *what, const char *sql,
                    void *items, size_t n, size_t size, size_t id_off, size_t count_off)
{
	if (idx_usable(db)) {
		int64_t *ids = kd_calloc(n ? n : 1, sizeof *ids);
		int64_t *counts = kd_calloc(n ? n : 1, sizeof *counts);
		for (size_t i = 0; i < n; i++)
			ids[i] = *(int64_t *)((char *)items + i * size + id_off);
		int rc = !strcmp(what, "school") ? idx_count_by_school(db, user, ids, counts, n)
		                                 : idx_count_by_practice(db, user, ids, counts, n);
		for (size_t i = 0; rc == 0 && i < n; i++)
			*(int64_t *)((char *)items + i * size + count_off) = counts[i];
		free(ids);
		free(counts);
		return rc;
	}
	int64_t gen = cat_generation(db);
	char key[128];
	bool all = true;
	for (size_t i = 0; i < n; i++) {
		char *item = (char *)items + i * size;
		snprintf(key, sizeof key, "%s|%d|%lld|%lld|%lld", what, user->role == KD_ROLE_ADMIN,
		         (long long)user->id, (long long)user->school_id,
		         (long long)*(int64_t *)(item + id_off));
		all &= cat_cache_get(gen, key, (int64_t *)(item + count_off));
	}
	if (all)
		return 0;
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK) {
		log_error("catalogue", "%s", db_errmsg(db));
		return KD_EDB;
	}
	cat_bind_viewer(st, user);
	for (size_t i = 0; i < n; i++)
		*(int64_t *)((char *)items + i * size + count_off) = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t id = db_column_int64(st, 0);
		for (size_t i = 0; i < n; i++) {
			char *item = (char *)items + i * size;
			if (*(int64_t *)(item + id_off) == id)
				*(int64_t *)(item + count_off) = db_column_int64(st, 1);
		}
	}
	db_finalize(st);
	if (rc != DB_DONE)
		return db_err_code(rc);
	for (size_t i = 0; i < n; i++) {
		char *item = (char *)items + i * size;
		snprintf(key, sizeof key, "%s|%d|%lld|%lld|%lld", what, user->role == KD_ROLE_ADMIN,
		         (long long)user->id, (long long)user->school_id,
		         (long long)*(int64_t *)(item + id_off));
		cat_cache_put(gen, key, *(int64_t *)(item + count_off));
	}
	return 0;
}

int cat_schools_list(struct kd_db *db, const struct kd_user *user, struct cat_school **out, size_t *n)
{
	struct kd_stmt *st;
	int rc;
	if (db_stmt(db,
	            "SELECT s.id, s.slug, s.name, s.district FROM schools s "
	            "ORDER BY s.name COLLATE NOCASE, s.slug",
	            &st) < 0)
		return KD_EDB;
	size_t cap = 16, len = 0;
	struct cat_school *list = kd_calloc(cap, sizeof *list);
	while ((rc = db_step(st)) == DB_ROW) {
		if (len == cap)
			list = kd_realloc(list, (cap *= 2) * sizeof *list);
		struct cat_school *s = &list[len++];
		s->id = db_column_int64(st, 0);
		s->slug = cat_col_dup(st, 1);
		s->name = cat_col_dup(st, 2);
		s->district = cat_col_dup(st, 3);
	}
	db_stmt_done(st);
	if (rc != DB_DONE || (rc = count_by(db, user, "school", SCHOOL_COUNTS, list, len,
	                                        sizeof *list, offsetof(struct cat_school, id),
	                                        offsetof(struct cat_school, clips))) < 0) {
		cat_schools_free(list, len);
		return rc < 0 ? rc : db_err_code(rc);
	}
	*out = list;
	*n = len;
	return 0;
}

int cat_practices_list(struct kd_db *db, const struct kd_user *user, struct cat_practice **out,
                       size_t *n)
{
	struct kd_stmt *st;
	int rc;
	if (db_stmt(db,
	            "SELECT p.id, p.slug, p.name, p.description, p.retired_at FROM practices p "
	            "ORDER BY p.name COLLATE NOCASE, p.slug",
	            &st) < 0)
		return KD_EDB;
	size_t cap = 16, len = 0;
	struct cat_practice *list = kd_calloc(cap, sizeof *list);
	while ((rc = db_step(st)) == DB_ROW) {
		if (len == cap)
			list = kd_realloc(list, (cap *= 2) * sizeof *list);
		struct cat_practice *p = &list[len++];
		p->id = db_column_int64(st, 0);
		p->slug = cat_col_dup(st, 1);
		p->name = cat_col_dup(st, 2);
		p->description = cat_col_dup(st, 3);
		p->retired_at = cat_col_dup(st, 4);
	}
	db_stmt_done(st);
	if (rc != DB_DONE ||
	    (rc = count_by(db, user, "practice", PRACTICE_COUNTS, list, len, sizeof *list,
	                   offsetof(struct cat_practice, id),
	                   offsetof(struct cat_practice, clips))) < 0) {
		cat_practices_free(list, len);
		return rc < 0 ? rc : db_err_code(rc);
	}
	*out = list;
	*n = len;
	return 0;
}

int cat_school_get(struct kd_db *db, const char *slug, struct cat_school **out)
{
	struct kd_stmt *st;
	if (db_stmt(db, "SELECT id, slug, name, district FROM schools WHERE slug = ?1", &st) < 0)
		return KD_EDB;
	db_bind_text(st, 1, slug, -1, DB_STATIC);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct cat_school *s = kd_calloc(1, sizeof *s);
		s->id = db_column_int64(st, 0);
		s->slug = cat_col_dup(st, 1);
		s->name = cat_col_dup(st, 2);
		s->district = cat_col_dup(st, 3);
		*out = s;
	}
	db_stmt_done(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

int cat_school_id(struct kd_db *db, const char *slug, int64_t *id)
{
	return cat_slug_id(db, CAT_SCHOOLS, slug, id);
}

int cat_practice_get(struct kd_db *db, const char *slug, struct cat_practice **out)
{
	struct kd_stmt *st;
	if (db_stmt(db,
	            "SELECT id, slug, name, description, retired_at FROM practices WHERE slug = ?1",
	            &st) < 0)
		return KD_EDB;
	db_bind_text(st, 1, slug, -1, DB_STATIC);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		struct cat_practice *p = kd_calloc(1, sizeof *p);
		p->id = db_column_int64(st, 0);
		p->slug = cat_col_dup(st, 1);
		p->name = cat_col_dup(st, 2);
		p->description = cat_col_dup(st, 3);
		p->retired_at = cat_col_dup(st, 4);
		*out = p;
	}
	db_stmt_done(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

void cat_schools_free(struct cat_school *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].slug);
		free(list[i].name);
		free(list[i].district);
	}
	free(list);
}

void cat_practices_free(struct cat_practice *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].slug);
		free(list[i].name);
		free(list[i].description);
		free(list[i].retired_at);
	}
	free(list);
}

static char *slugs(struct kd_db *db, const char *sql)
{
	struct kd_buf b = KD_BUF_INIT(64 * 1024);
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) == DB_OK) {
		while (db_step(st) == DB_ROW) {
			if (b.len && kd_buf_puts(&b, ", ") < 0)
				break;
			if (kd_buf_puts(&b, (const char *)db_column_text(st, 0)) < 0)
				break;
		}
		db_finalize(st);
	}
	return kd_buf_take(&b, NULL);
}

char *cat_practice_slugs(struct kd_db *db)
{
	return slugs(db, "SELECT slug FROM practices WHERE retired_at IS NULL ORDER BY slug");
}

char *cat_school_slugs(struct kd_db *db)
{
	return slugs(db, "SELECT slug FROM schools ORDER BY slug");
}

/* ---------------------------------------------------------------- administration */

int cat_schools_admin_list(struct kd_db *db, struct cat_school_row **out, size_t *n)
{
	/* (counted by subqueries, each an index lookup: clips_school and the
	 * users of a school are few beside the clips) */
	struct kd_stmt *st;
	if (db_prepare(db,
	               "SELECT s.id, s.slug, s.name, s.district, "
	               "(SELECT count(*) FROM clips c WHERE c.school_id = s.id) AS clips, "
	               "(SELECT count(*) FROM users u WHERE u.school_id = s.id) AS people, "
	               "CASE WHEN s.sourced_id IS NULL THEN 0 ELSE 1 END AS from_roster "
	               "FROM schools s ORDER BY s.name COLLATE NOCASE, s.slug",
	               &st) != DB_OK) {
		log_error("catalogue", "%s", db_errmsg(db));
		return KD_EDB;
	}
	size_t cap = 16, len = 0;
	struct cat_school_row *list = kd_calloc(cap, sizeof *list);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (len == cap)
			list = kd_realloc(list, (cap *= 2) * sizeof *list);
		struct cat_school_row *r = &list[len++];
		r->id = db_column_int64(st, 0);
		r->slug = cat_col_dup(st, 1);
		r->name = cat_col_dup(st, 2);
		r->district = cat_col_dup(st, 3);
		r->clips = db_column_int64(st, 4);
		r->people = db_column_int64(st, 5);
		r->from_roster = db_column_int64(st, 6) != 0;
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		cat_school_rows_free(list, len);
		return db_err_code(rc);
	}
	*out = list;
	*n = len;
	return 0;
}

void cat_school_rows_free(struct cat_school_row *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].slug);
		free(list[i].name);
		free(list[i].district);
	}
	free(list);
}

/* Set a named row's name (?2) and its other text (?3), those given, by
 * slug (?1).  Only what differs is written: the triggers on a name
 * (schema 001) re-index the search text of every clip of the school or
 * practice, and each write reloads the server's index whole (005).
 * 0, or KD_ENOTFOUND when no row has the slug. */
static int edit_named(struct kd_db *db, enum cat_named what, const char *slug, const char *a,
                      const char *b, char *err, size_t errlen)
{
	static const char *const TABLE[] = {[CAT_SCHOOLS] = "schools",
	                                    [CAT_PRACTICES] = "practices"};
	static const char *const EXTRA[] = {[CAT_SCHOOLS] = "district",
	                                    [CAT_PRACTICES] = "description"};
	char sql[256];
	int64_t id;
	int rc = 0;
	if (a || b) {
		/* (built from the literals above only) */
		snprintf(sql, sizeof sql, "UPDATE %s SET %s%s%s%s WHERE slug = ?1 AND (%s%s%s%s)",
		         TABLE[what], a ? "name = ?2" : "", a && b ? ", " : "", b ? EXTRA[what] : "",
		         b ? " = ?3" : "", a ? "name <> ?2" : "", a && b ? " OR " : "",
		         b ? EXTRA[what] : "", b ? " <> ?3" : "");
		struct kd_stmt *st;
		if (db_prepare(db, sql, &st) != DB_OK) {
			snprintf(err, errlen, "cannot change the %s: %s", WHAT[what], db_errmsg(db));
			return KD_EDB;
		}
		db_bind_text(st, 1, slug, -1, DB_STATIC);
		if (a)
			db_bind_text(st, 2, a, -1, DB_STATIC);
		if (b)
			db_bind_text(st, 3, b, -1, DB_STATIC);
		rc = db_step(st);
		db_finalize(st);
		if (rc != DB_DONE) {
			snprintf(err, errlen, "cannot change the %s: %s", WHAT[what], db_errmsg(db));
			return db_err_code(rc);
		}
		if (db_changes(db) > 0)
			return 0;
	}
	/* nothing written: nothing differed, or there is no such row */
	rc = cat_slug_id(db, what, slug, &id);
	if (rc == KD_ENOTFOUND)
		snprintf(err, errlen, "there is no %s '%.64s'", WHAT[what], slug);
	else if (rc < 0)
		snprintf(err, errlen, "cannot change the %s: %s", WHAT[what], db_errmsg(db));
	return rc;
}

int cat_school_edit(struct kd_db *db, const char *slug, const char *name, const char *district,
                    char *err, size_t errlen)
{
	int rc = 0;
	if (name)
		rc = check_named_text("school", "name", name, 1, 200, false, err, errlen);
	if (rc == 0 && district)
		rc = check_named_text("school", "district", district, 0, DISTRICT_MAX, false, err,
		                      errlen);
	if (rc < 0)
		return rc;
	return edit_named(db, CAT_SCHOOLS, slug, name, district, err, errlen);
}

int cat_practice_edit(struct kd_db *db, const char *slug, const char *name,
                      const char *description, char *err, size_t errlen)
{
	int rc = 0;
	if (name)
		rc = check_named_text("practice", "name", name, 1, 200, false, err, errlen);
	if (rc == 0 && description)
		rc = check_named_text("practice", "description", description, 0,
		                      PRACTICE_DESCRIPTION_MAX, true, err, errlen);
	if (rc < 0)
		return rc;
	return edit_named(db, CAT_PRACTICES, slug, name, description, err, errlen);
}
