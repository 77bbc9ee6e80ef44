/* Running a function with a container's root as "/".
 *
 * A running container (start_running):
 *   1. open_namespaces: /proc/PID/ns/user and /proc/PID/ns/mnt, both before
 *      any setns, and the PID checked against its start time afterwards so
 *      a reused PID is never entered.
 *   2. fork; the child joins the user namespace first (as the namespace's
 *      owner it gets every capability there), then the mount namespace,
 *      which puts its root and working directory at the container's root.
 *   3. CONTAINER_FS_ROOTFS: detach_root, a detached clone of the root mount
 *      alone (open_tree, Linux 5.2), chrooted into: nothing the runtime
 *      mounted on top shows.  Without open_tree (or with
 *      SKIFF_RUNTIME_FALLBACK=open_tree) the same view comes from a private
 *      copy of the mount namespace with a non-recursive bind of "/" on a
 *      scratch tmpfs over /proc.
 *   4. FN; its error goes back over a pipe.
 *
 * A stopped container (start_stopped), under the container's lock:
 *   1. userns_spawn: a child in the user namespace with its own mount
 *      namespace (as root: only the mount namespace).
 *   2. storage_rootfs_mount, chroot into it.
 *   3. FN, then back to the old root (the descriptor kept for it) and
 *      storage_rootfs_unmount: a fuse-overlayfs daemon would otherwise keep
 *      the namespace alive after the child. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container_fs.h"
#include "container_start.h"
#include "context.h"
#include "libutil/lazylib.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/spawn.h"
#include "runtime.h"
#include "userns.h"

/* include/uapi/linux/mount.h; glibc's <sys/mount.h> has them since 2.36. */
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif

/* What a child reports: the error of FN or of entering. */
struct report
{
  int ok;
  int code;
  int errnum;
  char msg[4000];
};

struct job
{
  container_fs_fn fn;
  void *arg;
  enum container_fs_view view;
  struct container_rootfs rootfs; /* stopped containers */
};

struct container_fs_proc
{
  struct job job;
  pid_t pid;                /* running: our child, -1 once reaped */
  int report_fd;            /* running: its report */
  struct userns_proc uproc; /* stopped: the child in the user namespace */
  bool is_stopped;
  int lock_fd;
};

static void
proc_free (struct container_fs_proc *p)
{
  if (p == NULL)
    return;
  if (p->pid > 0)
    spawn_kill_pidp (&p->pid);
  if (p->report_fd >= 0)
    close (p->report_fd);
  userns_proc_release (&p->uproc);
  container_rootfs_clear (&p->job.rootfs);
  if (p->lock_fd >= 0)
    close (p->lock_fd);
  free (p);
}

/* ---- running containers: the child ------------------------------------------ */

static int
enter_dir_root (int dirfd, const char *what, struct error **err)
{
  if (fchdir (dirfd) < 0 || chroot (".") < 0 || chdir ("/") < 0)
    return err_make (err, errno, "enter %s", what);
  return 0;
}

/* The fallback: a scratch tmpfs over /proc in a private copy of the mount
 * namespace carries a non-recursive bind of the root. */
static int
bind_root_privately (struct error **err)
{
  cleanup_close int dir = -1;

  if (unshare (CLONE_NEWNS) < 0)
    return err_make (err, errno, "unshare the container's mount namespace");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return err_make (err, errno, "make the mounts private");
  if (mount ("tmpfs", "/proc", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
    return err_make (err, errno, "mount a scratch tmpfs");
  if (mkdir ("/proc/root", 0700) < 0 || mount ("/", "/proc/root", NULL, MS_BIND, NULL) < 0)
    return err_make (err, errno, "bind the container's root file system");
  dir = open ("/proc/root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return err_make (err, errno, "open the container's root file system");
  return enter_dir_root (dir, "the container's root file system", err);
}

static int
detach_root (struct error **err)
{
  cleanup_close int tree = -1;

#ifdef SYS_open_tree
  if (!runtime_fallback_forced ("open_tree"))
    {
      tree = (int) syscall (SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
      if (tree < 0 && errno != ENOSYS)
        return err_make (err, errno, "clone the container's root mount");
    }
#endif
  if (tree < 0)
    return bind_root_privately (err);
  return enter_dir_root (tree, "the container's root file system", err);
}

static int
join (const int ns[2], enum container_fs_view view, struct error **err)
{
  if (ns[0] >= 0 && setns (ns[0], CLONE_NEWUSER) < 0)
    return err_make (err, errno, "join the container's user namespace");
  if (setns (ns[1], CLONE_NEWNS) < 0)
    return err_make (err, errno, "join the container's mount namespace");
  if (view == CONTAINER_FS_ROOTFS)
    return detach_root (err);
  return 0;
}

static void
send_report (int fd, int r, const struct error *e)
{
  struct report rep = { .ok = r >= 0 };

  if (e)
    {
      rep.code = e->code;
      rep.errnum = e->errnum;
      snprintf (rep.msg, sizeof rep.msg, "%s", e->msg);
    }
  if (write (fd, &rep, sizeof rep) != (ssize_t) sizeof rep)
    _exit (125);
}

static void __attribute__ ((noreturn))
running_child (struct job *j, const int ns[2], int report_fd)
{
  struct error *e = NULL;
  int r = join (ns, j->view, &e);

  close (ns[1]);
  if (ns[0] >= 0)
    close (ns[0]);
  if (r >= 0)
    r = j->fn (j->arg, &e);
  send_report (report_fd, r, e);
  fflush (NULL);
  _exit (r < 0 ? 1 : 0);
}

/* ---- running containers: the parent ---------------------------------------- */

static bool
is_same_ns (int fd, const char *ours)
{
  struct stat a, b;

  return fstat (fd, &a) == 0 && stat (ours, &b) == 0 && a.st_dev == b.st_dev
         && a.st_ino == b.st_ino;
}

static int
open_namespaces (struct container *c, int ns[2], struct error **err)
{
  cleanup_free char *user = xasprintf ("/proc/%d/ns/user", (int) c->state.pid);
  cleanup_free char *mnt = xasprintf ("/proc/%d/ns/mnt", (int) c->state.pid);

  ns[0] = open (user, O_RDONLY | O_CLOEXEC);
  ns[1] = open (mnt, O_RDONLY | O_CLOEXEC);
  if (ns[0] < 0 || ns[1] < 0
      || !container_pid_alive (c->state.pid, c->state.pid_start))
    return err_make (err, ESRCH, "container %.12s: its process %d is not running", c->id,
                     (int) c->state.pid);
  if (is_same_ns (ns[0], "/proc/self/ns/user"))
    close (steal_fd (&ns[0]));
  return 0;
}

static void
close_pair (int fds[2])
{
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0)
      close (steal_fd (&fds[i]));
}

static int
start_running (struct container_fs_proc *p, struct container *c, struct error **err)
{
  int ns[2] = { -1, -1 };
  int rp[2] = { -1, -1 };
  pid_t pid;

  if (open_namespaces (c, ns, err) < 0)
    {
      close_pair (ns);
      return -1;
    }
  if (pipe2 (rp, O_CLOEXEC) < 0)
    {
      close_pair (ns);
      return err_make (err, errno, "pipe");
    }
  fflush (NULL);
  pid = fork ();
  if (pid == 0)
    {
      close (rp[0]);
      running_child (&p->job, ns, rp[1]);
    }
  close_pair (ns);
  close (rp[1]);
  if (pid < 0)
    {
      close (rp[0]);
      return err_make (err, errno, "fork");
    }
  p->pid = pid;
  p->report_fd = rp[0];
  return 0;
}

static int
wait_running (struct container_fs_proc *p, struct error **err)
{
  struct report rep = { 0 };
  int status = 0;
  ssize_t n;

  do
    n = read (p->report_fd, &rep, sizeof rep);
  while (n < 0 && errno == EINTR);
  while (waitpid (p->pid, &status, 0) < 0 && errno == EINTR)
    ;
  p->pid = -1;
  if (n != (ssize_t) sizeof rep)
    {
      cleanup_free char *how = spawn_status_text (status);
      return err_make (err, 0, "the process working in the container %s", how);
    }
  if (!rep.ok)
    return err_make_code (err, rep.code, rep.errnum, "%s", rep.msg);
  return 0;
}

/* ---- stopped containers ---------------------------------------------------- */

static void
unmount_rootfs (struct job *j, int host_root)
{
  struct error *e = NULL;

  if (fchdir (host_root) < 0 || chroot (".") < 0)
    {
      log_warn ("leave the container's root: %s", strerror (errno));
      return;
    }
  if (storage_rootfs_unmount (j->rootfs.driver, j->rootfs.req.container_dir, &e) < 0)
    {
      log_warn ("%s", e->msg);
      err_release (&e);
    }
}

/* Runs as root of the user namespace, in a mount namespace of its own. */
static int
stopped_child (void *arg, struct error **err)
{
  struct job *j = arg;
  cleanup_close int host_root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int root = -1;
  cleanup_free char *target = NULL;
  int r;

  if (host_root < 0)
    return err_make (err, errno, "open \"/\"");
  if (storage_rootfs_mount (j->rootfs.driver, &j->rootfs.req, &target, err) < 0)
    return -1;
  root = open (target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    r = err_make (err, errno, "open \"%s\"", target);
  else
    r = enter_dir_root (root, "the container's root file system", err);
  if (r >= 0)
    r = j->fn (j->arg, err);
  unmount_rootfs (j, host_root);
  return r < 0 ? -1 : 0;
}

static int
start_stopped (struct skiff_context *ctx, struct container_fs_proc *p, struct container *c,
               struct error **err)
{
  const struct userns_config *cfg = context_userns (ctx, err);

  if (cfg == NULL || container_rootfs_init (ctx, c, &p->job.rootfs, err) < 0)
    return -1;
  p->is_stopped = true;
  return userns_spawn (cfg, CLONE_NEWNS, stopped_child, &p->job, &p->uproc, err);
}

static int
wait_stopped (struct container_fs_proc *p, struct error **err)
{
  int status = 0;

  if (userns_proc_wait (&p->uproc, &status, err) < 0)
    return -1;
  if (userns_exit_code (status) != 0)
    return err_make (err, 0, "the process working in the container failed with status %d",
                     userns_exit_code (status));
  return 0;
}

/* ---- the entry points -------------------------------------------------------- */

int
container_fs_start (struct skiff_context *ctx, struct container *c, enum container_fs_view view,
                    container_fs_fn fn, void *arg, struct container_fs_proc **out,
                    struct error **err)
{
  struct container_fs_proc *p;
  int r;

  /* FN runs where "/" is the container's root, which has none of our
   * shared libraries: load libarchive (cp and export stream tars) now, so
   * the child inherits it. */
  if (lazylib_load (&lazylib_archive, err) < 0)
    return -1;
  p = xmalloc0 (sizeof *p);
  p->job.fn = fn;
  p->job.arg = arg;
  p->job.view = view;
  p->pid = -1;
  p->report_fd = -1;
  p->lock_fd = -1;
  p->uproc = (struct userns_proc) USERNS_PROC_INIT;
  p->lock_fd = container_lock (ctx, c, err);
  r = p->lock_fd < 0 ? -1 : container_state_load (c, err);
  if (r >= 0 && c->state.pid > 0 && container_pid_alive (c->state.pid, c->state.pid_start))
    {
      /* A running container needs no lock: it stays mounted by itself. */
      close (steal_fd (&p->lock_fd));
      r = start_running (p, c, err);
    }
  else if (r >= 0)
    r = start_stopped (ctx, p, c, err);
  if (r < 0)
    {
      proc_free (p);
      return -1;
    }
  *out = p;
  return 0;
}

int
container_fs_wait (struct container_fs_proc *p, struct error **err)
{
  int r = p->is_stopped ? wait_stopped (p, err) : wait_running (p, err);

  proc_free (p);
  return r;
}

int
container_fs_run (struct skiff_context *ctx, struct container *c, enum container_fs_view view,
                  container_fs_fn fn, void *arg, struct error **err)
{
  struct container_fs_proc *p = NULL;

  if (container_fs_start (ctx, c, view, fn, arg, &p, err) < 0)
    return -1;
  return container_fs_wait (p, err);
}
