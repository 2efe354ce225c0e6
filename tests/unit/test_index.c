/* test_index.c - the catalogue's index in memory answers exactly as SQL
 * does: every list, count and clip, for every kind of viewer, before and
 * after changes written through another connection. */
#include <stdio.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/users.h"

#define N_CLIPS 300

static const char *const SCHOOLS[] = {"alder", "birch", "cedar", "dogwood"};
static const char *const PRACTICES[] = {"station-rotation", "student-choice",
                                        "differentiation", "formative-assessment"};
static const char *const WORDS[] = {"Fractions", "fractions", "rotation", "Zebra", "apple",
                                    "Écoute", "exit", "tickets", "choice", "Choice"};
static const char *const GRADES[] = {"K-2", "3-5", "6-8", "9-12"};
static const char *const SUBJECTS[] = {"math", "Math", "reading", "science"};
static const char *const CONSENTS[] = {"on-file", "on-file", "on-file", "pending",
                                       "withdrawn"};
static const char *const VISIBILITIES[] = {"district", "district", "school", "private"};

struct world {
	char path[64];
	struct kd_db *db;    /* the one the catalogue calls read through */
	struct kd_db *other; /* another writer, as the command line or a runner is */
	struct kd_user users[6];
	size_t n_users;
	int64_t ids[N_CLIPS + 16];
	size_t n_ids;
};

static unsigned rnd_state = 12345;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) % n;
}

static int64_t add_clip(struct world *w, struct kd_db *db, int64_t uploader)
{
	char title[96], teacher[32];
	snprintf(title, sizeof title, "%s %s %s", WORDS[rnd(10)], WORDS[rnd(10)], WORDS[rnd(10)]);
	snprintf(teacher, sizeof teacher, "Teacher %u", rnd(7));
	const char *practices[2] = {PRACTICES[rnd(4)], NULL};
	size_t np = 1;
	if (rnd(3) == 0 && (practices[1] = PRACTICES[rnd(4)]) != practices[0])
		np = 2;
	const char *tags[] = {WORDS[rnd(10)]};
	char recorded[11];
	snprintf(recorded, sizeof recorded, "2025-%02u-%02u", 1 + rnd(3), 1 + rnd(5));
	struct cat_clip_new c = {
		.title = title, .school = SCHOOLS[rnd(4)], .practices = practices, .n_practices = np,
		.tags = tags, .n_tags = rnd(2), .teacher = teacher, .grade = GRADES[rnd(4)],
		.subject = rnd(5) ? SUBJECTS[rnd(4)] : NULL, .recorded_on = rnd(4) ? recorded : NULL,
		.consent = CONSENTS[rnd(5)], .visibility = VISIBILITIES[rnd(4)],
		.status = rnd(6) ? CAT_READY : (enum cat_status)rnd(4), .uploader_id = uploader,
	};
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	if (cat_clip_create(db, &c, &id, err, sizeof err) != 0)
		fail_msg("cat_clip_create: %s", err);
	w->ids[w->n_ids++] = id;
	return id;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	snprintf(w->path, sizeof w->path, "/tmp/kindling-test-index-XXXXXX");
	int fd = mkstemp(w->path);
	assert_true(fd >= 0);
	close(fd);
	char err[KD_ERRMSG_MAX] = "";
	kd_log_set_level(KD_LOG_WARN);
	if (db_open(w->path, &w->db, err, sizeof err) != 0 ||
	    db_open(w->path, &w->other, err, sizeof err) != 0)
		fail_msg("db_open: %s", err);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(cat_school_add(w->db, SCHOOLS[i], SCHOOLS[i], "", err, sizeof err),
		                 0);
	w->users[w->n_users++] = test_user(w->db, "admin", KD_ROLE_ADMIN, NULL);
	w->users[w->n_users++] = test_user(w->db, "coach", KD_ROLE_COACH, "alder");
	w->users[w->n_users++] = test_user(w->db, "teacher", KD_ROLE_TEACHER, "birch");
	w->users[w->n_users++] = test_user(w->db, "principal", KD_ROLE_PRINCIPAL, "cedar");
	w->users[w->n_users++] = test_user(w->db, "other coach", KD_ROLE_COACH, "cedar");
	w->users[w->n_users++] = test_user(w->db, "nobody's", KD_ROLE_TEACHER, NULL);
	test_exec(w->db, "BEGIN");
	for (size_t i = 0; i < N_CLIPS; i++)
		add_clip(w, w->db, rnd(3) ? 0 : w->users[1 + rnd(4)].id);
	test_exec(w->db, "COMMIT");
	/* what probing finds, for some */
	test_exec(w->db, "UPDATE clips SET container = 'mp4', duration_s = id * 1.5, width = 1280, "
	                 "height = 720, fps = 29.97, bit_rate = id * 1000, size_bytes = id * 7 "
	                 "WHERE id % 3 = 0");
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	cat_index_enable(false);
	db_close(&w->db);
	db_close(&w->other);
	unlink(w->path);
	char side[96];
	snprintf(side, sizeof side, "%s-wal", w->path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", w->path);
	unlink(side);
	free(w);
	return 0;
}

static void same_string(const char *what, int64_t id, const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
		fail_msg("clip %lld: %s differs: SQL '%s', index '%s'", (long long)id, what,
		         a ? a : "(null)", b ? b : "(null)");
}

static void same_clip(const struct cat_clip *a, const struct cat_clip *b)
{
	assert_int_equal(a->id, b->id);
	const char *const *sa[] = {
		(const char *const *)&a->title, (const char *const *)&a->description,
		(const char *const *)&a->school, (const char *const *)&a->school_name,
		(const char *const *)&a->teacher, (const char *const *)&a->grade,
		(const char *const *)&a->subject, (const char *const *)&a->recorded_on,
		(const char *const *)&a->uploaded_at, (const char *const *)&a->error,
		(const char *const *)&a->consent, (const char *const *)&a->visibility,
		(const char *const *)&a->uploader, (const char *const *)&a->sha256,
		(const char *const *)&a->original_name, (const char *const *)&a->media.container,
		(const char *const *)&a->media.video_codec, (const char *const *)&a->media.audio_codec,
	};
	const char *const *sb[] = {
		(const char *const *)&b->title, (const char *const *)&b->description,
		(const char *const *)&b->school, (const char *const *)&b->school_name,
		(const char *const *)&b->teacher, (const char *const *)&b->grade,
		(const char *const *)&b->subject, (const char *const *)&b->recorded_on,
		(const char *const *)&b->uploaded_at, (const char *const *)&b->error,
		(const char *const *)&b->consent, (const char *const *)&b->visibility,
		(const char *const *)&b->uploader, (const char *const *)&b->sha256,
		(const char *const *)&b->original_name, (const char *const *)&b->media.container,
		(const char *const *)&b->media.video_codec, (const char *const *)&b->media.audio_codec,
	};
	for (size_t i = 0; i < sizeof sa / sizeof *sa; i++)
		same_string("a text field", a->id, *sa[i], *sb[i]);
	assert_int_equal(a->n_practices, b->n_practices);
	for (size_t i = 0; i < a->n_practices; i++)
		same_string("practice", a->id, a->practices[i], b->practices[i]);
	assert_int_equal(a->n_tags, b->n_tags);
	for (size_t i = 0; i < a->n_tags; i++)
		same_string("tag", a->id, a->tags[i], b->tags[i]);
	assert_int_equal(a->school_id, b->school_id);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->uploader_id, b->uploader_id);
	assert_int_equal(a->has_captions, b->has_captions);
	assert_int_equal(a->media.probed, b->media.probed);
	assert_true(a->media.duration_s == b->media.duration_s);
	assert_true(a->media.fps == b->media.fps);
	assert_int_equal(a->media.width, b->media.width);
	assert_int_equal(a->media.height, b->media.height);
	assert_int_equal(a->media.bit_rate, b->media.bit_rate);
	assert_int_equal(a->media.size_bytes, b->media.size_bytes);
}

/* One question both ways; returns the number of clips compared. */
static size_t compare_list(struct kd_db *db, const struct kd_user *u, const struct cat_query *q)
{
	struct cat_page sql, idx;
	char e1[KD_ERRMSG_MAX] = "", e2[KD_ERRMSG_MAX] = "";
	cat_index_enable(false);
	int r1 = cat_clips_list(db, u, q, &sql, e1, sizeof e1);
	cat_index_enable(true);
	int r2 = cat_clips_list(db, u, q, &idx, e2, sizeof e2);
	assert_int_equal(r1, r2);
	if (r1 < 0) {
		assert_string_equal(e1, e2);
		return 0;
	}
	if (sql.total != idx.total || sql.n != idx.n || sql.sort != idx.sort)
		fail_msg("user %s, practice %s, school %s, grade %s, q %s, sort %d, page %lld: "
		         "SQL %lld/%zu/%d, index %lld/%zu/%d",
		         u->name, q->practice ? q->practice : "-", q->school ? q->school : "-",
		         q->grade ? q->grade : "-", q->q ? q->q : "-", q->sort, (long long)q->page,
		         (long long)sql.total, sql.n, sql.sort, (long long)idx.total, idx.n, idx.sort);
	for (size_t i = 0; i < sql.n; i++)
		same_clip(&sql.clips[i], &idx.clips[i]);
	size_t n = sql.n;
	cat_page_free(&sql);
	cat_page_free(&idx);
	return n;
}

static void compare_everything(struct world *w)
{
	const char *practices[] = {NULL, "station-rotation", "differentiation"};
	const char *schools[] = {NULL, "alder", "cedar"};
	const char *grades[] = {NULL, "3-5", "k-2", "none-such"};
	const char *subjects[] = {NULL, "MATH", "reading"};
	const char *queries[] = {NULL, "fractions", "choi", "zebra apple", "écoute", "\"\""};
	size_t compared = 0;
	for (size_t u = 0; u < w->n_users; u++) {
		for (size_t k = 0; k < 40; k++) {
			struct cat_query q = {
				.practice = practices[rnd(3)], .school = schools[rnd(3)],
				.grade = grades[rnd(4)], .subject = subjects[rnd(3)],
				.q = queries[rnd(6)], .sort = (enum cat_sort)rnd(5),
				.page = 1 + rnd(3), .per_page = 1 + rnd(12),
			};
			compared += compare_list(w->db, &w->users[u], &q);
			/* and the first page with no filter at all, every order */
			struct cat_query all = {.sort = (enum cat_sort)(k % 5), .page = 1,
			                        .per_page = 100};
			compared += compare_list(w->db, &w->users[u], &all);
		}
		/* every clip, one at a time */
		for (size_t i = 0; i < w->n_ids; i++) {
			struct cat_clip a, b;
			cat_index_enable(false);
			int r1 = cat_clip_get(w->db, &w->users[u], w->ids[i], &a);
			cat_index_enable(true);
			int r2 = cat_clip_get(w->db, &w->users[u], w->ids[i], &b);
			assert_int_equal(r1, r2);
			if (r1 == 0) {
				same_clip(&a, &b);
				cat_clip_free(&a);
				cat_clip_free(&b);
			}
		}
		/* the counts beside schools and practices */
		struct cat_school *s1, *s2;
		struct cat_practice *p1, *p2;
		size_t n1, n2, m1, m2;
		cat_index_enable(false);
		assert_int_equal(cat_schools_list(w->db, &w->users[u], &s1, &n1), 0);
		assert_int_equal(cat_practices_list(w->db, &w->users[u], &p1, &m1), 0);
		cat_index_enable(true);
		assert_int_equal(cat_schools_list(w->db, &w->users[u], &s2, &n2), 0);
		assert_int_equal(cat_practices_list(w->db, &w->users[u], &p2, &m2), 0);
		assert_int_equal(n1, n2);
		assert_int_equal(m1, m2);
		for (size_t i = 0; i < n1; i++)
			assert_int_equal(s1[i].clips, s2[i].clips);
		for (size_t i = 0; i < m1; i++)
			assert_int_equal(p1[i].clips, p2[i].clips);
		cat_schools_free(s1, n1);
		cat_schools_free(s2, n2);
		cat_practices_free(p1, m1);
		cat_practices_free(p2, m2);
	}
	/* the comparison compared something */
	assert_true(compared > 500);
}

static void index_answers_as_sql(void **state)
{
	compare_everything(*state);
}

/* Written through another connection, as another process would: each
 * change shows on the very next question. */
static void index_follows_other_writers(void **state)
{
	struct world *w = *state;
	compare_everything(w);
	int64_t id = w->ids[0];
	char sql[256];
	const char *changes[] = {
		"UPDATE clips SET consent = 'withdrawn' WHERE id = %lld",
		"UPDATE clips SET consent = 'on-file', visibility = 'district', status = 'ready', "
		"title = 'aaa first now' WHERE id = %lld",
		"UPDATE clips SET recorded_on = NULL WHERE id = %lld",
		"DELETE FROM clip_practices WHERE clip_id = %lld",
		"INSERT INTO clip_tags (clip_id, tag) VALUES (%lld, 'new-tag')",
		"UPDATE schools SET name = 'Zed School' WHERE slug = 'alder' AND %lld > 0",
		"UPDATE users SET name = 'Renamed' WHERE id = (SELECT uploader_id FROM clips "
		"WHERE uploader_id IS NOT NULL LIMIT 1) AND %lld > 0",
		"DELETE FROM clips WHERE id = %lld",
	};
	for (size_t i = 0; i < sizeof changes / sizeof *changes; i++) {
		snprintf(sql, sizeof sql, changes[i], (long long)(i < 7 ? id : w->ids[1]));
		test_exec(w->other, sql);
		struct cat_clip c;
		cat_index_enable(true);
		int rc = cat_clip_get(w->db, &w->users[0], id, &c);
		if (rc == 0) {
			if (i == 1)
				assert_string_equal(c.title, "aaa first now");
			if (i == 2)
				assert_null(c.recorded_on);
			if (i == 3)
				assert_int_equal(c.n_practices, 0);
			if (i == 5)
				assert_string_equal(c.school_name, strcmp(c.school, "alder") ? c.school_name
				                                                             : "Zed School");
			cat_clip_free(&c);
		}
		compare_everything(w);
	}
	/* a new clip, then several in one transaction, then a change to half
	 * of them */
	add_clip(w, w->other, w->users[1].id);
	compare_everything(w);
	test_exec(w->other, "BEGIN");
	for (size_t i = 0; i < 8; i++)
		add_clip(w, w->other, 0);
	test_exec(w->other, "COMMIT");
	test_exec(w->other, "UPDATE clips SET visibility = 'school' WHERE id % 2 = 0");
	compare_everything(w);
}

/* Inside a transaction the catalogue answers from SQL, which sees the
 * transaction's own writes; the index never takes them in, so a rollback
 * leaves nothing of them behind. */
static void index_ignores_uncommitted_writes(void **state)
{
	struct world *w = *state;
	int64_t id = w->ids[2];
	cat_index_enable(true);
	test_exec(w->db, "BEGIN");
	char sql[128];
	snprintf(sql, sizeof sql, "UPDATE clips SET title = 'rolled back' WHERE id = %lld",
	         (long long)id);
	test_exec(w->db, sql);
	struct cat_clip c;
	assert_int_equal(cat_clip_get(w->db, &w->users[0], id, &c), 0);
	assert_string_equal(c.title, "rolled back");
	cat_clip_free(&c);
	test_exec(w->db, "ROLLBACK");
	assert_int_equal(cat_clip_get(w->db, &w->users[0], id, &c), 0);
	assert_string_not_equal(c.title, "rolled back");
	cat_clip_free(&c);
	compare_everything(w);
}

/* The record of changes is pruned; an index further behind than what is
 * left reloads everything, and still answers as SQL. */
static void index_survives_pruning(void **state)
{
	struct world *w = *state;
	cat_index_enable(true);
	compare_everything(w);
	test_exec(w->other, "UPDATE clips SET title = title || ' (edited)' WHERE id % 5 = 0");
	test_exec(w->other, "UPDATE clips SET consent = 'pending' WHERE id % 7 = 0");
	assert_int_equal(cat_changes_prune(w->other, 3), 0);
	compare_everything(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(index_answers_as_sql, setup, teardown),
		cmocka_unit_test_setup_teardown(index_follows_other_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(index_ignores_uncommitted_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(index_survives_pruning, setup, teardown),
	};
	return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
