/*
 * accounts.h - administering people and their credentials: finding and
 * listing accounts, changing them, disabling and enabling them, and the
 * API tokens and browser sessions each holds.  The shell (kindling user
 * and token), /account and /admin/users all go through these; who may do
 * what is the caller's to decide (an owner argument narrows a change to
 * one person's own credentials).
 *
 * Making accounts and credentials and checking them is users.h's.  People
 * are disabled, never deleted: their clips and notes keep an author.
 * Disabling ends a person's sessions at once; their tokens are refused
 * while they are disabled (users_auth_token) and work again once enabled.
 *
 * Times are UTC text as the catalogue keeps them, "YYYY-MM-DDTHH:MM:SSZ",
 * "" when there is none.  Results are the caller's to free (acct_free).
 */
#ifndef KINDLING_ACCOUNTS_H
#define KINDLING_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/users.h"

struct kd_db; /* db.h */

#define ACCT_TIME_MAX USERS_TIME_MAX

/* One account, as an administrator sees it. */
struct acct_person {
	int64_t id;
	char name[101];
	char email[255];          /* "" when none */
	char full_name[201];
	enum kd_role role;
	bool role_by_roster;      /* the roster set the role (role_by): a re-import may change it */
	bool from_roster;         /* the roster knows this person (sourced_id) */
	int64_t school_id;        /* 0: none */
	char school[64];          /* its slug, "" when none */
	char school_name[201];
	bool disabled;
	bool has_password;
	char disabled_at[ACCT_TIME_MAX];
	char created_at[ACCT_TIME_MAX];
	char last_seen[ACCT_TIME_MAX]; /* the last use of any of their tokens or sessions */
};

/* Whom acct_people_list shows. */
enum acct_status { ACCT_ENABLED, ACCT_DISABLED, ACCT_ANY };

struct acct_query {
	const char *search;       /* part of a name, e-mail address or full name (any case); NULL or "": all */
	const char *school;       /* a school's slug; NULL or "": any */
	int role;                 /* an enum kd_role, or -1: any */
	enum acct_status status;
	int64_t page, per_page;   /* from 1; per_page 1 to ACCT_PER_PAGE_MAX */
};
#define ACCT_PER_PAGE_MAX 1000

/* The accounts q asks for, by name: a new array of *n (acct_free it) and
 * *total, how many match in all pages.  0, KD_EINVAL (a bad page) or
 * KD_EDB. */
int acct_people_list(struct kd_db *db, const struct acct_query *q, struct acct_person **out,
                     size_t *n, int64_t *total);

/* Account id, enabled or not: 0, KD_ENOTFOUND or KD_EDB. */
int acct_person_get(struct kd_db *db, int64_t id, struct acct_person *p);
/* The account who names: its name, else its e-mail address (both in any
 * case), else, when who is a number, its id.  0, KD_ENOTFOUND or KD_EDB. */
int acct_person_find(struct kd_db *db, const char *who, struct acct_person *p);

/* What acct_person_update changes: NULL (or false) leaves a field as it
 * is. */
struct acct_changes {
	const char *name;
	const char *email;        /* "": no address */
	const char *full_name;
	bool set_role;
	enum kd_role role;
	bool set_school;
	const char *school;       /* a slug, or NULL / "": no school */
};
/* Change account id.  A role or school that changes counts as set in
 * kindling (role_by), so a roster import leaves it be.  0, or with err:
 * KD_ENOTFOUND (no such account or school), KD_EEXIST (the name or e-mail
 * address is another account's), KD_EINVAL, KD_EDB. */
int acct_person_update(struct kd_db *db, int64_t id, const struct acct_changes *c, char *err,
                       size_t errlen);

/* Disable account id (disabled_at now) and end all its sessions; or
 * enable it again.  *changed (may be NULL) says whether it was not so
 * already.  0, KD_ENOTFOUND or KD_EDB. */
int acct_person_disable(struct kd_db *db, int64_t id, bool *changed);
int acct_person_enable(struct kd_db *db, int64_t id, bool *changed);

/* An API token, never its secret. */
struct acct_token {
	int64_t id;
	int64_t user_id;
	char user_name[101];
	char name[101];           /* the label it was given, "" when none */
	char created_at[ACCT_TIME_MAX];
	char expires_at[ACCT_TIME_MAX]; /* "": until revoked */
	char last_used_at[ACCT_TIME_MAX];
	bool expired;
};

/* The tokens of account user_id (0: everyone's), newest first: a new
 * array of *n.  0 or KD_EDB. */
int acct_tokens_list(struct kd_db *db, int64_t user_id, struct acct_token **out, size_t *n);
/* Revoke (delete) token id, which must be owner's (0: anyone's, for an
 * administrator).  0, KD_ENOTFOUND (no such token, or not owner's) or
 * KD_EDB.  A revoked token is refused at once (the catalogue's epoch
 * moves). */
int acct_token_revoke(struct kd_db *db, int64_t id, int64_t owner);

/* A browser session that has not expired. */
struct acct_session {
	int64_t id;
	char created_at[ACCT_TIME_MAX];
	char last_used_at[ACCT_TIME_MAX];
	char expires_at[ACCT_TIME_MAX];
	char via[16];             /* "password" or "oidc" */
	char client[201];         /* the browser's description (its User-Agent) */
};

/* The live sessions of account user_id, newest first: a new array of *n.
 * 0 or KD_EDB. */
int acct_sessions_list(struct kd_db *db, int64_t user_id, struct acct_session **out, size_t *n);
/* End session id, which must be owner's (0: anyone's).  0, KD_ENOTFOUND or
 * KD_EDB. */
int acct_session_end(struct kd_db *db, int64_t id, int64_t owner);
/* End every session of user_id but keep (0: none); *ended (may be NULL)
 * says how many.  0 or KD_EDB. */
int acct_sessions_end_all(struct kd_db *db, int64_t user_id, int64_t keep, int64_t *ended);

/* Free an array from acct_people_list, acct_tokens_list or
 * acct_sessions_list; NULL is a no-op. */
void acct_free(void *list);

#endif
