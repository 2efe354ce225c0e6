/* api_visits.c - /api/v1/visits (ask, answer, list, .ics) and clip views. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "kindling/err.h"
#include "kindling/visits.h"

/* The visit object of the API. */
static json_t *visit_json(const struct visit *v)
{
	json_t *dates = json_array();
	for (size_t i = 0; i < v->n_dates; i++)
		json_array_append_new(dates, json_string(v->dates[i]));
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(v->id));
	json_object_set_new(o, "clip_id", v->clip_id ? json_integer(v->clip_id) : json_null());
	json_object_set_new(o, "clip_title", json_str_or_null(v->clip_title));
	json_object_set_new(o, "teacher", json_str_or_null(v->clip_teacher));
	json_object_set_new(o, "practice", json_str_or_null(v->practice));
	json_object_set_new(o, "host_school", json_str_or_null(v->host_school));
	json_object_set_new(o, "host_school_name", json_str_or_null(v->host_school_name));
	json_object_set_new(o, "visitor_school", json_str_or_null(v->visitor_school));
	json_object_set_new(o, "requester", json_str_or_null(v->requester));
	json_object_set_new(o, "proposed_dates", dates);
	json_object_set_new(o, "date", json_str_or_null(v->date));
	json_object_set_new(o, "note", json_str_or_null(v->note));
	json_object_set_new(o, "answer_note", json_str_or_null(v->answer_note));
	json_object_set_new(o, "reflection", json_str_or_null(v->reflection));
	json_object_set_new(o, "status", json_str_or_null(v->status));
	json_object_set_new(o, "created_at", json_str_or_null(v->created_at));
	json_object_set_new(o, "updated_at", json_str_or_null(v->updated_at));
	return o;
}

static enum MHD_Result answer_visit(struct request *req, unsigned status, int64_t id)
{
	struct visit v;
	int rc = visit_get(req->db, &req->user, id, &v);
	if (rc < 0)
		return respond_kd_error(req, rc, NULL);
	json_t *body = visit_json(&v);
	visit_free(&v);
	return respond_json(req, status, body);
}

enum MHD_Result api_visit_create(struct request *req)
{
	enum MHD_Result result;
	json_t *body = req_json_body(req, &result);
	if (!body)
		return result;
	char err[KD_ERRMSG_MAX] = "";
	const char *dates[VISIT_DATES_MAX + 1];
	size_t n = 0;
	json_t *clip = json_object_get(body, "clip_id"), *jd = json_object_get(body, "dates");
	json_t *note = json_object_get(body, "note");
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v) {
		if (strcmp(key, "clip_id") && strcmp(key, "dates") && strcmp(key, "note")) {
			json_decref(body);
			return respond_error(req, MHD_HTTP_BAD_REQUEST,
			                     "unknown field '%.40s'; a visit request has clip_id, dates "
			                     "and note", key);
		}
	}
	if (!json_is_integer(clip) || json_integer_value(clip) <= 0) {
		json_decref(body);
		return respond_error(req, MHD_HTTP_BAD_REQUEST,
		                     "clip_id must be the id of the clip whose classroom you want to "
		                     "visit");
	}
	if (note && !json_is_string(note)) {
		json_decref(body);
		return respond_error(req, MHD_HTTP_BAD_REQUEST, "note must be a string");
	}
	if (!json_is_array(jd) || json_array_size(jd) < 1 ||
	    json_array_size(jd) > VISIT_DATES_MAX) {
		json_decref(body);
		return respond_error(req, MHD_HTTP_BAD_REQUEST,
		                     "dates must be one to three proposed dates, as [\"YYYY-MM-DD\", "
		                     "...]");
	}
	for (n = 0; n < json_array_size(jd); n++)
		if (!(dates[n] = json_string_value(json_array_get(jd, n)))) {
			json_decref(body);
			return respond_error(req, MHD_HTTP_BAD_REQUEST,
			                     "each proposed date must be a string YYYY-MM-DD");
		}
	int64_t id = 0;
	int rc = visit_create(req->db, &req->user, json_integer_value(clip), dates, n,
	                      json_string_value(note), &id, err, sizeof err);
	json_decref(body);
	if (rc == KD_ENOTFOUND && strstr(err, "no clip"))
		return respond_error(req, MHD_HTTP_NOT_FOUND, "%s", err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	return answer_visit(req, MHD_HTTP_CREATED, id);
}

enum MHD_Result api_visit_patch(struct request *req)
{
	enum MHD_Result result;
	json_t *body = req_json_body(req, &result);
	if (!body)
		return result;
	const char *fields[4] = {NULL};
	static const char *const names[4] = {"status", "date", "note", "reflection"};
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v) {
		size_t i;
		for (i = 0; i < 4; i++)
			if (!strcmp(key, names[i]))
				break;
		if (i == 4 || (!json_is_string(v) && !json_is_null(v))) {
			json_decref(body);
			return respond_error(req, MHD_HTTP_BAD_REQUEST,
			                     i == 4 ? "unknown field: a visit takes status, date, note "
			                              "and reflection"
			                            : "status, date, note and reflection are strings");
		}
		fields[i] = json_string_value(v);
	}
	char err[KD_ERRMSG_MAX] = "";
	int rc = visit_update(req->db, &req->user, req->ids[0], fields[0], fields[1], fields[2],
	                      fields[3], err, sizeof err);
	bool answered = fields[0] != NULL; /* a new status, not a note alone */
	json_decref(body);
	if (rc == KD_EEXIST)
		return respond_error(req, MHD_HTTP_CONFLICT, "%s", err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	if (answered) /* issue 14: the audit trail */
		req_audit_visit_answer(req, req->ids[0]);
	return answer_visit(req, MHD_HTTP_OK, req->ids[0]);
}

enum MHD_Result api_visits_list(struct request *req)
{
	const char *school = req_arg(req, "school"), *mine = req_arg(req, "mine");
	bool only_mine = mine && (!strcmp(mine, "1") || !strcmp(mine, "true"));
	int64_t page, per_page;
	if (req_int_arg(req, "page", 1, 1, 1000000, &page) < 0 ||
	    req_int_arg(req, "per_page", 100, 1, VISITS_PER_PAGE_MAX, &per_page) < 0)
		return respond_error(req, MHD_HTTP_BAD_REQUEST,
		                     "page must be a whole number from 1, and per_page from 1 to %d",
		                     VISITS_PER_PAGE_MAX);
	struct visit *list;
	size_t n;
	int64_t total;
	char err[KD_ERRMSG_MAX] = "";
	int rc = visit_list(req->db, &req->user, school, only_mine, page, per_page, &list, &n,
	                    &total, err, sizeof err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, visit_json(&list[i]));
	visits_free(list, n);
	return respond_json(req, MHD_HTTP_OK,
	                    json_pack("{sI sI sI so}", "total", (json_int_t)total, "page",
	                              (json_int_t)page, "per_page", (json_int_t)per_page, "visits",
	                              a));
}

/* The visit of the path, if the user may see it; otherwise answers 404
 * (or the error) into *answered and returns false. */
static bool load_visible(struct request *req, struct visit *v, enum MHD_Result *answered)
{
	int rc = visit_get(req->db, &req->user, req->ids[0], v);
	if (rc == 0 && !visit_may_see(req->db, &req->user, v)) {
		visit_free(v);
		rc = KD_ENOTFOUND;
	}
	if (rc == KD_ENOTFOUND)
		*answered = respond_error(req, MHD_HTTP_NOT_FOUND,
		                          "no visit with id %lld that you can see",
		                          (long long)req->ids[0]);
	else if (rc < 0)
		*answered = respond_kd_error(req, rc, NULL);
	return rc == 0;
}

enum MHD_Result api_visit_get(struct request *req)
{
	struct visit v;
	enum MHD_Result answered;
	if (!load_visible(req, &v, &answered))
		return answered;
	json_t *body = visit_json(&v);
	visit_free(&v);
	return respond_json(req, MHD_HTTP_OK, body);
}

enum MHD_Result api_visit_ics(struct request *req)
{
	struct visit v;
	enum MHD_Result answered;
	if (!load_visible(req, &v, &answered))
		return answered;
	if (strcmp(v.status, "accepted") != 0 && strcmp(v.status, "done") != 0) {
		enum MHD_Result r = respond_error(req, MHD_HTTP_CONFLICT,
		                                  "this visit is %s: a calendar event exists once the "
		                                  "host has accepted it with a date",
		                                  v.status);
		visit_free(&v);
		return r;
	}
	char stamp[32], disposition[96];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	char *ics = visit_ics(&v, stamp);
	snprintf(disposition, sizeof disposition, "attachment; filename=\"visit-%lld.ics\"",
	         (long long)v.id);
	visit_free(&v);
	if (!ics)
		return respond_error(req, MHD_HTTP_CONFLICT, "this visit has no date yet");
	return respond_text(req, MHD_HTTP_OK, "text/calendar; charset=utf-8", disposition, ics);
}

enum MHD_Result api_clip_view(struct request *req)
{
	int rc = view_record(req->db, &req->user, req->ids[0], NULL);
	if (rc == KD_ENOTFOUND)
		return respond_error(req, MHD_HTTP_NOT_FOUND,
		                     "no clip with id %lld (it may have been deleted, or you may not "
		                     "have access to it)",
		                     (long long)req->ids[0]);
	if (rc < 0)
		return respond_kd_error(req, rc, NULL);
	return respond_json(req, MHD_HTTP_NO_CONTENT, NULL);
}
