/* worker.c - processing one clip: what a worker process does, inside its
 * sandbox, with no catalogue (see jobs.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/media.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
#include "kindling/sandbox.h"

static void failed(struct jobs_result *r, int64_t id, const char *why)
{
	log_warn("worker", "clip %lld failed: %s", (long long)id, why);
	r->status = CAT_FAILED;
	snprintf(r->error, sizeof r->error, "%s", why);
}

static void keep_facts(struct jobs_result *r, const struct media_facts *f)
{
	r->probed = true;
	snprintf(r->container, sizeof r->container, "%s", f->container);
	snprintf(r->video_codec, sizeof r->video_codec, "%s", f->video_codec);
	snprintf(r->audio_codec, sizeof r->audio_codec, "%s", f->audio_codec);
	snprintf(r->created_time, sizeof r->created_time, "%s", f->creation_time);
	r->duration_s = f->duration_s;
	r->fps = f->fps;
	r->width = f->width;
	r->height = f->height;
	r->rotation = f->rotation;
	r->coded_width = f->coded_width;
	r->coded_height = f->coded_height;
	r->bit_rate = f->bit_rate;
	r->size_bytes = f->size_bytes;
}

int jobs_process_clip(const char *data_dir, int64_t id, struct jobs_result *r, char *err,
                      size_t errlen)
{
	memset(r, 0, sizeof *r);
	char why[KD_ERRMSG_MAX] = "";
	char *files[KD_FILE_COUNT] = {0};
	for (int i = 0; i < KD_FILE_COUNT; i++)
		files[i] = paths_clip_file(data_dir, id, (enum kd_media_file)i);
	struct media_facts f;
	int rc;
	if ((rc = media_probe(files[KD_FILE_ORIGINAL], &f, why, sizeof why)) < 0)
		goto media_error;
	keep_facts(r, &f);
	struct media_picture_paths pictures = {
		.thumb_path = files[KD_FILE_THUMBNAIL],
		.poster_path = files[KD_FILE_POSTER],
		.sprite_path = files[KD_FILE_STORYBOARD_JPG],
		.vtt_path = files[KD_FILE_STORYBOARD_VTT],
		/* beside the WebVTT file: relative to its URL */
		.sprite_url = paths_file_name(KD_FILE_STORYBOARD_JPG),
	};
	if ((rc = media_make_outputs(files[KD_FILE_ORIGINAL], &f, &pictures, files[KD_FILE_VIDEO],
	                             why, sizeof why)) < 0)
		goto media_error;
	r->status = CAT_READY;
	log_info("worker", "clip %lld ready: %s %dx%d %.1fs%s", (long long)id, f.video_codec, f.width,
	         f.height, f.duration_s, f.browser_ready ? " (remuxed)" : "");
	goto out;
media_error:
	if (rc == KD_EINVAL || rc == KD_ENOTFOUND) {
		/* The file is the problem, not us: the job is done, the clip failed. */
		failed(r, id, rc == KD_ENOTFOUND ? "the uploaded file is missing from the server; "
		                                   "upload it again"
		                                 : why);
		rc = 0;
	} else {
		snprintf(err, errlen, "%s", why[0] ? why : kd_strerror(rc));
	}
out:
	for (int i = 0; i < KD_FILE_COUNT; i++)
		free(files[i]);
	return rc;
}

/* Write the report line on standard output, whole. */
static int report(const struct jobs_result *r, char *err, size_t errlen)
{
	char *line = jobs_result_json(r);
	int rc = line && printf("%s\n", line) >= 0 && fflush(stdout) == 0 ? 0 : KD_EIO;
	if (rc < 0)
		snprintf(err, errlen, "cannot write the report: %s", line ? strerror(errno) : "out of memory");
	free(line);
	return rc;
}

int jobs_worker_run(const char *data_dir, int64_t clip, const struct sandbox_limits *limits,
                    int threads, char *err, size_t errlen)
{
	char *dir = paths_clip_dir(data_dir, clip);
	char *original = paths_clip_file(data_dir, clip, KD_FILE_ORIGINAL);
	struct jobs_result r;
	int rc = 0;
	/* A worker of an earlier run may still be writing this clip's files
	 * (its runner died a moment ago): wait for it rather than write
	 * beside it. */
	int lock = open(original, O_RDONLY | O_CLOEXEC);
	while (lock >= 0 && flock(lock, LOCK_EX) < 0 && errno == EINTR)
		;
	if (lock < 0) {
		/* Nothing to open: a report, not a crash (which would be retried). */
		memset(&r, 0, sizeof r);
		r.status = CAT_FAILED;
		snprintf(r.error, sizeof r.error,
		         "the uploaded file is missing from the server; upload it again");
		rc = report(&r, err, errlen);
		goto out;
	}
	bool confined = false;
	rc = sandbox_enter(dir, limits, &confined, err, errlen);
	if (rc == 0 && !confined)
		log_warn("worker", "clip %lld: this kernel has no Landlock; the worker is limited and "
		         "filtered but not confined to the clip's folder", (long long)clip);
	media_set_threads(threads);
	if (rc == 0)
		rc = jobs_process_clip(data_dir, clip, &r, err, errlen);
	if (rc == 0)
		rc = report(&r, err, errlen);
	close(lock);
out:
	free(original);
	free(dir);
	return rc;
}
