/* A district's roster export, from wherever it came: a .zip (read from
 * memory, as /admin/roster receives it), the CSV reader alone, or the three
 * CSV files, planned against a real (in-memory) catalogue.  Anything must be
 * read or refused with a reason, within the bounds, and never leave a
 * child's row in what is kept.
 *
 * The first byte chooses: 0 the rest is a zip; 1 the rest is one CSV file;
 * 2 the rest is manifest.csv, orgs.csv and users.csv separated by NUL bytes
 * (an empty manifest part: a good manifest). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/csv.h"
#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/roster.h"
#include "kindling/users.h"

static struct kd_db *db;
static FILE *devnull;

static const char manifest[] = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
                               "file.orgs,bulk\nfile.users,bulk\n";

static void csv_alone(const uint8_t *data, size_t size)
{
	struct csv c;
	char err[KD_ERRMSG_MAX];
	csv_open(&c, "fuzz.csv", data, size);
	int rc;
	while ((rc = csv_next(&c, err, sizeof err)) == 1) {
		if (c.n == 0 || c.row < 1 || c.records > CSV_ROWS_MAX + 1)
			abort();
		for (size_t i = 0; i < c.n; i++) {
			size_t n = strlen(c.fields[i]);
			if (n > CSV_FIELD_MAX || !csv_utf8_valid((const unsigned char *)c.fields[i], n))
				abort();
		}
	}
	if (rc < 0 && strncmp(err, "fuzz.csv row ", 13) != 0)
		abort(); /* a refusal names the row */
	csv_close(&c);
}

/* The next part of data up to a NUL byte (or its end). */
static const char *part(const uint8_t **data, size_t *size, size_t *len)
{
	const uint8_t *nul = memchr(*data, 0, *size);
	const char *p = (const char *)*data;
	*len = nul ? (size_t)(nul - *data) : *size;
	*data += *len + (nul != NULL);
	*size -= *len + (nul != NULL);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!db) {
		char err[KD_ERRMSG_MAX];
		int64_t id;
		kd_log_set_level(KD_LOG_ERROR);
		if (users_init() < 0 || db_open(":memory:", &db, err, sizeof err) != 0 ||
		    cat_school_add(db, "north-high", "North High", "", err, sizeof err) != 0 ||
		    users_add(db, "ana", KD_ROLE_COACH, "north-high", NULL, &id, err, sizeof err) != 0 ||
		    db_exec(db, "UPDATE users SET email = 'ana@x.example', sourced_id = 'u-1'") != DB_OK)
			abort();
		devnull = fopen("/dev/null", "w");
	}
	if (size == 0)
		return 0;
	int mode = data[0] % 3;
	data++;
	size--;
	if (mode == 1) {
		csv_alone(data, size);
		return 0;
	}
	struct roster_report *rep = roster_report_new();
	struct roster *r = NULL;
	int rc;
	if (mode == 0) {
		rc = roster_read_zip_mem(data, size, "fuzz.zip", &r, rep);
	} else {
		size_t ml, ol, ul;
		const char *m = part(&data, &size, &ml);
		const char *o = part(&data, &size, &ol);
		const char *u = part(&data, &size, &ul);
		if (!ml)
			m = manifest, ml = sizeof manifest - 1;
		rc = roster_read_csv(m, ml, o, ol, u, ul, "fuzz", &r, rep);
	}
	/* read, or refused saying why */
	if ((rc == 0) != (r != NULL) || (rc == 0) != (rep->errors.n == 0))
		abort();
	if (r) {
		for (size_t i = 0; i < r->n_people; i++) {
			const char *role = r->people[i].role;
			if (strcmp(role, "teacher") && strcmp(role, "aide") && strcmp(role, "administrator"))
				abort(); /* only staff are kept */
			if (!*r->people[i].sourced_id || !r->people[i].n_orgs)
				abort();
		}
		struct roster_opts opts = {.disable_missing = size & 1};
		rc = roster_plan(db, r, &opts, rep);
		if (rc != 0 && rc != KD_EINVAL)
			abort();
		if ((rc == 0) != (rep->errors.n == 0) || !rep->dry_run || rep->applied)
			abort();
		for (size_t i = 0; i < rep->added.n; i++)
			if (!rep->added.v[i].name || !*rep->added.v[i].name ||
			    strlen(rep->added.v[i].name) > 400)
				abort();
		for (size_t i = 0; i < rep->schools_added.n; i++)
			if (!cat_slug_valid(rep->schools_added.v[i].name))
				abort();
	}
	json_t *j = roster_report_json(rep);
	if (!j)
		abort();
	json_decref(j);
	roster_report_print(devnull, rep);
	roster_report_free(rep);
	roster_free(r);
	return 0;
}
