/* audit.c - the audit trail (audit.h): adding entries, reading them, and
 * removing those past audit_months. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kindling/audit.h"
#include "kindling/catalogue.h"
#include "kindling/config.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"

const char *const audit_actions[] = {
	AUDIT_OPEN,     AUDIT_ORIGINAL,  AUDIT_CONSENT,   AUDIT_VISIBILITY,     AUDIT_BLUR,
	AUDIT_EDIT,     AUDIT_DELETE,    AUDIT_HOLD,      AUDIT_SIGN_IN,        AUDIT_SIGN_IN_FAILED,
	AUDIT_ROSTER,   AUDIT_TOKEN_ADD, AUDIT_TOKEN_REVOKE, AUDIT_VISIT_ANSWER, AUDIT_USER,
	AUDIT_RETENTION,
};
const size_t audit_actions_count = sizeof audit_actions / sizeof audit_actions[0];

/* Words longer than this are cut: an entry is a line, not a document. */
#define AUDIT_TEXT_MAX 1000

bool audit_action_known(const char *action)
{
	for (size_t i = 0; action && i < audit_actions_count; i++)
		if (strcmp(action, audit_actions[i]) == 0)
			return true;
	return false;
}

struct audit_actor audit_actor_of(const struct kd_user *user, const char *ip)
{
	return (struct audit_actor){user ? user->id : 0, user ? user->name : "", ip ? ip : ""};
}

/* Bind s, cut at AUDIT_TEXT_MAX bytes on a UTF-8 boundary. */
static void bind_cut(struct kd_stmt *st, int i, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n > AUDIT_TEXT_MAX) {
		n = AUDIT_TEXT_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	db_bind_text(st, i, s ? s : "", (int)n, DB_TRANSIENT);
}

int audit_add(struct kd_db *db, const struct audit_actor *who, const char *action,
              int64_t clip_id, const char *target, const char *detail)
{
	struct kd_stmt *st;
	int rc = db_stmt(db, "INSERT INTO audit (user_id, user_name, action, clip_id, target, detail, ip) "
	                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &st);
	if (rc == 0) {
		if (who->user_id > 0)
			db_bind_int64(st, 1, who->user_id);
		bind_cut(st, 2, who->user_name);
		db_bind_text(st, 3, action, -1, DB_STATIC);
		if (clip_id > 0)
			db_bind_int64(st, 4, clip_id);
		bind_cut(st, 5, target);
		bind_cut(st, 6, detail);
		bind_cut(st, 7, who->ip);
		int step = db_step(st);
		rc = step == DB_DONE ? 0 : db_err_code(step);
		db_stmt_done(st);
	}
	if (rc < 0)
		log_error("audit", "could not record %s by '%s' (clip %lld, %s %s): %s", action,
		          who->user_name ? who->user_name : "", (long long)clip_id, target ? target : "",
		          detail ? detail : "", db_errmsg(db));
	return rc;
}

/* ---------------------------------------------------------------- opens
 * What this process has recorded today: a set of (person, clip), emptied
 * when the day changes or when it is full (then the catalogue's own check
 * keeps the entries to one a day; it only costs a query more). */
#define OPENED_SLOTS 16384
static struct {
	pthread_mutex_t lock;
	long day;
	size_t used;
	struct { int64_t user, clip; } slot[OPENED_SLOTS];
} opened = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t opened_hash(int64_t user, int64_t clip)
{
	uint64_t h = (uint64_t)user * 0x9E3779B97F4A7C15u ^ (uint64_t)clip * 0xC2B2AE3D27D4EB4Fu;
	return (size_t)(h ^ (h >> 29)) % OPENED_SLOTS;
}

/* Was (user, clip) seen today?  With add, remember it. */
static bool opened_seen(int64_t user, int64_t clip, bool add)
{
	long day = (long)(time(NULL) / 86400);
	bool seen = false;
	pthread_mutex_lock(&opened.lock);
	if (opened.day != day || (add && opened.used >= OPENED_SLOTS / 2)) {
		memset(opened.slot, 0, sizeof opened.slot);
		opened.used = 0;
		opened.day = day;
	}
	for (size_t i = opened_hash(user, clip);; i = (i + 1) % OPENED_SLOTS) {
		if (opened.slot[i].user == user && opened.slot[i].clip == clip) {
			seen = true;
			break;
		}
		if (opened.slot[i].user == 0) {
			if (add) {
				opened.slot[i].user = user;
				opened.slot[i].clip = clip;
				opened.used++;
			}
			break;
		}
	}
	pthread_mutex_unlock(&opened.lock);
	return seen;
}

int audit_opened(struct kd_db *db, const struct audit_actor *who, int64_t clip_id)
{
	if (who->user_id <= 0 || clip_id <= 0 || opened_seen(who->user_id, clip_id, false))
		return 0;
	struct kd_stmt *st;
	int rc = db_stmt(db, "INSERT INTO audit (user_id, user_name, action, clip_id, ip) "
	                     "SELECT ?1, ?2, 'open', ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM audit a "
	                     "WHERE a.clip_id = ?3 AND a.at >= strftime('%Y-%m-%dT00:00:00Z', 'now') "
	                     "AND a.user_id = ?1 AND a.action = 'open')", &st);
	if (rc == 0) {
		db_bind_int64(st, 1, who->user_id);
		bind_cut(st, 2, who->user_name);
		db_bind_int64(st, 3, clip_id);
		bind_cut(st, 4, who->ip);
		int step = db_step(st);
		rc = step == DB_DONE ? 0 : db_err_code(step);
		db_stmt_done(st);
	}
	if (rc < 0) {
		log_error("audit", "could not record that '%s' opened clip %lld: %s", who->user_name,
		          (long long)clip_id, db_errmsg(db));
		return rc;
	}
	opened_seen(who->user_id, clip_id, true);
	return 0;
}

/* ---------------------------------------------------------------- reading */

int audit_filter_check(const struct audit_filter *f, char *err, size_t errlen)
{
	if (f->from && !cat_date_valid(f->from)) {
		snprintf(err, errlen, "the start date '%s' is not a date: write it YYYY-MM-DD", f->from);
		return KD_EINVAL;
	}
	if (f->to && !cat_date_valid(f->to)) {
		snprintf(err, errlen, "the end date '%s' is not a date: write it YYYY-MM-DD", f->to);
		return KD_EINVAL;
	}
	if (f->from && f->to && strcmp(f->from, f->to) > 0) {
		snprintf(err, errlen, "the start date %s is after the end date %s: swap them", f->from,
		         f->to);
		return KD_EINVAL;
	}
	if (f->action && !audit_action_known(f->action)) {
		char known[512] = "";
		size_t len = 0;
		for (size_t i = 0; i < audit_actions_count && len < sizeof known; i++)
			len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "",
			                        audit_actions[i]);
		snprintf(err, errlen, "no action is called '%s'; the actions are: %s", f->action, known);
		return KD_EINVAL;
	}
	if (f->clip_id < 0 || f->before_id < 0 || f->after_id < 0 || f->limit < 0) {
		snprintf(err, errlen, "clip ids, page marks and limits are positive numbers");
		return KD_EINVAL;
	}
	return 0;
}

#define AUDIT_WHERE                                                                         \
	" FROM audit a WHERE (CAST(?1 AS TEXT) IS NULL OR a.at >= ?1)"                          \
	" AND (CAST(?2 AS TEXT) IS NULL OR a.at <= ?2)"                                        \
	" AND (CAST(?3 AS TEXT) IS NULL OR lower(a.user_name) = lower(?3)"                     \
	"      OR a.user_id IN (SELECT u.id FROM users u WHERE lower(u.name) = lower(?3)))"     \
	" AND (?4 = 0 OR a.clip_id = ?4)"                                                      \
	" AND (CAST(?5 AS TEXT) IS NULL OR a.action = ?5)"                                     \
	" AND (?6 = 0 OR a.id < ?6)"                                                          \
	" AND (?8 = 0 OR a.id > ?8)"
#define AUDIT_SELECT                                                                        \
	"SELECT a.id, a.at, coalesce(a.user_id, 0), a.user_name, a.action, "                   \
	"coalesce(a.clip_id, 0), a.target, a.detail, a.ip"

static const char *col(struct kd_stmt *st, int i)
{
	const char *s = (const char *)db_column_text(st, i);
	return s ? s : "";
}

int audit_each(struct kd_db *db, const struct audit_filter *f,
               int (*fn)(void *arg, const struct audit_entry *e), void *arg, char *err,
               size_t errlen)
{
	int rc = audit_filter_check(f, err, errlen);
	if (rc < 0)
		return rc;
	struct kd_stmt *st;
	if (db_prepare(db, f->newest_first ? AUDIT_SELECT AUDIT_WHERE " ORDER BY a.id DESC LIMIT ?7"
	                                   : AUDIT_SELECT AUDIT_WHERE " ORDER BY a.id LIMIT ?7",
	               &st) != DB_OK) {
		snprintf(err, errlen, "cannot read the audit trail: %s", db_errmsg(db));
		return KD_EDB;
	}
	char from[32], to[32];
	if (f->from) {
		snprintf(from, sizeof from, "%sT00:00:00Z", f->from);
		db_bind_text(st, 1, from, -1, DB_TRANSIENT);
	} else {
		db_bind_null(st, 1);
	}
	if (f->to) {
		snprintf(to, sizeof to, "%sT23:59:59Z", f->to);
		db_bind_text(st, 2, to, -1, DB_TRANSIENT);
	} else {
		db_bind_null(st, 2);
	}
	if (f->user)
		db_bind_text(st, 3, f->user, -1, DB_TRANSIENT);
	else
		db_bind_null(st, 3);
	db_bind_int64(st, 4, f->clip_id);
	if (f->action)
		db_bind_text(st, 5, f->action, -1, DB_TRANSIENT);
	else
		db_bind_null(st, 5);
	db_bind_int64(st, 6, f->before_id);
	db_bind_int64(st, 7, f->limit > 0 ? f->limit : INT64_MAX);
	db_bind_int64(st, 8, f->after_id);
	int step;
	rc = 0;
	while (rc == 0 && (step = db_step(st)) == DB_ROW) {
		struct audit_entry e = {
			.id = db_column_int64(st, 0),
			.at = col(st, 1),
			.user_id = db_column_int64(st, 2),
			.user_name = col(st, 3),
			.action = col(st, 4),
			.clip_id = db_column_int64(st, 5),
			.target = col(st, 6),
			.detail = col(st, 7),
			.ip = col(st, 8),
		};
		rc = fn(arg, &e);
	}
	if (rc == 0 && step != DB_DONE) {
		snprintf(err, errlen, "cannot read the audit trail: %s", db_errmsg(db));
		rc = db_err_code(step);
	}
	db_finalize(st);
	return rc;
}

int audit_prune(struct kd_db *db, int months, int64_t *removed)
{
	*removed = 0;
	if (months < 12)
		return KD_EINVAL;
	char mod[32];
	snprintf(mod, sizeof mod, "-%d months", months);
	struct kd_stmt *st;
	if (db_prepare(db, "DELETE FROM audit WHERE at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', "
	                   "CAST(?1 AS TEXT))", &st) != DB_OK)
		return KD_EDB;
	db_bind_text(st, 1, mod, -1, DB_TRANSIENT);
	int step = db_step(st);
	if (step == DB_DONE)
		*removed = db_changes(db);
	db_finalize(st);
	return step == DB_DONE ? 0 : db_err_code(step);
}

/* ---------------------------------------------------------------- failed sign-ins
 * What this process recorded this minute: the (address, name, reason)
 * triples, at most AUDIT_FAILED_PER_MINUTE - 1 of them; the next new one
 * brings one entry saying that the rest of the minute is left out.  The
 * reason counts because single sign-on knows no name the caller can give,
 * but its reasons name the address tried: a school's staff behind one
 * address each get an entry. */
static struct {
	pthread_mutex_t lock;
	long minute;
	int used;
	bool told;
	struct { char ip[64], name[128], why[192]; } seen[AUDIT_FAILED_PER_MINUTE];
} failed = {.lock = PTHREAD_MUTEX_INITIALIZER};

enum failed_verdict { FAILED_RECORD, FAILED_TELL, FAILED_SKIP };

static enum failed_verdict failed_seen(const char *ip, const char *name, const char *why,
                                       long minute)
{
	enum failed_verdict v = FAILED_SKIP;
	pthread_mutex_lock(&failed.lock);
	if (failed.minute != minute) {
		failed.minute = minute;
		failed.used = 0;
		failed.told = false;
	}
	char cut_ip[64], cut_name[128], cut_why[192];
	snprintf(cut_ip, sizeof cut_ip, "%s", ip);
	snprintf(cut_name, sizeof cut_name, "%s", name);
	snprintf(cut_why, sizeof cut_why, "%s", why);
	bool known = false;
	for (int i = 0; i < failed.used && !known; i++)
		known = !strcmp(failed.seen[i].ip, cut_ip) && !strcasecmp(failed.seen[i].name, cut_name) &&
		        !strcmp(failed.seen[i].why, cut_why);
	if (!known && failed.used < AUDIT_FAILED_PER_MINUTE - 1) {
		memcpy(failed.seen[failed.used].ip, cut_ip, sizeof cut_ip);
		memcpy(failed.seen[failed.used].name, cut_name, sizeof cut_name);
		memcpy(failed.seen[failed.used].why, cut_why, sizeof cut_why);
		failed.used++;
		v = FAILED_RECORD;
	} else if (!known && !failed.told) {
		failed.told = true;
		v = FAILED_TELL;
	}
	pthread_mutex_unlock(&failed.lock);
	return v;
}

int audit_sign_in_failed(struct kd_db *db, const char *ip, const char *name, const char *why)
{
	ip = ip ? ip : "";
	name = name ? name : "";
	why = why ? why : "";
	time_t now = time(NULL);
	enum failed_verdict v = failed_seen(ip, name, why, (long)(now / 60));
	if (v == FAILED_SKIP)
		return 0;
	struct audit_actor nobody = {0, "", ip};
	if (v == FAILED_RECORD)
		return audit_add(db, &nobody, AUDIT_SIGN_IN_FAILED, 0, name, why);
	char detail[200], minute[32];
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(minute, sizeof minute, "%Y-%m-%dT%H:%MZ", &tm);
	snprintf(detail, sizeof detail, "more than %d failed sign-ins in the minute %s: the others "
	         "of that minute are not recorded one by one (the server's log has each)",
	         AUDIT_FAILED_PER_MINUTE - 1, minute);
	return audit_add(db, &nobody, AUDIT_SIGN_IN_FAILED, 0, "", detail);
}

/* ---------------------------------------------------------------- the daily prune */

int audit_prune_due(struct kd_db *db, const struct kd_config *cfg)
{
	int64_t removed = 0;
	int rc = audit_prune(db, (int)cfg->audit_months, &removed);
	if (rc == KD_EINVAL)
		log_error("audit", "audit_months is %u: the audit trail is kept at least 12 months; "
		          "nothing was removed", cfg->audit_months);
	else if (rc < 0)
		log_error("audit", "could not remove the audit entries older than %u months: %s",
		          cfg->audit_months, db_errmsg(db));
	else if (removed > 0)
		log_info("audit", "removed %lld audit entries older than %u months (audit_months)",
		         (long long)removed, cfg->audit_months);
	return rc;
}
