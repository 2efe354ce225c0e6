/*
 * spread.h - how a practice spread from school to school (issue 15, H6).
 *
 * The rules are those of a principal's summary (summary.c,
 * arrived_from_elsewhere), applied to every school at once:
 *   - a school's first clip of a practice is its earliest clip (by date:
 *     recorded_on, else the day of upload; then by id) that is ready and
 *     that the asking user may see (the CAT_VISIBLE rule);
 *   - the practice arrived at that school from another one when, strictly
 *     before that date, its people watched a clip of the practice filmed
 *     at the other school (a "view"), or made an accepted or done visit to
 *     the other school for the practice or for one of its clips (a
 *     "visit").  arrived_from lists, for each such school and way, the
 *     earliest day, ordered by day, then view before visit, then school:
 *     its first entry is what the summary calls seen_at_school / seen_on /
 *     via.
 * The answer names schools and dates, never people, whoever asks.  A clip
 * the asker may not see is never an event with its id: the view of such a
 * clip stays an arrow (its clip_id null), and its school a lane with
 * first_clip_on null, as in the summary a principal reads.
 *
 * Views and visits are writes to the catalogue: they move db_epoch(), so
 * the kept answers (answers.h) of the practice page and of the spread API
 * are made afresh after one.
 *
 * The server keeps the clips in memory (summary_cache.h): the first clips
 * come from there in well under a millisecond; elsewhere from SQL, and
 * the unit tests hold the two to the same answers.  Views and visits come
 * from SQL (view_practice_counts, visits), a few indexed lookups per
 * school.
 */
#ifndef KINDLING_SPREAD_H
#define KINDLING_SPREAD_H

#include <jansson.h>
#include <stddef.h>

#include "kindling/users.h"

struct kd_db; /* db.h */

/* The spread of practice slug as user may see it:
 *   {"practice", "schools": [{"school", "first_clip_on", "arrived_from":
 *    [{"school", "via": "view"|"visit", "on"}]}],
 *    "events": [{"on", "kind": "clip"|"view"|"visit", "from_school",
 *    "to_school", "clip_id"}]}
 * schools in the order the practice reached them (first_clip_on, then
 * slug; schools only seen through an arrow last).  events: the first clip
 * at each school (from_school null) and the first view or visit of each
 * arrow, by day, then view, visit, clip, then school.  Dates YYYY-MM-DD.
 * KD_ENOTFOUND (with a message) for an unknown practice. */
int spread_practice(struct kd_db *db, const struct kd_user *user, const char *slug,
                    json_t **out, char *err, size_t errlen);

/* Practices ranked by the schools they reached from..to (schools whose
 * first clip of the practice, as above, falls in the range), for the
 * district page: {"from", "to", "practices": [{"practice", "name",
 * "reached", "schools"}]} where schools counts those that had it by to;
 * most reached first, then most schools, then slug; practices that
 * reached none in the range are left out. */
int spread_ranking(struct kd_db *db, const struct kd_user *user, const char *from,
                   const char *to, json_t **out, char *err, size_t errlen);

#endif
