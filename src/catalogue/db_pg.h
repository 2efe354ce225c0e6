/*
 * db_pg.h - the catalogue on PostgreSQL, through libpq.  Private to
 * src/catalogue/: everything above uses db.h, which chooses this or
 * SQLite.
 *
 * It speaks the catalogue's SQL as written for SQLite, with what differs
 * handled here or in the PostgreSQL schema (schema/postgres/):
 *   - parameters ?N become $N (a bare ? the next number), outside quotes
 *     and comments; values are typed by how they are bound, and a
 *     parameter never bound is sent as a NULL text;
 *   - SQLite's functions the catalogue uses (strftime, group_concat...)
 *     and the NOCASE collation exist in the PostgreSQL schema under the
 *     same names;
 *   - results come as text and are read back as numbers, text or bytes.
 * Statements are prepared on the server once per connection and kept.
 *
 * Return codes follow db.h: DB_ROW, DB_DONE, or a DB_* error, with the
 * server's message from pg_errmsg().
 */
#ifndef KINDLING_CATALOGUE_DB_PG_H
#define KINDLING_CATALOGUE_DB_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pg_conn;
struct pg_stmt;

/* Connect to url (postgresql://...).  0 or KD_EIO with a message. */
int pg_open(const char *url, struct pg_conn **out, char *err, size_t errlen);
void pg_close(struct pg_conn *c);

/* A statement for sql (kept as the caller's pointer: it must live as long
 * as the statement).  DB_OK or a DB_* error. */
int pg_prepare(struct pg_conn *c, const char *sql, struct pg_stmt **out);
int pg_bind_int64(struct pg_stmt *st, int i, int64_t v);
int pg_bind_double(struct pg_stmt *st, int i, double v);
/* n < 0: up to the terminator.  The text is copied. */
int pg_bind_text(struct pg_stmt *st, int i, const char *s, int n);
int pg_bind_blob(struct pg_stmt *st, int i, const void *p, int n);
int pg_bind_null(struct pg_stmt *st, int i);
/* Does the statement use parameter i? */
bool pg_has_param(const struct pg_stmt *st, int i);
int pg_step(struct pg_stmt *st);
void pg_reset(struct pg_stmt *st);
void pg_clear_bindings(struct pg_stmt *st);
void pg_finalize(struct pg_stmt *st);
const char *pg_sql(const struct pg_stmt *st);
struct pg_conn *pg_conn_of(const struct pg_stmt *st);

int pg_column_count(const struct pg_stmt *st);
/* DB_INTEGER, DB_FLOAT, DB_TEXT, DB_BLOB or DB_NULL. */
int pg_column_type(const struct pg_stmt *st, int col);
int64_t pg_column_int64(const struct pg_stmt *st, int col);
double pg_column_double(const struct pg_stmt *st, int col);
/* NULL for SQL NULL; valid until the next step, reset or finalize. */
const char *pg_column_text(const struct pg_stmt *st, int col);
const void *pg_column_blob(struct pg_stmt *st, int col);
int pg_column_bytes(struct pg_stmt *st, int col);

/* Run SQL without parameters (several statements allowed). */
int pg_exec(struct pg_conn *c, const char *sql);
const char *pg_errmsg(const struct pg_conn *c);
/* Rows the last INSERT, UPDATE or DELETE changed. */
int64_t pg_changes(const struct pg_conn *c);
bool pg_in_transaction(const struct pg_conn *c);
/* NOTIFY channel (a name of the code's, never a caller's), leaving what
 * the connection says of its last statement (pg_changes, pg_errmsg) as it
 * was.  0 or DB_ERROR. */
int pg_notify_quietly(struct pg_conn *c, const char *channel);
/* Did the connection change anything (rows, or the schema) since the last
 * call?  Clears the mark. */
bool pg_take_wrote(struct pg_conn *c);
const char *pg_url(const struct pg_conn *c);

/* LISTEN on channel; wait up to timeout_ms for a notification on it
 * (1: one came, 0: none, <0: an error).  For processing nodes. */
int pg_listen(struct pg_conn *c, const char *channel);
int pg_wait_notify(struct pg_conn *c, int timeout_ms);
/* The connection's socket, to poll for notifications; then read what came
 * (1: at least one notification, 0: none, <0: the connection failed). */
int pg_socket(struct pg_conn *c);
int pg_drain_notify(struct pg_conn *c);

/* SQL as PostgreSQL reads it (for the unit tests): a new string, and the
 * highest parameter number in *max_param. */
char *pg_translate(const char *sql, int *max_param);

#endif
