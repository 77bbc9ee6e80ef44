/* Unit tests for src/build_squash.c: layers merged into one tar, with
 * replacements, whiteouts and opaque directories resolved. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/buf.h"
#include "libutil/mem.h"
#include "src/build.h"

/* A layer from a spec: "d NAME" a directory, "f NAME CONTENT" a file. */
static int
make_layer (const char *const *spec, bool is_gzip)
{
  FILE *f = tmpfile ();
  int fd;
  struct archive *a = archive_write_new ();

  assert_non_null (f);
  fd = dup (fileno (f));
  fclose (f);
  archive_write_set_format_pax_restricted (a);
  if (is_gzip)
    archive_write_add_filter_gzip (a);
  assert_int_equal (archive_write_open_fd (a, fd), ARCHIVE_OK);
  for (; *spec; spec++)
    {
      struct archive_entry *e = archive_entry_new ();
      cleanup_strv char **w = str_split (*spec, ' ');
      size_t len = w[2] ? strlen (w[2]) : 0;
      archive_entry_set_pathname (e, w[1]);
      archive_entry_set_filetype (e, w[0][0] == 'd' ? AE_IFDIR : AE_IFREG);
      archive_entry_set_perm (e, w[0][0] == 'd' ? 0755 : 0644);
      archive_entry_set_size (e, (la_int64_t)len);
      assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
      if (len)
        assert_int_equal (archive_write_data (a, w[2], len), (la_ssize_t)len);
      archive_entry_free (e);
    }
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  return fd;
}

/* The merged tar as "NAME[=CONTENT]" lines in order. */
static char *
list_tar (int fd)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  struct buf b = BUF_INIT;

  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  archive_read_support_format_tar (a);
  assert_int_equal (archive_read_open_fd (a, fd, 4096), ARCHIVE_OK);
  while (archive_read_next_header (a, &e) == ARCHIVE_OK)
    {
      char data[64] = "";
      la_ssize_t n = archive_read_data (a, data, sizeof data - 1);
      buf_printf (&b, "%s%s%s\n", archive_entry_pathname (e), n > 0 ? "=" : "", n > 0 ? data : "");
    }
  archive_read_free (a);
  return buf_steal (&b);
}

static bool
nothing_below (const char *path, void *data)
{
  (void)path;
  (void)data;
  return false;
}

static bool
base_has_etc (const char *path, void *data)
{
  (void)data;
  return strncmp (path, "etc", 3) == 0;
}

static char *
squash (const char *const *const *layers, size_t n, build_squash_exists_fn fn)
{
  int fds[8], out;
  FILE *f = tmpfile ();
  char *text;

  assert_true (n <= 8);
  for (size_t i = 0; i < n; i++)
    fds[i] = make_layer (layers[i], i % 2 == 1);
  out = dup (fileno (f));
  fclose (f);
  assert_int_equal (build_squash_layers (fds, n, fn, NULL, out, NULL), 0);
  text = list_tar (out);
  for (size_t i = 0; i < n; i++)
    close (fds[i]);
  close (out);
  return text;
}

static void
test_later_layer_replaces (void **state)
{
  static const char *const l1[] = { "d a/", "f a/x one", "f a/y keep", NULL };
  static const char *const l2[] = { "d a/", "f a/x two", NULL };
  const char *const *layers[] = { l1, l2 };
  cleanup_free char *out = squash (layers, 2, nothing_below);

  (void)state;
  assert_string_equal (out, "a/y=keep\na/\na/x=two\n");
}

static void
test_whiteout_removes_and_is_dropped_without_base (void **state)
{
  static const char *const l1[]
      = { "d d/", "f d/one 1", "f d/two 2", "d d/sub/", "f d/sub/z z", NULL };
  static const char *const l2[] = { "d d/", "f d/.wh.one", "f d/.wh.sub", "f d/three 3", NULL };
  const char *const *layers[] = { l1, l2 };
  cleanup_free char *out = squash (layers, 2, nothing_below);

  (void)state;
  assert_string_equal (out, "d/two=2\nd/\nd/three=3\n");
}

static void
test_whiteout_of_base_content_is_kept (void **state)
{
  static const char *const l1[] = { "d etc/", "f etc/.wh.passwd", NULL };
  static const char *const l2[] = { "f new x", NULL };
  const char *const *layers[] = { l1, l2 };
  cleanup_free char *out = squash (layers, 2, base_has_etc);

  (void)state;
  assert_string_equal (out, "etc/\netc/.wh.passwd\nnew=x\n");
}

static void
test_opaque_dir_hides_earlier_layers (void **state)
{
  static const char *const l1[] = { "d o/", "f o/old 1", NULL };
  static const char *const l2[] = { "d o/", "f o/.wh..wh..opq", "f o/new 2", NULL };
  const char *const *layers[] = { l1, l2 };
  cleanup_free char *out = squash (layers, 2, base_has_etc);

  (void)state;
  assert_string_equal (out, "o/\no/.wh..wh..opq\no/new=2\n");
}

static void
test_recreated_dir_after_whiteout_gets_opaque (void **state)
{
  static const char *const l1[] = { "d etc/", "f etc/.wh.conf", NULL };
  static const char *const l2[] = { "d etc/conf/", "f etc/conf/a a", NULL };
  const char *const *layers[] = { l1, l2 };
  cleanup_free char *out = squash (layers, 2, base_has_etc);

  (void)state;
  assert_string_equal (out, "etc/\netc/conf/\netc/conf/a=a\netc/conf/.wh..wh..opq\n");
}

static void
test_many_entries (void **state)
{
  const char **l1 = xcalloc (3002, sizeof *l1);
  static const char *const l2[] = { "f f1500 changed", NULL };
  const char *const *layers[2];
  cleanup_free char *out = NULL;
  cleanup_strv char **names = NULL;

  (void)state;
  for (int i = 0; i < 3000; i++)
    {
      char s[32];
      snprintf (s, sizeof s, "f f%d x", i);
      names = strv_append (names, s);
    }
  for (int i = 0; i < 3000; i++)
    l1[i] = names[i];
  layers[0] = l1;
  layers[1] = l2;
  out = squash (layers, 2, nothing_below);
  assert_null (strstr (out, "f1500=x\n"));
  assert_non_null (strstr (out, "f1499=x\nf1501=x\n"));
  assert_non_null (strstr (out, "f1500=changed\n"));
  free (l1);
}

static void
test_unreadable_layer_fails (void **state)
{
  FILE *f = tmpfile ();
  int fd = dup (fileno (f)), out;
  struct error *e = NULL;

  (void)state;
  fclose (f);
  assert_int_equal (write (fd, "not a tar at all", 16), 16);
  f = tmpfile ();
  out = dup (fileno (f));
  fclose (f);
  assert_true (build_squash_layers (&fd, 1, nothing_below, NULL, out, &e) < 0);
  assert_non_null (e);
  err_release (&e);
  close (fd);
  close (out);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_later_layer_replaces),
    cmocka_unit_test (test_whiteout_removes_and_is_dropped_without_base),
    cmocka_unit_test (test_whiteout_of_base_content_is_kept),
    cmocka_unit_test (test_opaque_dir_hides_earlier_layers),
    cmocka_unit_test (test_recreated_dir_after_whiteout_gets_opaque),
    cmocka_unit_test (test_many_entries),
    cmocka_unit_test (test_unreadable_layer_fails),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
