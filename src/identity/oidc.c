/* oidc.c - the district's identity provider: discovery, its keys, and the
 * sign-in's two legs, begin and finish (see oidc.h).  The token's checks
 * are in oidc_token.c, the sign-ins under way in oidc_login.c.
 *
 * Every request to the provider is bounded: 10 s, 1 MiB, no redirects,
 * HTTPS with the certificate checked as libcurl does by default (plain
 * http only to a loopback address, for a provider on this machine). */
#include "kindling/oidc.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kindling/buf.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

#define HTTP_MAX (1 << 20)
#define HTTP_TIMEOUT_S 10L
#define NEXT_MAX 1024
#define SECRET_B64 44 /* 32 random bytes in base64url, and the NUL */

struct oidc_provider {
	char *issuer, *client_id, *client_secret, *domains;
	pthread_mutex_t lock; /* over what follows: what was fetched */
	char *authorization_endpoint, *token_endpoint, *jwks_uri; /* NULL until discovered */
	char *jwks;     /* the JSON text of the keys, NULL until fetched */
	int64_t refetch_at; /* when they were last fetched again (0: never) */
};

/* https://..., or http:// to this machine only: anything else would send
 * the client secret, or take keys, over a network in the clear. */
static bool url_ok(const char *url)
{
	const char *host;
	if (!strncmp(url, "https://", 8))
		host = url + 8;
	else if (!strncmp(url, "http://", 7))
		host = url + 7;
	else
		return false;
	size_t n = strcspn(host, "/?#");
	if (n == 0 || memchr(host, '@', n) || strpbrk(url, " \t\r\n"))
		return false; /* (userinfo would make the host another than it looks) */
	if (host == url + 8)
		return true;
	size_t h = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/?#");
	if (host[h] && !strchr(":/?#", host[h]))
		return false;
	return (h == 9 && !strncmp(host, "127.0.0.1", 9)) || (h == 5 && !strncmp(host, "[::1]", 5)) ||
	       (h == 9 && !strncmp(host, "localhost", 9));
}

int oidc_provider_new(const struct oidc_settings *s, struct oidc_provider **out, char *err,
                      size_t errlen)
{
	*out = NULL;
	if (!s->issuer || !url_ok(s->issuer) || strpbrk(s->issuer, "?#")) {
		snprintf(err, errlen, "oidc_issuer must be the provider's https:// URL, without ? or # "
		         "(http:// only for 127.0.0.1, ::1 or localhost), not '%.200s'",
		         s->issuer ? s->issuer : "");
		return KD_EINVAL;
	}
	if (!s->client_id || !*s->client_id || !s->client_secret || !*s->client_secret) {
		snprintf(err, errlen, "the identity provider needs oidc_client_id and oidc_client_secret "
		         "(or oidc_client_secret_file): copy them from the provider's console");
		return KD_EINVAL;
	}
	if (strpbrk(s->client_id, "\r\n") || strpbrk(s->client_secret, "\r\n")) {
		snprintf(err, errlen, "oidc_client_id or oidc_client_secret holds a line break: check them");
		return KD_EINVAL;
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		snprintf(err, errlen, "cannot start libsodium or libcurl");
		return KD_ENOMEM;
	}
	struct oidc_provider *p = kd_calloc(1, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	p->issuer = kd_strdup(s->issuer);
	p->client_id = kd_strdup(s->client_id);
	p->client_secret = kd_strdup(s->client_secret);
	p->domains = kd_strdup(s->domains ? s->domains : "");
	*out = p;
	return 0;
}

void oidc_provider_free(struct oidc_provider *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->issuer);
	free(p->client_id);
	sodium_memzero(p->client_secret, strlen(p->client_secret));
	free(p->client_secret);
	free(p->domains);
	free(p->authorization_endpoint);
	free(p->token_endpoint);
	free(p->jwks_uri);
	free(p->jwks);
	free(p);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	return kd_buf_append(arg, data, size * n) == 0 ? size * n : 0;
}

/* One request: a GET, or a POST of a form (with an Authorization header).
 * Returns 0 with the answer's status and body, or KD_EIO with err. */
static int http(const char *url, const char *form, const char *auth, long *status,
                struct kd_buf *body, char *err, size_t errlen)
{
	if (!url_ok(url)) {
		snprintf(err, errlen, "%.200s is not an https:// URL", url);
		return KD_EIO;
	}
	CURL *h = curl_easy_init();
	if (!h) {
		snprintf(err, errlen, "cannot start libcurl");
		return KD_EIO;
	}
	struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
	if (auth && headers)
		headers = curl_slist_append(headers, auth);
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE, (long)HTTP_MAX);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kindling");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	if (form) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	}
	CURLcode c = headers ? curl_easy_perform(h) : CURLE_OUT_OF_MEMORY;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	if (c != CURLE_OK) {
		if (c == CURLE_WRITE_ERROR || c == CURLE_FILESIZE_EXCEEDED)
			snprintf(err, errlen, "%.200s answered over 1 MiB, more than any such answer", url);
		else
			snprintf(err, errlen, "cannot reach %.200s: %s", url,
			         *cerr ? cerr : curl_easy_strerror(c));
		return KD_EIO;
	}
	return 0;
}

/* GET a JSON object. */
static int get_json(const char *url, json_t **out, char *err, size_t errlen)
{
	struct kd_buf body = KD_BUF_INIT(HTTP_MAX);
	long status = 0;
	int rc = http(url, NULL, NULL, &status, &body, err, errlen);
	if (rc == 0 && status != 200) {
		snprintf(err, errlen, "%.200s answered HTTP %ld", url, status);
		rc = KD_EIO;
	}
	if (rc == 0) {
		json_error_t jerr;
		*out = json_loadb(kd_buf_str(&body), body.len, JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(*out)) {
			json_decref(*out);
			*out = NULL;
			snprintf(err, errlen, "%.200s did not answer a JSON object", url);
			rc = KD_EINVAL;
		}
	}
	kd_buf_release(&body);
	return rc;
}

/* Does the discovery document's list name (when it has one) hold value?
 * Absent lists mean the standard's defaults, which are what kindling uses. */
static bool offers(const json_t *doc, const char *name, const char *value)
{
	const json_t *list = json_object_get(doc, name), *v;
	size_t i;
	if (!json_is_array(list))
		return true;
	json_array_foreach(list, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), value))
			return true;
	return false;
}

int oidc_discover(struct oidc_provider *p, char *err, size_t errlen)
{
	pthread_mutex_lock(&p->lock);
	bool done = p->token_endpoint != NULL;
	pthread_mutex_unlock(&p->lock);
	if (done)
		return 0;
	size_t n = strlen(p->issuer);
	char *url = kd_asprintf("%s%s.well-known/openid-configuration", p->issuer,
	                        n && p->issuer[n - 1] == '/' ? "" : "/");
	json_t *doc = NULL;
	int rc = get_json(url, &doc, err, errlen);
	const char *iss = doc ? json_string_value(json_object_get(doc, "issuer")) : NULL;
	const char *names[3] = {"authorization_endpoint", "token_endpoint", "jwks_uri"};
	const char *urls[3] = {NULL, NULL, NULL};
	if (rc == 0 && (!iss || strcmp(iss, p->issuer) != 0)) {
		snprintf(err, errlen, "the identity provider at %.200s says its issuer is '%.200s': set "
		         "oidc_issuer to exactly that", url, iss ? iss : "");
		rc = KD_EINVAL;
	}
	for (int i = 0; i < 3 && rc == 0; i++) {
		urls[i] = json_string_value(json_object_get(doc, names[i]));
		if (!urls[i] || !url_ok(urls[i])) {
			snprintf(err, errlen, "the identity provider's %s is %s%.200s", names[i],
			         urls[i] ? "not an https:// URL: " : "missing", urls[i] ? urls[i] : "");
			rc = KD_EINVAL;
		}
	}
	if (rc == 0 && (!offers(doc, "token_endpoint_auth_methods_supported", "client_secret_basic") ||
	                !offers(doc, "code_challenge_methods_supported", "S256") ||
	                !offers(doc, "response_types_supported", "code"))) {
		snprintf(err, errlen, "the identity provider does not offer what kindling needs: the code "
		         "flow, PKCE with S256 and client_secret_basic");
		rc = KD_EINVAL;
	}
	if (rc == 0) {
		pthread_mutex_lock(&p->lock);
		if (!p->token_endpoint) { /* (another thread may have been first) */
			p->authorization_endpoint = kd_strdup(urls[0]);
			p->token_endpoint = kd_strdup(urls[1]);
			p->jwks_uri = kd_strdup(urls[2]);
		}
		pthread_mutex_unlock(&p->lock);
	} else {
		log_warn("oidc", "discovery failed: %s", err);
	}
	json_decref(doc);
	free(url);
	return rc;
}

/* The provider's keys as JSON text (a copy for the caller to free): the
 * ones kept, or fetched when there are none or refresh asks for newer
 * ones.  A refresh comes of a token naming a key we lack; one may happen
 * every OIDC_JWKS_MIN_REFETCH_S, counted from the last refresh (not the
 * first fetch, so that a rotation just after it is seen at once): more
 * often is KD_ELIMIT, and tokens naming unknown keys cannot make us
 * hammer the provider. */
static int jwks_get(struct oidc_provider *p, bool refresh, char **out, char *err, size_t errlen)
{
	*out = NULL;
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&p->lock);
	if (p->jwks && !refresh) {
		*out = kd_strdup(p->jwks);
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	if (p->jwks && p->refetch_at && now - p->refetch_at < OIDC_JWKS_MIN_REFETCH_S) {
		pthread_mutex_unlock(&p->lock);
		snprintf(err, errlen, "the provider's keys were fetched again under %d s ago",
		         OIDC_JWKS_MIN_REFETCH_S);
		return KD_ELIMIT;
	}
	if (p->jwks)
		p->refetch_at = now;
	char *uri = kd_strdup(p->jwks_uri);
	pthread_mutex_unlock(&p->lock);
	json_t *doc = NULL;
	int rc = get_json(uri, &doc, err, errlen);
	if (rc == 0 && !json_is_array(json_object_get(doc, "keys"))) {
		snprintf(err, errlen, "the provider's keys at %.200s are not a JWKS (no \"keys\" list)", uri);
		rc = KD_EINVAL;
	}
	if (rc == 0) {
		char *text = json_dumps(doc, JSON_COMPACT);
		pthread_mutex_lock(&p->lock);
		free(p->jwks);
		p->jwks = text ? text : kd_strdup("{\"keys\":[]}");
		*out = kd_strdup(p->jwks);
		pthread_mutex_unlock(&p->lock);
		log_info("oidc", "fetched the provider's keys from %s", uri);
	} else {
		log_warn("oidc", "cannot fetch the provider's keys: %s", err);
		rc = KD_EIO;
	}
	json_decref(doc);
	free(uri);
	return rc;
}

/* Percent-encode all but RFC 3986's unreserved characters: right in a
 * query, in a form body and in client_secret_basic's user and password. */
static int put_enc(struct kd_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;
	for (; *s && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			rc = kd_buf_putc(b, (char)c);
		else
			rc = kd_buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return rc;
}

static void random_b64(char out[SECRET_B64])
{
	unsigned char r[32];
	randombytes_buf(r, sizeof r);
	sodium_bin2base64(out, SECRET_B64, r, sizeof r, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* next is a page of this site: a path, never //host or /\host that a
 * browser would take for another site. */
static const char *safe_next(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > NEXT_MAX)
		return "/";
	for (const char *c = next; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "/";
	return next;
}

int oidc_begin_state(struct oidc_provider *p, struct kd_db *db, const char *redirect_uri,
                     const char *next, char **url, char *state, char *err, size_t errlen)
{
	*url = NULL;
	int rc = oidc_discover(p, err, errlen);
	if (rc != 0)
		return KD_EIO;
	char st[SECRET_B64], nonce[SECRET_B64], verifier[SECRET_B64], challenge[SECRET_B64];
	random_b64(st);
	random_b64(nonce);
	random_b64(verifier);
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
	sodium_bin2base64(challenge, sizeof challenge, h, sizeof h,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	rc = oidc_login_put(db, st, nonce, verifier, safe_next(next), (int64_t)time(NULL));
	if (rc != 0) {
		snprintf(err, errlen, "kindling could not store the sign-in: try again in a minute");
		return rc == KD_EINVAL ? KD_EDB : rc;
	}
	pthread_mutex_lock(&p->lock);
	char *endpoint = kd_strdup(p->authorization_endpoint);
	pthread_mutex_unlock(&p->lock);
	struct kd_buf u = KD_BUF_INIT(16384);
	rc = kd_buf_puts(&u, endpoint);
	rc = rc ? rc : kd_buf_puts(&u, strchr(endpoint, '?') ? "&" : "?");
	rc = rc ? rc : kd_buf_puts(&u, "response_type=code&scope=openid%20email%20profile&client_id=");
	rc = rc ? rc : put_enc(&u, p->client_id);
	rc = rc ? rc : kd_buf_puts(&u, "&redirect_uri=");
	rc = rc ? rc : put_enc(&u, redirect_uri);
	rc = rc ? rc : kd_buf_printf(&u, "&state=%s&nonce=%s&code_challenge=%s"
	                             "&code_challenge_method=S256", st, nonce, challenge);
	free(endpoint);
	sodium_memzero(verifier, sizeof verifier);
	if (rc != 0) {
		kd_buf_release(&u);
		snprintf(err, errlen, "the provider's authorization URL is too long");
		return KD_EIO;
	}
	if (state)
		memcpy(state, st, sizeof st);
	*url = kd_buf_take(&u, NULL);
	return 0;
}

int oidc_begin(struct oidc_provider *p, struct kd_db *db, const char *redirect_uri,
               const char *next, char **url, char *err, size_t errlen)
{
	return oidc_begin_state(p, db, redirect_uri, next, url, NULL, err, errlen);
}

/* The code for the tokens at the token endpoint; on success *id_token is
 * the ID token (the caller frees it). */
static int exchange(struct oidc_provider *p, const char *code, const char *redirect_uri,
                    const char *verifier, char **id_token, char *err, size_t errlen)
{
	*id_token = NULL;
	pthread_mutex_lock(&p->lock);
	char *endpoint = kd_strdup(p->token_endpoint);
	pthread_mutex_unlock(&p->lock);
	struct kd_buf form = KD_BUF_INIT(65536), cred = KD_BUF_INIT(4096), body = KD_BUF_INIT(HTTP_MAX);
	int rc = kd_buf_puts(&form, "grant_type=authorization_code&code=");
	rc = rc ? rc : put_enc(&form, code);
	rc = rc ? rc : kd_buf_puts(&form, "&redirect_uri=");
	rc = rc ? rc : put_enc(&form, redirect_uri);
	rc = rc ? rc : kd_buf_puts(&form, "&code_verifier=");
	rc = rc ? rc : put_enc(&form, verifier);
	/* client_secret_basic: both parts form-encoded, then base64 (RFC 6749 2.3.1) */
	rc = rc ? rc : put_enc(&cred, p->client_id);
	rc = rc ? rc : kd_buf_putc(&cred, ':');
	rc = rc ? rc : put_enc(&cred, p->client_secret);
	char *auth = NULL;
	if (rc == 0) {
		size_t blen = sodium_base64_ENCODED_LEN(cred.len, sodium_base64_VARIANT_ORIGINAL);
		auth = kd_malloc(blen + 32);
		memcpy(auth, "Authorization: Basic ", 21);
		sodium_bin2base64(auth + 21, blen, (const unsigned char *)kd_buf_str(&cred), cred.len,
		                  sodium_base64_VARIANT_ORIGINAL);
	}
	long status = 0;
	if (rc != 0)
		snprintf(err, errlen, "the sign-in code is too long");
	else
		rc = http(endpoint, kd_buf_str(&form), auth, &status, &body, err, errlen);
	json_t *doc = NULL;
	if (rc == 0) {
		doc = json_loadb(kd_buf_str(&body), body.len, JSON_REJECT_DUPLICATES, NULL);
		const char *tok = json_string_value(json_object_get(doc, "id_token"));
		if (status == 200 && tok) {
			*id_token = kd_strdup(tok);
		} else {
			const char *e = json_string_value(json_object_get(doc, "error"));
			const char *d = json_string_value(json_object_get(doc, "error_description"));
			snprintf(err, errlen, "the token endpoint answered HTTP %ld%s%.60s%s%.200s", status,
			         e ? ": " : (status == 200 ? " without an ID token" : ""), e ? e : "",
			         d ? " - " : "", d ? d : "");
			rc = KD_EIO;
		}
	}
	json_decref(doc);
	if (auth)
		sodium_memzero(auth, strlen(auth));
	free(auth);
	sodium_memzero(cred.data ? cred.data : (char *)"", cred.len);
	kd_buf_release(&cred);
	kd_buf_release(&form);
	kd_buf_release(&body);
	free(endpoint);
	return rc == 0 ? 0 : KD_EIO;
}

/* Verify with the keys kept; a token naming a key we lack makes us fetch
 * them again (the provider rotated them) and try once more. */
static int verify(struct oidc_provider *p, const char *id_token, const char *nonce,
                  struct oidc_claims *claims, char *err, size_t errlen)
{
	char *jwks;
	int rc = jwks_get(p, false, &jwks, err, errlen);
	if (rc != 0)
		return rc;
	rc = oidc_verify_id_token(id_token, jwks, p->issuer, p->client_id, nonce,
	                          (int64_t)time(NULL), claims, err, errlen);
	free(jwks);
	if (rc != KD_ENOTFOUND)
		return rc;
	char why[KD_ERRMSG_MAX];
	int frc = jwks_get(p, true, &jwks, why, sizeof why);
	if (frc == KD_ELIMIT)
		return KD_EAUTH; /* (err still names the unknown key) */
	if (frc != 0) {
		snprintf(err, errlen, "%s", why);
		return frc;
	}
	rc = oidc_verify_id_token(id_token, jwks, p->issuer, p->client_id, nonce,
	                          (int64_t)time(NULL), claims, err, errlen);
	free(jwks);
	return rc == KD_ENOTFOUND ? KD_EAUTH : rc;
}

#define ASK_ADMIN "tell the district's kindling admin if it happens again."

int oidc_finish(struct oidc_provider *p, struct kd_db *db, const char *state, const char *code,
                const char *redirect_uri, struct kd_user *user, char *next, size_t nextlen,
                char *err, size_t errlen)
{
	memset(user, 0, sizeof *user);
	if (nextlen)
		snprintf(next, nextlen, "/");
	char nonce[SECRET_B64 + 64], verifier[SECRET_B64 + 64], stored_next[NEXT_MAX + 1];
	int rc = oidc_login_take(db, state, (int64_t)time(NULL), nonce, sizeof nonce, verifier,
	                         sizeof verifier, stored_next, sizeof stored_next);
	if (rc == KD_EDB) {
		snprintf(err, errlen, "kindling could not read the sign-in under way: try again in a "
		         "minute.");
		return KD_EDB;
	}
	if (rc != 0) {
		snprintf(err, errlen, "This sign-in is unknown, was already used, or took longer than "
		         "%d minutes: sign in again from the sign-in page.", OIDC_LOGIN_TTL_S / 60);
		return KD_EAUTH;
	}
	char why[KD_ERRMSG_MAX] = "";
	char *id_token = NULL;
	struct oidc_claims claims;
	if (!code || !*code) {
		snprintf(err, errlen, "The district's sign-in service sent no sign-in code: sign in "
		         "again, and " ASK_ADMIN);
		rc = KD_EAUTH;
		goto out;
	}
	rc = oidc_discover(p, why, sizeof why);
	if (rc == 0)
		rc = exchange(p, code, redirect_uri, verifier, &id_token, why, sizeof why);
	if (rc != 0) {
		log_warn("oidc", "sign-in failed: %s", why);
		snprintf(err, errlen, "kindling could not complete the sign-in with the district's "
		         "sign-in service (%.300s): sign in again, and " ASK_ADMIN, why);
		rc = KD_EIO;
		goto out;
	}
	rc = verify(p, id_token, nonce, &claims, why, sizeof why);
	if (rc == KD_EIO || rc == KD_EINVAL) {
		log_warn("oidc", "sign-in failed: %s", why);
		snprintf(err, errlen, "kindling could not fetch the keys of the district's sign-in "
		         "service (%.300s): sign in again, and " ASK_ADMIN, why);
		rc = KD_EIO;
		goto out;
	}
	if (rc != 0) {
		log_warn("oidc", "sign-in refused: %s", why);
		snprintf(err, errlen, "kindling cannot trust the answer of the district's sign-in "
		         "service (%.300s): sign in again, and " ASK_ADMIN, why);
		rc = KD_EAUTH;
		goto out;
	}
	rc = oidc_person(db, p->domains, &claims, user, err, errlen);
	if (rc != 0) {
		log_info("oidc", "sign-in of %s (sub %s) refused: %s", claims.email, claims.sub, err);
		goto out;
	}
	if (nextlen)
		snprintf(next, nextlen, "%s", strlen(stored_next) < nextlen ? stored_next : "/");
out:
	sodium_memzero(verifier, sizeof verifier);
	free(id_token);
	if (rc != 0)
		memset(user, 0, sizeof *user);
	return rc;
}
