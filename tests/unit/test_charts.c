/* test_charts.c - SVG charts: exact bar sizes, escaping, empty data. */
#include "helpers.h"
#include "web/charts.h"
#include "kindling/html.h"

static size_t occurrences(const char *s, const char *what)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void escaping(void **state)
{
	(void)state;
	/* the one escaper, as charts use it: markup escaped, controls dropped */
	struct kd_buf b = KD_BUF_INIT(1024);
	const char *s = "<b>\"Tom\" & 'Ana'</b>\x01\x1b[31m\tok\n";
	assert_int_equal(html_escape(&b, s, strlen(s)), 0);
	assert_string_equal(kd_buf_str(&b),
	                    "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Ana&#39;&lt;/b&gt;[31m\tok\n");
	kd_buf_reset(&b);
	assert_int_equal(html_escape(&b, "", 0), 0);
	assert_string_equal(kd_buf_str(&b), "");
	/* past the cap: KD_ETOOBIG (the writer then marks its page failed) */
	struct kd_buf small = KD_BUF_INIT(8);
	assert_int_equal(html_escape(&small, "<<<", 3), KD_ETOOBIG);
	kd_buf_release(&b);
	kd_buf_release(&small);
}

static void bars(void **state)
{
	(void)state;
	struct chart_item items[] = {
		{"station-rotation", 4}, {"student-choice", 2}, {"<script>alert(1)</script>", 1.5},
		{"negative", -3},
	};
	char *svg = chart_bars_svg("Clips by practice & <month>", items, 4);
	assert_true(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
	assert_true(strcmp(svg + strlen(svg) - 6, "</svg>") == 0);
	assert_int_equal(occurrences(svg, "<rect "), 4);
	/* the largest value spans the plot, the others in proportion */
	assert_non_null(strstr(svg, "width=\"360\" height=\"20\""));
	assert_non_null(strstr(svg, "width=\"180\" height=\"20\""));
	assert_non_null(strstr(svg, "width=\"135\" height=\"20\""));
	assert_non_null(strstr(svg, "width=\"0\" height=\"20\"")); /* negative: 0 */
	assert_non_null(strstr(svg, ">1.5</text>"));
	assert_non_null(strstr(svg, ">4</text>"));
	assert_null(strstr(svg, "<script"));
	assert_non_null(strstr(svg, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(svg, "<title>Clips by practice &amp; &lt;month&gt;</title>"));
	assert_int_equal(occurrences(svg, "<g>"), occurrences(svg, "</g>"));
	free(svg);
}

static void columns(void **state)
{
	(void)state;
	struct chart_item months[] = {{"2026-01", 1}, {"2026-02", 4}, {"2026-03", 0}};
	char *svg = chart_columns_svg("Clips by month", months, 3);
	assert_int_equal(occurrences(svg, "<rect "), 3);
	assert_non_null(strstr(svg, "height=\"160\" fill"));
	assert_non_null(strstr(svg, "height=\"40\" fill"));
	assert_non_null(strstr(svg, "height=\"0\" fill"));
	assert_non_null(strstr(svg, ">2026-02</text>"));
	free(svg);
	svg = chart_columns_svg("Nothing", NULL, 0);
	assert_non_null(strstr(svg, "no data"));
	assert_int_equal(occurrences(svg, "<rect "), 0);
	free(svg);
	svg = chart_bars_svg("Nothing", NULL, 0);
	assert_non_null(strstr(svg, "no data"));
	free(svg);
	struct chart_item zeros[] = {{"a", 0}, {"b", 0}};
	svg = chart_bars_svg("Zeros", zeros, 2);
	assert_int_equal(occurrences(svg, "width=\"0\""), 2);
	free(svg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escaping), cmocka_unit_test(bars), cmocka_unit_test(columns),
	};
	return cmocka_run_group_tests_name("charts", tests, NULL, NULL);
}
