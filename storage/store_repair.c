/* Repair and removal: what a crashed invocation left behind, what no image
 * or live lease uses any more, and the trash.
 *
 * Who is alive is decided by flock, never by pids: every staging entry
 * and lease in tmp/ is flocked by its owner for as long as it lives, and a
 * lock dies with its process.  Repair runs under the exclusive store lock,
 * and owners create and lock their entries under the shared one, so repair
 * never sees an entry in the instant between its creation and its flock. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "storage/storage.h"
#include "storage/store_internal.h"

/* A lease holds one line per committed or claimed digest: 16 MiB is some
 * 230,000 of them, far beyond any pull. */
#define LEASE_MAX ((size_t) 16 << 20)

/* ---- what must stay ----------------------------------------------------- */

static void
refs_add (struct store_refs *r, const char *digest)
{
  if (digest == NULL)
    return;
  if (r->n == r->cap)
    {
      r->cap = r->cap ? 2 * r->cap : 64;
      r->v = xrealloc (r->v, r->cap * sizeof *r->v);
    }
  r->v[r->n++] = xstrdup (digest);
}

static void
refs_add_strv (struct store_refs *r, char *const *v)
{
  for (size_t i = 0; v && v[i]; i++)
    refs_add (r, v[i]);
}

static void
refs_add_lease (struct store_refs *r, char *data)
{
  char *save = NULL;

  /* A line that is not a digest (a torn write) protects nothing. */
  for (char *line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (sha256_digest_valid (line))
      refs_add (r, line);
}

/* Read the lease NAME if its owner lives (its flock is held); remove it
 * otherwise. */
static int
visit_lease (struct storage_store *s, const char *name, struct store_refs *r,
             struct error **err)
{
  cleanup_close int fd = openat (s->tmp_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK
                                                      | O_CLOEXEC | O_NOCTTY);
  cleanup_free char *data = NULL;
  int live;

  if (fd < 0 && errno == ENOENT)
    return 0;
  if (fd < 0)
    return err_make (err, errno, "open lease \"%s/tmp/%s\"", s->root, name);
  live = store_try_flock (fd, false);
  if (live < 0)
    return err_make (err, errno, "lock lease \"%s/tmp/%s\"", s->root, name);
  if (live == 1)
    {
      if (unlinkat (s->tmp_fd, name, 0) < 0 && errno != ENOENT)
        return err_make (err, errno, "remove dead lease \"%s/tmp/%s\"", s->root, name);
      return 0;
    }
  if (r == NULL)
    return 0;
  data = fs_read_file_at (s->tmp_fd, name, LEASE_MAX, NULL, err);
  if (data == NULL)
    return err_wrap (err, "read lease");
  refs_add_lease (r, data);
  return 0;
}

static bool
has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Visit the leases in tmp/: dead ones go, live ones add to R (when not
 * NULL). */
static int
scan_leases (struct storage_store *s, struct store_refs *r, struct error **err)
{
  cleanup_dir DIR *d = store_opendir (s->tmp_fd, "tmp", err);
  struct dirent *de;

  if (d == NULL)
    return -1;
  while ((errno = 0, de = readdir (d)) != NULL)
    if (has_prefix (de->d_name, STORE_TMP_LEASE) && visit_lease (s, de->d_name, r, err) < 0)
      return -1;
  if (errno != 0)
    return err_make (err, errno, "read \"%s/tmp\"", s->root);
  return 0;
}

int
store_refs_collect (struct storage_store *s, const struct store_index *idx,
                    struct store_refs *refs, struct error **err)
{
  for (size_t i = 0; i < idx->n; i++)
    {
      const struct storage_image *img = idx->images[i];

      refs_add (refs, img->id);
      refs_add (refs, img->manifest_digest);
      refs_add_strv (refs, img->layers);
      refs_add_strv (refs, img->layer_blobs);
    }
  if (scan_leases (s, refs, err) < 0)
    return -1;
  if (refs->n > 0)
    qsort (refs->v, refs->n, sizeof *refs->v, cmp_str);
  return 0;
}

bool
store_refs_has (const struct store_refs *refs, const char *digest)
{
  if (refs->n == 0)
    return false;
  return bsearch (&digest, refs->v, refs->n, sizeof *refs->v, cmp_str) != NULL;
}

void
store_refs_free (struct store_refs *refs)
{
  for (size_t i = 0; i < refs->n; i++)
    free (refs->v[i]);
  free (refs->v);
  refs->v = NULL;
  refs->n = refs->cap = 0;
}

/* ---- repair ------------------------------------------------------------- */

/* Whether the staging entry NAME in tmp/ is dead: nobody holds its flock. */
static int
stage_is_dead (struct storage_store *s, const char *name, bool is_dir, struct error **err)
{
  /* O_NONBLOCK: a FIFO planted here must not hang us. */
  int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY
              | (is_dir ? O_DIRECTORY : 0);
  cleanup_close int fd = openat (s->tmp_fd, name, flags);
  int r;

  if (fd < 0 && errno == ENOENT)
    return 0;
  /* Not what we create (a symlink, a directory where a file should be):
   * nobody can hold it, it is debris. */
  if (fd < 0 && (errno == ELOOP || errno == ENOTDIR || errno == EISDIR))
    return 1;
  if (fd < 0)
    return err_make (err, errno, "open \"%s/tmp/%s\"", s->root, name);
  r = store_try_flock (fd, true);
  if (r < 0)
    return err_make (err, errno, "lock \"%s/tmp/%s\"", s->root, name);
  return r;
}

static int
visit_tmp_entry (struct storage_store *s, const char *name, struct error **err)
{
  bool is_blob = has_prefix (name, STORE_TMP_BLOB);
  int dead;

  if (has_prefix (name, STORE_TMP_LEASE))
    return visit_lease (s, name, NULL, err);
  if (!is_blob && !has_prefix (name, STORE_TMP_LAYER))
    return 0;
  dead = stage_is_dead (s, name, !is_blob, err);
  if (dead <= 0)
    return dead;
  /* A dead blob is our own file; a dead layer may hold subordinate-owned
   * files, so it goes to the trash. */
  if (is_blob)
    {
      if (unlinkat (s->tmp_fd, name, 0) == 0 || errno == ENOENT)
        return 0;
      if (errno != EISDIR)
        return err_make (err, errno, "remove \"%s/tmp/%s\"", s->root, name);
    }
  return store_trash_at (s->tmp_fd, s->tmp_fd, name, err);
}

static int
clean_tmp (struct storage_store *s, struct error **err)
{
  cleanup_dir DIR *d = store_opendir (s->tmp_fd, "tmp", err);
  struct dirent *de;

  if (d == NULL)
    return -1;
  while ((errno = 0, de = readdir (d)) != NULL)
    if (!store_dirent_skip (de) && visit_tmp_entry (s, de->d_name, err) < 0)
      return -1;
  if (errno != 0)
    return err_make (err, errno, "read \"%s/tmp\"", s->root);
  return 0;
}

/* Temporary files of an index write that was killed before its rename;
 * named by fs_write_atomic(). */
static int
clean_index_temps (struct storage_store *s, struct error **err)
{
  cleanup_dir DIR *d = store_opendir (s->root_fd, s->root, err);
  struct dirent *de;

  if (d == NULL)
    return -1;
  while ((errno = 0, de = readdir (d)) != NULL)
    if (has_prefix (de->d_name, "." STORE_INDEX_NAME ".tmp-")
        && unlinkat (s->root_fd, de->d_name, 0) < 0 && errno != ENOENT)
      return err_make (err, errno, "remove \"%s/%s\"", s->root, de->d_name);
  if (errno != 0)
    return err_make (err, errno, "read \"%s\"", s->root);
  return 0;
}

/* The digest an entry of layers/ or blobs/sha256/ is named after; false
 * for names we did not make. */
static bool
digest_of_name (const char *name, char digest[SHA256_DIGEST_STR_LEN])
{
  if (strlen (name) != SHA256_HEX_LEN)
    return false;
  memcpy (digest, "sha256:", 7);
  memcpy (digest + 7, name, SHA256_HEX_LEN + 1);
  return sha256_digest_valid (digest);
}

/* Layers without layer.json (not made by a commit) go; with REFS, so do
 * layers nothing uses. */
static int
clean_layers (struct storage_store *s, const struct store_refs *refs, struct error **err)
{
  cleanup_dir DIR *d = store_opendir (s->layers_fd, "layers", err);
  struct dirent *de;

  if (d == NULL)
    return -1;
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      char chain[SHA256_DIGEST_STR_LEN];

      if (!digest_of_name (de->d_name, chain))
        continue;
      if (storage_layer_exists (s, chain) && (refs == NULL || store_refs_has (refs, chain)))
        continue;
      if (store_trash_at (s->tmp_fd, s->layers_fd, de->d_name, err) < 0)
        return -1;
    }
  if (errno != 0)
    return err_make (err, errno, "read \"%s/layers\"", s->root);
  return 0;
}

static int
clean_blobs (struct storage_store *s, const struct store_refs *refs, struct error **err)
{
  cleanup_dir DIR *d = store_opendir (s->blobs_fd, "blobs/sha256", err);
  struct dirent *de;

  if (d == NULL)
    return -1;
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      char digest[SHA256_DIGEST_STR_LEN];

      if (!digest_of_name (de->d_name, digest))
        continue;
      if (store_refs_has (refs, digest))
        continue;
      if (unlinkat (s->blobs_fd, de->d_name, 0) < 0 && errno != ENOENT)
        return err_make (err, errno, "remove blob %s", digest);
    }
  if (errno != 0)
    return err_make (err, errno, "read \"%s/blobs/sha256\"", s->root);
  return 0;
}

static int
collect_unused (struct storage_store *s, struct error **err)
{
  cleanup_index struct store_index *owned = NULL;
  struct store_index *idx = s->index;
  struct store_refs refs = { NULL, 0, 0 };
  int r;

  if (idx == NULL)
    {
      owned = store_index_load (s, err);
      if (owned == NULL)
        return -1;
      idx = owned;
    }
  r = store_refs_collect (s, idx, &refs, err);
  if (r == 0)
    r = clean_layers (s, &refs, err);
  if (r == 0)
    r = clean_blobs (s, &refs, err);
  store_refs_free (&refs);
  return r;
}

int
storage_repair (struct storage_store *s, bool collect_orphans, struct error **err)
{
  cleanup_close int lk = -1;

  if (store_hold_lock (s, true, &lk, err) < 0)
    return err_wrap (err, "repair store");
  if (clean_tmp (s, err) < 0 || clean_index_temps (s, err) < 0)
    return err_wrap (err, "repair store");
  if (collect_orphans ? collect_unused (s, err) < 0 : clean_layers (s, NULL, err) < 0)
    return err_wrap (err, "repair store");
  return 0;
}

/* ---- the trash ---------------------------------------------------------- */

bool
storage_has_trash (const struct storage_store *s)
{
  cleanup_dir DIR *d = store_opendir (s->tmp_fd, "tmp", NULL);
  struct dirent *de;

  if (d == NULL)
    return false;
  while ((de = readdir (d)) != NULL)
    if (has_prefix (de->d_name, STORE_TMP_TRASH))
      return true;
  return false;
}

/* Remove one trash entry unless another purge holds it. */
static int
purge_one (const struct storage_store *s, const char *name, struct error **err)
{
  cleanup_close int fd
      = openat (s->tmp_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  /* Unopenable (a symlink, no permission): nobody can hold it either. */
  if (fd >= 0 && store_try_flock (fd, true) == 0)
    return 0;
  if (fs_remove_tree_at (s->tmp_fd, name, err) < 0)
    return err_wrap (err, "purge \"%s/tmp/%s\"", s->root, name);
  return 0;
}

int
storage_purge_trash (const struct storage_store *s, struct error **err)
{
  cleanup_dir DIR *d = store_opendir (s->tmp_fd, "tmp", err);
  struct error *first = NULL;
  struct dirent *de;
  int r;

  if (d == NULL)
    return -1;
  /* Every entry gets its chance; the first failure is reported. */
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      struct error *e = NULL;

      if (!has_prefix (de->d_name, STORE_TMP_TRASH) || purge_one (s, de->d_name, &e) == 0)
        continue;
      if (first == NULL)
        first = e;
      else
        err_release (&e);
    }
  if (first == NULL && errno != 0)
    return err_make (err, errno, "read \"%s/tmp\"", s->root);
  if (first == NULL)
    return 0;
  r = first->errnum > 0 ? -first->errnum : -1;
  if (err)
    {
      err_release (err);
      *err = first;
    }
  else
    err_release (&first);
  return r;
}
