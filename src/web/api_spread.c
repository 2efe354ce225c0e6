/* api_spread.c - GET /api/v1/practices/{slug}/spread (issue 15, H6): how a
 * practice spread, as spread.h answers it for the signed-in user. */
#include "api.h"
#include "kindling/err.h"
#include "kindling/spread.h"

enum MHD_Result api_practice_spread(struct request *req)
{
	char err[KD_ERRMSG_MAX] = "";
	json_t *s;
	int rc = spread_practice(req->db, &req->user, req->slugs[0], &s, err, sizeof err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	return respond_json(req, MHD_HTTP_OK, s);
}
