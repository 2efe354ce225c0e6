/*
 * client.h - how the commands that talk to a server (upload, summary) find
 * it and speak to it: the server and token from flags, environment or the
 * config file, and one libcurl request path with bounded answers.
 * Private to src/cli/.
 */
#ifndef KINDLING_CLI_CLIENT_H
#define KINDLING_CLI_CLIENT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "kindling/buf.h"

struct client {
	char *server; /* base URL without a trailing '/' */
	char *token;  /* NULL when none was found */
	bool tus;     /* send Tus-Resumable with every request */
};

/* Find the server and token (flags, then KINDLING_SERVER / KINDLING_TOKEN,
 * then the config file; the server defaults to http://127.0.0.1:8080) and
 * start libcurl.  need_token: without a token, say how to get one.  Returns
 * 0, or the exit status (2: no token, 1: libcurl) after printing why.
 * client_close() in either case. */
int client_open(struct client *c, const char *server_flag, const char *token_flag,
                bool need_token);
void client_close(struct client *c);

/* A value of the config file ($XDG_CONFIG_HOME or ~/.config,
 * kindling/config: "key = value" lines), or NULL; the caller frees. */
char *client_config_value(const char *key);

/* What came back.  The body is capped (body_max): past it, it is cut. */
struct reply {
	long status;
	struct kd_buf body;
	char location[512];
	long long offset;  /* Upload-Offset, -1 when absent */
	long long clip;    /* Kindling-Clip-Id, 0 when absent */
	bool duplicate;    /* Kindling-Duplicate */
};
void reply_init(struct reply *r, size_t body_max);
void reply_release(struct reply *r);
/* The server's {"error": ...} message, or a description of the status. */
void reply_error(const struct reply *r, char *err, size_t errlen);

/* A handle for method on url (a path of the server, or a whole URL) with
 * the token and the reply wired in; *headers (may start NULL) gets the
 * request's headers and must outlive the handle.  The caller adds options
 * and runs client_perform(). */
CURL *client_handle(const struct client *c, const char *method, const char *url,
                    struct reply *r, struct curl_slist **headers);
/* Run it: fills r->status, frees the handle and the headers. */
CURLcode client_perform(CURL *h, struct curl_slist *headers, struct reply *r);
/* A request without a body (GET, HEAD, DELETE). */
CURLcode client_request(const struct client *c, const char *method, const char *url,
                        struct reply *r);
/* The absolute form of a path of the server or a URL; the caller frees. */
char *client_url(const struct client *c, const char *url);

#endif
