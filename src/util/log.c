/* log.c - levelled, thread-safe log lines on standard error (see log.h). */
#include "kindling/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static enum kd_log_level min_level = KD_LOG_INFO;
static int level_from_env_done;

void kd_log_set_level(enum kd_log_level level)
{
	min_level = level;
	level_from_env_done = 1;
}

static void level_from_env(void)
{
	const char *v = getenv("KINDLING_LOG");
	level_from_env_done = 1;
	if (!v)
		return;
	if (!strcasecmp(v, "debug"))
		min_level = KD_LOG_DEBUG;
	else if (!strcasecmp(v, "warn"))
		min_level = KD_LOG_WARN;
	else if (!strcasecmp(v, "error"))
		min_level = KD_LOG_ERROR;
}

void kd_log(enum kd_log_level level, const char *facility, const char *fmt, ...)
{
	static const char *names[] = {"debug", "info ", "warn ", "error"};
	if (!level_from_env_done)
		level_from_env();
	if (level < min_level)
		return;

	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
	int k = snprintf(line + n, sizeof line - n, "%s %s: ", names[level], facility);
	if (k > 0)
		n += (size_t)k < sizeof line - n ? (size_t)k : sizeof line - n - 1;

	char msg[1536], *out = line + n;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* The message may carry what a request said (a path, a name): control
	 * characters are written as \xNN, so nobody can forge a line. */
	static const char hex[] = "0123456789abcdef";
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if ((size_t)(out - line) + 5 >= sizeof line - 1)
			break;
		if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			*out++ = '\\';
			if (*p == '\\') {
				*out++ = '\\';
				continue;
			}
			*out++ = 'x';
			*out++ = hex[*p >> 4];
			*out++ = hex[*p & 15];
		} else {
			*out++ = (char)*p;
		}
	}
	n = (size_t)(out - line);
	line[n++] = '\n';
	(void)!write(2, line, n);
}
