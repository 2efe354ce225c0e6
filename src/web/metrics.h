/*
 * metrics.h - how the server is doing, for those who run it: GET /metrics
 * in Prometheus' text exposition format (0.0.4), and the deep checks of
 * /healthz?deep=1.  Private to src/web/.
 *
 * What is counted in the process lives here, for the life of the process:
 *   - every request, by its route's pattern (never the raw path, so the
 *     labels stay few: "/api/v1/clips/{id}"; "other" when no route
 *     matched) and method, by status, and its latency in a histogram per
 *     route.  Counting one costs three relaxed atomic additions, no lock
 *     and no allocation: it sits on the path of every request;
 *   - the bytes of upload bodies received.
 * What the catalogue holds (jobs, clips, people, schools, practices) is
 * asked at each scrape, in one statement; the job runner tells its own
 * figures (jobs_runner_stats); free disk comes from the data folder.
 *
 * Who may read /metrics: admins (token or session), and a scraper that
 * sends the metrics_token setting as its bearer token (the route's
 * ROUTE_SCRAPE flag: the router asks metrics_token_ok before sign-in).
 *
 * /healthz?deep=1 checks that the catalogue can be written (a write that
 * touches no row, rolled back: nothing commits, so no cache is emptied),
 * that the data folder's free disk is above disk_reserve_mb, and that
 * the job runner of this node is alive.  The checks run at most once a
 * second, whoever asks: the open endpoint cannot be used to hammer the
 * catalogue.
 */
#ifndef KINDLING_WEB_METRICS_H
#define KINDLING_WEB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "kindling/buf.h"

struct route;       /* router.h */
struct jobs_runner; /* jobs.h */

/* The type of the exposition. */
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Once, before the first request: the table of routes (router_table)
 * whose patterns label the counts, and whether this node processes clips
 * (false for `serve --no-processing`).  Until then requests count as
 * "other". */
void metrics_start(const struct route *table, size_t n, bool processing);
/* The job runner of this node, once started (NULL: none, or stopping). */
void metrics_set_runner(struct jobs_runner *r);

/* A request ended: route is the one it matched (NULL: none), status the
 * one answered (0: none, the client went away first), seconds from its
 * headers to its end.  Thread-safe, lock-free. */
void metrics_request_done(const void *route, unsigned status, double seconds);
/* n bytes of an upload's body arrived. */
void metrics_upload_bytes(size_t n);

/* Does req carry "Authorization: Bearer <metrics_token>"?  False when
 * the setting is absent.  Compared in constant time. */
bool metrics_token_ok(struct request *req);

/* GET /metrics. */
enum MHD_Result api_metrics(struct request *req);
/* /healthz?deep=1: 200 {"status": "ok", "checks": {...}}, or 503
 * {"status": "failing", ...}; each check {"ok": bool, "detail": "..."}
 * says in words what it found and what to do. */
enum MHD_Result api_healthz_deep(struct request *req);

/* ------------------------------------------------ the writer (for tests) */

/* Text being written: the first failure (KD_ETOOBIG: past the buffer's
 * cap) sticks, and what follows it is not written. */
struct metrics_text {
	struct kd_buf buf;
	int err;
};

struct metrics_label {
	const char *name;
	const char *value; /* escaped as it is written */
};

/* "# HELP" and "# TYPE" of a family (type: counter, gauge, histogram,
 * summary). */
void metrics_family(struct metrics_text *t, const char *name, const char *type,
                    const char *help);
/* One sample: name{labels} value. */
void metrics_sample(struct metrics_text *t, const char *name, const struct metrics_label *labels,
                    size_t n_labels, double value);
/* A histogram's samples: counts[i] are the observations in bucket i alone
 * (above bounds[i - 1], at most bounds[i]); counts[n_bounds] those above
 * the last bound.  Written cumulative, with le="+Inf" equal to _count. */
void metrics_histogram(struct metrics_text *t, const char *name,
                       const struct metrics_label *labels, size_t n_labels, const double *bounds,
                       const uint64_t *counts, size_t n_bounds, double sum);

/* The request counters and latency histograms (those of routes asked at
 * least once). */
void metrics_write_requests(struct metrics_text *t);
/* What the catalogue holds: jobs by state, clips by status, people by
 * role, schools, practices.  Returns 0, or a KD_E* code when the
 * catalogue could not be read (nothing is written then). */
int metrics_write_catalogue(struct metrics_text *t, struct kd_db *db);

/* The catalogue check of /healthz?deep=1 on db: 0 when it can be
 * written, else a KD_E* code with what an admin should know in why. */
int metrics_check_writable(struct kd_db *db, char *why, size_t len);

#endif
