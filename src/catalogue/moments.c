/* moments.c - moments of clips: the time ranges that show a practice (see
 * moments.h).  Owner: issue 15, H1.  The spec parser for the command line
 * and the manifest is here too, so that the server and the client agree
 * on what a moment may be. */
#include "kindling/moments.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalogue_sql.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* Longer than any lesson: a time beyond it is a typing slip. */
#define MOMENT_AT_MAX 86400.0

/* The columns of a moment, in the order read_moment() reads them. */
#define MOMENT_COLUMNS                                                                    \
	"m.id, m.clip_id, m.start_s, m.end_s, p.slug, p.name, m.title, c.title, s.slug, " \
	"s.name, coalesce(c.duration_s, 0) "
#define MOMENT_JOINS                                                                      \
	"FROM moments m JOIN clips c ON c.id = m.clip_id "                                \
	"JOIN practices p ON p.id = m.practice_id JOIN schools s ON s.id = c.school_id "

static void read_moment(struct kd_stmt *st, struct cat_moment *m)
{
	m->id = db_column_int64(st, 0);
	m->clip_id = db_column_int64(st, 1);
	m->start_s = db_column_double(st, 2);
	m->end_s = db_column_double(st, 3);
	m->practice = cat_col_dup(st, 4);
	m->practice_name = cat_col_dup(st, 5);
	m->title = cat_col_dup(st, 6);
	m->clip_title = cat_col_dup(st, 7);
	m->school = cat_col_dup(st, 8);
	m->school_name = cat_col_dup(st, 9);
	m->clip_duration_s = db_column_double(st, 10);
}

void cat_moment_free(struct cat_moment *m)
{
	if (!m)
		return;
	free(m->practice);
	free(m->practice_name);
	free(m->title);
	free(m->clip_title);
	free(m->school);
	free(m->school_name);
	memset(m, 0, sizeof *m);
}

void cat_moments_free(struct cat_moment *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cat_moment_free(&list[i]);
	free(list);
}

void cat_moment_page_free(struct cat_moment_page *p)
{
	cat_moments_free(p->moments, p->n);
	memset(p, 0, sizeof *p);
}

bool cat_moment_may_edit(const struct kd_user *user, const struct cat_clip *clip)
{
	if (cat_clip_may_edit(user, clip))
		return true;
	/* The featured teacher, as visits.h finds them: by name at the clip's
	 * school (a clip names its teacher as text, not as an account). */
	return user->role == KD_ROLE_TEACHER && user->school_id && user->school_id == clip->school_id &&
	       clip->teacher && *clip->teacher && !strcasecmp(user->name, clip->teacher);
}

/* "3:12", "1:02:03", with tenths when there are any: how a person reads a
 * time on a player. */
static void fmt_time(double s, char *out, size_t len)
{
	long tenths = lround(s * 10);
	long whole = tenths / 10, frac = tenths % 10;
	char tail[4] = "";
	if (frac)
		snprintf(tail, sizeof tail, ".%ld", frac);
	if (whole >= 3600)
		snprintf(out, len, "%ld:%02ld:%02ld%s", whole / 3600, whole / 60 % 60, whole % 60, tail);
	else
		snprintf(out, len, "%ld:%02ld%s", whole / 60, whole % 60, tail);
}

/* A title a person typed: trimmed by the caller, 1..MOMENT_TITLE_MAX bytes,
 * no control characters, valid UTF-8 is the transport's business. */
static int check_title(const char *t, char *err, size_t errlen)
{
	size_t n = strlen(t);
	if (n == 0) {
		snprintf(err, errlen, "the title is empty: give the moment a short title, such as "
		         "\"Groups rotate\"");
		return KD_EINVAL;
	}
	if (n > MOMENT_TITLE_MAX) {
		snprintf(err, errlen, "the title is too long (%zu characters): keep it to %d", n,
		         MOMENT_TITLE_MAX);
		return KD_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c < 0x20 || c == 0x7f) {
			snprintf(err, errlen, "the title contains a control character (a line break or "
			         "tab?); write it on one line");
			return KD_EINVAL;
		}
	}
	if (strspn(t, " ") == n) {
		snprintf(err, errlen, "the title is only spaces: give the moment a short title");
		return KD_EINVAL;
	}
	return 0;
}

/* The range on its own, and against the clip's length when it is known. */
static int check_range(double start, double end, double duration, char *err, size_t errlen)
{
	if (!isfinite(start) || start < 0 || start > MOMENT_AT_MAX) {
		snprintf(err, errlen, "start_s must be from 0 to %.0f seconds", MOMENT_AT_MAX);
		return KD_EINVAL;
	}
	if (!isfinite(end) || end < 0 || end > MOMENT_AT_MAX) {
		snprintf(err, errlen, "end_s must be from 0 to %.0f seconds", MOMENT_AT_MAX);
		return KD_EINVAL;
	}
	char a[32], b[32];
	if (end <= start) {
		fmt_time(start, a, sizeof a);
		fmt_time(end, b, sizeof b);
		snprintf(err, errlen, "the moment must end after it starts: it starts at %s and ends "
		         "at %s", a, b);
		return KD_EINVAL;
	}
	/* A tenth of a second of slack: players and probes round lengths. */
	if (duration > 0 && end > duration + 0.1) {
		fmt_time(end, a, sizeof a);
		fmt_time(duration, b, sizeof b);
		snprintf(err, errlen, "the moment ends at %s, past the end of the clip: the clip is %s "
		         "long", a, b);
		return KD_EINVAL;
	}
	return 0;
}

/* The practice's row id for a moment: known, and not retired unless the
 * moment has it already (keep). */
static int practice_for(struct kd_db *db, const char *slug, int64_t keep, int64_t *id, char *err,
                        size_t errlen)
{
	int rc = cat_slug_id(db, CAT_PRACTICES, slug, id);
	if (rc == KD_ENOTFOUND)
		return cat_unknown_slug(db, rc, CAT_PRACTICES, slug, err, errlen);
	if (rc < 0) {
		snprintf(err, errlen, "the catalogue could not be read: %s", db_errmsg(db));
		return rc;
	}
	if (*id == keep)
		return 0;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT name, substr(retired_at, 1, 10) FROM practices "
	                   "WHERE id = ?1 AND retired_at IS NOT NULL", &st) != DB_OK) {
		snprintf(err, errlen, "the catalogue could not be read: %s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, *id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		char *known = cat_practice_slugs(db);
		snprintf(err, errlen, "the practice '%.64s' (%.80s) was retired on %s and takes no new "
		         "moments; use a practice in use instead: %s", slug,
		         (const char *)db_column_text(st, 0), (const char *)db_column_text(st, 1),
		         *known ? known : "(none: ask an admin to add one)");
		free(known);
		rc = KD_EINVAL;
	} else {
		rc = rc == DB_DONE ? 0 : db_err_code(rc);
		if (rc < 0)
			snprintf(err, errlen, "the catalogue could not be read: %s", db_errmsg(db));
	}
	db_finalize(st);
	return rc;
}

/* The clip of a moment to change: there for the user, editable by them.
 * err stays empty when the clip is what is not there (KD_ENOTFOUND). */
static int editable_clip(struct kd_db *db, const struct kd_user *user, int64_t clip_id,
                         struct cat_clip *c, char *err, size_t errlen)
{
	int rc = cat_clip_get(db, user, clip_id, c);
	if (rc < 0) {
		if (rc != KD_ENOTFOUND)
			snprintf(err, errlen, "the catalogue could not be read");
		return rc;
	}
	if (!cat_moment_may_edit(user, c)) {
		snprintf(err, errlen, "the moments of a clip are added and changed by those who may "
		         "edit the clip (its uploader, its school's coaches, admins) and by its "
		         "featured teacher");
		cat_clip_free(c);
		return KD_EPERM;
	}
	return 0;
}

int cat_moments_of_clip(struct kd_db *db, const struct kd_user *user, int64_t clip_id,
                        struct cat_moment **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct kd_stmt *st;
	/* The clip first, so that a clip without moments is told from one the
	 * user may not see. */
	if (db_prepare(db, "SELECT 1 FROM clips c WHERE c.id = ?1 AND " CAT_VISIBLE, &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, clip_id);
	cat_bind_viewer(st, user);
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
	if (db_prepare(db, "SELECT " MOMENT_COLUMNS MOMENT_JOINS
	                   "WHERE m.clip_id = ?1 ORDER BY m.start_s, m.end_s, m.id LIMIT ?2",
	               &st) != DB_OK) {
		log_error("moments", "%s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, clip_id);
	db_bind_int64(st, 2, MOMENTS_PER_CLIP_MAX);
	*out = kd_calloc(MOMENTS_PER_CLIP_MAX, sizeof **out);
	while ((rc = db_step(st)) == DB_ROW)
		read_moment(st, &(*out)[(*n)++]);
	db_finalize(st);
	if (rc != DB_DONE) {
		cat_moments_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_err_code(rc);
	}
	return 0;
}

int cat_moment_get(struct kd_db *db, const struct kd_user *user, int64_t id,
                   struct cat_moment *out)
{
	memset(out, 0, sizeof *out);
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT " MOMENT_COLUMNS MOMENT_JOINS "WHERE m.id = ?1 AND " CAT_VISIBLE,
	               &st) != DB_OK) {
		log_error("moments", "%s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, id);
	cat_bind_viewer(st, user);
	int rc = db_step(st);
	if (rc == DB_ROW)
		read_moment(st, out);
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

int cat_moment_add(struct kd_db *db, const struct kd_user *user, int64_t clip_id,
                   const struct cat_moment_edit *m, int64_t *id, char *err, size_t errlen)
{
	err[0] = '\0';
	struct cat_clip c;
	int rc = editable_clip(db, user, clip_id, &c, err, errlen);
	if (rc < 0)
		return rc;
	double duration = c.media.duration_s;
	cat_clip_free(&c);
	if (!m->practice || !*m->practice) {
		snprintf(err, errlen, "a moment needs a practice: give its slug, such as "
		         "\"station-rotation\"");
		return KD_EINVAL;
	}
	if (!m->title) {
		snprintf(err, errlen, "a moment needs a title");
		return KD_EINVAL;
	}
	int64_t practice;
	if ((rc = check_range(m->start_s, m->end_s, duration, err, errlen)) < 0 ||
	    (rc = check_title(m->title, err, errlen)) < 0 ||
	    (rc = practice_for(db, m->practice, 0, &practice, err, errlen)) < 0)
		return rc;
	struct kd_stmt *st;
	/* Only while the clip has fewer than the most a clip may have: else
	 * no row, and the reason is said below. */
	if (db_prepare(db, "INSERT INTO moments (clip_id, practice_id, start_s, end_s, title, "
	                   "created_by) SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE (SELECT count(*) FROM "
	                   "moments WHERE clip_id = ?1) < ?7 RETURNING id",
	               &st) != DB_OK) {
		snprintf(err, errlen, "cannot add the moment: %s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, clip_id);
	db_bind_int64(st, 2, practice);
	db_bind_double(st, 3, round(m->start_s * 1000) / 1000);
	db_bind_double(st, 4, round(m->end_s * 1000) / 1000);
	db_bind_text(st, 5, m->title, -1, DB_STATIC);
	db_bind_int64(st, 6, user->id);
	db_bind_int64(st, 7, MOMENTS_PER_CLIP_MAX);
	rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_column_int64(st, 0);
	db_finalize(st);
	if (rc == DB_DONE) {
		snprintf(err, errlen, "the clip has %d moments, as many as a clip may have: remove or "
		         "change one first", MOMENTS_PER_CLIP_MAX);
		return KD_EINVAL;
	}
	if (rc != DB_ROW) {
		snprintf(err, errlen, "cannot add the moment: %s", db_errmsg(db));
		return db_err_code(rc);
	}
	return 0;
}

/* The moment's clip and practice id, whoever asks (the caller checks the
 * clip is there for the user). */
static int moment_row(struct kd_db *db, int64_t id, int64_t *clip_id, int64_t *practice_id)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT clip_id, practice_id FROM moments WHERE id = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*clip_id = db_column_int64(st, 0);
		*practice_id = db_column_int64(st, 1);
	}
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

int cat_moment_update(struct kd_db *db, const struct kd_user *user, int64_t id,
                      const struct cat_moment_edit *e, char *err, size_t errlen)
{
	err[0] = '\0';
	struct cat_moment was;
	int rc = cat_moment_get(db, user, id, &was);
	if (rc < 0)
		return rc;
	int64_t clip_id = 0, practice = 0;
	struct cat_clip c;
	if ((rc = moment_row(db, id, &clip_id, &practice)) < 0 ||
	    (rc = editable_clip(db, user, clip_id, &c, err, errlen)) < 0) {
		cat_moment_free(&was);
		return rc;
	}
	double duration = c.media.duration_s;
	cat_clip_free(&c);
	double start = e->start_s >= 0 ? e->start_s : was.start_s;
	double end = e->end_s >= 0 ? e->end_s : was.end_s;
	const char *title = e->title ? e->title : was.title;
	/* A range already stored is checked again only when it changes: a
	 * clip made again shorter must not lock its moments' titles. */
	bool moved = e->start_s >= 0 || e->end_s >= 0;
	if ((moved && (rc = check_range(start, end, duration, err, errlen)) < 0) ||
	    (e->title && (rc = check_title(title, err, errlen)) < 0) ||
	    (e->practice && (rc = practice_for(db, e->practice, practice, &practice, err, errlen)) < 0)) {
		cat_moment_free(&was);
		return rc;
	}
	struct kd_stmt *st;
	if (db_prepare(db, "UPDATE moments SET start_s = ?2, end_s = ?3, practice_id = ?4, "
	                   "title = ?5 WHERE id = ?1", &st) != DB_OK) {
		snprintf(err, errlen, "cannot change the moment: %s", db_errmsg(db));
		cat_moment_free(&was);
		return KD_EDB;
	}
	db_bind_int64(st, 1, id);
	db_bind_double(st, 2, round(start * 1000) / 1000);
	db_bind_double(st, 3, round(end * 1000) / 1000);
	db_bind_int64(st, 4, practice);
	db_bind_text(st, 5, title, -1, DB_STATIC);
	rc = db_step(st);
	db_finalize(st);
	cat_moment_free(&was);
	if (rc != DB_DONE) {
		snprintf(err, errlen, "cannot change the moment: %s", db_errmsg(db));
		return db_err_code(rc);
	}
	return 0;
}

int cat_moment_delete(struct kd_db *db, const struct kd_user *user, int64_t id, char *err,
                      size_t errlen)
{
	err[0] = '\0';
	struct cat_moment was;
	int rc = cat_moment_get(db, user, id, &was);
	if (rc < 0)
		return rc;
	int64_t clip_id = was.clip_id;
	cat_moment_free(&was);
	struct cat_clip c;
	if ((rc = editable_clip(db, user, clip_id, &c, err, errlen)) < 0)
		return rc;
	cat_clip_free(&c);
	struct kd_stmt *st;
	if (db_prepare(db, "DELETE FROM moments WHERE id = ?1", &st) != DB_OK) {
		snprintf(err, errlen, "cannot remove the moment: %s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, id);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		snprintf(err, errlen, "cannot remove the moment: %s", db_errmsg(db));
		return db_err_code(rc);
	}
	return 0;
}

int cat_moments_list(struct kd_db *db, const struct kd_user *user,
                     const struct cat_moment_query *q, struct cat_moment_page *out, char *err,
                     size_t errlen)
{
	memset(out, 0, sizeof *out);
	err[0] = '\0';
	int64_t practice = 0, school = 0;
	int rc;
	if (q->practice && *q->practice &&
	    (rc = cat_slug_id(db, CAT_PRACTICES, q->practice, &practice)) < 0)
		return cat_unknown_slug(db, rc, CAT_PRACTICES, q->practice, err, errlen);
	if (q->school && *q->school && (rc = cat_slug_id(db, CAT_SCHOOLS, q->school, &school)) < 0)
		return cat_unknown_slug(db, rc, CAT_SCHOOLS, q->school, err, errlen);
	int64_t per_page = q->per_page < 1 ? 20
	                   : q->per_page > MOMENTS_PER_PAGE_MAX ? MOMENTS_PER_PAGE_MAX
	                                                        : q->per_page;
	int64_t page = q->page < 1 ? 1 : q->page;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT " MOMENT_COLUMNS ", count(*) OVER () " MOMENT_JOINS
	                   "WHERE (?1 = 0 OR m.practice_id = ?1) AND (?2 = 0 OR c.school_id = ?2) "
	                   "AND " CAT_VISIBLE " ORDER BY c.uploaded_at DESC, c.id DESC, m.start_s, "
	                   "m.id LIMIT ?3 OFFSET ?4",
	               &st) != DB_OK) {
		log_error("moments", "%s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, practice);
	db_bind_int64(st, 2, school);
	db_bind_int64(st, 3, per_page);
	db_bind_int64(st, 4, (page - 1) * per_page);
	cat_bind_viewer(st, user);
	out->moments = kd_calloc((size_t)per_page, sizeof *out->moments);
	while ((rc = db_step(st)) == DB_ROW) {
		read_moment(st, &out->moments[out->n++]);
		out->total = db_column_int64(st, 11);
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		cat_moment_page_free(out);
		return db_err_code(rc);
	}
	if (out->n == 0 && page > 1) { /* past the end: the count is still wanted */
		if (db_prepare(db, "SELECT count(*) " MOMENT_JOINS
		                   "WHERE (?1 = 0 OR m.practice_id = ?1) AND (?2 = 0 OR "
		                   "c.school_id = ?2) AND " CAT_VISIBLE,
		               &st) != DB_OK)
			return KD_EDB;
		db_bind_int64(st, 1, practice);
		db_bind_int64(st, 2, school);
		cat_bind_viewer(st, user);
		if ((rc = db_step(st)) == DB_ROW)
			out->total = db_column_int64(st, 0);
		db_finalize(st);
		if (rc != DB_ROW) {
			cat_moment_page_free(out);
			return db_err_code(rc);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ the spec */

/* One time: SS[.f], M:SS[.f] or H:MM:SS[.f].  Advances *p past it. */
static int parse_time(const char **p, double *out, const char *which, char *err, size_t errlen)
{
	const char *s = *p;
	long parts[3];
	int n = 0;
	for (;;) {
		if (!isdigit((unsigned char)*s)) {
			snprintf(err, errlen, "the %s time is missing or not a time: write it as M:SS "
			         "(0:45), H:MM:SS (1:02:03) or seconds (45)", which);
			return KD_EINVAL;
		}
		long v = 0;
		int digits = 0;
		while (isdigit((unsigned char)*s)) {
			if (++digits > 6) {
				snprintf(err, errlen, "the %s time has too many digits", which);
				return KD_EINVAL;
			}
			v = v * 10 + (*s++ - '0');
		}
		if (n > 0 && (digits != 2 || v > 59)) {
			snprintf(err, errlen, "the %s time has a bad minutes or seconds part: write two "
			         "digits from 00 to 59 after a colon, as in 2:05", which);
			return KD_EINVAL;
		}
		parts[n++] = v;
		if (*s != ':')
			break;
		if (n == 3) {
			snprintf(err, errlen, "the %s time has too many parts: at most H:MM:SS", which);
			return KD_EINVAL;
		}
		s++;
	}
	double t = 0;
	for (int i = 0; i < n; i++)
		t = t * 60 + (double)parts[i];
	if (*s == '.') {
		s++;
		double scale = 0.1;
		int digits = 0;
		while (isdigit((unsigned char)*s)) {
			if (++digits > 3) {
				snprintf(err, errlen, "the %s time has more than three decimals", which);
				return KD_EINVAL;
			}
			t += (*s++ - '0') * scale;
			scale /= 10;
		}
		if (!digits) {
			snprintf(err, errlen, "the %s time ends in a dot: write 45.5 or 45", which);
			return KD_EINVAL;
		}
	}
	if (t > MOMENT_AT_MAX) {
		snprintf(err, errlen, "the %s time is past %.0f hours", which, MOMENT_AT_MAX / 3600);
		return KD_EINVAL;
	}
	*out = t;
	*p = s;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

int moment_spec_parse(char *buf, struct cat_moment_edit *m, char *err, size_t errlen)
{
	static const char example[] = "write it as \"0:45-2:10 station-rotation Groups rotate\"";
	memset(m, 0, sizeof *m);
	m->start_s = m->end_s = -1;
	const char *p = buf;
	while (is_space(*p))
		p++;
	if (!*p) {
		snprintf(err, errlen, "the moment is empty: %s", example);
		return KD_EINVAL;
	}
	int rc;
	if ((rc = parse_time(&p, &m->start_s, "start", err, errlen)) < 0)
		return rc;
	while (is_space(*p))
		p++;
	if (*p != '-') {
		snprintf(err, errlen, "the start time is not followed by '-' and an end time: %s",
		         example);
		return KD_EINVAL;
	}
	p++;
	while (is_space(*p))
		p++;
	if ((rc = parse_time(&p, &m->end_s, "end", err, errlen)) < 0)
		return rc;
	if (*p && !is_space(*p)) {
		snprintf(err, errlen, "the end time is followed by '%c': put a space between it and "
		         "the practice", *p);
		return KD_EINVAL;
	}
	if (m->end_s <= m->start_s) {
		char a[32], b[32];
		fmt_time(m->start_s, a, sizeof a);
		fmt_time(m->end_s, b, sizeof b);
		snprintf(err, errlen, "the moment must end after it starts: it starts at %s and ends "
		         "at %s", a, b);
		return KD_EINVAL;
	}
	while (is_space(*p))
		p++;
	char *practice = buf + (p - buf);
	while (*p && !is_space(*p))
		p++;
	if (p == practice) {
		snprintf(err, errlen, "the moment has no practice after its times: %s", example);
		return KD_EINVAL;
	}
	char *end_practice = buf + (p - buf);
	while (is_space(*p))
		p++;
	char *title = buf + (p - buf);
	if (!*title) {
		snprintf(err, errlen, "the moment has no title after its practice: %s", example);
		return KD_EINVAL;
	}
	*end_practice = '\0';
	size_t n = strlen(title);
	while (n && is_space(title[n - 1]))
		title[--n] = '\0';
	if ((rc = check_title(title, err, errlen)) < 0)
		return rc;
	m->practice = practice;
	m->title = title;
	return 0;
}
