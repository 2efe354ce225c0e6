/* kindling.conf text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/config.h"
#include "kindling/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct kd_config cfg = {0};
	char err[KD_ERRMSG_MAX];
	(void)kd_config_parse(&cfg, text, err, sizeof err);
	kd_config_free(&cfg);
	free(text);
	return 0;
}
