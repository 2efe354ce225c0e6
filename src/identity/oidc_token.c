/* oidc_token.c - the ID token's checks (see oidc.h): its signature against
 * the provider's published keys, then its claims; and whether the person
 * it names may sign in.
 *
 * The token's header is read here before libcjose sees it, so that the
 * algorithm is judged by kindling's own list (asymmetric ones only) and a
 * refusal says which check failed; libcjose then verifies the signature
 * with each key of the JWKS that may have made it. */
#include "kindling/oidc.h"

#include <cjose/cjose.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kindling/err.h"
#include "kindling/log.h"

/* An ID token is a few kilobytes; this only bounds what a broken or
 * hostile answer makes us decode. */
#define JWT_MAX (64 * 1024)
#define RSA_MIN_BITS 2048

/* The algorithms accepted: signatures by a private key the provider alone
 * holds.  "none" and the HMAC ones (HS*: a secret shared with every
 * client, or a public key passed off as one) are refused by not being
 * here. */
struct jws_alg {
	const char *name;
	cjose_jwk_kty_t kty;
	int curve;      /* EC: the curve the algorithm is defined on */
	size_t sig_len; /* EC: r and s, each as long as the curve's order */
};

static const struct jws_alg algs[] = {
	{"RS256", CJOSE_JWK_KTY_RSA, 0, 0},
	{"RS384", CJOSE_JWK_KTY_RSA, 0, 0},
	{"RS512", CJOSE_JWK_KTY_RSA, 0, 0},
	{"PS256", CJOSE_JWK_KTY_RSA, 0, 0},
	{"PS384", CJOSE_JWK_KTY_RSA, 0, 0},
	{"PS512", CJOSE_JWK_KTY_RSA, 0, 0},
	{"ES256", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_256, 64},
	{"ES384", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_384, 96},
	{"ES512", CJOSE_JWK_KTY_EC, CJOSE_JWK_EC_P_521, 132},
};

static const struct jws_alg *find_alg(const char *name)
{
	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
		if (!strcmp(algs[i].name, name))
			return &algs[i];
	return NULL;
}

/* Is s (n bytes) base64url without padding, as JOSE writes it?  libcjose
 * must be given nothing else: its decoder asserts (aborts the process) on
 * some misplaced '=' instead of refusing them. */
static bool b64url_ok(const char *s, size_t n)
{
	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* Decode one base64url segment (no padding) into a new NUL-terminated
 * buffer; NULL when it is not base64url. */
static unsigned char *b64url_decode(const char *s, size_t n, size_t *outlen)
{
	unsigned char *out = malloc(n * 3 / 4 + 2);
	if (!out)
		return NULL;
	if (sodium_base642bin(out, n * 3 / 4 + 1, s, n, NULL, outlen, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		free(out);
		return NULL;
	}
	out[*outlen] = '\0';
	return out;
}

/* A JSON object from bytes, duplicate names refused: two "alg" or two
 * "aud" could be read one way here and another way elsewhere. */
static json_t *json_object_of(const void *p, size_t n)
{
	json_t *j = json_loadb(p, n, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static const char *str_member(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name)); /* NULL unless a string */
}

/* A NumericDate claim as whole seconds; false when absent or not a
 * number a date could be. */
static bool date_member(const json_t *o, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(o, name);
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (!isfinite(d) || d > 1e15 || d < -1e15)
			return false;
		*out = (int64_t)floor(d);
		return true;
	}
	return false;
}

/* Copy a claim, cut at a character boundary to fit (for the name only:
 * what identifies a person is refused when too long, never cut). */
static void copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The public key of a JWKS entry, as a JWK of only the members libcjose
 * reads (each checked first), or NULL when one is missing or malformed.
 * Private members a provider should not publish are left out. */
static json_t *public_jwk(const json_t *k, cjose_jwk_kty_t kty)
{
	static const char *const rsa[] = {"n", "e", NULL}, *const ec[] = {"x", "y", NULL};
	const char *const *names = kty == CJOSE_JWK_KTY_RSA ? rsa : ec;
	json_t *out = json_pack("{s:s}", "kty", kty == CJOSE_JWK_KTY_RSA ? "RSA" : "EC");
	if (kty == CJOSE_JWK_KTY_EC) {
		const char *crv = str_member(k, "crv");
		if (!crv || (strcmp(crv, "P-256") && strcmp(crv, "P-384") && strcmp(crv, "P-521"))) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, "crv", json_string(crv));
	}
	for (int i = 0; names[i]; i++) {
		const json_t *v = json_object_get(k, names[i]);
		const char *t = json_string_value(v);
		if (!t || !*t || !b64url_ok(t, json_string_length(v))) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, names[i], json_string(t));
	}
	return out;
}

/* Import the JWKS's keys that may have signed a token of this algorithm
 * and key id (kid NULL: every key of the algorithm's type).  Returns the
 * number imported into keys (at most max), or KD_ENOTFOUND when kid names
 * no key at all, or KD_EAUTH. */
static int pick_keys(const char *jwks_json, const struct jws_alg *alg, const char *kid,
                     cjose_jwk_t **keys, int max, char *err, size_t errlen)
{
	json_t *jwks = json_object_of(jwks_json, strlen(jwks_json));
	json_t *list = jwks ? json_object_get(jwks, "keys") : NULL;
	if (!json_is_array(list)) {
		snprintf(err, errlen, "the provider's keys (JWKS) are not a JSON object with a \"keys\" list");
		json_decref(jwks);
		return KD_EAUTH;
	}
	int n = 0;
	bool kid_seen = false;
	const char *why = "it has no key for this algorithm";
	size_t i;
	json_t *k;
	json_array_foreach(list, i, k) {
		if (n >= max)
			break;
		const char *kkid = str_member(k, "kid");
		if (kid && (!kkid || strcmp(kid, kkid) != 0))
			continue;
		kid_seen = true;
		const char *kty = str_member(k, "kty"), *use = str_member(k, "use");
		const char *kalg = str_member(k, "alg");
		if (!kty || strcmp(kty, alg->kty == CJOSE_JWK_KTY_RSA ? "RSA" : "EC") != 0 ||
		    (use && strcmp(use, "sig") != 0) || (kalg && strcmp(kalg, alg->name) != 0)) {
			why = "its key of that id is not for this algorithm";
			continue;
		}
		json_t *pub = public_jwk(k, alg->kty);
		char *text = pub ? json_dumps(pub, JSON_COMPACT) : NULL;
		json_decref(pub);
		cjose_err cerr;
		cjose_jwk_t *jwk = text ? cjose_jwk_import(text, strlen(text), &cerr) : NULL;
		free(text);
		if (!jwk) {
			why = "its key for this algorithm is not a valid JWK";
			continue;
		}
		bool fits = cjose_jwk_get_kty(jwk, &cerr) == alg->kty;
		if (fits && alg->kty == CJOSE_JWK_KTY_EC)
			fits = (int)cjose_jwk_EC_get_curve(jwk, &cerr) == alg->curve;
		if (fits && alg->kty == CJOSE_JWK_KTY_RSA)
			fits = cjose_jwk_get_keysize(jwk, &cerr) >= RSA_MIN_BITS;
		if (!fits) {
			why = "its key is of the wrong curve or too short for this algorithm";
			cjose_jwk_release(jwk);
			continue;
		}
		keys[n++] = jwk;
	}
	json_decref(jwks);
	if (kid && !kid_seen) {
		snprintf(err, errlen, "the token is signed with key \"%.64s\", which the provider's keys "
		         "(JWKS) do not hold", kid);
		return KD_ENOTFOUND;
	}
	if (n == 0) {
		snprintf(err, errlen, "the token is signed with %s but %s", alg->name, why);
		return KD_EAUTH;
	}
	return n;
}

/* The signature: the header's algorithm must be one of ours, and one of
 * the keys must verify it.  On success *payload is the token's claims. */
static int check_signature(const char *jwt, size_t len, const char *jwks_json, json_t **payload,
                           char *err, size_t errlen)
{
	const char *dot1 = memchr(jwt, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jwt))) {
		snprintf(err, errlen, "the ID token is not a signed token (three parts joined by dots)");
		return KD_EAUTH;
	}
	size_t hlen, siglen = len - (size_t)(dot2 + 1 - jwt);
	if (!b64url_ok(jwt, (size_t)(dot1 - jwt)) ||
	    !b64url_ok(dot1 + 1, (size_t)(dot2 - dot1 - 1)) || !b64url_ok(dot2 + 1, siglen)) {
		snprintf(err, errlen, "the ID token's parts are not base64url");
		return KD_EAUTH;
	}
	unsigned char *htext = b64url_decode(jwt, (size_t)(dot1 - jwt), &hlen);
	json_t *hdr = htext ? json_object_of(htext, hlen) : NULL;
	free(htext);
	const char *name = hdr ? str_member(hdr, "alg") : NULL;
	if (!name) {
		snprintf(err, errlen, "the ID token's header is not JSON naming an algorithm");
		json_decref(hdr);
		return KD_EAUTH;
	}
	const struct jws_alg *alg = find_alg(name);
	if (!alg) {
		snprintf(err, errlen, "the ID token is signed with \"%.20s\", which kindling refuses "
		         "(it accepts only RS*, PS* and ES*)", name);
		json_decref(hdr);
		return KD_EAUTH;
	}
	if (json_object_get(hdr, "crit")) {
		snprintf(err, errlen, "the ID token's header has critical parameters (crit) kindling "
		         "does not know");
		json_decref(hdr);
		return KD_EAUTH;
	}
	json_t *kidv = json_object_get(hdr, "kid");
	if (kidv && !json_is_string(kidv)) {
		snprintf(err, errlen, "the ID token's key id (kid) is not a string");
		json_decref(hdr);
		return KD_EAUTH;
	}
	if (alg->sig_len && siglen != (alg->sig_len * 4 + 2) / 3) {
		snprintf(err, errlen, "the ID token's %s signature has the wrong length", alg->name);
		json_decref(hdr);
		return KD_EAUTH;
	}

	cjose_jwk_t *keys[16];
	int nkeys = pick_keys(jwks_json, alg, json_string_value(kidv), keys, 16, err, errlen);
	json_decref(hdr);
	if (nkeys < 0)
		return nkeys;

	int rc = KD_EAUTH;
	cjose_err cerr;
	cjose_jws_t *jws = cjose_jws_import(jwt, len, &cerr);
	if (!jws) {
		snprintf(err, errlen, "the ID token is not a well-formed signed token (%s)",
		         cerr.message ? cerr.message : "libcjose refused it");
		goto out;
	}
	/* libcjose verifies with the algorithm of its own reading of the
	 * header: it must be the one judged above. */
	const char *calg = cjose_header_get(cjose_jws_get_protected(jws), CJOSE_HDR_ALG, &cerr);
	if (!calg || strcmp(calg, alg->name) != 0) {
		snprintf(err, errlen, "the ID token's header reads two ways");
		goto out;
	}
	bool verified = false;
	for (int i = 0; i < nkeys && !verified; i++)
		verified = cjose_jws_verify(jws, keys[i], &cerr);
	if (!verified) {
		snprintf(err, errlen, "the ID token's signature does not verify with the provider's keys");
		goto out;
	}
	uint8_t *plain;
	size_t plen;
	if (!cjose_jws_get_plaintext(jws, &plain, &plen, &cerr) ||
	    !(*payload = json_object_of(plain, plen))) {
		snprintf(err, errlen, "the ID token's claims are not a JSON object");
		goto out;
	}
	rc = 0;
out:
	cjose_jws_release(jws);
	for (int i = 0; i < nkeys; i++)
		cjose_jwk_release(keys[i]);
	return rc;
}

static bool audience_ok(const json_t *c, const char *client_id, char *err, size_t errlen)
{
	const json_t *aud = json_object_get(c, "aud");
	size_t naud = 0;
	bool ours = false;
	if (json_is_string(aud)) {
		naud = 1;
		ours = !strcmp(json_string_value(aud), client_id);
	} else if (json_is_array(aud)) {
		size_t i;
		const json_t *a;
		json_array_foreach(aud, i, a) {
			naud++;
			if (json_is_string(a) && !strcmp(json_string_value(a), client_id))
				ours = true;
		}
	}
	if (!ours) {
		snprintf(err, errlen, "the ID token is not meant for this client (its audience lacks "
		         "client id %.100s)", client_id);
		return false;
	}
	/* A token for several clients names the one it was issued to. */
	json_t *azp = json_object_get(c, "azp");
	if ((azp || naud > 1) &&
	    (!json_is_string(azp) || strcmp(json_string_value(azp), client_id) != 0)) {
		snprintf(err, errlen, "the ID token was issued to another client (azp)");
		return false;
	}
	return true;
}

static int check_claims(const json_t *c, const char *issuer, const char *client_id,
                        const char *nonce, int64_t now, struct oidc_claims *out, char *err,
                        size_t errlen)
{
	const char *iss = str_member(c, "iss");
	if (!iss || strcmp(iss, issuer) != 0) {
		snprintf(err, errlen, "the ID token's issuer is %.100s%s%s, not %.100s",
		         iss ? "\"" : "", iss ? iss : "missing", iss ? "\"" : "", issuer);
		return KD_EAUTH;
	}
	if (!audience_ok(c, client_id, err, errlen))
		return KD_EAUTH;
	int64_t exp, iat, nbf;
	if (!date_member(c, "exp", &exp) || !date_member(c, "iat", &iat)) {
		snprintf(err, errlen, "the ID token lacks its expiry (exp) or issue time (iat)");
		return KD_EAUTH;
	}
	if (exp < now - OIDC_LEEWAY_S) {
		snprintf(err, errlen, "the ID token has expired (at %lld; it is now %lld)", (long long)exp,
		         (long long)now);
		return KD_EAUTH;
	}
	if (iat > now + OIDC_LEEWAY_S ||
	    (json_object_get(c, "nbf") && (!date_member(c, "nbf", &nbf) || nbf > now + OIDC_LEEWAY_S))) {
		snprintf(err, errlen, "the ID token was issued in the future: is this server's clock or "
		         "the provider's wrong?");
		return KD_EAUTH;
	}
	const char *tn = str_member(c, "nonce");
	if (!tn || !nonce || !*nonce || strlen(tn) != strlen(nonce) ||
	    sodium_memcmp(tn, nonce, strlen(nonce)) != 0) {
		snprintf(err, errlen, "the ID token's nonce is %s", tn ? "not this sign-in's" : "missing");
		return KD_EAUTH;
	}
	const char *sub = str_member(c, "sub");
	const char *email = str_member(c, "email"), *hd = str_member(c, "hd");
	if (!sub || !*sub || strlen(sub) >= sizeof out->sub) {
		snprintf(err, errlen, "the ID token's subject (sub) is missing or too long");
		return KD_EAUTH;
	}
	if ((email && strlen(email) >= sizeof out->email) || (hd && strlen(hd) >= sizeof out->hd)) {
		snprintf(err, errlen, "the ID token's e-mail address or hosted domain is too long");
		return KD_EAUTH;
	}
	copy_cut(out->sub, sizeof out->sub, sub);
	copy_cut(out->email, sizeof out->email, email ? email : "");
	copy_cut(out->hd, sizeof out->hd, hd ? hd : "");
	const char *name = str_member(c, "name");
	copy_cut(out->name, sizeof out->name, name ? name : "");
	/* Some providers send it as a string. */
	const json_t *ev = json_object_get(c, "email_verified");
	out->email_verified = !(json_is_false(ev) ||
	                        (json_is_string(ev) && !strcasecmp(json_string_value(ev), "false")));
	return 0;
}

int oidc_verify_id_token(const char *jwt, const char *jwks_json, const char *issuer,
                         const char *client_id, const char *nonce, int64_t now,
                         struct oidc_claims *claims, char *err, size_t errlen)
{
	memset(claims, 0, sizeof *claims);
	size_t len = jwt ? strlen(jwt) : 0;
	if (len == 0 || len > JWT_MAX) {
		snprintf(err, errlen, "the ID token is %s", len ? "too long" : "missing");
		return KD_EAUTH;
	}
	if (!jwks_json || !issuer || !client_id) {
		snprintf(err, errlen, "no keys, issuer or client id to check the ID token against");
		return KD_EAUTH;
	}
	json_t *payload = NULL;
	int rc = check_signature(jwt, len, jwks_json, &payload, err, errlen);
	if (rc == 0)
		rc = check_claims(payload, issuer, client_id, nonce, now, claims, err, errlen);
	json_decref(payload);
	if (rc != 0)
		memset(claims, 0, sizeof *claims);
	return rc;
}

/* Is name (n bytes) one of the domains of list ("a.org, b.org")? */
static bool domain_in(const char *list, const char *name, size_t n)
{
	const char *p = list;
	while (*p) {
		p += strspn(p, ", \t");
		size_t m = strcspn(p, ", \t");
		if (m && m == n && !strncasecmp(p, name, n))
			return true;
		p += m;
	}
	return false;
}

bool oidc_domain_allowed(const char *domains, const char *email, const char *hd)
{
	if (!domains || !domains[strspn(domains, ", \t")])
		return true;
	const char *at = email ? strrchr(email, '@') : NULL;
	if (!at || !at[1] || !domain_in(domains, at + 1, strlen(at + 1)))
		return false;
	return !hd || !*hd || domain_in(domains, hd, strlen(hd));
}

int oidc_person(struct kd_db *db, const char *domains, const struct oidc_claims *claims,
                struct kd_user *user, char *err, size_t errlen)
{
	const char *email = claims->email;
	if (!*email || !strchr(email, '@')) {
		snprintf(err, errlen, "The district's sign-in service did not say your e-mail address, "
		         "which kindling needs to know who you are. Ask the district's kindling admin "
		         "to check its settings (the \"email\" scope).");
		return KD_EAUTH;
	}
	if (!claims->email_verified) {
		snprintf(err, errlen, "The district's sign-in service says your e-mail address %.320s "
		         "is not verified. Verify it with the district, then sign in again.", email);
		return KD_EAUTH;
	}
	if (!oidc_domain_allowed(domains, email, claims->hd)) {
		snprintf(err, errlen, "Addresses like %.320s%s%.255s%s cannot sign in to kindling: it "
		         "takes the district's own accounts only. Sign in with your district account, "
		         "or ask the district's kindling admin.", email, *claims->hd ? " (of " : "",
		         claims->hd, *claims->hd ? ")" : "");
		return KD_EAUTH;
	}
	bool disabled = false;
	int rc = users_find_email(db, email, user, &disabled);
	if (rc == KD_ENOTFOUND) {
		snprintf(err, errlen, "No kindling account uses the address %.320s. Ask the district's "
		         "kindling admin to add it.", email);
		return KD_ENOTFOUND;
	}
	if (rc != 0) {
		snprintf(err, errlen, "kindling could not look up your account: try again in a minute.");
		return rc;
	}
	if (disabled) {
		memset(user, 0, sizeof *user);
		snprintf(err, errlen, "The kindling account of %.320s is disabled. Ask the district's "
		         "kindling admin if you should still have access.", email);
		return KD_EPERM;
	}
	return 0;
}
