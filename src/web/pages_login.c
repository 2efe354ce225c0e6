/* pages_login.c - signing in and out of the pages: the login form, its
 * throttle against guessing, the session cookie. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth.h"
#include "layout.h"
#include "pages.h"
#include "throttle.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* Failures allowed before a name, or an address, must wait. */
#define NAME_FREE_TRIES 5
#define ADDR_FREE_TRIES 20

/* Is next a path of this site (not "//host" or "/\host", which browsers
 * read as another site)? */
bool page_safe_next(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 1000)
		return false;
	for (const char *p = next; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f || *p == '\\')
			return false;
	return true;
}

enum MHD_Result page_sign_in_first(struct request *req)
{
	char *here = strcmp(req->method, "GET") ? kd_strdup("/") : page_self_url(req, req->path, "page", 0);
	struct kd_buf loc = KD_BUF_INIT(8192);
	kd_buf_puts(&loc, "/login");
	if (strcmp(here, "/") != 0) {
		kd_buf_puts(&loc, "?next=");
		html_url_encode(&loc, here);
	}
	free(here);
	enum MHD_Result r = respond_redirect(req, kd_buf_str(&loc), NULL);
	kd_buf_release(&loc);
	return r;
}

static enum MHD_Result login_page(struct request *req, unsigned status, const char *next,
                                  const char *name, const char *error, long retry_after)
{
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Sign in");
	const struct kd_config *cfg = req->srv->cfg;
	html_raw(&h, "<div class=\"login\"><h1>Sign in</h1>");
	if (error)
		page_error(&h, NULL, error);
	if (cfg->oidc_issuer) {
		html_raw(&h, "<p><a class=\"button sso\" href=\"/auth/oidc");
		if (page_safe_next(next) && strcmp(next, "/") != 0) {
			struct kd_buf q = KD_BUF_INIT(2048);
			kd_buf_puts(&q, "?next=");
			html_url_encode(&q, next);
			html_attr(&h, kd_buf_str(&q));
			kd_buf_release(&q);
		}
		html_raw(&h, "\">Sign in with ");
		html_text(&h, cfg->oidc_name);
		html_raw(&h, "</a></p>");
		if (!cfg->password_login) {
			html_raw(&h, "<p class=\"hint\">Use the account your district gave you. Ask "
			             "your district's kindling admin if you cannot get in.</p></div>");
			goto done;
		}
		html_raw(&h, "<p class=\"hint\">Or, with a kindling password:</p>");
	}
	html_raw(&h, "<form method=\"post\" action=\"/login\">"
	             "<input type=\"hidden\" name=\"next\" value=\"");
	html_attr(&h, page_safe_next(next) ? next : "/");
	html_raw(&h, "\"><label for=\"name\">Name</label>"
	             "<input id=\"name\" name=\"name\" autocomplete=\"username\" required "
	             "maxlength=\"100\" value=\"");
	html_attr(&h, name ? name : "");
	html_raw(&h, "\"><label for=\"password\">Password</label>"
	             "<input id=\"password\" name=\"password\" type=\"password\" "
	             "autocomplete=\"current-password\" required maxlength=\"1000\">"
	             "<button type=\"submit\">Sign in</button></form>"
	             "<p class=\"hint\">Ask your district's kindling admin for an account.</p>"
	             "</div>");
done:
	page_end(&h);
	char ra[24];
	snprintf(ra, sizeof ra, "%ld", retry_after);
	return respond_html_h(req, status, &h, retry_after > 0 ? MHD_HTTP_HEADER_RETRY_AFTER : NULL,
	                      ra);
}

/* Why a password sign-in failed, for the audit trail (never for the page,
 * which must not tell which names exist).  issue 14 */
static const char *failed_why(struct request *req, const char *name, const char *password)
{
	if (strlen(name) > 100 || strlen(password) > 1000)
		return "the name or password is longer than any account's";
	struct kd_stmt *st;
	if (db_prepare(req->db, "SELECT CASE WHEN disabled <> 0 THEN 1 ELSE 0 END, "
	                        "CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END "
	                        "FROM users WHERE name = ?1", &st) != DB_OK)
		return "a wrong name or password";
	db_bind_text(st, 1, name, -1, DB_STATIC);
	const char *why = "no account has this name";
	if (db_step(st) == DB_ROW)
		why = db_column_int(st, 0) ? "the account is disabled"
		      : !db_column_int(st, 1) ? "the account has no password (single sign-on only)"
		                              : "wrong password";
	db_finalize(st);
	return why;
}

enum MHD_Result page_login_get(struct request *req)
{
	const char *next = req_arg(req, "next");
	if (auth_request(req) == 0)
		return respond_redirect(req, page_safe_next(next) ? next : "/", NULL);
	req->signed_in = false;
	return login_page(req, MHD_HTTP_OK, next, NULL, NULL, 0);
}

/* The request came from a page of this site (or says nothing about it). */
static bool same_origin(struct request *req)
{
	const char *origin = req_header(req, "Origin");
	const char *host = req_header(req, MHD_HTTP_HEADER_HOST);
	if (!origin || !strcmp(origin, "null"))
		return origin == NULL;
	if (!host)
		return false;
	const char *o = strstr(origin, "://");
	return o && !strcmp(o + 3, host);
}

enum MHD_Result page_login_post(struct request *req)
{
	if (!same_origin(req) || !page_form_body(req))
		return page_message(req, MHD_HTTP_FORBIDDEN, "Sign-in refused",
		                    "Sign in from kindling's own sign-in page.");
	if (!req->srv->cfg->password_login)
		return page_message(req, MHD_HTTP_FORBIDDEN, "Passwords are off",
		                    "This kindling signs people in with their district account only: "
		                    "use the button on the sign-in page.");
	char *name = page_field(req, "name"), *password = page_field(req, "password"),
	     *next = page_field(req, "next");
	char addr[64];
	req_client_address(req, addr, sizeof addr);
	enum MHD_Result r;
	time_t now = time(NULL);
	long wait = 0;
	if (name && *name) {
		long a = throttle_wait("name", name, now), b = throttle_wait("addr", addr, now);
		wait = a > b ? a : b;
	}
	if (!name || !*name || !password || !*password) {
		r = login_page(req, MHD_HTTP_BAD_REQUEST, next, name,
		               "Type your name and your password.", 0);
	} else if (!throttle_room("name", name, now) || !throttle_room("addr", addr, now)) {
		/* Too many failures from too many places to count this one too:
		 * refused, rather than forgetting a count that protects someone. */
		r = login_page(req, MHD_HTTP_SERVICE_UNAVAILABLE, next, name,
		               "Sign-in is refusing attempts for a moment because of a flood of "
		               "failed ones. Try again in a few minutes.", 60);
	} else if (wait > 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "Too many failed attempts. Wait %ld second%s, then try "
		         "again.", wait, wait == 1 ? "" : "s");
		r = login_page(req, MHD_HTTP_TOO_MANY_REQUESTS, next, name, msg, wait);
	} else if (strlen(name) > 100 || strlen(password) > 1000 ||
	           users_auth_password(req->db, name, password, &req->user) != 0) {
		throttle_fail("addr", addr, ADDR_FREE_TRIES, now);
		long lock = throttle_fail("name", name, NAME_FREE_TRIES, now);
		log_info("auth", "failed sign-in as '%.100s' from %s%s", name, addr,
		         lock ? " (now locked for a while)" : "");
		req_audit_sign_in_failed(req, name, failed_why(req, name, password));
		r = login_page(req, MHD_HTTP_UNAUTHORIZED, next, name,
		               "That name and password do not match an account.", 0);
	} else {
		throttle_clear("name", name);
		char sid[USERS_TOKEN_MAX], csrf[USERS_CSRF_MAX];
		int rc = users_session_create(req->db, req->user.id, SESSION_TTL_S, USERS_VIA_PASSWORD,
		                              req_header(req, MHD_HTTP_HEADER_USER_AGENT), sid, csrf);
		if (rc < 0) {
			r = page_message(req, MHD_HTTP_SERVICE_UNAVAILABLE, "Try again",
			                 "The catalogue is busy; sign in again in a moment.");
		} else {
			/* Secure only when the browser reached us over TLS (a trusted
			 * proxy in front says so); kindling itself serves plain HTTP. */
			const char *proto = req_via_trusted_proxy(req)
			                    ? req_header(req, "X-Forwarded-Proto") : NULL;
			char cookie[256];
			snprintf(cookie, sizeof cookie,
			         SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s", sid,
			         SESSION_TTL_S, proto && !strcmp(proto, "https") ? "; Secure" : "");
			sodium_memzero(sid, sizeof sid);
			log_info("auth", "user %lld signed in from %s", (long long)req->user.id, addr);
			req_audit_signed_in(req, &req->user, "password");
			r = respond_redirect(req, page_safe_next(next) ? next : "/", cookie);
		}
	}
	if (password)
		sodium_memzero(password, strlen(password));
	free(name);
	free(password);
	free(next);
	return r;
}

enum MHD_Result page_logout(struct request *req)
{
	const char *clear = SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax";
	if (auth_request(req) != 0)
		return respond_redirect(req, "/login", clear);
	if (!auth_form_csrf_ok(req))
		return page_csrf_refused(req);
	const char *sid = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
	if (sid)
		users_session_delete(req->db, sid);
	return respond_redirect(req, "/login", clear);
}

