/* cli_check.c - kindling check [--repair] [--json] [--data DIR]: every
 * clip's files and its original's SHA-256 against the catalogue, and what
 * no clip owns (src/jobs/check.c does the looking and the repairs; this
 * file says what it found).
 *
 * Standard output gets one line per finding and a summary line, or with
 * --json one object: {"findings": [...], "checked": N, ...}.  Exit status:
 * 0 when all is well (with --repair: when all that was wrong is repaired
 * or being processed again), 1 when problems remain or the check could
 * not run, 2 for a usage error. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kindling/buf.h"
#include "kindling/check.h"
#include "kindling/cli.h"
#include "kindling/config.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/storage.h"

struct out {
	bool json, first;
	const char *media; /* where the media are, for orphans in a bucket */
	bool repairable;   /* something left that --repair would repair */
};

/* A title on one line of a terminal: control characters (a hostile
 * title's newlines and escapes) as '?'. */
static void put_title(struct kd_buf *b, const char *title)
{
	kd_buf_putc(b, '\'');
	for (const unsigned char *p = (const unsigned char *)title; *p; p++)
		kd_buf_putc(b, *p < 32 || *p == 127 ? '?' : (char)*p);
	kd_buf_putc(b, '\'');
}

static void put_age(struct kd_buf *b, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		kd_buf_printf(b, "%lld seconds", (long long)s);
	else if (s < 2 * 3600)
		kd_buf_printf(b, "%lld minutes", (long long)(s / 60));
	else if (s < 2 * 86400)
		kd_buf_printf(b, "%lld hours", (long long)(s / 3600));
	else
		kd_buf_printf(b, "%lld days", (long long)(s / 86400));
}

static void put_size(struct kd_buf *b, uint64_t n)
{
	if (n < 1000)
		kd_buf_printf(b, "%llu bytes", (unsigned long long)n);
	else if (n < 1000000)
		kd_buf_printf(b, "%.1f kB", (double)n / 1e3);
	else if (n < 1000000000)
		kd_buf_printf(b, "%.1f MB", (double)n / 1e6);
	else
		kd_buf_printf(b, "%.1f GB", (double)n / 1e9);
}

static void put_files(struct kd_buf *b, unsigned files, unsigned empty)
{
	const char *sep = "";
	for (int i = 0; i < KD_FILE_COUNT; i++) {
		if (!(files & (1u << i)))
			continue;
		kd_buf_printf(b, "%s%s%s", sep, paths_file_name((enum kd_media_file)i),
		              empty & (1u << i) ? " (empty)" : "");
		sep = ", ";
	}
}

static const char restore[] = "restore it from a backup (kindling backup) or delete the clip";

/* The finding as a sentence: what is wrong, and what was done or is to
 * be done. */
static void describe(const struct out *o, const struct check_finding *f, struct kd_buf *b)
{
	if (f->title) {
		kd_buf_printf(b, "clip %lld ", (long long)f->clip);
		put_title(b, f->title);
	}
	switch (f->problem) {
	case CHECK_MISSING_ORIGINAL:
		kd_buf_printf(b, ": the original is missing; %s", restore);
		return;
	case CHECK_CORRUPT_ORIGINAL:
		kd_buf_printf(b, ": the original is damaged (its SHA-256 is %s, the catalogue's %s); %s",
		              f->got, f->want, restore);
		return;
	case CHECK_UNREADABLE:
		if (f->title)
			kd_buf_printf(b, ": cannot be checked: %s; run kindling check again", f->detail);
		else
			kd_buf_printf(b, "cannot check %s: %s; run kindling check again", f->where,
			              f->detail);
		return;
	case CHECK_MISSING_FILES:
		kd_buf_printf(b, " (%s): missing ", cat_status_name(f->status));
		put_files(b, f->files, f->empty);
		if (f->action == CHECK_REQUEUED)
			kd_buf_puts(b, "; requeued: processing makes them again");
		else if (f->action == CHECK_FAILED)
			kd_buf_printf(b, "; %s", f->detail);
		else if (f->original_bad)
			kd_buf_puts(b, "; not requeued: its original is missing or damaged (above)");
		else
			kd_buf_puts(b, "; kindling check --repair queues it for processing again");
		return;
	case CHECK_MISSING_CAPTIONS:
		kd_buf_puts(b, ": missing ");
		put_files(b, f->files, f->empty);
		kd_buf_printf(b, "; upload its captions again, or delete them (DELETE "
		              "/api/v1/clips/%lld/captions)", (long long)f->clip);
		return;
	case CHECK_ORPHAN:
		if (f->in_bucket)
			kd_buf_printf(b, "%s in %s", f->where, o->media);
		else
			kd_buf_puts(b, f->where);
		kd_buf_printf(b, ": %ld file%s (", f->count, f->count == 1 ? "" : "s");
		put_size(b, f->bytes);
		kd_buf_printf(b, ") of clip %lld, which the catalogue does not have; last written ",
		              (long long)f->clip);
		put_age(b, f->age_s);
		kd_buf_puts(b, " ago");
		break;
	case CHECK_TEMPORARY:
		kd_buf_printf(b, "%s: a temporary file (", f->where);
		put_size(b, f->bytes);
		kd_buf_puts(b, ") of a write that never finished, last written ");
		put_age(b, f->age_s);
		kd_buf_puts(b, " ago");
		break;
	}
	switch (f->action) {
	case CHECK_REMOVED: kd_buf_puts(b, "; removed"); break;
	case CHECK_LEFT: kd_buf_puts(b, "; too new to judge (an upload being filed?): left alone"); break;
	case CHECK_FAILED: kd_buf_printf(b, "; %s", f->detail); break;
	default: kd_buf_puts(b, "; kindling check --repair removes it"); break;
	}
}

static void set_str(json_t *o, const char *key, const char *value)
{
	json_t *s = json_string(value);
	json_object_set_new(o, key, s ? s : json_string("?"));
}

static json_t *files_json(unsigned files)
{
	json_t *a = json_array();
	for (int i = 0; i < KD_FILE_COUNT; i++)
		if (files & (1u << i))
			json_array_append_new(a, json_string(paths_file_name((enum kd_media_file)i)));
	return a;
}

static void on_finding(void *arg, const struct check_finding *f)
{
	struct out *o = arg;
	struct kd_buf b = KD_BUF_INIT(64 * 1024);
	if (f->action == CHECK_NONE &&
	    ((f->problem == CHECK_MISSING_FILES && !f->original_bad) ||
	     f->problem == CHECK_ORPHAN || f->problem == CHECK_TEMPORARY))
		o->repairable = true;
	describe(o, f, &b);
	if (!o->json) {
		printf("%s\n", kd_buf_str(&b));
		kd_buf_release(&b);
		return;
	}
	json_t *j = json_object();
	set_str(j, "problem", check_problem_name(f->problem));
	set_str(j, "action", check_action_name(f->action));
	if (f->clip)
		json_object_set_new(j, "clip", json_integer(f->clip));
	if (f->title) {
		set_str(j, "title", f->title);
		set_str(j, "status", cat_status_name(f->status));
	}
	if (f->problem == CHECK_MISSING_FILES || f->problem == CHECK_MISSING_CAPTIONS) {
		json_object_set_new(j, "files", files_json(f->files));
		json_object_set_new(j, "empty", files_json(f->empty));
	}
	if (f->problem == CHECK_MISSING_FILES)
		json_object_set_new(j, "original_bad", json_boolean(f->original_bad));
	if (f->problem == CHECK_CORRUPT_ORIGINAL) {
		set_str(j, "sha256_catalogue", f->want);
		set_str(j, "sha256_found", f->got);
	}
	if (f->where) {
		set_str(j, "where", f->where);
		json_object_set_new(j, "age_s", json_integer(f->age_s));
		json_object_set_new(j, "bytes", json_integer((json_int_t)f->bytes));
	}
	if (f->problem == CHECK_ORPHAN) {
		json_object_set_new(j, "files_count", json_integer(f->count));
		json_object_set_new(j, "in_bucket", json_boolean(f->in_bucket));
	}
	if (f->detail)
		set_str(j, "detail", f->detail);
	set_str(j, "message", kd_buf_str(&b));
	char *s = json_dumps(j, JSON_COMPACT);
	printf("%s%s", o->first ? "" : ",", s ? s : "{}");
	o->first = false;
	free(s);
	json_decref(j);
	kd_buf_release(&b);
}

/* "N thing[s]" and, when some were repaired, how many. */
static void part(struct kd_buf *b, long n, const char *one, const char *many, long repaired,
                 const char *done)
{
	if (!n)
		return;
	kd_buf_printf(b, ", %ld %s", n, n == 1 ? one : many);
	if (repaired == n)
		kd_buf_printf(b, " (%s)", done);
	else if (repaired)
		kd_buf_printf(b, " (%ld %s)", repaired, done);
}

static void summary(const struct check_totals *t, struct kd_buf *b)
{
	kd_buf_printf(b, "checked %ld clip%s: %ld ok", t->clips, t->clips == 1 ? "" : "s", t->ok);
	part(b, t->missing_files, "missing files", "missing files", t->requeued, "requeued");
	part(b, t->missing_captions, "missing captions", "missing captions", 0, "");
	part(b, t->missing_originals, "missing original", "missing originals", 0, "");
	part(b, t->corrupt_originals, "corrupt original", "corrupt originals", 0, "");
	part(b, t->unreadable, "unreadable", "unreadable", 0, "");
	part(b, t->orphans, "orphan folder", "orphan folders", t->orphans_removed, "removed");
	part(b, t->orphans_left, "new folder without a clip (left alone)",
	     "new folders without a clip (left alone)", 0, "");
	part(b, t->temporaries, "leftover temporary file", "leftover temporary files",
	     t->temporaries_removed, "removed");
}

int cli_check(int argc, char **argv)
{
	static const char usage[] = "check [--repair] [--json] [--data DIR]";
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"repair", no_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *data = NULL;
	bool repair = false, json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'r': repair = true; break;
		case 'j': json = true; break;
		case 'h': printf("usage: kindling %s\n", usage); return 0;
		default: return 2;
		}
	}
	if (optind != argc) {
		cli_fail("usage: kindling %s", usage);
		return 2;
	}
	char err[KD_ERRMSG_MAX] = "";
	struct kd_config cfg;
	struct kd_db *db = NULL;
	struct kd_storage *s = NULL;
	int rc = 1;
	if (kd_config_load(&cfg, data, NULL, err, sizeof err) < 0) {
		cli_fail("%s", err);
		kd_config_free(&cfg);
		return 1;
	}
	struct stat st;
	if (!db_is_postgres_url(cfg.db_path) && stat(cfg.db_path, &st) < 0) {
		cli_fail("there is no catalogue at %s: name the data folder with --data", cfg.db_path);
		goto out;
	}
	/* connected as it is: the server migrates, a check only reads (and
	 * requeues) */
	if (db_connect(cfg.db_path, &db, err, sizeof err) < 0) {
		cli_fail("cannot open the catalogue: %s", err);
		goto out;
	}
	if (storage_open(&s, &cfg, err, sizeof err) < 0 ||
	    (cfg.storage && storage_check(s, err, sizeof err) < 0)) {
		cli_fail("cannot reach the media: %s", err);
		goto out;
	}

	struct out o = {.json = json, .first = true, .media = storage_describe(s)};
	struct check_options opt = {.repair = repair, .now = (int64_t)time(NULL),
	                            .min_age_s = CHECK_MIN_AGE_S};
	struct check_totals t;
	if (json)
		printf("{\"findings\":[");
	int run = check_run(&opt, db, s, cfg.data_dir, on_finding, &o, &t, err, sizeof err);
	struct kd_buf line = KD_BUF_INIT(4096);
	summary(&t, &line);
	if (json) {
		json_t *j = json_object();
		json_object_set_new(j, "checked", json_integer(t.clips));
		json_object_set_new(j, "ok", json_integer(t.ok));
		json_object_set_new(j, "missing_files", json_integer(t.missing_files));
		json_object_set_new(j, "requeued", json_integer(t.requeued));
		json_object_set_new(j, "missing_captions", json_integer(t.missing_captions));
		json_object_set_new(j, "missing_originals", json_integer(t.missing_originals));
		json_object_set_new(j, "corrupt_originals", json_integer(t.corrupt_originals));
		json_object_set_new(j, "unreadable", json_integer(t.unreadable));
		json_object_set_new(j, "orphans", json_integer(t.orphans));
		json_object_set_new(j, "orphans_removed", json_integer(t.orphans_removed));
		json_object_set_new(j, "orphans_left", json_integer(t.orphans_left));
		json_object_set_new(j, "temporaries", json_integer(t.temporaries));
		json_object_set_new(j, "temporaries_removed", json_integer(t.temporaries_removed));
		json_object_set_new(j, "problems_left", json_integer(t.problems_left));
		json_object_set_new(j, "bytes_hashed", json_integer((json_int_t)t.bytes_hashed));
		json_object_set_new(j, "repair", json_boolean(repair));
		set_str(j, "media", o.media);
		set_str(j, "summary", kd_buf_str(&line));
		if (run < 0)
			set_str(j, "error", err);
		char *body = json_dumps(j, JSON_COMPACT);
		/* the object's members after the findings: "{...}" without its "{" */
		printf("],%s\n", body && body[0] == '{' ? body + 1 : "}");
		free(body);
		json_decref(j);
	} else {
		printf("%s\n", kd_buf_str(&line));
	}
	kd_buf_release(&line);
	fflush(stdout);
	if (run < 0) {
		cli_fail("%s", err);
	} else if (o.repairable) {
		cli_fail("run 'kindling check --repair' to requeue the clips whose processed files "
		         "are missing and remove what no clip owns");
	} else if (t.requeued) {
		cli_fail("the requeued clips are processed by the server (or kindling work); run "
		         "kindling check again once they are ready");
	}
	rc = run == 0 && t.problems_left == 0 ? 0 : 1;
out:
	storage_close(&s);
	db_close(&db);
	kd_config_free(&cfg);
	return rc;
}
