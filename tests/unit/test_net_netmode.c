/* Unit tests for net/netmode.c: --network values, the slirp4netns options
 * with the malformed ones each must reject, and the addresses a CIDR
 * implies. */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/mem.h"
#include "net/net.h"

#define N_ELEMS(a) (sizeof (a) / sizeof ((a)[0]))

static void
assert_addr (struct in_addr a, const char *want)
{
  char buf[INET_ADDRSTRLEN];

  inet_ntop (AF_INET, &a, buf, sizeof buf);
  assert_string_equal (buf, want);
}

static void
assert_addr6 (const struct in6_addr *a, const char *want)
{
  char buf[INET6_ADDRSTRLEN];

  inet_ntop (AF_INET6, a, buf, sizeof buf);
  assert_string_equal (buf, want);
}

/* Parse SPEC, which must succeed. */
static void
parse_ok (const char *spec, struct net_mode *m)
{
  cleanup_error struct error *err = NULL;

  if (net_mode_parse (spec, m, &err) < 0)
    fail_msg ("\"%s\": %s", spec ? spec : "(null)", err->msg);
}

/* Parse SPEC, which must fail with a message holding WANT. */
static void
parse_fails (const char *spec, const char *want)
{
  cleanup_error struct error *err = NULL;
  struct net_mode m;

  if (net_mode_parse (spec, &m, &err) == 0)
    fail_msg ("\"%s\" was accepted", spec);
  net_mode_clear (&m);
  assert_non_null (err);
  if (strstr (err->msg, want) == NULL)
    fail_msg ("\"%s\": message \"%s\" lacks \"%s\"", spec, err->msg, want);
}

/* ---- the modes ---------------------------------------------------------- */

static void
test_default_is_slirp_with_defaults (void **state)
{
  struct net_mode m;

  parse_ok (NULL, &m);
  assert_int_equal (m.kind, NET_MODE_SLIRP);
  assert_null (m.target);
  assert_addr (m.slirp.network, "10.0.2.0");
  assert_int_equal (m.slirp.prefix_len, 24);
  assert_int_equal (m.slirp.mtu, 65520);
  assert_true (m.slirp.is_ipv6_enabled);
  assert_false (m.slirp.is_host_loopback_allowed);
  assert_null (m.slirp.outbound_addr);
  net_mode_clear (&m);
}

static void
test_slirp_aliases (void **state)
{
  static const char *const specs[] = { "", "default", "bridge", "private", "slirp4netns" };

  for (size_t i = 0; i < N_ELEMS (specs); i++)
    {
      struct net_mode m;

      parse_ok (specs[i], &m);
      assert_int_equal (m.kind, NET_MODE_SLIRP);
      net_mode_clear (&m);
    }
}

static void
test_none_and_host (void **state)
{
  struct net_mode m;

  parse_ok ("none", &m);
  assert_int_equal (m.kind, NET_MODE_NONE);
  net_mode_clear (&m);
  parse_ok ("host", &m);
  assert_int_equal (m.kind, NET_MODE_HOST);
  assert_null (m.target);
  net_mode_clear (&m);
}

static void
test_container_target (void **state)
{
  struct net_mode m;

  parse_ok ("container:web", &m);
  assert_int_equal (m.kind, NET_MODE_CONTAINER);
  assert_string_equal (m.target, "web");
  net_mode_clear (&m);
  assert_null (m.target);
}

static void
test_ns_target (void **state)
{
  struct net_mode m;

  parse_ok ("ns:/run/netns/blue", &m);
  assert_int_equal (m.kind, NET_MODE_NS);
  assert_string_equal (m.target, "/run/netns/blue");
  net_mode_clear (&m);
}

static void
test_targets_must_be_given (void **state)
{
  parse_fails ("container:", "names nothing");
  parse_fails ("ns:", "names nothing");
}

static void
test_ns_path_must_be_absolute (void **state)
{
  parse_fails ("ns:run/netns/blue", "must be absolute");
}

static void
test_unsupported_modes (void **state)
{
  parse_fails ("pasta", "pasta is not supported");
  parse_fails ("pasta:-T,80", "pasta is not supported");
  parse_fails ("bridge:ip=10.88.0.5", "no bridge driver");
  parse_fails ("mynet", "network \"mynet\" not found");
  parse_fails ("Host", "not found");
}

static void
test_error_names_the_value (void **state)
{
  parse_fails ("slirp4netns:mtu=abc", "--network \"slirp4netns:mtu=abc\"");
}

/* ---- slirp4netns options ------------------------------------------------ */

static void
test_slirp_all_options (void **state)
{
  struct net_mode m;

  parse_ok ("slirp4netns:allow_host_loopback=true,mtu=1500,cidr=10.1.0.0/16,"
            "enable_ipv6=false,port_handler=slirp4netns,outbound_addr=eth0",
            &m);
  assert_int_equal (m.kind, NET_MODE_SLIRP);
  assert_true (m.slirp.is_host_loopback_allowed);
  assert_int_equal (m.slirp.mtu, 1500);
  assert_addr (m.slirp.network, "10.1.0.0");
  assert_int_equal (m.slirp.prefix_len, 16);
  assert_false (m.slirp.is_ipv6_enabled);
  assert_string_equal (m.slirp.outbound_addr, "eth0");
  net_mode_clear (&m);
}

static void
test_slirp_booleans_as_go_reads_them (void **state)
{
  static const struct
  {
    const char *v;
    bool want;
  } cases[] = {
    { "1", true }, { "t", true }, { "T", true }, { "TRUE", true }, { "True", true },
    { "0", false }, { "f", false }, { "F", false }, { "FALSE", false }, { "false", false },
  };

  for (size_t i = 0; i < N_ELEMS (cases); i++)
    {
      cleanup_free char *spec = xasprintf ("slirp4netns:allow_host_loopback=%s", cases[i].v);
      struct net_mode m;

      parse_ok (spec, &m);
      assert_int_equal (m.slirp.is_host_loopback_allowed, cases[i].want);
      net_mode_clear (&m);
    }
}

static void
test_slirp_bad_boolean (void **state)
{
  parse_fails ("slirp4netns:allow_host_loopback=yes", "not a boolean");
  parse_fails ("slirp4netns:enable_ipv6=", "not a boolean");
}

static void
test_slirp_mtu_bounds (void **state)
{
  struct net_mode m;

  parse_ok ("slirp4netns:mtu=65521", &m);
  assert_int_equal (m.slirp.mtu, 65521);
  net_mode_clear (&m);
  parse_ok ("slirp4netns:enable_ipv6=false,mtu=68", &m);
  assert_int_equal (m.slirp.mtu, 68);
  net_mode_clear (&m);
  parse_fails ("slirp4netns:mtu=65522", "at most 65521");
  parse_fails ("slirp4netns:enable_ipv6=false,mtu=67", "below the minimum");
  parse_fails ("slirp4netns:mtu=-1", "mtu");
  parse_fails ("slirp4netns:mtu=99999999999999999999999", "mtu");
}

static void
test_slirp_mtu_too_small_for_ipv6 (void **state)
{
  parse_fails ("slirp4netns:mtu=1000", "enable_ipv6=false");
}

static void
test_slirp_cidr_malformed (void **state)
{
  parse_fails ("slirp4netns:cidr=10.0.2.0", "ADDRESS/PREFIX");
  parse_fails ("slirp4netns:cidr=300.0.0.0/8", "not an IPv4 address");
  parse_fails ("slirp4netns:cidr=10.0.2.0/abc", "prefix length");
  parse_fails ("slirp4netns:cidr=10.0.2.0/33", "prefix length");
  parse_fails ("slirp4netns:cidr=10.0.2.0/0", "out of range");
}

static void
test_slirp_cidr_too_small_for_guest (void **state)
{
  parse_fails ("slirp4netns:cidr=10.0.2.0/26", "out of range 1-25");
}

static void
test_slirp_cidr_host_bits (void **state)
{
  parse_fails ("slirp4netns:cidr=10.0.2.1/24", "\"10.0.2.0/24\"");
}

static void
test_slirp_port_handler (void **state)
{
  parse_fails ("slirp4netns:port_handler=rootlesskit", "rootlesskit is not supported");
  parse_fails ("slirp4netns:port_handler=other", "not slirp4netns");
}

static void
test_slirp_outbound6_needs_ipv6 (void **state)
{
  parse_fails ("slirp4netns:enable_ipv6=false,outbound_addr6=::1", "needs enable_ipv6");
  parse_fails ("slirp4netns:outbound_addr=", "empty value");
}

static void
test_slirp_unknown_or_bare_option (void **state)
{
  parse_fails ("slirp4netns:foo=bar", "unknown option \"foo\"");
  parse_fails ("slirp4netns:mtu", "KEY=VALUE");
  parse_fails ("slirp4netns:", "no options");
  parse_fails ("slirp4netns:mtu=1500,,", "KEY=VALUE");
}

/* ---- addresses ---------------------------------------------------------- */

static void
test_default_addresses (void **state)
{
  struct net_slirp_opts o;
  struct net_addrs a;

  net_slirp_opts_init (&o);
  net_slirp_opts_addrs (&o, &a);
  assert_addr (a.network, "10.0.2.0");
  assert_addr (a.netmask, "255.255.255.0");
  assert_addr (a.gateway, "10.0.2.2");
  assert_addr (a.dns, "10.0.2.3");
  assert_addr (a.guest, "10.0.2.100");
  assert_addr6 (&a.prefix6, "fd00::");
  assert_addr6 (&a.gateway6, "fd00::2");
  assert_addr6 (&a.dns6, "fd00::3");
}

static void
test_addresses_follow_cidr (void **state)
{
  struct net_mode m;
  struct net_addrs a;

  parse_ok ("slirp4netns:cidr=192.168.128.0/17", &m);
  net_slirp_opts_addrs (&m.slirp, &a);
  assert_addr (a.netmask, "255.255.128.0");
  assert_addr (a.gateway, "192.168.128.2");
  assert_addr (a.dns, "192.168.128.3");
  assert_addr (a.guest, "192.168.128.100");
  net_mode_clear (&m);
}

static void
test_tap_config_from_opts (void **state)
{
  struct net_mode m;
  struct net_tap_config t;

  parse_ok ("slirp4netns:cidr=10.9.0.0/24,mtu=9000", &m);
  net_tap_config_from_opts (&m.slirp, &t);
  assert_string_equal (t.name, "tap0");
  assert_int_equal (t.mtu, 9000);
  assert_addr (t.addr, "10.9.0.100");
  assert_int_equal (t.prefix_len, 24);
  assert_addr (t.gateway, "10.9.0.2");
  net_mode_clear (&m);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_is_slirp_with_defaults),
    cmocka_unit_test (test_slirp_aliases),
    cmocka_unit_test (test_none_and_host),
    cmocka_unit_test (test_container_target),
    cmocka_unit_test (test_ns_target),
    cmocka_unit_test (test_targets_must_be_given),
    cmocka_unit_test (test_ns_path_must_be_absolute),
    cmocka_unit_test (test_unsupported_modes),
    cmocka_unit_test (test_error_names_the_value),
    cmocka_unit_test (test_slirp_all_options),
    cmocka_unit_test (test_slirp_booleans_as_go_reads_them),
    cmocka_unit_test (test_slirp_bad_boolean),
    cmocka_unit_test (test_slirp_mtu_bounds),
    cmocka_unit_test (test_slirp_mtu_too_small_for_ipv6),
    cmocka_unit_test (test_slirp_cidr_malformed),
    cmocka_unit_test (test_slirp_cidr_too_small_for_guest),
    cmocka_unit_test (test_slirp_cidr_host_bits),
    cmocka_unit_test (test_slirp_port_handler),
    cmocka_unit_test (test_slirp_outbound6_needs_ipv6),
    cmocka_unit_test (test_slirp_unknown_or_bare_option),
    cmocka_unit_test (test_default_addresses),
    cmocka_unit_test (test_addresses_follow_cidr),
    cmocka_unit_test (test_tap_config_from_opts),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
