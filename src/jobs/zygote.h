/*
 * zygote.h - the process that forks workers.  Private to src/jobs/.
 *
 * Starting a program per clip costs more than processing a short clip:
 * loading and relocating FFmpeg's libraries and everything they link to.
 * So a runner starts `kindling worker --zygote` (the same binary) once,
 * when it has work, and that process forks one child per clip.  Each child
 * is what a `kindling worker --clip` process is: it takes its limits,
 * no_new_privs, Landlock to its clip's folder and the seccomp filter
 * (which kills a process that forks: that is why the zygote itself cannot
 * carry it), processes its clip and writes its one-line report on its
 * standard output, a pipe the runner reads (see worker.c, runner.c).
 *
 * The zygote reads no byte of any video: it only takes orders from its
 * runner, over a socket pair of datagrams:
 *
 *   runner -> zygote   RUN token clip threads (the child's report pipe
 *                      attached)
 *                      KILL token      (past its time)
 *   zygote -> runner   STARTED token pid
 *                      EXITED token pid status   (a waitpid status)
 *                      FAILED token              (it could not fork)
 *
 * It dies with its runner (PR_SET_PDEATHSIG), its children with it; when
 * the runner closes its end, it kills the children it still has, waits
 * for them and exits.
 */
#ifndef KINDLING_JOBS_ZYGOTE_H
#define KINDLING_JOBS_ZYGOTE_H

#include <stdint.h>
#include <sys/types.h>

#include "kindling/jobs.h"

enum zygote_msg_type {
	ZYGOTE_RUN = 1,
	ZYGOTE_KILL,
	ZYGOTE_STARTED,
	ZYGOTE_EXITED,
	ZYGOTE_FAILED,
};

/* One datagram, either way. */
struct zygote_msg {
	uint32_t type;   /* enum zygote_msg_type */
	int32_t pid;     /* STARTED, EXITED */
	int32_t status;  /* EXITED: the waitpid status; FAILED: the errno */
	int32_t threads; /* RUN: threads per decoder and encoder */
	uint64_t token;  /* which RUN it is about */
	int64_t clip;    /* RUN */
	uint32_t flags;  /* RUN: ZYGOTE_TRANSCRIBE (issue 15) */
};

/* issue 15: transcription: the clip is to be transcribed (it has no captions). */
#define ZYGOTE_TRANSCRIBE 1u

/* The runner's side. */
struct zygote {
	pid_t pid;   /* 0: not running */
	int sock;
};

/* Start a zygote from bin for the clips of data_dir, its children under
 * these limits.  Returns 0 or KD_EIO (logged). */
int zygote_start(struct zygote *z, const char *bin, const char *data_dir,
                 const struct jobs_limits *limits, uint64_t file_mb);

/* Ask for clip to be processed in a new child whose standard output is
 * report (a pipe's write end; the caller still closes its own copy), with
 * up to threads threads per decoder and encoder, flags ZYGOTE_TRANSCRIBE
 * or 0.  Returns 0 or KD_EIO
 * when the zygote is gone. */
int zygote_run(struct zygote *z, uint64_t token, int64_t clip, int threads, int report,
               uint32_t flags);

/* Ask for the child of token to be killed.  Returns 0 or KD_EIO. */
int zygote_kill(struct zygote *z, uint64_t token);

/* The next message from the zygote, without waiting: 1 with *msg set, 0
 * when there is none yet, KD_EIO when the zygote is gone (its socket
 * closed or broken: call zygote_stop). */
int zygote_event(struct zygote *z, struct zygote_msg *msg);

/* Close the zygote's socket and wait for it to exit (it kills and waits
 * for its children first).  Harmless on a zygote not running. */
void zygote_stop(struct zygote *z);

#endif
