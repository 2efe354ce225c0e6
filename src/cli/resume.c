/* resume.c - unfinished uploads of earlier runs (see resume.h). */
#include "resume.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/fs.h"
#include "kindling/mem.h"

/* Files whose SHA-256 is kept: a few years of a coach's clips, and well
 * under the 4 MB the state file may take (about 250 bytes each). */
#define HASHES_MAX 8192

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

const char *resume_get(const struct resume *r, const char *server, const char *file)
{
	char *key = kd_asprintf("%s %s", server, file);
	const char *url = json_string_value(json_object_get(r->state, key));
	free(key);
	return url;
}

void resume_put(struct resume *r, const char *server, const char *file, const char *url)
{
	char *key = kd_asprintf("%s %s", server, file);
	json_object_set_new(r->state, key, json_string(url));
	free(key);
	save(r);
}

void resume_forget(struct resume *r, const char *server, const char *file)
{
	char *key = kd_asprintf("%s %s", server, file);
	int gone = json_object_del(r->state, key);
	free(key);
	if (gone == 0)
		save(r);
}

char *resume_file_key(const char *path, const struct stat *st)
{
	char *full = realpath(path, NULL);
	char *key = kd_asprintf("%llu:%llu %lld %lld.%09ld %lld.%09ld %s",
	                        (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
	                        (long long)st->st_size, (long long)st->st_mtim.tv_sec,
	                        st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
	                        st->st_ctim.tv_nsec, full ? full : path);
	free(full);
	return key;
}

const char *resume_hash_get(const struct resume *r, const char *key)
{
	const char *sha = json_string_value(json_object_get(json_object_get(r->state, "hashes"), key));
	return sha && strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64 ? sha : NULL;
}

void resume_hash_put(struct resume *r, const char *key, const char *sha256)
{
	json_t *hashes = json_object_get(r->state, "hashes");
	if (!json_is_object(hashes)) {
		hashes = json_object();
		json_object_set_new(r->state, "hashes", hashes);
	}
	/* Newest last (jansson keeps the order of insertion): the first ones
	 * go when there are too many. */
	json_object_del(hashes, key);
	while (json_object_size(hashes) >= HASHES_MAX)
		json_object_del(hashes, json_object_iter_key(json_object_iter(hashes)));
	json_object_set_new(hashes, key, json_string(sha256));
	save(r);
}
