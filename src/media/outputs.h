/*
 * outputs.h - the files one step of processing makes, made durable and
 * given their final names together.  Private to src/media/.
 *
 * Each file is written to a temporary name beside its final one and its
 * way to the disk started at once; outputs_commit() then waits for all
 * of it, syncs each file, renames them all and syncs each folder once.
 * Done file by file, every sync is a journal commit of its own: on a busy
 * disk, more time than a short clip takes to process.  Either way a crash
 * leaves each final name with the old file or the complete new one.
 */
#ifndef KINDLING_MEDIA_OUTPUTS_H
#define KINDLING_MEDIA_OUTPUTS_H

#include <stddef.h>
#include <stdint.h>

#define OUTPUTS_MAX 8

struct outputs {
	int n;
	struct {
		char *path;  /* the final name */
		char *tmp;   /* where it is written */
		int fd;
	} f[OUTPUTS_MAX];
};

void outputs_init(struct outputs *o);

/* A new file for path with these bytes.  Returns 0, or KD_EIO with err
 * naming the file. */
int outputs_write(struct outputs *o, const char *path, const void *data, size_t len,
                  char *err, size_t errlen);

/* A new, empty file for path, for the caller to write through *fd (which
 * stays ours: not to be closed); *tmp is its temporary name.  Returns 0,
 * or KD_EIO with err set. */
int outputs_open(struct outputs *o, const char *path, int *fd, const char **tmp, char *err,
                 size_t errlen);

/* Start writing to disk what fd holds from off, len bytes, without
 * waiting (a long file written in pieces need not wait for the end). */
void outputs_flush_start(int fd, int64_t off, int64_t len);

/* Make every file durable under its final name.  Returns 0, or KD_EIO
 * with err set (the temporaries are then left to outputs_release). */
int outputs_commit(struct outputs *o, char *err, size_t errlen);

/* Hand every file of src over to dst, to be committed with it; src is
 * left empty.  Returns 0, or KD_EIO with err set when dst has no room. */
int outputs_move(struct outputs *dst, struct outputs *src, char *err, size_t errlen);

/* Close everything, removing the temporaries of files not committed. */
void outputs_release(struct outputs *o);

#endif
