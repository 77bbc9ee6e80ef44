/* images.json, the image index: every image record in one small file, so
 * listing images is one read.  Our own file, but a crash of another tool
 * or a hand edit may have broken it: everything read is validated, and a
 * bad file is an error naming it, never a crash or a path built from
 * unchecked strings. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "storage/storage.h"
#include "storage/store_internal.h"

#define INDEX_MAX ((size_t) 64 << 20)
#define INDEX_VERSION 1
#define NAME_MAX_LEN 1024
#define MEDIA_TYPE_MAX_LEN 255

/* ---- validation --------------------------------------------------------- */

bool
store_name_valid (const char *name)
{
  size_t len = name ? strlen (name) : 0;

  if (len == 0 || len > NAME_MAX_LEN)
    return false;
  for (const char *p = name; *p; p++)
    {
      char c = *p;
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || strchr ("._-/:@", c) != NULL;
      if (!ok)
        return false;
    }
  return true;
}

bool
store_media_type_valid (const char *type)
{
  size_t len = type ? strlen (type) : 0;

  if (len == 0 || len > MEDIA_TYPE_MAX_LEN)
    return false;
  for (const char *p = type; *p; p++)
    {
      char c = *p;
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || strchr (".+-/", c) != NULL;
      if (!ok)
        return false;
    }
  return true;
}

/* ---- JSON field readers ------------------------------------------------- */

int
store_json_digest (json_object *o, const char *key, const char *what, bool is_required,
                   const char **out, struct error **err)
{
  json_object *v = NULL;

  *out = NULL;
  if (!json_object_object_get_ex (o, key, &v))
    {
      if (is_required)
        return err_make (err, 0, "%s: missing \"%s\"", what, key);
      return 0;
    }
  if (!json_object_is_type (v, json_type_string)
      || !sha256_digest_valid (json_object_get_string (v)))
    return err_make (err, 0, "%s: \"%s\" is not a sha256 digest", what, key);
  *out = json_object_get_string (v);
  return 0;
}

int
store_json_int (json_object *o, const char *key, const char *what, bool is_size,
                int64_t *out, struct error **err)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex (o, key, &v))
    return err_make (err, 0, "%s: missing \"%s\"", what, key);
  if (!json_object_is_type (v, json_type_int))
    return err_make (err, 0, "%s: \"%s\" must be an integer", what, key);
  /* json-c saturates out-of-range numbers at INT64_MIN/MAX; both are
   * nonsense for a size or a time. */
  *out = json_object_get_int64 (v);
  if (*out == INT64_MAX || *out == INT64_MIN || (is_size && *out < 0))
    return err_make (err, 0, "%s: \"%s\" is out of range", what, key);
  return 0;
}

static int
read_strv (json_object *o, const char *key, bool is_digest, const char *what, char ***out,
           struct error **err)
{
  cleanup_strv char **v = xmalloc0 (sizeof *v);
  json_object *a = NULL;
  size_t n;

  if (!json_object_object_get_ex (o, key, &a))
    {
      *out = steal_ptr (&v);
      return 0;
    }
  if (!json_object_is_type (a, json_type_array))
    return err_make (err, 0, "%s: \"%s\" must be an array", what, key);
  n = json_object_array_length (a);
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx (a, i);
      const char *s = json_object_is_type (e, json_type_string) ? json_object_get_string (e)
                                                                : NULL;
      bool ok = s && (is_digest ? sha256_digest_valid (s) : store_name_valid (s));

      if (!ok)
        return err_make (err, 0, "%s: \"%s\" entry %zu is not a valid %s", what, key, i + 1,
                         is_digest ? "sha256 digest" : "image name");
      v = strv_append (v, s);
    }
  *out = steal_ptr (&v);
  return 0;
}

/* ---- records ------------------------------------------------------------ */

void
storage_image_free (struct storage_image *img)
{
  if (img == NULL)
    return;
  free (img->id);
  strv_free (img->names);
  strv_free (img->digests);
  free (img->manifest_digest);
  free (img->manifest_type);
  strv_free (img->layers);
  strv_free (img->layer_blobs);
  free (img);
}

void
storage_image_vec_free (struct storage_image **v)
{
  if (v == NULL)
    return;
  for (size_t i = 0; v[i]; i++)
    storage_image_free (v[i]);
  free (v);
}

char **
store_strv_copy (char *const *v)
{
  char **c = xmalloc0 (sizeof *c);

  for (size_t i = 0; v && v[i]; i++)
    c = strv_append (c, v[i]);
  return c;
}

struct storage_image *
store_image_copy (const struct storage_image *img)
{
  struct storage_image *c = xmalloc0 (sizeof *c);

  c->id = xstrdup (img->id);
  c->names = store_strv_copy (img->names);
  c->digests = store_strv_copy (img->digests);
  c->manifest_digest = xstrdup (img->manifest_digest);
  c->manifest_type = xstrdup (img->manifest_type);
  c->layers = store_strv_copy (img->layers);
  c->layer_blobs = store_strv_copy (img->layer_blobs);
  c->created = img->created;
  c->added = img->added;
  c->size = img->size;
  return c;
}

static void
image_freep (struct storage_image **img)
{
  storage_image_free (*img);
  *img = NULL;
}
#define cleanup_image __attribute__ ((cleanup (image_freep)))

static struct storage_image *
record_from_json (json_object *o, const char *what, struct error **err)
{
  cleanup_image struct storage_image *img = xmalloc0 (sizeof *img);
  const char *id, *manifest, *type = NULL;
  json_object *v = NULL;
  int64_t size;

  if (!json_object_is_type (o, json_type_object))
    return err_make (err, 0, "%s: not a JSON object", what), NULL;
  if (store_json_digest (o, "id", what, true, &id, err) < 0
      || store_json_digest (o, "manifest", what, false, &manifest, err) < 0
      || read_strv (o, "names", false, what, &img->names, err) < 0
      || read_strv (o, "digests", false, what, &img->digests, err) < 0
      || read_strv (o, "layers", true, what, &img->layers, err) < 0
      || read_strv (o, "layer_blobs", true, what, &img->layer_blobs, err) < 0
      || store_json_int (o, "created", what, false, &img->created, err) < 0
      || store_json_int (o, "added", what, false, &img->added, err) < 0
      || store_json_int (o, "size", what, true, &size, err) < 0)
    return NULL;
  if (json_object_object_get_ex (o, "manifest_type", &v))
    {
      type = json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
      if (!store_media_type_valid (type))
        return err_make (err, 0, "%s: \"manifest_type\" is not a valid media type", what),
               NULL;
    }
  img->id = xstrdup (id);
  img->manifest_digest = xstrdup (manifest);
  img->manifest_type = xstrdup (type);
  img->size = (uint64_t) size;
  return steal_ptr (&img);
}

static json_object *
strv_to_json (char *const *v)
{
  json_object *a = json_object_new_array ();

  for (size_t i = 0; v && v[i]; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  return a;
}

static json_object *
record_to_json (const struct storage_image *img)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "id", json_object_new_string (img->id));
  json_object_object_add (o, "names", strv_to_json (img->names));
  json_object_object_add (o, "digests", strv_to_json (img->digests));
  if (img->manifest_digest)
    json_object_object_add (o, "manifest", json_object_new_string (img->manifest_digest));
  if (img->manifest_type)
    json_object_object_add (o, "manifest_type", json_object_new_string (img->manifest_type));
  json_object_object_add (o, "layers", strv_to_json (img->layers));
  json_object_object_add (o, "layer_blobs", strv_to_json (img->layer_blobs));
  json_object_object_add (o, "created", json_object_new_int64 (img->created));
  json_object_object_add (o, "added", json_object_new_int64 (img->added));
  json_object_object_add (o, "size", json_object_new_int64 ((int64_t) img->size));
  return o;
}

/* ---- the index ---------------------------------------------------------- */

void
store_index_free (struct store_index *idx)
{
  if (idx == NULL)
    return;
  for (size_t i = 0; i < idx->n; i++)
    storage_image_free (idx->images[i]);
  free (idx->images);
  free (idx);
}

void
store_index_freep (struct store_index **idx)
{
  store_index_free (*idx);
  *idx = NULL;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* No ID twice, and no name or repo digest on two images: lookups must
 * have one answer. */
static int
check_unique (const struct store_index *idx, const char *what, struct error **err)
{
  cleanup_free const char **ids = xcalloc (idx->n + 1, sizeof *ids);
  cleanup_free const char **names = NULL;
  size_t n_names = 0;

  for (size_t i = 0; i < idx->n; i++)
    n_names += strv_len (idx->images[i]->names) + strv_len (idx->images[i]->digests);
  names = xcalloc (n_names + 1, sizeof *names);
  n_names = 0;
  for (size_t i = 0; i < idx->n; i++)
    {
      const struct storage_image *img = idx->images[i];

      ids[i] = img->id;
      for (size_t j = 0; img->names[j]; j++)
        names[n_names++] = img->names[j];
      for (size_t j = 0; img->digests[j]; j++)
        names[n_names++] = img->digests[j];
    }
  qsort (ids, idx->n, sizeof *ids, cmp_str);
  qsort (names, n_names, sizeof *names, cmp_str);
  for (size_t i = 1; i < idx->n; i++)
    if (strcmp (ids[i - 1], ids[i]) == 0)
      return err_make (err, 0, "%s: image %s is recorded twice", what, ids[i]);
  for (size_t i = 1; i < n_names; i++)
    if (strcmp (names[i - 1], names[i]) == 0)
      return err_make (err, 0, "%s: name \"%s\" is recorded twice", what, names[i]);
  return 0;
}

static struct store_index *
index_from_json (json_object *o, const char *what, struct error **err)
{
  cleanup_index struct store_index *idx = xmalloc0 (sizeof *idx);
  json_object *images;
  size_t n;

  if (!json_object_is_type (o, json_type_object))
    return err_make (err, 0, "%s: not a JSON object", what), NULL;
  if (jobj_get_int (o, "version", 0) != INDEX_VERSION)
    return err_make (err, 0, "%s: unsupported version (this skiff reads version %d)", what,
                     INDEX_VERSION),
           NULL;
  images = jobj_get_array (o, "images");
  if (images == NULL)
    return err_make (err, 0, "%s: missing \"images\" array", what), NULL;
  n = json_object_array_length (images);
  idx->images = xcalloc (n + 1, sizeof *idx->images);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *rec_what = xasprintf ("%s: image %zu", what, i + 1);
      struct storage_image *img
          = record_from_json (json_object_array_get_idx (images, i), rec_what, err);

      if (img == NULL)
        return NULL;
      idx->images[idx->n++] = img;
    }
  if (check_unique (idx, what, err) < 0)
    return NULL;
  return steal_ptr (&idx);
}

struct store_index *
store_index_load (struct storage_store *s, struct error **err)
{
  cleanup_free char *data = NULL;
  cleanup_free char *what = NULL;
  cleanup_json json_object *o = NULL;
  struct error *read_err = NULL;
  size_t len = 0;

  data = fs_read_file_at (s->root_fd, STORE_INDEX_NAME, INDEX_MAX, &len, &read_err);
  if (data == NULL && read_err->errnum == ENOENT)
    {
      err_release (&read_err);
      return xmalloc0 (sizeof (struct store_index));
    }
  if (data == NULL)
    {
      err_make (err, read_err->errnum, "image index \"%s\": %s", s->index_path,
                read_err->msg);
      err_release (&read_err);
      return NULL;
    }
  what = xasprintf ("image index \"%s\"", s->index_path);
  o = jobj_parse (data, len, what, err);
  if (o == NULL)
    return NULL;
  return index_from_json (o, what, err);
}

int
store_index_save (struct storage_store *s, const struct store_index *idx, struct error **err)
{
  cleanup_json json_object *o = json_object_new_object ();
  json_object *images = json_object_new_array ();
  cleanup_free char *text = NULL;

  for (size_t i = 0; i < idx->n; i++)
    json_object_array_add (images, record_to_json (idx->images[i]));
  json_object_object_add (o, "version", json_object_new_int (INDEX_VERSION));
  json_object_object_add (o, "images", images);
  text = jobj_to_string (o, false);
  if (fs_write_atomic_at (s->root_fd, STORE_INDEX_NAME, text, strlen (text), 0600, err) < 0)
    return err_wrap (err, "write image index \"%s\"", s->index_path);
  return 0;
}
