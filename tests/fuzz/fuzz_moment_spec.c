/* The moments of `kindling upload --moment` and of a manifest's moments
 * column (moment_spec_parse): a manifest may come from anywhere.  Checks
 * what a spec taken promises: times in order and bounded, a practice of
 * one word, a title of 1..MOMENT_TITLE_MAX bytes without control
 * characters, both inside the buffer.  Owner: issue 15, H1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/moments.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	size_t len = strlen(buf);
	char err[KD_ERRMSG_MAX];
	struct cat_moment_edit m;
	int rc = moment_spec_parse(buf, &m, err, sizeof err);
	if (rc == 0) {
		if (!(m.start_s >= 0 && m.end_s > m.start_s && m.end_s <= 86400))
			abort();
		if (!m.practice || !m.title || m.practice < buf || m.practice > buf + len ||
		    m.title < buf || m.title > buf + len)
			abort();
		size_t p = strlen(m.practice), t = strlen(m.title);
		if (p == 0 || strpbrk(m.practice, " \t") || t == 0 || t > MOMENT_TITLE_MAX)
			abort();
		for (size_t i = 0; i < t; i++)
			if ((unsigned char)m.title[i] < 0x20 || m.title[i] == 0x7f)
				abort();
		if (m.title[t - 1] == ' ' || m.title[t - 1] == '\t')
			abort();
	} else if (rc != KD_EINVAL || !err[0]) {
		abort();
	}
	free(buf);
	return 0;
}
