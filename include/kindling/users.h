/*
 * users.h - accounts, API tokens and browser sessions.
 *
 * Secrets are never stored.  Passwords are kept as libsodium argon2id
 * strings; tokens and session ids as BLAKE2b hashes.  A token reads
 * "kd_<row id>_<secret>": checking one is a lookup by row id and a
 * constant-time comparison of hashes, so the time taken says nothing about
 * how much of a guess was right.
 */
#ifndef KINDLING_USERS_H
#define KINDLING_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kd_db; /* db.h */

enum kd_role { KD_ROLE_ADMIN, KD_ROLE_COACH, KD_ROLE_PRINCIPAL, KD_ROLE_TEACHER };

/* Who is asking.  Filled by users_auth_*; strings owned by the struct. */
struct kd_user {
	int64_t id;
	enum kd_role role;
	int64_t school_id; /* 0: none */
	char name[101];
	char school[64];   /* school slug, "" for none */
};

const char *users_role_name(enum kd_role role);
/* Returns 0 and sets *role, or KD_EINVAL for an unknown name. */
int users_role_parse(const char *name, enum kd_role *role);

/* Call once before any other function here (initialises libsodium). */
int users_init(void);

/* Create a user.  school may be NULL; password may be NULL (no password
 * login).  On success *id is the new row.  Errors: KD_EEXIST (name taken),
 * KD_ENOTFOUND (no such school), KD_EINVAL, KD_EDB; err says which.
 * (users_create with no e-mail address and no full name.) */
int users_add(struct kd_db *db, const char *name, enum kd_role role, const char *school,
              const char *password, int64_t *id, char *err, size_t errlen);

/* A new account, as users_create takes it.  Only name is required. */
struct users_new {
	const char *name;      /* 1 to 100 characters, unique whatever the case */
	enum kd_role role;
	const char *school;    /* a school's slug, or NULL */
	const char *email;     /* the address sign-in and mail use, or NULL */
	const char *full_name; /* up to 200 characters, or NULL */
	const char *password;  /* at least 8 characters, or NULL: no password login */
};
/* Create the account n describes; its role counts as set in kindling
 * (role_by).  Errors as users_add, and KD_EEXIST for an e-mail address
 * another account has (in any case), KD_EINVAL for one that is not an
 * address. */
int users_create(struct kd_db *db, const struct users_new *n, int64_t *id, char *err,
                 size_t errlen);

/* The rules for an account's fields, for whoever changes them: 0, or
 * KD_EINVAL with the reason in err.  An e-mail address is 3 to 254
 * printable characters without spaces, with one '@' between a non-empty
 * local part and a domain; a full name is up to 200 characters without
 * control characters; a password at least 8 and at most 1000 bytes. */
int users_check_name(const char *name, char *err, size_t errlen);
int users_check_email(const char *email, char *err, size_t errlen);
int users_check_full_name(const char *full_name, char *err, size_t errlen);

/* Set (password not NULL) or remove (NULL: no password login) the
 * password of account id, stored as users_add stores it.  0, KD_ENOTFOUND,
 * KD_EINVAL (too short), KD_ENOMEM or KD_EDB, with err. */
int users_set_password(struct kd_db *db, int64_t id, const char *password, char *err,
                       size_t errlen);

/* Issue a new API token for a user.  On success token (of size at least
 * USERS_TOKEN_MAX) holds the secret token to give to the user, once. */
#define USERS_TOKEN_MAX 80
int users_token_create(struct kd_db *db, int64_t user_id, const char *label, char *token);
/* The same with a name of up to 100 characters (NULL: none) and an
 * expiry: expires_at is a UTC time "YYYY-MM-DDTHH:MM:SSZ" (see
 * users_expiry), or NULL for a token that lasts until revoked.  *id (may be
 * NULL) receives the token's row id.  0, KD_EINVAL (with err) or KD_EDB. */
int users_token_issue(struct kd_db *db, int64_t user_id, const char *name,
                      const char *expires_at, int64_t *id, char *token, char *err,
                      size_t errlen);
/* When a token asked to last for what (a number of days, 1 to 3650, or a
 * date "YYYY-MM-DD" after today: the token stops at 00:00 UTC that day)
 * expires, from now (seconds since 1970), as "YYYY-MM-DDTHH:MM:SSZ" into
 * out (USERS_TIME_MAX).  0, or KD_EINVAL with the reason in err. */
#define USERS_TIME_MAX 21
int users_expiry(const char *what, int64_t now, char *out, char *err, size_t errlen);
/* The row id a token or session cookie names ("kd_<id>_..."), or 0 when
 * value is not of that form.  Says nothing about whether it is valid. */
int64_t users_credential_id(const char *value);

/* Check a bearer token.  Returns 0 and fills *user, KD_EAUTH for a wrong,
 * revoked or expired token or a disabled user, KD_EDB on failure.  until
 * (may be NULL) receives when it expires, in seconds since 1970 (0:
 * never), for a caller that remembers the check.  A good token's
 * last_used_at is written when it is unset or older than
 * USERS_LAST_USED_S: a write moves the catalogue's epoch (db_epoch), which
 * empties what servers keep, so it is never written on every request. */
#define USERS_LAST_USED_S 300
int users_auth_token(struct kd_db *db, const char *token, struct kd_user *user, int64_t *until);

/* Check a password.  Returns 0 and fills *user, or KD_EAUTH. */
int users_auth_password(struct kd_db *db, const char *name, const char *password,
                        struct kd_user *user);

/* Start a browser session that lasts ttl_s seconds.  sid (USERS_TOKEN_MAX)
 * receives the cookie value, csrf (USERS_CSRF_MAX) the form token. */
#define USERS_CSRF_MAX 48
/* How a session began, shown to its holder on /account. */
enum users_via { USERS_VIA_PASSWORD, USERS_VIA_OIDC };
/* client: a short description of the browser (its User-Agent, cut to 200
 * bytes), or NULL. */
int users_session_create(struct kd_db *db, int64_t user_id, long ttl_s, enum users_via via,
                         const char *client, char *sid, char *csrf);

/* Check a session cookie value.  Fills *user, csrf and until (either may
 * be NULL), and records its use, as users_auth_token. */
int users_auth_session(struct kd_db *db, const char *sid, struct kd_user *user, char *csrf,
                       int64_t *until);

/* The enabled user with this id.  Returns 0, KD_ENOTFOUND or KD_EDB. */
int users_get(struct kd_db *db, int64_t id, struct kd_user *user);

/* The account whose e-mail address is email (compared without regard to
 * case), enabled or not: 0 with *user and *disabled filled, KD_ENOTFOUND
 * or KD_EDB. */
int users_find_email(struct kd_db *db, const char *email, struct kd_user *user, bool *disabled);

/* End a session; an unknown one is not an error. */
int users_session_delete(struct kd_db *db, const char *sid);

#endif
