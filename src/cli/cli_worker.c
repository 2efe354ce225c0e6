/* cli_worker.c - kindling worker: process one clip inside a sandbox and
 * report to the runner that started it (src/jobs/runner.c), on standard
 * output.  Not for people. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "kindling/cli.h"
#include "kindling/err.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
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
		{"mem-mb", required_argument, NULL, 'm'},
		{"cpu-s", required_argument, NULL, 'u'},
		{"file-mb", required_argument, NULL, 'f'},
		{0},
	};
	const char *data = NULL;
	long long clip = 0;
	struct sandbox_limits limits = {.mem_mb = 4096, .cpu_s = 3600, .open_files = 64};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'c': clip = strtoll(optarg, NULL, 10); break;
		case 'm': limits.mem_mb = strtoull(optarg, NULL, 10); break;
		case 'u': limits.cpu_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'f': limits.file_mb = strtoull(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (clip <= 0 || !data) {
		cli_fail("usage: kindling worker --data DIR --clip ID (started by the server)");
		return 2;
	}
	if (follow_parent() < 0)
		return 1;
	char *dir = paths_clip_dir(data, clip);
	char *original = paths_clip_file(data, clip, KD_FILE_ORIGINAL);
	/* A worker of an earlier run may still be writing this clip's files
	 * (its runner died a moment ago): wait for it rather than write
	 * beside it. */
	int lock = open(original, O_RDONLY | O_CLOEXEC);
	while (lock >= 0 && flock(lock, LOCK_EX) < 0 && errno == EINTR)
		;
	free(original);
	char err[KD_ERRMSG_MAX] = "";
	bool confined = false;
	struct jobs_result r;
	int rc = 0;
	if (lock < 0) {
		/* Nothing to open: a report, not a crash (which would be retried). */
		memset(&r, 0, sizeof r);
		r.status = CAT_FAILED;
		snprintf(r.error, sizeof r.error,
		         "the uploaded file is missing from the server; upload it again");
		char *line = jobs_result_json(&r);
		printf("%s\n", line ? line : "");
		free(line);
		free(dir);
		return 0;
	}
	rc = sandbox_enter(dir, &limits, &confined, err, sizeof err);
	if (rc == 0 && !confined)
		log_warn("worker", "clip %lld: this kernel has no Landlock; the worker is limited and "
		         "filtered but not confined to the clip's folder", clip);
	if (rc == 0)
		rc = jobs_process_clip(data, clip, &r, err, sizeof err);
	char *line = rc == 0 ? jobs_result_json(&r) : NULL;
	if (rc == 0 && (!line || printf("%s\n", line) < 0 || fflush(stdout) != 0))
		rc = KD_EIO;
	if (rc < 0)
		cli_fail("clip %lld: %s", clip, err[0] ? err : kd_strerror(rc));
	free(line);
	free(dir);
	close(lock);
	return rc < 0 ? 1 : 0;
}
