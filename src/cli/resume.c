/* resume.c - unfinished uploads of earlier runs (see resume.h). */
#include "resume.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

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

/* The state as the file holds it now (a missing or broken one: empty). */
static json_t *read_state(const char *path)
{
	char *text = NULL;
	json_t *s = NULL;
	if (kd_read_file(path, 4 << 20, &text, NULL) == 0)
		s = json_loads(text, 0, NULL);
	free(text);
	if (!json_is_object(s)) {
		json_decref(s);
		s = json_object();
	}
	return s;
}

void resume_load(struct resume *r)
{
	char *path = state_path();
	r->state = read_state(path);
	free(path);
}

void resume_free(struct resume *r)
{
	json_decref(r->state);
	r->state = NULL;
}

/* One change, made to the file as it is now under a lock, not to what this
 * run read at its start: two runs at once (two folders sent side by side)
 * each keep the other's unfinished uploads.  r->state becomes the merged
 * state. */
static void change(struct resume *r, void (*apply)(json_t *state, const char *key,
                                                  const char *value),
                   const char *key, const char *value)
{
	char *path = state_path(), *dir = kd_strdup(path), *lock = kd_asprintf("%s.lock", path);
	*strrchr(dir, '/') = '\0';
	int fd = -1;
	if (kd_mkdirs(dir, 0700) == 0)
		fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
	json_t *now = fd >= 0 ? read_state(path) : json_incref(r->state);
	apply(now, key, value);
	char *text = json_dumps(now, JSON_INDENT(1));
	if (fd < 0 || !text || kd_write_file_atomic(path, text, strlen(text)) < 0)
		fprintf(stderr, "kindling: warning: cannot save upload progress in %s: %s\n", path,
		        strerror(errno));
	if (fd >= 0)
		close(fd); /* and with it the lock */
	json_decref(r->state);
	r->state = now;
	free(text);
	free(lock);
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

static void set_url(json_t *state, const char *key, const char *url)
{
	if (url)
		json_object_set_new(state, key, json_string(url));
	else
		json_object_del(state, key);
}

void resume_put(struct resume *r, const char *server, const char *file, const char *url)
{
	char *key = kd_asprintf("%s %s", server, file);
	change(r, set_url, key, url);
	free(key);
}

void resume_forget(struct resume *r, const char *server, const char *file)
{
	char *key = kd_asprintf("%s %s", server, file);
	if (json_object_get(r->state, key))
		change(r, set_url, key, NULL);
	free(key);
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

static void set_hash(json_t *state, const char *key, const char *sha256)
{
	json_t *hashes = json_object_get(state, "hashes");
	if (!json_is_object(hashes)) {
		hashes = json_object();
		json_object_set_new(state, "hashes", hashes);
	}
	/* Newest last (jansson keeps the order of insertion): the first ones
	 * go when there are too many. */
	json_object_del(hashes, key);
	while (json_object_size(hashes) >= HASHES_MAX)
		json_object_del(hashes, json_object_iter_key(json_object_iter(hashes)));
	json_object_set_new(hashes, key, json_string(sha256));
}

void resume_hash_put(struct resume *r, const char *key, const char *sha256)
{
	change(r, set_hash, key, sha256);
}
