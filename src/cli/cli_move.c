/* cli_move.c - kindling move-to: a data folder's catalogue and media
 * copied into PostgreSQL and object storage and checked, for a district
 * moving up from one disk.  The data folder is left as it was: the admin
 * switches the settings once the copy is complete (the README says how).
 * The catalogue's copy is move_db.c's; the media's is here. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/catalogue.h"
#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/jobs.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
#include "kindling/sha256.h"
#include "kindling/storage.h"

#include "move_db.h"

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

/* ------------------------------------------------------------ the command */

struct move_args {
	const char *data, *storage, *endpoint, *region, *database;
};

/* Everything a run holds, released by move_free(). */
struct move {
	const struct move_args *a;
	struct kd_config cfg;
	char *shown;            /* --database as it may be printed: no password */
	bool had_password;
	char *bucket, *prefix;
	struct kd_storage *storage;
	struct kd_db *src;      /* the data folder's catalogue.db, read only */
	struct kd_db *dst;      /* PostgreSQL */
	bool db_done;           /* the catalogue is in PostgreSQL, checked */
	struct move_db_result db;
	struct walk media;
	char err[KD_ERRMSG_MAX];
};

static void usage(void)
{
	printf("usage: kindling move-to [--database postgresql://USER[:PASSWORD]@HOST[:PORT]/DB] "
	            "[--storage s3://BUCKET[/PREFIX] [--s3-endpoint URL] [--s3-region REGION]] "
	            "[--data DIR]\n");
}

/* -1 to go on, else the exit status (2: a usage error, said). */
static int parse_args(int argc, char **argv, struct move_args *a)
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
	int c;
	while ((c = getopt_long(argc, argv, "d:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->data = optarg; break;
		case 's': a->storage = optarg; break;
		case 'e': a->endpoint = optarg; break;
		case 'r': a->region = optarg; break;
		case 'D': a->database = optarg; break;
		case 'h': usage(); return 0;
		default: return 2;
		}
	}
	if ((!a->storage && !a->database) || optind < argc) {
		cli_fail("move-to needs --database postgresql://..., --storage s3://BUCKET[/PREFIX], or "
		         "both (and takes nothing else%s%s)",
		         optind < argc ? "; got " : "", optind < argc ? argv[optind] : "");
		return 2;
	}
	if ((a->endpoint || a->region) && !a->storage) {
		cli_fail("--s3-endpoint and --s3-region say where --storage is: give --storage too");
		return 2;
	}
	if (a->database && !db_is_postgres_url(a->database)) {
		bool pw;
		char *shown = move_db_redact(a->database, &pw);
		cli_fail("--database takes the URL of a PostgreSQL database, "
		         "postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME, not '%.200s'", shown);
		free(shown);
		return 2;
	}
	return -1;
}

/* The data folder's settings.  With --database, its own: KINDLING_DATABASE
 * says where servers keep their catalogue, and must not stand in for the
 * data folder's catalogue.db, which is what is copied; it is set aside
 * while they load. */
static int load_config(struct move *m)
{
	char *env = NULL;
	if (m->a->database && getenv("KINDLING_DATABASE")) {
		env = kd_strdup(getenv("KINDLING_DATABASE"));
		unsetenv("KINDLING_DATABASE");
	}
	int rc = kd_config_load(&m->cfg, m->a->data, NULL, m->err, sizeof m->err);
	if (env) {
		setenv("KINDLING_DATABASE", env, 1);
		free(env);
	}
	return rc;
}

/* What the data folder already keeps elsewhere is not moved again. */
static int check_settings(struct move *m)
{
	const struct kd_config *cfg = &m->cfg;
	if (m->a->storage && cfg->storage) {
		snprintf(m->err, sizeof m->err,
		         "%s keeps its media in %s already (kindling.conf): there is nothing in the "
		         "data folder to move",
		         cfg->data_dir, cfg->storage);
		return KD_EINVAL;
	}
	if (m->a->database && db_is_postgres_url(cfg->db_path)) {
		bool pw;
		char *shown = move_db_redact(cfg->db_path, &pw);
		snprintf(m->err, sizeof m->err,
		         "%s/kindling.conf says database = %.200s: its catalogue is in PostgreSQL "
		         "already, and move-to --database copies a data folder's own catalogue.db",
		         cfg->data_dir, shown);
		free(shown);
		return KD_EINVAL;
	}
	return 0;
}

/* The bucket, as `storage` and its settings would name it, checked before
 * anything is copied anywhere. */
static int open_storage(struct move *m)
{
	int rc = kd_config_parse_storage(m->a->storage, &m->bucket, &m->prefix, m->err,
	                                 sizeof m->err);
	if (rc == 0) {
		struct storage_s3_settings set = {
			.bucket = m->bucket, .prefix = m->prefix, .endpoint = m->a->endpoint,
			.region = m->a->region ? m->a->region : m->cfg.s3_region,
			.access_key = getenv("AWS_ACCESS_KEY_ID"),
			.secret_key = getenv("AWS_SECRET_ACCESS_KEY"),
			.session_token = getenv("AWS_SESSION_TOKEN"),
		};
		rc = storage_open_s3(&m->storage, &set, m->err, sizeof m->err);
	}
	if (rc == 0)
		rc = storage_check(m->storage, m->err, sizeof m->err);
	return rc;
}

/* The data folder's catalogue.db (built from the folder, never from a
 * database setting) into PostgreSQL. */
static int move_catalogue(struct move *m)
{
	char *path = kd_path_join(m->cfg.data_dir, "catalogue.db");
	int rc = move_db_open_source(path, &m->src, m->err, sizeof m->err);
	free(path);
	if (rc == 0 && (rc = db_open(m->a->database, &m->dst, m->err, sizeof m->err)) < 0) {
		size_t n = strlen(m->err);
		snprintf(m->err + n, sizeof m->err - n, " (--database %s)", m->shown);
	}
	if (rc == 0)
		rc = move_db_copy(m->src, m->dst, m->shown, &m->db, m->err, sizeof m->err);
	m->db_done = rc == 0;
	return rc;
}

/* Every clip's files into the bucket, each read back and checked.  The
 * clips are the data folder's catalogue's when it is moved too, else
 * those of the catalogue the settings name. */
static int move_media(struct move *m)
{
	struct kd_db *own = NULL, *db = m->src;
	char *err = m->err;
	size_t errlen = sizeof m->err;
	int rc = db ? 0 : db_open(m->cfg.db_path, &own, err, errlen);
	db = db ? db : own;
	struct clips clips = {0};
	if (rc == 0 && (rc = cat_clips_each(db, add_clip, &clips)) < 0)
		snprintf(err, errlen, "cannot read the catalogue: %s", kd_strerror(rc));
	if (rc == 0)
		rc = check_target(m->storage, &clips, m->a->storage, err, errlen);
	struct walk *w = &m->media;
	*w = (struct walk){.storage = m->storage, .data_dir = m->cfg.data_dir};
	if (rc == 0 && (rc = cat_clips_each(db, copy_one, w)) < 0)
		snprintf(err, errlen, "clip %lld: %.400s", (long long)w->at,
		         w->err[0] ? w->err : kd_strerror(rc));
	/* every file there is one object there: nothing missing, nothing more */
	int keys = 0;
	if (rc == 0 && (rc = storage_list(m->storage, "", count_key, &keys, err, errlen)) == 0 &&
	    keys != w->done.files) {
		snprintf(err, errlen,
		         "the storage holds %d objects under %s, the data folder %d files; run "
		         "move-to again",
		         keys, m->a->storage, w->done.files);
		rc = KD_EIO;
	}
	free(clips.ids);
	free(clips.sha);
	db_close(&own);
	return rc;
}

static void print_copied(const struct move *m)
{
	const struct move_db_result *r = &m->db;
	printf("%s: ", r->already ? "already copied" : "copied");
	for (int i = 0; i < MOVE_DB_TABLES; i++)
		printf("%s%lld %s", i ? ", " : "", (long long)r->rows[i], r->labels[i]);
	if (r->already)
		printf(" are in PostgreSQL (%s) already, as the data folder has them now; counts and "
		       "every row checked, nothing copied again\n", m->shown);
	else
		printf(" into PostgreSQL (%s); counts checked, and every row read back the same\n",
		       m->shown);
}

static void print_moved(const struct walk *w)
{
	printf("moved: %d clips, %d files (%llu bytes; %d sent now, the others there "
	       "already), every one read back with its SHA-256\n",
	       w->clips, w->done.files, (unsigned long long)w->done.bytes, w->done.copied);
}

/* What the admin does next: the settings that switch the data folder over. */
static void print_next(const struct move *m)
{
	const struct move_args *a = m->a;
	printf("next: stop the server, put these lines in %s/kindling.conf, start it again%s:\n",
	       m->cfg.data_dir,
	       a->storage ? " with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set" : "");
	if (a->database)
		printf("  database = %s\n", m->shown);
	if (a->storage)
		printf("  storage = %s\n", a->storage);
	if (a->endpoint)
		printf("  s3_endpoint = %s\n", a->endpoint);
	if (a->region)
		printf("  s3_region = %s\n", a->region);
	if (m->had_password)
		printf("the password is shown as ***: write the real one there, or leave it out of the "
		       "URL and start the server with PGPASSWORD set\n");
	if (a->database)
		printf("if the server ran during the copy, stop it and run move-to again before "
		       "switching: \"already copied\" means nothing changed since; catalogue.db stays "
		       "as it was, unused once database is set: keep it as the move's backup\n");
	if (a->storage)
		printf("then, once clips play, remove the folder %s/media to free its disk\n",
		       m->cfg.data_dir);
}

static void print_failure(const struct move *m)
{
	if (m->a->storage && m->db_done)
		cli_fail("%s; nothing in the data folder was changed. The catalogue is in PostgreSQL "
		         "and checked: run the same move-to again, which does not copy it twice and "
		         "goes on with the media where this run stopped",
		         m->err);
	else if (m->a->storage)
		cli_fail("%s; nothing in the data folder was changed, and a run again goes on "
		         "where this one stopped",
		         m->err);
	else
		cli_fail("%s; nothing in the data folder was changed", m->err);
}

static void move_free(struct move *m)
{
	db_close(&m->src);
	db_close(&m->dst);
	storage_close(&m->storage);
	free(m->bucket);
	free(m->prefix);
	free(m->shown);
	kd_config_free(&m->cfg);
}

int cli_move_to(int argc, char **argv)
{
	struct move_args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	struct move m = {.a = &a};
	if (a.database)
		m.shown = move_db_redact(a.database, &m.had_password);
	if ((rc = load_config(&m)) < 0 || (rc = check_settings(&m)) < 0) {
		cli_fail("%s", m.err);
		move_free(&m);
		return 1;
	}
	/* the bucket first: a wrong key or endpoint is told before a long copy */
	if (a.storage)
		rc = open_storage(&m);
	if (rc == 0 && a.database)
		rc = move_catalogue(&m);
	if (rc == 0 && a.storage)
		rc = move_media(&m);
	if (rc == 0) {
		if (a.database)
			print_copied(&m);
		if (a.storage)
			print_moved(&m.media);
		print_next(&m);
	} else {
		print_failure(&m);
	}
	move_free(&m);
	return rc < 0 ? 1 : 0;
}
