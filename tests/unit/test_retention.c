/* test_retention.c - deleting clips completely and retention
 * (include/kindling/erase.h, catalogue.h's retention part) on a catalogue
 * and a data folder written here: which clips are past retention_months
 * (by recorded date, by upload day without one), a held clip never
 * deleted, retention off deleting nothing, and a deletion removing the
 * row and what goes with it, every file, the clip's uploads, with its
 * audit entry. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/audit.h"
#include "kindling/catalogue.h"
#include "kindling/config.h"
#include "kindling/erase.h"
#include "kindling/fs.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
#include "kindling/storage.h"

static const char *practices[] = {"differentiation"};

struct world {
	struct kd_db *db;
	struct kd_storage *s; /* the data folder's media/ */
	char dir[64];
	char *where;          /* the catalogue, for the daily round's own connection */
	/* what the last retention run reported */
	int64_t ids[32];
	enum erase_outcome outcome[32];
	char date[32][11];
	bool recorded[32];
	int n;
	struct erase_totals t;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	strcpy(w->dir, "/tmp/kd-retention-XXXXXX");
	if (!mkdtemp(w->dir))
		fail_msg("mkdtemp");
	char *media = kd_path_join(w->dir, "media"), err[KD_ERRMSG_MAX] = "";
	if (kd_mkdirs(media, 0750) < 0 || storage_open_local(&w->s, media, err, sizeof err) != 0)
		fail_msg("a data folder: %s", err);
	free(media);
	kd_log_set_level(KD_LOG_WARN);
	if (test_pg_url()) {
		w->db = test_db();
		w->where = kd_strdup(test_pg_url_of(test_pg_current));
	} else {
		/* a file, not :memory:, so that the daily round can open it too */
		w->where = kd_path_join(w->dir, "catalogue.db");
		if (db_open(w->where, &w->db, err, sizeof err) != 0)
			fail_msg("db_open: %s", err);
	}
	if (cat_school_add(w->db, "alder", "Alder School", "", err, sizeof err) != 0)
		fail_msg("%s", err);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	kd_remove_tree(w->dir);
	storage_close(&w->s);
	db_close(&w->db);
	free(w->where);
	free(w);
	return 0;
}

static void sql(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql(struct world *w, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	test_exec(w->db, text);
}

static int64_t count(struct world *w, const char *q, int64_t arg)
{
	struct kd_stmt *st;
	if (db_prepare(w->db, q, &st) != DB_OK)
		fail_msg("%s: %s", q, db_errmsg(w->db));
	if (strstr(q, "?1"))
		db_bind_int64(st, 1, arg);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t n = db_column_int64(st, 0);
	db_finalize(st);
	return n;
}

static char *text(struct world *w, const char *q, int64_t arg)
{
	struct kd_stmt *st;
	if (db_prepare(w->db, q, &st) != DB_OK)
		fail_msg("%s: %s", q, db_errmsg(w->db));
	if (strstr(q, "?1"))
		db_bind_int64(st, 1, arg);
	char *s = db_step(st) == DB_ROW && db_column_text(st, 0)
	                  ? kd_strdup((const char *)db_column_text(st, 0))
	                  : NULL;
	db_finalize(st);
	return s;
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

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static bool clip_dir_exists(struct world *w, int64_t id)
{
	char *d = paths_clip_dir(w->dir, id);
	bool yes = exists(d);
	free(d);
	return yes;
}

/* A clip with its original in its folder; recorded: SQL for its
 * recorded_on ("NULL" or an expression), uploaded: for its uploaded_at. */
static int64_t clip(struct world *w, const char *title, const char *recorded,
                    const char *uploaded)
{
	static int made;
	char sha[65];
	snprintf(sha, sizeof sha, "%064d", ++made);
	struct cat_clip_new c = {.title = title, .school = "alder", .practices = practices,
	                         .n_practices = 1, .sha256 = sha};
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	if (cat_clip_create(w->db, &c, &id, err, sizeof err) != 0)
		fail_msg("cat_clip_create: %s", err);
	sql(w, "UPDATE clips SET recorded_on = %s, uploaded_at = %s WHERE id = %lld", recorded,
	    uploaded, (long long)id);
	char *p = paths_clip_file(w->dir, id, KD_FILE_ORIGINAL);
	write_file(p, "the original");
	free(p);
	return id;
}

#define NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
#define YEARS_AGO(n) "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-" #n " years')"
#define MONTHS_AGO_DAY(n) "date('now', '-" #n " months')"

static void hold(struct world *w, int64_t id, const char *reason)
{
	char err[KD_ERRMSG_MAX] = "";
	if (cat_clip_hold(w->db, id, true, "it-admin", reason, err, sizeof err) != 0)
		fail_msg("cat_clip_hold: %s", err);
}

static int heard(void *arg, const struct erase_item *it)
{
	struct world *w = arg;
	assert_true(w->n < 32);
	w->ids[w->n] = it->clip->id;
	w->outcome[w->n] = it->outcome;
	snprintf(w->date[w->n], sizeof w->date[w->n], "%s", it->date);
	w->recorded[w->n] = it->recorded;
	w->n++;
	return 0;
}

static void run(struct world *w, int months, bool apply)
{
	w->n = 0;
	assert_int_equal(erase_retention(w->db, w->s, w->dir, months, apply, heard, w, &w->t), 0);
}

/* The outcome reported for clip id, or -1 when it was not reported. */
static int outcome_of(struct world *w, int64_t id)
{
	for (int i = 0; i < w->n; i++)
		if (w->ids[i] == id)
			return (int)w->outcome[i];
	return -1;
}

static bool row_exists(struct world *w, int64_t id)
{
	return count(w, "SELECT count(*) FROM clips WHERE id = ?1", id) == 1;
}

static void past_by_recorded_date(void **state)
{
	struct world *w = *state;
	int64_t old = clip(w, "Recorded 13 months ago", MONTHS_AGO_DAY(13), NOW);
	int64_t young = clip(w, "Recorded 11 months ago", MONTHS_AGO_DAY(11), NOW);
	/* the recorded date decides, not when the file came in */
	int64_t late = clip(w, "Recorded long ago, uploaded today", "'2001-05-06'", NOW);
	int64_t early = clip(w, "Recorded lately, uploaded long ago", MONTHS_AGO_DAY(2),
	                     YEARS_AGO(6));
	run(w, 12, false);
	assert_int_equal(w->n, 2);
	assert_int_equal(outcome_of(w, old), ERASE_PAST);
	assert_int_equal(outcome_of(w, late), ERASE_PAST);
	assert_int_equal(outcome_of(w, young), -1);
	assert_int_equal(outcome_of(w, early), -1);
	assert_true(w->recorded[1]);
	assert_string_equal(w->date[1], "2001-05-06");
	assert_int_equal(w->t.past, 2);
	assert_int_equal(w->t.deleted, 0);
	/* listing changes nothing */
	assert_true(row_exists(w, old) && row_exists(w, late));
	assert_true(clip_dir_exists(w, old));
	assert_int_equal(count(w, "SELECT count(*) FROM audit WHERE clip_id = ?1", old), 0);

	/* a longer period: only the 2001 clip */
	run(w, 5 * 12, false);
	assert_int_equal(w->n, 1);
	assert_int_equal(outcome_of(w, late), ERASE_PAST);

	/* exactly 12 months ago is not MORE than 12 months ago */
	sql(w, "UPDATE clips SET recorded_on = date('now', '-12 months') WHERE id = %lld",
	    (long long)old);
	run(w, 12, false);
	assert_int_equal(outcome_of(w, old), -1);
	assert_int_equal(outcome_of(w, late), ERASE_PAST);
}

static void past_by_upload_day_without_a_recorded_date(void **state)
{
	struct world *w = *state;
	int64_t old = clip(w, "No date, uploaded 2 years ago", "NULL", YEARS_AGO(2));
	int64_t young = clip(w, "No date, uploaded today", "NULL", NOW);
	run(w, 12, false);
	assert_int_equal(w->n, 1);
	assert_int_equal(outcome_of(w, old), ERASE_PAST);
	assert_false(w->recorded[0]);
	char *day = text(w, "SELECT substr(uploaded_at, 1, 10) FROM clips WHERE id = ?1", old);
	assert_string_equal(w->date[0], day);
	free(day);
	assert_int_equal(outcome_of(w, young), -1);

	/* applied: gone, with kindling's entry saying why */
	run(w, 12, true);
	assert_int_equal(outcome_of(w, old), ERASE_DELETED);
	assert_false(row_exists(w, old));
	assert_false(clip_dir_exists(w, old));
	assert_true(row_exists(w, young));
	assert_true(clip_dir_exists(w, young));
	char *detail = text(w, "SELECT detail FROM audit WHERE clip_id = ?1 AND action = 'retention' "
	                       "AND user_name = '' AND user_id IS NULL", old);
	assert_non_null(detail);
	assert_non_null(strstr(detail, "past retention_months=12: uploaded "));
	assert_non_null(strstr(detail, "(no recorded date)"));
	assert_non_null(strstr(detail, "'No date, uploaded 2 years ago' of alder"));
	free(detail);
}

static void a_held_clip_is_never_deleted(void **state)
{
	struct world *w = *state;
	int64_t held = clip(w, "Held for a records request", "'2010-01-01'", YEARS_AGO(9));
	int64_t other = clip(w, "Not held", "'2010-01-02'", YEARS_AGO(9));
	hold(w, held, "records request 2024-17");
	run(w, 12, false);
	assert_int_equal(outcome_of(w, held), ERASE_HELD);
	assert_int_equal(outcome_of(w, other), ERASE_PAST);
	assert_int_equal(w->t.held, 1);
	assert_int_equal(w->t.past, 1);

	run(w, 12, true);
	assert_int_equal(outcome_of(w, held), ERASE_HELD);
	assert_int_equal(outcome_of(w, other), ERASE_DELETED);
	assert_true(row_exists(w, held));
	assert_true(clip_dir_exists(w, held));
	assert_false(row_exists(w, other));
	assert_int_equal(count(w, "SELECT count(*) FROM audit WHERE clip_id = ?1", held), 0);
	assert_int_equal(count(w, "SELECT count(*) FROM audit WHERE clip_id = ?1 AND "
	                          "action = 'retention' AND detail LIKE '%recorded 2010-01-02'", other),
	                 1);

	/* nor by a person, while held */
	char err[KD_ERRMSG_MAX] = "";
	struct audit_actor admin = {7, "it-admin", "127.0.0.1"};
	assert_int_equal(clip_erase(w->db, w->s, w->dir, held, &admin, "tidying", err, sizeof err),
	                 KD_EPERM);
	assert_non_null(strstr(err, "legal hold"));
	assert_non_null(strstr(err, "records request 2024-17"));
	assert_true(row_exists(w, held));
	assert_true(clip_dir_exists(w, held));
	assert_int_equal(count(w, "SELECT count(*) FROM audit WHERE clip_id = ?1", held), 0);

	/* lifted: retention takes it */
	assert_int_equal(cat_clip_hold(w->db, held, false, "it-admin", NULL, err, sizeof err), 0);
	run(w, 12, true);
	assert_int_equal(outcome_of(w, held), ERASE_DELETED);
	assert_false(row_exists(w, held));
}

static void retention_off_deletes_nothing(void **state)
{
	struct world *w = *state;
	int64_t old = clip(w, "Recorded in 1999", "'1999-09-09'", YEARS_AGO(20));
	struct erase_totals t;
	assert_int_equal(erase_retention(w->db, w->s, w->dir, 0, true, heard, w, &t), KD_EINVAL);
	assert_int_equal(erase_retention(w->db, w->s, w->dir, 1201, true, heard, w, &t), KD_EINVAL);

	/* the daily round with retention_months absent: nothing */
	struct kd_config cfg = {.data_dir = w->dir, .db_path = w->where, .audit_months = 84};
	assert_int_equal(erase_daily_round(&cfg), 0);
	assert_true(row_exists(w, old));
	assert_true(clip_dir_exists(w, old));
	assert_int_equal(count(w, "SELECT count(*) FROM audit WHERE clip_id = ?1", old), 0);

	/* set: the round deletes it, as kindling */
	cfg.retention_months = 12;
	assert_int_equal(erase_daily_round(&cfg), 0);
	assert_false(row_exists(w, old));
	assert_false(clip_dir_exists(w, old));
	assert_int_equal(count(w, "SELECT count(*) FROM audit WHERE clip_id = ?1 AND "
	                          "action = 'retention' AND user_name = ''", old), 1);
}

static void deleting_removes_everything_the_clip_had(void **state)
{
	struct world *w = *state;
	struct kd_user u = test_user(w->db, "it-coach", KD_ROLE_COACH, "alder");
	int64_t id = clip(w, "To delete", "NULL", NOW);
	int64_t keep = clip(w, "To keep", "NULL", NOW);
	char *dir = paths_clip_dir(w->dir, id);
	for (int f = KD_FILE_VIDEO; f < KD_FILE_COUNT; f++) {
		char *p = paths_clip_file(w->dir, id, (enum kd_media_file)f);
		write_file(p, "made by processing");
		free(p);
	}
	char *blur = paths_clip_blur_file(w->dir, id);
	write_file(blur, "{\"rev\": 1, \"regions\": []}");
	char *tmp = kd_path_join(dir, "video.mp4.tmp");
	write_file(tmp, "half-made");
	/* its finished tus upload (kept for a late HEAD), another clip's, and
	 * one unfinished (no clip yet) */
	char *up = kd_asprintf("%s/uploads/%032d", w->dir, 1);
	char *up_other = kd_asprintf("%s/uploads/%032d", w->dir, 2);
	char *up_open = kd_asprintf("%s/uploads/%032d", w->dir, 3);
	char *info = kd_asprintf("%s/info.json", up), *info_other = kd_asprintf("%s/info.json", up_other),
	     *info_open = kd_asprintf("%s/info.json", up_open);
	char *json = kd_asprintf("{\"user\": %lld, \"length\": 12, \"meta\": {\"title\": \"To delete\"}, "
	                         "\"clip\": %lld}", (long long)u.id, (long long)id);
	char *json_other = kd_asprintf("{\"user\": %lld, \"length\": 12, \"meta\": {}, \"clip\": %lld}",
	                               (long long)u.id, (long long)keep);
	write_file(info, json);
	write_file(info_other, json_other);
	write_file(info_open, "{\"user\": 1, \"length\": 99, \"meta\": {}, \"clip\": null}");
	/* its shared upload's row, finished, and one whose completion was not
	 * recorded in the row, with its multipart upload still open */
	char err[KD_ERRMSG_MAX] = "", key[PATHS_KEY_MAX], *mpu = NULL;
	paths_clip_key(id, KD_FILE_ORIGINAL, key);
	assert_int_equal(storage_mpu_create(w->s, key, NULL, &mpu, err, sizeof err), 0);
	char etag[STORAGE_ETAG_MAX];
	assert_int_equal(storage_mpu_put_part(w->s, key, mpu, 1, "part", 4, etag, err, sizeof err), 0);
	struct storage_part *parts = NULL;
	size_t n_parts = 0;
	assert_int_equal(storage_mpu_list_parts(w->s, key, mpu, &parts, &n_parts, err, sizeof err), 0);
	assert_int_equal(n_parts, 1);
	free(parts);
	sql(w, "INSERT INTO uploads (id, user_id, clip_id, length, meta, mpu_id, done) VALUES "
	       "('%032d', %lld, %lld, 12, '{}', 'x', 1), ('%032d', %lld, %lld, 12, '{}', '%s', 0), "
	       "('%032d', %lld, %lld, 12, '{}', 'y', 1)",
	    4, (long long)u.id, (long long)id, 5, (long long)u.id, (long long)id, mpu, 6,
	    (long long)u.id, (long long)keep);
	/* rows that go with it */
	sql(w, "INSERT INTO blur_regions (clip_id, from_s, to_s, x, y, w, h) VALUES (%lld, 0, 1, "
	       "0.1, 0.1, 0.2, 0.2)", (long long)id);
	assert_true(count(w, "SELECT count(*) FROM consent_events WHERE clip_id = ?1", id) > 0);

	struct audit_actor coach = audit_actor_of(&u, "192.0.2.7");
	assert_int_equal(clip_erase(w->db, w->s, w->dir, id, &coach, "filmed the wrong class", err,
	                            sizeof err),
	                 0);
	assert_false(row_exists(w, id));
	assert_false(exists(dir));
	assert_false(exists(up));
	assert_true(exists(info_other));
	assert_true(exists(info_open));
	assert_int_equal(count(w, "SELECT count(*) FROM uploads WHERE clip_id = ?1", id), 0);
	assert_int_equal(count(w, "SELECT count(*) FROM uploads WHERE clip_id = ?1", keep), 1);
	assert_int_equal(storage_mpu_list_parts(w->s, key, mpu, &parts, &n_parts, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_int_equal(count(w, "SELECT count(*) FROM blur_regions WHERE clip_id = ?1", id), 0);
	assert_int_equal(count(w, "SELECT count(*) FROM consent_events WHERE clip_id = ?1", id), 0);
	assert_true(row_exists(w, keep));
	assert_true(clip_dir_exists(w, keep));
	/* who and why */
	char *detail = text(w, "SELECT user_name || '|' || target || '|' || detail || '|' || ip FROM "
	                       "audit WHERE clip_id = ?1 AND action = 'delete'", id);
	assert_non_null(detail);
	assert_string_equal(detail, "it-coach|To delete|'To delete' of alder: filmed the wrong "
	                            "class|192.0.2.7");
	free(detail);

	/* twice: nothing there, nothing done */
	assert_int_equal(clip_erase(w->db, w->s, w->dir, id, &coach, NULL, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_int_equal(count(w, "SELECT count(*) FROM audit WHERE clip_id = ?1", id), 1);

	free(mpu);
	free(json);
	free(json_other);
	free(info);
	free(info_other);
	free(info_open);
	free(up);
	free(up_other);
	free(up_open);
	free(tmp);
	free(blur);
	free(dir);
}

static void the_cutoff_is_the_catalogues(void **state)
{
	struct world *w = *state;
	char cutoff[11];
	int months[] = {1, 12, 18, 84, 1200};
	for (size_t i = 0; i < sizeof months / sizeof *months; i++) {
		erase_retention_cutoff(months[i], cutoff);
		char *want = text(w, "SELECT date('now', '-' || CAST(?1 AS TEXT) || ' months')",
		                  months[i]);
		assert_string_equal(cutoff, want);
		free(want);
	}
	assert_int_equal(erase_age_months("not a date"), 0);
	char *d = text(w, "SELECT date('now', 'start of month', '-30 months')", 0);
	assert_int_equal(erase_age_months(d), 30);
	free(d);
	/* a year ago tomorrow: not yet twelve months */
	time_t now = time(NULL);
	struct tm t;
	gmtime_r(&now, &t);
	if (t.tm_mday < 28) {
		char day[40];
		snprintf(day, sizeof day, "%04d-%02d-%02d", t.tm_year + 1900 - 1, t.tm_mon + 1,
		         t.tm_mday + 1);
		assert_int_equal(erase_age_months(day), 11);
		snprintf(day, sizeof day, "%04d-%02d-%02d", t.tm_year + 1900 - 1, t.tm_mon + 1,
		         t.tm_mday);
		assert_int_equal(erase_age_months(day), 12);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(past_by_recorded_date),
		T(past_by_upload_day_without_a_recorded_date),
		T(a_held_clip_is_never_deleted),
		T(retention_off_deletes_nothing),
		T(deleting_removes_everything_the_clip_had),
		T(the_cutoff_is_the_catalogues),
	};
	return cmocka_run_group_tests_name("retention", tests, NULL, NULL);
}
