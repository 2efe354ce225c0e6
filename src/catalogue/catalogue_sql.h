/*
 * catalogue_sql.h - pieces shared by the catalogue's SQL files.  Private to
 * src/catalogue/.
 */
#ifndef KINDLING_CATALOGUE_SQL_H
#define KINDLING_CATALOGUE_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/catalogue.h"
#include "kindling/users.h"

/* The privacy rule of catalogue.h as an SQL condition on clips c.  It uses
 * parameters ?90 (is admin), ?91 (user id) and ?92 (user's school id),
 * and ?93 (issue 15: the require_captions setting, captions.h), which
 * cat_bind_viewer() binds. */
#define CAT_VISIBLE                                                                   \
	"(?90 <> 0 OR c.uploader_id = ?91 OR (c.status = 'ready' AND c.consent = 'on-file' " \
	"AND (?93 = 0 OR c.captions <> 'none') "                                          \
	"AND (c.visibility = 'district' OR (c.visibility = 'school' AND c.school_id = ?92))))"

/* Bind the viewer's ?90-?92, and ?93 (sql.c). */
void cat_bind_viewer(struct kd_stmt *st, const struct kd_user *user);

/* Full-text search, which the back ends do differently: an FTS5 table
 * (SQLite) and a tsvector with a GIN index (PostgreSQL, whose
 * kd_fts_match() in schema/postgres/001 reads the same expression).  Both
 * take cat_fts_query()'s expression as ?1; the pieces of SQL that differ,
 * for list.c and index_fts.c (list.c). */
struct cat_fts_sql {
	const char *from;       /* the matches joined to clips c, as f */
	const char *where;      /* " AND " the match */
	const char *id_col;     /* the match's clip id */
	const char *rank_order; /* best first */
	const char *ids;        /* the ids of the matches, ascending */
	const char *ranked;     /* the ids, best first */
	/* issue 15: the clips whose captions match (a cue has every word):
	 * from, where, id_col and rank_order above take them in already,
	 * ranked after the clips whose own words match; ids and ranked do
	 * not (the index adds these, index_fts.c) */
	const char *caption_ids;
};
const struct cat_fts_sql *cat_fts_sql(struct kd_db *db);

/* A new copy of a text column, or NULL for SQL NULL. */
char *cat_col_dup(struct kd_stmt *st, int col);

/* The two named lists a clip refers to by slug. */
enum cat_named { CAT_SCHOOLS, CAT_PRACTICES };

/* The row id of a school's or practice's slug (schools.c).  Returns 0,
 * KD_ENOTFOUND or KD_EDB. */
int cat_slug_id(struct kd_db *db, enum cat_named what, const char *slug, int64_t *id);
/* For rc KD_ENOTFOUND: write "unknown school 'x'; known schools: ..." into
 * err.  Returns rc either way, so `return cat_unknown_slug(...)` reads. */
int cat_unknown_slug(struct kd_db *db, int rc, enum cat_named what, const char *slug, char *err,
                     size_t errlen);

/* The columns of a whole clip and the joins they need, in the order
 * cat_read_clip() reads them (clips.c). */
extern const char CAT_CLIP_COLUMNS[];
extern const char CAT_CLIP_JOINS[];
/* Fill c from a row of CAT_CLIP_COLUMNS; free it with cat_clip_free(). */
void cat_read_clip(struct kd_stmt *st, struct cat_clip *c);

/* The consent record (consent.c).  cat_consent_check: an edit's consent
 * fields on their own; cat_consent_read: the clip's consent and basis now
 * (new strings); cat_consent_apply: after an edit of consent or basis,
 * inside its transaction, record who and when and add to the history
 * when anything changed (KD_EINVAL with a sentence when it may not);
 * cat_consent_created: the first record of a new clip (its uploader's). */
int cat_consent_check(const struct cat_clip_edit *e, char *err, size_t errlen);
int cat_consent_read(struct kd_db *db, int64_t id, char **consent, char **basis);
int cat_consent_apply(struct kd_db *db, int64_t id, const char *old_consent,
                      const char *old_basis, const struct cat_clip_edit *e, char *err,
                      size_t errlen);
int cat_consent_created(struct kd_db *db, int64_t id);

/* The catalogue generation (schema/002), -1 if it cannot be read. */
int64_t cat_generation(struct kd_db *db);
/* Counts remembered for a generation (cache.c).  A get for another
 * generation misses; a put for a newer one drops everything older. */
bool cat_cache_get(int64_t gen, const char *key, int64_t *value);
void cat_cache_put(int64_t gen, const char *key, int64_t value);

#endif
