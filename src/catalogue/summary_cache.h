/*
 * summary_cache.h - what a summary reads of each clip, kept in memory per
 * school in id order, in step with the index (see summary_cache.c, which
 * says why).  Private to src/catalogue/: summary_index.c answers from it.
 */
#ifndef KINDLING_CATALOGUE_SUMMARY_CACHE_H
#define KINDLING_CATALOGUE_SUMMARY_CACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kd_db; /* db.h */

/* A piece of a clip's text (a date, a month), not terminated. */
struct slice {
	const char *p;
	size_t n;
};

/* Distinct texts, numbered as they come, found by hash; ranked (put in
 * text order) when asked. */
struct texts {
	char **s;         /* copies (index text has no NUL inside) */
	size_t *len;
	uint32_t *month;  /* dates: the number of their month in sumc.months */
	size_t n, cap;
	uint32_t *table;  /* number + 1; 0: empty */
	size_t table_cap; /* a power of two */
	uint32_t last;    /* the number found last, + 1: clips next to each
	                   * other in id order often share a date or a teacher */
	uint32_t *rank;   /* rank[number]: its place in text order */
	uint32_t *order;  /* order[place]: the number there */
	size_t ranked;    /* how many the ranks cover */
};

enum {
	F_READY = 1,
	F_DISTRICT = 2, /* ready, consent on file, visible to the district */
	F_SCHOOL = 4,   /* the same, visible to its own school */
	F_DEAD = 8,     /* gone (deleted, or moved to another school) */
};

/* The clips of one school, in id order, a column per field. */
struct cschool {
	int64_t id;
	size_t n, cap, dead;
	int64_t *ids, *uploaders; /* uploader 0: none */
	double *seconds;          /* 0 for SQL NULL, which sum() skips: the same sum */
	uint32_t *dates, *teachers;
	uint8_t *flags;
	uint64_t *practices;      /* cc.words per clip: a bit per practice number */
};

struct summary_cache {
	bool built;
	int64_t seq;                /* the index's, when the cache was last brought up */
	size_t words;               /* of practice bits per clip */
	int64_t *practice_ids;      /* practice numbers of the cache, in the order seen */
	size_t np, cap_p;
	struct cschool *schools;
	size_t ns;
	struct texts dates, months, teachers;
};

/* The cache; read and written with sumc_lock held. */
extern struct summary_cache sumc;
extern pthread_mutex_t sumc_lock;

/* The cache up to date and held (sumc_lock), with each practice number's
 * slug in *slugs (NULL: not wanted; free with sumc_slugs_free).  0, or a
 * KD_E* code and nothing held. */
int sumc_begin(struct kd_db *db, char ***slugs);
void sumc_end(void);
void sumc_slugs_free(char **slugs, size_t n);

/* The school of id in the cache (add: made when missing), or NULL. */
struct cschool *sumc_school(int64_t id, bool add);

struct slice sumc_slice_of(const char *s);
/* SQLite's BINARY collation: the bytes, then the shorter first. */
int sumc_slice_cmp(struct slice a, struct slice b);
/* Text number k of t. */
struct slice sumc_text_at(const struct texts *t, uint32_t k);
/* Put t's texts in text order (their ranks), as far as they go. */
void sumc_texts_rank(struct texts *t);

#endif
