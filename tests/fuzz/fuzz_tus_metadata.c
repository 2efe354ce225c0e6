/* Upload-Metadata and the numeric tus headers (Upload-Length,
 * Upload-Offset) come straight from the network. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "web/tus_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = malloc(size + 1);
	memcpy(h, data, size);
	h[size] = '\0';

	/* a number is 1 to 19 digits and nothing else, read exactly */
	uint64_t v = 0;
	if (tus_parse_u64(h, &v)) {
		size_t n = strlen(h);
		if (n == 0 || n > 19 || strspn(h, "0123456789") != n)
			abort();
		const char *digits = h + strspn(h, "0");
		char back[24];
		snprintf(back, sizeof back, "%" PRIu64, v);
		if (strcmp(back, *digits ? digits : "0") != 0)
			abort();
	}

	/* metadata: keys are plain words, values UTF-8 strings; a refusal
	 * says why */
	json_t *meta = json_object();
	char err[KD_ERRMSG_MAX] = "";
	int rc = tus_parse_metadata(h, meta, err, sizeof err);
	if (rc != 0 && (rc != KD_EINVAL || !err[0]))
		abort();
	if (rc == 0) {
		const char *key;
		json_t *value;
		json_object_foreach(meta, key, value) {
			if (!*key || strpbrk(key, " ,") || !json_is_string(value) ||
			    strlen(json_string_value(value)) != json_string_length(value))
				abort();
		}
		/* issue 16: an upload batch is a good token and a size, or a
		 * refusal that says why */
		struct cat_clip_new c = {0};
		err[0] = '\0';
		rc = tus_batch_meta(meta, &c, err, sizeof err);
		if (rc != 0 && (rc != KD_EINVAL || !err[0] || c.batch))
			abort();
		if (rc == 0 && c.batch) {
			size_t n = strlen(c.batch);
			if (n < 8 || n > 64 || c.batch_size < 1 || c.batch_size > 100000 ||
			    strspn(c.batch, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			                    "0123456789_-") != n)
				abort();
		}
	}
	json_decref(meta);
	free(h);
	return 0;
}
