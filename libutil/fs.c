/* File helpers: bounded reads, atomic writes (temporary file in the same
 * directory, fsync, rename, fsync of the directory), mkdir -p, and a
 * recursive removal that works on directory descriptors so it never follows
 * a symlink out of the tree it was asked to remove. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "mem.h"

#define READ_CHUNK 65536
#define REMOVE_PASSES 4

/* ---- reading ------------------------------------------------------------ */

static ssize_t
read_retry (int fd, void *data, size_t len)
{
  ssize_t n;

  do
    n = read (fd, data, len);
  while (n < 0 && errno == EINTR);
  return n;
}

/* Read FD to EOF into B, failing once more than MAX bytes arrive (0: no
 * limit).  Files in /proc report size 0, so the size from fstat is only a
 * hint and the limit is enforced on what is actually read. */
static int
read_all_bounded (int fd, size_t max, struct buf *b, const char *path, struct error **err)
{
  for (;;)
    {
      ssize_t n;

      if (b->cap - b->len < 2)
        buf_reserve (b, READ_CHUNK);
      n = read_retry (fd, b->data + b->len, b->cap - b->len - 1);
      if (n < 0)
        return err_make (err, errno, "read \"%s\"", path);
      if (n == 0)
        {
          b->data[b->len] = '\0'; /* also for an empty file */
          return 0;
        }
      b->len += (size_t) n;
      b->data[b->len] = '\0';
      if (max > 0 && b->len > max)
        return err_make (err, EFBIG, "read \"%s\": larger than the limit of %zu bytes", path, max);
    }
}

char *
fs_read_file_at (int dirfd, const char *path, size_t max, size_t *len, struct error **err)
{
  cleanup_close int fd = -1;
  cleanup_buf struct buf b = BUF_INIT;
  struct stat st;

  /* O_NONBLOCK so that opening a FIFO without a writer cannot hang; it is
   * cleared again below for anything but a regular file (where it means
   * nothing), so a pipe such as bash's <(...) is read to its end. */
  fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return err_make (err, errno, "open \"%s\"", path), NULL;
  if (fstat (fd, &st) < 0)
    return err_make (err, errno, "stat \"%s\"", path), NULL;
  if (S_ISDIR (st.st_mode))
    return err_make (err, EISDIR, "read \"%s\"", path), NULL;
  if (!S_ISREG (st.st_mode) && fcntl (fd, F_SETFL, 0) < 0)
    return err_make (err, errno, "read \"%s\"", path), NULL;
  if (max > 0 && S_ISREG (st.st_mode) && (uintmax_t) st.st_size > max)
    return err_make (err, EFBIG, "read \"%s\": larger than the limit of %zu bytes", path, max),
           NULL;
  if (S_ISREG (st.st_mode) && st.st_size > 0 && (uintmax_t) st.st_size < SIZE_MAX - 2)
    {
      /* Exactly the size, plus the NUL and one byte to see EOF. */
      b.cap = (size_t) st.st_size + 2;
      b.data = xmalloc (b.cap);
    }
  if (read_all_bounded (fd, max, &b, path, err) < 0)
    return NULL;
  if (len)
    *len = b.len;
  return buf_steal (&b);
}

char *
fs_read_file (const char *path, size_t max, size_t *len, struct error **err)
{
  return fs_read_file_at (AT_FDCWD, path, max, len, err);
}

/* ---- atomic writes ------------------------------------------------------ */

static ssize_t
write_retry (int fd, const void *data, size_t len)
{
  ssize_t n;

  do
    n = write (fd, data, len);
  while (n < 0 && errno == EINTR);
  return n;
}

static int
write_all (int fd, const void *data, size_t len)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = write_retry (fd, p, len);
      if (n < 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

/* 12 hex digits.  getrandom() can only fail on kernels before 3.17; the
 * clock and pid then still make a collision unlikely, and O_EXCL plus the
 * retry in open_temp() make one harmless. */
static void
random_suffix (char out[13])
{
  static unsigned counter;
  unsigned char r[6];

  if (getrandom (r, sizeof r, GRND_NONBLOCK) != (ssize_t) sizeof r)
    {
      struct timespec ts;
      uint64_t x;

      clock_gettime (CLOCK_MONOTONIC, &ts);
      x = (uint64_t) ts.tv_nsec ^ ((uint64_t) ts.tv_sec << 30) ^ ((uint64_t) getpid () << 16)
          ^ ++counter;
      for (size_t i = 0; i < sizeof r; i++)
        r[i] = (unsigned char) (x >> (8 * i));
    }
  for (size_t i = 0; i < sizeof r; i++)
    snprintf (out + 2 * i, 3, "%02x", r[i]);
}

/* The directory part of NAME ("." when it has none), and its last part. */
static char *
dir_part (const char *name)
{
  const char *slash = strrchr (name, '/');

  if (slash == NULL)
    return xstrdup (".");
  if (slash == name)
    return xstrdup ("/");
  return xstrndup (name, (size_t) (slash - name));
}

static const char *
base_part (const char *name)
{
  const char *slash = strrchr (name, '/');

  return slash ? slash + 1 : name;
}

/* Create a new temporary file next to NAME: "<dir>/.<base>.tmp-<random>".
 * The leading dot keeps it out of listings that skip hidden files. */
static int
open_temp (int dirfd, const char *name, char **tmp_name, struct error **err)
{
  cleanup_free char *dir = dir_part (name);
  const char *base = base_part (name);

  if (*base == '\0')
    return err_make (err, EISDIR, "write \"%s\"", name);
  for (int attempt = 0; attempt < 100; attempt++)
    {
      char suffix[13];
      char *tmp;
      int fd;

      random_suffix (suffix);
      /* A long BASE is cut so the name stays under NAME_MAX. */
      tmp = xasprintf ("%s/.%.200s.tmp-%s", dir, base, suffix);
      fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
      if (fd >= 0)
        {
          *tmp_name = tmp;
          return fd;
        }
      free (tmp);
      if (errno != EEXIST)
        return err_make (err, errno, "create temporary file for \"%s\"", name);
    }
  return err_make (err, EEXIST, "create temporary file for \"%s\"", name);
}

/* fsync the directory holding NAME so the rename itself is durable. */
static int
sync_dir_of (int dirfd, const char *name, struct error **err)
{
  cleanup_free char *dir = dir_part (name);
  cleanup_close int fd = openat (dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return err_make (err, errno, "open directory of \"%s\"", name);
  /* Some file systems cannot sync a directory (EINVAL); the rename has
   * happened and there is nothing better to do there. */
  if (fsync (fd) < 0 && errno != EINVAL)
    return err_make (err, errno, "sync directory of \"%s\"", name);
  return 0;
}

/* Give the temporary file FD (at TMP) MODE, make it durable when
 * IS_DURABLE, and rename it over NAME.  Consumes FD. */
static int
commit_temp (int dirfd, int fd, const char *tmp, const char *name, mode_t mode,
             bool is_durable, struct error **err)
{
  cleanup_close int owned = fd;

  /* fchmod, not the open mode, so the umask does not change MODE. */
  if (fchmod (owned, mode) < 0)
    return err_make (err, errno, "chmod \"%s\"", tmp);
  if (is_durable && fsync (owned) < 0)
    return err_make (err, errno, "sync \"%s\"", tmp);
  /* close() can report a delayed write error (NFS); a caller must know. */
  if (close (steal_fd (&owned)) < 0)
    return err_make (err, errno, "close \"%s\"", tmp);
  if (renameat (dirfd, tmp, dirfd, name) < 0)
    return err_make (err, errno, "rename \"%s\" to \"%s\"", tmp, name);
  return 0;
}

/* The write step of an atomic write: fill the temporary file. */
typedef int (*fill_fn) (int fd, const void *arg, struct error **err);

static int
write_atomic_with (int dirfd, const char *name, fill_fn fill, const void *arg, mode_t mode,
                   bool is_durable, struct error **err)
{
  cleanup_free char *tmp = NULL;
  int fd = open_temp (dirfd, name, &tmp, err);

  if (fd < 0)
    return fd;
  if (fill (fd, arg, err) < 0)
    {
      close (fd);
      goto unlink_temp;
    }
  if (commit_temp (dirfd, fd, tmp, name, mode, is_durable, err) < 0)
    goto unlink_temp;
  return is_durable ? sync_dir_of (dirfd, name, err) : 0;

unlink_temp:
  /* Never leave a half-written temporary file behind. */
  unlinkat (dirfd, tmp, 0);
  return -1;
}

struct data_arg
{
  const void *data;
  size_t len;
  const char *name;
};

static int
fill_data (int fd, const void *arg, struct error **err)
{
  const struct data_arg *d = arg;

  if (write_all (fd, d->data, d->len) < 0)
    return err_make (err, errno, "write \"%s\"", d->name);
  return 0;
}

int
fs_write_atomic_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                    struct error **err)
{
  struct data_arg d = { data, len, name };

  return write_atomic_with (dirfd, name, fill_data, &d, mode, true, err);
}

int
fs_write_atomic (const char *path, const void *data, size_t len, mode_t mode,
                 struct error **err)
{
  return fs_write_atomic_at (AT_FDCWD, path, data, len, mode, err);
}

int
fs_write_atomic_nosync_at (int dirfd, const char *name, const void *data, size_t len,
                           mode_t mode, struct error **err)
{
  struct data_arg d = { data, len, name };

  return write_atomic_with (dirfd, name, fill_data, &d, mode, false, err);
}

int
fs_write_atomic_nosync (const char *path, const void *data, size_t len, mode_t mode,
                        struct error **err)
{
  return fs_write_atomic_nosync_at (AT_FDCWD, path, data, len, mode, err);
}

/* ---- copying ------------------------------------------------------------ */

struct copy_arg
{
  int src_fd;
  const char *src;
  const char *dst;
};

static int
fill_copy (int fd, const void *arg, struct error **err)
{
  const struct copy_arg *c = arg;
  char chunk[READ_CHUNK];

  for (;;)
    {
      ssize_t n = read_retry (c->src_fd, chunk, sizeof chunk);
      if (n < 0)
        return err_make (err, errno, "read \"%s\"", c->src);
      if (n == 0)
        return 0;
      if (write_all (fd, chunk, (size_t) n) < 0)
        return err_make (err, errno, "write \"%s\"", c->dst);
    }
}

int
fs_copy_file (const char *src, const char *dst, mode_t mode, struct error **err)
{
  cleanup_close int fd = open (src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct copy_arg c = { -1, src, dst };
  struct stat st;

  if (fd < 0)
    return err_make (err, errno, "open \"%s\"", src);
  if (fstat (fd, &st) < 0)
    return err_make (err, errno, "stat \"%s\"", src);
  if (!S_ISREG (st.st_mode))
    return err_make (err, 0, "copy \"%s\": not a regular file", src);
  c.src_fd = fd;
  return write_atomic_with (AT_FDCWD, dst, fill_copy, &c, mode, true, err);
}

/* ---- mkdir -p ----------------------------------------------------------- */

static int
mkdir_one (const char *path, mode_t mode, struct error **err)
{
  struct stat st;

  if (mkdir (path, mode) == 0)
    return 0;
  if (errno != EEXIST)
    return err_make (err, errno, "mkdir \"%s\"", path);
  /* Something is there: fine when it is (or points at) a directory. */
  if (stat (path, &st) < 0)
    return err_make (err, errno, "stat \"%s\"", path);
  if (!S_ISDIR (st.st_mode))
    return err_make (err, ENOTDIR, "mkdir \"%s\"", path);
  return 0;
}

int
fs_mkdir_p (const char *path, mode_t mode, struct error **err)
{
  cleanup_free char *p = NULL;
  struct stat st;

  if (path == NULL || *path == '\0')
    return err_make (err, ENOENT, "mkdir \"\"");
  /* Most calls find the directory there already (the store and runtime
   * roots on every command): one stat instead of a mkdir and a stat per
   * component, about 50 syscalls of every `run`. */
  if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    return 0;
  p = xstrdup (path);
  for (char *s = p + 1; *s; s++)
    {
      if (*s != '/' || s[-1] == '/')
        continue;
      *s = '\0';
      if (mkdir_one (p, mode, err) < 0)
        return -1;
      *s = '/';
    }
  return mkdir_one (p, mode, err);
}

/* ---- recursive removal -------------------------------------------------- */

static int remove_entry (int parent, const char *name, struct buf *path, struct error **err);

/* Make directory NAME in PARENT accessible to its owner without following
 * a symlink: if NAME was swapped for a link meanwhile, this fails rather
 * than changing the link's target.  glibc implements AT_SYMLINK_NOFOLLOW
 * through /proc (before the fchmodat2 syscall of Linux 6.6); without /proc
 * fall back to a checked plain fchmodat(). */
static int
chmod_dir_nofollow (int parent, const char *name)
{
  struct stat st;

  if (fchmodat (parent, name, 0700, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  if (errno != EOPNOTSUPP && errno != ENOTSUP)
    return -1;
  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return -1;
  if (!S_ISDIR (st.st_mode))
    {
      errno = ENOTDIR;
      return -1;
    }
  return fchmodat (parent, name, 0700, 0);
}

/* Open directory NAME in PARENT for emptying, never through a symlink.
 * A directory we may not read or search is made accessible first: it is
 * ours to remove, and a layer can ship such directories. */
static DIR *
open_dir_nofollow (int parent, const char *name, const char *path, struct error **err)
{
  const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int fd = openat (parent, name, flags);
  DIR *d;

  if (fd < 0 && errno == EACCES)
    {
      if (chmod_dir_nofollow (parent, name) < 0)
        return err_make (err, errno, "chmod \"%s\"", path), NULL;
      fd = openat (parent, name, flags);
    }
  if (fd < 0)
    return err_make (err, errno, "open \"%s\"", path), NULL;
  d = fdopendir (fd);
  if (d == NULL)
    {
      int saved = errno;
      close (fd);
      return err_make (err, saved, "open \"%s\"", path), NULL;
    }
  return d;
}

/* Give the owner write and search permission on directory FD so its
 * entries can be unlinked. */
static int
make_dir_writable (int fd, const char *path, struct error **err)
{
  struct stat st;

  if (fstat (fd, &st) < 0)
    return err_make (err, errno, "stat \"%s\"", path);
  if ((st.st_mode & 0300) == 0300)
    return 0;
  if (fchmod (fd, (st.st_mode & 07777) | 0700) < 0)
    return err_make (err, errno, "chmod \"%s\"", path);
  return 0;
}

/* Remove every entry of D; returns how many were removed. */
static int
empty_dir (DIR *d, struct buf *path, struct error **err)
{
  int removed = 0;

  rewinddir (d);
  for (;;)
    {
      struct dirent *de;

      errno = 0;
      de = readdir (d);
      if (de == NULL)
        break;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (remove_entry (dirfd (d), de->d_name, path, err) < 0)
        return -1;
      removed++;
    }
  if (errno != 0)
    return err_make (err, errno, "read directory \"%s\"", path->data);
  return removed;
}

static int
remove_dir (int parent, const char *name, struct buf *path, struct error **err)
{
  cleanup_dir DIR *d = open_dir_nofollow (parent, name, path->data, err);

  if (d == NULL)
    return -1;
  if (make_dir_writable (dirfd (d), path->data, err) < 0)
    return -1;
  for (int pass = 1;; pass++)
    {
      int removed = empty_dir (d, path, err);

      if (removed < 0)
        return -1;
      if (unlinkat (parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
        return 0;
      /* Unlinking while reading a directory may make readdir() skip
       * entries on some file systems; go again while a pass makes
       * progress, a few times: a concurrent writer that keeps adding
       * entries wins, and we report it. */
      if (errno != ENOTEMPTY || removed == 0 || pass == REMOVE_PASSES)
        return err_make (err, errno, "remove \"%s\"", path->data);
    }
}

/* Remove NAME in directory PARENT; PATH holds the path of PARENT for
 * messages and is restored before returning. */
static int
remove_entry (int parent, const char *name, struct buf *path, struct error **err)
{
  size_t saved_len = path->len;
  int r = 0;

  if (path->len > 0 && path->data[path->len - 1] != '/')
    buf_append_char (path, '/');
  buf_append_str (path, name);
  /* Try it as a non-directory first: that is one syscall for the common
   * case, and unlinkat() removes a symlink itself, never its target. */
  if (unlinkat (parent, name, 0) < 0 && errno != ENOENT)
    {
      if (errno == EISDIR)
        r = remove_dir (parent, name, path, err);
      else
        r = err_make (err, errno, "remove \"%s\"", path->data);
    }
  buf_truncate (path, saved_len);
  return r;
}

int
fs_remove_tree_at (int dirfd, const char *name, struct error **err)
{
  cleanup_buf struct buf path = BUF_INIT;
  cleanup_free char *n = xstrdup (name);
  size_t len = strlen (n);
  const char *base;

  /* A trailing slash would make openat() follow a symlink in the last
   * component despite O_NOFOLLOW. */
  while (len > 1 && n[len - 1] == '/')
    n[--len] = '\0';
  base = base_part (n);
  if (len == 0 || strcmp (base, ".") == 0 || strcmp (base, "..") == 0 || strcmp (n, "/") == 0)
    return err_make (err, EINVAL, "refusing to remove \"%s\"", name);
  if (strchr (n, '/') == NULL)
    return remove_entry (dirfd, n, &path, err);

  /* Remove the last component inside its parent, so the parent's path is
   * resolved once and the entry itself is never followed. */
  cleanup_free char *dir = dir_part (n);
  cleanup_close int pfd = openat (dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0)
    {
      if (errno == ENOENT)
        return 0;
      return err_make (err, errno, "open \"%s\"", dir);
    }
  buf_append_str (&path, dir);
  return remove_entry (pfd, base, &path, err);
}

int
fs_remove_tree (const char *path, struct error **err)
{
  return fs_remove_tree_at (AT_FDCWD, path, err);
}

bool
fs_exists (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0;
}
