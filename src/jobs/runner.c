/* runner.c - claiming jobs and supervising their worker processes.
 *
 * One thread per runner waits in poll() for whatever comes first: a
 * worker's report, the zygote saying a worker ended, a wake-up (new work,
 * a clip added to a batch, stop), or the next deadline (a worker's time
 * limit, the once-a-second look for work queued by other processes).
 * Nothing waits on a timer when there is something to do. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jobs/stored.h"
#include "jobs/transcribe.h" /* issue 15: transcription */
#include "jobs/zygote.h"
#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/erase.h" /* the daily task (issue 14, retention) */
#include "kindling/err.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mem.h"

struct slot {
	bool busy;
	uint64_t token;     /* this run, in the zygote's messages */
	pid_t pid;          /* the worker, once the zygote has said */
	int64_t job_id;
	int64_t clip_id;
	struct timespec started;
	int report;         /* the worker's standard output, its report */
	struct kd_buf got;  /* what it has written so far */
	bool eof;           /* it will write no more */
	bool ended;         /* the worker is gone */
	bool status_known;  /* and status is how it ended */
	int status;
	bool killed;        /* we had it killed: past its time */
	bool transcribe;    /* issue 15: its clip is transcribed too (more time) */
};

/* A report is one short line; a worker writing more is broken. */
#define REPORT_MAX (64 * 1024)
/* How often a runner looks for work queued by other processes, and for
 * clips of a batch that another runner took. */
#define LOOK_MS 1000
/* How often the server's runner looks for jobs whose runner died (an
 * `ingest --wait` killed, which nobody runs again): they go back to the
 * queue and this runner takes them. */
#define RECOVER_MS 5000
/* A zygote with nothing to do for this long is stopped: an idle server
 * keeps no worker process, and the next clip starts one again. */
#define ZYGOTE_IDLE_MS 2000

struct jobs_runner {
	const struct kd_config *cfg;
	char *bin;
	struct jobs_limits limits;
	uint64_t file_mb;
	struct kd_db *db;
	struct kd_storage *storage; /* object storage, or NULL: files stay in the data folder */
	struct jobs_owner owner;    /* whose the jobs this runner claims are */
	struct timespec renewed;    /* the last renewal of their leases */
	struct slot *slots;
	int n_slots;
	struct ended *ended;        /* room for what wait_and_handle collects */
	struct zygote zygote;
	struct timespec idle_since; /* no worker running since */
	struct timespec looked;     /* last look for work */
	struct timespec recovered; /* the server's: the last look for abandoned jobs */
	uint64_t tokens;
	int wake;                   /* eventfd */
	int heard;                  /* the catalogue's notifications of work, or -1 */
	pthread_t thread;
	bool started;
	struct erase_daily *daily;  /* retention and audit pruning (issue 14): a server's or
	                             * a processing node's runner only, not a batch's */
	/* for jobs_runner_stats (metrics and health, issue 14): other threads read them */
	atomic_int_fast64_t seen_ms;  /* CLOCK_MONOTONIC ms of the loop's last round; 0: none yet */
	atomic_uint_fast64_t runs, run_ms;

	pthread_mutex_t lock;       /* guards what follows */
	bool stopping;
	unsigned grace_s;           /* for the workers running at a stop */
	bool batch;                 /* only the clips added to it */
	bool closed;                /* no more will be added */
	int64_t *todo;              /* added, not yet claimed by us: todo[todo_head..n_todo) */
	size_t todo_head, n_todo, cap_todo;
	/* Clips of the batch another runner holds: looked at until done. */
	int64_t *elsewhere;
	size_t n_elsewhere, cap_elsewhere;
};

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static double ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) * 1e3 + (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

static int busy(const struct jobs_runner *r)
{
	int n = 0;
	for (int i = 0; i < r->n_slots; i++)
		n += r->slots[i].busy;
	return n;
}

static void push(int64_t **a, size_t *n, size_t *cap, int64_t v)
{
	if (*n == *cap)
		*a = kd_realloc(*a, (*cap = *cap ? *cap * 2 : 64) * sizeof **a);
	(*a)[(*n)++] = v;
}

/* Whether a clip needs nothing more from anyone: ready, failed or gone. */
static bool clip_done(struct jobs_runner *r, int64_t clip)
{
	enum cat_status status;
	char *error = NULL;
	int rc = cat_clip_status(r->db, clip, &status, &error);
	free(error);
	if (rc == KD_ENOTFOUND)
		return true;
	return rc == 0 && (status == CAT_READY || status == CAT_FAILED);
}

/* ------------------------------------------------------------ starting workers */

/* The zygote ended (killed, or crashed): its workers died with it, and
 * how each ended is unknown; their reports tell whether they finished. */
static void zygote_lost(struct jobs_runner *r)
{
	if (!r->zygote.pid)
		return;
	log_warn("jobs", "the worker zygote %d ended; its workers with it", (int)r->zygote.pid);
	zygote_stop(&r->zygote);
	for (int i = 0; i < r->n_slots; i++)
		if (r->slots[i].busy && !r->slots[i].ended)
			r->slots[i].ended = true; /* status_known stays false */
}

/*
 * Threads for the worker about to start: two, as workers always had (two
 * side by side on two cores keep them busy through each other's waits on
 * the disk); the cores, up to eight, when it runs alone with nothing else
 * waiting (one long clip).
 */
static int threads_for(struct jobs_runner *r)
{
	if (busy(r) > 0 || r->n_slots < 2)
		return 2;
	pthread_mutex_lock(&r->lock);
	bool waiting = r->batch && r->todo_head < r->n_todo;
	pthread_mutex_unlock(&r->lock);
	if (!r->batch) {
		/* Another job queued will be claimed by the next slot. */
		struct kd_stmt *st;
		if (db_prepare(r->db, "SELECT 1 FROM jobs WHERE state = 'queued' LIMIT 1", &st) == DB_OK) {
			waiting = db_step(st) == DB_ROW;
			db_finalize(st);
		}
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (waiting || cores <= 2)
		return 2;
	return cores > 8 ? 8 : (int)cores;
}

/* issue 15: how long a worker may take: a transcription has its own time
 * on top of the job's (and a little for making its WAV). */
static double limit_ms(const struct jobs_runner *r, const struct slot *s)
{
	unsigned t = r->limits.timeout_s;
	if (s->transcribe)
		t += r->limits.transcribe_timeout_s + 60;
	return t * 1000.0;
}

static int start_worker(struct jobs_runner *r, struct slot *s)
{
	if (!r->zygote.pid &&
	    zygote_start(&r->zygote, r->bin, r->cfg->data_dir, &r->limits, r->file_mb) < 0)
		return KD_EIO;
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0) {
		log_error("jobs", "cannot start a worker: %s", strerror(errno));
		return KD_EIO;
	}
	s->token = ++r->tokens;
	int threads = threads_for(r);
	/* issue 15: transcription, for a clip without captions */
	s->transcribe = transcribe_wanted(r->db, &r->limits, s->clip_id);
	uint32_t flags = s->transcribe ? ZYGOTE_TRANSCRIBE : 0;
	int rc = zygote_run(&r->zygote, s->token, s->clip_id, threads, out[1], flags);
	if (rc < 0) {
		/* It died since the last clip: its workers with it.  Once more
		 * with a new one. */
		zygote_lost(r);
		rc = zygote_start(&r->zygote, r->bin, r->cfg->data_dir, &r->limits, r->file_mb);
		if (rc == 0)
			rc = zygote_run(&r->zygote, s->token, s->clip_id, threads, out[1], flags);
	}
	close(out[1]);
	if (rc < 0) {
		close(out[0]);
		return KD_EIO;
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	s->busy = true;
	s->pid = 0;
	s->report = out[0];
	s->eof = s->ended = s->status_known = s->killed = false;
	kd_buf_init(&s->got, REPORT_MAX);
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	return 0;
}

/* The next clip for a free slot: 0 with the claim made, KD_ENOTFOUND when
 * there is none now. */
static int next_job(struct jobs_runner *r, struct slot *s)
{
	if (!r->batch) {
		int rc = jobs_claim(r->db, &r->owner, 0, &s->job_id, &s->clip_id);
		if (rc < 0 && rc != KD_ENOTFOUND)
			log_warn("jobs", "cannot claim a job: %s", kd_strerror(rc));
		return rc < 0 ? KD_ENOTFOUND : 0;
	}
	for (;;) {
		pthread_mutex_lock(&r->lock);
		int64_t clip = 0;
		if (r->todo_head < r->n_todo)
			clip = r->todo[r->todo_head++];
		if (r->todo_head == r->n_todo)
			r->todo_head = r->n_todo = 0;
		pthread_mutex_unlock(&r->lock);
		if (!clip)
			return KD_ENOTFOUND;
		int rc = jobs_claim(r->db, &r->owner, clip, &s->job_id, &s->clip_id);
		if (rc == 0)
			return 0;
		if (rc != KD_ENOTFOUND)
			log_warn("jobs", "cannot claim the job of clip %lld: %s", (long long)clip,
			         kd_strerror(rc));
		/* Done already (a duplicate of a processed file), or another
		 * runner holds it: look at it again later. */
		if (rc != KD_ENOTFOUND || !clip_done(r, clip)) {
			pthread_mutex_lock(&r->lock);
			push(&r->elsewhere, &r->n_elsewhere, &r->cap_elsewhere, clip);
			pthread_mutex_unlock(&r->lock);
		}
	}
}

/* Start workers for queued jobs while slots are free. */
static void fill(struct jobs_runner *r)
{
	pthread_mutex_lock(&r->lock);
	bool stopping = r->stopping;
	pthread_mutex_unlock(&r->lock);
	if (stopping)
		return;
	for (int i = 0; i < r->n_slots; i++) {
		struct slot *s = &r->slots[i];
		if (s->busy)
			continue;
		if (next_job(r, s) < 0)
			return;
		char err[KD_ERRMSG_MAX] = "", reason[KD_ERRMSG_MAX + 64] = "";
		if (r->storage &&
		    stored_fetch_original(r->storage, r->cfg->data_dir, s->clip_id, err, sizeof err) < 0)
			snprintf(reason, sizeof reason, "cannot fetch the original: %s", err);
		else if (jobs_blur_prepare(r->db, r->cfg->data_dir, s->clip_id, err, sizeof err) < 0)
			snprintf(reason, sizeof reason, "cannot give the worker its blur regions: %s", err);
		else if (start_worker(r, s) < 0)
			snprintf(reason, sizeof reason, "the server could not start a worker");
		if (reason[0]) {
			/* an attempt that failed: the job is queued again, and a
			 * batch takes its clip up again itself */
			log_warn("jobs", "clip %lld: %s", (long long)s->clip_id, reason);
			jobs_finish(r->db, s->job_id, false, reason);
			if (r->batch && !clip_done(r, s->clip_id)) {
				pthread_mutex_lock(&r->lock);
				push(&r->todo, &r->n_todo, &r->cap_todo, s->clip_id);
				pthread_mutex_unlock(&r->lock);
			}
			return;
		}
	}
}

/* ------------------------------------------------------------ workers ending */

/* Take what the worker has written; at its end, note it. */
static void drain(struct slot *s)
{
	char buf[4096];
	ssize_t n;
	while (!s->eof) {
		n = read(s->report, buf, sizeof buf);
		if (n > 0)
			kd_buf_append(&s->got, buf, (size_t)n); /* past the cap: cut, then refused */
		else if (n == 0)
			s->eof = true;
		else if (errno != EINTR)
			break; /* EAGAIN: more to come */
	}
}

static void reason_of(const struct jobs_runner *r, const struct slot *s, char *reason,
                      size_t len)
{
	int st = s->status;
	if (!s->status_known)
		snprintf(reason, len, "the worker was lost (its parent process ended)");
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && s->killed)
		snprintf(reason, len,
		         "processing took longer than %u minutes; the file may be damaged or far "
		         "too long: check it plays on a computer, or cut it into shorter clips",
		         (r->limits.timeout_s + 59) / 60);
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		snprintf(reason, len,
		         "processing tried something a worker may not do (a system call its "
		         "sandbox forbids) and was stopped; the file may be hostile: tell your "
		         "admin");
	else if (WIFSIGNALED(st))
		snprintf(reason, len,
		         "processing crashed on this file (signal %d); the file is probably "
		         "damaged: re-export it from the camera or editing app and upload it again",
		         WTERMSIG(st));
	else
		snprintf(reason, len, "processing failed (worker exit status %d); see the server log",
		         WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* A worker that ended and said all it will, and what is to be recorded
 * of it: its report, or why its job is to be retried. */
struct ended {
	int64_t job_id, clip_id;
	bool parsed;
	struct jobs_result res;
	char reason[512];
};

/* Take what the worker left and free its slot (for the next worker to
 * start before this one's end is written to the catalogue). */
static void collect(struct jobs_runner *r, struct slot *s, struct ended *e)
{
	char err[KD_ERRMSG_MAX] = "";
	bool exited_ok = s->status_known && WIFEXITED(s->status) && WEXITSTATUS(s->status) == 0;
	e->job_id = s->job_id;
	e->clip_id = s->clip_id;
	e->reason[0] = '\0';
	/* A worker lost with its zygote may still have finished: its report
	 * comes only once every file it made is on disk. */
	e->parsed = (exited_ok || !s->status_known) &&
	            jobs_result_parse(s->got.data ? s->got.data : "", s->got.len, &e->res, err,
	                              sizeof err) == 0;
	if (!e->parsed && exited_ok)
		snprintf(e->reason, sizeof e->reason, "processing failed (%.200s); see the server log",
		         err);
	else if (!e->parsed)
		reason_of(r, s, e->reason, sizeof e->reason);
	close(s->report);
	kd_buf_release(&s->got);
	s->busy = false;
	atomic_fetch_add(&r->runs, 1);
	atomic_fetch_add(&r->run_ms, (uint_fast64_t)ms_since(&s->started));
}

/* Its report recorded, or its job retried. */
static void record(struct jobs_runner *r, const struct ended *e)
{
	int rc;
	char err[KD_ERRMSG_MAX] = "", reason[KD_ERRMSG_MAX + 64];
	bool parsed = e->parsed;
	/* issue 15: automatic captions, written beside the other files so the
	 * storage takes them too (src/jobs/transcribe.h) */
	bool captions = false;
	if (parsed && e->res.status == CAT_READY && e->res.transcript)
		captions = transcribe_take(r->db, r->cfg->data_dir, e->clip_id, e->res.duration_s);
	else if (parsed && e->res.transcribe_error[0])
		log_warn("jobs", "clip %lld: no automatic captions: %s", (long long)e->clip_id,
		         e->res.transcribe_error);
	if (parsed && r->storage &&
	    stored_put_files(r->storage, r->cfg->data_dir, e->clip_id, err, sizeof err) < 0) {
		if (captions)
			transcribe_undo(r->db, e->clip_id);
		/* recorded as an attempt that failed: it is tried again */
		snprintf(reason, sizeof reason, "cannot store the clip's files: %s", err);
		log_warn("jobs", "clip %lld: %s", (long long)e->clip_id, reason);
		rc = jobs_finish(r->db, e->job_id, false, reason);
		parsed = false;
	} else if (parsed) {
		rc = jobs_record(r->db, e->job_id, e->clip_id, &e->res);
		if (rc == 0 && r->storage)
			stored_done(r->cfg->data_dir, e->clip_id);
	} else {
		log_warn("jobs", "clip %lld: %s", (long long)e->clip_id, e->reason);
		rc = jobs_finish(r->db, e->job_id, false, e->reason);
	}
	if (rc < 0)
		log_error("jobs", "cannot record the end of job %lld: %s", (long long)e->job_id,
		          kd_strerror(rc));
	/* A failed attempt put the job back in the queue: a batch takes it
	 * up again itself. */
	if (r->batch && !parsed && !clip_done(r, e->clip_id)) {
		pthread_mutex_lock(&r->lock);
		push(&r->todo, &r->n_todo, &r->cap_todo, e->clip_id);
		pthread_mutex_unlock(&r->lock);
	}
	if (!busy(r))
		clock_gettime(CLOCK_MONOTONIC, &r->idle_since);
}

static struct slot *slot_of(struct jobs_runner *r, uint64_t token)
{
	for (int i = 0; i < r->n_slots; i++)
		if (r->slots[i].busy && r->slots[i].token == token)
			return &r->slots[i];
	return NULL;
}

/* What the zygote has to say; when it is gone, so are its workers. */
static void hear_zygote(struct jobs_runner *r)
{
	struct zygote_msg m;
	int rc;
	while ((rc = zygote_event(&r->zygote, &m)) == 1) {
		struct slot *s = slot_of(r, m.token);
		if (!s)
			continue;
		if (m.type == ZYGOTE_STARTED) {
			s->pid = m.pid;
			log_info("jobs", "clip %lld: worker %d started (job %lld)", (long long)s->clip_id,
			         (int)m.pid, (long long)s->job_id);
		} else if (m.type == ZYGOTE_EXITED) {
			s->ended = s->status_known = true;
			s->status = m.status;
		} else if (m.type == ZYGOTE_FAILED) {
			log_error("jobs", "clip %lld: cannot start a worker: %s", (long long)s->clip_id,
			          strerror(m.status));
			s->ended = true;
			s->status_known = true;
			s->status = 1 << 8; /* as "exit status 1" */
		}
	}
	if (rc < 0)
		zygote_lost(r);
}

static void fill(struct jobs_runner *r);

/* Wait up to timeout_ms for something to happen, and deal with it; with
 * start_more, the slots workers free are filled again before their ends
 * are written to the catalogue (a sync or two the next clip need not
 * wait for). */
static void wait_and_handle(struct jobs_runner *r, int timeout_ms, bool start_more)
{
	struct pollfd p[2 + 64 + 1];
	int n = 0, zi = -1;
	p[n++] = (struct pollfd){.fd = r->wake, .events = POLLIN};
	int hi = -1;
	if (r->heard >= 0) {
		hi = n;
		p[n++] = (struct pollfd){.fd = r->heard, .events = POLLIN};
	}
	if (r->zygote.pid) {
		zi = n;
		p[n++] = (struct pollfd){.fd = r->zygote.sock, .events = POLLIN};
	}
	int first_slot = n;
	int idx[64 + 1];
	for (int i = 0; i < r->n_slots && n < (int)(sizeof p / sizeof *p); i++) {
		if (!r->slots[i].busy || r->slots[i].eof)
			continue;
		idx[n - first_slot] = i;
		p[n++] = (struct pollfd){.fd = r->slots[i].report, .events = POLLIN};
	}
	if (poll(p, (nfds_t)n, timeout_ms) < 0)
		return;
	if (p[0].revents) {
		uint64_t v;
		while (read(r->wake, &v, sizeof v) < 0 && errno == EINTR)
			;
	}
	if (hi >= 0 && p[hi].revents && db_heard(r->db) < 0) {
		/* the connection was made again: listen on the new one */
		log_warn("jobs", "lost the catalogue's notifications; listening again");
		r->heard = db_listen(r->db, JOBS_CHANNEL);
	}
	for (int k = first_slot; k < n; k++)
		if (p[k].revents)
			drain(&r->slots[idx[k - first_slot]]);
	if (zi >= 0 && p[zi].revents)
		hear_zygote(r);
	int n_ended = 0;
	for (int i = 0; i < r->n_slots; i++) {
		struct slot *s = &r->slots[i];
		if (!s->busy)
			continue;
		if (s->ended) {
			drain(s);
			if (s->eof)
				collect(r, s, &r->ended[n_ended++]);
		} else if (!s->killed && ms_since(&s->started) > limit_ms(r, s)) {
			log_warn("jobs", "clip %lld: worker %d passed %u s; stopping it",
			         (long long)s->clip_id, (int)s->pid, r->limits.timeout_s);
			s->killed = true;
			if (zygote_kill(&r->zygote, s->token) < 0)
				hear_zygote(r);
		}
	}
	if (n_ended && start_more)
		fill(r);
	for (int i = 0; i < n_ended; i++)
		record(r, &r->ended[i]);
}

/* How long the loop may sleep: until a worker's time limit, the next
 * look for work, or the idle zygote's end. */
static int next_timeout(struct jobs_runner *r)
{
	double t = LOOK_MS - ms_since(&r->looked);
	for (int i = 0; i < r->n_slots; i++) {
		const struct slot *s = &r->slots[i];
		if (s->busy && !s->ended && !s->killed) {
			double left = limit_ms(r, s) - ms_since(&s->started);
			if (left < t)
				t = left;
		}
	}
	if (r->zygote.pid && !busy(r)) {
		double left = ZYGOTE_IDLE_MS - ms_since(&r->idle_since);
		if (left < t)
			t = left;
	}
	return t < 0 ? 0 : (int)t + 1;
}

/* The clips of a batch another runner holds: done yet, or back in the
 * queue for us to take? */
static void look_elsewhere(struct jobs_runner *r)
{
	pthread_mutex_lock(&r->lock);
	size_t n = r->n_elsewhere;
	int64_t *clips = n ? kd_malloc(n * sizeof *clips) : NULL;
	if (n)
		memcpy(clips, r->elsewhere, n * sizeof *clips);
	r->n_elsewhere = 0;
	pthread_mutex_unlock(&r->lock);
	/* A runner that died holding one of them leaves its job running
	 * until a runner looks for such jobs: this one does. */
	if (n && jobs_recover(r->db, &r->owner, false) < 0)
		log_warn("jobs", "cannot look for interrupted jobs");
	for (size_t i = 0; i < n; i++) {
		if (clip_done(r, clips[i]))
			continue;
		pthread_mutex_lock(&r->lock);
		push(&r->todo, &r->n_todo, &r->cap_todo, clips[i]);
		pthread_mutex_unlock(&r->lock);
	}
	free(clips);
}

static void *runner_main(void *arg)
{
	struct jobs_runner *r = arg;
	/* A batch has work coming: the zygote starts (loading FFmpeg) while
	 * the first file is still being copied in. */
	if (r->batch && zygote_start(&r->zygote, r->bin, r->cfg->data_dir, &r->limits,
	                             r->file_mb) == 0)
		clock_gettime(CLOCK_MONOTONIC, &r->idle_since);
	unsigned grace_s = 0;
	for (;;) {
		atomic_store(&r->seen_ms, mono_ms());
		pthread_mutex_lock(&r->lock);
		bool stop = r->stopping || (r->batch && r->closed && r->todo_head == r->n_todo &&
		                            !r->n_elsewhere && !busy(r));
		grace_s = r->grace_s;
		pthread_mutex_unlock(&r->lock);
		if (stop)
			break;
		if (ms_since(&r->looked) >= LOOK_MS) {
			clock_gettime(CLOCK_MONOTONIC, &r->looked);
			if (r->batch)
				look_elsewhere(r);
		}
		if (!r->batch && ms_since(&r->recovered) >= RECOVER_MS) {
			clock_gettime(CLOCK_MONOTONIC, &r->recovered);
			if (jobs_recover(r->db, &r->owner, false) < 0)
				log_warn("jobs", "cannot look for interrupted jobs");
		}
		/* a third of the lease: two renewals may fail before it runs out */
		if (busy(r) && ms_since(&r->renewed) >= r->owner.lease_s * 1000.0 / 3) {
			clock_gettime(CLOCK_MONOTONIC, &r->renewed);
			if (jobs_renew(r->db, &r->owner) < 0)
				log_warn("jobs", "cannot renew the leases of the jobs running here");
		}
		fill(r);
		if (r->zygote.pid && !busy(r) && ms_since(&r->idle_since) >= ZYGOTE_IDLE_MS)
			zygote_stop(&r->zygote);
		wait_and_handle(r, next_timeout(r), true);
	}
	/* Stopping: the workers running get their grace period here, in this
	 * thread, since they die with it (the zygote's parent-death signal
	 * follows the thread that started it). */
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (busy(r) && ms_since(&start) < grace_s * 1000.0) {
		double left = grace_s * 1000.0 - ms_since(&start);
		int t = next_timeout(r);
		wait_and_handle(r, t < left ? t : (int)left + 1, false);
	}
	return NULL;
}

/* ------------------------------------------------------------ life cycle */

static int runner_new(const struct kd_config *cfg, const char *bin,
                      const struct jobs_limits *limits, bool batch, struct jobs_runner **out)
{
	struct jobs_runner *r = kd_calloc(1, sizeof *r);
	char err[KD_ERRMSG_MAX] = "";
	r->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake < 0) {
		log_error("jobs", "cannot start processing: %s", strerror(errno));
		free(r);
		return KD_EIO;
	}
	int rc = db_open(cfg->db_path, &r->db, err, sizeof err);
	if (rc < 0) {
		log_error("jobs", "%s", err);
		close(r->wake);
		free(r);
		return rc;
	}
	if (cfg->storage && (rc = storage_open(&r->storage, cfg, err, sizeof err)) < 0) {
		log_error("jobs", "%s", err);
		db_close(&r->db);
		close(r->wake);
		free(r);
		return rc;
	}
	/* Work queued by another node wakes this one at once (PostgreSQL);
	 * polling every LOOK_MS finds it too. */
	r->heard = db_listen(r->db, JOBS_CHANNEL);
	r->cfg = cfg;
	r->bin = kd_strdup(bin);
	if (limits)
		r->limits = *limits;
	else
		jobs_limits_from_config(cfg, &r->limits);
	/* Nothing processing makes is larger than twice the largest upload. */
	r->file_mb = (uint64_t)cfg->upload_max_mb * 2 + 1024;
	r->batch = batch;
	/* At most 64 at once: what one poll() here watches. */
	r->n_slots = cfg->workers < 1 ? 1 : cfg->workers > 64 ? 64 : cfg->workers;
	r->slots = kd_calloc((size_t)r->n_slots, sizeof *r->slots);
	r->ended = kd_calloc((size_t)r->n_slots, sizeof *r->ended);
	clock_gettime(CLOCK_MONOTONIC, &r->idle_since);
	r->recovered = r->idle_since;
	pthread_mutex_init(&r->lock, NULL);
	jobs_owner_of(cfg, &r->owner);
	r->renewed = r->idle_since;
	if ((rc = jobs_recover(r->db, &r->owner, true)) < 0)
		log_warn("jobs", "cannot look for interrupted jobs: %s", kd_strerror(rc));
	else if (r->storage)
		stored_sweep(r->storage, r->db, cfg->data_dir);
	if (pthread_create(&r->thread, NULL, runner_main, r) != 0) {
		log_error("jobs", "cannot start processing: no thread");
		db_close(&r->db);
		storage_close(&r->storage);
		close(r->wake);
		free(r->slots);
		free(r->ended);
		free(r->bin);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return KD_EIO;
	}
	*out = r;
	return 0;
}

static void runner_free(struct jobs_runner *r)
{
	zygote_stop(&r->zygote);
	db_close(&r->db);
	storage_close(&r->storage);
	close(r->wake);
	free(r->slots);
	free(r->ended);
	free(r->bin);
	free(r->todo);
	free(r->elsewhere);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int jobs_runner_start(const struct kd_config *cfg, const char *bin,
                      const struct jobs_limits *limits, struct jobs_runner **out)
{
	int rc = runner_new(cfg, bin, limits, false, out);
	/* retention (issue 14): once a day where processing runs, so that a
	 * web node (--no-processing) adds no round of its own */
	if (rc == 0 && erase_daily_start(cfg, &(*out)->daily) < 0)
		log_warn("jobs", "no daily retention round on this node: see above");
	return rc;
}

void jobs_runner_stats(struct jobs_runner *r, struct jobs_runner_stats *out)
{
	int64_t seen = atomic_load(&r->seen_ms);
	out->silent_s = seen ? (double)(mono_ms() - seen) / 1e3 : -1;
	out->runs = atomic_load(&r->runs);
	out->run_s = (double)atomic_load(&r->run_ms) / 1e3;
}

void jobs_runner_wake(struct jobs_runner *r)
{
	if (!r)
		return;
	uint64_t one = 1;
	while (write(r->wake, &one, sizeof one) < 0 && errno == EINTR)
		;
}

void jobs_runner_stop(struct jobs_runner **rp, unsigned grace_s)
{
	struct jobs_runner *r = *rp;
	if (!r)
		return;
	erase_daily_stop(&r->daily); /* retention (issue 14) */
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	r->grace_s = grace_s;
	pthread_mutex_unlock(&r->lock);
	jobs_runner_wake(r);
	pthread_join(r->thread, NULL); /* after the grace period */
	for (int i = 0; i < r->n_slots; i++) {
		struct slot *s = &r->slots[i];
		if (!s->busy)
			continue;
		close(s->report);
		kd_buf_release(&s->got);
		s->busy = false;
		/* Leave the job running in the table: the next start finds it
		 * interrupted and retries it without spending an attempt here. */
		log_warn("jobs", "clip %lld: stopped its worker at shutdown; it will be retried",
		         (long long)s->clip_id);
	}
	runner_free(r); /* stops the zygote, which kills what still runs */
	*rp = NULL;
}

int jobs_batch_start(const struct kd_config *cfg, const char *bin,
                     const struct jobs_limits *limits, struct jobs_runner **out)
{
	return runner_new(cfg, bin, limits, true, out);
}

void jobs_batch_add(struct jobs_runner *r, int64_t clip_id)
{
	pthread_mutex_lock(&r->lock);
	push(&r->todo, &r->n_todo, &r->cap_todo, clip_id);
	pthread_mutex_unlock(&r->lock);
	jobs_runner_wake(r);
}

void jobs_batch_finish(struct jobs_runner **rp)
{
	struct jobs_runner *r = *rp;
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->closed = true;
	pthread_mutex_unlock(&r->lock);
	jobs_runner_wake(r);
	pthread_join(r->thread, NULL);
	runner_free(r);
	*rp = NULL;
}

int jobs_run_clips(const struct kd_config *cfg, const char *bin,
                   const struct jobs_limits *limits, const int64_t *clips, size_t n)
{
	struct jobs_runner *r;
	int rc = jobs_batch_start(cfg, bin, limits, &r);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		jobs_batch_add(r, clips[i]);
	jobs_batch_finish(&r);
	return 0;
}
