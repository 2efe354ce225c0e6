/* local.c - the data-folder back end: key K is the file <root>/K (see
 * storage.h and backend.h).
 *
 * Every write goes to a temporary file beside its target, named
 * ".<name>.tmp-XXXXXX" (a '.'-led name is never a key, so listings never
 * show one), is fsync'd and renamed over the target, and the folder is
 * fsync'd: a crash leaves the old object or the new, never half of one.
 * Multipart uploads live in <root>/.multipart/<id>/: a file "key" naming
 * the key, and one file per part, "<number>-<ETag>", so that listing the
 * parts is one readdir. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "keys.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/mem.h"
#include "kindling/sha256.h"

#define CHUNK (256 * 1024)
#define MPU_DIR ".multipart"
#define ID_HEX 32 /* an upload id: 16 random bytes in hex */

struct local {
	char *root; /* no trailing '/' */
};

static char *path_of(const struct local *l, const char *key)
{
	return kd_asprintf("%s/%s", l->root, key);
}

/* The folder part of a path (a new string). */
static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? kd_strndup(path, (size_t)(slash - path)) : kd_strdup(".");
}

static int io_error(char *err, size_t errlen, const char *doing, const char *what)
{
	int e = errno;
	snprintf(err, errlen, "cannot %s %s: %s", doing, what, strerror(e));
	errno = e;
	return e == ENOENT ? KD_ENOTFOUND : KD_EIO;
}

/* A new temporary file beside path (its folder made first): *fd open for
 * writing, *tmp its name. */
static int open_tmp(const char *path, int *fd, char **tmp, char *err, size_t errlen)
{
	char *dir = parent_of(path);
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int rc = kd_mkdirs(dir, 0750);
	if (rc < 0) {
		rc = io_error(err, errlen, "create the folder", dir);
		free(dir);
		return rc == KD_ENOTFOUND ? KD_EIO : rc;
	}
	*tmp = kd_asprintf("%s/.%.200s.tmp-XXXXXX", dir, name);
	free(dir);
	*fd = mkostemp(*tmp, O_CLOEXEC);
	if (*fd < 0) {
		rc = io_error(err, errlen, "create a file in the folder of", path);
		free(*tmp);
		*tmp = NULL;
		return KD_EIO;
	}
	/* mkostemp makes 0600; media files are the group's to read, like the
	 * rest of the data folder */
	fchmod(*fd, 0640);
	return 0;
}

/* Make tmp (open as fd) the file at path, and close fd; on failure remove
 * tmp.  Frees tmp. */
static int commit(int fd, char *tmp, const char *path, char *err, size_t errlen)
{
	int rc = kd_commit_file(fd, tmp, path);
	if (rc < 0)
		rc = io_error(err, errlen, "write", path);
	if (close(fd) < 0 && rc == 0)
		rc = io_error(err, errlen, "write", path);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc < 0 ? KD_EIO : 0;
}

static void discard_tmp(int fd, char *tmp)
{
	close(fd);
	unlink(tmp);
	free(tmp);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return KD_EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Copy len bytes of in from off to the end of out: in the kernel where it
 * can (copy_file_range: no copy at all on file systems that share
 * extents), else through a buffer. */
static int copy_range(int in, uint64_t off, uint64_t len, int out)
{
	bool kernel = true;
	char *buf = NULL;
	int rc = 0;
	while (len > 0 && rc == 0) {
		size_t want = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t n;
		if (kernel) {
			loff_t o = (loff_t)off;
			n = copy_file_range(in, &o, out, NULL, want, 0);
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
			              errno == EOPNOTSUPP || errno == EPERM)) {
				kernel = false;
				continue;
			}
		} else {
			if (!buf)
				buf = kd_malloc(CHUNK);
			n = pread(in, buf, want < CHUNK ? want : CHUNK, (off_t)off);
			if (n > 0 && write_all(out, buf, (size_t)n) < 0)
				n = -1;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* the source got shorter under us */
			rc = KD_EIO;
			break;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ open, check */

static void local_close(void *impl)
{
	struct local *l = impl;
	if (!l)
		return;
	free(l->root);
	free(l);
}

int storage_local_new(const char *dir, void **impl, char **describe, char *err, size_t errlen)
{
	size_t n = dir ? strlen(dir) : 0;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 0) {
		snprintf(err, errlen, "the media folder has no name");
		return KD_EINVAL;
	}
	if (sodium_init() < 0) { /* upload ids */
		snprintf(err, errlen, "cannot start libsodium");
		return KD_ENOMEM;
	}
	struct local *l = kd_calloc(1, sizeof *l);
	l->root = kd_strndup(dir, n);
	*impl = l;
	*describe = kd_asprintf("the folder %s", l->root);
	return 0;
}

static int local_check(void *impl, char *err, size_t errlen)
{
	struct local *l = impl;
	if (kd_mkdirs(l->root, 0750) < 0 || access(l->root, W_OK) < 0) {
		io_error(err, errlen, "write in the media folder", l->root);
		return KD_EIO;
	}
	return 0;
}

/* ------------------------------------------------------------ objects */

static int local_put_file(void *impl, const char *key, const char *path,
                          const char *content_type, unsigned flags, char *err, size_t errlen)
{
	(void)content_type; /* a file has no type: the web layer knows it by name */
	struct local *l = impl;
	char *dst = path_of(l, key);
	int rc;
	if (flags & STORAGE_MOVE) {
		char *dir = parent_of(dst);
		rc = kd_mkdirs(dir, 0750);
		free(dir);
		/* the source's bytes made durable, then renamed into place: no copy */
		if (rc == 0 && kd_commit_file(-1, path, dst) == 0) {
			free(dst);
			return 0;
		}
		if (errno != EXDEV) {
			rc = io_error(err, errlen, "move into the media folder", path);
			free(dst);
			return rc;
		}
	}
	int in = open(path, O_RDONLY | O_CLOEXEC), fd = -1;
	struct stat st;
	int e = in < 0 || fstat(in, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : EISDIR;
	if (e) {
		errno = e;
		rc = io_error(err, errlen, "read", path);
		if (in >= 0)
			close(in);
		free(dst);
		return rc;
	}
	char *tmp = NULL;
	rc = open_tmp(dst, &fd, &tmp, err, errlen);
	if (rc == 0 && copy_range(in, 0, (uint64_t)st.st_size, fd) < 0) {
		rc = io_error(err, errlen, "copy into the media folder", path);
		discard_tmp(fd, tmp);
	} else if (rc == 0) {
		rc = commit(fd, tmp, dst, err, errlen);
	}
	close(in);
	if (rc == 0 && (flags & STORAGE_MOVE))
		unlink(path);
	free(dst);
	return rc;
}

static int local_put_buf(void *impl, const char *key, const void *data, size_t len,
                         const char *content_type, char *err, size_t errlen)
{
	(void)content_type;
	struct local *l = impl;
	char *dst = path_of(l, key), *tmp = NULL;
	int fd = -1;
	int rc = open_tmp(dst, &fd, &tmp, err, errlen);
	if (rc == 0 && write_all(fd, data, len) < 0) {
		rc = io_error(err, errlen, "write", dst);
		discard_tmp(fd, tmp);
	} else if (rc == 0) {
		rc = commit(fd, tmp, dst, err, errlen);
	}
	free(dst);
	return rc;
}

/* Open key's file for reading: a regular file, or KD_ENOTFOUND. */
static int open_key(const struct local *l, const char *key, struct stat *st, const char *doing,
                    char *err, size_t errlen)
{
	char *p = path_of(l, key);
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && (fstat(fd, st) < 0 || !S_ISREG(st->st_mode))) {
		close(fd);
		fd = -1;
		errno = ENOENT; /* a folder is not an object */
	}
	if (fd < 0) {
		int rc = errno == ENOENT || errno == ENOTDIR || errno == ELOOP
		             ? (snprintf(err, errlen, "cannot %s %s: no such object in %s", doing, key,
		                         l->root),
		                KD_ENOTFOUND)
		             : io_error(err, errlen, doing, p);
		free(p);
		return rc;
	}
	free(p);
	return fd;
}

static int local_get(void *impl, const char *key, uint64_t off, uint64_t len,
                     storage_write_fn fn, void *arg, char *err, size_t errlen)
{
	struct local *l = impl;
	struct stat st;
	int fd = open_key(l, key, &st, "read", err, errlen);
	if (fd < 0)
		return fd;
	uint64_t size = (uint64_t)st.st_size;
	/* S3's rules: a range must start inside the object; the whole of an
	 * empty object is nothing */
	if (off >= size && !(off == 0 && size == 0 && len == STORAGE_TO_END)) {
		snprintf(err, errlen, "cannot read %s from byte %" PRIu64 ": it has %" PRIu64 " bytes",
		         key, off, size);
		close(fd);
		return KD_EINVAL;
	}
	uint64_t end = len == STORAGE_TO_END || len > size - off ? size : off + len;
	posix_fadvise(fd, (off_t)off, (off_t)(end - off), POSIX_FADV_SEQUENTIAL);
	char *buf = kd_malloc(CHUNK);
	int rc = 0;
	while (off < end && rc == 0) {
		size_t want = end - off < CHUNK ? (size_t)(end - off) : CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* cut short under us */
			char *p = path_of(l, key);
			rc = io_error(err, errlen, "read", p);
			free(p);
			rc = KD_EIO;
			break;
		}
		rc = fn(arg, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	close(fd);
	return rc;
}

static int local_stat(void *impl, const char *key, struct storage_stat *out, char *err,
                      size_t errlen)
{
	struct local *l = impl;
	struct stat st;
	int fd = open_key(l, key, &st, "look at", err, errlen);
	if (fd < 0)
		return fd;
	close(fd);
	out->size = (uint64_t)st.st_size;
	out->mtime = (int64_t)st.st_mtim.tv_sec;
	/* the ETag the web server has always sent for the file */
	snprintf(out->etag, sizeof out->etag, "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_size,
	         (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
	return 0;
}

static int local_del(void *impl, const char *key, char *err, size_t errlen)
{
	struct local *l = impl;
	char *p = path_of(l, key);
	int rc = 0;
	if (unlink(p) < 0 && errno != ENOENT && errno != ENOTDIR && errno != EISDIR)
		rc = io_error(err, errlen, "delete", p);
	free(p);
	return rc;
}

static int local_delete_prefix(void *impl, const char *prefix, char *err, size_t errlen)
{
	struct local *l = impl;
	/* "123/" is the folder 123 (a file named 123 is a key not under it) */
	char *p = kd_asprintf("%s/%.*s", l->root, (int)strlen(prefix) - 1, prefix);
	struct stat st;
	int rc = 0;
	if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && kd_remove_tree(p) < 0)
		rc = io_error(err, errlen, "delete", p);
	free(p);
	return rc;
}

/* ------------------------------------------------------------ listing */

struct entry {
	char *key;
	struct storage_stat st;
};

struct walk {
	const char *prefix;
	size_t plen;
	struct entry *e;
	size_t n, alloc;
};

/* Could a key starting with `rel` (a folder's keys) start with the prefix? */
static bool may_match(const struct walk *w, const char *rel, size_t len)
{
	size_t n = len < w->plen ? len : w->plen;
	return !strncmp(rel, w->prefix, n);
}

/* Gather the keys under the open folder dfd, whose keys start with rel. */
static int walk_dir(struct walk *w, int dfd, char *rel, size_t rlen)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return KD_EIO;
	}
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t nlen = strlen(name);
		if (name[0] == '.' || rlen + nlen + 1 >= STORAGE_KEY_MAX)
			continue; /* ".", "..", temporary files, .multipart; too deep */
		memcpy(rel + rlen, name, nlen + 1);
		struct stat st;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone since readdir */
		if (S_ISDIR(st.st_mode)) {
			rel[rlen + nlen] = '/';
			rel[rlen + nlen + 1] = '\0';
			if (!may_match(w, rel, rlen + nlen + 1))
				continue;
			int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				rc = walk_dir(w, sub, rel, rlen + nlen + 1);
		} else if (S_ISREG(st.st_mode) && !strncmp(rel, w->prefix, w->plen) &&
		           storage_key_valid(rel)) {
			if (w->n == w->alloc) {
				w->alloc = w->alloc ? w->alloc * 2 : 64;
				w->e = kd_realloc(w->e, w->alloc * sizeof *w->e);
			}
			struct entry *e = &w->e[w->n++];
			e->key = kd_strdup(rel);
			e->st.size = (uint64_t)st.st_size;
			e->st.mtime = (int64_t)st.st_mtim.tv_sec;
			snprintf(e->st.etag, sizeof e->st.etag, "\"%" PRIx64 "-%" PRIx64 "\"",
			         (uint64_t)st.st_size,
			         (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
		}
		errno = 0;
	}
	if (rc == 0 && errno)
		rc = KD_EIO;
	rel[rlen] = '\0';
	closedir(d);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static int local_list(void *impl, const char *prefix, storage_list_fn fn, void *arg, char *err,
                      size_t errlen)
{
	struct local *l = impl;
	struct walk w = {.prefix = prefix, .plen = strlen(prefix)};
	/* start from the deepest folder the prefix names ("12/vid": 12/) */
	const char *slash = strrchr(prefix, '/');
	size_t dlen = slash ? (size_t)(slash - prefix) + 1 : 0;
	char rel[STORAGE_KEY_MAX + 2];
	memcpy(rel, prefix, dlen);
	rel[dlen] = '\0';
	char *dir = kd_asprintf("%s/%s", l->root, rel);
	int rc = 0;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			rc = io_error(err, errlen, "list", dir);
	} else if (walk_dir(&w, dfd, rel, dlen) < 0) {
		rc = io_error(err, errlen, "list", dir);
	}
	free(dir);
	if (rc == 0 && w.n > 1)
		qsort(w.e, w.n, sizeof *w.e, cmp_entry);
	for (size_t i = 0; i < w.n && rc == 0; i++)
		rc = fn(arg, w.e[i].key, &w.e[i].st);
	for (size_t i = 0; i < w.n; i++)
		free(w.e[i].key);
	free(w.e);
	return rc;
}

static char *local_path(void *impl, const char *key)
{
	return path_of(impl, key);
}

/* ------------------------------------------------------------ multipart */

/* <root>/.multipart/<id>, when id is one of ours (it goes into a path:
 * nothing but the hex we made), else NULL. */
static char *upload_dir(const struct local *l, const char *id)
{
	if (strlen(id) != ID_HEX || strspn(id, "0123456789abcdef") != ID_HEX)
		return NULL;
	return kd_asprintf("%s/" MPU_DIR "/%s", l->root, id);
}

static int no_upload(const char *key, const char *id, char *err, size_t errlen)
{
	snprintf(err, errlen, "the multipart upload %.40s to %s is no longer there (completed or "
	         "aborted)", id, key);
	return KD_ENOTFOUND;
}

/* The upload's folder, open and locked (flock) against other writers of
 * its parts, after checking that it is an upload to key.  *dir is its
 * path.  Returns the fd or an error.  The "key" file is read under the
 * lock: an abort or complete removes the folder holding it, so an upload
 * found here stays until the lock is let go. */
static int open_upload(const struct local *l, const char *key, const char *id, char **dir,
                       char *err, size_t errlen)
{
	*dir = upload_dir(l, id);
	if (!*dir)
		return no_upload(key, id, err, errlen);
	int fd = open(*dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool mine = false;
	if (fd >= 0 && flock(fd, LOCK_EX) == 0) {
		char text[STORAGE_KEY_MAX + 1];
		int kf = openat(fd, "key", O_RDONLY | O_CLOEXEC);
		ssize_t n = kf >= 0 ? read(kf, text, sizeof text - 1) : -1;
		if (kf >= 0)
			close(kf);
		/* S3 too: an upload id belongs to its key */
		mine = n >= 0 && (size_t)n == strlen(key) && !memcmp(text, key, (size_t)n);
	}
	if (!mine) {
		if (fd >= 0)
			close(fd);
		free(*dir);
		*dir = NULL;
		return no_upload(key, id, err, errlen);
	}
	return fd;
}

static void close_upload(int fd, char *dir)
{
	close(fd); /* drops the lock */
	free(dir);
}

static int local_mpu_create(void *impl, const char *key, const char *content_type,
                            char **upload_id, char *err, size_t errlen)
{
	(void)content_type;
	struct local *l = impl;
	unsigned char raw[ID_HEX / 2];
	char id[ID_HEX + 1];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(id, sizeof id, raw, sizeof raw);
	char *dir = upload_dir(l, id), *kf = kd_asprintf("%s/key", dir);
	int rc = 0;
	if (kd_mkdirs(dir, 0750) < 0 || kd_write_file_atomic(kf, key, strlen(key)) < 0) {
		io_error(err, errlen, "start an upload in", dir);
		rc = KD_EIO;
	} else
		*upload_id = kd_strdup(id);
	free(kf);
	free(dir);
	return rc;
}

/* A part's file name: "00042-<32 hex>"; 0 when name is not one. */
static int part_number(const char *name, char etag_hex[ID_HEX + 1])
{
	if (strlen(name) != 6 + ID_HEX || name[5] != '-' || strspn(name, "0123456789") != 5 ||
	    strspn(name + 6, "0123456789abcdef") != ID_HEX)
		return 0;
	int n = atoi(name);
	if (n < 1 || n > STORAGE_PARTS_MAX)
		return 0;
	if (etag_hex) {
		memcpy(etag_hex, name + 6, ID_HEX);
		etag_hex[ID_HEX] = '\0';
	}
	return n;
}

static int local_mpu_put_part(void *impl, const char *key, const char *upload_id, int number,
                              const void *data, size_t len, char etag[STORAGE_ETAG_MAX],
                              char *err, size_t errlen)
{
	struct local *l = impl;
	char *dir;
	int lock = open_upload(l, key, upload_id, &dir, err, errlen);
	if (lock < 0)
		return lock;
	char hex[KD_SHA256_HEX];
	struct kd_sha256 h;
	if (kd_sha256_init(&h) < 0) {
		close_upload(lock, dir);
		return KD_ENOMEM;
	}
	kd_sha256_update(&h, data, len);
	kd_sha256_final(&h, hex);
	hex[ID_HEX] = '\0'; /* half of it is plenty to tell parts apart */
	char *path = kd_asprintf("%s/%05d-%s", dir, number, hex), *tmp = NULL;
	int fd = -1;
	int rc = open_tmp(path, &fd, &tmp, err, errlen);
	if (rc == 0 && write_all(fd, data, len) < 0) {
		rc = io_error(err, errlen, "write a part in", dir);
		discard_tmp(fd, tmp);
	} else if (rc == 0) {
		rc = commit(fd, tmp, path, err, errlen);
	}
	if (rc == 0) {
		/* the part replaces any earlier one of its number */
		DIR *d = opendir(dir);
		struct dirent *de;
		char other[ID_HEX + 1];
		while (d && (de = readdir(d)) != NULL)
			if (part_number(de->d_name, other) == number && strcmp(other, hex))
				unlinkat(dirfd(d), de->d_name, 0);
		if (d)
			closedir(d);
		snprintf(etag, STORAGE_ETAG_MAX, "\"%s\"", hex);
	}
	free(path);
	close_upload(lock, dir);
	return rc;
}

static int cmp_part(const void *a, const void *b)
{
	return ((const struct storage_part *)a)->number - ((const struct storage_part *)b)->number;
}

/* The parts in the (locked) upload folder dir, by number. */
static int read_parts(const char *dir, struct storage_part **parts, size_t *n, char *err,
                      size_t errlen)
{
	*parts = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return io_error(err, errlen, "list the parts in", dir);
	size_t alloc = 0;
	struct dirent *de;
	char hex[ID_HEX + 1];
	while ((de = readdir(d)) != NULL) {
		int num = part_number(de->d_name, hex);
		struct stat st;
		if (!num || fstatat(dirfd(d), de->d_name, &st, 0) < 0 || *n >= STORAGE_PARTS_MAX)
			continue;
		if (*n == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			*parts = kd_realloc(*parts, alloc * sizeof **parts);
		}
		struct storage_part *p = &(*parts)[(*n)++];
		p->number = num;
		p->size = (uint64_t)st.st_size;
		snprintf(p->etag, sizeof p->etag, "\"%s\"", hex);
	}
	closedir(d);
	if (*n > 1)
		qsort(*parts, *n, sizeof **parts, cmp_part);
	return 0;
}

static int local_mpu_list_parts(void *impl, const char *key, const char *upload_id,
                                struct storage_part **parts, size_t *n, char *err,
                                size_t errlen)
{
	char *dir;
	*parts = NULL;
	*n = 0;
	int lock = open_upload(impl, key, upload_id, &dir, err, errlen);
	if (lock < 0)
		return lock;
	int rc = read_parts(dir, parts, n, err, errlen);
	close_upload(lock, dir);
	return rc;
}

/* An ETag without its quotes, for comparing ("abc" and abc are one). */
static size_t bare(const char *etag, const char **start)
{
	size_t n = strlen(etag);
	*start = etag;
	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
		(*start)++;
		n -= 2;
	}
	return n;
}

static int local_mpu_complete(void *impl, const char *key, const char *upload_id,
                              const struct storage_part *want, size_t nwant, char *err,
                              size_t errlen)
{
	struct local *l = impl;
	char *dir;
	int lock = open_upload(l, key, upload_id, &dir, err, errlen);
	if (lock < 0)
		return lock;
	struct storage_part *have;
	size_t nhave;
	int rc = read_parts(dir, &have, &nhave, err, errlen);
	/* S3's checks, in S3's words: every part named must be there with
	 * that ETag, and all but the last must be big enough */
	size_t j = 0;
	for (size_t i = 0; i < nwant && rc == 0; i++) {
		while (j < nhave && have[j].number < want[i].number)
			j++;
		const char *a = "", *b;
		size_t an = j < nhave ? bare(have[j].etag, &a) : 0, bn = bare(want[i].etag, &b);
		if (j >= nhave || have[j].number != want[i].number || an != bn || memcmp(a, b, an)) {
			snprintf(err, errlen, "cannot complete the upload to %s: part %d was not uploaded "
			         "or has another ETag than %s", key, want[i].number, want[i].etag);
			rc = KD_EINVAL;
		} else if (i + 1 < nwant && have[j].size < STORAGE_PART_MIN) {
			snprintf(err, errlen, "cannot complete the upload to %s: part %d has %" PRIu64
			         " bytes; every part but the last needs at least 5 MiB", key,
			         want[i].number, have[j].size);
			rc = KD_EINVAL;
		}
	}
	char *dst = path_of(l, key), *tmp = NULL;
	int fd = -1;
	if (rc == 0)
		rc = open_tmp(dst, &fd, &tmp, err, errlen);
	for (size_t i = 0, k = 0; i < nwant && rc == 0 && fd >= 0; i++) {
		while (have[k].number != want[i].number)
			k++;
		char *p = kd_asprintf("%s/%05d-%.*s", dir, have[k].number, ID_HEX, have[k].etag + 1);
		int in = open(p, O_RDONLY | O_CLOEXEC);
		if (in < 0 || copy_range(in, 0, have[k].size, fd) < 0) {
			io_error(err, errlen, "read the part", p);
			rc = KD_EIO;
		}
		if (in >= 0)
			close(in);
		free(p);
	}
	if (fd >= 0) {
		if (rc == 0)
			rc = commit(fd, tmp, dst, err, errlen);
		else
			discard_tmp(fd, tmp);
	}
	/* done: the parts go (the object has their bytes) */
	if (rc == 0 && kd_remove_tree(dir) < 0)
		rc = io_error(err, errlen, "remove the finished upload", dir);
	free(have);
	free(dst);
	close_upload(lock, dir);
	return rc;
}

static int local_mpu_abort(void *impl, const char *key, const char *upload_id, char *err,
                           size_t errlen)
{
	char *dir;
	int lock = open_upload(impl, key, upload_id, &dir, err, errlen);
	if (lock == KD_ENOTFOUND)
		return 0; /* gone already: what abort wants */
	if (lock < 0)
		return lock;
	int rc = kd_remove_tree(dir) < 0 ? io_error(err, errlen, "remove the upload", dir) : 0;
	close_upload(lock, dir);
	return rc;
}

const struct storage_ops storage_local_ops = {
	.close = local_close,
	.check = local_check,
	.put_file = local_put_file,
	.put_buf = local_put_buf,
	.get = local_get,
	.stat = local_stat,
	.del = local_del,
	.delete_prefix = local_delete_prefix,
	.list = local_list,
	.presign_get = NULL,
	.local_path = local_path,
	.mpu_create = local_mpu_create,
	.mpu_put_part = local_mpu_put_part,
	.mpu_list_parts = local_mpu_list_parts,
	.mpu_complete = local_mpu_complete,
	.mpu_abort = local_mpu_abort,
};
