/* cli_summary.c - kindling summary: a school's summary from a server, as a
 * terminal table, the API's CSV or the API's JSON. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/cli.h"
#include "kindling/err.h"
#include "kindling/mem.h"

static const char usage[] = "summary [--server URL] [--token T] --school SLUG [--from DATE] "
                            "[--to DATE] [--format table|csv|json]";

/* A string of the answer, fit for a terminal: control characters (an
 * escape sequence in a teacher's name) are shown as '?'. */
static const char *str(json_t *o, const char *key)
{
	static char out[8][256]; /* up to 8 in one printf */
	static int next;
	const char *s = json_string_value(json_object_get(o, key));
	char *d = out[next++ % 8];
	size_t i = 0;
	for (; s && *s && i < sizeof out[0] - 1; s++)
		d[i++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	d[i] = '\0';
	return d;
}

static long long num(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void print_table(json_t *s)
{
	printf("%s (%s), %s to %s\n\n", str(s, "school_name"), str(s, "school"), str(s, "from"),
	       str(s, "to"));
	printf("  %-26s %8lld\n", "clips", num(s, "clips"));
	printf("  %-26s %8.1f\n", "minutes", json_number_value(json_object_get(s, "minutes")));
	printf("  %-26s %8lld\n", "views from other schools", num(s, "views_from_other_schools"));
	size_t i;
	json_t *e;
	json_t *a = json_object_get(s, "by_practice");
	printf("\n  %-26s %8s %8s\n", "practice", "clips", "minutes");
	if (!json_array_size(a))
		printf("  (no clips in this range)\n");
	json_array_foreach(a, i, e)
		printf("  %-26s %8lld %8.1f\n", str(e, "practice"), num(e, "clips"),
		       json_number_value(json_object_get(e, "minutes")));
	a = json_object_get(s, "by_month");
	printf("\n  %-26s %8s\n", "month", "clips");
	json_array_foreach(a, i, e)
		printf("  %-26s %8lld\n", str(e, "month"), num(e, "clips"));
	a = json_object_get(s, "teachers");
	printf("\n  %-26s %8s\n", "teacher", "clips");
	json_array_foreach(a, i, e)
		printf("  %-26.26s %8lld\n", str(e, "teacher"), num(e, "clips"));
	static const char *const st[] = {"requested", "accepted", "declined", "done"};
	printf("\n  %-26s %9s %9s %9s %9s\n", "visits", st[0], st[1], st[2], st[3]);
	static const char *const kinds[] = {"hosted", "made"};
	for (int k = 0; k < 2; k++) {
		json_t *o = json_object_get(json_object_get(s, "visits"), kinds[k]);
		printf("  %-26s %9lld %9lld %9lld %9lld\n", kinds[k], num(o, st[0]), num(o, st[1]),
		       num(o, st[2]), num(o, st[3]));
	}
	a = json_object_get(s, "arrived_from_elsewhere");
	printf("\n  arrived from elsewhere\n  %-26s %-11s %-20s %-11s %s\n", "practice",
	       "first clip", "seen at", "seen on", "via");
	if (!json_array_size(a))
		printf("  (none in this range)\n");
	json_array_foreach(a, i, e)
		printf("  %-26s %-11s %-20s %-11s %s\n", str(e, "practice"), str(e, "first_clip_on"),
		       str(e, "seen_at_school"), str(e, "seen_on"), str(e, "via"));
}

int cli_summary(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"server", required_argument, NULL, 'S'}, {"token", required_argument, NULL, 'k'},
		{"school", required_argument, NULL, 's'}, {"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},     {"format", required_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},         {0},
	};
	const char *server_flag = NULL, *token_flag = NULL, *school = NULL, *from = NULL,
	           *to = NULL, *format = "table";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': server_flag = optarg; break;
		case 'k': token_flag = optarg; break;
		case 's': school = optarg; break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'F': format = optarg; break;
		case 'h': printf("usage: kindling %s\n", usage); return 0;
		default: return 2;
		}
	}
	if (!school || optind < argc) {
		cli_fail("usage: kindling %s", usage);
		return 2;
	}
	if (!cat_slug_valid(school)) {
		cli_fail("'%s' is not a school slug: use the slug of 'GET /api/v1/schools', for "
		         "example north-high", school);
		return 2;
	}
	if ((from && !cat_date_valid(from)) || (to && !cat_date_valid(to))) {
		cli_fail("--from and --to take dates written YYYY-MM-DD, for example 2025-09-01");
		return 2;
	}
	bool table = !strcmp(format, "table"), csv = !strcmp(format, "csv");
	if (!table && !csv && strcmp(format, "json")) {
		cli_fail("--format must be table, csv or json");
		return 2;
	}
	struct client client;
	int exit_code = client_open(&client, server_flag, token_flag, true);
	char *path = kd_asprintf("/api/v1/schools/%s/summary?%s%s%s%s%s", school,
	                         from ? "from=" : "", from ? from : "", to ? "&to=" : "",
	                         to ? to : "", csv ? "&format=csv" : "");
	struct reply r;
	reply_init(&r, 64u << 20);
	char err[KD_ERRMSG_MAX] = "";
	CURLcode rc;
	if (exit_code != 0) {
		/* client_open said why */
	} else if ((rc = client_request(&client, "GET", path, &r)) != CURLE_OK) {
		cli_fail("cannot reach %s: %s (check --server or KINDLING_SERVER, and that the server "
		         "is running)", client.server, curl_easy_strerror(rc));
		exit_code = 1;
	} else if (r.status != 200) {
		reply_error(&r, err, sizeof err);
		cli_fail("%s", err);
		exit_code = 1;
	} else if (table) {
		json_t *j = json_loads(kd_buf_str(&r.body), 0, NULL);
		if (!j) {
			cli_fail("the server's answer is not JSON: is %s a kindling server?",
			         client.server);
			exit_code = 1;
		} else {
			print_table(j);
		}
		json_decref(j);
	} else {
		fwrite(r.body.data ? r.body.data : "", 1, r.body.len, stdout);
	}
	reply_release(&r);
	free(path);
	client_close(&client);
	return exit_code;
}
