/*
 * moments.h - moments: a time range of a clip that shows a practice, with a
 * short title (PRODUCT.md, "moment").  What a teacher watches first; browsed
 * across schools by practice.
 *
 * A moment is seen by whoever may see its clip (catalogue.h's privacy rule,
 * applied in SQL here too, so no caller can forget it); a moment of a clip
 * the user may not see is KD_ENOTFOUND.  It is added, changed and removed
 * by those who may edit the clip (cat_clip_may_edit) and by its featured
 * teacher (a teacher at the clip's school whose name is the clip's
 * teacher, as visits.h answers visits).
 *
 * Strings in the structs are owned by them: free with the *_free function.
 */
#ifndef KINDLING_MOMENTS_H
#define KINDLING_MOMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/users.h"

struct kd_db;    /* db.h */
struct cat_clip; /* catalogue.h */

#define MOMENT_TITLE_MAX 200
#define MOMENTS_PER_CLIP_MAX 100
#define MOMENTS_PER_PAGE_MAX 100

struct cat_moment {
	int64_t id;
	int64_t clip_id;
	double start_s;
	double end_s;
	char *practice;       /* slug */
	char *practice_name;
	char *title;
	/* The clip it belongs to, for lists across clips. */
	char *clip_title;
	char *school;         /* slug */
	char *school_name;
	double clip_duration_s; /* 0 when not known yet */
};

/* A new moment or a change; for a change NULL / negative leaves a field as
 * it is. */
struct cat_moment_edit {
	double start_s;
	double end_s;
	const char *practice; /* slug */
	const char *title;
};

/* May this user add, change or remove the moments of this clip? */
bool cat_moment_may_edit(const struct kd_user *user, const struct cat_clip *clip);

/* The moments of a clip the user may see, by start.  KD_ENOTFOUND when
 * the clip is not there for them.  Free with cat_moments_free. */
int cat_moments_of_clip(struct kd_db *db, const struct kd_user *user, int64_t clip_id,
                        struct cat_moment **out, size_t *n);

/* Add one.  KD_EINVAL with a message for a bad range (end not after
 * start, past the clip's end), an empty or long title, too many moments;
 * KD_ENOTFOUND for a practice that does not exist (the message lists
 * them) or a clip the user may not see (err left empty: that is how the
 * two are told apart); KD_EPERM when the user may see but not edit it.
 * A retired practice is KD_EINVAL.  *id is the new moment's. */
int cat_moment_add(struct kd_db *db, const struct kd_user *user, int64_t clip_id,
                   const struct cat_moment_edit *m, int64_t *id, char *err, size_t errlen);

/* One moment the user may see; free with cat_moment_free. */
int cat_moment_get(struct kd_db *db, const struct kd_user *user, int64_t id,
                   struct cat_moment *out);
/* Change or remove one (same errors as cat_moment_add). */
int cat_moment_update(struct kd_db *db, const struct kd_user *user, int64_t id,
                      const struct cat_moment_edit *e, char *err, size_t errlen);
int cat_moment_delete(struct kd_db *db, const struct kd_user *user, int64_t id, char *err,
                      size_t errlen);

/* Moments across clips and schools that the user may see, newest clip
 * first; an unknown practice or school slug is KD_ENOTFOUND with a
 * message listing the known ones. */
struct cat_moment_query {
	const char *practice; /* slug or NULL */
	const char *school;   /* slug or NULL */
	int64_t page;         /* from 1 */
	int64_t per_page;     /* 1..MOMENTS_PER_PAGE_MAX */
};
struct cat_moment_page {
	int64_t total;
	struct cat_moment *moments;
	size_t n;
};
int cat_moments_list(struct kd_db *db, const struct kd_user *user,
                     const struct cat_moment_query *q, struct cat_moment_page *out, char *err,
                     size_t errlen);

void cat_moment_free(struct cat_moment *m);
void cat_moments_free(struct cat_moment *list, size_t n);
void cat_moment_page_free(struct cat_moment_page *p);

/* "M:SS-M:SS PRACTICE TITLE" (kindling upload --moment, the manifest's
 * moments column: several separated by ';'), also H:MM:SS and plain
 * seconds with a fraction.  Fills m with pointers into buf (which it
 * changes).  KD_EINVAL with a message saying what is wrong. */
int moment_spec_parse(char *buf, struct cat_moment_edit *m, char *err, size_t errlen);

#endif
