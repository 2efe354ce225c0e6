/* check.c - every clip's media against the catalogue, and what no clip
 * owns (see check.h). */
#define _GNU_SOURCE
#include "kindling/check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/jobs.h"
#include "kindling/mem.h"
#include "kindling/storage.h"

/* Clips read from the catalogue at a time (the LIMIT of read_page). */
#define PAGE 200
/* How deep an orphan folder is looked into for its age and size. */
#define TREE_DEPTH 4

static const char *const problem_names[] = {
	[CHECK_MISSING_FILES] = "missing-files",
	[CHECK_MISSING_CAPTIONS] = "missing-captions",
	[CHECK_MISSING_ORIGINAL] = "missing-original",
	[CHECK_CORRUPT_ORIGINAL] = "corrupt-original",
	[CHECK_UNREADABLE] = "unreadable",
	[CHECK_ORPHAN] = "orphan",
	[CHECK_TEMPORARY] = "temporary",
};

static const char *const action_names[] = {
	[CHECK_NONE] = "none",
	[CHECK_REQUEUED] = "requeued",
	[CHECK_REMOVED] = "removed",
	[CHECK_LEFT] = "left",
	[CHECK_FAILED] = "failed",
};

const char *check_problem_name(enum check_problem p)
{
	return problem_names[p];
}

const char *check_action_name(enum check_action a)
{
	return action_names[a];
}

bool check_file_needed(const struct check_clip *c, enum kd_media_file f)
{
	if (f == KD_FILE_ORIGINAL)
		return true;
	if (c->status != CAT_READY)
		return false; /* queued and processing: not made yet; failed: never made */
	return f != KD_FILE_CAPTIONS || c->has_captions;
}

int check_original(struct kd_storage *s, int64_t id, const char *want, char got[KD_SHA256_HEX],
                   char *err, size_t errlen)
{
	char key[PATHS_KEY_MAX];
	paths_clip_key(id, KD_FILE_ORIGINAL, key);
	got[0] = '\0';
	int rc = storage_sha256(s, key, got, err, errlen);
	if (rc < 0)
		return rc;
	return strcasecmp(got, want) == 0 ? 0 : KD_EINVAL;
}

/* ------------------------------------------------------------ one run */

/* A clip's row, copied out of the statement. */
struct row {
	int64_t id;
	char *title;
	enum cat_status status;
	bool has_captions;
	char sha256[KD_SHA256_HEX]; /* "" when the catalogue holds none */
};

struct run {
	const struct check_options *o;
	struct kd_db *db;
	struct kd_storage *s;
	const char *data_dir;
	check_report_fn fn;
	void *arg;
	struct check_totals *t;
	int64_t *ids;           /* the clips checked, ascending (pages come in id order) */
	unsigned char *status;  /* each one's status */
	size_t n, cap;
};

static void report(struct run *r, const struct check_finding *f)
{
	if (f->action == CHECK_NONE || f->action == CHECK_FAILED)
		r->t->problems_left++;
	r->fn(r->arg, f);
}

static void remember(struct run *r, int64_t id, enum cat_status status)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->ids = kd_realloc(r->ids, r->cap * sizeof *r->ids);
		r->status = kd_realloc(r->status, r->cap);
	}
	r->ids[r->n] = id;
	r->status[r->n++] = (unsigned char)status;
}

/* Where id is in r->ids, or -1. */
static long known(const struct run *r, int64_t id)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->ids[mid] == id)
			return (long)mid;
		if (r->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void fill_row(struct kd_stmt *st, struct row *w)
{
	w->id = db_column_int64(st, 0);
	const char *title = (const char *)db_column_text(st, 1);
	w->title = kd_strdup(title ? title : "");
	const char *status = (const char *)db_column_text(st, 2);
	/* the schema allows no other; a stranger is judged as failed (the
	 * original only) rather than not at all */
	if (!status || cat_status_parse(status, &w->status) < 0)
		w->status = CAT_FAILED;
	w->has_captions = db_column_int(st, 3) != 0;
	const char *sha = (const char *)db_column_text(st, 4);
	if (sha && strlen(sha) == KD_SHA256_HEX - 1)
		memcpy(w->sha256, sha, KD_SHA256_HEX);
	else
		w->sha256[0] = '\0';
}

/* The next page of clips after id `after`.  Each page is its own short
 * read: nothing is held while their originals are hashed. */
static int read_page(struct kd_db *db, int64_t after, struct row *rows, size_t *n)
{
	struct kd_stmt *st;
	*n = 0;
	if (db_prepare(db, "SELECT id, title, status, has_captions, sha256 FROM clips WHERE id > ?1 "
	                   "ORDER BY id LIMIT 200", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, after);
	int rc;
	while ((rc = db_step(st)) == DB_ROW && *n < PAGE)
		fill_row(st, &rows[(*n)++]);
	db_finalize(st);
	return rc == DB_DONE || rc == DB_ROW ? 0 : db_err_code(rc);
}

/* Clip id's row as it is now: 0, KD_ENOTFOUND (deleted), KD_EDB. */
static int reread(struct kd_db *db, int64_t id, struct row *w)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT id, title, status, has_captions, sha256 FROM clips WHERE id = ?1",
	               &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		fill_row(st, w);
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? KD_ENOTFOUND : db_err_code(rc);
}

/* Is there a row for clip id?  KD_ENOTFOUND when there is none; 0 when
 * there is, KD_EDB when the catalogue cannot say (both: leave it be). */
static int row_exists(struct kd_db *db, int64_t id)
{
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT count(*) FROM clips WHERE id = ?1", &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, id);
	int rc = db_step(st);
	bool none = rc == DB_ROW && db_column_int64(st, 0) == 0;
	db_finalize(st);
	return rc != DB_ROW ? KD_EDB : none ? KD_ENOTFOUND : 0;
}

/* ------------------------------------------------------------ a clip */

enum original {
	ORIG_OK,
	ORIG_UNVERIFIED, /* there, with no SHA-256 in the catalogue to compare */
	ORIG_ELSEWHERE,  /* not in the bucket yet: on the node that took the clip in */
	ORIG_MISSING,
	ORIG_CORRUPT,
	ORIG_UNREADABLE,
};

struct verdict {
	unsigned missing, empty; /* 1u << f */
	enum original original;
	char got[KD_SHA256_HEX];
	char detail[KD_ERRMSG_MAX];
};

static bool wrong(const struct verdict *v)
{
	return v->missing || v->original >= ORIG_MISSING;
}

/* What a listing of the clip's keys found. */
struct seen {
	bool have[KD_FILE_COUNT];
	uint64_t size[KD_FILE_COUNT];
};

static int on_clip_key(void *arg, const char *key, const struct storage_stat *st)
{
	struct seen *s = arg;
	const char *name = strchr(key, '/');
	enum kd_media_file f;
	if (!name)
		return 0;
	name++;
	if (!strcmp(name, paths_file_name(KD_FILE_ORIGINAL)))
		f = KD_FILE_ORIGINAL;
	else if (paths_file_by_name(name, &f) < 0)
		return 0; /* blur.json, a work mark, a subfolder's keys: not media */
	s->have[f] = true;
	s->size[f] = st->size;
	return 0;
}

/* One listing of the clip's keys (one request to a bucket, not one per
 * file), then its original read through. */
static void examine(struct run *r, const struct row *c, struct verdict *v)
{
	memset(v, 0, sizeof *v);
	struct check_clip cc = {c->id, c->title, c->status, c->has_captions, c->sha256};
	struct seen s = {0};
	char prefix[PATHS_KEY_MAX];
	paths_clip_prefix(c->id, prefix);
	if (storage_list(r->s, prefix, on_clip_key, &s, v->detail, sizeof v->detail) < 0) {
		v->original = ORIG_UNREADABLE;
		return;
	}
	for (int i = KD_FILE_ORIGINAL + 1; i < KD_FILE_COUNT; i++) {
		enum kd_media_file f = (enum kd_media_file)i;
		if (check_file_needed(&cc, f) && (!s.have[f] || s.size[f] == 0)) {
			v->missing |= 1u << f;
			if (s.have[f])
				v->empty |= 1u << f;
		}
	}
	if (!s.have[KD_FILE_ORIGINAL] && storage_kind(r->s) != STORAGE_LOCAL) {
		/* With media in a bucket, a clip taken in by a node (not an
		 * upload shared by several) keeps its original in that node's
		 * work folder until it is processed, and one whose worker kept
		 * failing keeps it there (src/jobs/stored.h). */
		char *path = paths_clip_file(r->data_dir, c->id, KD_FILE_ORIGINAL);
		struct stat st;
		bool here = stat(path, &st) == 0 && S_ISREG(st.st_mode);
		int rc = here && c->sha256[0] ? kd_sha256_file(path, v->got) : 0;
		int why = errno;
		if (rc == KD_ENOTFOUND)
			here = false; /* stored and its folder removed meanwhile */
		free(path);
		if (here && rc < 0) {
			snprintf(v->detail, sizeof v->detail, "cannot read its original in the work "
			         "folder: %s", strerror(why));
			v->original = ORIG_UNREADABLE;
		} else if (here) {
			r->t->bytes_hashed += c->sha256[0] ? (uint64_t)st.st_size : 0;
			v->original = !c->sha256[0]                      ? ORIG_UNVERIFIED
			              : strcasecmp(v->got, c->sha256) == 0 ? ORIG_OK
			                                                   : ORIG_CORRUPT;
		} else {
			/* on the node processing it (it is fetched from there or
			 * stored by it); once ready or failed it is owed here */
			v->original = c->status == CAT_QUEUED || c->status == CAT_PROCESSING
			                  ? ORIG_ELSEWHERE
			                  : ORIG_MISSING;
		}
		return;
	}
	if (!s.have[KD_FILE_ORIGINAL]) {
		v->original = ORIG_MISSING;
		return;
	}
	if (!c->sha256[0]) {
		v->original = ORIG_UNVERIFIED; /* nothing to compare with */
		return;
	}
	int rc = check_original(r->s, c->id, c->sha256, v->got, v->detail, sizeof v->detail);
	if (rc == 0 || (rc == KD_EINVAL && v->got[0]))
		r->t->bytes_hashed += s.size[KD_FILE_ORIGINAL];
	v->original = rc == 0                        ? ORIG_OK
	              : rc == KD_EINVAL && v->got[0] ? ORIG_CORRUPT
	              : rc == KD_ENOTFOUND           ? ORIG_MISSING
	                                             : ORIG_UNREADABLE;
}

/* Queue a ready clip for processing again, as intake queues a new one:
 * its status and its job in one transaction.  Returns the action, or -1
 * when the clip is gone; a clip no longer ready is being processed
 * already (queued, processing) or was given up (failed: not ours). */
static int requeue(struct kd_db *db, int64_t id, char *err, size_t errlen)
{
	int rc = db_begin(db);
	if (rc < 0) {
		snprintf(err, errlen, "cannot queue it again: the catalogue is busy (%s); run "
		         "kindling check --repair again", db_errmsg(db));
		return CHECK_FAILED;
	}
	enum cat_status st;
	char *why = NULL;
	rc = cat_clip_status(db, id, &st, &why);
	free(why);
	if (rc == KD_ENOTFOUND || (rc == 0 && st != CAT_READY)) {
		db_rollback(db);
		return rc == KD_ENOTFOUND ? -1 : st == CAT_FAILED ? CHECK_NONE : CHECK_REQUEUED;
	}
	if (rc == 0)
		rc = cat_clip_set_status(db, id, CAT_QUEUED, NULL);
	if (rc == 0)
		rc = jobs_enqueue(db, id);
	if (rc == 0)
		rc = db_commit(db);
	if (rc == 0)
		return CHECK_REQUEUED;
	snprintf(err, errlen, "cannot queue it again: %s; run kindling check --repair again",
	         db_errmsg(db));
	db_rollback(db);
	return CHECK_FAILED;
}

static void check_clip(struct run *r, struct row *c)
{
	struct verdict v;
	examine(r, c, &v);
	if (wrong(&v)) {
		/* confirmed against the catalogue as it is now: the clip may have
		 * been deleted (its files with it) or changed while we looked */
		struct row now = {0};
		int rc = reread(r->db, c->id, &now);
		if (rc == KD_ENOTFOUND)
			return;
		if (rc == 0 && (now.status != c->status || now.has_captions != c->has_captions ||
		                strcmp(now.sha256, c->sha256) != 0)) {
			free(c->title);
			*c = now;
			examine(r, c, &v);
		} else if (rc == 0) {
			free(now.title);
		}
	}

	struct check_finding f = {.clip = c->id, .title = c->title, .status = c->status};
	unsigned derived = v.missing & ~(1u << KD_FILE_CAPTIONS);
	int action = CHECK_NONE;
	char detail[KD_ERRMSG_MAX] = "";
	/* the one repair: derived files made again from an intact original */
	if (derived && r->o->repair && (v.original == ORIG_OK || v.original == ORIG_UNVERIFIED) &&
	    (action = requeue(r->db, c->id, detail, sizeof detail)) < 0)
		return; /* deleted meanwhile */

	r->t->clips++;
	remember(r, c->id, action == CHECK_REQUEUED ? CAT_QUEUED : c->status);
	if (!wrong(&v)) {
		r->t->ok++;
		return;
	}
	switch (v.original) {
	case ORIG_MISSING:
		f.problem = CHECK_MISSING_ORIGINAL;
		r->t->missing_originals++;
		report(r, &f);
		break;
	case ORIG_CORRUPT:
		f.problem = CHECK_CORRUPT_ORIGINAL;
		f.want = c->sha256;
		f.got = v.got;
		r->t->corrupt_originals++;
		report(r, &f);
		break;
	case ORIG_UNREADABLE:
		f.problem = CHECK_UNREADABLE;
		f.detail = v.detail;
		r->t->unreadable++;
		report(r, &f);
		return; /* nothing more is known of it */
	default:
		break;
	}
	f.want = f.got = NULL;
	if (derived) {
		f.problem = CHECK_MISSING_FILES;
		f.files = derived;
		f.empty = v.empty & derived;
		f.original_bad = v.original == ORIG_MISSING || v.original == ORIG_CORRUPT;
		f.action = (enum check_action)action;
		f.detail = action == CHECK_FAILED ? detail : NULL;
		r->t->missing_files++;
		r->t->requeued += action == CHECK_REQUEUED;
		report(r, &f);
	}
	if (v.missing & (1u << KD_FILE_CAPTIONS)) {
		f.problem = CHECK_MISSING_CAPTIONS;
		f.files = 1u << KD_FILE_CAPTIONS;
		f.empty = v.empty & f.files;
		f.original_bad = false;
		f.action = CHECK_NONE;
		f.detail = NULL;
		r->t->missing_captions++;
		report(r, &f);
	}
}

/* ------------------------------------------------------------ what no clip owns */

/* A clip folder's name: a decimal id as paths.h writes it (no sign, no
 * leading zero). */
static bool clip_id_of(const char *name, size_t len, int64_t *id)
{
	if (len == 0 || len > 18 || name[0] == '0')
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (name[i] - '0');
	}
	*id = v;
	return true;
}

/* Files of clip id, which has no row: its folder in the data folder, or
 * (in_bucket) its objects under "<id>/".  Removed when old enough and
 * still without a row; too new, left (and said, not counted wrong). */
static void orphan(struct run *r, int64_t id, bool in_bucket, const char *where, int64_t newest,
                   long count, uint64_t bytes)
{
	if (row_exists(r->db, id) != KD_ENOTFOUND)
		return; /* made since the pages were read, or the catalogue cannot say */
	struct check_finding f = {.problem = CHECK_ORPHAN, .clip = id, .where = where,
	                          .in_bucket = in_bucket, .age_s = r->o->now - newest,
	                          .count = count, .bytes = bytes};
	char detail[KD_ERRMSG_MAX] = "";
	if (f.age_s < (int64_t)r->o->min_age_s) {
		f.action = CHECK_LEFT;
		r->t->orphans_left++;
		report(r, &f);
		return;
	}
	r->t->orphans++;
	if (r->o->repair) {
		char prefix[PATHS_KEY_MAX];
		paths_clip_prefix(id, prefix);
		char *dir = in_bucket ? NULL : paths_clip_dir(r->data_dir, id);
		int rc = in_bucket ? storage_delete_prefix(r->s, prefix, detail, sizeof detail)
		                   : kd_remove_tree(dir);
		if (rc == 0) {
			f.action = CHECK_REMOVED;
			r->t->orphans_removed++;
		} else {
			if (!in_bucket)
				snprintf(detail, sizeof detail, "cannot remove %s: %s", dir, strerror(errno));
			f.action = CHECK_FAILED;
			f.detail = detail;
		}
		free(dir);
	}
	report(r, &f);
}

/* A name kindling writes and renames, never keeps: "<name>.tmp"
 * (media/outputs.c), "<name>.tmp.<pid>" (kd_write_file_atomic),
 * ".<name>.tmp-XXXXXX" (storage/local.c), "<name>.part" (a copy being
 * made). */
static bool temporary_name(const char *name)
{
	size_t n = strlen(name);
	if ((n > 4 && !strcmp(name + n - 4, ".tmp")) || (n > 5 && !strcmp(name + n - 5, ".part")))
		return true;
	const char *t = strstr(name, ".tmp.");
	if (t && t[5] && strspn(t + 5, "0123456789") == strlen(t + 5))
		return true;
	return name[0] == '.' && strstr(name, ".tmp-") != NULL;
}

/* The temporaries in the folder name (of the folder parent), reported as
 * "<label>/<file>": those named as temporaries, or every file (any). */
static void temporaries_in(struct run *r, int parent, const char *name, const char *label,
                           bool any)
{
	int dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return; /* gone, or none yet */
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (!any && !temporary_name(e->d_name)) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		int64_t age = r->o->now - (int64_t)st.st_mtim.tv_sec;
		if (age < (int64_t)r->o->min_age_s)
			continue; /* being written, or just written: work in progress */
		char *where = kd_asprintf("%s/%s", label, e->d_name);
		char detail[KD_ERRMSG_MAX] = "";
		struct check_finding f = {.problem = CHECK_TEMPORARY, .where = where, .age_s = age,
		                          .bytes = (uint64_t)st.st_size};
		r->t->temporaries++;
		if (r->o->repair) {
			if (unlinkat(dirfd(d), e->d_name, 0) == 0 || errno == ENOENT) {
				f.action = CHECK_REMOVED;
				r->t->temporaries_removed++;
			} else {
				snprintf(detail, sizeof detail, "cannot remove it: %s", strerror(errno));
				f.action = CHECK_FAILED;
				f.detail = detail;
			}
		}
		report(r, &f);
		free(where);
	}
	closedir(d);
}

/* The newest change under the folder name of parent (itself included),
 * and its files and bytes. */
static void tree_stats(int parent, const char *name, int depth, int64_t *newest, long *count,
                       uint64_t *bytes)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (st.st_mtim.tv_sec > *newest)
		*newest = st.st_mtim.tv_sec;
	if (!S_ISDIR(st.st_mode)) {
		*count += 1;
		*bytes += (uint64_t)st.st_size;
		return;
	}
	int dfd = depth > 0 ? openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			tree_stats(dirfd(d), e->d_name, depth - 1, newest, count, bytes);
	closedir(d);
}

static void unreadable_place(struct run *r, const char *where, const char *detail)
{
	struct check_finding f = {.problem = CHECK_UNREADABLE, .where = where, .detail = detail};
	r->t->unreadable++;
	report(r, &f);
}

/* The data folder's media/ (with media in a bucket, the clips' work
 * folders, which a clip deleted while its original waited there would
 * leave for good): folders of no clip; temporaries in those of clips not
 * being processed. */
static void scan_media_folder(struct run *r)
{
	char *media = kd_path_join(r->data_dir, "media");
	DIR *d = opendir(media);
	if (!d) {
		if (errno != ENOENT) {
			char detail[KD_ERRMSG_MAX];
			snprintf(detail, sizeof detail, "cannot read %s: %s", media, strerror(errno));
			unreadable_place(r, "media", detail);
		}
		free(media);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		int64_t id;
		struct stat st;
		if (!clip_id_of(e->d_name, strlen(e->d_name), &id) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue; /* .multipart (uploads in parts: their own expiry), strays */
		char *label = kd_asprintf("media/%s", e->d_name);
		long i = known(r, id);
		if (i >= 0) {
			if (r->status[i] != CAT_PROCESSING)
				temporaries_in(r, dirfd(d), e->d_name, label, false);
		} else {
			int64_t newest = 0;
			long count = 0;
			uint64_t bytes = 0;
			tree_stats(dirfd(d), e->d_name, TREE_DEPTH, &newest, &count, &bytes);
			orphan(r, id, false, label, newest, count, bytes);
		}
		free(label);
	}
	closedir(d);
	free(media);
}

/* A bucket's keys gathered by the clip id they start with. */
struct candidate {
	int64_t id, newest;
	long count;
	uint64_t bytes;
};

struct bucket_walk {
	struct run *r;
	struct candidate *c;
	size_t n, cap;
};

static int on_bucket_key(void *arg, const char *key, const struct storage_stat *st)
{
	struct bucket_walk *w = arg;
	const char *slash = strchr(key, '/');
	int64_t id;
	if (!slash || !clip_id_of(key, (size_t)(slash - key), &id) || known(w->r, id) >= 0)
		return 0;
	/* a listing comes in key order, a clip's keys together: one
	 * candidate per run of them (sorted and merged after, for a service
	 * that lists in another order) */
	if (!w->n || w->c[w->n - 1].id != id) {
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 64;
			w->c = kd_realloc(w->c, w->cap * sizeof *w->c);
		}
		w->c[w->n++] = (struct candidate){.id = id};
	}
	struct candidate *c = &w->c[w->n - 1];
	c->count++;
	c->bytes += st->size;
	if (st->mtime > c->newest)
		c->newest = st->mtime;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	int64_t x = ((const struct candidate *)a)->id, y = ((const struct candidate *)b)->id;
	return (x > y) - (x < y);
}

/* A bucket: objects under "<id>/" of no clip. */
static void scan_bucket(struct run *r)
{
	struct bucket_walk w = {.r = r};
	char detail[KD_ERRMSG_MAX] = "";
	if (storage_list(r->s, "", on_bucket_key, &w, detail, sizeof detail) < 0) {
		unreadable_place(r, storage_describe(r->s), detail);
	} else {
		if (w.n) /* qsort(NULL, 0, ...) is undefined */
			qsort(w.c, w.n, sizeof *w.c, by_id);
		for (size_t i = 0; i < w.n;) {
			struct candidate c = w.c[i++];
			for (; i < w.n && w.c[i].id == c.id; i++) {
				c.count += w.c[i].count;
				c.bytes += w.c[i].bytes;
				if (w.c[i].newest > c.newest)
					c.newest = w.c[i].newest;
			}
			char prefix[PATHS_KEY_MAX];
			paths_clip_prefix(c.id, prefix);
			orphan(r, c.id, true, prefix, c.newest, c.count, c.bytes);
		}
	}
	free(w.c);
}

int check_run(const struct check_options *o, struct kd_db *db, struct kd_storage *s,
              const char *data_dir, check_report_fn fn, void *arg, struct check_totals *t,
              char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	struct run r = {.o = o, .db = db, .s = s, .data_dir = data_dir, .fn = fn, .arg = arg, .t = t};
	struct row *rows = kd_calloc(PAGE, sizeof *rows);
	int64_t after = 0;
	int rc;
	for (;;) {
		size_t n;
		if ((rc = read_page(db, after, rows, &n)) < 0) {
			snprintf(err, errlen, "cannot read the catalogue's clips: %s", db_errmsg(db));
			break;
		}
		for (size_t i = 0; i < n; i++) {
			after = rows[i].id;
			check_clip(&r, &rows[i]);
			free(rows[i].title);
		}
		if (n < PAGE)
			break;
	}
	if (rc == 0) {
		scan_media_folder(&r);
		if (storage_kind(s) != STORAGE_LOCAL)
			scan_bucket(&r);
		/* intake's copies of files being taken in (intake.c) */
		char *tmp = kd_path_join(data_dir, "tmp");
		temporaries_in(&r, AT_FDCWD, tmp, "tmp", true);
		free(tmp);
	}
	free(rows);
	free(r.ids);
	free(r.status);
	return rc;
}
