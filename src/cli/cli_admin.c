/* cli_admin.c - kindling user add, school add, practice add. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/catalogue.h"
#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/users.h"

/* Every admin command is "<noun> add ..."; check and drop the verb. */
static int expect_add(int *argc, char ***argv, const char *usage)
{
	if (*argc < 2 || strcmp((*argv)[1], "add") != 0) {
		if (*argc >= 2 && (!strcmp((*argv)[1], "--help") || !strcmp((*argv)[1], "-h"))) {
			printf("usage: kindling %s\n", usage);
			return 0;
		}
		cli_fail("usage: kindling %s", usage);
		return 2;
	}
	(*argc)--;
	(*argv)++;
	return -1;
}

/* Read one line from standard input, without its newline. */
static char *read_password(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

int cli_user(int argc, char **argv)
{
	static const char usage[] = "user add --name NAME --role admin|coach|principal|teacher "
	                            "[--school SLUG] [--password-stdin] [--data DIR]";
	int rc = expect_add(&argc, &argv, usage);
	if (rc >= 0)
		return rc;
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'},
		{"school", required_argument, NULL, 's'},
		{"password-stdin", no_argument, NULL, 'p'},
		{"data", required_argument, NULL, 'd'},
		{0},
	};
	const char *name = NULL, *role_name = NULL, *school = NULL, *data = NULL;
	int want_password = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'r': role_name = optarg; break;
		case 's': school = optarg; break;
		case 'p': want_password = 1; break;
		case 'd': data = optarg; break;
		default: return 2;
		}
	}
	enum kd_role role;
	if (!name || !role_name || optind < argc) {
		cli_fail("usage: kindling %s", usage);
		return 2;
	}
	if (users_role_parse(role_name, &role) < 0) {
		cli_fail("unknown role '%s': use admin, coach, principal or teacher", role_name);
		return 2;
	}
	char *password = NULL;
	if (want_password && !(password = read_password())) {
		cli_fail("--password-stdin was given but standard input is empty; pipe the password "
		         "in, for example: echo 'secret words' | kindling user add ...");
		return 1;
	}
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0) {
		free(password);
		return 1;
	}
	char err[KD_ERRMSG_MAX] = "", token[USERS_TOKEN_MAX];
	int64_t id;
	rc = users_add(db, name, role, school, password, &id, err, sizeof err);
	free(password);
	if (rc == 0 && (rc = users_token_create(db, id, "created with user add", token)) < 0)
		snprintf(err, sizeof err, "the user was added but no token could be made: %s",
		         db_errmsg(db));
	if (rc == 0) {
		fprintf(stderr, "added %s '%s'%s%s (id %lld); their API token follows, shown once:\n",
		        role_name, name, school ? " of " : "", school ? school : "", (long long)id);
		printf("%s\n", token);
	} else {
		cli_fail("%s", err);
	}
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

/* school add / practice add share their shape: SLUG NAME and one option. */
static int add_named(int argc, char **argv, const char *what, const char *extra_opt,
                     int (*add)(struct kd_db *, const char *, const char *, const char *, char *,
                                size_t))
{
	char usage[128];
	snprintf(usage, sizeof usage, "%s add SLUG NAME [--%s TEXT] [--data DIR]", what, extra_opt);
	int rc = expect_add(&argc, &argv, usage);
	if (rc >= 0)
		return rc;
	const struct option opts[] = {
		{extra_opt, required_argument, NULL, 'x'},
		{"data", required_argument, NULL, 'd'},
		{0},
	};
	const char *data = NULL, *extra = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'x': extra = optarg; break;
		case 'd': data = optarg; break;
		default: return 2;
		}
	}
	if (argc - optind != 2) {
		cli_fail("usage: kindling %s", usage);
		return 2;
	}
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0)
		return 1;
	char err[KD_ERRMSG_MAX] = "";
	rc = add(db, argv[optind], argv[optind + 1], extra, err, sizeof err);
	if (rc == 0)
		printf("added %s %s (%s)\n", what, argv[optind], argv[optind + 1]);
	else
		cli_fail("%s", err);
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

int cli_school(int argc, char **argv)
{
	return add_named(argc, argv, "school", "district", cat_school_add);
}

int cli_practice(int argc, char **argv)
{
	return add_named(argc, argv, "practice", "description", cat_practice_add);
}
