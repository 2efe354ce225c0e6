/*
 * summary_index.h - the summaries answered from the catalogue in memory
 * (index.h) and the view counts of schema/006, for the server.  Private
 * to src/catalogue/.
 *
 * summary.c asks these when idx_usable(): they answer exactly as its SQL
 * does (the unit tests compare the two on varied catalogues, before and
 * after changes), in a time that grows with a school's clips, read from
 * memory, and the days of the range, not with rows read from the file.
 */
#ifndef KINDLING_SUMMARY_INDEX_H
#define KINDLING_SUMMARY_INDEX_H

#include <jansson.h>
#include <math.h>
#include <stdint.h>

#include "kindling/users.h"

struct kd_db; /* db.h */

/* Seconds as minutes to a tenth, as every summary shows them. */
static inline double summary_minutes(double seconds)
{
	return round(seconds / 60.0 * 10.0) / 10.0;
}

/* Add to o what summary_school() adds after "to": clips, minutes,
 * by_practice, by_month, teachers, views_from_other_schools, visits and
 * arrived_from_elsewhere, for school sid, which user may summarise.
 * Returns 0 or a KD_E* code (o then holds part of it). */
int sumx_school(struct kd_db *db, const struct kd_user *user, int64_t sid, const char *from,
                const char *to, json_t *o);

/* Fill schools, grid and spread (empty arrays in o) as summary_district()
 * does, for an admin.  Returns 0 or a KD_E* code. */
int sumx_district(struct kd_db *db, const char *from, const char *to, json_t *o);

/* Load what the summaries read into memory now.  0 or a KD_E* code. */
int sumx_warm(struct kd_db *db);

#endif
