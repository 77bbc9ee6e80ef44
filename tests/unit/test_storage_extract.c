/* Unit tests for storage/extract.c.  Each test builds its layer in memory
 * with libarchive's writer (pax tar, then gzip, zstd or nothing around it),
 * extracts it into BASE/dest and checks the tree, and that BASE/outside and
 * BASE itself gained nothing.  Hostile archives must fail without writing
 * outside the destination.  Some checks need root (owners, device nodes)
 * or user xattrs on $TMPDIR; without them they are skipped with the
 * reason printed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "storage/storage.h"

#define MTIME 1600000000
#define MTIME_NSEC 123456789

enum compression
{
  PLAIN,
  GZIP,
  ZSTD,
  XZ,
};

struct fixture
{
  char *base;
  char *dest;
  char *outside;
  int dest_fd;
};

/* --- building archives --------------------------------------------------- */

struct tw
{
  struct archive *a;
  struct buf tar;
};

static la_ssize_t
append_cb (struct archive *a, void *data, const void *buf, size_t len)
{
  buf_append (data, buf, len);
  return (la_ssize_t) len;
}

static void
tw_open (struct tw *t)
{
  t->tar = (struct buf) BUF_INIT;
  t->a = archive_write_new ();
  assert_int_equal (archive_write_set_format_pax (t->a), ARCHIVE_OK);
  assert_int_equal (archive_write_open (t->a, &t->tar, NULL, append_cb, NULL), ARCHIVE_OK);
}

static struct archive_entry *
new_entry (const char *path, mode_t type, mode_t perm)
{
  struct archive_entry *e = archive_entry_new ();

  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, perm);
  archive_entry_set_mtime (e, MTIME, MTIME_NSEC);
  /* Our own IDs, so that chown succeeds without root too. */
  archive_entry_set_uid (e, geteuid ());
  archive_entry_set_gid (e, getegid ());
  return e;
}

/* Write E (and LEN bytes of DATA) and free it. */
static void
tw_add (struct tw *t, struct archive_entry *e, const void *data, size_t len)
{
  archive_entry_set_size (e, (la_int64_t) len);
  assert_int_equal (archive_write_header (t->a, e), ARCHIVE_OK);
  if (len > 0)
    assert_int_equal (archive_write_data (t->a, data, len), (la_ssize_t) len);
  archive_entry_free (e);
}

static void
tw_file (struct tw *t, const char *path, mode_t perm, const char *content)
{
  tw_add (t, new_entry (path, AE_IFREG, perm), content, strlen (content));
}

static void
tw_dir (struct tw *t, const char *path, mode_t perm)
{
  tw_add (t, new_entry (path, AE_IFDIR, perm), NULL, 0);
}

static void
tw_symlink (struct tw *t, const char *path, const char *target)
{
  struct archive_entry *e = new_entry (path, AE_IFLNK, 0777);

  archive_entry_set_symlink (e, target);
  tw_add (t, e, NULL, 0);
}

static void
tw_hardlink (struct tw *t, const char *path, const char *target)
{
  struct archive_entry *e = new_entry (path, AE_IFREG, 0644);

  archive_entry_set_hardlink (e, target);
  tw_add (t, e, NULL, 0);
}

static void
tw_close (struct tw *t)
{
  assert_int_equal (archive_write_close (t->a), ARCHIVE_OK);
  archive_write_free (t->a);
  t->a = NULL;
}

/* An fd (offset 0) holding LEN bytes of DATA. */
static int
memfd_with (const void *data, size_t len)
{
  int fd = memfd_create ("layer", MFD_CLOEXEC);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, data, len), (ssize_t) len);
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  return fd;
}

/* The tar bytes wrapped in compression C, as a registry would serve them. */
static int
blob_of (const struct buf *tar, enum compression c)
{
  struct buf out = BUF_INIT;
  struct archive *w;
  struct archive_entry *e;
  int fd;

  if (c == PLAIN)
    return memfd_with (tar->data, tar->len);
  w = archive_write_new ();
  assert_int_equal (archive_write_set_format_raw (w), ARCHIVE_OK);
  if (c == GZIP)
    assert_int_equal (archive_write_add_filter_gzip (w), ARCHIVE_OK);
  else if (c == ZSTD)
    assert_int_equal (archive_write_add_filter_zstd (w), ARCHIVE_OK);
  else
    assert_int_equal (archive_write_add_filter_xz (w), ARCHIVE_OK);
  assert_int_equal (archive_write_set_bytes_in_last_block (w, 1), ARCHIVE_OK);
  assert_int_equal (archive_write_open (w, &out, NULL, append_cb, NULL), ARCHIVE_OK);
  e = archive_entry_new ();
  archive_entry_set_pathname (e, "data");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_size (e, (la_int64_t) tar->len);
  assert_int_equal (archive_write_header (w, e), ARCHIVE_OK);
  assert_int_equal (archive_write_data (w, tar->data, tar->len), (la_ssize_t) tar->len);
  assert_int_equal (archive_write_close (w), ARCHIVE_OK);
  archive_write_free (w);
  archive_entry_free (e);
  fd = memfd_with (out.data, out.len);
  buf_free (&out);
  return fd;
}

/* --- running the extraction ---------------------------------------------- */

static int
setup (void **state)
{
  const char *tmp = getenv ("TMPDIR");
  struct fixture *f = xmalloc0 (sizeof *f);

  f->base = xasprintf ("%s/test_extract.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp (f->base) == NULL)
    return -1;
  f->dest = xasprintf ("%s/dest", f->base);
  f->outside = xasprintf ("%s/outside", f->base);
  if (mkdir (f->dest, 0755) < 0 || mkdir (f->outside, 0755) < 0)
    return -1;
  f->dest_fd = open (f->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *state = f;
  unsetenv ("SKIFF_NO_OPENAT2");
  unsetenv ("SKIFF_NO_OVERLAY_WHITEOUTS");
  return f->dest_fd < 0 ? -1 : 0;
}

static int
teardown (void **state)
{
  cleanup_error struct error *err = NULL;
  struct fixture *f = *state;
  int r = fs_remove_tree (f->base, &err);

  close (f->dest_fd);
  free (f->base);
  free (f->dest);
  free (f->outside);
  free (f);
  return r;
}

static int
run (struct fixture *f, struct tw *t, enum compression c, bool is_apply,
     const struct storage_extract_opts *opts, struct storage_extract_result *res,
     struct error **err)
{
  struct storage_extract_result scratch;
  int fd = blob_of (&t->tar, c);
  int r;

  if (res == NULL)
    res = &scratch;
  if (is_apply)
    r = storage_apply_layer (fd, f->dest_fd, opts, res, err);
  else
    r = storage_extract_layer (fd, f->dest_fd, opts, res, err);
  close (fd);
  return r;
}

/* Extract T and expect success. */
static void
extract_ok (struct fixture *f, struct tw *t, const struct storage_extract_opts *opts)
{
  cleanup_error struct error *err = NULL;

  if (run (f, t, PLAIN, false, opts, NULL, &err) < 0)
    fail_msg ("extract: %s", err->msg);
}

/* Extract T and expect failure; returns the message for checks. */
static char *
extract_fails (struct fixture *f, struct tw *t, bool is_apply)
{
  struct error *err = NULL;
  char *msg;

  assert_true (run (f, t, PLAIN, is_apply, NULL, NULL, &err) < 0);
  assert_non_null (err);
  msg = xstrdup (err->msg);
  err_release (&err);
  return msg;
}

static char *
at (struct fixture *f, const char *rel)
{
  return xasprintf ("%s/%s", f->dest, rel);
}

static struct stat
lstat_ok (struct fixture *f, const char *rel)
{
  cleanup_free char *p = at (f, rel);
  struct stat st;

  if (lstat (p, &st) < 0)
    fail_msg ("lstat \"%s\": %s", rel, strerror (errno));
  return st;
}

static bool
exists (struct fixture *f, const char *rel)
{
  cleanup_free char *p = at (f, rel);
  struct stat st;

  return lstat (p, &st) == 0;
}

static char *
content_of (struct fixture *f, const char *rel)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *p = at (f, rel);
  char *s = fs_read_file (p, 0, NULL, &err);

  if (s == NULL)
    fail_msg ("read \"%s\": %s", rel, err->msg);
  return s;
}

static size_t
count_entries (const char *dir)
{
  cleanup_dir DIR *d = opendir (dir);
  struct dirent *de;
  size_t n = 0;

  assert_non_null (d);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      n++;
  return n;
}

/* Nothing was written next to the destination or into "outside". */
static void
assert_contained (struct fixture *f)
{
  assert_int_equal (count_entries (f->outside), 0);
  assert_int_equal (count_entries (f->base), 2);
}

static bool
is_root (const char *why)
{
  if (geteuid () == 0)
    return true;
  printf ("  skipped (needs root): %s\n", why);
  return false;
}

/* Whether user xattrs work in the destination's file system. */
static bool
has_user_xattrs (struct fixture *f)
{
  if (fsetxattr (f->dest_fd, "user.skiff-test", "1", 1, 0) == 0)
    {
      fremovexattr (f->dest_fd, "user.skiff-test");
      return true;
    }
  printf ("  skipped: no user xattrs in \"%s\": %s\n", f->dest, strerror (errno));
  return false;
}

static char *
xattr_of (struct fixture *f, const char *rel, const char *key)
{
  cleanup_free char *p = at (f, rel);
  char value[256];
  ssize_t n = lgetxattr (p, key, value, sizeof value - 1);

  if (n < 0)
    return NULL;
  value[n] = '\0';
  return xstrdup (value);
}

/* --- regular content ----------------------------------------------------- */

static void
test_regular_file_content_and_mode (void **state)
{
  struct fixture *f = *state;
  struct tw t;
  cleanup_free char *c = NULL;
  struct stat st;

  tw_open (&t);
  tw_file (&t, "hello.txt", 0640, "hello world\n");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  c = content_of (f, "hello.txt");
  assert_string_equal (c, "hello world\n");
  st = lstat_ok (f, "hello.txt");
  assert_true (S_ISREG (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0640);
  buf_free (&t.tar);
}

static void
test_file_mtime_set (void **state)
{
  struct fixture *f = *state;
  struct tw t;
  struct stat st;

  tw_open (&t);
  tw_file (&t, "f", 0644, "x");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  st = lstat_ok (f, "f");
  assert_int_equal (st.st_mtim.tv_sec, MTIME);
  assert_int_equal (st.st_mtim.tv_nsec, MTIME_NSEC);
  buf_free (&t.tar);
}

static void
test_setuid_and_sticky_bits_kept (void **state)
{
  struct fixture *f = *state;
  struct tw t;

  tw_open (&t);
  tw_file (&t, "su", 04755, "#!/bin/sh\n");
  tw_dir (&t, "tmp", 01777);
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_int_equal (lstat_ok (f, "su").st_mode & 07777, 04755);
  assert_int_equal (lstat_ok (f, "tmp").st_mode & 07777, 01777);
  buf_free (&t.tar);
}

static void
test_readonly_dir_filled_then_mode_and_mtime_set (void **state)
{
  struct fixture *f = *state;
  struct tw t;
  struct stat st;

  tw_open (&t);
  tw_dir (&t, "ro", 0555);
  tw_file (&t, "ro/inside", 0644, "data");
  tw_dir (&t, "ro/sub", 0500);
  tw_file (&t, "ro/sub/deep", 0600, "deep");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  st = lstat_ok (f, "ro");
  assert_int_equal (st.st_mode & 07777, 0555);
  assert_int_equal (st.st_mtim.tv_sec, MTIME);
  assert_int_equal (lstat_ok (f, "ro/sub").st_mode & 07777, 0500);
  assert_true (exists (f, "ro/sub/deep"));
  buf_free (&t.tar);
}

static void
test_symlink_stored_not_followed (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *p = at (f, "abs");
  char target[256];
  ssize_t n;
  struct tw t;

  tw_open (&t);
  tw_symlink (&t, "abs", f->outside);
  tw_symlink (&t, "rel", "../../../etc/passwd");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_true (S_ISLNK (lstat_ok (f, "abs").st_mode));
  n = readlink (p, target, sizeof target - 1);
  assert_true (n > 0);
  target[n] = '\0';
  assert_string_equal (target, f->outside);
  assert_true (S_ISLNK (lstat_ok (f, "rel").st_mode));
  assert_int_equal (lstat_ok (f, "abs").st_mtim.tv_sec, MTIME);
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_hardlink_shares_inode (void **state)
{
  struct fixture *f = *state;
  struct tw t;
  struct stat a, b;

  tw_open (&t);
  tw_dir (&t, "bin", 0755);
  tw_file (&t, "bin/busybox", 0755, "ELF");
  tw_hardlink (&t, "bin/sh", "bin/busybox");
  tw_hardlink (&t, "ls", "./bin/busybox");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  a = lstat_ok (f, "bin/busybox");
  b = lstat_ok (f, "bin/sh");
  assert_int_equal (a.st_ino, b.st_ino);
  assert_int_equal (lstat_ok (f, "ls").st_ino, a.st_ino);
  assert_int_equal (a.st_nlink, 3);
  buf_free (&t.tar);
}

static void
test_fifo_created (void **state)
{
  struct fixture *f = *state;
  struct tw t;
  struct stat st;

  tw_open (&t);
  tw_add (&t, new_entry ("pipe", AE_IFIFO, 0620), NULL, 0);
  tw_close (&t);
  extract_ok (f, &t, NULL);
  st = lstat_ok (f, "pipe");
  assert_true (S_ISFIFO (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0620);
  buf_free (&t.tar);
}

static void
test_device_node_skipped (void **state)
{
  struct fixture *f = *state;
  struct archive_entry *e = new_entry ("disk", AE_IFBLK, 0666);
  struct tw t;

  archive_entry_set_rdev (e, makedev (8, 0));
  tw_open (&t);
  tw_file (&t, "disk", 0644, "earlier");
  tw_add (&t, e, NULL, 0);
  tw_file (&t, "after", 0644, "x");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_false (exists (f, "disk"));
  assert_true (exists (f, "after"));
  buf_free (&t.tar);
}

static void
test_missing_parents_created_0755 (void **state)
{
  struct fixture *f = *state;
  struct tw t;

  tw_open (&t);
  tw_file (&t, "a/b/c/file", 0644, "x");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_int_equal (lstat_ok (f, "a").st_mode & 07777, 0755);
  assert_int_equal (lstat_ok (f, "a/b/c").st_mode & 07777, 0755);
  assert_true (exists (f, "a/b/c/file"));
  buf_free (&t.tar);
}

static void
test_root_entry_sets_root_mode (void **state)
{
  struct fixture *f = *state;
  struct tw t;
  struct stat st;

  tw_open (&t);
  tw_dir (&t, "./", 0751);
  tw_file (&t, "./etc/hostname", 0644, "box\n");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_int_equal (stat (f->dest, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0751);
  assert_int_equal (st.st_mtim.tv_sec, MTIME);
  assert_true (exists (f, "etc/hostname"));
  buf_free (&t.tar);
}

static void
test_root_replaced_by_file_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  tw_open (&t);
  tw_file (&t, ".", 0644, "x");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_non_null (strstr (msg, "layer root"));
  buf_free (&t.tar);
}

static void
test_absolute_name_stays_inside (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *c = NULL;
  struct tw t;

  tw_open (&t);
  tw_file (&t, "/etc/x", 0644, "inside");
  tw_file (&t, "//./usr//bin/./y", 0644, "y");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  c = content_of (f, "etc/x");
  assert_string_equal (c, "inside");
  assert_true (exists (f, "usr/bin/y"));
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_non_ascii_name_bytes_kept (void **state)
{
  struct fixture *f = *state;

  struct archive_entry *e = new_entry ("caf\xc3\xa9-\xff.txt", AE_IFREG, 0644);
  struct tw t;

  /* In the C locale the writer warns and stores the bytes as they are
   * (pax hdrcharset=BINARY), as Go's archive/tar does with such names. */
  archive_entry_set_size (e, 0);
  tw_open (&t);
  assert_true (archive_write_header (t.a, e) >= ARCHIVE_WARN);
  archive_entry_free (e);
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_true (exists (f, "caf\xc3\xa9-\xff.txt"));
  buf_free (&t.tar);
}

static void
test_long_name_within_limits (void **state)
{
  struct fixture *f = *state;
  char name[1200];
  struct tw t;

  /* Eight directories of 120 bytes and a 200-byte file: pax "path". */
  name[0] = '\0';
  for (int i = 0; i < 8; i++)
    {
      size_t len = strlen (name);
      memset (name + len, 'a' + i, 120);
      name[len + 120] = '/';
      name[len + 121] = '\0';
    }
  memset (name + strlen (name), 'z', 200);
  name[8 * 121 + 200] = '\0';
  tw_open (&t);
  tw_file (&t, name, 0644, "long");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_true (exists (f, name));
  buf_free (&t.tar);
}

static void
test_sparse_trailing_size_kept (void **state)
{
  struct fixture *f = *state;
  struct archive_entry *e = new_entry ("sparse", AE_IFREG, 0644);
  struct tw t;

  /* A pax sparse map: 3 data bytes at 0 and a 1 MiB hole after them. */
  archive_entry_sparse_add_entry (e, 0, 3);
  archive_entry_sparse_add_entry (e, 1024 * 1024, 0);
  tw_open (&t);
  archive_entry_set_size (e, 1024 * 1024);
  assert_int_equal (archive_write_header (t.a, e), ARCHIVE_OK);
  assert_int_equal (archive_write_data (t.a, "abc", 3), 3);
  archive_entry_free (e);
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_int_equal (lstat_ok (f, "sparse").st_size, 1024 * 1024);
  buf_free (&t.tar);
}

/* --- replacing earlier entries ------------------------------------------- */

static void
test_later_file_overwrites_earlier (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *c = NULL;
  struct tw t;

  tw_open (&t);
  tw_file (&t, "f", 0644, "first");
  tw_file (&t, "f", 0600, "second");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  c = content_of (f, "f");
  assert_string_equal (c, "second");
  assert_int_equal (lstat_ok (f, "f").st_mode & 07777, 0600);
  buf_free (&t.tar);
}

static void
test_file_replaces_symlink_not_its_target (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *victim = xasprintf ("%s/victim", f->outside);
  cleanup_free char *c = NULL;
  struct tw t;

  tw_open (&t);
  tw_symlink (&t, "f", victim);
  tw_file (&t, "f", 0644, "mine");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  c = content_of (f, "f");
  assert_string_equal (c, "mine");
  assert_true (S_ISREG (lstat_ok (f, "f").st_mode));
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_dir_over_dir_keeps_contents (void **state)
{
  struct fixture *f = *state;
  struct tw t;

  tw_open (&t);
  tw_dir (&t, "d", 0755);
  tw_file (&t, "d/kept", 0644, "x");
  tw_dir (&t, "d", 0700);
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_true (exists (f, "d/kept"));
  assert_int_equal (lstat_ok (f, "d").st_mode & 07777, 0700);
  buf_free (&t.tar);
}

static void
test_file_replaces_dir (void **state)
{
  struct fixture *f = *state;
  struct tw t;

  tw_open (&t);
  tw_dir (&t, "d", 0755);
  tw_file (&t, "d/gone", 0644, "x");
  tw_file (&t, "d", 0644, "now a file");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_true (S_ISREG (lstat_ok (f, "d").st_mode));
  buf_free (&t.tar);
}

static void
test_dir_replaces_symlink (void **state)
{
  struct fixture *f = *state;
  struct tw t;

  tw_open (&t);
  tw_symlink (&t, "d", f->outside);
  tw_dir (&t, "d", 0755);
  tw_file (&t, "d/f", 0644, "x");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_true (S_ISDIR (lstat_ok (f, "d").st_mode));
  assert_true (exists (f, "d/f"));
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_dir_removed_and_remade_is_written_again (void **state)
{
  struct fixture *f = *state;
  struct tw t;

  /* "a/b" goes with "a" when "a" becomes a symlink; the later "a/b/f2"
   * must land in a new "a/b", not in the removed one. */
  tw_open (&t);
  tw_file (&t, "a/b/f1", 0644, "1");
  tw_symlink (&t, "a", "elsewhere");
  tw_dir (&t, "a", 0755);
  tw_file (&t, "a/b/f2", 0644, "2");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_true (exists (f, "a/b/f2"));
  assert_false (exists (f, "a/b/f1"));
  buf_free (&t.tar);
}

static void
test_hardlink_missing_file_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  tw_open (&t);
  tw_hardlink (&t, "x", "nothere");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_non_null (strstr (msg, "earlier in the layer"));
  assert_false (exists (f, "x"));
  buf_free (&t.tar);
}

/* --- owners and xattrs --------------------------------------------------- */

static void
test_owner_applied (void **state)
{
  struct fixture *f = *state;
  struct archive_entry *e;
  struct tw t;
  struct stat st;

  if (!is_root ("chown to another user"))
    return;
  e = new_entry ("owned", AE_IFREG, 04755);
  archive_entry_set_uid (e, 1234);
  archive_entry_set_gid (e, 5678);
  tw_open (&t);
  tw_add (&t, e, "x", 1);
  tw_symlink (&t, "link", "owned");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  st = lstat_ok (f, "owned");
  assert_int_equal (st.st_uid, 1234);
  assert_int_equal (st.st_gid, 5678);
  /* chown clears setuid; the mode is set after it. */
  assert_int_equal (st.st_mode & 07777, 04755);
  buf_free (&t.tar);
}

static void
test_owner_out_of_range_rejected (void **state)
{
  struct fixture *f = *state;
  struct archive_entry *e = new_entry ("f", AE_IFREG, 0644);
  cleanup_free char *msg = NULL;
  struct tw t;

  archive_entry_set_uid (e, 4294967295LL);
  tw_open (&t);
  tw_add (&t, e, NULL, 0);
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_non_null (strstr (msg, "out of range"));
  buf_free (&t.tar);
}

static int
write_proc (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return -1;
  n = write (fd, text, strlen (text));
  close (fd);
  return n == (ssize_t) strlen (text) ? 0 : -1;
}

/* In a child: a user namespace mapping one ID, as rootless skiff without
 * subordinate IDs has.  Returns the child's exit status: 0 when extraction
 * with is_rootless_single_id succeeds and without it fails, 77 when no
 * such namespace can be made here. */
static int
single_id_child (struct fixture *f, const struct buf *tar)
{
  uid_t uid = geteuid ();
  gid_t gid = getegid ();
  char map[64];
  struct storage_extract_opts opts = { .whiteouts = WHITEOUT_AUFS };
  struct storage_extract_result res;
  struct error *err = NULL;
  int fd;

  if (unshare (CLONE_NEWUSER) < 0)
    return 77;
  snprintf (map, sizeof map, "0 %u 1\n", (unsigned) uid);
  if (write_proc ("/proc/self/setgroups", "deny") < 0 || write_proc ("/proc/self/uid_map", map) < 0)
    return 77;
  snprintf (map, sizeof map, "0 %u 1\n", (unsigned) gid);
  if (write_proc ("/proc/self/gid_map", map) < 0)
    return 77;
  fd = memfd_with (tar->data, tar->len);
  if (storage_extract_layer (fd, f->dest_fd, &opts, &res, &err) == 0)
    return 1;
  err_release (&err);
  opts.is_rootless_single_id = true;
  assert_int_equal (lseek (fd, 0, SEEK_SET), 0);
  if (storage_extract_layer (fd, f->dest_fd, &opts, &res, &err) < 0)
    return 2;
  return 0;
}

static void
test_single_id_namespace_tolerates_chown (void **state)
{
  struct fixture *f = *state;
  struct archive_entry *e = new_entry ("f", AE_IFREG, 0644);
  struct tw t;
  pid_t pid;
  int status;

  archive_entry_set_uid (e, 1000);
  archive_entry_set_gid (e, 1000);
  tw_open (&t);
  tw_add (&t, e, "x", 1);
  tw_close (&t);
  fflush (NULL);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    _exit (single_id_child (f, &t.tar));
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  if (WEXITSTATUS (status) == 77)
    printf ("  skipped: cannot make a user namespace here\n");
  else
    assert_int_equal (WEXITSTATUS (status), 0);
  buf_free (&t.tar);
}

static void
test_user_xattr_applied (void **state)
{
  struct fixture *f = *state;
  struct archive_entry *e = new_entry ("f", AE_IFREG, 0644);
  cleanup_free char *v = NULL;
  struct tw t;

  if (!has_user_xattrs (f))
    return;
  archive_entry_xattr_add_entry (e, "user.mime", "text/plain", 10);
  tw_open (&t);
  tw_add (&t, e, "x", 1);
  tw_close (&t);
  extract_ok (f, &t, NULL);
  v = xattr_of (f, "f", "user.mime");
  assert_non_null (v);
  assert_string_equal (v, "text/plain");
  buf_free (&t.tar);
}

static void
test_overlay_xattrs_from_image_refused (void **state)
{
  struct fixture *f = *state;
  struct archive_entry *e = new_entry ("d", AE_IFDIR, 0755);
  struct storage_extract_opts opts = { .opaque_xattr = "user.overlay.opaque" };
  cleanup_free char *fine = NULL;
  struct tw t;

  if (!has_user_xattrs (f))
    return;
  archive_entry_xattr_add_entry (e, "user.overlay.opaque", "y", 1);
  archive_entry_xattr_add_entry (e, "user.overlay.redirect", "/etc", 5);
  archive_entry_xattr_add_entry (e, "trusted.overlay.opaque", "y", 1);
  archive_entry_xattr_add_entry (e, "security.selinux", "x", 1);
  archive_entry_xattr_add_entry (e, "user.fine", "1", 1);
  tw_open (&t);
  tw_add (&t, e, NULL, 0);
  tw_close (&t);
  extract_ok (f, &t, &opts);
  assert_null (xattr_of (f, "d", "user.overlay.opaque"));
  assert_null (xattr_of (f, "d", "user.overlay.redirect"));
  assert_null (xattr_of (f, "d", "trusted.overlay.opaque"));
  assert_null (xattr_of (f, "d", "security.selinux"));
  fine = xattr_of (f, "d", "user.fine");
  assert_non_null (fine);
  buf_free (&t.tar);
}

static void
test_oversized_xattr_rejected (void **state)
{
  struct fixture *f = *state;
  struct archive_entry *e = new_entry ("f", AE_IFREG, 0644);
  size_t big = 64 * 1024 + 1;
  cleanup_free char *value = xmalloc0 (big);
  cleanup_free char *msg = NULL;
  struct tw t;

  archive_entry_xattr_add_entry (e, "user.big", value, big);
  tw_open (&t);
  tw_add (&t, e, NULL, 0);
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_non_null (strstr (msg, "xattr"));
  buf_free (&t.tar);
}

/* --- the diff_id and compression ----------------------------------------- */

static void
make_sample (struct tw *t)
{
  char big[100000];

  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char) ('a' + i % 26);
  tw_open (t);
  tw_dir (t, "etc", 0755);
  tw_file (t, "etc/os-release", 0644, "ID=skiff\n");
  tw_add (t, new_entry ("big", AE_IFREG, 0644), big, sizeof big);
  tw_symlink (t, "link", "etc/os-release");
  tw_close (t);
}

static void
check_diff_id (struct fixture *f, enum compression c)
{
  cleanup_error struct error *err = NULL;
  struct storage_extract_result res;
  char hex[SHA256_HEX_LEN + 1];
  char want[SHA256_DIGEST_STR_LEN];
  cleanup_free char *content = NULL;
  struct tw t;

  make_sample (&t);
  sha256_buf_hex (t.tar.data, t.tar.len, hex);
  snprintf (want, sizeof want, "sha256:%s", hex);
  if (run (f, &t, c, false, NULL, &res, &err) < 0)
    fail_msg ("extract: %s", err->msg);
  assert_string_equal (res.diff_id, want);
  assert_int_equal (res.size, t.tar.len);
  assert_int_equal (res.n_entries, 4);
  content = content_of (f, "etc/os-release");
  assert_string_equal (content, "ID=skiff\n");
  assert_int_equal (lstat_ok (f, "big").st_size, 100000);
  buf_free (&t.tar);
}

static void
test_diff_id_plain (void **state)
{
  check_diff_id (*state, PLAIN);
}

static void
test_diff_id_gzip (void **state)
{
  check_diff_id (*state, GZIP);
}

static void
test_diff_id_zstd (void **state)
{
  check_diff_id (*state, ZSTD);
}

static void
test_diff_id_xz (void **state)
{
  check_diff_id (*state, XZ);
}

static void
test_empty_blob_is_empty_layer (void **state)
{
  struct fixture *f = *state;
  cleanup_error struct error *err = NULL;
  struct storage_extract_result res;
  int fd = memfd_with ("", 0);

  assert_int_equal (storage_extract_layer (fd, f->dest_fd, NULL, &res, &err), 0);
  close (fd);
  assert_string_equal (res.diff_id, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert_int_equal (res.size, 0);
  assert_int_equal (count_entries (f->dest), 0);
}

static void
test_empty_tar_is_empty_layer (void **state)
{
  struct fixture *f = *state;
  struct storage_extract_result res;
  cleanup_error struct error *err = NULL;
  struct tw t;

  tw_open (&t);
  tw_close (&t);
  assert_int_equal (run (f, &t, GZIP, false, NULL, &res, &err), 0);
  assert_int_equal (res.size, t.tar.len);
  assert_int_equal (res.n_entries, 0);
  assert_int_equal (count_entries (f->dest), 0);
  buf_free (&t.tar);
}

/* --- corrupt archives ---------------------------------------------------- */

static void
test_truncated_gzip_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_error struct error *err = NULL;
  struct storage_extract_result res;
  char buf[65536];
  struct tw t;
  ssize_t n;
  int fd, cut;

  make_sample (&t);
  fd = blob_of (&t.tar, GZIP);
  n = read (fd, buf, sizeof buf);
  assert_true (n > 100);
  close (fd);
  cut = memfd_with (buf, (size_t) n / 2);
  assert_true (storage_extract_layer (cut, f->dest_fd, NULL, &res, &err) < 0);
  close (cut);
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_truncated_tar_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_error struct error *err = NULL;
  struct storage_extract_result res;
  struct tw t;
  int fd;

  make_sample (&t);
  /* Cut inside the data of "big". */
  fd = memfd_with (t.tar.data, 3000);
  assert_true (storage_extract_layer (fd, f->dest_fd, NULL, &res, &err) < 0);
  close (fd);
  buf_free (&t.tar);
}

static void
test_garbage_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_error struct error *err = NULL;
  struct storage_extract_result res;
  char junk[4096];
  int fd;

  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (char) (i * 7919 % 251 + 1);
  fd = memfd_with (junk, sizeof junk);
  assert_true (storage_extract_layer (fd, f->dest_fd, NULL, &res, &err) < 0);
  assert_non_null (err);
  close (fd);
  assert_int_equal (count_entries (f->dest), 0);
}

static void
test_bad_header_checksum_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_error struct error *err = NULL;
  struct storage_extract_result res;
  struct tw t;
  int fd;

  make_sample (&t);
  t.tar.data[100] ^= 0x55; /* mode field of the first header */
  fd = memfd_with (t.tar.data, t.tar.len);
  assert_true (storage_extract_layer (fd, f->dest_fd, NULL, &res, &err) < 0);
  close (fd);
  buf_free (&t.tar);
}

/* --- hostile names and links --------------------------------------------- */

static void
test_dotdot_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  tw_open (&t);
  tw_file (&t, "../evil", 0644, "x");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_non_null (strstr (msg, ".."));
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_inner_dotdot_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  tw_open (&t);
  tw_file (&t, "a/../../outside/evil", 0644, "x");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_write_through_symlink_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  tw_open (&t);
  tw_symlink (&t, "link", f->outside);
  tw_file (&t, "link/file", 0644, "escaped");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_non_null (strstr (msg, "symlinks are never followed"));
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_write_through_relative_symlink_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  tw_open (&t);
  tw_dir (&t, "a", 0755);
  tw_symlink (&t, "a/up", "../../");
  tw_file (&t, "a/up/outside/evil", 0644, "escaped");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_symlink_to_dir_inside_not_followed (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  /* Even a link that stays inside is not a path to write through. */
  tw_open (&t);
  tw_dir (&t, "usr/lib", 0755);
  tw_symlink (&t, "lib", "usr/lib");
  tw_file (&t, "lib/libc.so", 0644, "x");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_false (exists (f, "usr/lib/libc.so"));
  buf_free (&t.tar);
}

static void
test_hardlink_dotdot_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  tw_open (&t);
  tw_hardlink (&t, "passwd", "../../etc/passwd");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_non_null (strstr (msg, ".."));
  assert_false (exists (f, "passwd"));
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_hardlink_through_symlink_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *secret = xasprintf ("%s/secret", f->outside);
  cleanup_free char *msg = NULL;
  struct stat st;
  struct tw t;

  assert_int_equal (fs_write_atomic (secret, "s", 1, 0600, NULL), 0);
  tw_open (&t);
  tw_symlink (&t, "esc", f->outside);
  tw_hardlink (&t, "stolen", "esc/secret");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_false (exists (f, "stolen"));
  assert_int_equal (lstat (secret, &st), 0);
  assert_int_equal (st.st_nlink, 1);
  buf_free (&t.tar);
}

static void
test_hardlink_to_escaping_symlink_links_the_symlink (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *secret = xasprintf ("%s/secret", f->outside);
  struct stat st;
  struct tw t;

  assert_int_equal (fs_write_atomic (secret, "s", 1, 0600, NULL), 0);
  tw_open (&t);
  tw_symlink (&t, "esc", secret);
  tw_hardlink (&t, "again", "esc");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_true (S_ISLNK (lstat_ok (f, "again").st_mode));
  assert_int_equal (lstat (secret, &st), 0);
  assert_int_equal (st.st_nlink, 1);
  assert_int_equal (count_entries (f->outside), 1);
  buf_free (&t.tar);
}

static void
test_hardlink_missing_target_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  tw_open (&t);
  tw_hardlink (&t, "x", "not/there");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_false (exists (f, "x"));
  buf_free (&t.tar);
}

static void
test_hardlink_to_directory_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  tw_open (&t);
  tw_dir (&t, "d", 0755);
  tw_hardlink (&t, "x", "d");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  buf_free (&t.tar);
}

static void
test_huge_name_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  char name[5000];
  struct tw t;

  for (size_t i = 0; i < sizeof name - 1; i++)
    name[i] = i % 100 == 99 ? '/' : 'n';
  name[sizeof name - 1] = '\0';
  tw_open (&t);
  tw_file (&t, name, 0644, "x");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_non_null (strstr (msg, "too long"));
  assert_int_equal (count_entries (f->dest), 0);
  buf_free (&t.tar);
}

static void
test_long_component_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  char name[300];
  struct tw t;

  memset (name, 'c', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  tw_open (&t);
  tw_file (&t, name, 0644, "x");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_non_null (strstr (msg, "longer than"));
  buf_free (&t.tar);
}

/* The fallback resolver, as on kernels before 5.6. */
static void
test_no_openat2_tree_extracted (void **state)
{
  struct fixture *f = *state;
  struct tw t;

  setenv ("SKIFF_NO_OPENAT2", "1", 1);
  tw_open (&t);
  tw_file (&t, "a/b/one", 0644, "1");
  tw_file (&t, "c/two", 0644, "2");
  tw_file (&t, "a/b/three", 0644, "3");
  tw_hardlink (&t, "c/four", "a/b/one");
  tw_close (&t);
  extract_ok (f, &t, NULL);
  assert_true (exists (f, "a/b/three"));
  assert_int_equal (lstat_ok (f, "c/four").st_ino, lstat_ok (f, "a/b/one").st_ino);
  buf_free (&t.tar);
}

static void
test_no_openat2_write_through_symlink_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  setenv ("SKIFF_NO_OPENAT2", "1", 1);
  tw_open (&t);
  tw_dir (&t, "a", 0755);
  tw_symlink (&t, "a/link", f->outside);
  tw_file (&t, "a/link/file", 0644, "escaped");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_non_null (strstr (msg, "symlinks are never followed"));
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_no_openat2_hardlink_through_symlink_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *secret = xasprintf ("%s/secret", f->outside);
  cleanup_free char *msg = NULL;
  struct tw t;

  setenv ("SKIFF_NO_OPENAT2", "1", 1);
  assert_int_equal (fs_write_atomic (secret, "s", 1, 0600, NULL), 0);
  tw_open (&t);
  tw_symlink (&t, "esc", f->outside);
  tw_hardlink (&t, "stolen", "esc/secret");
  tw_close (&t);
  msg = extract_fails (f, &t, false);
  assert_false (exists (f, "stolen"));
  buf_free (&t.tar);
}

/* --- whiteouts ----------------------------------------------------------- */

static void
test_whiteout_becomes_device (void **state)
{
  struct fixture *f = *state;
  cleanup_error struct error *err = NULL;
  struct storage_extract_result res;
  struct stat st;
  struct tw t;
  int r;

  tw_open (&t);
  tw_dir (&t, "etc", 0755);
  tw_file (&t, "etc/.wh.motd", 0644, "");
  tw_close (&t);
  r = run (f, &t, PLAIN, false, NULL, &res, &err);
  if (r < 0)
    {
      /* Without root and outside a user namespace the kernel refuses even
       * the whiteout device; the message says what to do. */
      assert_int_equal (err->errnum, EPERM);
      assert_non_null (strstr (err->msg, "fuse-overlayfs"));
      printf ("  skipped: whiteout devices not allowed here\n");
      buf_free (&t.tar);
      return;
    }
  assert_int_equal (res.whiteouts, WHITEOUT_OVERLAY);
  st = lstat_ok (f, "etc/motd");
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (st.st_rdev, makedev (0, 0));
  assert_false (exists (f, "etc/.wh.motd"));
  buf_free (&t.tar);
}

static void
test_opaque_sets_xattr_and_keeps_layer_entries (void **state)
{
  struct fixture *f = *state;
  struct storage_extract_opts opts = { .opaque_xattr = "user.overlay.opaque" };
  cleanup_free char *v = NULL;
  struct tw t;

  if (!has_user_xattrs (f))
    return;
  tw_open (&t);
  tw_dir (&t, "d", 0755);
  tw_file (&t, "d/before", 0644, "b");
  tw_file (&t, "d/.wh..wh..opq", 0644, "");
  tw_file (&t, "d/after", 0644, "a");
  tw_close (&t);
  extract_ok (f, &t, &opts);
  v = xattr_of (f, "d", "user.overlay.opaque");
  assert_non_null (v);
  assert_string_equal (v, "y");
  assert_true (exists (f, "d/before"));
  assert_true (exists (f, "d/after"));
  assert_false (exists (f, "d/.wh..wh..opq"));
  buf_free (&t.tar);
}

static void
test_whiteout_aufs_keeps_files (void **state)
{
  struct fixture *f = *state;
  struct storage_extract_opts opts = { .whiteouts = WHITEOUT_AUFS };
  struct tw t;

  tw_open (&t);
  tw_file (&t, ".wh.gone", 0644, "");
  tw_file (&t, "d/.wh..wh..opq", 0644, "");
  tw_close (&t);
  extract_ok (f, &t, &opts);
  assert_true (S_ISREG (lstat_ok (f, ".wh.gone").st_mode));
  assert_true (S_ISREG (lstat_ok (f, "d/.wh..wh..opq").st_mode));
  assert_false (exists (f, "gone"));
  buf_free (&t.tar);
}

static void
test_forced_aufs_fallback (void **state)
{
  struct fixture *f = *state;
  struct storage_extract_opts opts = { .whiteouts = WHITEOUT_OVERLAY, .can_fallback_aufs = true };
  cleanup_error struct error *err = NULL;
  struct storage_extract_result res;
  struct tw t;

  setenv ("SKIFF_NO_OVERLAY_WHITEOUTS", "1", 1);
  tw_open (&t);
  tw_file (&t, ".wh.gone", 0644, "");
  tw_close (&t);
  assert_int_equal (run (f, &t, PLAIN, false, &opts, &res, &err), 0);
  assert_int_equal (res.whiteouts, WHITEOUT_AUFS);
  assert_true (S_ISREG (lstat_ok (f, ".wh.gone").st_mode));
  assert_int_equal (count_entries (f->dest), 1);
  buf_free (&t.tar);
}

static void
test_whiteout_of_dotdot_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *msg = NULL;
  struct tw t;

  assert_int_equal (mkdirat (f->dest_fd, "a", 0755), 0);
  tw_open (&t);
  tw_file (&t, "a/.wh...", 0644, "");
  tw_close (&t);
  msg = extract_fails (f, &t, true);
  assert_non_null (strstr (msg, "names no entry"));
  assert_true (exists (f, "a"));
  assert_contained (f);
  buf_free (&t.tar);
}

/* --- apply mode (vfs) ---------------------------------------------------- */

static void
put_lower (struct fixture *f, const char *rel)
{
  cleanup_free char *p = at (f, rel);
  cleanup_free char *dir = xstrdup (p);

  *strrchr (dir, '/') = '\0';
  assert_int_equal (fs_mkdir_p (dir, 0755, NULL), 0);
  assert_int_equal (fs_write_atomic (p, "lower", 5, 0644, NULL), 0);
}

static void
apply_ok (struct fixture *f, struct tw *t)
{
  cleanup_error struct error *err = NULL;

  if (run (f, t, GZIP, true, NULL, NULL, &err) < 0)
    fail_msg ("apply: %s", err->msg);
}

static void
test_apply_whiteout_removes_lower (void **state)
{
  struct fixture *f = *state;
  struct tw t;

  put_lower (f, "etc/motd");
  put_lower (f, "var/cache/x/y");
  put_lower (f, "etc/keep");
  tw_open (&t);
  tw_file (&t, "etc/.wh.motd", 0644, "");
  tw_file (&t, "var/.wh.cache", 0644, "");
  tw_file (&t, ".wh.missing", 0644, "");
  tw_close (&t);
  apply_ok (f, &t);
  assert_false (exists (f, "etc/motd"));
  assert_false (exists (f, "etc/.wh.motd"));
  assert_false (exists (f, "var/cache"));
  assert_true (exists (f, "etc/keep"));
  buf_free (&t.tar);
}

static void
test_apply_opaque_keeps_own_entries_in_any_order (void **state)
{
  struct fixture *f = *state;
  struct tw t;

  put_lower (f, "d/lower1");
  put_lower (f, "d/sub/lower2");
  put_lower (f, "other/kept");
  tw_open (&t);
  tw_dir (&t, "d", 0755);
  tw_file (&t, "d/before", 0644, "b");
  tw_file (&t, "d/.wh..wh..opq", 0644, "");
  tw_file (&t, "d/after", 0644, "a");
  tw_close (&t);
  apply_ok (f, &t);
  assert_true (exists (f, "d/before"));
  assert_true (exists (f, "d/after"));
  assert_false (exists (f, "d/lower1"));
  assert_false (exists (f, "d/sub"));
  assert_false (exists (f, "d/.wh..wh..opq"));
  assert_true (exists (f, "other/kept"));
  buf_free (&t.tar);
}

static void
test_apply_opaque_prunes_inside_kept_directories (void **state)
{
  struct fixture *f = *state;
  struct tw t;

  put_lower (f, "d/sub/lower");
  tw_open (&t);
  tw_file (&t, "d/sub/new", 0644, "n");
  tw_file (&t, "d/.wh..wh..opq", 0644, "");
  tw_close (&t);
  apply_ok (f, &t);
  assert_true (exists (f, "d/sub/new"));
  assert_false (exists (f, "d/sub/lower"));
  buf_free (&t.tar);
}

static void
test_apply_dir_over_lower_dir_keeps_contents (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *c = NULL;
  struct tw t;

  put_lower (f, "usr/bin/old");
  put_lower (f, "usr/bin/replaced");
  tw_open (&t);
  tw_dir (&t, "usr/bin", 0700);
  tw_file (&t, "usr/bin/replaced", 0755, "new");
  tw_close (&t);
  apply_ok (f, &t);
  assert_true (exists (f, "usr/bin/old"));
  c = content_of (f, "usr/bin/replaced");
  assert_string_equal (c, "new");
  assert_int_equal (lstat_ok (f, "usr/bin").st_mode & 07777, 0700);
  buf_free (&t.tar);
}

static void
test_apply_root_opaque (void **state)
{
  struct fixture *f = *state;
  struct tw t;

  put_lower (f, "old/file");
  tw_open (&t);
  tw_file (&t, ".wh..wh..opq", 0644, "");
  tw_file (&t, "new", 0644, "n");
  tw_close (&t);
  apply_ok (f, &t);
  assert_false (exists (f, "old"));
  assert_true (exists (f, "new"));
  assert_contained (f);
  buf_free (&t.tar);
}

static void
test_apply_whiteout_through_symlink_rejected (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *victim = xasprintf ("%s/victim", f->outside);
  cleanup_free char *link = at (f, "esc");
  cleanup_free char *msg = NULL;
  struct tw t;

  assert_int_equal (fs_write_atomic (victim, "v", 1, 0600, NULL), 0);
  assert_int_equal (symlink (f->outside, link), 0);
  tw_open (&t);
  tw_file (&t, "esc/.wh.victim", 0644, "");
  tw_close (&t);
  msg = extract_fails (f, &t, true);
  assert_true (fs_exists (victim));
  buf_free (&t.tar);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown (name, setup, teardown)
    T (test_regular_file_content_and_mode),
    T (test_file_mtime_set),
    T (test_setuid_and_sticky_bits_kept),
    T (test_readonly_dir_filled_then_mode_and_mtime_set),
    T (test_symlink_stored_not_followed),
    T (test_hardlink_shares_inode),
    T (test_fifo_created),
    T (test_device_node_skipped),
    T (test_missing_parents_created_0755),
    T (test_root_entry_sets_root_mode),
    T (test_root_replaced_by_file_rejected),
    T (test_absolute_name_stays_inside),
    T (test_non_ascii_name_bytes_kept),
    T (test_long_name_within_limits),
    T (test_sparse_trailing_size_kept),
    T (test_later_file_overwrites_earlier),
    T (test_file_replaces_symlink_not_its_target),
    T (test_dir_over_dir_keeps_contents),
    T (test_file_replaces_dir),
    T (test_dir_replaces_symlink),
    T (test_dir_removed_and_remade_is_written_again),
    T (test_hardlink_missing_file_rejected),
    T (test_owner_applied),
    T (test_owner_out_of_range_rejected),
    T (test_single_id_namespace_tolerates_chown),
    T (test_user_xattr_applied),
    T (test_overlay_xattrs_from_image_refused),
    T (test_oversized_xattr_rejected),
    T (test_diff_id_plain),
    T (test_diff_id_gzip),
    T (test_diff_id_zstd),
    T (test_diff_id_xz),
    T (test_empty_blob_is_empty_layer),
    T (test_empty_tar_is_empty_layer),
    T (test_truncated_gzip_rejected),
    T (test_truncated_tar_rejected),
    T (test_garbage_rejected),
    T (test_bad_header_checksum_rejected),
    T (test_dotdot_rejected),
    T (test_inner_dotdot_rejected),
    T (test_write_through_symlink_rejected),
    T (test_write_through_relative_symlink_rejected),
    T (test_symlink_to_dir_inside_not_followed),
    T (test_hardlink_dotdot_rejected),
    T (test_hardlink_through_symlink_rejected),
    T (test_hardlink_to_escaping_symlink_links_the_symlink),
    T (test_hardlink_missing_target_rejected),
    T (test_hardlink_to_directory_rejected),
    T (test_huge_name_rejected),
    T (test_long_component_rejected),
    T (test_no_openat2_tree_extracted),
    T (test_no_openat2_write_through_symlink_rejected),
    T (test_no_openat2_hardlink_through_symlink_rejected),
    T (test_whiteout_becomes_device),
    T (test_opaque_sets_xattr_and_keeps_layer_entries),
    T (test_whiteout_aufs_keeps_files),
    T (test_forced_aufs_fallback),
    T (test_whiteout_of_dotdot_rejected),
    T (test_apply_whiteout_removes_lower),
    T (test_apply_opaque_keeps_own_entries_in_any_order),
    T (test_apply_opaque_prunes_inside_kept_directories),
    T (test_apply_dir_over_lower_dir_keeps_contents),
    T (test_apply_root_opaque),
    T (test_apply_whiteout_through_symlink_rejected),
#undef T
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
