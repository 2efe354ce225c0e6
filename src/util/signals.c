/* signals.c - the stop signals of long-running commands (see signals.h). */
#include "kindling/signals.h"

#include <pthread.h>

void kd_block_stop_signals(sigset_t *stop)
{
	sigemptyset(stop);
	sigaddset(stop, SIGINT);
	sigaddset(stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, stop, NULL);
	signal(SIGPIPE, SIG_IGN);
}
