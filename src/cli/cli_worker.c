/* cli_worker.c - kindling worker: process clips inside a sandbox for the
 * runner that started it (src/jobs/runner.c).  Not for people.
 *
 *   kindling worker --data DIR --clip ID ...     one clip, then exit: its
 *       report on standard output;
 *   kindling worker --data DIR --zygote FD ...   what runners start: a
 *       process that forks one sandboxed worker per clip it is sent on the
 *       socket FD (src/jobs/zygote.c). */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "jobs/transcribe.h" /* issue 15: transcription */
#include "kindling/cli.h"
#include "kindling/err.h"
#include "kindling/jobs.h"
#include "kindling/sandbox.h"

/* Die with the runner: a worker nobody waits for must not write on. */
static int follow_parent(void)
{
	pid_t parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return KD_EIO;
	return getppid() == parent ? 0 : KD_EIO; /* it died before we asked */
}

int cli_worker(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"clip", required_argument, NULL, 'c'},
		{"zygote", required_argument, NULL, 'z'},
		{"mem-mb", required_argument, NULL, 'm'},
		{"cpu-s", required_argument, NULL, 'u'},
		{"file-mb", required_argument, NULL, 'f'},
		/* issue 15: transcription (src/jobs/transcribe.h) */
		{"transcribe", required_argument, NULL, 't'},
		{"transcribe-s", required_argument, NULL, 's'},
		{0},
	};
	const char *data = NULL;
	long long clip = 0;
	int zygote = -1;
	struct sandbox_limits limits = {.mem_mb = 4096, .cpu_s = 3600, .open_files = 64};
	const char *transcribe = NULL; /* issue 15 */
	unsigned transcribe_s = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'c': clip = strtoll(optarg, NULL, 10); break;
		case 'z': zygote = (int)strtol(optarg, NULL, 10); break;
		case 'm': limits.mem_mb = strtoull(optarg, NULL, 10); break;
		case 'u': limits.cpu_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'f': limits.file_mb = strtoull(optarg, NULL, 10); break;
		case 't': transcribe = optarg; break;
		case 's': transcribe_s = (unsigned)strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (!data || (clip <= 0) == (zygote < 0) || (zygote >= 0 && zygote <= STDERR_FILENO)) {
		cli_fail("usage: kindling worker --data DIR --clip ID (started by the server)");
		return 2;
	}
	if (follow_parent() < 0)
		return 1;
	/* issue 15: a zygote's workers transcribe the clips their runner says;
	 * a worker started for one clip with --transcribe, its clip */
	transcribe_configure(transcribe, transcribe_s);
	transcribe_want(transcribe && zygote < 0);
	if (zygote >= 0)
		return jobs_zygote_main(zygote, data, &limits, argv, argc) < 0 ? 1 : 0;
	char err[KD_ERRMSG_MAX] = "";
	int rc = jobs_worker_run(data, clip, &limits, 2, err, sizeof err);
	if (rc < 0)
		cli_fail("clip %lld: %s", clip, err[0] ? err : kd_strerror(rc));
	return rc < 0 ? 1 : 0;
}
