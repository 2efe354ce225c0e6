/* test_router.c - the route table and path matching (src/web/router.h):
 * ids and slugs taken from the path, 404 and 405 told apart. */
#include <stdint.h>
#include <stdio.h>

#include "helpers.h"
#include "web/router.h"
#include "kindling/captions.h" /* issue 15 */

/* A request as router_find sees it: only method and path set. */
struct found {
	const struct route *r;
	struct request req;
	char allow[128];
};

static void find(struct found *f, const char *method, const char *path)
{
	memset(f, 0, sizeof *f);
	f->req.method = method;
	f->req.path = path;
	memset(f->allow, 'x', sizeof f->allow - 1); /* must be reset by router_find */
	f->allow[sizeof f->allow - 1] = '\0';
	f->r = router_find(&f->req, f->allow, sizeof f->allow);
}

/* The route found for method+path has this pattern. */
static void expect_route(const char *method, const char *path, const char *pattern)
{
	struct found f;
	find(&f, method, path);
	if (!f.r)
		fail_msg("%s %s: no route (allow '%s'), wanted %s", method, path, f.allow, pattern);
	assert_string_equal(f.r->method, method);
	assert_string_equal(f.r->pattern, pattern);
	assert_string_equal(f.allow, "");
}

/* Nothing at path for any method. */
static void expect_nothing(const char *method, const char *path)
{
	struct found f;
	find(&f, method, path);
	if (f.r)
		fail_msg("%s '%s' matched %s %s", method, path, f.r->method, f.r->pattern);
	if (f.allow[0])
		fail_msg("%s '%s': allow '%s', wanted nothing", method, path, f.allow);
}

static bool segment_ok(const char *seg, size_t n)
{
	if (n && seg[0] == '{')
		return (n == 4 && !strncmp(seg, "{id}", 4)) || (n == 6 && !strncmp(seg, "{slug}", 6));
	for (size_t i = 0; i < n; i++)
		if (seg[i] == '{' || seg[i] == '}')
			return false;
	return true;
}

static void every_route_is_complete_and_unique(void **state)
{
	(void)state;
	static const char *methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
	size_t n;
	const struct route *t = router_table(&n);
	assert_non_null(t);
	for (size_t i = 0; i < n; i++) {
		const struct route *r = &t[i];
		if (!r->method || !r->pattern || !r->fn)
			fail_msg("route %zu (%s %s) lacks a method, pattern or handler", i,
			         r->method ? r->method : "?", r->pattern ? r->pattern : "?");
		bool known = false;
		for (size_t m = 0; m < sizeof methods / sizeof *methods; m++)
			known |= !strcmp(r->method, methods[m]);
		if (!known)
			fail_msg("route %s %s: unknown method", r->method, r->pattern);
		if (r->pattern[0] != '/')
			fail_msg("pattern '%s' does not start with '/'", r->pattern);
		/* segments: literal text, or exactly {id} / {slug} */
		for (const char *p = r->pattern + 1;;) {
			const char *e = strchr(p, '/');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			if (!segment_ok(p, len))
				fail_msg("pattern '%s': segment '%.*s' is neither text, {id} nor {slug}",
				         r->pattern, (int)len, p);
			if (e && len == 0)
				fail_msg("pattern '%s' has an empty segment", r->pattern);
			if (!e)
				break;
			p = e + 1;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t[j].method, r->method) && !strcmp(t[j].pattern, r->pattern))
				fail_msg("%s %s is in the table twice (%zu and %zu)", r->method, r->pattern,
				         j, i);
	}
}

static void only_sign_in_health_and_assets_are_public(void **state)
{
	(void)state;
	static const char *public[] = {
		"GET /healthz", "OPTIONS /api/v1/uploads", "GET /login", "POST /login", "POST /logout",
		"GET /assets/{slug}/{slug}", "HEAD /assets/{slug}/{slug}",
		/* single sign-on: the start of the flow and the provider's way back */
		"GET /auth/oidc", "GET /auth/oidc/callback",
		/* issue 16: a mail's one-click unsubscribe link: its secret is the proof */
		"GET /mail/unsubscribe", "POST /mail/unsubscribe",
	};
	size_t n, n_public = 0, n_streaming = 0;
	const struct route *t = router_table(&n);
	for (size_t i = 0; i < n; i++) {
		char what[128];
		snprintf(what, sizeof what, "%s %s", t[i].method, t[i].pattern);
		bool listed = false;
		for (size_t k = 0; k < sizeof public / sizeof *public; k++)
			listed |= !strcmp(what, public[k]);
		if (listed != !!(t[i].flags & ROUTE_PUBLIC))
			fail_msg("%s is %spublic", what, listed ? "not " : "");
		n_public += listed;
		/* pages are the routes outside /api/, /media/, /assets/, /healthz and /metrics */
		bool page = strncmp(t[i].pattern, "/api/", 5) && strncmp(t[i].pattern, "/media/", 7) &&
		            strncmp(t[i].pattern, "/assets/", 8) && strcmp(t[i].pattern, "/healthz") &&
		            strcmp(t[i].pattern, "/metrics");
		bool sign_in = !strcmp(t[i].pattern, "/login") || !strcmp(t[i].pattern, "/logout") ||
		               !strncmp(t[i].pattern, "/auth/", 6);
		if (page && !sign_in && !(t[i].flags & ROUTE_PAGE))
			fail_msg("%s is a page but not ROUTE_PAGE (would answer 401 JSON)", what);
		if (!page && (t[i].flags & ROUTE_PAGE))
			fail_msg("%s is ROUTE_PAGE but not a page", what);
		if (t[i].begin) {
			n_streaming++;
			assert_string_equal(what, "PATCH /api/v1/uploads/{slug}");
		}
	}
	assert_int_equal(n_public, sizeof public / sizeof *public);
	assert_int_equal(n_streaming, 1);
}

static void every_documented_route_is_there(void **state)
{
	(void)state;
	/* the API of README.md, and the pages */
	static const char *documented[] = {
		"GET /api/v1/clips", "GET /api/v1/clips/{id}", "PATCH /api/v1/clips/{id}",
		"DELETE /api/v1/clips/{id}", "GET /api/v1/schools", "GET /api/v1/practices",
		"GET /api/v1/me", "POST /api/v1/uploads", "HEAD /api/v1/uploads/{slug}",
		"PATCH /api/v1/uploads/{slug}", "DELETE /api/v1/uploads/{slug}",
		"POST /api/v1/clips/{id}/views", "POST /api/v1/visits", "PATCH /api/v1/visits/{id}",
		"GET /api/v1/visits", "GET /api/v1/visits/{id}", "GET /api/v1/visits/{id}/ics",
		"GET /api/v1/schools/{slug}/summary", "GET /api/v1/summary",
		"GET /media/clips/{id}/{slug}", "HEAD /media/clips/{id}/{slug}", "GET /healthz",
		"GET /login", "POST /login", "POST /logout", "GET /", "GET /practices",
		"GET /practices/{slug}", "GET /schools/{slug}", "GET /clips/{id}", "GET /search",
		"GET /visits", "POST /clips/{id}/visit", "GET /schools/{slug}/summary", "GET /district",
		"GET /metrics",
		"GET /admin/audit", "GET /admin/audit.csv", /* issue 14: the audit trail */
		/* issue 15: moments */
		"GET /api/v1/clips/{id}/moments", "POST /api/v1/clips/{id}/moments",
		"GET /api/v1/moments", "PATCH /api/v1/moments/{id}", "DELETE /api/v1/moments/{id}",
		/* issue 15: captions */
		"PUT /api/v1/clips/{id}/captions", "DELETE /api/v1/clips/{id}/captions",
		"GET /api/v1/practices/{slug}/spread", /* issue 15: spread */
		/* issue 15: moments on the clip page (pages_moments.c) */
		"GET /clips/{id}/chapters.vtt", "POST /clips/{id}/moments",
		"POST /clips/{id}/moments/{id}", "POST /clips/{id}/moments/{id}/delete",
		/* issue 16: following, the mail switches, unsubscribing */
		"GET /api/v1/practices/{slug}/follow", "PUT /api/v1/practices/{slug}/follow",
		"DELETE /api/v1/practices/{slug}/follow", "POST /practices/{slug}/follow",
		"POST /account/mail", "GET /mail/unsubscribe", "POST /mail/unsubscribe",
	};
	size_t n;
	const struct route *t = router_table(&n);
	for (size_t k = 0; k < sizeof documented / sizeof *documented; k++) {
		bool there = false;
		for (size_t i = 0; i < n && !there; i++) {
			char what[128];
			snprintf(what, sizeof what, "%s %s", t[i].method, t[i].pattern);
			there = !strcmp(what, documented[k]);
		}
		if (!there)
			fail_msg("%s is not in the route table", documented[k]);
	}
}

/* /metrics: admins, or a scraper with the metrics_token (ROUTE_SCRAPE), and
 * no other route lets a token that is nobody's in. */
static void only_metrics_takes_the_scrapers_token(void **state)
{
	(void)state;
	size_t n, n_scrape = 0;
	const struct route *t = router_table(&n);
	for (size_t i = 0; i < n; i++) {
		if (!(t[i].flags & ROUTE_SCRAPE))
			continue;
		n_scrape++;
		assert_string_equal(t[i].method, "GET");
		assert_string_equal(t[i].pattern, "/metrics");
		assert_true(t[i].flags & ROUTE_ADMIN);
		assert_false(t[i].flags & (ROUTE_PUBLIC | ROUTE_PAGE | ROUTE_KEEP));
	}
	assert_int_equal(n_scrape, 1);
}

static void only_writes_take_a_bounded_body(void **state)
{
	(void)state;
	size_t n, n_bodies = 0;
	const struct route *t = router_table(&n);
	for (size_t i = 0; i < n; i++) {
		const struct route *r = &t[i];
		bool writes = !strcmp(r->method, "POST") || !strcmp(r->method, "PATCH") ||
		              !strcmp(r->method, "PUT");
		if (r->begin) /* streamed elsewhere: the begin handler checks its length */
			continue;
		if (!writes && r->max_body != 0)
			fail_msg("%s %s takes a body of %zu bytes", r->method, r->pattern, r->max_body);
		/* only an admin's roster upload is larger: ROUTE_LARGE, admins only, 64 MiB */
		bool large = (r->flags & (ROUTE_LARGE | ROUTE_ADMIN)) == (ROUTE_LARGE | ROUTE_ADMIN);
		/* issue 15: and a clip's captions, a file of at most CAPTIONS_BYTES_MAX */
		bool captions = !strcmp(r->pattern, "/api/v1/clips/{id}/captions");
		if (r->max_body > (large ? 64u << 20 : captions ? CAPTIONS_BYTES_MAX : 64 * 1024))
			fail_msg("%s %s takes %zu bytes into memory", r->method, r->pattern, r->max_body);
		if ((r->flags & ROUTE_LARGE) && strcmp(r->pattern, "/admin/roster"))
			fail_msg("%s %s is ROUTE_LARGE: only the roster upload should be", r->method,
			         r->pattern);
		n_bodies += r->max_body > 0;
	}
	assert_true(n_bodies >= 10); /* the API's objects and the pages' forms */
	/* a request learns its largest body from its route: the stream has no cap */
	struct found f;
	find(&f, "PATCH", "/api/v1/uploads/0123456789abcdef0123456789abcdef");
	assert_non_null(f.r);
	f.req.route = f.r;
	assert_true(router_body_max(&f.req) == SIZE_MAX);
	f.req.route = NULL;
	assert_int_equal(router_body_max(&f.req), 0);
}

static void ids_are_positive_decimals_of_at_most_15_digits(void **state)
{
	(void)state;
	struct found f;
	find(&f, "GET", "/api/v1/clips/42");
	assert_non_null(f.r);
	assert_string_equal(f.r->pattern, "/api/v1/clips/{id}");
	assert_int_equal(f.req.ids[0], 42);
	find(&f, "GET", "/api/v1/clips/999999999999999"); /* 15 digits */
	assert_non_null(f.r);
	assert_int_equal(f.req.ids[0], 999999999999999LL);
	find(&f, "GET", "/api/v1/clips/1");
	assert_non_null(f.r);
	assert_int_equal(f.req.ids[0], 1);
	find(&f, "GET", "/api/v1/visits/7/ics");
	assert_non_null(f.r);
	assert_string_equal(f.r->pattern, "/api/v1/visits/{id}/ics");
	assert_int_equal(f.req.ids[0], 7);

	const char *bad[] = {
		"/api/v1/clips/0", "/api/v1/clips/007", "/api/v1/clips/+5", "/api/v1/clips/-5",
		"/api/v1/clips/1000000000000000", /* 16 digits */
		"/api/v1/clips/12a", "/api/v1/clips/0x1f", "/api/v1/clips/1.0", "/api/v1/clips/%31",
		"/api/v1/clips/ 1", "/api/v1/clips/1e3",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		expect_nothing("GET", bad[i]);
}

static void slugs_are_captured_up_to_64_bytes(void **state)
{
	(void)state;
	struct found f;
	find(&f, "GET", "/practices/station-rotation");
	assert_non_null(f.r);
	assert_string_equal(f.r->pattern, "/practices/{slug}");
	assert_string_equal(f.req.slugs[0], "station-rotation");
	/* two slugs, and an id beside a slug */
	find(&f, "GET", "/assets/v0123abcd/app.css");
	assert_non_null(f.r);
	assert_string_equal(f.req.slugs[0], "v0123abcd");
	assert_string_equal(f.req.slugs[1], "app.css");
	find(&f, "HEAD", "/media/clips/17/poster.jpg");
	assert_non_null(f.r);
	assert_string_equal(f.r->pattern, "/media/clips/{id}/{slug}");
	assert_int_equal(f.req.ids[0], 17);
	assert_string_equal(f.req.slugs[0], "poster.jpg");
	/* a slug is anything but '/': the handler checks its form */
	find(&f, "GET", "/schools/..");
	assert_non_null(f.r);
	assert_string_equal(f.req.slugs[0], "..");

	char path[128], slug[70];
	memset(slug, 's', 64);
	slug[64] = '\0';
	snprintf(path, sizeof path, "/schools/%s/summary", slug);
	find(&f, "GET", path);
	assert_non_null(f.r);
	assert_string_equal(f.r->pattern, "/schools/{slug}/summary");
	assert_string_equal(f.req.slugs[0], slug);
	strcat(slug, "s"); /* 65 bytes */
	snprintf(path, sizeof path, "/schools/%s/summary", slug);
	expect_nothing("GET", path);
	snprintf(path, sizeof path, "/schools/%s", slug);
	expect_nothing("GET", path);
}

static void unknown_paths_find_nothing_and_allow_nothing(void **state)
{
	(void)state;
	const char *paths[] = {"/nope", "/api/v1", "/api/v1/clip", "/API/v1/clips", "healthz",
	                       "", "/api//v1/clips", "/media/clips/1", "/clips/1/delete",
	                       "/api/v1/clips/1/views/2"};
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
		expect_nothing("GET", paths[i]);
	expect_route("GET", "/", "/");
	expect_route("GET", "/healthz", "/healthz");
	expect_route("POST", "/api/v1/clips/3/views", "/api/v1/clips/{id}/views");
	expect_route("OPTIONS", "/api/v1/uploads", "/api/v1/uploads");
}

static void wrong_method_lists_the_allowed_ones(void **state)
{
	(void)state;
	struct {
		const char *method, *path, *allow;
	} cases[] = {
		{"POST", "/api/v1/clips/5", "GET, PATCH, DELETE"},
		{"PUT", "/api/v1/visits/3", "GET, PATCH"},
		{"DELETE", "/api/v1/uploads", "OPTIONS, POST"},
		{"POST", "/media/clips/1/video.mp4", "GET, HEAD"},
		{"GET", "/logout", "POST"},
		{"DELETE", "/login", "GET, POST"},
		{"get", "/healthz", "GET"}, /* methods are case-sensitive */
		{"GET", "/api/v1/uploads/0123456789abcdef0123456789abcdef", "HEAD, PATCH, DELETE"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct found f;
		find(&f, cases[i].method, cases[i].path);
		if (f.r)
			fail_msg("%s %s matched %s", cases[i].method, cases[i].path, f.r->pattern);
		if (strcmp(f.allow, cases[i].allow))
			fail_msg("%s %s: allow '%s', wanted '%s'", cases[i].method, cases[i].path,
			         f.allow, cases[i].allow);
	}
	/* a short buffer is cut, never overrun */
	struct request req = {.method = "POST", .path = "/api/v1/clips/5"};
	char small[9];
	memset(small, 'x', sizeof small);
	assert_null(router_find(&req, small, 8));
	assert_string_equal(small, "GET, PA");
	assert_int_equal(small[8], 'x');
}

static void trailing_slash_is_not_matched(void **state)
{
	(void)state;
	expect_nothing("GET", "/api/v1/clips/");
	expect_nothing("GET", "/api/v1/clips/5/");
	expect_nothing("GET", "/login/");
	expect_nothing("POST", "/login/");
	expect_nothing("GET", "/practices/");
	expect_nothing("GET", "/healthz/");
	expect_nothing("GET", "//");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_route_is_complete_and_unique),
		cmocka_unit_test(only_sign_in_health_and_assets_are_public),
		cmocka_unit_test(only_metrics_takes_the_scrapers_token),
		cmocka_unit_test(every_documented_route_is_there),
		cmocka_unit_test(only_writes_take_a_bounded_body),
		cmocka_unit_test(ids_are_positive_decimals_of_at_most_15_digits),
		cmocka_unit_test(slugs_are_captured_up_to_64_bytes),
		cmocka_unit_test(unknown_paths_find_nothing_and_allow_nothing),
		cmocka_unit_test(wrong_method_lists_the_allowed_ones),
		cmocka_unit_test(trailing_slash_is_not_matched),
	};
	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
