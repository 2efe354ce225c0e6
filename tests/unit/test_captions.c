/*
 * test_captions.c - captions (kindling/captions.h): what the parser makes
 * of WebVTT and SRT as people and tools write them, cue by cue; each kind
 * of refusal, with its line and reason, word for word; the WebVTT written;
 * and the catalogue's part: cues kept, searched (SQL and the index),
 * the first matching cue, automatic never over uploaded, and the
 * require_captions rule.  Owner: issue 15, H3.
 */
#include "helpers.h"

#include "kindling/buf.h"
#include "kindling/captions.h"

/* ---------------------------------------------------------------- parsing */

static void parse_ok(const char *text, double duration, struct captions *c)
{
	char err[KD_ERRMSG_MAX] = "";
	int rc = captions_parse(text, strlen(text), duration, c, err, sizeof err);
	if (rc != 0)
		fail_msg("captions_parse: %d %s", rc, err);
}

static void cue_is(const struct captions *c, size_t i, double start, double end, const char *text)
{
	assert_true(i < c->n);
	assert_float_equal(c->cues[i].start_s, start, 1e-9);
	assert_float_equal(c->cues[i].end_s, end, 1e-9);
	assert_string_equal(c->cues[i].text, text);
}

static void webvtt_as_written(void **state)
{
	(void)state;
	struct captions c;
	/* a BOM, CRLF, header lines, a NOTE, a STYLE, identifiers, hours,
	 * settings, two lines of text, tags, a cue with no text (dropped) */
	parse_ok("\xEF\xBB\xBFWEBVTT - lesson 4\r\nKind: captions\r\n\r\n"
	         "NOTE written by hand\r\nsecond line of the note\r\n\r\n"
	         "STYLE\r\n::cue { color: yellow }\r\n\r\n"
	         "intro\r\n00:01.000 --> 00:04.500 line:90% align:start\r\n"
	         "Good morning, <b>everyone</b>.\r\nFind your groups.\r\n\r\n"
	         "00:00:04.500 --> 00:00:07.250\r\n\r\n"
	         "2\r\n01:02:03.004 --> 01:02:05.000\r\nCaf\xC3\xA9 &amp; tea\r\n",
	         0, &c);
	assert_int_equal(c.n, 2);
	cue_is(&c, 0, 1.0, 4.5, "Good morning, <b>everyone</b>.\nFind your groups.");
	cue_is(&c, 1, 3723.004, 3725.0, "Caf\xC3\xA9 &amp; tea");
	captions_free(&c);
	assert_null(c.cues);

	/* LF only, CR only, no blank line at the end, "WEBVTT" alone */
	parse_ok("WEBVTT\n\n00:00.000 --> 00:01.000\na\n\n00:01.000 --> 00:02.000\nb", 0, &c);
	assert_int_equal(c.n, 2);
	cue_is(&c, 1, 1, 2, "b");
	captions_free(&c);
	parse_ok("WEBVTT\r\r00:00.000 --> 00:01.000\rone\rtwo\r", 0, &c);
	assert_int_equal(c.n, 1);
	cue_is(&c, 0, 0, 1, "one\ntwo");
	captions_free(&c);
}

static void srt_as_written(void **state)
{
	(void)state;
	struct captions c;
	parse_ok("\xEF\xBB\xBF"
	         "1\r\n00:00:01,000 --> 00:00:04,000\r\n<i>Turn to your partner.</i>\r\n\r\n"
	         "2\r\n00:00:04,000 --> 00:00:06,500 X1:10 X2:100 Y1:5 Y2:50\r\nWhat did you "
	         "notice?\r\nTell them.\r\n\r\n\r\n"
	         "3\r\n00:01:00.250 --> 00:01:02.000\r\nA dot works too.\r\n",
	         0, &c);
	assert_int_equal(c.n, 3);
	cue_is(&c, 0, 1, 4, "<i>Turn to your partner.</i>");
	cue_is(&c, 1, 4, 6.5, "What did you notice?\nTell them.");
	cue_is(&c, 2, 60.25, 62, "A dot works too.");
	captions_free(&c);

	/* without the numbers, as some tools write it */
	parse_ok("00:00:00,500 --> 00:00:01,500\nhello\n", 0, &c);
	assert_int_equal(c.n, 1);
	cue_is(&c, 0, 0.5, 1.5, "hello");
	captions_free(&c);
}

/* Each kind of bad input: the exact sentence, line number first. */
static void refusals(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		double duration;
		const char *err;
	} cases[] = {
		{"", 0, "line 1: the captions are empty; send a WebVTT file (starting \"WEBVTT\") or "
		        "an SRT file"},
		{"Hello there\nfriend\n", 0,
		 "line 1: neither WebVTT (the first line must be \"WEBVTT\") nor SRT (numbered cues "
		 "with times as \"00:00:01,000 --> 00:00:04,000\")"},
		{"WEBVTTX\n\n00:01.000 --> 00:02.000\nx\n", 0,
		 "line 1: neither WebVTT (the first line must be \"WEBVTT\") nor SRT (numbered cues "
		 "with times as \"00:00:01,000 --> 00:00:04,000\")"},
		{"WEBVTT\n\n00:01.000 --> 00:02.000\nfine\n\n00:03 --> 00:04.000\nbad\n", 0,
		 "line 6: \"00:03 --> 00:04.000\" does not start with a time; write the cue's times "
		 "as \"00:01.000 --> 00:04.000\""},
		{"WEBVTT\n\n00:01.000 -> 00:02.000\nx\n", 0,
		 "line 3: expected \"-->\" after the start time, as in \"00:01.000 --> 00:04.000\""},
		{"1\n00:00:01,000 - 00:00:02,000\nx\n", 0,
		 "line 2: expected \"-->\" after the start time, as in \"00:00:01,000 --> "
		 "00:00:04,000\""},
		{"WEBVTT\n\n00:01.000 --> 2s\nx\n", 0,
		 "line 3: the end time after \"-->\" is not a time; write it as in "
		 "\"00:01.000 --> 00:04.000\""},
		{"WEBVTT\n\n00:01.000 --> 00:02.000x\nx\n", 0,
		 "line 3: unexpected \"x\" after the end time"},
		{"WEBVTT\n\n00:61.000 --> 01:02.000\nx\n", 0,
		 "line 3: \"00:61.000 --> 01:02.000\" does not start with a time; write the cue's "
		 "times as \"00:01.000 --> 00:04.000\""},
		{"WEBVTT\n\n00:07.000 --> 00:05.000\nx\n", 0,
		 "line 3: the cue ends (0:05.000) before it starts (0:07.000)"},
		{"WEBVTT\n\n00:05.000 --> 00:05.000\nx\n", 0,
		 "line 3: the cue ends when it starts (0:05.000): it would never be shown"},
		{"WEBVTT\n\n00:05.000 --> 00:06.000\na\n\n00:03.000 --> 00:04.000\nb\n", 0,
		 "line 6: this cue starts (0:03.000) before the one before it (0:05.000); put the "
		 "cues in order of time"},
		{"WEBVTT\n\n00:01.000 --> 00:02.000\na\n00:02.000 --> 00:03.000\nb\n", 0,
		 "line 5: a cue's text may not hold \"-->\"; if this is the next cue, put a blank "
		 "line before it"},
		{"WEBVTT\n\nintro\njust words\n", 0,
		 "line 4: expected the cue's times (\"00:01.000 --> 00:04.000\"), found \"just "
		 "words\""},
		{"WEBVTT\n\nNOTE only a note\n", 0,
		 "line 3: no cues with text; each cue is its times, then its text, then a blank "
		 "line"},
		{"WEBVTT\n\n00:01.000 --> 00:02.000\nok\n\n03:15.000 --> 03:20.000\nlate\n", 192.5,
		 "line 6: the cue starts at 3:15.000, at or past the end of the clip (it is 3:12.500 "
		 "long)"},
		{"1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\nno times here\n", 0,
		 "line 6: expected the cue's times (\"00:00:01,000 --> 00:00:04,000\") on the line "
		 "after its number"},
		{"1\n00:00:01,000 --> 00:00:02,000\nok\n\nstray words\n", 0,
		 "line 5: expected a cue's number or its times (\"00:00:01,000 --> 00:00:04,000\"), "
		 "found \"stray words\""},
		{"1\n00:01,000 --> 00:00:02,000\nx\n", 0,
		 "line 2: \"00:01,000 --> 00:00:02,000\" does not start with a time; write the cue's "
		 "times as \"00:00:01,000 --> 00:00:04,000\""},
		{"WEBVTT\n\n00:01.000 --> 00:02.000\nbad \xC3\x28 byte\n", 0,
		 "line 4: not UTF-8 text (byte 0xC3); save the file as UTF-8"},
		{"WEBVTT\r\n\r\n00:01.000 --> 00:02.000\r\n\xED\xA0\x80\r\n", 0,
		 "line 4: not UTF-8 text (byte 0xED); save the file as UTF-8"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct captions c = {(void *)1, 7};
		char err[KD_ERRMSG_MAX] = "";
		int rc = captions_parse(cases[i].text, strlen(cases[i].text), cases[i].duration, &c,
		                        err, sizeof err);
		if (rc != KD_EINVAL || strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: rc %d, \"%s\"\n  wanted \"%s\"", i, rc, err, cases[i].err);
		assert_null(c.cues);
		assert_int_equal(c.n, 0);
	}
	/* a NUL inside */
	static const char nul[] = "WEBVTT\n\n00:01.000 --> 00:02.000\na\0b\n";
	struct captions c;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(captions_parse(nul, sizeof nul - 1, 0, &c, err, sizeof err), KD_EINVAL);
	assert_string_equal(err, "line 4: a NUL byte; captions are text (save the file as UTF-8 "
	                         "text)");
}

static void bounds(void **state)
{
	(void)state;
	struct captions c;
	char err[KD_ERRMSG_MAX] = "";
	/* a cue running past the end is cut there; one inside is kept */
	parse_ok("WEBVTT\n\n00:01.000 --> 00:02.000\na\n\n00:09.000 --> 00:15.000\nb\n", 10, &c);
	cue_is(&c, 0, 1, 2, "a");
	cue_is(&c, 1, 9, 10, "b");
	captions_free(&c);
	/* unknown duration: form only */
	parse_ok("WEBVTT\n\n10:00:00.000 --> 10:00:01.000\nlate\n", 0, &c);
	cue_is(&c, 0, 36000, 36001, "late");
	captions_free(&c);

	/* the text of one cue: at most CAPTIONS_CUE_TEXT_MAX bytes */
	size_t n = CAPTIONS_CUE_TEXT_MAX;
	char *big = malloc(64 + n + 2);
	int k = sprintf(big, "WEBVTT\n\n00:01.000 --> 00:02.000\n");
	memset(big + k, 'a', n);
	big[k + n] = '\0';
	parse_ok(big, 0, &c);
	assert_int_equal(strlen(c.cues[0].text), n);
	captions_free(&c);
	strcat(big, "a");
	assert_int_equal(captions_parse(big, strlen(big), 0, &c, err, sizeof err), KD_EINVAL);
	assert_string_equal(err, "line 4: the cue's text is longer than 1000 bytes; split it into "
	                         "shorter cues");
	free(big);

	/* CAPTIONS_CUES_MAX cues, then one more */
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	kd_buf_puts(&b, "WEBVTT\n");
	for (int i = 0; i <= CAPTIONS_CUES_MAX; i++)
		kd_buf_printf(&b, "\n%02d:%02d:%02d.000 --> %02d:%02d:%02d.500\nw\n", i / 3600,
		              i / 60 % 60, i % 60, i / 3600, i / 60 % 60, i % 60);
	assert_int_equal(captions_parse(b.data, b.len, 0, &c, err, sizeof err), KD_EINVAL);
	assert_string_equal(err, "line 60003: more than 20000 cues; a clip's captions may have at "
	                         "most 20000");
	/* over the byte cap: too big, before anything is read */
	while (b.len <= CAPTIONS_BYTES_MAX)
		kd_buf_puts(&b, "NOTE padding padding padding\n\n");
	assert_int_equal(captions_parse(b.data, b.len, 0, &c, err, sizeof err), KD_ETOOBIG);
	assert_non_null(strstr(err, "more than the 1048576 allowed"));
	kd_buf_release(&b);
}

static void written_as_webvtt(void **state)
{
	(void)state;
	struct captions c;
	parse_ok("1\n00:00:01,000 --> 00:00:04,000\nTurn to your partner.\n\n"
	         "2\n01:02:03,004 --> 01:02:05,999\nTwo\nlines\n",
	         0, &c);
	size_t len;
	char *vtt = captions_to_vtt(&c, &len);
	const char *want = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nTurn to your partner.\n\n"
	                   "01:02:03.004 --> 01:02:05.999\nTwo\nlines\n";
	assert_string_equal(vtt, want);
	assert_int_equal(len, strlen(want));
	/* and read back, the same cues */
	struct captions again;
	parse_ok(vtt, 0, &again);
	assert_int_equal(again.n, c.n);
	for (size_t i = 0; i < c.n; i++)
		cue_is(&again, i, c.cues[i].start_s, c.cues[i].end_s, c.cues[i].text);
	captions_free(&again);
	captions_free(&c);
	free(vtt);
	assert_string_equal(captions_source_name(CAPTIONS_NONE), "none");
	assert_string_equal(captions_source_name(CAPTIONS_UPLOADED), "uploaded");
	assert_string_equal(captions_source_name(CAPTIONS_AUTOMATIC), "automatic");
}

/* ---------------------------------------------------------------- catalogue */

struct world {
	struct kd_db *db;
	struct kd_user admin, uploader, teacher;
	int64_t c1, c2;
};

static int64_t new_clip(struct world *w, const char *title)
{
	const char *practices[] = {"think-pair-share"};
	struct cat_clip_new c = {
		.title = title, .school = "alder", .practices = practices, .n_practices = 1,
		.status = CAT_READY, .uploader_id = w->uploader.id,
	};
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	if (cat_clip_create(w->db, &c, &id, err, sizeof err) != 0)
		fail_msg("cat_clip_create: %s", err);
	return id;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	w->db = test_db();
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(cat_school_add(w->db, "alder", "Alder School", "", err, sizeof err), 0);
	assert_int_equal(cat_practice_add(w->db, "think-pair-share", "Think-pair-share", "",
	                                  err, sizeof err), 0);
	w->admin = test_user(w->db, "admin", KD_ROLE_ADMIN, NULL);
	w->uploader = test_user(w->db, "Una Uploader", KD_ROLE_TEACHER, "alder");
	w->teacher = test_user(w->db, "Tia Teacher", KD_ROLE_TEACHER, "alder");
	w->c1 = new_clip(w, "Warm-up circle");
	w->c2 = new_clip(w, "Exit tickets");
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	cat_index_enable(false);
	cat_captions_require(false);
	db_close(&w->db);
	free(w);
	return 0;
}

static int64_t count(struct kd_db *db, const char *sql, int64_t id)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	db_bind_int64(st, 1, id);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t v = db_column_int64(st, 0);
	db_finalize(st);
	return v;
}

/* The ids a viewer finds for q, in order, from the index or the SQL. */
static size_t search(struct world *w, const struct kd_user *u, const char *q, bool index,
                     int64_t *ids)
{
	cat_index_enable(index);
	struct cat_query cq = {.q = q, .sort = CAT_SORT_RELEVANCE, .page = 1, .per_page = 50};
	struct cat_page p;
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_clips_list(w->db, u, &cq, &p, err, sizeof err);
	cat_index_enable(false);
	if (rc != 0)
		fail_msg("cat_clips_list: %d %s", rc, err);
	assert_int_equal(p.total, p.n);
	for (size_t i = 0; i < p.n; i++)
		ids[i] = p.clips[i].id;
	size_t n = p.n;
	cat_page_free(&p);
	return n;
}

static void kept_and_searched(void **state)
{
	struct world *w = *state;
	struct captions c;
	parse_ok("WEBVTT\n\n00:01.000 --> 00:03.000\nGood morning.\n\n"
	         "01:23.000 --> 01:26.000\nNow the tortoise walks away.\n\n"
	         "02:00.000 --> 02:02.000\nThe tortoise again.\n",
	         0, &c);
	assert_int_equal(cat_captions_set(w->db, w->c1, &c, CAPTIONS_UPLOADED), 0);
	assert_int_equal(count(w->db, "SELECT count(*) FROM caption_cues WHERE clip_id = ?1", w->c1),
	                 3);
	struct cat_clip got;
	assert_int_equal(cat_clip_get(w->db, &w->admin, w->c1, &got), 0);
	assert_int_equal(got.captions, CAPTIONS_UPLOADED);
	assert_true(got.has_captions);
	cat_clip_free(&got);

	/* the word of a cue finds the clip, by the SQL and by the index;
	 * the clip whose title has the word ranks first */
	int64_t c3 = new_clip(w, "Tortoise and hare");
	for (int index = 0; index < 2; index++) {
		int64_t ids[8];
		assert_int_equal(search(w, &w->teacher, "tortoise", index, ids), 2);
		assert_int_equal(ids[0], c3);
		assert_int_equal(ids[1], w->c1);
		assert_int_equal(search(w, &w->teacher, "tort", index, ids), 2);
		assert_int_equal(search(w, &w->teacher, "zebra", index, ids), 0);
	}

	/* the first cue that has every word, and its second */
	char *match = cat_fts_query("tortoise");
	double at = -1;
	char *text = NULL;
	assert_int_equal(cat_caption_hit(w->db, w->c1, match, &at, &text), 0);
	assert_float_equal(at, 83.0, 1e-9);
	assert_string_equal(text, "Now the tortoise walks away.");
	free(text);
	free(match);
	match = cat_fts_query("tortoise again");
	assert_int_equal(cat_caption_hit(w->db, w->c1, match, &at, &text), 0);
	assert_float_equal(at, 120.0, 1e-9);
	free(text);
	assert_int_equal(cat_caption_hit(w->db, w->c2, match, &at, &text), KD_ENOTFOUND);
	assert_null(text);
	free(match);

	/* a machine's captions never replace a person's */
	struct captions machine;
	parse_ok("WEBVTT\n\n00:00.000 --> 00:01.000\nguessed words\n", 0, &machine);
	assert_int_equal(cat_captions_set(w->db, w->c1, &machine, CAPTIONS_AUTOMATIC), KD_EEXIST);
	assert_int_equal(count(w->db, "SELECT count(*) FROM caption_cues WHERE clip_id = ?1", w->c1),
	                 3);
	/* but may be set where there are none, and a person's then win */
	assert_int_equal(cat_captions_set(w->db, w->c2, &machine, CAPTIONS_AUTOMATIC), 0);
	assert_int_equal(cat_clip_get(w->db, &w->admin, w->c2, &got), 0);
	assert_int_equal(got.captions, CAPTIONS_AUTOMATIC);
	cat_clip_free(&got);
	assert_int_equal(cat_captions_set(w->db, w->c2, &c, CAPTIONS_UPLOADED), 0);
	assert_int_equal(count(w->db, "SELECT count(*) FROM caption_cues WHERE clip_id = ?1", w->c2),
	                 3);
	captions_free(&machine);

	/* cleared: no cues, none, not found by their words */
	assert_int_equal(cat_captions_clear(w->db, w->c1), 0);
	assert_int_equal(cat_captions_clear(w->db, w->c2), 0);
	assert_int_equal(count(w->db, "SELECT count(*) FROM caption_cues WHERE clip_id = ?1", w->c1),
	                 0);
	assert_int_equal(count(w->db, "SELECT has_captions FROM clips WHERE id = ?1", w->c1), 0);
	for (int index = 0; index < 2; index++) {
		int64_t ids[8];
		assert_int_equal(search(w, &w->teacher, "tortoise", index, ids), 1);
		assert_int_equal(ids[0], c3);
	}
	assert_int_equal(cat_captions_set(w->db, 999999, &c, CAPTIONS_UPLOADED), KD_ENOTFOUND);
	assert_int_equal(cat_captions_set(w->db, w->c1, &c, CAPTIONS_NONE), KD_EINVAL);
	captions_free(&c);
}

/* require_captions: a clip without captions is its uploader's and the
 * admins' only, in SQL and in the index alike */
static void required(void **state)
{
	struct world *w = *state;
	struct captions c;
	parse_ok("WEBVTT\n\n00:01.000 --> 00:02.000\nhello\n", 0, &c);
	assert_int_equal(cat_captions_set(w->db, w->c1, &c, CAPTIONS_UPLOADED), 0);
	captions_free(&c);
	for (int on = 0; on < 2; on++) {
		cat_captions_require(on);
		for (int index = 0; index < 2; index++) {
			cat_index_enable(index);
			struct cat_clip got;
			assert_int_equal(cat_clip_get(w->db, &w->teacher, w->c2, &got),
			                 on ? KD_ENOTFOUND : 0);
			if (!on)
				cat_clip_free(&got);
			assert_int_equal(cat_clip_get(w->db, &w->uploader, w->c2, &got), 0);
			cat_clip_free(&got);
			assert_int_equal(cat_clip_get(w->db, &w->admin, w->c2, &got), 0);
			cat_clip_free(&got);
			assert_int_equal(cat_clip_get(w->db, &w->teacher, w->c1, &got), 0);
			cat_clip_free(&got);
			struct cat_query q = {.page = 1, .per_page = 10};
			struct cat_page p;
			char err[KD_ERRMSG_MAX] = "";
			assert_int_equal(cat_clips_list(w->db, &w->teacher, &q, &p, err, sizeof err), 0);
			assert_int_equal(p.total, on ? 1 : 2);
			cat_page_free(&p);
			assert_int_equal(cat_clips_list(w->db, &w->uploader, &q, &p, err, sizeof err), 0);
			assert_int_equal(p.total, 2);
			cat_page_free(&p);
			cat_index_enable(false);
		}
	}
	cat_captions_require(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(webvtt_as_written),
		cmocka_unit_test(srt_as_written),
		cmocka_unit_test(refusals),
		cmocka_unit_test(bounds),
		cmocka_unit_test(written_as_webvtt),
		cmocka_unit_test_setup_teardown(kept_and_searched, setup, teardown),
		cmocka_unit_test_setup_teardown(required, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
