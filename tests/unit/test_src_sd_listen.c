/* Tests for src/sd_listen.c: LISTEN_* parsing (ours, another process's,
 * absent, malformed, out of range), the container's environment, and
 * taking the sockets: close-on-exec, variables removed, and nothing taken
 * when a named descriptor is not open. */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/mem.h"
#include "src/sd_listen.h"

static void
test_parse_ours (void **state)
{
  struct sd_listen l;
  struct error *err = NULL;

  (void) state;
  assert_int_equal (sd_listen_parse ("2", "100", "web:admin", 100, &l, &err), 0);
  assert_int_equal (l.n_fds, 2);
  assert_string_equal (l.names, "web:admin");
  sd_listen_clear (&l);
  assert_int_equal (sd_listen_parse ("1", "100", NULL, 100, &l, &err), 0);
  assert_int_equal (l.n_fds, 1);
  assert_null (l.names);
}

static void
test_parse_nothing_for_us (void **state)
{
  struct sd_listen l;
  struct error *err = NULL;

  (void) state;
  assert_int_equal (sd_listen_parse (NULL, NULL, NULL, 100, &l, &err), 0);
  assert_int_equal (l.n_fds, 0);
  assert_int_equal (sd_listen_parse ("1", NULL, NULL, 100, &l, &err), 0);
  assert_int_equal (l.n_fds, 0);
  assert_int_equal (sd_listen_parse (NULL, "100", NULL, 100, &l, &err), 0);
  assert_int_equal (l.n_fds, 0);
  /* Another process's sockets (our parent's, say). */
  assert_int_equal (sd_listen_parse ("3", "101", "a", 100, &l, &err), 0);
  assert_int_equal (l.n_fds, 0);
  assert_null (l.names);
  assert_int_equal (sd_listen_parse ("0", "100", NULL, 100, &l, &err), 0);
  assert_int_equal (l.n_fds, 0);
  assert_null (err);
}

static void
assert_malformed (const char *fds, const char *pid)
{
  struct sd_listen l;
  struct error *err = NULL;

  assert_true (sd_listen_parse (fds, pid, NULL, 100, &l, &err) < 0);
  assert_non_null (err);
  assert_int_equal (l.n_fds, 0);
  err_release (&err);
}

static void
test_parse_malformed (void **state)
{
  (void) state;
  assert_malformed ("", "100");
  assert_malformed ("1", "");
  assert_malformed ("-1", "100");
  assert_malformed ("1x", "100");
  assert_malformed ("1", "100 ");
  assert_malformed ("2147483647", "100");
  assert_malformed ("1", "99999999999999999999");
}

static void
test_container_env (void **state)
{
  struct sd_listen none = { 0 }, two = { 2, (char *) "a:b" }, one = { 1, NULL };
  cleanup_strv char **e0 = sd_listen_env (&none);
  cleanup_strv char **e2 = sd_listen_env (&two);
  cleanup_strv char **e1 = sd_listen_env (&one);

  (void) state;
  assert_null (e0[0]);
  assert_int_equal (strv_len (e2), 3);
  assert_string_equal (e2[0], "LISTEN_FDS=2");
  assert_string_equal (e2[1], "LISTEN_PID=1");
  assert_string_equal (e2[2], "LISTEN_FDNAMES=a:b");
  assert_int_equal (strv_len (e1), 2);
  assert_string_equal (e1[0], "LISTEN_FDS=1");
}

static void
set_env (const char *fds, long pid)
{
  char p[32];

  snprintf (p, sizeof p, "%ld", pid);
  setenv ("LISTEN_FDS", fds, 1);
  setenv ("LISTEN_PID", p, 1);
  setenv ("LISTEN_FDNAMES", "one:two", 1);
}

static void
test_take_claims_the_sockets (void **state)
{
  int p[2];

  (void) state;
  /* Descriptors 3 and 4 without close-on-exec, as systemd passes them. */
  assert_int_equal (pipe (p), 0);
  assert_int_equal (dup2 (p[0], 3), 3);
  assert_int_equal (dup2 (p[1], 4), 4);
  if (p[0] != 3 && p[0] != 4)
    close (p[0]);
  if (p[1] != 3 && p[1] != 4)
    close (p[1]);
  set_env ("2", (long) getpid ());
  sd_listen_take ();
  assert_int_equal (sd_listen_get ()->n_fds, 2);
  assert_string_equal (sd_listen_get ()->names, "one:two");
  assert_true (fcntl (3, F_GETFD) & FD_CLOEXEC);
  assert_true (fcntl (4, F_GETFD) & FD_CLOEXEC);
  assert_null (getenv ("LISTEN_FDS"));
  assert_null (getenv ("LISTEN_PID"));
  assert_null (getenv ("LISTEN_FDNAMES"));
  close (3);
  close (4);
}

static void
test_take_ignores_closed_or_foreign (void **state)
{
  (void) state;
  /* Descriptor 3 + 199 is not open. */
  set_env ("200", (long) getpid ());
  sd_listen_take ();
  assert_int_equal (sd_listen_get ()->n_fds, 0);
  assert_null (sd_listen_get ()->names);
  assert_null (getenv ("LISTEN_FDS"));
  /* Meant for another process: not ours, but no longer in our way. */
  set_env ("1", (long) getpid () + 1);
  sd_listen_take ();
  assert_int_equal (sd_listen_get ()->n_fds, 0);
  assert_null (getenv ("LISTEN_PID"));
  set_env ("x", (long) getpid ());
  sd_listen_take ();
  assert_int_equal (sd_listen_get ()->n_fds, 0);
  unsetenv ("LISTEN_FDS");
  sd_listen_take ();
  assert_int_equal (sd_listen_get ()->n_fds, 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_ours),
    cmocka_unit_test (test_parse_nothing_for_us),
    cmocka_unit_test (test_parse_malformed),
    cmocka_unit_test (test_container_env),
    cmocka_unit_test (test_take_claims_the_sockets),
    cmocka_unit_test (test_take_ignores_closed_or_foreign),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
