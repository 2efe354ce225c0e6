/* client.c - finding the server and speaking to it (see client.h). */
#define _GNU_SOURCE
#include "client.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kindling/cli.h"
#include "kindling/fs.h"
#include "kindling/mem.h"

char *client_config_value(const char *key)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *path = xdg && *xdg ? kd_asprintf("%s/kindling/config", xdg)
	                         : kd_asprintf("%s/.config/kindling/config", home ? home : ".");
	char *text = NULL, *value = NULL;
	if (kd_read_file(path, 64 * 1024, &text, NULL) == 0) {
		char *save = NULL;
		for (char *l = strtok_r(text, "\n", &save); l && !value; l = strtok_r(NULL, "\n", &save)) {
			while (*l == ' ' || *l == '\t')
				l++;
			size_t k = strlen(key);
			if (strncmp(l, key, k) != 0)
				continue;
			char *v = l + k;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v != '=')
				continue;
			v++;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t n = strlen(v);
			while (n && (v[n - 1] == ' ' || v[n - 1] == '\r'))
				v[--n] = '\0';
			value = kd_strdup(v);
		}
	}
	free(text);
	free(path);
	return value;
}

int client_open(struct client *c, const char *server_flag, const char *token_flag,
                bool need_token)
{
	memset(c, 0, sizeof *c);
	const char *env_server = getenv("KINDLING_SERVER"), *env_token = getenv("KINDLING_TOKEN");
	char *cfg_server = server_flag || env_server ? NULL : client_config_value("server");
	char *cfg_token = token_flag || env_token ? NULL : client_config_value("token");
	const char *srv = server_flag ? server_flag : env_server ? env_server
	                : cfg_server ? cfg_server : "http://127.0.0.1:8080";
	const char *tok = token_flag ? token_flag : env_token ? env_token : cfg_token;
	c->server = kd_strdup(srv);
	size_t sl = strlen(c->server);
	while (sl && c->server[sl - 1] == '/')
		c->server[--sl] = '\0';
	c->token = tok && *tok ? kd_strdup(tok) : NULL;
	free(cfg_server);
	free(cfg_token);
	if (need_token && !c->token) {
		cli_fail("no API token: pass --token, set KINDLING_TOKEN, or put 'token = ...' in "
		         "~/.config/kindling/config (an admin makes one with 'kindling user add')");
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		cli_fail("cannot initialise libcurl");
		return 1;
	}
	return 0;
}

void client_close(struct client *c)
{
	if (c->server)
		curl_global_cleanup();
	free(c->server);
	free(c->token);
	memset(c, 0, sizeof *c);
}

void reply_init(struct reply *r, size_t body_max)
{
	memset(r, 0, sizeof *r);
	kd_buf_init(&r->body, body_max);
	r->offset = -1;
}

void reply_release(struct reply *r)
{
	kd_buf_release(&r->body);
}

void reply_error(const struct reply *r, char *err, size_t errlen)
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

char *client_url(const struct client *c, const char *url)
{
	if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8))
		return kd_strdup(url);
	return kd_asprintf("%s%s", c->server, url);
}

CURL *client_handle(const struct client *c, const char *method, const char *url,
                    struct reply *r, struct curl_slist **headers)
{
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	if (c->token) {
		char *auth = kd_asprintf("Authorization: Bearer %s", c->token);
		*headers = curl_slist_append(*headers, auth);
		free(auth);
	}
	if (c->tus)
		*headers = curl_slist_append(*headers, "Tus-Resumable: 1.0.0");
	char *full = client_url(c, url);
	curl_easy_setopt(h, CURLOPT_URL, full);
	free(full);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (!strcmp(method, "POST"))
		curl_easy_setopt(h, CURLOPT_POST, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
	/* A stalled link (laptop lid closed, wifi gone) is noticed within a
	 * minute instead of hanging for ever. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kindling-cli/1");
	return h;
}

CURLcode client_perform(CURL *h, struct curl_slist *headers, struct reply *r)
{
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(h);
	curl_slist_free_all(headers);
	return rc;
}

CURLcode client_request(const struct client *c, const char *method, const char *url,
                        struct reply *r)
{
	struct curl_slist *headers = NULL;
	CURL *h = client_handle(c, method, url, r, &headers);
	if (!h) {
		curl_slist_free_all(headers);
		return CURLE_OUT_OF_MEMORY;
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	return client_perform(h, headers, r);
}
