/*
 * s3_http.h - one S3 request over libcurl: addressed, signed (sigv4.c),
 * repeated when that is safe, its answer bounded.  s3.c says what to ask
 * and what the answer means; this file only carries it.  Private to
 * src/storage/.
 *
 * Each request takes a curl handle from a small pool of the bucket's (so
 * connections are kept between requests, and threads never share a
 * handle) and gives it back.
 */
#ifndef KINDLING_STORAGE_S3_HTTP_H
#define KINDLING_STORAGE_S3_HTTP_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "kindling/buf.h"
#include "kindling/storage.h"
#include "sigv4.h"

#define S3_POOL 8             /* idle curl handles kept */
#define S3_ERROR_BODY_MAX (64 * 1024)
#define S3_XML_MAX (1024 * 1024)
#define S3_LIST_XML_MAX (8 * 1024 * 1024)

/* A bucket, where it is and who we are to it. */
struct s3 {
	char *bucket;
	char *prefix;            /* "" or "a/b/" (with its '/') */
	char *endpoint;          /* "http://127.0.0.1:9000": scheme://host[:port] */
	char *host;              /* the Host header: "127.0.0.1:9000" */
	char *base;              /* path before the key: "/bucket" (path-style) or "" */
	char *region;
	struct sigv4_creds creds; /* owned strings */
	int attempts;            /* tries of a request that may be repeated (4) */
	unsigned pause_ms;       /* before the 2nd try; x3 for each next (200) */
	pthread_mutex_t lock;    /* the pool */
	CURL *pool[S3_POOL];
	int npool;
	/* For the storage suite: sees every request as sent (method, URL,
	 * headers), to compare its signature with another signer's. */
	void (*trace)(void *arg, const char *method, const char *url,
	              const struct curl_slist *headers);
	void *trace_arg;
};

enum s3_body { S3_NO_BODY, S3_MEM_BODY, S3_FILE_BODY };

/* What to ask. */
struct s3_request {
	const char *method;            /* GET HEAD PUT POST DELETE */
	const char *key;               /* the object without the prefix; NULL: the bucket */
	struct sigv4_kv query[8];      /* unencoded; value "" for ?uploads */
	size_t nquery;
	const char *content_type;      /* signed, when set */
	const char *content_md5;       /* signed, when set (base64) */
	enum s3_body body_kind;
	const void *body;              /* S3_MEM_BODY */
	size_t body_len;
	int fd;                        /* S3_FILE_BODY: body_len bytes from fd_off */
	uint64_t fd_off;
	/* GET: bytes from get_off, get_len of them (STORAGE_TO_END: all),
	 * given to sink; a connection that breaks is resumed from the next
	 * byte, of the same version (If-Match). */
	uint64_t get_off, get_len;
	storage_write_fn sink;
	void *sink_arg;
	size_t body_max;               /* a 2xx body kept in resp->body (no sink) */
	bool idempotent;               /* may be sent again */
};

/* What came back. */
struct s3_response {
	long status;                   /* 0: no answer at all */
	struct kd_buf body;            /* an error's body, or the kept 2xx body */
	char etag[STORAGE_ETAG_MAX];
	uint64_t length;               /* Content-Length, when has_length */
	bool has_length;
	int64_t mtime;                 /* Last-Modified, -1 when absent */
	uint64_t delivered;            /* bytes given to the sink */
	int attempts;                  /* tries made */
	char code[64];                 /* of an error body: "NoSuchKey" */
	char message[320];
	CURLcode curl;
	char curl_err[CURL_ERROR_SIZE];
	bool bad_answer;               /* the answer broke a rule (too long, a
	                                * range we did not ask for): see message */
	bool sink_stopped;             /* the sink's code is what s3_perform returned */
};

/* Carry r out and fill resp (s3_response_release it in any case).
 * Returns 0 when an answer came (whatever its status), KD_EIO when none did
 * (resp->curl says why) or it broke a rule (resp->bad_answer), the sink's
 * code when the sink stopped the read (resp->sink_stopped), KD_EIO with
 * errno and resp->attempts 0 when the body file cannot be read. */
int s3_perform(struct s3 *s, const struct s3_request *r, struct s3_response *resp);

void s3_response_release(struct s3_response *resp);

/* The object's path ("/bucket/prefix/key") unencoded, for r->key (NULL:
 * the bucket).  The caller frees. */
char *s3_path(const struct s3 *s, const char *key);

/* The Authorization and other headers for r at time now, as s3_perform
 * sends them, and the URL: for tests and the presigner's URL.  *headers
 * is a new list (curl_slist_free_all), *url a new string. */
int s3_sign(const struct s3 *s, const struct s3_request *r, const char *payload_hash,
            time_t now, struct curl_slist **headers, char **url);

void s3_pool_free(struct s3 *s);

#endif
