/* roster_report.c - what an import did or would do, kept, made into JSON
 * and printed (roster.h; filled by roster_read.c and roster.c through
 * roster_report.h). */
#include "kindling/roster.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "identity/roster_report.h"
#include "kindling/err.h"
#include "kindling/mem.h"

static char *dup_or_null(const char *s)
{
	return s ? kd_strdup(s) : NULL;
}

struct roster_report *roster_report_new(void)
{
	return kd_calloc(1, sizeof(struct roster_report));
}

static void entry_free(struct roster_entry *e)
{
	free(e->sourced_id);
	free(e->name);
	free(e->full_name);
	free(e->email);
	free(e->role);
	free(e->school);
	free(e->reason);
	for (size_t i = 0; i < e->n_fields; i++) {
		free(e->fields[i].from);
		free(e->fields[i].to);
	}
	free(e->fields);
}

static void list_free(struct roster_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		entry_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

struct roster_entry *roster_list_add(struct roster_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = kd_realloc(l->v, l->cap * sizeof *l->v);
	}
	struct roster_entry *e = &l->v[l->n++];
	memset(e, 0, sizeof *e);
	return e;
}

static void issues_free(struct roster_issues *is)
{
	for (size_t i = 0; i < is->n; i++) {
		free(is->v[i].file);
		free(is->v[i].sourced_id);
		free(is->v[i].message);
	}
	free(is->v);
	memset(is, 0, sizeof *is);
}

static void issue_vadd(struct roster_issues *is, const char *file, long row, const char *sid,
                       const char *fmt, va_list ap)
{
	if (is->n >= ROSTER_ERRORS_MAX) {
		is->more++;
		return;
	}
	if (is->n == is->cap) {
		is->cap = is->cap ? is->cap * 2 : 8;
		is->v = kd_realloc(is->v, is->cap * sizeof *is->v);
	}
	char msg[KD_ERRMSG_MAX];
	vsnprintf(msg, sizeof msg, fmt, ap);
	is->v[is->n++] = (struct roster_issue){
		.file = file ? kd_strdup(file) : NULL,
		.row = row,
		.sourced_id = sid && *sid ? kd_strdup(sid) : NULL,
		.message = kd_strdup(msg),
	};
}

void roster_report_error(struct roster_report *rep, const char *file, long row,
                         const char *sourced_id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	issue_vadd(&rep->errors, file, row, sourced_id, fmt, ap);
	va_end(ap);
}

void roster_report_warn(struct roster_report *rep, const char *file, long row,
                        const char *sourced_id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	issue_vadd(&rep->warnings, file, row, sourced_id, fmt, ap);
	va_end(ap);
}

void roster_report_skip(struct roster_report *rep, const char *reason, long n)
{
	if (n <= 0)
		return;
	for (size_t i = 0; i < rep->n_skipped; i++)
		if (!strcmp(rep->skipped[i].reason, reason)) {
			rep->skipped[i].n += n;
			return;
		}
	rep->skipped = kd_realloc(rep->skipped, (rep->n_skipped + 1) * sizeof *rep->skipped);
	rep->skipped[rep->n_skipped++] = (struct roster_skip){kd_strdup(reason), n};
}

void roster_report_reset(struct roster_report *rep)
{
	char *source = rep->source;
	roster_report_clear(rep);
	free(rep->district);
	issues_free(&rep->warnings);
	issues_free(&rep->errors);
	memset(rep, 0, sizeof *rep);
	rep->source = source;
}

void roster_report_free(struct roster_report *rep)
{
	if (!rep)
		return;
	roster_report_reset(rep);
	free(rep->source);
	free(rep);
}

bool roster_report_changes(const struct roster_report *rep)
{
	return rep->schools_added.n || rep->schools_changed.n || rep->added.n || rep->changed.n ||
	       rep->disabled.n || rep->enabled.n;
}


void roster_entry_field(struct roster_entry *e, const char *name, const char *from, const char *to)
{
	e->fields = kd_realloc(e->fields, (e->n_fields + 1) * sizeof *e->fields);
	e->fields[e->n_fields++] = (struct roster_field){name, dup_or_null(from), dup_or_null(to)};
}

/* Empty what fill_report filled, to fill it again. */
void roster_report_clear(struct roster_report *rep)
{
	list_free(&rep->schools_added);
	list_free(&rep->schools_changed);
	list_free(&rep->added);
	list_free(&rep->changed);
	list_free(&rep->disabled);
	list_free(&rep->enabled);
	list_free(&rep->kept);
	for (size_t i = 0; i < rep->n_skipped; i++)
		free(rep->skipped[i].reason);
	free(rep->skipped);
	rep->skipped = NULL;
	rep->n_skipped = 0;
	rep->schools_unchanged = rep->unchanged = 0;
}

/* ------------------------------------------------------------------ JSON */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *entry_json(const struct roster_entry *e)
{
	json_t *o = json_object();
	json_object_set_new(o, "sourcedId", str_or_null(e->sourced_id));
	json_object_set_new(o, "id", e->id ? json_integer(e->id) : json_null());
	json_object_set_new(o, "row", e->row ? json_integer(e->row) : json_null());
	if (e->is_school) {
		json_object_set_new(o, "slug", str_or_null(e->name));
		json_object_set_new(o, "name", str_or_null(e->full_name));
	} else {
		json_object_set_new(o, "name", str_or_null(e->name));
		json_object_set_new(o, "full_name", str_or_null(e->full_name));
		json_object_set_new(o, "email", str_or_null(e->email));
		json_object_set_new(o, "role", str_or_null(e->role));
		json_object_set_new(o, "school", str_or_null(e->school));
	}
	if (e->reason)
		json_object_set_new(o, "reason", json_string(e->reason));
	if (e->n_fields) {
		json_t *f = json_object();
		for (size_t i = 0; i < e->n_fields; i++)
			json_object_set_new(f, e->fields[i].name,
			                    json_pack("{s:o,s:o}", "from", str_or_null(e->fields[i].from),
			                              "to", str_or_null(e->fields[i].to)));
		json_object_set_new(o, "fields", f);
	}
	return o;
}

static json_t *list_json(const struct roster_list *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, entry_json(&l->v[i]));
	return a;
}

static json_t *issues_json(const struct roster_issues *is)
{
	json_t *a = json_array();
	for (size_t i = 0; i < is->n; i++) {
		const struct roster_issue *x = &is->v[i];
		json_array_append_new(a, json_pack("{s:o,s:o,s:o,s:s}", "file", str_or_null(x->file),
		                                   "row", x->row ? json_integer(x->row) : json_null(),
		                                   "sourcedId", str_or_null(x->sourced_id), "message",
		                                   x->message));
	}
	return a;
}

static long skipped_total(const struct roster_report *rep, bool people)
{
	long n = 0;
	for (size_t i = 0; i < rep->n_skipped; i++)
		if (people == (strncmp(rep->skipped[i].reason, "org ", 4) != 0))
			n += rep->skipped[i].n;
	return n;
}

json_t *roster_report_json(const struct roster_report *rep)
{
	json_t *o = json_object();
	json_object_set_new(o, "dry_run", json_boolean(rep->dry_run));
	json_object_set_new(o, "applied", json_boolean(rep->applied));
	json_object_set_new(o, "ok", json_boolean(rep->errors.n == 0 && rep->errors.more == 0));
	json_object_set_new(o, "source", str_or_null(rep->source));
	json_object_set_new(o, "mode", json_string(rep->delta ? "delta" : "bulk"));
	json_object_set_new(o, "district", str_or_null(rep->district));
	json_object_set_new(
		o, "counts",
		json_pack("{s:{s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I}}", "schools", "added",
		          (json_int_t)rep->schools_added.n, "changed", (json_int_t)rep->schools_changed.n,
		          "unchanged", (json_int_t)rep->schools_unchanged, "people", "added",
		          (json_int_t)rep->added.n, "changed", (json_int_t)rep->changed.n, "disabled",
		          (json_int_t)rep->disabled.n, "enabled", (json_int_t)rep->enabled.n, "kept",
		          (json_int_t)rep->kept.n, "unchanged", (json_int_t)rep->unchanged, "skipped",
		          (json_int_t)skipped_total(rep, true)));
	json_object_set_new(o, "schools",
	                    json_pack("{s:o,s:o}", "added", list_json(&rep->schools_added), "changed",
	                              list_json(&rep->schools_changed)));
	json_object_set_new(o, "added", list_json(&rep->added));
	json_object_set_new(o, "changed", list_json(&rep->changed));
	json_object_set_new(o, "disabled", list_json(&rep->disabled));
	json_object_set_new(o, "enabled", list_json(&rep->enabled));
	json_object_set_new(o, "kept", list_json(&rep->kept));
	json_t *skipped = json_object();
	for (size_t i = 0; i < rep->n_skipped; i++)
		json_object_set_new(skipped, rep->skipped[i].reason, json_integer(rep->skipped[i].n));
	json_object_set_new(o, "skipped", skipped);
	json_object_set_new(o, "warnings", issues_json(&rep->warnings));
	json_object_set_new(o, "errors", issues_json(&rep->errors));
	json_object_set_new(o, "more_warnings", json_integer(rep->warnings.more));
	json_object_set_new(o, "more_errors", json_integer(rep->errors.more));
	return o;
}

/* ------------------------------------------------------------------ text */

static void print_issue(FILE *out, const char *what, const struct roster_issue *x)
{
	fprintf(out, "%s: ", what);
	if (x->file && x->row)
		fprintf(out, "%s row %ld", x->file, x->row);
	else if (x->file)
		fprintf(out, "%s", x->file);
	if (x->sourced_id)
		fprintf(out, "%s(sourcedId %s)", x->file ? " " : "", x->sourced_id);
	fprintf(out, "%s%s\n", x->file || x->sourced_id ? ": " : "", x->message);
}

static const char *skip_text(const char *reason)
{
	static const struct {
		const char *reason, *text;
	} texts[] = {
		{"not staff", "students, parents, guardians and relatives (never imported)"},
		{"role proctor", "proctors (not imported)"},
		{"unknown role", "rows whose role OneRoster 1.1 does not have (not imported)"},
		{"disabled, not in kindling", "staff disabled in the roster who have no account (none "
		                              "made)"},
		{"not imported (see the warnings)", "staff rows not imported (see the warnings)"},
		{"org tobedeleted", "schools marked tobedeleted and not in kindling (not added)"},
	};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		if (!strcmp(reason, texts[i].reason))
			return texts[i].text;
	return NULL;
}

void roster_skip_words(const char *reason, char *out, size_t len)
{
	const char *text = skip_text(reason);
	if (text)
		snprintf(out, len, "%s", text);
	else if (!strncmp(reason, "org type ", 9))
		snprintf(out, len, "orgs of type %s (only schools and the district are used)",
		         reason + 9);
	else
		snprintf(out, len, "%s", reason);
}

static void print_person(FILE *out, const char *verb, const struct roster_entry *e)
{
	fprintf(out, "  %s %s '%s'", verb, e->role ? e->role : "", e->name);
	if (*e->full_name)
		fprintf(out, " (%s)", e->full_name);
	if (e->email)
		fprintf(out, " <%s>", e->email);
	if (e->school)
		fprintf(out, " at %s", e->school);
	if (e->row)
		fprintf(out, ", users.csv row %ld", e->row);
	if (e->reason)
		fprintf(out, ": %s", e->reason);
	fputc('\n', out);
}

static void print_fields(FILE *out, const struct roster_entry *e)
{
	for (size_t i = 0; i < e->n_fields; i++)
		fprintf(out, "%s %s %s%s%s -> %s%s%s", i ? "," : ":", e->fields[i].name,
		        e->fields[i].from ? "'" : "", e->fields[i].from ? e->fields[i].from : "none",
		        e->fields[i].from ? "'" : "", e->fields[i].to ? "'" : "",
		        e->fields[i].to ? e->fields[i].to : "none", e->fields[i].to ? "'" : "");
}

void roster_report_print(FILE *out, const struct roster_report *rep)
{
	bool dry = rep->dry_run;
	if (rep->errors.n) {
		for (size_t i = 0; i < rep->errors.n; i++)
			print_issue(out, "refused", &rep->errors.v[i]);
		if (rep->errors.more)
			fprintf(out, "refused: and %ld more problems like these\n", rep->errors.more);
		fprintf(out, "nothing was imported from %s: fix what is said above and import again\n",
		        rep->source ? rep->source : "the roster");
		return;
	}
	fprintf(out, "roster %s (OneRoster 1.1, %s files)%s\n", rep->source ? rep->source : "",
	        rep->delta ? "delta" : "bulk", dry ? ": a dry run, nothing is written" : "");
	if (rep->district)
		fprintf(out, "district: %s\n", rep->district);
	fprintf(out, "schools: %zu %s, %zu %s, %ld unchanged\n", rep->schools_added.n,
	        dry ? "to add" : "added", rep->schools_changed.n, dry ? "to change" : "changed",
	        rep->schools_unchanged);
	for (size_t i = 0; i < rep->schools_added.n; i++) {
		const struct roster_entry *e = &rep->schools_added.v[i];
		fprintf(out, "  %s school %s: %s (sourcedId %s, orgs.csv row %ld)\n",
		        dry ? "would add" : "added", e->name, e->full_name, e->sourced_id, e->row);
	}
	for (size_t i = 0; i < rep->schools_changed.n; i++) {
		const struct roster_entry *e = &rep->schools_changed.v[i];
		fprintf(out, "  %s school %s", dry ? "would change" : "changed", e->name);
		print_fields(out, e);
		fprintf(out, "%s%s\n", e->reason ? "; " : "", e->reason ? e->reason : "");
	}
	fprintf(out, "people: %zu %s, %zu %s, %zu %s, %zu %s, %ld unchanged\n", rep->added.n,
	        dry ? "to add" : "added", rep->changed.n, dry ? "to change" : "changed",
	        rep->disabled.n, dry ? "to disable" : "disabled", rep->enabled.n,
	        dry ? "to enable" : "enabled", rep->unchanged);
	for (size_t i = 0; i < rep->added.n; i++)
		print_person(out, dry ? "would add" : "added", &rep->added.v[i]);
	for (size_t i = 0; i < rep->changed.n; i++) {
		const struct roster_entry *e = &rep->changed.v[i];
		fprintf(out, "  %s '%s'", dry ? "would change" : "changed", e->name);
		print_fields(out, e);
		fprintf(out, "%s%s (users.csv row %ld)\n", e->reason ? "; " : "",
		        e->reason ? e->reason : "", e->row);
	}
	for (size_t i = 0; i < rep->disabled.n; i++)
		print_person(out, dry ? "would disable" : "disabled", &rep->disabled.v[i]);
	for (size_t i = 0; i < rep->enabled.n; i++)
		print_person(out, dry ? "would enable" : "enabled", &rep->enabled.v[i]);
	for (size_t i = 0; i < rep->kept.n; i++) {
		const struct roster_entry *e = &rep->kept.v[i];
		fprintf(out, "  '%s': %s\n", e->name, e->reason);
	}
	for (size_t i = 0; i < rep->n_skipped; i++) {
		char words[200];
		roster_skip_words(rep->skipped[i].reason, words, sizeof words);
		fprintf(out, "skipped %ld: %s\n", rep->skipped[i].n, words);
	}
	for (size_t i = 0; i < rep->warnings.n; i++)
		print_issue(out, "warning", &rep->warnings.v[i]);
	if (rep->warnings.more)
		fprintf(out, "warning: and %ld more like these\n", rep->warnings.more);
	if (!roster_report_changes(rep))
		fprintf(out, "nothing to change: the catalogue already matches the roster\n");
	else if (dry)
		fprintf(out, "dry run: nothing was written; import without --dry-run to do this\n");
	else
		fprintf(out, "imported: %zu schools added and %zu changed; %zu people added, %zu "
		        "changed, %zu disabled, %zu enabled\n", rep->schools_added.n,
		        rep->schools_changed.n, rep->added.n, rep->changed.n, rep->disabled.n,
		        rep->enabled.n);
}
