/*
 * sandbox.h - what a processing worker is allowed once it has opened its
 * clip: a bug in any FFmpeg decoder, fed a hostile file, must reach nothing
 * but that clip.
 *
 * sandbox_enter() makes the calling process, for the rest of its life:
 *   - limited: address space, CPU seconds, file size, open files, no core;
 *   - unable to gain privileges (no_new_privs);
 *   - confined to its clip's folder for every file it opens, creates or
 *     removes (Landlock, where the kernel has it: Linux 5.13 and later);
 *   - unable to start a program or another process (only threads), to open
 *     a network socket, to signal any process but itself, to trace or to
 *     change mounts or namespaces (seccomp): such a call ends the process
 *     with SIGSYS.
 * It is applied in the worker before it reads a byte of the video.
 */
#ifndef KINDLING_SANDBOX_H
#define KINDLING_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sandbox_limits {
	uint64_t mem_mb;      /* address space; 0: none */
	unsigned cpu_s;       /* CPU seconds; 0: none */
	uint64_t file_mb;     /* largest file it may write; 0: none */
	unsigned open_files;  /* descriptors; 0: none */
};

/* Confine the process to folder (which it may read and write) under
 * limits.  Returns 0, or KD_EIO with err saying which part could not be
 * applied; *confined says whether the file system confinement is in force
 * (false on a kernel without Landlock: the rest still is). */
int sandbox_enter(const char *folder, const struct sandbox_limits *limits, bool *confined,
                  char *err, size_t errlen);

#endif
