/*
 * cli.h - the kindling subcommands.  Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit status:
 * 0 for success, 1 for a failure the message explains, 2 for a usage error.
 * Messages for people go to standard error; results to standard output.
 */
#ifndef KINDLING_CLI_H
#define KINDLING_CLI_H

#include <sqlite3.h>
#include <stdbool.h>

#include "kindling/config.h"

int cli_serve(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_school(int argc, char **argv);
int cli_practice(int argc, char **argv);
int cli_seed(int argc, char **argv);
int cli_ingest(int argc, char **argv);
int cli_worker(int argc, char **argv);

/* Does a file name look like a video (by its extension)? */
bool cli_is_video_name(const char *name);


/* Load the configuration, create the data folder if needed and open the
 * catalogue (migrating it).  On failure prints why and returns 1; on
 * success the caller closes *db and frees cfg. */
int cli_open_catalogue(const char *data_flag, struct kd_config *cfg, sqlite3 **db);

/* Print "kindling: <message>" on standard error. */
void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
