/* cli_backup.c - kindling backup DEST: a consistent copy of a data folder
 * while the server runs, checked before it is called done.
 *
 * The catalogue is copied first, with SQLite's online backup (one read
 * snapshot: db_backup_to), and the media after it, clip by clip, for the
 * clips that copy holds: a clip added meanwhile is in neither, one deleted
 * meanwhile is reported (its files went with it).  A clip's files are
 * never changed once written (processing writes new ones under a temporary
 * name and renames), so copying them after the snapshot gives the files
 * that snapshot describes.  Each original is read back from the copy and
 * its SHA-256 compared with the catalogue's, as `kindling check` checks
 * originals (check_original); every other file's size with its source.
 * The result is a data folder: `kindling serve --data DEST` serves it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kindling/check.h"
#include "kindling/cli.h"
#include "kindling/config.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
#include "kindling/sha256.h"
#include "kindling/storage.h"

#define PROBLEMS_SHOWN 20

struct totals {
	long clips, files, problems;
	uint64_t bytes;
};

/* Copy the file src to dst (a new file: temporary name, synced, renamed).
 * Returns 0, KD_ENOTFOUND (src is gone) or KD_EIO; *size is its size. */
static int copy_file(const char *src, const char *dst, uint64_t *size)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno == ENOENT ? KD_ENOTFOUND : KD_EIO;
	char *tmp = kd_asprintf("%s.part", dst);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	int rc = out < 0 ? KD_EIO : 0;
	char buf[1 << 16];
	*size = 0;
	while (rc == 0) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = KD_EIO;
			break;
		}
		for (ssize_t done = 0; done < n && rc == 0;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0 && errno != EINTR)
				rc = KD_EIO;
			else if (w > 0)
				done += w;
		}
		*size += (uint64_t)n;
	}
	close(in);
	if (rc == 0 && kd_commit_file(out, tmp, dst) < 0)
		rc = KD_EIO;
	if (out >= 0)
		close(out);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static void problem(struct totals *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct totals *t, const char *fmt, ...)
{
	if (t->problems++ < PROBLEMS_SHOWN) {
		va_list ap;
		va_start(ap, fmt);
		fprintf(stderr, "kindling: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

/* Copy the object key of bucket to the file dst; *size its bytes. */
static int fetch_file(struct kd_storage *bucket, const char *key, const char *dst,
                      uint64_t *size, char *err, size_t errlen)
{
	int rc = storage_get_file(bucket, key, 0, STORAGE_TO_END, dst, err, errlen);
	struct stat st;
	if (rc == 0 && stat(dst, &st) == 0)
		*size = (uint64_t)st.st_size;
	return rc;
}

/* One clip's files, from its folder in from/ (or its objects in bucket,
 * when not NULL) to the same in to/ (whose media/ is copy). */
static void copy_clip(const char *from, struct kd_storage *bucket, const char *to,
                      struct kd_storage *copy, int64_t id, const char *sha256, struct totals *t)
{
	char *dst_dir = paths_clip_dir(to, id);
	if (kd_mkdirs(dst_dir, 0750) < 0) {
		problem(t, "cannot make %s: %s", dst_dir, strerror(errno));
		free(dst_dir);
		return;
	}
	free(dst_dir);
	for (int f = 0; f < KD_FILE_COUNT; f++) {
		char *src = paths_clip_file(from, id, (enum kd_media_file)f);
		char *dst = paths_clip_file(to, id, (enum kd_media_file)f);
		uint64_t size = 0;
		char key[PATHS_KEY_MAX], why[KD_ERRMSG_MAX] = "";
		paths_clip_key(id, (enum kd_media_file)f, key);
		int rc = bucket ? fetch_file(bucket, key, dst, &size, why, sizeof why)
		                : copy_file(src, dst, &size);
		if (bucket) {
			/* name the object, not a file that is not there */
			free(src);
			src = kd_asprintf("%s: %s", storage_describe(bucket), key);
			if (rc < 0 && rc != KD_ENOTFOUND) {
				problem(t, "cannot copy %s to %s: %s", src, dst, why);
				free(src);
				free(dst);
				continue;
			}
		}
		if (rc == KD_ENOTFOUND) {
			/* only the original is owed by every clip; the rest come with
			 * processing (or not at all, for a clip that failed) */
			if (f == KD_FILE_ORIGINAL)
				problem(t, "clip %lld has no original at %s (deleted while the backup ran? "
				        "run it again)", (long long)id, src);
		} else if (rc < 0) {
			problem(t, "cannot copy %s to %s: %s", src, dst, strerror(errno));
		} else {
			struct stat st;
			if (!bucket && stat(src, &st) == 0 && (uint64_t)st.st_size != size)
				problem(t, "%s changed while it was copied: run the backup again", src);
			char hex[KD_SHA256_HEX];
			if (f == KD_FILE_ORIGINAL && sha256 && *sha256 &&
			    check_original(copy, id, sha256, hex, NULL, 0) != 0)
				problem(t, "the copy of clip %lld's original does not have the SHA-256 the "
				        "catalogue holds (%s): the original on disk may be damaged; "
				        "'kindling check' will say more", (long long)id, sha256);
			t->files++;
			t->bytes += size;
		}
		free(src);
		free(dst);
	}
	t->clips++;
}

/* Is path absent, or an empty folder? */
static bool fresh_destination(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

int cli_backup(int argc, char **argv)
{
	static const char usage[] = "backup [--data DIR] DEST";
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *data = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'h': printf("usage: kindling %s\n", usage); return 0;
		default: return 2;
		}
	}
	if (argc - optind != 1) {
		cli_fail("usage: kindling %s", usage);
		return 2;
	}
	const char *dest = argv[optind];
	char err[KD_ERRMSG_MAX] = "";
	struct kd_config cfg;
	if (kd_config_load(&cfg, data, NULL, err, sizeof err) < 0) {
		cli_fail("%s", err);
		kd_config_free(&cfg);
		return 1;
	}
	int rc = 1;
	struct kd_db *db = NULL, *copy = NULL;
	struct kd_storage *bucket = NULL; /* the media's, when in a bucket */
	char *db_copy = kd_path_join(dest, "catalogue.db");
	struct stat st;
	if (db_is_postgres_url(cfg.db_path)) {
		cli_fail("the catalogue is in PostgreSQL and the media %s: back them up where they "
		         "live (pg_dump for the database; the bucket's versioning or replication); "
		         "kindling backup copies a data folder",
		         cfg.storage ? "in a bucket" : "in the data folder");
		goto out;
	}
	if (stat(cfg.db_path, &st) < 0) {
		cli_fail("there is no catalogue at %s: name the data folder with --data", cfg.db_path);
		goto out;
	}
	if (!fresh_destination(dest)) {
		cli_fail("%s exists and is not empty: back up into a new folder (a backup never "
		         "overwrites another)", dest);
		goto out;
	}
	if (kd_mkdirs(dest, 0750) < 0) {
		cli_fail("cannot make %s: %s", dest, strerror(errno));
		goto out;
	}
	if (db_connect(cfg.db_path, &db, err, sizeof err) < 0 ||
	    db_backup_to(db, db_copy, err, sizeof err) < 0) {
		cli_fail("cannot copy the catalogue: %s", err);
		goto out;
	}
	db_close(&db);

	/* the media the copy's clips own, read from the copy itself */
	struct totals t = {0};
	char *conf_src = kd_path_join(cfg.data_dir, "kindling.conf");
	char *conf_dst = kd_path_join(dest, "kindling.conf");
	uint64_t ignored;
	int crc = copy_file(conf_src, conf_dst, &ignored);
	if (crc < 0 && crc != KD_ENOTFOUND)
		problem(&t, "cannot copy %s: %s", conf_src, strerror(errno));
	free(conf_src);
	free(conf_dst);
	if (db_connect(db_copy, &copy, err, sizeof err) < 0) {
		cli_fail("cannot read the copy back: %s", err);
		goto out;
	}
	long n_clips = 0, n_users = 0;
	struct kd_stmt *q;
	if (db_prepare(copy, "SELECT (SELECT count(*) FROM clips), (SELECT count(*) FROM users)",
	               &q) == DB_OK && db_step(q) == DB_ROW) {
		n_clips = (long)db_column_int64(q, 0);
		n_users = (long)db_column_int64(q, 1);
	}
	db_finalize(q);
	if (cfg.storage && storage_open(&bucket, &cfg, err, sizeof err) < 0) {
		cli_fail("the catalogue is copied, but not the media: cannot reach %s: %s", cfg.storage,
		         err);
		goto out;
	}
	{
		if (db_prepare(copy, "SELECT id, sha256 FROM clips ORDER BY id", &q) != DB_OK) {
			cli_fail("cannot read the copy's clips: %s", db_errmsg(copy));
			goto out;
		}
		char *to = kd_strdup(dest);
		char *media = kd_path_join(dest, "media");
		struct kd_storage *copy_media = NULL;
		if (storage_open_local(&copy_media, media, err, sizeof err) < 0) {
			cli_fail("cannot read the copy's media back: %s", err);
			db_finalize(q);
			free(media);
			free(to);
			goto out;
		}
		while (db_step(q) == DB_ROW)
			copy_clip(cfg.data_dir, bucket, to, copy_media, db_column_int64(q, 0),
			          (const char *)db_column_text(q, 1), &t);
		storage_close(&copy_media);
		free(media);
		free(to);
		db_finalize(q);
	}
	if (t.problems > PROBLEMS_SHOWN)
		fprintf(stderr, "kindling: and %ld more problems\n", t.problems - PROBLEMS_SHOWN);
	if (t.problems) {
		cli_fail("the backup in %s is NOT complete: %ld problem%s above; run it again into a "
		         "new folder", dest, t.problems, t.problems == 1 ? "" : "s");
		goto out;
	}
	printf("backed up %s to %s: the catalogue (%ld clips, %ld people; SQLite's integrity check "
	       "passed)", cfg.data_dir, dest, n_clips, n_users);
	printf(", %ld files (%llu bytes) of %ld clips%s%s, every original's SHA-256 checked\n",
	       t.files, (unsigned long long)t.bytes, t.clips, cfg.storage ? " from " : "",
	       cfg.storage ? cfg.storage : "");
	printf("to restore: stop the server and serve the copy (kindling serve --data %s), or "
	       "copy it back in place of the data folder\n", dest);
	if (cfg.storage)
		printf("its kindling.conf still names %s: served as it is, the copy reads the media "
		       "there; should the bucket be lost, remove the storage lines to serve the "
		       "media of the copy's media/, and 'kindling move-to --storage' puts them in a "
		       "bucket again\n", cfg.storage);
	rc = 0;
out:
	storage_close(&bucket);
	db_close(&copy);
	db_close(&db);
	free(db_copy);
	kd_config_free(&cfg);
	return rc;
}
