/* cli_catalogue_admin.c - schools and practices changed at the shell (see
 * cli_catalogue_admin.h): the same catalogue.h calls as /admin/schools
 * and /admin/practices, so the same checks and messages.  A running
 * server sees each change on its next request (its caches follow the
 * catalogue, whichever process writes). */
#include "cli_catalogue_admin.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "kindling/catalogue.h"
#include "kindling/cli.h"
#include "kindling/config.h"
#include "kindling/db.h"
#include "kindling/err.h"

/* The options every verb here takes, parsed from argv (argv[0] the verb):
 * the positional arguments are left at argv[optind...]. */
struct opts {
	const char *data, *name, *district;
	bool dry_run;
};

enum { OPT_DATA = 1000, OPT_NAME, OPT_DISTRICT, OPT_DRY_RUN };

static int parse(int argc, char **argv, struct opts *o, bool school_set, bool merge)
{
	const struct option all[] = {
		{"data", required_argument, NULL, OPT_DATA},
		{"name", required_argument, NULL, OPT_NAME},
		{"district", required_argument, NULL, OPT_DISTRICT},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{0},
	};
	memset(o, 0, sizeof *o);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", all, NULL)) != -1) {
		switch (c) {
		case OPT_DATA: o->data = optarg; break;
		case OPT_NAME:
			if (!school_set)
				return -1;
			o->name = optarg;
			break;
		case OPT_DISTRICT:
			if (!school_set)
				return -1;
			o->district = optarg;
			break;
		case OPT_DRY_RUN:
			if (!merge)
				return -1;
			o->dry_run = true;
			break;
		default: return -1;
		}
	}
	return 0;
}

static int usage_error(const char *usage)
{
	cli_fail("usage: kindling %s", usage);
	return 2;
}

/* -1 unless argv[1] asks for help (then the usage, and 0). */
static int help(int argc, char **argv, const char *usage)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: kindling %s\n", usage);
		return 0;
	}
	return -1;
}

int cli_school_admin(int argc, char **argv)
{
	int rc = help(argc, argv, CLI_SCHOOL_USAGE);
	if (rc >= 0)
		return rc;
	if (argc < 2 || strcmp(argv[1], "set"))
		return cli_school(argc, argv);
	argc--;
	argv++;
	struct opts o;
	if (parse(argc, argv, &o, true, false) < 0 || argc - optind != 1)
		return usage_error(CLI_SCHOOL_USAGE);
	if (!o.name && !o.district) {
		cli_fail("say what to change: --name NAME, --district TEXT, or both");
		return 2;
	}
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(o.data, &cfg, &db) != 0)
		return 1;
	char err[KD_ERRMSG_MAX] = "";
	const char *slug = argv[optind];
	rc = cat_school_edit(db, slug, o.name, o.district, err, sizeof err);
	if (rc == 0) {
		struct cat_school *s = NULL;
		if (cat_school_get(db, slug, &s) == 0) {
			printf("school %s: %s (%s)\n", s->slug, s->name,
			       *s->district ? s->district : "no district");
			cat_schools_free(s, 1);
		}
	} else {
		cli_fail("%s", err);
	}
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

/* The verbs of `practice` beyond add: how many arguments each takes. */
static const struct {
	const char *verb;
	int args;
} VERBS[] = {
	{"rename", 2}, {"describe", 2}, {"retire", 1}, {"unretire", 1}, {"merge", 2},
};

static int practice_verb(struct kd_db *db, const char *verb, char **args, bool dry_run)
{
	char err[KD_ERRMSG_MAX] = "";
	int rc;
	if (!strcmp(verb, "rename") || !strcmp(verb, "describe")) {
		bool rename = !strcmp(verb, "rename");
		rc = cat_practice_edit(db, args[0], rename ? args[1] : NULL, rename ? NULL : args[1],
		                       err, sizeof err);
		if (rc == 0)
			printf("practice %s %s\n", args[0], rename ? "renamed" : "described");
	} else if (!strcmp(verb, "retire") || !strcmp(verb, "unretire")) {
		bool retire = !strcmp(verb, "retire");
		rc = cat_practice_retire(db, args[0], retire, err, sizeof err);
		if (rc == 0)
			printf(retire ? "practice %s retired: its clips keep it; new clips may not "
			                "take it\n"
			              : "practice %s back in use\n",
			       args[0]);
	} else {
		struct cat_practice_merge m;
		rc = dry_run ? cat_practice_merge_plan(db, args[0], args[1], &m, err, sizeof err)
		             : cat_practice_merge(db, args[0], args[1], &m, err, sizeof err);
		if (rc == 0)
			printf("%s %s into %s: %lld clip%s move%s (%lld had both already), %lld "
			       "visit%s; %s\n",
			       dry_run ? "merging" : "merged", args[0], args[1], (long long)m.moved,
			       m.moved == 1 ? "" : "s", dry_run ? "" : "d", (long long)m.already,
			       (long long)m.visits, m.visits == 1 ? "" : "s",
			       dry_run ? "nothing changed (--dry-run)" : "the practice is gone");
	}
	if (rc < 0)
		cli_fail("%s", err);
	return rc == 0 ? 0 : 1;
}

int cli_practice_admin(int argc, char **argv)
{
	int rc = help(argc, argv, CLI_PRACTICE_USAGE);
	if (rc >= 0)
		return rc;
	size_t v = 0;
	while (argc >= 2 && v < sizeof VERBS / sizeof *VERBS && strcmp(argv[1], VERBS[v].verb))
		v++;
	if (argc < 2 || v == sizeof VERBS / sizeof *VERBS)
		return cli_practice(argc, argv);
	argc--;
	argv++;
	struct opts o;
	if (parse(argc, argv, &o, false, !strcmp(VERBS[v].verb, "merge")) < 0 ||
	    argc - optind != VERBS[v].args)
		return usage_error(CLI_PRACTICE_USAGE);
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(o.data, &cfg, &db) != 0)
		return 1;
	rc = practice_verb(db, VERBS[v].verb, argv + optind, o.dry_run);
	db_close(&db);
	kd_config_free(&cfg);
	return rc;
}
