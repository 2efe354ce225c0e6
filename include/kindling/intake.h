/*
 * intake.h - how a file becomes a clip: the one path shared by uploads and
 * `kindling ingest`.
 *
 * The file's SHA-256 is computed; a file the catalogue already holds
 * creates nothing and gives back the existing clip.  Otherwise the clip
 * row, its processing job and the file placed as the clip's original
 * (<data>/media/<id>/original) are one transaction: after a crash there is
 * either all of it or none.  An upload's bytes are taken over (linked, then
 * unlinked); a coach's file on the server's disk is copied and left
 * untouched.
 */
#ifndef KINDLING_INTAKE_H
#define KINDLING_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/catalogue.h"
#include "kindling/config.h"

struct kd_db;      /* db.h */
struct kd_storage; /* storage.h */

/* Take in the file at path with the metadata in meta (its sha256 and
 * original_name are filled in here).  move: the file may be renamed away;
 * then a sha256 given in meta is used instead of reading the file again
 * (an upload hashes its bytes as they arrive).  On success *id is the clip
 * and *duplicate says whether it already existed.  KD_EINVAL/KD_ENOTFOUND
 * for bad metadata, KD_EIO for file errors; err says what to do. */
int intake_file(const struct kd_config *cfg, struct kd_db *db, const char *path, bool move,
                struct cat_clip_new *meta, int64_t *id, bool *duplicate, char *err,
                size_t errlen);

/* Take in an upload whose bytes are already the clip's original in
 * storage (uploads shared by several web nodes, which store them under an
 * id taken at the start): meta->id is that id, meta->sha256 their hash,
 * meta->original_name the file's name.  The clip and its job are one
 * transaction.  A file the catalogue already holds makes nothing: the
 * stored copy is deleted, and *id is the clip that has it (*duplicate).
 * Errors as intake_file. */
int intake_stored(struct kd_db *db, struct kd_storage *storage, struct cat_clip_new *meta,
                  int64_t *id, bool *duplicate, char *err, size_t errlen);

#endif
