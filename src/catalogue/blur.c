/* blur.c - a clip's blur regions (catalogue.h, schema/010_governance.sql). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/catalogue.h"
#include "kindling/mem.h"

/* Regions smaller than this fraction of the picture on a side hide
 * nothing a person would recognise, and are most likely a slip. */
#define BLUR_SIDE_MIN 0.01
/* Fractions may overshoot the edge by rounding in whatever drew them. */
#define BLUR_EDGE_SLACK 0.001

int cat_blur_list(struct kd_db *db, int64_t id, struct cat_blur_region **out, size_t *n,
                  int64_t *rev)
{
	*out = NULL;
	*n = 0;
	*rev = 0;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT blur_rev FROM clips WHERE id = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*rev = db_column_int64(st, 0);
	db_finalize(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
	if (db_prepare(db, "SELECT from_s, to_s, x, y, w, h, source, state, coalesce(confidence, -1) "
	                   "FROM blur_regions WHERE clip_id = ?1 ORDER BY from_s, id", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	size_t cap = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap)
			*out = kd_realloc(*out, (cap = cap ? cap * 2 : 8) * sizeof **out);
		struct cat_blur_region *r = &(*out)[(*n)++];
		r->from_s = db_column_double(st, 0);
		r->to_s = db_column_double(st, 1);
		r->x = db_column_double(st, 2);
		r->y = db_column_double(st, 3);
		r->w = db_column_double(st, 4);
		r->h = db_column_double(st, 5);
		snprintf(r->source, sizeof r->source, "%s", (const char *)db_column_text(st, 6));
		snprintf(r->state, sizeof r->state, "%s", (const char *)db_column_text(st, 7));
		r->confidence = db_column_double(st, 8);
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return db_err_code(rc);
	}
	return 0;
}

/* Is region r (the i-th, from 1) one that can be blurred in a clip of
 * duration seconds (0: not known yet)? */
static int check_region(const struct cat_blur_region *r, size_t i, double duration, char *err,
                        size_t errlen)
{
	const double v[] = {r->from_s, r->to_s, r->x, r->y, r->w, r->h};
	for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
		if (!isfinite(v[k])) {
			snprintf(err, errlen, "region %zu: every value must be a number", i);
			return KD_EINVAL;
		}
	if (r->from_s < 0 || r->to_s <= r->from_s) {
		snprintf(err, errlen, "region %zu: from_s (%.2f) must be 0 or more and before to_s "
		         "(%.2f)", i, r->from_s, r->to_s);
		return KD_EINVAL;
	}
	if (duration > 0 && r->from_s >= duration) {
		snprintf(err, errlen, "region %zu starts at %.2f s, after the clip ends (%.2f s)", i,
		         r->from_s, duration);
		return KD_EINVAL;
	}
	if (r->x < 0 || r->y < 0 || r->x >= 1 || r->y >= 1 || r->w < BLUR_SIDE_MIN ||
	    r->h < BLUR_SIDE_MIN || r->x + r->w > 1 + BLUR_EDGE_SLACK ||
	    r->y + r->h > 1 + BLUR_EDGE_SLACK) {
		snprintf(err, errlen, "region %zu: x, y, w and h are fractions of the picture (0 to "
		         "1): the rectangle must lie inside it and be at least %.2f of it on each "
		         "side", i, BLUR_SIDE_MIN);
		return KD_EINVAL;
	}
	return 0;
}

static double clip_duration(struct kd_db *db, int64_t id, int *rc)
{
	struct kd_stmt *st;
	double d = 0;
	if (db_prepare(db, "SELECT coalesce(duration_s, 0) FROM clips WHERE id = ?1", &st) != DB_OK) {
		*rc = KD_EDB;
		return 0;
	}
	db_bind_int64(st, 1, id);
	int step = db_step(st);
	if (step == DB_ROW)
		d = db_column_double(st, 0);
	db_finalize(st);
	*rc = step == DB_ROW ? 0 : step == DB_DONE ? KD_ENOTFOUND : db_err_code(step);
	return d;
}

int cat_blur_set(struct kd_db *db, int64_t id, const struct cat_blur_region *r, size_t n,
                 const char *by, int64_t *rev, char *err, size_t errlen)
{
	if (n > CAT_BLUR_MAX) {
		snprintf(err, errlen, "%zu regions is more than a clip may have (%d); mark larger "
		         "regions over longer times", n, CAT_BLUR_MAX);
		return KD_EINVAL;
	}
	int rc;
	double duration = clip_duration(db, id, &rc);
	if (rc == KD_ENOTFOUND)
		snprintf(err, errlen, "no clip with id %lld", (long long)id);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = check_region(&r[i], i + 1, duration, err, errlen)) < 0)
			return rc;
	if ((rc = db_begin(db)) < 0) {
		snprintf(err, errlen, "the catalogue is busy; try again in a moment");
		return rc;
	}
	struct kd_stmt *st = NULL;
	if (n == 0) {
		/* consent that rests on the blurring cannot lose it unnoticed */
		char *consent = NULL, *basis = NULL;
		rc = cat_consent_read(db, id, &consent, &basis);
		bool blurred = rc == 0 && basis && !strcmp(basis, "blurred");
		free(consent);
		free(basis);
		if (rc < 0)
			goto fail;
		if (blurred) {
			db_rollback(db);
			snprintf(err, errlen, "this clip's consent rests on its blurring (basis "
			         "'blurred'): change the consent basis, or withdraw consent, before "
			         "removing every region");
			return KD_EINVAL;
		}
	}
	if (db_prepare(db, "DELETE FROM blur_regions WHERE clip_id = ?1 AND state = 'applied'",
	               &st) != DB_OK)
		goto fail;
	db_bind_int64(st, 1, id);
	if (db_step(st) != DB_DONE)
		goto fail;
	db_finalize(st);
	st = NULL;
	if (db_prepare(db, "INSERT INTO blur_regions (clip_id, from_s, to_s, x, y, w, h, created_by) "
	                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &st) != DB_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		db_reset(st);
		db_bind_int64(st, 1, id);
		db_bind_double(st, 2, r[i].from_s);
		/* a region that reaches past the end covers the end */
		db_bind_double(st, 3, duration > 0 && r[i].to_s > duration ? duration : r[i].to_s);
		db_bind_double(st, 4, r[i].x);
		db_bind_double(st, 5, r[i].y);
		db_bind_double(st, 6, fmin(r[i].w, 1 - r[i].x));
		db_bind_double(st, 7, fmin(r[i].h, 1 - r[i].y));
		db_bind_text(st, 8, by ? by : "", -1, DB_STATIC);
		if (db_step(st) != DB_DONE)
			goto fail;
	}
	db_finalize(st);
	st = NULL;
	if (db_prepare(db, "UPDATE clips SET blur_rev = blur_rev + 1, "
	                   "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1 "
	                   "RETURNING blur_rev", &st) != DB_OK)
		goto fail;
	db_bind_int64(st, 1, id);
	if (db_step(st) != DB_ROW)
		goto fail;
	*rev = db_column_int64(st, 0);
	db_finalize(st);
	st = NULL;
	if ((rc = db_commit(db)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot save the blur regions: %s", db_errmsg(db));
	if (st)
		db_finalize(st);
	db_rollback(db);
	return KD_EDB;
}

int cat_blur_made(struct kd_db *db, int64_t id, int64_t rev)
{
	struct kd_stmt *st;
	if (db_prepare(db, "UPDATE clips SET media_blur_rev = ?2 WHERE id = ?1 AND media_blur_rev <> ?2",
	               &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, rev);
	int rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}
