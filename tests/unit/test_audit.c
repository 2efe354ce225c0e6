/* test_audit.c - the audit trail (kindling/audit.h): entries added and
 * read back with each filter, in order, a page and a chunk at a time; an
 * open counted once per person, clip and day; append-only in the
 * catalogue itself; pruning only what is past audit_months; failed
 * sign-ins bounded; and the CSV and JSON every export writes. */
#include <jansson.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "kindling/accounts.h"
#include "kindling/audit.h"
#include "kindling/buf.h"
#include "kindling/config.h"

/* ------------------------------------------------------------------ helpers */

/* The entries a filter gives, as "id action clip user|..." lines. */
struct seen {
	char text[8192];
	int n;
	int64_t ids[256];
};

static int collect(void *arg, const struct audit_entry *e)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);
	snprintf(s->text + len, sizeof s->text - len, "%s%s:%lld:%s", s->n ? " " : "", e->action,
	         (long long)e->clip_id, *e->user_name ? e->user_name : "-");
	if (s->n < 256)
		s->ids[s->n] = e->id;
	s->n++;
	return 0;
}

static struct seen each(struct kd_db *db, struct audit_filter f)
{
	struct seen s = {0};
	char err[KD_ERRMSG_MAX] = "";
	int rc = audit_each(db, &f, collect, &s, err, sizeof err);
	if (rc != 0)
		fail_msg("audit_each: %d %s", rc, err);
	return s;
}

static int64_t count(struct kd_db *db, const char *where)
{
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT CAST(count(*) AS BIGINT) FROM audit WHERE %s", where);
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	assert_int_equal(db_step(st), DB_ROW);
	int64_t n = db_column_int64(st, 0);
	db_finalize(st);
	return n;
}

static void add(struct kd_db *db, int64_t user_id, const char *user, const char *action,
                int64_t clip, const char *target, const char *detail)
{
	struct audit_actor who = {user_id, user, "192.0.2.7"};
	assert_int_equal(audit_add(db, &who, action, clip, target, detail), 0);
}

/* An entry dated by SQL (an expression on 'now'), as a test fixture only:
 * the product never chooses an entry's time. */
static void add_at(struct kd_db *db, const char *at_expr, const char *action, int64_t clip)
{
	char sql[512];
	snprintf(sql, sizeof sql, "INSERT INTO audit (at, user_id, user_name, action, clip_id) "
	         "VALUES (%s, 1, 'ann', '%s', %lld)", at_expr, action, (long long)clip);
	test_exec(db, sql);
}

/* ------------------------------------------------------------------ reading */

static void entries_come_back_oldest_first_with_each_filter(void **state)
{
	(void)state;
	struct kd_db *db = test_db();
	struct kd_user ann = test_user(db, "Ann", KD_ROLE_ADMIN, NULL);
	struct kd_user bo = test_user(db, "bo", KD_ROLE_TEACHER, NULL);
	add_at(db, "'2021-03-04T10:00:00Z'", AUDIT_DELETE, 7);
	add_at(db, "'2021-03-05T23:59:59Z'", AUDIT_EDIT, 7);
	add_at(db, "'2021-03-06T00:00:00Z'", AUDIT_EDIT, 8);
	add(db, ann.id, "Ann", AUDIT_CONSENT, 7, "A clip", "on-file -> withdrawn");
	add(db, bo.id, "bo", AUDIT_OPEN, 8, NULL, NULL);
	add(db, 0, "", AUDIT_RETENTION, 9, "Old clip", "past retention_months");

	struct seen s = each(db, (struct audit_filter){0});
	assert_string_equal(s.text, "delete:7:ann edit:7:ann edit:8:ann consent:7:Ann open:8:bo "
	                            "retention:9:-");
	s = each(db, (struct audit_filter){.newest_first = true});
	assert_string_equal(s.text, "retention:9:- open:8:bo consent:7:Ann edit:8:ann edit:7:ann "
	                            "delete:7:ann");
	/* days: both ends included, whole days */
	s = each(db, (struct audit_filter){.from = "2021-03-05", .to = "2021-03-05"});
	assert_string_equal(s.text, "edit:7:ann");
	s = each(db, (struct audit_filter){.from = "2021-03-05", .to = "2021-03-06"});
	assert_string_equal(s.text, "edit:7:ann edit:8:ann");
	s = each(db, (struct audit_filter){.to = "2021-03-04"});
	assert_string_equal(s.text, "delete:7:ann");
	s = each(db, (struct audit_filter){.from = "2021-03-07"});
	assert_string_equal(s.text, "consent:7:Ann open:8:bo retention:9:-");
	/* a person by name, in any case; also by the account's id (the
	 * fixture rows name 'ann' with user id 1, which is Ann's) */
	s = each(db, (struct audit_filter){.user = "ANN"});
	assert_int_equal(s.n, 4);
	s = each(db, (struct audit_filter){.user = "bo"});
	assert_string_equal(s.text, "open:8:bo");
	s = each(db, (struct audit_filter){.user = "nobody"});
	assert_int_equal(s.n, 0);
	s = each(db, (struct audit_filter){.clip_id = 7});
	assert_string_equal(s.text, "delete:7:ann edit:7:ann consent:7:Ann");
	s = each(db, (struct audit_filter){.action = AUDIT_EDIT});
	assert_string_equal(s.text, "edit:7:ann edit:8:ann");
	s = each(db, (struct audit_filter){.action = AUDIT_EDIT, .clip_id = 8, .user = "ann"});
	assert_string_equal(s.text, "edit:8:ann");
	s = each(db, (struct audit_filter){.limit = 2});
	assert_string_equal(s.text, "delete:7:ann edit:7:ann");
	db_close(&db);
}

static void pages_and_chunks_cover_every_entry_once(void **state)
{
	(void)state;
	struct kd_db *db = test_db();
	for (int i = 1; i <= 11; i++)
		add(db, 5, "pat", AUDIT_EDIT, i, NULL, NULL);
	add(db, 5, "pat", AUDIT_DELETE, 3, NULL, NULL);
	/* newest first, 4 a page, each page before the last id seen */
	struct seen all = each(db, (struct audit_filter){.newest_first = true, .action = "edit"});
	assert_int_equal(all.n, 11);
	int64_t before = 0;
	int got = 0, pages = 0;
	for (;;) {
		struct seen p = each(db, (struct audit_filter){.newest_first = true, .action = "edit",
		                                               .limit = 4, .before_id = before});
		for (int i = 0; i < p.n; i++)
			assert_true(p.ids[i] == all.ids[got + i]);
		got += p.n;
		pages++;
		if (p.n < 4)
			break;
		before = p.ids[p.n - 1];
	}
	assert_int_equal(got, 11);
	assert_int_equal(pages, 3);
	/* oldest first, a chunk at a time after the last id, up to a mark */
	struct seen old = each(db, (struct audit_filter){0});
	int64_t mark = old.ids[9]; /* entries from the 10th on are "added later" */
	int64_t after = 0;
	got = 0;
	for (;;) {
		struct seen c = each(db, (struct audit_filter){.after_id = after, .before_id = mark,
		                                               .limit = 3});
		for (int i = 0; i < c.n; i++)
			assert_true(c.ids[i] == old.ids[got + i]);
		got += c.n;
		if (c.n < 3)
			break;
		after = c.ids[c.n - 1];
	}
	assert_int_equal(got, 9);
	db_close(&db);
}

static void bad_filters_are_refused_with_a_reason(void **state)
{
	(void)state;
	char err[KD_ERRMSG_MAX];
	const struct audit_filter bad[] = {
		{.from = "2021-02-30"}, {.to = "yesterday"}, {.from = "2021-03-05", .to = "2021-03-04"},
		{.action = "opened"}, {.clip_id = -1}, {.before_id = -2}, {.after_id = -3},
		{.limit = -1},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		assert_int_equal(audit_filter_check(&bad[i], err, sizeof err), KD_EINVAL);
		assert_true(strlen(err) > 10);
	}
	assert_int_equal(audit_filter_check(&(struct audit_filter){.action = "sign-in-failed",
	                                                           .from = "2024-02-29"},
	                                    err, sizeof err),
	                 0);
	for (size_t i = 0; i < audit_actions_count; i++)
		assert_true(audit_action_known(audit_actions[i]));
	assert_false(audit_action_known("Open"));
	assert_false(audit_action_known(NULL));
}

/* ------------------------------------------------------------------ opens */

static void an_open_is_recorded_once_per_person_clip_and_day(void **state)
{
	(void)state;
	struct kd_db *db = test_db();
	/* ids of their own: what this process remembers is shared by the tests */
	struct audit_actor tess = {7001, "tess", "192.0.2.1"}, tim = {7002, "tim", ""};
	for (int i = 0; i < 5; i++)
		assert_int_equal(audit_opened(db, &tess, 41), 0);
	assert_int_equal(count(db, "action = 'open' AND user_id = 7001 AND clip_id = 41"), 1);
	assert_int_equal(audit_opened(db, &tess, 42), 0);
	assert_int_equal(audit_opened(db, &tim, 41), 0);
	assert_int_equal(audit_opened(db, &tim, 41), 0);
	assert_int_equal(count(db, "action = 'open'"), 3);
	/* yesterday's open does not count for today (the catalogue's own
	 * check, which another process would meet) */
	struct audit_actor tara = {7003, "tara", ""};
	char sql[200];
	snprintf(sql, sizeof sql, "INSERT INTO audit (at, user_id, user_name, action, clip_id) "
	         "VALUES (strftime('%%Y-%%m-%%dT00:00:00Z', 'now', '-1 day'), 7003, 'tara', "
	         "'open', 44)");
	test_exec(db, sql);
	assert_int_equal(audit_opened(db, &tara, 44), 0);
	assert_int_equal(count(db, "user_id = 7003 AND clip_id = 44"), 2);
	/* and today's, written by another process, does count */
	test_exec(db, "INSERT INTO audit (user_id, user_name, action, clip_id) "
	              "VALUES (7004, 'theo', 'open', 45)");
	struct audit_actor theo = {7004, "theo", ""};
	assert_int_equal(audit_opened(db, &theo, 45), 0);
	assert_int_equal(count(db, "user_id = 7004"), 1);
	/* nobody signed in, or no clip: nothing */
	struct audit_actor nobody = {0, "", ""};
	assert_int_equal(audit_opened(db, &nobody, 41), 0);
	assert_int_equal(audit_opened(db, &tess, 0), 0);
	assert_int_equal(count(db, "user_id IS NULL OR clip_id IS NULL"), 0);
	db_close(&db);
}

/* ------------------------------------------------------------------ append-only, prune */

static void the_catalogue_refuses_to_change_or_delete_a_fresh_entry(void **state)
{
	(void)state;
	struct kd_db *db = test_db();
	add(db, 3, "ann", AUDIT_DELETE, 12, "A clip", "records request 7");
	assert_int_not_equal(db_exec(db, "UPDATE audit SET detail = 'nothing to see'"), DB_OK);
	assert_int_not_equal(db_exec(db, "UPDATE audit SET at = '2001-01-01T00:00:00Z'"), DB_OK);
	assert_int_not_equal(db_exec(db, "DELETE FROM audit"), DB_OK);
	assert_int_equal(count(db, "detail = 'records request 7' AND clip_id = 12"), 1);
	/* a year old and a day: may go (only audit_prune does, in the product) */
	add_at(db, "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-12 months', '-1 day')", AUDIT_EDIT, 13);
	assert_int_not_equal(db_exec(db, "UPDATE audit SET detail = 'x' WHERE clip_id = 13"), DB_OK);
	assert_int_equal(db_exec(db, "DELETE FROM audit WHERE clip_id = 13"), DB_OK);
	assert_int_equal(count(db, "1 = 1"), 1);
	db_close(&db);
}

static void prune_removes_only_what_is_past_its_months(void **state)
{
	(void)state;
	struct kd_db *db = test_db();
	static const struct {
		const char *ago;
		int64_t clip;
	} rows[] = {{"-100 months", 1}, {"-90 months", 2}, {"-83 months", 3}, {"-13 months", 4},
	            {"-11 months", 5}};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		char at[128];
		snprintf(at, sizeof at, "strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now', '%s')",
		         rows[i].ago);
		add_at(db, at, AUDIT_EDIT, rows[i].clip);
	}
	add(db, 2, "ann", AUDIT_EDIT, 6, NULL, NULL);
	int64_t removed = -1;
	assert_int_equal(audit_prune(db, 11, &removed), KD_EINVAL);
	assert_int_equal(removed, 0);
	assert_int_equal(count(db, "1 = 1"), 6);
	/* the daily task's call, with the default setting: seven years */
	struct kd_config cfg = {.audit_months = 84};
	assert_int_equal(audit_prune_due(db, &cfg), 0);
	struct seen s = each(db, (struct audit_filter){0});
	assert_string_equal(s.text, "edit:3:ann edit:4:ann edit:5:ann edit:6:ann");
	assert_int_equal(audit_prune(db, 84, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(audit_prune(db, 12, &removed), 0);
	assert_int_equal(removed, 2);
	s = each(db, (struct audit_filter){0});
	assert_string_equal(s.text, "edit:5:ann edit:6:ann");
	cfg.audit_months = 6; /* refused, and nothing goes */
	assert_int_equal(audit_prune_due(db, &cfg), KD_EINVAL);
	assert_int_equal(count(db, "1 = 1"), 2);
	db_close(&db);
}

/* ------------------------------------------------------------------ failed sign-ins */

static void failed_sign_ins_are_bounded_per_minute(void **state)
{
	(void)state;
	/* the bound is per minute of the clock: start well inside one */
	while (time(NULL) % 60 > 50)
		sleep(1);
	struct kd_db *db = test_db();
	for (int i = 0; i < 5; i++) /* the same address and name: one entry */
		assert_int_equal(audit_sign_in_failed(db, "198.51.100.1", "ann", "wrong password"), 0);
	assert_int_equal(audit_sign_in_failed(db, "198.51.100.1", "ANN", "wrong password"), 0);
	assert_int_equal(count(db, "action = 'sign-in-failed'"), 1);
	assert_int_equal(audit_sign_in_failed(db, "198.51.100.2", "ann", "wrong password"), 0);
	assert_int_equal(count(db, "action = 'sign-in-failed'"), 2);
	/* single sign-on gives no name, but its reasons name the address tried:
	 * two people behind one school's address are two entries */
	const char *sso_a = "single sign-on: No kindling account uses the address a@x.org.",
	           *sso_b = "single sign-on: No kindling account uses the address b@x.org.";
	assert_int_equal(audit_sign_in_failed(db, "198.51.100.3", "", sso_a), 0);
	assert_int_equal(audit_sign_in_failed(db, "198.51.100.3", "", sso_b), 0);
	assert_int_equal(audit_sign_in_failed(db, "198.51.100.3", "", sso_b), 0);
	assert_int_equal(count(db, "action = 'sign-in-failed'"), 4);
	/* a flood of names: AUDIT_FAILED_PER_MINUTE - 1 entries, then one that
	 * says more were left out, then nothing more this minute */
	for (int i = 0; i < 200; i++) {
		char name[32];
		snprintf(name, sizeof name, "guess%d", i);
		assert_int_equal(audit_sign_in_failed(db, "203.0.113.9", name, "no account has "
		                                      "this name"), 0);
	}
	assert_int_equal(count(db, "action = 'sign-in-failed'"), AUDIT_FAILED_PER_MINUTE);
	assert_int_equal(count(db, "action = 'sign-in-failed' AND target = '' AND "
	                           "detail LIKE 'more than %'"), 1);
	struct seen s = each(db, (struct audit_filter){.action = AUDIT_SIGN_IN_FAILED,
	                                               .newest_first = true, .limit = 1});
	assert_int_equal(s.n, 1);
	assert_int_equal(count(db, "action = 'sign-in-failed' AND user_id IS NULL AND "
	                           "user_name = '' AND target = 'ann' AND ip = '198.51.100.1' AND "
	                           "detail = 'wrong password'"), 1);
	db_close(&db);
}

/* ------------------------------------------------------------------ formats */

static void csv_quotes_escapes_and_defuses_formulas(void **state)
{
	(void)state;
	struct kd_buf b = KD_BUF_INIT(1 << 16);
	assert_int_equal(audit_csv_header(&b), 0);
	assert_string_equal(kd_buf_str(&b), "id,at,user_id,user,action,clip_id,target,detail,ip\r\n");
	kd_buf_reset(&b);
	struct audit_entry e = {
		.id = 12, .at = "2026-01-02T03:04:05Z", .user_id = 4, .user_name = "=HYPERLINK(\"x\")",
		.action = "edit", .clip_id = 9, .target = "Fractions, part 1",
		.detail = "said \"hi\"\r\nthen left", .ip = "+1 555",
	};
	assert_int_equal(audit_csv_line(&b, &e), 0);
	assert_string_equal(kd_buf_str(&b),
	                    "12,2026-01-02T03:04:05Z,4,\"'=HYPERLINK(\"\"x\"\")\",edit,9,"
	                    "\"Fractions, part 1\",\"said \"\"hi\"\"\r\nthen left\",'+1 555\r\n");
	kd_buf_reset(&b);
	struct audit_entry f = {
		.id = 13, .at = "2026-01-02T03:04:06Z", .user_id = 0, .user_name = "",
		.action = "sign-in-failed", .clip_id = 0, .target = "-2+3",
		.detail = "@SUM(A1:A9)", .ip = "\tx",
	};
	assert_int_equal(audit_csv_line(&b, &f), 0);
	assert_string_equal(kd_buf_str(&b), "13,2026-01-02T03:04:06Z,,,sign-in-failed,,'-2+3,"
	                                    "'@SUM(A1:A9),'\tx\r\n");
	kd_buf_reset(&b);
	/* not UTF-8: replaced, so the file always is */
	struct audit_entry g = {.id = 14, .at = "", .user_name = "Zoë", .action = "edit",
	                        .target = "a\xff" "b", .detail = "", .ip = ""};
	assert_int_equal(audit_csv_line(&b, &g), 0);
	assert_string_equal(kd_buf_str(&b), "14,,,Zoë,edit,,a\xEF\xBF\xBD" "b,,\r\n");
	/* a line that does not fit is not written in part */
	struct kd_buf small = KD_BUF_INIT(20);
	assert_int_equal(audit_csv_line(&small, &e), KD_ETOOBIG);
	assert_int_equal(small.len, 0);
	kd_buf_release(&small);
	kd_buf_release(&b);
}

static void json_entries_parse_back_to_what_was_stored(void **state)
{
	(void)state;
	struct kd_buf b = KD_BUF_INIT(1 << 16);
	struct audit_entry e = {
		.id = 12, .at = "2026-01-02T03:04:05Z", .user_id = 4, .user_name = "Zoë \"Z\" \\",
		.action = "consent", .clip_id = 9, .target = "line\nbreak\ttab\x01",
		.detail = "on-file -> withdrawn: parent asked", .ip = "::1",
	};
	assert_int_equal(audit_json_entry(&b, &e), 0);
	json_error_t jerr;
	json_t *j = json_loads(kd_buf_str(&b), 0, &jerr);
	if (!j)
		fail_msg("not JSON (%s): %s", jerr.text, kd_buf_str(&b));
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 12);
	assert_int_equal(json_integer_value(json_object_get(j, "user_id")), 4);
	assert_int_equal(json_integer_value(json_object_get(j, "clip_id")), 9);
	assert_string_equal(json_string_value(json_object_get(j, "user")), e.user_name);
	assert_string_equal(json_string_value(json_object_get(j, "target")), e.target);
	assert_string_equal(json_string_value(json_object_get(j, "detail")), e.detail);
	assert_string_equal(json_string_value(json_object_get(j, "action")), "consent");
	assert_string_equal(json_string_value(json_object_get(j, "at")), e.at);
	assert_string_equal(json_string_value(json_object_get(j, "ip")), "::1");
	json_decref(j);
	kd_buf_reset(&b);
	struct audit_entry k = {.id = 1, .at = "", .user_name = "", .action = "retention",
	                        .target = "bad \xc3(", .detail = "", .ip = ""};
	assert_int_equal(audit_json_entry(&b, &k), 0);
	j = json_loads(kd_buf_str(&b), 0, &jerr);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "user_id")));
	assert_true(json_is_null(json_object_get(j, "clip_id")));
	assert_string_equal(json_string_value(json_object_get(j, "target")), "bad \xEF\xBF\xBD(");
	json_decref(j);
	kd_buf_release(&b);
}

/* ------------------------------------------------------------------ call sites' words */

static void account_changes_and_tokens_are_put_in_words(void **state)
{
	(void)state;
	struct acct_person was = {.role = KD_ROLE_TEACHER, .has_password = true}, now;
	snprintf(was.name, sizeof was.name, "bo");
	snprintf(was.school, sizeof was.school, "east");
	now = was;
	char out[600];
	audit_person_changes(&was, &now, out, sizeof out);
	assert_string_equal(out, "");
	now.role = KD_ROLE_COACH;
	snprintf(now.school, sizeof now.school, "%s", "");
	snprintf(now.email, sizeof now.email, "bo@example.org");
	now.disabled = true;
	now.has_password = false;
	audit_person_changes(&was, &now, out, sizeof out);
	assert_string_equal(out, "e-mail (none) -> bo@example.org; role teacher -> coach; school "
	                         "east -> (none); disabled; password removed");
	char tiny[12];
	audit_person_changes(&was, &now, tiny, sizeof tiny);
	assert_true(strlen(tiny) < sizeof tiny);

	struct kd_db *db = test_db();
	struct kd_user bo = test_user(db, "bo", KD_ROLE_TEACHER, NULL);
	struct kd_user cy = test_user(db, "cy", KD_ROLE_TEACHER, NULL);
	char token[USERS_TOKEN_MAX], err[KD_ERRMSG_MAX] = "";
	int64_t id = 0;
	assert_int_equal(users_token_issue(db, bo.id, "laptop", NULL, &id, token, err, sizeof err),
	                 0);
	char words[300], want[64];
	snprintf(want, sizeof want, "bo: laptop (#%lld)", (long long)id);
	assert_int_equal(audit_token_words(db, bo.id, id, words, sizeof words), 0);
	assert_string_equal(words, want); /* the owner and label, never the secret */
	assert_int_equal(audit_token_words(db, 0, id, words, sizeof words), 0);
	assert_string_equal(words, want);
	assert_int_equal(audit_token_words(db, cy.id, id, words, sizeof words), KD_ENOTFOUND);
	snprintf(want, sizeof want, "token #%lld", (long long)id);
	assert_string_equal(words, want);
	db_close(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_come_back_oldest_first_with_each_filter),
		cmocka_unit_test(pages_and_chunks_cover_every_entry_once),
		cmocka_unit_test(bad_filters_are_refused_with_a_reason),
		cmocka_unit_test(an_open_is_recorded_once_per_person_clip_and_day),
		cmocka_unit_test(the_catalogue_refuses_to_change_or_delete_a_fresh_entry),
		cmocka_unit_test(prune_removes_only_what_is_past_its_months),
		cmocka_unit_test(failed_sign_ins_are_bounded_per_minute),
		cmocka_unit_test(csv_quotes_escapes_and_defuses_formulas),
		cmocka_unit_test(json_entries_parse_back_to_what_was_stored),
		cmocka_unit_test(account_changes_and_tokens_are_put_in_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
