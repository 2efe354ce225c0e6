/* pages_spread.c - how a practice spread, on pages (see pages_spread.h).
 * Issue 15, H6.  The SVG is made like charts.c's: numbers printed, every
 * piece of text through html_escape. */
#include "pages_spread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charts.h"
#include "layout.h"
#include "pages.h"
#include "kindling/buf.h"
#include "kindling/err.h"
#include "kindling/mem.h"
#include "kindling/spread.h"

#define SVG_MAX (1u << 20)
#define WIDTH 720
#define LABEL_W 150 /* school names, right-aligned at its edge */
#define RIGHT 24
#define TOP 34      /* the legend */
#define LANE_H 40
#define BOTTOM 28   /* the dates of the axis */
/* Lanes drawn; the table has every school. */
#define LANES_MAX 60

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void esc(struct kd_buf *b, const char *s)
{
	html_escape(b, s, strlen(s));
}

/* Days since 1970-01-01 of YYYY-MM-DD (H. Hinnant's days_from_civil);
 * -1 for anything else. */
static long day_number(const char *s)
{
	int y, m, d;
	char tail;
	if (!s || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 ||
	    d > 31)
		return -1;
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static long lane_of(const json_t *schools, const char *slug)
{
	for (size_t i = 0; i < json_array_size(schools) && i < LANES_MAX; i++)
		if (!strcmp(str(json_array_get(schools, i), "school"), slug))
			return (long)i;
	return -1;
}

char *spread_svg(const json_t *spread)
{
	const json_t *schools = json_object_get(spread, "schools");
	const json_t *events = json_object_get(spread, "events");
	const char *practice = str(spread, "practice");
	size_t nl = json_array_size(schools) < LANES_MAX ? json_array_size(schools) : LANES_MAX;
	long d0 = -1, d1 = -1;
	for (size_t i = 0; i < json_array_size(events); i++) {
		long d = day_number(str(json_array_get(events, i), "on"));
		if (d < 0)
			continue;
		if (d0 < 0 || d < d0)
			d0 = d;
		if (d > d1)
			d1 = d;
	}
	long span = d1 > d0 ? d1 - d0 : 1;
	int height = TOP + (int)nl * LANE_H + BOTTOM;
	int x_left = LABEL_W + 12, x_right = WIDTH - RIGHT;
	struct kd_buf b = KD_BUF_INIT(SVG_MAX);
	kd_buf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"spread-svg\" "
	              "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	              "aria-labelledby=\"spread-t spread-d\" font-family=\"sans-serif\" "
	              "font-size=\"12\"><title id=\"spread-t\">How ",
	              WIDTH, height, WIDTH, height);
	esc(&b, practice);
	kd_buf_puts(&b, " spread from school to school</title><desc id=\"spread-d\">");
	/* the same facts as the table, in words, for a screen reader */
	kd_buf_printf(&b, "Schools as lanes, time from left to right");
	if (d0 >= 0) {
		kd_buf_puts(&b, " (");
		esc(&b, str(json_array_get(events, 0), "on"));
		kd_buf_puts(&b, " to ");
		esc(&b, str(json_array_get(events, json_array_size(events) - 1), "on"));
		kd_buf_puts(&b, ")");
	}
	kd_buf_puts(&b, ". ");
	for (size_t i = 0; i < json_array_size(schools); i++) {
		const json_t *s = json_array_get(schools, i);
		esc(&b, str(s, "school"));
		if (json_is_string(json_object_get(s, "first_clip_on"))) {
			kd_buf_puts(&b, ": first clip ");
			esc(&b, str(s, "first_clip_on"));
		} else {
			kd_buf_puts(&b, ": no clip you can see");
		}
		const json_t *from = json_object_get(s, "arrived_from");
		for (size_t k = 0; k < json_array_size(from); k++) {
			const json_t *a = json_array_get(from, k);
			kd_buf_puts(&b, k ? "; " : ", after ");
			kd_buf_puts(&b, !strcmp(str(a, "via"), "visit") ? "a visit to " : "a view of ");
			esc(&b, str(a, "school"));
			kd_buf_puts(&b, " on ");
			esc(&b, str(a, "on"));
		}
		kd_buf_puts(&b, ". ");
	}
	kd_buf_puts(&b, "</desc>");
	/* arrowheads, and the legend */
	kd_buf_puts(&b, "<defs><marker id=\"spread-head-view\" viewBox=\"0 0 10 10\" refX=\"9\" "
	                "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
	                "<path d=\"M0 0L10 5L0 10z\" fill=\"#1f5fbf\"/></marker>"
	                "<marker id=\"spread-head-visit\" viewBox=\"0 0 10 10\" refX=\"9\" "
	                "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
	                "<path d=\"M0 0L10 5L0 10z\" fill=\"#a04a00\"/></marker></defs>");
	kd_buf_printf(&b, "<g class=\"legend\" aria-hidden=\"true\"><circle cx=\"%d\" cy=\"14\" "
	              "r=\"6\" fill=\"#1a7f37\"/><text x=\"%d\" y=\"18\">first clip</text>"
	              "<line x1=\"%d\" y1=\"14\" x2=\"%d\" y2=\"14\" stroke=\"#1f5fbf\" "
	              "stroke-width=\"2\"/><text x=\"%d\" y=\"18\">view</text>"
	              "<line x1=\"%d\" y1=\"14\" x2=\"%d\" y2=\"14\" stroke=\"#a04a00\" "
	              "stroke-width=\"2\" stroke-dasharray=\"5 3\"/><text x=\"%d\" y=\"18\">visit"
	              "</text></g>",
	              x_left, x_left + 10, x_left + 90, x_left + 120, x_left + 126, x_left + 180,
	              x_left + 210, x_left + 216);
	for (size_t i = 0; i < nl; i++) {
		int y = TOP + (int)i * LANE_H + LANE_H / 2;
		kd_buf_printf(&b, "<g class=\"lane\"><text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		              LABEL_W, y + 4);
		esc(&b, str(json_array_get(schools, i), "school"));
		kd_buf_printf(&b, "</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		              "stroke=\"#c8c8c8\"/></g>", x_left - 6, y, x_right, y);
	}
	for (size_t i = 0; i < json_array_size(events); i++) {
		const json_t *e = json_array_get(events, i);
		const char *kind = str(e, "kind"), *on = str(e, "on");
		long d = day_number(on), to = lane_of(schools, str(e, "to_school"));
		if (d < 0 || to < 0)
			continue;
		int x = x_left + (int)((d - d0) * (x_right - x_left) / span);
		int y = TOP + (int)to * LANE_H + LANE_H / 2;
		if (!strcmp(kind, "clip")) {
			kd_buf_printf(&b, "<circle class=\"first\" cx=\"%d\" cy=\"%d\" r=\"7\" "
			              "fill=\"#1a7f37\"><title>First clip at ", x, y);
			esc(&b, str(e, "to_school"));
			kd_buf_puts(&b, " on ");
			esc(&b, on);
			kd_buf_puts(&b, "</title></circle>");
			continue;
		}
		long from = lane_of(schools, str(e, "from_school"));
		if (from < 0)
			continue;
		bool visit = !strcmp(kind, "visit");
		int y0 = TOP + (int)from * LANE_H + LANE_H / 2;
		int y1 = y + (y0 < y ? -8 : 8); /* the head stops short of the lane */
		kd_buf_printf(&b, "<line class=\"arrow %s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		              "stroke=\"%s\" stroke-width=\"2\"%s marker-end=\"url(#spread-head-%s)\">"
		              "<title>",
		              visit ? "visit" : "view", x, y0, x, y1, visit ? "#a04a00" : "#1f5fbf",
		              visit ? " stroke-dasharray=\"5 3\"" : "", visit ? "visit" : "view");
		kd_buf_puts(&b, visit ? "Visit from " : "View from ");
		esc(&b, str(e, "to_school"));
		kd_buf_puts(&b, visit ? " to " : " of a clip at ");
		esc(&b, str(e, "from_school"));
		kd_buf_puts(&b, " on ");
		esc(&b, on);
		kd_buf_puts(&b, "</title></line>");
	}
	if (d0 >= 0) {
		int y = TOP + (int)nl * LANE_H + 18;
		kd_buf_printf(&b, "<text class=\"axis\" x=\"%d\" y=\"%d\">", x_left, y);
		esc(&b, str(json_array_get(events, 0), "on"));
		kd_buf_puts(&b, "</text>");
		if (d1 > d0) { /* (one day: said once) */
			kd_buf_printf(&b, "<text class=\"axis\" x=\"%d\" y=\"%d\" "
			              "text-anchor=\"end\">", x_right, y);
			esc(&b, str(json_array_get(events, json_array_size(events) - 1), "on"));
			kd_buf_puts(&b, "</text>");
		}
	}
	kd_buf_puts(&b, "</svg>");
	return kd_buf_take(&b, NULL);
}

/* The clip of the first-clip event at school, or 0. */
static json_int_t first_clip_id(const json_t *events, const char *school)
{
	for (size_t i = 0; i < json_array_size(events); i++) {
		const json_t *e = json_array_get(events, i);
		if (!strcmp(str(e, "kind"), "clip") && !strcmp(str(e, "to_school"), school))
			return json_integer_value(json_object_get(e, "clip_id"));
	}
	return 0;
}

static void td(struct html *h, const char *s)
{
	html_raw(h, "<td>");
	html_text(h, s);
	html_raw(h, "</td>");
}

static void spread_table(struct html *h, const json_t *spread)
{
	const json_t *schools = json_object_get(spread, "schools");
	const json_t *events = json_object_get(spread, "events");
	page_wide_begin(h, "The spread as a table");
	html_raw(h, "<table class=\"figures spread-table\"><caption>Each school's first clip of "
	            "the practice, and the views and visits before it that carried it there"
	            "</caption><thead><tr><th scope=\"col\">School</th><th scope=\"col\">First "
	            "clip</th><th scope=\"col\">Arrived from</th><th scope=\"col\">Via</th>"
	            "<th scope=\"col\">On</th></tr></thead><tbody>");
	for (size_t i = 0; i < json_array_size(schools); i++) {
		const json_t *s = json_array_get(schools, i);
		const json_t *from = json_object_get(s, "arrived_from");
		size_t rows = json_array_size(from) ? json_array_size(from) : 1;
		for (size_t k = 0; k < rows; k++) {
			html_raw(h, "<tr><th scope=\"row\">");
			html_text(h, str(s, "school"));
			html_raw(h, "</th><td>");
			json_int_t clip = first_clip_id(events, str(s, "school"));
			if (!json_is_string(json_object_get(s, "first_clip_on"))) {
				html_text(h, "none you can see");
			} else if (clip) {
				html_raw(h, "<a href=\"");
				html_attrf(h, "/clips/%lld", (long long)clip);
				html_raw(h, "\">");
				html_text(h, str(s, "first_clip_on"));
				html_raw(h, "</a>");
			} else {
				html_text(h, str(s, "first_clip_on"));
			}
			html_raw(h, "</td>");
			const json_t *a = json_array_get(from, k);
			if (a) {
				td(h, str(a, "school"));
				td(h, str(a, "via"));
				td(h, str(a, "on"));
			} else {
				td(h, "—");
				td(h, "—");
				td(h, "—");
			}
			html_raw(h, "</tr>");
		}
	}
	html_raw(h, "</tbody></table>");
	page_wide_end(h);
}

void page_spread_section(struct html *h, struct request *req, const char *slug)
{
	/* the spread is the practice's, not the filtered grid's: drawn on its
	 * own page (page 1, no filter), linked from the filtered ones (which
	 * the kept answers hold many of: they stay small) */
	if (page_number(req, "page", 1000000) != 1)
		return;
	static const char *const filters[] = {"school", "grade", "subject"};
	for (size_t i = 0; i < sizeof filters / sizeof *filters; i++)
		if (page_nonempty(req_arg(req, filters[i]))) {
			html_raw(h, "<p class=\"spread-link\"><a href=\"");
			html_attrf(h, "/practices/%s#spread", slug);
			html_raw(h, "\">How this practice spread from school to school</a></p>");
			return;
		}
	json_t *s = NULL;
	char err[KD_ERRMSG_MAX] = "";
	html_raw(h, "<section class=\"panel spread\" id=\"spread\" aria-labelledby=\"spread-h\">"
	            "<h2 id=\"spread-h\">How it spread</h2>");
	if (spread_practice(req->db, &req->user, slug, &s, err, sizeof err) < 0) {
		html_raw(h, "<p class=\"notice\">");
		html_text(h, err);
		html_raw(h, "</p></section>");
		return;
	}
	const json_t *schools = json_object_get(s, "schools");
	if (!json_array_size(schools)) {
		html_raw(h, "<p class=\"empty\">No school has a clip of this practice yet.</p>");
	} else {
		html_raw(h, "<p>Each school's first clip of this practice, and the views of clips "
		            "and visits to classrooms at other schools that came before it. ");
		html_raw(h, "<a href=\"");
		html_attrf(h, "/api/v1/practices/%s/spread", slug);
		html_raw(h, "\">JSON</a></p><figure class=\"chart spread-chart\">");
		html_chart(h, spread_svg(s));
		html_raw(h, "</figure>");
		spread_table(h, s);
	}
	html_raw(h, "</section>");
	json_decref(s);
}

void page_district_reach(struct html *h, struct request *req, const char *from,
                         const char *to)
{
	json_t *r = NULL;
	char err[KD_ERRMSG_MAX] = "";
	html_raw(h, "<section class=\"panel\" aria-labelledby=\"reach-h\"><h2 id=\"reach-h\">"
	            "Practices that reached the most schools</h2>");
	if (spread_ranking(req->db, &req->user, from, to, &r, err, sizeof err) < 0) {
		html_raw(h, "<p class=\"notice\">");
		html_text(h, err);
		html_raw(h, "</p></section>");
		return;
	}
	const json_t *ps = json_object_get(r, "practices");
	size_t n = json_array_size(ps);
	if (!n) {
		html_raw(h, "<p class=\"empty\">No school filmed a practice for the first time in "
		            "this range.</p></section>");
		json_decref(r);
		return;
	}
	html_raw(h, "<p>Schools whose first clip of a practice falls in the range. Each practice "
	            "links to how it spread.</p>");
	struct chart_item *items = kd_malloc(n * sizeof *items);
	for (size_t i = 0; i < n; i++) {
		items[i].label = str(json_array_get(ps, i), "practice");
		items[i].value = (double)json_integer_value(json_object_get(json_array_get(ps, i),
		                                                            "reached"));
	}
	html_raw(h, "<figure class=\"chart\">");
	html_chart(h, chart_bars_svg("Schools reached in the range", items, n));
	html_raw(h, "<figcaption>Schools reached in the range</figcaption></figure>");
	free(items);
	page_wide_begin(h, "Practices by schools reached");
	html_raw(h, "<table class=\"figures reach-table\"><caption>Practices by schools reached "
	            "in the range</caption><thead><tr><th scope=\"col\">Practice</th>"
	            "<th scope=\"col\">Schools reached in the range</th><th scope=\"col\">"
	            "Schools with it by the end of the range</th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		const json_t *p = json_array_get(ps, i);
		html_raw(h, "<tr><th scope=\"row\"><a href=\"");
		html_attrf(h, "/practices/%s#spread", str(p, "practice"));
		html_raw(h, "\">");
		html_text(h, str(p, "name"));
		html_raw(h, "</a></th><td class=\"n\">");
		html_textf(h, "%lld", (long long)json_integer_value(json_object_get(p, "reached")));
		html_raw(h, "</td><td class=\"n\">");
		html_textf(h, "%lld", (long long)json_integer_value(json_object_get(p, "schools")));
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "</tbody></table>");
	page_wide_end(h);
	html_raw(h, "</section>");
	json_decref(r);
}
