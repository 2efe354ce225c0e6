/*
 * resume.h - the uploads a run began and did not finish, so that the next
 * run resumes them instead of starting again: "<server> <sha256>" -> the
 * upload's URL, in $XDG_CACHE_HOME/kindling/uploads.json (or
 * ~/.cache/kindling/).  Every change is saved at once (atomically): a
 * killed run loses nothing.  Private to src/cli/.
 */
#ifndef KINDLING_CLI_RESUME_H
#define KINDLING_CLI_RESUME_H

#include <jansson.h>

struct resume {
	json_t *state;
};

/* Read the state file (a missing or broken one is an empty state). */
void resume_load(struct resume *r);
void resume_free(struct resume *r);
/* The URL of the upload of this file to this server, or NULL. */
const char *resume_get(const struct resume *r, const char *server, const char *sha256);
void resume_put(struct resume *r, const char *server, const char *sha256, const char *url);
void resume_forget(struct resume *r, const char *server, const char *sha256);

#endif
