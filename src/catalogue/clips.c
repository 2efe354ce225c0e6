/* clips.c - one clip: reading, creating, checking, editing, deleting, and
 * what processing records (lists and search are in list.c). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalogue_sql.h"
#include "index.h"
#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"


int cat_clip_get(struct kd_db *db, const struct kd_user *user, int64_t id, struct cat_clip *out)
{
	if (idx_usable(db))
		return idx_get(db, user, id, out);
	char sql[2048];
	snprintf(sql, sizeof sql, "SELECT %s FROM clips c%s WHERE c.id = ?1 AND %s",
	         CAT_CLIP_COLUMNS, CAT_CLIP_JOINS, CAT_VISIBLE);
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK) {
		log_error("catalogue", "%s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, id);
	cat_bind_viewer(st, user);
	int rc = db_step(st);
	int result = 0;
	if (rc == DB_ROW)
		cat_read_clip(st, out);
	else
		result = rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
	db_finalize(st);
	return result;
}

bool cat_date_valid(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return false;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

bool cat_clip_may_edit(const struct kd_user *u, const struct cat_clip *c)
{
	if (u->role == KD_ROLE_ADMIN)
		return true;
	if (c->uploader_id && c->uploader_id == u->id)
		return true;
	return u->role == KD_ROLE_COACH && u->school_id && u->school_id == c->school_id;
}

bool cat_may_file_at(const struct kd_user *u, int64_t school_id)
{
	if (u->role == KD_ROLE_ADMIN)
		return true;
	return u->role == KD_ROLE_COACH && (!u->school_id || u->school_id == school_id);
}

/* Text a person typed for a field: length in bytes and no control
 * characters (newlines and tabs only where multiline is true). */
static int check_text(const char *field, const char *v, size_t min, size_t max, bool multiline,
                      char *err, size_t errlen)
{
	size_t n = strlen(v);
	if (n < min || n > max) {
		if (min)
			snprintf(err, errlen, "%s must be %zu to %zu characters long", field, min, max);
		else
			snprintf(err, errlen, "%s must be at most %zu characters long", field, max);
		return KD_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t' || c == '\r'))) || c == 0x7f) {
			snprintf(err, errlen, "%s contains a control character; remove it", field);
			return KD_EINVAL;
		}
	}
	return 0;
}

static int check_enum(const char *field, const char *v, const char *const *allowed, char *err,
                      size_t errlen)
{
	for (size_t i = 0; allowed[i]; i++)
		if (!strcmp(v, allowed[i]))
			return 0;
	struct kd_buf b = KD_BUF_INIT(256);
	for (size_t i = 0; allowed[i]; i++)
		kd_buf_printf(&b, "%s%s", i ? ", " : "", allowed[i]);
	snprintf(err, errlen, "%s must be one of %s, not '%.40s'", field, kd_buf_str(&b), v);
	kd_buf_release(&b);
	return KD_EINVAL;
}

static const char *const CONSENTS[] = {"on-file", "pending", "withdrawn", NULL};
static const char *const VISIBILITIES[] = {"district", "school", "private", NULL};

static int check_lists(struct kd_db *db, const char *const *practices, size_t n_practices,
                       bool set_practices, const char *const *tags, size_t n_tags,
                       bool set_tags, char *err, size_t errlen)
{
	int rc;
	if (set_practices) {
		if (n_practices < 1 || n_practices > CAT_PRACTICES_MAX) {
			snprintf(err, errlen, "a clip needs 1 to %d practices", CAT_PRACTICES_MAX);
			return KD_EINVAL;
		}
		for (size_t i = 0; i < n_practices; i++) {
			int64_t id;
			if ((rc = cat_slug_id(db, CAT_PRACTICES, practices[i], &id)) < 0)
				return cat_unknown_slug(db, rc, CAT_PRACTICES, practices[i], err, errlen);
		}
	}
	if (set_tags) {
		if (n_tags > CAT_TAGS_MAX) {
			snprintf(err, errlen, "a clip may have at most %d tags", CAT_TAGS_MAX);
			return KD_EINVAL;
		}
		for (size_t i = 0; i < n_tags; i++)
			if ((rc = check_text("a tag", tags[i], 1, CAT_TAG_MAX, false, err, errlen)) < 0)
				return rc;
	}
	return 0;
}

int cat_clip_edit_check(struct kd_db *db, const struct cat_clip_edit *e, char *err, size_t errlen)
{
	int rc = 0;
	if (e->title && (rc = check_text("title", e->title, 1, CAT_TITLE_MAX, false, err, errlen)) < 0)
		return rc;
	if (e->title && strspn(e->title, " ") == strlen(e->title)) {
		snprintf(err, errlen, "title must have some words, not only spaces");
		return KD_EINVAL;
	}
	if (e->description &&
	    (rc = check_text("description", e->description, 0, CAT_DESCRIPTION_MAX, true, err, errlen)) < 0)
		return rc;
	if (e->teacher && (rc = check_text("teacher", e->teacher, 0, CAT_TEACHER_MAX, false, err, errlen)) < 0)
		return rc;
	if (e->grade && (rc = check_text("grade", e->grade, 0, CAT_GRADE_MAX, false, err, errlen)) < 0)
		return rc;
	if (e->subject && (rc = check_text("subject", e->subject, 0, CAT_SUBJECT_MAX, false, err, errlen)) < 0)
		return rc;
	if (e->recorded_on && *e->recorded_on && !cat_date_valid(e->recorded_on)) {
		snprintf(err, errlen, "recorded_on must be a date written YYYY-MM-DD, not '%.40s'",
		         e->recorded_on);
		return KD_EINVAL;
	}
	if (e->consent && (rc = check_enum("consent", e->consent, CONSENTS, err, errlen)) < 0)
		return rc;
	if ((rc = cat_consent_check(e, err, errlen)) < 0)
		return rc;
	if (e->visibility &&
	    (rc = check_enum("visibility", e->visibility, VISIBILITIES, err, errlen)) < 0)
		return rc;
	if (e->school) {
		int64_t id;
		if ((rc = cat_slug_id(db, CAT_SCHOOLS, e->school, &id)) < 0)
			return cat_unknown_slug(db, rc, CAT_SCHOOLS, e->school, err, errlen);
	}
	return check_lists(db, e->practices, e->n_practices, e->set_practices, e->tags, e->n_tags,
	                   e->set_tags, err, errlen);
}

static int exec_bound(struct kd_db *db, const char *sql, int64_t id, const char *text)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK) {
		log_error("catalogue", "%s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, id);
	if (text)
		db_bind_text(st, 2, text, -1, DB_STATIC);
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		log_error("catalogue", "%s", db_errmsg(db));
		return db_err_code(rc);
	}
	return 0;
}

static int set_links(struct kd_db *db, int64_t id, const char *const *practices, size_t n_practices,
                     bool set_practices, const char *const *tags, size_t n_tags, bool set_tags)
{
	int rc = 0;
	if (set_practices) {
		rc = exec_bound(db, "DELETE FROM clip_practices WHERE clip_id = ?1", id, NULL);
		for (size_t i = 0; rc == 0 && i < n_practices; i++)
			rc = exec_bound(db,
			                "INSERT INTO clip_practices (clip_id, practice_id) "
			                "SELECT ?1, id FROM practices WHERE slug = ?2 "
			                "ON CONFLICT DO NOTHING",
			                id, practices[i]);
	}
	if (rc == 0 && set_tags) {
		rc = exec_bound(db, "DELETE FROM clip_tags WHERE clip_id = ?1", id, NULL);
		for (size_t i = 0; rc == 0 && i < n_tags; i++)
			rc = exec_bound(db, "INSERT INTO clip_tags (clip_id, tag) VALUES (?1, ?2) "
			                "ON CONFLICT DO NOTHING",
			                id, tags[i]);
	}
	return rc;
}

int cat_clip_update(struct kd_db *db, int64_t id, const struct cat_clip_edit *e, char *err,
                    size_t errlen)
{
	int rc = cat_clip_edit_check(db, e, err, errlen);
	/* a retired practice the clip has already may stay (practices.c) */
	if (rc == 0 && e->set_practices)
		rc = cat_practices_usable(db, id, e->practices, e->n_practices, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = db_begin(db)) < 0) {
		snprintf(err, errlen, "the catalogue is busy; try again in a moment");
		return rc;
	}
	struct kd_stmt *st;
	char *old_consent = NULL, *old_basis = NULL;
	bool consent = e->consent || e->consent_basis;
	if (consent && (rc = cat_consent_read(db, id, &old_consent, &old_basis)) < 0) {
		db_rollback(db);
		if (rc == KD_ENOTFOUND)
			snprintf(err, errlen, "no clip with id %lld", (long long)id);
		return rc;
	}
	if (db_prepare(db, "UPDATE clips SET title = coalesce(?2, title), description = coalesce(?3, description), "
		"teacher = coalesce(?4, teacher), grade = coalesce(?5, grade), "
		"subject = coalesce(?6, subject), "
		"recorded_on = CASE WHEN ?7 IS NULL THEN recorded_on WHEN ?7 = '' THEN NULL ELSE ?7 END, "
		"consent = coalesce(?8, consent), visibility = coalesce(?9, visibility), "
		"school_id = coalesce((SELECT id FROM schools WHERE slug = ?10), school_id), "
		"updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1", &st) != DB_OK) {
		rc = KD_EDB;
		goto fail;
	}
	const char *vals[] = {e->title, e->description, e->teacher, e->grade, e->subject,
	                      e->recorded_on, e->consent, e->visibility, e->school};
	db_bind_int64(st, 1, id);
	for (int i = 0; i < 9; i++)
		if (vals[i])
			db_bind_text(st, i + 2, vals[i], -1, DB_STATIC);
	int step = db_step(st);
	db_finalize(st);
	if (step != DB_DONE) {
		rc = db_err_code(step);
		goto fail;
	}
	if (db_changes(db) == 0) {
		db_rollback(db);
		free(old_consent);
		free(old_basis);
		snprintf(err, errlen, "no clip with id %lld", (long long)id);
		return KD_ENOTFOUND;
	}
	if ((rc = set_links(db, id, e->practices, e->n_practices, e->set_practices, e->tags,
	                    e->n_tags, e->set_tags)) < 0)
		goto fail;
	if (consent && (rc = cat_consent_apply(db, id, old_consent, old_basis, e, err, errlen)) < 0) {
		if (rc == KD_EINVAL)
			goto refused;
		goto fail;
	}
	if ((rc = db_commit(db)) < 0)
		goto fail;
	free(old_consent);
	free(old_basis);
	return 0;
fail:
	snprintf(err, errlen, "cannot save the clip: %s", db_errmsg(db));
refused:
	db_rollback(db);
	free(old_consent);
	free(old_basis);
	return rc;
}

int cat_clip_delete(struct kd_db *db, int64_t id)
{
	int rc = exec_bound(db, "DELETE FROM clips WHERE id = ?1", id, NULL);
	if (rc == 0 && db_changes(db) == 0)
		return KD_ENOTFOUND;
	return rc;
}

int cat_clip_new_check(struct kd_db *db, const struct cat_clip_new *c, char *err, size_t errlen)
{
	struct cat_clip_edit check = {
		.title = c->title, .description = c->description, .teacher = c->teacher,
		.grade = c->grade, .subject = c->subject, .recorded_on = c->recorded_on,
		.consent = c->consent, .visibility = c->visibility, .school = c->school,
		.practices = c->practices, .n_practices = c->n_practices, .set_practices = true,
		.tags = c->tags, .n_tags = c->n_tags, .set_tags = true,
	};
	if (!c->school) {
		char *known = cat_school_slugs(db);
		snprintf(err, errlen, "say which school the clip is from (known schools: %s)",
		         *known ? known : "none yet: add one with 'kindling school add'");
		free(known);
		return KD_EINVAL;
	}
	if (!c->title) {
		snprintf(err, errlen, "a clip needs a title");
		return KD_EINVAL;
	}
	int rc = cat_clip_edit_check(db, &check, err, errlen);
	/* a new clip takes no retired practice (practices.c) */
	return rc < 0 ? rc : cat_practices_usable(db, 0, c->practices, c->n_practices, err, errlen);
}

int cat_clip_reserve_id(struct kd_db *db, int64_t *id)
{
	if (db_backend(db) != DB_POSTGRES)
		return KD_EINVAL;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT nextval(pg_get_serial_sequence('clips', 'id'))", &st) != DB_OK)
		return KD_EDB;
	int rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_column_int64(st, 0);
	db_finalize(st);
	return rc == DB_ROW ? 0 : db_err_code(rc);
}

int cat_clip_create(struct kd_db *db, const struct cat_clip_new *c, int64_t *id, char *err,
                    size_t errlen)
{
	int rc = cat_clip_new_check(db, c, err, errlen);
	if (rc < 0)
		return rc;
	/* Its own transaction, or the caller's (intake adds the job and
	 * places the file in the same one). */
	bool own = !db_in_transaction(db);
	if (own && (rc = db_begin(db)) < 0) {
		snprintf(err, errlen, "the catalogue is busy; try again in a moment");
		return rc;
	}
	struct kd_stmt *st;
	if (c->sha256) {
		static const struct kd_user everyone = {.role = KD_ROLE_ADMIN};
		if (db_prepare(db, "SELECT c.id FROM clips c WHERE c.sha256 = ?1 AND " CAT_VISIBLE
		                       " ORDER BY c.id LIMIT 1", &st) != DB_OK) {
			rc = KD_EDB;
			goto fail;
		}
		db_bind_text(st, 1, c->sha256, -1, DB_STATIC);
		cat_bind_viewer(st, c->viewer ? c->viewer : &everyone);
		if (db_step(st) == DB_ROW) {
			*id = db_column_int64(st, 0);
			db_finalize(st);
			if (own)
				db_rollback(db);
			snprintf(err, errlen, "this file is already in the catalogue as clip %lld",
			         (long long)*id);
			return KD_EEXIST;
		}
		db_finalize(st);
	}
	/* (an id taken before is given; otherwise the column's own default) */
#define INSERT_CLIP(id_col, id_val)                                                          \
	"INSERT INTO clips (" id_col "title, description, school_id, teacher, grade, subject, " \
	"recorded_on, consent, visibility, status, original_name, sha256, uploader_id) "      \
	"VALUES (" id_val "?1, coalesce(?2, ''), (SELECT id FROM schools WHERE slug = ?3), "   \
	"coalesce(?4, ''), coalesce(?5, ''), coalesce(?6, ''), nullif(?7, ''), "              \
	"coalesce(?8, 'on-file'), coalesce(?9, 'district'), coalesce(?10, 'queued'), "        \
	"coalesce(?11, ''), ?12, nullif(?13, 0)) RETURNING id"
	if (db_prepare(db, c->id ? INSERT_CLIP("id, ", "?14, ") : INSERT_CLIP("", ""), &st) !=
	    DB_OK) {
		rc = KD_EDB;
		goto fail;
	}
	const char *vals[] = {c->title, c->description, c->school, c->teacher, c->grade,
	                      c->subject, c->recorded_on, c->consent, c->visibility,
	                      cat_status_name(c->status), c->original_name, c->sha256};
	for (int i = 0; i < 12; i++)
		if (vals[i])
			db_bind_text(st, i + 1, vals[i], -1, DB_STATIC);
	db_bind_int64(st, 13, c->uploader_id);
	if (c->id)
		db_bind_int64(st, 14, c->id);
	int step = db_step(st);
	if (step == DB_ROW)
		*id = db_column_int64(st, 0);
	db_finalize(st);
	if (step != DB_ROW) {
		rc = db_err_code(step);
		goto fail;
	}
	if ((rc = set_links(db, *id, c->practices, c->n_practices, true, c->tags, c->n_tags,
	                    true)) < 0 ||
	    (rc = cat_consent_created(db, *id)) < 0 || (own && (rc = db_commit(db)) < 0))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot add the clip: %s", db_errmsg(db));
	if (own)
		db_rollback(db);
	return rc;
}

static int set_status(struct kd_db *db, int64_t id, enum cat_status status, const char *error,
                      bool only_unfinished)
{
	struct kd_stmt *st;
	if (db_prepare(db, "UPDATE clips SET status = ?2, error = ?3, "
		"updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1 "
		"AND (?4 = 0 OR status IN ('queued', 'processing'))", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, cat_status_name(status), -1, DB_STATIC);
	if (error)
		db_bind_text(st, 3, error, -1, DB_STATIC);
	db_bind_int(st, 4, only_unfinished);
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE)
		return db_err_code(rc);
	return db_changes(db) || only_unfinished ? 0 : KD_ENOTFOUND;
}

int cat_clip_set_status(struct kd_db *db, int64_t id, enum cat_status status, const char *error)
{
	return set_status(db, id, status, error, false);
}

int cat_clip_set_status_unfinished(struct kd_db *db, int64_t id, enum cat_status status,
                                   const char *error)
{
	return set_status(db, id, status, error, true);
}

int cat_clip_set_media(struct kd_db *db, int64_t id, const struct cat_media *m, int coded_width,
                       int coded_height, const char *created_time)
{
	struct kd_stmt *st;
	if (db_prepare(db, "UPDATE clips SET container = ?2, duration_s = ?3, width = ?4, height = ?5, "
		"rotation = ?6, video_codec = ?7, audio_codec = ?8, fps = ?9, bit_rate = ?10, "
		"size_bytes = ?11, coded_width = ?12, coded_height = ?13, created_time = ?14, "
		"updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, m->container ? m->container : "", -1, DB_STATIC);
	db_bind_double(st, 3, m->duration_s);
	db_bind_int(st, 4, m->width);
	db_bind_int(st, 5, m->height);
	db_bind_int(st, 6, m->rotation);
	db_bind_text(st, 7, m->video_codec ? m->video_codec : "", -1, DB_STATIC);
	if (m->audio_codec && *m->audio_codec)
		db_bind_text(st, 8, m->audio_codec, -1, DB_STATIC);
	db_bind_double(st, 9, m->fps);
	db_bind_int64(st, 10, m->bit_rate);
	db_bind_int64(st, 11, m->size_bytes);
	db_bind_int(st, 12, coded_width);
	db_bind_int(st, 13, coded_height);
	if (created_time && *created_time)
		db_bind_text(st, 14, created_time, -1, DB_STATIC);
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE)
		return db_err_code(rc);
	return db_changes(db) ? 0 : KD_ENOTFOUND;
}

int cat_clip_status(struct kd_db *db, int64_t id, enum cat_status *status, char **error)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT status, error FROM clips WHERE id = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		cat_status_parse((const char *)db_column_text(st, 0), status);
		*error = cat_col_dup(st, 1);
	}
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

int cat_clips_each(struct kd_db *db, int (*fn)(void *arg, int64_t id, const char *sha256),
                   void *arg)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT id, sha256 FROM clips ORDER BY id", &st) !=
	    DB_OK)
		return KD_EDB;
	int rc, out = 0;
	while (!out && (rc = db_step(st)) == DB_ROW)
		out = fn(arg, db_column_int64(st, 0), (const char *)db_column_text(st, 1));
	db_finalize(st);
	if (out)
		return out;
	return rc == DB_DONE ? 0 : db_err_code(rc);
}
