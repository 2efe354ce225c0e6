/* roster_zip.c - finding a roster's three files: in a folder, or in the
 * .zip a roster system exports (on disk or uploaded), every size bounded
 * before it is read and decompressed bytes counted while they are (see
 * roster.h for the bounds); roster_read.c parses what is found. */
#include "kindling/roster.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "identity/roster_files.h"
#include "kindling/err.h"
#include "kindling/mem.h"

/* ------------------------------------------------------------------ a folder */

/* Read the regular file at path, refused unread when over cap. */
static int slurp(const char *path, const char *label, size_t cap, struct roster_file *f,
                 struct roster_report *rep)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return KD_ENOTFOUND;
		roster_report_error(rep, label, 0, NULL, "cannot open %s: %s", path, strerror(errno));
		return KD_EIO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		roster_report_error(rep, label, 0, NULL, "%s is not a regular file", path);
		close(fd);
		return KD_EINVAL;
	}
	if ((uintmax_t)st.st_size > cap) {
		roster_report_error(rep, label, 0, NULL,
		                    "%s is %.1f MiB: a roster file is at most %zu MiB; is it the right "
		                    "file?", path, (double)st.st_size / ROSTER_MiB, cap >> 20);
		close(fd);
		return KD_ETOOBIG;
	}
	/* the file may grow while it is read: never past cap */
	size_t alloc = (size_t)st.st_size + 1, len = 0;
	char *data = kd_malloc(alloc);
	for (;;) {
		if (len == alloc) {
			if (alloc > cap) {
				roster_report_error(rep, label, 0, NULL,
				                    "%s grew past %zu MiB while it was read", path, cap >> 20);
				free(data);
				close(fd);
				return KD_ETOOBIG;
			}
			alloc = alloc * 2 > cap + 1 ? cap + 1 : alloc * 2;
			data = kd_realloc(data, alloc);
		}
		ssize_t n = read(fd, data + len, alloc - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			roster_report_error(rep, label, 0, NULL, "cannot read %s: %s", path, strerror(errno));
			free(data);
			close(fd);
			return KD_EIO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	f->data = data;
	f->len = len;
	return 0;
}

static int read_dir(const char *dir, struct roster **out, struct roster_report *rep)
{
	struct roster_file files[F_COUNT] = {{0}};
	int rc = 0;
	for (int k = 0; k < F_COUNT; k++) {
		char *path = kd_asprintf("%s/%s", dir, roster_file_names[k]);
		int got = slurp(path, roster_file_names[k], (size_t)ROSTER_FILE_MAX, &files[k], rep);
		free(path);
		if (got < 0 && got != KD_ENOTFOUND)
			roster_note(&rc, got);
	}
	if (rc == 0)
		rc = roster_read_files(files, dir, out, rep);
	for (int k = 0; k < F_COUNT; k++)
		free(files[k].data);
	return rc;
}

/* ------------------------------------------------------------------ a zip */

/* Where a zip's bytes are: in memory, or a file not read whole. */
struct zsrc {
	const unsigned char *mem;
	int fd;
	uint64_t size;
};

static bool read_at(const struct zsrc *s, uint64_t off, void *buf, size_t n)
{
	if (off > s->size || n > s->size - off)
		return false;
	if (s->mem) {
		memcpy(buf, s->mem + off, n);
		return true;
	}
	return pread(s->fd, buf, n, (off_t)off) == (ssize_t)n;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* The number of entries the zip's end record declares, read before libzip
 * sizes its tables by it; UINT64_MAX when there is no end record (libzip
 * will say what is wrong). */
static uint64_t declared_entries(const struct zsrc *s)
{
	enum { EOCD = 22, TAIL = EOCD + 65535 };
	size_t n = s->size < TAIL ? (size_t)s->size : TAIL;
	if (n < EOCD)
		return UINT64_MAX;
	unsigned char *tail = kd_malloc(n);
	uint64_t entries = UINT64_MAX, base = s->size - n;
	if (read_at(s, base, tail, n)) {
		for (size_t i = n - EOCD + 1; i-- > 0;) {
			if (memcmp(tail + i, "PK\5\6", 4) != 0)
				continue;
			entries = le(tail + i + 10, 2);
			if (entries == 0xFFFF || le(tail + i + 12, 4) == 0xFFFFFFFF ||
			    le(tail + i + 16, 4) == 0xFFFFFFFF) {
				/* Zip64: the locator just before points at the real record. */
				unsigned char loc[20], rec[56];
				uint64_t at = base + i;
				if (at >= 20 && read_at(s, at - 20, loc, 20) && !memcmp(loc, "PK\6\7", 4) &&
				    read_at(s, le(loc + 8, 8), rec, 56) && !memcmp(rec, "PK\6\6", 4))
					entries = le(rec + 32, 8);
			}
			break;
		}
	}
	free(tail);
	return entries;
}

static bool junk_entry(const char *name)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	return !strncmp(name, "__MACOSX/", 9) || !strcmp(base, ".DS_Store") ||
	       !strncmp(base, "._", 2) || !strcmp(base, "Thumbs.db");
}

/* Read the entry i of za (stat sb) into f, checking every size as it goes. */
static int read_entry(zip_t *za, zip_uint64_t i, const zip_stat_t *sb, const char *label,
                      struct roster_file *f, struct roster_report *rep)
{
	if ((sb->valid & ZIP_STAT_ENCRYPTION_METHOD) && sb->encryption_method != ZIP_EM_NONE) {
		roster_report_error(rep, label, 0, NULL,
		                    "%s is encrypted in the zip: export the roster without a password",
		                    sb->name);
		return KD_EINVAL;
	}
	if (!(sb->valid & ZIP_STAT_SIZE) || !(sb->valid & ZIP_STAT_COMP_SIZE)) {
		roster_report_error(rep, label, 0, NULL, "the zip does not say how large %s is",
		                    sb->name);
		return KD_EINVAL;
	}
	if (sb->size > (zip_uint64_t)ROSTER_FILE_MAX) {
		roster_report_error(rep, label, 0, NULL,
		                    "%s is %.1f MiB once uncompressed: a roster file is at most %ld MiB "
		                    "(a zip bomb, or not a roster)", sb->name, (double)sb->size / ROSTER_MiB,
		                    ROSTER_FILE_MAX >> 20);
		return KD_ETOOBIG;
	}
	if (sb->size > (1u << 20) && sb->size / ROSTER_ZIP_RATIO_MAX > sb->comp_size) {
		roster_report_error(rep, label, 0, NULL,
		                    "%s is compressed more than %d times (%.1f MiB into %llu bytes): "
		                    "that is a zip bomb, not a roster", sb->name, ROSTER_ZIP_RATIO_MAX,
		                    (double)sb->size / ROSTER_MiB, (unsigned long long)sb->comp_size);
		return KD_ETOOBIG;
	}
	zip_file_t *zf = zip_fopen_index(za, i, 0);
	if (!zf) {
		roster_report_error(rep, label, 0, NULL, "cannot open %s in the zip: %s", sb->name,
		                    zip_strerror(za));
		return KD_EINVAL;
	}
	/* One byte more than declared: a header that lies shows here. */
	size_t want = (size_t)sb->size + 1, len = 0;
	char *data = kd_malloc(want);
	int rc = 0;
	for (;;) {
		zip_int64_t n = zip_fread(zf, data + len, want - len);
		if (n < 0) {
			roster_report_error(rep, label, 0, NULL,
			                    "%s in the zip is damaged (%s): export the roster again", sb->name,
			                    zip_file_strerror(zf));
			rc = KD_EINVAL;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == want) {
			roster_report_error(rep, label, 0, NULL,
			                    "%s holds more than the zip's header says (%llu bytes): a "
			                    "damaged or hostile zip", sb->name,
			                    (unsigned long long)sb->size);
			rc = KD_ETOOBIG;
			break;
		}
	}
	zip_fclose(zf);
	if (rc == 0 && len != sb->size) {
		roster_report_error(rep, label, 0, NULL,
		                    "%s holds %zu bytes where the zip's header says %llu: a damaged zip",
		                    sb->name, len, (unsigned long long)sb->size);
		rc = KD_EINVAL;
	}
	if (rc != 0) {
		free(data);
		return rc;
	}
	f->data = data;
	f->len = len;
	return 0;
}

/* Find the three files in za, at its top or in one folder at its top, and
 * read them. */
static int read_zip(zip_t *za, const char *zipname, struct roster_file files[F_COUNT],
                    struct roster_report *rep)
{
	zip_int64_t n = zip_get_num_entries(za, 0);
	if (n < 0 || n > ROSTER_ZIP_ENTRIES_MAX) {
		roster_report_error(rep, zipname, 0, NULL,
		                    "the zip holds more than %d files: a roster export holds a dozen",
		                    ROSTER_ZIP_ENTRIES_MAX);
		return KD_ETOOBIG;
	}
	zip_int64_t at[F_COUNT] = {-1, -1, -1};
	char *folder = NULL; /* where manifest.csv is: "" for the top */
	char *deep = NULL;   /* a manifest.csv found too deep, for the message */
	int rc = 0;
	/* First the manifest, whose folder is where the others must be. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (zip_int64_t i = 0; i < n; i++) {
			zip_stat_t sb;
			if (zip_stat_index(za, (zip_uint64_t)i, 0, &sb) != 0 || !(sb.valid & ZIP_STAT_NAME))
				continue;
			char *name = kd_strdup(sb.name);
			for (char *p = name; *p; p++)
				if (*p == '\\')
					*p = '/';
			size_t len = strlen(name);
			const char *slash = strchr(name, '/'), *base = strrchr(name, '/');
			base = base ? base + 1 : name;
			bool dir_entry = len && name[len - 1] == '/';
			bool depth_ok = !slash || slash == base - 1; /* top, or one folder down */
			char *dir = kd_strndup(name, (size_t)(base - name));
			for (int k = 0; !dir_entry && !junk_entry(name) && k < F_COUNT; k++) {
				if (strcasecmp(base, roster_file_names[k]) != 0 || (pass == 0) != (k == F_MANIFEST))
					continue;
				if (!depth_ok) {
					if (!deep)
						deep = kd_strdup(name);
					continue;
				}
				if (k == F_MANIFEST && folder && strcmp(folder, dir) != 0) {
					roster_report_error(rep, zipname, 0, NULL,
					                    "the zip holds two rosters (%smanifest.csv and "
					                    "%smanifest.csv): send one export at a time", folder, dir);
					rc = KD_EINVAL;
				} else if (k != F_MANIFEST && folder && strcmp(folder, dir) != 0) {
					continue;
				} else if (at[k] >= 0) {
					roster_report_error(rep, zipname, 0, NULL, "the zip holds %s%s twice",
					                    dir, roster_file_names[k]);
					rc = KD_EINVAL;
				} else {
					/* without a manifest (refused later, saying so), the
					 * folder of the first file found */
					at[k] = i;
					if (!folder)
						folder = kd_strdup(dir);
				}
			}
			free(dir);
			free(name);
		}
	}
	if (rc == 0 && at[F_MANIFEST] < 0 && deep) {
		roster_report_error(rep, zipname, 0, NULL,
		                    "the zip keeps its files in nested folders (%s): put manifest.csv, "
		                    "orgs.csv and users.csv at its top, or in one folder at its top", deep);
		rc = KD_EINVAL;
	}
	for (int k = 0; rc == 0 && k < F_COUNT; k++) {
		if (at[k] < 0)
			continue; /* read_files says what is missing */
		zip_stat_t sb;
		if (zip_stat_index(za, (zip_uint64_t)at[k], 0, &sb) != 0) {
			roster_report_error(rep, zipname, 0, NULL, "cannot read the zip: %s",
			                    zip_strerror(za));
			rc = KD_EINVAL;
			break;
		}
		rc = read_entry(za, (zip_uint64_t)at[k], &sb, roster_file_names[k], &files[k], rep);
	}
	free(folder);
	free(deep);
	return rc;
}

/* Open the zip s holds (src for libzip), read it and parse it. */
static int from_zip(const struct zsrc *s, zip_source_t *src, const char *zipname,
                    struct roster **out, struct roster_report *rep)
{
	*out = NULL;
	uint64_t entries = declared_entries(s);
	if (entries != UINT64_MAX && entries > ROSTER_ZIP_ENTRIES_MAX) {
		zip_source_free(src);
		roster_report_error(rep, zipname, 0, NULL,
		                    "the zip says it holds %llu files: a roster export holds a dozen "
		                    "(at most %d are read)", (unsigned long long)entries,
		                    ROSTER_ZIP_ENTRIES_MAX);
		return KD_ETOOBIG;
	}
	zip_error_t ze;
	zip_error_init(&ze);
	zip_t *za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!za) {
		roster_report_error(rep, zipname, 0, NULL,
		                    "%s is not a zip file that can be read (%s): give the .zip the "
		                    "roster system exported, or the folder of its CSV files", zipname,
		                    zip_error_strerror(&ze));
		zip_error_fini(&ze);
		zip_source_free(src);
		return KD_EINVAL;
	}
	zip_error_fini(&ze);
	struct roster_file files[F_COUNT] = {{0}};
	int rc = read_zip(za, zipname, files, rep);
	zip_discard(za); /* frees src */
	if (rc == 0)
		rc = roster_read_files(files, zipname, out, rep);
	for (int k = 0; k < F_COUNT; k++)
		free(files[k].data);
	return rc;
}

int roster_read_zip_mem(const void *data, size_t len, const char *name, struct roster **out,
                        struct roster_report *rep)
{
	*out = NULL;
	name = name ? name : "the zip";
	if (!rep->source)
		rep->source = kd_strdup(name);
	if (len > (size_t)ROSTER_ZIP_MAX) {
		roster_report_error(rep, name, 0, NULL,
		                    "%s is %.1f MiB: a roster export is at most %ld MiB", name,
		                    (double)len / ROSTER_MiB, ROSTER_ZIP_MAX >> 20);
		return KD_ETOOBIG;
	}
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
	zip_error_fini(&ze);
	if (!src) {
		roster_report_error(rep, name, 0, NULL, "cannot read %s: out of memory", name);
		return KD_ENOMEM;
	}
	struct zsrc s = {.mem = data, .fd = -1, .size = len};
	return from_zip(&s, src, name, out, rep);
}

int roster_read_path(const char *path, struct roster **out, struct roster_report *rep)
{
	*out = NULL;
	if (!rep->source)
		rep->source = kd_strdup(path);
	struct stat st;
	if (stat(path, &st) != 0) {
		roster_report_error(rep, NULL, 0, NULL, "cannot read %s: %s", path, strerror(errno));
		return errno == ENOENT ? KD_ENOTFOUND : KD_EIO;
	}
	if (S_ISDIR(st.st_mode))
		return read_dir(path, out, rep);
	if (!S_ISREG(st.st_mode)) {
		roster_report_error(rep, NULL, 0, NULL,
		                    "%s is neither a folder nor a file: give the .zip the roster system "
		                    "exported, or the folder of its CSV files", path);
		return KD_EINVAL;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if ((uintmax_t)st.st_size > (uintmax_t)ROSTER_ZIP_MAX) {
		roster_report_error(rep, base, 0, NULL,
		                    "%s is %.1f MiB: a roster export is at most %ld MiB; is it the right "
		                    "file?", path, (double)st.st_size / ROSTER_MiB, ROSTER_ZIP_MAX >> 20);
		return KD_ETOOBIG;
	}
	size_t blen = strlen(base);
	if (blen > 4 && !strcasecmp(base + blen - 4, ".csv")) {
		roster_report_error(rep, base, 0, NULL,
		                    "%s is one CSV file: give the folder that holds manifest.csv, "
		                    "orgs.csv and users.csv, or the .zip of them", path);
		return KD_EINVAL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		roster_report_error(rep, base, 0, NULL, "cannot open %s: %s", path, strerror(errno));
		return KD_EIO;
	}
	zip_error_t ze;
	zip_error_init(&ze);
	/* libzip reads through its own handle (closed with the archive); fd
	 * is for the checks made before libzip sees the file. */
	zip_source_t *src = zip_source_file_create(path, 0, -1, &ze);
	zip_error_fini(&ze);
	if (!src) {
		roster_report_error(rep, base, 0, NULL, "cannot open %s", path);
		close(fd);
		return KD_EIO;
	}
	struct zsrc s = {.mem = NULL, .fd = fd, .size = (uint64_t)st.st_size};
	int rc = from_zip(&s, src, base, out, rep);
	close(fd);
	return rc;
}
