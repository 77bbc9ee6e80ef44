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

/* ---- SYNs into a TIME_WAIT (guard.c) ------------------------------------ */

#define NET_SYN_SLOTS 64      /* SYNs slirp sent that await an answer */
#define NET_SYN_FRAME_MAX 96  /* Ethernet + IPv6 + TCP with an MSS option: 78 */

/* A SYN slirp sent to the container for a published port, kept until the
 * container answers it. */
struct net_syn_slot
{
  uint16_t len;             /* 0: unused */
  bool is_ipv6;
  uint8_t gateway[16];      /* the SYN's source, 4 or 16 bytes */
  uint8_t guest[16];        /* its destination */
  uint16_t gateway_port;
  uint16_t guest_port;
  uint32_t seq;             /* the SYN's sequence number */
  uint8_t frame[NET_SYN_FRAME_MAX];
};

struct net_synretry
{
  struct net_syn_slot slots[NET_SYN_SLOTS];
  unsigned n_used;
  unsigned next;            /* the slot to reuse when all are taken */
};

/* Note frame F (LEN bytes) that slirp sends to the container.  A SYN
 * without ACK is kept.  A bare RST for a kept SYN's connection is slirp
 * refusing the container's ACK while it waits for an answer to that SYN:
 * the container still held the connection (in TIME_WAIT, see guard.c) and
 * the RST ends it.  When that TIME_WAIT refused the SYN (the SYN's number
 * is not after the RST's), the SYN is forgotten and copied to OUT (at
 * least NET_SYN_FRAME_MAX bytes), to be sent right after F; returns its
 * length, else 0. */
size_t net_synretry_sent (struct net_synretry *s, const uint8_t *f, size_t len, uint8_t *out,
                          size_t out_size);

/* Note frame F that the container sent: a SYN-ACK or a RST answering a
 * kept SYN forgets it. */
void net_synretry_received (struct net_synretry *s, const uint8_t *f, size_t len);

#endif
