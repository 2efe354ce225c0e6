/*
 * layout.h - what every page shares (layout.c): the frame around a page,
 * whole-page messages, reading a posted form, and small pieces shown on
 * several pages.  Private to src/web/.
 *
 * A page is written through html.h into a writer capped at PAGE_MAX.
 */
#ifndef KINDLING_WEB_LAYOUT_H
#define KINDLING_WEB_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/html.h"
#include "http.h"

#define PAGE_MAX (4u << 20)

/* The head, top bar and navigation; then page_end closes the page. */
void page_begin(struct html *h, struct request *req, const char *title);
void page_end(struct html *h);
/* A whole page with a heading and one message. */
enum MHD_Result page_message(struct request *req, unsigned status, const char *title,
                             const char *message);
enum MHD_Result page_not_found(struct request *req, const char *message);
/* "Something went wrong" with the status of err (http_status_of). */
enum MHD_Result page_failed(struct request *req, int err, const char *message);

/* Is the body a urlencoded form?  The n-th value (from 0) of one of its
 * fields, or NULL; the caller frees. */
bool page_form_body(struct request *req);
char *page_field(struct request *req, const char *name);
char *page_field_n(struct request *req, const char *name, int n);
/* The hidden field with the session's CSRF token, for every form. */
void page_csrf_field(struct html *h, struct request *req);
/* The answer to a form without a valid CSRF token. */
enum MHD_Result page_csrf_refused(struct request *req);
/* A form post, checked: urlencoded and carrying the CSRF token.  When it
 * is not, answers (into *answered) and returns false. */
bool page_form_ok(struct request *req, enum MHD_Result *answered);
/* The administration pages: is the person an admin (else a 403 page in
 * *answered, though the router's ROUTE_ADMIN refuses them first)?  And an
 * admin's form: page_admin_only and page_form_ok. */
bool page_admin_only(struct request *req, enum MHD_Result *answered);
bool page_admin_form(struct request *req, enum MHD_Result *answered);
/* A labelled <input> of a type ("text", "email", "password"...); value:
 * what was typed, else the current value (NULL: empty). */
void page_input(struct html *h, const char *id, const char *label, const char *name,
                const char *type, const char *value, const char *maxlength, bool required);

/* path with the request's query string, its param= replaced by page (left
 * out when page is 0 or 1): for links to other pages of a list, and back
 * after signing in.  The caller frees. */
char *page_self_url(struct request *req, const char *path, const char *param, int64_t page);
/* Links to the previous and next pages of a list of total items shown
 * per_page at a time, its page number in the query argument param; fragment
 * ("#notes", or NULL) is added to the links.  Nothing for a single page. */
void page_pagination(struct html *h, struct request *req, const char *path, const char *param,
                     int64_t page, int64_t total, int64_t per_page, const char *fragment);
/* The page number in query argument param: 1 when absent or malformed,
 * at most max. */
int64_t page_number(struct request *req, const char *param, int64_t max);

/* The clip of the path (req->ids[0]) if the user may see it: true with
 * *c filled (cat_clip_free it), or false with the not-found or failure
 * page answered into *answered. */
struct cat_clip;
bool page_load_clip(struct request *req, struct cat_clip *c, enum MHD_Result *answered);

/* s, or NULL when it is NULL or empty. */
const char *page_nonempty(const char *s);
/* A length as shown: "m:ss" or "h:mm:ss". */
void page_duration(double s, char *out, size_t len);
/* <p class="error" role="alert" id=ID>message</p>; id may be NULL. */
void page_error(struct html *h, const char *id, const char *message);
/* issue 15: a table that may be wider than a phone: it scrolls sideways in a box of its
 * own instead of the whole page (WCAG 1.4.10), a box keyboard users can focus to scroll it
 * (2.1.1) and that is named for screen readers by label.  page_wide_end closes it. */
void page_wide_begin(struct html *h, const char *label);
void page_wide_end(struct html *h);

#endif
