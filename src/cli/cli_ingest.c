/* cli_ingest.c - kindling ingest: files on the server's disk become clips,
 * through the same intake and processing as uploads. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "meta.h"
#include "kindling/catalogue.h"
#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/intake.h"
#include "kindling/jobs.h"
#include "kindling/mem.h"

static void report(bool as_json, const char *file, int64_t id, const char *status,
                   const char *error, bool duplicate)
{
	if (as_json) {
		json_t *o = json_pack("{ss sI ss ss? sb}", "file", file, "id", (json_int_t)id, "status",
		                      status, "error", error, "duplicate", duplicate);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		printf("%s\n", s ? s : "{\"error\": \"out of memory\"}");
		free(s);
		json_decref(o);
	} else if (!id) {
		printf("%s: %s: %s\n", file, status, error ? error : "");
	} else if (error) {
		printf("%s: clip %lld %s: %s\n", file, (long long)id, status, error);
	} else {
		printf("%s: clip %lld %s%s\n", file, (long long)id, status,
		       duplicate ? " (already in the catalogue)" : "");
	}
	fflush(stdout);
}

int cli_ingest(int argc, char **argv)
{
	static const char usage[] =
		"ingest [--data DIR] " META_USAGE " [--wait] [--json] FILE|DIR...";
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		META_OPTIONS,
		{"wait", no_argument, NULL, 'w'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct meta_flags f = {0};
	const char *data = NULL;
	bool wait = false, as_json = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (meta_flag(&f, c, optarg))
			continue;
		switch (c) {
		case 'd': data = optarg; break;
		case 'w': wait = true; break;
		case 'j': as_json = true; break;
		case 'h': printf("usage: kindling %s\n", usage); meta_flags_free(&f); return 0;
		default: meta_flags_free(&f); return 2;
		}
	}
	if (!f.school || !f.practices || optind >= argc) {
		cli_fail("usage: kindling %s", usage);
		meta_flags_free(&f);
		return 2;
	}
	const char *title = f.title;
	struct cat_clip_new meta = {
		.school = f.school, .teacher = f.teacher, .grade = f.grade, .subject = f.subject,
		.recorded_on = f.recorded, .consent = f.consent, .visibility = f.visibility,
		.tags = f.tags, .n_tags = f.n_tags,
	};
	const char *practices_arg = f.practices;
	size_t n_practices;
	char **practices = cli_split_commas(practices_arg, &n_practices);
	meta.practices = (const char *const *)practices;
	meta.n_practices = n_practices;

	struct cli_files files = {0};
	int exit_code = 0;
	for (int i = optind; i < argc; i++)
		if (cli_collect_files(&files, argv[i]) < 0)
			exit_code = 1;

	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0) {
		exit_code = 1;
		goto out_nodb;
	}
	if (!meta.consent)
		meta.consent = cfg.default_consent;
	/* Check the shared metadata once, before touching any file. */
	char err[KD_ERRMSG_MAX] = "";
	struct cat_clip_new check = meta;
	check.title = title ? title : "a title from the file name";
	if (cat_clip_new_check(db, &check, err, sizeof err) < 0) {
		cli_fail("%s", err);
		exit_code = 1;
		goto out;
	}
	int64_t *ids = kd_calloc(files.n ? files.n : 1, sizeof *ids);
	/* With --wait, processing starts with the first file taken in, while
	 * the next ones are still being copied. */
	char *self = wait ? kd_self_exe() : NULL;
	struct jobs_runner *batch = NULL;
	if (wait && jobs_batch_start(&cfg, self, NULL, &batch) < 0) {
		cli_fail("cannot start processing the clips");
		exit_code = 1;
	}
	for (size_t i = 0; i < files.n; i++) {
		char *auto_title = title ? NULL : cli_title_from_name(files.paths[i]);
		struct cat_clip_new m = meta;
		m.title = title ? title : auto_title;
		bool dup;
		err[0] = '\0';
		int rc = intake_file(&cfg, db, files.paths[i], false, &m, &ids[i], &dup, err,
		                     sizeof err);
		if (rc < 0) {
			report(as_json, files.paths[i], 0, "failed", err, false);
			exit_code = 1;
			ids[i] = 0;
		} else if (!wait) {
			report(as_json, files.paths[i], ids[i], dup ? "duplicate" : "queued", NULL, dup);
		} else if (batch) {
			jobs_batch_add(batch, ids[i]);
		}
		free(auto_title);
	}
	if (wait) {
		jobs_batch_finish(&batch);
		free(self);
		for (size_t i = 0; i < files.n; i++) {
			if (!ids[i])
				continue;
			enum cat_status status;
			char *error = NULL;
			bool gone = cat_clip_status(db, ids[i], &status, &error) < 0;
			report(as_json, files.paths[i], ids[i], gone ? "deleted" : cat_status_name(status),
			       error, false);
			if (gone || status != CAT_READY)
				exit_code = 1;
			free(error);
		}
	}
	free(ids);
out:
	db_close(&db);
	kd_config_free(&cfg);
out_nodb:
	cli_files_free(&files);
	cli_strings_free(practices, n_practices);
	meta_flags_free(&f);
	return exit_code;
}
