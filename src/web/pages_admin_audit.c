/* pages_admin_audit.c - /admin/audit, the audit trail for admins: the
 * filters of `kindling audit` (days, person, clip, action), newest first,
 * PER_PAGE entries a page with a link to the older ones (keyset paging on
 * the entry id, so a page costs the same however deep), and
 * /admin/audit.csv, the same CSV the shell writes (audit_format.c),
 * streamed a chunk at a time: memory does not grow with the trail.
 * Nothing here changes an entry; no route does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layout.h"
#include "pages.h"
#include "kindling/audit.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

#define PER_PAGE 100
#define CSV_CHUNK 200            /* entries read per refill of a download */
#define CSV_BUF_MAX (4u << 20)   /* a chunk's lines: 200 of at most some 8 KiB */
#define ID_MAX 999999999999999LL /* 15 digits, as the router takes */

/* The filters of the query string; "" counts as absent. */
struct filters {
	const char *from, *to, *user, *action;
	int64_t clip, before;
};

static const char *arg(struct request *req, const char *name)
{
	const char *v = req_arg(req, name);
	return v && *v ? v : NULL;
}

/* Read the filters into *fl and *f: 0, or KD_EINVAL with the reason. */
static int read_filters(struct request *req, struct filters *fl, struct audit_filter *f,
                        char *err, size_t errlen)
{
	memset(fl, 0, sizeof *fl);
	memset(f, 0, sizeof *f);
	fl->from = arg(req, "from");
	fl->to = arg(req, "to");
	fl->user = arg(req, "user");
	fl->action = arg(req, "action");
	if (fl->user && strlen(fl->user) > 200) {
		snprintf(err, errlen, "an account's name is at most 200 characters");
		return KD_EINVAL;
	}
	if (req_int_arg(req, "clip", 0, 1, ID_MAX, &fl->clip) < 0) {
		snprintf(err, errlen, "a clip is given by its number (the id in its address)");
		return KD_EINVAL;
	}
	if (req_int_arg(req, "before", 0, 1, ID_MAX, &fl->before) < 0) {
		snprintf(err, errlen, "that page of older entries is not one kindling links to: "
		         "start again from the newest");
		return KD_EINVAL;
	}
	*f = (struct audit_filter){.from = fl->from, .to = fl->to, .user = fl->user,
	                           .clip_id = fl->clip, .action = fl->action,
	                           .before_id = fl->before};
	return audit_filter_check(f, err, errlen);
}

/* "?from=...&to=..." of the filters given (and before, when not 0), for
 * links: percent-encoded (holds no & < > " '... but '&' between, which
 * html_attr escapes). */
static void filters_query(struct kd_buf *q, const struct filters *fl, int64_t before)
{
	const char *names[] = {"from", "to", "user", "action"};
	const char *values[] = {fl->from, fl->to, fl->user, fl->action};
	for (size_t i = 0; i < 4; i++) {
		if (!values[i])
			continue;
		kd_buf_puts(q, q->len ? "&" : "?");
		kd_buf_printf(q, "%s=", names[i]);
		html_url_encode(q, values[i]);
	}
	if (fl->clip)
		kd_buf_printf(q, "%sclip=%lld", q->len ? "&" : "?", (long long)fl->clip);
	if (before)
		kd_buf_printf(q, "%sbefore=%lld", q->len ? "&" : "?", (long long)before);
}

static void field(struct html *h, const char *id, const char *label, const char *type,
                  const char *name, const char *value, const char *extra)
{
	html_raw(h, "<div class=\"field\"><label for=\"");
	html_attr(h, id);
	html_raw(h, "\">");
	html_text(h, label);
	html_raw(h, "</label><input id=\"");
	html_attr(h, id);
	html_raw(h, "\" type=\"");
	html_attr(h, type);
	html_raw(h, "\" name=\"");
	html_attr(h, name);
	html_raw(h, "\" value=\"");
	html_attr(h, value ? value : "");
	html_raw(h, "\"");
	html_raw(h, extra); /* the program's own attributes */
	html_raw(h, "></div>");
}

static void filter_form(struct html *h, const struct filters *fl)
{
	html_raw(h, "<form class=\"filters\" method=\"get\" action=\"/admin/audit\" "
	            "role=\"search\" aria-label=\"Filter the audit trail\">");
	field(h, "a-from", "From (UTC day)", "date", "from", fl->from, "");
	field(h, "a-to", "To (UTC day)", "date", "to", fl->to, "");
	field(h, "a-user", "Person (account name)", "text", "user", fl->user,
	      " maxlength=\"200\"");
	char clip[24] = "";
	if (fl->clip)
		snprintf(clip, sizeof clip, "%lld", (long long)fl->clip);
	field(h, "a-clip", "Clip (number)", "number", "clip", clip, " min=\"1\"");
	html_raw(h, "<div class=\"field\"><label for=\"a-action\">Action</label>"
	            "<select id=\"a-action\" name=\"action\"><option value=\"\">Any action"
	            "</option>");
	for (size_t i = 0; i < audit_actions_count; i++) {
		html_raw(h, "<option value=\"");
		html_attr(h, audit_actions[i]);
		html_raw(h, fl->action && !strcmp(fl->action, audit_actions[i]) ? "\" selected>"
		                                                                 : "\">");
		html_text(h, audit_actions[i]);
		html_raw(h, "</option>");
	}
	html_raw(h, "</select></div><button type=\"submit\">Show</button></form>");
}

/* The page's rows, as they are read: the first PER_PAGE, and whether one
 * more (an older page) exists. */
struct rows {
	struct html *h;
	int n;
	int64_t last_id;
	bool more;
};

static const char *who_of(const struct audit_entry *e)
{
	if (*e->user_name)
		return e->user_name;
	return strcmp(e->action, AUDIT_SIGN_IN_FAILED) ? "kindling" : "-";
}

static int row(void *arg, const struct audit_entry *e)
{
	struct rows *r = arg;
	if (r->n == PER_PAGE) {
		r->more = true;
		return 1;
	}
	struct html *h = r->h;
	html_raw(h, "<tr><td><time datetime=\"");
	html_attr(h, e->at);
	html_raw(h, "\">");
	html_textf(h, "%.10s %.8s", e->at, strlen(e->at) > 11 ? e->at + 11 : "");
	html_raw(h, "</time></td><td>");
	html_text(h, who_of(e));
	html_raw(h, "</td><td>");
	html_text(h, e->action);
	html_raw(h, "</td><td>");
	if (e->clip_id > 0) {
		html_raw(h, "<a href=\"");
		html_attrf(h, "/clips/%lld", (long long)e->clip_id);
		html_raw(h, "\">");
		html_textf(h, "%lld", (long long)e->clip_id);
		html_raw(h, "</a>");
	} else {
		html_raw(h, "-");
	}
	html_raw(h, "</td><td>");
	html_text(h, e->target);
	html_raw(h, "</td><td>");
	html_text(h, e->detail);
	html_raw(h, "</td><td>");
	html_text(h, e->ip);
	html_raw(h, "</td></tr>");
	r->n++;
	r->last_id = e->id;
	return 0;
}

/* The download link, the table of one page and the links to the others.
 * 0, or an error of audit_each. */
static int list_entries(struct html *h, struct request *req, const struct filters *fl,
                        struct audit_filter *f)
{
	struct kd_buf q = KD_BUF_INIT(4096);
	filters_query(&q, fl, 0);
	html_raw(h, "<p><a class=\"button\" download href=\"/admin/audit.csv");
	html_attr(h, kd_buf_str(&q));
	html_raw(h, "\">Download CSV</a> <span class=\"hint\">(every entry these filters match, "
	            "oldest first)</span></p>");

	f->newest_first = true;
	f->limit = PER_PAGE + 1;
	struct rows r = {.h = h};
	page_wide_begin(h, "Audit entries"); /* issue 15: scrolls on a phone */
	html_raw(h, "<table class=\"figures audit\"><caption>");
	html_text(h, fl->before ? "Older audit entries, newest first"
	                        : "Audit entries, newest first");
	html_raw(h, "</caption><thead><tr><th scope=\"col\">When (UTC)</th>"
	            "<th scope=\"col\">Who</th><th scope=\"col\">Action</th>"
	            "<th scope=\"col\">Clip</th><th scope=\"col\">Target</th>"
	            "<th scope=\"col\">Detail</th><th scope=\"col\">Address</th>"
	            "</tr></thead><tbody>");
	char err[KD_ERRMSG_MAX] = "";
	int rc = audit_each(req->db, f, row, &r, err, sizeof err);
	html_raw(h, "</tbody></table>");
	page_wide_end(h);
	if (rc < 0) {
		log_error("audit", "/admin/audit: %s", err);
		kd_buf_release(&q);
		return rc;
	}
	if (!r.n)
		html_raw(h, "<p class=\"empty\">No entry matches.</p>");
	if (r.more || fl->before) {
		html_raw(h, "<nav class=\"pages\" aria-label=\"Pages of the audit trail\">");
		if (fl->before) {
			html_raw(h, "<a href=\"/admin/audit");
			html_attr(h, kd_buf_str(&q));
			html_raw(h, "\">Newest entries</a> ");
		}
		if (r.more) {
			struct kd_buf older = KD_BUF_INIT(4096);
			filters_query(&older, fl, r.last_id);
			html_raw(h, "<a rel=\"next\" href=\"/admin/audit");
			html_attr(h, kd_buf_str(&older));
			html_raw(h, "\">Older entries</a>");
			kd_buf_release(&older);
		}
		html_raw(h, "</nav>");
	}
	kd_buf_release(&q);
	return 0;
}

enum MHD_Result page_admin_audit(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_only(req, &refused))
		return refused;
	struct filters fl;
	struct audit_filter f;
	char err[KD_ERRMSG_MAX] = "";
	int rc = read_filters(req, &fl, &f, err, sizeof err);

	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Audit trail");
	html_raw(&h, "<h1>Audit trail</h1><p class=\"hint\">Who opened which clip (once a person "
	             "and day), downloaded an original, changed consent, visibility or blur, "
	             "edited, deleted or held a clip, signed in or failed to, imported a roster, "
	             "made or revoked a token, changed an account or answered a visit. Entries "
	             "are never changed; they are kept ");
	html_textf(&h, "%u months", req->srv->cfg->audit_months);
	html_raw(&h, " (audit_months). Times are UTC.</p>");
	filter_form(&h, &fl);
	unsigned status = MHD_HTTP_OK;
	if (rc < 0) {
		page_error(&h, "audit-error", err);
		status = MHD_HTTP_BAD_REQUEST;
	} else if ((rc = list_entries(&h, req, &fl, &f)) < 0) {
		html_release(&h);
		return page_failed(req, rc, "The audit trail could not be read. Try again in a moment.");
	}
	page_end(&h);
	return respond_html(req, status, &h);
}

/* ------------------------------------------------------------------ the CSV */

/* A download under way: its filter (with copies of its strings), the
 * lines read and not yet sent, and where the next chunk starts. */
struct csv_stream {
	struct db_pool *pool;
	struct audit_filter f;
	char *from, *to, *user, *action;
	struct kd_buf buf;
	size_t sent;         /* of buf */
	bool done;
	int64_t read;        /* entries in the last chunk */
};

static void csv_stream_free(void *cls)
{
	struct csv_stream *s = cls;
	free(s->from);
	free(s->to);
	free(s->user);
	free(s->action);
	kd_buf_release(&s->buf);
	free(s);
}

static int csv_add(void *arg, const struct audit_entry *e)
{
	struct csv_stream *s = arg;
	int rc = audit_csv_line(&s->buf, e);
	if (rc < 0)
		return rc;
	s->f.after_id = e->id;
	s->read++;
	return 0;
}

/* The next chunk of lines into s->buf: 0, or an error (logged). */
static int csv_refill(struct csv_stream *s)
{
	kd_buf_reset(&s->buf);
	s->sent = 0;
	s->read = 0;
	char err[KD_ERRMSG_MAX] = "";
	/* a connection only for the chunk: a slow reader holds none */
	struct kd_db *db = db_pool_get(s->pool);
	int rc = audit_each(db, &s->f, csv_add, s, err, sizeof err);
	db_pool_put(s->pool, db);
	if (rc < 0) {
		log_error("audit", "the CSV download stopped: %s", *err ? err : kd_strerror(rc));
		return rc;
	}
	if (s->read < CSV_CHUNK)
		s->done = true;
	return 0;
}

static ssize_t csv_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct csv_stream *s = cls;
	while (s->sent == s->buf.len) {
		if (s->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (csv_refill(s) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	size_t n = s->buf.len - s->sent < max ? s->buf.len - s->sent : max;
	memcpy(out, s->buf.data + s->sent, n);
	s->sent += n;
	return (ssize_t)n;
}

static int newest_id(void *arg, const struct audit_entry *e)
{
	*(int64_t *)arg = e->id;
	return 1;
}

static char *dup_or_null(const char *s)
{
	return s ? kd_strdup(s) : NULL;
}

enum MHD_Result page_admin_audit_csv(struct request *req)
{
	enum MHD_Result refused;
	if (!page_admin_only(req, &refused))
		return refused;
	struct filters fl;
	struct audit_filter f;
	char err[KD_ERRMSG_MAX] = "";
	if (read_filters(req, &fl, &f, err, sizeof err) < 0) /* (a page mark is ignored) */
		return page_message(req, MHD_HTTP_BAD_REQUEST, "Cannot download that", err);
	/* what the trail holds now, and no entry added while it downloads */
	int64_t newest = 0;
	struct audit_filter last = {.newest_first = true, .limit = 1};
	int rc = audit_each(req->db, &last, newest_id, &newest, err, sizeof err);
	if (rc < 0)
		return page_failed(req, rc, "The audit trail could not be read. Try again in a moment.");

	struct csv_stream *s = kd_calloc(1, sizeof *s);
	s->pool = req->srv->pool;
	s->from = dup_or_null(fl.from);
	s->to = dup_or_null(fl.to);
	s->user = dup_or_null(fl.user);
	s->action = dup_or_null(fl.action);
	s->f = (struct audit_filter){.from = s->from, .to = s->to, .user = s->user,
	                             .clip_id = fl.clip, .action = s->action,
	                             .before_id = newest + 1, .limit = CSV_CHUNK};
	kd_buf_init(&s->buf, CSV_BUF_MAX);
	audit_csv_header(&s->buf);
	s->done = newest == 0;
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, csv_read, s,
		                                  csv_stream_free);
	if (!resp) {
		csv_stream_free(s);
		return MHD_NO;
	}
	char day[16], disposition[96];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	snprintf(disposition, sizeof disposition,
	         "attachment; filename=\"kindling-audit-%s.csv\"", day);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/csv; charset=utf-8; header=present");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "Content-Disposition", disposition);
	req->keep_off = true; /* streamed: nothing to keep (answers.h) */
	return respond(req, MHD_HTTP_OK, resp);
}
