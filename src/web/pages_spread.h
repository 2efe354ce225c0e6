/*
 * pages_spread.h - how a practice spread, on pages (issue 15, H6; owner:
 * H6): the practice page's section (an SVG made here, the same facts in a
 * table) and the district page's ranking.  The facts come from spread.h.
 * Private to src/web/.
 */
#ifndef KINDLING_WEB_PAGES_SPREAD_H
#define KINDLING_WEB_PAGES_SPREAD_H

#include <jansson.h>

#include "kindling/html.h"
#include "http.h"

/* The spread as an inline SVG (role img, with <title> and <desc>): schools
 * as lanes, time across, a dot at each school's first clip, an arrow for
 * each view (solid) or visit (dashed) that carried the practice there.
 * spread: spread_practice()'s answer.  Caller frees. */
char *spread_svg(const json_t *spread);

/* The section id="spread" of practice slug's page, on its first page of
 * clips without a filter (school, grade, subject; a filtered page links
 * there); a short notice in its place when it cannot be read. */
void page_spread_section(struct html *h, struct request *req, const char *slug);

/* The district page's ranking: practices by schools reached from..to. */
void page_district_reach(struct html *h, struct request *req, const char *from,
                         const char *to);

#endif
