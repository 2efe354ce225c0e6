/* remote.c - what the commands that talk to a server share: where the
 * server is, which token to send, and a plain GET. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/buf.h"
#include "kindling/cli.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/mem.h"

char *cli_config_value(const char *key)
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

void cli_remote_resolve(const char *server_flag, const char *token_flag, char **server,
                        char **token)
{
	const char *env_server = getenv("KINDLING_SERVER"), *env_token = getenv("KINDLING_TOKEN");
	char *cfg_server = server_flag || env_server ? NULL : cli_config_value("server");
	char *cfg_token = token_flag || env_token ? NULL : cli_config_value("token");
	const char *srv = server_flag ? server_flag : env_server ? env_server
	                : cfg_server ? cfg_server : "http://127.0.0.1:8080";
	const char *tok = token_flag ? token_flag : env_token ? env_token : cfg_token;
	*server = kd_strdup(srv);
	size_t sl = strlen(*server);
	while (sl && (*server)[sl - 1] == '/')
		(*server)[--sl] = '\0';
	*token = tok && *tok ? kd_strdup(tok) : NULL;
	free(cfg_server);
	free(cfg_token);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	return kd_buf_append(arg, data, size * n) == 0 ? size * n : 0;
}

int cli_http_get(const char *server, const char *token, const char *path, long *status,
                 struct kd_buf *body, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return KD_ENOMEM;
	}
	char *url = kd_asprintf("%s%s", server, path);
	char *auth = kd_asprintf("Authorization: Bearer %s", token);
	struct curl_slist *h = curl_slist_append(NULL, auth);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kindling-cli/1");
	CURLcode rc = curl_easy_perform(c);
	*status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	free(auth);
	int result = 0;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "cannot reach %s: %s (check --server or KINDLING_SERVER, and "
		         "that the server is running)", server, curl_easy_strerror(rc));
		result = KD_EIO;
	}
	free(url);
	return result;
}
