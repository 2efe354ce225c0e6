/*
 * transcribe.h - automatic captions (issue 15, H4): the transcribe_command
 * setting, run on a clip's sound.  Private to src/jobs/.
 *
 * The worker (worker.c) cannot start a program: its system-call filter
 * ends it if it tries.  So before it enters its sandbox, a worker whose
 * clip is to be transcribed forks a transcriber, which waits.  Once the
 * clip's media are made, the worker (in its sandbox) writes the sound as a
 * 16 kHz mono WAV into the clip's folder (media_make_wav) and tells the
 * transcriber to go.  The transcriber runs the command in a sandbox of its
 * own, as tight as a program that must be started allows:
 *   - new user, PID and network namespaces where the kernel lets an
 *     unprivileged process have them: no network at all, and no process
 *     outside to signal; when the PID namespace's first process ends (the
 *     command's shell, or killed past its time), everything it started
 *     ends too;
 *   - the worker's limits: memory, CPU seconds (the time allowed), file
 *     size, open files, no core; no_new_privs;
 *   - Landlock: it reads and runs files only under /usr, /bin, /sbin, /lib*,
 *     /opt and the command's own folder (plus a few files such as
 *     /etc/ld.so.cache and /dev/null), and reads and writes only the clip's
 *     folder: not the catalogue, not the configuration, not other clips;
 *   - seccomp: no tracing, mounting, modules, keys, namespaces; no sockets
 *     but local ones; no signals at all when there is no PID namespace;
 *   - an environment of its own (PATH, HOME and TMPDIR = the clip's
 *     folder, LANG): none of the server's (its secrets);
 *   - a wall-clock limit (transcribe_timeout), after which it is killed.
 * Its standard output is read by the worker, at most CAPTIONS_BYTES_MAX,
 * and written to the clip's folder (TRANSCRIBE_OUTPUT); its standard error
 * is kept (its last line) for the log.  The worker reports "transcript":
 * true, or why not; nothing of this fails the clip.
 *
 * The runner (runner.c) then checks the output with captions_parse against
 * the clip's duration and, when the clip still has no captions, records it
 * as automatic captions and stores captions.vtt with the clip's other
 * files (transcribe_take).  Uploaded captions win.
 */
#ifndef KINDLING_JOBS_TRANSCRIBE_H
#define KINDLING_JOBS_TRANSCRIBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kindling/captions.h"
#include "kindling/config.h"
#include "kindling/jobs.h"
#include "kindling/sandbox.h"

struct kd_db; /* db.h */

/* In a clip's folder: the sound handed to the command, and what it printed. */
#define TRANSCRIBE_WAV "transcribe.wav"
#define TRANSCRIBE_OUTPUT "transcript.vtt"

/* ------------------------------------------------------------ the worker's side */

/* What a worker process transcribes with (cli_worker.c, from the flags
 * its runner gave the zygote): command NULL for none. */
void transcribe_configure(const char *command, unsigned timeout_s);
/* Whether this worker's clip is to be transcribed (its runner says so:
 * it has no captions).  Set in the worker before jobs_worker_run. */
void transcribe_want(bool yes);

struct transcriber {
	pid_t pid;       /* 0: none */
	int go;          /* write a byte: run; close: do not */
	int out, err;    /* the command's standard output and error */
	int status;      /* how the command ended (struct in transcribe.c) */
};

/* Before the worker's sandbox, when this clip is to be transcribed:
 * start the transcriber for the clip's folder dir, under limits.  0 (t->pid
 * 0 when there is nothing to transcribe with), or KD_EIO (logged; the clip
 * is processed without transcription). */
int transcribe_fork(const char *dir, const struct sandbox_limits *limits, struct transcriber *t);

/* In the sandbox, once the clip's media are made: the WAV from original
 * (at most duration_s seconds when known), the command run on it, its
 * output written to TRANSCRIBE_OUTPUT in dir; r->transcript or
 * r->transcribe_error say how it went.  has_sound false, or a clip that
 * failed: nothing is run.  Always ends the transcriber. */
void transcribe_clip(struct transcriber *t, bool run, const char *original, const char *dir,
                     double duration_s, struct jobs_result *r);

/* The command's process (transcribe_sandbox.c), forked by the transcriber:
 * its standard output out and error err, its sandbox (isolated: in
 * namespaces of its own), then /bin/sh -c "command WAV".  Never returns. */
void transcribe_command_main(int out, int err, const char *dir, const char *command,
                             unsigned timeout_s, const struct sandbox_limits *l, bool isolated);

/* ------------------------------------------------------------ the runner's side */

/* Whether clip is to be transcribed: a command is set and the clip has no
 * captions (clips.captions is 'none'). */
bool transcribe_wanted(struct kd_db *db, const struct jobs_limits *l, int64_t clip);

/* A worker reported a transcript for clip (ready, duration_s long): check
 * it, and when the clip still has no captions record them as automatic
 * (cat_captions_set) and write captions.vtt into the clip's folder, for
 * the storage to take with the other files.  Returns true when it did;
 * false when the output was refused, the clip has captions meanwhile, or
 * something failed (each logged: the clip stays as it is).  The raw
 * output is removed in every case. */
bool transcribe_take(struct kd_db *db, const char *data_dir, int64_t clip, double duration_s);
/* The clip's files could not be stored after transcribe_take: forget the
 * captions again (the job is retried, and transcribes again). */
void transcribe_undo(struct kd_db *db, int64_t clip);

#endif
