/*
 * erase.h - deleting a clip completely, and the clips past retention.
 *
 * One way to delete a clip, whoever asks (DELETE /api/v1/clips/{id},
 * `kindling retention --apply`, the server's daily run): clip_erase.  It
 * refuses a clip under legal hold; otherwise, in one transaction, it
 * records who deleted it and why in the audit trail and deletes its row
 * (its comments, views, jobs, consent history, blur regions and finished
 * upload records go with it), then removes every file it had: its folder
 * in the data folder (original, rendition, pictures, storyboard, captions,
 * blur.json, a work folder), every object under its prefix in the object
 * storage, and what is left of its uploads (a tus upload's folder or its
 * multipart upload).  The row goes first, so from that moment nothing
 * serves the files while they are being removed.
 *
 * Copies kept in memory need nothing more: the whole-answer cache, the
 * index and the summaries of every server are kept for one catalogue epoch,
 * and deleting the row moves it on (schema/005's triggers; on PostgreSQL
 * the commit's NOTIFY reaches the other nodes).
 *
 * Retention (the setting retention_months, off by default): a clip is past
 * it when its recorded date (else the day it was uploaded) is more than
 * that many months ago; a held clip is never deleted for it.
 */
#ifndef KINDLING_ERASE_H
#define KINDLING_ERASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/audit.h"
#include "kindling/catalogue.h"
#include "kindling/config.h"
#include "kindling/storage.h"

struct kd_db; /* db.h */

/* Delete clip clip_id and everything it had.  who: a person (the entry
 * is a `delete`) or kindling itself (user_id 0, user_name "": a
 * `retention` entry); why: their reason, kept in the entry (NULL or "":
 * none).  storage: where the clip's media are (NULL: the data folder
 * only).  Returns:
 *   0             the clip is gone, and all its files;
 *   KD_ENOTFOUND  there is no such clip (deleted already, perhaps by
 *                 another node): nothing was done;
 *   KD_EPERM      it is under legal hold: nothing was done;
 *   KD_EDB, KD_EBUSY  the catalogue failed: nothing was done;
 *   KD_EIO        the clip is deleted (row and audit entry) but some of
 *                 its files could not be removed: err says which (the log
 *                 has them too), and `kindling check --repair` removes
 *                 them as orphans.
 * err gets a sentence for a person in every case but 0. */
int clip_erase(struct kd_db *db, struct kd_storage *storage, const char *data_dir,
               int64_t clip_id, const struct audit_actor *who, const char *why, char *err,
               size_t errlen);

/* What retention did or would do with one clip. */
enum erase_outcome {
	ERASE_PAST,       /* past retention; would be deleted (no apply) */
	ERASE_HELD,       /* past it, but under legal hold: kept */
	ERASE_DELETED,    /* deleted */
	ERASE_FILES_LEFT, /* deleted, but some files stay (err) */
	ERASE_GONE,       /* deleted meanwhile by someone else */
	ERASE_FAILED,     /* not deleted (err) */
};
struct erase_item {
	const struct cat_retained *clip;
	const char *date;      /* the date retention goes by: YYYY-MM-DD */
	bool recorded;         /* it is the recorded date (else the upload day) */
	enum erase_outcome outcome;
	const char *err;       /* for FILES_LEFT and FAILED, else "" */
};
struct erase_totals {
	long past;       /* clips past retention and not held */
	long held;       /* past it, kept under legal hold */
	long deleted;    /* of the past ones, deleted (files left or not) */
	long files_left; /* of the deleted, those with files left */
	long failed;     /* of the past ones, not deleted */
};

/* Every clip past retention_months = months (1..1200): with apply, each
 * one not held deleted by clip_erase as kindling, with the reason "past
 * retention_months=N: recorded YYYY-MM-DD" (or "uploaded YYYY-MM-DD (no
 * recorded date)"); without, nothing changes.  fn (may be NULL) hears of
 * each clip, in id order, as it is handled; it returns non-zero to stop
 * (returned).  *t counts.  Returns 0, fn's code, KD_EINVAL (months) or
 * KD_EDB (the clips could not be listed; t counts those handled). */
int erase_retention(struct kd_db *db, struct kd_storage *storage, const char *data_dir,
                    int months, bool apply,
                    int (*fn)(void *arg, const struct erase_item *it), void *arg,
                    struct erase_totals *t);

/* The day before which a clip's date is past months of retention, today
 * (UTC) as SQLite's date('now', '-N months') computes it ("YYYY-MM-DD").
 * For messages: the catalogue decides with its own clock. */
void erase_retention_cutoff(int months, char out[11]);

/* Whole months from date (YYYY-MM-DD) to today (UTC); 0 for a bad date. */
int erase_age_months(const char *date);

/* The daily task of a processing node (started with its runner, so a web
 * node started with --no-processing has none): a few minutes after start,
 * then every 24 hours, the clips past retention_months are deleted (when
 * it is set) and the audit entries older than audit_months removed.  On
 * PostgreSQL only one node at a time does a round (an advisory lock); one
 * that finds a clip gone already goes on.  KINDLING_DAILY_DELAY_S (0 to
 * 86400) sets the delay before the first round, for tests; the default is
 * ERASE_DAILY_FIRST_S. */
#define ERASE_DAILY_FIRST_S 300
#define ERASE_DAILY_EVERY_S (24 * 3600)
struct erase_daily;
/* Start the task's thread; cfg must outlive it.  0 or KD_EIO. */
int erase_daily_start(const struct kd_config *cfg, struct erase_daily **out);
/* Stop it (a round under way stops after the clip it is deleting); NULL
 * and *d NULL are harmless. */
void erase_daily_stop(struct erase_daily **d);
/* One round now, as the task does it (its own connections).  0 or the
 * first KD_E* code a part of it failed with (each is logged). */
int erase_daily_round(const struct kd_config *cfg);

#endif
