/* outputs.c - the files of one step, made durable together (see outputs.h). */
#define _GNU_SOURCE
#include "media/outputs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/mem.h"

void outputs_init(struct outputs *o)
{
	memset(o, 0, sizeof *o);
}

void outputs_flush_start(int fd, int64_t off, int64_t len)
{
	/* Only a hint: a file system without it still syncs at the commit. */
	(void)sync_file_range(fd, off, len, SYNC_FILE_RANGE_WRITE);
}

int outputs_open(struct outputs *o, const char *path, int *fd, const char **tmp, char *err,
                 size_t errlen)
{
	if (o->n >= OUTPUTS_MAX) {
		snprintf(err, errlen, "internal error: too many files at once");
		return KD_EIO;
	}
	char *t = kd_asprintf("%s.tmp", path);
	/* O_TRUNC: what an earlier attempt left under that name is not ours. */
	int f = open(t, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (f < 0) {
		snprintf(err, errlen, "could not write %s: %s", path, strerror(errno));
		free(t);
		return KD_EIO;
	}
	o->f[o->n].path = kd_strdup(path);
	o->f[o->n].tmp = t;
	o->f[o->n].fd = f;
	o->n++;
	*fd = f;
	if (tmp)
		*tmp = t;
	return 0;
}

int outputs_write(struct outputs *o, const char *path, const void *data, size_t len,
                  char *err, size_t errlen)
{
	int fd;
	int rc = outputs_open(o, path, &fd, NULL, err, errlen);
	if (rc < 0)
		return rc;
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "could not write %s: %s", path,
			         n < 0 ? strerror(errno) : "nothing written");
			return KD_EIO;
		}
		p += n;
		left -= (size_t)n;
	}
	outputs_flush_start(fd, 0, 0);
	return 0;
}

static int sync_dir_of(const char *path)
{
	char *copy = kd_strdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int outputs_commit(struct outputs *o, char *err, size_t errlen)
{
	/* First the data of every file on its way and waited for, so that
	 * the first fsync's journal commit carries all of them and the
	 * others find little left to do. */
	for (int i = 0; i < o->n; i++)
		outputs_flush_start(o->f[i].fd, 0, 0);
	for (int i = 0; i < o->n; i++)
		(void)sync_file_range(o->f[i].fd, 0, 0,
		                      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
		                              SYNC_FILE_RANGE_WAIT_AFTER);
	for (int i = 0; i < o->n; i++)
		if (fsync(o->f[i].fd) < 0) {
			snprintf(err, errlen, "could not save %s: %s", o->f[i].path, strerror(errno));
			return KD_EIO;
		}
	for (int i = 0; i < o->n; i++) {
		if (rename(o->f[i].tmp, o->f[i].path) < 0) {
			snprintf(err, errlen, "could not save %s: %s", o->f[i].path, strerror(errno));
			return KD_EIO;
		}
		free(o->f[i].tmp);
		o->f[i].tmp = NULL; /* committed: nothing to remove */
	}
	/* One sync per folder the renames touched. */
	for (int i = 0; i < o->n; i++) {
		bool seen = false;
		char *a = kd_strdup(o->f[i].path);
		const char *da = dirname(a);
		for (int j = 0; j < i && !seen; j++) {
			char *b = kd_strdup(o->f[j].path);
			seen = strcmp(da, dirname(b)) == 0;
			free(b);
		}
		free(a);
		if (!seen && sync_dir_of(o->f[i].path) < 0) {
			snprintf(err, errlen, "could not save %s: %s", o->f[i].path, strerror(errno));
			return KD_EIO;
		}
	}
	return 0;
}

int outputs_move(struct outputs *dst, struct outputs *src, char *err, size_t errlen)
{
	if (dst->n + src->n > OUTPUTS_MAX) {
		snprintf(err, errlen, "internal error: too many files at once");
		return KD_EIO;
	}
	for (int i = 0; i < src->n; i++)
		dst->f[dst->n++] = src->f[i];
	src->n = 0;
	return 0;
}

void outputs_release(struct outputs *o)
{
	for (int i = 0; i < o->n; i++) {
		if (o->f[i].fd >= 0)
			close(o->f[i].fd);
		if (o->f[i].tmp)
			unlink(o->f[i].tmp);
		free(o->f[i].tmp);
		free(o->f[i].path);
	}
	o->n = 0;
}
