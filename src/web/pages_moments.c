/* pages_moments.c - a clip's moments on its page (see pages_moments.h):
 * the chapters track and its WebVTT, the chapter bar, the list, and the
 * forms that add, change and remove a moment.  A refused form comes back
 * on a page of its own (as the governance forms do) with why, what was
 * typed, and the field at fault marked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "pages.h"
#include "pages_gov.h"
#include "pages_moments.h"
#include "static.h"
#include "kindling/audit.h"
#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/mem.h"

#define STR_(x) #x
#define STR(x) STR_(x)
/* A time field holds "h:mm:ss.fff" at most; more is no time. */
#define TIME_FIELD_MAX 16
/* Overlapping moments are drawn in lanes, one under the other. */
#define BAR_LANES 4

void moment_clock(double s, char *out, size_t len)
{
	if (!(s > 0) || !isfinite(s))
		s = 0;
	long ms = lround(s * 1000);
	long t = ms / 1000, frac = ms % 1000;
	char f[8] = "";
	if (frac) {
		snprintf(f, sizeof f, ".%03ld", frac);
		for (size_t n = strlen(f); f[n - 1] == '0'; n--)
			f[n - 1] = '\0';
	}
	if (t >= 3600)
		snprintf(out, len, "%ld:%02ld:%02ld%s", t / 3600, t / 60 % 60, t % 60, f);
	else
		snprintf(out, len, "%ld:%02ld%s", t / 60, t % 60, f);
}

void moment_seconds(double s, char *out, size_t len)
{
	fmt_num(s > 0 && isfinite(s) ? s : 0, out, len);
}

void page_moments_load(struct request *req, const struct cat_clip *c, struct page_moments *pm)
{
	memset(pm, 0, sizeof *pm);
	pm->may_edit = cat_moment_may_edit(&req->user, c);
	if (cat_moments_of_clip(req->db, &req->user, c->id, &pm->list, &pm->n) < 0) {
		pm->list = NULL;
		pm->n = 0;
		pm->failed = true;
	}
}

void page_moments_free(struct page_moments *pm)
{
	cat_moments_free(pm->list, pm->n);
	pm->list = NULL;
	pm->n = 0;
}

static const char *chapters_url(int64_t clip, char *out, size_t len)
{
	snprintf(out, len, "/clips/%lld/chapters.vtt", (long long)clip);
	return out;
}

void page_moments_track(struct html *h, const struct cat_clip *c, const struct page_moments *pm)
{
	if (!pm->n)
		return;
	char url[64];
	html_raw(h, "<track kind=\"chapters\" srclang=\"en\" label=\"Moments\" src=\"");
	html_attr(h, chapters_url(c->id, url, sizeof url));
	html_raw(h, "\">");
}

/* ---------------------------------------------------------------- chapters.vtt */

static void vtt_time(struct kd_buf *b, double s)
{
	long long ms = llround((s > 0 && isfinite(s) ? s : 0) * 1000);
	kd_buf_printf(b, "%02lld:%02lld:%02lld.%03lld", ms / 3600000, ms / 60000 % 60,
	              ms / 1000 % 60, ms % 1000);
}

/* Cue text is markup to a WebVTT parser: & < > as entities, and on one
 * line (a blank line would end the cue, "-->" is then "--&gt;"). */
static void vtt_text(struct kd_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '&')
			kd_buf_puts(b, "&amp;");
		else if (*s == '<')
			kd_buf_puts(b, "&lt;");
		else if (*s == '>')
			kd_buf_puts(b, "&gt;");
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			kd_buf_putc(b, ' ');
		else
			kd_buf_putc(b, *s);
	}
}

enum MHD_Result page_clip_chapters(struct request *req)
{
	struct cat_moment *ms = NULL;
	size_t n = 0;
	int rc = cat_moments_of_clip(req->db, &req->user, req->ids[0], &ms, &n);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, "There is no clip at this address, or you may not have "
		                           "access to it.");
	if (rc < 0)
		return page_failed(req, rc, "The moments could not be read. Try again in a moment.");
	/* MOMENTS_PER_CLIP_MAX cues of a title and a practice name, each
	 * character at most 5 bytes here: far below the cap */
	struct kd_buf b = KD_BUF_INIT(1u << 20);
	bool too_big = false;
	kd_buf_puts(&b, "WEBVTT\n\n");
	for (size_t i = 0; i < n; i++) {
		kd_buf_printf(&b, "moment-%lld\n", (long long)ms[i].id);
		vtt_time(&b, ms[i].start_s);
		kd_buf_puts(&b, " --> ");
		vtt_time(&b, ms[i].end_s);
		kd_buf_putc(&b, '\n');
		vtt_text(&b, ms[i].title);
		if (ms[i].practice_name && *ms[i].practice_name) {
			kd_buf_puts(&b, " (");
			vtt_text(&b, ms[i].practice_name);
			kd_buf_putc(&b, ')');
		}
		if (kd_buf_puts(&b, "\n\n") < 0)
			too_big = true;
	}
	cat_moments_free(ms, n);
	if (too_big) {
		kd_buf_release(&b);
		return page_failed(req, KD_EIO, "The chapters are too long to send.");
	}
	size_t len;
	char *text = kd_buf_take(&b, &len);
	return respond_text(req, MHD_HTTP_OK, "text/vtt; charset=utf-8", NULL, text);
}

/* ---------------------------------------------------------------- on the page */

/* Is t (seconds, from ?t=) within moment m? */
static bool playing_at(const struct cat_moment *m, double t)
{
	return t >= 0 && t >= m->start_s && t < m->end_s;
}

/* The link that plays a moment: to ?t= without JavaScript, a seek in place
 * with it (assets/moments.js reads data-t). */
static void seek_attrs(struct html *h, const struct cat_clip *c, const struct cat_moment *m)
{
	char t[32], end[32];
	moment_seconds(m->start_s, t, sizeof t);
	moment_seconds(m->end_s, end, sizeof end);
	html_raw(h, " href=\"");
	html_attrf(h, "/clips/%lld?t=%s#player-box", (long long)c->id, t);
	html_raw(h, "\" data-t=\"");
	html_attr(h, t);
	html_raw(h, "\" data-end=\"");
	html_attr(h, end);
	html_raw(h, "\"");
}

/* Under the video: each moment a link placed by its time, in lanes when
 * they overlap.  Its position is a class (cb-l<left %>, cb-w<width %>):
 * the pages' Content-Security-Policy allows no style attribute. */
static void chapter_bar(struct html *h, const struct cat_clip *c, const struct page_moments *pm,
                        double dur, double t)
{
	int lane[MOMENTS_PER_CLIP_MAX];
	double lane_end[BAR_LANES] = {0};
	int lanes = 1;
	size_t n = pm->n < MOMENTS_PER_CLIP_MAX ? pm->n : MOMENTS_PER_CLIP_MAX;
	for (size_t i = 0; i < n; i++) {
		int k = 0;
		while (k < BAR_LANES - 1 && k < lanes && lane_end[k] > pm->list[i].start_s)
			k++;
		lane[i] = k;
		if (k + 1 > lanes)
			lanes = k + 1;
		if (pm->list[i].end_s > lane_end[k])
			lane_end[k] = pm->list[i].end_s;
	}
	html_raw(h, "<nav class=\"chapters\" aria-label=\"Moments in the video\"><ol class=\"chapter-bar");
	html_attrf(h, " lanes-%d", lanes);
	html_raw(h, "\">");
	for (size_t i = 0; i < n; i++) {
		const struct cat_moment *m = &pm->list[i];
		double s = m->start_s < dur ? m->start_s : dur, e = m->end_s < dur ? m->end_s : dur;
		int left = (int)floor(100 * s / dur);
		if (left > 99)
			left = 99;
		int width = (int)lround(100 * (e - s) / dur);
		if (width < 1)
			width = 1;
		if (width > 100 - left)
			width = 100 - left;
		char from[24], to[24];
		page_duration(m->start_s, from, sizeof from);
		page_duration(m->end_s, to, sizeof to);
		html_raw(h, "<li class=\"chapter");
		html_attrf(h, " cb-l%d cb-w%d lane-%d%s", left, width, lane[i], i % 2 ? " alt" : "");
		html_raw(h, "\"><a class=\"moment-seek\"");
		seek_attrs(h, c, m);
		html_raw(h, playing_at(m, t) ? " aria-current=\"true\">" : ">");
		html_raw(h, "<span class=\"vh\">");
		html_textf(h, "Moment %zu of %zu: ", i + 1, pm->n);
		html_raw(h, "</span>");
		html_text(h, m->title);
		html_raw(h, "<span class=\"vh\">");
		html_textf(h, ", %s to %s", from, to);
		html_raw(h, "</span></a></li>");
	}
	html_raw(h, "</ol></nav>");
}

/* What a moment form was given, as typed (NULL: empty). */
struct typed {
	const char *start, *end, *practice, *title;
};
/* Why a form was refused, and the field at fault (NULL: none). */
struct refusal {
	const char *error;
	const char *field;
};

/* The marks of the field at fault, after its other attributes. */
static void field_marks(struct html *h, const struct refusal *r, const char *field)
{
	if (r && r->field && !strcmp(r->field, field))
		html_raw(h, " aria-invalid=\"true\" aria-describedby=\"moment-error\" autofocus");
}

static void text_field(struct html *h, const char *idp, const char *name, const char *label,
                       const char *hint, const char *value, const char *maxlength,
                       const struct refusal *r)
{
	html_raw(h, "<div class=\"moment-field\"><label for=\"");
	html_attrf(h, "%s-%s", idp, name);
	html_raw(h, "\">");
	html_text(h, label);
	if (hint) {
		html_raw(h, " <span class=\"hint\">");
		html_text(h, hint);
		html_raw(h, "</span>");
	}
	html_raw(h, "</label><input id=\"");
	html_attrf(h, "%s-%s", idp, name);
	html_raw(h, "\" name=\"");
	html_attr(h, name);
	html_raw(h, "\" required maxlength=\"");
	html_attr(h, maxlength);
	html_raw(h, "\" value=\"");
	html_attr(h, value ? value : "");
	html_raw(h, "\"");
	field_marks(h, r, name);
	if (strcmp(name, "title"))
		html_raw(h, " data-now");
	html_raw(h, "></div>");
}

/* The form that adds (moment 0) or changes a moment of c. */
static void moment_form(struct html *h, struct request *req, const struct cat_clip *c,
                        int64_t moment, const struct typed *v, const struct refusal *r)
{
	char idp[40];
	if (moment)
		snprintf(idp, sizeof idp, "m%lld", (long long)moment);
	else
		snprintf(idp, sizeof idp, "m-new");
	html_raw(h, "<form class=\"moment-form\" method=\"post\" action=\"");
	if (moment)
		html_attrf(h, "/clips/%lld/moments/%lld", (long long)c->id, (long long)moment);
	else
		html_attrf(h, "/clips/%lld/moments", (long long)c->id);
	html_raw(h, "\">");
	if (r && r->error)
		page_error(h, "moment-error", r->error);
	page_csrf_field(h, req);
	text_field(h, idp, "start", "Start", "(m:ss or seconds)", v->start,
	           STR(TIME_FIELD_MAX), r);
	text_field(h, idp, "end", "End", "(m:ss or seconds)", v->end, STR(TIME_FIELD_MAX), r);
	html_raw(h, "<div class=\"moment-field\"><label for=\"");
	html_attrf(h, "%s-practice", idp);
	html_raw(h, "\">Practice</label><select id=\"");
	html_attrf(h, "%s-practice", idp);
	html_raw(h, "\" name=\"practice\" required");
	field_marks(h, r, "practice");
	html_raw(h, ">");
	struct cat_practice *ps = NULL;
	size_t np = 0;
	bool listed = false;
	if (cat_practices_list(req->db, &req->user, &ps, &np) == 0) {
		for (size_t i = 0; i < np; i++) {
			bool on = v->practice && !strcmp(v->practice, ps[i].slug);
			/* a retired practice only for the moment that has it */
			if (ps[i].retired_at && !on)
				continue;
			listed |= on;
			html_raw(h, "<option value=\"");
			html_attr(h, ps[i].slug);
			html_raw(h, on ? "\" selected>" : "\">");
			html_text(h, ps[i].name);
			html_raw(h, "</option>");
		}
	}
	if (v->practice && *v->practice && !listed) {
		/* what was sent, though no practice has it: shown, to be changed */
		html_raw(h, "<option value=\"");
		html_attr(h, v->practice);
		html_raw(h, "\" selected>");
		html_text(h, v->practice);
		html_raw(h, "</option>");
	}
	cat_practices_free(ps, np);
	html_raw(h, "</select></div>");
	text_field(h, idp, "title", "Title", NULL, v->title, STR(MOMENT_TITLE_MAX), r);
	html_raw(h, moment ? "<button type=\"submit\">Save moment</button></form>"
	                   : "<button type=\"submit\">Add moment</button></form>");
}

/* A moment's values for its edit form. */
static void typed_of(const struct cat_moment *m, char start[32], char end[32], struct typed *v)
{
	moment_clock(m->start_s, start, 32);
	moment_clock(m->end_s, end, 32);
	*v = (struct typed){.start = start, .end = end, .practice = m->practice, .title = m->title};
}

static void moment_item(struct html *h, struct request *req, const struct cat_clip *c,
                        const struct page_moments *pm, const struct cat_moment *m, bool player,
                        double t)
{
	char from[32], to[32], len[24];
	moment_clock(m->start_s, from, sizeof from);
	moment_clock(m->end_s, to, sizeof to);
	page_duration(m->end_s - m->start_s, len, sizeof len);
	html_raw(h, "<li class=\"moment\" id=\"");
	html_attrf(h, "moment-%lld", (long long)m->id);
	html_raw(h, "\">");
	if (player) {
		html_raw(h, "<a class=\"moment-time moment-seek\"");
		seek_attrs(h, c, m);
		html_raw(h, playing_at(m, t) ? " aria-current=\"true\">" : ">");
		html_raw(h, "<span class=\"vh\">Play from </span>");
	} else {
		html_raw(h, "<span class=\"moment-time\">");
	}
	html_textf(h, "%s–%s", from, to);
	html_raw(h, player ? "</a> " : "</span> ");
	html_raw(h, "<span class=\"moment-title\">");
	html_text(h, m->title);
	html_raw(h, "</span> <span class=\"moment-meta\"><a href=\"");
	html_attrf(h, "/practices/%s", m->practice);
	html_raw(h, "\">");
	html_text(h, m->practice_name && *m->practice_name ? m->practice_name : m->practice);
	html_raw(h, "</a> · ");
	html_textf(h, "%s long", len);
	html_raw(h, "</span>");
	if (pm->may_edit) {
		char start[32], end[32];
		struct typed v;
		typed_of(m, start, end, &v);
		html_raw(h, "<div class=\"moment-tools\"><details class=\"moment-edit\"><summary>Edit"
		            "<span class=\"vh\"> the moment “");
		html_text(h, m->title);
		html_raw(h, "”</span></summary>");
		moment_form(h, req, c, m->id, &v, NULL);
		html_raw(h, "</details><form class=\"moment-delete\" method=\"post\" action=\"");
		html_attrf(h, "/clips/%lld/moments/%lld/delete", (long long)c->id, (long long)m->id);
		html_raw(h, "\">");
		page_csrf_field(h, req);
		html_raw(h, "<button type=\"submit\" class=\"link\">Delete<span class=\"vh\"> the "
		            "moment “");
		html_text(h, m->title);
		html_raw(h, "”</span></button></form></div>");
	}
	html_raw(h, "</li>");
}

static void assets(struct html *h)
{
	char url[96];
	html_raw(h, "<link rel=\"stylesheet\" href=\"");
	html_attr(h, asset_url("moments.css", url, sizeof url));
	html_raw(h, "\">");
}

void page_moments_section(struct html *h, struct request *req, const struct cat_clip *c,
                          const struct page_moments *pm, bool player)
{
	if (!pm->n && !pm->may_edit && !pm->failed)
		return;
	char url[96];
	assets(h);
	/* ?t= as pages_clip.c reads it: the moment it falls in is the current one */
	const char *ta = req_arg(req, "t");
	double t = ta ? strtod(ta, NULL) : -1;
	if (!isfinite(t))
		t = -1;
	double dur = c->media.probed && c->media.duration_s > 0 && isfinite(c->media.duration_s)
	                     ? c->media.duration_s
	                     : 0;
	html_raw(h, "<section id=\"moments\" class=\"moments\" aria-labelledby=\"moments-h\">"
	            "<h2 id=\"moments-h\">Moments</h2>");
	if (pm->failed)
		page_error(h, NULL, "The moments of this clip could not be read. Reload the page in a "
		                    "moment.");
	if (player && dur > 0 && pm->n)
		chapter_bar(h, c, pm, dur, t);
	if (pm->n) {
		html_raw(h, "<ol class=\"moment-list\">");
		for (size_t i = 0; i < pm->n; i++)
			moment_item(h, req, c, pm, &pm->list[i], player, t);
		html_raw(h, "</ol>");
	} else if (!pm->failed) {
		html_raw(h, "<p class=\"empty\">No moments yet: mark where the practice shows, so "
		            "that others can watch that first.</p>");
	}
	if (pm->may_edit && pm->n < MOMENTS_PER_CLIP_MAX) {
		struct typed v = {.practice = c->n_practices ? c->practices[0] : NULL};
		html_raw(h, "<details class=\"moment-add\"><summary>Add a moment</summary>");
		moment_form(h, req, c, 0, &v, NULL);
		html_raw(h, "</details>");
	}
	html_raw(h, "</section><script defer src=\"");
	html_attr(h, asset_url("moments.js", url, sizeof url));
	html_raw(h, "\"></script>");
}

/* ---------------------------------------------------------------- the forms */

static enum MHD_Result refused(struct request *req, unsigned status, const struct cat_clip *c,
                               int64_t moment, const struct typed *v, const struct refusal *r)
{
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Moment not saved");
	assets(&h);
	html_raw(&h, "<h1>Moment not saved</h1><p>About the clip <a href=\"");
	html_attrf(&h, "/clips/%lld#moments", (long long)c->id);
	html_raw(&h, "\">");
	html_text(&h, c->title);
	html_raw(&h, "</a>. Nothing was saved: correct what is marked and send the form "
	             "again.</p><section class=\"moments\">");
	moment_form(&h, req, c, moment, v, r);
	html_raw(&h, "</section>");
	page_end(&h);
	return respond_html(req, status, &h);
}

/* Why a person who sees the clip may not change its moments. */
static enum MHD_Result not_allowed(struct request *req)
{
	return page_message(req, MHD_HTTP_FORBIDDEN, "Not allowed",
	                    "The moments of a clip are added, changed and removed by admins, its "
	                    "uploader, coaches of its school and the teacher it shows.");
}

/* The moment of the path (req->ids[1]) on the clip of the path. */
static bool path_moment(struct request *req, struct cat_moment *m, enum MHD_Result *answered)
{
	int rc = cat_moment_get(req->db, &req->user, req->ids[1], m);
	if (rc == 0 && m->clip_id == req->ids[0])
		return true;
	if (rc == 0)
		cat_moment_free(m);
	*answered = rc == 0 || rc == KD_ENOTFOUND
	                    ? page_not_found(req, "There is no such moment on this clip, or you may "
	                                          "not have access to it.")
	                    : page_failed(req, rc, "The moment could not be read.");
	return false;
}

/* The posted form, read and checked as far as the page can: the times
 * parse, the end is after the start, a title and a practice were given. */
struct posted {
	char *start, *end, *practice, *title;
	struct cat_moment_edit e;
};

static void moment_posted_free(struct posted *p)
{
	free(p->start);
	free(p->end);
	free(p->practice);
	free(p->title);
}

static bool moment_posted(struct request *req, struct posted *p, struct refusal *r)
{
	p->start = page_field(req, "start");
	p->end = page_field(req, "end");
	p->practice = page_field(req, "practice");
	p->title = page_field(req, "title");
	p->e = (struct cat_moment_edit){.practice = p->practice, .title = p->title};
	if (!parse_seconds(p->start, &p->e.start_s)) {
		*r = (struct refusal){"Type the start as minutes and seconds (0:45) or as seconds "
		                      "(45).",
		                      "start"};
		return false;
	}
	if (!parse_seconds(p->end, &p->e.end_s)) {
		*r = (struct refusal){"Type the end as minutes and seconds (2:10) or as seconds (130).",
		                      "end"};
		return false;
	}
	if (p->e.end_s <= p->e.start_s) {
		*r = (struct refusal){"The end must come after the start.", "end"};
		return false;
	}
	if (blank(p->practice) || strlen(p->practice) > 64) {
		*r = (struct refusal){"Choose the practice the moment shows.", "practice"};
		return false;
	}
	if (blank(p->title)) {
		*r = (struct refusal){"Give the moment a short title, such as “Groups rotate”.",
		                      "title"};
		return false;
	}
	return true;
}

/* The field a catalogue message is about, from its words. */
static const char *field_of(const char *err)
{
	if (strstr(err, "title"))
		return "title";
	if (strstr(err, "practice"))
		return "practice";
	if (strstr(err, "end") || strstr(err, "long"))
		return "end";
	return "start";
}

static void audit_moment(struct request *req, const struct cat_clip *c, const char *what,
                         const struct cat_moment_edit *e)
{
	char from[32], to[32], detail[160];
	moment_clock(e->start_s, from, sizeof from);
	moment_clock(e->end_s, to, sizeof to);
	snprintf(detail, sizeof detail, "%s moment %s-%s %s", what, from, to,
	         e->practice ? e->practice : "");
	req_audit(req, AUDIT_EDIT, c->id, c->title, detail);
}

/* After cat_moment_add or _update: on to the moment, or the form again. */
static enum MHD_Result saved_or_refused(struct request *req, int rc, const struct cat_clip *c,
                                        int64_t moment, bool editing, const struct posted *p,
                                        char *err)
{
	if (rc == 0) {
		audit_moment(req, c, editing ? "changed" : "added", &p->e);
		char loc[96];
		snprintf(loc, sizeof loc, "/clips/%lld#moment-%lld", (long long)c->id,
		         (long long)moment);
		return respond_redirect(req, loc, NULL);
	}
	struct typed v = {p->start, p->end, p->practice, p->title};
	if (rc == KD_EINVAL || rc == KD_ENOTFOUND) {
		/* the clip is there (loaded first): not found is the practice */
		if (!*err)
			snprintf(err, KD_ERRMSG_MAX, "The moment was refused: check its times, practice "
			                             "and title.");
		/* the catalogue's messages are sentences' tails, as the API gives them */
		if (*err >= 'a' && *err <= 'z')
			*err = (char)(*err - 'a' + 'A');
		struct refusal r = {err, field_of(err)};
		return refused(req, MHD_HTTP_BAD_REQUEST, c, editing ? moment : 0, &v, &r);
	}
	if (rc == KD_EPERM)
		return page_message(req, MHD_HTTP_FORBIDDEN, "Not allowed",
		                    *err ? err : "You may not change the moments of this clip.");
	return page_failed(req, rc, "The moment could not be saved. Try again in a moment.");
}

enum MHD_Result page_moment_add(struct request *req)
{
	enum MHD_Result answered;
	if (!page_form_ok(req, &answered))
		return answered;
	struct cat_clip c;
	if (!page_load_clip(req, &c, &answered))
		return answered;
	if (!cat_moment_may_edit(&req->user, &c)) {
		cat_clip_free(&c);
		return not_allowed(req);
	}
	struct posted p = {0};
	struct refusal r = {0};
	if (!moment_posted(req, &p, &r)) {
		struct typed v = {p.start, p.end, p.practice, p.title};
		answered = refused(req, MHD_HTTP_BAD_REQUEST, &c, 0, &v, &r);
	} else {
		char err[KD_ERRMSG_MAX] = "";
		int64_t id = 0;
		int rc = cat_moment_add(req->db, &req->user, c.id, &p.e, &id, err, sizeof err);
		answered = saved_or_refused(req, rc, &c, id, false, &p, err);
	}
	moment_posted_free(&p);
	cat_clip_free(&c);
	return answered;
}

enum MHD_Result page_moment_edit(struct request *req)
{
	enum MHD_Result answered;
	if (!page_form_ok(req, &answered))
		return answered;
	struct cat_clip c;
	if (!page_load_clip(req, &c, &answered))
		return answered;
	struct cat_moment m;
	if (!path_moment(req, &m, &answered)) {
		cat_clip_free(&c);
		return answered;
	}
	cat_moment_free(&m);
	if (!cat_moment_may_edit(&req->user, &c)) {
		cat_clip_free(&c);
		return not_allowed(req);
	}
	struct posted p = {0};
	struct refusal r = {0};
	if (!moment_posted(req, &p, &r)) {
		struct typed v = {p.start, p.end, p.practice, p.title};
		answered = refused(req, MHD_HTTP_BAD_REQUEST, &c, req->ids[1], &v, &r);
	} else {
		char err[KD_ERRMSG_MAX] = "";
		int rc = cat_moment_update(req->db, &req->user, req->ids[1], &p.e, err, sizeof err);
		answered = saved_or_refused(req, rc, &c, req->ids[1], true, &p, err);
	}
	moment_posted_free(&p);
	cat_clip_free(&c);
	return answered;
}

enum MHD_Result page_moment_delete(struct request *req)
{
	enum MHD_Result answered;
	if (!page_form_ok(req, &answered))
		return answered;
	struct cat_clip c;
	if (!page_load_clip(req, &c, &answered))
		return answered;
	struct cat_moment m;
	if (!path_moment(req, &m, &answered)) {
		cat_clip_free(&c);
		return answered;
	}
	if (!cat_moment_may_edit(&req->user, &c)) {
		cat_moment_free(&m);
		cat_clip_free(&c);
		return not_allowed(req);
	}
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_moment_delete(req->db, &req->user, m.id, err, sizeof err);
	if (rc == 0) {
		struct cat_moment_edit e = {.start_s = m.start_s, .end_s = m.end_s,
		                            .practice = m.practice};
		audit_moment(req, &c, "removed", &e);
		char loc[64];
		snprintf(loc, sizeof loc, "/clips/%lld#moments", (long long)c.id);
		answered = respond_redirect(req, loc, NULL);
	} else if (rc == KD_ENOTFOUND) {
		answered = page_not_found(req, "There is no such moment on this clip, or you may not "
		                               "have access to it.");
	} else if (rc == KD_EPERM) {
		answered = page_message(req, MHD_HTTP_FORBIDDEN, "Not allowed",
		                        *err ? err : "You may not remove the moments of this clip.");
	} else {
		answered = page_failed(req, rc, "The moment could not be removed. Try again in a "
		                                "moment.");
	}
	cat_moment_free(&m);
	cat_clip_free(&c);
	return answered;
}
