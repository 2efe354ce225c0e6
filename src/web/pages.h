/*
 * pages.h - the catalogue in the browser: the page handlers the router
 * calls, by file, and the parts one page file lends another.  Private to
 * src/web/.
 *
 * Every read goes through the catalogue functions, which apply the
 * privacy rules; pages work without JavaScript (assets/player.js adds the
 * player's extras).
 */
#ifndef KINDLING_WEB_PAGES_H
#define KINDLING_WEB_PAGES_H

#include "html.h"
#include "http.h"
#include "kindling/catalogue.h"

/* pages_login.c */
enum MHD_Result page_login_get(struct request *req);
enum MHD_Result page_login_post(struct request *req);
enum MHD_Result page_logout(struct request *req);
/* Send a page visitor who is not signed in to the login page. */
enum MHD_Result page_sign_in_first(struct request *req);

/* pages_browse.c */
enum MHD_Result page_home(struct request *req);
enum MHD_Result page_practices(struct request *req);
enum MHD_Result page_practice(struct request *req);
enum MHD_Result page_school(struct request *req);
enum MHD_Result page_search(struct request *req);

/* pages_clip.c */
enum MHD_Result page_clip(struct request *req);
enum MHD_Result page_clip_edit(struct request *req);
enum MHD_Result page_comment_add(struct request *req);
enum MHD_Result page_comment_delete(struct request *req);

/* pages_visits.c */
enum MHD_Result page_visit_add(struct request *req);
enum MHD_Result page_visits(struct request *req);
enum MHD_Result page_visit_update(struct request *req);
/* On a clip of another school: the form to ask to visit its classroom.
 * error: why the last request was refused (its values are shown again),
 * or NULL. */
void page_visit_form(struct html *h, struct request *req, const struct cat_clip *c,
                     const char *error);
/* On a school's page, for its principals and admins: a link to its
 * summary and its upcoming visits, hosted and made.  Nothing for others. */
void page_school_visits(struct html *h, struct request *req, const char *school);

/* pages_summary.c */
enum MHD_Result page_school_summary(struct request *req);
enum MHD_Result page_district(struct request *req);

#endif
