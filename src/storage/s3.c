/* s3.c - the S3 back end: what to ask a bucket for each storage operation,
 * and what its answers mean, in sentences (see storage.h and backend.h;
 * the requests themselves are s3_http.c's). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "keys.h"
#include "kindling/err.h"
#include "kindling/mem.h"
#include "s3_http.h"
#include "xml.h"

#define LIST_PAGE "1000"   /* keys per page of a listing (S3's most) */
#define DELETE_BATCH 1000  /* keys per DeleteObjects (S3's most) */

/* ------------------------------------------------------------ sentences */

/* What each error code of S3 means for the person reading the log, and
 * the KD_E* code it becomes.  %s in `what` is the endpoint. */
static const struct {
	const char *code;
	int err;
	const char *what;
} CODES[] = {
	{"InvalidAccessKeyId", KD_EAUTH,
	 "the object storage at %s does not know the access key '%s': check AWS_ACCESS_KEY_ID"},
	{"SignatureDoesNotMatch", KD_EAUTH,
	 "the object storage at %s refused the request's signature: check AWS_SECRET_ACCESS_KEY "
	 "(and that s3_region is the bucket's region)"},
	{"InvalidToken", KD_EAUTH,
	 "the object storage at %s refused AWS_SESSION_TOKEN: set the token that goes with "
	 "AWS_ACCESS_KEY_ID, or unset it for long-term keys"},
	{"ExpiredToken", KD_EAUTH,
	 "the temporary credentials (AWS_SESSION_TOKEN) have expired: get new ones and restart "
	 "kindling"},
	{"RequestTimeTooSkewed", KD_EAUTH,
	 "this machine's clock and the object storage's (at %s) differ by more than 15 minutes: "
	 "set the clock (NTP)"},
	{"AccessDenied", KD_EPERM,
	 "the object storage at %s denied access: the credentials need s3:GetObject, "
	 "s3:PutObject, s3:DeleteObject and s3:ListBucket on the bucket"},
	{"AllAccessDisabled", KD_EPERM, "all access to the bucket is disabled at %s"},
	{"NoSuchBucket", KD_ENOTFOUND,
	 "the bucket does not exist at %s: create it, or correct `storage` (and s3_endpoint) in "
	 "kindling.conf"},
	{"AuthorizationHeaderMalformed", KD_EINVAL,
	 "the object storage at %s refused the region: set s3_region to the bucket's region"},
	{"PermanentRedirect", KD_EINVAL,
	 "the bucket is in another region or at another endpoint than %s: set s3_region (and "
	 "s3_endpoint) to the bucket's"},
	{"IllegalLocationConstraintException", KD_EINVAL,
	 "the bucket is in another region than the one signed for at %s: set s3_region"},
	{"NoSuchKey", KD_ENOTFOUND, "no such object"},
	{"NoSuchUpload", KD_ENOTFOUND,
	 "the multipart upload is no longer there (completed, aborted, or expired by a lifecycle "
	 "rule)"},
	{"InvalidRange", KD_EINVAL, "the byte range starts at or past the end of the object"},
	{"EntityTooSmall", KD_EINVAL,
	 "a part other than the last is smaller than 5 MiB, which S3 refuses"},
	{"InvalidPart", KD_EINVAL,
	 "a part named to complete the upload is missing or has another ETag"},
	{"InvalidPartOrder", KD_EINVAL, "the parts to complete the upload are not in order"},
	{"XAmzContentSHA256Mismatch", KD_EIO,
	 "the bytes that arrived at %s are not the bytes sent (their SHA-256 differs): the "
	 "network damaged them; try again"},
	{"BadDigest", KD_EIO,
	 "the bytes that arrived at %s are not the bytes sent (their MD5 differs); try again"},
	{"PreconditionFailed", KD_EIO, "the object changed while it was being read: read it again"},
	{"SlowDown", KD_EIO, "the object storage at %s asked for fewer requests (SlowDown): try "
	                     "again later"},
	{"ServiceUnavailable", KD_EIO, "the object storage at %s is unavailable: try again later"},
	{"InternalError", KD_EIO, "the object storage at %s failed: try again later"},
	{"NotImplemented", KD_EINVAL, "the object storage at %s does not implement this request"},
};

/* "s3://bucket/prefix/key" for sentences. */
static void where(const struct s3 *s, const char *key, char *out, size_t outlen)
{
	snprintf(out, outlen, "s3://%s/%s%s", s->bucket, s->prefix, key ? key : "");
}

/* Put the sentence for a failed request into err and return its code.
 * doing: "read", "store", ... (a verb for "cannot %s"). */
static int fail(const struct s3 *s, const struct s3_response *resp, const char *doing,
                const char *key, char *err, size_t errlen)
{
	char at[STORAGE_KEY_MAX + 160];
	where(s, key, at, sizeof at);
	if (resp->bad_answer) {
		snprintf(err, errlen,
		         "cannot %s %s: the object storage at %s answered with %s; is s3_endpoint an "
		         "S3-compatible service?",
		         doing, at, s->endpoint, resp->message);
		return KD_EIO;
	}
	if (resp->status == 0) {
		const char *why = resp->curl_err[0] ? resp->curl_err : curl_easy_strerror(resp->curl);
		bool reach = resp->curl == CURLE_COULDNT_CONNECT ||
		             resp->curl == CURLE_COULDNT_RESOLVE_HOST ||
		             (resp->curl == CURLE_OPERATION_TIMEDOUT && resp->delivered == 0);
		snprintf(err, errlen,
		         reach ? "cannot %s %s: cannot reach the object storage at %s (%s, %d %s): "
		                 "check s3_endpoint in kindling.conf and that the service is running"
		               : "cannot %s %s: the connection to the object storage at %s failed "
		                 "(%s, %d %s); try again",
		         doing, at, s->endpoint, why, resp->attempts,
		         resp->attempts == 1 ? "attempt" : "attempts");
		return KD_EIO;
	}
	for (size_t i = 0; i < sizeof CODES / sizeof *CODES; i++) {
		if (strcmp(resp->code, CODES[i].code))
			continue;
		char what[400];
		if (!strcmp(resp->code, "InvalidAccessKeyId"))
			snprintf(what, sizeof what, CODES[i].what, s->endpoint, s->creds.access_key);
		else
			snprintf(what, sizeof what, CODES[i].what, s->endpoint);
		/* S3's own words too, when they add something (the region it
		 * expects, the key it lacks) */
		snprintf(err, errlen, "cannot %s %s: %s%s%s%s", doing, at, what,
		         resp->message[0] ? " (S3: \"" : "", resp->message,
		         resp->message[0] ? "\")" : "");
		return CODES[i].err;
	}
	/* a HEAD has no body, so no code: only the status speaks */
	int code = resp->status == 404   ? KD_ENOTFOUND
	           : resp->status == 403 ? KD_EPERM
	           : resp->status == 401 ? KD_EAUTH
	           : resp->status == 416 ? KD_EINVAL
	                                 : KD_EIO;
	const char *what = resp->status == 404 ? "no such object"
	                   : resp->status == 403
	                       ? "the object storage denied access (or does not accept the credentials): "
	                         "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and their permissions"
	                   : resp->status == 416 ? "the byte range starts at or past the end of the object"
	                   : resp->status >= 500 ? "the object storage failed; try again later"
	                                         : "the object storage refused the request";
	snprintf(err, errlen, "cannot %s %s: %s (HTTP %ld%s%s%s%s%s)", doing, at, what, resp->status,
	         resp->code[0] ? " " : "", resp->code, resp->message[0] ? ": " : "", resp->message,
	         resp->status >= 500 && resp->attempts > 1 ? ", after several attempts" : "");
	return code;
}

static bool ok2xx(const struct s3_response *resp)
{
	return resp->status >= 200 && resp->status < 300;
}

/* ------------------------------------------------------------ open, close */

static void s3_close(void *impl)
{
	struct s3 *s = impl;
	if (!s)
		return;
	s3_pool_free(s);
	pthread_mutex_destroy(&s->lock);
	free(s->bucket);
	free(s->prefix);
	free(s->endpoint);
	free(s->host);
	free(s->base);
	free(s->region);
	free((char *)s->creds.access_key);
	if (s->creds.secret_key) {
		sodium_memzero((char *)s->creds.secret_key, strlen(s->creds.secret_key));
		free((char *)s->creds.secret_key);
	}
	free((char *)s->creds.session_token);
	free(s);
	curl_global_cleanup();
}

int storage_s3_new(const struct storage_s3_settings *st, void **impl, char **describe, char *err,
                   size_t errlen)
{
	if (!st->bucket || !*st->bucket) {
		snprintf(err, errlen, "the object storage needs a bucket");
		return KD_EINVAL;
	}
	if (!st->access_key || !*st->access_key || !st->secret_key || !*st->secret_key) {
		snprintf(err, errlen,
		         "storage = s3://%s needs credentials: set AWS_ACCESS_KEY_ID and "
		         "AWS_SECRET_ACCESS_KEY in kindling's environment",
		         st->bucket);
		return KD_EAUTH;
	}
	if (strpbrk(st->access_key, "/,= \t\r\n") || strpbrk(st->secret_key, "\r\n") ||
	    (st->session_token && strpbrk(st->session_token, "\r\n"))) {
		snprintf(err, errlen, "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN "
		         "holds a character no key has: check them");
		return KD_EAUTH;
	}
	const char *prefix = st->prefix ? st->prefix : "";
	if (*prefix && (!storage_prefix_valid(prefix) || prefix[strlen(prefix) - 1] == '/')) {
		snprintf(err, errlen, "'%.80s' is not a prefix for object keys", prefix);
		return KD_EINVAL;
	}
	const char *region = st->region && *st->region ? st->region : "us-east-1";
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		snprintf(err, errlen, "cannot start libsodium or libcurl");
		return KD_ENOMEM;
	}
	struct s3 *s = kd_calloc(1, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	s->bucket = kd_strdup(st->bucket);
	s->prefix = *prefix ? kd_asprintf("%s/", prefix) : kd_strdup("");
	s->region = kd_strdup(region);
	s->creds.access_key = kd_strdup(st->access_key);
	s->creds.secret_key = kd_strdup(st->secret_key);
	s->creds.session_token =
		st->session_token && *st->session_token ? kd_strdup(st->session_token) : NULL;
	s->attempts = 4;
	s->pause_ms = 200;
	if (st->endpoint && *st->endpoint) {
		/* An S3-compatible service: path-style, the bucket in the path,
		 * since its DNS rarely knows BUCKET.host. */
		const char *e = st->endpoint;
		size_t n = strlen(e);
		while (n > 0 && e[n - 1] == '/')
			n--;
		const char *hostpart = strstr(e, "://");
		if (!hostpart || hostpart + 3 >= e + n) {
			s3_close(s);
			snprintf(err, errlen, "s3_endpoint '%.80s' is not http(s)://HOST[:PORT]", e);
			return KD_EINVAL;
		}
		s->endpoint = kd_strndup(e, n);
		s->host = kd_strndup(hostpart + 3, (size_t)(e + n - hostpart - 3));
		s->base = kd_asprintf("/%s", st->bucket);
	} else if (strchr(st->bucket, '.')) {
		/* a dotted name breaks the certificate of BUCKET.s3...: path-style */
		s->host = kd_asprintf("s3.%s.amazonaws.com", region);
		s->endpoint = kd_asprintf("https://%s", s->host);
		s->base = kd_asprintf("/%s", st->bucket);
	} else {
		s->host = kd_asprintf("%s.s3.%s.amazonaws.com", st->bucket, region);
		s->endpoint = kd_asprintf("https://%s", s->host);
		s->base = kd_strdup("");
	}
	*impl = s;
	*describe = kd_asprintf("s3://%s/%s at %s", s->bucket, s->prefix, s->endpoint);
	return 0;
}

/* ------------------------------------------------------------ requests */

static void init_req(struct s3_request *r, const char *method, const char *key)
{
	memset(r, 0, sizeof *r);
	r->method = method;
	r->key = key;
	r->fd = -1;
	r->get_len = STORAGE_TO_END;
	r->body_max = S3_XML_MAX;
	/* Every request but creating a multipart upload (which would leave an
	 * orphan upload behind) may be sent again. */
	r->idempotent = true;
}

static void add_query(struct s3_request *r, const char *name, const char *value)
{
	r->query[r->nquery++] = (struct sigv4_kv){name, value};
}

static int s3_check(void *impl, char *err, size_t errlen)
{
	struct s3 *s = impl;
	struct s3_request r;
	init_req(&r, "GET", NULL);
	add_query(&r, "list-type", "2");
	add_query(&r, "max-keys", "1");
	add_query(&r, "prefix", s->prefix);
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !ok2xx(&resp))
		rc = -1;
	if (rc < 0)
		rc = fail(s, &resp, "list", NULL, err, errlen);
	s3_response_release(&resp);
	return rc;
}

static int put_body(struct s3 *s, const char *key, struct s3_request *r, const char *doing,
                    char etag[STORAGE_ETAG_MAX], char *err, size_t errlen)
{
	struct s3_response resp;
	int rc = s3_perform(s, r, &resp);
	if (rc == 0 && !ok2xx(&resp))
		rc = -1;
	if (rc < 0 && resp.attempts == 0) {
		/* s3_perform could not read the body file */
		snprintf(err, errlen, "cannot %s %s: reading the file failed: %s", doing, key,
		         strerror(errno));
	} else if (rc < 0) {
		rc = fail(s, &resp, doing, key, err, errlen);
	} else if (etag) {
		if (!resp.etag[0]) {
			char at[STORAGE_KEY_MAX + 160];
			where(s, key, at, sizeof at);
			snprintf(err, errlen, "cannot %s %s: the object storage at %s gave no ETag", doing,
			         at, s->endpoint);
			rc = KD_EIO;
		} else {
			memcpy(etag, resp.etag, STORAGE_ETAG_MAX);
		}
	}
	s3_response_release(&resp);
	return rc;
}

static int s3_put_buf(void *impl, const char *key, const void *data, size_t len,
                      const char *content_type, char *err, size_t errlen)
{
	struct s3_request r;
	init_req(&r, "PUT", key);
	r.content_type = content_type ? content_type : "application/octet-stream";
	r.body_kind = S3_MEM_BODY;
	r.body = data;
	r.body_len = len;
	return put_body(impl, key, &r, "store", NULL, err, errlen);
}

/* ------------------------------------------------------------ multipart */

static int s3_mpu_create(void *impl, const char *key, const char *content_type,
                         char **upload_id, char *err, size_t errlen)
{
	struct s3 *s = impl;
	struct s3_request r;
	init_req(&r, "POST", key);
	add_query(&r, "uploads", "");
	r.content_type = content_type ? content_type : "application/octet-stream";
	r.idempotent = false;
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !ok2xx(&resp))
		rc = -1;
	if (rc < 0) {
		rc = fail(s, &resp, "start an upload to", key, err, errlen);
	} else {
		char id[STORAGE_UPLOAD_ID_MAX];
		struct xml_span doc = {resp.body.data, resp.body.len};
		bool ok = xml_text(doc, "UploadId", id, sizeof id) == 0 && *id;
		for (const char *c = id; ok && *c; c++)
			ok = *c > 32 && *c < 127;
		if (ok) {
			*upload_id = kd_strdup(id);
		} else {
			char at[STORAGE_KEY_MAX + 160];
			where(s, key, at, sizeof at);
			snprintf(err, errlen, "cannot start an upload to %s: the object storage at %s "
			         "answered without a usable UploadId", at, s->endpoint);
			rc = KD_EIO;
		}
	}
	s3_response_release(&resp);
	return rc;
}

static int s3_mpu_put_part(void *impl, const char *key, const char *upload_id, int number,
                           const void *data, size_t len, char etag[STORAGE_ETAG_MAX],
                           char *err, size_t errlen)
{
	char num[24];
	snprintf(num, sizeof num, "%d", number);
	struct s3_request r;
	init_req(&r, "PUT", key);
	add_query(&r, "partNumber", num);
	add_query(&r, "uploadId", upload_id);
	r.body_kind = S3_MEM_BODY;
	r.body = data;
	r.body_len = len;
	return put_body(impl, key, &r, "upload a part to", etag, err, errlen);
}

static int s3_mpu_list_parts(void *impl, const char *key, const char *upload_id,
                             struct storage_part **parts, size_t *n, char *err, size_t errlen)
{
	struct s3 *s = impl;
	*parts = NULL;
	*n = 0;
	size_t alloc = 0;
	char marker[16] = "0";
	int rc = 0;
	for (int page = 0; rc == 0; page++) {
		struct s3_request r;
		init_req(&r, "GET", key);
		add_query(&r, "max-parts", "1000");
		add_query(&r, "part-number-marker", marker);
		add_query(&r, "uploadId", upload_id);
		struct s3_response resp;
		rc = s3_perform(s, &r, &resp);
		if (rc == 0 && !ok2xx(&resp))
			rc = -1;
		if (rc < 0) {
			rc = fail(s, &resp, "list the parts of an upload to", key, err, errlen);
			s3_response_release(&resp);
			break;
		}
		struct xml_span doc = {resp.body.data, resp.body.len}, part;
		size_t pos = 0;
		const char *why = NULL;
		while (!why && xml_next(doc, &pos, "Part", &part)) {
			char num[24], size[24];
			struct storage_part p = {0};
			uint64_t sz = 0;
			char *end;
			if (xml_text(part, "PartNumber", num, sizeof num) < 0 ||
			    xml_text(part, "Size", size, sizeof size) < 0 ||
			    xml_text(part, "ETag", p.etag, sizeof p.etag) < 0) {
				why = "a part without its number, size or ETag";
				break;
			}
			long v = strtol(num, &end, 10);
			errno = 0;
			sz = strtoull(size, NULL, 10);
			if (*end || v < 1 || v > STORAGE_PARTS_MAX || errno ||
			    (*n > 0 && v <= (*parts)[*n - 1].number)) {
				why = "part numbers out of range or order";
				break;
			}
			if (*n >= STORAGE_PARTS_MAX) {
				why = "more than 10,000 parts";
				break;
			}
			p.number = (int)v;
			p.size = sz;
			if (*n == alloc) {
				alloc = alloc ? alloc * 2 : 16;
				*parts = kd_realloc(*parts, alloc * sizeof **parts);
			}
			(*parts)[(*n)++] = p;
		}
		char truncated[8] = "", next[16] = "";
		xml_text(doc, "IsTruncated", truncated, sizeof truncated);
		if (!why && !strcmp(truncated, "true")) {
			/* the next page starts after the last part seen; a marker
			 * that does not move on would loop forever */
			if (xml_text(doc, "NextPartNumberMarker", next, sizeof next) < 0 ||
			    strtol(next, NULL, 10) <= strtol(marker, NULL, 10) || page > STORAGE_PARTS_MAX)
				why = "a page of parts that does not move on";
			else
				memcpy(marker, next, sizeof marker);
		}
		s3_response_release(&resp);
		if (why) {
			char at[STORAGE_KEY_MAX + 160];
			where(s, key, at, sizeof at);
			snprintf(err, errlen, "cannot list the parts of an upload to %s: the object storage "
			         "at %s answered with %s", at, s->endpoint, why);
			rc = KD_EIO;
		} else if (strcmp(truncated, "true")) {
			break;
		}
	}
	if (rc < 0) {
		free(*parts);
		*parts = NULL;
		*n = 0;
	}
	return rc;
}

static int s3_stat(void *impl, const char *key, struct storage_stat *st, char *err,
                   size_t errlen);

static int s3_mpu_complete(void *impl, const char *key, const char *upload_id,
                           const struct storage_part *parts, size_t n, char *err, size_t errlen)
{
	struct s3 *s = impl;
	struct kd_buf xml = KD_BUF_INIT((size_t)STORAGE_PARTS_MAX * (STORAGE_ETAG_MAX + 100));
	kd_buf_puts(&xml, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (size_t i = 0; i < n; i++) {
		kd_buf_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>", parts[i].number);
		xml_escape(&xml, parts[i].etag);
		kd_buf_puts(&xml, "</ETag></Part>");
	}
	kd_buf_puts(&xml, "</CompleteMultipartUpload>");
	struct s3_request r;
	init_req(&r, "POST", key);
	add_query(&r, "uploadId", upload_id);
	r.content_type = "application/xml";
	r.body_kind = S3_MEM_BODY;
	r.body = xml.data;
	r.body_len = xml.len;
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && ok2xx(&resp)) {
		/* S3 answers 200 at once and may report a failure inside the body
		 * minutes later: the body must say CompleteMultipartUploadResult */
		struct xml_span doc = {resp.body.data, resp.body.len}, inner;
		size_t pos = 0;
		if (xml_next(doc, &pos, "Error", &inner)) {
			xml_text(inner, "Code", resp.code, sizeof resp.code);
			xml_text(inner, "Message", resp.message, sizeof resp.message);
			resp.status = 500;
			rc = -1;
		}
	} else if (rc == 0) {
		rc = -1;
	}
	if (rc < 0 && resp.attempts > 1 && !strcmp(resp.code, "NoSuchUpload")) {
		/* An attempt before this one may have completed the upload and
		 * lost only its answer: then the object is there. */
		struct storage_stat st;
		char why[KD_ERRMSG_MAX];
		if (s3_stat(s, key, &st, why, sizeof why) == 0)
			rc = 0;
	}
	if (rc < 0)
		rc = fail(s, &resp, "complete an upload to", key, err, errlen);
	s3_response_release(&resp);
	kd_buf_release(&xml);
	return rc;
}

static int s3_mpu_abort(void *impl, const char *key, const char *upload_id, char *err,
                        size_t errlen)
{
	struct s3 *s = impl;
	struct s3_request r;
	init_req(&r, "DELETE", key);
	add_query(&r, "uploadId", upload_id);
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !ok2xx(&resp) && !(resp.status == 404 && strcmp(resp.code, "NoSuchBucket")))
		rc = -1;
	if (rc < 0)
		rc = fail(s, &resp, "abort an upload to", key, err, errlen);
	s3_response_release(&resp);
	return rc;
}

/* ------------------------------------------------------------ objects */

static int s3_put_file(void *impl, const char *key, const char *path, const char *content_type,
                       unsigned flags, char *err, size_t errlen)
{
	struct s3 *s = impl;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int e = fd < 0 || fstat(fd, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : EISDIR;
	if (e) {
		snprintf(err, errlen, "cannot store %s: cannot read %s: %s", key, path,
		         e == EISDIR ? "not a file" : strerror(e));
		if (fd >= 0)
			close(fd);
		return e == ENOENT ? KD_ENOTFOUND : KD_EIO;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	uint64_t size = (uint64_t)st.st_size;
	const char *type = content_type ? content_type : "application/octet-stream";
	int rc;
	if (size <= STORAGE_PART_SIZE) {
		struct s3_request r;
		init_req(&r, "PUT", key);
		r.content_type = type;
		r.body_kind = S3_FILE_BODY;
		r.fd = fd;
		r.body_len = size;
		rc = put_body(s, key, &r, "store", NULL, err, errlen);
	} else {
		/* Parts of 16 MiB, more when the file would need more than
		 * 10,000 of them (past 156 GiB), each read from the file on its
		 * own: memory stays at one read buffer, whatever the size. */
		uint64_t part = STORAGE_PART_SIZE;
		while ((size + part - 1) / part > STORAGE_PARTS_MAX)
			part *= 2;
		size_t count = (size_t)((size + part - 1) / part);
		char *id = NULL;
		rc = s3_mpu_create(s, key, type, &id, err, errlen);
		struct storage_part *parts = rc == 0 ? kd_calloc(count, sizeof *parts) : NULL;
		for (size_t i = 0; i < count && rc == 0; i++) {
			char num[24];
			snprintf(num, sizeof num, "%zu", i + 1);
			struct s3_request r;
			init_req(&r, "PUT", key);
			add_query(&r, "partNumber", num);
			add_query(&r, "uploadId", id);
			r.body_kind = S3_FILE_BODY;
			r.fd = fd;
			r.fd_off = i * part;
			r.body_len = size - r.fd_off < part ? size - r.fd_off : part;
			parts[i].number = (int)(i + 1);
			parts[i].size = r.body_len;
			rc = put_body(s, key, &r, "upload a part to", parts[i].etag, err, errlen);
		}
		if (rc == 0)
			rc = s3_mpu_complete(s, key, id, parts, count, err, errlen);
		if (rc < 0 && id) {
			/* leave no parts behind to be paid for; the first error is
			 * the one to report */
			char why[KD_ERRMSG_MAX];
			s3_mpu_abort(s, key, id, why, sizeof why);
		}
		free(parts);
		free(id);
	}
	close(fd);
	if (rc == 0 && (flags & STORAGE_MOVE))
		unlink(path);
	return rc;
}

static int s3_get(void *impl, const char *key, uint64_t off, uint64_t len, storage_write_fn fn,
                  void *arg, char *err, size_t errlen)
{
	struct s3 *s = impl;
	struct s3_request r;
	init_req(&r, "GET", key);
	r.get_off = off;
	r.get_len = len;
	r.sink = fn;
	r.sink_arg = arg;
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !ok2xx(&resp))
		rc = -1;
	/* the sink's own error is the caller's to describe */
	if (rc < 0 && !resp.sink_stopped)
		rc = fail(s, &resp, "read", key, err, errlen);
	s3_response_release(&resp);
	return rc;
}

static int discard(void *arg, const void *data, size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	return 0;
}

static int s3_stat(void *impl, const char *key, struct storage_stat *st, char *err,
                   size_t errlen)
{
	struct s3 *s = impl;
	struct s3_request r;
	init_req(&r, "HEAD", key);
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && ok2xx(&resp)) {
		if (!resp.has_length) {
			char at[STORAGE_KEY_MAX + 160];
			where(s, key, at, sizeof at);
			snprintf(err, errlen, "cannot look at %s: the object storage at %s gave no size",
			         at, s->endpoint);
			rc = KD_EIO;
		} else {
			st->size = resp.length;
			st->mtime = resp.mtime;
			memcpy(st->etag, resp.etag, sizeof st->etag);
		}
	} else if (rc == 0 && resp.status != 404 && resp.status < 500) {
		/* A HEAD's answer has no body to say why: ask the same with a GET
		 * of one byte, whose error comes with its code. */
		struct s3_request g;
		init_req(&g, "GET", key);
		g.get_len = 1;
		g.sink = discard;
		struct s3_response why;
		if (s3_perform(s, &g, &why) == 0 && why.code[0]) {
			s3_response_release(&resp);
			resp = why;
		} else {
			s3_response_release(&why);
		}
		rc = fail(s, &resp, "look at", key, err, errlen);
	} else {
		rc = fail(s, &resp, "look at", key, err, errlen);
	}
	s3_response_release(&resp);
	return rc;
}

static int s3_del(void *impl, const char *key, char *err, size_t errlen)
{
	struct s3 *s = impl;
	struct s3_request r;
	init_req(&r, "DELETE", key);
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !ok2xx(&resp) && !(resp.status == 404 && !strcmp(resp.code, "NoSuchKey")))
		rc = -1;
	if (rc < 0)
		rc = fail(s, &resp, "delete", key, err, errlen);
	s3_response_release(&resp);
	return rc;
}

/* One page of ListObjectsV2 under the bucket prefix + prefix, after token
 * (NULL for the first page): each valid key to fn; *next gets the token of
 * the next page or NULL when this was the last. */
static int list_page(struct s3 *s, const char *prefix, const char *token, const char *max_keys,
                     storage_list_fn fn, void *arg, char **next, char *err, size_t errlen)
{
	*next = NULL;
	char *full = kd_asprintf("%s%s", s->prefix, prefix);
	struct s3_request r;
	init_req(&r, "GET", NULL);
	add_query(&r, "list-type", "2");
	add_query(&r, "max-keys", max_keys);
	add_query(&r, "prefix", full);
	if (token)
		add_query(&r, "continuation-token", token);
	r.body_max = S3_LIST_XML_MAX;
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !ok2xx(&resp))
		rc = -1;
	if (rc < 0) {
		rc = fail(s, &resp, "list", prefix, err, errlen);
		goto out;
	}
	struct xml_span doc = {resp.body.data, resp.body.len}, item;
	size_t pos = 0, plen = strlen(s->prefix);
	const char *why = NULL;
	while (!why && xml_next(doc, &pos, "Contents", &item)) {
		char key[STORAGE_KEY_MAX + 300], size[24], modified[40];
		struct storage_stat st = {.mtime = -1};
		int k = xml_text(item, "Key", key, sizeof key);
		if (k == KD_ETOOBIG)
			continue; /* not one of ours: longer than any key */
		if (k < 0 || xml_text(item, "Size", size, sizeof size) < 0) {
			why = "an entry without its key or size";
			break;
		}
		char *end;
		errno = 0;
		st.size = strtoull(size, &end, 10);
		if (errno || *end || !*size) {
			why = "a size that is not a number";
			break;
		}
		xml_text(item, "ETag", st.etag, sizeof st.etag);
		if (xml_text(item, "LastModified", modified, sizeof modified) == 0) {
			struct tm tm = {0};
			const char *rest = strptime(modified, "%Y-%m-%dT%H:%M:%S", &tm);
			if (rest)
				st.mtime = (int64_t)timegm(&tm);
		}
		/* only ours: under the prefix, and a valid key after it */
		if (strncmp(key, s->prefix, plen) || !storage_key_valid(key + plen))
			continue;
		rc = fn(arg, key + plen, &st);
		if (rc != 0)
			goto out;
	}
	char truncated[8] = "";
	xml_text(doc, "IsTruncated", truncated, sizeof truncated);
	if (!why && !strcmp(truncated, "true")) {
		char tok[4096];
		if (xml_text(doc, "NextContinuationToken", tok, sizeof tok) < 0 || !*tok ||
		    (token && !strcmp(tok, token)))
			why = "a page of keys with no way to the next";
		else
			*next = kd_strdup(tok);
	}
	if (why) {
		char at[STORAGE_KEY_MAX + 160];
		where(s, prefix, at, sizeof at);
		snprintf(err, errlen, "cannot list %s: the object storage at %s answered with %s", at,
		         s->endpoint, why);
		rc = KD_EIO;
	}
out:
	s3_response_release(&resp);
	free(full);
	return rc;
}

static int s3_list(void *impl, const char *prefix, storage_list_fn fn, void *arg, char *err,
                   size_t errlen)
{
	char *token = NULL;
	int rc;
	do {
		char *next;
		rc = list_page(impl, prefix, token, LIST_PAGE, fn, arg, &next, err, errlen);
		free(token);
		token = next;
	} while (rc == 0 && token);
	free(token);
	return rc;
}

/* delete_prefix gathers a page of keys, then deletes them in one request. */
struct batch {
	char **keys;
	size_t n;
};

static int gather(void *arg, const char *key, const struct storage_stat *st)
{
	(void)st;
	struct batch *b = arg;
	b->keys[b->n++] = kd_strdup(key);
	return b->n == DELETE_BATCH ? 1 : 0; /* a full batch: stop listing */
}

static int delete_batch(struct s3 *s, const struct batch *b, const char *prefix, char *err,
                        size_t errlen)
{
	struct kd_buf xml = KD_BUF_INIT(DELETE_BATCH * (STORAGE_KEY_MAX * 6 + 64));
	kd_buf_puts(&xml, "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>");
	for (size_t i = 0; i < b->n; i++) {
		kd_buf_puts(&xml, "<Object><Key>");
		xml_escape(&xml, s->prefix);
		xml_escape(&xml, b->keys[i]);
		kd_buf_puts(&xml, "</Key></Object>");
	}
	kd_buf_puts(&xml, "</Delete>");
	/* DeleteObjects requires the body's MD5 (and the SHA-256 is signed
	 * as for every body) */
	unsigned char md5[16];
	unsigned mdlen = 0;
	char md5b64[32];
	EVP_Digest(xml.data, xml.len, md5, &mdlen, EVP_md5(), NULL);
	sodium_bin2base64(md5b64, sizeof md5b64, md5, sizeof md5, sodium_base64_VARIANT_ORIGINAL);
	struct s3_request r;
	init_req(&r, "POST", NULL);
	add_query(&r, "delete", "");
	r.content_type = "application/xml";
	r.content_md5 = md5b64;
	r.body_kind = S3_MEM_BODY;
	r.body = xml.data;
	r.body_len = xml.len;
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && ok2xx(&resp)) {
		/* quiet: only the keys that failed are named */
		struct xml_span doc = {resp.body.data, resp.body.len}, inner;
		size_t pos = 0;
		if (xml_next(doc, &pos, "Error", &inner)) {
			char key[STORAGE_KEY_MAX + 300] = "";
			xml_text(inner, "Key", key, sizeof key);
			xml_text(inner, "Code", resp.code, sizeof resp.code);
			xml_text(inner, "Message", resp.message, sizeof resp.message);
			resp.status = 500;
			rc = fail(s, &resp, "delete", *key ? key + strlen(s->prefix) : prefix, err, errlen);
		}
	} else if (rc == 0 && resp.status == 501) {
		/* no DeleteObjects at this service (some S3 imitations): one by one */
		for (size_t i = 0; i < b->n && rc == 0; i++)
			rc = s3_del(s, b->keys[i], err, errlen);
	} else {
		rc = fail(s, &resp, "delete the keys under", prefix, err, errlen);
	}
	s3_response_release(&resp);
	kd_buf_release(&xml);
	return rc;
}

static int s3_delete_prefix(void *impl, const char *prefix, char *err, size_t errlen)
{
	struct s3 *s = impl;
	struct batch b = {kd_calloc(DELETE_BATCH, sizeof(char *)), 0};
	char *first = NULL;
	int rc = 0;
	/* List the first page, delete it, list again from the start: what is
	 * deleted is gone from the next listing, so no continuation token has
	 * to outlive a delete. */
	char *token = NULL;
	for (;;) {
		char *next = NULL;
		b.n = 0;
		rc = list_page(s, prefix, token, "1000", gather, &b, &next, err, errlen);
		free(token);
		token = NULL;
		if (rc == 1)
			rc = 0;
		if (rc == 0 && b.n == 0 && next) {
			/* a page of keys not ours (not valid keys): look past it */
			token = next;
			continue;
		}
		free(next);
		if (rc < 0 || b.n == 0)
			break;
		if (first && !strcmp(first, b.keys[0])) {
			char at[STORAGE_KEY_MAX + 160];
			where(s, b.keys[0], at, sizeof at);
			snprintf(err, errlen, "cannot delete %s: the object storage at %s said it did, but "
			         "lists it still", at, s->endpoint);
			rc = KD_EIO;
			break;
		}
		free(first);
		first = kd_strdup(b.keys[0]);
		rc = delete_batch(s, &b, prefix, err, errlen);
		for (size_t i = 0; i < b.n; i++)
			free(b.keys[i]);
		b.n = 0;
		if (rc < 0)
			break;
	}
	for (size_t i = 0; i < b.n; i++)
		free(b.keys[i]);
	free(b.keys);
	free(first);
	return rc;
}

static int s3_presign_get(void *impl, const char *key, unsigned expires,
                          const char *content_type, const char *content_disposition, char **url,
                          char *err, size_t errlen)
{
	struct s3 *s = impl;
	char *path = s3_path(s, key);
	struct sigv4_kv query[2], host[1] = {{"host", s->host}};
	size_t n = 0;
	if (content_disposition)
		query[n++] = (struct sigv4_kv){"response-content-disposition", content_disposition};
	if (content_type)
		query[n++] = (struct sigv4_kv){"response-content-type", content_type};
	struct sigv4_request r = {.method = "GET", .path = path, .query = query, .nquery = n,
	                          .headers = host, .nheaders = 1};
	struct sigv4_scope scope = {.region = s->region, .service = "s3"};
	sigv4_set_time(&scope, time(NULL));
	struct kd_buf u = KD_BUF_INIT(SIGV4_TEXT_MAX);
	int rc = kd_buf_puts(&u, s->endpoint);
	if (rc == 0)
		rc = sigv4_encode(&u, path, strlen(path), true);
	if (rc == 0)
		rc = kd_buf_putc(&u, '?');
	if (rc == 0)
		rc = sigv4_presign_query(&r, &s->creds, &scope, expires, &u);
	if (rc == 0) {
		*url = kd_buf_take(&u, NULL);
	} else {
		snprintf(err, errlen, "cannot make a URL for %s: %s", key, kd_strerror(rc));
	}
	kd_buf_release(&u);
	free(path);
	return rc;
}

const struct storage_ops storage_s3_ops = {
	.close = s3_close,
	.check = s3_check,
	.put_file = s3_put_file,
	.put_buf = s3_put_buf,
	.get = s3_get,
	.stat = s3_stat,
	.del = s3_del,
	.delete_prefix = s3_delete_prefix,
	.list = s3_list,
	.presign_get = s3_presign_get,
	.local_path = NULL,
	.mpu_create = s3_mpu_create,
	.mpu_put_part = s3_mpu_put_part,
	.mpu_list_parts = s3_mpu_list_parts,
	.mpu_complete = s3_mpu_complete,
	.mpu_abort = s3_mpu_abort,
};
