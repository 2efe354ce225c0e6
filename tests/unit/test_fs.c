/* test_fs.c - folders, atomic writes, bounded reads, removal
 * (include/kindling/fs.h) and SHA-256 (include/kindling/sha256.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/fs.h"
#include "kindling/sha256.h"

static int setup(void **state)
{
	char *dir = strdup("/tmp/kd-fs-XXXXXX");
	if (!mkdtemp(dir))
		fail_msg("mkdtemp");
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	char *dir = *state;
	kd_remove_tree(dir);
	free(dir);
	return 0;
}

/* dir/name in a buffer of the caller's. */
static const char *at(const char *dir, const char *name, char *buf)
{
	snprintf(buf, 256, "%s/%s", dir, name);
	return buf;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The names in a folder, sorted, joined by spaces. */
static const char *names(const char *dir, char *out, size_t len)
{
	char *list[32];
	size_t n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) && n < 32;)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			list[n++] = strdup(e->d_name);
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(list[j - 1], list[j]) > 0; j--) {
			char *t = list[j];
			list[j] = list[j - 1];
			list[j - 1] = t;
		}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "", list[i]);
		free(list[i]);
	}
	return out;
}

static void mkdirs_makes_every_level(void **state)
{
	const char *dir = *state;
	char p[256], q[256];
	assert_int_equal(kd_mkdirs(at(dir, "a/b/c", p), 0750), 0);
	assert_true(is_dir(p));
	struct stat st;
	assert_int_equal(stat(at(dir, "a/b", q), &st), 0);
	mode_t mask = umask(0);
	umask(mask);
	assert_int_equal(st.st_mode & 0777, 0750 & ~mask); /* the mode given, less the umask */
	assert_int_equal(kd_mkdirs(at(dir, "a/b/c", p), 0750), 0); /* there already */
	assert_int_equal(kd_mkdirs(at(dir, "a/b/c/", p), 0750), 0); /* a trailing slash */
	assert_int_equal(kd_mkdirs(at(dir, "a//d", p), 0750), 0);
	assert_true(is_dir(at(dir, "a/d", q)));

	/* a file in the way, at the end or on the way */
	put(at(dir, "file", p), "x");
	errno = 0;
	assert_int_equal(kd_mkdirs(p, 0750), KD_EIO);
	assert_int_equal(errno, ENOTDIR);
	errno = 0;
	assert_int_equal(kd_mkdirs(at(dir, "file/sub/deeper", p), 0750), KD_EIO);
	assert_int_equal(errno, ENOTDIR);
	assert_false(exists(at(dir, "file/sub", p)));
}

static void mkdirs_of_an_empty_path_is_refused(void **state)
{
	(void)state;
	assert_int_equal(kd_mkdirs("", 0750), KD_EIO);
}

static void atomic_write_replaces_and_leaves_nothing_behind(void **state)
{
	const char *dir = *state;
	char p[256], list[512];
	assert_int_equal(kd_write_file_atomic(at(dir, "info.json", p), "first version", 13), 0);
	char *text;
	size_t len;
	assert_int_equal(kd_read_file(p, 100, &text, &len), 0);
	assert_string_equal(text, "first version");
	free(text);
	assert_int_equal(kd_write_file_atomic(p, "2nd", 3), 0);
	assert_int_equal(kd_read_file(p, 100, &text, &len), 0);
	assert_int_equal(len, 3);
	assert_string_equal(text, "2nd"); /* shorter: nothing of the old left */
	free(text);
	assert_int_equal(kd_write_file_atomic(p, "", 0), 0);
	assert_int_equal(kd_read_file(p, 100, &text, &len), 0);
	assert_int_equal(len, 0);
	free(text);
	assert_string_equal(names(dir, list, sizeof list), "info.json");

	/* into a folder that is not there: KD_EIO, and nothing made */
	errno = 0;
	assert_int_equal(kd_write_file_atomic(at(dir, "nowhere/x", p), "x", 1), KD_EIO);
	assert_int_equal(errno, ENOENT);
	/* over a folder: refused, the folder and its content kept, no temporary left */
	assert_int_equal(kd_mkdirs(at(dir, "sub", p), 0750), 0);
	char q[256];
	put(at(dir, "sub/keep", q), "kept");
	assert_int_equal(kd_write_file_atomic(p, "x", 1), KD_EIO);
	assert_true(is_dir(p));
	assert_string_equal(names(dir, list, sizeof list), "info.json sub");
	assert_string_equal(names(p, list, sizeof list), "keep");
}

static void commit_renames_a_finished_file(void **state)
{
	const char *dir = *state;
	char tmp[256], dst[256], list[512];
	/* with the caller's descriptor, which stays open */
	int fd = open(at(dir, "poster.jpg.tmp", tmp), O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "jpeg", 4), 4);
	assert_int_equal(kd_commit_file(fd, tmp, at(dir, "poster.jpg", dst)), 0);
	assert_int_equal(write(fd, "!", 1), 1); /* still open */
	close(fd);
	assert_string_equal(names(dir, list, sizeof list), "poster.jpg");
	char *text;
	assert_int_equal(kd_read_file(dst, 100, &text, NULL), 0);
	assert_string_equal(text, "jpeg!");
	free(text);
	/* without one: opened here; replaces what was there */
	put(tmp, "new");
	assert_int_equal(kd_commit_file(-1, tmp, dst), 0);
	assert_int_equal(kd_read_file(dst, 100, &text, NULL), 0);
	assert_string_equal(text, "new");
	free(text);
	assert_string_equal(names(dir, list, sizeof list), "poster.jpg");
	/* a temporary that is not there */
	assert_int_equal(kd_commit_file(-1, tmp, dst), KD_EIO);
	assert_int_equal(errno, ENOENT);
	/* a target folder that is not there: tmp is left for the caller */
	put(tmp, "again");
	assert_int_equal(kd_commit_file(-1, tmp, at(dir, "gone/poster.jpg", dst)), KD_EIO);
	assert_true(exists(tmp));
}

static void read_is_bounded(void **state)
{
	const char *dir = *state;
	char p[256];
	put(at(dir, "ten", p), "0123456789");
	char *text = NULL;
	size_t len = 99;
	assert_int_equal(kd_read_file(p, 10, &text, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(text, "0123456789");
	assert_int_equal(text[10], '\0');
	free(text);
	text = NULL;
	assert_int_equal(kd_read_file(p, 9, &text, &len), KD_ETOOBIG);
	assert_null(text);
	assert_int_equal(kd_read_file(at(dir, "missing", p), 100, &text, &len), KD_ENOTFOUND);
	assert_null(text);
	/* a folder is not a file to read (the header lists KD_EIO for this kind
	 * of failure; the code answers KD_EINVAL) */
	assert_int_equal(kd_read_file(dir, 100, &text, &len), KD_EINVAL);
	assert_null(text);
	/* a file with a NUL inside: all of it, and the length says so */
	FILE *f = fopen(at(dir, "nul", p), "w");
	fwrite("a\0b", 1, 3, f);
	fclose(f);
	assert_int_equal(kd_read_file(p, 10, &text, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(text, "a\0b", 4);
	free(text);
}

static void remove_tree_does_not_follow_links(void **state)
{
	const char *dir = *state;
	char p[256], q[256], list[512];
	/* outside the tree: a folder with a file, and a file */
	assert_int_equal(kd_mkdirs(at(dir, "outside/inner", p), 0750), 0);
	put(at(dir, "outside/inner/precious", p), "keep me");
	put(at(dir, "outside/alone", p), "me too");
	/* the tree: nested folders, files, an empty folder, links out */
	assert_int_equal(kd_mkdirs(at(dir, "tree/a/b/c", p), 0750), 0);
	assert_int_equal(kd_mkdirs(at(dir, "tree/empty", p), 0750), 0);
	put(at(dir, "tree/a/one", p), "1");
	put(at(dir, "tree/a/b/c/two", p), "2");
	assert_int_equal(symlink(at(dir, "outside/inner", q), at(dir, "tree/a/to-dir", p)), 0);
	assert_int_equal(symlink(at(dir, "outside/alone", q), at(dir, "tree/a/b/to-file", p)), 0);
	assert_int_equal(symlink("/nonexistent/target", at(dir, "tree/dangling", p)), 0);
	assert_int_equal(kd_remove_tree(at(dir, "tree", p)), 0);
	assert_false(exists(p));
	assert_string_equal(names(dir, list, sizeof list), "outside");
	assert_string_equal(names(at(dir, "outside", p), list, sizeof list), "alone inner");
	assert_string_equal(names(at(dir, "outside/inner", p), list, sizeof list), "precious");
	/* missing: not an error; a plain file: removed */
	assert_int_equal(kd_remove_tree(at(dir, "tree", p)), 0);
	assert_int_equal(kd_remove_tree(at(dir, "outside/alone", p)), 0);
	assert_false(exists(p));
	/* a link given as the tree itself: the link goes, not its target */
	assert_int_equal(symlink(at(dir, "outside/inner", q), at(dir, "link", p)), 0);
	assert_int_equal(kd_remove_tree(p), 0);
	assert_false(exists(p));
	assert_true(exists(at(dir, "outside/inner/precious", p)));
}

static void path_join_puts_one_slash_between(void **state)
{
	(void)state;
	struct {
		const char *a, *b, *want;
	} cases[] = {
		{"a", "b", "a/b"},
		{"a/", "b", "a/b"},
		{"a//", "//b", "a/b"},
		{"/srv/kindling", "media/1", "/srv/kindling/media/1"},
		{"./kindling-data", "catalogue.db", "./kindling-data/catalogue.db"},
		{"data", "", "data/"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *j = kd_path_join(cases[i].a, cases[i].b);
		if (strcmp(j, cases[i].want))
			fail_msg("join('%s', '%s') = '%s', wanted '%s'", cases[i].a, cases[i].b, j,
			         cases[i].want);
		free(j);
	}
}

static void path_join_under_the_root_has_one_slash(void **state)
{
	(void)state;
	char *j = kd_path_join("/", "x");
	assert_string_equal(j, "/x");
	free(j);
}

static const char *sha_of_pieces(const char *const *pieces, size_t n, char *hex)
{
	struct kd_sha256 h;
	assert_int_equal(kd_sha256_init(&h), 0);
	for (size_t i = 0; i < n; i++)
		kd_sha256_update(&h, pieces[i], strlen(pieces[i]));
	kd_sha256_final(&h, hex);
	assert_null(h.ctx); /* released */
	return hex;
}

static void sha256_gives_the_fips_vectors_in_any_pieces(void **state)
{
	(void)state;
	char hex[KD_SHA256_HEX];
	const char *empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	const char *abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	const char *two_blocks = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
	assert_string_equal(sha_of_pieces(NULL, 0, hex), empty);
	assert_string_equal(sha_of_pieces((const char *[]){""}, 1, hex), empty);
	assert_string_equal(sha_of_pieces((const char *[]){"abc"}, 1, hex), abc);
	assert_string_equal(sha_of_pieces((const char *[]){"a", "", "b", "c"}, 4, hex), abc);
	assert_string_equal(
		sha_of_pieces((const char *[]){"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"},
		              1, hex),
		two_blocks);
	assert_string_equal(sha_of_pieces((const char *[]){"abcdbcdecdefdefgefghfghighij",
	                                                   "hijkijkljklmklmnlmnomnopnopq"}, 2, hex),
	                    two_blocks);
	/* a hash given up is released too */
	struct kd_sha256 h;
	assert_int_equal(kd_sha256_init(&h), 0);
	kd_sha256_update(&h, "abc", 3);
	kd_sha256_abort(&h);
	assert_null(h.ctx);
}

static void sha256_of_a_file_agrees_with_sha256sum(void **state)
{
	const char *dir = *state;
	char p[256], cmd[512];
	/* 2.5 MB: more than one of the reads the hash makes */
	size_t size = 5u << 19;
	unsigned char *data = malloc(size);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		data[i] = (unsigned char)x;
	}
	FILE *f = fopen(at(dir, "clip.bin", p), "wb");
	assert_int_equal(fwrite(data, 1, size, f), size);
	fclose(f);
	free(data);
	snprintf(cmd, sizeof cmd, "sha256sum '%s'", p);
	FILE *sum = popen(cmd, "r");
	assert_non_null(sum);
	char want[KD_SHA256_HEX] = "";
	assert_int_equal(fscanf(sum, "%64s", want), 1);
	assert_int_equal(pclose(sum), 0);
	assert_int_equal(strlen(want), 64);
	char hex[KD_SHA256_HEX];
	assert_int_equal(kd_sha256_file(p, hex), 0);
	assert_string_equal(hex, want);
	/* the empty file */
	put(at(dir, "empty", p), "");
	assert_int_equal(kd_sha256_file(p, hex), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(kd_sha256_file(at(dir, "missing", p), hex), KD_ENOTFOUND);
	errno = 0;
	assert_int_equal(kd_sha256_file(dir, hex), KD_EIO); /* a folder */
	assert_int_equal(errno, EISDIR);
}

/* n bytes of a fixed pseudo-random sequence. */
static unsigned char *noise(size_t n)
{
	unsigned char *data = malloc(n ? n : 1);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		data[i] = (unsigned char)x;
	}
	return data;
}

static void sha256_of(const unsigned char *data, size_t n, char *hex)
{
	struct kd_sha256 h;
	assert_int_equal(kd_sha256_init(&h), 0);
	kd_sha256_update(&h, data, n);
	kd_sha256_final(&h, hex);
}

/* Saved after any number of bytes, restored in a fresh hash with the bytes
 * past the last whole block hashed again, the hash comes out the same. */
static void sha256_goes_on_from_a_saved_state(void **state)
{
	(void)state;
	const size_t n = 1000;
	unsigned char *data = noise(n);
	char want[KD_SHA256_HEX], got[KD_SHA256_HEX];
	sha256_of(data, n, want);
	const size_t cuts[] = {0, 1, 63, 64, 65, 127, 128, 500, 999, 1000};
	for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
		size_t cut = cuts[c];
		struct kd_sha256 h, again;
		assert_int_equal(kd_sha256_init(&h), 0);
		/* in two pieces, so that the state is not always block-aligned */
		kd_sha256_update(&h, data, cut / 3);
		kd_sha256_update(&h, data + cut / 3, cut - cut / 3);
		assert_int_equal(kd_sha256_bytes(&h), cut);
		char text[KD_SHA256_STATE_MAX];
		uint64_t whole = kd_sha256_save(&h, text), restored = 7;
		assert_int_equal(whole, cut / 64 * 64);
		assert_true(strlen(text) < KD_SHA256_STATE_MAX);
		/* saving leaves h as it was */
		kd_sha256_update(&h, data + cut, n - cut);
		kd_sha256_final(&h, got);
		assert_string_equal(got, want);
		assert_int_equal(kd_sha256_restore(&again, text, &restored), 0);
		assert_int_equal(restored, whole);
		assert_int_equal(kd_sha256_bytes(&again), whole);
		kd_sha256_update(&again, data + whole, n - whole);
		kd_sha256_final(&again, got);
		assert_string_equal(got, want);
	}
	/* a state of the empty input is the empty hash's */
	struct kd_sha256 h;
	uint64_t whole;
	assert_int_equal(kd_sha256_restore(&h, "sha256-state-1 0 6a09e667bb67ae853c6ef372a54ff53a"
	                                       "510e527f9b05688c1f83d9ab5be0cd19", &whole), 0);
	assert_int_equal(whole, 0);
	kd_sha256_final(&h, got);
	assert_string_equal(got, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	free(data);
}

static void sha256_state_from_elsewhere_is_checked(void **state)
{
	(void)state;
	const char *words = "6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19";
	char text[256];
	const char *bad[] = {
		"", "sha256-state-1", "sha256-state-1 ", "sha256-state-2 0 %s", "sha256-state-1 1 %s",
		"sha256-state-1 63 %s", "sha256-state-1 -64 %s", "sha256-state-1 +64 %s",
		"sha256-state-1  64 %s", "sha256-state-1 64  %s", "sha256-state-1 64 %s ",
		"sha256-state-1 64 %s0", "sha256-state-1 64 %.63s", "sha256-state-1 64 %.63sG",
		"sha256-state-1 64 %.63sA", "sha256-state-1 123456789012345664 %s", "SHA256-state-1 0 %s",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(text, sizeof text, bad[i], words);
		struct kd_sha256 h = {.ctx = (void *)1};
		uint64_t whole = 7;
		if (kd_sha256_restore(&h, text, &whole) != KD_EINVAL)
			fail_msg("'%s' was taken", text);
		assert_null(h.ctx);
		assert_int_equal(whole, 7);
	}
	/* 17 digits is the most taken */
	snprintf(text, sizeof text, "sha256-state-1 12345678901234560 %s", words);
	struct kd_sha256 h;
	uint64_t whole;
	assert_int_equal(kd_sha256_restore(&h, text, &whole), 0);
	assert_true(whole == 12345678901234560ULL);
	assert_true(kd_sha256_bytes(&h) == whole);
	kd_sha256_abort(&h);
}

static void sha256_of_part_of_a_file(void **state)
{
	const char *dir = *state;
	char p[256];
	const size_t n = (3u << 20) + 5; /* more than one read */
	unsigned char *data = noise(n);
	FILE *f = fopen(at(dir, "part.bin", p), "wb");
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	int fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	char want[KD_SHA256_HEX], got[KD_SHA256_HEX];
	struct kd_sha256 h;
	/* the first 100 bytes here, the rest from the file */
	sha256_of(data, n, want);
	assert_int_equal(kd_sha256_init(&h), 0);
	kd_sha256_update(&h, data, 100);
	assert_int_equal(kd_sha256_fd(&h, fd, 100, n - 100), 0);
	kd_sha256_final(&h, got);
	assert_string_equal(got, want);
	/* a range in the middle; none at all */
	sha256_of(data + 7, 1000, want);
	assert_int_equal(kd_sha256_init(&h), 0);
	assert_int_equal(kd_sha256_fd(&h, fd, 7, 1000), 0);
	assert_int_equal(kd_sha256_fd(&h, fd, 0, 0), 0);
	kd_sha256_final(&h, got);
	assert_string_equal(got, want);
	/* past the end of the file: an error, not a hash of less */
	assert_int_equal(kd_sha256_init(&h), 0);
	errno = 0;
	assert_int_equal(kd_sha256_fd(&h, fd, n - 10, 11), KD_EIO);
	assert_int_equal(errno, EIO);
	kd_sha256_abort(&h);
	close(fd);
	free(data);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(mkdirs_makes_every_level),
		cmocka_unit_test(mkdirs_of_an_empty_path_is_refused),
		T(atomic_write_replaces_and_leaves_nothing_behind),
		T(commit_renames_a_finished_file),
		T(read_is_bounded),
		T(remove_tree_does_not_follow_links),
		cmocka_unit_test(path_join_puts_one_slash_between),
		cmocka_unit_test(path_join_under_the_root_has_one_slash),
		cmocka_unit_test(sha256_gives_the_fips_vectors_in_any_pieces),
		T(sha256_of_a_file_agrees_with_sha256sum),
		cmocka_unit_test(sha256_goes_on_from_a_saved_state),
		cmocka_unit_test(sha256_state_from_elsewhere_is_checked),
		T(sha256_of_part_of_a_file),
	};
	return cmocka_run_group_tests_name("fs", tests, NULL, NULL);
}
