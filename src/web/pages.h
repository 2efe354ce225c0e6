/*
 * pages.h - what the page files (pages.c, pages_visits.c,
 * pages_summary.c) share: the layout, messages, forms and their CSRF
 * check.  Private to src/web/.
 */
#ifndef KINDLING_WEB_PAGES_H
#define KINDLING_WEB_PAGES_H

#include <stdbool.h>

#include "html.h"
#include "http.h"

#define PAGE_MAX (4u << 20)

/* The head, top bar and navigation; then page_end closes the page. */
void page_begin(struct html *h, struct request *req, const char *title);
void page_end(struct html *h);
/* A whole page with a heading and one message. */
enum MHD_Result page_message(struct request *req, unsigned status, const char *title,
                             const char *message);
enum MHD_Result not_found(struct request *req, const char *message);
/* Is the body a urlencoded form?  A field of it (first value), or NULL. */
bool form_body(struct request *req);
char *field(struct request *req, const char *name);
/* Does the form carry the session's CSRF token (bearer requests need none)? */
bool csrf_ok(struct request *req);
enum MHD_Result csrf_refused(struct request *req);
/* The hidden field with the session's CSRF token. */
void csrf_field(struct html *h, struct request *req);
/* s, or NULL when it is NULL or empty. */
const char *nonempty(const char *s);

/* On a school's page, for its principals and admins: a link to its
 * summary and its upcoming visits, hosted and made.  Nothing for others. */
void school_visits_block(struct html *h, struct request *req, const char *school);
/* Is s a slug (1-64 lower-case letters, digits, dashes)? */
bool is_slug(const char *s);

#endif
