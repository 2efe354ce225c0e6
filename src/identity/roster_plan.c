/* roster_plan.c - what importing a roster would do (roster_plan.h): the
 * catalogue's schools and accounts loaded once into memory, then every
 * school and person of the roster matched (by sourcedId, else adopted by
 * slug or e-mail address), named, placed and given a role there, and the
 * leavers found.  Writes nothing: roster.c carries the plan out. */
#include "identity/roster_plan.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity/roster_report.h"
#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/mem.h"

#define NAME_MAX_CHARS 100      /* users.name */
#define FULL_NAME_MAX_CHARS 200 /* users.full_name, as the account pages take it */

/* ------------------------------------------------------------------ the catalogue as it is */




static char *col_dup(struct kd_stmt *st, int col)
{
	const unsigned char *s = db_column_text(st, col);
	return s ? kd_strdup((const char *)s) : NULL;
}

static void have_free(struct have *h)
{
	for (size_t i = 0; i < h->n_schools; i++) {
		struct have_school *s = &h->schools[i];
		free(s->slug);
		free(s->name);
		free(s->district);
		free(s->sourced_id);
	}
	free(h->schools);
	for (size_t i = 0; i < h->n_users; i++) {
		struct have_user *u = &h->users[i];
		free(u->name);
		free(u->role);
		free(u->email);
		free(u->full_name);
		free(u->sourced_id);
	}
	free(h->users);
	memset(h, 0, sizeof *h);
}

static int load(struct kd_db *db, struct have *h, struct roster_report *rep)
{
	struct kd_stmt *st;
	int rc;
	if (db_prepare(db, "SELECT id, slug, name, district, sourced_id FROM schools ORDER BY id",
	               &st) != DB_OK)
		goto fail;
	size_t cap = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (h->n_schools == cap)
			h->schools = kd_realloc(h->schools, (cap = cap ? cap * 2 : 64) * sizeof *h->schools);
		h->schools[h->n_schools++] = (struct have_school){
			.id = db_column_int64(st, 0),
			.slug = col_dup(st, 1),
			.name = col_dup(st, 2),
			.district = col_dup(st, 3),
			.sourced_id = col_dup(st, 4),
		};
	}
	db_finalize(st);
	if (rc != DB_DONE)
		goto fail;
	if (db_prepare(db, "SELECT id, name, role, coalesce(school_id, 0), email, full_name, "
	                   "sourced_id, role_by, disabled, disabled_by FROM users ORDER BY id",
	                   &st) != DB_OK)
		goto fail;
	cap = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (h->n_users == cap)
			h->users = kd_realloc(h->users, (cap = cap ? cap * 2 : 256) * sizeof *h->users);
		const unsigned char *by = db_column_text(st, 7), *off_by = db_column_text(st, 9);
		bool off = db_column_int64(st, 8) != 0;
		h->users[h->n_users++] = (struct have_user){
			.id = db_column_int64(st, 0),
			.name = col_dup(st, 1),
			.role = col_dup(st, 2),
			.school_id = db_column_int64(st, 3),
			.email = col_dup(st, 4),
			.full_name = col_dup(st, 5),
			.sourced_id = col_dup(st, 6),
			.role_by_roster = by && !strcmp((const char *)by, "roster"),
			.disabled = off,
			/* (disabled before anyone recorded who: an admin did, then) */
			.disabled_here = off && (!off_by || strcmp((const char *)off_by, "roster") != 0),
			.matched = -1,
		};
	}
	db_finalize(st);
	if (rc != DB_DONE)
		goto fail;
	return 0;
fail:
	roster_report_error(rep, NULL, 0, NULL, "cannot read the catalogue: %s", db_errmsg(db));
	return KD_EDB;
}

/* ------------------------------------------------------------------ the plan */





static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n_schools; i++)
		free(p->schools[i].slug);
	free(p->schools);
	for (size_t i = 0; i < p->n_users; i++) {
		free(p->users[i].name);
		free(p->users[i].email);
		free(p->users[i].full_name);
	}
	free(p->users);
	free(p->missing);
	memset(p, 0, sizeof *p);
}

static int add_school(struct plan *p, long org, int have)
{
	p->schools = kd_realloc(p->schools, (p->n_schools + 1) * sizeof *p->schools);
	p->schools[p->n_schools] = (struct plan_school){.org = org, .have = have};
	return (int)p->n_schools++;
}

/* A slug not in slugs: base, else base-2, base-3... (cut to fit).  tried
 * remembers the last number tried for each base, so that many schools of
 * one name cost no more than as many different ones. */
static char *unique_slug(const char *base, struct smap *slugs, struct smap *tried)
{
	char s[SLUG_MAX + 1];
	snprintf(s, sizeof s, "%s", *base ? base : "school");
	int from = smap_get(tried, s);
	for (int n = from > 2 ? from : 2; smap_get(slugs, s) >= 0; n++) {
		smap_put(tried, *base ? base : "school", n);
		char tail[16];
		int tl = snprintf(tail, sizeof tail, "-%d", n);
		size_t keep = strlen(*base ? base : "school");
		if (keep > (size_t)(SLUG_MAX - tl))
			keep = (size_t)(SLUG_MAX - tl);
		snprintf(s, sizeof s, "%.*s%s", (int)keep, *base ? base : "school", tail);
	}
	smap_put(slugs, s, 1);
	return kd_strdup(s);
}

/* A name not in names (folded): base, else base-2, base-3... within
 * NAME_MAX_CHARS characters (tried as for unique_slug). */
static char *unique_name(const char *base, struct smap *names, struct smap *tried)
{
	char *s = kd_strdup(base);
	roster_cut_chars(s, NAME_MAX_CHARS);
	int from = smap_iget(tried, base);
	for (int n = from > 2 ? from : 2; smap_iget(names, s) >= 0; n++) {
		smap_iput(tried, base, n);
		char tail[16];
		int tl = snprintf(tail, sizeof tail, "-%d", n);
		char *b = kd_strdup(base);
		roster_cut_chars(b, NAME_MAX_CHARS - (size_t)tl);
		free(s);
		s = kd_asprintf("%s%s", b, tail);
		free(b);
	}
	smap_iput(names, s, 1);
	return s;
}


static void plan_schools(struct ctx *c)
{
	const struct roster *r = c->r;
	struct smap by_slug = {0}, by_name = {0}, slugs = {0}, tried = {0};
	for (size_t i = 0; i < c->h.n_schools; i++) {
		struct have_school *s = &c->h.schools[i];
		char id[24];
		snprintf(id, sizeof id, "%lld", (long long)s->id);
		smap_put(&c->school_by_id, id, (int)i);
		smap_put(&slugs, s->slug, (int)i);
		if (s->sourced_id) {
			smap_put(&c->school_by_sid, s->sourced_id, (int)i);
		} else {
			smap_put(&by_slug, s->slug, (int)i);
			if (smap_iget(&by_name, s->name) < 0)
				smap_iput(&by_name, s->name, (int)i);
		}
	}
	/* The district: the school's parent when that is a district, else the
	 * one district org when there is exactly one. */
	const char *only = NULL;
	int districts = 0;
	for (size_t i = 0; i < r->n_orgs; i++)
		if (!strcmp(r->orgs[i].type, "district") && !r->orgs[i].deleted) {
			districts++;
			only = r->orgs[i].name;
		}
	c->p.district = districts == 1 ? only : NULL;
	c->school_of_org = kd_malloc((r->n_orgs ? r->n_orgs : 1) * sizeof *c->school_of_org);
	for (size_t i = 0; i < r->n_orgs; i++) {
		const struct roster_org *o = &r->orgs[i];
		smap_put(&c->org_by_id, o->sourced_id, (int)i);
		c->school_of_org[i] = -1;
	}
	for (size_t i = 0; i < r->n_orgs; i++) {
		const struct roster_org *o = &r->orgs[i];
		if (strcmp(o->type, "school") != 0)
			continue;
		int have = smap_get(&c->school_by_sid, o->sourced_id);
		if (o->deleted) {
			/* Schools are never deleted; one already here is still a
			 * school for its people. */
			if (have >= 0) {
				int k = add_school(&c->p, (long)i, have);
				c->p.schools[k].id = c->h.schools[have].id;
				c->p.schools[k].slug = kd_strdup(c->h.schools[have].slug);
				c->school_of_org[i] = k;
			}
			continue;
		}
		const char *district = c->p.district;
		int parent = *o->parent ? smap_get(&c->org_by_id, o->parent) : -1;
		if (parent >= 0 && !strcmp(r->orgs[parent].type, "district"))
			district = r->orgs[parent].name;
		char from_ident[SLUG_MAX + 1], from_name[SLUG_MAX + 1];
		roster_slugify(o->identifier, from_ident);
		roster_slugify(o->name, from_name);
		const char *base = roster_has_letter(from_ident) ? from_ident : from_name;
		const char *adopted = NULL;
		if (have < 0) {
			/* A school made in kindling before the roster came. */
			const char *tries[2] = {roster_has_letter(from_ident) ? from_ident : "", from_name};
			for (int t = 0; t < 2 && have < 0; t++) {
				int s = *tries[t] ? smap_get(&by_slug, tries[t]) : -1;
				if (s >= 0 && !c->h.schools[s].taken) {
					have = s;
					adopted = "adopted the school made in kindling with this slug";
				}
			}
			int s = smap_iget(&by_name, o->name);
			if (have < 0 && s >= 0 && !c->h.schools[s].taken) {
				have = s;
				adopted = "adopted the school made in kindling with this name";
			}
		}
		int k = add_school(&c->p, (long)i, have);
		struct plan_school *ps = &c->p.schools[k];
		c->school_of_org[i] = k;
		ps->name = o->name;
		ps->district = district;
		ps->adopted = adopted;
		if (have >= 0) {
			struct have_school *hs = &c->h.schools[have];
			hs->taken = true;
			ps->id = hs->id;
			ps->slug = kd_strdup(hs->slug);
			ps->name_changes = strcmp(hs->name, o->name) != 0;
			ps->district_changes = district && !roster_same(hs->district, district);
		} else {
			ps->slug = unique_slug(base, &slugs, &tried);
		}
	}
	smap_free(&by_slug);
	smap_free(&by_name);
	smap_free(&slugs);
	smap_free(&tried);
}

/* The plan school an org of the roster stands for (itself, or the school
 * a department or other org belongs to), or -1. */
static int school_of(struct ctx *c, int org)
{
	for (int depth = 0; org >= 0 && depth < 8; depth++) {
		const struct roster_org *o = &c->r->orgs[org];
		if (!strcmp(o->type, "school"))
			return c->school_of_org[org];
		if (!strcmp(o->type, "district") || !*o->parent)
			return -1;
		org = smap_get(&c->org_by_id, o->parent);
	}
	return -1;
}

/* Who each staff row is, what role and school the roster gives them. */
static void plan_people(struct ctx *c)
{
	const struct roster *r = c->r;
	for (size_t i = 0; i < c->h.n_users; i++)
		if (c->h.users[i].sourced_id)
			smap_put(&c->user_by_sid, c->h.users[i].sourced_id, (int)i);
	c->p.users = kd_calloc(r->n_people ? r->n_people : 1, sizeof *c->p.users);
	c->p.n_users = r->n_people;
	for (size_t j = 0; j < r->n_people; j++) {
		const struct roster_person *x = &r->people[j];
		struct plan_user *u = &c->p.users[j];
		u->person = j;
		u->school = -1;
		u->have = smap_get(&c->user_by_sid, x->sourced_id);
		if (u->have >= 0)
			c->h.users[u->have].matched = (int)j;
		bool at_district = false, ok = true;
		for (size_t k = 0; k < x->n_orgs; k++) {
			int org = smap_get(&c->org_by_id, x->orgs[k]);
			if (org < 0) {
				int hs = c->r->users_delta ? smap_get(&c->school_by_sid, x->orgs[k]) : -1;
				if (hs >= 0) {
					/* a delta file may name a school imported before */
					if (u->school < 0) {
						int s = add_school(&c->p, -1, hs);
						c->p.schools[s].id = c->h.schools[hs].id;
						c->p.schools[s].slug = kd_strdup(c->h.schools[hs].slug);
						u->school = s;
					}
					continue;
				}
				roster_report_error(c->rep, "users.csv", x->row, x->sourced_id,
				                    "orgSourcedIds names the org '%.100s', which is not in "
				                    "orgs.csv: export orgs.csv and users.csv together",
				                    x->orgs[k]);
				c->refused = true;
				ok = false;
				continue;
			}
			if (!strcmp(r->orgs[org].type, "district"))
				at_district = true;
			int s = school_of(c, org);
			if (u->school < 0 && s >= 0)
				u->school = s;
		}
		if (!ok)
			continue;
		if (!strcmp(x->role, "administrator"))
			u->role = at_district ? "admin" : u->school >= 0 ? "principal" : NULL;
		else
			u->role = "teacher";
		if (!u->role) {
			roster_report_warn(c->rep, "users.csv", x->row, x->sourced_id,
			     "%s %s is an administrator of no school and no district: not imported (name "
			     "their school or the district org in orgSourcedIds)", x->given_name,
			     x->family_name);
			u->skip = SKIP_WARNED;
		}
		char *full = kd_asprintf("%s%s%s", x->given_name,
		                         *x->given_name && *x->family_name ? " " : "", x->family_name);
		u->full_name = roster_clean(full);
		free(full);
		roster_cut_chars(u->full_name, FULL_NAME_MAX_CHARS);
		bool disabled = !x->enabled || x->deleted;
		u->why = !x->enabled ? "enabledUser is false" : "status is tobedeleted";
		if (*x->email && !roster_email_ok(x->email))
			roster_report_warn(c->rep, "users.csv", x->row, x->sourced_id,
			     "'%.100s' is not an e-mail address: the account has none (sign-in with the "
			     "district's accounts needs one)", x->email);
		if (u->have >= 0 && !u->skip) {
			struct have_user *h = &c->h.users[u->have];
			u->disable = disabled && !h->disabled;
			u->enable = !disabled && h->disabled && !h->disabled_here;
			u->stays_off = !disabled && h->disabled_here;
		} else if (u->have < 0 && disabled && !u->skip) {
			u->skip = SKIP_DISABLED_NEW;
		}
	}
	if (c->refused)
		return;
	/* An account made in kindling with a person's address is theirs, and
	 * follows the roster from now on.  Enabled rows first: when a roster
	 * has an old, disabled record of someone beside their current one, the
	 * current one takes the account. */
	struct smap by_email = {0};
	for (size_t i = 0; i < c->h.n_users; i++)
		if (c->h.users[i].email && !c->h.users[i].sourced_id)
			smap_iput(&by_email, c->h.users[i].email, (int)i);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < r->n_people; j++) {
			struct plan_user *u = &c->p.users[j];
			const struct roster_person *x = &r->people[j];
			bool disabled = !x->enabled || x->deleted;
			if (u->have >= 0 || u->skip == SKIP_WARNED || disabled != (pass == 1) ||
			    !roster_email_ok(x->email))
				continue;
			int i = smap_iget(&by_email, x->email);
			if (i < 0 || c->h.users[i].matched >= 0)
				continue;
			struct have_user *h = &c->h.users[i];
			u->have = i;
			u->adopt = true;
			u->skip = IMPORT;
			h->matched = (int)j;
			u->disable = disabled && !h->disabled;
			u->enable = !disabled && h->disabled && !h->disabled_here;
			u->stays_off = !disabled && h->disabled_here;
		}
	}
	smap_free(&by_email);
}

/* Who holds an address (an owner as plan_emails records it), in words. */
static char *owner_words(struct ctx *c, int owner)
{
	if (owner >= 0)
		return kd_asprintf("the account '%s'", c->h.users[owner].name);
	return kd_asprintf("users.csv row %ld", c->r->people[-owner - 2].row);
}

/* Every address is one account's: the addresses as they will be after the
 * import, checked before anything is written (so two people who swap
 * addresses are no conflict, and a taken address is a warning, not a
 * failure half-way). */
static void plan_emails(struct ctx *c)
{
	const struct roster *r = c->r;
	/* owner: have index >= 0, or -(plan index) - 2 */
	struct smap owner = {0};
	for (size_t i = 0; i < c->h.n_users; i++) {
		struct have_user *h = &c->h.users[i];
		if (!h->email)
			continue;
		bool moves = false;
		if (h->matched >= 0) {
			const struct roster_person *x = &r->people[h->matched];
			const struct plan_user *u = &c->p.users[h->matched];
			moves = !u->skip && roster_email_ok(x->email) && strcasecmp(x->email, h->email) != 0;
		}
		if (!moves)
			smap_iput(&owner, h->email, (int)i);
	}
	/* Matched people first: an address they keep or take is theirs before
	 * a newcomer's. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < r->n_people; j++) {
			struct plan_user *u = &c->p.users[j];
			const struct roster_person *x = &r->people[j];
			if (u->skip || (pass == 0) != (u->have >= 0))
				continue;
			const char *old = u->have >= 0 ? c->h.users[u->have].email : NULL;
			const char *want = roster_email_ok(x->email) ? x->email : NULL;
			if (!want) {
				/* an empty address in the roster leaves the account's */
				u->email = roster_dup_or_null(old);
				continue;
			}
			int me = u->have >= 0 ? u->have : -(int)j - 2;
			int o = smap_iget(&owner, want);
			if (o < 0 || o == me) {
				smap_iput(&owner, want, me);
				u->email = kd_strdup(want);
				continue;
			}
			if (u->have >= 0) {
				int kept = old ? smap_iget(&owner, old) : -1;
				bool keep = old && (kept < 0 || kept == me);
				if (keep)
					smap_iput(&owner, old, me);
				u->email = keep ? kd_strdup(old) : NULL;
				char *who = owner_words(c, o);
				roster_report_warn(c->rep, "users.csv", x->row, x->sourced_id,
				     "the address %.100s already belongs to %s: '%s' keeps %s%.100s", want, who,
				     c->h.users[u->have].name, keep ? "the address " : "no address",
				     keep ? old : "");
				free(who);
			} else {
				char *who = owner_words(c, o);
				roster_report_warn(c->rep, "users.csv", x->row, x->sourced_id,
				     "%s %s was not imported: the address %.100s already belongs to %s (one "
				     "account per address)", x->given_name, x->family_name, want, who);
				free(who);
				u->skip = SKIP_WARNED;
			}
		}
	}
	smap_free(&owner);
}

static void plan_names(struct ctx *c)
{
	struct smap names = {0}, tried = {0};
	for (size_t i = 0; i < c->h.n_users; i++)
		smap_iput(&names, c->h.users[i].name, (int)i);
	for (size_t j = 0; j < c->p.n_users; j++) {
		struct plan_user *u = &c->p.users[j];
		const struct roster_person *x = &c->r->people[j];
		if (u->skip || u->have >= 0)
			continue;
		char *base = roster_clean(x->username);
		if (!*base && roster_email_ok(x->email)) {
			free(base);
			base = kd_strndup(x->email, (size_t)(strchr(x->email, '@') - x->email));
		}
		if (!*base) {
			roster_report_warn(c->rep, "users.csv", x->row, x->sourced_id,
			     "%s %s was not imported: no username and no e-mail address to name the "
			     "account by", x->given_name, x->family_name);
			u->skip = SKIP_WARNED;
			free(base);
			continue;
		}
		u->name = unique_name(base, &names, &tried);
		free(base);
	}
	smap_free(&names);
	smap_free(&tried);
}

static void plan_missing(struct ctx *c)
{
	if (!c->opts->disable_missing)
		return;
	c->p.missing = kd_malloc((c->h.n_users ? c->h.n_users : 1) * sizeof *c->p.missing);
	for (size_t i = 0; i < c->h.n_users; i++) {
		struct have_user *h = &c->h.users[i];
		if (h->sourced_id && h->matched < 0 && !h->disabled)
			c->p.missing[c->p.n_missing++] = (int)i;
	}
}

int64_t roster_school_id(const struct ctx *c, int s)
{
	return s >= 0 ? c->p.schools[s].id : 0;
}

const char *roster_school_slug(const struct ctx *c, int s)
{
	return s >= 0 ? c->p.schools[s].slug : NULL;
}

/* The slug of the catalogue's school id (0: none), or NULL. */
const char *roster_have_slug(const struct ctx *c, int64_t id)
{
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)id);
	int i = id ? smap_get(&c->school_by_id, key) : -1;
	return i >= 0 ? c->h.schools[i].slug : NULL;
}

bool roster_school_changes(const struct ctx *c, const struct plan_user *u)
{
	const struct have_user *h = &c->h.users[u->have];
	return u->school >= 0 ? c->p.schools[u->school].have < 0 || h->school_id != roster_school_id(c, u->school)
	                      : h->school_id != 0;
}

bool roster_role_changes(const struct ctx *c, const struct plan_user *u)
{
	const struct have_user *h = &c->h.users[u->have];
	return h->role_by_roster && strcmp(h->role, u->role) != 0;
}

bool roster_user_changes(const struct ctx *c, const struct plan_user *u)
{
	const struct have_user *h = &c->h.users[u->have];
	return u->adopt || !roster_same(u->email, h->email) || strcmp(u->full_name, h->full_name) != 0 ||
	       roster_school_changes(c, u) || roster_role_changes(c, u);
}

int roster_make_plan(struct kd_db *db, struct ctx *c)
{
	int rc = load(db, &c->h, c->rep);
	if (rc < 0)
		return rc;
	if (c->opts->disable_missing && c->r->users_delta) {
		roster_report_error(c->rep, "manifest.csv", 0, NULL,
		                    "--disable-missing needs bulk files, and the manifest says users.csv "
		                    "is a delta (it lists changes only, so who is absent has not left): "
		                    "import without it, or export bulk files");
		return KD_EINVAL;
	}
	plan_schools(c);
	plan_people(c);
	if (c->refused)
		return KD_EINVAL;
	plan_emails(c);
	plan_names(c);
	plan_missing(c);
	return 0;
}

void roster_ctx_free(struct ctx *c)
{
	plan_free(&c->p);
	have_free(&c->h);
	smap_free(&c->org_by_id);
	smap_free(&c->school_by_sid);
	smap_free(&c->user_by_sid);
	smap_free(&c->school_by_id);
	free(c->school_of_org);
}
