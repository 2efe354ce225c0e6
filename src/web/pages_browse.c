/* pages_browse.c - finding clips: the home page, practices, one practice
 * or school with filters, and search.  Each list is a grid of cards in
 * pages of PER_PAGE, filtered by a plain GET form (it works without
 * JavaScript and the address can be shared). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "media_files.h"
#include "pages.h"
#include "pages_mail.h" /* issue 16 */
#include "pages_moments.h" /* issue 15 */
#include "pages_spread.h" /* issue 15 */
#include "kindling/captions.h" /* issue 15 */
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/mem.h"

#define PER_PAGE 24
/* Longest grade or subject typed into a filter (the catalogue's own limits
 * are lower: a longer one can only match nothing). */
#define FILTER_MAX 60
#define STR_(x) #x
#define STR(x) STR_(x)

/* One clip in a grid.  query: words to mark, or NULL. */
static void clip_card(struct html *h, const struct cat_clip *c, const char *query)
{
	char url[96], dur[24];
	html_raw(h, "<li class=\"card\"><a class=\"card-link\" href=\"");
	html_attrf(h, "/clips/%lld", (long long)c->id);
	html_raw(h, "\">");
	if (c->status == CAT_READY) {
		media_url(c->id, KD_FILE_THUMBNAIL, url, sizeof url);
		/* The link's text is the title: the picture adds nothing to
		 * read aloud. */
		html_raw(h, "<img class=\"thumb\" loading=\"lazy\" width=\"320\" height=\"180\" "
		            "alt=\"\" src=\"");
		html_attr(h, url);
		html_raw(h, "\">");
		if (c->media.probed) {
			page_duration(c->media.duration_s, dur, sizeof dur);
			html_raw(h, "<span class=\"dur\"><span class=\"vh\">Length </span>");
			html_text(h, dur);
			html_raw(h, "</span>");
		}
	} else {
		html_raw(h, "<span class=\"thumb pending\">");
		html_text(h, cat_status_name(c->status));
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
	html_raw(h, "</span>");
}

/* issue 15: where a searched clip's captions say the words: "Said at
 * 1:23: “...”", opening the clip at that second.  The cue's WebVTT tags
 * are left out of what is shown and its entities read; the text is then
 * escaped like any other. */
static void said_at(struct html *h, struct request *req, const struct cat_clip *c,
                    const char *query, char **match)
{
	if (c->captions == CAPTIONS_NONE || !media_file_made(c, KD_FILE_CAPTIONS))
		return;
	if (!*match && !(*match = cat_fts_query(query)))
		return;
	double at;
	char *text;
	if (cat_caption_hit(req->db, c->id, *match, &at, &text) < 0)
		return;
	char *w = text;
	for (const char *r = text; *r; r++) {
		if (*r == '<') { /* a tag: <b>, <v Speaker>, <00:01.000> */
			const char *e = strchr(r, '>');
			if (e) {
				r = e;
				continue;
			}
		}
		static const struct {
			const char *name, *is;
		} ENTITIES[] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&nbsp;", " "},
		                {"&lrm;", ""}, {"&rlm;", ""}};
		size_t k = 0, n = sizeof ENTITIES / sizeof *ENTITIES;
		while (*r == '&' && k < n && strncmp(r, ENTITIES[k].name, strlen(ENTITIES[k].name)))
			k++;
		if (*r == '&' && k < n) { /* shown as the character it stands for */
			size_t len = strlen(ENTITIES[k].is);
			memcpy(w, ENTITIES[k].is, len); /* never longer than the entity */
			w += len;
			r += strlen(ENTITIES[k].name) - 1;
			continue;
		}
		*w++ = *r == '\n' ? ' ' : *r;
	}
	*w = '\0';
	char when[24];
	long s = (long)floor(at);
	page_duration((double)s, when, sizeof when);
	html_raw(h, "<p class=\"said\"><a href=\"");
	html_attrf(h, "/clips/%lld?t=%ld", (long long)c->id, s);
	html_raw(h, "\">Said at ");
	html_text(h, when);
	html_raw(h, "</a>: “");
	html_text_marked(h, text, query);
	html_raw(h, "”</p>");
	free(text);
}

/* query: the words searched for (marked, and looked for in captions:
 * issue 15), or NULL. */
static void clip_grid(struct html *h, const struct cat_page *p, const char *query,
                      struct request *req)
{
	if (p->n == 0) {
		html_raw(h, "<p class=\"empty\">No clips here yet.</p>");
		return;
	}
	char *match = NULL;
	html_raw(h, "<ul class=\"grid\">");
	for (size_t i = 0; i < p->n; i++) {
		clip_card(h, &p->clips[i], query);
		if (query && req)
			said_at(h, req, &p->clips[i], query, &match);
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul>");
	free(match);
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
	html_raw(h, "\" maxlength=\"" STR(FILTER_MAX) "\"></div>");
}

/* A grid of clips of one practice or one school, with filters. */
static enum MHD_Result listing(struct request *req, const char *path, const char *heading,
                               const char *intro, const char *practice, const char *school)
{
	struct cat_query q = {
		.practice = practice ? practice : page_nonempty(req_arg(req, "practice")),
		.school = school ? school : page_nonempty(req_arg(req, "school")),
		.grade = page_nonempty(req_arg(req, "grade")),
		.subject = page_nonempty(req_arg(req, "subject")),
		.sort = CAT_SORT_NEWEST,
		.page = page_number(req, "page", CAT_PAGE_MAX),
		.per_page = PER_PAGE,
	};
	const char *sort = req_arg(req, "sort");
	for (size_t i = 0; sort && i < sizeof SORTS / sizeof *SORTS; i++)
		if (!strcmp(sort, SORTS[i].value))
			q.sort = SORTS[i].sort;
	if ((q.grade && strlen(q.grade) > FILTER_MAX) || (q.subject && strlen(q.subject) > FILTER_MAX))
		return page_message(req, MHD_HTTP_BAD_REQUEST, "Filter too long",
		                    "Grade and subject are at most " STR(FILTER_MAX) " characters.");
	struct cat_page p;
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_clips_list(req->db, &req->user, &q, &p, err, sizeof err);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, err);
	if (rc < 0)
		return page_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
		                    "The catalogue could not be read. Try again in a moment.");

	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, heading);
	if (practice) /* issue 16: follow it (pages_mail.c), beside the heading */
		page_follow_button(&h, req, practice, heading);
	html_raw(&h, "<h1>");
	html_text(&h, heading);
	html_raw(&h, "</h1>");
	if (intro && *intro) {
		html_raw(&h, "<p class=\"intro\">");
		html_text(&h, intro);
		html_raw(&h, "</p>");
	}
	if (school)
		page_school_visits(&h, req, school);
	/* issue 15: a practice leads with its moments across schools (pages_moments_practice.c) */
	if (practice)
		page_practice_moments(&h, req, practice, q.school);
	if (practice) /* issue 15: how it spread (pages_spread.c) */
		page_spread_section(&h, req, practice);
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
			for (size_t i = 0; i < n; i++) {
				bool on = q.practice && !strcmp(q.practice, ps[i].slug);
				/* retired practices have their own page, not a filter */
				if (!ps[i].retired_at || on)
					select_option(&h, ps[i].slug, ps[i].name, on);
			}
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
	clip_grid(&h, &p, NULL, NULL);
	page_pagination(&h, req, path, "page", q.page, p.total, q.per_page, NULL);
	page_end(&h);
	cat_page_free(&p);
	return respond_html(req, MHD_HTTP_OK, &h);
}

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
	clip_grid(&h, &p, NULL, NULL);
	html_raw(&h, "</section><div class=\"cols\"><section aria-labelledby=\"pr-h\">"
	             "<h2 id=\"pr-h\">Practices</h2><ul class=\"list\">");
	for (size_t i = 0; i < np; i++) {
		if (ps[i].retired_at) /* (listed apart on /practices) */
			continue;
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
	/* those in use, then the retired ones apart: their clips are still
	 * there to watch, but no new clip is filed under them */
	size_t retired = 0;
	for (size_t i = 0; i < n; i++)
		retired += ps[i].retired_at != NULL;
	html_raw(&h, "<h1>Practices</h1>");
	for (int k = 0; k < 2; k++) {
		if (k == 1 && !retired)
			break;
		if (k == 1)
			html_raw(&h, "<h2 id=\"retired-h\">Retired practices</h2><p>Their clips stay "
			             "here to watch; new clips are filed under the practices above.</p>");
		html_raw(&h, k ? "<ul class=\"practices retired\" aria-labelledby=\"retired-h\">"
		               : "<ul class=\"practices\">");
		for (size_t i = 0; i < n; i++) {
			if ((ps[i].retired_at != NULL) != (k == 1))
				continue;
			html_raw(&h, "<li><h2><a href=\"");
			html_attrf(&h, "/practices/%s", ps[i].slug);
			html_raw(&h, "\">");
			html_text(&h, ps[i].name);
			html_raw(&h, "</a></h2><p>");
			html_text(&h, ps[i].description);
			html_raw(&h, "</p><p class=\"n\">");
			html_textf(&h, "%lld clip%s", (long long)ps[i].clips,
			           ps[i].clips == 1 ? "" : "s");
			html_raw(&h, "</p></li>");
		}
		html_raw(&h, "</ul>");
	}
	page_end(&h);
	cat_practices_free(ps, n);
	return respond_html(req, MHD_HTTP_OK, &h);
}

enum MHD_Result page_practice(struct request *req)
{
	struct cat_practice *p;
	int rc = cat_practice_get(req->db, req->slugs[0], &p);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, "There is no practice at this address.");
	if (rc < 0)
		return page_failed(req, rc, "The catalogue could not be read.");
	char *path = kd_asprintf("/practices/%s", p->slug);
	/* a retired practice's page still lists its clips, and says so */
	char *intro = p->retired_at ? kd_asprintf("%s%sRetired on %.10s: its clips stay here, and "
	                                          "new clips are filed under other practices.",
	                                          p->description, *p->description ? " " : "",
	                                          p->retired_at)
	                            : NULL;
	enum MHD_Result r = listing(req, path, p->name, intro ? intro : p->description, p->slug,
	                            NULL);
	free(intro);
	free(path);
	cat_practices_free(p, 1);
	return r;
}

enum MHD_Result page_school(struct request *req)
{
	struct cat_school *s;
	int rc = cat_school_get(req->db, req->slugs[0], &s);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, "There is no school at this address.");
	if (rc < 0)
		return page_failed(req, rc, "The catalogue could not be read.");
	char *path = kd_asprintf("/schools/%s", s->slug);
	enum MHD_Result r = listing(req, path, s->name, s->district, NULL, s->slug);
	free(path);
	cat_schools_free(s, 1);
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
	             "practice, tags, captions)</label><input id=\"q\" type=\"search\" name=\"q\" value=\"");
	html_attr(&h, q ? q : "");
	html_raw(&h, "\"></div><button type=\"submit\">Search</button></form>");
	if (q && *q) {
		struct cat_query cq = {.q = q, .sort = CAT_SORT_RELEVANCE, .page = page_number(req, "page", CAT_PAGE_MAX),
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
		clip_grid(&h, &p, q, req);
		page_pagination(&h, req, "/search", "page", cq.page, p.total, cq.per_page, NULL);
		cat_page_free(&p);
	}
	page_end(&h);
	return respond_html(req, MHD_HTTP_OK, &h);
}

