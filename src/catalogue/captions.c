/* captions.c - a clip's captions in the catalogue: their cues, one row
 * each, searched with the rest of the clip (caption_fts on SQLite,
 * caption_cues.doc on PostgreSQL; schema 011), and where they came from
 * (clips.captions, with has_captions kept in step for every older reader).
 * The parser and writer are in src/util/captions.c.  Owner: issue 15, H3.
 *
 * Changing a clip's captions updates its row, so the catalogue moves on
 * (generation, clip_changes): kept answers, counts and the index's
 * full-text matches follow without a rule of their own. */
#include "kindling/captions.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/buf.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* Cues sent in one INSERT: a PostgreSQL catalogue answers each statement
 * over the network, and a lesson has hundreds of cues. */
#define BATCH 50

static atomic_bool required;

void cat_captions_require(bool on)
{
	atomic_store(&required, on);
}

bool cat_captions_required(void)
{
	return atomic_load(&required);
}

/* INSERT of n cues: (clip, start, end, text) from ?1 on. */
static char *insert_sql(size_t n)
{
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	kd_buf_puts(&b, "INSERT INTO caption_cues (clip_id, start_s, end_s, text) VALUES ");
	for (size_t i = 0; i < n; i++)
		kd_buf_printf(&b, "%s(?%zu, ?%zu, ?%zu, ?%zu)", i ? ", " : "", 4 * i + 1, 4 * i + 2,
		              4 * i + 3, 4 * i + 4);
	return kd_buf_take(&b, NULL);
}

/* Insert cues [from, from + n) with one statement. */
static int insert_cues(struct kd_db *db, int64_t clip_id, const struct captions *c, size_t from,
                       size_t n)
{
	char *sql = insert_sql(n);
	struct kd_stmt *st = NULL;
	int rc = db_prepare(db, sql, &st);
	free(sql);
	if (rc != DB_OK)
		return KD_EDB;
	for (size_t i = 0; i < n; i++) {
		const struct caption_cue *q = &c->cues[from + i];
		int k = (int)(4 * i);
		db_bind_int64(st, k + 1, clip_id);
		db_bind_double(st, k + 2, q->start_s);
		db_bind_double(st, k + 3, q->end_s);
		db_bind_text(st, k + 4, q->text, -1, DB_STATIC);
	}
	rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}

/* Run one statement of the clip (?1) and, if given, a text (?2). */
static int exec_clip(struct kd_db *db, const char *sql, int64_t clip_id, const char *text)
{
	struct kd_stmt *st;
	if (db_stmt(db, sql, &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, clip_id);
	if (text)
		db_bind_text(st, 2, text, -1, DB_STATIC);
	int rc = db_step(st);
	db_stmt_done(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}

/* The clip's captions now: 0 and *source, or KD_ENOTFOUND. */
static int source_of(struct kd_db *db, int64_t clip_id, enum captions_source *source)
{
	struct kd_stmt *st;
	if (db_stmt(db, "SELECT captions FROM clips WHERE id = ?1", &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, clip_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		const char *s = (const char *)db_column_text(st, 0);
		*source = s && !strcmp(s, "uploaded")    ? CAPTIONS_UPLOADED
		          : s && !strcmp(s, "automatic") ? CAPTIONS_AUTOMATIC
		                                         : CAPTIONS_NONE;
	}
	db_stmt_done(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

/* Begin, unless the caller has (then the caller commits). */
static int begin(struct kd_db *db, bool *own)
{
	*own = !db_in_transaction(db);
	return *own ? db_begin(db) : 0;
}

static int end(struct kd_db *db, bool own, int rc)
{
	if (!own)
		return rc;
	if (rc == 0 && (rc = db_commit(db)) == 0)
		return 0;
	db_rollback(db);
	return rc;
}

int cat_captions_set(struct kd_db *db, int64_t clip_id, const struct captions *c,
                     enum captions_source source)
{
	if (source == CAPTIONS_NONE || !c || !c->n)
		return KD_EINVAL; /* forgetting them is cat_captions_clear */
	bool own;
	int rc = begin(db, &own);
	if (rc < 0)
		return rc;
	enum captions_source now = CAPTIONS_NONE;
	rc = source_of(db, clip_id, &now);
	/* a person's captions are better than a machine's guess */
	if (rc == 0 && source == CAPTIONS_AUTOMATIC && now == CAPTIONS_UPLOADED)
		rc = KD_EEXIST;
	if (rc == 0)
		rc = exec_clip(db, "DELETE FROM caption_cues WHERE clip_id = ?1", clip_id, NULL);
	for (size_t i = 0; rc == 0 && i < c->n; i += BATCH)
		rc = insert_cues(db, clip_id, c, i, c->n - i < BATCH ? c->n - i : BATCH);
	if (rc == 0)
		rc = exec_clip(db, "UPDATE clips SET captions = ?2, has_captions = 1 WHERE id = ?1",
		               clip_id, captions_source_name(source));
	if (rc < 0 && rc != KD_EEXIST && rc != KD_ENOTFOUND)
		log_error("catalogue", "captions of clip %lld: %s", (long long)clip_id,
		          db_errmsg(db));
	return end(db, own, rc);
}

int cat_captions_clear(struct kd_db *db, int64_t clip_id)
{
	bool own;
	int rc = begin(db, &own);
	if (rc < 0)
		return rc;
	enum captions_source now;
	rc = source_of(db, clip_id, &now);
	if (rc == 0)
		rc = exec_clip(db, "DELETE FROM caption_cues WHERE clip_id = ?1", clip_id, NULL);
	if (rc == 0)
		rc = exec_clip(db, "UPDATE clips SET captions = 'none', has_captions = 0 WHERE id = ?1",
		               clip_id, NULL);
	if (rc < 0 && rc != KD_ENOTFOUND)
		log_error("catalogue", "captions of clip %lld: %s", (long long)clip_id,
		          db_errmsg(db));
	return end(db, own, rc);
}

/* The first matching cue of a clip.  FTS5 walks its matches in rowid
 * order and seeks to a rowid range: a clip's cues are inserted together,
 * in order of time, so their ids are one range and the first match in it
 * is the earliest (a common word matches many clips' cues; the range keeps
 * this to the clip's own).  PostgreSQL reads the clip's cues by its index
 * and tests each. */
static const char HIT_FTS5[] =
	"SELECT cc.start_s, cc.text FROM caption_fts f JOIN caption_cues cc ON cc.id = f.rowid "
	"WHERE caption_fts MATCH ?1 "
	"AND f.rowid BETWEEN (SELECT min(id) FROM caption_cues WHERE clip_id = ?2) "
	"AND (SELECT max(id) FROM caption_cues WHERE clip_id = ?2) "
	"AND cc.clip_id = ?2 ORDER BY cc.start_s, cc.id LIMIT 1";
static const char HIT_PG[] =
	"SELECT start_s, text FROM caption_cues WHERE clip_id = ?2 AND doc @@ kd_fts_match(?1) "
	"ORDER BY start_s, id LIMIT 1";

int cat_caption_hit(struct kd_db *db, int64_t clip_id, const char *match, double *at,
                    char **text)
{
	*text = NULL;
	if (!match || !*match)
		return KD_ENOTFOUND;
	struct kd_stmt *st;
	if (db_stmt(db, db_backend(db) == DB_POSTGRES ? HIT_PG : HIT_FTS5, &st) < 0)
		return KD_EDB;
	db_bind_text(st, 1, match, -1, DB_STATIC);
	db_bind_int64(st, 2, clip_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*at = db_column_double(st, 0);
		const unsigned char *t = db_column_text(st, 1);
		*text = kd_strdup(t ? (const char *)t : ""); /* (not sql.c's: it calls here) */
	} else if (rc != DB_DONE) {
		log_error("catalogue", "caption search of clip %lld: %s", (long long)clip_id,
		          db_errmsg(db));
	}
	db_stmt_done(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}
