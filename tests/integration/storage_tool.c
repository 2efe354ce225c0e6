/* storage_tool.c - the storage suite's hands on src/storage (built as
 * $(O)/tests/storage_tool; not part of kindling).  Opens the storage a data
 * folder's kindling.conf names (credentials from the environment, as
 * `kindling serve` will) and does one thing:
 *
 *   storage_tool [--data DIR] [--trace FILE] [--memory] COMMAND ARGS...
 *
 *   check                       the settings work
 *   put KEY FILE [TYPE] [move]  store a file (move: STORAGE_MOVE)
 *   get KEY FILE [OFF [LEN]]    into a file
 *   cat KEY [OFF [LEN]]         to standard output, through the callback
 *   stat KEY                    "SIZE MTIME ETAG"
 *   rm KEY | rm-prefix PREFIX   delete
 *   ls [PREFIX]                 "KEY SIZE" lines
 *   presign KEY SECS [TYPE [DISPOSITION]]
 *   path KEY                    the file of KEY (data folder only)
 *   mpu-create KEY [TYPE]       prints the upload id
 *   mpu-put KEY ID N FILE       part N from a file; prints its ETag
 *   mpu-list KEY ID             "N SIZE ETAG" lines
 *   mpu-complete KEY ID         complete with the parts listed (what a node
 *                               that takes an upload over does)
 *   mpu-abort KEY ID
 *   sign                        SigV4 for requests read as JSON lines on
 *                               standard input (see sigv4_compare.mjs), one
 *                               Authorization value or presigned query a line
 *
 * --trace FILE appends every S3 request as sent (method, URL, headers) as
 * a JSON line, for sigv4_compare.mjs to sign again with aws4.  --memory
 * prints the peak resident memory ("peak-rss-kb N") on standard error.
 * Errors: "storage_tool: <code>: <sentence>" on standard error, exit 1
 * (3 for KD_ENOTFOUND, so a script can tell "absent" from "broken"). */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kindling/config.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/storage.h"
#include "storage/backend.h"
#include "storage/s3_http.h"
#include "storage/sigv4.h"

static FILE *trace_file;

static void trace(void *arg, const char *method, const char *url,
                  const struct curl_slist *headers)
{
	(void)arg;
	json_t *h = json_array();
	for (const struct curl_slist *l = headers; l; l = l->next) {
		const char *colon = strchr(l->data, ':');
		if (!colon || !colon[1])
			continue; /* "Expect:" takes a header away */
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		json_array_append_new(h, json_pack("[s#s]", l->data, (int)(colon - l->data), v));
	}
	json_t *o = json_pack("{sssssO}", "method", method, "url", url, "headers", h);
	char *line = json_dumps(o, JSON_COMPACT);
	fprintf(trace_file, "%s\n", line);
	fflush(trace_file);
	free(line);
	json_decref(o);
	json_decref(h);
}

static int out(void *arg, const void *data, size_t len)
{
	(void)arg;
	return fwrite(data, 1, len, stdout) == len ? 0 : KD_EIO;
}

static int print_key(void *arg, const char *key, const struct storage_stat *st)
{
	(void)arg;
	printf("%s %llu\n", key, (unsigned long long)st->size);
	return 0;
}

static uint64_t num(const char *s)
{
	return strcmp(s, "end") ? strtoull(s, NULL, 10) : STORAGE_TO_END;
}

static void peak_memory(void)
{
	FILE *f = fopen("/proc/self/status", "r"); /* its size reads as 0: no kd_read_file */
	char line[256];
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmHWM:", 6))
			fprintf(stderr, "peak-rss-kb %lld\n", strtoll(line + 6, NULL, 10));
	if (f)
		fclose(f);
}

/* One JSON case to sign: {"method","host","path","query":[[k,v]...],
 * "headers":[[k,v]...],"payload","date","region","service","access",
 * "secret","token","presign":SECS}. */
static int sign_one(const char *line)
{
	json_error_t je;
	json_t *c = json_loads(line, 0, &je);
	if (!c) {
		fprintf(stderr, "storage_tool: sign: %s\n", je.text);
		return 1;
	}
	struct sigv4_kv q[64], h[32];
	size_t nq = 0, nh = 0;
	json_t *a = json_object_get(c, "query"), *v;
	size_t i;
	json_array_foreach(a, i, v) if (nq < 64) q[nq++] = (struct sigv4_kv){
		json_string_value(json_array_get(v, 0)), json_string_value(json_array_get(v, 1))};
	a = json_object_get(c, "headers");
	json_array_foreach(a, i, v) if (nh < 32) h[nh++] = (struct sigv4_kv){
		json_string_value(json_array_get(v, 0)), json_string_value(json_array_get(v, 1))};
	const char *token = json_string_value(json_object_get(c, "token"));
	struct sigv4_creds cr = {json_string_value(json_object_get(c, "access")),
	                         json_string_value(json_object_get(c, "secret")), token};
	struct sigv4_scope sc = {.region = json_string_value(json_object_get(c, "region")),
	                         .service = json_string_value(json_object_get(c, "service"))};
	snprintf(sc.date, sizeof sc.date, "%s", json_string_value(json_object_get(c, "date")));
	struct sigv4_request r = {.method = json_string_value(json_object_get(c, "method")),
	                          .path = json_string_value(json_object_get(c, "path")),
	                          .query = q, .nquery = nq, .headers = h, .nheaders = nh,
	                          .payload_hash = json_string_value(json_object_get(c, "payload"))};
	struct kd_buf b = KD_BUF_INIT(SIGV4_TEXT_MAX);
	json_t *presign = json_object_get(c, "presign");
	int rc = presign ? sigv4_presign_query(&r, &cr, &sc, (unsigned)json_integer_value(presign), &b)
	                 : sigv4_authorization(&r, &cr, &sc, &b);
	printf("%s\n", rc == 0 ? kd_buf_str(&b) : kd_strerror(rc));
	kd_buf_release(&b);
	json_decref(c);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: storage_tool [--data DIR] [--trace FILE] [--memory] COMMAND ARGS... "
	                "(see tests/integration/storage_tool.c)\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *data = NULL, *trace_path = NULL;
	bool memory = false;
	int i = 1;
	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--data") && i + 1 < argc)
			data = argv[++i];
		else if (!strcmp(argv[i], "--trace") && i + 1 < argc)
			trace_path = argv[++i];
		else if (!strcmp(argv[i], "--memory"))
			memory = true;
		else
			return usage();
	}
	if (i >= argc)
		return usage();
	const char *cmd = argv[i];
	char **arg = argv + i + 1;
	int n = argc - i - 1;
	kd_log_set_level(KD_LOG_WARN);

	if (!strcmp(cmd, "sign")) {
		char *line = NULL;
		size_t cap = 0;
		int bad = 0;
		while (getline(&line, &cap, stdin) > 0)
			bad |= sign_one(line);
		free(line);
		return bad;
	}

	struct kd_config cfg;
	char err[KD_ERRMSG_MAX] = "";
	if (kd_config_load(&cfg, data, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "storage_tool: %s\n", err);
		kd_config_free(&cfg);
		return 1;
	}
	struct kd_storage *s = NULL;
	int rc = storage_open(&s, &cfg, err, sizeof err);
	kd_config_free(&cfg);
	if (rc == 0 && trace_path && storage_kind(s) == STORAGE_S3) {
		trace_file = fopen(trace_path, "a");
		if (!trace_file) {
			fprintf(stderr, "storage_tool: %s: %s\n", trace_path, strerror(errno));
			return 1;
		}
		struct s3 *s3 = s->impl;
		s3->trace = trace;
	}

#define NEED(k)                                                                                    \
	if (n < (k))                                                                                   \
		return usage();
	if (rc < 0) {
		/* reported below */
	} else if (!strcmp(cmd, "check")) {
		rc = storage_check(s, err, sizeof err);
	} else if (!strcmp(cmd, "put")) {
		NEED(2);
		rc = storage_put_file(s, arg[0], arg[1], n > 2 && *arg[2] ? arg[2] : NULL,
		                      n > 3 && !strcmp(arg[3], "move") ? STORAGE_MOVE : 0, err,
		                      sizeof err);
	} else if (!strcmp(cmd, "get")) {
		NEED(2);
		rc = storage_get_file(s, arg[0], n > 2 ? num(arg[2]) : 0,
		                      n > 3 ? num(arg[3]) : STORAGE_TO_END, arg[1], err, sizeof err);
	} else if (!strcmp(cmd, "cat")) {
		NEED(1);
		rc = storage_get(s, arg[0], n > 1 ? num(arg[1]) : 0, n > 2 ? num(arg[2]) : STORAGE_TO_END,
		                 out, NULL, err, sizeof err);
	} else if (!strcmp(cmd, "stat")) {
		NEED(1);
		struct storage_stat st;
		rc = storage_stat(s, arg[0], &st, err, sizeof err);
		if (rc == 0)
			printf("%llu %lld %s\n", (unsigned long long)st.size, (long long)st.mtime, st.etag);
	} else if (!strcmp(cmd, "rm")) {
		NEED(1);
		rc = storage_delete(s, arg[0], err, sizeof err);
	} else if (!strcmp(cmd, "rm-prefix")) {
		NEED(1);
		rc = storage_delete_prefix(s, arg[0], err, sizeof err);
	} else if (!strcmp(cmd, "ls")) {
		rc = storage_list(s, n > 0 ? arg[0] : "", print_key, NULL, err, sizeof err);
	} else if (!strcmp(cmd, "presign")) {
		NEED(2);
		char *url = NULL;
		rc = storage_presign_get(s, arg[0], (unsigned)strtoul(arg[1], NULL, 10),
		                         n > 2 && *arg[2] ? arg[2] : NULL, n > 3 ? arg[3] : NULL, &url,
		                         err, sizeof err);
		if (rc == 0)
			printf("%s\n", url);
		free(url);
	} else if (!strcmp(cmd, "path")) {
		NEED(1);
		char *p = NULL;
		rc = storage_local_path(s, arg[0], &p);
		if (rc == 0)
			printf("%s\n", p);
		else
			snprintf(err, sizeof err, "%s has no files", storage_describe(s));
		free(p);
	} else if (!strcmp(cmd, "mpu-create")) {
		NEED(1);
		char *id = NULL;
		rc = storage_mpu_create(s, arg[0], n > 1 ? arg[1] : NULL, &id, err, sizeof err);
		if (rc == 0)
			printf("%s\n", id);
		free(id);
	} else if (!strcmp(cmd, "mpu-put")) {
		NEED(4);
		char *bytes = NULL, etag[STORAGE_ETAG_MAX];
		size_t len = 0;
		rc = kd_read_file(arg[3], 1u << 30, &bytes, &len);
		if (rc < 0)
			snprintf(err, sizeof err, "cannot read %s", arg[3]);
		else
			rc = storage_mpu_put_part(s, arg[0], arg[1], atoi(arg[2]), bytes, len, etag, err,
			                          sizeof err);
		if (rc == 0)
			printf("%s\n", etag);
		free(bytes);
	} else if (!strcmp(cmd, "mpu-list") || !strcmp(cmd, "mpu-complete")) {
		NEED(2);
		struct storage_part *parts = NULL;
		size_t np = 0;
		rc = storage_mpu_list_parts(s, arg[0], arg[1], &parts, &np, err, sizeof err);
		for (size_t k = 0; rc == 0 && cmd[4] == 'l' && k < np; k++)
			printf("%d %llu %s\n", parts[k].number, (unsigned long long)parts[k].size,
			       parts[k].etag);
		if (rc == 0 && cmd[4] == 'c')
			rc = storage_mpu_complete(s, arg[0], arg[1], parts, np, err, sizeof err);
		free(parts);
	} else if (!strcmp(cmd, "mpu-abort")) {
		NEED(2);
		rc = storage_mpu_abort(s, arg[0], arg[1], err, sizeof err);
	} else {
		storage_close(&s);
		return usage();
	}
	storage_close(&s);
	if (trace_file)
		fclose(trace_file);
	if (memory)
		peak_memory();
	if (fflush(stdout) != 0 && rc == 0) {
		snprintf(err, sizeof err, "cannot write standard output");
		rc = KD_EIO;
	}
	if (rc < 0) {
		fprintf(stderr, "storage_tool: %s: %s\n", kd_strerror(rc), err);
		return rc == KD_ENOTFOUND ? 3 : 1;
	}
	return 0;
}
