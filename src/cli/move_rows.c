/* move_rows.c - the rows of a table on either engine, for move-to
 * --database (move_rows.h): the SQL that reads and writes them, their
 * checksums, and one row bound as the next statement's values. */
#include "move_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/buf.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/mem.h"
#include "kindling/sha256.h"

/* One value of a key column, kept from one page of rows to the next. */
struct value {
	int type;
	int64_t i;
	double f;
	char *s;
	int n;
};

/* A name from PRAGMA table_info as an identifier: "name", quotes doubled. */
void move_put_ident(struct kd_buf *b, const char *name)
{
	kd_buf_putc(b, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			kd_buf_putc(b, '"');
		kd_buf_putc(b, *p);
	}
	kd_buf_putc(b, '"');
}

/* The columns of t (all, or the key's when key is set), comma-separated. */
static void put_cols(struct kd_buf *b, const struct table *t, bool key)
{
	int n = key ? t->n_key : t->n_cols;
	for (int i = 0; i < n; i++) {
		if (i)
			kd_buf_puts(b, ", ");
		move_put_ident(b, t->cols[key ? t->key[i] : i]);
	}
}

/* SELECT every column of t in key order; after: only rows past the key
 * bound as ?1..?n; limit: at most that many rows (0: all). */
char *move_select_sql(const struct table *t, bool after, int limit)
{
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	kd_buf_puts(&b, "SELECT ");
	put_cols(&b, t, false);
	kd_buf_puts(&b, " FROM ");
	move_put_ident(&b, t->name);
	if (after) {
		kd_buf_puts(&b, " WHERE (");
		put_cols(&b, t, true);
		kd_buf_puts(&b, ") > (");
		for (int i = 0; i < t->n_key; i++)
			kd_buf_printf(&b, "%s?%d", i ? ", " : "", i + 1);
		kd_buf_putc(&b, ')');
	}
	kd_buf_puts(&b, " ORDER BY ");
	put_cols(&b, t, true);
	if (limit)
		kd_buf_printf(&b, " LIMIT %d", limit);
	return kd_buf_take(&b, NULL);
}

char *move_insert_sql(const struct table *t)
{
	struct kd_buf b = KD_BUF_INIT(SIZE_MAX);
	kd_buf_puts(&b, "INSERT INTO ");
	move_put_ident(&b, t->name);
	kd_buf_puts(&b, " (");
	put_cols(&b, t, false);
	kd_buf_puts(&b, ") VALUES (");
	for (int i = 0; i < t->n_cols; i++)
		kd_buf_printf(&b, "%s?%d", i ? ", " : "", i + 1);
	kd_buf_putc(&b, ')');
	return kd_buf_take(&b, NULL);
}

/* ------------------------------------------------------------ checksums */

/* Add a row's SHA-256 to d: each value with its type, floats to 15
 * digits (what any PostgreSQL prints of a double, and reads back the
 * same), text and bytes with their length. */
int move_digest_row(struct digest *d, struct kd_stmt *st, int n_cols)
{
	struct kd_sha256 h;
	if (kd_sha256_init(&h) < 0)
		return KD_ENOMEM;
	for (int c = 0; c < n_cols; c++) {
		int type = db_column_type(st, c);
		unsigned char tag = (unsigned char)type;
		kd_sha256_update(&h, &tag, 1);
		if (type == DB_INTEGER) {
			int64_t v = db_column_int64(st, c);
			kd_sha256_update(&h, &v, sizeof v);
		} else if (type == DB_FLOAT) {
			char num[40];
			int k = snprintf(num, sizeof num, "%.15g", db_column_double(st, c));
			kd_sha256_update(&h, num, (size_t)k);
		} else if (type == DB_TEXT || type == DB_BLOB) {
			const void *p = type == DB_TEXT ? (const void *)db_column_text(st, c)
			                                : db_column_blob(st, c);
			uint64_t len = (uint64_t)db_column_bytes(st, c);
			kd_sha256_update(&h, &len, sizeof len);
			if (len)
				kd_sha256_update(&h, p, (size_t)len);
		}
	}
	char hex[KD_SHA256_HEX];
	kd_sha256_final(&h, hex);
	for (int w = 0; w < 4; w++) {
		char part[17];
		memcpy(part, hex + 16 * w, 16);
		part[16] = '\0';
		d->w[w] += strtoull(part, NULL, 16);
	}
	d->rows++;
	return 0;
}

bool move_same_digest(const struct digest *a, const struct digest *b)
{
	return a->rows == b->rows && !memcmp(a->w, b->w, sizeof a->w);
}

static void value_keep(struct value *v, struct kd_stmt *st, int col)
{
	free(v->s);
	memset(v, 0, sizeof *v);
	v->type = db_column_type(st, col);
	if (v->type == DB_INTEGER)
		v->i = db_column_int64(st, col);
	else if (v->type == DB_FLOAT)
		v->f = db_column_double(st, col);
	else if (v->type == DB_TEXT || v->type == DB_BLOB) {
		const void *p = v->type == DB_TEXT ? (const void *)db_column_text(st, col)
		                                   : db_column_blob(st, col);
		v->n = db_column_bytes(st, col);
		v->s = kd_malloc((size_t)v->n + 1);
		if (v->n)
			memcpy(v->s, p, (size_t)v->n);
		v->s[v->n] = '\0';
	}
}

/* Bind column col of the row st is on to parameter i of to, as the type
 * it has. */
static int bind_column(struct kd_stmt *to, int i, struct kd_stmt *st, int col)
{
	switch (db_column_type(st, col)) {
	case DB_INTEGER: return db_bind_int64(to, i, db_column_int64(st, col));
	case DB_FLOAT: return db_bind_double(to, i, db_column_double(st, col));
	case DB_TEXT: {
		const char *s = (const char *)db_column_text(st, col);
		return db_bind_text(to, i, s, db_column_bytes(st, col), DB_TRANSIENT);
	}
	case DB_BLOB: {
		const void *p = db_column_blob(st, col);
		return db_bind_blob(to, i, p, db_column_bytes(st, col), DB_TRANSIENT);
	}
	default: return db_bind_null(to, i);
	}
}

/* The same for a value kept from an earlier row. */
static int bind_value(struct kd_stmt *to, int i, const struct value *v)
{
	switch (v->type) {
	case DB_INTEGER: return db_bind_int64(to, i, v->i);
	case DB_FLOAT: return db_bind_double(to, i, v->f);
	case DB_TEXT: return db_bind_text(to, i, v->s, v->n, DB_TRANSIENT);
	case DB_BLOB: return db_bind_blob(to, i, v->s, v->n, DB_TRANSIENT);
	default: return db_bind_null(to, i);
	}
}

/* The checksum of every row of t in db, read a page at a time in key
 * order (each page starts past the last key of the one before). */
int move_digest_table(struct kd_db *db, const struct table *t, struct digest *d, char *err,
                        size_t errlen)
{
	char *first = move_select_sql(t, false, PAGE_ROWS), *next = move_select_sql(t, true, PAGE_ROWS);
	struct value *last = kd_calloc((size_t)t->n_key, sizeof *last);
	struct kd_stmt *st = NULL;
	memset(d, 0, sizeof *d);
	int rc = db_prepare(db, first, &st), e = 0;
	bool paging = false;
	while (rc == DB_OK) {
		int got = 0;
		while (!e && (rc = db_step(st)) == DB_ROW) {
			e = move_digest_row(d, st, t->n_cols);
			if (++got == PAGE_ROWS)
				for (int k = 0; k < t->n_key; k++)
					value_keep(&last[k], st, t->key[k]);
		}
		if (e || rc != DB_DONE || got < PAGE_ROWS)
			break;
		if (paging) {
			db_reset(st);
		} else {
			db_finalize(st);
			st = NULL;
			paging = true;
			if ((rc = db_prepare(db, next, &st)) != DB_OK)
				break;
		}
		for (int k = 0; k < t->n_key; k++)
			bind_value(st, k + 1, &last[k]);
	}
	if (e || rc != DB_DONE)
		snprintf(err, errlen, "cannot read %s back: %s", t->name,
		         e ? kd_strerror(e) : db_errmsg(db));
	db_finalize(st);
	for (int k = 0; k < t->n_key; k++)
		free(last[k].s);
	free(last);
	free(first);
	free(next);
	return e ? e : rc == DB_DONE ? 0 : db_err_code(rc);
}

/* Bind every column of the row rd is on to wr's parameters, each as the
 * type SQLite has it. */
int move_bind_row(struct kd_stmt *wr, struct kd_stmt *rd, int n_cols)
{
	int rc = DB_OK;
	for (int c = 0; c < n_cols && rc == DB_OK; c++)
		rc = bind_column(wr, c + 1, rd, c);
	return rc;
}

