/* static.c - the embedded CSS, JavaScript and icons (see assets.h). */
#include <stdio.h>
#include <string.h>

#include "static.h"
#include "kindling/assets.h"

const char *asset_url(const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "/assets/v%s/%s", kd_assets_version, name);
	return out;
}

enum MHD_Result asset_get(struct request *req)
{
	const struct kd_asset *a = NULL;
	/* Only names in the table: the URL only picks one of them. */
	for (size_t i = 0; i < kd_assets_count; i++)
		if (!strcmp(kd_assets[i].name, req->slugs[1]))
			a = &kd_assets[i];
	if (!a)
		return respond_error(req, MHD_HTTP_NOT_FOUND, "there is no asset named %s",
		                     req->slugs[1]);
	/* The current version may be kept for a year: its URL changes with its
	 * content.  An old page asking for an old version gets today's file,
	 * which it must ask for again next time. */
	bool current = req->slugs[0][0] == 'v' && !strcmp(req->slugs[0] + 1, kd_assets_version);
	char etag[40];
	snprintf(etag, sizeof etag, "\"%s\"", kd_assets_version);
	const char *inm = req_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
	bool fresh = inm && strstr(inm, etag);
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		fresh ? 0 : a->len, fresh ? (void *)"" : (void *)a->data, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        current ? "public, max-age=31536000, immutable" : "no-cache");
	req->bytes_out = fresh ? 0 : a->len;
	return respond(req, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp);
}
