/* The new image's config and name for `commit` (see container_commit.h):
 * pure JSON and string work, kept apart from the store and the layer so
 * it can be tested alone. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "container_commit.h"
#include "image_change.h"
#include "libutil/buf.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "reference.h"

static const char *const inherited_keys[] = {
  "User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels",
  "StopSignal",
};

static void
set_or_remove (json_object *o, const char *key, const char *value)
{
  if (value)
    json_object_object_add (o, key, json_object_new_string (value));
  else
    json_object_object_del (o, key);
}

/* The container's command as the history records it. */
static char *
created_by (json_object *ctr_config)
{
  cleanup_buf struct buf b = BUF_INIT;
  const char *keys[] = { "Entrypoint", "Cmd" };

  for (size_t k = 0; k < 2; k++)
    {
      json_object *a = jobj_get_array (ctr_config, keys[k]);
      for (size_t i = 0; a && i < json_object_array_length (a); i++)
        buf_printf (&b, "%s%s", b.len ? " " : "",
                    json_object_get_string (json_object_array_get_idx (a, i)));
    }
  return buf_steal (&b);
}

static json_object *
inner_config (json_object *parent, json_object *ctr_config)
{
  json_object *inner = jobj_copy (jobj_get_object (parent, "config"));

  for (size_t i = 0; i < sizeof inherited_keys / sizeof *inherited_keys; i++)
    {
      json_object *v = NULL;
      if (json_object_object_get_ex (ctr_config, inherited_keys[i], &v) && v != NULL)
        json_object_object_add (inner, inherited_keys[i], jobj_copy (v));
    }
  return inner;
}

void
container_commit_config_add_diff_id (json_object *cfg, const char *diff_id)
{
  json_object *rootfs = jobj_get_object (cfg, "rootfs");
  json_object *ids;

  if (rootfs == NULL)
    {
      rootfs = json_object_new_object ();
      json_object_object_add (rootfs, "type", json_object_new_string ("layers"));
      json_object_object_add (cfg, "rootfs", rootfs);
    }
  ids = jobj_get_array (rootfs, "diff_ids");
  if (ids == NULL)
    {
      ids = json_object_new_array ();
      json_object_object_add (rootfs, "diff_ids", ids);
    }
  json_object_array_add (ids, json_object_new_string (diff_id));
}

static void
append_history (json_object *cfg, json_object *ctr_config,
                const struct container_commit_config_opts *o)
{
  json_object *history = jobj_get_array (cfg, "history");
  json_object *h = json_object_new_object ();
  cleanup_free char *by = created_by (ctr_config);

  if (history == NULL)
    {
      history = json_object_new_array ();
      json_object_object_add (cfg, "history", history);
    }
  json_object_object_add (h, "created", json_object_new_string (o->created));
  json_object_object_add (h, "created_by", json_object_new_string (by));
  if (o->author)
    json_object_object_add (h, "author", json_object_new_string (o->author));
  if (o->message)
    json_object_object_add (h, "comment", json_object_new_string (o->message));
  json_object_array_add (history, h);
}

json_object *
container_commit_config (json_object *parent, json_object *ctr_config,
                         const struct container_commit_config_opts *o, struct error **err)
{
  cleanup_json json_object *cfg = jobj_copy (parent);
  json_object *inner = inner_config (parent, ctr_config);

  json_object_object_add (cfg, "config", inner);
  for (char *const *c = o->changes; c && *c; c++)
    if (image_change_apply (inner, *c, err) < 0)
      return NULL;
  json_object_object_add (cfg, "created", json_object_new_string (o->created));
  set_or_remove (cfg, "author", o->author);
  set_or_remove (cfg, "comment", o->message);
  container_commit_config_add_diff_id (cfg, o->diff_id);
  append_history (cfg, ctr_config, o);
  return steal_ptr (&cfg);
}

char *
container_commit_name (const char *reference, struct error **err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_free char *full = NULL;

  if (reference_is_short_name (reference) && strchr (reference, '@') == NULL)
    full = xasprintf ("localhost/%s", reference);
  else
    full = xstrdup (reference);
  if (reference_parse (full, &ref, err) < 0)
    return NULL;
  if (ref.digest)
    {
      err_make (err, 0, "invalid reference \"%s\": an image name cannot contain a digest",
                reference);
      return NULL;
    }
  return reference_to_string (&ref);
}

