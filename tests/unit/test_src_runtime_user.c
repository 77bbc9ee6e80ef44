/* Unit tests for src/runtime_user.c: --user resolved against passwd and
 * group texts as runc's GetExecUser does (names, numbers, "user:group",
 * supplementary groups, --group-add, HOME), malformed and hostile lines,
 * and the environment's HOME. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/mem.h"
#include "src/runtime_internal.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                             "bob:x:1001:100::/home/bob:/bin/sh\n";

static const char group[] = "root:x:0:\n"
                            "users:x:100:alice,bob\n"
                            "wheel:x:10:alice\n"
                            "alice:x:1000:\n"
                            "audio:x:29:\n";

static void
resolve_ok (const char *spec, const char *pw, const char *gr, char *const *add,
            struct runtime_user *u)
{
  cleanup_error struct error *err = NULL;

  assert_int_equal (runtime_user_resolve (spec, pw, gr, add, u, &err), 0);
  assert_null (err);
}

static char *
resolve_fails (const char *spec, const char *pw, const char *gr, char *const *add)
{
  cleanup_error struct error *err = NULL;
  struct runtime_user u = { 0 };
  static char msg[512];

  assert_true (runtime_user_resolve (spec, pw, gr, add, &u, &err) < 0);
  assert_non_null (err);
  snprintf (msg, sizeof msg, "%s", err->msg);
  return msg;
}

/* ---- users -------------------------------------------------------------- */

static void
test_no_user_is_root_with_its_home (void **state)
{
  struct runtime_user u;

  resolve_ok (NULL, passwd, group, NULL, &u);
  assert_int_equal (u.uid, 0);
  assert_int_equal (u.gid, 0);
  assert_string_equal (u.home, "/root");
  runtime_user_clear (&u);
}

static void
test_no_user_without_passwd_is_root_at_slash (void **state)
{
  struct runtime_user u;

  resolve_ok ("", NULL, NULL, NULL, &u);
  assert_int_equal (u.uid, 0);
  assert_int_equal (u.gid, 0);
  assert_string_equal (u.home, "/");
  runtime_user_clear (&u);
}

static void
test_name_gives_uid_gid_home (void **state)
{
  struct runtime_user u;

  resolve_ok ("alice", passwd, group, NULL, &u);
  assert_int_equal (u.uid, 1000);
  assert_int_equal (u.gid, 1000);
  assert_string_equal (u.home, "/home/alice");
  runtime_user_clear (&u);
}

static void
test_name_gets_member_groups (void **state)
{
  struct runtime_user u;

  resolve_ok ("alice", passwd, group, NULL, &u);
  assert_int_equal (u.n_groups, 2);
  assert_int_equal (u.groups[0], 100);
  assert_int_equal (u.groups[1], 10);
  runtime_user_clear (&u);
}

static void
test_number_in_passwd_uses_its_entry (void **state)
{
  struct runtime_user u;

  resolve_ok ("1001", passwd, group, NULL, &u);
  assert_int_equal (u.uid, 1001);
  assert_int_equal (u.gid, 100);
  assert_string_equal (u.home, "/home/bob");
  runtime_user_clear (&u);
}

static void
test_number_not_in_passwd_gets_gid_0 (void **state)
{
  struct runtime_user u;

  resolve_ok ("4242", passwd, group, NULL, &u);
  assert_int_equal (u.uid, 4242);
  assert_int_equal (u.gid, 0);
  assert_string_equal (u.home, "/");
  assert_int_equal (u.n_groups, 0);
  runtime_user_clear (&u);
}

static void
test_unknown_name_fails (void **state)
{
  assert_string_equal (resolve_fails ("mallory", passwd, group, NULL),
                       "unable to find user \"mallory\": no matching entries in passwd file");
}

static void
test_name_without_passwd_fails (void **state)
{
  resolve_fails ("alice", NULL, group, NULL);
}

static void
test_number_beyond_31_bits_is_a_name (void **state)
{
  resolve_fails ("4294967296", passwd, group, NULL);
  resolve_fails ("-1", passwd, group, NULL);
}

static void
test_first_match_wins (void **state)
{
  struct runtime_user u;

  resolve_ok ("dup", "dup:x:5:5::/first:\ndup:x:6:6::/second:\n", NULL, NULL, &u);
  assert_int_equal (u.uid, 5);
  assert_string_equal (u.home, "/first");
  runtime_user_clear (&u);
}

/* ---- groups ------------------------------------------------------------- */

static void
test_uid_gid_numbers (void **state)
{
  struct runtime_user u;

  resolve_ok ("1000:29", passwd, group, NULL, &u);
  assert_int_equal (u.uid, 1000);
  assert_int_equal (u.gid, 29);
  /* Explicit group: no implicit supplementary groups, as runc. */
  assert_int_equal (u.n_groups, 0);
  runtime_user_clear (&u);
}

static void
test_name_and_group_name (void **state)
{
  struct runtime_user u;

  resolve_ok ("alice:audio", passwd, group, NULL, &u);
  assert_int_equal (u.uid, 1000);
  assert_int_equal (u.gid, 29);
  runtime_user_clear (&u);
}

static void
test_group_number_not_in_file (void **state)
{
  struct runtime_user u;

  resolve_ok ("5000:6000", passwd, group, NULL, &u);
  assert_int_equal (u.uid, 5000);
  assert_int_equal (u.gid, 6000);
  runtime_user_clear (&u);
}

static void
test_unknown_group_name_fails (void **state)
{
  assert_string_equal (resolve_fails ("alice:nogroup", passwd, group, NULL),
                       "unable to find group \"nogroup\": no matching entries in group file");
}

static void
test_empty_group_after_colon_is_absent (void **state)
{
  struct runtime_user u;

  resolve_ok ("alice:", passwd, group, NULL, &u);
  assert_int_equal (u.gid, 1000);
  assert_int_equal (u.n_groups, 2);
  runtime_user_clear (&u);
}

static void
test_group_add_by_name_and_number (void **state)
{
  char *add[] = { "audio", "777", NULL };
  struct runtime_user u;

  resolve_ok ("bob", passwd, group, add, &u);
  assert_int_equal (u.n_groups, 3);
  assert_int_equal (u.groups[0], 100);
  assert_int_equal (u.groups[1], 29);
  assert_int_equal (u.groups[2], 777);
  runtime_user_clear (&u);
}

static void
test_group_add_duplicates_are_dropped (void **state)
{
  char *add[] = { "users", "100", NULL };
  struct runtime_user u;

  resolve_ok ("alice", passwd, group, add, &u);
  assert_int_equal (u.n_groups, 2);
  runtime_user_clear (&u);
}

static void
test_group_add_unknown_name_fails (void **state)
{
  char *add[] = { "nosuch", NULL };

  resolve_fails ("alice", passwd, group, add);
}

static void
test_member_list_matches_whole_names (void **state)
{
  struct runtime_user u;

  resolve_ok ("al", "al:x:7:7::/:\n", "g1:x:50:alice,xal\ng2:x:51:al\n", NULL, &u);
  assert_int_equal (u.n_groups, 1);
  assert_int_equal (u.groups[0], 51);
  runtime_user_clear (&u);
}

/* ---- malformed files ---------------------------------------------------- */

static void
test_malformed_passwd_lines_are_skipped (void **state)
{
  static const char bad[] = "# comment\n"
                            "\n"
                            "+nis::0:0::/:\n"
                            "short:x:5\n"
                            "nonnum:x:abc:1::/:\n"
                            "neg:x:-3:1::/:\n"
                            ":x:9:9::/:\n"
                            "big:x:99999999999:1::/:\n"
                            "carol:x:2000:2000::/home/carol:/bin/sh\r\n";
  struct runtime_user u;

  resolve_fails ("short", bad, NULL, NULL);
  resolve_fails ("nonnum", bad, NULL, NULL);
  resolve_fails ("neg", bad, NULL, NULL);
  resolve_fails ("big", bad, NULL, NULL);
  resolve_fails ("+nis", bad, NULL, NULL);
  resolve_ok ("carol", bad, NULL, NULL, &u);
  assert_int_equal (u.uid, 2000);
  assert_string_equal (u.home, "/home/carol");
  runtime_user_clear (&u);
}

static void
test_passwd_line_without_home (void **state)
{
  struct runtime_user u;

  resolve_ok ("min", "min:x:3:4\n", NULL, NULL, &u);
  assert_int_equal (u.uid, 3);
  assert_int_equal (u.gid, 4);
  assert_string_equal (u.home, "/");
  runtime_user_clear (&u);
}

static void
test_last_line_without_newline (void **state)
{
  struct runtime_user u;

  resolve_ok ("z", "a:x:1:1::/:\nz:x:9:9::/z:", NULL, NULL, &u);
  assert_int_equal (u.uid, 9);
  runtime_user_clear (&u);
}

static void
test_overlong_line_is_skipped (void **state)
{
  size_t len = 70000;
  cleanup_free char *text = xmalloc (len + 16);
  cleanup_free char *name = NULL;

  memset (text, 'a', len);
  memcpy (text + len, ":x:5:5::/:\n", 12);
  name = xstrndup (text, len);
  resolve_fails (name, text, NULL, NULL);
}

static void
test_malformed_group_lines_are_skipped (void **state)
{
  static const char bad[] = "nogid:x::alice\n"
                            "short:x\n"
                            "good:x:42:alice\n"
                            "-minus:x:43:alice\n";
  char *add[] = { "nogid", NULL };
  struct runtime_user u;

  resolve_ok ("alice", passwd, bad, NULL, &u);
  assert_int_equal (u.n_groups, 1);
  assert_int_equal (u.groups[0], 42);
  runtime_user_clear (&u);
  resolve_fails ("alice", passwd, bad, add);
}

/* ---- HOME --------------------------------------------------------------- */

static void
test_env_gets_home_when_missing (void **state)
{
  char *env[] = { "PATH=/bin", NULL };
  struct runtime_user u = { .home = "/home/alice" };
  cleanup_strv char **out = runtime_user_env (env, &u);

  assert_int_equal (strv_len (out), 2);
  assert_string_equal (out[1], "HOME=/home/alice");
}

static void
test_env_keeps_its_home (void **state)
{
  char *env[] = { "HOME=/custom", NULL };
  struct runtime_user u = { .home = "/home/alice" };
  cleanup_strv char **out = runtime_user_env (env, &u);

  assert_int_equal (strv_len (out), 1);
  assert_string_equal (out[0], "HOME=/custom");
}

static void
test_empty_env_gets_home (void **state)
{
  struct runtime_user u = { .home = "/" };
  cleanup_strv char **out = runtime_user_env (NULL, &u);

  assert_int_equal (strv_len (out), 1);
  assert_string_equal (out[0], "HOME=/");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_no_user_is_root_with_its_home),
    cmocka_unit_test (test_no_user_without_passwd_is_root_at_slash),
    cmocka_unit_test (test_name_gives_uid_gid_home),
    cmocka_unit_test (test_name_gets_member_groups),
    cmocka_unit_test (test_number_in_passwd_uses_its_entry),
    cmocka_unit_test (test_number_not_in_passwd_gets_gid_0),
    cmocka_unit_test (test_unknown_name_fails),
    cmocka_unit_test (test_name_without_passwd_fails),
    cmocka_unit_test (test_number_beyond_31_bits_is_a_name),
    cmocka_unit_test (test_first_match_wins),
    cmocka_unit_test (test_uid_gid_numbers),
    cmocka_unit_test (test_name_and_group_name),
    cmocka_unit_test (test_group_number_not_in_file),
    cmocka_unit_test (test_unknown_group_name_fails),
    cmocka_unit_test (test_empty_group_after_colon_is_absent),
    cmocka_unit_test (test_group_add_by_name_and_number),
    cmocka_unit_test (test_group_add_duplicates_are_dropped),
    cmocka_unit_test (test_group_add_unknown_name_fails),
    cmocka_unit_test (test_member_list_matches_whole_names),
    cmocka_unit_test (test_malformed_passwd_lines_are_skipped),
    cmocka_unit_test (test_passwd_line_without_home),
    cmocka_unit_test (test_last_line_without_newline),
    cmocka_unit_test (test_overlong_line_is_skipped),
    cmocka_unit_test (test_malformed_group_lines_are_skipped),
    cmocka_unit_test (test_env_gets_home_when_missing),
    cmocka_unit_test (test_env_keeps_its_home),
    cmocka_unit_test (test_empty_env_gets_home),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
