/* tus_shared.c - uploads that any web node may continue (tus_shared.h). */
#include "tus_shared.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tus.h"
#include "tus_state.h"
#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/intake.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
#include "kindling/sha256.h"
#include "kindling/storage.h"

#define PART_SIZE (8u << 20)
/* How long a chunk holds its upload without a sign of life (renewed every
 * third of it while bytes come): a chunk that stalls this long, or whose
 * node died, lets another go on.  Shorter than the CLI's retries last. */
#define HOLD_S 30
#define TAIL_NAME "upload-tail"

bool tus_shared(const struct request *req)
{
	return db_is_postgres_url(req->srv->cfg->db_path);
}

uint64_t tus_shared_part_size(uint64_t length)
{
	uint64_t per = (length + STORAGE_PARTS_MAX - 1) / STORAGE_PARTS_MAX;
	per = (per + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1); /* whole MiB */
	return per > PART_SIZE ? per : PART_SIZE;
}

/* What the row says. */
struct row {
	char id[TUS_ID_LEN + 1];
	int64_t user, clip;
	uint64_t length, received, parts;
	char *meta;
	char *mpu_id;
	char *hash_state;
	bool done;
	char *busy_node;   /* who holds it, if anyone */
	int64_t busy_pid;
};

static void row_free(struct row *r)
{
	free(r->meta);
	free(r->mpu_id);
	free(r->hash_state);
	free(r->busy_node);
	memset(r, 0, sizeof *r);
}

static char *col_dup(struct kd_stmt *st, int col)
{
	const unsigned char *t = db_column_text(st, col);
	return t ? kd_strdup((const char *)t) : NULL;
}

/* The row of id, if the user may continue it (theirs, or they are an
 * admin).  KD_ENOTFOUND otherwise, KD_EDB. */
static int row_load(struct kd_db *db, const char *id, const struct kd_user *u, struct row *r)
{
	memset(r, 0, sizeof *r);
	if (strlen(id) != TUS_ID_LEN || strspn(id, "0123456789abcdef") != TUS_ID_LEN)
		return KD_ENOTFOUND;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT user_id, clip_id, length, received, parts, meta, mpu_id, "
	               "hash_state, done, busy_node, coalesce(busy_pid, 0) FROM uploads "
	               "WHERE id = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_text(st, 1, id, -1, DB_STATIC);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		snprintf(r->id, sizeof r->id, "%s", id);
		r->user = db_column_int64(st, 0);
		r->clip = db_column_int64(st, 1);
		r->length = (uint64_t)db_column_int64(st, 2);
		r->received = (uint64_t)db_column_int64(st, 3);
		r->parts = (uint64_t)db_column_int64(st, 4);
		r->meta = col_dup(st, 5);
		r->mpu_id = col_dup(st, 6);
		r->hash_state = col_dup(st, 7);
		r->done = db_column_int64(st, 8) != 0;
		r->busy_node = col_dup(st, 9);
		r->busy_pid = db_column_int64(st, 10);
	}
	db_finalize(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
	if (r->user != u->id && u->role != KD_ROLE_ADMIN) {
		row_free(r);
		return KD_ENOTFOUND;
	}
	return 0;
}

/* Run sql with ?1 = id and the given numbers as ?2, ?3...; *changed gets
 * the rows it changed (NULL: not wanted).  Returns 0 or a KD_E* code. */
static int row_exec(struct kd_db *db, const char *sql, const char *id, const int64_t *v,
                    int n, int64_t *changed)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK) {
		log_error("tus", "%s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_text(st, 1, id, -1, DB_STATIC);
	for (int i = 0; i < n; i++)
		db_bind_int64(st, i + 2, v[i]);
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE) {
		log_error("tus", "upload %s: %s", id, db_errmsg(db));
		return db_err_code(rc);
	}
	if (changed)
		*changed = db_changes(db);
	return 0;
}

static void keys_of(int64_t clip, char original[PATHS_KEY_MAX], char tail[PATHS_KEY_MAX])
{
	paths_clip_key(clip, KD_FILE_ORIGINAL, original);
	snprintf(tail, PATHS_KEY_MAX, "%lld/" TAIL_NAME, (long long)clip);
}

/* ---------------------------------------------------------------- create */

static int count_mine(struct kd_db *db, int64_t user, unsigned *mine, uint64_t *bytes)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT count(*) FILTER (WHERE user_id = ?1), "
	               "coalesce(sum(length - received), 0) FROM uploads WHERE done = 0",
	               &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, user);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*mine = (unsigned)db_column_int64(st, 0);
		*bytes = (uint64_t)db_column_int64(st, 1);
	}
	db_finalize(st);
	return rc == DB_ROW ? 0 : db_err_code(rc);
}

int tus_shared_pending(struct kd_db *db, int64_t user, unsigned *of_user, uint64_t *bytes)
{
	*of_user = 0;
	*bytes = 0;
	return count_mine(db, user, of_user, bytes);
}

enum MHD_Result tus_shared_create(struct request *req, uint64_t length, json_t *meta)
{
	const struct kd_config *cfg = req->srv->cfg;
	unsigned mine = 0;
	uint64_t pending = 0;
	if (count_mine(req->db, req->user.id, &mine, &pending) < 0) {
		json_decref(meta);
		return tus_error(req, MHD_HTTP_SERVICE_UNAVAILABLE,
		                 "the catalogue cannot be read right now; try again in a moment");
	}
	if (mine >= cfg->uploads_per_person) {
		json_decref(meta);
		return tus_too_many(req, mine);
	}
	/* Parts in the data folder (media storage on this disk) need its
	 * room; a bucket's are not this disk's concern. */
	enum MHD_Result refused;
	if (storage_kind(req->srv->storage) == STORAGE_LOCAL &&
	    !tus_room(req, cfg->data_dir, length, pending, &refused)) {
		json_decref(meta);
		return refused;
	}
	int64_t clip = 0;
	char original[PATHS_KEY_MAX], tail[PATHS_KEY_MAX], err[KD_ERRMSG_MAX] = "";
	char *mpu = NULL, *meta_text = json_dumps(meta, JSON_COMPACT);
	json_decref(meta);
	int rc = cat_clip_reserve_id(req->db, &clip);
	if (rc == 0) {
		keys_of(clip, original, tail);
		rc = storage_mpu_create(req->srv->storage, original, NULL, &mpu, err, sizeof err);
	}
	char id[TUS_ID_LEN + 1];
	unsigned char raw[TUS_ID_LEN / 2];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(id, sizeof id, raw, sizeof raw);
	struct kd_stmt *st = NULL;
	if (rc == 0 && db_prepare(req->db, "INSERT INTO uploads (id, user_id, clip_id, length, "
	                          "meta, mpu_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st) != DB_OK)
		rc = KD_EDB;
	if (rc == 0) {
		db_bind_text(st, 1, id, -1, DB_STATIC);
		db_bind_int64(st, 2, req->user.id);
		db_bind_int64(st, 3, clip);
		db_bind_int64(st, 4, (int64_t)length);
		db_bind_text(st, 5, meta_text, -1, DB_STATIC);
		db_bind_text(st, 6, mpu, -1, DB_STATIC);
		int step = db_step(st);
		if (step != DB_DONE) {
			log_error("tus", "cannot record an upload: %s", db_errmsg(req->db));
			rc = db_err_code(step);
		}
	}
	db_finalize(st);
	free(meta_text);
	if (rc < 0) {
		if (mpu)
			storage_mpu_abort(req->srv->storage, original, mpu, NULL, 0);
		free(mpu);
		log_error("tus", "cannot start an upload: %s", err[0] ? err : "the catalogue failed");
		return tus_error(req, rc == KD_EDB || rc == KD_EBUSY ? MHD_HTTP_SERVICE_UNAVAILABLE
		                                                     : MHD_HTTP_BAD_GATEWAY,
		                 "the server cannot store uploads right now (%s); try again in a "
		                 "moment, and tell your admin if it goes on",
		                 err[0] ? err : "the catalogue is busy");
	}
	free(mpu);
	log_info("tus", "upload %s created by user %lld: %" PRIu64 " bytes, for clip %lld", id,
	         (long long)req->user.id, length, (long long)clip);
	return tus_created(req, id);
}

/* ---------------------------------------------------------------- head */

enum MHD_Result tus_shared_head(struct request *req)
{
	struct row r;
	if (row_load(req->db, req->slugs[0], &req->user, &r) < 0)
		return tus_unknown_upload(req);
	struct MHD_Response *resp = tus_response();
	tus_add_u64(resp, "Upload-Offset", r.received);
	tus_add_u64(resp, "Upload-Length", r.length);
	if (r.done)
		tus_add_u64(resp, "Kindling-Clip-Id", (uint64_t)r.clip);
	row_free(&r);
	return respond(req, MHD_HTTP_OK, resp);
}

/* ---------------------------------------------------------------- patch */

/* A chunk in progress: the bytes after the last whole part, in memory
 * (at most one part), and the running hash of every byte so far. */
struct sink {
	struct row r;
	struct kd_storage *storage;
	struct db_pool *pool;
	uint64_t part;          /* the part size */
	unsigned char *buf;
	size_t buf_len;
	struct kd_sha256 hash;
	time_t held;            /* when the hold was last renewed */
	bool saved;             /* what arrived is recorded (the end ran) */
	unsigned fail_status;
	char fail_msg[KD_ERRMSG_MAX];
};

static uint64_t stored(const struct sink *s)
{
	return s->r.parts * s->part;
}

static void sink_free(struct sink *s)
{
	kd_sha256_abort(&s->hash);
	free(s->buf);
	row_free(&s->r);
	free(s);
}

/* Record in the row what the storage now holds: parts whole parts and the
 * bytes of the buffer after them (in the tail object), with the hash of
 * them all; and hold the upload for another HOLD_S, or let it go. */
static int sink_record(struct sink *s, struct kd_db *db, bool hold)
{
	char state[KD_SHA256_STATE_MAX];
	uint64_t covered = kd_sha256_save(&s->hash, state);
	(void)covered; /* the bytes after it are in the buffer or the tail, hashed again */
	struct kd_stmt *st;
	/* (only over what this chunk last recorded: one that stalled past its
	 * hold, and was taken over, records nothing more) */
	if (db_prepare(db, "UPDATE uploads SET received = ?2, parts = ?3, hash_state = ?4, "
	               "busy_until = ?5, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
	               "WHERE id = ?1 AND received = ?6 AND done = 0", &st) != DB_OK)
		return KD_EDB;
	db_bind_text(st, 1, s->r.id, -1, DB_STATIC);
	db_bind_int64(st, 2, (int64_t)(stored(s) + s->buf_len));
	db_bind_int64(st, 3, (int64_t)s->r.parts);
	db_bind_text(st, 4, state, -1, DB_STATIC);
	if (hold)
		db_bind_int64(st, 5, (int64_t)time(NULL) + HOLD_S);
	else
		db_bind_null(st, 5);
	db_bind_int64(st, 6, (int64_t)s->r.received);
	int rc = db_step(st);
	int64_t changed = rc == DB_DONE ? db_changes(db) : 0;
	db_finalize(st);
	if (rc != DB_DONE) {
		log_error("tus", "upload %s: cannot record its progress: %s", s->r.id, db_errmsg(db));
		return db_err_code(rc);
	}
	if (changed != 1) {
		log_warn("tus", "upload %s: another transfer took it over; this one stops", s->r.id);
		return KD_EBUSY;
	}
	s->r.received = stored(s) + s->buf_len;
	s->held = time(NULL);
	return 0;
}

/* The same with a connection of the pool: a body streams in after the
 * request gave its own back. */
static int sink_record_pooled(struct sink *s, bool hold)
{
	struct kd_db *db = db_pool_get(s->pool);
	int rc = sink_record(s, db, hold);
	db_pool_put(s->pool, db);
	return rc;
}

/* Hold the upload for another HOLD_S, as long as it is still this
 * chunk's (nothing recorded by another since). */
static void renew_hold(struct sink *s)
{
	struct kd_db *db = db_pool_get(s->pool);
	int64_t v[2] = {(int64_t)s->r.received, (int64_t)time(NULL) + HOLD_S}, changed = 0;
	if (row_exec(db, "UPDATE uploads SET busy_until = ?3 WHERE id = ?1 AND received = ?2 "
	             "AND done = 0", s->r.id, v, 2, &changed) < 0 || changed != 1)
		log_warn("tus", "upload %s: cannot renew its hold", s->r.id);
	db_pool_put(s->pool, db);
	s->held = time(NULL);
}

/* storage_get into a buffer of bounded size. */
static int buf_sink(void *arg, const void *data, size_t len)
{
	return kd_buf_append(arg, data, len) < 0 ? KD_ETOOBIG : 0;
}

static int sink_fail(struct sink *s, unsigned status, int err, const char *msg)
{
	snprintf(s->fail_msg, sizeof s->fail_msg, "%s", msg);
	s->fail_status = status;
	return err;
}

/* The buffer is a whole part: store it as the next. */
static int flush_part(struct sink *s)
{
	char original[PATHS_KEY_MAX], tail[PATHS_KEY_MAX], etag[STORAGE_ETAG_MAX];
	char err[KD_ERRMSG_MAX];
	keys_of(s->r.clip, original, tail);
	int rc = storage_mpu_put_part(s->storage, original, s->r.mpu_id, (int)s->r.parts + 1,
	                              s->buf, s->buf_len, etag, err, sizeof err);
	if (rc < 0) {
		log_error("tus", "upload %s: %s", s->r.id, err);
		return sink_fail(s, MHD_HTTP_BAD_GATEWAY, rc,
		                 "the server could not store this part of the upload; resume it "
		                 "(run the same kindling upload again), and tell your admin if it "
		                 "goes on");
	}
	s->r.parts++;
	s->buf_len = 0;
	if ((rc = sink_record_pooled(s, true)) < 0)
		return sink_fail(s, MHD_HTTP_SERVICE_UNAVAILABLE, rc,
		                 "the catalogue could not record the upload's progress; resume it "
		                 "in a moment");
	return 0;
}

static int sink_write(struct request *req, const char *data, size_t len)
{
	struct sink *s = req->stream;
	if (s->fail_status)
		return 0;
	if (len > s->r.length - (stored(s) + s->buf_len))
		return sink_fail(s, MHD_HTTP_CONTENT_TOO_LARGE, KD_ETOOBIG,
		                 "more bytes than the Upload-Length given at creation");
	while (len > 0) {
		size_t n = s->part - s->buf_len < len ? (size_t)(s->part - s->buf_len) : len;
		memcpy(s->buf + s->buf_len, data, n);
		kd_sha256_update(&s->hash, data, n);
		s->buf_len += n;
		data += n;
		len -= n;
		/* a whole part, unless it is the upload's last (that one goes at
		 * the end, with the rest) */
		if (s->buf_len == s->part && stored(s) + s->buf_len < s->r.length) {
			int rc = flush_part(s);
			if (rc < 0)
				return rc;
		}
	}
	/* a slow client still holds its upload (only the hold: the bytes in
	 * memory are recorded once they are stored) */
	if (time(NULL) - s->held > HOLD_S / 3)
		renew_hold(s);
	return 0;
}

/* Keep what arrived: the bytes after the last whole part go to the tail
 * object, then the row says so; the hold ends.  Bytes the tail could not
 * take are not recorded (the row says what the parts hold, as the last
 * part's record left it): the client sends them again. */
static int sink_save(struct sink *s, struct kd_db *db)
{
	s->saved = true;
	if (s->buf_len && s->r.received != stored(s) + s->buf_len) {
		char original[PATHS_KEY_MAX], tail[PATHS_KEY_MAX], err[KD_ERRMSG_MAX];
		keys_of(s->r.clip, original, tail);
		int rc = storage_put_buf(s->storage, tail, s->buf, s->buf_len, NULL, err, sizeof err);
		if (rc < 0) {
			log_error("tus", "upload %s: cannot keep its last bytes: %s", s->r.id, err);
			int64_t v[1] = {(int64_t)s->r.received};
			return row_exec(db, "UPDATE uploads SET busy_until = NULL WHERE id = ?1 "
			                "AND received = ?2", s->r.id, v, 1, NULL);
		}
	}
	return sink_record(s, db, false);
}

static void sink_close(struct request *req)
{
	struct sink *s = req->stream;
	if (!s)
		return;
	/* A dropped connection keeps what arrived: the client resumes. */
	if (!s->saved) {
		struct kd_db *db = db_pool_get(s->pool);
		sink_save(s, db);
		db_pool_put(s->pool, db);
	}
	sink_free(s);
	req->stream = NULL;
}

/* The hash of the stored bytes, and the bytes after the last whole part,
 * as the row left them. */
static int sink_resume(struct sink *s, char *err, size_t errlen)
{
	uint64_t covered = 0, tail_len = s->r.received - stored(s);
	int rc = s->r.hash_state ? kd_sha256_restore(&s->hash, s->r.hash_state, &covered)
	                         : kd_sha256_init(&s->hash);
	if (rc < 0 || covered > s->r.received || covered < stored(s)) {
		snprintf(err, errlen, "the upload's record is damaged");
		return KD_EIO;
	}
	if (tail_len) {
		char original[PATHS_KEY_MAX], tail[PATHS_KEY_MAX];
		keys_of(s->r.clip, original, tail);
		struct kd_buf b = KD_BUF_INIT(s->part);
		rc = storage_get(s->storage, tail, 0, tail_len, buf_sink, &b, err, errlen);
		if (rc == 0 && b.len != tail_len) {
			snprintf(err, errlen, "the upload's last bytes are shorter than recorded");
			rc = KD_EIO;
		}
		if (rc == 0) {
			memcpy(s->buf, b.data, tail_len);
			s->buf_len = tail_len;
			/* the hash state covers whole blocks: the rest again */
			kd_sha256_update(&s->hash, s->buf + (covered - stored(s)),
			                 (size_t)(s->r.received - covered));
		}
		kd_buf_release(&b);
	}
	return rc;
}

/* Take the hold of r for this chunk: free, run out, or held by a process
 * of this node that is gone (a server killed mid-chunk and started again:
 * at once, not after the hold runs out).  r->received is the offset the
 * chunk starts at. */
static bool hold(struct request *req, const struct row *r)
{
	const char *node = req->srv->cfg->node_name;
	int64_t dead = 0;
	if (r->busy_node && !strcmp(r->busy_node, node) && r->busy_pid > 0 &&
	    r->busy_pid != getpid() && kill((pid_t)r->busy_pid, 0) < 0 && errno == ESRCH)
		dead = r->busy_pid;
	struct kd_stmt *st;
	if (db_prepare(req->db, "UPDATE uploads SET busy_until = ?4, busy_node = ?5, busy_pid = ?6 "
	               "WHERE id = ?1 AND received = ?2 AND done = 0 AND (busy_until IS NULL "
	               "OR busy_until < ?3 OR (busy_node = ?5 AND busy_pid = ?7))", &st) != DB_OK)
		return false;
	int64_t now = (int64_t)time(NULL);
	db_bind_text(st, 1, r->id, -1, DB_STATIC);
	db_bind_int64(st, 2, (int64_t)r->received);
	db_bind_int64(st, 3, now);
	db_bind_int64(st, 4, now + HOLD_S);
	db_bind_text(st, 5, node, -1, DB_STATIC);
	db_bind_int64(st, 6, (int64_t)getpid());
	db_bind_int64(st, 7, dead);
	bool ok = db_step(st) == DB_DONE && db_changes(req->db) == 1;
	db_finalize(st);
	if (ok && dead)
		log_info("tus", "upload %s: taken over from process %lld of this node, which is gone",
		         r->id, (long long)dead);
	return ok;
}

enum MHD_Result tus_shared_patch_begin(struct request *req, uint64_t offset, uint64_t body)
{
	struct sink *s = kd_calloc(1, sizeof *s);
	if (row_load(req->db, req->slugs[0], &req->user, &s->r) < 0) {
		free(s);
		return tus_unknown_upload(req);
	}
	if (s->r.done) {
		int64_t clip = s->r.clip;
		sink_free(s);
		return tus_error(req, MHD_HTTP_CONFLICT,
		                 "this upload is already complete: it is clip %lld", (long long)clip);
	}
	if (body != UINT64_MAX && body > s->r.length - s->r.received) {
		uint64_t room = s->r.length - s->r.received;
		sink_free(s);
		return tus_error(req, MHD_HTTP_CONTENT_TOO_LARGE,
		                 "the body is %" PRIu64 " bytes but only %" PRIu64 " remain of the "
		                 "Upload-Length given at creation", body, room);
	}
	if (offset != s->r.received) {
		uint64_t have = s->r.received;
		sink_free(s);
		return tus_offset_mismatch(req, offset, have);
	}
	/* One transfer per upload at a time, whichever node it reaches. */
	if (!hold(req, &s->r)) {
		uint64_t have = s->r.received;
		sink_free(s);
		return tus_busy(req, have);
	}
	s->storage = req->srv->storage;
	s->pool = req->srv->pool;
	s->part = tus_shared_part_size(s->r.length);
	s->buf = kd_malloc((size_t)s->part);
	s->held = time(NULL);
	char err[KD_ERRMSG_MAX] = "";
	if (sink_resume(s, err, sizeof err) < 0) {
		log_error("tus", "upload %s: cannot take it up: %s", s->r.id, err);
		row_exec(req->db, "UPDATE uploads SET busy_until = NULL WHERE id = ?1", s->r.id, NULL,
		         0, NULL);
		sink_free(s);
		return tus_error(req, MHD_HTTP_BAD_GATEWAY,
		                 "the server cannot read this upload back right now; try again, "
		                 "and tell your admin if it goes on");
	}
	req->stream = s;
	req->stream_write = sink_write;
	req->stream_close = sink_close;
	return MHD_YES;
}

/* Every byte is in: the last part, the object made of the parts, and the
 * clip.  Run again (the same last PATCH sent again) after a failure, it
 * takes up where that stopped. */
static enum MHD_Result complete(struct request *req, struct sink *s)
{
	char original[PATHS_KEY_MAX], tail[PATHS_KEY_MAX], err[KD_ERRMSG_MAX] = "";
	keys_of(s->r.clip, original, tail);
	struct storage_stat there;
	int rc = 0;
	/* (after an earlier try that completed the object, there are no parts) */
	if (storage_stat(s->storage, original, &there, NULL, 0) != 0 || there.size != s->r.length) {
		if (s->buf_len) {
			char etag[STORAGE_ETAG_MAX];
			rc = storage_mpu_put_part(s->storage, original, s->r.mpu_id, (int)s->r.parts + 1,
			                          s->buf, s->buf_len, etag, err, sizeof err);
		}
		struct storage_part *parts = NULL;
		size_t n = 0;
		if (rc == 0)
			rc = storage_mpu_list_parts(s->storage, original, s->r.mpu_id, &parts, &n, err,
			                            sizeof err);
		if (rc == 0)
			rc = storage_mpu_complete(s->storage, original, s->r.mpu_id, parts, n, err,
			                          sizeof err);
		free(parts);
	}
	if (rc < 0) {
		log_error("tus", "upload %s complete but not stored: %s", s->r.id, err);
		return tus_error(req, MHD_HTTP_BAD_GATEWAY,
		                 "the server could not store the finished upload (%s); send the "
		                 "upload again to finish it", err);
	}
	char sha[KD_SHA256_HEX];
	kd_sha256_final(&s->hash, sha);
	json_t *meta = json_loads(s->r.meta ? s->r.meta : "{}", 0, NULL);
	struct tus_clip_meta m = {0};
	int64_t id = 0;
	bool dup = false;
	struct kd_user uploader;
	rc = meta ? users_get(req->db, s->r.user, &uploader) : KD_EINVAL;
	if (rc == KD_ENOTFOUND)
		snprintf(err, sizeof err, "the account that began this upload is disabled or gone");
	if (rc == 0)
		rc = tus_clip_meta(req->db, req->srv->cfg->default_consent, meta, &uploader, &m, err,
		                   sizeof err);
	if (rc == 0) {
		m.c.id = s->r.clip;
		m.c.sha256 = sha;
		rc = intake_stored(req->db, s->storage, &m.c, &id, &dup, err, sizeof err);
	}
	tus_clip_meta_free(&m);
	json_decref(meta);
	if (rc < 0) {
		log_warn("tus", "upload %s complete but not taken in: %s", s->r.id, err);
		bool refused = rc == KD_EINVAL || rc == KD_ENOTFOUND || rc == KD_EPERM;
		if (refused) {
			char prefix[PATHS_KEY_MAX];
			paths_clip_prefix(s->r.clip, prefix);
			storage_delete_prefix(s->storage, prefix, NULL, 0);
			row_exec(req->db, "DELETE FROM uploads WHERE id = ?1", s->r.id, NULL, 0, NULL);
		}
		return tus_error(req, rc == KD_ENOTFOUND ? MHD_HTTP_BAD_REQUEST : http_status_of(rc),
		                 "%s%s", err, refused ? "" : "; send the upload again to finish it");
	}
	/* Kept without bytes, so a client that lost this answer learns the
	 * clip from HEAD; expiry removes it later. */
	int64_t v[1] = {id};
	if (row_exec(req->db, "UPDATE uploads SET done = 1, clip_id = ?2, busy_until = NULL, "
	             "hash_state = NULL WHERE id = ?1", s->r.id, v, 1, NULL) < 0)
		log_warn("tus", "upload %s: cannot record its clip %lld", s->r.id, (long long)id);
	storage_delete(s->storage, tail, NULL, 0); /* (kept until now for a try again) */
	jobs_runner_wake(req->srv->runner);
	log_info("tus", "upload %s complete: clip %lld%s", s->r.id, (long long)id,
	         dup ? " (already in the catalogue)" : "");
	return tus_completed(req, s->r.length, id, dup);
}

enum MHD_Result tus_shared_patch_end(struct request *req)
{
	struct sink *s = req->stream;
	if (!s)
		return MHD_YES;
	if (s->fail_status) {
		sink_save(s, req->db);
		return tus_error(req, s->fail_status, "%s", s->fail_msg);
	}
	if (stored(s) + s->buf_len == s->r.length) {
		/* everything is in: recorded first, so that a try that fails
		 * half-way is taken up again by the same PATCH sent again */
		s->saved = true;
		if (s->buf_len) {
			char original[PATHS_KEY_MAX], tail[PATHS_KEY_MAX], err[KD_ERRMSG_MAX];
			keys_of(s->r.clip, original, tail);
			if (storage_put_buf(s->storage, tail, s->buf, s->buf_len, NULL, err,
			                    sizeof err) < 0 ||
			    sink_record(s, req->db, true) < 0) {
				sink_save(s, req->db);
				return tus_error(req, MHD_HTTP_BAD_GATEWAY,
				                 "the server could not store the end of the upload; send "
				                 "it again");
			}
		}
		enum MHD_Result r = complete(req, s);
		row_exec(req->db, "UPDATE uploads SET busy_until = NULL WHERE id = ?1", s->r.id,
		         NULL, 0, NULL);
		return r;
	}
	if (sink_save(s, req->db) < 0)
		return tus_error(req, MHD_HTTP_SERVICE_UNAVAILABLE,
		                 "the catalogue could not record the upload's progress; ask with "
		                 "HEAD and resume from there");
	struct MHD_Response *resp = tus_response();
	tus_add_u64(resp, "Upload-Offset", s->r.received);
	return respond(req, MHD_HTTP_NO_CONTENT, resp);
}

/* ---------------------------------------------------------------- delete */

/* An unfinished upload's parts and tail go, then its row. */
static void discard(struct kd_db *db, struct kd_storage *storage, const char *id, int64_t clip,
                    const char *mpu_id)
{
	char original[PATHS_KEY_MAX], tail[PATHS_KEY_MAX], err[KD_ERRMSG_MAX];
	keys_of(clip, original, tail);
	if (storage_mpu_abort(storage, original, mpu_id, err, sizeof err) < 0)
		log_warn("tus", "upload %s: its parts stay behind: %s", id, err);
	storage_delete(storage, tail, NULL, 0);
	row_exec(db, "DELETE FROM uploads WHERE id = ?1", id, NULL, 0, NULL);
}

enum MHD_Result tus_shared_delete(struct request *req)
{
	struct row r;
	if (row_load(req->db, req->slugs[0], &req->user, &r) < 0)
		return tus_unknown_upload(req);
	if (r.done) {
		row_exec(req->db, "DELETE FROM uploads WHERE id = ?1", r.id, NULL, 0, NULL);
	} else {
		json_t *meta = r.meta ? json_loads(r.meta, 0, NULL) : NULL;
		tus_batch_cancelled(req->db, r.user, meta); /* issue 16 */
		json_decref(meta);
		discard(req->db, req->srv->storage, r.id, r.clip, r.mpu_id);
	}
	log_info("tus", "upload %s cancelled", r.id);
	row_free(&r);
	return respond(req, MHD_HTTP_NO_CONTENT, tus_response());
}

int tus_shared_expire(struct kd_db *db, struct kd_storage *storage, unsigned max_age_s)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT id, clip_id, mpu_id, done FROM uploads WHERE updated_at < "
	               "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || ?1 || ' seconds') "
	               "AND (busy_until IS NULL OR busy_until < ?2)", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, max_age_s);
	db_bind_int64(st, 2, (int64_t)time(NULL));
	struct row *old = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		if (n == cap)
			old = kd_realloc(old, (cap = cap ? cap * 2 : 16) * sizeof *old);
		memset(&old[n], 0, sizeof old[n]);
		snprintf(old[n].id, sizeof old[n].id, "%s", (const char *)db_column_text(st, 0));
		old[n].clip = db_column_int64(st, 1);
		old[n].mpu_id = col_dup(st, 2);
		old[n].done = db_column_int64(st, 3) != 0;
		n++;
	}
	db_finalize(st);
	for (size_t i = 0; i < n; i++) {
		if (old[i].done)
			row_exec(db, "DELETE FROM uploads WHERE id = ?1", old[i].id, NULL, 0, NULL);
		else
			discard(db, storage, old[i].id, old[i].clip, old[i].mpu_id);
		if (!old[i].done)
			log_info("tus", "upload %s expired unfinished", old[i].id);
		row_free(&old[i]);
	}
	free(old);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}
