/* Unit tests for src/runtime_caps.c: capability names (with or without
 * CAP_, any case), podman's default set, merging --cap-add and --cap-drop
 * with ALL and --privileged, and --ulimit parsing. */
#include "config.h"

#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "libutil/mem.h"
#include "src/runtime.h"

#define BIT(c) (UINT64_C (1) << (c))

static char *
error_text (struct error *err)
{
  static char msg[512];

  assert_non_null (err);
  snprintf (msg, sizeof msg, "%s", err->msg);
  return msg;
}

/* ---- names -------------------------------------------------------------- */

static void
test_name_with_prefix (void **state)
{
  cleanup_error struct error *err = NULL;
  int cap = -1;

  assert_int_equal (runtime_caps_from_name ("CAP_NET_ADMIN", &cap, &err), 0);
  assert_int_equal (cap, CAP_NET_ADMIN);
}

static void
test_name_without_prefix_any_case (void **state)
{
  cleanup_error struct error *err = NULL;
  int cap = -1;

  assert_int_equal (runtime_caps_from_name ("sys_admin", &cap, &err), 0);
  assert_int_equal (cap, CAP_SYS_ADMIN);
  assert_int_equal (runtime_caps_from_name ("cap_Chown", &cap, &err), 0);
  assert_int_equal (cap, CAP_CHOWN);
}

static void
test_unknown_name_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  int cap = -1;

  assert_true (runtime_caps_from_name ("CAP_FLY", &cap, &err) < 0);
  assert_string_equal (error_text (err), "unknown capability \"CAP_FLY\"");
}

static void
test_malformed_names_fail (void **state)
{
  const char *bad[] = { "", "CAP_", "ALL", "net admin", "NET_ADMIN ", "CAP_CAP_CHOWN" };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      cleanup_error struct error *err = NULL;
      int cap;

      assert_true (runtime_caps_from_name (bad[i], &cap, &err) < 0);
    }
}

static void
test_name_of_number (void **state)
{
  assert_string_equal (runtime_caps_name (CAP_KILL), "CAP_KILL");
  assert_string_equal (runtime_caps_name (40), "CAP_CHECKPOINT_RESTORE");
  assert_null (runtime_caps_name (-1));
  assert_null (runtime_caps_name (64));
}

/* ---- sets --------------------------------------------------------------- */

static const uint64_t podman_default
    = BIT (CAP_CHOWN) | BIT (CAP_DAC_OVERRIDE) | BIT (CAP_FOWNER) | BIT (CAP_FSETID)
      | BIT (CAP_KILL) | BIT (CAP_NET_BIND_SERVICE) | BIT (CAP_SETFCAP) | BIT (CAP_SETGID)
      | BIT (CAP_SETPCAP) | BIT (CAP_SETUID) | BIT (CAP_SYS_CHROOT);

static void
test_default_set_is_podmans (void **state)
{
  assert_true (runtime_caps_default () == podman_default);
}

static void
merge_ok (bool is_privileged, char **add, char **drop, struct runtime_caps *out)
{
  cleanup_error struct error *err = NULL;

  assert_int_equal (runtime_caps_merge (is_privileged, add, drop, out, &err), 0);
  assert_null (err);
}

static void
test_merge_nothing_is_default (void **state)
{
  struct runtime_caps c;

  merge_ok (false, NULL, NULL, &c);
  assert_true (c.bounding == podman_default);
  assert_true (c.user == 0);
}

static void
test_add_and_drop (void **state)
{
  char *add[] = { "net_admin", NULL };
  char *drop[] = { "CAP_CHOWN", "kill", NULL };
  struct runtime_caps c;

  merge_ok (false, add, drop, &c);
  assert_true (c.bounding
               == ((podman_default | BIT (CAP_NET_ADMIN)) & ~(BIT (CAP_CHOWN) | BIT (CAP_KILL))));
  assert_true (c.user == BIT (CAP_NET_ADMIN));
}

static void
test_drop_all_then_add (void **state)
{
  char *add[] = { "NET_BIND_SERVICE", NULL };
  char *drop[] = { "all", NULL };
  struct runtime_caps c;

  merge_ok (false, add, drop, &c);
  assert_true (c.bounding == BIT (CAP_NET_BIND_SERVICE));
  assert_true (c.user == BIT (CAP_NET_BIND_SERVICE));
}

static void
test_add_all_minus_drop (void **state)
{
  char *add[] = { "ALL", NULL };
  char *drop[] = { "SYS_ADMIN", NULL };
  struct runtime_caps c;

  merge_ok (false, add, drop, &c);
  assert_true (c.bounding & BIT (CAP_SYS_ADMIN) ? false : true);
  assert_true (c.bounding & BIT (CAP_NET_ADMIN));
  assert_true (c.bounding & BIT (40));
  assert_false (c.bounding & BIT (41));
  assert_true (c.user == c.bounding);
}

static void
test_privileged_is_all (void **state)
{
  struct runtime_caps c;

  merge_ok (true, NULL, NULL, &c);
  assert_true (c.bounding == BIT (41) - 1);
  assert_true (c.user == 0);
}

static void
test_privileged_with_drop (void **state)
{
  char *drop[] = { "mknod", NULL };
  struct runtime_caps c;

  merge_ok (true, NULL, drop, &c);
  assert_true (c.bounding == ((BIT (41) - 1) & ~BIT (CAP_MKNOD)));
}

static void
test_add_already_in_default_is_user_cap (void **state)
{
  char *add[] = { "CHOWN", NULL };
  struct runtime_caps c;

  merge_ok (false, add, NULL, &c);
  assert_true (c.bounding == podman_default);
  assert_true (c.user == BIT (CAP_CHOWN));
}

static void
test_add_and_drop_same_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  char *add[] = { "net_raw", NULL };
  char *drop[] = { "CAP_NET_RAW", NULL };
  struct runtime_caps c;

  assert_true (runtime_caps_merge (false, add, drop, &c, &err) < 0);
  assert_string_equal (error_text (err), "capability \"CAP_NET_RAW\" cannot be dropped and added");
}

static void
test_add_all_and_drop_all_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  char *add[] = { "all", NULL };
  char *drop[] = { "ALL", NULL };
  struct runtime_caps c;

  assert_true (runtime_caps_merge (false, add, drop, &c, &err) < 0);
}

static void
test_unknown_cap_in_add_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  char *add[] = { "CAP_NET_ADMIN", "bogus", NULL };
  struct runtime_caps c;

  assert_true (runtime_caps_merge (false, add, NULL, &c, &err) < 0);
  assert_string_equal (error_text (err), "unknown capability \"bogus\"");
}

/* ---- --ulimit ----------------------------------------------------------- */

static void
rlimit_ok (const char *spec, int resource, rlim_t soft, rlim_t hard)
{
  cleanup_error struct error *err = NULL;
  struct runtime_rlimit r;

  assert_int_equal (runtime_rlimit_parse (spec, &r, &err), 0);
  assert_int_equal (r.resource, resource);
  assert_true (r.soft == soft);
  assert_true (r.hard == hard);
}

static char *
rlimit_fails (const char *spec)
{
  cleanup_error struct error *err = NULL;
  struct runtime_rlimit r;
  static char msg[512];

  assert_true (runtime_rlimit_parse (spec, &r, &err) < 0);
  snprintf (msg, sizeof msg, "%s", error_text (err));
  return msg;
}

static void
test_ulimit_soft_and_hard (void **state)
{
  rlimit_ok ("nofile=1024:2048", RLIMIT_NOFILE, 1024, 2048);
}

static void
test_ulimit_soft_only_sets_both (void **state)
{
  rlimit_ok ("nproc=512", RLIMIT_NPROC, 512, 512);
}

static void
test_ulimit_unlimited (void **state)
{
  rlimit_ok ("core=-1", RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY);
  rlimit_ok ("memlock=1024:unlimited", RLIMIT_MEMLOCK, 1024, RLIM_INFINITY);
}

static void
test_ulimit_soft_above_hard_fails (void **state)
{
  assert_string_equal (rlimit_fails ("nofile=2048:1024"),
                       "ulimit soft limit must be less than or equal to hard limit: "
                       "\"nofile=2048:1024\"");
  rlimit_fails ("nofile=-1:1024");
}

static void
test_ulimit_unknown_name_fails (void **state)
{
  assert_string_equal (rlimit_fails ("files=1"), "invalid ulimit type \"files\"");
  rlimit_fails ("NOFILE=1");
}

static void
test_ulimit_malformed_fails (void **state)
{
  const char *bad[] = {
    "", "nofile", "=1", "nofile=", "nofile=:", "nofile=1:", "nofile=:2", "nofile=1:2:3",
    "nofile=abc", "nofile=1k", "nofile=-2", "nofile=+1", "nofile= 1",
    "nofile=99999999999999999999", "nofile=9223372036854775808",
  };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    rlimit_fails (bad[i]);
}

static void
test_ulimit_largest_value (void **state)
{
  rlimit_ok ("fsize=9223372036854775807", RLIMIT_FSIZE, (rlim_t) INT64_MAX,
             (rlim_t) INT64_MAX);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_name_with_prefix),
    cmocka_unit_test (test_name_without_prefix_any_case),
    cmocka_unit_test (test_unknown_name_fails),
    cmocka_unit_test (test_malformed_names_fail),
    cmocka_unit_test (test_name_of_number),
    cmocka_unit_test (test_default_set_is_podmans),
    cmocka_unit_test (test_merge_nothing_is_default),
    cmocka_unit_test (test_add_and_drop),
    cmocka_unit_test (test_drop_all_then_add),
    cmocka_unit_test (test_add_all_minus_drop),
    cmocka_unit_test (test_privileged_is_all),
    cmocka_unit_test (test_privileged_with_drop),
    cmocka_unit_test (test_add_already_in_default_is_user_cap),
    cmocka_unit_test (test_add_and_drop_same_fails),
    cmocka_unit_test (test_add_all_and_drop_all_fails),
    cmocka_unit_test (test_unknown_cap_in_add_fails),
    cmocka_unit_test (test_ulimit_soft_and_hard),
    cmocka_unit_test (test_ulimit_soft_only_sets_both),
    cmocka_unit_test (test_ulimit_unlimited),
    cmocka_unit_test (test_ulimit_soft_above_hard_fails),
    cmocka_unit_test (test_ulimit_unknown_name_fails),
    cmocka_unit_test (test_ulimit_malformed_fails),
    cmocka_unit_test (test_ulimit_largest_value),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
