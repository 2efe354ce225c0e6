/* pages_moments_practice.c - a practice page leads with its moments across
 * schools (see pages_moments.h): each a card with the storyboard tile at
 * the moment's start, its title, school and length, linking to the clip at
 * that second. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "media_files.h"
#include "pages_moments.h"
#include "static.h"
#include "kindling/catalogue.h"
#include "kindling/err.h"
#include "kindling/mem.h"

#define MOMENTS_SHOWN 12

/* The storyboard as src/media/pictures.c lays it out (board_new): a tile
 * every whole number of seconds, at most MAX_TILES, COLUMNS a row, tiles
 * TILE_W wide and as high as the picture's shape makes them (even, at most
 * 4 x TILE_W).  moment_pages.sh checks these against a real storyboard's
 * WebVTT, so a change there shows here. */
#define SB_MAX_TILES 100
#define SB_COLUMNS 10
#define SB_TILE_W 160

struct tile {
	int x, y, w, h;         /* the tile in the sprite */
	int sprite_w, sprite_h; /* the whole sprite */
};

static int even(double x)
{
	int v = 2 * (int)lround(x / 2);
	return v < 2 ? 2 : v;
}

/* The tile that shows second t of clip c; false when c has no storyboard
 * to show (not made, or its shape or length unknown). */
static bool storyboard_tile(const struct cat_clip *c, double t, struct tile *out)
{
	const struct cat_media *m = &c->media;
	if (!m->probed || !(m->duration_s > 0) || !isfinite(m->duration_s) || m->width <= 0 ||
	    m->height <= 0 || !media_file_made(c, KD_FILE_STORYBOARD_JPG))
		return false;
	long long total_ms = llround(m->duration_s * 1000);
	if (total_ms < 1)
		total_ms = 1;
	long long step_s = (total_ms + SB_MAX_TILES * 1000LL - 1) / (SB_MAX_TILES * 1000LL);
	long long step_ms = 1000 * (step_s < 1 ? 1 : step_s);
	int n = (int)((total_ms + step_ms - 1) / step_ms);
	int cols = n < SB_COLUMNS ? n : SB_COLUMNS;
	int th = even((double)SB_TILE_W * m->height / m->width);
	if (th > 4 * SB_TILE_W)
		th = 4 * SB_TILE_W;
	long long at = llround((t > 0 && isfinite(t) ? t : 0) * 1000) / step_ms;
	int i = at < n ? (int)at : n - 1;
	*out = (struct tile){
		.x = (i % cols) * SB_TILE_W,
		.y = (i / cols) * th,
		.w = SB_TILE_W,
		.h = th,
		.sprite_w = cols * SB_TILE_W,
		.sprite_h = (n + cols - 1) / cols * th,
	};
	return true;
}

/* The picture of a card: the storyboard tile, cropped by an SVG viewBox
 * (the pages' Content-Security-Policy allows no style attribute to crop a
 * background), else the clip's thumbnail, else a grey box. */
static void card_picture(struct html *h, const struct cat_clip *c, double t)
{
	char url[96];
	struct tile tl;
	if (c && storyboard_tile(c, t, &tl)) {
		media_url(c->id, KD_FILE_STORYBOARD_JPG, url, sizeof url);
		html_raw(h, "<svg class=\"thumb tile\" aria-hidden=\"true\" focusable=\"false\" "
		            "preserveAspectRatio=\"xMidYMid slice\" width=\"320\" height=\"180\" "
		            "viewBox=\"");
		html_attrf(h, "%d %d %d %d", tl.x, tl.y, tl.w, tl.h);
		html_raw(h, "\"><image href=\"");
		html_attr(h, url);
		html_raw(h, "\" x=\"0\" y=\"0\" width=\"");
		html_attrf(h, "%d", tl.sprite_w);
		html_raw(h, "\" height=\"");
		html_attrf(h, "%d", tl.sprite_h);
		html_raw(h, "\"/></svg>");
	} else if (c && media_file_made(c, KD_FILE_THUMBNAIL)) {
		media_url(c->id, KD_FILE_THUMBNAIL, url, sizeof url);
		html_raw(h, "<img class=\"thumb\" loading=\"lazy\" width=\"320\" height=\"180\" alt=\"\" "
		            "src=\"");
		html_attr(h, url);
		html_raw(h, "\">");
	} else {
		html_raw(h, "<span class=\"thumb pending\"></span>");
	}
}

static void moment_card(struct html *h, const struct cat_moment *m, const struct cat_clip *c)
{
	char t[32], at[32], len[24];
	moment_seconds(m->start_s, t, sizeof t);
	moment_clock(m->start_s, at, sizeof at);
	page_duration(m->end_s - m->start_s, len, sizeof len);
	html_raw(h, "<li class=\"card moment-card\"><a class=\"card-link\" href=\"");
	html_attrf(h, "/clips/%lld?t=%s", (long long)m->clip_id, t);
	html_raw(h, "\">");
	card_picture(h, c, m->start_s);
	html_raw(h, "<span class=\"dur\"><span class=\"vh\">Length </span>");
	html_text(h, len);
	html_raw(h, "</span><span class=\"card-title\">");
	html_text(h, m->title);
	html_raw(h, "</span></a><span class=\"meta\">");
	if (m->school && *m->school) {
		html_raw(h, "<a href=\"");
		html_attrf(h, "/schools/%s", m->school);
		html_raw(h, "\">");
		html_text(h, m->school_name && *m->school_name ? m->school_name : m->school);
		html_raw(h, "</a> · ");
	}
	html_textf(h, "from %s in ", at);
	html_raw(h, "<cite>");
	html_text(h, m->clip_title);
	html_raw(h, "</cite></span></li>");
}

void page_practice_moments(struct html *h, struct request *req, const char *practice,
                           const char *school)
{
	struct cat_moment_query q = {
		.practice = practice,
		.school = school,
		.page = page_number(req, "moments", 1000000),
		.per_page = MOMENTS_SHOWN,
	};
	struct cat_moment_page p = {0};
	char err[KD_ERRMSG_MAX] = "";
	int rc = cat_moments_list(req->db, &req->user, &q, &p, err, sizeof err);
	if (rc == KD_ENOTFOUND) /* an unknown school filter: the clip list says so */
		return;
	if (rc < 0) {
		page_error(h, NULL, "The moments of this practice could not be read. Reload the page "
		                    "in a moment.");
		return;
	}
	if (p.total == 0) {
		cat_moment_page_free(&p);
		return;
	}
	char url[96];
	html_raw(h, "<link rel=\"stylesheet\" href=\"");
	html_attr(h, asset_url("moments.css", url, sizeof url));
	html_raw(h, "\"><section id=\"moments\" class=\"practice-moments\" "
	            "aria-labelledby=\"moments-h\"><h2 id=\"moments-h\">Moments</h2>"
	            "<p class=\"count\">");
	html_textf(h, "%lld moment%s: where a clip shows the practice, to watch first",
	           (long long)p.total, p.total == 1 ? "" : "s");
	html_raw(h, "</p><ul class=\"grid moment-grid\">");
	/* each clip once, however many of its moments the page shows */
	struct cat_clip clips[MOMENTS_SHOWN];
	bool have[MOMENTS_SHOWN];
	for (size_t i = 0; i < p.n && i < MOMENTS_SHOWN; i++) {
		const struct cat_clip *c = NULL;
		for (size_t j = 0; j < i && !c; j++)
			if (have[j] && clips[j].id == p.moments[i].clip_id)
				c = &clips[j];
		have[i] = !c && cat_clip_get(req->db, &req->user, p.moments[i].clip_id, &clips[i]) == 0;
		if (have[i])
			c = &clips[i];
		moment_card(h, &p.moments[i], c);
	}
	html_raw(h, "</ul>");
	for (size_t i = 0; i < p.n && i < MOMENTS_SHOWN; i++)
		if (have[i])
			cat_clip_free(&clips[i]);
	char *path = kd_asprintf("/practices/%s", practice);
	page_pagination(h, req, path, "moments", q.page, p.total, q.per_page, "#moments");
	free(path);
	html_raw(h, "</section>");
	cat_moment_page_free(&p);
}
