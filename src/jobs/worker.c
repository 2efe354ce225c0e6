/* worker.c - processing one clip: what a worker process does, inside its
 * sandbox, with no catalogue (see jobs.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/media.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
#include "kindling/sandbox.h"
#include "jobs/transcribe.h" /* issue 15: transcription */

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

/* ------------------------------------------------------------ blur.json */

/* A region's number: finite, within [lo, hi]. */
static bool blur_number(json_t *region, const char *key, double lo, double hi, double *out,
                        char *err, size_t errlen, size_t i)
{
	json_t *v = json_object_get(region, key);
	double d = json_number_value(v);
	if (!json_is_number(v) || !isfinite(d) || d < lo || d > hi) {
		snprintf(err, errlen, "region %zu: %s %s", i + 1, key,
		         !v                  ? "is missing"
		         : !json_is_number(v) ? "is not a number"
		                              : "is out of range");
		return false;
	}
	*out = d;
	return true;
}

/* Longer than any clip kindling takes: a time past it is not a time. */
#define BLUR_MAX_S 1e7
/* How far past the picture's edge rounding may take x + w and y + h. */
#define BLUR_ROUNDING 1e-6

int jobs_blur_parse(const char *text, size_t len, struct media_blur_region **regions, size_t *n,
                    int64_t *rev, char *err, size_t errlen)
{
	*regions = NULL;
	*n = 0;
	*rev = 0;
	if (len > JOBS_BLUR_MAX_BYTES) {
		snprintf(err, errlen, "it is over %d KiB", JOBS_BLUR_MAX_BYTES >> 10);
		return KD_EINVAL;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *list = doc;
	if (!doc) {
		snprintf(err, errlen, "it is not JSON (line %d: %s)", jerr.line, jerr.text);
		return KD_EINVAL;
	}
	int rc = KD_EINVAL;
	struct media_blur_region *out = NULL;
	if (json_is_object(doc)) {
		json_t *v = json_object_get(doc, "rev");
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(err, errlen, "its rev is %s", v ? "not a whole number from 0 up" : "missing");
			goto out;
		}
		*rev = json_integer_value(v);
		list = json_object_get(doc, "regions");
	}
	if (!json_is_array(list)) {
		snprintf(err, errlen, "it has no list of regions");
		goto out;
	}
	size_t count = json_array_size(list);
	if (count > JOBS_BLUR_MAX_REGIONS) {
		snprintf(err, errlen, "it has %zu regions, more than %d", count, JOBS_BLUR_MAX_REGIONS);
		goto out;
	}
	out = count ? kd_calloc(count, sizeof *out) : NULL;
	for (size_t i = 0; i < count; i++) {
		json_t *g = json_array_get(list, i);
		struct media_blur_region *b = &out[i];
		if (!json_is_object(g)) {
			snprintf(err, errlen, "region %zu is not an object", i + 1);
			goto out;
		}
		if (!blur_number(g, "from_s", 0, BLUR_MAX_S, &b->from_s, err, errlen, i) ||
		    !blur_number(g, "to_s", 0, BLUR_MAX_S, &b->to_s, err, errlen, i) ||
		    !blur_number(g, "x", 0, 1, &b->x, err, errlen, i) ||
		    !blur_number(g, "y", 0, 1, &b->y, err, errlen, i) ||
		    !blur_number(g, "w", 0, 1, &b->w, err, errlen, i) ||
		    !blur_number(g, "h", 0, 1, &b->h, err, errlen, i))
			goto out;
		if (b->to_s < b->from_s) {
			snprintf(err, errlen, "region %zu ends (to_s) before it starts (from_s)", i + 1);
			goto out;
		}
		if (b->w <= 0 || b->h <= 0 || b->x >= 1 || b->y >= 1) {
			snprintf(err, errlen, "region %zu has no area on the picture", i + 1);
			goto out;
		}
		if (b->x + b->w > 1 + BLUR_ROUNDING || b->y + b->h > 1 + BLUR_ROUNDING) {
			snprintf(err, errlen, "region %zu reaches past the picture's edge", i + 1);
			goto out;
		}
		b->w = fmin(b->w, 1 - b->x);
		b->h = fmin(b->h, 1 - b->y);
	}
	*regions = out;
	*n = count;
	out = NULL;
	rc = 0;
out:
	free(out);
	json_decref(doc);
	if (rc < 0)
		*rev = 0;
	return rc;
}

/* The clip's blur.json into *regions, *n, *rev (none: no file).  KD_EINVAL
 * with why for a file that is not what a runner writes; KD_EIO with why
 * when it cannot be read. */
static int read_blur(const char *data_dir, int64_t id, struct media_blur_region **regions,
                     size_t *n, int64_t *rev, char *why, size_t whylen)
{
	char *path = paths_clip_blur_file(data_dir, id), *text = NULL;
	char detail[KD_ERRMSG_MAX / 2] = ""; /* room for it in why */
	size_t len = 0;
	*regions = NULL;
	*n = 0;
	*rev = 0;
	int rc = kd_read_file(path, JOBS_BLUR_MAX_BYTES, &text, &len);
	if (rc == KD_ENOTFOUND) {
		rc = 0;
	} else if (rc == KD_ETOOBIG) {
		snprintf(why, whylen, "the regions to blur could not be read (blur.json is over %d KiB); "
		         "mark fewer regions and save them again", JOBS_BLUR_MAX_BYTES >> 10);
		rc = KD_EINVAL;
	} else if (rc < 0) {
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		rc = KD_EIO;
	} else if ((rc = jobs_blur_parse(text, len, regions, n, rev, detail, sizeof detail)) < 0) {
		snprintf(why, whylen, "the regions to blur could not be read (blur.json: %s); "
		         "save the clip's blur regions again", detail);
	}
	free(text);
	free(path);
	return rc;
}

/* ------------------------------------------------------------ the clip */

int jobs_process_clip(const char *data_dir, int64_t id, struct jobs_result *r, char *err,
                      size_t errlen)
{
	memset(r, 0, sizeof *r);
	char why[KD_ERRMSG_MAX] = "";
	char *files[KD_FILE_COUNT] = {0};
	for (int i = 0; i < KD_FILE_COUNT; i++)
		files[i] = paths_clip_file(data_dir, id, (enum kd_media_file)i);
	struct media_blur_region *regions = NULL;
	struct media_facts f;
	int rc;
	/* First: nothing is made that should have been blurred. */
	struct media_blur blur = {0};
	if ((rc = read_blur(data_dir, id, &regions, &blur.n, &r->blur_rev, why, sizeof why)) < 0)
		goto media_error;
	blur.regions = regions;
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
	                             &blur, why, sizeof why)) < 0)
		goto media_error;
	r->status = CAT_READY;
	if (blur.n > 0)
		log_info("worker", "clip %lld ready: %s %dx%d %.1fs, %zu regions blurred (rev %lld)",
		         (long long)id, f.video_codec, f.width, f.height, f.duration_s, blur.n,
		         (long long)r->blur_rev);
	else
		log_info("worker", "clip %lld ready: %s %dx%d %.1fs%s", (long long)id, f.video_codec,
		         f.width, f.height, f.duration_s, f.browser_ready ? " (remuxed)" : "");
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
	free(regions);
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
	struct jobs_result r = {0};
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
	/* issue 15: transcription: its process is started now, since the
	 * sandbox forbids starting any (src/jobs/transcribe.h) */
	struct transcriber tr;
	transcribe_fork(dir, limits, &tr);
	bool confined = false;
	rc = sandbox_enter(dir, limits, &confined, err, errlen);
	if (rc == 0 && !confined)
		log_warn("worker", "clip %lld: this kernel has no Landlock; the worker is limited and "
		         "filtered but not confined to the clip's folder", (long long)clip);
	media_set_threads(threads);
	if (rc == 0)
		rc = jobs_process_clip(data_dir, clip, &r, err, errlen);
	/* issue 15: transcription, once the clip is ready; never fails it */
	transcribe_clip(&tr, rc == 0 && r.status == CAT_READY && r.audio_codec[0], original, dir,
	                r.duration_s, &r);
	if (rc == 0)
		rc = report(&r, err, errlen);
	close(lock);
out:
	free(original);
	free(dir);
	return rc;
}
