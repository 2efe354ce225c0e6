/* comments.c - time-stamped notes on clips (see comments.h). */
#include "kindling/comments.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/log.h"
#include "kindling/mem.h"

int comments_list(sqlite3 *db, const struct kd_user *user, int64_t clip_id,
                  struct comment **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
		"SELECT m.id, m.clip_id, coalesce(m.user_id, 0), m.at_s, u.name, m.body, "
		"m.created_at FROM clips c JOIN comments m ON m.clip_id = c.id "
		"LEFT JOIN users u ON u.id = m.user_id WHERE c.id = ?1 AND " CAT_VISIBLE
		" ORDER BY m.at_s IS NULL, m.at_s, m.id",
		-1, &st, NULL) != SQLITE_OK) {
		log_error("comments", "%s", sqlite3_errmsg(db));
		return KD_EDB;
	}
	sqlite3_bind_int64(st, 1, clip_id);
	cat_bind_viewer(st, user);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = kd_realloc(*out, cap * sizeof **out);
		}
		struct comment *c = &(*out)[(*n)++];
		c->id = sqlite3_column_int64(st, 0);
		c->clip_id = sqlite3_column_int64(st, 1);
		c->user_id = sqlite3_column_int64(st, 2);
		c->has_at = sqlite3_column_type(st, 3) != SQLITE_NULL;
		c->at_s = c->has_at ? sqlite3_column_double(st, 3) : 0;
		c->author = cat_col_dup(st, 4);
		c->body = cat_col_dup(st, 5);
		c->created_at = cat_col_dup(st, 6);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		comments_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_err_code(rc);
	}
	return 0;
}

int comments_add(sqlite3 *db, const struct kd_user *user, int64_t clip_id, const double *at_s,
                 const char *body, int64_t *id, char *err, size_t errlen)
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
	sqlite3_stmt *st;
	/* Only on a clip the user may see: the INSERT finds no row otherwise. */
	if (sqlite3_prepare_v2(db,
		"INSERT INTO comments (clip_id, user_id, at_s, body) "
		"SELECT c.id, ?2, ?3, ?4 FROM clips c WHERE c.id = ?1 AND " CAT_VISIBLE,
		-1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot add the note: %s", sqlite3_errmsg(db));
		return KD_EDB;
	}
	sqlite3_bind_int64(st, 1, clip_id);
	sqlite3_bind_int64(st, 2, user->id);
	if (at_s)
		sqlite3_bind_double(st, 3, round(*at_s * 10) / 10);
	sqlite3_bind_text(st, 4, body, (int)len, SQLITE_STATIC);
	cat_bind_viewer(st, user);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot add the note: %s", sqlite3_errmsg(db));
		return db_err_code(rc);
	}
	if (sqlite3_changes(db) == 0) {
		snprintf(err, errlen, "no clip with id %lld, or you may not have access to it",
		         (long long)clip_id);
		return KD_ENOTFOUND;
	}
	*id = sqlite3_last_insert_rowid(db);
	return 0;
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
