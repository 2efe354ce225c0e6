/*
 * progress.h - how far an upload is, for the person watching: a bar
 * redrawn in place on a terminal, a line every 10 % otherwise (a log).
 * Private to src/cli/.
 */
#ifndef KINDLING_CLI_PROGRESS_H
#define KINDLING_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct progress {
	const char *name;      /* what is sent, as shown */
	int64_t total;         /* bytes of the whole file */
	int64_t base;          /* bytes the server had before the current request */
	int64_t sent_before;   /* sent by earlier requests of this run */
	int64_t sent;          /* sent in this run, all requests */
	struct timespec start;
	double last_print;
	int last_decile;
	bool tty;              /* standard error is a terminal */
	bool quiet;            /* print nothing */
};

/* Start showing the progress of a file of total bytes on standard error. */
void progress_start(struct progress *p, const char *name, int64_t total, bool quiet);
/* A new request starts at offset (the server's). */
void progress_request(struct progress *p, int64_t offset);
/* now_sent bytes of the current request are out (the sender's callback
 * also keeps p->sent); final: the file is done. */
void progress_draw(struct progress *p, int64_t now_sent, bool final);
/* The current request ended after sending `sent` bytes. */
void progress_request_end(struct progress *p, int64_t sent);
/* Before printing something else on standard error. */
void progress_break(const struct progress *p);

#endif
