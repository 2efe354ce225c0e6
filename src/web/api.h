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

/* A PATCH body turned into a catalogue edit.  The strings point into the
 * JSON value, which must outlive the edit; the arrays are owned here. */
struct clip_edit_json {
	struct cat_clip_edit edit;
	const char **practices;
	const char **tags;
};
/* Returns 0, or KD_EINVAL with a message saying which field is wrong.
 * Release ej in either case. */
int clip_edit_from_json(json_t *body, struct clip_edit_json *ej, char *err, size_t errlen);
void clip_edit_json_release(struct clip_edit_json *ej);

#endif
