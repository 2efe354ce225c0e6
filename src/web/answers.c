/* answers.c - whole answers kept for the next identical request (see
 * answers.h).  A hash table of answers, keyed by a keyed hash (SipHash,
 * so nobody can choose URLs that pile into one chain), with the least
 * recently used at the tail of one list. */
#include "answers.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "router.h"
#include "kindling/db.h"
#include "kindling/mem.h"

#define BUCKETS 4096 /* a power of two */
#define KEY_MAX 2048 /* longer addresses are answered, not kept */

struct answer {
	char *key;
	size_t key_len;
	uint64_t hash;
	int64_t epoch;
	time_t expires;
	unsigned status;
	struct MHD_Response *resp;
	size_t bytes;
	struct answer *chain;       /* the next in its bucket */
	struct answer *newer, *older; /* the recency list */
};

static struct {
	pthread_mutex_t lock;
	struct answer *bucket[BUCKETS];
	struct answer *newest, *oldest;
	size_t bytes, limit;
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
} A = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t keyed = PTHREAD_ONCE_INIT;

static void make_hash_key(void)
{
	randombytes_buf(A.hash_key, sizeof A.hash_key);
}

static uint64_t hash_of(const char *key, size_t len)
{
	pthread_once(&keyed, make_hash_key);
	unsigned char h[crypto_shorthash_BYTES];
	crypto_shorthash(h, (const unsigned char *)key, len, A.hash_key);
	uint64_t v;
	memcpy(&v, h, sizeof v);
	return v;
}

static void unlink_recent(struct answer *a)
{
	if (a->newer)
		a->newer->older = a->older;
	else
		A.newest = a->older;
	if (a->older)
		a->older->newer = a->newer;
	else
		A.oldest = a->newer;
	a->newer = a->older = NULL;
}

static void make_newest(struct answer *a)
{
	a->older = A.newest;
	a->newer = NULL;
	if (A.newest)
		A.newest->newer = a;
	A.newest = a;
	if (!A.oldest)
		A.oldest = a;
}

/* Take a out of the table and free it.  With the lock held. */
static void drop(struct answer *a)
{
	struct answer **p = &A.bucket[a->hash & (BUCKETS - 1)];
	while (*p && *p != a)
		p = &(*p)->chain;
	if (*p)
		*p = a->chain;
	unlink_recent(a);
	A.bytes -= a->bytes + a->key_len;
	/* MHD frees it once the last connection sending it is done */
	MHD_destroy_response(a->resp);
	free(a->key);
	free(a);
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *k,
                               const char *v)
{
	(void)kind;
	struct kd_buf *b = cls;
	kd_buf_putc(b, '&');
	kd_buf_puts(b, k);
	if (v) {
		kd_buf_putc(b, '=');
		kd_buf_puts(b, v);
	}
	return MHD_YES;
}

/* Who asks and what, as one string: the person, the browser session's form
 * token (its pages carry it), the path and every query argument in the
 * order given.  NULL when too long to keep. */
static char *key_of(struct request *req, size_t *len)
{
	struct kd_buf b = KD_BUF_INIT(KEY_MAX);
	kd_buf_put_i64(&b, req->user.id);
	kd_buf_putc(&b, '|');
	if (req->by_session)
		kd_buf_puts(&b, req->csrf);
	kd_buf_putc(&b, '|');
	kd_buf_puts(&b, req->path);
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_arg, &b);
	if (b.len >= KEY_MAX - 1) { /* it may have been cut short */
		kd_buf_release(&b);
		return NULL;
	}
	return kd_buf_take(&b, len);
}

static bool conditional(struct request *req)
{
	static const char *const names[] = {MHD_HTTP_HEADER_RANGE, MHD_HTTP_HEADER_IF_NONE_MATCH,
	                                    MHD_HTTP_HEADER_IF_MODIFIED_SINCE};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, names[i]))
			return true;
	return false;
}

void answers_limit(size_t bytes)
{
	pthread_mutex_lock(&A.lock);
	A.limit = bytes;
	while (A.bytes > A.limit && A.oldest)
		drop(A.oldest);
	pthread_mutex_unlock(&A.lock);
}

bool answers_try(struct request *req)
{
	const struct route *r = req->route;
	if (!A.limit || !r || !(r->flags & ROUTE_KEEP) || strcmp(req->method, "GET") != 0 || !req->signed_in ||
	    conditional(req))
		return false;
	size_t len;
	char *key = key_of(req, &len);
	if (!key)
		return false;
	int64_t epoch = req->epoch ? req->epoch : db_epoch(req->db);
	uint64_t h = hash_of(key, len);
	time_t now = time(NULL);
	struct MHD_Response *resp = NULL;
	unsigned status = 0;
	size_t bytes = 0;
	pthread_mutex_lock(&A.lock);
	for (struct answer *a = A.bucket[h & (BUCKETS - 1)]; a; a = a->chain) {
		if (a->hash != h || a->key_len != len || memcmp(a->key, key, len) != 0)
			continue;
		if (a->epoch == epoch && now < a->expires) {
			unlink_recent(a);
			make_newest(a);
			resp = a->resp;
			status = a->status;
			bytes = a->bytes;
			/* queued under the lock: it cannot be dropped meanwhile */
			if (MHD_queue_response(req->conn, status, resp) != MHD_YES)
				resp = NULL;
		} else {
			drop(a); /* stale: made before a change, or too old */
		}
		break;
	}
	pthread_mutex_unlock(&A.lock);
	if (resp) {
		free(key);
		req->status = status;
		req->bytes_out = bytes;
		req->answered = true;
		return true;
	}
	req->keep_key = key;
	req->keep_key_len = len;
	req->keep_epoch = epoch;
	return false;
}

bool answers_keep(struct request *req, unsigned status, struct MHD_Response *resp)
{
	if (!req->keep_key || req->keep_off || status != MHD_HTTP_OK)
		return false;
	struct answer *a = kd_calloc(1, sizeof *a);
	a->key = req->keep_key;
	a->key_len = req->keep_key_len;
	req->keep_key = NULL;
	a->hash = hash_of(a->key, a->key_len);
	a->epoch = req->keep_epoch;
	a->expires = time(NULL) + ANSWERS_TTL;
	a->status = status;
	a->resp = resp;
	a->bytes = (size_t)req->bytes_out;
	if (a->bytes + a->key_len > A.limit / 8) { /* one answer may not crowd out many */
		free(a->key);
		free(a);
		return false;
	}
	pthread_mutex_lock(&A.lock);
	struct answer **b = &A.bucket[a->hash & (BUCKETS - 1)];
	for (struct answer *old = *b; old; old = old->chain) {
		if (old->hash == a->hash && old->key_len == a->key_len &&
		    !memcmp(old->key, a->key, a->key_len)) {
			drop(old); /* another thread answered the same meanwhile */
			break;
		}
	}
	/* Room is made only from answers no longer good (an older epoch, past
	 * their time).  A good answer is never pushed out for a new one: when
	 * people walk through more pages than fit, as a crawler or a benchmark
	 * does, evicting the least recent would keep each just too short to
	 * be asked again, and nothing would ever be answered from here. */
	time_t now = time(NULL);
	int looked = 0;
	for (struct answer *o = A.oldest, *next;
	     o && looked++ < 64 && A.bytes + a->bytes + a->key_len > A.limit; o = next) {
		next = o->newer;
		if (o->epoch != a->epoch || now >= o->expires)
			drop(o);
	}
	bool room = A.bytes + a->bytes + a->key_len <= A.limit;
	if (room) {
		a->chain = *b;
		*b = a;
		make_newest(a);
		A.bytes += a->bytes + a->key_len;
	}
	pthread_mutex_unlock(&A.lock);
	if (!room) {
		free(a->key);
		free(a);
	}
	return room;
}

void answers_clear(void)
{
	pthread_mutex_lock(&A.lock);
	while (A.oldest)
		drop(A.oldest);
	pthread_mutex_unlock(&A.lock);
}
