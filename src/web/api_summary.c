/* api_summary.c - /api/v1/schools/{slug}/summary and /api/v1/summary. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "kindling/err.h"
#include "kindling/summary.h"

/* The from/to of the query string, defaults filled in; answers 400 and
 * returns false when they are malformed. */
static bool range(struct request *req, char *from, char *to, enum MHD_Result *answered)
{
	char err[KD_ERRMSG_MAX] = "";
	int rc = summary_range(req->db, req_arg(req, "from"), req_arg(req, "to"), from, to, err,
	                       sizeof err);
	if (rc < 0) {
		*answered = respond_kd_error(req, rc, err);
		return false;
	}
	return true;
}

enum MHD_Result api_school_summary(struct request *req)
{
	char from[11], to[11], err[KD_ERRMSG_MAX] = "";
	enum MHD_Result answered;
	const char *format = req_arg(req, "format");
	bool csv = false;
	if (format && *format) {
		if (!strcmp(format, "csv"))
			csv = true;
		else if (strcmp(format, "json"))
			return respond_error(req, MHD_HTTP_BAD_REQUEST, "format must be json or csv");
	}
	if (!range(req, from, to, &answered))
		return answered;
	json_t *s;
	int rc = summary_school(req->db, &req->user, req->slugs[0], from, to, &s, err, sizeof err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	if (!csv)
		return respond_json(req, MHD_HTTP_OK, s);
	char disposition[160];
	snprintf(disposition, sizeof disposition,
	         "attachment; filename=\"%s-summary-%s-to-%s.csv\"", req->slugs[0], from, to);
	char *text = summary_csv(s);
	json_decref(s);
	return respond_text(req, MHD_HTTP_OK, "text/csv; charset=utf-8; header=present",
	                    disposition, text);
}

enum MHD_Result api_district_summary(struct request *req)
{
	char from[11], to[11], err[KD_ERRMSG_MAX] = "";
	enum MHD_Result answered;
	if (!range(req, from, to, &answered))
		return answered;
	json_t *s;
	int rc = summary_district(req->db, &req->user, from, to, &s, err, sizeof err);
	if (rc < 0)
		return respond_kd_error(req, rc, err);
	return respond_json(req, MHD_HTTP_OK, s);
}
