/* roster.c - a roster (roster_read.c) against the catalogue: the plan
 * (roster_plan.c) carried out in one transaction, and the report of it
 * (roster.h).
 *
 * The catalogue's schools and accounts are loaded once into memory and the
 * whole plan is made there; only then is anything written, with a few
 * prepared statements reused row after row, so a district of thousands
 * imports in one short transaction on either engine. */
#include "kindling/roster.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity/roster_plan.h"
#include "identity/roster_report.h"
#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/mem.h"

/* ------------------------------------------------------------------ carrying it out */

static int step_done(struct kd_stmt *st, int64_t *id)
{
	int rc = db_step(st);
	if (id && rc == DB_ROW)
		*id = db_column_int64(st, 0);
	int ok = id ? rc == DB_ROW : rc == DB_DONE;
	db_reset(st);
	db_clear_bindings(st);
	return ok ? 0 : (db_err(rc) ? db_err(rc) : KD_EDB);
}

static void bind_text_or_null(struct kd_stmt *st, int i, const char *s)
{
	if (s)
		db_bind_text(st, i, s, -1, DB_STATIC);
	else
		db_bind_null(st, i);
}

static void bind_id_or_null(struct kd_stmt *st, int i, int64_t id)
{
	if (id)
		db_bind_int64(st, i, id);
	else
		db_bind_null(st, i);
}

static const char *const sql_school_add =
	"INSERT INTO schools (slug, name, district, sourced_id) VALUES (?1, ?2, ?3, ?4) RETURNING id";
static const char *const sql_school_set =
	"UPDATE schools SET name = ?2, district = ?3, sourced_id = ?4 WHERE id = ?1";
static const char *const sql_email_free = "UPDATE users SET email = NULL WHERE id = ?1";
static const char *const sql_user_set =
	"UPDATE users SET full_name = ?2, email = ?3, school_id = ?4, role = ?5, sourced_id = ?6 "
	"WHERE id = ?1";
static const char *const sql_user_add =
	"INSERT INTO users (name, role, school_id, email, full_name, sourced_id, role_by) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'roster') RETURNING id";
static const char *const sql_disable =
	"UPDATE users SET disabled = 1, disabled_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "
	"disabled_by = 'roster' WHERE id = ?1";
static const char *const sql_end_sessions = "DELETE FROM sessions WHERE user_id = ?1";
static const char *const sql_end_tokens = "DELETE FROM tokens WHERE user_id = ?1";
static const char *const sql_enable =
	"UPDATE users SET disabled = 0, disabled_at = NULL, disabled_by = NULL WHERE id = ?1";

/* What a failed write was about, for the message. */
struct doing {
	const char *file;
	long row;
	const char *sid;
};

static int execute(struct kd_db *db, struct ctx *c, struct doing *at)
{
	struct kd_stmt *st = NULL;
	int rc = 0;
	const struct roster *r = c->r;
	/* schools first: people refer to them */
	if ((rc = db_stmt(db, sql_school_add, &st)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < c->p.n_schools; i++) {
		struct plan_school *s = &c->p.schools[i];
		if (s->have >= 0 || s->org < 0)
			continue;
		*at = (struct doing){"orgs.csv", r->orgs[s->org].row, r->orgs[s->org].sourced_id};
		db_bind_text(st, 1, s->slug, -1, DB_STATIC);
		db_bind_text(st, 2, s->name, -1, DB_STATIC);
		db_bind_text(st, 3, s->district ? s->district : "", -1, DB_STATIC);
		db_bind_text(st, 4, r->orgs[s->org].sourced_id, -1, DB_STATIC);
		rc = step_done(st, &s->id);
	}
	db_stmt_done(st);
	if (rc == 0 && (rc = db_stmt(db, sql_school_set, &st)) == 0) {
		for (size_t i = 0; rc == 0 && i < c->p.n_schools; i++) {
			struct plan_school *s = &c->p.schools[i];
			if (s->have < 0 || s->org < 0 ||
			    !(s->adopted || s->name_changes || s->district_changes))
				continue;
			const struct have_school *h = &c->h.schools[s->have];
			*at = (struct doing){"orgs.csv", r->orgs[s->org].row, r->orgs[s->org].sourced_id};
			db_bind_int64(st, 1, s->id);
			db_bind_text(st, 2, s->name, -1, DB_STATIC);
			db_bind_text(st, 3, s->district ? s->district : h->district ? h->district : "", -1,
			             DB_STATIC);
			db_bind_text(st, 4, r->orgs[s->org].sourced_id, -1, DB_STATIC);
			rc = step_done(st, NULL);
		}
		db_stmt_done(st);
	}
	/* Addresses that move are let go first, so that two accounts may swap. */
	if (rc == 0 && (rc = db_stmt(db, sql_email_free, &st)) == 0) {
		for (size_t j = 0; rc == 0 && j < c->p.n_users; j++) {
			struct plan_user *u = &c->p.users[j];
			if (u->skip || u->have < 0 || roster_same(u->email, c->h.users[u->have].email))
				continue;
			*at = (struct doing){"users.csv", r->people[j].row, r->people[j].sourced_id};
			db_bind_int64(st, 1, c->h.users[u->have].id);
			rc = step_done(st, NULL);
		}
		db_stmt_done(st);
	}
	if (rc == 0 && (rc = db_stmt(db, sql_user_set, &st)) == 0) {
		for (size_t j = 0; rc == 0 && j < c->p.n_users; j++) {
			struct plan_user *u = &c->p.users[j];
			if (u->skip || u->have < 0 || !roster_user_changes(c, u))
				continue;
			const struct have_user *h = &c->h.users[u->have];
			*at = (struct doing){"users.csv", r->people[j].row, r->people[j].sourced_id};
			db_bind_int64(st, 1, h->id);
			db_bind_text(st, 2, u->full_name, -1, DB_STATIC);
			bind_text_or_null(st, 3, u->email);
			bind_id_or_null(st, 4, roster_school_id(c, u->school));
			db_bind_text(st, 5, roster_role_changes(c, u) ? u->role : h->role, -1, DB_STATIC);
			db_bind_text(st, 6, r->people[j].sourced_id, -1, DB_STATIC);
			rc = step_done(st, NULL);
		}
		db_stmt_done(st);
	}
	if (rc == 0 && (rc = db_stmt(db, sql_user_add, &st)) == 0) {
		for (size_t j = 0; rc == 0 && j < c->p.n_users; j++) {
			struct plan_user *u = &c->p.users[j];
			if (u->skip || u->have >= 0)
				continue;
			*at = (struct doing){"users.csv", r->people[j].row, r->people[j].sourced_id};
			db_bind_text(st, 1, u->name, -1, DB_STATIC);
			db_bind_text(st, 2, u->role, -1, DB_STATIC);
			bind_id_or_null(st, 3, roster_school_id(c, u->school));
			bind_text_or_null(st, 4, u->email);
			db_bind_text(st, 5, u->full_name, -1, DB_STATIC);
			db_bind_text(st, 6, r->people[j].sourced_id, -1, DB_STATIC);
			rc = step_done(st, &u->id);
		}
		db_stmt_done(st);
	}
	/* Disabling ends the person's sessions and tokens in the same
	 * transaction: one who comes back gets new ones, and a leaver's token
	 * left on a laptop never works again. */
	struct kd_stmt *end = NULL, *end_tokens = NULL;
	if (rc == 0 && (rc = db_stmt(db, sql_disable, &st)) == 0) {
		if ((rc = db_stmt(db, sql_end_sessions, &end)) == 0 &&
		    (rc = db_stmt(db, sql_end_tokens, &end_tokens)) == 0) {
			size_t total = c->p.n_users + c->p.n_missing;
			for (size_t k = 0; rc == 0 && k < total; k++) {
				int64_t id;
				if (k < c->p.n_users) {
					struct plan_user *u = &c->p.users[k];
					if (u->skip || !u->disable)
						continue;
					id = c->h.users[u->have].id;
					*at = (struct doing){"users.csv", r->people[k].row, r->people[k].sourced_id};
				} else {
					id = c->h.users[c->p.missing[k - c->p.n_users]].id;
					*at = (struct doing){NULL, 0, NULL};
				}
				db_bind_int64(st, 1, id);
				if ((rc = step_done(st, NULL)) == 0) {
					db_bind_int64(end, 1, id);
					rc = step_done(end, NULL);
				}
				if (rc == 0) {
					db_bind_int64(end_tokens, 1, id);
					rc = step_done(end_tokens, NULL);
				}
			}
		}
		db_stmt_done(end_tokens);
		db_stmt_done(end);
		db_stmt_done(st);
	}
	if (rc == 0 && (rc = db_stmt(db, sql_enable, &st)) == 0) {
		for (size_t j = 0; rc == 0 && j < c->p.n_users; j++) {
			struct plan_user *u = &c->p.users[j];
			if (u->skip || !u->enable)
				continue;
			*at = (struct doing){"users.csv", r->people[j].row, r->people[j].sourced_id};
			db_bind_int64(st, 1, c->h.users[u->have].id);
			rc = step_done(st, NULL);
		}
		db_stmt_done(st);
	}
	return rc;
}

/* ------------------------------------------------------------------ the plan as a report */

static struct roster_entry *person_entry(struct roster_list *l, const struct ctx *c,
                                         const struct plan_user *u)
{
	const struct roster_person *x = &c->r->people[u->person];
	const struct have_user *h = u->have >= 0 ? &c->h.users[u->have] : NULL;
	struct roster_entry *e = roster_list_add(l);
	e->id = h ? h->id : u->id;
	e->sourced_id = kd_strdup(x->sourced_id);
	e->name = kd_strdup(h ? h->name : u->name);
	e->full_name = kd_strdup(u->full_name);
	e->email = roster_dup_or_null(u->email);
	e->role = kd_strdup(h && !roster_role_changes(c, u) ? h->role : u->role);
	e->school = roster_dup_or_null(roster_school_slug(c, u->school));
	e->row = x->row;
	return e;
}

static void fill_report(struct ctx *c)
{
	struct roster_report *rep = c->rep;
	const struct roster *r = c->r;
	free(rep->district);
	rep->district = roster_dup_or_null(c->p.district);
	for (size_t i = 0; i < c->p.n_schools; i++) {
		const struct plan_school *s = &c->p.schools[i];
		if (s->org < 0)
			continue;
		const struct roster_org *o = &r->orgs[s->org];
		const struct have_school *h = s->have >= 0 ? &c->h.schools[s->have] : NULL;
		if (h && !s->adopted && !s->name_changes && !s->district_changes) {
			rep->schools_unchanged += !o->deleted;
			continue;
		}
		struct roster_entry *e = roster_list_add(h ? &rep->schools_changed : &rep->schools_added);
		e->is_school = true;
		e->id = s->id;
		e->sourced_id = kd_strdup(o->sourced_id);
		e->name = kd_strdup(s->slug);
		e->full_name = kd_strdup(s->name);
		e->row = o->row;
		e->reason = roster_dup_or_null(s->adopted);
		if (!h)
			continue;
		if (s->adopted)
			roster_entry_field(e, "sourcedId", NULL, o->sourced_id);
		if (s->name_changes)
			roster_entry_field(e, "name", h->name, s->name);
		if (s->district_changes)
			roster_entry_field(e, "district", h->district, s->district);
	}
	for (size_t j = 0; j < c->p.n_users; j++) {
		const struct plan_user *u = &c->p.users[j];
		if (u->skip)
			continue;
		if (u->have < 0) {
			person_entry(&rep->added, c, u);
			continue;
		}
		const struct have_user *h = &c->h.users[u->have];
		bool changed = roster_user_changes(c, u);
		if (changed) {
			struct roster_entry *e = person_entry(&rep->changed, c, u);
			if (u->adopt) {
				e->reason = kd_strdup("adopted the account made in kindling with this e-mail "
				                      "address");
				roster_entry_field(e, "sourcedId", NULL, r->people[j].sourced_id);
			}
			if (strcmp(u->full_name, h->full_name) != 0)
				roster_entry_field(e, "full_name", h->full_name, u->full_name);
			if (!roster_same(u->email, h->email))
				roster_entry_field(e, "email", h->email, u->email);
			if (roster_school_changes(c, u))
				roster_entry_field(e, "school", roster_have_slug(c, h->school_id), roster_school_slug(c, u->school));
			if (roster_role_changes(c, u))
				roster_entry_field(e, "role", h->role, u->role);
		}
		if (strcmp(h->role, u->role) != 0 && !h->role_by_roster) {
			struct roster_entry *e = person_entry(&rep->kept, c, u);
			e->reason = kd_asprintf("kept role %s (given in kindling); the roster says %s",
			                        h->role, u->role);
		}
		if (u->disable)
			person_entry(&rep->disabled, c, u)->reason = kd_strdup(u->why);
		if (u->enable)
			person_entry(&rep->enabled, c, u)->reason = kd_strdup("enabled in the roster");
		if (u->stays_off)
			person_entry(&rep->kept, c, u)->reason =
				kd_strdup("kept disabled (an admin disabled the account in kindling; enable "
				          "it there if the roster is right)");
		if (!changed && !u->disable && !u->enable)
			rep->unchanged++;
	}
	for (size_t k = 0; k < c->p.n_missing; k++) {
		const struct have_user *h = &c->h.users[c->p.missing[k]];
		struct roster_entry *e = roster_list_add(&rep->disabled);
		e->id = h->id;
		e->sourced_id = roster_dup_or_null(h->sourced_id);
		e->name = kd_strdup(h->name);
		e->full_name = kd_strdup(h->full_name);
		e->email = roster_dup_or_null(h->email);
		e->role = kd_strdup(h->role);
		e->school = roster_dup_or_null(roster_have_slug(c, h->school_id));
		e->reason = kd_strdup("not in users.csv (--disable-missing)");
	}
	for (size_t i = 0; i < r->n_skipped; i++)
		roster_report_skip(rep, r->skipped[i].reason, r->skipped[i].n);
	long warned = 0, disabled_new = 0, deleted_orgs = 0;
	for (size_t j = 0; j < c->p.n_users; j++) {
		warned += c->p.users[j].skip == SKIP_WARNED;
		disabled_new += c->p.users[j].skip == SKIP_DISABLED_NEW;
	}
	for (size_t i = 0; i < r->n_orgs; i++)
		deleted_orgs += r->orgs[i].deleted && !strcmp(r->orgs[i].type, "school") &&
		                c->school_of_org[i] < 0;
	roster_report_skip(rep, "not imported (see the warnings)", warned);
	roster_report_skip(rep, "disabled, not in kindling", disabled_new);
	roster_report_skip(rep, "org tobedeleted", deleted_orgs);
}

static int run(struct kd_db *db, const struct roster *r, const struct roster_opts *opts,
               struct roster_report *rep, bool write)
{
	roster_report_reset(rep);
	if (!rep->source)
		rep->source = roster_dup_or_null(r->source);
	rep->dry_run = !write;
	rep->delta = r->orgs_delta || r->users_delta;
	struct ctx c = {.r = r, .opts = opts, .rep = rep};
	int rc;
	if (write && (rc = db_begin(db)) < 0) {
		roster_report_error(rep, NULL, 0, NULL,
		                    rc == KD_EBUSY ? "the catalogue stayed locked by another writer: try "
		                                     "again in a moment"
		                                   : "cannot start writing to the catalogue: %s",
		                    db_errmsg(db));
		return rc;
	}
	rc = roster_make_plan(db, &c);
	if (rc == 0) {
		fill_report(&c);
		if (write && roster_report_changes(rep)) {
			struct doing at = {0};
			rc = execute(db, &c, &at);
			if (rc < 0) {
				rc = rc == KD_EBUSY ? KD_EBUSY : KD_EDB;
				roster_report_error(rep, at.file, at.row, at.sid,
				                    "the catalogue refused a change (%s): nothing was imported",
				                    db_errmsg(db));
			} else if ((rc = db_commit(db)) < 0) {
				roster_report_error(rep, NULL, 0, NULL,
				                    "cannot commit the import (%s): nothing was imported",
				                    db_errmsg(db));
			} else {
				rep->applied = true;
				/* again, with the new rows' ids */
				roster_report_clear(rep);
				fill_report(&c);
			}
		} else if (write) {
			db_rollback(db); /* nothing to write: no commit to tell servers of */
			rep->applied = true;
		}
	}
	if (rc < 0 && write && db_in_transaction(db))
		db_rollback(db);
	roster_ctx_free(&c);
	return rc;
}

int roster_plan(struct kd_db *db, const struct roster *r, const struct roster_opts *opts,
                struct roster_report *rep)
{
	return run(db, r, opts, rep, false);
}

int roster_apply(struct kd_db *db, const struct roster *r, const struct roster_opts *opts,
                 struct roster_report *rep)
{
	return run(db, r, opts, rep, !opts->dry_run);
}
