/* conns.c - connections per address and the header deadline (see
 * conns.h). */
#include "conns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mem.h"

/* An address, as counted: IPv4-mapped IPv6 counts as the IPv4 address. */
struct addr {
	int family;
	unsigned char bytes[16];
};

/* One client address with open connections (a chained hash table). */
struct count {
	struct addr a;
	unsigned n;
	struct count *next;
};

/* One open connection. */
struct conn {
	struct conns *owner;
	MHD_socket fd;
	struct addr a;
	bool counted;          /* holds one of its address's count */
	bool waiting;          /* for a request's headers */
	struct timespec since; /* when the wait began */
	struct conn *prev, *next;
};

#define BUCKETS 1024

struct conns {
	pthread_mutex_t lock;
	const struct kd_netlist *trusted;
	unsigned per_address;
	unsigned header_timeout;
	struct count *buckets[BUCKETS];
	struct conn *head;
	time_t last_refusal_log;
};

int conns_new(const struct kd_config *cfg, struct conns **out)
{
	struct conns *c = kd_calloc(1, sizeof *c);
	pthread_mutex_init(&c->lock, NULL);
	c->trusted = &cfg->trusted_proxies;
	c->per_address = cfg->conns_per_address;
	c->header_timeout = cfg->header_timeout;
	*out = c;
	return 0;
}

void conns_free(struct conns **cp)
{
	struct conns *c = *cp;
	if (!c)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		for (struct count *n = c->buckets[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	for (struct conn *e = c->head, *next; e; e = next) {
		next = e->next;
		free(e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
	*cp = NULL;
}

static bool addr_of(const struct sockaddr *sa, struct addr *a)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memset(a, 0, sizeof *a);
	if (sa && sa->sa_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->bytes, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return true;
	}
	if (sa && sa->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		if (!memcmp(b, mapped, sizeof mapped)) {
			a->family = AF_INET;
			memcpy(a->bytes, b + 12, 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->bytes, b, 16);
		}
		return true;
	}
	return false;
}

static size_t bucket(const struct addr *a)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	return h % BUCKETS;
}

static struct count **find(struct conns *c, const struct addr *a)
{
	struct count **p = &c->buckets[bucket(a)];
	while (*p && ((*p)->a.family != a->family || memcmp((*p)->a.bytes, a->bytes, 16)))
		p = &(*p)->next;
	return p;
}

enum MHD_Result conns_accept(void *cls, const struct sockaddr *sa, socklen_t addrlen)
{
	(void)addrlen;
	struct conns *c = cls;
	struct addr a;
	if (!addr_of(sa, &a) || kd_netlist_has(c->trusted, sa))
		return MHD_YES;
	pthread_mutex_lock(&c->lock);
	struct count **p = find(c, &a);
	bool ok = !*p || (*p)->n < c->per_address;
	if (ok && !*p) {
		*p = kd_calloc(1, sizeof **p);
		(*p)->a = a;
	}
	if (ok)
		(*p)->n++;
	time_t now = time(NULL);
	bool log = !ok && now != c->last_refusal_log;
	if (log)
		c->last_refusal_log = now;
	pthread_mutex_unlock(&c->lock);
	if (log) {
		char ip[INET6_ADDRSTRLEN] = "?";
		inet_ntop(a.family, a.bytes, ip, sizeof ip);
		log_warn("http", "refusing connections from %s: it already holds %u (the "
		         "connections_per_address setting)", ip, c->per_address);
	}
	return ok ? MHD_YES : MHD_NO;
}

static void uncount(struct conns *c, const struct addr *a)
{
	struct count **p = find(c, a);
	if (*p && --(*p)->n == 0) {
		struct count *gone = *p;
		*p = gone->next;
		free(gone);
	}
}

static struct conn *entry_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

void conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code)
{
	struct conns *c = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn *e = kd_calloc(1, sizeof *e);
		e->owner = c;
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		e->fd = ci ? ci->connect_fd : MHD_INVALID_SOCKET;
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		const struct sockaddr *sa = ci ? ci->client_addr : NULL;
		e->counted = addr_of(sa, &e->a) && !kd_netlist_has(c->trusted, sa);
		e->waiting = true;
		clock_gettime(CLOCK_MONOTONIC, &e->since);
		pthread_mutex_lock(&c->lock);
		e->next = c->head;
		if (c->head)
			c->head->prev = e;
		c->head = e;
		pthread_mutex_unlock(&c->lock);
		*socket_context = e;
		return;
	}
	struct conn *e = *socket_context;
	if (!e)
		return;
	/* MHD closes the socket only after this returns, so a sweep holding
	 * the lock never shuts down a descriptor that was reused. */
	pthread_mutex_lock(&c->lock);
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	if (e->counted)
		uncount(c, &e->a);
	pthread_mutex_unlock(&c->lock);
	free(e);
	*socket_context = NULL;
}

static void set_waiting(struct MHD_Connection *conn, bool waiting)
{
	struct conn *e = entry_of(conn);
	if (!e)
		return;
	pthread_mutex_lock(&e->owner->lock);
	e->waiting = waiting;
	clock_gettime(CLOCK_MONOTONIC, &e->since);
	pthread_mutex_unlock(&e->owner->lock);
}

void conns_headers_in(struct MHD_Connection *conn)
{
	set_waiting(conn, false);
}

void conns_request_done(struct MHD_Connection *conn)
{
	set_waiting(conn, true);
}

int conns_sweep(struct conns *c)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int closed = 0;
	pthread_mutex_lock(&c->lock);
	for (struct conn *e = c->head; e; e = e->next) {
		if (!e->waiting || e->fd == MHD_INVALID_SOCKET ||
		    now.tv_sec - e->since.tv_sec < (time_t)c->header_timeout)
			continue;
		/* MHD sees the end of the stream in its own thread and closes the
		 * connection there. */
		shutdown(e->fd, SHUT_RDWR);
		e->fd = MHD_INVALID_SOCKET;
		closed++;
	}
	pthread_mutex_unlock(&c->lock);
	if (closed)
		log_info("http", "closed %d connection%s whose request headers took longer than "
		         "%u s", closed, closed == 1 ? "" : "s", c->header_timeout);
	return closed;
}
