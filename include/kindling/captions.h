/*
 * captions.h - a clip's captions: reading WebVTT and SRT as people and
 * transcription engines write them, checking them, and writing the one
 * WebVTT file that is served (src/util/captions.c); keeping their cues in
 * the catalogue so search can say at what second a word was said
 * (src/catalogue/captions.c).
 *
 * The parser reads untrusted input (an upload, a transcription command's
 * output): every size is bounded, and a refusal names the line and the
 * reason ("line 12: the cue ends before it starts").
 */
#ifndef KINDLING_CAPTIONS_H
#define KINDLING_CAPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/users.h"

struct kd_db; /* db.h */

#define CAPTIONS_BYTES_MAX (1u << 20) /* a 2-hour lesson's captions are ~150 KB */
#define CAPTIONS_CUES_MAX 20000
#define CAPTIONS_CUE_TEXT_MAX 1000

struct caption_cue {
	double start_s;
	double end_s;
	char *text; /* lines joined by '\n', tags and entities left as written */
};

struct captions {
	struct caption_cue *cues; /* by start */
	size_t n;
};

/* Read WebVTT (starts "WEBVTT") or SRT (numbered cues, "," before the
 * milliseconds), in UTF-8 with or without a BOM, CRLF or LF.  duration_s
 * > 0 bounds the times (a cue may not start at or past the end; one that
 * runs past it is cut there); 0 when not known.  KD_EINVAL with "line N:
 * reason" in err; on success free *out with captions_free. */
int captions_parse(const char *text, size_t len, double duration_s, struct captions *out,
                   char *err, size_t errlen);
/* The WebVTT file served: "WEBVTT", then each cue.  Caller frees; *len
 * its length. */
char *captions_to_vtt(const struct captions *c, size_t *len);
void captions_free(struct captions *c);

/* Where a clip's captions came from (clips.captions). */
enum captions_source { CAPTIONS_NONE, CAPTIONS_UPLOADED, CAPTIONS_AUTOMATIC };
const char *captions_source_name(enum captions_source s);

/* Keep the cues of a clip's captions and where they came from (replacing
 * any before), in one transaction; the caller stores captions.vtt first.
 * An automatic set never replaces uploaded captions (returns KD_EEXIST). */
int cat_captions_set(struct kd_db *db, int64_t clip_id, const struct captions *c,
                     enum captions_source source);
/* Forget them (the caller removes captions.vtt after). */
int cat_captions_clear(struct kd_db *db, int64_t clip_id);
/* The first cue of the clip that a search matches (cat_fts_query()'s
 * expression): 0 and *at, *text (caller frees) or KD_ENOTFOUND. */
int cat_caption_hit(struct kd_db *db, int64_t clip_id, const char *match, double *at,
                    char **text);

/* The require_captions setting (config.h), set once by the server before
 * it answers: with it on, a clip whose captions are none is seen only by
 * its uploader and admins (CAT_VISIBLE's ?93 and the index's rule).  Off
 * unless set. */
void cat_captions_require(bool on);
bool cat_captions_required(void);

#endif
