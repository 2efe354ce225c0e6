/* test_csv.c - the bounded RFC 4180 reader (src/identity/csv.c). */
#include "helpers.h"

#include "identity/csv.h"

/* All records of text, as "a|b;c|d;" with the rows "2,3," after a '#'. */
static int read_all(const char *text, size_t len, char *out, size_t outlen, char *err,
                    size_t errlen)
{
	struct csv c;
	csv_open(&c, "t.csv", text, len);
	size_t n = 0;
	char rows[256] = "";
	int rc;
	out[0] = '\0';
	while ((rc = csv_next(&c, err, errlen)) == 1) {
		for (size_t i = 0; i < c.n; i++)
			n += (size_t)snprintf(out + n, outlen - n, "%s%s", i ? "|" : "", c.fields[i]);
		n += (size_t)snprintf(out + n, outlen - n, ";");
		snprintf(rows + strlen(rows), sizeof rows - strlen(rows), "%ld,", c.row);
	}
	snprintf(out + n, outlen - n, "#%s", rows);
	if (rc == 0)
		assert_int_equal(csv_next(&c, err, errlen), 0); /* the end stays the end */
	csv_close(&c);
	return rc;
}

static void expect(const char *text, const char *want)
{
	char out[4096], err[KD_ERRMSG_MAX] = "";
	int rc = read_all(text, strlen(text), out, sizeof out, err, sizeof err);
	if (rc != 0)
		fail_msg("'%s': %s", text, err);
	assert_string_equal(out, want);
}

static void expect_fail(const char *text, size_t len, int code, const char *msg)
{
	char out[4096], err[KD_ERRMSG_MAX] = "";
	int rc = read_all(text, len, out, sizeof out, err, sizeof err);
	assert_int_equal(rc, code);
	if (!strstr(err, msg))
		fail_msg("wanted '%s' in '%s'", msg, err);
}

static void test_plain(void **state)
{
	(void)state;
	expect("a,b\n1,2\n", "a|b;1|2;#1,2,");
	expect("a,b\n1,2", "a|b;1|2;#1,2,");        /* no newline at the end */
	expect("a,b\r\n1,2\r\n", "a|b;1|2;#1,2,");  /* CRLF */
	expect("a,b\r1,2\r", "a|b;1|2;#1,2,");      /* CR alone */
	expect("a,,b,\n", "a||b|;#1,");             /* empty fields, a trailing comma */
	expect(",\n", "|;#1,");
	expect("", "#");
	expect("x", "x;#1,");
}

static void test_bom_and_blank_lines(void **state)
{
	(void)state;
	expect("\xEF\xBB\xBFsourcedId,name\nA,B\n", "sourcedId|name;A|B;#1,2,");
	/* only at the very start: elsewhere it is a character like any other */
	expect("a\n\xEF\xBB\xBF" "b\n", "a;\xEF\xBB\xBF" "b;#1,2,");
	/* empty lines are skipped, and counted as the rows they are */
	expect("a\n\nb\r\n\r\nc\n\n", "a;b;c;#1,3,5,");
}

static void test_quotes(void **state)
{
	(void)state;
	expect("\"a,b\",c\n", "a,b|c;#1,");
	expect("\"say \"\"hi\"\"\",x\n", "say \"hi\"|x;#1,");
	expect("\"\",x\n", "|x;#1,");
	expect("\"\"\n", ";#1,"); /* a quoted empty field is a record, not a blank line */
	/* a line break inside quotes: one record, one row; the next is row 2 */
	expect("\"line 1\nline 2\",x\r\nnext,y\n", "line 1\nline 2|x;next|y;#1,2,");
	expect("\"crlf\r\ninside\"\n", "crlf\r\ninside;#1,");
	/* a quote inside an unquoted field is kept as it is */
	expect("5'10\",x\n", "5'10\"|x;#1,");
	expect("Chlo\xC3\xA9,M\xC3\xBCller\n", "Chlo\xC3\xA9|M\xC3\xBCller;#1,");
}

static void test_malformed(void **state)
{
	(void)state;
	expect_fail("a,b\n\"open,x\n", 11, KD_EINVAL, "t.csv row 2: a quoted field opened in row 2");
	expect_fail("a\n\"closed\"x,y\n", 14, KD_EINVAL, "t.csv row 2: field 1 has text after");
	expect_fail("a,\"b\" ,c\n", 9, KD_EINVAL, "row 1: field 2 has text after its closing quote");
	expect_fail("a\nb\xFF\n", 5, KD_EINVAL, "row 2: field 1 is not UTF-8");
	expect_fail("a,b\x00" "c\n", 6, KD_EINVAL, "row 1: field 2 is not UTF-8");
	expect_fail("\xC0\xAF\n", 3, KD_EINVAL, "not UTF-8");       /* overlong */
	expect_fail("\xED\xA0\x80\n", 4, KD_EINVAL, "not UTF-8");   /* a surrogate */
	expect_fail("ok,\xE2\x82\n", 6, KD_EINVAL, "not UTF-8");    /* cut short */
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(csv_utf8_valid((const unsigned char *)"", 0));
	assert_true(csv_utf8_valid((const unsigned char *)"\xF0\x9F\x98\x80", 4));
	assert_true(csv_utf8_valid((const unsigned char *)"\xF4\x8F\xBF\xBF", 4));
	assert_false(csv_utf8_valid((const unsigned char *)"\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(csv_utf8_valid((const unsigned char *)"\xE0\x80\x80", 3));     /* overlong */
	assert_false(csv_utf8_valid((const unsigned char *)"\x80", 1));
	assert_false(csv_utf8_valid((const unsigned char *)"a\0b", 3));
}

/* A text of n copies of c. */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_field_bound(void **state)
{
	(void)state;
	char *f = repeat('x', CSV_FIELD_MAX);
	char *text = malloc(CSV_FIELD_MAX + 16), out[8192], err[KD_ERRMSG_MAX];
	int n = sprintf(text, "a,%s\n", f);
	struct csv c;
	csv_open(&c, "t.csv", text, (size_t)n);
	assert_int_equal(csv_next(&c, err, sizeof err), 1);
	assert_int_equal(strlen(c.fields[1]), CSV_FIELD_MAX);
	csv_close(&c);
	n = sprintf(text, "a,%sx\n", f);
	expect_fail(text, (size_t)n, KD_ETOOBIG, "row 1: field 2 is longer than 4096 bytes");
	/* the bound is on the field unquoted: 4096 quotes written as 8192 pass */
	char *quotes = malloc(2 * CSV_FIELD_MAX + 8);
	quotes[0] = '"';
	for (int i = 0; i < CSV_FIELD_MAX; i++)
		quotes[1 + 2 * i] = quotes[2 + 2 * i] = '"';
	strcpy(quotes + 1 + 2 * CSV_FIELD_MAX, "\"\n");
	assert_int_equal(read_all(quotes, strlen(quotes), out, sizeof out, err, sizeof err), 0);
	free(quotes);
	free(f);
	free(text);
}

static void test_record_bound(void **state)
{
	(void)state;
	/* 20 fields of 4000 bytes: each within its bound, the row over 64 KiB */
	size_t len = 20 * 4001 + 2;
	char *text = malloc(len + 1), *p = text, err[KD_ERRMSG_MAX], out[64];
	for (int i = 0; i < 20; i++) {
		memset(p, 'y', 4000);
		p += 4000;
		*p++ = i < 19 ? ',' : '\n';
	}
	*p = '\0';
	expect_fail(text, strlen(text), KD_ETOOBIG, "t.csv row 1: the row is longer than 65536");
	/* one line of 1 MiB without a comma or line break: refused at 64 KiB */
	char *line = repeat('z', 1 << 20);
	expect_fail(line, 1 << 20, KD_ETOOBIG, "longer than 65536");
	/* an open quote that runs to the end of a large file: the same */
	line[0] = '"';
	expect_fail(line, 1 << 20, KD_ETOOBIG, "longer than 65536");
	/* and a small one says what is wrong */
	assert_int_equal(read_all("\"abc", 4, out, sizeof out, err, sizeof err), KD_EINVAL);
	free(line);
	free(text);
}

static void test_rows_bound(void **state)
{
	(void)state;
	/* the header and CSV_ROWS_MAX rows pass; one more is refused */
	size_t len = 2 + 2 * (size_t)CSV_ROWS_MAX + 2;
	char *text = malloc(len + 1);
	memcpy(text, "h\n", 2);
	for (long i = 0; i < CSV_ROWS_MAX; i++)
		memcpy(text + 2 + 2 * i, "r\n", 2);
	struct csv c;
	char err[KD_ERRMSG_MAX];
	csv_open(&c, "t.csv", text, 2 + 2 * (size_t)CSV_ROWS_MAX);
	long records = 0;
	int rc;
	while ((rc = csv_next(&c, err, sizeof err)) == 1)
		records++;
	assert_int_equal(rc, 0);
	assert_int_equal(records, CSV_ROWS_MAX + 1);
	csv_close(&c);
	memcpy(text + 2 + 2 * CSV_ROWS_MAX, "r\n", 2);
	csv_open(&c, "t.csv", text, len);
	while ((rc = csv_next(&c, err, sizeof err)) == 1)
		;
	assert_int_equal(rc, KD_ETOOBIG);
	char want[96];
	snprintf(want, sizeof want, "t.csv row %ld: more than %ld rows", CSV_ROWS_MAX + 2,
	         CSV_ROWS_MAX);
	assert_non_null(strstr(err, want));
	csv_close(&c);
	/* empty lines are not rows of data: a file of them is read to its end */
	char *blank = repeat('\n', 3 * (size_t)CSV_ROWS_MAX);
	blank[0] = 'h';
	csv_open(&c, "t.csv", blank, strlen(blank));
	assert_int_equal(csv_next(&c, err, sizeof err), 1);
	assert_int_equal(csv_next(&c, err, sizeof err), 0);
	csv_close(&c);
	free(blank);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_bom_and_blank_lines),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_field_bound),
		cmocka_unit_test(test_record_bound),
		cmocka_unit_test(test_rows_bound),
	};
	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
