/*
 * comments.h - notes people leave on a clip, optionally at a time in it.
 *
 * The clip's privacy rule (catalogue.h) applies: a user reads and adds
 * comments only on clips they may see; any other clip is KD_ENOTFOUND.
 * Strings in the returned structs are owned by them (comments_free).
 */
#ifndef KINDLING_COMMENTS_H
#define KINDLING_COMMENTS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/users.h"

#define COMMENT_BODY_MAX 4000
#define COMMENT_AT_MAX (24.0 * 3600)

struct comment {
	int64_t id;
	int64_t clip_id;
	int64_t user_id;   /* 0 when the account is gone */
	bool has_at;
	double at_s;       /* seconds into the clip, when has_at */
	char *author;      /* the user's name, or NULL */
	char *body;
	char *created_at;  /* YYYY-MM-DDTHH:MM:SSZ */
};

/* The comments on a clip the user may see, in the order of the clip: timed
 * ones by time, then those about the whole clip, oldest first.  On success
 * *out is a new array of *n (free with comments_free). */
int comments_list(sqlite3 *db, const struct kd_user *user, int64_t clip_id,
                  struct comment **out, size_t *n);

/* Add a comment.  at_s NULL: about the whole clip.  The body is 1 to
 * COMMENT_BODY_MAX bytes after trimming spaces, with no control characters
 * but newlines and tabs; at_s is 0..COMMENT_AT_MAX.  Returns 0 with the new
 * row's id, KD_EINVAL (err says what), KD_ENOTFOUND or KD_EDB. */
int comments_add(sqlite3 *db, const struct kd_user *user, int64_t clip_id, const double *at_s,
                 const char *body, int64_t *id, char *err, size_t errlen);

void comments_free(struct comment *list, size_t n);

#endif
