/*
 * compose.c - what a queued message says (mail.h, mail_compose): for each
 * kind, a subject, a plain-text body and the same in HTML (draft.c writes
 * both, escaping through kindling/html.h), links into kindling at
 * public_url, and the one-click unsubscribe link in the footer; an
 * accepted visit's .ics attached.  The weekly digest: compose_digest.c.
 *
 * Everything is read now, as the recipient may see it now: a clip they may
 * no longer see (withdrawn, made private) is not named, a visit answered
 * meanwhile is not asked about again, a digest keeps only what they may
 * see.  Nothing left to say is KD_ENOTFOUND (the sender drops the
 * message, logging why).  Mail names schools, clips, practices and the
 * adults' account names; never anyone on camera.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compose.h"
#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mail.h"
#include "kindling/mem.h"
#include "kindling/users.h"
#include "kindling/visits.h"

/* ------------------------------------------------------------ lookups */

/* The recipient: enabled, with an address (to_addr, to_name) and as a
 * viewer (the privacy rule is applied as them). */
static int recipient(struct kd_db *db, int64_t id, struct kd_user *u, struct mail_message *out,
                     char *why, size_t whylen)
{
	int rc = users_get(db, id, u);
	if (rc == KD_ENOTFOUND) {
		snprintf(why, whylen, "the recipient's account is disabled or gone");
		return rc;
	}
	if (rc < 0) {
		snprintf(why, whylen, "cannot read the recipient's account");
		return rc;
	}
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT email, full_name FROM users WHERE id = ?1", &st) != DB_OK) {
		snprintf(why, whylen, "cannot read the recipient's account: %s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, id);
	int s = db_step(st);
	if (s == DB_ROW) {
		const char *email = (const char *)db_column_text(st, 0);
		const char *full = (const char *)db_column_text(st, 1);
		if (email && *email)
			out->to_addr = kd_strdup(email);
		out->to_name = kd_strdup(full && *full ? full : u->name);
	}
	db_finalize(st);
	if (s != DB_ROW && s != DB_DONE) {
		snprintf(why, whylen, "cannot read the recipient's account: %s", db_errmsg(db));
		return db_err_code(s);
	}
	if (!out->to_addr) {
		snprintf(why, whylen, "the recipient has no e-mail address");
		return KD_ENOTFOUND;
	}
	return 0;
}

/* One text column of one row: a new string, or NULL. */
static char *lookup(struct kd_db *db, const char *sql, int64_t id, const char *text)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		return NULL;
	if (text)
		db_bind_text(st, 1, text, -1, DB_STATIC);
	else
		db_bind_int64(st, 1, id);
	char *v = NULL;
	if (db_step(st) == DB_ROW && db_column_text(st, 0))
		v = kd_strdup((const char *)db_column_text(st, 0));
	db_finalize(st);
	return v;
}

/* "YYYYMMDDTHHMMSSZ" for an .ics DTSTAMP. */
static void ics_stamp(char out[20])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, 20, "%Y%m%dT%H%M%SZ", &tm);
}

static void attach_ics(struct mail_message *out, const struct visit *v)
{
	char stamp[20];
	ics_stamp(stamp);
	char *ics = visit_ics(v, stamp);
	if (!ics)
		return;
	out->attach = kd_calloc(1, sizeof *out->attach);
	out->attach[0].filename = kd_asprintf("visit-%lld.ics", (long long)v->id);
	out->attach[0].content_type = kd_strdup("text/calendar; method=PUBLISH; charset=UTF-8");
	out->attach[0].len = strlen(ics);
	out->attach[0].data = ics;
	out->n_attach = 1;
}

/* ------------------------------------------------------------ visits */

/* The visit as the rules see it (rules: every field) and as the recipient
 * may see it (named: the clip only when they may see it). */
struct visit_pair {
	struct visit rules, named;
	char *visitor_school; /* name */
	char *practice;       /* name */
};

static void visit_pair_free(struct visit_pair *p)
{
	visit_free(&p->rules);
	visit_free(&p->named);
	free(p->visitor_school);
	free(p->practice);
}

static int load_visit(struct kd_db *db, const struct kd_user *u, int64_t id, struct visit_pair *p,
                      char *why, size_t whylen)
{
	memset(p, 0, sizeof *p);
	int rc = visit_get(db, NULL, id, &p->rules);
	if (rc == 0 && (rc = visit_get(db, u, id, &p->named)) < 0)
		visit_free(&p->rules);
	if (rc == KD_ENOTFOUND)
		snprintf(why, whylen, "the visit is gone");
	else if (rc < 0)
		snprintf(why, whylen, "cannot read the visit");
	if (rc < 0)
		return rc;
	if (p->rules.visitor_school_id)
		p->visitor_school = lookup(db, "SELECT name FROM schools WHERE id = ?1",
		                           p->rules.visitor_school_id, NULL);
	if (p->rules.practice)
		p->practice = lookup(db, "SELECT name FROM practices WHERE slug = ?1", 0,
		                     p->rules.practice);
	return 0;
}

/* "Rotation, with timers" (station rotation), or "a clip" when the
 * recipient may not see it. */
static char *clip_words(const struct visit_pair *p)
{
	if (!p->named.clip_title)
		return kd_strdup(p->practice ? "a clip" : "a clip that is no longer shared");
	return p->practice ? kd_asprintf("\"%s\" (%s)", p->named.clip_title, p->practice)
	                   : kd_asprintf("\"%s\"", p->named.clip_title);
}

static char *requester_words(const struct visit_pair *p)
{
	return p->visitor_school ? kd_asprintf("%s (%s)", p->rules.requester, p->visitor_school)
	                         : kd_strdup(p->rules.requester);
}

static void dates_para(struct draft *d, const struct visit *v)
{
	struct kd_buf b = KD_BUF_INIT(256);
	for (size_t i = 0; i < v->n_dates; i++)
		kd_buf_printf(&b, "%s%s", i ? ", " : "", v->dates[i]);
	draft_para(d, "Proposed dates: %s", kd_buf_str(&b));
	kd_buf_release(&b);
}

static void clip_link(struct draft *d, const struct visit_pair *p)
{
	if (p->named.clip_id) {
		char path[48];
		snprintf(path, sizeof path, "/clips/%lld", (long long)p->named.clip_id);
		draft_link(d, "Watch the clip", path);
	}
}

static int compose_requested(struct kd_db *db, const struct outbox_item *it, const struct kd_user *u,
                             struct draft *d, struct mail_message *out, const char *unsub,
                             char *why, size_t whylen)
{
	struct visit_pair p;
	int rc = load_visit(db, u, it->ref_id, &p, why, whylen);
	if (rc < 0)
		return rc;
	if (!visit_may_answer(db, u, &p.rules) || u->id == p.rules.requester_id) {
		snprintf(why, whylen, "the recipient no longer answers for this visit");
		rc = KD_ENOTFOUND;
	} else if (strcmp(p.rules.status, "requested")) {
		snprintf(why, whylen, "the visit was %s before this mail went out", p.rules.status);
		rc = KD_ENOTFOUND;
	}
	if (rc < 0) {
		visit_pair_free(&p);
		return rc;
	}
	char *who = requester_words(&p), *what = clip_words(&p);
	char *subject = kd_asprintf("%s asks to visit %s", p.rules.requester,
	                            p.rules.host_school_name);
	draft_open(d, subject, out->to_name);
	draft_para(d, "%s asks to visit %s to see the classroom of %s.", who, p.rules.host_school_name,
	     what);
	dates_para(d, &p.rules);
	if (p.rules.note && *p.rules.note)
		draft_para(d, "Their note: %s", p.rules.note);
	draft_para(d, "Accept one of the dates or decline on the Visits page; %s hears your answer by "
	     "mail.", p.rules.requester);
	draft_link(d, "Answer the request", "/visits");
	clip_link(d, &p);
	draft_close(d, "someone asked to visit your school or classroom", unsub);
	free(who);
	free(what);
	visit_pair_free(&p);
	return draft_finish(d, out, subject, why, whylen);
}

static int compose_answered(struct kd_db *db, const struct outbox_item *it, const struct kd_user *u,
                            struct draft *d, struct mail_message *out, const char *unsub,
                            char *why, size_t whylen)
{
	struct visit_pair p;
	int rc = load_visit(db, u, it->ref_id, &p, why, whylen);
	if (rc < 0)
		return rc;
	bool accepted = it->ref_text && !strcmp(it->ref_text, "accepted");
	if (u->id != p.rules.requester_id) {
		snprintf(why, whylen, "the recipient did not ask for this visit");
		rc = KD_ENOTFOUND;
	} else if (accepted && !p.rules.date) {
		snprintf(why, whylen, "the visit has no date any more");
		rc = KD_ENOTFOUND;
	}
	if (rc < 0) {
		visit_pair_free(&p);
		return rc;
	}
	char *what = clip_words(&p), *subject;
	if (accepted) {
		subject = kd_asprintf("Your visit to %s on %s is accepted", p.rules.host_school_name,
		                      p.rules.date);
		draft_open(d, subject, out->to_name);
		draft_para(d, "%s accepted your request to visit the classroom of %s. The visit is on %s.",
		     p.rules.host_school_name, what, p.rules.date);
		if (p.rules.answer_note && *p.rules.answer_note)
			draft_para(d, "Their note: %s", p.rules.answer_note);
		draft_para(d, "The calendar event is attached (visit-%lld.ics). kindling reminds you the "
		     "day before.", (long long)p.rules.id);
		attach_ics(out, &p.named);
	} else {
		subject = kd_asprintf("Your visit request to %s was declined", p.rules.host_school_name);
		draft_open(d, subject, out->to_name);
		draft_para(d, "%s declined your request to visit the classroom of %s.",
		     p.rules.host_school_name, what);
		if (p.rules.answer_note && *p.rules.answer_note)
			draft_para(d, "Their note: %s", p.rules.answer_note);
		draft_para(d, "You can ask again with other dates from the clip's page.");
	}
	draft_link(d, "Your visits", "/visits");
	clip_link(d, &p);
	draft_close(d, "you asked to visit a classroom", unsub);
	free(what);
	visit_pair_free(&p);
	return draft_finish(d, out, subject, why, whylen);
}

static int compose_reminder(struct kd_db *db, const struct outbox_item *it, const struct kd_user *u,
                            struct draft *d, struct mail_message *out, const char *unsub,
                            char *why, size_t whylen)
{
	struct visit_pair p;
	int rc = load_visit(db, u, it->ref_id, &p, why, whylen);
	if (rc < 0)
		return rc;
	bool visitor = u->id == p.rules.requester_id;
	if (strcmp(p.rules.status, "accepted") || !p.rules.date ||
	    (it->ref_text && strcmp(p.rules.date, it->ref_text))) {
		snprintf(why, whylen, "the visit is no longer accepted for %s",
		         it->ref_text ? it->ref_text : "that day");
		rc = KD_ENOTFOUND;
	} else if (!visitor && !visit_may_answer(db, u, &p.rules)) {
		snprintf(why, whylen, "the recipient is no longer on either side of this visit");
		rc = KD_ENOTFOUND;
	}
	if (rc < 0) {
		visit_pair_free(&p);
		return rc;
	}
	char *what = clip_words(&p), *subject;
	if (visitor) {
		subject = kd_asprintf("Tomorrow, %s: your visit to %s", p.rules.date,
		                      p.rules.host_school_name);
		draft_open(d, subject, out->to_name);
		draft_para(d, "A reminder: tomorrow, %s, you visit %s to see the classroom of %s.",
		     p.rules.date, p.rules.host_school_name, what);
	} else {
		char *who = requester_words(&p);
		subject = kd_asprintf("Tomorrow, %s: %s visits %s", p.rules.date, p.rules.requester,
		                      p.rules.host_school_name);
		draft_open(d, subject, out->to_name);
		draft_para(d, "A reminder: tomorrow, %s, %s visits %s to see the classroom of %s.",
		     p.rules.date, who, p.rules.host_school_name, what);
		free(who);
	}
	if (p.rules.answer_note && *p.rules.answer_note)
		draft_para(d, "The host's note: %s", p.rules.answer_note);
	attach_ics(out, &p.named);
	draft_link(d, "The visit", "/visits");
	clip_link(d, &p);
	draft_close(d, visitor ? "you are visiting a classroom tomorrow"
	                      : "your school hosts a visit tomorrow", unsub);
	free(what);
	visit_pair_free(&p);
	return draft_finish(d, out, subject, why, whylen);
}

/* ------------------------------------------------------------ processing */

static int compose_processing(struct kd_db *db, const struct outbox_item *it, const struct kd_user *u,
                              struct draft *d, struct mail_message *out, const char *unsub,
                              char *why, size_t whylen)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT b.user_id, b.size, c.id FROM upload_batches b LEFT JOIN clips c "
	               "ON c.batch_id = b.id WHERE b.id = ?1 ORDER BY c.id", &st) != DB_OK) {
		snprintf(why, whylen, "cannot read the upload batch: %s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, it->ref_id);
	int64_t owner = 0, size = 0, *ids = NULL;
	size_t n = 0, cap = 0;
	int s;
	while ((s = db_step(st)) == DB_ROW) {
		owner = db_column_int64(st, 0);
		size = db_column_int64(st, 1);
		if (db_column_type(st, 2) == DB_NULL)
			continue;
		if (n == cap)
			ids = kd_realloc(ids, (cap = cap ? cap * 2 : 32) * sizeof *ids);
		ids[n++] = db_column_int64(st, 2);
	}
	db_finalize(st);
	if (s != DB_DONE) {
		free(ids);
		snprintf(why, whylen, "cannot read the upload batch: %s", db_errmsg(db));
		return db_err_code(s);
	}
	if (!owner || owner != u->id) {
		free(ids);
		snprintf(why, whylen, owner ? "the batch is another person's" : "the batch is gone");
		return KD_ENOTFOUND;
	}
	/* The clips as the uploader sees them now (deleted ones are left out). */
	struct cat_clip *clips = kd_calloc(n ? n : 1, sizeof *clips);
	size_t have = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		int rc = cat_clip_get(db, u, ids[i], &clips[have]);
		if (rc == KD_ENOTFOUND)
			continue;
		if (rc < 0) {
			for (size_t k = 0; k < have; k++)
				cat_clip_free(&clips[k]);
			free(clips);
			free(ids);
			snprintf(why, whylen, "cannot read the batch's clips");
			return rc;
		}
		failed += clips[have].status == CAT_FAILED;
		have++;
	}
	free(ids);
	if (!have) {
		free(clips);
		snprintf(why, whylen, "the batch's clips are gone");
		return KD_ENOTFOUND;
	}
	char *subject;
	if (failed)
		subject = kd_asprintf("%zu of %zu clip%s could not be processed", failed, have,
		                      have == 1 ? "" : "s");
	else
		subject = kd_asprintf(have == 1 ? "Your clip is ready" : "Your %zu clips are ready",
		                      have);
	draft_open(d, subject, out->to_name);
	if (failed)
		draft_para(d, "Your upload is processed: %zu clip%s ready, %zu could not be processed. "
		     "Each failed clip says why below; fix the file and upload it again.",
		     have - failed, have - failed == 1 ? " is" : "s are", failed);
	else
		draft_para(d, "Your upload is processed: %s ready to watch.",
		     have == 1 ? "its clip is" : "all its clips are");
	int64_t missing = size > (int64_t)have ? size - (int64_t)have : 0;
	if (missing)
		draft_para(d, "%lld file%s of this upload never arrived. Run kindling upload on the same "
		     "files again: what the server has is not sent twice.", (long long)missing,
		     missing == 1 ? "" : "s");
	size_t shown = 0;
	for (int pass = 0; pass < 2; pass++) {
		bool want_failed = pass == 0;
		size_t count = want_failed ? failed : have - failed;
		if (!count)
			continue;
		draft_para(d, want_failed ? "Could not be processed:" : "Ready:");
		draft_list_begin(d);
		for (size_t i = 0; i < have; i++) {
			if ((clips[i].status == CAT_FAILED) != want_failed || shown >= LIST_MAX)
				continue;
			char path[48];
			snprintf(path, sizeof path, "/clips/%lld", (long long)clips[i].id);
			const char *file = clips[i].original_name && *clips[i].original_name
			                   ? clips[i].original_name : NULL;
			char *name = file && strcmp(file, clips[i].title)
			             ? kd_asprintf("%s (%s)", clips[i].title, file)
			             : kd_strdup(clips[i].title);
			draft_item(d, name, path, want_failed ? (clips[i].error ? clips[i].error
			                                   : "no reason was recorded") : NULL);
			free(name);
			shown++;
		}
		draft_list_end(d);
	}
	if (have > shown)
		draft_para(d, "... and %zu more.", have - shown);
	draft_close(d, "you uploaded these clips", unsub);
	for (size_t i = 0; i < have; i++)
		cat_clip_free(&clips[i]);
	free(clips);
	return draft_finish(d, out, subject, why, whylen);
}

/* ------------------------------------------------------------ entry */

int mail_compose(struct kd_db *db, const struct outbox_item *it, const char *public_url,
                 const char *unsubscribe_url, struct mail_message *out, char *why,
                 size_t whylen)
{
	memset(out, 0, sizeof *out);
	if (whylen)
		why[0] = '\0';
	struct kd_user u;
	int rc = recipient(db, it->user_id, &u, out, why, whylen);
	if (rc < 0) {
		mail_message_free(out);
		return rc;
	}
	struct draft d;
	draft_init(&d, public_url ? public_url : "");
	const char *unsub = unsubscribe_url ? unsubscribe_url : "";
	switch (it->kind) {
	case MAIL_VISIT_REQUESTED:
		rc = compose_requested(db, it, &u, &d, out, unsub, why, whylen);
		break;
	case MAIL_VISIT_ANSWERED:
		rc = compose_answered(db, it, &u, &d, out, unsub, why, whylen);
		break;
	case MAIL_VISIT_REMINDER:
		rc = compose_reminder(db, it, &u, &d, out, unsub, why, whylen);
		break;
	case MAIL_PROCESSING:
		rc = compose_processing(db, it, &u, &d, out, unsub, why, whylen);
		break;
	case MAIL_DIGEST:
		rc = compose_digest(db, it, &u, &d, out, unsub, why, whylen);
		break;
	default:
		snprintf(why, whylen, "unknown kind of mail %d", (int)it->kind);
		rc = KD_ENOTFOUND;
	}
	draft_release(&d);
	if (rc < 0)
		mail_message_free(out);
	return rc;
}
