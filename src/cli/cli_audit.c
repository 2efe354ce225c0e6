/* cli_audit.c - kindling audit: the audit trail at the shell, as a table
 * for a person, CSV or JSON (audit_format.c writes both, as /admin/audit.csv
 * does), oldest first and written as read (memory does not grow with the
 * trail); and cli_audit_record, which records what a command run on the server
 * did, as "command line (<unix login>)". */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kindling/audit.h"
#include "kindling/buf.h"
#include "kindling/cli.h"
#include "kindling/db.h"
#include "kindling/err.h"

int cli_audit_record(struct kd_db *db, const char *action, int64_t clip_id, const char *target,
                     const char *detail)
{
	/* Nobody signs in to the shell: the server's own account ran it, and
	 * its login is the most the trail can say of who. */
	char who[160];
	struct passwd *pw = getpwuid(geteuid());
	if (pw && pw->pw_name && *pw->pw_name)
		snprintf(who, sizeof who, "command line (%s)", pw->pw_name);
	else
		snprintf(who, sizeof who, "command line (uid %lld)", (long long)geteuid());
	struct audit_actor actor = {0, who, ""};
	int rc = audit_add(db, &actor, action, clip_id, target, detail);
	if (rc < 0)
		cli_fail("note: it is done, but the audit trail could not record it: %s",
		         db_errmsg(db));
	return rc;
}

static const char usage[] =
	"audit [--data DIR] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--user NAME] [--clip ID] "
	"[--action WORD] [--format table|csv|json] [--limit N]";

/* ------------------------------------------------------------------ the table */

/* Column widths in characters; the detail, last, is cut at its own. */
#define W_AT 19
#define W_WHO 24
#define W_ACTION 17 /* download-original */
#define W_CLIP 6
#define W_TARGET 32
#define W_DETAIL 60

/* Append s to b in at most width characters (code points), padded with
 * spaces to width unless last; longer text ends in an ellipsis.  Control
 * characters (an escape sequence in a name) are shown as '?'. */
static void cell(struct kd_buf *b, const char *s, int width, bool last)
{
	int chars = 0;
	for (const char *p = s; *p; p++)
		chars += ((unsigned char)*p & 0xC0) != 0x80;
	int keep = chars > width ? width - 1 : chars, n = 0;
	const char *p = s;
	while (*p) {
		unsigned char c = (unsigned char)*p;
		if ((c & 0xC0) != 0x80 && n++ == keep)
			break;
		kd_buf_putc(b, c < 0x20 || c == 0x7f ? '?' : (char)c);
		p++;
	}
	if (chars > width)
		kd_buf_puts(b, "\xE2\x80\xA6"); /* … */
	for (int i = keep + (chars > width); !last && i < width; i++)
		kd_buf_putc(b, ' ');
	if (!last)
		kd_buf_puts(b, "  ");
}

/* Who an entry names: the person, or kindling itself (id 0, no name),
 * or nobody (a failed sign-in: the name tried is its target). */
static const char *who_of(const struct audit_entry *e)
{
	if (*e->user_name)
		return e->user_name;
	return strcmp(e->action, AUDIT_SIGN_IN_FAILED) ? "kindling" : "-";
}

struct out {
	const char *format;
	struct kd_buf line;
	int64_t n;
};

static int table_header(struct out *o)
{
	struct kd_buf *b = &o->line;
	kd_buf_reset(b);
	cell(b, "AT (UTC)", W_AT, false);
	cell(b, "WHO", W_WHO, false);
	cell(b, "ACTION", W_ACTION, false);
	cell(b, "CLIP", W_CLIP, false);
	cell(b, "TARGET", W_TARGET, false);
	cell(b, "DETAIL", W_DETAIL, true);
	kd_buf_putc(b, '\n');
	return fputs(kd_buf_str(b), stdout) < 0 ? KD_EIO : 0;
}

static int write_entry(void *arg, const struct audit_entry *e)
{
	struct out *o = arg;
	struct kd_buf *b = &o->line;
	kd_buf_reset(b);
	int rc = 0;
	if (!strcmp(o->format, "csv")) {
		rc = audit_csv_line(b, e);
	} else if (!strcmp(o->format, "json")) {
		kd_buf_puts(b, o->n ? ",\n" : "[\n");
		rc = audit_json_entry(b, e);
	} else {
		char at[32], clip[24];
		snprintf(at, sizeof at, "%.10s %.8s", e->at, strlen(e->at) > 11 ? e->at + 11 : "");
		if (e->clip_id > 0)
			snprintf(clip, sizeof clip, "%lld", (long long)e->clip_id);
		else
			snprintf(clip, sizeof clip, "-");
		cell(b, at, W_AT, false);
		cell(b, who_of(e), W_WHO, false);
		cell(b, e->action, W_ACTION, false);
		cell(b, clip, W_CLIP, false);
		cell(b, *e->target ? e->target : "-", W_TARGET, false);
		cell(b, *e->detail ? e->detail : "-", W_DETAIL, true);
		rc = kd_buf_putc(b, '\n');
	}
	if (rc < 0)
		return rc;
	o->n++;
	return fwrite(b->data, 1, b->len, stdout) == b->len ? 0 : KD_EIO;
}

/* ------------------------------------------------------------------ the command */

/* A whole number from 1 to max, strictly decimal. */
static bool positive(const char *s, long long max, int64_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 15 || strspn(s, "0123456789") != n || s[0] == '0')
		return false;
	long long v = strtoll(s, NULL, 10);
	if (v > max)
		return false;
	*out = v;
	return true;
}

int cli_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"user", required_argument, NULL, 'u'},
		{"clip", required_argument, NULL, 'c'},
		{"action", required_argument, NULL, 'a'},
		{"format", required_argument, NULL, 'F'},
		{"limit", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *data = NULL, *format = "table";
	struct audit_filter f = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'f': f.from = optarg; break;
		case 't': f.to = optarg; break;
		case 'u': f.user = optarg; break;
		case 'a': f.action = optarg; break;
		case 'F': format = optarg; break;
		case 'c':
			if (!positive(optarg, 999999999999999LL, &f.clip_id)) {
				cli_fail("--clip takes a clip's id, a whole number (got '%s')", optarg);
				return 2;
			}
			break;
		case 'n':
			if (!positive(optarg, 1000000000LL, &f.limit)) {
				cli_fail("--limit takes a whole number from 1 (got '%s')", optarg);
				return 2;
			}
			break;
		case 'h':
			printf("usage: kindling %s\n\n"
			       "The audit trail, oldest first: who opened which clip (once a person and\n"
			       "day), downloaded an original, changed consent, visibility or blur, edited,\n"
			       "deleted or held a clip, signed in or failed to, imported a roster, made\n"
			       "or revoked a token, changed an account, answered a visit.\n\n"
			       "  --from, --to  days (UTC), both included\n"
			       "  --user NAME   entries of this account (by name, any case)\n"
			       "  --clip ID     entries about this clip\n"
			       "  --action WORD one of the action words (open, delete, sign-in, ...)\n"
			       "  --format      table (default), csv (RFC 4180, with a header) or json\n"
			       "  --limit N     the first N entries only\n",
			       usage);
			return 0;
		default:
			fprintf(stderr, "usage: kindling %s\n", usage);
			return 2;
		}
	}
	if (optind < argc) {
		cli_fail("audit takes no arguments but its options (got '%s')", argv[optind]);
		fprintf(stderr, "usage: kindling %s\n", usage);
		return 2;
	}
	if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json")) {
		cli_fail("--format is table, csv or json (got '%s')", format);
		return 2;
	}
	char err[KD_ERRMSG_MAX] = "";
	if (audit_filter_check(&f, err, sizeof err) < 0) {
		cli_fail("%s", err);
		return 2;
	}
	struct kd_config cfg;
	struct kd_db *db;
	if (cli_open_catalogue(data, &cfg, &db) != 0)
		return 1;
	struct out o = {.format = format, .line = KD_BUF_INIT(64u << 10)};
	int rc = 0;
	if (!strcmp(format, "csv")) {
		audit_csv_header(&o.line);
		rc = fputs(kd_buf_str(&o.line), stdout) < 0 ? KD_EIO : 0;
	} else if (!strcmp(format, "table")) {
		rc = table_header(&o);
	}
	if (rc == 0)
		rc = audit_each(db, &f, write_entry, &o, err, sizeof err);
	if (rc == 0 && !strcmp(format, "json"))
		fputs(o.n ? "\n]\n" : "[]\n", stdout);
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = rc ? rc : KD_EIO;
	if (rc == KD_EIO)
		cli_fail("could not write the entries out");
	else if (rc < 0)
		cli_fail("%s", *err ? err : kd_strerror(rc));
	else if (!strcmp(format, "table"))
		fprintf(stderr, "%lld entr%s\n", (long long)o.n, o.n == 1 ? "y" : "ies");
	kd_buf_release(&o.line);
	db_close(&db);
	kd_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}
