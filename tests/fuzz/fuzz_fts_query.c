/* Whatever a person types into search must become an FTS5 expression that
 * SQLite accepts: a syntax error here would be a 500 for that user. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "kindling/catalogue.h"

static sqlite3 *db;
static sqlite3_stmt *st;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!db) {
		sqlite3_open(":memory:", &db);
		sqlite3_exec(db,
		             "CREATE VIRTUAL TABLE t USING fts5(a, b, tokenize = 'unicode61 "
		             "remove_diacritics 2', prefix = '2 3');"
		             "INSERT INTO t VALUES ('station rotation', 'blended learning');",
		             NULL, NULL, NULL);
		sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &st, NULL);
	}
	char *typed = malloc(size + 1);
	memcpy(typed, data, size);
	typed[size] = '\0';
	char *q = cat_fts_query(typed);
	if (q) {
		sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			fprintf(stderr, "FTS rejected %s: %s\n", q, sqlite3_errmsg(db));
			abort();
		}
		sqlite3_reset(st);
		free(q);
	}
	free(typed);
	return 0;
}
