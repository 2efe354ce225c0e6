/* Range headers come straight from the network. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/media_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 8)
		return 0;
	uint64_t file_size;
	memcpy(&file_size, data, 8);
	file_size %= (uint64_t)1 << 40;
	char *h = malloc(size - 8 + 1);
	memcpy(h, data + 8, size - 8);
	h[size - 8] = '\0';
	uint64_t from = 0, to = 0;
	int r = http_parse_range(h, file_size, &from, &to);
	if (r == 1 && !(from <= to && to < file_size))
		abort(); /* a range we would serve must lie inside the file */
	free(h);
	return 0;
}
