#define _GNU_SOURCE
/* test_users.c - accounts, tokens, passwords and sessions. */
#include <stdio.h>

#include "helpers.h"
#include "kindling/catalogue.h"
#include "kindling/users.h"

static int setup(void **state)
{
	assert_int_equal(users_init(), 0);
	struct kd_db *db = test_db();
	char err[KD_ERRMSG_MAX];
	assert_int_equal(cat_school_add(db, "north-high", "North High", "", err, sizeof err), 0);
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	struct kd_db *db = *state;
	db_close(&db);
	return 0;
}

static void roles_round_trip(void **state)
{
	(void)state;
	enum kd_role r;
	const char *names[] = {"admin", "coach", "principal", "teacher"};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(users_role_parse(names[i], &r), 0);
		assert_string_equal(users_role_name(r), names[i]);
	}
	assert_int_equal(users_role_parse("Admin", &r), KD_EINVAL);
	assert_int_equal(users_role_parse("", &r), KD_EINVAL);
}

static void token_authenticates_its_user_only(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX] = "", token[USERS_TOKEN_MAX];
	int64_t id;
	assert_int_equal(users_add(db, "Ana", KD_ROLE_COACH, "north-high", NULL, &id, err,
	                           sizeof err), 0);
	assert_int_equal(users_token_create(db, id, "test", token), 0);
	assert_true(strncmp(token, "kd_", 3) == 0);

	struct kd_user u;
	assert_int_equal(users_auth_token(db, token, &u, NULL), 0);
	assert_int_equal(u.id, id);
	assert_int_equal(u.role, KD_ROLE_COACH);
	assert_string_equal(u.name, "Ana");
	assert_string_equal(u.school, "north-high");
	assert_true(u.school_id > 0);

	/* The secret is not stored: nothing in tokens holds it. */
	const char *secret = strrchr(token, '_') + 1;
	struct kd_stmt *st;
	/* (read back and searched here: the same on both back ends) */
	assert_int_equal(db_prepare(db, "SELECT secret_hash FROM tokens", &st), DB_OK);
	int rows = 0;
	while (db_step(st) == DB_ROW) {
		const void *hash = db_column_blob(st, 0);
		size_t n = (size_t)db_column_bytes(st, 0);
		assert_null(memmem(hash, n, secret, strlen(secret)));
		rows++;
	}
	assert_true(rows > 0);
	db_finalize(st);

	char bad[USERS_TOKEN_MAX];
	snprintf(bad, sizeof bad, "%s", token);
	bad[strlen(bad) - 1] ^= 1; /* one character off */
	assert_int_equal(users_auth_token(db, bad, &u, NULL), KD_EAUTH);
	assert_int_equal(users_auth_token(db, "", &u, NULL), KD_EAUTH);
	assert_int_equal(users_auth_token(db, "kd_", &u, NULL), KD_EAUTH);
	assert_int_equal(users_auth_token(db, "kd_1_", &u, NULL), KD_EAUTH);
	assert_int_equal(users_auth_token(db, "kd_999_abc", &u, NULL), KD_EAUTH);
	assert_int_equal(users_auth_token(db, "kd_99999999999999999999_abc", &u, NULL), KD_EAUTH);
	assert_int_equal(users_auth_token(db, "Bearer whatever", &u, NULL), KD_EAUTH);

	test_exec(db, "UPDATE users SET disabled = 1");
	assert_int_equal(users_auth_token(db, token, &u, NULL), KD_EAUTH);
}

static void add_reports_what_is_wrong(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	assert_int_equal(users_add(db, "Ben", KD_ROLE_TEACHER, "nowhere", NULL, &id, err,
	                           sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "nowhere"));
	assert_int_equal(users_add(db, "Ben", KD_ROLE_TEACHER, NULL, NULL, &id, err, sizeof err), 0);
	assert_int_equal(users_add(db, "ben", KD_ROLE_TEACHER, NULL, NULL, &id, err, sizeof err),
	                 KD_EEXIST);
	assert_non_null(strstr(err, "already exists"));
	assert_int_equal(users_add(db, "", KD_ROLE_TEACHER, NULL, NULL, &id, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(users_add(db, "Cy", KD_ROLE_TEACHER, NULL, "short", &id, err, sizeof err),
	                 KD_EINVAL);
	assert_non_null(strstr(err, "at least 8"));
}

static void password_is_hashed_and_checked(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	assert_int_equal(users_add(db, "Dee", KD_ROLE_PRINCIPAL, "north-high",
	                           "correct horse battery", &id, err, sizeof err), 0);
	struct kd_stmt *st;
	assert_int_equal(db_prepare(db, "SELECT password_hash FROM users WHERE id = ?1", &st),
	                 DB_OK);
	db_bind_int64(st, 1, id);
	assert_int_equal(db_step(st), DB_ROW);
	const char *hash = (const char *)db_column_text(st, 0);
	assert_true(strncmp(hash, "$argon2id$", 10) == 0);
	assert_null(strstr(hash, "horse"));
	db_finalize(st);

	struct kd_user u;
	assert_int_equal(users_auth_password(db, "Dee", "correct horse battery", &u), 0);
	assert_int_equal(u.id, id);
	assert_int_equal(u.role, KD_ROLE_PRINCIPAL);
	assert_int_equal(users_auth_password(db, "Dee", "wrong horse battery", &u), KD_EAUTH);
	assert_int_equal(users_auth_password(db, "Nobody", "correct horse battery", &u), KD_EAUTH);
}

static void sessions_expire_and_end(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX] = "", sid[USERS_TOKEN_MAX], csrf[USERS_CSRF_MAX], got[USERS_CSRF_MAX];
	int64_t id;
	assert_int_equal(users_add(db, "Eve", KD_ROLE_TEACHER, NULL, NULL, &id, err, sizeof err), 0);
	assert_int_equal(users_session_create(db, id, 3600, USERS_VIA_PASSWORD, "test", sid, csrf), 0);
	struct kd_user u;
	assert_int_equal(users_auth_session(db, sid, &u, got, NULL), 0);
	assert_string_equal(got, csrf);
	assert_int_equal(u.id, id);
	/* A session id is no API token, and the other way round. */
	assert_int_equal(users_auth_token(db, sid, &u, NULL), KD_EAUTH);
	assert_int_equal(users_session_delete(db, sid), 0);
	assert_int_equal(users_auth_session(db, sid, &u, NULL, NULL), KD_EAUTH);

	assert_int_equal(users_session_create(db, id, 3600, USERS_VIA_PASSWORD, "test", sid, csrf), 0);
	test_exec(db, "UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z'");
	assert_int_equal(users_auth_session(db, sid, &u, NULL, NULL), KD_EAUTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roles_round_trip),
		cmocka_unit_test_setup_teardown(token_authenticates_its_user_only, setup, teardown),
		cmocka_unit_test_setup_teardown(add_reports_what_is_wrong, setup, teardown),
		cmocka_unit_test_setup_teardown(password_is_hashed_and_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(sessions_expire_and_end, setup, teardown),
	};
	return cmocka_run_group_tests_name("users", tests, NULL, NULL);
}
