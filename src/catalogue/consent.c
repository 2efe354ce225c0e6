/* consent.c - a clip's consent record and its history, and legal holds
 * (schema/010_governance.sql; catalogue.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/catalogue.h"
#include "kindling/mem.h"

static const char *const BASES[] = {"releases", "no-students", "blurred", NULL};

bool cat_consent_basis_valid(const char *basis)
{
	for (size_t i = 0; basis && BASES[i]; i++)
		if (!strcmp(basis, BASES[i]))
			return true;
	return false;
}

int cat_consent_check(const struct cat_clip_edit *e, char *err, size_t errlen)
{
	if (e->consent_basis && !cat_consent_basis_valid(e->consent_basis)) {
		snprintf(err, errlen, "consent_basis must be releases (releases on file for everyone on "
		         "camera), no-students (no student can be identified) or blurred (those without "
		         "a release are blurred), not '%.40s'", e->consent_basis);
		return KD_EINVAL;
	}
	if (e->consent_basis && e->consent && strcmp(e->consent, "on-file") != 0) {
		snprintf(err, errlen, "a consent basis goes with consent on file, not with %s",
		         e->consent);
		return KD_EINVAL;
	}
	if (e->consent_reason && strlen(e->consent_reason) > CAT_CONSENT_REASON_MAX) {
		snprintf(err, errlen, "the reason is too long: keep it under %d characters",
		         CAT_CONSENT_REASON_MAX);
		return KD_EINVAL;
	}
	return 0;
}

/* Count the clip's applied blur regions into *n. */
static int applied_regions(struct kd_db *db, int64_t id, int64_t *n)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT count(*) FROM blur_regions WHERE clip_id = ?1 "
	                   "AND state = 'applied'", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	*n = rc == DB_ROW ? db_column_int64(st, 0) : 0;
	db_finalize(st);
	return rc == DB_ROW ? 0 : db_err_code(rc);
}

int cat_consent_read(struct kd_db *db, int64_t id, char **consent, char **basis)
{
	*consent = *basis = NULL;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT consent, consent_basis FROM clips WHERE id = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*consent = cat_col_dup(st, 0);
		*basis = cat_col_dup(st, 1);
	}
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

static int add_event(struct kd_db *db, int64_t id, const char *consent, const char *basis,
                     const char *reason, const char *by)
{
	struct kd_stmt *st;
	if (db_prepare(db, "INSERT INTO consent_events (clip_id, consent, basis, reason, user_name) "
	                   "VALUES (?1, ?2, ?3, ?4, ?5)", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, consent, -1, DB_STATIC);
	if (basis)
		db_bind_text(st, 3, basis, -1, DB_STATIC);
	db_bind_text(st, 4, reason ? reason : "", -1, DB_STATIC);
	db_bind_text(st, 5, by ? by : "", -1, DB_STATIC);
	int rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int cat_consent_apply(struct kd_db *db, int64_t id, const char *old_consent,
                      const char *old_basis, const struct cat_clip_edit *e, char *err,
                      size_t errlen)
{
	const char *consent = e->consent ? e->consent : old_consent;
	const char *basis = NULL;
	if (!strcmp(consent, "on-file"))
		basis = e->consent_basis ? e->consent_basis
		        : old_basis && !strcmp(old_consent, "on-file") ? old_basis : "releases";
	else if (e->consent_basis) {
		snprintf(err, errlen, "a consent basis goes with consent on file; this clip's consent "
		         "is %s: set consent to on-file with it", consent);
		return KD_EINVAL;
	}
	if (same(consent, old_consent) && same(basis, old_basis))
		return 0; /* nothing changed: no new record */
	if (!strcmp(consent, "withdrawn") && (!e->consent_reason || !*e->consent_reason)) {
		snprintf(err, errlen, "say why consent is withdrawn (consent_reason): the record keeps "
		         "it, for whoever asks later");
		return KD_EINVAL;
	}
	int rc;
	if (basis && !strcmp(basis, "blurred")) {
		int64_t n;
		if ((rc = applied_regions(db, id, &n)) < 0)
			return rc;
		if (n == 0) {
			snprintf(err, errlen, "the basis 'blurred' needs the regions to blur marked first "
			         "(the clip page's Blur form, or PUT /api/v1/clips/%lld/blur)", (long long)id);
			return KD_EINVAL;
		}
	}
	struct kd_stmt *st;
	if (db_prepare(db, "UPDATE clips SET consent_basis = ?2, consent_by = ?3, "
	                   "consent_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1",
	               &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	if (basis)
		db_bind_text(st, 2, basis, -1, DB_STATIC);
	db_bind_text(st, 3, e->by ? e->by : "", -1, DB_STATIC);
	int step = db_step(st);
	db_finalize(st);
	if (step != DB_DONE)
		return db_err_code(step);
	return add_event(db, id, consent, basis, e->consent_reason, e->by);
}

int cat_consent_created(struct kd_db *db, int64_t id)
{
	struct kd_stmt *st;
	if (db_prepare(db, "UPDATE clips SET consent_basis = CASE WHEN consent = 'on-file' THEN "
	                   "'releases' END, consent_by = coalesce((SELECT u.name FROM users u WHERE "
	                   "u.id = clips.uploader_id), ''), consent_at = uploaded_at WHERE id = ?1 "
	                   "RETURNING consent, consent_basis, consent_by", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	char *consent = rc == DB_ROW ? cat_col_dup(st, 0) : NULL;
	char *basis = rc == DB_ROW ? cat_col_dup(st, 1) : NULL;
	char *by = rc == DB_ROW ? cat_col_dup(st, 2) : NULL;
	db_finalize(st);
	if (rc != DB_ROW) {
		free(consent);
		free(basis);
		free(by);
		return rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
	}
	rc = add_event(db, id, consent, basis, "", by);
	free(consent);
	free(basis);
	free(by);
	return rc;
}

void cat_consent_events_free(struct cat_consent_event *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].consent);
		free(list[i].basis);
		free(list[i].reason);
		free(list[i].by);
		free(list[i].at);
	}
	free(list);
}

int cat_consent_history(struct kd_db *db, int64_t id, struct cat_consent_event **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT consent, basis, reason, user_name, at FROM consent_events "
	                   "WHERE clip_id = ?1 ORDER BY id", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap)
			*out = kd_realloc(*out, (cap = cap ? cap * 2 : 8) * sizeof **out);
		struct cat_consent_event *ev = &(*out)[(*n)++];
		ev->consent = cat_col_dup(st, 0);
		ev->basis = cat_col_dup(st, 1);
		ev->reason = cat_col_dup(st, 2);
		ev->by = cat_col_dup(st, 3);
		ev->at = cat_col_dup(st, 4);
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		cat_consent_events_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_err_code(rc);
	}
	return 0;
}

/* ---------------------------------------------------------------- legal hold */

int cat_clip_hold(struct kd_db *db, int64_t id, bool on, const char *by, const char *reason,
                  char *err, size_t errlen)
{
	if (on && (!reason || !*reason)) {
		snprintf(err, errlen, "say why the clip is held (the matter or request it is kept for)");
		return KD_EINVAL;
	}
	if (reason && strlen(reason) > CAT_CONSENT_REASON_MAX) {
		snprintf(err, errlen, "the reason is too long: keep it under %d characters",
		         CAT_CONSENT_REASON_MAX);
		return KD_EINVAL;
	}
	struct kd_stmt *st;
	if (db_prepare(db, on ? "UPDATE clips SET hold_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "
	                        "hold_by = ?2, hold_reason = ?3 WHERE id = ?1"
	                      : "UPDATE clips SET hold_at = NULL, hold_by = NULL, hold_reason = '' "
	                        "WHERE id = ?1",
	               &st) != DB_OK) {
		snprintf(err, errlen, "cannot change the hold: %s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, id);
	if (on) {
		db_bind_text(st, 2, by ? by : "", -1, DB_STATIC);
		db_bind_text(st, 3, reason, -1, DB_STATIC);
	}
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		snprintf(err, errlen, "cannot change the hold: %s", db_errmsg(db));
		return db_err_code(rc);
	}
	if (db_changes(db) == 0) {
		snprintf(err, errlen, "no clip with id %lld", (long long)id);
		return KD_ENOTFOUND;
	}
	return 0;
}

int cat_clip_hold_get(struct kd_db *db, int64_t id, struct cat_hold *out)
{
	memset(out, 0, sizeof *out);
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT hold_at, hold_by, hold_reason FROM clips WHERE id = ?1", &st) !=
	    DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW && db_column_type(st, 0) != DB_NULL) {
		out->at = cat_col_dup(st, 0);
		out->by = cat_col_dup(st, 1);
		out->reason = cat_col_dup(st, 2);
	}
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

void cat_hold_free(struct cat_hold *h)
{
	free(h->at);
	free(h->by);
	free(h->reason);
	memset(h, 0, sizeof *h);
}
