/* api_governance.c - what a privacy officer answers for, per clip:
 * /api/v1/clips/{id}/blur (regions blurred in everything served),
 * /api/v1/clips/{id}/consent (the consent record and its history) and
 * /api/v1/clips/{id}/hold (legal hold, admins). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "kindling/audit.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/jobs.h"

/* The clip of the path if the user may edit it; else answered. */
static bool editable(struct request *req, struct cat_clip *c, enum MHD_Result *answered)
{
	int rc = cat_clip_get(req->db, &req->user, req->ids[0], c);
	if (rc < 0) {
		*answered = rc == KD_ENOTFOUND
		                    ? respond_error(req, MHD_HTTP_NOT_FOUND,
		                                    "no clip with id %lld (it may have been deleted, or "
		                                    "you may not have access to it)",
		                                    (long long)req->ids[0])
		                    : respond_kd_error(req, rc, NULL);
		return false;
	}
	if (!cat_clip_may_edit(&req->user, c)) {
		cat_clip_free(c);
		*answered = respond_error(req, MHD_HTTP_FORBIDDEN,
		                          "only an admin, the uploader, or a coach of the clip's school "
		                          "may see or change what of this clip is blurred and its "
		                          "consent record");
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------- blur */

static enum MHD_Result respond_blur(struct request *req, const struct cat_clip *c)
{
	struct cat_blur_region *r;
	size_t n;
	int64_t rev;
	int rc = cat_blur_list(req->db, c->id, &r, &n, &rev);
	if (rc < 0)
		return respond_kd_error(req, rc, NULL);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_pack("{sf sf sf sf sf sf ss ss}", "from_s", r[i].from_s, "to_s",
		                      r[i].to_s, "x", r[i].x, "y", r[i].y, "w", r[i].w, "h", r[i].h,
		                      "source", r[i].source, "state", r[i].state);
		json_object_set_new(o, "confidence",
		                    r[i].confidence >= 0 ? json_real(r[i].confidence) : json_null());
		json_array_append_new(list, o);
	}
	free(r);
	/* pending: the files being served are not yet made with these */
	return respond_json(req, MHD_HTTP_OK,
	                    json_pack("{sI sI sb so}", "clip_id", (json_int_t)c->id, "rev",
	                              (json_int_t)rev, "pending", c->media_stale, "regions", list));
}

enum MHD_Result api_clip_blur_get(struct request *req)
{
	struct cat_clip c;
	enum MHD_Result answered;
	if (!editable(req, &c, &answered))
		return answered;
	enum MHD_Result r = respond_blur(req, &c);
	cat_clip_free(&c);
	return r;
}

/* One region of the body, or KD_EINVAL with err. */
static int region_from_json(json_t *v, size_t i, struct cat_blur_region *r, char *err,
                            size_t errlen)
{
	static const char *const keys[] = {"from_s", "to_s", "x", "y", "w", "h"};
	double *to[] = {&r->from_s, &r->to_s, &r->x, &r->y, &r->w, &r->h};
	memset(r, 0, sizeof *r);
	if (!json_is_object(v)) {
		snprintf(err, errlen, "region %zu must be an object {\"from_s\", \"to_s\", \"x\", "
		         "\"y\", \"w\", \"h\"}", i + 1);
		return KD_EINVAL;
	}
	for (size_t k = 0; k < 6; k++) {
		json_t *n = json_object_get(v, keys[k]);
		if (!json_is_number(n)) {
			snprintf(err, errlen, "region %zu needs %s as a number (seconds for from_s and "
			         "to_s, fractions of the picture for x, y, w, h)", i + 1, keys[k]);
			return KD_EINVAL;
		}
		*to[k] = json_number_value(n);
	}
	return 0;
}

/* clip_blur_save: one way to save regions, shared by PUT .../blur and the
 * clip page's Blur form (pages_clip_governance.c). */
int clip_blur_save(struct request *req, const struct cat_clip *c, const struct cat_blur_region *r,
                   size_t n, char *err, size_t errlen)
{
	int64_t rev = 0;
	int rc = cat_blur_set(req->db, c->id, r, n, req->user.name, &rev, err, errlen);
	if (rc < 0)
		return rc;
	char detail[64];
	snprintf(detail, sizeof detail, "%zu region%s (revision %lld)", n, n == 1 ? "" : "s",
	         (long long)rev);
	req_audit(req, AUDIT_BLUR, c->id, c->title, detail);
	/* every file is made again with the new regions; until then none is
	 * served (media_files.c) */
	if ((rc = jobs_enqueue(req->db, c->id)) < 0) {
		snprintf(err, errlen, "the regions are saved but processing could not be queued; try "
		         "again");
		return rc;
	}
	if (req->srv->runner)
		jobs_runner_wake(req->srv->runner);
	return 0;
}

enum MHD_Result api_clip_blur_put(struct request *req)
{
	struct cat_clip c;
	enum MHD_Result answered;
	if (!editable(req, &c, &answered))
		return answered;
	json_error_t jerr;
	json_t *body = json_loadb(req->body.data ? req->body.data : "", req->body.len, 0, &jerr);
	json_t *list = json_is_object(body) ? json_object_get(body, "regions") : body;
	char err[KD_ERRMSG_MAX] = "";
	int rc = 0;
	if (!json_is_array(list)) {
		snprintf(err, sizeof err, "send the regions to blur as a JSON array of {\"from_s\", "
		         "\"to_s\", \"x\", \"y\", \"w\", \"h\"} ([] blurs nothing)");
		rc = KD_EINVAL;
	} else if (json_array_size(list) > CAT_BLUR_MAX) {
		snprintf(err, sizeof err, "%zu regions is more than a clip may have (%d)",
		         json_array_size(list), CAT_BLUR_MAX);
		rc = KD_EINVAL;
	}
	size_t n = rc == 0 ? json_array_size(list) : 0;
	struct cat_blur_region *r = calloc(n ? n : 1, sizeof *r);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = region_from_json(json_array_get(list, i), i, &r[i], err, sizeof err);
	json_decref(body);
	if (rc == 0)
		rc = clip_blur_save(req, &c, r, n, err, sizeof err);
	free(r);
	cat_clip_free(&c);
	if (rc == KD_EINVAL || rc == KD_ENOTFOUND)
		return respond_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	/* answer as GET would now, with pending true */
	struct kd_user editor = req->user;
	editor.role = KD_ROLE_ADMIN;
	if ((rc = cat_clip_get(req->db, &editor, req->ids[0], &c)) < 0)
		return respond_kd_error(req, rc, NULL);
	enum MHD_Result res = respond_blur(req, &c);
	cat_clip_free(&c);
	return res;
}

/* ---------------------------------------------------------------- consent */

enum MHD_Result api_clip_consent_get(struct request *req)
{
	struct cat_clip c;
	enum MHD_Result answered;
	if (!editable(req, &c, &answered))
		return answered;
	struct cat_consent_event *ev;
	size_t n;
	int rc = cat_consent_history(req->db, c.id, &ev, &n);
	if (rc < 0) {
		cat_clip_free(&c);
		return respond_kd_error(req, rc, NULL);
	}
	json_t *history = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(history,
		                      json_pack("{ss so ss ss ss}", "consent", ev[i].consent, "basis",
		                                json_str_or_null(ev[i].basis), "reason",
		                                ev[i].reason ? ev[i].reason : "", "by",
		                                ev[i].by ? ev[i].by : "", "at", ev[i].at));
	cat_consent_events_free(ev, n);
	json_t *o = json_pack("{sI ss so so so so}", "clip_id", (json_int_t)c.id, "consent",
	                      c.consent, "consent_basis", json_str_or_null(c.consent_basis),
	                      "consent_by", json_str_or_null(c.consent_by), "consent_at",
	                      json_str_or_null(c.consent_at), "history", history);
	cat_clip_free(&c);
	return respond_json(req, MHD_HTTP_OK, o);
}

/* ---------------------------------------------------------------- legal hold */

/* clip_hold_save: shared by PUT/DELETE .../hold and the clip page's hold
 * forms (pages_clip_governance.c). */
int clip_hold_save(struct request *req, const struct cat_clip *c, bool on, const char *reason,
                   char *err, size_t errlen)
{
	int rc = cat_clip_hold(req->db, c->id, on, req->user.name, reason, err, errlen);
	if (rc == 0)
		req_audit(req, AUDIT_HOLD, c->id, c->title, on ? reason : "lifted");
	return rc;
}

static enum MHD_Result hold(struct request *req, bool on)
{
	const char *reason = NULL;
	json_t *body = NULL;
	if (on) {
		enum MHD_Result result;
		if (!(body = req_json_body(req, &result)))
			return result;
		reason = json_string_value(json_object_get(body, "reason"));
	}
	struct cat_clip c;
	struct kd_user admin = req->user; /* the route is admins only */
	int rc = cat_clip_get(req->db, &admin, req->ids[0], &c);
	bool got = rc == 0;
	char err[KD_ERRMSG_MAX] = "";
	if (rc == 0)
		rc = clip_hold_save(req, &c, on, reason, err, sizeof err);
	json_decref(body);
	if (got)
		cat_clip_free(&c);
	if (rc == KD_ENOTFOUND)
		return respond_error(req, MHD_HTTP_NOT_FOUND, "no clip with id %lld",
		                     (long long)req->ids[0]);
	if (rc == KD_EINVAL)
		return respond_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	struct cat_hold h;
	if ((rc = cat_clip_hold_get(req->db, req->ids[0], &h)) < 0)
		return respond_kd_error(req, rc, NULL);
	json_t *o = json_pack("{sI sb so so so}", "clip_id", (json_int_t)req->ids[0], "legal_hold",
	                      h.at != NULL, "since", json_str_or_null(h.at), "by",
	                      json_str_or_null(h.by), "reason", json_str_or_null(h.reason));
	cat_hold_free(&h);
	return respond_json(req, MHD_HTTP_OK, o);
}

enum MHD_Result api_clip_hold_put(struct request *req)
{
	return hold(req, true);
}

enum MHD_Result api_clip_hold_delete(struct request *req)
{
	return hold(req, false);
}
