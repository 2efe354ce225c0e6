/*
 * sigv4.h - AWS Signature Version 4, written here rather than taken from
 * libcurl's CURLOPT_AWS_SIGV4: Debian 12's curl 7.88 signs correctly only
 * a sorted query in which every parameter has an '=', and cannot presign a
 * URL at all.  One signer, for request headers and for presigned URLs, is
 * checked against AWS's published vectors (tests/unit/test_sigv4.c) and
 * against the npm package aws4 (tests/integration/storage.sh).
 *
 * HMAC-SHA256 comes from libsodium, SHA-256 from libcrypto (util/sha256).
 * Everything here is a pure function of its inputs (the time is one of
 * them), safe from any thread.  Private to src/storage/.
 */
#ifndef KINDLING_STORAGE_SIGV4_H
#define KINDLING_STORAGE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "kindling/buf.h"

/* "20130524T000000Z" and its terminator. */
#define SIGV4_DATE_LEN 17
/* The payload hash of a presigned URL, and of a body not hashed. */
#define SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"
/* SHA-256 of nothing: the payload hash of a request without a body. */
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Longest canonical request or query string we build (keys are short;
 * this is a bound, not a size anyone reaches). */
#define SIGV4_TEXT_MAX (64 * 1024)

/* A name and a value, unencoded (query parameters, headers). */
struct sigv4_kv {
	const char *name;
	const char *value;
};

/* Who signs.  session_token may be NULL (long-term keys). */
struct sigv4_creds {
	const char *access_key;
	const char *secret_key;
	const char *session_token;
};

/* What is signed, with everything unencoded: the signer encodes the path
 * (each segment, '/' kept) and the query the S3 way, once. */
struct sigv4_request {
	const char *method;                /* "GET", "PUT", ... */
	const char *path;                  /* "/bucket/my key"; "" is "/" */
	const struct sigv4_kv *query;      /* any order; value "" for "?uploads" */
	size_t nquery;
	const struct sigv4_kv *headers;    /* every header to sign, any case and
	                                    * order; must hold host (and x-amz-date
	                                    * for header signing) */
	size_t nheaders;
	const char *payload_hash;          /* hex SHA-256 of the body, or
	                                    * SIGV4_UNSIGNED */
};

/* Where and when: the credential scope. */
struct sigv4_scope {
	const char *region;                /* "us-east-1" */
	const char *service;               /* "s3" */
	char date[SIGV4_DATE_LEN];         /* "20130524T000000Z" */
};

/* Fill scope->date from a time.  Cannot fail. */
void sigv4_set_time(struct sigv4_scope *scope, time_t t);

/* Append s (n bytes) URI-encoded as SigV4 wants it: A-Z a-z 0-9 - . _ ~
 * as they are, every other byte as %XX (upper-case hex); '/' kept when
 * keep_slash.  Returns 0 or KD_ETOOBIG (b's cap). */
int sigv4_encode(struct kd_buf *b, const char *s, size_t n, bool keep_slash);

/* The canonical query string of params (encoded, sorted by name then value,
 * every parameter with its '=').  Returns 0, KD_ETOOBIG or KD_EINVAL (a
 * NULL name). */
int sigv4_canonical_query(const struct sigv4_kv *params, size_t n, struct kd_buf *out);

/* The canonical request (AWS's "CanonicalRequest") into out, and the
 * signed-headers list ("host;x-amz-date") into signed_headers.  Returns 0,
 * KD_ETOOBIG or KD_EINVAL (no host header, a header name that is not a
 * token, a NULL field). */
int sigv4_canonical_request(const struct sigv4_request *r, struct kd_buf *out,
                            struct kd_buf *signed_headers);

/* The Authorization header's value for r:
 *   AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,
 *   SignedHeaders=host;x-amz-date, Signature=<64 hex>
 * into out (cap at least 512 bytes more than the signed-header names).
 * The x-amz-date header the caller sends must equal scope->date.  Returns
 * 0, KD_ETOOBIG, KD_EINVAL or KD_ENOMEM (libcrypto). */
int sigv4_authorization(const struct sigv4_request *r, const struct sigv4_creds *c,
                        const struct sigv4_scope *scope, struct kd_buf *out);

/* The query string of a presigned URL for r (r->headers: at least host;
 * r->payload_hash is ignored: presigned URLs are UNSIGNED-PAYLOAD), valid
 * for expires seconds from scope->date: r's own parameters with
 * X-Amz-Algorithm, -Credential, -Date, -Expires, -Security-Token (when c
 * has one) and -SignedHeaders, canonical and sorted, then
 * "&X-Amz-Signature=<64 hex>".  Append "?" and it to the URL of r->path.
 * Returns 0, KD_ETOOBIG, KD_EINVAL or KD_ENOMEM. */
int sigv4_presign_query(const struct sigv4_request *r, const struct sigv4_creds *c,
                        const struct sigv4_scope *scope, unsigned expires,
                        struct kd_buf *out);

#endif
