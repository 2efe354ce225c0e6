/*
 * tus.h - resumable uploads at /api/v1/uploads: tus 1.0.0 core, creation
 * and termination, over the uploads of tus_state.h.  Private to src/web/.
 */
#ifndef KINDLING_WEB_TUS_H
#define KINDLING_WEB_TUS_H

#include "http.h"

#define TUS_VERSION "1.0.0"

enum MHD_Result tus_options(struct request *req);
enum MHD_Result tus_create(struct request *req);
enum MHD_Result tus_head(struct request *req);
/* PATCH: begin checks the headers and opens the file the body streams
 * into; end answers once the body is in. */
enum MHD_Result tus_patch_begin(struct request *req);
enum MHD_Result tus_patch_end(struct request *req);
enum MHD_Result tus_delete(struct request *req);

/* The answers both upload stores give (tus.c; tus_shared.c uses them). */
enum MHD_Result tus_error(struct request *req, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An empty answer with the tus headers every response carries. */
struct MHD_Response *tus_response(void);
void tus_add_u64(struct MHD_Response *r, const char *name, uint64_t v);
enum MHD_Result tus_unknown_upload(struct request *req);
enum MHD_Result tus_too_many(struct request *req, unsigned mine);
enum MHD_Result tus_created(struct request *req, const char *id);
enum MHD_Result tus_offset_mismatch(struct request *req, uint64_t offset, uint64_t have);
enum MHD_Result tus_busy(struct request *req, uint64_t have);
/* Is there room on the disk of dir for length more bytes, beside pending
 * ones and the reserve?  If not, *refused is the 507 answer given. */
bool tus_room(struct request *req, const char *dir, uint64_t length, uint64_t pending,
              enum MHD_Result *refused);
enum MHD_Result tus_completed(struct request *req, uint64_t length, int64_t clip, bool dup);

#endif
