/*
 * charts.h - small SVG charts for the summary pages, made from data alone
 * (no HTTP, no catalogue): a horizontal bar chart (clips by practice,
 * schools side by side) and a column chart (clips by month).
 *
 * Every piece of text (titles, labels) goes through html_escape, the one
 * escaper, so a hostile practice or teacher name cannot add markup.  Sizes are fixed so
 * the charts line up on a page; values below 0 count as 0.
 */
#ifndef KINDLING_WEB_CHARTS_H
#define KINDLING_WEB_CHARTS_H

#include <stddef.h>

struct chart_item {
	const char *label;
	double value;
};

/* One bar per item, top to bottom, labelled, with its value at its end.
 * Returns a complete <svg> element (caller frees).  n may be 0. */
char *chart_bars_svg(const char *title, const struct chart_item *items, size_t n);

/* One column per item, left to right (months, say), labelled below. */
char *chart_columns_svg(const char *title, const struct chart_item *items, size_t n);

#endif
