/*
 * api.h - the JSON API under /api/v1 (api_clips.c, api_notes.c,
 * api_catalogue.c, api_visits.c, api_summary.c) and /healthz.  Private to src/web/.
 *
 * Errors are {"error": "..."} with the status of http_status_of(); a clip
 * the asker may not see is a 404, never a 403, so its existence does not
 * leak.
 */
#ifndef KINDLING_WEB_API_H
#define KINDLING_WEB_API_H

#include <jansson.h>

#include "http.h"
#include "kindling/catalogue.h"

enum MHD_Result api_clips_list(struct request *req);
enum MHD_Result api_clip_get(struct request *req);
enum MHD_Result api_clip_patch(struct request *req);
enum MHD_Result api_clip_delete(struct request *req);
enum MHD_Result api_clip_view(struct request *req);
enum MHD_Result api_notes_list(struct request *req);
enum MHD_Result api_note_add(struct request *req);
enum MHD_Result api_note_delete(struct request *req);
/* issue 15: moments (api_moments.c) */
enum MHD_Result api_clip_moments(struct request *req);
enum MHD_Result api_moment_add(struct request *req);
enum MHD_Result api_moment_patch(struct request *req);
enum MHD_Result api_moment_delete(struct request *req);
enum MHD_Result api_moments_list(struct request *req);
/* issue 15: captions (api_captions.c) */
enum MHD_Result api_clip_captions_put(struct request *req);
enum MHD_Result api_clip_captions_delete(struct request *req);
enum MHD_Result api_schools_list(struct request *req);
enum MHD_Result api_practices_list(struct request *req);
enum MHD_Result api_me(struct request *req);
enum MHD_Result api_healthz(struct request *req);
enum MHD_Result api_visit_create(struct request *req);
enum MHD_Result api_visit_patch(struct request *req);
enum MHD_Result api_visit_get(struct request *req);
enum MHD_Result api_visits_list(struct request *req);
enum MHD_Result api_visit_ics(struct request *req);
enum MHD_Result api_school_summary(struct request *req);
enum MHD_Result api_district_summary(struct request *req);
/* issue 15: how a practice spread (api_spread.c) */
enum MHD_Result api_practice_spread(struct request *req);
/* issue 16: following a practice (api_follow.c) */
enum MHD_Result api_follow_get(struct request *req);
enum MHD_Result api_follow_put(struct request *req);
enum MHD_Result api_follow_delete(struct request *req);

/* A PATCH body turned into a catalogue edit.  The strings point into the
 * JSON value, which must outlive the edit; the arrays are owned here. */
struct clip_edit_json {
	struct cat_clip_edit edit;
	const char **practices;
	const char **tags;
};
/* Returns 0, or KD_EINVAL with a message saying which field is wrong.
 * Release ej in either case. */
/* Audit entries for an edit of clip was into now (consent, visibility,
 * the other fields given in e), as the request's person. */
void clip_audit_edit(struct request *req, const struct cat_clip *was, const struct cat_clip *now,
                     const struct cat_clip_edit *e);
/* api_governance.c: a clip's blur regions (GET, PUT), consent record
 * (GET) and legal hold (PUT with {"reason"}, DELETE; admins). */
enum MHD_Result api_clip_blur_get(struct request *req);
enum MHD_Result api_clip_blur_put(struct request *req);
enum MHD_Result api_clip_consent_get(struct request *req);
enum MHD_Result api_clip_hold_put(struct request *req);
enum MHD_Result api_clip_hold_delete(struct request *req);
/* governance pages: the saves the API and the clip page's forms share
 * (pages_clip_governance.c).  The caller has checked the person may edit
 * c (blur) or is an admin (hold).  clip_blur_save: replace c's applied
 * regions, audit, queue the files to be made again.  clip_hold_save: set
 * (reason required) or lift a legal hold, audited.  0, or KD_EINVAL /
 * KD_ENOTFOUND / another code with a sentence in err. */
int clip_blur_save(struct request *req, const struct cat_clip *c, const struct cat_blur_region *r,
                   size_t n, char *err, size_t errlen);
int clip_hold_save(struct request *req, const struct cat_clip *c, bool on, const char *reason,
                   char *err, size_t errlen);

int clip_edit_from_json(json_t *body, struct clip_edit_json *ej, char *err, size_t errlen);
void clip_edit_json_release(struct clip_edit_json *ej);

#endif
