/* test_tus.c - tus uploads without HTTP (src/web/tus_state.h): header
 * values, Upload-Metadata, the clip it describes, and an upload on disk. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/config.h"
#include "kindling/fs.h"
#include "kindling/mem.h"
#include "kindling/sha256.h"
#include "kindling/users.h"
#include "web/tus_state.h"

static void u64_is_digits_only(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_true(tus_parse_u64("0", &v));
	assert_int_equal(v, 0);
	assert_true(tus_parse_u64("1048576", &v));
	assert_int_equal(v, 1048576);
	assert_true(tus_parse_u64("9999999999999999999", &v)); /* 19 digits */
	assert_true(v == 9999999999999999999ULL);
	assert_true(tus_parse_u64("0000000000000000042", &v));
	assert_int_equal(v, 42);
	const char *bad[] = {"", "10000000000000000000" /* 20 digits */, "-1", "+1", " 1",
	                     "1 ", "1.5", "0x10", "1e6", "12a", "١"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		v = 7;
		if (tus_parse_u64(bad[i], &v))
			fail_msg("'%s' parsed as %llu", bad[i], (unsigned long long)v);
		assert_int_equal(v, 7); /* untouched */
	}
	assert_false(tus_parse_u64(NULL, &v));
}

/* Parse h into a fresh object; returns the rc, *meta the object. */
static int parse(const char *h, json_t **meta, char *err)
{
	*meta = json_object();
	err[0] = '\0';
	return tus_parse_metadata(h, *meta, err, KD_ERRMSG_MAX);
}

static const char *get(json_t *meta, const char *key)
{
	return json_string_value(json_object_get(meta, key));
}

static void metadata_pairs_are_decoded(void **state)
{
	(void)state;
	json_t *m;
	char err[KD_ERRMSG_MAX];
	/* filename "lesson.mov", school "north-high", practices "a,b", an empty
	 * value, a key alone, a space after the comma */
	assert_int_equal(parse("filename bGVzc29uLm1vdg==,school bm9ydGgtaGlnaA==,"
	                       "practices YSxi,empty ,flag, title w6lsw6h2ZQ==", &m, err), 0);
	assert_int_equal(json_object_size(m), 6);
	assert_string_equal(get(m, "filename"), "lesson.mov");
	assert_string_equal(get(m, "school"), "north-high");
	assert_string_equal(get(m, "practices"), "a,b");
	assert_string_equal(get(m, "empty"), "");
	assert_string_equal(get(m, "flag"), "");
	assert_string_equal(get(m, "title"), "\xc3\xa9l\xc3\xa8ve"); /* élève */
	json_decref(m);
	/* no header: nothing, and no error */
	assert_int_equal(parse(NULL, &m, err), 0);
	assert_int_equal(json_object_size(m), 0);
	json_decref(m);
	assert_int_equal(parse("", &m, err), 0);
	assert_int_equal(json_object_size(m), 0);
	json_decref(m);
}

static void metadata_refuses_bad_entries(void **state)
{
	(void)state;
	json_t *m;
	char err[KD_ERRMSG_MAX];
	struct {
		const char *h, *says;
	} cases[] = {
		{"filename bm90IGJhc2U2NA=!", "base64"},       /* '!' */
		{"filename bGVzc29u LmDvdg==", "base64"},      /* a space inside the value */
		{"filename bGVzc29", "base64"},                /* cut short */
		{"a YQ==, ,b Yg==", "base64"},                 /* an empty key */
		{"title /w==", "not UTF-8"},                   /* 0xff */
		{"title wA==", "not UTF-8"},                   /* 0xc0 alone */
		{"title YQBi", "not UTF-8"},                   /* "a\0b": a NUL inside */
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int rc = parse(cases[i].h, &m, err);
		if (rc != KD_EINVAL)
			fail_msg("'%s': rc %d, wanted KD_EINVAL", cases[i].h, rc);
		if (!strstr(err, cases[i].says))
			fail_msg("'%s': '%s' does not say '%s'", cases[i].h, err, cases[i].says);
		json_decref(m);
	}
	assert_int_equal(parse("title /w==", &m, err), KD_EINVAL);
	assert_non_null(strstr(err, "'title'")); /* names the entry */
	json_decref(m);

	/* 16 KB is the limit of the whole header */
	size_t max = 16 * 1024;
	char *h = malloc(max + 2);
	memcpy(h, "key ", 4);
	for (size_t i = 4; i < max; i += 4)
		memcpy(h + i, "QUFB", 4); /* "AAA" */
	h[max] = '\0';
	assert_int_equal(parse(h, &m, err), 0); /* exactly 16 KB: fine */
	assert_int_equal(json_string_length(json_object_get(m, "key")), (max - 4) / 4 * 3);
	json_decref(m);
	h[max] = 'Q';
	h[max + 1] = '\0';
	assert_int_equal(parse(h, &m, err), KD_EINVAL);
	assert_non_null(strstr(err, "16 KB"));
	assert_int_equal(json_object_size(m), 0);
	json_decref(m);
	free(h);
}

/* A catalogue with one school, for the metadata of a clip. */
static int setup_db(void **state)
{
	*state = test_db_with_school("north-high", "North High");
	return 0;
}

static json_t *meta_of(const char *filename, const char *practices, const char *school)
{
	json_t *m = json_object();
	if (filename)
		json_object_set_new(m, "filename", json_string(filename));
	if (practices)
		json_object_set_new(m, "practices", json_string(practices));
	if (school)
		json_object_set_new(m, "school", json_string(school));
	return m;
}

static void clip_title_comes_from_the_file_name(void **state)
{
	struct kd_db *db = *state;
	struct kd_user coach = test_user(db, "coach", KD_ROLE_COACH, "north-high");
	char err[KD_ERRMSG_MAX] = "";
	struct {
		const char *filename, *title;
	} cases[] = {
		{"fractions_station_rotation.mov", "fractions station rotation"},
		{"DCIM/100APPLE/IMG_0042.MOV", "IMG 0042"},
		{"day_2.final.mp4", "day 2.final"},
		{"no extension", "no extension"},
		{".hidden", ".hidden"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		json_t *meta = meta_of(cases[i].filename, "station-rotation, differentiation",
		                       "north-high");
		struct tus_clip_meta m;
		int rc = tus_clip_meta(db, "on-file", meta, &coach, &m, err, sizeof err);
		if (rc != 0)
			fail_msg("%s: %d %s", cases[i].filename, rc, err);
		assert_string_equal(m.c.title, cases[i].title);
		assert_string_equal(m.c.original_name, cases[i].filename);
		assert_string_equal(m.c.school, "north-high");
		assert_int_equal(m.c.n_practices, 2);
		assert_string_equal(m.c.practices[0], "station-rotation");
		assert_string_equal(m.c.practices[1], "differentiation"); /* trimmed */
		assert_int_equal(m.c.n_tags, 0);
		assert_int_equal(m.c.uploader_id, coach.id);
		assert_ptr_equal(m.c.viewer, &coach); /* duplicates: only clips they may see */
		tus_clip_meta_free(&m);
		json_decref(meta);
	}
	/* a title given wins; neither: a placeholder */
	json_t *meta = meta_of("IMG_0042.MOV", "peer-feedback", "north-high");
	json_object_set_new(meta, "title", json_string("Peer feedback in grade 4"));
	json_object_set_new(meta, "tags", json_string("writing, ,rubrics"));
	struct tus_clip_meta m;
	assert_int_equal(tus_clip_meta(db, "on-file", meta, &coach, &m, err, sizeof err), 0);
	assert_string_equal(m.c.title, "Peer feedback in grade 4");
	assert_int_equal(m.c.n_tags, 2);
	assert_string_equal(m.c.tags[0], "writing");
	assert_string_equal(m.c.tags[1], "rubrics");
	tus_clip_meta_free(&m);
	json_decref(meta);
	meta = meta_of(NULL, "peer-feedback", "north-high");
	assert_int_equal(tus_clip_meta(db, "on-file", meta, &coach, &m, err, sizeof err), 0);
	assert_string_equal(m.c.title, "Untitled clip");
	assert_null(m.c.original_name);
	tus_clip_meta_free(&m);
	json_decref(meta);
}

static void clip_meta_needs_practices_and_a_known_school(void **state)
{
	struct kd_db *db = *state;
	struct kd_user coach = test_user(db, "coach", KD_ROLE_COACH, "north-high");
	char err[KD_ERRMSG_MAX] = "";
	struct tus_clip_meta m;
	json_t *meta = meta_of("a.mov", NULL, "north-high");
	assert_int_equal(tus_clip_meta(db, "on-file", meta, &coach, &m, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "practices"));
	assert_non_null(strstr(err, "blended-learning")); /* names the known ones */
	assert_non_null(strstr(err, "station-rotation"));
	tus_clip_meta_free(&m);
	json_decref(meta);
	meta = meta_of("a.mov", " , ", "north-high"); /* only separators */
	err[0] = '\0';
	assert_int_equal(tus_clip_meta(db, "on-file", meta, &coach, &m, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "blended-learning"));
	tus_clip_meta_free(&m);
	json_decref(meta);

	meta = meta_of("a.mov", "juggling", "north-high");
	assert_int_equal(tus_clip_meta(db, "on-file", meta, &coach, &m, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_non_null(strstr(err, "juggling"));
	tus_clip_meta_free(&m);
	json_decref(meta);

	meta = meta_of("a.mov", "differentiation", "south-high");
	assert_int_equal(tus_clip_meta(db, "on-file", meta, &coach, &m, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_non_null(strstr(err, "unknown school 'south-high'"));
	assert_non_null(strstr(err, "north-high"));
	tus_clip_meta_free(&m);
	json_decref(meta);

	meta = meta_of("a.mov", "differentiation", NULL);
	assert_int_equal(tus_clip_meta(db, "on-file", meta, &coach, &m, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "which school"));
	tus_clip_meta_free(&m);
	json_decref(meta);

	/* 33 practices do not fit the list */
	struct kd_buf many = KD_BUF_INIT(1024);
	for (int i = 0; i < 33; i++)
		kd_buf_printf(&many, "%sp%d", i ? "," : "", i);
	meta = meta_of("a.mov", kd_buf_str(&many), "north-high");
	assert_int_equal(tus_clip_meta(db, "on-file", meta, &coach, &m, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "too many practices"));
	tus_clip_meta_free(&m);
	json_decref(meta);
	kd_buf_release(&many);
}

static void clip_meta_uses_the_default_consent(void **state)
{
	struct kd_db *db = *state;
	struct kd_user coach = test_user(db, "coach", KD_ROLE_COACH, "north-high");
	char err[KD_ERRMSG_MAX] = "";
	struct tus_clip_meta m;
	json_t *meta = meta_of("a.mov", "differentiation", "north-high");
	assert_int_equal(tus_clip_meta(db, "pending", meta, &coach, &m, err, sizeof err), 0);
	assert_string_equal(m.c.consent, "pending");
	tus_clip_meta_free(&m);
	json_object_set_new(meta, "consent", json_string("on-file"));
	json_object_set_new(meta, "visibility", json_string("school"));
	json_object_set_new(meta, "recorded", json_string("2026-11-23"));
	assert_int_equal(tus_clip_meta(db, "pending", meta, &coach, &m, err, sizeof err), 0);
	assert_string_equal(m.c.consent, "on-file");
	assert_string_equal(m.c.visibility, "school");
	assert_string_equal(m.c.recorded_on, "2026-11-23");
	tus_clip_meta_free(&m);
	json_object_set_new(meta, "consent", json_string("maybe"));
	assert_int_equal(tus_clip_meta(db, "pending", meta, &coach, &m, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "on-file, pending, withdrawn"));
	tus_clip_meta_free(&m);
	json_decref(meta);
}

static void clip_meta_checks_who_may_file_at_the_school(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(cat_school_add(db, "south-high", "South High", "", err, sizeof err), 0);
	struct {
		struct kd_user u;
		int want;
	} cases[] = {
		{test_user(db, "admin", KD_ROLE_ADMIN, NULL), 0},
		{test_user(db, "coach north", KD_ROLE_COACH, "north-high"), 0},
		{test_user(db, "district coach", KD_ROLE_COACH, NULL), 0},
		{test_user(db, "coach south", KD_ROLE_COACH, "south-high"), KD_EPERM},
		{test_user(db, "teacher north", KD_ROLE_TEACHER, "north-high"), KD_EPERM},
		{test_user(db, "principal north", KD_ROLE_PRINCIPAL, "north-high"), KD_EPERM},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		json_t *meta = meta_of("a.mov", "differentiation", "north-high");
		struct tus_clip_meta m;
		err[0] = '\0';
		int rc = tus_clip_meta(db, "on-file", meta, &cases[i].u, &m, err, sizeof err);
		if (rc != cases[i].want)
			fail_msg("%s: %d (%s), wanted %d", cases[i].u.name, rc, err, cases[i].want);
		tus_clip_meta_free(&m);
		json_decref(meta);
	}
	assert_non_null(strstr(err, "own school"));
	assert_non_null(strstr(err, "north-high"));
}

/* A temporary data folder with its sub-folders. */
struct data {
	char dir[64];
	struct kd_config cfg;
};

static int setup_data(void **state)
{
	struct data *d = calloc(1, sizeof *d);
	strcpy(d->dir, "/tmp/kd-tus-XXXXXX");
	if (!mkdtemp(d->dir))
		fail_msg("mkdtemp");
	char err[KD_ERRMSG_MAX] = "";
	if (kd_config_load(&d->cfg, d->dir, NULL, err, sizeof err) != 0 ||
	    kd_config_prepare_data_dir(&d->cfg, err, sizeof err) != 0)
		fail_msg("%s", err);
	*state = d;
	return 0;
}

static int teardown_data(void **state)
{
	struct data *d = *state;
	kd_remove_tree(d->dir);
	kd_config_free(&d->cfg);
	free(d);
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void append(const char *path, const char *bytes)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	close(fd);
}

static void upload_lives_in_its_folder(void **state)
{
	struct data *d = *state;
	json_t *meta = meta_of("lesson.mov", "differentiation", "north-high");
	struct tus_upload u;
	assert_int_equal(tus_upload_create(d->dir, 9, 11, meta, &u), 0);
	assert_int_equal(strlen(u.id), TUS_ID_LEN);
	assert_int_equal(strspn(u.id, "0123456789abcdef"), TUS_ID_LEN);
	char want[128];
	snprintf(want, sizeof want, "%s/uploads/%s", d->dir, u.id);
	assert_string_equal(u.dir, want);
	assert_true(exists(u.info_path));
	assert_true(exists(u.data_path));
	assert_int_equal(u.offset, 0);
	char id[TUS_ID_LEN + 1];
	memcpy(id, u.id, sizeof id);
	tus_upload_free(&u);

	/* loaded again: who, how long, the metadata; the offset is the data's size */
	assert_int_equal(tus_upload_load(d->dir, id, &u), 0);
	assert_int_equal(u.user, 9);
	assert_int_equal(u.length, 11);
	assert_int_equal(u.offset, 0);
	assert_int_equal(u.clip, 0);
	assert_string_equal(get(json_object_get(u.info, "meta"), "filename"), "lesson.mov");
	append(u.data_path, "hello");
	tus_upload_free(&u);
	assert_int_equal(tus_upload_load(d->dir, id, &u), 0);
	assert_int_equal(u.offset, 5);

	/* complete: the clip is remembered and the offset is the length, even
	 * once the bytes are gone */
	assert_int_equal(tus_upload_set_clip(&u, 77), 0);
	assert_int_equal(u.offset, 11);
	unlink(u.data_path);
	tus_upload_free(&u);
	assert_int_equal(tus_upload_load(d->dir, id, &u), 0);
	assert_int_equal(u.clip, 77);
	assert_int_equal(u.offset, 11);
	/* save writes what is in info */
	json_object_set_new(u.info, "length", json_integer(12));
	assert_int_equal(tus_upload_save(&u), 0);
	tus_upload_free(&u);
	assert_int_equal(tus_upload_load(d->dir, id, &u), 0);
	assert_int_equal(u.length, 12);
	tus_upload_free(&u);
	/* two uploads never share an id */
	json_t *meta2 = json_object();
	assert_int_equal(tus_upload_create(d->dir, 9, 1, meta2, &u), 0);
	assert_string_not_equal(u.id, id);
	tus_upload_free(&u);
}

static void write_text(const char *path, const char *text)
{
	assert_int_equal(kd_write_file_atomic(path, text, strlen(text)), 0);
}

/* The SHA-256 of the upload's data file as it is, hashed from scratch. */
static void file_sha(const struct tus_upload *u, char *hex)
{
	assert_int_equal(kd_sha256_file(u->data_path, hex), 0);
}

/* What tus_hash_resume gives for u as it is on disk now. */
static void resumed_sha(const char *data_dir, const char *id, char *hex)
{
	struct tus_upload u;
	struct kd_sha256 h;
	assert_int_equal(tus_upload_load(data_dir, id, &u), 0);
	assert_int_equal(tus_hash_resume(&u, &h), 0);
	assert_int_equal(kd_sha256_bytes(&h), u.offset);
	kd_sha256_final(&h, hex);
	tus_upload_free(&u);
}

/* An upload's running hash is taken up by the next PATCH from its saved
 * state, in this process or after a restart, whatever happened in between:
 * bytes written after the last save, a state lost, broken, or further than
 * the file. */
static void upload_hash_goes_on_across_patches(void **state)
{
	struct data *d = *state;
	struct tus_upload u;
	assert_int_equal(tus_upload_create(d->dir, 9, 100000, json_object(), &u), 0);
	char id[TUS_ID_LEN + 1], want[KD_SHA256_HEX], got[KD_SHA256_HEX];
	memcpy(id, u.id, sizeof id);
	assert_false(exists(u.hash_path));
	/* nothing yet: the hash of nothing, from no state */
	resumed_sha(d->dir, id, got);
	assert_string_equal(got, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	/* a PATCH: 100 bytes written and hashed, the state saved */
	struct kd_sha256 h;
	assert_int_equal(tus_hash_resume(&u, &h), 0);
	char bytes[101];
	memset(bytes, 'a', 100);
	bytes[100] = '\0';
	append(u.data_path, bytes);
	kd_sha256_update(&h, bytes, 100);
	u.offset = 100;
	assert_int_equal(tus_hash_save(&u, &h), 0);
	kd_sha256_abort(&h);
	assert_true(exists(u.hash_path));
	char *tmp = kd_asprintf("%s.tmp", u.hash_path);
	assert_false(exists(tmp)); /* renamed into place */
	free(tmp);
	file_sha(&u, want);
	resumed_sha(d->dir, id, got);
	assert_string_equal(got, want);

	/* bytes that reached the file after the last save (a server killed in
	 * the middle of a PATCH) are read again */
	append(u.data_path, "more bytes after the state was saved");
	file_sha(&u, want);
	resumed_sha(d->dir, id, got);
	assert_string_equal(got, want);

	/* a broken or missing state: from the first byte */
	write_text(u.hash_path, "sha256-state-1 64 not a state");
	resumed_sha(d->dir, id, got);
	assert_string_equal(got, want);
	unlink(u.hash_path);
	resumed_sha(d->dir, id, got);
	assert_string_equal(got, want);

	/* a state further than the file (its bytes lost in a crash) is not used */
	struct kd_sha256 far;
	assert_int_equal(kd_sha256_init(&far), 0);
	char block[4096];
	memset(block, 'z', sizeof block);
	kd_sha256_update(&far, block, sizeof block);
	assert_int_equal(tus_hash_save(&u, &far), 0);
	kd_sha256_abort(&far);
	resumed_sha(d->dir, id, got);
	assert_string_equal(got, want);

	/* the data file gone: an error, not a hash of less */
	struct tus_upload gone;
	assert_int_equal(tus_upload_load(d->dir, id, &gone), 0);
	unlink(u.data_path);
	h.ctx = (void *)1;
	assert_int_equal(tus_hash_resume(&gone, &h), KD_EIO);
	assert_null(h.ctx);
	tus_upload_free(&gone);
	tus_upload_free(&u);
}

static void load_refuses_malformed_and_missing_ids(void **state)
{
	struct data *d = *state;
	struct tus_upload u;
	const char *bad[] = {
		"", "0123456789abcdef0123456789abcde",    /* 31 */
		"0123456789abcdef0123456789abcdef0",      /* 33 */
		"0123456789ABCDEF0123456789ABCDEF",       /* upper case */
		"../../../../../../../../etc/pass",       /* 32, a path */
		"0123456789abcdef0123456789abcde/",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = tus_upload_load(d->dir, bad[i], &u);
		if (rc != KD_ENOTFOUND)
			fail_msg("'%s': %d", bad[i], rc);
		assert_null(u.dir);
	}
	assert_int_equal(tus_upload_load(d->dir, "0123456789abcdef0123456789abcdef", &u),
	                 KD_ENOTFOUND);
	assert_null(u.info);

	/* an info.json that is not ours */
	json_t *meta = json_object();
	assert_int_equal(tus_upload_create(d->dir, 9, 11, meta, &u), 0);
	char id[TUS_ID_LEN + 1];
	memcpy(id, u.id, sizeof id);
	write_text(u.info_path, "{not json");
	tus_upload_free(&u);
	assert_int_equal(tus_upload_load(d->dir, id, &u), KD_ENOTFOUND);
	char path[256];
	snprintf(path, sizeof path, "%s/uploads/%s/info.json", d->dir, id);
	write_text(path, "{\"user\": 9, \"length\": 0}");
	assert_int_equal(tus_upload_load(d->dir, id, &u), KD_ENOTFOUND);
	write_text(path, "{\"user\": \"9\", \"length\": 3}");
	assert_int_equal(tus_upload_load(d->dir, id, &u), KD_ENOTFOUND);
	write_text(path, "{\"user\": 9, \"length\": 3}");
	assert_int_equal(tus_upload_load(d->dir, id, &u), 0);
	assert_int_equal(u.length, 3);
	tus_upload_free(&u);
}

static void age(const char *path, time_t seconds)
{
	struct timeval tv[2];
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= seconds;
	tv[1] = tv[0];
	assert_int_equal(utimes(path, tv), 0);
}

static void expiry_removes_uploads_untouched_too_long(void **state)
{
	struct data *d = *state;
	struct tus_upload old, fresh, done;
	assert_int_equal(tus_upload_create(d->dir, 1, 10, json_object(), &old), 0);
	assert_int_equal(tus_upload_create(d->dir, 1, 10, json_object(), &fresh), 0);
	assert_int_equal(tus_upload_create(d->dir, 1, 10, json_object(), &done), 0);
	/* the age is that of the data: an old info.json does not matter */
	age(old.data_path, 2 * 3600);
	age(fresh.info_path, 2 * 3600);
	age(fresh.data_path, 60);
	/* a finished one has no data left: its info.json's age counts */
	assert_int_equal(tus_upload_set_clip(&done, 3), 0);
	unlink(done.data_path);
	age(done.info_path, 2 * 3600);
	/* a folder of another name is not an upload */
	char other[128];
	snprintf(other, sizeof other, "%s/uploads/keep-me", d->dir);
	assert_int_equal(kd_mkdirs(other, 0750), 0);
	age(other, 2 * 3600);

	assert_int_equal(tus_expire(&d->cfg, 3600), 0);
	assert_false(exists(old.dir));
	assert_true(exists(fresh.dir));
	assert_true(exists(fresh.data_path));
	assert_false(exists(done.dir));
	assert_true(exists(other));
	struct tus_upload again;
	assert_int_equal(tus_upload_load(d->dir, old.id, &again), KD_ENOTFOUND);
	assert_int_equal(tus_upload_load(d->dir, fresh.id, &again), 0);
	tus_upload_free(&again);
	/* a longer limit keeps what a shorter one would remove */
	assert_int_equal(tus_expire(&d->cfg, 3 * 3600), 0);
	assert_true(exists(fresh.dir));
	assert_int_equal(tus_expire(&d->cfg, 30), 0);
	assert_false(exists(fresh.dir));
	tus_upload_free(&old);
	tus_upload_free(&fresh);
	tus_upload_free(&done);
	/* without an uploads folder there is nothing to do, and it says so */
	assert_int_equal(kd_remove_tree(other), 0);
	char uploads[128];
	snprintf(uploads, sizeof uploads, "%s/uploads", d->dir);
	assert_int_equal(rmdir(uploads), 0);
	assert_int_equal(tus_expire(&d->cfg, 3600), KD_EIO);
}

int main(void)
{
	users_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(u64_is_digits_only),
		cmocka_unit_test(metadata_pairs_are_decoded),
		cmocka_unit_test(metadata_refuses_bad_entries),
		cmocka_unit_test_setup_teardown(clip_title_comes_from_the_file_name, setup_db,
		                                test_db_teardown),
		cmocka_unit_test_setup_teardown(clip_meta_needs_practices_and_a_known_school, setup_db,
		                                test_db_teardown),
		cmocka_unit_test_setup_teardown(clip_meta_uses_the_default_consent, setup_db,
		                                test_db_teardown),
		cmocka_unit_test_setup_teardown(clip_meta_checks_who_may_file_at_the_school, setup_db,
		                                test_db_teardown),
		cmocka_unit_test_setup_teardown(upload_lives_in_its_folder, setup_data, teardown_data),
		cmocka_unit_test_setup_teardown(upload_hash_goes_on_across_patches, setup_data,
		                                teardown_data),
		cmocka_unit_test_setup_teardown(load_refuses_malformed_and_missing_ids, setup_data,
		                                teardown_data),
		cmocka_unit_test_setup_teardown(expiry_removes_uploads_untouched_too_long, setup_data,
		                                teardown_data),
	};
	return cmocka_run_group_tests_name("tus", tests, NULL, NULL);
}
