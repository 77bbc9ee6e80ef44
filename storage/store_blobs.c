/* Blobs: content by digest in blobs/sha256/<hex>.  A blob is written in
 * tmp/ and counts once it has been synced and renamed into place under a
 * digest that was verified while it was written. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libutil/fs.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "storage/storage.h"
#include "storage/store_internal.h"

struct storage_blob_stage
{
  int tmp_fd; /* our own copy of tmp/, so the stage may outlive the handle */
  int fd;     /* the staging file; its flock tells repair we are alive */
  char *name; /* in tmp/ */
  char *path;
  bool is_committed;
};

static const char *
require_hex (const char *digest, struct error **err)
{
  const char *hex = store_digest_hex (digest);

  if (hex == NULL)
    err_make (err, EINVAL, "invalid blob digest \"%s\": expected sha256:<64 hex digits>",
              digest ? digest : "");
  return hex;
}

char *
storage_blob_path (const struct storage_store *s, const char *digest, struct error **err)
{
  const char *hex = require_hex (digest, err);

  if (hex == NULL)
    return NULL;
  return xasprintf ("%s/blobs/sha256/%s", s->root, hex);
}

bool
storage_blob_exists (const struct storage_store *s, const char *digest)
{
  const char *hex = store_digest_hex (digest);
  struct stat st;

  if (hex == NULL)
    return false;
  return fstatat (s->blobs_fd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
}

int
storage_blob_claim (struct storage_store *s, const char *digest, struct error **err)
{
  cleanup_close int lk = -1;

  if (require_hex (digest, err) == NULL)
    return -1;
  /* Under the lock, so a delete cannot slip between the check and the
   * lease. */
  if (store_hold_lock (s, false, &lk, err) < 0)
    return -1;
  if (!storage_blob_exists (s, digest))
    return 0;
  if (store_lease_record (s, digest, err) < 0)
    return -1;
  return 1;
}

int
storage_blob_open (const struct storage_store *s, const char *digest, struct error **err)
{
  const char *hex = require_hex (digest, err);
  int fd;

  if (hex == NULL)
    return -1;
  fd = openat (s->blobs_fd, hex, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0)
    return err_make (err, errno, "open blob %s", digest);
  return fd;
}

char *
storage_blob_read (const struct storage_store *s, const char *digest, size_t max, size_t *len,
                   struct error **err)
{
  const char *hex = require_hex (digest, err);
  cleanup_free char *data = NULL;
  char got[SHA256_HEX_LEN + 1];
  size_t n = 0;

  if (hex == NULL)
    return NULL;
  data = fs_read_file_at (s->blobs_fd, hex, max, &n, err);
  if (data == NULL)
    return err_wrap (err, "read blob %s", digest), NULL;
  sha256_buf_hex (data, n, got);
  if (strcmp (got, hex) != 0)
    return err_make (err, 0, "blob %s is corrupt (its content hashes to sha256:%s): remove "
                     "the image and pull it again", digest, got),
           NULL;
  if (len)
    *len = n;
  return steal_ptr (&data);
}

/* ---- staging ------------------------------------------------------------ */

static int
create_stage_file (struct storage_store *s, char **name, struct error **err)
{
  for (int attempt = 0; attempt < 100; attempt++)
    {
      cleanup_free char *n = store_tmp_name (STORE_TMP_BLOB);
      cleanup_close int fd = openat (s->tmp_fd, n,
                                     O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);

      if (fd < 0 && errno == EEXIST)
        continue;
      if (fd < 0)
        return err_make (err, errno, "create blob in \"%s/tmp\"", s->root);
      if (store_try_flock (fd, true) != 1)
        {
          int saved = errno;
          unlinkat (s->tmp_fd, n, 0);
          return err_make (err, saved, "lock \"%s/tmp/%s\"", s->root, n);
        }
      *name = steal_ptr (&n);
      return steal_fd (&fd);
    }
  return err_make (err, EEXIST, "create blob in \"%s/tmp\"", s->root);
}

int
storage_blob_stage_new (struct storage_store *s, struct storage_blob_stage **out,
                        struct error **err)
{
  cleanup_close int lk = -1;
  struct storage_blob_stage *st;
  char *name = NULL;
  int fd;

  /* Created and flocked under the store lock: repair, which holds it
   * exclusively, never sees the file before its flock. */
  if (store_hold_lock (s, false, &lk, err) < 0)
    return -1;
  fd = create_stage_file (s, &name, err);
  if (fd < 0)
    return -1;
  st = xmalloc0 (sizeof *st);
  st->fd = fd;
  st->name = name;
  st->path = xasprintf ("%s/tmp/%s", s->root, name);
  st->tmp_fd = fcntl (s->tmp_fd, F_DUPFD_CLOEXEC, 0);
  if (st->tmp_fd < 0)
    {
      int saved = errno;
      storage_blob_stage_free (st);
      return err_make (err, saved, "duplicate descriptor of \"%s/tmp\"", s->root);
    }
  *out = st;
  return 0;
}

int
storage_blob_stage_fd (const struct storage_blob_stage *st)
{
  return st->fd;
}

const char *
storage_blob_stage_path (const struct storage_blob_stage *st)
{
  return st->path;
}

int
storage_blob_stage_commit (struct storage_store *s, struct storage_blob_stage *st,
                           const char *digest, struct error **err)
{
  const char *hex = require_hex (digest, err);
  cleanup_close int lk = -1;

  if (hex == NULL)
    return -1;
  if (st->is_committed)
    return err_make (err, EINVAL, "blob %s: stage already committed", digest);
  /* Durable before it is visible: push must find the same bytes. */
  if (fsync (st->fd) < 0)
    return err_make (err, errno, "sync \"%s\"", st->path);
  if (store_hold_lock (s, false, &lk, err) < 0)
    return -1;
  if (store_lease_record (s, digest, err) < 0)
    return -1;
  /* Replacing an existing blob is fine: the name says it is the same
   * content, and readers holding the old one keep it. */
  if (renameat (st->tmp_fd, st->name, s->blobs_fd, hex) < 0)
    return err_make (err, errno, "commit blob %s", digest);
  st->is_committed = true;
  return store_fsync_dir (s->blobs_fd, "blobs/sha256", err);
}

void
storage_blob_stage_free (struct storage_blob_stage *st)
{
  if (st == NULL)
    return;
  if (!st->is_committed && st->tmp_fd >= 0)
    unlinkat (st->tmp_fd, st->name, 0);
  if (st->fd >= 0)
    close (st->fd);
  if (st->tmp_fd >= 0)
    close (st->tmp_fd);
  free (st->name);
  free (st->path);
  free (st);
}

void
storage_blob_stage_freep (struct storage_blob_stage **st)
{
  storage_blob_stage_free (*st);
  *st = NULL;
}

/* ---- small blobs from memory -------------------------------------------- */

static int
write_all (int fd, const void *data, size_t len)
{
  const char *p = data;

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

int
storage_blob_put_bytes (struct storage_store *s, const char *digest, const void *data,
                        size_t len, char **digest_out, struct error **err)
{
  cleanup_blob_stage struct storage_blob_stage *st = NULL;
  char hex[SHA256_HEX_LEN + 1];
  char got[SHA256_DIGEST_STR_LEN];
  int r;

  if (digest && require_hex (digest, err) == NULL)
    return -1;
  sha256_buf_hex (data, len, hex);
  snprintf (got, sizeof got, "sha256:%s", hex);
  if (digest && strcmp (digest, got) != 0)
    return err_make (err, 0, "blob digest mismatch: expected %s, got %s", digest, got);

  r = storage_blob_claim (s, got, err);
  if (r < 0)
    return -1;
  if (r == 0)
    {
      if (storage_blob_stage_new (s, &st, err) < 0)
        return -1;
      if (write_all (st->fd, data, len) < 0)
        return err_make (err, errno, "write \"%s\"", st->path);
      if (storage_blob_stage_commit (s, st, got, err) < 0)
        return -1;
    }
  if (digest_out)
    *digest_out = xstrdup (got);
  return 0;
}
