/*
 * roster.h - a district's people and schools from its roster: OneRoster 1.1
 * CSV (a folder, or the .zip that ClassLink, Clever and Microsoft School
 * Data Sync export), brought into the catalogue.
 *
 * Three steps, each usable alone (`kindling roster import` runs them in
 * turn; the page /admin/roster shows the second and then runs the third):
 *
 *   1. read   roster_read_path / roster_read_zip_mem / roster_read_csv:
 *             the files -> a struct roster, or refused with every reason
 *             (row by row) in a report.  Nothing about the catalogue.
 *   2. plan   roster_plan: what importing it would change in the
 *             catalogue, and why, row by row.  Writes nothing.
 *   3. apply  roster_apply: plans again and carries the plan out, in ONE
 *             transaction: either everything is written or nothing is.
 *
 * All three fill a struct roster_report: the one result, printed by
 * roster_report_print (text for people) or made into JSON by
 * roster_report_json, and read field by field by the page.  On a refusal
 * its errors say why; on success it lists what was (or, dry run, would be)
 * added, changed, disabled, enabled, kept and skipped.
 *
 * What the import does (keyed by sourcedId throughout):
 *   - orgs of type school are the catalogue's schools; a new one gets a
 *     slug from its identifier (when that has a letter in it) or else its
 *     name; an existing one keeps its slug and gets the roster's name.  A
 *     school made in kindling (no sourcedId) with that slug or that name
 *     is adopted rather than doubled.  The district org's name (the
 *     school's parent district, or the only one) is every school's
 *     district.  Other org types are skipped, with a count.
 *   - users with role teacher or aide are teachers, administrator at the
 *     district admins, administrator at a school principals.  Students,
 *     parents, guardians and relatives are never imported and never kept,
 *     not even in memory past counting their rows (children get no
 *     accounts); proctors neither.
 *   - a person is matched by sourcedId, else an account made in kindling
 *     (no sourcedId) with their e-mail address (in any case) is adopted.
 *     A new account's name is the username (else the address's local
 *     part), made unique with -2, -3...; an account keeps its name for
 *     good.  Full name, e-mail address and school follow the roster.  The
 *     role follows the roster only when the roster set it (users.role_by):
 *     a role given in kindling (a coach) is kept and reported.
 *   - enabledUser false or status tobedeleted disables the account; with
 *     disable_missing, so does absence from users.csv for an account that
 *     came from a roster.  An account the roster lists enabled again is
 *     enabled.  Disabling ends the person's sessions at once (their rows
 *     are deleted; their tokens are refused while they are disabled).
 *     Nothing is ever deleted: clips and notes keep their author.
 *   - a file that is not a OneRoster 1.1 export, misses a column, repeats
 *     a sourcedId, names an org that is not in orgs.csv, or breaks a bound
 *     (ROSTER_* below; zip bombs, a 2 GB file) is refused whole.  A row
 *     that cannot be imported as asked but spoils nothing else (an e-mail
 *     address another account holds) is a warning: the rest is imported.
 *
 * Threads: a struct roster and a report belong to one thread at a time;
 * the functions keep no state between calls.
 */
#ifndef KINDLING_ROSTER_H
#define KINDLING_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct kd_db; /* db.h */

/* Bounds on what is read (bytes unless said).  The files are refused with
 * a message naming the file (and row) before more than this is read. */
#define ROSTER_FILE_MAX (64L << 20)    /* one CSV file, as stored */
#define ROSTER_ZIP_MAX (256L << 20)    /* the .zip itself */
#define ROSTER_ZIP_ENTRIES_MAX 1000    /* files and folders in the .zip */
#define ROSTER_ZIP_RATIO_MAX 200       /* uncompressed / compressed, over 1 MiB */
/* Rows of one file after its header: students' rows count too (users.csv
 * holds the whole district), so this must let a large district in: 64 MiB
 * of users.csv is some 500,000 rows, and only staff rows are kept. */
#define ROSTER_ROWS_MAX 1000000L
#define ROSTER_FIELD_MAX 4096          /* one field */
#define ROSTER_LINE_MAX (64L << 10)    /* one row */
#define ROSTER_ERRORS_MAX 50           /* errors and warnings kept, each */
#define ROSTER_ORGS_MAX 64             /* orgSourcedIds of one person */

/* ------------------------------------------------------------------ the report */

/* One thing the import did or would do. */
struct roster_field {
	const char *name;  /* "name", "district", "sourcedId", "full_name", "email",
	                    * "school", "role" (static strings) */
	char *from, *to;   /* NULL: none */
};

struct roster_entry {
	bool is_school;    /* a school (else a person) */
	int64_t id;        /* the catalogue's row id; 0 for one not added (a dry run) */
	char *sourced_id;
	char *name;        /* a person's kindling name / a school's slug */
	char *full_name;   /* a person's full name / a school's name */
	char *email;       /* people: NULL for none */
	char *role;        /* people: the kindling role (after the import) */
	char *school;      /* people: the school's slug (after), NULL for none */
	char *reason;      /* disabled, enabled, kept, adopted: why; else NULL */
	struct roster_field *fields; /* changed: what changed, from and to */
	size_t n_fields;
	long row;          /* its row in orgs.csv / users.csv; 0: not in the file */
};

struct roster_list {
	struct roster_entry *v;
	size_t n, cap;
};

/* An error (the import is refused) or a warning (one row imported
 * differently, or not at all). */
struct roster_issue {
	char *file;        /* "users.csv", "orgs.csv", "manifest.csv", the zip's
	                    * name, or NULL for the import as a whole */
	long row;          /* spreadsheet row (the header is 1); 0: the whole file */
	char *sourced_id;  /* the row's, when it is staff's or an org's; else NULL */
	char *message;     /* a sentence for a person: what and what to do */
};

struct roster_issues {
	struct roster_issue *v;
	size_t n, cap;
	long more;         /* beyond ROSTER_ERRORS_MAX, counted not kept */
};

/* Rows skipped, by reason ("not staff: students, parents, guardians and
 * relatives are never imported", "org of type department", ...). */
struct roster_skip {
	char *reason;
	long n;
};

struct roster_report {
	bool dry_run;        /* nothing was written (a plan, or opts.dry_run) */
	bool applied;        /* roster_apply ran for real: it committed the
	                      * changes, or found none to make */
	char *source;        /* what was read: a path, or the name given */
	bool delta;          /* the manifest says delta files (else bulk) */
	char *district;      /* the district org's name, or NULL */
	struct roster_list schools_added, schools_changed;
	long schools_unchanged;
	struct roster_list added, changed, disabled, enabled;
	struct roster_list kept;    /* roles given in kindling, kept */
	long unchanged;             /* people matched with nothing to change */
	struct roster_skip *skipped;
	size_t n_skipped;
	struct roster_issues warnings, errors;
};

/* A new, empty report.  Never fails (out of memory aborts). */
struct roster_report *roster_report_new(void);
void roster_report_free(struct roster_report *rep);

/* Record an error in rep (file and sourced_id may be NULL, row 0). */
void roster_report_error(struct roster_report *rep, const char *file, long row,
                         const char *sourced_id, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Did the import (would it) change anything? */
bool roster_report_changes(const struct roster_report *rep);

/* The report as one JSON object (a new reference; the caller decrefs):
 *   {"dry_run": bool, "applied": bool, "ok": bool, "source": str,
 *    "mode": "bulk"|"delta", "district": str|null,
 *    "counts": {"schools": {"added", "changed", "unchanged"},
 *               "people": {"added", "changed", "disabled", "enabled", "kept",
 *                          "unchanged", "skipped"}},
 *    "schools": {"added": [ENTRY], "changed": [ENTRY]},
 *    "added": [ENTRY], "changed": [ENTRY], "disabled": [ENTRY],
 *    "enabled": [ENTRY], "kept": [ENTRY],
 *    "skipped": {REASON: count},
 *    "warnings": [ISSUE], "errors": [ISSUE], "more_errors": n, "more_warnings": n}
 * ENTRY: {"sourcedId", "id" (null in a dry run for a new one), "row",
 *         people: "name", "full_name", "email", "role", "school";
 *         schools: "slug", "name";
 *         "reason" (when there is one), "fields" (changed: {FIELD: {"from", "to"}})}
 * ISSUE: {"file", "row", "sourcedId", "message"} (null when not known).
 * People's lists hold staff only: no child's data is ever in a report. */
json_t *roster_report_json(const struct roster_report *rep);

/* A reason rows were skipped (struct roster_skip) in words for a person,
 * into out: "students, parents, guardians and relatives (never imported)"
 * for "not staff", "orgs of type department (...)" for "org type
 * department"; the reason itself when there are no better words. */
void roster_skip_words(const char *reason, char *out, size_t len);

/* The report as text for a person, one line per thing done, ending with a
 * summary line ("nothing to change: ..." when nothing would change). */
void roster_report_print(FILE *out, const struct roster_report *rep);

/* ------------------------------------------------------------------ reading */

/* The staff and orgs of a roster, as read; read-only for callers. */
struct roster_org {
	char *sourced_id, *name, *type, *identifier, *parent; /* "" when absent */
	bool deleted;      /* status tobedeleted */
	long row;
};

struct roster_person {
	char *sourced_id;
	char *role;        /* OneRoster's: "teacher", "aide" or "administrator" */
	char *username, *given_name, *family_name, *email; /* trimmed; "" when empty */
	char **orgs;       /* orgSourcedIds, in order (at most ROSTER_ORGS_MAX) */
	size_t n_orgs;
	bool enabled;      /* enabledUser true */
	bool deleted;      /* status tobedeleted */
	long row;
};

struct roster {
	char *source;
	bool orgs_delta, users_delta;
	struct roster_org *orgs;
	size_t n_orgs;
	struct roster_person *people; /* staff rows only */
	size_t n_people;
	struct roster_skip *skipped;  /* rows not kept, by reason */
	size_t n_skipped;
};

/* Read a OneRoster 1.1 export at path: a folder holding manifest.csv,
 * orgs.csv and users.csv (other files are allowed and ignored), or a .zip
 * of them (at its top, or in one folder at its top).  Sizes are checked
 * before anything is read.  On success returns 0 and *out (free with
 * roster_free).  Else returns KD_EINVAL (not a OneRoster export, or
 * malformed), KD_ETOOBIG (over a bound), KD_ENOTFOUND or KD_EIO, with every
 * reason found in rep->errors (up to ROSTER_ERRORS_MAX), and *out NULL. */
int roster_read_path(const char *path, struct roster **out, struct roster_report *rep);

/* The same for a .zip held in memory (an upload): len bytes at data, which
 * the caller keeps until this returns.  name says in messages what it is
 * ("district.zip"). */
int roster_read_zip_mem(const void *data, size_t len, const char *name, struct roster **out,
                        struct roster_report *rep);

/* The same for the three files' contents in memory (manifest may be NULL
 * only to be refused with a message that says a manifest is needed). */
int roster_read_csv(const char *manifest, size_t manifest_len, const char *orgs, size_t orgs_len,
                    const char *users, size_t users_len, const char *name, struct roster **out,
                    struct roster_report *rep);

void roster_free(struct roster *r);

/* ------------------------------------------------------------------ planning and applying */

struct roster_opts {
	bool dry_run;          /* roster_apply only plans */
	bool disable_missing;  /* disable roster accounts absent from users.csv
	                        * (bulk files only: refused for delta files) */
};

/* What importing r would do to the catalogue now, into rep (a new one
 * from roster_report_new; rep->dry_run is set).  Writes nothing.  Returns
 * 0; KD_EINVAL when r cannot be imported (an org reference to nothing,
 * disable_missing with delta files...: rep->errors says why); KD_EDB. */
int roster_plan(struct kd_db *db, const struct roster *r, const struct roster_opts *opts,
                struct roster_report *rep);

/* Plan and carry the plan out in one transaction, into rep (a new one):
 * on success rep lists what was done, with the new rows' ids, and
 * rep->applied is set.  On any failure nothing at all is written.  Returns
 * as roster_plan, KD_EDB when the catalogue refused a change (rep->errors
 * names the row), and KD_EBUSY when it stayed locked.  With
 * opts->dry_run it is roster_plan.  The plan is made again inside the
 * transaction, so what is applied is what the catalogue holds then, not
 * when a dry run was shown. */
int roster_apply(struct kd_db *db, const struct roster *r, const struct roster_opts *opts,
                 struct roster_report *rep);

#endif
