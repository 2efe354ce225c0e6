/* throttle.c - failure counters for sign-in (see throttle.h). */
#include "throttle.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SLOTS 4096
#define KEY_MAX 120

struct slot {
	char key[KEY_MAX];  /* "kind:key", "" when free */
	int failures;
	time_t until;       /* locked until */
	time_t touched;
};

static struct slot slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void make_key(char *out, const char *kind, const char *key)
{
	snprintf(out, KEY_MAX, "%s:%s", kind, key);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of k, or NULL; with create, a new or reused one. */
static struct slot *find(const char *k, bool create, time_t now)
{
	unsigned h = hash(k);
	struct slot *oldest = NULL;
	for (unsigned i = 0; i < 16; i++) {
		struct slot *s = &slots[(h + i) % SLOTS];
		if (!strcmp(s->key, k))
			return s;
		if (!s->key[0] || (s->until <= now && now - s->touched > THROTTLE_MAX_LOCK * 2)) {
			if (!oldest || oldest->key[0])
				oldest = s;
		} else if (!oldest || (oldest->key[0] && s->touched < oldest->touched)) {
			oldest = s;
		}
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof *oldest);
	snprintf(oldest->key, KEY_MAX, "%s", k);
	return oldest;
}

long throttle_wait(const char *kind, const char *key, time_t now)
{
	char k[KEY_MAX];
	make_key(k, kind, key);
	pthread_mutex_lock(&lock);
	struct slot *s = find(k, false, now);
	long wait = s && s->until > now ? (long)(s->until - now) : 0;
	pthread_mutex_unlock(&lock);
	return wait;
}

long throttle_fail(const char *kind, const char *key, int free_tries, time_t now)
{
	char k[KEY_MAX];
	make_key(k, kind, key);
	pthread_mutex_lock(&lock);
	struct slot *s = find(k, true, now);
	/* a key quiet for a long while starts again */
	if (s->failures && s->until <= now && now - s->touched > THROTTLE_MAX_LOCK * 2)
		s->failures = 0;
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
	struct slot *s = find(k, false, 0);
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
