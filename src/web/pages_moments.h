/*
 * pages_moments.h - moments in the browser (issue 15, pages_moments.c and
 * pages_moments_practice.c): on the clip page a chapters track, a chapter
 * bar under the video, the list of moments and, for those who may edit
 * them (cat_moment_may_edit), the forms that add, change and remove one;
 * on a practice page its moments across schools, each a storyboard tile
 * linking to the clip at the moment's start.  Everything works without
 * JavaScript: assets/moments.js seeks in place instead of loading the page
 * at ?t=.  Private to src/web/.
 */
#ifndef KINDLING_WEB_PAGES_MOMENTS_H
#define KINDLING_WEB_PAGES_MOMENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "kindling/html.h"
#include "http.h"
#include "kindling/catalogue.h"
#include "kindling/moments.h"

/* A clip's moments as its page shows them (read once, used by the track,
 * the bar and the list). */
struct page_moments {
	struct cat_moment *list;
	size_t n;
	bool may_edit;
	bool failed; /* they could not be read: the page says so */
};
void page_moments_load(struct request *req, const struct cat_clip *c, struct page_moments *pm);
void page_moments_free(struct page_moments *pm);

/* Inside the <video>: <track kind="chapters"> (nothing without moments). */
void page_moments_track(struct html *h, const struct cat_clip *c, const struct page_moments *pm);
/* After the player: the chapter bar (player: the video is shown), the list
 * of moments and the forms of those who may edit them. */
void page_moments_section(struct html *h, struct request *req, const struct cat_clip *c,
                          const struct page_moments *pm, bool player);

/* GET /clips/{id}/chapters.vtt: the moments as WebVTT chapters. */
enum MHD_Result page_clip_chapters(struct request *req);
/* POST /clips/{id}/moments, /clips/{id}/moments/{id}, .../{id}/delete. */
enum MHD_Result page_moment_add(struct request *req);
enum MHD_Result page_moment_edit(struct request *req);
enum MHD_Result page_moment_delete(struct request *req);

/* pages_moments_practice.c: at the head of a practice page, its moments
 * across schools (school: only that school's, or NULL), paged by the
 * query argument "moments".  Nothing when it has none. */
void page_practice_moments(struct html *h, struct request *req, const char *practice,
                           const char *school);

/* Shared by both files: a time as shown and typed, "m:ss" or "h:mm:ss"
 * with a fraction when it has one ("0:45", "1:02.5"); and as a ?t= value
 * (seconds, "45", "62.5"). */
void moment_clock(double s, char *out, size_t len);
void moment_seconds(double s, char *out, size_t len);

#endif
