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

/* 64 lowercase hex digits and the terminator. */
#define KD_SHA256_HEX 65

/* A hash being computed.  Init, update any number of times, final once. */
struct kd_sha256 {
	void *ctx; /* EVP_MD_CTX */
};

/* Start a hash.  Returns 0, or KD_ENOMEM. */
int kd_sha256_init(struct kd_sha256 *h);
void kd_sha256_update(struct kd_sha256 *h, const void *data, size_t len);
/* Write the digest as hex and release the hash (init again to reuse). */
void kd_sha256_final(struct kd_sha256 *h, char hex[KD_SHA256_HEX]);
/* Release a hash that will not be finished. */
void kd_sha256_abort(struct kd_sha256 *h);

/* The SHA-256 of a whole file.  Returns 0, KD_ENOTFOUND, KD_EIO (errno
 * set) or KD_ENOMEM. */
int kd_sha256_file(const char *path, char hex[KD_SHA256_HEX]);

#endif
