/* zygote.c - one process, started once, that forks a sandboxed worker per
 * clip (see zygote.h): the runner's side and the zygote's own loop. */
#define _GNU_SOURCE
#include "jobs/zygote.h"
#include "jobs/transcribe.h" /* issue 15: transcription */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/media.h"
#include "kindling/mem.h"
#include "kindling/sandbox.h"

extern char **environ;

/* The descriptor the zygote finds its socket on. */
#define ZYGOTE_FD 3

/* ------------------------------------------------------------ the runner's side */

int zygote_start(struct zygote *z, const char *bin, const char *data_dir,
                 const struct jobs_limits *limits, uint64_t file_mb)
{
	int sv[2];
	z->pid = 0;
	z->sock = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("jobs", "cannot start a worker: %s", strerror(errno));
		return KD_EIO;
	}
	/* dup2 onto the same number would leave close-on-exec set. */
	if (sv[1] == ZYGOTE_FD) {
		int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, ZYGOTE_FD + 1);
		close(sv[1]);
		if (moved < 0) {
			close(sv[0]);
			log_error("jobs", "cannot start a worker: %s", strerror(errno));
			return KD_EIO;
		}
		sv[1] = moved;
	}
	char fd[16], mem[24], cpu[24], file[24];
	snprintf(fd, sizeof fd, "%d", ZYGOTE_FD);
	snprintf(mem, sizeof mem, "%lu", limits->mem_mb);
	snprintf(cpu, sizeof cpu, "%u", limits->cpu_s);
	snprintf(file, sizeof file, "%llu", (unsigned long long)file_mb);
	/* issue 15: transcription: its command and time, for the workers */
	char tsec[16];
	snprintf(tsec, sizeof tsec, "%u", limits->transcribe_timeout_s);
	bool tr = limits->transcribe_command && *limits->transcribe_command;
	char *argv[] = {"kindling", "worker", "--data", (char *)data_dir, "--zygote", fd,
	                "--mem-mb", mem, "--cpu-s", cpu, "--file-mb", file,
	                tr ? "--transcribe" : NULL, (char *)limits->transcribe_command,
	                "--transcribe-s", tsec, NULL};
	/* posix_spawn, not fork: the server is multi-threaded, and a child of
	 * a threaded process may only call async-signal-safe functions.  The
	 * server blocks SIGINT/SIGTERM in its threads and ignores SIGPIPE; the
	 * zygote starts with neither.  Its standard input and output are
	 * nothing (each child's output is its own report pipe); its standard
	 * error is the log, as ours. */
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	sigset_t none, dflt;
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGCHLD);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], ZYGOTE_FD);
	/* Our environment, and LD_BIND_NOW: every symbol of FFmpeg and what it
	 * links to is looked up once, in the zygote, rather than lazily in
	 * each worker forked from it. */
	size_t n_env = 0, k = 0;
	while (environ[n_env])
		n_env++;
	char **env = kd_calloc(n_env + 3, sizeof *env);
	for (size_t i = 0; i < n_env; i++)
		if (strncmp(environ[i], "LD_BIND_NOW=", 12) != 0 &&
		    strncmp(environ[i], "ASAN_OPTIONS=", 13) != 0)
			env[k++] = environ[i];
	env[k++] = "LD_BIND_NOW=1";
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer's check at exit clones a tracer, which a worker's
	 * system-call filter rightly stops: sanitizer builds check leaks in
	 * the server and the tests, not in the workers. */
	env[k++] = "ASAN_OPTIONS=detect_leaks=0";
#else
	for (size_t i = 0; i < n_env; i++)
		if (strncmp(environ[i], "ASAN_OPTIONS=", 13) == 0)
			env[k++] = environ[i];
#endif
	int rc = posix_spawn(&z->pid, bin, &fa, &attr, argv, env);
	free(env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (rc != 0) {
		log_error("jobs", "cannot start a worker (%s): %s", bin, strerror(rc));
		close(sv[0]);
		z->pid = 0;
		return KD_EIO;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	z->sock = sv[0];
	log_debug("jobs", "zygote %d started", (int)z->pid);
	return 0;
}

static int send_msg(int sock, const struct zygote_msg *m, int fd)
{
	struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof *m};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&u, 0, sizeof u);
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof u.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n == (ssize_t)sizeof *m)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* The runner's end is non-blocking; a full socket only
			 * means the zygote is busy forking: wait for room. */
			struct pollfd p = {.fd = sock, .events = POLLOUT};
			if (poll(&p, 1, 1000) >= 0)
				continue;
		}
		return KD_EIO;
	}
}

int zygote_run(struct zygote *z, uint64_t token, int64_t clip, int threads, int report,
               uint32_t flags)
{
	struct zygote_msg m = {.type = ZYGOTE_RUN, .token = token, .clip = clip,
	                       .threads = threads, .flags = flags};
	return z->pid ? send_msg(z->sock, &m, report) : KD_EIO;
}

int zygote_kill(struct zygote *z, uint64_t token)
{
	struct zygote_msg m = {.type = ZYGOTE_KILL, .token = token};
	return z->pid ? send_msg(z->sock, &m, -1) : KD_EIO;
}

int zygote_event(struct zygote *z, struct zygote_msg *msg)
{
	if (!z->pid)
		return KD_EIO;
	for (;;) {
		ssize_t n = recv(z->sock, msg, sizeof *msg, 0);
		if (n == (ssize_t)sizeof *msg)
			return 1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return KD_EIO; /* closed (0), broken, or not a message of ours */
	}
}

void zygote_stop(struct zygote *z)
{
	if (!z->pid)
		return;
	close(z->sock);
	z->sock = -1;
	/* Closing its socket is the order to stop: it kills what it still
	 * runs and waits for it, so nothing of it outlives this wait. */
	while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR)
		;
	log_debug("jobs", "zygote %d stopped", (int)z->pid);
	z->pid = 0;
}

/* ------------------------------------------------------------ the zygote */

/* The children a zygote runs; its runner never asks for more at once
 * than it has slots (the workers setting, at most 64). */
#define MAX_CHILDREN 128

struct child {
	pid_t pid; /* 0: free */
	uint64_t token;
};

struct zyg {
	int sock, sigfd;
	pid_t self;
	const char *data_dir;
	const struct sandbox_limits *limits;
	char **argv; /* to show each child's clip in ps (see retitle) */
	int argc;
	struct child kids[MAX_CHILDREN];
};

/*
 * Make a child's command line read `worker --data DIR --clip ID`, as a
 * worker started on its own does, so that ps and whoever looks for a
 * clip's worker see which clip it is.  The text of argv lies in one block
 * of memory the kernel shows as /proc/PID/cmdline; it is rewritten in
 * place, never longer than it was, the rest cleared.  Nothing is done
 * when the strings are not laid out that way.
 */
static void retitle(char **argv, int argc, const char *data_dir, int64_t clip)
{
	if (argc < 1)
		return;
	char *start = argv[0], *end = argv[0];
	for (int i = 0; i < argc; i++) {
		if (argv[i] != end)
			return;
		end = argv[i] + strlen(argv[i]) + 1;
	}
	char id[24];
	snprintf(id, sizeof id, "%lld", (long long)clip);
	const char *parts[] = {"worker", "--data", data_dir, "--clip", id};
	size_t need = 0;
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		need += strlen(parts[i]) + 1;
	if (need > (size_t)(end - start))
		return;
	char *p = start;
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		size_t n = strlen(parts[i]) + 1;
		memmove(p, parts[i], n);
		p += n;
	}
	memset(p, 0, (size_t)(end - p));
}

/* In the child, right after fork: become a worker for clip, writing to
 * report.  Never returns. */
static void child_main(struct zyg *z, int report, int64_t clip, int threads, uint32_t flags)
{
	transcribe_want(flags & ZYGOTE_TRANSCRIBE); /* issue 15: transcription */
	/* The zygote's own signal handling is not the worker's. */
	sigset_t none;
	sigemptyset(&none);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Die with the zygote, as the zygote dies with its runner. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != z->self)
		_exit(1);
	if (dup2(report, STDOUT_FILENO) < 0)
		_exit(1);
	/* Nothing of the zygote's stays open in a worker: its socket to the
	 * runner least of all. */
	if (close_range(STDERR_FILENO + 1, ~0U, 0) < 0)
		for (int fd = STDERR_FILENO + 1; fd < 1024; fd++)
			close(fd);
	retitle(z->argv, z->argc, z->data_dir, clip);
	char err[KD_ERRMSG_MAX] = "";
	int rc = jobs_worker_run(z->data_dir, clip, z->limits, threads, err, sizeof err);
	if (rc < 0)
		log_error("worker", "clip %lld: %s", (long long)clip, err[0] ? err : kd_strerror(rc));
	fflush(stdout);
	fflush(stderr);
	/* _exit: the zygote's exit handlers are not the worker's to run. */
	_exit(rc < 0 ? 1 : 0);
}

static struct child *find_child(struct zyg *z, uint64_t token)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (z->kids[i].pid && z->kids[i].token == token)
			return &z->kids[i];
	return NULL;
}

/* Tell the runner; a runner that cannot be told is gone. */
static int tell(struct zyg *z, uint32_t type, uint64_t token, pid_t pid, int status)
{
	struct zygote_msg m = {.type = type, .token = token, .pid = pid, .status = status};
	return send_msg(z->sock, &m, -1);
}

static int run(struct zyg *z, const struct zygote_msg *m, int report)
{
	struct child *slot = NULL;
	for (int i = 0; i < MAX_CHILDREN && !slot; i++)
		if (!z->kids[i].pid)
			slot = &z->kids[i];
	if (report < 0 || !slot) {
		if (report >= 0)
			close(report);
		return tell(z, ZYGOTE_FAILED, m->token, 0, report < 0 ? EBADF : EAGAIN);
	}
	pid_t pid = fork();
	if (pid == 0)
		child_main(z, report, m->clip, m->threads, m->flags);
	int e = errno;
	close(report);
	if (pid < 0) {
		log_error("jobs", "cannot start a worker for clip %lld: %s", (long long)m->clip,
		          strerror(e));
		return tell(z, ZYGOTE_FAILED, m->token, 0, e);
	}
	slot->pid = pid;
	slot->token = m->token;
	return tell(z, ZYGOTE_STARTED, m->token, pid, 0);
}

/* An order from the runner: 0, or KD_EIO when the runner is gone. */
static int order(struct zyg *z)
{
	struct zygote_msg m;
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
	                    .msg_controllen = sizeof u.buf};
	ssize_t n;
	while ((n = recvmsg(z->sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return KD_EIO;
	int fd = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int got[4] = {-1, -1, -1, -1};
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(got, CMSG_DATA(c), (k > 4 ? 4 : k) * sizeof(int));
			for (size_t i = 0; i < k && i < 4; i++) {
				if (fd < 0)
					fd = got[i];
				else
					close(got[i]);
			}
		}
	if (n != (ssize_t)sizeof m || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (fd >= 0)
			close(fd);
		return KD_EIO; /* not our runner talking */
	}
	if (m.type == ZYGOTE_RUN)
		return run(z, &m, fd);
	if (fd >= 0)
		close(fd);
	if (m.type == ZYGOTE_KILL) {
		struct child *c = find_child(z, m.token);
		if (c) /* not yet reaped, so the pid is still that child's */
			kill(c->pid, SIGKILL);
		return 0;
	}
	return KD_EIO;
}

/* Collect the children that ended and say so. */
static int reap(struct zyg *z)
{
	int status, rc = 0;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_CHILDREN; i++) {
			if (z->kids[i].pid != pid)
				continue;
			z->kids[i].pid = 0;
			if (rc == 0)
				rc = tell(z, ZYGOTE_EXITED, z->kids[i].token, pid, status);
		}
	}
	return rc;
}

int jobs_zygote_main(int sock, const char *data_dir, const struct sandbox_limits *limits,
                     char **argv, int argc)
{
	struct zyg *z = kd_calloc(1, sizeof *z);
	z->sock = sock;
	z->self = getpid();
	z->data_dir = data_dir;
	z->limits = limits;
	z->argv = argv;
	z->argc = argc;
	/* Children are heard of through a descriptor, so that one poll waits
	 * for them and for the runner alike. */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	z->sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (z->sigfd < 0) {
		log_error("jobs", "the worker zygote cannot watch its children: %s", strerror(errno));
		free(z);
		return KD_EIO;
	}
	/* What every child would otherwise set up for itself, once. */
	media_prepare();

	for (;;) {
		struct pollfd p[2] = {{.fd = z->sock, .events = POLLIN}, {.fd = z->sigfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;
			while (read(z->sigfd, &si, sizeof si) > 0)
				;
			if (reap(z) < 0)
				break;
		}
		if (p[0].revents && order(z) < 0)
			break;
	}
	/* The runner is gone or stopping: so is every worker. */
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (z->kids[i].pid)
			kill(z->kids[i].pid, SIGKILL);
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (z->kids[i].pid)
			while (waitpid(z->kids[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
	close(z->sigfd);
	free(z);
	return 0;
}
