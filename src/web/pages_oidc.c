/* pages_oidc.c - signing in through the district's identity provider: the
 * two routes of the authorization code flow (see kindling/oidc.h for the
 * checks, which live there).
 *
 * The state travels twice: in the provider's round trip, and in a cookie
 * of this browser (kd_oidc).  The callback takes only a state that the
 * same browser holds, so nobody can finish a sign-in they began and sign a
 * victim's browser into their own account (login CSRF). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "layout.h"
#include "pages.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/oidc.h"

#define STATE_COOKIE "kd_oidc"

/* The address the provider sends the browser back to: registered with the
 * provider as it is written here. */
static void callback_uri(const struct request *req, char *out, size_t len)
{
	snprintf(out, len, "%s/auth/oidc/callback", req->srv->cfg->public_url);
}

/* Secure only when the browser reached us over TLS: public_url says so,
 * or a trusted proxy in front does. */
static bool over_tls(struct request *req)
{
	const char *proto = req_via_trusted_proxy(req) ? req_header(req, "X-Forwarded-Proto") : NULL;
	return (proto && !strcmp(proto, "https")) ||
	       !strncmp(req->srv->cfg->public_url, "https://", 8);
}

static enum MHD_Result not_set_up(struct request *req)
{
	return page_message(req, MHD_HTTP_NOT_FOUND, "Single sign-on is not set up",
	                    "This kindling has no identity provider: sign in with your name and "
	                    "password, or ask your district's kindling admin to set oidc_issuer.");
}

enum MHD_Result page_oidc_start(struct request *req)
{
	struct oidc_provider *p = req->srv->oidc;
	if (!p)
		return not_set_up(req);
	const char *next = req_arg(req, "next");
	char redirect[600], err[KD_ERRMSG_MAX] = "";
	callback_uri(req, redirect, sizeof redirect);
	char *url = NULL, state[OIDC_STATE_MAX];
	int rc = oidc_begin_state(p, req->db, redirect, page_safe_next(next) ? next : "/", &url,
	                          state, err, sizeof err);
	if (rc < 0) {
		log_error("auth", "cannot begin a sign-in with %s: %s", req->srv->cfg->oidc_issuer, err);
		return page_message(req, rc == KD_EDB ? MHD_HTTP_SERVICE_UNAVAILABLE
		                                      : MHD_HTTP_BAD_GATEWAY,
		                    "Sign-in is unavailable",
		                    rc == KD_EDB ? "The catalogue is busy; try again in a moment."
		                                 : "kindling cannot reach your district's sign-in "
		                                   "service right now. Try again in a few minutes; if it "
		                                   "goes on, tell your district's kindling admin.");
	}
	/* the browser keeps the state too */
	char cookie[256];
	snprintf(cookie, sizeof cookie,
	         STATE_COOKIE "=%s; Path=/auth/oidc; Max-Age=%d; HttpOnly; SameSite=Lax%s", state,
	         OIDC_LOGIN_TTL_S, over_tls(req) ? "; Secure" : "");
	enum MHD_Result r = respond_redirect_cookies(req, url, cookie, NULL);
	free(url);
	return r;
}

/* The page for a person the provider vouched for but kindling will not
 * let in: what is wrong, and whom to ask (the district's admins, by name
 * and address: the person has just proved to be one of the district's). */
static enum MHD_Result refused(struct request *req, unsigned status, const char *title,
                               const char *why, bool name_admins)
{
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, title);
	html_raw(&h, "<div class=\"login\"><h1>");
	html_text(&h, title);
	html_raw(&h, "</h1><p>");
	html_text(&h, why);
	html_raw(&h, "</p>");
	struct kd_stmt *st = NULL;
	if (name_admins &&
	    db_prepare(req->db, "SELECT name, coalesce(email, '') FROM users WHERE role = 'admin' "
	                        "AND disabled = 0 ORDER BY id LIMIT 3", &st) == DB_OK) {
		bool any = false;
		while (db_step(st) == DB_ROW) {
			html_raw(&h, any ? "</li><li>" : "<p>Your kindling administrators:</p><ul><li>");
			html_text(&h, (const char *)db_column_text(st, 0));
			const char *mail = (const char *)db_column_text(st, 1);
			if (*mail) {
				html_raw(&h, " (<a href=\"mailto:");
				html_attr(&h, mail);
				html_raw(&h, "\">");
				html_text(&h, mail);
				html_raw(&h, "</a>)");
			}
			any = true;
		}
		if (any)
			html_raw(&h, "</li></ul>");
	}
	db_finalize(st);
	html_raw(&h, "<p><a href=\"/login\">Back to sign-in</a></p></div>");
	page_end(&h);
	return respond_html(req, status, &h);
}

enum MHD_Result page_oidc_callback(struct request *req)
{
	struct oidc_provider *p = req->srv->oidc;
	if (!p)
		return not_set_up(req);
	const char *state = req_arg(req, "state"), *code = req_arg(req, "code");
	const char *perror = req_arg(req, "error");
	const char *held = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, STATE_COOKIE);
	char addr[64];
	req_client_address(req, addr, sizeof addr);
	if (perror) {
		/* The person cancelled, or the provider refused: its words are
		 * logged, not shown (they are the provider's, for its admins). */
		const char *desc = req_arg(req, "error_description");
		log_info("auth", "the identity provider answered a sign-in from %s with %.60s: %.200s",
		         addr, perror, desc ? desc : "");
		char why[160]; /* issue 14: the audit trail */
		snprintf(why, sizeof why, "single sign-on: the identity provider answered %.60s", perror);
		req_audit_sign_in_failed(req, "", why);
		return refused(req, MHD_HTTP_FORBIDDEN, "Sign-in did not finish",
		               !strcmp(perror, "access_denied")
		               ? "The sign-in was cancelled or refused at your district's sign-in "
		                 "page. Try again from kindling's sign-in page."
		               : "Your district's sign-in service did not sign you in. Try again; if it "
		                 "goes on, tell your district's kindling admin.", false);
	}
	/* RFC 9207: a provider that names itself in the answer must be ours (a
	 * browser sent back by another provider the person also uses is
	 * refused before anything is exchanged) */
	const char *iss = req_arg(req, "iss");
	if (iss && strcmp(iss, req->srv->cfg->oidc_issuer) != 0) {
		log_info("auth", "refused a sign-in answer from %s naming the issuer %.200s", addr, iss);
		char why[300]; /* issue 14 */
		snprintf(why, sizeof why, "single sign-on: an answer naming another issuer, %.200s", iss);
		req_audit_sign_in_failed(req, "", why);
		return refused(req, MHD_HTTP_BAD_REQUEST, "Sign-in refused",
		               "The answer came from another sign-in service than your district's. "
		               "Start again from kindling's sign-in page.", false);
	}
	if (!state || !code || !*state || !*code || strlen(state) > 200 || strlen(code) > 4096 ||
	    !held || !auth_csrf_equal(state, held)) {
		req_audit_sign_in_failed(req, "", "single sign-on: a sign-in this browser did not "
		                         "begin, or one used already"); /* issue 14 */
		return refused(req, MHD_HTTP_BAD_REQUEST, "Sign-in expired",
		               "This sign-in link is not one this browser began, or it was used "
		               "already. Start again from kindling's sign-in page.", false);
	}

	char redirect[600], next[1100] = "/", err[KD_ERRMSG_MAX] = "";
	callback_uri(req, redirect, sizeof redirect);
	struct kd_user user;
	int rc = oidc_finish(p, req->db, state, code, redirect, &user, next, sizeof next, err,
	                     sizeof err);
	if (rc < 0) {
		/* (oidc.c has logged the reason; this says from where) */
		log_info("auth", "refused a sign-in through the identity provider from %s", addr);
		if (rc != KD_EDB) { /* issue 14: the reason names the address tried, when known */
			char why[KD_ERRMSG_MAX + 32];
			snprintf(why, sizeof why, "single sign-on: %s", err);
			req_audit_sign_in_failed(req, "", why);
		}
		switch (rc) {
		case KD_ENOTFOUND:
			return refused(req, MHD_HTTP_FORBIDDEN, "No kindling account", err, true);
		case KD_EPERM:
			return refused(req, MHD_HTTP_FORBIDDEN, "Account disabled", err, true);
		case KD_EAUTH:
			return refused(req, MHD_HTTP_FORBIDDEN, "Sign-in refused", err, false);
		case KD_EDB:
			return page_message(req, MHD_HTTP_SERVICE_UNAVAILABLE, "Try again",
			                    "The catalogue is busy; sign in again in a moment.");
		default:
			return refused(req, MHD_HTTP_BAD_GATEWAY, "Sign-in is unavailable", err, false);
		}
	}
	char sid[USERS_TOKEN_MAX], csrf[USERS_CSRF_MAX];
	if (users_session_create(req->db, user.id, SESSION_TTL_S, USERS_VIA_OIDC,
	                         req_header(req, MHD_HTTP_HEADER_USER_AGENT), sid, csrf) < 0)
		return page_message(req, MHD_HTTP_SERVICE_UNAVAILABLE, "Try again",
		                    "The catalogue is busy; sign in again in a moment.");
	bool tls = over_tls(req);
	char session[256], clear[160];
	snprintf(session, sizeof session,
	         SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s", sid,
	         SESSION_TTL_S, tls ? "; Secure" : "");
	snprintf(clear, sizeof clear, STATE_COOKIE "=; Path=/auth/oidc; Max-Age=0; HttpOnly; "
	         "SameSite=Lax%s", tls ? "; Secure" : "");
	sodium_memzero(sid, sizeof sid);
	log_info("auth", "user %lld signed in through the identity provider from %s",
	         (long long)user.id, addr);
	req_audit_signed_in(req, &user, "single sign-on");
	enum MHD_Result r =
		respond_redirect_cookies(req, page_safe_next(next) ? next : "/", session, clear);
	sodium_memzero(session, sizeof session);
	return r;
}
