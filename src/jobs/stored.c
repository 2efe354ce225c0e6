/* stored.c - a clip's files between its work folder and object storage
 * (see stored.h). */
#include "stored.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/log.h"
#include "kindling/paths.h"

int stored_fetch_original(struct kd_storage *s, const char *data_dir, int64_t clip, char *err,
                          size_t errlen)
{
	char *dir = paths_clip_dir(data_dir, clip);
	char *path = paths_clip_file(data_dir, clip, KD_FILE_ORIGINAL);
	int rc = 0;
	if (access(path, F_OK) != 0) {
		char key[PATHS_KEY_MAX];
		paths_clip_key(clip, KD_FILE_ORIGINAL, key);
		if (kd_mkdirs(dir, 0750) < 0) {
			snprintf(err, errlen, "cannot make the work folder %s: %s", dir, strerror(errno));
			rc = KD_EIO;
		} else {
			rc = storage_get_file(s, key, 0, STORAGE_TO_END, path, err, errlen);
		}
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
		if (access(path, F_OK) == 0)
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
