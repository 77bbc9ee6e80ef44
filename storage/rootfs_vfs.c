/* The vfs driver: no overlay at all, but a full copy of the layers in the
 * container directory, for machines where neither kernel overlayfs nor
 * FUSE is usable.  Slow and big by nature; it has to be exact.
 *
 * storage_rootfs_vfs_prepare, in order:
 *
 *   1. rootfs/ is there: an earlier mount made it, and it is complete,
 *      since it only ever appears by rename.
 *   2. start_partial: rootfs.partial, fresh (a crashed copy is removed).
 *   3. copy_layer for each layer, bottom first; copy_dir in each directory:
 *      a. list it, and find the opaque marker (the opaque xattr, or a
 *         ".wh..wh..opq" file) and the whiteouts (0:0 character devices,
 *         ".wh.NAME" files);
 *      b. apply_whiteouts: an opaque directory loses what the copy holds
 *         there, then each whiteout removes its name.  This comes before
 *         any entry of the layer is copied, so whiteouts only ever delete
 *         what lower layers put there, as the OCI image spec says;
 *      c. copy_entry for the rest: a directory over a directory merges,
 *         anything else replaces what is there; content first, then
 *         owner, mode (after chown, which clears set-ID bits), xattrs
 *         (after chown, which clears file capabilities), times (last, so
 *         filling a directory does not move them).
 *   4. rename rootfs.partial to rootfs.
 *
 * The layers are trees we extracted, but their names and links come from
 * the image: every step works on directory descriptors with O_NOFOLLOW and
 * never follows a symlink, in the layers or in the copy. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/fs.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "storage/storage.h"

#define ROOTFS "rootfs"
#define PARTIAL "rootfs.partial"
#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"
#define COPY_CHUNK ((size_t) 1 << 30)

/* Files with more than one link, by source inode, and where their first
 * copy went; for one layer at a time.  Open addressing. */
struct link_slot
{
  dev_t dev;
  ino_t ino;
  char *path; /* relative to the copy's root; NULL: free slot */
};

struct link_map
{
  struct link_slot *slots;
  size_t cap; /* a power of two, or 0 */
  size_t n;
};

struct copier
{
  const char *opaque_xattr;
  int root_fd; /* rootfs.partial */
  struct link_map links;
  char path[PATH_MAX]; /* the entry being copied, relative; for messages and links */
  size_t len;
};

enum entry_kind
{
  ENTRY_COPY,
  ENTRY_WHITEOUT, /* removes TARGET */
  ENTRY_OPAQUE,   /* ".wh..wh..opq" */
  ENTRY_SKIP,     /* aufs bookkeeping (".wh..wh.plnk") */
};

struct entry
{
  char *name;
  const char *target; /* for ENTRY_WHITEOUT, inside NAME */
  enum entry_kind kind;
};

/* ---- the link map ------------------------------------------------------ */

static struct link_slot *
link_slot (const struct link_map *m, dev_t dev, ino_t ino)
{
  size_t i = (size_t) ((ino * 0x9e3779b97f4a7c15ULL) ^ dev) & (m->cap - 1);

  while (m->slots[i].path != NULL && (m->slots[i].dev != dev || m->slots[i].ino != ino))
    i = (i + 1) & (m->cap - 1);
  return &m->slots[i];
}

static const char *
link_find (const struct link_map *m, dev_t dev, ino_t ino)
{
  return m->cap > 0 ? link_slot (m, dev, ino)->path : NULL;
}

static void
link_add (struct link_map *m, dev_t dev, ino_t ino, const char *path)
{
  struct link_slot *slot;

  if ((m->n + 1) * 2 > m->cap)
    {
      struct link_map bigger = { NULL, m->cap ? m->cap * 2 : 64, m->n };

      bigger.slots = xcalloc (bigger.cap, sizeof *bigger.slots);
      for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].path != NULL)
          *link_slot (&bigger, m->slots[i].dev, m->slots[i].ino) = m->slots[i];
      free (m->slots);
      *m = bigger;
    }
  slot = link_slot (m, dev, ino);
  *slot = (struct link_slot){ dev, ino, xstrdup (path) };
  m->n++;
}

static void
link_clear (struct link_map *m)
{
  for (size_t i = 0; i < m->cap; i++)
    free (m->slots[i].path);
  free (m->slots);
  *m = (struct link_map){ NULL, 0, 0 };
}

/* ---- paths for messages --------------------------------------------------- */

static int
push_name (struct copier *c, const char *name, size_t *saved, struct error **err)
{
  size_t n = strlen (name);

  *saved = c->len;
  if (c->len + 1 + n >= sizeof c->path)
    return err_make (err, ENAMETOOLONG, "path \"%s/%s\" is too long", c->path, name);
  if (c->len > 0)
    c->path[c->len++] = '/';
  memcpy (c->path + c->len, name, n + 1);
  c->len += n;
  return 0;
}

static void
pop_name (struct copier *c, size_t saved)
{
  c->len = saved;
  c->path[saved] = '\0';
}

static const char *
shown (const struct copier *c)
{
  return c->len > 0 ? c->path : "/";
}

/* ---- metadata ------------------------------------------------------------- */

/* Where xattrs of an entry are read or written: its descriptor, or for
 * symlinks and FIFOs, which we do not open, its /proc path through the
 * parent's descriptor (l*xattr does not follow the last component). */
struct xnode
{
  int fd;
  char proc[64 + NAME_MAX];
};

static void
xnode_fd (struct xnode *x, int fd)
{
  x->fd = fd;
  x->proc[0] = '\0';
}

static void
xnode_at (struct xnode *x, int dirfd, const char *name)
{
  x->fd = -1;
  snprintf (x->proc, sizeof x->proc, "/proc/self/fd/%d/%s", dirfd, name);
}

static ssize_t
xlist (const struct xnode *x, char *buf, size_t size)
{
  return x->fd >= 0 ? flistxattr (x->fd, buf, size) : llistxattr (x->proc, buf, size);
}

static ssize_t
xget (const struct xnode *x, const char *key, void *buf, size_t size)
{
  return x->fd >= 0 ? fgetxattr (x->fd, key, buf, size) : lgetxattr (x->proc, key, buf, size);
}

static int
xset (const struct xnode *x, const char *key, const void *value, size_t size)
{
  return x->fd >= 0 ? fsetxattr (x->fd, key, value, size, 0)
                    : lsetxattr (x->proc, key, value, size, 0);
}

/* overlay's and fuse-overlayfs's own xattrs describe the layer stack,
 * which the copy no longer is. */
static bool
is_overlay_xattr (const char *key)
{
  return str_has_prefix (key, "trusted.overlay.") || str_has_prefix (key, "user.overlay.")
         || str_has_prefix (key, "user.fuseoverlayfs.");
}

/* Refusals that depend on our privilege or the file system (trusted.*
 * without real root, user.* on symlinks): left out, as extraction does. */
static bool
is_xattr_refusal (int errnum)
{
  return errnum == EPERM || errnum == ENOTSUP || errnum == EACCES;
}

static int
copy_one_xattr (const struct copier *c, const struct xnode *src, const struct xnode *dst,
                const char *key, struct error **err)
{
  cleanup_free char *value = NULL;
  ssize_t size = xget (src, key, NULL, 0);

  if (size >= 0)
    {
      value = xmalloc ((size_t) size + 1);
      size = xget (src, key, value, (size_t) size);
    }
  if (size < 0)
    return err_make (err, errno, "read xattr \"%s\" of \"%s\"", key, shown (c));
  if (xset (dst, key, value, (size_t) size) == 0)
    return 0;
  if (!is_xattr_refusal (errno))
    return err_make (err, errno, "set xattr \"%s\" on \"%s\"", key, shown (c));
  log_debug ("vfs: xattr \"%s\" of \"%s\" not copied: %s", key, shown (c), strerror (errno));
  return 0;
}

static int
copy_xattrs (const struct copier *c, const struct xnode *src, const struct xnode *dst,
             struct error **err)
{
  cleanup_free char *keys = NULL;
  ssize_t size = xlist (src, NULL, 0);

  if (size >= 0)
    {
      keys = xmalloc ((size_t) size + 1);
      size = xlist (src, keys, (size_t) size);
    }
  if (size < 0 && errno == ENOTSUP)
    return 0;
  if (size < 0)
    return err_make (err, errno, "list xattrs of \"%s\"", shown (c));
  for (ssize_t off = 0; off < size; off += (ssize_t) strlen (keys + off) + 1)
    if (!is_overlay_xattr (keys + off) && copy_one_xattr (c, src, dst, keys + off, err) < 0)
      return -1;
  return 0;
}

/* A chown the namespace cannot express (an ID with no mapping, EINVAL)
 * leaves the caller's ID, as extraction with a single-ID map does. */
static int
check_chown (const struct copier *c, int r, const struct stat *st, struct error **err)
{
  if (r == 0)
    return 0;
  if (errno == EINVAL)
    {
      log_debug ("vfs: \"%s\": owner %u:%u has no mapping here", shown (c),
                 (unsigned) st->st_uid, (unsigned) st->st_gid);
      return 0;
    }
  return err_make (err, errno, "chown \"%s\" to %u:%u", shown (c), (unsigned) st->st_uid,
                   (unsigned) st->st_gid);
}

/* Owner, mode, xattrs and times from ST and SRC_FD onto DST_FD. */
static int
set_attrs_fd (const struct copier *c, int src_fd, int dst_fd, const struct stat *st,
              struct error **err)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  struct xnode src, dst;

  xnode_fd (&src, src_fd);
  xnode_fd (&dst, dst_fd);
  if (check_chown (c, fchown (dst_fd, st->st_uid, st->st_gid), st, err) < 0)
    return -1;
  if (fchmod (dst_fd, st->st_mode & 07777) < 0)
    return err_make (err, errno, "chmod \"%s\"", shown (c));
  if (copy_xattrs (c, &src, &dst, err) < 0)
    return -1;
  if (futimens (dst_fd, times) < 0)
    return err_make (err, errno, "set times of \"%s\"", shown (c));
  return 0;
}

/* The same for an entry we do not open (symlink, FIFO), by name.  Mode is
 * set only for FIFOs: symlinks have none of their own. */
static int
set_attrs_at (const struct copier *c, int src_dirfd, int dst_dirfd, const char *name,
              const struct stat *st, struct error **err)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  struct xnode src, dst;

  xnode_at (&src, src_dirfd, name);
  xnode_at (&dst, dst_dirfd, name);
  if (check_chown (c, fchownat (dst_dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW),
                   st, err)
      < 0)
    return -1;
  /* The FIFO was just made by us in a directory only we write to. */
  if (S_ISFIFO (st->st_mode) && fchmodat (dst_dirfd, name, st->st_mode & 07777, 0) < 0)
    return err_make (err, errno, "chmod \"%s\"", shown (c));
  if (copy_xattrs (c, &src, &dst, err) < 0)
    return -1;
  if (utimensat (dst_dirfd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
    return err_make (err, errno, "set times of \"%s\"", shown (c));
  return 0;
}

/* ---- file content --------------------------------------------------------- */

static int
copy_by_read (int src, int dst, struct error **err)
{
  char buf[64 * 1024];
  ssize_t n;

  while ((n = read (src, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "read");
      for (ssize_t done = 0; done < n;)
        {
          ssize_t w = write (dst, buf + done, (size_t) (n - done));
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return err_make (err, errno, "write");
          done += w;
        }
    }
  return 0;
}

/* A reflink where the file system shares extents (btrfs, xfs), else
 * copy_file_range (in-kernel copy), else read and write. */
static int
copy_data (int src, int dst, struct error **err)
{
  ssize_t n;

  if (ioctl (dst, FICLONE, src) == 0)
    return 0;
  while ((n = copy_file_range (src, NULL, dst, NULL, COPY_CHUNK, 0)) != 0)
    if (n < 0 && errno == EINTR)
      continue;
    else if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS
                       || errno == EOPNOTSUPP || errno == EPERM))
      return copy_by_read (src, dst, err);
    else if (n < 0)
      return err_make (err, errno, "copy");
  return 0;
}

/* ---- entries -------------------------------------------------------------- */

static int copy_dir (struct copier *c, int src_fd, int dst_fd, struct error **err);

static int
remove_at (const struct copier *c, int dirfd, const char *name, struct error **err)
{
  if (fs_remove_tree_at (dirfd, name, err) < 0)
    return err_wrap (err, "in \"%s\"", shown (c));
  return 0;
}

static int
copy_regular (struct copier *c, int src_dirfd, int dst_dirfd, const char *name,
              const struct stat *st, struct error **err)
{
  const char *first = st->st_nlink > 1 ? link_find (&c->links, st->st_dev, st->st_ino) : NULL;
  cleanup_close int src = -1;
  cleanup_close int dst = -1;

  if (first != NULL)
    {
      if (linkat (c->root_fd, first, dst_dirfd, name, 0) < 0)
        return err_make (err, errno, "link \"%s\" to \"%s\"", shown (c), first);
      return 0;
    }
  src = openat (src_dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0)
    return err_make (err, errno, "open layer file \"%s\"", shown (c));
  dst = openat (dst_dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0)
    return err_make (err, errno, "create \"%s\"", shown (c));
  if (copy_data (src, dst, err) < 0)
    return err_wrap (err, "\"%s\"", shown (c));
  if (set_attrs_fd (c, src, dst, st, err) < 0)
    return -1;
  if (st->st_nlink > 1)
    link_add (&c->links, st->st_dev, st->st_ino, c->path);
  return 0;
}

static int
copy_symlink (struct copier *c, int src_dirfd, int dst_dirfd, const char *name,
              const struct stat *st, struct error **err)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat (src_dirfd, name, target, sizeof target);

  if (n < 0)
    return err_make (err, errno, "read symlink \"%s\"", shown (c));
  if ((size_t) n >= sizeof target)
    return err_make (err, ENAMETOOLONG, "symlink \"%s\" is too long", shown (c));
  target[n] = '\0';
  if (symlinkat (target, dst_dirfd, name) < 0)
    return err_make (err, errno, "create symlink \"%s\"", shown (c));
  return set_attrs_at (c, src_dirfd, dst_dirfd, name, st, err);
}

static int
copy_fifo (struct copier *c, int src_dirfd, int dst_dirfd, const char *name,
           const struct stat *st, struct error **err)
{
  if (mkfifoat (dst_dirfd, name, 0600) < 0)
    return err_make (err, errno, "create FIFO \"%s\"", shown (c));
  return set_attrs_at (c, src_dirfd, dst_dirfd, name, st, err);
}

/* A directory merges with a directory the copy has there; anything else
 * there goes. */
static int
copy_subdir (struct copier *c, int src_dirfd, int dst_dirfd, const char *name,
             const struct stat *st, struct error **err)
{
  cleanup_close int src = -1;
  cleanup_close int dst = -1;

  if (mkdirat (dst_dirfd, name, 0700) < 0 && errno != EEXIST)
    return err_make (err, errno, "create directory \"%s\"", shown (c));
  src = openat (src_dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0)
    return err_make (err, errno, "open layer directory \"%s\"", shown (c));
  dst = openat (dst_dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0)
    return err_make (err, errno, "open directory \"%s\"", shown (c));
  if (copy_dir (c, src, dst, err) < 0)
    return -1;
  return set_attrs_fd (c, src, dst, st, err);
}

/* What the copy has at NAME must make way, unless a directory meets a
 * directory. */
static int
clear_slot (const struct copier *c, int dst_dirfd, const char *name, bool is_dir,
            struct error **err)
{
  struct stat old;

  if (fstatat (dst_dirfd, name, &old, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return err_make (err, errno, "stat \"%s\"", shown (c));
    }
  if (is_dir && S_ISDIR (old.st_mode))
    return 0;
  return remove_at (c, dst_dirfd, name, err);
}

static int
copy_typed (struct copier *c, int src_dirfd, int dst_dirfd, const char *name,
            const struct stat *st, struct error **err)
{
  if (clear_slot (c, dst_dirfd, name, S_ISDIR (st->st_mode), err) < 0)
    return -1;
  switch (st->st_mode & S_IFMT)
    {
    case S_IFDIR:
      return copy_subdir (c, src_dirfd, dst_dirfd, name, st, err);
    case S_IFREG:
      return copy_regular (c, src_dirfd, dst_dirfd, name, st, err);
    case S_IFLNK:
      return copy_symlink (c, src_dirfd, dst_dirfd, name, st, err);
    case S_IFIFO:
      return copy_fifo (c, src_dirfd, dst_dirfd, name, st, err);
    default:
      /* Device nodes (extraction keeps none) and sockets: the runtime
       * provides /dev. */
      log_debug ("vfs: \"%s\": special file skipped", shown (c));
      return 0;
    }
}

static int
copy_entry (struct copier *c, int src_dirfd, int dst_dirfd, const char *name, struct error **err)
{
  struct stat st;
  size_t saved;
  int r;

  if (push_name (c, name, &saved, err) < 0)
    return -1;
  if (fstatat (src_dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    r = err_make (err, errno, "stat layer entry \"%s\"", shown (c));
  else
    r = copy_typed (c, src_dirfd, dst_dirfd, name, &st, err);
  pop_name (c, saved);
  return r;
}

/* ---- directories ---------------------------------------------------------- */

struct entries
{
  struct entry *v;
  size_t n;
};

static void
free_entries (struct entries *e)
{
  for (size_t i = 0; i < e->n; i++)
    free (e->v[i].name);
  free (e->v);
  e->v = NULL;
  e->n = 0;
}

#define cleanup_entries __attribute__ ((cleanup (free_entries)))

static bool
is_whiteout_device (int dirfd, const char *name)
{
  struct stat st;

  return fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR (st.st_mode)
         && st.st_rdev == makedev (0, 0);
}

static int
classify (const struct copier *c, int dirfd, struct entry *e, unsigned char type,
          struct error **err)
{
  e->kind = ENTRY_COPY;
  if (strcmp (e->name, WH_OPAQUE) == 0)
    e->kind = ENTRY_OPAQUE;
  else if (str_has_prefix (e->name, WH_META_PREFIX))
    e->kind = ENTRY_SKIP;
  else if (str_has_prefix (e->name, WH_PREFIX))
    {
      e->kind = ENTRY_WHITEOUT;
      e->target = e->name + strlen (WH_PREFIX);
      if (e->target[0] == '\0' || strcmp (e->target, ".") == 0 || strcmp (e->target, "..") == 0)
        return err_make (err, EINVAL, "whiteout \"%s\" in \"%s\" names no entry", e->name,
                         shown (c));
    }
  else if ((type == DT_CHR || type == DT_UNKNOWN) && is_whiteout_device (dirfd, e->name))
    {
      e->kind = ENTRY_WHITEOUT;
      e->target = e->name;
    }
  return 0;
}

static void
add_entry (struct entries *e, size_t *cap, const char *name)
{
  if (e->n == *cap)
    {
      *cap = *cap ? *cap * 2 : 16;
      e->v = xrealloc (e->v, *cap * sizeof *e->v);
    }
  e->v[e->n++] = (struct entry){ xstrdup (name), NULL, ENTRY_COPY };
}

/* The entries of directory FD, classified, into the empty OUT. */
static int
list_dir (const struct copier *c, int fd, struct entries *out, struct error **err)
{
  int dup_fd = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  cleanup_dir DIR *d = dup_fd >= 0 ? fdopendir (dup_fd) : NULL;
  struct dirent *de;
  size_t cap = 0;

  if (d == NULL)
    {
      int saved = errno;
      if (dup_fd >= 0)
        close (dup_fd);
      return err_make (err, saved, "open directory \"%s\"", shown (c));
    }
  for (errno = 0; (de = readdir (d)) != NULL; errno = 0)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      add_entry (out, &cap, de->d_name);
      if (classify (c, fd, &out->v[out->n - 1], de->d_type, err) < 0)
        return -1;
    }
  if (errno != 0)
    return err_make (err, errno, "read directory \"%s\"", shown (c));
  return 0;
}

static bool
has_opaque_xattr (const struct copier *c, int fd)
{
  char v;

  return fgetxattr (fd, c->opaque_xattr, &v, 1) == 1 && v == 'y';
}

/* Everything the copy has in DST_FD goes: lower layers' content under an
 * opaque directory. */
static int
empty_dir (const struct copier *c, int dst_fd, struct error **err)
{
  cleanup_entries struct entries e = { NULL, 0 };

  if (list_dir (c, dst_fd, &e, err) < 0)
    return -1;
  for (size_t i = 0; i < e.n; i++)
    if (remove_at (c, dst_fd, e.v[i].name, err) < 0)
      return -1;
  return 0;
}

static int
apply_whiteouts (const struct copier *c, int src_fd, int dst_fd, const struct entries *e,
                 struct error **err)
{
  bool is_opaque = has_opaque_xattr (c, src_fd);

  for (size_t i = 0; i < e->n && !is_opaque; i++)
    is_opaque = e->v[i].kind == ENTRY_OPAQUE;
  if (is_opaque)
    return empty_dir (c, dst_fd, err);
  for (size_t i = 0; i < e->n; i++)
    if (e->v[i].kind == ENTRY_WHITEOUT && remove_at (c, dst_fd, e->v[i].target, err) < 0)
      return -1;
  return 0;
}

/* The copy's directory must be writable while it is filled, also for an
 * unprivileged caller; its own mode is set once it is full. */
static int
make_writable (const struct copier *c, int dst_fd, struct error **err)
{
  struct stat st;

  if (fstat (dst_fd, &st) < 0)
    return err_make (err, errno, "stat \"%s\"", shown (c));
  if ((st.st_mode & 0700) != 0700 && fchmod (dst_fd, st.st_mode | 0700) < 0)
    return err_make (err, errno, "chmod \"%s\"", shown (c));
  return 0;
}

static int
copy_dir (struct copier *c, int src_fd, int dst_fd, struct error **err)
{
  cleanup_entries struct entries e = { NULL, 0 };

  if (make_writable (c, dst_fd, err) < 0 || list_dir (c, src_fd, &e, err) < 0
      || apply_whiteouts (c, src_fd, dst_fd, &e, err) < 0)
    return -1;
  for (size_t i = 0; i < e.n; i++)
    if (e.v[i].kind == ENTRY_COPY && copy_entry (c, src_fd, dst_fd, e.v[i].name, err) < 0)
      return -1;
  return 0;
}

/* ---- layers --------------------------------------------------------------- */

static int
copy_layer (struct copier *c, const char *layer, struct error **err)
{
  cleanup_close int src = open (layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  int r;

  if (src < 0 || fstat (src, &st) < 0)
    return err_make (err, errno, "open layer \"%s\"", layer);
  c->len = 0;
  c->path[0] = '\0';
  r = copy_dir (c, src, c->root_fd, err);
  if (r == 0)
    r = set_attrs_fd (c, src, c->root_fd, &st, err);
  link_clear (&c->links);
  if (r < 0)
    return err_wrap (err, "copy layer \"%s\"", layer);
  return 0;
}

static int
start_partial (int cfd, struct error **err)
{
  if (fs_remove_tree_at (cfd, PARTIAL, err) < 0)
    return -1;
  if (mkdirat (cfd, PARTIAL, 0700) < 0)
    return err_make (err, errno, "create \"" PARTIAL "\"");
  return 0;
}

static int
copy_all (const struct storage_rootfs_req *req, int root_fd, struct error **err)
{
  struct copier c = {
    .opaque_xattr = req->is_rootless ? "user.overlay.opaque" : "trusted.overlay.opaque",
    .root_fd = root_fd,
  };
  size_t n = req->lower_dirs != NULL ? strv_len (req->lower_dirs) : 0;

  for (size_t i = n; i > 0; i--)
    if (copy_layer (&c, req->lower_dirs[i - 1], err) < 0)
      return -1;
  if (n == 0 && fchmod (root_fd, 0755) < 0)
    return err_make (err, errno, "chmod \"" PARTIAL "\"");
  return 0;
}

int
storage_rootfs_vfs_prepare (const struct storage_rootfs_req *req, struct error **err)
{
  cleanup_close int cfd = open (req->container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int root_fd = -1;
  struct stat st;

  if (cfd < 0)
    return err_make (err, errno, "open container directory \"%s\"", req->container_dir);
  if (fstatat (cfd, ROOTFS, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode))
    return 0;
  if (start_partial (cfd, err) < 0)
    return -1;
  root_fd = openat (cfd, PARTIAL, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root_fd < 0)
    return err_make (err, errno, "open \"" PARTIAL "\"");
  if (copy_all (req, root_fd, err) < 0)
    return -1;
  if (renameat (cfd, PARTIAL, cfd, ROOTFS) < 0)
    return err_make (err, errno, "rename \"" PARTIAL "\" to \"" ROOTFS "\"");
  log_debug ("vfs: copied %zu layers into \"%s/" ROOTFS "\"",
             req->lower_dirs ? strv_len (req->lower_dirs) : 0, req->container_dir);
  return 0;
}
