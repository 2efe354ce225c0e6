/* cli_work.c - kindling work: a processing node.  It claims queued clips
 * from the catalogue it shares with the web nodes and processes them, in
 * the same isolated worker processes as `kindling serve`, up to `workers`
 * at a time on this machine; it serves nothing. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mail.h"
#include "kindling/outbox.h"
#include "kindling/signals.h"
#include "kindling/storage.h"

/* Seconds the clips being processed at a stop get to finish; the rest are
 * taken up again by another node (or this one at its next start). */
#define GRACE_SECONDS 10

/* The media storage answers with these settings, or err says why not. */
static int check_storage(const struct kd_config *cfg, char *err, size_t errlen)
{
	struct kd_storage *s = NULL;
	int rc = storage_open(&s, cfg, err, errlen);
	if (rc == 0)
		rc = storage_check(s, err, errlen);
	storage_close(&s);
	return rc;
}

int cli_work(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *data = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'h':
			printf("usage: kindling work [--data DIR]   (process queued clips; serve nothing)\n");
			return 0;
		default: return 2;
		}
	}
	if (optind < argc) {
		cli_fail("work takes no arguments besides --data (got '%s')", argv[optind]);
		return 2;
	}
	struct kd_config cfg;
	char err[KD_ERRMSG_MAX] = "";
	struct kd_db *db = NULL;
	int rc = kd_config_load(&cfg, data, NULL, err, sizeof err);
	if (rc == 0)
		rc = kd_config_prepare_data_dir(&cfg, err, sizeof err);
	if (rc == 0 && (rc = db_open(cfg.db_path, &db, err, sizeof err)) == 0)
		db_close(&db);
	if (rc == 0)
		rc = check_storage(&cfg, err, sizeof err);
	char *from = rc == 0 && cfg.smtp_url ? mail_address_of(cfg.mail_from) : NULL;
	if (rc == 0 && cfg.smtp_url && !from) { /* issue 16: mail */
		snprintf(err, sizeof err, "mail_from '%.100s' is not an address kindling can send "
		         "as: write kindling@district.org or kindling <kindling@district.org>",
		         cfg.mail_from);
		rc = KD_EINVAL;
	}
	free(from);
	if (rc < 0) {
		cli_fail("%s", err);
		kd_config_free(&cfg);
		return 1;
	}

	/* before the runner's threads start: they inherit the mask */
	sigset_t stop;
	kd_block_stop_signals(&stop);
	outbox_set_enabled(cfg.smtp_url != NULL); /* issue 16: mail */

	char *self = kd_self_exe();
	struct jobs_runner *runner = NULL;
	rc = jobs_runner_start(&cfg, self, NULL, &runner);
	free(self);
	if (rc < 0) {
		cli_fail("cannot start processing: %s (the log says more)", kd_strerror(rc));
		kd_config_free(&cfg);
		return 1;
	}
	/* issue 16: a processing node sends the outbox's mail too */
	struct mail_sender *sender = NULL;
	if (mail_sender_start(&cfg, &sender) < 0)
		log_error("work", "cannot start sending mail; it waits in the outbox until the next "
		          "start");
	log_info("work", "node %s processing the clips of %s with %d workers", cfg.node_name,
	         cfg.data_dir, cfg.workers);
	printf("kindling: node %s processing clips of %s\n", cfg.node_name, cfg.data_dir);
	fflush(stdout);
	int sig;
	while (sigwait(&stop, &sig) != 0)
		;
	log_info("work", "received %s, letting the clips in hand finish", strsignal(sig));
	jobs_runner_stop(&runner, GRACE_SECONDS);
	mail_sender_stop(&sender); /* issue 16 */
	log_info("work", "stopped cleanly");
	kd_config_free(&cfg);
	return 0;
}
