/* auth.c - who is asking: bearer token or session cookie, and the CSRF
 * token a session's requests must carry (see auth.h). */
#include "auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "html.h"
#include "kindling/err.h"

int auth_request(struct request *req)
{
	const char *h = req_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	int rc = KD_EAUTH;
	if (h) {
		if (strncasecmp(h, "Bearer ", 7) != 0)
			return KD_EAUTH;
		h += 7;
		while (*h == ' ')
			h++;
		rc = users_auth_token(req->db, h, &req->user);
	} else {
		const char *sid = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND,
		                                              SESSION_COOKIE);
		if (sid) {
			rc = users_auth_session(req->db, sid, &req->user, req->csrf);
			req->by_session = rc == 0;
		}
	}
	req->signed_in = rc == 0;
	return rc;
}

bool auth_csrf_needed(const char *method, const char *path)
{
	if (strncmp(path, "/api/v1/", 8) != 0)
		return false;
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	       strcmp(method, "OPTIONS") != 0;
}

bool auth_csrf_equal(const char *got, const char *want)
{
	if (!got || !want || !*want)
		return false;
	size_t n = strlen(want);
	return strlen(got) == n && sodium_memcmp(got, want, n) == 0;
}

bool auth_api_csrf_ok(struct request *req)
{
	if (!req->by_session || !auth_csrf_needed(req->method, req->path))
		return true;
	return auth_csrf_equal(req_header(req, "X-CSRF-Token"), req->csrf);
}

bool auth_form_csrf_ok(struct request *req)
{
	if (!req->by_session)
		return req->signed_in;
	char *got = form_value(req->body.data, req->body.len, "csrf", 0);
	bool ok = auth_csrf_equal(got, req->csrf);
	free(got);
	return ok;
}
