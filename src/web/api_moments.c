/* api_moments.c - moments over JSON (kindling/moments.h): a clip's
 * (/api/v1/clips/{id}/moments: list, add), one (/api/v1/moments/{id}:
 * change, remove) and those across schools (/api/v1/moments).  Owner:
 * issue 15, H1.  The catalogue decides who may; this file turns bodies
 * into edits and answers into JSON. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "kindling/err.h"
#include "kindling/moments.h"

static const char FIELDS[] = "start_s, end_s, practice, title";

static json_t *moment_json(const struct cat_moment *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(m->id));
	json_object_set_new(o, "clip_id", json_integer(m->clip_id));
	json_object_set_new(o, "start_s", json_real(m->start_s));
	json_object_set_new(o, "end_s", json_real(m->end_s));
	json_object_set_new(o, "practice", json_str_or_null(m->practice));
	json_object_set_new(o, "practice_name", json_str_or_null(m->practice_name));
	json_object_set_new(o, "title", json_str_or_null(m->title));
	json_object_set_new(o, "school", json_str_or_null(m->school));
	json_object_set_new(o, "school_name", json_str_or_null(m->school_name));
	json_object_set_new(o, "clip_title", json_str_or_null(m->clip_title));
	return o;
}

static enum MHD_Result no_clip(struct request *req)
{
	return respond_error(req, MHD_HTTP_NOT_FOUND,
	                     "no clip with id %lld, or you may not have access to it",
	                     (long long)req->ids[0]);
}

static enum MHD_Result no_moment(struct request *req)
{
	return respond_error(req, MHD_HTTP_NOT_FOUND,
	                     "no moment with id %lld, or you may not have access to it",
	                     (long long)req->ids[0]);
}

/* A catalogue failure as an answer: a missing clip or moment (err empty)
 * is 404, a missing practice (err says which are known) a bad request. */
static enum MHD_Result failed(struct request *req, int rc, const char *err, bool about_clip)
{
	if (rc == KD_ENOTFOUND && !err[0])
		return about_clip ? no_clip(req) : no_moment(req);
	if (rc == KD_ENOTFOUND)
		return respond_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	return respond_kd_error(req, rc, err);
}

/* A body into an edit: every field known and of its type, and for a new
 * moment every field there.  Strings point into body. */
static int edit_from_json(json_t *body, bool all, struct cat_moment_edit *e, char *err,
                          size_t errlen)
{
	e->start_s = e->end_s = -1;
	e->practice = e->title = NULL;
	const char *k;
	json_t *v;
	size_t given = 0;
	json_object_foreach(body, k, v) {
		given++;
		if (!strcmp(k, "start_s") || !strcmp(k, "end_s")) {
			if (!json_is_number(v)) {
				snprintf(err, errlen, "%s must be a number of seconds into the clip, such "
				         "as 45 or 130.5", k);
				return KD_EINVAL;
			}
			double s = json_number_value(v);
			if (s < 0) {
				snprintf(err, errlen, "%s must be 0 or more seconds", k);
				return KD_EINVAL;
			}
			*(!strcmp(k, "start_s") ? &e->start_s : &e->end_s) = s;
		} else if (!strcmp(k, "practice") || !strcmp(k, "title")) {
			if (!json_is_string(v)) {
				snprintf(err, errlen, "%s must be a string%s", k,
				         !strcmp(k, "practice") ? ": the practice's slug, such as "
				                                  "\"station-rotation\""
				                                : "");
				return KD_EINVAL;
			}
			*(!strcmp(k, "practice") ? &e->practice : &e->title) = json_string_value(v);
		} else {
			snprintf(err, errlen, "unknown field '%.40s'; a moment has %s", k, FIELDS);
			return KD_EINVAL;
		}
	}
	if (all) {
		const char *missing = e->start_s < 0 ? "start_s" : e->end_s < 0 ? "end_s"
		                      : !e->practice ? "practice" : !e->title ? "title" : NULL;
		if (missing) {
			snprintf(err, errlen, "the moment has no %s: send {\"start_s\": 45, \"end_s\": "
			         "130, \"practice\": \"station-rotation\", \"title\": \"Groups rotate\"}",
			         missing);
			return KD_EINVAL;
		}
	} else if (!given) {
		snprintf(err, errlen, "nothing to change: send one or more of %s", FIELDS);
		return KD_EINVAL;
	}
	return 0;
}

/* The moment as saved, as the answer. */
static enum MHD_Result respond_moment(struct request *req, int64_t id, unsigned status)
{
	struct cat_moment m;
	int rc = cat_moment_get(req->db, &req->user, id, &m);
	if (rc < 0)
		return rc == KD_ENOTFOUND ? no_moment(req) : respond_kd_error(req, rc, NULL);
	enum MHD_Result r = respond_json(req, status, moment_json(&m));
	cat_moment_free(&m);
	return r;
}

enum MHD_Result api_clip_moments(struct request *req)
{
	struct cat_moment *list;
	size_t n;
	int rc = cat_moments_of_clip(req->db, &req->user, req->ids[0], &list, &n);
	if (rc == KD_ENOTFOUND)
		return no_clip(req);
	if (rc < 0)
		return respond_kd_error(req, rc, NULL);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, moment_json(&list[i]));
	cat_moments_free(list, n);
	return respond_json(req, MHD_HTTP_OK, json_pack("{so}", "moments", a));
}

enum MHD_Result api_moment_add(struct request *req)
{
	enum MHD_Result result;
	json_t *body = req_json_body(req, &result);
	if (!body)
		return result;
	struct cat_moment_edit e;
	char err[KD_ERRMSG_MAX] = "";
	int64_t id = 0;
	int rc = edit_from_json(body, true, &e, err, sizeof err);
	if (rc == 0)
		rc = cat_moment_add(req->db, &req->user, req->ids[0], &e, &id, err, sizeof err);
	json_decref(body);
	if (rc < 0)
		return failed(req, rc, err, true);
	return respond_moment(req, id, MHD_HTTP_CREATED);
}

enum MHD_Result api_moment_patch(struct request *req)
{
	enum MHD_Result result;
	json_t *body = req_json_body(req, &result);
	if (!body)
		return result;
	struct cat_moment_edit e;
	char err[KD_ERRMSG_MAX] = "";
	int rc = edit_from_json(body, false, &e, err, sizeof err);
	if (rc == 0)
		rc = cat_moment_update(req->db, &req->user, req->ids[0], &e, err, sizeof err);
	json_decref(body);
	if (rc < 0)
		return failed(req, rc, err, false);
	return respond_moment(req, req->ids[0], MHD_HTTP_OK);
}

enum MHD_Result api_moment_delete(struct request *req)
{
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_moment_delete(req->db, &req->user, req->ids[0], err, sizeof err);
	if (rc < 0)
		return failed(req, rc, err, false);
	return respond_json(req, MHD_HTTP_NO_CONTENT, NULL);
}

enum MHD_Result api_moments_list(struct request *req)
{
	struct cat_moment_query q = {.practice = req_arg(req, "practice"),
	                             .school = req_arg(req, "school")};
	if (req_int_arg(req, "page", 1, 1, 1000000, &q.page) < 0)
		return respond_error(req, MHD_HTTP_BAD_REQUEST,
		                     "page must be a whole number from 1 to 1000000");
	if (req_int_arg(req, "per_page", 20, 1, MOMENTS_PER_PAGE_MAX, &q.per_page) < 0)
		return respond_error(req, MHD_HTTP_BAD_REQUEST,
		                     "per_page must be a whole number from 1 to %d",
		                     MOMENTS_PER_PAGE_MAX);
	struct cat_moment_page p;
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_moments_list(req->db, &req->user, &q, &p, err, sizeof err);
	if (rc == KD_ENOTFOUND)
		return respond_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	json_t *a = json_array();
	for (size_t i = 0; i < p.n; i++)
		json_array_append_new(a, moment_json(&p.moments[i]));
	json_t *o = json_pack("{sI sI sI so}", "total", (json_int_t)p.total, "page",
	                      (json_int_t)q.page, "per_page", (json_int_t)q.per_page, "moments", a);
	cat_moment_page_free(&p);
	return respond_json(req, MHD_HTTP_OK, o);
}
