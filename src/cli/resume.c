/* resume.c - unfinished uploads of earlier runs (see resume.h). */
#include "resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/fs.h"
#include "kindling/mem.h"

static char *state_path(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (xdg && *xdg)
		return kd_asprintf("%s/kindling/uploads.json", xdg);
	return kd_asprintf("%s/.cache/kindling/uploads.json", home && *home ? home : ".");
}

void resume_load(struct resume *r)
{
	char *path = state_path(), *text = NULL;
	json_t *s = NULL;
	if (kd_read_file(path, 4 << 20, &text, NULL) == 0)
		s = json_loads(text, 0, NULL);
	free(text);
	free(path);
	if (!json_is_object(s)) {
		json_decref(s);
		s = json_object();
	}
	r->state = s;
}

void resume_free(struct resume *r)
{
	json_decref(r->state);
	r->state = NULL;
}

static void save(const struct resume *r)
{
	char *path = state_path();
	char *dir = kd_strdup(path);
	*strrchr(dir, '/') = '\0';
	char *text = json_dumps(r->state, JSON_INDENT(1));
	if (kd_mkdirs(dir, 0700) < 0 || !text || kd_write_file_atomic(path, text, strlen(text)) < 0)
		fprintf(stderr, "kindling: warning: cannot save upload progress in %s: %s\n", path,
		        strerror(errno));
	free(text);
	free(dir);
	free(path);
}

const char *resume_get(const struct resume *r, const char *server, const char *sha256)
{
	char *key = kd_asprintf("%s %s", server, sha256);
	const char *url = json_string_value(json_object_get(r->state, key));
	free(key);
	return url;
}

void resume_put(struct resume *r, const char *server, const char *sha256, const char *url)
{
	char *key = kd_asprintf("%s %s", server, sha256);
	json_object_set_new(r->state, key, json_string(url));
	free(key);
	save(r);
}

void resume_forget(struct resume *r, const char *server, const char *sha256)
{
	char *key = kd_asprintf("%s %s", server, sha256);
	int gone = json_object_del(r->state, key);
	free(key);
	if (gone == 0)
		save(r);
}
