/* sha256.c - SHA-256 on libcrypto (see sha256.h). */
#define _GNU_SOURCE
/* libcrypto's SHA256_* functions, deprecated in OpenSSL 3.0 in favour of
 * EVP, are the only way to read and set a hash's state: EVP keeps it
 * opaque, and an upload must carry its hash over a restart.  They run the
 * same code as EVP (the SHA instructions where the CPU has them). */
#define OPENSSL_API_COMPAT 10101
#include "kindling/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/mem.h"

/* Big reads: the hash runs at gigabytes a second, so the syscalls matter. */
#define CHUNK (1 << 20)

/* The text of a saved state: a tag, the bytes it covers, the 8 words. */
#define STATE_TAG "sha256-state-1"

int kd_sha256_init(struct kd_sha256 *h)
{
	SHA256_CTX *c = malloc(sizeof *c);
	if (!c || SHA256_Init(c) != 1) {
		free(c);
		h->ctx = NULL;
		return KD_ENOMEM;
	}
	h->ctx = c;
	return 0;
}

void kd_sha256_update(struct kd_sha256 *h, const void *data, size_t len)
{
	SHA256_Update(h->ctx, data, len);
}

void kd_sha256_final(struct kd_sha256 *h, char hex[KD_SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_Final(md, h->ctx);
	for (unsigned i = 0; i < sizeof md; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	kd_sha256_abort(h);
}

void kd_sha256_abort(struct kd_sha256 *h)
{
	free(h->ctx);
	h->ctx = NULL;
}

uint64_t kd_sha256_bytes(const struct kd_sha256 *h)
{
	const SHA256_CTX *c = h->ctx;
	return (((uint64_t)c->Nh << 32) | c->Nl) >> 3;
}

uint64_t kd_sha256_save(const struct kd_sha256 *h, char text[KD_SHA256_STATE_MAX])
{
	const SHA256_CTX *c = h->ctx;
	/* h[] is the state after the whole blocks; the partial one waits in
	 * data[] (num bytes) and is left to the caller to hash again. */
	uint64_t whole = kd_sha256_bytes(h) - c->num;
	int n = snprintf(text, KD_SHA256_STATE_MAX, STATE_TAG " %" PRIu64 " ", whole);
	for (int i = 0; i < 8; i++)
		n += snprintf(text + n, KD_SHA256_STATE_MAX - (size_t)n, "%08x", (unsigned)c->h[i]);
	return whole;
}

int kd_sha256_restore(struct kd_sha256 *h, const char *text, uint64_t *bytes)
{
	h->ctx = NULL;
	size_t tag = strlen(STATE_TAG);
	if (strncmp(text, STATE_TAG " ", tag + 1) != 0)
		return KD_EINVAL;
	const char *p = text + tag + 1;
	/* At most 17 digits: 2^56 bytes, and the bit count (<<3) cannot wrap. */
	size_t digits = strspn(p, "0123456789");
	if (digits == 0 || digits > 17 || p[digits] != ' ')
		return KD_EINVAL;
	uint64_t whole = strtoull(p, NULL, 10);
	p += digits + 1;
	if (whole % SHA256_CBLOCK != 0 || strlen(p) != 64 || strspn(p, "0123456789abcdef") != 64)
		return KD_EINVAL;
	int rc = kd_sha256_init(h);
	if (rc < 0)
		return rc;
	SHA256_CTX *c = h->ctx;
	for (int i = 0; i < 8; i++) {
		char word[9];
		memcpy(word, p + 8 * i, 8);
		word[8] = '\0';
		c->h[i] = (SHA_LONG)strtoul(word, NULL, 16);
	}
	c->Nl = (SHA_LONG)(whole << 3);
	c->Nh = (SHA_LONG)(whole >> 29);
	c->num = 0;
	*bytes = whole;
	return 0;
}

int kd_sha256_fd(struct kd_sha256 *h, int fd, uint64_t from, uint64_t len)
{
	size_t cap = len < CHUNK ? (size_t)len + 1 : CHUNK;
	unsigned char *buf = kd_malloc(cap);
	int rc = 0;
	while (len > 0) {
		ssize_t n = pread(fd, buf, len < cap ? (size_t)len : cap, (off_t)from);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* shorter than it should be */
			rc = KD_EIO;
			break;
		}
		kd_sha256_update(h, buf, (size_t)n);
		from += (uint64_t)n;
		len -= (uint64_t)n;
	}
	int saved = errno;
	free(buf);
	errno = saved;
	return rc;
}

int kd_sha256_file(const char *path, char hex[KD_SHA256_HEX])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? KD_ENOTFOUND : KD_EIO;
	struct kd_sha256 h;
	if (kd_sha256_init(&h) < 0) {
		close(fd);
		return KD_ENOMEM;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	unsigned char *buf = kd_malloc(CHUNK);
	ssize_t n;
	while ((n = read(fd, buf, CHUNK)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			kd_sha256_update(&h, buf, (size_t)n);
	int saved = errno;
	free(buf);
	close(fd);
	if (n < 0) {
		kd_sha256_abort(&h);
		errno = saved;
		return KD_EIO;
	}
	kd_sha256_final(&h, hex);
	return 0;
}
