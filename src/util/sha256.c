/* sha256.c - SHA-256 on libcrypto (see sha256.h). */
#define _GNU_SOURCE
#include "kindling/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/mem.h"

/* Big reads: the hash runs at gigabytes a second, so the syscalls matter. */
#define CHUNK (1 << 20)

int kd_sha256_init(struct kd_sha256 *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		h->ctx = NULL;
		return KD_ENOMEM;
	}
	h->ctx = c;
	return 0;
}

void kd_sha256_update(struct kd_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void kd_sha256_final(struct kd_sha256 *h, char hex[KD_SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	kd_sha256_abort(h);
}

void kd_sha256_abort(struct kd_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
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
