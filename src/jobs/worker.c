/* worker.c - processing one clip: what a `kindling worker` process does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/media.h"
#include "kindling/mem.h"
#include "kindling/paths.h"

/* Mark the clip failed with a reason a coach can act on. */
static int fail_clip(sqlite3 *db, int64_t id, const char *why)
{
	log_warn("worker", "clip %lld failed: %s", (long long)id, why);
	int rc = cat_clip_set_status(db, id, CAT_FAILED, why);
	return rc == KD_ENOTFOUND ? 0 : rc;
}

int jobs_process_clip(const struct kd_config *cfg, sqlite3 *db, int64_t id, char *err,
                      size_t errlen)
{
	char why[KD_ERRMSG_MAX] = "";
	char *files[KD_FILE_COUNT] = {0};
	for (int i = 0; i < KD_FILE_COUNT; i++)
		files[i] = paths_clip_file(cfg->data_dir, id, (enum kd_media_file)i);
	struct media_facts f;
	int rc = 0, lock = -1;
	/* A worker orphaned by a server killed mid-job may still be writing
	 * this clip's files: wait for it rather than write beside it. */
	lock = open(files[KD_FILE_ORIGINAL], O_RDONLY | O_CLOEXEC);
	if (lock < 0) {
		rc = fail_clip(db, id, "the uploaded file is missing from the server; upload it again");
		goto out;
	}
	while (flock(lock, LOCK_EX) < 0 && errno == EINTR)
		;
	if ((rc = media_probe(files[KD_FILE_ORIGINAL], &f, why, sizeof why)) < 0)
		goto media_error;
	struct cat_media m = {
		.container = f.container, .duration_s = f.duration_s, .width = f.width,
		.height = f.height, .rotation = f.rotation, .video_codec = f.video_codec,
		.audio_codec = f.audio_codec, .fps = f.fps, .bit_rate = f.bit_rate,
		.size_bytes = f.size_bytes,
	};
	if ((rc = cat_clip_set_media(db, id, &m, f.coded_width, f.coded_height,
	                             f.creation_time)) < 0) {
		snprintf(err, errlen, "cannot record the media facts: %s", sqlite3_errmsg(db));
		goto out;
	}
	if ((rc = media_make_images(files[KD_FILE_ORIGINAL], &f, files[KD_FILE_THUMBNAIL],
	                            files[KD_FILE_POSTER], why, sizeof why)) < 0)
		goto media_error;
	if ((rc = media_make_storyboard(files[KD_FILE_ORIGINAL], &f, files[KD_FILE_STORYBOARD_JPG],
	                                files[KD_FILE_STORYBOARD_VTT],
	                                /* beside the WebVTT file: relative to its URL */
	                                paths_file_name(KD_FILE_STORYBOARD_JPG), why,
	                                sizeof why)) < 0)
		goto media_error;
	if ((rc = media_make_rendition(files[KD_FILE_ORIGINAL], &f, files[KD_FILE_VIDEO], why,
	                               sizeof why)) < 0)
		goto media_error;
	rc = cat_clip_set_status(db, id, CAT_READY, NULL);
	if (rc == KD_ENOTFOUND)
		rc = 0; /* deleted while we worked: nothing to report */
	else if (rc == 0)
		log_info("worker", "clip %lld ready: %s %dx%d %.1fs%s", (long long)id, f.video_codec,
		         f.width, f.height, f.duration_s, f.browser_ready ? " (remuxed)" : "");
	goto out;
media_error:
	if (rc == KD_EINVAL) {
		/* The file is the problem, not us: the job is done, the clip failed. */
		rc = fail_clip(db, id, why);
	} else {
		snprintf(err, errlen, "%s", why[0] ? why : kd_strerror(rc));
	}
out:
	if (lock >= 0)
		close(lock);
	for (int i = 0; i < KD_FILE_COUNT; i++)
		free(files[i]);
	return rc;
}
