/*
 * roster_files.h - what the two halves of reading a roster share (private to
 * src/identity/): roster_read.c parses the three CSV files, roster_zip.c
 * finds them in a folder or a .zip, bounded, and hands them over.
 */
#ifndef KINDLING_IDENTITY_ROSTER_FILES_H
#define KINDLING_IDENTITY_ROSTER_FILES_H

#include <stddef.h>

#include "kindling/roster.h"

#define ROSTER_MiB (1024.0 * 1024.0)

/* The three files an import reads, in this order, and their names. */
enum { F_MANIFEST, F_ORGS, F_USERS, F_COUNT };
extern const char *const roster_file_names[F_COUNT];

struct roster_file {
	char *data; /* NULL: not found */
	size_t len;
};

/* The first failure's code wins: a bound broken says more than what
 * followed from it. */
static inline void roster_note(int *rc, int code)
{
	if (*rc == 0)
		*rc = code;
}

/* Parse the three files (any may be missing: refused, saying which) into
 * *out, every problem into rep.  Returns 0 or the first failure's code. */
int roster_read_files(const struct roster_file files[F_COUNT], const char *source,
                      struct roster **out, struct roster_report *rep);

#endif
