/* Layer extraction: a layer blob (OCI image spec, layer.md) becomes a
 * directory tree, with whiteouts in the overlay or the aufs form, or is
 * applied in place onto the layers below it for the vfs driver.
 *
 * The archive is hostile.  Order of operations for one layer:
 *
 *  1. open_decompressed: a libarchive reader with format "raw" and the
 *     decompression filters turns the blob into the uncompressed tar stream.
 *  2. open_tar: a second reader parses that stream as tar; its read callback
 *     (read_decompressed) hashes every byte on the way, so the diff_id costs
 *     no second pass.
 *  3. extract_entry, for each entry: the name is made canonical and relative
 *     (clean_path, ".." is an error), its parent directory is opened beneath
 *     the layer root without following symlinks (enter_parent: openat2
 *     RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or one O_NOFOLLOW openat per
 *     component), and the entry is created with *at() calls relative to
 *     that descriptor only.  Whiteouts are converted here.
 *  4. drain_decompressed: the bytes after the tar's end marker are hashed
 *     too, since the diff_id covers the whole stream.
 *  5. apply_dir_fixups: directory modes and times are set last, so that a
 *     read-only directory can still be filled and writing children does not
 *     move its mtime.
 *
 * Nothing here creates namespaces or processes; the caller runs it in the
 * layer's user namespace.  A failure leaves a partial tree for the caller
 * to remove. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_OPENAT2_H
#include <linux/openat2.h>
#endif

#include <archive.h>
#include <archive_entry.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "storage/storage.h"

/* read() size on the blob: large reads keep the syscall count low on
 * layers of hundreds of megabytes. */
#define BLOB_READ_SIZE (1024 * 1024)
/* Entries in one layer.  Real layers have up to a few hundred thousand. */
#define MAX_ENTRIES (4u * 1024 * 1024)
/* xattrs on one entry; the kernel bounds names and values itself
 * (XATTR_NAME_MAX, XATTR_SIZE_MAX) and so do we, to fail early. */
#define MAX_XATTRS 256
#define XATTR_NAME_LIMIT 255
#define XATTR_VALUE_LIMIT (64 * 1024)

#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"
#define DEFAULT_OPAQUE_XATTR "trusted.overlay.opaque"

enum walk_mode
{
  WALK_OVERLAY, /* fresh directory, whiteouts as devices and xattrs */
  WALK_AUFS,    /* fresh directory, ".wh." files kept */
  WALK_APPLY,   /* onto the lower layers: whiteouts delete */
};

/* The decompressing reader the tar reader pulls from. */
struct decompressed
{
  struct archive *raw;
  struct sha256_ctx *hash;
  uint64_t size;
  bool is_eof;
  char *error; /* why the raw reader failed, for the message */
};

/* A directory whose mode and times are set after every entry is in. */
struct dir_fixup
{
  char *path; /* canonical, "" for the layer root */
  mode_t mode;
  struct timespec times[2];
};

/* Paths this layer wrote and their ancestors (apply mode), so an opaque
 * marker removes only what lower layers left.  Open addressing. */
struct pathset
{
  char **slots;
  size_t cap; /* a power of two, or 0 */
  size_t n;
};

struct extractor
{
  enum walk_mode mode;
  const struct storage_extract_opts *opts;
  const char *opaque_xattr;
  int root_fd;
  bool use_openat2;
  struct decompressed *stream;
  struct archive *tar;
  uint64_t n_entries;
  /* The parent directory of the previous entry: tar lists a directory's
   * entries together, so most entries reuse it without a lookup. */
  char parent_path[PATH_MAX];
  size_t parent_len;
  int parent_fd;
  bool is_parent_stale; /* a directory was removed since it was opened */
  struct dir_fixup *fixups;
  size_t n_fixups;
  size_t cap_fixups;
  struct pathset written;
};

/* The kernel lacks openat2 (before 5.6) or a seccomp filter refuses it;
 * remembered for the life of the process. */
static bool openat2_missing;

static void
free_archive_reader (struct archive **a)
{
  if (*a != NULL)
    archive_read_free (*a);
}

#define cleanup_archive_reader __attribute__ ((cleanup (free_archive_reader)))

/* --- the decompressed stream --------------------------------------------- */

/* Decompressors libarchive has built in.  A filter whose library is missing
 * would make libarchive run an external program on hostile bytes, so such
 * a filter is not offered at all. */
static const struct
{
  const char *name;
  const char *(*version) (void);
  int (*support) (struct archive *);
} filters[] = {
  { "gzip", archive_zlib_version, archive_read_support_filter_gzip },
  { "zstd", archive_libzstd_version, archive_read_support_filter_zstd },
  { "xz", archive_liblzma_version, archive_read_support_filter_xz },
  { "bzip2", archive_bzlib_version, archive_read_support_filter_bzip2 },
};

static int
reader_error (struct archive *a, const char *what, struct error **err)
{
  const char *msg = archive_error_string (a);

  return err_make (err, archive_errno (a) > 0 ? archive_errno (a) : 0, "%s: %s", what,
                   msg != NULL ? msg : "unknown libarchive error");
}

static int
open_decompressed (struct decompressed *d, int blob_fd, struct error **err)
{
  cleanup_archive_reader struct archive *a = archive_read_new ();
  struct archive_entry *entry;
  int r;

  for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
    if (filters[i].version () != NULL && filters[i].support (a) != ARCHIVE_OK)
      return err_make (err, 0, "enable %s decompression: %s", filters[i].name,
                       archive_error_string (a));
  /* "empty" makes a zero-byte blob an empty stream rather than an error. */
  if (archive_read_support_format_raw (a) != ARCHIVE_OK
      || archive_read_support_format_empty (a) != ARCHIVE_OK)
    return reader_error (a, "enable raw reading", err);
  if (archive_read_open_fd (a, blob_fd, BLOB_READ_SIZE) != ARCHIVE_OK)
    return reader_error (a, "read layer", err);
  r = archive_read_next_header (a, &entry);
  if (r == ARCHIVE_EOF)
    d->is_eof = true;
  else if (r < ARCHIVE_WARN)
    return reader_error (a, "read layer", err);
  d->raw = steal_ptr (&a);
  d->hash = sha256_new ();
  return 0;
}

/* Next block of decompressed bytes into *BUF; 0 at the end, -1 on error
 * (kept in D->error). */
static ssize_t
next_decompressed (struct decompressed *d, const void **buf)
{
  while (!d->is_eof)
    {
      size_t len = 0;
      la_int64_t off;
      int r = archive_read_data_block (d->raw, buf, &len, &off);

      if (r == ARCHIVE_EOF)
        {
          d->is_eof = true;
          break;
        }
      if (r < ARCHIVE_WARN)
        {
          const char *msg = archive_error_string (d->raw);

          free (d->error);
          d->error = xasprintf ("decompress layer: %s", msg != NULL ? msg : "unknown error");
          return -1;
        }
      if (len == 0)
        continue;
      sha256_update (d->hash, *buf, len);
      d->size += len;
      return (ssize_t) len;
    }
  return 0;
}

static la_ssize_t
read_decompressed (struct archive *tar, void *data, const void **buf)
{
  struct decompressed *d = data;
  ssize_t n = next_decompressed (d, buf);

  if (n < 0)
    archive_set_error (tar, EIO, "%s", d->error);
  return n;
}

static int
drain_decompressed (struct decompressed *d, struct error **err)
{
  const void *buf;
  ssize_t n;

  while ((n = next_decompressed (d, &buf)) > 0)
    ;
  if (n < 0)
    return err_make (err, EIO, "%s", d->error);
  return 0;
}

static void
free_decompressed (struct decompressed *d)
{
  if (d->raw != NULL)
    archive_read_free (d->raw);
  sha256_free (d->hash);
  free (d->error);
}

/* The tar reader over D.  Only tar: the stream is already decompressed,
 * and a decompression filter here would decompress twice.  "empty" lets a
 * zero-byte stream be an empty layer, as docker reads it. */
static struct archive *
open_tar (struct decompressed *d, struct error **err)
{
  cleanup_archive_reader struct archive *a = archive_read_new ();

  if (archive_read_support_format_tar (a) != ARCHIVE_OK
      || archive_read_support_format_empty (a) != ARCHIVE_OK)
    {
      reader_error (a, "enable tar reading", err);
      return NULL;
    }
  if (archive_read_open (a, d, NULL, read_decompressed, NULL) != ARCHIVE_OK)
    {
      if (d->error != NULL)
        err_make (err, EIO, "%s", d->error);
      else
        reader_error (a, "read layer", err);
      return NULL;
    }
  return steal_ptr (&a);
}

/* Report a failure of the tar reader: the decompressor's own error when
 * that is the cause, which says more than libarchive's echo of it. */
static int
tar_error (struct extractor *x, const char *what, struct error **err)
{
  if (x->stream->error != NULL)
    return err_make (err, EIO, "%s: %s", what, x->stream->error);
  return reader_error (x->tar, what, err);
}

/* --- the set of written paths (apply mode) ------------------------------- */

static uint64_t
hash_path (const char *s, size_t len)
{
  uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char) s[i]) * 0x100000001b3ULL;
  return h;
}

static char **
pathset_slot (const struct pathset *s, const char *p, size_t len)
{
  size_t i = hash_path (p, len) & (s->cap - 1);

  while (s->slots[i] != NULL
         && (strncmp (s->slots[i], p, len) != 0 || s->slots[i][len] != '\0'))
    i = (i + 1) & (s->cap - 1);
  return &s->slots[i];
}

static bool
pathset_has (const struct pathset *s, const char *p, size_t len)
{
  return s->cap > 0 && *pathset_slot (s, p, len) != NULL;
}

static void
pathset_grow (struct pathset *s)
{
  struct pathset bigger = { NULL, s->cap == 0 ? 256 : s->cap * 2, s->n };

  bigger.slots = xcalloc (bigger.cap, sizeof *bigger.slots);
  for (size_t i = 0; i < s->cap; i++)
    if (s->slots[i] != NULL)
      *pathset_slot (&bigger, s->slots[i], strlen (s->slots[i])) = s->slots[i];
  free (s->slots);
  *s = bigger;
}

static void
pathset_add (struct pathset *s, const char *p, size_t len)
{
  char **slot;

  if ((s->n + 1) * 2 > s->cap)
    pathset_grow (s);
  slot = pathset_slot (s, p, len);
  if (*slot != NULL)
    return;
  *slot = xstrndup (p, len);
  s->n++;
}

static void
pathset_free (struct pathset *s)
{
  for (size_t i = 0; i < s->cap; i++)
    free (s->slots[i]);
  free (s->slots);
}

/* PATH and each of its ancestors, stopping at the first already known:
 * its ancestors are known too. */
static void
mark_written (struct extractor *x, const char *path)
{
  size_t len = strlen (path);

  while (len > 0 && !pathset_has (&x->written, path, len))
    {
      pathset_add (&x->written, path, len);
      while (len > 0 && path[len - 1] != '/')
        len--;
      if (len > 0)
        len--;
    }
}

/* --- names and directories ----------------------------------------------- */

/* The canonical relative form of entry name NAME in OUT ("a/b/c", "" for
 * the root): leading "/", empty and "." components go, ".." is refused
 * even where it would stay inside, as the OCI spec and docker do. */
static int
clean_path (const char *name, char out[PATH_MAX], struct error **err)
{
  size_t total = strlen (name);
  size_t n = 0;
  const char *p = name;

  if (total >= PATH_MAX)
    return err_make (err, ENAMETOOLONG, "name of %zu bytes is too long", total);
  while (*p != '\0')
    {
      const char *end = strchrnul (p, '/');
      size_t len = (size_t) (end - p);

      if (len == 2 && p[0] == '.' && p[1] == '.')
        return err_make (err, EINVAL, "\"..\" is not allowed in a layer");
      if (len > NAME_MAX)
        return err_make (err, ENAMETOOLONG, "a component is longer than %d bytes", NAME_MAX);
      if (len > 0 && !(len == 1 && p[0] == '.'))
        {
          if (n > 0)
            out[n++] = '/';
          memcpy (out + n, p, len);
          n += len;
        }
      p = *end == '/' ? end + 1 : end;
    }
  out[n] = '\0';
  return 0;
}

#ifdef HAVE_OPENAT2_H
/* openat2 confined beneath ROOT with no symlinks: one syscall for a path
 * of any depth.  Returns -2 when the caller should walk instead: the kernel
 * does not offer openat2, or it keeps answering EAGAIN (a rename raced the
 * lookup, see openat2(2)). */
static int
openat2_beneath (int root, const char *path, int flags)
{
  struct open_how how = {
    .flags = (uint64_t) flags,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };

  for (int attempt = 0; attempt < 8; attempt++)
    {
      long fd = syscall (SYS_openat2, root, path, &how, sizeof how);

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

static int
not_a_dir_error (int errnum, const char *path, struct error **err)
{
  if (errnum == ENOENT)
    return err_make (err, errnum, "no directory \"%s\" in the layer", path);
  if (errnum == ELOOP || errnum == ENOTDIR || errnum == EXDEV)
    return err_make (err, errnum, "\"%s\" is not a directory inside the layer "
                                  "(symlinks are never followed)", path);
  return err_make (err, errnum, "open directory \"%s\"", path);
}

/* Open canonical PATH below X->root_fd one component at a time with
 * O_NOFOLLOW, creating missing directories (mode 0755, as docker does)
 * when CREATE. */
static int
walk_dirs (struct extractor *x, const char *path, bool create, struct error **err)
{
  cleanup_close int cur = -1;
  char comp[NAME_MAX + 1];
  const char *p = path;

  while (*p != '\0')
    {
      const char *end = strchrnul (p, '/');
      int dir = cur >= 0 ? cur : x->root_fd;
      int next;

      memcpy (comp, p, (size_t) (end - p));
      comp[end - p] = '\0';
      next = openat (dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 && errno == ENOENT && create)
        {
          if (mkdirat (dir, comp, 0755) < 0 && errno != EEXIST)
            return err_make (err, errno, "create directory \"%.*s\"", (int) (end - path), path);
          next = openat (dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          /* Whatever the umask says, implicit parents are 0755. */
          if (next >= 0 && fchmod (next, 0755) < 0)
            {
              int saved = errno;
              close (next);
              return err_make (err, saved, "chmod \"%.*s\"", (int) (end - path), path);
            }
        }
      if (next < 0)
        {
          int saved = errno;
          cleanup_free char *sub = xstrndup (path, (size_t) (end - path));
          return not_a_dir_error (saved, sub, err);
        }
      if (cur >= 0)
        close (cur);
      cur = next;
      p = *end == '/' ? end + 1 : end;
    }
  if (cur < 0)
    return err_make (err, EINVAL, "empty directory path");
  return steal_fd (&cur);
}

/* A read-only descriptor on directory PATH (canonical, not "") beneath the
 * layer root; no component may be a symlink. */
static int
open_dir_beneath (struct extractor *x, const char *path, bool create, struct error **err)
{
#ifdef HAVE_OPENAT2_H
  if (x->use_openat2 && !openat2_missing)
    {
      int fd = openat2_beneath (x->root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

      if (fd >= 0)
        return fd;
      if (fd == -1 && !(errno == ENOENT && create))
        return not_a_dir_error (errno, path, err);
    }
#endif
  return walk_dirs (x, path, create, err);
}

/* The descriptor of the directory holding PATH, whose parent part is its
 * first PLEN bytes; owned by X. */
static int
enter_parent (struct extractor *x, const char *path, size_t plen, struct error **err)
{
  int fd;

  if (plen == 0)
    return x->root_fd;
  if (x->parent_fd >= 0 && !x->is_parent_stale && x->parent_len == plen
      && memcmp (x->parent_path, path, plen) == 0)
    return x->parent_fd;
  x->is_parent_stale = false;
  if (x->parent_fd >= 0)
    close (x->parent_fd);
  x->parent_fd = -1;
  memcpy (x->parent_path, path, plen);
  x->parent_path[plen] = '\0';
  x->parent_len = plen;
  fd = open_dir_beneath (x, x->parent_path, true, err);
  if (fd < 0)
    return -1;
  x->parent_fd = fd;
  return fd;
}

/* Remove NAME in DIRFD, a directory with all its contents
 * (fs_remove_tree_at works on descriptors and never follows a symlink).
 * Missing is fine.  A removed directory may be an ancestor of the cached
 * parent, which is then reopened on its next use; the caller's DIRFD itself
 * is never removed, so it stays valid. */
static int
remove_at (struct extractor *x, int dirfd, const char *name, struct error **err)
{
  if (unlinkat (dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR)
    return err_make (err, errno, "remove \"%s\"", name);
  x->is_parent_stale = true;
  return fs_remove_tree_at (dirfd, name, err);
}

/* Make NAME in DIRFD free for a new entry: whatever is there goes. */
static int
make_room (struct extractor *x, int dirfd, const char *name, const char *path,
           struct error **err)
{
  if (remove_at (x, dirfd, name, err) < 0)
    return err_wrap (err, "replace \"%s\"", path);
  return 0;
}

/* --- metadata ------------------------------------------------------------ */

static long
clamp_nsec (long nsec)
{
  return nsec >= 0 && nsec < 1000000000L ? nsec : 0;
}

/* atime and mtime of the entry; an unset mtime leaves the file's own, an
 * unset atime follows the mtime. */
static void
entry_times (struct archive_entry *e, struct timespec ts[2])
{
  ts[1].tv_sec = 0;
  ts[1].tv_nsec = UTIME_OMIT;
  if (archive_entry_mtime_is_set (e))
    {
      ts[1].tv_sec = archive_entry_mtime (e);
      ts[1].tv_nsec = clamp_nsec (archive_entry_mtime_nsec (e));
    }
  ts[0] = ts[1];
  if (archive_entry_atime_is_set (e))
    {
      ts[0].tv_sec = archive_entry_atime (e);
      ts[0].tv_nsec = clamp_nsec (archive_entry_atime_nsec (e));
    }
}

static int
entry_owner (struct archive_entry *e, const char *path, uid_t *uid, gid_t *gid,
             struct error **err)
{
  la_int64_t u = archive_entry_uid (e);
  la_int64_t g = archive_entry_gid (e);

  /* (uid_t) -1 would mean "leave unchanged" to chown. */
  if (u < 0 || u >= UINT32_MAX || g < 0 || g >= UINT32_MAX)
    return err_make (err, EINVAL, "entry \"%s\": owner %" PRId64 ":%" PRId64 " out of range",
                     path, (int64_t) u, (int64_t) g);
  *uid = (uid_t) u;
  *gid = (gid_t) g;
  return 0;
}

/* chown the new entry, through FD when >= 0, else NAME in DIRFD without
 * following it.  In a single-ID namespace the kernel refuses IDs it does
 * not map, and the entry stays the caller's: root in the namespace. */
static int
set_owner (struct extractor *x, struct archive_entry *e, int fd, int dirfd, const char *name,
           const char *path, struct error **err)
{
  uid_t uid = 0;
  gid_t gid = 0;
  int r;

  if (entry_owner (e, path, &uid, &gid, err) < 0)
    return -1;
  if (fd >= 0)
    r = fchown (fd, uid, gid);
  else
    r = fchownat (dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
  if (r == 0)
    return 0;
  if ((errno == EINVAL || errno == EPERM) && x->opts->is_rootless_single_id)
    return 0;
  return err_make (err, errno, "chown \"%s\" to %u:%u", path, (unsigned) uid, (unsigned) gid);
}

/* Which image xattrs land on disk.  overlay's own ("trusted.overlay.*", and
 * "user.overlay.*" under userxattr) would let an image forge whiteouts,
 * opaque dirs or redirects for the mount; security.* other than file
 * capabilities describes the build host, not the image. */
static bool
xattr_allowed (struct extractor *x, const char *key)
{
  static const char *const refused[] = { "trusted.overlay.", "user.overlay.",
                                         "user.fuseoverlayfs." };

  if (strcmp (key, x->opaque_xattr) == 0)
    return false;
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    if (str_has_prefix (key, refused[i]))
      return false;
  return str_has_prefix (key, "user.") || str_has_prefix (key, "trusted.")
         || strcmp (key, "security.capability") == 0;
}

static int
set_one_xattr (int fd, int dirfd, const char *name, const char *key, const void *value,
               size_t size)
{
  char proc[64 + NAME_MAX];

  if (fd >= 0)
    return fsetxattr (fd, key, value, size, 0);
  /* Symlinks and special files have no descriptor to set them on; the
   * /proc path resolves DIRFD itself, and lsetxattr does not follow NAME. */
  snprintf (proc, sizeof proc, "/proc/self/fd/%d/%s", dirfd, name);
  return lsetxattr (proc, key, value, size, 0);
}

/* The entry's xattrs, on FD when >= 0, else on NAME in DIRFD.  Where the
 * file system or our privilege does not allow one (EPERM, ENOTSUP: trusted.*
 * without real root, user.* on a symlink or on tmpfs before 6.6) it is left
 * out, as podman does. */
static int
set_xattrs (struct extractor *x, struct archive_entry *e, int fd, int dirfd, const char *name,
            const char *path, struct error **err)
{
  int count = archive_entry_xattr_reset (e);
  const char *key;
  const void *value;
  size_t size;

  if (count > MAX_XATTRS)
    return err_make (err, E2BIG, "entry \"%s\": %d xattrs, at most %d allowed", path, count,
                     MAX_XATTRS);
  while (archive_entry_xattr_next (e, &key, &value, &size) == ARCHIVE_OK)
    {
      if (key == NULL || strlen (key) > XATTR_NAME_LIMIT || size > XATTR_VALUE_LIMIT)
        return err_make (err, E2BIG, "entry \"%s\": xattr name or value too long", path);
      if (!xattr_allowed (x, key))
        {
          log_debug ("layer entry \"%s\": xattr \"%s\" not applied", path, key);
          continue;
        }
      if (set_one_xattr (fd, dirfd, name, key, value, size) == 0)
        continue;
      if (errno == EPERM || errno == ENOTSUP)
        {
          log_debug ("layer entry \"%s\": xattr \"%s\" not allowed here: %s", path, key,
                     strerror (errno));
          continue;
        }
      return err_make (err, errno, "set xattr \"%s\" on \"%s\"", key, path);
    }
  return 0;
}

/* Owner, mode, xattrs and times of a new regular file, in that order:
 * chown clears setuid bits and file capabilities. */
static int
finish_file (struct extractor *x, struct archive_entry *e, int fd, const char *path,
             struct error **err)
{
  struct timespec ts[2];

  if (set_owner (x, e, fd, -1, NULL, path, err) < 0)
    return -1;
  if (fchmod (fd, archive_entry_perm (e) & 07777) < 0)
    return err_make (err, errno, "chmod \"%s\"", path);
  if (set_xattrs (x, e, fd, -1, NULL, path, err) < 0)
    return -1;
  entry_times (e, ts);
  if (futimens (fd, ts) < 0)
    return err_make (err, errno, "set times of \"%s\"", path);
  return 0;
}

/* The same for an entry without a descriptor of its own (symlink, fifo),
 * by NAME in DIRFD.  We made NAME a moment ago in a directory only
 * this walk writes, so it is the node we made; symlinks get no chmod. */
static int
finish_node (struct extractor *x, struct archive_entry *e, int dirfd, const char *name,
             const char *path, bool is_symlink, struct error **err)
{
  struct timespec ts[2];

  if (set_owner (x, e, -1, dirfd, name, path, err) < 0)
    return -1;
  if (!is_symlink && fchmodat (dirfd, name, archive_entry_perm (e) & 07777, 0) < 0)
    return err_make (err, errno, "chmod \"%s\"", path);
  if (set_xattrs (x, e, -1, dirfd, name, path, err) < 0)
    return -1;
  entry_times (e, ts);
  if (utimensat (dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return err_make (err, errno, "set times of \"%s\"", path);
  return 0;
}

static void
add_dir_fixup (struct extractor *x, struct archive_entry *e, const char *path)
{
  struct dir_fixup *f;

  if (x->n_fixups == x->cap_fixups)
    {
      x->cap_fixups = x->cap_fixups == 0 ? 64 : x->cap_fixups * 2;
      x->fixups = xrealloc (x->fixups, x->cap_fixups * sizeof *x->fixups);
    }
  f = &x->fixups[x->n_fixups++];
  f->path = xstrdup (path);
  f->mode = archive_entry_perm (e) & 07777;
  entry_times (e, f->times);
}

/* The errors of opening a directory that a later entry removed or
 * replaced with a file or a symlink. */
static bool
is_vanished_dir (int errnum)
{
  return errnum == ENOENT || errnum == ENOTDIR || errnum == ELOOP || errnum == EXDEV;
}

/* Mode and times of every directory entry, in tar order so a repeated
 * entry's last word wins.  A directory that a later entry replaced is
 * gone or no longer a directory, and is skipped. */
static int
apply_dir_fixups (struct extractor *x, struct error **err)
{
  for (size_t i = 0; i < x->n_fixups; i++)
    {
      struct dir_fixup *f = &x->fixups[i];
      cleanup_close int fd = -1;
      int dfd = x->root_fd;

      if (f->path[0] != '\0')
        {
          cleanup_error struct error *open_err = NULL;

          fd = open_dir_beneath (x, f->path, false, &open_err);
          if (fd < 0 && is_vanished_dir (open_err->errnum))
            {
              log_debug ("layer directory \"%s\" replaced later, its mode is not set", f->path);
              continue;
            }
          if (fd < 0)
            return err_make (err, open_err->errnum, "%s", open_err->msg);
          dfd = fd;
        }
      if (fchmod (dfd, f->mode) < 0)
        return err_make (err, errno, "chmod \"%s\"", f->path[0] ? f->path : "/");
      if (futimens (dfd, f->times) < 0)
        return err_make (err, errno, "set times of \"%s\"", f->path[0] ? f->path : "/");
    }
  return 0;
}

/* --- entries ------------------------------------------------------------- */

static int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

/* Copy the entry's data into FD.  Blocks come straight from the tar
 * reader's buffer; a gap between them is a hole of a sparse file. */
static int
write_data (struct extractor *x, struct archive_entry *e, int fd, const char *path,
            struct error **err)
{
  la_int64_t size = archive_entry_size (e);
  la_int64_t pos = 0;

  for (;;)
    {
      const void *buf;
      size_t len;
      la_int64_t off;
      int r = archive_read_data_block (x->tar, &buf, &len, &off);

      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return tar_error (x, path, err);
      if (off != pos && lseek (fd, off, SEEK_SET) < 0)
        return err_make (err, errno, "seek in \"%s\"", path);
      if (write_all (fd, buf, len) < 0)
        return err_make (err, errno, "write \"%s\"", path);
      pos = off + (la_int64_t) len;
    }
  if (pos < size && ftruncate (fd, size) < 0)
    return err_make (err, errno, "extend \"%s\"", path);
  return 0;
}

static int
extract_file (struct extractor *x, struct archive_entry *e, int dirfd, const char *name,
              const char *path, struct error **err)
{
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  cleanup_close int fd = openat (dirfd, name, flags, 0600);

  if (fd < 0 && errno == EEXIST)
    {
      if (make_room (x, dirfd, name, path, err) < 0)
        return -1;
      fd = openat (dirfd, name, flags, 0600);
    }
  if (fd < 0)
    return err_make (err, errno, "create \"%s\"", path);
  if (write_data (x, e, fd, path, err) < 0)
    return -1;
  return finish_file (x, e, fd, path, err);
}

/* A directory entry over an existing directory keeps it and its contents
 * and only takes the new metadata; anything else there is replaced. */
static int
extract_dir (struct extractor *x, struct archive_entry *e, int dirfd, const char *name,
             const char *path, struct error **err)
{
  if (mkdirat (dirfd, name, 0700) < 0)
    {
      struct stat st;

      if (errno != EEXIST)
        return err_make (err, errno, "create directory \"%s\"", path);
      if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return err_make (err, errno, "stat \"%s\"", path);
      if (!S_ISDIR (st.st_mode))
        {
          if (make_room (x, dirfd, name, path, err) < 0)
            return -1;
          if (mkdirat (dirfd, name, 0700) < 0)
            return err_make (err, errno, "create directory \"%s\"", path);
        }
    }
  if (set_owner (x, e, -1, dirfd, name, path, err) < 0)
    return -1;
  if (archive_entry_xattr_count (e) > 0)
    {
      cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

      if (fd < 0)
        return err_make (err, errno, "open directory \"%s\"", path);
      if (set_xattrs (x, e, fd, -1, NULL, path, err) < 0)
        return -1;
    }
  add_dir_fixup (x, e, path);
  return 0;
}

/* A symlink is stored, never followed: its target may name anything. */
static int
extract_symlink (struct extractor *x, struct archive_entry *e, int dirfd, const char *name,
                 const char *path, struct error **err)
{
  const char *target = archive_entry_symlink (e);
  int r;

  if (target == NULL || target[0] == '\0' || strlen (target) >= PATH_MAX)
    return err_make (err, EINVAL, "symlink \"%s\": missing or too long target", path);
  r = symlinkat (target, dirfd, name);
  if (r < 0 && errno == EEXIST)
    {
      if (make_room (x, dirfd, name, path, err) < 0)
        return -1;
      r = symlinkat (target, dirfd, name);
    }
  if (r < 0)
    return err_make (err, errno, "create symlink \"%s\"", path);
  return finish_node (x, e, dirfd, name, path, true, err);
}

/* A hardlink within the layer.  Its target resolves beneath the root like
 * any entry (so no ".." and no symlink on the way); linkat without
 * AT_SYMLINK_FOLLOW links a symlink itself, never what it points to.  The
 * inode already has its metadata from the target's entry. */
static int
extract_hardlink (struct extractor *x, struct archive_entry *e, int dirfd, const char *name,
                  const char *path, struct error **err)
{
  char target[PATH_MAX];
  cleanup_close int own_fd = -1;
  const char *tname;
  int tdir;
  int r;

  if (clean_path (archive_entry_hardlink (e), target, err) < 0)
    return err_wrap (err, "hardlink \"%s\" to \"%.256s\"", path, archive_entry_hardlink (e));
  if (target[0] == '\0')
    return err_make (err, EINVAL, "hardlink \"%s\" to the layer root", path);
  if (strcmp (target, path) == 0)
    return 0;
  tname = strrchr (target, '/');
  if (tname == NULL)
    {
      tname = target;
      tdir = x->root_fd;
    }
  else if ((size_t) (tname - target) == x->parent_len && x->parent_fd == dirfd
           && memcmp (target, x->parent_path, x->parent_len) == 0)
    {
      tdir = dirfd;
      tname++;
    }
  else
    {
      char tparent[PATH_MAX];

      memcpy (tparent, target, (size_t) (tname - target));
      tparent[tname - target] = '\0';
      own_fd = open_dir_beneath (x, tparent, false, err);
      if (own_fd < 0)
        return err_wrap (err, "hardlink \"%s\" to \"%s\"", path, target);
      tdir = own_fd;
      tname++;
    }
  r = linkat (tdir, tname, dirfd, name, 0);
  if (r < 0 && errno == EEXIST)
    {
      if (make_room (x, dirfd, name, path, err) < 0)
        return -1;
      r = linkat (tdir, tname, dirfd, name, 0);
    }
  if (r < 0 && errno == ENOENT)
    return err_make (err, errno, "hardlink \"%s\": no \"%s\" earlier in the layer", path,
                     target);
  if (r < 0)
    return err_make (err, errno, "hardlink \"%s\" to \"%s\"", path, target);
  return 0;
}

static int
extract_fifo (struct extractor *x, struct archive_entry *e, int dirfd, const char *name,
              const char *path, struct error **err)
{
  int r = mkfifoat (dirfd, name, 0600);

  if (r < 0 && errno == EEXIST)
    {
      if (make_room (x, dirfd, name, path, err) < 0)
        return -1;
      r = mkfifoat (dirfd, name, 0600);
    }
  if (r < 0)
    return err_make (err, errno, "create fifo \"%s\"", path);
  return finish_node (x, e, dirfd, name, path, false, err);
}

/* Device nodes are never made, even as real root where mknod would work:
 * the runtime gives containers their /dev, and a node an image ships (a
 * disk, /dev/mem) would reach the host's hardware wherever the layer is
 * mounted without nodev.  What was there before goes, as the entry says. */
static int
skip_device (struct extractor *x, int dirfd, const char *name, const char *path,
             struct error **err)
{
  log_debug ("layer entry \"%s\": device node skipped", path);
  return make_room (x, dirfd, name, path, err);
}

/* "./" and the like: the layer root itself, which keeps its place and
 * takes the entry's metadata. */
static int
extract_root (struct extractor *x, struct archive_entry *e, struct error **err)
{
  if (archive_entry_hardlink (e) != NULL || archive_entry_filetype (e) != AE_IFDIR)
    return err_make (err, EINVAL, "entry \"%s\" would replace the layer root",
                     archive_entry_pathname (e));
  if (set_owner (x, e, x->root_fd, -1, NULL, "/", err) < 0)
    return -1;
  if (set_xattrs (x, e, x->root_fd, -1, NULL, "/", err) < 0)
    return -1;
  add_dir_fixup (x, e, "");
  return 0;
}

/* --- whiteouts ----------------------------------------------------------- */

/* The overlay form of ".wh.NAME": a char device 0:0 NAME.  Unprivileged
 * users may make it in a user namespace since Linux 5.8. */
static int
write_whiteout_device (struct extractor *x, int dirfd, const char *name, const char *path, struct error **err)
{
  int r = mknodat (dirfd, name, S_IFCHR, makedev (0, 0));

  if (r < 0 && errno == EEXIST)
    {
      if (make_room (x, dirfd, name, path, err) < 0)
        return -1;
      r = mknodat (dirfd, name, S_IFCHR, makedev (0, 0));
    }
  if (r < 0 && errno == EPERM)
    return err_make (err, errno, "create whiteout \"%s\": this kernel (before 5.8?) does not "
                     "allow whiteout devices here; use the fuse-overlayfs or vfs storage driver",
                     path);
  if (r < 0)
    return err_make (err, errno, "create whiteout \"%s\"", path);
  return 0;
}

static int
set_opaque_xattr (struct extractor *x, int dirfd, const char *dir, struct error **err)
{
  if (fsetxattr (dirfd, x->opaque_xattr, "y", 1, 0) < 0)
    return err_make (err, errno, "mark directory \"%s\" opaque with xattr \"%s\"",
                     dir[0] ? dir : "/", x->opaque_xattr);
  return 0;
}

static bool
is_dir_at (int dirfd, const char *name)
{
  struct stat st;

  return fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
}

static char **
list_dir (int dirfd, const char *path, struct error **err)
{
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  size_t n = 0;
  size_t cap = 16;
  char **names = xcalloc (cap, sizeof *names);
  struct dirent *de;

  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      strv_free (names);
      err_make (err, saved, "read directory \"%s\"", path[0] ? path : "/");
      return NULL;
    }
  /* strv_append() would rescan the vector on every name. */
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (n + 1 >= cap)
        {
          cap *= 2;
          names = xrealloc (names, cap * sizeof *names);
        }
      names[n++] = xstrdup (de->d_name);
      names[n] = NULL;
    }
  if (errno != 0)
    {
      strv_free (names);
      err_make (err, errno, "read directory \"%s\"", path[0] ? path : "/");
      return NULL;
    }
  return names;
}

/* Apply mode, ".wh..wh..opq" in directory PATH (open as DIRFD): remove
 * every child that this layer did not write, and recurse into the
 * directories it did, since they hide their lower contents too.  PATH is a
 * PATH_MAX buffer, extended in place and restored. */
static int
prune_opaque (struct extractor *x, int dirfd, char *path, struct error **err)
{
  size_t len = strlen (path);
  cleanup_strv char **names = list_dir (dirfd, path, err);

  if (names == NULL)
    return -1;
  for (char **n = names; *n != NULL; n++)
    {
      size_t nlen = strlen (*n);
      size_t clen = len + (len > 0) + nlen;
      bool is_ours = false;
      int r = 0;

      if (clen < PATH_MAX)
        {
          if (len > 0)
            path[len] = '/';
          memcpy (path + len + (len > 0), *n, nlen + 1);
          is_ours = pathset_has (&x->written, path, clen);
        }
      if (is_ours && is_dir_at (dirfd, *n))
        {
          cleanup_close int sub = openat (dirfd, *n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                                                         | O_CLOEXEC);
          r = sub < 0 ? err_make (err, errno, "open directory \"%s\"", path)
                      : prune_opaque (x, sub, path, err);
        }
      path[len] = '\0';
      if (r < 0)
        return -1;
      if (!is_ours && remove_at (x, dirfd, *n, err) < 0)
        return err_wrap (err, "opaque directory \"%s\"", path[0] ? path : "/");
    }
  return 0;
}

/* ".wh.NAME" and ".wh..wh..opq" in the directory DIRFD (at DIR, the
 * canonical parent path), in the walk's mode. */
static int
extract_whiteout (struct extractor *x, int dirfd, const char *dir, const char *base,
                  const char *path, struct error **err)
{
  const char *name = base + strlen (WH_PREFIX);

  if (strcmp (base, WH_OPAQUE) == 0)
    {
      char buf[PATH_MAX];

      if (x->mode == WALK_OVERLAY)
        return set_opaque_xattr (x, dirfd, dir, err);
      memcpy (buf, dir, strlen (dir) + 1);
      return prune_opaque (x, dirfd, buf, err);
    }
  /* aufs's own bookkeeping (".wh..wh.plnk", ".wh..wh.aufs"), which docker
   * skips as well. */
  if (str_has_prefix (base, WH_META_PREFIX))
    {
      log_debug ("layer entry \"%s\": aufs metadata skipped", path);
      return 0;
    }
  if (name[0] == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return err_make (err, EINVAL, "whiteout \"%s\" names no entry", path);
  if (x->mode == WALK_OVERLAY)
    return write_whiteout_device (x, dirfd, name, path, err);
  if (remove_at (x, dirfd, name, err) < 0)
    return err_wrap (err, "whiteout \"%s\"", path);
  return 0;
}

/* --- the walk ------------------------------------------------------------ */

static int
extract_typed (struct extractor *x, struct archive_entry *e, int dirfd, const char *name,
               const char *path, struct error **err)
{
  if (archive_entry_hardlink (e) != NULL)
    return extract_hardlink (x, e, dirfd, name, path, err);
  switch (archive_entry_filetype (e))
    {
    case AE_IFREG:
      return extract_file (x, e, dirfd, name, path, err);
    case AE_IFDIR:
      return extract_dir (x, e, dirfd, name, path, err);
    case AE_IFLNK:
      return extract_symlink (x, e, dirfd, name, path, err);
    case AE_IFIFO:
      return extract_fifo (x, e, dirfd, name, path, err);
    case AE_IFCHR:
    case AE_IFBLK:
      return skip_device (x, dirfd, name, path, err);
    case AE_IFSOCK:
      log_debug ("layer entry \"%s\": socket skipped", path);
      return 0;
    default:
      return err_make (err, EINVAL, "entry \"%s\" has unknown file type 0%o", path,
                       (unsigned) archive_entry_filetype (e));
    }
}

static int
extract_entry (struct extractor *x, struct archive_entry *e, struct error **err)
{
  const char *raw = archive_entry_pathname (e);
  char path[PATH_MAX];
  const char *slash;
  const char *base;
  size_t plen;
  int dirfd;

  if (raw == NULL)
    return err_make (err, EINVAL, "entry %" PRIu64 " has no usable name", x->n_entries);
  if (clean_path (raw, path, err) < 0)
    return err_wrap (err, "entry \"%.256s\"", raw);
  if (path[0] == '\0')
    return extract_root (x, e, err);
  slash = strrchr (path, '/');
  base = slash != NULL ? slash + 1 : path;
  plen = slash != NULL ? (size_t) (slash - path) : 0;
  dirfd = enter_parent (x, path, plen, err);
  if (dirfd < 0)
    return err_wrap (err, "entry \"%s\"", path);
  if (x->mode != WALK_AUFS && str_has_prefix (base, WH_PREFIX))
    {
      char dir[PATH_MAX];

      memcpy (dir, path, plen);
      dir[plen] = '\0';
      return extract_whiteout (x, dirfd, dir, base, path, err);
    }
  if (extract_typed (x, e, dirfd, base, path, err) < 0)
    return -1;
  if (x->mode == WALK_APPLY)
    mark_written (x, path);
  return 0;
}

static void
free_extractor (struct extractor *x)
{
  if (x->parent_fd >= 0)
    close (x->parent_fd);
  for (size_t i = 0; i < x->n_fixups; i++)
    free (x->fixups[i].path);
  free (x->fixups);
  pathset_free (&x->written);
}

static int
walk_entries (struct extractor *x, struct error **err)
{
  for (;;)
    {
      struct archive_entry *e;
      int r = archive_read_next_header (x->tar, &e);

      if (r == ARCHIVE_EOF)
        return 0;
      /* ARCHIVE_WARN is a name libarchive could not convert to the locale;
       * it keeps the bytes, which is what a file name on Linux is.
       * ARCHIVE_RETRY is a damaged header: an error for a layer. */
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return tar_error (x, "read layer", err);
      if (++x->n_entries > MAX_ENTRIES)
        return err_make (err, E2BIG, "layer has more than %u entries", MAX_ENTRIES);
      if (extract_entry (x, e, err) < 0)
        return -1;
    }
}

static long
elapsed_ms (const struct timespec *since)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static int
walk_layer (int blob_fd, int root_fd, enum walk_mode mode,
            const struct storage_extract_opts *opts, struct storage_extract_result *res,
            struct error **err)
{
  /* Declared in this order so that scope exit frees the tar reader before
   * the raw reader it pulls from. */
  __attribute__ ((cleanup (free_decompressed))) struct decompressed stream = { 0 };
  __attribute__ ((cleanup (free_extractor))) struct extractor x = {
    .mode = mode,
    .opts = opts,
    .opaque_xattr = opts->opaque_xattr != NULL ? opts->opaque_xattr : DEFAULT_OPAQUE_XATTR,
    .root_fd = root_fd,
    .use_openat2 = getenv ("SKIFF_NO_OPENAT2") == NULL,
    .stream = &stream,
    .parent_fd = -1,
  };
  cleanup_archive_reader struct archive *tar = NULL;
  char hex[SHA256_HEX_LEN + 1];
  struct timespec start;

  clock_gettime (CLOCK_MONOTONIC, &start);
  if (open_decompressed (&stream, blob_fd, err) < 0)
    return -1;
  tar = open_tar (&stream, err);
  if (tar == NULL)
    return -1;
  x.tar = tar;
  if (walk_entries (&x, err) < 0 || drain_decompressed (&stream, err) < 0
      || apply_dir_fixups (&x, err) < 0)
    return -1;
  sha256_final_hex (stream.hash, hex);
  snprintf (res->diff_id, sizeof res->diff_id, "sha256:%s", hex);
  res->size = stream.size;
  res->n_entries = x.n_entries;
  log_debug ("layer %s: %" PRIu64 " entries, %" PRIu64 " bytes extracted in %ld ms",
             res->diff_id, x.n_entries, stream.size, elapsed_ms (&start));
  return 0;
}

/* Whether whiteout devices and the opaque xattr can be made in ROOT_FD,
 * tried on scratch entries that are removed again. */
static bool
can_write_overlay_whiteouts (int root_fd, const char *opaque_xattr)
{
  static const char probe[] = ".skiff-whiteout-probe";
  bool ok;

  if (getenv ("SKIFF_NO_OVERLAY_WHITEOUTS") != NULL)
    return false;
  if (mknodat (root_fd, probe, S_IFCHR, makedev (0, 0)) < 0)
    return false;
  unlinkat (root_fd, probe, 0);
  if (mkdirat (root_fd, probe, 0700) < 0)
    return false;
  {
    cleanup_close int fd = openat (root_fd, probe, O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                                                      | O_CLOEXEC);
    ok = fd >= 0 && fsetxattr (fd, opaque_xattr, "y", 1, 0) == 0;
  }
  unlinkat (root_fd, probe, AT_REMOVEDIR);
  return ok;
}

int
storage_extract_layer (int blob_fd, int dest_dirfd, const struct storage_extract_opts *opts,
                       struct storage_extract_result *res, struct error **err)
{
  static const struct storage_extract_opts defaults = { .whiteouts = WHITEOUT_OVERLAY };
  enum walk_mode mode;

  if (opts == NULL)
    opts = &defaults;
  mode = opts->whiteouts == WHITEOUT_AUFS ? WALK_AUFS : WALK_OVERLAY;
  if (mode == WALK_OVERLAY && opts->can_fallback_aufs
      && !can_write_overlay_whiteouts (dest_dirfd, opts->opaque_xattr != NULL
                                                       ? opts->opaque_xattr
                                                       : DEFAULT_OPAQUE_XATTR))
    {
      log_debug ("whiteout devices or opaque xattrs not allowed here: layer uses .wh. files");
      mode = WALK_AUFS;
    }
  if (walk_layer (blob_fd, dest_dirfd, mode, opts, res, err) < 0)
    return -1;
  res->whiteouts = mode == WALK_AUFS ? WHITEOUT_AUFS : WHITEOUT_OVERLAY;
  return 0;
}

int
storage_apply_layer (int blob_fd, int dest_dirfd, const struct storage_extract_opts *opts,
                     struct storage_extract_result *res, struct error **err)
{
  static const struct storage_extract_opts defaults = { .whiteouts = WHITEOUT_AUFS };

  if (opts == NULL)
    opts = &defaults;
  if (walk_layer (blob_fd, dest_dirfd, WALK_APPLY, opts, res, err) < 0)
    return -1;
  res->whiteouts = opts->whiteouts;
  return 0;
}
