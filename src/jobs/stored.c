/* stored.c - a clip's files between its work folder and object storage
 * (see stored.h). */
#include "stored.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include "kindling/paths.h"
#include "kindling/sha256.h"

/* In a work folder the runner made to process a fetched original. */
#define WORK_MARK ".work"

int stored_fetch_original(struct kd_storage *s, const char *data_dir, int64_t clip, char *err,
                          size_t errlen)
{
	char *dir = paths_clip_dir(data_dir, clip);
	char *path = paths_clip_file(data_dir, clip, KD_FILE_ORIGINAL);
	int rc = 0;
	if (access(path, F_OK) != 0) {
		char key[PATHS_KEY_MAX];
		paths_clip_key(clip, KD_FILE_ORIGINAL, key);
		/* marked as this node's work, for stored_sweep: a folder without
		 * the mark (a data folder's own media, before a move) is never
		 * its to remove */
		char *mark = kd_path_join(dir, WORK_MARK);
		int fd = -1;
		if (kd_mkdirs(dir, 0750) < 0 ||
		    (fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0640)) < 0) {
			snprintf(err, errlen, "cannot make the work folder %s: %s", dir, strerror(errno));
			rc = KD_EIO;
		} else {
			rc = storage_get_file(s, key, 0, STORAGE_TO_END, path, err, errlen);
		}
		if (fd >= 0)
			close(fd);
		free(mark);
	}
	free(path);
	free(dir);
	return rc;
}

int stored_put_files(struct kd_storage *s, const char *data_dir, int64_t clip, char *err,
                     size_t errlen)
{
	/* the original last: while it is here, a retry can make the rest again */
	for (int i = 1; i <= KD_FILE_COUNT; i++) {
		enum kd_media_file f = (enum kd_media_file)(i % KD_FILE_COUNT);
		char *path = paths_clip_file(data_dir, clip, f);
		char key[PATHS_KEY_MAX];
		paths_clip_key(clip, f, key);
		int rc = 0;
		struct stat local;
		struct storage_stat there;
		/* An original fetched from the storage (an upload through a web
		 * node of several, or a retry) is there already: not sent back. */
		if (f == KD_FILE_ORIGINAL && stat(path, &local) == 0 &&
		    storage_stat(s, key, &there, NULL, 0) == 0 && there.size == (uint64_t)local.st_size)
			unlink(path);
		else if (access(path, F_OK) == 0)
			rc = storage_put_file(s, key, path, paths_file_type(f), STORAGE_MOVE, err, errlen);
		free(path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void stored_done(const char *data_dir, int64_t clip)
{
	char *dir = paths_clip_dir(data_dir, clip);
	if (kd_remove_tree(dir) < 0)
		log_warn("jobs", "clip %lld is stored, but its work folder %s could not be removed: %s",
		         (long long)clip, dir, strerror(errno));
	free(dir);
}

int jobs_copy_to_storage(struct kd_storage *s, const char *data_dir, int64_t clip,
                     const char *sha256, struct jobs_copy *done, char *err, size_t errlen)
{
	for (int i = 0; i < KD_FILE_COUNT; i++) {
		enum kd_media_file f = (enum kd_media_file)i;
		char *path = paths_clip_file(data_dir, clip, f);
		char key[PATHS_KEY_MAX], want[KD_SHA256_HEX], got[KD_SHA256_HEX];
		paths_clip_key(clip, f, key);
		struct stat local;
		struct storage_stat there;
		int rc = 0;
		if (stat(path, &local) != 0 || !S_ISREG(local.st_mode)) {
			free(path);
			continue; /* not made (a clip that failed, no captions) */
		}
		done->files++;
		done->bytes += (uint64_t)local.st_size;
		if (f == KD_FILE_ORIGINAL && sha256 && *sha256)
			snprintf(want, sizeof want, "%s", sha256);
		else if ((rc = kd_sha256_file(path, want)) < 0)
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		/* an object of the size already there (a run cut short) is sent
		 * again only if it is not the file */
		bool present = rc == 0 && storage_stat(s, key, &there, NULL, 0) == 0 &&
		               there.size == (uint64_t)local.st_size;
		if (present && (storage_sha256(s, key, got, err, errlen) < 0 || strcmp(want, got)))
			present = false;
		if (rc == 0 && !present) {
			rc = storage_put_file(s, key, path, paths_file_type(f), 0, err, errlen);
			done->copied += rc == 0;
			if (rc == 0)
				rc = storage_sha256(s, key, got, err, errlen);
		}
		if (rc == 0 && strcmp(want, got) != 0) {
			snprintf(err, errlen,
			         "%s in the storage is not the file %s (SHA-256 %.12s..., expected "
			         "%.12s...)",
			         key, path, got, want);
			rc = KD_EINVAL;
		}
		free(path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Is a job of clip running (on any node)?  Unknown counts as yes. */
static bool running(struct kd_db *db, int64_t clip)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT count(*) FROM jobs WHERE clip_id = ?1 AND state = 'running'",
	               &st) != DB_OK)
		return true;
	db_bind_int64(st, 1, clip);
	bool yes = db_step(st) != DB_ROW || db_column_int64(st, 0) > 0;
	db_finalize(st);
	return yes;
}

void stored_sweep(struct kd_storage *s, struct kd_db *db, const char *data_dir)
{
	char *media = kd_path_join(data_dir, "media");
	DIR *d = opendir(media);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *end;
		long long id = strtoll(e->d_name, &end, 10);
		if (*end || id <= 0 || running(db, id))
			continue;
		char *path = paths_clip_file(data_dir, id, KD_FILE_ORIGINAL);
		char *dir = paths_clip_dir(data_dir, id);
		char *mark = kd_path_join(dir, WORK_MARK);
		char key[PATHS_KEY_MAX];
		paths_clip_key(id, KD_FILE_ORIGINAL, key);
		struct stat local;
		struct storage_stat there;
		bool safe = access(mark, F_OK) == 0 &&
		            (stat(path, &local) != 0 ||
		             (storage_stat(s, key, &there, NULL, 0) == 0 &&
		              there.size == (uint64_t)local.st_size));
		free(mark);
		free(dir);
		free(path);
		if (safe) {
			log_info("jobs", "removing the work folder of clip %lld, left by a node that "
			         "stopped", id);
			stored_done(data_dir, id);
		}
	}
	if (d)
		closedir(d);
	free(media);
}
