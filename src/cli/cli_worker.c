/* cli_worker.c - kindling worker: process one clip under resource limits.
 * Started by a job runner (src/jobs/runner.c), not by people. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/jobs.h"
#include "kindling/log.h"

static void limit(int resource, rlim_t value)
{
	struct rlimit rl = {value, value};
	if (setrlimit(resource, &rl) < 0)
		log_warn("worker", "cannot set resource limit %d", resource);
}

int cli_worker(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"clip", required_argument, NULL, 'c'},
		{"mem-mb", required_argument, NULL, 'm'},
		{"cpu-s", required_argument, NULL, 'u'},
		{0},
	};
	const char *data = NULL;
	long long clip = 0;
	unsigned long mem_mb = 4096, cpu_s = 3600;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'c': clip = strtoll(optarg, NULL, 10); break;
		case 'm': mem_mb = strtoul(optarg, NULL, 10); break;
		case 'u': cpu_s = strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (clip <= 0) {
		cli_fail("usage: kindling worker --data DIR --clip ID (started by the server)");
		return 2;
	}
	/* A hostile file may make a decoder allocate without end or spin: the
	 * kernel stops this process, never the server. */
#if defined(__SANITIZE_ADDRESS__)
	(void)mem_mb; /* ASan reserves terabytes of address space up front */
#else
	limit(RLIMIT_AS, (rlim_t)mem_mb << 20);
#endif
	limit(RLIMIT_CPU, (rlim_t)cpu_s);
	limit(RLIMIT_CORE, 0);
	struct kd_config cfg;
	sqlite3 *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0)
		return 1;
	char err[KD_ERRMSG_MAX] = "";
	int rc = jobs_process_clip(&cfg, db, clip, err, sizeof err);
	if (rc < 0)
		cli_fail("clip %lld: %s", clip, err);
	db_close(&db);
	kd_config_free(&cfg);
	return rc < 0 ? 1 : 0;
}
