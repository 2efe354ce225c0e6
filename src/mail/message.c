/* message.c - a composed message as the bytes SMTP carries (mail.h):
 * RFC 5322 headers with every piece of text from a person or the
 * catalogue (a title, a name) made safe first (controls become spaces, so
 * no CR or LF reaches a header) and RFC 2047-encoded when it is not plain
 * ASCII; a MIME body of plain text and HTML (quoted-printable), wrapped
 * with the attachments (base64) when there are any. */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kindling/err.h"
#include "kindling/mail.h"
#include "kindling/mem.h"

/* A rendered message is at most this big (the .ics is small; a digest's
 * HTML a few hundred KB at worst). */
#define MESSAGE_MAX (20u * 1024 * 1024)
/* RFC 5322's recommended line length, which encoded words and folded
 * headers keep to. */
#define LINE_MAX_CHARS 76

void mail_message_free(struct mail_message *m)
{
	if (!m)
		return;
	free(m->to_addr);
	free(m->to_name);
	free(m->subject);
	free(m->text);
	free(m->html);
	for (size_t i = 0; i < m->n_attach; i++) {
		free(m->attach[i].filename);
		free(m->attach[i].content_type);
		free(m->attach[i].data);
	}
	free(m->attach);
	memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ addresses */

/* An address we will put in an envelope and a header: printable ASCII,
 * one '@' between a local part and a domain, none of the characters that
 * would need quoting (or could end the header or the angle brackets). */
static bool address_ok(const char *a, size_t n)
{
	if (n < 3 || n > 254)
		return false;
	size_t at = n;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c <= 0x20 || c >= 0x7f || strchr("<>()[]\\,;:\"", c))
			return false;
		if (c == '@') {
			if (at != n)
				return false;
			at = i;
		}
	}
	return at > 0 && at < n - 1 && a[n - 1] != '.' && a[at + 1] != '.';
}

char *mail_address_of(const char *from)
{
	if (!from)
		return NULL;
	const char *lt = strrchr(from, '<');
	const char *start = from, *end = from + strlen(from);
	if (lt) {
		const char *gt = strchr(lt, '>');
		if (!gt || gt[1] != '\0')
			return NULL;
		start = lt + 1;
		end = gt;
	} else {
		while (*start == ' ' || *start == '\t')
			start++;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
	}
	if (!address_ok(start, (size_t)(end - start)))
		return NULL;
	return kd_strndup(start, (size_t)(end - start));
}

/* The display name of "Name <addr>" ("" when none), unquoted, as a new
 * string. */
static char *display_name_of(const char *from)
{
	const char *lt = strrchr(from, '<');
	if (!lt)
		return kd_strdup("");
	const char *s = from, *e = lt;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e - s >= 2 && *s == '"' && e[-1] == '"') {
		s++;
		e--;
	}
	return kd_strndup(s, (size_t)(e - s));
}

/* ------------------------------------------------------------ header text */

/* The length of the valid UTF-8 sequence at s (of n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
	             : (c & 0xf8) == 0xf0 ? 4 : 0;
	if (len == 0 || len > n || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4))
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (len == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)))
		return 0; /* overlong, or a surrogate */
	if (len == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)))
		return 0;
	return len;
}

/* text as one line of valid UTF-8: every control (CR, LF, TAB, C1's NEL
 * included) becomes a space, runs of spaces one, invalid bytes '?', ends
 * trimmed.  A new string. */
static char *one_line(const char *text)
{
	const unsigned char *s = (const unsigned char *)(text ? text : "");
	size_t n = strlen((const char *)s);
	char *out = kd_malloc(n + 1), *o = out;
	bool space = true; /* (drops leading spaces) */
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(s + i, n - i);
		bool blank = len == 1 ? (s[i] < 0x20 || s[i] == 0x7f || s[i] == ' ')
		             : len == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0; /* C1 controls */
		if (len == 0) {
			*o++ = '?';
			space = false;
			i++;
			continue;
		}
		if (blank) {
			if (!space)
				*o++ = ' ';
			space = true;
		} else {
			memcpy(o, s + i, len);
			o += len;
			space = false;
		}
		i += len;
	}
	while (o > out && o[-1] == ' ')
		o--;
	*o = '\0';
	return out;
}

static bool plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Append RFC 2047 B encoded words for text (one line of valid UTF-8),
 * none splitting a character, folded onto lines of their own after the
 * first so that no line passes 76 characters.  *col: where the first
 * starts; on return, where the last ends. */
static int put_encoded_words(struct kd_buf *b, const char *text, size_t *col)
{
	static const char pre[] = "=?UTF-8?B?", post[] = "?=";
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), i = 0;
	int rc = 0;
	bool first = true;
	while (i < n && rc == 0) {
		/* base64 of k bytes is 4k/3 characters, plus the 12 around them */
		long room = (long)LINE_MAX_CHARS - (long)(first ? *col : 1) - 12;
		if (first && room < 16) { /* (no room left on the first line: start on the next) */
			first = false;
			continue;
		}
		size_t chunk_max = (size_t)room / 4 * 3;
		size_t take = 0;
		while (i + take < n) {
			size_t len = utf8_len(s + i + take, n - i - take);
			if (len == 0)
				len = 1; /* (one_line left none; a stray byte is still encoded) */
			if (take + len > chunk_max)
				break;
			take += len;
		}
		char b64[sodium_base64_ENCODED_LEN(60, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof b64, s + i, take, sodium_base64_VARIANT_ORIGINAL);
		if (!first) {
			rc = kd_buf_puts(b, "\r\n ");
			*col = 1;
		}
		if (rc == 0)
			rc = kd_buf_printf(b, "%s%s%s", pre, b64, post);
		*col += strlen(b64) + 12;
		first = false;
		i += take;
	}
	return rc;
}

/* Append "Name: value\r\n" for unstructured text (Subject): as it is
 * when plain ASCII that fits a line and cannot be mistaken for an encoded
 * word, else encoded. */
static int put_text_header(struct kd_buf *b, const char *name, const char *value)
{
	char *v = one_line(value);
	int rc = kd_buf_printf(b, "%s: ", name);
	size_t col = strlen(name) + 2;
	if (rc == 0) {
		if (plain_ascii(v) && col + strlen(v) <= 78 && !strstr(v, "=?"))
			rc = kd_buf_puts(b, v);
		else if (*v)
			rc = put_encoded_words(b, v, &col);
	}
	if (rc == 0)
		rc = kd_buf_puts(b, "\r\n");
	free(v);
	return rc;
}

/* A display name as a phrase: a quoted string when plain ASCII, encoded
 * words otherwise.  *col as put_encoded_words. */
static int put_phrase(struct kd_buf *b, const char *name, size_t *col)
{
	char *v = one_line(name);
	int rc = 0;
	if (!*v) {
		free(v);
		return 0;
	}
	if (plain_ascii(v) && !strstr(v, "=?") && strlen(v) <= 60) {
		rc = kd_buf_putc(b, '"');
		for (const char *c = v; rc == 0 && *c; c++) {
			if (*c == '"' || *c == '\\')
				rc = kd_buf_putc(b, '\\');
			if (rc == 0)
				rc = kd_buf_putc(b, *c);
		}
		if (rc == 0)
			rc = kd_buf_putc(b, '"');
		*col += strlen(v) + 2;
	} else {
		rc = put_encoded_words(b, v, col);
	}
	free(v);
	return rc;
}

static int put_address_header(struct kd_buf *b, const char *name, const char *display,
                              const char *addr)
{
	int rc = kd_buf_printf(b, "%s: ", name);
	size_t col = strlen(name) + 2;
	if (rc == 0 && display && *display) {
		rc = put_phrase(b, display, &col);
		/* the address on a line of its own when it would not fit */
		if (rc == 0)
			rc = kd_buf_puts(b, col + strlen(addr) + 3 > LINE_MAX_CHARS ? "\r\n " : " ");
	}
	if (rc == 0)
		rc = kd_buf_printf(b, "<%s>\r\n", addr);
	return rc;
}

/* RFC 5322's date, in English whatever the locale. */
static int put_date(struct kd_buf *b, time_t t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return KD_EINVAL;
	return kd_buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
	                     tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	                     tm.tm_min, tm.tm_sec);
}

/* ------------------------------------------------------------ bodies */

/* Quoted-printable (RFC 2045) of text, its line ends (LF or CRLF) as
 * CRLF.  Lines of at most 76 characters; trailing spaces, '=', a '.' that
 * starts a line and everything not printable ASCII encoded. */
static int put_qp(struct kd_buf *b, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)(text ? text : "");
	size_t col = 0;
	int rc = 0;
	for (size_t i = 0; s[i] && rc == 0; i++) {
		unsigned char c = s[i];
		if (c == '\r' && s[i + 1] == '\n')
			continue;
		if (c == '\n') {
			rc = kd_buf_puts(b, "\r\n");
			col = 0;
			continue;
		}
		bool at_eol = s[i + 1] == '\0' || s[i + 1] == '\n' ||
		              (s[i + 1] == '\r' && s[i + 2] == '\n');
		bool plain = (c >= 33 && c <= 126 && c != '=' && !(c == '.' && col == 0)) ||
		             ((c == ' ' || c == '\t') && !at_eol);
		size_t w = plain ? 1 : 3;
		if (col + w > LINE_MAX_CHARS - 1) {
			rc = kd_buf_puts(b, "=\r\n");
			col = 0;
			if (rc)
				break;
			plain = plain && c != '.';
			w = plain ? 1 : 3;
		}
		if (plain) {
			rc = kd_buf_putc(b, (char)c);
		} else {
			char e[3] = {'=', hex[c >> 4], hex[c & 15]};
			rc = kd_buf_append(b, e, 3);
		}
		col += w;
	}
	if (rc == 0 && col)
		rc = kd_buf_puts(b, "\r\n");
	return rc;
}

static int put_base64(struct kd_buf *b, const char *data, size_t len)
{
	/* 57 bytes a line: 76 characters */
	char line[sodium_base64_ENCODED_LEN(57, sodium_base64_VARIANT_ORIGINAL)];
	int rc = 0;
	for (size_t i = 0; i < len && rc == 0; i += 57) {
		size_t n = len - i < 57 ? len - i : 57;
		sodium_bin2base64(line, sizeof line, (const unsigned char *)data + i, n,
		                  sodium_base64_VARIANT_ORIGINAL);
		rc = kd_buf_printf(b, "%s\r\n", line);
	}
	return rc;
}

static void new_boundary(char out[48])
{
	unsigned char raw[16];
	randombytes_buf(raw, sizeof raw);
	/* "=_" cannot occur in quoted-printable or base64 text */
	memcpy(out, "=_kd_", 5);
	sodium_bin2hex(out + 5, 48 - 5, raw, sizeof raw);
}

/* A MIME type's parameter value as a token or quoted string: printable
 * ASCII only, or the given default. */
static bool header_value_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* An attachment's file name with only characters that need no quoting
 * or encoding ("visit.ics"). */
static char *safe_filename(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 100)
		return kd_strdup("attachment");
	char *out = kd_strdup(name);
	for (char *c = out; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '_'))
			*c = '_';
	if (out[0] == '.')
		out[0] = '_';
	return out;
}

static int put_alternative(struct kd_buf *b, const struct mail_message *m)
{
	char bd[48];
	int rc;
	if (!m->html) {
		rc = kd_buf_puts(b, "Content-Type: text/plain; charset=UTF-8\r\n"
		                    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		return rc < 0 ? rc : put_qp(b, m->text);
	}
	new_boundary(bd);
	rc = kd_buf_printf(b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n"
	                      "--%s\r\n"
	                      "Content-Type: text/plain; charset=UTF-8\r\n"
	                      "Content-Transfer-Encoding: quoted-printable\r\n\r\n", bd, bd);
	if (rc == 0)
		rc = put_qp(b, m->text);
	if (rc == 0)
		rc = kd_buf_printf(b, "\r\n--%s\r\n"
		                      "Content-Type: text/html; charset=UTF-8\r\n"
		                      "Content-Transfer-Encoding: quoted-printable\r\n\r\n", bd);
	if (rc == 0)
		rc = put_qp(b, m->html);
	if (rc == 0)
		rc = kd_buf_printf(b, "\r\n--%s--\r\n", bd);
	return rc;
}

int mail_render(const struct mail_message *m, const struct mail_envelope *env,
                struct kd_buf *out, char *err, size_t errlen)
{
	char *from_addr = mail_address_of(env->from);
	if (!from_addr) {
		snprintf(err, errlen, "mail_from '%.100s' is not an address (write it as "
		         "kindling@district.org or \"kindling <kindling@district.org>\")",
		         env->from ? env->from : "");
		return KD_EINVAL;
	}
	if (!m->to_addr || !address_ok(m->to_addr, strlen(m->to_addr))) {
		snprintf(err, errlen, "the recipient's address '%.100s' is not one that can be "
		         "mailed", m->to_addr ? m->to_addr : "");
		free(from_addr);
		return KD_EINVAL;
	}
	if (!header_value_ok(env->message_id, 200) || env->message_id[0] != '<' ||
	    (env->unsubscribe_url && (!header_value_ok(env->unsubscribe_url, 900) ||
	                              strpbrk(env->unsubscribe_url, "<> ")))) {
		snprintf(err, errlen, "the Message-ID or the unsubscribe link is not fit for a header");
		free(from_addr);
		return KD_EINVAL;
	}
	for (size_t i = 0; i < m->n_attach; i++)
		if (!header_value_ok(m->attach[i].content_type, 200) ||
		    strpbrk(m->attach[i].content_type, "\"\\")) {
			snprintf(err, errlen, "attachment %zu has no usable Content-Type", i + 1);
			free(from_addr);
			return KD_EINVAL;
		}

	struct kd_buf b = KD_BUF_INIT(MESSAGE_MAX);
	char *from_name = display_name_of(env->from);
	int rc = put_date(&b, env->date);
	if (rc == 0)
		rc = put_address_header(&b, "From", from_name, from_addr);
	if (rc == 0)
		rc = put_address_header(&b, "To", m->to_name, m->to_addr);
	if (rc == 0)
		rc = put_text_header(&b, "Subject", m->subject);
	if (rc == 0)
		rc = kd_buf_printf(&b, "Message-ID: %s\r\n"
		                       "MIME-Version: 1.0\r\n"
		                       "Auto-Submitted: auto-generated\r\n", env->message_id);
	if (rc == 0 && env->unsubscribe_url)
		rc = kd_buf_printf(&b, "List-Unsubscribe:\r\n <%s>\r\n"
		                       "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
		                   env->unsubscribe_url);
	free(from_name);
	free(from_addr);
	if (rc == 0 && m->n_attach == 0) {
		rc = put_alternative(&b, m);
	} else if (rc == 0) {
		char bd[48];
		new_boundary(bd);
		rc = kd_buf_printf(&b, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n"
		                       "--%s\r\n", bd, bd);
		if (rc == 0)
			rc = put_alternative(&b, m);
		for (size_t i = 0; rc == 0 && i < m->n_attach; i++) {
			const struct mail_attachment *a = &m->attach[i];
			char *fn = safe_filename(a->filename);
			rc = kd_buf_printf(&b, "\r\n--%s\r\n"
			                       "Content-Type: %s;\r\n name=\"%s\"\r\n"
			                       "Content-Disposition: attachment;\r\n filename=\"%s\"\r\n"
			                       "Content-Transfer-Encoding: base64\r\n\r\n",
			                   bd, a->content_type, fn, fn);
			free(fn);
			if (rc == 0)
				rc = put_base64(&b, a->data ? a->data : "", a->data ? a->len : 0);
		}
		if (rc == 0)
			rc = kd_buf_printf(&b, "\r\n--%s--\r\n", bd);
	}
	if (rc < 0) {
		snprintf(err, errlen, "the message is larger than %u MB", MESSAGE_MAX >> 20);
		kd_buf_release(&b);
		return rc;
	}
	*out = b;
	return 0;
}
