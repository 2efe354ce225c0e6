/* queue.c - the jobs table: enqueue, claim, finish, recover. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/outbox.h"

static int step_done(struct kd_db *db, struct kd_stmt *st)
{
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE && rc != DB_ROW) {
		log_error("jobs", "%s", db_errmsg(db));
		return db_err_code(rc);
	}
	return 0;
}

int jobs_enqueue(struct kd_db *db, int64_t clip_id)
{
	struct kd_stmt *st;
	if (db_prepare(db, "INSERT INTO jobs (clip_id) VALUES (?1)", &st) !=
	    DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, clip_id);
	int rc = step_done(db, st);
	return rc < 0 ? rc : db_notify(db, JOBS_CHANNEL);
}

static int claim(struct kd_db *db, const struct jobs_owner *owner, int64_t only_clip,
                 int64_t *job_id, int64_t *clip_id);

int jobs_claim(struct kd_db *db, const struct jobs_owner *owner, int64_t only_clip, int64_t *job_id,
               int64_t *clip_id)
{
	/* The job and its clip's status in one transaction: one sync of the
	 * catalogue, not two, before each worker starts. */
	int rc = db_begin(db);
	if (rc < 0)
		return rc;
	int64_t job = 0, clip = 0;
	rc = claim(db, owner, only_clip, &job, &clip);
	/* A clip that is ready (or failed) and made again, because its blur
	 * regions changed, keeps its status: it stays listed, and its files
	 * are held back by media_stale until this job records new ones. */
	if (rc == 0)
		rc = cat_clip_set_status_unfinished(db, clip, CAT_PROCESSING, NULL);
	if (rc == KD_ENOTFOUND && clip)
		rc = 0; /* the clip went meanwhile: its job is still to run (and find it gone) */
	if (rc == 0)
		rc = db_commit(db);
	if (rc < 0) {
		db_rollback(db);
		return rc;
	}
	*job_id = job;
	*clip_id = clip;
	return 0;
}

static int claim(struct kd_db *db, const struct jobs_owner *owner, int64_t only_clip,
                 int64_t *job_id, int64_t *clip_id)
{
	/* One statement: the row goes from queued to running atomically, so
	 * two runners (server and an ingest) cannot both take it.  On
	 * PostgreSQL the row is locked as it is chosen, and one another node
	 * has locked is passed over, not waited for. */
#define CLAIM_SQL(lock)                                                                    \
	"UPDATE jobs SET state = 'running', attempts = attempts + 1, worker_pid = ?1, "     \
	"node = ?3, lease_until = ?4, claimed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "  \
	"updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "                               \
	"WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND (?2 = 0 OR clip_id = ?2) " \
	"ORDER BY id LIMIT 1" lock ") RETURNING id, clip_id"
	struct kd_stmt *st;
	if (db_prepare(db, db_backend(db) == DB_POSTGRES ? CLAIM_SQL(" FOR UPDATE SKIP LOCKED")
	                                                 : CLAIM_SQL(""), &st) != DB_OK) {
		log_error("jobs", "%s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, owner->pid);
	db_bind_int64(st, 2, only_clip);
	db_bind_text(st, 3, owner->node, -1, DB_STATIC);
	db_bind_int64(st, 4, (int64_t)time(NULL) + owner->lease_s);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*job_id = db_column_int64(st, 0);
		*clip_id = db_column_int64(st, 1);
	}
	/* RETURNING rows must be stepped to the end for the UPDATE to commit. */
	while (rc == DB_ROW)
		rc = db_step(st);
	int changed = db_changes(db);
	db_finalize(st);
	if (rc != DB_DONE)
		return db_err_code(rc);
	if (!changed)
		return KD_ENOTFOUND;
	return 0;
}

int jobs_finish(struct kd_db *db, int64_t job_id, bool ok, const char *reason)
{
	struct kd_stmt *st;
	int rc;
	if (ok) {
		if (db_prepare(db, "UPDATE jobs SET state = 'done', error = NULL, "
			"updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1", &st) != DB_OK)
			return KD_EDB;
		db_bind_int64(st, 1, job_id);
		return step_done(db, st);
	}
	if ((rc = db_begin(db)) < 0)
		return rc;
	if (db_prepare(db, "UPDATE jobs SET state = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END, "
		"error = ?2, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1 "
		"RETURNING state, clip_id, attempts", &st) != DB_OK) {
		db_rollback(db);
		return KD_EDB;
	}
	db_bind_int64(st, 1, job_id);
	db_bind_text(st, 2, reason, -1, DB_STATIC);
	rc = db_step(st);
	bool failed = false;
	int64_t clip = 0;
	int attempts = 0;
	if (rc == DB_ROW) {
		failed = !strcmp((const char *)db_column_text(st, 0), "failed");
		clip = db_column_int64(st, 1);
		attempts = db_column_int(st, 2);
		while (rc == DB_ROW)
			rc = db_step(st);
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		db_rollback(db);
		return KD_EDB;
	}
	if (clip) {
		if (failed) {
			char msg[KD_ERRMSG_MAX];
			snprintf(msg, sizeof msg, "%s (tried %d times)", reason, attempts);
			rc = cat_clip_set_status_unfinished(db, clip, CAT_FAILED, msg);
		} else {
			rc = cat_clip_set_status_unfinished(db, clip, CAT_QUEUED, NULL);
		}
		if (rc < 0 && rc != KD_ENOTFOUND) {
			db_rollback(db);
			return rc;
		}
		/* issue 16: the last clip of an upload batch may have finished */
		if (failed && (rc = outbox_clip_finished(db, clip)) < 0) {
			db_rollback(db);
			return rc;
		}
	}
	return db_commit(db);
}

int jobs_renew(struct kd_db *db, const struct jobs_owner *owner)
{
	struct kd_stmt *st;
	if (db_prepare(db, "UPDATE jobs SET lease_until = ?3 WHERE state = 'running' AND worker_pid = ?1 "
		"AND node = ?2", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, owner->pid);
	db_bind_text(st, 2, owner->node, -1, DB_STATIC);
	db_bind_int64(st, 3, (int64_t)time(NULL) + owner->lease_s);
	return step_done(db, st);
}

/* Is the running job of runner process pid on node, held until lease,
 * abandoned? */
static bool abandoned(const struct jobs_owner *me, bool at_start, pid_t pid, const char *node,
                      int64_t lease, int64_t now)
{
	if (node && strcmp(node, me->node) != 0)
		return lease < now; /* another machine's: only its lease can tell */
	if (pid == me->pid)
		return at_start; /* ours, unless we have just started (a reused pid) */
	/* A runner of this machine that still exists (an ingest in another
	 * terminal) keeps its jobs; a vanished one's are interrupted. */
	return !(pid > 0 && (kill(pid, 0) == 0 || errno == EPERM));
}

int jobs_recover(struct kd_db *db, const struct jobs_owner *me, bool at_start)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT id, worker_pid, node, coalesce(lease_until, 0) FROM jobs "
		"WHERE state = 'running'", &st) != DB_OK)
		return KD_EDB;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int64_t now = (int64_t)time(NULL);
	while (db_step(st) == DB_ROW) {
		if (!abandoned(me, at_start, (pid_t)db_column_int64(st, 1),
		               (const char *)db_column_text(st, 2), db_column_int64(st, 3),
		               now))
			continue;
		if (n == cap)
			ids = kd_realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *ids);
		ids[n++] = db_column_int64(st, 0);
	}
	db_finalize(st);
	if (n)
		db_notify(db, JOBS_CHANNEL); /* (what fails is taken up by polling) */
	for (size_t i = 0; i < n; i++) {
		log_warn("jobs", "job %lld was interrupted (the server or ingest stopped); retrying",
		         (long long)ids[i]);
		int rc = jobs_finish(db, ids[i], false,
		                     "processing was interrupted several times; try uploading the "
		                     "file again, and tell your admin if it keeps happening");
		if (rc < 0) {
			free(ids);
			return rc;
		}
	}
	free(ids);
	/* A clip waiting for processing with no job to do it (a catalogue
	 * written before clip and job were one transaction) would wait for
	 * ever: give it one. */
	if (db_prepare(db, "INSERT INTO jobs (clip_id) SELECT c.id FROM clips c "
		"WHERE c.status IN ('queued', 'processing') AND NOT EXISTS (SELECT 1 FROM jobs j "
		"WHERE j.clip_id = c.id AND j.state IN ('queued', 'running')) RETURNING clip_id", &st) != DB_OK)
		return KD_EDB;
	int rc;
	while ((rc = db_step(st)) == DB_ROW)
		log_warn("jobs", "clip %lld was waiting without a job; queued it again",
		         (long long)db_column_int64(st, 0));
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}

int jobs_record(struct kd_db *db, int64_t job_id, int64_t clip_id, const struct jobs_result *r)
{
	int rc = db_begin(db);
	if (rc < 0)
		return rc;
	if (r->probed) {
		struct cat_media m = {
			.container = (char *)r->container, .duration_s = r->duration_s,
			.width = r->width, .height = r->height, .rotation = r->rotation,
			.video_codec = (char *)r->video_codec, .audio_codec = (char *)r->audio_codec,
			.fps = r->fps, .bit_rate = r->bit_rate, .size_bytes = r->size_bytes,
		};
		rc = cat_clip_set_media(db, clip_id, &m, r->coded_width, r->coded_height,
		                        r->created_time);
	}
	if (rc == 0)
		rc = cat_clip_set_status(db, clip_id, r->status,
		                         r->status == CAT_FAILED ? r->error : NULL);
	/* the files are now those of this blur_rev (served if it is the
	 * clip's; another change of regions has queued another job) */
	if (rc == 0 && r->status == CAT_READY)
		rc = cat_blur_made(db, clip_id, r->blur_rev);
	if (rc == KD_ENOTFOUND)
		rc = 0; /* deleted while it was processed: only the job is left */
	/* issue 16: the last clip of an upload batch may have finished */
	if (rc == 0 && (r->status == CAT_READY || r->status == CAT_FAILED) &&
	    (rc = outbox_clip_finished(db, clip_id)) > 0)
		rc = 0;
	struct kd_stmt *st;
	if (rc == 0 && db_prepare(db, "UPDATE jobs SET state = 'done', error = NULL, "
		"updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1", &st) != DB_OK)
		rc = KD_EDB;
	else if (rc == 0) {
		db_bind_int64(st, 1, job_id);
		rc = step_done(db, st);
	}
	if (rc == 0)
		rc = db_commit(db);
	if (rc < 0)
		db_rollback(db);
	return rc;
}
