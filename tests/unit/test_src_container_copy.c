/* Unit tests for src/container_copy_paths.c: which cp argument names a
 * container, how a path splits into directory and name ("DIR/." and "/"
 * mean contents), docker's rules for where a copy lands (and its errors),
 * and the renaming of archive entries on the way. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "src/container_copy.h"

static void
assert_arg (const char *arg, const char *container, const char *path)
{
  struct container_copy_arg a;
  struct error *err = NULL;

  assert_int_equal (container_copy_parse_arg (arg, &a, &err), 0);
  if (container)
    assert_string_equal (a.container, container);
  else
    assert_null (a.container);
  assert_string_equal (a.path, path);
  container_copy_arg_clear (&a);
}

static void
test_arg_container_path (void **state)
{
  (void) state;
  assert_arg ("web:/etc/passwd", "web", "/etc/passwd");
  assert_arg ("0123abcd:relative", "0123abcd", "relative");
}

static void
test_arg_host_paths (void **state)
{
  (void) state;
  assert_arg ("/tmp/x", NULL, "/tmp/x");
  assert_arg ("file.txt", NULL, "file.txt");
  assert_arg ("./a:b", NULL, "./a:b");
  assert_arg ("/abs:colon", NULL, "/abs:colon");
  assert_arg ("dir/a:b", NULL, "dir/a:b");
  assert_arg (":x", NULL, ":x");
  assert_arg ("-", NULL, "-");
}

static void
test_arg_empty_container_path_is_root (void **state)
{
  (void) state;
  assert_arg ("web:", "web", "/");
}

static void
test_arg_empty_fails (void **state)
{
  struct container_copy_arg a;
  struct error *err = NULL;
  (void) state;
  assert_true (container_copy_parse_arg ("", &a, &err) < 0);
  assert_non_null (strstr (err->msg, "empty path"));
  err_release (&err);
}

static void
assert_split (const char *path, const char *dir, const char *base, bool slash, bool contents)
{
  struct container_copy_path p;

  container_copy_split (path, &p);
  assert_string_equal (p.dir, dir);
  assert_string_equal (p.base, base);
  assert_int_equal (p.has_trailing_slash, slash);
  assert_int_equal (p.is_contents, contents);
  container_copy_path_clear (&p);
}

static void
test_split_forms (void **state)
{
  (void) state;
  assert_split ("/etc/passwd", "/etc", "passwd", false, false);
  assert_split ("/etc/", "/", "etc", true, false);
  assert_split ("/etc", "/", "etc", false, false);
  assert_split ("file", ".", "file", false, false);
  assert_split ("a/b//", "a", "b", true, false);
}

static void
test_split_contents (void **state)
{
  (void) state;
  assert_split ("/etc/.", "/etc/.", ".", false, true);
  assert_split ("/", "/", ".", false, true);
  assert_split (".", ".", ".", false, true);
  assert_split ("..", "..", ".", false, true);
}

static void
plan_ok (const char *dest, struct container_copy_dest st, const char *top, bool is_dir,
         const char *want_dir, const char *want_rename)
{
  char *dir = NULL, *rename = NULL;
  struct error *err = NULL;

  assert_int_equal (container_copy_plan (dest, &st, top, is_dir, &dir, &rename, &err), 0);
  assert_string_equal (dir, want_dir);
  if (want_rename)
    assert_string_equal (rename, want_rename);
  else
    assert_null (rename);
  free (dir);
  free (rename);
}

static void
plan_fails (const char *dest, struct container_copy_dest st, const char *top, bool is_dir,
            const char *needle)
{
  char *dir = NULL, *rename = NULL;
  struct error *err = NULL;

  assert_true (container_copy_plan (dest, &st, top, is_dir, &dir, &rename, &err) < 0);
  assert_null (dir);
  assert_non_null (strstr (err->msg, needle));
  err_release (&err);
}

static const struct container_copy_dest existing_dir = { true, true, true };
static const struct container_copy_dest existing_file = { true, false, true };
static const struct container_copy_dest missing = { false, false, true };
static const struct container_copy_dest orphan = { false, false, false };

static void
test_plan_into_existing_dir (void **state)
{
  (void) state;
  plan_ok ("/tmp", existing_dir, "passwd", false, "/tmp", NULL);
  plan_ok ("/tmp", existing_dir, "etc", true, "/tmp", NULL);
}

static void
test_plan_contents_into_existing_dir (void **state)
{
  (void) state;
  plan_ok ("/srv", existing_dir, ".", true, "/srv", "");
}

static void
test_plan_file_onto_file_or_new_name (void **state)
{
  (void) state;
  plan_ok ("/tmp/x.txt", existing_file, "passwd", false, "/tmp", "x.txt");
  plan_ok ("/tmp/new.txt", missing, "passwd", false, "/tmp", "new.txt");
  plan_ok ("new.txt", missing, "passwd", false, ".", "new.txt");
}

static void
test_plan_dir_to_new_dir (void **state)
{
  (void) state;
  plan_ok ("/tmp/copy", missing, "etc", true, "/tmp", "copy");
  plan_ok ("/tmp/copy/", missing, "etc", true, "/tmp", "copy");
  plan_ok ("/tmp/copy", missing, ".", true, "/tmp", "copy");
}

static void
test_plan_errors (void **state)
{
  (void) state;
  plan_fails ("/tmp/f", existing_file, "etc", true, "cannot overwrite non-directory");
  plan_fails ("/tmp/f/", existing_file, "passwd", false, "/tmp/f/");
  plan_fails ("/no/such/x", orphan, "passwd", false, "/no/such");
  plan_fails ("/tmp/newdir/", missing, "passwd", false, "does not exist");
  plan_fails ("/tmp/f/.", existing_file, "passwd", false, "/tmp/f/.");
}

static void
assert_rename (const char *entry, const char *top, const char *rename, const char *want)
{
  char *got = container_copy_rename (entry, top, rename);

  if (want)
    assert_string_equal (got, want);
  else
    assert_null (got);
  free (got);
}

static void
test_rename_entries (void **state)
{
  (void) state;
  assert_rename ("etc", "etc", "copy", "copy");
  assert_rename ("etc/", "etc", "copy", "copy");
  assert_rename ("etc/passwd", "etc", "copy", "copy/passwd");
  assert_rename ("etc/passwd", "etc", NULL, "etc/passwd");
  assert_rename (".", ".", "", NULL);
  assert_rename ("./", ".", "", NULL);
  assert_rename ("./a/b", ".", "", "a/b");
  assert_rename ("./a", ".", "new", "new/a");
}

static void
test_rename_rejects_foreign_entries (void **state)
{
  (void) state;
  assert_rename ("etcetera/x", "etc", "copy", NULL);
  assert_rename ("other", "etc", "copy", NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_arg_container_path),
    cmocka_unit_test (test_arg_host_paths),
    cmocka_unit_test (test_arg_empty_container_path_is_root),
    cmocka_unit_test (test_arg_empty_fails),
    cmocka_unit_test (test_split_forms),
    cmocka_unit_test (test_split_contents),
    cmocka_unit_test (test_plan_into_existing_dir),
    cmocka_unit_test (test_plan_contents_into_existing_dir),
    cmocka_unit_test (test_plan_file_onto_file_or_new_name),
    cmocka_unit_test (test_plan_dir_to_new_dir),
    cmocka_unit_test (test_plan_errors),
    cmocka_unit_test (test_rename_entries),
    cmocka_unit_test (test_rename_rejects_foreign_entries),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
