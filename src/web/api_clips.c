/* api_clips.c - /api/v1/clips: list, detail, edit, delete. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json_out.h"
#include "media_files.h"
#include "kindling/audit.h"
#include "kindling/captions.h" /* issue 15 */
#include "kindling/catalogue.h"
#include "kindling/erase.h" /* retention (issue 14): api_clip_delete */
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/log.h"
#include "kindling/paths.h"

/* A file's address, or null while there is none to fetch. */
static void file_url(struct kd_buf *b, const struct cat_clip *c, enum kd_media_file f)
{
	if (!media_file_made(c, f)) {
		json_out_null(b);
		return;
	}
	char url[96];
	json_out_string(b, media_url(c->id, f, url, sizeof url));
}

/* A measure probing found, or null until it has. */
static void probed_int(struct kd_buf *b, const struct cat_media *m, const char *key, int64_t v)
{
	json_out_key(b, key, false);
	if (m->probed)
		json_out_int(b, v);
	else
		json_out_null(b);
}

static void probed_real(struct kd_buf *b, const struct cat_media *m, const char *key, double v)
{
	json_out_key(b, key, false);
	if (m->probed)
		json_out_real(b, v);
	else
		json_out_null(b);
}

struct text_field {
	const char *key, *value;
};

static void text_fields(struct kd_buf *b, const struct text_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_out_key(b, f[i].key, false);
		json_out_string(b, f[i].value);
	}
}

/* The clip object of the API (PRODUCT.md, "GET /api/v1/clips/{id}"),
 * written straight out: as a jansson tree, a page of them was most of a
 * list's time (json_out.h). */
static void clip_json(struct kd_buf *b, const struct cat_clip *c)
{
	const struct cat_media *m = &c->media;
	kd_buf_putc(b, '{');
	json_out_key(b, "id", true);
	json_out_int(b, c->id);
	const struct text_field names[] = {
		{"title", c->title}, {"description", c->description}, {"school", c->school},
		{"school_name", c->school_name},
	};
	text_fields(b, names, sizeof names / sizeof *names);
	json_out_key(b, "practices", false);
	json_out_strings(b, c->practices, c->n_practices);
	json_out_key(b, "tags", false);
	json_out_strings(b, c->tags, c->n_tags);
	const struct text_field about[] = {
		{"teacher", c->teacher}, {"grade", c->grade}, {"subject", c->subject},
		{"recorded_on", c->recorded_on}, {"uploaded_at", c->uploaded_at},
		{"uploader", c->uploader}, {"status", cat_status_name(c->status)},
		{"error", c->error}, {"consent", c->consent}, {"consent_basis", c->consent_basis},
		{"consent_by", c->consent_by}, {"consent_at", c->consent_at},
		{"visibility", c->visibility},
	};
	text_fields(b, about, sizeof about / sizeof *about);
	json_out_key(b, "legal_hold", false);
	kd_buf_puts(b, c->held ? "true" : "false");
	/* blur regions changed: the files are being made again, not served */
	json_out_key(b, "blur_pending", false);
	kd_buf_puts(b, c->media_stale ? "true" : "false");
	probed_real(b, m, "duration_s", m->duration_s);
	probed_int(b, m, "width", m->width);
	probed_int(b, m, "height", m->height);
	probed_int(b, m, "rotation", m->rotation);
	const struct text_field codecs[] = {
		{"video_codec", m->video_codec}, {"audio_codec", m->audio_codec},
	};
	text_fields(b, codecs, 2);
	probed_real(b, m, "fps", m->fps);
	probed_int(b, m, "bit_rate", m->bit_rate);
	probed_int(b, m, "size_bytes", m->size_bytes);
	const struct text_field rest[] = {{"container", m->container}, {"sha256", c->sha256}};
	text_fields(b, rest, 2);
	/* issue 15: none, uploaded or automatic */
	json_out_key(b, "captions", false);
	json_out_string(b, captions_source_name((enum captions_source)c->captions));
	const struct {
		const char *key;
		enum kd_media_file f;
	} files[] = {
		{"thumbnail_url", KD_FILE_THUMBNAIL}, {"poster_url", KD_FILE_POSTER},
		{"video_url", KD_FILE_VIDEO}, {"storyboard_url", KD_FILE_STORYBOARD_VTT},
		{"captions_url", KD_FILE_CAPTIONS},
	};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		json_out_key(b, files[i].key, false);
		file_url(b, c, files[i].f);
	}
	kd_buf_putc(b, '}');
}

/* Answer 200 with one clip object. */
static enum MHD_Result respond_clip(struct request *req, const struct cat_clip *c)
{
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	clip_json(&b, c);
	kd_buf_putc(&b, '\n');
	return respond_text(req, MHD_HTTP_OK, RESPOND_JSON_TYPE, NULL, kd_buf_take(&b, NULL));
}

/* issue 15: with words searched for, a clip of the page whose captions
 * have them gains "caption_hit": {"at": seconds, "text": the cue}, the
 * first cue that has them all, inside its object (just written, its '}'
 * last).  Only clips with captions are asked: a list without costs nothing
 * more. */
static void caption_hit(struct request *req, struct kd_buf *b, const struct cat_clip *c,
                        const char *q, char **match)
{
	if (!q || !*q || c->captions == CAPTIONS_NONE || !media_file_made(c, KD_FILE_CAPTIONS))
		return;
	if (!*match && !(*match = cat_fts_query(q)))
		return;
	double at;
	char *text;
	if (cat_caption_hit(req->db, c->id, *match, &at, &text) < 0)
		return;
	b->data[--b->len] = '\0'; /* the object's '}' */
	json_out_key(b, "caption_hit", false);
	kd_buf_putc(b, '{');
	json_out_key(b, "at", true);
	json_out_real(b, at);
	json_out_key(b, "text", false);
	json_out_string(b, text);
	kd_buf_puts(b, "}}");
	free(text);
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
	const char *sort_used = "newest";
	for (size_t i = 0; i < sizeof sorts / sizeof *sorts; i++)
		if (sorts[i].sort == page.sort)
			sort_used = sorts[i].name;
	char *match = NULL; /* issue 15: made when a clip of the page has captions */
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	kd_buf_putc(&b, '{');
	json_out_key(&b, "total", true);
	json_out_int(&b, page.total);
	json_out_key(&b, "page", false);
	json_out_int(&b, q.page);
	json_out_key(&b, "per_page", false);
	json_out_int(&b, q.per_page);
	json_out_key(&b, "sort", false);
	json_out_string(&b, sort_used);
	json_out_key(&b, "clips", false);
	kd_buf_putc(&b, '[');
	for (size_t i = 0; i < page.n; i++) {
		if (i)
			kd_buf_putc(&b, ',');
		clip_json(&b, &page.clips[i]);
		caption_hit(req, &b, &page.clips[i], q.q, &match);
	}
	free(match);
	kd_buf_puts(&b, "]}\n");
	cat_page_free(&page);
	return respond_text(req, MHD_HTTP_OK, RESPOND_JSON_TYPE, NULL, kd_buf_take(&b, NULL));
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
	req_audit_opened(req, c.id);
	enum MHD_Result r = respond_clip(req, &c);
	cat_clip_free(&c);
	return r;
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
	                                          "consent_basis", "consent_reason",
	                                          "visibility", "school"};
	memset(ej, 0, sizeof *ej);
	struct cat_clip_edit *e = &ej->edit;
	const char **text[] = {&e->title, &e->description, &e->teacher, &e->grade, &e->subject,
	                       &e->recorded_on, &e->consent, &e->consent_basis,
	                       &e->consent_reason, &e->visibility, &e->school};
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
			         "consent_basis, consent_reason, visibility, school",
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

static bool differs(const char *a, const char *b)
{
	return !(a == b || (a && b && !strcmp(a, b)));
}

void clip_audit_edit(struct request *req, const struct cat_clip *was, const struct cat_clip *now,
                     const struct cat_clip_edit *e)
{
	char detail[1200];
	if (differs(was->consent, now->consent) || differs(was->consent_basis, now->consent_basis)) {
		snprintf(detail, sizeof detail, "%s%s%s%s -> %s%s%s%s%s%s", was->consent,
		         was->consent_basis ? " (" : "", was->consent_basis ? was->consent_basis : "",
		         was->consent_basis ? ")" : "", now->consent, now->consent_basis ? " (" : "",
		         now->consent_basis ? now->consent_basis : "", now->consent_basis ? ")" : "",
		         e->consent_reason && *e->consent_reason ? ": " : "",
		         e->consent_reason ? e->consent_reason : "");
		req_audit(req, AUDIT_CONSENT, now->id, now->title, detail);
	}
	if (differs(was->visibility, now->visibility)) {
		snprintf(detail, sizeof detail, "%s -> %s", was->visibility, now->visibility);
		req_audit(req, AUDIT_VISIBILITY, now->id, now->title, detail);
	}
	const struct {
		const char *name;
		bool given;
	} fields[] = {
		{"title", e->title}, {"description", e->description}, {"teacher", e->teacher},
		{"grade", e->grade}, {"subject", e->subject}, {"recorded_on", e->recorded_on},
		{"school", e->school}, {"practices", e->set_practices}, {"tags", e->set_tags},
	};
	size_t len = 0;
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		if (fields[i].given)
			len += (size_t)snprintf(detail + len, sizeof detail - len, "%s%s",
			                        len ? ", " : "set ", fields[i].name);
	if (len && differs(was->title, now->title) && len < sizeof detail)
		snprintf(detail + len, sizeof detail - len, " (was titled '%s')", was->title);
	if (len)
		req_audit(req, AUDIT_EDIT, now->id, now->title, detail);
}

enum MHD_Result api_clip_patch(struct request *req)
{
	struct cat_clip c;
	enum MHD_Result answered;
	if (!load_editable(req, "change", &c, &answered))
		return answered;
	int64_t uploader = c.uploader_id, school_id = c.school_id;
	struct cat_clip before = c;
	int rc;

	enum MHD_Result result;
	json_t *body = req_json_body(req, &result);
	if (!body) {
		cat_clip_free(&before);
		return result;
	}
	struct clip_edit_json ej;
	char err[KD_ERRMSG_MAX] = "";
	rc = clip_edit_from_json(body, &ej, err, sizeof err);
	ej.edit.by = req->user.name;
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
	/* Answer with what was saved, even when the edit (withdrawn consent,
	 * private) hides the clip from its editor from now on. */
	struct kd_user editor = req->user;
	editor.role = KD_ROLE_ADMIN;
	if (rc == 0 && (rc = cat_clip_get(req->db, &editor, req->ids[0], &c)) == 0)
		clip_audit_edit(req, &before, &c, &ej.edit);
	clip_edit_json_release(&ej);
	json_decref(body);
	cat_clip_free(&before);
	if (rc == KD_ENOTFOUND || rc == KD_EINVAL)
		return rc == KD_ENOTFOUND && !err[0] ? not_found(req)
		                                     : respond_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	enum MHD_Result r = respond_clip(req, &c);
	cat_clip_free(&c);
	return r;
}

enum MHD_Result api_clip_delete(struct request *req)
{
	struct cat_clip c;
	enum MHD_Result answered;
	if (!load_editable(req, "delete", &c, &answered))
		return answered;
	bool held = c.held;
	cat_clip_free(&c);
	/* retention (issue 14): clip_erase refuses a hold too (one set since
	 * the clip was read), records the entry, and removes every file */
	int rc = KD_EPERM;
	char err[KD_ERRMSG_MAX] = "";
	if (!held) {
		char ip[64];
		req_client_address(req, ip, sizeof ip);
		struct audit_actor who = audit_actor_of(req->signed_in ? &req->user : NULL, ip);
		rc = clip_erase(req->db, req->srv->storage, req->srv->cfg->data_dir, req->ids[0], &who,
		                req_arg(req, "reason"), err, sizeof err);
	}
	if (rc == KD_EPERM)
		return respond_error(req, MHD_HTTP_CONFLICT,
		                     "clip %lld is under legal hold and may not be deleted; an admin "
		                     "lifts the hold first (DELETE /api/v1/clips/%lld/hold)",
		                     (long long)req->ids[0], (long long)req->ids[0]);
	if (rc == KD_ENOTFOUND)
		return not_found(req);
	/* KD_EIO: the clip is deleted, files are left behind (logged, and
	 * orphans for kindling check): the deletion itself succeeded */
	if (rc < 0 && rc != KD_EIO)
		return respond_kd_error(req, rc, NULL);
	return respond_json(req, MHD_HTTP_NO_CONTENT, NULL);
}
