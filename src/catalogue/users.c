/* users.c - accounts, tokens and sessions (see users.h). */
#include "kindling/users.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int users_add(struct kd_db *db, const char *name, enum kd_role role, const char *school,
              const char *password, int64_t *id, char *err, size_t errlen)
{
	size_t nlen = strlen(name);
	if (nlen == 0 || nlen > 100) {
		snprintf(err, errlen, "a user name must be 1 to 100 characters");
		return KD_EINVAL;
	}
	char hash[crypto_pwhash_STRBYTES];
	if (password) {
		if (strlen(password) < 8) {
			snprintf(err, errlen, "the password is too short: use at least 8 characters");
			return KD_EINVAL;
		}
		/* INTERACTIVE limits: about 64 MiB and a tenth of a second per
		 * login on a small server, which is what a login page can afford. */
		if (crypto_pwhash_str(hash, password, strlen(password),
		                      crypto_pwhash_OPSLIMIT_INTERACTIVE,
		                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
			snprintf(err, errlen, "not enough memory to hash the password");
			return KD_ENOMEM;
		}
	}
	struct kd_stmt *st = NULL;
	int rc = db_prepare(db, "INSERT INTO users (name, role, school_id, password_hash) "
		"VALUES (?1, ?2, (SELECT id FROM schools WHERE slug = ?3), ?4) RETURNING id", &st);
	if (rc != DB_OK)
		goto dberr;
	db_bind_text(st, 1, name, -1, DB_STATIC);
	db_bind_text(st, 2, users_role_name(role), -1, DB_STATIC);
	if (school)
		db_bind_text(st, 3, school, -1, DB_STATIC);
	if (password)
		db_bind_text(st, 4, hash, -1, DB_STATIC);

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
	rc = db_step(st);
	if (rc != DB_ROW) {
		if ((rc & 0xff) == DB_CONSTRAINT) {
			snprintf(err, errlen, "a user named '%s' already exists", name);
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

static int check_secret(struct kd_db *db, const char *sql, const char *value, struct kd_user *user,
                        char *extra, size_t extra_len, int64_t *until)
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
			result = 0;
		}
	} else if (rc != DB_DONE) {
		log_error("users", "checking a credential: %s", db_errmsg(db));
		result = db_err(rc);
	}
	db_stmt_done(st);
	return result;
}

int users_auth_token(struct kd_db *db, const char *token, struct kd_user *user, int64_t *until)
{
	return check_secret(db,
		"SELECT t.secret_hash, " USER_COLS ", '', " UNTIL " FROM tokens t " USER_JOIN
		" WHERE t.id = ?1 AND u.disabled = 0 AND "
		"(t.expires_at IS NULL OR t.expires_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
		token, user, NULL, 0, until);
}

int users_auth_session(struct kd_db *db, const char *sid, struct kd_user *user, char *csrf,
                       int64_t *until)
{
	return check_secret(db,
		"SELECT t.secret_hash, " USER_COLS ", t.csrf, " UNTIL " FROM sessions t " USER_JOIN
		" WHERE t.id = ?1 AND u.disabled = 0 AND "
		"t.expires_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
		sid, user, csrf, USERS_CSRF_MAX, until);
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
