/* tus_answer.c - the answers both upload stores give (tus.h): errors with
 * the tus headers, and the answers to creation, completion and conflict. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statvfs.h>

#include "tus.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

enum MHD_Result tus_error(struct request *req, unsigned status, const char *fmt, ...)
{
	char msg[KD_ERRMSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return respond_error_h(req, status, "Tus-Resumable", TUS_VERSION, "%s", msg);
}

struct MHD_Response *tus_response(void)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
	                                                         MHD_RESPMEM_PERSISTENT);
	if (r) {
		MHD_add_response_header(r, "Tus-Resumable", TUS_VERSION);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	}
	return r;
}

void tus_add_u64(struct MHD_Response *r, const char *name, uint64_t v)
{
	char s[24];
	snprintf(s, sizeof s, "%" PRIu64, v);
	MHD_add_response_header(r, name, s);
}

enum MHD_Result tus_unknown_upload(struct request *req)
{
	return tus_error(req, MHD_HTTP_NOT_FOUND,
	                 "no upload %s here: it may have finished, expired or been cancelled; "
	                 "start the upload again",
	                 req->slugs[0]);
}

enum MHD_Result tus_too_many(struct request *req, unsigned mine)
{
	return tus_error(req, MHD_HTTP_TOO_MANY_REQUESTS,
	                 "you have %u unfinished uploads, as many as one person may: finish them "
	                 "(run the same kindling upload again; it resumes them) or cancel them "
	                 "before starting more", mine);
}

enum MHD_Result tus_created(struct request *req, const char *id)
{
	struct MHD_Response *r = tus_response();
	char *location = kd_asprintf("/api/v1/uploads/%s", id);
	MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
	free(location);
	return respond(req, MHD_HTTP_CREATED, r);
}

enum MHD_Result tus_offset_mismatch(struct request *req, uint64_t offset, uint64_t have)
{
	return tus_error(req, MHD_HTTP_CONFLICT,
	                 "Upload-Offset %" PRIu64 " does not match the %" PRIu64
	                 " bytes the server has; ask with HEAD and resume from there",
	                 offset, have);
}

enum MHD_Result tus_busy(struct request *req, uint64_t have)
{
	return tus_error(req, MHD_HTTP_CONFLICT,
	                 "another transfer of this upload is still running (the server has %"
	                 PRIu64 " bytes); ask with HEAD in a moment and resume from there",
	                 have);
}

enum MHD_Result tus_completed(struct request *req, uint64_t length, int64_t clip, bool dup)
{
	struct MHD_Response *r = tus_response();
	tus_add_u64(r, "Upload-Offset", length);
	tus_add_u64(r, "Kindling-Clip-Id", (uint64_t)clip);
	if (dup)
		MHD_add_response_header(r, "Kindling-Duplicate", "1");
	return respond(req, MHD_HTTP_NO_CONTENT, r);
}

bool tus_room(struct request *req, const char *dir, uint64_t length, uint64_t pending,
              enum MHD_Result *refused)
{
	/* Room for this file, for what unfinished uploads will still write, and
	 * the reserve the catalogue and processing need. */
	const struct kd_config *cfg = req->srv->cfg;
	struct statvfs vfs;
	uint64_t need = length + pending + (cfg->disk_reserve_mb << 20), free_bytes = 0;
	if (statvfs(dir, &vfs) != 0)
		return true; /* (not made yet: the writes will tell) */
	free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (free_bytes >= need)
		return true;
	log_warn("tus", "refusing an upload of %" PRIu64 " bytes: %" PRIu64 " free, %" PRIu64
	         " promised to unfinished uploads, %" PRIu64 " MB kept in reserve", length,
	         free_bytes, pending, cfg->disk_reserve_mb);
	*refused = tus_error(req, MHD_HTTP_INSUFFICIENT_STORAGE,
	                     "the server's disk has no room for this file (%.1f GB free, %.1f GB "
	                     "promised to uploads in progress); try again later, and ask your "
	                     "admin to free space or add a disk",
	                     (double)free_bytes / 1e9, (double)pending / 1e9);
	return false;
}
