/*
 * comments.h - notes people leave on a clip, optionally at a time in it.
 *
 * The clip's privacy rule (catalogue.h) applies: a user reads and adds
 * notes only on clips they may see; any other clip is KD_ENOTFOUND.  What
 * one person can write is bounded (length, and notes a day on one clip),
 * notes come in pages, and a note can be deleted by its author, by those
 * who may edit its clip, and by admins, so no one can fill a clip's page
 * for everyone.  Strings in the returned structs are owned by them
 * (comments_free).
 */
#ifndef KINDLING_COMMENTS_H
#define KINDLING_COMMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/users.h"

struct kd_db; /* db.h */

#define COMMENT_BODY_MAX 4000
#define COMMENT_AT_MAX (24.0 * 3600)
#define COMMENTS_PER_PAGE 50

struct comment {
	int64_t id;
	int64_t clip_id;
	int64_t user_id;   /* 0 when the account is gone */
	bool has_at;
	double at_s;       /* seconds into the clip, when has_at */
	char *author;      /* the user's name, or NULL */
	char *body;
	char *created_at;  /* YYYY-MM-DDTHH:MM:SSZ */
	bool may_delete;   /* by the user who asked for the list */
};

/* One page (from 1, COMMENTS_PER_PAGE a page) of the notes on a clip the
 * user may see, in the order of the clip: timed ones by time, then those
 * about the whole clip, oldest first.  *total counts them all.  On success
 * *out is a new array of *n (free with comments_free). */
int comments_list(struct kd_db *db, const struct kd_user *user, int64_t clip_id, int64_t page,
                  struct comment **out, size_t *n, int64_t *total);

/* Add a note.  at_s NULL: about the whole clip.  The body is 1 to
 * COMMENT_BODY_MAX bytes after trimming spaces, with no control characters
 * but newlines and tabs; at_s is 0..COMMENT_AT_MAX.  At most per_day notes
 * by one person on one clip in a day (UTC).  Returns 0 with the new row's
 * id, KD_EINVAL (err says what), KD_ELIMIT, KD_ENOTFOUND or KD_EDB. */
int comments_add(struct kd_db *db, const struct kd_user *user, int64_t clip_id, const double *at_s,
                 const char *body, unsigned per_day, int64_t *id, char *err, size_t errlen);

/* Delete note id of clip_id (0: of whichever clip), on a clip the user may
 * see: by its author, by those who may edit the clip, by admins.
 * KD_ENOTFOUND (no such note that the user can see), KD_EPERM, KD_EDB. */
int comments_delete(struct kd_db *db, const struct kd_user *user, int64_t clip_id, int64_t id);

/* The page of comments_list that note id of clip_id is on. */
int comments_page_of(struct kd_db *db, int64_t clip_id, int64_t id, int64_t *page);

void comments_free(struct comment *list, size_t n);

#endif
