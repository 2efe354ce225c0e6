/* upload_extras.c - a clip's captions and moments, sent by `kindling
 * upload` once the clip is ready (see upload_extras.h).  Owner: issue 15,
 * H1. */
#include "upload_extras.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "kindling/buf.h"
#include "kindling/captions.h"
#include "kindling/cli.h"
#include "kindling/fs.h"
#include "kindling/mem.h"
#include "kindling/moments.h"

#define ANSWER_MAX (1 << 20)

static const char *extension(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot = strrchr(base ? base + 1 : path, '.');
	return dot ? dot + 1 : "";
}

bool extras_is_captions_name(const char *path)
{
	const char *ext = extension(path);
	return !strcasecmp(ext, "vtt") || !strcasecmp(ext, "srt");
}

char *extras_sidecar(const char *video)
{
	static const char *const exts[] = {"vtt", "srt", "VTT", "SRT"};
	const char *ext = extension(video);
	size_t stem = *ext ? (size_t)(ext - video - 1) : strlen(video);
	for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
		char *p = kd_asprintf("%.*s.%s", (int)stem, video, exts[i]);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			return p;
		free(p);
	}
	return NULL;
}

int extras_check_spec(const char *spec, char *err, size_t errlen)
{
	char *copy = kd_strdup(spec);
	struct cat_moment_edit m;
	int rc = moment_spec_parse(copy, &m, err, errlen);
	/* It goes to the server as JSON, which carries UTF-8 only (a title
	 * typed in a terminal set to Latin-1 is not). */
	json_t *t = rc == 0 ? json_string(m.title) : NULL;
	json_t *p = rc == 0 ? json_string(m.practice) : NULL;
	if (rc == 0 && (!t || !p)) {
		snprintf(err, errlen, "the moment is not UTF-8 text: set the terminal (or save the "
		         "manifest) as UTF-8");
		rc = KD_EINVAL;
	}
	json_decref(t);
	json_decref(p);
	free(copy);
	return rc;
}

void extras_drop_captions_files(struct cli_files *files)
{
	size_t kept = 0;
	for (size_t i = 0; i < files->n; i++) {
		if (extras_is_captions_name(files->paths[i])) {
			fprintf(stderr, "%s: captions are sent with their video: the video of the same "
			        "name beside it, or --captions\n", files->paths[i]);
			free(files->paths[i]);
			continue;
		}
		files->paths[kept++] = files->paths[i];
	}
	files->n = kept;
}

int extras_check_flags(const char *const *specs, size_t n_specs, const char *captions,
                       size_t n_files)
{
	if (!n_specs && !captions)
		return 0;
	if (n_files != 1) {
		cli_fail("--moment and --captions are for one video, and %zu were given: for several, "
		         "use a manifest's moments column and captions files beside the videos "
		         "(lesson.mp4 with lesson.vtt or lesson.srt)", n_files);
		return 2;
	}
	char err[KD_ERRMSG_MAX];
	for (size_t i = 0; i < n_specs; i++)
		if (extras_check_spec(specs[i], err, sizeof err) < 0) {
			cli_fail("--moment \"%s\": %s", specs[i], err);
			return 2;
		}
	struct stat st;
	errno = 0;
	if (captions && (stat(captions, &st) < 0 || !S_ISREG(st.st_mode))) {
		cli_fail("--captions %s: %s", captions,
		         errno == ENOENT ? "no such file" : "not a file that can be read");
		return 2;
	}
	if (captions && !extras_is_captions_name(captions)) {
		cli_fail("--captions %s: give a WebVTT (.vtt) or SubRip (.srt) file", captions);
		return 2;
	}
	return 0;
}

static void add_spec(struct upload_extras *x, const char *s, size_t n)
{
	x->moments = kd_realloc(x->moments, (x->n_moments + 1) * sizeof *x->moments);
	x->moments[x->n_moments++] = kd_strndup(s, n);
}

int extras_for(const char *video, const char *const *specs, size_t n_specs,
               const char *captions, json_t *row, struct upload_extras *x, char *err,
               size_t errlen)
{
	memset(x, 0, sizeof *x);
	char why[KD_ERRMSG_MAX];
	if (n_specs) {
		for (size_t i = 0; i < n_specs; i++)
			add_spec(x, specs[i], strlen(specs[i]));
	} else {
		const char *col = json_string_value(json_object_get(row, "moments"));
		for (const char *p = col; p && *p;) {
			size_t n = strcspn(p, ";");
			const char *s = p;
			size_t len = n;
			while (len && (*s == ' ' || *s == '\t'))
				s++, len--;
			while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
				len--;
			if (len)
				add_spec(x, s, len);
			p += n + (p[n] == ';');
		}
	}
	if (x->n_moments > MOMENTS_PER_CLIP_MAX) {
		snprintf(err, errlen, "%zu moments for one clip: a clip has at most %d",
		         x->n_moments, MOMENTS_PER_CLIP_MAX);
		return -1;
	}
	for (size_t i = 0; i < x->n_moments; i++)
		if (extras_check_spec(x->moments[i], why, sizeof why) < 0) {
			snprintf(err, errlen, "the moment \"%.120s\"%s: %s", x->moments[i],
			         n_specs ? "" : " (manifest's moments column)", why);
			return -1;
		}
	x->captions = captions ? kd_strdup(captions) : extras_sidecar(video);
	return 0;
}

bool extras_any(const struct upload_extras *x)
{
	return x->n_moments || x->captions;
}

void extras_free(struct upload_extras *x)
{
	for (size_t i = 0; i < x->n_moments; i++)
		free(x->moments[i]);
	free(x->moments);
	free(x->captions);
	memset(x, 0, sizeof *x);
}

void extras_not_sent(const struct upload_extras *x, const char *why, struct extras_result *r)
{
	if (x->captions)
		snprintf(r->captions_error, sizeof r->captions_error, "captions not sent: %.400s", why);
	if (x->n_moments)
		snprintf(r->moments_error, sizeof r->moments_error, "moments not added: %.400s", why);
}

/* A request with a body; status and answer in rp. */
static CURLcode send_body(const struct client *c, const char *method, const char *url,
                          const char *type, const char *body, size_t len, struct reply *rp)
{
	struct curl_slist *h = NULL;
	char *ct = kd_asprintf("Content-Type: %s", type);
	h = curl_slist_append(h, ct);
	free(ct);
	h = curl_slist_append(h, "Expect:");
	CURL *e = client_handle(c, method, url, rp, &h);
	if (!e) {
		curl_slist_free_all(h);
		return CURLE_OUT_OF_MEMORY;
	}
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
	return client_perform(e, h, rp);
}

static void send_captions(const struct client *c, long long clip, const char *path,
                          struct extras_result *r)
{
	char *text;
	size_t len;
	int rc = kd_read_file(path, CAPTIONS_BYTES_MAX, &text, &len);
	if (rc < 0) {
		snprintf(r->captions_error, sizeof r->captions_error,
		         "captions not sent: cannot read %.200s: %s", path,
		         rc == KD_ETOOBIG ? "it is larger than the server takes (1 MB)"
		                          : strerror(errno));
		return;
	}
	const char *type = !strcasecmp(extension(path), "srt") ? "application/x-subrip" : "text/vtt";
	char *url = kd_asprintf("/api/v1/clips/%lld/captions", clip);
	struct reply rp;
	reply_init(&rp, ANSWER_MAX);
	CURLcode cc = send_body(c, "PUT", url, type, text, len, &rp);
	if (cc != CURLE_OK) {
		snprintf(r->captions_error, sizeof r->captions_error,
		         "captions not sent: cannot reach the server: %s", curl_easy_strerror(cc));
	} else if (rp.status != 200) {
		char why[KD_ERRMSG_MAX];
		reply_error(&rp, why, sizeof why);
		snprintf(r->captions_error, sizeof r->captions_error, "captions %.100s refused: %.380s", path,
		         why);
	} else {
		r->captions_sent = true;
	}
	reply_release(&rp);
	free(url);
	free(text);
}

/* The moments the clip has: the server's JSON list, or NULL. */
static json_t *moments_on(const struct client *c, long long clip)
{
	char *url = kd_asprintf("/api/v1/clips/%lld/moments", clip);
	struct reply rp;
	reply_init(&rp, ANSWER_MAX);
	json_t *list = NULL;
	if (client_request(c, "GET", url, &rp) == CURLE_OK && rp.status == 200) {
		json_t *j = json_loads(kd_buf_str(&rp.body), 0, NULL);
		list = json_incref(json_object_get(j, "moments"));
		json_decref(j);
	}
	reply_release(&rp);
	free(url);
	return list;
}

/* Is the moment m among those the clip has?  Times as the server keeps
 * them: to the millisecond. */
static bool present(json_t *list, const struct cat_moment_edit *m)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		const char *p = json_string_value(json_object_get(v, "practice"));
		const char *t = json_string_value(json_object_get(v, "title"));
		double s = json_number_value(json_object_get(v, "start_s"));
		double e = json_number_value(json_object_get(v, "end_s"));
		if (p && t && !strcmp(p, m->practice) && !strcmp(t, m->title) &&
		    fabs(s - m->start_s) < 0.0005 && fabs(e - m->end_s) < 0.0005)
			return true;
	}
	return false;
}

static void send_moments(const struct client *c, long long clip, const struct upload_extras *x,
                         struct extras_result *r)
{
	json_t *have = moments_on(c, clip);
	struct kd_buf errs = KD_BUF_INIT(KD_ERRMSG_MAX);
	char *url = kd_asprintf("/api/v1/clips/%lld/moments", clip);
	for (size_t i = 0; i < x->n_moments; i++) {
		char *copy = kd_strdup(x->moments[i]);
		struct cat_moment_edit m;
		char why[KD_ERRMSG_MAX];
		if (moment_spec_parse(copy, &m, why, sizeof why) < 0) {
			/* (checked before the upload: cannot happen) */
			kd_buf_printf(&errs, "%s\"%s\": %s", errs.len ? "; " : "", x->moments[i], why);
			free(copy);
			continue;
		}
		if (present(have, &m)) {
			r->moments_present++;
			free(copy);
			continue;
		}
		json_t *body = json_pack("{sf sf ss ss}", "start_s", m.start_s, "end_s", m.end_s,
		                         "practice", m.practice, "title", m.title);
		char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(body);
		struct reply rp;
		reply_init(&rp, ANSWER_MAX);
		CURLcode cc = text ? send_body(c, "POST", url, "application/json", text, strlen(text),
		                               &rp)
		                   : CURLE_OUT_OF_MEMORY;
		if (cc != CURLE_OK) {
			kd_buf_printf(&errs, "%s\"%s\": cannot reach the server: %s", errs.len ? "; " : "",
			              x->moments[i], curl_easy_strerror(cc));
		} else if (rp.status != 201) {
			reply_error(&rp, why, sizeof why);
			kd_buf_printf(&errs, "%s\"%s\": %s", errs.len ? "; " : "", x->moments[i], why);
		} else {
			r->moments_added++;
		}
		reply_release(&rp);
		free(text);
		free(copy);
	}
	if (errs.len)
		snprintf(r->moments_error, sizeof r->moments_error, "moments not added: %.480s",
		         kd_buf_str(&errs));
	kd_buf_release(&errs);
	free(url);
	json_decref(have);
}

void extras_send(const struct client *c, long long clip, const struct upload_extras *x,
                 struct extras_result *r)
{
	if (x->captions)
		send_captions(c, clip, x->captions, r);
	if (x->n_moments)
		send_moments(c, clip, x, r);
}
