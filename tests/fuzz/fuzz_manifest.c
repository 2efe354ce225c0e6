/* An upload manifest (a CSV a coach made, or was sent). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/manifest.h"
#include "kindling/err.h"

static int known(const char *column)
{
	for (int k = 0; MANIFEST_COLUMNS[k]; k++)
		if (!strcmp(column, MANIFEST_COLUMNS[k]))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	char err[KD_ERRMSG_MAX] = "";
	int rc = manifest_parse(&m, (const char *)data, size, "fuzz.csv", err, sizeof err);
	if (rc != 0 && (rc != -1 || strncmp(err, "fuzz.csv line ", 14) != 0))
		abort(); /* a refusal names the line */
	if (rc == 0) {
		/* every row: a named file -> known columns with text values */
		const char *file;
		json_t *row;
		json_object_foreach(m.rows, file, row) {
			if (!*file || !json_is_object(row))
				abort();
			const char *column;
			json_t *value;
			json_object_foreach(row, column, value) {
				if (!known(column) || !json_is_string(value) || !*json_string_value(value))
					abort();
			}
			if (manifest_row(&m, file) != row)
				abort();
		}
	}
	(void)manifest_row(&m, "/home/coach/Videos/IMG_0042.MOV");
	(void)manifest_row(&m, "a.mp4");
	manifest_free(&m);
	return 0;
}
