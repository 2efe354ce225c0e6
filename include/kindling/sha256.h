/*
 * sha256.h - SHA-256, the identity of a clip's bytes (duplicate checks,
 * `kindling check`), shared by the server and the command line.
 *
 * libcrypto does the hashing: it uses the CPU's SHA instructions where
 * there are some, several times faster than a portable implementation on
 * the gigabytes a district uploads.
 */
#ifndef KINDLING_SHA256_H
#define KINDLING_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* 64 lowercase hex digits and the terminator. */
#define KD_SHA256_HEX 65

/* A hash being computed.  Init, update any number of times, final once. */
struct kd_sha256 {
	void *ctx; /* SHA256_CTX */
};

/* Start a hash.  Returns 0, or KD_ENOMEM. */
int kd_sha256_init(struct kd_sha256 *h);
void kd_sha256_update(struct kd_sha256 *h, const void *data, size_t len);
/* Write the digest as hex and release the hash (init again to reuse). */
void kd_sha256_final(struct kd_sha256 *h, char hex[KD_SHA256_HEX]);
/* Release a hash that will not be finished. */
void kd_sha256_abort(struct kd_sha256 *h);
/* How many bytes have gone into the hash. */
uint64_t kd_sha256_bytes(const struct kd_sha256 *h);

/*
 * A hash's progress as one line of text, so that another process can go on
 * with it (an upload continued after the server restarted): the state after
 * the whole 64-byte blocks hashed so far.  The bytes after those (fewer
 * than 64) are not in it; the caller hashes them again from where it keeps
 * them.  Text from elsewhere is checked before it is used.
 */
#define KD_SHA256_STATE_MAX 112
/* Write the progress of h (unchanged) into text; returns the number of
 * bytes it covers, a multiple of 64. */
uint64_t kd_sha256_save(const struct kd_sha256 *h, char text[KD_SHA256_STATE_MAX]);
/* Start h from text written by kd_sha256_save; *bytes is what it covers.
 * Returns 0, KD_EINVAL for text that is not such a state (h is not
 * started), or KD_ENOMEM. */
int kd_sha256_restore(struct kd_sha256 *h, const char *text, uint64_t *bytes);

/* Hash len bytes of fd from offset from into h.  Returns 0, or KD_EIO
 * (errno set; EIO when the file is shorter). */
int kd_sha256_fd(struct kd_sha256 *h, int fd, uint64_t from, uint64_t len);

/* The SHA-256 of a whole file.  Returns 0, KD_ENOTFOUND, KD_EIO (errno
 * set) or KD_ENOMEM. */
int kd_sha256_file(const char *path, char hex[KD_SHA256_HEX]);

#endif
