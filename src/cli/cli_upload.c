/*
 * cli_upload.c - kindling upload: send clips to a server over tus, so that
 * a dropped connection, a sleeping laptop or a killed run costs only the
 * bytes in flight.
 *
 * For each file: its SHA-256 is asked of the server first (a clip already
 * there is not sent again); an upload started by an earlier run is found in
 * the state file and resumed from the server's offset; network failures are
 * retried with growing pauses, each time from the offset the server reports.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kindling/buf.h"
#include "kindling/cli.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/intake.h"
#include "kindling/mem.h"

#define RETRIES 8            /* attempts after a network failure, per file */
#define RESPONSE_MAX (1 << 20)

struct opts {
	char *server;            /* without a trailing '/' */
	char *token;
	const char *school, *practices, *title, *teacher, *grade, *subject, *recorded;
	const char *consent, *visibility, *manifest;
	const char **tags;
	size_t n_tags;
	bool wait, json, dry_run;
	curl_off_t limit_rate;   /* bytes/s, 0: no limit */
};

/* One file's metadata: the command line's, overridden by its manifest row. */
struct meta {
	const char *fields[16][2];
	size_t n;
};

static void meta_set(struct meta *m, const char *key, const char *value)
{
	if (!value || !*value)
		return;
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->fields[i][0], key)) {
			m->fields[i][1] = value;
			return;
		}
	if (m->n < 16) {
		m->fields[m->n][0] = key;
		m->fields[m->n][1] = value;
		m->n++;
	}
}

static const char *meta_get(const struct meta *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->fields[i][0], key))
			return m->fields[i][1];
	return NULL;
}

/* ---------------------------------------------------------------- HTTP */

struct reply {
	long status;
	struct kd_buf body;
	char location[512];
	long long offset;        /* Upload-Offset, -1 if absent */
	long long clip;          /* Kindling-Clip-Id, 0 if absent */
	bool duplicate;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	kd_buf_append(&r->body, data, size * n); /* past the cap: cut, not fatal */
	return size * n;
}

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	*value = line + n + 1;
	while (**value == ' ')
		(*value)++;
	return true;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;
	char line[600];
	size_t l = len < sizeof line - 1 ? len : sizeof line - 1;
	memcpy(line, data, l);
	line[l] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	const char *v;
	if (header_is(line, l, "Location", &v))
		snprintf(r->location, sizeof r->location, "%s", v);
	else if (header_is(line, l, "Upload-Offset", &v))
		r->offset = strtoll(v, NULL, 10);
	else if (header_is(line, l, "Kindling-Clip-Id", &v))
		r->clip = strtoll(v, NULL, 10);
	else if (header_is(line, l, "Kindling-Duplicate", &v))
		r->duplicate = true;
	return len;
}

static void reply_init(struct reply *r)
{
	memset(r, 0, sizeof *r);
	kd_buf_init(&r->body, RESPONSE_MAX);
	r->offset = -1;
}

/* The server's {"error": ...} message, or a description of the status. */
static void reply_error(const struct reply *r, char *err, size_t errlen)
{
	json_t *j = json_loads(kd_buf_str(&r->body), 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "error"));
	if (msg)
		snprintf(err, errlen, "%s", msg);
	else if (r->status == 401)
		snprintf(err, errlen, "the server did not accept the token: check --token or "
		         "KINDLING_TOKEN");
	else
		snprintf(err, errlen, "the server answered HTTP %ld", r->status);
	json_decref(j);
}

static CURL *new_handle(const struct opts *o, struct reply *r, struct curl_slist **headers)
{
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	char *auth = kd_asprintf("Authorization: Bearer %s", o->token);
	*headers = curl_slist_append(*headers, auth);
	*headers = curl_slist_append(*headers, "Tus-Resumable: 1.0.0");
	free(auth);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	/* A stalled link (laptop lid closed, wifi gone) is noticed within a
	 * minute instead of hanging for ever. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kindling-upload/1");
	return c;
}

/* A simple request with no body to send.  Returns the CURLcode. */
static CURLcode request(const struct opts *o, const char *method, const char *url,
                        struct reply *r, const char *extra_header)
{
	struct curl_slist *h = NULL;
	reply_init(r);
	if (extra_header)
		h = curl_slist_append(h, extra_header);
	CURL *c = new_handle(o, r, &h);
	if (!c)
		return CURLE_OUT_OF_MEMORY;
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return rc;
}

/* ---------------------------------------------------------------- state */

/* Unfinished uploads of earlier runs: "<server> <sha256>" -> upload URL, in
 * $XDG_CACHE_HOME/kindling/uploads.json. */
static char *state_path(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (xdg && *xdg)
		return kd_asprintf("%s/kindling/uploads.json", xdg);
	return kd_asprintf("%s/.cache/kindling/uploads.json", home && *home ? home : ".");
}

static json_t *state_load(void)
{
	char *path = state_path(), *text = NULL;
	json_t *s = NULL;
	if (kd_read_file(path, 4 << 20, &text, NULL) == 0)
		s = json_loads(text, 0, NULL);
	free(text);
	free(path);
	return json_is_object(s) ? s : (json_decref(s), json_object());
}

static void state_save(json_t *s)
{
	char *path = state_path();
	char *dir = kd_strdup(path);
	*strrchr(dir, '/') = '\0';
	char *text = json_dumps(s, JSON_INDENT(1));
	if (kd_mkdirs(dir, 0700) < 0 || !text || kd_write_file_atomic(path, text, strlen(text)) < 0)
		fprintf(stderr, "kindling: warning: cannot save upload progress in %s: %s\n", path,
		        strerror(errno));
	free(text);
	free(dir);
	free(path);
}

/* ---------------------------------------------------------------- progress */

struct progress {
	const char *name;
	curl_off_t base;         /* bytes the server had before this request */
	curl_off_t total;
	curl_off_t sent;         /* sent in this run, all requests */
	curl_off_t sent_before;  /* sent by earlier requests of this run */
	struct timespec start;
	double last_print;
	int last_decile;
	bool tty;
	bool quiet;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void human(double bytes, char *out, size_t len)
{
	const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	int u = 0;
	while (bytes >= 1000 && u < 4) {
		bytes /= 1000;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

static void draw(struct progress *p, curl_off_t now_sent, bool final)
{
	if (p->quiet)
		return;
	curl_off_t done = p->base + now_sent;
	double pct = p->total ? 100.0 * (double)done / (double)p->total : 100;
	double t = now_s(), elapsed = t - ((double)p->start.tv_sec + (double)p->start.tv_nsec / 1e9);
	double rate = elapsed > 0 ? (double)(p->sent_before + now_sent) / elapsed : 0;
	char d[16], tot[16], r[16], left[64] = "";
	human((double)done, d, sizeof d);
	human((double)p->total, tot, sizeof tot);
	human(rate, r, sizeof r);
	if (rate > 0 && done < p->total) {
		long s = (long)((double)(p->total - done) / rate);
		snprintf(left, sizeof left, ", %02ld:%02ld:%02ld left", s / 3600, s / 60 % 60, s % 60);
	}
	if (p->tty) {
		if (!final && t - p->last_print < 0.2)
			return;
		p->last_print = t;
		char bar[31];
		int fill = (int)(pct * 30 / 100);
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[30] = '\0';
		fprintf(stderr, "\r%-24.24s [%s] %5.1f%% %s/%s %s/s%s\033[K", p->name, bar, pct, d, tot,
		        r, left);
		if (final)
			fputc('\n', stderr);
	} else {
		int decile = (int)(pct / 10);
		if (decile <= p->last_decile)
			return;
		p->last_decile = decile;
		fprintf(stderr, "%s: %.0f%% (%s of %s, %s/s%s)\n", p->name, pct, d, tot, r, left);
	}
	fflush(stderr);
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	struct progress *p = arg;
	p->sent = p->sent_before + ulnow;
	draw(p, ulnow, false);
	return 0;
}

/* ---------------------------------------------------------------- upload */

struct outcome {
	long long id;
	const char *status;      /* queued, ready, failed, duplicate, skipped... */
	char error[KD_ERRMSG_MAX];
	long long sent;
	bool duplicate;
};

static char *b64(const char *s)
{
	size_t len = strlen(s);
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = kd_malloc(cap);
	sodium_bin2base64(out, cap, (const unsigned char *)s, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

static char *metadata_header(const struct meta *m)
{
	struct kd_buf b = KD_BUF_INIT(64 * 1024);
	kd_buf_puts(&b, "Upload-Metadata: ");
	for (size_t i = 0; i < m->n; i++) {
		char *v = b64(m->fields[i][1]);
		kd_buf_printf(&b, "%s%s %s", i ? "," : "", m->fields[i][0], v);
		free(v);
	}
	return kd_buf_take(&b, NULL);
}

static char *absolute(const struct opts *o, const char *location)
{
	if (!strncmp(location, "http://", 7) || !strncmp(location, "https://", 8))
		return kd_strdup(location);
	return kd_asprintf("%s%s", o->server, location);
}

/* Ask for the clip of this exact file.  Returns its id, 0 if none. */
static long long existing_clip(const struct opts *o, const char *sha)
{
	char *url = kd_asprintf("%s/api/v1/clips?sha256=%s&per_page=1", o->server, sha);
	struct reply r;
	long long id = 0;
	if (request(o, "GET", url, &r, NULL) == CURLE_OK && r.status == 200) {
		json_t *j = json_loads(kd_buf_str(&r.body), 0, NULL);
		json_t *first = json_array_get(json_object_get(j, "clips"), 0);
		id = json_integer_value(json_object_get(first, "id"));
		json_decref(j);
	}
	kd_buf_release(&r.body);
	free(url);
	return id;
}

struct source {
	FILE *f;
};

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct source *s = arg;
	size_t got = fread(buf, size, n, s->f);
	return got ? got : (ferror(s->f) ? CURL_READFUNC_ABORT : 0);
}

/* Send the file from the offset the server has.  Returns 0 when every byte
 * is in (r has the final answer), 1 to retry, -1 for a failure to report. */
static int send_rest(const struct opts *o, const char *url, const char *path, long long size,
                     long long offset, struct progress *p, struct reply *r, char *err,
                     size_t errlen)
{
	struct source src = {fopen(path, "rb")};
	if (!src.f) {
		snprintf(err, errlen, "cannot read the file: %s", strerror(errno));
		return -1;
	}
	if (fseeko(src.f, offset, SEEK_SET) < 0) {
		fclose(src.f);
		snprintf(err, errlen, "cannot read the file: %s", strerror(errno));
		return -1;
	}
	char off_header[64];
	snprintf(off_header, sizeof off_header, "Upload-Offset: %lld", offset);
	struct curl_slist *h = curl_slist_append(NULL, off_header);
	h = curl_slist_append(h, "Content-Type: application/offset+octet-stream");
	h = curl_slist_append(h, "Expect:");
	reply_init(r);
	CURL *c = new_handle(o, r, &h);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &src);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(size - offset));
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, p);
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	if (o->limit_rate)
		curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE, o->limit_rate);
	p->base = offset;
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_off_t up = 0;
	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
	p->sent_before += up;
	p->sent = p->sent_before;
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	fclose(src.f);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "the connection failed: %s", curl_easy_strerror(rc));
		return 1;
	}
	if (r->status == 204 && r->offset == size)
		return 0;
	if (r->status == 204 || r->status == 409 || r->status >= 500) {
		if (r->status == 507 || r->status == 413) {
			reply_error(r, err, errlen);
			return -1;
		}
		reply_error(r, err, errlen);
		return 1;
	}
	reply_error(r, err, errlen);
	return -1;
}

static void upload_one(const struct opts *o, const char *path, const struct meta *m,
                       json_t *state, struct outcome *out)
{
	memset(out, 0, sizeof *out);
	out->status = "failed";
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(out->error, sizeof out->error, "cannot read the file: %s",
		         errno ? strerror(errno) : "not a regular file");
		return;
	}
	if (st.st_size == 0) {
		snprintf(out->error, sizeof out->error,
		         "the file is empty: it may not have finished copying; copy it again from the "
		         "camera or card");
		return;
	}
	char sha[65];
	if (intake_sha256_file(path, sha) < 0) {
		snprintf(out->error, sizeof out->error, "cannot read the file: %s", strerror(errno));
		return;
	}
	if ((out->id = existing_clip(o, sha)) > 0) {
		out->status = "duplicate";
		out->duplicate = true;
		return;
	}
	char *key = kd_asprintf("%s %s", o->server, sha);
	const char *saved = json_string_value(json_object_get(state, key));
	char *url = NULL;
	long long offset = 0;
	struct reply r;
	if (saved) {
		/* An earlier run began this file: carry on where the server is. */
		if (request(o, "HEAD", saved, &r, NULL) == CURLE_OK && r.status == 200 &&
		    r.offset >= 0) {
			url = kd_strdup(saved);
			offset = r.offset;
			if (r.clip) { /* finished, but that run never heard the answer */
				out->id = r.clip;
				out->status = "queued";
				kd_buf_release(&r.body);
				json_object_del(state, key);
				state_save(state);
				goto out;
			}
		}
		kd_buf_release(&r.body);
		if (!url) {
			json_object_del(state, key);
			state_save(state);
		}
	}
	if (!url) {
		char *mh = metadata_header(m);
		char len_header[64];
		snprintf(len_header, sizeof len_header, "Upload-Length: %lld", (long long)st.st_size);
		struct curl_slist *h = curl_slist_append(NULL, mh);
		h = curl_slist_append(h, len_header);
		reply_init(&r);
		CURL *c = new_handle(o, &r, &h);
		char *create = kd_asprintf("%s/api/v1/uploads", o->server);
		curl_easy_setopt(c, CURLOPT_URL, create);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
		CURLcode rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
		curl_easy_cleanup(c);
		curl_slist_free_all(h);
		free(create);
		free(mh);
		if (rc != CURLE_OK) {
			snprintf(out->error, sizeof out->error,
			         "cannot reach the server at %s: %s; check --server and the network",
			         o->server, curl_easy_strerror(rc));
		} else if (r.status != 201 || !r.location[0]) {
			reply_error(&r, out->error, sizeof out->error);
		} else {
			url = absolute(o, r.location);
			json_object_set_new(state, key, json_string(url));
			state_save(state);
		}
		kd_buf_release(&r.body);
		if (!url)
			goto out;
	}

	struct progress p = {.name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path,
	                     .total = st.st_size, .tty = isatty(2), .last_decile = -1,
	                     .quiet = o->json && !isatty(2)};
	clock_gettime(CLOCK_MONOTONIC, &p.start);
	int result = 1;
	for (int attempt = 0; result == 1 && attempt <= RETRIES; attempt++) {
		if (attempt) {
			/* 1, 2, 4 ... 30 s: long enough for wifi to come back. */
			unsigned pause = attempt > 5 ? 30 : 1u << (attempt - 1);
			fprintf(stderr, "\n%s: %s; retrying in %u s (%d of %d)\n", p.name, out->error,
			        pause, attempt, RETRIES);
			sleep(pause);
			struct reply hr;
			CURLcode rc = request(o, "HEAD", url, &hr, NULL);
			if (rc == CURLE_OK && hr.status == 200 && hr.clip) {
				/* The last PATCH went through; only its answer was lost. */
				out->id = hr.clip;
				out->status = "queued";
				out->error[0] = '\0';
				kd_buf_release(&hr.body);
				result = 0;
				break;
			}
			if (rc == CURLE_OK && hr.status == 200 && hr.offset >= 0)
				offset = hr.offset;
			else if (rc == CURLE_OK && hr.status == 404) {
				reply_error(&hr, out->error, sizeof out->error);
				kd_buf_release(&hr.body);
				json_object_del(state, key);
				state_save(state);
				result = -1;
				break;
			}
			kd_buf_release(&hr.body);
			if (rc != CURLE_OK)
				continue; /* still offline: wait longer */
		}
		result = send_rest(o, url, path, (long long)st.st_size, offset, &p, &r, out->error,
		                   sizeof out->error);
		if (result == 0) {
			draw(&p, st.st_size - p.base, true);
			out->id = r.clip;
			out->duplicate = r.duplicate;
			out->status = r.duplicate ? "duplicate" : "queued";
			out->error[0] = '\0';
		}
		kd_buf_release(&r.body);
	}
	out->sent = (long long)p.sent;
	if (result != 0 && !p.quiet && p.tty)
		fputc('\n', stderr);
	if (result == 0 || result == -1) {
		json_object_del(state, key);
		state_save(state);
	}
out:
	free(url);
	free(key);
}

/* Follow a clip until it is ready or failed. */
static void wait_for(const struct opts *o, struct outcome *out)
{
	char *url = kd_asprintf("%s/api/v1/clips/%lld", o->server, out->id);
	for (unsigned tries = 0;; tries++) {
		struct reply r;
		if (request(o, "GET", url, &r, NULL) == CURLE_OK && r.status == 200) {
			json_t *j = json_loads(kd_buf_str(&r.body), 0, NULL);
			const char *status = json_string_value(json_object_get(j, "status"));
			if (status && (!strcmp(status, "ready") || !strcmp(status, "failed"))) {
				out->status = !strcmp(status, "ready") ? "ready" : "failed";
				const char *e = json_string_value(json_object_get(j, "error"));
				snprintf(out->error, sizeof out->error, "%s", e ? e : "");
				json_decref(j);
				kd_buf_release(&r.body);
				break;
			}
			json_decref(j);
		} else if (r.status == 404) {
			out->status = "failed";
			snprintf(out->error, sizeof out->error, "the clip was deleted on the server");
			kd_buf_release(&r.body);
			break;
		}
		kd_buf_release(&r.body);
		usleep(tries < 20 ? 250000 : 1000000);
	}
	free(url);
}

static void report(const struct opts *o, const char *file, const struct outcome *out)
{
	if (o->json) {
		json_t *j = json_pack("{ss ss sb sI}", "file", file, "status", out->status,
		                      "duplicate", out->duplicate, "sent_bytes", (json_int_t)out->sent);
		json_object_set_new(j, "id", out->id ? json_integer(out->id) : json_null());
		json_object_set_new(j, "error", out->error[0] ? json_string(out->error) : json_null());
		char *s = json_dumps(j, JSON_COMPACT);
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(j);
	} else if (out->error[0] && out->id) {
		printf("%s: clip %lld %s: %s\n", file, out->id, out->status, out->error);
	} else if (out->error[0]) {
		printf("%s: %s: %s\n", file, out->status, out->error);
	} else {
		printf("%s: clip %lld %s%s\n", file, out->id, out->status,
		       out->duplicate ? " (already on the server; not sent again)" : "");
	}
	fflush(stdout);
}

/* ---------------------------------------------------------------- manifest */

/* A CSV row: fields separated by commas, "quoted" fields may hold commas
 * and doubled quotes.  Returns the number of fields (at most max). */
static size_t csv_row(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max) {
		char *out = p, *start = p;
		if (*p == '"') {
			p++;
			for (;;) {
				if (*p == '"' && p[1] == '"') {
					*out++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else if (!*p) {
					break;
				} else {
					*out++ = *p++;
				}
			}
			while (*p && *p != ',')
				p++;
		} else {
			while (*p && *p != ',')
				*out++ = *p++;
		}
		char sep = *p;
		*out = '\0';
		fields[n++] = start;
		if (sep != ',')
			break;
		p++;
	}
	return n;
}

struct manifest {
	json_t *rows; /* file (as written and as base name) -> {column: value} */
};

static const char *const META_COLUMNS[] = {"title", "teacher", "grade", "subject", "recorded",
                                           "practices", "tags", "school", "consent",
                                           "visibility", "description", NULL};

static int manifest_load(const char *path, struct manifest *m)
{
	m->rows = json_object();
	FILE *f = fopen(path, "r");
	if (!f) {
		cli_fail("cannot open the manifest %s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL, *header[32], *fields[32];
	size_t cap = 0, n_header = 0;
	ssize_t len;
	int lineno = 0, rc = 0;
	char *head_copy = NULL;
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		if (!head_copy) {
			head_copy = kd_strdup(line);
			n_header = csv_row(head_copy, header, 32);
			bool has_file = false;
			for (size_t i = 0; i < n_header; i++) {
				has_file |= !strcmp(header[i], "file");
				bool known = !strcmp(header[i], "file");
				for (int k = 0; META_COLUMNS[k]; k++)
					known |= !strcmp(header[i], META_COLUMNS[k]);
				if (!known) {
					cli_fail("%s line 1: unknown column '%s' (known: file, title, teacher, "
					         "grade, subject, recorded, practices, tags, school, consent, "
					         "visibility, description)", path, header[i]);
					rc = -1;
				}
			}
			if (!has_file) {
				cli_fail("%s line 1: the manifest needs a 'file' column", path);
				rc = -1;
			}
			if (rc < 0)
				break;
			continue;
		}
		size_t n = csv_row(line, fields, 32);
		json_t *row = json_object();
		const char *file = NULL;
		for (size_t i = 0; i < n && i < n_header; i++) {
			if (!strcmp(header[i], "file"))
				file = fields[i];
			else if (*fields[i])
				json_object_set_new(row, header[i], json_string(fields[i]));
		}
		if (!file || !*file) {
			cli_fail("%s line %d: no file named", path, lineno);
			json_decref(row);
			rc = -1;
			break;
		}
		json_object_set_new(m->rows, file, row);
	}
	free(line);
	free(head_copy);
	fclose(f);
	return rc;
}

/* The manifest row of a file: by its path as given, else its base name. */
static json_t *manifest_row(const struct manifest *m, const char *path)
{
	if (!m->rows)
		return NULL;
	json_t *row = json_object_get(m->rows, path);
	const char *base = strrchr(path, '/');
	if (!row && base)
		row = json_object_get(m->rows, base + 1);
	return row;
}

/* ---------------------------------------------------------------- main */

static const char usage[] =
	"upload [--server URL] [--token T] --school SLUG --practice SLUG[,SLUG...] [--title T] "
	"[--teacher NAME] [--grade G] [--subject S] [--recorded YYYY-MM-DD] [--tag T]... "
	"[--consent on-file|pending] [--visibility district|school|private] [--manifest FILE.csv] "
	"[--limit-rate BYTES/S] [--dry-run] [--wait] [--json] FILE|DIR...";

int cli_upload(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"server", required_argument, NULL, 'S'},
		{"token", required_argument, NULL, 'k'},
		{"school", required_argument, NULL, 's'},
		{"practice", required_argument, NULL, 'p'},
		{"title", required_argument, NULL, 't'},
		{"teacher", required_argument, NULL, 'T'},
		{"grade", required_argument, NULL, 'g'},
		{"subject", required_argument, NULL, 'u'},
		{"recorded", required_argument, NULL, 'r'},
		{"tag", required_argument, NULL, 'a'},
		{"consent", required_argument, NULL, 'c'},
		{"visibility", required_argument, NULL, 'v'},
		{"manifest", required_argument, NULL, 'm'},
		{"limit-rate", required_argument, NULL, 'L'},
		{"dry-run", no_argument, NULL, 'n'},
		{"wait", no_argument, NULL, 'w'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct opts o = {0};
	const char *server = NULL, *token = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': server = optarg; break;
		case 'k': token = optarg; break;
		case 's': o.school = optarg; break;
		case 'p': o.practices = optarg; break;
		case 't': o.title = optarg; break;
		case 'T': o.teacher = optarg; break;
		case 'g': o.grade = optarg; break;
		case 'u': o.subject = optarg; break;
		case 'r': o.recorded = optarg; break;
		case 'a':
			o.tags = kd_realloc(o.tags, (o.n_tags + 1) * sizeof *o.tags);
			o.tags[o.n_tags++] = optarg;
			break;
		case 'c': o.consent = optarg; break;
		case 'v': o.visibility = optarg; break;
		case 'm': o.manifest = optarg; break;
		case 'L': o.limit_rate = strtoll(optarg, NULL, 10); break;
		case 'n': o.dry_run = true; break;
		case 'w': o.wait = true; break;
		case 'j': o.json = true; break;
		case 'h': printf("usage: kindling %s\n", usage); free(o.tags); return 0;
		default: free(o.tags); return 2;
		}
	}
	if (optind >= argc || (!o.manifest && (!o.school || !o.practices))) {
		cli_fail("usage: kindling %s", usage);
		free(o.tags);
		return 2;
	}
	cli_remote_resolve(server, token, &o.server, &o.token);
	int exit_code = 0;
	struct manifest man = {0};
	struct cli_files files = {0};
	json_t *state = NULL;
	if (!o.token && !o.dry_run) {
		cli_fail("no API token: pass --token, set KINDLING_TOKEN, or put 'token = ...' in "
		         "~/.config/kindling/config (an admin makes one with 'kindling user add')");
		exit_code = 2;
		goto out;
	}
	if (o.manifest && manifest_load(o.manifest, &man) < 0) {
		exit_code = 2;
		goto out;
	}
	for (int i = optind; i < argc; i++)
		if (cli_collect_files(&files, argv[i]) < 0)
			exit_code = 1;
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		cli_fail("cannot initialise the HTTP and crypto libraries");
		exit_code = 1;
		goto out;
	}
	state = state_load();
	char *tags_joined = NULL;
	if (o.n_tags) {
		struct kd_buf b = KD_BUF_INIT(64 * 1024);
		for (size_t i = 0; i < o.n_tags; i++)
			kd_buf_printf(&b, "%s%s", i ? "," : "", o.tags[i]);
		tags_joined = kd_buf_take(&b, NULL);
	}
	for (size_t i = 0; i < files.n; i++) {
		const char *path = files.paths[i];
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		struct meta m = {0};
		char *auto_title = cli_title_from_name(path);
		meta_set(&m, "filename", base);
		meta_set(&m, "title", o.title ? o.title : auto_title);
		meta_set(&m, "school", o.school);
		meta_set(&m, "practices", o.practices);
		meta_set(&m, "teacher", o.teacher);
		meta_set(&m, "grade", o.grade);
		meta_set(&m, "subject", o.subject);
		meta_set(&m, "recorded", o.recorded);
		meta_set(&m, "tags", tags_joined);
		meta_set(&m, "consent", o.consent);
		meta_set(&m, "visibility", o.visibility);
		json_t *row = manifest_row(&man, path);
		const char *k;
		json_t *v;
		json_object_foreach(row, k, v)
			meta_set(&m, k, json_string_value(v));
		struct outcome out = {0};
		if (!meta_get(&m, "school") || !meta_get(&m, "practices")) {
			out.status = "failed";
			snprintf(out.error, sizeof out.error,
			         "no school or practices for this file: give --school and --practice, or "
			         "add them to its manifest row");
		} else if (o.dry_run) {
			struct stat st;
			out.status = "would-send";
			if (stat(path, &st) < 0)
				snprintf(out.error, sizeof out.error, "cannot read the file: %s",
				         strerror(errno));
			else if (!o.json) {
				printf("%s: would send %lld bytes to %s as", path, (long long)st.st_size,
				       o.server);
				for (size_t f = 0; f < m.n; f++)
					printf("%s %s=\"%s\"", f ? "," : "", m.fields[f][0], m.fields[f][1]);
				printf("\n");
				free(auto_title);
				continue;
			}
		} else {
			upload_one(&o, path, &m, state, &out);
			if (o.wait && out.id && strcmp(out.status, "failed") != 0)
				wait_for(&o, &out);
		}
		report(&o, path, &out);
		bool good = o.wait ? !strcmp(out.status, "ready")
		                   : strcmp(out.status, "failed") != 0;
		if (!good)
			exit_code = 1;
		free(auto_title);
	}
	free(tags_joined);
	curl_global_cleanup();
out:
	json_decref(state);
	json_decref(man.rows);
	cli_files_free(&files);
	free(o.server);
	free(o.token);
	free(o.tags);
	return exit_code;
}
