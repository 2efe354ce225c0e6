/* pages_summary.c - what principals see in the browser: a school's summary
 * (/schools/{slug}/summary) and, for admins, the district side by side
 * (/district).  The figures come from summary.h (the same JSON objects as
 * the API), the charts from charts.c (SVG drawn here, text escaped there),
 * and every chart's numbers are in a table beside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charts.h"
#include "kindling/html.h"
#include "http.h"
#include "layout.h"
#include "pages.h"
#include "pages_spread.h" /* issue 15 */
#include "kindling/err.h"
#include "kindling/mem.h"
#include "kindling/summary.h"

/* Teachers the page lists (most clips first); the downloads have all. */
#define TEACHERS_SHOWN 100

static const char *STATUSES[] = {"requested", "accepted", "declined", "done"};

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static enum MHD_Result refused(struct request *req, int rc, const char *err)
{
	if (rc == KD_EPERM)
		return page_message(req, MHD_HTTP_FORBIDDEN, "Not for your role", err);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, err);
	if (rc == KD_EINVAL)
		return page_message(req, MHD_HTTP_BAD_REQUEST, "Check the dates", err);
	return page_message(req, MHD_HTTP_SERVICE_UNAVAILABLE, "Something went wrong", err);
}

/* The date-range form. */
static void range_form(struct html *h, const char *action, const char *from, const char *to)
{
	html_raw(h, "<form class=\"range filters\" method=\"get\" action=\"");
	html_attr(h, action);
	html_raw(h, "\"><div><label for=\"from\">From</label><input type=\"date\" id=\"from\" "
	            "name=\"from\" value=\"");
	html_attr(h, from);
	html_raw(h, "\"></div><div><label for=\"to\">To</label><input type=\"date\" id=\"to\" "
	            "name=\"to\" value=\"");
	html_attr(h, to);
	html_raw(h, "\"></div><button type=\"submit\">Show</button></form>");
}

static void figure(struct html *h, const char *label, const char *value)
{
	html_raw(h, "<div class=\"figure\"><dt>");
	html_text(h, label);
	html_raw(h, "</dt><dd>");
	html_text(h, value);
	html_raw(h, "</dd></div>");
}

/* A chart from an array of objects: label key, value key. */
static void chart_of(struct html *h, bool bars, const char *title, json_t *arr,
                     const char *lk, const char *vk)
{
	size_t n = json_array_size(arr);
	struct chart_item *items = kd_malloc((n ? n : 1) * sizeof *items);
	for (size_t i = 0; i < n; i++) {
		items[i].label = str(json_array_get(arr, i), lk);
		items[i].value = num(json_array_get(arr, i), vk);
	}
	html_raw(h, "<figure class=\"chart\">");
	html_chart(h, bars ? chart_bars_svg(title, items, n) : chart_columns_svg(title, items, n));
	html_raw(h, "<figcaption>");
	html_text(h, title);
	html_raw(h, "</figcaption></figure>");
	free(items);
}

static void table_head(struct html *h, const char *caption, const char *const *cols, size_t n)
{
	html_raw(h, "<table class=\"figures\"><caption>");
	html_text(h, caption);
	html_raw(h, "</caption><thead><tr>");
	for (size_t i = 0; i < n; i++) {
		html_raw(h, "<th scope=\"col\">");
		html_text(h, cols[i]);
		html_raw(h, "</th>");
	}
	html_raw(h, "</tr></thead><tbody>");
}

static void cell(struct html *h, const char *s, bool head)
{
	html_raw(h, head ? "<th scope=\"row\">" : "<td>");
	html_text(h, s);
	html_raw(h, head ? "</th>" : "</td>");
}

static void cellf(struct html *h, double v)
{
	html_raw(h, "<td class=\"n\">");
	if (v == (long long)v)
		html_textf(h, "%lld", (long long)v);
	else
		html_textf(h, "%.1f", v);
	html_raw(h, "</td>");
}

enum MHD_Result page_school_summary(struct request *req)
{
	char from[11], to[11], err[KD_ERRMSG_MAX] = "";
	int rc = summary_range(req->db, req_arg(req, "from"), req_arg(req, "to"), from, to, err,
	                       sizeof err);
	json_t *s = NULL;
	if (rc == 0)
		rc = summary_school(req->db, &req->user, req->slugs[0], from, to, &s, err,
		                    sizeof err);
	if (rc < 0)
		return refused(req, rc, err);
	const char *slug = req->slugs[0];
	const char *name = *str(s, "school_name") ? str(s, "school_name") : slug;
	char buf[64], path[128];
	snprintf(path, sizeof path, "/schools/%s/summary", slug);

	struct html h;
	html_init(&h, PAGE_MAX);
	char *title = kd_asprintf("Summary: %s", name);
	page_begin(&h, req, title);
	free(title);
	/* issue 15: school-summary: its own print layout, one page (style.css) */
	html_raw(&h, "<div class=\"summary school-summary\"><h1>");
	html_text(&h, name);
	html_raw(&h, ": what is on video</h1><p class=\"range-line\">");
	html_textf(&h, "From %s to %s", from, to);
	html_raw(&h, " · <a href=\"");
	html_attrf(&h, "/schools/%s", slug);
	html_raw(&h, "\">the school's clips</a></p>");
	range_form(&h, path, from, to);
	html_raw(&h, "<p class=\"downloads\">Download: <a href=\"");
	html_attrf(&h, "/api/v1/schools/%s/summary?from=%s&to=%s&format=csv", slug, from, to);
	html_raw(&h, "\" download>CSV</a> · <a href=\"");
	html_attrf(&h, "/api/v1/schools/%s/summary?from=%s&to=%s", slug, from, to);
	html_raw(&h, "\">JSON</a></p>");

	json_t *visits = json_object_get(s, "visits");
	json_t *hosted = json_object_get(visits, "hosted"), *made = json_object_get(visits, "made");
	double nh = 0, nm = 0;
	for (size_t i = 0; i < 4; i++) {
		nh += num(hosted, STATUSES[i]);
		nm += num(made, STATUSES[i]);
	}
	html_raw(&h, "<dl class=\"figures-row\">");
	snprintf(buf, sizeof buf, "%lld", (long long)num(s, "clips"));
	figure(&h, "Clips", buf);
	snprintf(buf, sizeof buf, "%.1f", num(s, "minutes"));
	figure(&h, "Minutes", buf);
	snprintf(buf, sizeof buf, "%zu", json_array_size(json_object_get(s, "teachers")));
	figure(&h, "Teachers on video", buf);
	snprintf(buf, sizeof buf, "%lld", (long long)num(s, "views_from_other_schools"));
	figure(&h, "Views from other schools", buf);
	snprintf(buf, sizeof buf, "%.0f", nh);
	figure(&h, "Visits hosted", buf);
	snprintf(buf, sizeof buf, "%.0f", nm);
	figure(&h, "Visits made", buf);
	html_raw(&h, "</dl>");

	json_t *bp = json_object_get(s, "by_practice"), *bm = json_object_get(s, "by_month");
	html_raw(&h, "<section class=\"panel\" aria-labelledby=\"bp-h\"><h2 id=\"bp-h\">By "
	             "practice</h2><div class=\"charts\">");
	chart_of(&h, true, "Clips by practice", bp, "practice", "clips");
	chart_of(&h, true, "Minutes by practice", bp, "practice", "minutes");
	html_raw(&h, "</div>");
	static const char *const pcols[] = {"Practice", "Clips", "Minutes"};
	table_head(&h, "Clips and minutes by practice", pcols, 3);
	for (size_t i = 0; i < json_array_size(bp); i++) {
		json_t *r = json_array_get(bp, i);
		html_raw(&h, "<tr>");
		cell(&h, str(r, "practice"), true);
		cellf(&h, num(r, "clips"));
		cellf(&h, num(r, "minutes"));
		html_raw(&h, "</tr>");
	}
	html_raw(&h, "</tbody></table></section>");

	html_raw(&h, "<section class=\"panel\" aria-labelledby=\"bm-h\"><h2 id=\"bm-h\">By "
	             "month</h2>");
	chart_of(&h, false, "Clips per month", bm, "month", "clips");
	static const char *const mcols[] = {"Month", "Clips"};
	table_head(&h, "Clips per month", mcols, 2);
	for (size_t i = 0; i < json_array_size(bm); i++) {
		json_t *r = json_array_get(bm, i);
		html_raw(&h, "<tr>");
		cell(&h, str(r, "month"), true);
		cellf(&h, num(r, "clips"));
		html_raw(&h, "</tr>");
	}
	html_raw(&h, "</tbody></table></section>");

	html_raw(&h, "<section class=\"panel\" aria-labelledby=\"v-h\"><h2 id=\"v-h\">Visits</h2>");
	static const char *const vcols[] = {"Status", "Hosted", "Made"};
	table_head(&h, "Visits asked for in the range, by status", vcols, 3);
	for (size_t i = 0; i < 4; i++) {
		html_raw(&h, "<tr>");
		cell(&h, STATUSES[i], true);
		cellf(&h, num(hosted, STATUSES[i]));
		cellf(&h, num(made, STATUSES[i]));
		html_raw(&h, "</tr>");
	}
	html_raw(&h, "</tbody></table>");
	json_t *arr = json_object_get(s, "arrived_from_elsewhere");
	html_raw(&h, "<h2>Practices that arrived from other schools</h2>");
	if (!json_array_size(arr)) {
		html_raw(&h, "<p class=\"empty\">None in this range.</p>");
	} else {
		static const char *const acols[] = {"Practice", "First clip here", "Seen at",
		                                    "Seen on", "Via"};
		table_head(&h, "Practices first filmed here after being seen elsewhere", acols, 5);
		for (size_t i = 0; i < json_array_size(arr); i++) {
			json_t *r = json_array_get(arr, i);
			/* issue 15: each links to how it spread (pages_spread.c) */
			html_raw(&h, "<tr><th scope=\"row\"><a href=\"");
			html_attrf(&h, "/practices/%s#spread", str(r, "practice"));
			html_raw(&h, "\">");
			html_text(&h, str(r, "practice"));
			html_raw(&h, "</a></th>");
			cell(&h, str(r, "first_clip_on"), false);
			cell(&h, str(r, "seen_at_school"), false);
			cell(&h, str(r, "seen_on"), false);
			cell(&h, str(r, "via"), false);
			html_raw(&h, "</tr>");
		}
		html_raw(&h, "</tbody></table>");
	}
	json_t *tt = json_object_get(s, "teachers");
	if (json_array_size(tt)) {
		static const char *const tcols[] = {"Teacher", "Clips"};
		table_head(&h, "Teachers on video", tcols, 2);
		size_t shown = json_array_size(tt) < TEACHERS_SHOWN ? json_array_size(tt)
		                                                    : TEACHERS_SHOWN;
		for (size_t i = 0; i < shown; i++) {
			json_t *r = json_array_get(tt, i);
			html_raw(&h, "<tr>");
			cell(&h, str(r, "teacher"), true);
			cellf(&h, num(r, "clips"));
			html_raw(&h, "</tr>");
		}
		html_raw(&h, "</tbody></table>");
		if (shown < json_array_size(tt)) {
			html_raw(&h, "<p class=\"more\">");
			html_textf(&h, "And %zu more teachers: the CSV and JSON downloads list them all.",
			           json_array_size(tt) - shown);
			html_raw(&h, "</p>");
		}
	}
	html_raw(&h, "</section></div>");
	page_end(&h);
	json_decref(s);
	return respond_html(req, MHD_HTTP_OK, &h);
}

enum MHD_Result page_district(struct request *req)
{
	char from[11], to[11], err[KD_ERRMSG_MAX] = "";
	int rc = summary_range(req->db, req_arg(req, "from"), req_arg(req, "to"), from, to, err,
	                       sizeof err);
	json_t *d = NULL;
	if (rc == 0)
		rc = summary_district(req->db, &req->user, from, to, &d, err, sizeof err);
	if (rc < 0)
		return refused(req, rc, err);
	json_t *schools = json_object_get(d, "schools"), *grid = json_object_get(d, "grid"),
	       *spread = json_object_get(d, "spread");

	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "The district");
	html_raw(&h, "<div class=\"summary\"><h1>The district: every school side by side</h1>"
	             "<p class=\"range-line\">");
	html_textf(&h, "From %s to %s", from, to);
	html_raw(&h, "</p>");
	range_form(&h, "/district", from, to);
	html_raw(&h, "<p class=\"downloads\">Download: <a href=\"");
	html_attrf(&h, "/api/v1/summary?from=%s&to=%s", from, to);
	html_raw(&h, "\">JSON</a></p>");

	html_raw(&h, "<section class=\"panel\" aria-labelledby=\"s-h\"><h2 id=\"s-h\">Schools</h2>"
	             "<div class=\"charts\">");
	chart_of(&h, true, "Clips by school", schools, "school", "clips");
	chart_of(&h, true, "Views from other schools", schools, "school",
	         "views_from_other_schools");
	html_raw(&h, "</div>");
	static const char *const scols[] = {"School", "Clips", "Minutes", "Views from others",
	                                    "Visits hosted", "Visits made"};
	page_wide_begin(&h, "Schools side by side"); /* issue 15: scrolls on a phone */
	table_head(&h, "Schools side by side", scols, 6);
	for (size_t i = 0; i < json_array_size(schools); i++) {
		json_t *r = json_array_get(schools, i);
		html_raw(&h, "<tr><th scope=\"row\"><a href=\"");
		html_attrf(&h, "/schools/%s/summary?from=%s&to=%s", str(r, "school"), from, to);
		html_raw(&h, "\">");
		html_text(&h, str(r, "name"));
		html_raw(&h, "</a></th>");
		cellf(&h, num(r, "clips"));
		cellf(&h, num(r, "minutes"));
		cellf(&h, num(r, "views_from_other_schools"));
		cellf(&h, num(r, "visits_hosted"));
		cellf(&h, num(r, "visits_made"));
		html_raw(&h, "</tr>");
	}
	html_raw(&h, "</tbody></table>");
	page_wide_end(&h);
	html_raw(&h, "</section>");

	/* practice x school */
	size_t ns = json_array_size(schools);
	html_raw(&h, "<section class=\"panel\" aria-labelledby=\"g-h\"><h2 id=\"g-h\">Practices "
	             "by school</h2>");
	page_wide_begin(&h, "Practices by school"); /* issue 15: a region keyboards can scroll */
	html_raw(&h, "<table class=\"figures grid-table\">"
	             "<caption>Clips of each practice at each school</caption><thead><tr>"
	             "<th scope=\"col\">Practice</th>");
	for (size_t j = 0; j < ns; j++) {
		html_raw(&h, "<th scope=\"col\">");
		html_text(&h, str(json_array_get(schools, j), "school"));
		html_raw(&h, "</th>");
	}
	html_raw(&h, "</tr></thead><tbody>");
	for (size_t i = 0; i < json_array_size(grid); i++) {
		json_t *r = json_array_get(grid, i), *per = json_object_get(r, "schools");
		html_raw(&h, "<tr>");
		cell(&h, str(r, "practice"), true);
		for (size_t j = 0; j < ns; j++) {
			double v = num(per, str(json_array_get(schools, j), "school"));
			html_raw(&h, v > 0 ? "<td class=\"n on\">" : "<td class=\"n\">");
			html_textf(&h, "%lld", (long long)v);
			html_raw(&h, "</td>");
		}
		html_raw(&h, "</tr>");
	}
	html_raw(&h, "</tbody></table></div></section>");

	/* spread: per practice, schools that had filmed it by each month */
	html_raw(&h, "<section class=\"panel\" aria-labelledby=\"sp-h\"><h2 id=\"sp-h\">How "
	             "practices spread</h2><p>For each practice, how many schools had filmed it "
	             "by each month.</p><div class=\"charts\">");
	size_t n = json_array_size(spread);
	for (size_t i = 0; i < n;) {
		const char *p = str(json_array_get(spread, i), "practice");
		size_t j = i;
		while (j < n && !strcmp(str(json_array_get(spread, j), "practice"), p))
			j++;
		json_t *part = json_array();
		for (size_t k = i; k < j; k++)
			json_array_append(part, json_array_get(spread, k));
		char *t = kd_asprintf("Schools filming %s", p);
		chart_of(&h, false, t, part, "month", "schools");
		free(t);
		json_decref(part);
		i = j;
	}
	html_raw(&h, "</div>");
	static const char *const pcols[] = {"Practice", "Month", "Schools by then"};
	table_head(&h, "Schools that had filmed each practice, by month", pcols, 3);
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(spread, i);
		html_raw(&h, "<tr>");
		cell(&h, str(r, "practice"), true);
		cell(&h, str(r, "month"), false);
		cellf(&h, num(r, "schools"));
		html_raw(&h, "</tr>");
	}
	html_raw(&h, "</tbody></table></section>");
	page_district_reach(&h, req, from, to); /* issue 15: reach (pages_spread.c) */
	html_raw(&h, "</div>");
	page_end(&h);
	json_decref(d);
	return respond_html(req, MHD_HTTP_OK, &h);
}
