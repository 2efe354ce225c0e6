/*
 * fs.h - the few file-system operations kindling needs, done safely.
 *
 * Writes go to a temporary name in the same folder, are fsync'd, and are
 * renamed over the target, so a crash leaves either the old file or the
 * new one, never half of one.
 */
#ifndef KINDLING_FS_H
#define KINDLING_FS_H

#include <stddef.h>

/* mkdir -p with the given mode.  Returns 0 or KD_EIO (errno set). */
int kd_mkdirs(const char *path, unsigned mode);

/* Make a finished temporary file durable under its final name: fsync it
 * (fd, or tmp opened here when fd is -1; fd stays open), rename tmp to
 * path, fsync the folder so the rename survives a power cut.  Returns 0 or
 * KD_EIO (errno set); on error tmp is left for the caller to remove. */
int kd_commit_file(int fd, const char *tmp, const char *path);

/* Write data to path atomically (temp file, fsync, rename, fsync dir).
 * Returns 0 or KD_EIO (errno set); the temporary file is removed on error. */
int kd_write_file_atomic(const char *path, const void *data, size_t len);

/* Read a whole file of at most max bytes into a new NUL-terminated string
 * (caller frees).  Returns 0, KD_ENOTFOUND, KD_ETOOBIG or KD_EIO. */
int kd_read_file(const char *path, size_t max, char **out, size_t *len);

/* Remove a folder and everything under it; a missing folder is not an
 * error.  Does not follow symbolic links.  Returns 0 or KD_EIO. */
int kd_remove_tree(const char *path);

/* Join two path parts with one '/'.  The caller frees the result. */
char *kd_path_join(const char *a, const char *b);

/* The path of the running binary (to start worker processes from); the
 * caller frees it. */
char *kd_self_exe(void);

#endif
