/*
 * cli.h - the kindling subcommands.  Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit status:
 * 0 for success, 1 for a failure the message explains, 2 for a usage error.
 * Messages for people go to standard error; results to standard output.
 */
#ifndef KINDLING_CLI_H
#define KINDLING_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/config.h"

struct kd_db; /* db.h */

int cli_serve(int argc, char **argv);
int cli_routes(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_school(int argc, char **argv);
int cli_practice(int argc, char **argv);
int cli_seed(int argc, char **argv);
int cli_ingest(int argc, char **argv);
int cli_worker(int argc, char **argv);
int cli_work(int argc, char **argv);
int cli_move_to(int argc, char **argv);
int cli_upload(int argc, char **argv);
int cli_summary(int argc, char **argv);
int cli_roster(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_audit(int argc, char **argv); /* issue 14: the audit trail (cli_audit.c) */
int cli_retention(int argc, char **argv); /* issue 14: clips past retention (cli_retention.c) */

/* Does a file name look like a video (by its extension)? */
bool cli_is_video_name(const char *name);

/* Files named on a command line: a file as it is, a folder as the video
 * files under it (sorted, hidden ones skipped). */
struct cli_files {
	char **paths;
	size_t n, cap;
};
/* Add path; prints why and returns -1 when it does not exist. */
int cli_collect_files(struct cli_files *l, const char *path);
void cli_files_free(struct cli_files *l);

/* A title made from a file name: no folder, no extension, '_' and '-' as
 * spaces.  The caller frees it. */
char *cli_title_from_name(const char *path);
/* "a, b,,c" -> {"a", "b", "c"}; free with cli_strings_free. */
char **cli_split_commas(const char *s, size_t *n);
void cli_strings_free(char **items, size_t n);


/* Load the configuration, create the data folder if needed and open the
 * catalogue (migrating it).  On failure prints why and returns 1; on
 * success the caller closes *db and frees cfg. */
int cli_open_catalogue(const char *data_flag, struct kd_config *cfg, struct kd_db **db);

/* Record in the audit trail (audit.h) what a command run on the server
 * did: nobody is signed in, so the entry names "command line (<unix
 * login>)" with user id 0.  A failure is said on standard error (the deed
 * is done) and returned (KD_EDB).  (cli_audit.c, issue 14) */
int cli_audit_record(struct kd_db *db, const char *action, int64_t clip_id, const char *target,
                     const char *detail);

/* Print "kindling: <message>" on standard error. */
void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
