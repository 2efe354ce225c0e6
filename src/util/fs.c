/* fs.c - directories, atomic writes, bounded reads (see fs.h). */
#define _GNU_SOURCE
#include "kindling/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/mem.h"

int kd_mkdirs(const char *path, unsigned mode)
{
	if (!*path) {
		errno = ENOENT;
		return KD_EIO;
	}
	char *p = kd_strdup(path);
	int rc = 0;
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			rc = KD_EIO;
			break;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	if (rc == 0) {
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			rc = KD_EIO;
		}
	}
	int saved_errno = errno;
	free(p);
	errno = saved_errno;
	return rc;
}

static int fsync_dir_of(const char *path)
{
	char *copy = kd_strdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	free(copy);
	if (fd < 0)
		return KD_EIO;
	int rc = fsync(fd) < 0 ? KD_EIO : 0;
	close(fd);
	return rc;
}

int kd_commit_file(int fd, const char *tmp, const char *path)
{
	int own = -1;
	if (fd < 0 && (fd = own = open(tmp, O_RDONLY | O_CLOEXEC)) < 0)
		return KD_EIO;
	int rc = fsync(fd) < 0 ? KD_EIO : 0;
	if (own >= 0) {
		int e = errno;
		close(own);
		errno = e;
	}
	if (rc == 0 && rename(tmp, path) < 0)
		rc = KD_EIO;
	return rc == 0 ? fsync_dir_of(path) : rc;
}

int kd_write_file_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = kd_asprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		goto fail_nofd;
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (kd_commit_file(fd, tmp, path) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	free(tmp);
	return 0;
fail: {
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
}
fail_nofd:
	free(tmp);
	return KD_EIO;
}

int kd_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? KD_ENOTFOUND : KD_EIO;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return KD_EIO;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		return S_ISREG(st.st_mode) ? KD_ETOOBIG : KD_EINVAL;
	}
	size_t size = (size_t)st.st_size, got = 0;
	char *data = kd_malloc(size + 1);
	while (got < size) {
		ssize_t r = read(fd, data + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	data[got] = '\0';
	*out = data;
	if (len)
		*len = got;
	return 0;
}

static int remove_at(int parent, const char *name)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return KD_EIO;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return KD_EIO;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return KD_EIO;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (remove_at(dirfd(d), e->d_name) < 0)
			rc = KD_EIO;
	}
	closedir(d);
	if (rc == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = KD_EIO;
	return rc;
}

int kd_remove_tree(const char *path)
{
	return remove_at(AT_FDCWD, path);
}

char *kd_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	while (la > 0 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (la == 0 && *a == '/')
		return kd_asprintf("/%s", b); /* under the root */
	return kd_asprintf("%.*s/%s", (int)la, a, b);
}

char *kd_self_exe(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return kd_strdup("kindling");
	buf[n] = '\0';
	return kd_strdup(buf);
}
