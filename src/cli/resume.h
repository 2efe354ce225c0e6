/*
 * resume.h - what earlier runs of `kindling upload` leave for the next,
 * in $XDG_CACHE_HOME/kindling/uploads.json (or ~/.cache/kindling/):
 *
 * - the uploads a run began and did not finish, so that the next run
 *   resumes them instead of starting again: "<server> <file>" -> the
 *   upload's URL, where <file> names the file's contents (resume_file_key);
 * - the SHA-256 of files already read ("hashes": <file> -> SHA-256), so
 *   that sending a folder again asks the server about each file without
 *   reading gigabytes first.
 *
 * Every change is saved at once (atomically): a killed run loses nothing.
 * Each is made to the file as it is then, under a lock (uploads.json.lock),
 * so runs side by side keep each other's entries.
 * Private to src/cli/.
 */
#ifndef KINDLING_CLI_RESUME_H
#define KINDLING_CLI_RESUME_H

#include <jansson.h>
#include <sys/stat.h>

struct resume {
	json_t *state;
};

/* Read the state file (a missing or broken one is an empty state). */
void resume_load(struct resume *r);
void resume_free(struct resume *r);

/* What names the contents of the file at path with status st, without
 * reading it: where it is (device, inode, full path), its size and the
 * times of its last change (ctime moves with any write and cannot be set
 * back, so a file written since has another key).  The caller frees. */
char *resume_file_key(const char *path, const struct stat *st);

/* The URL of the upload of this file (key) to this server, or NULL. */
const char *resume_get(const struct resume *r, const char *server, const char *key);
void resume_put(struct resume *r, const char *server, const char *key, const char *url);
void resume_forget(struct resume *r, const char *server, const char *key);

/* The SHA-256 of the file of this key, as read by an earlier run, or NULL. */
const char *resume_hash_get(const struct resume *r, const char *key);
/* Remember it; the oldest are forgotten past a few thousand files. */
void resume_hash_put(struct resume *r, const char *key, const char *sha256);

#endif
