/* charts.c - SVG bar and column charts (see charts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charts.h"
#include "kindling/html.h"
#include "kindling/buf.h"

#define SVG_MAX (4u << 20)

static void put_escaped(struct kd_buf *b, const char *s)
{
	if (s)
		html_escape(b, s, strlen(s)); /* past the cap the chart ends short */
}

/* A number as a chart shows it: whole numbers without decimals. */
static void put_value(struct kd_buf *b, double v)
{
	if (v == (double)(long long)v)
		kd_buf_printf(b, "%lld", (long long)v);
	else
		kd_buf_printf(b, "%.1f", v);
}

static double max_of(const struct chart_item *items, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++)
		if (items[i].value > m)
			m = items[i].value;
	return m;
}

static double clamp(double v)
{
	return v > 0 ? v : 0;
}

static void open_svg(struct kd_buf *b, int width, int height, const char *title)
{
	kd_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	              "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", width, height, width,
	              height);
	put_escaped(b, title);
	kd_buf_puts(b, "\" font-family=\"sans-serif\" font-size=\"12\"><title>");
	put_escaped(b, title);
	kd_buf_puts(b, "</title>");
}

enum { BAR_H = 20, BAR_GAP = 6, LABEL_W = 180, PLOT_W = 360, TOP = 8 };

char *chart_bars_svg(const char *title, const struct chart_item *items, size_t n)
{
	struct kd_buf b = KD_BUF_INIT(SVG_MAX);
	int height = TOP * 2 + (int)(n ? n : 1) * (BAR_H + BAR_GAP);
	open_svg(&b, LABEL_W + PLOT_W + 60, height, title);
	double max = max_of(items, n);
	if (n == 0)
		kd_buf_printf(&b, "<text x=\"%d\" y=\"%d\">no data</text>", LABEL_W, TOP + 14);
	for (size_t i = 0; i < n; i++) {
		int y = TOP + (int)i * (BAR_H + BAR_GAP);
		double v = clamp(items[i].value);
		int w = max > 0 ? (int)(v / max * PLOT_W + 0.5) : 0;
		kd_buf_printf(&b, "<g><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL_W - 6,
		              y + 14);
		put_escaped(&b, items[i].label);
		kd_buf_printf(&b, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		              "fill=\"#3b7dd8\"><title>", LABEL_W, y, w, BAR_H);
		put_escaped(&b, items[i].label);
		kd_buf_puts(&b, ": ");
		put_value(&b, v);
		kd_buf_printf(&b, "</title></rect><text x=\"%d\" y=\"%d\">", LABEL_W + w + 4, y + 14);
		put_value(&b, v);
		kd_buf_puts(&b, "</text></g>");
	}
	kd_buf_puts(&b, "</svg>");
	return kd_buf_take(&b, NULL);
}

enum { COL_W = 36, COL_GAP = 10, COL_PLOT_H = 160, AXIS_H = 40, LEFT = 10 };

char *chart_columns_svg(const char *title, const struct chart_item *items, size_t n)
{
	struct kd_buf b = KD_BUF_INIT(SVG_MAX);
	int width = LEFT * 2 + (int)(n ? n : 3) * (COL_W + COL_GAP);
	int base = TOP + 16 + COL_PLOT_H;
	open_svg(&b, width, base + AXIS_H, title);
	double max = max_of(items, n);
	if (n == 0)
		kd_buf_printf(&b, "<text x=\"%d\" y=\"%d\">no data</text>", LEFT, base - 4);
	for (size_t i = 0; i < n; i++) {
		int x = LEFT + (int)i * (COL_W + COL_GAP);
		double v = clamp(items[i].value);
		int h = max > 0 ? (int)(v / max * COL_PLOT_H + 0.5) : 0;
		kd_buf_printf(&b, "<g><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		              "fill=\"#3b7dd8\"><title>", x, base - h, COL_W, h);
		put_escaped(&b, items[i].label);
		kd_buf_puts(&b, ": ");
		put_value(&b, v);
		kd_buf_printf(&b, "</title></rect><text x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
		              x + COL_W / 2, base - h - 4);
		put_value(&b, v);
		kd_buf_printf(&b, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
		              "font-size=\"10\">", x + COL_W / 2, base + 14);
		put_escaped(&b, items[i].label);
		kd_buf_puts(&b, "</text></g>");
	}
	kd_buf_printf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/></svg>",
	              LEFT, base, width - LEFT, base);
	return kd_buf_take(&b, NULL);
}
