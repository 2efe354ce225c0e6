/*
 * tus.c - resumable uploads, tus 1.0.0 (core, creation, termination), at
 * /api/v1/uploads.
 *
 * An upload lives in <data>/uploads/<id>/: "info.json" (who, how long, the
 * clip's metadata, and the clip once it exists) and "data" (the bytes so
 * far).  The offset is the size of "data", so whatever reached the disk
 * before a dropped connection or a server restart counts, and the client
 * resumes from there.  Bodies go straight from the socket to the file in
 * pieces of the connection buffer: memory does not grow with the file.
 * When the last byte is in, the file goes through the same intake as
 * `kindling ingest` (intake.h) and the answer carries Kindling-Clip-Id.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "tus.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/intake.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/paths.h"

#define TUS_VERSION "1.0.0"
#define ID_LEN 32
#define INFO_MAX (64 * 1024)
/* Room kept free on the disk beside an upload, for the catalogue and the
 * files processing makes. */
#define DISK_MARGIN ((uint64_t)256 << 20)

struct upload {
	char id[ID_LEN + 1];
	char *dir;
	char *data_path;
	char *info_path;
	json_t *info;     /* {"user", "length", "meta": {...}, "created", "clip"} */
	uint64_t length;
	uint64_t offset;
	int64_t clip;     /* 0 until complete */
};

static void upload_free(struct upload *u)
{
	free(u->dir);
	free(u->data_path);
	free(u->info_path);
	json_decref(u->info);
	memset(u, 0, sizeof *u);
}

static void paths(const struct kd_config *cfg, struct upload *u)
{
	u->dir = paths_upload_dir(cfg->data_dir, u->id);
	u->data_path = kd_asprintf("%s/data", u->dir);
	u->info_path = kd_asprintf("%s/info.json", u->dir);
}

static enum MHD_Result tus_error(struct request *req, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum MHD_Result tus_error(struct request *req, unsigned status, const char *fmt, ...)
{
	char msg[KD_ERRMSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return respond_error_h(req, status, "Tus-Resumable", TUS_VERSION, "%s", msg);
}

/* An empty answer with the tus headers every response carries. */
static struct MHD_Response *tus_response(void)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
	                                                         MHD_RESPMEM_PERSISTENT);
	if (r) {
		MHD_add_response_header(r, "Tus-Resumable", TUS_VERSION);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	}
	return r;
}

static void add_u64(struct MHD_Response *r, const char *name, uint64_t v)
{
	char s[24];
	snprintf(s, sizeof s, "%" PRIu64, v);
	MHD_add_response_header(r, name, s);
}

static bool version_ok(struct request *req)
{
	const char *v = req_header(req, "Tus-Resumable");
	return v && !strcmp(v, TUS_VERSION);
}

static enum MHD_Result wrong_version(struct request *req)
{
	return respond_error_h(req, MHD_HTTP_PRECONDITION_FAILED, "Tus-Version", TUS_VERSION,
	                       "this server speaks tus %s: send the header Tus-Resumable: %s",
	                       TUS_VERSION, TUS_VERSION);
}

static uint64_t max_upload(const struct request *req)
{
	return req->srv->cfg->upload_max_mb << 20;
}

enum MHD_Result tus_options(struct request *req)
{
	struct MHD_Response *r = tus_response();
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Tus-Version", TUS_VERSION);
	MHD_add_response_header(r, "Tus-Extension", "creation,termination");
	add_u64(r, "Tus-Max-Size", max_upload(req));
	return respond(req, MHD_HTTP_NO_CONTENT, r);
}

/* Parse a decimal header value of at most 19 digits. */
static bool parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || strlen(s) > 19)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* Upload-Metadata: "key base64,key base64,...".  Values are decoded into a
 * JSON object of strings; a key without a value is "". */
static int parse_metadata(const char *h, json_t *meta, char *err, size_t errlen)
{
	if (!h)
		return 0;
	if (strlen(h) > 16 * 1024) {
		snprintf(err, errlen, "Upload-Metadata is too long (at most 16 KB)");
		return KD_EINVAL;
	}
	char *copy = kd_strdup(h), *save = NULL;
	int rc = 0;
	for (char *pair = strtok_r(copy, ",", &save); pair; pair = strtok_r(NULL, ",", &save)) {
		while (*pair == ' ')
			pair++;
		char *sp = strchr(pair, ' ');
		const char *b64 = sp ? sp + 1 : "";
		if (sp)
			*sp = '\0';
		size_t cap = strlen(b64) + 1, len = 0;
		unsigned char *val = kd_malloc(cap);
		if (!*pair || sodium_base642bin(val, cap, b64, strlen(b64), NULL, &len, NULL,
		                                sodium_base64_VARIANT_ORIGINAL) != 0) {
			snprintf(err, errlen, "Upload-Metadata has a bad entry near '%.40s': each value "
			         "must be base64", pair);
			free(val);
			rc = KD_EINVAL;
			break;
		}
		val[len] = '\0';
		json_t *s = json_stringn((const char *)val, len); /* NULL unless valid UTF-8 */
		free(val);
		if (!s || strlen(json_string_value(s)) != len) {
			json_decref(s);
			snprintf(err, errlen, "Upload-Metadata value of '%.40s' is not UTF-8 text", pair);
			rc = KD_EINVAL;
			break;
		}
		json_object_set_new(meta, pair, s);
	}
	free(copy);
	return rc;
}

static const char *meta_str(json_t *meta, const char *key)
{
	const char *v = json_string_value(json_object_get(meta, key));
	return v && *v ? v : NULL;
}

/* Split a comma list into an array of strings pointing into a copy. */
struct list {
	char *copy;
	const char *items[32];
	size_t n;
};

static int split_list(const char *s, struct list *l)
{
	memset(l, 0, sizeof *l);
	if (!s)
		return 0;
	l->copy = kd_strdup(s);
	char *save = NULL;
	for (char *t = strtok_r(l->copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		size_t n = strlen(t);
		while (n && isspace((unsigned char)t[n - 1]))
			t[--n] = '\0';
		if (!*t)
			continue;
		if (l->n == sizeof l->items / sizeof *l->items)
			return KD_EINVAL;
		l->items[l->n++] = t;
	}
	return 0;
}

/* The clip metadata an upload carries, as intake wants it.  Strings point
 * into meta and the lists; title falls back to the file name. */
struct clip_meta {
	struct cat_clip_new c;
	struct list practices, tags;
	char *title;
};

static int clip_meta(sqlite3 *db, const struct kd_config *cfg, json_t *meta, int64_t uploader,
                     struct clip_meta *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	const char *filename = meta_str(meta, "filename");
	const char *title = meta_str(meta, "title");
	if (!title && filename) {
		const char *base = strrchr(filename, '/');
		base = base ? base + 1 : filename;
		const char *dot = strrchr(base, '.');
		m->title = kd_strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
		for (char *p = m->title; *p; p++)
			if (*p == '_' || (unsigned char)*p < 0x20)
				*p = ' ';
		title = m->title;
	}
	struct cat_clip_new *c = &m->c;
	c->title = title ? title : "Untitled clip";
	c->description = meta_str(meta, "description");
	c->school = meta_str(meta, "school");
	c->teacher = meta_str(meta, "teacher");
	c->grade = meta_str(meta, "grade");
	c->subject = meta_str(meta, "subject");
	c->recorded_on = meta_str(meta, "recorded");
	c->consent = meta_str(meta, "consent");
	if (!c->consent)
		c->consent = cfg->default_consent;
	c->visibility = meta_str(meta, "visibility");
	c->original_name = filename;
	c->uploader_id = uploader;
	if (split_list(meta_str(meta, "practices"), &m->practices) < 0 ||
	    split_list(meta_str(meta, "tags"), &m->tags) < 0) {
		snprintf(err, errlen, "too many practices or tags (at most %d practices, %d tags)",
		         CAT_PRACTICES_MAX, CAT_TAGS_MAX);
		return KD_EINVAL;
	}
	c->practices = m->practices.items;
	c->n_practices = m->practices.n;
	c->tags = m->tags.items;
	c->n_tags = m->tags.n;
	if (!c->n_practices) {
		char *known = cat_practice_slugs(db);
		snprintf(err, errlen, "say which practices the clip shows: add 'practices' to "
		         "Upload-Metadata (known: %s)", known);
		free(known);
		return KD_EINVAL;
	}
	return cat_clip_new_check(db, c, err, errlen);
}

static void clip_meta_free(struct clip_meta *m)
{
	free(m->practices.copy);
	free(m->tags.copy);
	free(m->title);
}

static bool may_upload(const struct kd_user *u)
{
	return u->role == KD_ROLE_ADMIN || u->role == KD_ROLE_COACH;
}

static int save_info(struct upload *u)
{
	char *text = json_dumps(u->info, JSON_COMPACT);
	if (!text)
		return KD_ENOMEM;
	int rc = kd_write_file_atomic(u->info_path, text, strlen(text));
	free(text);
	return rc;
}

enum MHD_Result tus_create(struct request *req)
{
	if (!version_ok(req))
		return wrong_version(req);
	if (!may_upload(&req->user))
		return tus_error(req, MHD_HTTP_FORBIDDEN,
		                 "only coaches and admins may upload clips; ask your admin");
	uint64_t length;
	if (req_header(req, "Upload-Defer-Length"))
		return tus_error(req, MHD_HTTP_BAD_REQUEST,
		                 "this server needs the size up front: send Upload-Length");
	if (!parse_u64(req_header(req, "Upload-Length"), &length))
		return tus_error(req, MHD_HTTP_BAD_REQUEST,
		                 "send the file's size in bytes as the Upload-Length header");
	if (length > max_upload(req))
		return tus_error(req, MHD_HTTP_CONTENT_TOO_LARGE,
		                 "the file is %.1f GB, more than the %.1f GB this server accepts; "
		                 "cut it into shorter clips or ask your admin to raise upload_max_mb",
		                 (double)length / 1e9, (double)max_upload(req) / 1e9);
	if (length == 0)
		return tus_error(req, MHD_HTTP_BAD_REQUEST, "the file is empty; nothing to upload");

	json_t *meta = json_object();
	char err[KD_ERRMSG_MAX] = "";
	struct clip_meta m;
	int rc = parse_metadata(req_header(req, "Upload-Metadata"), meta, err, sizeof err);
	if (rc == 0)
		rc = clip_meta(req->db, req->srv->cfg, meta, req->user.id, &m, err, sizeof err);
	if (rc == 0)
		clip_meta_free(&m);
	if (rc < 0) {
		json_decref(meta);
		if (rc == KD_EINVAL || rc == KD_ENOTFOUND)
			return tus_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
		return respond_kd_error(req, rc, err);
	}

	struct upload u = {0};
	unsigned char raw[ID_LEN / 2];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(u.id, sizeof u.id, raw, sizeof raw);
	paths(req->srv->cfg, &u);
	struct statvfs vfs;
	char *root = paths_uploads_dir(req->srv->cfg->data_dir);
	if (statvfs(root, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < length + DISK_MARGIN) {
		free(root);
		upload_free(&u);
		json_decref(meta);
		return tus_error(req, MHD_HTTP_INSUFFICIENT_STORAGE,
		                 "the server's disk has no room for this file (%.1f GB free); ask your "
		                 "admin to free space",
		                 (double)vfs.f_bavail * (double)vfs.f_frsize / 1e9);
	}
	free(root);
	u.info = json_pack("{sI sI so sI sn}", "user", (json_int_t)req->user.id, "length",
	                   (json_int_t)length, "meta", meta, "created", (json_int_t)time(NULL),
	                   "clip");
	int fd = -1;
	if (kd_mkdirs(u.dir, 0750) < 0 || save_info(&u) < 0 ||
	    (fd = open(u.data_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
		log_error("tus", "cannot create upload %s: %s", u.dir, strerror(errno));
		kd_remove_tree(u.dir);
		upload_free(&u);
		return tus_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                 "the server cannot store uploads right now; tell your admin");
	}
	close(fd);
	struct MHD_Response *r = tus_response();
	char *location = kd_asprintf("/api/v1/uploads/%s", u.id);
	MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
	free(location);
	log_info("tus", "upload %s created by user %lld: %" PRIu64 " bytes", u.id,
	         (long long)req->user.id, length);
	upload_free(&u);
	return respond(req, MHD_HTTP_CREATED, r);
}

/* Load the upload named in the path, if it is the user's (or they are an
 * admin).  KD_ENOTFOUND otherwise. */
static int load(struct request *req, struct upload *u)
{
	memset(u, 0, sizeof *u);
	const char *id = req->slugs[0];
	if (strlen(id) != ID_LEN || strspn(id, "0123456789abcdef") != ID_LEN)
		return KD_ENOTFOUND;
	memcpy(u->id, id, ID_LEN + 1);
	paths(req->srv->cfg, u);
	char *text;
	if (kd_read_file(u->info_path, INFO_MAX, &text, NULL) < 0) {
		upload_free(u);
		return KD_ENOTFOUND;
	}
	u->info = json_loads(text, 0, NULL);
	free(text);
	json_int_t user = json_integer_value(json_object_get(u->info, "user"));
	if (!u->info || (user != req->user.id && req->user.role != KD_ROLE_ADMIN)) {
		upload_free(u);
		return KD_ENOTFOUND;
	}
	u->length = (uint64_t)json_integer_value(json_object_get(u->info, "length"));
	u->clip = json_integer_value(json_object_get(u->info, "clip"));
	struct stat st;
	if (u->clip)
		u->offset = u->length;
	else
		u->offset = stat(u->data_path, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

static enum MHD_Result unknown_upload(struct request *req)
{
	return tus_error(req, MHD_HTTP_NOT_FOUND,
	                 "no upload %s here: it may have finished, expired or been cancelled; "
	                 "start the upload again",
	                 req->slugs[0]);
}

enum MHD_Result tus_head(struct request *req)
{
	if (!version_ok(req))
		return wrong_version(req);
	struct upload u;
	if (load(req, &u) < 0)
		return unknown_upload(req);
	struct MHD_Response *r = tus_response();
	add_u64(r, "Upload-Offset", u.offset);
	add_u64(r, "Upload-Length", u.length);
	if (u.clip)
		add_u64(r, "Kindling-Clip-Id", (uint64_t)u.clip);
	upload_free(&u);
	return respond(req, MHD_HTTP_OK, r);
}

struct sink {
	struct upload u;
	int fd;
	unsigned fail_status;   /* 0, or the answer to give once the body is in */
	char fail_msg[KD_ERRMSG_MAX];
};

static int sink_fail(struct sink *s, unsigned status, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int sink_fail(struct sink *s, unsigned status, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->fail_msg, sizeof s->fail_msg, fmt, ap);
	va_end(ap);
	s->fail_status = status;
	return err;
}

static void sink_close(struct request *req)
{
	struct sink *s = req->stream;
	if (!s)
		return;
	if (s->fd >= 0) {
		/* A dropped connection keeps what arrived: the client resumes. */
		fsync(s->fd);
		close(s->fd);
	}
	upload_free(&s->u);
	free(s);
	req->stream = NULL;
}

static int sink_write(struct request *req, const char *data, size_t len)
{
	struct sink *s = req->stream;
	if (s->fail_status)
		return 0;
	if (len > s->u.length - s->u.offset)
		return sink_fail(s, MHD_HTTP_CONTENT_TOO_LARGE, KD_ETOOBIG,
		                 "more bytes than the Upload-Length of %" PRIu64 " given at creation",
		                 s->u.length);
	while (len > 0) {
		ssize_t n = write(s->fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			log_error("tus", "upload %s: writing failed: %s", s->u.id, strerror(e));
			/* A full disk must not leave a half file taking the room others
			 * need: this upload is given up and removed. */
			close(s->fd);
			s->fd = -1;
			kd_remove_tree(s->u.dir);
			if (e == ENOSPC || e == EDQUOT)
				return sink_fail(s, MHD_HTTP_INSUFFICIENT_STORAGE, KD_EIO,
				                 "the server's disk is full; the partial upload was removed. "
				                 "Ask your admin to free space, then upload again");
			return sink_fail(s, MHD_HTTP_INTERNAL_SERVER_ERROR, KD_EIO,
			                 "the server could not write the upload (%s); tell your admin",
			                 strerror(e));
		}
		data += n;
		len -= (size_t)n;
		s->u.offset += (uint64_t)n;
	}
	return 0;
}

enum MHD_Result tus_patch_begin(struct request *req)
{
	if (!version_ok(req))
		return wrong_version(req);
	const char *type = req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!type || strcmp(type, "application/offset+octet-stream") != 0)
		return tus_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		                 "send the bytes with Content-Type: application/offset+octet-stream");
	uint64_t offset;
	if (!parse_u64(req_header(req, "Upload-Offset"), &offset))
		return tus_error(req, MHD_HTTP_BAD_REQUEST,
		                 "send the offset the bytes start at as Upload-Offset");
	struct sink *s = kd_calloc(1, sizeof *s);
	s->fd = -1;
	if (load(req, &s->u) < 0) {
		free(s);
		return unknown_upload(req);
	}
	if (s->u.clip) {
		int64_t clip = s->u.clip;
		upload_free(&s->u);
		free(s);
		return tus_error(req, MHD_HTTP_CONFLICT,
		                 "this upload is already complete: it is clip %lld", (long long)clip);
	}
	if (offset != s->u.offset) {
		uint64_t have = s->u.offset;
		upload_free(&s->u);
		free(s);
		return tus_error(req, MHD_HTTP_CONFLICT,
		                 "Upload-Offset %" PRIu64 " does not match the %" PRIu64
		                 " bytes the server has; ask with HEAD and resume from there",
		                 offset, have);
	}
	s->fd = open(s->u.data_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (s->fd < 0) {
		upload_free(&s->u);
		free(s);
		return unknown_upload(req);
	}
	/* One transfer per upload at a time.  The request of a client that was
	 * killed may still be draining its socket into the file; a new PATCH
	 * waits for that to end rather than interleave with it. */
	struct stat st;
	if (flock(s->fd, LOCK_EX | LOCK_NB) < 0 || fstat(s->fd, &st) < 0 ||
	    (uint64_t)st.st_size != offset) {
		uint64_t have = fstat(s->fd, &st) == 0 ? (uint64_t)st.st_size : s->u.offset;
		close(s->fd);
		upload_free(&s->u);
		free(s);
		return tus_error(req, MHD_HTTP_CONFLICT,
		                 "another transfer of this upload is still running (the server has %"
		                 PRIu64 " bytes); ask with HEAD in a moment and resume from there",
		                 have);
	}
	req->stream = s;
	req->stream_write = sink_write;
	req->stream_close = sink_close;
	return MHD_YES;
}

/* All bytes are in: hand the file to intake and answer with the clip. */
static enum MHD_Result complete(struct request *req, struct sink *s)
{
	json_t *meta = json_object_get(s->u.info, "meta");
	struct clip_meta m;
	char err[KD_ERRMSG_MAX] = "";
	int64_t id = 0;
	bool dup = false;
	int rc = clip_meta(req->db, req->srv->cfg, meta,
	                   json_integer_value(json_object_get(s->u.info, "user")), &m, err,
	                   sizeof err);
	if (rc == 0)
		rc = intake_file(req->srv->cfg, req->db, s->u.data_path, true, &m.c, &id, &dup, err,
		                 sizeof err);
	clip_meta_free(&m);
	if (rc < 0) {
		log_warn("tus", "upload %s complete but not taken in: %s", s->u.id, err);
		kd_remove_tree(s->u.dir);
		if (rc == KD_EINVAL || rc == KD_ENOTFOUND)
			return tus_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
		return tus_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
	}
	/* Keep the record, without the bytes, so a client that lost this answer
	 * learns the clip from HEAD; expiry removes it later. */
	unlink(s->u.data_path);
	json_object_set_new(s->u.info, "clip", json_integer(id));
	if (save_info(&s->u) < 0)
		log_warn("tus", "upload %s: cannot record its clip %lld", s->u.id, (long long)id);
	jobs_runner_wake(req->srv->runner);
	log_info("tus", "upload %s complete: clip %lld%s", s->u.id, (long long)id,
	         dup ? " (already in the catalogue)" : "");
	struct MHD_Response *r = tus_response();
	add_u64(r, "Upload-Offset", s->u.length);
	add_u64(r, "Kindling-Clip-Id", (uint64_t)id);
	if (dup)
		MHD_add_response_header(r, "Kindling-Duplicate", "1");
	return respond(req, MHD_HTTP_NO_CONTENT, r);
}

enum MHD_Result tus_patch_end(struct request *req)
{
	struct sink *s = req->stream;
	if (!s)
		return MHD_YES;
	if (s->fail_status)
		return tus_error(req, s->fail_status, "%s", s->fail_msg);
	if (fsync(s->fd) < 0) {
		log_error("tus", "upload %s: fsync: %s", s->u.id, strerror(errno));
		return tus_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                 "the server could not save the upload; try again");
	}
	if (s->u.offset == s->u.length)
		return complete(req, s);
	struct MHD_Response *r = tus_response();
	add_u64(r, "Upload-Offset", s->u.offset);
	return respond(req, MHD_HTTP_NO_CONTENT, r);
}

enum MHD_Result tus_delete(struct request *req)
{
	if (!version_ok(req))
		return wrong_version(req);
	struct upload u;
	if (load(req, &u) < 0)
		return unknown_upload(req);
	kd_remove_tree(u.dir);
	log_info("tus", "upload %s cancelled", u.id);
	upload_free(&u);
	return respond(req, MHD_HTTP_NO_CONTENT, tus_response());
}

int tus_expire(const struct kd_config *cfg, unsigned max_age_s)
{
	char *root = paths_uploads_dir(cfg->data_dir);
	DIR *d = opendir(root);
	if (!d) {
		free(root);
		return KD_EIO;
	}
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != ID_LEN)
			continue;
		char *dir = kd_path_join(root, e->d_name);
		char *data = kd_path_join(dir, "data");
		char *info = kd_path_join(dir, "info.json");
		struct stat st;
		/* The age of an upload is the time since bytes last arrived. */
		time_t touched = stat(data, &st) == 0 ? st.st_mtime
		                 : stat(info, &st) == 0 ? st.st_mtime : 0;
		if (touched && now - touched > (time_t)max_age_s) {
			log_info("tus", "removing upload %s: untouched for %ld hours", e->d_name,
			         (long)((now - touched) / 3600));
			kd_remove_tree(dir);
		}
		free(dir);
		free(data);
		free(info);
	}
	closedir(d);
	free(root);
	return 0;
}
