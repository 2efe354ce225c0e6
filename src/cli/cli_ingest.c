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

#include "kindling/catalogue.h"
#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/intake.h"
#include "kindling/jobs.h"
#include "kindling/mem.h"

struct file_list {
	char **paths;
	size_t n, cap;
};

static void add_path(struct file_list *l, const char *p)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->paths = kd_realloc(l->paths, l->cap * sizeof *l->paths);
	}
	l->paths[l->n++] = kd_strdup(p);
}

bool cli_is_video_name(const char *name)
{
	static const char *const exts[] = {"mp4", "mov", "m4v", "avi", "mkv", "webm", "mts",
	                                   "m2ts", "3gp", "mpg", "mpeg", "wmv", "mxf", NULL};
	const char *dot = strrchr(name, '.');
	if (!dot || name[0] == '.')
		return false;
	for (int i = 0; exts[i]; i++)
		if (!strcasecmp(dot + 1, exts[i]))
			return true;
	return false;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add path, or the video files under it when it is a folder. */
static int collect(struct file_list *l, const char *path, int depth)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		cli_fail("%s: no such file or folder", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_path(l, path);
		return 0;
	}
	if (depth > 16)
		return 0;
	DIR *d = opendir(path);
	if (!d) {
		cli_fail("%s: cannot open the folder", path);
		return -1;
	}
	struct file_list here = {0};
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *child = kd_asprintf("%s/%s", path, e->d_name);
		struct stat cs;
		if (stat(child, &cs) == 0 && (S_ISDIR(cs.st_mode) || cli_is_video_name(e->d_name)))
			add_path(&here, child);
		free(child);
	}
	closedir(d);
	qsort(here.paths, here.n, sizeof *here.paths, by_name);
	int rc = 0;
	for (size_t i = 0; i < here.n; i++) {
		if (collect(l, here.paths[i], depth + 1) < 0)
			rc = -1;
		free(here.paths[i]);
	}
	free(here.paths);
	return rc;
}

/* "IMG_0042-station_rotation.mov" -> "IMG 0042 station rotation". */
static char *title_from_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	if (n > 200)
		n = 200;
	char *t = kd_strndup(base, n);
	for (char *p = t; *p; p++)
		if (*p == '_' || *p == '-' || (unsigned char)*p < 0x20)
			*p = ' ';
	return t;
}

static char **split_commas(const char *s, size_t *n)
{
	char **items = NULL;
	*n = 0;
	char *copy = kd_strdup(s), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		if (!*t)
			continue;
		items = kd_realloc(items, (*n + 1) * sizeof *items);
		items[(*n)++] = kd_strdup(t);
	}
	free(copy);
	return items;
}

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
		"ingest [--data DIR] --school SLUG --practice SLUG[,SLUG...] [--title T] "
		"[--teacher NAME] [--grade G] [--subject S] [--recorded YYYY-MM-DD] [--tag T]... "
		"[--consent on-file|pending] [--visibility district|school|private] [--wait] [--json] "
		"FILE|DIR...";
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"school", required_argument, NULL, 's'},
		{"practice", required_argument, NULL, 'p'},
		{"title", required_argument, NULL, 't'},
		{"teacher", required_argument, NULL, 'T'},
		{"grade", required_argument, NULL, 'g'},
		{"subject", required_argument, NULL, 'S'},
		{"recorded", required_argument, NULL, 'r'},
		{"tag", required_argument, NULL, 'a'},
		{"consent", required_argument, NULL, 'c'},
		{"visibility", required_argument, NULL, 'v'},
		{"wait", no_argument, NULL, 'w'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct cat_clip_new meta = {0};
	const char *data = NULL, *practices_arg = NULL, *title = NULL;
	const char **tags = NULL;
	size_t n_tags = 0;
	bool wait = false, as_json = false;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 's': meta.school = optarg; break;
		case 'p': practices_arg = optarg; break;
		case 't': title = optarg; break;
		case 'T': meta.teacher = optarg; break;
		case 'g': meta.grade = optarg; break;
		case 'S': meta.subject = optarg; break;
		case 'r': meta.recorded_on = optarg; break;
		case 'a':
			tags = kd_realloc(tags, (n_tags + 1) * sizeof *tags);
			tags[n_tags++] = optarg;
			break;
		case 'c': meta.consent = optarg; break;
		case 'v': meta.visibility = optarg; break;
		case 'w': wait = true; break;
		case 'j': as_json = true; break;
		case 'h': printf("usage: kindling %s\n", usage); free(tags); return 0;
		default: free(tags); return 2;
		}
	}
	if (!meta.school || !practices_arg || optind >= argc) {
		cli_fail("usage: kindling %s", usage);
		free(tags);
		return 2;
	}
	size_t n_practices;
	char **practices = split_commas(practices_arg, &n_practices);
	meta.practices = (const char *const *)practices;
	meta.n_practices = n_practices;
	meta.tags = tags;
	meta.n_tags = n_tags;

	struct file_list files = {0};
	int exit_code = 0;
	for (int i = optind; i < argc; i++)
		if (collect(&files, argv[i], 0) < 0)
			exit_code = 1;

	struct kd_config cfg;
	sqlite3 *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0) {
		exit_code = 1;
		goto out_nodb;
	}
	if (!meta.consent)
		meta.consent = cfg.default_consent;
	/* Check the shared metadata once, before touching any file. */
	char err[KD_ERRMSG_MAX] = "";
	struct cat_clip_edit check = {.school = meta.school, .practices = meta.practices,
	                              .n_practices = meta.n_practices, .set_practices = true,
	                              .tags = tags, .n_tags = n_tags, .set_tags = true,
	                              .teacher = meta.teacher, .grade = meta.grade,
	                              .subject = meta.subject, .recorded_on = meta.recorded_on,
	                              .consent = meta.consent, .visibility = meta.visibility,
	                              .title = title};
	if (cat_clip_edit_check(db, &check, err, sizeof err) < 0) {
		cli_fail("%s", err);
		exit_code = 1;
		goto out;
	}
	int64_t *ids = kd_calloc(files.n ? files.n : 1, sizeof *ids);
	for (size_t i = 0; i < files.n; i++) {
		char *auto_title = title ? NULL : title_from_name(files.paths[i]);
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
		}
		free(auto_title);
	}
	if (wait) {
		char *self = kd_self_exe();
		size_t n = 0;
		int64_t *todo = kd_calloc(files.n ? files.n : 1, sizeof *todo);
		for (size_t i = 0; i < files.n; i++)
			if (ids[i])
				todo[n++] = ids[i];
		jobs_run_clips(&cfg, self, NULL, todo, n);
		free(todo);
		free(self);
		for (size_t i = 0; i < files.n; i++) {
			if (!ids[i])
				continue;
			char *status = NULL, *error = NULL;
			if (cat_clip_status(db, ids[i], &status, &error) < 0)
				status = kd_strdup("deleted");
			report(as_json, files.paths[i], ids[i], status, error, false);
			if (strcmp(status, "ready") != 0)
				exit_code = 1;
			free(status);
			free(error);
		}
	}
	free(ids);
out:
	db_close(&db);
	kd_config_free(&cfg);
out_nodb:
	for (size_t i = 0; i < files.n; i++)
		free(files.paths[i]);
	free(files.paths);
	for (size_t i = 0; i < n_practices; i++)
		free(practices[i]);
	free(practices);
	free(tags);
	return exit_code;
}
