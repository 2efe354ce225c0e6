/* pages_roster.c - /admin/roster: an admin uploads the roster system's
 * OneRoster export, reads what importing it would change (the dry run),
 * and applies it (see kindling/roster.h for what an import does).
 *
 * Between the two steps the upload waits in the media storage under
 * rosters/<token>.zip, not on this machine: behind a balancer the "apply"
 * may reach another web node.  One waits at a time (a new upload replaces
 * it); applying removes it.  Apply reads and plans it again, so it does
 * what the catalogue then calls for, which the dry run showed unless
 * someone changed the catalogue in between. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "layout.h"
#include "pages.h"
#include "kindling/audit.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/roster.h"
#include "kindling/storage.h"

#define UPLOAD_MAX (64u << 20) /* the route's body: a district's export zips to a few MB */
#define LIST_SHOWN 200         /* rows shown of each list; the rest counted */
#define TOKEN_HEX 32

/* ------------------------------------------------------------------ the form body */

/* What the multipart form carried. */
struct upload {
	struct kd_buf file;
	char filename[128];
	char csrf[USERS_CSRF_MAX + 1];
	bool disable_missing;
	bool too_big;
};

static enum MHD_Result take_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *type, const char *encoding,
                                  const char *data, uint64_t off, size_t size)
{
	(void)kind, (void)type, (void)encoding, (void)off;
	struct upload *u = cls;
	if (!strcmp(key, "roster")) {
		if (filename && !u->filename[0])
			snprintf(u->filename, sizeof u->filename, "%s", filename);
		if (size && kd_buf_append(&u->file, data, size) < 0) {
			u->too_big = true;
			return MHD_NO;
		}
	} else if (!strcmp(key, "csrf")) {
		size_t have = strlen(u->csrf);
		if (have + size < sizeof u->csrf) {
			memcpy(u->csrf + have, data, size);
			u->csrf[have + size] = '\0';
		}
	} else if (!strcmp(key, "disable_missing")) {
		u->disable_missing = size > 0;
	}
	return MHD_YES;
}

/* Parse req's multipart/form-data body.  false when it is not one. */
static bool read_upload(struct request *req, struct upload *u)
{
	const char *type = req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!type || strncmp(type, "multipart/form-data", 19) != 0)
		return false;
	struct MHD_PostProcessor *pp = MHD_create_post_processor(req->conn, 64 * 1024, take_field, u);
	if (!pp)
		return false;
	enum MHD_Result r = MHD_post_process(pp, req->body.data, req->body.len);
	MHD_destroy_post_processor(pp);
	return r == MHD_YES || u->too_big;
}

static bool csrf_ok(struct request *req, const char *got)
{
	return !req->by_session ? req->signed_in : auth_csrf_equal(got, req->csrf);
}

/* ------------------------------------------------------------------ the report as HTML */

static void entry_line(struct html *h, const struct roster_entry *e)
{
	html_raw(h, "<li>");
	if (e->is_school) {
		html_text(h, e->full_name ? e->full_name : "");
		html_raw(h, " <span class=\"hint\">(");
		html_text(h, e->name ? e->name : "");
		html_raw(h, ")</span>");
	} else {
		html_text(h, e->full_name && *e->full_name ? e->full_name : e->name ? e->name : "");
		html_raw(h, " <span class=\"hint\">");
		html_textf(h, "%s%s%s%s%s", e->name ? e->name : "", e->email ? ", " : "",
		           e->email ? e->email : "", e->role ? ", " : "", e->role ? e->role : "");
		if (e->school)
			html_textf(h, " of %s", e->school);
		html_raw(h, "</span>");
	}
	for (size_t i = 0; i < e->n_fields; i++) {
		const struct roster_field *f = &e->fields[i];
		html_raw(h, i ? "; " : ": ");
		html_textf(h, "%s %s \u2192 %s", f->name, f->from ? f->from : "(none)",
		           f->to ? f->to : "(none)");
	}
	if (e->reason) {
		html_raw(h, " \u2014 ");
		html_text(h, e->reason);
	}
	if (e->row)
		html_textf(h, " (row %ld)", e->row);
	html_raw(h, "</li>");
}

static void entry_list(struct html *h, const char *title, const struct roster_list *l)
{
	if (!l->n)
		return;
	html_raw(h, "<h3>");
	html_textf(h, "%s: %zu", title, l->n);
	html_raw(h, "</h3><ul class=\"roster-list\">");
	for (size_t i = 0; i < l->n && i < LIST_SHOWN; i++)
		entry_line(h, &l->v[i]);
	if (l->n > LIST_SHOWN) {
		html_raw(h, "<li>");
		html_textf(h, "and %zu more", l->n - LIST_SHOWN);
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul>");
}

static void issue_list(struct html *h, const char *title, const struct roster_issues *is)
{
	if (!is->n)
		return;
	html_raw(h, "<h3>");
	html_text(h, title);
	html_raw(h, "</h3><ul class=\"roster-issues\">");
	for (size_t i = 0; i < is->n; i++) {
		const struct roster_issue *x = &is->v[i];
		html_raw(h, "<li>");
		if (x->file) {
			html_text(h, x->file);
			if (x->row)
				html_textf(h, " row %ld", x->row);
			html_raw(h, ": ");
		}
		html_text(h, x->message);
		html_raw(h, "</li>");
	}
	if (is->more) {
		html_raw(h, "<li>");
		html_textf(h, "and %ld more", is->more);
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul>");
}

static void report_html(struct html *h, const struct roster_report *rep)
{
	issue_list(h, "Why it was refused", &rep->errors);
	if (rep->errors.n)
		return;
	html_raw(h, "<p>");
	if (rep->district)
		html_textf(h, "District: %s. ", rep->district);
	html_textf(h, "Schools: %zu added, %zu changed, %ld unchanged. People: %zu added, %zu "
	           "changed, %zu disabled, %zu enabled, %ld unchanged.",
	           rep->schools_added.n, rep->schools_changed.n, rep->schools_unchanged,
	           rep->added.n, rep->changed.n, rep->disabled.n, rep->enabled.n, rep->unchanged);
	html_raw(h, "</p>");
	if (!roster_report_changes(rep))
		html_raw(h, "<p><strong>Nothing to change:</strong> the catalogue already matches "
		            "this roster.</p>");
	entry_list(h, "Schools added", &rep->schools_added);
	entry_list(h, "Schools changed", &rep->schools_changed);
	entry_list(h, "People added", &rep->added);
	entry_list(h, "People changed", &rep->changed);
	entry_list(h, "People disabled", &rep->disabled);
	entry_list(h, "People enabled again", &rep->enabled);
	entry_list(h, "Roles given in kindling, kept", &rep->kept);
	if (rep->n_skipped) {
		html_raw(h, "<h3>Rows skipped</h3><ul>");
		for (size_t i = 0; i < rep->n_skipped; i++) {
			char words[200];
			roster_skip_words(rep->skipped[i].reason, words, sizeof words);
			html_raw(h, "<li>");
			html_textf(h, "%ld: %s", rep->skipped[i].n, words);
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul>");
	}
	issue_list(h, "Warnings", &rep->warnings);
}

/* ------------------------------------------------------------------ pages */

static void upload_form(struct html *h, struct request *req)
{
	html_raw(h, "<form method=\"post\" action=\"/admin/roster\" enctype=\"multipart/form-data\">"
	            "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_attr(h, req->csrf);
	html_raw(h, "\"><label for=\"roster\">OneRoster 1.1 export (.zip with manifest.csv, "
	            "orgs.csv and users.csv)</label>"
	            "<input id=\"roster\" name=\"roster\" type=\"file\" accept=\".zip,application/zip\" "
	            "required><label><input type=\"checkbox\" name=\"disable_missing\" value=\"1\"> "
	            "Disable people who are no longer in the roster</label>"
	            "<button type=\"submit\">Read it (nothing changes yet)</button></form>");
}

static enum MHD_Result roster_page(struct request *req, unsigned status, const char *error,
                                   const struct roster_report *rep, const char *token,
                                   bool disable_missing)
{
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Roster");
	html_raw(&h, "<h1>Roster</h1>");
	if (error)
		page_error(&h, NULL, error);
	if (rep && rep->applied) {
		html_raw(&h, "<h2>Imported</h2>");
		report_html(&h, rep);
		html_raw(&h, "<p><a href=\"/admin/users\">See the people</a></p><h2>Another import</h2>");
	} else if (rep) {
		html_raw(&h, "<h2>What importing it would change</h2>");
		report_html(&h, rep);
		if (token && !rep->errors.n && roster_report_changes(rep)) {
			html_raw(&h, "<form method=\"post\" action=\"/admin/roster/apply\">"
			             "<input type=\"hidden\" name=\"csrf\" value=\"");
			html_attr(&h, req->csrf);
			html_raw(&h, "\"><input type=\"hidden\" name=\"token\" value=\"");
			html_attr(&h, token);
			html_raw(&h, "\">");
			if (disable_missing)
				html_raw(&h, "<input type=\"hidden\" name=\"disable_missing\" value=\"1\">");
			html_raw(&h, "<button type=\"submit\">Apply these changes</button></form>");
		}
		html_raw(&h, "<h2>Another file</h2>");
	} else {
		html_raw(&h, "<p>Export the district's roster from its roster system (ClassLink, "
		             "Clever, Microsoft School Data Sync: OneRoster 1.1 CSV) and upload the "
		             ".zip. You will see what it would change before anything does: schools "
		             "from its orgs, staff from its users. Students, parents and guardians are "
		             "never imported. The same import runs at the shell: <code>kindling roster "
		             "import</code>.</p>");
	}
	upload_form(&h, req);
	page_end(&h);
	return respond_html(req, status, &h);
}

enum MHD_Result page_admin_roster(struct request *req)
{
	return roster_page(req, MHD_HTTP_OK, NULL, NULL, NULL, false);
}

static void pending_key(const char *token, char *key, size_t len)
{
	snprintf(key, len, "rosters/%s.zip", token);
}

/* A token is TOKEN_HEX lowercase hex digits, and nothing else reaches a key. */
static bool token_valid(const char *t)
{
	if (!t || strlen(t) != TOKEN_HEX)
		return false;
	for (const char *c = t; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

static unsigned status_of_read(int rc)
{
	return rc == KD_EDB || rc == KD_EBUSY ? MHD_HTTP_SERVICE_UNAVAILABLE
	       : rc == KD_ETOOBIG ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST;
}

enum MHD_Result page_admin_roster_upload(struct request *req)
{
	struct upload u = {.file = KD_BUF_INIT(UPLOAD_MAX)};
	if (!read_upload(req, &u)) {
		kd_buf_release(&u.file);
		return roster_page(req, MHD_HTTP_BAD_REQUEST, "Choose the roster's .zip file and send "
		                   "it with this form.", NULL, NULL, false);
	}
	if (!csrf_ok(req, u.csrf)) {
		kd_buf_release(&u.file);
		return page_csrf_refused(req);
	}
	if (u.too_big || req->body_too_big) {
		kd_buf_release(&u.file);
		return roster_page(req, MHD_HTTP_CONTENT_TOO_LARGE, "The file is larger than 64 MB: "
		                   "that is not a roster export. Import it at the shell with 'kindling "
		                   "roster import' if it really is one.", NULL, NULL, false);
	}
	if (!u.file.len) {
		kd_buf_release(&u.file);
		return roster_page(req, MHD_HTTP_BAD_REQUEST, "The file was empty: choose the roster "
		                   "system's .zip export.", NULL, NULL, false);
	}
	struct roster_report *rep = roster_report_new();
	struct roster *r = NULL;
	int rc = roster_read_zip_mem(u.file.data, u.file.len, u.filename[0] ? u.filename
	                             : "the upload", &r, rep);
	struct roster_opts opts = {.dry_run = true, .disable_missing = u.disable_missing};
	if (rc == 0)
		rc = roster_plan(req->db, r, &opts, rep);
	char token[TOKEN_HEX + 1] = "";
	if (rc == 0 && roster_report_changes(rep)) {
		unsigned char raw[TOKEN_HEX / 2];
		randombytes_buf(raw, sizeof raw);
		sodium_bin2hex(token, sizeof token, raw, sizeof raw);
		char key[64], err[KD_ERRMSG_MAX] = "";
		/* one waits at a time: an older upload nobody applied goes */
		storage_delete_prefix(req->srv->storage, "rosters/", NULL, 0);
		pending_key(token, key, sizeof key);
		if (storage_put_buf(req->srv->storage, key, u.file.data, u.file.len,
		                    "application/zip", err, sizeof err) < 0) {
			log_error("roster", "cannot keep the uploaded roster: %s", err);
			token[0] = '\0';
			roster_report_error(rep, NULL, 0, NULL, "kindling could not keep the file until "
			                    "you apply it (%s); try again, or import it at the shell", err);
		}
	}
	kd_buf_release(&u.file);
	enum MHD_Result res = roster_page(req, rc == 0 ? MHD_HTTP_OK : status_of_read(rc), NULL, rep,
	                                  token[0] ? token : NULL, opts.disable_missing);
	roster_free(r);
	roster_report_free(rep);
	return res;
}

static int to_buf(void *arg, const void *data, size_t len)
{
	return kd_buf_append(arg, data, len) < 0 ? KD_ETOOBIG : 0;
}

enum MHD_Result page_admin_roster_apply(struct request *req)
{
	if (!page_form_body(req) || !auth_form_csrf_ok(req))
		return page_csrf_refused(req);
	char *token = page_field(req, "token"), *dm = page_field(req, "disable_missing");
	struct roster_opts opts = {.disable_missing = dm && *dm};
	free(dm);
	if (!token_valid(token)) {
		free(token);
		return roster_page(req, MHD_HTTP_BAD_REQUEST, "That import is not waiting any more: "
		                   "upload the roster again.", NULL, NULL, false);
	}
	char key[64], err[KD_ERRMSG_MAX] = "";
	pending_key(token, key, sizeof key);
	free(token);
	struct kd_buf zip = KD_BUF_INIT(UPLOAD_MAX);
	int rc = storage_get(req->srv->storage, key, 0, STORAGE_TO_END, to_buf, &zip, err,
	                     sizeof err);
	if (rc < 0) {
		kd_buf_release(&zip);
		return roster_page(req, rc == KD_ENOTFOUND ? MHD_HTTP_GONE
		                                           : MHD_HTTP_SERVICE_UNAVAILABLE,
		                   rc == KD_ENOTFOUND ? "That import is not waiting any more (it was "
		                   "applied, or another upload replaced it): upload the roster again."
		                   : "kindling could not read the uploaded roster back; upload it "
		                     "again.", NULL, NULL, false);
	}
	struct roster_report *rep = roster_report_new();
	struct roster *r = NULL;
	rc = roster_read_zip_mem(zip.data, zip.len, "the upload", &r, rep);
	if (rc == 0)
		rc = roster_apply(req->db, r, &opts, rep);
	kd_buf_release(&zip);
	if (rc == 0) {
		storage_delete(req->srv->storage, key, NULL, 0);
		log_info("roster", "user %lld imported a roster: %zu added, %zu changed, %zu disabled, "
		         "%zu enabled", (long long)req->user.id, rep->added.n, rep->changed.n,
		         rep->disabled.n, rep->enabled.n);
		/* issue 14: the import's counts in the audit trail (as kindling roster
		 * import writes them) */
		char detail[400];
		snprintf(detail, sizeof detail, "schools: %zu added, %zu changed, %ld unchanged; "
		         "people: %zu added, %zu changed, %zu disabled, %zu enabled, %zu kept, "
		         "%ld unchanged%s", rep->schools_added.n, rep->schools_changed.n,
		         rep->schools_unchanged, rep->added.n, rep->changed.n, rep->disabled.n,
		         rep->enabled.n, rep->kept.n, rep->unchanged,
		         opts.disable_missing ? " (disable missing)" : "");
		req_audit(req, AUDIT_ROSTER, 0, "an upload at /admin/roster", detail);
	}
	enum MHD_Result res = roster_page(req, rc == 0 ? MHD_HTTP_OK : status_of_read(rc),
	                                  rc == 0 ? NULL : "Nothing was imported.", rep, NULL, false);
	roster_free(r);
	roster_report_free(rep);
	return res;
}
