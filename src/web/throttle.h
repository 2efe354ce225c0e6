/*
 * throttle.h - slowing down password guessing.  Private to src/web/.
 *
 * Failed sign-ins are counted in memory per key (a lowercased user name,
 * or a client address).  After `free_tries` failures each further one
 * locks the key for twice as long as the last, from 5 s up to 15 min; a
 * success clears the name's count.  Nothing here sleeps: a locked key is
 * answered at once with 429 and Retry-After.
 *
 * Keys are placed by a hash keyed with a secret made at start, so nobody
 * can pick names that land on another's entry.  The table has a fixed
 * size, and an entry that still counts (locked, or failed within the last
 * half hour) is never dropped to make room: when there is no room the
 * attempt is refused (throttle_room), never the count forgotten.
 * Thread-safe.
 */
#ifndef KINDLING_WEB_THROTTLE_H
#define KINDLING_WEB_THROTTLE_H

#include <stdbool.h>
#include <time.h>

#define THROTTLE_FIRST_LOCK 5L
#define THROTTLE_MAX_LOCK 900
/* A key with no failure for this long starts again from nothing. */
#define THROTTLE_FORGET (2 * THROTTLE_MAX_LOCK)

/* Seconds until key may try again (0: now). */
long throttle_wait(const char *kind, const char *key, time_t now);
/* Could a failure of key be counted?  False when the table has no room
 * for it: refuse the attempt. */
bool throttle_room(const char *kind, const char *key, time_t now);
/* Record a failure; returns the seconds the key is now locked for, or -1
 * when there was no room to count it. */
long throttle_fail(const char *kind, const char *key, int free_tries, time_t now);
/* Forget a key (after a success). */
void throttle_clear(const char *kind, const char *key);
/* Forget everything (tests). */
void throttle_reset(void);

#endif
