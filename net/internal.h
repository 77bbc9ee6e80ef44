/* Helpers shared inside net/ only; nothing outside the module includes
 * this. */
#ifndef SKIFF_NET_INTERNAL_H
#define SKIFF_NET_INTERNAL_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net.h"

/* "0.0.0.0:8080->80/tcp", for messages.  Malloc'd. */
char *net_port_describe (const struct net_port *p);

/* The host side of P with port PORT as a socket address; returns its
 * length. */
socklen_t net_port_host_sockaddr (const struct net_port *p, unsigned port,
                                  struct sockaddr_storage *ss);

/* ---- the host loopback guard (guard.c) --------------------------------- */

#define NET_GUARD_FLOWS 512   /* UDP answers remembered, least recent dropped */
#define NET_GUARD_RST_MAX 74  /* Ethernet + IPv6 + TCP */

/* A UDP exchange the host's loopback started with the container. */
struct net_guard_flow
{
  int64_t last_ms;      /* 0: unused */
  uint16_t guest_port;
  uint16_t host_port;
  bool is_ipv6;
};

struct net_guard
{
  struct in_addr gateway;
  struct in6_addr prefix6;
  struct in6_addr dns6;
  struct net_guard_flow flows[NET_GUARD_FLOWS];
};

enum net_guard_verdict
{
  NET_GUARD_PASS,
  NET_GUARD_DROP,
  NET_GUARD_REJECT,     /* a TCP SYN: answer with net_guard_reset() */
};

void net_guard_init (struct net_guard *g, const struct net_addrs *a);

/* Judge frame F (LEN bytes) that the container sent, at time NOW (ms). */
enum net_guard_verdict net_guard_outbound (struct net_guard *g, const uint8_t *f, size_t len,
                                           int64_t now);

/* Note frame F that slirp sends to the container: UDP from the host's
 * loopback opens a flow the container may answer. */
void net_guard_inbound (struct net_guard *g, const uint8_t *f, size_t len, int64_t now);

/* Build in OUT (at least NET_GUARD_RST_MAX bytes) the frame refusing the
 * TCP SYN in F: a RST from the address it was sent to.  Returns its
 * length, 0 when F is not a TCP segment. */
size_t net_guard_reset (const uint8_t *f, size_t len, uint8_t *out, size_t out_size);

/* ---- the relay of published TCP ports (relay.c) ----------------------- */

#define NET_RELAY_CONNS_MAX 512 /* open connections; then listeners wait */
#define NET_RELAY_BUF 65536     /* bytes buffered per direction */
#define NET_RELAY_POOL_LOW 8    /* refill the socket pool below this */

struct net_relay;

/* A relay connecting to the container at GUEST through sockets of NS,
 * which it takes over (NS is empty after). */
struct net_relay *net_relay_new (struct net_netns *ns, struct in_addr guest);
/* Close every connection, listener and the namespace; NULL is a no-op. */
void net_relay_free (struct net_relay *r);

/* Relay TCP port P: its reservation socket (net_ports_reserve) becomes the
 * listener.  Fails naming the port. */
int net_relay_add_port (struct net_relay *r, struct net_port *p, struct error **err)
    __attribute__ ((warn_unused_result));

/* Appends FD with EVENTS to the poll array; returns its index. */
typedef size_t (*net_relay_push_fn) (void *opaque, int fd, short events);

/* One round of the owner's poll loop: prepare pushes the listeners (while
 * fewer than the limit of connections are open) and the connections'
 * sockets; done serves them from the revents of FDS. */
void net_relay_poll_prepare (struct net_relay *r, net_relay_push_fn push, void *opaque);
void net_relay_poll_done (struct net_relay *r, const struct pollfd *fds, size_t n_fds);

/* Open connections, for tests. */
size_t net_relay_n_conns (const struct net_relay *r);

#endif
