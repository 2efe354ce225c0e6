/* pages_visits.c - classroom visits in the browser: /visits lists the
 * visits I asked for (with the .ics of accepted ones and a form to mark
 * them done) and, for principals and admins, the requests to visit a
 * school, with accept and decline forms; and the form on a clip page to
 * ask to visit its classroom.  All changes go through visit_create() and
 * visit_update(), which apply the same rules as the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layout.h"
#include "pages.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/mem.h"
#include "kindling/visits.h"

/* Visits a list shows at a time, and upcoming ones a school's page shows. */
#define VISITS_PER_PAGE 50
#define UPCOMING_MAX 20

/* The school whose hosted visits the page shows: ?school= for admins, the
 * principal's own school; NULL for everyone else. */
static const char *host_school(struct request *req, const char *arg)
{
	if (req->user.role == KD_ROLE_ADMIN)
		return arg && cat_slug_valid(arg) ? arg : NULL;
	if (req->user.role == KD_ROLE_PRINCIPAL && req->user.school[0])
		return req->user.school;
	return NULL;
}

static void visit_facts(struct html *h, const struct visit *v, bool show_visitor)
{
	html_raw(h, "<h3>");
	if (v->clip_id && v->clip_title) {
		html_raw(h, "<a href=\"");
		html_attrf(h, "/clips/%lld", (long long)v->clip_id);
		html_raw(h, "\">");
		html_text(h, v->clip_title);
		html_raw(h, "</a>");
	} else {
		html_raw(h, "A deleted clip");
	}
	html_raw(h, " <span class=\"badge status-");
	html_attr(h, v->status);
	html_raw(h, "\">");
	html_text(h, v->status);
	html_raw(h, "</span></h3><dl class=\"facts\"><dt>Host school</dt><dd><a href=\"");
	html_attrf(h, "/schools/%s", v->host_school);
	html_raw(h, "\">");
	html_text(h, v->host_school_name ? v->host_school_name : v->host_school);
	html_raw(h, "</a></dd>");
	if (v->clip_teacher && *v->clip_teacher) {
		html_raw(h, "<dt>Teacher</dt><dd>");
		html_text(h, v->clip_teacher);
		html_raw(h, "</dd>");
	}
	if (show_visitor) {
		html_raw(h, "<dt>Asked by</dt><dd>");
		html_text(h, v->requester ? v->requester : "a former user");
		if (v->visitor_school) {
			html_raw(h, " (");
			html_text(h, v->visitor_school);
			html_raw(h, ")");
		}
		html_raw(h, "</dd>");
	}
	html_raw(h, "<dt>Proposed days</dt><dd>");
	for (size_t i = 0; i < v->n_dates; i++) {
		if (i)
			html_raw(h, ", ");
		html_raw(h, "<time datetime=\"");
		html_attr(h, v->dates[i]);
		html_raw(h, "\">");
		html_text(h, v->dates[i]);
		html_raw(h, "</time>");
	}
	html_raw(h, "</dd>");
	if (v->date) {
		html_raw(h, "<dt>Visit day</dt><dd class=\"visit-day\"><time datetime=\"");
		html_attr(h, v->date);
		html_raw(h, "\">");
		html_text(h, v->date);
		html_raw(h, "</time></dd>");
	}
	const char *rows[][2] = {{"Note", v->note},
	                         {"Answer", v->answer_note},
	                         {"What I will try", v->reflection}};
	for (size_t i = 0; i < 3; i++) {
		if (!rows[i][1] || !*rows[i][1])
			continue;
		html_raw(h, "<dt>");
		html_text(h, rows[i][0]);
		html_raw(h, "</dt><dd>");
		html_text(h, rows[i][1]);
		html_raw(h, "</dd>");
	}
	html_raw(h, "</dl>");
}

static void form_open(struct html *h, struct request *req, const struct visit *v,
                      const char *cls, const char *school)
{
	html_raw(h, "<form method=\"post\" class=\"");
	html_attr(h, cls);
	html_raw(h, "\" action=\"");
	html_attrf(h, "/visits/%lld", (long long)v->id);
	html_raw(h, "\">");
	page_csrf_field(h, req);
	if (school) {
		html_raw(h, "<input type=\"hidden\" name=\"school\" value=\"");
		html_attr(h, school);
		html_raw(h, "\">");
	}
}

static void my_visit(struct html *h, struct request *req, const struct visit *v)
{
	html_raw(h, "<li class=\"visit-item\" id=\"");
	html_attrf(h, "visit-%lld", (long long)v->id);
	html_raw(h, "\">");
	visit_facts(h, v, false);
	if (!strcmp(v->status, "accepted")) {
		html_raw(h, "<p><a class=\"button ics\" href=\"");
		html_attrf(h, "/api/v1/visits/%lld/ics", (long long)v->id);
		html_raw(h, "\" download>Add to my calendar (.ics)</a></p>");
		form_open(h, req, v, "done-form", NULL);
		html_raw(h, "<input type=\"hidden\" name=\"action\" value=\"done\"><label for=\"");
		html_attrf(h, "refl-%lld", (long long)v->id);
		html_raw(h, "\">After the visit: what I will try</label><textarea name=\"reflection\" "
		            "rows=\"3\" maxlength=\"2000\" id=\"");
		html_attrf(h, "refl-%lld", (long long)v->id);
		html_raw(h, "\"></textarea><button type=\"submit\">Mark as done</button></form>");
	}
	html_raw(h, "</li>");
}

static void hosted_visit(struct html *h, struct request *req, const struct visit *v,
                         const char *school)
{
	html_raw(h, "<li class=\"visit-item\" id=\"");
	html_attrf(h, "visit-%lld", (long long)v->id);
	html_raw(h, "\">");
	visit_facts(h, v, true);
	if (!strcmp(v->status, "requested") && visit_may_answer(req->db, &req->user, v)) {
		form_open(h, req, v, "answer-form", school);
		html_raw(h, "<input type=\"hidden\" name=\"action\" value=\"accept\">"
		            "<fieldset><legend>Accept on</legend>");
		for (size_t i = 0; i < v->n_dates; i++) {
			html_raw(h, "<label class=\"check\"><input type=\"radio\" name=\"date\" value=\"");
			html_attr(h, v->dates[i]);
			html_raw(h, i == 0 ? "\" checked required> " : "\"> ");
			html_text(h, v->dates[i]);
			html_raw(h, "</label>");
		}
		html_raw(h, "</fieldset><label>A note for the visitor <input name=\"note\" "
		            "maxlength=\"2000\"></label><button type=\"submit\">Accept</button></form>");
		form_open(h, req, v, "decline-form", school);
		html_raw(h, "<input type=\"hidden\" name=\"action\" value=\"decline\">"
		            "<label>Why not (optional) <input name=\"note\" maxlength=\"2000\"></label>"
		            "<button type=\"submit\">Decline</button></form>");
	} else if (!strcmp(v->status, "accepted")) {
		html_raw(h, "<p><a href=\"");
		html_attrf(h, "/api/v1/visits/%lld/ics", (long long)v->id);
		html_raw(h, "\" download>Calendar event (.ics)</a></p>");
	}
	html_raw(h, "</li>");
}

static enum MHD_Result visits_page(struct request *req, unsigned status, const char *error,
                                   const char *school_arg)
{
	const char *school = host_school(req, school_arg);
	char err[KD_ERRMSG_MAX] = "";
	struct visit *mine = NULL, *hosted = NULL;
	size_t nm = 0, nh = 0;
	/* Each list in pages, so the page stays small however much is written. */
	int64_t mine_page = page_number(req, "mine", 1000000), hosted_page =
		page_number(req, "hosted", 1000000), mine_total = 0, hosted_total = 0;
	int rc = visit_list(req->db, &req->user, NULL, true, mine_page, VISITS_PER_PAGE, &mine, &nm,
	                    &mine_total, err, sizeof err);
	if (rc < 0)
		return page_message(req, http_status_of(rc), "Something went wrong", err);
	int hrc = school ? visit_list(req->db, &req->user, school, false, hosted_page,
	                              VISITS_PER_PAGE, &hosted, &nh, &hosted_total, err, sizeof err)
	                 : 0;

	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Visits");
	html_raw(&h, "<h1>Visits</h1>");
	if (error)
		page_error(&h, NULL, error);
	html_raw(&h, "<section aria-labelledby=\"mine-h\"><h2 id=\"mine-h\">Visits I asked "
	             "for</h2>");
	if (!nm)
		html_raw(&h, "<p class=\"empty\">None yet: on a clip from another school, use "
		             "\"Request a visit\".</p>");
	else
		html_raw(&h, "<ol class=\"visit-list mine\">");
	for (size_t i = 0; i < nm; i++)
		my_visit(&h, req, &mine[i]);
	if (nm)
		html_raw(&h, "</ol>");
	page_pagination(&h, req, "/visits", "mine", mine_page, mine_total, VISITS_PER_PAGE,
	                "#mine-h");
	html_raw(&h, "</section>");

	if (req->user.role == KD_ROLE_ADMIN) {
		struct cat_school *ss = NULL;
		size_t ns = 0;
		cat_schools_list(req->db, &req->user, &ss, &ns);
		html_raw(&h, "<form class=\"filters\" method=\"get\" action=\"/visits\">"
		             "<label for=\"v-school\">Visits of a school</label>"
		             "<select id=\"v-school\" name=\"school\"><option value=\"\">Choose a "
		             "school</option>");
		for (size_t i = 0; i < ns; i++) {
			html_raw(&h, "<option value=\"");
			html_attr(&h, ss[i].slug);
			html_raw(&h, school && !strcmp(school, ss[i].slug) ? "\" selected>" : "\">");
			html_text(&h, ss[i].name);
			html_raw(&h, "</option>");
		}
		html_raw(&h, "</select><button type=\"submit\">Show</button></form>");
		cat_schools_free(ss, ns);
	}
	if (req->user.role == KD_ROLE_TEACHER) {
		struct visit *fv = NULL;
		size_t nf = 0;
		int64_t feat_page = page_number(req, "featured", 1000000), feat_total = 0;
		if (visit_list_featured(req->db, &req->user, feat_page, VISITS_PER_PAGE, &fv, &nf,
		                        &feat_total) == 0 && nf) {
			html_raw(&h, "<section aria-labelledby=\"feat-h\"><h2 id=\"feat-h\">Visits to "
			             "my classroom</h2><ol class=\"visit-list hosted\">");
			for (size_t i = 0; i < nf; i++)
				hosted_visit(&h, req, &fv[i], NULL);
			html_raw(&h, "</ol>");
			page_pagination(&h, req, "/visits", "featured", feat_page, feat_total,
			                VISITS_PER_PAGE, "#feat-h");
			html_raw(&h, "</section>");
		}
		visits_free(fv, nf);
	}
	if (school) {
		html_raw(&h, "<section aria-labelledby=\"hosted-h\"><h2 id=\"hosted-h\">Visits of ");
		html_text(&h, school);
		html_raw(&h, "</h2>");
		if (hrc < 0) {
			html_raw(&h, "<p class=\"error\">");
			html_text(&h, err);
			html_raw(&h, "</p>");
		} else if (!nh) {
			html_raw(&h, "<p class=\"empty\">No visits asked for or made yet.</p>");
		} else {
			html_raw(&h, "<ol class=\"visit-list hosted\">");
			for (size_t i = 0; i < nh; i++)
				if (!strcmp(hosted[i].host_school, school))
					hosted_visit(&h, req, &hosted[i], req->user.role == KD_ROLE_ADMIN
					                                           ? school
					                                           : NULL);
			html_raw(&h, "</ol><h3>Made from this school</h3><ul class=\"visit-list "
			             "made\">");
			for (size_t i = 0; i < nh; i++) {
				if (strcmp(hosted[i].host_school, school) == 0)
					continue;
				html_raw(&h, "<li>");
				html_text(&h, hosted[i].requester ? hosted[i].requester : "someone");
				html_raw(&h, " to ");
				html_text(&h, hosted[i].host_school_name ? hosted[i].host_school_name
				                                         : hosted[i].host_school);
				html_raw(&h, ": ");
				html_text(&h, hosted[i].status);
				if (hosted[i].date) {
					html_raw(&h, " on ");
					html_text(&h, hosted[i].date);
				}
				html_raw(&h, "</li>");
			}
			html_raw(&h, "</ul>");
			page_pagination(&h, req, "/visits", "hosted", hosted_page, hosted_total,
			                VISITS_PER_PAGE, "#hosted-h");
		}
		html_raw(&h, "</section>");
	}
	page_end(&h);
	visits_free(mine, nm);
	visits_free(hosted, nh);
	return respond_html(req, status, &h);
}

/* 1 to 3 proposed dates and a note; a refused request comes back with its
 * error and what was typed. */
void page_visit_form(struct html *h, struct request *req, const struct cat_clip *c,
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
	if (visit_error)
		page_error(h, "visit-error", visit_error);
	html_raw(h, "<form class=\"visit-form\" method=\"post\" action=\"");
	html_attrf(h, "/clips/%lld/visit", (long long)c->id);
	html_raw(h, "\">");
	page_csrf_field(h, req);
	html_raw(h, "<fieldset><legend>Days you could come</legend>");
	for (int i = 0; i < 3; i++) {
		char *d = visit_error ? page_field_n(req, "dates", i) : NULL;
		html_raw(h, "<label class=\"date\">");
		html_textf(h, i == 0 ? "Day %d" : "Day %d (optional)", i + 1);
		html_raw(h, " <input type=\"date\" name=\"dates\" id=\"visit-date-");
		html_attrf(h, "%d", i + 1);
		html_raw(h, i == 0 ? "\" required value=\"" : "\" value=\"");
		html_attr(h, d ? d : "");
		html_raw(h, "\"></label>");
		free(d);
	}
	char *note = visit_error ? page_field(req, "note") : NULL;
	html_raw(h, "</fieldset><label for=\"visit-note\">A note for the school (what you would "
	            "like to see)</label><textarea id=\"visit-note\" name=\"note\" rows=\"3\" "
	            "maxlength=\"2000\">");
	html_text(h, note);
	free(note);
	html_raw(h, "</textarea><button type=\"submit\">Ask to visit</button></form></section>");
}

/* A request to visit that was refused: the form again, with the reason
 * and what was typed, under the clip it is about. */
static enum MHD_Result refused_request(struct request *req, unsigned status, const char *why)
{
	struct cat_clip c;
	enum MHD_Result failed;
	if (!page_load_clip(req, &c, &failed))
		return failed;
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Visit this classroom");
	html_raw(&h, "<h1>Ask to visit</h1><p>About the clip <a href=\"");
	html_attrf(&h, "/clips/%lld", (long long)c.id);
	html_raw(&h, "\">");
	html_text(&h, c.title);
	html_raw(&h, "</a>.</p>");
	page_visit_form(&h, req, &c, why);
	page_end(&h);
	cat_clip_free(&c);
	return respond_html(req, status, &h);
}

enum MHD_Result page_visit_add(struct request *req)
{
	enum MHD_Result refused;
	if (!page_form_ok(req, &refused))
		return refused;
	char *dates[3];
	const char *given[3];
	size_t n = 0;
	for (int i = 0; i < 3; i++) {
		dates[i] = page_field_n(req, "dates", i);
		if (dates[i] && *dates[i])
			given[n++] = dates[i];
	}
	char *note = page_field(req, "note");
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
		r = page_not_found(req, "There is no clip at this address, or you may not have access "
		                   "to it.");
	} else {
		r = refused_request(req, http_status_of(rc), err);
	}
	for (int i = 0; i < 3; i++)
		free(dates[i]);
	free(note);
	return r;
}

enum MHD_Result page_visits(struct request *req)
{
	return visits_page(req, MHD_HTTP_OK, NULL, req_arg(req, "school"));
}

enum MHD_Result page_visit_update(struct request *req)
{
	enum MHD_Result refused;
	if (!page_form_ok(req, &refused))
		return refused;
	char *action = page_field(req, "action"), *date = page_field(req, "date"), *note = page_field(req, "note"),
	     *reflection = page_field(req, "reflection"), *school = page_field(req, "school");
	const char *status = NULL;
	if (action && !strcmp(action, "accept"))
		status = "accepted";
	else if (action && !strcmp(action, "decline"))
		status = "declined";
	else if (action && !strcmp(action, "done"))
		status = "done";
	char err[KD_ERRMSG_MAX] = "";
	int rc = KD_EINVAL;
	if (!status)
		snprintf(err, sizeof err, "choose accept, decline or done");
	else
		rc = visit_update(req->db, &req->user, req->ids[0], status, page_nonempty(date),
		                  page_nonempty(note), page_nonempty(reflection), err, sizeof err);
	enum MHD_Result r;
	if (rc == 0) /* issue 14: the audit trail */
		req_audit_visit_answer(req, req->ids[0]);
	if (rc == 0) {
		char loc[160];
		if (school && cat_slug_valid(school))
			snprintf(loc, sizeof loc, "/visits?school=%s#visit-%lld", school,
			         (long long)req->ids[0]);
		else
			snprintf(loc, sizeof loc, "/visits#visit-%lld", (long long)req->ids[0]);
		r = respond_redirect(req, loc, NULL);
	} else {
		r = visits_page(req, http_status_of(rc), err, school);
	}
	free(action);
	free(date);
	free(note);
	free(reflection);
	free(school);
	return r;
}

void page_school_visits(struct html *h, struct request *req, const char *school)
{
	if (req->user.role != KD_ROLE_ADMIN &&
	    !(req->user.role == KD_ROLE_PRINCIPAL && !strcmp(req->user.school, school)))
		return;
	struct visit *vs = NULL;
	size_t n = 0;
	char err[KD_ERRMSG_MAX] = "", today[11];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(today, sizeof today, "%Y-%m-%d", &tm);
	html_raw(h, "<section class=\"school-visits\" aria-labelledby=\"sv-h\"><p><a "
	            "class=\"button\" href=\"");
	html_attrf(h, "/schools/%s/summary", school);
	html_raw(h, "\">Summary of this school</a> <a href=\"");
	html_attrf(h, "/visits?school=%s", school);
	html_raw(h, "\">All its visits</a></p><h2 id=\"sv-h\">Upcoming visits</h2>");
	int64_t total;
	/* The newest requests; the block shows the upcoming ones among them
	 * and links to all. */
	if (visit_list(req->db, &req->user, school, false, 1, VISITS_PER_PAGE_MAX, &vs, &n, &total,
	               err, sizeof err) < 0) {
		html_raw(h, "<p class=\"error\">");
		html_text(h, err);
		html_raw(h, "</p></section>");
		return;
	}
	size_t shown = 0;
	for (int hosted = 1; hosted >= 0; hosted--) {
		size_t shown_here = 0;
		html_raw(h, hosted ? "<h3>Hosted here</h3><ul class=\"upcoming hosted\">"
		                   : "<h3>Made from here</h3><ul class=\"upcoming made\">");
		for (size_t i = 0; i < n; i++) {
			const struct visit *v = &vs[i];
			bool here = !strcmp(v->host_school, school);
			bool upcoming = !strcmp(v->status, "requested") ||
			                (!strcmp(v->status, "accepted") && v->date &&
			                 strcmp(v->date, today) >= 0);
			if (here != (hosted == 1) || !upcoming || shown_here == UPCOMING_MAX)
				continue;
			shown++;
			shown_here++;
			html_raw(h, "<li>");
			html_text(h, v->date ? v->date : "(to be agreed)");
			html_raw(h, ": ");
			html_text(h, v->requester ? v->requester : "someone");
			if (!here) {
				html_raw(h, " to ");
				html_text(h, v->host_school_name ? v->host_school_name : v->host_school);
			}
			html_raw(h, ", ");
			html_text(h, v->clip_title ? v->clip_title : "a deleted clip");
			html_raw(h, " <span class=\"badge status-");
			html_attr(h, v->status);
			html_raw(h, "\">");
			html_text(h, v->status);
			html_raw(h, "</span></li>");
		}
		html_raw(h, "</ul>");
	}
	if (!shown)
		html_raw(h, "<p class=\"empty\">None planned.</p>");
	html_raw(h, "</section>");
	visits_free(vs, n);
}
