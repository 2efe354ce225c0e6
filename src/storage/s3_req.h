/*
 * s3_req.h - what the S3 back end's operations share (s3.c for objects,
 * s3_mpu.c for multipart uploads): a request begun, a body sent, the HEAD
 * of an object, and a failed answer put in a sentence for a person.
 * Private to src/storage/.
 */
#ifndef KINDLING_STORAGE_S3_REQ_H
#define KINDLING_STORAGE_S3_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include "kindling/storage.h"
#include "s3_http.h"

/* "s3://bucket/prefix/key" for sentences. */
void s3_where(const struct s3 *s, const char *key, char *out, size_t outlen);
/* Put the sentence for a failed request into err and return its code.
 * doing: "read", "store", ... (a verb for "cannot %s"). */
int s3_fail(const struct s3 *s, const struct s3_response *resp, const char *doing,
            const char *key, char *err, size_t errlen);
/* Did the service answer 2xx? */
bool s3_ok(const struct s3_response *resp);

/* Begin a request for key (NULL: the bucket) with no query. */
void s3_req_init(struct s3_request *r, const char *method, const char *key);
/* Add a query parameter (both strings must outlive the request). */
void s3_req_query(struct s3_request *r, const char *name, const char *value);
/* Send r with its body, keeping the answer's ETag. */
int s3_put_body(struct s3 *s, const char *key, struct s3_request *r, const char *doing,
                char etag[STORAGE_ETAG_MAX], char *err, size_t errlen);

/* The backend's stat: size, time and ETag of key (HEAD). */
int s3_stat(void *impl, const char *key, struct storage_stat *st, char *err, size_t errlen);

/* The backend's multipart operations (s3_mpu.c; see backend.h). */
int s3_mpu_create(void *impl, const char *key, const char *content_type, char **upload_id,
                  char *err, size_t errlen);
int s3_mpu_put_part(void *impl, const char *key, const char *upload_id, int number,
                    const void *data, size_t len, char etag[STORAGE_ETAG_MAX], char *err,
                    size_t errlen);
int s3_mpu_list_parts(void *impl, const char *key, const char *upload_id,
                      struct storage_part **parts, size_t *n, char *err, size_t errlen);
int s3_mpu_complete(void *impl, const char *key, const char *upload_id,
                    const struct storage_part *parts, size_t n, char *err, size_t errlen);
int s3_mpu_abort(void *impl, const char *key, const char *upload_id, char *err, size_t errlen);

#endif
