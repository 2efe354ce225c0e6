/* pages.c - the catalogue in the browser: sign-in, browsing, the clip page.
 *
 * Every page is written through html.h, which escapes all text; every
 * read goes through the catalogue functions, which apply the privacy
 * rules.  Pages work without JavaScript; assets/player.js adds the
 * storyboard previews and time-stamped notes to the clip page. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "html.h"
#include "http.h"
#include "pages.h"
#include "throttle.h"
#include "kindling/catalogue.h"
#include "kindling/comments.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
#include "kindling/visits.h"

#define PER_PAGE 24
/* Failures allowed before a name, or an address, must wait. */
#define NAME_FREE_TRIES 5
#define ADDR_FREE_TRIES 20

/* ------------------------------------------------------------ layout */

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
		            "<a href=\"/practices\">Practices</a><a href=\"/visits\">Visits</a>");
		if (req->user.role == KD_ROLE_PRINCIPAL && req->user.school[0]) {
			html_raw(h, "<a href=\"");
			html_attrf(h, "/schools/%s/summary", req->user.school);
			html_raw(h, "\">Summary</a>");
		} else if (req->user.role == KD_ROLE_ADMIN) {
			html_raw(h, "<a href=\"/district\">District</a>");
		}
		html_raw(h, "</nav>"
		            "<form class=\"search\" role=\"search\" method=\"get\" action=\"/search\">"
		            "<label for=\"top-q\" class=\"vh\">Search clips</label>"
		            "<input id=\"top-q\" type=\"search\" name=\"q\" placeholder=\"Search clips\">"
		            "<button type=\"submit\">Search</button></form>"
		            "<form class=\"signout\" method=\"post\" action=\"/logout\">"
		            "<span class=\"who\">");
		html_text(h, req->user.name);
		html_raw(h, "</span><input type=\"hidden\" name=\"csrf\" value=\"");
		html_attr(h, req->csrf);
		html_raw(h, "\"><button type=\"submit\">Sign out</button></form>");
	}
	html_raw(h, "</header><main id=\"main\" tabindex=\"-1\">");
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

enum MHD_Result not_found(struct request *req, const char *message)
{
	return page_message(req, MHD_HTTP_NOT_FOUND, "Not found", message);
}

static void fmt_duration(double s, char *out, size_t len)
{
	long t = s > 0 && isfinite(s) ? lround(s) : 0;
	if (t >= 3600)
		snprintf(out, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(out, len, "%ld:%02ld", t / 60, t % 60);
}

static void media_url(const struct cat_clip *c, enum kd_media_file f, char *out, size_t len)
{
	snprintf(out, len, "/media/clips/%lld/%s", (long long)c->id, paths_file_name(f));
}

/* One clip in a grid.  query: words to mark, or NULL. */
static void clip_card(struct html *h, const struct cat_clip *c, const char *query)
{
	char url[96], dur[24];
	html_raw(h, "<li class=\"card\"><a class=\"card-link\" href=\"");
	html_attrf(h, "/clips/%lld", (long long)c->id);
	html_raw(h, "\">");
	if (!strcmp(c->status, "ready")) {
		media_url(c, KD_FILE_THUMBNAIL, url, sizeof url);
		/* The link's text is the title: the picture adds nothing to
		 * read aloud. */
		html_raw(h, "<img class=\"thumb\" loading=\"lazy\" width=\"320\" height=\"180\" "
		            "alt=\"\" src=\"");
		html_attr(h, url);
		html_raw(h, "\">");
		if (c->media.probed) {
			fmt_duration(c->media.duration_s, dur, sizeof dur);
			html_raw(h, "<span class=\"dur\"><span class=\"vh\">Length </span>");
			html_text(h, dur);
			html_raw(h, "</span>");
		}
	} else {
		html_raw(h, "<span class=\"thumb pending\">");
		html_text(h, c->status);
		html_raw(h, "</span>");
	}
	html_raw(h, "<span class=\"card-title\">");
	html_text_marked(h, c->title, query);
	html_raw(h, "</span></a><span class=\"meta\">");
	html_text_marked(h, c->school_name, query);
	if (c->teacher && *c->teacher) {
		html_raw(h, " · ");
		html_text_marked(h, c->teacher, query);
	}
	html_raw(h, "</span></li>");
}

static void clip_grid(struct html *h, const struct cat_page *p, const char *query)
{
	if (p->n == 0) {
		html_raw(h, "<p class=\"empty\">No clips here yet.</p>");
		return;
	}
	html_raw(h, "<ul class=\"grid\">");
	for (size_t i = 0; i < p->n; i++)
		clip_card(h, &p->clips[i], query);
	html_raw(h, "</ul>");
}

/* The request's GET arguments as a query string, with page replaced by
 * page_no (0: left out). */
struct args_ctx {
	struct kd_buf *b;
	int64_t page;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
	(void)kind;
	struct args_ctx *ctx = cls;
	if (!strcmp(key, "page"))
		return MHD_YES;
	kd_buf_putc(ctx->b, ctx->b->len ? '&' : '?');
	url_encode(ctx->b, key);
	kd_buf_putc(ctx->b, '=');
	url_encode(ctx->b, value ? value : "");
	return MHD_YES;
}

static char *query_with_page(struct request *req, const char *path, int64_t page)
{
	struct kd_buf q = KD_BUF_INIT(8192);
	struct args_ctx ctx = {&q, page};
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_arg, &ctx);
	if (page > 1)
		kd_buf_printf(&q, "%cpage=%lld", q.len ? '&' : '?', (long long)page);
	char *s = kd_asprintf("%s%s", path, kd_buf_str(&q));
	kd_buf_release(&q);
	return s;
}

static void pagination(struct html *h, struct request *req, const char *path, int64_t page,
                       int64_t total, int64_t per_page)
{
	int64_t pages = (total + per_page - 1) / per_page;
	if (pages <= 1)
		return;
	html_raw(h, "<nav class=\"pages\" aria-label=\"Pages\">");
	if (page > 1) {
		char *u = query_with_page(req, path, page - 1);
		html_raw(h, "<a rel=\"prev\" href=\"");
		html_attr(h, u);
		html_raw(h, "\">← Newer page</a>");
		free(u);
	}
	html_raw(h, "<span>");
	html_textf(h, "Page %lld of %lld", (long long)page, (long long)pages);
	html_raw(h, "</span>");
	if (page < pages) {
		char *u = query_with_page(req, path, page + 1);
		html_raw(h, "<a rel=\"next\" href=\"");
		html_attr(h, u);
		html_raw(h, "\">Next page →</a>");
		free(u);
	}
	html_raw(h, "</nav>");
}

static int64_t page_arg(struct request *req)
{
	const char *v = req_arg(req, "page");
	if (!v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 7)
		return 1;
	long long n = atoll(v);
	return n < 1 ? 1 : n > CAT_PAGE_MAX ? CAT_PAGE_MAX : n;
}

static const struct {
	const char *value, *label;
	enum cat_sort sort;
} SORTS[] = {
	{"newest", "Newest first", CAT_SORT_NEWEST},
	{"oldest", "Oldest first", CAT_SORT_OLDEST},
	{"title", "Title A–Z", CAT_SORT_TITLE},
	{"recorded", "Recently recorded", CAT_SORT_RECORDED},
};

const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static void select_option(struct html *h, const char *value, const char *label, bool selected)
{
	html_raw(h, "<option value=\"");
	html_attr(h, value);
	html_raw(h, selected ? "\" selected>" : "\">");
	html_text(h, label);
	html_raw(h, "</option>");
}

static void text_filter(struct html *h, const char *id, const char *label, const char *value)
{
	html_raw(h, "<div class=\"field\"><label for=\"");
	html_attr(h, id);
	html_raw(h, "\">");
	html_text(h, label);
	html_raw(h, "</label><input type=\"text\" id=\"");
	html_attr(h, id);
	html_raw(h, "\" name=\"");
	html_attr(h, id);
	html_raw(h, "\" value=\"");
	html_attr(h, value ? value : "");
	html_raw(h, "\" maxlength=\"60\"></div>");
}

/* A grid of clips of one practice or one school, with filters. */
static enum MHD_Result listing(struct request *req, const char *path, const char *heading,
                               const char *intro, const char *practice, const char *school)
{
	struct cat_query q = {
		.practice = practice ? practice : nonempty(req_arg(req, "practice")),
		.school = school ? school : nonempty(req_arg(req, "school")),
		.grade = nonempty(req_arg(req, "grade")),
		.subject = nonempty(req_arg(req, "subject")),
		.sort = CAT_SORT_NEWEST,
		.page = page_arg(req),
		.per_page = PER_PAGE,
	};
	const char *sort = req_arg(req, "sort");
	for (size_t i = 0; sort && i < sizeof SORTS / sizeof *SORTS; i++)
		if (!strcmp(sort, SORTS[i].value))
			q.sort = SORTS[i].sort;
	if ((q.grade && strlen(q.grade) > 60) || (q.subject && strlen(q.subject) > 60))
		return page_message(req, MHD_HTTP_BAD_REQUEST, "Filter too long",
		                    "Grade and subject are at most 60 characters.");
	struct cat_page p;
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_clips_list(req->db, &req->user, &q, &p, err, sizeof err);
	if (rc == KD_ENOTFOUND)
		return not_found(req, err);
	if (rc < 0)
		return page_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
		                    "The catalogue could not be read. Try again in a moment.");

	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, heading);
	html_raw(&h, "<h1>");
	html_text(&h, heading);
	html_raw(&h, "</h1>");
	if (intro && *intro) {
		html_raw(&h, "<p class=\"intro\">");
		html_text(&h, intro);
		html_raw(&h, "</p>");
	}
	if (school)
		school_visits_block(&h, req, school);
	/* Filters: a plain GET form, so they work without JavaScript and the
	 * address can be shared. */
	html_raw(&h, "<form class=\"filters\" method=\"get\" action=\"");
	html_attr(&h, path);
	html_raw(&h, "\">");
	if (!school) {
		struct cat_school *schools;
		size_t n;
		if (cat_schools_list(req->db, &req->user, &schools, &n) == 0) {
			html_raw(&h, "<div class=\"field\"><label for=\"school\">School</label>"
			             "<select id=\"school\" name=\"school\">");
			select_option(&h, "", "All schools", !q.school);
			for (size_t i = 0; i < n; i++)
				select_option(&h, schools[i].slug, schools[i].name,
				              q.school && !strcmp(q.school, schools[i].slug));
			html_raw(&h, "</select></div>");
			cat_schools_free(schools, n);
		}
	}
	if (!practice) {
		struct cat_practice *ps;
		size_t n;
		if (cat_practices_list(req->db, &req->user, &ps, &n) == 0) {
			html_raw(&h, "<div class=\"field\"><label for=\"practice\">Practice</label>"
			             "<select id=\"practice\" name=\"practice\">");
			select_option(&h, "", "All practices", !q.practice);
			for (size_t i = 0; i < n; i++)
				select_option(&h, ps[i].slug, ps[i].name,
				              q.practice && !strcmp(q.practice, ps[i].slug));
			html_raw(&h, "</select></div>");
			cat_practices_free(ps, n);
		}
	}
	text_filter(&h, "grade", "Grade", q.grade);
	text_filter(&h, "subject", "Subject", q.subject);
	html_raw(&h, "<div class=\"field\"><label for=\"sort\">Sort</label>"
	             "<select id=\"sort\" name=\"sort\">");
	for (size_t i = 0; i < sizeof SORTS / sizeof *SORTS; i++)
		select_option(&h, SORTS[i].value, SORTS[i].label, q.sort == SORTS[i].sort);
	html_raw(&h, "</select></div><button type=\"submit\">Show</button></form>");
	html_raw(&h, "<p class=\"count\">");
	html_textf(&h, "%lld clip%s", (long long)p.total, p.total == 1 ? "" : "s");
	html_raw(&h, "</p>");
	clip_grid(&h, &p, NULL);
	pagination(&h, req, path, q.page, p.total, q.per_page);
	page_end(&h);
	cat_page_free(&p);
	return respond_html(req, MHD_HTTP_OK, &h);
}

/* ------------------------------------------------------------ sign-in */

/* Is next a path of this site (not "//host" or "/\host", which browsers
 * read as another site)? */
static bool safe_next(const char *next)
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
	char *here = strcmp(req->method, "GET") ? kd_strdup("/") : query_with_page(req, req->path, 0);
	struct kd_buf loc = KD_BUF_INIT(8192);
	kd_buf_puts(&loc, "/login");
	if (strcmp(here, "/") != 0) {
		kd_buf_puts(&loc, "?next=");
		url_encode(&loc, here);
	}
	free(here);
	enum MHD_Result r = respond_redirect(req, kd_buf_str(&loc), NULL);
	kd_buf_release(&loc);
	return r;
}

static void client_address(struct request *req, char *out, size_t len)
{
	snprintf(out, len, "-");
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		          (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
		          (socklen_t)len);
}

static enum MHD_Result login_page(struct request *req, unsigned status, const char *next,
                                  const char *name, const char *error, long retry_after)
{
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Sign in");
	html_raw(&h, "<div class=\"login\"><h1>Sign in</h1>");
	if (error) {
		html_raw(&h, "<p class=\"error\" role=\"alert\">");
		html_text(&h, error);
		html_raw(&h, "</p>");
	}
	html_raw(&h, "<form method=\"post\" action=\"/login\">"
	             "<input type=\"hidden\" name=\"next\" value=\"");
	html_attr(&h, safe_next(next) ? next : "/");
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
	page_end(&h);
	if (retry_after <= 0)
		return respond_html(req, status, &h);
	/* respond_html, plus Retry-After */
	size_t len;
	char *text = kd_buf_take(&h.b, &len);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text,
	                                                            MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	char ra[24];
	snprintf(ra, sizeof ra, "%ld", retry_after);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	req->bytes_out = len;
	return respond(req, status, resp);
}

enum MHD_Result page_login_get(struct request *req)
{
	const char *next = req_arg(req, "next");
	if (auth_request(req) == 0)
		return respond_redirect(req, safe_next(next) ? next : "/", NULL);
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

bool form_body(struct request *req)
{
	const char *type = req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	return type && !strncmp(type, "application/x-www-form-urlencoded", 33);
}

char *field(struct request *req, const char *name)
{
	return form_value(req->body.data, req->body.len, name, 0);
}

enum MHD_Result page_login_post(struct request *req)
{
	if (!same_origin(req) || !form_body(req))
		return page_message(req, MHD_HTTP_FORBIDDEN, "Sign-in refused",
		                    "Sign in from kindling's own sign-in page.");
	char *name = field(req, "name"), *password = field(req, "password"),
	     *next = field(req, "next");
	char addr[64];
	client_address(req, addr, sizeof addr);
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
		r = login_page(req, MHD_HTTP_UNAUTHORIZED, next, name,
		               "That name and password do not match an account.", 0);
	} else {
		throttle_clear("name", name);
		char sid[USERS_TOKEN_MAX], csrf[USERS_CSRF_MAX];
		int rc = users_session_create(req->db, req->user.id, SESSION_TTL_S, sid, csrf);
		if (rc < 0) {
			r = page_message(req, MHD_HTTP_SERVICE_UNAVAILABLE, "Try again",
			                 "The catalogue is busy; sign in again in a moment.");
		} else {
			/* Secure only when the browser reached us over TLS (a proxy in
			 * front says so); kindling itself serves plain HTTP. */
			const char *proto = req_header(req, "X-Forwarded-Proto");
			char cookie[256];
			snprintf(cookie, sizeof cookie,
			         SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s", sid,
			         SESSION_TTL_S, proto && !strcmp(proto, "https") ? "; Secure" : "");
			sodium_memzero(sid, sizeof sid);
			log_info("auth", "user %lld signed in from %s", (long long)req->user.id, addr);
			r = respond_redirect(req, safe_next(next) ? next : "/", cookie);
		}
	}
	if (password)
		sodium_memzero(password, strlen(password));
	free(name);
	free(password);
	free(next);
	return r;
}

/* Does the form carry the session's CSRF token?  Requests signed in with a
 * bearer token carry no ambient credential, so need none. */
bool csrf_ok(struct request *req)
{
	if (!req->by_session)
		return req->signed_in;
	char *got = field(req, "csrf");
	bool ok = got && strlen(got) == strlen(req->csrf) && *got &&
	          sodium_memcmp(got, req->csrf, strlen(got)) == 0;
	free(got);
	return ok;
}

enum MHD_Result csrf_refused(struct request *req)
{
	return page_message(req, MHD_HTTP_FORBIDDEN, "Form expired",
	                    "This form is out of date. Go back, reload the page and send it "
	                    "again.");
}

enum MHD_Result page_logout(struct request *req)
{
	const char *clear = SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax";
	if (auth_request(req) != 0)
		return respond_redirect(req, "/login", clear);
	if (!csrf_ok(req))
		return csrf_refused(req);
	const char *sid = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
	if (sid)
		users_session_delete(req->db, sid);
	return respond_redirect(req, "/login", clear);
}

/* ------------------------------------------------------------ browsing */

enum MHD_Result page_home(struct request *req)
{
	struct cat_query q = {.sort = CAT_SORT_NEWEST, .page = 1, .per_page = 8};
	struct cat_page p;
	char err[KD_ERRMSG_MAX];
	struct cat_practice *ps = NULL;
	struct cat_school *ss = NULL;
	size_t np = 0, ns = 0;
	if (cat_clips_list(req->db, &req->user, &q, &p, err, sizeof err) < 0)
		return page_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
		                    "The catalogue could not be read. Try again in a moment.");
	cat_practices_list(req->db, &req->user, &ps, &np);
	cat_schools_list(req->db, &req->user, &ss, &ns);
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Home");
	html_raw(&h, "<h1>Classroom practice, shared</h1><section aria-labelledby=\"recent-h\">"
	             "<h2 id=\"recent-h\">Recent clips</h2>");
	clip_grid(&h, &p, NULL);
	html_raw(&h, "</section><div class=\"cols\"><section aria-labelledby=\"pr-h\">"
	             "<h2 id=\"pr-h\">Practices</h2><ul class=\"list\">");
	for (size_t i = 0; i < np; i++) {
		html_raw(&h, "<li><a href=\"");
		html_attrf(&h, "/practices/%s", ps[i].slug);
		html_raw(&h, "\">");
		html_text(&h, ps[i].name);
		html_raw(&h, "</a> <span class=\"n\">");
		html_textf(&h, "%lld clip%s", (long long)ps[i].clips, ps[i].clips == 1 ? "" : "s");
		html_raw(&h, "</span></li>");
	}
	html_raw(&h, "</ul></section><section aria-labelledby=\"sc-h\"><h2 id=\"sc-h\">Schools"
	             "</h2><ul class=\"list\">");
	for (size_t i = 0; i < ns; i++) {
		html_raw(&h, "<li><a href=\"");
		html_attrf(&h, "/schools/%s", ss[i].slug);
		html_raw(&h, "\">");
		html_text(&h, ss[i].name);
		html_raw(&h, "</a> <span class=\"n\">");
		html_textf(&h, "%lld clip%s", (long long)ss[i].clips, ss[i].clips == 1 ? "" : "s");
		html_raw(&h, "</span></li>");
	}
	html_raw(&h, "</ul></section></div>");
	page_end(&h);
	cat_page_free(&p);
	cat_practices_free(ps, np);
	cat_schools_free(ss, ns);
	return respond_html(req, MHD_HTTP_OK, &h);
}

enum MHD_Result page_practices(struct request *req)
{
	struct cat_practice *ps;
	size_t n;
	if (cat_practices_list(req->db, &req->user, &ps, &n) < 0)
		return page_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
		                    "The catalogue could not be read. Try again in a moment.");
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Practices");
	html_raw(&h, "<h1>Practices</h1><ul class=\"practices\">");
	for (size_t i = 0; i < n; i++) {
		html_raw(&h, "<li><h2><a href=\"");
		html_attrf(&h, "/practices/%s", ps[i].slug);
		html_raw(&h, "\">");
		html_text(&h, ps[i].name);
		html_raw(&h, "</a></h2><p>");
		html_text(&h, ps[i].description);
		html_raw(&h, "</p><p class=\"n\">");
		html_textf(&h, "%lld clip%s", (long long)ps[i].clips, ps[i].clips == 1 ? "" : "s");
		html_raw(&h, "</p></li>");
	}
	html_raw(&h, "</ul>");
	page_end(&h);
	cat_practices_free(ps, n);
	return respond_html(req, MHD_HTTP_OK, &h);
}

enum MHD_Result page_practice(struct request *req)
{
	struct cat_practice *ps;
	size_t n;
	if (cat_practices_list(req->db, &req->user, &ps, &n) < 0)
		return page_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
		                    "The catalogue could not be read.");
	size_t i;
	for (i = 0; i < n && strcmp(ps[i].slug, req->slugs[0]); i++)
		;
	enum MHD_Result r;
	if (i == n) {
		r = not_found(req, "There is no practice at this address.");
	} else {
		char *path = kd_asprintf("/practices/%s", ps[i].slug);
		r = listing(req, path, ps[i].name, ps[i].description, ps[i].slug, NULL);
		free(path);
	}
	cat_practices_free(ps, n);
	return r;
}

enum MHD_Result page_school(struct request *req)
{
	struct cat_school *ss;
	size_t n;
	if (cat_schools_list(req->db, &req->user, &ss, &n) < 0)
		return page_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
		                    "The catalogue could not be read.");
	size_t i;
	for (i = 0; i < n && strcmp(ss[i].slug, req->slugs[0]); i++)
		;
	enum MHD_Result r;
	if (i == n) {
		r = not_found(req, "There is no school at this address.");
	} else {
		char *path = kd_asprintf("/schools/%s", ss[i].slug);
		r = listing(req, path, ss[i].name, ss[i].district, NULL, ss[i].slug);
		free(path);
	}
	cat_schools_free(ss, n);
	return r;
}

enum MHD_Result page_search(struct request *req)
{
	const char *q = req_arg(req, "q");
	if (q && strlen(q) > 256)
		return page_message(req, MHD_HTTP_BAD_REQUEST, "Search too long",
		                    "Use at most 256 characters.");
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, q && *q ? "Search results" : "Search");
	html_raw(&h, "<h1>Search</h1><form class=\"filters\" role=\"search\" method=\"get\" "
	             "action=\"/search\"><div class=\"field\"><label for=\"q\">Words to find (title, teacher, school, "
	             "practice, tags)</label><input id=\"q\" type=\"search\" name=\"q\" value=\"");
	html_attr(&h, q ? q : "");
	html_raw(&h, "\"></div><button type=\"submit\">Search</button></form>");
	if (q && *q) {
		struct cat_query cq = {.q = q, .sort = CAT_SORT_RELEVANCE, .page = page_arg(req),
		                       .per_page = PER_PAGE};
		struct cat_page p;
		char err[KD_ERRMSG_MAX] = "";
		if (cat_clips_list(req->db, &req->user, &cq, &p, err, sizeof err) < 0) {
			html_release(&h);
			return page_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
			                    "The search failed. Try again in a moment.");
		}
		html_raw(&h, "<p class=\"count\" role=\"status\">");
		html_textf(&h, "%lld clip%s found for “%s”", (long long)p.total,
		           p.total == 1 ? "" : "s", q);
		html_raw(&h, "</p>");
		clip_grid(&h, &p, q);
		pagination(&h, req, "/search", cq.page, p.total, cq.per_page);
		cat_page_free(&p);
	}
	page_end(&h);
	return respond_html(req, MHD_HTTP_OK, &h);
}

/* ------------------------------------------------------------ the clip */

static void meta_row(struct html *h, const char *label, const char *value)
{
	if (!value || !*value)
		return;
	html_raw(h, "<dt>");
	html_text(h, label);
	html_raw(h, "</dt><dd>");
	html_text(h, value);
	html_raw(h, "</dd>");
}

void csrf_field(struct html *h, struct request *req)
{
	html_raw(h, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_attr(h, req->csrf);
	html_raw(h, "\">");
}

/* The visit form of the clip page: 1 to 3 proposed dates and a note; a
 * failed request comes back with its error and what was typed. */
static void visit_form(struct html *h, struct request *req, const struct cat_clip *c,
                       const char *visit_error)
{
	html_raw(h, "<p><a class=\"button\" href=\"#visit\">Request a visit</a></p>"
	            "<section id=\"visit\" class=\"visit\" aria-labelledby=\"visit-h\">"
	            "<h2 id=\"visit-h\">Visit this classroom</h2><p>Seeing the practice live is "
	            "the best next step. Propose one to three days to visit ");
	html_text(h, c->teacher && *c->teacher ? c->teacher : "the teacher");
	html_raw(h, " at ");
	html_text(h, c->school_name);
	html_raw(h, "; the school answers on your <a href=\"/visits\">Visits</a> page.</p>");
	if (visit_error) {
		html_raw(h, "<p class=\"error\" role=\"alert\" id=\"visit-error\">");
		html_text(h, visit_error);
		html_raw(h, "</p>");
	}
	html_raw(h, "<form class=\"visit-form\" method=\"post\" action=\"");
	html_attrf(h, "/clips/%lld/visit", (long long)c->id);
	html_raw(h, "\">");
	csrf_field(h, req);
	html_raw(h, "<fieldset><legend>Days you could come</legend>");
	for (int i = 0; i < 3; i++) {
		char *d = visit_error ? form_value(req->body.data, req->body.len, "dates", i) : NULL;
		html_raw(h, "<label class=\"date\">");
		html_textf(h, i == 0 ? "Day %d" : "Day %d (optional)", i + 1);
		html_raw(h, " <input type=\"date\" name=\"dates\" id=\"visit-date-");
		html_attrf(h, "%d", i + 1);
		html_raw(h, i == 0 ? "\" required value=\"" : "\" value=\"");
		html_attr(h, d ? d : "");
		html_raw(h, "\"></label>");
		free(d);
	}
	char *note = visit_error ? field(req, "note") : NULL;
	html_raw(h, "</fieldset><label for=\"visit-note\">A note for the school (what you would "
	            "like to see)</label><textarea id=\"visit-note\" name=\"note\" rows=\"3\" "
	            "maxlength=\"2000\">");
	html_text(h, note);
	free(note);
	html_raw(h, "</textarea><button type=\"submit\">Ask to visit</button></form></section>");
}

static enum MHD_Result clip_page_v(struct request *req, unsigned status, const char *error,
                                   const char *note_draft, const char *visit_error);

static enum MHD_Result clip_page(struct request *req, unsigned status, const char *error,
                                 const char *note_draft)
{
	return clip_page_v(req, status, error, note_draft, NULL);
}

static enum MHD_Result clip_page_v(struct request *req, unsigned status, const char *error,
                                   const char *note_draft, const char *visit_error)
{
	struct cat_clip c;
	int rc = cat_clip_get(req->db, &req->user, req->ids[0], &c);
	if (rc == KD_ENOTFOUND)
		return not_found(req, "There is no clip at this address, or you may not have "
		                      "access to it.");
	if (rc < 0)
		return page_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
		                    "The catalogue could not be read.");
	struct comment *notes = NULL;
	size_t nn = 0;
	comments_list(req->db, &req->user, c.id, &notes, &nn);
	struct cat_practice *ps = NULL;
	size_t np = 0;
	cat_practices_list(req->db, &req->user, &ps, &np);
	bool ready = !strcmp(c.status, "ready");
	char url[96], dur[24];

	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, c.title);
	html_raw(&h, "<article class=\"clip\"><h1>");
	html_text(&h, c.title);
	html_raw(&h, "</h1>");
	if (error) {
		html_raw(&h, "<p class=\"error\" role=\"alert\">");
		html_text(&h, error);
		html_raw(&h, "</p>");
	}
	if (ready) {
		media_url(&c, KD_FILE_VIDEO, url, sizeof url);
		html_raw(&h, "<div class=\"player\" id=\"player-box\"><video id=\"player\" controls "
		             "preload=\"metadata\" playsinline src=\"");
		/* ?t= (a note's link without JavaScript) starts the video there */
		const char *t = req_arg(req, "t");
		double ts = t ? strtod(t, NULL) : 0;
		if (ts > 0 && isfinite(ts) && ts < COMMENT_AT_MAX)
			html_attrf(&h, "%s#t=%.1f", url, ts);
		else
			html_attr(&h, url);
		media_url(&c, KD_FILE_POSTER, url, sizeof url);
		html_raw(&h, "\" poster=\"");
		html_attr(&h, url);
		media_url(&c, KD_FILE_STORYBOARD_VTT, url, sizeof url);
		html_raw(&h, "\" data-storyboard=\"");
		html_attr(&h, url);
		html_raw(&h, "\" data-clip=\"");
		html_attrf(&h, "%lld", (long long)c.id);
		html_raw(&h, "\">");
		if (c.has_captions) {
			media_url(&c, KD_FILE_CAPTIONS, url, sizeof url);
			html_raw(&h, "<track kind=\"captions\" srclang=\"en\" label=\"Captions\" src=\"");
			html_attr(&h, url);
			html_raw(&h, "\" default>");
		}
		media_url(&c, KD_FILE_VIDEO, url, sizeof url);
		html_raw(&h, "<p>This browser cannot play the video. <a href=\"");
		html_attr(&h, url);
		html_raw(&h, "\">Download it</a> instead.</p></video></div>");
	} else {
		html_raw(&h, "<p class=\"status\">");
		if (!strcmp(c.status, "failed")) {
			html_raw(&h, "This clip could not be processed: ");
			html_text(&h, c.error ? c.error : "no reason was recorded");
		} else {
			html_textf(&h, "This clip is %s; it can be watched once it is ready.", c.status);
		}
		html_raw(&h, "</p>");
	}

	html_raw(&h, "<div class=\"clip-cols\"><section class=\"about\" aria-label=\"About the "
	             "clip\">");
	if (c.description && *c.description) {
		html_raw(&h, "<p class=\"desc\">");
		html_text(&h, c.description);
		html_raw(&h, "</p>");
	}
	html_raw(&h, "<dl class=\"facts\"><dt>School</dt><dd><a href=\"");
	html_attrf(&h, "/schools/%s", c.school);
	html_raw(&h, "\">");
	html_text(&h, c.school_name);
	html_raw(&h, "</a></dd>");
	meta_row(&h, "Teacher", c.teacher);
	meta_row(&h, "Grade", c.grade);
	meta_row(&h, "Subject", c.subject);
	meta_row(&h, "Recorded", c.recorded_on);
	if (c.media.probed) {
		fmt_duration(c.media.duration_s, dur, sizeof dur);
		meta_row(&h, "Length", dur);
	}
	if (c.n_practices) {
		html_raw(&h, "<dt>Practices</dt><dd><ul class=\"chips\">");
		for (size_t i = 0; i < c.n_practices; i++) {
			const char *name = c.practices[i];
			for (size_t j = 0; j < np; j++)
				if (!strcmp(ps[j].slug, c.practices[i]))
					name = ps[j].name;
			html_raw(&h, "<li><a href=\"");
			html_attrf(&h, "/practices/%s", c.practices[i]);
			html_raw(&h, "\">");
			html_text(&h, name);
			html_raw(&h, "</a></li>");
		}
		html_raw(&h, "</ul></dd>");
	}
	if (c.n_tags) {
		html_raw(&h, "<dt>Tags</dt><dd><ul class=\"chips\">");
		for (size_t i = 0; i < c.n_tags; i++) {
			html_raw(&h, "<li><a href=\"/search?q=");
			struct kd_buf t = KD_BUF_INIT(1024);
			url_encode(&t, c.tags[i]);
			html_attr(&h, kd_buf_str(&t));
			kd_buf_release(&t);
			html_raw(&h, "\">");
			html_text(&h, c.tags[i]);
			html_raw(&h, "</a></li>");
		}
		html_raw(&h, "</ul></dd>");
	}
	html_raw(&h, "</dl>");

	/* Asking to visit: for a classroom at another school than one's own. */
	if (ready && strcmp(c.school, req->user.school) != 0)
		visit_form(&h, req, &c, visit_error);

	if (cat_clip_may_edit(&req->user, &c)) {
		html_raw(&h, "<details class=\"edit\"");
		html_raw(&h, error && !note_draft ? " open>" : ">");
		html_raw(&h, "<summary>Edit this clip</summary><form method=\"post\" action=\"");
		html_attrf(&h, "/clips/%lld/edit", (long long)c.id);
		html_raw(&h, "\">");
		csrf_field(&h, req);
		html_raw(&h, "<label for=\"e-title\">Title</label><input id=\"e-title\" name=\"title\" "
		             "required maxlength=\"200\" value=\"");
		html_attr(&h, c.title);
		html_raw(&h, "\"><fieldset><legend>Practices</legend>");
		for (size_t j = 0; j < np; j++) {
			bool on = false;
			for (size_t i = 0; i < c.n_practices; i++)
				on |= !strcmp(c.practices[i], ps[j].slug);
			html_raw(&h, "<label class=\"check\"><input type=\"checkbox\" name=\"practices\" "
			             "value=\"");
			html_attr(&h, ps[j].slug);
			html_raw(&h, on ? "\" checked> " : "\"> ");
			html_text(&h, ps[j].name);
			html_raw(&h, "</label>");
		}
		html_raw(&h, "</fieldset><label for=\"e-tags\">Tags (separated by commas)</label>"
		             "<input id=\"e-tags\" name=\"tags\" maxlength=\"1100\" value=\"");
		for (size_t i = 0; i < c.n_tags; i++) {
			if (i)
				html_raw(&h, ", ");
			html_attr(&h, c.tags[i]);
		}
		html_raw(&h, "\"><button type=\"submit\">Save changes</button></form></details>");
	}
	html_raw(&h, "</section>");

	/* Notes */
	html_raw(&h, "<section id=\"notes\" class=\"notes\" aria-labelledby=\"notes-h\">"
	             "<h2 id=\"notes-h\">Notes</h2>");
	if (nn == 0)
		html_raw(&h, "<p class=\"empty\">No notes yet.</p>");
	else
		html_raw(&h, "<ol class=\"note-list\">");
	for (size_t i = 0; i < nn; i++) {
		html_raw(&h, "<li id=\"");
		html_attrf(&h, "note-%lld", (long long)notes[i].id);
		html_raw(&h, "\">");
		if (notes[i].has_at) {
			/* a moment is shown as the second it falls in */
			fmt_duration(floor(notes[i].at_s), dur, sizeof dur);
			html_raw(&h, "<a class=\"note-time\" href=\"");
			html_attrf(&h, "/clips/%lld?t=%.1f#player-box", (long long)c.id, notes[i].at_s);
			html_raw(&h, "\" data-t=\"");
			html_attrf(&h, "%.1f", notes[i].at_s);
			html_raw(&h, "\"><span class=\"vh\">Play from </span>");
			html_text(&h, dur);
			html_raw(&h, "</a> ");
		}
		html_raw(&h, "<span class=\"note-by\">");
		html_text(&h, notes[i].author ? notes[i].author : "a former user");
		html_raw(&h, "</span> <time datetime=\"");
		html_attr(&h, notes[i].created_at);
		html_raw(&h, "\">");
		html_textf(&h, "%.10s", notes[i].created_at);
		html_raw(&h, "</time><p class=\"note-body\">");
		html_text(&h, notes[i].body);
		html_raw(&h, "</p></li>");
	}
	if (nn)
		html_raw(&h, "</ol>");
	html_raw(&h, "<form class=\"note-form\" method=\"post\" action=\"");
	html_attrf(&h, "/clips/%lld/comments", (long long)c.id);
	html_raw(&h, "\">");
	csrf_field(&h, req);
	html_raw(&h, "<input type=\"hidden\" name=\"at_s\" id=\"at_s\" value=\"\">"
	             "<label for=\"note-body\">Add a note<span id=\"note-at\"></span></label>"
	             "<textarea id=\"note-body\" name=\"body\" rows=\"3\" required "
	             "maxlength=\"4000\">");
	html_text(&h, note_draft);
	html_raw(&h, "</textarea><button type=\"submit\">Add note</button></form></section>");
	html_raw(&h, "</div></article>");
	page_end(&h);
	cat_clip_free(&c);
	comments_free(notes, nn);
	cat_practices_free(ps, np);
	return respond_html(req, status, &h);
}

enum MHD_Result page_clip(struct request *req)
{
	return clip_page(req, MHD_HTTP_OK, NULL, NULL);
}

enum MHD_Result page_comment_add(struct request *req)
{
	if (!form_body(req) || !csrf_ok(req))
		return csrf_refused(req);
	char *body = field(req, "body"), *at = field(req, "at_s");
	double at_s = 0;
	bool timed = false;
	if (at && *at) {
		char *end;
		at_s = strtod(at, &end);
		timed = *end == '\0';
	}
	char err[KD_ERRMSG_MAX] = "";
	int64_t id = 0;
	int rc = comments_add(req->db, &req->user, req->ids[0], timed ? &at_s : NULL,
	                      body ? body : "", &id, err, sizeof err);
	enum MHD_Result r;
	if (rc == 0) {
		char loc[96];
		snprintf(loc, sizeof loc, "/clips/%lld#note-%lld", (long long)req->ids[0],
		         (long long)id);
		r = respond_redirect(req, loc, NULL);
	} else if (rc == KD_ENOTFOUND) {
		r = not_found(req, "There is no clip at this address, or you may not have access "
		                   "to it.");
	} else {
		r = clip_page(req, rc == KD_EINVAL ? MHD_HTTP_BAD_REQUEST
		                                   : MHD_HTTP_SERVICE_UNAVAILABLE,
		              err, body ? body : "");
	}
	free(body);
	free(at);
	return r;
}

enum MHD_Result page_visit_add(struct request *req)
{
	if (!form_body(req) || !csrf_ok(req))
		return csrf_refused(req);
	char *dates[3];
	const char *given[3];
	size_t n = 0;
	for (int i = 0; i < 3; i++) {
		dates[i] = form_value(req->body.data, req->body.len, "dates", i);
		if (dates[i] && *dates[i])
			given[n++] = dates[i];
	}
	char *note = field(req, "note");
	char err[KD_ERRMSG_MAX] = "";
	int64_t id = 0;
	int rc = n ? visit_create(req->db, &req->user, req->ids[0], given, n,
	                          note && *note ? note : NULL, &id, err, sizeof err)
	           : KD_EINVAL;
	if (!n)
		snprintf(err, sizeof err, "choose at least one day you could come");
	enum MHD_Result r;
	if (rc == 0) {
		char loc[64];
		snprintf(loc, sizeof loc, "/visits#visit-%lld", (long long)id);
		r = respond_redirect(req, loc, NULL);
	} else if (rc == KD_ENOTFOUND) {
		r = not_found(req, "There is no clip at this address, or you may not have access "
		                   "to it.");
	} else {
		unsigned st = rc == KD_EINVAL  ? MHD_HTTP_BAD_REQUEST
		              : rc == KD_EPERM ? MHD_HTTP_FORBIDDEN
		                               : MHD_HTTP_SERVICE_UNAVAILABLE;
		r = clip_page_v(req, st, NULL, NULL, err);
	}
	for (int i = 0; i < 3; i++)
		free(dates[i]);
	free(note);
	return r;
}

/* Split a comma list into trimmed, non-empty pieces (pointing into s). */
static size_t split_commas(char *s, const char **out, size_t max)
{
	size_t n = 0;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		while (*tok == ' ')
			tok++;
		size_t len = strlen(tok);
		while (len && tok[len - 1] == ' ')
			tok[--len] = '\0';
		if (!len)
			continue;
		if (n == max)
			return max + 1;
		out[n++] = tok;
	}
	return n;
}

enum MHD_Result page_clip_edit(struct request *req)
{
	if (!form_body(req) || !csrf_ok(req))
		return csrf_refused(req);
	struct cat_clip c;
	int rc = cat_clip_get(req->db, &req->user, req->ids[0], &c);
	if (rc == KD_ENOTFOUND)
		return not_found(req, "There is no clip at this address, or you may not have "
		                      "access to it.");
	if (rc < 0)
		return page_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
		                    "The catalogue could not be read.");
	bool may = cat_clip_may_edit(&req->user, &c);
	cat_clip_free(&c);
	if (!may)
		return page_message(req, MHD_HTTP_FORBIDDEN, "Not allowed",
		                    "Only admins, the uploader and coaches of the clip's school may "
		                    "edit it.");
	char *title = field(req, "title"), *tags = field(req, "tags");
	char *practices[11];
	size_t np = 0;
	while (np < 11 && (practices[np] = form_value(req->body.data, req->body.len, "practices",
	                                              (int)np)))
		np++;
	const char *tag_list[22];
	size_t nt = tags ? split_commas(tags, tag_list, 21) : 0;
	struct cat_clip_edit e = {
		.title = title,
		.practices = (const char *const *)practices,
		.n_practices = np,
		.set_practices = true,
		.tags = tag_list,
		.n_tags = nt > 21 ? 21 : nt,
		.set_tags = tags != NULL,
	};
	char err[KD_ERRMSG_MAX] = "";
	if (np == 0)
		snprintf(err, sizeof err, "Choose at least one practice.");
	else if (np > 10)
		snprintf(err, sizeof err, "A clip can have at most 10 practices.");
	else
		rc = cat_clip_update(req->db, req->ids[0], &e, err, sizeof err);
	enum MHD_Result r;
	if (!*err && rc == 0) {
		char loc[64];
		snprintf(loc, sizeof loc, "/clips/%lld", (long long)req->ids[0]);
		r = respond_redirect(req, loc, NULL);
	} else {
		r = clip_page(req, MHD_HTTP_BAD_REQUEST, err, NULL);
	}
	free(title);
	free(tags);
	for (size_t i = 0; i < np; i++)
		free(practices[i]);
	return r;
}
