/* Unit tests for src/container_changes.c: docker's classification of a
 * changed entry, its ordering and parent rule, the ancestors a layer
 * needs, OCI whiteout names, the names overlay keeps in an upper
 * directory, and the walk itself over temporary trees (upper directories
 * with ".wh." whiteouts and opaque markers, as fuse-overlayfs writes them
 * where it cannot make devices, and copied vfs trees). */
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
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/mem.h"
#include "src/container_changes.h"

/* ---- helpers ------------------------------------------------------------------ */

static struct container_changes_attrs
attrs (mode_t mode, int64_t size, int64_t mtime)
{
  return (struct container_changes_attrs) { .mode = mode, .size = size, .mtime_sec = mtime };
}

static const struct container_change *
find (const struct container_changes *c, const char *path)
{
  for (size_t i = 0; i < c->n; i++)
    if (strcmp (c->v[i].path, path) == 0)
      return &c->v[i];
  return NULL;
}

/* "A /x,C /y" for the list, to compare in one assertion. */
static char *
render (const struct container_changes *c)
{
  char *s = xstrdup ("");

  for (size_t i = 0; i < c->n; i++)
    {
      char *t = xasprintf ("%s%s%s %s", s, i ? "," : "",
                           c->v[i].kind == CONTAINER_CHANGE_NONE
                               ? "N" : container_change_letter (c->v[i].kind),
                           c->v[i].path);
      free (s);
      s = t;
    }
  return s;
}

static void
assert_list (const struct container_changes *c, const char *expected)
{
  char *got = render (c);
  assert_string_equal (got, expected);
  free (got);
}

/* ---- classification ------------------------------------------------------------- */

static void
test_classify_new_entry_is_add (void **state)
{
  struct container_changes_attrs now = attrs (S_IFREG | 0644, 3, 10);
  (void) state;
  assert_int_equal (container_changes_classify (&now, NULL, true), CONTAINER_CHANGE_ADD);
  assert_int_equal (container_changes_classify (&now, NULL, false), CONTAINER_CHANGE_ADD);
}

static void
test_classify_written_file_is_change_even_if_same (void **state)
{
  struct container_changes_attrs now = attrs (S_IFREG | 0644, 3, 10);
  (void) state;
  assert_int_equal (container_changes_classify (&now, &now, true), CONTAINER_CHANGE_MODIFY);
}

static void
test_classify_vfs_same_file_is_none (void **state)
{
  struct container_changes_attrs now = attrs (S_IFREG | 0644, 3, 10);
  (void) state;
  assert_int_equal (container_changes_classify (&now, &now, false), CONTAINER_CHANGE_NONE);
}

static void
test_classify_vfs_size_or_mtime_change (void **state)
{
  struct container_changes_attrs lower = attrs (S_IFREG | 0644, 3, 10);
  struct container_changes_attrs bigger = attrs (S_IFREG | 0644, 4, 10);
  struct container_changes_attrs touched = attrs (S_IFREG | 0644, 3, 11);
  (void) state;
  assert_int_equal (container_changes_classify (&bigger, &lower, false), CONTAINER_CHANGE_MODIFY);
  assert_int_equal (container_changes_classify (&touched, &lower, false),
                    CONTAINER_CHANGE_MODIFY);
}

static void
test_classify_mode_owner_type_change (void **state)
{
  struct container_changes_attrs lower = attrs (S_IFREG | 0644, 3, 10);
  struct container_changes_attrs chmod = attrs (S_IFREG | 0600, 3, 10);
  struct container_changes_attrs chown = lower, dir = attrs (S_IFDIR | 0644, 3, 10);
  (void) state;
  chown.uid = 1000;
  assert_int_equal (container_changes_classify (&chmod, &lower, false), CONTAINER_CHANGE_MODIFY);
  assert_int_equal (container_changes_classify (&chown, &lower, false), CONTAINER_CHANGE_MODIFY);
  assert_int_equal (container_changes_classify (&dir, &lower, false), CONTAINER_CHANGE_MODIFY);
}

static void
test_classify_directory_size_is_ignored (void **state)
{
  struct container_changes_attrs lower = attrs (S_IFDIR | 0755, 4096, 10);
  struct container_changes_attrs now = attrs (S_IFDIR | 0755, 8192, 10);
  (void) state;
  assert_int_equal (container_changes_classify (&now, &lower, true), CONTAINER_CHANGE_NONE);
  now.mtime_sec = 12;
  assert_int_equal (container_changes_classify (&now, &lower, true), CONTAINER_CHANGE_MODIFY);
}

/* ---- docker's list ---------------------------------------------------------------- */

static void
test_finish_sorts_and_drops_none (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  container_changes_add (&c, "/tmp", CONTAINER_CHANGE_MODIFY, true, false);
  container_changes_add (&c, "/etc", CONTAINER_CHANGE_NONE, true, false);
  container_changes_add (&c, "/etc/passwd", CONTAINER_CHANGE_MODIFY, false, false);
  container_changes_add (&c, "/tmp/a", CONTAINER_CHANGE_ADD, false, false);
  container_changes_finish (&c);
  assert_list (&c, "C /etc/passwd,C /tmp,A /tmp/a");
  container_changes_clear (&c);
}

static void
test_finish_adds_parent_of_add_and_delete (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  container_changes_add (&c, "/etc/d/f", CONTAINER_CHANGE_ADD, false, false);
  container_changes_add (&c, "/bin/ls", CONTAINER_CHANGE_DELETE, false, false);
  container_changes_finish (&c);
  assert_list (&c, "C /bin,D /bin/ls,C /etc/d,A /etc/d/f");
  container_changes_clear (&c);
}

static void
test_finish_no_parent_for_root_or_listed_dir (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  container_changes_add (&c, "/new", CONTAINER_CHANGE_ADD, true, false);
  container_changes_add (&c, "/new/file", CONTAINER_CHANGE_ADD, false, false);
  container_changes_add (&c, "/gone", CONTAINER_CHANGE_DELETE, false, false);
  container_changes_finish (&c);
  assert_list (&c, "D /gone,A /new,A /new/file");
  container_changes_clear (&c);
}

static void
test_finish_modify_child_adds_no_parent (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  container_changes_add (&c, "/etc/passwd", CONTAINER_CHANGE_MODIFY, false, false);
  container_changes_finish (&c);
  assert_list (&c, "C /etc/passwd");
  container_changes_clear (&c);
}

static void
test_finish_parent_added_once (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  container_changes_add (&c, "/d/a", CONTAINER_CHANGE_ADD, false, false);
  container_changes_add (&c, "/d/b", CONTAINER_CHANGE_DELETE, false, false);
  container_changes_add (&c, "/d/c", CONTAINER_CHANGE_ADD, false, false);
  container_changes_finish (&c);
  assert_list (&c, "C /d,A /d/a,D /d/b,A /d/c");
  container_changes_clear (&c);
}

static void
test_finish_empty (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  container_changes_finish (&c);
  assert_int_equal (c.n, 0);
  container_changes_clear (&c);
}

static void
test_with_ancestors_adds_missing_dirs (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  container_changes_add (&c, "/var/lib/x/file", CONTAINER_CHANGE_ADD, false, false);
  container_changes_add (&c, "/var/lib", CONTAINER_CHANGE_MODIFY, true, false);
  container_changes_with_ancestors (&c);
  assert_list (&c, "N /var,C /var/lib,N /var/lib/x,A /var/lib/x/file");
  container_changes_clear (&c);
}

/* ---- names ------------------------------------------------------------------------- */

static void
test_whiteout_name_nested (void **state)
{
  char *n = container_changes_whiteout_name ("/etc/skiff/old.txt");
  (void) state;
  assert_string_equal (n, "etc/skiff/.wh.old.txt");
  free (n);
}

static void
test_whiteout_name_at_root (void **state)
{
  char *n = container_changes_whiteout_name ("/gone");
  (void) state;
  assert_string_equal (n, ".wh.gone");
  free (n);
}

static void
test_opaque_name (void **state)
{
  char *a = container_changes_opaque_name ("/opq");
  char *b = container_changes_opaque_name ("/a/b");
  (void) state;
  assert_string_equal (a, "opq/.wh..wh..opq");
  assert_string_equal (b, "a/b/.wh..wh..opq");
  free (a);
  free (b);
}

static void
test_parse_name_forms (void **state)
{
  const char *target = NULL;
  (void) state;
  assert_int_equal (container_changes_parse_name (".wh..wh..opq", &target),
                    CONTAINER_CHANGES_NAME_OPAQUE);
  assert_int_equal (container_changes_parse_name (".wh.old", &target),
                    CONTAINER_CHANGES_NAME_WHITEOUT);
  assert_string_equal (target, "old");
  assert_int_equal (container_changes_parse_name (".wh.", &target), CONTAINER_CHANGES_NAME_ENTRY);
  assert_int_equal (container_changes_parse_name (".whatever", &target),
                    CONTAINER_CHANGES_NAME_ENTRY);
  assert_int_equal (container_changes_parse_name ("file", &target), CONTAINER_CHANGES_NAME_ENTRY);
  assert_null (target);
}

static void
test_runtime_made_only_when_empty (void **state)
{
  (void) state;
  assert_true (container_changes_is_runtime_made ("/etc/hosts", true));
  assert_true (container_changes_is_runtime_made ("/proc", true));
  assert_false (container_changes_is_runtime_made ("/etc/hosts", false));
  assert_false (container_changes_is_runtime_made ("/etc/passwd", true));
  assert_false (container_changes_is_runtime_made ("/etc/hosts.d", true));
}

/* ---- the walk ------------------------------------------------------------------------ */

static char tmpdir[] = "/tmp/test-container-changes-XXXXXX";

static void
make_file (const char *rel, const char *text, mode_t mode)
{
  char path[512];
  int fd;

  snprintf (path, sizeof path, "%s/%s", tmpdir, rel);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
  close (fd);
}

static void
make_dir (const char *rel)
{
  char path[512];

  snprintf (path, sizeof path, "%s/%s", tmpdir, rel);
  assert_int_equal (mkdir (path, 0755), 0);
}

/* Directory times as the layer left them, so only real changes differ. */
static void
set_mtime (const char *rel, time_t t)
{
  char path[512];
  struct timeval tv[2] = { { t, 0 }, { t, 0 } };

  snprintf (path, sizeof path, "%s/%s", tmpdir, rel);
  assert_int_equal (lutimes (path, tv), 0);
}

static int
walk_setup (void **state)
{
  (void) state;
  strcpy (tmpdir, "/tmp/test-container-changes-XXXXXX");
  if (mkdtemp (tmpdir) == NULL)
    return -1;
  /* Layer 0 (bottom): /etc/passwd, /etc/old, /opq/{a,b}, /bin/sh. */
  make_dir ("l0");
  make_dir ("l0/etc");
  make_file ("l0/etc/passwd", "root\n", 0644);
  make_file ("l0/etc/old", "old\n", 0644);
  make_dir ("l0/opq");
  make_file ("l0/opq/a", "a", 0644);
  make_file ("l0/opq/b", "b", 0644);
  make_dir ("l0/bin");
  make_file ("l0/bin/sh", "sh", 0755);
  /* Layer 1 (top): removes /etc/old, replaces /opq with only c. */
  make_dir ("l1");
  make_dir ("l1/etc");
  make_file ("l1/etc/.wh.old", "", 0644);
  make_dir ("l1/opq");
  make_file ("l1/opq/.wh..wh..opq", "", 0644);
  make_file ("l1/opq/c", "c", 0644);
  set_mtime ("l0/etc", 100);
  set_mtime ("l1/etc", 100);
  return 0;
}

static int
walk_teardown (void **state)
{
  char cmd[600];

  (void) state;
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system (cmd) == 0 ? 0 : -1;
}

static int
collect (const char *tree, bool is_upper, struct container_changes *out)
{
  char t[512], l0[512], l1[512];
  char *lower[] = { l1, l0, NULL };
  struct container_changes_src src = { .tree = t, .is_upper = is_upper, .lower = lower };
  struct error *err = NULL;
  int r;

  snprintf (t, sizeof t, "%s/%s", tmpdir, tree);
  snprintf (l0, sizeof l0, "%s/l0", tmpdir);
  snprintf (l1, sizeof l1, "%s/l1", tmpdir);
  r = container_changes_collect (&src, out, &err);
  if (r < 0)
    fprintf (stderr, "collect: %s\n", err->msg);
  err_release (&err);
  return r;
}

static void
test_walk_upper_whiteout_file_is_delete (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  make_dir ("up");
  make_dir ("up/bin");
  make_file ("up/bin/.wh.sh", "", 0644);
  assert_int_equal (collect ("up", true, &c), 0);
  assert_non_null (find (&c, "/bin/sh"));
  assert_int_equal (find (&c, "/bin/sh")->kind, CONTAINER_CHANGE_DELETE);
  assert_null (find (&c, "/bin/.wh.sh"));
  container_changes_clear (&c);
}

static void
test_walk_upper_new_and_changed_files (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  make_dir ("up");
  make_dir ("up/etc");
  make_file ("up/etc/passwd", "root\nme\n", 0644);
  make_file ("up/etc/new", "new", 0644);
  assert_int_equal (collect ("up", true, &c), 0);
  assert_int_equal (find (&c, "/etc/passwd")->kind, CONTAINER_CHANGE_MODIFY);
  assert_int_equal (find (&c, "/etc/new")->kind, CONTAINER_CHANGE_ADD);
  container_changes_clear (&c);
}

static void
test_walk_upper_file_deleted_below_is_add (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  make_dir ("up");
  make_dir ("up/etc");
  make_file ("up/etc/old", "again", 0644);
  assert_int_equal (collect ("up", true, &c), 0);
  /* Layer 1 whited it out: to the merged view it is new. */
  assert_int_equal (find (&c, "/etc/old")->kind, CONTAINER_CHANGE_ADD);
  container_changes_clear (&c);
}

static void
test_walk_upper_opaque_dir_is_change_with_new_children (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  make_dir ("up");
  make_dir ("up/etc");
  make_file ("up/etc/.wh..wh..opq", "", 0644);
  make_file ("up/etc/passwd", "fresh", 0644);
  assert_int_equal (collect ("up", true, &c), 0);
  assert_int_equal (find (&c, "/etc")->kind, CONTAINER_CHANGE_MODIFY);
  assert_true (find (&c, "/etc")->is_opaque);
  assert_int_equal (find (&c, "/etc/passwd")->kind, CONTAINER_CHANGE_ADD);
  container_changes_clear (&c);
}

static void
test_walk_upper_runtime_mount_points_left_out (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  make_dir ("up");
  make_dir ("up/etc");
  make_file ("up/etc/hosts", "", 0644);
  make_dir ("up/proc");
  make_file ("up/etc/hostname", "real content", 0644);
  assert_int_equal (collect ("up", true, &c), 0);
  assert_null (find (&c, "/etc/hosts"));
  assert_null (find (&c, "/proc"));
  assert_non_null (find (&c, "/etc/hostname"));
  container_changes_clear (&c);
}

static void
test_walk_missing_tree_is_no_change (void **state)
{
  struct container_changes c = { 0 };
  (void) state;
  assert_int_equal (collect ("never-started", true, &c), 0);
  assert_int_equal (c.n, 0);
  container_changes_clear (&c);
}

/* A vfs copy of the merged layers: /etc/passwd, /opq/c, /bin/sh. */
static void
make_vfs_copy (void)
{
  make_dir ("rootfs");
  make_dir ("rootfs/etc");
  make_file ("rootfs/etc/passwd", "root\n", 0644);
  make_dir ("rootfs/opq");
  make_file ("rootfs/opq/c", "c", 0644);
  make_dir ("rootfs/bin");
  make_file ("rootfs/bin/sh", "sh", 0755);
}

static void
test_walk_vfs_copy_alone_has_no_adds_or_deletes (void **state)
{
  struct container_changes c = { 0 };
  char *list;
  (void) state;
  make_vfs_copy ();
  assert_int_equal (collect ("rootfs", false, &c), 0);
  container_changes_finish (&c);
  list = render (&c);
  /* Times differ from the layers (C is possible); nothing is A or D. */
  assert_null (strstr (list, "A "));
  assert_null (strstr (list, "D "));
  free (list);
  container_changes_clear (&c);
}

static void
test_walk_vfs_deleted_and_added (void **state)
{
  struct container_changes c = { 0 };
  char path[512];
  (void) state;
  make_vfs_copy ();
  snprintf (path, sizeof path, "%s/rootfs/bin/sh", tmpdir);
  assert_int_equal (unlink (path), 0);
  make_file ("rootfs/opq/d", "d", 0644);
  assert_int_equal (collect ("rootfs", false, &c), 0);
  assert_int_equal (find (&c, "/bin/sh")->kind, CONTAINER_CHANGE_DELETE);
  assert_int_equal (find (&c, "/opq/d")->kind, CONTAINER_CHANGE_ADD);
  /* Hidden below by the whiteout and the opaque directory: not deleted. */
  assert_null (find (&c, "/etc/old"));
  assert_null (find (&c, "/opq/a"));
  container_changes_clear (&c);
}

#define WALK(t) cmocka_unit_test_setup_teardown (t, walk_setup, walk_teardown)

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_classify_new_entry_is_add),
    cmocka_unit_test (test_classify_written_file_is_change_even_if_same),
    cmocka_unit_test (test_classify_vfs_same_file_is_none),
    cmocka_unit_test (test_classify_vfs_size_or_mtime_change),
    cmocka_unit_test (test_classify_mode_owner_type_change),
    cmocka_unit_test (test_classify_directory_size_is_ignored),
    cmocka_unit_test (test_finish_sorts_and_drops_none),
    cmocka_unit_test (test_finish_adds_parent_of_add_and_delete),
    cmocka_unit_test (test_finish_no_parent_for_root_or_listed_dir),
    cmocka_unit_test (test_finish_modify_child_adds_no_parent),
    cmocka_unit_test (test_finish_parent_added_once),
    cmocka_unit_test (test_finish_empty),
    cmocka_unit_test (test_with_ancestors_adds_missing_dirs),
    cmocka_unit_test (test_whiteout_name_nested),
    cmocka_unit_test (test_whiteout_name_at_root),
    cmocka_unit_test (test_opaque_name),
    cmocka_unit_test (test_parse_name_forms),
    cmocka_unit_test (test_runtime_made_only_when_empty),
    WALK (test_walk_upper_whiteout_file_is_delete),
    WALK (test_walk_upper_new_and_changed_files),
    WALK (test_walk_upper_file_deleted_below_is_add),
    WALK (test_walk_upper_opaque_dir_is_change_with_new_children),
    WALK (test_walk_upper_runtime_mount_points_left_out),
    WALK (test_walk_missing_tree_is_no_change),
    WALK (test_walk_vfs_copy_alone_has_no_adds_or_deletes),
    WALK (test_walk_vfs_deleted_and_added),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
