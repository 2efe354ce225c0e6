/* api_captions.c - a clip's captions over HTTP: PUT /api/v1/clips/{id}/captions
 * (the bytes of a WebVTT or SRT file) and DELETE.  Owner: issue 15, H3.
 *
 * Who: those who may edit the clip (its uploader, a coach of its school,
 * an admin), as for its other records.  Its featured teacher is not among
 * them: captions are what the district publishes for everyone (WCAG), and
 * a teacher who wants them changed asks the uploader or a coach.
 *
 * The file is read (captions.h), stored as the one WebVTT served,
 * through the storage back end (data folder or bucket), then its cues are
 * kept in the catalogue; a refusal names the line and the reason. */
#define _GNU_SOURCE /* strcasestr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "media_files.h"
#include "kindling/audit.h"
#include "kindling/captions.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/paths.h"
#include "kindling/storage.h"

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
		                          "may change its captions");
		return false;
	}
	return true;
}

/* Is the body's declared type one captions come in?  None at all is
 * fine: the parser tells WebVTT from SRT by their first lines. */
static bool type_ok(const char *type, char *why, size_t len)
{
	if (!type || !*type)
		return true;
	static const char *const TYPES[] = {"text/vtt", "application/x-subrip", "text/srt",
	                                    "text/plain", "application/octet-stream"};
	size_t n = strcspn(type, ";");
	while (n && (type[n - 1] == ' ' || type[n - 1] == '\t'))
		n--;
	bool known = false;
	for (size_t i = 0; i < sizeof TYPES / sizeof *TYPES; i++)
		known |= strlen(TYPES[i]) == n && !strncasecmp(type, TYPES[i], n);
	if (!known) {
		snprintf(why, len, "send the captions as a WebVTT file (Content-Type text/vtt) or an "
		         "SRT file (application/x-subrip), not %.*s", (int)(n < 80 ? n : 80), type);
		return false;
	}
	const char *cs = strcasestr(type, "charset=");
	if (cs) {
		cs += 8;
		cs += *cs == '"';
		if (strncasecmp(cs, "utf-8", 5) && strncasecmp(cs, "utf8", 4) &&
		    strncasecmp(cs, "us-ascii", 8)) {
			snprintf(why, len, "captions must be UTF-8 text; save the file as UTF-8 and send "
			         "it with charset=utf-8");
			return false;
		}
	}
	return true;
}

enum MHD_Result api_clip_captions_put(struct request *req)
{
	char err[KD_ERRMSG_MAX] = "";
	if (!type_ok(req_header(req, "Content-Type"), err, sizeof err))
		return respond_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "%s", err);
	struct cat_clip c;
	enum MHD_Result answered;
	if (!editable(req, &c, &answered))
		return answered;
	/* times are checked against the clip's end once it is known (the
	 * clip is probed when processed); before, only their form */
	double duration = c.media.probed ? c.media.duration_s : 0;
	struct captions caps;
	int rc = captions_parse(req->body.data ? req->body.data : "", req->body.len, duration,
	                        &caps, err, sizeof err);
	if (rc < 0) {
		cat_clip_free(&c);
		return respond_error(req, rc == KD_ETOOBIG ? MHD_HTTP_CONTENT_TOO_LARGE
		                                           : MHD_HTTP_BAD_REQUEST, "%s", err);
	}
	size_t len;
	char *vtt = captions_to_vtt(&caps, &len);
	char key[PATHS_KEY_MAX];
	paths_clip_key(c.id, KD_FILE_CAPTIONS, key);
	rc = storage_put_buf(req->srv->storage, key, vtt, len, paths_file_type(KD_FILE_CAPTIONS),
	                     err, sizeof err);
	free(vtt);
	if (rc < 0) {
		log_error("captions", "clip %lld: storing %s: %s", (long long)c.id, key, err);
		captions_free(&caps);
		cat_clip_free(&c);
		return respond_error(req, MHD_HTTP_SERVICE_UNAVAILABLE,
		                     "the captions could not be stored (%s); try again", err);
	}
	size_t n = caps.n;
	rc = cat_captions_set(req->db, c.id, &caps, CAPTIONS_UPLOADED);
	captions_free(&caps);
	if (rc < 0) {
		cat_clip_free(&c);
		return rc == KD_ENOTFOUND
		               ? respond_error(req, MHD_HTTP_NOT_FOUND, "clip %lld was deleted meanwhile",
		                               (long long)req->ids[0])
		               : respond_kd_error(req, rc, NULL);
	}
	char detail[64];
	snprintf(detail, sizeof detail, "captions uploaded (%zu cue%s)", n, n == 1 ? "" : "s");
	req_audit(req, AUDIT_EDIT, c.id, c.title, detail);
	cat_clip_free(&c);

	/* the address as the clip's JSON has it now: null until the clip's
	 * files may be served (processing, withdrawn) */
	json_t *url = json_null();
	if (cat_clip_get(req->db, &req->user, req->ids[0], &c) == 0) {
		char u[96];
		if (media_file_made(&c, KD_FILE_CAPTIONS))
			url = json_string(media_url(c.id, KD_FILE_CAPTIONS, u, sizeof u));
		cat_clip_free(&c);
	}
	return respond_json(req, MHD_HTTP_OK,
	                    json_pack("{sI ss sI so}", "clip_id", (json_int_t)req->ids[0], "captions",
	                              captions_source_name(CAPTIONS_UPLOADED), "cues",
	                              (json_int_t)n, "captions_url", url));
}

enum MHD_Result api_clip_captions_delete(struct request *req)
{
	struct cat_clip c;
	enum MHD_Result answered;
	if (!editable(req, &c, &answered))
		return answered;
	int rc = cat_captions_clear(req->db, c.id);
	if (rc < 0 && rc != KD_ENOTFOUND) {
		cat_clip_free(&c);
		return respond_kd_error(req, rc, NULL);
	}
	if (c.captions != CAPTIONS_NONE || c.has_captions)
		req_audit(req, AUDIT_EDIT, c.id, c.title, "captions removed");
	/* the catalogue no longer points at it: a file left behind is served
	 * to nobody, and the next PUT replaces it */
	char key[PATHS_KEY_MAX], err[KD_ERRMSG_MAX] = "";
	paths_clip_key(c.id, KD_FILE_CAPTIONS, key);
	if (storage_delete(req->srv->storage, key, err, sizeof err) < 0)
		log_warn("captions", "clip %lld: removing %s: %s", (long long)c.id, key, err);
	cat_clip_free(&c);
	return respond_json(req, MHD_HTTP_NO_CONTENT, NULL);
}
