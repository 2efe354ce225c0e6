/*
 * oidc.h - signing people in through the district's identity provider
 * (OpenID Connect: Google Workspace, Microsoft Entra, ...).
 *
 * The flow is the authorization code flow with PKCE, state and nonce.  The
 * web layer owns the HTTP routes; this module owns everything that must be
 * right for the sign-in to be safe:
 *
 *   - the provider's discovery document (issuer, endpoints, jwks_uri),
 *     fetched from <issuer>/.well-known/openid-configuration, and its
 *     signing keys (JWKS), kept and fetched again when a token names a key
 *     that is not known (the provider rotated them), at most every
 *     OIDC_JWKS_MIN_REFETCH_S counted from the last such refetch (so a
 *     rotation right after the first fetch is seen at once); every request
 *     bounded to 10 s and 1 MiB, no redirects followed, https only (http
 *     to 127.0.0.1, [::1] or localhost, for tests);
 *   - the sign-ins under way (table oidc_logins): a begun sign-in stores
 *     the hash of its state with its nonce, PKCE verifier and the page to
 *     return to; taking it back deletes it, so a state works once;
 *   - the code exchange at the token endpoint (client_secret_basic);
 *   - the ID token's check: a JWS signed with one of the provider's keys by
 *     an asymmetric algorithm (RS256/384/512, PS*, ES*; never "none", never
 *     HS*), iss equal to the issuer, aud holding the client id (and azp,
 *     when there are several audiences), exp in the future and iat not in
 *     the future (OIDC_LEEWAY_S either way), nonce equal to the one stored;
 *   - who the person is: the e-mail claim (email_verified not false), its
 *     domain (and Google's hd claim, when present) among the allowed
 *     domains, and an enabled account with that address.
 *
 * Thread-safe: one struct oidc_provider is shared by the request threads.
 */
#ifndef KINDLING_OIDC_H
#define KINDLING_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/users.h"

struct kd_db;

#define OIDC_LEEWAY_S 120
#define OIDC_LOGIN_TTL_S 600       /* a begun sign-in must come back within */
#define OIDC_JWKS_MIN_REFETCH_S 30 /* between fetches of the JWKS for an unknown key */

/* The settings of oidc_provider_new. */
struct oidc_settings {
	const char *issuer;        /* https://accounts.google.com (no trailing '/') */
	const char *client_id;
	const char *client_secret;
	const char *domains;       /* "a.org, b.org"; NULL or "": any domain */
};

/* What the ID token says of the person. Strings are NUL-terminated, cut
 * to their size. */
struct oidc_claims {
	char sub[256];
	char email[321];
	bool email_verified;       /* false only when the claim says false */
	char hd[256];              /* Google's hosted domain, "" when absent */
	char name[201];
};

struct oidc_provider;

/* Make a provider from settings (copied).  Nothing is fetched yet.
 * Returns 0, KD_EINVAL or KD_ENOMEM with the reason in err. */
int oidc_provider_new(const struct oidc_settings *s, struct oidc_provider **out, char *err,
                      size_t errlen);
void oidc_provider_free(struct oidc_provider *p);

/* Fetch the discovery document (once; again only after a failure).
 * Returns 0 or KD_EIO / KD_EINVAL with a reason for an admin in err. */
int oidc_discover(struct oidc_provider *p, char *err, size_t errlen);

/* Begin a sign-in: store a new state, nonce and PKCE verifier with next
 * (a path of this site) in oidc_logins, and make the URL of the provider's
 * authorization endpoint to send the browser to (a new string in *url).
 * redirect_uri: <public_url>/auth/oidc/callback.  Discovers first if
 * needed.  Returns 0, KD_EIO (provider unreachable), KD_EDB. */
int oidc_begin(struct oidc_provider *p, struct kd_db *db, const char *redirect_uri,
               const char *next, char **url, char *err, size_t errlen);

/* As oidc_begin, and also gives the state (OIDC_STATE_MAX bytes, may be
 * NULL) for the web layer to bind to the browser: a cookie set here and
 * compared with the callback's state, so that a sign-in begun in one
 * browser cannot be finished in another (a forged login).  The URL asks
 * for response_type=code, scope "openid email profile", client_id,
 * redirect_uri, state, nonce, code_challenge and code_challenge_method
 * S256; state and nonce are 43 characters of base64url (32 random bytes).
 * A next that is not a path of this site (not "/...", or "//...",
 * "/\...", control characters, over 1024 bytes) is stored as "/". */
#define OIDC_STATE_MAX 64
int oidc_begin_state(struct oidc_provider *p, struct kd_db *db, const char *redirect_uri,
                     const char *next, char **url, char *state, char *err, size_t errlen);

/* Finish a sign-in: take back the sign-in stored under state (deleting
 * it: a replayed state is refused), exchange code for tokens, verify the
 * ID token (its nonce against the stored one) and find the person.
 * On success *user is the enabled account and next (of size nextlen) the
 * page to return to.  Errors, with err in words for the person signing
 * in (what went wrong and whom to ask):
 *   KD_EAUTH     missing, unknown, expired or replayed state; a token that
 *                fails any check; an e-mail address or domain not allowed;
 *   KD_ENOTFOUND no account has this address (nothing is created);
 *   KD_EPERM     the account is disabled;
 *   KD_EIO       the provider (its token endpoint or keys) could not be
 *                reached, or it refused the code;
 *   KD_EDB.
 * Details for an admin are logged (facility "oidc").  code may be NULL
 * (KD_EAUTH, the state still used up); next is "/" on failure. */
int oidc_finish(struct oidc_provider *p, struct kd_db *db, const char *state, const char *code,
                const char *redirect_uri, struct kd_user *user, char *next, size_t nextlen,
                char *err, size_t errlen);

/* The checks of oidc_finish, apart, for tests and fuzzing. */

/* Verify an ID token (compact JWS) against a JWKS document (JSON text) at
 * time now.  Returns 0 with *claims filled, or KD_EAUTH with the failed
 * check in err; KD_ENOTFOUND when the token names a key (kid) the JWKS
 * lacks (the caller fetches the keys again and retries).  nonce is
 * required (NULL or "" refuses every token).  A key of the JWKS is used
 * when its kty fits the algorithm (RSA of at least 2048 bits; EC on the
 * algorithm's curve), its "use" (if any) is "sig", its "alg" (if any) is
 * the token's, and its kid is the token's (a token without kid: each such
 * key is tried).  sub, email and hd over their size refuse the token;
 * name is cut. */
int oidc_verify_id_token(const char *jwt, const char *jwks_json, const char *issuer,
                         const char *client_id, const char *nonce, int64_t now,
                         struct oidc_claims *claims, char *err, size_t errlen);

/* Is the address's domain (and hd, when not empty) among domains ("a.org,
 * b.org"; NULL or empty: every domain)?  Case-insensitive. */
bool oidc_domain_allowed(const char *domains, const char *email, const char *hd);

/* The person for verified claims: checks email_verified and the domain,
 * then users_find_email.  Errors as oidc_finish. */
int oidc_person(struct kd_db *db, const char *domains, const struct oidc_claims *claims,
                struct kd_user *user, char *err, size_t errlen);

/* Store a begun sign-in (state, nonce, verifier, next) in oidc_logins and
 * take it back: oidc_login_take deletes the row (and expired ones) and
 * returns 0, KD_EAUTH (unknown, used or expired), KD_EINVAL (nonce or
 * verifier do not fit their buffers; a next that does not fit becomes
 * "/") or KD_EDB.  now: seconds since 1970; a sign-in lasts
 * OIDC_LOGIN_TTL_S.  oidc_login_put also removes expired rows and returns
 * 0, KD_EINVAL (no state) or KD_EDB. */
int oidc_login_put(struct kd_db *db, const char *state, const char *nonce, const char *verifier,
                   const char *next, int64_t now);
int oidc_login_take(struct kd_db *db, const char *state, int64_t now, char *nonce,
                    size_t noncelen, char *verifier, size_t verifierlen, char *next,
                    size_t nextlen);

#endif
