/*
 * answers.h - whole answers kept for the next identical request.
 *
 * A teacher pages back and forth through a practice, a principal opens
 * the same school page each morning: the same question, answered again
 * from the catalogue each time.  A route marked ROUTE_KEEP keeps its 200
 * answers in memory (the response object itself, which MHD can send to
 * any number of connections), for the same person and the same address
 * only:
 *   - the key is the signed-in person (and, for a browser, the session,
 *     whose form token the pages carry) with the path and every query
 *     argument: nobody is ever sent an answer made for someone else, so
 *     the privacy rule holds as it did when the answer was made;
 *   - an answer is kept for one epoch of the catalogue (db_epoch): any
 *     change, by this process or another, and the next request is
 *     answered afresh; and never longer than ANSWERS_TTL seconds, since
 *     pages speak of "today";
 *   - conditional and Range requests are never answered from here.
 * Memory is bounded (answers_limit): room is made from answers no longer
 * good (another epoch, too old), never by pushing out a good one.
 * Thread-safe.  Private to src/web/.
 */
#ifndef KINDLING_WEB_ANSWERS_H
#define KINDLING_WEB_ANSWERS_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

#define ANSWERS_TTL 30

/* How much memory answers may take (the answer_cache_mb setting); 0 keeps
 * none.  Call before serving. */
void answers_limit(size_t bytes);

/* For a signed-in GET on a ROUTE_KEEP route: answer from memory and return
 * true, or note the request's key (for answers_keep) and return false. */
bool answers_try(struct request *req);

/* Called with every response queued: keep it if the request may be kept
 * and it is a 200.  Returns true when kept (the caller must then not
 * destroy resp: the cache holds it, and destroys it when it goes). */
bool answers_keep(struct request *req, unsigned status, struct MHD_Response *resp);

/* Forget everything (tests, shutdown). */
void answers_clear(void);

#endif
