/* mail_prefs.c - what people decide about their mail (outbox.h, "people
 * decide"): a switch per kind of mail (mail_prefs: no row means on, so a
 * new kind reaches everyone until they say otherwise) and the practices
 * each person follows (follows: their weekly digest).  outbox_queue reads
 * the switches in the statement that queues, so a switch turned off here
 * stops the next message, not only the next send.  The one-click
 * unsubscribe that turns a switch off from a mail is outbox.c's; what a
 * link would do, asked without doing it (its page), is here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "catalogue_sql.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/outbox.h"

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

/* A person follows at most this many practices listed on their account:
 * a district's list is tens, not thousands. */
#define FOLLOWS_MAX 1000
/* A secret longer than this is not one of ours (they are 43 characters). */
#define UNSUB_SECRET_MAX 128

static int prepare(struct kd_db *db, const char *sql, struct kd_stmt **st)
{
	if (db_stmt(db, sql, st) < 0) {
		log_error("mail", "%s", db_errmsg(db));
		return KD_EDB;
	}
	return 0;
}

int mail_prefs_get(struct kd_db *db, int64_t user_id, bool on[MAIL_KIND_COUNT])
{
	for (int k = 0; k < MAIL_KIND_COUNT; k++)
		on[k] = true;
	struct kd_stmt *st;
	int rc = prepare(db, "SELECT kind, enabled FROM mail_prefs WHERE user_id = ?1", &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, user_id);
	int s;
	while ((s = db_step(st)) == DB_ROW) {
		enum mail_kind k;
		/* a kind this binary does not know (a newer node wrote it) is
		 * not ours to show */
		if (mail_kind_parse((const char *)db_column_text(st, 0), &k) == 0)
			on[k] = db_column_int(st, 1) != 0;
	}
	db_stmt_done(st);
	if (s != DB_DONE) {
		log_error("mail", "cannot read the mail switches of user %lld: %s",
		          (long long)user_id, db_errmsg(db));
		return db_err_code(s);
	}
	return 0;
}

int mail_prefs_set(struct kd_db *db, int64_t user_id, enum mail_kind kind, bool on)
{
	if ((unsigned)kind >= MAIL_KIND_COUNT)
		return KD_EINVAL;
	struct kd_stmt *st;
	int rc = prepare(db,
	                 "INSERT INTO mail_prefs (user_id, kind, enabled) VALUES (?1, ?2, ?3) "
	                 "ON CONFLICT (user_id, kind) DO UPDATE SET enabled = excluded.enabled, "
	                 "updated_at = " NOW_SQL " WHERE mail_prefs.enabled <> excluded.enabled",
	                 &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, user_id);
	db_bind_text(st, 2, mail_kind_name(kind), -1, DB_STATIC);
	db_bind_int(st, 3, on ? 1 : 0);
	int s = db_step(st);
	db_stmt_done(st);
	if (s != DB_DONE) {
		log_error("mail", "cannot save the %s switch of user %lld: %s", mail_kind_name(kind),
		          (long long)user_id, db_errmsg(db));
		/* the person was deleted meanwhile */
		return s == DB_CONSTRAINT_FOREIGNKEY ? KD_ENOTFOUND : db_err_code(s);
	}
	return 0;
}

int follow_set(struct kd_db *db, const struct kd_user *user, const char *slug, bool on,
               char *err, size_t errlen)
{
	int64_t pid;
	int rc = cat_slug_valid(slug) ? cat_slug_id(db, CAT_PRACTICES, slug, &pid) : KD_ENOTFOUND;
	if (rc == KD_ENOTFOUND)
		return cat_unknown_slug(db, rc, CAT_PRACTICES, slug, err, errlen);
	if (rc < 0) {
		snprintf(err, errlen, "the catalogue could not be read; try again in a moment");
		return rc;
	}
	struct kd_stmt *st;
	rc = prepare(db,
	             on ? "INSERT INTO follows (user_id, practice_id) VALUES (?1, ?2) "
	                  "ON CONFLICT DO NOTHING"
	                : "DELETE FROM follows WHERE user_id = ?1 AND practice_id = ?2",
	             &st);
	if (rc < 0) {
		snprintf(err, errlen, "the catalogue could not be changed; try again in a moment");
		return rc;
	}
	db_bind_int64(st, 1, user->id);
	db_bind_int64(st, 2, pid);
	int s = db_step(st);
	db_stmt_done(st);
	if (s != DB_DONE) {
		log_error("mail", "cannot %s %s for user %lld: %s", on ? "follow" : "unfollow", slug,
		          (long long)user->id, db_errmsg(db));
		if (s == DB_CONSTRAINT_FOREIGNKEY) { /* merged or deleted meanwhile */
			snprintf(err, errlen, "the practice '%.64s' was just removed; reload the page",
			         slug);
			return KD_ENOTFOUND;
		}
		snprintf(err, errlen, "the catalogue could not be changed; try again in a moment");
		return db_err_code(s);
	}
	return 0;
}

bool follow_get(struct kd_db *db, const struct kd_user *user, const char *slug)
{
	struct kd_stmt *st;
	if (prepare(db,
	            "SELECT 1 FROM follows f JOIN practices p ON p.id = f.practice_id "
	            "WHERE f.user_id = ?1 AND p.slug = ?2",
	            &st) < 0)
		return false;
	db_bind_int64(st, 1, user->id);
	db_bind_text(st, 2, slug, -1, DB_STATIC);
	bool yes = db_step(st) == DB_ROW;
	db_stmt_done(st);
	return yes;
}

int follow_list(struct kd_db *db, int64_t user_id, struct cat_practice **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct kd_stmt *st;
	int rc = prepare(db,
	                 "SELECT p.id, p.slug, p.name, p.retired_at FROM follows f "
	                 "JOIN practices p ON p.id = f.practice_id WHERE f.user_id = ?1 "
	                 "ORDER BY p.name, p.slug LIMIT ?2",
	                 &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, user_id);
	db_bind_int(st, 2, FOLLOWS_MAX);
	size_t cap = 0;
	int s;
	while ((s = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = kd_realloc(*out, cap * sizeof **out);
		}
		struct cat_practice *p = &(*out)[(*n)++];
		memset(p, 0, sizeof *p);
		p->id = db_column_int64(st, 0);
		p->slug = cat_col_dup(st, 1);
		p->name = cat_col_dup(st, 2);
		p->description = kd_strdup("");
		p->retired_at = cat_col_dup(st, 3);
	}
	db_stmt_done(st);
	if (s != DB_DONE) {
		log_error("mail", "cannot list the follows of user %lld: %s", (long long)user_id,
		          db_errmsg(db));
		cat_practices_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_err_code(s);
	}
	return 0;
}

int outbox_unsubscribe_peek(struct kd_db *db, int64_t id, const char *secret,
                            enum mail_kind *kind, bool *used)
{
	size_t len = secret ? strnlen(secret, UNSUB_SECRET_MAX + 1) : 0;
	if (id <= 0 || len == 0 || len > UNSUB_SECRET_MAX)
		return KD_ENOTFOUND;
	/* the hash outbox_unsubscribe compares: BLAKE2b of the secret's text */
	unsigned char want[32];
	crypto_generichash(want, sizeof want, (const unsigned char *)secret, len, NULL, 0);
	struct kd_stmt *st;
	int rc = prepare(db, "SELECT kind, unsub_hash, unsub_used_at FROM outbox WHERE id = ?1", &st);
	if (rc < 0)
		return rc;
	db_bind_int64(st, 1, id);
	int s = db_step(st);
	if (s == DB_ROW) {
		const void *have = db_column_blob(st, 1);
		/* compared in constant time, as outbox_unsubscribe does */
		if (!have || db_column_bytes(st, 1) != (int)sizeof want ||
		    sodium_memcmp(have, want, sizeof want) != 0 ||
		    mail_kind_parse((const char *)db_column_text(st, 0), kind) < 0)
			rc = KD_ENOTFOUND;
		else
			*used = db_column_type(st, 2) != DB_NULL;
	} else {
		rc = s == DB_DONE ? KD_ENOTFOUND : db_err_code(s);
	}
	db_stmt_done(st);
	return rc;
}
