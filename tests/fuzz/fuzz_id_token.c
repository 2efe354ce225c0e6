/* The ID token's check (oidc_verify_id_token): whatever the token and the
 * provider's keys say, a refusal, never a crash; and nothing accepted
 * that fails a check.  The first byte of the input picks what the rest is:
 *   0: a token, against keys made here (RSA "k1", EC P-256 "e1");
 *   1: a token, a NUL, then a JWKS (both anything);
 *   2: the claims (JSON or not), signed here with the EC key, so that the
 *      checks after the signature see arbitrary claims;
 *   3: the protected header (JSON or not) on a payload and signature of a
 *      real token. */
#define _GNU_SOURCE
#include <cjose/cjose.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/oidc.h"

#define ISS "https://idp.example"
#define CID "client"
#define NONCE "nonce-1"
#define NOW 1700000000

static cjose_jwk_t *rsa, *ec;
static char *jwks, *real_token;

static char *b64url(const void *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(cap);
	sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

static char *sign(cjose_jwk_t *k, const char *alg, const char *kid, const void *payload, size_t n)
{
	cjose_err e;
	cjose_header_t *h = cjose_header_new(&e);
	cjose_header_set(h, CJOSE_HDR_ALG, alg, &e);
	cjose_header_set(h, CJOSE_HDR_KID, kid, &e);
	cjose_jws_t *jws = cjose_jws_sign(k, h, payload, n, &e);
	const char *ser = NULL;
	char *out = jws && cjose_jws_export(jws, &ser, &e) ? strdup(ser) : NULL;
	cjose_jws_release(jws);
	cjose_header_release(h);
	return out;
}

static void setup(void)
{
	cjose_err e;
	if (sodium_init() < 0)
		abort();
	rsa = cjose_jwk_create_RSA_random(2048, NULL, 0, &e);
	ec = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &e);
	if (!rsa || !ec || !cjose_jwk_set_kid(rsa, "k1", 2, &e) || !cjose_jwk_set_kid(ec, "e1", 2, &e))
		abort();
	char *a = cjose_jwk_to_json(rsa, false, &e), *b = cjose_jwk_to_json(ec, false, &e);
	if (!a || !b || asprintf(&jwks, "{\"keys\":[%s,%s]}", a, b) < 0)
		abort();
	free(a);
	free(b);
	const char *claims = "{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"exp\":1700000300,"
	                     "\"iat\":1700000000,\"nonce\":\"" NONCE "\",\"sub\":\"s\"}";
	real_token = sign(rsa, "RS256", "k1", claims, strlen(claims));
	if (!real_token)
		abort();
}

/* What an accepted token must have said. */
static void accepted(const char *token, const struct oidc_claims *c)
{
	if (!*c->sub)
		abort();
	/* the payload itself, read again without the checks */
	const char *p = strchr(token, '.') + 1;
	size_t n = strcspn(p, "."), len;
	unsigned char *raw = malloc(n + 1);
	if (sodium_base642bin(raw, n + 1, p, n, NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		abort();
	json_t *j = json_loadb((const char *)raw, len, 0, NULL);
	const char *iss = json_string_value(json_object_get(j, "iss"));
	const char *nonce = json_string_value(json_object_get(j, "nonce"));
	if (!iss || strcmp(iss, ISS) != 0 || !nonce || strcmp(nonce, NONCE) != 0)
		abort();
	json_decref(j);
	free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!rsa)
		setup();
	if (size < 1)
		return 0;
	int mode = data[0] % 4;
	data++;
	size--;
	char *in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';
	char *token = NULL;
	const char *keys = jwks;
	if (mode == 0) {
		token = strdup(in);
	} else if (mode == 1) {
		token = strdup(in);
		size_t t = strlen(in);
		keys = t < size ? in + t + 1 : "";
	} else if (mode == 2) {
		token = sign(ec, "ES256", "e1", data, size);
	} else {
		char *h = b64url(data, size);
		if (asprintf(&token, "%s%s", h, strchr(real_token, '.')) < 0)
			token = NULL;
		free(h);
	}
	if (token) {
		struct oidc_claims c;
		char err[KD_ERRMSG_MAX];
		int rc = oidc_verify_id_token(token, keys, ISS, CID, NONCE, NOW, &c, err, sizeof err);
		if (rc == 0 && keys == jwks)
			accepted(token, &c);
		if (rc != 0 && rc != KD_EAUTH && rc != KD_ENOTFOUND)
			abort();
		free(token);
	}
	free(in);
	return 0;
}
