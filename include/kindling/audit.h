/*
 * audit.h - the audit trail: who did what to which clip or account, and
 * when (schema/010_governance.sql).
 *
 * Append-only: entries are added here and read here; nothing changes one
 * (the catalogue refuses it), and only audit_prune removes entries, those
 * older than the audit_months setting.  An entry names its person and clip
 * by id AND by words (user_name, detail), so it still says who and what
 * once the account or the clip is gone.
 *
 * Actions are fixed words (AUDIT_* below); scripts and the privacy
 * officer's reports filter on them.  Writing an entry is part of what an
 * action does: a caller that cannot record it logs that it could not, and
 * says so to nobody else (the action itself has happened).
 */
#ifndef KINDLING_AUDIT_H
#define KINDLING_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/users.h"

struct kd_db; /* db.h */

#define AUDIT_OPEN "open"                    /* watched a clip (once a person, clip and day) */
#define AUDIT_ORIGINAL "download-original"   /* an admin took the original file */
#define AUDIT_CONSENT "consent"              /* consent set, changed or withdrawn */
#define AUDIT_VISIBILITY "visibility"
#define AUDIT_BLUR "blur"                    /* blur regions set */
#define AUDIT_EDIT "edit"                    /* any other change of a clip's record */
#define AUDIT_DELETE "delete"
#define AUDIT_HOLD "hold"                    /* legal hold set or lifted */
#define AUDIT_SIGN_IN "sign-in"
#define AUDIT_SIGN_IN_FAILED "sign-in-failed"
#define AUDIT_ROSTER "roster-import"
#define AUDIT_TOKEN_ADD "token-add"
#define AUDIT_TOKEN_REVOKE "token-revoke"
#define AUDIT_VISIT_ANSWER "visit-answer"
#define AUDIT_USER "user-change"             /* an account made, its role, disabled, enabled */
#define AUDIT_RETENTION "retention"          /* kindling's own: a clip past its time */

/* Who acted: a person (their id and name at the time), or kindling itself
 * (id 0, name ""); ip is the client's address, "" when not over HTTP. */
struct audit_actor {
	int64_t user_id;
	const char *user_name;
	const char *ip;
};
/* The actor for a signed-in user. */
struct audit_actor audit_actor_of(const struct kd_user *user, const char *ip);

/* Add an entry.  clip_id 0: not about a clip; target and detail may be
 * NULL (each is cut at 1000 bytes).  Returns 0 or KD_EDB, and logs the
 * entry it could not write. */
int audit_add(struct kd_db *db, const struct audit_actor *who, const char *action,
              int64_t clip_id, const char *target, const char *detail);

/* A person opened a clip: an entry the first time today (UTC) that this
 * person opened it, and nothing the other times.  Cheap when repeated (a
 * video is many Range requests): what this process has recorded is
 * remembered, and the catalogue asked only once per person, clip and day. */
int audit_opened(struct kd_db *db, const struct audit_actor *who, int64_t clip_id);

struct audit_entry {
	int64_t id;
	const char *at; /* YYYY-MM-DDTHH:MM:SSZ */
	int64_t user_id;
	const char *user_name, *action;
	int64_t clip_id;
	const char *target, *detail, *ip;
};

/* Which entries: each field narrows; NULL / 0 means any. */
struct audit_filter {
	const char *from, *to; /* YYYY-MM-DD, both days included */
	const char *user;      /* an account name (case-insensitive) */
	int64_t clip_id;
	const char *action;
	bool newest_first;     /* else oldest first (exports) */
	int64_t before_id;     /* only entries with a smaller id (the next page, newest first) */
	int64_t after_id;      /* only entries with a larger id (the next chunk, oldest first:
	                        * an export streamed a piece at a time) */
	int64_t limit;         /* at most this many; 0: all */
};

/* Check a filter's dates and action: KD_EINVAL with a sentence. */
int audit_filter_check(const struct audit_filter *f, char *err, size_t errlen);

/* Call fn for each entry that matches, in order, with strings valid for
 * the call only; fn returns non-zero to stop (that value is returned).
 * Memory does not grow with the number of entries.  Returns 0, fn's code,
 * KD_EINVAL (bad filter, with err) or KD_EDB. */
int audit_each(struct kd_db *db, const struct audit_filter *f,
               int (*fn)(void *arg, const struct audit_entry *e), void *arg, char *err,
               size_t errlen);

/* Is action one of the words above? */
bool audit_action_known(const char *action);
/* Every action word, for forms and help. */
extern const char *const audit_actions[];
extern const size_t audit_actions_count;

/* Remove entries older than months (at least 12).  *removed counts them.
 * Returns 0, KD_EINVAL or KD_EDB. */
int audit_prune(struct kd_db *db, int months, int64_t *removed);

/* ---- added for the audit call sites, the exports and the daily prune ---- */

/* A failed sign-in (nobody signed in): name is the name or address tried
 * ("" when not known), why says what was wrong, never a password; ip the
 * client's.  Bounded, so that a flood of failures cannot fill the disk:
 * one entry per address, name and reason a minute (repeats within it are
 * not recorded), and at most AUDIT_FAILED_PER_MINUTE entries a minute in all,
 * the last of which says that more were left out (the log has each).
 * Per process.  Returns 0 (also when left out) or KD_EDB. */
#define AUDIT_FAILED_PER_MINUTE 20
int audit_sign_in_failed(struct kd_db *db, const char *ip, const char *name, const char *why);

/* The daily task's call: remove the entries older than cfg->audit_months
 * and log how many went.  Cheap when none is due (an indexed query).
 * Returns 0, KD_EINVAL (a setting under 12) or KD_EDB. */
struct kd_config; /* config.h */
int audit_prune_due(struct kd_db *db, const struct kd_config *cfg);

/* ---- audit_format.c: the words of entries, one way for every caller ---- */

struct kd_buf; /* buf.h */
/* CSV (RFC 4180, CRLF line ends): the header line
 * id,at,user_id,user,action,clip_id,target,detail,ip and one line per
 * entry.  Fields are quoted when they hold a comma, quote, CR or LF
 * (quotes doubled); one starting with = + - @ (or a tab or CR) gets a
 * leading ' so that a spreadsheet never runs it as a formula.  Return 0
 * or KD_ETOOBIG (the buffer's cap; it is left as it was). */
int audit_csv_header(struct kd_buf *b);
int audit_csv_line(struct kd_buf *b, const struct audit_entry *e);
/* One entry as a compact JSON object (no separator around it):
 * {"id","at","user_id","user","action","clip_id","target","detail","ip"},
 * user_id and clip_id null when 0.  0 or KD_ETOOBIG. */
int audit_json_entry(struct kd_buf *b, const struct audit_entry *e);

/* What changed between two states of an account, for a user-change
 * entry's detail: "role teacher -> coach; school (none) -> east-high;
 * disabled"... into out ("" when nothing did). */
struct acct_person; /* accounts.h */
void audit_person_changes(const struct acct_person *was, const struct acct_person *now,
                          char *out, size_t len);
/* A token as a token entry's target: "OWNER: LABEL (#ID)", never its
 * secret.  owner: the account it must be of (0: anyone's).  0,
 * KD_ENOTFOUND or KD_EDB (out then "token #ID"). */
int audit_token_words(struct kd_db *db, int64_t owner, int64_t token_id, char *out, size_t len);

#endif
