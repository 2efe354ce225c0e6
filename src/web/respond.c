/* respond.c - request accessors and the one way responses are sent. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/html.h"
#include "answers.h"
#include "http.h"
#include "kindling/err.h"
#include "kindling/net.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* Only this site's own scripts, styles and media, even if some text ever
 * escaped escaping. */
#define CSP_SELF                                                                             \
	"default-src 'self'; img-src 'self' data:; media-src 'self'; object-src 'none'; "    \
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

const char *req_arg(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void http_client_address(struct MHD_Connection *conn, char *out, size_t len)
{
	snprintf(out, len, "-");
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		          (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
		          (socklen_t)len);
}

/* A strictly decimal query argument in [lo, hi]; def when absent. */
int req_int_arg(struct request *req, const char *name, int64_t def, int64_t lo, int64_t hi,
                int64_t *out)
{
	const char *v = req_arg(req, name);
	if (!v || !*v) {
		*out = def;
		return 0;
	}
	int64_t n = 0;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9' || n > hi)
			return KD_EINVAL;
		n = n * 10 + (*p - '0');
	}
	if (n < lo || n > hi)
		return KD_EINVAL;
	*out = n;
	return 0;
}

json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

bool req_via_trusted_proxy(struct request *req)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return ci && kd_netlist_has(&req->srv->cfg->trusted_proxies, ci->client_addr);
}

void req_client_address(struct request *req, char *out, size_t len)
{
	char peer[INET6_ADDRSTRLEN];
	http_client_address(req->conn, peer, sizeof peer);
	kd_client_address(&req->srv->cfg->trusted_proxies, peer,
	                  req_header(req, "X-Forwarded-For"), out, len);
}

enum MHD_Result respond(struct request *req, unsigned status, struct MHD_Response *resp)
{
	if (!resp)
		return MHD_NO;
	/* Nothing kindling serves may be sniffed into another type or framed
	 * by another site. */
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	req->status = status;
	req->answered = true;
	enum MHD_Result r = MHD_queue_response(req->conn, status, resp);
	/* kept only once queued: from the moment it is in the cache another
	 * thread may drop it, and the queue's reference keeps it alive */
	if (r != MHD_YES || !answers_keep(req, status, resp))
		MHD_destroy_response(resp);
	return r;
}

/* Build a response holding body as JSON (body is consumed). */
static struct MHD_Response *json_response(struct request *req, json_t *body)
{
	char *text = NULL;
	size_t len = 0;
	if (body) {
		text = json_dumps(body, RESPOND_JSON_FLAGS);
		json_decref(body);
		if (!text)
			return NULL;
		len = strlen(text);
		/* A trailing newline makes curl output readable; JSON ignores it. */
		char *nl = realloc(text, len + 2);
		if (!nl) {
			free(text);
			return NULL;
		}
		text = nl;
		text[len++] = '\n';
		text[len] = '\0';
	}
	struct MHD_Response *resp =
		text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE)
		     : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(text);
		return NULL;
	}
	if (text)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, RESPOND_JSON_TYPE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	req->bytes_out = len;
	return resp;
}

enum MHD_Result respond_json(struct request *req, unsigned status, json_t *body)
{
	if (!body && status != MHD_HTTP_NO_CONTENT) {
		/* json_pack() failed: a bug or out of memory, never an empty 200. */
		log_error("http", "%s %s: could not build the JSON answer", req->method, req->path);
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		body = json_pack("{ss}", "error", "the server failed; the log has details");
	}
	return respond(req, status, json_response(req, body));
}

static enum MHD_Result verror(struct request *req, unsigned status, const char *hname,
                              const char *hvalue, const char *fmt, va_list ap)
{
	char msg[KD_ERRMSG_MAX];
	vsnprintf(msg, sizeof msg, fmt, ap);
	/* A busy catalogue or a full disk is the state of things, not a fault. */
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE || status == MHD_HTTP_INSUFFICIENT_STORAGE)
		log_warn("http", "%s %s: %s", req->method, req->path, msg);
	else if (status >= 500)
		log_error("http", "%s %s: %s", req->method, req->path, msg);
	struct MHD_Response *resp = json_response(req, json_pack("{s:s}", "error", msg));
	if (resp && hname)
		MHD_add_response_header(resp, hname, hvalue);
	return respond(req, status, resp);
}

enum MHD_Result respond_error(struct request *req, unsigned status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum MHD_Result r = verror(req, status, NULL, NULL, fmt, ap);
	va_end(ap);
	return r;
}

enum MHD_Result respond_error_h(struct request *req, unsigned status, const char *hname,
                                const char *hvalue, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum MHD_Result r = verror(req, status, hname, hvalue, fmt, ap);
	va_end(ap);
	return r;
}

unsigned http_status_of(int err)
{
	switch (err) {
	case KD_EINVAL: return MHD_HTTP_BAD_REQUEST;
	case KD_ENOTFOUND: return MHD_HTTP_NOT_FOUND;
	case KD_EEXIST: return MHD_HTTP_CONFLICT;
	case KD_EPERM: return MHD_HTTP_FORBIDDEN;
	case KD_EAUTH: return MHD_HTTP_UNAUTHORIZED;
	case KD_ETOOBIG: return MHD_HTTP_CONTENT_TOO_LARGE;
	case KD_EBUSY: return MHD_HTTP_SERVICE_UNAVAILABLE;
	case KD_ELIMIT: return MHD_HTTP_TOO_MANY_REQUESTS;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

enum MHD_Result respond_kd_error(struct request *req, int err, const char *message)
{
	unsigned status = http_status_of(err);
	if (!message || !*message)
		message = status == 500 ? "the server failed; the log has details" : kd_strerror(err);
	return respond_error(req, status, "%s", message);
}

json_t *req_json_body(struct request *req, enum MHD_Result *result)
{
	const char *type = req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (type && strncmp(type, "application/json", 16) != 0) {
		*result = respond_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		                        "send the body as JSON with Content-Type: application/json");
		return NULL;
	}
	if (req->body.len == 0) {
		*result = respond_error(req, MHD_HTTP_BAD_REQUEST,
		                        "the request needs a JSON object as its body");
		return NULL;
	}
	json_error_t jerr;
	json_t *v = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		*result = respond_error(req, MHD_HTTP_BAD_REQUEST,
		                        "the body is not valid JSON: %s (line %d, column %d)", jerr.text,
		                        jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		*result = respond_error(req, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
		return NULL;
	}
	return v;
}

enum MHD_Result respond_html_h(struct request *req, unsigned status, struct html *page,
                               const char *hname, const char *hvalue)
{
	if (html_failed(page)) {
		html_release(page);
		log_error("http", "%s %s: the page grew past its size limit", req->method, req->path);
		return respond_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                     "the page is too large to show");
	}
	size_t len;
	char *text = kd_buf_take(&page->b, &len);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text,
	                                                            MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	/* Pages show who is signed in and what they may see: never cached. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "Content-Security-Policy",
	                        req->srv->csp ? req->srv->csp : CSP_SELF);
	if (hname)
		MHD_add_response_header(resp, hname, hvalue);
	req->bytes_out = len;
	return respond(req, status, resp);
}

char *respond_csp(const char *media_origin)
{
	if (!media_origin)
		return kd_strdup(CSP_SELF);
	return kd_asprintf("default-src 'self'; img-src 'self' data: %s; media-src 'self' %s; "
	                   "object-src 'none'; base-uri 'none'; form-action 'self'; "
	                   "frame-ancestors 'none'",
	                   media_origin, media_origin);
}

enum MHD_Result respond_html(struct request *req, unsigned status, struct html *page)
{
	return respond_html_h(req, status, page, NULL, NULL);
}

enum MHD_Result respond_redirect(struct request *req, const char *location,
                                 const char *set_cookie)
{
	return respond_redirect_cookies(req, location, set_cookie, NULL);
}

enum MHD_Result respond_redirect_cookies(struct request *req, const char *location,
                                         const char *cookie1, const char *cookie2)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (cookie1)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie1);
	if (cookie2)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie2);
	return respond(req, MHD_HTTP_SEE_OTHER, resp);
}

enum MHD_Result respond_text(struct request *req, unsigned status, const char *type,
                             const char *disposition, char *text)
{
	size_t len = strlen(text);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (disposition)
		MHD_add_response_header(resp, "Content-Disposition", disposition);
	req->bytes_out = len;
	return respond(req, status, resp);
}
