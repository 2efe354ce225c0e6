/* db_pg.c - the catalogue on PostgreSQL (see db_pg.h). */
#include "db_pg.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "kindling/buf.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* The types a value is sent as (pg_type.h's OIDs, stable since 1996). */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23,
       OID_TEXT = 25, OID_OID = 26, OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_NUMERIC = 1700 };

/* A statement PostgreSQL has prepared on this connection: its text and
 * parameter types, and the name it knows it by. */
struct prepared {
	char *key;
	char name[16];
};

struct pg_conn {
	PGconn *conn;
	char *url;
	char err[512];
	int64_t changes;
	struct prepared *prep;
	size_t n_prep, cap_prep;
	unsigned next_name;
	unsigned epoch;    /* connections made: prepared names of an older one are gone */
	bool wrote;        /* changed the catalogue since pg_take_wrote last asked */
};

struct param {
	unsigned oid;   /* 0: never bound */
	char *value;    /* NULL: SQL NULL */
	int length;
	int format;     /* 1 for bytes */
};

struct pg_stmt {
	struct pg_conn *c;
	const char *sql;   /* the caller's */
	char *text;        /* as PostgreSQL reads it */
	int n_params;
	bool *used;        /* [n_params + 1]: which $N the text names */
	struct param *params; /* [n_params + 1], from 1 */
	/* the last prepared form, reused while the types stay the same */
	char *sig;
	char name[16];     /* "" until prepared */
	unsigned epoch;    /* the connection's, when name was given */
	PGresult *res;
	int row, n_rows;
	bool executed;
	unsigned char **bytes; /* decoded bytea per column, asked for */
	size_t *n_bytes;
	int n_cols;
};

/* ------------------------------------------------------------ translation */

static void put(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		while (*len + n + 1 > *cap)
			*cap = *cap ? *cap * 2 : 256;
		*out = kd_realloc(*out, *cap);
	}
	memcpy(*out + *len, s, n);
	*len += n;
	(*out)[*len] = '\0';
}

char *pg_translate(const char *sql, int *max_param)
{
	char *out = NULL;
	size_t len = 0, cap = 0;
	int max = 0;
	put(&out, &len, &cap, "", 0);
	for (const char *p = sql; *p;) {
		if (*p == '\'' || *p == '"') { /* a literal or a quoted name, as it is */
			char q = *p;
			const char *e = p + 1;
			while (*e && !(*e == q && e[1] != q))
				e += *e == q ? 2 : 1;
			if (*e)
				e++;
			put(&out, &len, &cap, p, (size_t)(e - p));
			p = e;
		} else if (p[0] == '-' && p[1] == '-') {
			const char *e = strchr(p, '\n');
			e = e ? e : p + strlen(p);
			put(&out, &len, &cap, p, (size_t)(e - p));
			p = e;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			e = e ? e + 2 : p + strlen(p);
			put(&out, &len, &cap, p, (size_t)(e - p));
			p = e;
		} else if (*p == '?') {
			int n = 0;
			const char *e = p + 1;
			while (isdigit((unsigned char)*e) && n < 100000)
				n = n * 10 + (*e++ - '0');
			if (e == p + 1)
				n = max + 1; /* a bare ?: the next number, as SQLite counts */
			if (n > max)
				max = n;
			char num[16];
			int k = snprintf(num, sizeof num, "$%d", n);
			put(&out, &len, &cap, num, (size_t)k);
			p = e;
		} else {
			put(&out, &len, &cap, p, 1);
			p++;
		}
	}
	*max_param = max;
	return out;
}

/* Which $N the translated text names (outside quotes and comments). */
static void mark_used(const char *text, bool *used, int n)
{
	for (const char *p = text; *p;) {
		if (*p == '\'' || *p == '"') {
			char q = *p++;
			while (*p && !(*p == q && p[1] != q))
				p += *p == q ? 2 : 1;
			if (*p)
				p++;
		} else if (*p == '$' && isdigit((unsigned char)p[1])) {
			int k = 0;
			for (p++; isdigit((unsigned char)*p); p++)
				k = k * 10 + (*p - '0');
			if (k >= 1 && k <= n)
				used[k] = true;
		} else {
			p++;
		}
	}
}

/* ------------------------------------------------------------ connections */

static int code_of_state(const char *s)
{
	if (!s)
		return DB_ERROR;
	if (!strcmp(s, "23505"))
		return DB_CONSTRAINT_UNIQUE;
	if (!strcmp(s, "23503"))
		return DB_CONSTRAINT_FOREIGNKEY;
	if (!strcmp(s, "23502"))
		return DB_CONSTRAINT_NOTNULL;
	if (!strcmp(s, "23514"))
		return DB_CONSTRAINT_CHECK;
	if (!strncmp(s, "23", 2))
		return DB_CONSTRAINT;
	/* a serialization failure, a deadlock or a lock not had: try again */
	if (!strcmp(s, "40001") || !strcmp(s, "40P01") || !strcmp(s, "55P03"))
		return DB_BUSY;
	if (!strncmp(s, "08", 2) || !strncmp(s, "57P", 3))
		return DB_IOERR;
	if (!strcmp(s, "53100"))
		return DB_FULL;
	return DB_ERROR;
}

/* The error as one line for a log or a person: its first line without
 * libpq's "ERROR:" (the LINE and HINT lines after it point into SQL no
 * admin wrote), and the server's detail when it gives one ("Key
 * (name)=(x) already exists"). */
static void set_err(struct pg_conn *c, const char *msg)
{
	if (!msg || !*msg)
		msg = "PostgreSQL gave no reason";
	if (!strncmp(msg, "ERROR:", 6) || !strncmp(msg, "FATAL:", 6))
		msg += 6 + strspn(msg + 6, " ");
	snprintf(c->err, sizeof c->err, "%.*s", (int)strcspn(msg, "\n"), msg);
}

static void set_result_err(struct pg_conn *c, const PGresult *res)
{
	set_err(c, res ? PQresultErrorMessage(res) : PQerrorMessage(c->conn));
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	size_t n = strlen(c->err);
	if (detail && *detail)
		snprintf(c->err + n, sizeof c->err - n, " (%.*s)", (int)strcspn(detail, "\n"),
		         detail);
}

/* Times are compared as text in UTC, as in SQLite; nothing else about the
 * session that matters is left to the server's defaults. */
static bool session_setup(PGconn *conn)
{
	PGresult *res = PQexec(conn, "SET TIME ZONE 'UTC'; SET client_encoding = 'UTF8'; "
	                             "SET client_min_messages = warning");
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return ok;
}

/* The statements prepared on a connection die with it. */
static void forget_prepared(struct pg_conn *c)
{
	for (size_t i = 0; i < c->n_prep; i++)
		free(c->prep[i].key);
	c->n_prep = 0;
}

/* After a failure: if the connection itself is gone, connect again, so
 * that the next request works when the server is back. */
static void check_connection(struct pg_conn *c)
{
	if (PQstatus(c->conn) == CONNECTION_OK)
		return;
	log_warn("db", "the connection to PostgreSQL was lost; connecting again");
	PQreset(c->conn);
	forget_prepared(c);
	c->epoch++;
	if (PQstatus(c->conn) == CONNECTION_OK && !session_setup(c->conn))
		log_warn("db", "cannot set up the PostgreSQL session: %s", PQerrorMessage(c->conn));
}

static int result_code(struct pg_conn *c, PGresult *res)
{
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
		const char *n = res ? PQcmdTuples(res) : "";
		c->changes = n && *n ? strtoll(n, NULL, 10) : 0;
		/* what others keep in memory must change with it (pg_epoch.c) */
		const char *cmd = res ? PQcmdStatus(res) : "";
		if (c->changes > 0 ? !strncmp(cmd, "INSERT", 6) || !strncmp(cmd, "UPDATE", 6) ||
		                             !strncmp(cmd, "DELETE", 6) || !strncmp(cmd, "MERGE", 5)
		                   : !strncmp(cmd, "CREATE", 6) || !strncmp(cmd, "ALTER", 5) ||
		                             !strncmp(cmd, "DROP", 4) || !strncmp(cmd, "TRUNCATE", 8))
			c->wrote = true;
		return DB_OK;
	}
	set_result_err(c, res);
	/* a connection lost says so in its status, not always in a SQLSTATE */
	int code = PQstatus(c->conn) != CONNECTION_OK
	                   ? DB_IOERR
	                   : code_of_state(res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
	check_connection(c);
	return code;
}

int pg_open(const char *url, struct pg_conn **out, char *err, size_t errlen)
{
	PGconn *conn = PQconnectdb(url);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		char why[400];
		snprintf(why, sizeof why, "%s", conn ? PQerrorMessage(conn) : "out of memory");
		why[strcspn(why, "\n")] = '\0';
		snprintf(err, errlen,
		         "cannot connect to the PostgreSQL catalogue: %s (check the database setting, "
		         "that the server is running, and the user's password)",
		         why);
		PQfinish(conn);
		return KD_EIO;
	}
	if (!session_setup(conn)) {
		snprintf(err, errlen, "cannot set up the PostgreSQL session: %s",
		         PQerrorMessage(conn));
		PQfinish(conn);
		return KD_EIO;
	}
	struct pg_conn *c = kd_calloc(1, sizeof *c);
	c->conn = conn;
	c->url = kd_strdup(url);
	*out = c;
	return 0;
}

void pg_close(struct pg_conn *c)
{
	if (!c)
		return;
	forget_prepared(c);
	free(c->prep);
	PQfinish(c->conn);
	free(c->url);
	free(c);
}

const char *pg_errmsg(const struct pg_conn *c)
{
	return c->err[0] ? c->err : "no error";
}

int64_t pg_changes(const struct pg_conn *c)
{
	return c->changes;
}

int pg_notify_quietly(struct pg_conn *c, const char *channel)
{
	char sql[96];
	snprintf(sql, sizeof sql, "NOTIFY %s", channel);
	PGresult *res = PQexec(c->conn, sql);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return ok ? 0 : DB_ERROR;
}

bool pg_take_wrote(struct pg_conn *c)
{
	bool w = c->wrote;
	c->wrote = false;
	return w;
}

const char *pg_url(const struct pg_conn *c)
{
	return c->url;
}

bool pg_in_transaction(const struct pg_conn *c)
{
	return PQtransactionStatus(c->conn) != PQTRANS_IDLE;
}

int pg_exec(struct pg_conn *c, const char *sql)
{
	PGresult *res = PQexec(c->conn, sql);
	int rc = result_code(c, res);
	PQclear(res);
	return rc;
}

int pg_listen(struct pg_conn *c, const char *channel)
{
	char *id = PQescapeIdentifier(c->conn, channel, strlen(channel));
	if (!id) {
		set_err(c, PQerrorMessage(c->conn));
		return DB_ERROR;
	}
	char *sql = kd_asprintf("LISTEN %s", id);
	PQfreemem(id);
	int rc = pg_exec(c, sql);
	free(sql);
	return rc;
}

int pg_wait_notify(struct pg_conn *c, int timeout_ms)
{
	PGnotify *n;
	if (PQconsumeInput(c->conn) && (n = PQnotifies(c->conn))) {
		PQfreemem(n);
		return 1;
	}
	struct pollfd pfd = {.fd = PQsocket(c->conn), .events = POLLIN};
	if (pfd.fd < 0)
		return -1;
	int r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (r == 0)
		return 0;
	if (!PQconsumeInput(c->conn)) {
		set_err(c, PQerrorMessage(c->conn));
		check_connection(c);
		return -1;
	}
	int got = 0;
	while ((n = PQnotifies(c->conn))) {
		PQfreemem(n);
		got = 1;
	}
	return got;
}

int pg_socket(struct pg_conn *c)
{
	return PQsocket(c->conn);
}

int pg_drain_notify(struct pg_conn *c)
{
	if (!PQconsumeInput(c->conn)) {
		set_err(c, PQerrorMessage(c->conn));
		check_connection(c);
		return -1;
	}
	int got = 0;
	PGnotify *n;
	while ((n = PQnotifies(c->conn))) {
		PQfreemem(n);
		got = 1;
	}
	return got;
}

/* ------------------------------------------------------------ statements */

int pg_prepare(struct pg_conn *c, const char *sql, struct pg_stmt **out)
{
	struct pg_stmt *st = kd_calloc(1, sizeof *st);
	st->c = c;
	st->sql = sql;
	st->text = pg_translate(sql, &st->n_params);
	st->used = kd_calloc((size_t)st->n_params + 1, sizeof *st->used);
	st->params = kd_calloc((size_t)st->n_params + 1, sizeof *st->params);
	mark_used(st->text, st->used, st->n_params);
	st->row = -1;
	*out = st;
	return DB_OK;
}

bool pg_has_param(const struct pg_stmt *st, int i)
{
	return i >= 1 && i <= st->n_params && st->used[i];
}

const char *pg_sql(const struct pg_stmt *st)
{
	return st->sql;
}

struct pg_conn *pg_conn_of(const struct pg_stmt *st)
{
	return st->c;
}

static int bind(struct pg_stmt *st, int i, unsigned oid, char *value, int length, int format)
{
	if (i < 1 || i > st->n_params) {
		free(value);
		return DB_RANGE;
	}
	struct param *p = &st->params[i];
	free(p->value);
	*p = (struct param){.oid = oid, .value = value, .length = length, .format = format};
	return DB_OK;
}

int pg_bind_int64(struct pg_stmt *st, int i, int64_t v)
{
	return bind(st, i, OID_INT8, kd_asprintf("%lld", (long long)v), 0, 0);
}

int pg_bind_double(struct pg_stmt *st, int i, double v)
{
	return bind(st, i, OID_FLOAT8, kd_asprintf("%.17g", v), 0, 0);
}

int pg_bind_text(struct pg_stmt *st, int i, const char *s, int n)
{
	if (!s)
		return pg_bind_null(st, i);
	size_t len = n < 0 ? strlen(s) : (size_t)n;
	return bind(st, i, OID_TEXT, kd_strndup(s, len), 0, 0);
}

int pg_bind_blob(struct pg_stmt *st, int i, const void *p, int n)
{
	char *copy = kd_malloc(n > 0 ? (size_t)n : 1);
	if (n > 0)
		memcpy(copy, p, (size_t)n);
	return bind(st, i, OID_BYTEA, copy, n, 1);
}

int pg_bind_null(struct pg_stmt *st, int i)
{
	/* of no type: the server gives it the type its place wants (see
	 * prepared_name for a place that wants none) */
	return bind(st, i, 0, NULL, 0, 0);
}

static void drop_result(struct pg_stmt *st)
{
	for (int k = 0; st->bytes && k < st->n_cols; k++)
		PQfreemem(st->bytes[k]);
	free(st->bytes);
	free(st->n_bytes);
	st->bytes = NULL;
	st->n_bytes = NULL;
	PQclear(st->res);
	st->res = NULL;
	st->executed = false;
	st->row = -1;
	st->n_rows = 0;
	st->n_cols = 0;
}

void pg_reset(struct pg_stmt *st)
{
	drop_result(st);
}

void pg_clear_bindings(struct pg_stmt *st)
{
	for (int i = 1; i <= st->n_params; i++) {
		free(st->params[i].value);
		memset(&st->params[i], 0, sizeof st->params[i]);
	}
}

void pg_finalize(struct pg_stmt *st)
{
	if (!st)
		return;
	drop_result(st);
	pg_clear_bindings(st);
	free(st->params);
	free(st->used);
	free(st->text);
	free(st->sig);
	free(st);
}

/* The types of the parameters as sent: what each was bound as; a NULL, or
 * one never bound, is left to the server to infer from its place, and is
 * text where the statement does not name it (the server cannot infer a
 * type for a parameter it never sees). */
static unsigned type_of(const struct pg_stmt *st, int i)
{
	return st->params[i].oid ? st->params[i].oid : st->used[i] ? 0 : OID_TEXT;
}

/* The name of the prepared form of st for its current types, preparing
 * it on the server the first time. */
static int prepared_name(struct pg_stmt *st, const char **name)
{
	struct kd_buf sig = KD_BUF_INIT(SIZE_MAX);
	for (int i = 1; i <= st->n_params; i++)
		kd_buf_printf(&sig, "%u,", type_of(st, i));
	if (st->name[0] && st->epoch == st->c->epoch && st->sig &&
	    !strcmp(st->sig, kd_buf_str(&sig))) {
		kd_buf_release(&sig);
		*name = st->name;
		return DB_OK;
	}
	kd_buf_putc(&sig, '|');
	kd_buf_puts(&sig, st->text);
	struct pg_conn *c = st->c;
	for (size_t k = 0; k < c->n_prep; k++) {
		if (!strcmp(c->prep[k].key, kd_buf_str(&sig))) {
			free(st->sig);
			st->sig = kd_strndup(c->prep[k].key, strcspn(c->prep[k].key, "|"));
			memcpy(st->name, c->prep[k].name, sizeof st->name);
			st->epoch = c->epoch;
			*name = st->name;
			kd_buf_release(&sig);
			return DB_OK;
		}
	}
	unsigned *types = kd_calloc((size_t)st->n_params + 1, sizeof *types);
	for (int i = 1; i <= st->n_params; i++)
		types[i - 1] = type_of(st, i);
	if (c->n_prep == c->cap_prep) {
		c->cap_prep = c->cap_prep ? c->cap_prep * 2 : 64;
		c->prep = kd_realloc(c->prep, c->cap_prep * sizeof *c->prep);
	}
	struct prepared *p = &c->prep[c->n_prep];
	snprintf(p->name, sizeof p->name, "k%u", c->next_name++);
	/* A parameter left for the server to type may be one it cannot (a
	 * NULL in ?1 IS NULL): the first try then fails, and inside a
	 * transaction a failure ends the transaction, so the try is made
	 * under a savepoint there.  Once per connection and statement. */
	bool untyped = false;
	for (int i = 1; i <= st->n_params; i++)
		untyped |= types[i - 1] == 0;
	bool guard = untyped && pg_in_transaction(c);
	if (guard)
		PQclear(PQexec(c->conn, "SAVEPOINT kd_prepare"));
	PGresult *res = PQprepare(c->conn, p->name, st->text, st->n_params, types);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state && (!strcmp(state, "42P18") || !strcmp(state, "42P08"))) {
		/* a NULL in a place that implies no type (?1 IS NULL): text, as
		 * SQLite would take it */
		PQclear(res);
		if (guard)
			PQclear(PQexec(c->conn, "ROLLBACK TO SAVEPOINT kd_prepare"));
		for (int i = 1; i <= st->n_params; i++)
			types[i - 1] = types[i - 1] ? types[i - 1] : OID_TEXT;
		res = PQprepare(c->conn, p->name, st->text, st->n_params, types);
	}
	if (guard && PQresultStatus(res) == PGRES_COMMAND_OK)
		PQclear(PQexec(c->conn, "RELEASE SAVEPOINT kd_prepare"));
	free(types);
	int rc = result_code(c, res);
	PQclear(res);
	if (rc != DB_OK) {
		log_error("db", "PostgreSQL cannot prepare %s: %s", st->sql, c->err);
		kd_buf_release(&sig);
		return rc;
	}
	p->key = kd_buf_take(&sig, NULL);
	c->n_prep++;
	free(st->sig);
	st->sig = kd_strndup(p->key, strcspn(p->key, "|"));
	memcpy(st->name, p->name, sizeof st->name);
	st->epoch = c->epoch;
	*name = st->name;
	return DB_OK;
}

int pg_step(struct pg_stmt *st)
{
	if (!st->executed) {
		const char *name;
		int rc = prepared_name(st, &name);
		if (rc != DB_OK)
			return rc;
		int n = st->n_params;
		const char **values = kd_calloc((size_t)n + 1, sizeof *values);
		int *lengths = kd_calloc((size_t)n + 1, sizeof *lengths);
		int *formats = kd_calloc((size_t)n + 1, sizeof *formats);
		for (int i = 1; i <= n; i++) {
			values[i - 1] = st->params[i].value;
			lengths[i - 1] = st->params[i].length;
			formats[i - 1] = st->params[i].format;
		}
		st->res = PQexecPrepared(st->c->conn, name, n, values, lengths, formats, 0);
		free(values);
		free(lengths);
		free(formats);
		st->executed = true;
		st->row = -1;
		if ((rc = result_code(st->c, st->res)) != DB_OK) {
			return rc;
		}
		st->n_rows = PQresultStatus(st->res) == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
		st->n_cols = PQresultStatus(st->res) == PGRES_TUPLES_OK ? PQnfields(st->res) : 0;
	}
	if (st->row < st->n_rows)
		st->row++;
	return st->row < st->n_rows ? DB_ROW : DB_DONE;
}

int pg_column_count(const struct pg_stmt *st)
{
	return st->res ? PQnfields(st->res) : 0;
}

static bool null_at(const struct pg_stmt *st, int col)
{
	return !st->res || st->row < 0 || st->row >= st->n_rows || col < 0 || col >= st->n_cols ||
	       PQgetisnull(st->res, st->row, col);
}

int pg_column_type(const struct pg_stmt *st, int col)
{
	if (null_at(st, col))
		return DB_NULL;
	switch (PQftype(st->res, col)) {
	case OID_BOOL:
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID: return DB_INTEGER;
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC: return DB_FLOAT;
	case OID_BYTEA: return DB_BLOB;
	default: return DB_TEXT;
	}
}

int64_t pg_column_int64(const struct pg_stmt *st, int col)
{
	if (null_at(st, col))
		return 0;
	const char *v = PQgetvalue(st->res, st->row, col);
	if (PQftype(st->res, col) == OID_BOOL)
		return v[0] == 't';
	/* a real read as an integer truncates, as SQLite's does */
	if (strpbrk(v, ".eE"))
		return (int64_t)strtod(v, NULL);
	return strtoll(v, NULL, 10);
}

double pg_column_double(const struct pg_stmt *st, int col)
{
	if (null_at(st, col))
		return 0;
	return strtod(PQgetvalue(st->res, st->row, col), NULL);
}

const char *pg_column_text(const struct pg_stmt *st, int col)
{
	return null_at(st, col) ? NULL : PQgetvalue(st->res, st->row, col);
}

static void decode_bytes(struct pg_stmt *st, int col)
{
	if (!st->bytes) {
		st->bytes = kd_calloc((size_t)st->n_cols, sizeof *st->bytes);
		st->n_bytes = kd_calloc((size_t)st->n_cols, sizeof *st->n_bytes);
	}
	PQfreemem(st->bytes[col]);
	st->bytes[col] = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, col),
	                                 &st->n_bytes[col]);
}

const void *pg_column_blob(struct pg_stmt *st, int col)
{
	if (null_at(st, col))
		return NULL;
	if (PQftype(st->res, col) != OID_BYTEA)
		return PQgetvalue(st->res, st->row, col);
	decode_bytes(st, col);
	return st->bytes[col];
}

int pg_column_bytes(struct pg_stmt *st, int col)
{
	if (null_at(st, col))
		return 0;
	if (PQftype(st->res, col) != OID_BYTEA)
		return PQgetlength(st->res, st->row, col);
	if (!st->bytes || !st->bytes[col])
		decode_bytes(st, col);
	return (int)st->n_bytes[col];
}
