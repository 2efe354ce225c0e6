/*
 * net.h - lists of network addresses ("10.0.0.0/8, 192.0.2.7, ::1"), for
 * settings such as trusted_proxies, and finding the client behind them.
 */
#ifndef KINDLING_NET_H
#define KINDLING_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct kd_net {
	int family;                /* AF_INET or AF_INET6 */
	unsigned char addr[16];    /* network byte order; 4 bytes used for IPv4 */
	unsigned prefix;           /* bits that must match */
};

struct kd_netlist {
	struct kd_net *nets;
	size_t n;
};

/* Parse addresses and CIDR ranges separated by commas or spaces.  Returns
 * 0, or KD_EINVAL with err naming the entry that is not an address.  An
 * IPv4 address also matches its IPv4-mapped IPv6 form. */
int kd_netlist_parse(struct kd_netlist *l, const char *text, char *err, size_t errlen);
void kd_netlist_free(struct kd_netlist *l);

/* Is the address (a sockaddr, or text such as "192.0.2.7" or "::1") in
 * the list?  An empty list holds nothing. */
bool kd_netlist_has(const struct kd_netlist *l, const struct sockaddr *sa);
bool kd_netlist_has_text(const struct kd_netlist *l, const char *ip);

/* The client behind proxies: peer is the socket's address as text; when it
 * is a trusted proxy, walk X-Forwarded-For (xff, may be NULL) from the
 * right past the trusted proxies and take the first address that is not
 * one.  Writes the result into out (the peer itself when the peer is not
 * trusted, or xff holds nothing usable). */
void kd_client_address(const struct kd_netlist *trusted, const char *peer, const char *xff,
                       char *out, size_t outlen);

#endif
