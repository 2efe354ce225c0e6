/*
 * csv.h - a reader of CSV text as RFC 4180 writes it, for files that come
 * from elsewhere (a district's roster export), so every size is bounded.
 *
 * Fields are separated by commas and records by CRLF, LF or CR; a field in
 * double quotes may hold commas, line breaks and quotes written twice ("").
 * A UTF-8 byte order mark at the very start is skipped.  Lenient where
 * exporters differ harmlessly (a quote inside an unquoted field is kept as
 * it is; empty lines are skipped), strict where the meaning would be
 * guessed: text after a closing quote, a quote never closed, a field that
 * is not UTF-8 text (or holds a NUL byte) are refused, as is anything over
 * a bound (CSV_FIELD_MAX, CSV_RECORD_MAX, CSV_ROWS_MAX).
 *
 * Rows are counted as a spreadsheet shows them: the first record (the
 * header) is row 1, and a record whose quoted field spans lines is one
 * row.  Messages name the file and the row ("users.csv row 12: ...") and
 * never quote a field's content: a row may be a child's.
 *
 * The reader reads a buffer the caller owns and keeps alive; the fields of
 * the record last read are the reader's, valid until the next call.
 */
#ifndef KINDLING_IDENTITY_CSV_H
#define KINDLING_IDENTITY_CSV_H

#include <stddef.h>

#define CSV_FIELD_MAX 4096          /* bytes in one field, once unquoted */
#define CSV_RECORD_MAX (64 * 1024)  /* bytes of one record as written */
#define CSV_ROWS_MAX 1000000L       /* records after the header */

struct csv {
	const char *name;          /* the file's name, for messages */
	const unsigned char *p;    /* what is left to read */
	const unsigned char *end;
	long row;                  /* the row of the record last read */
	long records;              /* records read, the header included */
	char **fields;             /* the record last read: n fields */
	size_t n;
	/* private */
	size_t cap;
	char *buf;
};

/* Start reading len bytes of data (not NUL-terminated), named name (a
 * string that outlives the reader) in messages. */
void csv_open(struct csv *c, const char *name, const void *data, size_t len);

/* Read the next record into c->fields and c->n.  Returns 1 for a record,
 * 0 at the end, or KD_EINVAL (malformed) / KD_ETOOBIG (over a bound) with
 * a message naming the file and row in err; after a failure the reader
 * stays at the end. */
int csv_next(struct csv *c, char *err, size_t errlen);

/* Free what the reader holds (not the data); it may be opened again. */
void csv_close(struct csv *c);

/* Is s (n bytes) UTF-8 text without NUL bytes? */
int csv_utf8_valid(const unsigned char *s, size_t n);

#endif
