/* api_follow.c - following a practice (issue 16): GET, PUT and DELETE
 * /api/v1/practices/{slug}/follow, each answered with {"practice": slug,
 * "following": bool}.  Any signed-in person follows for themselves; what
 * following brings (the weekly digest) is the mail layer's. */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "kindling/err.h"
#include "kindling/outbox.h"

static enum MHD_Result answer(struct request *req, const char *slug, bool following)
{
	return respond_json(req, MHD_HTTP_OK,
	                    json_pack("{ss sb}", "practice", slug, "following", following));
}

/* on: follow (PUT) or stop (DELETE).  Either is idempotent: 200 with the
 * state it leaves. */
static enum MHD_Result set(struct request *req, bool on)
{
	char err[KD_ERRMSG_MAX] = "";
	int rc = follow_set(req->db, &req->user, req->slugs[0], on, err, sizeof err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	return answer(req, req->slugs[0], on);
}

enum MHD_Result api_follow_put(struct request *req)
{
	return set(req, true);
}

enum MHD_Result api_follow_delete(struct request *req)
{
	return set(req, false);
}

enum MHD_Result api_follow_get(struct request *req)
{
	char err[KD_ERRMSG_MAX] = "";
	struct cat_practice *p;
	int rc = cat_practice_get(req->db, req->slugs[0], &p);
	if (rc == KD_ENOTFOUND) {
		char *known = cat_practice_slugs(req->db);
		snprintf(err, sizeof err, "unknown practice '%.64s'; known practices: %s",
		         req->slugs[0], *known ? known : "(none yet)");
		free(known);
	}
	if (rc < 0)
		return respond_kd_error(req, rc, *err ? err : NULL);
	cat_practices_free(p, 1);
	return answer(req, req->slugs[0], follow_get(req->db, &req->user, req->slugs[0]));
}
