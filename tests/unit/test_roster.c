/* test_roster.c - OneRoster 1.1 CSV read, planned against the catalogue and
 * applied (src/identity/roster*.c), on small rosters made here. */
#include "helpers.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <zip.h>

#include "kindling/buf.h"
#include "kindling/roster.h"
#include "kindling/users.h"

#define MANIFEST                                                                         \
	"propertyName,value\n"                                                           \
	"manifest.version,1.0\n"                                                         \
	"oneroster.version,1.1\n"                                                        \
	"file.classes,bulk\n"                                                            \
	"file.orgs,bulk\n"                                                               \
	"file.users,bulk\n"                                                              \
	"file.enrollments,absent\n"

#define ORGS_HEAD "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
#define ORGS                                                                             \
	ORGS_HEAD                                                                        \
	"d-1,,,Maple District,district,MD,\n"                                            \
	"s-1,,,North High School,school,1001,d-1\n"                                      \
	"s-2,,,\"\xC3\x89" "cole Saint-Jean, Annex\",school,SJA,d-1\n"                             \
	"dep-1,,,Science,department,,s-2\n"                                              \
	"st-1,,,The State,state,,\n"

#define USERS_HEAD                                                                       \
	"sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,"     \
	"userIds,givenName,familyName,middleName,identifier,email,sms,phone,"            \
	"agentSourcedIds,grades,password\n"

/* A staff or student row of users.csv. */
#define ROW(id, enabled, orgs, role, user, given, family, email)                        \
	id ",,," enabled "," orgs "," role "," user ",," given "," family ",,," email ",,,,,\n"

#define USERS                                                                            \
	USERS_HEAD                                                                       \
	ROW("u-1", "true", "s-1", "teacher", "tina", "Tina", "Teach", "tina@maple.example")   \
	ROW("u-2", "true", "s-2", "aide", "adam", "Adam", "Aide", "adam@maple.example")       \
	ROW("u-3", "true", "s-1", "administrator", "pam", "Pam", "Principal",               \
	    "pam@maple.example")                                                             \
	ROW("u-4", "true", "d-1", "administrator", "dan", "Dan", "District", "dan@maple.example") \
	ROW("u-5", "true", "\"dep-1,s-1\"", "teacher", "dora", "Dora", "\"O'Dep, Jr.\"",     \
	    "dora@maple.example")                                                            \
	ROW("k-1", "true", "s-1", "student", "kid1", "Kiddo", "Secret", "kid1@maple.example") \
	ROW("k-2", "true", "s-2", "STUDENT", "kid2", "Kiddie", "Hidden", "")                 \
	ROW("p-1", "true", "s-1", "parent", "mum", "Mum", "Secret", "mum@home.example")      \
	ROW("g-1", "true", "s-1", "guardian", "gran", "Gran", "Secret", "")                  \
	ROW("r-1", "true", "s-1", "relative", "unc", "Uncle", "Secret", "")                  \
	ROW("x-1", "true", "s-1", "proctor", "proc", "Pro", "Ctor", "proc@maple.example")

/* ------------------------------------------------------------------ helpers */

static struct roster *read_ok(const char *orgs, const char *users)
{
	struct roster_report *rep = roster_report_new();
	struct roster *r = NULL;
	int rc = roster_read_csv(MANIFEST, strlen(MANIFEST), orgs, strlen(orgs), users,
	                         strlen(users), "test", &r, rep);
	if (rc != 0)
		fail_msg("refused: %s", rep->errors.n ? rep->errors.v[0].message : "?");
	roster_report_free(rep);
	return r;
}

/* Read, expecting a refusal: the report (caller frees). */
static struct roster_report *read_refused(const char *manifest, const char *orgs,
                                          const char *users, int code)
{
	struct roster_report *rep = roster_report_new();
	struct roster *r = NULL;
	int rc = roster_read_csv(manifest, manifest ? strlen(manifest) : 0, orgs, strlen(orgs), users,
	                         strlen(users), "test", &r, rep);
	assert_int_equal(rc, code);
	assert_null(r);
	assert_true(rep->errors.n > 0);
	return rep;
}

/* Does an error (or a warning, warnings) of rep say msg, at file and row? */
static bool says(const struct roster_issues *is, const char *file, long row, const char *msg)
{
	for (size_t i = 0; i < is->n; i++)
		if ((!file || (is->v[i].file && !strcmp(is->v[i].file, file))) &&
		    (row < 0 || is->v[i].row == row) && strstr(is->v[i].message, msg))
			return true;
	return false;
}

static void must_say(const struct roster_issues *is, const char *file, long row, const char *msg)
{
	if (says(is, file, row, msg))
		return;
	for (size_t i = 0; i < is->n; i++)
		print_message("  have: %s row %ld: %s\n", is->v[i].file ? is->v[i].file : "-",
		              is->v[i].row, is->v[i].message);
	fail_msg("no issue '%s' at %s row %ld", msg, file ? file : "-", row);
}

/* Import users (and ORGS): the report (caller frees); fails the test
 * unless the result is want. */
static struct roster_report *import(struct kd_db *db, const char *orgs, const char *users,
                                    bool dry_run, bool disable_missing, int want)
{
	struct roster *r = read_ok(orgs, users);
	struct roster_report *rep = roster_report_new();
	struct roster_opts o = {.dry_run = dry_run, .disable_missing = disable_missing};
	int rc = roster_apply(db, r, &o, rep);
	if (rc != want)
		fail_msg("roster_apply: %d (%s), wanted %d", rc,
		         rep->errors.n ? rep->errors.v[0].message : "no error", want);
	roster_free(r);
	return rep;
}

static int64_t num(struct kd_db *db, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	int64_t v = db_step(st) == DB_ROW ? db_column_int64(st, 0) : -1;
	db_finalize(st);
	return v;
}

/* One text value (a static copy, "(null)" for NULL). */
static const char *text(struct kd_db *db, const char *fmt, ...)
{
	static char out[512];
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	snprintf(out, sizeof out, "(none)");
	if (db_step(st) == DB_ROW) {
		const unsigned char *t = db_column_text(st, 0);
		snprintf(out, sizeof out, "%s", t ? (const char *)t : "(null)");
	}
	db_finalize(st);
	return out;
}

/* Everything an import may touch, as one string to compare. */
static char *snapshot(struct kd_db *db)
{
	struct kd_buf b = KD_BUF_INIT(1 << 20);
	struct kd_stmt *st;
	const char *q[] = {
		"SELECT id, slug, name, district, coalesce(sourced_id, '-') FROM schools ORDER BY id",
		"SELECT id, name, role, coalesce(school_id, 0), coalesce(email, '-'), full_name, "
		"coalesce(sourced_id, '-'), role_by, disabled, coalesce(disabled_at, '-') FROM users "
		"ORDER BY id",
		"SELECT id, user_id FROM sessions ORDER BY id",
	};
	for (size_t k = 0; k < 3; k++) {
		if (db_prepare(db, q[k], &st) != DB_OK)
			fail_msg("%s", db_errmsg(db));
		while (db_step(st) == DB_ROW) {
			for (int i = 0; i < db_column_count(st); i++) {
				const unsigned char *t = db_column_text(st, i);
				kd_buf_printf(&b, "%s|", t ? (const char *)t : "NULL");
			}
			kd_buf_putc(&b, '\n');
		}
		db_finalize(st);
	}
	return kd_buf_take(&b, NULL);
}

/* users.csv with the row of id taken out. */
static char *without(const char *users, const char *id)
{
	char *out = strdup(users), *line = strstr(out, id);
	assert_non_null(line);
	char *end = strchr(line, '\n');
	memmove(line, end + 1, strlen(end + 1) + 1);
	return out;
}

/* users.csv with from replaced by to (once). */
static char *replaced(const char *users, const char *from, const char *to)
{
	const char *at = strstr(users, from);
	assert_non_null(at);
	char *out = malloc(strlen(users) + strlen(to) + 1);
	sprintf(out, "%.*s%s%s", (int)(at - users), users, to, at + strlen(from));
	return out;
}

static int setup(void **state)
{
	*state = test_db();
	return 0;
}

/* ------------------------------------------------------------------ reading */

static void test_read_staff_only(void **state)
{
	(void)state;
	struct roster *r = read_ok(ORGS, USERS);
	assert_int_equal(r->n_orgs, 5);
	assert_int_equal(r->n_people, 5);
	for (size_t i = 0; i < r->n_people; i++) {
		/* no child, parent, guardian or relative was kept, nor their names */
		assert_string_not_equal(r->people[i].family_name, "Secret");
		assert_string_not_equal(r->people[i].family_name, "Hidden");
		assert_true(strncmp(r->people[i].sourced_id, "u-", 2) == 0);
	}
	assert_string_equal(r->people[4].family_name, "O'Dep, Jr.");
	assert_int_equal(r->people[4].n_orgs, 2);
	assert_string_equal(r->people[4].orgs[1], "s-1");
	long not_staff = 0, proctors = 0;
	for (size_t i = 0; i < r->n_skipped; i++) {
		if (!strcmp(r->skipped[i].reason, "not staff"))
			not_staff = r->skipped[i].n;
		if (!strcmp(r->skipped[i].reason, "role proctor"))
			proctors = r->skipped[i].n;
	}
	assert_int_equal(not_staff, 5);
	assert_int_equal(proctors, 1);
	roster_free(r);
}

static void test_read_columns_any_order(void **state)
{
	(void)state;
	/* columns by name, in any order and case, around spaces; a BOM; CRLF */
	const char *orgs = "\xEF\xBB\xBF type , NAME,sourcedid\r\nschool,Alpha,s-9\r\n";
	const char *users = "email,role,familyName,givenName,username,orgSourcedIds,enabledUser,"
	                    "sourcedId\r\nz@x.example,teacher,Zed,Zoe,zoe,s-9,TRUE,u-9\r\n";
	struct roster *r = read_ok(orgs, users);
	assert_int_equal(r->n_people, 1);
	assert_string_equal(r->people[0].email, "z@x.example");
	assert_true(r->people[0].enabled);
	assert_string_equal(r->orgs[0].name, "Alpha");
	roster_free(r);
}

static void test_read_missing_column(void **state)
{
	(void)state;
	const char *users = "sourcedId,enabledUser,orgSourcedIds,role,username,givenName,familyName\n"
	                    "u-1,true,s-1,teacher,t,T,T\n";
	struct roster_report *rep = read_refused(MANIFEST, ORGS, users, KD_EINVAL);
	must_say(&rep->errors, "users.csv", 1, "users.csv has no column email");
	roster_report_free(rep);
	rep = read_refused(MANIFEST, "sourcedId,name\ns-1,A\n", USERS, KD_EINVAL);
	must_say(&rep->errors, "orgs.csv", 1, "no column type");
	roster_report_free(rep);
}

static void test_read_duplicates(void **state)
{
	(void)state;
	char *users = replaced(USERS, "u-2,", "u-1,");
	struct roster_report *rep = read_refused(MANIFEST, ORGS, users, KD_EINVAL);
	must_say(&rep->errors, "users.csv", 3, "rows 2 and 3 have the same sourcedId 'u-1'");
	roster_report_free(rep);
	free(users);
	/* a child's id is not shown, but the rows are */
	users = replaced(USERS, "k-2,", "k-1,");
	rep = read_refused(MANIFEST, ORGS, users, KD_EINVAL);
	must_say(&rep->errors, "users.csv", 8, "rows 7 and 8 have the same sourcedId:");
	assert_null(rep->errors.v[0].sourced_id);
	roster_report_free(rep);
	free(users);
	rep = read_refused(MANIFEST, ORGS "s-1,,,Again,school,,\n", USERS, KD_EINVAL);
	must_say(&rep->errors, "orgs.csv", 7, "rows 3 and 7 have the same sourcedId 's-1'");
	roster_report_free(rep);
}

static void test_read_manifest(void **state)
{
	(void)state;
	struct roster_report *rep = read_refused(NULL, ORGS, USERS, KD_EINVAL);
	must_say(&rep->errors, "manifest.csv", 0, "no manifest.csv");
	roster_report_free(rep);
	rep = read_refused("propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n"
	                   "file.orgs,bulk\nfile.users,bulk\n", ORGS, USERS, KD_EINVAL);
	must_say(&rep->errors, "manifest.csv", 0, "OneRoster 1.2: kindling reads OneRoster 1.1");
	roster_report_free(rep);
	rep = read_refused("propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
	                   "file.orgs,bulk\nfile.users,absent\n", ORGS, USERS, KD_EINVAL);
	must_say(&rep->errors, "manifest.csv", 0, "file.users is absent");
	roster_report_free(rep);
	rep = read_refused("name,age\nx,1\n", ORGS, USERS, KD_EINVAL);
	must_say(&rep->errors, "manifest.csv", 1, "no column propertyName");
	roster_report_free(rep);
}

static void test_read_bad_rows(void **state)
{
	(void)state;
	char *users = replaced(USERS, "u-3,,,true", "u-3,,,maybe");
	struct roster_report *rep = read_refused(MANIFEST, ORGS, users, KD_EINVAL);
	must_say(&rep->errors, "users.csv", 4, "enabledUser is 'maybe'");
	roster_report_free(rep);
	free(users);
	users = replaced(USERS, "u-1,,,true,s-1,", "u-1,,,true,,");
	rep = read_refused(MANIFEST, ORGS, users, KD_EINVAL);
	must_say(&rep->errors, "users.csv", 2, "orgSourcedIds is empty");
	roster_report_free(rep);
	free(users);
	/* every problem at once, not the first alone */
	users = replaced(USERS, "u-2,,,true", "u-2,,,nope");
	char *both = replaced(users, "u-4,,,true", "u-4,,,yes");
	rep = read_refused(MANIFEST, ORGS, both, KD_EINVAL);
	must_say(&rep->errors, "users.csv", 3, "enabledUser is 'nope'");
	must_say(&rep->errors, "users.csv", 5, "enabledUser is 'yes'");
	roster_report_free(rep);
	free(both);
	free(users);
	rep = read_refused(MANIFEST, ORGS, USERS "u-9,,,true,s-1,teacher\n", KD_EINVAL);
	must_say(&rep->errors, "users.csv", 13, "the row has 6 fields where the header has 18");
	roster_report_free(rep);
	rep = read_refused(MANIFEST, ORGS "s-7,,,\"Unclosed,school,,\n", USERS, KD_EINVAL);
	must_say(&rep->errors, "orgs.csv", 7, "never closed");
	roster_report_free(rep);
}

static void test_read_dir(void **state)
{
	(void)state;
	char dir[] = "/tmp/kd-roster-XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	const char *names[] = {"manifest.csv", "orgs.csv", "users.csv"};
	const char *texts[] = {MANIFEST, ORGS, USERS};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "w");
		fputs(texts[i], f);
		fclose(f);
	}
	struct roster_report *rep = roster_report_new();
	struct roster *r = NULL;
	assert_int_equal(roster_read_path(dir, &r, rep), 0);
	assert_int_equal(r->n_people, 5);
	roster_free(r);
	roster_report_free(rep);
	/* a users.csv of 2 GB (sparse) is refused from its size, unread */
	snprintf(path, sizeof path, "%s/users.csv", dir);
	assert_int_equal(truncate(path, 2L << 30), 0);
	rep = roster_report_new();
	assert_int_equal(roster_read_path(dir, &r, rep), KD_ETOOBIG);
	must_say(&rep->errors, "users.csv", 0, "is 2048.0 MiB: a roster file is at most 64 MiB");
	roster_report_free(rep);
	unlink(path);
	rep = roster_report_new();
	assert_int_equal(roster_read_path(dir, &r, rep), KD_EINVAL);
	must_say(&rep->errors, "users.csv", 0, "no users.csv");
	roster_report_free(rep);
	/* one CSV file is not a roster */
	snprintf(path, sizeof path, "%s/orgs.csv", dir);
	rep = roster_report_new();
	assert_int_equal(roster_read_path(path, &r, rep), KD_EINVAL);
	must_say(&rep->errors, NULL, 0, "is one CSV file");
	roster_report_free(rep);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* A zip in memory: entries name/text pairs; text NULL: a folder.  *len. */
static void *make_zip(size_t *len, int n, const char *const *names, const char *const *texts)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
	assert_non_null(src);
	zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	assert_non_null(za);
	zip_source_keep(src);
	for (int i = 0; i < n; i++) {
		if (!texts[i]) {
			assert_true(zip_dir_add(za, names[i], 0) >= 0);
			continue;
		}
		zip_source_t *f = zip_source_buffer(za, texts[i], strlen(texts[i]), 0);
		assert_true(zip_file_add(za, names[i], f, 0) >= 0);
	}
	assert_int_equal(zip_close(za), 0);
	zip_stat_t st;
	assert_int_equal(zip_source_stat(src, &st), 0);
	*len = (size_t)st.size;
	void *data = malloc(*len);
	assert_int_equal(zip_source_open(src), 0);
	assert_int_equal(zip_source_read(src, data, *len), (zip_int64_t)*len);
	zip_source_close(src);
	zip_source_free(src);
	return data;
}

static int read_zip(void *data, size_t len, struct roster_report **rep, struct roster **r)
{
	*rep = roster_report_new();
	return roster_read_zip_mem(data, len, "up.zip", r, *rep);
}

static void test_read_zip(void **state)
{
	(void)state;
	struct roster_report *rep;
	struct roster *r;
	size_t len;
	/* in one folder at the top, with files an import ignores and a Mac's litter */
	const char *names[] = {"export/", "export/manifest.csv", "export/orgs.csv", "export/users.csv",
	                       "export/classes.csv", "__MACOSX/export/._users.csv"};
	const char *texts[] = {NULL, MANIFEST, ORGS, USERS, "sourcedId\n", "junk"};
	void *zip = make_zip(&len, 6, names, texts);
	assert_int_equal(read_zip(zip, len, &rep, &r), 0);
	assert_int_equal(r->n_people, 5);
	roster_free(r);
	roster_report_free(rep);
	/* anything but the whole zip is not a zip */
	assert_int_equal(read_zip(zip, len / 2, &rep, &r), KD_EINVAL);
	must_say(&rep->errors, "up.zip", 0, "is not a zip file that can be read");
	roster_report_free(rep);
	free(zip);
	/* nested deeper: refused, saying where */
	const char *deep[] = {"a/b/manifest.csv", "a/b/orgs.csv", "a/b/users.csv"};
	zip = make_zip(&len, 3, deep, texts + 1);
	assert_int_equal(read_zip(zip, len, &rep, &r), KD_EINVAL);
	must_say(&rep->errors, "up.zip", 0, "nested folders (a/b/manifest.csv)");
	roster_report_free(rep);
	free(zip);
	/* two rosters in one zip */
	const char *two[] = {"x/manifest.csv", "y/manifest.csv", "x/orgs.csv", "x/users.csv"};
	const char *two_texts[] = {MANIFEST, MANIFEST, ORGS, USERS};
	zip = make_zip(&len, 4, two, two_texts);
	assert_int_equal(read_zip(zip, len, &rep, &r), KD_EINVAL);
	must_say(&rep->errors, "up.zip", 0, "two rosters");
	roster_report_free(rep);
	free(zip);
	/* no manifest */
	zip = make_zip(&len, 2, names + 2, texts + 2);
	assert_int_equal(read_zip(zip, len, &rep, &r), KD_EINVAL);
	must_say(&rep->errors, "manifest.csv", 0, "no manifest.csv");
	roster_report_free(rep);
	free(zip);
	/* not a zip at all */
	assert_int_equal(read_zip("hello", 5, &rep, &r), KD_EINVAL);
	roster_report_free(rep);
}

static void test_read_zip_bombs(void **state)
{
	(void)state;
	struct roster_report *rep;
	struct roster *r;
	size_t len;
	/* 65 MiB of one letter: over the bound by its header, never inflated */
	size_t big = (65u << 20);
	char *letters = malloc(big + 1);
	memset(letters, 'a', big);
	letters[big] = '\0';
	const char *names[] = {"manifest.csv", "orgs.csv", "users.csv"};
	const char *texts[] = {MANIFEST, ORGS, letters};
	void *zip = make_zip(&len, 3, names, texts);
	assert_true(len < (1u << 20));
	assert_int_equal(read_zip(zip, len, &rep, &r), KD_ETOOBIG);
	must_say(&rep->errors, "users.csv", 0, "is 65.0 MiB once uncompressed");
	roster_report_free(rep);
	free(zip);
	/* 8 MiB of it: within the size, but compressed a thousand times */
	letters[8u << 20] = '\0';
	zip = make_zip(&len, 3, names, texts);
	assert_int_equal(read_zip(zip, len, &rep, &r), KD_ETOOBIG);
	must_say(&rep->errors, "users.csv", 0, "zip bomb");
	roster_report_free(rep);
	free(zip);
	free(letters);
	/* too many entries: refused from the zip's end record, before libzip reads them */
	enum { MANY = ROSTER_ZIP_ENTRIES_MAX + 1 };
	const char **many = malloc(MANY * sizeof *many), **many_texts = malloc(MANY * sizeof *many);
	char(*buf)[24] = malloc(MANY * sizeof *buf);
	for (int i = 0; i < MANY; i++) {
		snprintf(buf[i], sizeof buf[i], "f%d.csv", i);
		many[i] = buf[i];
		many_texts[i] = "x";
	}
	zip = make_zip(&len, MANY, many, many_texts);
	assert_int_equal(read_zip(zip, len, &rep, &r), KD_ETOOBIG);
	must_say(&rep->errors, "up.zip", 0, "the zip says it holds 1001 files");
	roster_report_free(rep);
	free(zip);
	free(many);
	free(many_texts);
	free(buf);
}

static void test_read_zip_encrypted(void **state)
{
	(void)state;
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	zip_source_keep(src);
	const char *names[] = {"manifest.csv", "orgs.csv", "users.csv"};
	const char *texts[] = {MANIFEST, ORGS, USERS};
	for (int i = 0; i < 3; i++) {
		zip_int64_t k = zip_file_add(za, names[i], zip_source_buffer(za, texts[i], strlen(texts[i]), 0), 0);
		if (i == 2 && zip_file_set_encryption(za, (zip_uint64_t)k, ZIP_EM_AES_256, "secret") < 0) {
			zip_discard(za);
			zip_source_free(src);
			skip(); /* a libzip without encryption */
		}
	}
	assert_int_equal(zip_close(za), 0);
	zip_stat_t st;
	zip_source_stat(src, &st);
	size_t len = (size_t)st.size;
	void *data = malloc(len);
	zip_source_open(src);
	zip_source_read(src, data, len);
	zip_source_close(src);
	zip_source_free(src);
	struct roster_report *rep;
	struct roster *r;
	assert_int_equal(read_zip(data, len, &rep, &r), KD_EINVAL);
	must_say(&rep->errors, "users.csv", 0, "encrypted");
	roster_report_free(rep);
	free(data);
}

/* ------------------------------------------------------------------ importing */

static void test_import_roles_and_schools(void **state)
{
	struct kd_db *db = *state;
	struct roster_report *rep = import(db, ORGS, USERS, false, false, 0);
	assert_true(rep->applied);
	assert_false(rep->dry_run);
	assert_string_equal(rep->district, "Maple District");
	assert_int_equal(rep->schools_added.n, 2);
	assert_int_equal(rep->added.n, 5);
	assert_int_equal(rep->added.v[0].id, num(db, "SELECT id FROM users WHERE sourced_id = 'u-1'"));
	roster_report_free(rep);
	/* schools: a slug from the identifier when it has a letter, else the name */
	assert_string_equal(text(db, "SELECT slug FROM schools WHERE sourced_id = 's-1'"),
	                    "north-high-school");
	assert_string_equal(text(db, "SELECT slug || '/' || district FROM schools WHERE sourced_id = 's-2'"),
	                    "sja/Maple District");
	assert_int_equal(num(db, "SELECT count(*) FROM schools"), 2); /* not the department or state */
	assert_string_equal(text(db, "SELECT role || ' ' || coalesce(s.slug, '-') || ' ' || u.role_by "
	                             "|| ' ' || u.full_name || ' ' || u.email FROM users u LEFT JOIN "
	                             "schools s ON s.id = u.school_id WHERE u.sourced_id = 'u-1'"),
	                    "teacher north-high-school roster Tina Teach tina@maple.example");
	assert_string_equal(text(db, "SELECT role FROM users WHERE sourced_id = 'u-2'"), "teacher");
	assert_string_equal(text(db, "SELECT role FROM users WHERE sourced_id = 'u-3'"), "principal");
	assert_string_equal(text(db, "SELECT role || ' ' || coalesce(school_id, 0) FROM users WHERE "
	                             "sourced_id = 'u-4'"), "admin 0");
	/* a department's teacher is at the department's school, the first listed */
	assert_string_equal(text(db, "SELECT s.slug FROM users u JOIN schools s ON s.id = u.school_id "
	                             "WHERE u.sourced_id = 'u-5'"), "sja");
	assert_string_equal(text(db, "SELECT full_name FROM users WHERE sourced_id = 'u-5'"),
	                    "Dora O'Dep, Jr.");
	/* children and parents: never an account, nor a trace of their names */
	assert_int_equal(num(db, "SELECT count(*) FROM users"), 5);
	assert_int_equal(num(db, "SELECT count(*) FROM users WHERE full_name LIKE '%%Secret%%' OR "
	                         "full_name LIKE '%%Hidden%%' OR substr(name, 1, 3) = 'kid'"), 0);
}

static void test_second_import_changes_nothing(void **state)
{
	struct kd_db *db = *state;
	roster_report_free(import(db, ORGS, USERS, false, false, 0));
	char *before = snapshot(db);
	struct roster_report *rep = import(db, ORGS, USERS, false, true, 0);
	assert_false(roster_report_changes(rep));
	assert_int_equal(rep->unchanged, 5);
	assert_int_equal(rep->schools_unchanged, 2);
	char *after = snapshot(db);
	assert_string_equal(before, after);
	/* the text says so */
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	roster_report_print(f, rep);
	fclose(f);
	assert_non_null(strstr(out, "nothing to change"));
	assert_null(strstr(out, "Secret"));
	free(out);
	roster_report_free(rep);
	free(before);
	free(after);
}

static void test_changes_reported(void **state)
{
	struct kd_db *db = *state;
	roster_report_free(import(db, ORGS, USERS, false, false, 0));
	char *orgs = replaced(ORGS, "North High School", "North High Academy");
	char *users = replaced(USERS, "Tina,Teach,,,tina@maple.example", "Tina,Teacher-Ruiz,,,tina.r@maple.example");
	char *moved = replaced(users, "u-2,,,true,s-2", "u-2,,,true,s-1");
	struct roster_report *rep = import(db, orgs, moved, false, false, 0);
	assert_int_equal(rep->schools_changed.n, 1);
	assert_string_equal(rep->schools_changed.v[0].fields[0].name, "name");
	assert_string_equal(rep->schools_changed.v[0].fields[0].to, "North High Academy");
	assert_int_equal(rep->changed.n, 2);
	/* the slug, made once, stays; the name follows */
	assert_string_equal(text(db, "SELECT slug || ' ' || name FROM schools WHERE sourced_id = 's-1'"),
	                    "north-high-school North High Academy");
	/* the account's name stays; full name, address and school follow */
	assert_string_equal(text(db, "SELECT name || ' ' || full_name || ' ' || email FROM users "
	                             "WHERE sourced_id = 'u-1'"),
	                    "tina Tina Teacher-Ruiz tina.r@maple.example");
	const struct roster_entry *e = &rep->changed.v[0];
	assert_string_equal(e->name, "tina");
	assert_int_equal(e->n_fields, 2);
	assert_string_equal(e->fields[1].name, "email");
	assert_string_equal(e->fields[1].from, "tina@maple.example");
	assert_string_equal(rep->changed.v[1].fields[0].name, "school");
	assert_string_equal(rep->changed.v[1].fields[0].from, "sja");
	assert_string_equal(rep->changed.v[1].fields[0].to, "north-high-school");
	json_t *j = roster_report_json(rep);
	json_t *fields = json_object_get(json_array_get(json_object_get(j, "changed"), 0), "fields");
	assert_string_equal(json_string_value(json_object_get(json_object_get(fields, "email"), "to")),
	                    "tina.r@maple.example");
	json_decref(j);
	roster_report_free(rep);
	free(orgs);
	free(users);
	free(moved);
}

static void test_coach_survives(void **state)
{
	struct kd_db *db = *state;
	roster_report_free(import(db, ORGS, USERS, false, false, 0));
	/* an admin made the teacher a coach in kindling */
	test_exec(db, "UPDATE users SET role = 'coach', role_by = 'kindling' WHERE sourced_id = 'u-1'");
	/* the district made the aide a principal: a role the roster set follows it */
	char *users = replaced(USERS, "u-2,,,true,s-2,aide", "u-2,,,true,s-2,administrator");
	struct roster_report *rep = import(db, ORGS, users, false, false, 0);
	assert_string_equal(text(db, "SELECT role FROM users WHERE sourced_id = 'u-1'"), "coach");
	assert_string_equal(text(db, "SELECT role FROM users WHERE sourced_id = 'u-2'"), "principal");
	assert_int_equal(rep->kept.n, 1);
	assert_string_equal(rep->kept.v[0].name, "tina");
	assert_string_equal(rep->kept.v[0].reason, "kept role coach (given in kindling); the roster "
	                                           "says teacher");
	assert_int_equal(rep->changed.n, 1);
	assert_string_equal(rep->changed.v[0].fields[0].name, "role");
	roster_report_free(rep);
	/* and again: the coach is still kept, nothing else changes */
	rep = import(db, ORGS, users, false, false, 0);
	assert_false(roster_report_changes(rep));
	assert_int_equal(rep->kept.n, 1);
	roster_report_free(rep);
	free(users);
}

static void test_adoption(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX];
	/* made by hand before the roster came: a school with the roster's slug,
	 * one with its name, and an account with a person's address */
	assert_int_equal(cat_school_add(db, "sja", "Old SJA", "", err, sizeof err), 0);
	assert_int_equal(cat_school_add(db, "nhs", "North High School", "", err, sizeof err), 0);
	struct kd_user coach = test_user(db, "Tina T", KD_ROLE_COACH, "nhs");
	test_exec(db, "UPDATE users SET email = 'TINA@Maple.Example', full_name = 'T' WHERE name = 'Tina T'");
	/* and one whose name a roster person's username takes */
	test_user(db, "adam", KD_ROLE_TEACHER, NULL);
	struct roster_report *rep = import(db, ORGS, USERS, false, false, 0);
	assert_int_equal(num(db, "SELECT count(*) FROM schools"), 2);
	assert_string_equal(text(db, "SELECT slug || ' ' || name FROM schools WHERE sourced_id = 's-2'"),
	                    "sja \xC3\x89" "cole Saint-Jean, Annex");
	assert_string_equal(text(db, "SELECT slug FROM schools WHERE sourced_id = 's-1'"), "nhs");
	assert_int_equal(rep->schools_changed.n, 2);
	assert_non_null(strstr(rep->schools_changed.v[0].reason, "adopted"));
	/* the account keeps its id, name and role, and is now the roster's */
	assert_int_equal(num(db, "SELECT id FROM users WHERE sourced_id = 'u-1'"), coach.id);
	assert_string_equal(text(db, "SELECT name || ' ' || role || ' ' || role_by || ' ' || email "
	                             "FROM users WHERE sourced_id = 'u-1'"),
	                    "Tina T coach kindling tina@maple.example");
	assert_int_equal(rep->kept.n, 1);
	/* a name taken by someone else: -2 */
	assert_string_equal(text(db, "SELECT name FROM users WHERE sourced_id = 'u-2'"), "adam-2");
	assert_string_equal(text(db, "SELECT coalesce(sourced_id, '-') FROM users WHERE name = 'adam'"),
	                    "-");
	roster_report_free(rep);
	rep = import(db, ORGS, USERS, false, false, 0);
	assert_false(roster_report_changes(rep));
	roster_report_free(rep);
	/* someone with an account made by hand whom the roster lists disabled:
	 * adopted and disabled, even when their old disabled record comes
	 * before their current one */
	struct kd_user old = test_user(db, "Omar", KD_ROLE_TEACHER, NULL);
	test_exec(db, "UPDATE users SET email = 'omar@maple.example' WHERE name = 'Omar'");
	struct kd_user gone = test_user(db, "Gone", KD_ROLE_TEACHER, NULL);
	test_exec(db, "UPDATE users SET email = 'gone@maple.example' WHERE name = 'Gone'");
	char *more = malloc(strlen(USERS) + 400);
	sprintf(more, "%s%s%s%s", USERS,
	        ROW("u-20", "false", "s-1", "teacher", "omar.old", "Omar", "Old", "omar@maple.example"),
	        ROW("u-21", "true", "s-1", "teacher", "omar", "Omar", "Now", "omar@maple.example"),
	        ROW("u-22", "false", "s-1", "teacher", "gone", "Gone", "Away", "gone@maple.example"));
	rep = import(db, ORGS, more, false, false, 0);
	assert_int_equal(num(db, "SELECT id FROM users WHERE sourced_id = 'u-21'"), old.id);
	assert_int_equal(num(db, "SELECT disabled FROM users WHERE sourced_id = 'u-21'"), 0);
	assert_int_equal(num(db, "SELECT count(*) FROM users WHERE sourced_id = 'u-20'"), 0);
	assert_int_equal(num(db, "SELECT id FROM users WHERE sourced_id = 'u-22'"), gone.id);
	assert_int_equal(num(db, "SELECT disabled FROM users WHERE sourced_id = 'u-22'"), 1);
	assert_int_equal(rep->disabled.n, 1);
	roster_report_free(rep);
	free(more);
}

static void test_disable_missing(void **state)
{
	struct kd_db *db = *state;
	roster_report_free(import(db, ORGS, USERS, false, false, 0));
	int64_t id = num(db, "SELECT id FROM users WHERE sourced_id = 'u-1'");
	char token[USERS_TOKEN_MAX], sid[USERS_TOKEN_MAX], csrf[USERS_CSRF_MAX];
	assert_int_equal(users_token_create(db, id, "t", token), 0);
	assert_int_equal(users_session_create(db, id, 3600, USERS_VIA_PASSWORD, NULL, sid, csrf), 0);
	struct kd_user u;
	assert_int_equal(users_auth_token(db, token, &u, NULL), 0);
	/* a made-by-hand account is never the roster's to disable */
	test_user(db, "hand-made", KD_ROLE_COACH, NULL);
	char *users = without(USERS, "u-1,");
	/* without --disable-missing, absence says nothing */
	struct roster_report *rep = import(db, ORGS, users, false, false, 0);
	assert_false(roster_report_changes(rep));
	roster_report_free(rep);
	rep = import(db, ORGS, users, true, true, 0); /* a dry run writes nothing */
	assert_int_equal(rep->disabled.n, 1);
	assert_int_equal(num(db, "SELECT disabled FROM users WHERE id = %lld", (long long)id), 0);
	roster_report_free(rep);
	rep = import(db, ORGS, users, false, true, 0);
	assert_int_equal(rep->disabled.n, 1);
	assert_string_equal(rep->disabled.v[0].name, "tina");
	assert_string_equal(rep->disabled.v[0].reason, "not in users.csv (--disable-missing)");
	assert_int_equal(num(db, "SELECT disabled FROM users WHERE id = %lld", (long long)id), 1);
	assert_int_equal(num(db, "SELECT count(*) FROM users WHERE id = %lld AND disabled_at IS NOT "
	                         "NULL", (long long)id), 1);
	assert_int_equal(num(db, "SELECT disabled FROM users WHERE name = 'hand-made'"), 0);
	/* signed out at once: no session left, the token refused */
	assert_int_equal(num(db, "SELECT count(*) FROM sessions WHERE user_id = %lld", (long long)id), 0);
	assert_int_equal(users_auth_token(db, token, &u, NULL), KD_EAUTH);
	assert_int_equal(users_auth_session(db, sid, &u, NULL, NULL), KD_EAUTH);
	/* never deleted */
	assert_int_equal(num(db, "SELECT count(*) FROM users"), 6);
	roster_report_free(rep);
	/* back in the roster: enabled again, the same account */
	rep = import(db, ORGS, USERS, false, true, 0);
	assert_int_equal(rep->enabled.n, 1);
	assert_int_equal(rep->enabled.v[0].id, id);
	assert_string_equal(text(db, "SELECT disabled || coalesce(disabled_at, '-') FROM users WHERE "
	                             "id = %lld", (long long)id), "0-");
	/* ... but the token ended with the disabling stays ended: a leaver's
	 * token never comes back */
	assert_int_equal(users_auth_token(db, token, &u, NULL), KD_EAUTH);
	assert_int_equal(num(db, "SELECT count(*) FROM tokens WHERE user_id = %lld", (long long)id), 0);
	roster_report_free(rep);
	free(users);
}

static void test_disabled_in_roster(void **state)
{
	struct kd_db *db = *state;
	roster_report_free(import(db, ORGS, USERS, false, false, 0));
	char *off = replaced(USERS, "u-3,,,true", "u-3,,,false");
	char *gone = replaced(off, "u-4,,,true", "u-4,tobedeleted,,true");
	struct roster_report *rep = import(db, ORGS, gone, false, false, 0);
	assert_int_equal(rep->disabled.n, 2);
	assert_string_equal(rep->disabled.v[0].reason, "enabledUser is false");
	assert_string_equal(rep->disabled.v[1].reason, "status is tobedeleted");
	assert_int_equal(num(db, "SELECT count(*) FROM users WHERE disabled <> 0"), 2);
	roster_report_free(rep);
	rep = import(db, ORGS, USERS, false, false, 0);
	assert_int_equal(rep->enabled.n, 2);
	assert_int_equal(num(db, "SELECT count(*) FROM users WHERE disabled <> 0"), 0);
	roster_report_free(rep);
	/* someone new and disabled gets no account */
	char *more = malloc(strlen(USERS) + 200);
	sprintf(more, "%s%s", USERS, ROW("u-8", "false", "s-1", "teacher", "gone", "G", "One", ""));
	rep = import(db, ORGS, more, false, false, 0);
	assert_false(roster_report_changes(rep));
	assert_int_equal(num(db, "SELECT count(*) FROM users WHERE sourced_id = 'u-8'"), 0);
	roster_report_free(rep);
	free(more);
	free(off);
	free(gone);
}

static void test_unknown_org_refused(void **state)
{
	struct kd_db *db = *state;
	char *users = replaced(USERS, "u-3,,,true,s-1", "u-3,,,true,s-404");
	char *before = snapshot(db);
	struct roster_report *rep = import(db, ORGS, users, false, false, KD_EINVAL);
	must_say(&rep->errors, "users.csv", 4, "orgSourcedIds names the org 's-404', which is not in "
	                                       "orgs.csv");
	assert_string_equal(rep->errors.v[0].sourced_id, "u-3");
	assert_false(rep->applied);
	char *after = snapshot(db);
	assert_string_equal(before, after); /* not even the schools */
	roster_report_free(rep);
	free(before);
	free(after);
	free(users);
}

static void test_dry_run_writes_nothing(void **state)
{
	struct kd_db *db = *state;
	char *before = snapshot(db);
	struct roster_report *rep = import(db, ORGS, USERS, true, false, 0);
	assert_true(rep->dry_run);
	assert_false(rep->applied);
	assert_int_equal(rep->added.n, 5);
	assert_int_equal(rep->added.v[0].id, 0);
	char *after = snapshot(db);
	assert_string_equal(before, after);
	json_t *j = roster_report_json(rep);
	assert_true(json_is_true(json_object_get(j, "dry_run")));
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "added"), 0), "id")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "skipped"), "not staff")), 5);
	json_decref(j);
	roster_report_free(rep);
	free(before);
	free(after);
}

/* The last person's insert fails inside the database: nothing at all of
 * the import may stay. */
static void test_nothing_half_imported(void **state)
{
	struct kd_db *db = *state;
	if (db_backend(db) == DB_POSTGRES) {
		test_exec(db, "CREATE FUNCTION roster_boom() RETURNS trigger LANGUAGE plpgsql AS $$ "
		              "BEGIN IF NEW.sourced_id = 'u-5' THEN RAISE EXCEPTION 'injected failure'; "
		              "END IF; RETURN NEW; END $$");
		test_exec(db, "CREATE TRIGGER roster_boom BEFORE INSERT ON users FOR EACH ROW EXECUTE "
		              "FUNCTION roster_boom()");
	} else {
		test_exec(db, "CREATE TRIGGER roster_boom BEFORE INSERT ON users WHEN NEW.sourced_id = "
		              "'u-5' BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
	}
	char *before = snapshot(db);
	struct roster *r = read_ok(ORGS, USERS);
	struct roster_report *rep = roster_report_new();
	struct roster_opts o = {0};
	assert_int_equal(roster_apply(db, r, &o, rep), KD_EDB);
	must_say(&rep->errors, "users.csv", 6, "the catalogue refused a change");
	must_say(&rep->errors, "users.csv", 6, "nothing was imported");
	assert_false(db_in_transaction(db));
	char *after = snapshot(db);
	assert_string_equal(before, after);
	roster_report_free(rep);
	roster_free(r);
	free(before);
	free(after);
}

static void test_email_conflicts(void **state)
{
	struct kd_db *db = *state;
	roster_report_free(import(db, ORGS, USERS, false, false, 0));
	/* two people swap addresses: no conflict */
	char *a = replaced(USERS, "tina@maple.example", "adam@maple.example");
	char *swapped = replaced(a, "Adam,Aide,,,adam@maple.example", "Adam,Aide,,,tina@maple.example");
	struct roster_report *rep = import(db, ORGS, swapped, false, false, 0);
	assert_int_equal(rep->warnings.n, 0);
	assert_string_equal(text(db, "SELECT email FROM users WHERE sourced_id = 'u-1'"),
	                    "adam@maple.example");
	assert_string_equal(text(db, "SELECT email FROM users WHERE sourced_id = 'u-2'"),
	                    "tina@maple.example");
	roster_report_free(rep);
	/* a newcomer with a taken address: not imported, with a warning; the rest is */
	char *more = malloc(strlen(swapped) + 200);
	sprintf(more, "%s%s%s", swapped,
	        ROW("u-8", "true", "s-1", "teacher", "twin", "Twin", "Two", "ADAM@maple.example"),
	        ROW("u-9", "true", "s-1", "teacher", "nine", "Nine", "Nein", "bad address"));
	rep = import(db, ORGS, more, false, false, 0);
	must_say(&rep->warnings, "users.csv", 13, "Twin Two was not imported: the address "
	                                          "ADAM@maple.example already belongs to the account 'tina'");
	must_say(&rep->warnings, "users.csv", 14, "'bad address' is not an e-mail address");
	assert_int_equal(rep->added.n, 1);
	assert_string_equal(text(db, "SELECT coalesce(email, '-') FROM users WHERE sourced_id = 'u-9'"), "-");
	assert_int_equal(num(db, "SELECT count(*) FROM users WHERE sourced_id = 'u-8'"), 0);
	json_t *j = roster_report_json(rep);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "skipped"),
	                                                    "not imported (see the warnings)")), 1);
	json_decref(j);
	roster_report_free(rep);
	free(a);
	free(swapped);
	free(more);
}

static void test_delta(void **state)
{
	struct kd_db *db = *state;
	roster_report_free(import(db, ORGS, USERS, false, false, 0));
	const char *manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
	                       "file.orgs,delta\nfile.users,delta\n";
	/* a delta lists changes only: a school imported before may be named */
	const char *users = USERS_HEAD ROW("u-7", "true", "s-2", "teacher", "newt", "Newt", "N", "");
	struct roster_report *rep = roster_report_new();
	struct roster *r = NULL;
	assert_int_equal(roster_read_csv(manifest, strlen(manifest), ORGS_HEAD, strlen(ORGS_HEAD),
	                                 users, strlen(users), "delta", &r, rep), 0);
	struct roster_opts o = {.disable_missing = true};
	assert_int_equal(roster_apply(db, r, &o, rep), KD_EINVAL);
	must_say(&rep->errors, "manifest.csv", 0, "--disable-missing needs bulk files");
	o.disable_missing = false;
	assert_int_equal(roster_apply(db, r, &o, rep), 0);
	assert_true(rep->delta);
	assert_int_equal(rep->added.n, 1);
	assert_string_equal(rep->added.v[0].school, "sja");
	assert_int_equal(num(db, "SELECT count(*) FROM users WHERE disabled = 0"), 6);
	roster_report_free(rep);
	roster_free(r);
}


static void test_unique_names_and_slugs(void **state)
{
	struct kd_db *db = *state;
	char orgs[2048] = ORGS, users[4096] = USERS;
	for (int i = 0; i < 3; i++) {
		snprintf(orgs + strlen(orgs), sizeof orgs - strlen(orgs), "z-%d,,,Same Name,school,,d-1\n", i);
		snprintf(users + strlen(users), sizeof users - strlen(users),
		         ROW("t-%d", "true", "z-%d", "teacher", "tina", "T", "%d", ""), i, i, i);
	}
	struct roster_report *rep = import(db, orgs, users, false, false, 0);
	assert_string_equal(text(db, "SELECT slug FROM schools WHERE sourced_id = 'z-2'"), "same-name-3");
	assert_string_equal(text(db, "SELECT name FROM users WHERE sourced_id = 't-0'"), "tina-2");
	assert_string_equal(text(db, "SELECT name FROM users WHERE sourced_id = 't-2'"), "tina-4");
	roster_report_free(rep);
	/* a username cut to fit 100 characters with its number */
	char *long_users = malloc(strlen(USERS) + 400);
	char name[130];
	memset(name, 'n', 120);
	name[120] = '\0';
	sprintf(long_users, "%su-10,,,true,s-1,teacher,%s,,L,N,,,,,,,,\nu-11,,,true,s-1,teacher,%s,,L,N,,,,,,,,\n",
	        USERS, name, name);
	rep = import(db, orgs, long_users, false, false, 0);
	assert_int_equal(num(db, "SELECT length(name) FROM users WHERE sourced_id = 'u-10'"), 100);
	assert_int_equal(num(db, "SELECT length(name) FROM users WHERE sourced_id = 'u-11'"), 100);
	assert_string_equal(text(db, "SELECT substr(name, 97) FROM users WHERE sourced_id = 'u-11'"), "nn-2");
	roster_report_free(rep);
	free(long_users);
}

static void test_read_too_many_orgs(void **state)
{
	(void)state;
	char *users = malloc(strlen(USERS) + 2000), *p;
	p = users + sprintf(users, "%su-99,,,true,\"", USERS);
	for (int i = 0; i <= ROSTER_ORGS_MAX; i++)
		p += sprintf(p, "%ss-1", i ? "," : "");
	sprintf(p, "\",teacher,x,,X,Y,,,,,,,,\n");
	struct roster_report *rep = read_refused(MANIFEST, ORGS, users, KD_EINVAL);
	must_say(&rep->errors, "users.csv", 13, "orgSourcedIds lists 65 orgs: a person belongs to at most 64");
	roster_report_free(rep);
	free(users);
}

int main(void)
{
	users_init();
	kd_log_set_level(KD_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_staff_only),
		cmocka_unit_test(test_read_columns_any_order),
		cmocka_unit_test(test_read_missing_column),
		cmocka_unit_test(test_read_duplicates),
		cmocka_unit_test(test_read_manifest),
		cmocka_unit_test(test_read_bad_rows),
		cmocka_unit_test(test_read_dir),
		cmocka_unit_test(test_read_zip),
		cmocka_unit_test(test_read_zip_bombs),
		cmocka_unit_test(test_read_zip_encrypted),
		cmocka_unit_test(test_read_too_many_orgs),
		cmocka_unit_test_setup_teardown(test_import_roles_and_schools, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_second_import_changes_nothing, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_changes_reported, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_coach_survives, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_adoption, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_disable_missing, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_disabled_in_roster, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_org_refused, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_writes_nothing, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_nothing_half_imported, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_email_conflicts, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_delta, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(test_unique_names_and_slugs, setup, test_db_teardown),
	};
	return cmocka_run_group_tests_name("roster", tests, NULL, NULL);
}
