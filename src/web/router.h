/*
 * router.h - the table of routes: method, path pattern, handler, and who
 * may call it.  Private to src/web/.
 *
 * Patterns are "/"-separated segments; "{id}" matches a positive integer
 * (into req->ids), "{slug}" up to 64 bytes of anything but '/' (into
 * req->slugs; the handler checks its form).  Every route needs a signed-in
 * user unless it is ROUTE_PUBLIC; a page (ROUTE_PAGE) sends a visitor who
 * is not signed in to the login page instead of answering 401.
 */
#ifndef KINDLING_WEB_ROUTER_H
#define KINDLING_WEB_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

enum {
	ROUTE_PUBLIC = 1,
	ROUTE_PAGE = 2,
	ROUTE_KEEP = 4, /* its answers may be kept for the same request again (answers.h) */
	ROUTE_ADMIN = 8, /* admins only: others are refused (403) before the body is read */
	ROUTE_LARGE = 16, /* its max_body is its own, above the max_body_kb setting (an
	                   * admin's upload of a roster); only with ROUTE_ADMIN */
	ROUTE_SCRAPE = 32, /* also open to a scraper sending the metrics_token setting as its
	                    * bearer token, signed in as nobody (metrics.h) */
};

struct route {
	const char *method;
	const char *pattern;
	handler_fn fn;       /* answers, once the whole body is in */
	unsigned flags;
	size_t max_body;     /* bytes of request body it takes */
	handler_fn begin;    /* for bodies streamed elsewhere: called on the headers */
};

/* Every route, in matching order (for tests that walk them all). */
const struct route *router_table(size_t *n);

/* The route of req->method and req->path, filling req->ids and req->slugs
 * (only those, and req->scratch, are touched); NULL when there is none,
 * with the methods the path does allow in allow ("GET, PATCH"). */
const struct route *router_find(struct request *req, char *allow, size_t allow_len);

/* On the headers.  A request that carries a body (has_body; length is
 * its Content-Length, or UINT64_MAX when unknown) is judged now, before a
 * byte of it is read: no route (404, 405), too large for its route (413),
 * not signed in (401 or the login page), a browser without its CSRF
 * token (403); a route that streams its body is asked to begin.  Answers
 * at once when refused.  Other requests only learn their route here. */
enum MHD_Result router_headers(struct request *req, bool has_body, uint64_t length);
/* The largest body the request's route takes (SIZE_MAX for a stream). */
size_t router_body_max(const struct request *req);
/* Once the body is in: check sign-in and CSRF (if not done on the
 * headers) and run the route's handler. */
enum MHD_Result router_dispatch(struct request *req);

#endif
