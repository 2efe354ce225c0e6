/* accounts.c - administering people, their tokens and sessions (see
 * accounts.h). */
#include "kindling/accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

#define NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

/* The columns fill_person reads, from users u LEFT JOIN schools s.  The
 * last sign-in is the latest use of any token or session (a session that
 * was never used again since it began counts from its start). */
#define PERSON_COLS                                                                         \
	"SELECT u.id, u.name, coalesce(u.email, ''), u.full_name, u.role, u.role_by, "      \
	"CASE WHEN u.sourced_id IS NULL THEN 0 ELSE 1 END, coalesce(u.school_id, 0), "      \
	"coalesce(s.slug, ''), coalesce(s.name, ''), u.disabled, "                          \
	"CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END, coalesce(u.disabled_at, ''), " \
	"u.created_at, coalesce((SELECT max(x.t) FROM (SELECT max(k.last_used_at) AS t "    \
	"FROM tokens k WHERE k.user_id = u.id UNION ALL SELECT max(coalesce(e.last_used_at, " \
	"e.created_at)) FROM sessions e WHERE e.user_id = u.id) x), '') "                   \
	"FROM users u LEFT JOIN schools s ON s.id = u.school_id "

/* The search: ?1 a LIKE pattern, already lowercase ('' for none), ?2 a
 * school's slug, ?3 a role ('' for any), ?4 0 enabled, 1 disabled, 2 any.
 * PostgreSQL's NOCASE collation is not deterministic, and LIKE refuses
 * those: there the columns are compared byte for byte (COLLATE "C") after
 * lower(), which folds ASCII on both engines. */
#define WHERE_SQL(O, E)                                                                     \
	"WHERE (?1 = '' OR lower(" O "u.name" E ") LIKE ?1 ESCAPE '\\' OR "                 \
	"lower(" O "coalesce(u.email, '')" E ") LIKE ?1 ESCAPE '\\' OR "                    \
	"lower(" O "u.full_name" E ") LIKE ?1 ESCAPE '\\') "                                \
	"AND (?2 = '' OR s.slug = ?2) AND (?3 = '' OR u.role = ?3) "                        \
	"AND (?4 = 2 OR (?4 = 1 AND u.disabled <> 0) OR (?4 = 0 AND u.disabled = 0)) "
#define LIST_SQL(O, E) PERSON_COLS WHERE_SQL(O, E) "ORDER BY u.name, u.id LIMIT ?5 OFFSET ?6"
#define COUNT_SQL(O, E) \
	"SELECT count(*) FROM users u LEFT JOIN schools s ON s.id = u.school_id " WHERE_SQL(O, E)

static void copy_text(char *dst, size_t len, struct kd_stmt *st, int col)
{
	const unsigned char *t = db_column_text(st, col);
	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

static void fill_person(struct kd_stmt *st, struct acct_person *p)
{
	memset(p, 0, sizeof *p);
	p->id = db_column_int64(st, 0);
	copy_text(p->name, sizeof p->name, st, 1);
	copy_text(p->email, sizeof p->email, st, 2);
	copy_text(p->full_name, sizeof p->full_name, st, 3);
	const unsigned char *role = db_column_text(st, 4);
	p->role = KD_ROLE_TEACHER;
	if (role)
		users_role_parse((const char *)role, &p->role);
	const unsigned char *by = db_column_text(st, 5);
	p->role_by_roster = by && !strcmp((const char *)by, "roster");
	p->from_roster = db_column_int64(st, 6) != 0;
	p->school_id = db_column_int64(st, 7);
	copy_text(p->school, sizeof p->school, st, 8);
	copy_text(p->school_name, sizeof p->school_name, st, 9);
	p->disabled = db_column_int64(st, 10) != 0;
	p->has_password = db_column_int64(st, 11) != 0;
	copy_text(p->disabled_at, sizeof p->disabled_at, st, 12);
	copy_text(p->created_at, sizeof p->created_at, st, 13);
	copy_text(p->last_seen, sizeof p->last_seen, st, 14);
}

/* "%text%" for LIKE: ASCII lowercase, with \ % _ escaped. */
static char *like_pattern(const char *text)
{
	size_t n = strlen(text), o = 0;
	char *p = kd_malloc(2 * n + 3);
	p[o++] = '%';
	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		if (c == '\\' || c == '%' || c == '_')
			p[o++] = '\\';
		p[o++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	p[o++] = '%';
	p[o] = '\0';
	return p;
}

static void bind_query(struct kd_stmt *st, const struct acct_query *q, const char *pattern)
{
	db_bind_text(st, 1, pattern, -1, DB_STATIC);
	db_bind_text(st, 2, q->school ? q->school : "", -1, DB_STATIC);
	db_bind_text(st, 3, q->role >= 0 ? users_role_name((enum kd_role)q->role) : "", -1,
	             DB_STATIC);
	db_bind_int64(st, 4, q->status == ACCT_ENABLED ? 0 : q->status == ACCT_DISABLED ? 1 : 2);
}

int acct_people_list(struct kd_db *db, const struct acct_query *q, struct acct_person **out,
                     size_t *n, int64_t *total)
{
	*out = NULL;
	*n = 0;
	*total = 0;
	if (q->page < 1 || q->per_page < 1 || q->per_page > ACCT_PER_PAGE_MAX ||
	    q->page > INT64_MAX / q->per_page)
		return KD_EINVAL;
	bool pg = db_backend(db) == DB_POSTGRES;
	char *pattern = like_pattern(q->search ? q->search : "");
	if (!q->search || !*q->search)
		pattern[0] = '\0';
	struct kd_stmt *st;
	int rc = db_stmt(db, pg ? COUNT_SQL("(", " COLLATE \"C\")") : COUNT_SQL("", ""), &st);
	if (rc < 0)
		goto out;
	bind_query(st, q, pattern);
	rc = db_step(st);
	if (rc == DB_ROW)
		*total = db_column_int64(st, 0);
	db_stmt_done(st);
	if (rc != DB_ROW) {
		rc = db_err_code(rc);
		goto out;
	}
	rc = db_stmt(db, pg ? LIST_SQL("(", " COLLATE \"C\")") : LIST_SQL("", ""), &st);
	if (rc < 0)
		goto out;
	bind_query(st, q, pattern);
	db_bind_int64(st, 5, q->per_page);
	db_bind_int64(st, 6, (q->page - 1) * q->per_page);
	size_t cap = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = kd_realloc(*out, cap * sizeof **out);
		}
		fill_person(st, &(*out)[(*n)++]);
	}
	db_stmt_done(st);
	if (rc != DB_DONE) {
		log_error("accounts", "listing people: %s", db_errmsg(db));
		acct_free(*out);
		*out = NULL;
		*n = 0;
		rc = db_err_code(rc);
		goto out;
	}
	rc = 0;
out:
	free(pattern);
	return rc;
}

/* The one person sql (PERSON_COLS and a WHERE on ?1) finds. */
static int one_person(struct kd_db *db, const char *sql, const char *text, int64_t id,
                      struct acct_person *p)
{
	struct kd_stmt *st;
	if (db_stmt(db, sql, &st) < 0)
		return KD_EDB;
	if (text)
		db_bind_text(st, 1, text, -1, DB_STATIC);
	else
		db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		fill_person(st, p);
	else if (rc != DB_DONE)
		log_error("accounts", "reading an account: %s", db_errmsg(db));
	db_stmt_done(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

int acct_person_get(struct kd_db *db, int64_t id, struct acct_person *p)
{
	return one_person(db, PERSON_COLS "WHERE u.id = ?1", NULL, id, p);
}

int acct_person_find(struct kd_db *db, const char *who, struct acct_person *p)
{
	if (!who || !*who)
		return KD_ENOTFOUND;
	int rc = one_person(db, PERSON_COLS "WHERE u.name = ?1", who, 0, p);
	if (rc == KD_ENOTFOUND && strchr(who, '@'))
		rc = one_person(db, PERSON_COLS "WHERE u.email = ?1", who, 0, p);
	size_t n = strlen(who);
	if (rc == KD_ENOTFOUND && n <= 15 && strspn(who, "0123456789") == n)
		rc = acct_person_get(db, strtoll(who, NULL, 10), p);
	return rc;
}

/* The name of another account than id whose column (name or email) is
 * value, into owner: 1, 0 (none) or KD_EDB. */
static int taken(struct kd_db *db, const char *sql, const char *value, int64_t id, char *owner,
                 size_t len)
{
	struct kd_stmt *st;
	if (db_stmt(db, sql, &st) < 0)
		return KD_EDB;
	db_bind_text(st, 1, value, -1, DB_STATIC);
	db_bind_int64(st, 2, id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(owner, len, "%s", (const char *)db_column_text(st, 0));
	db_stmt_done(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : KD_EDB;
}

/* Check c against the rules and the other accounts; fills what the row
 * becomes into *p.  0 or an error with err. */
static int apply_changes(struct kd_db *db, const struct acct_changes *c, struct acct_person *p,
                         bool *role_changed, char *err, size_t errlen)
{
	int rc;
	char owner[101];
	if (c->name) {
		if ((rc = users_check_name(c->name, err, errlen)) < 0)
			return rc;
		rc = taken(db, "SELECT name FROM users WHERE name = ?1 AND id <> ?2", c->name, p->id,
		           owner, sizeof owner);
		if (rc) {
			if (rc < 0)
				snprintf(err, errlen, "cannot read the accounts");
			else
				snprintf(err, errlen, "another account is already named '%s'", owner);
			return rc < 0 ? rc : KD_EEXIST;
		}
		snprintf(p->name, sizeof p->name, "%s", c->name);
	}
	if (c->email) {
		if (*c->email && (rc = users_check_email(c->email, err, errlen)) < 0)
			return rc;
		if (strlen(c->email) >= sizeof p->email) {
			snprintf(err, errlen, "an e-mail address is at most 254 characters");
			return KD_EINVAL;
		}
		rc = *c->email ? taken(db, "SELECT name FROM users WHERE email = ?1 AND id <> ?2",
		                       c->email, p->id, owner, sizeof owner)
		               : 0;
		if (rc) {
			if (rc < 0)
				snprintf(err, errlen, "cannot read the accounts");
			else
				snprintf(err, errlen, "the e-mail address '%s' is already %s's", c->email,
				         owner);
			return rc < 0 ? rc : KD_EEXIST;
		}
		snprintf(p->email, sizeof p->email, "%s", c->email);
	}
	if (c->full_name) {
		if ((rc = users_check_full_name(c->full_name, err, errlen)) < 0)
			return rc;
		snprintf(p->full_name, sizeof p->full_name, "%s", c->full_name);
	}
	*role_changed = false;
	if (c->set_role && c->role != p->role) {
		p->role = c->role;
		*role_changed = true;
	}
	if (c->set_school) {
		int64_t school_id = 0;
		if (c->school && *c->school) {
			struct kd_stmt *st;
			if (db_stmt(db, "SELECT id FROM schools WHERE slug = ?1", &st) < 0)
				return KD_EDB;
			db_bind_text(st, 1, c->school, -1, DB_STATIC);
			rc = db_step(st);
			if (rc == DB_ROW)
				school_id = db_column_int64(st, 0);
			db_stmt_done(st);
			if (rc == DB_DONE) {
				snprintf(err, errlen, "no school with slug '%.63s': 'kindling school add' "
				         "adds one", c->school);
				return KD_ENOTFOUND;
			}
			if (rc != DB_ROW)
				return db_err_code(rc);
		}
		if (school_id != p->school_id) {
			p->school_id = school_id;
			*role_changed = true;
		}
	}
	return 0;
}

int acct_person_update(struct kd_db *db, int64_t id, const struct acct_changes *c, char *err,
                       size_t errlen)
{
	*err = '\0';
	int rc = db_begin(db);
	if (rc < 0) {
		snprintf(err, errlen, "the catalogue is busy: try again");
		return rc;
	}
	struct acct_person p;
	bool role_changed = false;
	rc = acct_person_get(db, id, &p);
	if (rc == KD_ENOTFOUND)
		snprintf(err, errlen, "there is no account with id %lld", (long long)id);
	if (rc == 0)
		rc = apply_changes(db, c, &p, &role_changed, err, errlen);
	if (rc < 0) {
		if (!*err)
			snprintf(err, errlen, "cannot read the account: %s", db_errmsg(db));
		db_rollback(db);
		return rc;
	}
	struct kd_stmt *st;
	if (db_prepare(db, "UPDATE users SET name = ?2, email = ?3, full_name = ?4, role = ?5, "
	                   "school_id = ?6, role_by = CASE WHEN ?7 <> 0 THEN 'kindling' ELSE "
	                   "role_by END WHERE id = ?1", &st) != DB_OK) {
		snprintf(err, errlen, "cannot change the account: %s", db_errmsg(db));
		db_rollback(db);
		return KD_EDB;
	}
	db_bind_int64(st, 1, id);
	db_bind_text(st, 2, p.name, -1, DB_STATIC);
	if (*p.email)
		db_bind_text(st, 3, p.email, -1, DB_STATIC);
	else
		db_bind_null(st, 3);
	db_bind_text(st, 4, p.full_name, -1, DB_STATIC);
	db_bind_text(st, 5, users_role_name(p.role), -1, DB_STATIC);
	if (p.school_id)
		db_bind_int64(st, 6, p.school_id);
	else
		db_bind_null(st, 6);
	db_bind_int64(st, 7, role_changed ? 1 : 0);
	rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		/* a race with another change of the same name or address */
		if ((rc & 0xff) == DB_CONSTRAINT)
			snprintf(err, errlen, "that name or e-mail address was just given to another "
			         "account");
		else
			snprintf(err, errlen, "cannot change the account: %s", db_errmsg(db));
		db_rollback(db);
		return (rc & 0xff) == DB_CONSTRAINT ? KD_EEXIST : db_err_code(rc);
	}
	if ((rc = db_commit(db)) < 0) {
		snprintf(err, errlen, "cannot change the account: %s", db_errmsg(db));
		return rc;
	}
	return 0;
}

/* Run sql (?1 = id) and say how many rows it changed: >= 0, or KD_EDB. */
static int64_t run_id(struct kd_db *db, const char *sql, int64_t id, int64_t id2)
{
	struct kd_stmt *st;
	if (db_stmt(db, sql, &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	if (db_has_param(st, 2))
		db_bind_int64(st, 2, id2);
	int rc = db_step(st);
	db_stmt_done(st);
	if (rc != DB_DONE) {
		log_error("accounts", "%s", db_errmsg(db));
		return db_err_code(rc);
	}
	return db_changes(db);
}

static int exists(struct kd_db *db, int64_t id)
{
	struct acct_person p;
	return acct_person_get(db, id, &p);
}

int acct_person_disable(struct kd_db *db, int64_t id, bool *changed)
{
	int rc = db_begin(db);
	if (rc < 0)
		return rc;
	int64_t n = run_id(db, "UPDATE users SET disabled = 1, disabled_at = " NOW
	                       ", disabled_by = 'kindling' WHERE id = ?1 AND disabled = 0", id, 0);
	if (n == 0)
		n = exists(db, id);
	/* already disabled or not: no session or token of theirs may stay (a
	 * token kept for the day they come back would be a leaver's key) */
	if (n >= 0) {
		int64_t ended = run_id(db, "DELETE FROM sessions WHERE user_id = ?1", id, 0);
		if (ended >= 0)
			ended = run_id(db, "DELETE FROM tokens WHERE user_id = ?1", id, 0);
		if (ended < 0)
			n = ended;
	}
	if (n < 0) {
		db_rollback(db);
		return (int)n;
	}
	if (changed)
		*changed = n > 0;
	return db_commit(db);
}

int acct_person_enable(struct kd_db *db, int64_t id, bool *changed)
{
	int64_t n = run_id(db, "UPDATE users SET disabled = 0, disabled_at = NULL, disabled_by = NULL "
	                       "WHERE id = ?1 AND disabled <> 0", id, 0);
	if (n == 0)
		n = exists(db, id);
	if (n < 0)
		return (int)n;
	if (changed)
		*changed = n > 0;
	return 0;
}

int acct_tokens_list(struct kd_db *db, int64_t user_id, struct acct_token **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct kd_stmt *st;
	if (db_stmt(db, "SELECT k.id, k.user_id, u.name, k.label, k.created_at, "
	                "coalesce(k.expires_at, ''), coalesce(k.last_used_at, ''), "
	                "CASE WHEN k.expires_at IS NOT NULL AND k.expires_at <= " NOW
	                " THEN 1 ELSE 0 END FROM tokens k JOIN users u ON u.id = k.user_id "
	                "WHERE ?1 = 0 OR k.user_id = ?1 ORDER BY k.id DESC", &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, user_id);
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			*out = kd_realloc(*out, cap * sizeof **out);
		}
		struct acct_token *t = &(*out)[(*n)++];
		t->id = db_column_int64(st, 0);
		t->user_id = db_column_int64(st, 1);
		copy_text(t->user_name, sizeof t->user_name, st, 2);
		copy_text(t->name, sizeof t->name, st, 3);
		copy_text(t->created_at, sizeof t->created_at, st, 4);
		copy_text(t->expires_at, sizeof t->expires_at, st, 5);
		copy_text(t->last_used_at, sizeof t->last_used_at, st, 6);
		t->expired = db_column_int64(st, 7) != 0;
	}
	db_stmt_done(st);
	if (rc != DB_DONE) {
		log_error("accounts", "listing tokens: %s", db_errmsg(db));
		acct_free(*out);
		*out = NULL;
		*n = 0;
		return db_err_code(rc);
	}
	return 0;
}

int acct_token_revoke(struct kd_db *db, int64_t id, int64_t owner)
{
	int64_t n = run_id(db, "DELETE FROM tokens WHERE id = ?1 AND (?2 = 0 OR user_id = ?2)", id,
	                   owner);
	return n < 0 ? (int)n : n == 0 ? KD_ENOTFOUND : 0;
}

int acct_sessions_list(struct kd_db *db, int64_t user_id, struct acct_session **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct kd_stmt *st;
	if (db_stmt(db, "SELECT id, created_at, coalesce(last_used_at, ''), expires_at, via, "
	                "client FROM sessions WHERE user_id = ?1 AND expires_at > " NOW
	                " ORDER BY id DESC", &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, user_id);
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			*out = kd_realloc(*out, cap * sizeof **out);
		}
		struct acct_session *s = &(*out)[(*n)++];
		s->id = db_column_int64(st, 0);
		copy_text(s->created_at, sizeof s->created_at, st, 1);
		copy_text(s->last_used_at, sizeof s->last_used_at, st, 2);
		copy_text(s->expires_at, sizeof s->expires_at, st, 3);
		copy_text(s->via, sizeof s->via, st, 4);
		copy_text(s->client, sizeof s->client, st, 5);
	}
	db_stmt_done(st);
	if (rc != DB_DONE) {
		log_error("accounts", "listing sessions: %s", db_errmsg(db));
		acct_free(*out);
		*out = NULL;
		*n = 0;
		return db_err_code(rc);
	}
	return 0;
}

int acct_session_end(struct kd_db *db, int64_t id, int64_t owner)
{
	int64_t n = run_id(db, "DELETE FROM sessions WHERE id = ?1 AND (?2 = 0 OR user_id = ?2)",
	                   id, owner);
	return n < 0 ? (int)n : n == 0 ? KD_ENOTFOUND : 0;
}

int acct_sessions_end_all(struct kd_db *db, int64_t user_id, int64_t keep, int64_t *ended)
{
	int64_t n = run_id(db, "DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2", user_id,
	                   keep);
	if (n < 0)
		return (int)n;
	if (ended)
		*ended = n;
	return 0;
}

void acct_free(void *list)
{
	free(list);
}
