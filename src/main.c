/* main.c - kindling: a catalogue of classroom-practice videos.
 * Dispatches to the subcommand; each lives in src/cli/. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_catalogue_admin.h"
#include "kindling/cli.h"
#include "kindling/db.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{"serve", cli_serve, "serve [--data DIR] [--listen HOST:PORT] [--no-processing]"},
	{"work", cli_work, "work [--data DIR]   (a processing node: process queued clips)"},
	{"move-to", cli_move_to, "move-to [--database postgresql://...] [--storage s3://BUCKET[/PREFIX] "
	                         "[--s3-endpoint URL] [--s3-region REGION]] [--data DIR]   (the "
	                         "catalogue into PostgreSQL, media into object storage)"},
	{"user", cli_user, "user add --name NAME --role admin|coach|principal|teacher "
	                   "[--school SLUG] [--email ADDR] [--full-name TEXT] [--password-stdin] "
	                   "[--data DIR]\n"
	                   "  kindling user list [--school SLUG] [--role ROLE] [--disabled|--all] "
	                   "[--search TEXT] [--json] [--data DIR]\n"
	                   "  kindling user disable|enable NAME|EMAIL|ID [--data DIR]\n"
	                   "  kindling user set NAME|EMAIL|ID [--name N] [--email E] [--full-name F] "
	                   "[--role R] [--school SLUG|--no-school] [--password-stdin|--no-password] "
	                   "[--data DIR]"},
	{"token", cli_token, "token add --user NAME|EMAIL|ID [--name LABEL] "
	                     "[--expires DAYS|YYYY-MM-DD] [--data DIR]   (prints the token last)\n"
	                     "  kindling token list [--user NAME|EMAIL|ID] [--json] [--data DIR]\n"
	                     "  kindling token revoke ID [--data DIR]"},
	{"school", cli_school_admin, CLI_SCHOOL_USAGE},
	{"practice", cli_practice_admin, CLI_PRACTICE_USAGE},
	{"upload", cli_upload, "upload [--server URL] [--token T] --school SLUG "
	                       "--practice SLUG[,SLUG...] [same metadata flags as ingest] "
	                       "[--manifest FILE.csv] [--limit-rate BYTES/S] [--dry-run] [--wait] "
	                       "[--json] FILE|DIR..."},
	{"ingest", cli_ingest, "ingest [--data DIR] --school SLUG --practice SLUG[,SLUG...] "
	                       "[--title T] [--teacher NAME] [--grade G] [--subject S] "
	                       "[--recorded YYYY-MM-DD] [--tag T]... [--consent on-file|pending] "
	                       "[--visibility district|school|private] [--wait] [--json] FILE|DIR..."},
	{"summary", cli_summary, "summary [--server URL] [--token T] --school SLUG [--from DATE] "
	                         "[--to DATE] [--format table|csv|json]"},
	{"roster", cli_roster, "roster import [--data DIR] [--dry-run] [--disable-missing] [--json] PATH"},
	{"backup", cli_backup, "backup [--data DIR] DEST   (a checked copy of the data folder while "
	                       "the server runs)"},
	{"check", cli_check, "check [--repair] [--json] [--data DIR]   (every clip's files and "
	                     "SHA-256; --repair requeues and removes orphans)"},
	{"audit", cli_audit, "audit [--data DIR] [--from DATE] [--to DATE] [--user NAME] [--clip ID] "
	                     "[--action WORD] [--format table|csv|json] [--limit N]   (the audit "
	                     "trail, oldest first)"},
	{"retention", cli_retention, "retention [--data DIR] [--apply] [--json]   (the clips past "
	                             "retention_months and those kept under legal hold; --apply "
	                             "deletes the former)"},
	{"routes", cli_routes, "routes   (the HTTP routes the server answers)"},
	{"seed", cli_seed, "seed [--data DIR] [--clips N]   (sample schools and synthetic clips)"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: kindling COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(out, "  kindling %s\n", commands[i].usage);
	fprintf(out, "\nThe data folder defaults to ./kindling-data (or KINDLING_DATA).\n");
}

int main(int argc, char **argv)
{
	db_global_init();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	/* Started by the server for each job; not for people, so not listed. */
	if (!strcmp(argv[1], "worker"))
		return cli_worker(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "kindling: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
