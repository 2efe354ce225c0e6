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

#include "http.h"

enum {
	ROUTE_PUBLIC = 1,
	ROUTE_PAGE = 2,
};

struct route {
	const char *method;
	const char *pattern;
	handler_fn fn;       /* answers, once the whole body is in */
	unsigned flags;
	handler_fn begin;    /* for bodies streamed elsewhere: called on the headers */
};

/* Every route, in matching order (for tests that walk them all). */
const struct route *router_table(size_t *n);

/* The route of req->method and req->path, filling req->ids and req->slugs
 * (only those, and req->scratch, are touched); NULL when there is none,
 * with the methods the path does allow in allow ("GET, PATCH"). */
const struct route *router_find(struct request *req, char *allow, size_t allow_len);

/* Route a request: find the handler, check sign-in and CSRF, run it. */
enum MHD_Result router_dispatch(struct request *req);
/* On the headers: does the request's route stream its body?  If so
 * router_begin() signs in and lets the route prepare (or refuse). */
bool router_streams(struct request *req);
enum MHD_Result router_begin(struct request *req);

#endif
