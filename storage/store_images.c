/* Images: the records of images.json and what changes them: create or
 * update, names (tag, untag), lookup and delete.  Every change is a
 * read-modify-write of the whole index under the exclusive store lock,
 * written atomically: an image exists exactly when its record does. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "storage/storage.h"
#include "storage/store_internal.h"

/* The index for one operation: the handle's cached copy while it holds the
 * lock, otherwise a fresh read this operation owns. */
struct index_use
{
  struct storage_store *s;
  int lock_fd; /* taken for this operation, -1 otherwise */
  struct store_index *idx;
  bool is_owned;
};

#define INDEX_USE_INIT { NULL, -1, NULL, false }

static int
index_use_begin (struct storage_store *s, bool is_write, struct index_use *u,
                 struct error **err)
{
  u->s = s;
  if (is_write && store_hold_lock (s, true, &u->lock_fd, err) < 0)
    return -1;
  if (s->index)
    {
      u->idx = s->index;
      return 0;
    }
  u->idx = store_index_load (s, err);
  if (u->idx == NULL)
    return -1;
  if (s->lock_fd >= 0)
    s->index = u->idx;
  else
    u->is_owned = true;
  return 0;
}

static int
index_use_save (struct index_use *u, struct error **err)
{
  if (store_index_save (u->s, u->idx, err) == 0)
    return 0;
  /* The file still holds the old index: forget the changed copy. */
  if (!u->is_owned)
    {
      store_index_free (u->s->index);
      u->s->index = NULL;
      u->idx = NULL;
    }
  return -1;
}

static void
index_use_end (struct index_use *u)
{
  if (u->is_owned)
    store_index_free (u->idx);
  if (u->lock_fd >= 0)
    close (u->lock_fd);
}
#define cleanup_index_use __attribute__ ((cleanup (index_use_end)))

/* ---- searching ---------------------------------------------------------- */

static bool
strv_has (char *const *v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

/* Remove S from V in place; whether it was there. */
static bool
strv_remove (char **v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      {
        free (v[i]);
        memmove (&v[i], &v[i + 1], (strv_len (v + i + 1) + 1) * sizeof *v);
        return true;
      }
  return false;
}

static size_t
find_id (const struct store_index *idx, const char *id)
{
  for (size_t i = 0; i < idx->n; i++)
    if (strcmp (idx->images[i]->id, id) == 0)
      return i;
  return idx->n;
}

static struct storage_image *
find_name (const struct store_index *idx, const char *name)
{
  for (size_t i = 0; i < idx->n; i++)
    if (strv_has (idx->images[i]->names, name) || strv_has (idx->images[i]->digests, name))
      return idx->images[i];
  return NULL;
}

/* 1..64 lowercase hex digits. */
static bool
is_hex_prefix (const char *s)
{
  size_t len = strlen (s);

  if (len == 0 || len > SHA256_HEX_LEN)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

static int
find_id_prefix (const struct store_index *idx, const char *ref, struct storage_image **found,
                struct error **err)
{
  const char *hex = strncmp (ref, "sha256:", 7) == 0 ? ref + 7 : ref;
  size_t len = strlen (hex), matches = 0;

  *found = NULL;
  if (!is_hex_prefix (hex))
    return 0;
  for (size_t i = 0; i < idx->n; i++)
    if (strncmp (idx->images[i]->id + 7, hex, len) == 0)
      {
        *found = idx->images[i];
        matches++;
      }
  if (matches > 1)
    {
      *found = NULL;
      return err_make (err, 0, "short ID \"%s\" is ambiguous: it matches %zu images, give more "
                       "digits", ref, matches);
    }
  return 0;
}

int
storage_image_lookup (struct storage_store *s, const char *ref, struct storage_image **out,
                      struct error **err)
{
  cleanup_index_use struct index_use u = INDEX_USE_INIT;
  struct storage_image *img;

  *out = NULL;
  if (ref == NULL || *ref == '\0')
    return 0;
  if (index_use_begin (s, false, &u, err) < 0)
    return -1;
  img = find_name (u.idx, ref);
  if (img == NULL && find_id_prefix (u.idx, ref, &img, err) < 0)
    return -1;
  if (img)
    *out = store_image_copy (img);
  return 0;
}

int
storage_image_list (struct storage_store *s, struct storage_image ***out, struct error **err)
{
  cleanup_index_use struct index_use u = INDEX_USE_INIT;
  struct storage_image **v;

  if (index_use_begin (s, false, &u, err) < 0)
    return -1;
  v = xcalloc (u.idx->n + 1, sizeof *v);
  for (size_t i = 0; i < u.idx->n; i++)
    v[i] = store_image_copy (u.idx->images[i]);
  *out = v;
  return 0;
}

/* ---- create and update -------------------------------------------------- */

static int
check_digests (char *const *v, const char *what, struct error **err)
{
  for (size_t i = 0; v && v[i]; i++)
    if (!sha256_digest_valid (v[i]))
      return err_make (err, EINVAL, "invalid %s digest \"%s\"", what, v[i]);
  return 0;
}

static int
check_names (char *const *v, struct error **err)
{
  for (size_t i = 0; v && v[i]; i++)
    if (!store_name_valid (v[i]))
      return err_make (err, EINVAL, "invalid image name \"%s\"", v[i]);
  return 0;
}

static int
check_input (const struct storage_image *img, struct error **err)
{
  if (!sha256_digest_valid (img->id))
    return err_make (err, EINVAL, "invalid image ID \"%s\"", img->id ? img->id : "");
  if (img->manifest_digest && !sha256_digest_valid (img->manifest_digest))
    return err_make (err, EINVAL, "invalid manifest digest \"%s\"", img->manifest_digest);
  if (img->manifest_type && !store_media_type_valid (img->manifest_type))
    return err_make (err, EINVAL, "invalid manifest media type \"%s\"", img->manifest_type);
  if (check_names (img->names, err) < 0 || check_names (img->digests, err) < 0)
    return -1;
  return check_digests (img->layers, "layer", err) < 0
                 || check_digests (img->layer_blobs, "layer blob", err) < 0
             ? -1
             : 0;
}

static int
require_blob (const struct storage_store *s, const char *digest, const char *what,
              struct error **err)
{
  if (!storage_blob_exists (s, digest))
    return err_make (err, ENOENT, "%s blob %s is not in the store", what, digest);
  return 0;
}

/* Everything the record names is in the store, and the layers form one
 * chain.  *SIZE gets the sum of the layer sizes. */
static int
check_content (const struct storage_store *s, const struct storage_image *img, uint64_t *size,
               struct error **err)
{
  const char *parent = NULL;

  if (require_blob (s, img->id, "config", err) < 0)
    return -1;
  if (img->manifest_digest && require_blob (s, img->manifest_digest, "manifest", err) < 0)
    return -1;
  for (size_t i = 0; img->layer_blobs && img->layer_blobs[i]; i++)
    if (require_blob (s, img->layer_blobs[i], "layer", err) < 0)
      return -1;
  *size = 0;
  for (size_t i = 0; img->layers && img->layers[i]; i++)
    {
      struct storage_layer *l = NULL;
      bool is_chained;

      if (storage_layer_get (s, img->layers[i], &l, err) < 0)
        return -1;
      is_chained = parent ? l->parent && strcmp (l->parent, parent) == 0 : l->parent == NULL;
      *size += l->size;
      storage_layer_free (l);
      if (!is_chained)
        return err_make (err, EINVAL, "layer %zu (%s) does not sit on layer %zu", i + 1,
                         img->layers[i], i);
      parent = img->layers[i];
    }
  return 0;
}

/* Remove NAME (a name or a repo digest) from IMG; whether it was there.
 * An image whose last name goes keeps no repo digest either: it becomes
 * dangling "<none>", as podman shows an image whose tag moved on, and
 * prune collects it.  An image that never had a name (pulled by digest)
 * is named by its repo digests and keeps them. */
static bool
remove_name (struct storage_image *img, const char *name)
{
  bool had_names = img->names && img->names[0];
  bool is_name = strv_remove (img->names, name);
  bool is_digest = strv_remove (img->digests, name);

  if (had_names && img->names[0] == NULL)
    {
      strv_free (img->digests);
      img->digests = store_strv_copy (NULL);
    }
  return is_name || is_digest;
}

/* Take NAME away from every image but KEEP. */
static void
detach_name (struct store_index *idx, const char *name, const struct storage_image *keep)
{
  for (size_t i = 0; i < idx->n; i++)
    if (idx->images[i] != keep)
      remove_name (idx->images[i], name);
}

static void
replace_str (char **dst, const char *src)
{
  free (*dst);
  *dst = xstrdup (src);
}

static void
replace_strv (char ***dst, char *const *src)
{
  strv_free (*dst);
  *dst = store_strv_copy (src);
}

static struct storage_image *
add_record (struct store_index *idx, const struct storage_image *img)
{
  struct storage_image *rec = xmalloc0 (sizeof *rec);

  rec->id = xstrdup (img->id);
  rec->names = store_strv_copy (NULL);
  rec->digests = store_strv_copy (NULL);
  rec->layers = store_strv_copy (NULL);
  rec->layer_blobs = store_strv_copy (NULL);
  rec->added = (int64_t) time (NULL);
  idx->images = xrealloc (idx->images, (idx->n + 1) * sizeof *idx->images);
  idx->images[idx->n++] = rec;
  return rec;
}

int
storage_image_put (struct storage_store *s, const struct storage_image *img,
                   struct error **err)
{
  cleanup_index_use struct index_use u = INDEX_USE_INIT;
  struct storage_image *rec;
  uint64_t size;
  size_t pos;

  if (check_input (img, err) < 0)
    return err_wrap (err, "store image");
  if (index_use_begin (s, true, &u, err) < 0)
    return err_wrap (err, "store image %s", img->id);
  /* Checked under the lock: a delete cannot take a layer away between the
   * check and the write. */
  if (check_content (s, img, &size, err) < 0)
    return err_wrap (err, "store image %s", img->id);
  pos = find_id (u.idx, img->id);
  rec = pos < u.idx->n ? u.idx->images[pos] : add_record (u.idx, img);
  replace_str (&rec->manifest_digest, img->manifest_digest);
  replace_str (&rec->manifest_type, img->manifest_type);
  replace_strv (&rec->layers, img->layers);
  replace_strv (&rec->layer_blobs, img->layer_blobs);
  rec->created = img->created;
  rec->size = size;
  for (size_t i = 0; img->names && img->names[i]; i++)
    {
      detach_name (u.idx, img->names[i], rec);
      if (!strv_has (rec->names, img->names[i]))
        rec->names = strv_append (rec->names, img->names[i]);
    }
  for (size_t i = 0; img->digests && img->digests[i]; i++)
    {
      detach_name (u.idx, img->digests[i], rec);
      if (!strv_has (rec->digests, img->digests[i]))
        rec->digests = strv_append (rec->digests, img->digests[i]);
    }
  if (index_use_save (&u, err) < 0)
    return err_wrap (err, "store image %s", img->id);
  return 0;
}

/* ---- names -------------------------------------------------------------- */

int
storage_image_tag (struct storage_store *s, const char *id, const char *name,
                   struct error **err)
{
  cleanup_index_use struct index_use u = INDEX_USE_INIT;
  struct storage_image *rec;
  size_t pos;

  if (!sha256_digest_valid (id))
    return err_make (err, EINVAL, "tag image: invalid image ID \"%s\"", id ? id : "");
  if (!store_name_valid (name))
    return err_make (err, EINVAL, "tag image: invalid image name \"%s\"", name ? name : "");
  if (index_use_begin (s, true, &u, err) < 0)
    return err_wrap (err, "tag image %s", id);
  pos = find_id (u.idx, id);
  if (pos == u.idx->n)
    return err_make (err, 0, "tag image: image %s not known", id);
  rec = u.idx->images[pos];
  if (strv_has (rec->names, name))
    return 0;
  detach_name (u.idx, name, rec);
  rec->names = strv_append (rec->names, name);
  if (index_use_save (&u, err) < 0)
    return err_wrap (err, "tag image %s", id);
  return 0;
}

int
storage_image_untag (struct storage_store *s, const char *name, struct error **err)
{
  cleanup_index_use struct index_use u = INDEX_USE_INIT;
  bool is_found = false;

  if (name == NULL || *name == '\0')
    return err_make (err, EINVAL, "untag image: empty name");
  if (index_use_begin (s, true, &u, err) < 0)
    return err_wrap (err, "untag \"%s\"", name);
  for (size_t i = 0; i < u.idx->n; i++)
    is_found |= remove_name (u.idx->images[i], name);
  if (!is_found)
    return err_make (err, 0, "untag image: tag \"%s\" not known", name);
  if (index_use_save (&u, err) < 0)
    return err_wrap (err, "untag \"%s\"", name);
  return 0;
}

/* ---- delete ------------------------------------------------------------- */

static void
warn_error (struct error **err)
{
  cleanup_free char *text = err_text (*err);

  log_warn ("%s", text);
  err_release (err);
}

/* After the record is gone: trash the layers and remove the blobs of GONE
 * that nothing else uses.  Failures only leave orphans, which a later
 * storage_repair (s, true, ...) collects, so they are warnings. */
static char **
remove_unused (struct storage_store *s, const struct storage_image *gone,
               const struct store_refs *refs)
{
  char **removed = xmalloc0 (sizeof *removed);
  const char *blobs[2] = { gone->id, gone->manifest_digest };

  for (size_t i = strv_len (gone->layers); i-- > 0;)
    {
      const char *chain = gone->layers[i];
      struct error *err = NULL;

      if (store_refs_has (refs, chain) || !storage_layer_exists (s, chain))
        continue;
      if (store_trash_at (s->tmp_fd, s->layers_fd, chain + 7, &err) < 0)
        {
          err_wrap (&err, "remove layer %s", chain);
          warn_error (&err);
          continue;
        }
      removed = strv_append (removed, chain);
    }
  for (size_t i = 0; i < 2 + strv_len (gone->layer_blobs); i++)
    {
      const char *d = i < 2 ? blobs[i] : gone->layer_blobs[i - 2];

      if (d == NULL || store_refs_has (refs, d))
        continue;
      if (unlinkat (s->blobs_fd, d + 7, 0) < 0 && errno != ENOENT)
        log_warn ("remove blob %s: %s", d, strerror (errno));
    }
  return removed;
}

static void
image_freep (struct storage_image **img)
{
  storage_image_free (*img);
  *img = NULL;
}

int
storage_image_delete (struct storage_store *s, const char *id, storage_image_check_fn check,
                      void *data, char ***removed_layers, struct error **err)
{
  cleanup_index_use struct index_use u = INDEX_USE_INIT;
  __attribute__ ((cleanup (image_freep))) struct storage_image *gone = NULL;
  struct store_refs refs = { NULL, 0, 0 };
  struct error *refs_err = NULL;
  char **removed;
  size_t pos;

  if (!sha256_digest_valid (id))
    return err_make (err, EINVAL, "delete image: invalid image ID \"%s\"", id ? id : "");
  if (index_use_begin (s, true, &u, err) < 0)
    return err_wrap (err, "delete image %s", id);
  pos = find_id (u.idx, id);
  if (pos == u.idx->n)
    return err_make (err, 0, "delete image: image %s not known", id);
  if (check && check (u.idx->images[pos], data, err) < 0)
    return -1;
  gone = u.idx->images[pos];
  u.idx->n--;
  memmove (&u.idx->images[pos], &u.idx->images[pos + 1],
           (u.idx->n - pos) * sizeof *u.idx->images);
  if (index_use_save (&u, err) < 0)
    return err_wrap (err, "delete image %s", id);

  /* The image is gone; what follows only frees space. */
  if (store_refs_collect (s, u.idx, &refs, &refs_err) < 0)
    {
      err_wrap (&refs_err, "image %s deleted, its layers kept", id);
      warn_error (&refs_err);
      removed = xmalloc0 (sizeof *removed);
    }
  else
    removed = remove_unused (s, gone, &refs);
  store_refs_free (&refs);
  if (removed_layers)
    *removed_layers = removed;
  else
    strv_free (removed);
  return 0;
}
