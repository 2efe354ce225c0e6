/*
 * manifest.h - per-file metadata for `kindling upload --manifest FILE.csv`:
 * a header row with `file` and any of the metadata columns, then one row
 * a file.  Fields are separated by commas; a "quoted" field may hold
 * commas and doubled quotes.  A row applies to a file named as given on
 * the command line or by its base name.  Private to src/cli/ (and its
 * fuzz target: a manifest may come from anywhere).
 */
#ifndef KINDLING_CLI_MANIFEST_H
#define KINDLING_CLI_MANIFEST_H

#include <jansson.h>
#include <stddef.h>

/* The columns a manifest may have besides `file`, NULL-terminated. */
extern const char *const MANIFEST_COLUMNS[];

#define MANIFEST_MAX (16u << 20) /* bytes */

struct manifest {
	json_t *rows; /* file (as written) -> {column: value} */
};

/* Read the manifest at path.  Returns 0, or -1 with err saying where and
 * what is wrong ("clips.csv line 3: no file named").  manifest_free() in
 * either case. */
int manifest_load(struct manifest *m, const char *path, char *err, size_t errlen);
/* The same from text in memory; name is what messages call it. */
int manifest_parse(struct manifest *m, const char *text, size_t len, const char *name,
                   char *err, size_t errlen);
/* The row of a file (by its path as given, else its base name), or NULL. */
json_t *manifest_row(const struct manifest *m, const char *path);
void manifest_free(struct manifest *m);

#endif
