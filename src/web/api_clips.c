/* api_clips.c - /api/v1/clips: list, detail, edit, delete. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "media_files.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/log.h"
#include "kindling/paths.h"

static json_t *string_array(char **items, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(items[i]));
	return a;
}

static json_t *file_url(const struct cat_clip *c, enum kd_media_file f)
{
	if (c->status != CAT_READY || (f == KD_FILE_CAPTIONS && !c->has_captions))
		return json_null();
	char url[96];
	return json_string(media_url(c->id, f, url, sizeof url));
}

/* The clip object of the API (PRODUCT.md, "GET /api/v1/clips/{id}"). */
static json_t *clip_json(const struct cat_clip *c)
{
	const struct cat_media *m = &c->media;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "title", json_string(c->title));
	json_object_set_new(o, "description", json_string(c->description));
	json_object_set_new(o, "school", json_string(c->school));
	json_object_set_new(o, "school_name", json_string(c->school_name));
	json_object_set_new(o, "practices", string_array(c->practices, c->n_practices));
	json_object_set_new(o, "tags", string_array(c->tags, c->n_tags));
	json_object_set_new(o, "teacher", json_string(c->teacher));
	json_object_set_new(o, "grade", json_string(c->grade));
	json_object_set_new(o, "subject", json_string(c->subject));
	json_object_set_new(o, "recorded_on", json_str_or_null(c->recorded_on));
	json_object_set_new(o, "uploaded_at", json_string(c->uploaded_at));
	json_object_set_new(o, "uploader", json_str_or_null(c->uploader));
	json_object_set_new(o, "status", json_string(cat_status_name(c->status)));
	json_object_set_new(o, "error", json_str_or_null(c->error));
	json_object_set_new(o, "consent", json_string(c->consent));
	json_object_set_new(o, "visibility", json_string(c->visibility));
	json_object_set_new(o, "duration_s", m->probed ? json_real(m->duration_s) : json_null());
	json_object_set_new(o, "width", m->probed ? json_integer(m->width) : json_null());
	json_object_set_new(o, "height", m->probed ? json_integer(m->height) : json_null());
	json_object_set_new(o, "rotation", m->probed ? json_integer(m->rotation) : json_null());
	json_object_set_new(o, "video_codec", json_str_or_null(m->video_codec));
	json_object_set_new(o, "audio_codec", json_str_or_null(m->audio_codec));
	json_object_set_new(o, "fps", m->probed ? json_real(m->fps) : json_null());
	json_object_set_new(o, "bit_rate", m->probed ? json_integer(m->bit_rate) : json_null());
	json_object_set_new(o, "size_bytes", m->probed ? json_integer(m->size_bytes) : json_null());
	json_object_set_new(o, "container", json_str_or_null(m->container));
	json_object_set_new(o, "sha256", json_str_or_null(c->sha256));
	json_object_set_new(o, "thumbnail_url", file_url(c, KD_FILE_THUMBNAIL));
	json_object_set_new(o, "poster_url", file_url(c, KD_FILE_POSTER));
	json_object_set_new(o, "video_url", file_url(c, KD_FILE_VIDEO));
	json_object_set_new(o, "storyboard_url", file_url(c, KD_FILE_STORYBOARD_VTT));
	json_object_set_new(o, "captions_url", file_url(c, KD_FILE_CAPTIONS));
	return o;
}

static const struct {
	const char *name;
	enum cat_sort sort;
} sorts[] = {
	{"newest", CAT_SORT_NEWEST}, {"oldest", CAT_SORT_OLDEST}, {"title", CAT_SORT_TITLE},
	{"recorded", CAT_SORT_RECORDED}, {"relevance", CAT_SORT_RELEVANCE},
};

enum MHD_Result api_clips_list(struct request *req)
{
	struct cat_query q = {
		.practice = req_arg(req, "practice"),
		.school = req_arg(req, "school"),
		.grade = req_arg(req, "grade"),
		.subject = req_arg(req, "subject"),
		.q = req_arg(req, "q"),
		.sha256 = req_arg(req, "sha256"),
	};
	if (q.sha256 && *q.sha256 &&
	    (strlen(q.sha256) != 64 || strspn(q.sha256, "0123456789abcdef") != 64))
		return respond_error(req, MHD_HTTP_BAD_REQUEST,
		                     "sha256 must be 64 lowercase hexadecimal digits");
	if (req_int_arg(req, "page", 1, 1, CAT_PAGE_MAX, &q.page) < 0 ||
	    req_int_arg(req, "per_page", 24, 1, CAT_PER_PAGE_MAX, &q.per_page) < 0)
		return respond_error(req, MHD_HTTP_BAD_REQUEST,
		                     "page must be a whole number from 1 to %d, and per_page from 1 "
		                     "to %d",
		                     CAT_PAGE_MAX, CAT_PER_PAGE_MAX);
	if (q.q && strlen(q.q) > 256)
		return respond_error(req, MHD_HTTP_BAD_REQUEST,
		                     "the search text is too long: use at most 256 characters");
	const char *sort = req_arg(req, "sort");
	q.sort = q.q && *q.q ? CAT_SORT_RELEVANCE : CAT_SORT_NEWEST;
	if (sort && *sort) {
		size_t i;
		for (i = 0; i < sizeof sorts / sizeof *sorts; i++)
			if (!strcmp(sort, sorts[i].name))
				break;
		if (i == sizeof sorts / sizeof *sorts)
			return respond_error(req, MHD_HTTP_BAD_REQUEST,
			                     "sort must be newest, oldest, title, recorded or relevance");
		q.sort = sorts[i].sort;
	}

	struct cat_page page;
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_clips_list(req->db, &req->user, &q, &page, err, sizeof err);
	if (rc == KD_ENOTFOUND)
		return respond_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	json_t *clips = json_array();
	for (size_t i = 0; i < page.n; i++)
		json_array_append_new(clips, clip_json(&page.clips[i]));
	const char *sort_used = "newest";
	for (size_t i = 0; i < sizeof sorts / sizeof *sorts; i++)
		if (sorts[i].sort == page.sort)
			sort_used = sorts[i].name;
	json_t *body = json_pack("{sI sI sI ss so}", "total", (json_int_t)page.total, "page",
	                         (json_int_t)q.page, "per_page", (json_int_t)q.per_page, "sort",
	                         sort_used, "clips", clips);
	cat_page_free(&page);
	return respond_json(req, MHD_HTTP_OK, body);
}

static enum MHD_Result not_found(struct request *req)
{
	return respond_error(req, MHD_HTTP_NOT_FOUND,
	                     "no clip with id %lld (it may have been deleted, or you may not have "
	                     "access to it)",
	                     (long long)req->ids[0]);
}

/* The clip of the path, if the user may see it and change it; otherwise
 * answers 404 or 403 (into *answered) and returns false. */
static bool load_editable(struct request *req, const char *verb, struct cat_clip *c,
                          enum MHD_Result *answered)
{
	int rc = cat_clip_get(req->db, &req->user, req->ids[0], c);
	if (rc < 0) {
		*answered = rc == KD_ENOTFOUND ? not_found(req) : respond_kd_error(req, rc, NULL);
		return false;
	}
	if (!cat_clip_may_edit(&req->user, c)) {
		cat_clip_free(c);
		*answered = respond_error(req, MHD_HTTP_FORBIDDEN,
		                          "only an admin, the uploader, or a coach of the clip's school "
		                          "may %s this clip", verb);
		return false;
	}
	return true;
}

enum MHD_Result api_clip_get(struct request *req)
{
	struct cat_clip c;
	int rc = cat_clip_get(req->db, &req->user, req->ids[0], &c);
	if (rc == KD_ENOTFOUND)
		return not_found(req);
	if (rc < 0)
		return respond_kd_error(req, rc, NULL);
	json_t *body = clip_json(&c);
	cat_clip_free(&c);
	return respond_json(req, MHD_HTTP_OK, body);
}

/* Read an array of strings from a JSON value into a new array. */
static int string_list(json_t *v, const char ***out, size_t *n)
{
	if (!json_is_array(v) || json_array_size(v) > 100)
		return KD_EINVAL;
	size_t count = json_array_size(v);
	const char **items = calloc(count ? count : 1, sizeof *items);
	if (!items)
		return KD_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		items[i] = json_string_value(json_array_get(v, i));
		if (!items[i]) {
			free(items);
			return KD_EINVAL;
		}
	}
	*out = items;
	*n = count;
	return 0;
}

int clip_edit_from_json(json_t *body, struct clip_edit_json *ej, char *err, size_t errlen)
{
	static const char *const text_fields[] = {"title", "description", "teacher", "grade",
	                                          "subject", "recorded_on", "consent",
	                                          "visibility", "school"};
	memset(ej, 0, sizeof *ej);
	struct cat_clip_edit *e = &ej->edit;
	const char **text[] = {&e->title, &e->description, &e->teacher, &e->grade, &e->subject,
	                       &e->recorded_on, &e->consent, &e->visibility, &e->school};
	const char *key;
	json_t *v;
	if (!json_is_object(body)) {
		snprintf(err, errlen, "the body must be a JSON object");
		return KD_EINVAL;
	}
	json_object_foreach(body, key, v) {
		size_t i;
		for (i = 0; i < sizeof text_fields / sizeof *text_fields; i++)
			if (!strcmp(key, text_fields[i]))
				break;
		if (i < sizeof text_fields / sizeof *text_fields) {
			if (!strcmp(key, "recorded_on") && json_is_null(v))
				*text[i] = "";
			else if (!(*text[i] = json_string_value(v))) {
				snprintf(err, errlen, "%s must be a string", key);
				return KD_EINVAL;
			}
		} else if (!strcmp(key, "practices")) {
			e->set_practices = true;
			if (string_list(v, &ej->practices, &e->n_practices) < 0) {
				snprintf(err, errlen, "practices must be an array of practice slugs");
				return KD_EINVAL;
			}
			e->practices = ej->practices;
		} else if (!strcmp(key, "tags")) {
			e->set_tags = true;
			if (string_list(v, &ej->tags, &e->n_tags) < 0) {
				snprintf(err, errlen, "tags must be an array of strings");
				return KD_EINVAL;
			}
			e->tags = ej->tags;
		} else {
			snprintf(err, errlen,
			         "unknown field '%.40s'; fields you can change: title, description, "
			         "teacher, grade, subject, recorded_on, practices, tags, consent, "
			         "visibility, school",
			         key);
			return KD_EINVAL;
		}
	}
	return 0;
}

void clip_edit_json_release(struct clip_edit_json *ej)
{
	free(ej->practices);
	free(ej->tags);
	memset(ej, 0, sizeof *ej);
}

enum MHD_Result api_clip_patch(struct request *req)
{
	struct cat_clip c;
	enum MHD_Result answered;
	if (!load_editable(req, "change", &c, &answered))
		return answered;
	int64_t uploader = c.uploader_id, school_id = c.school_id;
	cat_clip_free(&c);
	int rc;

	enum MHD_Result result;
	json_t *body = req_json_body(req, &result);
	if (!body)
		return result;
	struct clip_edit_json ej;
	char err[KD_ERRMSG_MAX] = "";
	rc = clip_edit_from_json(body, &ej, err, sizeof err);
	int64_t target = 0;
	if (rc == 0 && ej.edit.school && cat_school_id(req->db, ej.edit.school, &target) == 0 &&
	    target != school_id && req->user.role != KD_ROLE_ADMIN &&
	    (req->user.id != uploader || !cat_may_file_at(&req->user, target))) {
		snprintf(err, sizeof err,
		         "only an admin, or the clip's uploader where they may file clips (a coach: "
		         "at their own school), may move it to another school");
		rc = KD_EPERM;
	}
	if (rc == 0)
		rc = cat_clip_update(req->db, req->ids[0], &ej.edit, err, sizeof err);
	clip_edit_json_release(&ej);
	json_decref(body);
	if (rc == KD_ENOTFOUND || rc == KD_EINVAL)
		return respond_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	/* Answer with what was saved, even when the edit (withdrawn consent,
	 * private) hides the clip from its editor from now on. */
	struct kd_user editor = req->user;
	editor.role = KD_ROLE_ADMIN;
	if ((rc = cat_clip_get(req->db, &editor, req->ids[0], &c)) < 0)
		return rc == KD_ENOTFOUND ? not_found(req) : respond_kd_error(req, rc, NULL);
	json_t *saved = clip_json(&c);
	cat_clip_free(&c);
	return respond_json(req, MHD_HTTP_OK, saved);
}

enum MHD_Result api_clip_delete(struct request *req)
{
	struct cat_clip c;
	enum MHD_Result answered;
	if (!load_editable(req, "delete", &c, &answered))
		return answered;
	cat_clip_free(&c);
	int rc;
	if ((rc = cat_clip_delete(req->db, req->ids[0])) < 0)
		return rc == KD_ENOTFOUND ? not_found(req) : respond_kd_error(req, rc, NULL);
	/* The row is gone first, so nothing can serve the files while they are
	 * being removed; a failure here leaves orphans the log names. */
	char *dir = paths_clip_dir(req->srv->cfg->data_dir, req->ids[0]);
	if (kd_remove_tree(dir) < 0)
		log_error("api", "clip %lld deleted but its files in %s could not be removed: %s",
		          (long long)req->ids[0], dir, strerror(errno));
	free(dir);
	return respond_json(req, MHD_HTTP_NO_CONTENT, NULL);
}
