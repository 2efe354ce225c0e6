/* server.c - the libmicrohttpd daemon: start, per-request life, shutdown. */
#define _GNU_SOURCE
#include "kindling/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "router.h"
#include "tus_state.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* How long shutdown waits for requests in flight before closing anyway. */
#define DRAIN_SECONDS 10

static atomic_int in_flight;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
	(void)version;
	struct server *srv = cls;
	struct request *req = *req_cls;
	if (!req) {
		/* First call: headers only.  Answering later (not here) is what
		 * keeps the connection alive for the next request. */
		req = kd_calloc(1, sizeof *req);
		req->conn = conn;
		req->srv = srv;
		req->method = method;
		req->path = url;
		kd_buf_init(&req->body, srv->cfg->max_body);
		clock_gettime(CLOCK_MONOTONIC, &req->started);
		atomic_fetch_add(&in_flight, 1);
		*req_cls = req;
		if (router_streams(req)) {
			req->db = db_pool_get(srv->pool);
			enum MHD_Result r = router_begin(req);
			db_pool_put(srv->pool, req->db);
			req->db = NULL;
			return r;
		}
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > srv->cfg->max_body) {
			req->body_too_big = true;
			return respond_error(req, MHD_HTTP_CONTENT_TOO_LARGE,
			                     "the request body is larger than the %zu bytes allowed",
			                     srv->cfg->max_body);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (req->answered) {
			/* refused already: drop what still arrives */
		} else if (req->stream_write) {
			/* A sink that fails remembers why and drops the rest: MHD only
			 * lets an answer be queued once the body is in. */
			(void)req->stream_write(req, upload_data, *upload_data_size);
		} else if (!req->body_too_big &&
		    kd_buf_append(&req->body, upload_data, *upload_data_size) < 0) {
			req->body_too_big = true;
			kd_buf_release(&req->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->answered)
		return MHD_YES;
	if (req->body_too_big)
		return respond_error(req, MHD_HTTP_CONTENT_TOO_LARGE,
		                     "the request body is larger than the %zu bytes allowed",
		                     srv->cfg->max_body);
	req->db = db_pool_get(srv->pool);
	enum MHD_Result r = router_dispatch(req);
	db_pool_put(srv->pool, req->db);
	req->db = NULL;
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	struct request *req = *req_cls;
	if (!req)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double ms = (double)(now.tv_sec - req->started.tv_sec) * 1e3 +
	            (double)(now.tv_nsec - req->started.tv_nsec) / 1e6;
	char addr[INET6_ADDRSTRLEN];
	http_client_address(conn, addr, sizeof addr);
	log_info("access", "%s \"%s %s\" %u %.2fms user=%lld%s", addr, req->method, req->path,
	         req->status, ms, req->signed_in ? (long long)req->user.id : 0LL,
	         toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	if (req->stream_close)
		req->stream_close(req);
	kd_buf_release(&req->body);
	free(req);
	*req_cls = NULL;
	atomic_fetch_sub(&in_flight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_warn("http", "%s", msg);
}

static int resolve(const char *host, unsigned port, struct sockaddr_storage *ss, char *err,
                   size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE};
	struct addrinfo *res;
	char portstr[8];
	snprintf(portstr, sizeof portstr, "%u", port);
	int rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot use listen address %s: %s", host, gai_strerror(rc));
		return KD_EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

int server_run(const struct kd_config *cfg, char *err, size_t errlen)
{
	struct server srv = {.cfg = cfg};
	struct sockaddr_storage addr;
	int rc = resolve(cfg->listen_host, cfg->listen_port, &addr, err, errlen);
	if (rc < 0)
		return rc;

	/* Every thread MHD starts inherits this mask, so the signals reach only
	 * the sigwait() below. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Abandoned uploads go before anyone can ask for them. */
	tus_expire(cfg, cfg->upload_expiry_hours * 3600u);

	/* One connection per request thread, plus one spare. */
	if ((rc = db_pool_open(cfg->db_path, cfg->http_threads + 1, &srv.pool, err, errlen)) < 0)
		return rc;

	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
	                 MHD_USE_ERROR_LOG;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, &srv,
		/* first, so that what the other options say is logged through it */
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
		MHD_OPTION_CONNECTION_LIMIT, 1024u,
		/* Upload bodies arrive in pieces of this buffer: bigger pieces, fewer
		 * writes to disk. */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_END);
	if (!d) {
		snprintf(err, errlen,
		         "cannot listen on %s:%u: %s (is another server using the port? choose "
		         "another with --listen HOST:PORT)",
		         cfg->listen_host, cfg->listen_port, strerror(errno));
		db_pool_close(&srv.pool);
		return KD_EIO;
	}
	char *self = kd_self_exe();
	rc = jobs_runner_start(cfg, self, NULL, &srv.runner);
	free(self);
	if (rc < 0)
		log_error("server", "cannot start processing clips (%s); uploads will wait in the "
		          "queue until the next start", kd_strerror(rc));

	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = info ? info->port : cfg->listen_port;
	int v6 = addr.ss_family == AF_INET6;
	log_info("server", "serving %s on http://%s%s%s:%u/ with %d threads", cfg->data_dir,
	         v6 ? "[" : "", cfg->listen_host, v6 ? "]" : "", port, cfg->http_threads);
	printf("kindling: serving http://%s%s%s:%u/\n", v6 ? "[" : "", cfg->listen_host,
	       v6 ? "]" : "", port);
	fflush(stdout);

	/* The main thread waits for a stop signal, and once a minute tidies
	 * away abandoned uploads. */
	int sig;
	struct timespec minute = {60, 0};
	while ((sig = sigtimedwait(&stop, NULL, &minute)) < 0)
		if (errno == EAGAIN)
			tus_expire(cfg, cfg->upload_expiry_hours * 3600u);
	log_info("server", "received %s, finishing requests in flight", strsignal(sig));

	MHD_socket listen_fd = MHD_quiesce_daemon(d);
	for (int i = 0; i < DRAIN_SECONDS * 20 && atomic_load(&in_flight) > 0; i++)
		usleep(50 * 1000);
	if (atomic_load(&in_flight) > 0)
		log_warn("server", "%d requests still running after %d s; closing them",
		         atomic_load(&in_flight), DRAIN_SECONDS);
	MHD_stop_daemon(d);
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	jobs_runner_stop(&srv.runner, DRAIN_SECONDS);
	db_pool_close(&srv.pool);
	log_info("server", "stopped cleanly");
	return 0;
}
