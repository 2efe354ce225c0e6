/* roster_read.c - a OneRoster 1.1 CSV export (a folder, a .zip on disk or
 * in memory, or the three files' text) into a struct roster (roster.h).
 * Every size is checked before it is read; children's rows are counted and
 * dropped as they are read. */
#include "kindling/roster.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "identity/csv.h"
#include "kindling/err.h"
#include "kindling/mem.h"

_Static_assert(ROSTER_FIELD_MAX == CSV_FIELD_MAX, "one bound, said twice");
_Static_assert(ROSTER_LINE_MAX == CSV_RECORD_MAX, "one bound, said twice");
_Static_assert(ROSTER_ROWS_MAX == CSV_ROWS_MAX, "one bound, said twice");

#define MiB (1024.0 * 1024.0)

/* The three files an import reads, in this order. */
enum { F_MANIFEST, F_ORGS, F_USERS, F_COUNT };
static const char *const file_names[F_COUNT] = {"manifest.csv", "orgs.csv", "users.csv"};

struct file {
	char *data; /* NULL: not found */
	size_t len;
};

/* The first failure's code wins: a bound broken says more than what
 * followed from it. */
static void note(int *rc, int code)
{
	if (*rc == 0)
		*rc = code;
}

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

static int parse_manifest(struct roster *r, const struct file *f, struct roster_report *rep)
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
			                    file_props[k], file_names[k + 1]);
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

static int parse_orgs(struct roster *r, const struct file *f, struct roster_report *rep)
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
			note(&rc, got);
			break;
		}
		if (!width_ok(&c, width, rep)) {
			note(&rc, KD_EINVAL);
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
			note(&rc, KD_EINVAL);
		if (*o.sourced_id) {
			if (n_ids == cap)
				ids = kd_realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *ids);
			ids[n_ids++] = (struct idrow){kd_strdup(o.sourced_id), c.row, true};
		}
		r->orgs = kd_realloc(r->orgs, (r->n_orgs + 1) * sizeof *r->orgs);
		r->orgs[r->n_orgs++] = o;
	}
	csv_close(&c);
	note(&rc, check_dups(ids, n_ids, "orgs.csv", rep));
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

static int parse_users(struct roster *r, const struct file *f, struct roster_report *rep)
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
			note(&rc, got);
			break;
		}
		if (!width_ok(&c, width, rep)) {
			note(&rc, KD_EINVAL);
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
			note(&rc, KD_EINVAL);
			person_free(&p);
			continue;
		}
		r->people = kd_realloc(r->people, (r->n_people + 1) * sizeof *r->people);
		r->people[r->n_people++] = p;
	}
	csv_close(&c);
	note(&rc, check_dups(ids, n_ids, "users.csv", rep));
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

static int read_files(const struct file files[F_COUNT], const char *source, struct roster **out,
                      struct roster_report *rep)
{
	*out = NULL;
	struct roster *r = kd_calloc(1, sizeof *r);
	r->source = kd_strdup(source);
	int rc = parse_manifest(r, &files[F_MANIFEST], rep);
	for (int k = F_ORGS; k <= F_USERS; k++)
		if (!files[k].data) {
			roster_report_error(rep, file_names[k], 0, NULL,
			                    "no %s: a OneRoster 1.1 export has manifest.csv, orgs.csv and "
			                    "users.csv side by side", file_names[k]);
			note(&rc, KD_EINVAL);
		}
	/* Both files are read even when one is refused, so that one attempt
	 * tells of every problem. */
	if (files[F_ORGS].data)
		note(&rc, parse_orgs(r, &files[F_ORGS], rep));
	if (files[F_USERS].data)
		note(&rc, parse_users(r, &files[F_USERS], rep));
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
	struct file files[F_COUNT] = {{(char *)manifest, manifest_len},
	                              {(char *)orgs, orgs_len},
	                              {(char *)users, users_len}};
	if (!rep->source)
		rep->source = kd_strdup(name ? name : "the roster");
	for (int k = 0; k < F_COUNT; k++)
		if (files[k].data && files[k].len > (size_t)ROSTER_FILE_MAX) {
			roster_report_error(rep, file_names[k], 0, NULL,
			                    "%s is %.1f MiB: a roster file is at most %ld MiB", file_names[k],
			                    (double)files[k].len / MiB, ROSTER_FILE_MAX >> 20);
			*out = NULL;
			return KD_ETOOBIG;
		}
	return read_files(files, name ? name : "the roster", out, rep);
}

/* ------------------------------------------------------------------ a folder */

/* Read the regular file at path, refused unread when over cap. */
static int slurp(const char *path, const char *label, size_t cap, struct file *f,
                 struct roster_report *rep)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return KD_ENOTFOUND;
		roster_report_error(rep, label, 0, NULL, "cannot open %s: %s", path, strerror(errno));
		return KD_EIO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		roster_report_error(rep, label, 0, NULL, "%s is not a regular file", path);
		close(fd);
		return KD_EINVAL;
	}
	if ((uintmax_t)st.st_size > cap) {
		roster_report_error(rep, label, 0, NULL,
		                    "%s is %.1f MiB: a roster file is at most %zu MiB; is it the right "
		                    "file?", path, (double)st.st_size / MiB, cap >> 20);
		close(fd);
		return KD_ETOOBIG;
	}
	/* the file may grow while it is read: never past cap */
	size_t alloc = (size_t)st.st_size + 1, len = 0;
	char *data = kd_malloc(alloc);
	for (;;) {
		if (len == alloc) {
			if (alloc > cap) {
				roster_report_error(rep, label, 0, NULL,
				                    "%s grew past %zu MiB while it was read", path, cap >> 20);
				free(data);
				close(fd);
				return KD_ETOOBIG;
			}
			alloc = alloc * 2 > cap + 1 ? cap + 1 : alloc * 2;
			data = kd_realloc(data, alloc);
		}
		ssize_t n = read(fd, data + len, alloc - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			roster_report_error(rep, label, 0, NULL, "cannot read %s: %s", path, strerror(errno));
			free(data);
			close(fd);
			return KD_EIO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	f->data = data;
	f->len = len;
	return 0;
}

static int read_dir(const char *dir, struct roster **out, struct roster_report *rep)
{
	struct file files[F_COUNT] = {{0}};
	int rc = 0;
	for (int k = 0; k < F_COUNT; k++) {
		char *path = kd_asprintf("%s/%s", dir, file_names[k]);
		int got = slurp(path, file_names[k], (size_t)ROSTER_FILE_MAX, &files[k], rep);
		free(path);
		if (got < 0 && got != KD_ENOTFOUND)
			note(&rc, got);
	}
	if (rc == 0)
		rc = read_files(files, dir, out, rep);
	for (int k = 0; k < F_COUNT; k++)
		free(files[k].data);
	return rc;
}

/* ------------------------------------------------------------------ a zip */

/* Where a zip's bytes are: in memory, or a file not read whole. */
struct zsrc {
	const unsigned char *mem;
	int fd;
	uint64_t size;
};

static bool read_at(const struct zsrc *s, uint64_t off, void *buf, size_t n)
{
	if (off > s->size || n > s->size - off)
		return false;
	if (s->mem) {
		memcpy(buf, s->mem + off, n);
		return true;
	}
	return pread(s->fd, buf, n, (off_t)off) == (ssize_t)n;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* The number of entries the zip's end record declares, read before libzip
 * sizes its tables by it; UINT64_MAX when there is no end record (libzip
 * will say what is wrong). */
static uint64_t declared_entries(const struct zsrc *s)
{
	enum { EOCD = 22, TAIL = EOCD + 65535 };
	size_t n = s->size < TAIL ? (size_t)s->size : TAIL;
	if (n < EOCD)
		return UINT64_MAX;
	unsigned char *tail = kd_malloc(n);
	uint64_t entries = UINT64_MAX, base = s->size - n;
	if (read_at(s, base, tail, n)) {
		for (size_t i = n - EOCD + 1; i-- > 0;) {
			if (memcmp(tail + i, "PK\5\6", 4) != 0)
				continue;
			entries = le(tail + i + 10, 2);
			if (entries == 0xFFFF || le(tail + i + 12, 4) == 0xFFFFFFFF ||
			    le(tail + i + 16, 4) == 0xFFFFFFFF) {
				/* Zip64: the locator just before points at the real record. */
				unsigned char loc[20], rec[56];
				uint64_t at = base + i;
				if (at >= 20 && read_at(s, at - 20, loc, 20) && !memcmp(loc, "PK\6\7", 4) &&
				    read_at(s, le(loc + 8, 8), rec, 56) && !memcmp(rec, "PK\6\6", 4))
					entries = le(rec + 32, 8);
			}
			break;
		}
	}
	free(tail);
	return entries;
}

static bool junk_entry(const char *name)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	return !strncmp(name, "__MACOSX/", 9) || !strcmp(base, ".DS_Store") ||
	       !strncmp(base, "._", 2) || !strcmp(base, "Thumbs.db");
}

/* Read the entry i of za (stat sb) into f, checking every size as it goes. */
static int read_entry(zip_t *za, zip_uint64_t i, const zip_stat_t *sb, const char *label,
                      struct file *f, struct roster_report *rep)
{
	if ((sb->valid & ZIP_STAT_ENCRYPTION_METHOD) && sb->encryption_method != ZIP_EM_NONE) {
		roster_report_error(rep, label, 0, NULL,
		                    "%s is encrypted in the zip: export the roster without a password",
		                    sb->name);
		return KD_EINVAL;
	}
	if (!(sb->valid & ZIP_STAT_SIZE) || !(sb->valid & ZIP_STAT_COMP_SIZE)) {
		roster_report_error(rep, label, 0, NULL, "the zip does not say how large %s is",
		                    sb->name);
		return KD_EINVAL;
	}
	if (sb->size > (zip_uint64_t)ROSTER_FILE_MAX) {
		roster_report_error(rep, label, 0, NULL,
		                    "%s is %.1f MiB once uncompressed: a roster file is at most %ld MiB "
		                    "(a zip bomb, or not a roster)", sb->name, (double)sb->size / MiB,
		                    ROSTER_FILE_MAX >> 20);
		return KD_ETOOBIG;
	}
	if (sb->size > (1u << 20) && sb->size / ROSTER_ZIP_RATIO_MAX > sb->comp_size) {
		roster_report_error(rep, label, 0, NULL,
		                    "%s is compressed more than %d times (%.1f MiB into %llu bytes): "
		                    "that is a zip bomb, not a roster", sb->name, ROSTER_ZIP_RATIO_MAX,
		                    (double)sb->size / MiB, (unsigned long long)sb->comp_size);
		return KD_ETOOBIG;
	}
	zip_file_t *zf = zip_fopen_index(za, i, 0);
	if (!zf) {
		roster_report_error(rep, label, 0, NULL, "cannot open %s in the zip: %s", sb->name,
		                    zip_strerror(za));
		return KD_EINVAL;
	}
	/* One byte more than declared: a header that lies shows here. */
	size_t want = (size_t)sb->size + 1, len = 0;
	char *data = kd_malloc(want);
	int rc = 0;
	for (;;) {
		zip_int64_t n = zip_fread(zf, data + len, want - len);
		if (n < 0) {
			roster_report_error(rep, label, 0, NULL,
			                    "%s in the zip is damaged (%s): export the roster again", sb->name,
			                    zip_file_strerror(zf));
			rc = KD_EINVAL;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == want) {
			roster_report_error(rep, label, 0, NULL,
			                    "%s holds more than the zip's header says (%llu bytes): a "
			                    "damaged or hostile zip", sb->name,
			                    (unsigned long long)sb->size);
			rc = KD_ETOOBIG;
			break;
		}
	}
	zip_fclose(zf);
	if (rc == 0 && len != sb->size) {
		roster_report_error(rep, label, 0, NULL,
		                    "%s holds %zu bytes where the zip's header says %llu: a damaged zip",
		                    sb->name, len, (unsigned long long)sb->size);
		rc = KD_EINVAL;
	}
	if (rc != 0) {
		free(data);
		return rc;
	}
	f->data = data;
	f->len = len;
	return 0;
}

/* Find the three files in za, at its top or in one folder at its top, and
 * read them. */
static int read_zip(zip_t *za, const char *zipname, struct file files[F_COUNT],
                    struct roster_report *rep)
{
	zip_int64_t n = zip_get_num_entries(za, 0);
	if (n < 0 || n > ROSTER_ZIP_ENTRIES_MAX) {
		roster_report_error(rep, zipname, 0, NULL,
		                    "the zip holds more than %d files: a roster export holds a dozen",
		                    ROSTER_ZIP_ENTRIES_MAX);
		return KD_ETOOBIG;
	}
	zip_int64_t at[F_COUNT] = {-1, -1, -1};
	char *folder = NULL; /* where manifest.csv is: "" for the top */
	char *deep = NULL;   /* a manifest.csv found too deep, for the message */
	int rc = 0;
	/* First the manifest, whose folder is where the others must be. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (zip_int64_t i = 0; i < n; i++) {
			zip_stat_t sb;
			if (zip_stat_index(za, (zip_uint64_t)i, 0, &sb) != 0 || !(sb.valid & ZIP_STAT_NAME))
				continue;
			char *name = kd_strdup(sb.name);
			for (char *p = name; *p; p++)
				if (*p == '\\')
					*p = '/';
			size_t len = strlen(name);
			const char *slash = strchr(name, '/'), *base = strrchr(name, '/');
			base = base ? base + 1 : name;
			bool dir_entry = len && name[len - 1] == '/';
			bool depth_ok = !slash || slash == base - 1; /* top, or one folder down */
			char *dir = kd_strndup(name, (size_t)(base - name));
			for (int k = 0; !dir_entry && !junk_entry(name) && k < F_COUNT; k++) {
				if (strcasecmp(base, file_names[k]) != 0 || (pass == 0) != (k == F_MANIFEST))
					continue;
				if (!depth_ok) {
					if (!deep)
						deep = kd_strdup(name);
					continue;
				}
				if (k == F_MANIFEST && folder && strcmp(folder, dir) != 0) {
					roster_report_error(rep, zipname, 0, NULL,
					                    "the zip holds two rosters (%smanifest.csv and "
					                    "%smanifest.csv): send one export at a time", folder, dir);
					rc = KD_EINVAL;
				} else if (k != F_MANIFEST && folder && strcmp(folder, dir) != 0) {
					continue;
				} else if (at[k] >= 0) {
					roster_report_error(rep, zipname, 0, NULL, "the zip holds %s%s twice",
					                    dir, file_names[k]);
					rc = KD_EINVAL;
				} else {
					/* without a manifest (refused later, saying so), the
					 * folder of the first file found */
					at[k] = i;
					if (!folder)
						folder = kd_strdup(dir);
				}
			}
			free(dir);
			free(name);
		}
	}
	if (rc == 0 && at[F_MANIFEST] < 0 && deep) {
		roster_report_error(rep, zipname, 0, NULL,
		                    "the zip keeps its files in nested folders (%s): put manifest.csv, "
		                    "orgs.csv and users.csv at its top, or in one folder at its top", deep);
		rc = KD_EINVAL;
	}
	for (int k = 0; rc == 0 && k < F_COUNT; k++) {
		if (at[k] < 0)
			continue; /* read_files says what is missing */
		zip_stat_t sb;
		if (zip_stat_index(za, (zip_uint64_t)at[k], 0, &sb) != 0) {
			roster_report_error(rep, zipname, 0, NULL, "cannot read the zip: %s",
			                    zip_strerror(za));
			rc = KD_EINVAL;
			break;
		}
		rc = read_entry(za, (zip_uint64_t)at[k], &sb, file_names[k], &files[k], rep);
	}
	free(folder);
	free(deep);
	return rc;
}

/* Open the zip s holds (src for libzip), read it and parse it. */
static int from_zip(const struct zsrc *s, zip_source_t *src, const char *zipname,
                    struct roster **out, struct roster_report *rep)
{
	*out = NULL;
	uint64_t entries = declared_entries(s);
	if (entries != UINT64_MAX && entries > ROSTER_ZIP_ENTRIES_MAX) {
		zip_source_free(src);
		roster_report_error(rep, zipname, 0, NULL,
		                    "the zip says it holds %llu files: a roster export holds a dozen "
		                    "(at most %d are read)", (unsigned long long)entries,
		                    ROSTER_ZIP_ENTRIES_MAX);
		return KD_ETOOBIG;
	}
	zip_error_t ze;
	zip_error_init(&ze);
	zip_t *za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!za) {
		roster_report_error(rep, zipname, 0, NULL,
		                    "%s is not a zip file that can be read (%s): give the .zip the "
		                    "roster system exported, or the folder of its CSV files", zipname,
		                    zip_error_strerror(&ze));
		zip_error_fini(&ze);
		zip_source_free(src);
		return KD_EINVAL;
	}
	zip_error_fini(&ze);
	struct file files[F_COUNT] = {{0}};
	int rc = read_zip(za, zipname, files, rep);
	zip_discard(za); /* frees src */
	if (rc == 0)
		rc = read_files(files, zipname, out, rep);
	for (int k = 0; k < F_COUNT; k++)
		free(files[k].data);
	return rc;
}

int roster_read_zip_mem(const void *data, size_t len, const char *name, struct roster **out,
                        struct roster_report *rep)
{
	*out = NULL;
	name = name ? name : "the zip";
	if (!rep->source)
		rep->source = kd_strdup(name);
	if (len > (size_t)ROSTER_ZIP_MAX) {
		roster_report_error(rep, name, 0, NULL,
		                    "%s is %.1f MiB: a roster export is at most %ld MiB", name,
		                    (double)len / MiB, ROSTER_ZIP_MAX >> 20);
		return KD_ETOOBIG;
	}
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
	zip_error_fini(&ze);
	if (!src) {
		roster_report_error(rep, name, 0, NULL, "cannot read %s: out of memory", name);
		return KD_ENOMEM;
	}
	struct zsrc s = {.mem = data, .fd = -1, .size = len};
	return from_zip(&s, src, name, out, rep);
}

int roster_read_path(const char *path, struct roster **out, struct roster_report *rep)
{
	*out = NULL;
	if (!rep->source)
		rep->source = kd_strdup(path);
	struct stat st;
	if (stat(path, &st) != 0) {
		roster_report_error(rep, NULL, 0, NULL, "cannot read %s: %s", path, strerror(errno));
		return errno == ENOENT ? KD_ENOTFOUND : KD_EIO;
	}
	if (S_ISDIR(st.st_mode))
		return read_dir(path, out, rep);
	if (!S_ISREG(st.st_mode)) {
		roster_report_error(rep, NULL, 0, NULL,
		                    "%s is neither a folder nor a file: give the .zip the roster system "
		                    "exported, or the folder of its CSV files", path);
		return KD_EINVAL;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if ((uintmax_t)st.st_size > (uintmax_t)ROSTER_ZIP_MAX) {
		roster_report_error(rep, base, 0, NULL,
		                    "%s is %.1f MiB: a roster export is at most %ld MiB; is it the right "
		                    "file?", path, (double)st.st_size / MiB, ROSTER_ZIP_MAX >> 20);
		return KD_ETOOBIG;
	}
	size_t blen = strlen(base);
	if (blen > 4 && !strcasecmp(base + blen - 4, ".csv")) {
		roster_report_error(rep, base, 0, NULL,
		                    "%s is one CSV file: give the folder that holds manifest.csv, "
		                    "orgs.csv and users.csv, or the .zip of them", path);
		return KD_EINVAL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		roster_report_error(rep, base, 0, NULL, "cannot open %s: %s", path, strerror(errno));
		return KD_EIO;
	}
	zip_error_t ze;
	zip_error_init(&ze);
	/* libzip reads through its own handle (closed with the archive); fd
	 * is for the checks made before libzip sees the file. */
	zip_source_t *src = zip_source_file_create(path, 0, -1, &ze);
	zip_error_fini(&ze);
	if (!src) {
		roster_report_error(rep, base, 0, NULL, "cannot open %s", path);
		close(fd);
		return KD_EIO;
	}
	struct zsrc s = {.mem = NULL, .fd = fd, .size = (uint64_t)st.st_size};
	int rc = from_zip(&s, src, base, out, rep);
	close(fd);
	return rc;
}
