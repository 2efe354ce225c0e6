/*
 * backend.h - what a storage back end provides (local.c: the data folder,
 * s3.c: a bucket), and the handle storage.c hands out.  Private to
 * src/storage/.
 *
 * storage.c owns the public functions: it checks keys, prefixes, ranges
 * and part numbers before calling a back end, so the back ends take their
 * arguments as valid and never call back into storage.c.  Each back end
 * writes its own sentences into err (err is never NULL here: storage.c
 * passes a scratch buffer when the caller gave none).
 */
#ifndef KINDLING_STORAGE_BACKEND_H
#define KINDLING_STORAGE_BACKEND_H

#include "kindling/storage.h"

struct storage_ops {
	void (*close)(void *impl);
	int (*check)(void *impl, char *err, size_t errlen);
	int (*put_file)(void *impl, const char *key, const char *path, const char *content_type,
	                unsigned flags, char *err, size_t errlen);
	int (*put_buf)(void *impl, const char *key, const void *data, size_t len,
	               const char *content_type, char *err, size_t errlen);
	/* len is at least 1 (STORAGE_TO_END for the rest) */
	int (*get)(void *impl, const char *key, uint64_t off, uint64_t len, storage_write_fn fn,
	           void *arg, char *err, size_t errlen);
	int (*stat)(void *impl, const char *key, struct storage_stat *st, char *err, size_t errlen);
	int (*del)(void *impl, const char *key, char *err, size_t errlen);
	/* prefix ends with '/' */
	int (*delete_prefix)(void *impl, const char *prefix, char *err, size_t errlen);
	int (*list)(void *impl, const char *prefix, storage_list_fn fn, void *arg, char *err,
	            size_t errlen);
	/* NULL when the back end has no URLs; expires is in range */
	int (*presign_get)(void *impl, const char *key, unsigned expires, const char *content_type,
	                   const char *content_disposition, char **url, char *err, size_t errlen);
	/* NULL when the back end has no files */
	char *(*local_path)(void *impl, const char *key);
	int (*mpu_create)(void *impl, const char *key, const char *content_type, char **upload_id,
	                  char *err, size_t errlen);
	int (*mpu_put_part)(void *impl, const char *key, const char *upload_id, int number,
	                    const void *data, size_t len, char etag[STORAGE_ETAG_MAX], char *err,
	                    size_t errlen);
	int (*mpu_list_parts)(void *impl, const char *key, const char *upload_id,
	                      struct storage_part **parts, size_t *n, char *err, size_t errlen);
	/* parts: 1..STORAGE_PARTS_MAX of them, numbers ascending */
	int (*mpu_complete)(void *impl, const char *key, const char *upload_id,
	                    const struct storage_part *parts, size_t n, char *err, size_t errlen);
	int (*mpu_abort)(void *impl, const char *key, const char *upload_id, char *err,
	                 size_t errlen);
};

struct kd_storage {
	enum storage_kind kind;
	const struct storage_ops *ops;
	void *impl;
	char *describe;
};

/* The back ends: fill impl and describe, or return an error with err. */
extern const struct storage_ops storage_local_ops;
int storage_local_new(const char *dir, void **impl, char **describe, char *err, size_t errlen);

extern const struct storage_ops storage_s3_ops;
int storage_s3_new(const struct storage_s3_settings *st, void **impl, char **describe, char *err,
                   size_t errlen);

#endif
