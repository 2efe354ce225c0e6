/* cli_roster.c - kindling roster import: a district's OneRoster 1.1 export
 * (a folder or a .zip) into the catalogue (identity/roster.c does it). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/audit.h"
#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/roster.h"

static const char usage[] =
	"roster import [--data DIR] [--dry-run] [--disable-missing] [--json] PATH";

static void print_json(const struct roster_report *rep)
{
	json_t *j = roster_report_json(rep);
	char *s = json_dumps(j, JSON_COMPACT);
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(j);
}

int cli_roster(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: kindling %s\n\n"
		       "Imports a district's OneRoster 1.1 CSV export (the folder of manifest.csv,\n"
		       "orgs.csv and users.csv, or the .zip of them): schools from its orgs, accounts\n"
		       "for its teachers, aides and administrators.  Students, parents, guardians and\n"
		       "relatives are never imported.  A re-import changes only what changed.\n\n"
		       "  --dry-run          say what would change; write nothing\n"
		       "  --disable-missing  also disable roster accounts no longer in users.csv\n"
		       "  --json             print one JSON object instead of text\n",
		       usage);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "import") != 0) {
		cli_fail("usage: kindling %s", usage);
		return 2;
	}
	argc--;
	argv++;
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"dry-run", no_argument, NULL, 'n'},
		{"disable-missing", no_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *data = NULL;
	struct roster_opts ro = {0};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'n': ro.dry_run = true; break;
		case 'm': ro.disable_missing = true; break;
		case 'j': json = true; break;
		case 'h': printf("usage: kindling %s\n", usage); return 0;
		default: return 2;
		}
	}
	if (argc - optind != 1) {
		cli_fail("usage: kindling %s", usage);
		return 2;
	}
	const char *path = argv[optind];

	/* The files first: a refused file needs no catalogue. */
	struct roster_report *rep = roster_report_new();
	rep->dry_run = ro.dry_run;
	struct roster *r = NULL;
	int rc = roster_read_path(path, &r, rep);
	if (rc == 0) {
		struct kd_config cfg;
		struct kd_db *db;
		if (cli_open_catalogue(data, &cfg, &db) != 0) {
			roster_free(r);
			roster_report_free(rep);
			return 1;
		}
		rc = roster_apply(db, r, &ro, rep);
		if (rc == 0 && rep->applied && !rep->dry_run) {
			/* issue 14: the import's counts in the audit trail (the people
			 * it changed are in the report, not one entry each) */
			char detail[400];
			snprintf(detail, sizeof detail, "schools: %zu added, %zu changed, %ld unchanged; "
			         "people: %zu added, %zu changed, %zu disabled, %zu enabled, %zu kept, "
			         "%ld unchanged%s", rep->schools_added.n, rep->schools_changed.n,
			         rep->schools_unchanged, rep->added.n, rep->changed.n, rep->disabled.n,
			         rep->enabled.n, rep->kept.n, rep->unchanged,
			         ro.disable_missing ? " (--disable-missing)" : "");
			cli_audit_record(db, AUDIT_ROSTER, 0, rep->source ? rep->source : path, detail);
		}
		db_close(&db);
		kd_config_free(&cfg);
		roster_free(r);
	}
	if (json)
		print_json(rep);
	else
		roster_report_print(rc == 0 ? stdout : stderr, rep);
	roster_report_free(rep);
	return rc == 0 ? 0 : 1;
}
