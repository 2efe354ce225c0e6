/* transcribe_sandbox.c - the transcription command's process: its limits,
 * Landlock, system-call filter and environment, then the command (see
 * transcribe.h for what each part keeps it from).  It differs from the
 * worker's sandbox (sandbox.c) where a program must be started: it may
 * run programs (read-only, from the system's folders and the command's
 * own) and fork; it may not reach the network or, without a PID
 * namespace, signal anything. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/landlock.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jobs/transcribe.h"

/* A program may not have more. */
#define COMMAND_OPEN_FILES 256

/* Say why on the standard error (the worker reads it) and end. */
static void die(const char *what)
{
	dprintf(STDERR_FILENO, "kindling: cannot sandbox the transcription command: %s: %s\n",
	        what, strerror(errno));
	_exit(126);
}

static void limit(int resource, uint64_t value, const char *what)
{
	struct rlimit rl = {(rlim_t)value, (rlim_t)value};
	if (setrlimit(resource, &rl) < 0)
		die(what);
}

#define FILE_RIGHTS                                                                              \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE)

/* Grant rights beneath path (a folder) or on it (a file), when it exists. */
static void grant(int ruleset, const char *path, uint64_t rights)
{
	struct landlock_path_beneath_attr b = {.allowed_access = rights};
	b.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (b.parent_fd < 0)
		return; /* not on this machine */
	struct stat st;
	if (fstat(b.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode))
		b.allowed_access &= FILE_RIGHTS;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &b, 0) < 0)
		die(path);
	close(b.parent_fd);
}

static void landlock(const char *dir, const char *command)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		dprintf(STDERR_FILENO, "kindling: this kernel has no Landlock; the transcription "
		        "command is limited and filtered but not confined to its files\n");
		return;
	}
	uint64_t all = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	               LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	               LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	               LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	               LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	               LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	               LANDLOCK_ACCESS_FS_MAKE_SYM;
	uint64_t work = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
	                LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	                LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_DIR |
	                LANDLOCK_ACCESS_FS_REMOVE_DIR;
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3) {
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
		work |= LANDLOCK_ACCESS_FS_TRUNCATE;
	}
#endif
	uint64_t run = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
	               LANDLOCK_ACCESS_FS_READ_DIR;
	struct landlock_ruleset_attr attr = {.handled_access_fs = all};
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (ruleset < 0)
		die("a Landlock rule set");
	/* Programs, their libraries and models: read and run, never write. */
	static const char *const system[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
	                                     "/libx32", "/opt", "/etc/ld.so.cache",
	                                     "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	                                     "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd",
	                                     "/etc/group", "/etc/alternatives", "/proc/cpuinfo",
	                                     "/proc/meminfo", "/sys/devices/system/cpu"};
	for (size_t i = 0; i < sizeof system / sizeof *system; i++)
		grant(ruleset, system[i], run);
	grant(ruleset, "/dev/null", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE);
	grant(ruleset, "/dev/zero", LANDLOCK_ACCESS_FS_READ_FILE);
	grant(ruleset, "/dev/urandom", LANDLOCK_ACCESS_FS_READ_FILE);
	/* The command's own folder (a wrapper script and what lies beside it),
	 * as written and where its links lead. */
	char first[PATH_MAX];
	size_t k = strcspn(command, " \t");
	if (command[0] == '/' && k < sizeof first) {
		memcpy(first, command, k);
		first[k] = '\0';
		char real[PATH_MAX];
		if (realpath(first, real))
			grant(ruleset, dirname(real), run);
		grant(ruleset, dirname(first), run);
	}
	grant(ruleset, dir, work);
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		die("Landlock");
	close(ruleset);
}

static void syscall_filter(bool isolated)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		die("a system-call filter");
	static const int killed[] = {
		SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
		SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
		SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(kexec_load), SCMP_SYS(init_module),
		SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(bpf),
		SCMP_SYS(perf_event_open), SCMP_SYS(keyctl), SCMP_SYS(add_key),
		SCMP_SYS(request_key), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
		SCMP_SYS(accept), SCMP_SYS(accept4),
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof killed / sizeof *killed && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, killed[i], 0);
	/* Local sockets only (a library's own pipes); nothing that reaches a
	 * network, even where there is no network namespace. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(socket), 1,
		                      SCMP_A0(SCMP_CMP_NE, AF_UNIX));
	/* Processes and threads, but no namespaces of their own. */
	static const unsigned long ns[] = {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
	                                   CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP};
	for (size_t i = 0; i < sizeof ns / sizeof *ns && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
		                      SCMP_A0(SCMP_CMP_MASKED_EQ, ns[i], ns[i]));
	/* clone3's flags are in memory a filter cannot read: the C library
	 * falls back to clone. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* Without a PID namespace every process of the server's user could be
	 * signalled: no signals at all then (the kernel's own still come). */
	static const int signalling[] = {SCMP_SYS(kill), SCMP_SYS(tkill), SCMP_SYS(tgkill),
	                                 SCMP_SYS(rt_sigqueueinfo), SCMP_SYS(rt_tgsigqueueinfo),
	                                 SCMP_SYS(pidfd_open), SCMP_SYS(pidfd_send_signal)};
	for (size_t i = 0; !isolated && i < sizeof signalling / sizeof *signalling && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), signalling[i], 0);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		die("the system-call filter");
	}
}

void transcribe_command_main(int out, int err, const char *dir, const char *command,
                             unsigned timeout_s, const struct sandbox_limits *l, bool isolated)
{
	/* Dies with the transcriber, which dies with the worker. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!isolated)
		setpgid(0, 0); /* so that its time's end reaches all it started */
	if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
		_exit(126);
	if (close_range(STDERR_FILENO + 1, ~0U, 0) < 0)
		for (int fd = STDERR_FILENO + 1; fd < 1024; fd++)
			close(fd);
	if (chdir(dir) < 0)
		die(dir);
	char wav[PATH_MAX], home[PATH_MAX + 8], tmp[PATH_MAX + 8];
	snprintf(wav, sizeof wav, "%s/" TRANSCRIBE_WAV, dir);
	snprintf(home, sizeof home, "HOME=%s", dir);
	snprintf(tmp, sizeof tmp, "TMPDIR=%s", dir);
	size_t len = strlen(command) + 8;
	char *line = malloc(len);
	if (!line)
		_exit(126);
	/* The WAV's path is the command's last argument. */
	snprintf(line, len, "%s \"$1\"", command);
	limit(RLIMIT_CORE, 0, "core dumps");
#if !defined(__SANITIZE_ADDRESS__)
	if (l->mem_mb)
		limit(RLIMIT_AS, l->mem_mb << 20, "memory");
#endif
	/* Its time on every core: the wall clock (the transcriber's) is the
	 * limit that counts, this one only stops a process that escapes it. */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	limit(RLIMIT_CPU, (uint64_t)timeout_s * (uint64_t)(cores > 0 ? cores : 1) + 1, "CPU time");
	if (l->file_mb)
		limit(RLIMIT_FSIZE, l->file_mb << 20, "file size");
	limit(RLIMIT_NOFILE, COMMAND_OPEN_FILES, "open files");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("no_new_privs");
	landlock(dir, command);
	syscall_filter(isolated);
	/* None of the server's environment: its secrets stay there. */
	char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", home, tmp, "LANG=C.UTF-8",
	               "LC_ALL=C.UTF-8", NULL};
	char *argv[] = {"sh", "-c", line, "sh", wav, NULL};
	execve("/bin/sh", argv, env);
	die("/bin/sh");
}
