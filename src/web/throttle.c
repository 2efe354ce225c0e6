/* throttle.c - failure counters for sign-in (see throttle.h). */
#include "throttle.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define SLOTS 8192  /* a power of two */
#define WINDOW 32   /* slots a key may land in, from its hash on */
#define KEY_MAX 120

struct slot {
	char key[KEY_MAX];  /* "kind:key", "" when free */
	int failures;
	time_t until;       /* locked until */
	time_t touched;     /* last failure */
};

static struct slot slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char hash_key[crypto_shorthash_KEYBYTES];
static pthread_once_t keyed = PTHREAD_ONCE_INIT;

static void make_hash_key(void)
{
	randombytes_buf(hash_key, sizeof hash_key);
}

static void make_key(char *out, const char *kind, const char *key)
{
	snprintf(out, KEY_MAX, "%s:%s", kind, key);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static size_t home_of(const char *k)
{
	pthread_once(&keyed, make_hash_key);
	unsigned char h[crypto_shorthash_BYTES];
	crypto_shorthash(h, (const unsigned char *)k, strlen(k), hash_key);
	size_t v;
	memcpy(&v, h, sizeof v);
	return v & (SLOTS - 1);
}

/* Does the slot still count for anything? */
static bool live(const struct slot *s, time_t now)
{
	return s->key[0] && (s->until > now || now - s->touched < THROTTLE_FORGET);
}

/* The slot of k, or NULL; with room, a free one for it (else *room is
 * false).  Called with the lock held. */
static struct slot *find(const char *k, time_t now, struct slot **room)
{
	size_t h = home_of(k);
	struct slot *spare = NULL;
	for (size_t i = 0; i < WINDOW; i++) {
		struct slot *s = &slots[(h + i) & (SLOTS - 1)];
		if (s->key[0] && !strcmp(s->key, k))
			return s;
		if (!spare && !live(s, now))
			spare = s;
	}
	if (room)
		*room = spare;
	return NULL;
}

long throttle_wait(const char *kind, const char *key, time_t now)
{
	char k[KEY_MAX];
	make_key(k, kind, key);
	pthread_mutex_lock(&lock);
	struct slot *s = find(k, now, NULL);
	long wait = s && s->until > now ? (long)(s->until - now) : 0;
	pthread_mutex_unlock(&lock);
	return wait;
}

bool throttle_room(const char *kind, const char *key, time_t now)
{
	char k[KEY_MAX];
	make_key(k, kind, key);
	struct slot *spare = NULL;
	pthread_mutex_lock(&lock);
	bool ok = find(k, now, &spare) || spare;
	pthread_mutex_unlock(&lock);
	return ok;
}

long throttle_fail(const char *kind, const char *key, int free_tries, time_t now)
{
	char k[KEY_MAX];
	make_key(k, kind, key);
	pthread_mutex_lock(&lock);
	struct slot *spare = NULL, *s = find(k, now, &spare);
	if (!s && !spare) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	if (!s) {
		s = spare;
		memset(s, 0, sizeof *s);
		snprintf(s->key, KEY_MAX, "%s", k);
	} else if (!live(s, now)) {
		s->failures = 0; /* quiet for a long while: start again */
	}
	s->failures++;
	s->touched = now;
	long lock_s = 0;
	if (s->failures > free_tries) {
		int over = s->failures - free_tries - 1;
		lock_s = over >= 8 ? THROTTLE_MAX_LOCK : THROTTLE_FIRST_LOCK << over;
		if (lock_s > THROTTLE_MAX_LOCK)
			lock_s = THROTTLE_MAX_LOCK;
		s->until = now + lock_s;
	}
	pthread_mutex_unlock(&lock);
	return lock_s;
}

void throttle_clear(const char *kind, const char *key)
{
	char k[KEY_MAX];
	make_key(k, kind, key);
	pthread_mutex_lock(&lock);
	struct slot *s = find(k, 0, NULL);
	if (s)
		memset(s, 0, sizeof *s);
	pthread_mutex_unlock(&lock);
}

void throttle_reset(void)
{
	pthread_mutex_lock(&lock);
	memset(slots, 0, sizeof slots);
	pthread_mutex_unlock(&lock);
}
