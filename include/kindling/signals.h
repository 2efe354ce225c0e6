/*
 * signals.h - how a long-running command (serve, work) is stopped.
 */
#ifndef KINDLING_SIGNALS_H
#define KINDLING_SIGNALS_H

#include <signal.h>

/* Block SIGINT and SIGTERM in the calling thread, before it starts any
 * other: every thread started after inherits the mask, so the stop
 * signals reach only the caller's sigwait()/sigtimedwait() on *stop.
 * SIGPIPE is ignored (a peer gone is an error from write, not a death).
 * Cannot fail. */
void kd_block_stop_signals(sigset_t *stop);

#endif
