/* oidc_login.c - the sign-ins under way, table oidc_logins (see oidc.h).
 *
 * The state itself is not stored, only its BLAKE2b hash: what the table
 * holds cannot be replayed to the callback by someone who reads it. */
#include "kindling/oidc.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"

#define STATE_HASH_BYTES 32

static void state_hash(const char *state, char hex[STATE_HASH_BYTES * 2 + 1])
{
	unsigned char h[STATE_HASH_BYTES];
	crypto_generichash(h, sizeof h, (const unsigned char *)state, strlen(state), NULL, 0);
	sodium_bin2hex(hex, STATE_HASH_BYTES * 2 + 1, h, sizeof h);
}

/* Sign-ins never finished (the person closed the tab) go when any other
 * is stored or taken. */
static int forget_expired(struct kd_db *db, int64_t now)
{
	struct kd_stmt *st;
	if (db_prepare(db, "DELETE FROM oidc_logins WHERE expires_at < ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, now);
	int rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}

int oidc_login_put(struct kd_db *db, const char *state, const char *nonce, const char *verifier,
                   const char *next, int64_t now)
{
	if (!state || !*state || !nonce || !verifier)
		return KD_EINVAL;
	char hex[STATE_HASH_BYTES * 2 + 1];
	state_hash(state, hex);
	int rc = forget_expired(db, now);
	if (rc != 0)
		return rc;
	struct kd_stmt *st;
	if (db_prepare(db, "INSERT INTO oidc_logins (state_hash, nonce, verifier, next, expires_at) "
	                   "VALUES (?1, ?2, ?3, ?4, ?5)", &st) != DB_OK)
		return KD_EDB;
	db_bind_text(st, 1, hex, -1, DB_STATIC);
	db_bind_text(st, 2, nonce, -1, DB_STATIC);
	db_bind_text(st, 3, verifier, -1, DB_STATIC);
	db_bind_text(st, 4, next && *next ? next : "/", -1, DB_STATIC);
	db_bind_int64(st, 5, now + OIDC_LOGIN_TTL_S);
	rc = db_step(st);
	if (rc != DB_DONE)
		log_error("oidc", "cannot store a sign-in under way: %s", db_errmsg(db));
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}

/* Copy a stored value, all of it or nothing. */
static bool copy_all(char *dst, size_t cap, const unsigned char *src)
{
	size_t n = src ? strlen((const char *)src) : 0;
	if (!dst || n >= cap)
		return false;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}

int oidc_login_take(struct kd_db *db, const char *state, int64_t now, char *nonce,
                    size_t noncelen, char *verifier, size_t verifierlen, char *next,
                    size_t nextlen)
{
	if (!state || !*state)
		return KD_EAUTH;
	char hex[STATE_HASH_BYTES * 2 + 1];
	state_hash(state, hex);
	struct kd_stmt *st;
	/* Read and deleted at once: of two callbacks with the same state, one
	 * gets the row and the other nothing. */
	if (db_prepare(db, "DELETE FROM oidc_logins WHERE state_hash = ?1 "
	                   "RETURNING nonce, verifier, next, expires_at", &st) != DB_OK)
		return KD_EDB;
	db_bind_text(st, 1, hex, -1, DB_STATIC);
	int rc = db_step(st), result = KD_EAUTH;
	if (rc == DB_ROW) {
		bool fits = copy_all(nonce, noncelen, db_column_text(st, 0)) &&
		            copy_all(verifier, verifierlen, db_column_text(st, 1));
		if (fits && !copy_all(next, nextlen, db_column_text(st, 2)))
			fits = copy_all(next, nextlen, (const unsigned char *)"/");
		if (!fits)
			result = KD_EINVAL;
		else if (db_column_int64(st, 3) >= now)
			result = 0;
		rc = db_step(st);
	}
	if (rc != DB_DONE) {
		log_error("oidc", "cannot take back a sign-in under way: %s", db_errmsg(db));
		result = KD_EDB;
	}
	db_finalize(st);
	if (result != 0 && nonce && noncelen)
		*nonce = '\0';
	if (result != 0 && verifier && verifierlen)
		*verifier = '\0';
	/* (a failure here leaves rows that the next sign-in removes) */
	if (forget_expired(db, now) != 0)
		log_warn("oidc", "cannot remove expired sign-ins: %s", db_errmsg(db));
	return result;
}
