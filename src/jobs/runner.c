/* runner.c - claiming jobs and supervising worker processes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mem.h"

extern char **environ;

struct slot {
	pid_t pid;          /* 0: free */
	int64_t job_id;
	int64_t clip_id;
	struct timespec started;
	int report;         /* the worker's standard output, its report */
	struct kd_buf got;  /* what it has written so far */
};

/* A report is one short line; a worker writing more is broken. */
#define REPORT_MAX (64 * 1024)

struct jobs_runner {
	const struct kd_config *cfg;
	char *bin;
	struct jobs_limits limits;
	sqlite3 *db;
	struct slot *slots;
	int n_slots;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
	bool woken;
};

void jobs_limits_from_config(const struct kd_config *cfg, struct jobs_limits *l)
{
	l->timeout_s = cfg->job_timeout;
	l->mem_mb = cfg->job_memory_mb;
	/* Workers use up to two threads: twice the wall clock in CPU time. */
	l->cpu_s = cfg->job_timeout * 2 + 10;
}

static double seconds_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static int spawn_worker(struct jobs_runner *r, struct slot *s)
{
	char clip[24], mem[24], cpu[24], file[24];
	snprintf(clip, sizeof clip, "%lld", (long long)s->clip_id);
	snprintf(mem, sizeof mem, "%lu", r->limits.mem_mb);
	snprintf(cpu, sizeof cpu, "%u", r->limits.cpu_s);
	/* Nothing processing makes is larger than twice the largest upload. */
	snprintf(file, sizeof file, "%llu",
	         (unsigned long long)r->cfg->upload_max_mb * 2 + 1024);
	char *argv[] = {"kindling", "worker", "--data", r->cfg->data_dir, "--clip", clip,
	                "--mem-mb", mem, "--cpu-s", cpu, "--file-mb", file, NULL};
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0) {
		log_error("jobs", "cannot start a worker: %s", strerror(errno));
		return KD_EIO;
	}
	/* exec, not a bare fork: the server is multi-threaded, and a child of a
	 * threaded process may only call async-signal-safe functions. */
	/* The server blocks SIGINT/SIGTERM in its threads and ignores SIGPIPE;
	 * a worker starts with neither. */
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	sigset_t none, dflt;
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGTERM);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	char **env = environ;
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer's check at exit clones a tracer, which the worker's
	 * system-call filter rightly stops: sanitizer builds check leaks in
	 * the server and the tests, not in the sandboxed worker. */
	size_t n_env = 0, k = 0;
	while (environ[n_env])
		n_env++;
	env = kd_calloc(n_env + 2, sizeof *env);
	for (size_t i = 0; i < n_env; i++)
		if (strncmp(environ[i], "ASAN_OPTIONS=", 13) != 0)
			env[k++] = environ[i];
	env[k] = "ASAN_OPTIONS=detect_leaks=0";
#endif
	int rc = posix_spawn(&s->pid, r->bin, &fa, &attr, argv, env);
	if (env != environ)
		free(env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out[1]);
	if (rc != 0) {
		log_error("jobs", "cannot start a worker (%s): %s", r->bin, strerror(rc));
		close(out[0]);
		s->pid = 0;
		return KD_EIO;
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	s->report = out[0];
	kd_buf_init(&s->got, REPORT_MAX);
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	log_info("jobs", "clip %lld: worker %d started (job %lld)", (long long)s->clip_id,
	         (int)s->pid, (long long)s->job_id);
	return 0;
}

/* Take what the worker has written (all of it once it has exited). */
static void drain(struct slot *s)
{
	char buf[4096];
	ssize_t n;
	while ((n = read(s->report, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			kd_buf_append(&s->got, buf, (size_t)n); /* past the cap: cut, then refused */
}

/* A finished worker: its report recorded, or its job retried. */
static void settle(struct jobs_runner *r, struct slot *s, bool exited_ok, const char *reason)
{
	drain(s);
	struct jobs_result res;
	char err[KD_ERRMSG_MAX] = "", why[256];
	int rc;
	if (exited_ok &&
	    jobs_result_parse(s->got.data ? s->got.data : "", s->got.len, &res, err, sizeof err) ==
	            0) {
		rc = jobs_record(r->db, s->job_id, s->clip_id, &res);
	} else {
		if (exited_ok) {
			snprintf(why, sizeof why, "processing failed (%.200s); see the server log", err);
			reason = why;
		}
		log_warn("jobs", "clip %lld: %s", (long long)s->clip_id, reason);
		rc = jobs_finish(r->db, s->job_id, false, reason);
	}
	if (rc < 0)
		log_error("jobs", "cannot record the end of job %lld: %s", (long long)s->job_id,
		          kd_strerror(rc));
	close(s->report);
	kd_buf_release(&s->got);
	s->pid = 0;
}

/* Collect finished workers and kill the ones past their time. */
static void reap(struct jobs_runner *r)
{
	for (int i = 0; i < r->n_slots; i++) {
		struct slot *s = &r->slots[i];
		if (!s->pid)
			continue;
		int status;
		drain(s);
		pid_t p = waitpid(s->pid, &status, WNOHANG);
		if (p == 0) {
			if (seconds_since(&s->started) > r->limits.timeout_s) {
				log_warn("jobs", "clip %lld: worker %d passed %u s; stopping it",
				         (long long)s->clip_id, (int)s->pid, r->limits.timeout_s);
				kill(s->pid, SIGKILL);
			}
			continue;
		}
		char reason[256] = "";
		bool ok = false;
		if (p < 0)
			snprintf(reason, sizeof reason, "the worker was lost (%s)", strerror(errno));
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok = true;
		else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
		         seconds_since(&s->started) > r->limits.timeout_s)
			snprintf(reason, sizeof reason,
			         "processing took longer than %u minutes; the file may be damaged or far "
			         "too long: check it plays on a computer, or cut it into shorter clips",
			         (r->limits.timeout_s + 59) / 60);
		else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
			snprintf(reason, sizeof reason,
			         "processing tried something a worker may not do (a system call its "
			         "sandbox forbids) and was stopped; the file may be hostile: tell your "
			         "admin");
		else if (WIFSIGNALED(status))
			snprintf(reason, sizeof reason,
			         "processing crashed on this file (signal %d); the file is probably "
			         "damaged: re-export it from the camera or editing app and upload it again",
			         WTERMSIG(status));
		else
			snprintf(reason, sizeof reason,
			         "processing failed (worker exit status %d); see the server log",
			         WEXITSTATUS(status));
		settle(r, s, ok, reason);
	}
}

/* Start workers for queued jobs while slots are free.  only: 0 or a clip. */
static void fill(struct jobs_runner *r, int64_t only)
{
	for (int i = 0; i < r->n_slots; i++) {
		struct slot *s = &r->slots[i];
		if (s->pid)
			continue;
		int rc = jobs_claim(r->db, getpid(), only, &s->job_id, &s->clip_id);
		if (rc == KD_ENOTFOUND)
			return;
		if (rc < 0) {
			log_warn("jobs", "cannot claim a job: %s", kd_strerror(rc));
			return;
		}
		if (spawn_worker(r, s) < 0)
			jobs_finish(r->db, s->job_id, false, "the server could not start a worker");
		if (only)
			return;
	}
}

static int runner_new(const struct kd_config *cfg, const char *bin,
                      const struct jobs_limits *limits, int slots, struct jobs_runner **out)
{
	struct jobs_runner *r = kd_calloc(1, sizeof *r);
	char err[KD_ERRMSG_MAX] = "";
	int rc = db_open(cfg->db_path, &r->db, err, sizeof err);
	if (rc < 0) {
		log_error("jobs", "%s", err);
		free(r);
		return rc;
	}
	r->cfg = cfg;
	r->bin = kd_strdup(bin);
	if (limits)
		r->limits = *limits;
	else
		jobs_limits_from_config(cfg, &r->limits);
	r->n_slots = slots < 1 ? 1 : slots;
	r->slots = kd_calloc((size_t)r->n_slots, sizeof *r->slots);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	*out = r;
	return 0;
}

static void runner_free(struct jobs_runner *r)
{
	db_close(&r->db);
	free(r->slots);
	free(r->bin);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

static int busy(const struct jobs_runner *r)
{
	int n = 0;
	for (int i = 0; i < r->n_slots; i++)
		n += r->slots[i].pid != 0;
	return n;
}

static void *runner_main(void *arg)
{
	struct jobs_runner *r = arg;
	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		r->woken = false;
		pthread_mutex_unlock(&r->lock);
		reap(r);
		fill(r, 0);
		pthread_mutex_lock(&r->lock);
		if (r->stopping || r->woken)
			continue;
		/* Workers are polled, not signalled: SIGCHLD belongs to the whole
		 * process, and a quarter second is nothing next to a job. */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		long wait_ms = busy(r) ? 250 : 1000;
		until.tv_nsec += wait_ms * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&r->cond, &r->lock, &until);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int jobs_runner_start(const struct kd_config *cfg, const char *bin,
                      const struct jobs_limits *limits, struct jobs_runner **out)
{
	struct jobs_runner *r;
	int rc = runner_new(cfg, bin, limits, cfg->workers, &r);
	if (rc < 0)
		return rc;
	if ((rc = jobs_recover(r->db)) < 0)
		log_warn("jobs", "cannot look for interrupted jobs: %s", kd_strerror(rc));
	if (pthread_create(&r->thread, NULL, runner_main, r) != 0) {
		runner_free(r);
		return KD_EIO;
	}
	*out = r;
	return 0;
}

void jobs_runner_wake(struct jobs_runner *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->woken = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

void jobs_runner_stop(struct jobs_runner **rp, unsigned grace_s)
{
	struct jobs_runner *r = *rp;
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (busy(r) && seconds_since(&start) < grace_s) {
		reap(r);
		usleep(100 * 1000);
	}
	for (int i = 0; i < r->n_slots; i++) {
		struct slot *s = &r->slots[i];
		if (!s->pid)
			continue;
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		close(s->report);
		kd_buf_release(&s->got);
		/* Leave the job running in the table: the next start finds it
		 * interrupted and retries it without spending an attempt here. */
		log_warn("jobs", "clip %lld: stopped its worker at shutdown; it will be retried",
		         (long long)s->clip_id);
	}
	runner_free(r);
	*rp = NULL;
}

int jobs_run_clips(const struct kd_config *cfg, const char *bin,
                   const struct jobs_limits *limits, const int64_t *clips, size_t n)
{
	struct jobs_runner *r;
	int rc = runner_new(cfg, bin, limits, cfg->workers, &r);
	if (rc < 0)
		return rc;
	jobs_recover(r->db);
	for (;;) {
		reap(r);
		size_t pending = 0;
		for (size_t i = 0; i < n; i++) {
			enum cat_status status;
			char *error = NULL;
			if (cat_clip_status(r->db, clips[i], &status, &error) == 0 &&
			    status != CAT_READY && status != CAT_FAILED) {
				pending++;
				/* A clip already running (here or in the server) has no
				 * queued job left: claiming it again finds nothing. */
				if (busy(r) < r->n_slots)
					fill(r, clips[i]);
			}
			free(error);
		}
		if (!pending && !busy(r))
			break;
		usleep(100 * 1000);
	}
	runner_free(r);
	return 0;
}
