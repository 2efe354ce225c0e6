/* sigv4.c - AWS Signature Version 4 for headers and presigned URLs (see
 * sigv4.h). */
#include "sigv4.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/mem.h"
#include "kindling/sha256.h"

/* A request has a handful of headers and parameters; these bounds only
 * keep a mistaken caller from making the sort quadratic in anything big. */
#define HEADERS_MAX 32
#define PARAMS_MAX 64

void sigv4_set_time(struct sigv4_scope *scope, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(scope->date, sizeof scope->date, "%Y%m%dT%H%M%SZ", &tm);
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int sigv4_encode(struct kd_buf *b, const char *s, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int rc;
		if (unreserved(c) || (keep_slash && c == '/')) {
			rc = kd_buf_putc(b, (char)c);
		} else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			rc = kd_buf_append(b, esc, 3);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One query parameter, encoded. */
struct param {
	char *name;
	char *value;
};

static int cmp_param(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

static char *encoded(const char *s)
{
	struct kd_buf b = KD_BUF_INIT(SIGV4_TEXT_MAX);
	if (sigv4_encode(&b, s, strlen(s), false) < 0) {
		kd_buf_release(&b);
		return NULL;
	}
	return kd_buf_take(&b, NULL);
}

int sigv4_canonical_query(const struct sigv4_kv *params, size_t n, struct kd_buf *out)
{
	if (n > PARAMS_MAX)
		return KD_EINVAL;
	struct param *p = kd_calloc(n ? n : 1, sizeof *p);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!params[i].name) {
			rc = KD_EINVAL;
			break;
		}
		p[i].name = encoded(params[i].name);
		p[i].value = encoded(params[i].value ? params[i].value : "");
		if (!p[i].name || !p[i].value)
			rc = KD_ETOOBIG;
	}
	if (rc == 0) {
		qsort(p, n, sizeof *p, cmp_param);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = kd_buf_printf(out, "%s%s=%s", i ? "&" : "", p[i].name, p[i].value);
	}
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
	return rc;
}

/* A header to sign: its name in lower case, its values trimmed, inner runs
 * of blanks made one space, several of the same name joined by ','. */
struct header {
	char name[64];
	struct kd_buf value;
};

static int cmp_header(const void *a, const void *b)
{
	return strcmp(((const struct header *)a)->name, ((const struct header *)b)->name);
}

static bool token_char(unsigned char c)
{
	return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?={}", c);
}

static int add_value(struct kd_buf *b, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	bool blank = false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (c == '\r' || c == '\n')
			return KD_EINVAL; /* header injection, not a value */
		if (c == ' ' || c == '\t') {
			blank = true;
			continue;
		}
		if (blank && kd_buf_putc(b, ' ') < 0)
			return KD_ETOOBIG;
		blank = false;
		if (kd_buf_putc(b, c) < 0)
			return KD_ETOOBIG;
	}
	return 0;
}

/* The sorted, merged headers of r; *n of them.  Free with free_headers. */
static int gather_headers(const struct sigv4_request *r, struct header *h, size_t *n)
{
	*n = 0;
	if (r->nheaders > HEADERS_MAX)
		return KD_EINVAL;
	for (size_t i = 0; i < r->nheaders; i++) {
		const char *name = r->headers[i].name, *value = r->headers[i].value;
		size_t len = name ? strlen(name) : 0;
		if (!value || len == 0 || len >= sizeof h->name)
			return KD_EINVAL;
		char lower[64];
		for (size_t j = 0; j <= len; j++) {
			unsigned char c = (unsigned char)name[j];
			if (j < len && !token_char(c))
				return KD_EINVAL;
			lower[j] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		struct header *at = NULL;
		for (size_t j = 0; j < *n && !at; j++)
			if (!strcmp(h[j].name, lower))
				at = &h[j];
		if (at) {
			if (kd_buf_putc(&at->value, ',') < 0)
				return KD_ETOOBIG;
		} else {
			at = &h[(*n)++];
			memcpy(at->name, lower, len + 1);
			kd_buf_init(&at->value, SIGV4_TEXT_MAX);
		}
		int rc = add_value(&at->value, value);
		if (rc < 0)
			return rc;
	}
	qsort(h, *n, sizeof *h, cmp_header);
	for (size_t j = 0; j < *n; j++)
		if (!strcmp(h[j].name, "host"))
			return 0;
	return KD_EINVAL;
}

static void free_headers(struct header *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kd_buf_release(&h[i].value);
}

int sigv4_canonical_request(const struct sigv4_request *r, struct kd_buf *out,
                            struct kd_buf *signed_headers)
{
	if (!r->method || !r->path || !r->payload_hash)
		return KD_EINVAL;
	struct header h[HEADERS_MAX];
	size_t n = 0;
	int rc = gather_headers(r, h, &n);
	if (rc == 0)
		rc = kd_buf_printf(out, "%s\n", r->method);
	if (rc == 0)
		rc = *r->path ? sigv4_encode(out, r->path, strlen(r->path), true)
		              : kd_buf_putc(out, '/');
	if (rc == 0)
		rc = kd_buf_putc(out, '\n');
	if (rc == 0)
		rc = sigv4_canonical_query(r->query, r->nquery, out);
	if (rc == 0)
		rc = kd_buf_putc(out, '\n');
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = kd_buf_printf(out, "%s:%s\n", h[i].name, kd_buf_str(&h[i].value));
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = kd_buf_printf(signed_headers, "%s%s", i ? ";" : "", h[i].name);
	if (rc == 0)
		rc = kd_buf_printf(out, "\n%s\n%s", kd_buf_str(signed_headers), r->payload_hash);
	free_headers(h, n);
	return rc < 0 ? rc : 0;
}

static void hmac(unsigned char out[32], const void *key, size_t klen, const char *msg)
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, klen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

/* The 64 hex digits of the signature of canonical (a canonical request)
 * under the scope. */
static int signature(const char *canonical, const struct sigv4_creds *c,
                     const struct sigv4_scope *scope, char sig[65])
{
	char hash[KD_SHA256_HEX];
	struct kd_sha256 sh;
	if (kd_sha256_init(&sh) < 0)
		return KD_ENOMEM;
	kd_sha256_update(&sh, canonical, strlen(canonical));
	kd_sha256_final(&sh, hash);

	char day[9];
	memcpy(day, scope->date, 8);
	day[8] = '\0';
	char *to_sign = kd_asprintf("AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", scope->date,
	                            day, scope->region, scope->service, hash);
	/* The secret is kept only as long as the first HMAC needs it. */
	char *secret = kd_asprintf("AWS4%s", c->secret_key);
	unsigned char k[32];
	hmac(k, secret, strlen(secret), day);
	sodium_memzero(secret, strlen(secret));
	free(secret);
	hmac(k, k, sizeof k, scope->region);
	hmac(k, k, sizeof k, scope->service);
	hmac(k, k, sizeof k, "aws4_request");
	unsigned char mac[32];
	hmac(mac, k, sizeof k, to_sign);
	sodium_memzero(k, sizeof k);
	free(to_sign);
	sodium_bin2hex(sig, 65, mac, sizeof mac);
	return 0;
}

static bool scope_ok(const struct sigv4_creds *c, const struct sigv4_scope *scope)
{
	return c->access_key && c->secret_key && scope->region && scope->service &&
	       strlen(scope->date) == SIGV4_DATE_LEN - 1 && *c->access_key &&
	       !strpbrk(c->access_key, "/,= \r\n") && !strpbrk(scope->region, "/") &&
	       !strpbrk(scope->service, "/");
}

int sigv4_authorization(const struct sigv4_request *r, const struct sigv4_creds *c,
                        const struct sigv4_scope *scope, struct kd_buf *out)
{
	if (!scope_ok(c, scope))
		return KD_EINVAL;
	if (sodium_init() < 0)
		return KD_ENOMEM;
	struct kd_buf canon = KD_BUF_INIT(SIGV4_TEXT_MAX), names = KD_BUF_INIT(SIGV4_TEXT_MAX);
	char sig[65];
	int rc = sigv4_canonical_request(r, &canon, &names);
	if (rc == 0)
		rc = signature(kd_buf_str(&canon), c, scope, sig);
	if (rc == 0)
		rc = kd_buf_printf(out,
		                   "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, "
		                   "SignedHeaders=%s, Signature=%s",
		                   c->access_key, scope->date, scope->region, scope->service,
		                   kd_buf_str(&names), sig);
	kd_buf_release(&canon);
	kd_buf_release(&names);
	return rc;
}

int sigv4_presign_query(const struct sigv4_request *r, const struct sigv4_creds *c,
                        const struct sigv4_scope *scope, unsigned expires,
                        struct kd_buf *out)
{
	if (!scope_ok(c, scope) || r->nquery > PARAMS_MAX - 6)
		return KD_EINVAL;
	if (sodium_init() < 0)
		return KD_ENOMEM;
	/* The signed-header names go into the query, which is itself signed:
	 * work them out first from a throw-away canonical request. */
	struct kd_buf canon = KD_BUF_INIT(SIGV4_TEXT_MAX), names = KD_BUF_INIT(SIGV4_TEXT_MAX);
	struct sigv4_request q = *r;
	q.payload_hash = SIGV4_UNSIGNED;
	int rc = sigv4_canonical_request(&q, &canon, &names);
	if (rc < 0)
		goto out;

	struct sigv4_kv params[PARAMS_MAX];
	size_t n = 0;
	for (size_t i = 0; i < r->nquery; i++)
		params[n++] = r->query[i];
	char credential[512], secs[16];
	if (snprintf(credential, sizeof credential, "%s/%.8s/%s/%s/aws4_request", c->access_key,
	             scope->date, scope->region, scope->service) >= (int)sizeof credential) {
		rc = KD_EINVAL;
		goto out;
	}
	snprintf(secs, sizeof secs, "%u", expires);
	params[n++] = (struct sigv4_kv){"X-Amz-Algorithm", "AWS4-HMAC-SHA256"};
	params[n++] = (struct sigv4_kv){"X-Amz-Credential", credential};
	params[n++] = (struct sigv4_kv){"X-Amz-Date", scope->date};
	params[n++] = (struct sigv4_kv){"X-Amz-Expires", secs};
	if (c->session_token && *c->session_token)
		params[n++] = (struct sigv4_kv){"X-Amz-Security-Token", c->session_token};
	char *signed_names = kd_buf_take(&names, NULL);
	params[n++] = (struct sigv4_kv){"X-Amz-SignedHeaders", signed_names};

	struct kd_buf query = KD_BUF_INIT(SIGV4_TEXT_MAX);
	rc = sigv4_canonical_query(params, n, &query);
	kd_buf_reset(&canon);
	char sig[65];
	if (rc == 0) {
		/* the real canonical request: the same, with the full query */
		q.query = params;
		q.nquery = n;
		rc = sigv4_canonical_request(&q, &canon, &names);
	}
	if (rc == 0)
		rc = signature(kd_buf_str(&canon), c, scope, sig);
	if (rc == 0)
		rc = kd_buf_printf(out, "%s&X-Amz-Signature=%s", kd_buf_str(&query), sig);
	kd_buf_release(&query);
	free(signed_names);
out:
	kd_buf_release(&canon);
	kd_buf_release(&names);
	return rc;
}
