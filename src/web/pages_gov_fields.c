/* pages_gov_fields.c - the pieces of the clip page's governance forms
 * (pages_gov.h): marking a refused field, numbers and times as a person
 * reads and types them, and the rows of the blur editor. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "pages.h"
#include "pages_gov.h"

bool refused_here(const struct gov_refusal *g, const char *form)
{
	return g && !strcmp(g->form, form);
}

/* aria-invalid, the error's id and the focus on the field the refusal
 * names (a group of radios is marked, but cannot take the focus). */
void mark_field(struct html *h, const struct gov_refusal *g, const char *form,
                       const char *field)
{
	if (!refused_here(g, form) || !g->field || strcmp(g->field, field) != 0)
		return;
	html_raw(h, " aria-invalid=\"true\"");
	if (strcmp(field, "consent") != 0 && strcmp(field, "consent_basis") != 0)
		html_raw(h, " autofocus");
	html_raw(h, " aria-describedby=\"");
	html_attrf(h, "%s-error", form);
	html_raw(h, "\"");
}

/* A number as typed into a field: at most three decimals, no trailing
 * zeros. */
void fmt_num(double v, char *out, size_t len)
{
	snprintf(out, len, "%.3f", v);
	char *dot = strchr(out, '.');
	if (!dot)
		return;
	char *end = out + strlen(out) - 1;
	while (end > dot && *end == '0')
		*end-- = '\0';
	if (end == dot)
		*end = '\0';
	if (!strcmp(out, "-0"))
		snprintf(out, len, "0");
}

/* A moment as read: "m:ss.s". */
void fmt_time(double s, char *out, size_t len)
{
	if (!(s > 0) || !isfinite(s))
		s = 0;
	if (s > 1e9)
		s = 1e9;
	long whole = (long)floor(s);
	int tenth = (int)floor((s - (double)whole) * 10 + 1e-6);
	snprintf(out, len, "%ld:%02ld.%c", whole / 60, whole % 60, (char)('0' + (tenth > 9 ? 9 : tenth)));
}

bool blank(const char *s)
{
	while (s && isspace((unsigned char)*s))
		s++;
	return !s || !*s;
}


const char *const GOV_BLUR_FIELDS[6] = {"from_s", "to_s", "x", "y", "w", "h"};
const char *const GOV_BLUR_LABELS[6] = {"From (seconds)", "To (seconds)", "Left (%)",
                                      "Top (%)", "Width (%)", "Height (%)"};

/* One row of the editor: n from 1; v the six values as typed (NULL: empty);
 * added: the empty row that adds a region. */
void blur_row(struct html *h, const struct gov_refusal *g, int n, char *const v[6],
                     bool added, bool removed)
{
	bool bad = refused_here(g, "blur") && g->row == n;
	html_raw(h, "<fieldset class=\"blur-row");
	html_raw(h, added ? " blur-new\"" : "\"");
	html_raw(h, " data-row=\"");
	html_attrf(h, "%d", n);
	html_raw(h, "\"><legend>");
	if (added)
		html_raw(h, "Add a region");
	else
		html_textf(h, "Region %d", n);
	html_raw(h, "</legend>");
	for (int k = 0; k < 6; k++) {
		char id[48];
		snprintf(id, sizeof id, "blur-%d-%s", n, GOV_BLUR_FIELDS[k]);
		html_raw(h, "<span class=\"field\"><label for=\"");
		html_attr(h, id);
		html_raw(h, "\">");
		html_text(h, GOV_BLUR_LABELS[k]);
		html_raw(h, "</label><input id=\"");
		html_attr(h, id);
		html_raw(h, "\" name=\"");
		html_attr(h, GOV_BLUR_FIELDS[k]);
		/* times may be typed as m:ss; positions are plain numbers */
		html_raw(h, k < 2 ? "\" type=\"text\" inputmode=\"decimal\" size=\"7\""
		                  : "\" type=\"number\" min=\"0\" max=\"100\" step=\"any\"");
		html_raw(h, bad ? " aria-invalid=\"true\" aria-describedby=\"blur-error blur-units\""
		                : " aria-describedby=\"blur-units\"");
		if (bad && k == 0)
			html_raw(h, " autofocus");
		html_raw(h, " value=\"");
		html_attr(h, v[k] ? v[k] : "");
		html_raw(h, "\"></span>");
	}
	if (!added) {
		html_raw(h, "<label class=\"check\"><input type=\"checkbox\" name=\"remove\" value=\"");
		html_attrf(h, "%d", n);
		html_raw(h, removed ? "\" checked> " : "\"> ");
		html_textf(h, "Remove region %d", n);
		html_raw(h, "</label>");
	}
	html_raw(h, "</fieldset>");
}



bool row_empty(char *const v[6])
{
	for (int k = 0; k < 6; k++)
		if (v[k] && v[k][strspn(v[k], " \t")])
			return false;
	return true;
}

void posted_read(struct request *req, struct posted_rows *p)
{
	memset(p, 0, sizeof *p);
	while (p->n < BLUR_ROWS_MAX + 1) {
		char *from = page_field_n(req, "from_s", p->n);
		if (!from)
			break;
		p->v[p->n][0] = from;
		for (int k = 1; k < 6; k++)
			p->v[p->n][k] = page_field_n(req, GOV_BLUR_FIELDS[k], p->n);
		p->n++;
	}
	char *rm;
	for (int i = 0; i < 2 * BLUR_ROWS_MAX && (rm = page_field_n(req, "remove", i)); i++) {
		char *end;
		long row = strtol(rm, &end, 10);
		if (*end == '\0' && row >= 1 && row <= p->n)
			p->removed[row - 1] = true;
		free(rm);
	}
}

void posted_free(struct posted_rows *p)
{
	for (int i = 0; i < p->n; i++)
		for (int k = 0; k < 6; k++)
			free(p->v[i][k]);
}

void blur_list(struct html *h, const struct cat_blur_region *r, size_t n)
{
	if (n == 0) {
		html_raw(h, "<p>No region is blurred.</p>");
		return;
	}
	page_wide_begin(h, "Blurred regions"); /* issue 15: a region keyboards can scroll */
	html_raw(h, "<table class=\"figures blur-list\"><caption>Regions, by "
	            "time</caption><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Left</th>"
	            "<th scope=\"col\">Top</th><th scope=\"col\">Width</th><th scope=\"col\">Height"
	            "</th><th scope=\"col\">State</th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		char from[48], to[48], num[48];
		fmt_time(r[i].from_s, from, sizeof from);
		fmt_time(r[i].to_s, to, sizeof to);
		html_raw(h, "<tr><td>");
		html_textf(h, "%s to %s", from, to);
		const double pos[4] = {r[i].x, r[i].y, r[i].w, r[i].h};
		for (int k = 0; k < 4; k++) {
			fmt_num(pos[k] * 100, num, sizeof num);
			html_raw(h, "</td><td class=\"n\">");
			html_textf(h, "%s%%", num);
		}
		html_raw(h, "</td><td>");
		if (!strcmp(r[i].state, "applied"))
			html_raw(h, "blurred");
		else if (r[i].confidence >= 0)
			html_textf(h, "proposed by the %s (%.0f%% sure), not blurred",
			           !strcmp(r[i].source, "detector") ? "face finder" : "editor",
			           r[i].confidence * 100);
		else
			html_raw(h, "proposed, not blurred");
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "</tbody></table></div>");
}

/* typed into s (size bytes), with a comma as the decimal point turned into
 * a dot: false when blank or too long to be a number. */
static bool typed_copy(const char *typed, char *s, size_t size)
{
	if (blank(typed) || strlen(typed) >= size)
		return false;
	snprintf(s, size, "%s", typed);
	for (char *p = s; *p; p++)
		if (*p == ',')
			*p = '.';
	return true;
}

/* Seconds typed as "75", "75.5", "1:15" or "1:01:15" (a comma may be the
 * decimal point). */
bool parse_seconds(const char *typed, double *out)
{
	char s[48];
	if (!typed_copy(typed, s, sizeof s))
		return false;
	double total = 0;
	int parts = 0;
	for (char *p = s;;) {
		char *end;
		double v = strtod(p, &end);
		while (isspace((unsigned char)*end))
			end++;
		if (end == p || !isfinite(v) || v < 0 || ++parts > 3)
			return false;
		total = total * 60 + v;
		if (*end == '\0')
			break;
		if (*end != ':' || v != floor(v))
			return false;
		p = end + 1;
	}
	*out = total;
	return true;
}

/* A percentage typed as "12.5" or "12.5 %", as a fraction. */
bool parse_percent(const char *typed, double *out)
{
	char s[48];
	if (!typed_copy(typed, s, sizeof s))
		return false;
	char *end;
	double v = strtod(s, &end);
	while (isspace((unsigned char)*end) || *end == '%')
		end++;
	if (end == s || *end || !isfinite(v))
		return false;
	*out = v / 100;
	return true;
}
