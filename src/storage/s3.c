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

#include "s3_req.h"

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

static int s3_check(void *impl, char *err, size_t errlen)
{
	struct s3 *s = impl;
	struct s3_request r;
	s3_req_init(&r, "GET", NULL);
	s3_req_query(&r, "list-type", "2");
	s3_req_query(&r, "max-keys", "1");
	s3_req_query(&r, "prefix", s->prefix);
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !s3_ok(&resp))
		rc = -1;
	if (rc < 0)
		rc = s3_fail(s, &resp, "list", NULL, err, errlen);
	s3_response_release(&resp);
	return rc;
}

static int s3_put_buf(void *impl, const char *key, const void *data, size_t len,
                      const char *content_type, char *err, size_t errlen)
{
	struct s3_request r;
	s3_req_init(&r, "PUT", key);
	r.content_type = content_type ? content_type : "application/octet-stream";
	r.body_kind = S3_MEM_BODY;
	r.body = data;
	r.body_len = len;
	return s3_put_body(impl, key, &r, "store", NULL, err, errlen);
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
		s3_req_init(&r, "PUT", key);
		r.content_type = type;
		r.body_kind = S3_FILE_BODY;
		r.fd = fd;
		r.body_len = size;
		rc = s3_put_body(s, key, &r, "store", NULL, err, errlen);
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
			s3_req_init(&r, "PUT", key);
			s3_req_query(&r, "partNumber", num);
			s3_req_query(&r, "uploadId", id);
			r.body_kind = S3_FILE_BODY;
			r.fd = fd;
			r.fd_off = i * part;
			r.body_len = size - r.fd_off < part ? size - r.fd_off : part;
			parts[i].number = (int)(i + 1);
			parts[i].size = r.body_len;
			rc = s3_put_body(s, key, &r, "upload a part to", parts[i].etag, err, errlen);
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
	s3_req_init(&r, "GET", key);
	r.get_off = off;
	r.get_len = len;
	r.sink = fn;
	r.sink_arg = arg;
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !s3_ok(&resp))
		rc = -1;
	/* the sink's own error is the caller's to describe */
	if (rc < 0 && !resp.sink_stopped)
		rc = s3_fail(s, &resp, "read", key, err, errlen);
	s3_response_release(&resp);
	return rc;
}


static int s3_del(void *impl, const char *key, char *err, size_t errlen)
{
	struct s3 *s = impl;
	struct s3_request r;
	s3_req_init(&r, "DELETE", key);
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !s3_ok(&resp) && !(resp.status == 404 && !strcmp(resp.code, "NoSuchKey")))
		rc = -1;
	if (rc < 0)
		rc = s3_fail(s, &resp, "delete", key, err, errlen);
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
	s3_req_init(&r, "GET", NULL);
	s3_req_query(&r, "list-type", "2");
	s3_req_query(&r, "max-keys", max_keys);
	s3_req_query(&r, "prefix", full);
	if (token)
		s3_req_query(&r, "continuation-token", token);
	r.body_max = S3_LIST_XML_MAX;
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !s3_ok(&resp))
		rc = -1;
	if (rc < 0) {
		rc = s3_fail(s, &resp, "list", prefix, err, errlen);
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
		s3_where(s, prefix, at, sizeof at);
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
	s3_req_init(&r, "POST", NULL);
	s3_req_query(&r, "delete", "");
	r.content_type = "application/xml";
	r.content_md5 = md5b64;
	r.body_kind = S3_MEM_BODY;
	r.body = xml.data;
	r.body_len = xml.len;
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && s3_ok(&resp)) {
		/* quiet: only the keys that failed are named */
		struct xml_span doc = {resp.body.data, resp.body.len}, inner;
		size_t pos = 0;
		if (xml_next(doc, &pos, "Error", &inner)) {
			char key[STORAGE_KEY_MAX + 300] = "";
			xml_text(inner, "Key", key, sizeof key);
			xml_text(inner, "Code", resp.code, sizeof resp.code);
			xml_text(inner, "Message", resp.message, sizeof resp.message);
			resp.status = 500;
			rc = s3_fail(s, &resp, "delete", *key ? key + strlen(s->prefix) : prefix, err, errlen);
		}
	} else if (rc == 0 && resp.status == 501) {
		/* no DeleteObjects at this service (some S3 imitations): one by one */
		for (size_t i = 0; i < b->n && rc == 0; i++)
			rc = s3_del(s, b->keys[i], err, errlen);
	} else {
		rc = s3_fail(s, &resp, "delete the keys under", prefix, err, errlen);
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
			s3_where(s, b.keys[0], at, sizeof at);
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
