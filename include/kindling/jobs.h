/*
 * jobs.h - processing clips apart from the server.
 *
 * Each clip to process is a row in the jobs table.  A runner (a thread in
 * `kindling serve`, `kindling work` or `kindling ingest --wait`; several
 * may share one catalogue, on several nodes) claims queued jobs one
 * UPDATE at a time, so two runners never take the same job, and has each
 * processed in a worker process of its own, with memory, CPU and
 * file-size limits, no_new_privs, Landlock and a system-call filter (see
 * sandbox.h).  Workers are forked from one process the runner starts when
 * it has work (`kindling worker --zygote`, the same binary, with FFmpeg
 * loaded once; see src/jobs/zygote.h), up to cfg->workers at a time.  A
 * worker that crashes, is killed, or passes its wall-clock timeout costs
 * the job one attempt; a job out of attempts marks its clip failed with
 * the reason.  A running job names its runner process, its node and a
 * lease the runner renews: a job whose runner died is queued again by any
 * runner that looks (each does every few seconds), at once on the same
 * node (the process is gone), on another once the lease has run out.
 *
 * Status of a clip moves queued -> processing -> ready | failed.
 */
#ifndef KINDLING_JOBS_H
#define KINDLING_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kindling/catalogue.h"
#include "kindling/config.h"
#include "kindling/err.h"
#include "kindling/sandbox.h"
#include "kindling/storage.h"

struct kd_db; /* db.h */
struct media_blur_region; /* media.h */

/* The channel on which processing nodes hear of queued work (db_notify). */
#define JOBS_CHANNEL "kindling_jobs"

/* Queue processing of a clip (inside the caller's transaction if any),
 * and tell the processing nodes when it commits. */
int jobs_enqueue(struct kd_db *db, int64_t clip_id);

/* Before a worker processes clip: write the clip's applied blur regions
 * and its blur_rev from the catalogue into its folder (paths_clip_blur_file;
 * no file for a clip never blurred).  0, or a KD_E* code with err. */
int jobs_blur_prepare(struct kd_db *db, const char *data_dir, int64_t clip, char *err,
                      size_t errlen);

/* Who holds a running job: a runner process on a node (a machine sharing
 * the catalogue), for lease_s seconds at a time unless renewed. */
struct jobs_owner {
	pid_t pid;
	const char *node;
	unsigned lease_s;
};
/* The owner the runners of this process are (the configuration's node
 * name and lease). */
void jobs_owner_of(const struct kd_config *cfg, struct jobs_owner *o);

/* Claim the oldest queued job (only for clip `only_clip` when it is not 0)
 * for owner.  Returns 0 with *job_id and *clip_id set, KD_ENOTFOUND when
 * nothing is queued, or KD_EDB/KD_EBUSY. */
int jobs_claim(struct kd_db *db, const struct jobs_owner *owner, int64_t only_clip, int64_t *job_id,
               int64_t *clip_id);

/* Renew the lease of every job owner runs.  Done well within lease_s. */
int jobs_renew(struct kd_db *db, const struct jobs_owner *owner);

/* A worker ended.  ok: it did its work (the clip is ready or failed on its
 * own account).  Otherwise the job is queued again while attempts remain,
 * else it and its clip are marked failed with reason. */
int jobs_finish(struct kd_db *db, int64_t job_id, bool ok, const char *reason);

/* Put back in the queue the running jobs nobody runs any more: those of a
 * runner process of this node that no longer exists (at_start: of this
 * process's pid too, a previous process's), and those of another node
 * whose lease has run out. */
int jobs_recover(struct kd_db *db, const struct jobs_owner *me, bool at_start);

/* The limits a worker runs under. */
struct jobs_limits {
	unsigned timeout_s;       /* wall clock per job */
	unsigned long mem_mb;     /* address space */
	unsigned cpu_s;           /* CPU seconds */
	/* issue 15: transcription (src/jobs/transcribe.h): the command (NULL:
	 * none) and how long it may take, on top of timeout_s */
	const char *transcribe_command;
	unsigned transcribe_timeout_s;
};
/* The limits of the configuration (job_timeout, job_memory_mb). */
void jobs_limits_from_config(const struct kd_config *cfg, struct jobs_limits *l);

struct jobs_runner;

/* Start a runner thread that keeps up to cfg->workers workers busy.  bin is
 * the path of the kindling binary to start workers from; limits NULL means
 * those of the configuration. */
int jobs_runner_start(const struct kd_config *cfg, const char *bin,
                      const struct jobs_limits *limits, struct jobs_runner **out);
/* Tell the runner new work is queued (it also looks once a second). */
void jobs_runner_wake(struct jobs_runner *r);
/* Stop claiming, let running workers finish within grace_s seconds, then
 * kill them (their jobs will be retried at the next start). */
void jobs_runner_stop(struct jobs_runner **r, unsigned grace_s);
/* How a runner is doing, for the server's metrics and health (issue 14):
 * seconds since its thread last came round its loop (it does at least
 * once a second when well; -1: not yet), and the worker runs that ended
 * since it started, with their wall-clock seconds.  Thread-safe. */
struct jobs_runner_stats {
	double silent_s;
	uint64_t runs;
	double run_s;
};
void jobs_runner_stats(struct jobs_runner *r, struct jobs_runner_stats *out);

/* A runner of this process's own for given clips only (`kindling ingest
 * --wait`; harmless beside a server's runner: a job is claimed once, and
 * a clip another runner took is waited for).  Start it, add clips as they
 * are taken in (their processing starts at once, while the next file is
 * still being copied), then finish: that waits until every clip added is
 * ready or failed (or deleted), and stops the runner. */
int jobs_batch_start(const struct kd_config *cfg, const char *bin,
                     const struct jobs_limits *limits, struct jobs_runner **out);
void jobs_batch_add(struct jobs_runner *r, int64_t clip_id);
void jobs_batch_finish(struct jobs_runner **r);

/* The same for clips already queued: start, add them all, finish. */
int jobs_run_clips(const struct kd_config *cfg, const char *bin,
                   const struct jobs_limits *limits, const int64_t *clips, size_t n);

/* What a worker found and made of a clip.  A worker has no catalogue: it
 * writes this to its runner as one line of JSON on its standard output,
 * and the runner records it (jobs_record). */
struct jobs_result {
	enum cat_status status;        /* CAT_READY or CAT_FAILED */
	char error[KD_ERRMSG_MAX];     /* why it failed, for a coach to read */
	bool probed;                   /* the media facts below are known */
	char container[64], video_codec[32], audio_codec[32], created_time[32];
	double duration_s, fps;
	int width, height, rotation, coded_width, coded_height;
	int64_t bit_rate, size_bytes;
	int64_t blur_rev;              /* the rev of the blur.json the media were made with;
	                                * 0 when the clip had none */
	/* issue 15: transcription: the command's output is in the clip's
	 * folder (transcript), or why it was not made when it was tried */
	bool transcript;
	char transcribe_error[256];
};
/* The line a worker writes (caller frees), and reading it back: 0, or
 * KD_EINVAL when it is not a report a worker writes. */
char *jobs_result_json(const struct jobs_result *r);
int jobs_result_parse(const char *text, size_t len, struct jobs_result *r, char *err,
                      size_t errlen);

/* The regions a clip's media hide, as its runner wrote them for the worker
 * into the clip's folder (paths_clip_blur_file): at most
 * JOBS_BLUR_MAX_BYTES of JSON,
 *   {"rev": N, "regions": [{"from_s": S, "to_s": S, "x": F, "y": F,
 *                            "w": F, "h": F}, ...]}
 * (or a bare array of regions, rev 0), at most JOBS_BLUR_MAX_REGIONS of
 * them (media.h says what the numbers mean).  Strict, since media made
 * without a region they should hide is worse than none: rev an integer
 * >= 0; every region all six numbers, finite, 0 <= from_s <= to_s, x and
 * y in [0, 1), w and h in (0, 1], x + w and y + h at most 1 (a millionth
 * over is taken as rounding and clamped); other members are ignored.
 * Returns 0 with *regions (caller frees; NULL when there are none), *n and
 * *rev set, or KD_EINVAL with err saying what is wrong. */
#define JOBS_BLUR_MAX_BYTES (256 << 10)
#define JOBS_BLUR_MAX_REGIONS 1000
int jobs_blur_parse(const char *text, size_t len, struct media_blur_region **regions, size_t *n,
                    int64_t *rev, char *err, size_t errlen);

/* What `kindling worker` does: process one clip completely (probe, facts,
 * thumbnail, poster, storyboard, rendition) from the files of its folder
 * in data_dir, into r, with the regions of its blur.json blurred (an
 * invalid one fails the clip: nothing is made unblurred).  A bad file is
 * not an error here: r says failed, with the reason, and 0 is returned.
 * Errors are for the worker itself failing (disk).  It touches no
 * catalogue. */
int jobs_process_clip(const char *data_dir, int64_t clip_id, struct jobs_result *r, char *err,
                      size_t errlen);

/* A worker process, for one clip: wait for any earlier worker of the
 * clip to let go of it, enter the sandbox (limits, Landlock to the clip's
 * folder, the system-call filter), process the clip with up to threads
 * threads per decoder and encoder, and write the report line on standard
 * output.  Returns 0 once the report is written (a bad file included: the
 * report says failed), or KD_EIO with err set when the sandbox or the
 * report could not be made (the runner retries the job). */
int jobs_worker_run(const char *data_dir, int64_t clip, const struct sandbox_limits *limits,
                    int threads, char *err, size_t errlen);

/* What `kindling worker --zygote FD` does: fork a worker (as above) per
 * clip the runner sends over the socket sock, until the runner closes it
 * (src/jobs/zygote.h).  argv/argc: the process's arguments, rewritten in
 * each child to name its clip.  Returns 0 when the runner closed the
 * socket, KD_EIO when it cannot start. */
int jobs_zygote_main(int sock, const char *data_dir, const struct sandbox_limits *limits,
                     char **argv, int argc);

/* A worker's report, recorded in one transaction: the clip's media facts
 * and status, and its job done. */
int jobs_record(struct kd_db *db, int64_t job_id, int64_t clip_id, const struct jobs_result *r);

/* What jobs_copy_to_storage did. */
struct jobs_copy {
	int files;          /* files of the clip found in its folder */
	int copied;         /* of them, sent (the others were there already) */
	uint64_t bytes;     /* their bytes */
};

/* `kindling move-to`: every file of the clip in the data folder's media/
 * copied (not moved) to s under its key, unless the object there already
 * is the file (a run cut short), and read back: its SHA-256 must be the
 * file's, the original's the catalogue's (sha256).  0 when every
 * file is there and checked; KD_EINVAL with err naming the first file
 * that differs; another KD_E* code when the storage or the disk failed. */
int jobs_copy_to_storage(struct kd_storage *s, const char *data_dir, int64_t clip,
                     const char *sha256, struct jobs_copy *done, char *err, size_t errlen);

#endif
