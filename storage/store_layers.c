/* Layers: extracted trees by chain ID in layers/<hex>/, each with its
 * layer.json.  A layer is extracted into a staging directory in tmp/ and
 * counts once that directory, layer.json already inside, is renamed into
 * layers/: one atomic step, so layers/ never holds a half-made layer. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "storage/storage.h"
#include "storage/store_internal.h"

/* layer.json is a few hundred bytes; anything near this is not ours. */
#define LAYER_META_MAX ((size_t) 64 << 10)

struct storage_layer_stage
{
  int tmp_fd;  /* our own copy of tmp/ */
  int dir_fd;  /* the staging directory; its flock tells repair we live */
  int diff_fd;
  char *name;  /* in tmp/ */
  char *diff_path;
  bool is_committed;
};

/* ---- chain IDs ---------------------------------------------------------- */

char *
storage_chain_id (const char *parent, const char *diff_id, struct error **err)
{
  cleanup_free char *joined = NULL;
  char hex[SHA256_HEX_LEN + 1];

  if (!sha256_digest_valid (diff_id))
    return err_make (err, EINVAL, "invalid layer diff ID \"%s\"", diff_id ? diff_id : ""),
           NULL;
  if (parent == NULL)
    return xstrdup (diff_id);
  if (!sha256_digest_valid (parent))
    return err_make (err, EINVAL, "invalid parent chain ID \"%s\"", parent), NULL;
  joined = xasprintf ("%s %s", parent, diff_id);
  sha256_buf_hex (joined, strlen (joined), hex);
  return xasprintf ("sha256:%s", hex);
}

int
storage_chain_ids (char *const *diff_ids, char ***out, struct error **err)
{
  cleanup_strv char **ids = xmalloc0 (sizeof *ids);
  const char *parent = NULL;

  for (size_t i = 0; diff_ids && diff_ids[i]; i++)
    {
      cleanup_free char *id = storage_chain_id (parent, diff_ids[i], err);

      if (id == NULL)
        return err_wrap (err, "layer %zu", i + 1);
      ids = strv_append (ids, id);
      parent = ids[i];
    }
  *out = steal_ptr (&ids);
  return 0;
}

/* ---- layer.json --------------------------------------------------------- */

void
storage_layer_free (struct storage_layer *l)
{
  if (l == NULL)
    return;
  free (l->chain_id);
  free (l->diff_id);
  free (l->parent);
  free (l->blob_digest);
  free (l);
}

static void
layer_freep (struct storage_layer **l)
{
  storage_layer_free (*l);
  *l = NULL;
}
#define cleanup_layer __attribute__ ((cleanup (layer_freep)))

static char *
layer_to_json (const struct storage_layer *l, int64_t created)
{
  cleanup_json json_object *o = json_object_new_object ();

  json_object_object_add (o, "chain_id", json_object_new_string (l->chain_id));
  json_object_object_add (o, "diff_id", json_object_new_string (l->diff_id));
  if (l->parent)
    json_object_object_add (o, "parent", json_object_new_string (l->parent));
  if (l->blob_digest)
    json_object_object_add (o, "blob", json_object_new_string (l->blob_digest));
  json_object_object_add (o, "blob_size", json_object_new_int64 ((int64_t) l->blob_size));
  json_object_object_add (o, "size", json_object_new_int64 ((int64_t) l->size));
  json_object_object_add (o, "created", json_object_new_int64 (created));
  return jobj_to_string (o, false);
}

/* The checks shared by commit (caller input) and lookup (our file). */
static int
check_layer (const struct storage_layer *l, struct error **err)
{
  cleanup_free char *chain = storage_chain_id (l->parent, l->diff_id, err);

  if (chain == NULL)
    return -1;
  if (!sha256_digest_valid (l->chain_id))
    return err_make (err, EINVAL, "invalid chain ID \"%s\"", l->chain_id ? l->chain_id : "");
  if (strcmp (chain, l->chain_id) != 0)
    return err_make (err, EINVAL, "chain ID %s does not match its parent and diff ID "
                     "(expected %s)", l->chain_id, chain);
  if (l->blob_digest && !sha256_digest_valid (l->blob_digest))
    return err_make (err, EINVAL, "invalid layer blob digest \"%s\"", l->blob_digest);
  if (l->size > INT64_MAX || l->blob_size > INT64_MAX)
    return err_make (err, EINVAL, "layer %s: size out of range", l->chain_id);
  return 0;
}

static struct storage_layer *
layer_from_json (json_object *o, const char *what, struct error **err)
{
  cleanup_layer struct storage_layer *l = xmalloc0 (sizeof *l);
  const char *chain, *diff, *parent, *blob;
  int64_t blob_size, size;

  if (!json_object_is_type (o, json_type_object))
    return err_make (err, 0, "%s: not a JSON object", what), NULL;
  if (store_json_digest (o, "chain_id", what, true, &chain, err) < 0
      || store_json_digest (o, "diff_id", what, true, &diff, err) < 0
      || store_json_digest (o, "parent", what, false, &parent, err) < 0
      || store_json_digest (o, "blob", what, false, &blob, err) < 0
      || store_json_int (o, "blob_size", what, true, &blob_size, err) < 0
      || store_json_int (o, "size", what, true, &size, err) < 0
      || store_json_int (o, "created", what, false, &l->created, err) < 0)
    return NULL;
  l->chain_id = xstrdup (chain);
  l->diff_id = xstrdup (diff);
  l->parent = xstrdup (parent);
  l->blob_digest = xstrdup (blob);
  l->blob_size = (uint64_t) blob_size;
  l->size = (uint64_t) size;
  if (check_layer (l, err) < 0)
    return err_wrap (err, "%s", what), NULL;
  return steal_ptr (&l);
}

static const char *
require_chain_hex (const char *chain_id, struct error **err)
{
  const char *hex = store_digest_hex (chain_id);

  if (hex == NULL)
    err_make (err, EINVAL, "invalid layer chain ID \"%s\": expected sha256:<64 hex digits>",
              chain_id ? chain_id : "");
  return hex;
}

int
storage_layer_get (const struct storage_store *s, const char *chain_id,
                   struct storage_layer **out, struct error **err)
{
  const char *hex = require_chain_hex (chain_id, err);
  cleanup_free char *rel = NULL;
  cleanup_free char *data = NULL;
  cleanup_free char *what = NULL;
  cleanup_json json_object *o = NULL;
  struct storage_layer *l;
  size_t len = 0;

  if (hex == NULL)
    return -1;
  rel = xasprintf ("%s/" STORE_LAYER_META, hex);
  data = fs_read_file_at (s->layers_fd, rel, LAYER_META_MAX, &len, err);
  if (data == NULL)
    return err_wrap (err, "layer %s", chain_id);
  what = xasprintf ("layer metadata \"%s/layers/%s\"", s->root, rel);
  o = jobj_parse (data, len, what, err);
  if (o == NULL)
    return -1;
  l = layer_from_json (o, what, err);
  if (l == NULL)
    return -1;
  if (strcmp (l->chain_id, chain_id) != 0)
    {
      err_make (err, 0, "%s: records chain ID %s, not %s", what, l->chain_id, chain_id);
      storage_layer_free (l);
      return -1;
    }
  *out = l;
  return 0;
}

bool
storage_layer_exists (const struct storage_store *s, const char *chain_id)
{
  const char *hex = store_digest_hex (chain_id);
  cleanup_free char *rel = NULL;
  struct stat st;

  if (hex == NULL)
    return false;
  rel = xasprintf ("%s/" STORE_LAYER_META, hex);
  return fstatat (s->layers_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
}

int
storage_layer_claim (struct storage_store *s, const char *chain_id, struct error **err)
{
  cleanup_close int lk = -1;

  if (require_chain_hex (chain_id, err) == NULL)
    return -1;
  if (store_hold_lock (s, false, &lk, err) < 0)
    return -1;
  if (!storage_layer_exists (s, chain_id))
    return 0;
  if (store_lease_record (s, chain_id, err) < 0)
    return -1;
  return 1;
}

char *
storage_layer_diff_path (const struct storage_store *s, const char *chain_id,
                         struct error **err)
{
  const char *hex = require_chain_hex (chain_id, err);

  if (hex == NULL)
    return NULL;
  return xasprintf ("%s/layers/%s/" STORE_LAYER_DIFF, s->root, hex);
}

/* ---- staging ------------------------------------------------------------ */

static int
make_stage_dir (struct storage_store *s, char **name, struct error **err)
{
  for (int attempt = 0; attempt < 100; attempt++)
    {
      cleanup_free char *n = store_tmp_name (STORE_TMP_LAYER);
      int fd;

      if (mkdirat (s->tmp_fd, n, 0700) < 0)
        {
          if (errno == EEXIST)
            continue;
          return err_make (err, errno, "create layer directory in \"%s/tmp\"", s->root);
        }
      fd = openat (s->tmp_fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || store_try_flock (fd, true) != 1)
        {
          int saved = errno;
          if (fd >= 0)
            close (fd);
          unlinkat (s->tmp_fd, n, AT_REMOVEDIR);
          return err_make (err, saved, "lock \"%s/tmp/%s\"", s->root, n);
        }
      *name = steal_ptr (&n);
      return fd;
    }
  return err_make (err, EEXIST, "create layer directory in \"%s/tmp\"", s->root);
}

/* Undo make_stage_dir() before anything was extracted: the directories
 * are empty and ours, so they go at once. */
static void
remove_empty_stage (struct storage_store *s, struct storage_layer_stage *st)
{
  unlinkat (st->dir_fd, STORE_LAYER_DIFF, AT_REMOVEDIR);
  unlinkat (s->tmp_fd, st->name, AT_REMOVEDIR);
  st->is_committed = true; /* nothing left for free() to trash */
  storage_layer_stage_free (st);
}

int
storage_layer_stage_new (struct storage_store *s, struct storage_layer_stage **out,
                         struct error **err)
{
  cleanup_close int lk = -1;
  struct storage_layer_stage *st;
  int saved;

  /* Under the store lock: repair, holding it exclusively, never sees the
   * directory before its flock. */
  if (store_hold_lock (s, false, &lk, err) < 0)
    return -1;
  st = xmalloc0 (sizeof *st);
  st->diff_fd = st->tmp_fd = -1;
  st->dir_fd = make_stage_dir (s, &st->name, err);
  if (st->dir_fd < 0)
    {
      free (st);
      return -1;
    }
  st->diff_path = xasprintf ("%s/tmp/%s/" STORE_LAYER_DIFF, s->root, st->name);
  st->tmp_fd = fcntl (s->tmp_fd, F_DUPFD_CLOEXEC, 0);
  if (st->tmp_fd < 0)
    goto remove_stage;
  if (mkdirat (st->dir_fd, STORE_LAYER_DIFF, 0755) < 0)
    goto remove_stage;
  st->diff_fd = openat (st->dir_fd, STORE_LAYER_DIFF, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (st->diff_fd < 0)
    goto remove_stage;
  *out = st;
  return 0;

remove_stage:
  saved = errno;
  remove_empty_stage (s, st);
  return err_make (err, saved, "create layer directory in \"%s/tmp\"", s->root);
}

int
storage_layer_stage_diff_fd (const struct storage_layer_stage *st)
{
  return st->diff_fd;
}

const char *
storage_layer_stage_diff_path (const struct storage_layer_stage *st)
{
  return st->diff_path;
}

/* Rename the stage into layers/<hex> under the lock.  Losing the race to
 * another process committing the same chain ID is success: the content is
 * the same by construction, so ours goes to the trash. */
static int
publish_stage (struct storage_store *s, struct storage_layer_stage *st,
               const struct storage_layer *layer, const char *hex, struct error **err)
{
  cleanup_close int lk = -1;

  if (store_hold_lock (s, false, &lk, err) < 0)
    return -1;
  if (layer->parent && !storage_layer_exists (s, layer->parent))
    return err_make (err, ENOENT, "commit layer %s: parent layer %s is not in the store",
                     layer->chain_id, layer->parent);
  if (store_lease_record (s, layer->chain_id, err) < 0)
    return -1;
  if (store_rename_noreplace (st->tmp_fd, st->name, s->layers_fd, hex) == 0)
    {
      st->is_committed = true;
      return store_fsync_dir (s->layers_fd, "layers", err);
    }
  if (errno != EEXIST && errno != ENOTEMPTY)
    return err_make (err, errno, "commit layer %s", layer->chain_id);
  if (store_trash_at (st->tmp_fd, st->tmp_fd, st->name, err) < 0)
    return -1;
  st->is_committed = true;
  return 0;
}

int
storage_layer_stage_commit (struct storage_store *s, struct storage_layer_stage *st,
                            const struct storage_layer *layer, struct error **err)
{
  cleanup_free char *json = NULL;
  const char *hex;

  if (st->is_committed)
    return err_make (err, EINVAL, "commit layer: stage already committed");
  if (check_layer (layer, err) < 0)
    return err_wrap (err, "commit layer");
  hex = layer->chain_id + 7;
  json = layer_to_json (layer, layer->created ? layer->created : (int64_t) time (NULL));
  /* Inside the stage, before the rename: the rename is the one commit. */
  if (fs_write_atomic_at (st->dir_fd, STORE_LAYER_META, json, strlen (json), 0600, err) < 0)
    return err_wrap (err, "commit layer %s", layer->chain_id);
  return publish_stage (s, st, layer, hex, err);
}

void
storage_layer_stage_free (struct storage_layer_stage *st)
{
  if (st == NULL)
    return;
  /* What was extracted may belong to subordinate IDs: the trash, not
   * removal, is what always works here. */
  if (!st->is_committed && st->tmp_fd >= 0)
    {
      cleanup_error struct error *err = NULL;
      /* Left in tmp/ with a dead flock, it is trashed by the next repair. */
      if (store_trash_at (st->tmp_fd, st->tmp_fd, st->name, &err) < 0)
        {
          cleanup_free char *text = err_text (err);
          log_warn ("%s", text);
        }
    }
  if (st->diff_fd >= 0)
    close (st->diff_fd);
  if (st->dir_fd >= 0)
    close (st->dir_fd);
  if (st->tmp_fd >= 0)
    close (st->tmp_fd);
  free (st->name);
  free (st->diff_path);
  free (st);
}

void
storage_layer_stage_freep (struct storage_layer_stage **st)
{
  storage_layer_stage_free (*st);
  *st = NULL;
}
