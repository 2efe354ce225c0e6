/*
 * index_state.h - the index's state (index.c answers from it,
 * index_load.c loads it and keeps it in step with the catalogue), and what
 * the loading side gives the answering side.  Private to src/catalogue/.
 */
#ifndef KINDLING_CATALOGUE_INDEX_STATE_H
#define KINDLING_CATALOGUE_INDEX_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index_fts.h"
#include "kindling/captions.h"
#include "kindling/catalogue.h"

struct kd_db; /* db.h */


enum { CONSENT_ON_FILE, CONSENT_PENDING, CONSENT_WITHDRAWN };
enum { VIS_DISTRICT, VIS_SCHOOL, VIS_PRIVATE };

/* The strings of a clip, one after another in one allocation, in this
 * order; a NULL one is "" with its bit set in `nulls`. */
enum { S_RECORDED, S_TITLE, S_DESCRIPTION, S_TEACHER, S_GRADE, S_SUBJECT, S_UPLOADED,
       S_ERROR, S_UPLOADER, S_SHA, S_ORIGINAL, S_CONTAINER, S_VCODEC, S_ACODEC, S_BASIS,
       S_CONSENT_BY, S_CONSENT_AT, S_COUNT };
/* (the two that orders compare come first: found without a walk) */

struct iclip {
	int64_t id;           /* 0: an empty slot (a deleted clip) */
	int64_t uploader_id, school_id, bit_rate, size_bytes;
	double duration_s, fps;
	int width, height, rotation;
	uint32_t grade, subject;  /* interned, ASCII-lowercased; 0: none */
	uint32_t nulls;
	uint8_t status, consent, visibility;
	uint8_t captions;     /* issue 15: enum captions_source */
	bool probed, has_captions, held, media_stale;
	uint8_t n_practices, n_tags;
	uint16_t school;      /* index in ix.schools, UINT16_MAX if unknown */
	uint32_t strings_len; /* bytes of all the strings in the block */
	uint16_t *practices;  /* practice table indexes, in the block */
	char *block;          /* the strings, then the practices' slugs, then the tags */
};

struct named {
	int64_t id;
	char *slug, *name, *extra;
	uint64_t *bits;        /* the clips of this school / practice */
	uint64_t *shared_bits; /* schools: ready, on file, visible to the school only */
};

/* A string (grade, subject) to a small number, ASCII case folded. */
struct interned {
	char *key;
	uint32_t id;
	uint64_t *bits;
};

#define REBUILD_PAST 5000 /* changes past which a full reload is quicker */


/* Everything here is guarded by ix_lock (the full-text cache, index_fts.c,
 * has a lock of its own, taken with ix_lock held). */
struct index_state {
	bool built;
	bool captions_required;  /* issue 15: the setting it was built under */
	bool bulk;               /* loading everything: orders are sorted at the end */
	int64_t seq;             /* the last clip_changes row applied */
	struct iclip *slots;     /* in id order */
	size_t n_slots, cap_slots;
	size_t nw;               /* words of every bitmap */
	int64_t *slot_id;        /* the id each slot was made for, ascending */
	uint64_t *live, *public_ready;
	struct named *schools, *practices;
	size_t n_schools, n_practices;
	struct values { struct interned *v; size_t n, cap; } grades, subjects;
	/* Each uploader's own clips, as slots in ascending order: few per
	 * person, so a list costs less than a bitmap. */
	struct own { int64_t uploader; size_t *slots, n, cap; } *uploaders;
	size_t n_uploaders;
	int64_t max_id;          /* slots are in id order: a new clip must come after */
	bool out_of_order;       /* one did not: rebuild */
	size_t *by_title, *by_recorded; /* the live slots in those orders */
	size_t n_order;
};

/* Read under ix_lock held for reading, changed with it held for writing. */
extern struct index_state ix;
extern pthread_rwlock_t ix_lock;

/* Seen by others than its uploader and admins (catalogue.h's rule, as
 * CAT_VISIBLE has it): ready, consent on file, and (issue 15) captions
 * when require_captions is on; the visibility says by whom. */
static inline bool ix_shared(const struct iclip *r)
{
	return r->status == CAT_READY && r->consent == CONSENT_ON_FILE &&
	       (r->captions != CAPTIONS_NONE || !cat_captions_required());
}

/* A bitmap of the index's size, all clear. */
uint64_t *ix_bits_new(void);

/* The slot of id, or SIZE_MAX: slots are in id order, and slot_id keeps a
 * deleted clip's id too, so a binary search finds any. */
size_t ix_map_get(int64_t id);

/* What the full-text cache (index_fts.c) needs to know of the slots. */
struct fts_view ix_fts_view(void);

/* The place of a school or practice in ix by its id, or SIZE_MAX. */
size_t ix_school_index(int64_t id);
size_t ix_practice_by_id(int64_t id);

/* The number of a grade or subject in its table, ASCII case folded
 * (COLLATE NOCASE); 0 for "", UINT32_MAX for one nobody has.  With add, a
 * new one is made. */
uint32_t ix_intern(struct values *t, const char *s, bool add);

/* An uploader's own clips (add: made when missing), or NULL. */
struct own *ix_uploader_own(int64_t uploader, bool add);

/* The i-th string of r's block (after the practice indexes). */
const char *ix_str_at(const struct iclip *r, int i);

/* The clip of record r, as cat_read_clip would fill it, but with every
 * string in one allocation (c->block): a page of clips is 24 allocations,
 * not 600. */
void ix_clip_of(const struct iclip *r, struct cat_clip *c);

/* Bring the index up to the catalogue; returns with the read lock held
 * (or an error, with no lock held). */
int ix_sync_and_read(struct kd_db *db);

#endif
