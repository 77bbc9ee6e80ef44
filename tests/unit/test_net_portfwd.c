/* Unit tests for net/portfwd.c: -p and --expose syntaxes with the malformed
 * values each must reject, -P, docker's JSON shapes, the ps and port texts,
 * and reserving host ports on the loopback address. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "net/net.h"

#define N_ELEMS(a) (sizeof (a) / sizeof ((a)[0]))

static void
parse_ok (const char *spec, struct net_ports *p)
{
  cleanup_error struct error *err = NULL;

  if (net_ports_parse (spec, p, &err) < 0)
    fail_msg ("\"%s\": %s", spec, err->msg);
}

static void
assert_port (const struct net_port *p, const char *ip, unsigned host, unsigned host_last,
             unsigned ctr, enum net_proto proto)
{
  assert_string_equal (p->host_ip, ip);
  assert_int_equal (p->host_port, host);
  assert_int_equal (p->host_port_last, host_last);
  assert_int_equal (p->container_port, ctr);
  assert_int_equal (p->proto, proto);
  assert_int_equal (p->reserved_fd, -1);
}

/* ---- -p: accepted forms --------------------------------------------------- */

static void
test_container_port_only (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("80", &p);
  assert_int_equal (p.n, 1);
  assert_port (&p.v[0], "", 0, 0, 80, NET_PROTO_TCP);
  assert_false (p.v[0].is_ipv6);
  net_ports_clear (&p);
}

static void
test_host_and_container_port (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("8080:80", &p);
  assert_int_equal (p.n, 1);
  assert_port (&p.v[0], "", 8080, 8080, 80, NET_PROTO_TCP);
  net_ports_clear (&p);
}

static void
test_host_ip (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("127.0.0.1:8080:80/udp", &p);
  assert_int_equal (p.n, 1);
  assert_port (&p.v[0], "127.0.0.1", 8080, 8080, 80, NET_PROTO_UDP);
  net_ports_clear (&p);
}

static void
test_host_ip_with_random_port (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("1.2.3.4::80", &p);
  assert_int_equal (p.n, 1);
  assert_port (&p.v[0], "1.2.3.4", 0, 0, 80, NET_PROTO_TCP);
  net_ports_clear (&p);
}

static void
test_empty_or_zero_host_port_is_random (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok (":80", &p);
  parse_ok ("0:81", &p);
  assert_int_equal (p.n, 2);
  assert_port (&p.v[0], "", 0, 0, 80, NET_PROTO_TCP);
  assert_port (&p.v[1], "", 0, 0, 81, NET_PROTO_TCP);
  net_ports_clear (&p);
}

static void
test_all_ipv4_is_empty_ip (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("0.0.0.0:8080:80", &p);
  assert_port (&p.v[0], "", 8080, 8080, 80, NET_PROTO_TCP);
  net_ports_clear (&p);
}

static void
test_ipv6_in_brackets (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("[::1]:8080:80/udp", &p);
  assert_int_equal (p.n, 1);
  assert_port (&p.v[0], "::1", 8080, 8080, 80, NET_PROTO_UDP);
  assert_true (p.v[0].is_ipv6);
  parse_ok ("[::]::443", &p);
  assert_port (&p.v[1], "::", 0, 0, 443, NET_PROTO_TCP);
  assert_true (p.v[1].is_ipv6);
  net_ports_clear (&p);
}

static void
test_equal_ranges_pair_up (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("8000-8002:80-82", &p);
  assert_int_equal (p.n, 3);
  for (unsigned i = 0; i < 3; i++)
    assert_port (&p.v[i], "", 8000 + i, 8000 + i, 80 + i, NET_PROTO_TCP);
  net_ports_clear (&p);
}

static void
test_host_range_for_one_port (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("8000-8010:80", &p);
  assert_int_equal (p.n, 1);
  assert_port (&p.v[0], "", 8000, 8010, 80, NET_PROTO_TCP);
  net_ports_clear (&p);
}

static void
test_container_range_random_hosts (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("80-82", &p);
  assert_int_equal (p.n, 3);
  for (unsigned i = 0; i < 3; i++)
    assert_port (&p.v[i], "", 0, 0, 80 + i, NET_PROTO_TCP);
  net_ports_clear (&p);
}

static void
test_both_protocols (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("53:53/tcp,udp", &p);
  assert_int_equal (p.n, 2);
  assert_port (&p.v[0], "", 53, 53, 53, NET_PROTO_TCP);
  assert_port (&p.v[1], "", 53, 53, 53, NET_PROTO_UDP);
  net_ports_clear (&p);
}

static void
test_full_range_is_bounded (void **state)
{
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("1-65535:1-65535/tcp,udp", &p);
  assert_int_equal (p.n, 2 * 65535);
  assert_port (&p.v[65534], "", 65535, 65535, 65535, NET_PROTO_TCP);
  net_ports_clear (&p);
}

/* ---- -p: rejected forms ----------------------------------------------------- */

static void
test_malformed_specs (void **state)
{
  static const struct
  {
    const char *spec;
    const char *want;
  } cases[] = {
    { "abc", "container port \"abc\" is not a number" },
    { "", "empty container port" },
    { "70000:80", "host port 70000 is out of range 1-65535" },
    { "8080:70000", "container port 70000 is out of range" },
    { "8080:99999999999999999999999", "out of range" },
    { "80-79:80-79", "range 80-79 ends before it starts" },
    { "8000-8001:80-82", "the host port range has 2 ports and the container port range 3" },
    { "8080:80-82", "the host port range has 1 ports" },
    { "8080:80/sctp", "sctp is not supported" },
    { "8080:80/icmp", "unknown protocol \"icmp\"" },
    { "8080:80/", "unknown protocol \"\"" },
    { "8080:", "empty container port" },
    { "8080:0", "container port 0 is not a port" },
    { "0-5:80", "host port 0 is not a port" },
    { "-1:80", "empty host port" },
    { "8080:-80", "empty container port" },
    { "+80", "not a number" },
    { "1.2.3:8080:80", "\"1.2.3\" is not an IPv4 address" },
    { "localhost:8080:80", "is not an IPv4 address" },
    { "::1:8080:80", "IPv6 host addresses go in brackets" },
    { "1:2:3:4", "too many ':'" },
    { "[::1:8080:80", "'[' without ']'" },
    { "[::1]8080:80", "[ADDRESS]:HOSTPORT:CONTAINERPORT" },
    { "[::1]:80", "[ADDRESS]:HOSTPORT:CONTAINERPORT" },
    { "[::1]:1:2:3", "[ADDRESS]:HOSTPORT:CONTAINERPORT" },
    { "[1.2.3.4]:80:80", "is not an IPv6 address" },
    { "[zz]:80:80", "is not an IPv6 address" },
  };

  for (size_t i = 0; i < N_ELEMS (cases); i++)
    {
      cleanup_error struct error *err = NULL;
      struct net_ports p = NET_PORTS_INIT;

      if (net_ports_parse (cases[i].spec, &p, &err) == 0)
        fail_msg ("\"%s\" was accepted", cases[i].spec);
      if (strstr (err->msg, cases[i].want) == NULL)
        fail_msg ("\"%s\": message \"%s\" lacks \"%s\"", cases[i].spec, err->msg, cases[i].want);
      assert_int_equal (p.n, 0);
      net_ports_clear (&p);
    }
}

static void
test_error_names_the_spec (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;

  assert_true (net_ports_parse ("70000:80", &p, &err) < 0);
  assert_true (strncmp (err->msg, "invalid port mapping \"70000:80\": ", 33) == 0);
}

static void
test_failure_leaves_list_alone (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("8080:80", &p);
  assert_true (net_ports_parse ("8000-8001:80-82", &p, &err) < 0);
  assert_int_equal (p.n, 1);
  assert_port (&p.v[0], "", 8080, 8080, 80, NET_PROTO_TCP);
  net_ports_clear (&p);
}

/* ---- --expose and -P ------------------------------------------------------ */

static void
test_exposed_forms (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;

  assert_int_equal (net_ports_parse_exposed ("80", &p, &err), 0);
  assert_int_equal (net_ports_parse_exposed ("53/udp", &p, &err), 0);
  assert_int_equal (net_ports_parse_exposed ("8000-8001/tcp", &p, &err), 0);
  assert_int_equal (p.n, 4);
  assert_port (&p.v[0], "", 0, 0, 80, NET_PROTO_TCP);
  assert_port (&p.v[1], "", 0, 0, 53, NET_PROTO_UDP);
  assert_port (&p.v[3], "", 0, 0, 8001, NET_PROTO_TCP);
  net_ports_clear (&p);
}

static void
test_exposed_malformed (void **state)
{
  static const char *const specs[] = { "80:80", "abc", "0", "80/sctp", "90-80", "" };

  for (size_t i = 0; i < N_ELEMS (specs); i++)
    {
      cleanup_error struct error *err = NULL;
      struct net_ports p = NET_PORTS_INIT;

      if (net_ports_parse_exposed (specs[i], &p, &err) == 0)
        fail_msg ("\"%s\" was accepted", specs[i]);
      assert_non_null (strstr (err->msg, "invalid exposed port"));
      assert_int_equal (p.n, 0);
    }
}

static void
test_publish_all_skips_published (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT, e = NET_PORTS_INIT;

  parse_ok ("8080:80", &p);
  assert_int_equal (net_ports_parse_exposed ("80/tcp", &e, &err), 0);
  assert_int_equal (net_ports_parse_exposed ("80/udp", &e, &err), 0);
  assert_int_equal (net_ports_parse_exposed ("443/tcp", &e, &err), 0);
  assert_int_equal (net_ports_parse_exposed ("443/tcp", &e, &err), 0);
  net_ports_publish_all (&p, &e);
  assert_int_equal (p.n, 3);
  assert_port (&p.v[1], "", 0, 0, 80, NET_PROTO_UDP);
  assert_port (&p.v[2], "", 0, 0, 443, NET_PROTO_TCP);
  net_ports_clear (&p);
  net_ports_clear (&e);
}

/* ---- JSON ----------------------------------------------------------------- */

static char *
to_json (json_object *o)
{
  char *s = jobj_to_string (o, false);

  json_object_put (o);
  return s;
}

static void
test_bindings_shape (void **state)
{
  struct net_ports p = NET_PORTS_INIT;
  cleanup_free char *s = NULL;

  parse_ok ("8080:80", &p);
  parse_ok ("127.0.0.1::80", &p);
  parse_ok ("[::1]:53:53/udp", &p);
  parse_ok ("9000-9010:90", &p);
  s = to_json (net_ports_to_bindings (&p));
  assert_string_equal (s, "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"},"
                          "{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}],"
                          "\"53/udp\":[{\"HostIp\":\"::1\",\"HostPort\":\"53\"}],"
                          "\"90/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"9000-9010\"}]}");
  net_ports_clear (&p);
}

static void
test_bindings_round_trip (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT, back = NET_PORTS_INIT;
  json_object *b;
  cleanup_free char *s1 = NULL, *s2 = NULL;

  parse_ok ("8080:80", &p);
  parse_ok ("127.0.0.1::81/udp", &p);
  parse_ok ("[::1]:53:53/udp", &p);
  parse_ok ("9000-9010:90", &p);
  b = net_ports_to_bindings (&p);
  assert_int_equal (net_ports_from_bindings (b, &back, &err), 0);
  json_object_put (b);
  assert_int_equal (back.n, p.n);
  assert_true (back.v[2].is_ipv6);
  s1 = to_json (net_ports_to_bindings (&p));
  s2 = to_json (net_ports_to_bindings (&back));
  assert_string_equal (s1, s2);
  net_ports_clear (&p);
  net_ports_clear (&back);
}

static void
test_bindings_null_is_empty (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;
  json_object *o = json_tokener_parse ("{\"80/tcp\":null}");

  assert_int_equal (net_ports_from_bindings (NULL, &p, &err), 0);
  assert_int_equal (net_ports_from_bindings (o, &p, &err), 0);
  assert_int_equal (p.n, 0);
  json_object_put (o);
  net_ports_clear (&p);
}

static void
test_bindings_malformed (void **state)
{
  static const struct
  {
    const char *json;
    const char *want;
  } cases[] = {
    { "[]", "PortBindings is not an object" },
    { "{\"abc\":[]}", "PortBindings \"abc\"" },
    { "{\"80-81/tcp\":[]}", "names 2 ports" },
    { "{\"80/tcp\":{}}", "not an array" },
    { "{\"80/tcp\":[1]}", "not an object" },
    { "{\"80/tcp\":[{\"HostPort\":\"x\"}]}", "not a number" },
    { "{\"80/tcp\":[{\"HostPort\":8080}]}", "must be strings" },
    { "{\"80/tcp\":[{\"HostIp\":\"bad\"}]}", "not an IPv4 address" },
    { "{\"80/tcp\":[{\"HostIp\":\"::zz\"}]}", "not an IPv6 address" },
    { "{\"80/tcp\":[{\"HostPort\":\"70000\"}]}", "out of range" },
  };

  for (size_t i = 0; i < N_ELEMS (cases); i++)
    {
      cleanup_error struct error *err = NULL;
      struct net_ports p = NET_PORTS_INIT;
      json_object *o = json_tokener_parse (cases[i].json);

      assert_non_null (o);
      if (net_ports_from_bindings (o, &p, &err) == 0)
        fail_msg ("%s was accepted", cases[i].json);
      if (strstr (err->msg, cases[i].want) == NULL)
        fail_msg ("%s: message \"%s\" lacks \"%s\"", cases[i].json, err->msg, cases[i].want);
      assert_int_equal (p.n, 0);
      json_object_put (o);
    }
}

static void
test_settings_shape (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT, e = NET_PORTS_INIT;
  cleanup_free char *s = NULL;

  parse_ok ("8080:80", &p);
  parse_ok ("[::1]:8081:80", &p);
  assert_int_equal (net_ports_parse_exposed ("80", &e, &err), 0);
  assert_int_equal (net_ports_parse_exposed ("443", &e, &err), 0);
  s = to_json (net_ports_to_settings (&p, &e));
  assert_string_equal (s, "{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8080\"},"
                          "{\"HostIp\":\"::1\",\"HostPort\":\"8081\"}],\"443/tcp\":null}");
  net_ports_clear (&p);
  net_ports_clear (&e);
}

/* ---- ps and port ------------------------------------------------------------ */

static void
test_ps_single_and_ipv6 (void **state)
{
  struct net_ports p = NET_PORTS_INIT;
  cleanup_free char *s = NULL;

  parse_ok ("8080:80", &p);
  parse_ok ("[::1]:5353:53/udp", &p);
  s = net_ports_format_ps (&p, NULL);
  assert_string_equal (s, "0.0.0.0:8080->80/tcp, [::1]:5353->53/udp");
  net_ports_clear (&p);
}

static void
test_ps_folds_runs (void **state)
{
  struct net_ports p = NET_PORTS_INIT;
  cleanup_free char *s = NULL;

  parse_ok ("8000-8002:80-82", &p);
  parse_ok ("9000:90", &p);
  parse_ok ("9002:91", &p);
  s = net_ports_format_ps (&p, NULL);
  assert_string_equal (s, "0.0.0.0:8000-8002->80-82/tcp, 0.0.0.0:9000->90/tcp, "
                          "0.0.0.0:9002->91/tcp");
  net_ports_clear (&p);
}

static void
test_ps_exposed_and_unassigned (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT, e = NET_PORTS_INIT;
  cleanup_free char *s = NULL;

  parse_ok ("127.0.0.1::80", &p);
  parse_ok ("7000-7005:70", &p);
  assert_int_equal (net_ports_parse_exposed ("80", &e, &err), 0);
  assert_int_equal (net_ports_parse_exposed ("443", &e, &err), 0);
  s = net_ports_format_ps (&p, &e);
  assert_string_equal (s, "80/tcp, 0.0.0.0:7000-7005->70/tcp, 443/tcp");
  net_ports_clear (&p);
  net_ports_clear (&e);
}

static void
test_ps_empty (void **state)
{
  struct net_ports p = NET_PORTS_INIT;
  cleanup_free char *s = net_ports_format_ps (&p, NULL);

  assert_string_equal (s, "");
}

static void
test_port_lines (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;
  cleanup_free char *all = NULL, *one = NULL;

  parse_ok ("8080:80", &p);
  parse_ok ("[::1]:8081:80", &p);
  parse_ok ("53:53/udp", &p);
  all = net_ports_format_port (&p, NULL, &err);
  assert_string_equal (all, "80/tcp -> 0.0.0.0:8080\n80/tcp -> [::1]:8081\n"
                            "53/udp -> 0.0.0.0:53\n");
  one = net_ports_format_port (&p, "80", &err);
  assert_string_equal (one, "0.0.0.0:8080\n[::1]:8081\n");
  free (one);
  one = net_ports_format_port (&p, "53/udp", &err);
  assert_string_equal (one, "0.0.0.0:53\n");
  net_ports_clear (&p);
}

static void
test_port_filter_errors (void **state)
{
  struct net_ports p = NET_PORTS_INIT;
  static const struct
  {
    const char *filter;
    const char *want;
  } cases[] = {
    { "53/tcp", "no public port \"53/tcp\" published" },
    { "x", "invalid port \"x\"" },
    { "80/tcp,udp", "name one protocol" },
    { "80/sctp", "sctp" },
  };

  parse_ok ("53:53/udp", &p);
  for (size_t i = 0; i < N_ELEMS (cases); i++)
    {
      cleanup_error struct error *err = NULL;

      assert_null (net_ports_format_port (&p, cases[i].filter, &err));
      if (strstr (err->msg, cases[i].want) == NULL)
        fail_msg ("%s: message \"%s\" lacks \"%s\"", cases[i].filter, err->msg, cases[i].want);
    }
  net_ports_clear (&p);
}

/* ---- reserving ------------------------------------------------------------ */

/* A TCP listener (or bound UDP socket) on 127.0.0.1, port chosen by the
 * kernel; returns the socket and the port in *PORT. */
static int
occupy (int type, uint16_t *port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = { htonl (INADDR_LOOPBACK) } };
  socklen_t len = sizeof a;
  int fd = socket (AF_INET, type | SOCK_CLOEXEC, 0);

  assert_true (fd >= 0);
  assert_int_equal (bind (fd, (struct sockaddr *) &a, sizeof a), 0);
  if (type == SOCK_STREAM)
    assert_int_equal (listen (fd, 1), 0);
  assert_int_equal (getsockname (fd, (struct sockaddr *) &a, &len), 0);
  *port = ntohs (a.sin_port);
  return fd;
}

static void
test_reserve_random_port (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;

  parse_ok ("127.0.0.1::80", &p);
  parse_ok ("127.0.0.1::53/udp", &p);
  if (net_ports_reserve (&p, &err) < 0)
    fail_msg ("%s", err->msg);
  for (size_t i = 0; i < p.n; i++)
    {
      assert_true (p.v[i].host_port != 0);
      assert_int_equal (p.v[i].host_port_last, p.v[i].host_port);
      assert_true (p.v[i].reserved_fd >= 0);
    }
  net_ports_release (&p);
  assert_int_equal (p.v[0].reserved_fd, -1);
  net_ports_clear (&p);
}

static void
test_reserve_port_in_use (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;
  uint16_t port;
  int busy = occupy (SOCK_STREAM, &port);
  cleanup_free char *spec = xasprintf ("127.0.0.1:%u:80", port);
  cleanup_free char *want = xasprintf ("publish 127.0.0.1:%u->80/tcp: host port %u is "
                                       "already in use", port, port);

  parse_ok ("127.0.0.1::81", &p);
  parse_ok (spec, &p);
  assert_true (net_ports_reserve (&p, &err) < 0);
  assert_string_equal (err->msg, want);
  assert_int_equal (err->errnum, EADDRINUSE);
  assert_int_equal (p.v[0].reserved_fd, -1);
  close (busy);
  net_ports_clear (&p);
}

static void
test_reserve_udp_port_in_use (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;
  uint16_t port;
  int busy = occupy (SOCK_DGRAM, &port);
  cleanup_free char *spec = xasprintf ("127.0.0.1:%u:53/udp", port);

  parse_ok (spec, &p);
  assert_true (net_ports_reserve (&p, &err) < 0);
  assert_non_null (strstr (err->msg, "already in use"));
  close (busy);
  net_ports_clear (&p);
}

static void
test_reserve_same_port_twice (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;
  uint16_t port;
  int probe = occupy (SOCK_STREAM, &port);
  cleanup_free char *a = xasprintf ("127.0.0.1:%u:80", port);
  cleanup_free char *b = xasprintf ("%u:81", port);

  close (probe);
  parse_ok (a, &p);
  parse_ok (b, &p);
  assert_true (net_ports_reserve (&p, &err) < 0);
  assert_non_null (strstr (err->msg, "already in use"));
  net_ports_clear (&p);
}

static void
test_reserve_range_skips_used (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;
  uint16_t port;
  int busy = occupy (SOCK_STREAM, &port);
  cleanup_free char *spec = NULL;

  if (port == 65535)
    skip ();
  spec = xasprintf ("127.0.0.1:%u-%u:80", port, port + 1);
  parse_ok (spec, &p);
  if (net_ports_reserve (&p, &err) < 0)
    {
      /* Port + 1 may be taken by someone else: that is the other outcome. */
      assert_non_null (strstr (err->msg, "is in use"));
    }
  else
    {
      assert_int_equal (p.v[0].host_port, port + 1);
      assert_int_equal (p.v[0].host_port_last, port + 1);
    }
  close (busy);
  net_ports_clear (&p);
}

/* A TCP listener on 127.0.0.1:PORT, or -1 when that port is taken. */
static int
occupy_port (uint16_t port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port),
                           .sin_addr = { htonl (INADDR_LOOPBACK) } };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true (fd >= 0);
  if (bind (fd, (struct sockaddr *) &a, sizeof a) < 0 || listen (fd, 1) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static void
test_reserve_range_all_used (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;
  uint16_t port;
  int busy = occupy (SOCK_STREAM, &port);
  int busy2 = port < 65535 ? occupy_port (port + 1) : -1;
  cleanup_free char *spec = xasprintf ("127.0.0.1:%u-%u:80", port, port + 1);

  if (busy2 < 0)
    {
      close (busy);
      skip ();
    }
  parse_ok (spec, &p);
  assert_true (net_ports_reserve (&p, &err) < 0);
  assert_non_null (strstr (err->msg, "every host port from"));
  assert_int_equal (err->errnum, EADDRINUSE);
  close (busy);
  close (busy2);
  net_ports_clear (&p);
}

static void
test_reserve_foreign_address (void **state)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;

  /* 192.0.2.0/24 is TEST-NET-1: never an address of this host.  Only a
   * bind is tried; nothing is sent. */
  parse_ok ("192.0.2.1::80", &p);
  assert_true (net_ports_reserve (&p, &err) < 0);
  assert_non_null (strstr (err->msg, "192.0.2.1 is not an address of this host"));
  net_ports_clear (&p);
}

static unsigned
unpriv_start (void)
{
  char buf[16] = "";
  int fd = open ("/proc/sys/net/ipv4/ip_unprivileged_port_start", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;

  if (fd >= 0)
    close (fd);
  return n > 0 ? (unsigned) atoi (buf) : 1024;
}

/* In a child without root, so the kernel refuses the port. */
static int
reserve_privileged_child (unsigned port)
{
  cleanup_error struct error *err = NULL;
  struct net_ports p = NET_PORTS_INIT;
  cleanup_free char *spec = xasprintf ("127.0.0.1:%u:80", port);

  if (geteuid () == 0 && (setgid (65534) < 0 || setuid (65534) < 0))
    return 2;
  if (net_ports_parse (spec, &p, &err) < 0 || net_ports_reserve (&p, &err) == 0)
    return 3;
  if (strstr (err->msg, "net.ipv4.ip_unprivileged_port_start") == NULL
      || strstr (err->msg, "is privileged") == NULL)
    return 4;
  return 0;
}

static void
test_reserve_privileged_port_names_sysctl (void **state)
{
  unsigned start = unpriv_start ();
  pid_t child;
  int status;

  if (start <= 1)
    skip ();
  child = fork ();
  assert_true (child >= 0);
  if (child == 0)
    _exit (reserve_privileged_child (start - 1));
  assert_int_equal (waitpid (child, &status, 0), child);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_container_port_only),
    cmocka_unit_test (test_host_and_container_port),
    cmocka_unit_test (test_host_ip),
    cmocka_unit_test (test_host_ip_with_random_port),
    cmocka_unit_test (test_empty_or_zero_host_port_is_random),
    cmocka_unit_test (test_all_ipv4_is_empty_ip),
    cmocka_unit_test (test_ipv6_in_brackets),
    cmocka_unit_test (test_equal_ranges_pair_up),
    cmocka_unit_test (test_host_range_for_one_port),
    cmocka_unit_test (test_container_range_random_hosts),
    cmocka_unit_test (test_both_protocols),
    cmocka_unit_test (test_full_range_is_bounded),
    cmocka_unit_test (test_malformed_specs),
    cmocka_unit_test (test_error_names_the_spec),
    cmocka_unit_test (test_failure_leaves_list_alone),
    cmocka_unit_test (test_exposed_forms),
    cmocka_unit_test (test_exposed_malformed),
    cmocka_unit_test (test_publish_all_skips_published),
    cmocka_unit_test (test_bindings_shape),
    cmocka_unit_test (test_bindings_round_trip),
    cmocka_unit_test (test_bindings_null_is_empty),
    cmocka_unit_test (test_bindings_malformed),
    cmocka_unit_test (test_settings_shape),
    cmocka_unit_test (test_ps_single_and_ipv6),
    cmocka_unit_test (test_ps_folds_runs),
    cmocka_unit_test (test_ps_exposed_and_unassigned),
    cmocka_unit_test (test_ps_empty),
    cmocka_unit_test (test_port_lines),
    cmocka_unit_test (test_port_filter_errors),
    cmocka_unit_test (test_reserve_random_port),
    cmocka_unit_test (test_reserve_port_in_use),
    cmocka_unit_test (test_reserve_udp_port_in_use),
    cmocka_unit_test (test_reserve_same_port_twice),
    cmocka_unit_test (test_reserve_range_skips_used),
    cmocka_unit_test (test_reserve_range_all_used),
    cmocka_unit_test (test_reserve_foreign_address),
    cmocka_unit_test (test_reserve_privileged_port_names_sysctl),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
