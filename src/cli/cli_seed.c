/*
 * cli_seed.c - kindling seed: sample schools and synthetic clips.
 *
 * For demos and benchmarks: five sample schools, and --clips N catalogue
 * rows that look like real clips (titles, teachers, grades, practices,
 * tags, media facts) but have no media files behind them.  The numbers come
 * from a fixed pseudo-random sequence, so two seeds of the same size are
 * the same catalogue.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/catalogue.h"
#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"

static const char *const schools[][2] = {
	{"north-high", "North High School"},
	{"riverside-elementary", "Riverside Elementary"},
	{"lakeview-middle", "Lakeview Middle School"},
	{"westside-academy", "Westside Academy"},
	{"eastgate-primary", "Eastgate Primary"},
};

static const char *const teachers[] = {
	"Ana Ruiz", "Ben Okafor", "Chloe Martin", "Dev Patel", "Elif Kaya", "Farah Haddad",
	"Gus Lindqvist", "Hana Sato", "Ivan Petrov", "Jada Brooks", "Kofi Mensah", "Lena Weber",
	"Marco Rossi", "Nadia Ali", "Owen Price", "Priya Nair",
};
static const char *const grades[] = {"K-2", "3-5", "6-8", "9-12"};
static const char *const subjects[] = {"math", "reading", "science", "history", "art",
                                       "writing", "music", "languages"};
static const char *const openings[] = {"Station rotation in", "Choice boards for",
                                       "Small-group", "Exit tickets in", "Peer review in",
                                       "Mastery checks for", "Discussion protocols in",
                                       "Project launch in", "Flexible groups in",
                                       "Self-paced playlists for"};
static const char *const tags[] = {"warm-up", "exit-ticket", "groups", "chromebooks",
                                   "rubric", "timer", "anchor-chart", "launch", "reflection",
                                   "conferring"};

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

#define N(a) (sizeof(a) / sizeof *(a))

static int seed_schools(struct kd_db *db)
{
	for (size_t i = 0; i < N(schools); i++) {
		char err[KD_ERRMSG_MAX];
		int rc = cat_school_add(db, schools[i][0], schools[i][1], "Sample District", err,
		                        sizeof err);
		if (rc < 0 && rc != KD_EEXIST) {
			cli_fail("%s", err);
			return rc;
		}
	}
	return 0;
}

static int seed_clips(struct kd_db *db, long count)
{
	struct kd_stmt *clip = NULL, *prac = NULL, *tag = NULL;
	int rc = db_begin(db);
	if (rc < 0)
		return rc;
	if (db_prepare(db, "INSERT INTO clips (title, description, school_id, teacher, grade, subject, "
		"recorded_on, uploaded_at, status, container, duration_s, width, height, "
		"coded_width, coded_height, rotation, video_codec, audio_codec, fps, bit_rate, "
		"size_bytes, original_name) VALUES (?1, ?2, (SELECT id FROM schools WHERE slug = ?3), "
		"?4, ?5, ?6, ?7, ?8, 'ready', 'mov,mp4,m4a,3gp,3g2,mj2', ?9, 1920, 1080, 1920, 1080, 0, "
		"'h264', 'aac', 30, 4000000, ?10, ?11) RETURNING id", &clip) != DB_OK ||
	    db_prepare(db, "INSERT INTO clip_practices (clip_id, practice_id) "
		"SELECT ?1, id FROM practices WHERE true ORDER BY id LIMIT 1 OFFSET ?2 "
		"ON CONFLICT DO NOTHING",
		&prac) != DB_OK ||
	    db_prepare(db, "INSERT INTO clip_tags (clip_id, tag) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
		&tag) != DB_OK) {
		cli_fail("cannot prepare the seed: %s", db_errmsg(db));
		rc = KD_EDB;
		goto out;
	}
	int n_practices = 10;
	for (long i = 0; i < count; i++) {
		char title[160], desc[300], recorded[48], uploaded[64], name[64];
		const char *teacher = teachers[rnd(N(teachers))], *subject = subjects[rnd(N(subjects))];
		int day = (int)(i * 730 / (count ? count : 1)); /* spread over two years */
		int y = 2024 + day / 365, doy = day % 365, m = doy / 31 + 1, d = doy % 28 + 1;
		snprintf(title, sizeof title, "%s %s with %s", openings[rnd(N(openings))], subject,
		         teacher);
		snprintf(desc, sizeof desc,
		         "%s shows how the class runs %s in %s, what the students do, and what "
		         "changed after six weeks.", teacher, openings[rnd(N(openings))], subject);
		snprintf(recorded, sizeof recorded, "%04d-%02d-%02d", y, m > 12 ? 12 : m, d);
		snprintf(uploaded, sizeof uploaded, "%sT%02u:%02u:00Z", recorded, 8 + rnd(9), rnd(60));
		snprintf(name, sizeof name, "IMG_%04ld.MOV", i % 10000);
		double duration = 30 + rnd(600);
		db_bind_text(clip, 1, title, -1, DB_TRANSIENT);
		db_bind_text(clip, 2, desc, -1, DB_TRANSIENT);
		db_bind_text(clip, 3, schools[rnd(N(schools))][0], -1, DB_STATIC);
		db_bind_text(clip, 4, teacher, -1, DB_STATIC);
		db_bind_text(clip, 5, grades[rnd(N(grades))], -1, DB_STATIC);
		db_bind_text(clip, 6, subject, -1, DB_STATIC);
		db_bind_text(clip, 7, recorded, -1, DB_TRANSIENT);
		db_bind_text(clip, 8, uploaded, -1, DB_TRANSIENT);
		db_bind_double(clip, 9, duration);
		db_bind_int64(clip, 10, (int64_t)(duration * 500000));
		db_bind_text(clip, 11, name, -1, DB_TRANSIENT);
		if (db_step(clip) != DB_ROW)
			goto dberr;
		int64_t id = db_column_int64(clip, 0);
		db_reset(clip);
		int np = 1 + (int)rnd(3);
		for (int k = 0; k < np; k++) {
			db_bind_int64(prac, 1, id);
			db_bind_int(prac, 2, (int)rnd((uint32_t)n_practices));
			if (db_step(prac) != DB_DONE)
				goto dberr;
			db_reset(prac);
		}
		int nt = (int)rnd(3);
		for (int k = 0; k < nt; k++) {
			db_bind_int64(tag, 1, id);
			db_bind_text(tag, 2, tags[rnd(N(tags))], -1, DB_STATIC);
			if (db_step(tag) != DB_DONE)
				goto dberr;
			db_reset(tag);
		}
		/* A commit every few thousand clips: on PostgreSQL each clip adds
		 * a version of the generation's row, and one transaction of a
		 * million clips would scan ever more of them. */
		if ((i + 1) % 2000 == 0 && i + 1 < count &&
		    ((rc = db_commit(db)) < 0 || (rc = db_begin(db)) < 0))
			goto out;
	}
	rc = db_commit(db);
	/* A bulk load leaves PostgreSQL's planner statistics behind until
	 * autovacuum comes by: the searches right after would be planned
	 * blind.  (SQLite plans from its indexes alone.) */
	if (rc == 0 && db_backend(db) == DB_POSTGRES && db_exec(db, "ANALYZE") != DB_OK)
		fprintf(stderr, "kindling: seeded, but could not refresh the planner's statistics: "
		        "%s\n", db_errmsg(db));
	goto out;
dberr:
	cli_fail("seeding failed: %s", db_errmsg(db));
	rc = KD_EDB;
out:
	db_finalize(clip);
	db_finalize(prac);
	db_finalize(tag);
	if (rc < 0)
		db_rollback(db);
	return rc;
}

int cli_seed(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"clips", required_argument, NULL, 'c'},
		{0},
	};
	const char *data = NULL;
	long count = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'c': {
			char *end;
			count = strtol(optarg, &end, 10);
			if (*end || count < 0 || count > 10000000) {
				cli_fail("--clips takes a number from 0 to 10000000");
				return 2;
			}
			break;
		}
		default: return 2;
		}
	}
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0)
		return 1;
	int rc = seed_schools(db);
	if (rc == 0 && count > 0)
		rc = seed_clips(db, count);
	if (rc == 0)
		printf("seeded %zu sample schools and %ld synthetic clips in %s\n", N(schools), count,
		       cfg.data_dir);
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}
