/* test_jobs.c - the jobs queue (include/kindling/jobs.h): claim, finish,
 * retry, recovery after a restart; intake (include/kindling/intake.h):
 * a file becomes a clip, its job and its original, all or nothing; and the
 * zygote (src/jobs/zygote.h) that forks a sandboxed worker per clip. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "jobs/zygote.h"
#include "kindling/catalogue.h"
#include "kindling/config.h"
#include "kindling/fs.h"
#include "kindling/intake.h"
#include "kindling/jobs.h"
#include "kindling/sha256.h"
#include "kindling/users.h"

static const char *practices[] = {"differentiation"};

static int setup_db(void **state)
{
	*state = test_db_with_school("alder", "Alder School");
	return 0;
}

static int64_t clip(struct kd_db *db, const char *title)
{
	struct cat_clip_new c = {.title = title, .school = "alder", .practices = practices,
	                         .n_practices = 1, .status = CAT_QUEUED};
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	if (cat_clip_create(db, &c, &id, err, sizeof err) != 0)
		fail_msg("cat_clip_create: %s", err);
	return id;
}

static int64_t count(struct kd_db *db, const char *sql, int64_t arg)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	db_bind_int64(st, 1, arg);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t n = db_column_int64(st, 0);
	db_finalize(st);
	return n;
}

/* A job's state, attempts and worker, as "running 1 1234". */
static const char *job_row(struct kd_db *db, int64_t job, char *out, size_t len)
{
	struct kd_stmt *st;
	db_prepare(db, "SELECT state, attempts, coalesce(worker_pid, 0), "
	                       "coalesce(error, '') FROM jobs WHERE id = ?1", &st);
	db_bind_int64(st, 1, job);
	if (db_step(st) != DB_ROW)
		snprintf(out, len, "(none)");
	else
		snprintf(out, len, "%s %d %lld%s%s", db_column_text(st, 0),
		         db_column_int(st, 1), (long long)db_column_int64(st, 2),
		         *db_column_text(st, 3) ? " " : "", db_column_text(st, 3));
	db_finalize(st);
	return out;
}

static enum cat_status status_of(struct kd_db *db, int64_t id, char **error)
{
	enum cat_status s;
	char *e = NULL;
	assert_int_equal(cat_clip_status(db, id, &s, &e), 0);
	if (error)
		*error = e;
	else
		free(e);
	return s;
}

/* A runner process on this test's node. */
#define HERE(pid) (&(struct jobs_owner){(pid_t)(pid), "here", 60})

static void claim_takes_the_oldest_queued_job_once(void **state)
{
	struct kd_db *db = *state;
	int64_t a = clip(db, "First"), b = clip(db, "Second");
	assert_int_equal(jobs_enqueue(db, a), 0);
	assert_int_equal(jobs_enqueue(db, b), 0);
	int64_t job, got, job2, got2;
	assert_int_equal(jobs_claim(db, HERE(4242), 0, &job, &got), 0);
	assert_int_equal(got, a);
	char row[256];
	assert_string_equal(job_row(db, job, row, sizeof row), "running 1 4242");
	assert_int_equal(status_of(db, a, NULL), CAT_PROCESSING);
	assert_int_equal(status_of(db, b, NULL), CAT_QUEUED);
	assert_int_equal(jobs_claim(db, HERE(4242), 0, &job2, &got2), 0);
	assert_int_equal(got2, b);
	assert_true(job2 != job);
	job = got = -1;
	assert_int_equal(jobs_claim(db, HERE(4242), 0, &job, &got), KD_ENOTFOUND);
	assert_int_equal(job, -1); /* untouched */
	assert_int_equal(got, -1);
	assert_int_equal(status_of(db, b, NULL), CAT_PROCESSING);
}

static void claim_for_one_clip_takes_only_its_job(void **state)
{
	struct kd_db *db = *state;
	int64_t a = clip(db, "First"), b = clip(db, "Second");
	assert_int_equal(jobs_enqueue(db, a), 0);
	assert_int_equal(jobs_enqueue(db, b), 0);
	int64_t job, got;
	assert_int_equal(jobs_claim(db, HERE(1), b, &job, &got), 0);
	assert_int_equal(got, b);
	assert_int_equal(jobs_claim(db, HERE(1), b, &job, &got), KD_ENOTFOUND);
	assert_int_equal(status_of(db, a, NULL), CAT_QUEUED);
	assert_int_equal(jobs_claim(db, HERE(1), 0, &job, &got), 0);
	assert_int_equal(got, a);
}

static void finish_ok_marks_the_job_done(void **state)
{
	struct kd_db *db = *state;
	int64_t a = clip(db, "First");
	assert_int_equal(jobs_enqueue(db, a), 0);
	int64_t job, got;
	assert_int_equal(jobs_claim(db, HERE(99), 0, &job, &got), 0);
	assert_int_equal(cat_clip_set_status(db, a, CAT_READY, NULL), 0); /* the worker's */
	assert_int_equal(jobs_finish(db, job, true, NULL), 0);
	char row[256];
	assert_string_equal(job_row(db, job, row, sizeof row), "done 1 99");
	assert_int_equal(status_of(db, a, NULL), CAT_READY); /* left as the worker set it */
	assert_int_equal(jobs_claim(db, HERE(99), 0, &job, &got), KD_ENOTFOUND);
}

static void failures_retry_then_fail_the_clip(void **state)
{
	struct kd_db *db = *state;
	int64_t a = clip(db, "Crashy");
	assert_int_equal(jobs_enqueue(db, a), 0);
	int64_t job, again, got;
	char row[256];
	assert_int_equal(jobs_claim(db, HERE(7), 0, &job, &got), 0);
	assert_int_equal(jobs_finish(db, job, false, "the worker was killed"), 0);
	assert_string_equal(job_row(db, job, row, sizeof row), "queued 1 7 the worker was killed");
	char *error = NULL;
	assert_int_equal(status_of(db, a, &error), CAT_QUEUED);
	assert_null(error);
	assert_int_equal(jobs_claim(db, HERE(7), 0, &again, &got), 0);
	assert_int_equal(again, job); /* the same job, again */
	assert_int_equal(jobs_finish(db, job, false, "the worker was killed"), 0);
	assert_string_equal(job_row(db, job, row, sizeof row), "queued 2 7 the worker was killed");
	assert_int_equal(jobs_claim(db, HERE(7), 0, &again, &got), 0);
	assert_int_equal(jobs_finish(db, job, false, "the worker passed its time limit"), 0);
	assert_string_equal(job_row(db, job, row, sizeof row),
	                    "failed 3 7 the worker passed its time limit");
	assert_int_equal(status_of(db, a, &error), CAT_FAILED);
	assert_string_equal(error, "the worker passed its time limit (tried 3 times)");
	free(error);
	assert_int_equal(jobs_claim(db, HERE(7), 0, &again, &got), KD_ENOTFOUND);
	/* a job that is not there changes nothing */
	assert_int_equal(jobs_finish(db, 12345, false, "x"), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM jobs WHERE ?1 = ?1", 0), 1);
}

/* A process id that is not a process any more: a child that has exited
 * and been reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	return pid;
}

static void recovery_retries_jobs_of_vanished_runners_only(void **state)
{
	struct kd_db *db = *state;
	kd_log_set_level(KD_LOG_ERROR); /* recovery warns of each job it retries */
	pid_t alive = fork(); /* a runner still at work, for all the queue knows */
	assert_true(alive >= 0);
	if (alive == 0) {
		alarm(60); /* never outlives a failed test by long */
		pause();
		_exit(0);
	}
	pid_t gone = dead_pid();
	int64_t a = clip(db, "Interrupted"), b = clip(db, "Still running"),
	        c = clip(db, "Waiting without a job"), d = clip(db, "Ready");
	int64_t ja, jb, got;
	assert_int_equal(jobs_enqueue(db, a), 0);
	assert_int_equal(jobs_enqueue(db, b), 0);
	assert_int_equal(jobs_claim(db, HERE(gone), a, &ja, &got), 0);
	assert_int_equal(jobs_claim(db, HERE(alive), b, &jb, &got), 0);
	assert_int_equal(cat_clip_set_status(db, d, CAT_READY, NULL), 0);

	assert_int_equal(jobs_recover(db, HERE(getpid()), false), 0);
	char row[512];
	job_row(db, ja, row, sizeof row);
	if (strncmp(row, "queued 1 ", 9) != 0)
		fail_msg("the vanished runner's job is '%s', wanted it queued again", row);
	assert_int_equal(status_of(db, a, NULL), CAT_QUEUED);
	char want[64];
	snprintf(want, sizeof want, "running 1 %lld", (long long)alive);
	assert_string_equal(job_row(db, jb, row, sizeof row), want);
	assert_int_equal(status_of(db, b, NULL), CAT_PROCESSING);
	/* the clip that waited without a job has one now; the others none new */
	assert_int_equal(count(db, "SELECT count(*) FROM jobs WHERE clip_id = ?1 AND "
	                           "state = 'queued'", c), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM jobs WHERE clip_id = ?1", a), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM jobs WHERE clip_id = ?1", b), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM jobs WHERE clip_id = ?1", d), 0);
	/* again: nothing more to do */
	assert_int_equal(jobs_recover(db, HERE(getpid()), false), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM jobs WHERE ?1 = ?1", 0), 3);
	assert_string_equal(job_row(db, jb, row, sizeof row), want);

	kill(alive, SIGKILL);
	assert_int_equal(waitpid(alive, NULL, 0), alive);
	/* now its runner is gone too */
	assert_int_equal(jobs_recover(db, HERE(getpid()), false), 0);
	job_row(db, jb, row, sizeof row);
	if (strncmp(row, "queued 1 ", 9) != 0)
		fail_msg("the killed runner's job is '%s', wanted it queued again", row);
}

static void another_node_s_jobs_are_taken_over_when_their_lease_runs_out(void **state)
{
	struct kd_db *db = *state;
	kd_log_set_level(KD_LOG_ERROR);
	int64_t a = clip(db, "On the other node"), b = clip(db, "Here");
	assert_int_equal(jobs_enqueue(db, a), 0);
	assert_int_equal(jobs_enqueue(db, b), 0);
	/* the other node's pid means nothing here: a dead one of ours included */
	struct jobs_owner there = {dead_pid(), "there", 3}, *here = HERE(getpid());
	int64_t ja, jb, got;
	assert_int_equal(jobs_claim(db, &there, a, &ja, &got), 0);
	assert_int_equal(jobs_claim(db, here, b, &jb, &got), 0);
	char row[512];
	assert_int_equal(jobs_recover(db, here, false), 0);
	assert_int_equal(strncmp(job_row(db, ja, row, sizeof row), "running", 7), 0);
	/* this process's own running job stays with it... */
	assert_int_equal(strncmp(job_row(db, jb, row, sizeof row), "running", 7), 0);
	sleep(2);
	assert_int_equal(jobs_renew(db, &there), 0); /* renewed for 3 s more */
	sleep(1);
	assert_int_equal(jobs_recover(db, here, false), 0);
	assert_int_equal(strncmp(job_row(db, ja, row, sizeof row), "running", 7), 0);
	sleep(3); /* 4 s since the renewal of 3 s */
	assert_int_equal(jobs_recover(db, here, false), 0);
	if (strncmp(job_row(db, ja, row, sizeof row), "queued 1", 8) != 0)
		fail_msg("the other node's job is '%s' after its lease ran out", row);
	assert_int_equal(status_of(db, a, NULL), CAT_QUEUED);
	assert_int_equal(strncmp(job_row(db, jb, row, sizeof row), "running", 7), 0);
	/* ...but not at a start: then it is a previous process's of the same pid */
	assert_int_equal(jobs_recover(db, here, true), 0);
	assert_int_equal(strncmp(job_row(db, jb, row, sizeof row), "queued 1", 8), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM jobs WHERE node IS NULL AND ?1 = ?1", 0), 0);
}

/* --- intake ------------------------------------------------------------ */

struct intake_world {
	char dir[64];      /* holds data/ and the files to take in */
	char data[96];
	struct kd_config cfg;
	struct kd_db *db;
};

static int setup_intake(void **state)
{
	struct intake_world *w = calloc(1, sizeof *w);
	strcpy(w->dir, "/tmp/kd-intake-XXXXXX");
	if (!mkdtemp(w->dir))
		fail_msg("mkdtemp");
	snprintf(w->data, sizeof w->data, "%s/data", w->dir);
	char err[KD_ERRMSG_MAX] = "";
	if (kd_config_load(&w->cfg, w->data, NULL, err, sizeof err) != 0 ||
	    kd_config_prepare_data_dir(&w->cfg, err, sizeof err) != 0)
		fail_msg("%s", err);
	setup_db((void **)&w->db);
	*state = w;
	return 0;
}

static int teardown_intake(void **state)
{
	struct intake_world *w = *state;
	char media[128];
	snprintf(media, sizeof media, "%s/media", w->data);
	chmod(media, 0750);
	kd_remove_tree(w->dir);
	kd_config_free(&w->cfg);
	db_close(&w->db);
	free(w);
	return 0;
}

static char *make_file(struct intake_world *w, const char *name, const char *bytes)
{
	char *path = kd_path_join(w->dir, name);
	assert_int_equal(kd_write_file_atomic(path, bytes, strlen(bytes)), 0);
	return path;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static int take(struct intake_world *w, const char *path, bool move, int64_t *id, bool *dup,
                char *err)
{
	struct cat_clip_new m = {.title = "Intake", .school = "alder", .practices = practices,
	                         .n_practices = 1, .uploader_id = 0};
	err[0] = '\0';
	return intake_file(&w->cfg, w->db, path, move, &m, id, dup, err, KD_ERRMSG_MAX);
}

static void expect_original(struct intake_world *w, int64_t id, const char *bytes)
{
	char path[160], *got;
	size_t len;
	snprintf(path, sizeof path, "%s/media/%lld/original", w->data, (long long)id);
	assert_int_equal(kd_read_file(path, 1 << 20, &got, &len), 0);
	assert_int_equal(len, strlen(bytes));
	assert_memory_equal(got, bytes, len);
	free(got);
}

static void ingest_copies_the_file_into_a_queued_clip(void **state)
{
	struct intake_world *w = *state;
	const char *bytes = "not really a video, but bytes all the same\n";
	char *src = make_file(w, "IMG_0042.MOV", bytes);
	int64_t id = 0;
	bool dup = true;
	char err[KD_ERRMSG_MAX];
	int rc = take(w, src, false, &id, &dup, err);
	if (rc != 0)
		fail_msg("intake_file: %d %s", rc, err);
	assert_false(dup);
	char sha[KD_SHA256_HEX];
	assert_int_equal(kd_sha256_file(src, sha), 0);
	struct kd_user admin = {.id = 1, .role = KD_ROLE_ADMIN};
	struct cat_clip c;
	assert_int_equal(cat_clip_get(w->db, &admin, id, &c), 0);
	assert_string_equal(c.title, "Intake");
	assert_int_equal(c.status, CAT_QUEUED);
	assert_string_equal(c.sha256, sha);
	assert_string_equal(c.original_name, "IMG_0042.MOV");
	cat_clip_free(&c);
	assert_int_equal(count(w->db, "SELECT count(*) FROM jobs WHERE clip_id = ?1 AND "
	                              "state = 'queued'", id), 1);
	expect_original(w, id, bytes);
	assert_true(exists(src)); /* a coach's file is left as it was */
	char tmp[128];
	snprintf(tmp, sizeof tmp, "%s/tmp", w->data);
	assert_int_equal(entries(tmp), 0); /* the staged copy is gone */

	/* the same bytes again, under another name: the same clip, nothing new */
	char *again = make_file(w, "copy-of-it.mov", bytes);
	int64_t id2 = 0;
	assert_int_equal(take(w, again, false, &id2, &dup, err), 0);
	assert_true(dup);
	assert_int_equal(id2, id);
	assert_int_equal(count(w->db, "SELECT count(*) FROM clips WHERE ?1 = ?1", 0), 1);
	assert_int_equal(count(w->db, "SELECT count(*) FROM jobs WHERE ?1 = ?1", 0), 1);
	char media[128];
	snprintf(media, sizeof media, "%s/media", w->data);
	assert_int_equal(entries(media), 1);
	assert_int_equal(entries(tmp), 0);
	assert_true(exists(again));
	free(again);
	free(src);
}

static void upload_moves_the_file_into_a_queued_clip(void **state)
{
	struct intake_world *w = *state;
	const char *bytes = "uploaded bytes\n";
	char *src = make_file(w, "upload-bytes", bytes);
	int64_t id = 0;
	bool dup = true;
	char err[KD_ERRMSG_MAX];
	int rc = take(w, src, true, &id, &dup, err);
	if (rc != 0)
		fail_msg("intake_file: %d %s", rc, err);
	assert_false(dup);
	expect_original(w, id, bytes);
	assert_false(exists(src)); /* taken over */
	assert_int_equal(count(w->db, "SELECT count(*) FROM jobs WHERE clip_id = ?1 AND "
	                              "state = 'queued'", id), 1);
	/* the same bytes uploaded again: the existing clip */
	free(src);
	src = make_file(w, "upload-bytes-2", bytes);
	int64_t id2 = 0;
	assert_int_equal(take(w, src, true, &id2, &dup, err), 0);
	assert_true(dup);
	assert_int_equal(id2, id);
	assert_int_equal(count(w->db, "SELECT count(*) FROM clips WHERE ?1 = ?1", 0), 1);
	assert_int_equal(count(w->db, "SELECT count(*) FROM jobs WHERE ?1 = ?1", 0), 1);
	free(src);
}

static void bad_metadata_or_missing_file_creates_nothing(void **state)
{
	struct intake_world *w = *state;
	char *src = make_file(w, "a.mov", "some bytes");
	struct cat_clip_new m = {.title = "Intake", .school = "alder"}; /* no practices */
	int64_t id;
	bool dup;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(intake_file(&w->cfg, w->db, src, false, &m, &id, &dup, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "practices"));
	assert_int_equal(count(w->db, "SELECT count(*) FROM clips WHERE ?1 = ?1", 0), 0);
	assert_int_equal(count(w->db, "SELECT count(*) FROM jobs WHERE ?1 = ?1", 0), 0);
	char tmp[128], media[128];
	snprintf(tmp, sizeof tmp, "%s/tmp", w->data);
	snprintf(media, sizeof media, "%s/media", w->data);
	assert_int_equal(entries(tmp), 0);
	assert_int_equal(entries(media), 0);
	assert_true(exists(src));

	char *missing = kd_path_join(w->dir, "not-there.mov");
	assert_int_equal(take(w, missing, false, &id, &dup, err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "not-there.mov"));
	assert_int_equal(count(w->db, "SELECT count(*) FROM clips WHERE ?1 = ?1", 0), 0);
	free(missing);
	free(src);
}

/* The media folder cannot take the file: no clip, no job, the file kept. */
static void unwritable_media_leaves_no_clip_and_no_job(void **state)
{
	struct intake_world *w = *state;
	char media[128];
	snprintf(media, sizeof media, "%s/media", w->data);
	if (geteuid() == 0) {
		/* root writes through any mode: put a file where the folder was */
		assert_int_equal(rmdir(media), 0);
		assert_int_equal(kd_write_file_atomic(media, "x", 1), 0);
	} else {
		assert_int_equal(chmod(media, 0500), 0);
	}
	char err[KD_ERRMSG_MAX];
	int64_t id;
	bool dup;
	for (int move = 0; move <= 1; move++) {
		char *src = make_file(w, move ? "upload-data" : "camera.mov", "precious bytes");
		int rc = take(w, src, move, &id, &dup, err);
		if (rc != KD_EIO)
			fail_msg("move=%d: rc %d (%s), wanted KD_EIO", move, rc, err);
		assert_non_null(strstr(err, "cannot store the file"));
		assert_int_equal(count(w->db, "SELECT count(*) FROM clips WHERE ?1 = ?1", 0), 0);
		assert_int_equal(count(w->db, "SELECT count(*) FROM jobs WHERE ?1 = ?1", 0), 0);
		assert_true(exists(src)); /* the bytes are not lost */
		char tmp[128];
		snprintf(tmp, sizeof tmp, "%s/tmp", w->data);
		assert_int_equal(entries(tmp), 0);
		free(src);
	}
	/* the catalogue is usable afterwards: no transaction left open */
	assert_true(!db_in_transaction(w->db));
}

/* --- the zygote ---------------------------------------------------------- */

struct zworld {
	char dir[64];
	char data[96];
	struct zygote z;
};

/* A data folder with clip 1 and 3 (a text file each: a worker reports them
 * failed at once) and clip 2 (a FIFO: its worker waits on it for ever),
 * and a zygote for it, forked here rather than started as a program. */
static int setup_zygote(void **state)
{
	struct zworld *w = calloc(1, sizeof *w);
	strcpy(w->dir, "/tmp/kd-zygote-XXXXXX");
	if (!mkdtemp(w->dir))
		fail_msg("mkdtemp");
	snprintf(w->data, sizeof w->data, "%s/data", w->dir);
	char path[160];
	for (int id = 1; id <= 3; id++) {
		snprintf(path, sizeof path, "%s/media/%d", w->data, id);
		assert_int_equal(kd_mkdirs(path, 0750), 0);
		snprintf(path, sizeof path, "%s/media/%d/original", w->data, id);
		if (id == 2)
			assert_int_equal(mkfifo(path, 0640), 0);
		else
			assert_int_equal(kd_write_file_atomic(path, "notes, not a video\n", 19), 0);
	}
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		/* Its arguments as one block, as exec lays them out. */
		static char args[256];
		int n = snprintf(args, sizeof args, "worker%c--data%c%s%c--zygote%c3%c--mem-mb%c4096", 0,
		                 0, w->data, 0, 0, 0, 0);
		char *argv[8];
		int argc = 0;
		for (char *a = args; a < args + n + 1; a += strlen(a) + 1)
			argv[argc++] = a;
		struct sandbox_limits l = {.mem_mb = 4096, .cpu_s = 60, .open_files = 64};
		_exit(jobs_zygote_main(sv[1], w->data, &l, argv, argc) < 0 ? 1 : 0);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	w->z.pid = pid;
	w->z.sock = sv[0];
	*state = w;
	return 0;
}

static int teardown_zygote(void **state)
{
	struct zworld *w = *state;
	zygote_stop(&w->z);
	kd_remove_tree(w->dir);
	free(w);
	return 0;
}

/* The zygote's next message (within 20 s). */
static struct zygote_msg hear(struct zworld *w)
{
	struct zygote_msg m;
	for (int waited = 0; waited < 20000; waited += 100) {
		int rc = zygote_event(&w->z, &m);
		assert_true(rc >= 0);
		if (rc == 1)
			return m;
		struct pollfd p = {.fd = w->z.sock, .events = POLLIN};
		poll(&p, 1, 100);
	}
	fail_msg("the zygote said nothing for 20 s");
	return m;
}

/* Start clip as token; returns the read end of its report. */
static int run_clip(struct zworld *w, uint64_t token, int64_t clip)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(zygote_run(&w->z, token, clip, 1, p[1], 0), 0);
	close(p[1]);
	return p[0];
}

static void a_zygote_forks_a_sandboxed_worker_per_clip(void **state)
{
	struct zworld *w = *state;
	int r1 = run_clip(w, 11, 1), r3 = run_clip(w, 13, 3);
	int started = 0, exited = 0;
	while (exited < 2) {
		struct zygote_msg m = hear(w);
		assert_true(m.token == 11 || m.token == 13);
		if (m.type == ZYGOTE_STARTED) {
			assert_true(m.pid > 0 && m.pid != w->z.pid);
			started++;
		} else {
			assert_int_equal(m.type, ZYGOTE_EXITED);
			if (!WIFEXITED(m.status) || WEXITSTATUS(m.status) != 0)
				fail_msg("the worker of token %llu ended with status %d",
				         (unsigned long long)m.token, m.status);
			exited++;
		}
	}
	assert_int_equal(started, 2);
	int reports[2] = {r1, r3};
	for (int i = 0; i < 2; i++) {
		char buf[4096];
		ssize_t n, got = 0;
		while ((n = read(reports[i], buf + got, sizeof buf - 1 - (size_t)got)) > 0)
			got += n;
		close(reports[i]);
		struct jobs_result r;
		char err[KD_ERRMSG_MAX];
		assert_int_equal(jobs_result_parse(buf, (size_t)got, &r, err, sizeof err), 0);
		assert_int_equal(r.status, CAT_FAILED);
		assert_non_null(strstr(r.error, "not a video file"));
	}
}

static void a_kill_order_ends_a_worker(void **state)
{
	struct zworld *w = *state;
	int r = run_clip(w, 5, 2);
	struct zygote_msg m = hear(w);
	assert_int_equal(m.type, ZYGOTE_STARTED);
	assert_int_equal(zygote_kill(&w->z, 5), 0);
	m = hear(w);
	assert_int_equal(m.type, ZYGOTE_EXITED);
	assert_true(WIFSIGNALED(m.status) && WTERMSIG(m.status) == SIGKILL);
	close(r);
}

static void closing_the_socket_ends_the_zygote_and_its_workers(void **state)
{
	struct zworld *w = *state;
	int r = run_clip(w, 8, 2);
	struct zygote_msg m = hear(w);
	assert_int_equal(m.type, ZYGOTE_STARTED);
	pid_t zygote = w->z.pid;
	zygote_stop(&w->z); /* returns once the zygote has exited */
	assert_int_equal(w->z.pid, 0);
	assert_int_equal(kill(zygote, 0), -1);
	/* Its worker went first (killed and reaped by it). */
	assert_int_equal(kill(m.pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	char c;
	assert_int_equal(read(r, &c, 1), 0); /* nobody holds its report open */
	close(r);
}

int main(void)
{
	users_init();
#define T(f) cmocka_unit_test_setup_teardown(f, setup_db, test_db_teardown)
#define I(f) cmocka_unit_test_setup_teardown(f, setup_intake, teardown_intake)
	const struct CMUnitTest tests[] = {
		T(claim_takes_the_oldest_queued_job_once),
		T(claim_for_one_clip_takes_only_its_job),
		T(finish_ok_marks_the_job_done),
		T(failures_retry_then_fail_the_clip),
		T(recovery_retries_jobs_of_vanished_runners_only),
		T(another_node_s_jobs_are_taken_over_when_their_lease_runs_out),
		I(ingest_copies_the_file_into_a_queued_clip),
		I(upload_moves_the_file_into_a_queued_clip),
		I(bad_metadata_or_missing_file_creates_nothing),
		I(unwritable_media_leaves_no_clip_and_no_job),
#define Z(f) cmocka_unit_test_setup_teardown(f, setup_zygote, teardown_zygote)
		Z(a_zygote_forks_a_sandboxed_worker_per_clip),
		Z(a_kill_order_ends_a_worker),
		Z(closing_the_socket_ends_the_zygote_and_its_workers),
	};
	return cmocka_run_group_tests_name("jobs", tests, NULL, NULL);
}
