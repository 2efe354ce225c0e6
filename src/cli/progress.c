/* progress.c - an upload's progress on standard error (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

void progress_start(struct progress *p, const char *name, int64_t total, bool quiet)
{
	*p = (struct progress){.name = name, .total = total, .tty = isatty(2), .last_decile = -1,
	                       .quiet = quiet};
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

void progress_request(struct progress *p, int64_t offset)
{
	p->base = offset;
}

void progress_request_end(struct progress *p, int64_t sent)
{
	p->sent_before += sent;
	p->sent = p->sent_before;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void human(double bytes, char *out, size_t len)
{
	const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	int u = 0;
	while (bytes >= 1000 && u < 4) {
		bytes /= 1000;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

void progress_draw(struct progress *p, int64_t now_sent, bool final)
{
	if (p->quiet)
		return;
	int64_t done = p->base + now_sent;
	double pct = p->total ? 100.0 * (double)done / (double)p->total : 100;
	double t = now_s(), elapsed = t - ((double)p->start.tv_sec + (double)p->start.tv_nsec / 1e9);
	double rate = elapsed > 0 ? (double)(p->sent_before + now_sent) / elapsed : 0;
	char d[16], tot[16], r[16], left[64] = "";
	human((double)done, d, sizeof d);
	human((double)p->total, tot, sizeof tot);
	human(rate, r, sizeof r);
	if (rate > 0 && done < p->total) {
		long s = (long)((double)(p->total - done) / rate);
		snprintf(left, sizeof left, ", %02ld:%02ld:%02ld left", s / 3600, s / 60 % 60, s % 60);
	}
	if (p->tty) {
		if (!final && t - p->last_print < 0.2)
			return;
		p->last_print = t;
		char bar[31];
		int fill = (int)(pct * 30 / 100);
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[30] = '\0';
		fprintf(stderr, "\r%-24.24s [%s] %5.1f%% %s/%s %s/s%s\033[K", p->name, bar, pct, d, tot,
		        r, left);
		if (final)
			fputc('\n', stderr);
	} else {
		int decile = (int)(pct / 10);
		if (decile <= p->last_decile)
			return;
		p->last_decile = decile;
		fprintf(stderr, "%s: %.0f%% (%s of %s, %s/s%s)\n", p->name, pct, d, tot, r, left);
	}
	fflush(stderr);
}

void progress_break(const struct progress *p)
{
	if (!p->quiet && p->tty)
		fputc('\n', stderr);
}
