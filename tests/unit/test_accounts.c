/* test_accounts.c - administering people, their tokens and sessions
 * (accounts.h), and the credentials' last use and expiry (users.h). */
#include <stdio.h>
#include <time.h>

#include "helpers.h"
#include "kindling/accounts.h"
#include "kindling/catalogue.h"
#include "kindling/users.h"

static int setup(void **state)
{
	assert_int_equal(users_init(), 0);
	struct kd_db *db = test_db();
	char err[KD_ERRMSG_MAX];
	assert_int_equal(cat_school_add(db, "north-high", "North High", "", err, sizeof err), 0);
	assert_int_equal(cat_school_add(db, "river", "River School", "", err, sizeof err), 0);
	*state = db;
	return 0;
}

static int64_t add(struct kd_db *db, const char *name, enum kd_role role, const char *school,
                   const char *email, const char *full_name)
{
	char err[KD_ERRMSG_MAX] = "";
	int64_t id = 0;
	struct users_new n = {.name = name, .role = role, .school = school, .email = email,
	                      .full_name = full_name};
	if (users_create(db, &n, &id, err, sizeof err) != 0)
		fail_msg("users_create %s: %s", name, err);
	return id;
}

/* One text value of a query on the catalogue ("" for NULL). */
static void one_text(struct kd_db *db, const char *sql, int64_t id, char *out, size_t len)
{
	struct kd_stmt *st;
	assert_int_equal(db_prepare(db, sql, &st), DB_OK);
	db_bind_int64(st, 1, id);
	assert_int_equal(db_step(st), DB_ROW);
	const unsigned char *t = db_column_text(st, 0);
	snprintf(out, len, "%s", t ? (const char *)t : "");
	db_finalize(st);
}

static void create_keeps_email_and_full_name(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX] = "";
	int64_t id = add(db, "Ana", KD_ROLE_COACH, "north-high", "Ana.Ruiz@District.org",
	                 "Ana María Ruiz");
	struct acct_person p;
	assert_int_equal(acct_person_get(db, id, &p), 0);
	assert_string_equal(p.name, "Ana");
	assert_string_equal(p.email, "Ana.Ruiz@District.org");
	assert_string_equal(p.full_name, "Ana María Ruiz");
	assert_int_equal(p.role, KD_ROLE_COACH);
	assert_string_equal(p.school, "north-high");
	assert_string_equal(p.school_name, "North High");
	assert_false(p.disabled);
	assert_false(p.has_password);
	assert_false(p.role_by_roster);
	assert_int_equal(strlen(p.created_at), 20);
	assert_string_equal(p.last_seen, "");

	/* the same address in another case is the same address */
	struct users_new n = {.name = "Other", .role = KD_ROLE_TEACHER,
	                      .email = "ana.ruiz@district.ORG"};
	assert_int_equal(users_create(db, &n, &id, err, sizeof err), KD_EEXIST);
	assert_non_null(strstr(err, "Ana"));
	const char *bad[] = {"no-at-sign", "@district.org", "ana@", "a b@c.org", "a@b@c.org",
	                     "<a>@c.org", "ana@.org"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		n.email = bad[i];
		assert_int_equal(users_create(db, &n, &id, err, sizeof err), KD_EINVAL);
		assert_non_null(strstr(err, "not an e-mail address"));
	}
	n.email = NULL;
	n.full_name = "line\nbreak";
	assert_int_equal(users_create(db, &n, &id, err, sizeof err), KD_EINVAL);
	/* users_add still makes an account without an address */
	assert_int_equal(users_add(db, "Plain", KD_ROLE_TEACHER, NULL, NULL, &id, err, sizeof err),
	                 0);
	assert_int_equal(acct_person_get(db, id, &p), 0);
	assert_string_equal(p.email, "");
	struct kd_user u;
	bool disabled;
	assert_int_equal(users_find_email(db, "ANA.RUIZ@district.org", &u, &disabled), 0);
	assert_string_equal(u.name, "Ana");
}

static void list_searches_filters_and_pages(void **state)
{
	struct kd_db *db = *state;
	add(db, "Ana Ruiz", KD_ROLE_COACH, "north-high", "ana@d.org", "");
	add(db, "Ben Okafor", KD_ROLE_TEACHER, "river", "ben@d.org", "Benjamin Okafor");
	add(db, "Cy", KD_ROLE_TEACHER, "north-high", "cy@other.org", "Cyrus Quill");
	int64_t dee = add(db, "Dee", KD_ROLE_PRINCIPAL, "river", NULL, "");
	add(db, "Eve 100%_sure", KD_ROLE_ADMIN, NULL, NULL, "");
	assert_int_equal(acct_person_disable(db, dee, NULL), 0);

	struct acct_person *ps;
	size_t n;
	int64_t total;
	struct acct_query q = {.role = -1, .status = ACCT_ENABLED, .page = 1, .per_page = 50};
	assert_int_equal(acct_people_list(db, &q, &ps, &n, &total), 0);
	assert_int_equal(n, 4);
	assert_int_equal(total, 4);
	assert_string_equal(ps[0].name, "Ana Ruiz");
	assert_string_equal(ps[3].name, "Eve 100%_sure");
	acct_free(ps);

	struct {
		const char *search, *school;
		int role;
		enum acct_status status;
		int64_t want;
		const char *first;
	} cases[] = {
		{"RUIZ", NULL, -1, ACCT_ENABLED, 1, "Ana Ruiz"},       /* name, any case */
		{"ben@", NULL, -1, ACCT_ENABLED, 1, "Ben Okafor"},     /* e-mail */
		{"quill", NULL, -1, ACCT_ENABLED, 1, "Cy"},            /* full name */
		{"d.org", NULL, -1, ACCT_ENABLED, 2, "Ana Ruiz"},
		{"%", NULL, -1, ACCT_ENABLED, 1, "Eve 100%_sure"},     /* no wildcard */
		{"_", NULL, -1, ACCT_ENABLED, 1, "Eve 100%_sure"},
		{NULL, "north-high", -1, ACCT_ENABLED, 2, "Ana Ruiz"},
		{NULL, NULL, KD_ROLE_TEACHER, ACCT_ENABLED, 2, "Ben Okafor"},
		{NULL, "river", KD_ROLE_TEACHER, ACCT_ENABLED, 1, "Ben Okafor"},
		{NULL, NULL, -1, ACCT_DISABLED, 1, "Dee"},
		{NULL, NULL, -1, ACCT_ANY, 5, "Ana Ruiz"},
		{"nobody", NULL, -1, ACCT_ANY, 0, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		q.search = cases[i].search;
		q.school = cases[i].school;
		q.role = cases[i].role;
		q.status = cases[i].status;
		assert_int_equal(acct_people_list(db, &q, &ps, &n, &total), 0);
		if (total != cases[i].want)
			fail_msg("case %zu: %lld people, wanted %lld", i, (long long)total,
			         (long long)cases[i].want);
		assert_int_equal((int64_t)n, total);
		if (cases[i].first)
			assert_string_equal(ps[0].name, cases[i].first);
		acct_free(ps);
	}
	q = (struct acct_query){.role = -1, .status = ACCT_ANY, .page = 2, .per_page = 2};
	assert_int_equal(acct_people_list(db, &q, &ps, &n, &total), 0);
	assert_int_equal(total, 5);
	assert_int_equal(n, 2);
	assert_string_equal(ps[0].name, "Cy");
	assert_string_equal(ps[1].name, "Dee");
	assert_true(ps[1].disabled);
	assert_int_equal(strlen(ps[1].disabled_at), 20);
	acct_free(ps);
	q.page = 0;
	assert_int_equal(acct_people_list(db, &q, &ps, &n, &total), KD_EINVAL);
}

static void find_by_name_email_or_id(void **state)
{
	struct kd_db *db = *state;
	int64_t ana = add(db, "Ana", KD_ROLE_COACH, NULL, "ana@d.org", "");
	int64_t num = add(db, "12345", KD_ROLE_TEACHER, NULL, NULL, "");
	struct acct_person p;
	assert_int_equal(acct_person_find(db, "ana", &p), 0);
	assert_int_equal(p.id, ana);
	assert_int_equal(acct_person_find(db, "ANA@D.ORG", &p), 0);
	assert_int_equal(p.id, ana);
	char id[24];
	snprintf(id, sizeof id, "%lld", (long long)ana);
	assert_int_equal(acct_person_find(db, id, &p), 0);
	assert_int_equal(p.id, ana);
	/* a name that is a number is a name first */
	assert_int_equal(acct_person_find(db, "12345", &p), 0);
	assert_int_equal(p.id, num);
	assert_int_equal(acct_person_find(db, "nobody", &p), KD_ENOTFOUND);
	assert_int_equal(acct_person_find(db, "99999", &p), KD_ENOTFOUND);
	assert_int_equal(acct_person_find(db, "", &p), KD_ENOTFOUND);
	assert_int_equal(acct_person_get(db, 99999, &p), KD_ENOTFOUND);
}

static void update_changes_fields_and_who_set_the_role(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX] = "", by[16];
	int64_t ana = add(db, "Ana", KD_ROLE_TEACHER, "north-high", "ana@d.org", "");
	add(db, "Ben", KD_ROLE_TEACHER, NULL, "ben@d.org", "");
	/* as a roster import leaves it */
	test_exec(db, "UPDATE users SET role_by = 'roster', sourced_id = 'S1' WHERE name = 'Ana'");

	struct acct_changes c = {.full_name = "Ana María Ruiz", .email = "ANA.RUIZ@d.org",
	                         .set_role = true, .role = KD_ROLE_TEACHER, .set_school = true,
	                         .school = "north-high"};
	assert_int_equal(acct_person_update(db, ana, &c, err, sizeof err), 0);
	struct acct_person p;
	assert_int_equal(acct_person_get(db, ana, &p), 0);
	assert_string_equal(p.full_name, "Ana María Ruiz");
	assert_string_equal(p.email, "ANA.RUIZ@d.org");
	assert_true(p.from_roster);
	/* the same role and school again: still the roster's */
	assert_true(p.role_by_roster);

	c = (struct acct_changes){.set_role = true, .role = KD_ROLE_COACH};
	assert_int_equal(acct_person_update(db, ana, &c, err, sizeof err), 0);
	one_text(db, "SELECT role_by FROM users WHERE id = ?1", ana, by, sizeof by);
	assert_string_equal(by, "kindling");
	assert_int_equal(acct_person_get(db, ana, &p), 0);
	assert_int_equal(p.role, KD_ROLE_COACH);
	assert_string_equal(p.school, "north-high");

	test_exec(db, "UPDATE users SET role_by = 'roster' WHERE name = 'Ana'");
	c = (struct acct_changes){.set_school = true, .school = "river"};
	assert_int_equal(acct_person_update(db, ana, &c, err, sizeof err), 0);
	assert_int_equal(acct_person_get(db, ana, &p), 0);
	assert_string_equal(p.school, "river");
	assert_false(p.role_by_roster);
	c = (struct acct_changes){.set_school = true, .school = ""};
	assert_int_equal(acct_person_update(db, ana, &c, err, sizeof err), 0);
	assert_int_equal(acct_person_get(db, ana, &p), 0);
	assert_int_equal(p.school_id, 0);
	assert_string_equal(p.school, "");

	c = (struct acct_changes){.name = "BEN"};
	assert_int_equal(acct_person_update(db, ana, &c, err, sizeof err), KD_EEXIST);
	assert_non_null(strstr(err, "named"));
	c = (struct acct_changes){.email = "Ben@D.org"};
	assert_int_equal(acct_person_update(db, ana, &c, err, sizeof err), KD_EEXIST);
	assert_non_null(strstr(err, "Ben"));
	c = (struct acct_changes){.email = "not an address"};
	assert_int_equal(acct_person_update(db, ana, &c, err, sizeof err), KD_EINVAL);
	c = (struct acct_changes){.set_school = true, .school = "atlantis"};
	assert_int_equal(acct_person_update(db, ana, &c, err, sizeof err), KD_ENOTFOUND);
	assert_non_null(strstr(err, "atlantis"));
	c = (struct acct_changes){.name = ""};
	assert_int_equal(acct_person_update(db, ana, &c, err, sizeof err), KD_EINVAL);
	c = (struct acct_changes){.name = "Ana"};
	assert_int_equal(acct_person_update(db, 99999, &c, err, sizeof err), KD_ENOTFOUND);
	/* nothing of the refused changes stuck; renaming to itself in another case is fine */
	assert_int_equal(acct_person_get(db, ana, &p), 0);
	assert_string_equal(p.name, "Ana");
	assert_string_equal(p.email, "ANA.RUIZ@d.org");
	c = (struct acct_changes){.name = "ANA", .email = ""};
	assert_int_equal(acct_person_update(db, ana, &c, err, sizeof err), 0);
	assert_int_equal(acct_person_get(db, ana, &p), 0);
	assert_string_equal(p.name, "ANA");
	assert_string_equal(p.email, "");
	struct kd_user u;
	bool disabled;
	assert_int_equal(users_find_email(db, "ana.ruiz@d.org", &u, &disabled), KD_ENOTFOUND);
}

static void disable_ends_sessions_and_refuses_tokens(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX] = "", token[USERS_TOKEN_MAX], sid[USERS_TOKEN_MAX],
	     csrf[USERS_CSRF_MAX];
	int64_t ana = add(db, "Ana", KD_ROLE_TEACHER, NULL, NULL, "");
	int64_t ben = add(db, "Ben", KD_ROLE_TEACHER, NULL, NULL, "");
	char ben_sid[USERS_TOKEN_MAX];
	assert_int_equal(users_token_issue(db, ana, "laptop", NULL, NULL, token, err, sizeof err), 0);
	assert_int_equal(users_session_create(db, ana, 3600, USERS_VIA_PASSWORD, "b", sid, csrf), 0);
	assert_int_equal(users_session_create(db, ben, 3600, USERS_VIA_OIDC, "b", ben_sid, csrf), 0);
	struct kd_user u;
	assert_int_equal(users_auth_token(db, token, &u, NULL), 0);

	bool changed = false;
	assert_int_equal(acct_person_disable(db, ana, &changed), 0);
	assert_true(changed);
	assert_int_equal(users_auth_token(db, token, &u, NULL), KD_EAUTH);
	assert_int_equal(users_auth_session(db, sid, &u, NULL, NULL), KD_EAUTH);
	struct acct_session *ss;
	size_t n;
	assert_int_equal(acct_sessions_list(db, ana, &ss, &n), 0);
	assert_int_equal(n, 0);
	acct_free(ss);
	/* the session rows are gone, not just refused: enabling brings none back */
	assert_int_equal(users_auth_session(db, ben_sid, &u, NULL, NULL), 0);
	struct acct_person p;
	assert_int_equal(acct_person_get(db, ana, &p), 0);
	assert_true(p.disabled);
	assert_int_equal(strlen(p.disabled_at), 20);
	assert_int_equal(acct_person_disable(db, ana, &changed), 0);
	assert_false(changed);

	assert_int_equal(acct_person_enable(db, ana, &changed), 0);
	assert_true(changed);
	/* enabled again, with neither the old token nor the old session back */
	assert_int_equal(users_auth_token(db, token, &u, NULL), KD_EAUTH);
	assert_int_equal(users_auth_session(db, sid, &u, NULL, NULL), KD_EAUTH);
	assert_int_equal(acct_person_get(db, ana, &p), 0);
	assert_false(p.disabled);
	assert_string_equal(p.disabled_at, "");
	assert_int_equal(acct_person_enable(db, ana, &changed), 0);
	assert_false(changed);
	assert_int_equal(acct_person_disable(db, 99999, &changed), KD_ENOTFOUND);
	assert_int_equal(acct_person_enable(db, 99999, &changed), KD_ENOTFOUND);
}

static void password_set_and_removed(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX] = "";
	int64_t ana = add(db, "Ana", KD_ROLE_TEACHER, NULL, NULL, "");
	struct kd_user u;
	assert_int_equal(users_set_password(db, ana, "short", err, sizeof err), KD_EINVAL);
	assert_non_null(strstr(err, "at least 8"));
	assert_int_equal(users_set_password(db, ana, "a good long password", err, sizeof err), 0);
	assert_int_equal(users_auth_password(db, "Ana", "a good long password", &u), 0);
	struct acct_person p;
	assert_int_equal(acct_person_get(db, ana, &p), 0);
	assert_true(p.has_password);
	assert_int_equal(users_set_password(db, ana, NULL, err, sizeof err), 0);
	assert_int_equal(users_auth_password(db, "Ana", "a good long password", &u), KD_EAUTH);
	assert_int_equal(users_set_password(db, 99999, "a good long password", err, sizeof err),
	                 KD_ENOTFOUND);
}

static void tokens_have_names_expiry_and_owners(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX] = "", t1[USERS_TOKEN_MAX], t2[USERS_TOKEN_MAX], t3[USERS_TOKEN_MAX],
	     when[USERS_TIME_MAX];
	int64_t ana = add(db, "Ana", KD_ROLE_TEACHER, NULL, NULL, "");
	int64_t ben = add(db, "Ben", KD_ROLE_TEACHER, NULL, NULL, "");
	int64_t id1, id2, id3;
	assert_int_equal(users_expiry("30", (int64_t)time(NULL), when, err, sizeof err), 0);
	assert_int_equal(users_token_issue(db, ana, "upload laptop", when, &id1, t1, err,
	                                   sizeof err), 0);
	assert_int_equal(users_token_issue(db, ana, NULL, NULL, &id2, t2, err, sizeof err), 0);
	assert_int_equal(users_token_issue(db, ben, "ben's", NULL, &id3, t3, err, sizeof err), 0);
	assert_int_equal(users_credential_id(t1), id1);
	assert_int_equal(users_token_issue(db, ana, "x", "tomorrow", NULL, t2, err, sizeof err),
	                 KD_EINVAL);
	assert_int_equal(users_token_issue(db, ana, "tab\there", NULL, NULL, t2, err, sizeof err),
	                 KD_EINVAL);

	struct acct_token *ts;
	size_t n;
	assert_int_equal(acct_tokens_list(db, ana, &ts, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ts[0].id, id2); /* newest first */
	assert_string_equal(ts[0].name, "");
	assert_string_equal(ts[0].expires_at, "");
	assert_int_equal(ts[1].id, id1);
	assert_string_equal(ts[1].name, "upload laptop");
	assert_string_equal(ts[1].expires_at, when);
	assert_string_equal(ts[1].last_used_at, "");
	assert_string_equal(ts[1].user_name, "Ana");
	assert_false(ts[1].expired);
	acct_free(ts);
	assert_int_equal(acct_tokens_list(db, 0, &ts, &n), 0);
	assert_int_equal(n, 3);
	acct_free(ts);

	/* an expired token is refused, and listed as expired */
	test_exec(db, "UPDATE tokens SET expires_at = '2001-01-01T00:00:00Z' WHERE label = 'ben''s'");
	struct kd_user u;
	assert_int_equal(users_auth_token(db, t3, &u, NULL), KD_EAUTH);
	assert_int_equal(acct_tokens_list(db, ben, &ts, &n), 0);
	assert_true(ts[0].expired);
	acct_free(ts);

	/* only the owner (or an admin, owner 0) revokes */
	assert_int_equal(acct_token_revoke(db, id1, ben), KD_ENOTFOUND);
	assert_int_equal(users_auth_token(db, t1, &u, NULL), 0);
	assert_int_equal(acct_token_revoke(db, id1, ana), 0);
	assert_int_equal(users_auth_token(db, t1, &u, NULL), KD_EAUTH);
	assert_int_equal(acct_token_revoke(db, id1, ana), KD_ENOTFOUND);
	assert_int_equal(acct_token_revoke(db, id3, 0), 0);
	assert_int_equal(acct_tokens_list(db, 0, &ts, &n), 0);
	assert_int_equal(n, 1);
	acct_free(ts);
}

static void last_use_is_recorded_now_and_then(void **state)
{
	struct kd_db *db = *state;
	char err[KD_ERRMSG_MAX] = "", token[USERS_TOKEN_MAX], sid[USERS_TOKEN_MAX],
	     csrf[USERS_CSRF_MAX], got[32];
	int64_t ana = add(db, "Ana", KD_ROLE_TEACHER, NULL, NULL, "");
	int64_t tid;
	assert_int_equal(users_token_issue(db, ana, "t", NULL, &tid, token, err, sizeof err), 0);
	assert_int_equal(users_session_create(db, ana, 3600, USERS_VIA_PASSWORD, "b", sid, csrf), 0);
	int64_t sess = users_credential_id(sid);
	struct kd_user u;
	assert_int_equal(users_auth_token(db, token, &u, NULL), 0);
	one_text(db, "SELECT coalesce(last_used_at, '') FROM tokens WHERE id = ?1", tid, got,
	         sizeof got);
	assert_int_equal(strlen(got), 20);
	assert_int_equal(users_auth_session(db, sid, &u, NULL, NULL), 0);
	one_text(db, "SELECT coalesce(last_used_at, '') FROM sessions WHERE id = ?1", sess, got,
	         sizeof got);
	assert_int_equal(strlen(got), 20);

	/* a use recorded a minute ago is not written again (every write moves
	 * the catalogue's epoch and empties the servers' caches) */
	time_t minute_ago = time(NULL) - 60, long_ago = time(NULL) - 600;
	char recent[32], old[32], sql[160];
	strftime(recent, sizeof recent, "%Y-%m-%dT%H:%M:%SZ", gmtime(&minute_ago));
	strftime(old, sizeof old, "%Y-%m-%dT%H:%M:%SZ", gmtime(&long_ago));
	snprintf(sql, sizeof sql, "UPDATE tokens SET last_used_at = '%s'", recent);
	test_exec(db, sql);
	int64_t epoch = db_epoch(db);
	assert_int_equal(users_auth_token(db, token, &u, NULL), 0);
	one_text(db, "SELECT last_used_at FROM tokens WHERE id = ?1", tid, got, sizeof got);
	assert_string_equal(got, recent);
	assert_int_equal(db_epoch(db), epoch);
	/* one ten minutes ago is */
	snprintf(sql, sizeof sql, "UPDATE tokens SET last_used_at = '%s'", old);
	test_exec(db, sql);
	epoch = db_epoch(db);
	assert_int_equal(users_auth_token(db, token, &u, NULL), 0);
	one_text(db, "SELECT last_used_at FROM tokens WHERE id = ?1", tid, got, sizeof got);
	assert_true(strcmp(got, old) > 0);
	if (!test_pg_url()) /* (on PostgreSQL the epoch moves when the notification arrives) */
		assert_true(db_epoch(db) != epoch);
	struct acct_person p;
	assert_int_equal(acct_person_get(db, ana, &p), 0);
	assert_int_equal(strlen(p.last_seen), 20);
	/* a failed check records nothing */
	test_exec(db, "UPDATE tokens SET last_used_at = NULL");
	char bad[USERS_TOKEN_MAX];
	snprintf(bad, sizeof bad, "%s", token);
	bad[strlen(bad) - 1] ^= 1;
	assert_int_equal(users_auth_token(db, bad, &u, NULL), KD_EAUTH);
	one_text(db, "SELECT coalesce(last_used_at, '') FROM tokens WHERE id = ?1", tid, got,
	         sizeof got);
	assert_string_equal(got, "");
}

static void sessions_listed_and_ended(void **state)
{
	struct kd_db *db = *state;
	char sid[3][USERS_TOKEN_MAX], csrf[USERS_CSRF_MAX], other[USERS_TOKEN_MAX];
	int64_t ana = add(db, "Ana", KD_ROLE_TEACHER, NULL, NULL, "");
	int64_t ben = add(db, "Ben", KD_ROLE_TEACHER, NULL, NULL, "");
	assert_int_equal(users_session_create(db, ana, 3600, USERS_VIA_PASSWORD,
	                                      "Mozilla/5.0 (X11) Firefox/120.0", sid[0], csrf), 0);
	assert_int_equal(users_session_create(db, ana, 3600, USERS_VIA_OIDC, NULL, sid[1], csrf), 0);
	assert_int_equal(users_session_create(db, ana, 3600, USERS_VIA_PASSWORD, "x", sid[2], csrf),
	                 0);
	assert_int_equal(users_session_create(db, ben, 3600, USERS_VIA_PASSWORD, "x", other, csrf),
	                 0);
	struct acct_session *ss;
	size_t n;
	assert_int_equal(acct_sessions_list(db, ana, &ss, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ss[2].id, users_credential_id(sid[0]));
	assert_string_equal(ss[2].client, "Mozilla/5.0 (X11) Firefox/120.0");
	assert_string_equal(ss[2].via, "password");
	assert_string_equal(ss[1].via, "oidc");
	assert_int_equal(strlen(ss[0].expires_at), 20);
	acct_free(ss);

	int64_t s0 = users_credential_id(sid[0]), s1 = users_credential_id(sid[1]);
	assert_int_equal(acct_session_end(db, s0, ben), KD_ENOTFOUND);
	assert_int_equal(acct_session_end(db, s0, ana), 0);
	struct kd_user u;
	assert_int_equal(users_auth_session(db, sid[0], &u, NULL, NULL), KD_EAUTH);
	int64_t ended = -1;
	assert_int_equal(acct_sessions_end_all(db, ana, s1, &ended), 0);
	assert_int_equal(ended, 1);
	assert_int_equal(users_auth_session(db, sid[1], &u, NULL, NULL), 0);
	assert_int_equal(users_auth_session(db, sid[2], &u, NULL, NULL), KD_EAUTH);
	assert_int_equal(users_auth_session(db, other, &u, NULL, NULL), 0);
	assert_int_equal(acct_session_end(db, s1, 0), 0);
	/* an expired session is not listed */
	test_exec(db, "UPDATE sessions SET expires_at = '2001-01-01T00:00:00Z'");
	assert_int_equal(acct_sessions_list(db, ben, &ss, &n), 0);
	assert_int_equal(n, 0);
	acct_free(ss);
}

static void expiry_reads_days_or_a_date(void **state)
{
	(void)state;
	char out[USERS_TIME_MAX], err[KD_ERRMSG_MAX];
	int64_t now = 1700000000; /* 2023-11-14T22:13:20Z */
	assert_int_equal(users_expiry("1", now, out, err, sizeof err), 0);
	assert_string_equal(out, "2023-11-15T22:13:20Z");
	assert_int_equal(users_expiry("365", now, out, err, sizeof err), 0);
	assert_string_equal(out, "2024-11-13T22:13:20Z");
	assert_int_equal(users_expiry("2024-02-29", now, out, err, sizeof err), 0);
	assert_string_equal(out, "2024-02-29T00:00:00Z");
	const char *bad[] = {"0", "3651", "99999", "", "-1", "2023-11-14", "2023-02-29",
	                     "2024-13-01", "2024-1-01", "2024-01-01x", "next week", "2040-01-01"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (users_expiry(bad[i], now, out, err, sizeof err) != KD_EINVAL)
			fail_msg("'%s' was taken as an expiry", bad[i]);
	assert_int_equal(users_credential_id("kd_42_abc"), 42);
	assert_int_equal(users_credential_id("kd_x_abc"), 0);
	assert_int_equal(users_credential_id(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_keeps_email_and_full_name, setup,
		                                test_db_teardown),
		cmocka_unit_test_setup_teardown(list_searches_filters_and_pages, setup,
		                                test_db_teardown),
		cmocka_unit_test_setup_teardown(find_by_name_email_or_id, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(update_changes_fields_and_who_set_the_role, setup,
		                                test_db_teardown),
		cmocka_unit_test_setup_teardown(disable_ends_sessions_and_refuses_tokens, setup,
		                                test_db_teardown),
		cmocka_unit_test_setup_teardown(password_set_and_removed, setup, test_db_teardown),
		cmocka_unit_test_setup_teardown(tokens_have_names_expiry_and_owners, setup,
		                                test_db_teardown),
		cmocka_unit_test_setup_teardown(last_use_is_recorded_now_and_then, setup,
		                                test_db_teardown),
		cmocka_unit_test_setup_teardown(sessions_listed_and_ended, setup, test_db_teardown),
		cmocka_unit_test(expiry_reads_days_or_a_date),
	};
	return cmocka_run_group_tests_name("accounts", tests, NULL, NULL);
}
