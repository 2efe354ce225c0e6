/* files.c - what the upload and ingest commands share: finding the video
 * files to send, names, lists. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "kindling/cli.h"
#include "kindling/mem.h"

static void add_path(struct cli_files *l, const char *p)
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
static int collect(struct cli_files *l, const char *path, int depth)
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
	struct cli_files here = {0};
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

int cli_collect_files(struct cli_files *l, const char *path)
{
	return collect(l, path, 0);
}

void cli_files_free(struct cli_files *l)
{
	cli_strings_free(l->paths, l->n);
	memset(l, 0, sizeof *l);
}

void cli_strings_free(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/* "IMG_0042-station_rotation.mov" -> "IMG 0042 station rotation". */
char *cli_title_from_name(const char *path)
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

char **cli_split_commas(const char *s, size_t *n)
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

