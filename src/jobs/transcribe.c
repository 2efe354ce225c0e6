/* transcribe.c - automatic captions: the worker's transcriber process and
 * what the runner does with its output (see transcribe.h; the command's
 * sandbox is in transcribe_sandbox.c). */
#define _GNU_SOURCE
#include "jobs/transcribe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/log.h"
#include "kindling/media.h"
#include "kindling/mem.h"
#include "kindling/paths.h"

/* How the command ended, from the transcriber to the worker. */
struct ending {
	int32_t ran;       /* it was started */
	int32_t timed_out; /* killed past transcribe_timeout */
	int32_t status;    /* its waitpid status */
	int32_t isolated;  /* in namespaces of its own */
	int32_t error;     /* errno when it could not be started */
};

/* Beyond the command's own time, what the worker waits before giving up
 * on the transcriber (which kills the command at its time). */
#define BACKSTOP_S 15

static const char *t_command;
static unsigned t_timeout_s = 600;
static bool t_want;

void transcribe_configure(const char *command, unsigned timeout_s)
{
	/* a copy: a zygote's children rewrite its arguments (their titles) */
	t_command = command && *command ? kd_strdup(command) : NULL;
	if (timeout_s)
		t_timeout_s = timeout_s;
}

void transcribe_want(bool yes)
{
	t_want = yes;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Close every descriptor from 3 up but those in keep (ascending). */
static void close_others(const int *keep, int n)
{
	int lo = STDERR_FILENO + 1;
	for (int i = 0; i <= n; i++) {
		unsigned hi = i < n ? (unsigned)keep[i] - 1 : ~0U;
		if (i < n && keep[i] < lo)
			continue;
		if (hi >= (unsigned)lo && close_range((unsigned)lo, hi, 0) < 0)
			for (unsigned fd = (unsigned)lo; fd <= hi && fd < 1024; fd++)
				if (i == n || (int)fd != keep[i])
					close((int)fd);
		if (i < n)
			lo = keep[i] + 1;
	}
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The transcriber: waits for the worker's word, then runs the command in
 * its sandbox and says how it ended.  Never returns. */
static void transcriber_main(int go, int out, int err, int status, const char *dir,
                             const struct sandbox_limits *l)
{
	/* Dies with the worker (killed past the job's time, or crashed). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		_exit(1);
	/* The worker's standard output is its report to the runner: not ours. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
		_exit(1);
	/* Nothing else of the worker's (the lock on its original least of all). */
	int keep[4] = {go, out, err, status};
	qsort(keep, 4, sizeof *keep, cmp_int);
	close_others(keep, 4);
	char c;
	ssize_t n;
	while ((n = read(go, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		_exit(0); /* nothing to transcribe */
	struct ending e = {0};
	/* Unprivileged namespaces, where the kernel allows them (Debian
	 * does): the command then has no network and no process to signal
	 * but its own. */
	e.isolated = unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET) == 0;
	pid_t pid = fork();
	if (pid == 0)
		transcribe_command_main(out, err, dir, t_command, t_timeout_s, l, e.isolated);
	close(out);
	close(err);
	if (pid < 0) {
		e.error = errno;
	} else {
		e.ran = 1;
		double deadline = now_s() + t_timeout_s;
		int st = 0;
		for (;;) {
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid || (w < 0 && errno != EINTR))
				break;
			if (now_s() >= deadline) {
				/* The first process of the namespace: the kernel ends
				 * the rest with it.  Without one, its process group. */
				kill(e.isolated ? pid : -pid, SIGKILL);
				e.timed_out = 1;
				while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
					;
				break;
			}
			struct timespec nap = {0, 20 * 1000 * 1000};
			nanosleep(&nap, NULL);
		}
		e.status = st;
		if (!e.isolated)
			kill(-pid, SIGKILL); /* what the shell left running */
	}
	while (write(status, &e, sizeof e) < 0 && errno == EINTR)
		;
	_exit(0);
}

int transcribe_fork(const char *dir, const struct sandbox_limits *limits, struct transcriber *t)
{
	*t = (struct transcriber){.go = -1, .out = -1, .err = -1, .status = -1};
	if (!t_want || !t_command)
		return 0;
	int go[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, st[2] = {-1, -1};
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    pipe2(st, O_CLOEXEC) < 0)
		goto fail;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		close(go[1]);
		close(out[0]);
		close(err[0]);
		close(st[0]);
		transcriber_main(go[0], out[1], err[1], st[1], dir, limits);
	}
	close(go[0]);
	close(out[1]);
	close(err[1]);
	close(st[1]);
	*t = (struct transcriber){.pid = pid, .go = go[1], .out = out[0], .err = err[0],
	                          .status = st[0]};
	return 0;
fail:
	log_warn("worker", "cannot start the transcription of this clip: %s; it is processed "
	         "without", strerror(errno));
	int *all[] = {go, out, err, st};
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 2; k++)
			if (all[i][k] >= 0)
				close(all[i][k]);
	return KD_EIO;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The last line the command wrote on its standard error, printable. */
static void last_line(char *tail, size_t n, char *line, size_t linelen)
{
	while (n && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' '))
		n--;
	size_t start = n;
	while (start && tail[start - 1] != '\n')
		start--;
	size_t k = 0;
	for (size_t i = start; i < n && k + 1 < linelen; i++) {
		unsigned char ch = (unsigned char)tail[i];
		line[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	line[k] = '\0';
}

/* Read the command's output (at most CAPTIONS_BYTES_MAX) and the tail of
 * its error until both end.  false when the backstop passed first. */
static bool gather(struct transcriber *t, char *buf, size_t *n, bool *over, char *tail,
                   size_t *tn, size_t tailmax)
{
	double deadline = now_s() + t_timeout_s + BACKSTOP_S;
	while (t->out >= 0 || t->err >= 0) {
		struct pollfd p[2] = {{.fd = t->out, .events = POLLIN}, {.fd = t->err, .events = POLLIN}};
		double left = deadline - now_s();
		if (left <= 0)
			return false;
		int r = poll(p, 2, (int)(left * 1000) + 1);
		if (r < 0 && errno != EINTR)
			return false;
		if (r <= 0)
			continue;
		if (p[0].revents) {
			ssize_t got = read(t->out, buf + *n, CAPTIONS_BYTES_MAX + 1 - *n);
			if (got > 0)
				*n += (size_t)got;
			if (*n > CAPTIONS_BYTES_MAX) {
				/* No more is read: the command sees a broken pipe. */
				*over = true;
				close_fd(&t->out);
			} else if (got == 0 || (got < 0 && errno != EINTR)) {
				close_fd(&t->out);
			}
		}
		if (p[1].revents) {
			char chunk[1024];
			ssize_t got = read(t->err, chunk, sizeof chunk);
			if (got > 0) {
				/* keep the last tailmax bytes */
				size_t g = (size_t)got;
				if (*tn + g > tailmax) {
					size_t drop = *tn + g - tailmax;
					if (drop > *tn)
						drop = *tn;
					memmove(tail, tail + drop, *tn - drop);
					*tn -= drop;
				}
				if (g > tailmax)
					g = tailmax;
				memcpy(tail + *tn, chunk + (size_t)got - g, g);
				*tn += g;
			} else if (got == 0 || errno != EINTR) {
				close_fd(&t->err);
			}
		}
	}
	return true;
}

void transcribe_clip(struct transcriber *t, bool run, const char *original, const char *dir,
                     double duration_s, struct jobs_result *r)
{
	if (!t->pid)
		return;
	char why[KD_ERRMSG_MAX] = "";
	char *wav = kd_path_join(dir, TRANSCRIBE_WAV), *out = kd_path_join(dir, TRANSCRIBE_OUTPUT);
	int64_t samples = 0;
	/* what an earlier worker, killed half-way, may have left */
	unlink(out);
	if (run) {
		/* A second more than the picture: what the duration rounds off. */
		int rc = media_make_wav(original, wav, duration_s > 0 ? duration_s + 1 : 0, &samples,
		                        why, sizeof why);
		if (rc == KD_ENOTFOUND) {
			run = false; /* no sound: nothing to say */
		} else if (rc < 0) {
			snprintf(r->transcribe_error, sizeof r->transcribe_error,
			         "the sound could not be made ready for transcription: %.180s", why);
			run = false;
		}
	}
	if (!run) {
		close_fd(&t->go); /* the transcriber ends without running anything */
		close_fd(&t->out);
		close_fd(&t->err);
		close_fd(&t->status);
		while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
			;
		t->pid = 0;
		unlink(wav);
		free(wav);
		free(out);
		return;
	}
	double started = now_s();
	while (write(t->go, "g", 1) < 0 && errno == EINTR)
		;
	close_fd(&t->go);
	char *buf = kd_malloc(CAPTIONS_BYTES_MAX + 1), tail[2048], line[160] = "";
	size_t n = 0, tn = 0;
	bool over = false;
	struct ending e = {0};
	bool done = gather(t, buf, &n, &over, tail, &tn, sizeof tail);
	last_line(tail, tn, line, sizeof line);
	if (done) {
		close_fd(&t->out);
		close_fd(&t->err);
		while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (read(t->status, &e, sizeof e) != (ssize_t)sizeof e)
			e.error = EIO;
	} else {
		/* The transcriber did not end it: it and the command die with
		 * this worker (their parent-death signals). */
		e.ran = 1;
		e.timed_out = 1;
	}
	close_fd(&t->out);
	close_fd(&t->err);
	close_fd(&t->status);
	t->pid = 0;
	const char *detail = line[0] ? line : "nothing on its standard error";
	int st = e.status;
	/* A shell whose program was killed exits with 128 + the signal. */
	int sig = WIFSIGNALED(st)                         ? WTERMSIG(st)
	          : WIFEXITED(st) && WEXITSTATUS(st) > 128 ? WEXITSTATUS(st) - 128
	                                                   : 0;
	char *err = r->transcribe_error;
	size_t errlen = sizeof r->transcribe_error;
	if (!e.ran)
		snprintf(err, errlen, "the transcription command could not be started: %s",
		         strerror(e.error ? e.error : EIO));
	else if (e.timed_out)
		snprintf(err, errlen, "the transcription command took longer than %u s "
		         "(transcribe_timeout) and was stopped", t_timeout_s);
	else if (over)
		snprintf(err, errlen, "the transcription command printed more than %u KiB; captions "
		         "are at most that", CAPTIONS_BYTES_MAX >> 10);
	else if (sig == SIGSYS)
		snprintf(err, errlen, "the transcription command tried something its sandbox forbids "
		         "(a system call: the network, tracing, ...) and was stopped");
	else if (sig == SIGXCPU)
		snprintf(err, errlen, "the transcription command used up its CPU time (%u s)",
		         t_timeout_s);
	else if (WIFSIGNALED(st))
		snprintf(err, errlen, "the transcription command was killed by signal %d (%.120s)",
		         WTERMSIG(st), detail);
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		snprintf(err, errlen, "the transcription command failed (exit status %d): %.150s",
		         WIFEXITED(st) ? WEXITSTATUS(st) : -1, detail);
	else if (n == 0)
		snprintf(err, errlen, "the transcription command printed nothing (%.150s)", detail);
	if (!err[0]) {
		if (kd_write_file_atomic(out, buf, n) < 0)
			snprintf(err, errlen, "cannot write %s: %s", TRANSCRIBE_OUTPUT, strerror(errno));
		else
			r->transcript = true;
	}
	/* (a failure is logged by the runner, with the clip's number) */
	if (r->transcript)
		log_info("worker", "transcribed %.1f s of sound in %.1f s: %zu bytes of captions%s",
		         (double)samples / MEDIA_WAV_RATE, now_s() - started, n,
		         e.isolated ? "" : " (without namespaces: this kernel refuses them)");
	free(buf);
	unlink(wav);
	free(wav);
	free(out);
}

/* ------------------------------------------------------------ the runner's side */

bool transcribe_wanted(struct kd_db *db, const struct jobs_limits *l, int64_t clip)
{
	if (!l->transcribe_command || !*l->transcribe_command)
		return false;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT captions FROM clips WHERE id = ?1", &st) != DB_OK)
		return false;
	db_bind_int64(st, 1, clip);
	bool none = db_step(st) == DB_ROW && db_column_text(st, 0) &&
	            strcmp((const char *)db_column_text(st, 0), "none") == 0;
	db_finalize(st);
	return none;
}

bool transcribe_take(struct kd_db *db, const char *data_dir, int64_t clip, double duration_s)
{
	char *dir = paths_clip_dir(data_dir, clip);
	char *out = kd_path_join(dir, TRANSCRIBE_OUTPUT);
	char *vtt_path = paths_clip_file(data_dir, clip, KD_FILE_CAPTIONS);
	char *text = NULL, *vtt = NULL, err[KD_ERRMSG_MAX] = "";
	size_t len = 0, vlen = 0;
	struct captions c = {0};
	bool parsed = false, took = false;
	int rc = kd_read_file(out, CAPTIONS_BYTES_MAX, &text, &len);
	unlink(out);
	if (rc < 0) {
		log_warn("jobs", "clip %lld: cannot read its transcript %s: %s", (long long)clip, out,
		         kd_strerror(rc));
		goto out;
	}
	rc = captions_parse(text, len, duration_s, &c, err, sizeof err);
	parsed = rc == 0;
	if (rc < 0) {
		log_warn("jobs", "clip %lld: the transcription command's output is not captions "
		         "(%s); the clip stays without captions: check the command prints WebVTT",
		         (long long)clip, err);
		goto out;
	}
	if (c.n == 0) {
		log_info("jobs", "clip %lld: the transcription command heard nothing to caption",
		         (long long)clip);
		goto out;
	}
	/* The catalogue first: it refuses when captions were uploaded since
	 * the job started, and then their file is not overwritten. */
	rc = cat_captions_set(db, clip, &c, CAPTIONS_AUTOMATIC);
	if (rc == KD_EEXIST) {
		log_info("jobs", "clip %lld: captions were uploaded meanwhile; they are kept and the "
		         "automatic ones dropped", (long long)clip);
		goto out;
	}
	if (rc < 0) {
		log_warn("jobs", "clip %lld: cannot record its automatic captions: %s",
		         (long long)clip, kd_strerror(rc));
		goto out;
	}
	vtt = captions_to_vtt(&c, &vlen);
	if (!vtt || kd_write_file_atomic(vtt_path, vtt, vlen) < 0) {
		log_warn("jobs", "clip %lld: cannot write %s: %s; it stays without captions",
		         (long long)clip, vtt_path, vtt ? strerror(errno) : "out of memory");
		transcribe_undo(db, clip);
		goto out;
	}
	log_info("jobs", "clip %lld: automatic captions, %zu cues", (long long)clip, c.n);
	took = true;
out:
	if (parsed)
		captions_free(&c);
	free(vtt);
	free(text);
	free(vtt_path);
	free(out);
	free(dir);
	return took;
}

void transcribe_undo(struct kd_db *db, int64_t clip)
{
	int rc = cat_captions_clear(db, clip);
	if (rc < 0)
		log_error("jobs", "clip %lld: cannot forget its automatic captions: %s",
		          (long long)clip, kd_strerror(rc));
}
