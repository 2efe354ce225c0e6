/*
 * catalogue.h - schools, practices and clips: reading, filtering, editing.
 *
 * Every read that returns clips takes the user who asks and applies the
 * privacy rules of PRODUCT.md in SQL, so no caller can forget them:
 *   - admins see every clip;
 *   - the uploader sees their own clips, whatever their state;
 *   - anyone else sees a clip only when it is ready, its consent is
 *     on-file, and its visibility is district, or school and it is the
 *     user's school.
 * A clip the user may not see is reported as KD_ENOTFOUND, never as
 * forbidden, so its existence does not leak.
 *
 * Strings in the returned structs are owned by them: free with the
 * matching *_free function.
 */
#ifndef KINDLING_CATALOGUE_H
#define KINDLING_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/users.h"

struct kd_db; /* db.h */

struct cat_school {
	int64_t id;
	char *slug;
	char *name;
	char *district;
	int64_t clips; /* clips the asking user may see */
};

struct cat_practice {
	int64_t id;
	char *slug;
	char *name;
	char *description;
	int64_t clips;
	char *retired_at; /* NULL: in use; else when it was retired (see cat_practice_retire) */
};

/* A slug is 1..63 characters of a-z, 0-9 and '-', starting with a letter
 * or digit. */
bool cat_slug_valid(const char *slug);

/* Add a school or practice.  KD_EINVAL (bad slug or name), KD_EEXIST,
 * KD_EDB; err says which and what to do. */
int cat_school_add(struct kd_db *db, const char *slug, const char *name, const char *district,
                   char *err, size_t errlen);
int cat_practice_add(struct kd_db *db, const char *slug, const char *name, const char *description,
                     char *err, size_t errlen);

/* All schools / practices by name, with counts of clips visible to user.
 * On success *out is a new array of *n items (free with *_list_free). */
int cat_schools_list(struct kd_db *db, const struct kd_user *user, struct cat_school **out, size_t *n);
int cat_practices_list(struct kd_db *db, const struct kd_user *user, struct cat_practice **out,
                       size_t *n);
void cat_schools_free(struct cat_school *list, size_t n);
void cat_practices_free(struct cat_practice *list, size_t n);

/* One school or practice by slug, without counts.  KD_ENOTFOUND when
 * there is none; free *out with cat_schools_free(*out, 1) /
 * cat_practices_free(*out, 1). */
int cat_school_get(struct kd_db *db, const char *slug, struct cat_school **out);
/* Just the row id of a school's slug: 0, KD_ENOTFOUND or KD_EDB. */
int cat_school_id(struct kd_db *db, const char *slug, int64_t *id);
int cat_practice_get(struct kd_db *db, const char *slug, struct cat_practice **out);

/* A comma-separated list of all practice (or school) slugs, for messages
 * that tell a user what they could have typed (practices in use only: a
 * retired one takes no new clip).  Caller frees. */
char *cat_practice_slugs(struct kd_db *db);
char *cat_school_slugs(struct kd_db *db);

/* ---------------------------------------------------------------- administration
 * Schools and practices as an admin keeps them (schools.c, practices.c;
 * the pages /admin/schools and /admin/practices).  A slug never changes:
 * addresses and scripts use it; names, districts and descriptions do.  The
 * caller has checked that the user is an admin.  Each returns 0 or
 * KD_EINVAL (bad input), KD_ENOTFOUND (no such slug), KD_EEXIST, KD_EBUSY
 * or KD_EDB, with a message for a person in err. */

/* A school as the admin page lists it. */
struct cat_school_row {
	int64_t id;
	char *slug, *name, *district;
	int64_t clips;    /* every clip, whoever may see it */
	int64_t people;   /* accounts of the school, disabled ones too */
	bool from_roster; /* imported from a roster (schools.sourced_id): a
	                   * re-import sets its name and district again */
};
/* Every school by name; free *out with cat_school_rows_free. */
int cat_schools_admin_list(struct kd_db *db, struct cat_school_row **out, size_t *n);
void cat_school_rows_free(struct cat_school_row *list, size_t n);
/* Set a school's name and district (NULL: leave it). */
int cat_school_edit(struct kd_db *db, const char *slug, const char *name, const char *district,
                    char *err, size_t errlen);

/* Set a practice's name and description (NULL: leave it). */
int cat_practice_edit(struct kd_db *db, const char *slug, const char *name,
                      const char *description, char *err, size_t errlen);
/* Retire a practice (retired true) or bring it back.  A retired practice
 * keeps its clips, which still show it and are still listed and searched
 * by it; it is offered for no new clip (cat_practices_usable).  Doing what
 * is already done is no error; retiring the last practice in use is
 * KD_EINVAL (no clip could be filed). */
int cat_practice_retire(struct kd_db *db, const char *slug, bool retired, char *err,
                        size_t errlen);

/* What merging practice `from` into `into` moves (or moved). */
struct cat_practice_merge {
	int64_t clips;   /* clips of from */
	int64_t moved;   /* of them, those that gain into */
	int64_t already; /* of them, those that had into already */
	int64_t visits;  /* visits about from, which become about into */
};
/* What a merge would do now, to confirm it first. */
int cat_practice_merge_plan(struct kd_db *db, const char *from, const char *into,
                            struct cat_practice_merge *plan, char *err, size_t errlen);
/* Merge in one transaction: every clip of from gets into, every visit and
 * count about from is about into, and from is deleted (its slug then
 * names nothing).  *done says what moved.  from == into is KD_EINVAL. */
int cat_practice_merge(struct kd_db *db, const char *from, const char *into,
                       struct cat_practice_merge *done, char *err, size_t errlen);

/* May these practices be given to a clip: none of them retired, unless
 * clip clip_id has it already (0: a new clip)?  An unknown slug is left
 * to cat_clip_edit_check.  KD_EINVAL names the retired one and the
 * practices to use instead. */
int cat_practices_usable(struct kd_db *db, int64_t clip_id, const char *const *slugs, size_t n,
                         char *err, size_t errlen);

/* Where processing of a clip stands.  The names ("queued", ...) are for
 * the edges only: the database, JSON and pages. */
enum cat_status { CAT_QUEUED, CAT_PROCESSING, CAT_READY, CAT_FAILED };
const char *cat_status_name(enum cat_status s);
/* Returns 0 and sets *s, or KD_EINVAL for an unknown name. */
int cat_status_parse(const char *name, enum cat_status *s);

/* What a clip's fields may hold, checked by cat_clip_edit_check and
 * offered by the forms that edit them (bytes, or counts). */
#define CAT_TITLE_MAX 200
#define CAT_DESCRIPTION_MAX 5000
#define CAT_TEACHER_MAX 100
#define CAT_GRADE_MAX 20
#define CAT_SUBJECT_MAX 60
#define CAT_TAG_MAX 50
#define CAT_TAGS_MAX 20
#define CAT_PRACTICES_MAX 10

/* Media facts of the original file; numbers are 0 (or NULL strings) until
 * the clip has been probed. */
struct cat_media {
	char *container;
	double duration_s;
	int width, height; /* as displayed */
	int rotation;
	char *video_codec;
	char *audio_codec;
	double fps;
	int64_t bit_rate;
	int64_t size_bytes;
	bool probed;
};

struct cat_clip {
	int64_t id;
	char *title;
	char *description;
	char *school;       /* slug */
	char *school_name;
	int64_t school_id;
	char **practices;   /* slugs */
	size_t n_practices;
	char **tags;
	size_t n_tags;
	char *teacher;
	char *grade;
	char *subject;
	char *recorded_on;  /* NULL or YYYY-MM-DD */
	char *uploaded_at;
	enum cat_status status;
	char *error;        /* NULL unless failed */
	char *consent;
	/* The consent record: on what basis ("releases", "no-students",
	 * "blurred"; NULL unless on-file), who confirmed or changed it (an
	 * account name) and when; cat_consent_history has the rest. */
	char *consent_basis;
	char *consent_by;
	char *consent_at;
	char *visibility;
	bool held;          /* under legal hold: retention leaves it alone */
	/* Its blur regions changed since its files were made: the files show
	 * what must now be blurred, and are served to nobody until made again. */
	bool media_stale;
	int64_t uploader_id;
	char *uploader;     /* name, NULL if the account is gone */
	char *sha256;
	char *original_name;
	bool has_captions;
	int captions;        /* issue 15: enum captions_source (captions.h) */
	struct cat_media media;
	/* Private to the catalogue: when set, every string and list above is
	 * in this one allocation (a clip from the index), freed as one. */
	void *block;
};

void cat_clip_free(struct cat_clip *clip);

/* Fetch one clip the user may see.  KD_ENOTFOUND if there is none. */
int cat_clip_get(struct kd_db *db, const struct kd_user *user, int64_t id, struct cat_clip *out);

enum cat_sort { CAT_SORT_NEWEST, CAT_SORT_OLDEST, CAT_SORT_TITLE, CAT_SORT_RECORDED,
                CAT_SORT_RELEVANCE };

struct cat_query {
	const char *practice; /* slug or NULL */
	const char *school;   /* slug or NULL */
	const char *grade;
	const char *subject;
	const char *q;        /* words a person typed; never FTS syntax */
	const char *sha256;   /* the clip of exactly this file, if visible */
	enum cat_sort sort;   /* relevance applies only with q */
	int64_t page;         /* from 1 */
	int64_t per_page;     /* 1..CAT_PER_PAGE_MAX */
};
#define CAT_PER_PAGE_MAX 100
#define CAT_PAGE_MAX 1000000

/* Relevance ranking reads every match: past this many, newest first. */
#define CAT_RANK_MAX 2000

struct cat_page {
	int64_t total;        /* all matches, not just this page */
	enum cat_sort sort;   /* the order used: relevance falls back to newest */
	struct cat_clip *clips;
	size_t n;
};

/* List clips the user may see that match q.  An unknown practice or school
 * slug is KD_ENOTFOUND with a message listing the known ones; a query with
 * no searchable words is ignored.  Free the page with cat_page_free. */
int cat_clips_list(struct kd_db *db, const struct kd_user *user, const struct cat_query *q,
                   struct cat_page *out, char *err, size_t errlen);
void cat_page_free(struct cat_page *page);

/* Turn words a person typed into a safe FTS5 MATCH expression: each word
 * becomes a quoted string (quotes doubled), the last one a prefix query,
 * all joined by AND.  Returns a new string, or NULL when there is no word
 * at all.  Input longer than 256 bytes is cut at a word boundary. */
char *cat_fts_query(const char *typed);

/* Fields a PATCH may change; NULL / negative means "leave as it is". */
struct cat_clip_edit {
	const char *title;
	const char *description;
	const char *teacher;
	const char *grade;
	const char *subject;
	const char *recorded_on; /* "" clears it */
	const char *consent;
	/* The basis of consent on file ("releases", "no-students", "blurred");
	 * NULL keeps the clip's, or "releases" when it had none.  "blurred"
	 * needs blur regions applied first. */
	const char *consent_basis;
	/* Why consent changed: needed to withdraw it, kept in its history. */
	const char *consent_reason;
	const char *by;          /* the account name that made the edit */
	const char *visibility;
	const char *school;
	const char *const *practices; /* slugs; set_practices says whether given */
	size_t n_practices;
	bool set_practices;
	const char *const *tags;
	size_t n_tags;
	bool set_tags;
};

/* Can this user change or delete this clip?  Admins can; a coach can for
 * clips they uploaded or clips of their own school; the uploader can. */
bool cat_clip_may_edit(const struct kd_user *user, const struct cat_clip *clip);

/* May this user file clips at this school (upload there, or move a clip
 * there)?  Admins and coaches without a school (who serve the district)
 * anywhere; a coach at their own school; nobody else. */
bool cat_may_file_at(const struct kd_user *user, int64_t school_id);

/* Check an edit without applying it: lengths, dates, enumerations, that
 * practices and school exist.  KD_EINVAL / KD_ENOTFOUND with a message. */
int cat_clip_edit_check(struct kd_db *db, const struct cat_clip_edit *e, char *err, size_t errlen);

/* Apply an edit in one transaction.  The caller has checked permission. */
int cat_clip_update(struct kd_db *db, int64_t id, const struct cat_clip_edit *e, char *err,
                    size_t errlen);

/* ---------------------------------------------------------------- consent
 * A clip's consent is a record (consent.c): cat_clip_update keeps it when
 * consent or its basis change, and its history here, oldest first. */
#define CAT_CONSENT_REASON_MAX 1000
bool cat_consent_basis_valid(const char *basis);
struct cat_consent_event {
	char *consent, *basis; /* basis NULL unless on-file */
	char *reason, *by, *at;
};
int cat_consent_history(struct kd_db *db, int64_t id, struct cat_consent_event **out, size_t *n);
void cat_consent_events_free(struct cat_consent_event *list, size_t n);

/* Legal hold: a clip kept past any retention period until an admin lifts
 * it (reason required to set it).  KD_EINVAL, KD_ENOTFOUND, KD_EDB. */
int cat_clip_hold(struct kd_db *db, int64_t id, bool on, const char *by, const char *reason,
                  char *err, size_t errlen);
struct cat_hold {
	char *at, *by, *reason; /* all NULL: not held */
};
int cat_clip_hold_get(struct kd_db *db, int64_t id, struct cat_hold *out);
void cat_hold_free(struct cat_hold *h);

/* ---------------------------------------------------------------- blur
 * Regions blurred in everything served (blur.c; schema/010).  x, y, w, h
 * are fractions of the upright picture.  Setting them moves the clip's
 * blur_rev: its files are then served to nobody until processing has made
 * them again with the new regions (the caller queues that job). */
#define CAT_BLUR_MAX 200
struct cat_blur_region {
	double from_s, to_s, x, y, w, h;
	char source[12]; /* "editor" or "detector" */
	char state[12];  /* "applied" or "proposed" */
	double confidence; /* detector's, 0..1; negative: none */
};
/* The clip's regions (applied and proposed) by start time, and its
 * blur_rev.  Free *out with free(). */
int cat_blur_list(struct kd_db *db, int64_t id, struct cat_blur_region **out, size_t *n,
                  int64_t *rev);
/* Replace the clip's applied regions with these (proposed ones stay),
 * checking each (times within the clip, fractions within the picture):
 * KD_EINVAL with a sentence naming the region.  *rev is the new blur_rev. */
int cat_blur_set(struct kd_db *db, int64_t id, const struct cat_blur_region *r, size_t n,
                 const char *by, int64_t *rev, char *err, size_t errlen);
/* Processing made the clip's files with blur_rev rev. */
int cat_blur_made(struct kd_db *db, int64_t id, int64_t rev);

/* Delete a clip's row (comments, views, jobs and links go with it).  The
 * caller removes the files afterwards (see media paths). */
int cat_clip_delete(struct kd_db *db, int64_t id);

/* ---------------------------------------------------------------- retention
 * How long clips are kept (retention.c; the setting retention_months, and
 * src/jobs/erase.c, which deletes).  A clip's date is its recorded_on, or
 * the day it was uploaded when it has none. */
struct cat_retained {
	int64_t id;
	char *title, *school;   /* school: the slug */
	char *recorded_on;      /* YYYY-MM-DD, NULL when not given */
	char *uploaded_at;      /* YYYY-MM-DDTHH:MM:SSZ */
	char *sha256;
	char *hold_at, *hold_by, *hold_reason; /* hold_at NULL: not held */
};
void cat_retained_free(struct cat_retained *r);
/* One clip, whoever may see it (for deleting it): 0, KD_ENOTFOUND or
 * KD_EDB; free *out with cat_retained_free. */
int cat_retained_get(struct kd_db *db, int64_t id, struct cat_retained *out);
/* Every clip whose date is more than months (1..1200) ago, that is before
 * date('now', '-N months') in UTC, in id order; held ones too (hold_at
 * set), which retention leaves alone and reports.  Rows are read a page at
 * a time before fn sees them, so fn may write (delete the clip); fn
 * returns non-zero to stop (returned).  Returns 0, fn's code, KD_EINVAL
 * (months out of range) or KD_EDB. */
int cat_clips_past_retention(struct kd_db *db, int months,
                             int (*fn)(void *arg, const struct cat_retained *c), void *arg);
/* Delete a clip's row, as cat_clip_delete, unless it is held at that
 * moment (checked in the same statement: a hold set meanwhile wins).
 * 0, KD_EPERM (held), KD_ENOTFOUND or KD_EDB. */
int cat_clip_delete_unheld(struct kd_db *db, int64_t id);

/* A new clip, as the upload and ingest paths create it.  Returns its id
 * in *id; KD_EEXIST when a clip with that sha256 exists that c->viewer
 * may see (its id in *id).
 * Runs in the caller's transaction when one is open (intake.c makes the
 * clip, its job and its file one step), else in its own. */
struct cat_clip_new {
	const char *title;
	const char *description;
	const char *school;
	const char *const *practices;
	size_t n_practices;
	const char *const *tags;
	size_t n_tags;
	const char *teacher, *grade, *subject, *recorded_on;
	const char *consent, *visibility;
	enum cat_status status; /* CAT_QUEUED unless set */
	const char *original_name;
	const char *sha256;
	int64_t uploader_id; /* 0: none */
	/* Whose duplicates count: a clip with the same sha256 is the same clip
	 * only if this user may see it (nothing is revealed of another).
	 * NULL: every clip (the server's own ingest). */
	const struct kd_user *viewer;
	/* The id taken for it by cat_clip_reserve_id(), or 0: the next. */
	int64_t id;
	/* issue 16: the upload batch it arrives in (tus metadata batch,
	 * batch_size, notify), filed by intake with outbox_batch_attach; NULL:
	 * none. */
	const char *batch;
	int64_t batch_size;
	bool batch_notify;
};
int cat_clip_create(struct kd_db *db, const struct cat_clip_new *c, int64_t *id, char *err,
                    size_t errlen);
/* Take the id the next clip would get, for a clip whose files are stored
 * before its row exists (an upload shared by several web nodes); a clip
 * made with it later keeps it.  PostgreSQL only (ids come from a
 * sequence there): KD_EINVAL on SQLite.  Returns 0 or KD_EDB. */
int cat_clip_reserve_id(struct kd_db *db, int64_t *id);
/* The checks cat_clip_create makes, without creating anything (to refuse
 * an upload before its bytes are sent). */
int cat_clip_new_check(struct kd_db *db, const struct cat_clip_new *c, char *err, size_t errlen);

/* Record what processing found and where it stands (the worker's calls). */
int cat_clip_set_status(struct kd_db *db, int64_t id, enum cat_status status, const char *error);
/* The same, only for a clip still queued or processing: a finished clip
 * (ready or failed) is left as it is, and that is not an error. */
int cat_clip_set_status_unfinished(struct kd_db *db, int64_t id, enum cat_status status,
                                   const char *error);
int cat_clip_set_media(struct kd_db *db, int64_t id, const struct cat_media *m, int coded_width,
                       int coded_height, const char *created_time);
/* Status of a clip whoever asks (for runners and command-line tools); the
 * caller frees *error (NULL unless failed). */
int cat_clip_status(struct kd_db *db, int64_t id, enum cat_status *status, char **error);

/* Every clip, whoever may see it, in id order, for tools that move or
 * check the media (`kindling move-to`): fn gets each id and the SHA-256 of
 * its original, and stops the walk by returning non-zero (returned).
 * Returns 0, fn's code or KD_EDB. */
int cat_clips_each(struct kd_db *db, int (*fn)(void *arg, int64_t id, const char *sha256),
                   void *arg);

/* Is s a real calendar date written YYYY-MM-DD? */
bool cat_date_valid(const char *s);

/* Answer lists, counts and single clips from an index kept in memory
 * (src/catalogue/index.h) rather than SQL, in this process from now on
 * (or no longer, with false).
 * The server does, before it listens; the answers are the same either
 * way, and a change written by any process shows on the next request.
 * cat_index_warm() builds it now, so the first request does not wait.
 * Returns 0 or a KD_E* code. */
void cat_index_enable(bool on);
int cat_index_warm(struct kd_db *db);

/* Forget the record of changes the index follows (schema/005) older than
 * the last `keep`; an index further behind reloads everything. */
int cat_changes_prune(struct kd_db *db, int64_t keep);

#endif
