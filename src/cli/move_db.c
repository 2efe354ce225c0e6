/* move_db.c - kindling move-to --database (see move_db.h): the data
 * folder's catalogue copied into PostgreSQL table by table, inside one
 * transaction there and one read transaction here, then read back and
 * compared before it is committed. */
#include "move_db.h"
#include "move_rows.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kindling/buf.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/mem.h"

/* The base tables, parents before children, so that every foreign key
 * finds its row when it goes in (PostgreSQL checks each at once). */
static const struct {
	const char *name, *label;
} TABLES[MOVE_DB_TABLES] = {
	{"schools", "schools"},
	{"practices", "practices"},
	{"users", "users"},
	{"tokens", "tokens"},
	{"sessions", "sessions"},
	{"upload_batches", "upload batches"}, /* issue 16: before the clips naming them */
	{"clips", "clips"},
	{"clip_practices", "clip practices"},
	{"clip_tags", "clip tags"},
	{"comments", "notes"},
	{"visits", "visits"},
	{"views", "views"},
	{"jobs", "jobs"},
	{"consent_events", "consent records"},
	{"blur_regions", "blur regions"},
	/* issue 15: moments and caption cues (caption_fts is derived, below) */
	{"moments", "moments"},
	{"caption_cues", "caption cues"},
	{"audit", "audit entries"},
	/* issue 16: mail */
	{"follows", "followed practices"},
	{"mail_prefs", "mail switches"},
	{"outbox", "mail messages"},
};

/* Not copied: PostgreSQL's triggers make them from the rows above as they
 * go in, the way SQLite's made them here (clips_fts and SQLite's shadow
 * tables of it: every clip's document, rebuilt on each of its rows; the
 * view counts: each view counted as it goes in, after its clip and the
 * clip's practices, so with the clip as it is now, which is what SQLite's
 * counts hold after their own updates).  The generation and the change log
 * start at numbers of their own, random, as on any new catalogue. */
static const char *const DERIVED[] = {"catalogue_generation", "clip_changes", "view_counts",
                                      "view_practice_counts"};
/* Not copied either: uploads in flight across the web nodes of a
 * PostgreSQL catalogue (schema/008).  A data folder's server keeps its
 * uploads in uploads/ and leaves the table empty; an upload in flight at
 * the switch is sent again by its client.  Nor sign-ins through the
 * identity provider under way (schema/009): they last ten minutes, and one
 * caught by the switch is begun again from the sign-in page. */
static const char *const NOT_MOVED[] = {"uploads", "oidc_logins"};
#define FTS_PREFIX "clips_fts"
/* issue 15: the captions' search index, made like clips_fts: by SQLite's
 * triggers here, and on PostgreSQL as caption_cues.doc by its trigger as
 * each cue goes in. */
#define CAPTION_FTS_PREFIX "caption_fts"

/* A line on standard error every so many rows copied, for big tables. */
#define PROGRESS_ROWS 100000

/* ------------------------------------------------------------ SQL text */

/* One number from SQL that takes no parameter but the optional text p1.
 * Returns 0 with *v (0 for NULL or no row), or KD_EDB. */
static int one_number(struct kd_db *db, const char *sql, const char *p1, int64_t *v)
{
	struct kd_stmt *st;
	*v = 0;
	if (db_prepare(db, sql, &st) != DB_OK)
		return KD_EDB;
	if (p1)
		db_bind_text(st, 1, p1, -1, DB_TRANSIENT);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*v = db_column_int64(st, 0);
	db_finalize(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : db_err_code(rc);
}

/* ------------------------------------------------------------ the source */

/* The catalogue must be what this binary writes: the same columns as the
 * PostgreSQL schema it migrates the target to.  Migrating it here would
 * write to the data folder, which move-to leaves as it was. */
static int check_version(struct kd_db *db, const char *path, char *err, size_t errlen)
{
	int64_t have;
	int want = db_schema_version();
	if (one_number(db, "PRAGMA user_version", NULL, &have) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, db_errmsg(db));
		return KD_EDB;
	}
	if (have < want) {
		snprintf(err, errlen,
		         "%s is at schema version %lld and this kindling writes version %d: start this "
		         "kindling once on the data folder (kindling serve, then stop it) so that it "
		         "brings the catalogue up to date, then run move-to again",
		         path, (long long)have, want);
		return KD_EVERSION;
	}
	if (have > want) {
		snprintf(err, errlen,
		         "%s was written by a newer kindling (schema %lld, this one knows %d): run "
		         "move-to with that newer kindling",
		         path, (long long)have, want);
		return KD_EVERSION;
	}
	return 0;
}

int move_db_open_source(const char *path, struct kd_db **out, char *err, size_t errlen)
{
	struct stat sb;
	*out = NULL;
	/* (db_connect would make an empty catalogue where there is none) */
	const char *why = stat(path, &sb) < 0 ? strerror(errno)
	                  : !S_ISREG(sb.st_mode) ? "not a file" : NULL;
	if (why) {
		snprintf(err, errlen,
		         "there is no catalogue at %s (%s): give --data the data folder that holds "
		         "catalogue.db",
		         path, why);
		return KD_ENOTFOUND;
	}
	struct kd_db *db;
	int rc = db_connect(path, &db, err, errlen);
	if (rc < 0)
		return rc;
	/* Nothing this connection runs may write: SQLite itself refuses. */
	if (db_exec(db, "PRAGMA query_only = ON") != DB_OK) {
		snprintf(err, errlen, "cannot open %s for reading only: %s", path, db_errmsg(db));
		rc = KD_EDB;
	}
	if (rc == 0)
		rc = check_version(db, path, err, errlen);
	if (rc < 0) {
		db_close(&db);
		return rc;
	}
	*out = db;
	return 0;
}

static bool known_table(const char *name)
{
	if (!strncmp(name, "sqlite_", 7) || !strncmp(name, FTS_PREFIX, strlen(FTS_PREFIX)) ||
	    !strncmp(name, CAPTION_FTS_PREFIX, strlen(CAPTION_FTS_PREFIX)))
		return true;
	for (size_t i = 0; i < MOVE_DB_TABLES; i++)
		if (!strcmp(name, TABLES[i].name))
			return true;
	for (size_t i = 0; i < sizeof DERIVED / sizeof *DERIVED; i++)
		if (!strcmp(name, DERIVED[i]))
			return true;
	for (size_t i = 0; i < sizeof NOT_MOVED / sizeof *NOT_MOVED; i++)
		if (!strcmp(name, NOT_MOVED[i]))
			return true;
	return false;
}

/* A table this file does not know (a migration added it and move-to was
 * not taught) would be left behind without a word: refused instead. */
static int check_tables_known(struct kd_db *src, char *err, size_t errlen)
{
	struct kd_stmt *st;
	if (db_prepare(src, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
	               &st) != DB_OK) {
		snprintf(err, errlen, "cannot list the catalogue's tables: %s", db_errmsg(src));
		return KD_EDB;
	}
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *name = (const char *)db_column_text(st, 0);
		if (name && !known_table(name)) {
			snprintf(err, errlen,
			         "the catalogue has a table %.100s that this kindling does not know how to "
			         "move; nothing was copied: report this",
			         name);
			db_finalize(st);
			return KD_EINVAL;
		}
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		snprintf(err, errlen, "cannot list the catalogue's tables: %s", db_errmsg(src));
		return db_err_code(rc);
	}
	return 0;
}

static void add_column(struct table *t, const char *name, int pk)
{
	t->cols = kd_realloc(t->cols, (size_t)(t->n_cols + 1) * sizeof *t->cols);
	t->cols[t->n_cols] = kd_strdup(name);
	if (pk > 0) {
		/* pk is the column's place in the key, from 1 */
		if (pk > t->n_key) {
			t->key = kd_realloc(t->key, (size_t)pk * sizeof *t->key);
			for (int k = t->n_key; k < pk; k++)
				t->key[k] = -1;
			t->n_key = pk;
		}
		t->key[pk - 1] = t->n_cols;
	}
	t->n_cols++;
}

/* The highest id the table ever gave: its largest, or SQLite's record of
 * the AUTOINCREMENT tables (clips, users), which counts deleted rows too,
 * so that a deleted clip's id is never given again in PostgreSQL either. */
static int find_top_id(struct kd_db *src, struct table *t)
{
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	kd_buf_puts(&b, "SELECT max(\"id\") FROM ");
	move_put_ident(&b, t->name);
	int64_t top, seq = 0;
	int rc = one_number(src, kd_buf_str(&b), NULL, &top);
	kd_buf_release(&b);
	/* (no sqlite_sequence at all: no AUTOINCREMENT table, nothing to add) */
	one_number(src, "SELECT seq FROM sqlite_sequence WHERE name = ?1", t->name, &seq);
	t->top_id = top > seq ? top : seq;
	return rc;
}

/* The columns and key of the table as the source has it: they are the
 * ones PostgreSQL has too (same schema version), whatever migrations added. */
static int describe(struct kd_db *src, struct table *t, char *err, size_t errlen)
{
	struct kd_stmt *st;
	if (db_prepare(src, "SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid", &st) !=
	    DB_OK) {
		snprintf(err, errlen, "cannot read the columns of %s: %s", t->name, db_errmsg(src));
		return KD_EDB;
	}
	db_bind_text(st, 1, t->name, -1, DB_STATIC);
	int rc;
	while ((rc = db_step(st)) == DB_ROW)
		add_column(t, (const char *)db_column_text(st, 0), db_column_int(st, 1));
	db_finalize(st);
	bool keyed = t->n_key > 0;
	for (int k = 0; k < t->n_key; k++)
		keyed &= t->key[k] >= 0;
	if (rc != DB_DONE || !t->n_cols || !keyed) {
		snprintf(err, errlen, "the catalogue's table %s is %s; nothing was copied: report this",
		         t->name, rc != DB_DONE ? db_errmsg(src) : !t->n_cols ? "missing" : "keyless");
		return KD_EDB;
	}
	t->has_id = t->n_key == 1 && !strcmp(t->cols[t->key[0]], "id");
	if (t->has_id && find_top_id(src, t) < 0) {
		snprintf(err, errlen, "cannot read the ids of %s: %s", t->name, db_errmsg(src));
		return KD_EDB;
	}
	return 0;
}

static void free_table(struct table *t)
{
	for (int i = 0; i < t->n_cols; i++)
		free(t->cols[i]);
	free(t->cols);
	free(t->key);
}

/* ------------------------------------------------------------ the copy */

/* "id 42", "clip_id 3, tag 'x'": the row an error is about. */
static void key_text(const struct table *t, struct kd_stmt *st, char *out, size_t outlen)
{
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	for (int k = 0; k < t->n_key; k++) {
		int c = t->key[k];
		kd_buf_printf(&b, "%s%s ", k ? ", " : "", t->cols[c]);
		if (db_column_type(st, c) == DB_INTEGER)
			kd_buf_printf(&b, "%lld", (long long)db_column_int64(st, c));
		else
			kd_buf_printf(&b, "'%.40s'", (const char *)db_column_text(st, c));
	}
	snprintf(out, outlen, "%s", kd_buf_str(&b));
	kd_buf_release(&b);
}

/* Copy every row of t, and add each to t->src as it goes. */
static int copy_table(struct kd_db *src, struct kd_db *dst, struct table *t, const char *shown,
                      char *err, size_t errlen)
{
	char *select = move_select_sql(t, false, 0), *insert = move_insert_sql(t);
	struct kd_stmt *rd = NULL, *wr = NULL;
	int rc = db_prepare(src, select, &rd), e = 0;
	if (rc == DB_OK && (rc = db_prepare(dst, insert, &wr)) != DB_OK)
		snprintf(err, errlen, "cannot prepare the copy of %s: %s", t->name, db_errmsg(dst));
	else if (rc != DB_OK)
		snprintf(err, errlen, "cannot read %s: %s", t->name, db_errmsg(src));
	while (rc == DB_OK && !e && (rc = db_step(rd)) == DB_ROW) {
		int w = move_bind_row(wr, rd, t->n_cols);
		if (w == DB_OK)
			w = db_step(wr);
		if (w != DB_DONE) {
			char key[160];
			key_text(t, rd, key, sizeof key);
			snprintf(err, errlen, "PostgreSQL (%s) refuses the %s row %s: %s; report this, "
			         "naming the row", shown, t->name, key, db_errmsg(dst));
			rc = db_err_code(w);
			break;
		}
		db_reset(wr);
		db_clear_bindings(wr);
		e = move_digest_row(&t->src, rd, t->n_cols);
		if (t->src.rows % PROGRESS_ROWS == 0)
			fprintf(stderr, "move-to: %lld %s copied\n", (long long)t->src.rows, t->label);
		rc = DB_OK;
	}
	if (e)
		snprintf(err, errlen, "cannot copy %s: %s", t->name, kd_strerror(e));
	else if (rc != DB_DONE && rc > 0 && wr)
		snprintf(err, errlen, "cannot read %s: %s", t->name, db_errmsg(src));
	db_finalize(rd);
	db_finalize(wr);
	free(select);
	free(insert);
	return e ? e : rc == DB_DONE ? 0 : rc < 0 ? rc : db_err_code(rc);
}

/* PostgreSQL gives ids from a sequence per table that knows nothing of
 * the ids copied in: each is moved past the highest id its table ever
 * gave, so that the next clip or person gets a new one. */
static int move_sequences(struct kd_db *dst, const struct table *t, char *err, size_t errlen)
{
	struct kd_stmt *st;
	if (db_prepare(dst, "SELECT setval(pg_get_serial_sequence(?1, 'id'), ?2)", &st) != DB_OK) {
		snprintf(err, errlen, "cannot move the id sequences: %s", db_errmsg(dst));
		return KD_EDB;
	}
	int rc = DB_ROW;
	for (int i = 0; i < MOVE_DB_TABLES && rc == DB_ROW; i++) {
		if (!t[i].has_id || t[i].top_id <= 0)
			continue; /* a sequence cannot be set to 0: it starts at 1 already */
		db_reset(st);
		db_bind_text(st, 1, t[i].name, -1, DB_STATIC);
		db_bind_int64(st, 2, t[i].top_id);
		if ((rc = db_step(st)) != DB_ROW)
			snprintf(err, errlen, "cannot move the id sequence of %s: %s", t[i].name,
			         db_errmsg(dst));
	}
	db_finalize(st);
	return rc == DB_ROW ? 0 : db_err_code(rc);
}

/* Every table of dst read back and compared with what was read from src. */
static int verify(struct kd_db *dst, const struct table *t, const char *shown, char *err,
                  size_t errlen)
{
	for (int i = 0; i < MOVE_DB_TABLES; i++) {
		struct digest d;
		int rc = move_digest_table(dst, &t[i], &d, err, errlen);
		if (rc < 0)
			return rc;
		if (!move_same_digest(&d, &t[i].src)) {
			snprintf(err, errlen,
			         "after the copy %s does not read back as the data folder has it: %s has "
			         "%lld rows there, %lld here%s; report this",
			         shown, t[i].name, (long long)d.rows, (long long)t[i].src.rows,
			         d.rows == t[i].src.rows ? ", and not the same values" : "");
			return KD_EDB;
		}
	}
	return 0;
}

/* How many rows dst's tables hold (counts[i] for TABLES[i]); *empty: none
 * but practices, which a new catalogue is seeded with. */
static int count_target(struct kd_db *dst, const struct table *t, int64_t *counts, bool *empty,
                        char *err, size_t errlen)
{
	*empty = true;
	for (int i = 0; i < MOVE_DB_TABLES; i++) {
		struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
		kd_buf_puts(&b, "SELECT count(*) FROM ");
		move_put_ident(&b, t[i].name);
		int rc = one_number(dst, kd_buf_str(&b), NULL, &counts[i]);
		kd_buf_release(&b);
		if (rc < 0) {
			snprintf(err, errlen, "cannot count the rows of %s in PostgreSQL: %s", t[i].name,
			         db_errmsg(dst));
			return rc;
		}
		if (counts[i] && strcmp(t[i].name, "practices"))
			*empty = false;
	}
	return 0;
}

/* The copy itself, in one transaction on dst: rolled back whatever fails,
 * committed only once verify() found every row. */
static int copy_all(struct kd_db *src, struct kd_db *dst, struct table *t, const char *shown,
                    char *err, size_t errlen)
{
	int rc = db_begin(dst);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start a transaction in %s: %s", shown, db_errmsg(dst));
		return rc;
	}
	/* empty still, now that no other writer can get in (its lock is ours) */
	int64_t counts[MOVE_DB_TABLES];
	bool empty;
	if ((rc = count_target(dst, t, counts, &empty, err, errlen)) == 0 && !empty) {
		snprintf(err, errlen, "something wrote to %s as move-to began (another move-to, or a "
		         "server on it): stop it and run move-to again", shown);
		rc = KD_EBUSY;
	}
	/* The migration seeded the usual practices; the data folder's own
	 * (the same, or the district's list) take their place, ids and all. */
	if (rc == 0 && db_exec(dst, "DELETE FROM practices") != DB_OK) {
		snprintf(err, errlen, "cannot replace the seeded practices in %s: %s", shown,
		         db_errmsg(dst));
		rc = KD_EDB;
	}
	for (int i = 0; rc == 0 && i < MOVE_DB_TABLES; i++)
		rc = copy_table(src, dst, &t[i], shown, err, errlen);
	if (rc == 0)
		rc = move_sequences(dst, t, err, errlen);
	if (rc == 0)
		rc = verify(dst, t, shown, err, errlen);
	if (rc == 0 && (rc = db_commit(dst)) < 0)
		snprintf(err, errlen, "cannot commit the copy in %s: %s", shown, db_errmsg(dst));
	if (rc < 0) {
		db_rollback(dst);
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (nothing was committed in PostgreSQL)");
	}
	return rc;
}

/* ------------------------------------------------------------ a target in use */

static int64_t count_of(const int64_t *counts, const char *table)
{
	for (int i = 0; i < MOVE_DB_TABLES; i++)
		if (!strcmp(TABLES[i].name, table))
			return counts[i];
	return 0;
}

/* A target that holds a catalogue: this one as it is now (a run again
 * after a complete copy: 0, nothing to do), or not (refused). */
static int compare_existing(struct kd_db *src, struct kd_db *dst, struct table *t,
                            const int64_t *counts, const char *shown, char *err, size_t errlen)
{
	bool same = true;
	for (int i = 0; i < MOVE_DB_TABLES && same; i++) {
		struct digest d;
		int rc = move_digest_table(src, &t[i], &t[i].src, err, errlen);
		if (rc == 0)
			rc = move_digest_table(dst, &t[i], &d, err, errlen);
		if (rc < 0)
			return rc;
		same = move_same_digest(&d, &t[i].src);
	}
	if (same)
		return 0;
	snprintf(err, errlen,
	         "%s: the database already holds a catalogue (%lld schools, %lld users, %lld clips) "
	         "that is not this data folder's as it is now; move-to copies into an empty one: "
	         "create a new database and give its URL, or drop this one and create it again",
	         shown, (long long)count_of(counts, "schools"), (long long)count_of(counts, "users"),
	         (long long)count_of(counts, "clips"));
	return KD_EEXIST;
}

/* ------------------------------------------------------------ the whole */

static int copy_or_compare(struct kd_db *src, struct kd_db *dst, struct table *t,
                           const char *shown, bool *already, char *err, size_t errlen)
{
	int rc = check_tables_known(src, err, errlen);
	for (int i = 0; rc == 0 && i < MOVE_DB_TABLES; i++)
		rc = describe(src, &t[i], err, errlen);
	int64_t counts[MOVE_DB_TABLES] = {0};
	bool empty = false;
	if (rc == 0)
		rc = count_target(dst, t, counts, &empty, err, errlen);
	if (rc == 0 && !empty) {
		rc = compare_existing(src, dst, t, counts, shown, err, errlen);
		*already = rc == 0;
	} else if (rc == 0) {
		rc = copy_all(src, dst, t, shown, err, errlen);
	}
	return rc;
}

int move_db_copy(struct kd_db *src, struct kd_db *dst, const char *shown,
                 struct move_db_result *res, char *err, size_t errlen)
{
	struct table t[MOVE_DB_TABLES];
	memset(t, 0, sizeof t);
	memset(res, 0, sizeof *res);
	for (int i = 0; i < MOVE_DB_TABLES; i++) {
		t[i].name = TABLES[i].name;
		t[i].label = res->labels[i] = TABLES[i].label;
	}
	if (db_backend(src) != DB_SQLITE || db_backend(dst) != DB_POSTGRES) {
		snprintf(err, errlen, "move-to copies a data folder's catalogue.db into PostgreSQL");
		return KD_EINVAL;
	}
	/* One read transaction for all of it: a server still running on the
	 * data folder may go on writing, the copy sees the catalogue as it was
	 * at its first read (WAL: readers see one snapshot, writers go on). */
	if (db_exec(src, "BEGIN") != DB_OK) {
		snprintf(err, errlen, "cannot start reading the catalogue: %s", db_errmsg(src));
		return KD_EDB;
	}
	int rc = copy_or_compare(src, dst, t, shown, &res->already, err, errlen);
	db_exec(src, "COMMIT"); /* the end of the read: nothing was written */
	for (int i = 0; i < MOVE_DB_TABLES; i++) {
		res->rows[i] = t[i].src.rows;
		free_table(&t[i]);
	}
	return rc;
}

/* ------------------------------------------------------------ URLs */

/* Append the query q (after its '?') to b, the value of a password=...
 * parameter hidden. */
static void put_query(struct kd_buf *b, const char *q, bool *hid)
{
	while (*q) {
		size_t n = strcspn(q, "&");
		if (!strncmp(q, "password=", 9)) {
			kd_buf_puts(b, "password=***");
			*hid = true;
		} else {
			kd_buf_append(b, q, n);
		}
		q += n;
		if (*q == '&')
			kd_buf_putc(b, *q++);
	}
}

char *move_db_redact(const char *url, bool *had_password)
{
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	*had_password = false;
	const char *scheme = strstr(url, "://");
	const char *auth = scheme ? scheme + 3 : url;
	size_t n = strcspn(auth, "/?#");
	const char *at = NULL, *colon = NULL;
	for (const char *p = auth; p < auth + n; p++)
		if (*p == '@')
			at = p;
	for (const char *p = auth; at && p < at && !colon; p++)
		if (*p == ':')
			colon = p;
	if (colon) {
		kd_buf_append(&b, url, (size_t)(colon + 1 - url));
		kd_buf_puts(&b, "***");
		*had_password = true;
		kd_buf_append(&b, at, (size_t)(auth + n - at));
	} else {
		kd_buf_append(&b, url, (size_t)(auth + n - url));
	}
	const char *rest = auth + n, *q = strchr(rest, '?');
	kd_buf_append(&b, rest, q ? (size_t)(q - rest) + 1 : strlen(rest));
	if (q)
		put_query(&b, q + 1, had_password);
	return kd_buf_take(&b, NULL);
}
