/* test_storage_s3.c - the S3 back end without an S3: its XML reader, and
 * its requests against a scripted server in this process that answers
 * what a test tells it to (errors, cuts, lies), so that retries, resumed
 * reads, bounds and the sentences people read are checked exactly.  The
 * real thing (s3rver, aws4) is tests/integration/storage.sh. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/buf.h"
#include "kindling/mem.h"
#include "kindling/sha256.h"
#include "kindling/storage.h"
#include "storage/backend.h"
#include "storage/s3_http.h"
#include "storage/xml.h"

/* ------------------------------------------------------------ XML */

static struct xml_span span(const char *s)
{
	return (struct xml_span){s, strlen(s)};
}

static void xml_reads_s3_records(void **state)
{
	(void)state;
	const char *doc =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
		"<Contents><Key>p/1/a&amp;b</Key><Size>10</Size><ETag>&quot;e1&quot;</ETag></Contents>"
		"<Contents >\n<Key>p/2/&#x41;&#66;</Key><Size>0</Size><ETag/></Contents>"
		"<NextContinuationToken>tok+/=</NextContinuationToken></ListBucketResult>";
	struct xml_span d = span(doc), item;
	size_t pos = 0;
	char key[64], size[16], etag[16];
	assert_true(xml_next(d, &pos, "Contents", &item));
	assert_int_equal(xml_text(item, "Key", key, sizeof key), 0);
	assert_string_equal(key, "p/1/a&b");
	assert_int_equal(xml_text(item, "ETag", etag, sizeof etag), 0);
	assert_string_equal(etag, "\"e1\"");
	assert_true(xml_next(d, &pos, "Contents", &item));
	assert_int_equal(xml_text(item, "Key", key, sizeof key), 0);
	assert_string_equal(key, "p/2/AB");
	assert_int_equal(xml_text(item, "Size", size, sizeof size), 0);
	assert_string_equal(size, "0");
	assert_int_equal(xml_text(item, "ETag", etag, sizeof etag), 0); /* <ETag/> */
	assert_string_equal(etag, "");
	assert_false(xml_next(d, &pos, "Contents", &item));
	/* <Key> is not <KeyCount> */
	assert_int_equal(xml_text(span("<KeyCount>3</KeyCount><Key>k</Key>"), "Key", key, sizeof key),
	                 0);
	assert_string_equal(key, "k");
	assert_int_equal(xml_text(d, "KeyCount", key, sizeof key), 0);
	assert_string_equal(key, "2");
	assert_int_equal(xml_text(d, "NextContinuationToken", key, sizeof key), 0);
	assert_string_equal(key, "tok+/=");
	/* bounds and bad input */
	assert_int_equal(xml_text(d, "Missing", key, sizeof key), KD_ENOTFOUND);
	assert_int_equal(xml_text(span("<K>0123456789</K>"), "K", key, 10), KD_ETOOBIG);
	assert_int_equal(xml_text(span("<K>0123456789</K>"), "K", key, 11), 0);
	assert_int_equal(xml_text(span("<K>a&bogus;</K>"), "K", key, sizeof key), KD_EINVAL);
	assert_int_equal(xml_text(span("<K>a&amp</K>"), "K", key, sizeof key), KD_EINVAL);
	assert_int_equal(xml_text(span("<K>&#0;</K>"), "K", key, sizeof key), KD_EINVAL);
	assert_int_equal(xml_text(span("<K>&#xD800;</K>"), "K", key, sizeof key), KD_EINVAL);
	assert_int_equal(xml_text(span("<K>&#x110000;</K>"), "K", key, sizeof key), KD_EINVAL);
	assert_int_equal(xml_text(span("<K>&#x10FFFF;&#233;</K>"), "K", key, sizeof key), 0);
	assert_string_equal(key, "\xf4\x8f\xbf\xbf\xc3\xa9");
	assert_int_equal(xml_text(span("<K>unclosed"), "K", key, sizeof key), KD_ENOTFOUND);
	assert_int_equal(xml_text(span("<K"), "K", key, sizeof key), KD_ENOTFOUND);
	assert_int_equal(xml_text(span(""), "K", key, sizeof key), KD_ENOTFOUND);
	struct xml_span nul = {"<K>a\0b</K>", 10};
	assert_int_equal(xml_text(nul, "K", key, sizeof key), KD_EINVAL);
	/* a span is all that is read, even without a terminator after it */
	struct xml_span part = {"<K>abc</K><K>def</K>", 10};
	pos = 0;
	assert_true(xml_next(part, &pos, "K", &item));
	assert_false(xml_next(part, &pos, "K", &item));

	struct kd_buf b = KD_BUF_INIT(64);
	assert_int_equal(xml_escape(&b, "a<b>&\"c'"), 0);
	assert_string_equal(kd_buf_str(&b), "a&lt;b&gt;&amp;&quot;c&apos;");
	kd_buf_release(&b);
}

/* ------------------------------------------------------------ a scripted server */

struct canned {
	const char *head;   /* "HTTP/1.1 200 OK\r\nETag: \"x\"" (no blank line); Content-Length
	                     * is added unless the head has one */
	const char *body;   /* NULL: none */
	size_t body_len;    /* 0: strlen(body) */
	size_t cut_at;      /* >0: send this much of the body, then hang up */
};

#define MAXREQ 16

struct fake {
	int lfd;
	int port;
	pthread_t th;
	const struct canned *script;
	size_t n;
	char head[MAXREQ][4096];   /* each request's line and headers */
	char body[MAXREQ][8192];   /* and the start of its body */
	int served;
};

static bool head_has(const char *head, const char *name, char *value, size_t vlen)
{
	size_t n = strlen(name);
	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		if (!strncasecmp(l + 2, name, n) && l[2 + n] == ':') {
			const char *v = l + 3 + n;
			while (*v == ' ')
				v++;
			size_t k = strcspn(v, "\r");
			if (value)
				snprintf(value, vlen, "%.*s", (int)k, v);
			return true;
		}
	}
	return false;
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	for (size_t i = 0; i < f->n; i++) {
		struct pollfd p = {f->lfd, POLLIN, 0};
		if (poll(&p, 1, 10000) <= 0)
			break; /* the client asked less than the script holds */
		int c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			break;
		char *h = f->head[i];
		size_t got = 0;
		while (got < sizeof f->head[i] - 1 && read(c, h + got, 1) == 1) {
			got++;
			if (got >= 4 && !memcmp(h + got - 4, "\r\n\r\n", 4))
				break;
		}
		h[got] = '\0';
		char v[64];
		if (head_has(h, "Expect", v, sizeof v))
			(void)!write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		size_t len = head_has(h, "Content-Length", v, sizeof v) ? strtoul(v, NULL, 10) : 0;
		char buf[65536];
		size_t kept = 0;
		while (len > 0) {
			ssize_t r = read(c, buf, len < sizeof buf ? len : sizeof buf);
			if (r <= 0)
				break;
			size_t room = sizeof f->body[i] - 1 - kept, k = (size_t)r < room ? (size_t)r : room;
			memcpy(f->body[i] + kept, buf, k);
			kept += k;
			len -= (size_t)r;
		}
		f->body[i][kept] = '\0';
		const struct canned *k = &f->script[i];
		size_t blen = k->body ? (k->body_len ? k->body_len : strlen(k->body)) : 0;
		struct kd_buf out = KD_BUF_INIT(128u << 20);
		kd_buf_puts(&out, k->head);
		if (!strstr(k->head, "Content-Length"))
			kd_buf_printf(&out, "\r\nContent-Length: %zu", blen);
		kd_buf_puts(&out, "\r\nConnection: close\r\n\r\n");
		if (k->body)
			kd_buf_append(&out, k->body, k->cut_at ? k->cut_at : blen);
		(void)!write(c, out.data, out.len);
		kd_buf_release(&out);
		shutdown(c, SHUT_RDWR);
		close(c);
		f->served++;
	}
	close(f->lfd); /* what the client asks past the script is refused */
	f->lfd = -1;
	return NULL;
}

static int listen_loopback(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0)
		fail_msg("listen: %s", strerror(errno));
	*port = ntohs(a.sin_port);
	return fd;
}

static void fake_start(struct fake *f, const struct canned *script, size_t n)
{
	memset(f, 0, sizeof *f);
	f->script = script;
	f->n = n;
	f->lfd = listen_loopback(&f->port);
	pthread_create(&f->th, NULL, serve, f);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
}

/* The bucket "bkt" with prefix "pre" at the fake, retrying fast. */
static struct kd_storage *open_at(int port)
{
	char endpoint[64];
	snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
	struct storage_s3_settings st = {.bucket = "bkt", .prefix = "pre", .endpoint = endpoint,
	                                 .access_key = "AKIDTEST", .secret_key = "secret"};
	struct kd_storage *s = NULL;
	char err[KD_ERRMSG_MAX];
	if (storage_open_s3(&s, &st, err, sizeof err) != 0)
		fail_msg("%s", err);
	((struct s3 *)s->impl)->pause_ms = 1;
	return s;
}

#define N(a) (sizeof(a) / sizeof *(a))

static int gather(void *arg, const void *data, size_t len)
{
	return kd_buf_append(arg, data, len);
}

/* ------------------------------------------------------------ requests as sent */

static void requests_are_addressed_and_signed(void **state)
{
	(void)state;
	static const struct canned script[] = {
		{"HTTP/1.1 200 OK\r\nETag: \"abc\"", "", 0, 0},
		{"HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nLast-Modified: Fri, 24 May 2013 00:00:00 GMT\r\n"
		 "Content-Length: 12", NULL, 0, 0},
		{"HTTP/1.1 204 No Content", NULL, 0, 0},
	};
	struct fake f;
	fake_start(&f, script, N(script));
	struct kd_storage *s = open_at(f.port);
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(storage_put_buf(s, "1/captions.vtt", "WEBVTT\n", 7, "text/vtt", err,
	                                 sizeof err), 0);
	struct storage_stat st;
	assert_int_equal(storage_stat(s, "1/captions.vtt", &st, err, sizeof err), 0);
	assert_int_equal(st.size, 12);
	assert_int_equal(st.mtime, 1369353600);
	assert_string_equal(st.etag, "\"abc\"");
	assert_int_equal(storage_delete(s, "1/captions.vtt", err, sizeof err), 0);
	storage_close(&s);
	fake_stop(&f);

	/* path-style: /bucket/prefix/key; the body's SHA-256 signed */
	assert_non_null(strstr(f.head[0], "PUT /bkt/pre/1/captions.vtt HTTP/1.1\r\n"));
	char v[512], hash[KD_SHA256_HEX];
	struct kd_sha256 h;
	kd_sha256_init(&h);
	kd_sha256_update(&h, "WEBVTT\n", 7);
	kd_sha256_final(&h, hash);
	assert_true(head_has(f.head[0], "x-amz-content-sha256", v, sizeof v));
	assert_string_equal(v, hash);
	assert_true(head_has(f.head[0], "Content-Type", v, sizeof v));
	assert_string_equal(v, "text/vtt");
	assert_true(head_has(f.head[0], "Host", v, sizeof v));
	char host[64];
	snprintf(host, sizeof host, "127.0.0.1:%d", f.port);
	assert_string_equal(v, host);
	assert_true(head_has(f.head[0], "Authorization", v, sizeof v));
	assert_non_null(strstr(v, "AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
	assert_non_null(strstr(v, "/us-east-1/s3/aws4_request, SignedHeaders=content-type;host;"
	                          "x-amz-content-sha256;x-amz-date, Signature="));
	assert_string_equal(f.body[0], "WEBVTT\n");
	assert_false(head_has(f.head[0], "Expect", v, sizeof v)); /* small: no wait for 100 */
	assert_non_null(strstr(f.head[1], "HEAD /bkt/pre/1/captions.vtt HTTP/1.1\r\n"));
	assert_true(head_has(f.head[1], "x-amz-content-sha256", v, sizeof v));
	assert_string_equal(v, SIGV4_EMPTY_SHA256);
	assert_non_null(strstr(f.head[2], "DELETE /bkt/pre/1/captions.vtt HTTP/1.1\r\n"));
}

/* ------------------------------------------------------------ sentences */

static const char *xml_error(const char *code)
{
	static char buf[8][256];
	static int i;
	char *b = buf[i++ % 8];
	snprintf(b, 256, "<?xml version=\"1.0\"?><Error><Code>%s</Code><Message>S3 says %s."
	         "</Message></Error>", code, code);
	return b;
}

static void errors_become_sentences(void **state)
{
	(void)state;
	struct {
		const char *head, *code;
		int want;
		const char *says;
	} cases[] = {
		{"HTTP/1.1 403 Forbidden", "InvalidAccessKeyId", KD_EAUTH,
		 "does not know the access key 'AKIDTEST': check AWS_ACCESS_KEY_ID"},
		{"HTTP/1.1 403 Forbidden", "SignatureDoesNotMatch", KD_EAUTH, "check AWS_SECRET_ACCESS_KEY"},
		{"HTTP/1.1 404 Not Found", "NoSuchBucket", KD_ENOTFOUND, "the bucket does not exist at "},
		{"HTTP/1.1 403 Forbidden", "AccessDenied", KD_EPERM, "s3:ListBucket"},
		{"HTTP/1.1 403 Forbidden", "RequestTimeTooSkewed", KD_EAUTH, "set the clock"},
		{"HTTP/1.1 400 Bad Request", "AuthorizationHeaderMalformed", KD_EINVAL, "set s3_region"},
		{"HTTP/1.1 400 Bad Request", "ExpiredToken", KD_EAUTH, "AWS_SESSION_TOKEN"},
		{"HTTP/1.1 409 Conflict", "SomethingNew", KD_EIO, "HTTP 409 SomethingNew: S3 says"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct canned script[1] = {{cases[i].head, xml_error(cases[i].code), 0, 0}};
		struct fake f;
		fake_start(&f, script, 1);
		struct kd_storage *s = open_at(f.port);
		char err[KD_ERRMSG_MAX] = "";
		int rc = storage_check(s, err, sizeof err);
		storage_close(&s);
		fake_stop(&f);
		if (rc != cases[i].want || !strstr(err, cases[i].says) || !strstr(err, "s3://bkt/pre/"))
			fail_msg("%s: %d '%s'", cases[i].code, rc, err);
		/* S3's own message goes along */
		if (!strstr(err, "S3 says"))
			fail_msg("%s: no S3 message in '%s'", cases[i].code, err);
		/* the check lists one key under the prefix */
		assert_non_null(strstr(f.head[0], "GET /bkt?list-type=2&max-keys=1&prefix=pre%2F "));
	}

	/* nobody at the endpoint: four attempts, then where and what to check */
	int port;
	close(listen_loopback(&port));
	struct kd_storage *s = open_at(port);
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(storage_check(s, err, sizeof err), KD_EIO);
	assert_non_null(strstr(err, "cannot reach the object storage at http://127.0.0.1:"));
	assert_non_null(strstr(err, "4 attempts"));
	assert_non_null(strstr(err, "check s3_endpoint"));
	struct kd_buf none = KD_BUF_INIT(16);
	assert_int_equal(storage_get(s, "k", 0, STORAGE_TO_END, gather, &none, err, sizeof err),
	                 KD_EIO);
	assert_int_equal(none.len, 0);
	storage_close(&s);

	/* a HEAD says only its status: a GET of one byte learns the code */
	struct canned script[2] = {{"HTTP/1.1 403 Forbidden", NULL, 0, 0},
	                           {"HTTP/1.1 403 Forbidden", xml_error("AccessDenied"), 0, 0}};
	struct fake f;
	fake_start(&f, script, 2);
	s = open_at(f.port);
	struct storage_stat st;
	assert_int_equal(storage_stat(s, "1/video.mp4", &st, err, sizeof err), KD_EPERM);
	assert_non_null(strstr(err, "denied access"));
	storage_close(&s);
	fake_stop(&f);
	assert_non_null(strstr(f.head[1], "GET /bkt/pre/1/video.mp4 "));
	char v[64];
	assert_true(head_has(f.head[1], "Range", v, sizeof v));
	assert_string_equal(v, "bytes=0-0");
	/* a 404 to a HEAD is just "no such object" */
	static const struct canned head404[] = {{"HTTP/1.1 404 Not Found", NULL, 0, 0}};
	fake_start(&f, head404, 1);
	s = open_at(f.port);
	assert_int_equal(storage_stat(s, "1/video.mp4", &st, err, sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "no such object"));
	storage_close(&s);
	fake_stop(&f);
}

/* ------------------------------------------------------------ retries */

static void idempotent_requests_are_retried(void **state)
{
	(void)state;
	const char *slow = xml_error("SlowDown");
	struct canned script[] = {
		{"HTTP/1.1 503 Slow Down", slow, 0, 0},
		{"HTTP/1.1 500 Internal Server Error", xml_error("InternalError"), 0, 0},
		{"HTTP/1.1 200 OK\r\nETag: \"p1\"", "", 0, 0},
	};
	struct fake f;
	fake_start(&f, script, N(script));
	struct kd_storage *s = open_at(f.port);
	char err[KD_ERRMSG_MAX] = "", etag[STORAGE_ETAG_MAX];
	assert_int_equal(storage_mpu_put_part(s, "2/original", "UPID", 3, "part", 4, etag, err,
	                                      sizeof err), 0);
	assert_string_equal(etag, "\"p1\"");
	storage_close(&s);
	fake_stop(&f);
	assert_int_equal(f.served, 3);
	/* the same body every time */
	for (int i = 0; i < 3; i++) {
		assert_string_equal(f.body[i], "part");
		assert_non_null(strstr(f.head[i], "PUT /bkt/pre/2/original?partNumber=3&uploadId=UPID "));
	}

	/* still failing after four: the last answer, and "later" */
	struct canned busy[] = {{"HTTP/1.1 503 Slow Down", slow, 0, 0},
	                        {"HTTP/1.1 503 Slow Down", slow, 0, 0},
	                        {"HTTP/1.1 503 Slow Down", slow, 0, 0},
	                        {"HTTP/1.1 503 Slow Down", slow, 0, 0}};
	fake_start(&f, busy, N(busy));
	s = open_at(f.port);
	assert_int_equal(storage_put_buf(s, "k", "x", 1, NULL, err, sizeof err), KD_EIO);
	assert_non_null(strstr(err, "SlowDown"));
	assert_non_null(strstr(err, "try again later"));
	storage_close(&s);
	fake_stop(&f);
	assert_int_equal(f.served, 4);

	/* creating an upload is not repeated: a second one would be orphaned */
	struct canned once[] = {{"HTTP/1.1 503 Slow Down", slow, 0, 0},
	                        {"HTTP/1.1 200 OK", "<UploadId>never</UploadId>", 0, 0}};
	fake_start(&f, once, N(once));
	s = open_at(f.port);
	char *id = NULL;
	assert_int_equal(storage_mpu_create(s, "k", NULL, &id, err, sizeof err), KD_EIO);
	assert_null(id);
	storage_close(&s);
	/* the fake waits for the second request that never comes: unblock it */
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f.port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
	(void)!write(c, "\r\n\r\n", 4);
	close(c);
	fake_stop(&f);
	assert_non_null(strstr(f.head[0], "POST /bkt/pre/k?uploads= "));
	assert_string_equal(f.head[1], "\r\n\r\n");
}

static void a_broken_read_resumes_from_the_same_version(void **state)
{
	(void)state;
	struct canned script[] = {
		{"HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: 10", "0123456789", 10, 4},
		{"HTTP/1.1 503 Slow Down", xml_error("SlowDown"), 0, 0},
		{"HTTP/1.1 206 Partial Content\r\nETag: \"v1\"\r\nContent-Range: bytes 4-9/10",
		 "456789", 0, 0},
	};
	struct fake f;
	fake_start(&f, script, N(script));
	struct kd_storage *s = open_at(f.port);
	char err[KD_ERRMSG_MAX] = "";
	struct kd_buf b = KD_BUF_INIT(100);
	assert_int_equal(storage_get(s, "3/video.mp4", 0, STORAGE_TO_END, gather, &b, err, sizeof err),
	                 0);
	assert_string_equal(kd_buf_str(&b), "0123456789");
	kd_buf_release(&b);
	storage_close(&s);
	fake_stop(&f);
	char v[64];
	assert_false(head_has(f.head[0], "Range", v, sizeof v));
	for (int i = 1; i < 3; i++) {
		assert_true(head_has(f.head[i], "Range", v, sizeof v));
		assert_string_equal(v, "bytes=4-");
		assert_true(head_has(f.head[i], "If-Match", v, sizeof v));
		assert_string_equal(v, "\"v1\"");
	}

	/* a range read resumes inside its range; a changed object is said */
	struct canned ranged[] = {
		{"HTTP/1.1 206 Partial Content\r\nETag: \"v1\"\r\nContent-Range: bytes 2-7/10\r\n"
		 "Content-Length: 6", "234567", 6, 3},
		{"HTTP/1.1 412 Precondition Failed", xml_error("PreconditionFailed"), 0, 0},
	};
	fake_start(&f, ranged, N(ranged));
	s = open_at(f.port);
	kd_buf_init(&b, 100);
	assert_int_equal(storage_get(s, "3/video.mp4", 2, 6, gather, &b, err, sizeof err), KD_EIO);
	assert_non_null(strstr(err, "changed while it was being read"));
	kd_buf_release(&b);
	storage_close(&s);
	fake_stop(&f);
	assert_true(head_has(f.head[0], "Range", v, sizeof v));
	assert_string_equal(v, "bytes=2-7");
	assert_true(head_has(f.head[1], "Range", v, sizeof v));
	assert_string_equal(v, "bytes=5-7");
}

/* ------------------------------------------------------------ bounds */

static int count_keys(void *arg, const char *key, const struct storage_stat *st)
{
	(void)key;
	(void)st;
	(*(int *)arg)++;
	return 0;
}

static void answers_are_bounded(void **state)
{
	(void)state;
	char longid[STORAGE_UPLOAD_ID_MAX + 40], longetag[300];
	snprintf(longid, sizeof longid, "<UploadId>%0*d</UploadId>", STORAGE_UPLOAD_ID_MAX + 2, 7);
	snprintf(longetag, sizeof longetag, "HTTP/1.1 200 OK\r\nETag: \"%0*d\"", 250, 1);
	struct canned script[] = {
		{"HTTP/1.1 200 OK", longid, 0, 0},
		{longetag, "", 0, 0},
		/* asked bytes 0-3, sent 8 */
		{"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-3/10", "01234567", 0, 0},
		/* asked from byte 5, sent from 0 */
		{"HTTP/1.1 200 OK", "0123456789", 0, 0},
		/* a 200 with an error inside, as S3's complete may answer */
		{"HTTP/1.1 200 OK", xml_error("InternalError"), 0, 0},
		/* a listing that says there is more but not how to get it (a
		 * key not ours, pre/.x, is not listed) */
		{"HTTP/1.1 200 OK", "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>"
		 "pre/b</Key><Size>1</Size></Contents><Contents><Key>pre/.x</Key><Size>1</Size>"
		 "</Contents></ListBucketResult>", 0, 0},
	};
	struct fake f;
	fake_start(&f, script, N(script));
	struct kd_storage *s = open_at(f.port);
	char err[KD_ERRMSG_MAX] = "", etag[STORAGE_ETAG_MAX];
	char *id = NULL;
	assert_int_equal(storage_mpu_create(s, "k", NULL, &id, err, sizeof err), KD_EIO);
	assert_non_null(strstr(err, "without a usable UploadId"));
	assert_int_equal(storage_mpu_put_part(s, "k", "ID", 1, "x", 1, etag, err, sizeof err),
	                 KD_EIO);
	assert_non_null(strstr(err, "an ETag header that is not one"));
	int listed = 0;
	struct kd_buf b = KD_BUF_INIT(100);
	assert_int_equal(storage_get(s, "k", 0, 4, gather, &b, err, sizeof err), KD_EIO);
	assert_non_null(strstr(err, "more bytes than the range asked for"));
	assert_int_equal(storage_get(s, "k", 5, 2, gather, &b, err, sizeof err), KD_EIO);
	assert_non_null(strstr(err, "another place than the range"));
	kd_buf_release(&b);
	struct storage_part p = {.number = 1, .etag = "\"e\""};
	assert_int_equal(storage_mpu_complete(s, "k", "ID", &p, 1, err, sizeof err), KD_EIO);
	assert_non_null(strstr(err, "failed"));
	assert_int_equal(storage_list(s, "", count_keys, &listed, err, sizeof err), KD_EIO);
	assert_int_equal(listed, 1);
	assert_non_null(strstr(err, "no way to the next"));
	storage_close(&s);
	fake_stop(&f);
	assert_int_equal(f.served, (int)N(script));
	/* complete's body names the parts */
	assert_non_null(strstr(f.body[4], "<Part><PartNumber>1</PartNumber>"
	                                                "<ETag>&quot;e&quot;</ETag></Part>"));
}

int main(void)
{
	kd_log_set_level(KD_LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xml_reads_s3_records),
		cmocka_unit_test(requests_are_addressed_and_signed),
		cmocka_unit_test(errors_become_sentences),
		cmocka_unit_test(idempotent_requests_are_retried),
		cmocka_unit_test(a_broken_read_resumes_from_the_same_version),
		cmocka_unit_test(answers_are_bounded),
	};
	return cmocka_run_group_tests_name("storage_s3", tests, NULL, NULL);
}
