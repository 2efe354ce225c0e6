/* manifest.c - the upload manifest reader (see manifest.h). */
#include "manifest.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/buf.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/mem.h"

#define FIELDS_MAX 32

const char *const MANIFEST_COLUMNS[] = {"title", "teacher", "grade", "subject", "recorded",
                                         "practices", "tags", "school", "consent",
                                         "visibility", "description",
                                         /* issue 15: "0:45-2:10 practice Title; ..." */
                                         "moments", NULL};

/* Split a CSV line in place.  Returns the number of fields (at most max). */
static size_t csv_row(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max) {
		char *out = p, *start = p;
		if (*p == '"') {
			p++;
			for (;;) {
				if (*p == '"' && p[1] == '"') {
					*out++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else if (!*p) {
					break;
				} else {
					*out++ = *p++;
				}
			}
			while (*p && *p != ',')
				p++;
		} else {
			while (*p && *p != ',')
				*out++ = *p++;
		}
		char sep = *p;
		*out = '\0';
		fields[n++] = start;
		if (sep != ',')
			break;
		p++;
	}
	return n;
}

static bool utf8_valid(const char *s)
{
	json_t *j = json_string(s); /* jansson checks UTF-8: NULL when it is not */
	bool ok = j != NULL;
	json_decref(j);
	return ok;
}

static bool known_column(const char *name)
{
	if (!strcmp(name, "file"))
		return true;
	for (int k = 0; MANIFEST_COLUMNS[k]; k++)
		if (!strcmp(name, MANIFEST_COLUMNS[k]))
			return true;
	return false;
}

/* The header row: every column known, `file` among them. */
static int read_header(char *line, char **header, size_t *n, const char *name, char *err,
                       size_t errlen)
{
	*n = csv_row(line, header, FIELDS_MAX);
	bool has_file = false;
	for (size_t i = 0; i < *n; i++) {
		has_file |= !strcmp(header[i], "file");
		if (!known_column(header[i])) {
			struct kd_buf known = KD_BUF_INIT(512);
			kd_buf_puts(&known, "file");
			for (int k = 0; MANIFEST_COLUMNS[k]; k++)
				kd_buf_printf(&known, ", %s", MANIFEST_COLUMNS[k]);
			snprintf(err, errlen, "%s line 1: unknown column '%.60s' (known: %s)", name,
			         header[i], kd_buf_str(&known));
			kd_buf_release(&known);
			return -1;
		}
	}
	if (!has_file) {
		snprintf(err, errlen, "%s line 1: the manifest needs a 'file' column", name);
		return -1;
	}
	return 0;
}

int manifest_parse(struct manifest *m, const char *text, size_t len, const char *name,
                   char *err, size_t errlen)
{
	m->rows = json_object();
	/* Excel's "CSV UTF-8" starts with a byte order mark. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		text += 3;
		len -= 3;
	}
	char *copy = kd_strndup(text, len);
	char *header[FIELDS_MAX], *fields[FIELDS_MAX];
	size_t n_header = 0;
	bool have_header = false;
	int lineno = 0, rc = 0;
	char *save = NULL;
	for (char *line = copy; line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		if (!*line)
			continue;
		if (!have_header) {
			if (!utf8_valid(line)) {
				snprintf(err, errlen, "%s line %d: the text is not UTF-8; save the manifest as "
				         "\"CSV UTF-8\"", name, lineno);
				rc = -1;
				break;
			}
			if ((rc = read_header(line, header, &n_header, name, err, errlen)) < 0)
				break;
			have_header = true;
			continue;
		}
		if (!utf8_valid(line)) {
			snprintf(err, errlen, "%s line %d: the text is not UTF-8; save the manifest as "
			         "\"CSV UTF-8\" (in Excel: Save As, CSV UTF-8)", name, lineno);
			rc = -1;
			break;
		}
		size_t n = csv_row(line, fields, FIELDS_MAX);
		json_t *row = json_object();
		const char *file = NULL;
		for (size_t i = 0; i < n && i < n_header; i++) {
			if (!strcmp(header[i], "file"))
				file = fields[i];
			else if (*fields[i])
				json_object_set_new(row, header[i], json_string(fields[i]));
		}
		if (!file || !*file) {
			snprintf(err, errlen, "%s line %d: no file named", name, lineno);
			json_decref(row);
			rc = -1;
			break;
		}
		json_object_set_new(m->rows, file, row);
	}
	free(copy);
	return rc;
}

int manifest_load(struct manifest *m, const char *path, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc = kd_read_file(path, MANIFEST_MAX, &text, &len);
	if (rc < 0) {
		m->rows = NULL;
		snprintf(err, errlen, "cannot read the manifest %s: %s", path,
		         rc == KD_ETOOBIG ? "it is larger than 16 MB" : strerror(errno));
		return -1;
	}
	rc = manifest_parse(m, text, len, path, err, errlen);
	free(text);
	return rc;
}

json_t *manifest_row(const struct manifest *m, const char *path)
{
	if (!m->rows)
		return NULL;
	json_t *row = json_object_get(m->rows, path);
	const char *base = strrchr(path, '/');
	if (!row && base)
		row = json_object_get(m->rows, base + 1);
	return row;
}

void manifest_free(struct manifest *m)
{
	json_decref(m->rows);
	m->rows = NULL;
}
