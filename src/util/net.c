/* net.c - address lists and the client behind proxies (see net.h). */
#include "kindling/net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/mem.h"

static bool parse_one(const char *s, struct kd_net *n)
{
	char ip[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof ip)
		return false;
	memcpy(ip, s, len);
	ip[len] = '\0';
	memset(n, 0, sizeof *n);
	unsigned max;
	if (inet_pton(AF_INET, ip, n->addr) == 1) {
		n->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, ip, n->addr) == 1) {
		n->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	n->prefix = max;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || p < 0 || p > (long)max)
			return false;
		n->prefix = (unsigned)p;
	}
	return true;
}

int kd_netlist_parse(struct kd_netlist *l, const char *text, char *err, size_t errlen)
{
	memset(l, 0, sizeof *l);
	char *copy = kd_strdup(text), *save = NULL;
	int rc = 0;
	for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		struct kd_net n;
		if (!parse_one(t, &n)) {
			snprintf(err, errlen, "'%.60s' is not an address or a range such as 10.0.0.0/8 "
			         "or fd00::/8", t);
			rc = KD_EINVAL;
			break;
		}
		l->nets = kd_realloc(l->nets, (l->n + 1) * sizeof *l->nets);
		l->nets[l->n++] = n;
	}
	free(copy);
	if (rc < 0)
		kd_netlist_free(l);
	return rc;
}

void kd_netlist_free(struct kd_netlist *l)
{
	free(l->nets);
	memset(l, 0, sizeof *l);
}

static bool matches(const struct kd_net *n, int family, const unsigned char *a)
{
	if (n->family != family)
		return false;
	unsigned full = n->prefix / 8, rest = n->prefix % 8;
	if (memcmp(n->addr, a, full) != 0)
		return false;
	if (!rest)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (n->addr[full] & mask) == (a[full] & mask);
}

static bool has(const struct kd_netlist *l, int family, const unsigned char *a)
{
	/* An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d. */
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	bool v4mapped = family == AF_INET6 && !memcmp(a, mapped, sizeof mapped);
	for (size_t i = 0; i < l->n; i++)
		if (matches(&l->nets[i], family, a) || (v4mapped && matches(&l->nets[i], AF_INET, a + 12)))
			return true;
	return false;
}

bool kd_netlist_has(const struct kd_netlist *l, const struct sockaddr *sa)
{
	if (!l || !l->n || !sa)
		return false;
	if (sa->sa_family == AF_INET)
		return has(l, AF_INET,
		           (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return has(l, AF_INET6,
		           ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
	return false;
}

bool kd_netlist_has_text(const struct kd_netlist *l, const char *ip)
{
	unsigned char a[16];
	if (!l || !l->n || !ip)
		return false;
	if (inet_pton(AF_INET, ip, a) == 1)
		return has(l, AF_INET, a);
	if (inet_pton(AF_INET6, ip, a) == 1)
		return has(l, AF_INET6, a);
	return false;
}

void kd_client_address(const struct kd_netlist *trusted, const char *peer, const char *xff,
                       char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", peer);
	if (!xff || !kd_netlist_has_text(trusted, peer))
		return;
	/* "client, proxy1, proxy2": the right end was written by the proxy
	 * nearest to us; what a client wrote itself sits further left. */
	const char *end = xff + strlen(xff);
	while (end > xff) {
		const char *start = end;
		while (start > xff && start[-1] != ',')
			start--;
		const char *a = start, *b = end;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		char ip[64];
		size_t n = (size_t)(b - a);
		unsigned char bin[16];
		if (n == 0 || n >= sizeof ip)
			return;
		memcpy(ip, a, n);
		ip[n] = '\0';
		if (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1)
			return; /* garbage: keep the last good answer */
		snprintf(out, outlen, "%s", ip);
		if (!kd_netlist_has_text(trusted, ip))
			return;
		end = start > xff ? start - 1 : xff;
	}
}
