/* roster.c - a roster (roster_read.c) against the catalogue: the plan of
 * what to add, change, disable and enable, carrying it out in one
 * transaction, and the report of it (roster.h).
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

#include "identity/roster_report.h"
#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/mem.h"

#define NAME_MAX_CHARS 100      /* users.name */
#define FULL_NAME_MAX_CHARS 200 /* users.full_name, as the account pages take it */
#define SLUG_MAX 63

/* ------------------------------------------------------------------ strings */

static char *dup_or_null(const char *s)
{
	return s ? kd_strdup(s) : NULL;
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* The key under which both engines find s whatever its case (the
 * catalogue's names and addresses are unique without regard to case). */
static char *fold(const char *s)
{
	char *k = kd_strdup(s);
	lower_ascii(k);
	return k;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* s cut to at most max characters (not bytes), on a character boundary. */
static void cut_chars(char *s, size_t max)
{
	size_t chars = 0;
	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xC0) == 0x80)
			continue;
		if (chars++ == max) {
			*p = '\0';
			return;
		}
	}
}

/* A copy of s with control characters as spaces, runs of spaces as one,
 * and none around it. */
static char *clean(const char *s)
{
	char *out = kd_malloc(strlen(s) + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p < 0x20 || *p == 0x7F ? ' ' : *p;
		if (c == ' ' && (o == out || o[-1] == ' '))
			continue;
		*o++ = (char)c;
	}
	while (o > out && o[-1] == ' ')
		o--;
	*o = '\0';
	return out;
}

/* The rule users.h states for an e-mail address: 3 to 254 printable
 * characters without spaces, one '@' between a local part and a domain. */
static bool email_ok(const char *e)
{
	size_t n = strlen(e);
	const char *at = strchr(e, '@');
	if (n < 3 || n > 254 || !at || at == e || !at[1] || strchr(at + 1, '@'))
		return false;
	for (const unsigned char *p = (const unsigned char *)e; *p; p++)
		if (*p <= 0x20 || *p == 0x7F)
			return false;
	return true;
}

/* Latin-1 letters (UTF-8 C3 80..BF) as ASCII, for slugs. */
static const char *const latin1[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
};

/* s as a slug (lower-case a-z, 0-9 and single '-', at most SLUG_MAX) into
 * out (SLUG_MAX + 1); "" when nothing of s is left. */
static void slugify(const char *s, char *out)
{
	size_t n = 0;
	bool dash = false;
	const unsigned char *p = (const unsigned char *)s;
	while (*p && n < SLUG_MAX) {
		char one[2] = {0};
		const char *as = NULL;
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
			one[0] = (char)*p++;
			as = one;
		} else if (*p >= 'A' && *p <= 'Z') {
			one[0] = (char)(*p++ - 'A' + 'a');
			as = one;
		} else if (*p == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF) {
			as = latin1[p[1] - 0x80];
			p += 2;
		} else {
			p++;
			while ((*p & 0xC0) == 0x80)
				p++;
		}
		if (!as || !*as) {
			dash = true;
			continue;
		}
		if (dash && n)
			out[n++] = '-';
		dash = false;
		for (; *as && n < SLUG_MAX; as++)
			out[n++] = *as;
	}
	while (n && out[n - 1] == '-')
		n--;
	out[n] = '\0';
}

static bool has_letter(const char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			return true;
	return false;
}

/* ------------------------------------------------------------------ a string map */

/* Keys to an int, -1 meaning none: what the plan looks up by sourcedId,
 * e-mail address, name and slug. */
struct smap {
	char **k;
	int *v;
	size_t cap, n;
};

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static int smap_get(const struct smap *m, const char *key)
{
	if (!m->cap)
		return -1;
	for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->k[i])
			return -1;
		if (!strcmp(m->k[i], key))
			return m->v[i];
	}
}

static void smap_put(struct smap *m, const char *key, int v)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct smap bigger = {kd_calloc(m->cap ? m->cap * 2 : 64, sizeof(char *)),
		                      kd_calloc(m->cap ? m->cap * 2 : 64, sizeof(int)),
		                      m->cap ? m->cap * 2 : 64, m->n};
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->k[i])
				continue;
			size_t j = hash(m->k[i]) & (bigger.cap - 1);
			while (bigger.k[j])
				j = (j + 1) & (bigger.cap - 1);
			bigger.k[j] = m->k[i];
			bigger.v[j] = m->v[i];
		}
		free(m->k);
		free(m->v);
		*m = bigger;
	}
	size_t i = hash(key) & (m->cap - 1);
	while (m->k[i] && strcmp(m->k[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	if (!m->k[i]) {
		m->k[i] = kd_strdup(key);
		m->n++;
	}
	m->v[i] = v;
}

/* The same, without regard to (ASCII) case. */
static int smap_iget(const struct smap *m, const char *key)
{
	char *k = fold(key);
	int v = smap_get(m, k);
	free(k);
	return v;
}

static void smap_iput(struct smap *m, const char *key, int v)
{
	char *k = fold(key);
	smap_put(m, k, v);
	free(k);
}

static void smap_free(struct smap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->k[i]);
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------ the catalogue as it is */

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
	cut_chars(s, NAME_MAX_CHARS);
	int from = smap_iget(tried, base);
	for (int n = from > 2 ? from : 2; smap_iget(names, s) >= 0; n++) {
		smap_iput(tried, base, n);
		char tail[16];
		int tl = snprintf(tail, sizeof tail, "-%d", n);
		char *b = kd_strdup(base);
		cut_chars(b, NAME_MAX_CHARS - (size_t)tl);
		free(s);
		s = kd_asprintf("%s%s", b, tail);
		free(b);
	}
	smap_iput(names, s, 1);
	return s;
}

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
		slugify(o->identifier, from_ident);
		slugify(o->name, from_name);
		const char *base = has_letter(from_ident) ? from_ident : from_name;
		const char *adopted = NULL;
		if (have < 0) {
			/* A school made in kindling before the roster came. */
			const char *tries[2] = {has_letter(from_ident) ? from_ident : "", from_name};
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
			ps->district_changes = district && !same(hs->district, district);
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
		u->full_name = clean(full);
		free(full);
		cut_chars(u->full_name, FULL_NAME_MAX_CHARS);
		bool disabled = !x->enabled || x->deleted;
		u->why = !x->enabled ? "enabledUser is false" : "status is tobedeleted";
		if (*x->email && !email_ok(x->email))
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
			    !email_ok(x->email))
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
			moves = !u->skip && email_ok(x->email) && strcasecmp(x->email, h->email) != 0;
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
			const char *want = email_ok(x->email) ? x->email : NULL;
			if (!want) {
				/* an empty address in the roster leaves the account's */
				u->email = dup_or_null(old);
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
		char *base = clean(x->username);
		if (!*base && email_ok(x->email)) {
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

static int64_t school_id(const struct ctx *c, int s)
{
	return s >= 0 ? c->p.schools[s].id : 0;
}

static const char *school_slug(const struct ctx *c, int s)
{
	return s >= 0 ? c->p.schools[s].slug : NULL;
}

/* The slug of the catalogue's school id (0: none), or NULL. */
static const char *have_slug(const struct ctx *c, int64_t id)
{
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)id);
	int i = id ? smap_get(&c->school_by_id, key) : -1;
	return i >= 0 ? c->h.schools[i].slug : NULL;
}

static bool school_changes(const struct ctx *c, const struct plan_user *u)
{
	const struct have_user *h = &c->h.users[u->have];
	return u->school >= 0 ? c->p.schools[u->school].have < 0 || h->school_id != school_id(c, u->school)
	                      : h->school_id != 0;
}

static bool role_changes(const struct ctx *c, const struct plan_user *u)
{
	const struct have_user *h = &c->h.users[u->have];
	return h->role_by_roster && strcmp(h->role, u->role) != 0;
}

static bool user_changes(const struct ctx *c, const struct plan_user *u)
{
	const struct have_user *h = &c->h.users[u->have];
	return u->adopt || !same(u->email, h->email) || strcmp(u->full_name, h->full_name) != 0 ||
	       school_changes(c, u) || role_changes(c, u);
}

static int plan(struct kd_db *db, struct ctx *c)
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
			if (u->skip || u->have < 0 || same(u->email, c->h.users[u->have].email))
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
			if (u->skip || u->have < 0 || !user_changes(c, u))
				continue;
			const struct have_user *h = &c->h.users[u->have];
			*at = (struct doing){"users.csv", r->people[j].row, r->people[j].sourced_id};
			db_bind_int64(st, 1, h->id);
			db_bind_text(st, 2, u->full_name, -1, DB_STATIC);
			bind_text_or_null(st, 3, u->email);
			bind_id_or_null(st, 4, school_id(c, u->school));
			db_bind_text(st, 5, role_changes(c, u) ? u->role : h->role, -1, DB_STATIC);
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
			bind_id_or_null(st, 3, school_id(c, u->school));
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
	e->email = dup_or_null(u->email);
	e->role = kd_strdup(h && !role_changes(c, u) ? h->role : u->role);
	e->school = dup_or_null(school_slug(c, u->school));
	e->row = x->row;
	return e;
}

static void fill_report(struct ctx *c)
{
	struct roster_report *rep = c->rep;
	const struct roster *r = c->r;
	free(rep->district);
	rep->district = dup_or_null(c->p.district);
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
		e->reason = dup_or_null(s->adopted);
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
		bool changed = user_changes(c, u);
		if (changed) {
			struct roster_entry *e = person_entry(&rep->changed, c, u);
			if (u->adopt) {
				e->reason = kd_strdup("adopted the account made in kindling with this e-mail "
				                      "address");
				roster_entry_field(e, "sourcedId", NULL, r->people[j].sourced_id);
			}
			if (strcmp(u->full_name, h->full_name) != 0)
				roster_entry_field(e, "full_name", h->full_name, u->full_name);
			if (!same(u->email, h->email))
				roster_entry_field(e, "email", h->email, u->email);
			if (school_changes(c, u))
				roster_entry_field(e, "school", have_slug(c, h->school_id), school_slug(c, u->school));
			if (role_changes(c, u))
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
		e->sourced_id = dup_or_null(h->sourced_id);
		e->name = kd_strdup(h->name);
		e->full_name = kd_strdup(h->full_name);
		e->email = dup_or_null(h->email);
		e->role = kd_strdup(h->role);
		e->school = dup_or_null(have_slug(c, h->school_id));
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

static void ctx_free(struct ctx *c)
{
	plan_free(&c->p);
	have_free(&c->h);
	smap_free(&c->org_by_id);
	smap_free(&c->school_by_sid);
	smap_free(&c->user_by_sid);
	smap_free(&c->school_by_id);
	free(c->school_of_org);
}

static int run(struct kd_db *db, const struct roster *r, const struct roster_opts *opts,
               struct roster_report *rep, bool write)
{
	roster_report_reset(rep);
	if (!rep->source)
		rep->source = dup_or_null(r->source);
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
	rc = plan(db, &c);
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
	ctx_free(&c);
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

