/* The kernel overlayfs driver: the image's layers as lower directories,
 * upper/ and work/ in the container directory, mounted on merged/.
 *
 * storage_rootfs_overlay_mount, in order:
 *
 *   1. check_depth: the kernel stacks at most OVL_MAX_STACK lower layers.
 *   2. clear_volatile_marker: a volatile mount leaves work/work/incompat/
 *      volatile behind, and the kernel refuses the next mount while it is
 *      there (Documentation/filesystems/overlayfs.rst, "Volatile mount").
 *   3. Pick the interface.  The new mount API takes one "lowerdir+" per
 *      layer (Linux 6.8+), so no option string limits the layer count;
 *      has_lowerdir_add() asks the kernel once per process, and
 *      SKIFF_OVERLAY_NO_FSCONFIG=1 forces the fallback, mount(2) with one
 *      option string, which the kernel cuts at a page.
 *   4. Name the directories: absolute paths, unless one would not fit the
 *      interface (fsconfig strings stop at 255 bytes, the mount(2) string
 *      at a page, and ',' ':' '\\' are syntax there); then names relative
 *      to the container directory, the lowers through the short links in
 *      l/, and the mount happens from inside that directory.
 *   5. mount_fsconfig or mount_legacy onto merged/.  With "volatile"
 *      refused (before Linux 5.10) the mount is made without it.
 *
 * The caller is root of the user namespace owning our mount namespace;
 * rootless, "userxattr" makes the kernel read user.overlay.* xattrs, which
 * an unprivileged user may set, instead of trusted.overlay.*. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "storage/storage.h"

/* fs/overlayfs/params.h */
#define OVL_MAX_STACK 500
/* fs/fsopen.c: fsconfig copies string values with strndup_user(_, 256). */
#define FSCONFIG_STRING_MAX 255

#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 0x00000001
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef FSCONFIG_SET_FLAG
#define FSCONFIG_SET_FLAG 0
#endif
#ifndef FSCONFIG_SET_STRING
#define FSCONFIG_SET_STRING 1
#endif
#ifndef FSCONFIG_CMD_CREATE
#define FSCONFIG_CMD_CREATE 6
#endif

/* ---- helpers --------------------------------------------------------------- */

static size_t
count_lowers (const struct storage_rootfs_req *req)
{
  return req->lower_dirs != NULL ? strv_len (req->lower_dirs) : 0;
}

static int
check_depth (const struct storage_rootfs_req *req, struct error **err)
{
  size_t n = count_lowers (req);

  if (n > OVL_MAX_STACK)
    return err_make (err, E2BIG, "%zu layers: kernel overlay stacks at most %d; use "
                     "--storage-driver fuse-overlayfs or vfs", n, OVL_MAX_STACK);
  return 0;
}

/* The marker only says the previous mount skipped syncs; a volatile
 * container promises nothing about its writes after a crash anyway. */
static int
clear_volatile_marker (const struct storage_rootfs_req *req, struct error **err)
{
  cleanup_free char *marker = xasprintf ("%s/work/work/incompat/volatile", req->container_dir);

  return fs_remove_tree (marker, err);
}

/* ---- the new mount API --------------------------------------------------- */

#ifdef SYS_fsopen

static int
sys_fsopen (const char *fsname, unsigned int flags)
{
  return (int) syscall (SYS_fsopen, fsname, flags);
}

static int
sys_fsconfig (int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
  return (int) syscall (SYS_fsconfig, fd, cmd, key, value, aux);
}

static int
sys_fsmount (int fd, unsigned int flags, unsigned int attr_flags)
{
  return (int) syscall (SYS_fsmount, fd, flags, attr_flags);
}

static int
sys_move_mount (int from_dirfd, const char *from, int to_dirfd, const char *to,
                unsigned int flags)
{
  return (int) syscall (SYS_move_mount, from_dirfd, from, to_dirfd, to, flags);
}

/* Whether fsconfig takes "lowerdir+": tried on a throwaway context with
 * "/", a directory every process can name.  -1 until asked. */
static int lowerdir_add_state = -1;

static bool
probe_lowerdir_add (void)
{
  cleanup_close int fd = sys_fsopen ("overlay", FSOPEN_CLOEXEC);

  if (fd < 0)
    {
      log_debug ("overlay: fsopen: %s; using mount(2)", strerror (errno));
      return false;
    }
  if (sys_fsconfig (fd, FSCONFIG_SET_STRING, "lowerdir+", "/", 0) < 0)
    {
      log_debug ("overlay: fsconfig \"lowerdir+\": %s; using mount(2)", strerror (errno));
      return false;
    }
  return true;
}

static bool
has_lowerdir_add (void)
{
  const char *forced = getenv ("SKIFF_OVERLAY_NO_FSCONFIG");

  if (forced != NULL && strcmp (forced, "1") == 0)
    return false;
  if (lowerdir_add_state < 0)
    lowerdir_add_state = probe_lowerdir_add ();
  return lowerdir_add_state;
}

/* The kernel explains a refused parameter or mount in messages read from
 * the context ("e overlayfs: ..."); the last error line says most. */
static char *
context_message (int fd)
{
  char line[512], *last = NULL;
  ssize_t n;

  while ((n = read (fd, line, sizeof line - 1)) > 0)
    {
      line[n] = '\0';
      if (line[0] == 'e' && line[1] == ' ')
        {
          free (last);
          last = xstrdup (line + 2);
        }
    }
  return last;
}

/* The failed step WHAT (a key, with its VALUE when not NULL) and what the
 * kernel said about it. */
static int
context_error (int fd, const char *what, const char *value, struct error **err)
{
  int saved = errno;
  cleanup_free char *msg = context_message (fd);
  cleanup_free char *step = value ? xasprintf ("%s \"%s\"", what, value) : xstrdup (what);

  if (msg != NULL)
    return err_make (err, saved, "%s: %s", step, msg);
  return err_make (err, saved, "%s", step);
}

static int
set_string (int fd, const char *key, const char *value, struct error **err)
{
  if (sys_fsconfig (fd, FSCONFIG_SET_STRING, key, value, 0) < 0)
    return context_error (fd, key, value, err);
  return 0;
}

/* The directory names for fsconfig: each a separate string, so only the
 * length limit and the escapes the kernel still reads in upperdir and
 * workdir matter. */
struct names
{
  char **lowers;
  char *upper;
  char *work;
  bool is_relative;
};

static void
free_names (struct names *n)
{
  strv_free (n->lowers);
  free (n->upper);
  free (n->work);
}

static bool
fits_fsconfig (const char *path)
{
  return strlen (path) <= FSCONFIG_STRING_MAX && strpbrk (path, ",:\\") == NULL;
}

static bool
are_fsconfig_names_fit (const struct storage_rootfs_req *req)
{
  cleanup_free char *work = xasprintf ("%s/work", req->container_dir);

  if (!fits_fsconfig (work))
    return false;
  for (size_t i = 0; req->lower_dirs != NULL && req->lower_dirs[i] != NULL; i++)
    if (!fits_fsconfig (req->lower_dirs[i]))
      return false;
  return true;
}

static void
make_names (const struct storage_rootfs_req *req, struct names *n)
{
  size_t count = count_lowers (req);

  n->is_relative = !are_fsconfig_names_fit (req);
  n->lowers = xcalloc (count + 2, sizeof *n->lowers);
  for (size_t i = 0; i < count; i++)
    n->lowers[i] = n->is_relative ? xasprintf ("l/%zu", i) : xstrdup (req->lower_dirs[i]);
  if (count == 0)
    n->lowers[0] = n->is_relative ? xstrdup ("empty")
                                  : xasprintf ("%s/empty", req->container_dir);
  n->upper = n->is_relative ? xstrdup ("upper") : xasprintf ("%s/upper", req->container_dir);
  n->work = n->is_relative ? xstrdup ("work") : xasprintf ("%s/work", req->container_dir);
}

static int
configure (int fd, const struct storage_rootfs_req *req, const struct names *n,
           struct error **err)
{
  if (set_string (fd, "source", "overlay", err) < 0)
    return -1;
  for (size_t i = 0; n->lowers[i] != NULL; i++)
    if (set_string (fd, "lowerdir+", n->lowers[i], err) < 0)
      return -1;
  if (set_string (fd, "upperdir", n->upper, err) < 0 || set_string (fd, "workdir", n->work, err) < 0)
    return -1;
  if (req->is_rootless && sys_fsconfig (fd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
    return context_error (fd, "userxattr", NULL, err);
  if (req->is_volatile && sys_fsconfig (fd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
    {
      int saved = errno;
      cleanup_free char *msg = context_message (fd);
      log_debug ("overlay: option \"volatile\" refused (%s); mounting without it",
                 msg ? msg : strerror (saved));
    }
  return 0;
}

struct fsconfig_job
{
  const struct storage_rootfs_req *req;
  const struct names *names;
  const char *target;
};

static int
do_mount_fsconfig (void *arg, struct error **err)
{
  struct fsconfig_job *job = arg;
  cleanup_close int fd = sys_fsopen ("overlay", FSOPEN_CLOEXEC);
  cleanup_close int mfd = -1;

  if (fd < 0)
    return err_make (err, errno, "fsopen overlay");
  if (configure (fd, job->req, job->names, err) < 0)
    return -1;
  if (sys_fsconfig (fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return context_error (fd, "create the overlay", NULL, err);
  mfd = sys_fsmount (fd, FSMOUNT_CLOEXEC, 0);
  if (mfd < 0)
    return context_error (fd, "fsmount the overlay", NULL, err);
  if (sys_move_mount (mfd, "", AT_FDCWD, job->target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return err_make (err, errno, "move the overlay mount to \"%s\"", job->target);
  return 0;
}

static int
mount_fsconfig (const struct storage_rootfs_req *req, const char *target, struct error **err)
{
  struct names n = { 0 };
  struct fsconfig_job job = { req, &n, target };
  int r;

  make_names (req, &n);
  log_debug ("overlay: mounting %zu layers with fsconfig%s", count_lowers (req),
             n.is_relative ? " from the container directory" : "");
  if (!n.is_relative)
    r = do_mount_fsconfig (&job, err);
  else if (storage_rootfs_make_links (req, err) < 0)
    r = -1;
  else
    r = storage_rootfs_in_dir (req->container_dir, do_mount_fsconfig, &job, err);
  free_names (&n);
  return r;
}

#else /* !SYS_fsopen */

static bool
has_lowerdir_add (void)
{
  return false;
}

static int
mount_fsconfig (const struct storage_rootfs_req *req, const char *target, struct error **err)
{
  (void) req;
  (void) target;
  return err_make (err, ENOSYS, "fsopen is not known to this build");
}

#endif

/* ---- mount(2) with one option string -------------------------------------- */

struct legacy_job
{
  const char *target;
  const char *options;
};

static int
do_mount_legacy (void *arg, struct error **err)
{
  struct legacy_job *job = arg;

  if (mount ("overlay", job->target, "overlay", 0, job->options) < 0)
    return err_make (err, errno, "mount(2) with options \"%.200s%s\"", job->options,
                     strlen (job->options) > 200 ? "..." : "");
  return 0;
}

static int
mount_legacy_once (const struct storage_rootfs_req *req, const char *target, struct error **err)
{
  long page = sysconf (_SC_PAGESIZE);
  bool is_relative = false;
  cleanup_free char *opts = storage_rootfs_options (req, ROOTFS_OPTS_OVERLAY,
                                                    page > 0 ? (size_t) page : 4096,
                                                    &is_relative, err);
  struct legacy_job job = { target, opts };

  if (opts == NULL)
    return -1;
  log_debug ("overlay: mounting %zu layers with mount(2), %zu bytes of options%s",
             count_lowers (req), strlen (opts), is_relative ? " from the container directory" : "");
  if (!is_relative)
    return do_mount_legacy (&job, err);
  if (storage_rootfs_make_links (req, err) < 0)
    return -1;
  return storage_rootfs_in_dir (req->container_dir, do_mount_legacy, &job, err);
}

static int
mount_legacy (const struct storage_rootfs_req *req, const char *target, struct error **err)
{
  struct storage_rootfs_req plain = *req;
  int r = mount_legacy_once (req, target, err);

  if (r == 0 || !req->is_volatile || r != -EINVAL)
    return r;
  log_debug ("overlay: mount with \"volatile\" refused; mounting without it");
  err_release (err);
  plain.is_volatile = false;
  return mount_legacy_once (&plain, target, err);
}

/* ---- the driver ------------------------------------------------------------ */

int
storage_rootfs_overlay_mount (const struct storage_rootfs_req *req, const char *target,
                              struct error **err)
{
  int r;

  if (check_depth (req, err) < 0)
    return -1;
  if (req->is_volatile && clear_volatile_marker (req, err) < 0)
    return -1;
  r = has_lowerdir_add () ? mount_fsconfig (req, target, err) : mount_legacy (req, target, err);
  if (r < 0)
    return err_wrap (err, "mount \"%s\"", target);
  return 0;
}
