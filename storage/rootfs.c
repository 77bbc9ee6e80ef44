/* Container root filesystems: the driver table, the calls the runtime
 * makes (mount, unmount), and what the two overlay drivers share: their
 * directories in the container directory, their option strings, and the
 * short links that keep those strings under a page.
 *
 * storage_rootfs_mount, in order:
 *
 *   1. storage_rootfs_check_req: the request names absolute directories.
 *   2. d->prepare: the driver's directories (prepare_overlay_dirs: upper/,
 *      work/, merged/, and empty/ for an image without layers; the vfs
 *      driver copies the layers into rootfs/).
 *   3. d->mount on d->target_name, which then is a mount point. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "storage/storage.h"

#define LINKS_DIR "l"
#define EMPTY_DIR "empty"

/* ---- the overlay drivers' directories ----------------------------------- */

/* upper/ is the root directory of the merged tree, so it takes the owner
 * and mode of the topmost layer's root, as the image has them. */
static int
copy_root_attrs (const char *top, int dirfd, const char *name, struct error **err)
{
  struct stat st;

  if (stat (top, &st) < 0)
    return err_make (err, errno, "stat layer \"%s\"", top);
  if (fchownat (dirfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0
      && errno != EINVAL)
    return err_make (err, errno, "chown \"%s\"", name);
  if (fchmodat (dirfd, name, st.st_mode & 07777, 0) < 0)
    return err_make (err, errno, "chmod \"%s\"", name);
  return 0;
}

/* mkdir NAME in DIRFD; 1 when made, 0 when it was there. */
static int
make_dir (int dirfd, const char *name, mode_t mode, struct error **err)
{
  if (mkdirat (dirfd, name, mode) == 0)
    return 1;
  if (errno == EEXIST)
    return 0;
  return err_make (err, errno, "create directory \"%s\"", name);
}

static bool
has_lowers (const struct storage_rootfs_req *req)
{
  return req->lower_dirs != NULL && req->lower_dirs[0] != NULL;
}

static int
prepare_overlay_dirs (const struct storage_rootfs_req *req, struct error **err)
{
  cleanup_close int dirfd = open (req->container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int made;

  if (dirfd < 0)
    return err_make (err, errno, "open container directory \"%s\"", req->container_dir);
  made = make_dir (dirfd, "upper", 0755, err);
  if (made < 0)
    return -1;
  if (made && has_lowers (req) && copy_root_attrs (req->lower_dirs[0], dirfd, "upper", err) < 0)
    return -1;
  if (make_dir (dirfd, "work", 0700, err) < 0 || make_dir (dirfd, "merged", 0755, err) < 0)
    return -1;
  if (!has_lowers (req) && make_dir (dirfd, EMPTY_DIR, 0755, err) < 0)
    return -1;
  return 0;
}

/* ---- detaching ------------------------------------------------------------ */

static int
detach (const char *target, struct error **err)
{
  if (umount2 (target, MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT)
    return 0;
  return err_make (err, errno, "unmount \"%s\"", target);
}

/* pivot_root needs a mount point; a bind of the copy onto itself is one. */
static int
bind_self (const struct storage_rootfs_req *req, const char *target, struct error **err)
{
  (void) req;
  if (mount (target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return err_make (err, errno, "bind mount \"%s\"", target);
  return 0;
}

/* ---- the table ------------------------------------------------------------ */

static const struct storage_rootfs_driver drivers[] = {
  { STORAGE_DRIVER_OVERLAY, "merged", prepare_overlay_dirs, storage_rootfs_overlay_mount,
    detach },
  { STORAGE_DRIVER_FUSE_OVERLAYFS, "merged", prepare_overlay_dirs, storage_rootfs_fuse_mount,
    storage_rootfs_fuse_unmount },
  { STORAGE_DRIVER_VFS, "rootfs", storage_rootfs_vfs_prepare, bind_self, detach },
};

const struct storage_rootfs_driver *
storage_rootfs_driver_get (const char *name)
{
  for (size_t i = 0; name != NULL && i < sizeof drivers / sizeof drivers[0]; i++)
    if (strcmp (drivers[i].name, name) == 0)
      return &drivers[i];
  return NULL;
}

int
storage_rootfs_check_req (const struct storage_rootfs_req *req, struct error **err)
{
  if (req->container_dir == NULL || req->container_dir[0] != '/')
    return err_make (err, EINVAL, "container directory \"%s\" is not an absolute path",
                     req->container_dir ? req->container_dir : "");
  for (size_t i = 0; req->lower_dirs != NULL && req->lower_dirs[i] != NULL; i++)
    if (req->lower_dirs[i][0] != '/')
      return err_make (err, EINVAL, "layer directory \"%s\" is not an absolute path",
                       req->lower_dirs[i]);
  if (req->mount_program != NULL && req->mount_program[0] == '\0')
    return err_make (err, EINVAL, "empty mount program name");
  return 0;
}

char *
storage_rootfs_target (const struct storage_rootfs_driver *d, const char *container_dir)
{
  return xasprintf ("%s/%s", container_dir, d->target_name);
}

int
storage_rootfs_mount (const struct storage_rootfs_driver *d,
                      const struct storage_rootfs_req *req, char **target_out,
                      struct error **err)
{
  cleanup_free char *target = NULL;

  if (storage_rootfs_check_req (req, err) < 0)
    return -1;
  if (d->prepare (req, err) < 0)
    return err_wrap (err, "%s: prepare \"%s\"", d->name, req->container_dir);
  target = storage_rootfs_target (d, req->container_dir);
  if (d->mount (req, target, err) < 0)
    return err_wrap (err, "%s", d->name);
  log_debug ("%s: root filesystem mounted on \"%s\"", d->name, target);
  *target_out = steal_ptr (&target);
  return 0;
}

int
storage_rootfs_unmount (const struct storage_rootfs_driver *d, const char *container_dir,
                        struct error **err)
{
  cleanup_free char *target = storage_rootfs_target (d, container_dir);

  if (d->unmount (target, err) < 0)
    return err_wrap (err, "%s", d->name);
  return 0;
}

/* ---- option strings --------------------------------------------------------- */

/* A path both programs take as written: the kernel would read '\\' and ','
 * as escapes and separators, fuse-overlayfs splits lowerdir on ':' with no
 * escape at all. */
static bool
is_plain (const char *path)
{
  return strpbrk (path, ",:\\") == NULL;
}

static void
append_lowers (struct buf *b, const struct storage_rootfs_req *req, bool is_relative)
{
  buf_append_str (b, "lowerdir=");
  if (!has_lowers (req))
    {
      if (is_relative)
        buf_append_str (b, EMPTY_DIR);
      else
        buf_printf (b, "%s/" EMPTY_DIR, req->container_dir);
      return;
    }
  for (size_t i = 0; req->lower_dirs[i] != NULL; i++)
    {
      if (i > 0)
        buf_append_str (b, ":");
      if (is_relative)
        buf_printf (b, LINKS_DIR "/%zu", i);
      else
        buf_append_str (b, req->lower_dirs[i]);
    }
}

static char *
build_options (const struct storage_rootfs_req *req, enum storage_rootfs_opts_kind kind,
               bool is_relative)
{
  struct buf b = BUF_INIT;

  append_lowers (&b, req, is_relative);
  if (is_relative)
    buf_append_str (&b, ",upperdir=upper,workdir=work");
  else
    buf_printf (&b, ",upperdir=%s/upper,workdir=%s/work", req->container_dir,
                req->container_dir);
  if (kind == ROOTFS_OPTS_OVERLAY && req->is_rootless)
    buf_append_str (&b, ",userxattr");
  if (kind == ROOTFS_OPTS_OVERLAY && req->is_volatile)
    buf_append_str (&b, ",volatile");
  if (kind == ROOTFS_OPTS_FUSE && req->is_volatile)
    buf_append_str (&b, ",fsync=0");
  return buf_steal (&b);
}

static bool
are_paths_plain (const struct storage_rootfs_req *req)
{
  if (!is_plain (req->container_dir))
    return false;
  for (size_t i = 0; req->lower_dirs != NULL && req->lower_dirs[i] != NULL; i++)
    if (!is_plain (req->lower_dirs[i]))
      return false;
  return true;
}

char *
storage_rootfs_options (const struct storage_rootfs_req *req,
                        enum storage_rootfs_opts_kind kind, size_t limit, bool *is_relative,
                        struct error **err)
{
  cleanup_free char *opts = NULL;

  if (are_paths_plain (req))
    {
      opts = build_options (req, kind, false);
      if (strlen (opts) < limit)
        {
          *is_relative = false;
          return steal_ptr (&opts);
        }
      free (steal_ptr (&opts));
    }
  opts = build_options (req, kind, true);
  if (strlen (opts) >= limit)
    return err_make (err, E2BIG, "mount options for %zu layers need %zu bytes, more than %zu",
                     req->lower_dirs ? strv_len (req->lower_dirs) : 0, strlen (opts), limit),
           NULL;
  *is_relative = true;
  return steal_ptr (&opts);
}

/* ---- short links ------------------------------------------------------------ */

static int
make_link (int dirfd, const char *target, size_t i, struct error **err)
{
  char name[32];

  snprintf (name, sizeof name, "%zu", i);
  if (symlinkat (target, dirfd, name) < 0)
    return err_make (err, errno, "link \"%s/%s\" to \"%s\"", LINKS_DIR, name, target);
  return 0;
}

int
storage_rootfs_make_links (const struct storage_rootfs_req *req, struct error **err)
{
  cleanup_close int cfd = open (req->container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int lfd = -1;

  if (cfd < 0)
    return err_make (err, errno, "open container directory \"%s\"", req->container_dir);
  if (fs_remove_tree_at (cfd, LINKS_DIR, err) < 0)
    return -1;
  if (mkdirat (cfd, LINKS_DIR, 0700) < 0)
    return err_make (err, errno, "create \"%s/" LINKS_DIR "\"", req->container_dir);
  lfd = openat (cfd, LINKS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (lfd < 0)
    return err_make (err, errno, "open \"%s/" LINKS_DIR "\"", req->container_dir);
  for (size_t i = 0; has_lowers (req) && req->lower_dirs[i] != NULL; i++)
    if (make_link (lfd, req->lower_dirs[i], i, err) < 0)
      return -1;
  return 0;
}

/* ---- working from the container directory ------------------------------------ */

int
storage_rootfs_in_dir (const char *dir, int (*fn) (void *arg, struct error **err), void *arg,
                       struct error **err)
{
  cleanup_close int saved = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int r;

  if (saved < 0)
    return err_make (err, errno, "open the working directory");
  if (chdir (dir) < 0)
    return err_make (err, errno, "enter \"%s\"", dir);
  r = fn (arg, err);
  if (fchdir (saved) < 0 && r == 0)
    return err_make (err, errno, "return to the working directory");
  return r;
}
