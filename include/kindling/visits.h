/*
 * visits.h - classroom visits and clip views (PRODUCT.md, "visit", "view").
 *
 * A visit is asked for from a clip the requester can see, at another
 * school than theirs.  The host school is the clip's school, the practice
 * the clip's first practice (by slug), the visitor school the requester's
 * school when asking.  Status: requested -> accepted (with one of the
 * proposed dates) | declined; accepted -> done (by the requester, with an
 * optional reflection).  Who answers: admins, principals of the host
 * school, and the featured teacher when they have an account (a teacher at
 * the host school whose name is the clip's teacher).
 *
 * A view is one row per viewer per clip per day.
 *
 * Strings in the structs are owned by them: free with visit_free.
 */
#ifndef KINDLING_VISITS_H
#define KINDLING_VISITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/users.h"

struct kd_db; /* db.h */

#define VISIT_DATES_MAX 3
#define VISIT_NOTE_MAX 2000

struct visit {
	int64_t id;
	int64_t clip_id;          /* 0 when the clip was deleted */
	char *clip_title;         /* NULL when the clip was deleted */
	char *clip_teacher;
	char *practice;           /* slug or NULL */
	char *host_school;        /* slug */
	char *host_school_name;
	int64_t host_school_id;
	char *visitor_school;     /* slug or NULL */
	int64_t visitor_school_id;
	char *requester;          /* name */
	int64_t requester_id;
	char *dates[VISIT_DATES_MAX]; /* proposed, YYYY-MM-DD */
	size_t n_dates;
	char *date;               /* accepted date or NULL */
	char *note, *answer_note, *reflection;
	char *status;             /* requested, accepted, declined, done */
	char *created_at, *updated_at;
};

void visit_free(struct visit *v);
void visits_free(struct visit *list, size_t n);

/* Ask to visit the classroom of clip_id.  KD_ENOTFOUND (no clip the user
 * may see), KD_EPERM (own school's clip), KD_EINVAL (dates, note); err says
 * which and what to do.  On success *id is the new visit. */
int visit_create(struct kd_db *db, const struct kd_user *user, int64_t clip_id,
                 const char *const *dates, size_t n_dates, const char *note, int64_t *id,
                 char *err, size_t errlen);

/* One visit (callers check visit_may_see).  Its clip is named (clip_id,
 * clip_title, clip_teacher) only when viewer may see the clip; NULL
 * viewer: always. */
int visit_get(struct kd_db *db, const struct kd_user *viewer, int64_t id, struct visit *out);

/* May user accept or decline v? */
bool visit_may_answer(struct kd_db *db, const struct kd_user *user, const struct visit *v);
/* May user see v: the requester, those who may answer, principals of the
 * visitor school, admins. */
bool visit_may_see(struct kd_db *db, const struct kd_user *user, const struct visit *v);

/* Change a visit: status "accepted" (date required, one of the proposed),
 * "declined", "done" (requester, from accepted, reflection optional); note
 * is stored as the answer note.  NULL: not given.  KD_EPERM, KD_EINVAL
 * (KD_EEXIST for a transition the status does not allow), with err. */
int visit_update(struct kd_db *db, const struct kd_user *user, int64_t id, const char *status,
                 const char *date, const char *note, const char *reflection, char *err,
                 size_t errlen);

/* Visits hosted by or made from school (a slug: principals only their own,
 * admins any), or, with mine, made by user.  Newest first, one page (from
 * 1) of per_page (1..VISITS_PER_PAGE_MAX); *total counts them all. */
#define VISITS_PER_PAGE_MAX 500
int visit_list(struct kd_db *db, const struct kd_user *user, const char *school, bool mine,
               int64_t page, int64_t per_page, struct visit **out, size_t *n, int64_t *total,
               char *err, size_t errlen);

/* For a teacher: the visits to their classroom (hosted by their school,
 * of clips naming them as the teacher, the same match as
 * visit_may_answer).  Nothing for other roles.  Newest first. */
int visit_list_featured(struct kd_db *db, const struct kd_user *user, int64_t page, int64_t per_page,
                        struct visit **out, size_t *n, int64_t *total);

/* The iCalendar (RFC 5545) text of an accepted visit: CRLF lines folded at
 * 75 octets, text escaped.  dtstamp is "YYYYMMDDTHHMMSSZ".  Caller frees.
 * NULL when v has no date. */
char *visit_ics(const struct visit *v, const char *dtstamp);

/* Record that user watched clip_id on day (YYYY-MM-DD; NULL: today, UTC),
 * at most once per day.  KD_ENOTFOUND when the user may not see the clip. */
int view_record(struct kd_db *db, const struct kd_user *user, int64_t clip_id, const char *day);

/* issue 16: how many visits wait for user's answer (status requested):
 * for a principal (and an admin with a school), those their school hosts;
 * for a teacher, those to their classroom (visit_may_answer's match).  0
 * for everyone else.  The Visits link's badge, on every page. */
int visit_count_waiting(struct kd_db *db, const struct kd_user *user, int64_t *n);

#endif
