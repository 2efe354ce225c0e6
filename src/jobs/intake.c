/* intake.c - a file becomes a clip: copy and hash, de-duplicate, place,
 * queue. */
#define _GNU_SOURCE
#include "kindling/intake.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
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
#include "kindling/outbox.h"
#include "kindling/paths.h"
#include "kindling/sha256.h"
#include "kindling/storage.h"

/* Pieces of a copy: big reads, and the disk set writing every few. */
#define COPY_CHUNK (4 << 20)
#define COPY_FLUSH (16 << 20)

/*
 * Copy src to a new file at dst, synced (not yet renamed anywhere), and
 * hash what is copied: one read of the file, not two, and the hash is of
 * the very bytes stored.  Each few megabytes copied are sent to the disk
 * at once, so the final sync waits only for the last of them, not for the
 * whole file after the copy.
 */
static int copy_and_hash(const char *src, const char *dst, char sha[KD_SHA256_HEX])
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = KD_EIO;
	char *buf = NULL;
	struct kd_sha256 h = {0};
	if (in < 0)
		return errno == ENOENT ? KD_ENOTFOUND : KD_EIO;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	buf = malloc(COPY_CHUNK);
	if (out < 0 || !buf || kd_sha256_init(&h) < 0)
		goto out;
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	off_t done = 0, flushed = 0;
	for (;;) {
		ssize_t n = read(in, buf, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		for (ssize_t w = 0; w < n;) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				goto out;
			w += k;
		}
		kd_sha256_update(&h, buf, (size_t)n);
		done += n;
		if (done - flushed >= COPY_FLUSH) {
			sync_file_range(out, flushed, done - flushed, SYNC_FILE_RANGE_WRITE);
			flushed = done;
		}
	}
	if (fsync(out) < 0)
		goto out;
	kd_sha256_final(&h, sha);
	rc = 0;
out:;
	int saved = errno;
	if (rc < 0 && h.ctx)
		kd_sha256_abort(&h);
	free(buf);
	close(in);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = KD_EIO;
	if (rc < 0 && out >= 0)
		unlink(dst);
	errno = saved;
	return rc;
}

/* Copy src to a new file at dst, synced (not yet renamed anywhere). */
static int copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = KD_EIO;
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0)
		goto out;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
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
	if (fsync(out) < 0)
		goto out;
	rc = 0;
out:;
	int saved = errno;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = KD_EIO;
	if (rc < 0 && out >= 0)
		unlink(dst);
	errno = saved;
	return rc;
}

/*
 * Inside the transaction: the clip's folder and its original.  An upload's
 * bytes are hard-linked, not moved, so that until the commit they are still
 * where the upload keeps them (a crash before it loses nothing the client
 * was told is stored); the caller unlinks them after.  A copy made for
 * ingest is moved.
 */
static int place(const char *staged, bool linked, const char *dir, const char *dst)
{
	if (kd_mkdirs(dir, 0750) < 0)
		return KD_EIO;
	unlink(dst); /* left by an earlier attempt that never committed */
	int rc = linked ? link(staged, dst) : rename(staged, dst);
	if (rc < 0 && linked && (errno == EXDEV || errno == EPERM))
		return copy_file(staged, dst); /* uploads on another file system */
	return rc < 0 ? KD_EIO : kd_commit_file(-1, dst, dst);
}

/* issue 16: file a new clip in the upload batch its metadata names, in
 * the clip's transaction; or, for a file the catalogue had (no new clip),
 * count it off the batch so the uploader is not kept waiting for it. */
static int batch_file(struct kd_db *db, const struct cat_clip_new *meta, int64_t clip_id,
                      char *err, size_t errlen)
{
	if (!meta->batch || !meta->uploader_id)
		return 0;
	return outbox_batch_attach(db, meta->uploader_id, meta->batch, meta->batch_size,
	                           meta->batch_notify, clip_id, err, errlen);
}

/* After a duplicate (its transaction rolled back): the batch's count, on
 * its own.  A failure costs the uploader only a late mail: logged. */
static void batch_duplicate(struct kd_db *db, const struct cat_clip_new *meta)
{
	char why[KD_ERRMSG_MAX] = "";
	if (batch_file(db, meta, 0, why, sizeof why) < 0)
		log_warn("intake", "upload batch %s: cannot count off a duplicate: %s", meta->batch,
		         why);
}

int intake_file(const struct kd_config *cfg, struct kd_db *db, const char *path, bool move,
                struct cat_clip_new *meta, int64_t *id, bool *duplicate, char *err,
                size_t errlen)
{
	char sha[KD_SHA256_HEX];
	*duplicate = false;
	int rc;
	/* A file that is not ours to move is copied first, outside the
	 * transaction (a copy of gigabytes must not hold the catalogue), and
	 * hashed as it is copied. */
	char *staged = NULL;
	if (!move) {
		char *tmpdir = kd_path_join(cfg->data_dir, "tmp");
		static atomic_uint seq;
		staged = kd_asprintf("%s/intake.%ld.%u", tmpdir, (long)getpid(),
		                     atomic_fetch_add(&seq, 1));
		free(tmpdir);
		rc = copy_and_hash(path, staged, sha);
		if (rc == KD_ENOTFOUND) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			free(staged);
			return rc;
		}
		if (rc < 0) {
			snprintf(err, errlen, "cannot copy %s into the data folder: %s (is the disk "
			         "full?)", path, strerror(errno));
			free(staged);
			return KD_EIO;
		}
	} else if (meta->sha256 && strlen(meta->sha256) == KD_SHA256_HEX - 1) {
		/* An upload hashes its bytes as they arrive: no second read. */
		memcpy(sha, meta->sha256, KD_SHA256_HEX);
	} else if ((rc = kd_sha256_file(path, sha)) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return rc == KD_ENOTFOUND ? KD_ENOTFOUND : KD_EIO;
	}
	const char *base = strrchr(path, '/');
	meta->sha256 = sha;
	if (!meta->original_name)
		meta->original_name = base ? base + 1 : path;
	meta->status = CAT_QUEUED;

	/* The clip row, its job and its original are one step: a crash at any
	 * point leaves either all three or none (a job is never claimed for a
	 * clip whose file is not there), and two coaches sending the same file
	 * at once get one clip. */
	char *dir = NULL, *dst = NULL;
	if ((rc = db_begin(db)) < 0) {
		snprintf(err, errlen, "the catalogue is busy; try again in a moment");
		goto out;
	}
	rc = cat_clip_create(db, meta, id, err, errlen);
	if (rc == KD_EEXIST) {
		db_rollback(db);
		*duplicate = true;
		batch_duplicate(db, meta); /* issue 16 */
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto rollback;
	if ((rc = batch_file(db, meta, *id, err, errlen)) < 0) /* issue 16 */
		goto rollback;
	if ((rc = jobs_enqueue(db, *id)) < 0) {
		snprintf(err, errlen, "cannot queue the clip for processing: %s", db_errmsg(db));
		goto rollback;
	}
	dir = paths_clip_dir(cfg->data_dir, *id);
	dst = paths_clip_file(cfg->data_dir, *id, KD_FILE_ORIGINAL);
	if ((rc = place(move ? path : staged, move, dir, dst)) < 0) {
		snprintf(err, errlen, "cannot store the file in %s: %s (is the disk full?)", dir,
		         strerror(errno));
		goto rollback;
	}
	if ((rc = db_commit(db)) < 0) {
		snprintf(err, errlen, "cannot save the clip: %s; try again", db_errmsg(db));
		goto rollback;
	}
	if (move)
		unlink(path);
	goto out;
rollback:
	db_rollback(db);
	if (dir)
		kd_remove_tree(dir);
out:
	meta->sha256 = NULL; /* it pointed at this function's own copy */
	if (staged)
		unlink(staged);
	free(staged);
	free(dir);
	free(dst);
	return rc;
}

int intake_stored(struct kd_db *db, struct kd_storage *storage, struct cat_clip_new *meta,
                  int64_t *id, bool *duplicate, char *err, size_t errlen)
{
	*duplicate = false;
	meta->status = CAT_QUEUED;
	int rc = db_begin(db);
	if (rc < 0) {
		snprintf(err, errlen, "the catalogue is busy; try again in a moment");
		return rc;
	}
	rc = cat_clip_create(db, meta, id, err, errlen);
	if (rc == KD_EEXIST) {
		db_rollback(db);
		*duplicate = true;
		batch_duplicate(db, meta); /* issue 16 */
		char prefix[PATHS_KEY_MAX];
		paths_clip_prefix(meta->id, prefix);
		char why[KD_ERRMSG_MAX];
		if (storage_delete_prefix(storage, prefix, why, sizeof why) < 0)
			log_warn("intake", "a duplicate's stored copy %s stays behind: %s", prefix, why);
		return 0;
	}
	if (rc == 0)
		rc = batch_file(db, meta, *id, err, errlen); /* issue 16 */
	if (rc == 0 && (rc = jobs_enqueue(db, *id)) < 0)
		snprintf(err, errlen, "cannot queue the clip for processing: %s", db_errmsg(db));
	if (rc == 0 && (rc = db_commit(db)) < 0)
		snprintf(err, errlen, "cannot save the clip: %s; try again", db_errmsg(db));
	if (rc < 0)
		db_rollback(db);
	return rc;
}
