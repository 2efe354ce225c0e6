/*
 * log.h - levelled log lines on standard error.
 *
 * One line per event: "2026-11-23T20:01:56Z info  server: listening on ...".
 * Safe to call from any thread; each line is written with one write(2).
 */
#ifndef KINDLING_LOG_H
#define KINDLING_LOG_H

enum kd_log_level { KD_LOG_DEBUG, KD_LOG_INFO, KD_LOG_WARN, KD_LOG_ERROR };

/* Lines below this level are dropped.  Default: KD_LOG_INFO, or the
 * KINDLING_LOG environment variable (debug, info, warn, error). */
void kd_log_set_level(enum kd_log_level level);

void kd_log(enum kd_log_level level, const char *facility, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(fac, ...) kd_log(KD_LOG_DEBUG, fac, __VA_ARGS__)
#define log_info(fac, ...) kd_log(KD_LOG_INFO, fac, __VA_ARGS__)
#define log_warn(fac, ...) kd_log(KD_LOG_WARN, fac, __VA_ARGS__)
#define log_error(fac, ...) kd_log(KD_LOG_ERROR, fac, __VA_ARGS__)

#endif
