/* cli_admin.c - the district's lists at the shell: kindling user
 * add|list|disable|enable|set, token add|list|revoke, school add and
 * practice add.  People and credentials go through users.h and
 * accounts.h, which the pages use too. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "kindling/accounts.h"
#include "kindling/audit.h"
#include "kindling/catalogue.h"
#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/mem.h"
#include "kindling/users.h"

/* Every school and practice command is "<noun> add ..."; check and drop
 * the verb. */
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

static void forget_password(char *password)
{
	if (password) {
		sodium_memzero(password, strlen(password));
		free(password);
	}
}

static const char user_usage[] =
	"usage: kindling user add --name NAME --role admin|coach|principal|teacher "
	"[--school SLUG] [--email ADDR] [--full-name TEXT] [--password-stdin] [--data DIR]\n"
	"       kindling user list [--school SLUG] [--role ROLE] [--disabled|--all] "
	"[--search TEXT] [--json] [--data DIR]\n"
	"       kindling user disable|enable NAME|EMAIL|ID [--data DIR]\n"
	"       kindling user set NAME|EMAIL|ID [--name NAME] [--email ADDR|\"\"] "
	"[--full-name TEXT] [--role ROLE] [--school SLUG|--no-school] "
	"[--password-stdin|--no-password] [--data DIR]";

static const char token_usage[] =
	"usage: kindling token add --user NAME|EMAIL|ID [--name LABEL] "
	"[--expires DAYS|YYYY-MM-DD] [--data DIR]\n"
	"       kindling token list [--user NAME|EMAIL|ID] [--json] [--data DIR]\n"
	"       kindling token revoke ID [--data DIR]";

/* A usage error: the message, then the usage. */
static int usage_error(const char *usage, const char *why)
{
	if (why)
		cli_fail("%s", why);
	fprintf(stderr, "%s\n", usage);
	return 2;
}

static int parse_role(const char *name, enum kd_role *role)
{
	if (users_role_parse(name, role) == 0)
		return 0;
	cli_fail("unknown role '%s': use admin, coach, principal or teacher", name);
	return 2;
}

/* The account who names, or a message saying how to find one. */
static int find_person(struct kd_db *db, const char *who, struct acct_person *p)
{
	int rc = acct_person_find(db, who, p);
	if (rc == KD_ENOTFOUND)
		cli_fail("no account is named '%s' or has that e-mail address or id: 'kindling user "
		         "list --all' lists them ('--search TEXT' narrows the list)", who);
	else if (rc < 0)
		cli_fail("cannot read the accounts: %s", kd_strerror(rc));
	return rc;
}

/* A time as tables show it: "2026-01-02 10:11", or dash when none. */
static const char *when(const char *t, const char *dash, char *out, size_t len)
{
	if (!t || !*t)
		return dash;
	snprintf(out, len, "%.10s %.5s", t, strlen(t) > 11 ? t + 11 : "");
	return out;
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static int print_json(json_t *j)
{
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) == 0 ? 0 : 1;
	json_decref(j);
	printf("\n");
	return rc;
}

static int user_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'},
		{"school", required_argument, NULL, 's'},
		{"email", required_argument, NULL, 'e'},
		{"full-name", required_argument, NULL, 'f'},
		{"password-stdin", no_argument, NULL, 'p'},
		{"data", required_argument, NULL, 'd'},
		{0},
	};
	struct users_new n = {0};
	const char *role_name = NULL, *data = NULL;
	int want_password = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': n.name = optarg; break;
		case 'r': role_name = optarg; break;
		case 's': n.school = optarg; break;
		case 'e': n.email = optarg; break;
		case 'f': n.full_name = optarg; break;
		case 'p': want_password = 1; break;
		case 'd': data = optarg; break;
		default: return usage_error(user_usage, NULL);
		}
	}
	if (!n.name || !role_name || optind < argc)
		return usage_error(user_usage, "user add needs --name and --role");
	if (parse_role(role_name, &n.role) != 0)
		return 2;
	char *password = NULL;
	if (want_password && !(password = read_password())) {
		cli_fail("--password-stdin was given but standard input is empty; pipe the password "
		         "in, for example: echo 'secret words' | kindling user add ...");
		return 1;
	}
	n.password = password;
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0) {
		forget_password(password);
		return 1;
	}
	char err[KD_ERRMSG_MAX] = "", token[USERS_TOKEN_MAX];
	int64_t id, token_id = 0;
	int rc = users_create(db, &n, &id, err, sizeof err);
	forget_password(password);
	if (rc == 0) { /* issue 14: the audit trail */
		char detail[600];
		snprintf(detail, sizeof detail, "added: %s%s%s%s%s%s", role_name,
		         n.school ? " of " : "", n.school ? n.school : "",
		         n.email ? ", e-mail " : "", n.email ? n.email : "",
		         password ? ", with a password" : "");
		cli_audit_record(db, AUDIT_USER, 0, n.name, detail);
	}
	if (rc == 0 && (rc = users_token_issue(db, id, "made with user add", NULL, &token_id, token,
	                                       err, sizeof err)) < 0)
		snprintf(err, sizeof err, "the user was added but no token could be made: %s",
		         db_errmsg(db));
	if (rc == 0) { /* issue 14 */
		char words[300];
		audit_token_words(db, id, token_id, words, sizeof words);
		cli_audit_record(db, AUDIT_TOKEN_ADD, 0, words, "until revoked");
	}
	if (rc == 0) {
		fprintf(stderr, "added %s '%s'%s%s (id %lld); their API token follows, shown once:\n",
		        role_name, n.name, n.school ? " of " : "", n.school ? n.school : "",
		        (long long)id);
		printf("%s\n", token);
		sodium_memzero(token, sizeof token);
	} else {
		cli_fail("%s", err);
	}
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

static json_t *person_json(const struct acct_person *p)
{
	return json_pack("{sI ss so ss ss so ss so so so ss so so}", "id", (json_int_t)p->id,
	                 "name", p->name, "email", str_or_null(p->email), "full_name",
	                 p->full_name, "role", users_role_name(p->role), "school",
	                 str_or_null(p->school), "status", p->disabled ? "disabled" : "enabled",
	                 "disabled_at", str_or_null(p->disabled_at), "password",
	                 json_boolean(p->has_password), "last_seen", str_or_null(p->last_seen),
	                 "role_by", p->role_by_roster ? "roster" : "kindling", "created_at",
	                 str_or_null(p->created_at), "from_roster", json_boolean(p->from_roster));
}

static void print_people(const struct acct_person *ps, size_t n)
{
	int wn = 4, we = 6, ws = 6;
	for (size_t i = 0; i < n; i++) {
		int a = (int)strlen(ps[i].name), b = (int)strlen(ps[i].email),
		    c = (int)strlen(ps[i].school);
		wn = a > wn ? a : wn;
		we = b > we ? b : we;
		ws = c > ws ? c : ws;
	}
	printf("%6s  %-*s  %-*s  %-9s  %-*s  %-8s  %s\n", "ID", wn, "NAME", we, "E-MAIL", "ROLE",
	       ws, "SCHOOL", "STATUS", "LAST SIGN-IN");
	for (size_t i = 0; i < n; i++) {
		const struct acct_person *p = &ps[i];
		char t[32];
		printf("%6lld  %-*s  %-*s  %-9s  %-*s  %-8s  %s\n", (long long)p->id, wn, p->name, we,
		       *p->email ? p->email : "-", users_role_name(p->role), ws,
		       *p->school ? p->school : "-", p->disabled ? "disabled" : "enabled",
		       when(p->last_seen, "never", t, sizeof t));
	}
}

static int user_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"school", required_argument, NULL, 's'},
		{"role", required_argument, NULL, 'r'},
		{"disabled", no_argument, NULL, 'x'},
		{"all", no_argument, NULL, 'a'},
		{"search", required_argument, NULL, 'q'},
		{"json", no_argument, NULL, 'j'},
		{"data", required_argument, NULL, 'd'},
		{0},
	};
	struct acct_query q = {.role = -1, .status = ACCT_ENABLED, .page = 1,
	                       .per_page = ACCT_PER_PAGE_MAX};
	const char *data = NULL;
	bool json = false, disabled = false, all = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': q.school = optarg; break;
		case 'r': {
			enum kd_role role;
			if (parse_role(optarg, &role) != 0)
				return 2;
			q.role = (int)role;
			break;
		}
		case 'x': disabled = true; break;
		case 'a': all = true; break;
		case 'q': q.search = optarg; break;
		case 'j': json = true; break;
		case 'd': data = optarg; break;
		default: return usage_error(user_usage, NULL);
		}
	}
	if (optind < argc)
		return usage_error(user_usage, "user list takes no arguments but its options");
	if (disabled && all)
		return usage_error(user_usage, "give --disabled or --all, not both");
	q.status = all ? ACCT_ANY : disabled ? ACCT_DISABLED : ACCT_ENABLED;
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0)
		return 1;
	int rc = 0;
	if (q.school && *q.school) {
		int64_t school_id;
		if ((rc = cat_school_id(db, q.school, &school_id)) == KD_ENOTFOUND)
			cli_fail("no school with slug '%s'", q.school);
	}
	struct acct_person *all_people = NULL;
	size_t n = 0;
	int64_t total = 0;
	/* a page at a time: a district's thousands of staff in few queries */
	while (rc == 0) {
		struct acct_person *ps;
		size_t got;
		if ((rc = acct_people_list(db, &q, &ps, &got, &total)) < 0) {
			cli_fail("cannot list the accounts: %s", kd_strerror(rc));
			break;
		}
		all_people = kd_realloc(all_people, (n + got + 1) * sizeof *all_people);
		memcpy(all_people + n, ps, got * sizeof *ps);
		n += got;
		acct_free(ps);
		if (got < (size_t)q.per_page || (int64_t)n >= total)
			break;
		q.page++;
	}
	if (rc == 0 && json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, person_json(&all_people[i]));
		rc = print_json(arr) == 0 ? 0 : KD_EIO;
	} else if (rc == 0) {
		if (n)
			print_people(all_people, n);
		fprintf(stderr, "%zu account%s%s\n", n, n == 1 ? "" : "s",
		        q.status == ACCT_ENABLED ? " (enabled; --all shows disabled ones too)" : "");
	}
	free(all_people);
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

/* user disable / user enable WHO */
static int user_switch(int argc, char **argv, bool disable)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{0},
	};
	const char *data = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'd')
			return usage_error(user_usage, NULL);
		data = optarg;
	}
	if (argc - optind != 1)
		return usage_error(user_usage, disable ? "user disable takes one account"
		                                       : "user enable takes one account");
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0)
		return 1;
	struct acct_person p;
	int rc = find_person(db, argv[optind], &p);
	bool changed = false;
	if (rc == 0) {
		rc = disable ? acct_person_disable(db, p.id, &changed)
		             : acct_person_enable(db, p.id, &changed);
		if (rc < 0)
			cli_fail("cannot %s '%s': %s", disable ? "disable" : "enable", p.name,
			         kd_strerror(rc));
	}
	if (rc == 0 && changed) /* issue 14: the audit trail */
		cli_audit_record(db, AUDIT_USER, 0, p.name, disable ? "disabled" : "enabled");
	if (rc == 0 && disable && changed)
		printf("disabled '%s' (id %lld): their sessions and API tokens are ended; 'kindling "
		       "user enable %lld' lets them sign in again (with new tokens)\n", p.name,
		       (long long)p.id, (long long)p.id);
	else if (rc == 0 && disable)
		printf("'%s' (id %lld) was already disabled (since %s); any session left is ended\n",
		       p.name, (long long)p.id, *p.disabled_at ? p.disabled_at : "a while");
	else if (rc == 0 && changed)
		printf("enabled '%s' (id %lld): their tokens work again; they sign in anew\n", p.name,
		       (long long)p.id);
	else if (rc == 0)
		printf("'%s' (id %lld) was already enabled\n", p.name, (long long)p.id);
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

static int user_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},
		{"email", required_argument, NULL, 'e'},
		{"full-name", required_argument, NULL, 'f'},
		{"role", required_argument, NULL, 'r'},
		{"school", required_argument, NULL, 's'},
		{"no-school", no_argument, NULL, 'S'},
		{"password-stdin", no_argument, NULL, 'p'},
		{"no-password", no_argument, NULL, 'P'},
		{"data", required_argument, NULL, 'd'},
		{0},
	};
	struct acct_changes ch = {0};
	const char *data = NULL;
	bool want_password = false, no_password = false, no_school = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': ch.name = optarg; break;
		case 'e': ch.email = optarg; break;
		case 'f': ch.full_name = optarg; break;
		case 'r':
			if (parse_role(optarg, &ch.role) != 0)
				return 2;
			ch.set_role = true;
			break;
		case 's': ch.set_school = true; ch.school = optarg; break;
		case 'S': no_school = true; break;
		case 'p': want_password = true; break;
		case 'P': no_password = true; break;
		case 'd': data = optarg; break;
		default: return usage_error(user_usage, NULL);
		}
	}
	if (argc - optind != 1)
		return usage_error(user_usage, "user set takes one account, then what to change");
	if (no_school && ch.set_school)
		return usage_error(user_usage, "give --school SLUG or --no-school, not both");
	if (want_password && no_password)
		return usage_error(user_usage, "give --password-stdin or --no-password, not both");
	if (no_school) {
		ch.set_school = true;
		ch.school = NULL;
	}
	bool fields = ch.name || ch.email || ch.full_name || ch.set_role || ch.set_school;
	if (!fields && !want_password && !no_password)
		return usage_error(user_usage, "nothing to change: give --name, --email, --full-name, "
		                               "--role, --school or a password option");
	char *password = NULL;
	if (want_password && !(password = read_password())) {
		cli_fail("--password-stdin was given but standard input is empty; pipe the password "
		         "in, for example: echo 'secret words' | kindling user set ...");
		return 1;
	}
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0) {
		forget_password(password);
		return 1;
	}
	char err[KD_ERRMSG_MAX] = "";
	struct acct_person p = {0}, was;
	int rc = find_person(db, argv[optind], &p);
	was = p;
	bool updated = false, password_done = false;
	if (rc == 0 && fields && (rc = acct_person_update(db, p.id, &ch, err, sizeof err)) < 0)
		cli_fail("%s", err);
	updated = rc == 0 && fields;
	if (rc == 0 && (want_password || no_password) &&
	    (rc = users_set_password(db, p.id, password, err, sizeof err)) < 0)
		cli_fail("%s", err);
	password_done = rc == 0 && (want_password || no_password);
	forget_password(password);
	struct acct_person now;
	if ((updated || password_done) && acct_person_get(db, p.id, &now) == 0) {
		/* issue 14: what changed, in the audit trail; the password by what
		 * was asked (a new one over an old one changes no field) */
		char detail[1200];
		now.has_password = was.has_password;
		audit_person_changes(&was, &now, detail, sizeof detail);
		if (password_done)
			snprintf(detail + strlen(detail), sizeof detail - strlen(detail), "%s%s",
			         *detail ? "; " : "", no_password ? "password removed" : "password set");
		if (*detail)
			cli_audit_record(db, AUDIT_USER, 0, now.name, detail);
	}
	if (rc == 0 && (rc = acct_person_get(db, p.id, &p)) == 0)
		printf("changed '%s' (id %lld): %s%s%s, e-mail %s, %s\n", p.name, (long long)p.id,
		       users_role_name(p.role), *p.school ? " of " : " of no school",
		       p.school, *p.email ? p.email : "none",
		       p.has_password ? "signs in with a password" : "no password");
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

int cli_user(int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : "";
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		printf("%s\n", user_usage);
		return 0;
	}
	if (!strcmp(verb, "add"))
		return user_add(argc - 1, argv + 1);
	if (!strcmp(verb, "list"))
		return user_list(argc - 1, argv + 1);
	if (!strcmp(verb, "disable") || !strcmp(verb, "enable"))
		return user_switch(argc - 1, argv + 1, !strcmp(verb, "disable"));
	if (!strcmp(verb, "set"))
		return user_set(argc - 1, argv + 1);
	return usage_error(user_usage, *verb ? "user takes add, list, disable, enable or set"
	                                     : NULL);
}

static int token_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{"user", required_argument, NULL, 'u'},
		{"name", required_argument, NULL, 'n'},
		{"expires", required_argument, NULL, 'x'},
		{"data", required_argument, NULL, 'd'},
		{0},
	};
	const char *who = NULL, *name = NULL, *expires = NULL, *data = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': who = optarg; break;
		case 'n': name = optarg; break;
		case 'x': expires = optarg; break;
		case 'd': data = optarg; break;
		default: return usage_error(token_usage, NULL);
		}
	}
	if (!who || optind < argc)
		return usage_error(token_usage, "token add needs --user");
	char err[KD_ERRMSG_MAX] = "", until[USERS_TIME_MAX] = "", token[USERS_TOKEN_MAX];
	if (expires && users_expiry(expires, (int64_t)time(NULL), until, err, sizeof err) < 0) {
		cli_fail("--expires: %s", err);
		return 2;
	}
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0)
		return 1;
	struct acct_person p;
	int64_t id = 0;
	int rc = find_person(db, who, &p);
	if (rc == 0 && (rc = users_token_issue(db, p.id, name ? name : "made with token add",
	                                       *until ? until : NULL, &id, token, err,
	                                       sizeof err)) < 0)
		cli_fail("%s", err);
	if (rc == 0) { /* issue 14: the audit trail (never the secret) */
		char words[300];
		audit_token_words(db, p.id, id, words, sizeof words);
		cli_audit_record(db, AUDIT_TOKEN_ADD, 0, words, *until ? until : "until revoked");
	}
	if (rc == 0) {
		fprintf(stderr, "made token %lld for '%s' (%s); it follows, shown once:\n",
		        (long long)id, p.name, *until ? until : "until revoked");
		if (p.disabled)
			fprintf(stderr, "kindling: note: '%s' is disabled; the token works once "
			        "'kindling user enable %lld'\n", p.name, (long long)p.id);
		printf("%s\n", token);
		sodium_memzero(token, sizeof token);
	}
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

static int token_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"user", required_argument, NULL, 'u'},
		{"json", no_argument, NULL, 'j'},
		{"data", required_argument, NULL, 'd'},
		{0},
	};
	const char *who = NULL, *data = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': who = optarg; break;
		case 'j': json = true; break;
		case 'd': data = optarg; break;
		default: return usage_error(token_usage, NULL);
		}
	}
	if (optind < argc)
		return usage_error(token_usage, "token list takes no arguments but its options");
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0)
		return 1;
	struct acct_person p = {0};
	struct acct_token *ts = NULL;
	size_t n = 0;
	int rc = who ? find_person(db, who, &p) : 0;
	if (rc == 0 && (rc = acct_tokens_list(db, p.id, &ts, &n)) < 0)
		cli_fail("cannot list the tokens: %s", kd_strerror(rc));
	if (rc == 0 && json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{sI sI ss ss ss so so sb}", "id",
			        (json_int_t)ts[i].id, "user_id", (json_int_t)ts[i].user_id, "user",
			        ts[i].user_name, "name", ts[i].name, "created_at", ts[i].created_at,
			        "expires_at", str_or_null(ts[i].expires_at), "last_used_at",
			        str_or_null(ts[i].last_used_at), "expired", ts[i].expired));
		rc = print_json(arr) == 0 ? 0 : KD_EIO;
	} else if (rc == 0) {
		int wu = 4, wn = 4;
		for (size_t i = 0; i < n; i++) {
			int a = (int)strlen(ts[i].user_name), b = (int)strlen(ts[i].name);
			wu = a > wu ? a : wu;
			wn = b > wn ? b : wn;
		}
		if (n)
			printf("%6s  %-*s  %-*s  %-16s  %-24s  %s\n", "ID", wu, "USER", wn, "NAME",
			       "CREATED", "EXPIRES", "LAST USED");
		for (size_t i = 0; i < n; i++) {
			char a[32], b[32], d[32], e[48];
			const char *exp = when(ts[i].expires_at, "never", b, sizeof b);
			if (ts[i].expired) {
				snprintf(e, sizeof e, "expired %s", exp);
				exp = e;
			}
			printf("%6lld  %-*s  %-*s  %-16s  %-24s  %s\n", (long long)ts[i].id, wu,
			       ts[i].user_name, wn, *ts[i].name ? ts[i].name : "-",
			       when(ts[i].created_at, "-", a, sizeof a), exp,
			       when(ts[i].last_used_at, "never", d, sizeof d));
		}
		fprintf(stderr, "%zu token%s\n", n, n == 1 ? "" : "s");
	}
	acct_free(ts);
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

static int token_revoke(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{0},
	};
	const char *data = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'd')
			return usage_error(token_usage, NULL);
		data = optarg;
	}
	if (argc - optind != 1)
		return usage_error(token_usage, "token revoke takes one token id");
	/* the id, or the token itself (one found lying about) */
	const char *arg = argv[optind];
	size_t len = strlen(arg);
	int64_t id = len && len <= 15 && strspn(arg, "0123456789") == len ? strtoll(arg, NULL, 10)
	                                                                   : users_credential_id(arg);
	if (id <= 0)
		return usage_error(token_usage, "a token's id is a number ('kindling token list' "
		                                "shows them)");
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0)
		return 1;
	char words[300]; /* issue 14: whose it was, read before it goes */
	audit_token_words(db, 0, id, words, sizeof words);
	int rc = acct_token_revoke(db, id, 0);
	if (rc == 0)
		cli_audit_record(db, AUDIT_TOKEN_REVOKE, 0, words, NULL);
	if (rc == 0)
		printf("revoked token %lld: it is refused from now on\n", (long long)id);
	else if (rc == KD_ENOTFOUND)
		cli_fail("there is no token %lld: 'kindling token list' shows them", (long long)id);
	else
		cli_fail("cannot revoke token %lld: %s", (long long)id, kd_strerror(rc));
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}

int cli_token(int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : "";
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		printf("%s\n", token_usage);
		return 0;
	}
	if (!strcmp(verb, "add"))
		return token_add(argc - 1, argv + 1);
	if (!strcmp(verb, "list"))
		return token_list(argc - 1, argv + 1);
	if (!strcmp(verb, "revoke"))
		return token_revoke(argc - 1, argv + 1);
	return usage_error(token_usage, *verb ? "token takes add, list or revoke" : NULL);
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
