/*
 * auth.h - who is asking, and whether a browser really meant to ask:
 * bearer tokens, the session cookie and its CSRF token.  Private to
 * src/web/.
 *
 * A token in the Authorization header is no ambient credential (a page of
 * another site cannot make the browser send it), so only requests signed
 * in by the session cookie must prove their CSRF token: forms in a
 * "csrf" field, the pages' scripts in the X-CSRF-Token header.
 */
#ifndef KINDLING_WEB_AUTH_H
#define KINDLING_WEB_AUTH_H

#include <stdbool.h>

#include "http.h"

/* The session cookie's name. */
#define SESSION_COOKIE "kd_session"
/* How long a browser session lasts. */
#define SESSION_TTL_S (12 * 3600)

/* Set req->user from the Authorization header or session cookie.
 * Returns 0, KD_EAUTH or KD_EDB. */
int auth_request(struct request *req);

/* Is method+path a state-changing API request (POST, PATCH, DELETE...
 * under /api/v1/), which a cookie session may only make with its CSRF
 * token in X-CSRF-Token? */
bool auth_csrf_needed(const char *method, const char *path);
/* Constant-time comparison of a token sent with the session's; false when
 * either is missing or empty. */
bool auth_csrf_equal(const char *got, const char *want);
/* An API request: true unless it needs the header and lacks the token. */
bool auth_api_csrf_ok(struct request *req);
/* A form POST: true when signed in by a bearer token, or the form's "csrf"
 * field carries the session's token. */
bool auth_form_csrf_ok(struct request *req);

#endif
