/* Unit tests for storage/rootfs*.c: the driver table, request checks,
 * option strings and links (pure), the overlay drivers' directories, and
 * the vfs copy with both whiteout forms.  Each test builds layers under a
 * fresh BASE directory.
 *
 * The mount tests run in a forked child that makes a user and mount
 * namespace of its own (as the runtime's child will be): 130 layers with
 * kernel overlay through fsconfig and through mount(2), fuse-overlayfs, and
 * vfs over whiteout devices.  Where the machine cannot (no user
 * namespaces, no overlay in them, no fuse-overlayfs or /dev/fuse) they are
 * skipped with the reason printed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "storage/storage.h"

#define SKIP 77
#define MANY_LAYERS 130
#define OLD_TIME 1500000000

struct fixture
{
  char *base;
  char *cdir; /* BASE/c, the container directory */
};

/* ---- helpers ------------------------------------------------------------ */

static char *
at (struct fixture *f, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static char *
at (struct fixture *f, const char *fmt, ...)
{
  cleanup_free char *rel = NULL;
  va_list ap;

  va_start (ap, fmt);
  rel = xvasprintf (fmt, ap);
  va_end (ap);
  return xasprintf ("%s/%s", f->base, rel);
}

static void
make_dirs (const char *path, mode_t mode)
{
  cleanup_error struct error *err = NULL;

  assert_int_equal (fs_mkdir_p (path, mode, &err), 0);
}

/* PATH with TEXT and MODE, and its missing parent directories (0755). */
static void
write_text (const char *path, const char *text, mode_t mode)
{
  cleanup_free char *parent = xstrndup (path, (size_t) (strrchr (path, '/') - path));
  int fd;

  make_dirs (parent, 0755);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
  assert_int_equal (fchmod (fd, mode), 0);
  close (fd);
}

static char *
read_text (const char *path)
{
  cleanup_error struct error *err = NULL;

  return fs_read_file (path, 0, NULL, &err);
}

static bool
exists (const char *path)
{
  struct stat st;

  return lstat (path, &st) == 0;
}

static int
setup (void **state)
{
  struct fixture *f = xmalloc0 (sizeof *f);
  const char *tmp = getenv ("TMPDIR");

  f->base = xasprintf ("%s/skiff-rootfs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null (mkdtemp (f->base));
  f->cdir = xasprintf ("%s/c", f->base);
  assert_int_equal (mkdir (f->cdir, 0700), 0);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  cleanup_error struct error *err = NULL;

  assert_int_equal (fs_remove_tree (f->base, &err), 0);
  free (f->base);
  free (f->cdir);
  free (f);
  return 0;
}

/* A request over BASE/<names...> (top first), in BASE/c. */
static struct storage_rootfs_req
make_req (struct fixture *f, char ***lowers, const char *const *names, size_t n)
{
  *lowers = xmalloc0 ((n + 1) * sizeof **lowers);
  for (size_t i = 0; i < n; i++)
    (*lowers)[i] = at (f, "%s", names[i]);
  return (struct storage_rootfs_req){ .lower_dirs = *lowers, .container_dir = f->cdir };
}

static void
vfs_prepare_ok (const struct storage_rootfs_req *req)
{
  cleanup_error struct error *err = NULL;
  int r = storage_rootfs_vfs_prepare (req, &err);

  if (r < 0)
    fail_msg ("vfs prepare: %s (%s)", err->msg, strerror (err->errnum));
}

static bool
has_user_xattrs (struct fixture *f)
{
  if (setxattr (f->base, "user.skiff-test", "1", 1, 0) == 0)
    {
      removexattr (f->base, "user.skiff-test");
      return true;
    }
  printf ("  skipped: no user xattrs in \"%s\": %s\n", f->base, strerror (errno));
  return false;
}

/* ---- the driver table and requests --------------------------------------- */

static void
test_driver_lookup (void **state)
{
  (void) state;
  assert_string_equal (storage_rootfs_driver_get ("overlay")->name, STORAGE_DRIVER_OVERLAY);
  assert_string_equal (storage_rootfs_driver_get ("fuse-overlayfs")->target_name, "merged");
  assert_string_equal (storage_rootfs_driver_get ("vfs")->target_name, "rootfs");
  assert_null (storage_rootfs_driver_get ("aufs"));
  assert_null (storage_rootfs_driver_get (""));
  assert_null (storage_rootfs_driver_get (NULL));
}

static void
test_target_path (void **state)
{
  cleanup_free char *t = storage_rootfs_target (storage_rootfs_driver_get ("vfs"), "/c/1");

  (void) state;
  assert_string_equal (t, "/c/1/rootfs");
}

static void
test_req_valid (void **state)
{
  cleanup_error struct error *err = NULL;
  char *lowers[] = { (char *) "/l/1", (char *) "/l/0", NULL };
  struct storage_rootfs_req req = { .lower_dirs = lowers, .container_dir = "/c" };
  struct storage_rootfs_req scratch = { .container_dir = "/c" };

  (void) state;
  assert_int_equal (storage_rootfs_check_req (&req, &err), 0);
  assert_int_equal (storage_rootfs_check_req (&scratch, &err), 0);
  assert_null (err);
}

static void
test_req_relative_container_dir_refused (void **state)
{
  cleanup_error struct error *err = NULL;
  struct storage_rootfs_req req = { .container_dir = "c" };

  (void) state;
  assert_true (storage_rootfs_check_req (&req, &err) < 0);
  assert_int_equal (err->errnum, EINVAL);
  assert_string_equal (err->msg, "container directory \"c\" is not an absolute path");
}

static void
test_req_missing_container_dir_refused (void **state)
{
  cleanup_error struct error *err = NULL;
  struct storage_rootfs_req req = { 0 };

  (void) state;
  assert_true (storage_rootfs_check_req (&req, &err) < 0);
  assert_int_equal (err->errnum, EINVAL);
}

static void
test_req_relative_lower_refused (void **state)
{
  cleanup_error struct error *err = NULL;
  char *lowers[] = { (char *) "/l/1", (char *) "", NULL };
  struct storage_rootfs_req req = { .lower_dirs = lowers, .container_dir = "/c" };

  (void) state;
  assert_true (storage_rootfs_check_req (&req, &err) < 0);
  assert_string_equal (err->msg, "layer directory \"\" is not an absolute path");
}

static void
test_req_empty_mount_program_refused (void **state)
{
  cleanup_error struct error *err = NULL;
  struct storage_rootfs_req req = { .container_dir = "/c", .mount_program = "" };

  (void) state;
  assert_true (storage_rootfs_check_req (&req, &err) < 0);
}

static void
test_mount_checks_request_first (void **state)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *target = NULL;
  struct storage_rootfs_req req = { .container_dir = "relative" };

  (void) state;
  assert_true (storage_rootfs_mount (storage_rootfs_driver_get ("vfs"), &req, &target, &err) < 0);
  assert_null (target);
  assert_false (exists ("relative"));
}

/* ---- option strings --------------------------------------------------------- */

static char *
options_ok (const struct storage_rootfs_req *req, enum storage_rootfs_opts_kind kind,
            size_t limit, bool *is_relative)
{
  cleanup_error struct error *err = NULL;
  char *o = storage_rootfs_options (req, kind, limit, is_relative, &err);

  if (o == NULL)
    fail_msg ("options: %s", err->msg);
  return o;
}

static void
test_options_overlay_absolute (void **state)
{
  char *lowers[] = { (char *) "/s/l/2/diff", (char *) "/s/l/1/diff", NULL };
  struct storage_rootfs_req req = { .lower_dirs = lowers, .container_dir = "/s/c/x" };
  bool is_relative = true;
  cleanup_free char *o = options_ok (&req, ROOTFS_OPTS_OVERLAY, 4096, &is_relative);

  (void) state;
  assert_false (is_relative);
  assert_string_equal (o, "lowerdir=/s/l/2/diff:/s/l/1/diff,upperdir=/s/c/x/upper,"
                          "workdir=/s/c/x/work");
}

static void
test_options_overlay_rootless_volatile (void **state)
{
  char *lowers[] = { (char *) "/l", NULL };
  struct storage_rootfs_req req = { .lower_dirs = lowers, .container_dir = "/c",
                                    .is_rootless = true, .is_volatile = true };
  bool is_relative;
  cleanup_free char *o = options_ok (&req, ROOTFS_OPTS_OVERLAY, 4096, &is_relative);

  (void) state;
  assert_string_equal (o, "lowerdir=/l,upperdir=/c/upper,workdir=/c/work,userxattr,volatile");
}

static void
test_options_fuse_volatile (void **state)
{
  char *lowers[] = { (char *) "/l", NULL };
  struct storage_rootfs_req req = { .lower_dirs = lowers, .container_dir = "/c",
                                    .is_rootless = true, .is_volatile = true };
  bool is_relative;
  cleanup_free char *o = options_ok (&req, ROOTFS_OPTS_FUSE, SIZE_MAX, &is_relative);

  (void) state;
  assert_string_equal (o, "lowerdir=/l,upperdir=/c/upper,workdir=/c/work,fsync=0");
}

static void
test_options_without_layers_use_empty_dir (void **state)
{
  struct storage_rootfs_req req = { .container_dir = "/c" };
  bool is_relative;
  cleanup_free char *o = options_ok (&req, ROOTFS_OPTS_OVERLAY, 4096, &is_relative);

  (void) state;
  assert_string_equal (o, "lowerdir=/c/empty,upperdir=/c/upper,workdir=/c/work");
}

static void
test_options_separator_in_path_goes_relative (void **state)
{
  char *lowers[] = { (char *) "/l/a:b", (char *) "/l/c", NULL };
  struct storage_rootfs_req req = { .lower_dirs = lowers, .container_dir = "/c" };
  bool is_relative = false;
  cleanup_free char *o = options_ok (&req, ROOTFS_OPTS_FUSE, SIZE_MAX, &is_relative);

  (void) state;
  assert_true (is_relative);
  assert_string_equal (o, "lowerdir=l/0:l/1,upperdir=upper,workdir=work");
}

static void
test_options_comma_in_container_dir_goes_relative (void **state)
{
  struct storage_rootfs_req req = { .container_dir = "/c,lowerdir=/etc" };
  bool is_relative = false;
  cleanup_free char *o = options_ok (&req, ROOTFS_OPTS_OVERLAY, 4096, &is_relative);

  (void) state;
  assert_true (is_relative);
  assert_string_equal (o, "lowerdir=empty,upperdir=upper,workdir=work");
}

static void
test_options_backslash_goes_relative (void **state)
{
  char *lowers[] = { (char *) "/l\\,x", NULL };
  struct storage_rootfs_req req = { .lower_dirs = lowers, .container_dir = "/c" };
  bool is_relative = false;
  cleanup_free char *o = options_ok (&req, ROOTFS_OPTS_OVERLAY, 4096, &is_relative);

  (void) state;
  assert_true (is_relative);
}

/* 130 store-like paths take ~15 KB absolute; the short form fits a page. */
static void
test_options_many_layers_fit_a_page (void **state)
{
  char *lowers[MANY_LAYERS + 1] = { NULL };
  struct storage_rootfs_req req = { .lower_dirs = lowers, .container_dir = "/home/u/c" };
  bool is_relative = false;
  cleanup_free char *o = NULL;

  (void) state;
  for (size_t i = 0; i < MANY_LAYERS; i++)
    lowers[i] = xasprintf ("/home/u/.local/share/skiff/layers/%064zu/diff", i);
  o = options_ok (&req, ROOTFS_OPTS_OVERLAY, 4096, &is_relative);
  assert_true (is_relative);
  assert_true (strlen (o) < 4096);
  assert_true (str_has_prefix (o, "lowerdir=l/0:l/1:l/2:"));
  assert_non_null (strstr (o, ":l/129,upperdir=upper,workdir=work"));
  for (size_t i = 0; i < MANY_LAYERS; i++)
    free (lowers[i]);
}

static void
test_options_too_many_layers_e2big (void **state)
{
  char *lowers[MANY_LAYERS + 1] = { NULL };
  struct storage_rootfs_req req = { .lower_dirs = lowers, .container_dir = "/c" };
  cleanup_error struct error *err = NULL;
  bool is_relative = false;

  (void) state;
  for (size_t i = 0; i < MANY_LAYERS; i++)
    lowers[i] = xasprintf ("/l/%zu", i);
  assert_null (storage_rootfs_options (&req, ROOTFS_OPTS_OVERLAY, 200, &is_relative, &err));
  assert_int_equal (err->errnum, E2BIG);
  for (size_t i = 0; i < MANY_LAYERS; i++)
    free (lowers[i]);
}

/* ---- links and the overlay directories -------------------------------------- */

static void
test_links_point_at_layers_and_replace_old_ones (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "top", "bottom" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 2);
  cleanup_error struct error *err = NULL;
  cleanup_free char *stale = at (f, "c/l/7");
  cleanup_free char *l0 = at (f, "c/l/0");
  cleanup_free char *l1 = at (f, "c/l/1");
  char target[PATH_MAX];
  ssize_t n;

  make_dirs (stale, 0700);
  assert_int_equal (storage_rootfs_make_links (&req, &err), 0);
  assert_false (exists (stale));
  n = readlink (l0, target, sizeof target - 1);
  assert_true (n > 0);
  target[n] = '\0';
  assert_string_equal (target, lowers[0]);
  n = readlink (l1, target, sizeof target - 1);
  assert_true (n > 0);
  target[n] = '\0';
  assert_string_equal (target, lowers[1]);
}

static void
test_overlay_prepare_makes_dirs_with_top_root_mode (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "top", "bottom" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 2);
  const struct storage_rootfs_driver *d = storage_rootfs_driver_get ("overlay");
  cleanup_error struct error *err = NULL;
  cleanup_free char *upper = at (f, "c/upper");
  cleanup_free char *work = at (f, "c/work");
  cleanup_free char *merged = at (f, "c/merged");
  cleanup_free char *empty = at (f, "c/empty");
  struct stat st;

  make_dirs (lowers[0], 0751);
  make_dirs (lowers[1], 0755);
  assert_int_equal (chmod (lowers[0], 0751), 0);
  assert_int_equal (d->prepare (&req, &err), 0);
  assert_int_equal (stat (upper, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0751);
  assert_true (exists (work) && exists (merged));
  assert_false (exists (empty));
}

static void
test_overlay_prepare_keeps_existing_upper (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "top" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 1);
  const struct storage_rootfs_driver *d = storage_rootfs_driver_get ("fuse-overlayfs");
  cleanup_error struct error *err = NULL;
  cleanup_free char *upper = at (f, "c/upper");
  cleanup_free char *kept = at (f, "c/upper/kept");
  struct stat st;

  make_dirs (lowers[0], 0755);
  assert_int_equal (d->prepare (&req, &err), 0);
  write_text (kept, "x", 0644);
  assert_int_equal (chmod (upper, 0700), 0);
  assert_int_equal (d->prepare (&req, &err), 0);
  assert_true (exists (kept));
  assert_int_equal (stat (upper, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0700);
}

static void
test_overlay_prepare_scratch_makes_empty_lower (void **state)
{
  struct fixture *f = *state;
  struct storage_rootfs_req req = { .container_dir = f->cdir };
  cleanup_error struct error *err = NULL;
  cleanup_free char *empty = at (f, "c/empty");

  assert_int_equal (storage_rootfs_driver_get ("overlay")->prepare (&req, &err), 0);
  assert_true (exists (empty));
}

static void
test_overlay_prepare_missing_container_dir_fails (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *missing = at (f, "nope");
  struct storage_rootfs_req req = { .container_dir = missing };
  cleanup_error struct error *err = NULL;

  assert_true (storage_rootfs_driver_get ("overlay")->prepare (&req, &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
}

/* ---- fuse-overlayfs failures ------------------------------------------------- */

static int
fuse_mount_with (struct fixture *f, const char *program, struct error **err)
{
  struct storage_rootfs_req req = { .container_dir = f->cdir, .mount_program = program };
  cleanup_free char *target = NULL;

  return storage_rootfs_mount (storage_rootfs_driver_get ("fuse-overlayfs"), &req, &target, err);
}

static void
test_fuse_missing_program_fails (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_true (fuse_mount_with (*state, "/nonexistent/fuse-overlayfs", &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, "/nonexistent/fuse-overlayfs"));
}

static void
test_fuse_program_failure_reported (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_true (fuse_mount_with (*state, "/bin/false", &err) < 0);
  assert_non_null (strstr (err->msg, "exited with status 1"));
}

static void
test_fuse_program_that_mounts_nothing_fails (void **state)
{
  cleanup_error struct error *err = NULL;

  assert_true (fuse_mount_with (*state, "/bin/true", &err) < 0);
  assert_non_null (strstr (err->msg, "exited 0 without mounting"));
}

/* ---- the vfs copy --------------------------------------------------------------- */

static void
test_vfs_merges_layers (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "up", "low" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 2);
  cleanup_free char *a1 = at (f, "low/a/one");
  cleanup_free char *a2 = at (f, "up/a/two");
  cleanup_free char *low_only = at (f, "low/b/three");
  cleanup_free char *over_low = at (f, "low/same");
  cleanup_free char *over_up = at (f, "up/same");
  cleanup_free char *r1 = at (f, "c/rootfs/a/one");
  cleanup_free char *r2 = at (f, "c/rootfs/a/two");
  cleanup_free char *r3 = at (f, "c/rootfs/b/three");
  cleanup_free char *rsame = at (f, "c/rootfs/same");
  cleanup_free char *partial = at (f, "c/rootfs.partial");
  cleanup_free char *t1 = NULL, *t2 = NULL, *t3 = NULL, *tsame = NULL;

  make_dirs (lowers[0], 0755);
  make_dirs (lowers[1], 0755);
  write_text (a1, "1", 0644);
  write_text (a2, "2", 0600);
  write_text (low_only, "3", 0644);
  write_text (over_low, "old", 0644);
  write_text (over_up, "new", 0644);
  vfs_prepare_ok (&req);
  t1 = read_text (r1);
  t2 = read_text (r2);
  t3 = read_text (r3);
  tsame = read_text (rsame);
  assert_string_equal (t1, "1");
  assert_string_equal (t2, "2");
  assert_string_equal (t3, "3");
  assert_string_equal (tsame, "new");
  assert_false (exists (partial));
}

static void
test_vfs_keeps_modes_and_times (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "l" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 1);
  cleanup_free char *dir = at (f, "l/d");
  cleanup_free char *file = at (f, "l/d/x");
  cleanup_free char *rdir = at (f, "c/rootfs/d");
  cleanup_free char *rfile = at (f, "c/rootfs/d/x");
  struct timespec old[2] = { { OLD_TIME, 0 }, { OLD_TIME, 500 } };
  struct stat st;

  make_dirs (dir, 0755);
  write_text (file, "x", 0640);
  assert_int_equal (utimensat (AT_FDCWD, file, old, 0), 0);
  assert_int_equal (chmod (dir, 0555), 0);
  assert_int_equal (utimensat (AT_FDCWD, dir, old, 0), 0);
  vfs_prepare_ok (&req);
  assert_int_equal (stat (rfile, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0640);
  assert_int_equal (st.st_mtim.tv_sec, OLD_TIME);
  assert_int_equal (st.st_mtim.tv_nsec, 500);
  assert_int_equal (stat (rdir, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0555);
  assert_int_equal (st.st_mtim.tv_sec, OLD_TIME);
  assert_int_equal (chmod (dir, 0755), 0);
  assert_int_equal (chmod (rdir, 0755), 0);
}

/* A read-only directory of a lower layer still takes an upper layer's
 * entries, and ends with the upper layer's mode. */
static void
test_vfs_fills_read_only_lower_dir (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "up", "low" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 2);
  cleanup_free char *low_dir = at (f, "low/ro");
  cleanup_free char *up_file = at (f, "up/ro/new");
  cleanup_free char *rdir = at (f, "c/rootfs/ro");
  cleanup_free char *rfile = at (f, "c/rootfs/ro/new");
  struct stat st;

  make_dirs (low_dir, 0755);
  write_text (up_file, "n", 0644);
  assert_int_equal (chmod (low_dir, 0555), 0);
  vfs_prepare_ok (&req);
  assert_true (exists (rfile));
  assert_int_equal (stat (rdir, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0755);
  assert_int_equal (chmod (low_dir, 0755), 0);
}

static void
test_vfs_aufs_whiteout_removes_lower (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "up", "low" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 2);
  cleanup_free char *gone = at (f, "low/d/gone");
  cleanup_free char *gone_dir = at (f, "low/gdir/sub");
  cleanup_free char *keep = at (f, "low/d/keep");
  cleanup_free char *wh = at (f, "up/d/.wh.gone");
  cleanup_free char *wh_dir = at (f, "up/.wh.gdir");
  cleanup_free char *rgone = at (f, "c/rootfs/d/gone");
  cleanup_free char *rkeep = at (f, "c/rootfs/d/keep");
  cleanup_free char *rwh = at (f, "c/rootfs/d/.wh.gone");
  cleanup_free char *rgdir = at (f, "c/rootfs/gdir");
  cleanup_free char *rwh_dir = at (f, "c/rootfs/.wh.gdir");

  make_dirs (gone_dir, 0755);
  write_text (gone, "g", 0644);
  write_text (keep, "k", 0644);
  write_text (wh, "", 0644);
  write_text (wh_dir, "", 0644);
  vfs_prepare_ok (&req);
  assert_false (exists (rgone));
  assert_true (exists (rkeep));
  assert_false (exists (rwh));
  assert_false (exists (rgdir));
  assert_false (exists (rwh_dir));
}

/* The OCI spec: a whiteout hides only lower layers' entries, so an entry
 * of the same name in the same layer stays. */
static void
test_vfs_whiteout_spares_same_layer_entry (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "up", "low" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 2);
  cleanup_free char *low = at (f, "low/x");
  cleanup_free char *wh = at (f, "up/.wh.x");
  cleanup_free char *up = at (f, "up/x");
  cleanup_free char *rx = at (f, "c/rootfs/x");
  cleanup_free char *text = NULL;

  make_dirs (lowers[0], 0755);
  make_dirs (lowers[1], 0755);
  write_text (low, "low", 0644);
  write_text (up, "up", 0644);
  write_text (wh, "", 0644);
  vfs_prepare_ok (&req);
  text = read_text (rx);
  assert_string_equal (text, "up");
}

static void
test_vfs_aufs_opaque_hides_lower_keeps_own (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "up", "low" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 2);
  cleanup_free char *old = at (f, "low/o/old");
  cleanup_free char *old_sub = at (f, "low/o/sub/deep");
  cleanup_free char *opq = at (f, "up/o/.wh..wh..opq");
  cleanup_free char *mine = at (f, "up/o/mine");
  cleanup_free char *plnk = at (f, "up/.wh..wh.plnk");
  cleanup_free char *rold = at (f, "c/rootfs/o/old");
  cleanup_free char *rsub = at (f, "c/rootfs/o/sub");
  cleanup_free char *rmine = at (f, "c/rootfs/o/mine");
  cleanup_free char *ropq = at (f, "c/rootfs/o/.wh..wh..opq");
  cleanup_free char *rplnk = at (f, "c/rootfs/.wh..wh.plnk");

  make_dirs (old_sub, 0755);
  make_dirs (plnk, 0755);
  write_text (old, "o", 0644);
  write_text (opq, "", 0644);
  write_text (mine, "m", 0644);
  vfs_prepare_ok (&req);
  assert_false (exists (rold));
  assert_false (exists (rsub));
  assert_true (exists (rmine));
  assert_false (exists (ropq));
  assert_false (exists (rplnk));
}

static void
test_vfs_opaque_xattr_hides_lower (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "up", "low" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 2);
  cleanup_free char *old = at (f, "low/o/old");
  cleanup_free char *up_dir = at (f, "up/o");
  cleanup_free char *mine = at (f, "up/o/mine");
  cleanup_free char *rold = at (f, "c/rootfs/o/old");
  cleanup_free char *rmine = at (f, "c/rootfs/o/mine");
  cleanup_free char *rdir = at (f, "c/rootfs/o");
  char v[8];

  if (!has_user_xattrs (f))
    return;
  req.is_rootless = true;
  write_text (old, "o", 0644);
  make_dirs (up_dir, 0755);
  write_text (mine, "m", 0644);
  assert_int_equal (setxattr (up_dir, "user.overlay.opaque", "y", 1, 0), 0);
  vfs_prepare_ok (&req);
  assert_false (exists (rold));
  assert_true (exists (rmine));
  assert_true (lgetxattr (rdir, "user.overlay.opaque", v, sizeof v) < 0);
}

/* Root-mode layers mark opaque directories with the trusted name; a
 * user.overlay.* xattr there means nothing and must not hide anything. */
static void
test_vfs_opaque_xattr_name_follows_mode (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "up", "low" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 2);
  cleanup_free char *old = at (f, "low/o/old");
  cleanup_free char *up_dir = at (f, "up/o");
  cleanup_free char *rold = at (f, "c/rootfs/o/old");

  if (!has_user_xattrs (f))
    return;
  req.is_rootless = false;
  write_text (old, "o", 0644);
  make_dirs (up_dir, 0755);
  assert_int_equal (setxattr (up_dir, "user.overlay.opaque", "y", 1, 0), 0);
  vfs_prepare_ok (&req);
  assert_true (exists (rold));
}

static void
test_vfs_copies_xattrs_but_not_overlay_ones (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "l" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 1);
  cleanup_free char *file = at (f, "l/f");
  cleanup_free char *rfile = at (f, "c/rootfs/f");
  char v[32];
  ssize_t n;

  if (!has_user_xattrs (f))
    return;
  make_dirs (lowers[0], 0755);
  write_text (file, "x", 0644);
  assert_int_equal (setxattr (file, "user.mime", "text/plain", 10, 0), 0);
  assert_int_equal (setxattr (file, "user.overlay.origin", "z", 1, 0), 0);
  assert_int_equal (setxattr (file, "user.fuseoverlayfs.x", "z", 1, 0), 0);
  vfs_prepare_ok (&req);
  n = getxattr (rfile, "user.mime", v, sizeof v);
  assert_int_equal (n, 10);
  assert_memory_equal (v, "text/plain", 10);
  assert_true (getxattr (rfile, "user.overlay.origin", v, sizeof v) < 0);
  assert_true (getxattr (rfile, "user.fuseoverlayfs.x", v, sizeof v) < 0);
}

static void
test_vfs_file_over_dir_and_dir_over_file (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "up", "low" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 2);
  cleanup_free char *low_dir = at (f, "low/p/inner");
  cleanup_free char *low_file = at (f, "low/q");
  cleanup_free char *up_file = at (f, "up/p");
  cleanup_free char *up_dir = at (f, "up/q/inside");
  cleanup_free char *rp = at (f, "c/rootfs/p");
  cleanup_free char *rq = at (f, "c/rootfs/q/inside");
  struct stat st;

  make_dirs (low_dir, 0755);
  write_text (low_file, "f", 0644);
  make_dirs (up_dir, 0755);
  write_text (up_file, "now a file", 0644);
  vfs_prepare_ok (&req);
  assert_int_equal (lstat (rp, &st), 0);
  assert_true (S_ISREG (st.st_mode));
  assert_int_equal (lstat (rq, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
}

static void
test_vfs_symlinks_copied_not_followed (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "up", "low" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 2);
  cleanup_free char *outside = at (f, "outside");
  cleanup_free char *low_link = at (f, "low/d");
  cleanup_free char *up_file = at (f, "up/d/planted");
  cleanup_free char *abs_link = at (f, "up/abs");
  cleanup_free char *planted = at (f, "outside/planted");
  cleanup_free char *rd = at (f, "c/rootfs/d");
  cleanup_free char *rabs = at (f, "c/rootfs/abs");
  char target[PATH_MAX];
  ssize_t n;
  struct stat st;

  /* The lower layer has a symlink d -> BASE/outside; the upper one a real
   * directory d.  The copy must replace the link, not write through it. */
  make_dirs (outside, 0755);
  make_dirs (lowers[1], 0755);
  assert_int_equal (symlink (outside, low_link), 0);
  write_text (up_file, "p", 0644);
  assert_int_equal (symlink ("/etc/passwd", abs_link), 0);
  vfs_prepare_ok (&req);
  assert_false (exists (planted));
  assert_int_equal (lstat (rd, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  n = readlink (rabs, target, sizeof target - 1);
  assert_true (n > 0);
  target[n] = '\0';
  assert_string_equal (target, "/etc/passwd");
}

static void
test_vfs_hardlinks_stay_linked (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "l" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 1);
  cleanup_free char *a = at (f, "l/a/file");
  cleanup_free char *b = at (f, "l/b/link");
  cleanup_free char *ra = at (f, "c/rootfs/a/file");
  cleanup_free char *rb = at (f, "c/rootfs/b/link");
  struct stat sa, sb;

  cleanup_free char *b_dir = at (f, "l/b");

  write_text (a, "shared", 0644);
  make_dirs (b_dir, 0755);
  assert_int_equal (link (a, b), 0);
  vfs_prepare_ok (&req);
  assert_int_equal (stat (ra, &sa), 0);
  assert_int_equal (stat (rb, &sb), 0);
  assert_int_equal (sa.st_ino, sb.st_ino);
  assert_int_equal (sa.st_nlink, 2);
}

static void
test_vfs_fifo_copied (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "l" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 1);
  cleanup_free char *fifo = at (f, "l/fifo");
  cleanup_free char *rfifo = at (f, "c/rootfs/fifo");
  struct stat st;

  make_dirs (lowers[0], 0755);
  assert_int_equal (mkfifo (fifo, 0620), 0);
  assert_int_equal (chmod (fifo, 0620), 0);
  vfs_prepare_ok (&req);
  assert_int_equal (lstat (rfifo, &st), 0);
  assert_true (S_ISFIFO (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0620);
}

static void
test_vfs_owners_and_setuid_kept (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "l" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 1);
  cleanup_free char *file = at (f, "l/suid");
  cleanup_free char *link_path = at (f, "l/lnk");
  cleanup_free char *rfile = at (f, "c/rootfs/suid");
  cleanup_free char *rlink = at (f, "c/rootfs/lnk");
  struct stat st;

  make_dirs (lowers[0], 0755);
  write_text (file, "x", 0755);
  if (chown (file, 1000, 1001) < 0)
    {
      printf ("  skipped (needs root with IDs 1000-1003 mapped): chown: %s\n", strerror (errno));
      return;
    }
  assert_int_equal (chmod (file, 04755), 0);
  assert_int_equal (symlink ("suid", link_path), 0);
  assert_int_equal (lchown (link_path, 1002, 1003), 0);
  vfs_prepare_ok (&req);
  assert_int_equal (stat (rfile, &st), 0);
  assert_int_equal (st.st_uid, 1000);
  assert_int_equal (st.st_gid, 1001);
  assert_int_equal (st.st_mode & 07777, 04755);
  assert_int_equal (lstat (rlink, &st), 0);
  assert_int_equal (st.st_uid, 1002);
  assert_int_equal (st.st_gid, 1003);
}

static void
test_vfs_reuses_existing_copy (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "l" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 1);
  cleanup_free char *file = at (f, "l/f");
  cleanup_free char *rfile = at (f, "c/rootfs/f");
  cleanup_free char *text = NULL;

  make_dirs (lowers[0], 0755);
  write_text (file, "image", 0644);
  vfs_prepare_ok (&req);
  write_text (rfile, "changed by the container", 0644);
  vfs_prepare_ok (&req);
  text = read_text (rfile);
  assert_string_equal (text, "changed by the container");
}

static void
test_vfs_replaces_crashed_partial_copy (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "l" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 1);
  cleanup_free char *junk = at (f, "c/rootfs.partial/junk/deeper");
  cleanup_free char *file = at (f, "l/f");
  cleanup_free char *rjunk = at (f, "c/rootfs/junk");
  cleanup_free char *rfile = at (f, "c/rootfs/f");

  make_dirs (junk, 0755);
  make_dirs (lowers[0], 0755);
  write_text (file, "x", 0644);
  vfs_prepare_ok (&req);
  assert_false (exists (rjunk));
  assert_true (exists (rfile));
}

static void
test_vfs_missing_layer_fails_without_rootfs (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "missing" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 1);
  cleanup_error struct error *err = NULL;
  cleanup_free char *rootfs = at (f, "c/rootfs");

  assert_true (storage_rootfs_vfs_prepare (&req, &err) < 0);
  assert_int_equal (err->errnum, ENOENT);
  assert_non_null (strstr (err->msg, "missing"));
  assert_false (exists (rootfs));
}

static void
test_vfs_empty_whiteout_name_rejected (void **state)
{
  struct fixture *f = *state;
  const char *names[] = { "l" };
  cleanup_strv char **lowers = NULL;
  struct storage_rootfs_req req = make_req (f, &lowers, names, 1);
  cleanup_error struct error *err = NULL;
  cleanup_free char *wh = at (f, "l/.wh.");

  make_dirs (lowers[0], 0755);
  write_text (wh, "", 0644);
  assert_true (storage_rootfs_vfs_prepare (&req, &err) < 0);
  assert_int_equal (err->errnum, EINVAL);
}

static void
test_vfs_scratch_image_is_empty_root (void **state)
{
  struct fixture *f = *state;
  struct storage_rootfs_req req = { .container_dir = f->cdir };
  cleanup_free char *rootfs = at (f, "c/rootfs");
  struct stat st;

  vfs_prepare_ok (&req);
  assert_int_equal (stat (rootfs, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0755);
}

/* ---- mounts, in a user and mount namespace of our own ------------------------ */

#define CHECK(cond)                                                                   \
  do                                                                                  \
    if (!(cond))                                                                      \
      {                                                                               \
        fprintf (stderr, "  child: check failed at line %d: %s\n", __LINE__, #cond); \
        return 1;                                                                     \
      }                                                                               \
  while (0)

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

/* Root of a new user namespace (our IDs mapped to 0) with a private mount
 * namespace, as the runtime's child is. */
static int
enter_namespaces (void)
{
  char map[64];
  uid_t uid = geteuid ();
  gid_t gid = getegid ();

  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
    return -1;
  if (write_proc ("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
    return -1;
  snprintf (map, sizeof map, "0 %u 1", (unsigned) uid);
  if (write_proc ("/proc/self/uid_map", map) < 0)
    return -1;
  snprintf (map, sizeof map, "0 %u 1", (unsigned) gid);
  if (write_proc ("/proc/self/gid_map", map) < 0)
    return -1;
  return mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

/* MANY_LAYERS layers with store-like long names under BASE/layers, so
 * that their absolute names overflow a page: layer i holds f<i>; the top
 * one whites out a/gone (a 0:0 device) and makes o/ opaque (the user
 * xattr), hiding o/old of the bottom layer. */
static int
make_stack (struct fixture *f, char **lowers)
{
  for (size_t i = 0; i < MANY_LAYERS; i++)
    {
      cleanup_free char *dir = at (f, "layers/%064zu/diff", MANY_LAYERS - 1 - i);
      cleanup_free char *file = xasprintf ("%s/f%zu", dir, MANY_LAYERS - 1 - i);
      int fd;

      make_dirs (dir, 0755);
      fd = open (file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      CHECK (fd >= 0);
      close (fd);
      lowers[i] = steal_ptr (&dir);
    }
  {
    cleanup_free char *bottom_a = xasprintf ("%s/a", lowers[MANY_LAYERS - 1]);
    cleanup_free char *bottom_o = xasprintf ("%s/o/old", lowers[MANY_LAYERS - 1]);
    cleanup_free char *keep = xasprintf ("%s/keep", bottom_a);
    cleanup_free char *gone = xasprintf ("%s/gone", bottom_a);
    cleanup_free char *top_a = xasprintf ("%s/a", lowers[0]);
    cleanup_free char *top_gone = xasprintf ("%s/a/gone", lowers[0]);
    cleanup_free char *top_o = xasprintf ("%s/o", lowers[0]);
    cleanup_free char *mine = xasprintf ("%s/o/mine", lowers[0]);

    make_dirs (bottom_a, 0755);
    make_dirs (bottom_o, 0755);
    make_dirs (top_a, 0755);
    make_dirs (top_o, 0755);
    write_text (keep, "k", 0644);
    write_text (gone, "g", 0644);
    write_text (mine, "m", 0644);
    CHECK (mknod (top_gone, S_IFCHR, makedev (0, 0)) == 0);
    CHECK (setxattr (top_o, "user.overlay.opaque", "y", 1, 0) == 0);
  }
  return 0;
}

static int
check_merged (const char *root, const char *upper)
{
  char path[PATH_MAX];

  for (size_t i = 0; i < MANY_LAYERS; i++)
    {
      snprintf (path, sizeof path, "%s/f%zu", root, i);
      CHECK (exists (path));
    }
  snprintf (path, sizeof path, "%s/a/keep", root);
  CHECK (exists (path));
  snprintf (path, sizeof path, "%s/a/gone", root);
  CHECK (!exists (path));
  snprintf (path, sizeof path, "%s/o/old", root);
  CHECK (!exists (path));
  snprintf (path, sizeof path, "%s/o/mine", root);
  CHECK (exists (path));
  snprintf (path, sizeof path, "%s/written", root);
  write_text (path, "w", 0644);
  if (upper != NULL)
    {
      snprintf (path, sizeof path, "%s/written", upper);
      CHECK (exists (path));
    }
  return 0;
}

static bool
is_mounted_with (const char *target, const char *option)
{
  cleanup_free char *info = read_text ("/proc/self/mountinfo");
  char *line = info ? strstr (info, target) : NULL;
  char *end = line ? strchrnul (line, '\n') : NULL;

  if (line == NULL)
    return false;
  *end = '\0';
  return option == NULL || strstr (line, option) != NULL;
}

struct mount_case
{
  const char *driver;
  bool is_volatile;
};

static int
mount_child (struct fixture *f, const struct mount_case *mc)
{
  const struct storage_rootfs_driver *d = storage_rootfs_driver_get (mc->driver);
  char *lowers[MANY_LAYERS + 1] = { NULL };
  struct storage_rootfs_req req = { .lower_dirs = lowers, .container_dir = f->cdir,
                                    .is_rootless = true, .is_volatile = mc->is_volatile };
  cleanup_error struct error *err = NULL;
  cleanup_free char *target = NULL;
  cleanup_free char *upper = at (f, "c/upper");
  bool is_overlay = strcmp (mc->driver, "overlay") == 0;

  if (make_stack (f, lowers) != 0)
    return 1;
  if (storage_rootfs_mount (d, &req, &target, &err) < 0)
    {
      cleanup_free char *text = err_text (err);
      bool is_missing = err->errnum == EPERM || err->errnum == ENODEV || err->errnum == ENOENT;

      printf ("  %s: %s mount failed: %s\n", is_missing ? "skipped" : "child", mc->driver, text);
      return is_missing ? SKIP : 1;
    }
  CHECK (is_mounted_with (target, mc->is_volatile && is_overlay ? "volatile" : NULL));
  if (check_merged (target, strcmp (mc->driver, "vfs") == 0 ? NULL : upper) != 0)
    return 1;
  CHECK (storage_rootfs_unmount (d, f->cdir, &err) == 0);
  CHECK (!is_mounted_with (target, NULL));
  /* Mounting again finds the container's own change. */
  free (steal_ptr (&target));
  if (storage_rootfs_mount (d, &req, &target, &err) < 0)
    {
      cleanup_free char *text = err_text (err);
      printf ("  child: %s mount again failed: %s\n", mc->driver, text);
      return 1;
    }
  {
    cleanup_free char *written = xasprintf ("%s/written", target);
    CHECK (exists (written));
  }
  CHECK (storage_rootfs_unmount (d, f->cdir, &err) == 0);
  for (size_t i = 0; i < MANY_LAYERS; i++)
    free (lowers[i]);
  return 0;
}

static int
unmount_child (struct fixture *f, const struct mount_case *mc)
{
  const struct storage_rootfs_driver *d = storage_rootfs_driver_get (mc->driver);
  cleanup_error struct error *err = NULL;
  cleanup_free char *target = storage_rootfs_target (d, f->cdir);

  make_dirs (target, 0755);
  CHECK (storage_rootfs_unmount (d, f->cdir, &err) == 0);
  return 0;
}

/* FN in a forked child that is root of its own user namespace. */
static void
run_child (struct fixture *f, int (*fn) (struct fixture *, const struct mount_case *),
           const char *driver, bool is_volatile)
{
  struct mount_case mc = { driver, is_volatile };
  pid_t pid;
  int status;

  fflush (NULL);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      int code = SKIP;

      if (enter_namespaces () < 0)
        printf ("  skipped: cannot make a user namespace here: %s\n", strerror (errno));
      else
        code = fn (f, &mc);
      fflush (NULL);
      _exit (code);
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  if (WEXITSTATUS (status) != SKIP)
    assert_int_equal (WEXITSTATUS (status), 0);
}

/* The layers and the container's files belong to the namespace's root;
 * remove them from inside one, as the runtime does. */
static void
remove_in_namespace (struct fixture *f)
{
  pid_t pid;
  int status;

  fflush (NULL);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      cleanup_error struct error *err = NULL;
      if (geteuid () != 0 && enter_namespaces () < 0)
        _exit (0);
      _exit (fs_remove_tree (f->cdir, &err) < 0 ? 1 : 0);
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

static void
test_unmount_of_unmounted_is_fine (void **state)
{
  run_child (*state, unmount_child, "overlay", false);
  run_child (*state, unmount_child, "fuse-overlayfs", false);
  run_child (*state, unmount_child, "vfs", false);
}

static void
test_mount_overlay_fsconfig (void **state)
{
  unsetenv ("SKIFF_OVERLAY_NO_FSCONFIG");
  run_child (*state, mount_child, "overlay", false);
  remove_in_namespace (*state);
}

static void
test_mount_overlay_legacy (void **state)
{
  setenv ("SKIFF_OVERLAY_NO_FSCONFIG", "1", 1);
  run_child (*state, mount_child, "overlay", false);
  unsetenv ("SKIFF_OVERLAY_NO_FSCONFIG");
  remove_in_namespace (*state);
}

static void
test_mount_overlay_volatile (void **state)
{
  run_child (*state, mount_child, "overlay", true);
  remove_in_namespace (*state);
}

static void
test_mount_overlay_legacy_volatile (void **state)
{
  setenv ("SKIFF_OVERLAY_NO_FSCONFIG", "1", 1);
  run_child (*state, mount_child, "overlay", true);
  unsetenv ("SKIFF_OVERLAY_NO_FSCONFIG");
  remove_in_namespace (*state);
}

static void
test_mount_fuse_overlayfs (void **state)
{
  cleanup_free char *prog = storage_fuse_overlayfs_path ();

  if (prog == NULL || !storage_fuse_usable ())
    {
      printf ("  skipped: fuse-overlayfs or /dev/fuse missing\n");
      return;
    }
  run_child (*state, mount_child, "fuse-overlayfs", true);
  remove_in_namespace (*state);
}

static void
test_mount_vfs_with_whiteout_devices (void **state)
{
  run_child (*state, mount_child, "vfs", false);
  remove_in_namespace (*state);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown (fn, setup, teardown)
    T (test_driver_lookup),
    T (test_target_path),
    T (test_req_valid),
    T (test_req_relative_container_dir_refused),
    T (test_req_missing_container_dir_refused),
    T (test_req_relative_lower_refused),
    T (test_req_empty_mount_program_refused),
    T (test_mount_checks_request_first),
    T (test_options_overlay_absolute),
    T (test_options_overlay_rootless_volatile),
    T (test_options_fuse_volatile),
    T (test_options_without_layers_use_empty_dir),
    T (test_options_separator_in_path_goes_relative),
    T (test_options_comma_in_container_dir_goes_relative),
    T (test_options_backslash_goes_relative),
    T (test_options_many_layers_fit_a_page),
    T (test_options_too_many_layers_e2big),
    T (test_links_point_at_layers_and_replace_old_ones),
    T (test_overlay_prepare_makes_dirs_with_top_root_mode),
    T (test_overlay_prepare_keeps_existing_upper),
    T (test_overlay_prepare_scratch_makes_empty_lower),
    T (test_overlay_prepare_missing_container_dir_fails),
    T (test_fuse_missing_program_fails),
    T (test_fuse_program_failure_reported),
    T (test_fuse_program_that_mounts_nothing_fails),
    T (test_vfs_merges_layers),
    T (test_vfs_keeps_modes_and_times),
    T (test_vfs_fills_read_only_lower_dir),
    T (test_vfs_aufs_whiteout_removes_lower),
    T (test_vfs_whiteout_spares_same_layer_entry),
    T (test_vfs_aufs_opaque_hides_lower_keeps_own),
    T (test_vfs_opaque_xattr_hides_lower),
    T (test_vfs_opaque_xattr_name_follows_mode),
    T (test_vfs_copies_xattrs_but_not_overlay_ones),
    T (test_vfs_file_over_dir_and_dir_over_file),
    T (test_vfs_symlinks_copied_not_followed),
    T (test_vfs_hardlinks_stay_linked),
    T (test_vfs_fifo_copied),
    T (test_vfs_owners_and_setuid_kept),
    T (test_vfs_reuses_existing_copy),
    T (test_vfs_replaces_crashed_partial_copy),
    T (test_vfs_missing_layer_fails_without_rootfs),
    T (test_vfs_empty_whiteout_name_rejected),
    T (test_vfs_scratch_image_is_empty_root),
    T (test_unmount_of_unmounted_is_fine),
    T (test_mount_overlay_fsconfig),
    T (test_mount_overlay_legacy),
    T (test_mount_overlay_volatile),
    T (test_mount_overlay_legacy_volatile),
    T (test_mount_fuse_overlayfs),
    T (test_mount_vfs_with_whiteout_devices),
#undef T
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
