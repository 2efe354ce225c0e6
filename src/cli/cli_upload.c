/*
 * cli_upload.c - kindling upload: send clips to a server over tus, so that
 * a dropped connection, a sleeping laptop or a killed run costs only the
 * bytes in flight.
 *
 * For each file: the server is asked whether it has a clip of the file's
 * SHA-256 (a clip already there is not sent again): before sending when the
 * hash is at hand (a small file, or one an earlier run read), else as soon
 * as a thread reading the file beside the sending has it (struct hasher);
 * an upload started by an earlier run is found in the resume state and
 * continued from the server's offset; network failures are retried with
 * growing pauses, each time from the offset the server reports.  The
 * server hashes the bytes as they arrive and refuses a duplicate at the
 * end in any case.  The pieces: client.c (HTTP), resume.c, progress.c,
 * manifest.c, meta.c (the flags shared with ingest), upload_extras.c (a
 * clip's captions and moments, sent once every file is up and the clip is
 * ready: issue 15).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "manifest.h"
#include "meta.h"
#include "progress.h"
#include "resume.h"
#include "upload_extras.h"
#include "kindling/buf.h"
#include "kindling/catalogue.h"
#include "kindling/cli.h"
#include "kindling/err.h"
#include "kindling/mem.h"
#include "kindling/sha256.h"

#define RETRIES 8            /* attempts after a network failure, per file */
#define RESPONSE_MAX (1 << 20)
/* Files up to this size are hashed before anything is sent, in a few tens
 * of milliseconds; larger ones beside the sending. */
#define HASH_FIRST_MAX (64LL << 20)
#define HASH_READ (1 << 20)
#define HASHER_NICE 10

struct opts {
	struct client client;
	struct meta_flags meta;
	const char *manifest;
	bool wait, json, dry_run;
	bool notify;             /* issue 16: --notify: mail me when the batch is processed */
	curl_off_t limit_rate;   /* bytes/s, 0: no limit */
	const char **moments;    /* --moment, as given (one file only) */
	size_t n_moments;
	const char *captions;    /* --captions FILE (one file only) */
};

/* One file's tus metadata: the command line's, overridden by its manifest
 * row. */
struct meta {
	const char *fields[24][2];
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
	if (m->n < sizeof m->fields / sizeof *m->fields) {
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

/* What became of a file: "status" in --json and in the lines printed. */
enum outcome_status { UP_FAILED, UP_QUEUED, UP_DUPLICATE, UP_READY, UP_WOULD_SEND };
static const char *const OUTCOME_NAMES[] = {
	[UP_FAILED] = "failed", [UP_QUEUED] = "queued", [UP_DUPLICATE] = "duplicate",
	[UP_READY] = "ready", [UP_WOULD_SEND] = "would-send",
};

struct outcome {
	long long id;
	enum outcome_status status;
	char error[KD_ERRMSG_MAX];
	long long sent;
	bool duplicate;
	/* captions and moments sent after the upload (upload_extras.h) */
	bool extras;
	struct extras_result x;
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

/* Ask for the clip of this exact file.  Returns its id, 0 if none. */
static long long existing_clip(const struct opts *o, const char *sha)
{
	char *url = kd_asprintf("/api/v1/clips?sha256=%s&per_page=1", sha);
	struct reply r;
	long long id = 0;
	reply_init(&r, RESPONSE_MAX);
	if (client_request(&o->client, "GET", url, &r) == CURLE_OK && r.status == 200) {
		json_t *j = json_loads(kd_buf_str(&r.body), 0, NULL);
		json_t *first = json_array_get(json_object_get(j, "clips"), 0);
		id = json_integer_value(json_object_get(first, "id"));
		json_decref(j);
	}
	reply_release(&r);
	free(url);
	return id;
}

/*
 * The SHA-256 of a large file, read by a thread of its own while the file
 * is sent, and the server asked about it as soon as it is known: a file the
 * server already has stops being sent after about the time of one read of
 * it (at gigabytes a second), where hashing first would hold back the
 * first byte of every new file for that long.
 */
struct hasher {
	const struct opts *o;
	const char *path;
	pthread_t thread;
	bool running;
	atomic_bool stop;   /* the sending is over: give up */
	atomic_bool done;   /* sha is set */
	atomic_llong clip;  /* the server's clip of these bytes; 0: none, or not known yet */
	char sha[KD_SHA256_HEX];
};

static void *hasher_main(void *arg)
{
	struct hasher *h = arg;
	/* The check is worth less than the sending: where both want the same
	 * CPU, the sending goes first (a failure only leaves the default). */
	setpriority(PRIO_PROCESS, (id_t)gettid(), HASHER_NICE);
	struct kd_sha256 s;
	int fd = open(h->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (kd_sha256_init(&s) < 0) {
		close(fd);
		return NULL;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	unsigned char *buf = kd_malloc(HASH_READ);
	bool whole = false;
	while (!atomic_load(&h->stop)) {
		ssize_t n = read(fd, buf, HASH_READ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			whole = n == 0;
			break;
		}
		kd_sha256_update(&s, buf, (size_t)n);
	}
	free(buf);
	close(fd);
	if (!whole) {
		kd_sha256_abort(&s);
		return NULL;
	}
	kd_sha256_final(&s, h->sha);
	atomic_store(&h->done, true);
	if (!atomic_load(&h->stop))
		atomic_store(&h->clip, existing_clip(h->o, h->sha));
	return NULL;
}

/* Start hashing path.  Without a thread the upload goes on unchecked: the
 * server still refuses a duplicate at the end. */
static void hasher_start(struct hasher *h, const struct opts *o, const char *path)
{
	h->o = o;
	h->path = path;
	atomic_init(&h->stop, false);
	atomic_init(&h->done, false);
	atomic_init(&h->clip, 0);
	h->running = pthread_create(&h->thread, NULL, hasher_main, h) == 0;
}

/* The clip the server has of the file, once the hash is known; 0 until. */
static long long hasher_clip(struct hasher *h)
{
	return h->running ? atomic_load(&h->clip) : 0;
}

/* Stop and wait for the thread; true when the hash was done (h->sha). */
static bool hasher_end(struct hasher *h)
{
	if (!h->running)
		return false;
	atomic_store(&h->stop, true);
	pthread_join(h->thread, NULL);
	h->running = false;
	return atomic_load(&h->done);
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	FILE *f = arg;
	size_t got = fread(buf, size, n, f);
	return got ? got : (ferror(f) ? CURL_READFUNC_ABORT : 0);
}

struct sending {
	struct progress *p;
	struct hasher *h; /* NULL: no check beside the sending */
	curl_off_t todo;  /* bytes this request sends */
};

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	struct sending *s = arg;
	s->p->sent = s->p->sent_before + ulnow;
	progress_draw(s->p, ulnow, false);
	/* The server has these bytes already: stop (the caller cancels).  Not
	 * once every byte is out: the answer may be this upload's own clip. */
	return s->h && ulnow < s->todo && hasher_clip(s->h) > 0;
}

/* Send the file from the offset the server has.  Returns 0 when every byte
 * is in (r has the final answer), 1 to retry, -1 for a failure to report. */
static int send_rest(const struct opts *o, const char *url, const char *path, long long size,
                     long long offset, struct progress *p, struct hasher *hs, struct reply *r,
                     char *err, size_t errlen)
{
	struct sending sending = {.p = p, .h = hs, .todo = size - offset};
	FILE *f = fopen(path, "rb");
	if (!f || fseeko(f, offset, SEEK_SET) < 0) {
		snprintf(err, errlen, "cannot read the file: %s", strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	char off_header[64];
	snprintf(off_header, sizeof off_header, "Upload-Offset: %lld", offset);
	struct curl_slist *h = curl_slist_append(NULL, off_header);
	h = curl_slist_append(h, "Content-Type: application/offset+octet-stream");
	h = curl_slist_append(h, "Expect:");
	reply_init(r, RESPONSE_MAX);
	CURL *c = client_handle(&o->client, "PATCH", url, r, &h);
	if (!c) {
		curl_slist_free_all(h);
		fclose(f);
		snprintf(err, errlen, "cannot start a request (out of memory?)");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, f);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(size - offset));
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &sending);
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	if (o->limit_rate)
		curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE, o->limit_rate);
	progress_request(p, offset);
	curl_off_t up = 0;
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	fclose(f);
	progress_request_end(p, up);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "the connection failed: %s", curl_easy_strerror(rc));
		return 1;
	}
	if (r->status == 204 && r->offset == size)
		return 0;
	reply_error(r, err, errlen);
	/* A busy or restarted server, or a transfer still draining: try again
	 * from its offset.  Full disk and too large: no point. */
	if ((r->status == 204 || r->status == 409 || r->status >= 500) && r->status != 507)
		return 1;
	return -1;
}

/* Start a new upload of the file; its URL, or NULL with out->error set. */
static char *create_upload(const struct opts *o, const struct meta *m, long long size,
                           struct outcome *out)
{
	char *mh = metadata_header(m);
	char len_header[64];
	snprintf(len_header, sizeof len_header, "Upload-Length: %lld", size);
	struct curl_slist *h = curl_slist_append(NULL, mh);
	h = curl_slist_append(h, len_header);
	free(mh);
	struct reply r;
	reply_init(&r, RESPONSE_MAX);
	CURL *c = client_handle(&o->client, "POST", "/api/v1/uploads", &r, &h);
	char *url = NULL;
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	if (c) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
		rc = client_perform(c, h, &r);
	} else {
		curl_slist_free_all(h);
	}
	if (rc != CURLE_OK)
		snprintf(out->error, sizeof out->error,
		         "cannot reach the server at %s: %s; check --server and the network",
		         o->client.server, curl_easy_strerror(rc));
	else if (r.status != 201 || !r.location[0])
		reply_error(&r, out->error, sizeof out->error);
	else
		url = client_url(&o->client, r.location);
	reply_release(&r);
	return url;
}

/* The server has every byte and made the clip; only the answer was lost. */
static void finished_elsewhere(struct outcome *out, long long clip)
{
	out->id = clip;
	out->status = UP_QUEUED;
	out->error[0] = '\0';
}

/* The server has the file as clip id: say so. */
static void duplicate_of(struct outcome *out, long long id)
{
	out->id = id;
	out->status = UP_DUPLICATE;
	out->duplicate = true;
	out->error[0] = '\0';
}

/* asked: the server's answer for this file from known_duplicates (its
 * clip, or 0), or -1 when it was not asked: asked once a run, not twice. */
static void upload_one(const struct opts *o, const char *path, const struct meta *m,
                       struct resume *state, long long asked, struct outcome *out)
{
	memset(out, 0, sizeof *out);
	out->status = UP_FAILED;
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
	/* The file's contents are named without reading them: the resume state
	 * and the hashes of files read before go by this key. */
	char *key = resume_file_key(path, &st);
	char sha[KD_SHA256_HEX] = "";
	const char *known = resume_hash_get(state, key);
	if (known) {
		memcpy(sha, known, KD_SHA256_HEX);
	} else if (st.st_size <= HASH_FIRST_MAX && kd_sha256_file(path, sha) < 0) {
		snprintf(out->error, sizeof out->error, "cannot read the file: %s", strerror(errno));
		free(key);
		return;
	}
	if (sha[0]) {
		long long id = asked >= 0 ? asked : existing_clip(o, sha);
		if (id > 0) {
			duplicate_of(out, id);
			free(key);
			return;
		}
	}
	const char *server = o->client.server;
	const char *saved = resume_get(state, server, key);
	char *url = NULL;
	long long offset = 0;
	struct reply r;
	if (saved) {
		/* An earlier run began this file: carry on where the server is. */
		reply_init(&r, RESPONSE_MAX);
		if (client_request(&o->client, "HEAD", saved, &r) == CURLE_OK && r.status == 200 &&
		    r.offset >= 0) {
			url = kd_strdup(saved);
			offset = r.offset;
		}
		reply_release(&r);
		if (url && r.clip) {
			finished_elsewhere(out, r.clip);
			resume_forget(state, server, key);
			goto out;
		}
		if (!url)
			resume_forget(state, server, key);
	}
	if (!url) {
		if (!(url = create_upload(o, m, (long long)st.st_size, out)))
			goto out;
		resume_put(state, server, key, url);
	}

	struct hasher hs = {0};
	if (!sha[0])
		hasher_start(&hs, o, path);
	struct progress p;
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	progress_start(&p, name, st.st_size, o->json && !isatty(2));
	int result = 1;
	for (int attempt = 0; result == 1 && attempt <= RETRIES && !hasher_clip(&hs); attempt++) {
		if (attempt) {
			/* 1, 2, 4 ... 30 s: long enough for wifi to come back. */
			unsigned pause = attempt > 5 ? 30 : 1u << (attempt - 1);
			fprintf(stderr, "\n%s: %s; retrying in %u s (%d of %d)\n", name, out->error,
			        pause, attempt, RETRIES);
			sleep(pause);
			struct reply hr;
			reply_init(&hr, RESPONSE_MAX);
			CURLcode rc = client_request(&o->client, "HEAD", url, &hr);
			bool answered = rc == CURLE_OK;
			if (answered && hr.status == 200 && hr.clip) {
				/* The last PATCH went through; only its answer was lost. */
				finished_elsewhere(out, hr.clip);
				reply_release(&hr);
				result = 0;
				break;
			}
			if (answered && hr.status == 200 && hr.offset >= 0) {
				offset = hr.offset;
			} else if (answered && hr.status == 404) {
				reply_error(&hr, out->error, sizeof out->error);
				reply_release(&hr);
				result = -1;
				break;
			}
			reply_release(&hr);
			if (!answered)
				continue; /* still offline: wait longer */
		}
		result = send_rest(o, url, path, (long long)st.st_size, offset, &p, &hs, &r,
		                   out->error, sizeof out->error);
		if (result == 0) {
			progress_draw(&p, st.st_size - p.base, true);
			out->id = r.clip;
			out->duplicate = r.duplicate;
			out->status = r.duplicate ? UP_DUPLICATE : UP_QUEUED;
			out->error[0] = '\0';
		}
		reply_release(&r);
	}
	long long dup = hasher_clip(&hs);
	if (result != 0 && dup > 0) {
		/* Found out while sending: the upload is given up on the server
		 * (it would expire anyway) - unless the clip found is this upload's
		 * own, made as its answer was lost. */
		progress_break(&p);
		reply_init(&r, RESPONSE_MAX);
		if (client_request(&o->client, "HEAD", url, &r) == CURLE_OK && r.status == 200 &&
		    r.clip) {
			finished_elsewhere(out, r.clip);
		} else {
			reply_release(&r);
			reply_init(&r, RESPONSE_MAX);
			client_request(&o->client, "DELETE", url, &r);
			duplicate_of(out, dup);
		}
		reply_release(&r);
		result = 0;
	}
	/* Sending this folder again will not read this file first. */
	if (hasher_end(&hs))
		resume_hash_put(state, key, hs.sha);
	out->sent = (long long)p.sent;
	if (result != 0)
		progress_break(&p);
	if (result == 0 || result == -1)
		resume_forget(state, server, key);
out:
	free(url);
	free(key);
}

/* issue 16: which of the files the server has already, where that is
 * cheap to know (a small file, or one whose hash an earlier run kept):
 * known[i] is the clip, 0 for none, -1 when not asked.  The hashes are kept in the resume state,
 * so upload_one does not read those files again. */
static void known_duplicates(const struct opts *o, const struct cli_files *files,
                             struct resume *state, long long *known)
{
	for (size_t i = 0; i < files->n; i++) {
		struct stat st;
		known[i] = -1;
		if (stat(files->paths[i], &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
			continue;
		char *key = resume_file_key(files->paths[i], &st);
		char sha[KD_SHA256_HEX] = "";
		const char *kept = resume_hash_get(state, key);
		if (kept)
			memcpy(sha, kept, KD_SHA256_HEX);
		else if (st.st_size <= HASH_FIRST_MAX && kd_sha256_file(files->paths[i], sha) == 0)
			resume_hash_put(state, key, sha);
		if (sha[0])
			known[i] = existing_clip(o, sha);
		free(key);
	}
}

/* Follow a clip until it is ready or failed. */
static void wait_for(const struct opts *o, struct outcome *out)
{
	char *url = kd_asprintf("/api/v1/clips/%lld", out->id);
	for (unsigned tries = 0;; tries++) {
		struct reply r;
		reply_init(&r, RESPONSE_MAX);
		bool done = false;
		if (client_request(&o->client, "GET", url, &r) == CURLE_OK && r.status == 200) {
			json_t *j = json_loads(kd_buf_str(&r.body), 0, NULL);
			enum cat_status status;
			if (cat_status_parse(json_string_value(json_object_get(j, "status")), &status) ==
			        0 &&
			    (status == CAT_READY || status == CAT_FAILED)) {
				out->status = status == CAT_READY ? UP_READY : UP_FAILED;
				const char *e = json_string_value(json_object_get(j, "error"));
				snprintf(out->error, sizeof out->error, "%s", e ? e : "");
				done = true;
			}
			json_decref(j);
		} else if (r.status == 404) {
			out->status = UP_FAILED;
			snprintf(out->error, sizeof out->error, "the clip was deleted on the server");
			done = true;
		}
		reply_release(&r);
		if (done)
			break;
		usleep(tries < 20 ? 250000 : 1000000);
	}
	free(url);
}

/* The lines about a clip's captions and moments, after its own. */
static void report_extras(const char *file, const struct extras_result *x)
{
	if (x->captions_sent)
		printf("%s: captions sent\n", file);
	if (x->captions_error[0])
		printf("%s: %s\n", file, x->captions_error);
	if (x->moments_added || x->moments_present)
		printf("%s: %d moment%s added%s\n", file, x->moments_added,
		       x->moments_added == 1 ? "" : "s",
		       x->moments_present ? " (the others were on the clip already)" : "");
	if (x->moments_error[0])
		printf("%s: %s\n", file, x->moments_error);
}

static void report(const struct opts *o, const char *file, const struct outcome *out)
{
	const char *status = OUTCOME_NAMES[out->status];
	if (o->json) {
		json_t *j = json_pack("{ss ss sb sI}", "file", file, "status", status, "duplicate",
		                      out->duplicate, "sent_bytes", (json_int_t)out->sent);
		json_object_set_new(j, "id", out->id ? json_integer(out->id) : json_null());
		json_object_set_new(j, "error", out->error[0] ? json_string(out->error) : json_null());
		if (out->extras) {
			json_object_set_new(j, "moments_added", json_integer(out->x.moments_added));
			json_object_set_new(j, "captions_sent", json_boolean(out->x.captions_sent));
			json_object_set_new(j, "moments_error", out->x.moments_error[0]
			                    ? json_string(out->x.moments_error) : json_null());
			json_object_set_new(j, "captions_error", out->x.captions_error[0]
			                    ? json_string(out->x.captions_error) : json_null());
		}
		char *s = json_dumps(j, JSON_COMPACT);
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(j);
	} else if (out->error[0] && out->id) {
		printf("%s: clip %lld %s: %s\n", file, out->id, status, out->error);
	} else if (out->error[0]) {
		printf("%s: %s: %s\n", file, status, out->error);
	} else {
		printf("%s: clip %lld %s%s\n", file, out->id, status,
		       !out->duplicate ? ""
		       : out->sent ? " (already on the server)"
		                   : " (already on the server; not sent again)");
	}
	if (!o->json && out->extras)
		report_extras(file, &out->x);
	fflush(stdout);
}

/* The tus metadata of one file. */
static void file_meta(const struct opts *o, const struct manifest *man, const char *path,
                      const char *auto_title, const char *tags, struct meta *m)
{
	const struct meta_flags *f = &o->meta;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	meta_set(m, "filename", base);
	meta_set(m, "title", f->title ? f->title : auto_title);
	meta_set(m, "school", f->school);
	meta_set(m, "practices", f->practices);
	meta_set(m, "teacher", f->teacher);
	meta_set(m, "grade", f->grade);
	meta_set(m, "subject", f->subject);
	meta_set(m, "recorded", f->recorded);
	meta_set(m, "tags", tags);
	meta_set(m, "consent", f->consent);
	meta_set(m, "visibility", f->visibility);
	const char *k;
	json_t *v;
	json_object_foreach(manifest_row(man, path), k, v)
		if (strcmp(k, "moments")) /* sent after the upload, not as metadata */
			meta_set(m, k, json_string_value(v));
}

/* --dry-run: say what would be sent.  Returns true when it printed a line
 * of its own (nothing more to report). */
static bool dry_run(const struct opts *o, const char *path, const struct meta *m,
                    const struct upload_extras *x, struct outcome *out)
{
	struct stat st;
	out->status = UP_WOULD_SEND;
	if (stat(path, &st) < 0) {
		snprintf(out->error, sizeof out->error, "cannot read the file: %s", strerror(errno));
		return false;
	}
	if (o->json)
		return false;
	printf("%s: would send %lld bytes to %s as", path, (long long)st.st_size,
	       o->client.server);
	for (size_t f = 0; f < m->n; f++)
		printf("%s %s=\"%s\"", f ? "," : "", m->fields[f][0], m->fields[f][1]);
	printf("\n");
	if (x->captions)
		printf("%s: would then send the captions %s\n", path, x->captions);
	for (size_t i = 0; i < x->n_moments; i++)
		printf("%s: would then add the moment \"%s\"\n", path, x->moments[i]);
	return true;
}

/* A file whose captions and moments wait for it to be ready. */
struct later {
	const char *path;
	struct outcome out;
	struct upload_extras x;
};

/* Report a file and fold its result into the exit status. */
static void finish_file(const struct opts *o, const char *path, const struct outcome *out,
                        int *exit_code)
{
	report(o, path, out);
	bool good = o->wait || out->extras ? out->status == UP_READY : out->status != UP_FAILED;
	if (!good || out->x.moments_error[0] || out->x.captions_error[0])
		*exit_code = 1;
}

static const char usage[] =
	"upload [--server URL] [--token T] " META_USAGE " [--manifest FILE.csv] "
	"[--moment \"M:SS-M:SS PRACTICE TITLE\"]... [--captions FILE.vtt|FILE.srt] "
	"[--limit-rate BYTES/S] [--notify] [--dry-run] [--wait] [--json] FILE|DIR...";

int cli_upload(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"server", required_argument, NULL, 'S'},
		{"token", required_argument, NULL, 'k'},
		META_OPTIONS,
		{"manifest", required_argument, NULL, 'm'},
		{"limit-rate", required_argument, NULL, 'L'},
		{"dry-run", no_argument, NULL, 'n'},
		{"wait", no_argument, NULL, 'w'},
		{"json", no_argument, NULL, 'j'},
		{"moment", required_argument, NULL, 'M'},
		{"captions", required_argument, NULL, 'C'},
		{"notify", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct opts o = {0};
	const char *server = NULL, *token = NULL;
	int c, exit_code = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (meta_flag(&o.meta, c, optarg))
			continue;
		switch (c) {
		case 'S': server = optarg; break;
		case 'k': token = optarg; break;
		case 'm': o.manifest = optarg; break;
		case 'L': o.limit_rate = strtoll(optarg, NULL, 10); break;
		case 'n': o.dry_run = true; break;
		case 'w': o.wait = true; break;
		case 'j': o.json = true; break;
		case 'M':
			o.moments = kd_realloc(o.moments, (o.n_moments + 1) * sizeof *o.moments);
			o.moments[o.n_moments++] = optarg;
			break;
		case 'C': o.captions = optarg; break;
		case 'N': o.notify = true; break;
		case 'h': printf("usage: kindling %s\n", usage); goto out_flags;
		default: exit_code = 2; goto out_flags;
		}
	}
	if (optind >= argc || (!o.manifest && (!o.meta.school || !o.meta.practices))) {
		cli_fail("usage: kindling %s", usage);
		exit_code = 2;
		goto out_flags;
	}
	struct manifest man = {0};
	struct cli_files files = {0};
	struct resume state = {0};
	struct later *later = NULL;
	size_t n_later = 0;
	size_t *to_send = NULL; /* issue 16: the batch's count, below */
	long long *known = NULL;
	char *tags = meta_tags_joined(&o.meta);
	char err[KD_ERRMSG_MAX];
	if ((exit_code = client_open(&o.client, server, token, !o.dry_run)) != 0)
		goto out;
	o.client.tus = true;
	if (o.manifest && manifest_load(&man, o.manifest, err, sizeof err) < 0) {
		cli_fail("%s", err);
		exit_code = 2;
		goto out;
	}
	for (int i = optind; i < argc; i++)
		if (cli_collect_files(&files, argv[i]) < 0)
			exit_code = 1;
	extras_drop_captions_files(&files);
	if ((exit_code = extras_check_flags(o.moments, o.n_moments, o.captions, files.n)) != 0)
		goto out;
	if (sodium_init() < 0) {
		cli_fail("cannot initialise libsodium");
		exit_code = 1;
		goto out;
	}
	resume_load(&state);
	later = kd_calloc(files.n ? files.n : 1, sizeof *later);
	/* issue 16: this run's files are one batch, named by a random token;
	 * the server mails the uploader once they are all processed (when one
	 * failed, or with --notify).  Each upload says how many files the run
	 * may still send - the clips made so far and the files left - so
	 * duplicates found on the way are not waited for. */
	char batch[33];
	unsigned char raw[16];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(batch, sizeof batch, raw, sizeof raw);
	size_t made = 0;
	to_send = kd_calloc(files.n + 1, sizeof *to_send);
	known = kd_calloc(files.n ? files.n : 1, sizeof *known);
	if (!o.dry_run)
		known_duplicates(&o, &files, &state, known);
	for (size_t i = files.n; i-- > 0;) /* files i.. that may make a clip */
		to_send[i] = to_send[i + 1] + (known[i] <= 0);
	for (size_t i = 0; i < files.n; i++) {
		const char *path = files.paths[i];
		char *auto_title = cli_title_from_name(path);
		struct meta m = {0};
		file_meta(&o, &man, path, auto_title, tags, &m);
		char batch_size[24];
		snprintf(batch_size, sizeof batch_size, "%zu",
		         made + to_send[i] > 0 ? made + to_send[i] : 1);
		if (!o.dry_run) {
			meta_set(&m, "batch", batch);
			meta_set(&m, "batch_size", batch_size);
			meta_set(&m, "notify", o.notify ? "1" : NULL);
		}
		struct outcome out = {0};
		struct upload_extras x;
		if (extras_for(path, o.moments, o.n_moments, o.captions, manifest_row(&man, path), &x,
		               err, sizeof err) < 0) {
			out.status = UP_FAILED;
			snprintf(out.error, sizeof out.error, "%.400s; nothing was sent: fix it and upload "
			         "again", err);
		} else if (!meta_get(&m, "school") || !meta_get(&m, "practices")) {
			out.status = UP_FAILED;
			snprintf(out.error, sizeof out.error,
			         "no school or practices for this file: give --school and --practice, or "
			         "add them to its manifest row");
		} else if (o.dry_run) {
			if (dry_run(&o, path, &m, &x, &out)) {
				extras_free(&x);
				free(auto_title);
				continue;
			}
		} else {
			upload_one(&o, path, &m, &state, known[i], &out);
			if (out.id && out.status == UP_QUEUED && !out.duplicate)
				made++;
			if (extras_any(&x) && out.id && out.status != UP_FAILED) {
				/* Every file goes up first; this one's captions and
				 * moments once it is ready (below). */
				later[n_later++] = (struct later){.path = path, .out = out, .x = x};
				free(auto_title);
				continue;
			}
			if (o.wait && out.id && out.status != UP_FAILED)
				wait_for(&o, &out);
		}
		extras_free(&x);
		finish_file(&o, path, &out, &exit_code);
		free(auto_title);
	}
	for (size_t i = 0; i < n_later; i++) {
		struct later *l = &later[i];
		wait_for(&o, &l->out);
		l->out.extras = true;
		if (l->out.status == UP_READY)
			extras_send(&o.client, l->out.id, &l->x, &l->out.x);
		else
			extras_not_sent(&l->x, "the clip could not be processed (see its error)",
			                &l->out.x);
		finish_file(&o, l->path, &l->out, &exit_code);
		extras_free(&l->x);
	}
out:
	free(later);
	free(to_send);
	free(known);
	resume_free(&state);
	manifest_free(&man);
	cli_files_free(&files);
	client_close(&o.client);
	free(tags);
out_flags:
	meta_flags_free(&o.meta);
	free(o.moments);
	return exit_code;
}
