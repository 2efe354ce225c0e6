/* layout.c - the frame around every page, whole-page messages and posted
 * forms (see layout.h). */
#include "layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "static.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/mem.h"
#include "kindling/visits.h" /* issue 16 */

/* issue 16: the Visits link, "Visits (2)" when two requests wait for the
 * person's answer, named "Visits, 2 waiting for an answer" for a screen
 * reader.  Asked on every page; a page kept for the same person
 * (answers.h) is kept for one catalogue epoch, and a new or answered
 * request is a change, so a kept page never shows an old count. */
static void visits_link(struct html *h, struct request *req)
{
	int64_t n = 0;
	if (req->db && visit_count_waiting(req->db, &req->user, &n) < 0)
		n = 0; /* (logged) the link without its count */
	html_raw(h, "<a href=\"/visits\">Visits");
	if (n > 0) {
		html_raw(h, " <span class=\"count\" id=\"visits-waiting\"><span aria-hidden=\"true\">");
		html_textf(h, "(%lld)", (long long)n);
		html_raw(h, "</span><span class=\"vh\">");
		html_textf(h, ", %lld waiting for an answer", (long long)n);
		html_raw(h, "</span></span>");
	}
	html_raw(h, "</a>");
}

void page_begin(struct html *h, struct request *req, const char *title)
{
	char css[96], js[96], icon[96];
	html_raw(h, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	            );
	if (req->by_session) {
		/* for the scripts' API requests (X-CSRF-Token) */
		html_raw(h, "<meta name=\"csrf-token\" content=\"");
		html_attr(h, req->csrf);
		html_raw(h, "\">");
	}
	html_raw(h, "<title>");
	html_text(h, title);
	html_raw(h, " · kindling</title><link rel=\"stylesheet\" href=\"");
	html_attr(h, asset_url("style.css", css, sizeof css));
	html_raw(h, "\"><link rel=\"icon\" type=\"image/svg+xml\" href=\"");
	html_attr(h, asset_url("icon.svg", icon, sizeof icon));
	html_raw(h, "\"><script defer src=\"");
	html_attr(h, asset_url("player.js", js, sizeof js));
	html_raw(h, "\"></script></head><body>"
	            "<a class=\"skip\" href=\"#main\">Skip to content</a>"
	            "<header class=\"top\"><a class=\"brand\" href=\"/\"><img src=\"");
	html_attr(h, icon);
	html_raw(h, "\" alt=\"\" width=\"28\" height=\"28\"> kindling</a>");
	if (req->signed_in) {
		html_raw(h, "<nav aria-label=\"Main\"><a href=\"/\">Home</a>"
		            "<a href=\"/practices\">Practices</a>");
		visits_link(h, req); /* issue 16: with the requests waiting for an answer */
		if (req->user.role == KD_ROLE_PRINCIPAL && req->user.school[0]) {
			html_raw(h, "<a href=\"");
			html_attrf(h, "/schools/%s/summary", req->user.school);
			html_raw(h, "\">Summary</a>");
		} else if (req->user.role == KD_ROLE_ADMIN) {
			html_raw(h, "<a href=\"/district\">District</a><a href=\"/admin/users\">Admin</a>");
		}
		html_raw(h, "</nav>"
		            "<form class=\"search\" role=\"search\" method=\"get\" action=\"/search\">"
		            "<label for=\"top-q\" class=\"vh\">Search clips</label>"
		            "<input id=\"top-q\" type=\"search\" name=\"q\" placeholder=\"Search clips\">"
		            "<button type=\"submit\">Search</button></form>"
		            "<form class=\"signout\" method=\"post\" action=\"/logout\">"
		            "<a class=\"who\" href=\"/account\" title=\"Your account, tokens and "
		            "sessions\">");
		html_text(h, req->user.name);
		html_raw(h, "</a><input type=\"hidden\" name=\"csrf\" value=\"");
		html_attr(h, req->csrf);
		html_raw(h, "\"><button type=\"submit\">Sign out</button></form>");
	}
	html_raw(h, "</header><main id=\"main\" tabindex=\"-1\">");
	/* the admin pages lead to each other */
	if (req->signed_in && req->user.role == KD_ROLE_ADMIN && !strncmp(req->path, "/admin/", 7)) {
		static const char *const admin[][2] = {{"/admin/users", "People"},
		                                       {"/admin/schools", "Schools"},
		                                       {"/admin/practices", "Practices"},
		                                       {"/admin/roster", "Roster"},
		                                       {"/admin/audit", "Audit trail"}}; /* issue 14 */
		html_raw(h, "<nav class=\"admin\" aria-label=\"Administration\">");
		for (size_t i = 0; i < sizeof admin / sizeof *admin; i++) {
			bool here = !strncmp(req->path, admin[i][0], strlen(admin[i][0]));
			html_raw(h, "<a href=\"");
			html_attr(h, admin[i][0]);
			html_raw(h, here ? "\" aria-current=\"page\">" : "\">");
			html_text(h, admin[i][1]);
			html_raw(h, "</a>");
		}
		html_raw(h, "</nav>");
	}
}

void page_end(struct html *h)
{
	html_raw(h, "</main><footer class=\"foot\"><p>kindling: classroom practice, shared "
	            "between schools. Videos show children: do not copy or share them "
	            "outside the district.</p></footer></body></html>\n");
}

enum MHD_Result page_message(struct request *req, unsigned status, const char *title,
                             const char *message)
{
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, title);
	html_raw(&h, "<h1>");
	html_text(&h, title);
	html_raw(&h, "</h1><p>");
	html_text(&h, message);
	html_raw(&h, "</p><p><a href=\"/\">Back to the catalogue</a></p>");
	page_end(&h);
	return respond_html(req, status, &h);
}

enum MHD_Result page_not_found(struct request *req, const char *message)
{
	return page_message(req, MHD_HTTP_NOT_FOUND, "Not found", message);
}

enum MHD_Result page_failed(struct request *req, int err, const char *message)
{
	return page_message(req, http_status_of(err), "Something went wrong", message);
}

bool page_form_body(struct request *req)
{
	const char *type = req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	return type && !strncmp(type, "application/x-www-form-urlencoded", 33);
}

bool page_admin_only(struct request *req, enum MHD_Result *answered)
{
	if (req->user.role == KD_ROLE_ADMIN)
		return true;
	*answered = page_message(req, MHD_HTTP_FORBIDDEN, "For admins only",
	                         "This page is for your district's kindling admins.");
	return false;
}

bool page_admin_form(struct request *req, enum MHD_Result *answered)
{
	return page_admin_only(req, answered) && page_form_ok(req, answered);
}

void page_input(struct html *h, const char *id, const char *label, const char *name,
                const char *type, const char *value, const char *maxlength, bool required)
{
	html_raw(h, "<label for=\"");
	html_attr(h, id);
	html_raw(h, "\">");
	html_text(h, label);
	html_raw(h, "</label><input type=\"");
	html_attr(h, type);
	html_raw(h, "\" id=\"");
	html_attr(h, id);
	html_raw(h, "\" name=\"");
	html_attr(h, name);
	html_raw(h, "\" maxlength=\"");
	html_attr(h, maxlength);
	html_raw(h, required ? "\" required value=\"" : "\" value=\"");
	html_attr(h, value ? value : "");
	html_raw(h, "\">");
}

char *page_field(struct request *req, const char *name)
{
	return form_value(req->body.data, req->body.len, name, 0);
}

char *page_field_n(struct request *req, const char *name, int n)
{
	return form_value(req->body.data, req->body.len, name, n);
}

void page_csrf_field(struct html *h, struct request *req)
{
	html_raw(h, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_attr(h, req->csrf);
	html_raw(h, "\">");
}

enum MHD_Result page_csrf_refused(struct request *req)
{
	return page_message(req, MHD_HTTP_FORBIDDEN, "Form expired",
	                    "This form is out of date. Go back, reload the page and send it "
	                    "again.");
}

bool page_form_ok(struct request *req, enum MHD_Result *answered)
{
	if (page_form_body(req) && auth_form_csrf_ok(req))
		return true;
	*answered = page_csrf_refused(req);
	return false;
}

/* The request's GET arguments as a query string, leaving out one. */
struct args_ctx {
	struct kd_buf *b;
	const char *skip;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
	(void)kind;
	struct args_ctx *ctx = cls;
	if (!strcmp(key, ctx->skip))
		return MHD_YES;
	kd_buf_putc(ctx->b, ctx->b->len ? '&' : '?');
	html_url_encode(ctx->b, key);
	kd_buf_putc(ctx->b, '=');
	html_url_encode(ctx->b, value ? value : "");
	return MHD_YES;
}

char *page_self_url(struct request *req, const char *path, const char *param, int64_t page)
{
	struct kd_buf q = KD_BUF_INIT(8192);
	struct args_ctx ctx = {&q, param};
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_arg, &ctx);
	if (page > 1)
		kd_buf_printf(&q, "%c%s=%lld", q.len ? '&' : '?', param, (long long)page);
	char *s = kd_asprintf("%s%s", path, kd_buf_str(&q));
	kd_buf_release(&q);
	return s;
}

void page_pagination(struct html *h, struct request *req, const char *path, const char *param,
                     int64_t page, int64_t total, int64_t per_page, const char *fragment)
{
	int64_t pages = (total + per_page - 1) / per_page;
	if (pages <= 1)
		return;
	html_raw(h, "<nav class=\"pages\" aria-label=\"Pages\">");
	for (int dir = -1; dir <= 1; dir += 2) {
		int64_t to = page + dir;
		if (dir == 1) {
			html_raw(h, "<span>");
			html_textf(h, "Page %lld of %lld", (long long)page, (long long)pages);
			html_raw(h, "</span>");
		}
		if (to < 1 || to > pages)
			continue;
		char *u = page_self_url(req, path, param, to);
		html_raw(h, dir < 0 ? "<a rel=\"prev\" href=\"" : "<a rel=\"next\" href=\"");
		html_attr(h, u);
		html_attr(h, fragment ? fragment : "");
		html_raw(h, dir < 0 ? "\">← Previous page</a>" : "\">Next page →</a>");
		free(u);
	}
	html_raw(h, "</nav>");
}

int64_t page_number(struct request *req, const char *param, int64_t max)
{
	const char *v = req_arg(req, param);
	if (!v || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 7)
		return 1;
	long long n = atoll(v);
	return n < 1 ? 1 : n > max ? max : n;
}

bool page_load_clip(struct request *req, struct cat_clip *c, enum MHD_Result *answered)
{
	int rc = cat_clip_get(req->db, &req->user, req->ids[0], c);
	if (rc == 0)
		return true;
	*answered = rc == KD_ENOTFOUND
	                    ? page_not_found(req, "There is no clip at this address, or you may not "
	                                          "have access to it.")
	                    : page_failed(req, rc, "The catalogue could not be read.");
	return false;
}

const char *page_nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

void page_duration(double s, char *out, size_t len)
{
	long t = s > 0 && isfinite(s) ? lround(s) : 0;
	if (t >= 3600)
		snprintf(out, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(out, len, "%ld:%02ld", t / 60, t % 60);
}

void page_error(struct html *h, const char *id, const char *message)
{
	html_raw(h, "<p class=\"error\" role=\"alert\"");
	if (id) {
		html_raw(h, " id=\"");
		html_attr(h, id);
		html_raw(h, "\"");
	}
	html_raw(h, ">");
	html_text(h, message);
	html_raw(h, "</p>");
}

/* issue 15: see layout.h */
void page_wide_begin(struct html *h, const char *label)
{
	html_raw(h, "<div class=\"wide\" role=\"region\" tabindex=\"0\" aria-label=\"");
	html_attr(h, label);
	html_raw(h, "\">");
}

void page_wide_end(struct html *h)
{
	html_raw(h, "</div>");
}
