/* cli_retention.c - kindling retention [--data DIR] [--apply] [--json]:
 * the clips past retention_months, and with --apply their deletion
 * (src/jobs/erase.c decides and deletes; this file says what it did).
 *
 * Standard output gets a line per clip past retention (those to delete,
 * or deleted, and those kept under legal hold, with the hold's reason) and
 * a summary line, or with --json one object: {"retention_months": N,
 * "cutoff": "YYYY-MM-DD", "applied": bool, "clips": [...], "past": N,
 * "held": N, "deleted": N, "files_left": N, "failed": N}.
 *
 * With retention off (retention_months absent or 0) nothing is past it:
 * it says so and exits 0, with --apply too (a scheduled `--apply` of a
 * district that keeps clips for good is not a failure).  Exit status: 0
 * when every clip past retention is deleted (--apply) or listed; 1 when
 * one could not be deleted, left files behind, or the catalogue failed;
 * 2 for a usage error. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kindling/buf.h"
#include "kindling/cli.h"
#include "kindling/config.h"
#include "kindling/db.h"
#include "kindling/erase.h"
#include "kindling/err.h"
#include "kindling/storage.h"

struct out {
	bool json, first, apply;
};

/* Text from the catalogue on one line of a terminal: control characters
 * (a hostile title's newlines and escapes) as '?'. */
static void put_clean(struct kd_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
		kd_buf_putc(b, *p < 32 || *p == 127 ? '?' : (char)*p);
}

static const char *outcome_word(enum erase_outcome o)
{
	switch (o) {
	case ERASE_PAST: return "to-delete";
	case ERASE_HELD: return "held";
	case ERASE_DELETED: return "deleted";
	case ERASE_FILES_LEFT: return "deleted-files-left";
	case ERASE_GONE: return "gone";
	case ERASE_FAILED: return "failed";
	}
	return "";
}

static void set_str(json_t *j, const char *key, const char *s)
{
	json_object_set_new(j, key, s ? json_string(s) : json_null());
}

static int on_clip(void *arg, const struct erase_item *it)
{
	struct out *o = arg;
	const struct cat_retained *c = it->clip;
	int age = erase_age_months(it->date);
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "id", json_integer(c->id));
		set_str(j, "title", c->title);
		set_str(j, "school", c->school);
		set_str(j, "recorded_on", c->recorded_on);
		set_str(j, "uploaded_at", c->uploaded_at);
		set_str(j, "date", it->date);
		set_str(j, "date_is", it->recorded ? "recorded" : "uploaded");
		json_object_set_new(j, "age_months", json_integer(age));
		json_object_set_new(j, "legal_hold", json_boolean(c->hold_at != NULL));
		if (c->hold_at) {
			set_str(j, "hold_at", c->hold_at);
			set_str(j, "hold_by", c->hold_by);
			set_str(j, "hold_reason", c->hold_reason);
		}
		set_str(j, "action", outcome_word(it->outcome));
		if (it->err && *it->err)
			set_str(j, "error", it->err);
		char *s = json_dumps(j, JSON_COMPACT);
		printf("%s%s", o->first ? "" : ",", s ? s : "{}");
		free(s);
		json_decref(j);
		o->first = false;
		return 0;
	}
	struct kd_buf b = KD_BUF_INIT(8192);
	kd_buf_printf(&b, "clip %lld '", (long long)c->id);
	put_clean(&b, c->title);
	kd_buf_puts(&b, "' (");
	put_clean(&b, c->school);
	kd_buf_printf(&b, "), %s %s, %d month%s ago: ", it->recorded ? "recorded" : "uploaded",
	              it->date, age, age == 1 ? "" : "s");
	switch (it->outcome) {
	case ERASE_PAST:
		kd_buf_puts(&b, "past retention (--apply deletes it)");
		break;
	case ERASE_HELD:
		kd_buf_printf(&b, "kept: under legal hold since %.10s by ",
		              c->hold_at ? c->hold_at : "now");
		put_clean(&b, c->hold_by && *c->hold_by ? c->hold_by : "?");
		kd_buf_puts(&b, " (");
		put_clean(&b, c->hold_reason && *c->hold_reason ? c->hold_reason : "no reason given");
		kd_buf_puts(&b, ")");
		break;
	case ERASE_DELETED:
		kd_buf_puts(&b, "deleted");
		break;
	case ERASE_FILES_LEFT:
	case ERASE_FAILED:
		kd_buf_puts(&b, it->outcome == ERASE_FAILED ? "NOT deleted: " : "deleted; but ");
		put_clean(&b, it->err);
		break;
	case ERASE_GONE:
		kd_buf_puts(&b, "deleted meanwhile by someone else");
		break;
	}
	printf("%s\n", kd_buf_str(&b));
	fflush(stdout);
	kd_buf_release(&b);
	return 0;
}

static void summary(const struct kd_config *cfg, const char *cutoff, bool apply,
                    const struct erase_totals *t, struct kd_buf *b)
{
	unsigned m = cfg->retention_months;
	if (!t->past && !t->held) {
		kd_buf_printf(b, "no clip is past retention_months=%u (none dated before %s)", m, cutoff);
		return;
	}
	kd_buf_printf(b, "retention_months=%u (dated before %s): ", m, cutoff);
	if (apply)
		kd_buf_printf(b, "%ld deleted", t->deleted);
	else
		kd_buf_printf(b, "%ld to delete (kindling retention --apply)", t->past);
	kd_buf_printf(b, ", %ld kept under legal hold", t->held);
	if (t->failed)
		kd_buf_printf(b, ", %ld could not be deleted", t->failed);
	if (t->files_left)
		kd_buf_printf(b, ", %ld left files behind (kindling check --repair)", t->files_left);
}

int cli_retention(int argc, char **argv)
{
	static const char usage[] = "retention [--data DIR] [--apply] [--json]";
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"apply", no_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *data = NULL;
	bool apply = false, json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'a': apply = true; break;
		case 'j': json = true; break;
		case 'h':
			printf("usage: kindling %s\n"
			       "  lists the clips past retention_months (kindling.conf) and those kept\n"
			       "  under legal hold; --apply deletes the former, as kindling, each with an\n"
			       "  audit entry 'retention'\n", usage);
			return 0;
		default: return 2;
		}
	}
	if (optind != argc) {
		cli_fail("usage: kindling %s", usage);
		return 2;
	}
	char err[KD_ERRMSG_MAX] = "";
	struct kd_config cfg;
	struct kd_db *db = NULL;
	struct kd_storage *s = NULL;
	int rc = 1;
	if (kd_config_load(&cfg, data, NULL, err, sizeof err) < 0) {
		cli_fail("%s", err);
		kd_config_free(&cfg);
		return 1;
	}
	if (cfg.retention_months == 0) {
		if (json)
			printf("{\"retention_months\":0,\"enabled\":false,\"applied\":false,\"clips\":[],"
			       "\"past\":0,\"held\":0,\"deleted\":0,\"files_left\":0,\"failed\":0}\n");
		else
			printf("retention is off: retention_months is not set in %s/kindling.conf, so no "
			       "clip is past it%s\n", cfg.data_dir, apply ? "; nothing was deleted" : "");
		kd_config_free(&cfg);
		return 0;
	}
	struct stat st;
	if (!db_is_postgres_url(cfg.db_path) && stat(cfg.db_path, &st) < 0) {
		cli_fail("there is no catalogue at %s: name the data folder with --data", cfg.db_path);
		goto out;
	}
	if (db_open(cfg.db_path, &db, err, sizeof err) < 0) {
		cli_fail("cannot open the catalogue: %s", err);
		goto out;
	}
	/* only deleting touches the media: a list needs no credentials */
	if (apply && (storage_open(&s, &cfg, err, sizeof err) < 0 ||
	              (cfg.storage && storage_check(s, err, sizeof err) < 0))) {
		cli_fail("cannot reach the media, so nothing was deleted: %s", err);
		goto out;
	}

	char cutoff[11];
	erase_retention_cutoff((int)cfg.retention_months, cutoff);
	struct out o = {.json = json, .first = true, .apply = apply};
	struct erase_totals t;
	if (json)
		printf("{\"clips\":[");
	int run = erase_retention(db, s, cfg.data_dir, (int)cfg.retention_months, apply, on_clip,
	                          &o, &t);
	struct kd_buf line = KD_BUF_INIT(4096);
	summary(&cfg, cutoff, apply, &t, &line);
	if (json) {
		json_t *j = json_object();
		json_object_set_new(j, "retention_months", json_integer(cfg.retention_months));
		json_object_set_new(j, "enabled", json_true());
		set_str(j, "cutoff", cutoff);
		json_object_set_new(j, "applied", json_boolean(apply));
		json_object_set_new(j, "past", json_integer(t.past));
		json_object_set_new(j, "held", json_integer(t.held));
		json_object_set_new(j, "deleted", json_integer(t.deleted));
		json_object_set_new(j, "files_left", json_integer(t.files_left));
		json_object_set_new(j, "failed", json_integer(t.failed));
		set_str(j, "summary", kd_buf_str(&line));
		if (run < 0)
			set_str(j, "error", kd_strerror(run));
		char *body = json_dumps(j, JSON_COMPACT);
		/* the object's members after the clips: "{...}" without its "{" */
		printf("],%s\n", body && body[0] == '{' ? body + 1 : "}");
		free(body);
		json_decref(j);
	} else {
		printf("%s\n", kd_buf_str(&line));
	}
	kd_buf_release(&line);
	fflush(stdout);
	if (run < 0)
		cli_fail("the clips past retention could not all be listed (%s); run kindling "
		         "retention again", kd_strerror(run));
	else if (t.failed)
		cli_fail("%ld clip%s past retention could not be deleted (see above); run kindling "
		         "retention --apply again", t.failed, t.failed == 1 ? "" : "s");
	else if (t.files_left)
		cli_fail("some files of deleted clips are left behind (see above); kindling check "
		         "--repair removes them");
	rc = run == 0 && !t.failed && !t.files_left ? 0 : 1;
out:
	storage_close(&s);
	db_close(&db);
	kd_config_free(&cfg);
	return rc;
}
