/* s3_req.c - what every S3 operation shares: a request begun, a body
 * sent, the HEAD of an object, and a failed answer put in a sentence (see
 * s3_req.h). */
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
#include "s3_req.h"

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
void s3_where(const struct s3 *s, const char *key, char *out, size_t outlen)
{
	snprintf(out, outlen, "s3://%s/%s%s", s->bucket, s->prefix, key ? key : "");
}

/* Put the sentence for a failed request into err and return its code.
 * doing: "read", "store", ... (a verb for "cannot %s"). */
int s3_fail(const struct s3 *s, const struct s3_response *resp, const char *doing,
                const char *key, char *err, size_t errlen)
{
	char at[STORAGE_KEY_MAX + 160];
	s3_where(s, key, at, sizeof at);
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

bool s3_ok(const struct s3_response *resp)
{
	return resp->status >= 200 && resp->status < 300;
}

/* ------------------------------------------------------------ requests */

void s3_req_init(struct s3_request *r, const char *method, const char *key)
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

void s3_req_query(struct s3_request *r, const char *name, const char *value)
{
	r->query[r->nquery++] = (struct sigv4_kv){name, value};
}


int s3_put_body(struct s3 *s, const char *key, struct s3_request *r, const char *doing,
                    char etag[STORAGE_ETAG_MAX], char *err, size_t errlen)
{
	struct s3_response resp;
	int rc = s3_perform(s, r, &resp);
	if (rc == 0 && !s3_ok(&resp))
		rc = -1;
	if (rc < 0 && resp.attempts == 0) {
		/* s3_perform could not read the body file */
		snprintf(err, errlen, "cannot %s %s: reading the file failed: %s", doing, key,
		         strerror(errno));
	} else if (rc < 0) {
		rc = s3_fail(s, &resp, doing, key, err, errlen);
	} else if (etag) {
		if (!resp.etag[0]) {
			char at[STORAGE_KEY_MAX + 160];
			s3_where(s, key, at, sizeof at);
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


static int discard(void *arg, const void *data, size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	return 0;
}

int s3_stat(void *impl, const char *key, struct storage_stat *st, char *err,
                   size_t errlen)
{
	struct s3 *s = impl;
	struct s3_request r;
	s3_req_init(&r, "HEAD", key);
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && s3_ok(&resp)) {
		if (!resp.has_length) {
			char at[STORAGE_KEY_MAX + 160];
			s3_where(s, key, at, sizeof at);
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
		s3_req_init(&g, "GET", key);
		g.get_len = 1;
		g.sink = discard;
		struct s3_response why;
		if (s3_perform(s, &g, &why) == 0 && why.code[0]) {
			s3_response_release(&resp);
			resp = why;
		} else {
			s3_response_release(&why);
		}
		rc = s3_fail(s, &resp, "look at", key, err, errlen);
	} else {
		rc = s3_fail(s, &resp, "look at", key, err, errlen);
	}
	s3_response_release(&resp);
	return rc;
}
