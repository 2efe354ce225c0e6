/* test_config.c - settings from flags, environment and kindling.conf. */
#include <stdio.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/config.h"
#include "kindling/fs.h"

static void parses_listen_forms(void **state)
{
	(void)state;
	char *host;
	unsigned port;
	assert_int_equal(kd_config_parse_listen("127.0.0.1:8080", &host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	free(host);
	assert_int_equal(kd_config_parse_listen("[::1]:9000", &host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9000);
	free(host);
	assert_int_equal(kd_config_parse_listen(":0", &host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 0);
	free(host);
	assert_int_equal(kd_config_parse_listen("localhost", &host, &port), KD_EINVAL);
	assert_int_equal(kd_config_parse_listen("h:65536", &host, &port), KD_EINVAL);
	assert_int_equal(kd_config_parse_listen("h:80x", &host, &port), KD_EINVAL);
	assert_int_equal(kd_config_parse_listen("h:", &host, &port), KD_EINVAL);
	assert_int_equal(kd_config_parse_listen("[::1:80", &host, &port), KD_EINVAL);
}

static void parses_file_text(void **state)
{
	(void)state;
	struct kd_config cfg = {0};
	char err[KD_ERRMSG_MAX] = "";
	const char *text = "# a comment\n\nlisten = 127.0.0.2:81  # trailing\n"
	                   "http_threads=3\nmax_body_kb = 2\nworkers = 5\n"
	                   "default_consent = pending\nconnection_timeout = 7\n";
	assert_int_equal(kd_config_parse(&cfg, text, err, sizeof err), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.2");
	assert_int_equal(cfg.listen_port, 81);
	assert_int_equal(cfg.http_threads, 3);
	assert_int_equal(cfg.max_body, 2048);
	assert_int_equal(cfg.workers, 5);
	assert_int_equal(cfg.connection_timeout, 7);
	assert_string_equal(cfg.default_consent, "pending");
	kd_config_free(&cfg);
}

static void rejects_bad_file_text_with_line(void **state)
{
	(void)state;
	struct kd_config cfg = {0};
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(kd_config_parse(&cfg, "listen = 1.2.3.4:1\ncolour = blue\n", err,
	                                 sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "colour"));
	assert_int_equal(kd_config_parse(&cfg, "http_threads = lots\n", err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "http_threads"));
	assert_int_equal(kd_config_parse(&cfg, "just words\n", err, sizeof err), KD_EINVAL);
	assert_int_equal(kd_config_parse(&cfg, "default_consent = maybe\n", err, sizeof err),
	                 KD_EINVAL);
	kd_config_free(&cfg);
}

static void flags_beat_environment_beat_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/kd-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *conf = kd_path_join(dir, "kindling.conf");
	const char *text = "listen = 127.0.0.3:3000\nworkers = 2\n";
	assert_int_equal(kd_write_file_atomic(conf, text, strlen(text)), 0);

	struct kd_config cfg;
	char err[KD_ERRMSG_MAX] = "";
	unsetenv("KINDLING_LISTEN");
	assert_int_equal(kd_config_load(&cfg, dir, NULL, err, sizeof err), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.3");
	assert_int_equal(cfg.workers, 2);
	assert_non_null(strstr(cfg.db_path, "catalogue.db"));
	kd_config_free(&cfg);

	setenv("KINDLING_LISTEN", "127.0.0.4:4000", 1);
	assert_int_equal(kd_config_load(&cfg, dir, NULL, err, sizeof err), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.4");
	kd_config_free(&cfg);

	assert_int_equal(kd_config_load(&cfg, dir, "127.0.0.5:5000", err, sizeof err), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.5");
	assert_int_equal(cfg.listen_port, 5000);
	kd_config_free(&cfg);

	setenv("KINDLING_DATA", dir, 1);
	assert_int_equal(kd_config_load(&cfg, NULL, "nonsense", err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "HOST:PORT"));
	kd_config_free(&cfg);
	unsetenv("KINDLING_DATA");
	unsetenv("KINDLING_LISTEN");

	assert_int_equal(kd_config_prepare_data_dir(&(struct kd_config){.data_dir = dir}, err,
	                                            sizeof err),
	                 0);
	char *media = kd_path_join(dir, "media");
	assert_int_equal(access(media, W_OK), 0);
	free(media);
	free(conf);
	assert_int_equal(kd_remove_tree(dir), 0);
	assert_int_not_equal(access(dir, F_OK), 0);
}

static void storage_settings(void **state)
{
	(void)state;
	struct kd_config cfg = {0};
	char err[KD_ERRMSG_MAX] = "";
	/* absent: the data folder; the region has its default from load only */
	assert_int_equal(kd_config_parse(&cfg, "workers = 2\n", err, sizeof err), 0);
	assert_null(cfg.storage);
	assert_null(cfg.s3_endpoint);
	const char *text = "storage = s3://media.district-7/kindling/site1/\n"
	                   "s3_endpoint = http://127.0.0.1:9000/\ns3_region = eu-west-3\n";
	assert_int_equal(kd_config_parse(&cfg, text, err, sizeof err), 0);
	assert_string_equal(cfg.storage, "s3://media.district-7/kindling/site1/");
	assert_string_equal(cfg.s3_endpoint, "http://127.0.0.1:9000");
	assert_string_equal(cfg.s3_region, "eu-west-3");
	assert_int_equal(kd_config_parse(&cfg, "s3_endpoint = https://[::1]:443\n", err,
	                                 sizeof err), 0);
	assert_string_equal(cfg.s3_endpoint, "https://[::1]:443");
	assert_int_equal(kd_config_parse(&cfg, "s3_endpoint = https://minio.lan\n", err,
	                                 sizeof err), 0);
	assert_string_equal(cfg.s3_endpoint, "https://minio.lan");
	kd_config_free(&cfg);

	char *bucket, *prefix;
	assert_int_equal(kd_config_parse_storage("s3://abc", &bucket, &prefix, err, sizeof err), 0);
	assert_string_equal(bucket, "abc");
	assert_string_equal(prefix, "");
	free(bucket);
	free(prefix);
	assert_int_equal(kd_config_parse_storage("s3://my-bucket/a/b_c.d//", &bucket, &prefix, err,
	                                         sizeof err), KD_EINVAL); /* an empty folder */
	assert_int_equal(kd_config_parse_storage("s3://my-bucket/a/b_c.d/", &bucket, &prefix, err,
	                                         sizeof err), 0);
	assert_string_equal(prefix, "a/b_c.d");
	free(bucket);
	free(prefix);

	static const char *bad_storage[] = {
		"/srv/media", "s3:/b", "s3://ab", "s3://Bucket", "s3://-abc", "s3://abc-", "s3://a..b",
		"s3://abc/../x", "s3://abc/.hidden", "s3://abc/a b", "s3://abc/a%2F", "file:///tmp",
		"s3://abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl", /* 64 */
	};
	for (size_t i = 0; i < sizeof bad_storage / sizeof *bad_storage; i++) {
		char line[256];
		snprintf(line, sizeof line, "storage = %s\n", bad_storage[i]);
		err[0] = '\0';
		if (kd_config_parse(&cfg, line, err, sizeof err) != KD_EINVAL)
			fail_msg("storage = %s was taken", bad_storage[i]);
		assert_non_null(strstr(err, "storage"));
	}
	assert_int_equal(kd_config_parse(&cfg, "storage = s3:/b\n", err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "s3://BUCKET"));
	static const char *bad_endpoint[] = {
		"127.0.0.1:9000", "ftp://h", "http://", "http://h/path", "http://u:p@h", "http://h:0",
		"http://h:70000", "http://h:9x", "http://h?x=1", "http://[::1", "http://h:",
	};
	for (size_t i = 0; i < sizeof bad_endpoint / sizeof *bad_endpoint; i++) {
		char line[256];
		snprintf(line, sizeof line, "s3_endpoint = %s\n", bad_endpoint[i]);
		if (kd_config_parse(&cfg, line, err, sizeof err) != KD_EINVAL)
			fail_msg("s3_endpoint = %s was taken", bad_endpoint[i]);
		assert_non_null(strstr(err, "http://HOST[:PORT]"));
	}
	assert_int_equal(kd_config_parse(&cfg, "s3_region = US East\n", err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "us-east-1"));
	kd_config_free(&cfg);

	/* kd_config_load gives the default region */
	char dir[] = "/tmp/kd-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	assert_int_equal(kd_config_load(&cfg, dir, NULL, err, sizeof err), 0);
	assert_string_equal(cfg.s3_region, "us-east-1");
	assert_null(cfg.storage);
	kd_config_free(&cfg);
	assert_int_equal(kd_remove_tree(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_listen_forms),
		cmocka_unit_test(parses_file_text),
		cmocka_unit_test(rejects_bad_file_text_with_line),
		cmocka_unit_test(flags_beat_environment_beat_file),
		cmocka_unit_test(storage_settings),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
