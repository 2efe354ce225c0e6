/* test_metrics.c - the Prometheus text the server writes of itself
 * (src/web/metrics.h): escaping, histograms, the request counters from
 * many threads at once, the catalogue's counts, and the deep health
 * check's write that must leave the catalogue's epoch alone. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>

#include "helpers.h"
#include "kindling/config.h"
#include "kindling/jobs.h"
#include "kindling/users.h"
#include "web/metrics.h"
#include "web/router.h"

static const char *text_of(struct metrics_text *t)
{
	assert_int_equal(t->err, 0);
	return kd_buf_str(&t->buf);
}

/* The text has this line, whole. */
static void has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("no line '%s' in:\n%s", line, text);
}

static void no_line_starts(const char *text, const char *start)
{
	size_t n = strlen(start);
	for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
		if (!strncmp(p, start, n))
			fail_msg("a line starts '%s' in:\n%s", start, text);
		if (!strchr(p, '\n'))
			break;
	}
}

static void label_values_and_help_are_escaped(void **state)
{
	(void)state;
	struct metrics_text t = {.buf = KD_BUF_INIT(1 << 16)};
	metrics_family(&t, "kd_x", "gauge", "a \\ back\nslash and \"quotes\"");
	struct metrics_label l[] = {{"route", "/a\\b\"c\nd"}, {"method", "GET"}};
	metrics_sample(&t, "kd_x", l, 2, 1);
	metrics_sample(&t, "kd_x", NULL, 0, 2);
	const char *s = text_of(&t);
	/* HELP escapes backslash and newline only; a label value quotes too */
	has_line(s, "# HELP kd_x a \\\\ back\\nslash and \"quotes\"");
	has_line(s, "# TYPE kd_x gauge");
	has_line(s, "kd_x{route=\"/a\\\\b\\\"c\\nd\",method=\"GET\"} 1");
	has_line(s, "kd_x 2");
	assert_int_equal(strlen(s), t.buf.len);
	kd_buf_release(&t.buf);
}

static void values_are_written_as_prometheus_reads_them(void **state)
{
	(void)state;
	struct metrics_text t = {.buf = KD_BUF_INIT(1 << 16)};
	metrics_sample(&t, "a", NULL, 0, 1234567890123.0);
	metrics_sample(&t, "b", NULL, 0, 0.25);
	metrics_sample(&t, "c", NULL, 0, -1);
	metrics_sample(&t, "d", NULL, 0, NAN);
	metrics_sample(&t, "e", NULL, 0, INFINITY);
	metrics_sample(&t, "f", NULL, 0, 1e-7);
	metrics_sample(&t, "g", NULL, 0, 1125899906842624.0); /* a petabyte: every digit */
	const char *s = text_of(&t);
	has_line(s, "a 1234567890123");
	has_line(s, "b 0.25");
	has_line(s, "c -1");
	has_line(s, "d NaN");
	has_line(s, "e +Inf");
	has_line(s, "f 1e-07");
	has_line(s, "g 1125899906842624");
	kd_buf_release(&t.buf);
}

static void histogram_buckets_are_cumulative_and_inf_is_the_count(void **state)
{
	(void)state;
	struct metrics_text t = {.buf = KD_BUF_INIT(1 << 16)};
	static const double bounds[] = {0.005, 0.1, 1};
	const uint64_t counts[] = {2, 0, 3, 4}; /* each bucket alone; 4 above the last */
	struct metrics_label l[] = {{"route", "/x"}};
	metrics_histogram(&t, "h", l, 1, bounds, counts, 3, 12.5);
	metrics_histogram(&t, "g", NULL, 0, bounds, counts, 3, 0);
	const char *s = text_of(&t);
	has_line(s, "h_bucket{route=\"/x\",le=\"0.005\"} 2");
	has_line(s, "h_bucket{route=\"/x\",le=\"0.1\"} 2");
	has_line(s, "h_bucket{route=\"/x\",le=\"1\"} 5");
	has_line(s, "h_bucket{route=\"/x\",le=\"+Inf\"} 9");
	has_line(s, "h_sum{route=\"/x\"} 12.5");
	has_line(s, "h_count{route=\"/x\"} 9");
	has_line(s, "g_bucket{le=\"+Inf\"} 9");
	has_line(s, "g_count 9");
	kd_buf_release(&t.buf);
}

static void a_full_buffer_stops_the_text(void **state)
{
	(void)state;
	struct metrics_text t = {.buf = KD_BUF_INIT(40)};
	metrics_family(&t, "kindling_something_long", "counter", "more than forty bytes of help");
	assert_int_equal(t.err, KD_ETOOBIG);
	size_t len = t.buf.len;
	metrics_sample(&t, "x", NULL, 0, 1); /* would fit, but the text is broken already */
	assert_int_equal(t.buf.len, len);
	kd_buf_release(&t.buf);
}

/* ------------------------------------------------------------ requests */

static struct route routes[3];

struct hammer {
	int route;
	unsigned status;
	double seconds;
	int times;
};

static void *hammer(void *arg)
{
	const struct hammer *h = arg;
	for (int i = 0; i < h->times; i++)
		metrics_request_done(h->route >= 0 ? &routes[h->route] : NULL, h->status, h->seconds);
	return NULL;
}

static void requests_are_counted_by_route_status_and_latency(void **state)
{
	(void)state;
	routes[0] = (struct route){.method = "GET", .pattern = "/api/v1/clips/{id}"};
	routes[1] = (struct route){.method = "POST", .pattern = "/login"};
	routes[2] = (struct route){.method = "GET", .pattern = "/never"};
	metrics_start(routes, 3, true);
	/* from several threads at once: no count is lost */
	struct hammer hs[] = {
		{0, 200, 0.0004, 20000}, {0, 200, 0.0004, 20000}, {0, 404, 0.02, 5000},
		{1, 303, 3.0, 100},      {-1, 404, 0.0001, 7},    {1, 0, 20.0, 1},
	};
	pthread_t th[sizeof hs / sizeof *hs];
	for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &hs[i]), 0);
	for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
		pthread_join(th[i], NULL);
	/* a route that is not in the table counts as other */
	struct route stray = {.method = "GET", .pattern = "/stray"};
	metrics_request_done(&stray, 500, 0.001);

	struct metrics_text t = {.buf = KD_BUF_INIT(1 << 20)};
	metrics_write_requests(&t);
	const char *s = text_of(&t);
	has_line(s, "# TYPE kindling_http_requests_total counter");
	has_line(s, "kindling_http_requests_total{route=\"/api/v1/clips/{id}\",method=\"GET\","
	            "status=\"200\"} 40000");
	has_line(s, "kindling_http_requests_total{route=\"/api/v1/clips/{id}\",method=\"GET\","
	            "status=\"404\"} 5000");
	has_line(s, "kindling_http_requests_total{route=\"/login\",method=\"POST\",status=\"303\"} "
	            "100");
	has_line(s, "kindling_http_requests_total{route=\"/login\",method=\"POST\",status=\"0\"} 1");
	has_line(s, "kindling_http_requests_total{route=\"other\",status=\"404\"} 7");
	has_line(s, "kindling_http_requests_total{route=\"other\",status=\"500\"} 1");
	/* a route never asked has no series */
	no_line_starts(s, "kindling_http_requests_total{route=\"/never\"");
	no_line_starts(s, "kindling_http_request_duration_seconds_bucket{route=\"/never\"");

	has_line(s, "# TYPE kindling_http_request_duration_seconds histogram");
	const char *clip = "kindling_http_request_duration_seconds_bucket{route=\"/api/v1/clips/{id}\","
	                   "method=\"GET\",le=";
	char line[256];
	snprintf(line, sizeof line, "%s\"0.001\"} 40000", clip);
	has_line(s, line);
	snprintf(line, sizeof line, "%s\"0.01\"} 40000", clip);
	has_line(s, line);
	snprintf(line, sizeof line, "%s\"0.025\"} 45000", clip);
	has_line(s, line);
	snprintf(line, sizeof line, "%s\"+Inf\"} 45000", clip);
	has_line(s, line);
	has_line(s, "kindling_http_request_duration_seconds_count{route=\"/api/v1/clips/{id}\","
	            "method=\"GET\"} 45000");
	/* 40000 x 0.4 ms + 5000 x 20 ms = 116 s */
	const char *sum = strstr(s, "kindling_http_request_duration_seconds_sum{route=\"/api/v1/"
	                            "clips/{id}\",method=\"GET\"} ");
	assert_non_null(sum);
	double v = strtod(strstr(sum, "} ") + 2, NULL);
	if (fabs(v - 116.0) > 0.01)
		fail_msg("sum %f, wanted 116: %.200s", v, sum);
	/* 20 s is above the last bound (10 s): only in +Inf */
	has_line(s, "kindling_http_request_duration_seconds_bucket{route=\"/login\",method=\"POST\","
	            "le=\"10\"} 100");
	has_line(s, "kindling_http_request_duration_seconds_bucket{route=\"/login\",method=\"POST\","
	            "le=\"+Inf\"} 101");
	has_line(s, "kindling_http_request_duration_seconds_count{route=\"other\"} 8");
	kd_buf_release(&t.buf);
}

/* ------------------------------------------------------------ the catalogue */

static const char *practices[] = {"differentiation"};

static void catalogue_counts_come_from_one_statement(void **state)
{
	(void)state;
	struct kd_db *db = test_db_with_school("alder", "Alder School");
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(cat_school_add(db, "birch", "Birch School", "", err, sizeof err), 0);
	test_user(db, "Ann Admin", KD_ROLE_ADMIN, NULL);
	test_user(db, "Tom Teacher", KD_ROLE_TEACHER, "alder");
	test_user(db, "Tess Teacher", KD_ROLE_TEACHER, "alder");
	struct kd_user gone = test_user(db, "Gone Teacher", KD_ROLE_TEACHER, "birch");
	struct kd_stmt *st;
	assert_int_equal(db_prepare(db, "UPDATE users SET disabled = 1 WHERE id = ?1", &st), DB_OK);
	db_bind_int64(st, 1, gone.id);
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
	int64_t ids[3];
	for (int i = 0; i < 3; i++) {
		struct cat_clip_new c = {.title = "A lesson", .school = "alder", .practices = practices,
		                         .n_practices = 1, .status = i ? CAT_READY : CAT_QUEUED};
		if (cat_clip_create(db, &c, &ids[i], err, sizeof err) != 0)
			fail_msg("cat_clip_create: %s", err);
	}
	assert_int_equal(jobs_enqueue(db, ids[0]), 0);
	struct metrics_text t = {.buf = KD_BUF_INIT(1 << 16)};
	assert_int_equal(metrics_write_catalogue(&t, db), 0);
	const char *s = text_of(&t);
	has_line(s, "# TYPE kindling_jobs gauge");
	has_line(s, "kindling_jobs{state=\"queued\"} 1");
	has_line(s, "kindling_jobs{state=\"running\"} 0");
	has_line(s, "kindling_jobs{state=\"failed\"} 0");
	has_line(s, "kindling_clips{status=\"queued\"} 1");
	has_line(s, "kindling_clips{status=\"ready\"} 2");
	has_line(s, "kindling_clips{status=\"failed\"} 0");
	has_line(s, "kindling_users{role=\"teacher\"} 2"); /* not the disabled one */
	has_line(s, "kindling_users{role=\"admin\"} 1");
	has_line(s, "kindling_schools 2");
	/* the practices the catalogue starts with, however many: a number */
	const char *p = strstr(s, "\nkindling_practices ");
	assert_non_null(p);
	assert_true(atoi(p + 20) >= 1);
	kd_buf_release(&t.buf);
	db_close(&db);
}

static void the_writable_check_commits_nothing(void **state)
{
	(void)state;
	struct kd_db *db = test_db();
	char why[512] = "";
	(void)db_epoch(db); /* (a connection's first look counts as a change) */
	int64_t before = db_epoch(db);
	assert_int_equal(metrics_check_writable(db, why, sizeof why), 0);
	assert_false(db_in_transaction(db));
	/* nothing committed, nothing changed: every cache of the catalogue
	 * stays good (on PostgreSQL the epoch moves only with a commit that
	 * wrote, or a snapshot the listener sees move a second later) */
	if (!test_pg_url())
		assert_true(db_epoch(db) == before);
	db_close(&db);
}

static void a_catalogue_that_cannot_be_written_fails_the_check(void **state)
{
	(void)state;
	struct kd_db *db = test_db();
	char why[512] = "";
	/* root writes any file, so read-only is asked of the database itself */
	if (test_pg_url())
		test_exec(db, "SET default_transaction_read_only = on");
	else
		test_exec(db, "PRAGMA query_only = 1");
	kd_log_set_level(KD_LOG_ERROR + 1); /* (the refusal is logged) */
	assert_true(metrics_check_writable(db, why, sizeof why) < 0);
	kd_log_set_level(KD_LOG_WARN);
	assert_false(db_in_transaction(db));
	if (!strstr(why, "read-only") && !strstr(why, "cannot start a write"))
		fail_msg("the reason does not say what to look at: %s", why);
	db_close(&db);
}

/* ------------------------------------------------------------ the setting */

static void the_metrics_token_is_a_long_secret(void **state)
{
	(void)state;
	struct kd_config cfg = {0};
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(kd_config_parse(&cfg, "metrics_token = short\n", err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "16 to 200"));
	assert_null(cfg.metrics_token);
	assert_int_equal(kd_config_parse(&cfg, "metrics_token = has a space in it ok\n", err,
	                                 sizeof err),
	                 KD_EINVAL);
	assert_int_equal(kd_config_parse(&cfg, "metrics_token = 0123456789abcdefXYZ\n", err,
	                                 sizeof err),
	                 0);
	assert_string_equal(cfg.metrics_token, "0123456789abcdefXYZ");
	kd_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(label_values_and_help_are_escaped),
		cmocka_unit_test(values_are_written_as_prometheus_reads_them),
		cmocka_unit_test(histogram_buckets_are_cumulative_and_inf_is_the_count),
		cmocka_unit_test(a_full_buffer_stops_the_text),
		cmocka_unit_test(requests_are_counted_by_route_status_and_latency),
		cmocka_unit_test(catalogue_counts_come_from_one_statement),
		cmocka_unit_test(the_writable_check_commits_nothing),
		cmocka_unit_test(a_catalogue_that_cannot_be_written_fails_the_check),
		cmocka_unit_test(the_metrics_token_is_a_long_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
