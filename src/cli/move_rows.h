/*
 * move_rows.h - the rows of one table on either engine, for `kindling
 * move-to --database` (move_db.c): the SQL that reads and writes them,
 * an order-free checksum of them, and one row bound as another
 * statement's values.  Private to src/cli/.
 */
#ifndef KINDLING_CLI_MOVE_ROWS_H
#define KINDLING_CLI_MOVE_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/buf.h"

struct kd_db;
struct kd_stmt;

/* Rows per read when checking a table: PostgreSQL's driver holds a whole
 * answer in memory, and views may be millions. */
#define PAGE_ROWS 2000

/* An order-free checksum of a table: the sum, word by word, of every
 * row's SHA-256, so that each engine may give its rows in its own order
 * (text keys sort by collation in PostgreSQL, by bytes in SQLite). */
struct digest {
	uint64_t w[4];
	int64_t rows;
};

/* A table as the data folder's catalogue has it. */
struct table {
	const char *name, *label;
	char **cols;
	int n_cols;
	int *key; /* the primary key's columns (indexes into cols), in key order */
	int n_key;
	bool has_id;    /* "id" alone is the key: an identity column in PostgreSQL */
	int64_t top_id; /* the highest id ever given (deleted ones too), or 0 */
	struct digest src;
};

/* A name as an identifier: "name", quotes doubled. */
void move_put_ident(struct kd_buf *b, const char *name);
/* SELECT every column of t in key order; after: only rows past the key
 * bound as ?1..?n; limit: at most that many rows (0: all).  New strings. */
char *move_select_sql(const struct table *t, bool after, int limit);
char *move_insert_sql(const struct table *t);

/* Add the row st is on to d.  0 or KD_ENOMEM. */
int move_digest_row(struct digest *d, struct kd_stmt *st, int n_cols);
bool move_same_digest(const struct digest *a, const struct digest *b);
/* The checksum of every row of t in db, a page at a time.  0, or a KD_E*
 * code with err saying what could not be read. */
int move_digest_table(struct kd_db *db, const struct table *t, struct digest *d, char *err,
                      size_t errlen);
/* Bind every column of the row rd is on to wr's parameters, each as the
 * type it has.  A DB_* result. */
int move_bind_row(struct kd_stmt *wr, struct kd_stmt *rd, int n_cols);

#endif
