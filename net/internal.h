/* Helpers shared inside net/ only; nothing outside the module includes
 * this. */
#ifndef SKIFF_NET_INTERNAL_H
#define SKIFF_NET_INTERNAL_H

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

#endif
