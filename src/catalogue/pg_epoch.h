/*
 * pg_epoch.h - db_epoch() on PostgreSQL without a round trip per request.
 * Private to src/catalogue/.
 *
 * What a server keeps in memory from the catalogue (answers, sign-ins, the
 * index) is kept for one epoch, asked for on every request.  Asking the
 * server every time (its snapshot changes with every commit that wrote)
 * costs a round trip per request: a quarter of what the server answers
 * from memory.  So each process learns of changes instead:
 *   - its own: a connection that wrote (pg_take_wrote) sends a NOTIFY on
 *     kindling_epoch with its commit, and the process moves its epoch on
 *     as soon as the commit returns (pg_epoch_committed);
 *   - other processes' and nodes': a thread LISTENs on kindling_epoch on a
 *     connection of its own, and moves the epoch on for each notification
 *     (PostgreSQL delivers them at the writer's commit; a few milliseconds
 *     later here);
 *   - anyone else's (psql, a restore): the same thread compares the
 *     server's snapshot every second.
 * While the thread has no connection (the server gone, a restart), every
 * call asks the snapshot on the caller's connection, as before.
 */
#ifndef KINDLING_CATALOGUE_PG_EPOCH_H
#define KINDLING_CATALOGUE_PG_EPOCH_H

#include <stdint.h>

#include "db_pg.h"

#define PG_EPOCH_CHANNEL "kindling_epoch"

/* The epoch (see db.h's db_epoch); c is the caller's connection, whose
 * URL the listening thread uses when it starts (the first call). */
int64_t pg_epoch(struct pg_conn *c);
/* A write of this process has committed. */
void pg_epoch_committed(void);

#endif
