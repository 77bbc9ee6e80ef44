/* Unit tests for src/build_context.c: directory contexts, tar contexts
 * (a tarball, or a plain or compressed tar on standard input) extracted
 * safely into a private directory that goes away again, a Dockerfile on
 * standard input, Containerfile before Dockerfile, -f, and the sniffing
 * that tells a tar from a Dockerfile. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
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

#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "src/build_context.h"

struct fixture
{
  char *dir; /* scratch: contexts, tarballs */
  char *tmp; /* TMPDIR for the code under test */
};

static int
setup (void **state)
{
  struct fixture *f = xmalloc0 (sizeof *f);

  f->dir = xstrdup ("/tmp/skiff-ctx-test-XXXXXX");
  f->tmp = xstrdup ("/tmp/skiff-ctx-tmp-XXXXXX");
  if (mkdtemp (f->dir) == NULL || mkdtemp (f->tmp) == NULL)
    return -1;
  setenv ("TMPDIR", f->tmp, 1);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  struct error *err = NULL;

  fs_remove_tree (f->dir, &err);
  fs_remove_tree (f->tmp, &err);
  free (f->dir);
  free (f->tmp);
  free (f);
  unsetenv ("TMPDIR");
  return 0;
}

static void
put (const char *root, const char *rel, const char *text)
{
  cleanup_free char *p = xasprintf ("%s/%s", root, rel);
  cleanup_free char *parent = xstrdup (p);
  struct error *err = NULL;

  *strrchr (parent, '/') = '\0';
  assert_int_equal (fs_mkdir_p (parent, 0755, &err), 0);
  assert_int_equal (fs_write_atomic_nosync (p, text, strlen (text), 0644, &err), 0);
}

/* Entries in the private TMPDIR: the code must leave none behind. */
static size_t
n_left (const struct fixture *f)
{
  DIR *d = opendir (f->tmp);
  size_t n = 0;
  struct dirent *de;

  assert_non_null (d);
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.')
      n++;
  closedir (d);
  return n;
}

/* A file holding TEXT, open for reading at 0: what "-" reads. */
static int
stdin_with (const char *text, size_t len)
{
  FILE *tmp = tmpfile ();
  int fd;

  assert_non_null (tmp);
  assert_int_equal (fwrite (text, 1, len, tmp), len);
  fflush (tmp);
  fd = dup (fileno (tmp));
  fclose (tmp);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  return fd;
}

struct tentry
{
  const char *name;
  mode_t mode;
  const char *data;
  const char *link;
};

/* A tar of ENTRIES in memory (gzip'ed when asked); *LEN its size. */
static char *
make_tar (const struct tentry *entries, size_t n, bool is_gzip, size_t *len)
{
  struct archive *a = archive_write_new ();
  size_t cap = 1 << 20;
  char *buf = xmalloc (cap);

  archive_write_set_format_pax_restricted (a);
  if (is_gzip)
    archive_write_add_filter_gzip (a);
  archive_write_set_bytes_in_last_block (a, 1);
  assert_int_equal (archive_write_open_memory (a, buf, cap, len), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++)
    {
      struct archive_entry *e = archive_entry_new ();
      size_t dlen = entries[i].data ? strlen (entries[i].data) : 0;

      archive_entry_set_pathname (e, entries[i].name);
      archive_entry_set_mode (e, entries[i].mode);
      archive_entry_set_size (e, (la_int64_t) dlen);
      if (entries[i].link)
        archive_entry_set_symlink (e, entries[i].link);
      assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
      if (dlen)
        archive_write_data (a, entries[i].data, dlen);
      archive_entry_free (e);
    }
  archive_write_close (a);
  archive_write_free (a);
  return buf;
}

static const struct tentry ctx_entries[] = {
  { "Dockerfile", S_IFREG | 0644, "FROM busybox\n", NULL },
  { "src/", S_IFDIR | 0755, NULL, NULL },
  { "src/app.sh", S_IFREG | 0755, "echo hi\n", NULL },
};

static struct build_context *
open_ok (const char *ctx, const char *file, int stdin_fd)
{
  struct build_context *c = NULL;
  struct error *err = NULL;

  if (build_context_open (ctx, file, stdin_fd, &c, &err) < 0)
    fail_msg ("open context: %s", err->msg);
  return c;
}

static char *
open_err (const char *ctx, const char *file, int stdin_fd)
{
  struct build_context *c = NULL;
  struct error *err = NULL;
  char *msg;

  assert_true (build_context_open (ctx, file, stdin_fd, &c, &err) < 0);
  assert_null (c);
  msg = xstrdup (err->msg);
  err_release (&err);
  return msg;
}

/* ---- directories ----------------------------------------------------------- */

static void
test_dir_context (void **state)
{
  struct fixture *f = *state;
  struct build_context *c;
  struct stat st;

  put (f->dir, "Dockerfile", "FROM scratch\n");
  c = open_ok (f->dir, NULL, -1);
  assert_string_equal (c->dir, f->dir);
  assert_true (c->dirfd >= 0);
  assert_int_equal (fstat (c->dirfd, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  assert_string_equal (c->dockerfile_text, "FROM scratch\n");
  assert_int_equal (c->dockerfile_len, 13);
  assert_false (c->is_tar);
  assert_null (c->tmpdir);
  build_context_free (c);
  /* a directory context is the user's: it stays */
  assert_true (fs_exists (f->dir));
}

static void
test_containerfile_preferred (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *expect = xasprintf ("%s/Containerfile", f->dir);
  struct build_context *c;

  put (f->dir, "Dockerfile", "FROM docker\n");
  put (f->dir, "Containerfile", "FROM container\n");
  c = open_ok (f->dir, NULL, -1);
  assert_string_equal (c->dockerfile_text, "FROM container\n");
  assert_string_equal (c->dockerfile_path, expect);
  build_context_free (c);
}

static void
test_no_dockerfile (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = open_err (f->dir, NULL, -1);

  assert_non_null (strstr (msg, "no Containerfile or Dockerfile specified or found in context "
                                "directory"));
}

static void
test_missing_context (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *missing = xasprintf ("%s/nope", f->dir);
  cleanup_free char *msg = open_err (missing, NULL, -1);
  cleanup_free char *msg2 = open_err ("https://example.com/ctx.git", NULL, -1);

  assert_non_null (strstr (msg, "nope"));
  assert_non_null (strstr (msg2, "remote contexts are not supported"));
}

static void
test_dockerfile_flag_relative_to_cwd (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *ctx = xasprintf ("%s/ctx", f->dir);
  char cwd[4096];
  struct build_context *c;

  put (f->dir, "ctx/Dockerfile", "FROM in-context\n");
  put (f->dir, "files/build.df", "FROM elsewhere\n");
  assert_non_null (getcwd (cwd, sizeof cwd));
  assert_int_equal (chdir (f->dir), 0);
  c = open_ok ("ctx", "files/build.df", -1);
  assert_int_equal (chdir (cwd), 0);
  assert_string_equal (c->dockerfile_text, "FROM elsewhere\n");
  assert_string_equal (c->dockerfile_path, "files/build.df");
  assert_string_equal (c->dir, "ctx");
  build_context_free (c);
  (void) ctx;
}

static void
test_dockerfile_flag_in_context (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *ctx = xasprintf ("%s/ctx", f->dir);
  cleanup_free char *expect = xasprintf ("%s/ctx/sub/Build.df", f->dir);
  struct build_context *c;
  cleanup_free char *msg = NULL;

  put (f->dir, "ctx/sub/Build.df", "FROM sub\n");
  /* not below the current directory: podman looks in the context */
  c = open_ok (ctx, "sub/Build.df", -1);
  assert_string_equal (c->dockerfile_text, "FROM sub\n");
  assert_string_equal (c->dockerfile_path, expect);
  build_context_free (c);
  msg = open_err (ctx, "sub/Missing.df", -1);
  assert_string_equal (msg,
                       "the specified Containerfile or Dockerfile does not exist, sub/Missing.df");
}

static void
test_dockerfile_flag_stdin (void **state)
{
  struct fixture *f = *state;
  int fd = stdin_with ("FROM piped\n", 11);
  struct build_context *c;

  c = open_ok (f->dir, "-", fd);
  assert_string_equal (c->dockerfile_text, "FROM piped\n");
  assert_string_equal (c->dockerfile_path, "-");
  assert_true (c->dirfd >= 0);
  build_context_free (c);
  close (fd);
}

/* ---- standard input -------------------------------------------------------- */

static void
test_stdin_dockerfile (void **state)
{
  struct fixture *f = *state;
  int fd = stdin_with ("FROM busybox\nRUN true\n", 22);
  struct build_context *c = open_ok ("-", NULL, fd);

  assert_null (c->dir);
  assert_int_equal (c->dirfd, -1);
  assert_string_equal (c->dockerfile_path, "-");
  assert_string_equal (c->dockerfile_text, "FROM busybox\nRUN true\n");
  build_context_free (c);
  close (fd);
  assert_int_equal (n_left (f), 0);
}

static void
check_tar_context (struct fixture *f, struct build_context *c)
{
  cleanup_free char *app = xasprintf ("%s/src/app.sh", c->dir);
  cleanup_free char *tmpdir = xstrdup (c->tmpdir);
  struct stat st;

  assert_true (c->is_tar);
  assert_non_null (c->tmpdir);
  assert_true (str_has_prefix (c->tmpdir, f->tmp));
  assert_string_equal (c->dockerfile_text, "FROM busybox\n");
  assert_int_equal (stat (app, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0755);
  build_context_free (c);
  assert_false (fs_exists (tmpdir));
  assert_int_equal (n_left (f), 0);
}

static void
test_stdin_tar (void **state)
{
  struct fixture *f = *state;

  for (int gz = 0; gz < 2; gz++)
    {
      size_t len = 0;
      cleanup_free char *tar = make_tar (ctx_entries, 3, gz, &len);
      int fd = stdin_with (tar, len);

      check_tar_context (f, open_ok ("-", NULL, fd));
      close (fd);
    }
}

static void
test_tarball_path (void **state)
{
  struct fixture *f = *state;
  size_t len = 0;
  cleanup_free char *tar = make_tar (ctx_entries, 3, true, &len);
  cleanup_free char *path = xasprintf ("%s/ctx.tar.gz", f->dir);
  struct error *err = NULL;

  assert_int_equal (fs_write_atomic_nosync (path, tar, len, 0644, &err), 0);
  check_tar_context (f, open_ok (path, NULL, -1));
}

static void
test_tar_dockerfile_flag_inside (void **state)
{
  struct fixture *f = *state;
  static const struct tentry entries[] = {
    { "Dockerfile", S_IFREG | 0644, "FROM default\n", NULL },
    { "sub/Other.df", S_IFREG | 0644, "FROM other\n", NULL },
  };
  size_t len = 0;
  cleanup_free char *tar = make_tar (entries, 2, false, &len);
  int fd = stdin_with (tar, len);
  struct build_context *c = open_ok ("-", "sub/Other.df", fd);

  assert_string_equal (c->dockerfile_text, "FROM other\n");
  build_context_free (c);
  close (fd);
  assert_int_equal (n_left (f), 0);
}

static void
test_tar_dockerfile_symlink_stays_inside (void **state)
{
  struct fixture *f = *state;
  static const struct tentry entries[] = {
    { "Dockerfile", S_IFLNK | 0777, NULL, "/etc/passwd" },
  };
  size_t len = 0;
  cleanup_free char *tar = make_tar (entries, 1, false, &len);
  int fd = stdin_with (tar, len);
  cleanup_free char *msg = open_err ("-", NULL, fd);

  assert_non_null (strstr (msg, "no Containerfile or Dockerfile"));
  close (fd);
  assert_int_equal (n_left (f), 0);
}

static void
test_hostile_tar_refused (void **state)
{
  struct fixture *f = *state;
  static const struct tentry entries[] = {
    { "Dockerfile", S_IFREG | 0644, "FROM x\n", NULL },
    { "../../escape", S_IFREG | 0644, "evil\n", NULL },
  };
  size_t len = 0;
  cleanup_free char *tar = make_tar (entries, 2, false, &len);
  int fd = stdin_with (tar, len);
  cleanup_free char *msg = open_err ("-", NULL, fd);
  cleanup_free char *escaped = xasprintf ("%s/../escape", f->tmp);

  assert_non_null (strstr (msg, "extract build context"));
  assert_false (fs_exists (escaped));
  close (fd);
  assert_int_equal (n_left (f), 0); /* the partial context is gone too */
}

static void
test_both_stdin_refused (void **state)
{
  cleanup_free char *msg = open_err ("-", "-", 0);

  (void) state;
  assert_non_null (strstr (msg, "standard input"));
}

static void
test_not_a_tar_file (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *path = xasprintf ("%s/notes.txt", f->dir);
  cleanup_free char *msg = NULL;

  put (f->dir, "notes.txt", "just text");
  msg = open_err (path, NULL, -1);
  assert_non_null (strstr (msg, "not a directory or a tar archive"));
  assert_int_equal (n_left (f), 0);
}

/* ---- sniffing -------------------------------------------------------------- */

static void
test_sniff (void **state)
{
  size_t len = 0;
  cleanup_free char *tar = make_tar (ctx_entries, 1, false, &len);
  char v7[512];
  unsigned sum = 0;

  (void) state;
  assert_int_equal (build_context_sniff ("FROM x\n", 7), BUILD_CONTEXT_TEXT);
  assert_int_equal (build_context_sniff ("", 0), BUILD_CONTEXT_TEXT);
  assert_int_equal (build_context_sniff ("\x1f\x8b\x08", 3), BUILD_CONTEXT_TAR);
  assert_int_equal (build_context_sniff ("BZh91AY", 7), BUILD_CONTEXT_TAR);
  assert_int_equal (build_context_sniff ("\xfd" "7zXZ\x00\x00", 7), BUILD_CONTEXT_TAR);
  assert_int_equal (build_context_sniff ("\x28\xb5\x2f\xfd\x00", 5), BUILD_CONTEXT_TAR);
  assert_int_equal (build_context_sniff (tar, len), BUILD_CONTEXT_TAR);
  assert_int_equal (build_context_sniff (tar, 511), BUILD_CONTEXT_TEXT); /* short */
  /* a v7 header (no "ustar") is told by its checksum; a wrong one is text */
  memset (v7, 0, sizeof v7);
  strcpy (v7, "file");
  memset (v7 + 148, ' ', 8);
  for (size_t i = 0; i < sizeof v7; i++)
    sum += (unsigned char) v7[i];
  snprintf (v7 + 148, 8, "%06o", sum);
  assert_int_equal (build_context_sniff (v7, sizeof v7), BUILD_CONTEXT_TAR);
  v7[0] = 'g';
  assert_int_equal (build_context_sniff (v7, sizeof v7), BUILD_CONTEXT_TEXT);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_dir_context, setup, teardown),
    cmocka_unit_test_setup_teardown (test_containerfile_preferred, setup, teardown),
    cmocka_unit_test_setup_teardown (test_no_dockerfile, setup, teardown),
    cmocka_unit_test_setup_teardown (test_missing_context, setup, teardown),
    cmocka_unit_test_setup_teardown (test_dockerfile_flag_relative_to_cwd, setup, teardown),
    cmocka_unit_test_setup_teardown (test_dockerfile_flag_in_context, setup, teardown),
    cmocka_unit_test_setup_teardown (test_dockerfile_flag_stdin, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stdin_dockerfile, setup, teardown),
    cmocka_unit_test_setup_teardown (test_stdin_tar, setup, teardown),
    cmocka_unit_test_setup_teardown (test_tarball_path, setup, teardown),
    cmocka_unit_test_setup_teardown (test_tar_dockerfile_flag_inside, setup, teardown),
    cmocka_unit_test_setup_teardown (test_tar_dockerfile_symlink_stays_inside, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hostile_tar_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_both_stdin_refused, setup, teardown),
    cmocka_unit_test_setup_teardown (test_not_a_tar_file, setup, teardown),
    cmocka_unit_test (test_sniff),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
