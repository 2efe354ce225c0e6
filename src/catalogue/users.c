/* users.c - accounts, tokens and sessions (see users.h). */
#include "kindling/users.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"

#define SECRET_BYTES 32
#define HASH_BYTES 32

static const char *role_names[] = {"admin", "coach", "principal", "teacher"};

const char *users_role_name(enum kd_role role)
{
	return (unsigned)role < 4 ? role_names[role] : "unknown";
}

int users_role_parse(const char *name, enum kd_role *role)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(name, role_names[i])) {
			*role = (enum kd_role)i;
			return 0;
		}
	return KD_EINVAL;
}

int users_init(void)
{
	return sodium_init() < 0 ? KD_EIO : 0;
}

int users_check_name(const char *name, char *err, size_t errlen)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 100) {
		snprintf(err, errlen, "a user name must be 1 to 100 characters");
		return KD_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
			snprintf(err, errlen, "a user name cannot hold control characters");
			return KD_EINVAL;
		}
	return 0;
}

int users_check_email(const char *email, char *err, size_t errlen)
{
	size_t n = strlen(email);
	const char *at = strchr(email, '@');
	bool ok = n >= 3 && n <= 254 && at && at != email && at[1] && !strchr(at + 1, '@') &&
	          at[1] != '.' && email[n - 1] != '.';
	for (size_t i = 0; ok && i < n; i++)
		if ((unsigned char)email[i] <= 0x20 || email[i] == 0x7f || strchr("<>\"(),;:\\[]", email[i]))
			ok = false;
	if (!ok) {
		snprintf(err, errlen, "'%.254s' is not an e-mail address: write it as name@district.org",
		         email);
		return KD_EINVAL;
	}
	return 0;
}

int users_check_full_name(const char *full_name, char *err, size_t errlen)
{
	size_t n = strlen(full_name);
	if (n > 200) {
		snprintf(err, errlen, "a full name must be at most 200 characters");
		return KD_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)full_name[i] < 0x20 || full_name[i] == 0x7f) {
			snprintf(err, errlen, "a full name cannot hold control characters");
			return KD_EINVAL;
		}
	return 0;
}

/* The argon2id string of password into hash (crypto_pwhash_STRBYTES). */
static int hash_password(const char *password, char *hash, char *err, size_t errlen)
{
	size_t n = strlen(password);
	if (n < 8) {
		snprintf(err, errlen, "the password is too short: use at least 8 characters");
		return KD_EINVAL;
	}
	if (n > 1000) {
		snprintf(err, errlen, "the password is too long: use at most 1000 characters");
		return KD_EINVAL;
	}
	/* INTERACTIVE limits: about 64 MiB and a tenth of a second per login on
	 * a small server, which is what a login page can afford. */
	if (crypto_pwhash_str(hash, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		snprintf(err, errlen, "not enough memory to hash the password");
		return KD_ENOMEM;
	}
	return 0;
}

/* Does a row of users have this e-mail address (in any case)?  Its name
 * into owner.  1, 0, or KD_EDB. */
static int email_owner(struct kd_db *db, const char *email, char *owner, size_t len)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT name FROM users WHERE email = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_text(st, 1, email, -1, DB_STATIC);
	int rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(owner, len, "%s", (const char *)db_column_text(st, 0));
	db_finalize(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : KD_EDB;
}

int users_add(struct kd_db *db, const char *name, enum kd_role role, const char *school,
              const char *password, int64_t *id, char *err, size_t errlen)
{
	struct users_new n = {.name = name, .role = role, .school = school, .password = password};
	return users_create(db, &n, id, err, errlen);
}

int users_create(struct kd_db *db, const struct users_new *n, int64_t *id, char *err,
                 size_t errlen)
{
	int rc = users_check_name(n->name, err, errlen);
	if (rc < 0)
		return rc;
	const char *email = n->email && *n->email ? n->email : NULL;
	if (email && (rc = users_check_email(email, err, errlen)) < 0)
		return rc;
	if (n->full_name && (rc = users_check_full_name(n->full_name, err, errlen)) < 0)
		return rc;
	char hash[crypto_pwhash_STRBYTES];
	if (n->password && (rc = hash_password(n->password, hash, err, errlen)) < 0)
		return rc;
	const char *school = n->school;
	struct kd_stmt *st = NULL;
	rc = db_prepare(db, "INSERT INTO users (name, role, school_id, password_hash, email, "
		"full_name, role_by) VALUES (?1, ?2, (SELECT id FROM schools WHERE slug = ?3), ?4, ?5, "
		"?6, 'kindling') RETURNING id", &st);
	if (rc != DB_OK)
		goto dberr;
	db_bind_text(st, 1, n->name, -1, DB_STATIC);
	db_bind_text(st, 2, users_role_name(n->role), -1, DB_STATIC);
	if (school)
		db_bind_text(st, 3, school, -1, DB_STATIC);
	if (n->password)
		db_bind_text(st, 4, hash, -1, DB_STATIC);
	if (email)
		db_bind_text(st, 5, email, -1, DB_STATIC);
	db_bind_text(st, 6, n->full_name ? n->full_name : "", -1, DB_STATIC);

	if (school) {
		/* Check the school first so the message can say what is wrong. */
		struct kd_stmt *chk;
		if (db_prepare(db, "SELECT 1 FROM schools WHERE slug = ?1", &chk) != DB_OK)
			goto dberr;
		db_bind_text(chk, 1, school, -1, DB_STATIC);
		int found = db_step(chk) == DB_ROW;
		db_finalize(chk);
		if (!found) {
			snprintf(err, errlen,
			         "no school with slug '%s': add it first with 'kindling school add %s NAME'",
			         school, school);
			db_finalize(st);
			return KD_ENOTFOUND;
		}
	}
	char owner[101] = "";
	if (email && (rc = email_owner(db, email, owner, sizeof owner)) != 0) {
		db_finalize(st);
		if (rc < 0)
			goto dberr;
		snprintf(err, errlen, "the e-mail address '%s' is already %s's", email, owner);
		return KD_EEXIST;
	}
	rc = db_step(st);
	if (rc != DB_ROW) {
		if ((rc & 0xff) == DB_CONSTRAINT) {
			snprintf(err, errlen, "a user named '%s' already exists", n->name);
			db_finalize(st);
			return KD_EEXIST;
		}
		goto dberr;
	}
	*id = db_column_int64(st, 0);
	db_finalize(st);
	return 0;
dberr:
	snprintf(err, errlen, "cannot add the user: %s", db_errmsg(db));
	db_finalize(st);
	return KD_EDB;
}

int users_set_password(struct kd_db *db, int64_t id, const char *password, char *err,
                       size_t errlen)
{
	char hash[crypto_pwhash_STRBYTES];
	int rc;
	if (password && (rc = hash_password(password, hash, err, errlen)) < 0)
		return rc;
	struct kd_stmt *st;
	if (db_prepare(db, "UPDATE users SET password_hash = ?2 WHERE id = ?1", &st) != DB_OK) {
		snprintf(err, errlen, "cannot change the password: %s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, id);
	if (password)
		db_bind_text(st, 2, hash, -1, DB_STATIC);
	rc = db_step(st);
	db_finalize(st);
	sodium_memzero(hash, sizeof hash);
	if (rc != DB_DONE) {
		snprintf(err, errlen, "cannot change the password: %s", db_errmsg(db));
		return db_err_code(rc);
	}
	if (db_changes(db) == 0) {
		snprintf(err, errlen, "there is no account with id %lld", (long long)id);
		return KD_ENOTFOUND;
	}
	return 0;
}

static void hash_secret(const char *secret, unsigned char out[HASH_BYTES])
{
	crypto_generichash(out, HASH_BYTES, (const unsigned char *)secret, strlen(secret), NULL, 0);
}

/* Make "kd_<id>_<secret>" with a fresh secret, and the secret's hash. */
static void new_secret(char *secret_b64, size_t len)
{
	unsigned char raw[SECRET_BYTES];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(secret_b64, len, raw, sizeof raw,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

/* Insert a row holding a secret's hash into tokens or sessions, then
 * compose the value the holder keeps.  sql has ?1 user, ?2 hash, ?3 extra
 * (and ?4 extra2 when not NULL), and returns the new row's id. */
static int issue(struct kd_db *db, const char *sql, int64_t user_id, const char *extra,
                 const char *extra2, char *out)
{
	char secret[sodium_base64_ENCODED_LEN(SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	unsigned char hash[HASH_BYTES];
	new_secret(secret, sizeof secret);
	hash_secret(secret, hash);
	struct kd_stmt *st;
	int rc = db_prepare(db, sql, &st);
	if (rc != DB_OK) {
		log_error("users", "%s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, user_id);
	db_bind_blob(st, 2, hash, sizeof hash, DB_STATIC);
	db_bind_text(st, 3, extra, -1, DB_STATIC);
	if (extra2)
		db_bind_text(st, 4, extra2, -1, DB_STATIC);
	rc = db_step(st);
	int64_t id = rc == DB_ROW ? db_column_int64(st, 0) : 0;
	db_finalize(st);
	if (rc != DB_ROW) {
		log_error("users", "cannot store a secret: %s", db_errmsg(db));
		return db_err(rc) ? db_err(rc) : KD_EDB;
	}
	snprintf(out, USERS_TOKEN_MAX, "kd_%" PRId64 "_%s", id, secret);
	sodium_memzero(secret, sizeof secret);
	return 0;
}

int users_token_create(struct kd_db *db, int64_t user_id, const char *label, char *token)
{
	return issue(db, "INSERT INTO tokens (user_id, secret_hash, label) VALUES (?1, ?2, ?3) "
	             "RETURNING id", user_id, label ? label : "", NULL, token);
}

/* Is s a time as the catalogue writes them, "YYYY-MM-DDTHH:MM:SSZ"? */
static bool is_utc_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	if (strlen(s) != sizeof shape - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return false;
	return true;
}

int users_token_issue(struct kd_db *db, int64_t user_id, const char *name,
                      const char *expires_at, int64_t *id, char *token, char *err,
                      size_t errlen)
{
	const char *label = name ? name : "";
	int rc;
	bool control = false;
	for (const char *p = label; *p; p++)
		control |= (unsigned char)*p < 0x20 || *p == 0x7f;
	if (strlen(label) > 100 || control) {
		snprintf(err, errlen, "a token's name is at most 100 characters, without control "
		         "characters");
		return KD_EINVAL;
	}
	if (expires_at && !is_utc_time(expires_at)) {
		snprintf(err, errlen, "an expiry must read YYYY-MM-DDTHH:MM:SSZ");
		return KD_EINVAL;
	}
	rc = issue(db, "INSERT INTO tokens (user_id, secret_hash, label, expires_at) "
	           "VALUES (?1, ?2, ?3, ?4) RETURNING id", user_id, label, expires_at, token);
	if (rc < 0) {
		snprintf(err, errlen, "cannot make a token: %s", db_errmsg(db));
		return rc;
	}
	if (id)
		*id = users_credential_id(token);
	return 0;
}

int users_expiry(const char *what, int64_t now, char *out, char *err, size_t errlen)
{
	size_t n = strlen(what);
	time_t when;
	if (n >= 1 && n <= 4 && strspn(what, "0123456789") == n) {
		long days = strtol(what, NULL, 10);
		if (days < 1 || days > 3650) {
			snprintf(err, errlen, "a token lasts 1 to 3650 days, not %ld", days);
			return KD_EINVAL;
		}
		when = (time_t)(now + days * 86400);
	} else {
		struct tm tm = {0};
		int y, m, d;
		char tail;
		if (n != 10 || what[4] != '-' || what[7] != '-' ||
		    sscanf(what, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 ||
		    d < 1 || d > 31 || y < 1970) {
			snprintf(err, errlen, "'%.40s' is neither a number of days nor a date "
			         "YYYY-MM-DD", what);
			return KD_EINVAL;
		}
		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d;
		struct tm again;
		when = timegm(&tm);
		gmtime_r(&when, &again);
		if (again.tm_mday != tm.tm_mday || again.tm_mon != tm.tm_mon) {
			snprintf(err, errlen, "there is no day %s", what);
			return KD_EINVAL;
		}
		if (when <= (time_t)now) {
			snprintf(err, errlen, "%s is not in the future: give a later day", what);
			return KD_EINVAL;
		}
		if (when > (time_t)now + 3650 * 86400L) {
			snprintf(err, errlen, "a token lasts at most 3650 days (ten years)");
			return KD_EINVAL;
		}
	}
	struct tm tm;
	gmtime_r(&when, &tm);
	strftime(out, USERS_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

int users_session_create(struct kd_db *db, int64_t user_id, long ttl_s, enum users_via via,
                         const char *client, char *sid, char *csrf)
{
	unsigned char raw[24];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(csrf, USERS_CSRF_MAX, raw, sizeof raw,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char sql[400], what[201] = "";
	/* only printable ASCII of the client's own description is kept */
	for (size_t i = 0, n = 0; client && client[i] && n < sizeof what - 1; i++)
		if (client[i] >= 0x20 && client[i] < 0x7f)
			what[n++] = client[i], what[n] = '\0';
	snprintf(sql, sizeof sql,
	         "INSERT INTO sessions (user_id, secret_hash, csrf, expires_at, via, client) "
	         "VALUES (?1, ?2, ?3, strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now', '+%ld seconds'), "
	         "'%s', ?4) RETURNING id",
	         ttl_s, via == USERS_VIA_OIDC ? "oidc" : "password");
	return issue(db, sql, user_id, csrf, what, sid);
}

/* Split "kd_<id>_<secret>".  Returns 0 or KD_EAUTH. */
static int split(const char *value, int64_t *id, const char **secret)
{
	if (strncmp(value, "kd_", 3) != 0)
		return KD_EAUTH;
	const char *p = value + 3;
	int64_t n = 0;
	int digits = 0;
	while (*p >= '0' && *p <= '9' && digits < 18) {
		n = n * 10 + (*p++ - '0');
		digits++;
	}
	if (!digits || *p != '_' || strlen(p + 1) > 64)
		return KD_EAUTH;
	*id = n;
	*secret = p + 1;
	return 0;
}

int64_t users_credential_id(const char *value)
{
	int64_t id;
	const char *secret;
	return value && split(value, &id, &secret) == 0 ? id : 0;
}

static void fill_user(struct kd_stmt *st, int col, struct kd_user *u)
{
	u->id = db_column_int64(st, col);
	users_role_parse((const char *)db_column_text(st, col + 1), &u->role);
	u->school_id = db_column_int64(st, col + 2);
	snprintf(u->name, sizeof u->name, "%s", (const char *)db_column_text(st, col + 3));
	const unsigned char *school = db_column_text(st, col + 4);
	snprintf(u->school, sizeof u->school, "%s", school ? (const char *)school : "");
}

#define USER_COLS "u.id, u.role, coalesce(u.school_id, 0), u.name, s.slug"
#define USER_JOIN "JOIN users u ON u.id = t.user_id LEFT JOIN schools s ON s.id = u.school_id"

/* When a credential stops working, in seconds since 1970; 0: never. */
#define UNTIL "coalesce(CAST(strftime('%s', t.expires_at) AS BIGINT), 0)"
/* 1 when the credential's last use is unrecorded or older than
 * USERS_LAST_USED_S (300 s), 0 otherwise. */
#define STALE "CASE WHEN t.last_used_at IS NULL OR t.last_used_at < " \
	"strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-300 seconds') THEN 1 ELSE 0 END"
_Static_assert(USERS_LAST_USED_S == 300, "STALE spells USERS_LAST_USED_S out");

/* Record that credential id (of the table touch's UPDATE names) was used
 * now.  A failure is logged, never the request's: the sign-in stands. */
static void touch_credential(struct kd_db *db, const char *touch, int64_t id)
{
	struct kd_stmt *st;
	if (db_stmt(db, touch, &st) < 0)
		return;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc != DB_DONE)
		log_warn("users", "cannot record a credential's use: %s", db_errmsg(db));
	db_stmt_done(st);
}

/* sql selects secret_hash, USER_COLS, an extra text, UNTIL and STALE of
 * row ?1; touch records its use (see touch_credential). */
static int check_secret(struct kd_db *db, const char *sql, const char *touch, const char *value,
                        struct kd_user *user, char *extra, size_t extra_len, int64_t *until)
{
	int64_t id;
	const char *secret;
	if (split(value, &id, &secret) < 0)
		return KD_EAUTH;
	struct kd_stmt *st;
	if (db_stmt(db, sql, &st) < 0)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	int result = KD_EAUTH;
	bool stale = false;
	if (rc == DB_ROW) {
		unsigned char want[HASH_BYTES];
		hash_secret(secret, want);
		const void *have = db_column_blob(st, 0);
		if (have && db_column_bytes(st, 0) == HASH_BYTES &&
		    sodium_memcmp(have, want, HASH_BYTES) == 0) {
			fill_user(st, 1, user);
			if (extra)
				snprintf(extra, extra_len, "%s", (const char *)db_column_text(st, 6));
			if (until)
				*until = db_column_int64(st, 7);
			stale = db_column_int64(st, 8) != 0;
			result = 0;
		}
	} else if (rc != DB_DONE) {
		log_error("users", "checking a credential: %s", db_errmsg(db));
		result = db_err(rc);
	}
	db_stmt_done(st);
	if (result == 0 && stale)
		touch_credential(db, touch, id);
	return result;
}

int users_auth_token(struct kd_db *db, const char *token, struct kd_user *user, int64_t *until)
{
	return check_secret(db,
		"SELECT t.secret_hash, " USER_COLS ", '', " UNTIL ", " STALE " FROM tokens t "
		USER_JOIN " WHERE t.id = ?1 AND u.disabled = 0 AND "
		"(t.expires_at IS NULL OR t.expires_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
		"UPDATE tokens SET last_used_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
		"WHERE id = ?1", token, user, NULL, 0, until);
}

int users_auth_session(struct kd_db *db, const char *sid, struct kd_user *user, char *csrf,
                       int64_t *until)
{
	return check_secret(db,
		"SELECT t.secret_hash, " USER_COLS ", t.csrf, " UNTIL ", " STALE " FROM sessions t "
		USER_JOIN " WHERE t.id = ?1 AND u.disabled = 0 AND "
		"t.expires_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
		"UPDATE sessions SET last_used_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
		"WHERE id = ?1", sid, user, csrf, USERS_CSRF_MAX, until);
}

int users_get(struct kd_db *db, int64_t id, struct kd_user *user)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT " USER_COLS " FROM users u LEFT JOIN schools s ON "
	                       "s.id = u.school_id WHERE u.id = ?1 AND u.disabled = 0", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		fill_user(st, 0, user);
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err(rc);
}

int users_find_email(struct kd_db *db, const char *email, struct kd_user *user, bool *disabled)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT " USER_COLS ", u.disabled FROM users u LEFT JOIN schools s ON "
	                   "s.id = u.school_id WHERE u.email = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_text(st, 1, email, -1, DB_STATIC);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		fill_user(st, 0, user);
		*disabled = db_column_int64(st, 5) != 0;
	}
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err(rc);
}

int users_session_delete(struct kd_db *db, const char *sid)
{
	struct kd_user u;
	int64_t id;
	const char *secret;
	/* Only the holder of the whole value may end the session. */
	if (users_auth_session(db, sid, &u, NULL, NULL) < 0 || split(sid, &id, &secret) < 0)
		return 0;
	struct kd_stmt *st;
	if (db_prepare(db, "DELETE FROM sessions WHERE id = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : KD_EDB;
}

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
	unsigned char raw[16];
	randombytes_buf(raw, sizeof raw);
	if (crypto_pwhash_str(dummy_hash, (const char *)raw, sizeof raw,
	                      crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
}

int users_auth_password(struct kd_db *db, const char *name, const char *password,
                        struct kd_user *user)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT u.password_hash, " USER_COLS " FROM users u "
		"LEFT JOIN schools s ON s.id = u.school_id WHERE u.name = ?1 AND u.disabled = 0", &st) != DB_OK)
		return KD_EDB;
	db_bind_text(st, 1, name, -1, DB_STATIC);
	int result = KD_EAUTH;
	const char *hash = NULL;
	if (db_step(st) == DB_ROW)
		hash = (const char *)db_column_text(st, 0);
	if (hash) {
		if (crypto_pwhash_str_verify(hash, password, strlen(password)) == 0) {
			fill_user(st, 1, user);
			result = 0;
		}
	} else {
		/* No such name (or no password): spend the same time, so the
		 * login page does not tell which names exist. */
		pthread_once(&dummy_once, make_dummy_hash);
		if (dummy_hash[0] &&
		    crypto_pwhash_str_verify(dummy_hash, password, strlen(password)) == 0)
			log_warn("users", "a random password was guessed");
	}
	db_finalize(st);
	return result;
}
