/* Unit tests for libutil/fs.c: bounded reads, atomic writes, mkdir -p,
 * recursive removal (symlinks, loops, unwritable directories) and copies.
 * Each test works in its own temporary directory.  The tests may run as
 * root, where permission bits do not stop reads; failures are provoked
 * with missing paths and non-directories instead. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/mem.h"

static int
setup (void **state)
{
  const char *tmp = getenv ("TMPDIR");
  char *dir = xasprintf ("%s/test_fs.XXXXXX", tmp && *tmp ? tmp : "/tmp");

  if (mkdtemp (dir) == NULL)
    {
      free (dir);
      return -1;
    }
  *state = dir;
  return 0;
}

static int
teardown (void **state)
{
  cleanup_error struct error *err = NULL;
  char *dir = *state;
  int r = fs_remove_tree (dir, &err);

  free (dir);
  return r;
}

/* DIR/NAME, freed by the caller. */
static char *
at (void **state, const char *name)
{
  return xasprintf ("%s/%s", (char *) *state, name);
}

static void
put (const char *path, const char *content)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, content, strlen (content)), (ssize_t) strlen (content));
  close (fd);
}

static void
make_dir (const char *path, mode_t mode)
{
  assert_int_equal (mkdir (path, mode), 0);
}

static int
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  int n = 0;

  assert_non_null (d);
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      n++;
  closedir (d);
  return n;
}

static bool
lexists (const char *path)
{
  struct stat st;

  return lstat (path, &st) == 0;
}

/* ---- fs_read_file ------------------------------------------------------- */

static void
test_read_returns_contents_and_length (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "f");
  cleanup_free char *data = NULL;
  size_t len = 0;

  put (p, "hello\n");
  data = fs_read_file (p, 0, &len, &err);
  assert_non_null (data);
  assert_null (err);
  assert_int_equal (len, 6);
  assert_string_equal (data, "hello\n");
}

static void
test_read_empty_file (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "empty");
  cleanup_free char *data = NULL;
  size_t len = 99;

  put (p, "");
  data = fs_read_file (p, 10, &len, &err);
  assert_non_null (data);
  assert_int_equal (len, 0);
  assert_string_equal (data, "");
}

static void
test_read_at_limit_succeeds (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "f");
  cleanup_free char *data = NULL;

  put (p, "12345");
  data = fs_read_file (p, 5, NULL, &err);
  assert_non_null (data);
  assert_string_equal (data, "12345");
}

static void
test_read_over_limit_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "f");

  put (p, "123456");
  assert_null (fs_read_file (p, 5, NULL, &err));
  assert_non_null (err);
  assert_int_equal (err->errnum, EFBIG);
  assert_non_null (strstr (err->msg, p));
}

static void
test_read_limit_applies_to_proc_files (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *data = NULL;

  /* /proc files have st_size 0: the limit must hold on what is read. */
  assert_null (fs_read_file ("/proc/self/status", 8, NULL, &err));
  assert_int_equal (err->errnum, EFBIG);
  err_release (&err);
  data = fs_read_file ("/proc/self/status", 0, NULL, &err);
  assert_non_null (data);
  assert_non_null (strstr (data, "Name:"));
}

static void
test_read_missing_file_names_it (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "missing");

  assert_null (fs_read_file (p, 0, NULL, &err));
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, p));
}

static void
test_read_through_a_file_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *f = at (state, "f");
  cleanup_free char *p = at (state, "f/below");

  /* A path that cannot be opened even by root. */
  put (f, "x");
  assert_null (fs_read_file (p, 0, NULL, &err));
  assert_int_equal (err->errnum, ENOTDIR);
}

static void
test_read_unreadable_file_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = NULL;

  if (geteuid () == 0)
    skip (); /* root reads mode 0000 files; see test_read_through_a_file_fails */
  p = at (state, "secret");
  put (p, "x");
  chmod (p, 0);
  assert_null (fs_read_file (p, 0, NULL, &err));
  assert_int_equal (err->errnum, EACCES);
}

static void
test_read_directory_fails (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_null (fs_read_file ((char *) *state, 0, NULL, &err));
  assert_int_equal (err->errnum, EISDIR);
}

static void
test_read_fifo_without_writer_does_not_hang (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "fifo");
  cleanup_free char *data = NULL;
  size_t len = 99;

  assert_int_equal (mkfifo (p, 0600), 0);
  data = fs_read_file (p, 0, &len, &err);
  assert_non_null (data);
  assert_int_equal (len, 0);
}

static void
test_read_pipe_to_its_end (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *data = NULL;
  cleanup_free char *p = NULL;
  int fds[2];

  /* As bash's <(...) hands it over: a pipe named by /proc/self/fd. */
  assert_int_equal (pipe2 (fds, O_CLOEXEC), 0);
  assert_int_equal (write (fds[1], "A=1\n", 4), 4);
  close (fds[1]);
  p = xasprintf ("/proc/self/fd/%d", fds[0]);
  data = fs_read_file (p, 0, NULL, &err);
  close (fds[0]);
  assert_non_null (data);
  assert_string_equal (data, "A=1\n");
}

static void
test_read_at_is_relative_to_dirfd (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "rel");
  cleanup_free char *data = NULL;
  int dfd = open ((char *) *state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  assert_true (dfd >= 0);
  put (p, "relative");
  data = fs_read_file_at (dfd, "rel", 0, NULL, &err);
  close (dfd);
  assert_non_null (data);
  assert_string_equal (data, "relative");
}

static void
test_read_large_file (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "big");
  cleanup_free char *content = xmalloc (300001);
  cleanup_free char *data = NULL;
  size_t len = 0;

  memset (content, 'z', 300000);
  content[300000] = '\0';
  put (p, content);
  data = fs_read_file (p, 300000, &len, &err);
  assert_non_null (data);
  assert_int_equal (len, 300000);
  assert_memory_equal (data, content, 300001);
}

/* ---- fs_write_atomic ---------------------------------------------------- */

static void
test_write_atomic_creates_with_mode (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "out");
  cleanup_free char *data = NULL;
  mode_t old = umask (077);
  struct stat st;

  assert_int_equal (fs_write_atomic (p, "abc", 3, 0644, &err), 0);
  umask (old);
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0644); /* not narrowed by the umask */
  data = fs_read_file (p, 0, NULL, &err);
  assert_string_equal (data, "abc");
}

static void
test_write_atomic_replaces_and_leaves_no_temp (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "out");
  cleanup_free char *data = NULL;

  put (p, "old contents that are longer");
  assert_int_equal (fs_write_atomic (p, "new", 3, 0600, &err), 0);
  data = fs_read_file (p, 0, NULL, &err);
  assert_string_equal (data, "new");
  assert_int_equal (count_entries ((char *) *state), 1);
}

static void
test_write_atomic_empty_data (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "empty");
  struct stat st;

  assert_int_equal (fs_write_atomic (p, "", 0, 0600, &err), 0);
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_size, 0);
}

static void
test_write_atomic_missing_dir_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "nodir/out");

  assert_true (fs_write_atomic (p, "x", 1, 0600, &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, p));
  assert_int_equal (count_entries ((char *) *state), 0);
}

static void
test_write_atomic_failed_rename_removes_temp (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "target");
  cleanup_free char *inner = at (state, "target/keep");

  /* A non-empty directory where the file should go: rename() fails after
   * the temporary file was written. */
  make_dir (p, 0755);
  put (inner, "x");
  assert_true (fs_write_atomic (p, "data", 4, 0600, &err) < 0);
  assert_non_null (err);
  assert_int_equal (count_entries ((char *) *state), 1);
  assert_int_equal (count_entries (p), 1);
}

static void
test_write_atomic_at_uses_dirfd (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *sub = at (state, "sub");
  cleanup_free char *p = at (state, "sub/name");
  cleanup_free char *data = NULL;
  int dfd;

  make_dir (sub, 0755);
  dfd = open ((char *) *state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true (dfd >= 0);
  assert_int_equal (fs_write_atomic_at (dfd, "sub/name", "v", 1, 0600, &err), 0);
  close (dfd);
  data = fs_read_file (p, 0, NULL, &err);
  assert_string_equal (data, "v");
  assert_int_equal (count_entries (sub), 1);
}

static void
test_write_atomic_long_name (void **state)
{
  cleanup_error struct error *err = NULL;
  char name[256];
  cleanup_free char *p = NULL;

  /* The longest legal name still gets a temporary name that fits. */
  memset (name, 'n', 255);
  name[255] = '\0';
  p = at (state, name);
  assert_int_equal (fs_write_atomic (p, "x", 1, 0600, &err), 0);
  assert_true (lexists (p));
  assert_int_equal (count_entries ((char *) *state), 1);
}

static void
test_write_atomic_to_trailing_slash_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "dir/");

  assert_true (fs_write_atomic (p, "x", 1, 0600, &err) < 0);
  assert_int_equal (err->errnum, EISDIR);
}

/* ---- fs_mkdir_p --------------------------------------------------------- */

static void
test_mkdir_p_creates_parents (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "a/b/c");
  struct stat st;

  assert_int_equal (fs_mkdir_p (p, 0750, &err), 0);
  assert_int_equal (stat (p, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
}

static void
test_mkdir_p_existing_is_fine (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "a");

  assert_int_equal (fs_mkdir_p (p, 0755, &err), 0);
  assert_int_equal (fs_mkdir_p (p, 0755, &err), 0);
  assert_int_equal (fs_mkdir_p ((char *) *state, 0755, &err), 0);
  assert_null (err);
}

static void
test_mkdir_p_tolerates_extra_slashes (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "x//y///z/");
  cleanup_free char *q = at (state, "x/y/z");
  struct stat st;

  assert_int_equal (fs_mkdir_p (p, 0755, &err), 0);
  assert_int_equal (stat (q, &st), 0);
}

static void
test_mkdir_p_file_in_the_way_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *f = at (state, "file");
  cleanup_free char *p = at (state, "file/sub");

  put (f, "x");
  assert_true (fs_mkdir_p (f, 0755, &err) < 0);
  assert_int_equal (err->errnum, ENOTDIR);
  err_release (&err);
  assert_true (fs_mkdir_p (p, 0755, &err) < 0);
  assert_int_equal (err->errnum, ENOTDIR);
}

static void
test_mkdir_p_empty_path_fails (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_true (fs_mkdir_p ("", 0755, &err) < 0);
  assert_non_null (err);
}

/* ---- fs_remove_tree ----------------------------------------------------- */

static void
test_remove_tree_removes_nested_tree (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *root = at (state, "t");
  cleanup_free char *deep = at (state, "t/a/b/c");
  cleanup_free char *f1 = at (state, "t/a/f");
  cleanup_free char *f2 = at (state, "t/a/b/c/g");
  cleanup_free char *fifo = at (state, "t/a/fifo");

  assert_int_equal (fs_mkdir_p (deep, 0755, &err), 0);
  put (f1, "1");
  put (f2, "2");
  assert_int_equal (mkfifo (fifo, 0600), 0);
  assert_int_equal (fs_remove_tree (root, &err), 0);
  assert_false (lexists (root));
}

static void
test_remove_tree_missing_is_fine (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "missing");
  cleanup_free char *q = at (state, "missing/below");

  assert_int_equal (fs_remove_tree (p, &err), 0);
  assert_int_equal (fs_remove_tree (q, &err), 0);
  assert_null (err);
}

static void
test_remove_tree_single_file (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (state, "f");

  put (p, "x");
  assert_int_equal (fs_remove_tree (p, &err), 0);
  assert_false (lexists (p));
}

static void
test_remove_tree_keeps_symlink_target_outside (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *outside = at (state, "outside");
  cleanup_free char *precious = at (state, "outside/precious");
  cleanup_free char *root = at (state, "tree");
  cleanup_free char *link_dir = at (state, "tree/to_dir");
  cleanup_free char *link_file = at (state, "tree/to_file");

  make_dir (outside, 0755);
  put (precious, "keep me");
  make_dir (root, 0755);
  assert_int_equal (symlink (outside, link_dir), 0);
  assert_int_equal (symlink (precious, link_file), 0);
  assert_int_equal (fs_remove_tree (root, &err), 0);
  assert_false (lexists (root));
  assert_true (lexists (precious));
  assert_int_equal (count_entries (outside), 1);
}

static void
test_remove_tree_of_a_symlink_removes_only_the_link (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *outside = at (state, "outside");
  cleanup_free char *precious = at (state, "outside/precious");
  cleanup_free char *link = at (state, "link");
  cleanup_free char *link_slash = at (state, "link/");

  make_dir (outside, 0755);
  put (precious, "keep me");
  assert_int_equal (symlink (outside, link), 0);
  /* A trailing slash must not make it follow the link either. */
  assert_int_equal (fs_remove_tree (link_slash, &err), 0);
  assert_false (lexists (link));
  assert_true (lexists (precious));
}

static void
test_remove_tree_handles_symlink_loops (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *root = at (state, "loops");
  cleanup_free char *a = at (state, "loops/a");
  cleanup_free char *b = at (state, "loops/b");
  cleanup_free char *self = at (state, "loops/self");
  cleanup_free char *up = at (state, "loops/up");

  make_dir (root, 0755);
  assert_int_equal (symlink ("b", a), 0);
  assert_int_equal (symlink ("a", b), 0);
  assert_int_equal (symlink (".", self), 0);
  assert_int_equal (symlink ("..", up), 0);
  assert_int_equal (fs_remove_tree (root, &err), 0);
  assert_false (lexists (root));
  assert_true (lexists ((char *) *state));
}

static void
test_remove_tree_empties_unwritable_dirs (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *root = at (state, "ro");
  cleanup_free char *sub = at (state, "ro/sub");
  cleanup_free char *f = at (state, "ro/sub/f");
  cleanup_free char *locked = at (state, "ro/locked");
  cleanup_free char *g = at (state, "ro/locked/g");

  make_dir (root, 0755);
  make_dir (sub, 0755);
  make_dir (locked, 0755);
  put (f, "x");
  put (g, "y");
  chmod (sub, 0500);    /* readable, not writable */
  chmod (locked, 0000); /* not even readable */
  chmod (root, 0500);
  assert_int_equal (fs_remove_tree (root, &err), 0);
  assert_false (lexists (root));
}

static void
test_remove_tree_refuses_dot_and_dotdot (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *dot = at (state, ".");
  cleanup_free char *dotdot = at (state, "x/..");

  assert_true (fs_remove_tree (dot, &err) < 0);
  assert_int_equal (err->errnum, EINVAL);
  err_release (&err);
  assert_true (fs_remove_tree (dotdot, &err) < 0);
  assert_int_equal (err->errnum, EINVAL);
  assert_true (lexists ((char *) *state));
}

static void
test_remove_tree_at_uses_dirfd (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *d = at (state, "d");
  cleanup_free char *f = at (state, "d/f");
  int dfd = open ((char *) *state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  assert_true (dfd >= 0);
  make_dir (d, 0755);
  put (f, "x");
  assert_int_equal (fs_remove_tree_at (dfd, "d", &err), 0);
  close (dfd);
  assert_false (lexists (d));
}

static void
test_remove_tree_error_names_path (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *root = at (state, "t");
  cleanup_free char *sub = at (state, "t/sub");
  cleanup_free char *f = at (state, "t/sub/f");
  int dfd;

  make_dir (root, 0755);
  make_dir (sub, 0755);
  put (f, "x");
  /* Removing "t" relative to a file descriptor that is not a directory
   * fails; the message names what could not be removed. */
  dfd = open (f, O_RDONLY | O_CLOEXEC);
  assert_true (dfd >= 0);
  assert_true (fs_remove_tree_at (dfd, "t", &err) < 0);
  close (dfd);
  assert_int_equal (err->errnum, ENOTDIR);
  assert_non_null (strstr (err->msg, "\"t\""));
}

/* ---- fs_exists, fs_copy_file -------------------------------------------- */

static void
test_exists (void **state)
{
  cleanup_free char *f = at (state, "f");
  cleanup_free char *dangling = at (state, "dangling");

  put (f, "x");
  assert_int_equal (symlink ("nowhere", dangling), 0);
  assert_true (fs_exists (f));
  assert_true (fs_exists ((char *) *state));
  assert_false (fs_exists (dangling));
  assert_false (fs_exists ("/nonexistent/skiff/test"));
}

static void
test_copy_file_copies_contents_and_mode (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *src = at (state, "src");
  cleanup_free char *dst = at (state, "dst");
  cleanup_free char *data = NULL;
  struct stat st;

  put (src, "copy me");
  assert_int_equal (fs_copy_file (src, dst, 0640, &err), 0);
  data = fs_read_file (dst, 0, NULL, &err);
  assert_string_equal (data, "copy me");
  assert_int_equal (stat (dst, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0640);
  assert_int_equal (count_entries ((char *) *state), 2);
}

static void
test_copy_file_missing_source_fails (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *src = at (state, "missing");
  cleanup_free char *dst = at (state, "dst");

  assert_true (fs_copy_file (src, dst, 0644, &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
  assert_false (lexists (dst));
}

static void
test_copy_file_refuses_directory (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *dst = at (state, "dst");

  assert_true (fs_copy_file ((char *) *state, dst, 0644, &err) < 0);
  assert_non_null (err);
  assert_false (lexists (dst));
}

int
main (void)
{
#define T(f) cmocka_unit_test_setup_teardown (f, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_read_returns_contents_and_length),
    T (test_read_empty_file),
    T (test_read_at_limit_succeeds),
    T (test_read_over_limit_fails),
    T (test_read_limit_applies_to_proc_files),
    T (test_read_missing_file_names_it),
    T (test_read_through_a_file_fails),
    T (test_read_unreadable_file_fails),
    T (test_read_directory_fails),
    T (test_read_fifo_without_writer_does_not_hang),
    T (test_read_pipe_to_its_end),
    T (test_read_at_is_relative_to_dirfd),
    T (test_read_large_file),
    T (test_write_atomic_creates_with_mode),
    T (test_write_atomic_replaces_and_leaves_no_temp),
    T (test_write_atomic_empty_data),
    T (test_write_atomic_missing_dir_fails),
    T (test_write_atomic_failed_rename_removes_temp),
    T (test_write_atomic_at_uses_dirfd),
    T (test_write_atomic_long_name),
    T (test_write_atomic_to_trailing_slash_fails),
    T (test_mkdir_p_creates_parents),
    T (test_mkdir_p_existing_is_fine),
    T (test_mkdir_p_tolerates_extra_slashes),
    T (test_mkdir_p_file_in_the_way_fails),
    T (test_mkdir_p_empty_path_fails),
    T (test_remove_tree_removes_nested_tree),
    T (test_remove_tree_missing_is_fine),
    T (test_remove_tree_single_file),
    T (test_remove_tree_keeps_symlink_target_outside),
    T (test_remove_tree_of_a_symlink_removes_only_the_link),
    T (test_remove_tree_handles_symlink_loops),
    T (test_remove_tree_empties_unwritable_dirs),
    T (test_remove_tree_refuses_dot_and_dotdot),
    T (test_remove_tree_at_uses_dirfd),
    T (test_remove_tree_error_names_path),
    T (test_exists),
    T (test_copy_file_copies_contents_and_mode),
    T (test_copy_file_missing_source_fails),
    T (test_copy_file_refuses_directory),
  };
#undef T

  return cmocka_run_group_tests (tests, NULL, NULL);
}
