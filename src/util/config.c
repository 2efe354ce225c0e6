/* config.c - settings from flags, environment, kindling.conf, defaults. */
#include "kindling/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

int kd_config_parse_storage(const char *url, char **bucket, char **prefix, char *err,
                            size_t errlen)
{
	if (strncmp(url, "s3://", 5)) {
		snprintf(err, errlen, "use s3://BUCKET or s3://BUCKET/PREFIX (leave storage out to "
		         "keep media in the data folder)");
		return KD_EINVAL;
	}
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t blen = slash ? (size_t)(slash - b) : strlen(b);
	bool ok = blen >= 3 && blen <= 63 && lower_alnum(b[0]) && lower_alnum(b[blen - 1]);
	for (size_t i = 0; i < blen && ok; i++)
		ok = (lower_alnum(b[i]) || b[i] == '-' || b[i] == '.') && !(b[i] == '.' && b[i + 1] == '.');
	if (!ok) {
		snprintf(err, errlen, "'%.*s' is not a bucket name (3 to 63 characters: a-z, 0-9, "
		         "'.' and '-', starting and ending with a letter or digit)", (int)(blen > 80 ? 80 : blen), b);
		return KD_EINVAL;
	}
	/* The prefix becomes the start of every object key: the same few
	 * characters as keys, so it never needs escaping anywhere. */
	const char *p = slash ? slash + 1 : "";
	size_t plen = strlen(p);
	if (plen > 0 && p[plen - 1] == '/')
		plen--;
	ok = plen <= 256 && (plen == 0 || p[plen - 1] != '/');
	for (size_t i = 0; i < plen && ok; i++) {
		bool start = i == 0 || p[i - 1] == '/';
		ok = p[i] == '/' ? !start : name_char(p[i]) && !(start && p[i] == '.');
	}
	if (!ok) {
		snprintf(err, errlen, "'%.80s' is not a prefix: folder names of A-Z, a-z, 0-9, '.', "
		         "'_' and '-' (not starting with '.') separated by single '/', 256 characters "
		         "at most", p);
		return KD_EINVAL;
	}
	*bucket = kd_strndup(b, blen);
	*prefix = kd_strndup(p, plen);
	return 0;
}

/* http(s)://HOST[:PORT][/]: the address of an S3-compatible service, and
 * nothing more (no path, user or query: those would go unsigned). */
static int parse_endpoint(const char *v, char **out, char *err, size_t errlen)
{
	const char *h = !strncmp(v, "http://", 7) ? v + 7 : !strncmp(v, "https://", 8) ? v + 8 : NULL;
	size_t n = strlen(v);
	if (n > 0 && v[n - 1] == '/')
		n--;
	bool ok = h && h < v + n;
	if (ok && *h == '[') {
		const char *end = memchr(h, ']', (size_t)(v + n - h));
		ok = end && end > h + 1;
		for (const char *c = h + 1; ok && c < end; c++)
			ok = isxdigit((unsigned char)*c) || *c == ':' || *c == '.';
		h = ok ? end + 1 : h;
	} else {
		while (ok && h < v + n && *h != ':') {
			ok = isalnum((unsigned char)*h) || *h == '.' || *h == '-';
			h++;
		}
	}
	if (ok && h < v + n) {
		char *end = NULL;
		unsigned long port = *h == ':' && isdigit((unsigned char)h[1]) ? strtoul(h + 1, &end, 10) : 0;
		ok = port >= 1 && port <= 65535 && end == v + n;
	}
	if (!ok) {
		snprintf(err, errlen, "use http://HOST[:PORT] or https://HOST[:PORT], without a path");
		return KD_EINVAL;
	}
	*out = kd_strndup(v, n);
	return 0;
}

static bool node_name_valid(const char *s)
{
	size_t n = strlen(s);
	bool ok = n >= 1 && n <= 63;
	for (size_t i = 0; i < n && ok; i++)
		ok = isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '-';
	return ok;
}

/* How a setting's text becomes its field. */
enum kind { K_INT, K_UINT, K_KB, K_U64, K_LISTEN, K_CONSENT, K_NETS, K_STORAGE, K_ENDPOINT,
            K_REGION, K_NODE, K_DATABASE, K_DELIVERY, K_URL, K_TEXT, K_BOOL,
            K_SECRET, K_AUDIT_MONTHS /* audit_months (issue 14) */,
            K_SMTP_URL, K_WEEKDAY /* issue 16: mail */ };

static const struct setting {
	const char *key;
	enum kind kind;
	size_t off;      /* of the field in struct kd_config */
	long lo, hi;     /* for numbers */
} SETTINGS[] = {
#define S(key, kind, field, lo, hi) {key, kind, offsetof(struct kd_config, field), lo, hi}
	S("listen", K_LISTEN, listen_host, 0, 0),
	S("http_threads", K_INT, http_threads, 1, 64),
	S("connection_timeout", K_UINT, connection_timeout, 1, 3600),
	S("max_body_kb", K_KB, max_body, 1, 64 * 1024),
	S("workers", K_INT, workers, 1, 64),
	S("default_consent", K_CONSENT, default_consent, 0, 0),
	S("job_timeout", K_UINT, job_timeout, 1, 24 * 3600),
	S("job_memory_mb", K_U64, job_memory_mb, 256, 1024 * 1024),
	S("upload_max_mb", K_U64, upload_max_mb, 1, 1024L * 1024),
	S("upload_expiry_hours", K_UINT, upload_expiry_hours, 1, 24 * 365),
	S("trusted_proxies", K_NETS, trusted_proxies, 0, 0),
	S("connections_per_address", K_UINT, conns_per_address, 1, 100000),
	S("header_timeout", K_UINT, header_timeout, 1, 600),
	S("disk_reserve_mb", K_U64, disk_reserve_mb, 0, 1024L * 1024 * 1024),
	S("uploads_per_person", K_UINT, uploads_per_person, 1, 10000),
	S("notes_per_day", K_UINT, notes_per_day, 1, 10000),
	S("answer_cache_mb", K_UINT, answer_cache_mb, 0, 64 * 1024),
	S("storage", K_STORAGE, storage, 0, 0),
	S("s3_endpoint", K_ENDPOINT, s3_endpoint, 0, 0),
	S("s3_region", K_REGION, s3_region, 0, 0),
	S("media_delivery", K_DELIVERY, media_proxy, 0, 0),
	S("node_name", K_NODE, node_name, 0, 0),
	S("database", K_DATABASE, db_path, 0, 0),
	S("job_lease_seconds", K_UINT, job_lease_s, 2, 3600),
	S("public_url", K_URL, public_url, 0, 0),
	S("oidc_issuer", K_URL, oidc_issuer, 0, 0),
	S("oidc_client_id", K_TEXT, oidc_client_id, 0, 0),
	S("oidc_client_secret", K_TEXT, oidc_client_secret, 0, 0),
	S("oidc_client_secret_file", K_TEXT, oidc_client_secret_file, 0, 0),
	S("oidc_name", K_TEXT, oidc_name, 0, 0),
	S("oidc_domains", K_TEXT, oidc_domains, 0, 0),
	S("password_login", K_BOOL, password_login, 0, 0),
	S("metrics_token", K_SECRET, metrics_token, 0, 0),
	S("audit_months", K_AUDIT_MONTHS, audit_months, 0, 0),
	S("retention_months", K_UINT, retention_months, 0, 1200), /* retention: 0 is off */
	S("require_captions", K_BOOL, require_captions, 0, 0), /* issue 15: captions */
	/* issue 15: transcription (src/jobs/transcribe.c) */
	S("transcribe_command", K_TEXT, transcribe_command, 0, 0),
	S("transcribe_timeout", K_UINT, transcribe_timeout, 10, 24 * 3600),
	/* issue 16: mail (src/mail/; check_mail below) */
	S("smtp_url", K_SMTP_URL, smtp_url, 0, 0),
	S("smtp_user", K_TEXT, smtp_user, 0, 0),
	S("smtp_password_file", K_TEXT, smtp_password_file, 0, 0),
	S("smtp_ca_file", K_TEXT, smtp_ca_file, 0, 0),
	S("mail_from", K_TEXT, mail_from, 0, 0),
	S("digest_day", K_WEEKDAY, digest_day, 0, 0),
#undef S
};
#define N_SETTINGS (sizeof SETTINGS / sizeof *SETTINGS)

/* Store val into the setting's field.  Returns 0 or KD_EINVAL (err may
 * say more than "bad value"). */
static int apply(struct kd_config *cfg, const struct setting *st, const char *val, char *err,
                 size_t errlen)
{
	char *field = (char *)cfg + st->off;
	long n;
	switch (st->kind) {
	case K_INT:
	case K_UINT:
	case K_KB:
	case K_U64:
		if (parse_int(val, st->lo, st->hi, &n) < 0)
			return KD_EINVAL;
		if (st->kind == K_INT)
			*(int *)(void *)field = (int)n;
		else if (st->kind == K_UINT)
			*(unsigned *)(void *)field = (unsigned)n;
		else if (st->kind == K_KB)
			*(size_t *)(void *)field = (size_t)n * 1024;
		else
			*(uint64_t *)(void *)field = (uint64_t)n;
		return 0;
	case K_LISTEN: {
		char *host;
		unsigned port;
		if (kd_config_parse_listen(val, &host, &port) < 0)
			return KD_EINVAL;
		free(cfg->listen_host);
		cfg->listen_host = host;
		cfg->listen_port = port;
		return 0;
	}
	case K_CONSENT:
		if (strcmp(val, "on-file") && strcmp(val, "pending"))
			return KD_EINVAL;
		free(cfg->default_consent);
		cfg->default_consent = kd_strdup(val);
		return 0;
	case K_NETS: {
		struct kd_netlist l;
		if (kd_netlist_parse(&l, val, err, errlen) < 0)
			return KD_EINVAL;
		kd_netlist_free(&cfg->trusted_proxies);
		cfg->trusted_proxies = l;
		return 0;
	}
	case K_STORAGE: {
		char *bucket, *prefix;
		if (kd_config_parse_storage(val, &bucket, &prefix, err, errlen) < 0)
			return KD_EINVAL;
		free(bucket);
		free(prefix);
		free(cfg->storage);
		cfg->storage = kd_strdup(val);
		return 0;
	}
	case K_ENDPOINT: {
		char *url;
		if (parse_endpoint(val, &url, err, errlen) < 0)
			return KD_EINVAL;
		free(cfg->s3_endpoint);
		cfg->s3_endpoint = url;
		return 0;
	}
	case K_REGION: {
		size_t len = strlen(val);
		bool ok = len >= 1 && len <= 32;
		for (size_t i = 0; i < len && ok; i++)
			ok = lower_alnum(val[i]) || val[i] == '-';
		if (!ok) {
			snprintf(err, errlen, "a region is a-z, 0-9 and '-', such as us-east-1");
			return KD_EINVAL;
		}
		free(cfg->s3_region);
		cfg->s3_region = kd_strdup(val);
		return 0;
	}
	case K_DELIVERY:
		if (strcmp(val, "redirect") && strcmp(val, "proxy")) {
			snprintf(err, errlen, "media_delivery is redirect or proxy");
			return KD_EINVAL;
		}
		cfg->media_proxy = !strcmp(val, "proxy");
		return 0;
	case K_DATABASE:
		if (strncmp(val, "postgresql://", 13) && strncmp(val, "postgres://", 11)) {
			snprintf(err, errlen, "database is a postgresql://USER@HOST/DBNAME URL (leave it "
			         "out to keep the catalogue in the data folder)");
			return KD_EINVAL;
		}
		free(cfg->db_path);
		cfg->db_path = kd_strdup(val);
		return 0;
	case K_URL: {
		/* a base address: scheme and host, maybe a path; no query, no
		 * fragment, no user; kept without its trailing '/' */
		const char *h = !strncmp(val, "https://", 8) ? val + 8
		                : !strncmp(val, "http://", 7) ? val + 7 : NULL;
		size_t len = strlen(val);
		bool ok = h && *h && *h != '/' && len <= 500;
		for (const char *c = val; ok && *c; c++)
			ok = (unsigned char)*c > 0x20 && *c != 0x7f && *c != '?' && *c != '#' &&
			     *c != '@' && *c != '"' && *c != '<' && *c != '>' && *c != '\\';
		if (!ok) {
			snprintf(err, errlen, "use an https:// address such as https://kindling.example.org "
			         "(no query, no user name)");
			return KD_EINVAL;
		}
		while (len > 0 && val[len - 1] == '/')
			len--;
		char **slot = (char **)(void *)field;
		free(*slot);
		*slot = kd_strndup(val, len);
		return 0;
	}
	case K_TEXT: {
		size_t len = strlen(val);
		bool ok = len >= 1 && len <= 1000;
		for (size_t i = 0; i < len && ok; i++)
			ok = (unsigned char)val[i] >= 0x20 && val[i] != 0x7f;
		if (!ok) {
			snprintf(err, errlen, "a value of 1 to 1000 characters, on one line");
			return KD_EINVAL;
		}
		char **slot = (char **)(void *)field;
		free(*slot);
		*slot = kd_strdup(val);
		return 0;
	}
	case K_BOOL:
		if (!strcmp(val, "true") || !strcmp(val, "yes") || !strcmp(val, "on"))
			*(bool *)(void *)field = true;
		else if (!strcmp(val, "false") || !strcmp(val, "no") || !strcmp(val, "off"))
			*(bool *)(void *)field = false;
		else {
			snprintf(err, errlen, "use true or false");
			return KD_EINVAL;
		}
		return 0;
	case K_AUDIT_MONTHS:
		/* the catalogue refuses to delete entries younger than a year */
		if (parse_int(val, 12, 1200, &n) < 0) {
			snprintf(err, errlen, "the audit trail is kept at least 12 months (entries "
			         "younger than a year are never deleted) and at most 1200; the default "
			         "is 84, seven years");
			return KD_EINVAL;
		}
		*(unsigned *)(void *)field = (unsigned)n;
		return 0;
	case K_SECRET: {
		/* a bearer token: long enough not to be guessed, and sent as it is */
		size_t len = strlen(val);
		bool ok = len >= 16 && len <= 200;
		for (size_t i = 0; i < len && ok; i++)
			ok = (unsigned char)val[i] > 0x20 && val[i] != 0x7f;
		if (!ok) {
			snprintf(err, errlen, "a secret of 16 to 200 characters without spaces (make one "
			         "with: head -c 24 /dev/urandom | base64)");
			return KD_EINVAL;
		}
		char **slot = (char **)(void *)field;
		free(*slot);
		*slot = kd_strdup(val);
		return 0;
	}
	case K_SMTP_URL: { /* issue 16: mail */
		/* smtp(s)://HOST[:PORT][/]: the credentials have settings of their
		 * own (the password in a file, never in this one) */
		const char *h = !strncmp(val, "smtp://", 7) ? val + 7 : !strncmp(val, "smtps://", 8) ? val + 8 : NULL;
		size_t len = strlen(val);
		if (len > 0 && val[len - 1] == '/')
			len--;
		bool ok = h && h < val + len && len <= 300;
		for (const char *c = h; ok && c < val + len; c++)
			ok = isalnum((unsigned char)*c) || strchr(".-:[]", *c);
		if (!ok) {
			snprintf(err, errlen, "use smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT] "
			         "(TLS from the start), without a user or path: the account goes in "
			         "smtp_user and smtp_password_file");
			return KD_EINVAL;
		}
		free(cfg->smtp_url);
		cfg->smtp_url = kd_strndup(val, len);
		return 0;
	}
	case K_WEEKDAY: {
		static const char *const days[] = {"sunday", "monday", "tuesday", "wednesday",
		                                   "thursday", "friday", "saturday"};
		for (int d = 0; d < 7; d++)
			if (!strcasecmp(val, days[d])) {
				*(int *)(void *)field = d;
				return 0;
			}
		snprintf(err, errlen, "a day of the week: monday, tuesday, ... sunday");
		return KD_EINVAL;
	}
	case K_NODE:
		if (!node_name_valid(val)) {
			snprintf(err, errlen, "a node name is 1 to 63 of A-Z a-z 0-9 . _ -");
			return KD_EINVAL;
		}
		free(cfg->node_name);
		cfg->node_name = kd_strdup(val);
		return 0;
	}
	return KD_EINVAL;
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
		const struct setting *st = NULL;
		for (size_t i = 0; i < N_SETTINGS && !st; i++)
			if (!strcmp(key, SETTINGS[i].key))
				st = &SETTINGS[i];
		if (!st) {
			char known[1024] = "";
			for (size_t i = 0; i < N_SETTINGS; i++)
				snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
				         i ? ", " : "", SETTINGS[i].key);
			snprintf(err, errlen, "%s line %d: unknown setting '%.40s' (known: %s)",
			         CONFIG_FILE, lineno, key, known);
			rc = KD_EINVAL;
			break;
		}
		char why[KD_ERRMSG_MAX] = "";
		if ((rc = apply(cfg, st, val, why, sizeof why)) < 0) {
			if (st->lo || st->hi)
				snprintf(err, errlen, "%s line %d: bad value '%.60s' for %s (a whole number "
				         "from %ld to %ld)", CONFIG_FILE, lineno, val, key, st->lo, st->hi);
			else
				snprintf(err, errlen, "%s line %d: bad value '%.60s' for %s%s%s", CONFIG_FILE,
				         lineno, val, key, *why ? ": " : "", why);
			break;
		}
	}
	free(copy);
	return rc;
}

/* The single sign-on settings hang together: a provider needs its client
 * and the address people come back to, and turning passwords off without
 * one would leave nobody a way in.  The secret's file is read here, once. */
static int check_sign_in(struct kd_config *cfg, char *err, size_t errlen)
{
	if (!cfg->oidc_name)
		cfg->oidc_name = kd_strdup("your district account");
	if (!cfg->oidc_issuer) {
		if (!cfg->password_login) {
			snprintf(err, errlen, "%s: password_login = false needs oidc_issuer (and its "
			         "client) set, or nobody could sign in in a browser", CONFIG_FILE);
			return KD_EINVAL;
		}
		return 0;
	}
	if (cfg->oidc_client_secret_file) {
		char *text = NULL, *path = cfg->oidc_client_secret_file[0] == '/'
		                           ? kd_strdup(cfg->oidc_client_secret_file)
		                           : kd_path_join(cfg->data_dir, cfg->oidc_client_secret_file);
		int rc = kd_read_file(path, 4096, &text, NULL);
		if (rc < 0) {
			snprintf(err, errlen, "%s: cannot read oidc_client_secret_file %s: %s", CONFIG_FILE,
			         path, rc == KD_ETOOBIG ? "larger than 4 KiB" : strerror(errno));
			free(path);
			return KD_EINVAL;
		}
		free(path);
		size_t n = strlen(text);
		while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
			text[--n] = '\0';
		free(cfg->oidc_client_secret);
		cfg->oidc_client_secret = text;
	}
	const char *missing = !cfg->oidc_client_id ? "oidc_client_id"
	                      : !cfg->oidc_client_secret || !*cfg->oidc_client_secret
	                      ? "oidc_client_secret (or oidc_client_secret_file)"
	                      : !cfg->public_url ? "public_url" : NULL;
	if (missing) {
		snprintf(err, errlen, "%s: oidc_issuer is set but %s is not: single sign-on needs the "
		         "issuer, the client id and secret the provider gave, and public_url", CONFIG_FILE,
		         missing);
		return KD_EINVAL;
	}
	return 0;
}

/* issue 16: mail.  Mail needs a place its links lead to and a sender's
 * address; an account needs its password, read here from its file. */
static int check_mail(struct kd_config *cfg, char *err, size_t errlen)
{
	if (!cfg->smtp_url)
		return 0;
	const char *missing = !cfg->public_url ? "public_url (the address the links in mail lead to)"
	                      : !cfg->mail_from ? "mail_from (the address mail comes from)"
	                      : cfg->smtp_user && !cfg->smtp_password_file ? "smtp_password_file"
	                      : !cfg->smtp_user && cfg->smtp_password_file ? "smtp_user" : NULL;
	if (missing) {
		snprintf(err, errlen, "%s: smtp_url is set but %s is not: set it, or leave smtp_url out "
		         "to send no mail", CONFIG_FILE, missing);
		return KD_EINVAL;
	}
	const char *at = strchr(cfg->mail_from, '@'), *lt = strrchr(cfg->mail_from, '<');
	size_t n = strlen(cfg->mail_from);
	if (!at || (lt && (cfg->mail_from[n - 1] != '>' || at < lt)) || strchr(at + 1, '@')) {
		snprintf(err, errlen, "%s: mail_from '%.100s' is not an address: write "
		         "kindling@district.org or kindling <kindling@district.org>", CONFIG_FILE,
		         cfg->mail_from);
		return KD_EINVAL;
	}
	char *path;
	if (cfg->smtp_ca_file) {
		path = cfg->smtp_ca_file[0] == '/' ? kd_strdup(cfg->smtp_ca_file)
		                                   : kd_path_join(cfg->data_dir, cfg->smtp_ca_file);
		if (access(path, R_OK) < 0) {
			snprintf(err, errlen, "%s: cannot read smtp_ca_file %s: %s", CONFIG_FILE, path,
			         strerror(errno));
			free(path);
			return KD_EINVAL;
		}
		free(cfg->smtp_ca_file);
		cfg->smtp_ca_file = path;
	}
	if (cfg->smtp_password_file) {
		char *text = NULL;
		path = cfg->smtp_password_file[0] == '/' ? kd_strdup(cfg->smtp_password_file)
		                                         : kd_path_join(cfg->data_dir, cfg->smtp_password_file);
		int rc = kd_read_file(path, 4096, &text, NULL);
		if (rc < 0) {
			snprintf(err, errlen, "%s: cannot read smtp_password_file %s: %s", CONFIG_FILE, path,
			         rc == KD_ETOOBIG ? "larger than 4 KiB" : strerror(errno));
			free(path);
			return KD_EINVAL;
		}
		free(path);
		n = strlen(text);
		while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
			text[--n] = '\0';
		free(cfg->smtp_password);
		cfg->smtp_password = text;
	}
	return 0;
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
	cfg->conns_per_address = 64;
	cfg->header_timeout = 10;
	cfg->disk_reserve_mb = 1024;
	cfg->uploads_per_person = 20;
	cfg->notes_per_day = 30;
	cfg->answer_cache_mb = 28;
	cfg->s3_region = kd_strdup("us-east-1");
	cfg->job_lease_s = 60;
	cfg->password_login = true;
	cfg->audit_months = 84;
	cfg->transcribe_timeout = 600; /* issue 15: transcription */
	cfg->digest_day = 1; /* issue 16: mail: Monday */

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
	/* (the environment wins, as for the node: one config file, several
	 * nodes or test runs) */
	const char *database = getenv("KINDLING_DATABASE");
	if (database && *database) {
		char why[160] = "";
		const struct setting *st = NULL;
		for (size_t i = 0; i < N_SETTINGS && !st; i++)
			if (!strcmp(SETTINGS[i].key, "database"))
				st = &SETTINGS[i];
		if (apply(cfg, st, database, why, sizeof why) < 0) {
			snprintf(err, errlen, "bad KINDLING_DATABASE: %s", why);
			return KD_EINVAL;
		}
	}
	const char *node = getenv("KINDLING_NODE");
	if (node && *node) {
		if (!node_name_valid(node)) {
			snprintf(err, errlen, "bad KINDLING_NODE '%.80s': a node name is 1 to 63 of "
			         "A-Z a-z 0-9 . _ -", node);
			return KD_EINVAL;
		}
		free(cfg->node_name);
		cfg->node_name = kd_strdup(node);
	}
	if (!cfg->node_name) {
		char host[256] = "";
		if (gethostname(host, sizeof host - 1) < 0 || !node_name_valid(host))
			snprintf(host, sizeof host, "node");
		cfg->node_name = kd_strdup(host);
	}

	if ((rc = check_sign_in(cfg, err, errlen)) < 0)
		return rc;
	if ((rc = check_mail(cfg, err, errlen)) < 0) /* issue 16: mail */
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
	kd_netlist_free(&cfg->trusted_proxies);
	free(cfg->storage);
	free(cfg->s3_endpoint);
	free(cfg->s3_region);
	free(cfg->node_name);
	free(cfg->public_url);
	free(cfg->oidc_issuer);
	free(cfg->oidc_client_id);
	if (cfg->oidc_client_secret)
		memset(cfg->oidc_client_secret, 0, strlen(cfg->oidc_client_secret));
	free(cfg->oidc_client_secret);
	free(cfg->oidc_client_secret_file);
	free(cfg->oidc_name);
	free(cfg->oidc_domains);
	if (cfg->metrics_token)
		memset(cfg->metrics_token, 0, strlen(cfg->metrics_token));
	free(cfg->metrics_token);
	free(cfg->transcribe_command); /* issue 15: transcription */
	/* issue 16: mail */
	free(cfg->smtp_url);
	free(cfg->smtp_user);
	if (cfg->smtp_password)
		memset(cfg->smtp_password, 0, strlen(cfg->smtp_password));
	free(cfg->smtp_password);
	free(cfg->smtp_password_file);
	free(cfg->smtp_ca_file);
	free(cfg->mail_from);
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
