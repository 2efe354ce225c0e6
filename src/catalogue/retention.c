/* retention.c - which clips are past the retention period, and deleting a
 * clip's row only when no legal hold keeps it (catalogue.h).  Deciding and
 * doing the rest of a deletion (its files, its audit entry) is
 * src/jobs/erase.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/catalogue.h"
#include "kindling/mem.h"

/* Rows read before fn sees them: memory stays small however many clips
 * are past, and fn may write between pages. */
#define PAGE 256

#define RETAINED_COLUMNS                                                              \
	"c.id, c.title, s.slug, c.recorded_on, c.uploaded_at, c.sha256, c.hold_at, "   \
	"c.hold_by, c.hold_reason FROM clips c JOIN schools s ON s.id = c.school_id "

void cat_retained_free(struct cat_retained *r)
{
	free(r->title);
	free(r->school);
	free(r->recorded_on);
	free(r->uploaded_at);
	free(r->sha256);
	free(r->hold_at);
	free(r->hold_by);
	free(r->hold_reason);
	memset(r, 0, sizeof *r);
}

static void read_row(struct kd_stmt *st, struct cat_retained *r)
{
	r->id = db_column_int64(st, 0);
	r->title = cat_col_dup(st, 1);
	r->school = cat_col_dup(st, 2);
	r->recorded_on = cat_col_dup(st, 3);
	r->uploaded_at = cat_col_dup(st, 4);
	r->sha256 = cat_col_dup(st, 5);
	r->hold_at = cat_col_dup(st, 6);
	r->hold_by = cat_col_dup(st, 7);
	r->hold_reason = cat_col_dup(st, 8);
}

int cat_retained_get(struct kd_db *db, int64_t id, struct cat_retained *out)
{
	memset(out, 0, sizeof *out);
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT " RETAINED_COLUMNS "WHERE c.id = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_row(st, out);
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

int cat_clips_past_retention(struct kd_db *db, int months,
                             int (*fn)(void *arg, const struct cat_retained *c), void *arg)
{
	if (months < 1 || months > 1200)
		return KD_EINVAL;
	char mod[32];
	snprintf(mod, sizeof mod, "-%d months", months);
	struct cat_retained *page = kd_calloc(PAGE, sizeof *page);
	int64_t after = 0;
	int out = 0;
	for (;;) {
		struct kd_stmt *st;
		/* recorded_on is a day; uploaded_at's first ten characters are
		 * its day (UTC), so both compare as text with the cut-off day */
		if (db_prepare(db, "SELECT " RETAINED_COLUMNS
		                   "WHERE c.id > ?1 AND coalesce(c.recorded_on, substr(c.uploaded_at, 1, "
		                   "10)) < date('now', CAST(?2 AS TEXT)) ORDER BY c.id LIMIT ?3",
		               &st) != DB_OK) {
			out = KD_EDB;
			break;
		}
		db_bind_int64(st, 1, after);
		db_bind_text(st, 2, mod, -1, DB_TRANSIENT);
		db_bind_int(st, 3, PAGE);
		size_t n = 0;
		int rc = DB_DONE;
		while (n < PAGE && (rc = db_step(st)) == DB_ROW)
			read_row(st, &page[n++]);
		if (n < PAGE && rc != DB_DONE)
			out = db_err_code(rc);
		db_finalize(st);
		for (size_t i = 0; i < n; i++) {
			if (!out)
				out = fn(arg, &page[i]);
			after = page[i].id;
			cat_retained_free(&page[i]);
		}
		if (out || n < PAGE)
			break;
	}
	free(page);
	return out;
}

int cat_clip_delete_unheld(struct kd_db *db, int64_t id)
{
	struct kd_stmt *st;
	if (db_prepare(db, "DELETE FROM clips WHERE id = ?1 AND hold_at IS NULL", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE)
		return db_err_code(rc);
	if (db_changes(db) > 0)
		return 0;
	/* nothing deleted: held, or not there */
	struct cat_hold h;
	if ((rc = cat_clip_hold_get(db, id, &h)) < 0)
		return rc;
	bool held = h.at != NULL;
	cat_hold_free(&h);
	return held ? KD_EPERM : KD_ENOTFOUND;
}
