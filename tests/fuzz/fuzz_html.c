/* Form bodies and search words come from anyone: decoding a form must stay
 * in bounds, and nothing that goes through the HTML writer may come out as
 * markup (no '<', '>' or '"' but those the writer itself adds). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first line is a search query, the rest a text to mark */
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	for (int n = 0; n < 3; n++)
		free(form_value(s, size, n == 2 ? "" : "a", n));
	char *nl = strchr(s, '\n');
	const char *query = s, *text = nl ? nl + 1 : s;
	if (nl)
		*nl = '\0';
	struct html h;
	html_init(&h, 1 << 20);
	html_text_marked(&h, text, query);
	html_attr(&h, text);
	const char *out = kd_buf_str(&h.b);
	/* strip the marks; then no markup character may remain */
	for (const char *p = out; *p; p++) {
		if (!strncmp(p, "<mark>", 6)) {
			p += 5;
		} else if (!strncmp(p, "</mark>", 7)) {
			p += 6;
		} else if (*p == '<' || *p == '>' || *p == '"' || *p == '\'') {
			abort();
		}
	}
	html_release(&h);
	free(s);
	return 0;
}
