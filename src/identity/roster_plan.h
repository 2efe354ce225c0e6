/*
 * roster_plan.h - the roster import's plan (private to src/identity/):
 * the catalogue's schools and accounts as they are (loaded once), and what
 * importing a roster would do to each, row by row.  roster_plan.c makes it
 * without writing; roster.c carries it out and reports it.
 */
#ifndef KINDLING_IDENTITY_ROSTER_PLAN_H
#define KINDLING_IDENTITY_ROSTER_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "identity/roster_util.h"
#include "kindling/roster.h"

struct kd_db;

struct have_school {
	int64_t id;
	char *slug, *name, *district, *sourced_id;
	bool taken; /* matched or adopted by an org of this roster */
};

struct have_user {
	int64_t id;
	char *name, *role, *email, *full_name, *sourced_id;
	int64_t school_id;
	bool role_by_roster, disabled;
	bool disabled_here; /* disabled by an admin in kindling: the roster does not undo it */
	int matched; /* the plan's person, or -1 */
};

struct have {
	struct have_school *schools;
	size_t n_schools;
	struct have_user *users;
	size_t n_users;
};

struct plan_school {
	long org;           /* in the roster's orgs; -1 for a school only referred to */
	int have;           /* in have.schools, or -1: new */
	char *slug;
	const char *name;
	const char *district; /* NULL: leave it */
	const char *adopted;  /* why a school made in kindling is adopted, or NULL */
	bool name_changes, district_changes;
	int64_t id;
};

enum skip { IMPORT, SKIP_WARNED, SKIP_DISABLED_NEW };

struct plan_user {
	size_t person;
	int have;           /* in have.users, or -1: new */
	enum skip skip;     /* not imported: a warning says why, or disabled and new */
	char *name;         /* new accounts: the name made for them */
	const char *role;   /* the kindling role the roster gives */
	int school;         /* plan_school, or -1 */
	char *email;        /* what the account's address will be */
	char *full_name;
	bool adopt;
	bool disable, enable;
	bool stays_off;     /* enabled in the roster, disabled by an admin: stays disabled */
	const char *why;    /* disabled: why */
	int64_t id;
};

struct plan {
	struct plan_school *schools;
	size_t n_schools;
	struct plan_user *users;
	size_t n_users;
	int *missing; /* have.users to disable as absent */
	size_t n_missing;
	const char *district;
};

struct ctx {
	const struct roster *r;
	const struct roster_opts *opts;
	struct roster_report *rep;
	struct have h;
	struct plan p;
	struct smap org_by_id;      /* roster org sourcedId -> index */
	int *school_of_org;         /* roster org -> plan school, or -1 */
	struct smap school_by_sid;  /* catalogue school sourced_id -> have */
	struct smap user_by_sid;    /* catalogue user sourced_id -> have */
	struct smap school_by_id;   /* catalogue school id (decimal) -> have */
	bool refused;
};

/* Load the catalogue and plan c->r against it (c->r, opts and rep set by
 * the caller; nothing written).  Returns 0, KD_EINVAL (the roster cannot
 * be imported: rep->errors says why) or KD_EDB. */
int roster_make_plan(struct kd_db *db, struct ctx *c);
void roster_ctx_free(struct ctx *c);
/* Plan school s's catalogue id (0: not yet added) and slug; a catalogue
 * school's slug by id; whether a person's school, role or anything at all
 * changes. */
int64_t roster_school_id(const struct ctx *c, int s);
const char *roster_school_slug(const struct ctx *c, int s);
const char *roster_have_slug(const struct ctx *c, int64_t id);
bool roster_school_changes(const struct ctx *c, const struct plan_user *u);
bool roster_role_changes(const struct ctx *c, const struct plan_user *u);
bool roster_user_changes(const struct ctx *c, const struct plan_user *u);

#endif
