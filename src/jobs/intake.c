/* intake.c - a file becomes a clip: hash, de-duplicate, place, queue. */
#define _GNU_SOURCE
#include "kindling/intake.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/paths.h"

#define CHUNK (1 << 20)

int intake_sha256_file(const char *path, char hex[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? KD_ENOTFOUND : KD_EIO;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	unsigned char *buf = kd_malloc(CHUNK);
	ssize_t n;
	while ((n = read(fd, buf, CHUNK)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
	int saved = errno;
	free(buf);
	close(fd);
	if (n < 0) {
		errno = saved;
		return KD_EIO;
	}
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&st, digest);
	sodium_bin2hex(hex, 65, digest, sizeof digest);
	return 0;
}

/* Copy src to dst through a temporary name, synced, then renamed. */
static int copy_file(const char *src, const char *dst)
{
	char *tmp = kd_asprintf("%s.tmp", dst);
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = KD_EIO;
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0)
		goto out;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0)
		goto out;
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		left -= n;
	}
	if (fsync(out) < 0 || close(out) < 0) {
		out = -1;
		goto out;
	}
	out = -1;
	if (rename(tmp, dst) < 0)
		goto out;
	rc = 0;
out:;
	int saved = errno;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	errno = saved;
	return rc;
}

int intake_file(const struct kd_config *cfg, sqlite3 *db, const char *path, bool move,
                struct cat_clip_new *meta, int64_t *id, bool *duplicate, char *err,
                size_t errlen)
{
	char sha[65];
	*duplicate = false;
	int rc = intake_sha256_file(path, sha);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return rc == KD_ENOTFOUND ? KD_ENOTFOUND : KD_EIO;
	}
	const char *base = strrchr(path, '/');
	meta->sha256 = sha;
	if (!meta->original_name)
		meta->original_name = base ? base + 1 : path;
	if (!meta->status)
		meta->status = "queued";

	/* The clip row and its job are one transaction with the duplicate
	 * check, so two coaches sending the same file at once get one clip. */
	rc = cat_clip_create(db, meta, id, err, errlen);
	if (rc == KD_EEXIST) {
		*duplicate = true;
		return 0;
	}
	if (rc < 0)
		return rc;
	char *dir = paths_clip_dir(cfg->data_dir, *id);
	char *dst = paths_clip_file(cfg->data_dir, *id, KD_FILE_ORIGINAL);
	rc = kd_mkdirs(dir, 0750);
	if (rc == 0) {
		if (move && rename(path, dst) == 0)
			rc = 0;
		else
			rc = copy_file(path, dst);
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot store the file in %s: %s (is the disk full?)", dir,
		         strerror(errno));
		cat_clip_delete(db, *id);
		kd_remove_tree(dir);
	} else if ((rc = jobs_enqueue(db, *id)) < 0) {
		snprintf(err, errlen, "cannot queue the clip for processing: %s", sqlite3_errmsg(db));
		cat_clip_delete(db, *id);
		kd_remove_tree(dir);
	}
	free(dir);
	free(dst);
	return rc;
}
