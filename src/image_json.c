/* Image records and configs turned into the JSON docker and podman print.
 * The config's own "config" object is passed through as it is stored, so
 * every field an image sets reaches `inspect` unchanged. */
#include "config.h"

#include <string.h>

#include "image_json.h"
#include "images.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "manifest.h"

json_object *
image_json_config (struct storage_store *s, const struct storage_image *img,
                   struct error **err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;

  data = storage_blob_read (s, img->id, MANIFEST_CONFIG_MAX_SIZE, &len, err);
  if (data == NULL)
    return NULL;
  return jobj_parse (data, len, "image config", err);
}

static json_object *
strv_json (char *const *v)
{
  json_object *a = json_object_new_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  return a;
}

/* A member of SRC copied into DST (a new reference), or DEF when absent. */
static void
copy_member (json_object *dst, const char *dst_key, json_object *src, const char *key,
             json_object *def)
{
  json_object *v = NULL;

  if (src && json_object_object_get_ex (src, key, &v) && v != NULL)
    {
      json_object_object_add (dst, dst_key, json_object_get (v));
      json_object_put (def);
    }
  else
    json_object_object_add (dst, dst_key, def);
}

static json_object *
str_or_empty (json_object *o, const char *key)
{
  const char *s = jobj_get_string (o, key);
  return json_object_new_string (s ? s : "");
}

/* docker's container.Config members that are not omitempty, in its order,
 * and what Go prints for each when unset: "" for strings, false for
 * booleans, null for nil slices and maps. */
static const struct
{
  const char *key;
  json_type type;
} docker_config_keys[] = {
  { "Hostname", json_type_string },
  { "Domainname", json_type_string },
  { "User", json_type_string },
  { "AttachStdin", json_type_boolean },
  { "AttachStdout", json_type_boolean },
  { "AttachStderr", json_type_boolean },
  { "ExposedPorts", json_type_null },
  { "Tty", json_type_boolean },
  { "OpenStdin", json_type_boolean },
  { "StdinOnce", json_type_boolean },
  { "Env", json_type_null },
  { "Cmd", json_type_null },
  { "Image", json_type_string },
  { "Volumes", json_type_null },
  { "WorkingDir", json_type_string },
  { "Entrypoint", json_type_null },
  { "OnBuild", json_type_null },
  { "Labels", json_type_null },
};

static json_object *
unset_value (json_type type)
{
  switch (type)
    {
    case json_type_string:
      return json_object_new_string ("");
    case json_type_boolean:
      return json_object_new_boolean (false);
    default:
      return NULL;
    }
}

json_object *
image_json_docker_config (json_object *config)
{
  json_object *o = json_object_new_object ();

  for (size_t i = 0; i < sizeof docker_config_keys / sizeof docker_config_keys[0]; i++)
    {
      const char *k = docker_config_keys[i].key;
      json_object *v = NULL;

      if (config && json_object_object_get_ex (config, k, &v))
        json_object_object_add (o, k, json_object_get (v));
      else if (strcmp (k, "ExposedPorts") != 0)
        json_object_object_add (o, k, unset_value (docker_config_keys[i].type));
    }
  if (config && json_object_is_type (config, json_type_object))
    {
      json_object_object_foreach (config, k, v)
        if (!json_object_object_get_ex (o, k, NULL))
          json_object_object_add (o, k, json_object_get (v));
    }
  return o;
}

/* Image layers are directories of the overlay layout, whichever driver
 * later mounts a container's root from them. */
static json_object *
graph_driver (void)
{
  json_object *g = json_object_new_object ();

  json_object_object_add (g, "Data", json_object_new_object ());
  json_object_object_add (g, "Name", json_object_new_string (STORAGE_DRIVER_OVERLAY));
  return g;
}

json_object *
image_json_inspect (struct storage_store *s, const struct storage_image *img,
                    struct error **err)
{
  cleanup_json json_object *cfg = image_json_config (s, img, err);
  json_object *o, *rootfs, *inner, *meta;

  if (cfg == NULL)
    return NULL;
  inner = jobj_get_object (cfg, "config");
  o = json_object_new_object ();
  json_object_object_add (o, "Id", json_object_new_string (img->id));
  json_object_object_add (o, "Digest", json_object_new_string (img->manifest_digest
                                                                  ? img->manifest_digest : ""));
  json_object_object_add (o, "RepoTags", strv_json (img->names));
  json_object_object_add (o, "RepoDigests", strv_json (img->digests));
  json_object_object_add (o, "Parent", json_object_new_string (""));
  json_object_object_add (o, "Comment", str_or_empty (cfg, "comment"));
  json_object_object_add (o, "Created", str_or_empty (cfg, "created"));
  json_object_object_add (o, "Container", str_or_empty (cfg, "container"));
  json_object_object_add (o, "ContainerConfig",
                          image_json_docker_config (jobj_get_object (cfg, "container_config")));
  json_object_object_add (o, "DockerVersion", str_or_empty (cfg, "docker_version"));
  json_object_object_add (o, "Author", str_or_empty (cfg, "author"));
  json_object_object_add (o, "Config", image_json_docker_config (inner));
  json_object_object_add (o, "Architecture", str_or_empty (cfg, "architecture"));
  if (jobj_get_string (cfg, "variant"))
    json_object_object_add (o, "Variant", str_or_empty (cfg, "variant"));
  json_object_object_add (o, "Os", str_or_empty (cfg, "os"));
  json_object_object_add (o, "Size", json_object_new_int64 ((int64_t) img->size));
  json_object_object_add (o, "VirtualSize", json_object_new_int64 ((int64_t) img->size));
  copy_member (o, "Labels", inner, "Labels", json_object_new_null ());
  json_object_object_add (o, "ManifestType", json_object_new_string (img->manifest_type
                                                                        ? img->manifest_type
                                                                        : ""));
  rootfs = json_object_new_object ();
  json_object_object_add (rootfs, "Type", json_object_new_string ("layers"));
  copy_member (rootfs, "Layers", jobj_get_object (cfg, "rootfs"), "diff_ids",
               json_object_new_array ());
  json_object_object_add (o, "RootFS", rootfs);
  copy_member (o, "History", cfg, "history", json_object_new_array ());
  json_object_object_add (o, "GraphDriver", graph_driver ());
  /* Tag times are not recorded: Go's zero time, as docker prints for an
   * image that was pulled and never tagged here. */
  meta = json_object_new_object ();
  json_object_object_add (meta, "LastTagTime", json_object_new_string ("0001-01-01T00:00:00Z"));
  json_object_object_add (o, "Metadata", meta);
  return o;
}

json_object *
image_json_list_entry (struct storage_store *s, const struct storage_image *img,
                       struct error **err)
{
  cleanup_json json_object *cfg = image_json_config (s, img, err);
  json_object *o;
  char created[64];

  if (cfg == NULL)
    return NULL;
  o = json_object_new_object ();
  json_object_object_add (o, "Id", json_object_new_string (images_hex_id (img->id)));
  json_object_object_add (o, "ParentId", json_object_new_string (""));
  json_object_object_add (o, "RepoTags", strv_json (img->names));
  json_object_object_add (o, "RepoDigests", strv_json (img->digests));
  json_object_object_add (o, "Size", json_object_new_int64 ((int64_t) img->size));
  json_object_object_add (o, "SharedSize", json_object_new_int64 (0));
  json_object_object_add (o, "VirtualSize", json_object_new_int64 ((int64_t) img->size));
  copy_member (o, "Labels", jobj_get_object (cfg, "config"), "Labels",
               json_object_new_object ());
  json_object_object_add (o, "Containers", json_object_new_int (0));
  json_object_object_add (o, "Names", strv_json (img->names));
  json_object_object_add (o, "Digest", json_object_new_string (img->manifest_digest
                                                                  ? img->manifest_digest : ""));
  json_object_object_add (o, "Dangling",
                          json_object_new_boolean ((img->names == NULL || img->names[0] == NULL)
                                                   && (img->digests == NULL
                                                       || img->digests[0] == NULL)));
  json_object_object_add (o, "Created", json_object_new_int64 (img->created));
  human_rfc3339 (img->created, 0, created, sizeof created);
  json_object_object_add (o, "CreatedAt", json_object_new_string (created));
  return o;
}
