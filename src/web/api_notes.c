/* api_notes.c - the notes on a clip: /api/v1/clips/{id}/notes (list in
 * pages, add) and /api/v1/notes/{id} (delete), under the same rules as the
 * clip page (kindling/comments.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "kindling/comments.h"
#include "kindling/err.h"

static json_t *note_json(const struct comment *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "clip_id", json_integer(c->clip_id));
	json_object_set_new(o, "at_s", c->has_at ? json_real(c->at_s) : json_null());
	json_object_set_new(o, "author", json_str_or_null(c->author));
	json_object_set_new(o, "body", json_string(c->body));
	json_object_set_new(o, "created_at", json_string(c->created_at));
	json_object_set_new(o, "may_delete", json_boolean(c->may_delete));
	return o;
}

static enum MHD_Result no_clip(struct request *req)
{
	return respond_error(req, MHD_HTTP_NOT_FOUND,
	                     "no clip with id %lld, or you may not have access to it",
	                     (long long)req->ids[0]);
}

enum MHD_Result api_notes_list(struct request *req)
{
	int64_t page;
	if (req_int_arg(req, "page", 1, 1, 1000000, &page) < 0)
		return respond_error(req, MHD_HTTP_BAD_REQUEST,
		                     "page must be a whole number from 1 to 1000000");
	struct comment *notes;
	size_t n;
	int64_t total;
	int rc = comments_list(req->db, &req->user, req->ids[0], page, &notes, &n, &total);
	if (rc == KD_ENOTFOUND)
		return no_clip(req);
	if (rc < 0)
		return respond_kd_error(req, rc, NULL);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, note_json(&notes[i]));
	comments_free(notes, n);
	return respond_json(req, MHD_HTTP_OK,
	                    json_pack("{sI sI sI so}", "total", (json_int_t)total, "page",
	                              (json_int_t)page, "per_page", (json_int_t)COMMENTS_PER_PAGE,
	                              "notes", a));
}

enum MHD_Result api_note_add(struct request *req)
{
	enum MHD_Result result;
	json_t *body = req_json_body(req, &result);
	if (!body)
		return result;
	const char *text = json_string_value(json_object_get(body, "body"));
	json_t *at = json_object_get(body, "at_s");
	double at_s = json_number_value(at);
	char err[KD_ERRMSG_MAX] = "";
	int rc = KD_EINVAL;
	int64_t id = 0;
	if (!text)
		snprintf(err, sizeof err, "send the note as {\"body\": \"...\"}, with \"at_s\" "
		         "(seconds into the clip) when it is about a moment");
	else if (at && !json_is_null(at) && !json_is_number(at))
		snprintf(err, sizeof err, "at_s must be a number of seconds, or null");
	else
		rc = comments_add(req->db, &req->user, req->ids[0],
		                  at && json_is_number(at) ? &at_s : NULL, text,
		                  req->srv->cfg->notes_per_day, &id, err, sizeof err);
	json_decref(body);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	struct comment *notes;
	size_t n;
	int64_t total, page = 1;
	comments_page_of(req->db, req->ids[0], id, &page);
	if ((rc = comments_list(req->db, &req->user, req->ids[0], page, &notes, &n, &total)) < 0)
		return respond_kd_error(req, rc, NULL);
	json_t *made = NULL;
	for (size_t i = 0; i < n && !made; i++)
		if (notes[i].id == id)
			made = note_json(&notes[i]);
	comments_free(notes, n);
	return made ? respond_json(req, MHD_HTTP_CREATED, made) : no_clip(req);
}

enum MHD_Result api_note_delete(struct request *req)
{
	int rc = comments_delete(req->db, &req->user, 0, req->ids[0]);
	if (rc == KD_ENOTFOUND)
		return respond_error(req, MHD_HTTP_NOT_FOUND,
		                     "no note with id %lld, or you may not have access to it",
		                     (long long)req->ids[0]);
	if (rc == KD_EPERM)
		return respond_error(req, MHD_HTTP_FORBIDDEN,
		                     "a note can be deleted by whoever wrote it, by those who may edit "
		                     "its clip, and by admins");
	if (rc < 0)
		return respond_kd_error(req, rc, NULL);
	return respond_json(req, MHD_HTTP_NO_CONTENT, NULL);
}
