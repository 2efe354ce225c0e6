/* practices.c - a practice's life after it is added: retired (its clips
 * keep it, new clips may not take it), brought back, merged into another
 * (see catalogue.h).  Adding and naming are schools.c's.
 *
 * Every change here writes the practices table, whose triggers (schema
 * 002, 005, 009) move the catalogue generation on and record "names
 * changed" (clip_changes 0): the index reloads its practices whole, so a
 * deleted one leaves no slot behind, and every kept count and answer is
 * dropped by the next request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/log.h"

/* One statement with up to two int64 parameters, stepped to its end;
 * *changed (may be NULL) gets the rows it changed. */
static int exec_ids(struct kd_db *db, const char *sql, int64_t a, int64_t b, int64_t *changed)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK) {
		log_error("catalogue", "%s", db_errmsg(db));
		return KD_EDB;
	}
	if (db_has_param(st, 1))
		db_bind_int64(st, 1, a);
	if (db_has_param(st, 2))
		db_bind_int64(st, 2, b);
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		log_error("catalogue", "%s", db_errmsg(db));
		return db_err_code(rc);
	}
	if (changed)
		*changed = db_changes(db);
	return 0;
}

/* One number from a statement with up to two int64 parameters. */
static int count_ids(struct kd_db *db, const char *sql, int64_t a, int64_t b, int64_t *out)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK) {
		log_error("catalogue", "%s", db_errmsg(db));
		return KD_EDB;
	}
	if (db_has_param(st, 1))
		db_bind_int64(st, 1, a);
	if (db_has_param(st, 2))
		db_bind_int64(st, 2, b);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*out = db_column_int64(st, 0);
	db_finalize(st);
	return rc == DB_ROW ? 0 : db_err_code(rc);
}

/* The id of a practice's slug, with a message naming the known ones when
 * there is none. */
static int practice_id(struct kd_db *db, const char *slug, int64_t *id, char *err, size_t errlen)
{
	int rc = cat_slug_id(db, CAT_PRACTICES, slug, id);
	if (rc == KD_ENOTFOUND)
		snprintf(err, errlen, "there is no practice '%.64s'", slug);
	else if (rc < 0)
		snprintf(err, errlen, "the catalogue could not be read: %s", db_errmsg(db));
	return rc;
}

int cat_practice_retire(struct kd_db *db, const char *slug, bool retired, char *err,
                        size_t errlen)
{
	int64_t id, in_use = 0, changed = 0;
	int rc = db_begin(db);
	if (rc < 0) {
		snprintf(err, errlen, "the catalogue is busy; try again in a moment");
		return rc;
	}
	if ((rc = practice_id(db, slug, &id, err, errlen)) < 0)
		goto fail;
	if (retired) {
		/* counted in the transaction, so that two admins retiring the
		 * last two at once cannot both succeed */
		if ((rc = count_ids(db, "SELECT count(*) FROM practices WHERE retired_at IS NULL "
		                        "AND id <> ?1", id, 0, &in_use)) < 0)
			goto failed_db;
		if (in_use == 0) {
			snprintf(err, errlen, "'%.64s' is the last practice in use: add or bring "
			         "back another before retiring it, or no clip could be filed", slug);
			rc = KD_EINVAL;
			goto fail;
		}
		rc = exec_ids(db, "UPDATE practices SET retired_at = "
		                  "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
		                  "WHERE id = ?1 AND retired_at IS NULL", id, 0, &changed);
	} else {
		rc = exec_ids(db, "UPDATE practices SET retired_at = NULL "
		                  "WHERE id = ?1 AND retired_at IS NOT NULL", id, 0, &changed);
	}
	if (rc < 0)
		goto failed_db;
	if ((rc = db_commit(db)) < 0)
		goto failed_db;
	return 0;
failed_db:
	snprintf(err, errlen, "cannot %s the practice: %s", retired ? "retire" : "bring back",
	         db_errmsg(db));
fail:
	db_rollback(db);
	return rc;
}

/* Both ids and what a merge of them moves, read in the caller's
 * transaction (or none, for a plan). */
static int merge_counts(struct kd_db *db, const char *from, const char *into, int64_t *from_id,
                        int64_t *into_id, struct cat_practice_merge *m, char *err,
                        size_t errlen)
{
	memset(m, 0, sizeof *m);
	int rc;
	if (!strcmp(from, into)) {
		snprintf(err, errlen, "choose two different practices: '%.64s' cannot be merged "
		         "into itself", from);
		return KD_EINVAL;
	}
	if ((rc = practice_id(db, from, from_id, err, errlen)) < 0 ||
	    (rc = practice_id(db, into, into_id, err, errlen)) < 0)
		return rc;
	if ((rc = count_ids(db, "SELECT count(*) FROM clip_practices WHERE practice_id = ?1",
	                    *from_id, 0, &m->clips)) < 0 ||
	    (rc = count_ids(db, "SELECT count(*) FROM clip_practices a JOIN clip_practices b "
	                        "ON b.clip_id = a.clip_id AND b.practice_id = ?2 "
	                        "WHERE a.practice_id = ?1",
	                    *from_id, *into_id, &m->already)) < 0 ||
	    (rc = count_ids(db, "SELECT count(*) FROM visits WHERE practice_id = ?1", *from_id, 0,
	                    &m->visits)) < 0) {
		snprintf(err, errlen, "the catalogue could not be read: %s", db_errmsg(db));
		return rc;
	}
	m->moved = m->clips - m->already;
	return 0;
}

int cat_practice_merge_plan(struct kd_db *db, const char *from, const char *into,
                            struct cat_practice_merge *plan, char *err, size_t errlen)
{
	int64_t a, b;
	return merge_counts(db, from, into, &a, &b, plan, err, errlen);
}

int cat_practice_merge(struct kd_db *db, const char *from, const char *into,
                       struct cat_practice_merge *done, char *err, size_t errlen)
{
	int64_t a, b, gained = 0, deleted = 0;
	int rc = db_begin(db);
	if (rc < 0) {
		snprintf(err, errlen, "the catalogue is busy; try again in a moment");
		return rc;
	}
	if ((rc = merge_counts(db, from, into, &a, &b, done, err, errlen)) < 0)
		goto fail;
	/* The clips first, then the practice: clip_practices restricts its
	 * deletion.  Their triggers keep the search text, the change record
	 * and the summaries' view counts in step, clip by clip (a clip that
	 * had both keeps its counts under into, and loses those under from).
	 * Visits set their practice to NULL on deletion: moved before. */
	if ((rc = exec_ids(db, "INSERT INTO clip_practices (clip_id, practice_id) "
	                       "SELECT clip_id, ?2 FROM clip_practices WHERE practice_id = ?1 "
	                       "ON CONFLICT DO NOTHING", a, b, &gained)) < 0 ||
	    (rc = exec_ids(db, "DELETE FROM clip_practices WHERE practice_id = ?1", a, 0,
	                   NULL)) < 0 ||
	    (rc = exec_ids(db, "UPDATE visits SET practice_id = ?2 WHERE practice_id = ?1", a, b,
	                   &done->visits)) < 0 ||
	    /* issue 15: moments refer to their practice, which is deleted below */
	    (rc = exec_ids(db, "UPDATE moments SET practice_id = ?2 WHERE practice_id = ?1", a, b,
	                   NULL)) < 0 ||
	    /* issue 16: followers of from follow into (once, if they followed
	     * both); from's rows go with it (ON DELETE CASCADE) */
	    (rc = exec_ids(db, "INSERT INTO follows (user_id, practice_id, created_at) "
	                       "SELECT user_id, ?2, created_at FROM follows WHERE practice_id = ?1 "
	                       "ON CONFLICT DO NOTHING", a, b, NULL)) < 0 ||
	    (rc = exec_ids(db, "DELETE FROM follows WHERE practice_id = ?1", a, 0, NULL)) < 0 ||
	    /* from's counts are all 0 now that it has no clip (schema 006) */
	    (rc = exec_ids(db, "DELETE FROM view_practice_counts WHERE practice_id = ?1", a, 0,
	                   NULL)) < 0 ||
	    (rc = exec_ids(db, "DELETE FROM practices WHERE id = ?1", a, 0, &deleted)) < 0)
		goto failed_db;
	if (deleted != 1) {
		/* (the transaction holds the rows: this cannot happen) */
		snprintf(err, errlen, "the practice '%.64s' went away during the merge; try again",
		         from);
		rc = KD_EBUSY;
		goto fail;
	}
	if ((rc = db_commit(db)) < 0)
		goto failed_db;
	done->moved = gained;
	done->already = done->clips - gained;
	log_info("catalogue", "practice %s merged into %s: %lld clips moved, %lld had both, "
	         "%lld visits", from, into, (long long)done->moved, (long long)done->already,
	         (long long)done->visits);
	return 0;
failed_db:
	snprintf(err, errlen, "cannot merge the practices (nothing was changed): %s",
	         db_errmsg(db));
fail:
	db_rollback(db);
	return rc;
}

int cat_practices_usable(struct kd_db *db, int64_t clip_id, const char *const *slugs, size_t n,
                         char *err, size_t errlen)
{
	struct kd_stmt *st;
	if (n == 0)
		return 0;
	if (db_stmt(db,
	            "SELECT p.name, substr(p.retired_at, 1, 10) FROM practices p "
	            "WHERE p.slug = ?1 AND p.retired_at IS NOT NULL AND NOT EXISTS "
	            "(SELECT 1 FROM clip_practices cp WHERE cp.practice_id = p.id "
	            "AND cp.clip_id = ?2)",
	            &st) < 0) {
		snprintf(err, errlen, "the catalogue could not be read: %s", db_errmsg(db));
		return KD_EDB;
	}
	int rc = DB_DONE;
	size_t i;
	for (i = 0; i < n; i++) {
		db_reset(st);
		db_bind_text(st, 1, slugs[i], -1, DB_STATIC);
		db_bind_int64(st, 2, clip_id);
		if ((rc = db_step(st)) != DB_DONE)
			break;
	}
	if (rc == DB_ROW) {
		char name[201], on[11];
		snprintf(name, sizeof name, "%s", (const char *)db_column_text(st, 0));
		snprintf(on, sizeof on, "%s", (const char *)db_column_text(st, 1));
		db_stmt_done(st);
		char *known = cat_practice_slugs(db);
		snprintf(err, errlen,
		         "the practice '%.64s' (%.80s) was retired on %s and takes no new clips; "
		         "use a practice in use instead: %s",
		         slugs[i], name, on, *known ? known : "(none: ask an admin to add one)");
		free(known);
		return KD_EINVAL;
	}
	db_stmt_done(st);
	if (rc != DB_DONE) {
		snprintf(err, errlen, "the catalogue could not be read: %s", db_errmsg(db));
		return db_err_code(rc);
	}
	return 0;
}
