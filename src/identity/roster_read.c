/* roster_read.c - a OneRoster 1.1 CSV export's three files (manifest.csv,
 * orgs.csv, users.csv) into a struct roster (roster.h): columns by name,
 * every row checked, duplicate keys refused; children's rows are counted
 * and dropped as they are read.  roster_zip.c finds the files in a folder
 * or a .zip. */
#include "kindling/roster.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity/csv.h"
#include "identity/roster_files.h"
#include "kindling/err.h"
#include "kindling/mem.h"

_Static_assert(ROSTER_FIELD_MAX == CSV_FIELD_MAX, "one bound, said twice");
_Static_assert(ROSTER_LINE_MAX == CSV_RECORD_MAX, "one bound, said twice");
_Static_assert(ROSTER_ROWS_MAX == CSV_ROWS_MAX, "one bound, said twice");

const char *const roster_file_names[F_COUNT] = {"manifest.csv", "orgs.csv", "users.csv"};

static void skip(struct roster *r, const char *reason)
{
	for (size_t i = 0; i < r->n_skipped; i++)
		if (!strcmp(r->skipped[i].reason, reason)) {
			r->skipped[i].n++;
			return;
		}
	r->skipped = kd_realloc(r->skipped, (r->n_skipped + 1) * sizeof *r->skipped);
	r->skipped[r->n_skipped++] = (struct roster_skip){kd_strdup(reason), 1};
}

/* A copy of s without the spaces and tabs around it. */
static char *trim_dup(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return kd_strndup(s, n);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* ------------------------------------------------------------------ columns */

struct col {
	const char *name;
	bool required;
	int idx; /* -1: absent */
};

/* Read the header of c and find cols in it by name (in any order and
 * case, around spaces).  Records every problem; returns 0 or the code. */
static int header(struct csv *c, struct col *cols, size_t n, struct roster_report *rep)
{
	char err[KD_ERRMSG_MAX];
	int rc = csv_next(c, err, sizeof err);
	if (rc < 0) {
		roster_report_error(rep, c->name, c->row, NULL, "%s", err);
		return rc;
	}
	if (rc == 0) {
		roster_report_error(rep, c->name, 0, NULL,
		                    "%s is empty: it needs a header row naming its columns", c->name);
		return KD_EINVAL;
	}
	for (size_t k = 0; k < n; k++)
		cols[k].idx = -1;
	rc = 0;
	for (size_t i = 0; i < c->n; i++) {
		char *name = trim_dup(c->fields[i]);
		for (size_t k = 0; k < n; k++) {
			if (strcasecmp(name, cols[k].name) != 0)
				continue;
			if (cols[k].idx >= 0) {
				roster_report_error(rep, c->name, c->row, NULL,
				                    "%s names the column %s twice (columns %d and %zu)", c->name,
				                    cols[k].name, cols[k].idx + 1, i + 1);
				rc = KD_EINVAL;
			}
			cols[k].idx = (int)i;
		}
		free(name);
	}
	for (size_t k = 0; k < n; k++)
		if (cols[k].required && cols[k].idx < 0) {
			roster_report_error(rep, c->name, 1, NULL,
			                    "%s has no column %s, which OneRoster 1.1 requires: export the "
			                    "file again with every column", c->name, cols[k].name);
			rc = KD_EINVAL;
		}
	return rc;
}

/* The field of column k in the record just read ("" when absent), and
 * whether the record has as many fields as the header. */
static const char *field(const struct csv *c, const struct col *col)
{
	return col->idx >= 0 && (size_t)col->idx < c->n ? c->fields[col->idx] : "";
}

static bool width_ok(struct csv *c, size_t want, struct roster_report *rep)
{
	if (c->n == want)
		return true;
	roster_report_error(rep, c->name, c->row, NULL,
	                    "the row has %zu fields where the header has %zu (a comma too many or "
	                    "too few, or a quote left open)", c->n, want);
	return false;
}

/* ------------------------------------------------------------------ duplicate keys */

struct idrow {
	char *id;
	long row;
	bool named; /* may the id be shown (not a child's row) */
};

static int idrow_cmp(const void *a, const void *b)
{
	const struct idrow *x = a, *y = b;
	int d = strcmp(x->id, y->id);
	return d ? d : (x->row > y->row) - (x->row < y->row);
}

static int check_dups(struct idrow *v, size_t n, const char *file, struct roster_report *rep)
{
	int rc = 0;
	if (n > 1) /* (qsort may not be given a NULL array, even an empty one) */
		qsort(v, n, sizeof *v, idrow_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(v[i].id, v[i - 1].id) != 0)
			continue;
		bool show = v[i].named && v[i - 1].named;
		roster_report_error(rep, file, v[i].row, show ? v[i].id : NULL,
		                    "rows %ld and %ld have the same sourcedId%s%s%s: a sourcedId names "
		                    "one record only", v[i - 1].row, v[i].row, show ? " '" : "",
		                    show ? v[i].id : "", show ? "'" : "");
		rc = KD_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
	return rc;
}

/* ------------------------------------------------------------------ the three files */

static int parse_manifest(struct roster *r, const struct roster_file *f, struct roster_report *rep)
{
	if (!f->data) {
		roster_report_error(rep, "manifest.csv", 0, NULL,
		                    "no manifest.csv: a OneRoster 1.1 CSV export has one beside orgs.csv "
		                    "and users.csv; export the roster again as OneRoster 1.1 CSV");
		return KD_EINVAL;
	}
	struct csv c;
	csv_open(&c, "manifest.csv", f->data, f->len);
	struct col cols[] = {{"propertyName", true, -1}, {"value", true, -1}};
	int rc = header(&c, cols, 2, rep);
	char *manifest_version = NULL, *version = NULL, *files[2] = {NULL, NULL};
	static const char *const file_props[2] = {"file.orgs", "file.users"};
	char err[KD_ERRMSG_MAX];
	int got;
	while (rc == 0 && (got = csv_next(&c, err, sizeof err)) != 0) {
		if (got < 0) {
			roster_report_error(rep, c.name, c.row, NULL, "%s", err);
			rc = got;
			break;
		}
		char *prop = trim_dup(field(&c, &cols[0]));
		char *value = trim_dup(field(&c, &cols[1]));
		char **slot = !strcasecmp(prop, "manifest.version")   ? &manifest_version
		              : !strcasecmp(prop, "oneroster.version") ? &version
		              : !strcasecmp(prop, "file.orgs")         ? &files[0]
		              : !strcasecmp(prop, "file.users")        ? &files[1]
		                                                       : NULL;
		if (slot) {
			free(*slot);
			*slot = value;
			value = NULL;
		}
		free(prop);
		free(value);
	}
	csv_close(&c);
	if (rc == 0) {
		if (!version || strcmp(version, "1.1") != 0) {
			roster_report_error(rep, "manifest.csv", 0, NULL,
			                    version ? "the manifest says OneRoster %s: kindling reads OneRoster "
			                              "1.1 CSV; export the roster as 1.1"
			                            : "the manifest has no oneroster.version%s: kindling reads "
			                              "OneRoster 1.1 CSV, whose manifest says 1.1",
			                    version ? version : "");
			rc = KD_EINVAL;
		}
		if (!manifest_version || strcmp(manifest_version, "1.0") != 0) {
			roster_report_error(rep, "manifest.csv", 0, NULL,
			                    "the manifest's manifest.version is %s%s%s, where OneRoster 1.1 "
			                    "has 1.0", manifest_version ? "'" : "missing",
			                    manifest_version ? manifest_version : "",
			                    manifest_version ? "'" : "");
			rc = KD_EINVAL;
		}
		for (int k = 0; k < 2; k++) {
			const char *v = files[k];
			if (v && (!strcasecmp(v, "bulk") || !strcasecmp(v, "delta"))) {
				if (k == 0)
					r->orgs_delta = !strcasecmp(v, "delta");
				else
					r->users_delta = !strcasecmp(v, "delta");
				continue;
			}
			roster_report_error(rep, "manifest.csv", 0, NULL,
			                    v && !strcasecmp(v, "absent")
			                        ? "the manifest says %s is absent: kindling needs %s; export "
			                          "it with the roster"
			                        : "the manifest's %s is not bulk or delta: kindling needs %s",
			                    file_props[k], roster_file_names[k + 1]);
			rc = KD_EINVAL;
		}
	}
	free(manifest_version);
	free(version);
	free(files[0]);
	free(files[1]);
	return rc;
}

static const char *const org_types[] = {"school", "district", "department", "local", "state",
                                        "national"};

static int parse_orgs(struct roster *r, const struct roster_file *f, struct roster_report *rep)
{
	struct csv c;
	csv_open(&c, "orgs.csv", f->data, f->len);
	enum { O_ID, O_STATUS, O_NAME, O_TYPE, O_IDENT, O_PARENT, O_N };
	struct col cols[O_N] = {{"sourcedId", true, -1},  {"status", false, -1},
	                        {"name", true, -1},       {"type", true, -1},
	                        {"identifier", false, -1}, {"parentSourcedId", false, -1}};
	int rc = header(&c, cols, O_N, rep);
	size_t width = c.n, cap = 0, n_ids = 0;
	struct idrow *ids = NULL;
	char err[KD_ERRMSG_MAX];
	int got;
	/* rows: every bad one is told of; a file that cannot be read further
	 * stops there */
	bool go = rc == 0;
	while (go && (got = csv_next(&c, err, sizeof err)) != 0) {
		if (got < 0) {
			roster_report_error(rep, c.name, c.row, NULL, "%s", err);
			roster_note(&rc, got);
			break;
		}
		if (!width_ok(&c, width, rep)) {
			roster_note(&rc, KD_EINVAL);
			continue;
		}
		struct roster_org o = {
			.sourced_id = trim_dup(field(&c, &cols[O_ID])),
			.name = trim_dup(field(&c, &cols[O_NAME])),
			.type = trim_dup(field(&c, &cols[O_TYPE])),
			.identifier = trim_dup(field(&c, &cols[O_IDENT])),
			.parent = trim_dup(field(&c, &cols[O_PARENT])),
			.row = c.row,
		};
		char *status = trim_dup(field(&c, &cols[O_STATUS]));
		o.deleted = !strcasecmp(status, "tobedeleted");
		free(status);
		for (char *p = o.type; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		bool bad = false;
		if (!*o.sourced_id) {
			roster_report_error(rep, c.name, c.row, NULL, "the org's sourcedId is empty");
			bad = true;
		} else if (!*o.type) {
			roster_report_error(rep, c.name, c.row, o.sourced_id, "the org's type is empty");
			bad = true;
		} else if (!strcmp(o.type, "school") && !*o.name) {
			roster_report_error(rep, c.name, c.row, o.sourced_id,
			                    "the school has no name: kindling shows schools by name");
			bad = true;
		} else if (!strcmp(o.type, "school") && utf8_chars(o.name) > 200) {
			roster_report_error(rep, c.name, c.row, o.sourced_id,
			                    "the school's name is longer than 200 characters");
			bad = true;
		}
		if (bad)
			roster_note(&rc, KD_EINVAL);
		if (*o.sourced_id) {
			if (n_ids == cap)
				ids = kd_realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *ids);
			ids[n_ids++] = (struct idrow){kd_strdup(o.sourced_id), c.row, true};
		}
		r->orgs = kd_realloc(r->orgs, (r->n_orgs + 1) * sizeof *r->orgs);
		r->orgs[r->n_orgs++] = o;
	}
	csv_close(&c);
	roster_note(&rc, check_dups(ids, n_ids, "orgs.csv", rep));
	/* Only schools and districts are used; the rest is counted. */
	for (size_t i = 0; rc == 0 && i < r->n_orgs; i++) {
		const char *t = r->orgs[i].type;
		if (!strcmp(t, "school") || !strcmp(t, "district"))
			continue;
		char reason[64];
		bool known = false;
		for (size_t k = 0; k < sizeof org_types / sizeof *org_types; k++)
			known |= !strcmp(t, org_types[k]);
		snprintf(reason, sizeof reason, "org type %s", known ? t : "other");
		skip(r, reason);
	}
	return rc;
}

static void person_free(struct roster_person *p)
{
	free(p->sourced_id);
	free(p->role);
	free(p->username);
	free(p->given_name);
	free(p->family_name);
	free(p->email);
	free(p->orgs); /* one block: the pointers, then the text */
}

/* "a, b,,c" -> {"a", "b", "c"}, in one allocation (a file of many short
 * references must not cost an allocation each).  Returns how many pieces
 * the field has, which may be more than were kept (ROSTER_ORGS_MAX). */
static size_t split_orgs(struct roster_person *p, const char *s)
{
	size_t pieces = 1, len = strlen(s);
	for (const char *c = s; *c; c++)
		pieces += *c == ',';
	size_t keep = pieces < ROSTER_ORGS_MAX ? pieces : ROSTER_ORGS_MAX;
	char **v = kd_malloc(keep * sizeof *v + len + 1);
	char *text = memcpy((char *)(v + keep), s, len + 1);
	size_t n = 0;
	for (char *t = text; n < keep;) {
		char *comma = strchr(t, ',');
		if (comma)
			*comma = '\0';
		while (*t == ' ' || *t == '\t')
			t++;
		size_t tl = strlen(t);
		while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
			t[--tl] = '\0';
		if (*t)
			v[n++] = t;
		if (!comma)
			break;
		t = comma + 1;
	}
	p->orgs = v;
	p->n_orgs = n;
	return pieces;
}

static int parse_users(struct roster *r, const struct roster_file *f, struct roster_report *rep)
{
	struct csv c;
	csv_open(&c, "users.csv", f->data, f->len);
	enum { U_ID, U_STATUS, U_ENABLED, U_ORGS, U_ROLE, U_USERNAME, U_GIVEN, U_FAMILY, U_EMAIL, U_N };
	struct col cols[U_N] = {
		{"sourcedId", true, -1},  {"status", false, -1},   {"enabledUser", true, -1},
		{"orgSourcedIds", true, -1}, {"role", true, -1},   {"username", true, -1},
		{"givenName", true, -1},  {"familyName", true, -1}, {"email", true, -1},
	};
	int rc = header(&c, cols, U_N, rep);
	size_t width = c.n, cap = 0, n_ids = 0;
	struct idrow *ids = NULL;
	char err[KD_ERRMSG_MAX];
	int got;
	/* rows: every bad one is told of; a file that cannot be read further
	 * stops there */
	bool go = rc == 0;
	while (go && (got = csv_next(&c, err, sizeof err)) != 0) {
		if (got < 0) {
			roster_report_error(rep, c.name, c.row, NULL, "%s", err);
			roster_note(&rc, got);
			break;
		}
		if (!width_ok(&c, width, rep)) {
			roster_note(&rc, KD_EINVAL);
			continue;
		}
		char *role = trim_dup(field(&c, &cols[U_ROLE]));
		for (char *p = role; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		bool staff = !strcmp(role, "teacher") || !strcmp(role, "aide") ||
		             !strcmp(role, "administrator");
		char *id = trim_dup(field(&c, &cols[U_ID]));
		if (*id) {
			if (n_ids == cap)
				ids = kd_realloc(ids, (cap = cap ? cap * 2 : 1024) * sizeof *ids);
			ids[n_ids++] = (struct idrow){id, c.row, staff};
		} else {
			free(id);
			id = NULL;
		}
		if (!staff) {
			/* Nothing of the row is kept: only that it was there. */
			skip(r, !strcmp(role, "student") || !strcmp(role, "parent") ||
			                !strcmp(role, "guardian") || !strcmp(role, "relative")
			            ? "not staff"
			        : !strcmp(role, "proctor") ? "role proctor"
			                                   : "unknown role");
			free(role);
			continue;
		}
		struct roster_person p = {
			.sourced_id = kd_strdup(id ? id : ""),
			.role = role,
			.username = trim_dup(field(&c, &cols[U_USERNAME])),
			.given_name = trim_dup(field(&c, &cols[U_GIVEN])),
			.family_name = trim_dup(field(&c, &cols[U_FAMILY])),
			.email = trim_dup(field(&c, &cols[U_EMAIL])),
			.row = c.row,
		};
		char *status = trim_dup(field(&c, &cols[U_STATUS]));
		p.deleted = !strcasecmp(status, "tobedeleted");
		free(status);
		char *enabled = trim_dup(field(&c, &cols[U_ENABLED]));
		bool bad = false;
		if (!strcasecmp(enabled, "true")) {
			p.enabled = true;
		} else if (strcasecmp(enabled, "false") != 0) {
			roster_report_error(rep, c.name, c.row, id,
			                    "enabledUser is '%.40s': it must be true or false", enabled);
			bad = true;
		}
		free(enabled);
		size_t listed = split_orgs(&p, field(&c, &cols[U_ORGS]));
		if (listed > ROSTER_ORGS_MAX) {
			roster_report_error(rep, c.name, c.row, id,
			                    "orgSourcedIds lists %zu orgs: a person belongs to at most %d",
			                    listed, ROSTER_ORGS_MAX);
			bad = true;
		} else if (!id) {
			roster_report_error(rep, c.name, c.row, NULL, "the %s's sourcedId is empty", p.role);
			bad = true;
		} else if (!p.n_orgs) {
			roster_report_error(rep, c.name, c.row, id,
			                    "orgSourcedIds is empty: each %s belongs to a school or the "
			                    "district (sourcedIds of orgs.csv, separated by commas)", p.role);
			bad = true;
		}
		if (bad) {
			roster_note(&rc, KD_EINVAL);
			person_free(&p);
			continue;
		}
		r->people = kd_realloc(r->people, (r->n_people + 1) * sizeof *r->people);
		r->people[r->n_people++] = p;
	}
	csv_close(&c);
	roster_note(&rc, check_dups(ids, n_ids, "users.csv", rep));
	return rc;
}

void roster_free(struct roster *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_orgs; i++) {
		struct roster_org *o = &r->orgs[i];
		free(o->sourced_id);
		free(o->name);
		free(o->type);
		free(o->identifier);
		free(o->parent);
	}
	free(r->orgs);
	for (size_t i = 0; i < r->n_people; i++)
		person_free(&r->people[i]);
	free(r->people);
	for (size_t i = 0; i < r->n_skipped; i++)
		free(r->skipped[i].reason);
	free(r->skipped);
	free(r->source);
	free(r);
}

int roster_read_files(const struct roster_file files[F_COUNT], const char *source,
                      struct roster **out, struct roster_report *rep)
{
	*out = NULL;
	struct roster *r = kd_calloc(1, sizeof *r);
	r->source = kd_strdup(source);
	int rc = parse_manifest(r, &files[F_MANIFEST], rep);
	for (int k = F_ORGS; k <= F_USERS; k++)
		if (!files[k].data) {
			roster_report_error(rep, roster_file_names[k], 0, NULL,
			                    "no %s: a OneRoster 1.1 export has manifest.csv, orgs.csv and "
			                    "users.csv side by side", roster_file_names[k]);
			roster_note(&rc, KD_EINVAL);
		}
	/* Both files are read even when one is refused, so that one attempt
	 * tells of every problem. */
	if (files[F_ORGS].data)
		roster_note(&rc, parse_orgs(r, &files[F_ORGS], rep));
	if (files[F_USERS].data)
		roster_note(&rc, parse_users(r, &files[F_USERS], rep));
	if (rc != 0) {
		roster_free(r);
		return rc;
	}
	rep->delta = r->orgs_delta || r->users_delta;
	*out = r;
	return 0;
}

int roster_read_csv(const char *manifest, size_t manifest_len, const char *orgs, size_t orgs_len,
                    const char *users, size_t users_len, const char *name, struct roster **out,
                    struct roster_report *rep)
{
	struct roster_file files[F_COUNT] = {{(char *)manifest, manifest_len},
	                              {(char *)orgs, orgs_len},
	                              {(char *)users, users_len}};
	if (!rep->source)
		rep->source = kd_strdup(name ? name : "the roster");
	for (int k = 0; k < F_COUNT; k++)
		if (files[k].data && files[k].len > (size_t)ROSTER_FILE_MAX) {
			roster_report_error(rep, roster_file_names[k], 0, NULL,
			                    "%s is %.1f MiB: a roster file is at most %ld MiB", roster_file_names[k],
			                    (double)files[k].len / ROSTER_MiB, ROSTER_FILE_MAX >> 20);
			*out = NULL;
			return KD_ETOOBIG;
		}
	return roster_read_files(files, name ? name : "the roster", out, rep);
}
