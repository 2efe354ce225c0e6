/* pages_account.c - /account: every signed-in person's own account.  What
 * kindling knows of them (name, e-mail, role, school), their API tokens
 * (make one with a name and an expiry, shown once on the answer to the
 * form and never in a URL; revoke one) and their browser sessions (where
 * and how each began, the current one marked; end one, or all the
 * others).  Also the token and session tables /admin/users/{id} shows.
 * Every change is a POST with the session's CSRF token, answered with a
 * redirect back (or the page again with the reason); a person only ever
 * touches their own credentials (accounts.h's owner argument). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth.h"
#include "layout.h"
#include "pages.h"
#include "pages_mail.h"
#include "kindling/accounts.h"
#include "kindling/audit.h"
#include "kindling/err.h"
#include "kindling/users.h"

/* Rows a table of tokens or sessions shows at most (a script that made
 * thousands of tokens must not make the page huge). */
#define ROWS_MAX 500

/* A catalogue time as people read it: "2026-01-02 10:11 UTC", in a
 * <time>; dash when there is none. */
void page_time(struct html *h, const char *t, const char *dash)
{
	if (!t || !*t) {
		html_text(h, dash);
		return;
	}
	html_raw(h, "<time datetime=\"");
	html_attr(h, t);
	html_raw(h, "\">");
	html_textf(h, "%.10s %.5s UTC", t, strlen(t) > 11 ? t + 11 : "");
	html_raw(h, "</time>");
}

/* A form that is one button: POST to action with the CSRF token.  what
 * names what the button acts on, for a screen reader (a table holds many
 * buttons of the same label). */
static void button_form(struct html *h, struct request *req, const char *action,
                        const char *label, const char *what, const char *cls)
{
	html_raw(h, "<form method=\"post\" class=\"inline\" action=\"");
	html_attr(h, action);
	html_raw(h, "\">");
	page_csrf_field(h, req);
	html_raw(h, "<button type=\"submit\" class=\"");
	html_attr(h, cls);
	html_raw(h, "\" aria-label=\"");
	html_attrf(h, "%s %s", label, what);
	html_raw(h, "\">");
	html_text(h, label);
	html_raw(h, "</button></form>");
}

void page_tokens_table(struct html *h, struct request *req, const struct acct_token *ts,
                       size_t n, const char *base)
{
	if (!n) {
		html_raw(h, "<p class=\"empty\">No API tokens.</p>");
		return;
	}
	page_wide_begin(h, "API tokens"); /* issue 15: scrolls on a phone */
	html_raw(h, "<table class=\"figures tokens\"><thead><tr><th scope=\"col\">Name</th>"
	            "<th scope=\"col\">Made</th><th scope=\"col\">Expires</th>"
	            "<th scope=\"col\">Last used</th><th scope=\"col\"><span class=\"vh\">"
	            "Revoke</span></th></tr></thead><tbody>");
	for (size_t i = 0; i < n && i < ROWS_MAX; i++) {
		const struct acct_token *t = &ts[i];
		html_raw(h, "<tr id=\"");
		html_attrf(h, "token-%lld", (long long)t->id);
		html_raw(h, "\"><td>");
		html_text(h, *t->name ? t->name : "(no name)");
		html_textf(h, " (#%lld)", (long long)t->id);
		html_raw(h, "</td><td>");
		page_time(h, t->created_at, "-");
		html_raw(h, "</td><td>");
		if (t->expired)
			html_raw(h, "<span class=\"badge status-declined\">expired</span> ");
		page_time(h, t->expires_at, "never");
		html_raw(h, "</td><td>");
		page_time(h, t->last_used_at, "never");
		html_raw(h, "</td><td>");
		char action[160];
		snprintf(action, sizeof action, "%s/tokens/%lld/revoke", base, (long long)t->id);
		char what[160];
		snprintf(what, sizeof what, "token %s (#%lld)", *t->name ? t->name : "(no name)",
		         (long long)t->id);
		button_form(h, req, action, "Revoke", what, "revoke");
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "</tbody></table>");
	page_wide_end(h);
	if (n > ROWS_MAX) {
		html_raw(h, "<p class=\"hint\">");
		html_textf(h, "And %zu older ones, not shown.", n - ROWS_MAX);
		html_raw(h, "</p>");
	}
}

void page_sessions_table(struct html *h, struct request *req, const struct acct_session *ss,
                         size_t n, const char *base, int64_t current)
{
	if (!n) {
		html_raw(h, "<p class=\"empty\">No browser is signed in.</p>");
		return;
	}
	const struct kd_config *cfg = req->srv->cfg;
	page_wide_begin(h, "Signed-in browsers"); /* issue 15: scrolls on a phone */
	html_raw(h, "<table class=\"figures sessions\"><thead><tr><th scope=\"col\">Browser</th>"
	            "<th scope=\"col\">Signed in</th><th scope=\"col\">How</th>"
	            "<th scope=\"col\">Last used</th><th scope=\"col\">Ends</th>"
	            "<th scope=\"col\"><span class=\"vh\">End</span></th></tr></thead><tbody>");
	for (size_t i = 0; i < n && i < ROWS_MAX; i++) {
		const struct acct_session *s = &ss[i];
		html_raw(h, "<tr id=\"");
		html_attrf(h, "session-%lld", (long long)s->id);
		html_raw(h, s->id == current ? "\" class=\"current\"><td>" : "\"><td>");
		html_text(h, *s->client ? s->client : "(unknown browser)");
		if (s->id == current)
			html_raw(h, " <strong class=\"badge status-accepted\">this browser</strong>");
		html_raw(h, "</td><td>");
		page_time(h, s->created_at, "-");
		html_raw(h, "</td><td>");
		if (!strcmp(s->via, "oidc")) {
			html_raw(h, "with ");
			html_text(h, cfg->oidc_name ? cfg->oidc_name : "the district's account");
		} else {
			html_raw(h, "with a password");
		}
		html_raw(h, "</td><td>");
		page_time(h, s->last_used_at, "-");
		html_raw(h, "</td><td>");
		page_time(h, s->expires_at, "-");
		html_raw(h, "</td><td>");
		char action[160];
		snprintf(action, sizeof action, "%s/sessions/%lld/end", base, (long long)s->id);
		char what[64];
		snprintf(what, sizeof what, "the session begun %.16s", s->created_at);
		button_form(h, req, action, s->id == current ? "Sign out" : "End", what, "end");
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "</tbody></table>");
	page_wide_end(h);
	if (n > ROWS_MAX) {
		html_raw(h, "<p class=\"hint\">");
		html_textf(h, "And %zu older ones, not shown.", n - ROWS_MAX);
		html_raw(h, "</p>");
	}
}

/* The session this request came with (its row id), or 0 when it came
 * with a token. */
static int64_t current_session(struct request *req)
{
	if (!req->by_session)
		return 0;
	return users_credential_id(
		MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, SESSION_COOKIE));
}

/* The account page.  error: why the last form was refused (its values are
 * shown again); secret: a token just made, shown once. */
static enum MHD_Result account_page(struct request *req, unsigned status, const char *error,
                                    const char *secret)
{
	struct acct_person p;
	int rc = acct_person_get(req->db, req->user.id, &p);
	if (rc < 0)
		return page_failed(req, rc, "Your account could not be read. Try again in a moment.");
	struct acct_token *ts = NULL;
	struct acct_session *ss = NULL;
	size_t nt = 0, ns = 0;
	if ((rc = acct_tokens_list(req->db, p.id, &ts, &nt)) < 0 ||
	    (rc = acct_sessions_list(req->db, p.id, &ss, &ns)) < 0) {
		acct_free(ts);
		return page_failed(req, rc, "Your tokens and sessions could not be read.");
	}
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Your account");
	html_raw(&h, "<h1>Your account</h1>");
	if (error)
		page_error(&h, "account-error", error);
	if (secret) {
		html_raw(&h, "<section class=\"new-token\" aria-labelledby=\"new-h\" role=\"status\">"
		             "<h2 id=\"new-h\">Your new token</h2><p>Copy it now: kindling keeps "
		             "only a fingerprint of it and cannot show it again.</p>"
		             "<p><code class=\"secret\" id=\"new-token\">");
		html_text(&h, secret);
		html_raw(&h, "</code></p><p class=\"hint\">Send it as <code>Authorization: Bearer "
		             "TOKEN</code>, or give it to <code>kindling upload --token</code>. "
		             "Revoke it below when it is no longer needed.</p></section>");
	}
	html_raw(&h, "<dl class=\"facts\"><dt>Name</dt><dd>");
	html_text(&h, p.name);
	html_raw(&h, "</dd>");
	if (*p.full_name) {
		html_raw(&h, "<dt>Full name</dt><dd>");
		html_text(&h, p.full_name);
		html_raw(&h, "</dd>");
	}
	html_raw(&h, "<dt>E-mail</dt><dd>");
	html_text(&h, *p.email ? p.email : "none");
	html_raw(&h, "</dd><dt>Role</dt><dd>");
	html_text(&h, users_role_name(p.role));
	html_raw(&h, "</dd><dt>School</dt><dd>");
	if (*p.school) {
		html_raw(&h, "<a href=\"");
		html_attrf(&h, "/schools/%s", p.school);
		html_raw(&h, "\">");
		html_text(&h, *p.school_name ? p.school_name : p.school);
		html_raw(&h, "</a>");
	} else {
		html_raw(&h, "none (the whole district)");
	}
	html_raw(&h, "</dd></dl><p class=\"hint\">Something wrong here? Your district's kindling "
	             "admin can change it.</p>");
	page_account_mail(&h, req, p.email); /* issue 16: switches, follows (pages_mail.c) */

	html_raw(&h, "<section aria-labelledby=\"tokens-h\" id=\"tokens\"><h2 id=\"tokens-h\">API "
	             "tokens</h2><p>A token lets a program act as you: <code>kindling "
	             "upload</code> on a laptop, or a script that reads the catalogue.</p>");
	page_tokens_table(&h, req, ts, nt, "/account");
	char *name = error ? page_field(req, "name") : NULL,
	     *days = error ? page_field(req, "expires_days") : NULL;
	html_raw(&h, "<form method=\"post\" action=\"/account/tokens\" class=\"edit new-token-form\">");
	page_csrf_field(&h, req);
	html_raw(&h, "<h3>Make a token</h3><label for=\"token-name\">What it is for</label>"
	             "<input type=\"text\" id=\"token-name\" name=\"name\" maxlength=\"100\" "
	             "placeholder=\"upload laptop\" value=\"");
	html_attr(&h, name ? name : "");
	html_raw(&h, "\"><label for=\"token-days\">Expires after (days; empty: never)</label>"
	             "<input type=\"number\" id=\"token-days\" name=\"expires_days\" min=\"1\" "
	             "max=\"3650\" value=\"");
	html_attr(&h, days ? days : "");
	html_raw(&h, "\"><button type=\"submit\">Make a token</button></form></section>");
	free(name);
	free(days);

	int64_t current = current_session(req);
	html_raw(&h, "<section aria-labelledby=\"sessions-h\" id=\"sessions\"><h2 "
	             "id=\"sessions-h\">Where you are signed in</h2>");
	page_sessions_table(&h, req, ss, ns, "/account", current);
	if (ns > 1 || (ns == 1 && ss[0].id != current)) {
		html_raw(&h, "<form method=\"post\" action=\"/account/sessions/end-others\">");
		page_csrf_field(&h, req);
		html_raw(&h, current ? "<button type=\"submit\">Sign out everywhere else</button>"
		                     : "<button type=\"submit\">Sign out everywhere</button>");
		html_raw(&h, "</form>");
	}
	html_raw(&h, "</section>");
	page_end(&h);
	acct_free(ts);
	acct_free(ss);
	return respond_html(req, status, &h);
}

enum MHD_Result page_account(struct request *req)
{
	return account_page(req, MHD_HTTP_OK, NULL, NULL);
}

enum MHD_Result page_account_token_add(struct request *req)
{
	enum MHD_Result refused;
	if (!page_form_ok(req, &refused))
		return refused;
	char *name = page_field(req, "name"), *days = page_field(req, "expires_days");
	char err[KD_ERRMSG_MAX] = "", until[USERS_TIME_MAX] = "", token[USERS_TOKEN_MAX];
	int rc = 0;
	if (days && *days && strspn(days, "0123456789") != strlen(days)) {
		snprintf(err, sizeof err, "give the number of days the token lasts, or nothing");
		rc = KD_EINVAL;
	} else if (days && *days) {
		rc = users_expiry(days, (int64_t)time(NULL), until, err, sizeof err);
	}
	int64_t token_id = 0;
	if (rc == 0)
		rc = users_token_issue(req->db, req->user.id, name, *until ? until : NULL, &token_id,
		                       token, err, sizeof err);
	if (rc == 0) { /* issue 14: the audit trail (never the secret) */
		char words[300];
		audit_token_words(req->db, req->user.id, token_id, words, sizeof words);
		req_audit(req, AUDIT_TOKEN_ADD, 0, words, *until ? until : "until revoked");
	}
	enum MHD_Result r;
	/* The secret is in this answer only: never in a URL (a redirect would
	 * put it in the history and logs), and pages are never cached
	 * (respond_html: no-store). */
	if (rc == 0) {
		r = account_page(req, MHD_HTTP_OK, NULL, token);
		sodium_memzero(token, sizeof token);
	} else {
		r = account_page(req, http_status_of(rc), err, NULL);
	}
	free(name);
	free(days);
	return r;
}

enum MHD_Result page_account_token_revoke(struct request *req)
{
	enum MHD_Result refused;
	if (!page_form_ok(req, &refused))
		return refused;
	char words[300]; /* issue 14: whose it was, read before it goes */
	audit_token_words(req->db, req->user.id, req->ids[0], words, sizeof words);
	int rc = acct_token_revoke(req->db, req->ids[0], req->user.id);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, "You have no token with this number.");
	if (rc < 0)
		return page_failed(req, rc, "The token could not be revoked. Try again in a moment.");
	req_audit(req, AUDIT_TOKEN_REVOKE, 0, words, NULL);
	return respond_redirect(req, "/account#tokens", NULL);
}

enum MHD_Result page_account_session_end(struct request *req)
{
	enum MHD_Result refused;
	if (!page_form_ok(req, &refused))
		return refused;
	int64_t current = current_session(req);
	int rc = acct_session_end(req->db, req->ids[0], req->user.id);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, "You have no session with this number.");
	if (rc < 0)
		return page_failed(req, rc, "The session could not be ended. Try again in a moment.");
	if (req->ids[0] == current)
		return respond_redirect(req, "/login",
		                        SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
	return respond_redirect(req, "/account#sessions", NULL);
}

enum MHD_Result page_account_sessions_end_others(struct request *req)
{
	enum MHD_Result refused;
	if (!page_form_ok(req, &refused))
		return refused;
	int64_t current = current_session(req);
	int rc = acct_sessions_end_all(req->db, req->user.id, current, NULL);
	if (rc < 0)
		return page_failed(req, rc, "The sessions could not be ended. Try again in a moment.");
	return respond_redirect(req, "/account#sessions", NULL);
}
