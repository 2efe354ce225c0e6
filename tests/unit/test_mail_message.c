/* test_mail_message.c - rendering a message (mail/message.c): addresses,
 * headers that no title or name can break into (CR/LF), RFC 2047 words
 * that decode to what was given, quoted-printable bodies within the line
 * limits that decode back, attachments in base64, random boundaries.
 * (Python's email parser reads real ones in tests/integration/mail.sh.) */
#include <sodium.h>
#include <stdio.h>
#include <time.h>

#include "helpers.h"
#include "kindling/buf.h"
#include "kindling/mail.h"
#include "kindling/mem.h"

static void addresses(void **state)
{
	(void)state;
	struct { const char *in, *want; } cases[] = {
		{"a@b.org", "a@b.org"},
		{"kindling <kindling@district.org>", "kindling@district.org"},
		{"\"Kindling, district\" <k.d+mail@district.org>", "k.d+mail@district.org"},
		{"  spaced@x.org  ", "spaced@x.org"},
		{"no-at", NULL},
		{"a@", NULL},
		{"@b.org", NULL},
		{"a b@c.org", NULL},
		{"a@b.org\r\nBcc: x@y.org", NULL},
		{"Name <a@b.org", NULL},
		{"Name <a@b.org> trailing", NULL},
		{"a@b@c.org", NULL},
		{"a@b.org,c@d.org", NULL},
		{"<>", NULL},
		{"z\xc3\xbc@b.org", NULL},
		{"", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *got = mail_address_of(cases[i].in);
		if (cases[i].want) {
			assert_non_null(got);
			assert_string_equal(got, cases[i].want);
		} else if (got) {
			fail_msg("'%s' taken as address '%s'", cases[i].in, got);
		}
		free(got);
	}
	assert_null(mail_address_of(NULL));
}

/* The header block of a rendered message, and the body after it. */
static const char *body_of(const char *msg)
{
	const char *b = strstr(msg, "\r\n\r\n");
	assert_non_null(b);
	return b + 4;
}

/* The header named name (with its folded lines, unfolded), or NULL. */
static char *header(const char *msg, const char *name)
{
	const char *end = body_of(msg) - 2;
	size_t n = strlen(name);
	for (const char *l = msg; l < end; l = strstr(l, "\r\n") + 2) {
		if (strncmp(l, name, n) || l[n] != ':')
			continue;
		struct kd_buf b = KD_BUF_INIT(1 << 16);
		const char *v = l + n + 1;
		while (*v == ' ')
			v++;
		for (;;) {
			const char *eol = strstr(v, "\r\n");
			kd_buf_append(&b, v, (size_t)(eol - v));
			if (eol[2] != ' ' && eol[2] != '\t')
				break;
			v = eol + 2; /* unfold: CRLF goes, the space stays */
		}
		return kd_buf_take(&b, NULL);
	}
	return NULL;
}

/* RFC 2047 B words decoded (only those; the rest kept), whitespace
 * between two words dropped as the RFC says. */
static char *decode_words(const char *v)
{
	struct kd_buf b = KD_BUF_INIT(1 << 16);
	bool last_word = false;
	while (*v) {
		if (!strncmp(v, "=?UTF-8?B?", 10)) {
			const char *e = strstr(v + 10, "?=");
			assert_non_null(e);
			unsigned char raw[256];
			size_t n = 0;
			assert_int_equal(sodium_base642bin(raw, sizeof raw, v + 10, (size_t)(e - v - 10),
			                                   NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
			kd_buf_append(&b, raw, n);
			v = e + 2;
			last_word = true;
			continue;
		}
		if (*v == ' ' && last_word) {
			const char *s = v;
			while (*s == ' ')
				s++;
			if (!strncmp(s, "=?UTF-8?B?", 10)) {
				v = s;
				continue;
			}
		}
		last_word = false;
		kd_buf_putc(&b, *v++);
	}
	return kd_buf_take(&b, NULL);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Quoted-printable decoded, up to the line "--" boundary. */
static char *decode_qp(const char *s, const char *stop)
{
	struct kd_buf b = KD_BUF_INIT(1 << 20);
	const char *end = strstr(s, stop);
	assert_non_null(end);
	while (s < end) {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=') {
			assert_true(hexval(s[1]) >= 0 && hexval(s[2]) >= 0);
			kd_buf_putc(&b, (char)(hexval(s[1]) * 16 + hexval(s[2])));
			s += 3;
		} else {
			kd_buf_putc(&b, *s++);
		}
	}
	return kd_buf_take(&b, NULL);
}

static void check_lines(const char *msg)
{
	/* every line ends CRLF, no bare CR or LF, none longer than 78 */
	for (const char *l = msg; *l;) {
		const char *eol = strstr(l, "\r\n");
		assert_non_null(eol);
		for (const char *c = l; c < eol; c++)
			assert_true(*c != '\r' && *c != '\n');
		if (eol - l > 78)
			fail_msg("a line of %d characters: %.100s", (int)(eol - l), l);
		l = eol + 2;
	}
}

static struct mail_message sample(void)
{
	struct mail_message m = {
		.to_addr = kd_strdup("rosa@river.example.org"),
		.to_name = kd_strdup("Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m"),
		.subject = kd_strdup("Visit request: Fractions\r\nBcc: evil@attacker.example\r\n"
		                     "X-Evil: 1 \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e title that goes on "
		                     "and on past the end of one line"),
		.text = kd_strdup("Hello Zo\xc3\xab,\n.a line with a dot\nx=1 and a trailing space \n"
		                  "A very long line: 0123456789 0123456789 0123456789 0123456789 "
		                  "0123456789 0123456789 0123456789 0123456789 0123456789 end\n"),
		.html = kd_strdup("<p>Hello Zo&euml;</p>"),
	};
	return m;
}

static void headers_are_safe_and_decode(void **state)
{
	(void)state;
	struct mail_message m = sample();
	struct mail_envelope env = {.from = "Kindling \"district\" <kindling@district.example.org>",
	                            .message_id = "<kindling.1.abc@kindling.example.org>",
	                            .unsubscribe_url = "https://k.example.org/mail/unsubscribe?m=1&s=abc",
	                            .date = 0};
	struct kd_buf out = KD_BUF_INIT(0);
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(mail_render(&m, &env, &out, err, sizeof err), 0);
	const char *msg = kd_buf_str(&out);
	check_lines(msg);
	/* nothing the subject carried starts a header of its own */
	const char *hdr_end = body_of(msg);
	for (const char *l = msg; l < hdr_end; l = strstr(l, "\r\n") + 2) {
		assert_false(!strncmp(l, "Bcc", 3));
		assert_false(!strncmp(l, "X-Evil", 6));
	}
	char *subject = header(msg, "Subject");
	char *decoded = decode_words(subject);
	assert_string_equal(decoded, "Visit request: Fractions Bcc: evil@attacker.example X-Evil: 1 "
	                             "\xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e title that goes on "
	                             "and on past the end of one line");
	free(subject);
	free(decoded);

	char *to = header(msg, "To");
	decoded = decode_words(to);
	assert_string_equal(decoded, "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m <rosa@river.example.org>");
	free(to);
	free(decoded);
	char *from = header(msg, "From");
	assert_string_equal(from, "\"Kindling \\\"district\\\"\" <kindling@district.example.org>");
	free(from);

	char *v = header(msg, "Date");
	assert_string_equal(v, "Thu, 01 Jan 1970 00:00:00 +0000");
	free(v);
	v = header(msg, "Message-ID");
	assert_string_equal(v, "<kindling.1.abc@kindling.example.org>");
	free(v);
	v = header(msg, "List-Unsubscribe");
	assert_string_equal(v, " <https://k.example.org/mail/unsubscribe?m=1&s=abc>");
	free(v);
	v = header(msg, "List-Unsubscribe-Post");
	assert_string_equal(v, "List-Unsubscribe=One-Click");
	free(v);
	v = header(msg, "Auto-Submitted");
	assert_string_equal(v, "auto-generated");
	free(v);
	v = header(msg, "MIME-Version");
	assert_string_equal(v, "1.0");
	free(v);
	v = header(msg, "Content-Type");
	assert_non_null(strstr(v, "multipart/alternative; boundary=\"=_kd_"));
	free(v);
	kd_buf_release(&out);

	/* no link, no List-Unsubscribe; a plain ASCII subject as it is */
	free(m.subject);
	m.subject = kd_strdup("Your clips are processed");
	free(m.to_name);
	m.to_name = NULL;
	env.unsubscribe_url = NULL;
	assert_int_equal(mail_render(&m, &env, &out, err, sizeof err), 0);
	msg = kd_buf_str(&out);
	assert_null(strstr(msg, "List-Unsubscribe"));
	v = header(msg, "Subject");
	assert_string_equal(v, "Your clips are processed");
	free(v);
	v = header(msg, "To");
	assert_string_equal(v, "<rosa@river.example.org>");
	free(v);
	kd_buf_release(&out);
	mail_message_free(&m);
}

static void bodies_round_trip(void **state)
{
	(void)state;
	struct mail_message m = sample();
	struct mail_envelope env = {.from = "k@district.example.org", .message_id = "<a@b>", .date = 1};
	struct kd_buf out = KD_BUF_INIT(0);
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(mail_render(&m, &env, &out, err, sizeof err), 0);
	const char *msg = kd_buf_str(&out);
	check_lines(msg);
	const char *text = strstr(msg, "Content-Type: text/plain; charset=UTF-8\r\n"
	                               "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	assert_non_null(text);
	text = strstr(text, "\r\n\r\n") + 4;
	char *plain = decode_qp(text, "\r\n--=_kd_");
	assert_string_equal(plain, "Hello Zo\xc3\xab,\r\n.a line with a dot\r\nx=1 and a trailing space \r\n"
	                           "A very long line: 0123456789 0123456789 0123456789 0123456789 "
	                           "0123456789 0123456789 0123456789 0123456789 0123456789 end\r\n");
	free(plain);
	/* a line never starts with a dot (SMTP's end of data, should any
	 * relay not stuff it) and never ends in a space */
	assert_null(strstr(msg, "\r\n."));
	assert_null(strstr(msg, " \r\n"));
	const char *html = strstr(msg, "Content-Type: text/html; charset=UTF-8\r\n");
	assert_non_null(html);
	html = strstr(html, "\r\n\r\n") + 4;
	char *h = decode_qp(html, "\r\n--=_kd_");
	assert_string_equal(h, "<p>Hello Zo&euml;</p>\r\n");
	free(h);
	kd_buf_release(&out);
	mail_message_free(&m);
}

static void attachments_and_boundaries(void **state)
{
	(void)state;
	struct mail_message m = sample();
	const char ics[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
	m.n_attach = 1;
	m.attach = kd_calloc(1, sizeof *m.attach);
	m.attach[0].filename = kd_strdup("visit \"7\".ics");
	m.attach[0].content_type = kd_strdup("text/calendar; method=PUBLISH; charset=UTF-8");
	m.attach[0].data = kd_strdup(ics);
	m.attach[0].len = strlen(ics);
	struct mail_envelope env = {.from = "k@district.example.org", .message_id = "<a@b>"};
	struct kd_buf one = KD_BUF_INIT(0), two = KD_BUF_INIT(0);
	char err[KD_ERRMSG_MAX] = "";
	assert_int_equal(mail_render(&m, &env, &one, err, sizeof err), 0);
	assert_int_equal(mail_render(&m, &env, &two, err, sizeof err), 0);
	const char *msg = kd_buf_str(&one);
	check_lines(msg);
	char *ct = header(msg, "Content-Type");
	assert_non_null(strstr(ct, "multipart/mixed; boundary=\"=_kd_"));
	/* random boundaries: two renders differ there */
	char *ct2 = header(kd_buf_str(&two), "Content-Type");
	assert_string_not_equal(ct, ct2);
	free(ct);
	free(ct2);
	const char *a = strstr(msg, "Content-Type: text/calendar; method=PUBLISH; charset=UTF-8;\r\n"
	                            " name=\"visit__7_.ics\"\r\n"
	                            "Content-Disposition: attachment;\r\n filename=\"visit__7_.ics\"\r\n"
	                            "Content-Transfer-Encoding: base64\r\n\r\n");
	assert_non_null(a);
	a = strstr(a, "\r\n\r\n") + 4;
	const char *end = strstr(a, "\r\n\r\n--");
	assert_non_null(end);
	unsigned char raw[256];
	size_t n = 0;
	assert_int_equal(sodium_base642bin(raw, sizeof raw, a, (size_t)(end - a), "\r\n", &n, NULL,
	                                   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(n, strlen(ics));
	assert_memory_equal(raw, ics, n);
	/* the closing boundary ends the message */
	size_t len = strlen(msg);
	assert_true(len > 4 && !strcmp(msg + len - 4, "--\r\n"));
	kd_buf_release(&one);
	kd_buf_release(&two);
	mail_message_free(&m);
}

static void refusals(void **state)
{
	(void)state;
	struct mail_message m = sample();
	struct mail_envelope env = {.from = "k@district.example.org", .message_id = "<a@b>"};
	struct kd_buf out = KD_BUF_INIT(0);
	char err[KD_ERRMSG_MAX] = "";
	free(m.to_addr);
	m.to_addr = kd_strdup("rosa@river.example.org\r\nBcc: x@y.org");
	assert_int_equal(mail_render(&m, &env, &out, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "recipient"));
	free(m.to_addr);
	m.to_addr = kd_strdup("rosa@river.example.org");
	env.from = "not an address";
	assert_int_equal(mail_render(&m, &env, &out, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "mail_from"));
	env.from = "k@district.example.org";
	env.unsubscribe_url = "https://x/\r\nBcc: y@z";
	assert_int_equal(mail_render(&m, &env, &out, err, sizeof err), KD_EINVAL);
	env.unsubscribe_url = NULL;
	/* invalid UTF-8 in a name becomes '?', still encoded */
	free(m.subject);
	m.subject = kd_strdup("bad \xff\xfe bytes \xc3");
	assert_int_equal(mail_render(&m, &env, &out, err, sizeof err), 0);
	char *s = header(kd_buf_str(&out), "Subject");
	char *d = decode_words(s);
	assert_string_equal(d, "bad ?? bytes ?");
	free(s);
	free(d);
	kd_buf_release(&out);
	mail_message_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(addresses),
		cmocka_unit_test(headers_are_safe_and_decode),
		cmocka_unit_test(bodies_round_trip),
		cmocka_unit_test(attachments_and_boundaries),
		cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests_name("mail_message", tests, NULL, NULL);
}
