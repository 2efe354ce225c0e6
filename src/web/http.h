/*
 * http.h - the core every web handler shares: the request and the one way
 * to answer it.  Private to src/web/.
 *
 * A handler gets a request whose user is signed in (unless its route is
 * public) and a database connection borrowed for the request.  It answers
 * with exactly one of the respond_* functions and returns its result.
 * The handlers themselves are declared by family: api.h, pages.h, tus.h,
 * media_files.h, static.h; routing in router.h, sign-in in auth.h.
 */
#ifndef KINDLING_WEB_HTTP_H
#define KINDLING_WEB_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "kindling/buf.h"
#include "kindling/config.h"
#include "kindling/storage.h"
#include "kindling/users.h"

struct kd_db; /* db.h */
struct oidc_provider; /* oidc.h */

struct server;

/* Values captured from the path by {id} and {slug} segments. */
#define ROUTE_MAX_PARAMS 3

struct request {
	struct MHD_Connection *conn;
	const struct server *srv;
	const char *method;
	const char *path;
	struct kd_buf body;      /* request body, capped at cfg->max_body */
	bool body_too_big;
	bool answered;           /* a response has been queued */
	bool signed_in;
	struct kd_user user;     /* valid when signed_in */
	bool by_session;         /* signed in with the session cookie */
	char csrf[USERS_CSRF_MAX]; /* the session's form token, when by_session */
	struct kd_db *db;             /* borrowed for the request */
	int64_t ids[ROUTE_MAX_PARAMS];
	const char *slugs[ROUTE_MAX_PARAMS];
	const void *route;       /* the matched route, once known */
	char scratch[256];       /* the slugs point in here */
	/* A body streamed somewhere else than memory (tus uploads): set by the
	 * route's begin handler; write takes each piece (and, failing, keeps
	 * the reason for the route's final handler to answer with), close (if
	 * set) runs when the request ends, however it ends. */
	void *stream;
	int (*stream_write)(struct request *req, const char *data, size_t len);
	void (*stream_close)(struct request *req);
	/* answers.h: the key this request's answer may be kept under (NULL:
	 * not to be kept), the catalogue's epoch when it was asked, and
	 * keep_off, set by a handler whose answer must not be kept */
	int64_t epoch;           /* the catalogue's (db_epoch) when signed in; 0: not asked */
	char *keep_key;
	size_t keep_key_len;
	int64_t keep_epoch;
	bool keep_off;
	unsigned status;         /* for the access log */
	uint64_t bytes_out;
	struct timespec started;
};

struct server {
	const struct kd_config *cfg;
	struct db_pool *pool;
	struct jobs_runner *runner; /* processes queued clips */
	struct kd_storage *storage; /* where clips' files are (storage.h) */
	char *csp;                  /* the pages' Content-Security-Policy (respond_csp) */
	struct oidc_provider *oidc; /* the identity provider (oidc.h), or NULL: none set */
};

typedef enum MHD_Result (*handler_fn)(struct request *req);

/* A query-string argument, or NULL. */
const char *req_arg(struct request *req, const char *name);
/* A request header, or NULL. */
const char *req_header(struct request *req, const char *name);
/* A strictly decimal query argument in [lo, hi]: 0 with *out (def when
 * absent or empty), or KD_EINVAL. */
int req_int_arg(struct request *req, const char *name, int64_t def, int64_t lo, int64_t hi,
                int64_t *out);
/* s as a JSON string, or null for NULL. */
json_t *json_str_or_null(const char *s);
/* The peer's address as text ("-" when unknown). */
void http_client_address(struct MHD_Connection *conn, char *out, size_t len);
/* Did the request come from one of the trusted_proxies? */
bool req_via_trusted_proxy(struct request *req);
/* The client's address: the peer's, or, through a trusted proxy, the one
 * X-Forwarded-For names (see kd_client_address). */
void req_client_address(struct request *req, char *out, size_t len);

/* Record what the request did in the audit trail (audit.h), as the
 * signed-in person (or kindling, when nobody is) from the client's
 * address; a failure is logged, not answered: the deed is done.
 * req_audit_opened: the person opened clip_id (once a day counts). */
void req_audit(struct request *req, const char *action, int64_t clip_id, const char *target,
               const char *detail);
void req_audit_opened(struct request *req, int64_t clip_id);
/* issue 14: sign-in (user, not yet the request's, came in by how:
 * "password", "single sign-on"); a failed one (name: what was tried, why:
 * what was wrong; bounded per minute, see audit_sign_in_failed); a visit's
 * new status and date, about its clip. */
void req_audit_signed_in(struct request *req, const struct kd_user *user, const char *how);
void req_audit_sign_in_failed(struct request *req, const char *name, const char *why);
void req_audit_visit_answer(struct request *req, int64_t visit_id);

/* Parse the body as a JSON object.  On failure answers 400 (or 415) and
 * returns NULL with the answer's result in *result, for the caller to
 * return. */
json_t *req_json_body(struct request *req, enum MHD_Result *result);

/* How every JSON answer is written, and its type: a piece of JSON made
 * apart (fragments.h) must be made the same way. */
#define RESPOND_JSON_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII)
#define RESPOND_JSON_TYPE "application/json; charset=utf-8"

/* Answer with a JSON value (takes ownership of body, which may be NULL for
 * an empty 204). */
enum MHD_Result respond_json(struct request *req, unsigned status, json_t *body);
/* Answer {"error": message} with status. */
enum MHD_Result respond_error(struct request *req, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with one extra response header (Allow, WWW-Authenticate...). */
enum MHD_Result respond_error_h(struct request *req, unsigned status, const char *hname,
                                const char *hvalue, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Answer with a prepared response (takes ownership of it). */
enum MHD_Result respond(struct request *req, unsigned status, struct MHD_Response *resp);
/* The pages' Content-Security-Policy: this site only, and media_origin
 * ("http://host:port") for pictures and videos when they are served from
 * object storage (NULL: none).  A new string. */
char *respond_csp(const char *media_origin);
/* Answer with an HTML page (html.h); the writer's content is taken. */
struct html;
enum MHD_Result respond_html(struct request *req, unsigned status, struct html *page);
/* The same with one extra response header (Retry-After...). */
enum MHD_Result respond_html_h(struct request *req, unsigned status, struct html *page,
                               const char *hname, const char *hvalue);
/* 303 See Other to location (a path of this site), with an optional
 * Set-Cookie value. */
enum MHD_Result respond_redirect(struct request *req, const char *location,
                                 const char *set_cookie);
/* The same with up to two Set-Cookie values (either may be NULL), and a
 * location that may be another site's (the identity provider's). */
enum MHD_Result respond_redirect_cookies(struct request *req, const char *location,
                                         const char *cookie1, const char *cookie2);
/* Answer with text of a type (takes ownership of text, a malloc'd C
 * string); disposition (Content-Disposition) may be NULL. */
enum MHD_Result respond_text(struct request *req, unsigned status, const char *type,
                             const char *disposition, char *text);
/* The HTTP status that fits a KD_E* code: the one mapping of errors to
 * statuses (400 bad input, 404, 409, 403, 401, 413, 429, 503 busy, else 500). */
unsigned http_status_of(int err);
/* Answer {"error": message} with http_status_of(err). */
enum MHD_Result respond_kd_error(struct request *req, int err, const char *message);

#endif
