/* test_manifest.c - the CSV of `kindling upload --manifest` (src/cli/manifest.h):
 * columns, quoting, line ends, errors that name the line, rows by path. */
#include <stdio.h>
#include <unistd.h>

#include "helpers.h"
#include "cli/manifest.h"

/* Parse text; returns the rc, the manifest in *m (free it). */
static int parse(struct manifest *m, const char *text, char *err)
{
	err[0] = '\0';
	return manifest_parse(m, text, strlen(text), "clips.csv", err, KD_ERRMSG_MAX);
}

static const char *field(const struct manifest *m, const char *file, const char *column)
{
	json_t *row = manifest_row(m, file);
	if (!row)
		fail_msg("no row for '%s'", file);
	return json_string_value(json_object_get(row, column));
}

static void header_names_file_and_known_columns(void **state)
{
	(void)state;
	struct manifest m;
	char err[KD_ERRMSG_MAX];
	assert_int_equal(parse(&m, "file,title,teacher,grade,subject,recorded,practices,tags,school,"
	                           "consent,visibility,description\n"
	                           "a.mp4,Fractions,Ana Ruiz,3-5,math,2026-11-23,station-rotation,"
	                           "fractions,north-high,pending,school,Day one\n"
	                           "b.mov,,Ben\n", err), 0);
	assert_int_equal(json_object_size(m.rows), 2);
	assert_string_equal(field(&m, "a.mp4", "title"), "Fractions");
	assert_string_equal(field(&m, "a.mp4", "teacher"), "Ana Ruiz");
	assert_string_equal(field(&m, "a.mp4", "recorded"), "2026-11-23");
	assert_string_equal(field(&m, "a.mp4", "visibility"), "school");
	assert_string_equal(field(&m, "a.mp4", "description"), "Day one");
	assert_null(json_object_get(manifest_row(&m, "a.mp4"), "file")); /* the key, not a field */
	assert_int_equal(json_object_size(manifest_row(&m, "a.mp4")), 11);
	/* empty and missing fields are not set */
	assert_int_equal(json_object_size(manifest_row(&m, "b.mov")), 1);
	assert_string_equal(field(&m, "b.mov", "teacher"), "Ben");
	manifest_free(&m);
	assert_null(m.rows);
	/* the file column need not come first; extra fields are ignored */
	assert_int_equal(parse(&m, "title,file\nFirst,one.mp4,extra,more\n", err), 0);
	assert_string_equal(field(&m, "one.mp4", "title"), "First");
	assert_int_equal(json_object_size(manifest_row(&m, "one.mp4")), 1);
	manifest_free(&m);
	/* MANIFEST_COLUMNS is the list the reader knows */
	size_t n = 0;
	while (MANIFEST_COLUMNS[n])
		n++;
	assert_int_equal(n, 12);
	/* issue 15: moments, several in one quoted field, kept as written for
	 * the upload to send once the clip is ready */
	assert_int_equal(parse(&m, "file,moments\nc.mp4,\"0:45-2:10 station-rotation Groups, "
	                           "rotate; 3:00-3:40 peer-feedback Two stars\"\n", err), 0);
	assert_string_equal(field(&m, "c.mp4", "moments"), "0:45-2:10 station-rotation Groups, "
	                                                    "rotate; 3:00-3:40 peer-feedback Two stars");
	manifest_free(&m);
}

static void quoted_fields_hold_commas_and_quotes(void **state)
{
	(void)state;
	struct manifest m;
	char err[KD_ERRMSG_MAX];
	assert_int_equal(parse(&m, "file,practices,title,tags\n"
	                           "\"day 1, room 4.mp4\",\"station-rotation,differentiation\","
	                           "\"Say \"\"hi\"\", then sit\",\"\"\n", err), 0);
	assert_string_equal(field(&m, "day 1, room 4.mp4", "practices"),
	                    "station-rotation,differentiation");
	assert_string_equal(field(&m, "day 1, room 4.mp4", "title"), "Say \"hi\", then sit");
	assert_null(json_object_get(manifest_row(&m, "day 1, room 4.mp4"), "tags")); /* "" */
	manifest_free(&m);
	/* a quote left open runs to the end of the line */
	assert_int_equal(parse(&m, "file,title\na.mp4,\"open, never closed\n", err), 0);
	assert_string_equal(field(&m, "a.mp4", "title"), "open, never closed");
	manifest_free(&m);
}

static void crlf_and_blank_lines(void **state)
{
	(void)state;
	struct manifest m;
	char err[KD_ERRMSG_MAX];
	assert_int_equal(parse(&m, "\r\n\nfile,title\r\n\r\na.mp4,A\r\n\nb.mp4,B\r\n\r\n", err), 0);
	assert_int_equal(json_object_size(m.rows), 2);
	assert_string_equal(field(&m, "a.mp4", "title"), "A"); /* no \r kept */
	assert_string_equal(field(&m, "b.mp4", "title"), "B");
	manifest_free(&m);
	/* no line end at the end of the text */
	assert_int_equal(parse(&m, "file,grade\nc.mp4,K-2", err), 0);
	assert_string_equal(field(&m, "c.mp4", "grade"), "K-2");
	manifest_free(&m);
	/* nothing at all: no rows, no error */
	assert_int_equal(parse(&m, "", err), 0);
	assert_int_equal(json_object_size(m.rows), 0);
	manifest_free(&m);
}

static void errors_name_the_line_and_what_is_wrong(void **state)
{
	(void)state;
	struct manifest m;
	char err[KD_ERRMSG_MAX];
	assert_int_equal(parse(&m, "file,title,colour\na.mp4,A,red\n", err), -1);
	assert_non_null(strstr(err, "clips.csv line 1"));
	assert_non_null(strstr(err, "unknown column 'colour'"));
	assert_non_null(strstr(err, "visibility")); /* lists the known ones */
	manifest_free(&m);
	assert_int_equal(parse(&m, "File,title\n", err), -1); /* names are exact */
	assert_non_null(strstr(err, "unknown column 'File'"));
	manifest_free(&m);
	assert_int_equal(parse(&m, "title,teacher\nA,Ana\n", err), -1);
	assert_non_null(strstr(err, "clips.csv line 1"));
	assert_non_null(strstr(err, "'file' column"));
	manifest_free(&m);
	assert_int_equal(parse(&m, "file,title\na.mp4,A\n\n,No file\nc.mp4,C\n", err), -1);
	assert_string_equal(err, "clips.csv line 4: no file named");
	manifest_free(&m);
	assert_int_equal(parse(&m, "title,file\nOnly a title\n", err), -1);
	assert_string_equal(err, "clips.csv line 2: no file named");
	manifest_free(&m);
}

static void rows_are_found_by_path_or_base_name(void **state)
{
	(void)state;
	struct manifest m;
	char err[KD_ERRMSG_MAX];
	assert_int_equal(parse(&m, "file,title\nday1/a.mp4,Day one A\na.mp4,Any A\nb.mov,B\n", err),
	                 0);
	assert_string_equal(field(&m, "day1/a.mp4", "title"), "Day one A"); /* as given */
	assert_string_equal(field(&m, "/home/coach/day2/a.mp4", "title"), "Any A"); /* base */
	assert_string_equal(field(&m, "b.mov", "title"), "B");
	assert_string_equal(field(&m, "./clips/b.mov", "title"), "B");
	assert_null(manifest_row(&m, "c.mov"));
	assert_null(manifest_row(&m, "day1/c.mov"));
	assert_null(manifest_row(&m, "B.MOV"));
	assert_null(manifest_row(&m, "dir/"));
	manifest_free(&m);
	/* a freed (or never read) manifest has no rows */
	assert_null(manifest_row(&m, "b.mov"));
}

static void load_reads_a_file_or_says_why_not(void **state)
{
	(void)state;
	char dir[] = "/tmp/kd-manifest-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/clips.csv", dir);
	struct manifest m;
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(manifest_load(&m, path, err, sizeof err), -1);
	assert_null(m.rows);
	assert_non_null(strstr(err, "cannot read the manifest"));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));
	manifest_free(&m);
	FILE *f = fopen(path, "w");
	fputs("file,school\nx.mp4,alder\n", f);
	fclose(f);
	assert_int_equal(manifest_load(&m, path, err, sizeof err), 0);
	assert_string_equal(field(&m, "x.mp4", "school"), "alder");
	manifest_free(&m);
	/* messages are named by the path */
	f = fopen(path, "w");
	fputs("file\n\n\"\"\n", f);
	fclose(f);
	assert_int_equal(manifest_load(&m, path, err, sizeof err), -1);
	char want[192];
	snprintf(want, sizeof want, "%s line 3: no file named", path);
	assert_string_equal(err, want);
	manifest_free(&m);
	unlink(path);
	rmdir(dir);
}

static void excel_byte_order_mark_is_not_part_of_the_header(void **state)
{
	(void)state;
	struct manifest m;
	char err[KD_ERRMSG_MAX];
	int rc = parse(&m, "\xef\xbb\xbf" "file,title\na.mp4,A\n", err);
	if (rc != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(field(&m, "a.mp4", "title"), "A");
	manifest_free(&m);
}

static void text_that_is_not_utf8_is_refused_not_dropped(void **state)
{
	(void)state;
	struct manifest m;
	char err[KD_ERRMSG_MAX];
	int rc = parse(&m, "file,teacher\na.mp4,Ren\xe9" "e\n", err);
	if (rc == 0) {
		const char *teacher = field(&m, "a.mp4", "teacher");
		if (!teacher)
			fail_msg("the teacher of a.mp4 was dropped without a word");
	} else {
		assert_non_null(strstr(err, "line 2"));
	}
	manifest_free(&m);
	rc = parse(&m, "file,teacher\nR\xe9union.mp4,Ana\n", err);
	if (rc == 0)
		assert_int_equal(json_object_size(m.rows), 1);
	else
		assert_non_null(strstr(err, "line 2"));
	manifest_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_names_file_and_known_columns),
		cmocka_unit_test(quoted_fields_hold_commas_and_quotes),
		cmocka_unit_test(crlf_and_blank_lines),
		cmocka_unit_test(errors_name_the_line_and_what_is_wrong),
		cmocka_unit_test(rows_are_found_by_path_or_base_name),
		cmocka_unit_test(load_reads_a_file_or_says_why_not),
		cmocka_unit_test(excel_byte_order_mark_is_not_part_of_the_header),
		cmocka_unit_test(text_that_is_not_utf8_is_refused_not_dropped),
	};
	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
