/* sandbox.c - limits, Landlock and seccomp for a worker (see sandbox.h). */
#define _GNU_SOURCE
#include "kindling/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kindling/err.h"

static int set_limit(int resource, uint64_t value, const char *what, char *err, size_t errlen)
{
	struct rlimit rl = {(rlim_t)value, (rlim_t)value};
	if (setrlimit(resource, &rl) == 0)
		return 0;
	snprintf(err, errlen, "cannot limit the worker's %s: %s", what, strerror(errno));
	return KD_EIO;
}

static int limits(const struct sandbox_limits *l, char *err, size_t errlen)
{
	int rc = set_limit(RLIMIT_CORE, 0, "core dumps", err, errlen);
#if !defined(__SANITIZE_ADDRESS__)
	/* (ASan reserves terabytes of address space up front.) */
	if (rc == 0 && l->mem_mb)
		rc = set_limit(RLIMIT_AS, l->mem_mb << 20, "memory", err, errlen);
#endif
	if (rc == 0 && l->cpu_s)
		rc = set_limit(RLIMIT_CPU, l->cpu_s, "CPU time", err, errlen);
	if (rc == 0 && l->file_mb)
		rc = set_limit(RLIMIT_FSIZE, l->file_mb << 20, "file size", err, errlen);
	if (rc == 0 && l->open_files)
		rc = set_limit(RLIMIT_NOFILE, l->open_files, "open files", err, errlen);
	return rc;
}

/* Landlock: every file access is handled, and only folder is granted. */
static int landlock(const char *folder, bool *confined, char *err, size_t errlen)
{
	*confined = false;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0; /* this kernel has none: the caller logs it */
	uint64_t all = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	               LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	               LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	               LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	               LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	               LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	               LANDLOCK_ACCESS_FS_MAKE_SYM;
	uint64_t allowed = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
	                   LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	                   LANDLOCK_ACCESS_FS_MAKE_REG;
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3) {
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
		allowed |= LANDLOCK_ACCESS_FS_TRUNCATE;
	}
#endif
	struct landlock_ruleset_attr attr = {.handled_access_fs = all};
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (ruleset < 0) {
		snprintf(err, errlen, "cannot make a Landlock rule set: %s", strerror(errno));
		return KD_EIO;
	}
	int rc = KD_EIO;
	struct landlock_path_beneath_attr beneath = {.allowed_access = allowed};
	beneath.parent_fd = open(folder, O_PATH | O_CLOEXEC | O_DIRECTORY);
	if (beneath.parent_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", folder, strerror(errno));
		goto out;
	}
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
		snprintf(err, errlen, "cannot confine the worker to %s: %s", folder, strerror(errno));
		goto out;
	}
	*confined = true;
	rc = 0;
out:
	if (beneath.parent_fd >= 0)
		close(beneath.parent_fd);
	close(ruleset);
	return rc;
}

/* seccomp: what a decoder has no business doing ends the process. */
static int syscall_filter(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(err, errlen, "cannot make a system-call filter");
		return KD_EIO;
	}
	static const int killed[] = {
		SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(fork), SCMP_SYS(vfork),
		SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
		SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
		SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(kexec_load), SCMP_SYS(init_module),
		SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(bpf),
		SCMP_SYS(perf_event_open), SCMP_SYS(keyctl), SCMP_SYS(add_key),
		SCMP_SYS(request_key), SCMP_SYS(socket), SCMP_SYS(socketpair), SCMP_SYS(connect),
		SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4),
		SCMP_SYS(personality), SCMP_SYS(setuid), SCMP_SYS(setgid),
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof killed / sizeof *killed && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, killed[i], 0);
	/* Threads (FFmpeg's, x264's) are clones that share the process; any
	 * other clone is a new process. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
		                      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	/* clone3 passes its flags in memory a filter cannot read: refused, so
	 * the C library falls back to clone. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* Signals for itself only (abort(), a thread stopping another): the
	 * server, the process the workers are forked from and the other
	 * workers run as the same user, and one killed would take the
	 * others' clips with it.  (kill(0) and kill(-1) reach a whole group.) */
	scmp_datum_t self = (scmp_datum_t)getpid();
	static const int signalling[] = {SCMP_SYS(kill), SCMP_SYS(tgkill),
	                                 SCMP_SYS(rt_sigqueueinfo), SCMP_SYS(rt_tgsigqueueinfo)};
	for (size_t i = 0; i < sizeof signalling / sizeof *signalling && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, signalling[i], 1,
		                      SCMP_A0(SCMP_CMP_NE, self));
	/* tkill names a thread without its process; pidfds reach any other. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(tkill), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(pidfd_open), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(pidfd_send_signal), 0);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		snprintf(err, errlen, "cannot install the system-call filter: %s", strerror(-rc));
		return KD_EIO;
	}
	return 0;
}

int sandbox_enter(const char *folder, const struct sandbox_limits *l, bool *confined,
                  char *err, size_t errlen)
{
	*confined = false;
	int rc = limits(l, err, errlen);
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		rc = KD_EIO;
	}
	if (rc == 0)
		rc = landlock(folder, confined, err, errlen);
	if (rc == 0)
		rc = syscall_filter(err, errlen);
	return rc;
}
