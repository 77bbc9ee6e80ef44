/* Paths inside a container's root, resolved on descriptors so that
 * nothing the image controls (symlinks, "..") can point a mount or a
 * file outside it (crun's safe_openat); read-only remounts; descriptor
 * hygiene before exec; and the switch that forces each fallback. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_OPENAT2_H
#include <linux/openat2.h>
#endif

#include "libutil/buf.h"
#include "libutil/mem.h"
#include "runtime_internal.h"

/* As the kernel's own limit on symlinks in one lookup (path_resolution(7)). */
#define MAX_SYMLINKS 40

/* The kernel's struct mount_attr (mount_setattr(2)); ours so that older C
 * libraries, which lack it, build too. */
struct setattr_args
{
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

#define SETATTR_RECURSIVE 0x8000 /* AT_RECURSIVE */

bool
runtime_fallback_forced (const char *name)
{
  const char *v = getenv ("SKIFF_RUNTIME_FALLBACK");
  size_t len = strlen (name);

  while (v && *v)
    {
      const char *end = strchrnul (v, ',');

      if ((size_t) (end - v) == len && strncmp (v, name, len) == 0)
        return true;
      v = *end ? end + 1 : end;
    }
  return false;
}

void
runtime_fs_fd_path (int fd, char buf[RUNTIME_FD_PATH_MAX])
{
  snprintf (buf, RUNTIME_FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

/* ---- in-root lookup ------------------------------------------------------ */

/* Set once openat2 failed as absent (before 5.6, or refused by seccomp). */
static bool openat2_missing;

#ifdef HAVE_OPENAT2_H
/* Returns -2 when the caller should walk instead. */
static int
openat2_in_root (int root_fd, const char *path, int flags, mode_t mode)
{
  struct open_how how = {
    .flags = (uint64_t) (flags | O_CLOEXEC),
    .mode = (flags & O_CREAT) ? mode : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };

  if (openat2_missing || runtime_fallback_forced ("openat2"))
    return -2;
  for (int attempt = 0; attempt < 8; attempt++)
    {
      long fd = syscall (SYS_openat2, root_fd, path, &how, sizeof how);

      if (fd >= 0)
        return (int) fd;
      if (errno == ENOSYS || errno == EPERM || errno == E2BIG)
        {
          openat2_missing = true;
          return -2;
        }
      if (errno != EINTR && errno != EAGAIN)
        return -1;
    }
  return -2;
}
#endif

static bool
same_inode (int a, int b)
{
  struct stat sa, sb;

  return fstat (a, &sa) == 0 && fstat (b, &sb) == 0 && sa.st_dev == sb.st_dev
         && sa.st_ino == sb.st_ino;
}

/* The walk continues with TARGET + "/" + REST. */
static int
splice_link (const char *target, const char *rest, char **todo)
{
  if (strlen (target) + strlen (rest) + 2 > 2 * PATH_MAX)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  free (*todo);
  *todo = xasprintf ("%s/%s", target, rest);
  return 0;
}

/* Step from *CUR into the directory or symlink COMP: a directory becomes
 * *CUR, a symlink is spliced into *TODO (from the root when absolute). */
static int
step (int root_fd, int *cur, const char *comp, const char *rest, char **todo,
      int *n_links)
{
  cleanup_close int next = openat (*cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  char target[PATH_MAX];
  struct stat st;
  ssize_t n;

  if (next < 0 || fstat (next, &st) < 0)
    return -1;
  if (S_ISDIR (st.st_mode))
    {
      close (*cur);
      *cur = steal_fd (&next);
      return splice_link ("", rest, todo);
    }
  if (!S_ISLNK (st.st_mode))
    {
      errno = ENOTDIR;
      return -1;
    }
  if (++*n_links > MAX_SYMLINKS)
    {
      errno = ELOOP;
      return -1;
    }
  n = readlinkat (next, "", target, sizeof target - 1);
  if (n < 0)
    return -1;
  target[n] = '\0';
  if (target[0] == '/')
    {
      int root = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);

      if (root < 0)
        return -1;
      close (*cur);
      *cur = root;
    }
  return splice_link (target, rest, todo);
}

/* ".." that stops at the root. */
static int
step_up (int root_fd, int *cur)
{
  int up;

  if (same_inode (*cur, root_fd))
    return 0;
  up = openat (*cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (up < 0)
    return -1;
  close (*cur);
  *cur = up;
  return 0;
}

static bool
is_symlink_at (int dir, const char *name)
{
  struct stat st;

  return fstatat (dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode);
}

/* The walk for kernels without openat2, one component at a time with
 * O_NOFOLLOW.  No race to fear: nothing runs in the container yet, so the
 * tree does not change under us. */
static int
walk_in_root (int root_fd, const char *path, int flags, mode_t mode)
{
  cleanup_free char *todo = xstrdup (path);
  cleanup_close int cur = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
  int n_links = 0;

  if (cur < 0)
    return -1;
  for (;;)
    {
      cleanup_free char *comp = NULL, *rest = NULL;
      const char *p = todo, *end;
      int r;

      while (*p == '/')
        p++;
      if (*p == '\0')
        return openat (cur, ".", flags | O_CLOEXEC, mode);
      end = strchrnul (p, '/');
      comp = xstrndup (p, (size_t) (end - p));
      while (*end == '/')
        end++;
      rest = xstrdup (end);
      if (strcmp (comp, "..") == 0)
        r = step_up (root_fd, &cur) < 0 ? -1 : splice_link ("", rest, &todo);
      else if (strcmp (comp, ".") == 0)
        r = splice_link ("", rest, &todo);
      else if (*rest == '\0' && ((flags & O_NOFOLLOW) || !is_symlink_at (cur, comp)))
        return openat (cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
      else
        r = step (root_fd, &cur, comp, rest, &todo, &n_links);
      if (r < 0)
        return -1;
    }
}

int
runtime_fs_open_in_root (int root_fd, const char *path, int flags, mode_t mode)
{
#ifdef HAVE_OPENAT2_H
  int fd = openat2_in_root (root_fd, path, flags, mode);

  if (fd != -2)
    return fd;
#endif
  return walk_in_root (root_fd, path, flags, mode);
}

/* ---- mount targets ------------------------------------------------------- */

/* The final component is missing, or a symlink that leads nowhere: make
 * it.  The parent is ours to write (the container's writable layer or a
 * tmpfs we mounted). */
static int
create_last (int parent, const char *name, bool is_dir, const char *path,
             struct error **err)
{
  struct stat st;
  int fd;

  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode)
      && unlinkat (parent, name, 0) < 0)
    return err_make (err, errno, "replace the dangling symlink \"%s\" in the container", path);
  if (is_dir)
    {
      if (mkdirat (parent, name, 0755) < 0 && errno != EEXIST)
        return err_make (err, errno, "create directory \"%s\" in the container", path);
    }
  else
    {
      fd = openat (parent, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
      if (fd < 0)
        return err_make (err, errno, "create file \"%s\" in the container", path);
      close (fd);
    }
  fd = openat (parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return err_make (err, errno, "open \"%s\" in the container", path);
  return fd;
}

/* mkdir -p inside the root; returns an O_PATH descriptor of the directory.
 * Each prefix is looked up in the root again after it is made, so a
 * symlink met on the way is followed the way the lookup follows it. */
static int
mkdir_in_root (int root_fd, const char *path, struct error **err)
{
  cleanup_close int cur = runtime_fs_open_in_root (root_fd, path, O_PATH | O_DIRECTORY, 0);
  cleanup_buf struct buf prefix = BUF_INIT;
  const char *p = path;

  if (cur >= 0)
    return steal_fd (&cur);
  if (errno != ENOENT)
    return err_make (err, errno, "open directory \"%s\" in the container", path);
  cur = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
  if (cur < 0)
    return err_make (err, errno, "duplicate a descriptor");
  while (*p)
    {
      const char *end = strchrnul (p, '/');
      cleanup_free char *comp = xstrndup (p, (size_t) (end - p));
      int next;

      p = *end ? end + 1 : end;
      if (*comp == '\0')
        continue;
      buf_printf (&prefix, "/%s", comp);
      next = runtime_fs_open_in_root (root_fd, prefix.data, O_PATH | O_DIRECTORY, 0);
      if (next < 0 && errno == ENOENT)
        next = create_last (cur, comp, true, prefix.data, err);
      else if (next < 0)
        return err_make (err, errno, "open directory \"%s\" in the container", prefix.data);
      if (next < 0)
        return -1;
      close (cur);
      cur = next;
    }
  return steal_fd (&cur);
}

static void
split_path (const char *path, char **dir, char **base)
{
  cleanup_free char *copy = xstrdup (path);
  size_t len = strlen (copy);
  char *slash;

  while (len > 1 && copy[len - 1] == '/')
    copy[--len] = '\0';
  slash = strrchr (copy, '/');
  if (slash == NULL)
    {
      *dir = xstrdup ("/");
      *base = xstrdup (copy);
      return;
    }
  *base = xstrdup (slash + 1);
  *slash = '\0';
  *dir = xstrdup (copy[0] ? copy : "/");
}

int
runtime_fs_make_target (int root_fd, const char *path, bool is_dir, struct error **err)
{
  cleanup_free char *dir = NULL, *base = NULL;
  cleanup_close int parent = -1;
  int fd;

  fd = runtime_fs_open_in_root (root_fd, path, O_PATH, 0);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return err_make (err, errno, "open \"%s\" in the container", path);
  split_path (path, &dir, &base);
  parent = mkdir_in_root (root_fd, dir, err);
  if (parent < 0)
    return -1;
  return create_last (parent, base, is_dir, path, err);
}

/* ---- read-only remounts -------------------------------------------------- */

static bool mount_setattr_missing;

/* The flags a remount must repeat: in a user namespace the kernel refuses
 * a remount that would clear nosuid, nodev, noexec or the atime flags of
 * a mount it locked (mount_namespaces(7), "restrictions on mount
 * namespaces"). */
static unsigned long
locked_flags (int fd)
{
  struct statvfs sv;
  unsigned long flags = 0;

  if (fstatvfs (fd, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME)
    flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    flags |= MS_RELATIME;
  return flags;
}

/* MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC as mount_setattr(2) bits. */
static uint64_t
attr_bits (unsigned long flags)
{
  return ((flags & MS_RDONLY) ? 0x1 : 0) | ((flags & MS_NOSUID) ? 0x2 : 0)
         | ((flags & MS_NODEV) ? 0x4 : 0) | ((flags & MS_NOEXEC) ? 0x8 : 0);
}

int
runtime_fs_remount (int fd, unsigned long flags, bool is_recursive, const char *what,
                    struct error **err)
{
  char path[RUNTIME_FD_PATH_MAX];

#ifdef SYS_mount_setattr
  if (!mount_setattr_missing && !runtime_fallback_forced ("mount_setattr"))
    {
      struct setattr_args attr = { .attr_set = attr_bits (flags) };

      if (syscall (SYS_mount_setattr, fd, "",
                   AT_EMPTY_PATH | (is_recursive ? SETATTR_RECURSIVE : 0), &attr,
                   sizeof attr) == 0)
        return 0;
      if (errno != ENOSYS)
        return err_make (err, errno, "change the mount flags of \"%s\"", what);
      mount_setattr_missing = true;
    }
#endif
  runtime_fs_fd_path (fd, path);
  if (mount (NULL, path, NULL, MS_REMOUNT | MS_BIND | flags | locked_flags (fd), NULL) < 0)
    return err_make (err, errno, "change the mount flags of \"%s\"", what);
  return 0;
}

/* ---- descriptors before exec --------------------------------------------- */

static bool close_range_missing;

static int
walk_fds (int first, bool do_close, struct error **err)
{
  cleanup_dir DIR *d = opendir ("/proc/self/fd");
  struct dirent *de;

  if (d == NULL)
    return err_make (err, errno, "open \"/proc/self/fd\"");
  while ((de = readdir (d)) != NULL)
    {
      char *end;
      long fd = strtol (de->d_name, &end, 10);

      if (*end != '\0' || end == de->d_name || fd < first || fd == dirfd (d))
        continue;
      if (do_close)
        close ((int) fd);
      else
        fcntl ((int) fd, F_SETFD, FD_CLOEXEC);
    }
  return 0;
}

int
runtime_fs_cloexec_from (int first, bool do_close, struct error **err)
{
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
  if (!close_range_missing && !runtime_fallback_forced ("close_range"))
    {
      if (syscall (SYS_close_range, (unsigned) first, ~0U,
                   do_close ? 0 : CLOSE_RANGE_CLOEXEC) == 0)
        return 0;
      if (errno != ENOSYS && errno != EINVAL)
        return err_make (err, errno, "close descriptors");
      close_range_missing = true;
    }
#endif
  return walk_fds (first, do_close, err);
}

/* ---- copying a tree into a tmpfs ----------------------------------------- */

/* Deeper trees are refused rather than risking the descriptor limit. */
#define COPY_MAX_DEPTH 128

static int
copy_data (int in, int out)
{
  char buf[65536];
  ssize_t n;

  for (;;)
    {
      n = read (in, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return (int) n;
      for (ssize_t off = 0; off < n;)
        {
          ssize_t w = write (out, buf + off, (size_t) (n - off));

          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return -1;
          off += w;
        }
    }
}

static int copy_dir (int src, int dst, int depth, struct error **err);

/* One entry; devices, FIFOs and sockets are left out. */
static int
copy_entry (int src, int dst, const char *name, int depth, struct error **err)
{
  struct stat st;
  cleanup_close int in = -1, out = -1;
  char target[PATH_MAX];
  ssize_t n;

  if (fstatat (src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return err_make (err, errno, "stat \"%s\"", name);
  if (S_ISDIR (st.st_mode))
    {
      if (mkdirat (dst, name, 0700) < 0)
        return err_make (err, errno, "create directory \"%s\"", name);
      in = openat (src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      out = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (in < 0 || out < 0)
        return err_make (err, errno, "open directory \"%s\"", name);
      if (copy_dir (in, out, depth + 1, err) < 0)
        return -1;
    }
  else if (S_ISREG (st.st_mode))
    {
      in = openat (src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      out = openat (dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (in < 0 || out < 0 || copy_data (in, out) < 0)
        return err_make (err, errno, "copy \"%s\"", name);
    }
  else if (S_ISLNK (st.st_mode))
    {
      n = readlinkat (src, name, target, sizeof target - 1);
      if (n < 0)
        return err_make (err, errno, "read symlink \"%s\"", name);
      target[n] = '\0';
      if (symlinkat (target, dst, name) < 0)
        return err_make (err, errno, "create symlink \"%s\"", name);
    }
  else
    return 0;
  if (fchownat (dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return err_make (err, errno, "set the owner of \"%s\"", name);
  if (!S_ISLNK (st.st_mode) && fchmodat (dst, name, st.st_mode & 07777, 0) < 0)
    return err_make (err, errno, "set the mode of \"%s\"", name);
  return 0;
}

static int
copy_dir (int src, int dst, int depth, struct error **err)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd;

  if (depth > COPY_MAX_DEPTH)
    return err_make (err, ELOOP, "directories nested deeper than %d", COPY_MAX_DEPTH);
  fd = openat (src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      return err_make (err, saved, "read a directory");
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (copy_entry (src, dst, de->d_name, depth, err) < 0)
        return -1;
    }
  if (errno != 0)
    return err_make (err, errno, "read a directory");
  return 0;
}

int
runtime_fs_copy_tree (int src, int dst, struct error **err)
{
  return copy_dir (src, dst, 0, err);
}
