/* The fuse-overlayfs driver: the same directories as kernel overlay
 * (upper/, work/, merged/), mounted by the fuse-overlayfs program where
 * the kernel does not allow overlayfs in a user namespace.  It reads both
 * whiteout forms and both opaque xattrs itself.
 *
 * storage_rootfs_fuse_mount, in order:
 *
 *   1. find_program: the request's mount program, else fuse-overlayfs in
 *      PATH.
 *   2. The option string: it travels in argv, where one string may hold
 *      MAX_ARG_STRLEN bytes, so only paths with ',' ':' '\\' (which the
 *      program cannot escape) make it use the links in l/ and run from the
 *      container directory; the program resolves them before it detaches.
 *   3. run_program: "fuse-overlayfs -o OPTS TARGET".  It mounts, then
 *      daemonizes, and its first process exits 0 only once the mount is
 *      made (fuse-overlayfs main: fuse_session_mount before
 *      fuse_daemonize), so its exit status is the mount's: no polling.
 *      The daemon lives in our namespaces and exits when the mount goes.
 *   4. check_mounted: a FUSE file system is on the target now.
 *
 * Run as root of the user namespace, the program adds allow_other and
 * suid itself, so the container's other IDs can use the mount. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/spawn.h"
#include "storage/storage.h"

/* include/uapi/linux/binfmts.h: 32 pages; x86's 4 KiB pages give the
 * smallest value. */
#define ARG_STRING_MAX (32 * 4096)
/* include/uapi/linux/magic.h */
#define FUSE_SUPER_MAGIC 0x65735546

static char *
find_program (const struct storage_rootfs_req *req, struct error **err)
{
  char *path;

  if (req->mount_program != NULL)
    return xstrdup (req->mount_program);
  path = storage_fuse_overlayfs_path ();
  if (path == NULL)
    err_make (err, ENOENT, "fuse-overlayfs not found in PATH: install the Debian package "
              "fuse-overlayfs or use --storage-driver vfs");
  return path;
}

struct run_job
{
  char *argv[5];
};

/* Its output is captured, not inherited: our stdout may be the
 * container's already.  The daemon points its own at /dev/null, so the
 * pipes close when the first process exits. */
static int
run_program (void *arg, struct error **err)
{
  struct run_job *job = arg;
  cleanup_buf struct buf out = BUF_INIT;
  struct spawn_opts opts = { .out = &out };

  return spawn_check (job->argv, &opts, err);
}

static int
check_mounted (const char *program, const char *target, const char *container_dir,
               struct error **err)
{
  struct statfs fs;
  struct stat st, parent;

  if (statfs (target, &fs) < 0 || stat (target, &st) < 0 || stat (container_dir, &parent) < 0)
    return err_make (err, errno, "check the mount on \"%s\"", target);
  if (fs.f_type != FUSE_SUPER_MAGIC || st.st_dev == parent.st_dev)
    return err_make (err, 0, "\"%s\" exited 0 without mounting \"%s\"", program, target);
  return 0;
}

int
storage_rootfs_fuse_mount (const struct storage_rootfs_req *req, const char *target,
                           struct error **err)
{
  cleanup_free char *program = find_program (req, err);
  cleanup_free char *opts = NULL;
  bool is_relative = false;
  struct run_job job;
  int r;

  if (program == NULL)
    return -1;
  opts = storage_rootfs_options (req, ROOTFS_OPTS_FUSE, ARG_STRING_MAX, &is_relative, err);
  if (opts == NULL)
    return -1;
  job = (struct run_job){ { program, (char *) "-o", opts, (char *) target, NULL } };
  log_debug ("fuse-overlayfs: \"%s\" -o %zu bytes of options%s", program, strlen (opts),
             is_relative ? ", from the container directory" : "");
  if (!is_relative)
    r = run_program (&job, err);
  else if (storage_rootfs_make_links (req, err) < 0)
    return -1;
  else
    r = storage_rootfs_in_dir (req->container_dir, run_program, &job, err);
  if (r < 0)
    return err_wrap (err, "mount \"%s\"", target);
  return check_mounted (program, target, req->container_dir, err);
}

/* Inside the namespace that mounted it we may unmount it ourselves; from
 * anywhere else fusermount3 (setuid) does it for the user who mounted. */
int
storage_rootfs_fuse_unmount (const char *target, struct error **err)
{
  char *argv[] = { (char *) "fusermount3", (char *) "-u", (char *) "-z", (char *) target, NULL };

  if (umount2 (target, MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT)
    return 0;
  if (errno != EPERM)
    return err_make (err, errno, "unmount \"%s\"", target);
  return spawn_check (argv, NULL, err);
}
