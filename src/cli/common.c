/* common.c - what every subcommand that opens the catalogue shares. */
#include <stdarg.h>
#include <stdio.h>

#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/outbox.h"
#include "kindling/users.h"

void cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("kindling: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int cli_open_catalogue(const char *data_flag, struct kd_config *cfg, struct kd_db **db)
{
	char err[KD_ERRMSG_MAX] = "";
	if (users_init() < 0) {
		cli_fail("cannot initialise libsodium");
		return 1;
	}
	if (kd_config_load(cfg, data_flag, NULL, err, sizeof err) < 0 ||
	    kd_config_prepare_data_dir(cfg, err, sizeof err) < 0 ||
	    db_open(cfg->db_path, db, err, sizeof err) < 0) {
		cli_fail("%s", err);
		kd_config_free(cfg);
		return 1;
	}
	outbox_set_enabled(cfg->smtp_url != NULL); /* issue 16: mail is queued only when sent */
	return 0;
}

