/* config.c - settings from flags, environment, kindling.conf, defaults. */
#include "kindling/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/mem.h"

#define CONFIG_FILE "kindling.conf"
#define CONFIG_MAX (64 * 1024)

static int cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

int kd_config_parse_listen(const char *s, char **host, unsigned *port)
{
	const char *colon;
	const char *h = s;
	size_t hlen;
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return KD_EINVAL;
		h = s + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return KD_EINVAL;
		hlen = (size_t)(colon - s);
	}
	char *end;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p > 65535)
		return KD_EINVAL;
	*host = hlen ? kd_strndup(h, hlen) : kd_strdup("127.0.0.1");
	*port = (unsigned)p;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_int(const char *v, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < lo || n > hi)
		return KD_EINVAL;
	*out = n;
	return 0;
}

int kd_config_parse(struct kd_config *cfg, const char *text, char *err, size_t errlen)
{
	char *copy = kd_strdup(text), *save = NULL;
	int lineno = 0, rc = 0;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *l = trim(line);
		if (!*l)
			continue;
		char *eq = strchr(l, '=');
		if (!eq) {
			snprintf(err, errlen, "%s line %d: expected 'key = value', got '%.60s'",
			         CONFIG_FILE, lineno, l);
			rc = KD_EINVAL;
			break;
		}
		*eq = '\0';
		char *key = trim(l), *val = trim(eq + 1);
		long n = 0;
		if (!strcmp(key, "listen")) {
			char *host;
			unsigned port;
			if ((rc = kd_config_parse_listen(val, &host, &port)) == 0) {
				free(cfg->listen_host);
				cfg->listen_host = host;
				cfg->listen_port = port;
			}
		} else if (!strcmp(key, "http_threads")) {
			if ((rc = parse_int(val, 1, 64, &n)) == 0)
				cfg->http_threads = (int)n;
		} else if (!strcmp(key, "connection_timeout")) {
			if ((rc = parse_int(val, 1, 3600, &n)) == 0)
				cfg->connection_timeout = (unsigned)n;
		} else if (!strcmp(key, "max_body_kb")) {
			if ((rc = parse_int(val, 1, 64 * 1024, &n)) == 0)
				cfg->max_body = (size_t)n * 1024;
		} else if (!strcmp(key, "workers")) {
			if ((rc = parse_int(val, 1, 64, &n)) == 0)
				cfg->workers = (int)n;
		} else if (!strcmp(key, "job_timeout")) {
			if ((rc = parse_int(val, 1, 24 * 3600, &n)) == 0)
				cfg->job_timeout = (unsigned)n;
		} else if (!strcmp(key, "job_memory_mb")) {
			if ((rc = parse_int(val, 256, 1024 * 1024, &n)) == 0)
				cfg->job_memory_mb = (unsigned long)n;
		} else if (!strcmp(key, "upload_max_mb")) {
			if ((rc = parse_int(val, 1, 1024L * 1024, &n)) == 0)
				cfg->upload_max_mb = (uint64_t)n;
		} else if (!strcmp(key, "upload_expiry_hours")) {
			if ((rc = parse_int(val, 1, 24 * 365, &n)) == 0)
				cfg->upload_expiry_hours = (unsigned)n;
		} else if (!strcmp(key, "default_consent")) {
			if (strcmp(val, "on-file") && strcmp(val, "pending"))
				rc = KD_EINVAL;
			else {
				free(cfg->default_consent);
				cfg->default_consent = kd_strdup(val);
			}
		} else {
			snprintf(err, errlen,
			         "%s line %d: unknown setting '%.40s' (known: listen, http_threads, "
			         "connection_timeout, max_body_kb, workers, default_consent, job_timeout, "
			         "job_memory_mb, upload_max_mb, upload_expiry_hours)",
			         CONFIG_FILE, lineno, key);
			rc = KD_EINVAL;
			break;
		}
		if (rc < 0) {
			snprintf(err, errlen, "%s line %d: bad value '%.60s' for %s", CONFIG_FILE,
			         lineno, val, key);
			break;
		}
	}
	free(copy);
	return rc;
}

int kd_config_load(struct kd_config *cfg, const char *data_flag, const char *listen_flag,
                   char *err, size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	const char *data = data_flag ? data_flag : getenv("KINDLING_DATA");
	cfg->data_dir = kd_strdup(data && *data ? data : "./kindling-data");
	cfg->db_path = kd_path_join(cfg->data_dir, "catalogue.db");
	cfg->listen_host = kd_strdup("127.0.0.1");
	cfg->listen_port = 8080;
	cfg->http_threads = cores() < 2 ? 2 : cores();
	cfg->connection_timeout = 30;
	cfg->max_body = 1024 * 1024;
	cfg->workers = cores();
	cfg->default_consent = kd_strdup("on-file");
	cfg->job_timeout = 30 * 60;
	cfg->job_memory_mb = 4096;
	cfg->upload_max_mb = 8192;
	cfg->upload_expiry_hours = 48;

	char *path = kd_path_join(cfg->data_dir, CONFIG_FILE), *text = NULL;
	int rc = kd_read_file(path, CONFIG_MAX, &text, NULL);
	if (rc == 0) {
		rc = kd_config_parse(cfg, text, err, errlen);
		free(text);
	} else if (rc == KD_ENOTFOUND) {
		rc = 0;
	} else {
		snprintf(err, errlen, "cannot read %s: %s", path,
		         rc == KD_ETOOBIG ? "file too large" : strerror(errno));
	}
	free(path);
	if (rc < 0)
		return rc;

	const char *listen = listen_flag ? listen_flag : getenv("KINDLING_LISTEN");
	if (listen && *listen) {
		char *host;
		unsigned port;
		if (kd_config_parse_listen(listen, &host, &port) < 0) {
			snprintf(err, errlen,
			         "bad listen address '%.80s': use HOST:PORT, for example 127.0.0.1:8080 "
			         "or [::1]:8080",
			         listen);
			return KD_EINVAL;
		}
		free(cfg->listen_host);
		cfg->listen_host = host;
		cfg->listen_port = port;
	}
	return 0;
}

void kd_config_free(struct kd_config *cfg)
{
	free(cfg->data_dir);
	free(cfg->db_path);
	free(cfg->listen_host);
	free(cfg->default_consent);
	memset(cfg, 0, sizeof *cfg);
}

int kd_config_prepare_data_dir(const struct kd_config *cfg, char *err, size_t errlen)
{
	static const char *subdirs[] = {"", "media", "uploads", "tmp"};
	for (size_t i = 0; i < sizeof subdirs / sizeof *subdirs; i++) {
		char *p = kd_path_join(cfg->data_dir, subdirs[i]);
		int rc = kd_mkdirs(p, 0750);
		if (rc < 0) {
			snprintf(err, errlen, "cannot create the data folder %s: %s", p, strerror(errno));
			free(p);
			return rc;
		}
		free(p);
	}
	return 0;
}
