/*
 * tus_state.h - an upload in progress, as it lives on disk, and what a tus
 * request's headers say about it.  No HTTP here (tus.c answers), so every
 * piece can be tested and fuzzed on its own.  Private to src/web/.
 *
 * An upload lives in <data>/uploads/<id>/: "info.json" (who, how long,
 * the clip's metadata, and the clip once it exists), "data" (the bytes so
 * far) and "sha256" (how far the SHA-256 of those bytes got).  The offset
 * is the size of "data": whatever reached the disk before a dropped
 * connection or a restart counts.
 */
#ifndef KINDLING_WEB_TUS_STATE_H
#define KINDLING_WEB_TUS_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/catalogue.h"
#include "kindling/config.h"
#include "kindling/sha256.h"

struct kd_db; /* db.h */

#define TUS_ID_LEN 32 /* lowercase hex */

struct tus_upload {
	char id[TUS_ID_LEN + 1];
	char *dir;
	char *data_path;
	char *info_path;
	char *hash_path;
	json_t *info;     /* {"user", "length", "meta": {...}, "created", "clip"} */
	int64_t user;     /* who may continue it (and admins) */
	uint64_t length;
	uint64_t offset;
	int64_t clip;     /* 0 until complete */
};

/* A header's decimal value of at most 19 digits, nothing else. */
bool tus_parse_u64(const char *s, uint64_t *out);
/* Upload-Metadata: "key base64,key base64,...".  Values are decoded into
 * meta as JSON strings (a key without a value is "").  Returns 0, or
 * KD_EINVAL with err saying which entry is wrong (too long, not base64,
 * not UTF-8). */
int tus_parse_metadata(const char *h, json_t *meta, char *err, size_t errlen);

/* A comma list split into trimmed pieces that point into copy. */
struct tus_list {
	char *copy;
	const char *items[32];
	size_t n;
};
/* The clip an upload's metadata describes, as intake wants it, checked
 * against the catalogue and the uploader's right to file at its school
 * (cat_may_file_at); title falls back to the file name.  Strings point
 * into meta and m (and uploader, for the duplicate check).  Returns 0,
 * KD_EINVAL, KD_ENOTFOUND or KD_EPERM with err; free with
 * tus_clip_meta_free() in every case. */
struct tus_clip_meta {
	struct cat_clip_new c;
	struct tus_list practices, tags;
	char *title;
};
int tus_clip_meta(struct kd_db *db, const char *default_consent, json_t *meta,
                  const struct kd_user *uploader, struct tus_clip_meta *m, char *err,
                  size_t errlen);
void tus_clip_meta_free(struct tus_clip_meta *m);
/* issue 16: the upload batch meta names ("batch", "batch_size",
 * "notify"; kindling upload sends one per run), into c's batch fields
 * (pointing into meta); none: c->batch stays NULL.  Its uploader hears
 * once the batch is processed (outbox.h).  0, or KD_EINVAL with err (a
 * token other than 8 to 64 of A-Z a-z 0-9 - _, a size other than 1 to
 * 100000, notify other than 1/0/true/false).  tus_clip_meta calls it. */
int tus_batch_meta(json_t *meta, struct cat_clip_new *c, char *err, size_t errlen);
/* issue 16: an unfinished upload of user with meta was cancelled (tus
 * termination: kindling upload found the server has the file): its
 * batch, if any, waits for one file fewer. */
void tus_batch_cancelled(struct kd_db *db, int64_t user, json_t *meta);

/* A new upload of length bytes by user with meta (taken over): its folder,
 * info.json and an empty data file, under a fresh random id.  Returns 0 or
 * KD_EIO (errno set; nothing is left behind). */
int tus_upload_create(const char *data_dir, int64_t user, uint64_t length, json_t *meta,
                      struct tus_upload *u);
/* The upload with this id: KD_ENOTFOUND for a malformed id, a missing or
 * unreadable one. */
int tus_upload_load(const char *data_dir, const char *id, struct tus_upload *u);
/* Write info.json again (atomically). */
int tus_upload_save(struct tus_upload *u);
/* The upload became this clip: remember it, for a client that lost the
 * answer and asks with HEAD. */
int tus_upload_set_clip(struct tus_upload *u, int64_t clip);
void tus_upload_free(struct tus_upload *u);

/*
 * The SHA-256 of an upload is computed as its bytes arrive, so that the
 * finished file is not read again.  Its state is saved in "sha256" (one
 * line of kd_sha256_save) now and then and at the end of every PATCH; the
 * next PATCH, in this process or after a restart, goes on from it.
 */
/* Start h on the first u->offset bytes of the data file: from the saved
 * state and the bytes after it, or from the first byte when there is no
 * usable state (missing, unreadable, or further than the file: bytes lost
 * in a crash).  Returns 0, KD_EIO (errno set) or KD_ENOMEM; h is started
 * only on success. */
int tus_hash_resume(const struct tus_upload *u, struct kd_sha256 *h);
/* Save the state of h, the hash of the data file's first bytes (h is
 * unchanged).  Returns 0 or KD_EIO (errno set). */
int tus_hash_save(const struct tus_upload *u, const struct kd_sha256 *h);

/* What unfinished uploads will still write (bytes), and how many of them
 * are user's.  Returns 0 or KD_EIO. */
int tus_pending(const char *data_dir, int64_t user, uint64_t *bytes, unsigned *of_user);

/* Remove uploads that got no bytes for max_age_s seconds (and finished
 * ones kept for late HEADs). */
int tus_expire(const struct kd_config *cfg, unsigned max_age_s);

#endif
