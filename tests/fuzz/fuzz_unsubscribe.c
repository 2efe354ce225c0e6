/* A mail's unsubscribe link (issue 16): its m and s come from anyone who
 * sends a request.  Input: m, a NUL byte, s. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "web/pages_mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	const char *m = buf, *s = buf + strlen(buf) + 1;
	if (s > buf + size)
		s = buf + size + 1; /* no separator: s is empty */
	int64_t id = -1;
	int rc = page_unsub_link_parse(m, s, &id);
	if (rc == 0 && (id <= 0 || id > 999999999999999LL || strlen(s) != UNSUB_SECRET_LEN))
		abort(); /* a link we would look up must have a real id and a whole secret */
	if (rc != 0 && rc != KD_EINVAL)
		abort();
	free(buf);
	return 0;
}
