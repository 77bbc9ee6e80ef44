/* Unit tests for net/guard.c, the host loopback guard: which frames from
 * the container may reach slirp, the UDP answers it remembers, and the
 * RST that refuses a connection.  Frames are built in memory; nothing is
 * sent. */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/internal.h"
#include "net/net.h"

#define ETH 14
#define T0 1000000 /* a time in ms */

static const uint8_t guest_mac[6] = { 0x5e, 1, 2, 3, 4, 5 };
static const uint8_t slirp_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };

static struct net_guard *
new_guard (void)
{
  struct net_guard *g = malloc (sizeof *g);
  struct net_slirp_opts o;
  struct net_addrs a;

  net_slirp_opts_init (&o);
  net_slirp_opts_addrs (&o, &a);
  net_guard_init (g, &a);
  return g;
}

static void
put16 (uint8_t *p, unsigned v)
{
  p[0] = (uint8_t) (v >> 8);
  p[1] = (uint8_t) v;
}

static unsigned
get16 (const uint8_t *p)
{
  return (unsigned) p[0] << 8 | p[1];
}

/* Ethernet + IPv4 + a transport header of L4_LEN bytes; returns the
 * frame length.  FRAG is the IPv4 flags/offset field. */
static size_t
ipv4_frame (uint8_t *f, const char *src, const char *dst, int proto, unsigned sport,
            unsigned dport, unsigned tcp_flags, unsigned frag, size_t l4_len)
{
  uint8_t *ip = f + ETH, *l4 = ip + 20;

  memset (f, 0, ETH + 20 + l4_len);
  memcpy (f, slirp_mac, 6);
  memcpy (f + 6, guest_mac, 6);
  put16 (f + 12, 0x0800);
  ip[0] = 0x45;
  put16 (ip + 2, (unsigned) (20 + l4_len));
  put16 (ip + 6, frag);
  ip[8] = 64;
  ip[9] = (uint8_t) proto;
  inet_pton (AF_INET, src, ip + 12);
  inet_pton (AF_INET, dst, ip + 16);
  if (l4_len >= 4)
    {
      put16 (l4, sport);
      put16 (l4 + 2, dport);
    }
  if (proto == 6 && l4_len >= 20)
    {
      l4[4] = 0x11, l4[5] = 0x22, l4[6] = 0x33, l4[7] = 0x44; /* seq */
      l4[12] = 5 << 4;
      l4[13] = (uint8_t) tcp_flags;
    }
  return ETH + 20 + l4_len;
}

static size_t
ipv6_frame (uint8_t *f, const char *src, const char *dst, int proto, unsigned sport,
            unsigned dport, unsigned tcp_flags)
{
  uint8_t *ip = f + ETH, *l4 = ip + 40;
  size_t l4_len = proto == 6 ? 20 : 8;

  memset (f, 0, ETH + 40 + l4_len);
  memcpy (f, slirp_mac, 6);
  memcpy (f + 6, guest_mac, 6);
  put16 (f + 12, 0x86dd);
  ip[0] = 0x60;
  put16 (ip + 4, (unsigned) l4_len);
  ip[6] = (uint8_t) proto;
  ip[7] = 64;
  inet_pton (AF_INET6, src, ip + 8);
  inet_pton (AF_INET6, dst, ip + 24);
  put16 (l4, sport);
  put16 (l4 + 2, dport);
  if (proto == 6)
    {
      l4[7] = 9; /* seq */
      l4[12] = 5 << 4;
      l4[13] = (uint8_t) tcp_flags;
    }
  return ETH + 40 + l4_len;
}

/* The one's complement sum over LEN bytes plus SUM, folded. */
static unsigned
csum (uint32_t sum, const uint8_t *p, size_t len)
{
  for (size_t i = 0; i + 1 < len; i += 2)
    sum += get16 (p + i);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

/* ---- what is guarded ---------------------------------------------------------- */

static void
test_syn_to_gateway_rejected (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t f[128];
  size_t n = ipv4_frame (f, "10.0.2.100", "10.0.2.2", 6, 40000, 22, 0x02, 0, 20);

  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_REJECT);
  free (g);
}

static void
test_syn_elsewhere_passes (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t f[128];
  size_t n = ipv4_frame (f, "10.0.2.100", "192.0.2.1", 6, 40000, 80, 0x02, 0, 20);

  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_PASS);
  free (g);
}

static void
test_established_segment_passes (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t f[128];
  size_t syn_ack = ipv4_frame (f, "10.0.2.100", "10.0.2.2", 6, 80, 40000, 0x12, 0, 20);

  assert_int_equal (net_guard_outbound (g, f, syn_ack, T0), NET_GUARD_PASS);
  free (g);
}

static void
test_truncated_tcp_dropped (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t f[128];
  size_t n = ipv4_frame (f, "10.0.2.100", "10.0.2.2", 6, 40000, 22, 0x02, 0, 12);

  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_DROP);
  free (g);
}

static void
test_udp_to_gateway_dropped (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t f[128];
  size_t n = ipv4_frame (f, "10.0.2.100", "10.0.2.2", 17, 5000, 53, 0, 0, 8);

  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_DROP);
  free (g);
}

static void
test_udp_broadcast_dropped_but_dhcp (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t f[128];
  size_t n = ipv4_frame (f, "0.0.0.0", "255.255.255.255", 17, 68, 9, 0, 0, 8);

  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_DROP);
  n = ipv4_frame (f, "0.0.0.0", "255.255.255.255", 17, 68, 67, 0, 0, 8);
  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_PASS);
  free (g);
}

static void
test_dns_address_not_guarded (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t f[128];
  size_t n = ipv4_frame (f, "10.0.2.100", "10.0.2.3", 17, 5000, 53, 0, 0, 8);

  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_PASS);
  n = ipv6_frame (f, "fd00::100", "fd00::3", 6, 5000, 53, 0x02);
  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_PASS);
  free (g);
}

static void
test_icmp_and_arp_pass (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t f[128];
  size_t n = ipv4_frame (f, "10.0.2.100", "10.0.2.2", 1, 0, 0, 0, 0, 8);

  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_PASS);
  put16 (f + 12, 0x0806);
  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_PASS);
  assert_int_equal (net_guard_outbound (g, f, 10, T0), NET_GUARD_PASS);
  free (g);
}

static void
test_later_fragment_passes_short_first_dropped (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t f[128];
  size_t n = ipv4_frame (f, "10.0.2.100", "10.0.2.2", 17, 0, 0, 0, 185, 8);

  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_PASS);
  n = ipv4_frame (f, "10.0.2.100", "10.0.2.2", 17, 5000, 53, 0, 0x2000, 4);
  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_DROP);
  free (g);
}

static void
test_ipv6_prefix_and_all_nodes_guarded (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t f[128];
  size_t n = ipv6_frame (f, "fd00::100", "fd00::2", 6, 40000, 22, 0x02);

  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_REJECT);
  n = ipv6_frame (f, "fd00::100", "fd00::77", 6, 40000, 22, 0x02);
  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_REJECT);
  n = ipv6_frame (f, "fd00::100", "ff02::1", 17, 5000, 9, 0);
  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_DROP);
  n = ipv6_frame (f, "fd00::100", "2001:db8::1", 6, 40000, 22, 0x02);
  assert_int_equal (net_guard_outbound (g, f, n, T0), NET_GUARD_PASS);
  free (g);
}

/* ---- UDP answers ------------------------------------------------------------ */

static void
test_udp_answer_passes (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t in[128], out[128];
  size_t n_in = ipv4_frame (in, "10.0.2.2", "10.0.2.100", 17, 41000, 53, 0, 0, 8);
  size_t n_out = ipv4_frame (out, "10.0.2.100", "10.0.2.2", 17, 53, 41000, 0, 0, 8);

  net_guard_inbound (g, in, n_in, T0);
  assert_int_equal (net_guard_outbound (g, out, n_out, T0 + 1000), NET_GUARD_PASS);
  free (g);
}

static void
test_udp_answer_other_port_dropped (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t in[128], out[128];
  size_t n_in = ipv4_frame (in, "10.0.2.2", "10.0.2.100", 17, 41000, 53, 0, 0, 8);
  size_t n_out = ipv4_frame (out, "10.0.2.100", "10.0.2.2", 17, 53, 41001, 0, 0, 8);

  net_guard_inbound (g, in, n_in, T0);
  assert_int_equal (net_guard_outbound (g, out, n_out, T0), NET_GUARD_DROP);
  free (g);
}

static void
test_udp_answer_expires (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t in[128], out[128];
  size_t n_in = ipv4_frame (in, "10.0.2.2", "10.0.2.100", 17, 41000, 53, 0, 0, 8);
  size_t n_out = ipv4_frame (out, "10.0.2.100", "10.0.2.2", 17, 53, 41000, 0, 0, 8);

  net_guard_inbound (g, in, n_in, T0);
  assert_int_equal (net_guard_outbound (g, out, n_out, T0 + 240001), NET_GUARD_DROP);
  free (g);
}

static void
test_udp_from_elsewhere_opens_nothing (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t in[128], out[128];
  size_t n_in = ipv4_frame (in, "10.0.2.3", "10.0.2.100", 17, 53, 41000, 0, 0, 8);
  size_t n_out = ipv4_frame (out, "10.0.2.100", "10.0.2.2", 17, 41000, 53, 0, 0, 8);

  net_guard_inbound (g, in, n_in, T0);
  assert_int_equal (net_guard_outbound (g, out, n_out, T0), NET_GUARD_DROP);
  free (g);
}

static void
test_udp_answer_ipv6 (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t in[128], out[128];
  size_t n_in = ipv6_frame (in, "fd00::2", "fd00::100", 17, 41000, 53, 0);
  size_t n_out = ipv6_frame (out, "fd00::100", "fd00::2", 17, 53, 41000, 0);

  net_guard_inbound (g, in, n_in, T0);
  assert_int_equal (net_guard_outbound (g, out, n_out, T0), NET_GUARD_PASS);
  free (g);
}

static void
test_flow_table_drops_least_recent (void **state)
{
  struct net_guard *g = new_guard ();
  uint8_t in[128], out[128];
  size_t n;

  for (unsigned i = 0; i <= NET_GUARD_FLOWS; i++)
    {
      n = ipv4_frame (in, "10.0.2.2", "10.0.2.100", 17, 10000 + i, 53, 0, 0, 8);
      net_guard_inbound (g, in, n, T0 + i);
    }
  n = ipv4_frame (out, "10.0.2.100", "10.0.2.2", 17, 53, 10000, 0, 0, 8);
  assert_int_equal (net_guard_outbound (g, out, n, T0 + 600), NET_GUARD_DROP);
  n = ipv4_frame (out, "10.0.2.100", "10.0.2.2", 17, 53, 10001, 0, 0, 8);
  assert_int_equal (net_guard_outbound (g, out, n, T0 + 600), NET_GUARD_PASS);
  free (g);
}

/* ---- the RST ---------------------------------------------------------------- */

static void
test_rst_ipv4 (void **state)
{
  uint8_t f[128], r[NET_GUARD_RST_MAX];
  size_t n = ipv4_frame (f, "10.0.2.100", "10.0.2.2", 6, 40000, 22, 0x02, 0, 20);
  size_t rn = net_guard_reset (f, n, r, sizeof r);
  const uint8_t *ip = r + ETH, *tcp = ip + 20;
  uint32_t pseudo;

  assert_int_equal (rn, ETH + 40);
  assert_memory_equal (r, guest_mac, 6);
  assert_memory_equal (r + 6, slirp_mac, 6);
  assert_memory_equal (ip + 12, f + ETH + 16, 4);
  assert_memory_equal (ip + 16, f + ETH + 12, 4);
  assert_int_equal (csum (0, ip, 20), 0xffff);
  assert_int_equal (get16 (tcp), 22);
  assert_int_equal (get16 (tcp + 2), 40000);
  assert_int_equal (tcp[13], 0x14);
  assert_int_equal (get16 (tcp + 8), 0x1122);
  assert_int_equal (get16 (tcp + 10), 0x3345);
  pseudo = csum (0, ip + 12, 8) + 6 + 20;
  assert_int_equal (csum (pseudo, tcp, 20), 0xffff);
}

static void
test_rst_ipv6 (void **state)
{
  uint8_t f[128], r[NET_GUARD_RST_MAX];
  size_t n = ipv6_frame (f, "fd00::100", "fd00::2", 6, 40000, 22, 0x02);
  size_t rn = net_guard_reset (f, n, r, sizeof r);
  const uint8_t *ip = r + ETH, *tcp = ip + 40;
  uint32_t pseudo;

  assert_int_equal (rn, ETH + 60);
  assert_int_equal (ip[0] >> 4, 6);
  assert_memory_equal (ip + 8, f + ETH + 24, 16);
  assert_int_equal (get16 (tcp + 10), 10);
  pseudo = csum (0, ip + 8, 32) + 6 + 20;
  assert_int_equal (csum (pseudo, tcp, 20), 0xffff);
}

static void
test_rst_refuses_non_tcp_and_small_buffer (void **state)
{
  uint8_t f[128], r[NET_GUARD_RST_MAX];
  size_t n = ipv4_frame (f, "10.0.2.100", "10.0.2.2", 17, 5000, 53, 0, 0, 8);

  assert_int_equal (net_guard_reset (f, n, r, sizeof r), 0);
  n = ipv4_frame (f, "10.0.2.100", "10.0.2.2", 6, 40000, 22, 0x02, 0, 20);
  assert_int_equal (net_guard_reset (f, n, r, NET_GUARD_RST_MAX - 1), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_syn_to_gateway_rejected),
    cmocka_unit_test (test_syn_elsewhere_passes),
    cmocka_unit_test (test_established_segment_passes),
    cmocka_unit_test (test_truncated_tcp_dropped),
    cmocka_unit_test (test_udp_to_gateway_dropped),
    cmocka_unit_test (test_udp_broadcast_dropped_but_dhcp),
    cmocka_unit_test (test_dns_address_not_guarded),
    cmocka_unit_test (test_icmp_and_arp_pass),
    cmocka_unit_test (test_later_fragment_passes_short_first_dropped),
    cmocka_unit_test (test_ipv6_prefix_and_all_nodes_guarded),
    cmocka_unit_test (test_udp_answer_passes),
    cmocka_unit_test (test_udp_answer_other_port_dropped),
    cmocka_unit_test (test_udp_answer_expires),
    cmocka_unit_test (test_udp_from_elsewhere_opens_nothing),
    cmocka_unit_test (test_udp_answer_ipv6),
    cmocka_unit_test (test_flow_table_drops_least_recent),
    cmocka_unit_test (test_rst_ipv4),
    cmocka_unit_test (test_rst_ipv6),
    cmocka_unit_test (test_rst_refuses_non_tcp_and_small_buffer),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
