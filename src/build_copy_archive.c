/* ADD of a local tar archive (see build_copy_internal.h): telling one from
 * a plain file as docker does, and re-rooting its entries under the
 * destination in the layer tar.  The archive is hostile input: names are
 * cleaned and checked before anything is written. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_context.h"
#include "build_copy_internal.h"
#include "libutil/buf.h"
#include "libutil/mem.h"
#include "runtime.h"

#define ARCHIVE_READ_SIZE 65536

/* Decompressors libarchive has built in; as in storage/extract.c a filter
 * whose library is missing is not offered, since libarchive would run an
 * external program on hostile bytes. */
static const struct
{
  const char *(*version) (void);
  int (*support) (struct archive *);
} archive_filters[] = {
  { archive_zlib_version, archive_read_support_filter_gzip },
  { archive_libzstd_version, archive_read_support_filter_zstd },
  { archive_liblzma_version, archive_read_support_filter_xz },
  { archive_bzlib_version, archive_read_support_filter_bzip2 },
};

static void
archive_readerp (struct archive **a)
{
  if (*a)
    archive_read_free (*a);
}

/* A tar reader on FD, or NULL when the bytes are not a (compressed) tar. */
static struct archive *
open_tar_reader (int fd)
{
  __attribute__ ((cleanup (archive_readerp))) struct archive *a = archive_read_new ();

  for (size_t i = 0; i < sizeof archive_filters / sizeof *archive_filters; i++)
    if (archive_filters[i].version () != NULL && archive_filters[i].support (a) != ARCHIVE_OK)
      return NULL;
  if (archive_read_support_format_tar (a) != ARCHIVE_OK
      || archive_read_open_fd (a, fd, ARCHIVE_READ_SIZE) != ARCHIVE_OK)
    return NULL;
  return steal_ptr (&a);
}

/* Is the regular file SRC under the root a tar archive ADD extracts?  As
 * docker: the head must be a compressed stream or a tar, and a first tar
 * header must read. */
bool
build_copy_is_archive (int root_fd, const char *src)
{
  cleanup_close int fd = runtime_fs_open_in_root (root_fd, src, O_RDONLY | O_NOCTTY, 0);
  __attribute__ ((cleanup (archive_readerp))) struct archive *a = NULL;
  char head[512];
  struct archive_entry *e;
  ssize_t n;

  if (fd < 0)
    return false;
  n = pread (fd, head, sizeof head, 0);
  if (n <= 0 || build_context_sniff (head, (size_t) n) != BUILD_CONTEXT_TAR)
    return false;
  a = open_tar_reader (fd);
  return a != NULL && archive_read_next_header (a, &e) == ARCHIVE_OK;
}

/* An archive entry's name made safe and relative: leading "/" and "./"
 * dropped, empty and "." components removed; NULL when a ".." remains. */
static char *
safe_entry_name (const char *name)
{
  cleanup_strv char **parts = str_split (name, '/');
  char **keep = xcalloc (strv_len (parts) + 1, sizeof *keep);
  size_t n = 0;
  char *res = NULL;

  for (size_t i = 0; parts[i]; i++)
    {
      if (strcmp (parts[i], "..") == 0)
        goto out;
      if (parts[i][0] != '\0' && strcmp (parts[i], ".") != 0)
        keep[n++] = parts[i];
    }
  res = str_join (keep, "/");
out:
  free (keep);
  return res;
}

static int
cmp_tree (const void *a, const void *b)
{
  return strcmp (a, b);
}

static void
tree_free_node (void *p)
{
  free (p);
}

/* Names of one archive already written: symlinks (nothing may go below
 * them) and everything else (hard link targets). */
struct archive_names
{
  void *links;
  void *seen;
};

static bool
is_below_symlink (const struct archive_names *names, const char *rel)
{
  cleanup_free char *s = xstrdup (rel);

  for (char *slash = s; (slash = strchr (slash, '/')) != NULL; slash++)
    {
      *slash = '\0';
      if (tfind (s, &names->links, cmp_tree) != NULL)
        return true;
      *slash = '/';
    }
  return false;
}

static void
remember (void **tree, const char *name)
{
  char *copy = xstrdup (name);

  if (*(char **) tsearch (copy, tree, cmp_tree) != copy)
    free (copy);
}

/* Check one archive entry and re-root it under A's DEST_DIR in E, with
 * owner UID:GID when not -1.  1 for an entry to leave out. */
static int
reroot_entry (const struct build_copy_archive *a, long uid, long gid,
              struct archive_names *names, struct archive_entry *e, struct error **err)
{
  const char *raw = archive_entry_pathname (e) ? archive_entry_pathname (e) : "";
  cleanup_free char *rel = safe_entry_name (raw);
  cleanup_free char *arc = NULL;

  if (rel == NULL)
    return err_make (err, 0, "ADD failed: archive \"%s\": entry \"%s\" leaves the destination",
                     a->src, raw);
  if (*rel == '\0' && (archive_entry_filetype (e) != AE_IFDIR || *a->dest_dir == '\0'))
    return 1; /* "./" of the archive: only ever the destination directory */
  if (str_has_prefix (build_copy_base_name (rel), ".wh."))
    return err_make (err, 0, "ADD failed: archive \"%s\": entry \"%s\" is a whiteout name",
                     a->src, raw);
  if (is_below_symlink (names, rel))
    return err_make (err, 0, "ADD failed: archive \"%s\": entry \"%s\" is below a symlink",
                     a->src, raw);
  if (archive_entry_hardlink (e) != NULL)
    {
      cleanup_free char *target = safe_entry_name (archive_entry_hardlink (e));
      cleanup_free char *tarc = NULL;

      if (target == NULL || tfind (target, &names->seen, cmp_tree) == NULL)
        return err_make (err, 0,
                         "ADD failed: archive \"%s\": hard link \"%s\" to \"%s\" outside the "
                         "archive",
                         a->src, raw, archive_entry_hardlink (e));
      tarc = build_copy_join (a->dest_dir, target);
      archive_entry_set_hardlink (e, tarc);
      archive_entry_set_size (e, 0);
    }
  else if (archive_entry_filetype (e) == AE_IFLNK)
    remember (&names->links, rel);
  else if (archive_entry_filetype (e) == AE_IFREG)
    remember (&names->seen, rel);
  arc = build_copy_join (a->dest_dir, rel);
  archive_entry_set_pathname (e, *arc ? arc : ".");
  archive_entry_xattr_clear (e);
  archive_entry_set_uname (e, NULL);
  archive_entry_set_gname (e, NULL);
  if (uid >= 0)
    archive_entry_set_uid (e, (la_int64_t) uid);
  if (gid >= 0)
    archive_entry_set_gid (e, (la_int64_t) gid);
  return 0;
}

static bool
is_copied_type (struct archive_entry *e)
{
  mode_t t = archive_entry_filetype (e);

  return archive_entry_hardlink (e) != NULL || t == AE_IFREG || t == AE_IFDIR || t == AE_IFLNK;
}

static int
copy_entry_data (struct archive *in, struct container_tar *t, const char *src,
                 struct error **err)
{
  for (;;)
    {
      const void *buf;
      size_t len;
      la_int64_t off;
      int r = archive_read_data_block (in, &buf, &len, &off);

      if (r == ARCHIVE_EOF)
        return 0;
      if (r < ARCHIVE_WARN)
        return err_make (err, 0, "ADD failed: read archive \"%s\": %s", src,
                         archive_error_string (in));
      if (container_tar_write (t, buf, len, err) < 0)
        return -1;
    }
}

int
build_copy_write_archive (struct container_tar *t, int root_fd, const struct build_copy_archive *a,
                          long uid, long gid, struct error **err)
{
  cleanup_close int fd = runtime_fs_open_in_root (root_fd, a->src, O_RDONLY | O_NOCTTY, 0);
  __attribute__ ((cleanup (archive_readerp))) struct archive *in = NULL;
  struct archive_names names = { NULL, NULL };
  struct archive_entry *e;
  int r;

  if (fd < 0)
    return err_make (err, errno, "open \"%s\"", a->src);
  in = open_tar_reader (fd);
  if (in == NULL)
    return err_make (err, 0, "ADD failed: \"%s\" is not a readable archive", a->src);
  while ((r = archive_read_next_header (in, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      int rr;

      if (!is_copied_type (e))
        continue;
      rr = reroot_entry (a, uid, gid, &names, e, err);
      if (rr > 0)
        continue;
      if (rr < 0 || container_tar_begin_entry (t, e, err) < 0
          || (archive_entry_size (e) > 0 && archive_entry_hardlink (e) == NULL
              && copy_entry_data (in, t, a->src, err) < 0))
        {
          r = -2;
          break;
        }
    }
  tdestroy (names.links, tree_free_node);
  tdestroy (names.seen, tree_free_node);
  if (r == -2)
    return -1;
  if (r != ARCHIVE_EOF)
    return err_make (err, 0, "ADD failed: read archive \"%s\": %s", a->src,
                     archive_error_string (in) ? archive_error_string (in) : "truncated");
  return 0;
}
