/* Unit tests for src/runtime_mounts.c's parsers: -v (binds, named and
 * anonymous volumes, options and their conflicts), --mount (bind, volume,
 * tmpfs and their keys) and --tmpfs (flags, defaults, tmpfs data), with
 * malformed input for each. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <cmocka.h>

#include "libutil/mem.h"
#include "src/runtime_internal.h"

static struct runtime_mount
parse_ok (int (*fn) (const char *, struct runtime_mount *, struct error **), const char *spec)
{
  cleanup_error struct error *err = NULL;
  struct runtime_mount m;

  if (fn (spec, &m, &err) < 0)
    fail_msg ("\"%s\": %s", spec, err->msg);
  return m;
}

static char *
parse_fails (int (*fn) (const char *, struct runtime_mount *, struct error **),
             const char *spec)
{
  cleanup_error struct error *err = NULL;
  struct runtime_mount m = { 0 };
  static char msg[512];

  if (fn (spec, &m, &err) == 0)
    fail_msg ("\"%s\" was accepted", spec);
  assert_non_null (err);
  assert_null (m.destination);
  snprintf (msg, sizeof msg, "%s", err->msg);
  return msg;
}

#define V runtime_mount_parse_volume
#define M runtime_mount_parse_mount
#define T runtime_mount_parse_tmpfs

/* ---- -v ----------------------------------------------------------------- */

/* ---- names for inspect ----------------------------------------------------- */

static void
test_propagation_name (void **state)
{
  struct runtime_mount m = parse_ok (V, "/a:/b:rshared");

  (void) state;
  assert_string_equal (runtime_mount_propagation_name (m.propagation), "rshared");
  runtime_mount_clear (&m);
  m = parse_ok (M, "type=bind,src=/a,dst=/b,bind-propagation=slave");
  assert_string_equal (runtime_mount_propagation_name (m.propagation), "slave");
  runtime_mount_clear (&m);
  assert_null (runtime_mount_propagation_name (0));
  assert_null (runtime_mount_propagation_name (MS_SHARED | MS_SLAVE));
  assert_null (runtime_mount_propagation_name (MS_NOSUID));
}

static void
test_masked_and_readonly_paths (void **state)
{
  size_t n = 0;
  const char *const *p = runtime_masked_paths (&n);

  (void) state;
  assert_true (n > 0);
  for (size_t i = 0; i < n; i++)
    assert_int_equal (p[i][0], '/');
  p = runtime_readonly_paths (&n);
  assert_true (n > 0);
  for (size_t i = 0; i < n; i++)
    assert_int_equal (p[i][0], '/');
}

static void
test_volume_bind (void **state)
{
  struct runtime_mount m = parse_ok (V, "/host/data:/data");

  assert_int_equal (m.type, RUNTIME_MOUNT_BIND);
  assert_string_equal (m.source, "/host/data");
  assert_string_equal (m.destination, "/data");
  assert_false (m.is_readonly);
  assert_false (m.is_nonrecursive);
  assert_int_equal (m.flags, 0);
  runtime_mount_clear (&m);
}

static void
test_volume_bind_ro_and_flags (void **state)
{
  struct runtime_mount m = parse_ok (V, "/h:/c:ro,nosuid,nodev,noexec,bind,rslave,z");

  assert_true (m.is_readonly);
  assert_true (m.is_nonrecursive);
  assert_int_equal (m.flags, MS_NOSUID | MS_NODEV | MS_NOEXEC);
  assert_int_equal (m.propagation, MS_SLAVE | MS_REC);
  runtime_mount_clear (&m);
}

static void
test_volume_relative_source_is_bind (void **state)
{
  struct runtime_mount m = parse_ok (V, "./dir:/c");

  assert_int_equal (m.type, RUNTIME_MOUNT_BIND);
  assert_string_equal (m.source, "./dir");
  runtime_mount_clear (&m);
}

static void
test_volume_paths_are_cleaned (void **state)
{
  struct runtime_mount m = parse_ok (V, "//h/./x/../y/:/c//d/./e/../");

  assert_string_equal (m.source, "/h/y");
  assert_string_equal (m.destination, "/c/d");
  runtime_mount_clear (&m);
}

static void
test_volume_dotdot_cannot_climb_above_root (void **state)
{
  struct runtime_mount m = parse_ok (V, "/h:/../../etc");

  assert_string_equal (m.destination, "/etc");
  runtime_mount_clear (&m);
}

static void
test_volume_named (void **state)
{
  struct runtime_mount m = parse_ok (V, "my-vol_1.x:/data:nocopy");

  assert_int_equal (m.type, RUNTIME_MOUNT_VOLUME);
  assert_string_equal (m.source, "my-vol_1.x");
  assert_true (m.is_nocopy);
  runtime_mount_clear (&m);
}

static void
test_volume_anonymous (void **state)
{
  struct runtime_mount m = parse_ok (V, "/data");

  assert_int_equal (m.type, RUNTIME_MOUNT_VOLUME);
  assert_null (m.source);
  assert_string_equal (m.destination, "/data");
  runtime_mount_clear (&m);
}

static void
test_volume_too_many_fields (void **state)
{
  assert_string_equal (parse_fails (V, "/a:/b:ro:extra"),
                       "incorrect volume format \"/a:/b:ro:extra\", should be "
                       "[host-dir:]ctr-dir[:option]");
}

static void
test_volume_relative_destination (void **state)
{
  assert_string_equal (parse_fails (V, "/a:data"),
                       "invalid container path \"data\", must be an absolute path");
  parse_fails (V, "data");
}

static void
test_volume_root_destination (void **state)
{
  parse_fails (V, "/a:/");
  parse_fails (V, "/a:/x/..");
}

static void
test_volume_empty_parts (void **state)
{
  assert_string_equal (parse_fails (V, ":/data"), "host directory cannot be empty");
  parse_fails (V, "");
  parse_fails (V, "/a:");
  parse_fails (V, "/a:/b:");
  parse_fails (V, "/a:/b:ro,");
}

static void
test_volume_bad_name (void **state)
{
  parse_fails (V, "-vol:/data");
  parse_fails (V, "vol$:/data");
  parse_fails (V, "_x:/data");
}

static void
test_volume_unknown_option (void **state)
{
  assert_string_equal (parse_fails (V, "/a:/b:fast"),
                       "invalid option \"fast\" in volume \"/a:/b:fast\"");
  parse_fails (V, "/a:/b:size=1m");
  parse_fails (V, "/a:/b:RO");
}

static void
test_volume_conflicting_options (void **state)
{
  parse_fails (V, "/a:/b:ro,rw");
  parse_fails (V, "/a:/b:ro,ro");
  parse_fails (V, "/a:/b:bind,rbind");
  parse_fails (V, "/a:/b:shared,private");
  parse_fails (V, "/a:/b:exec,noexec");
}

static void
test_volume_tmpfs_only_option (void **state)
{
  parse_fails (V, "/a:/b:notmpcopyup");
}

static void
test_volume_z_may_repeat (void **state)
{
  struct runtime_mount m = parse_ok (V, "/a:/b:z,Z,z");

  runtime_mount_clear (&m);
}

/* ---- --tmpfs ------------------------------------------------------------ */

static void
test_tmpfs_defaults (void **state)
{
  struct runtime_mount m = parse_ok (T, "/tmp");

  assert_int_equal (m.type, RUNTIME_MOUNT_TMPFS);
  assert_null (m.source);
  assert_string_equal (m.destination, "/tmp");
  assert_int_equal (m.flags, MS_NOSUID | MS_NODEV | MS_NOEXEC);
  assert_null (m.data);
  assert_false (m.is_notmpcopyup);
  runtime_mount_clear (&m);
}

static void
test_tmpfs_options (void **state)
{
  struct runtime_mount m = parse_ok (T, "/run:rw,size=787448k,mode=1777,exec,uid=5,gid=6");

  assert_int_equal (m.flags, MS_NOSUID | MS_NODEV);
  assert_string_equal (m.data, "size=787448k,mode=1777,uid=5,gid=6");
  assert_false (m.is_readonly);
  runtime_mount_clear (&m);
}

static void
test_tmpfs_ro_and_notmpcopyup (void **state)
{
  struct runtime_mount m = parse_ok (T, "/x:ro,notmpcopyup,size=50%");

  assert_true (m.is_readonly);
  assert_true (m.is_notmpcopyup);
  assert_string_equal (m.data, "size=50%");
  runtime_mount_clear (&m);
}

static void
test_tmpfs_bad_values (void **state)
{
  assert_string_equal (parse_fails (T, "/x:size=lots"),
                       "invalid value in tmpfs option \"size=lots\" in \"/x:size=lots\"");
  parse_fails (T, "/x:size=");
  parse_fails (T, "/x:size=1t");
  parse_fails (T, "/x:size=1m,mode=800");
  parse_fails (T, "/x:mode=17777");
  parse_fails (T, "/x:mode=");
  parse_fails (T, "/x:uid=-1");
  parse_fails (T, "/x:gid=1,2");
  parse_fails (T, "/x:size=12345678901234567890");
}

static void
test_tmpfs_unknown_option (void **state)
{
  assert_string_equal (parse_fails (T, "/x:huge"), "invalid option \"huge\" in tmpfs \"/x:huge\"");
  parse_fails (T, "/x:nr_inodes");
  parse_fails (T, "/x:bind");
  parse_fails (T, "/x:nocopy");
  parse_fails (T, "/x:context=foo");
}

static void
test_tmpfs_bad_destination (void **state)
{
  parse_fails (T, "tmp");
  parse_fails (T, "");
  parse_fails (T, ":size=1m");
  parse_fails (T, "/");
}

static void
test_tmpfs_conflicts (void **state)
{
  parse_fails (T, "/x:ro,rw");
  parse_fails (T, "/x:suid,nosuid");
}

/* ---- --mount ------------------------------------------------------------ */

static void
test_mount_bind (void **state)
{
  struct runtime_mount m = parse_ok (M, "type=bind,source=/h,target=/c,readonly");

  assert_int_equal (m.type, RUNTIME_MOUNT_BIND);
  assert_string_equal (m.source, "/h");
  assert_string_equal (m.destination, "/c");
  assert_true (m.is_readonly);
  runtime_mount_clear (&m);
}

static void
test_mount_bind_aliases_and_keys (void **state)
{
  struct runtime_mount m
      = parse_ok (M, "dst=/c,src=/h,type=bind,ro=false,bind-propagation=rshared,"
                     "bind-nonrecursive=true,nosuid,consistency=cached,relabel=private,Z");

  assert_false (m.is_readonly);
  assert_true (m.is_nonrecursive);
  assert_int_equal (m.propagation, MS_SHARED | MS_REC);
  assert_int_equal (m.flags, MS_NOSUID);
  runtime_mount_clear (&m);
}

static void
test_mount_volume_named_and_anonymous (void **state)
{
  struct runtime_mount m = parse_ok (M, "type=volume,source=v1,destination=/d,volume-nocopy");

  assert_int_equal (m.type, RUNTIME_MOUNT_VOLUME);
  assert_string_equal (m.source, "v1");
  assert_true (m.is_nocopy);
  runtime_mount_clear (&m);
  m = parse_ok (M, "type=volume,target=/anon");
  assert_int_equal (m.type, RUNTIME_MOUNT_VOLUME);
  assert_null (m.source);
  runtime_mount_clear (&m);
}

static void
test_mount_tmpfs (void **state)
{
  struct runtime_mount m = parse_ok (M, "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770");

  assert_int_equal (m.type, RUNTIME_MOUNT_TMPFS);
  assert_string_equal (m.data, "size=67108864,mode=1770");
  assert_int_equal (m.flags, MS_NOSUID | MS_NODEV | MS_NOEXEC);
  runtime_mount_clear (&m);
}

static void
test_mount_missing_type_or_target (void **state)
{
  assert_string_equal (parse_fails (M, "source=/h,target=/c"),
                       "missing \"type\" in \"source=/h,target=/c\": want type=bind, volume "
                       "or tmpfs");
  assert_string_equal (parse_fails (M, "type=bind,source=/h"),
                       "missing \"target\" in \"type=bind,source=/h\"");
}

static void
test_mount_unsupported_type (void **state)
{
  parse_fails (M, "type=image,source=alpine,target=/i");
  parse_fails (M, "type=devpts,target=/dev/pts");
}

static void
test_mount_bind_needs_absolute_source (void **state)
{
  parse_fails (M, "type=bind,target=/c");
  parse_fails (M, "type=bind,source=vol,target=/c");
  parse_fails (M, "type=volume,source=/abs,target=/c");
}

static void
test_mount_tmpfs_rejects_source_and_bad_options (void **state)
{
  parse_fails (M, "type=tmpfs,source=/h,target=/t");
  parse_fails (M, "type=tmpfs,target=/t,tmpfs-size=huge");
  parse_fails (M, "type=tmpfs,target=/t,tmpfs-mode=99");
  parse_fails (M, "type=bind,source=/h,target=/t,tmpfs-size=1m");
  parse_fails (M, "type=tmpfs,target=/t,bind-propagation=shared");
}

static void
test_mount_malformed (void **state)
{
  const char *bad[] = {
    "", ",", "type=bind,,source=/h,target=/c", "type=bind,source=/h,target=/c,",
    "type=bind,source=/h,target=/c,readonly=maybe", "type=bind,source=/h,target=/c,speed=9",
    "type=bind,type=volume,target=/c", "type=bind,source=,target=/c",
    "type=bind,source=/h,target=c", "type=bind,source=/h,target=/",
    "type=bind,source=/h,target=/c,bind-propagation=sideways",
    "type=bind,source=/h,target=/c,bind", "type=bind,source=/h,target=/c,=x",
  };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    parse_fails (M, bad[i]);
}

int
main (void)
{
  const struct CMUnitTest parsers[] = {
    cmocka_unit_test (test_volume_bind),
    cmocka_unit_test (test_volume_bind_ro_and_flags),
    cmocka_unit_test (test_volume_relative_source_is_bind),
    cmocka_unit_test (test_volume_paths_are_cleaned),
    cmocka_unit_test (test_volume_dotdot_cannot_climb_above_root),
    cmocka_unit_test (test_volume_named),
    cmocka_unit_test (test_volume_anonymous),
    cmocka_unit_test (test_volume_too_many_fields),
    cmocka_unit_test (test_volume_relative_destination),
    cmocka_unit_test (test_volume_root_destination),
    cmocka_unit_test (test_volume_empty_parts),
    cmocka_unit_test (test_volume_bad_name),
    cmocka_unit_test (test_volume_unknown_option),
    cmocka_unit_test (test_volume_conflicting_options),
    cmocka_unit_test (test_volume_tmpfs_only_option),
    cmocka_unit_test (test_volume_z_may_repeat),
    cmocka_unit_test (test_tmpfs_defaults),
    cmocka_unit_test (test_tmpfs_options),
    cmocka_unit_test (test_tmpfs_ro_and_notmpcopyup),
    cmocka_unit_test (test_tmpfs_bad_values),
    cmocka_unit_test (test_tmpfs_unknown_option),
    cmocka_unit_test (test_tmpfs_bad_destination),
    cmocka_unit_test (test_tmpfs_conflicts),
    cmocka_unit_test (test_mount_bind),
    cmocka_unit_test (test_mount_bind_aliases_and_keys),
    cmocka_unit_test (test_mount_volume_named_and_anonymous),
    cmocka_unit_test (test_mount_tmpfs),
    cmocka_unit_test (test_mount_missing_type_or_target),
    cmocka_unit_test (test_mount_unsupported_type),
    cmocka_unit_test (test_mount_bind_needs_absolute_source),
    cmocka_unit_test (test_mount_tmpfs_rejects_source_and_bad_options),
    cmocka_unit_test (test_mount_malformed),
    cmocka_unit_test (test_propagation_name),
    cmocka_unit_test (test_masked_and_readonly_paths),
  };

  return cmocka_run_group_tests (parsers, NULL, NULL);
}
