/*
 * server.h - the HTTP service: `kindling serve`.
 *
 * libmicrohttpd with an internal thread pool on epoll serves the JSON API
 * (/api/v1/...), media and pages.  Every route except /healthz needs a
 * signed-in user.  Request bodies are bounded, idle connections time out,
 * and one access-log line is written per request.
 *
 * server_run() blocks until SIGINT or SIGTERM, then stops accepting,
 * lets requests in flight finish (for a bounded time), closes the
 * database and returns 0.
 */
#ifndef KINDLING_SERVER_H
#define KINDLING_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kindling/config.h"

/* Run the service with this configuration.  The data folder must exist and
 * the database be migrated.  process: clips are processed here too (the
 * default); false for a web node beside `kindling work` nodes.  Returns 0
 * after a clean shutdown, or a KD_E* code with a message in err when the
 * service could not start. */
int server_run(const struct kd_config *cfg, bool process, char *err, size_t errlen);

/* Print the HTTP routes, one a line: "METHOD PATTERN ACCESS MAX_BODY",
 * ACCESS being public, page (signed in; others go to the login page) or
 * signed-in, MAX_BODY the bytes of body it takes ("stream" for uploads). */
void server_print_routes(FILE *out);

#endif
