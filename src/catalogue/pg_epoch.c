/* pg_epoch.c - db_epoch() on PostgreSQL, from notifications (pg_epoch.h). */
#include "pg_epoch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* Even: the listener is connected and listening; odd: it is not, and the
 * caller asks the snapshot itself.  (One word, so a reader sees both the
 * count and the state at once.) */
static atomic_int_fast64_t epoch = 3;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *listen_url;

static void bump(bool listening)
{
	int_fast64_t e = atomic_load(&epoch), n;
	do {
		n = (e | 1) + 1 + (listening ? 0 : 1);
	} while (!atomic_compare_exchange_weak(&epoch, &e, n));
}

void pg_epoch_committed(void)
{
	int_fast64_t e = atomic_load(&epoch);
	bump(!(e & 1));
}

/* The server's snapshot as a number (0 when it cannot be read). */
static uint64_t snapshot_of(struct pg_conn *c)
{
	struct pg_stmt *st;
	uint64_t h = 0;
	if (pg_prepare(c, "SELECT pg_current_snapshot()::text", &st) != DB_OK)
		return 0;
	if (pg_step(st) == DB_ROW) {
		h = 1469598103934665603u; /* FNV-1a */
		for (const char *p = pg_column_text(st, 0); p && *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211u;
	}
	pg_finalize(st);
	return h;
}

static void *listener(void *arg)
{
	(void)arg;
	struct pg_conn *c = NULL;
	uint64_t last = 0;
	time_t looked = 0;
	for (;;) {
		if (!c) {
			char err[KD_ERRMSG_MAX];
			if (pg_open(listen_url, &c, err, sizeof err) < 0 ||
			    pg_listen(c, PG_EPOCH_CHANNEL) != DB_OK) {
				pg_close(c);
				c = NULL;
				struct timespec s = {1, 0};
				nanosleep(&s, NULL);
				continue;
			}
			/* listening from now on: whatever came before is a change */
			last = snapshot_of(c);
			bump(true);
		}
		int got = pg_wait_notify(c, 1000);
		if (got < 0) {
			log_warn("db", "lost the catalogue's notifications of changes; each request asks "
			         "the catalogue until they are back");
			bump(false);
			pg_close(c);
			c = NULL;
			continue;
		}
		if (got > 0)
			bump(true);
		if (time(NULL) != looked) { /* writers that send no notification */
			looked = time(NULL);
			uint64_t now = snapshot_of(c);
			if (now != last) {
				last = now;
				bump(true);
			}
		}
	}
	return NULL;
}

static void start(void)
{
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, listener, NULL) != 0)
		log_warn("db", "cannot start listening for changes; each request asks the catalogue");
	pthread_attr_destroy(&a);
}

int64_t pg_epoch(struct pg_conn *c)
{
	if (!listen_url) {
		static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
		pthread_mutex_lock(&lock);
		if (!listen_url)
			listen_url = kd_strdup(pg_url(c));
		pthread_mutex_unlock(&lock);
	}
	pthread_once(&once, start);
	int_fast64_t e = atomic_load(&epoch);
	if (!(e & 1))
		return e;
	/* not listening (yet): the snapshot, asked now */
	static _Atomic uint64_t seen;
	uint64_t now = snapshot_of(c);
	if (now && atomic_exchange(&seen, now) == now)
		return atomic_load(&epoch);
	bump(false);
	return atomic_load(&epoch);
}
