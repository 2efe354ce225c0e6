/* media_files.c - serving a clip's files by clip id: Range, HEAD, ETag
 * (see media_files.h). */
#include "media_files.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "kindling/audit.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/paths.h"

const char *media_url(int64_t clip_id, enum kd_media_file f, char *out, size_t outlen)
{
	/* written out by hand: a page of clips asks for 120 of these */
	char digits[24], *d = digits + sizeof digits;
	uint64_t u = clip_id < 0 ? 0 : (uint64_t)clip_id;
	*--d = '\0';
	do
		*--d = (char)('0' + u % 10);
	while (u /= 10);
	static const char prefix[] = "/media/clips/";
	const char *name = paths_file_name(f);
	size_t a = sizeof prefix - 1, n = strlen(d), m = strlen(name);
	if (outlen < a + n + 1 + m + 1) {
		if (outlen)
			*out = '\0';
		return out;
	}
	memcpy(out, prefix, a);
	memcpy(out + a, d, n);
	out[a + n] = '/';
	memcpy(out + a + n + 1, name, m + 1);
	return out;
}

/* "bytes=a-b", "bytes=a-" or "bytes=-n"; see media_files.h. */
int http_parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	const char *p = h + 6;
	char *end;
	if (*p == '-') {
		errno = 0;
		uint64_t n = strtoull(p + 1, &end, 10);
		if (errno || *end || end == p + 1)
			return 0;
		if (n == 0 || size == 0)
			return -1;
		*from = n >= size ? 0 : size - n;
		*to = size - 1;
		return 1;
	}
	if (*p < '0' || *p > '9')
		return 0;
	errno = 0;
	uint64_t a = strtoull(p, &end, 10);
	if (errno || *end != '-')
		return 0;
	p = end + 1;
	uint64_t b = size ? size - 1 : 0;
	if (*p) {
		if (*p < '0' || *p > '9')
			return 0;
		b = strtoull(p, &end, 10);
		if (errno || *end || b < a)
			return 0;
		if (b >= size)
			b = size - 1;
	}
	if (a >= size)
		return -1;
	*from = a;
	*to = b;
	return 1;
}

/* Pictures and storyboards are small and asked for again and again:
 * read whole into memory, their answer can be kept (answers.h).  Videos
 * are sent from the file. */
#define SMALL_FILE ((uint64_t)256 << 10)

/* A response holding the len bytes of fd, or NULL (then send it from fd). */
static struct MHD_Response *small_file(int fd, uint64_t len)
{
	char *buf = malloc(len ? (size_t)len : 1);
	if (!buf)
		return NULL;
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, buf + got, (size_t)len - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	struct MHD_Response *resp =
		MHD_create_response_from_buffer((size_t)len, buf, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(buf);
	return resp;
}

bool media_file_made(const struct cat_clip *c, enum kd_media_file f)
{
	return c->status == CAT_READY && !c->media_stale && !media_withdrawn(c) &&
	       (f != KD_FILE_CAPTIONS || c->has_captions);
}

bool media_withdrawn(const struct cat_clip *c)
{
	return c->consent && !strcmp(c->consent, "withdrawn");
}

/* Files nobody may have now, whoever asks: answered (true) with why. */
static bool media_refused(struct request *req, const struct cat_clip *c, enum MHD_Result *r)
{
	if (media_withdrawn(c)) {
		*r = respond_error(req, MHD_HTTP_FORBIDDEN,
		                   "consent for clip %lld was withdrawn: its video and pictures are "
		                   "shown to nobody (an admin can restore consent, or delete the clip)",
		                   (long long)c->id);
		return true;
	}
	if (c->media_stale) {
		*r = respond_error(req, MHD_HTTP_CONFLICT,
		                   "clip %lld is being made again with its new blurred regions; its "
		                   "files are back when processing is done",
		                   (long long)c->id);
		return true;
	}
	return false;
}

/* How long a link to a file in object storage works: longer than anyone
 * watches a clip (a browser asks for the video again, in ranges, through
 * the same link while it plays), short enough that a link copied out of a
 * page is soon dead.  Each request for the file asks kindling again, with
 * the sign-in and privacy check, so a clip withdrawn or deleted gets no
 * new link. */
#define MEDIA_LINK_SECONDS (6 * 3600u)

/* The storage failed to give a clip's file: logged, and the person is
 * told it is passing. */
static enum MHD_Result storage_unavailable(struct request *req, int64_t id, enum kd_media_file f,
                                           const char *err)
{
	log_error("media", "clip %lld: %s", (long long)id, err);
	return respond_error(req, MHD_HTTP_SERVICE_UNAVAILABLE,
	                     "the clip's %s cannot be read from object storage just now; try "
	                     "again in a minute",
	                     paths_file_name(f));
}

/* WebVTT files are small, and read by the page's script and <track>,
 * which a redirect to another origin would put under CORS (a bucket
 * setting kindling does not own): they are passed through. */
#define VTT_MAX ((size_t)1 << 20)

static int to_buf(void *arg, const void *data, size_t len)
{
	return kd_buf_append(arg, data, len);
}

static enum MHD_Result media_pass_through(struct request *req, int64_t id, enum kd_media_file f,
                                          const char *key)
{
	struct kd_buf b = KD_BUF_INIT(VTT_MAX);
	char err[KD_ERRMSG_MAX] = "";
	int rc = storage_get(req->srv->storage, key, 0, STORAGE_TO_END, to_buf, &b, err, sizeof err);
	if (rc < 0) {
		kd_buf_release(&b);
		return storage_unavailable(req, id, f, err);
	}
	size_t len;
	char *text = kd_buf_take(&b, &len);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, paths_file_type(f));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache");
	req->bytes_out = len;
	return respond(req, MHD_HTTP_OK, resp);
}

/* 302 to a presigned URL of clip id's file f in object storage, good for
 * seconds. */
static enum MHD_Result redirect_presigned(struct request *req, int64_t id, enum kd_media_file f,
                                          unsigned seconds)
{
	char key[PATHS_KEY_MAX], err[KD_ERRMSG_MAX] = "";
	paths_clip_key(id, f, key);
	char *url = NULL;
	if (storage_presign_get(req->srv->storage, key, seconds, paths_file_type(f), NULL, &url, err,
	                        sizeof err) < 0)
		return storage_unavailable(req, id, f, err);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(url);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, url);
	free(url);
	/* the link is for this person, now: kept by no cache, asked for again */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-store");
	return respond(req, MHD_HTTP_FOUND, resp);
}

/* A file of a clip in object storage: a redirect to a presigned URL, after
 * the same checks as a file on disk.  Its files are stored once the clip
 * is processed: before that there is nothing to link to. */
static enum MHD_Result media_redirect(struct request *req, const struct cat_clip *c,
                                      enum kd_media_file f)
{
	if (!media_file_made(c, f))
		return respond_error(req, MHD_HTTP_NOT_FOUND,
		                     "clip %lld has no %s yet; it may still be processing",
		                     (long long)c->id, paths_file_name(f));
	char key[PATHS_KEY_MAX];
	paths_clip_key(c->id, f, key);
	if (f == KD_FILE_STORYBOARD_VTT || f == KD_FILE_CAPTIONS)
		return media_pass_through(req, c->id, f, key);
	return redirect_presigned(req, c->id, f, MEDIA_LINK_SECONDS);
}

/* Where a file's bytes come from: a file of the data folder (fd), or an
 * object of the storage passed through this server (key). */
struct source {
	int fd;                 /* -1 for an object */
	struct kd_storage *storage;
	char key[PATHS_KEY_MAX];
	uint64_t size;
	time_t mtime;
	char etag[STORAGE_ETAG_MAX];
};

/* Bytes of an object read into a response, STREAM_BLOCK at a time: each
 * block is one ranged GET of the storage. */
#define STREAM_BLOCK ((size_t)256 << 10)
struct stream {
	struct kd_storage *storage;
	char key[PATHS_KEY_MAX];
	uint64_t from;
};
struct fill {
	char *buf;
	size_t len, room;
};

static int to_fill(void *arg, const void *data, size_t len)
{
	struct fill *f = arg;
	if (len > f->room - f->len)
		return KD_ETOOBIG; /* more than asked for: never from a working storage */
	memcpy(f->buf + f->len, data, len);
	f->len += len;
	return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	struct fill fill = {buf, 0, max};
	char err[KD_ERRMSG_MAX] = "";
	if (storage_get(st->storage, st->key, st->from + pos, max, to_fill, &fill, err,
	                sizeof err) < 0 ||
	    fill.len == 0) {
		log_error("media", "%s: %s", st->key, err[0] ? err : "no bytes");
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	return (ssize_t)fill.len;
}

/* A response holding len bytes from off of src, or NULL.  Small whole
 * files are read into memory (then the answer can be kept: answers.h). */
static struct MHD_Response *source_response(struct request *req, struct source *src,
                                            uint64_t off, uint64_t len, bool whole)
{
	if (src->fd >= 0) {
		struct MHD_Response *resp = whole && len <= SMALL_FILE ? small_file(src->fd, len) : NULL;
		if (resp) {
			close(src->fd);
		} else if ((resp = MHD_create_response_from_fd_at_offset64(len, src->fd, off))) {
			req->keep_off = true; /* an open file is not kept (answers.h) */
		} else {
			close(src->fd);
		}
		src->fd = -1; /* the response's now, or closed */
		return resp;
	}
	if (whole && len <= SMALL_FILE) {
		char *buf = malloc(len ? (size_t)len : 1);
		struct fill fill = {buf, 0, (size_t)len};
		char err[KD_ERRMSG_MAX] = "";
		if (!buf)
			return NULL;
		if (len && (storage_get(src->storage, src->key, 0, len, to_fill, &fill, err,
		                        sizeof err) < 0 ||
		            fill.len != len)) {
			log_error("media", "%s: %s", src->key, err[0] ? err : "cut short");
			free(buf);
			return NULL;
		}
		struct MHD_Response *resp =
			MHD_create_response_from_buffer((size_t)len, buf, MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(buf);
		return resp;
	}
	struct stream *st = kd_calloc(1, sizeof *st);
	st->storage = src->storage;
	memcpy(st->key, src->key, sizeof st->key);
	st->from = off;
	req->keep_off = true; /* streamed: nothing to keep */
	struct MHD_Response *resp =
		MHD_create_response_from_callback(len, STREAM_BLOCK, stream_read, st, free);
	if (!resp)
		free(st);
	return resp;
}

/* Answer with the bytes of src: If-None-Match, Range, and the headers of
 * every media answer.  Takes src's descriptor. */
static enum MHD_Result serve_source(struct request *req, enum kd_media_file f,
                                    struct source *src)
{
	char modified[64];
	struct tm tm;
	gmtime_r(&src->mtime, &tm);
	strftime(modified, sizeof modified, "%a, %d %b %Y %H:%M:%S GMT", &tm);

	const char *inm = req_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
	unsigned status = MHD_HTTP_OK;
	uint64_t size = src->size, from = 0, to = size ? size - 1 : 0;
	struct MHD_Response *resp;
	if (inm && (strstr(inm, src->etag) || !strcmp(inm, "*"))) {
		if (src->fd >= 0)
			close(src->fd);
		status = MHD_HTTP_NOT_MODIFIED;
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		int r = http_parse_range(req_header(req, MHD_HTTP_HEADER_RANGE), size, &from, &to);
		if (r < 0) {
			if (src->fd >= 0)
				close(src->fd);
			char cr[48];
			snprintf(cr, sizeof cr, "bytes */%" PRIu64, size);
			return respond_error_h(req, MHD_HTTP_RANGE_NOT_SATISFIABLE,
			                       MHD_HTTP_HEADER_CONTENT_RANGE, cr,
			                       "the requested range is outside the file (%" PRIu64 " bytes)",
			                       size);
		}
		uint64_t len = size ? to - from + 1 : 0;
		if (!(resp = source_response(req, src, from, len, r == 0)))
			return MHD_NO;
		if (r == 1) {
			status = MHD_HTTP_PARTIAL_CONTENT;
			char cr[96];
			snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, to, size);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
		}
		req->bytes_out = len;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, paths_file_type(f));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, src->etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	/* Children are on camera: no shared cache may keep a copy. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache");
	return respond(req, status, resp);
}

/* A file of a clip in object storage, through this server (the setting
 * media_delivery = proxy, for buckets browsers cannot reach). */
static enum MHD_Result media_proxy(struct request *req, const struct cat_clip *c,
                                   enum kd_media_file f)
{
	struct source src = {.fd = -1, .storage = req->srv->storage};
	struct storage_stat st;
	char err[KD_ERRMSG_MAX] = "";
	paths_clip_key(c->id, f, src.key);
	int rc = media_file_made(c, f) ? storage_stat(src.storage, src.key, &st, err, sizeof err)
	                               : KD_ENOTFOUND;
	if (rc == KD_ENOTFOUND)
		return respond_error(req, MHD_HTTP_NOT_FOUND,
		                     "clip %lld has no %s yet; it may still be processing",
		                     (long long)c->id, paths_file_name(f));
	if (rc < 0) {
		return storage_unavailable(req, c->id, f, err);
	}
	src.size = st.size;
	src.mtime = (time_t)st.mtime;
	snprintf(src.etag, sizeof src.etag, "%s", st.etag);
	return serve_source(req, f, &src);
}

enum MHD_Result media_get(struct request *req)
{
	enum kd_media_file f;
	if (paths_file_by_name(req->slugs[0], &f) < 0)
		return respond_error(req, MHD_HTTP_NOT_FOUND, "a clip has no file named %s",
		                     req->slugs[0]);
	struct cat_clip c;
	int rc = cat_clip_get(req->db, &req->user, req->ids[0], &c);
	if (rc == KD_ENOTFOUND)
		return respond_error(req, MHD_HTTP_NOT_FOUND,
		                     "no clip with id %lld, or you may not have access to it",
		                     (long long)req->ids[0]);
	if (rc < 0)
		return respond_kd_error(req, rc, NULL);
	enum MHD_Result refused;
	if (media_refused(req, &c, &refused)) {
		cat_clip_free(&c);
		return refused;
	}
	if (f == KD_FILE_VIDEO)
		req_audit_opened(req, c.id);
	if (storage_kind(req->srv->storage) == STORAGE_S3) {
		enum MHD_Result r = req->srv->cfg->media_proxy ? media_proxy(req, &c, f)
		                                               : media_redirect(req, &c, f);
		cat_clip_free(&c);
		return r;
	}
	cat_clip_free(&c);

	char *path = paths_clip_file(req->srv->cfg->data_dir, req->ids[0], f);
	struct source src = {.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
	free(path);
	struct stat st;
	if (src.fd < 0 || fstat(src.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (src.fd >= 0)
			close(src.fd);
		return respond_error(req, MHD_HTTP_NOT_FOUND,
		                     "clip %lld has no %s yet; it may still be processing",
		                     (long long)req->ids[0], paths_file_name(f));
	}
	src.size = (uint64_t)st.st_size;
	src.mtime = st.st_mtime;
	snprintf(src.etag, sizeof src.etag, "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_size,
	         (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
	return serve_source(req, f, &src);
}

/* How long a link to an original lasts: long enough to start the
 * download it was asked for, not to be passed on. */
#define ORIGINAL_LINK_SECONDS 300u
#define RECORDS_REASON_MAX 500

enum MHD_Result media_original(struct request *req)
{
	const char *reason = req_arg(req, "reason");
	if (!reason || !*reason || strlen(reason) > RECORDS_REASON_MAX)
		return respond_error(req, MHD_HTTP_BAD_REQUEST,
		                     "say which records request this original is for (?reason=, up to "
		                     "%d characters): the audit trail keeps it",
		                     RECORDS_REASON_MAX);
	/* A browser's GET writes to the audit trail: it must come from the
	 * clip page's form, not from a link another site made an admin follow
	 * (a token, which no other site holds, needs no such proof). */
	const char *csrf = req_arg(req, "csrf");
	if (req->by_session && (!csrf || !auth_csrf_equal(csrf, req->csrf)))
		return respond_error(req, MHD_HTTP_FORBIDDEN,
		                     "download the original with the form on the clip's page (this "
		                     "link lacks the page's form token, or it is out of date: reload "
		                     "the page)");
	struct cat_clip c;
	int rc = cat_clip_get(req->db, &req->user, req->ids[0], &c);
	if (rc == KD_ENOTFOUND)
		return respond_error(req, MHD_HTTP_NOT_FOUND, "no clip with id %lld",
		                     (long long)req->ids[0]);
	if (rc < 0)
		return respond_kd_error(req, rc, NULL);
	char detail[RECORDS_REASON_MAX + 300];
	snprintf(detail, sizeof detail, "'%s' (%s): %s", c.title,
	         c.original_name ? c.original_name : "", reason);
	req_audit(req, AUDIT_ORIGINAL, c.id, c.title, detail);
	cat_clip_free(&c);
	req->keep_off = true;
	struct source src = {.fd = -1, .storage = req->srv->storage};
	if (storage_kind(req->srv->storage) == STORAGE_S3)
		return redirect_presigned(req, req->ids[0], KD_FILE_ORIGINAL, ORIGINAL_LINK_SECONDS);
	char *path = paths_clip_file(req->srv->cfg->data_dir, req->ids[0], KD_FILE_ORIGINAL);
	src.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	struct stat st;
	if (src.fd < 0 || fstat(src.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (src.fd >= 0)
			close(src.fd);
		return respond_error(req, MHD_HTTP_NOT_FOUND,
		                     "the original of clip %lld is missing from the server; `kindling "
		                     "check` reports such clips, and a backup may hold it",
		                     (long long)req->ids[0]);
	}
	src.size = (uint64_t)st.st_size;
	src.mtime = st.st_mtime;
	snprintf(src.etag, sizeof src.etag, "\"o%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_size,
	         (uint64_t)st.st_mtim.tv_sec);
	return serve_source(req, KD_FILE_ORIGINAL, &src);
}
