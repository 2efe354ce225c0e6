/*
 * tus.c - resumable uploads, tus 1.0.0 (core, creation, termination), at
 * /api/v1/uploads: the HTTP side of tus_state.h.
 *
 * Bodies go straight from the socket to the upload's data file in pieces
 * of the connection buffer, and into the upload's running SHA-256 on the
 * way: memory does not grow with the file, and the finished file is not
 * read again.  When the last byte is in, the file goes through the same
 * intake as `kindling ingest` (intake.h), with its hash, and the answer
 * carries Kindling-Clip-Id.
 */
#define _GNU_SOURCE
#include "tus.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tus_shared.h"
#include "tus_state.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/intake.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
#include "kindling/sha256.h"

static bool version_ok(struct request *req)
{
	const char *v = req_header(req, "Tus-Resumable");
	return v && !strcmp(v, TUS_VERSION);
}

static enum MHD_Result wrong_version(struct request *req)
{
	return respond_error_h(req, MHD_HTTP_PRECONDITION_FAILED, "Tus-Version", TUS_VERSION,
	                       "this server speaks tus %s: send the header Tus-Resumable: %s",
	                       TUS_VERSION, TUS_VERSION);
}

static uint64_t max_upload(const struct request *req)
{
	return req->srv->cfg->upload_max_mb << 20;
}

enum MHD_Result tus_options(struct request *req)
{
	struct MHD_Response *r = tus_response();
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Tus-Version", TUS_VERSION);
	MHD_add_response_header(r, "Tus-Extension", "creation,termination");
	tus_add_u64(r, "Tus-Max-Size", max_upload(req));
	return respond(req, MHD_HTTP_NO_CONTENT, r);
}

static bool may_upload(const struct kd_user *u)
{
	return u->role == KD_ROLE_ADMIN || u->role == KD_ROLE_COACH;
}

enum MHD_Result tus_create(struct request *req)
{
	if (!version_ok(req))
		return wrong_version(req);
	if (!may_upload(&req->user))
		return tus_error(req, MHD_HTTP_FORBIDDEN,
		                 "only coaches and admins may upload clips; ask your admin");
	uint64_t length;
	if (req_header(req, "Upload-Defer-Length"))
		return tus_error(req, MHD_HTTP_BAD_REQUEST,
		                 "this server needs the size up front: send Upload-Length");
	if (!tus_parse_u64(req_header(req, "Upload-Length"), &length))
		return tus_error(req, MHD_HTTP_BAD_REQUEST,
		                 "send the file's size in bytes as the Upload-Length header");
	if (length > max_upload(req))
		return tus_error(req, MHD_HTTP_CONTENT_TOO_LARGE,
		                 "the file is %.1f GB, more than the %.1f GB this server accepts; "
		                 "cut it into shorter clips or ask your admin to raise upload_max_mb",
		                 (double)length / 1e9, (double)max_upload(req) / 1e9);
	if (length == 0)
		return tus_error(req, MHD_HTTP_BAD_REQUEST, "the file is empty; nothing to upload");

	json_t *meta = json_object();
	char err[KD_ERRMSG_MAX] = "";
	struct tus_clip_meta m = {0};
	int rc = tus_parse_metadata(req_header(req, "Upload-Metadata"), meta, err, sizeof err);
	if (rc == 0)
		rc = tus_clip_meta(req->db, req->srv->cfg->default_consent, meta, &req->user, &m, err,
		                   sizeof err);
	tus_clip_meta_free(&m);
	if (rc < 0) {
		json_decref(meta);
		if (rc == KD_EINVAL || rc == KD_ENOTFOUND)
			return tus_error(req, MHD_HTTP_BAD_REQUEST, "%s", err);
		return tus_error(req, http_status_of(rc), "%s", err);
	}

	if (tus_shared(req))
		return tus_shared_create(req, length, meta);
	const struct kd_config *cfg = req->srv->cfg;
	uint64_t pending = 0;
	unsigned mine = 0;
	tus_pending(cfg->data_dir, req->user.id, &pending, &mine);
	if (mine >= cfg->uploads_per_person) {
		json_decref(meta);
		return tus_too_many(req, mine);
	}
	char *root = paths_uploads_dir(cfg->data_dir);
	enum MHD_Result refused;
	bool room = tus_room(req, root, length, pending, &refused);
	free(root);
	if (!room) {
		json_decref(meta);
		return refused;
	}
	struct tus_upload u;
	if (tus_upload_create(req->srv->cfg->data_dir, req->user.id, length, meta, &u) < 0) {
		log_error("tus", "cannot create an upload in %s: %s", req->srv->cfg->data_dir,
		          strerror(errno));
		tus_upload_free(&u);
		return tus_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                 "the server cannot store uploads right now; tell your admin");
	}
	log_info("tus", "upload %s created by user %lld: %" PRIu64 " bytes", u.id,
	         (long long)req->user.id, length);
	enum MHD_Result res = tus_created(req, u.id);
	tus_upload_free(&u);
	return res;
}

/* The upload named in the path, if it is the user's (or they are an
 * admin).  KD_ENOTFOUND otherwise. */
static int load(struct request *req, struct tus_upload *u)
{
	int rc = tus_upload_load(req->srv->cfg->data_dir, req->slugs[0], u);
	if (rc == 0 && u->user != req->user.id && req->user.role != KD_ROLE_ADMIN) {
		tus_upload_free(u);
		rc = KD_ENOTFOUND;
	}
	return rc;
}

enum MHD_Result tus_head(struct request *req)
{
	if (!version_ok(req))
		return wrong_version(req);
	if (tus_shared(req))
		return tus_shared_head(req);
	struct tus_upload u;
	if (load(req, &u) < 0)
		return tus_unknown_upload(req);
	struct MHD_Response *r = tus_response();
	tus_add_u64(r, "Upload-Offset", u.offset);
	tus_add_u64(r, "Upload-Length", u.length);
	if (u.clip)
		tus_add_u64(r, "Kindling-Clip-Id", (uint64_t)u.clip);
	tus_upload_free(&u);
	return respond(req, MHD_HTTP_OK, r);
}

/* Every this many bytes written, the disk is asked to start writing them
 * out (sync_file_range): it works while the rest arrives, where otherwise
 * the whole file would wait in memory for the fsync at the end. */
#define WRITEBACK_STEP (8u << 20)
/* Every this many bytes, the state of the running hash is saved: a server
 * killed in the middle of a PATCH reads at most this much again. */
#define HASH_SAVE_STEP (64u << 20)

/*
 * A PATCH in progress.  MHD hands the body over in pieces of its connection
 * buffer; each goes to the file and into the running SHA-256 at once
 * (gathering them into bigger writes would cost a copy of every byte for a
 * few syscalls saved).
 */
struct sink {
	struct tus_upload u;    /* u.offset: the bytes in the data file */
	int fd;
	struct kd_sha256 hash;  /* of the data file's bytes so far */
	uint64_t kicked;        /* bytes the disk was asked to write out */
	uint64_t saved;         /* bytes when the hash state was last saved */
	unsigned fail_status;   /* 0, or the answer to give once the body is in */
	char fail_msg[KD_ERRMSG_MAX];
};

static int sink_fail(struct sink *s, unsigned status, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int sink_fail(struct sink *s, unsigned status, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->fail_msg, sizeof s->fail_msg, fmt, ap);
	va_end(ap);
	s->fail_status = status;
	return err;
}

static void sink_free(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	kd_sha256_abort(&s->hash);
	tus_upload_free(&s->u);
	free(s);
}

/* Save the hash's state if bytes came since it was saved.  A state that
 * cannot be saved costs only a longer read at the next PATCH. */
static void sink_save_hash(struct sink *s)
{
	if (!s->hash.ctx || s->saved == s->u.offset)
		return;
	if (tus_hash_save(&s->u, &s->hash) < 0)
		log_warn("tus", "upload %s: cannot save the state of its SHA-256: %s", s->u.id,
		         strerror(errno));
	s->saved = s->u.offset;
}

static void sink_close(struct request *req)
{
	struct sink *s = req->stream;
	if (!s)
		return;
	if (s->fd >= 0) {
		/* A dropped connection keeps what arrived: the client resumes. */
		fsync(s->fd);
		sink_save_hash(s);
	}
	sink_free(s);
	req->stream = NULL;
}

static int sink_write(struct request *req, const char *data, size_t len)
{
	struct sink *s = req->stream;
	if (s->fail_status)
		return 0;
	if (len > s->u.length - s->u.offset)
		return sink_fail(s, MHD_HTTP_CONTENT_TOO_LARGE, KD_ETOOBIG,
		                 "more bytes than the Upload-Length of %" PRIu64 " given at creation",
		                 s->u.length);
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t n = write(s->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			log_error("tus", "upload %s: writing failed: %s", s->u.id, strerror(e));
			/* A full disk must not leave a half file taking the room others
			 * need: this upload is given up and removed. */
			close(s->fd);
			s->fd = -1;
			kd_remove_tree(s->u.dir);
			if (e == ENOSPC || e == EDQUOT)
				return sink_fail(s, MHD_HTTP_INSUFFICIENT_STORAGE, KD_EIO,
				                 "the server's disk is full; the partial upload was removed. "
				                 "Ask your admin to free space, then upload again");
			return sink_fail(s, MHD_HTTP_INTERNAL_SERVER_ERROR, KD_EIO,
			                 "the server could not write the upload (%s); tell your admin",
			                 strerror(e));
		}
		p += n;
		left -= (size_t)n;
	}
	/* Hashed once written: the state always matches the file. */
	kd_sha256_update(&s->hash, data, len);
	s->u.offset += len;
	if (s->u.offset - s->kicked >= WRITEBACK_STEP) {
		/* Only a request to start: errors show at the fsync. */
		sync_file_range(s->fd, (off_t)s->kicked, (off_t)(s->u.offset - s->kicked),
		                SYNC_FILE_RANGE_WRITE);
		s->kicked = s->u.offset;
	}
	if (s->u.offset - s->saved >= HASH_SAVE_STEP)
		sink_save_hash(s);
	return 0;
}

enum MHD_Result tus_patch_begin(struct request *req)
{
	if (!version_ok(req))
		return wrong_version(req);
	const char *type = req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!type || strcmp(type, "application/offset+octet-stream") != 0)
		return tus_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		                 "send the bytes with Content-Type: application/offset+octet-stream");
	uint64_t offset;
	if (!tus_parse_u64(req_header(req, "Upload-Offset"), &offset))
		return tus_error(req, MHD_HTTP_BAD_REQUEST,
		                 "send the offset the bytes start at as Upload-Offset");
	if (tus_shared(req)) {
		const char *length = req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
		uint64_t body = UINT64_MAX;
		if (length && !tus_parse_u64(length, &body))
			body = UINT64_MAX;
		return tus_shared_patch_begin(req, offset, body);
	}
	struct sink *s = kd_calloc(1, sizeof *s);
	s->fd = -1;
	if (load(req, &s->u) < 0) {
		free(s);
		return tus_unknown_upload(req);
	}
	if (s->u.clip) {
		int64_t clip = s->u.clip;
		sink_free(s);
		return tus_error(req, MHD_HTTP_CONFLICT,
		                 "this upload is already complete: it is clip %lld", (long long)clip);
	}
	const char *cl = req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t body = 0;
	if (cl && tus_parse_u64(cl, &body) && body > s->u.length - s->u.offset) {
		uint64_t room = s->u.length - s->u.offset;
		sink_free(s);
		return tus_error(req, MHD_HTTP_CONTENT_TOO_LARGE,
		                 "the body is %" PRIu64 " bytes but only %" PRIu64 " remain of the "
		                 "Upload-Length given at creation", body, room);
	}
	if (offset != s->u.offset) {
		uint64_t have = s->u.offset;
		sink_free(s);
		return tus_offset_mismatch(req, offset, have);
	}
	s->fd = open(s->u.data_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (s->fd < 0) {
		sink_free(s);
		return tus_unknown_upload(req);
	}
	/* One transfer per upload at a time.  The request of a client that was
	 * killed may still be draining its socket into the file; a new PATCH
	 * waits for that to end rather than interleave with it. */
	struct stat st;
	if (flock(s->fd, LOCK_EX | LOCK_NB) < 0 || fstat(s->fd, &st) < 0 ||
	    (uint64_t)st.st_size != offset) {
		uint64_t have = fstat(s->fd, &st) == 0 ? (uint64_t)st.st_size : s->u.offset;
		sink_free(s);
		return tus_busy(req, have);
	}
	/* The hash goes on from where the last PATCH left it (the lock keeps
	 * the file still while it is read). */
	if (tus_hash_resume(&s->u, &s->hash) < 0) {
		log_error("tus", "upload %s: cannot take up its SHA-256: %s", s->u.id,
		          strerror(errno));
		sink_free(s);
		return tus_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                 "the server cannot read this upload back right now; try again, "
		                 "and tell your admin if it goes on");
	}
	s->kicked = s->saved = s->u.offset;
	req->stream = s;
	req->stream_write = sink_write;
	req->stream_close = sink_close;
	return MHD_YES;
}

/* All bytes are in: hand the file to intake and answer with the clip. */
static enum MHD_Result complete(struct request *req, struct sink *s)
{
	json_t *meta = json_object_get(s->u.info, "meta");
	/* The hash of every byte, as they arrived: intake need not read the
	 * file again.  Finishing it ends the running hash, so the state on
	 * disk stays as it is for another try should intake fail. */
	char sha[KD_SHA256_HEX] = "";
	if (kd_sha256_bytes(&s->hash) == s->u.length)
		kd_sha256_final(&s->hash, sha);
	struct tus_clip_meta m = {0};
	char err[KD_ERRMSG_MAX] = "";
	int64_t id = 0;
	bool dup = false;
	/* As the uploader is now: disabled since, or moved to another school,
	 * the clip is not made. */
	struct kd_user uploader;
	int rc = users_get(req->db, s->u.user, &uploader);
	if (rc == KD_ENOTFOUND)
		snprintf(err, sizeof err, "the account that began this upload is disabled or gone");
	if (rc == 0)
		rc = tus_clip_meta(req->db, req->srv->cfg->default_consent, meta, &uploader, &m, err,
		                   sizeof err);
	if (rc == 0) {
		m.c.sha256 = sha[0] ? sha : NULL; /* (NULL: intake hashes the file) */
		rc = intake_file(req->srv->cfg, req->db, s->u.data_path, true, &m.c, &id, &dup, err,
		                 sizeof err);
	}
	tus_clip_meta_free(&m);
	if (rc < 0) {
		log_warn("tus", "upload %s complete but not taken in: %s", s->u.id, err);
		/* Refused for good: the bytes go.  Anything else (a busy catalogue,
		 * a disk error) keeps them, and sending the last PATCH again (no
		 * bytes, at the full offset) tries once more. */
		bool refused = rc == KD_EINVAL || rc == KD_ENOTFOUND || rc == KD_EPERM;
		if (refused)
			kd_remove_tree(s->u.dir);
		return tus_error(req, rc == KD_ENOTFOUND ? MHD_HTTP_BAD_REQUEST : http_status_of(rc),
		                 "%s%s", err, refused ? "" : "; send the upload again to finish it");
	}
	/* Keep the record, without the bytes, so a client that lost this answer
	 * learns the clip from HEAD; expiry removes it later. */
	unlink(s->u.data_path);
	unlink(s->u.hash_path);
	if (tus_upload_set_clip(&s->u, id) < 0)
		log_warn("tus", "upload %s: cannot record its clip %lld", s->u.id, (long long)id);
	jobs_runner_wake(req->srv->runner);
	log_info("tus", "upload %s complete: clip %lld%s", s->u.id, (long long)id,
	         dup ? " (already in the catalogue)" : "");
	return tus_completed(req, s->u.length, id, dup);
}

enum MHD_Result tus_patch_end(struct request *req)
{
	if (tus_shared(req))
		return tus_shared_patch_end(req);
	struct sink *s = req->stream;
	if (!s)
		return MHD_YES;
	if (s->fail_status)
		return tus_error(req, s->fail_status, "%s", s->fail_msg);
	/* One fsync per PATCH, at its end: the offset we answer must survive a
	 * crash.  The hash's state is saved after it, never ahead of the data. */
	if (fsync(s->fd) < 0) {
		log_error("tus", "upload %s: fsync: %s", s->u.id, strerror(errno));
		return tus_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                 "the server could not save the upload; try again");
	}
	sink_save_hash(s);
	if (s->u.offset == s->u.length)
		return complete(req, s);
	struct MHD_Response *r = tus_response();
	tus_add_u64(r, "Upload-Offset", s->u.offset);
	return respond(req, MHD_HTTP_NO_CONTENT, r);
}

enum MHD_Result tus_delete(struct request *req)
{
	if (!version_ok(req))
		return wrong_version(req);
	if (tus_shared(req))
		return tus_shared_delete(req);
	struct tus_upload u;
	if (load(req, &u) < 0)
		return tus_unknown_upload(req);
	if (!u.clip) /* issue 16: its batch waits for it no longer */
		tus_batch_cancelled(req->db, u.user, json_object_get(u.info, "meta"));
	kd_remove_tree(u.dir);
	log_info("tus", "upload %s cancelled", u.id);
	tus_upload_free(&u);
	return respond(req, MHD_HTTP_NO_CONTENT, tus_response());
}

