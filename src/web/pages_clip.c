/* pages_clip.c - one clip: the player (poster, storyboard previews,
 * captions), what it shows, time-stamped notes, the edit form for those who
 * may edit it, and the visit form (pages_visits.c) for other schools. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "layout.h"
#include "media_files.h"
#include "pages.h"
#include "pages_moments.h" /* issue 15 */
#include "kindling/audit.h"
#include "kindling/captions.h" /* issue 15 */
#include "kindling/catalogue.h"
#include "kindling/comments.h"
#include "kindling/err.h"
#include "kindling/mem.h"

/* The tags field holds every tag, commas and spaces between them. */
#define TAGS_FIELD_MAX (CAT_TAGS_MAX * (CAT_TAG_MAX + 5))
#define STR_(x) #x
#define STR(x) STR_(x)

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

/* The clip page.  error: why the last form (edit or note) was refused;
 * note_draft: the note that was, to type again. */
static enum MHD_Result clip_page(struct request *req, unsigned status, const char *error,
                                 const char *note_draft)
{
	struct cat_clip c;
	enum MHD_Result failed;
	if (!page_load_clip(req, &c, &failed))
		return failed;
	struct comment *notes = NULL;
	size_t nn = 0;
	int64_t notes_page = page_number(req, "notes", 1000000), total_notes = 0;
	comments_list(req->db, &req->user, c.id, notes_page, &notes, &nn, &total_notes);
	struct cat_practice *ps = NULL;
	size_t np = 0;
	cat_practices_list(req->db, &req->user, &ps, &np);
	/* issue 15: moments (pages_moments.c): the chapters track, bar and list */
	struct page_moments pm;
	page_moments_load(req, &c, &pm);
	bool ready = c.status == CAT_READY;
	char url[96], dur[24];

	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, c.title);
	html_raw(&h, "<article class=\"clip\"><h1 id=\"clip-title\">"); /* issue 15 */
	html_text(&h, c.title);
	html_raw(&h, "</h1>");
	if (error)
		page_error(&h, NULL, error);
	/* issue 15: only its uploader and admins see a clip without captions
	 * while require_captions is on: they are told why others do not */
	if (cat_captions_required() && c.captions == CAPTIONS_NONE) {
		html_raw(&h, "<p class=\"status captions-required\">Hidden from others until it has "
		             "captions: require_captions is on. Send a WebVTT or SRT file with "
		             "<code>kindling upload --captions</code> or <code>PUT /api/v1/clips/");
		html_textf(&h, "%lld", (long long)c.id);
		html_raw(&h, "/captions</code>.</p>");
	}
	/* issue 14: withdrawn, or being made again with new blur regions */
	bool held_back = page_clip_media_notice(&h, req, &c);
	if (held_back) {
		/* the notice stands instead of the player */
	} else if (ready) {
		media_url(c.id, KD_FILE_VIDEO, url, sizeof url);
		/* issue 15: the player is named by the clip's title (its controls by the browser) */
		html_raw(&h, "<div class=\"player\" id=\"player-box\"><video id=\"player\" controls "
		             "aria-labelledby=\"clip-title\" preload=\"metadata\" playsinline src=\"");
		/* ?t= (a note's link without JavaScript) starts the video there */
		const char *t = req_arg(req, "t");
		double ts = t ? strtod(t, NULL) : 0;
		if (ts > 0 && isfinite(ts) && ts < COMMENT_AT_MAX)
			html_attrf(&h, "%s#t=%.1f", url, ts);
		else
			html_attr(&h, url);
		media_url(c.id, KD_FILE_POSTER, url, sizeof url);
		html_raw(&h, "\" poster=\"");
		html_attr(&h, url);
		media_url(c.id, KD_FILE_STORYBOARD_VTT, url, sizeof url);
		html_raw(&h, "\" data-storyboard=\"");
		html_attr(&h, url);
		html_raw(&h, "\" data-clip=\"");
		html_attrf(&h, "%lld", (long long)c.id);
		html_raw(&h, "\">");
		if (c.has_captions) {
			media_url(c.id, KD_FILE_CAPTIONS, url, sizeof url);
			html_raw(&h, "<track kind=\"captions\" srclang=\"en\" label=\"Captions\" src=\"");
			html_attr(&h, url);
			html_raw(&h, "\" default>");
		}
		page_moments_track(&h, &c, &pm); /* issue 15 */
		media_url(c.id, KD_FILE_VIDEO, url, sizeof url);
		html_raw(&h, "<p>This browser cannot play the video. <a href=\"");
		html_attr(&h, url);
		html_raw(&h, "\">Download it</a> instead.</p></video></div>");
	} else {
		html_raw(&h, "<p class=\"status\">");
		if (c.status == CAT_FAILED) {
			html_raw(&h, "This clip could not be processed: ");
			html_text(&h, c.error ? c.error : "no reason was recorded");
		} else {
			html_textf(&h, "This clip is %s; it can be watched once it is ready.",
			           cat_status_name(c.status));
		}
		html_raw(&h, "</p>");
	}
	page_moments_section(&h, req, &c, &pm, ready && !held_back); /* issue 15 */

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
		page_duration(c.media.duration_s, dur, sizeof dur);
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
			html_url_encode(&t, c.tags[i]);
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
	if (ready && !media_withdrawn(&c) /* issue 14 */ && strcmp(c.school, req->user.school) != 0)
		page_visit_form(&h, req, &c, NULL);

	if (cat_clip_may_edit(&req->user, &c)) {
		html_raw(&h, "<details class=\"edit\"");
		html_raw(&h, error && !note_draft ? " open>" : ">");
		html_raw(&h, "<summary>Edit this clip</summary><form method=\"post\" action=\"");
		html_attrf(&h, "/clips/%lld/edit", (long long)c.id);
		html_raw(&h, "\">");
		page_csrf_field(&h, req);
		html_raw(&h, "<label for=\"e-title\">Title</label><input id=\"e-title\" name=\"title\" "
		             "required maxlength=\"" STR(CAT_TITLE_MAX) "\" value=\"");
		html_attr(&h, c.title);
		html_raw(&h, "\"><fieldset><legend>Practices</legend>");
		for (size_t j = 0; j < np; j++) {
			bool on = false;
			for (size_t i = 0; i < c.n_practices; i++)
				on |= !strcmp(c.practices[i], ps[j].slug);
			/* a retired practice is offered only to the clips that have it */
			if (ps[j].retired_at && !on)
				continue;
			html_raw(&h, "<label class=\"check\"><input type=\"checkbox\" name=\"practices\" "
			             "value=\"");
			html_attr(&h, ps[j].slug);
			html_raw(&h, on ? "\" checked> " : "\"> ");
			html_text(&h, ps[j].name);
			html_raw(&h, "</label>");
		}
		html_raw(&h, "</fieldset><label for=\"e-tags\">Tags (separated by commas)</label>"
		             "<input id=\"e-tags\" name=\"tags\" maxlength=\"");
		html_attrf(&h, "%d", TAGS_FIELD_MAX);
		html_raw(&h, "\" value=\"");
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
	if (total_notes > COMMENTS_PER_PAGE) {
		html_raw(&h, "<p class=\"count\">");
		html_textf(&h, "%lld notes", (long long)total_notes);
		html_raw(&h, "</p>");
	}
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
			page_duration(floor(notes[i].at_s), dur, sizeof dur);
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
		html_raw(&h, "</p>");
		if (notes[i].may_delete) {
			html_raw(&h, "<form class=\"note-delete\" method=\"post\" action=\"");
			html_attrf(&h, "/clips/%lld/comments/%lld/delete", (long long)c.id,
			           (long long)notes[i].id);
			html_raw(&h, "\">");
			page_csrf_field(&h, req);
			html_raw(&h, "<button type=\"submit\" class=\"link\">Delete<span class=\"vh\"> "
			             "this note</span></button></form>");
		}
		html_raw(&h, "</li>");
	}
	if (nn)
		html_raw(&h, "</ol>");
	char *here = kd_asprintf("/clips/%lld", (long long)c.id);
	page_pagination(&h, req, here, "notes", notes_page, total_notes, COMMENTS_PER_PAGE,
	                "#notes");
	free(here);
	html_raw(&h, "<form class=\"note-form\" method=\"post\" action=\"");
	html_attrf(&h, "/clips/%lld/comments", (long long)c.id);
	html_raw(&h, "\">");
	page_csrf_field(&h, req);
	html_raw(&h, "<input type=\"hidden\" name=\"at_s\" id=\"at_s\" value=\"\">"
	             "<label for=\"note-body\">Add a note<span id=\"note-at\"></span></label>"
	             "<textarea id=\"note-body\" name=\"body\" rows=\"3\" required "
	             "maxlength=\"4000\">");
	html_text(&h, note_draft);
	html_raw(&h, "</textarea><button type=\"submit\">Add note</button></form></section>");
	html_raw(&h, "</div>");
	/* issue 14: consent, blur, legal hold (pages_clip_governance.c) */
	page_clip_governance(&h, req, &c);
	html_raw(&h, "</article>");
	page_end(&h);
	cat_clip_free(&c);
	comments_free(notes, nn);
	cat_practices_free(ps, np);
	page_moments_free(&pm); /* issue 15 */
	return respond_html(req, status, &h);
}

/* To the clip page that shows note id (the page of notes it is on). */
static enum MHD_Result back_to_note(struct request *req, int64_t clip, int64_t id)
{
	int64_t page = 1;
	comments_page_of(req->db, clip, id, &page);
	char loc[128];
	if (page > 1)
		snprintf(loc, sizeof loc, "/clips/%lld?notes=%lld#note-%lld", (long long)clip,
		         (long long)page, (long long)id);
	else
		snprintf(loc, sizeof loc, "/clips/%lld#note-%lld", (long long)clip, (long long)id);
	return respond_redirect(req, loc, NULL);
}

enum MHD_Result page_comment_delete(struct request *req)
{
	enum MHD_Result refused;
	if (!page_form_ok(req, &refused))
		return refused;
	int rc = comments_delete(req->db, &req->user, req->ids[0], req->ids[1]);
	if (rc == KD_ENOTFOUND)
		return page_not_found(req, "There is no such note, or you may not have access to it.");
	if (rc == 0) {
		char loc[96];
		snprintf(loc, sizeof loc, "/clips/%lld#notes", (long long)req->ids[0]);
		return respond_redirect(req, loc, NULL);
	}
	if (rc == KD_EPERM)
		return page_message(req, MHD_HTTP_FORBIDDEN, "Not allowed",
		                    "A note can be deleted by whoever wrote it, by those who may edit "
		                    "the clip, and by admins.");
	return page_failed(req, rc, "The note could not be deleted. Try again in a moment.");
}

enum MHD_Result page_comment_add(struct request *req)
{
	enum MHD_Result refused;
	if (!page_form_ok(req, &refused))
		return refused;
	char *body = page_field(req, "body"), *at = page_field(req, "at_s");
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
	                      body ? body : "", req->srv->cfg->notes_per_day, &id, err,
	                      sizeof err);
	enum MHD_Result r;
	if (rc == 0) {
		r = back_to_note(req, req->ids[0], id);
	} else if (rc == KD_ENOTFOUND) {
		r = page_not_found(req, "There is no clip at this address, or you may not have access "
		                   "to it.");
	} else {
		r = clip_page(req, http_status_of(rc), err, body ? body : "");
	}
	free(body);
	free(at);
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
	enum MHD_Result refused;
	if (!page_form_ok(req, &refused))
		return refused;
	struct cat_clip c;
	enum MHD_Result failed;
	if (!page_load_clip(req, &c, &failed))
		return failed;
	bool may = cat_clip_may_edit(&req->user, &c);
	cat_clip_free(&c);
	if (!may)
		return page_message(req, MHD_HTTP_FORBIDDEN, "Not allowed",
		                    "Only admins, the uploader and coaches of the clip's school may "
		                    "edit it.");
	char *title = page_field(req, "title"), *tags = page_field(req, "tags");
	/* one more than allowed of each, to tell "too many" from "just enough" */
	char *practices[CAT_PRACTICES_MAX + 1];
	size_t np = 0;
	while (np < CAT_PRACTICES_MAX + 1 &&
	       (practices[np] = page_field_n(req, "practices", (int)np)))
		np++;
	const char *tag_list[CAT_TAGS_MAX + 2];
	size_t nt = tags ? split_commas(tags, tag_list, CAT_TAGS_MAX + 1) : 0;
	struct cat_clip_edit e = {
		.title = title,
		.practices = (const char *const *)practices,
		.n_practices = np,
		.set_practices = true,
		.tags = tag_list,
		.n_tags = nt > CAT_TAGS_MAX + 1 ? CAT_TAGS_MAX + 1 : nt,
		.set_tags = tags != NULL,
	};
	char err[KD_ERRMSG_MAX] = "";
	int rc = 0;
	if (np == 0)
		snprintf(err, sizeof err, "Choose at least one practice.");
	else if (np > CAT_PRACTICES_MAX)
		snprintf(err, sizeof err, "A clip can have at most %d practices.", CAT_PRACTICES_MAX);
	else
		rc = cat_clip_update(req->db, req->ids[0], &e, err, sizeof err);
	enum MHD_Result r;
	if (!*err && rc == 0) {
		char loc[64];
		req_audit(req, AUDIT_EDIT, req->ids[0], title,
		          tags ? "set title, practices, tags" : "set title, practices");
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

enum MHD_Result page_clip(struct request *req)
{
	enum MHD_Result r = clip_page(req, MHD_HTTP_OK, NULL, NULL);
	if (req->status == MHD_HTTP_OK)
		req_audit_opened(req, req->ids[0]);
	return r;
}
