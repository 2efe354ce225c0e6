/* audit_format.c - the words of audit entries (audit.h): the CSV and JSON
 * that `kindling audit` and /admin/audit.csv both write, and the texts the
 * call sites share (what changed in an account, which token).  One writer
 * for each, so the shell and the page can never drift apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/accounts.h"
#include "kindling/audit.h"
#include "kindling/buf.h"
#include "kindling/err.h"

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0 when
 * it is not one (overlong, a surrogate, past U+10FFFF, cut short). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
	             : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) ||
	    (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
		return 0;
	return len;
}

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD, for a byte that is not UTF-8 */

/* ------------------------------------------------------------------ CSV */

/* Does a spreadsheet read a cell starting with c as a formula? */
static bool formula_start(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

static int csv_field(struct kd_buf *b, const char *s, bool first)
{
	int rc = first ? 0 : kd_buf_putc(b, ',');
	s = s ? s : "";
	size_t n = strlen(s);
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	if (rc == 0 && quote)
		rc = kd_buf_putc(b, '"');
	if (rc == 0 && formula_start(s[0]))
		rc = kd_buf_putc(b, '\'');
	for (size_t i = 0; i < n && rc == 0;) {
		size_t len = utf8_seq((const unsigned char *)s + i, n - i);
		if (!len)
			rc = kd_buf_puts(b, REPLACEMENT);
		else if (s[i] == '"')
			rc = kd_buf_puts(b, "\"\"");
		else
			rc = kd_buf_append(b, s + i, len);
		i += len ? len : 1;
	}
	if (rc == 0 && quote)
		rc = kd_buf_putc(b, '"');
	return rc;
}

/* An id as CSV: empty for 0 (no person, no clip). */
static int csv_id(struct kd_buf *b, int64_t v)
{
	int rc = kd_buf_putc(b, ',');
	return rc == 0 && v > 0 ? kd_buf_put_i64(b, v) : rc;
}

int audit_csv_header(struct kd_buf *b)
{
	return kd_buf_puts(b, "id,at,user_id,user,action,clip_id,target,detail,ip\r\n");
}

int audit_csv_line(struct kd_buf *b, const struct audit_entry *e)
{
	size_t was = b->len;
	int rc = kd_buf_put_i64(b, e->id);
	if (rc == 0)
		rc = csv_field(b, e->at, false);
	if (rc == 0)
		rc = csv_id(b, e->user_id);
	if (rc == 0)
		rc = csv_field(b, e->user_name, false);
	if (rc == 0)
		rc = csv_field(b, e->action, false);
	if (rc == 0)
		rc = csv_id(b, e->clip_id);
	if (rc == 0)
		rc = csv_field(b, e->target, false);
	if (rc == 0)
		rc = csv_field(b, e->detail, false);
	if (rc == 0)
		rc = csv_field(b, e->ip, false);
	if (rc == 0)
		rc = kd_buf_puts(b, "\r\n");
	if (rc < 0) { /* the line whole or not at all */
		b->len = was;
		if (b->data)
			b->data[was] = '\0';
	}
	return rc;
}

/* ------------------------------------------------------------------ JSON */

static int json_string_out(struct kd_buf *b, const char *s)
{
	s = s ? s : "";
	size_t n = strlen(s);
	int rc = kd_buf_putc(b, '"');
	for (size_t i = 0; i < n && rc == 0;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = utf8_seq((const unsigned char *)s + i, n - i);
		if (!len)
			rc = kd_buf_puts(b, "\\ufffd");
		else if (c == '"' || c == '\\')
			rc = kd_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			rc = kd_buf_puts(b, "\\n");
		else if (c == '\r')
			rc = kd_buf_puts(b, "\\r");
		else if (c == '\t')
			rc = kd_buf_puts(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			rc = kd_buf_printf(b, "\\u%04x", c);
		else
			rc = kd_buf_append(b, s + i, len);
		i += len ? len : 1;
	}
	return rc == 0 ? kd_buf_putc(b, '"') : rc;
}

static int json_id_out(struct kd_buf *b, int64_t v)
{
	return v > 0 ? kd_buf_put_i64(b, v) : kd_buf_puts(b, "null");
}

int audit_json_entry(struct kd_buf *b, const struct audit_entry *e)
{
	size_t was = b->len;
	int rc = kd_buf_puts(b, "{\"id\":");
	if (rc == 0)
		rc = kd_buf_put_i64(b, e->id);
	if (rc == 0 && (rc = kd_buf_puts(b, ",\"at\":")) == 0)
		rc = json_string_out(b, e->at);
	if (rc == 0 && (rc = kd_buf_puts(b, ",\"user_id\":")) == 0)
		rc = json_id_out(b, e->user_id);
	if (rc == 0 && (rc = kd_buf_puts(b, ",\"user\":")) == 0)
		rc = json_string_out(b, e->user_name);
	if (rc == 0 && (rc = kd_buf_puts(b, ",\"action\":")) == 0)
		rc = json_string_out(b, e->action);
	if (rc == 0 && (rc = kd_buf_puts(b, ",\"clip_id\":")) == 0)
		rc = json_id_out(b, e->clip_id);
	if (rc == 0 && (rc = kd_buf_puts(b, ",\"target\":")) == 0)
		rc = json_string_out(b, e->target);
	if (rc == 0 && (rc = kd_buf_puts(b, ",\"detail\":")) == 0)
		rc = json_string_out(b, e->detail);
	if (rc == 0 && (rc = kd_buf_puts(b, ",\"ip\":")) == 0)
		rc = json_string_out(b, e->ip);
	if (rc == 0)
		rc = kd_buf_putc(b, '}');
	if (rc < 0) {
		b->len = was;
		if (b->data)
			b->data[was] = '\0';
	}
	return rc;
}

/* ------------------------------------------------------------------ call sites' words */

/* Append "; " (unless first) and a formatted piece to out, cut at its end. */
static void add_piece(char *out, size_t len, const char *fmt, const char *a, const char *b)
{
	size_t used = strlen(out);
	if (used + 1 >= len)
		return;
	snprintf(out + used, len - used, "%s", used ? "; " : "");
	used = strlen(out);
	snprintf(out + used, len - used, fmt, a, b);
}

static const char *or_none(const char *s)
{
	return s && *s ? s : "(none)";
}

void audit_person_changes(const struct acct_person *was, const struct acct_person *now,
                          char *out, size_t len)
{
	if (!len)
		return;
	out[0] = '\0';
	if (strcmp(was->name, now->name))
		add_piece(out, len, "name %s -> %s", was->name, now->name);
	if (strcmp(was->email, now->email))
		add_piece(out, len, "e-mail %s -> %s", or_none(was->email), or_none(now->email));
	if (strcmp(was->full_name, now->full_name))
		add_piece(out, len, "full name %s -> %s", or_none(was->full_name),
		          or_none(now->full_name));
	if (was->role != now->role)
		add_piece(out, len, "role %s -> %s", users_role_name(was->role),
		          users_role_name(now->role));
	if (strcmp(was->school, now->school))
		add_piece(out, len, "school %s -> %s", or_none(was->school), or_none(now->school));
	if (was->disabled != now->disabled)
		add_piece(out, len, "%s%s", now->disabled ? "disabled" : "enabled", "");
	if (was->has_password != now->has_password)
		add_piece(out, len, "%s%s", now->has_password ? "password set" : "password removed",
		          "");
}

int audit_token_words(struct kd_db *db, int64_t owner, int64_t token_id, char *out, size_t len)
{
	struct acct_token *ts = NULL;
	size_t n = 0;
	int rc = acct_tokens_list(db, owner, &ts, &n);
	snprintf(out, len, "token #%lld", (long long)token_id);
	if (rc < 0)
		return rc;
	rc = KD_ENOTFOUND;
	for (size_t i = 0; i < n; i++)
		if (ts[i].id == token_id) {
			snprintf(out, len, "%s: %s (#%lld)", ts[i].user_name,
			         *ts[i].name ? ts[i].name : "(no name)", (long long)token_id);
			rc = 0;
			break;
		}
	acct_free(ts);
	return rc;
}
