/*
 * summary.h - what principals see: a school's clips, views and visits over
 * a date range, and the district side by side (PRODUCT.md, the summary API).
 *
 * The date of a clip is its recorded_on, or else the day it was uploaded.
 * Clips counted are those that are ready and that the asking user may see
 * (the CAT_VISIBLE rule).  The answers are JSON values (jansson) shaped
 * exactly as the API returns them; summary_csv() turns a school summary
 * into a spreadsheet-ready CSV.
 *
 * The server, which keeps the catalogue in memory, answers from there and
 * from the view counts of schema/006 (catalogue/summary_index.c) in about
 * a millisecond; elsewhere SQL answers, in time that grows with the
 * catalogue, and the unit tests hold the two to the same answers.
 */
#ifndef KINDLING_SUMMARY_H
#define KINDLING_SUMMARY_H

#include <jansson.h>
#include <stddef.h>

#include "kindling/users.h"

struct kd_db; /* db.h */

/* Fill in the date range: to defaults to today (UTC), from to one year
 * before to.  from and to must each hold 11 bytes.  KD_EINVAL with a
 * message for a malformed date or from after to. */
int summary_range(struct kd_db *db, const char *from_arg, const char *to_arg, char *from, char *to,
                  char *err, size_t errlen);

/* The summary of one school (slug) from..to inclusive.  Admins may ask for
 * any school, principals for their own; others get KD_EPERM.  KD_ENOTFOUND
 * for an unknown school.  On success *out is a new JSON object. */
int summary_school(struct kd_db *db, const struct kd_user *user, const char *school,
                   const char *from, const char *to, json_t **out, char *err, size_t errlen);

/* Every school side by side (admins only). */
int summary_district(struct kd_db *db, const struct kd_user *user, const char *from, const char *to,
                     json_t **out, char *err, size_t errlen);

/* For the server: with the catalogue in memory (cat_index_enable), load
 * what the summaries read now, so that the first one does not wait for
 * it.  0 or a KD_E* code (the first summary then tries again). */
int summary_warm(struct kd_db *db);

/* A school summary as CSV (RFC 4180, CRLF): columns section,key,field,value.
 * Caller frees. */
char *summary_csv(const json_t *summary);

#endif
