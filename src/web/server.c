/* server.c - the libmicrohttpd daemon: start, per-request life, shutdown. */
#define _GNU_SOURCE
#include "kindling/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "answers.h"
#include "conns.h"
#include "http.h"
#include "metrics.h"
#include "router.h"
#include "tus_shared.h"
#include "tus_state.h"
#include "kindling/captions.h" /* issue 15 */
#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/oidc.h"
#include "kindling/signals.h"
#include "kindling/summary.h"

/* How long shutdown waits for requests in flight before closing anyway. */
#define DRAIN_SECONDS 10

static atomic_int in_flight;

/* Does the request carry a body, and how long is it (UINT64_MAX: not
 * said, as with chunked encoding)? */
static bool body_expected(struct MHD_Connection *conn, uint64_t *length)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_TRANSFER_ENCODING);
	*length = UINT64_MAX;
	if (cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (!errno && *cl >= '0' && *cl <= '9' && !*end)
			*length = n;
	}
	return (cl && *length != 0) || te;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
	(void)version;
	struct server *srv = cls;
	struct request *req = *req_cls;
	if (!req) {
		/* First call: the headers are in; the body (if any) is not. */
		conns_headers_in(conn);
		req = kd_calloc(1, sizeof *req);
		req->conn = conn;
		req->srv = srv;
		req->method = method;
		req->path = url;
		clock_gettime(CLOCK_MONOTONIC, &req->started);
		atomic_fetch_add(&in_flight, 1);
		*req_cls = req;
		uint64_t length;
		bool has_body = body_expected(conn, &length);
		enum MHD_Result r = router_headers(req, has_body, length);
		size_t max = router_body_max(req);
		kd_buf_init(&req->body, max == SIZE_MAX ? 0 : max);
		return r;
	}
	if (*upload_data_size) {
		if (req->answered) {
			/* refused already: drop what still arrives */
		} else if (req->stream_write) {
			/* A sink that fails remembers why and drops the rest: MHD only
			 * lets an answer be queued once the body is in. */
			(void)req->stream_write(req, upload_data, *upload_data_size);
			metrics_upload_bytes(*upload_data_size);
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
		                     "the request body is larger than the %zu bytes allowed here",
		                     req->body.cap);
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
	req_client_address(req, addr, sizeof addr);
	log_info("access", "%s \"%s %s\" %u %.2fms user=%lld%s", addr, req->method, req->path,
	         req->status, ms, req->signed_in ? (long long)req->user.id : 0LL,
	         toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	metrics_request_done(req->route, req->status, ms / 1e3);
	if (req->stream_close)
		req->stream_close(req);
	conns_request_done(conn);
	free(req->keep_key);
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
	/* Clients that go away, and connections we refused or timed out, are
	 * the normal life of a server, not warnings. */
	if (strstr(msg, "closure") || strstr(msg, "onnection reset") ||
	    strstr(msg, "Closing inbound connection") || strstr(msg, "rejected"))
		log_debug("http", "%s", msg);
	else
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

/* The record of catalogue changes (schema/005) only has to reach back as
 * far as an index could be behind; further back, it reloads. */
/* Uploads abandoned this long go: those of the data folder, and those
 * kept in the catalogue when it is shared by several nodes. */
static void expire_uploads(const struct kd_config *cfg, struct db_pool *pool,
                           struct kd_storage *storage)
{
	unsigned age = cfg->upload_expiry_hours * 3600u;
	tus_expire(cfg, age);
	if (!pool || !db_is_postgres_url(cfg->db_path))
		return;
	struct kd_db *db = db_pool_get(pool);
	if (tus_shared_expire(db, storage, age) < 0)
		log_warn("server", "cannot look for abandoned uploads in the catalogue");
	db_pool_put(pool, db);
}

static void prune_changes(struct db_pool *pool)
{
	struct kd_db *db = db_pool_get(pool);
	int rc = cat_changes_prune(db, 20000);
	db_pool_put(pool, db);
	if (rc < 0)
		log_warn("server", "cannot prune the record of changes: %s", kd_strerror(rc));
}

/* Where pages' pictures and videos come from when they are in object
 * storage: the origin of its presigned URLs ("http://host:port"), for the
 * pages' Content-Security-Policy; NULL on the data folder. */
static char *media_origin(struct kd_storage *s)
{
	char *url = NULL, err[KD_ERRMSG_MAX];
	if (storage_kind(s) != STORAGE_S3 ||
	    storage_presign_get(s, "origin", 60, NULL, NULL, &url, err, sizeof err) < 0)
		return NULL;
	char *host = strstr(url, "://");
	if (host)
		host[3 + strcspn(host + 3, "/")] = '\0';
	return url;
}

int server_run(const struct kd_config *cfg, bool process, char *err, size_t errlen)
{
	struct server srv = {.cfg = cfg};
	struct sockaddr_storage addr;
	int rc = resolve(cfg->listen_host, cfg->listen_port, &addr, err, errlen);
	if (rc < 0)
		return rc;

	/* before MHD's threads start: they inherit the mask */
	sigset_t stop;
	kd_block_stop_signals(&stop);

	/* One connection per request thread, plus one spare. */
	if ((rc = db_pool_open(cfg->db_path, cfg->http_threads + 1, &srv.pool, err, errlen)) < 0)
		return rc;

	/* Media in object storage: a setting or a credential wrong is said
	 * now, not at the first clip. */
	if ((rc = storage_open(&srv.storage, cfg, err, errlen)) < 0 ||
	    (storage_kind(srv.storage) == STORAGE_S3 &&
	     (rc = storage_check(srv.storage, err, errlen)) < 0)) {
		storage_close(&srv.storage);
		db_pool_close(&srv.pool);
		return rc;
	}
	log_info("server", "media in %s", storage_describe(srv.storage));
	/* Abandoned uploads go before anyone can ask for them. */
	expire_uploads(cfg, srv.pool, srv.storage);
	char *origin = cfg->media_proxy ? NULL : media_origin(srv.storage);
	srv.csp = respond_csp(origin);
	free(origin);

	if (cfg->oidc_issuer) {
		struct oidc_settings os = {.issuer = cfg->oidc_issuer, .client_id = cfg->oidc_client_id,
		                           .client_secret = cfg->oidc_client_secret,
		                           .domains = cfg->oidc_domains};
		if ((rc = oidc_provider_new(&os, &srv.oidc, err, errlen)) < 0) {
			storage_close(&srv.storage);
			db_pool_close(&srv.pool);
			free(srv.csp);
			return rc;
		}
		/* A provider that cannot be reached now is said now, but does not
		 * keep the catalogue from serving: sign-in tries again. */
		char why[KD_ERRMSG_MAX] = "";
		if (oidc_discover(srv.oidc, why, sizeof why) < 0)
			log_error("server", "the identity provider %s: %s; sign-in through it will try "
			          "again", cfg->oidc_issuer, why);
		else
			log_info("server", "people sign in through %s%s", cfg->oidc_issuer,
			         cfg->password_login ? " or with a password" : " only");
	}

	answers_limit((size_t)cfg->answer_cache_mb << 20);
	cat_captions_require(cfg->require_captions); /* issue 15: before the index is built */
	/* Lists and counts come from memory; built before the first request
	 * so that it does not wait for it. */
	cat_index_enable(true);
	struct kd_db *db = db_pool_get(srv.pool);
	if ((rc = cat_index_warm(db)) < 0)
		log_error("server", "cannot load the catalogue into memory (%s); each request will "
		          "try again", kd_strerror(rc));
	else if ((rc = summary_warm(db)) < 0)
		log_error("server", "cannot load the summaries' figures into memory (%s); the first "
		          "summary will try again", kd_strerror(rc));
	db_pool_put(srv.pool, db);

	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
	                 MHD_USE_ERROR_LOG;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	size_t n_routes;
	const struct route *routes = router_table(&n_routes);
	metrics_start(routes, n_routes, process);
	struct conns *conns;
	conns_new(cfg, &conns);
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, conns_accept, conns, on_request, &srv,
		/* first, so that what the other options say is logged through it */
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
		MHD_OPTION_CONNECTION_LIMIT, 1024u,
		/* Upload bodies arrive in pieces of this buffer: bigger pieces,
		 * fewer writes to disk.  But MHD clears the whole of it between two
		 * requests on a connection, and at 256 KiB that clearing was a
		 * tenth of a browsing load's time.  32 KiB: uploads measured the
		 * same, and a request's headers (an upload's metadata, a few KB)
		 * still fit with room to spare. */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_NOTIFY_CONNECTION, conns_notify, conns,
		MHD_OPTION_END);
	if (!d) {
		snprintf(err, errlen,
		         "cannot listen on %s:%u: %s (is another server using the port? choose "
		         "another with --listen HOST:PORT)",
		         cfg->listen_host, cfg->listen_port, strerror(errno));
		db_pool_close(&srv.pool);
		storage_close(&srv.storage);
		free(srv.csp);
		oidc_provider_free(srv.oidc);
		conns_free(&conns);
		return KD_EIO;
	}
	if (process) {
		char *self = kd_self_exe();
		rc = jobs_runner_start(cfg, self, NULL, &srv.runner);
		free(self);
		if (rc < 0)
			log_error("server", "cannot start processing clips (%s); uploads will wait in "
			          "the queue until the next start", kd_strerror(rc));
		metrics_set_runner(srv.runner);
	} else {
		log_info("server", "processing nothing: clips wait for `kindling work` nodes");
	}

	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = info ? info->port : cfg->listen_port;
	int v6 = addr.ss_family == AF_INET6;
	log_info("server", "serving %s on http://%s%s%s:%u/ with %d threads", cfg->data_dir,
	         v6 ? "[" : "", cfg->listen_host, v6 ? "]" : "", port, cfg->http_threads);
	printf("kindling: serving http://%s%s%s:%u/\n", v6 ? "[" : "", cfg->listen_host,
	       v6 ? "]" : "", port);
	fflush(stdout);

	/* The main thread waits for a stop signal; once a second it closes
	 * connections whose headers are overdue, once a minute it tidies away
	 * abandoned uploads. */
	int sig;
	struct timespec second = {1, 0};
	for (unsigned tick = 1; (sig = sigtimedwait(&stop, NULL, &second)) < 0; tick++) {
		if (errno != EAGAIN)
			continue;
		conns_sweep(conns);
		if (tick % 60 == 0) {
			expire_uploads(cfg, srv.pool, srv.storage);
			prune_changes(srv.pool);
		}
	}
	log_info("server", "received %s, finishing requests in flight", strsignal(sig));

	MHD_socket listen_fd = MHD_quiesce_daemon(d);
	for (int i = 0; i < DRAIN_SECONDS * 20 && atomic_load(&in_flight) > 0; i++)
		usleep(50 * 1000);
	if (atomic_load(&in_flight) > 0)
		log_warn("server", "%d requests still running after %d s; closing them",
		         atomic_load(&in_flight), DRAIN_SECONDS);
	MHD_stop_daemon(d);
	answers_clear();
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	metrics_set_runner(NULL);
	jobs_runner_stop(&srv.runner, DRAIN_SECONDS);
	db_pool_close(&srv.pool);
	storage_close(&srv.storage);
	free(srv.csp);
	oidc_provider_free(srv.oidc);
	conns_free(&conns);
	log_info("server", "stopped cleanly");
	return 0;
}

void server_print_routes(FILE *out)
{
	size_t n;
	const struct route *r = router_table(&n);
	for (size_t i = 0; i < n; i++) {
		const char *access = (r[i].flags & ROUTE_PUBLIC) ? "public"
		                     : (r[i].flags & ROUTE_PAGE) ? "page" : "signed-in";
		if (r[i].begin)
			fprintf(out, "%s %s %s stream\n", r[i].method, r[i].pattern, access);
		else
			fprintf(out, "%s %s %s %zu\n", r[i].method, r[i].pattern, access, r[i].max_body);
	}
}
