/* cli_move.c - kindling move-to: a data folder's media copied into object
 * storage and checked, for a district moving up from one disk.  The data
 * folder is left as it was: the admin switches the setting once the copy
 * is complete (the README says how). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/catalogue.h"
#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/jobs.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
#include "kindling/sha256.h"
#include "kindling/storage.h"

struct walk {
	struct kd_storage *storage;
	const char *data_dir;
	struct jobs_copy done;
	int clips;
	int64_t at;             /* the clip being copied */
	char err[KD_ERRMSG_MAX];
};

static int copy_one(void *arg, int64_t id, const char *sha256)
{
	struct walk *w = arg;
	w->clips++;
	w->at = id;
	int rc = jobs_copy_to_storage(w->storage, w->data_dir, id, sha256, &w->done, w->err,
	                          sizeof w->err);
	if (rc == 0 && w->clips % 100 == 0)
		fprintf(stderr, "move-to: %d clips, %d files checked\n", w->clips, w->done.files);
	return rc;
}

/* The catalogue's clips, in id order, with their originals' SHA-256. */
struct clips {
	int64_t *ids;
	char (*sha)[KD_SHA256_HEX];
	size_t n, cap;
};

static int add_clip(void *arg, int64_t id, const char *sha256)
{
	struct clips *c = arg;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->ids = kd_realloc(c->ids, c->cap * sizeof *c->ids);
		c->sha = kd_realloc(c->sha, c->cap * sizeof *c->sha);
	}
	c->ids[c->n] = id;
	snprintf(c->sha[c->n], KD_SHA256_HEX, "%s", sha256 ? sha256 : "");
	c->n++;
	return 0;
}

static const char *sha_of(const struct clips *c, int64_t id)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && c->ids[lo] == id ? c->sha[lo] : NULL;
}

/* What the storage holds before anything is sent: keys, and the clips
 * ("<id>/...") they belong to, each once. */
struct held {
	const struct clips *clips;
	int keys;
	int64_t *ids;
	size_t n, cap;
	char foreign[STORAGE_KEY_MAX]; /* the first key no clip of ours has */
};

static int hold_key(void *arg, const char *key, const struct storage_stat *st)
{
	(void)st;
	struct held *h = arg;
	h->keys++;
	char *end;
	long long id = strtoll(key, &end, 10);
	if (end == key || *end != '/' || !sha_of(h->clips, id)) {
		if (!h->foreign[0])
			snprintf(h->foreign, sizeof h->foreign, "%s", key);
		return 0;
	}
	if (!h->n || h->ids[h->n - 1] != id) {
		if (h->n == h->cap)
			h->ids = kd_realloc(h->ids, (h->cap = h->cap ? h->cap * 2 : 256) * sizeof *h->ids);
		h->ids[h->n++] = id;
	}
	return 0;
}

/* Is the storage empty, or what an earlier run of this data folder left?
 * Anything else (another data folder's clips, other files) would be
 * overwritten or mixed in: refused before a byte is sent. */
static int check_target(struct kd_storage *s, const struct clips *clips, const char *target,
                        char *err, size_t errlen)
{
	struct held h = {.clips = clips};
	int rc = storage_list(s, "", hold_key, &h, err, errlen);
	if (rc == 0 && h.foreign[0]) {
		snprintf(err, errlen, "%s holds %.200s, which is no clip's of this data folder: use an "
		         "empty bucket or prefix for one data folder", target, h.foreign);
		rc = KD_EINVAL;
	}
	for (size_t i = 0; rc == 0 && i < h.n; i++) {
		char key[PATHS_KEY_MAX], sha[KD_SHA256_HEX];
		paths_clip_key(h.ids[i], KD_FILE_ORIGINAL, key);
		rc = storage_sha256(s, key, sha, err, errlen);
		if (rc == KD_ENOTFOUND) {
			rc = 0; /* cut short before its original: not known to be another's */
		} else if (rc == 0 && strcmp(sha, sha_of(clips, h.ids[i])) != 0) {
			snprintf(err, errlen, "%s holds a clip %lld that is not this data folder's (its "
			         "original differs): use an empty bucket or prefix for one data folder",
			         target, (long long)h.ids[i]);
			rc = KD_EINVAL;
		}
	}
	free(h.ids);
	return rc;
}

static int count_key(void *arg, const char *key, const struct storage_stat *st)
{
	(void)key;
	(void)st;
	(*(int *)arg)++;
	return 0;
}

int cli_move_to(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"storage", required_argument, NULL, 's'},
		{"s3-endpoint", required_argument, NULL, 'e'},
		{"s3-region", required_argument, NULL, 'r'},
		{"database", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *data = NULL, *target = NULL, *endpoint = NULL, *region = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "d:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 's': target = optarg; break;
		case 'e': endpoint = optarg; break;
		case 'r': region = optarg; break;
		case 'D':
			cli_fail("--database: moving the catalogue to PostgreSQL is not available yet; "
			         "move the media with --storage alone");
			return 2;
		case 'h':
			printf("usage: kindling move-to --storage s3://BUCKET[/PREFIX] [--s3-endpoint URL] "
			       "[--s3-region REGION] [--data DIR]\n");
			return 0;
		default: return 2;
		}
	}
	if (!target || optind < argc) {
		cli_fail("move-to needs --storage s3://BUCKET[/PREFIX] (and takes nothing else%s%s)",
		         optind < argc ? "; got " : "", optind < argc ? argv[optind] : "");
		return 2;
	}
	struct kd_config cfg;
	char err[KD_ERRMSG_MAX] = "";
	int rc = kd_config_load(&cfg, data, NULL, err, sizeof err);
	if (rc < 0) {
		cli_fail("%s", err);
		kd_config_free(&cfg);
		return 1;
	}
	if (cfg.storage) {
		cli_fail("%s keeps its media in %s already (kindling.conf): there is nothing in the "
		         "data folder to move",
		         cfg.data_dir, cfg.storage);
		kd_config_free(&cfg);
		return 1;
	}
	/* the destination, as `storage` and its settings would name it */
	char *bucket = NULL, *prefix = NULL;
	struct kd_storage *s = NULL;
	struct kd_db *db = NULL;
	rc = kd_config_parse_storage(target, &bucket, &prefix, err, sizeof err);
	if (rc == 0) {
		struct storage_s3_settings set = {
			.bucket = bucket, .prefix = prefix, .endpoint = endpoint,
			.region = region ? region : cfg.s3_region,
			.access_key = getenv("AWS_ACCESS_KEY_ID"),
			.secret_key = getenv("AWS_SECRET_ACCESS_KEY"),
			.session_token = getenv("AWS_SESSION_TOKEN"),
		};
		rc = storage_open_s3(&s, &set, err, sizeof err);
	}
	if (rc == 0)
		rc = storage_check(s, err, sizeof err);
	if (rc == 0)
		rc = db_open(cfg.db_path, &db, err, sizeof err);
	struct clips clips = {0};
	if (rc == 0 && (rc = cat_clips_each(db, add_clip, &clips)) < 0)
		snprintf(err, sizeof err, "cannot read the catalogue: %s", kd_strerror(rc));
	if (rc == 0)
		rc = check_target(s, &clips, target, err, sizeof err);
	struct walk w = {.storage = s, .data_dir = cfg.data_dir};
	if (rc == 0 && (rc = cat_clips_each(db, copy_one, &w)) < 0)
		snprintf(err, sizeof err, "clip %lld: %.400s", (long long)w.at,
		         w.err[0] ? w.err : kd_strerror(rc));
	/* every file there is one object there: nothing missing, nothing more */
	int keys = 0;
	if (rc == 0 && (rc = storage_list(s, "", count_key, &keys, err, sizeof err)) == 0 &&
	    keys != w.done.files) {
		snprintf(err, sizeof err,
		         "the storage holds %d objects under %s, the data folder %d files; run "
		         "move-to again",
		         keys, target, w.done.files);
		rc = KD_EIO;
	}
	free(clips.ids);
	free(clips.sha);
	if (rc == 0) {
		printf("moved: %d clips, %d files (%llu bytes; %d sent now, the others there "
		       "already), every one read back with its SHA-256\n",
		       w.clips, w.done.files, (unsigned long long)w.done.bytes, w.done.copied);
		printf("next: stop the server, put these lines in %s/kindling.conf, start it with "
		       "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set:\n  storage = %s\n",
		       cfg.data_dir, target);
		if (endpoint)
			printf("  s3_endpoint = %s\n", endpoint);
		if (region)
			printf("  s3_region = %s\n", region);
		printf("then, once clips play, remove the folder %s/media to free its disk\n",
		       cfg.data_dir);
	} else {
		cli_fail("%s; nothing in the data folder was changed, and a run again goes on "
		         "where this one stopped",
		         err);
	}
	db_close(&db);
	storage_close(&s);
	free(bucket);
	free(prefix);
	kd_config_free(&cfg);
	return rc < 0 ? 1 : 0;
}
