/*
 * tus.h - resumable uploads at /api/v1/uploads: tus 1.0.0 core, creation
 * and termination, over the uploads of tus_state.h.  Private to src/web/.
 */
#ifndef KINDLING_WEB_TUS_H
#define KINDLING_WEB_TUS_H

#include "http.h"

enum MHD_Result tus_options(struct request *req);
enum MHD_Result tus_create(struct request *req);
enum MHD_Result tus_head(struct request *req);
/* PATCH: begin checks the headers and opens the file the body streams
 * into; end answers once the body is in. */
enum MHD_Result tus_patch_begin(struct request *req);
enum MHD_Result tus_patch_end(struct request *req);
enum MHD_Result tus_delete(struct request *req);

#endif
