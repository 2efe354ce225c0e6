/*
 * throttle.h - slowing down password guessing.  Private to src/web/.
 *
 * Failed sign-ins are counted in memory per key (a lowercased user name,
 * or a client address).  After `free` failures each further one locks the
 * key for twice as long as the last, from 5 s up to 15 min; a success
 * clears the name's count.  Nothing here sleeps: a locked key is answered
 * at once with 429 and Retry-After.  The table has a fixed size; when it
 * is full the entry that changed longest ago makes room.  Thread-safe.
 */
#ifndef KINDLING_WEB_THROTTLE_H
#define KINDLING_WEB_THROTTLE_H

#include <time.h>

#define THROTTLE_FIRST_LOCK 5L
#define THROTTLE_MAX_LOCK 900

/* Seconds until key may try again (0: now).  free_tries: failures allowed
 * before locking. */
long throttle_wait(const char *kind, const char *key, time_t now);
/* Record a failure; returns the seconds the key is now locked for. */
long throttle_fail(const char *kind, const char *key, int free_tries, time_t now);
/* Forget a key (after a success). */
void throttle_clear(const char *kind, const char *key);
/* Forget everything (tests). */
void throttle_reset(void);

#endif
