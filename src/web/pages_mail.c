/* pages_mail.c - people and their mail in the browser (issue 16, see
 * pages_mail.h): the switches and followed practices on /account, the
 * practice page's Follow button, and the one-click unsubscribe page.
 *
 * The switches and follows are the signed-in person's own (mail_prefs.c);
 * the unsubscribe page needs no sign-in: the link's secret, kept only as
 * a hash (outbox.c), is the proof, good once, for one kind of mail of one
 * person.  Every form works without JavaScript. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "pages.h"
#include "pages_mail.h"
#include "kindling/catalogue.h"
#include "kindling/config.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/outbox.h"


static const char *const WEEKDAYS[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};

static const char *digest_day(const struct request *req)
{
	int d = req->srv->cfg->digest_day;
	return d >= 0 && d < 7 ? WEEKDAYS[d] : "Monday";
}

/* ------------------------------------------------------------ /account */

void page_account_mail(struct html *h, struct request *req, const char *email)
{
	bool on[MAIL_KIND_COUNT];
	int rc = mail_prefs_get(req->db, req->user.id, on);
	struct cat_practice *fs = NULL;
	size_t nf = 0;
	int frc = follow_list(req->db, req->user.id, &fs, &nf);
	html_raw(h, "<section aria-labelledby=\"mail-h\" id=\"mail\"><h2 id=\"mail-h\">E-mail</h2>");
	const char *said = req_arg(req, "mail");
	if (said && !strcmp(said, "saved"))
		html_raw(h, "<p class=\"notice\" role=\"status\" id=\"mail-saved\">Your e-mail "
		            "choices are saved.</p>");
	if (!outbox_enabled())
		html_raw(h, "<p class=\"notice\" id=\"mail-off\">This kindling server sends no e-mail: "
		            "its admin has not set up a mail server. Your choices below are kept for "
		            "when they do.</p>");
	else if (!email || !*email)
		html_raw(h, "<p class=\"notice\" id=\"mail-no-address\">kindling has no e-mail "
		            "address for you, so it sends you nothing. Your district's kindling admin "
		            "can add one.</p>");
	if (rc < 0) {
		page_error(h, "mail-error", "Your e-mail choices could not be read. Reload the page "
		                            "in a moment.");
	} else {
		html_raw(h, "<form method=\"post\" action=\"/account/mail\" class=\"edit mail-form\">");
		page_csrf_field(h, req);
		html_raw(h, "<fieldset><legend>Send me an e-mail when</legend>");
		for (int k = 0; k < MAIL_KIND_COUNT; k++) {
			html_raw(h, "<label class=\"check\"><input type=\"checkbox\" name=\"kind\" id=\"");
			html_attrf(h, "mail-%s", mail_kind_name((enum mail_kind)k));
			html_raw(h, "\" value=\"");
			html_attr(h, mail_kind_name((enum mail_kind)k));
			html_raw(h, on[k] ? "\" checked> " : "\"> ");
			html_text(h, mail_kind_label((enum mail_kind)k));
			html_raw(h, "</label>");
		}
		html_raw(h, "</fieldset><p class=\"hint\">Every e-mail also has a link that turns its "
		            "kind off in one click.</p><button type=\"submit\">Save e-mail "
		            "choices</button></form>");
	}
	html_raw(h, "<h3 id=\"follows-h\">Practices you follow</h3>");
	if (frc < 0) {
		page_error(h, NULL, "The practices you follow could not be read.");
	} else if (!nf) {
		html_raw(h, "<p class=\"empty\">None yet: a practice's page has a Follow button.</p>");
	} else {
		html_raw(h, "<p class=\"hint\">");
		html_textf(h, "Each %s, one e-mail names the new clips and moments of these practices "
		              "from other schools.", digest_day(req));
		html_raw(h, "</p><ul class=\"follows\" aria-labelledby=\"follows-h\">");
		for (size_t i = 0; i < nf; i++) {
			html_raw(h, "<li><a href=\"");
			html_attrf(h, "/practices/%s", fs[i].slug);
			html_raw(h, "\">");
			html_text(h, fs[i].name);
			html_raw(h, "</a>");
			if (fs[i].retired_at)
				html_raw(h, " <span class=\"badge\">retired</span>");
			html_raw(h, " <form method=\"post\" class=\"inline\" action=\"");
			html_attrf(h, "/practices/%s/follow", fs[i].slug);
			html_raw(h, "\">");
			page_csrf_field(h, req);
			html_raw(h, "<input type=\"hidden\" name=\"follow\" value=\"off\">"
			            "<input type=\"hidden\" name=\"next\" value=\"/account#follows-h\">"
			            "<button type=\"submit\">Stop following<span class=\"vh\"> ");
			html_text(h, fs[i].name);
			html_raw(h, "</span></button></form></li>");
		}
		html_raw(h, "</ul>");
	}
	html_raw(h, "</section>");
	cat_practices_free(fs, nf);
}

enum MHD_Result page_account_mail_save(struct request *req)
{
	enum MHD_Result refused;
	if (!page_form_ok(req, &refused))
		return refused;
	bool on[MAIL_KIND_COUNT] = {false};
	/* a checkbox left off sends nothing: what is not named is off */
	for (int i = 0;; i++) {
		char *v = page_field_n(req, "kind", i);
		if (!v)
			break;
		enum mail_kind k;
		int rc = mail_kind_parse(v, &k);
		free(v);
		if (rc < 0 || i >= 4 * MAIL_KIND_COUNT)
			return page_message(req, MHD_HTTP_BAD_REQUEST, "Not saved",
			                    "The form named a kind of e-mail kindling does not know. "
			                    "Reload your account page and save again.");
		on[k] = true;
	}
	for (int k = 0; k < MAIL_KIND_COUNT; k++) {
		int rc = mail_prefs_set(req->db, req->user.id, (enum mail_kind)k, on[k]);
		if (rc < 0)
			return page_failed(req, rc, "Your e-mail choices could not be saved. Try again "
			                            "in a moment.");
	}
	return respond_redirect(req, "/account?mail=saved#mail", NULL);
}

/* ------------------------------------------------------------ following */

void page_follow_button(struct html *h, struct request *req, const char *slug,
                        const char *name)
{
	bool following = follow_get(req->db, &req->user, slug);
	html_raw(h, "<form method=\"post\" class=\"follow\" id=\"follow\" action=\"");
	html_attrf(h, "/practices/%s/follow", slug);
	html_raw(h, "\">");
	page_csrf_field(h, req);
	if (following) {
		html_raw(h, "<span class=\"badge status-accepted\" id=\"following\">Following</span> "
		            "<input type=\"hidden\" name=\"follow\" value=\"off\">"
		            "<button type=\"submit\">Stop following<span class=\"vh\"> ");
	} else {
		html_raw(h, "<input type=\"hidden\" name=\"follow\" value=\"on\">"
		            "<button type=\"submit\">Follow<span class=\"vh\"> ");
	}
	html_text(h, name);
	html_raw(h, "</span></button> <span class=\"hint\">");
	if (following)
		html_textf(h, "Its new clips and moments from other schools come in your e-mail each "
		              "%s.", digest_day(req));
	else
		html_textf(h, "Get its new clips and moments from other schools in one e-mail each "
		              "%s.", digest_day(req));
	html_raw(h, "</span></form>");
}

enum MHD_Result page_practice_follow(struct request *req)
{
	enum MHD_Result refused;
	if (!page_form_ok(req, &refused))
		return refused;
	char *how = page_field(req, "follow"), *next = page_field(req, "next");
	enum MHD_Result r;
	bool on = how && !strcmp(how, "on");
	if (!how || (!on && strcmp(how, "off"))) {
		r = page_message(req, MHD_HTTP_BAD_REQUEST, "Not changed",
		                 "The form did not say whether to follow the practice. Reload the "
		                 "practice's page and press its button again.");
		goto out;
	}
	char err[KD_ERRMSG_MAX] = "";
	int rc = follow_set(req->db, &req->user, req->slugs[0], on, err, sizeof err);
	if (rc == KD_ENOTFOUND) {
		r = page_not_found(req, "There is no practice at this address: it may have been "
		                        "merged into another. Find it on the Practices page.");
	} else if (rc < 0) {
		r = page_failed(req, rc, err);
	} else if (page_safe_next(next)) {
		r = respond_redirect(req, next, NULL);
	} else {
		char *back = kd_asprintf("/practices/%s#follow", req->slugs[0]);
		r = respond_redirect(req, back, NULL);
		free(back);
	}
out:
	free(how);
	free(next);
	return r;
}

/* ------------------------------------------------------------ unsubscribe */

int page_unsub_link_parse(const char *m, const char *s, int64_t *id)
{
	if (!m || !s)
		return KD_EINVAL;
	/* (strnlen: an argument of any length is looked at only so far) */
	size_t n = strnlen(m, UNSUB_ID_MAX_DIGITS + 1);
	if (n == 0 || n > UNSUB_ID_MAX_DIGITS || m[0] == '0' || strspn(m, "0123456789") != n)
		return KD_EINVAL;
	if (strnlen(s, UNSUB_SECRET_LEN + 1) != UNSUB_SECRET_LEN ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
	            UNSUB_SECRET_LEN)
		return KD_EINVAL;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (m[i] - '0');
	*id = v;
	return 0;
}

/* The request's link, checked for form (no catalogue read). */
static int unsub_args(struct request *req, int64_t *id, const char **secret)
{
	const char *s = req_arg(req, "s");
	int rc = page_unsub_link_parse(req_arg(req, "m"), s, id);
	if (rc == 0)
		*secret = s;
	return rc;
}

/* A page of the unsubscribe flow: a heading, what happened, and the way to
 * the switches. */
static enum MHD_Result unsub_page(struct request *req, unsigned status, const char *title,
                                  const char *message, const char *label)
{
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, title);
	html_raw(&h, "<h1>");
	html_text(&h, title);
	html_raw(&h, "</h1><p id=\"unsub-message\">");
	html_text(&h, message);
	html_raw(&h, "</p>");
	if (label) {
		html_raw(&h, "<p class=\"kind\">");
		html_text(&h, label);
		html_raw(&h, "</p>");
	}
	html_raw(&h, "<p>Your other e-mail choices are on <a href=\"/account#mail\">your "
	             "account page</a> (sign in first).</p>");
	page_end(&h);
	return respond_html(req, status, &h);
}

static enum MHD_Result unsub_refused(struct request *req, int rc)
{
	if (rc == KD_EINVAL)
		return unsub_page(req, MHD_HTTP_BAD_REQUEST, "Incomplete link",
		                  "This unsubscribe link is incomplete: it may have been cut when it "
		                  "was copied. Open it from the e-mail again, or change your e-mail "
		                  "choices on your account page.", NULL);
	if (rc == KD_ENOTFOUND)
		return unsub_page(req, MHD_HTTP_NOT_FOUND, "Unknown link",
		                  "This unsubscribe link is not one kindling sent, or it was changed "
		                  "on the way. Open it from the e-mail again, or change your e-mail "
		                  "choices on your account page.", NULL);
	if (rc == KD_EEXIST)
		return unsub_page(req, MHD_HTTP_GONE, "Link already used",
		                  "This unsubscribe link was already used, and did what it says: each "
		                  "link works once. To change your e-mail now, use your account "
		                  "page.", NULL);
	return unsub_page(req, http_status_of(rc), "Something went wrong",
	                  "kindling could not read this link just now. Try again in a few "
	                  "minutes.", NULL);
}

enum MHD_Result page_unsubscribe_get(struct request *req)
{
	int64_t id = 0;
	const char *secret = NULL;
	int rc = unsub_args(req, &id, &secret);
	enum mail_kind kind;
	bool used = false;
	if (rc == 0)
		rc = outbox_unsubscribe_peek(req->db, id, secret, &kind, &used);
	if (rc == 0 && used)
		rc = KD_EEXIST;
	if (rc < 0)
		return unsub_refused(req, rc);
	struct html h;
	html_init(&h, PAGE_MAX);
	page_begin(&h, req, "Stop these e-mails");
	html_raw(&h, "<h1>Stop these e-mails?</h1><p>This turns off one kind of e-mail from "
	             "kindling, the kind this link came in:</p><p class=\"kind\"><strong>");
	html_text(&h, mail_kind_label(kind));
	html_raw(&h, "</strong></p><form method=\"post\" action=\"");
	html_attrf(&h, "/mail/unsubscribe?m=%lld&s=%s", (long long)id, secret);
	html_raw(&h, "\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
	             "<button type=\"submit\">Stop these e-mails</button></form>"
	             "<p class=\"hint\">Nothing changes until you press the button. Your other "
	             "e-mail choices are on <a href=\"/account#mail\">your account page</a>.</p>");
	page_end(&h);
	return respond_html(req, MHD_HTTP_OK, &h);
}

enum MHD_Result page_unsubscribe_post(struct request *req)
{
	/* the body is "List-Unsubscribe=One-Click" from a mail client (RFC
	 * 8058, urlencoded or multipart) or the page's button: the link's
	 * secret, not the body, is the proof */
	int64_t id = 0, user_id = 0;
	const char *secret = NULL;
	enum mail_kind kind;
	int rc = unsub_args(req, &id, &secret);
	if (rc == 0)
		rc = outbox_unsubscribe(req->db, id, secret, &kind, &user_id);
	if (rc < 0)
		return unsub_refused(req, rc);
	/* for whoever later asks why someone hears nothing */
	log_info("mail", "user %lld turned off %s mail with the link of message %lld",
	         (long long)user_id, mail_kind_name(kind), (long long)id);
	return unsub_page(req, MHD_HTTP_OK, "E-mails stopped",
	                  "Done: kindling will not send you this kind of e-mail any more. You can "
	                  "turn it back on on your account page.",
	                  mail_kind_label(kind));
}
