/* Tests for src/sd_notify.c: the datagram reaches path and abstract
 * sockets; malformed NOTIFY_SOCKET values are refused. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/mem.h"
#include "src/sd_notify.h"

/* A datagram socket bound at NAME (a path, or '@' for abstract). */
static int
listener (const char *name)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  size_t len = strlen (name);

  assert_true (fd >= 0);
  memcpy (sa.sun_path, name, len);
  if (name[0] == '@')
    sa.sun_path[0] = '\0';
  assert_int_equal (bind (fd, (struct sockaddr *) &sa,
                          (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len)),
                    0);
  return fd;
}

static void
receive (int fd, char *buf, size_t size)
{
  ssize_t n = recv (fd, buf, size - 1, MSG_DONTWAIT);

  assert_true (n > 0);
  buf[n] = '\0';
}

static void
test_send_to_a_path (void **state)
{
  char dir[] = "/tmp/sdnotify-XXXXXX";
  cleanup_free char *path = NULL;
  struct error *err = NULL;
  char buf[256];
  int fd;

  (void) state;
  assert_non_null (mkdtemp (dir));
  path = xasprintf ("%s/sock", dir);
  fd = listener (path);
  assert_int_equal (sd_notify_send (path, "READY=1", &err), 0);
  receive (fd, buf, sizeof buf);
  assert_string_equal (buf, "READY=1");
  close (fd);
  unlink (path);
  rmdir (dir);
}

static void
test_ready_to_an_abstract_socket (void **state)
{
  cleanup_free char *name = xasprintf ("@skiff-sdnotify-test-%ld", (long) getpid ());
  struct error *err = NULL;
  char buf[256];
  int fd = listener (name);

  (void) state;
  setenv ("NOTIFY_SOCKET", name, 1);
  assert_int_equal (sd_notify_ready (1234, &err), 0);
  unsetenv ("NOTIFY_SOCKET");
  receive (fd, buf, sizeof buf);
  assert_string_equal (buf, "MAINPID=1234\nREADY=1\n");
  close (fd);
}

static void
test_mainpid_alone (void **state)
{
  cleanup_free char *name = xasprintf ("@skiff-sdnotify-main-%ld", (long) getpid ());
  struct error *err = NULL;
  char buf[256];
  int fd = listener (name);

  (void) state;
  setenv ("NOTIFY_SOCKET", name, 1);
  assert_int_equal (sd_notify_mainpid (42, &err), 0);
  unsetenv ("NOTIFY_SOCKET");
  receive (fd, buf, sizeof buf);
  assert_string_equal (buf, "MAINPID=42\n");
  close (fd);
}

static void
test_ready_without_a_socket_is_quiet (void **state)
{
  struct error *err = NULL;

  (void) state;
  unsetenv ("NOTIFY_SOCKET");
  assert_int_equal (sd_notify_ready (1, &err), 0);
  setenv ("NOTIFY_SOCKET", "", 1);
  assert_int_equal (sd_notify_ready (1, &err), 0);
  unsetenv ("NOTIFY_SOCKET");
  assert_null (err);
}

static void
assert_refused (const char *path)
{
  struct error *err = NULL;

  assert_true (sd_notify_send (path, "READY=1", &err) < 0);
  assert_non_null (err);
  err_release (&err);
}

static void
test_malformed_paths_are_refused (void **state)
{
  char long_path[200];

  (void) state;
  memset (long_path, 'a', sizeof long_path - 1);
  long_path[0] = '/';
  long_path[sizeof long_path - 1] = '\0';
  assert_refused ("");
  assert_refused ("relative/sock");
  assert_refused (long_path);
}

static void
test_missing_socket_is_an_error (void **state)
{
  (void) state;
  assert_refused ("/nonexistent/skiff-notify.sock");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_send_to_a_path),
    cmocka_unit_test (test_ready_to_an_abstract_socket),
    cmocka_unit_test (test_mainpid_alone),
    cmocka_unit_test (test_ready_without_a_socket_is_quiet),
    cmocka_unit_test (test_malformed_paths_are_refused),
    cmocka_unit_test (test_missing_socket_is_an_error),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
