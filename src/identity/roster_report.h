/*
 * roster_report.h - filling a struct roster_report (roster.h), for the
 * files of the import only (roster_read.c, roster.c); roster_report.c
 * owns every string a report holds.
 */
#ifndef KINDLING_IDENTITY_ROSTER_REPORT_H
#define KINDLING_IDENTITY_ROSTER_REPORT_H

#include "kindling/roster.h"

/* A new, zeroed entry at the end of l. */
struct roster_entry *roster_list_add(struct roster_list *l);
/* A changed field of e (from and to copied; NULL for none). */
void roster_entry_field(struct roster_entry *e, const char *name, const char *from, const char *to);
/* A warning: one row imported differently, or not at all. */
void roster_report_warn(struct roster_report *rep, const char *file, long row,
                        const char *sourced_id, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* n more rows skipped for reason (n <= 0: nothing). */
void roster_report_skip(struct roster_report *rep, const char *reason, long n);
/* Empty the lists, counts and skips (to fill them again), or everything
 * but the source. */
void roster_report_clear(struct roster_report *rep);
void roster_report_reset(struct roster_report *rep);

#endif
