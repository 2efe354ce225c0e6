/* pages_admin_users.c - people, as an admin keeps them: /admin/users (find
 * people by name, e-mail or full name, by school, role and status, a page
 * at a time; add a person) and /admin/users/{id} (change their name,
 * e-mail, full name, role and school; disable or enable them; set or
 * remove their password where passwords are on; revoke their tokens and
 * end their sessions).  Admins only (the routes are ROUTE_ADMIN, and each
 * handler checks again).  Every form is a POST with the session's CSRF
 * token, answered by a redirect that says what was done, or by the page
 * again with the reason and what was typed.  An admin cannot disable
 * themselves or take away their own admin role: another admin must, so
 * that a district never locks itself out.  The changes are accounts.h's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "layout.h"
#include "pages.h"
#include "kindling/accounts.h"
#include "kindling/audit.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/users.h"

#define PEOPLE_PER_PAGE 50

/* <select> of the roles; any: a first choice "Any role" (value ""). */
static void role_select(struct html *h, const char *id, const char *chosen, bool any)
{
	html_raw(h, "<select id=\"");
	html_attr(h, id);
	html_raw(h, "\" name=\"role\">");
	if (any)
		html_raw(h, "<option value=\"\">Any role</option>");
	for (int r = KD_ROLE_ADMIN; r <= KD_ROLE_TEACHER; r++) {
		const char *name = users_role_name((enum kd_role)r);
		html_raw(h, "<option value=\"");
		html_attr(h, name);
		html_raw(h, chosen && !strcmp(chosen, name) ? "\" selected>" : "\">");
		html_text(h, name);
		html_raw(h, "</option>");
	}
	html_raw(h, "</select>");
}

/* <select> of the schools; none_label: the first choice (value ""). */
static void school_select(struct html *h, const char *id, const struct cat_school *ss, size_t n,
                          const char *chosen, const char *none_label)
{
	html_raw(h, "<select id=\"");
	html_attr(h, id);
	html_raw(h, "\" name=\"school\"><option value=\"\">");
	html_text(h, none_label);
	html_raw(h, "</option>");
	for (size_t i = 0; i < n; i++) {
		html_raw(h, "<option value=\"");
		html_attr(h, ss[i].slug);
		html_raw(h, chosen && !strcmp(chosen, ss[i].slug) ? "\" selected>" : "\">");
		html_text(h, ss[i].name);
		html_raw(h, "</option>");
	}
	html_raw(h, "</select>");
}

static const char *status_arg(struct request *req)
{
	const char *s = req_arg(req, "status");
	return s && (!strcmp(s, "disabled") || !strcmp(s, "all")) ? s : "enabled";
}

/* What a redirect's ?done= says was done (only these words are shown). */
static const char *done_message(struct request *req)
{
	static const char *const done[][2] = {
		{"added", "The person was added."},
		{"saved", "The changes were saved."},
		{"disabled", "The person is disabled: their sessions and API tokens are ended."},
		{"enabled", "The person is enabled again: they can sign in (and make new tokens)."},
		{"password", "The password was set."},
		{"nopassword", "The password was removed: they can no longer sign in with one."},
		{"revoked", "The token was revoked."},
		{"ended", "The session was ended."},
	};
	const char *d = req_arg(req, "done");
	for (size_t i = 0; d && i < sizeof done / sizeof *done; i++)
		if (!strcmp(d, done[i][0]))
			return done[i][1];
	return NULL;
}

static void done_note(struct html *h, struct request *req)
{
	const char *msg = done_message(req);
	if (!msg)
		return;
	html_raw(h, "<p class=\"hint done\" role=\"status\">");
	html_text(h, msg);
	html_raw(h, "</p>");
}

/* /admin/users.  add_error: why the add form was refused (what was typed
 * is shown again). */
static enum MHD_Result people_page(struct request *req, unsigned status, const char *add_error)
{
	const char *search = req_arg(req, "q"), *school = req_arg(req, "school"),
	           *role = req_arg(req, "role"), *st = status_arg(req);
	enum kd_role r;
	struct acct_query q = {
		.search = search,
		.school = school && cat_slug_valid(school) ? school : NULL,
		.role = role && users_role_parse(role, &r) == 0 ? (int)r : -1,
		.status = !strcmp(st, "disabled") ? ACCT_DISABLED
		          : !strcmp(st, "all")    ? ACCT_ANY
		                                  : ACCT_ENABLED,
		.page = page_number(req, "page", 1000000),
		.per_page = PEOPLE_PER_PAGE,
	};
	if (search && strlen(search) > 200)
		q.search = NULL;
	struct acct_person *ps = NULL;
	size_t n = 0;
	int64_t total = 0;
	int rc = acct_people_list(req->db, &q, &ps, &n, &total);
	if (rc < 0)
		return page_failed(req, rc, "The accounts could not be read. Try again in a moment.");
	struct cat_school *ss = NULL;
	size_t nss = 0;
	cat_schools_list(req->db, &req->user, &ss, &nss);

	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "People");
	html_raw(&h, "<h1>People</h1>");
	done_note(&h, req);
	html_raw(&h, "<form class=\"filters\" method=\"get\" action=\"/admin/users\" role=\"search\">"
	             "<div class=\"field\"><label for=\"f-q\">Name, e-mail or full name</label>"
	             "<input type=\"search\" id=\"f-q\" name=\"q\" maxlength=\"200\" value=\"");
	html_attr(&h, q.search ? q.search : "");
	html_raw(&h, "\"></div><div class=\"field\"><label for=\"f-school\">School</label>");
	school_select(&h, "f-school", ss, nss, q.school, "Any school");
	html_raw(&h, "</div><div class=\"field\"><label for=\"f-role\">Role</label>");
	role_select(&h, "f-role", q.role >= 0 ? role : NULL, true);
	html_raw(&h, "</div><div class=\"field\"><label for=\"f-status\">Status</label>"
	             "<select id=\"f-status\" name=\"status\">");
	static const char *const statuses[][2] = {
		{"enabled", "Enabled"}, {"disabled", "Disabled"}, {"all", "All"}};
	for (size_t i = 0; i < 3; i++) {
		html_raw(&h, "<option value=\"");
		html_attr(&h, statuses[i][0]);
		html_raw(&h, !strcmp(st, statuses[i][0]) ? "\" selected>" : "\">");
		html_text(&h, statuses[i][1]);
		html_raw(&h, "</option>");
	}
	html_raw(&h, "</select></div><button type=\"submit\">Show</button></form>");

	html_raw(&h, "<p class=\"count\">");
	html_textf(&h, "%lld %s", (long long)total, total == 1 ? "person" : "people");
	html_raw(&h, "</p>");
	if (n) {
		page_wide_begin(&h, "People"); /* issue 15: scrolls on a phone */
		html_raw(&h, "<table class=\"figures people\"><thead><tr><th scope=\"col\">Name</th>"
		             "<th scope=\"col\">E-mail</th><th scope=\"col\">Full name</th>"
		             "<th scope=\"col\">Role</th><th scope=\"col\">School</th>"
		             "<th scope=\"col\">Status</th><th scope=\"col\">Last sign-in</th>"
		             "</tr></thead><tbody>");
		for (size_t i = 0; i < n; i++) {
			const struct acct_person *p = &ps[i];
			html_raw(&h, "<tr><td><a href=\"");
			html_attrf(&h, "/admin/users/%lld", (long long)p->id);
			html_raw(&h, "\">");
			html_text(&h, p->name);
			html_raw(&h, "</a></td><td>");
			html_text(&h, p->email);
			html_raw(&h, "</td><td>");
			html_text(&h, p->full_name);
			html_raw(&h, "</td><td>");
			html_text(&h, users_role_name(p->role));
			html_raw(&h, "</td><td>");
			html_text(&h, *p->school_name ? p->school_name : "-");
			html_raw(&h, "</td><td>");
			html_raw(&h, p->disabled ? "<span class=\"badge status-declined\">disabled</span>"
			                         : "enabled");
			html_raw(&h, "</td><td>");
			page_time(&h, p->last_seen, "never");
			html_raw(&h, "</td></tr>");
		}
		html_raw(&h, "</tbody></table>");
		page_wide_end(&h);
	} else {
		html_raw(&h, "<p class=\"empty\">Nobody matches.</p>");
	}
	page_pagination(&h, req, "/admin/users", "page", q.page, total, PEOPLE_PER_PAGE, NULL);

	/* the add form, with what was typed when it was refused */
	char *f_name = add_error ? page_field(req, "name") : NULL,
	     *f_email = add_error ? page_field(req, "email") : NULL,
	     *f_full = add_error ? page_field(req, "full_name") : NULL,
	     *f_role = add_error ? page_field(req, "role") : NULL,
	     *f_school = add_error ? page_field(req, "school") : NULL;
	html_raw(&h, "<section aria-labelledby=\"add-h\" id=\"add\"><h2 id=\"add-h\">Add a "
	             "person</h2>");
	if (add_error)
		page_error(&h, "add-error", add_error);
	html_raw(&h, "<form method=\"post\" action=\"/admin/users\" class=\"edit add-person\">");
	page_csrf_field(&h, req);
	page_input(&h, "a-name", "Name (signs in with it)", "name", "text", f_name, "100", true);
	page_input(&h, "a-email", "E-mail (for signing in with the district's account)", "email",
	           "text", f_email, "254", false);
	page_input(&h, "a-full", "Full name", "full_name", "text", f_full, "200", false);
	html_raw(&h, "<label for=\"a-role\">Role</label>");
	role_select(&h, "a-role", f_role ? f_role : "teacher", false);
	html_raw(&h, "<label for=\"a-school\">School</label>");
	school_select(&h, "a-school", ss, nss, f_school, "None (the whole district)");
	if (req->srv->cfg->password_login)
		html_raw(&h, "<label for=\"a-password\">Password (optional: at least 8 characters; "
		             "without one they sign in with the district's account only)</label>"
		             "<input type=\"password\" id=\"a-password\" name=\"password\" "
		             "autocomplete=\"new-password\" minlength=\"8\" maxlength=\"1000\">");
	html_raw(&h, "<button type=\"submit\">Add</button></form></section>");
	free(f_name);
	free(f_email);
	free(f_full);
	free(f_role);
	free(f_school);
	page_end(&h);
	acct_free(ps);
	cat_schools_free(ss, nss);
	return respond_html(req, status, &h);
}

enum MHD_Result page_admin_users(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_only(req, &refused))
		return refused;
	return people_page(req, MHD_HTTP_OK, NULL);
}

enum MHD_Result page_admin_user_add(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	char *name = page_field(req, "name"), *email = page_field(req, "email"),
	     *full = page_field(req, "full_name"), *role = page_field(req, "role"),
	     *school = page_field(req, "school"), *password = page_field(req, "password");
	char err[KD_ERRMSG_MAX] = "";
	struct users_new n = {.name = name ? name : "", .email = page_nonempty(email),
	                      .full_name = full, .school = page_nonempty(school),
	                      .password = req->srv->cfg->password_login ? page_nonempty(password)
	                                                                : NULL};
	int64_t id = 0;
	int rc = KD_EINVAL;
	if (!role || users_role_parse(role, &n.role) < 0)
		snprintf(err, sizeof err, "choose a role: admin, coach, principal or teacher");
	else
		rc = users_create(req->db, &n, &id, err, sizeof err);
	if (rc == 0) { /* issue 14: the audit trail */
		char detail[600];
		snprintf(detail, sizeof detail, "added: %s%s%s%s%s%s", role, n.school ? " of " : "",
		         n.school ? n.school : "", n.email ? ", e-mail " : "", n.email ? n.email : "",
		         n.password ? ", with a password" : "");
		req_audit(req, AUDIT_USER, 0, n.name, detail);
	}
	if (password) {
		sodium_memzero(password, strlen(password));
		free(password);
	}
	enum MHD_Result r;
	if (rc == 0) {
		char loc[80];
		snprintf(loc, sizeof loc, "/admin/users/%lld?done=added", (long long)id);
		r = respond_redirect(req, loc, NULL);
	} else {
		r = people_page(req, http_status_of(rc), err);
	}
	free(name);
	free(email);
	free(full);
	free(role);
	free(school);
	return r;
}

/* /admin/users/{id}.  error: why a form was refused; form: which ("edit"
 * shows what was typed again). */
static enum MHD_Result person_page(struct request *req, unsigned status, const char *error,
                                   const char *form)
{
	struct acct_person p;
	int rc = acct_person_get(req->db, req->ids[0], &p);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, "There is no account with this number.");
	if (rc < 0)
		return page_failed(req, rc, "The account could not be read. Try again in a moment.");
	struct acct_token *ts = NULL;
	struct acct_session *ss = NULL;
	size_t nt = 0, ns = 0;
	if ((rc = acct_tokens_list(req->db, p.id, &ts, &nt)) < 0 ||
	    (rc = acct_sessions_list(req->db, p.id, &ss, &ns)) < 0) {
		acct_free(ts);
		return page_failed(req, rc, "Their tokens and sessions could not be read.");
	}
	struct cat_school *schools = NULL;
	size_t nschools = 0;
	cat_schools_list(req->db, &req->user, &schools, &nschools);
	bool self = p.id == req->user.id;
	char base[64];
	snprintf(base, sizeof base, "/admin/users/%lld", (long long)p.id);

	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, p.name);
	html_raw(&h, "<p><a href=\"/admin/users\">← People</a></p><h1>");
	html_text(&h, p.name);
	if (p.disabled)
		html_raw(&h, " <span class=\"badge status-declined\">disabled</span>");
	html_raw(&h, "</h1>");
	done_note(&h, req);
	if (error)
		page_error(&h, "person-error", error);
	html_raw(&h, "<dl class=\"facts\"><dt>Added</dt><dd>");
	page_time(&h, p.created_at, "-");
	html_raw(&h, "</dd><dt>Last sign-in</dt><dd>");
	page_time(&h, p.last_seen, "never");
	html_raw(&h, "</dd>");
	if (p.disabled) {
		html_raw(&h, "<dt>Disabled since</dt><dd>");
		page_time(&h, p.disabled_at, "-");
		html_raw(&h, "</dd>");
	}
	html_raw(&h, "<dt>Password</dt><dd>");
	html_text(&h, p.has_password ? "set" : "none");
	html_raw(&h, "</dd><dt>Role set by</dt><dd>");
	html_text(&h, p.role_by_roster ? "the roster (the next import may change it)"
	                                : "kindling (roster imports keep it)");
	html_raw(&h, "</dd>");
	if (p.from_roster)
		html_raw(&h, "<dt>Roster</dt><dd>in the district's roster</dd>");
	html_raw(&h, "</dl>");

	bool refused_edit = error && form && !strcmp(form, "edit");
	char *f_name = refused_edit ? page_field(req, "name") : NULL,
	     *f_email = refused_edit ? page_field(req, "email") : NULL,
	     *f_full = refused_edit ? page_field(req, "full_name") : NULL,
	     *f_role = refused_edit ? page_field(req, "role") : NULL,
	     *f_school = refused_edit ? page_field(req, "school") : NULL;
	html_raw(&h, "<section aria-labelledby=\"edit-h\" id=\"edit\"><h2 id=\"edit-h\">Details"
	             "</h2><form method=\"post\" class=\"edit person\" action=\"");
	html_attr(&h, base);
	html_raw(&h, "\">");
	page_csrf_field(&h, req);
	page_input(&h, "e-name", "Name", "name", "text", f_name ? f_name : p.name, "100", true);
	page_input(&h, "e-email", "E-mail", "email", "text", f_email ? f_email : p.email, "254",
	           false);
	page_input(&h, "e-full", "Full name", "full_name", "text", f_full ? f_full : p.full_name,
	           "200", false);
	html_raw(&h, "<label for=\"e-role\">Role</label>");
	role_select(&h, "e-role", f_role ? f_role : users_role_name(p.role), false);
	html_raw(&h, "<label for=\"e-school\">School</label>");
	school_select(&h, "e-school", schools, nschools, f_school ? f_school : p.school,
	              "None (the whole district)");
	html_raw(&h, "<button type=\"submit\">Save</button></form></section>");
	free(f_name);
	free(f_email);
	free(f_full);
	free(f_role);
	free(f_school);

	html_raw(&h, "<section aria-labelledby=\"access-h\" id=\"access\"><h2 id=\"access-h\">"
	             "Access</h2>");
	char action[96];
	if (self) {
		html_raw(&h, "<p class=\"hint\">This is you: another admin can disable your account "
		             "or change your role.</p>");
	} else if (p.disabled) {
		html_raw(&h, "<p>Enabling lets their tokens work again; they sign in anew.</p>");
		snprintf(action, sizeof action, "%s/enable", base);
		html_raw(&h, "<form method=\"post\" action=\"");
		html_attr(&h, action);
		html_raw(&h, "\">");
		page_csrf_field(&h, req);
		html_raw(&h, "<button type=\"submit\">Enable</button></form>");
	} else {
		html_raw(&h, "<p>Disabling ends their sessions at once and refuses their tokens; "
		             "their clips and notes stay.</p>");
		snprintf(action, sizeof action, "%s/disable", base);
		html_raw(&h, "<form method=\"post\" action=\"");
		html_attr(&h, action);
		html_raw(&h, "\">");
		page_csrf_field(&h, req);
		html_raw(&h, "<button type=\"submit\" class=\"danger\">Disable</button></form>");
	}
	if (req->srv->cfg->password_login) {
		snprintf(action, sizeof action, "%s/password", base);
		html_raw(&h, "<form method=\"post\" class=\"edit password\" action=\"");
		html_attr(&h, action);
		html_raw(&h, "\">");
		page_csrf_field(&h, req);
		html_raw(&h, "<label for=\"e-password\">New password (at least 8 characters)</label>"
		             "<input type=\"password\" id=\"e-password\" name=\"password\" "
		             "autocomplete=\"new-password\" minlength=\"8\" maxlength=\"1000\">"
		             "<button type=\"submit\" name=\"action\" value=\"set\">Set the password"
		             "</button>");
		if (p.has_password)
			html_raw(&h, " <button type=\"submit\" name=\"action\" value=\"remove\" "
			             "formnovalidate>Remove the password</button>");
		html_raw(&h, "</form>");
	}
	html_raw(&h, "</section>");

	html_raw(&h, "<section aria-labelledby=\"tokens-h\" id=\"tokens\"><h2 id=\"tokens-h\">API "
	             "tokens</h2>");
	page_tokens_table(&h, req, ts, nt, base);
	html_raw(&h, "</section><section aria-labelledby=\"sessions-h\" id=\"sessions\">"
	             "<h2 id=\"sessions-h\">Sessions</h2>");
	page_sessions_table(&h, req, ss, ns, base, 0);
	html_raw(&h, "</section>");
	page_end(&h);
	acct_free(ts);
	acct_free(ss);
	cat_schools_free(schools, nschools);
	return respond_html(req, status, &h);
}

enum MHD_Result page_admin_user(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_only(req, &refused))
		return refused;
	return person_page(req, MHD_HTTP_OK, NULL, NULL);
}

/* Back to the person's page, saying what was done. */
static enum MHD_Result done(struct request *req, const char *what, const char *fragment)
{
	char loc[128];
	snprintf(loc, sizeof loc, "/admin/users/%lld?done=%s%s", (long long)req->ids[0], what,
	         fragment);
	return respond_redirect(req, loc, NULL);
}

enum MHD_Result page_admin_user_edit(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	char *name = page_field(req, "name"), *email = page_field(req, "email"),
	     *full = page_field(req, "full_name"), *role = page_field(req, "role"),
	     *school = page_field(req, "school");
	char err[KD_ERRMSG_MAX] = "";
	struct acct_changes c = {.name = name ? name : "", .email = email ? email : "",
	                         .full_name = full ? full : "", .set_role = true,
	                         .set_school = true, .school = school};
	struct acct_person p;
	int rc = acct_person_get(req->db, req->ids[0], &p);
	bool missing = rc == KD_ENOTFOUND;
	if (rc < 0) {
		snprintf(err, sizeof err, "the account could not be read: %s", kd_strerror(rc));
	} else if (!role || users_role_parse(role, &c.role) < 0) {
		snprintf(err, sizeof err, "choose a role: admin, coach, principal or teacher");
		rc = KD_EINVAL;
	} else if (p.id == req->user.id && c.role != KD_ROLE_ADMIN) {
		snprintf(err, sizeof err, "you cannot take away your own admin role: another admin "
		         "can");
		rc = KD_EPERM;
	} else {
		rc = acct_person_update(req->db, p.id, &c, err, sizeof err);
	}
	struct acct_person now;
	if (rc == 0 && acct_person_get(req->db, p.id, &now) == 0) { /* issue 14 */
		char detail[1200];
		audit_person_changes(&p, &now, detail, sizeof detail);
		if (*detail)
			req_audit(req, AUDIT_USER, 0, now.name, detail);
	}
	enum MHD_Result r;
	if (rc == 0)
		r = done(req, "saved", "");
	else if (missing)
		r = page_not_found(req, "There is no account with this number.");
	else
		r = person_page(req, http_status_of(rc), err, "edit");
	free(name);
	free(email);
	free(full);
	free(role);
	free(school);
	return r;
}

static enum MHD_Result set_disabled(struct request *req, bool disable)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	if (disable && req->ids[0] == req->user.id)
		return person_page(req, MHD_HTTP_FORBIDDEN, "You cannot disable your own account: "
		                   "another admin can.", NULL);
	bool changed = false;
	int rc = disable ? acct_person_disable(req->db, req->ids[0], &changed)
	                 : acct_person_enable(req->db, req->ids[0], &changed);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, "There is no account with this number.");
	if (rc < 0)
		return page_failed(req, rc, "The account could not be changed. Try again in a moment.");
	struct acct_person p;
	if (changed && acct_person_get(req->db, req->ids[0], &p) == 0) /* issue 14 */
		req_audit(req, AUDIT_USER, 0, p.name, disable ? "disabled" : "enabled");
	return done(req, disable ? "disabled" : "enabled", "");
}

enum MHD_Result page_admin_user_disable(struct request *req)
{
	return set_disabled(req, true);
}

enum MHD_Result page_admin_user_enable(struct request *req)
{
	return set_disabled(req, false);
}

enum MHD_Result page_admin_user_password(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	if (!req->srv->cfg->password_login)
		return page_message(req, MHD_HTTP_FORBIDDEN, "Passwords are off",
		                    "This kindling signs people in with their district account only "
		                    "(password_login = false).");
	struct acct_person p;
	int rc = acct_person_get(req->db, req->ids[0], &p);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, "There is no account with this number.");
	if (rc < 0)
		return page_failed(req, rc, "The account could not be read. Try again in a moment.");
	char *action = page_field(req, "action"), *password = page_field(req, "password");
	bool remove = action && !strcmp(action, "remove");
	char err[KD_ERRMSG_MAX] = "";
	rc = KD_EINVAL;
	if (!remove && (!password || !*password))
		snprintf(err, sizeof err, "type the new password, or remove the password");
	else
		rc = users_set_password(req->db, req->ids[0], remove ? NULL : password, err,
		                        sizeof err);
	if (password) {
		sodium_memzero(password, strlen(password));
		free(password);
	}
	free(action);
	if (rc == 0) /* issue 14: that it was set, never what to */
		req_audit(req, AUDIT_USER, 0, p.name, remove ? "password removed" : "password set");
	if (rc == 0)
		return done(req, remove ? "nopassword" : "password", "#access");
	return person_page(req, http_status_of(rc), err, "password");
}

enum MHD_Result page_admin_user_token_revoke(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	char words[300]; /* issue 14: whose it was, read before it goes */
	audit_token_words(req->db, req->ids[0], req->ids[1], words, sizeof words);
	int rc = acct_token_revoke(req->db, req->ids[1], req->ids[0]);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, "This person has no token with this number.");
	if (rc < 0)
		return page_failed(req, rc, "The token could not be revoked. Try again in a moment.");
	req_audit(req, AUDIT_TOKEN_REVOKE, 0, words, NULL);
	return done(req, "revoked", "#tokens");
}

enum MHD_Result page_admin_user_session_end(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	int rc = acct_session_end(req->db, req->ids[1], req->ids[0]);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, "This person has no session with this number.");
	if (rc < 0)
		return page_failed(req, rc, "The session could not be ended. Try again in a moment.");
	return done(req, "ended", "#sessions");
}
