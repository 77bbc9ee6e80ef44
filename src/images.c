/* Local image lookup and store access for commands.  Name resolution
 * follows podman: exact stored name, then the normalised reference, then
 * short-name candidates, with IDs and unique ID prefixes as well. */
#include "config.h"

#include <string.h>

#include "container.h"
#include "build_cache.h"
#include "container_ops.h"
#include "context.h"
#include "events.h"
#include "images.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "reference.h"
#include "registries_conf.h"

int
images_open (struct skiff_context *ctx, bool is_writer, struct storage_store **out,
             struct error **err)
{
  struct storage_store *s = NULL;

  if (storage_open (ctx->root, &s, err) < 0)
    return err_wrap (err, "open store \"%s\"", ctx->root);
  if (is_writer)
    {
      if (storage_repair (s, false, err) < 0)
        {
          storage_close (s);
          return err_wrap (err, "repair store");
        }
      if (images_purge_trash (ctx, s, err) < 0)
        {
          /* Leftover trash only costs space; a later run retries. */
          log_warn ("%s", (*err)->msg);
          err_release (err);
        }
    }
  *out = s;
  return 0;
}

void
images_freep (struct storage_image **img)
{
  storage_image_free (*img);
  *img = NULL;
}

const char *
images_hex_id (const char *id)
{
  return strncmp (id, "sha256:", 7) == 0 ? id + 7 : id;
}

char *
images_normalize_name (const char *name, struct error **err)
{
  cleanup_image_ref struct image_ref ref = { 0 };

  if (reference_parse (name, &ref, err) < 0)
    return NULL;
  return reference_to_string (&ref);
}

static int
lookup_exact (struct storage_store *s, const char *name, struct storage_image **out,
              struct error **err)
{
  if (storage_image_lookup (s, name, out, err) < 0)
    return -1;
  return *out ? 1 : 0;
}

static int
lookup_short_name (struct storage_store *s, const char *name, struct storage_image **out,
                   struct error **err)
{
  cleanup_registries_conf struct registries_conf *conf = NULL;
  struct image_ref *refs = NULL;
  size_t n = 0;
  int r = 0;

  if (registries_conf_load (&conf, err) < 0)
    return -1;
  if (registries_conf_resolve_local (conf, name, &refs, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n && r == 0; i++)
    {
      cleanup_free char *full = reference_to_string (&refs[i]);
      r = lookup_exact (s, full, out, err);
    }
  registries_conf_free_refs (refs, n);
  return r;
}

int
images_find (struct storage_store *s, const char *name, struct storage_image **out,
             struct error **err)
{
  cleanup_free char *normal = NULL;
  int r;

  *out = NULL;
  /* An exact stored name or an ID (prefix) first: cheap and unambiguous. */
  r = lookup_exact (s, name, out, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  normal = images_normalize_name (name, NULL);
  if (normal == NULL)
    return 0; /* not a valid name, and no ID either */
  if (reference_is_short_name (name))
    r = lookup_short_name (s, name, out, err);
  else
    r = lookup_exact (s, normal, out, err);
  return r < 0 ? -1 : 0;
}

int
images_require (struct storage_store *s, const char *name, struct storage_image **out,
                struct error **err)
{
  if (images_find (s, name, out, err) < 0)
    return -1;
  if (*out == NULL)
    return err_make (err, 0, "No such image: %s", name);
  return 0;
}

static int
purge_child (void *arg, struct error **err)
{
  return storage_purge_trash (arg, err) < 0 ? -1 : 0;
}

int
images_purge_trash (struct skiff_context *ctx, struct storage_store *s, struct error **err)
{
  if (!storage_has_trash (s))
    return 0;
  if (!ctx->is_rootless)
    return storage_purge_trash (s, err);
  if (context_run_in_userns (ctx, purge_child, s, err) < 0)
    return err_wrap (err, "remove deleted layers");
  return 0;
}

int
images_check_unused (const struct storage_image *img, void *data, struct error **err)
{
  struct skiff_context *ctx = data;
  struct container **all = NULL;
  int r = 0;

  if (container_list (ctx, &all, err) < 0)
    return -1;
  for (size_t i = 0; all[i] && r == 0; i++)
    if (all[i]->image_id && strcmp (all[i]->image_id, img->id) == 0)
      r = err_make_code (err, 2, 0, "image used by %s: image is in use by a container: "
                         "consider listing external containers and force-removing image",
                         all[i]->id);
  container_vec_free (all);
  return r;
}

int
images_remove_containers (struct skiff_context *ctx, const char *id, struct error **err)
{
  struct container **all = NULL;
  int r = 0;

  if (container_list (ctx, &all, err) < 0)
    return -1;
  for (size_t i = 0; all[i] && r == 0; i++)
    if (all[i]->image_id && strcmp (all[i]->image_id, id) == 0)
      r = container_rm (ctx, all[i], true, err);
  container_vec_free (all);
  return r;
}

int
images_prune (struct skiff_context *ctx, bool is_all, images_pruned_fn on_pruned, void *data,
              struct error **err)
{
  cleanup_storage struct storage_store *s = NULL;
  struct storage_image **all = NULL;
  int r = 0;

  if (images_open (ctx, true, &s, err) < 0 || storage_lock (s, true, err) < 0)
    return -1;
  if (storage_image_list (s, &all, err) < 0)
    {
      storage_unlock (s);
      return -1;
    }
  for (size_t i = 0; all[i] && r == 0; i++)
    {
      if (!is_all && ((all[i]->names && all[i]->names[0])
                      || (all[i]->digests && all[i]->digests[0])))
        continue;
      /* prune skips what containers use rather than failing on it */
      if (images_check_unused (all[i], ctx, NULL) < 0)
        continue;
      r = storage_image_delete (s, all[i]->id, images_check_unused, ctx, NULL, err);
      if (r < 0)
        break;
      events_image (ctx, "remove", all[i]->id, NULL);
      if (on_pruned)
        on_pruned (all[i], data);
    }
  storage_image_vec_free (all);
  if (r == 0)
    r = build_cache_drop (ctx->root, err);
  if (r == 0)
    r = storage_repair (s, true, err);
  storage_unlock (s);
  if (r == 0 && images_purge_trash (ctx, s, err) < 0)
    {
      log_warn ("%s", (*err)->msg);
      err_release (err);
    }
  return r;
}
