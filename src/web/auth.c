/* auth.c - who is asking: bearer token or session cookie, and the CSRF
 * token a session's requests must carry (see auth.h). */
#include "auth.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "kindling/html.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/users.h"

/* Sign-ins checked lately, so that a request does not hash and look up
 * its credential in the catalogue again: each is good for one epoch of
 * the catalogue (db_epoch: a revoked token, a closed session, a disabled
 * person or a changed role is a change) and never past the credential's
 * own expiry or SIGNIN_KEEP_S.  Direct-mapped by a keyed hash of the
 * credential, which is all that is kept of it. */
#define SIGNINS 1024 /* a power of two */
#define SIGNIN_KEEP_S 300

struct signin {
	unsigned char key[16];
	bool used, by_session;
	int64_t epoch, until;
	struct kd_user user;
	char csrf[USERS_CSRF_MAX];
};

static struct signin signins[SIGNINS];
static pthread_mutex_t signins_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char signin_key[crypto_generichash_KEYBYTES];
static pthread_once_t signin_keyed = PTHREAD_ONCE_INIT;

static void make_signin_key(void)
{
	randombytes_buf(signin_key, sizeof signin_key);
}

static struct signin *signin_slot(char kind, const char *credential, unsigned char key[16])
{
	pthread_once(&signin_keyed, make_signin_key);
	crypto_generichash_state st;
	crypto_generichash_init(&st, signin_key, sizeof signin_key, 16);
	crypto_generichash_update(&st, (const unsigned char *)&kind, 1);
	crypto_generichash_update(&st, (const unsigned char *)credential, strlen(credential));
	crypto_generichash_final(&st, key, 16);
	uint32_t h;
	memcpy(&h, key, sizeof h);
	return &signins[h & (SIGNINS - 1)];
}

/* Check credential (a token, or with by_session a session cookie) against
 * the catalogue, or what was found for it in this epoch. */
static int check(struct request *req, const char *credential, bool by_session)
{
	unsigned char key[16];
	struct signin *s = signin_slot(by_session ? 's' : 't', credential, key);
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&signins_lock);
	bool hit = s->used && s->by_session == by_session && s->epoch == req->epoch &&
	           now < s->until && sodium_memcmp(s->key, key, sizeof key) == 0;
	if (hit) {
		req->user = s->user;
		memcpy(req->csrf, s->csrf, sizeof req->csrf);
	}
	pthread_mutex_unlock(&signins_lock);
	if (hit)
		return 0;
	int64_t until = 0;
	int rc = by_session ? users_auth_session(req->db, credential, &req->user, req->csrf, &until)
	                    : users_auth_token(req->db, credential, &req->user, &until);
	if (rc != 0)
		return rc;
	if (!until || until > now + SIGNIN_KEEP_S)
		until = now + SIGNIN_KEEP_S;
	pthread_mutex_lock(&signins_lock);
	s->used = true;
	s->by_session = by_session;
	memcpy(s->key, key, sizeof key);
	s->epoch = req->epoch;
	s->until = until;
	s->user = req->user;
	memcpy(s->csrf, by_session ? req->csrf : "", by_session ? sizeof s->csrf : 1);
	pthread_mutex_unlock(&signins_lock);
	return 0;
}

int auth_request(struct request *req)
{
	const char *h = req_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	int rc = KD_EAUTH;
	req->epoch = db_epoch(req->db);
	if (h) {
		if (strncasecmp(h, "Bearer ", 7) != 0)
			return KD_EAUTH;
		h += 7;
		while (*h == ' ')
			h++;
		rc = check(req, h, false);
	} else {
		const char *sid = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND,
		                                              SESSION_COOKIE);
		if (sid) {
			rc = check(req, sid, true);
			req->by_session = rc == 0;
		}
	}
	req->signed_in = rc == 0;
	return rc;
}

bool auth_csrf_needed(const char *method, const char *path)
{
	if (strncmp(path, "/api/v1/", 8) != 0)
		return false;
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	       strcmp(method, "OPTIONS") != 0;
}

bool auth_csrf_equal(const char *got, const char *want)
{
	if (!got || !want || !*want)
		return false;
	size_t n = strlen(want);
	return strlen(got) == n && sodium_memcmp(got, want, n) == 0;
}

bool auth_api_csrf_ok(struct request *req)
{
	if (!req->by_session || !auth_csrf_needed(req->method, req->path))
		return true;
	return auth_csrf_equal(req_header(req, "X-CSRF-Token"), req->csrf);
}

bool auth_form_csrf_ok(struct request *req)
{
	if (!req->by_session)
		return req->signed_in;
	char *got = form_value(req->body.data, req->body.len, "csrf", 0);
	bool ok = auth_csrf_equal(got, req->csrf);
	free(got);
	return ok;
}
