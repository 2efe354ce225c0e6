/* s3_http.c - one S3 request: signed, repeated when safe, bounded (see
 * s3_http.h). */
#define _GNU_SOURCE
#include "s3_http.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/mem.h"
#include "kindling/sha256.h"
#include "xml.h"

#define HASH_CHUNK (1 << 20)
#define EXPECT_MIN (1 << 20)

char *s3_path(const struct s3 *s, const char *key)
{
	if (!key)
		return kd_strdup(*s->base ? s->base : "/");
	return kd_asprintf("%s/%s%s", s->base, s->prefix, key);
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	char *line = kd_asprintf("%s: %s", name, value);
	struct curl_slist *l = curl_slist_append(*list, line);
	free(line);
	if (!l)
		return KD_ENOMEM;
	*list = l;
	return 0;
}

int s3_sign(const struct s3 *s, const struct s3_request *r, const char *payload_hash,
            time_t now, struct curl_slist **headers, char **url)
{
	*headers = NULL;
	*url = NULL;
	char *path = s3_path(s, r->key);
	struct sigv4_scope scope = {.region = s->region, .service = "s3"};
	sigv4_set_time(&scope, now);
	/* What is signed: the host, the date, the body's hash, the token, and
	 * what describes the body.  Range and If-Match are not: they only
	 * narrow what an answer may be, and signing fewer headers leaves fewer
	 * ways for a proxy's rewriting to break a signature. */
	struct sigv4_kv h[6];
	size_t n = 0;
	h[n++] = (struct sigv4_kv){"host", s->host};
	h[n++] = (struct sigv4_kv){"x-amz-content-sha256", payload_hash};
	h[n++] = (struct sigv4_kv){"x-amz-date", scope.date};
	if (s->creds.session_token && *s->creds.session_token)
		h[n++] = (struct sigv4_kv){"x-amz-security-token", s->creds.session_token};
	if (r->content_type)
		h[n++] = (struct sigv4_kv){"content-type", r->content_type};
	if (r->content_md5)
		h[n++] = (struct sigv4_kv){"content-md5", r->content_md5};
	struct sigv4_request sr = {.method = r->method, .path = path, .query = r->query,
	                           .nquery = r->nquery, .headers = h, .nheaders = n,
	                           .payload_hash = payload_hash};
	struct kd_buf auth = KD_BUF_INIT(4096), u = KD_BUF_INIT(SIGV4_TEXT_MAX);
	int rc = sigv4_authorization(&sr, &s->creds, &scope, &auth);
	/* The URL carries the path and query exactly as they were signed. */
	if (rc == 0)
		rc = kd_buf_puts(&u, s->endpoint);
	if (rc == 0)
		rc = sigv4_encode(&u, path, strlen(path), true);
	if (rc == 0 && r->nquery > 0) {
		rc = kd_buf_putc(&u, '?');
		if (rc == 0)
			rc = sigv4_canonical_query(r->query, r->nquery, &u);
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_header(headers, h[i].name, h[i].value);
	if (rc == 0)
		rc = add_header(headers, "Authorization", kd_buf_str(&auth));
	if (rc == 0) {
		*url = kd_buf_take(&u, NULL);
	} else {
		curl_slist_free_all(*headers);
		*headers = NULL;
	}
	kd_buf_release(&auth);
	kd_buf_release(&u);
	free(path);
	return rc;
}

/* ------------------------------------------------------------ the body */

static int hash_body(const struct s3_request *r, char hex[KD_SHA256_HEX])
{
	if (r->body_kind == S3_NO_BODY) {
		memcpy(hex, SIGV4_EMPTY_SHA256, KD_SHA256_HEX);
		return 0;
	}
	struct kd_sha256 h;
	if (kd_sha256_init(&h) < 0)
		return KD_ENOMEM;
	if (r->body_kind == S3_MEM_BODY) {
		kd_sha256_update(&h, r->body, r->body_len);
		kd_sha256_final(&h, hex);
		return 0;
	}
	/* A file part is read twice, once here and once to send it: the
	 * signed hash lets the service refuse bytes damaged on the way, and a
	 * 16 MiB part is still in the page cache the second time. */
	unsigned char *buf = kd_malloc(HASH_CHUNK);
	uint64_t done = 0;
	int rc = 0;
	while (done < r->body_len) {
		size_t want = r->body_len - done < HASH_CHUNK ? (size_t)(r->body_len - done) : HASH_CHUNK;
		ssize_t got = pread(r->fd, buf, want, (off_t)(r->fd_off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = EIO; /* the file got shorter */
			rc = KD_EIO;
			break;
		}
		kd_sha256_update(&h, buf, (size_t)got);
		done += (uint64_t)got;
	}
	free(buf);
	if (rc < 0) {
		int e = errno;
		kd_sha256_abort(&h);
		errno = e;
		return rc;
	}
	kd_sha256_final(&h, hex);
	return 0;
}

/* ------------------------------------------------------------ an attempt */

struct attempt {
	struct s3 *s;
	const struct s3_request *r;
	struct s3_response *resp;
	CURL *h;
	uint64_t sent;           /* body bytes handed to curl */
	uint64_t want;           /* the first byte this attempt asked for */
	bool ranged;             /* it sent a Range */
	bool has_range;          /* the answer's Content-Range */
	uint64_t range_start;
	bool checked;            /* the first body bytes were looked at */
	bool cut_error;          /* an error body was cut at its bound */
	bool enough;             /* the range asked for is in: the rest can go */
	int sink_rc;
	char *pinned;            /* the ETag the read started with */
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct attempt *a = ud;
	const struct s3_request *r = a->r;
	size_t room = size * nitems;
	uint64_t left = r->body_len - a->sent;
	size_t n = left < room ? (size_t)left : room;
	if (n == 0)
		return 0;
	if (r->body_kind == S3_MEM_BODY) {
		memcpy(buf, (const char *)r->body + a->sent, n);
	} else {
		ssize_t got;
		do
			got = pread(r->fd, buf, n, (off_t)(r->fd_off + a->sent));
		while (got < 0 && errno == EINTR);
		if (got <= 0)
			return CURL_READFUNC_ABORT;
		n = (size_t)got;
	}
	a->sent += n;
	return n;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
	struct attempt *a = ud;
	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > a->r->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	a->sent = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static bool header_is(const char *p, size_t n, const char *name)
{
	return n == strlen(name) && !strncasecmp(p, name, n);
}

/* A decimal number that is all of s (n bytes), or false. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static void fail_answer(struct attempt *a, const char *why)
{
	a->resp->bad_answer = true;
	snprintf(a->resp->message, sizeof a->resp->message, "%s", why);
}

static size_t on_header(char *p, size_t size, size_t nitems, void *ud)
{
	struct attempt *a = ud;
	struct s3_response *resp = a->resp;
	size_t n = size * nitems;
	if (n >= 5 && !memcmp(p, "HTTP/", 5)) {
		/* a status line: the headers before it ("100 Continue") are not
		 * this answer's */
		resp->etag[0] = '\0';
		resp->has_length = false;
		resp->mtime = -1;
		a->has_range = false;
		return n;
	}
	const char *colon = memchr(p, ':', n);
	if (!colon)
		return n;
	size_t nlen = (size_t)(colon - p);
	const char *v = colon + 1;
	size_t vlen = n - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (header_is(p, nlen, "etag")) {
		bool ok = vlen > 0 && vlen < sizeof resp->etag;
		for (size_t i = 0; i < vlen && ok; i++)
			ok = v[i] > 32 && v[i] < 127;
		if (!ok) {
			fail_answer(a, "an ETag header that is not one");
			return 0;
		}
		memcpy(resp->etag, v, vlen);
		resp->etag[vlen] = '\0';
	} else if (header_is(p, nlen, "content-length")) {
		resp->has_length = parse_u64(v, vlen, &resp->length);
	} else if (header_is(p, nlen, "content-range")) {
		/* bytes START-END/TOTAL: only START matters (a resumed read must
		 * go on where it stopped) */
		const char *dash = vlen > 6 && !strncasecmp(v, "bytes ", 6) ? memchr(v, '-', vlen) : NULL;
		a->has_range = dash && parse_u64(v + 6, (size_t)(dash - v - 6), &a->range_start);
	} else if (header_is(p, nlen, "last-modified") && vlen < 64) {
		char date[64];
		memcpy(date, v, vlen);
		date[vlen] = '\0';
		time_t t = curl_getdate(date, NULL);
		resp->mtime = t < 0 ? -1 : (int64_t)t;
	}
	return n;
}

static size_t on_body(char *p, size_t size, size_t nitems, void *ud)
{
	struct attempt *a = ud;
	const struct s3_request *r = a->r;
	struct s3_response *resp = a->resp;
	size_t n = size * nitems;
	long status = 0;
	curl_easy_getinfo(a->h, CURLINFO_RESPONSE_CODE, &status);
	bool ok = status >= 200 && status < 300;
	if (ok && r->sink) {
		if (!a->checked) {
			a->checked = true;
			if (status == 206 ? !a->has_range || a->range_start != a->want
			                  : a->want != 0) {
				fail_answer(a, "bytes from another place than the range asked for");
				return 0;
			}
			if (!a->pinned && resp->etag[0])
				a->pinned = kd_strdup(resp->etag);
		}
		uint64_t left = r->get_len == STORAGE_TO_END ? UINT64_MAX
		                                              : r->get_len - resp->delivered;
		if (n > left) {
			if (status != 200) {
				fail_answer(a, "more bytes than the range asked for");
				return 0;
			}
			/* the whole object for a range from byte 0 (a server that
			 * does not do ranges): keep the range, drop the rest */
			n = (size_t)left;
			a->enough = true;
		}
		int rc = n ? r->sink(r->sink_arg, p, n) : 0;
		if (rc < 0) {
			a->sink_rc = rc;
			return 0;
		}
		resp->delivered += n;
		return a->enough ? 0 : size * nitems;
	}
	size_t cap = ok ? r->body_max : S3_ERROR_BODY_MAX;
	if (resp->body.len + n > cap) {
		if (ok) {
			fail_answer(a, "an answer longer than kindling reads");
			return 0;
		}
		/* an error's code and message come first: the rest can go */
		kd_buf_append(&resp->body, p, cap - resp->body.len);
		a->cut_error = true;
		return 0;
	}
	kd_buf_append(&resp->body, p, n);
	return n;
}

/* ------------------------------------------------------------ the pool */

static CURL *take_handle(struct s3 *s)
{
	CURL *h = NULL;
	pthread_mutex_lock(&s->lock);
	if (s->npool > 0)
		h = s->pool[--s->npool];
	pthread_mutex_unlock(&s->lock);
	return h ? h : curl_easy_init();
}

static void give_handle(struct s3 *s, CURL *h)
{
	curl_easy_reset(h);
	pthread_mutex_lock(&s->lock);
	if (s->npool < S3_POOL) {
		s->pool[s->npool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (h)
		curl_easy_cleanup(h);
}

void s3_pool_free(struct s3 *s)
{
	for (int i = 0; i < s->npool; i++)
		curl_easy_cleanup(s->pool[i]);
	s->npool = 0;
}

/* ------------------------------------------------------------ a request */

static bool transient(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* Answers worth asking again: the service's own trouble or a request of
 * ours it timed out waiting for. */
static bool retry_status(const struct s3_response *resp)
{
	return resp->status >= 500 || resp->status == 429 ||
	       (resp->status == 400 && !strcmp(resp->code, "RequestTimeout"));
}

static void pause_before(const struct s3 *s, int attempt)
{
	unsigned ms = s->pause_ms;
	for (int i = 2; i < attempt; i++)
		ms *= 3;
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void set_method(CURL *h, const struct s3_request *r, struct attempt *a)
{
	bool body = r->body_kind != S3_NO_BODY;
	if (body) {
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, a);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, a);
	}
	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(body ? r->body_len : 0));
		if (!body)
			curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? r->body_len : 0));
		if (!body)
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	} else if (!strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
}

/* One try.  Returns the curl code; a->resp is filled. */
static CURLcode attempt_once(struct attempt *a, const char *payload_hash, int *rc)
{
	const struct s3_request *r = a->r;
	struct s3_response *resp = a->resp;
	struct curl_slist *headers = NULL;
	char *url = NULL;
	*rc = s3_sign(a->s, r, payload_hash, time(NULL), &headers, &url);
	if (*rc < 0)
		return CURLE_OK;
	/* A read goes on from the first byte not yet delivered. */
	a->want = r->get_off + resp->delivered;
	a->ranged = false;
	if (r->sink && (a->want > 0 || r->get_len != STORAGE_TO_END)) {
		char range[80];
		if (r->get_len == STORAGE_TO_END)
			snprintf(range, sizeof range, "bytes=%" PRIu64 "-", a->want);
		else
			snprintf(range, sizeof range, "bytes=%" PRIu64 "-%" PRIu64, a->want,
			         r->get_off + r->get_len - 1);
		*rc = add_header(&headers, "Range", range);
		a->ranged = true;
	}
	if (*rc == 0 && a->pinned)
		*rc = add_header(&headers, "If-Match", a->pinned);
	/* A big body waits for "100 Continue", so a refusal (wrong key, no
	 * bucket) costs no upload of it; a small one goes at once. */
	if (*rc == 0 && r->body_kind != S3_NO_BODY && r->body_len < EXPECT_MIN) {
		struct curl_slist *l = curl_slist_append(headers, "Expect:"); /* "Expect:": none */
		if (l)
			headers = l;
		else
			*rc = KD_ENOMEM;
	}
	if (*rc < 0) {
		curl_slist_free_all(headers);
		free(url);
		return CURLE_OK;
	}
	if (a->s->trace)
		a->s->trace(a->s->trace_arg, r->method, url, headers);

	CURL *h = a->h;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* No limit on the whole (an original may be gigabytes), but a stalled
	 * connection is given up after a minute without a byte. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kindling");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->curl_err);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	set_method(h, r, a);

	resp->curl_err[0] = '\0';
	CURLcode c = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_slist_free_all(headers);
	free(url);
	return c;
}

int s3_perform(struct s3 *s, const struct s3_request *r, struct s3_response *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->mtime = -1;
	size_t cap = r->body_max > S3_ERROR_BODY_MAX ? r->body_max : S3_ERROR_BODY_MAX;
	kd_buf_init(&resp->body, cap);
	char payload_hash[KD_SHA256_HEX];
	int rc = hash_body(r, payload_hash);
	if (rc < 0)
		return rc;

	struct attempt a = {.s = s, .r = r, .resp = resp};
	int tries = r->idempotent ? (s->attempts > 0 ? s->attempts : 1) : 1;
	for (int attempt = 1; attempt <= tries; attempt++) {
		if (attempt > 1)
			pause_before(s, attempt);
		resp->attempts = attempt;
		resp->status = 0;
		resp->code[0] = resp->message[0] = '\0';
		resp->bad_answer = false;
		kd_buf_reset(&resp->body);
		a.sent = 0;
		a.checked = a.cut_error = a.enough = a.has_range = false;
		a.sink_rc = 0;
		a.h = take_handle(s);
		if (!a.h) {
			rc = KD_ENOMEM;
			break;
		}
		CURLcode c = attempt_once(&a, payload_hash, &rc);
		give_handle(s, a.h);
		a.h = NULL;
		if (rc < 0)
			break;
		resp->curl = c;
		if (a.sink_rc < 0) {
			rc = a.sink_rc;
			resp->sink_stopped = true;
			break;
		}
		if (resp->bad_answer) {
			rc = KD_EIO;
			break;
		}
		if (c != CURLE_OK && !(c == CURLE_WRITE_ERROR && (a.cut_error || a.enough))) {
			/* no answer, or half of one: a read resumes, others start over */
			rc = KD_EIO;
			if (transient(c))
				continue;
			break;
		}
		resp->curl = CURLE_OK;
		rc = 0;
		if (resp->status >= 300) {
			struct xml_span doc = {resp->body.data, resp->body.len};
			xml_text(doc, "Code", resp->code, sizeof resp->code);
			xml_text(doc, "Message", resp->message, sizeof resp->message);
		}
		if (!retry_status(resp))
			break;
	}
	free(a.pinned);
	return rc;
}

void s3_response_release(struct s3_response *resp)
{
	kd_buf_release(&resp->body);
}
