/* comments.c - time-stamped notes on clips (see comments.h). */
#include "kindling/comments.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* May user delete a note by author on clip c (its uploader, school)? */
static bool may_delete(const struct kd_user *user, int64_t author, const struct cat_clip *c)
{
	return author == user->id || cat_clip_may_edit(user, c);
}

int comments_list(struct kd_db *db, const struct kd_user *user, int64_t clip_id, int64_t page,
                  struct comment **out, size_t *n, int64_t *total)
{
	*out = NULL;
	*n = 0;
	*total = 0;
	struct cat_clip clip;
	int rc = cat_clip_get(db, user, clip_id, &clip);
	if (rc < 0)
		return rc;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT m.id, m.clip_id, coalesce(m.user_id, 0), m.at_s, u.name, m.body, "
		"m.created_at, count(*) OVER () FROM comments m "
		"LEFT JOIN users u ON u.id = m.user_id WHERE m.clip_id = ?1"
		" ORDER BY m.at_s IS NULL, m.at_s, m.id LIMIT ?2 OFFSET ?3", &st) != DB_OK) {
		log_error("comments", "%s", db_errmsg(db));
		cat_clip_free(&clip);
		return KD_EDB;
	}
	if (page < 1)
		page = 1;
	db_bind_int64(st, 1, clip_id);
	db_bind_int64(st, 2, COMMENTS_PER_PAGE);
	db_bind_int64(st, 3, (page - 1) * COMMENTS_PER_PAGE);
	*out = kd_calloc(COMMENTS_PER_PAGE, sizeof **out);
	while ((rc = db_step(st)) == DB_ROW) {
		struct comment *c = &(*out)[(*n)++];
		c->id = db_column_int64(st, 0);
		c->clip_id = db_column_int64(st, 1);
		c->user_id = db_column_int64(st, 2);
		c->has_at = db_column_type(st, 3) != DB_NULL;
		c->at_s = c->has_at ? db_column_double(st, 3) : 0;
		c->author = cat_col_dup(st, 4);
		c->body = cat_col_dup(st, 5);
		c->created_at = cat_col_dup(st, 6);
		c->may_delete = may_delete(user, c->user_id, &clip);
		*total = db_column_int64(st, 7);
	}
	db_finalize(st);
	cat_clip_free(&clip);
	if (rc != DB_DONE) {
		comments_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_err_code(rc);
	}
	if (*n == 0 && page > 1) { /* past the end: the count is still wanted */
		struct kd_stmt *cnt;
		if (db_prepare(db, "SELECT count(*) FROM comments WHERE clip_id = ?1", &cnt) == DB_OK) {
			db_bind_int64(cnt, 1, clip_id);
			if (db_step(cnt) == DB_ROW)
				*total = db_column_int64(cnt, 0);
			db_finalize(cnt);
		}
	}
	return 0;
}

int comments_add(struct kd_db *db, const struct kd_user *user, int64_t clip_id, const double *at_s,
                 const char *body, unsigned per_day, int64_t *id, char *err, size_t errlen)
{
	/* trim surrounding white space */
	while (*body == ' ' || *body == '\n' || *body == '\r' || *body == '\t')
		body++;
	size_t len = strlen(body);
	while (len && (body[len - 1] == ' ' || body[len - 1] == '\n' || body[len - 1] == '\r' ||
	               body[len - 1] == '\t'))
		len--;
	if (len == 0) {
		snprintf(err, errlen, "the note is empty: write something first");
		return KD_EINVAL;
	}
	if (len > COMMENT_BODY_MAX) {
		snprintf(err, errlen, "the note is too long: keep it under %d characters",
		         COMMENT_BODY_MAX);
		return KD_EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)body[i];
		if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f) {
			snprintf(err, errlen, "the note contains a control character; remove it");
			return KD_EINVAL;
		}
	}
	if (at_s && (!isfinite(*at_s) || *at_s < 0 || *at_s > COMMENT_AT_MAX)) {
		snprintf(err, errlen, "the time of a note must be between 0 and %.0f seconds",
		         COMMENT_AT_MAX);
		return KD_EINVAL;
	}
	struct kd_stmt *st;
	/* Only on a clip the user may see, and while today's notes of this
	 * person on this clip are fewer than per_day: otherwise the INSERT
	 * finds no row, and the reason is looked up after. */
	if (db_prepare(db, "INSERT INTO comments (clip_id, user_id, at_s, body) "
		"SELECT c.id, ?2, ?3, ?4 FROM clips c WHERE c.id = ?1 AND " CAT_VISIBLE
		" AND (SELECT count(*) FROM comments WHERE clip_id = ?1 AND user_id = ?2 "
		"      AND created_at >= strftime('%Y-%m-%dT00:00:00Z', 'now')) < ?5 RETURNING id",
	               &st) != DB_OK) {
		snprintf(err, errlen, "cannot add the note: %s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, clip_id);
	db_bind_int64(st, 2, user->id);
	if (at_s)
		db_bind_double(st, 3, round(*at_s * 10) / 10);
	db_bind_text(st, 4, body, (int)len, DB_STATIC);
	db_bind_int64(st, 5, per_day);
	cat_bind_viewer(st, user);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_column_int64(st, 0);
	db_finalize(st);
	if (rc != DB_ROW && rc != DB_DONE) {
		snprintf(err, errlen, "cannot add the note: %s", db_errmsg(db));
		return db_err_code(rc);
	}
	if (rc == DB_DONE) { /* no row: not visible, or the day's limit */
		struct cat_clip c;
		if ((rc = cat_clip_get(db, user, clip_id, &c)) == 0) {
			cat_clip_free(&c);
			snprintf(err, errlen, "you have added %u notes to this clip today, as many as "
			         "one person may; add more tomorrow, or edit what you wrote into fewer",
			         per_day);
			return KD_ELIMIT;
		}
		snprintf(err, errlen, "no clip with id %lld, or you may not have access to it",
		         (long long)clip_id);
		return rc == KD_ENOTFOUND ? KD_ENOTFOUND : rc;
	}
	return 0;
}

int comments_delete(struct kd_db *db, const struct kd_user *user, int64_t clip_id, int64_t id)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT clip_id, coalesce(user_id, 0) FROM comments WHERE id = ?1 "
	                       "AND (?2 = 0 OR clip_id = ?2)", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, clip_id);
	int rc = db_step(st);
	int64_t author = 0;
	if (rc == DB_ROW) {
		clip_id = db_column_int64(st, 0);
		author = db_column_int64(st, 1);
	}
	db_finalize(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
	struct cat_clip c;
	if ((rc = cat_clip_get(db, user, clip_id, &c)) < 0)
		return rc; /* a note on a clip the user cannot see: not there for them */
	bool allowed = may_delete(user, author, &c);
	cat_clip_free(&c);
	if (!allowed)
		return KD_EPERM;
	if (db_prepare(db, "DELETE FROM comments WHERE id = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}

int comments_page_of(struct kd_db *db, int64_t clip_id, int64_t id, int64_t *page)
{
	/* The notes before it in the order of comments_list. */
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT count(*) FROM comments m, comments t WHERE t.id = ?2 AND m.clip_id = ?1 AND "
		"((m.at_s IS NULL) < (t.at_s IS NULL) OR ((m.at_s IS NULL) = (t.at_s IS NULL) AND "
		"(coalesce(m.at_s, 0) < coalesce(t.at_s, 0) OR (coalesce(m.at_s, 0) = "
		"coalesce(t.at_s, 0) AND m.id < t.id))))", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, clip_id);
	db_bind_int64(st, 2, id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*page = db_column_int64(st, 0) / COMMENTS_PER_PAGE + 1;
	db_finalize(st);
	return rc == DB_ROW ? 0 : db_err_code(rc);
}

void comments_free(struct comment *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].author);
		free(list[i].body);
		free(list[i].created_at);
	}
	free(list);
}
