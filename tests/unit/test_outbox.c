/* test_outbox.c - the outbox (catalogue/outbox.c): kinds, queueing only
 * to people who can and want to hear and once per event, claiming by one
 * sender, the states of a row, recovery after a crash, and the one-click
 * unsubscribe (good once, for that kind only). */
#include <sodium.h>
#include <stdio.h>
#include <time.h>

#include "helpers.h"
#include "kindling/outbox.h"
#include "kindling/users.h"

struct world {
	struct kd_db *db;
	int64_t ann, bob, nomail, off;
};

static int64_t person(struct kd_db *db, const char *name, const char *email)
{
	char err[KD_ERRMSG_MAX] = "";
	int64_t id;
	struct users_new n = {.name = name, .role = KD_ROLE_TEACHER, .email = email};
	if (users_create(db, &n, &id, err, sizeof err) != 0)
		fail_msg("users_create: %s", err);
	return id;
}

static void exec(struct kd_db *db, const char *sql)
{
	if (db_exec(db, sql) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
}

static int64_t int_of(struct kd_db *db, const char *sql, int64_t arg)
{
	struct kd_stmt *st;
	if (db_prepare(db, sql, &st) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	if (db_has_param(st, 1))
		db_bind_int64(st, 1, arg);
	int64_t v = db_step(st) == DB_ROW ? db_column_int64(st, 0) : -1;
	db_finalize(st);
	return v;
}

/* The state of message id, in buf. */
static const char *state_of(struct kd_db *db, int64_t id, char *buf, size_t n)
{
	struct kd_stmt *st;
	db_prepare(db, "SELECT state FROM outbox WHERE id = ?1", &st);
	db_bind_int64(st, 1, id);
	snprintf(buf, n, "%s", db_step(st) == DB_ROW ? (const char *)db_column_text(st, 0) : "none");
	db_finalize(st);
	return buf;
}
#define assert_state(db, id, want)                                              \
	do {                                                                    \
		char b_[32];                                                    \
		assert_string_equal(state_of(db, id, b_, sizeof b_), want);     \
	} while (0)

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	w->db = test_db();
	w->ann = person(w->db, "Ann", "ann@example.org");
	w->bob = person(w->db, "Bob", "bob@example.org");
	w->nomail = person(w->db, "Nomail", NULL);
	w->off = person(w->db, "Off", "off@example.org");
	char sql[200];
	snprintf(sql, sizeof sql, "UPDATE users SET disabled = 1 WHERE id = %lld", (long long)w->off);
	exec(w->db, sql);
	outbox_set_enabled(true);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	db_close(&w->db);
	free(w);
	outbox_set_enabled(false);
	return 0;
}

static void kinds(void **state)
{
	(void)state;
	for (int k = 0; k < MAIL_KIND_COUNT; k++) {
		enum mail_kind back;
		assert_int_equal(mail_kind_parse(mail_kind_name((enum mail_kind)k), &back), 0);
		assert_int_equal(back, k);
		assert_true(strlen(mail_kind_label((enum mail_kind)k)) > 10);
	}
	enum mail_kind k;
	assert_string_equal(mail_kind_name(MAIL_VISIT_REQUESTED), "visit_requested");
	assert_string_equal(mail_kind_name(MAIL_DIGEST), "digest");
	assert_int_equal(mail_kind_parse("Digest", &k), KD_EINVAL);
	assert_int_equal(mail_kind_parse("", &k), KD_EINVAL);
	assert_int_equal(mail_kind_parse(NULL, &k), KD_EINVAL);
}

static void queueing(void **state)
{
	struct world *w = *state;
	struct kd_db *db = w->db;
	outbox_set_enabled(false);
	assert_false(outbox_enabled());
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REQUESTED, w->ann, 7, NULL, "visit_requested:7:1"), 0);
	assert_int_equal(int_of(db, "SELECT count(*) FROM outbox", 0), 0);
	outbox_set_enabled(true);
	assert_true(outbox_enabled());
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REQUESTED, w->ann, 7, NULL, "visit_requested:7:1"), 1);
	/* the same event noticed again (another node, a retried request) */
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REQUESTED, w->ann, 7, NULL, "visit_requested:7:1"), 0);
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REQUESTED, w->nomail, 7, NULL, "visit_requested:7:3"), 0);
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REQUESTED, w->off, 7, NULL, "visit_requested:7:4"), 0);
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REQUESTED, 99999, 7, NULL, "visit_requested:7:99999"), 0);
	/* Bob switched reminders off: only those */
	char sql[200];
	snprintf(sql, sizeof sql, "INSERT INTO mail_prefs (user_id, kind, enabled) VALUES "
	         "(%lld, 'visit_reminder', 0), (%lld, 'digest', 1)", (long long)w->bob, (long long)w->bob);
	exec(db, sql);
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REMINDER, w->bob, 7, NULL, "visit_reminder:7:2"), 0);
	assert_int_equal(outbox_queue(db, MAIL_DIGEST, w->bob, 0, "2026-01-05", "digest:2:2026-01-12"), 1);
	assert_int_equal(outbox_queue(db, MAIL_VISIT_ANSWERED, w->bob, 7, NULL, "visit_answered:7:accepted:2"), 1);
	assert_int_equal(int_of(db, "SELECT count(*) FROM outbox", 0), 3);
	/* what was kept: no ref_id for 0, the digest's first day */
	assert_int_equal(int_of(db, "SELECT count(*) FROM outbox WHERE kind = 'digest' AND ref_id IS NULL "
	                            "AND ref_text = '2026-01-05' AND state = 'queued' AND attempts = 0", 0), 1);
	assert_int_equal(outbox_queue(db, MAIL_DIGEST, w->bob, 0, NULL, ""), KD_EINVAL);
}

static void claiming_and_states(void **state)
{
	struct world *w = *state;
	struct kd_db *db = w->db;
	struct outbox_item it;
	int64_t now = (int64_t)time(NULL);
	assert_int_equal(outbox_claim(db, "n1", 100, now, 300, &it), 0);
	assert_int_equal(outbox_queue(db, MAIL_VISIT_ANSWERED, w->ann, 41, NULL, "a:41"), 1);
	assert_int_equal(outbox_queue(db, MAIL_DIGEST, w->bob, 0, "2026-01-05", "d:2"), 1);
	int64_t first = int_of(db, "SELECT id FROM outbox WHERE dedupe = 'a:41'", 0);
	int64_t second = int_of(db, "SELECT id FROM outbox WHERE dedupe = 'd:2'", 0);

	assert_int_equal(outbox_claim(db, "n1", 100, now, 300, &it), 1);
	assert_int_equal(it.id, first);
	assert_int_equal(it.kind, MAIL_VISIT_ANSWERED);
	assert_int_equal(it.user_id, w->ann);
	assert_int_equal(it.ref_id, 41);
	assert_null(it.ref_text);
	assert_int_equal(it.attempts, 0);
	assert_int_equal(strlen(it.created_at), 20);
	assert_state(db, first, "sending");
	assert_int_equal(int_of(db, "SELECT lease_until FROM outbox WHERE id = ?1", first), now + 300);
	outbox_item_free(&it);

	/* the other one, then none: a claimed message is nobody else's */
	assert_int_equal(outbox_claim(db, "n2", 200, now, 300, &it), 1);
	assert_int_equal(it.id, second);
	assert_string_equal(it.ref_text, "2026-01-05");
	outbox_item_free(&it);
	assert_int_equal(outbox_claim(db, "n2", 200, now, 300, &it), 0);

	/* first: handed, then sent */
	assert_int_equal(outbox_handed(db, first), 0);
	assert_state(db, first, "handed");
	/* (a new secret only while composing) */
	assert_int_equal(outbox_set_unsubscribe(db, first, (const unsigned char *)
	                                        "0123456789abcdef0123456789abcdef"), KD_ENOTFOUND);
	assert_int_equal(outbox_sent(db, first, "<kindling.1.ab@example.org>"), 0);
	assert_int_equal(outbox_retry(db, first, now, "x"), KD_ENOTFOUND); /* too late for that */
	assert_state(db, first, "sent");
	assert_int_equal(int_of(db, "SELECT count(*) FROM outbox WHERE id = ?1 AND sent_at IS NOT NULL "
	                            "AND message_id = '<kindling.1.ab@example.org>' AND node IS NULL", first), 1);
	assert_int_equal(outbox_give_up(db, first, true, "late"), KD_ENOTFOUND);
	assert_int_equal(outbox_sent(db, first, "<again@x>"), KD_ENOTFOUND);

	/* second: try later; not due before then, due after, attempts counted */
	assert_int_equal(outbox_retry(db, second, now + 20, "451 try later"), 0);
	assert_state(db, second, "queued");
	assert_int_equal(outbox_claim(db, "n1", 100, now + 19, 300, &it), 0);
	assert_int_equal(outbox_claim(db, "n1", 100, now + 20, 300, &it), 1);
	assert_int_equal(it.id, second);
	assert_int_equal(it.attempts, 1);
	outbox_item_free(&it);
	/* a 451 to the last byte: handed, then back in the queue */
	assert_int_equal(outbox_handed(db, second), 0);
	assert_int_equal(outbox_retry(db, second, now, "451 after the data"), 0);
	assert_state(db, second, "queued");
	assert_int_equal(outbox_claim(db, "n1", 100, now + 20, 300, &it), 1);
	assert_int_equal(it.attempts, 2);
	outbox_item_free(&it);
	assert_int_equal(outbox_give_up(db, second, false, "550 no such user"), 0);
	assert_state(db, second, "failed");
	assert_int_equal(int_of(db, "SELECT count(*) FROM outbox WHERE id = ?1 AND "
	                            "last_error = '550 no such user'", second), 1);

	/* dropped straight from the queue (nothing left to say) */
	assert_int_equal(outbox_queue(db, MAIL_PROCESSING, w->ann, 3, NULL, "processing:3"), 1);
	int64_t third = int_of(db, "SELECT id FROM outbox WHERE dedupe = 'processing:3'", 0);
	assert_int_equal(outbox_give_up(db, third, true, "the batch is gone"), 0);
	assert_state(db, third, "dropped");
	assert_int_equal(outbox_claim(db, "n1", 100, now + 3600, 300, &it), 0);
}

/* A row held as state by (node, pid) until lease. */
static int64_t held(struct kd_db *db, int64_t user, const char *dedupe, const char *st,
                    const char *node, int64_t pid, int64_t lease)
{
	struct kd_stmt *s;
	db_prepare(db, "INSERT INTO outbox (kind, user_id, dedupe, state, node, pid, lease_until) "
	               "VALUES ('processing', ?1, ?2, ?3, ?4, ?5, ?6) RETURNING id", &s);
	db_bind_int64(s, 1, user);
	db_bind_text(s, 2, dedupe, -1, DB_STATIC);
	db_bind_text(s, 3, st, -1, DB_STATIC);
	db_bind_text(s, 4, node, -1, DB_STATIC);
	db_bind_int64(s, 5, pid);
	db_bind_int64(s, 6, lease);
	assert_int_equal(db_step(s), DB_ROW);
	int64_t id = db_column_int64(s, 0);
	while (db_step(s) == DB_ROW)
		;
	db_finalize(s);
	return id;
}

static void recovery(void **state)
{
	struct world *w = *state;
	struct kd_db *db = w->db;
	int64_t now = (int64_t)time(NULL), me = (int64_t)getpid();
	/* a pid that is surely not running: above any pid_max */
	const int64_t gone = 4194304 + 17;
	int64_t dead_sending = held(db, w->ann, "r1", "sending", "here", gone, now + 300);
	int64_t dead_handed = held(db, w->ann, "r2", "handed", "here", gone, now + 300);
	int64_t mine = held(db, w->ann, "r3", "sending", "here", me, now + 300);
	int64_t far_live = held(db, w->ann, "r4", "sending", "there", 1, now + 300);
	int64_t far_lapsed = held(db, w->ann, "r5", "handed", "there", 1, now - 1);
	int64_t parent = held(db, w->ann, "r6", "sending", "here", (int64_t)getppid(), now + 300);
	/* this sender's own, long past its lease: left behind when its
	 * catalogue connection broke mid-way */
	int64_t mine_lapsed = held(db, w->ann, "r7", "sending", "here", me, now - 1);

	assert_int_equal(outbox_recover(db, "here", (pid_t)me, false), 0);
	assert_state(db, dead_sending, "queued"); /* never all sent: again */
	assert_state(db, dead_handed, "sent");    /* may have arrived: never twice */
	assert_state(db, mine, "sending");        /* this sender's, still at it */
	assert_state(db, far_live, "sending");    /* another node's, within its lease */
	assert_state(db, far_lapsed, "sent");     /* another node's, lease past */
	assert_state(db, parent, "sending");      /* a live process of this node */
	assert_state(db, mine_lapsed, "queued");
	assert_int_equal(int_of(db, "SELECT count(*) FROM outbox WHERE id = ?1 AND node IS NULL "
	                            "AND next_at = 0", dead_sending), 1);
	assert_int_equal(int_of(db, "SELECT count(*) FROM outbox WHERE id = ?1 AND last_error LIKE "
	                            "'%may have arrived%'", dead_handed), 1);

	/* at a start, this pid's are a previous life's (a reused pid) */
	assert_int_equal(outbox_recover(db, "here", (pid_t)me, true), 0);
	assert_state(db, mine, "queued");
	assert_state(db, far_live, "sending");
}

static void unsubscribing(void **state)
{
	struct world *w = *state;
	struct kd_db *db = w->db;
	int64_t now = (int64_t)time(NULL);
	struct outbox_item it;
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REMINDER, w->ann, 5, NULL, "visit_reminder:5:1"), 1);
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REMINDER, w->bob, 5, NULL, "visit_reminder:5:2"), 1);
	assert_int_equal(outbox_claim(db, "n", 1, now, 300, &it), 1);
	int64_t id = it.id;
	outbox_item_free(&it);
	/* the secret as the sender makes it: 32 random bytes, base64url */
	const char *secret = "q0bV0n2C4z8zXk7hJ9yQ1mY3sW5tA6uB8cD0eF2gH4i";
	unsigned char hash[32];
	crypto_generichash(hash, sizeof hash, (const unsigned char *)secret, strlen(secret), NULL, 0);

	enum mail_kind k = MAIL_DIGEST;
	int64_t uid = 0;
	assert_int_equal(outbox_unsubscribe(db, id, secret, &k, &uid), KD_ENOTFOUND); /* no hash yet */
	assert_int_equal(outbox_set_unsubscribe(db, id, hash), 0);
	assert_int_equal(outbox_unsubscribe(db, id, "q0bV0n2C4z8zXk7hJ9yQ1mY3sW5tA6uB8cD0eF2gH4j", &k, &uid),
	                 KD_ENOTFOUND);
	assert_int_equal(outbox_unsubscribe(db, id + 1, secret, &k, &uid), KD_ENOTFOUND);
	assert_int_equal(outbox_unsubscribe(db, 0, secret, &k, &uid), KD_ENOTFOUND);
	assert_int_equal(outbox_unsubscribe(db, id, "", &k, &uid), KD_ENOTFOUND);
	assert_int_equal(int_of(db, "SELECT count(*) FROM mail_prefs", 0), 0);

	assert_int_equal(outbox_unsubscribe(db, id, secret, &k, &uid), 0);
	assert_int_equal(k, MAIL_VISIT_REMINDER);
	assert_int_equal(uid, w->ann);
	assert_int_equal(outbox_unsubscribe(db, id, secret, &k, &uid), KD_EEXIST);
	/* exactly one switch, of exactly that person */
	assert_int_equal(int_of(db, "SELECT count(*) FROM mail_prefs", 0), 1);
	assert_int_equal(int_of(db, "SELECT count(*) FROM mail_prefs WHERE user_id = ?1 AND "
	                            "kind = 'visit_reminder' AND enabled = 0", w->ann), 1);
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REMINDER, w->ann, 6, NULL, "visit_reminder:6:1"), 0);
	assert_int_equal(outbox_queue(db, MAIL_VISIT_ANSWERED, w->ann, 6, NULL, "visit_answered:6:1"), 1);
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REMINDER, w->bob, 6, NULL, "visit_reminder:6:2"), 1);

	/* a switch turned on again and a link of another message: off again */
	char sql[200];
	snprintf(sql, sizeof sql, "UPDATE mail_prefs SET enabled = 1 WHERE user_id = %lld",
	         (long long)w->ann);
	exec(db, sql);
	assert_int_equal(outbox_queue(db, MAIL_VISIT_REMINDER, w->ann, 7, NULL, "visit_reminder:7:1"), 1);
	/* a new secret on a retry replaces the old: the old link is no more */
	assert_int_equal(outbox_claim(db, "n", 1, now, 300, &it), 1);
	int64_t id2 = it.id;
	outbox_item_free(&it);
	assert_int_equal(outbox_set_unsubscribe(db, id2, hash), 0);
	unsigned char other[32];
	crypto_generichash(other, sizeof other, (const unsigned char *)"another", 7, NULL, 0);
	assert_int_equal(outbox_set_unsubscribe(db, id2, other), 0);
	assert_int_equal(outbox_unsubscribe(db, id2, secret, &k, &uid), KD_ENOTFOUND);
	assert_int_equal(outbox_unsubscribe(db, id2, "another", &k, &uid), 0);
	assert_int_equal(uid, w->bob);
	assert_int_equal(int_of(db, "SELECT count(*) FROM mail_prefs WHERE user_id = ?1 AND "
	                            "enabled = 0", w->bob), 1);
}

int main(void)
{
	users_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kinds),
		cmocka_unit_test_setup_teardown(queueing, setup, teardown),
		cmocka_unit_test_setup_teardown(claiming_and_states, setup, teardown),
		cmocka_unit_test_setup_teardown(recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(unsubscribing, setup, teardown),
	};
	return cmocka_run_group_tests_name("outbox", tests, NULL, NULL);
}
