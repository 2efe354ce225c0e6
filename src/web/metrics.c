/* metrics.c - the server's counts of itself, GET /metrics and the deep
 * checks of /healthz (see metrics.h). */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <time.h>

#include "auth.h"
#include "router.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/jobs.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* A scrape's text is a few hundred bytes per route asked. */
#define METRICS_MAX (8u << 20)

/* Latency buckets, in seconds: from what memory answers (under a
 * millisecond) to the slowest page worth telling apart. */
static const double BOUNDS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                0.5,   1,      2.5,   5,    10};
#define N_BOUNDS (sizeof BOUNDS / sizeof *BOUNDS)
/* Statuses are counted by their number: 0 (no answer) and 100..599. */
#define N_STATUS 600

/* The counts of one route (the last of the array: requests no route
 * matched).  Written by every request thread, read by scrapes: relaxed
 * atomics, since no count needs to agree with another at any instant. */
struct route_counts {
	atomic_uint_fast64_t status[N_STATUS];
	atomic_uint_fast64_t bucket[N_BOUNDS + 1]; /* each alone, not cumulative */
	atomic_uint_fast64_t sum_ns;
};

static struct {
	const struct route *table;
	size_t n;
	struct route_counts *counts;   /* n + 1 */
	bool processing;
	time_t started;                /* the wall clock at metrics_start */
	atomic_uint_fast64_t upload_bytes;
	_Atomic(struct jobs_runner *) runner;
} M;

/* Until metrics_start, and for tests that never call it: every request
 * is "other". */
static struct route_counts other_only;

void metrics_start(const struct route *table, size_t n, bool processing)
{
	if (M.counts) /* (once a process: the table never changes) */
		return;
	M.counts = kd_calloc(n + 1, sizeof *M.counts);
	M.table = table;
	M.n = n;
	M.processing = processing;
	M.started = time(NULL);
}

void metrics_set_runner(struct jobs_runner *r)
{
	atomic_store(&M.runner, r);
}

static struct route_counts *counts_of(const void *route)
{
	if (!M.counts)
		return &other_only;
	const struct route *r = route;
	if (r && r >= M.table && r < M.table + M.n)
		return &M.counts[r - M.table];
	return &M.counts[M.n];
}

void metrics_request_done(const void *route, unsigned status, double seconds)
{
	struct route_counts *c = counts_of(route);
	size_t b = 0;
	while (b < N_BOUNDS && seconds > BOUNDS[b])
		b++;
	atomic_fetch_add_explicit(&c->status[status < N_STATUS ? status : 0], 1,
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&c->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->sum_ns, seconds > 0 ? (uint_fast64_t)(seconds * 1e9) : 0,
	                          memory_order_relaxed);
}

void metrics_upload_bytes(size_t n)
{
	atomic_fetch_add_explicit(&M.upload_bytes, n, memory_order_relaxed);
}

bool metrics_token_ok(struct request *req)
{
	const char *want = req->srv->cfg->metrics_token;
	const char *h = req_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!want || !h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	return auth_csrf_equal(h, want);
}

/* ------------------------------------------------------------ the writer */

static void put(struct metrics_text *t, const char *s)
{
	if (!t->err)
		t->err = kd_buf_puts(&t->buf, s);
}

static void putf(struct metrics_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void putf(struct metrics_text *t, const char *fmt, ...)
{
	if (t->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	t->err = kd_buf_vprintf(&t->buf, fmt, ap);
	va_end(ap);
}

/* s with '\\' and newlines escaped, and '"' too in a label value (HELP
 * text leaves it as it is). */
static void put_escaped(struct metrics_text *t, const char *s, bool label)
{
	for (const char *p = s; *p && !t->err; p++) {
		size_t plain = strcspn(p, label ? "\\\n\"" : "\\\n");
		if (plain) {
			t->err = kd_buf_append(&t->buf, p, plain);
			p += plain;
			if (!*p)
				break;
		}
		put(t, *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : "\\\"");
	}
}

/* A value as Prometheus reads it: whole numbers without a fraction. */
static void put_value(struct metrics_text *t, double v)
{
	if (isnan(v))
		put(t, "NaN");
	else if (isinf(v))
		put(t, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0) /* 2^53: exact */
		putf(t, "%.0f", v);
	else if (v == floor(v))
		putf(t, "%.17g", v);
	else
		putf(t, "%.15g", v);
}

void metrics_family(struct metrics_text *t, const char *name, const char *type,
                    const char *help)
{
	putf(t, "# HELP %s ", name);
	put_escaped(t, help, false);
	putf(t, "\n# TYPE %s %s\n", name, type);
}

/* name{labels[,le="bound"]} */
static void put_series(struct metrics_text *t, const char *name, const char *suffix,
                       const struct metrics_label *labels, size_t n, const char *le)
{
	put(t, name);
	put(t, suffix);
	if (!n && !le)
		return;
	put(t, "{");
	for (size_t i = 0; i < n; i++) {
		putf(t, "%s%s=\"", i ? "," : "", labels[i].name);
		put_escaped(t, labels[i].value, true);
		put(t, "\"");
	}
	if (le)
		putf(t, "%sle=\"%s\"", n ? "," : "", le);
	put(t, "}");
}

void metrics_sample(struct metrics_text *t, const char *name, const struct metrics_label *labels,
                    size_t n_labels, double value)
{
	put_series(t, name, "", labels, n_labels, NULL);
	put(t, " ");
	put_value(t, value);
	put(t, "\n");
}

void metrics_histogram(struct metrics_text *t, const char *name,
                       const struct metrics_label *labels, size_t n_labels, const double *bounds,
                       const uint64_t *counts, size_t n_bounds, double sum)
{
	uint64_t total = 0;
	for (size_t i = 0; i <= n_bounds; i++) {
		char le[32];
		total += counts[i];
		if (i < n_bounds)
			snprintf(le, sizeof le, "%g", bounds[i]);
		else
			snprintf(le, sizeof le, "+Inf");
		put_series(t, name, "_bucket", labels, n_labels, le);
		putf(t, " %llu\n", (unsigned long long)total);
	}
	put_series(t, name, "_sum", labels, n_labels, NULL);
	put(t, " ");
	put_value(t, sum);
	put(t, "\n");
	put_series(t, name, "_count", labels, n_labels, NULL);
	putf(t, " %llu\n", (unsigned long long)total);
}

/* ------------------------------------------------------------ what is counted */

static void route_labels(size_t i, struct metrics_label l[2], size_t *n)
{
	if (M.counts && i < M.n) {
		l[0] = (struct metrics_label){"route", M.table[i].pattern};
		l[1] = (struct metrics_label){"method", M.table[i].method};
		*n = 2;
	} else {
		l[0] = (struct metrics_label){"route", "other"};
		*n = 1;
	}
}

void metrics_write_requests(struct metrics_text *t)
{
	size_t routes = M.counts ? M.n + 1 : 1;
	metrics_family(t, "kindling_http_requests_total", "counter",
	               "HTTP requests answered, by route pattern (other: no route matched), method "
	               "and status (0: the client left before an answer)");
	for (size_t i = 0; i < routes; i++) {
		struct route_counts *c = M.counts ? &M.counts[i] : &other_only;
		struct metrics_label l[3];
		size_t n;
		route_labels(i, l, &n);
		for (unsigned s = 0; s < N_STATUS; s++) {
			uint64_t v = atomic_load_explicit(&c->status[s], memory_order_relaxed);
			if (!v)
				continue;
			char status[8];
			snprintf(status, sizeof status, "%u", s);
			l[n] = (struct metrics_label){"status", status};
			metrics_sample(t, "kindling_http_requests_total", l, n + 1, (double)v);
		}
	}
	metrics_family(t, "kindling_http_request_duration_seconds", "histogram",
	               "Time from a request's headers to the end of its answer, by route pattern "
	               "and method");
	for (size_t i = 0; i < routes; i++) {
		struct route_counts *c = M.counts ? &M.counts[i] : &other_only;
		uint64_t b[N_BOUNDS + 1], any = 0;
		for (size_t k = 0; k <= N_BOUNDS; k++)
			any |= b[k] = atomic_load_explicit(&c->bucket[k], memory_order_relaxed);
		if (!any)
			continue;
		struct metrics_label l[2];
		size_t n;
		route_labels(i, l, &n);
		double sum = (double)atomic_load_explicit(&c->sum_ns, memory_order_relaxed) / 1e9;
		metrics_histogram(t, "kindling_http_request_duration_seconds", l, n, BOUNDS, b,
		                  N_BOUNDS, sum);
	}
}

/* What the catalogue's one statement counts, and the values each kind
 * is always written with (0 when absent), so a series never vanishes. */
static const char *const JOB_STATES[] = {"queued", "running", "failed"};
static const char *const CLIP_STATUSES[] = {"queued", "processing", "ready", "failed"};
static const char *const ROLES[] = {"admin", "coach", "principal", "teacher"};

struct catalogue_counts {
	int64_t jobs[3], clips[4], users[4], schools, practices;
};

static void count_into(int64_t *slots, const char *const *names, size_t n, const char *what,
                       int64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], what))
			slots[i] += v;
}

int metrics_write_catalogue(struct metrics_text *t, struct kd_db *db)
{
	struct kd_stmt *st;
	/* One statement, every count from an index or a small table: jobs by
	 * (state, id), clips by status. */
	int rc = db_stmt(db,
	                 "SELECT 'jobs' AS kind, state AS what, COUNT(*) AS n FROM jobs "
	                 "WHERE state IN ('queued', 'running', 'failed') GROUP BY state "
	                 "UNION ALL SELECT 'clips', status, COUNT(*) FROM clips GROUP BY status "
	                 "UNION ALL SELECT 'users', role, COUNT(*) FROM users WHERE disabled = 0 "
	                 "GROUP BY role "
	                 "UNION ALL SELECT 'schools', '', COUNT(*) FROM schools "
	                 "UNION ALL SELECT 'practices', '', COUNT(*) FROM practices",
	                 &st);
	if (rc < 0)
		return rc;
	struct catalogue_counts c = {0};
	int step;
	while ((step = db_step(st)) == DB_ROW) {
		const char *kind = (const char *)db_column_text(st, 0);
		const char *what = (const char *)db_column_text(st, 1);
		int64_t n = db_column_int64(st, 2);
		if (!kind || !what)
			continue;
		if (!strcmp(kind, "jobs"))
			count_into(c.jobs, JOB_STATES, 3, what, n);
		else if (!strcmp(kind, "clips"))
			count_into(c.clips, CLIP_STATUSES, 4, what, n);
		else if (!strcmp(kind, "users"))
			count_into(c.users, ROLES, 4, what, n);
		else if (!strcmp(kind, "schools"))
			c.schools = n;
		else if (!strcmp(kind, "practices"))
			c.practices = n;
	}
	db_stmt_done(st);
	if (step != DB_DONE) {
		log_warn("metrics", "cannot count the catalogue: %s", db_errmsg(db));
		return db_err_code(step);
	}
	metrics_family(t, "kindling_jobs", "gauge",
	               "Processing jobs in the catalogue by state (all nodes; failed: out of "
	               "attempts)");
	for (size_t i = 0; i < 3; i++)
		metrics_sample(t, "kindling_jobs", &(struct metrics_label){"state", JOB_STATES[i]}, 1,
		               (double)c.jobs[i]);
	metrics_family(t, "kindling_clips", "gauge", "Clips in the catalogue by status");
	for (size_t i = 0; i < 4; i++)
		metrics_sample(t, "kindling_clips", &(struct metrics_label){"status", CLIP_STATUSES[i]},
		               1, (double)c.clips[i]);
	metrics_family(t, "kindling_users", "gauge", "People who may sign in, by role");
	for (size_t i = 0; i < 4; i++)
		metrics_sample(t, "kindling_users", &(struct metrics_label){"role", ROLES[i]}, 1,
		               (double)c.users[i]);
	metrics_family(t, "kindling_schools", "gauge", "Schools in the catalogue");
	metrics_sample(t, "kindling_schools", NULL, 0, (double)c.schools);
	metrics_family(t, "kindling_practices", "gauge",
	               "Practices in the catalogue (retired ones too)");
	metrics_sample(t, "kindling_practices", NULL, 0, (double)c.practices);
	return 0;
}

/* Free bytes of the data folder's disk (for anyone but root), or -1. */
static double disk_free(const char *dir, double *size)
{
	struct statvfs v;
	if (statvfs(dir, &v) != 0)
		return -1;
	if (size)
		*size = (double)v.f_blocks * (double)v.f_frsize;
	return (double)v.f_bavail * (double)v.f_frsize;
}

enum MHD_Result api_metrics(struct request *req)
{
	const struct kd_config *cfg = req->srv->cfg;
	struct metrics_text t = {.buf = KD_BUF_INIT(METRICS_MAX)};
	metrics_family(&t, "kindling_build_info", "gauge",
	               "Always 1; the labels say what this server is (schema: the catalogue "
	               "version it writes; database: sqlite or postgresql)");
	char schema[16];
	snprintf(schema, sizeof schema, "%d", db_schema_version());
	struct metrics_label build[] = {
		{"schema", schema},
		{"database", db_backend(req->db) == DB_POSTGRES ? "postgresql" : "sqlite"},
	};
	metrics_sample(&t, "kindling_build_info", build, 2, 1);
	metrics_family(&t, "kindling_start_time_seconds", "gauge",
	               "When this server started, in seconds since 1970");
	metrics_sample(&t, "kindling_start_time_seconds", NULL, 0, (double)M.started);

	metrics_write_requests(&t);

	metrics_family(&t, "kindling_upload_received_bytes_total", "counter",
	               "Bytes of upload bodies received (tus PATCH requests)");
	metrics_sample(&t, "kindling_upload_received_bytes_total", NULL, 0,
	               (double)atomic_load_explicit(&M.upload_bytes, memory_order_relaxed));

	struct jobs_runner *runner = atomic_load(&M.runner);
	struct jobs_runner_stats rs = {0};
	if (runner)
		jobs_runner_stats(runner, &rs);
	metrics_family(&t, "kindling_processing_seconds", "summary",
	               "Wall-clock seconds of the processing workers this server ran, by run that "
	               "ended (0 on a node that does not process)");
	metrics_sample(&t, "kindling_processing_seconds_sum", NULL, 0, rs.run_s);
	metrics_sample(&t, "kindling_processing_seconds_count", NULL, 0, (double)rs.runs);

	double size = 0, free_b = disk_free(cfg->data_dir, &size);
	metrics_family(&t, "kindling_disk_free_bytes", "gauge",
	               "Free bytes on the data folder's disk (-1: cannot be read)");
	metrics_sample(&t, "kindling_disk_free_bytes", NULL, 0, free_b);
	metrics_family(&t, "kindling_disk_size_bytes", "gauge", "Size of the data folder's disk");
	metrics_sample(&t, "kindling_disk_size_bytes", NULL, 0, size);
	metrics_family(&t, "kindling_disk_reserve_bytes", "gauge",
	               "The disk_reserve_mb setting: uploads that would leave less free are "
	               "refused");
	metrics_sample(&t, "kindling_disk_reserve_bytes", NULL, 0,
	               (double)cfg->disk_reserve_mb * 1048576.0);

	/* The catalogue's counts last: when it cannot be read, the rest is
	 * still worth having, and catalogue_up says so. */
	struct metrics_text counts = {.buf = KD_BUF_INIT(METRICS_MAX)};
	bool up = metrics_write_catalogue(&counts, req->db) == 0 && !counts.err;
	metrics_family(&t, "kindling_catalogue_up", "gauge",
	               "1 when this scrape could count the catalogue, else 0");
	metrics_sample(&t, "kindling_catalogue_up", NULL, 0, up);
	if (up)
		put(&t, kd_buf_str(&counts.buf));
	kd_buf_release(&counts.buf);

	if (t.err) {
		kd_buf_release(&t.buf);
		return respond_kd_error(req, t.err, "the metrics did not fit in their buffer");
	}
	return respond_text(req, MHD_HTTP_OK, METRICS_TYPE, NULL, kd_buf_take(&t.buf, NULL));
}

/* ------------------------------------------------------------ /healthz?deep=1 */

/* How often the checks may run, and how long one may take before those
 * who ask hear that it is stuck. */
#define HEALTH_EVERY_MS 1000
#define HEALTH_STUCK_MS 5000
/* A runner that comes round its loop once a second, silent this long, is
 * stuck. */
#define RUNNER_SILENT_S 30

enum { CHECK_CATALOGUE, CHECK_DISK, CHECK_PROCESSING, N_CHECKS };
static const char *const CHECK_NAMES[N_CHECKS] = {"catalogue", "disk", "processing"};

struct health {
	bool ok[N_CHECKS];
	char detail[N_CHECKS][320];
};

static struct {
	pthread_mutex_t lock;
	struct health last;
	int64_t at_ms;      /* when last was made; 0: never */
	int64_t since_ms;   /* a check under way since; 0: none */
} H = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000 + 1; /* never 0 */
}

int metrics_check_writable(struct kd_db *db, char *why, size_t len)
{
	/* The write lock and a statement that writes (so a read-only catalogue
	 * or a standby refuses it), touching no row: it assigns no
	 * transaction id on PostgreSQL and changes nothing on SQLite, so with
	 * the rollback nothing commits and the catalogue's epoch stays where
	 * it is (a committed write would empty every cache). */
	int rc = db_begin(db);
	if (rc == 0) {
		struct kd_stmt *st = NULL;
		int r = db_prepare(db, "DELETE FROM jobs WHERE id = 0", &st);
		if (r == DB_OK)
			r = db_step(st);
		if (r != DB_DONE)
			snprintf(why, len, "the catalogue refused a write (%s): check that the database "
			         "is not read-only (file permissions, a standby server, a full disk)",
			         db_errmsg(db));
		db_finalize(st);
		db_rollback(db);
		return r == DB_DONE ? 0 : db_err_code(r);
	}
	if (rc == KD_EBUSY)
		snprintf(why, len, "the catalogue stayed locked by another writer: look for a "
		         "long-running kindling command or a stuck database session");
	else
		snprintf(why, len, "the catalogue cannot start a write (%s): check the database's "
		         "files or server", db_errmsg(db));
	return rc;
}

static void check_disk(const struct kd_config *cfg, struct health *h)
{
	double size = 0, free_b = disk_free(cfg->data_dir, &size);
	double reserve = (double)cfg->disk_reserve_mb * 1048576.0;
	char *d = h->detail[CHECK_DISK];
	size_t len = sizeof h->detail[CHECK_DISK];
	h->ok[CHECK_DISK] = free_b >= 0 && free_b > reserve;
	if (free_b < 0)
		snprintf(d, len, "cannot read the free space of the data folder %s: check that it "
		         "exists and is mounted", cfg->data_dir);
	else if (!h->ok[CHECK_DISK])
		snprintf(d, len, "only %.2f GB free for the data folder %s, not above disk_reserve_mb "
		         "(%llu MB): uploads are refused; free space there or give it a larger disk",
		         free_b / 1e9, cfg->data_dir, (unsigned long long)cfg->disk_reserve_mb);
	else
		snprintf(d, len, "%.2f GB free of %.2f GB, above the reserve of %llu MB", free_b / 1e9,
		         size / 1e9, (unsigned long long)cfg->disk_reserve_mb);
}

static void check_processing(struct health *h)
{
	char *d = h->detail[CHECK_PROCESSING];
	size_t len = sizeof h->detail[CHECK_PROCESSING];
	struct jobs_runner *runner = atomic_load(&M.runner);
	h->ok[CHECK_PROCESSING] = true;
	if (!M.processing) {
		snprintf(d, len, "not on this node (serve --no-processing): `kindling work` nodes "
		         "process the clips");
		return;
	}
	if (!runner) {
		h->ok[CHECK_PROCESSING] = false;
		snprintf(d, len, "the job runner is not running (it could not start: see the server "
		         "log); uploads wait in the queue until the server is restarted");
		return;
	}
	struct jobs_runner_stats rs;
	jobs_runner_stats(runner, &rs);
	if (rs.silent_s < 0) {
		snprintf(d, len, "the job runner is starting");
	} else if (rs.silent_s > RUNNER_SILENT_S) {
		h->ok[CHECK_PROCESSING] = false;
		snprintf(d, len, "the job runner has not come round for %.0f s: processing is stuck; "
		         "see the server log, then restart the server", rs.silent_s);
	} else {
		snprintf(d, len, "alive: the job runner answered %.1f s ago", rs.silent_s);
	}
}

static enum MHD_Result health_answer(struct request *req, const struct health *h)
{
	bool all = true;
	json_t *checks = json_object();
	for (int i = 0; i < N_CHECKS; i++) {
		all = all && h->ok[i];
		json_object_set_new(checks, CHECK_NAMES[i],
		                    json_pack("{sb ss}", "ok", h->ok[i], "detail", h->detail[i]));
	}
	return respond_json(req, all ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
	                    json_pack("{ss so}", "status", all ? "ok" : "failing", "checks",
	                              checks));
}

enum MHD_Result api_healthz_deep(struct request *req)
{
	struct health h;
	int64_t now = now_ms();
	pthread_mutex_lock(&H.lock);
	if (H.since_ms || (H.at_ms && now - H.at_ms < HEALTH_EVERY_MS)) {
		/* Checked a moment ago, or being checked: that answer (the one
		 * under way may be stuck on the catalogue, which is news too). */
		h = H.last;
		int64_t waiting = H.since_ms ? now - H.since_ms : 0;
		bool none = !H.at_ms;
		pthread_mutex_unlock(&H.lock);
		if (waiting > HEALTH_STUCK_MS || none) {
			h.ok[CHECK_CATALOGUE] = false;
			snprintf(h.detail[CHECK_CATALOGUE], sizeof h.detail[CHECK_CATALOGUE],
			         waiting > HEALTH_STUCK_MS
			         ? "the catalogue has not answered a check for %.0f s: it is locked or "
			           "its server does not answer"
			         : "being checked (%.0f s so far); ask again in a second",
			         (double)waiting / 1e3);
			if (none) {
				check_disk(req->srv->cfg, &h);
				check_processing(&h);
			}
		}
		return health_answer(req, &h);
	}
	H.since_ms = now;
	pthread_mutex_unlock(&H.lock);

	memset(&h, 0, sizeof h);
	char why[sizeof h.detail[0]] = "";
	h.ok[CHECK_CATALOGUE] = metrics_check_writable(req->db, why, sizeof why) == 0;
	snprintf(h.detail[CHECK_CATALOGUE], sizeof h.detail[CHECK_CATALOGUE], "%s",
	         h.ok[CHECK_CATALOGUE] ? "writable" : why);
	check_disk(req->srv->cfg, &h);
	check_processing(&h);

	pthread_mutex_lock(&H.lock);
	H.last = h;
	H.at_ms = now_ms();
	H.since_ms = 0;
	pthread_mutex_unlock(&H.lock);
	for (int i = 0; i < N_CHECKS; i++)
		if (!h.ok[i])
			log_warn("health", "%s: %s", CHECK_NAMES[i], h.detail[i]);
	return health_answer(req, &h);
}
