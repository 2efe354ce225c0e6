/*
 * mem.h - allocation that never returns NULL.
 *
 * kindling treats running out of memory as fatal (like redis and kore):
 * the process logs and aborts, and the worker supervisor or the service
 * manager restarts it.  Every other failure is returned to the caller.
 */
#ifndef KINDLING_MEM_H
#define KINDLING_MEM_H

#include <stddef.h>

void *kd_malloc(size_t n);
void *kd_calloc(size_t count, size_t size);
void *kd_realloc(void *p, size_t n);
char *kd_strdup(const char *s);
char *kd_strndup(const char *s, size_t n);
/* printf into a new string; the caller frees it. */
char *kd_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
