/*
 * conns.h - the connections the server holds, so that nobody holds them
 * all: at most connections_per_address open connections per client address
 * (trusted proxies, which carry everyone, are not counted), and a total
 * deadline (header_timeout) for a request's headers, counted from the
 * connection's start or the end of its last request, however slowly the
 * bytes trickle in.  Private to src/web/.
 *
 * Wire conns_accept as MHD's accept policy and conns_notify as its
 * MHD_OPTION_NOTIFY_CONNECTION; call conns_headers_in / conns_request_done
 * from the request callbacks and conns_sweep about once a second.
 * Thread-safe.
 */
#ifndef KINDLING_WEB_CONNS_H
#define KINDLING_WEB_CONNS_H

#include <microhttpd.h>
#include <sys/socket.h>

#include "kindling/config.h"

struct conns;

int conns_new(const struct kd_config *cfg, struct conns **out);
void conns_free(struct conns **c);

enum MHD_Result conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code);

/* The request's headers are all in: its deadline no longer applies. */
void conns_headers_in(struct MHD_Connection *conn);
/* A request ended: the next one's headers must come within the deadline. */
void conns_request_done(struct MHD_Connection *conn);
/* Close the connections whose headers are overdue.  Returns how many. */
int conns_sweep(struct conns *c);

#endif
