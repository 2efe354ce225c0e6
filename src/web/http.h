/*
 * http.h - what the web handlers share: the request, routing, responses.
 * Private to src/web/.
 *
 * A handler gets a request whose user is signed in (unless its route is
 * public) and a database connection borrowed for the request.  It answers
 * with exactly one of the respond_* functions and returns its result.
 */
#ifndef KINDLING_WEB_HTTP_H
#define KINDLING_WEB_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/config.h"
#include "kindling/users.h"

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
	sqlite3 *db;             /* borrowed for the request */
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
	unsigned status;         /* for the access log */
	uint64_t bytes_out;
	struct timespec started;
};

struct server {
	const struct kd_config *cfg;
	struct db_pool *pool;
	struct jobs_runner *runner; /* processes queued clips */
};

typedef enum MHD_Result (*handler_fn)(struct request *req);

/* A query-string argument, or NULL. */
const char *req_arg(struct request *req, const char *name);
/* A request header, or NULL. */
const char *req_header(struct request *req, const char *name);

/* Parse the body as a JSON object.  On failure answers 400 (or 413) and
 * returns NULL; the caller then returns req->answered's result via
 * respond_done(). */
json_t *req_json_body(struct request *req, enum MHD_Result *result);

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
/* Answer with an HTML page (html.h); the writer's content is taken. */
struct html;
enum MHD_Result respond_html(struct request *req, unsigned status, struct html *page);
/* 303 See Other to location (a path of this site), with an optional
 * Set-Cookie value. */
enum MHD_Result respond_redirect(struct request *req, const char *location,
                                 const char *set_cookie);
/* Answer with text of a type (takes ownership of text, a malloc'd C
 * string); disposition (Content-Disposition) may be NULL. */
enum MHD_Result respond_text(struct request *req, unsigned status, const char *type,
                             const char *disposition, char *text);
/* Map a KD_E* code to the fitting status and answer with message. */
enum MHD_Result respond_kd_error(struct request *req, int err, const char *message);

/* Route a request: find the handler, check sign-in, run it. */
enum MHD_Result router_dispatch(struct request *req);
/* On the headers: does the request's route stream its body?  If so
 * router_begin() signs in and lets the route prepare (or refuse). */
bool router_streams(struct request *req);
enum MHD_Result router_begin(struct request *req);

/* Is method+path a state-changing API request (POST, PATCH, DELETE...
 * under /api/v1/), which a cookie session may only make with its CSRF
 * token in the X-CSRF-Token header? */
bool api_csrf_needed(const char *method, const char *path);
/* Constant-time comparison of a token sent with the session's; false when
 * either is missing or empty. */
bool csrf_token_equal(const char *got, const char *want);

/* The session cookie's name. */
#define SESSION_COOKIE "kd_session"
/* How long a browser session lasts. */
#define SESSION_TTL_S (12 * 3600)

/* Set req->user from the Authorization header or session cookie.
 * Returns 0, KD_EAUTH or KD_EDB. */
int auth_request(struct request *req);

/* Parse one Range header value against a file of size bytes: 1 with the
 * inclusive [*from, *to] set, 0 to ignore it (absent, several ranges, other
 * unit, malformed), -1 when it cannot be satisfied (answer 416). */
int http_parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to);

/* A PATCH body turned into a catalogue edit.  The strings point into the
 * JSON value, which must outlive the edit; the arrays are owned here. */
struct clip_edit_json {
	struct cat_clip_edit edit;
	const char **practices;
	const char **tags;
};
/* Returns 0, or KD_EINVAL with a message saying which field is wrong.
 * Release ej in either case. */
int clip_edit_from_json(json_t *body, struct clip_edit_json *ej, char *err, size_t errlen);
void clip_edit_json_release(struct clip_edit_json *ej);

/* Handlers. */
enum MHD_Result api_clips_list(struct request *req);
enum MHD_Result api_clip_get(struct request *req);
enum MHD_Result api_clip_patch(struct request *req);
enum MHD_Result api_clip_delete(struct request *req);
enum MHD_Result api_schools_list(struct request *req);
enum MHD_Result api_practices_list(struct request *req);
enum MHD_Result api_me(struct request *req);
enum MHD_Result api_healthz(struct request *req);
enum MHD_Result api_visit_create(struct request *req);
enum MHD_Result api_visit_patch(struct request *req);
enum MHD_Result api_visit_get(struct request *req);
enum MHD_Result api_visits_list(struct request *req);
enum MHD_Result api_visit_ics(struct request *req);
enum MHD_Result api_clip_view(struct request *req);
enum MHD_Result api_school_summary(struct request *req);
enum MHD_Result api_district_summary(struct request *req);
enum MHD_Result media_get(struct request *req);
enum MHD_Result page_login_get(struct request *req);
enum MHD_Result page_login_post(struct request *req);
enum MHD_Result page_logout(struct request *req);
enum MHD_Result page_home(struct request *req);
enum MHD_Result page_practices(struct request *req);
enum MHD_Result page_practice(struct request *req);
enum MHD_Result page_school(struct request *req);
enum MHD_Result page_clip(struct request *req);
enum MHD_Result page_clip_edit(struct request *req);
enum MHD_Result page_comment_add(struct request *req);
enum MHD_Result page_search(struct request *req);
enum MHD_Result page_visit_add(struct request *req);
enum MHD_Result page_visits(struct request *req);
enum MHD_Result page_visit_update(struct request *req);
enum MHD_Result page_school_summary(struct request *req);
enum MHD_Result page_district(struct request *req);
enum MHD_Result asset_get(struct request *req);
/* Send a page visitor who is not signed in to the login page. */
enum MHD_Result page_sign_in_first(struct request *req);
/* The URL path of an embedded asset, with its version. */
const char *asset_url(const char *name, char *out, size_t outlen);
enum MHD_Result tus_options(struct request *req);
enum MHD_Result tus_create(struct request *req);
enum MHD_Result tus_head(struct request *req);
enum MHD_Result tus_patch_begin(struct request *req);
enum MHD_Result tus_patch_end(struct request *req);
enum MHD_Result tus_delete(struct request *req);
/* Remove uploads that got no bytes for max_age_s seconds (and finished
 * ones kept for late HEADs). */
int tus_expire(const struct kd_config *cfg, unsigned max_age_s);

#endif
