/* pages_clip_governance.c - what a privacy officer answers for, on the clip
 * page, for people in a browser: the consent record and the form that sets
 * it, the regions to blur and their editor (assets/blur.js draws them on the
 * paused video; the numeric fields are the way without JavaScript and
 * without a pointer), and for admins legal hold and the original for a
 * records request.  The saves are the API's own (clip_audit_edit,
 * clip_blur_save, clip_hold_save), so a form and a script leave the same
 * record and audit trail.  pages_clip.c shows these sections; a refused
 * form comes back on a page of its own (as the visit form does), with why,
 * what was typed and the field at fault marked. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "layout.h"
#include "media_files.h"
#include "pages.h"
#include "pages_gov.h"
#include "static.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/mem.h"

/* media_original's limit on a records request's reason. */
#define RECORDS_REASON_MAX 500
#define STR_(x) #x
#define STR(x) STR_(x)

/* ---------------------------------------------------------------- consent */

/* The bases of consent on file: the API's word, the form's label, what it
 * means, and the clause that states it. */
static const struct {
	const char *value, *name, *words, *clause;
} BASES[] = {
	{"releases", "Releases on file",
	 "Everyone on camera, or a parent for a child, has signed a release to be filmed and "
	 "shown to staff of the district.",
	 "releases are on file for everyone on camera"},
	{"no-students", "No students can be identified",
	 "No student can be recognised: they are out of the picture, filmed from behind, or too "
	 "far away to tell who they are.",
	 "no student can be identified"},
	{"blurred", "Those without a release are blurred",
	 "Everyone on camera without a release is covered by a blurred region (mark the regions "
	 "under Blur first).",
	 "those without a release are blurred"},
};

/* The basis's label (clause false) or clause; an unknown word as it is. */
static const char *basis_words(const char *basis, bool clause)
{
	for (size_t i = 0; basis && i < sizeof BASES / sizeof *BASES; i++)
		if (!strcmp(basis, BASES[i].value))
			return clause ? BASES[i].clause : BASES[i].name;
	return basis;
}

/* The clip's consent as a sentence, with who and when. */
static void consent_state(struct html *h, const struct cat_clip *c)
{
	html_raw(h, "<p class=\"consent-state\">");
	if (!strcmp(c->consent, "on-file")) {
		html_raw(h, "Consent is <strong>on file</strong>: ");
		html_text(h, basis_words(c->consent_basis ? c->consent_basis : "releases", true));
		html_raw(h, ".");
	} else if (!strcmp(c->consent, "pending")) {
		html_raw(h, "Consent is <strong>pending</strong>: nobody but the uploader and admins "
		            "sees the clip until consent is on file.");
	} else {
		html_raw(h, "Consent was <strong>withdrawn</strong>: the clip is hidden from everyone "
		            "but its uploader and admins, and its video and pictures from everyone.");
	}
	if (c->consent_by && *c->consent_by) {
		html_raw(h, " Set by ");
		html_text(h, c->consent_by);
		if (c->consent_at) {
			html_raw(h, " on ");
			page_time(h, c->consent_at, "");
		}
		html_raw(h, ".");
	}
	html_raw(h, "</p>");
}

static void consent_history(struct html *h, struct request *req, const struct cat_clip *c)
{
	struct cat_consent_event *ev = NULL;
	size_t n = 0;
	if (cat_consent_history(req->db, c->id, &ev, &n) < 0) {
		html_raw(h, "<p class=\"error\">The consent history could not be read; reload the "
		            "page.</p>");
		return;
	}
	if (n == 0) {
		html_raw(h, "<p>No change of consent has been recorded.</p>");
		return;
	}
	page_wide_begin(h, "Consent history"); /* issue 15: a region keyboards can scroll */
	html_raw(h, "<table class=\"figures consent-history\"><caption>History, "
	            "oldest first</caption><thead><tr><th scope=\"col\">When</th><th scope=\"col\">"
	            "Consent</th><th scope=\"col\">Basis</th><th scope=\"col\">By</th><th "
	            "scope=\"col\">Reason</th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		html_raw(h, "<tr><td>");
		page_time(h, ev[i].at, "-");
		html_raw(h, "</td><td>");
		html_text(h, ev[i].consent);
		html_raw(h, "</td><td>");
		html_text(h, ev[i].basis ? basis_words(ev[i].basis, false) : "-");
		html_raw(h, "</td><td>");
		html_text(h, ev[i].by && *ev[i].by ? ev[i].by : "kindling");
		html_raw(h, "</td><td>");
		html_text(h, ev[i].reason && *ev[i].reason ? ev[i].reason : "-");
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "</tbody></table></div>");
	cat_consent_events_free(ev, n);
}

/* One radio of the consent form, its explanation tied to it. */
static void radio(struct html *h, const char *name, const char *value, const char *label,
                  const char *words, bool checked)
{
	char id[48];
	snprintf(id, sizeof id, "%s-%s", name, value);
	html_raw(h, "<div class=\"choice\"><input type=\"radio\" name=\"");
	html_attr(h, name);
	html_raw(h, "\" id=\"");
	html_attr(h, id);
	html_raw(h, "\" value=\"");
	html_attr(h, value);
	html_raw(h, "\" aria-describedby=\"");
	html_attrf(h, "%s-hint", id);
	html_raw(h, checked ? "\" checked><label for=\"" : "\"><label for=\"");
	html_attr(h, id);
	html_raw(h, "\">");
	html_text(h, label);
	html_raw(h, "</label><span class=\"hint\" id=\"");
	html_attrf(h, "%s-hint", id);
	html_raw(h, "\">");
	html_text(h, words);
	html_raw(h, "</span></div>");
}

static void consent_section(struct html *h, struct request *req, const struct cat_clip *c,
                            const struct gov_refusal *g)
{
	bool again = refused_here(g, "consent");
	char *consent = again ? page_field(req, "consent") : NULL;
	char *basis = again ? page_field(req, "consent_basis") : NULL;
	char *reason = again ? page_field(req, "consent_reason") : NULL;
	const char *now = again ? (consent ? consent : "") : c->consent;
	const char *now_basis = again ? (basis ? basis : "")
	                              : c->consent_basis ? c->consent_basis : "releases";

	html_raw(h, "<section id=\"consent\" class=\"governance\" aria-labelledby=\"consent-h\">"
	            "<h2 id=\"consent-h\">Consent and privacy</h2>");
	consent_state(h, c);
	consent_history(h, req, c);
	if (again)
		page_error(h, "consent-error", g->error);
	html_raw(h, "<form class=\"gov-form\" method=\"post\" action=\"");
	html_attrf(h, "/clips/%lld/consent", (long long)c->id);
	html_raw(h, "\">");
	page_csrf_field(h, req);
	html_raw(h, "<fieldset");
	mark_field(h, g, "consent", "consent");
	html_raw(h, "><legend>Consent for this clip</legend>");
	radio(h, "consent", "on-file", "On file",
	      "Consent is confirmed: the clip is shown as its visibility says.",
	      !strcmp(now, "on-file"));
	html_raw(h, "<fieldset class=\"basis\"");
	mark_field(h, g, "consent", "consent_basis");
	html_raw(h, "><legend>On what basis (when on file)</legend>");
	for (size_t i = 0; i < sizeof BASES / sizeof *BASES; i++)
		radio(h, "consent_basis", BASES[i].value, BASES[i].name, BASES[i].words,
		      !strcmp(now_basis, BASES[i].value));
	html_raw(h, "</fieldset>");
	radio(h, "consent", "pending", "Pending",
	      "Not confirmed yet: only the uploader and admins see the clip.",
	      !strcmp(now, "pending"));
	radio(h, "consent", "withdrawn", "Withdrawn",
	      "Someone on camera, or their parent, took their consent back. This hides the clip "
	      "from everyone at once; you are asked to confirm.",
	      !strcmp(now, "withdrawn"));
	html_raw(h, "</fieldset><label for=\"consent-reason\">Reason (needed to withdraw consent; "
	            "kept in the history)</label><textarea id=\"consent-reason\" "
	            "name=\"consent_reason\" rows=\"2\" maxlength=\"" STR(CAT_CONSENT_REASON_MAX)
	            "\"");
	mark_field(h, g, "consent", "consent_reason");
	html_raw(h, ">");
	html_text(h, reason);
	html_raw(h, "</textarea><button type=\"submit\">Save consent</button></form></section>");
	free(consent);
	free(basis);
	free(reason);
}

/* ---------------------------------------------------------------- blur */
static void blur_section(struct html *h, struct request *req, const struct cat_clip *c,
                         const struct gov_refusal *g)
{
	struct cat_blur_region *r = NULL;
	size_t n = 0;
	int64_t rev = 0;
	html_raw(h, "<section id=\"blur\" class=\"governance\" aria-labelledby=\"blur-h\">"
	            "<h2 id=\"blur-h\">Blur</h2><p>Mark the parts of the picture to blur: a "
	            "rectangle over a stretch of time. The video, thumbnail, poster and previews are "
	            "made again with them blurred beyond recognition; until that is done they are "
	            "shown to nobody. The original file is kept as it is.</p>");
	if (c->media_stale)
		html_raw(h, "<p class=\"gov-notice\">The video and pictures are being made again with the "
		            "new blurred regions; they come back when that is done.</p>");
	if (cat_blur_list(req->db, c->id, &r, &n, &rev) < 0) {
		html_raw(h, "<p class=\"error\">The regions could not be read; reload the page.</p>"
		            "</section>");
		return;
	}
	blur_list(h, r, n);
	bool again = refused_here(g, "blur");
	if (again)
		page_error(h, "blur-error", g->error);
	html_raw(h, "<form id=\"blur-form\" class=\"gov-form\" method=\"post\" action=\"");
	html_attrf(h, "/clips/%lld/blur", (long long)c->id);
	html_raw(h, "\" data-duration=\"");
	html_attrf(h, "%.3f", c->media.duration_s > 0 ? c->media.duration_s : 0);
	html_raw(h, "\">");
	page_csrf_field(h, req);
	html_raw(h, "<p class=\"hint\" id=\"blur-units\">From and To are seconds from the start "
	            "(or minutes:seconds, such as 1:05). Left, Top, Width and Height are percentages "
	            "of the picture as it is shown, upright: Left 0 and Top 0 are its top left "
	            "corner, Width 100 and Height 100 all of it.</p><div id=\"blur-rows\">");
	int rows = 0;
	if (again) {
		struct posted_rows *p = kd_calloc(1, sizeof *p);
		posted_read(req, p);
		for (int i = 0; i < p->n && i < BLUR_ROWS_MAX; i++)
			if (!row_empty(p->v[i]))
				blur_row(h, g, ++rows, p->v[i], false, p->removed[i]);
		posted_free(p);
		free(p);
	} else {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(r[i].state, "applied") != 0)
				continue;
			char buf[6][32];
			char *v[6];
			const double d[6] = {r[i].from_s, r[i].to_s, r[i].x * 100, r[i].y * 100,
			                     r[i].w * 100, r[i].h * 100};
			for (int k = 0; k < 6; k++) {
				fmt_num(d[k], buf[k], sizeof buf[k]);
				v[k] = buf[k];
			}
			blur_row(h, g, ++rows, v, false, false);
		}
	}
	char *none[6] = {NULL};
	blur_row(h, g, rows + 1, none, true, false);
	html_raw(h, "</div><button type=\"submit\">Save regions</button></form>");
	/* the drawing tool, for those who may use it (the numeric fields are
	 * the way without it) */
	char url[96];
	html_raw(h, "<script defer src=\"");
	html_attr(h, asset_url("blur.js", url, sizeof url));
	html_raw(h, "\"></script></section>");
	free(r);
}

/* ---------------------------------------------------------------- admins */

static void hold_section(struct html *h, struct request *req, const struct cat_clip *c,
                         const struct gov_refusal *g)
{
	struct cat_hold hold;
	html_raw(h, "<section id=\"hold\" class=\"governance\" aria-labelledby=\"hold-h\">"
	            "<h2 id=\"hold-h\">Legal hold</h2>");
	if (cat_clip_hold_get(req->db, c->id, &hold) < 0) {
		html_raw(h, "<p class=\"error\">The hold could not be read; reload the page.</p>"
		            "</section>");
		return;
	}
	bool again = refused_here(g, "hold");
	if (again)
		page_error(h, "hold-error", g->error);
	if (hold.at) {
		html_raw(h, "<p>On legal hold since ");
		page_time(h, hold.at, "");
		if (hold.by && *hold.by) {
			html_raw(h, ", set by ");
			html_text(h, hold.by);
		}
		html_raw(h, ": ");
		html_text(h, hold.reason);
		html_raw(h, ". It is kept past any retention period and cannot be deleted until the "
		            "hold is lifted.</p><form class=\"gov-form\" method=\"post\" action=\"");
		html_attrf(h, "/clips/%lld/hold/lift", (long long)c->id);
		html_raw(h, "\">");
		page_csrf_field(h, req);
		html_raw(h, "<button type=\"submit\">Lift the hold</button></form>");
	} else {
		char *reason = again ? page_field(req, "reason") : NULL;
		html_raw(h, "<p>Not on legal hold. A hold keeps the clip past any retention period "
		            "and stops it being deleted, until an admin lifts it.</p><form "
		            "class=\"gov-form\" method=\"post\" action=\"");
		html_attrf(h, "/clips/%lld/hold", (long long)c->id);
		html_raw(h, "\">");
		page_csrf_field(h, req);
		html_raw(h, "<label for=\"hold-reason\">Why it is held (the matter or request it is "
		            "kept for)</label><input id=\"hold-reason\" name=\"reason\" required "
		            "maxlength=\"" STR(CAT_CONSENT_REASON_MAX) "\"");
		mark_field(h, g, "hold", "reason");
		html_raw(h, " value=\"");
		html_attr(h, reason ? reason : "");
		html_raw(h, "\"><button type=\"submit\">Place on legal hold</button></form>");
		free(reason);
	}
	cat_hold_free(&hold);
	html_raw(h, "</section>");
}

static void original_section(struct html *h, struct request *req, const struct cat_clip *c)
{
	html_raw(h, "<section id=\"original\" class=\"governance\" aria-labelledby=\"orig-h\">"
	            "<h2 id=\"orig-h\">Download the original for a records request</h2><p "
	            "id=\"orig-hint\">The file as it was uploaded, nothing blurred. The audit trail "
	            "keeps who downloaded it, when, and the request it was for.</p><form "
	            "class=\"gov-form\" method=\"get\" action=\"");
	html_attrf(h, "/api/v1/clips/%lld/original", (long long)c->id);
	html_raw(h, "\"><label for=\"orig-reason\">Which records request this is for</label>"
	            "<input id=\"orig-reason\" name=\"reason\" required maxlength=\""
	            STR(RECORDS_REASON_MAX) "\" aria-describedby=\"orig-hint\">"
	            "<button type=\"submit\">Download the original</button>");
	/* a GET that writes to the audit trail: only from this form (media_original) */
	page_csrf_field(h, req);
	html_raw(h, "</form></section>");
}

/* ---------------------------------------------------------------- on the clip page */

static void stylesheet(struct html *h)
{
	char url[96];
	html_raw(h, "<link rel=\"stylesheet\" href=\"");
	html_attr(h, asset_url("governance.css", url, sizeof url));
	html_raw(h, "\">");
}

bool page_clip_media_notice(struct html *h, struct request *req, const struct cat_clip *c)
{
	if (media_withdrawn(c) || c->media_stale)
		stylesheet(h);
	if (media_withdrawn(c)) {
		/* the record's last change says when, by whom and why */
		struct cat_consent_event *ev = NULL;
		size_t n = 0;
		const struct cat_consent_event *last = NULL;
		if (cat_consent_history(req->db, c->id, &ev, &n) == 0 && n &&
		    !strcmp(ev[n - 1].consent, "withdrawn"))
			last = &ev[n - 1];
		const char *at = last ? last->at : c->consent_at;
		const char *by = last ? last->by : c->consent_by;
		html_raw(h, "<p class=\"gov-notice withdrawn\">Consent was withdrawn");
		if (at && *at) {
			html_raw(h, " on ");
			page_time(h, at, "");
		}
		if (by && *by) {
			html_raw(h, " by ");
			html_text(h, by);
		}
		if (last && last->reason && *last->reason) {
			html_raw(h, ": ");
			html_text(h, last->reason);
		}
		html_raw(h, ". Its video and pictures are shown to nobody.</p>");
		cat_consent_events_free(ev, n);
		return true;
	}
	if (c->media_stale) {
		html_raw(h, "<p class=\"gov-notice remaking\">The video and pictures are being made again "
		            "with the new blurred regions; they come back when that is done.</p>");
		return true;
	}
	return false;
}

void page_clip_governance(struct html *h, struct request *req, const struct cat_clip *c)
{
	if (!cat_clip_may_edit(&req->user, c))
		return;
	stylesheet(h);
	html_raw(h, "<div class=\"governance-cols\">");
	consent_section(h, req, c, NULL);
	blur_section(h, req, c, NULL);
	if (req->user.role == KD_ROLE_ADMIN) {
		hold_section(h, req, c, NULL);
		original_section(h, req, c);
	}
	html_raw(h, "</div>");
}

/* ---------------------------------------------------------------- the forms */

/* A refused form on a page of its own, under the clip it is about. */
static enum MHD_Result refused(struct request *req, unsigned status, const struct cat_clip *c,
                               const struct gov_refusal *g)
{
	static const struct {
		const char *form, *title;
	} titles[] = {{"consent", "Consent and privacy"}, {"blur", "Blur"}, {"hold", "Legal hold"}};
	const char *title = "";
	for (size_t i = 0; i < sizeof titles / sizeof *titles; i++)
		if (!strcmp(g->form, titles[i].form))
			title = titles[i].title;
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, title);
	stylesheet(&h);
	html_raw(&h, "<h1>");
	html_textf(&h, "Not saved: %s", title);
	html_raw(&h, "</h1><p>About the clip <a href=\"");
	html_attrf(&h, "/clips/%lld", (long long)c->id);
	html_raw(&h, "\">");
	html_text(&h, c->title);
	html_raw(&h, "</a>. Nothing was saved: correct what is marked and send the form "
	             "again.</p>");
	if (!strcmp(g->form, "consent"))
		consent_section(&h, req, c, g);
	else if (!strcmp(g->form, "blur"))
		blur_section(&h, req, c, g);
	else
		hold_section(&h, req, c, g);
	page_end(&h);
	return respond_html(req, status, &h);
}

/* The clip of the path for a form of those who may edit it: true, or
 * answered (not found, not allowed). */
static bool editable_clip(struct request *req, struct cat_clip *c, enum MHD_Result *answered)
{
	if (!page_load_clip(req, c, answered))
		return false;
	if (cat_clip_may_edit(&req->user, c))
		return true;
	cat_clip_free(c);
	*answered = page_message(req, MHD_HTTP_FORBIDDEN, "Not allowed",
	                         "Only admins, the uploader and coaches of the clip's school may "
	                         "change its consent record or what of it is blurred.");
	return false;
}

/* Withdrawing hides the clip at once: said in words, confirmed once. */
static enum MHD_Result confirm_withdrawal(struct request *req, const struct cat_clip *c,
                                          const char *reason)
{
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Withdraw consent?");
	stylesheet(&h);
	html_raw(&h, "<h1>Withdraw consent?</h1><p>For the clip <a href=\"");
	html_attrf(&h, "/clips/%lld", (long long)c->id);
	html_raw(&h, "\">");
	html_text(&h, c->title);
	html_raw(&h, "</a>.</p><p class=\"warning\" id=\"withdraw-warning\"><strong>This hides "
	             "the clip from everyone at once</strong>: its page, video and pictures, every "
	             "list and search, visits and summaries. Only its uploader and admins still "
	             "see its record, and its video and pictures are shown to nobody, until an "
	             "admin puts consent on file again.</p><p>The reason kept in the record: ");
	html_text(&h, reason);
	html_raw(&h, "</p><form class=\"gov-form\" method=\"post\" action=\"");
	html_attrf(&h, "/clips/%lld/consent", (long long)c->id);
	html_raw(&h, "\">");
	page_csrf_field(&h, req);
	html_raw(&h, "<input type=\"hidden\" name=\"consent\" value=\"withdrawn\">"
	             "<input type=\"hidden\" name=\"confirm\" value=\"yes\">"
	             "<input type=\"hidden\" name=\"consent_reason\" value=\"");
	html_attr(&h, reason);
	html_raw(&h, "\"><button type=\"submit\" class=\"danger\" aria-describedby=\""
	             "withdraw-warning\">Yes, withdraw consent and hide the clip</button> <a "
	             "href=\"");
	html_attrf(&h, "/clips/%lld#consent", (long long)c->id);
	html_raw(&h, "\">No, keep it as it is</a></form>");
	page_end(&h);
	return respond_html(req, MHD_HTTP_OK, &h);
}

enum MHD_Result page_clip_consent(struct request *req)
{
	enum MHD_Result answered;
	if (!page_form_ok(req, &answered))
		return answered;
	struct cat_clip c;
	if (!editable_clip(req, &c, &answered))
		return answered;
	char *consent = page_field(req, "consent"), *basis = page_field(req, "consent_basis"),
	     *reason = page_field(req, "consent_reason"), *confirm = page_field(req, "confirm");
	struct gov_refusal g = {.form = "consent"};
	char err[KD_ERRMSG_MAX] = "";
	bool on_file = consent && !strcmp(consent, "on-file");
	bool withdraw = consent && !strcmp(consent, "withdrawn");
	enum MHD_Result r;
	if (!on_file && !withdraw && !(consent && !strcmp(consent, "pending"))) {
		snprintf(err, sizeof err, "Choose whether consent is on file, pending or withdrawn.");
		g.field = "consent";
	} else if (on_file && !cat_consent_basis_valid(basis)) {
		snprintf(err, sizeof err, "Choose on what basis consent is on file: releases, no "
		         "students can be identified, or those without a release are blurred.");
		g.field = "consent_basis";
	} else if (withdraw && blank(reason)) {
		snprintf(err, sizeof err, "Say why consent is withdrawn: the clip's consent history "
		         "keeps the reason for whoever asks later.");
		g.field = "consent_reason";
	}
	if (*err) {
		g.error = err;
		r = refused(req, MHD_HTTP_BAD_REQUEST, &c, &g);
		goto done;
	}
	if (withdraw && strcmp(c.consent, "withdrawn") != 0 &&
	    !(confirm && !strcmp(confirm, "yes"))) {
		r = confirm_withdrawal(req, &c, reason);
		goto done;
	}
	struct cat_clip_edit e = {
		.consent = consent,
		.consent_basis = on_file ? basis : NULL,
		.consent_reason = blank(reason) ? NULL : reason,
		.by = req->user.name,
	};
	int rc = cat_clip_update(req->db, c.id, &e, err, sizeof err);
	if (rc == KD_EINVAL) {
		g.error = err;
		g.field = on_file ? "consent_basis" : "consent";
		r = refused(req, MHD_HTTP_BAD_REQUEST, &c, &g);
		goto done;
	}
	if (rc < 0) {
		r = rc == KD_ENOTFOUND ? page_not_found(req, "There is no clip at this address, or you "
		                                        "may not have access to it.")
		                       : page_failed(req, rc, "Consent could not be saved. Try again in "
		                                              "a moment.");
		goto done;
	}
	/* the record as saved, whoever may see it now, for the audit trail */
	struct kd_user editor = req->user;
	editor.role = KD_ROLE_ADMIN;
	struct cat_clip now;
	if (cat_clip_get(req->db, &editor, c.id, &now) == 0) {
		clip_audit_edit(req, &c, &now, &e);
		cat_clip_free(&now);
	}
	if (cat_clip_get(req->db, &req->user, c.id, &now) == 0) {
		cat_clip_free(&now);
		char loc[64];
		snprintf(loc, sizeof loc, "/clips/%lld#consent", (long long)c.id);
		r = respond_redirect(req, loc, NULL);
	} else {
		/* withdrawn (or pending) and not theirs: the clip is gone for them */
		r = page_message(req, MHD_HTTP_OK, withdraw ? "Consent withdrawn" : "Consent saved",
		                 "The clip is now hidden from everyone but its uploader and admins, "
		                 "and its video and pictures from everyone. Its consent history keeps "
		                 "who changed it, when and why.");
	}
done:
	cat_clip_free(&c);
	free(consent);
	free(basis);
	free(reason);
	free(confirm);
	return r;
}

enum MHD_Result page_clip_blur(struct request *req)
{
	enum MHD_Result answered;
	if (!page_form_ok(req, &answered))
		return answered;
	struct cat_clip c;
	if (!editable_clip(req, &c, &answered))
		return answered;
	struct posted_rows *p = kd_calloc(1, sizeof *p);
	struct cat_blur_region *r = kd_calloc(BLUR_ROWS_MAX, sizeof *r);
	int *row_of = kd_calloc(BLUR_ROWS_MAX, sizeof *row_of);
	posted_read(req, p);
	struct gov_refusal g = {.form = "blur"};
	char err[KD_ERRMSG_MAX] = "";
	size_t n = 0;
	if (p->n == 0) {
		snprintf(err, sizeof err, "The form came without its regions. Reload the clip page and "
		         "send it again.");
	} else if (p->n > BLUR_ROWS_MAX) {
		snprintf(err, sizeof err, "A clip may have at most %d regions: mark larger regions "
		         "over longer times.", CAT_BLUR_MAX);
	}
	/* numbers the row shows (empty rows are not shown again) */
	int shown = 0;
	for (int i = 0; !*err && i < p->n; i++) {
		if (row_empty(p->v[i]))
			continue;
		shown++;
		if (p->removed[i])
			continue;
		double v[6];
		for (int k = 0; k < 6 && !*err; k++) {
			bool ok = k < 2 ? parse_seconds(p->v[i][k], &v[k])
			                : parse_percent(p->v[i][k], &v[k]);
			if (!ok) {
				snprintf(err, sizeof err, "Region %d: %s %s. Fill in all six numbers, or "
				         "empty the row to leave it out.", shown, GOV_BLUR_LABELS[k],
				         blank(p->v[i][k]) ? "is empty"
				         : k < 2 ? "must be seconds (such as 12.5) or minutes:seconds"
				                 : "must be a number from 0 to 100");
				g.row = shown;
			}
		}
		if (*err)
			break;
		/* the catalogue checks these too, in fractions; said here in the
		 * form's own terms */
		if (v[1] <= v[0])
			snprintf(err, sizeof err, "Region %d: To (%g s) must come after From (%g s).",
			         shown, v[1], v[0]);
		else if (v[2] < 0 || v[3] < 0 || v[4] < 0.01 || v[5] < 0.01 ||
		         v[2] + v[4] > 1.001 || v[3] + v[5] > 1.001)
			snprintf(err, sizeof err, "Region %d: the rectangle must lie inside the picture: "
			         "Left plus Width, and Top plus Height, at most 100; Width and Height at "
			         "least 1.", shown);
		if (*err) {
			g.row = shown;
			break;
		}
		struct cat_blur_region *b = &r[n];
		b->from_s = v[0];
		b->to_s = v[1];
		b->x = v[2];
		b->y = v[3];
		b->w = v[4];
		b->h = v[5];
		row_of[n++] = shown;
	}
	int rc = *err ? KD_EINVAL : clip_blur_save(req, &c, r, n, err, sizeof err);
	enum MHD_Result res;
	if (rc == 0) {
		char loc[64];
		snprintf(loc, sizeof loc, "/clips/%lld#blur", (long long)c.id);
		res = respond_redirect(req, loc, NULL);
	} else if (rc == KD_EINVAL) {
		/* the catalogue names a region by its place among those saved; the
		 * form, by its row */
		char *end;
		unsigned long which = strncmp(err, "region ", 7) ? 0 : strtoul(err + 7, &end, 10);
		if (!g.row && which >= 1 && which <= n) {
			g.row = row_of[which - 1];
			char rest[KD_ERRMSG_MAX];
			snprintf(rest, sizeof rest, "%s", end);
			snprintf(err, sizeof err, "Region %d%.400s", g.row, rest);
		}
		if (islower((unsigned char)err[0]))
			err[0] = (char)toupper((unsigned char)err[0]);
		g.error = err;
		res = refused(req, MHD_HTTP_BAD_REQUEST, &c, &g);
	} else if (rc == KD_ENOTFOUND) {
		res = page_not_found(req, "There is no clip at this address, or you may not have "
		                     "access to it.");
	} else {
		res = page_failed(req, rc, *err ? err : "The regions could not be saved. Try again "
		                                         "in a moment.");
	}
	posted_free(p);
	free(p);
	free(r);
	free(row_of);
	cat_clip_free(&c);
	return res;
}

static enum MHD_Result hold_form(struct request *req, bool on)
{
	enum MHD_Result answered;
	if (!page_admin_form(req, &answered))
		return answered;
	struct cat_clip c;
	if (!page_load_clip(req, &c, &answered))
		return answered;
	char *reason = on ? page_field(req, "reason") : NULL;
	char err[KD_ERRMSG_MAX] = "";
	int rc = on && blank(reason) ? KD_EINVAL
	                             : clip_hold_save(req, &c, on, reason, err, sizeof err);
	if (on && blank(reason))
		snprintf(err, sizeof err, "Say why the clip is held: the matter or records request it "
		         "is kept for.");
	enum MHD_Result r;
	if (rc == 0) {
		char loc[64];
		snprintf(loc, sizeof loc, "/clips/%lld#hold", (long long)c.id);
		r = respond_redirect(req, loc, NULL);
	} else if (rc == KD_EINVAL) {
		if (islower((unsigned char)err[0]))
			err[0] = (char)toupper((unsigned char)err[0]);
		struct gov_refusal g = {.form = "hold", .error = err, .field = "reason"};
		r = refused(req, MHD_HTTP_BAD_REQUEST, &c, &g);
	} else if (rc == KD_ENOTFOUND) {
		r = page_not_found(req, "There is no clip at this address.");
	} else {
		r = page_failed(req, rc, "The hold could not be changed. Try again in a moment.");
	}
	free(reason);
	cat_clip_free(&c);
	return r;
}

enum MHD_Result page_clip_hold(struct request *req)
{
	return hold_form(req, true);
}

enum MHD_Result page_clip_hold_lift(struct request *req)
{
	return hold_form(req, false);
}
