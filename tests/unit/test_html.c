/* test_html.c - the escaping HTML writer, search marks, form bodies and
 * URL encoding (src/web/html.h). */
#include <stdio.h>

#include "helpers.h"
#include "kindling/html.h"

static void text_and_attributes_are_escaped(void **state)
{
	(void)state;
	struct html h;
	html_init(&h, 4096);
	html_raw(&h, "<p title=\"");
	html_attr(&h, "\"><script>alert('x')</script>");
	html_raw(&h, "\">");
	html_text(&h, "<img src=x onerror=alert(1)> & 'so' \"on\"");
	html_textf(&h, " %s %d", "<b>", 5);
	html_text(&h, NULL);
	html_raw(&h, "</p>");
	assert_false(html_failed(&h));
	assert_string_equal(kd_buf_str(&h.b),
	                    "<p title=\"&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\">"
	                    "&lt;img src=x onerror=alert(1)&gt; &amp; &#39;so&#39; &quot;on&quot;"
	                    " &lt;b&gt; 5</p>");
	html_release(&h);

	/* a long formatted value is escaped whole */
	char big[600];
	memset(big, '<', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	html_init(&h, 8192);
	html_attrf(&h, "%s", big);
	assert_int_equal(h.b.len, 4 * (sizeof big - 1));
	html_release(&h);

	/* past the cap the writer stops and says so */
	html_init(&h, 16);
	html_text(&h, "0123456789");
	html_text(&h, "0123456789");
	assert_true(html_failed(&h));
	html_release(&h);
}

static const char *marked(const char *text, const char *query, struct html *h)
{
	html_release(h);
	html_init(h, 4096);
	html_text_marked(h, text, query);
	return kd_buf_str(&h->b);
}

static void search_words_are_marked_after_escaping(void **state)
{
	(void)state;
	struct html h;
	html_init(&h, 4096);
	assert_string_equal(marked("Ana Ruiz & co", "ruiz", &h), "Ana <mark>Ruiz</mark> &amp; co");
	/* the last word is a prefix, the others whole words */
	assert_string_equal(marked("Differentiation in differ land", "differ land", &h),
	                    "Differentiation in <mark>differ</mark> <mark>land</mark>");
	assert_string_equal(marked("Differentiation in maths", "differ", &h),
	                    "<mark>Differentiation</mark> in maths");
	assert_string_equal(marked("Differentiation", "differ ", &h), "<mark>Differentiation</mark>");
	assert_string_equal(marked("Differentiation", "differ. !", &h), "Differentiation");
	/* markup in the text or the query never becomes markup */
	assert_string_equal(marked("<img src=x onerror=alert(1)>", "img", &h),
	                    "&lt;<mark>img</mark> src=x onerror=alert(1)&gt;");
	assert_string_equal(marked("a <mark> b", "<mark>", &h),
	                    "a &lt;<mark>mark</mark>&gt; b");
	assert_string_equal(marked("plain", NULL, &h), "plain");
	assert_string_equal(marked("plain", "\"\"''", &h), "plain");
	html_release(&h);
}

static void forms_and_urls(void **state)
{
	(void)state;
	const char *body = "name=Ana+Ruiz&password=p%26ss%3D1&practices=a&practices=b&empty=&flag"
	                   "&nul=x%00y&bad=%zz%4";
	size_t n = strlen(body);
	char *v;
	assert_string_equal(v = form_value(body, n, "name", 0), "Ana Ruiz");
	free(v);
	assert_string_equal(v = form_value(body, n, "password", 0), "p&ss=1");
	free(v);
	assert_string_equal(v = form_value(body, n, "practices", 1), "b");
	free(v);
	assert_null(form_value(body, n, "practices", 2));
	assert_string_equal(v = form_value(body, n, "empty", 0), "");
	free(v);
	assert_string_equal(v = form_value(body, n, "flag", 0), "");
	free(v);
	assert_string_equal(v = form_value(body, n, "nul", 0), "xy");
	free(v);
	assert_string_equal(v = form_value(body, n, "bad", 0), "%zz%4");
	free(v);
	assert_null(form_value(body, n, "nam", 0));
	assert_null(form_value(NULL, 0, "name", 0));

	struct kd_buf b = KD_BUF_INIT(256);
	html_url_encode(&b, "/clips/1?q=a b&c=\"<x>\"");
	assert_string_equal(kd_buf_str(&b), "/clips/1%3Fq%3Da%20b%26c%3D%22%3Cx%3E%22");
	kd_buf_release(&b);
}

static void repeated_form_fields_keep_their_order_and_empties(void **state)
{
	(void)state;
	/* the form's repeated fields: the n-th value, empty ones kept */
	const char *body = "dates=2030-05-14&dates=&dates=2030-05-21&note=a+%3Cb%3E";
	char *d0 = form_value(body, strlen(body), "dates", 0);
	char *d1 = form_value(body, strlen(body), "dates", 1);
	char *d2 = form_value(body, strlen(body), "dates", 2);
	char *d3 = form_value(body, strlen(body), "dates", 3);
	char *note = form_value(body, strlen(body), "note", 0);
	assert_string_equal(d0, "2030-05-14");
	assert_string_equal(d1, "");
	assert_string_equal(d2, "2030-05-21");
	assert_null(d3);
	assert_string_equal(note, "a <b>");
	free(d0), free(d1), free(d2), free(note);
}

static void charts_go_in_as_made(void **state)
{
	(void)state;
	/* a chart goes in as made (its text escaped by charts.c); NULL adds nothing */
	struct html h;
	html_init(&h, 1 << 16);
	html_chart(&h, NULL);
	char *svg = malloc(16);
	strcpy(svg, "<svg></svg>");
	html_chart(&h, svg);
	assert_string_equal(kd_buf_str(&h.b), "<svg></svg>");
	html_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_and_attributes_are_escaped),
		cmocka_unit_test(search_words_are_marked_after_escaping),
		cmocka_unit_test(forms_and_urls),
		cmocka_unit_test(repeated_form_fields_keep_their_order_and_empties),
		cmocka_unit_test(charts_go_in_as_made),
	};
	return cmocka_run_group_tests_name("html", tests, NULL, NULL);
}
