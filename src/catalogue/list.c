/* list.c - lists of clips: filters, full-text search, sort and pages, with
 * counts remembered per question and viewer (cache.c). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "index.h"
#include "kindling/buf.h"
#include "kindling/captions.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* Is c a byte that can be part of a word: ASCII letter or digit, or any
 * byte of a multi-byte UTF-8 character? */
static bool word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

char *cat_fts_query(const char *typed)
{
	struct kd_buf b = KD_BUF_INIT(4096);
	size_t len = strnlen(typed, 257);
	if (len > 256) { /* cut at the last space before the limit */
		len = 256;
		while (len > 0 && !isspace((unsigned char)typed[len]))
			len--;
	}
	const char *p = typed, *end = typed + len;
	bool last_prefix = false;
	while (p < end) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		const char *w = p;
		bool has_word = false;
		while (p < end && !isspace((unsigned char)*p))
			has_word |= word_byte((unsigned char)*p++);
		if (!has_word)
			continue; /* only punctuation: nothing to search for */
		if (b.len)
			kd_buf_putc(&b, ' ');
		kd_buf_putc(&b, '"');
		for (const char *q = w; q < p; q++) {
			if (*q == '"')
				kd_buf_putc(&b, '"');
			kd_buf_putc(&b, *q);
		}
		kd_buf_putc(&b, '"');
		last_prefix = word_byte((unsigned char)p[-1]);
	}
	if (!b.len) {
		kd_buf_release(&b);
		return NULL;
	}
	/* Someone typing "differ" is most likely on the way to
	 * "differentiation": let the last word match as a prefix. */
	if (last_prefix)
		kd_buf_putc(&b, '*');
	return kd_buf_take(&b, NULL);
}

/* issue 15: a clip matches by its own words or by a cue of its captions;
 * one found only in its captions ranks after those found by their own
 * (bm25's ranks are below 0). */
static const struct cat_fts_sql fts5 = {
	.from = " FROM (SELECT id, min(rank) AS rank FROM ("
	        "SELECT rowid AS id, rank FROM clips_fts WHERE clips_fts MATCH ?1 UNION ALL "
	        "SELECT cc.clip_id, 0 FROM caption_fts cf JOIN caption_cues cc ON cc.id = cf.rowid "
	        "WHERE caption_fts MATCH ?1) GROUP BY id) f JOIN clips c ON c.id = f.id",
	.where = "",
	.id_col = "f.id",
	.rank_order = "f.rank, c.id DESC",
	.ids = "SELECT rowid FROM clips_fts WHERE clips_fts MATCH ?1",
	.ranked = "SELECT rowid FROM clips_fts WHERE clips_fts MATCH ?1 ORDER BY rank, rowid DESC",
	.caption_ids = "SELECT DISTINCT cc.clip_id FROM caption_fts cf JOIN caption_cues cc "
	               "ON cc.id = cf.rowid WHERE caption_fts MATCH ?1",
};

/* (ts_rank with the document's weights: title over practices and tags,
 * over school and teacher, over description, as FTS5's bm25 ranks them
 * by where the words are; the query in a subquery, made once, not per row) */
static const struct cat_fts_sql tsvector = {
	.from = " FROM (SELECT id, max(r) AS r FROM ("
	        "SELECT id, ts_rank(doc, (SELECT kd_fts_match(?1))) AS r FROM clips_fts "
	        "WHERE doc @@ kd_fts_match(?1) UNION ALL "
	        "SELECT clip_id, -1::real FROM caption_cues WHERE doc @@ kd_fts_match(?1)) u "
	        "GROUP BY id) f JOIN clips c ON c.id = f.id",
	.where = "",
	.id_col = "f.id",
	.rank_order = "f.r DESC, c.id DESC",
	.ids = "SELECT id FROM clips_fts WHERE doc @@ kd_fts_match(?1) ORDER BY id",
	.ranked = "SELECT id FROM clips_fts WHERE doc @@ kd_fts_match(?1) "
	          "ORDER BY ts_rank(doc, (SELECT kd_fts_match(?1))) DESC, id DESC",
	.caption_ids = "SELECT DISTINCT clip_id FROM caption_cues WHERE doc @@ kd_fts_match(?1)",
};

const struct cat_fts_sql *cat_fts_sql(struct kd_db *db)
{
	return db_backend(db) == DB_POSTGRES ? &tsvector : &fts5;
}

/* What a list statement binds: the viewer and the filters present. */
struct bound {
	const struct kd_user *user;
	const char *match;
	int64_t practice_id, school_id;
	const struct cat_query *q;
};

static void bind_query(struct kd_stmt *st, const struct bound *b)
{
	const struct cat_query *q = b->q;
	cat_bind_viewer(st, b->user);
	if (b->match)
		db_bind_text(st, 1, b->match, -1, DB_STATIC);
	if (b->practice_id)
		db_bind_int64(st, 2, b->practice_id);
	if (b->school_id)
		db_bind_int64(st, 3, b->school_id);
	if (q->grade && *q->grade)
		db_bind_text(st, 4, q->grade, -1, DB_STATIC);
	if (q->subject && *q->subject)
		db_bind_text(st, 5, q->subject, -1, DB_STATIC);
	if (q->sha256 && *q->sha256)
		db_bind_text(st, 8, q->sha256, -1, DB_STATIC);
}

int cat_clips_list(struct kd_db *db, const struct kd_user *user, const struct cat_query *q,
                   struct cat_page *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (q->page < 1 || q->page > CAT_PAGE_MAX || q->per_page < 1 ||
	    q->per_page > CAT_PER_PAGE_MAX) {
		snprintf(err, errlen, "page must be 1 to %d and per_page 1 to %d", CAT_PAGE_MAX,
		         CAT_PER_PAGE_MAX);
		return KD_EINVAL;
	}
	int64_t practice_id = 0, school_id = 0;
	int rc;
	if (q->practice && *q->practice &&
	    (rc = cat_slug_id(db, CAT_PRACTICES, q->practice, &practice_id)) < 0)
		return cat_unknown_slug(db, rc, CAT_PRACTICES, q->practice, err, errlen);
	if (q->school && *q->school && (rc = cat_slug_id(db, CAT_SCHOOLS, q->school, &school_id)) < 0)
		return cat_unknown_slug(db, rc, CAT_SCHOOLS, q->school, err, errlen);
	char *match = q->q ? cat_fts_query(q->q) : NULL;
	if (idx_usable(db) && !(q->sha256 && *q->sha256)) {
		rc = idx_list(db, user, q, practice_id, school_id, match, out);
		free(match);
		return rc;
	}

	/* The statement is assembled from fixed pieces; every value is bound. */
	const struct cat_fts_sql *fts = cat_fts_sql(db);
	const char *from = match ? fts->from : " FROM clips c";
	const char *join = practice_id ? " JOIN clip_practices cp ON cp.clip_id = c.id"
	                                 " AND cp.practice_id = ?2" : "";
	struct kd_buf where = KD_BUF_INIT(4096);
	kd_buf_printf(&where, " WHERE %s", CAT_VISIBLE);
	if (match)
		kd_buf_puts(&where, fts->where);
	if (school_id)
		kd_buf_puts(&where, " AND c.school_id = ?3");
	if (q->grade && *q->grade)
		kd_buf_puts(&where, " AND c.grade = ?4 COLLATE NOCASE");
	if (q->subject && *q->subject)
		kd_buf_puts(&where, " AND c.subject = ?5 COLLATE NOCASE");
	if (q->sha256 && *q->sha256)
		kd_buf_puts(&where, " AND c.sha256 = ?8");

	char *count_sql = kd_asprintf("SELECT count(*)%s%s%s", from, join, kd_buf_str(&where));
	char *one_sql = kd_asprintf("SELECT %s FROM clips c%s WHERE c.id = ?1", CAT_CLIP_COLUMNS,
	                            CAT_CLIP_JOINS);
	char *ids_sql = NULL;

	/* The count is remembered per question and viewer until the catalogue
	 * changes (cache.c). */
	int64_t gen = cat_generation(db);
	char *key = kd_asprintf("list|%d%d|%lld|%lld|%lld|%lld|%s|%s|%s|%s",
	                        user->role == KD_ROLE_ADMIN,
	                        cat_captions_required(), /* issue 15: who sees what */
	                        (long long)user->id,
	                        (long long)user->school_id, (long long)practice_id,
	                        (long long)school_id, q->grade ? q->grade : "",
	                        q->subject ? q->subject : "", q->sha256 ? q->sha256 : "",
	                        match ? match : "");
	struct kd_stmt *count = NULL, *ids = NULL, *one = NULL;
	struct bound b = {user, match, practice_id, school_id, q};
	int step;
	rc = 0;
	if (!cat_cache_get(gen, key, &out->total)) {
		if (db_prepare(db, count_sql, &count) != DB_OK) {
			log_error("catalogue", "count: %s", db_errmsg(db));
			rc = KD_EDB;
			goto out;
		}
		bind_query(count, &b);
		if ((step = db_step(count)) != DB_ROW) {
			log_error("catalogue", "count: %s", db_errmsg(db));
			rc = db_err_code(step);
			goto out;
		}
		out->total = db_column_int64(count, 0);
		cat_cache_put(gen, key, out->total);
	}

	/* Newest first walks an index backwards instead of sorting every match:
	 * the full-text index when there are words, else the practice's. */
	const char *id_col = match ? fts->id_col : practice_id ? "cp.clip_id" : "c.id";
	char order[96];
	out->sort = q->sort;
	/* Ranking reads every match; past CAT_RANK_MAX matches the words are
	 * too common for relevance to mean much, and the newest come first. */
	if (q->sort == CAT_SORT_RELEVANCE && (!match || out->total > CAT_RANK_MAX))
		out->sort = CAT_SORT_NEWEST;
	switch (out->sort) {
	case CAT_SORT_OLDEST: snprintf(order, sizeof order, "%s ASC", id_col); break;
	case CAT_SORT_TITLE: snprintf(order, sizeof order, "c.title COLLATE NOCASE, c.id"); break;
	case CAT_SORT_RECORDED:
		snprintf(order, sizeof order, "c.recorded_on DESC NULLS LAST, c.id DESC");
		break;
	case CAT_SORT_RELEVANCE: snprintf(order, sizeof order, "%s", fts->rank_order); break;
	default: snprintf(order, sizeof order, "%s DESC", id_col); break; /* ids grow with time */
	}
	/* Two steps: the ids of the page, then each clip by id, so the
	 * per-clip subqueries run for 24 rows, not for every match. */
	ids_sql = kd_asprintf("SELECT c.id%s%s%s ORDER BY %s LIMIT ?6 OFFSET ?7", from, join,
	                      kd_buf_str(&where), order);
	if (db_prepare(db, ids_sql, &ids) != DB_OK ||
	    db_prepare(db, one_sql, &one) != DB_OK) {
		log_error("catalogue", "list: %s", db_errmsg(db));
		rc = KD_EDB;
		goto out;
	}
	bind_query(ids, &b);
	db_bind_int64(ids, 6, q->per_page);
	db_bind_int64(ids, 7, (q->page - 1) * q->per_page);

	size_t cap = 0;
	while ((step = db_step(ids)) == DB_ROW) {
		db_bind_int64(one, 1, db_column_int64(ids, 0));
		if ((step = db_step(one)) != DB_ROW) {
			db_reset(one);
			break;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->clips = kd_realloc(out->clips, cap * sizeof *out->clips);
		}
		cat_read_clip(one, &out->clips[out->n++]);
		db_reset(one);
	}
	if (step != DB_DONE) {
		log_error("catalogue", "list: %s", db_errmsg(db));
		rc = db_err_code(step);
		cat_page_free(out);
	}
out:
	kd_buf_release(&where);
	db_finalize(count);
	db_finalize(ids);
	db_finalize(one);
	free(count_sql);
	free(ids_sql);
	free(one_sql);
	free(key);
	free(match);
	return rc;
}

void cat_page_free(struct cat_page *p)
{
	for (size_t i = 0; i < p->n; i++)
		cat_clip_free(&p->clips[i]);
	free(p->clips);
	memset(p, 0, sizeof *p);
}

