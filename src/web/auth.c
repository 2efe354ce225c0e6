/* auth.c - who is asking: bearer token or session cookie. */
#include <string.h>
#include <strings.h>

#include "http.h"
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
