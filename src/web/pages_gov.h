/*
 * pages_gov.h - what the governance forms of the clip page
 * (pages_clip_governance.c) share with their fields (pages_gov_fields.c).
 * Private to src/web/.
 */
#ifndef KINDLING_WEB_PAGES_GOV_H
#define KINDLING_WEB_PAGES_GOV_H

#include <stdbool.h>
#include <stddef.h>

#include "kindling/html.h"
#include "http.h"
#include "kindling/catalogue.h"

/* A form that was refused: which one, why, and what to mark (a field's
 * name, or a blur row from 1; 0: none). */
struct gov_refusal {
	const char *form; /* "consent", "blur", "hold" */
	const char *error;
	const char *field;
	int row;
};

/* The regions of the form as it was posted: six fields a row, all rows
 * sent (an empty field too), removals by row number. */
#define BLUR_ROWS_MAX (CAT_BLUR_MAX + 1) /* the regions and the row to add one */

struct posted_rows {
	char *v[BLUR_ROWS_MAX + 1][6];
	bool removed[BLUR_ROWS_MAX + 1];
	int n; /* rows; BLUR_ROWS_MAX + 1 when more were sent */
};

/* The blur editor's six fields a row: their names and labels. */
extern const char *const GOV_BLUR_FIELDS[6];
extern const char *const GOV_BLUR_LABELS[6];

bool refused_here(const struct gov_refusal *g, const char *form);
/* aria-invalid, the error's id and the focus, on the field g names. */
void mark_field(struct html *h, const struct gov_refusal *g, const char *form,
                const char *field);
/* A number as typed (three decimals at most), a moment as read (m:ss.s). */
void fmt_num(double v, char *out, size_t len);
void fmt_time(double s, char *out, size_t len);
/* Is s absent or only white space? */
bool blank(const char *s);
/* Seconds typed as 75, 75.5, 1:15 or 1:01:15; a percentage as a fraction
 * (a comma may be the decimal point).  False when it is no such thing. */
bool parse_seconds(const char *typed, double *out);
bool parse_percent(const char *typed, double *out);

/* One row of the blur editor (n from 1; v the six values as typed, NULL
 * empty; added: the row that adds a region), the rows as posted, whether
 * a row is empty, and the list of a clip's regions. */
void blur_row(struct html *h, const struct gov_refusal *g, int n, char *const v[6], bool added,
              bool removed);
void posted_read(struct request *req, struct posted_rows *p);
void posted_free(struct posted_rows *p);
bool row_empty(char *const v[6]);
void blur_list(struct html *h, const struct cat_blur_region *r, size_t n);

#endif
