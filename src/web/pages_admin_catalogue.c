/* pages_admin_catalogue.c - schools and practices, as an admin keeps them:
 * /admin/schools (add; change a name or district) and /admin/practices
 * (add; rename and describe; retire and bring back; merge one into
 * another, after a page that says what the merge would move).  Admins
 * only: everyone else gets a 403 page.  Every form is a POST with the
 * session's CSRF token, answered by a redirect to the list (which says
 * what was done), or by the list again with the reason and what was
 * typed.  The changes themselves are catalogue.h's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "pages.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/mem.h"

#define STR_(x) #x
#define STR(x) STR_(x)
/* What the forms offer; the catalogue checks the same (schools.c). */
#define NAME_MAX_LEN 200
#define DISTRICT_MAX_LEN 200
#define DESCRIPTION_MAX_LEN 2000

/* A form that was refused: which one, for which slug, and why.  Its
 * fields are read back from the request to show what was typed. */
struct refused {
	const char *form; /* "add", "edit", "merge" */
	const char *slug; /* the school or practice of an "edit", or NULL */
	const char *why;
};

/* A posted field, NULL when absent (the caller frees). */
static char *field(struct request *req, const struct refused *r, const char *name)
{
	return r ? page_field(req, name) : NULL;
}

static void form_open(struct html *h, struct request *req, const char *action)
{
	html_raw(h, "<form method=\"post\" action=\"");
	html_attr(h, action);
	html_raw(h, "\">");
	page_csrf_field(h, req);
}

/* What the last form did, from the redirect's query (?done=&slug=). */
static void done_note(struct html *h, struct request *req, const char *what)
{
	const char *done = req_arg(req, "done"), *slug = req_arg(req, "slug");
	if (!done || !slug || !cat_slug_valid(slug))
		return;
	static const struct {
		const char *done, *text;
	} NOTES[] = {
		{"added", "Added"}, {"saved", "Saved"}, {"retired", "Retired"},
		{"unretired", "Back in use"},
	};
	for (size_t i = 0; i < sizeof NOTES / sizeof *NOTES; i++) {
		if (strcmp(done, NOTES[i].done))
			continue;
		html_raw(h, "<p class=\"notice\" role=\"status\">");
		html_textf(h, "%s: the %s '%s'.", NOTES[i].text, what, slug);
		html_raw(h, "</p>");
	}
}

/* Redirect to list#anchor with ?done=&slug=. */
static enum MHD_Result done_redirect(struct request *req, const char *list, const char *done,
                                     const char *slug, const char *anchor_prefix)
{
	char *loc = kd_asprintf("%s?done=%s&slug=%s#%s%s", list, done, slug, anchor_prefix, slug);
	enum MHD_Result r = respond_redirect(req, loc, NULL);
	free(loc);
	return r;
}

/* ---------------------------------------------------------------- schools */

static void school_row(struct html *h, struct request *req, const struct cat_school_row *s,
                       const struct refused *r)
{
	bool again = r && !strcmp(r->form, "edit") && r->slug && !strcmp(r->slug, s->slug);
	char *name = again ? field(req, r, "name") : NULL;
	char *district = again ? field(req, r, "district") : NULL;
	char id[96];
	html_raw(h, "<tr id=\"");
	html_attrf(h, "school-%s", s->slug);
	html_raw(h, "\"><td><a href=\"");
	html_attrf(h, "/schools/%s", s->slug);
	html_raw(h, "\">");
	html_text(h, s->name);
	html_raw(h, "</a></td><td><code>");
	html_text(h, s->slug);
	html_raw(h, "</code></td><td>");
	html_text(h, s->district);
	html_raw(h, "</td><td class=\"n\">");
	html_textf(h, "%lld", (long long)s->clips);
	html_raw(h, "</td><td class=\"n\">");
	html_textf(h, "%lld", (long long)s->people);
	html_raw(h, "</td><td>");
	html_raw(h, s->from_roster ? "Roster" : "kindling");
	html_raw(h, "</td><td><details class=\"edit\"");
	html_raw(h, again ? " open>" : ">");
	html_raw(h, "<summary>Change</summary>");
	if (again)
		page_error(h, NULL, r->why);
	if (s->from_roster)
		html_raw(h, "<p class=\"hint\">This school comes from the roster, which manages its "
		            "name and district: you may change them here, but the next roster import "
		            "sets them again.</p>");
	char *action = kd_asprintf("/admin/schools/%s/edit", s->slug);
	form_open(h, req, action);
	free(action);
	snprintf(id, sizeof id, "s-name-%s", s->slug);
	page_input(h, id, "Name", "name", "text", again ? name : s->name, STR(NAME_MAX_LEN), true);
	snprintf(id, sizeof id, "s-district-%s", s->slug);
	page_input(h, id, "District", "district", "text", again ? district : s->district,
	           STR(DISTRICT_MAX_LEN), false);
	html_raw(h, "<button type=\"submit\">Save</button></form></details></td></tr>");
	free(name);
	free(district);
}

static enum MHD_Result schools_page(struct request *req, unsigned status, const struct refused *r)
{
	struct cat_school_row *list = NULL;
	size_t n = 0;
	int rc = cat_schools_admin_list(req->db, &list, &n);
	if (rc < 0)
		return page_failed(req, rc, "The schools could not be read. Try again in a moment.");
	bool adding = r && !strcmp(r->form, "add");
	char *slug = adding ? field(req, r, "slug") : NULL, *name = adding ? field(req, r, "name") : NULL,
	     *district = adding ? field(req, r, "district") : NULL;

	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Schools");
	html_raw(&h, "<h1>Schools</h1><p>The district's schools. A school's address (its slug) "
	             "never changes; its name and district do. See also <a "
	             "href=\"/admin/practices\">practices</a>.</p>");
	done_note(&h, req, "school");
	if (r && !adding && !r->slug)
		page_error(&h, NULL, r->why);
	if (!n) {
		html_raw(&h, "<p class=\"empty\">No schools yet: add the first below, or import a "
		             "roster.</p>");
	} else {
		page_wide_begin(&h, "Schools"); /* issue 15: a region keyboards can scroll */
		html_raw(&h, "<table class=\"figures\"><caption>");
		html_textf(&h, "%zu school%s", n, n == 1 ? "" : "s");
		html_raw(&h, "</caption><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Slug"
		             "</th><th scope=\"col\">District</th><th scope=\"col\">Clips</th>"
		             "<th scope=\"col\">People</th><th scope=\"col\">From</th><th "
		             "scope=\"col\"><span class=\"vh\">Change</span></th></tr></thead><tbody>");
		for (size_t i = 0; i < n; i++)
			school_row(&h, req, &list[i], r);
		html_raw(&h, "</tbody></table></div>");
	}
	html_raw(&h, "<section aria-labelledby=\"add-h\" id=\"add\"><h2 id=\"add-h\">Add a school"
	             "</h2>");
	if (adding)
		page_error(&h, "add-error", r->why);
	html_raw(&h, "<div class=\"edit\">");
	form_open(&h, req, "/admin/schools");
	page_input(&h, "add-slug", "Slug (lowercase letters, digits and '-'; it never changes)",
	           "slug", "text", slug, "63", true);
	page_input(&h, "add-name", "Name", "name", "text", name, STR(NAME_MAX_LEN), true);
	page_input(&h, "add-district", "District", "district", "text", district, STR(DISTRICT_MAX_LEN),
	           false);
	html_raw(&h, "<button type=\"submit\">Add the school</button></form></div></section>");
	page_end(&h);
	free(slug);
	free(name);
	free(district);
	cat_school_rows_free(list, n);
	return respond_html(req, status, &h);
}

enum MHD_Result page_admin_schools(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_only(req, &refused))
		return refused;
	return schools_page(req, MHD_HTTP_OK, NULL);
}

enum MHD_Result page_admin_school_add(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	char *slug = page_field(req, "slug"), *name = page_field(req, "name"),
	     *district = page_field(req, "district");
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_school_add(req->db, slug ? slug : "", name ? name : "",
	                        district ? district : "", err, sizeof err);
	enum MHD_Result r;
	if (rc == 0) {
		r = done_redirect(req, "/admin/schools", "added", slug, "school-");
	} else {
		struct refused why = {.form = "add", .why = err};
		r = schools_page(req, http_status_of(rc), &why);
	}
	free(slug);
	free(name);
	free(district);
	return r;
}

enum MHD_Result page_admin_school_edit(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	const char *slug = req->slugs[0];
	char *name = page_field(req, "name"), *district = page_field(req, "district");
	char err[KD_ERRMSG_MAX] = "";
	/* (a field not sent is left as it is: the form always sends both) */
	int rc = cat_school_edit(req->db, slug, name, district, err, sizeof err);
	enum MHD_Result r;
	if (rc == 0) {
		r = done_redirect(req, "/admin/schools", "saved", slug, "school-");
	} else {
		/* (a slug that names no school has no row to show the form in) */
		struct refused why = {.form = "edit", .slug = rc == KD_ENOTFOUND ? NULL : slug,
		                      .why = err};
		r = schools_page(req, http_status_of(rc), &why);
	}
	free(name);
	free(district);
	return r;
}

/* ---------------------------------------------------------------- practices */

static void practice_row(struct html *h, struct request *req, const struct cat_practice *p,
                         const struct refused *r)
{
	bool again = r && !strcmp(r->form, "edit") && r->slug && !strcmp(r->slug, p->slug);
	char *name = again ? field(req, r, "name") : NULL;
	char *desc = again ? field(req, r, "description") : NULL;
	char id[96];
	html_raw(h, "<tr id=\"");
	html_attrf(h, "practice-%s", p->slug);
	html_raw(h, "\"><td><a href=\"");
	html_attrf(h, "/practices/%s", p->slug);
	html_raw(h, "\">");
	html_text(h, p->name);
	html_raw(h, "</a><br><span class=\"hint\">");
	html_text(h, p->description);
	html_raw(h, "</span></td><td><code>");
	html_text(h, p->slug);
	html_raw(h, "</code></td><td class=\"n\">");
	html_textf(h, "%lld", (long long)p->clips);
	html_raw(h, "</td><td>");
	if (p->retired_at) {
		html_raw(h, "<span class=\"badge status-declined\">Retired</span> since ");
		html_textf(h, "%.10s", p->retired_at);
	} else {
		html_raw(h, "<span class=\"badge status-accepted\">In use</span>");
	}
	html_raw(h, "</td><td><details class=\"edit\"");
	html_raw(h, again ? " open>" : ">");
	html_raw(h, "<summary>Change</summary>");
	if (again)
		page_error(h, NULL, r->why);
	char *action = kd_asprintf("/admin/practices/%s/edit", p->slug);
	form_open(h, req, action);
	free(action);
	snprintf(id, sizeof id, "p-name-%s", p->slug);
	page_input(h, id, "Name", "name", "text", again ? name : p->name, STR(NAME_MAX_LEN), true);
	html_raw(h, "<label for=\"");
	html_attrf(h, "p-desc-%s", p->slug);
	html_raw(h, "\">Description</label><textarea rows=\"3\" maxlength=\""
	            STR(DESCRIPTION_MAX_LEN) "\" name=\"description\" id=\"");
	html_attrf(h, "p-desc-%s", p->slug);
	html_raw(h, "\">");
	html_text(h, again ? (desc ? desc : "") : p->description);
	html_raw(h, "</textarea><button type=\"submit\">Save</button></form>");
	action = kd_asprintf("/admin/practices/%s/%s", p->slug, p->retired_at ? "unretire"
	                                                                      : "retire");
	form_open(h, req, action);
	free(action);
	if (p->retired_at)
		html_raw(h, "<p class=\"hint\">Bring it back to offer it for new clips again.</p>"
		            "<button type=\"submit\">Bring back into use</button></form>");
	else
		html_raw(h, "<p class=\"hint\">A retired practice keeps its clips, which still "
		            "show it and are still found by it, but is offered for no new clip.</p>"
		            "<button type=\"submit\">Retire</button></form>");
	html_raw(h, "</details></td></tr>");
	free(name);
	free(desc);
}

static void practice_select(struct html *h, const char *id, const char *name,
                            const struct cat_practice *ps, size_t n, const char *chosen)
{
	html_raw(h, "<select id=\"");
	html_attr(h, id);
	html_raw(h, "\" name=\"");
	html_attr(h, name);
	html_raw(h, "\" required><option value=\"\">Choose a practice</option>");
	for (size_t i = 0; i < n; i++) {
		html_raw(h, "<option value=\"");
		html_attr(h, ps[i].slug);
		html_raw(h, chosen && !strcmp(chosen, ps[i].slug) ? "\" selected>" : "\">");
		html_text(h, ps[i].name);
		html_textf(h, " (%s%s)", ps[i].slug, ps[i].retired_at ? ", retired" : "");
		html_raw(h, "</option>");
	}
	html_raw(h, "</select>");
}

/* What the merge just done moved, from the redirect's query. */
static void merged_note(struct html *h, struct request *req)
{
	const char *from = req_arg(req, "merged"), *into = req_arg(req, "into");
	const char *moved = req_arg(req, "moved"), *already = req_arg(req, "already"),
	           *visits = req_arg(req, "visits");
	if (!from || !into || !cat_slug_valid(from) || !cat_slug_valid(into))
		return;
	long long m = moved ? atoll(moved) : 0, a = already ? atoll(already) : 0,
	          v = visits ? atoll(visits) : 0;
	html_raw(h, "<p class=\"notice\" role=\"status\" id=\"merged\">");
	html_textf(h, "Merged '%s' into '%s': %lld clip%s moved", from, into, m, m == 1 ? "" : "s");
	if (a)
		html_textf(h, " (%lld more had both already)", a);
	html_textf(h, ", %lld visit%s now about '%s'. The practice '%s' is gone.", v,
	           v == 1 ? "" : "s", into, from);
	html_raw(h, "</p>");
}

static enum MHD_Result practices_page(struct request *req, unsigned status,
                                      const struct refused *r)
{
	struct cat_practice *ps = NULL;
	size_t n = 0;
	int rc = cat_practices_list(req->db, &req->user, &ps, &n);
	if (rc < 0)
		return page_failed(req, rc, "The practices could not be read. Try again in a moment.");
	bool adding = r && !strcmp(r->form, "add"), merging = r && !strcmp(r->form, "merge");
	char *slug = adding ? field(req, r, "slug") : NULL, *name = adding ? field(req, r, "name") : NULL,
	     *desc = adding ? field(req, r, "description") : NULL;
	char *from = merging ? field(req, r, "from") : NULL, *into = merging ? field(req, r, "into") : NULL;

	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Practices");
	html_raw(&h, "<h1>Practices</h1><p>The district's list of practices that clips are "
	             "filed under. A practice's address (its slug) never changes; its name and "
	             "description do. See also <a href=\"/admin/schools\">schools</a>.</p>");
	done_note(&h, req, "practice");
	merged_note(&h, req);
	if (r && !adding && !merging && !r->slug)
		page_error(&h, NULL, r->why);
	page_wide_begin(&h, "Practices"); /* issue 15: a region keyboards can scroll */
	html_raw(&h, "<table class=\"figures\"><caption>");
	html_textf(&h, "%zu practice%s", n, n == 1 ? "" : "s");
	html_raw(&h, "</caption><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Slug</th>"
	             "<th scope=\"col\">Clips</th><th scope=\"col\">Status</th><th scope=\"col\">"
	             "<span class=\"vh\">Change</span></th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++)
		practice_row(&h, req, &ps[i], r);
	html_raw(&h, "</tbody></table></div>");

	html_raw(&h, "<section aria-labelledby=\"add-h\" id=\"add\"><h2 id=\"add-h\">Add a "
	             "practice</h2>");
	if (adding)
		page_error(&h, "add-error", r->why);
	html_raw(&h, "<div class=\"edit\">");
	form_open(&h, req, "/admin/practices");
	page_input(&h, "add-slug", "Slug (lowercase letters, digits and '-'; it never changes)",
	           "slug", "text", slug, "63", true);
	page_input(&h, "add-name", "Name", "name", "text", name, STR(NAME_MAX_LEN), true);
	html_raw(&h, "<label for=\"add-desc\">Description</label><textarea id=\"add-desc\" "
	             "name=\"description\" rows=\"3\" maxlength=\"" STR(DESCRIPTION_MAX_LEN) "\">");
	html_text(&h, desc);
	html_raw(&h, "</textarea><button type=\"submit\">Add the practice</button></form></div>"
	             "</section>");

	html_raw(&h, "<section aria-labelledby=\"merge-h\" id=\"merge\"><h2 id=\"merge-h\">Merge "
	             "two practices</h2><p>When two practices are the same thing under two names: "
	             "every clip and visit of the first is filed under the second, and the first "
	             "is deleted. The next page says how many clips would move, before anything "
	             "changes.</p>");
	if (merging)
		page_error(&h, "merge-error", r->why);
	html_raw(&h, "<div class=\"edit\">");
	form_open(&h, req, "/admin/practices/merge");
	html_raw(&h, "<label for=\"merge-from\">Move all clips of</label>");
	practice_select(&h, "merge-from", "from", ps, n, from);
	html_raw(&h, "<label for=\"merge-into\">into</label>");
	practice_select(&h, "merge-into", "into", ps, n, into);
	html_raw(&h, "<button type=\"submit\">Review the merge</button></form></div></section>");
	page_end(&h);
	free(slug);
	free(name);
	free(desc);
	free(from);
	free(into);
	cat_practices_free(ps, n);
	return respond_html(req, status, &h);
}

enum MHD_Result page_admin_practices(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_only(req, &refused))
		return refused;
	return practices_page(req, MHD_HTTP_OK, NULL);
}

enum MHD_Result page_admin_practice_add(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	char *slug = page_field(req, "slug"), *name = page_field(req, "name"),
	     *desc = page_field(req, "description");
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_practice_add(req->db, slug ? slug : "", name ? name : "", desc ? desc : "",
	                          err, sizeof err);
	enum MHD_Result r;
	if (rc == 0) {
		r = done_redirect(req, "/admin/practices", "added", slug, "practice-");
	} else {
		struct refused why = {.form = "add", .why = err};
		r = practices_page(req, http_status_of(rc), &why);
	}
	free(slug);
	free(name);
	free(desc);
	return r;
}

enum MHD_Result page_admin_practice_edit(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	const char *slug = req->slugs[0];
	char *name = page_field(req, "name"), *desc = page_field(req, "description");
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_practice_edit(req->db, slug, name, desc, err, sizeof err);
	enum MHD_Result r;
	if (rc == 0) {
		r = done_redirect(req, "/admin/practices", "saved", slug, "practice-");
	} else {
		struct refused why = {.form = "edit", .slug = rc == KD_ENOTFOUND ? NULL : slug,
		                      .why = err};
		r = practices_page(req, http_status_of(rc), &why);
	}
	free(name);
	free(desc);
	return r;
}

static enum MHD_Result retire(struct request *req, bool retired)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	const char *slug = req->slugs[0];
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_practice_retire(req->db, slug, retired, err, sizeof err);
	if (rc == 0)
		return done_redirect(req, "/admin/practices", retired ? "retired" : "unretired", slug,
		                     "practice-");
	struct refused why = {.form = "edit", .slug = rc == KD_ENOTFOUND ? NULL : slug, .why = err};
	return practices_page(req, http_status_of(rc), &why);
}

enum MHD_Result page_admin_practice_retire(struct request *req)
{
	return retire(req, true);
}

enum MHD_Result page_admin_practice_unretire(struct request *req)
{
	return retire(req, false);
}

/* The merge, said in full, with the form that does it. */
static enum MHD_Result merge_confirm(struct request *req, const char *from, const char *into,
                                     const struct cat_practice_merge *m)
{
	struct cat_practice *a = NULL, *b = NULL;
	if (cat_practice_get(req->db, from, &a) < 0 || cat_practice_get(req->db, into, &b) < 0) {
		if (a)
			cat_practices_free(a, 1);
		return page_failed(req, KD_EDB, "The practices could not be read. Try again.");
	}
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Merge two practices");
	html_raw(&h, "<h1>Merge “");
	html_text(&h, a->name);
	html_raw(&h, "” into “");
	html_text(&h, b->name);
	html_raw(&h, "”?</h1><dl class=\"facts merge-plan\"><dt>Clips of ");
	html_text(&h, a->name);
	html_raw(&h, "</dt><dd id=\"plan-clips\">");
	html_textf(&h, "%lld", (long long)m->clips);
	html_raw(&h, "</dd><dt>Will be filed under ");
	html_text(&h, b->name);
	html_raw(&h, "</dt><dd id=\"plan-moved\">");
	html_textf(&h, "%lld", (long long)m->moved);
	html_raw(&h, "</dd><dt>Have both already</dt><dd id=\"plan-already\">");
	html_textf(&h, "%lld", (long long)m->already);
	html_raw(&h, "</dd><dt>Visits that will be about ");
	html_text(&h, b->name);
	html_raw(&h, "</dt><dd id=\"plan-visits\">");
	html_textf(&h, "%lld", (long long)m->visits);
	html_raw(&h, "</dd></dl><p>Then the practice “");
	html_text(&h, a->name);
	html_raw(&h, "” is deleted: its page <code>");
	html_textf(&h, "/practices/%s", from);
	html_raw(&h, "</code> and the API's <code>?practice=");
	html_text(&h, from);
	html_raw(&h, "</code> will find nothing. This cannot be undone.</p>");
	form_open(&h, req, "/admin/practices/merge");
	html_raw(&h, "<input type=\"hidden\" name=\"from\" value=\"");
	html_attr(&h, from);
	html_raw(&h, "\"><input type=\"hidden\" name=\"into\" value=\"");
	html_attr(&h, into);
	html_raw(&h, "\"><input type=\"hidden\" name=\"confirm\" value=\"yes\">"
	             "<button type=\"submit\">Merge</button> <a href=\"/admin/practices#merge\">"
	             "Cancel</a></form>");
	page_end(&h);
	cat_practices_free(a, 1);
	cat_practices_free(b, 1);
	return respond_html(req, MHD_HTTP_OK, &h);
}

enum MHD_Result page_admin_practice_merge(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_form(req, &refused))
		return refused;
	char *from = page_field(req, "from"), *into = page_field(req, "into"),
	     *confirm = page_field(req, "confirm");
	char err[KD_ERRMSG_MAX] = "";
	struct cat_practice_merge m;
	int rc;
	enum MHD_Result r;
	if (!from || !*from || !into || !*into) {
		snprintf(err, sizeof err, "choose the practice whose clips move, and the one they "
		         "move into");
		rc = KD_EINVAL;
	} else if (!confirm || strcmp(confirm, "yes")) {
		rc = cat_practice_merge_plan(req->db, from, into, &m, err, sizeof err);
		if (rc == 0) {
			r = merge_confirm(req, from, into, &m);
			goto out;
		}
	} else {
		rc = cat_practice_merge(req->db, from, into, &m, err, sizeof err);
		if (rc == 0) {
			char *loc = kd_asprintf("/admin/practices?merged=%s&into=%s&moved=%lld&"
			                        "already=%lld&visits=%lld#merged",
			                        from, into, (long long)m.moved, (long long)m.already,
			                        (long long)m.visits);
			r = respond_redirect(req, loc, NULL);
			free(loc);
			goto out;
		}
	}
	struct refused why = {.form = "merge", .why = err};
	r = practices_page(req, http_status_of(rc), &why);
out:
	free(from);
	free(into);
	free(confirm);
	return r;
}
