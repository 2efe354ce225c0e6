/* trusted_proxies comes from a file an admin writes, X-Forwarded-For from
 * anyone: the first line is the list, the second the header.  Parsing must
 * stay in bounds, and the client found is always a real address, never
 * text the header made up. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	char *nl = strchr(s, '\n');
	const char *xff = nl ? nl + 1 : "";
	if (nl)
		*nl = '\0';
	struct kd_netlist l;
	char err[256];
	if (kd_netlist_parse(&l, s, err, sizeof err) == 0) {
		char out[64];
		kd_client_address(&l, "127.0.0.1", xff, out, sizeof out);
		unsigned char bin[16];
		if (inet_pton(AF_INET, out, bin) != 1 && inet_pton(AF_INET6, out, bin) != 1)
			__builtin_trap();
		kd_netlist_free(&l);
	}
	free(s);
	return 0;
}
