/* erase.c - deleting a clip completely, the clips past retention, and the
 * daily task that deletes them (erase.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kindling/buf.h"
#include "kindling/db.h"
#include "kindling/erase.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/paths.h"

/* A tus upload's info.json is small (tus_state.c bounds it the same). */
#define UPLOAD_INFO_MAX (64 * 1024)
/* The advisory lock a node holds for its daily round (PostgreSQL): "kdre".
 * db.c's are "kdmi" and "kdwr". */
#define PG_LOCK_DAILY "1801744997"

/* ---------------------------------------------------------------- one clip */

/* The multipart uploads of the clip's unfinished shared uploads (rows of
 * schema/008 that still point at it: a completion that was recorded in
 * the clip but not in its upload row), as new strings. */
static int unfinished_uploads(struct kd_db *db, int64_t id, char ***mpus, size_t *n)
{
	*mpus = NULL;
	*n = 0;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT mpu_id FROM uploads WHERE clip_id = ?1 AND done = 0", &st) !=
	    DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		*mpus = kd_realloc(*mpus, (*n + 1) * sizeof **mpus);
		(*mpus)[(*n)++] = kd_strdup((const char *)db_column_text(st, 0));
	}
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}

static void strings_free(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static int exec_id(struct kd_db *db, const char *sql, int64_t id)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	db_finalize(st);
	return rc == DB_DONE ? 0 : db_err_code(rc);
}

/* The catalogue's part, in one transaction: the audit entry, the clip's
 * upload records and its row (a hold set meanwhile wins: nothing). */
static int erase_row(struct kd_db *db, int64_t id, const struct audit_actor *who,
                     const char *why, char ***mpus, size_t *n_mpus, char *err, size_t errlen)
{
	struct cat_retained c;
	int rc = db_begin(db);
	if (rc < 0) {
		snprintf(err, errlen, "the catalogue is busy (%s); try again", kd_strerror(rc));
		return rc;
	}
	rc = cat_retained_get(db, id, &c);
	if (rc == 0 && c.hold_at)
		rc = KD_EPERM;
	if (rc == 0)
		rc = unfinished_uploads(db, id, mpus, n_mpus);
	if (rc == 0)
		rc = exec_id(db, "DELETE FROM uploads WHERE clip_id = ?1", id);
	if (rc == 0) {
		/* the clip is gone afterwards: the entry says what it was */
		bool kindling = who->user_id == 0 && (!who->user_name || !*who->user_name);
		char *detail = kd_asprintf("'%s' of %s%s%s", c.title ? c.title : "",
		                           c.school ? c.school : "", why && *why ? ": " : "",
		                           why && *why ? why : "");
		rc = audit_add(db, who, kindling ? AUDIT_RETENTION : AUDIT_DELETE, id, c.title,
		               detail);
		free(detail);
	}
	if (rc == 0)
		rc = cat_clip_delete_unheld(db, id);
	if (rc == 0)
		rc = db_commit(db);
	if (rc < 0) {
		db_rollback(db);
		strings_free(*mpus, *n_mpus);
		*mpus = NULL;
		*n_mpus = 0;
	}
	if (rc == KD_ENOTFOUND)
		snprintf(err, errlen, "no clip with id %lld", (long long)id);
	else if (rc == KD_EPERM)
		snprintf(err, errlen, "clip %lld is under legal hold (%s) and may not be deleted; an "
		         "admin lifts the hold first (DELETE /api/v1/clips/%lld/hold)", (long long)id,
		         c.hold_reason && *c.hold_reason ? c.hold_reason : "no reason given",
		         (long long)id);
	else if (rc < 0)
		snprintf(err, errlen, "the catalogue could not delete clip %lld (%s): %s; nothing was "
		         "deleted, try again", (long long)id, kd_strerror(rc), db_errmsg(db));
	cat_retained_free(&c);
	return rc;
}

/* Remove the tus uploads in the data folder that became this clip (their
 * info.json names it: kept after completion for a late HEAD). */
static void erase_local_uploads(const char *data_dir, int64_t id, struct kd_buf *left)
{
	char *root = paths_uploads_dir(data_dir);
	DIR *d = opendir(root);
	if (!d) {
		if (errno != ENOENT)
			kd_buf_printf(left, "; %s: %s", root, strerror(errno));
		free(root);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *dir = kd_path_join(root, e->d_name);
		char *info = kd_path_join(dir, "info.json");
		char *text = NULL;
		if (kd_read_file(info, UPLOAD_INFO_MAX, &text, NULL) == 0) {
			json_t *j = json_loads(text, 0, NULL);
			json_t *clip = json_object_get(j, "clip");
			if (json_is_integer(clip) && json_integer_value(clip) == id &&
			    kd_remove_tree(dir) < 0)
				kd_buf_printf(left, "; the upload %s: %s", dir, strerror(errno));
			json_decref(j);
		}
		free(text);
		free(info);
		free(dir);
	}
	closedir(d);
	free(root);
}

int clip_erase(struct kd_db *db, struct kd_storage *storage, const char *data_dir,
               int64_t clip_id, const struct audit_actor *who, const char *why, char *err,
               size_t errlen)
{
	char **mpus = NULL;
	size_t n_mpus = 0;
	int rc = erase_row(db, clip_id, who, why, &mpus, &n_mpus, err, errlen);
	if (rc < 0)
		return rc;
	log_info("erase", "clip %lld deleted by %s%s%s", (long long)clip_id,
	         who->user_name && *who->user_name ? who->user_name : "kindling (retention)",
	         why && *why ? ": " : "", why && *why ? why : "");

	/* The files.  Every step is tried whatever the others did: what could
	 * not be removed is named, for the log and the caller. */
	struct kd_buf left = KD_BUF_INIT(4096);
	char *dir = paths_clip_dir(data_dir, clip_id);
	if (kd_remove_tree(dir) < 0)
		kd_buf_printf(&left, "; %s: %s", dir, strerror(errno));
	free(dir);
	erase_local_uploads(data_dir, clip_id, &left);
	if (storage) {
		char key[PATHS_KEY_MAX], prefix[PATHS_KEY_MAX], serr[KD_ERRMSG_MAX];
		paths_clip_key(clip_id, KD_FILE_ORIGINAL, key);
		for (size_t i = 0; i < n_mpus; i++)
			if (storage_mpu_abort(storage, key, mpus[i], serr, sizeof serr) < 0)
				kd_buf_printf(&left, "; its unfinished upload %s: %s", mpus[i], serr);
		/* the data folder's media/<id>/ went above; this is the bucket's
		 * <id>/ (an upload's leftover tail too) */
		paths_clip_prefix(clip_id, prefix);
		if (storage_delete_prefix(storage, prefix, serr, sizeof serr) < 0)
			kd_buf_printf(&left, "; %s in %s: %s", prefix, storage_describe(storage), serr);
	}
	strings_free(mpus, n_mpus);
	rc = 0;
	if (left.len) {
		snprintf(err, errlen, "clip %lld is deleted, but some of its files are not: %s; "
		         "kindling check --repair removes them", (long long)clip_id,
		         kd_buf_str(&left) + 2);
		log_error("erase", "%s", err);
		rc = KD_EIO;
	}
	kd_buf_release(&left);
	return rc;
}

/* ---------------------------------------------------------------- retention */

void erase_retention_cutoff(int months, char out[11])
{
	/* as SQLite does it: the month moves, the day stays, and a day past
	 * the month's end runs into the next (timegm normalises) */
	time_t now = time(NULL);
	struct tm t;
	gmtime_r(&now, &t);
	int m = t.tm_year * 12 + t.tm_mon - months;
	t.tm_year = m / 12;
	t.tm_mon = m % 12;
	t.tm_hour = 12;
	t.tm_min = t.tm_sec = 0;
	time_t then = timegm(&t);
	gmtime_r(&then, &t);
	strftime(out, 11, "%Y-%m-%d", &t);
}

int erase_age_months(const char *date)
{
	int y, m, d;
	if (!date || sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return 0;
	time_t now = time(NULL);
	struct tm t;
	gmtime_r(&now, &t);
	int months = (t.tm_year + 1900 - y) * 12 + (t.tm_mon + 1 - m) - (t.tm_mday < d ? 1 : 0);
	return months < 0 ? 0 : months;
}

struct walk {
	struct kd_db *db;
	struct kd_storage *storage;
	const char *data_dir;
	int months;
	bool apply;
	int (*fn)(void *arg, const struct erase_item *it);
	void *arg;
	struct erase_totals *t;
};

static int one(void *arg, const struct cat_retained *c)
{
	struct walk *w = arg;
	char date[11] = "", why[128], err[KD_ERRMSG_MAX] = "";
	bool recorded = c->recorded_on != NULL;
	snprintf(date, sizeof date, "%s", recorded ? c->recorded_on : c->uploaded_at);
	struct erase_item it = {.clip = c, .date = date, .recorded = recorded, .err = ""};
	if (c->hold_at) {
		it.outcome = ERASE_HELD;
		w->t->held++;
	} else if (!w->apply) {
		it.outcome = ERASE_PAST;
		w->t->past++;
	} else {
		w->t->past++;
		snprintf(why, sizeof why, "past retention_months=%d: %s %s%s", w->months,
		         recorded ? "recorded" : "uploaded", date, recorded ? "" : " (no recorded date)");
		struct audit_actor kindling = {0, "", ""};
		int rc = clip_erase(w->db, w->storage, w->data_dir, c->id, &kindling, why, err,
		                    sizeof err);
		it.err = err;
		if (rc == 0 || rc == KD_EIO) {
			it.outcome = rc == 0 ? ERASE_DELETED : ERASE_FILES_LEFT;
			w->t->deleted++;
			w->t->files_left += rc == KD_EIO;
		} else if (rc == KD_ENOTFOUND) {
			it.outcome = ERASE_GONE;
		} else if (rc == KD_EPERM) {
			/* held since it was listed */
			it.outcome = ERASE_HELD;
			w->t->past--;
			w->t->held++;
		} else {
			it.outcome = ERASE_FAILED;
			w->t->failed++;
			log_error("retention", "%s", err);
		}
	}
	return w->fn ? w->fn(w->arg, &it) : 0;
}

int erase_retention(struct kd_db *db, struct kd_storage *storage, const char *data_dir,
                    int months, bool apply,
                    int (*fn)(void *arg, const struct erase_item *it), void *arg,
                    struct erase_totals *t)
{
	memset(t, 0, sizeof *t);
	struct walk w = {db, storage, data_dir, months, apply, fn, arg, t};
	return cat_clips_past_retention(db, months, one, &w);
}

/* ---------------------------------------------------------------- daily */

struct erase_daily {
	const struct kd_config *cfg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
};

/* Each clip of a round: logged, and the round ends after it when the task
 * is being stopped. */
static int heard(void *arg, const struct erase_item *it)
{
	struct erase_daily *d = arg;
	if (it->outcome == ERASE_DELETED || it->outcome == ERASE_FILES_LEFT)
		log_info("retention", "clip %lld deleted: past retention_months (its date %s)",
		         (long long)it->clip->id, it->date);
	if (!d)
		return 0;
	pthread_mutex_lock(&d->lock);
	bool stop = d->stopping;
	pthread_mutex_unlock(&d->lock);
	return stop;
}

/* PostgreSQL: may this node do today's round (no other node is)?  The lock
 * is the connection's, and goes when it closes. */
static bool take_turn(struct kd_db *db)
{
	if (db_backend(db) != DB_POSTGRES)
		return true;
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT CASE WHEN pg_try_advisory_lock(" PG_LOCK_DAILY ") THEN 1 ELSE 0 "
	                   "END", &st) != DB_OK)
		return true; /* a second round does no harm: gone clips are skipped */
	bool mine = db_step(st) != DB_ROW || db_column_int(st, 0) != 0;
	db_finalize(st);
	return mine;
}

static int round_with(const struct kd_config *cfg, struct erase_daily *d)
{
	char err[KD_ERRMSG_MAX] = "";
	struct kd_db *db = NULL;
	struct kd_storage *storage = NULL;
	int rc = db_open(cfg->db_path, &db, err, sizeof err);
	if (rc < 0) {
		log_error("retention", "the daily round cannot open the catalogue: %s", err);
		return rc;
	}
	if (!take_turn(db)) {
		log_info("retention", "another node is doing the daily round");
		db_close(&db);
		return 0;
	}
	int first = 0;
	if (cfg->retention_months > 0) {
		if (cfg->storage && (rc = storage_open(&storage, cfg, err, sizeof err)) < 0) {
			log_error("retention", "the daily round cannot reach the media: %s", err);
			first = rc;
		} else {
			struct erase_totals t;
			rc = erase_retention(db, storage, cfg->data_dir, (int)cfg->retention_months, true,
			                     heard, d, &t);
			if (rc < 0) {
				log_error("retention", "cannot list the clips past retention: %s",
				          kd_strerror(rc));
				first = rc;
			}
			log_info("retention", "retention_months=%u: %ld deleted, %ld kept under legal "
			         "hold, %ld could not be deleted, %ld left files behind",
			         cfg->retention_months, t.deleted, t.held, t.failed, t.files_left);
			if (!first && t.failed)
				first = KD_EDB;
			storage_close(&storage);
		}
	}
	/* the audit trail's own retention (audit.h) */
	int64_t pruned = 0;
	if (cfg->audit_months >= 12 && (rc = audit_prune(db, (int)cfg->audit_months, &pruned)) < 0) {
		log_error("audit", "cannot remove the entries older than audit_months=%u: %s",
		          cfg->audit_months, kd_strerror(rc));
		if (!first)
			first = rc;
	} else if (pruned) {
		log_info("audit", "removed %lld entries older than audit_months=%u", (long long)pruned,
		         cfg->audit_months);
	}
	db_close(&db);
	return first;
}

int erase_daily_round(const struct kd_config *cfg)
{
	return round_with(cfg, NULL);
}

/* Wait s seconds, or until stopped: true when stopped. */
static bool wait_s(struct erase_daily *d, unsigned s)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += s;
	pthread_mutex_lock(&d->lock);
	while (!d->stopping && pthread_cond_timedwait(&d->cond, &d->lock, &until) != ETIMEDOUT)
		;
	bool stop = d->stopping;
	pthread_mutex_unlock(&d->lock);
	return stop;
}

static void *daily_main(void *arg)
{
	struct erase_daily *d = arg;
	unsigned first = ERASE_DAILY_FIRST_S;
	const char *env = getenv("KINDLING_DAILY_DELAY_S");
	if (env && *env) {
		char *end;
		long v = strtol(env, &end, 10);
		if (!*end && v >= 0 && v <= ERASE_DAILY_EVERY_S)
			first = (unsigned)v;
		else
			log_warn("retention", "KINDLING_DAILY_DELAY_S=%s is not 0 to %d seconds; the "
			         "first daily round is in %d", env, ERASE_DAILY_EVERY_S, first);
	}
	if (wait_s(d, first))
		return NULL;
	do
		round_with(d->cfg, d);
	while (!wait_s(d, ERASE_DAILY_EVERY_S));
	return NULL;
}

int erase_daily_start(const struct kd_config *cfg, struct erase_daily **out)
{
	*out = NULL;
	struct erase_daily *d = kd_calloc(1, sizeof *d);
	d->cfg = cfg;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &a);
	pthread_condattr_destroy(&a);
	if (pthread_create(&d->thread, NULL, daily_main, d) != 0) {
		log_error("retention", "cannot start the daily task: no thread");
		pthread_cond_destroy(&d->cond);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return KD_EIO;
	}
	*out = d;
	return 0;
}

void erase_daily_stop(struct erase_daily **dp)
{
	struct erase_daily *d = dp ? *dp : NULL;
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
	*dp = NULL;
}
