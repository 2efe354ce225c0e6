/* router.c - the table of routes, path matching and the sign-in check
 * (see router.h). */
#include "router.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answers.h"
#include "api.h"
#include "auth.h"
#include "layout.h"
#include "media_files.h"
#include "metrics.h"
#include "pages.h"
#include "pages_mail.h" /* issue 16 */
#include "pages_moments.h"
#include "static.h"
#include "tus.h"
#include "kindling/captions.h" /* issue 15: CAPTIONS_BYTES_MAX */
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"

/* The largest body each kind of route takes (the max_body_kb setting caps
 * them all); a body beyond it is refused on the headers, unread. */
#define NO_BODY 0
#define SMALL_BODY (4u << 10)    /* sign-in, sign-out, a view */
#define FORM_BODY (32u << 10)    /* a page's form: a note, an edit */
#define JSON_BODY (64u << 10)    /* an API object */

#define ROUTE(m, p, f, fl, body) \
	{.method = m, .pattern = p, .fn = f, .flags = fl, .max_body = body}

static const struct route routes[] = {
	ROUTE("GET", "/healthz", api_healthz, ROUTE_PUBLIC, NO_BODY),
	ROUTE("GET", "/metrics", api_metrics, ROUTE_ADMIN | ROUTE_SCRAPE, NO_BODY),
	ROUTE("GET", "/api/v1/me", api_me, 0, NO_BODY),
	ROUTE("GET", "/api/v1/clips", api_clips_list, ROUTE_KEEP, NO_BODY),
	ROUTE("GET", "/api/v1/clips/{id}", api_clip_get, ROUTE_KEEP, NO_BODY),
	ROUTE("PATCH", "/api/v1/clips/{id}", api_clip_patch, 0, JSON_BODY),
	ROUTE("DELETE", "/api/v1/clips/{id}", api_clip_delete, 0, NO_BODY),
	/* governance of one clip (api_governance.c, media_files.c) */
	ROUTE("GET", "/api/v1/clips/{id}/blur", api_clip_blur_get, 0, NO_BODY),
	ROUTE("PUT", "/api/v1/clips/{id}/blur", api_clip_blur_put, 0, JSON_BODY),
	ROUTE("GET", "/api/v1/clips/{id}/consent", api_clip_consent_get, 0, NO_BODY),
	ROUTE("PUT", "/api/v1/clips/{id}/hold", api_clip_hold_put, ROUTE_ADMIN, SMALL_BODY),
	ROUTE("DELETE", "/api/v1/clips/{id}/hold", api_clip_hold_delete, ROUTE_ADMIN, NO_BODY),
	ROUTE("GET", "/api/v1/clips/{id}/original", media_original, ROUTE_ADMIN, NO_BODY),
	/* issue 15: captions (api_captions.c); a WebVTT or SRT file as the body */
	ROUTE("PUT", "/api/v1/clips/{id}/captions", api_clip_captions_put, 0, CAPTIONS_BYTES_MAX),
	ROUTE("DELETE", "/api/v1/clips/{id}/captions", api_clip_captions_delete, 0, NO_BODY),
	ROUTE("GET", "/api/v1/schools", api_schools_list, ROUTE_KEEP, NO_BODY),
	ROUTE("GET", "/api/v1/practices", api_practices_list, ROUTE_KEEP, NO_BODY),
	ROUTE("POST", "/api/v1/clips/{id}/views", api_clip_view, 0, SMALL_BODY),
	ROUTE("GET", "/api/v1/clips/{id}/notes", api_notes_list, ROUTE_KEEP, NO_BODY),
	ROUTE("POST", "/api/v1/clips/{id}/notes", api_note_add, 0, JSON_BODY),
	ROUTE("DELETE", "/api/v1/notes/{id}", api_note_delete, 0, NO_BODY),
	/* issue 15: moments (api_moments.c) */
	ROUTE("GET", "/api/v1/clips/{id}/moments", api_clip_moments, ROUTE_KEEP, NO_BODY),
	ROUTE("POST", "/api/v1/clips/{id}/moments", api_moment_add, 0, JSON_BODY),
	ROUTE("GET", "/api/v1/moments", api_moments_list, ROUTE_KEEP, NO_BODY),
	ROUTE("PATCH", "/api/v1/moments/{id}", api_moment_patch, 0, JSON_BODY),
	ROUTE("DELETE", "/api/v1/moments/{id}", api_moment_delete, 0, NO_BODY),
	ROUTE("GET", "/api/v1/visits", api_visits_list, 0, NO_BODY),
	ROUTE("POST", "/api/v1/visits", api_visit_create, 0, JSON_BODY),
	ROUTE("GET", "/api/v1/visits/{id}", api_visit_get, 0, NO_BODY),
	ROUTE("PATCH", "/api/v1/visits/{id}", api_visit_patch, 0, JSON_BODY),
	ROUTE("GET", "/api/v1/visits/{id}/ics", api_visit_ics, 0, NO_BODY),
	ROUTE("GET", "/api/v1/schools/{slug}/summary", api_school_summary, 0, NO_BODY),
	ROUTE("GET", "/api/v1/summary", api_district_summary, 0, NO_BODY),
	/* issue 15: how a practice spread (api_spread.c) */
	ROUTE("GET", "/api/v1/practices/{slug}/spread", api_practice_spread, ROUTE_KEEP, NO_BODY),
	/* issue 16: following a practice (api_follow.c); a PUT's body is ignored */
	ROUTE("GET", "/api/v1/practices/{slug}/follow", api_follow_get, 0, NO_BODY),
	ROUTE("PUT", "/api/v1/practices/{slug}/follow", api_follow_put, 0, SMALL_BODY),
	ROUTE("DELETE", "/api/v1/practices/{slug}/follow", api_follow_delete, 0, NO_BODY),
	/* tus 1.0.0: core, creation, termination (tus.c) */
	ROUTE("OPTIONS", "/api/v1/uploads", tus_options, ROUTE_PUBLIC, NO_BODY),
	ROUTE("POST", "/api/v1/uploads", tus_create, 0, NO_BODY),
	ROUTE("HEAD", "/api/v1/uploads/{slug}", tus_head, 0, NO_BODY),
	/* the body streams to disk: tus_patch_begin checks its length */
	{.method = "PATCH", .pattern = "/api/v1/uploads/{slug}", .fn = tus_patch_end, .flags = 0,
	 .begin = tus_patch_begin},
	ROUTE("DELETE", "/api/v1/uploads/{slug}", tus_delete, 0, NO_BODY),
	ROUTE("GET", "/media/clips/{id}/{slug}", media_get, ROUTE_KEEP, NO_BODY),
	/* pages (pages_*.c) */
	ROUTE("GET", "/login", page_login_get, ROUTE_PUBLIC, NO_BODY),
	ROUTE("POST", "/login", page_login_post, ROUTE_PUBLIC, SMALL_BODY),
	ROUTE("POST", "/logout", page_logout, ROUTE_PUBLIC, SMALL_BODY),
	ROUTE("GET", "/", page_home, ROUTE_PAGE | ROUTE_KEEP, NO_BODY),
	ROUTE("GET", "/practices", page_practices, ROUTE_PAGE | ROUTE_KEEP, NO_BODY),
	ROUTE("GET", "/practices/{slug}", page_practice, ROUTE_PAGE | ROUTE_KEEP, NO_BODY),
	ROUTE("GET", "/schools/{slug}", page_school, ROUTE_PAGE | ROUTE_KEEP, NO_BODY),
	ROUTE("GET", "/clips/{id}", page_clip, ROUTE_PAGE | ROUTE_KEEP, NO_BODY),
	ROUTE("POST", "/clips/{id}/edit", page_clip_edit, ROUTE_PAGE, FORM_BODY),
	ROUTE("POST", "/clips/{id}/comments", page_comment_add, ROUTE_PAGE, FORM_BODY),
	ROUTE("POST", "/clips/{id}/comments/{id}/delete", page_comment_delete, ROUTE_PAGE,
	      SMALL_BODY),
	/* issue 15: a clip's moments in the browser (pages_moments.c) */
	ROUTE("GET", "/clips/{id}/chapters.vtt", page_clip_chapters, ROUTE_PAGE | ROUTE_KEEP, NO_BODY),
	ROUTE("POST", "/clips/{id}/moments", page_moment_add, ROUTE_PAGE, FORM_BODY),
	ROUTE("POST", "/clips/{id}/moments/{id}", page_moment_edit, ROUTE_PAGE, FORM_BODY),
	ROUTE("POST", "/clips/{id}/moments/{id}/delete", page_moment_delete, ROUTE_PAGE,
	      SMALL_BODY),
	/* issue 14: the clip page's governance forms (pages_clip_governance.c) */
	ROUTE("POST", "/clips/{id}/consent", page_clip_consent, ROUTE_PAGE, FORM_BODY),
	ROUTE("POST", "/clips/{id}/blur", page_clip_blur, ROUTE_PAGE, FORM_BODY),
	ROUTE("POST", "/clips/{id}/hold", page_clip_hold, ROUTE_PAGE | ROUTE_ADMIN, FORM_BODY),
	ROUTE("POST", "/clips/{id}/hold/lift", page_clip_hold_lift, ROUTE_PAGE | ROUTE_ADMIN,
	      SMALL_BODY),
	ROUTE("GET", "/search", page_search, ROUTE_PAGE | ROUTE_KEEP, NO_BODY),
	ROUTE("POST", "/clips/{id}/visit", page_visit_add, ROUTE_PAGE, FORM_BODY),
	ROUTE("GET", "/visits", page_visits, ROUTE_PAGE, NO_BODY),
	ROUTE("POST", "/visits/{id}", page_visit_update, ROUTE_PAGE, FORM_BODY),
	ROUTE("GET", "/schools/{slug}/summary", page_school_summary, ROUTE_PAGE, NO_BODY),
	ROUTE("GET", "/district", page_district, ROUTE_PAGE, NO_BODY),
	/* signing in through the district's identity provider (pages_oidc.c) */
	ROUTE("GET", "/auth/oidc", page_oidc_start, ROUTE_PUBLIC, NO_BODY),
	ROUTE("GET", "/auth/oidc/callback", page_oidc_callback, ROUTE_PUBLIC, NO_BODY),
	/* a person's own account: tokens and sessions (pages_account.c) */
	ROUTE("GET", "/account", page_account, ROUTE_PAGE, NO_BODY),
	ROUTE("POST", "/account/tokens", page_account_token_add, ROUTE_PAGE, SMALL_BODY),
	ROUTE("POST", "/account/tokens/{id}/revoke", page_account_token_revoke, ROUTE_PAGE,
	      SMALL_BODY),
	ROUTE("POST", "/account/sessions/{id}/end", page_account_session_end, ROUTE_PAGE,
	      SMALL_BODY),
	ROUTE("POST", "/account/sessions/end-others", page_account_sessions_end_others, ROUTE_PAGE,
	      SMALL_BODY),
	/* issue 16: mail (pages_mail.c): the switches, following from the
	 * practice page, and a mail's one-click unsubscribe link, which needs no
	 * sign-in (its secret is the proof) */
	ROUTE("POST", "/account/mail", page_account_mail_save, ROUTE_PAGE, SMALL_BODY),
	ROUTE("POST", "/practices/{slug}/follow", page_practice_follow, ROUTE_PAGE, SMALL_BODY),
	ROUTE("GET", "/mail/unsubscribe", page_unsubscribe_get, ROUTE_PUBLIC | ROUTE_PAGE, NO_BODY),
	ROUTE("POST", "/mail/unsubscribe", page_unsubscribe_post, ROUTE_PUBLIC | ROUTE_PAGE,
	      SMALL_BODY),
	/* administration of people (pages_admin_users.c) */
	ROUTE("GET", "/admin/users", page_admin_users, ROUTE_PAGE | ROUTE_ADMIN, NO_BODY),
	ROUTE("POST", "/admin/users", page_admin_user_add, ROUTE_PAGE | ROUTE_ADMIN, FORM_BODY),
	ROUTE("GET", "/admin/users/{id}", page_admin_user, ROUTE_PAGE | ROUTE_ADMIN, NO_BODY),
	ROUTE("POST", "/admin/users/{id}", page_admin_user_edit, ROUTE_PAGE | ROUTE_ADMIN,
	      FORM_BODY),
	ROUTE("POST", "/admin/users/{id}/disable", page_admin_user_disable,
	      ROUTE_PAGE | ROUTE_ADMIN, SMALL_BODY),
	ROUTE("POST", "/admin/users/{id}/enable", page_admin_user_enable, ROUTE_PAGE | ROUTE_ADMIN,
	      SMALL_BODY),
	ROUTE("POST", "/admin/users/{id}/password", page_admin_user_password,
	      ROUTE_PAGE | ROUTE_ADMIN, SMALL_BODY),
	ROUTE("POST", "/admin/users/{id}/tokens/{id}/revoke", page_admin_user_token_revoke,
	      ROUTE_PAGE | ROUTE_ADMIN, SMALL_BODY),
	ROUTE("POST", "/admin/users/{id}/sessions/{id}/end", page_admin_user_session_end,
	      ROUTE_PAGE | ROUTE_ADMIN, SMALL_BODY),
	/* administration of schools and practices (pages_admin_catalogue.c) */
	ROUTE("GET", "/admin/schools", page_admin_schools, ROUTE_PAGE, NO_BODY),
	ROUTE("POST", "/admin/schools", page_admin_school_add, ROUTE_PAGE, FORM_BODY),
	ROUTE("POST", "/admin/schools/{slug}/edit", page_admin_school_edit, ROUTE_PAGE, FORM_BODY),
	ROUTE("GET", "/admin/practices", page_admin_practices, ROUTE_PAGE, NO_BODY),
	ROUTE("POST", "/admin/practices", page_admin_practice_add, ROUTE_PAGE, FORM_BODY),
	ROUTE("POST", "/admin/practices/merge", page_admin_practice_merge, ROUTE_PAGE, FORM_BODY),
	ROUTE("POST", "/admin/practices/{slug}/edit", page_admin_practice_edit, ROUTE_PAGE,
	      FORM_BODY),
	ROUTE("POST", "/admin/practices/{slug}/retire", page_admin_practice_retire, ROUTE_PAGE,
	      SMALL_BODY),
	ROUTE("POST", "/admin/practices/{slug}/unretire", page_admin_practice_unretire, ROUTE_PAGE,
	      SMALL_BODY),
	/* rostering (pages_roster.c) */
	ROUTE("GET", "/admin/roster", page_admin_roster, ROUTE_PAGE | ROUTE_ADMIN, NO_BODY),
	ROUTE("POST", "/admin/roster", page_admin_roster_upload,
	      ROUTE_PAGE | ROUTE_ADMIN | ROUTE_LARGE, 64u << 20),
	ROUTE("POST", "/admin/roster/apply", page_admin_roster_apply, ROUTE_PAGE | ROUTE_ADMIN,
	      SMALL_BODY),
	/* the audit trail (pages_admin_audit.c, issue 14) */
	ROUTE("GET", "/admin/audit", page_admin_audit, ROUTE_PAGE | ROUTE_ADMIN, NO_BODY),
	ROUTE("GET", "/admin/audit.csv", page_admin_audit_csv, ROUTE_PAGE | ROUTE_ADMIN, NO_BODY),
	ROUTE("GET", "/assets/{slug}/{slug}", asset_get, ROUTE_PUBLIC, NO_BODY),
	ROUTE("HEAD", "/assets/{slug}/{slug}", asset_get, ROUTE_PUBLIC, NO_BODY),
	ROUTE("HEAD", "/media/clips/{id}/{slug}", media_get, 0, NO_BODY),
};

/* Parse a decimal id of at most 15 digits, no sign, no leading zero. */
static bool parse_id(const char *s, size_t n, int64_t *out)
{
	if (n == 0 || n > 15 || s[0] == '0')
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Match path against pattern, filling req->ids / req->slugs.  Slugs point
 * into scratch (the request's own), valid for the request. */
static bool match(const char *pattern, const char *path, struct request *req, char *scratch,
                  size_t scratch_len)
{
	int nid = 0, nslug = 0;
	size_t used = 0;
	const char *p = pattern, *u = path;
	while (*p && *u) {
		if (*p != '/' || *u != '/')
			return false;
		p++;
		u++;
		const char *pe = strchr(p, '/'), *ue = strchr(u, '/');
		size_t plen = pe ? (size_t)(pe - p) : strlen(p);
		size_t ulen = ue ? (size_t)(ue - u) : strlen(u);
		if (plen == 4 && !strncmp(p, "{id}", 4)) {
			if (nid == ROUTE_MAX_PARAMS || !parse_id(u, ulen, &req->ids[nid++]))
				return false;
		} else if (plen == 6 && !strncmp(p, "{slug}", 6)) {
			if (nslug == ROUTE_MAX_PARAMS || ulen == 0 || ulen > 64 ||
			    used + ulen + 1 > scratch_len)
				return false;
			memcpy(scratch + used, u, ulen);
			scratch[used + ulen] = '\0';
			req->slugs[nslug++] = scratch + used;
			used += ulen + 1;
		} else if (plen != ulen || strncmp(p, u, plen) != 0) {
			return false;
		}
		p += plen;
		u += ulen;
	}
	return *p == '\0' && *u == '\0';
}

const struct route *router_find(struct request *req, char *allow, size_t allow_len)
{
	allow[0] = '\0';
	for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
		const struct route *r = &routes[i];
		if (!match(r->pattern, req->path, req, req->scratch, sizeof req->scratch))
			continue;
		if (!strcmp(r->method, req->method))
			return r;
		size_t n = strlen(allow);
		snprintf(allow + n, allow_len - n, "%s%s", n ? ", " : "", r->method);
	}
	return NULL;
}

/* A route for admins, asked by someone else: 403, whoever they are. */
static enum MHD_Result admin_only(struct request *req, const struct route *r, bool *ok)
{
	if (!(r->flags & ROUTE_ADMIN) || req->user.role == KD_ROLE_ADMIN)
		return MHD_YES;
	*ok = false;
	if (r->flags & ROUTE_PAGE)
		return page_message(req, MHD_HTTP_FORBIDDEN, "For admins only",
		                    "This page is for your district's kindling admins.");
	return respond_error(req, MHD_HTTP_FORBIDDEN, "only an admin may do this");
}

static enum MHD_Result sign_in(struct request *req, const struct route *r, bool *ok)
{
	*ok = true;
	if (r->flags & ROUTE_PUBLIC)
		return MHD_YES;
	if ((r->flags & ROUTE_SCRAPE) && metrics_token_ok(req))
		return MHD_YES;
	if (req->signed_in)
		return admin_only(req, r, ok);
	int rc = auth_request(req);
	if (rc == 0)
		return admin_only(req, r, ok);
	*ok = false;
	if (rc == KD_EAUTH && (r->flags & ROUTE_PAGE))
		return page_sign_in_first(req);
	if (rc == KD_EAUTH)
		return respond_error_h(req, MHD_HTTP_UNAUTHORIZED, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                       "Bearer realm=\"kindling\"",
		                       "sign in first: send 'Authorization: Bearer TOKEN' with a token "
		                       "from 'kindling user add', or log in with a browser");
	return respond_kd_error(req, rc, NULL);
}

/* A state-changing API request signed in by the session cookie must carry
 * the session's CSRF token (the pages' scripts send it). */
static enum MHD_Result csrf_check(struct request *req, bool *ok)
{
	*ok = auth_api_csrf_ok(req);
	if (*ok)
		return MHD_YES;
	return respond_error(req, MHD_HTTP_FORBIDDEN,
	                     "a browser session must send its CSRF token in X-CSRF-Token "
	                     "(from the page's <meta name=\"csrf-token\">)");
}

const struct route *router_table(size_t *n)
{
	*n = sizeof routes / sizeof *routes;
	return routes;
}

static enum MHD_Result no_route(struct request *req, const char *allow)
{
	if (*allow)
		return respond_error_h(req, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW, allow,
		                       "%s is not allowed here; use %s", req->method, allow);
	return respond_error(req, MHD_HTTP_NOT_FOUND, "there is nothing at %s", req->path);
}

size_t router_body_max(const struct request *req)
{
	const struct route *r = req->route;
	if (!r)
		return 0;
	if (r->begin)
		return SIZE_MAX;
	if ((r->flags & (ROUTE_LARGE | ROUTE_ADMIN)) == (ROUTE_LARGE | ROUTE_ADMIN))
		return r->max_body;
	return r->max_body < req->srv->cfg->max_body ? r->max_body : req->srv->cfg->max_body;
}

enum MHD_Result router_headers(struct request *req, bool has_body, uint64_t length)
{
	char allow[64];
	const struct route *r = router_find(req, allow, sizeof allow);
	req->route = r;
	/* Without a body nothing is gained by answering early, and answering
	 * on the headers closes the connection: the answer waits. */
	if (!has_body && !(r && r->begin))
		return MHD_YES;
	if (!r)
		return no_route(req, allow);
	req->db = db_pool_get(req->srv->pool);
	bool ok;
	enum MHD_Result res = sign_in(req, r, &ok);
	if (ok)
		res = csrf_check(req, &ok);
	size_t max = router_body_max(req);
	if (ok && length != UINT64_MAX && length > max) {
		ok = false;
		if (max == 0)
			res = respond_error(req, MHD_HTTP_CONTENT_TOO_LARGE,
			                    "%s %s takes no request body", req->method, r->pattern);
		else
			res = respond_error(req, MHD_HTTP_CONTENT_TOO_LARGE,
			                    "the request body is larger than the %zu bytes allowed here",
			                    max);
	}
	if (ok && r->begin)
		res = r->begin(req);
	db_pool_put(req->srv->pool, req->db);
	req->db = NULL;
	return res;
}

enum MHD_Result router_dispatch(struct request *req)
{
	char allow[64] = "";
	const struct route *found = req->route ? req->route : router_find(req, allow, sizeof allow);
	if (!found) {
		if (!*allow) /* the route was found on the headers: list its methods again */
			router_find(req, allow, sizeof allow);
		return no_route(req, allow);
	}
	bool ok;
	enum MHD_Result res = sign_in(req, found, &ok);
	if (!ok)
		return res;
	if (!req->answered) {
		res = csrf_check(req, &ok);
		if (!ok)
			return res;
	}
	if (answers_try(req))
		return MHD_YES;
	return found->fn(req);
}
