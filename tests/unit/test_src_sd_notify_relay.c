/* Tests for src/sd_notify_relay.c: which of the container's lines reach
 * systemd and how MAINPID is rewritten, malformed datagrams (NUL bytes,
 * too long, nothing relayable), and the socket itself: bound in a
 * directory whose path exceeds sun_path, writable by all, relaying to
 * $NOTIFY_SOCKET, removed on close. */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/mem.h"
#include "src/sd_notify_relay.h"

static void
assert_translation (const char *msg, const char *expected)
{
  cleanup_free char *out = sd_notify_relay_translate (msg, strlen (msg), 4242);

  if (expected == NULL)
    assert_null (out);
  else
    assert_string_equal (out, expected);
}

static void
test_ready_passes (void **state)
{
  (void) state;
  assert_translation ("READY=1", "READY=1\n");
  assert_translation ("READY=1\n", "READY=1\n");
  assert_translation ("STATUS=serving on :80\nREADY=1\n", "STATUS=serving on :80\nREADY=1\n");
  assert_translation ("STOPPING=1", "STOPPING=1\n");
  assert_translation ("RELOADING=1", "RELOADING=1\n");
  assert_translation ("ERRNO=2\nBUSERROR=org.x.Y\nEXTEND_TIMEOUT_USEC=5000000",
                      "ERRNO=2\nBUSERROR=org.x.Y\nEXTEND_TIMEOUT_USEC=5000000\n");
  /* A STATUS may say anything, '=' included. */
  assert_translation ("STATUS=a=b", "STATUS=a=b\n");
}

static void
test_mainpid_is_rewritten (void **state)
{
  (void) state;
  assert_translation ("MAINPID=1\nREADY=1", "MAINPID=4242\nREADY=1\n");
  assert_translation ("READY=1\nMAINPID=77\n", "READY=1\nMAINPID=4242\n");
  /* Once, however often the container says it. */
  assert_translation ("MAINPID=1\nMAINPID=2", "MAINPID=4242\n");
  assert_translation ("MAINPID=garbage", "MAINPID=4242\n");
}

static void
test_unrelayable_lines_are_dropped (void **state)
{
  (void) state;
  assert_translation ("FDSTORE=1\nFDNAME=x\nREADY=1", "READY=1\n");
  assert_translation ("WATCHDOG=1", NULL);
  assert_translation ("BARRIER=1", NULL);
  assert_translation ("X_CUSTOM=1\n\n\n", NULL);
  assert_translation ("", NULL);
  assert_translation ("\n", NULL);
  /* Near misses of the exact lines. */
  assert_translation ("READY=10\nREADY=\nREADY\n ready=1", NULL);
  assert_translation ("STATUS", NULL);
}

static void
test_nul_byte_refuses_the_message (void **state)
{
  static const char msg[] = "READY=1\0STATUS=x";

  (void) state;
  assert_null (sd_notify_relay_translate (msg, sizeof msg - 1, 1));
}

static void
test_wanted_only_for_container_mode_with_a_socket (void **state)
{
  (void) state;
  setenv ("NOTIFY_SOCKET", "/run/x.sock", 1);
  assert_true (sd_notify_relay_wanted ("container"));
  assert_false (sd_notify_relay_wanted ("conmon"));
  assert_false (sd_notify_relay_wanted ("ignore"));
  assert_false (sd_notify_relay_wanted (NULL));
  setenv ("NOTIFY_SOCKET", "", 1);
  assert_false (sd_notify_relay_wanted ("container"));
  unsetenv ("NOTIFY_SOCKET");
  assert_false (sd_notify_relay_wanted ("container"));
}

/* A datagram listener on an abstract name, as systemd's could be. */
static int
host_listener (const char *name)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  size_t len = strlen (name);
  int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  assert_true (fd >= 0);
  memcpy (sa.sun_path, name, len);
  sa.sun_path[0] = '\0';
  assert_int_equal (bind (fd, (struct sockaddr *) &sa,
                          (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len)),
                    0);
  return fd;
}

/* Send MSG (LEN bytes) to the relay socket in DIR, through a directory
 * descriptor since DIR is too long for sun_path. */
static void
send_to_relay (const char *dir, const char *msg, size_t len)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  cleanup_close int dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  assert_true (dfd >= 0 && fd >= 0);
  snprintf (sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/notify.sock", dfd);
  assert_int_equal (sendto (fd, msg, len, 0, (struct sockaddr *) &sa, sizeof sa), (ssize_t) len);
}

static char *
make_long_dir (char *base)
{
  char *dir;

  assert_non_null (mkdtemp (base));
  dir = xasprintf ("%s/%0120d", base, 0);
  assert_int_equal (mkdir (dir, 0700), 0);
  return dir;
}

static void
test_relay_round_trip (void **state)
{
  char base[] = "/tmp/sdrelay-XXXXXX";
  cleanup_free char *dir = make_long_dir (base);
  cleanup_free char *name = xasprintf ("@skiff-relay-test-%ld", (long) getpid ());
  cleanup_free char *sock = sd_notify_relay_socket_path (dir);
  cleanup_free char *big = xmalloc (SD_NOTIFY_RELAY_MAX + 10);
  struct sd_notify_relay *r = NULL;
  struct error *err = NULL;
  struct stat st;
  char buf[256];
  ssize_t n;
  int host = host_listener (name);

  (void) state;
  assert_true (strlen (sock) > sizeof ((struct sockaddr_un *) 0)->sun_path);
  setenv ("NOTIFY_SOCKET", name, 1);
  assert_int_equal (sd_notify_relay_open (dir, &r, &err), 0);
  assert_int_equal (stat (sock, &st), 0);
  assert_true (S_ISSOCK (st.st_mode));
  assert_int_equal (st.st_mode & 0777, 0666);

  /* Too long: dropped whole; unrelayable: nothing sent; then the real one. */
  memset (big, 'x', SD_NOTIFY_RELAY_MAX + 10);
  memcpy (big, "STATUS=", 7);
  send_to_relay (dir, big, SD_NOTIFY_RELAY_MAX + 10);
  send_to_relay (dir, "WATCHDOG=1", 10);
  send_to_relay (dir, "MAINPID=1\nREADY=1", 17);
  sd_notify_relay_handle (r, 999);
  n = recv (host, buf, sizeof buf - 1, MSG_DONTWAIT);
  assert_true (n > 0);
  buf[n] = '\0';
  assert_string_equal (buf, "MAINPID=999\nREADY=1\n");
  assert_true (recv (host, buf, sizeof buf, MSG_DONTWAIT) < 0);

  /* Nothing waiting: handle returns at once. */
  sd_notify_relay_handle (r, 999);
  sd_notify_relay_close (r);
  assert_int_equal (access (sock, F_OK), -1);
  unsetenv ("NOTIFY_SOCKET");
  close (host);
  rmdir (dir);
  rmdir (base);
}

static void
test_open_replaces_a_stale_socket (void **state)
{
  char base[] = "/tmp/sdrelay-XXXXXX";
  cleanup_free char *dir = make_long_dir (base);
  struct sd_notify_relay *a = NULL, *b = NULL;
  struct error *err = NULL;

  (void) state;
  assert_int_equal (sd_notify_relay_open (dir, &a, &err), 0);
  assert_int_equal (sd_notify_relay_open (dir, &b, &err), 0);
  assert_true (sd_notify_relay_fd (b) >= 0);
  sd_notify_relay_close (b);
  sd_notify_relay_close (a);
  sd_notify_relay_close (NULL);
  rmdir (dir);
  rmdir (base);
}

static void
test_open_in_a_missing_directory_fails (void **state)
{
  struct sd_notify_relay *r = NULL;
  struct error *err = NULL;

  (void) state;
  assert_true (sd_notify_relay_open ("/nonexistent/skiff-relay", &r, &err) < 0);
  assert_null (r);
  assert_non_null (err);
  assert_non_null (strstr (err->msg, "/nonexistent/skiff-relay"));
  err_release (&err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ready_passes),
    cmocka_unit_test (test_mainpid_is_rewritten),
    cmocka_unit_test (test_unrelayable_lines_are_dropped),
    cmocka_unit_test (test_nul_byte_refuses_the_message),
    cmocka_unit_test (test_wanted_only_for_container_mode_with_a_socket),
    cmocka_unit_test (test_relay_round_trip),
    cmocka_unit_test (test_open_replaces_a_stale_socket),
    cmocka_unit_test (test_open_in_a_missing_directory_fails),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
