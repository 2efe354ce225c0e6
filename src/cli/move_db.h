/*
 * move_db.h - `kindling move-to --database`: a data folder's SQLite
 * catalogue copied into PostgreSQL and checked (move_db.c).  Private to
 * src/cli/: cli_move.c runs it beside the media's move.
 *
 * The copy keeps every id, takes the base tables only (the PostgreSQL
 * triggers make what is derived from them as the rows go in), runs in one
 * PostgreSQL transaction from one consistent read of the SQLite file, and
 * is committed only once every table reads back the same as the source,
 * row for row.  The SQLite file is never written.
 */
#ifndef KINDLING_CLI_MOVE_DB_H
#define KINDLING_CLI_MOVE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kd_db;

/* The tables copied, in the order they go in (foreign keys first). */
#define MOVE_DB_TABLES 21 /* issue 15: + moments, caption_cues; 16: + mail */

/* What a copy did: rows[i] rows of the table labels[i] names ("clip tags",
 * "notes"...) are in PostgreSQL.  already: they were there before this
 * run (a run again after a complete copy), and nothing was copied. */
struct move_db_result {
	const char *labels[MOVE_DB_TABLES];
	int64_t rows[MOVE_DB_TABLES];
	bool already;
};

/* Open the data folder's catalogue at path for reading: it must exist
 * (nothing is created) and have the schema this binary writes (it is not
 * migrated: move-to leaves the data folder as it was).  Every statement on
 * the connection is refused a write (PRAGMA query_only).  Returns 0 with
 * *out to db_close(), or KD_ENOTFOUND / KD_EVERSION / KD_EDB / KD_EIO with
 * a message for the admin in err. */
int move_db_open_source(const char *path, struct kd_db **out, char *err, size_t errlen);

/* Copy the catalogue of src (from move_db_open_source) into dst, a
 * PostgreSQL database opened with db_open(), and check it (see above).
 * shown: dst's URL as it may be printed (move_db_redact).  A dst that holds
 * anything but the practices its migration seeds is refused, unless it
 * holds exactly src's rows already (res->already).  Returns 0 with res
 * filled; or a KD_E* code with err saying what went wrong and what to do,
 * nothing committed to dst. */
int move_db_copy(struct kd_db *src, struct kd_db *dst, const char *shown,
                 struct move_db_result *res, char *err, size_t errlen);

/* url with its password, if it has one (user:PASSWORD@ or password=...),
 * written as ***: a new string for the caller to free.  *had_password
 * says whether one was hidden. */
char *move_db_redact(const char *url, bool *had_password);

#endif
