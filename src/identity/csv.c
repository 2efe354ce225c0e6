/* csv.c - bounded RFC 4180 CSV reading (csv.h). */
#include "identity/csv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/mem.h"

/* Each byte read yields at most one byte of field, and each field one NUL:
 * a record that stops at CSV_RECORD_MAX + 1 bytes read fits in this. */
#define BUF_SIZE (2 * (CSV_RECORD_MAX + 2))

void csv_open(struct csv *c, const char *name, const void *data, size_t len)
{
	memset(c, 0, sizeof *c);
	c->name = name;
	c->p = data;
	c->end = c->p + len;
	if (len >= 3 && !memcmp(c->p, "\xEF\xBB\xBF", 3))
		c->p += 3;
}

void csv_close(struct csv *c)
{
	free(c->fields);
	free(c->buf);
	c->fields = NULL;
	c->buf = NULL;
	c->n = c->cap = 0;
}

int csv_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char b = s[i];
		if (b >= 0x01 && b < 0x80) {
			i++;
			continue;
		}
		size_t len;
		unsigned cp, min;
		if (b >= 0xC2 && b <= 0xDF)
			len = 2, cp = b & 0x1F, min = 0x80;
		else if (b >= 0xE0 && b <= 0xEF)
			len = 3, cp = b & 0x0F, min = 0x800;
		else if (b >= 0xF0 && b <= 0xF4)
			len = 4, cp = b & 0x07, min = 0x10000;
		else
			return 0; /* NUL, a continuation byte alone, or never UTF-8 */
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

static int fail(struct csv *c, int code, char *err, size_t errlen, const char *fmt, long a)
{
	char what[200];
	snprintf(what, sizeof what, fmt, a);
	snprintf(err, errlen, "%s row %ld: %s", c->name, c->row, what);
	c->p = c->end;
	c->n = 0;
	return code;
}

static void add_field(struct csv *c, char *start)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->fields = kd_realloc(c->fields, c->cap * sizeof *c->fields);
	}
	c->fields[c->n++] = start;
}

int csv_next(struct csv *c, char *err, size_t errlen)
{
	if (!c->buf)
		c->buf = kd_malloc(BUF_SIZE);
	for (;;) {
		c->n = 0;
		if (c->p >= c->end)
			return 0;
		c->row++;
		const unsigned char *start = c->p, *p = c->p, *end = c->end;
		/* reading stops one byte past the bound, so the check below sees it */
		const unsigned char *stop = end - start > CSV_RECORD_MAX ? start + CSV_RECORD_MAX + 1 : end;
		char *out = c->buf;
		bool blank = true;
		for (;;) { /* one field */
			char *field = out;
			long field_no = (long)c->n + 1;
			if (p < stop && *p == '"') {
				blank = false;
				long opened = c->row;
				p++;
				for (;;) {
					if (p >= stop) {
						if (stop < end)
							goto too_long;
						return fail(c, KD_EINVAL, err, errlen,
						            "a quoted field opened in row %ld is never closed "
						            "(a missing \")", opened);
					}
					if (*p == '"') {
						if (p + 1 < stop && p[1] == '"') {
							*out++ = '"';
							p += 2;
							continue;
						}
						if (p + 1 >= stop && stop < end)
							goto too_long;
						p++;
						break;
					}
					*out++ = (char)*p++;
				}
				if (p < stop && *p != ',' && *p != '\n' && *p != '\r')
					return fail(c, KD_EINVAL, err, errlen,
					            "field %ld has text after its closing quote (a quote inside a "
					            "quoted field is written twice: \"\")", field_no);
			} else {
				while (p < stop && *p != ',' && *p != '\n' && *p != '\r')
					*out++ = (char)*p++;
				if (out != field)
					blank = false;
			}
			if (p - start > CSV_RECORD_MAX)
				goto too_long;
			if (out - field > CSV_FIELD_MAX)
				return fail(c, KD_ETOOBIG, err, errlen,
				            "field %ld is longer than " "4096 bytes", field_no);
			if (!csv_utf8_valid((const unsigned char *)field, (size_t)(out - field)))
				return fail(c, KD_EINVAL, err, errlen,
				            "field %ld is not UTF-8 text (save the file as UTF-8)", field_no);
			*out++ = '\0';
			add_field(c, field);
			if (p < stop && *p == ',') {
				blank = false;
				p++;
				continue;
			}
			break;
		}
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
		c->p = p;
		if (blank && c->n == 1)
			continue; /* an empty line */
		if (c->records > CSV_ROWS_MAX)
			return fail(c, KD_ETOOBIG, err, errlen,
			            "more than %ld rows: a roster file has at most that many", CSV_ROWS_MAX);
		c->records++;
		return 1;
	too_long:
		return fail(c, KD_ETOOBIG, err, errlen,
		            "the row is longer than %ld bytes: a roster row is far shorter; is this a "
		            "CSV file?", (long)CSV_RECORD_MAX);
	}
}
