/* cli_serve.c - kindling serve: open the data folder and run the server;
 * kindling routes: what it answers. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mail.h"
#include "kindling/outbox.h"
#include "kindling/server.h"
#include "kindling/signals.h"
#include "kindling/users.h"

int cli_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"no-processing", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *data = NULL, *listen = NULL;
	bool process = true;
	int c;
	while ((c = getopt_long(argc, argv, "d:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'l': listen = optarg; break;
		case 'n': process = false; break;
		case 'h':
			printf("usage: kindling serve [--data DIR] [--listen HOST:PORT] "
			       "[--no-processing]\n");
			return 0;
		default: return 2;
		}
	}
	if (optind < argc) {
		cli_fail("serve takes no arguments besides --data, --listen and --no-processing "
		         "(got '%s')",
		         argv[optind]);
		return 2;
	}
	struct kd_config cfg;
	char err[KD_ERRMSG_MAX] = "";
	struct kd_db *db = NULL;
	if (users_init() < 0) {
		cli_fail("cannot initialise libsodium");
		return 1;
	}
	int rc = kd_config_load(&cfg, data, listen, err, sizeof err);
	if (rc == 0)
		rc = kd_config_prepare_data_dir(&cfg, err, sizeof err);
	/* Open once to create and migrate the catalogue; the server then opens
	 * its own pool of connections. */
	if (rc == 0 && (rc = db_open(cfg.db_path, &db, err, sizeof err)) == 0)
		db_close(&db);
	/* issue 16: mail.  Queued by every server with smtp_url; sent by the
	 * ones that process (a --no-processing web node leaves it to the
	 * `kindling work` nodes).  The stop signals are blocked first, as
	 * server_run does, so that the sender's thread inherits the mask. */
	struct mail_sender *sender = NULL;
	char *from = cfg.smtp_url && rc == 0 ? mail_address_of(cfg.mail_from) : NULL;
	if (rc == 0 && cfg.smtp_url && !from) {
		snprintf(err, sizeof err, "mail_from '%.100s' is not an address kindling can send "
		         "as: write kindling@district.org or kindling <kindling@district.org>",
		         cfg.mail_from);
		rc = KD_EINVAL;
	}
	free(from);
	if (rc == 0) {
		outbox_set_enabled(cfg.smtp_url != NULL);
		sigset_t stop;
		kd_block_stop_signals(&stop);
		if (process && mail_sender_start(&cfg, &sender) < 0)
			log_error("serve", "cannot start sending mail; it waits in the outbox until the "
			          "next start");
		else if (!process && cfg.smtp_url)
			log_info("serve", "mail is queued here and sent by the `kindling work` nodes");
	}
	if (rc == 0)
		rc = server_run(&cfg, process, err, sizeof err);
	mail_sender_stop(&sender);
	if (rc < 0)
		cli_fail("%s", err);
	kd_config_free(&cfg);
	return rc < 0 ? 1 : 0;
}

int cli_routes(int argc, char **argv)
{
	if (argc > 1) {
		if (strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))
			cli_fail("routes takes no arguments");
		printf("usage: kindling routes   (the HTTP routes: method, path, who, body bytes)\n");
		return strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? 2 : 0;
	}
	server_print_routes(stdout);
	return 0;
}
