/*
 * check.h - is every clip's media what the catalogue says it is?
 * `kindling check` (src/cli/cli_check.c), and `kindling backup` for the
 * originals it copies (check_original).
 *
 * For each clip, the files its status says it must have
 * (check_file_needed): every clip its original, whose SHA-256 must be the
 * catalogue's; a ready clip also what processing made of it (rendition,
 * thumbnail, poster, storyboard WebVTT and sprite), and its captions when
 * it has some.  A file that is there but empty counts as missing.  Then
 * what no clip owns: clip folders of the data folder's media/ without a
 * row (with media in a bucket these are work folders: a clip taken in by
 * this node waits there until it is processed, and is checked there), the
 * bucket's objects under "<id>/" without a row, and temporary files an
 * interrupted write left behind in the data folder (a bucket has none).
 *
 * With repair, a ready clip whose derived files are missing while its
 * original is intact is queued for processing again (its status queued
 * and a job, one transaction, as intake queues a new clip); orphans and
 * temporaries are removed.  Nothing else is repaired: a missing or
 * damaged original (only a backup has it), missing captions (only their
 * author has them), a storage that cannot be read.
 *
 * Beside a running server.  The catalogue is read a page of clips at a
 * time (no read transaction lasts while originals are hashed) and written
 * only to requeue, one short transaction per clip.  A clip found wrong is
 * read again before it is reported: one deleted meanwhile is not reported,
 * one whose status changed is checked again as it now is.  Whatever has
 * no row is judged by its age: anything written less than min_age_s ago
 * is left alone (an upload being filed makes its folder a moment before
 * its row, src/jobs/intake.c; an upload shared by several web nodes stores
 * its original before the row exists; a worker writes its temporaries as
 * it goes), and an orphan's row is looked for again just before it is
 * removed.  Temporaries of a clip being processed are never touched.
 *
 * Memory: originals are hashed as they stream (storage_sha256: a buffer,
 * never the file); the run keeps 9 bytes per clip (its id and status) to
 * tell orphans, and one page of clips.
 */
#ifndef KINDLING_CHECK_H
#define KINDLING_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/catalogue.h"
#include "kindling/paths.h"
#include "kindling/sha256.h"

struct kd_db;      /* db.h */
struct kd_storage; /* storage.h */

/* What may be removed must not have been written for this long. */
#define CHECK_MIN_AGE_S 3600

/* A clip as the catalogue describes it: what decides its files. */
struct check_clip {
	int64_t id;
	const char *title;
	enum cat_status status;
	bool has_captions;
	const char *sha256; /* of its original; NULL or "" when the catalogue holds none */
};

/* Must clip c have file f?  The original always; the rest when it is
 * ready; the captions only when it has some.  Cannot fail. */
bool check_file_needed(const struct check_clip *c, enum kd_media_file f);

/* Is the original of clip id in s the file whose SHA-256 is want (64
 * hex digits)?  Read through, never whole into memory.  Returns 0 when it
 * is; KD_EINVAL when it is not (got holds what it is); KD_ENOTFOUND when
 * there is none; another KD_E* code, with err, when it cannot be read. */
int check_original(struct kd_storage *s, int64_t id, const char *want, char got[KD_SHA256_HEX],
                   char *err, size_t errlen);

/* What is wrong. */
enum check_problem {
	CHECK_MISSING_FILES,    /* a ready clip lacks derived files (or they are empty) */
	CHECK_MISSING_CAPTIONS, /* a ready clip with captions lacks captions.vtt */
	CHECK_MISSING_ORIGINAL,
	CHECK_CORRUPT_ORIGINAL, /* its SHA-256 is not the catalogue's */
	CHECK_UNREADABLE,       /* the storage would not say (detail says why) */
	CHECK_ORPHAN,           /* a clip folder, or objects under "<id>/", without a row */
	CHECK_TEMPORARY,        /* a temporary file an interrupted write left behind */
};

/* What was done about it. */
enum check_action {
	CHECK_NONE,     /* nothing: still a problem */
	CHECK_REQUEUED, /* queued for processing again (or already being processed) */
	CHECK_REMOVED,
	CHECK_LEFT,     /* too new to judge, left alone: not a problem */
	CHECK_FAILED,   /* repair was tried and failed (detail says why): still a problem */
};

/* One finding, for the caller to print; everything in it is valid only
 * during the call. */
struct check_finding {
	enum check_problem problem;
	enum check_action action;
	int64_t clip;            /* the clip, or the id an orphan's folder carries */
	const char *title;       /* the clip's; NULL for orphans and temporaries */
	enum cat_status status;  /* the clip's */
	unsigned files;          /* MISSING_FILES/CAPTIONS: 1u << f for each file missing or empty */
	unsigned empty;          /* ... of them, those there but empty */
	bool original_bad;       /* MISSING_FILES: not requeued, the original is missing or damaged */
	const char *want, *got;  /* CORRUPT_ORIGINAL: the catalogue's SHA-256 and the file's */
	const char *where;       /* ORPHAN/TEMPORARY: "media/12", "12/" (a key prefix), "tmp/x" */
	bool in_bucket;          /* ORPHAN: where is a prefix of objects, not a folder */
	int64_t age_s;           /* ORPHAN/TEMPORARY: since it was last written */
	long count;              /* ORPHAN: its files */
	uint64_t bytes;          /* ORPHAN/TEMPORARY: their size */
	const char *detail;      /* UNREADABLE, FAILED: a sentence; else NULL */
};

typedef void (*check_report_fn)(void *arg, const struct check_finding *f);

struct check_options {
	bool repair;
	int64_t now;        /* seconds since 1970: the time ages are measured at */
	unsigned min_age_s; /* CHECK_MIN_AGE_S, less in tests */
};

/* What a run found, by clip (a clip may count under several problems). */
struct check_totals {
	long clips;               /* checked (not counting those deleted meanwhile) */
	long ok;                  /* of them, nothing wrong */
	long missing_files, requeued;
	long missing_captions, missing_originals, corrupt_originals, unreadable;
	long orphans, orphans_removed, orphans_left;
	long temporaries, temporaries_removed;
	long problems_left;       /* findings not repaired: 0 means all is well */
	uint64_t bytes_hashed;
};

/* Check the catalogue db against the media in s (the data folder's
 * media/ or a bucket; data_dir is the data folder, for its tmp/ and, with
 * media there, its temporaries), reporting each finding to fn as it is
 * made, and repairing as options say.  Returns 0 when the run went
 * through (t says what it found); KD_EDB or a storage error, with err,
 * when it could not look (the catalogue or the bucket could not be
 * listed). */
int check_run(const struct check_options *o, struct kd_db *db, struct kd_storage *s,
              const char *data_dir, check_report_fn fn, void *arg, struct check_totals *t,
              char *err, size_t errlen);

/* The word of a problem and an action, for JSON: "missing-files",
 * "missing-captions", "missing-original", "corrupt-original",
 * "unreadable", "orphan", "temporary"; "none", "requeued", "removed",
 * "left", "failed". */
const char *check_problem_name(enum check_problem p);
const char *check_action_name(enum check_action a);

#endif
