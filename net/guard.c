/* The host loopback guard: keeps the container from reaching services on
 * the host's loopback through the gateway address, unless
 * allow_host_loopback=true.
 *
 * Why not libslirp's disable_host_loopback: it refuses every datagram to
 * the gateway, also the container's answers to a client on the host's
 * loopback that reached it through a published UDP port (libslirp sees
 * those clients as the gateway; podman issue #4586), so "-p 53:53/udp"
 * would never answer 127.0.0.1.  So slirp runs with the host loopback
 * open and every frame from the container passes here first:
 *
 *   - What libslirp would hand to the host's loopback is guarded: IPv4 to
 *     the gateway or 255.255.255.255, IPv6 to anything in the slirp
 *     prefix but the DNS address, or to ff02::1 (sotranslate_out in
 *     socket.c, libslirp 4.7).
 *   - A TCP SYN there is refused with a RST, as a closed port would be.
 *     Other TCP segments pass: libslirp opens host connections only for
 *     a SYN, and answers a stray segment with its own RST.
 *   - A UDP datagram there passes only as an answer: its ports must be
 *     those of a datagram the gateway sent to the container in the last
 *     SO_EXPIRE (net_guard_inbound() sees everything slirp sends).  DHCP
 *     requests pass, slirp answers them itself.  Anything else is dropped.
 *   - ICMP passes: libslirp answers pings to its own addresses itself.
 *   - IPv4 fragments after the first carry no ports and cannot be
 *     reassembled without the first, which is judged by its ports; a
 *     first fragment too short to show them is dropped. */
#include "config.h"

#include <string.h>

#include "internal.h"

#define ETH_HLEN 14
#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define IPV6_HLEN 40
#define PROTO_TCP 6
#define PROTO_UDP 17
#define TCP_HLEN 20
#define UDP_HLEN 8
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define BOOTP_SERVER 67
#define FLOW_TTL_MS 240000 /* libslirp's SO_EXPIRE for UDP sessions */

static unsigned
get16 (const uint8_t *p)
{
  return (unsigned) p[0] << 8 | p[1];
}

static uint32_t
get32 (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void
put16 (uint8_t *p, unsigned v)
{
  p[0] = (uint8_t) (v >> 8);
  p[1] = (uint8_t) v;
}

static void
put32 (uint8_t *p, uint32_t v)
{
  put16 (p, v >> 16);
  put16 (p + 2, v & 0xffff);
}

void
net_guard_init (struct net_guard *g, const struct net_addrs *a)
{
  memset (g, 0, sizeof *g);
  g->gateway = a->gateway;
  g->prefix6 = a->prefix6;
  g->dns6 = a->dns6;
}

/* ---- parsing a frame ------------------------------------------------------- */

/* The parts of a frame the guard looks at. */
struct packet
{
  bool is_ipv6;
  unsigned proto;       /* PROTO_TCP, PROTO_UDP or other */
  const uint8_t *src;   /* 4 or 16 bytes */
  const uint8_t *dst;
  const uint8_t *l4;    /* the transport header, NULL for a later fragment */
  size_t l4_len;        /* bytes of it in the frame */
};

static bool
parse_ipv4 (const uint8_t *f, size_t len, struct packet *p)
{
  const uint8_t *ip = f + ETH_HLEN;
  size_t ihl;

  if (len < ETH_HLEN + 20 || (ip[0] >> 4) != 4)
    return false;
  ihl = (size_t) (ip[0] & 0x0f) * 4;
  if (ihl < 20 || len < ETH_HLEN + ihl)
    return false;
  p->proto = ip[9];
  p->src = ip + 12;
  p->dst = ip + 16;
  p->l4 = (get16 (ip + 6) & 0x1fff) ? NULL : ip + ihl;
  p->l4_len = p->l4 ? len - ETH_HLEN - ihl : 0;
  return true;
}

static bool
parse_ipv6 (const uint8_t *f, size_t len, struct packet *p)
{
  const uint8_t *ip = f + ETH_HLEN;

  if (len < ETH_HLEN + IPV6_HLEN || (ip[0] >> 4) != 6)
    return false;
  p->is_ipv6 = true;
  p->proto = ip[6];
  p->src = ip + 8;
  p->dst = ip + 24;
  p->l4 = ip + IPV6_HLEN;
  p->l4_len = len - ETH_HLEN - IPV6_HLEN;
  return true;
}

static bool
parse (const uint8_t *f, size_t len, struct packet *p)
{
  memset (p, 0, sizeof *p);
  if (len < ETH_HLEN)
    return false;
  switch (get16 (f + 12))
    {
    case ETH_P_IPV4:
      return parse_ipv4 (f, len, p);
    case ETH_P_IPV6:
      return parse_ipv6 (f, len, p);
    default:
      return false;
    }
}

/* Whether libslirp would send a packet to DST to the host's loopback. */
static bool
is_host_loopback_dst (const struct net_guard *g, const struct packet *p)
{
  static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };

  if (!p->is_ipv6)
    return memcmp (p->dst, &g->gateway, 4) == 0 || get32 (p->dst) == 0xffffffff;
  if (memcmp (p->dst, all_nodes, 16) == 0)
    return true;
  /* The whole /64 is translated to ::1, the DNS address excepted. */
  return memcmp (p->dst, &g->prefix6, 8) == 0 && memcmp (p->dst, &g->dns6, 16) != 0;
}

/* ---- UDP answers -------------------------------------------------------------- */

static struct net_guard_flow *
find_flow (struct net_guard *g, bool is_ipv6, unsigned guest_port, unsigned host_port)
{
  for (size_t i = 0; i < NET_GUARD_FLOWS; i++)
    {
      struct net_guard_flow *fl = &g->flows[i];

      if (fl->last_ms != 0 && fl->is_ipv6 == is_ipv6 && fl->guest_port == guest_port
          && fl->host_port == host_port)
        return fl;
    }
  return NULL;
}

/* An unused or expired slot, or else the least recently used one. */
static struct net_guard_flow *
free_flow (struct net_guard *g, int64_t now)
{
  struct net_guard_flow *oldest = &g->flows[0];

  for (size_t i = 0; i < NET_GUARD_FLOWS; i++)
    {
      struct net_guard_flow *fl = &g->flows[i];

      if (fl->last_ms == 0 || now - fl->last_ms > FLOW_TTL_MS)
        return fl;
      if (fl->last_ms < oldest->last_ms)
        oldest = fl;
    }
  return oldest;
}

void
net_guard_inbound (struct net_guard *g, const uint8_t *f, size_t len, int64_t now)
{
  struct packet p;
  struct net_guard_flow *fl;
  unsigned host_port, guest_port;

  if (!parse (f, len, &p) || p.proto != PROTO_UDP || p.l4 == NULL || p.l4_len < UDP_HLEN)
    return;
  /* From the host's loopback, as slirp shows it: the gateway (or, for
   * IPv6, an address of the prefix). */
  if (p.is_ipv6 ? memcmp (p.src, &g->prefix6, 8) != 0 || memcmp (p.src, &g->dns6, 16) == 0
                : memcmp (p.src, &g->gateway, 4) != 0)
    return;
  host_port = get16 (p.l4);
  guest_port = get16 (p.l4 + 2);
  fl = find_flow (g, p.is_ipv6, guest_port, host_port);
  if (fl == NULL)
    {
      fl = free_flow (g, now);
      fl->is_ipv6 = p.is_ipv6;
      fl->guest_port = (uint16_t) guest_port;
      fl->host_port = (uint16_t) host_port;
    }
  fl->last_ms = now != 0 ? now : 1;
}

/* ---- the verdict ------------------------------------------------------------- */

static enum net_guard_verdict
judge_udp (struct net_guard *g, const struct packet *p, int64_t now)
{
  struct net_guard_flow *fl;

  if (p->l4_len < UDP_HLEN)
    return NET_GUARD_DROP;
  if (!p->is_ipv6 && get16 (p->l4 + 2) == BOOTP_SERVER)
    return NET_GUARD_PASS;
  fl = find_flow (g, p->is_ipv6, get16 (p->l4), get16 (p->l4 + 2));
  if (fl == NULL || now - fl->last_ms > FLOW_TTL_MS)
    return NET_GUARD_DROP;
  return NET_GUARD_PASS;
}

enum net_guard_verdict
net_guard_outbound (struct net_guard *g, const uint8_t *f, size_t len, int64_t now)
{
  struct packet p;

  if (!parse (f, len, &p) || !is_host_loopback_dst (g, &p))
    return NET_GUARD_PASS;
  if (p.proto != PROTO_TCP && p.proto != PROTO_UDP)
    return NET_GUARD_PASS;
  if (p.l4 == NULL)
    return NET_GUARD_PASS; /* a later fragment: the first one was judged */
  if (p.proto == PROTO_UDP)
    return judge_udp (g, &p, now);
  if (p.l4_len < TCP_HLEN)
    return NET_GUARD_DROP;
  if ((p.l4[13] & (TCP_SYN | TCP_ACK)) == TCP_SYN)
    return NET_GUARD_REJECT;
  return NET_GUARD_PASS;
}

/* ---- the RST ----------------------------------------------------------------- */

static uint32_t
sum_bytes (uint32_t sum, const uint8_t *p, size_t len)
{
  for (size_t i = 0; i + 1 < len; i += 2)
    sum += get16 (p + i);
  if (len & 1)
    sum += (uint32_t) p[len - 1] << 8;
  return sum;
}

static unsigned
fold (uint32_t sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/* The TCP header of the RST answering SYN (TCP_HLEN bytes at OUT). */
static void
build_tcp_rst (const struct packet *syn, uint8_t *out)
{
  unsigned flags = syn->l4[13];
  uint32_t ack = get32 (syn->l4 + 4) + 1 + ((flags & TCP_FIN) ? 1 : 0);

  memset (out, 0, TCP_HLEN);
  memcpy (out, syn->l4 + 2, 2);
  memcpy (out + 2, syn->l4, 2);
  put32 (out + 8, ack);
  out[12] = (TCP_HLEN / 4) << 4;
  out[13] = TCP_RST | TCP_ACK;
}

static size_t
build_ipv4 (const struct packet *syn, uint8_t *ip)
{
  uint8_t *tcp = ip + 20;
  uint32_t sum;

  memset (ip, 0, 20);
  ip[0] = 0x45;
  put16 (ip + 2, 20 + TCP_HLEN);
  put16 (ip + 6, 0x4000); /* don't fragment */
  ip[8] = 64;
  ip[9] = PROTO_TCP;
  memcpy (ip + 12, syn->dst, 4);
  memcpy (ip + 16, syn->src, 4);
  put16 (ip + 10, fold (sum_bytes (0, ip, 20)));
  build_tcp_rst (syn, tcp);
  sum = sum_bytes (0, ip + 12, 8) + PROTO_TCP + TCP_HLEN;
  put16 (tcp + 16, fold (sum_bytes (sum, tcp, TCP_HLEN)));
  return 20 + TCP_HLEN;
}

static size_t
build_ipv6 (const struct packet *syn, uint8_t *ip)
{
  uint8_t *tcp = ip + IPV6_HLEN;
  uint32_t sum;

  memset (ip, 0, IPV6_HLEN);
  ip[0] = 0x60;
  put16 (ip + 4, TCP_HLEN);
  ip[6] = PROTO_TCP;
  ip[7] = 64;
  memcpy (ip + 8, syn->dst, 16);
  memcpy (ip + 24, syn->src, 16);
  build_tcp_rst (syn, tcp);
  sum = sum_bytes (0, ip + 8, 32) + PROTO_TCP + TCP_HLEN;
  put16 (tcp + 16, fold (sum_bytes (sum, tcp, TCP_HLEN)));
  return IPV6_HLEN + TCP_HLEN;
}

size_t
net_guard_reset (const uint8_t *f, size_t len, uint8_t *out, size_t out_size)
{
  struct packet syn;

  if (out_size < NET_GUARD_RST_MAX || !parse (f, len, &syn) || syn.proto != PROTO_TCP
      || syn.l4 == NULL || syn.l4_len < TCP_HLEN)
    return 0;
  memcpy (out, f + 6, 6);  /* to the sender's MAC */
  memcpy (out + 6, f, 6);  /* from the MAC it sent to: slirp's */
  memcpy (out + 12, f + 12, 2);
  return ETH_HLEN + (syn.is_ipv6 ? build_ipv6 (&syn, out + ETH_HLEN)
                                 : build_ipv4 (&syn, out + ETH_HLEN));
}
