/* pages_summary.c - placeholder, filled in below */
#include "pages.h"
enum MHD_Result page_school_summary(struct request *req)
{
	return not_found(req, "not yet");
}
enum MHD_Result page_district(struct request *req)
{
	return not_found(req, "not yet");
}
