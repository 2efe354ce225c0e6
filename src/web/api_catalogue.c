/* api_catalogue.c - schools, practices, who am I, health. */
#include "api.h"
#include "metrics.h"
#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"

enum MHD_Result api_schools_list(struct request *req)
{
	struct cat_school *list;
	size_t n;
	int rc = cat_schools_list(req->db, &req->user, &list, &n);
	if (rc < 0)
		return respond_kd_error(req, rc, NULL);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{ss ss ss sI}", "slug", list[i].slug, "name",
		                                   list[i].name, "district", list[i].district, "clips",
		                                   (json_int_t)list[i].clips));
	cat_schools_free(list, n);
	return respond_json(req, MHD_HTTP_OK, json_pack("{so}", "schools", a));
}

enum MHD_Result api_practices_list(struct request *req)
{
	struct cat_practice *list;
	size_t n;
	int rc = cat_practices_list(req->db, &req->user, &list, &n);
	if (rc < 0)
		return respond_kd_error(req, rc, NULL);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		/* a retired practice is listed (its clips keep it), marked so that
		 * clients offer it for no new clip */
		json_array_append_new(a, json_pack("{ss ss ss sI sb}", "slug", list[i].slug, "name",
		                                   list[i].name, "description", list[i].description,
		                                   "clips", (json_int_t)list[i].clips, "retired",
		                                   list[i].retired_at != NULL));
	cat_practices_free(list, n);
	return respond_json(req, MHD_HTTP_OK, json_pack("{so}", "practices", a));
}

enum MHD_Result api_me(struct request *req)
{
	const struct kd_user *u = &req->user;
	return respond_json(req, MHD_HTTP_OK,
	                    json_pack("{sI ss ss ss?}", "id", (json_int_t)u->id, "name", u->name,
	                              "role", users_role_name(u->role), "school",
	                              u->school[0] ? u->school : NULL));
}

enum MHD_Result api_healthz(struct request *req)
{
	/* ?deep=1: the catalogue writable, the disk, processing (metrics.h) */
	int64_t deep;
	if (req_int_arg(req, "deep", 0, 0, 1, &deep) < 0)
		return respond_error(req, MHD_HTTP_BAD_REQUEST, "deep is 0 or 1");
	if (deep)
		return api_healthz_deep(req);
	struct kd_stmt *st;
	int ok = db_prepare(req->db, "SELECT 1", &st) == DB_OK &&
	         db_step(st) == DB_ROW;
	db_finalize(st);
	if (!ok)
		return respond_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "the catalogue cannot be read");
	return respond_json(req, MHD_HTTP_OK, json_pack("{ss}", "status", "ok"));
}
