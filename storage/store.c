/* The store handle: opening the layout, the store lock, this handle's
 * lease, and the tmp/ naming and trash every other store file builds on.
 * See storage.h, section "the store", for the layout and commit rules. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libutil/fs.h"
#include "libutil/lock.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "storage/storage.h"
#include "storage/store_internal.h"

#define LEASE_LINE_LEN (SHA256_DIGEST_STR_LEN) /* digest + '\n' */

/* ---- small helpers ------------------------------------------------------ */

const char *
store_digest_hex (const char *digest)
{
  return sha256_digest_valid (digest) ? digest + 7 : NULL;
}

bool
store_dirent_skip (const struct dirent *de)
{
  return strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0;
}

DIR *
store_opendir (int dirfd, const char *what, struct error **err)
{
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;

  if (fd < 0)
    return err_make (err, errno, "open \"%s\"", what), NULL;
  d = fdopendir (fd);
  if (d == NULL)
    {
      int saved = errno;
      close (fd);
      return err_make (err, saved, "open \"%s\"", what), NULL;
    }
  return d;
}

int
store_fsync_dir (int dirfd, const char *what, struct error **err)
{
  /* Some file systems cannot sync a directory (EINVAL); the rename has
   * happened and there is nothing better to do there. */
  if (fsync (dirfd) < 0 && errno != EINVAL)
    return err_make (err, errno, "sync \"%s\"", what);
  return 0;
}

int
store_try_flock (int fd, bool is_exclusive)
{
  int r;

  do
    r = flock (fd, (is_exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return 1;
  return errno == EWOULDBLOCK ? 0 : -1;
}

/* 12 hex digits.  getrandom() only fails on kernels before 3.17; the clock
 * and a counter then keep names apart, and every user of a name creates it
 * exclusively and retries. */
static void
random_hex (char out[13])
{
  static unsigned counter;
  unsigned char r[6];

  if (getrandom (r, sizeof r, GRND_NONBLOCK) != (ssize_t) sizeof r)
    {
      struct timespec ts;
      uint64_t x;

      clock_gettime (CLOCK_MONOTONIC, &ts);
      x = (uint64_t) ts.tv_nsec ^ ((uint64_t) ts.tv_sec << 24) ^ ++counter;
      for (size_t i = 0; i < sizeof r; i++)
        r[i] = (unsigned char) (x >> (8 * i));
    }
  for (size_t i = 0; i < sizeof r; i++)
    snprintf (out + 2 * i, 3, "%02x", r[i]);
}

char *
store_tmp_name (const char *prefix)
{
  char hex[13];

  random_hex (hex);
  return xasprintf ("%s%ld-%s", prefix, (long) getpid (), hex);
}

/* RENAME_NOREPLACE needs Linux 3.15 and file system support; where it is
 * refused (EINVAL), plain renameat() still fails on a non-empty target,
 * which is the case that matters. */
int
store_rename_noreplace (int olddir, const char *oldname, int newdir, const char *newname)
{
  if (renameat2 (olddir, oldname, newdir, newname, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return -1;
  return renameat (olddir, oldname, newdir, newname);
}

int
store_trash_at (int tmp_fd, int dirfd, const char *name, struct error **err)
{
  for (int attempt = 0; attempt < 100; attempt++)
    {
      cleanup_free char *trash = store_tmp_name (STORE_TMP_TRASH);

      if (store_rename_noreplace (dirfd, name, tmp_fd, trash) == 0)
        return 0;
      if (errno == ENOENT)
        return 0;
      if (errno != EEXIST && errno != ENOTEMPTY)
        return err_make (err, errno, "move \"%s\" to the trash", name);
    }
  return err_make (err, EEXIST, "move \"%s\" to the trash", name);
}

/* ---- open and close ----------------------------------------------------- */

static int
open_subdir (int parent, const char *name, const char *parent_path, struct error **err)
{
  int fd;

  if (mkdirat (parent, name, 0700) < 0 && errno != EEXIST)
    return err_make (err, errno, "create \"%s/%s\"", parent_path, name);
  fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return err_make (err, errno, "open \"%s/%s\"", parent_path, name);
  return fd;
}

static int
open_layout (struct storage_store *s, struct error **err)
{
  cleanup_close int blobs = -1;
  cleanup_free char *blobs_path = NULL;

  s->root_fd = open (s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->root_fd < 0)
    return err_make (err, errno, "open \"%s\"", s->root);
  s->tmp_fd = open_subdir (s->root_fd, "tmp", s->root, err);
  if (s->tmp_fd < 0)
    return -1;
  s->layers_fd = open_subdir (s->root_fd, "layers", s->root, err);
  if (s->layers_fd < 0)
    return -1;
  blobs = open_subdir (s->root_fd, "blobs", s->root, err);
  if (blobs < 0)
    return -1;
  blobs_path = xasprintf ("%s/blobs", s->root);
  s->blobs_fd = open_subdir (blobs, "sha256", blobs_path, err);
  return s->blobs_fd < 0 ? -1 : 0;
}

int
storage_open (const char *root, struct storage_store **out, struct error **err)
{
  struct storage_store *s;
  char *abs;

  if (root == NULL || *root == '\0')
    return err_make (err, EINVAL, "open store: empty root path");
  if (fs_mkdir_p (root, 0700, err) < 0)
    return err_wrap (err, "open store");
  abs = realpath (root, NULL);
  if (abs == NULL)
    return err_make (err, errno, "open store \"%s\"", root);

  s = xmalloc0 (sizeof *s);
  s->root = abs;
  s->lock_path = xasprintf ("%s/store.lock", abs);
  s->index_path = xasprintf ("%s/" STORE_INDEX_NAME, abs);
  s->root_fd = s->tmp_fd = s->layers_fd = s->blobs_fd = -1;
  s->lock_fd = -1;
  s->lease_fd = -1;
  s->owner_pid = getpid ();
  if (open_layout (s, err) < 0)
    {
      storage_close (s);
      return err_wrap (err, "open store");
    }
  *out = s;
  return 0;
}

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

static void
release_lease (struct storage_store *s)
{
  if (s->lease_fd < 0)
    return;
  /* The lease file is unlinked while still locked, so repair never sees
   * it unlocked and half-read. */
  if (s->owner_pid == getpid ())
    unlinkat (s->tmp_fd, s->lease_name, 0);
  close_fd (&s->lease_fd);
}

void
storage_close (struct storage_store *s)
{
  if (s == NULL)
    return;
  storage_unlock (s);
  release_lease (s);
  close_fd (&s->blobs_fd);
  close_fd (&s->layers_fd);
  close_fd (&s->tmp_fd);
  close_fd (&s->root_fd);
  free (s->lease_name);
  free (s->index_path);
  free (s->lock_path);
  free (s->root);
  free (s);
}

void
storage_closep (struct storage_store **s)
{
  storage_close (*s);
  *s = NULL;
}

const char *
storage_root (const struct storage_store *s)
{
  return s->root;
}

/* ---- locking ------------------------------------------------------------ */

int
storage_lock (struct storage_store *s, bool is_exclusive, struct error **err)
{
  int fd;

  if (s->lock_fd >= 0 && s->is_lock_exclusive == is_exclusive)
    return 0;
  storage_unlock (s);
  fd = lock_acquire (s->lock_path, is_exclusive ? LOCK_EXCLUSIVE_MODE : LOCK_SHARED_MODE, err);
  if (fd < 0)
    return err_wrap (err, "lock store");
  s->lock_fd = fd;
  s->is_lock_exclusive = is_exclusive;
  return 0;
}

void
storage_unlock (struct storage_store *s)
{
  /* Once the lock is gone another process may write the index. */
  store_index_free (s->index);
  s->index = NULL;
  close_fd (&s->lock_fd);
}

int
store_hold_lock (struct storage_store *s, bool is_exclusive, int *fd, struct error **err)
{
  *fd = -1;
  if (s->lock_fd >= 0)
    {
      if (is_exclusive && !s->is_lock_exclusive)
        return err_make (err, 0, "store \"%s\" is locked shared by this process; changing it "
                         "needs the exclusive lock", s->root);
      return 0;
    }
  *fd = lock_acquire (s->lock_path, is_exclusive ? LOCK_EXCLUSIVE_MODE : LOCK_SHARED_MODE,
                      err);
  if (*fd < 0)
    return err_wrap (err, "lock store");
  return 0;
}

/* ---- the lease ---------------------------------------------------------- */

static int
open_lease (struct storage_store *s, struct error **err)
{
  for (int attempt = 0; attempt < 100; attempt++)
    {
      cleanup_free char *name = store_tmp_name (STORE_TMP_LEASE);
      cleanup_close int fd = openat (s->tmp_fd, name,
                                     O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);

      if (fd < 0 && errno == EEXIST)
        continue;
      if (fd < 0)
        return err_make (err, errno, "create lease in \"%s/tmp\"", s->root);
      /* New, so nobody else holds it; the store lock the caller holds keeps
       * repair from seeing it before this flock. */
      if (store_try_flock (fd, true) != 1)
        {
          int saved = errno;
          unlinkat (s->tmp_fd, name, 0);
          return err_make (err, saved, "lock lease \"%s/tmp/%s\"", s->root, name);
        }
      s->lease_fd = steal_fd (&fd);
      s->lease_name = steal_ptr (&name);
      return 0;
    }
  return err_make (err, EEXIST, "create lease in \"%s/tmp\"", s->root);
}

int
store_lease_record (struct storage_store *s, const char *digest, struct error **err)
{
  char line[LEASE_LINE_LEN + 1];
  ssize_t n;

  if (!sha256_digest_valid (digest))
    return err_make (err, EINVAL, "lease: invalid digest \"%s\"", digest);
  if (s->lease_fd < 0 && open_lease (s, err) < 0)
    return -1;
  snprintf (line, sizeof line, "%s\n", digest);
  /* One short O_APPEND write: readers see whole lines. */
  do
    n = write (s->lease_fd, line, LEASE_LINE_LEN);
  while (n < 0 && errno == EINTR);
  if (n != LEASE_LINE_LEN)
    return err_make (err, n < 0 ? errno : EIO, "write lease \"%s/tmp/%s\"", s->root,
                     s->lease_name);
  return 0;
}
