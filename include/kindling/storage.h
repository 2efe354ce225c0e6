/*
 * storage.h - where media bytes live: the data folder, or an S3-compatible
 * bucket.
 *
 * The catalogue stores object keys, never file paths; this module turns a
 * key into bytes.  A key is a relative name such as "123/video.mp4": one
 * to 511 bytes of folders and a name separated by single '/', each of 1 to
 * 200 of A-Z a-z 0-9 . _ - and not starting with '.' (storage_key_valid).
 * Keys are chosen by kindling (paths.h), never by a request.
 *
 * Two back ends, chosen by the setting `storage` (config.h):
 *
 *   - the data folder (absent): key K is the file <data>/media/K, so the
 *     key "123/video.mp4" is <data>/media/123/video.mp4, exactly where
 *     paths_clip_file() puts clip 123's video today; nothing moves.
 *     Writes go to a temporary name beginning with '.' beside the target
 *     (never a valid key, never listed), are fsync'd and renamed.
 *   - s3://BUCKET[/PREFIX]: key K is the object PREFIX/K in BUCKET, at
 *     s3_endpoint (path-style: http://HOST:PORT/BUCKET/PREFIX/K) or at AWS
 *     (https://BUCKET.s3.REGION.amazonaws.com/PREFIX/K).  Requests are
 *     signed with SigV4 (credentials from AWS_ACCESS_KEY_ID,
 *     AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and carry the SHA-256 of
 *     their body, so the service refuses bytes damaged on the way.
 *     Requests that may be repeated are, up to 4 times in all, on a 5xx
 *     answer or a lost connection; a read that breaks resumes where it
 *     stopped, from the same version of the object (If-Match).
 *
 * Both back ends behave the same, down to the errors (the unit tests run
 * the local one, the storage suite both): a missing key is KD_ENOTFOUND;
 * deleting one is not an error; parts other than the last of a multipart
 * upload must be at least 5 MiB.
 *
 * Errors.  Every function that can fail returns 0 or a negative KD_E* code
 * and, when given err, writes a sentence for a person: what went wrong and
 * what to do ("the object storage at http://... does not know the access
 * key 'AKIA...': check AWS_ACCESS_KEY_ID").  Codes: KD_ENOTFOUND (no such
 * key, upload or bucket), KD_EAUTH (credentials missing, unknown, a
 * signature refused, a clock off by more than 15 minutes), KD_EPERM (the
 * credentials may not do this), KD_EINVAL (a bad key, range or part; not
 * available on this back end), KD_ETOOBIG (an answer over its bound),
 * KD_EIO (a file, the network or the service failed), or a code returned
 * by the caller's callback.
 *
 * Threads.  A struct kd_storage may be used by several threads at once
 * (the S3 back end shares its connections between them under a lock).
 * A process that forks opens its own after the fork.
 *
 * Bounds.  Every size that comes from the network is bounded: XML answers
 * (1 MiB, 8 MiB for a page of a listing), error bodies (64 KiB), header
 * values, upload ids, the parts of an upload (10,000); a GET delivers no
 * more than the range asked for.
 */
#ifndef KINDLING_STORAGE_H
#define KINDLING_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/config.h"

struct kd_storage;

enum storage_kind {
	STORAGE_LOCAL, /* the data folder's media/ */
	STORAGE_S3,    /* an S3-compatible bucket */
};

#define STORAGE_KEY_MAX 512          /* keys are shorter than this */
#define STORAGE_NAME_MAX 200         /* the most bytes between two '/' of a key
                                      * (a file name, with room for a temporary
                                      * one's additions) */
#define STORAGE_ETAG_MAX 128         /* an ETag, quotes included, and its terminator */
#define STORAGE_UPLOAD_ID_MAX 1024   /* a multipart upload id and its terminator */
#define STORAGE_PART_SIZE (16u << 20) /* storage_put_file: files past this go in parts of it */
#define STORAGE_PART_MIN (5u << 20)  /* the smallest part but the last (S3's rule) */
#define STORAGE_PARTS_MAX 10000      /* parts of one upload, numbered 1..10000 */
#define STORAGE_PRESIGN_MAX (7u * 24 * 3600) /* longest life of a presigned URL */
#define STORAGE_TO_END UINT64_MAX    /* a length: to the end of the object */

/* storage_put_file flags. */
#define STORAGE_MOVE 1u /* the source is ours to take: on success it is gone
                         * (renamed into place when the data folder is on
                         * its file system: no copy) */

/* What a stat or a listing says about an object. */
struct storage_stat {
	uint64_t size;                 /* bytes */
	int64_t mtime;                 /* seconds since 1970 (last written) */
	char etag[STORAGE_ETAG_MAX];   /* quoted, as HTTP sends it; changes when
	                                * the content does.  Data folder: the
	                                * one the web server already sends,
	                                * "<size hex>-<mtime ns hex>" */
};

/* A part of a multipart upload. */
struct storage_part {
	int number;                    /* 1..STORAGE_PARTS_MAX */
	uint64_t size;
	char etag[STORAGE_ETAG_MAX];
};

/* Receives bytes read: return 0 to go on, or a negative KD_E* code to stop
 * the read, which then returns that code.  Called from the calling thread. */
typedef int (*storage_write_fn)(void *arg, const void *data, size_t len);
/* Receives each key of a listing: in byte order of the keys (AWS, MinIO
 * and the data folder list so; a few imitations of S3 do not). */
typedef int (*storage_list_fn)(void *arg, const char *key, const struct storage_stat *st);

/* ---------------------------------------------------------------- opening */

/* The storage a configuration names: `storage` absent, the data folder's
 * media/ (created when first written); s3://..., the bucket, with the
 * credentials of the environment.  Makes no request: storage_check() does.
 * Returns 0 with *out set, or KD_EINVAL (a setting) / KD_EAUTH (no
 * credentials) with err. */
int storage_open(struct kd_storage **out, const struct kd_config *cfg, char *err, size_t errlen);

/* The data-folder back end rooted at dir (keys are files under it). */
int storage_open_local(struct kd_storage **out, const char *dir, char *err, size_t errlen);

/* The S3 back end from explicit settings (storage_open reads these from
 * the configuration and the environment).  Strings are copied. */
struct storage_s3_settings {
	const char *bucket;
	const char *prefix;         /* "" or NULL for none; no trailing '/' */
	const char *endpoint;       /* "http://127.0.0.1:9000", or NULL: AWS */
	const char *region;         /* NULL: us-east-1 */
	const char *access_key;
	const char *secret_key;
	const char *session_token;  /* NULL for none */
};
int storage_open_s3(struct kd_storage **out, const struct storage_s3_settings *s, char *err,
                    size_t errlen);

/* Close and set *s to NULL; NULL and *s NULL are harmless.  Cannot fail. */
void storage_close(struct kd_storage **s);

enum storage_kind storage_kind(const struct kd_storage *s);
/* "the data folder /srv/k/media" or "s3://bucket/prefix at http://..." for
 * log lines; owned by s. */
const char *storage_describe(const struct kd_storage *s);

/* One cheap request that proves the settings work (S3: list at most one
 * key under the prefix; data folder: the folder is there or can be made,
 * and is writable).  For `kindling serve` to say at start what is wrong. */
int storage_check(struct kd_storage *s, char *err, size_t errlen);

/* Is key a valid key (see above)?  Cannot fail. */
bool storage_key_valid(const char *key);

/* ---------------------------------------------------------------- objects */

/* Store the file at path under key, replacing any object there, all or
 * nothing: readers see the old bytes or the new, never part.  S3: one PUT
 * up to STORAGE_PART_SIZE, a multipart upload in parts of that size above
 * it (aborted if anything fails), read from the file part by part, never
 * whole into memory.  content_type (NULL: application/octet-stream) is
 * what a presigned GET answers with; the data folder keeps none.  flags:
 * STORAGE_MOVE or 0. */
int storage_put_file(struct kd_storage *s, const char *key, const char *path,
                     const char *content_type, unsigned flags, char *err, size_t errlen);

/* The same from memory (small objects: WebVTT, a report). */
int storage_put_buf(struct kd_storage *s, const char *key, const void *data, size_t len,
                    const char *content_type, char *err, size_t errlen);

/* Read len bytes of key from offset off (len STORAGE_TO_END: to the end;
 * a range past the end is cut at the end) into fn.  Reading from 0 to the
 * end of an empty object gives nothing and succeeds; a range starting at
 * or past the end of the object, or of length 0, is KD_EINVAL.  Returns 0,
 * KD_ENOTFOUND, fn's code, ... */
int storage_get(struct kd_storage *s, const char *key, uint64_t off, uint64_t len,
                storage_write_fn fn, void *arg, char *err, size_t errlen);

/* The same into a new file at path: written to a temporary name beside
 * it, fsync'd and renamed, so path is complete or absent. */
int storage_get_file(struct kd_storage *s, const char *key, uint64_t off, uint64_t len,
                     const char *path, char *err, size_t errlen);

/* The SHA-256 of the object at key, read through (64 hex digits and the
 * terminator).  0, KD_ENOTFOUND, or the read's error. */
int storage_sha256(struct kd_storage *s, const char *key, char hex[65], char *err,
                   size_t errlen);

/* Size, time and ETag of key.  KD_ENOTFOUND when it does not exist. */
int storage_stat(struct kd_storage *s, const char *key, struct storage_stat *st, char *err,
                 size_t errlen);

/* Delete key; a key already absent is not an error. */
int storage_delete(struct kd_storage *s, const char *key, char *err, size_t errlen);

/* Delete every key under prefix, which must end with '/' ("123/" for clip
 * 123), so that "12/" never touches "123/...".  S3: a listing and
 * batched deletes of at most 1000 keys, repeated until none is left. */
int storage_delete_prefix(struct kd_storage *s, const char *prefix, char *err, size_t errlen);

/* Every key that starts with prefix ("" for all, "123/" for a clip's,
 * "12" for 12/..., 120/..., 12x...), with its stat, in the service's
 * order (see storage_list_fn); fn may stop the listing by returning
 * non-zero (then returned).  Only valid keys are listed. */
int storage_list(struct kd_storage *s, const char *prefix, storage_list_fn fn, void *arg,
                 char *err, size_t errlen);

/* A URL that GETs key without credentials for expires seconds (1 ..
 * STORAGE_PRESIGN_MAX), answering with content_type and
 * content_disposition when given (NULL: as stored).  *url is new (caller
 * frees).  S3 only, and made without a request; on the data folder
 * KD_EINVAL ("not available"): serve the file of storage_local_path(). */
int storage_presign_get(struct kd_storage *s, const char *key, unsigned expires,
                        const char *content_type, const char *content_disposition, char **url,
                        char *err, size_t errlen);

/* The data folder only: the file that holds key (it may not exist yet), a
 * new string, for serving it with sendfile and processing it in place.
 * KD_EINVAL on S3 (there, storage_get_file a copy). */
int storage_local_path(struct kd_storage *s, const char *key, char **path);

/* ---------------------------------------------------------- multipart
 *
 * An upload in parts that any node may continue: its id and the parts are
 * kept by the storage (S3: by the service; the data folder: under
 * media/.multipart/<id>/), so a node that takes over lists the parts and
 * goes on.  The object appears only at complete, all at once.  Parts are
 * numbered 1..10000 in the order of the object; uploading a number again
 * replaces that part.  Every part but the last must have at least
 * STORAGE_PART_MIN bytes (checked at complete). */

/* Start an upload to key.  *upload_id gets a new string (caller frees;
 * shorter than STORAGE_UPLOAD_ID_MAX, printable, without spaces). */
int storage_mpu_create(struct kd_storage *s, const char *key, const char *content_type,
                       char **upload_id, char *err, size_t errlen);

/* Upload part number (1..10000) from data; its ETag goes to etag (what
 * complete needs).  Repeated on a failure like any idempotent request. */
int storage_mpu_put_part(struct kd_storage *s, const char *key, const char *upload_id,
                         int number, const void *data, size_t len,
                         char etag[STORAGE_ETAG_MAX], char *err, size_t errlen);

/* The parts uploaded so far, by number: *parts is a new array of *n (the
 * caller frees it; NULL when none).  KD_ENOTFOUND when the upload is no
 * longer there (completed, aborted or expired). */
int storage_mpu_list_parts(struct kd_storage *s, const char *key, const char *upload_id,
                           struct storage_part **parts, size_t *n, char *err, size_t errlen);

/* Make the object from parts (n of them, numbers ascending, each with the
 * ETag its upload returned).  KD_EINVAL when a part is missing, does not
 * match its ETag, or is too small. */
int storage_mpu_complete(struct kd_storage *s, const char *key, const char *upload_id,
                         const struct storage_part *parts, size_t n, char *err, size_t errlen);

/* Give the upload up and free its parts; an upload already gone is not an
 * error. */
int storage_mpu_abort(struct kd_storage *s, const char *key, const char *upload_id, char *err,
                      size_t errlen);

#endif
