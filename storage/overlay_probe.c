/* Which overlay driver this machine can use: the kernel overlayfs inside an
 * unprivileged user namespace (probed once per kernel and cached), the
 * fuse-overlayfs program, or the copying vfs driver.
 *
 * The probe, in a forked child so that nothing leaks into our process:
 *
 *   1. enter_userns: unshare a user and a mount namespace and map our own
 *      UID and GID to 0 (setgroups denied first), as "unshare -r" does; no
 *      helper is needed for a single ID.
 *   2. make_whiteout: mknod a 0:0 character device, overlay's whiteout, in
 *      the upper lower layer, as layer extraction will (Linux 5.8+ allows
 *      it in a user namespace).
 *   3. mount_overlay: mount lowerdir=lower2:lower1 with "userxattr" (Linux
 *      5.11+ for unprivileged overlay).
 *   4. check_merged: the whited-out file is hidden, and deleting a file
 *      through the mount (which makes a whiteout in the upper layer) works.
 *
 * The child reports "ok" or the failed step over a pipe; the mount goes
 * away with its namespace and the parent removes the scratch directory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libutil/fs.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/spawn.h"
#include "storage.h"

#define CACHE_NAME "overlay-probe"
#define REPORT_MAX 512

/* ---- the child ---------------------------------------------------------- */

/* From here down to probe_child the code runs between fork and _exit: no
 * allocation, no stdio streams, no state shared with the parent. */
static int
report (int fd, const char *step)
{
  char msg[REPORT_MAX];
  int n = snprintf (msg, sizeof msg, "%s: %s", step, strerror (errno));
  ssize_t w;

  if (n > 0)
    {
      w = write (fd, msg, (size_t) n < sizeof msg ? (size_t) n : sizeof msg - 1);
      (void) w;
    }
  return -1;
}

static int
write_file (const char *path, const char *data)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return -1;
  n = write (fd, data, strlen (data));
  close (fd);
  return n == (ssize_t) strlen (data) ? 0 : -1;
}

static int
enter_userns (int fd, uid_t uid, gid_t gid)
{
  char map[64];

  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
    return report (fd, "unshare a user and mount namespace");
  if (write_file ("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
    return report (fd, "deny setgroups");
  snprintf (map, sizeof map, "0 %u 1", (unsigned) uid);
  if (write_file ("/proc/self/uid_map", map) < 0)
    return report (fd, "write uid_map");
  snprintf (map, sizeof map, "0 %u 1", (unsigned) gid);
  if (write_file ("/proc/self/gid_map", map) < 0)
    return report (fd, "write gid_map");
  return 0;
}

static int
make_whiteout (int fd)
{
  if (mknod ("lower2/hidden", S_IFCHR | 0, makedev (0, 0)) < 0)
    return report (fd, "create a whiteout (mknod 0:0)");
  return 0;
}

/* Relative paths: the scratch directory's path may hold ',' or ':', which
 * overlay's option syntax cannot take. */
static int
mount_overlay (int fd)
{
  if (mount ("overlay", "merged", "overlay", 0,
             "lowerdir=lower2:lower1,upperdir=upper,workdir=work,userxattr") < 0)
    return report (fd, "mount overlay with userxattr");
  return 0;
}

static int
check_merged (int fd)
{
  struct stat st;

  if (lstat ("merged/hidden", &st) == 0 || errno != ENOENT)
    {
      errno = EEXIST;
      return report (fd, "whiteout in a lower layer not honoured");
    }
  if (unlink ("merged/gone") < 0)
    return report (fd, "delete a lower file through the mount");
  if (lstat ("upper/gone", &st) < 0)
    return report (fd, "find the whiteout in the upper layer");
  if (!S_ISCHR (st.st_mode) || st.st_rdev != makedev (0, 0))
    {
      errno = EINVAL;
      return report (fd, "whiteout in the upper layer is not a 0:0 device");
    }
  return 0;
}

static void __attribute__ ((noreturn))
probe_child (int fd, const char *scratch, uid_t uid, gid_t gid)
{
  if (chdir (scratch) < 0)
    {
      report (fd, "enter the scratch directory");
      _exit (1);
    }
  if (enter_userns (fd, uid, gid) < 0 || make_whiteout (fd) < 0 || mount_overlay (fd) < 0
      || check_merged (fd) < 0)
    _exit (1);
  if (write (fd, "ok", 2) != 2)
    _exit (1);
  _exit (0);
}

/* ---- the parent --------------------------------------------------------- */

static int
make_file (const char *dir, const char *name, struct error **err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, name);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd < 0)
    return err_make (err, errno, "create \"%s\"", path);
  close (fd);
  return 0;
}

static int
make_layout (const char *scratch, struct error **err)
{
  static const char *const dirs[] = { "lower1", "lower2", "upper", "work", "merged" };

  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    {
      cleanup_free char *path = xasprintf ("%s/%s", scratch, dirs[i]);
      if (mkdir (path, 0755) < 0)
        return err_make (err, errno, "mkdir \"%s\"", path);
    }
  if (make_file (scratch, "lower1/hidden", err) < 0 || make_file (scratch, "lower1/gone", err) < 0)
    return -1;
  return 0;
}

/* Fork the probe and collect its report: true on "ok". */
static bool
run_child (const char *scratch, char *why, size_t why_size)
{
  char msg[REPORT_MAX] = "";
  int fds[2], status;
  ssize_t n, got = 0;
  pid_t pid;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    {
      snprintf (why, why_size, "pipe: %s", strerror (errno));
      return false;
    }
  pid = fork ();
  if (pid < 0)
    {
      snprintf (why, why_size, "fork: %s", strerror (errno));
      close (fds[0]);
      close (fds[1]);
      return false;
    }
  if (pid == 0)
    {
      close (fds[0]);
      probe_child (fds[1], scratch, geteuid (), getegid ());
    }
  close (fds[1]);
  while ((n = read (fds[0], msg + got, sizeof msg - 1 - (size_t) got)) != 0)
    if (n > 0)
      got += n;
    else if (errno != EINTR)
      break;
  msg[got] = '\0';
  close (fds[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  snprintf (why, why_size, "%s", got ? msg : "the probe process died");
  return WIFEXITED (status) && WEXITSTATUS (status) == 0 && strcmp (msg, "ok") == 0;
}

static void
debug_error (const struct error *err)
{
  cleanup_free char *text = err_text (err);

  log_debug ("overlay probe: %s", text);
}

static bool
probe_in (const char *dir)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *scratch = xasprintf ("%s/.overlay-probe-XXXXXX", dir);
  char why[REPORT_MAX];
  bool is_ok = false;

  if (fs_mkdir_p (dir, 0700, &err) < 0 || mkdtemp (scratch) == NULL)
    {
      if (err == NULL)
        err_make (&err, errno, "create a scratch directory in \"%s\"", dir);
      debug_error (err);
      return false;
    }
  if (make_layout (scratch, &err) < 0)
    debug_error (err);
  else
    {
      is_ok = run_child (scratch, why, sizeof why);
      log_debug ("overlay probe in \"%s\": %s", dir, why);
    }
  err_release (&err);
  if (fs_remove_tree (scratch, &err) < 0)
    debug_error (err);
  return is_ok;
}

/* The cache holds "<kernel release> ok|fail"; anything else is a miss. */
static int
read_cache (const char *path, const char *release)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *data = fs_read_file (path, 4096, NULL, &err);
  size_t rlen = strlen (release);

  if (data == NULL || strncmp (data, release, rlen) != 0 || data[rlen] != ' ')
    return -1;
  if (strcmp (data + rlen + 1, "ok\n") == 0)
    return 1;
  if (strcmp (data + rlen + 1, "fail\n") == 0)
    return 0;
  return -1;
}

static void
write_cache (const char *path, const char *release, bool is_ok)
{
  cleanup_error struct error *err = NULL;
  cleanup_free char *data = xasprintf ("%s %s\n", release, is_ok ? "ok" : "fail");

  if (fs_write_atomic (path, data, strlen (data), 0644, &err) < 0)
    debug_error (err);
}

/* -1 when not forced. */
static int
forced_answer (void)
{
  const char *v = getenv ("SKIFF_OVERLAY_PROBE_FORCE");

  if (v == NULL || *v == '\0')
    return -1;
  if (strcmp (v, "ok") == 0)
    return 1;
  if (strcmp (v, "fail") == 0)
    return 0;
  log_warn ("ignoring SKIFF_OVERLAY_PROBE_FORCE=\"%s\": use ok or fail", v);
  return -1;
}

bool
storage_overlay_probe (const char *dir)
{
  cleanup_free char *cache = xasprintf ("%s/" CACHE_NAME, dir);
  struct utsname u;
  int answer = forced_answer ();

  if (answer >= 0)
    return answer;
  if (uname (&u) < 0)
    return false;
  answer = read_cache (cache, u.release);
  if (answer >= 0)
    {
      log_debug ("overlay probe: cached answer for kernel %s: %s", u.release,
                 answer ? "ok" : "fail");
      return answer;
    }
  answer = probe_in (dir);
  write_cache (cache, u.release, answer);
  return answer;
}

char *
storage_fuse_overlayfs_path (void)
{
  return spawn_find_program ("fuse-overlayfs");
}

bool
storage_fuse_usable (void)
{
  int fd = open ("/dev/fuse", O_RDWR | O_CLOEXEC);

  if (fd < 0)
    return false;
  close (fd);
  return true;
}

static bool
fuse_overlayfs_available (void)
{
  cleanup_free char *path = storage_fuse_overlayfs_path ();

  return path != NULL && storage_fuse_usable ();
}

int
storage_choose_driver (const char *forced, const char *probe_dir, const char **out,
                       struct error **err)
{
  static const char *const names[] = { STORAGE_DRIVER_OVERLAY, STORAGE_DRIVER_FUSE_OVERLAYFS,
                                       STORAGE_DRIVER_VFS };

  if (forced)
    {
      for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp (forced, names[i]) == 0)
          {
            *out = names[i];
            return 0;
          }
      return err_make (err, 0, "unknown storage driver \"%s\": use overlay, "
                       "fuse-overlayfs or vfs", forced);
    }
  if (storage_overlay_probe (probe_dir))
    *out = STORAGE_DRIVER_OVERLAY;
  else if (fuse_overlayfs_available ())
    *out = STORAGE_DRIVER_FUSE_OVERLAYFS;
  else
    *out = STORAGE_DRIVER_VFS;
  return 0;
}
