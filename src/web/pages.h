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

#include "kindling/html.h"
#include "http.h"
#include "kindling/catalogue.h"

/* pages_login.c */
enum MHD_Result page_login_get(struct request *req);
enum MHD_Result page_login_post(struct request *req);
enum MHD_Result page_logout(struct request *req);
/* Send a page visitor who is not signed in to the login page. */
enum MHD_Result page_sign_in_first(struct request *req);
/* Is next a path of this site (not "//host" or "/\\host", which browsers
 * read as another site), fit to send a browser to after signing in? */
bool page_safe_next(const char *next);

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

/* pages_clip_governance.c (issue 14: the clip page's governance) */
/* Instead of the player, for a clip whose consent was withdrawn (when, by
 * whom, why) or whose files are being made again with new blur regions:
 * writes the notice and returns true; false (nothing written) otherwise. */
bool page_clip_media_notice(struct html *h, struct request *req, const struct cat_clip *c);
/* The sections for those who may edit the clip: its consent record and
 * form, its blur regions and editor (assets/blur.js); for admins legal
 * hold and the original for a records request.  Nothing for others. */
void page_clip_governance(struct html *h, struct request *req, const struct cat_clip *c);
/* POST /clips/{id}/consent, /blur (editors), /hold, /hold/lift (admins). */
enum MHD_Result page_clip_consent(struct request *req);
enum MHD_Result page_clip_blur(struct request *req);
enum MHD_Result page_clip_hold(struct request *req);
enum MHD_Result page_clip_hold_lift(struct request *req);

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

/* pages_oidc.c */
enum MHD_Result page_oidc_start(struct request *req);
enum MHD_Result page_oidc_callback(struct request *req);

/* pages_account.c */
/* /account: the signed-in person's details, API tokens and sessions. */
enum MHD_Result page_account(struct request *req);
enum MHD_Result page_account_token_add(struct request *req);
enum MHD_Result page_account_token_revoke(struct request *req);
enum MHD_Result page_account_session_end(struct request *req);
enum MHD_Result page_account_sessions_end_others(struct request *req);
/* A catalogue time "YYYY-MM-DDTHH:MM:SSZ" in a <time>, as "YYYY-MM-DD
 * HH:MM UTC"; dash when t is NULL or empty. */
void page_time(struct html *h, const char *t, const char *dash);
/* Tables of a person's tokens and sessions, each row with its form: POST
 * <base>/tokens/{id}/revoke, <base>/sessions/{id}/end.  current: the
 * session to mark as this browser's (0: none). */
struct acct_token;
struct acct_session;
void page_tokens_table(struct html *h, struct request *req, const struct acct_token *ts,
                       size_t n, const char *base);
void page_sessions_table(struct html *h, struct request *req, const struct acct_session *ss,
                         size_t n, const char *base, int64_t current);

/* pages_admin_users.c */
/* /admin/users and /admin/users/{id}, for admins (403 for others). */
enum MHD_Result page_admin_users(struct request *req);
enum MHD_Result page_admin_user_add(struct request *req);
enum MHD_Result page_admin_user(struct request *req);
enum MHD_Result page_admin_user_edit(struct request *req);
enum MHD_Result page_admin_user_disable(struct request *req);
enum MHD_Result page_admin_user_enable(struct request *req);
enum MHD_Result page_admin_user_password(struct request *req);
enum MHD_Result page_admin_user_token_revoke(struct request *req);
enum MHD_Result page_admin_user_session_end(struct request *req);

/* pages_admin_catalogue.c */
/* /admin/schools and /admin/practices, for admins (403 for others). */
enum MHD_Result page_admin_schools(struct request *req);
enum MHD_Result page_admin_school_add(struct request *req);
enum MHD_Result page_admin_school_edit(struct request *req);
enum MHD_Result page_admin_practices(struct request *req);
enum MHD_Result page_admin_practice_add(struct request *req);
enum MHD_Result page_admin_practice_edit(struct request *req);
enum MHD_Result page_admin_practice_retire(struct request *req);
enum MHD_Result page_admin_practice_unretire(struct request *req);
enum MHD_Result page_admin_practice_merge(struct request *req);

/* pages_roster.c */
enum MHD_Result page_admin_roster(struct request *req);
enum MHD_Result page_admin_roster_upload(struct request *req);
enum MHD_Result page_admin_roster_apply(struct request *req);

/* pages_admin_audit.c (issue 14) */
/* /admin/audit: the audit trail with its filters, newest first, for admins;
 * /admin/audit.csv: what the filters match, as `kindling audit --format csv`. */
enum MHD_Result page_admin_audit(struct request *req);
enum MHD_Result page_admin_audit_csv(struct request *req);

#endif
