/* schools.c - schools and practices (see catalogue.h). */
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
	size_t nlen = strlen(name);
	if (nlen == 0 || nlen > 200) {
		snprintf(err, errlen, "a %s name must be 1 to 200 characters", what);
		return KD_EINVAL;
	}
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
	            "SELECT p.id, p.slug, p.name, p.description FROM practices p "
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
	if (db_stmt(db, "SELECT id, slug, name, description FROM practices WHERE slug = ?1",
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
	return slugs(db, "SELECT slug FROM practices ORDER BY slug");
}

char *cat_school_slugs(struct kd_db *db)
{
	return slugs(db, "SELECT slug FROM schools ORDER BY slug");
}
