/* visits.c - classroom visits, their iCalendar export, and clip views. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "catalogue_sql.h"
#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/outbox.h"
#include "kindling/visits.h"

void visit_free(struct visit *v)
{
	if (!v)
		return;
	free(v->clip_title);
	free(v->clip_teacher);
	free(v->practice);
	free(v->host_school);
	free(v->host_school_name);
	free(v->visitor_school);
	free(v->requester);
	for (size_t i = 0; i < v->n_dates; i++)
		free(v->dates[i]);
	free(v->date);
	free(v->note);
	free(v->answer_note);
	free(v->reflection);
	free(v->status);
	free(v->created_at);
	free(v->updated_at);
	memset(v, 0, sizeof *v);
}

void visits_free(struct visit *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		visit_free(&list[i]);
	free(list);
}

#define VISIT_COLUMNS                                                                    \
	"v.id, coalesce(v.clip_id, 0), c.title, c.teacher, p.slug, hs.slug, hs.name, "      \
	"v.host_school_id, vs.slug, coalesce(v.visitor_school_id, 0), u.name, "             \
	"v.requester_id, v.proposed_dates, v.date, v.note, v.answer_note, v.reflection, "    \
	"v.status, v.created_at, v.updated_at, (c.id IS NOT NULL AND " CAT_VISIBLE ")"
#define VISIT_JOINS                                                                      \
	" FROM visits v LEFT JOIN clips c ON c.id = v.clip_id"                              \
	" LEFT JOIN practices p ON p.id = v.practice_id"                                    \
	" JOIN schools hs ON hs.id = v.host_school_id"                                      \
	" LEFT JOIN schools vs ON vs.id = v.visitor_school_id"                              \
	" JOIN users u ON u.id = v.requester_id"

static int read_list(struct kd_stmt *st, struct visit **out, size_t *n, int64_t *total);
static void bind_page(struct kd_stmt *st, int i, int64_t page, int64_t per_page);

static void read_visit(struct kd_stmt *st, struct visit *v)
{
	memset(v, 0, sizeof *v);
	int i = 0;
	v->id = db_column_int64(st, i++);
	v->clip_id = db_column_int64(st, i++);
	v->clip_title = cat_col_dup(st, i++);
	v->clip_teacher = cat_col_dup(st, i++);
	v->practice = cat_col_dup(st, i++);
	v->host_school = cat_col_dup(st, i++);
	v->host_school_name = cat_col_dup(st, i++);
	v->host_school_id = db_column_int64(st, i++);
	v->visitor_school = cat_col_dup(st, i++);
	v->visitor_school_id = db_column_int64(st, i++);
	v->requester = cat_col_dup(st, i++);
	v->requester_id = db_column_int64(st, i++);
	const char *dates = (const char *)db_column_text(st, i++);
	json_t *a = dates ? json_loads(dates, 0, NULL) : NULL;
	for (size_t k = 0; k < json_array_size(a) && v->n_dates < VISIT_DATES_MAX; k++) {
		const char *d = json_string_value(json_array_get(a, k));
		if (d)
			v->dates[v->n_dates++] = kd_strdup(d);
	}
	json_decref(a);
	v->date = cat_col_dup(st, i++);
	v->note = cat_col_dup(st, i++);
	v->answer_note = cat_col_dup(st, i++);
	v->reflection = cat_col_dup(st, i++);
	v->status = cat_col_dup(st, i++);
	v->created_at = cat_col_dup(st, i++);
	v->updated_at = cat_col_dup(st, i++);
	/* A clip the reader may no longer see (withdrawn, made private) is
	 * not named on its visits either. */
	if (!db_column_int(st, i++)) {
		free(v->clip_title);
		free(v->clip_teacher);
		v->clip_title = v->clip_teacher = NULL;
		v->clip_id = 0;
	}
}

/* issue 16: a visit's change and the mail it causes (outbox_events.c)
 * commit together: in the caller's transaction, else in one of its own. */
static int mail_begin(struct kd_db *db, bool *own)
{
	*own = !db_in_transaction(db);
	return *own ? db_begin(db) : 0;
}

static int mail_end(struct kd_db *db, bool own, int rc)
{
	if (own && rc == 0)
		rc = db_commit(db);
	if (own && rc < 0)
		db_rollback(db);
	return rc;
}

static int prepare(struct kd_db *db, const char *sql, struct kd_stmt **st)
{
	if (db_prepare(db, sql, st) != DB_OK) {
		log_error("visits", "%s", db_errmsg(db));
		return KD_EDB;
	}
	return 0;
}

/* Binds ?90-?92 for viewer; NULL reads everything (the rules' own checks). */
static void bind_reader(struct kd_stmt *st, const struct kd_user *viewer)
{
	static const struct kd_user all = {.role = KD_ROLE_ADMIN};
	cat_bind_viewer(st, viewer ? viewer : &all);
}

int visit_get(struct kd_db *db, const struct kd_user *viewer, int64_t id, struct visit *out)
{
	struct kd_stmt *st;
	if (prepare(db, "SELECT " VISIT_COLUMNS VISIT_JOINS " WHERE v.id = ?1", &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	bind_reader(st, viewer);
	int rc = db_step(st), result = 0;
	if (rc == DB_ROW)
		read_visit(st, out);
	else
		result = rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
	db_finalize(st);
	return result;
}

int visit_create(struct kd_db *db, const struct kd_user *user, int64_t clip_id,
                 const char *const *dates, size_t n_dates, const char *note, int64_t *id,
                 char *err, size_t errlen)
{
	if (n_dates < 1 || n_dates > VISIT_DATES_MAX) {
		snprintf(err, errlen, "propose one to three dates for the visit, as \"dates\": "
		         "[\"YYYY-MM-DD\", ...]");
		return KD_EINVAL;
	}
	for (size_t i = 0; i < n_dates; i++) {
		if (!dates[i] || !cat_date_valid(dates[i])) {
			snprintf(err, errlen, "'%.40s' is not a date: write dates as YYYY-MM-DD, for "
			         "example 2026-03-14", dates[i] ? dates[i] : "null");
			return KD_EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(dates[i], dates[j])) {
				snprintf(err, errlen, "the date %s is proposed twice: give each date once",
				         dates[i]);
				return KD_EINVAL;
			}
	}
	if (!note)
		note = "";
	if (strlen(note) > VISIT_NOTE_MAX) {
		snprintf(err, errlen, "the note is too long: use at most %d characters",
		         VISIT_NOTE_MAX);
		return KD_EINVAL;
	}
	struct cat_clip c;
	int rc = cat_clip_get(db, user, clip_id, &c);
	if (rc == KD_ENOTFOUND) {
		snprintf(err, errlen, "no clip with id %lld (it may have been deleted, or you may not "
		         "have access to it)", (long long)clip_id);
		return rc;
	}
	if (rc < 0)
		return rc;
	if (user->school_id && user->school_id == c.school_id) {
		snprintf(err, errlen, "this clip is from your own school: visits are for classrooms "
		         "at other schools");
		cat_clip_free(&c);
		return KD_EPERM;
	}
	/* Even those who see every clip (admins) ask only from a clip the
	 * district shares: ready, with consent on file. */
	if (c.status != CAT_READY || strcmp(c.consent, "on-file") != 0) {
		snprintf(err, errlen, "this clip is not shared with the district (it is %s, consent "
		         "%s): a visit is asked from a ready, shared clip",
		         cat_status_name(c.status), c.consent);
		cat_clip_free(&c);
		return KD_EINVAL;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n_dates; i++)
		json_array_append_new(a, json_string(dates[i]));
	char *dates_json = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	struct kd_stmt *st;
	bool own; /* issue 16 */
	if ((rc = mail_begin(db, &own)) < 0) {
		snprintf(err, errlen, "the catalogue is busy; try again in a moment");
		free(dates_json);
		cat_clip_free(&c);
		return rc;
	}
	rc = prepare(db,
	             "INSERT INTO visits (clip_id, requester_id, visitor_school_id, host_school_id, "
	             "practice_id, proposed_dates, note) VALUES (?1, ?2, nullif(?3, 0), ?4, "
	             "(SELECT p.id FROM clip_practices cp JOIN practices p ON p.id = cp.practice_id "
	             " WHERE cp.clip_id = ?1 ORDER BY p.slug LIMIT 1), ?5, ?6) RETURNING id",
	             &st);
	if (rc == 0) {
		db_bind_int64(st, 1, clip_id);
		db_bind_int64(st, 2, user->id);
		db_bind_int64(st, 3, user->school_id);
		db_bind_int64(st, 4, c.school_id);
		db_bind_text(st, 5, dates_json, -1, DB_STATIC);
		db_bind_text(st, 6, note, -1, DB_STATIC);
		int s = db_step(st);
		if (s == DB_ROW)
			*id = db_column_int64(st, 0);
		else {
			snprintf(err, errlen, "cannot save the visit: %s", db_errmsg(db));
			rc = db_err_code(s);
		}
		db_finalize(st);
	}
	/* issue 16: the host side hears of it, or the visit is not made */
	if (rc == 0) {
		int q = outbox_visit_requested(db, *id);
		if (q < 0) {
			snprintf(err, errlen, "cannot queue the mail about the visit: %s",
			         db_errmsg(db));
			rc = q;
		}
	}
	if (rc == 0 && (rc = mail_end(db, own, 0)) < 0)
		snprintf(err, errlen, "cannot save the visit: %s", db_errmsg(db));
	else if (rc < 0)
		mail_end(db, own, rc);
	free(dates_json);
	cat_clip_free(&c);
	return rc;
}

bool visit_may_answer(struct kd_db *db, const struct kd_user *user, const struct visit *v)
{
	(void)db;
	if (user->role == KD_ROLE_ADMIN)
		return true;
	if (user->school_id != v->host_school_id)
		return false;
	if (user->role == KD_ROLE_PRINCIPAL)
		return true;
	return user->role == KD_ROLE_TEACHER && v->clip_teacher && *v->clip_teacher &&
	       !strcasecmp(user->name, v->clip_teacher);
}

bool visit_may_see(struct kd_db *db, const struct kd_user *user, const struct visit *v)
{
	return user->id == v->requester_id || visit_may_answer(db, user, v) ||
	       (user->role == KD_ROLE_PRINCIPAL && user->school_id &&
	        user->school_id == v->visitor_school_id);
}

int visit_update(struct kd_db *db, const struct kd_user *user, int64_t id, const char *status,
                 const char *date, const char *note, const char *reflection, char *err,
                 size_t errlen)
{
	struct visit v;
	int rc = visit_get(db, NULL, id, &v);
	if (rc == 0 && !visit_may_see(db, user, &v)) {
		visit_free(&v);
		rc = KD_ENOTFOUND;
	}
	if (rc == KD_ENOTFOUND)
		snprintf(err, errlen, "no visit with id %lld that you can see", (long long)id);
	if (rc < 0)
		return rc;
	bool answerer = visit_may_answer(db, user, &v);
	bool requester = user->id == v.requester_id;
	const char *new_status = status ? status : v.status;
	const char *new_date = v.date;
	const char *answer_note = v.answer_note;
	const char *new_reflection = v.reflection;
	rc = KD_EINVAL;
	if (note && strlen(note) > VISIT_NOTE_MAX) {
		snprintf(err, errlen, "the note is too long: use at most %d characters",
		         VISIT_NOTE_MAX);
		goto out;
	}
	if (reflection && strlen(reflection) > VISIT_NOTE_MAX) {
		snprintf(err, errlen, "the reflection is too long: use at most %d characters",
		         VISIT_NOTE_MAX);
		goto out;
	}
	if (status && strcmp(status, "accepted") && strcmp(status, "declined") &&
	    strcmp(status, "done") && strcmp(status, "requested")) {
		snprintf(err, errlen, "status must be accepted, declined or done");
		goto out;
	}
	if (!strcmp(new_status, "accepted") || !strcmp(new_status, "declined")) {
		if (!answerer) {
			snprintf(err, errlen, "only the host school's principal, the featured teacher or "
			         "an admin may accept or decline this visit");
			rc = KD_EPERM;
			goto out;
		}
		if (status && strcmp(v.status, "requested") && strcmp(v.status, status)) {
			snprintf(err, errlen, "this visit is %s: only a requested visit can be %s",
			         v.status, status);
			rc = KD_EEXIST;
			goto out;
		}
		if (!strcmp(new_status, "accepted")) {
			if (date) {
				size_t i;
				for (i = 0; i < v.n_dates; i++)
					if (!strcmp(v.dates[i], date))
						break;
				if (i == v.n_dates) {
					snprintf(err, errlen, "accept one of the proposed dates:%s%s%s%s%s",
					         v.n_dates > 0 ? " " : "", v.n_dates > 0 ? v.dates[0] : "",
					         v.n_dates > 1 ? ", " : "", v.n_dates > 1 ? v.dates[1] : "",
					         v.n_dates > 2 ? " or another proposed date" : "");
					goto out;
				}
				new_date = date;
			} else if (!new_date) {
				snprintf(err, errlen, "give the date of the visit: \"date\": one of the "
				         "proposed dates");
				goto out;
			}
		} else if (date) {
			snprintf(err, errlen, "a declined visit has no date: leave \"date\" out");
			goto out;
		}
		if (note)
			answer_note = note;
		if (reflection) {
			snprintf(err, errlen, "a reflection is written by the visitor once the visit "
			         "is done");
			goto out;
		}
	} else if (!strcmp(new_status, "done")) {
		if (!requester) {
			snprintf(err, errlen, "only the teacher who asked for the visit may mark it done");
			rc = KD_EPERM;
			goto out;
		}
		if (strcmp(v.status, "accepted") && strcmp(v.status, "done")) {
			snprintf(err, errlen, "this visit is %s: only an accepted visit can be done",
			         v.status);
			rc = KD_EEXIST;
			goto out;
		}
		if (date) {
			snprintf(err, errlen, "the date was set when the visit was accepted");
			goto out;
		}
		if (reflection)
			new_reflection = reflection;
		if (note) {
			snprintf(err, errlen, "write what you will try as \"reflection\"");
			goto out;
		}
	} else { /* requested */
		if (status && strcmp(v.status, "requested")) {
			snprintf(err, errlen, "this visit is %s: status must be accepted, declined or "
			         "done", v.status);
			rc = KD_EEXIST;
			goto out;
		}
		if (!requester && !answerer) {
			rc = KD_EPERM;
			snprintf(err, errlen, "only the requester or the host may change this visit");
			goto out;
		}
		if (date || reflection) {
			snprintf(err, errlen, "a requested visit takes only a note until it is accepted");
			goto out;
		}
		if (note && answerer)
			answer_note = note;
		else if (note) {
			snprintf(err, errlen, "only the host may add a note to the answer");
			rc = KD_EPERM;
			goto out;
		}
	}
	struct kd_stmt *st;
	bool own; /* issue 16 */
	if ((rc = mail_begin(db, &own)) < 0) {
		snprintf(err, errlen, "the catalogue is busy; try again in a moment");
		goto out;
	}
	if ((rc = prepare(db,
	                  "UPDATE visits SET status = ?2, date = ?3, answer_note = ?4, "
	                  "reflection = ?5, answered_by = CASE WHEN ?6 <> 0 THEN ?7 ELSE answered_by END, "
	                  "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1",
	                  &st)) < 0) {
		mail_end(db, own, rc);
		goto out;
	}
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, new_status, -1, DB_STATIC);
	if (!strcmp(new_status, "declined"))
		new_date = NULL;
	if (new_date)
		db_bind_text(st, 3, new_date, -1, DB_STATIC);
	db_bind_text(st, 4, answer_note ? answer_note : "", -1, DB_STATIC);
	db_bind_text(st, 5, new_reflection ? new_reflection : "", -1, DB_STATIC);
	db_bind_int(st, 6, status && (!strcmp(status, "accepted") || !strcmp(status, "declined")));
	db_bind_int64(st, 7, user->id);
	int s = db_step(st);
	db_finalize(st);
	rc = s == DB_DONE ? 0 : db_err_code(s);
	/* issue 16: an answer (a change to accepted or declined) is mailed to
	 * the requester */
	if (rc == 0 && status && strcmp(v.status, status) &&
	    (!strcmp(status, "accepted") || !strcmp(status, "declined")) &&
	    (rc = outbox_visit_answered(db, id)) > 0)
		rc = 0;
	rc = mail_end(db, own, rc);
	if (rc < 0)
		snprintf(err, errlen, "cannot save the visit: %s", db_errmsg(db));
out:
	visit_free(&v);
	return rc;
}

int visit_list(struct kd_db *db, const struct kd_user *user, const char *school, bool mine,
               int64_t page, int64_t per_page, struct visit **out, size_t *n, int64_t *total,
               char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	int64_t school_id = 0;
	if (school && *school) {
		int rc = cat_slug_id(db, CAT_SCHOOLS, school, &school_id);
		if (rc == KD_ENOTFOUND)
			snprintf(err, errlen, "no school '%.64s': GET /api/v1/schools lists them", school);
		if (rc < 0)
			return rc;
		if (user->role != KD_ROLE_ADMIN &&
		    !(user->role == KD_ROLE_PRINCIPAL && user->school_id == school_id)) {
			snprintf(err, errlen, "only admins and the school's principals may list its "
			         "visits; ask with ?mine=1 for the visits you asked for");
			return KD_EPERM;
		}
	} else if (!mine) {
		snprintf(err, errlen, "say which visits: ?mine=1 for yours, or ?school=SLUG for a "
		         "school's (principals and admins)");
		return KD_EINVAL;
	}
	struct kd_stmt *st;
	if (prepare(db,
	            "SELECT " VISIT_COLUMNS ", count(*) OVER ()" VISIT_JOINS
	            " WHERE (?1 = 0 OR v.host_school_id = ?1 OR v.visitor_school_id = ?1)"
	            " AND (?2 = 0 OR v.requester_id = ?3) ORDER BY v.id DESC LIMIT ?4 OFFSET ?5",
	            &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, school_id);
	db_bind_int(st, 2, mine);
	db_bind_int64(st, 3, user->id);
	bind_page(st, 4, page, per_page);
	bind_reader(st, user);
	return read_list(st, out, n, total);
}

int visit_list_featured(struct kd_db *db, const struct kd_user *user, int64_t page, int64_t per_page,
                        struct visit **out, size_t *n, int64_t *total)
{
	*out = NULL;
	*n = 0;
	*total = 0;
	if (user->role != KD_ROLE_TEACHER || !user->school_id || !user->name[0])
		return 0;
	struct kd_stmt *st;
	if (prepare(db,
	            "SELECT " VISIT_COLUMNS ", count(*) OVER ()" VISIT_JOINS
	            " WHERE v.host_school_id = ?1 AND c.teacher = ?2 COLLATE NOCASE"
	            " ORDER BY v.id DESC LIMIT ?3 OFFSET ?4",
	            &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, user->school_id);
	db_bind_text(st, 2, user->name, -1, DB_STATIC);
	bind_page(st, 3, page, per_page);
	bind_reader(st, user);
	return read_list(st, out, n, total);
}

/* LIMIT and OFFSET of a page (from 1) of per_page (1..VISITS_PER_PAGE_MAX)
 * at parameters i and i + 1. */
static void bind_page(struct kd_stmt *st, int i, int64_t page, int64_t per_page)
{
	if (per_page < 1 || per_page > VISITS_PER_PAGE_MAX)
		per_page = VISITS_PER_PAGE_MAX;
	if (page < 1)
		page = 1;
	db_bind_int64(st, i, per_page);
	db_bind_int64(st, i + 1, (page - 1) * per_page);
}

/* Step st to its end, reading each row (then the count of all rows) into a
 * growing array; finalizes st. */
static int read_list(struct kd_stmt *st, struct visit **out, size_t *n, int64_t *total)
{
	*total = 0;
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = kd_realloc(*out, cap * sizeof **out);
		}
		read_visit(st, &(*out)[(*n)++]);
		*total = db_column_int64(st, db_column_count(st) - 1);
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		visits_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_err_code(rc);
	}
	return 0;
}

/* ---------------------------------------------------------------- iCalendar */

/* Append a content line, folded so that no line passes 75 octets (never
 * inside a UTF-8 sequence), ending in CRLF. */
static void ics_line(struct kd_buf *b, const char *line)
{
	size_t len = strlen(line), col = 0;
	for (size_t i = 0; i < len;) {
		size_t ch = 1;
		unsigned char c = (unsigned char)line[i];
		if (c >= 0xf0)
			ch = 4;
		else if (c >= 0xe0)
			ch = 3;
		else if (c >= 0xc0)
			ch = 2;
		if (i + ch > len)
			ch = len - i;
		if (col + ch > 75) {
			kd_buf_puts(b, "\r\n ");
			col = 1;
		}
		kd_buf_append(b, line + i, ch);
		col += ch;
		i += ch;
	}
	kd_buf_puts(b, "\r\n");
}

/* RFC 5545 TEXT: backslash, semicolon, comma escaped; newlines as \n. */
static void ics_text(struct kd_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '\\': kd_buf_puts(b, "\\\\"); break;
		case ';': kd_buf_puts(b, "\\;"); break;
		case ',': kd_buf_puts(b, "\\,"); break;
		case '\n': kd_buf_puts(b, "\\n"); break;
		case '\r': if (s[1] != '\n') kd_buf_puts(b, "\\n"); break;
		default:
			if ((unsigned char)*s >= 0x20 && *s != 0x7f)
				kd_buf_putc(b, *s);
		}
	}
}

static void ics_prop(struct kd_buf *out, const char *name, const char *a, const char *b2,
                     const char *c)
{
	struct kd_buf l = KD_BUF_INIT(64 * 1024);
	kd_buf_printf(&l, "%s:", name);
	ics_text(&l, a);
	ics_text(&l, b2);
	ics_text(&l, c);
	ics_line(out, kd_buf_str(&l));
	kd_buf_release(&l);
}

char *visit_ics(const struct visit *v, const char *dtstamp)
{
	if (!v->date || !cat_date_valid(v->date))
		return NULL;
	struct tm tm = {0};
	tm.tm_year = atoi(v->date) - 1900;
	tm.tm_mon = atoi(v->date + 5) - 1;
	tm.tm_mday = atoi(v->date + 8) + 1;
	time_t t = timegm(&tm);
	struct tm next;
	gmtime_r(&t, &next);
	char start[9], end[9], line[128];
	snprintf(start, sizeof start, "%.4s%.2s%.2s", v->date, v->date + 5, v->date + 8);
	strftime(end, sizeof end, "%Y%m%d", &next);

	struct kd_buf b = KD_BUF_INIT(256 * 1024);
	ics_line(&b, "BEGIN:VCALENDAR");
	ics_line(&b, "VERSION:2.0");
	ics_line(&b, "PRODID:-//kindling//classroom visits//EN");
	ics_line(&b, "CALSCALE:GREGORIAN");
	ics_line(&b, "METHOD:PUBLISH");
	ics_line(&b, "BEGIN:VEVENT");
	snprintf(line, sizeof line, "UID:visit-%lld@kindling", (long long)v->id);
	ics_line(&b, line);
	snprintf(line, sizeof line, "DTSTAMP:%s", dtstamp);
	ics_line(&b, line);
	snprintf(line, sizeof line, "DTSTART;VALUE=DATE:%s", start);
	ics_line(&b, line);
	snprintf(line, sizeof line, "DTEND;VALUE=DATE:%s", end);
	ics_line(&b, line);
	ics_prop(&b, "SUMMARY", "Classroom visit: ", v->clip_title ? v->clip_title : "a clip",
	         NULL);
	struct kd_buf d = KD_BUF_INIT(64 * 1024);
	if (v->clip_teacher && *v->clip_teacher)
		kd_buf_printf(&d, "Featured teacher: %s\n", v->clip_teacher);
	if (v->practice)
		kd_buf_printf(&d, "Practice: %s\n", v->practice);
	kd_buf_printf(&d, "Visitor: %s%s%s\n", v->requester ? v->requester : "",
	              v->visitor_school ? ", " : "", v->visitor_school ? v->visitor_school : "");
	if (v->note && *v->note)
		kd_buf_printf(&d, "Note: %s\n", v->note);
	if (v->answer_note && *v->answer_note)
		kd_buf_printf(&d, "Answer: %s\n", v->answer_note);
	if (d.len && d.data[d.len - 1] == '\n')
		d.data[--d.len] = '\0';
	ics_prop(&b, "DESCRIPTION", kd_buf_str(&d), NULL, NULL);
	kd_buf_release(&d);
	ics_prop(&b, "LOCATION", v->host_school_name, NULL, NULL);
	ics_line(&b, "STATUS:CONFIRMED");
	ics_line(&b, "TRANSP:TRANSPARENT");
	ics_line(&b, "END:VEVENT");
	ics_line(&b, "END:VCALENDAR");
	return kd_buf_take(&b, NULL);
}

/* ---------------------------------------------------------------- views */

int view_record(struct kd_db *db, const struct kd_user *user, int64_t clip_id, const char *day)
{
	struct cat_clip c;
	int rc = cat_clip_get(db, user, clip_id, &c);
	if (rc < 0)
		return rc;
	cat_clip_free(&c);
	struct kd_stmt *st;
	if (prepare(db,
	            "INSERT INTO views (clip_id, user_id, school_id, day) VALUES "
	            "(?1, ?2, nullif(?3, 0), coalesce(?4, strftime('%Y-%m-%d', 'now'))) "
	            "ON CONFLICT DO NOTHING",
	            &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, clip_id);
	db_bind_int64(st, 2, user->id);
	db_bind_int64(st, 3, user->school_id);
	if (day)
		db_bind_text(st, 4, day, -1, DB_STATIC);
	int s = db_step(st);
	db_finalize(st);
	return s == DB_DONE ? 0 : db_err_code(s);
}

/* issue 16: the Visits link's badge (visits.h).  One statement on the
 * visits_host index (host school, status), asked on every page. */
int visit_count_waiting(struct kd_db *db, const struct kd_user *user, int64_t *n)
{
	*n = 0;
	/* An admin may answer any visit, but a district's requests wait for
	 * their schools, not for the admin: like everyone, an admin counts
	 * those of their own school, and has none without one. */
	if (!user->school_id ||
	    (user->role != KD_ROLE_PRINCIPAL && user->role != KD_ROLE_ADMIN &&
	     (user->role != KD_ROLE_TEACHER || !user->name[0])))
		return 0;
	struct kd_stmt *st;
	if (db_stmt(db,
	            "SELECT count(*) FROM visits v LEFT JOIN clips c ON c.id = v.clip_id "
	            "WHERE v.host_school_id = ?1 AND v.status = 'requested' "
	            "AND (?2 <> 0 OR c.teacher = ?3 COLLATE NOCASE)",
	            &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, user->school_id);
	db_bind_int(st, 2, user->role != KD_ROLE_TEACHER);
	db_bind_text(st, 3, user->name, -1, DB_STATIC);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*n = db_column_int64(st, 0);
	db_stmt_done(st);
	if (rc != DB_ROW) {
		log_error("visits", "cannot count the visits waiting: %s", db_errmsg(db));
		return db_err_code(rc);
	}
	return 0;
}
