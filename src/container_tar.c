/* Tar streams of a container's files (see container_tar.h).  Each entry is
 * read relative to an open directory with O_NOFOLLOW, its header built
 * from fstat, its xattrs from the open file, its data bounded by the size
 * in the header (a file growing in a running container cannot overrun
 * it; one shrinking is padded by libarchive). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "container_fs.h"
#include "container_tar.h"
#include "libutil/mem.h"

#define TAR_MAX_DEPTH 1024
#define XATTR_LIST_MAX_BYTES (64 * 1024)
#define XATTR_VALUE_MAX_BYTES (64 * 1024)

/* statfs(2) magic numbers of file systems that are not the container's
 * files (include/uapi/linux/magic.h). */
static const long kernel_fs_magic[] = {
  0x9fa0,     /* proc */
  0x62656572, /* sysfs */
  0x1cd1,     /* devpts */
  0x27e0eb,   /* cgroup */
  0x63677270, /* cgroup2 */
  0x19800202, /* mqueue */
};

/* Overlay's bookkeeping, which must not travel into an archive. */
static const char *const private_xattr_prefixes[] = {
  "trusted.overlay.", "user.overlay.", "user.fuseoverlayfs.", "security.selinux",
};

struct container_tar
{
  struct archive *a;
  struct archive_entry_linkresolver *links;
  container_tar_sink sink;
  void *sink_arg;
  struct error *sink_error; /* what the sink said when libarchive saw -1 */
  bool is_open;
  bool is_discarding; /* freed half-written: the sink gets nothing more */
};

int
container_tar_fd_sink (void *arg, const void *buf, size_t len, struct error **err)
{
  int fd = *(int *) arg;
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "write the archive");
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

static la_ssize_t
write_cb (struct archive *a, void *data, const void *buf, size_t len)
{
  struct container_tar *t = data;

  (void) a;
  if (t->is_discarding)
    return (la_ssize_t) len;
  if (t->sink (t->sink_arg, buf, len, &t->sink_error) < 0)
    return -1;
  return (la_ssize_t) len;
}

struct container_tar *
container_tar_new (container_tar_sink sink, void *arg)
{
  struct container_tar *t = xmalloc0 (sizeof *t);

  t->sink = sink;
  t->sink_arg = arg;
  t->a = archive_write_new ();
  t->links = archive_entry_linkresolver_new ();
  if (t->a == NULL || t->links == NULL)
    abort ();
  archive_write_set_format_pax_restricted (t->a);
  archive_entry_linkresolver_set_strategy (t->links, archive_format (t->a));
  return t;
}

void
container_tar_free (struct container_tar *t)
{
  if (t == NULL)
    return;
  /* Closing (rather than archive_write_fail) releases libarchive's block
   * buffer, which archive_write_free leaks after a failure; the sink sees
   * no end-of-archive for a stream that was abandoned. */
  if (t->is_open)
    {
      t->is_discarding = true;
      archive_write_close (t->a);
    }
  archive_write_free (t->a);
  archive_entry_linkresolver_free (t->links);
  err_release (&t->sink_error);
  free (t);
}

void
container_tar_freep (struct container_tar **t)
{
  container_tar_free (*t);
  *t = NULL;
}

static int
tar_error (struct container_tar *t, const char *what, struct error **err)
{
  if (t->sink_error)
    {
      err_release (err);
      *err = steal_ptr (&t->sink_error);
      return err_wrap (err, "%s", what);
    }
  return err_make (err, archive_errno (t->a) > 0 ? archive_errno (t->a) : 0, "%s: %s", what,
                   archive_error_string (t->a) ? archive_error_string (t->a) : "failed");
}

static int
ensure_open (struct container_tar *t, struct error **err)
{
  if (t->is_open)
    return 0;
  if (archive_write_open (t->a, t, NULL, write_cb, NULL) != ARCHIVE_OK)
    return tar_error (t, "start the archive", err);
  t->is_open = true;
  return 0;
}

/* ---- one entry ----------------------------------------------------------- */

static bool
is_private_xattr (const char *name)
{
  for (size_t i = 0; i < sizeof private_xattr_prefixes / sizeof *private_xattr_prefixes; i++)
    if (strncmp (name, private_xattr_prefixes[i], strlen (private_xattr_prefixes[i])) == 0)
      return true;
  return false;
}

/* Extended attributes of the open file FD; a file system without them
 * (or a value too large to be a real attribute) is no error. */
static void
add_xattrs (struct archive_entry *e, int fd)
{
  cleanup_free char *list = xmalloc (XATTR_LIST_MAX_BYTES);
  cleanup_free char *value = xmalloc (XATTR_VALUE_MAX_BYTES);
  ssize_t n = flistxattr (fd, list, XATTR_LIST_MAX_BYTES);

  for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t) strlen (list + off) + 1)
    {
      const char *name = list + off;
      ssize_t len;

      if (is_private_xattr (name))
        continue;
      len = fgetxattr (fd, name, value, XATTR_VALUE_MAX_BYTES);
      if (len >= 0)
        archive_entry_xattr_add_entry (e, name, value, (size_t) len);
    }
}

static int
write_data (struct container_tar *t, int fd, int64_t size, const char *arcname,
            struct error **err)
{
  char buf[65536];

  while (size > 0)
    {
      ssize_t n = read (fd, buf, size < (int64_t) sizeof buf ? (size_t) size : sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "read \"%s\"", arcname);
      if (n == 0)
        break;
      if (archive_write_data (t->a, buf, (size_t) n) < 0)
        return tar_error (t, arcname, err);
      size -= n;
    }
  return 0;
}

/* The descriptor to read data and xattrs from: regular files and
 * directories only (opening a FIFO would block). */
static int
open_entry (int dirfd, const char *name, const struct stat *st)
{
  if (S_ISREG (st->st_mode))
    return openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
  if (S_ISDIR (st->st_mode))
    return openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return -1;
}

static int
fill_entry (struct archive_entry *e, int dirfd, const char *name, const struct stat *st,
            int fd, const char *arcname, struct error **err)
{
  archive_entry_copy_stat (e, st);
  archive_entry_set_pathname (e, arcname);
  if (S_ISLNK (st->st_mode))
    {
      char target[4096];
      ssize_t n = readlinkat (dirfd, name, target, sizeof target - 1);
      if (n < 0)
        return err_make (err, errno, "read symlink \"%s\"", arcname);
      target[n] = '\0';
      archive_entry_set_symlink (e, target);
    }
  if (!S_ISREG (st->st_mode))
    archive_entry_set_size (e, 0);
  if (fd >= 0)
    add_xattrs (e, fd);
  return 0;
}

/* One entry; *FD_OUT keeps a directory open for the walk below it. */
static int
add_one (struct container_tar *t, int dirfd, const char *name, const char *arcname,
         int *fd_out, struct error **err)
{
  struct archive_entry *e = archive_entry_new ();
  struct archive_entry *spare = NULL;
  cleanup_close int fd = -1;
  struct stat st;
  int r = -1;

  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      archive_entry_free (e);
      return err_make (err, errno, "stat \"%s\"", arcname);
    }
  if (S_ISSOCK (st.st_mode))
    {
      archive_entry_free (e);
      return 0;
    }
  fd = open_entry (dirfd, name, &st);
  if ((S_ISREG (st.st_mode) || S_ISDIR (st.st_mode)) && fd < 0)
    {
      archive_entry_free (e);
      return err_make (err, errno, "open \"%s\"", arcname);
    }
  if (fill_entry (e, dirfd, name, &st, fd, arcname, err) < 0)
    goto out;
  archive_entry_linkify (t->links, &e, &spare);
  if (archive_write_header (t->a, e) < ARCHIVE_WARN)
    {
      tar_error (t, arcname, err);
      goto out;
    }
  if (S_ISREG (st.st_mode) && archive_entry_hardlink (e) == NULL
      && write_data (t, fd, st.st_size, arcname, err) < 0)
    goto out;
  if (archive_write_finish_entry (t->a) < ARCHIVE_WARN)
    {
      tar_error (t, arcname, err);
      goto out;
    }
  if (fd_out && S_ISDIR (st.st_mode))
    *fd_out = steal_fd (&fd);
  r = 0;
out:
  archive_entry_free (e);
  archive_entry_free (spare);
  return r;
}

/* ---- trees --------------------------------------------------------------- */

static bool
is_kernel_fs (int fd)
{
  struct statfs fs;

  if (fstatfs (fd, &fs) < 0)
    return false;
  for (size_t i = 0; i < sizeof kernel_fs_magic / sizeof *kernel_fs_magic; i++)
    if ((long) fs.f_type == kernel_fs_magic[i])
      return true;
  return false;
}

static int
cmp_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The names in directory FD, sorted so archives are reproducible. */
static char **
list_dir (int fd, const char *arcname, struct error **err)
{
  int dup = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  char **names = xcalloc (1, sizeof *names);
  struct dirent *de;

  if (d == NULL)
    {
      int saved = errno;
      if (dup >= 0)
        close (dup);
      strv_free (names);
      err_make (err, saved, "read directory \"%s\"", arcname);
      return NULL;
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      names = strv_append (names, de->d_name);
  if (errno != 0)
    {
      strv_free (names);
      err_make (err, errno, "read directory \"%s\"", arcname);
      return NULL;
    }
  qsort (names, strv_len (names), sizeof *names, cmp_names);
  return names;
}

static int add_tree (struct container_tar *t, int dirfd, const char *name, const char *arcname,
                     bool is_entry, int depth, struct error **err);

static int
add_children (struct container_tar *t, int fd, const char *arcname, int depth,
              struct error **err)
{
  cleanup_strv char **names = NULL;

  if (depth > TAR_MAX_DEPTH)
    return err_make (err, ELOOP, "\"%s\": directories nested deeper than %d", arcname,
                     TAR_MAX_DEPTH);
  if (is_kernel_fs (fd))
    return 0;
  names = list_dir (fd, arcname, err);
  if (names == NULL)
    return -1;
  for (char **n = names; *n; n++)
    {
      cleanup_free char *child = *arcname ? xasprintf ("%s/%s", arcname, *n) : xstrdup (*n);
      if (add_tree (t, fd, *n, child, true, depth + 1, err) < 0)
        return -1;
    }
  return 0;
}

static int
add_tree (struct container_tar *t, int dirfd, const char *name, const char *arcname,
          bool is_entry, int depth, struct error **err)
{
  cleanup_close int fd = -1;

  if (is_entry)
    {
      if (add_one (t, dirfd, name, arcname, &fd, err) < 0)
        return -1;
    }
  else
    {
      fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return err_make (err, errno, "open directory \"%s\"", name);
    }
  if (fd < 0)
    return 0;
  return add_children (t, fd, arcname, depth, err);
}

int
container_tar_add (struct container_tar *t, int dirfd, const char *name, const char *arcname,
                   bool is_recursive, struct error **err)
{
  if (ensure_open (t, err) < 0)
    return -1;
  if (!is_recursive)
    return add_one (t, dirfd, name, arcname, NULL, err);
  return add_tree (t, dirfd, name, arcname, *arcname != '\0', 0, err);
}

int
container_tar_add_marker (struct container_tar *t, const char *arcname, struct error **err)
{
  struct archive_entry *e;
  int r = 0;

  if (ensure_open (t, err) < 0)
    return -1;
  e = archive_entry_new ();
  archive_entry_set_pathname (e, arcname);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0);
  archive_entry_set_uid (e, 0);
  archive_entry_set_gid (e, 0);
  archive_entry_set_size (e, 0);
  if (archive_write_header (t->a, e) < ARCHIVE_WARN
      || archive_write_finish_entry (t->a) < ARCHIVE_WARN)
    r = tar_error (t, arcname, err);
  archive_entry_free (e);
  return r;
}

int
container_tar_begin_entry (struct container_tar *t, struct archive_entry *e, struct error **err)
{
  if (ensure_open (t, err) < 0)
    return -1;
  if (archive_write_header (t->a, e) < ARCHIVE_WARN)
    return tar_error (t, archive_entry_pathname (e) ? archive_entry_pathname (e) : "entry", err);
  return 0;
}

int
container_tar_write (struct container_tar *t, const void *buf, size_t len, struct error **err)
{
  if (len > 0 && archive_write_data (t->a, buf, len) < 0)
    return tar_error (t, "write entry data", err);
  return 0;
}

int
container_tar_finish (struct container_tar *t, struct error **err)
{
  if (ensure_open (t, err) < 0)
    return -1;
  t->is_open = false;
  if (archive_write_close (t->a) != ARCHIVE_OK)
    return tar_error (t, "finish the archive", err);
  return 0;
}

/* ---- export ---------------------------------------------------------------- */

/* In the child, at the container's root. */
static int
export_child (void *arg, struct error **err)
{
  cleanup_container_tar struct container_tar *t = container_tar_new (container_tar_fd_sink,
                                                                    arg);

  if (container_tar_add (t, AT_FDCWD, "/", "", true, err) < 0)
    return -1;
  return container_tar_finish (t, err);
}

int
container_tar_export (struct skiff_context *ctx, struct container *c, int out_fd,
                      struct error **err)
{
  if (container_fs_run (ctx, c, CONTAINER_FS_ROOTFS, export_child, &out_fd, err) < 0)
    return err_wrap (err, "export container %.12s", c->id);
  return 0;
}
