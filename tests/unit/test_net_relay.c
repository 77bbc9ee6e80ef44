/* Unit tests for net/relay.c, the relay of published TCP ports, on
 * loopback: the "container" is a listener on 127.0.0.1 of our own network
 * namespace (a net_netns with no namespace descriptors makes its pool
 * here), the client connects to the relay's listener, and the test turns
 * the relay's poll loop by hand between its own reads and writes. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/internal.h"
#include "net/net.h"

#define MAX_FDS 64
#define ROUNDS 20000

struct loop
{
  struct pollfd fds[MAX_FDS];
  size_t n;
};

static size_t
push (void *opaque, int fd, short events)
{
  struct loop *l = opaque;

  assert_true (l->n < MAX_FDS);
  l->fds[l->n] = (struct pollfd) { .fd = fd, .events = events };
  return l->n++;
}

/* One round of the relay's loop, sleeping at most TIMEOUT_MS. */
static void
turn (struct net_relay *r, int timeout_ms)
{
  struct loop l = { .n = 0 };
  int rc;

  net_relay_poll_prepare (r, push, &l);
  rc = poll (l.fds, l.n, timeout_ms);
  assert_true (rc >= 0);
  net_relay_poll_done (r, l.fds, l.n);
}

static uint16_t
port_of (int fd)
{
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;

  assert_int_equal (getsockname (fd, (struct sockaddr *) &sa, &len), 0);
  return ntohs (sa.sin_port);
}

/* A listener on 127.0.0.1, the container's side. */
static int
server_new (uint16_t *port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = { htonl (INADDR_LOOPBACK) } };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  assert_true (fd >= 0);
  assert_int_equal (bind (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  assert_int_equal (listen (fd, 16), 0);
  *port = port_of (fd);
  return fd;
}

/* A relay to 127.0.0.1:CONTAINER_PORT, listening on a free port of
 * 127.0.0.1 (*HOST_PORT). */
static struct net_relay *
relay_new (uint16_t container_port, uint16_t *host_port)
{
  struct net_ports ports = NET_PORTS_INIT;
  struct net_netns ns;
  struct error *err = NULL;
  char spec[64];
  struct net_relay *r;

  net_netns_init (&ns);
  r = net_relay_new (&ns, (struct in_addr) { htonl (INADDR_LOOPBACK) });
  snprintf (spec, sizeof spec, "127.0.0.1::%u", container_port);
  assert_int_equal (net_ports_parse (spec, &ports, &err), 0);
  assert_int_equal (net_ports_reserve (&ports, &err), 0);
  *host_port = ports.v[0].host_port;
  assert_int_equal (net_relay_add_port (r, &ports.v[0], &err), 0);
  assert_int_equal (ports.v[0].reserved_fd, -1);
  net_ports_clear (&ports);
  return r;
}

static int
client_new (uint16_t port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port),
                            .sin_addr = { htonl (INADDR_LOOPBACK) } };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true (fd >= 0);
  /* The listener's backlog completes the handshake before the relay accepts. */
  assert_int_equal (connect (fd, (struct sockaddr *) &sa, sizeof sa), 0);
  assert_int_equal (fcntl (fd, F_SETFL, O_NONBLOCK), 0);
  return fd;
}

/* The container's end of the relayed connection. */
static int
server_accept (struct net_relay *r, int server)
{
  for (int i = 0; i < ROUNDS; i++)
    {
      int fd = accept4 (server, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

      if (fd >= 0)
        return fd;
      assert_int_equal (errno, EAGAIN);
      turn (r, 10);
    }
  fail_msg ("the relay did not connect to the container");
  return -1;
}

/* Read until EOF (or a reset) into BUF; returns the length. */
static size_t
read_to_end (struct net_relay *r, int fd, uint8_t *buf, size_t size, int *last_errno)
{
  size_t got = 0;

  *last_errno = 0;
  for (int i = 0; i < ROUNDS; i++)
    {
      ssize_t n = read (fd, buf + got, size - got);

      if (n == 0)
        return got;
      if (n > 0)
        {
          got += (size_t) n;
          assert_true (got < size);
          continue;
        }
      if (errno != EAGAIN)
        {
          *last_errno = errno;
          return got;
        }
      turn (r, 10);
    }
  fail_msg ("no end of stream");
  return got;
}

static void
wait_no_conns (struct net_relay *r)
{
  for (int i = 0; i < ROUNDS && net_relay_n_conns (r) > 0; i++)
    turn (r, 10);
  assert_int_equal (net_relay_n_conns (r), 0);
}

/* ---- tests ---------------------------------------------------------------- */

/* 4 MiB each way at once, through buffers of 64 KiB: partial writes and
 * EAGAIN on both sides; then both close. */
static void
test_both_ways (void **state)
{
  enum { SIZE = 4 << 20 };
  uint16_t sport, hport;
  int server = server_new (&sport);
  struct net_relay *r = relay_new (sport, &hport);
  int client = client_new (hport);
  int peer = server_accept (r, server);
  uint8_t *up = malloc (SIZE), *down = malloc (SIZE), *got_up = malloc (SIZE),
          *got_down = malloc (SIZE);
  size_t sent_up = 0, sent_down = 0, n_up = 0, n_down = 0;

  for (size_t i = 0; i < SIZE; i++)
    up[i] = (uint8_t) (i * 7 + 1), down[i] = (uint8_t) (i * 13 + 5);
  for (int i = 0; i < ROUNDS * 10 && (n_up < SIZE || n_down < SIZE); i++)
    {
      ssize_t n;

      if (sent_up < SIZE && (n = write (client, up + sent_up, SIZE - sent_up)) > 0)
        sent_up += (size_t) n;
      if (sent_down < SIZE && (n = write (peer, down + sent_down, SIZE - sent_down)) > 0)
        sent_down += (size_t) n;
      if ((n = read (peer, got_up + n_up, SIZE - n_up)) > 0)
        n_up += (size_t) n;
      if ((n = read (client, got_down + n_down, SIZE - n_down)) > 0)
        n_down += (size_t) n;
      turn (r, 10);
    }
  assert_int_equal (n_up, SIZE);
  assert_int_equal (n_down, SIZE);
  assert_memory_equal (up, got_up, SIZE);
  assert_memory_equal (down, got_down, SIZE);
  close (client);
  close (peer);
  wait_no_conns (r);
  free (up), free (down), free (got_up), free (got_down);
  close (server);
  net_relay_free (r);
}

/* The client stops writing and still gets the reply; the container's
 * close then ends the connection. */
static void
test_half_close (void **state)
{
  uint16_t sport, hport;
  int server = server_new (&sport);
  struct net_relay *r = relay_new (sport, &hport);
  int client = client_new (hport);
  int peer = server_accept (r, server);
  uint8_t buf[256];
  int e;

  assert_int_equal (write (client, "ping", 4), 4);
  assert_int_equal (shutdown (client, SHUT_WR), 0);
  assert_int_equal (read_to_end (r, peer, buf, sizeof buf, &e), 4);
  assert_int_equal (e, 0);
  assert_memory_equal (buf, "ping", 4);
  assert_int_equal (net_relay_n_conns (r), 1);
  assert_int_equal (write (peer, "pong", 4), 4);
  close (peer);
  assert_int_equal (read_to_end (r, client, buf, sizeof buf, &e), 4);
  assert_int_equal (e, 0);
  assert_memory_equal (buf, "pong", 4);
  wait_no_conns (r);
  close (client);
  close (server);
  net_relay_free (r);
}

/* Nothing listens on the container's port: the client is closed, and the
 * relay serves the next client. */
static void
test_refused (void **state)
{
  uint16_t sport, hport;
  int server = server_new (&sport);
  struct net_relay *r;
  uint8_t buf[16];
  int client, e;

  close (server);
  r = relay_new (sport, &hport);
  client = client_new (hport);
  assert_int_equal (read_to_end (r, client, buf, sizeof buf, &e), 0);
  wait_no_conns (r);
  close (client);
  client = client_new (hport);
  assert_int_equal (read_to_end (r, client, buf, sizeof buf, &e), 0);
  close (client);
  wait_no_conns (r);
  net_relay_free (r);
}

/* A client that resets the connection gets the container's side closed. */
static void
test_reset (void **state)
{
  uint16_t sport, hport;
  int server = server_new (&sport);
  struct net_relay *r = relay_new (sport, &hport);
  int client = client_new (hport);
  int peer = server_accept (r, server);
  struct linger lg = { 1, 0 };
  uint8_t buf[16];
  int e;

  assert_int_equal (setsockopt (client, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
  close (client);
  read_to_end (r, peer, buf, sizeof buf, &e);
  wait_no_conns (r);
  close (peer);
  close (server);
  net_relay_free (r);
}

/* Many connections one after the other: every descriptor comes back but
 * the pool's, which holds between NET_RELAY_POOL_LOW - 1 and
 * NET_NETNS_POOL sockets. */
static int
count_fds (void)
{
  int n = 0;

  for (int fd = 0; fd < 4096; fd++)
    if (fcntl (fd, F_GETFD) >= 0)
      n++;
  return n;
}

static void
test_many_no_leak (void **state)
{
  uint16_t sport, hport;
  int server = server_new (&sport);
  struct net_relay *r = relay_new (sport, &hport);
  int before = count_fds (), after;
  uint8_t buf[16];
  int e;

  for (int i = 0; i < 200; i++)
    {
      int client = client_new (hport);
      int peer = server_accept (r, server);

      assert_int_equal (write (client, "x", 1), 1);
      assert_int_equal (shutdown (client, SHUT_WR), 0);
      assert_int_equal (read_to_end (r, peer, buf, sizeof buf, &e), 1);
      close (peer);
      assert_int_equal (read_to_end (r, client, buf, sizeof buf, &e), 0);
      close (client);
      wait_no_conns (r);
    }
  after = count_fds ();
  /* The first connection found the pool empty and filled it. */
  assert_true (after >= before + NET_RELAY_POOL_LOW - 1);
  assert_true (after <= before + NET_NETNS_POOL);
  close (server);
  net_relay_free (r);
}

static void
test_not_reserved (void **state)
{
  struct net_netns ns;
  struct net_relay *r;
  struct net_port p = { .host_port = 8080, .container_port = 80, .reserved_fd = -1 };
  struct error *err = NULL;

  net_netns_init (&ns);
  r = net_relay_new (&ns, (struct in_addr) { htonl (INADDR_LOOPBACK) });
  assert_true (net_relay_add_port (r, &p, &err) < 0);
  assert_non_null (strstr (err->msg, "not reserved"));
  err_release (&err);
  net_relay_free (r);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_both_ways),
    cmocka_unit_test (test_half_close),
    cmocka_unit_test (test_refused),
    cmocka_unit_test (test_reset),
    cmocka_unit_test (test_many_no_leak),
    cmocka_unit_test (test_not_reserved),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
