/* test_storage.c - the storage API (include/kindling/storage.h) on the
 * data-folder back end, all of it: keys, where files land (today's
 * paths.h layout), atomic writes, ranges, listings, deleting a clip's
 * keys, multipart uploads with S3's rules; and opening from the settings.
 * The S3 back end against a real server is tests/integration/storage.sh. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/buf.h"
#include "kindling/config.h"
#include "kindling/fs.h"
#include "kindling/mem.h"
#include "kindling/paths.h"
#include "kindling/storage.h"

struct fx {
	char dir[64];          /* the data folder */
	char media[96];        /* its media/ */
	struct kd_storage *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/kd-storage-XXXXXX");
	if (!mkdtemp(f->dir))
		fail_msg("mkdtemp");
	snprintf(f->media, sizeof f->media, "%s/media", f->dir);
	struct kd_config cfg = {.data_dir = f->dir};
	char err[KD_ERRMSG_MAX] = "";
	if (storage_open(&f->s, &cfg, err, sizeof err) != 0)
		fail_msg("storage_open: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	storage_close(&f->s);
	kd_remove_tree(f->dir);
	free(f);
	return 0;
}

static void put(struct fx *f, const char *key, const char *text)
{
	char err[KD_ERRMSG_MAX] = "";
	if (storage_put_buf(f->s, key, text, strlen(text), "text/plain", err, sizeof err) != 0)
		fail_msg("put %s: %s", key, err);
}

/* A sink that gathers what a read delivers. */
static int gather(void *arg, const void *data, size_t len)
{
	return kd_buf_append(arg, data, len);
}

/* The bytes of key from off, len of them, as a string ("ERR:<code>" on an
 * error).  The caller frees. */
static char *get(struct fx *f, const char *key, uint64_t off, uint64_t len)
{
	struct kd_buf b = KD_BUF_INIT(1 << 26);
	char err[KD_ERRMSG_MAX];
	int rc = storage_get(f->s, key, off, len, gather, &b, err, sizeof err);
	if (rc != 0) {
		kd_buf_release(&b);
		return kd_asprintf("ERR:%d", rc);
	}
	return kd_buf_take(&b, NULL);
}

static void assert_get(struct fx *f, const char *key, uint64_t off, uint64_t len,
                       const char *want)
{
	char *got = get(f, key, off, len);
	assert_string_equal(got, want);
	free(got);
}

/* Names starting with '.' left anywhere under dir (temporary files). */
static int dot_files(const char *dir, const char *skip)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (skip && !strcmp(e->d_name, skip)))
			continue;
		if (e->d_name[0] == '.')
			n++;
		char sub[512];
		snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			n += dot_files(sub, skip);
	}
	closedir(d);
	return n;
}

static void keys_are_safe_names(void **state)
{
	(void)state;
	static const char *good[] = {"123/video.mp4", "a", "uploads/ab12/part-1", "A-Z_a.z-0.9",
	                             "123/storyboard.vtt", "x/y/z/w"};
	static const char *bad[] = {"", "/abs", "a//b", "a/", "../x", "a/../b", "a/./b", ".hidden",
	                            "a/.tmp", "a b", "a\\b", "a%2Fb", "a?b", "é", "a\nb", NULL};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		if (!storage_key_valid(good[i]))
			fail_msg("'%s' should be a key", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (storage_key_valid(bad[i]))
			fail_msg("'%s' should not be a key", bad[i] ? bad[i] : "NULL");
	char longname[STORAGE_NAME_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_false(storage_key_valid(longname));       /* a name of 201 bytes */
	longname[STORAGE_NAME_MAX] = '\0';
	assert_true(storage_key_valid(longname));        /* 200 */
	char deep[STORAGE_KEY_MAX + 1];
	for (size_t i = 0; i < sizeof deep - 1; i++)
		deep[i] = i % 2 ? '/' : 'a';
	deep[STORAGE_KEY_MAX - 1] = '\0';                /* 511 bytes, ends with 'a' */
	assert_true(storage_key_valid(deep));
	deep[STORAGE_KEY_MAX - 1] = 'a';
	deep[STORAGE_KEY_MAX] = '\0';                    /* 512 */
	assert_false(storage_key_valid(deep));
}

static void the_data_folder_keeps_todays_paths(void **state)
{
	struct fx *f = *state;
	assert_int_equal(storage_kind(f->s), STORAGE_LOCAL);
	assert_non_null(strstr(storage_describe(f->s), f->media));
	/* key "<id>/<name>" is the file paths.h has always given clip <id> */
	for (int k = 0; k < KD_FILE_COUNT; k++) {
		char key[64], *path = NULL;
		snprintf(key, sizeof key, "123/%s", paths_file_name((enum kd_media_file)k));
		assert_int_equal(storage_local_path(f->s, key, &path), 0);
		char *today = paths_clip_file(f->dir, 123, (enum kd_media_file)k);
		assert_string_equal(path, today);
		free(path);
		free(today);
	}
	put(f, "123/video.mp4", "moving pictures");
	char *file = paths_clip_file(f->dir, 123, KD_FILE_VIDEO), *text = NULL;
	assert_int_equal(kd_read_file(file, 100, &text, NULL), 0);
	assert_string_equal(text, "moving pictures");
	free(text);
	free(file);
	char *path = NULL;
	assert_int_equal(storage_local_path(f->s, "../catalogue.db", &path), KD_EINVAL);
	assert_null(path);
	/* check makes the media folder */
	assert_int_equal(storage_check(f->s, NULL, 0), 0);
}

static void put_get_stat_delete(void **state)
{
	struct fx *f = *state;
	char err[KD_ERRMSG_MAX] = "";
	struct storage_stat st;
	assert_int_equal(storage_stat(f->s, "7/poster.jpg", &st, err, sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "7/poster.jpg"));
	assert_get(f, "7/poster.jpg", 0, STORAGE_TO_END, "ERR:-4");

	put(f, "7/poster.jpg", "first");
	assert_int_equal(storage_stat(f->s, "7/poster.jpg", &st, err, sizeof err), 0);
	assert_int_equal(st.size, 5);
	assert_true(st.mtime > 1700000000);
	assert_int_equal(st.etag[0], '"');
	char etag1[STORAGE_ETAG_MAX];
	memcpy(etag1, st.etag, sizeof etag1);
	/* the ETag is the web server's: size and nanoseconds of mtime in hex */
	char *p = kd_asprintf("%s/7/poster.jpg", f->media);
	struct stat fs;
	assert_int_equal(stat(p, &fs), 0);
	char want[STORAGE_ETAG_MAX];
	snprintf(want, sizeof want, "\"%llx-%llx\"", (unsigned long long)fs.st_size,
	         (unsigned long long)fs.st_mtim.tv_sec * 1000000000ull +
	             (unsigned long long)fs.st_mtim.tv_nsec);
	assert_string_equal(st.etag, want);
	free(p);

	put(f, "7/poster.jpg", "second, longer");
	assert_get(f, "7/poster.jpg", 0, STORAGE_TO_END, "second, longer");
	assert_int_equal(storage_stat(f->s, "7/poster.jpg", &st, err, sizeof err), 0);
	assert_int_equal(st.size, 14);
	assert_string_not_equal(st.etag, etag1);

	/* a folder is not an object */
	assert_int_equal(storage_stat(f->s, "7", &st, err, sizeof err), KD_ENOTFOUND);
	assert_get(f, "7", 0, STORAGE_TO_END, "ERR:-4");

	assert_int_equal(storage_delete(f->s, "7/poster.jpg", err, sizeof err), 0);
	assert_int_equal(storage_stat(f->s, "7/poster.jpg", &st, err, sizeof err), KD_ENOTFOUND);
	/* deleting what is not there, or a folder, is not an error */
	assert_int_equal(storage_delete(f->s, "7/poster.jpg", err, sizeof err), 0);
	assert_int_equal(storage_delete(f->s, "7", err, sizeof err), 0);
	assert_int_equal(storage_delete(f->s, "nothing/here", err, sizeof err), 0);

	/* bad keys are refused everywhere with a sentence */
	err[0] = '\0';
	assert_int_equal(storage_put_buf(f->s, "../x", "a", 1, NULL, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "not a storage key"));
	assert_int_equal(storage_delete(f->s, "/etc/passwd", NULL, 0), KD_EINVAL);
	assert_int_equal(storage_stat(f->s, "a//b", &st, NULL, 0), KD_EINVAL);
	assert_int_equal(storage_put_buf(f->s, "k", "a", 1, "text/plain\r\nX: y", err, sizeof err),
	                 KD_EINVAL);
	/* an empty object */
	assert_int_equal(storage_put_buf(f->s, "empty", NULL, 0, NULL, err, sizeof err), 0);
	assert_int_equal(storage_stat(f->s, "empty", &st, err, sizeof err), 0);
	assert_int_equal(st.size, 0);
	assert_int_equal(dot_files(f->media, NULL), 0);
}

static void ranges_follow_s3s_rules(void **state)
{
	struct fx *f = *state;
	char err[KD_ERRMSG_MAX] = "";
	put(f, "r/k", "0123456789");
	assert_get(f, "r/k", 0, STORAGE_TO_END, "0123456789");
	assert_get(f, "r/k", 3, 4, "3456");
	assert_get(f, "r/k", 7, STORAGE_TO_END, "789");
	assert_get(f, "r/k", 8, 100, "89");      /* cut at the end */
	assert_get(f, "r/k", 9, 1, "9");
	assert_get(f, "r/k", 10, 1, "ERR:-5");   /* starts at the end */
	assert_get(f, "r/k", 11, STORAGE_TO_END, "ERR:-5");
	assert_get(f, "r/k", 0, 0, "ERR:-5");    /* an empty range */
	assert_get(f, "r/k", UINT64_MAX - 1, 5, "ERR:-5");
	put(f, "r/empty", "");
	assert_get(f, "r/empty", 0, STORAGE_TO_END, "");
	assert_get(f, "r/empty", 0, 1, "ERR:-5");
	struct kd_buf b = KD_BUF_INIT(64);
	assert_int_equal(storage_get(f->s, "r/k", 10, 1, gather, &b, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "10 bytes"));
	kd_buf_release(&b);
}

/* A sink that stops after the first call with its own code. */
static int stop_at_once(void *arg, const void *data, size_t len)
{
	(void)data;
	(void)len;
	(*(int *)arg)++;
	return KD_ELIMIT;
}

static void reads_stream_and_stop_when_asked(void **state)
{
	struct fx *f = *state;
	char err[KD_ERRMSG_MAX] = "";
	/* 3 MiB of a pattern: several chunks reach the sink, in order */
	size_t n = 3u << 20;
	char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 31 + i / 7);
	assert_int_equal(storage_put_buf(f->s, "big/one", data, n, NULL, err, sizeof err), 0);
	struct kd_buf b = KD_BUF_INIT(n);
	assert_int_equal(storage_get(f->s, "big/one", 0, STORAGE_TO_END, gather, &b, err, sizeof err),
	                 0);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, data, n);
	kd_buf_reset(&b);
	assert_int_equal(storage_get(f->s, "big/one", 1000000, 1500000, gather, &b, err, sizeof err),
	                 0);
	assert_int_equal(b.len, 1500000);
	assert_memory_equal(b.data, data + 1000000, 1500000);
	kd_buf_release(&b);
	int calls = 0;
	assert_int_equal(storage_get(f->s, "big/one", 0, STORAGE_TO_END, stop_at_once, &calls, err,
	                             sizeof err),
	                 KD_ELIMIT);
	assert_int_equal(calls, 1);
	free(data);
}

static void get_file_is_whole_or_absent(void **state)
{
	struct fx *f = *state;
	char err[KD_ERRMSG_MAX] = "";
	put(f, "g/v.mp4", "abcdefghij");
	char *out = kd_asprintf("%s/copy.bin", f->dir), *text = NULL;
	assert_int_equal(storage_get_file(f->s, "g/v.mp4", 2, 5, out, err, sizeof err), 0);
	assert_int_equal(kd_read_file(out, 100, &text, NULL), 0);
	assert_string_equal(text, "cdefg");
	free(text);
	/* replaced whole by the next */
	assert_int_equal(storage_get_file(f->s, "g/v.mp4", 0, STORAGE_TO_END, out, err, sizeof err),
	                 0);
	assert_int_equal(kd_read_file(out, 100, &text, NULL), 0);
	assert_string_equal(text, "abcdefghij");
	free(text);
	/* a failed read leaves the old file and no temporary one */
	assert_int_equal(storage_get_file(f->s, "g/missing", 0, STORAGE_TO_END, out, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_int_equal(kd_read_file(out, 100, &text, NULL), 0);
	assert_string_equal(text, "abcdefghij");
	free(text);
	char *fresh = kd_asprintf("%s/fresh.bin", f->dir);
	assert_int_equal(storage_get_file(f->s, "g/v.mp4", 20, 1, fresh, err, sizeof err), KD_EINVAL);
	assert_int_not_equal(access(fresh, F_OK), 0);
	assert_int_equal(dot_files(f->dir, NULL), 0);
	/* into a folder that does not exist: an error with the path */
	char *nowhere = kd_asprintf("%s/no/such/dir/x", f->dir);
	assert_int_equal(storage_get_file(f->s, "g/v.mp4", 0, STORAGE_TO_END, nowhere, err, sizeof err),
	                 KD_EIO);
	assert_non_null(strstr(err, "no/such/dir"));
	free(nowhere);
	free(fresh);
	free(out);
}

static void put_file_copies_or_moves(void **state)
{
	struct fx *f = *state;
	char err[KD_ERRMSG_MAX] = "";
	char *src = kd_asprintf("%s/upload.bin", f->dir), *text = NULL;
	assert_int_equal(kd_write_file_atomic(src, "original bytes", 14), 0);
	assert_int_equal(storage_put_file(f->s, "5/original", src, "video/mp4", 0, err, sizeof err), 0);
	assert_int_equal(access(src, F_OK), 0); /* a copy: the source stays */
	assert_get(f, "5/original", 0, STORAGE_TO_END, "original bytes");
	/* moved: the source is gone, and it is the same file (renamed) */
	struct stat before, after;
	assert_int_equal(stat(src, &before), 0);
	assert_int_equal(storage_put_file(f->s, "5/video.mp4", src, NULL, STORAGE_MOVE, err,
	                                  sizeof err),
	                 0);
	assert_int_not_equal(access(src, F_OK), 0);
	char *dst = kd_asprintf("%s/5/video.mp4", f->media);
	assert_int_equal(stat(dst, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(kd_read_file(dst, 100, &text, NULL), 0);
	assert_string_equal(text, "original bytes");
	free(text);
	/* a missing source, a folder as source, flags we do not know */
	assert_int_equal(storage_put_file(f->s, "5/x", src, NULL, 0, err, sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "upload.bin"));
	assert_int_equal(storage_put_file(f->s, "5/x", f->dir, NULL, 0, err, sizeof err), KD_EIO);
	assert_int_equal(storage_put_file(f->s, "5/x", src, NULL, 4, err, sizeof err), KD_EINVAL);
	assert_int_equal(storage_put_file(f->s, "5/x", src, NULL, STORAGE_MOVE, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_int_equal(dot_files(f->media, NULL), 0);
	free(dst);
	free(src);
}

struct listing {
	char keys[64][64];
	uint64_t sizes[64];
	int n;
	int stop_after; /* 0: never */
};

static int collect(void *arg, const char *key, const struct storage_stat *st)
{
	struct listing *l = arg;
	if (l->n >= 64)
		return KD_ETOOBIG;
	snprintf(l->keys[l->n], sizeof l->keys[0], "%s", key);
	l->sizes[l->n++] = st->size;
	return l->stop_after && l->n == l->stop_after ? 42 : 0;
}

/* The keys listed under prefix, joined with spaces. */
static char *listed(struct fx *f, const char *prefix)
{
	struct listing l = {0};
	char err[KD_ERRMSG_MAX] = "";
	int rc = storage_list(f->s, prefix, collect, &l, err, sizeof err);
	if (rc != 0)
		return kd_asprintf("ERR:%d", rc);
	struct kd_buf b = KD_BUF_INIT(8192);
	for (int i = 0; i < l.n; i++)
		kd_buf_printf(&b, "%s%s", i ? " " : "", l.keys[i]);
	return kd_buf_take(&b, NULL);
}

static void assert_listed(struct fx *f, const char *prefix, const char *want)
{
	char *got = listed(f, prefix);
	assert_string_equal(got, want);
	free(got);
}

static void listings_are_in_byte_order_and_only_keys(void **state)
{
	struct fx *f = *state;
	assert_listed(f, "", "");
	static const char *keys[] = {"12/a", "123/video.mp4", "123/poster.jpg", "123/sub/x",
	                             "1234/y", "a-b", "a/b", "a0", "Z"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		put(f, keys[i], keys[i]);
	/* what is not a key is never listed: hidden and temporary files, an
	 * upload in progress, a name with a space, a link */
	assert_int_equal(storage_put_buf(f->s, "123/.hidden", "x", 1, NULL, NULL, 0), KD_EINVAL);
	char *p = kd_asprintf("%s/123/.poster.jpg.tmp-ABCDEF", f->media);
	assert_int_equal(kd_write_file_atomic(p, "tmp", 3), 0);
	free(p);
	p = kd_asprintf("%s/123/with space", f->media);
	assert_int_equal(kd_write_file_atomic(p, "x", 1), 0);
	free(p);
	p = kd_asprintf("%s/123/link", f->media);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	free(p);
	char *id = NULL;
	assert_int_equal(storage_mpu_create(f->s, "123/up", NULL, &id, NULL, 0), 0);
	free(id);

	/* byte order: '-' (2D) < '/' (2F) < '0' (30) < 'Z' (5A) */
	assert_listed(f, "", "12/a 123/poster.jpg 123/sub/x 123/video.mp4 1234/y Z a-b a/b a0");
	assert_listed(f, "123/", "123/poster.jpg 123/sub/x 123/video.mp4");
	assert_listed(f, "12", "12/a 123/poster.jpg 123/sub/x 123/video.mp4 1234/y");
	assert_listed(f, "12/", "12/a");
	assert_listed(f, "123/v", "123/video.mp4");
	assert_listed(f, "123/sub/", "123/sub/x");
	assert_listed(f, "a", "a-b a/b a0");
	assert_listed(f, "nothing/", "");
	assert_listed(f, "123/video.mp4/", "");
	assert_listed(f, "../", "ERR:-5");
	assert_listed(f, "/", "ERR:-5");
	/* sizes come with the keys; the callback may stop the walk */
	struct listing l = {.stop_after = 2};
	assert_int_equal(storage_list(f->s, "123/", collect, &l, NULL, 0), 42);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.sizes[0], strlen("123/poster.jpg"));
}

static void delete_prefix_takes_a_clips_keys_only(void **state)
{
	struct fx *f = *state;
	char err[KD_ERRMSG_MAX] = "";
	static const char *keys[] = {"12/a", "123/video.mp4", "123/poster.jpg", "123/sub/deep/x",
	                             "1234/y", "123x"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		put(f, keys[i], "bytes");
	assert_int_equal(storage_delete_prefix(f->s, "123/", err, sizeof err), 0);
	assert_listed(f, "", "12/a 1234/y 123x");
	char *dir = kd_asprintf("%s/123", f->media);
	assert_int_not_equal(access(dir, F_OK), 0); /* the folder too, as today */
	free(dir);
	/* nothing there: fine */
	assert_int_equal(storage_delete_prefix(f->s, "123/", err, sizeof err), 0);
	assert_int_equal(storage_delete_prefix(f->s, "123x/", err, sizeof err), 0);
	assert_listed(f, "", "12/a 1234/y 123x");
	/* only a folder's worth, never everything or a partial name */
	static const char *bad[] = {"", "/", "12", "../", "a//", "./", NULL};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		assert_int_equal(storage_delete_prefix(f->s, bad[i], err, sizeof err), KD_EINVAL);
		assert_non_null(strstr(err, "not a prefix"));
	}
	assert_listed(f, "", "12/a 1234/y 123x");
}

static void presigned_urls_are_not_available(void **state)
{
	struct fx *f = *state;
	char err[KD_ERRMSG_MAX] = "", *url = (char *)"untouched";
	put(f, "1/video.mp4", "v");
	assert_int_equal(storage_presign_get(f->s, "1/video.mp4", 60, NULL, NULL, &url, err,
	                                     sizeof err),
	                 KD_EINVAL);
	assert_null(url);
	assert_non_null(strstr(err, "not available"));
}

/* n bytes of a pattern that differs by seed. */
static char *pattern(size_t n, int seed)
{
	char *d = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		d[i] = (char)(i * 7 + (size_t)seed * 13 + i / 1024);
	return d;
}

static void multipart_uploads_like_s3(void **state)
{
	struct fx *f = *state;
	char err[KD_ERRMSG_MAX] = "";
	char *id = NULL;
	assert_int_equal(storage_mpu_create(f->s, "77/original", "video/mp4", &id, err, sizeof err),
	                 0);
	assert_non_null(id);
	struct storage_part *parts = (void *)1;
	size_t n = 99;
	assert_int_equal(storage_mpu_list_parts(f->s, "77/original", id, &parts, &n, err, sizeof err),
	                 0);
	assert_int_equal(n, 0);
	assert_null(parts);

	size_t big = STORAGE_PART_MIN;
	char *p1 = pattern(big, 1), *p2 = pattern(big + 5, 2), *p3 = pattern(1000, 3);
	char *p2b = pattern(big + 9, 4);
	char e1[STORAGE_ETAG_MAX], e2[STORAGE_ETAG_MAX], e3[STORAGE_ETAG_MAX], e2b[STORAGE_ETAG_MAX];
	/* out of order, and part 2 twice: the second replaces the first */
	assert_int_equal(storage_mpu_put_part(f->s, "77/original", id, 3, p3, 1000, e3, err,
	                                      sizeof err), 0);
	assert_int_equal(storage_mpu_put_part(f->s, "77/original", id, 2, p2, big + 5, e2, err,
	                                      sizeof err), 0);
	assert_int_equal(storage_mpu_put_part(f->s, "77/original", id, 1, p1, big, e1, err,
	                                      sizeof err), 0);
	assert_int_equal(storage_mpu_put_part(f->s, "77/original", id, 2, p2b, big + 9, e2b, err,
	                                      sizeof err), 0);
	assert_string_not_equal(e2, e2b);
	assert_int_equal(e1[0], '"');
	/* nothing is an object until complete */
	struct storage_stat st;
	assert_int_equal(storage_stat(f->s, "77/original", &st, NULL, 0), KD_ENOTFOUND);
	assert_listed(f, "", "");

	/* another node lists the parts and goes on (a new handle, as after
	 * the loss of the node that began) */
	struct kd_storage *other = NULL;
	assert_int_equal(storage_open_local(&other, f->media, err, sizeof err), 0);
	assert_int_equal(storage_mpu_list_parts(other, "77/original", id, &parts, &n, err, sizeof err),
	                 0);
	assert_int_equal(n, 3);
	assert_int_equal(parts[0].number, 1);
	assert_int_equal(parts[0].size, big);
	assert_string_equal(parts[0].etag, e1);
	assert_int_equal(parts[1].number, 2);
	assert_int_equal(parts[1].size, big + 9);
	assert_string_equal(parts[1].etag, e2b);
	assert_int_equal(parts[2].size, 1000);

	/* S3's refusals: a part with another ETag, a small part that is not
	 * the last, a part never uploaded, numbers out of order */
	struct storage_part wrong[3];
	memcpy(wrong, parts, sizeof wrong);
	memcpy(wrong[1].etag, e2, sizeof e2);
	assert_int_equal(storage_mpu_complete(other, "77/original", id, wrong, 3, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "part 2"));
	memcpy(wrong, parts, sizeof wrong);
	struct storage_part small_first[2] = {parts[2], parts[0]};
	small_first[0].number = 3;
	small_first[1].number = 1;
	assert_int_equal(storage_mpu_complete(other, "77/original", id, small_first, 2, err,
	                                      sizeof err),
	                 KD_EINVAL); /* not ascending */
	struct storage_part skip_to_small[2] = {parts[2], parts[2]};
	skip_to_small[1].number = 4;
	assert_int_equal(storage_mpu_complete(other, "77/original", id, skip_to_small, 2, err,
	                                      sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "part 3 has 1000 bytes"));
	struct storage_part missing[1] = {parts[0]};
	missing[0].number = 9;
	assert_int_equal(storage_mpu_complete(other, "77/original", id, missing, 1, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(storage_mpu_complete(other, "77/original", id, parts, 0, err, sizeof err),
	                 KD_EINVAL);
	/* the upload belongs to its key */
	free(parts);
	assert_int_equal(storage_mpu_list_parts(other, "78/original", id, &parts, &n, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_int_equal(storage_mpu_list_parts(other, "77/original", id, &parts, &n, err, sizeof err),
	                 0);

	assert_int_equal(storage_mpu_complete(other, "77/original", id, parts, n, err, sizeof err), 0);
	struct kd_buf whole = KD_BUF_INIT(3 * big);
	assert_int_equal(storage_get(f->s, "77/original", 0, STORAGE_TO_END, gather, &whole, err,
	                             sizeof err),
	                 0);
	assert_int_equal(whole.len, big + big + 9 + 1000);
	assert_memory_equal(whole.data, p1, big);
	assert_memory_equal(whole.data + big, p2b, big + 9);
	assert_memory_equal(whole.data + 2 * big + 9, p3, 1000);
	kd_buf_release(&whole);
	free(parts);
	/* the upload is gone: listing says so, aborting is fine, parts fail */
	assert_int_equal(storage_mpu_list_parts(f->s, "77/original", id, &parts, &n, err, sizeof err),
	                 KD_ENOTFOUND);
	assert_non_null(strstr(err, "no longer there"));
	assert_int_equal(storage_mpu_abort(f->s, "77/original", id, err, sizeof err), 0);
	assert_int_equal(storage_mpu_put_part(f->s, "77/original", id, 1, p1, 10, e1, err,
	                                      sizeof err),
	                 KD_ENOTFOUND);
	char *mpu = kd_asprintf("%s/.multipart", f->media);
	DIR *d = opendir(mpu);
	int left = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		left += de->d_name[0] != '.';
	if (d)
		closedir(d);
	assert_int_equal(left, 0);
	free(mpu);
	assert_int_equal(dot_files(f->media, ".multipart"), 0);
	storage_close(&other);
	assert_null(other);
	free(id);
	free(p1);
	free(p2);
	free(p2b);
	free(p3);
}

static void multipart_abort_and_bad_ids(void **state)
{
	struct fx *f = *state;
	char err[KD_ERRMSG_MAX] = "", etag[STORAGE_ETAG_MAX];
	char *id = NULL;
	assert_int_equal(storage_mpu_create(f->s, "9/original", NULL, &id, err, sizeof err), 0);
	assert_int_equal(storage_mpu_put_part(f->s, "9/original", id, 1, "abc", 3, etag, err,
	                                      sizeof err), 0);
	assert_int_equal(storage_mpu_abort(f->s, "9/original", id, err, sizeof err), 0);
	struct storage_part *parts;
	size_t n;
	assert_int_equal(storage_mpu_list_parts(f->s, "9/original", id, &parts, &n, err, sizeof err),
	                 KD_ENOTFOUND);
	/* an id is never a path */
	static const char *ids[] = {"../../../etc", "..", "0123456789abcdef0123456789abcdeg",
	                            "ZZZZ", "0123456789ABCDEF0123456789ABCDEF"};
	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
		assert_int_equal(storage_mpu_list_parts(f->s, "9/original", ids[i], &parts, &n, err,
		                                        sizeof err),
		                 KD_ENOTFOUND);
		assert_int_equal(storage_mpu_abort(f->s, "9/original", ids[i], err, sizeof err), 0);
	}
	assert_int_equal(storage_mpu_list_parts(f->s, "9/original", "has space", &parts, &n, err,
	                                        sizeof err),
	                 KD_EINVAL);
	assert_int_equal(storage_mpu_list_parts(f->s, "9/original", "", &parts, &n, err, sizeof err),
	                 KD_EINVAL);
	/* part numbers are 1..10000 */
	free(id);
	assert_int_equal(storage_mpu_create(f->s, "9/original", NULL, &id, err, sizeof err), 0);
	assert_int_equal(storage_mpu_put_part(f->s, "9/original", id, 0, "a", 1, etag, err,
	                                      sizeof err), KD_EINVAL);
	assert_int_equal(storage_mpu_put_part(f->s, "9/original", id, 10001, "a", 1, etag, err,
	                                      sizeof err), KD_EINVAL);
	assert_int_equal(storage_mpu_put_part(f->s, "9/original", id, 10000, "a", 1, etag, err,
	                                      sizeof err), 0);
	/* a single small part is a whole object */
	struct storage_part one = {.number = 10000};
	memcpy(one.etag, etag, sizeof etag);
	assert_int_equal(storage_mpu_complete(f->s, "9/original", id, &one, 1, err, sizeof err), 0);
	assert_get(f, "9/original", 0, STORAGE_TO_END, "a");
	free(id);
}

/* Two threads writing the same keys: every read sees one whole version. */
struct writer {
	struct kd_storage *s;
	char fill;
	int errors;
};

static void *write_many(void *arg)
{
	struct writer *w = arg;
	char data[4096];
	memset(data, w->fill, sizeof data);
	for (int i = 0; i < 50; i++)
		if (storage_put_buf(w->s, "race/k", data, sizeof data, NULL, NULL, 0) != 0)
			w->errors++;
	return NULL;
}

static void concurrent_writers_never_mix(void **state)
{
	struct fx *f = *state;
	struct writer a = {f->s, 'a', 0}, b = {f->s, 'b', 0};
	pthread_t ta, tb;
	pthread_create(&ta, NULL, write_many, &a);
	pthread_create(&tb, NULL, write_many, &b);
	for (int i = 0; i < 50; i++) {
		char *got = get(f, "race/k", 0, STORAGE_TO_END);
		if (strncmp(got, "ERR", 3)) {
			assert_int_equal(strlen(got), 4096);
			assert_int_equal(strspn(got, got[0] == 'a' ? "a" : "b"), 4096);
		}
		free(got);
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.errors + b.errors, 0);
	assert_int_equal(dot_files(f->media, NULL), 0);
}

static void opening_from_the_settings(void **state)
{
	(void)state;
	struct kd_config cfg = {.data_dir = (char *)"/tmp/kd-nowhere",
	                        .storage = (char *)"s3://kindling-media/site-1",
	                        .s3_endpoint = (char *)"http://127.0.0.1:9",
	                        .s3_region = (char *)"eu-west-3"};
	struct kd_storage *s = (void *)1;
	char err[KD_ERRMSG_MAX] = "";
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	assert_int_equal(storage_open(&s, &cfg, err, sizeof err), KD_EAUTH);
	assert_null(s);
	assert_non_null(strstr(err, "AWS_ACCESS_KEY_ID"));
	assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY"));
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	assert_int_equal(storage_open(&s, &cfg, err, sizeof err), 0);
	assert_int_equal(storage_kind(s), STORAGE_S3);
	assert_string_equal(storage_describe(s), "s3://kindling-media/site-1/ at http://127.0.0.1:9");
	char *path = NULL;
	assert_int_equal(storage_local_path(s, "1/video.mp4", &path), KD_EINVAL);
	/* a presigned URL needs no request: path-style at the endpoint, the
	 * prefix before the key, signed for the region */
	char *url = NULL;
	assert_int_equal(storage_presign_get(s, "1/video.mp4", 300, "video/mp4",
	                                     "inline; filename=\"clip 1.mp4\"", &url, err, sizeof err),
	                 0);
	assert_non_null(strstr(url, "http://127.0.0.1:9/kindling-media/site-1/1/video.mp4?"
	                            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F"));
	assert_non_null(strstr(url, "%2Feu-west-3%2Fs3%2Faws4_request&"));
	assert_non_null(strstr(url, "&X-Amz-Expires=300&X-Amz-SignedHeaders=host&"
	                            "response-content-disposition=inline%3B%20filename%3D%22clip%201.mp4%22&"
	                            "response-content-type=video%2Fmp4&X-Amz-Signature="));
	free(url);
	url = NULL;
	assert_int_equal(storage_presign_get(s, "1/video.mp4", 0, NULL, NULL, &url, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(storage_presign_get(s, "1/video.mp4", STORAGE_PRESIGN_MAX + 1, NULL, NULL,
	                                     &url, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(storage_presign_get(s, "1/video.mp4", STORAGE_PRESIGN_MAX, NULL, NULL, &url,
	                                     err, sizeof err),
	                 0);
	free(url);
	storage_close(&s);

	/* AWS itself: virtual-hosted, or path-style for a dotted bucket */
	cfg.s3_endpoint = NULL;
	assert_int_equal(storage_open(&s, &cfg, err, sizeof err), 0);
	assert_string_equal(storage_describe(s),
	                    "s3://kindling-media/site-1/ at https://kindling-media.s3.eu-west-3.amazonaws.com");
	storage_close(&s);
	cfg.storage = (char *)"s3://media.district.example";
	assert_int_equal(storage_open(&s, &cfg, err, sizeof err), 0);
	assert_int_equal(storage_presign_get(s, "k", 60, NULL, NULL, &url, err, sizeof err), 0);
	assert_non_null(strstr(url, "https://s3.eu-west-3.amazonaws.com/media.district.example/k?"));
	free(url);
	storage_close(&s);
	cfg.storage = (char *)"s3://UPPER";
	assert_int_equal(storage_open(&s, &cfg, err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "storage = s3://UPPER"));
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	storage_close(&s);
	storage_close(NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_are_safe_names),
		T(the_data_folder_keeps_todays_paths),
		T(put_get_stat_delete),
		T(ranges_follow_s3s_rules),
		T(reads_stream_and_stop_when_asked),
		T(get_file_is_whole_or_absent),
		T(put_file_copies_or_moves),
		T(listings_are_in_byte_order_and_only_keys),
		T(delete_prefix_takes_a_clips_keys_only),
		T(presigned_urls_are_not_available),
		T(multipart_uploads_like_s3),
		T(multipart_abort_and_bad_ids),
		T(concurrent_writers_never_mix),
		cmocka_unit_test(opening_from_the_settings),
	};
	return cmocka_run_group_tests_name("storage", tests, NULL, NULL);
}
