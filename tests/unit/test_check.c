/* test_check.c - kindling check's looking and repairing
 * (include/kindling/check.h) on a test catalogue and a data folder of
 * files written here: what each status owes, missing and empty files
 * requeued, a missing or damaged original never "repaired", missing
 * captions, orphan folders removed only when old, temporaries, and the
 * SHA-256 check `kindling backup` shares. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/check.h"
#include "kindling/fs.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
#include "kindling/sha256.h"
#include "kindling/storage.h"
#include "kindling/users.h"

static const char *practices[] = {"differentiation"};

struct world {
	struct kd_db *db;
	struct kd_storage *s;
	char dir[64];
	/* what the last run reported */
	struct check_finding f[32];
	char where[32][128];
	char title[32][64];
	char got[32][KD_SHA256_HEX];
	int n;
	struct check_totals t;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	strcpy(w->dir, "/tmp/kd-check-XXXXXX");
	if (!mkdtemp(w->dir))
		fail_msg("mkdtemp");
	char *media = kd_path_join(w->dir, "media"), *tmp = kd_path_join(w->dir, "tmp");
	char err[KD_ERRMSG_MAX] = "";
	if (kd_mkdirs(media, 0750) < 0 || kd_mkdirs(tmp, 0750) < 0 ||
	    storage_open_local(&w->s, media, err, sizeof err) != 0)
		fail_msg("a data folder: %s", err);
	free(media);
	free(tmp);
	w->db = test_db_with_school("alder", "Alder School");
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	kd_remove_tree(w->dir);
	storage_close(&w->s);
	db_close(&w->db);
	free(w);
	return 0;
}

static char *path_of(struct world *w, const char *rel)
{
	return kd_path_join(w->dir, rel);
}

static void write_file(const char *path, const char *bytes)
{
	char *dir = kd_strdup(path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(kd_mkdirs(dir, 0750), 0);
	free(dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(bytes, f);
	fclose(f);
}

/* path last written seconds ago. */
static void age(const char *path, int seconds)
{
	struct timespec t[2] = {{time(NULL) - seconds, 0}, {time(NULL) - seconds, 0}};
	assert_int_equal(utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW), 0);
}

static void clip_file(struct world *w, int64_t id, enum kd_media_file f, const char *bytes)
{
	char *p = paths_clip_file(w->dir, id, f);
	write_file(p, bytes);
	free(p);
}

static bool clip_file_exists(struct world *w, int64_t id, enum kd_media_file f)
{
	char *p = paths_clip_file(w->dir, id, f);
	bool yes = access(p, F_OK) == 0;
	free(p);
	return yes;
}

static void remove_clip_file(struct world *w, int64_t id, enum kd_media_file f)
{
	char *p = paths_clip_file(w->dir, id, f);
	assert_int_equal(unlink(p), 0);
	free(p);
}

static void sha_of(const char *bytes, char hex[KD_SHA256_HEX])
{
	struct kd_sha256 h;
	assert_int_equal(kd_sha256_init(&h), 0);
	kd_sha256_update(&h, bytes, strlen(bytes));
	kd_sha256_final(&h, hex);
}

/* A clip of the given status whose original holds `original`, with
 * every derived file when ready. */
static int64_t clip(struct world *w, const char *title, enum cat_status status,
                    const char *original)
{
	char sha[KD_SHA256_HEX];
	sha_of(original, sha);
	struct cat_clip_new c = {.title = title, .school = "alder", .practices = practices,
	                         .n_practices = 1, .status = CAT_QUEUED, .sha256 = sha};
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	if (cat_clip_create(w->db, &c, &id, err, sizeof err) != 0)
		fail_msg("cat_clip_create: %s", err);
	if (status != CAT_QUEUED)
		assert_int_equal(cat_clip_set_status(w->db, id, status, NULL), 0);
	clip_file(w, id, KD_FILE_ORIGINAL, original);
	if (status == CAT_READY)
		for (int f = KD_FILE_VIDEO; f <= KD_FILE_STORYBOARD_JPG; f++)
			clip_file(w, id, (enum kd_media_file)f, "made by processing");
	return id;
}

static void on_finding(void *arg, const struct check_finding *f)
{
	struct world *w = arg;
	assert_true(w->n < 32);
	int i = w->n++;
	w->f[i] = *f;
	/* copies: the finding's strings live only during the call */
	snprintf(w->where[i], sizeof w->where[i], "%s", f->where ? f->where : "");
	snprintf(w->title[i], sizeof w->title[i], "%s", f->title ? f->title : "");
	snprintf(w->got[i], sizeof w->got[i], "%s", f->got ? f->got : "");
	w->f[i].where = w->where[i];
	w->f[i].title = w->title[i];
	w->f[i].got = w->got[i];
	w->f[i].want = NULL;
	w->f[i].detail = NULL;
}

static void run(struct world *w, bool repair)
{
	struct check_options o = {.repair = repair, .now = time(NULL), .min_age_s = CHECK_MIN_AGE_S};
	char err[KD_ERRMSG_MAX] = "";
	w->n = 0;
	if (check_run(&o, w->db, w->s, w->dir, on_finding, w, &w->t, err, sizeof err) != 0)
		fail_msg("check_run: %s", err);
}

/* The finding about problem p of clip (or at where), or NULL. */
static const struct check_finding *found(struct world *w, enum check_problem p, int64_t clip_id,
                                         const char *where)
{
	for (int i = 0; i < w->n; i++)
		if (w->f[i].problem == p && (!where ? w->f[i].clip == clip_id
		                                    : !strcmp(w->f[i].where, where)))
			return &w->f[i];
	return NULL;
}

static int64_t count(struct kd_db *db, const char *sql, int64_t arg)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	db_bind_int64(st, 1, arg);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t n = db_column_int64(st, 0);
	db_finalize(st);
	return n;
}

static enum cat_status status_of(struct kd_db *db, int64_t id)
{
	enum cat_status s;
	char *e = NULL;
	assert_int_equal(cat_clip_status(db, id, &s, &e), 0);
	free(e);
	return s;
}

#define BIT(f) (1u << (f))

/* ------------------------------------------------------------ tests */

static void each_status_owes_its_own_files(void **state)
{
	(void)state;
	struct check_clip c = {.id = 1, .title = "t", .status = CAT_READY};
	for (int f = 0; f < KD_FILE_COUNT; f++)
		assert_int_equal(check_file_needed(&c, (enum kd_media_file)f), f != KD_FILE_CAPTIONS);
	c.has_captions = true;
	assert_true(check_file_needed(&c, KD_FILE_CAPTIONS));
	enum cat_status unfinished[] = {CAT_QUEUED, CAT_PROCESSING, CAT_FAILED};
	for (size_t i = 0; i < sizeof unfinished / sizeof *unfinished; i++) {
		c.status = unfinished[i];
		for (int f = 0; f < KD_FILE_COUNT; f++)
			assert_int_equal(check_file_needed(&c, (enum kd_media_file)f),
			                 f == KD_FILE_ORIGINAL);
	}
}

static void an_original_is_its_sha256_or_not(void **state)
{
	struct world *w = *state;
	char want[KD_SHA256_HEX], got[KD_SHA256_HEX], err[KD_ERRMSG_MAX];
	sha_of("the lesson", want);
	clip_file(w, 7, KD_FILE_ORIGINAL, "the lesson");
	assert_int_equal(check_original(w->s, 7, want, got, err, sizeof err), 0);
	assert_string_equal(got, want);
	clip_file(w, 7, KD_FILE_ORIGINAL, "the lessoN");
	assert_int_equal(check_original(w->s, 7, want, got, err, sizeof err), KD_EINVAL);
	char other[KD_SHA256_HEX];
	sha_of("the lessoN", other);
	assert_string_equal(got, other);
	assert_int_equal(check_original(w->s, 8, want, got, err, sizeof err), KD_ENOTFOUND);
}

static void a_complete_catalogue_checks_ok(void **state)
{
	struct world *w = *state;
	clip(w, "Ready", CAT_READY, "ready bytes");
	clip(w, "Queued", CAT_QUEUED, "queued bytes");
	clip(w, "Processing", CAT_PROCESSING, "processing bytes");
	int64_t failed = clip(w, "Failed", CAT_FAILED, "failed bytes");
	/* a failed clip's leftovers and a runner's blur.json are no problem */
	clip_file(w, failed, KD_FILE_THUMBNAIL, "");
	char *blur = path_of(w, "media/1/blur.json");
	write_file(blur, "[]");
	age(blur, 7200);
	free(blur);
	run(w, false);
	assert_int_equal(w->n, 0);
	assert_int_equal(w->t.clips, 4);
	assert_int_equal(w->t.ok, 4);
	assert_int_equal(w->t.problems_left, 0);
	assert_int_equal(w->t.bytes_hashed, strlen("ready bytes") + strlen("queued bytes") +
	                                        strlen("processing bytes") + strlen("failed bytes"));
}

static void missing_or_empty_derived_files_are_requeued(void **state)
{
	struct world *w = *state;
	int64_t ok = clip(w, "Fine", CAT_READY, "fine");
	int64_t id = clip(w, "Holes", CAT_READY, "holes");
	remove_clip_file(w, id, KD_FILE_THUMBNAIL);
	clip_file(w, id, KD_FILE_VIDEO, ""); /* empty counts as missing */
	run(w, false);
	assert_int_equal(w->n, 1);
	const struct check_finding *f = found(w, CHECK_MISSING_FILES, id, NULL);
	assert_non_null(f);
	assert_int_equal(f->files, BIT(KD_FILE_THUMBNAIL) | BIT(KD_FILE_VIDEO));
	assert_int_equal(f->empty, BIT(KD_FILE_VIDEO));
	assert_int_equal(f->action, CHECK_NONE);
	assert_false(f->original_bad);
	assert_string_equal(f->title, "Holes");
	assert_int_equal(w->t.ok, 1);
	assert_int_equal(w->t.problems_left, 1);
	/* looking changes nothing */
	assert_int_equal(status_of(w->db, id), CAT_READY);
	assert_int_equal(count(w->db, "SELECT count(*) FROM jobs WHERE clip_id = ?1", id), 0);

	run(w, true);
	f = found(w, CHECK_MISSING_FILES, id, NULL);
	assert_non_null(f);
	assert_int_equal(f->action, CHECK_REQUEUED);
	assert_int_equal(w->t.missing_files, 1);
	assert_int_equal(w->t.requeued, 1);
	assert_int_equal(w->t.problems_left, 0);
	assert_int_equal(status_of(w->db, id), CAT_QUEUED);
	assert_int_equal(status_of(w->db, ok), CAT_READY);
	assert_int_equal(
		count(w->db, "SELECT count(*) FROM jobs WHERE clip_id = ?1 AND state = 'queued'", id), 1);
	assert_int_equal(count(w->db, "SELECT count(*) FROM jobs WHERE clip_id = ?1", ok), 0);

	/* queued, it owes only its original: nothing to say until it is ready */
	run(w, true);
	assert_int_equal(w->n, 0);
	assert_int_equal(w->t.ok, 2);
	assert_int_equal(count(w->db, "SELECT count(*) FROM jobs WHERE clip_id = ?1", id), 1);
}

static void a_missing_original_is_never_repaired(void **state)
{
	struct world *w = *state;
	int64_t id = clip(w, "Lost", CAT_READY, "lost");
	remove_clip_file(w, id, KD_FILE_ORIGINAL);
	remove_clip_file(w, id, KD_FILE_POSTER);
	int64_t q = clip(w, "Lost queued", CAT_QUEUED, "lost too");
	remove_clip_file(w, q, KD_FILE_ORIGINAL);
	run(w, true);
	const struct check_finding *f = found(w, CHECK_MISSING_ORIGINAL, id, NULL);
	assert_non_null(f);
	assert_int_equal(f->action, CHECK_NONE);
	f = found(w, CHECK_MISSING_FILES, id, NULL);
	assert_non_null(f);
	assert_int_equal(f->files, BIT(KD_FILE_POSTER));
	assert_true(f->original_bad);
	assert_int_equal(f->action, CHECK_NONE);
	assert_non_null(found(w, CHECK_MISSING_ORIGINAL, q, NULL));
	assert_null(found(w, CHECK_MISSING_FILES, q, NULL));
	assert_int_equal(w->t.missing_originals, 2);
	assert_int_equal(w->t.requeued, 0);
	assert_int_equal(w->t.problems_left, 3);
	assert_int_equal(status_of(w->db, id), CAT_READY);
	assert_int_equal(count(w->db, "SELECT count(*) FROM jobs WHERE clip_id = ?1", id), 0);
}

static void a_damaged_original_is_reported_not_requeued(void **state)
{
	struct world *w = *state;
	int64_t id = clip(w, "Flipped", CAT_READY, "every byte counts");
	clip_file(w, id, KD_FILE_ORIGINAL, "every byte count$");
	remove_clip_file(w, id, KD_FILE_VIDEO);
	run(w, true);
	const struct check_finding *f = found(w, CHECK_CORRUPT_ORIGINAL, id, NULL);
	assert_non_null(f);
	char got[KD_SHA256_HEX];
	sha_of("every byte count$", got);
	assert_string_equal(f->got, got);
	assert_int_equal(f->action, CHECK_NONE);
	f = found(w, CHECK_MISSING_FILES, id, NULL);
	assert_non_null(f);
	assert_true(f->original_bad);
	assert_int_equal(f->action, CHECK_NONE);
	assert_int_equal(w->t.corrupt_originals, 1);
	assert_int_equal(w->t.ok, 0);
	assert_int_equal(w->t.problems_left, 2);
	assert_int_equal(status_of(w->db, id), CAT_READY);
}

static void captions_are_owed_only_when_the_clip_has_them(void **state)
{
	struct world *w = *state;
	int64_t ready = clip(w, "Captioned", CAT_READY, "captioned");
	int64_t queued = clip(w, "Captioned later", CAT_QUEUED, "captioned later");
	test_exec(w->db, "UPDATE clips SET has_captions = 1");
	run(w, true);
	assert_int_equal(w->n, 1);
	const struct check_finding *f = found(w, CHECK_MISSING_CAPTIONS, ready, NULL);
	assert_non_null(f);
	assert_int_equal(f->files, BIT(KD_FILE_CAPTIONS));
	assert_int_equal(f->action, CHECK_NONE); /* processing does not make them */
	assert_null(found(w, CHECK_MISSING_CAPTIONS, queued, NULL));
	assert_int_equal(w->t.problems_left, 1);
	assert_int_equal(status_of(w->db, ready), CAT_READY);
	clip_file(w, ready, KD_FILE_CAPTIONS, "WEBVTT\n");
	run(w, false);
	assert_int_equal(w->n, 0);
	assert_int_equal(w->t.ok, 2);
}

static void old_orphans_are_removed_new_ones_left(void **state)
{
	struct world *w = *state;
	clip(w, "Owner", CAT_READY, "owner");
	char *old = path_of(w, "media/900/original"), *old_dir = path_of(w, "media/900");
	char *fresh = path_of(w, "media/901/original"), *fresh_dir = path_of(w, "media/901");
	char *stray = path_of(w, "media/0900/x"), *mpu = path_of(w, "media/.multipart/abc/key");
	write_file(old, "left by a crash");
	write_file(fresh, "being filed");
	write_file(stray, "not a clip folder's name");
	write_file(mpu, "an upload in parts");
	age(old, 7200);
	age(old_dir, 7200);
	age(stray, 7200);
	run(w, false);
	const struct check_finding *f = found(w, CHECK_ORPHAN, 0, "media/900");
	assert_non_null(f);
	assert_int_equal(f->clip, 900);
	assert_int_equal(f->action, CHECK_NONE);
	assert_int_equal(f->count, 1);
	assert_int_equal(f->bytes, strlen("left by a crash"));
	assert_true(f->age_s >= 7200 && f->age_s < 7300);
	f = found(w, CHECK_ORPHAN, 0, "media/901");
	assert_non_null(f);
	assert_int_equal(f->action, CHECK_LEFT);
	assert_int_equal(w->n, 2);
	assert_int_equal(w->t.orphans, 1);
	assert_int_equal(w->t.orphans_left, 1);
	assert_int_equal(w->t.problems_left, 1);

	run(w, true);
	assert_int_equal(found(w, CHECK_ORPHAN, 0, "media/900")->action, CHECK_REMOVED);
	assert_int_equal(found(w, CHECK_ORPHAN, 0, "media/901")->action, CHECK_LEFT);
	assert_int_equal(w->t.orphans_removed, 1);
	assert_int_equal(w->t.problems_left, 0);
	assert_int_equal(access(old_dir, F_OK), -1);
	assert_int_equal(access(fresh, F_OK), 0);
	assert_int_equal(access(stray, F_OK), 0);
	assert_int_equal(access(mpu, F_OK), 0);

	/* an old folder whose clip the catalogue now has is that clip's */
	int64_t id = clip(w, "Later", CAT_QUEUED, "later");
	assert_int_equal(id, 2);
	char *later = path_of(w, "media/2/original"), *later_dir = path_of(w, "media/2");
	age(later, 7200);
	age(later_dir, 7200);
	run(w, true);
	assert_null(found(w, CHECK_ORPHAN, 2, NULL));
	assert_int_equal(access(later, F_OK), 0);
	free(later);
	free(later_dir);
	free(old);
	free(old_dir);
	free(fresh);
	free(fresh_dir);
	free(stray);
	free(mpu);
}

static void old_temporaries_are_removed_work_in_progress_is_not(void **state)
{
	struct world *w = *state;
	int64_t id = clip(w, "Ready", CAT_READY, "ready");
	int64_t busy = clip(w, "Busy", CAT_PROCESSING, "busy");
	const char *names[] = {"media/1/video.mp4.tmp", "media/1/.thumbnail.jpg.tmp-a1B2c3",
	                       "media/1/blur.json.tmp.4242", "tmp/intake.77.3",
	                       "media/1/poster.jpg.tmp", "media/1/notes.txt", "media/2/video.mp4.tmp"};
	int ages[] = {7200, 7200, 7200, 7200, 10, 7200, 7200};
	char *p[7];
	for (int i = 0; i < 7; i++) {
		p[i] = path_of(w, names[i]);
		write_file(p[i], "partial");
		age(p[i], ages[i]);
	}
	(void)busy;
	run(w, false);
	assert_int_equal(w->n, 4);
	for (int i = 0; i < 4; i++) {
		const struct check_finding *f = found(w, CHECK_TEMPORARY, 0, names[i]);
		if (!f)
			fail_msg("%s is not reported", names[i]);
		assert_int_equal(f->action, CHECK_NONE);
		assert_int_equal(f->bytes, strlen("partial"));
	}
	assert_int_equal(w->t.temporaries, 4);
	assert_int_equal(w->t.ok, 2); /* temporaries are not the clip's files */
	assert_int_equal(w->t.problems_left, 4);
	run(w, true);
	assert_int_equal(w->t.temporaries_removed, 4);
	assert_int_equal(w->t.problems_left, 0);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(access(p[i], F_OK) == 0, i >= 4);
		free(p[i]);
	}
	assert_true(clip_file_exists(w, id, KD_FILE_VIDEO));
}

static void a_clip_without_a_sha256_is_checked_for_presence(void **state)
{
	struct world *w = *state;
	int64_t id = clip(w, "Unhashed", CAT_QUEUED, "whatever");
	test_exec(w->db, "UPDATE clips SET sha256 = NULL");
	run(w, false);
	assert_int_equal(w->n, 0);
	assert_int_equal(w->t.ok, 1);
	remove_clip_file(w, id, KD_FILE_ORIGINAL);
	run(w, false);
	assert_non_null(found(w, CHECK_MISSING_ORIGINAL, id, NULL));
}

static void many_clips_are_read_page_by_page(void **state)
{
	struct world *w = *state;
	/* more than a page (200) of clips, every one checked once */
	char title[32], bytes[32];
	for (int i = 0; i < 450; i++) {
		snprintf(title, sizeof title, "Clip %d", i);
		snprintf(bytes, sizeof bytes, "bytes %d", i);
		clip(w, title, CAT_QUEUED, bytes);
	}
	remove_clip_file(w, 333, KD_FILE_ORIGINAL);
	run(w, false);
	assert_int_equal(w->t.clips, 450);
	assert_int_equal(w->t.ok, 449);
	assert_int_equal(w->n, 1);
	assert_non_null(found(w, CHECK_MISSING_ORIGINAL, 333, NULL));
	assert_string_equal(w->f[0].title, "Clip 332");
}

int main(void)
{
	users_init();
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_status_owes_its_own_files),
		T(an_original_is_its_sha256_or_not),
		T(a_complete_catalogue_checks_ok),
		T(missing_or_empty_derived_files_are_requeued),
		T(a_missing_original_is_never_repaired),
		T(a_damaged_original_is_reported_not_requeued),
		T(captions_are_owed_only_when_the_clip_has_them),
		T(old_orphans_are_removed_new_ones_left),
		T(old_temporaries_are_removed_work_in_progress_is_not),
		T(a_clip_without_a_sha256_is_checked_for_presence),
		T(many_clips_are_read_page_by_page),
	};
	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
