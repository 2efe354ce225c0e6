/*
 * tus_shared.h - uploads that any web node may continue: the tus uploads
 * of a server whose catalogue is in PostgreSQL, where several nodes may
 * stand behind one address and any may receive the next chunk (or die
 * between two).  Private to src/web/; tus.c checks the headers, then hands
 * over to these when tus_shared() says so.
 *
 * An upload is a row of the uploads table (schema/008) and a multipart
 * upload of the media storage aimed at its clip's original: the clip's id
 * is taken when the upload begins (cat_clip_reserve_id), so the parts are
 * already where the original belongs, and completing the upload is one
 * request to the storage and one transaction in the catalogue.  Parts have
 * one size per upload (tus_shared_part_size); the bytes after the last
 * whole part wait in the object <clip>/upload-tail between chunks.  The
 * row says how far the upload got (its tus offset), and holds the running
 * SHA-256; a chunk holds the row (busy_until) while it streams, so two
 * nodes never write one upload at once.  The storage is written first,
 * the row after: a node that dies between them leaves bytes that the next
 * chunk writes again, never a row that claims bytes the storage lacks.
 */
#ifndef KINDLING_WEB_TUS_SHARED_H
#define KINDLING_WEB_TUS_SHARED_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "http.h"

/* Does this server keep its uploads in the catalogue and the storage? */
bool tus_shared(const struct request *req);

/* The size of every part but the last for an upload of length bytes: 8
 * MiB, more when that would need more parts than the storage allows. */
uint64_t tus_shared_part_size(uint64_t length);

/* POST, its headers checked: a new upload of length bytes described by
 * meta (taken over). */
enum MHD_Result tus_shared_create(struct request *req, uint64_t length, json_t *meta);
enum MHD_Result tus_shared_head(struct request *req);
/* PATCH at offset, its headers checked; body: its Content-Length, or
 * UINT64_MAX when not given. */
enum MHD_Result tus_shared_patch_begin(struct request *req, uint64_t offset, uint64_t body);
enum MHD_Result tus_shared_patch_end(struct request *req);
enum MHD_Result tus_shared_delete(struct request *req);

/* Unfinished uploads of user (how many), and the bytes all unfinished
 * uploads will still write.  Returns 0 or KD_EDB. */
int tus_shared_pending(struct kd_db *db, int64_t user, unsigned *of_user, uint64_t *bytes);

/* Give up uploads that got no bytes for max_age_s seconds (their parts
 * and tail go), and forget finished ones as old.  Returns 0 or KD_EDB. */
int tus_shared_expire(struct kd_db *db, struct kd_storage *storage, unsigned max_age_s);

#endif
