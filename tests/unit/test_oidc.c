/* test_oidc.c - signing in through an identity provider (oidc.h): the ID
 * token's checks on tokens signed here with keys made here; the sign-ins
 * under way; who may sign in; and the whole sign-in against a small
 * provider in this process (discovery, the code exchange, keys fetched
 * again when they rotate).  The real provider (oidc-provider, npm) is
 * tests/oidc_provider.mjs, driven by the integration suites. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <cjose/cjose.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/buf.h"
#include "kindling/oidc.h"
#include "kindling/users.h"

#define ISS "https://idp.district.example"
#define CID "kindling-test"
#define NONCE "n0nce-of-this-sign-in"

/* Keys made once: A and B are both RSA with kid "k1" (B signs tokens that
 * must not verify against A's JWKS), C is RSA "k2", EC is P-256 "e1". */
static cjose_jwk_t *key_a, *key_b, *key_c, *key_ec;
static char *jwks_main; /* A as "k1" and EC as "e1" */
static char last_err[KD_ERRMSG_MAX];

/* ------------------------------------------------------------ making tokens */

/* The public half of k as a JWK object, with kid (may be NULL) and the
 * members of extra (a JSON object's text, may be NULL). */
static json_t *jwk_pub(cjose_jwk_t *k, const char *kid, const char *extra)
{
	cjose_err e;
	char *text = cjose_jwk_to_json(k, false, &e);
	assert_non_null(text);
	json_t *j = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(j);
	if (kid)
		json_object_set_new(j, "kid", json_string(kid));
	if (extra) {
		json_t *x = json_loads(extra, 0, NULL);
		assert_non_null(x);
		json_object_update(j, x);
		json_decref(x);
	}
	return j;
}

/* {"keys": [...]} of n JWK objects (taken). */
static char *jwks_of(int n, ...)
{
	va_list ap;
	json_t *keys = json_array();
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		json_array_append_new(keys, va_arg(ap, json_t *));
	va_end(ap);
	json_t *doc = json_object();
	json_object_set_new(doc, "keys", keys);
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return text;
}

static char *b64url(const void *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(cap);
	sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* The claims of a good token, for the tests to spoil. */
static json_t *good_claims(const char *nonce)
{
	int64_t now = (int64_t)time(NULL);
	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:b, s:s}", "iss", ISS, "aud", CID,
	                 "exp", (json_int_t)(now + 300), "iat", (json_int_t)now, "nonce", nonce,
	                 "sub", "1234567890", "email", "Ana.Lopez@district.example",
	                 "email_verified", 1, "name", "Ana López");
}

/* A compact JWS of claims (taken) signed by k with alg, header kid (NULL:
 * none). */
static char *sign(cjose_jwk_t *k, const char *alg, const char *kid, json_t *claims)
{
	cjose_err e;
	char *payload = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	cjose_header_t *h = cjose_header_new(&e);
	assert_true(cjose_header_set(h, CJOSE_HDR_ALG, alg, &e));
	if (kid)
		assert_true(cjose_header_set(h, CJOSE_HDR_KID, kid, &e));
	assert_true(cjose_header_set(h, "typ", "JWT", &e));
	cjose_jws_t *jws = cjose_jws_sign(k, h, (const uint8_t *)payload, strlen(payload), &e);
	if (!jws)
		fail_msg("cjose_jws_sign %s: %s", alg, e.message);
	const char *ser;
	assert_true(cjose_jws_export(jws, &ser, &e));
	char *out = strdup(ser);
	cjose_jws_release(jws);
	cjose_header_release(h);
	free(payload);
	return out;
}

static char *good_token(void)
{
	return sign(key_a, "RS256", "k1", good_claims(NONCE));
}

/* Verify against jwks now; err kept in last_err. */
static int check_at(const char *jwt, const char *jwks, struct oidc_claims *c)
{
	struct oidc_claims spare;
	last_err[0] = '\0';
	return oidc_verify_id_token(jwt, jwks, ISS, CID, NONCE, (int64_t)time(NULL), c ? c : &spare,
	                            last_err, sizeof last_err);
}

/* A token of these claims by A, verified against jwks_main. */
static int check_claims(json_t *claims)
{
	char *t = sign(key_a, "RS256", "k1", claims);
	int rc = check_at(t, jwks_main, NULL);
	free(t);
	return rc;
}

#define assert_err_has(s)                                                        \
	do {                                                                     \
		if (!strstr(last_err, (s)))                                      \
			fail_msg("err \"%s\" lacks \"%s\"", last_err, (s));      \
	} while (0)

/* ------------------------------------------------------------ the ID token */

static void good_tokens_verify(void **state)
{
	(void)state;
	struct oidc_claims c;
	char *t = good_token();
	assert_int_equal(check_at(t, jwks_main, &c), 0);
	assert_string_equal(c.sub, "1234567890");
	assert_string_equal(c.email, "Ana.Lopez@district.example");
	assert_true(c.email_verified);
	assert_string_equal(c.name, "Ana López");
	assert_string_equal(c.hd, "");
	free(t);

	/* every asymmetric family: PS256 with A, ES256 with the EC key */
	t = sign(key_a, "PS256", "k1", good_claims(NONCE));
	assert_int_equal(check_at(t, jwks_main, NULL), 0);
	free(t);
	t = sign(key_a, "RS512", "k1", good_claims(NONCE));
	assert_int_equal(check_at(t, jwks_main, NULL), 0);
	free(t);
	t = sign(key_ec, "ES256", "e1", good_claims(NONCE));
	assert_int_equal(check_at(t, jwks_main, &c), 0);
	assert_string_equal(c.sub, "1234567890");
	free(t);

	/* several audiences, with azp naming us; aud as a one-item list */
	json_t *cl = good_claims(NONCE);
	json_object_set_new(cl, "aud", json_pack("[s,s]", "other-client", CID));
	json_object_set_new(cl, "azp", json_string(CID));
	assert_int_equal(check_claims(cl), 0);
	cl = good_claims(NONCE);
	json_object_set_new(cl, "aud", json_pack("[s]", CID));
	assert_int_equal(check_claims(cl), 0);

	/* within the leeway either way; dates as reals; hd and a string
	 * email_verified as some providers send them; a long name is cut */
	int64_t now = (int64_t)time(NULL);
	cl = good_claims(NONCE);
	json_object_set_new(cl, "exp", json_integer(now - OIDC_LEEWAY_S + 5));
	json_object_set_new(cl, "iat", json_real((double)(now + OIDC_LEEWAY_S - 5)));
	json_object_set_new(cl, "hd", json_string("district.example"));
	json_object_set_new(cl, "email_verified", json_string("false"));
	char name[400];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	json_object_set_new(cl, "name", json_string(name));
	t = sign(key_a, "RS256", "k1", cl);
	assert_int_equal(check_at(t, jwks_main, &c), 0);
	assert_string_equal(c.hd, "district.example");
	assert_false(c.email_verified);
	assert_int_equal(strlen(c.name), sizeof c.name - 1);
	free(t);

	/* no email_verified claim: not false */
	cl = good_claims(NONCE);
	json_object_del(cl, "email_verified");
	t = sign(key_a, "RS256", "k1", cl);
	assert_int_equal(check_at(t, jwks_main, &c), 0);
	assert_true(c.email_verified);
	free(t);
}

static void token_without_kid_tries_each_key(void **state)
{
	(void)state;
	/* C is second of two RSA keys; the token names none */
	char *jwks = jwks_of(3, jwk_pub(key_b, "k1", NULL), jwk_pub(key_ec, "e1", NULL),
	                     jwk_pub(key_c, "k2", "{\"use\":\"sig\",\"alg\":\"RS256\"}"));
	char *t = sign(key_c, "RS256", NULL, good_claims(NONCE));
	assert_int_equal(check_at(t, jwks, NULL), 0);
	free(t);
	/* by a key the JWKS lacks: no key verifies it */
	t = sign(key_a, "RS256", NULL, good_claims(NONCE));
	assert_int_equal(check_at(t, jwks, NULL), KD_EAUTH);
	assert_err_has("signature");
	free(t);
	free(jwks);
}

static void wrong_claims_are_refused(void **state)
{
	(void)state;
	int64_t now = (int64_t)time(NULL);
	json_t *cl = good_claims(NONCE);
	json_object_set_new(cl, "iss", json_string("https://evil.example"));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	assert_err_has("issuer");
	cl = good_claims(NONCE);
	json_object_set_new(cl, "iss", json_string(ISS "/"));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	cl = good_claims(NONCE);
	json_object_del(cl, "iss");
	assert_int_equal(check_claims(cl), KD_EAUTH);

	cl = good_claims(NONCE);
	json_object_set_new(cl, "aud", json_string("another-client"));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	assert_err_has("audience");
	cl = good_claims(NONCE);
	json_object_set_new(cl, "aud", json_pack("[s,s]", "a", "b"));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	cl = good_claims(NONCE);
	json_object_set_new(cl, "aud", json_array());
	assert_int_equal(check_claims(cl), KD_EAUTH);
	cl = good_claims(NONCE);
	json_object_del(cl, "aud");
	assert_int_equal(check_claims(cl), KD_EAUTH);
	/* several audiences and no azp; an azp of another client */
	cl = good_claims(NONCE);
	json_object_set_new(cl, "aud", json_pack("[s,s]", CID, "other-client"));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	cl = good_claims(NONCE);
	json_object_set_new(cl, "azp", json_string("other-client"));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	assert_err_has("azp");

	cl = good_claims(NONCE);
	json_object_set_new(cl, "exp", json_integer(now - OIDC_LEEWAY_S - 5));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	assert_err_has("expired");
	cl = good_claims(NONCE);
	json_object_del(cl, "exp");
	assert_int_equal(check_claims(cl), KD_EAUTH);
	cl = good_claims(NONCE);
	json_object_set_new(cl, "exp", json_string("tomorrow"));
	assert_int_equal(check_claims(cl), KD_EAUTH);

	cl = good_claims(NONCE);
	json_object_set_new(cl, "iat", json_integer(now + OIDC_LEEWAY_S + 5));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	assert_err_has("future");
	cl = good_claims(NONCE);
	json_object_del(cl, "iat");
	assert_int_equal(check_claims(cl), KD_EAUTH);
	cl = good_claims(NONCE);
	json_object_set_new(cl, "nbf", json_integer(now + 3600));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	/* dates at the ends of the range do not overflow into acceptance */
	cl = good_claims(NONCE);
	json_object_set_new(cl, "iat", json_integer(INT64_MIN));
	json_object_set_new(cl, "exp", json_integer(INT64_MAX));
	assert_int_equal(check_claims(cl), 0);
	cl = good_claims(NONCE);
	json_object_set_new(cl, "iat", json_integer(INT64_MAX));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	cl = good_claims(NONCE);
	json_object_set_new(cl, "exp", json_integer(INT64_MIN));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	cl = good_claims(NONCE);
	json_object_set_new(cl, "exp", json_real(1e300));
	assert_int_equal(check_claims(cl), KD_EAUTH);

	assert_int_equal(check_claims(good_claims("another-nonce")), KD_EAUTH);
	assert_err_has("nonce");
	assert_int_equal(check_claims(good_claims(NONCE "x")), KD_EAUTH);
	assert_int_equal(check_claims(good_claims("")), KD_EAUTH);
	cl = good_claims(NONCE);
	json_object_del(cl, "nonce");
	assert_int_equal(check_claims(cl), KD_EAUTH);
	assert_err_has("missing");
	/* a caller without a nonce accepts nothing */
	char *t = good_token();
	struct oidc_claims c;
	assert_int_equal(oidc_verify_id_token(t, jwks_main, ISS, CID, NULL, (int64_t)time(NULL), &c,
	                                      last_err, sizeof last_err), KD_EAUTH);
	assert_int_equal(oidc_verify_id_token(t, jwks_main, ISS, CID, "", (int64_t)time(NULL), &c,
	                                      last_err, sizeof last_err), KD_EAUTH);
	/* the same good token, later than its expiry */
	assert_int_equal(oidc_verify_id_token(t, jwks_main, ISS, CID, NONCE,
	                                      (int64_t)time(NULL) + 300 + OIDC_LEEWAY_S + 1, &c,
	                                      last_err, sizeof last_err), KD_EAUTH);
	free(t);

	cl = good_claims(NONCE);
	json_object_del(cl, "sub");
	assert_int_equal(check_claims(cl), KD_EAUTH);
	/* what identifies a person is refused when too long, not cut */
	char longmail[400];
	memset(longmail, 'a', sizeof longmail - 1);
	memcpy(longmail + sizeof longmail - 18, "@district.example", 18);
	cl = good_claims(NONCE);
	json_object_set_new(cl, "email", json_string(longmail));
	assert_int_equal(check_claims(cl), KD_EAUTH);
	/* duplicate claims could be read two ways */
	const char *dup = "{\"iss\":\"" ISS "\",\"iss\":\"https://evil.example\",\"aud\":\"" CID "\"}";
	cjose_err e;
	cjose_header_t *h = cjose_header_new(&e);
	cjose_header_set(h, CJOSE_HDR_ALG, "RS256", &e);
	cjose_header_set(h, CJOSE_HDR_KID, "k1", &e);
	cjose_jws_t *jws = cjose_jws_sign(key_a, h, (const uint8_t *)dup, strlen(dup), &e);
	const char *ser;
	assert_true(cjose_jws_export(jws, &ser, &e));
	assert_int_equal(check_at(ser, jwks_main, NULL), KD_EAUTH);
	cjose_jws_release(jws);
	cjose_header_release(h);
}

static void bad_signatures_are_refused(void **state)
{
	(void)state;
	/* another key under the same kid */
	char *t = sign(key_b, "RS256", "k1", good_claims(NONCE));
	assert_int_equal(check_at(t, jwks_main, NULL), KD_EAUTH);
	assert_err_has("signature");
	free(t);
	/* the EC key's kid on an RSA signature, and the other way round */
	t = sign(key_a, "RS256", "e1", good_claims(NONCE));
	assert_int_equal(check_at(t, jwks_main, NULL), KD_EAUTH);
	free(t);
	t = sign(key_ec, "ES256", "k1", good_claims(NONCE));
	assert_int_equal(check_at(t, jwks_main, NULL), KD_EAUTH);
	free(t);

	/* one byte flipped in each part of a good token */
	t = good_token();
	size_t len = strlen(t);
	char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
	/* (not the last character: its low bits are padding a decoder may
	 * ignore, which forges nothing) */
	size_t at[] = {(size_t)(dot1 - t) / 2, (size_t)(dot2 - t) - 10, len - 10, len - 2};
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		char *bad = strdup(t);
		bad[at[i]] = bad[at[i]] == 'A' ? 'B' : 'A';
		int rc = check_at(bad, jwks_main, NULL);
		if (rc != KD_EAUTH)
			fail_msg("byte %zu flipped: %d (%s)", at[i], rc, last_err);
		free(bad);
	}
	/* the payload of one token under the signature of another */
	char *other = sign(key_a, "RS256", "k1", good_claims("another-nonce"));
	char *mix = NULL;
	assert_true(asprintf(&mix, "%.*s%s", (int)(strrchr(other, '.') - other), other,
	                     strrchr(t, '.')) > 0);
	assert_int_equal(check_at(mix, jwks_main, NULL), KD_EAUTH);
	free(mix);
	free(other);
	free(t);

	/* a JWKS key meant for encryption, or for another algorithm */
	char *jwks = jwks_of(1, jwk_pub(key_a, "k1", "{\"use\":\"enc\"}"));
	t = good_token();
	assert_int_equal(check_at(t, jwks, NULL), KD_EAUTH);
	free(jwks);
	jwks = jwks_of(1, jwk_pub(key_a, "k1", "{\"alg\":\"RS512\"}"));
	assert_int_equal(check_at(t, jwks, NULL), KD_EAUTH);
	free(jwks);
	free(t);
}

static void unsafe_algorithms_are_refused(void **state)
{
	(void)state;
	/* alg none, by hand: a header, the payload, and no signature */
	json_t *claims = good_claims(NONCE);
	char *payload = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	char *p64 = b64url(payload, strlen(payload));
	const char *headers[] = {"{\"alg\":\"none\"}", "{\"alg\":\"none\",\"kid\":\"k1\"}",
	                         "{\"alg\":\"None\",\"kid\":\"k1\"}", "{\"kid\":\"k1\"}",
	                         "{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"k1\"}"};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		char *h64 = b64url(headers[i], strlen(headers[i])), *t = NULL;
		assert_true(asprintf(&t, "%s.%s.", h64, p64) > 0);
		assert_int_equal(check_at(t, jwks_main, NULL), KD_EAUTH);
		free(t);
		/* and with a signature of A's stuck on */
		char *good = good_token();
		assert_true(asprintf(&t, "%s.%s%s", h64, p64, strrchr(good, '.')) > 0);
		assert_int_equal(check_at(t, jwks_main, NULL), KD_EAUTH);
		free(t);
		free(good);
		free(h64);
	}
	char *t = NULL;
	assert_true(asprintf(&t, "eyJhbGciOiJub25lIn0.%s.", p64) > 0);
	assert_int_equal(check_at(t, jwks_main, NULL), KD_EAUTH);
	assert_err_has("none");
	free(t);

	/* HS256 keyed with A's public key, as text: the classic confusion */
	cjose_err e;
	char *pub = cjose_jwk_to_json(key_a, false, &e);
	cjose_jwk_t *hmac = cjose_jwk_create_oct_spec((const uint8_t *)pub, strlen(pub), &e);
	assert_non_null(hmac);
	const char *hs[] = {"HS256", "HS384", "HS512"};
	for (int i = 0; i < 3; i++) {
		t = sign(hmac, hs[i], "k1", good_claims(NONCE));
		assert_int_equal(check_at(t, jwks_main, NULL), KD_EAUTH);
		assert_err_has(hs[i]);
		free(t);
	}
	/* and an HS256 key published in the JWKS is not used either */
	char *jwks = jwks_of(1, jwk_pub(hmac, "h1", NULL));
	t = sign(hmac, "HS256", "h1", good_claims(NONCE));
	assert_int_equal(check_at(t, jwks, NULL), KD_EAUTH);
	free(t);
	free(jwks);
	cjose_jwk_release(hmac);
	free(pub);

	/* an ES256 token must be by a P-256 key */
	cjose_jwk_t *p384 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_384, &e);
	jwks = jwks_of(1, jwk_pub(p384, "e1", NULL));
	t = sign(p384, "ES384", "e1", good_claims(NONCE));
	assert_int_equal(check_at(t, jwks, NULL), 0);
	free(t);
	t = sign(p384, "ES384", "e1", good_claims(NONCE));
	/* the ES384 signature relabelled ES256 */
	const char *h256 = "{\"alg\":\"ES256\",\"kid\":\"e1\"}";
	char *h64 = b64url(h256, strlen(h256)), *relabel = NULL;
	assert_true(asprintf(&relabel, "%s%s", h64, strchr(t, '.')) > 0);
	assert_int_equal(check_at(relabel, jwks, NULL), KD_EAUTH);
	free(relabel);
	free(h64);
	free(t);
	free(jwks);
	cjose_jwk_release(p384);

	/* an ES256 signature stretched with leading zeros: the same r and s
	 * to a lax reader, but not the 64 bytes the algorithm defines */
	t = sign(key_ec, "ES256", "e1", good_claims(NONCE));
	assert_int_equal(check_at(t, jwks_main, NULL), 0);
	unsigned char sig[64], wide[66] = {0};
	size_t siglen;
	assert_int_equal(sodium_base642bin(sig, sizeof sig, strrchr(t, '.') + 1,
	                                   strlen(strrchr(t, '.') + 1), NULL, &siglen, NULL,
	                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	assert_int_equal(siglen, 64);
	memcpy(wide + 1, sig, 32);
	memcpy(wide + 34, sig + 32, 32);
	char *w64 = b64url(wide, sizeof wide);
	assert_true(asprintf(&relabel, "%.*s.%s", (int)(strrchr(t, '.') - t), t, w64) > 0);
	assert_int_equal(check_at(relabel, jwks_main, NULL), KD_EAUTH);
	assert_err_has("length");
	free(relabel);
	free(w64);
	free(t);

	/* a short RSA key */
	cjose_jwk_t *small = cjose_jwk_create_RSA_random(1024, NULL, 0, &e);
	assert_non_null(small);
	jwks = jwks_of(1, jwk_pub(small, "s1", NULL));
	t = sign(small, "RS256", "s1", good_claims(NONCE));
	assert_int_equal(check_at(t, jwks, NULL), KD_EAUTH);
	free(t);
	free(jwks);
	cjose_jwk_release(small);

	/* critical header parameters nobody here knows */
	const char *crit = "{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"exp\"],\"exp\":1}";
	h64 = b64url(crit, strlen(crit));
	char *good = good_token();
	assert_true(asprintf(&t, "%s%s", h64, strchr(good, '.')) > 0);
	assert_int_equal(check_at(t, jwks_main, NULL), KD_EAUTH);
	free(t);
	free(good);
	free(h64);
	free(p64);
	free(payload);
}

static void unknown_key_is_not_found(void **state)
{
	(void)state;
	char *t = sign(key_c, "RS256", "k2", good_claims(NONCE));
	assert_int_equal(check_at(t, jwks_main, NULL), KD_ENOTFOUND);
	assert_err_has("k2");
	/* found once the JWKS has it */
	char *jwks = jwks_of(2, jwk_pub(key_a, "k1", NULL), jwk_pub(key_c, "k2", NULL));
	assert_int_equal(check_at(t, jwks, NULL), 0);
	free(jwks);
	free(t);
	/* an empty JWKS */
	t = good_token();
	assert_int_equal(check_at(t, "{\"keys\":[]}", NULL), KD_ENOTFOUND);
	free(t);
}

static void garbage_is_refused(void **state)
{
	(void)state;
	const char *junk[] = {"", ".", "..", "...", "a.b.c", "a.b", "a.b.c.d", "eyJ.eyJ.eyJ",
	                      "eyJhbGciOiJSUzI1NiJ9..", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA",
	                      "!!!.@@@.###", "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.bnVsbA.AAAA"};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
		assert_int_equal(check_at(junk[i], jwks_main, NULL), KD_EAUTH);
	assert_int_equal(check_at(NULL, jwks_main, NULL), KD_EAUTH);
	/* every truncation of a good token */
	char *t = good_token();
	size_t len = strlen(t);
	for (size_t n = 0; n < len; n++) {
		char *cut = strndup(t, n);
		int rc = check_at(cut, jwks_main, NULL);
		if (rc != KD_EAUTH)
			fail_msg("token cut at %zu of %zu: %d (%s)", n, len, rc, last_err);
		free(cut);
	}
	/* a good token against broken JWKS */
	const char *bad_jwks[] = {"", "[]", "{}", "{\"keys\":{}}", "{\"keys\":[1,\"x\",null]}",
	                          "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"n\":\"AA\"}]}",
	                          "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\"}]}", "not json",
	                          /* padding where libcjose's decoder asserts (found by fuzzing) */
	                          "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"n\":\"sXchD=aQ\",\"e\":\"AQAB\"}]}",
	                          "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"n\":\"sXchD\",\"e\":\"AQAB\"}]}",
	                          "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"n\":\"sX+/Da\",\"e\":\"AQAB\"}]}",
	                          "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\",\"x\":\"A=\",\"y\":\"A\"}]}"};
	for (size_t i = 0; i < sizeof bad_jwks / sizeof bad_jwks[0]; i++) {
		int rc = check_at(t, bad_jwks[i], NULL);
		assert_true(rc == KD_EAUTH || rc == KD_ENOTFOUND);
	}
	assert_int_equal(check_at(t, NULL, NULL), KD_EAUTH);
	/* padding or other characters in any part */
	char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
	/* (the second character of a group of four: where libcjose asserts) */
	size_t at[] = {1, 5, (size_t)(dot1 - t) + 2, (size_t)(dot1 - t) + 6, (size_t)(dot2 - t) + 2,
	               (size_t)(dot2 - t) + 6, strlen(t) - 1};
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
		for (const char *c = "=+/ "; *c; c++) {
			char *bad = strdup(t);
			bad[at[i]] = *c;
			assert_int_equal(check_at(bad, jwks_main, NULL), KD_EAUTH);
			free(bad);
		}
	/* a token too long to be one */
	char *huge = malloc(200000);
	memset(huge, 'A', 199999);
	huge[199999] = '\0';
	assert_int_equal(check_at(huge, jwks_main, NULL), KD_EAUTH);
	free(huge);
	free(t);
}

/* ------------------------------------------------------------ sign-ins under way */

static int db_setup(void **state)
{
	*state = test_db();
	kd_log_set_level(KD_LOG_ERROR); /* (the refusals below are logged as warnings) */
	return 0;
}

static int64_t count_logins(struct kd_db *db)
{
	struct kd_stmt *st;
	assert_int_equal(db_prepare(db, "SELECT COUNT(*) FROM oidc_logins", &st), DB_OK);
	assert_int_equal(db_step(st), DB_ROW);
	int64_t n = db_column_int64(st, 0);
	db_finalize(st);
	return n;
}

static void a_state_works_once(void **state)
{
	struct kd_db *db = *state;
	int64_t now = 1700000000;
	char nonce[64], verifier[64], next[64];
	assert_int_equal(oidc_login_put(db, "state-1", "nonce-1", "verifier-1", "/clips/7?x=1", now), 0);
	assert_int_equal(oidc_login_put(db, "state-2", "nonce-2", "verifier-2", NULL, now), 0);
	assert_int_equal(oidc_login_take(db, "state-1", now + 5, nonce, sizeof nonce, verifier,
	                                 sizeof verifier, next, sizeof next), 0);
	assert_string_equal(nonce, "nonce-1");
	assert_string_equal(verifier, "verifier-1");
	assert_string_equal(next, "/clips/7?x=1");
	/* replayed */
	assert_int_equal(oidc_login_take(db, "state-1", now + 6, nonce, sizeof nonce, verifier,
	                                 sizeof verifier, next, sizeof next), KD_EAUTH);
	assert_string_equal(nonce, "");
	assert_int_equal(oidc_login_take(db, "state-2", now + 7, nonce, sizeof nonce, verifier,
	                                 sizeof verifier, next, sizeof next), 0);
	assert_string_equal(next, "/");
	assert_int_equal(count_logins(db), 0);

	/* the state itself is not stored, only its BLAKE2b */
	assert_int_equal(oidc_login_put(db, "state-3", "n", "v", "/", now), 0);
	unsigned char h[32];
	char hex[65];
	crypto_generichash(h, sizeof h, (const unsigned char *)"state-3", 7, NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	struct kd_stmt *st;
	assert_int_equal(db_prepare(db, "SELECT state_hash, expires_at FROM oidc_logins", &st), DB_OK);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal((const char *)db_column_text(st, 0), hex);
	assert_int_equal(db_column_int64(st, 1), now + OIDC_LOGIN_TTL_S);
	db_finalize(st);
	/* buffers too small for what was stored: refused, and the row gone */
	char tiny[1];
	assert_int_equal(oidc_login_take(db, "state-3", now, tiny, sizeof tiny, verifier,
	                                 sizeof verifier, next, sizeof next), KD_EINVAL);
	assert_int_equal(count_logins(db), 0);
}

static void missing_and_unknown_states_are_refused(void **state)
{
	struct kd_db *db = *state;
	int64_t now = 1700000000;
	char nonce[64], verifier[64], next[64];
	assert_int_equal(oidc_login_put(db, "state-1", "n", "v", "/", now), 0);
	assert_int_equal(oidc_login_take(db, NULL, now, nonce, sizeof nonce, verifier,
	                                 sizeof verifier, next, sizeof next), KD_EAUTH);
	assert_int_equal(oidc_login_take(db, "", now, nonce, sizeof nonce, verifier,
	                                 sizeof verifier, next, sizeof next), KD_EAUTH);
	assert_int_equal(oidc_login_take(db, "state-2", now, nonce, sizeof nonce, verifier,
	                                 sizeof verifier, next, sizeof next), KD_EAUTH);
	assert_int_equal(oidc_login_take(db, "STATE-1", now, nonce, sizeof nonce, verifier,
	                                 sizeof verifier, next, sizeof next), KD_EAUTH);
	/* the hash as state is not the state */
	unsigned char h[32];
	char hex[65];
	crypto_generichash(h, sizeof h, (const unsigned char *)"state-1", 7, NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	assert_int_equal(oidc_login_take(db, hex, now, nonce, sizeof nonce, verifier,
	                                 sizeof verifier, next, sizeof next), KD_EAUTH);
	assert_int_equal(count_logins(db), 1);
	assert_int_equal(oidc_login_put(db, "", "n", "v", "/", now), KD_EINVAL);
	assert_int_equal(oidc_login_put(db, NULL, "n", "v", "/", now), KD_EINVAL);
}

static void expired_states_are_refused_and_removed(void **state)
{
	struct kd_db *db = *state;
	int64_t now = 1700000000;
	char nonce[64], verifier[64], next[64];
	assert_int_equal(oidc_login_put(db, "old", "n", "v", "/", now), 0);
	assert_int_equal(oidc_login_put(db, "older", "n", "v", "/", now - 60), 0);
	assert_int_equal(oidc_login_put(db, "new", "n", "v", "/", now + OIDC_LOGIN_TTL_S), 0);
	/* just in time, then just too late */
	assert_int_equal(oidc_login_take(db, "old", now + OIDC_LOGIN_TTL_S, nonce, sizeof nonce,
	                                 verifier, sizeof verifier, next, sizeof next), 0);
	assert_int_equal(oidc_login_take(db, "older", now + OIDC_LOGIN_TTL_S, nonce, sizeof nonce,
	                                 verifier, sizeof verifier, next, sizeof next), KD_EAUTH);
	assert_int_equal(count_logins(db), 1);
	/* taking any other removes the expired ones */
	assert_int_equal(oidc_login_put(db, "stale", "n", "v", "/", now), 0);
	assert_int_equal(count_logins(db), 2);
	assert_int_equal(oidc_login_take(db, "nothing", now + OIDC_LOGIN_TTL_S + 1, nonce,
	                                 sizeof nonce, verifier, sizeof verifier, next, sizeof next),
	                 KD_EAUTH);
	assert_int_equal(count_logins(db), 1); /* "new" */
	assert_int_equal(oidc_login_take(db, "new", now + 3 * OIDC_LOGIN_TTL_S, nonce, sizeof nonce,
	                                 verifier, sizeof verifier, next, sizeof next), KD_EAUTH);
	assert_int_equal(count_logins(db), 0);
}

/* ------------------------------------------------------------ who may sign in */

static void domains_are_checked(void **state)
{
	(void)state;
	assert_true(oidc_domain_allowed(NULL, "a@anything.example", NULL));
	assert_true(oidc_domain_allowed("", "a@anything.example", "other.example"));
	assert_true(oidc_domain_allowed(" , ", "a@anything.example", NULL));
	const char *d = "district.example, schools.example";
	assert_true(oidc_domain_allowed(d, "ana@district.example", NULL));
	assert_true(oidc_domain_allowed(d, "ana@DISTRICT.Example", ""));
	assert_true(oidc_domain_allowed(d, "ana@schools.example", "schools.example"));
	assert_true(oidc_domain_allowed(d, "ana@schools.example", "District.example"));
	assert_true(oidc_domain_allowed("district.example,schools.example", "b@schools.example", NULL));
	assert_false(oidc_domain_allowed(d, "ana@gmail.example", NULL));
	assert_false(oidc_domain_allowed(d, "ana@sub.district.example", NULL));
	assert_false(oidc_domain_allowed(d, "ana@district.example.evil", NULL));
	assert_false(oidc_domain_allowed(d, "ana@evildistrict.example", NULL));
	assert_false(oidc_domain_allowed(d, "ana@district", NULL));
	assert_false(oidc_domain_allowed(d, "district.example", NULL));
	assert_false(oidc_domain_allowed(d, "ana@", NULL));
	assert_false(oidc_domain_allowed(d, "", NULL));
	assert_false(oidc_domain_allowed(d, NULL, NULL));
	assert_false(oidc_domain_allowed(d, "district.example@gmail.example", NULL));
	/* hd must be allowed too */
	assert_false(oidc_domain_allowed(d, "ana@district.example", "gmail.example"));
	assert_false(oidc_domain_allowed(d, "ana@district.example", "district"));
}

static struct oidc_claims claims_for(const char *email, bool verified, const char *hd)
{
	struct oidc_claims c;
	memset(&c, 0, sizeof c);
	snprintf(c.sub, sizeof c.sub, "sub-1");
	snprintf(c.email, sizeof c.email, "%s", email);
	snprintf(c.hd, sizeof c.hd, "%s", hd ? hd : "");
	c.email_verified = verified;
	return c;
}

/* A teacher with this address (and disabled). */
static int64_t person(struct kd_db *db, const char *name, const char *email, bool disabled)
{
	struct kd_user u = test_user(db, name, KD_ROLE_TEACHER, NULL);
	struct kd_stmt *st;
	assert_int_equal(db_prepare(db, "UPDATE users SET email = ?1, disabled = ?2 WHERE id = ?3",
	                            &st), DB_OK);
	db_bind_text(st, 1, email, -1, DB_STATIC);
	db_bind_int(st, 2, disabled ? 1 : 0);
	db_bind_int64(st, 3, u.id);
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
	return u.id;
}

static void people_are_matched_by_address(void **state)
{
	struct kd_db *db = *state;
	int64_t ana = person(db, "ana", "Ana.Lopez@district.example", false);
	person(db, "bo", "bo@district.example", true);
	const char *d = "district.example";
	struct kd_user u;
	char err[KD_ERRMSG_MAX];

	struct oidc_claims c = claims_for("ana.lopez@DISTRICT.example", true, NULL);
	assert_int_equal(oidc_person(db, d, &c, &u, err, sizeof err), 0);
	assert_int_equal(u.id, ana);
	assert_string_equal(u.name, "ana");
	assert_int_equal(u.role, KD_ROLE_TEACHER);
	c = claims_for("Ana.Lopez@district.example", true, "district.example");
	assert_int_equal(oidc_person(db, d, &c, &u, err, sizeof err), 0);
	assert_int_equal(oidc_person(db, NULL, &c, &u, err, sizeof err), 0);

	c = claims_for("Ana.Lopez@district.example", false, NULL);
	assert_int_equal(oidc_person(db, d, &c, &u, err, sizeof err), KD_EAUTH);
	assert_non_null(strstr(err, "not verified"));
	c = claims_for("Ana.Lopez@district.example", true, "gmail.example");
	assert_int_equal(oidc_person(db, d, &c, &u, err, sizeof err), KD_EAUTH);
	c = claims_for("ana@gmail.example", true, NULL);
	assert_int_equal(oidc_person(db, d, &c, &u, err, sizeof err), KD_EAUTH);
	assert_non_null(strstr(err, "district account"));
	c = claims_for("", true, NULL);
	assert_int_equal(oidc_person(db, d, &c, &u, err, sizeof err), KD_EAUTH);

	c = claims_for("carla@district.example", true, NULL);
	assert_int_equal(oidc_person(db, d, &c, &u, err, sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "No kindling account uses the address carla@district.example"));
	assert_non_null(strstr(err, "admin"));
	/* nothing was created */
	assert_int_equal(oidc_person(db, d, &c, &u, err, sizeof err), KD_ENOTFOUND);

	c = claims_for("BO@district.example", true, NULL);
	assert_int_equal(oidc_person(db, d, &c, &u, err, sizeof err), KD_EPERM);
	assert_non_null(strstr(err, "disabled"));
	assert_non_null(strstr(err, "admin"));
	assert_int_equal(u.id, 0);
}

/* ------------------------------------------------------------ a provider in this process */

struct idp {
	int lfd, port;
	pthread_t th;
	volatile int stop;
	pthread_mutex_t lock;
	char issuer[64];
	char doc_issuer[80]; /* what discovery says the issuer is */
	char *jwks;          /* served at /jwks */
	char *id_token;      /* answered at /token */
	int token_status;
	char token_auth[512], token_form[4096];
	int discoveries, jwks_hits, token_hits;
};

static void idp_reply(int c, int status, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	                 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, strlen(body));
	(void)!send(c, head, (size_t)n, MSG_NOSIGNAL);
	for (size_t off = 0, len = strlen(body); off < len;) {
		ssize_t w = send(c, body + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void idp_handle(struct idp *f, int c)
{
	char h[8192];
	size_t got = 0;
	while (got < sizeof h - 1 && read(c, h + got, 1) == 1) {
		got++;
		if (got >= 4 && !memcmp(h + got - 4, "\r\n\r\n", 4))
			break;
	}
	h[got] = '\0';
	const char *cl = strcasestr(h, "\r\nContent-Length:");
	size_t len = cl ? strtoul(cl + 17, NULL, 10) : 0;
	char body[4096];
	size_t kept = 0;
	while (kept < len && kept < sizeof body - 1) {
		ssize_t r = read(c, body + kept, len - kept < sizeof body - 1 - kept ? len - kept
		                                                                       : sizeof body - 1 - kept);
		if (r <= 0)
			break;
		kept += (size_t)r;
	}
	body[kept] = '\0';
	pthread_mutex_lock(&f->lock);
	if (starts(h, "GET /.well-known/openid-configuration ")) {
		f->discoveries++;
		char doc[1024];
		snprintf(doc, sizeof doc, "{\"issuer\":\"%s\",\"authorization_endpoint\":\"%s/auth?"
		         "prompt=login\",\"token_endpoint\":\"%s/token\",\"jwks_uri\":\"%s/jwks\","
		         "\"response_types_supported\":[\"code\"],\"code_challenge_methods_supported\":"
		         "[\"S256\"],\"token_endpoint_auth_methods_supported\":[\"client_secret_basic\","
		         "\"private_key_jwt\"]}", f->doc_issuer, f->issuer, f->issuer, f->issuer);
		idp_reply(c, 200, doc);
	} else if (starts(h, "GET /jwks ")) {
		f->jwks_hits++;
		idp_reply(c, 200, f->jwks);
	} else if (starts(h, "POST /token ")) {
		f->token_hits++;
		const char *a = strcasestr(h, "\r\nAuthorization:");
		snprintf(f->token_auth, sizeof f->token_auth, "%.*s", a ? (int)strcspn(a + 17, "\r") : 0,
		         a ? a + 17 + strspn(a + 17, " ") : "");
		snprintf(f->token_form, sizeof f->token_form, "%s", body);
		char *reply = NULL;
		if (f->token_status == 200 &&
		    asprintf(&reply, "{\"access_token\":\"at\",\"token_type\":\"Bearer\","
		             "\"id_token\":\"%s\"}", f->id_token ? f->id_token : "") < 0)
			reply = NULL;
		else if (f->token_status != 200)
			reply = strdup("{\"error\":\"invalid_grant\",\"error_description\":\"grant request "
			               "is invalid\"}");
		idp_reply(c, f->token_status, reply ? reply : "{}");
		free(reply);
	} else {
		idp_reply(c, 404, "{}");
	}
	pthread_mutex_unlock(&f->lock);
}

static void *idp_serve(void *arg)
{
	struct idp *f = arg;
	while (!f->stop) {
		struct pollfd p = {f->lfd, POLLIN, 0};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			continue;
		idp_handle(f, c);
		shutdown(c, SHUT_RDWR);
		close(c);
	}
	return NULL;
}

static void idp_start(struct idp *f)
{
	memset(f, 0, sizeof *f);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(f->lfd, 16) < 0 ||
	    getsockname(f->lfd, (struct sockaddr *)&a, &al) < 0)
		fail_msg("listen: %s", strerror(errno));
	f->port = ntohs(a.sin_port);
	snprintf(f->issuer, sizeof f->issuer, "http://127.0.0.1:%d", f->port);
	snprintf(f->doc_issuer, sizeof f->doc_issuer, "%s", f->issuer);
	pthread_mutex_init(&f->lock, NULL);
	f->jwks = jwks_of(1, jwk_pub(key_a, "k1", "{\"use\":\"sig\",\"alg\":\"RS256\"}"));
	f->token_status = 200;
	pthread_create(&f->th, NULL, idp_serve, f);
}

static void idp_stop(struct idp *f)
{
	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->lfd);
	pthread_mutex_destroy(&f->lock);
	free(f->jwks);
	free(f->id_token);
}

static void idp_set(struct idp *f, char **field, char *value)
{
	pthread_mutex_lock(&f->lock);
	free(*field);
	*field = value;
	pthread_mutex_unlock(&f->lock);
}

#define REDIRECT "http://127.0.0.1:8080/auth/oidc/callback"
#define SECRET "s3cr:et/+ x"

static struct oidc_provider *provider_at(struct idp *f)
{
	struct oidc_settings s = {.issuer = f->issuer, .client_id = CID, .client_secret = SECRET,
	                          .domains = "district.example"};
	struct oidc_provider *p = NULL;
	char err[KD_ERRMSG_MAX];
	if (oidc_provider_new(&s, &p, err, sizeof err) != 0)
		fail_msg("%s", err);
	return p;
}

/* The value of query parameter name in url (into out). */
static void query_value(const char *url, const char *name, char *out, size_t cap)
{
	char key[64];
	snprintf(key, sizeof key, "&%s=", name);
	const char *v = strstr(url, key);
	if (!v)
		fail_msg("%s has no %s", url, name);
	v += strlen(key);
	snprintf(out, cap, "%.*s", (int)strcspn(v, "&"), v);
}

/* Begin a sign-in; its state into state, and the token the provider will
 * answer made by k (kid) with the sign-in's nonce and this email. */
static void begin_with(struct idp *f, struct oidc_provider *p, struct kd_db *db, const char *next,
                       cjose_jwk_t *k, const char *kid, const char *email, char *state,
                       char **url_out)
{
	char *url = NULL, err[KD_ERRMSG_MAX], nonce[64];
	int rc = oidc_begin_state(p, db, REDIRECT, next, &url, state, err, sizeof err);
	if (rc != 0)
		fail_msg("oidc_begin_state: %d %s", rc, err);
	query_value(url, "nonce", nonce, sizeof nonce);
	json_t *cl = good_claims(nonce);
	json_object_set_new(cl, "iss", json_string(f->issuer));
	json_object_set_new(cl, "email", json_string(email));
	idp_set(f, &f->id_token, sign(k, "RS256", kid, cl));
	if (url_out)
		*url_out = url;
	else
		free(url);
}

static void signs_in_through_the_provider(void **state)
{
	struct kd_db *db = *state;
	int64_t ana = person(db, "ana", "Ana.Lopez@district.example", false);
	struct idp f;
	idp_start(&f);
	struct oidc_provider *p = provider_at(&f);
	char st[OIDC_STATE_MAX], next[256], err[KD_ERRMSG_MAX], *url;
	struct kd_user u;
	begin_with(&f, p, db, "/clips/3?tab=notes", key_a, "k1", "ana.lopez@district.example", st, &url);

	/* the URL: the endpoint's own query kept, then ours */
	char want[256];
	snprintf(want, sizeof want, "%s/auth?prompt=login&response_type=code&", f.issuer);
	assert_memory_equal(url, want, strlen(want));
	assert_non_null(strstr(url, "&scope=openid%20email%20profile&"));
	assert_non_null(strstr(url, "&client_id=" CID "&"));
	assert_non_null(strstr(url, "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fauth%2Foidc%2Fcallback&"));
	assert_non_null(strstr(url, "&code_challenge_method=S256"));
	char qstate[64], challenge[64], nonce[64];
	query_value(url, "state", qstate, sizeof qstate);
	query_value(url, "code_challenge", challenge, sizeof challenge);
	query_value(url, "nonce", nonce, sizeof nonce);
	assert_string_equal(qstate, st);
	assert_int_equal(strlen(st), 43);
	assert_int_equal(strlen(nonce), 43);
	assert_string_not_equal(st, nonce);
	assert_int_equal(f.discoveries, 1);

	assert_int_equal(oidc_finish(p, db, st, "c0de/+", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), 0);
	assert_int_equal(u.id, ana);
	assert_string_equal(next, "/clips/3?tab=notes");
	/* client_secret_basic, both halves form-encoded */
	const char *cred = CID ":s3cr%3Aet%2F%2B%20x";
	char *b64 = malloc(256), basic[300];
	sodium_bin2base64(b64, 256, (const unsigned char *)cred, strlen(cred),
	                  sodium_base64_VARIANT_ORIGINAL);
	snprintf(basic, sizeof basic, "Basic %s", b64);
	free(b64);
	assert_string_equal(f.token_auth, basic);
	/* the form: the code, the redirect and the verifier of the challenge */
	assert_non_null(strstr(f.token_form, "grant_type=authorization_code"));
	assert_non_null(strstr(f.token_form, "code=c0de%2F%2B"));
	assert_non_null(strstr(f.token_form, "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fauth%2Foidc%2Fcallback"));
	assert_null(strstr(f.token_form, SECRET));
	char verifier[64];
	const char *v = strstr(f.token_form, "code_verifier=");
	assert_non_null(v);
	snprintf(verifier, sizeof verifier, "%.*s", (int)strcspn(v + 14, "&"), v + 14);
	assert_int_equal(strlen(verifier), 43);
	unsigned char h[32];
	crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
	char *expect = b64url(h, sizeof h);
	assert_string_equal(challenge, expect);
	free(expect);

	/* the same state again: refused before the provider is asked */
	int hits = f.token_hits;
	assert_int_equal(oidc_finish(p, db, st, "c0de", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_EAUTH);
	assert_int_equal(f.token_hits, hits);
	assert_int_equal(u.id, 0);
	assert_int_equal(oidc_finish(p, db, "", "c0de", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_EAUTH);
	assert_int_equal(oidc_finish(p, db, NULL, NULL, REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_EAUTH);
	assert_non_null(strstr(err, "sign in again"));

	/* a next that would leave the site is not kept */
	begin_with(&f, p, db, "//evil.example/x", key_a, "k1", "ana.lopez@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c0de", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), 0);
	assert_string_equal(next, "/");
	assert_int_equal(f.discoveries, 1);
	assert_int_equal(f.jwks_hits, 1);
	free(url);
	oidc_provider_free(p);
	idp_stop(&f);
}

static void refusals_come_back_in_words(void **state)
{
	struct kd_db *db = *state;
	person(db, "ana", "ana@district.example", false);
	person(db, "bo", "bo@district.example", true);
	struct idp f;
	idp_start(&f);
	struct oidc_provider *p = provider_at(&f);
	char st[OIDC_STATE_MAX], next[256], err[KD_ERRMSG_MAX];
	struct kd_user u;

	begin_with(&f, p, db, "/", key_a, "k1", "carla@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "No kindling account uses the address carla@district.example"));
	begin_with(&f, p, db, "/", key_a, "k1", "bo@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_EPERM);
	begin_with(&f, p, db, "/", key_a, "k1", "ana@elsewhere.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_EAUTH);
	/* signed by another key under the same kid */
	begin_with(&f, p, db, "/", key_b, "k1", "ana@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_EAUTH);
	assert_non_null(strstr(err, "cannot trust"));
	/* no code (the person said no at the provider) */
	begin_with(&f, p, db, "/", key_a, "k1", "ana@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_EAUTH);
	/* the provider refuses the code */
	f.token_status = 400;
	begin_with(&f, p, db, "/", key_a, "k1", "ana@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_EIO);
	assert_non_null(strstr(err, "invalid_grant"));
	f.token_status = 200;
	/* keys over 1 MiB are not read (a provider that has none kept yet) */
	oidc_provider_free(p);
	p = provider_at(&f);
	char *big = malloc(2 << 20);
	memset(big, ' ', (2 << 20) - 1);
	memcpy(big, "{\"keys\":[]}", 11);
	big[(2 << 20) - 1] = '\0';
	idp_set(&f, &f.jwks, big);
	begin_with(&f, p, db, "/", key_a, "k1", "ana@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_EIO);
	assert_non_null(strstr(err, "1 MiB"));
	oidc_provider_free(p);
	idp_stop(&f);
}

static void rotated_keys_are_fetched_again(void **state)
{
	struct kd_db *db = *state;
	int64_t ana = person(db, "ana", "ana@district.example", false);
	struct idp f;
	idp_start(&f);
	struct oidc_provider *p = provider_at(&f);
	char st[OIDC_STATE_MAX], next[256], err[KD_ERRMSG_MAX];
	struct kd_user u;

	begin_with(&f, p, db, "/", key_a, "k1", "ana@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), 0);
	assert_int_equal(f.jwks_hits, 1);
	/* the provider rotates to C ("k2"): fetched again at once */
	idp_set(&f, &f.jwks, jwks_of(1, jwk_pub(key_c, "k2", NULL)));
	begin_with(&f, p, db, "/", key_c, "k2", "ana@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), 0);
	assert_int_equal(u.id, ana);
	assert_int_equal(f.jwks_hits, 2);
	/* the keys kept are the new ones */
	begin_with(&f, p, db, "/", key_c, "k2", "ana@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), 0);
	assert_int_equal(f.jwks_hits, 2);
	/* and again within OIDC_JWKS_MIN_REFETCH_S: not fetched, refused */
	idp_set(&f, &f.jwks, jwks_of(1, jwk_pub(key_b, "k3", NULL)));
	begin_with(&f, p, db, "/", key_b, "k3", "ana@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_EAUTH);
	assert_non_null(strstr(err, "k3"));
	assert_int_equal(f.jwks_hits, 2);
	/* a kid nobody has makes no fetch either */
	begin_with(&f, p, db, "/", key_a, "nobody", "ana@district.example", st, NULL);
	assert_int_equal(oidc_finish(p, db, st, "c", REDIRECT, &u, next, sizeof next, err,
	                             sizeof err), KD_EAUTH);
	assert_int_equal(f.jwks_hits, 2);
	oidc_provider_free(p);
	idp_stop(&f);
}

static void discovery_is_checked(void **state)
{
	struct kd_db *db = *state;
	struct idp f;
	idp_start(&f);
	char err[KD_ERRMSG_MAX], *url = NULL;
	/* the document names another issuer (a trailing slash is another) */
	snprintf(f.doc_issuer, sizeof f.doc_issuer, "%s/", f.issuer);
	struct oidc_provider *p = provider_at(&f);
	assert_int_equal(oidc_discover(p, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "set oidc_issuer to exactly that"));
	assert_int_equal(oidc_begin(p, db, REDIRECT, "/", &url, err, sizeof err), KD_EIO);
	assert_null(url);
	assert_int_equal(count_logins(db), 0);
	/* tried again after a failure, and kept once right */
	snprintf(f.doc_issuer, sizeof f.doc_issuer, "%s", f.issuer);
	assert_int_equal(oidc_discover(p, err, sizeof err), 0);
	assert_int_equal(oidc_discover(p, err, sizeof err), 0);
	assert_int_equal(f.discoveries, 3);
	oidc_provider_free(p);
	idp_stop(&f);

	/* nobody listening */
	struct oidc_settings s = {.issuer = "http://127.0.0.1:1", .client_id = "c",
	                          .client_secret = "s"};
	assert_int_equal(oidc_provider_new(&s, &p, err, sizeof err), 0);
	assert_int_equal(oidc_begin(p, db, REDIRECT, "/", &url, err, sizeof err), KD_EIO);
	assert_non_null(strstr(err, "127.0.0.1:1"));
	oidc_provider_free(p);
}

static void settings_are_checked(void **state)
{
	(void)state;
	struct oidc_provider *p = NULL;
	char err[KD_ERRMSG_MAX];
	const char *bad[] = {"http://idp.example", "ftp://idp.example", "idp.example", "",
	                     "http://127.0.0.1:80@evil.example", "https://idp.example?x=1",
	                     "http://127.0.0.10", "http://localhost.evil.example", "https://",
	                     "http://[::1]x.example"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct oidc_settings s = {.issuer = bad[i], .client_id = "c", .client_secret = "s"};
		if (oidc_provider_new(&s, &p, err, sizeof err) != KD_EINVAL)
			fail_msg("issuer %s accepted", bad[i]);
		assert_null(p);
	}
	const char *good[] = {"https://accounts.google.com", "https://login.microsoftonline.com/x/v2.0",
	                      "http://127.0.0.1:9000", "http://[::1]:9000/", "http://localhost"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct oidc_settings s = {.issuer = good[i], .client_id = "c", .client_secret = "s"};
		assert_int_equal(oidc_provider_new(&s, &p, err, sizeof err), 0);
		oidc_provider_free(p);
	}
	struct oidc_settings s = {.issuer = "https://accounts.google.com", .client_id = "c"};
	assert_int_equal(oidc_provider_new(&s, &p, err, sizeof err), KD_EINVAL);
	s.client_secret = "";
	assert_int_equal(oidc_provider_new(&s, &p, err, sizeof err), KD_EINVAL);
	s.client_secret = "s";
	s.client_id = NULL;
	assert_int_equal(oidc_provider_new(&s, &p, err, sizeof err), KD_EINVAL);
	oidc_provider_free(NULL);
}

/* ------------------------------------------------------------ */

static int make_keys(void **state)
{
	(void)state;
	cjose_err e;
	static const uint8_t f4[] = {0x01, 0x00, 0x01};
	assert_int_equal(users_init(), 0);
	key_a = cjose_jwk_create_RSA_random(2048, f4, sizeof f4, &e);
	key_b = cjose_jwk_create_RSA_random(2048, f4, sizeof f4, &e);
	key_c = cjose_jwk_create_RSA_random(2048, f4, sizeof f4, &e);
	key_ec = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &e);
	if (!key_a || !key_b || !key_c || !key_ec)
		fail_msg("cannot make keys: %s", e.message);
	jwks_main = jwks_of(2, jwk_pub(key_a, "k1", NULL), jwk_pub(key_ec, "e1", "{\"use\":\"sig\"}"));
	return 0;
}

static int free_keys(void **state)
{
	(void)state;
	cjose_jwk_release(key_a);
	cjose_jwk_release(key_b);
	cjose_jwk_release(key_c);
	cjose_jwk_release(key_ec);
	free(jwks_main);
	return 0;
}

#define DBT(f) cmocka_unit_test_setup_teardown(f, db_setup, test_db_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_tokens_verify),
		cmocka_unit_test(token_without_kid_tries_each_key),
		cmocka_unit_test(wrong_claims_are_refused),
		cmocka_unit_test(bad_signatures_are_refused),
		cmocka_unit_test(unsafe_algorithms_are_refused),
		cmocka_unit_test(unknown_key_is_not_found),
		cmocka_unit_test(garbage_is_refused),
		DBT(a_state_works_once),
		DBT(missing_and_unknown_states_are_refused),
		DBT(expired_states_are_refused_and_removed),
		cmocka_unit_test(domains_are_checked),
		DBT(people_are_matched_by_address),
		DBT(signs_in_through_the_provider),
		DBT(refusals_come_back_in_words),
		DBT(rotated_keys_are_fetched_again),
		DBT(discovery_is_checked),
		cmocka_unit_test(settings_are_checked),
	};
	return cmocka_run_group_tests(tests, make_keys, free_keys);
}
