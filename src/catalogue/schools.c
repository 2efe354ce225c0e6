/* schools.c - schools and practices (see catalogue.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
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

static int add_named(sqlite3 *db, const char *what, const char *sql, const char *slug,
                     const char *name, const char *extra, char *err, size_t errlen)
{
	if (!cat_slug_valid(slug)) {
		snprintf(err, errlen,
		         "'%.80s' is not a valid %s slug: use 1 to 63 lowercase letters, digits and "
		         "'-', for example 'north-high'",
		         slug, what);
		return KD_EINVAL;
	}
	size_t nlen = strlen(name);
	if (nlen == 0 || nlen > 200) {
		snprintf(err, errlen, "a %s name must be 1 to 200 characters", what);
		return KD_EINVAL;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot add the %s: %s", what, sqlite3_errmsg(db));
		return KD_EDB;
	}
	sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, extra ? extra : "", -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		snprintf(err, errlen, "a %s with slug '%s' already exists", what, slug);
		return KD_EEXIST;
	}
	snprintf(err, errlen, "cannot add the %s: %s", what, sqlite3_errmsg(db));
	return db_err_code(rc);
}

int cat_school_add(sqlite3 *db, const char *slug, const char *name, const char *district,
                   char *err, size_t errlen)
{
	return add_named(db, "school",
	                 "INSERT INTO schools (slug, name, district) VALUES (?1, ?2, ?3)", slug,
	                 name, district, err, errlen);
}

int cat_practice_add(sqlite3 *db, const char *slug, const char *name, const char *description,
                     char *err, size_t errlen)
{
	return add_named(db, "practice",
	                 "INSERT INTO practices (slug, name, description) VALUES (?1, ?2, ?3)",
	                 slug, name, description, err, errlen);
}

int cat_schools_list(sqlite3 *db, const struct kd_user *user, struct cat_school **out, size_t *n)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
		"SELECT s.id, s.slug, s.name, s.district, "
		"  (SELECT count(*) FROM clips c WHERE c.school_id = s.id AND " CAT_VISIBLE ") "
		"FROM schools s ORDER BY s.name COLLATE NOCASE, s.slug", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("catalogue", "%s", sqlite3_errmsg(db));
		return KD_EDB;
	}
	cat_bind_viewer(st, user);
	size_t cap = 16, len = 0;
	struct cat_school *list = kd_calloc(cap, sizeof *list);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap)
			list = kd_realloc(list, (cap *= 2) * sizeof *list);
		struct cat_school *s = &list[len++];
		s->id = sqlite3_column_int64(st, 0);
		s->slug = cat_col_dup(st, 1);
		s->name = cat_col_dup(st, 2);
		s->district = cat_col_dup(st, 3);
		s->clips = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cat_schools_free(list, len);
		return db_err_code(rc);
	}
	*out = list;
	*n = len;
	return 0;
}

int cat_practices_list(sqlite3 *db, const struct kd_user *user, struct cat_practice **out,
                       size_t *n)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
		"SELECT p.id, p.slug, p.name, p.description, "
		"  (SELECT count(*) FROM clip_practices cp JOIN clips c ON c.id = cp.clip_id "
		"    WHERE cp.practice_id = p.id AND " CAT_VISIBLE ") "
		"FROM practices p ORDER BY p.name COLLATE NOCASE, p.slug", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("catalogue", "%s", sqlite3_errmsg(db));
		return KD_EDB;
	}
	cat_bind_viewer(st, user);
	size_t cap = 16, len = 0;
	struct cat_practice *list = kd_calloc(cap, sizeof *list);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap)
			list = kd_realloc(list, (cap *= 2) * sizeof *list);
		struct cat_practice *p = &list[len++];
		p->id = sqlite3_column_int64(st, 0);
		p->slug = cat_col_dup(st, 1);
		p->name = cat_col_dup(st, 2);
		p->description = cat_col_dup(st, 3);
		p->clips = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cat_practices_free(list, len);
		return db_err_code(rc);
	}
	*out = list;
	*n = len;
	return 0;
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
	}
	free(list);
}

static char *slugs(sqlite3 *db, const char *sql)
{
	struct kd_buf b = KD_BUF_INIT(64 * 1024);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (b.len && kd_buf_puts(&b, ", ") < 0)
				break;
			if (kd_buf_puts(&b, (const char *)sqlite3_column_text(st, 0)) < 0)
				break;
		}
		sqlite3_finalize(st);
	}
	return kd_buf_take(&b, NULL);
}

char *cat_practice_slugs(sqlite3 *db)
{
	return slugs(db, "SELECT slug FROM practices ORDER BY slug");
}

char *cat_school_slugs(sqlite3 *db)
{
	return slugs(db, "SELECT slug FROM schools ORDER BY slug");
}
