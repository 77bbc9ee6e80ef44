/* Unit tests for src/runtime_fs.c: lookups inside a container's root on a
 * temporary tree with hostile symlinks ("..", absolute, loops, dangling),
 * each run with openat2 and with the forced component walk, and mount
 * targets made inside the root. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/mem.h"
#include "src/runtime_internal.h"

static char tmpdir[] = "/tmp/test-runtime-mounts-XXXXXX";
static int root_fd = -1;

static int
tree_setup (void **state)
{
  char path[512];

  if (mkdtemp (tmpdir) == NULL)
    return -1;
  snprintf (path, sizeof path, "%s/root", tmpdir);
  if (mkdir (path, 0755) < 0)
    return -1;
  root_fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return -1;
  /* A file outside the root that an escape would reach. */
  snprintf (path, sizeof path, "%s/outside", tmpdir);
  close (open (path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  return mkdirat (root_fd, "etc", 0755) || symlinkat ("/", root_fd, "etc/up")
         || symlinkat ("../../../..", root_fd, "dotdot") || symlinkat ("/etc", root_fd, "abs")
         || symlinkat ("loop", root_fd, "loop")
         || symlinkat ("/nowhere/file", root_fd, "dangling") ? -1 : 0;
}

static int
tree_teardown (void **state)
{
  char cmd[600];

  close (root_fd);
  unsetenv ("SKIFF_RUNTIME_FALLBACK");
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system (cmd) == 0 ? 0 : -1;
}

static int
with_openat2 (void **state)
{
  unsetenv ("SKIFF_RUNTIME_FALLBACK");
  return 0;
}

static int
with_walk (void **state)
{
  setenv ("SKIFF_RUNTIME_FALLBACK", "mqueue,openat2", 1);
  return 0;
}

static void
assert_is_root_dir (int fd, const char *name)
{
  struct stat a, b;

  assert_true (fd >= 0);
  assert_int_equal (fstat (fd, &a), 0);
  assert_int_equal (fstatat (root_fd, name, &b, 0), 0);
  assert_true (a.st_ino == b.st_ino && a.st_dev == b.st_dev);
  close (fd);
}

static void
test_lookup_dotdot_stays_in_root (void **state)
{
  assert_is_root_dir (runtime_fs_open_in_root (root_fd, "../../..", O_PATH, 0), ".");
  assert_is_root_dir (runtime_fs_open_in_root (root_fd, "/dotdot", O_PATH, 0), ".");
  assert_is_root_dir (runtime_fs_open_in_root (root_fd, "etc/up/etc", O_PATH, 0), "etc");
  assert_true (runtime_fs_open_in_root (root_fd, "dotdot/outside", O_PATH, 0) < 0);
  assert_int_equal (errno, ENOENT);
}

static void
test_lookup_absolute_symlink_is_in_root (void **state)
{
  assert_is_root_dir (runtime_fs_open_in_root (root_fd, "/abs", O_PATH, 0), "etc");
  assert_is_root_dir (runtime_fs_open_in_root (root_fd, "abs/./up/abs", O_PATH, 0), "etc");
}

static void
test_lookup_nofollow_gives_the_link (void **state)
{
  struct stat st;
  int fd = runtime_fs_open_in_root (root_fd, "abs", O_PATH | O_NOFOLLOW, 0);

  assert_true (fd >= 0);
  assert_int_equal (fstat (fd, &st), 0);
  assert_true (S_ISLNK (st.st_mode));
  close (fd);
}

static void
test_lookup_symlink_loop_fails (void **state)
{
  assert_true (runtime_fs_open_in_root (root_fd, "loop", O_PATH, 0) < 0);
  assert_int_equal (errno, ELOOP);
}

static void
test_make_target_replaces_dangling_link_in_root (void **state)
{
  cleanup_error struct error *err = NULL;
  struct stat st;
  char path[600];
  int fd = runtime_fs_make_target (root_fd, "/abs/new/dir", true, &err);

  assert_true (fd >= 0);
  close (fd);
  assert_int_equal (fstatat (root_fd, "etc/new/dir", &st, 0), 0);
  assert_true (S_ISDIR (st.st_mode));
  fd = runtime_fs_make_target (root_fd, "/dangling", false, &err);
  assert_true (fd >= 0);
  close (fd);
  assert_int_equal (fstatat (root_fd, "dangling", &st, AT_SYMLINK_NOFOLLOW), 0);
  assert_true (S_ISREG (st.st_mode));
  snprintf (path, sizeof path, "%s/nowhere", tmpdir);
  assert_int_equal (access (path, F_OK), -1);
  unlinkat (root_fd, "dangling", 0);
  symlinkat ("/nowhere/file", root_fd, "dangling");
}

static void
test_make_target_through_dotdot_link (void **state)
{
  cleanup_error struct error *err = NULL;
  struct stat st;
  int fd = runtime_fs_make_target (root_fd, "/dotdot/made", false, &err);

  assert_true (fd >= 0);
  close (fd);
  assert_int_equal (fstatat (root_fd, "made", &st, 0), 0);
  unlinkat (root_fd, "made", 0);
}

#define LOOKUP_TESTS(setup)                                                        \
  cmocka_unit_test_setup (test_lookup_dotdot_stays_in_root, setup),                \
      cmocka_unit_test_setup (test_lookup_absolute_symlink_is_in_root, setup),     \
      cmocka_unit_test_setup (test_lookup_nofollow_gives_the_link, setup),         \
      cmocka_unit_test_setup (test_lookup_symlink_loop_fails, setup),              \
      cmocka_unit_test_setup (test_make_target_replaces_dangling_link_in_root, setup), \
      cmocka_unit_test_setup (test_make_target_through_dotdot_link, setup)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    LOOKUP_TESTS (with_openat2),
    LOOKUP_TESTS (with_walk),
  };

  return cmocka_run_group_tests (tests, tree_setup, tree_teardown);
}
