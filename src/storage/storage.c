/* storage.c - the storage API: checks what callers pass, then hands it to
 * the back end (see storage.h; back ends in local.c and s3.c). */
#define _GNU_SOURCE
#include "kindling/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "keys.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/mem.h"
#include "kindling/sha256.h"

/* The back ends always get a buffer for their sentence. */
#define SCRATCH(err, errlen)                                                                       \
	char scratch_[KD_ERRMSG_MAX];                                                                  \
	if (!(err) || (errlen) == 0) {                                                                 \
		(err) = scratch_;                                                                          \
		(errlen) = sizeof scratch_;                                                                \
	}

static int bad_key(const char *key, char *err, size_t errlen)
{
	snprintf(err, errlen, "'%.80s' is not a storage key (folders and a name of A-Z a-z 0-9 . _ -, "
	         "none starting with '.')", key ? key : "(none)");
	return KD_EINVAL;
}

/* A header value we pass on (Content-Type, a disposition): printable, and
 * short, since it travels in a URL or a signed header. */
static bool header_text(const char *s)
{
	if (!s)
		return true;
	size_t n = 0;
	for (; s[n]; n++)
		if ((unsigned char)s[n] < 32 || s[n] == 127)
			return false;
	return n > 0 && n <= 512;
}

/* ---------------------------------------------------------------- opening */

static int wrap(struct kd_storage **out, enum storage_kind kind, const struct storage_ops *ops,
                void *impl, char *describe)
{
	struct kd_storage *s = kd_calloc(1, sizeof *s);
	s->kind = kind;
	s->ops = ops;
	s->impl = impl;
	s->describe = describe;
	*out = s;
	return 0;
}

int storage_open_local(struct kd_storage **out, const char *dir, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	*out = NULL;
	void *impl;
	char *describe;
	int rc = storage_local_new(dir, &impl, &describe, err, errlen);
	return rc < 0 ? rc : wrap(out, STORAGE_LOCAL, &storage_local_ops, impl, describe);
}

int storage_open_s3(struct kd_storage **out, const struct storage_s3_settings *st, char *err,
                    size_t errlen)
{
	SCRATCH(err, errlen);
	*out = NULL;
	void *impl;
	char *describe;
	int rc = storage_s3_new(st, &impl, &describe, err, errlen);
	return rc < 0 ? rc : wrap(out, STORAGE_S3, &storage_s3_ops, impl, describe);
}

int storage_open(struct kd_storage **out, const struct kd_config *cfg, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	*out = NULL;
	if (!cfg->storage) {
		char *dir = kd_path_join(cfg->data_dir, "media");
		int rc = storage_open_local(out, dir, err, errlen);
		free(dir);
		return rc;
	}
	char *bucket, *prefix, why[KD_ERRMSG_MAX];
	if (kd_config_parse_storage(cfg->storage, &bucket, &prefix, why, sizeof why) < 0) {
		snprintf(err, errlen, "storage = %.80s: %s", cfg->storage, why);
		return KD_EINVAL;
	}
	struct storage_s3_settings st = {
		.bucket = bucket,
		.prefix = prefix,
		.endpoint = cfg->s3_endpoint,
		.region = cfg->s3_region,
		.access_key = getenv("AWS_ACCESS_KEY_ID"),
		.secret_key = getenv("AWS_SECRET_ACCESS_KEY"),
		.session_token = getenv("AWS_SESSION_TOKEN"),
	};
	int rc = storage_open_s3(out, &st, err, errlen);
	free(bucket);
	free(prefix);
	return rc;
}

void storage_close(struct kd_storage **s)
{
	if (!s || !*s)
		return;
	(*s)->ops->close((*s)->impl);
	free((*s)->describe);
	free(*s);
	*s = NULL;
}

enum storage_kind storage_kind(const struct kd_storage *s)
{
	return s->kind;
}

const char *storage_describe(const struct kd_storage *s)
{
	return s->describe;
}

int storage_check(struct kd_storage *s, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	return s->ops->check(s->impl, err, errlen);
}

/* ---------------------------------------------------------------- objects */

int storage_put_file(struct kd_storage *s, const char *key, const char *path,
                     const char *content_type, unsigned flags, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	if (!storage_key_valid(key))
		return bad_key(key, err, errlen);
	if (!path || !*path || (flags & ~STORAGE_MOVE) || !header_text(content_type)) {
		snprintf(err, errlen, "cannot store %s: no file, or a bad content type or flag", key);
		return KD_EINVAL;
	}
	return s->ops->put_file(s->impl, key, path, content_type, flags, err, errlen);
}

int storage_put_buf(struct kd_storage *s, const char *key, const void *data, size_t len,
                    const char *content_type, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	if (!storage_key_valid(key))
		return bad_key(key, err, errlen);
	if ((!data && len) || !header_text(content_type)) {
		snprintf(err, errlen, "cannot store %s: no data, or a bad content type", key);
		return KD_EINVAL;
	}
	return s->ops->put_buf(s->impl, key, data ? data : "", len, content_type, err, errlen);
}

static int check_range(const char *key, uint64_t off, uint64_t len, char *err, size_t errlen)
{
	if (len == 0 || (len != STORAGE_TO_END && off > UINT64_MAX - len)) {
		snprintf(err, errlen, "cannot read %s: an empty or impossible byte range", key);
		return KD_EINVAL;
	}
	return 0;
}

int storage_get(struct kd_storage *s, const char *key, uint64_t off, uint64_t len,
                storage_write_fn fn, void *arg, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	if (!storage_key_valid(key))
		return bad_key(key, err, errlen);
	int rc = check_range(key, off, len, err, errlen);
	return rc < 0 ? rc : s->ops->get(s->impl, key, off, len, fn, arg, err, errlen);
}

/* storage_get_file's sink: append to the temporary file. */
struct file_sink {
	int fd;
	int error; /* errno of a failed write */
};

static int to_file(void *arg, const void *data, size_t len)
{
	struct file_sink *f = arg;
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(f->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			f->error = errno;
			return KD_EIO;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int storage_get_file(struct kd_storage *s, const char *key, uint64_t off, uint64_t len,
                     const char *path, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	if (!storage_key_valid(key))
		return bad_key(key, err, errlen);
	int rc = check_range(key, off, len, err, errlen);
	if (rc < 0)
		return rc;
	/* a '.'-led temporary name beside the target, renamed when complete */
	const char *slash = strrchr(path, '/');
	char *tmp = slash ? kd_asprintf("%.*s/.%.200s.tmp-XXXXXX", (int)(slash - path), path, slash + 1)
	                  : kd_asprintf(".%.200s.tmp-XXXXXX", path);
	struct file_sink f = {mkostemp(tmp, O_CLOEXEC), 0};
	if (f.fd < 0) {
		snprintf(err, errlen, "cannot read %s into %s: %s", key, path, strerror(errno));
		free(tmp);
		return KD_EIO;
	}
	fchmod(f.fd, 0640);
	rc = s->ops->get(s->impl, key, off, len, to_file, &f, err, errlen);
	if (rc == KD_EIO && f.error) {
		snprintf(err, errlen, "cannot read %s into %s: %s", key, path, strerror(f.error));
	} else if (rc == 0 && kd_commit_file(f.fd, tmp, path) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		rc = KD_EIO;
	}
	close(f.fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int storage_stat(struct kd_storage *s, const char *key, struct storage_stat *st, char *err,
                 size_t errlen)
{
	SCRATCH(err, errlen);
	if (!storage_key_valid(key))
		return bad_key(key, err, errlen);
	memset(st, 0, sizeof *st);
	return s->ops->stat(s->impl, key, st, err, errlen);
}

int storage_delete(struct kd_storage *s, const char *key, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	if (!storage_key_valid(key))
		return bad_key(key, err, errlen);
	return s->ops->del(s->impl, key, err, errlen);
}

int storage_delete_prefix(struct kd_storage *s, const char *prefix, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	size_t n = prefix ? strlen(prefix) : 0;
	if (n < 2 || prefix[n - 1] != '/' || !storage_prefix_valid(prefix)) {
		snprintf(err, errlen, "'%.80s' is not a prefix to delete under: a folder of keys ending "
		         "with '/', such as \"123/\"", prefix ? prefix : "(none)");
		return KD_EINVAL;
	}
	return s->ops->delete_prefix(s->impl, prefix, err, errlen);
}

int storage_list(struct kd_storage *s, const char *prefix, storage_list_fn fn, void *arg,
                 char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	if (!storage_prefix_valid(prefix)) {
		snprintf(err, errlen, "'%.80s' is not the start of a storage key",
		         prefix ? prefix : "(none)");
		return KD_EINVAL;
	}
	return s->ops->list(s->impl, prefix, fn, arg, err, errlen);
}

int storage_presign_get(struct kd_storage *s, const char *key, unsigned expires,
                        const char *content_type, const char *content_disposition, char **url,
                        char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	*url = NULL;
	if (!storage_key_valid(key))
		return bad_key(key, err, errlen);
	if (!s->ops->presign_get) {
		snprintf(err, errlen, "media in %s have no URLs of their own (not available): serve "
		         "the file", s->describe);
		return KD_EINVAL;
	}
	if (expires < 1 || expires > STORAGE_PRESIGN_MAX || !header_text(content_type) ||
	    !header_text(content_disposition)) {
		snprintf(err, errlen, "cannot make a URL for %s: it may live 1 second to 7 days, and "
		         "its content type and disposition must be short printable text", key);
		return KD_EINVAL;
	}
	return s->ops->presign_get(s->impl, key, expires, content_type, content_disposition, url,
	                           err, errlen);
}

int storage_local_path(struct kd_storage *s, const char *key, char **path)
{
	*path = NULL;
	if (!s->ops->local_path || !storage_key_valid(key))
		return KD_EINVAL;
	*path = s->ops->local_path(s->impl, key);
	return 0;
}

/* ---------------------------------------------------------------- multipart */

static bool upload_id_valid(const char *id)
{
	size_t n = 0;
	for (; id && id[n]; n++)
		if (id[n] <= 32 || id[n] >= 127)
			return false;
	return n > 0 && n < STORAGE_UPLOAD_ID_MAX;
}

static int bad_upload(const char *key, const char *id, char *err, size_t errlen)
{
	if (!storage_key_valid(key))
		return bad_key(key, err, errlen);
	snprintf(err, errlen, "'%.40s' is not an upload id", id ? id : "(none)");
	return KD_EINVAL;
}

int storage_mpu_create(struct kd_storage *s, const char *key, const char *content_type,
                       char **upload_id, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	*upload_id = NULL;
	if (!storage_key_valid(key))
		return bad_key(key, err, errlen);
	if (!header_text(content_type)) {
		snprintf(err, errlen, "cannot start an upload to %s: a bad content type", key);
		return KD_EINVAL;
	}
	return s->ops->mpu_create(s->impl, key, content_type, upload_id, err, errlen);
}

int storage_mpu_put_part(struct kd_storage *s, const char *key, const char *upload_id,
                         int number, const void *data, size_t len,
                         char etag[STORAGE_ETAG_MAX], char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	if (!storage_key_valid(key) || !upload_id_valid(upload_id))
		return bad_upload(key, upload_id, err, errlen);
	if (number < 1 || number > STORAGE_PARTS_MAX || (!data && len)) {
		snprintf(err, errlen, "cannot upload part %d to %s: parts are numbered 1 to 10000",
		         number, key);
		return KD_EINVAL;
	}
	etag[0] = '\0';
	return s->ops->mpu_put_part(s->impl, key, upload_id, number, data ? data : "", len, etag,
	                            err, errlen);
}

int storage_mpu_list_parts(struct kd_storage *s, const char *key, const char *upload_id,
                           struct storage_part **parts, size_t *n, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	*parts = NULL;
	*n = 0;
	if (!storage_key_valid(key) || !upload_id_valid(upload_id))
		return bad_upload(key, upload_id, err, errlen);
	return s->ops->mpu_list_parts(s->impl, key, upload_id, parts, n, err, errlen);
}

int storage_mpu_complete(struct kd_storage *s, const char *key, const char *upload_id,
                         const struct storage_part *parts, size_t n, char *err, size_t errlen)
{
	SCRATCH(err, errlen);
	if (!storage_key_valid(key) || !upload_id_valid(upload_id))
		return bad_upload(key, upload_id, err, errlen);
	bool ok = parts && n >= 1 && n <= STORAGE_PARTS_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = parts[i].number >= 1 && parts[i].number <= STORAGE_PARTS_MAX &&
		     (i == 0 || parts[i].number > parts[i - 1].number) &&
		     memchr(parts[i].etag, '\0', sizeof parts[i].etag) && upload_id_valid(parts[i].etag);
	if (!ok) {
		snprintf(err, errlen, "cannot complete the upload to %s: it needs 1 to 10000 parts, "
		         "numbers ascending, each with its ETag", key);
		return KD_EINVAL;
	}
	return s->ops->mpu_complete(s->impl, key, upload_id, parts, n, err, errlen);
}

int storage_mpu_abort(struct kd_storage *s, const char *key, const char *upload_id, char *err,
                      size_t errlen)
{
	SCRATCH(err, errlen);
	if (!storage_key_valid(key) || !upload_id_valid(upload_id))
		return bad_upload(key, upload_id, err, errlen);
	return s->ops->mpu_abort(s->impl, key, upload_id, err, errlen);
}

static int hash_more(void *arg, const void *data, size_t len)
{
	kd_sha256_update(arg, data, len);
	return 0;
}

int storage_sha256(struct kd_storage *s, const char *key, char hex[KD_SHA256_HEX], char *err,
                   size_t errlen)
{
	struct storage_stat st;
	int rc = storage_stat(s, key, &st, err, errlen);
	if (rc < 0)
		return rc;
	struct kd_sha256 h;
	if (kd_sha256_init(&h) < 0)
		return KD_ENOMEM;
	if (st.size && (rc = storage_get(s, key, 0, STORAGE_TO_END, hash_more, &h, err, errlen)) < 0) {
		kd_sha256_abort(&h);
		return rc;
	}
	kd_sha256_final(&h, hex);
	return 0;
}
