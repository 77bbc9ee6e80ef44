/* Named volumes.  Layout: <root>/volumes/<name>/volume.json and _data/.
 * Creation makes _data first and writes volume.json last (atomically), so
 * a volume without volume.json is a crashed creation and is redone. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "context.h"
#include "libutil/fs.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/lock.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "volumes.h"

bool
volumes_name_valid (const char *s)
{
  return container_name_valid (s);
}

static char *
volume_dir (struct skiff_context *ctx, const char *name)
{
  return xasprintf ("%s/volumes/%s", ctx->root, name);
}

static int
lock_volumes (struct skiff_context *ctx, struct error **err)
{
  cleanup_free char *dir = xasprintf ("%s/volumes", ctx->root);
  cleanup_free char *path = xasprintf ("%s/volumes/.lock", ctx->root);

  if (fs_mkdir_p (dir, 0700, err) < 0)
    return -1;
  return lock_acquire (path, LOCK_EXCLUSIVE_MODE, err);
}

static char *
random_name (void)
{
  unsigned char raw[32];
  char *hex = xmalloc (65);
  size_t got = 0;

  while (got < sizeof raw)
    {
      ssize_t r = getrandom (raw + got, sizeof raw - got, 0);
      if (r > 0)
        got += (size_t) r;
    }
  for (size_t i = 0; i < sizeof raw; i++)
    sprintf (hex + 2 * i, "%02x", raw[i]);
  return hex;
}

static int
write_meta (struct skiff_context *ctx, const char *name, char **labels, struct error **err)
{
  cleanup_free char *dir = volume_dir (ctx, name);
  cleanup_free char *data = xasprintf ("%s/_data", dir);
  cleanup_free char *meta = xasprintf ("%s/volume.json", dir);
  cleanup_json json_object *o = json_object_new_object ();
  json_object *l = json_object_new_object ();
  char created[64];

  for (char **p = labels; p && *p; p++)
    {
      cleanup_free char *k = NULL, *v = NULL;
      if (parse_kv (*p, true, &k, &v, err) < 0)
        {
          json_object_put (l);
          return err_wrap (err, "--label");
        }
      json_object_object_add (l, k, json_object_new_string (v ? v : ""));
    }
  if (fs_mkdir_p (data, 0755, err) < 0)
    {
      json_object_put (l);
      return -1;
    }
  human_rfc3339 (container_now_ns () / 1000000000, 0, created, sizeof created);
  json_object_object_add (o, "Name", json_object_new_string (name));
  json_object_object_add (o, "Driver", json_object_new_string ("local"));
  json_object_object_add (o, "Mountpoint", json_object_new_string (data));
  json_object_object_add (o, "CreatedAt", json_object_new_string (created));
  json_object_object_add (o, "Labels", l);
  json_object_object_add (o, "Scope", json_object_new_string ("local"));
  json_object_object_add (o, "Options", json_object_new_object ());
  return jobj_write_file (meta, o, true, err);
}

static bool
volume_exists (struct skiff_context *ctx, const char *name)
{
  cleanup_free char *meta = xasprintf ("%s/volumes/%s/volume.json", ctx->root, name);
  return fs_exists (meta);
}

int
volumes_create (struct skiff_context *ctx, const char *name, char **labels,
                bool is_ignore_existing, char **name_out, struct error **err)
{
  cleanup_close int lk = -1;
  cleanup_free char *chosen = name ? xstrdup (name) : random_name ();

  if (!volumes_name_valid (chosen))
    return err_make (err, 0, "invalid volume name \"%s\": names must match "
                     "[a-zA-Z0-9][a-zA-Z0-9_.-]*", chosen);
  lk = lock_volumes (ctx, err);
  if (lk < 0)
    return -1;
  if (volume_exists (ctx, chosen))
    {
      if (!is_ignore_existing)
        return err_make (err, 0, "volume with name %s already exists: volume already exists",
                         chosen);
    }
  else if (write_meta (ctx, chosen, labels, err) < 0)
    return err_wrap (err, "create volume \"%s\"", chosen);
  if (name_out)
    *name_out = steal_ptr (&chosen);
  return 0;
}

json_object *
volumes_inspect (struct skiff_context *ctx, const char *name, struct error **err)
{
  cleanup_free char *meta = NULL;

  if (!volumes_name_valid (name) || !volume_exists (ctx, name))
    {
      err_make (err, 0, "no such volume %s", name);
      return NULL;
    }
  meta = xasprintf ("%s/volumes/%s/volume.json", ctx->root, name);
  return jobj_parse_file (meta, 1 << 20, err);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
volumes_list (struct skiff_context *ctx, struct error **err)
{
  cleanup_free char *dir = xasprintf ("%s/volumes", ctx->root);
  cleanup_dir DIR *d = opendir (dir);
  char **names = xcalloc (1, sizeof *names);
  struct dirent *de;

  if (d == NULL)
    {
      if (errno == ENOENT)
        return names;
      strv_free (names);
      err_make (err, errno, "open \"%s\"", dir);
      return NULL;
    }
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.' && volume_exists (ctx, de->d_name))
      names = strv_append (names, de->d_name);
  qsort (names, strv_len (names), sizeof *names, cmp_str);
  return names;
}

char **
volumes_in_use (struct skiff_context *ctx, struct error **err)
{
  struct container **all = NULL;
  char **names = xcalloc (1, sizeof *names);

  if (container_list (ctx, &all, err) < 0)
    {
      strv_free (names);
      return NULL;
    }
  for (size_t i = 0; all[i]; i++)
    {
      json_object *v = jobj_get_array (all[i]->config, "Volumes");
      for (size_t j = 0; v && j < json_object_array_length (v); j++)
        names = strv_append (names, json_object_get_string (json_object_array_get_idx (v, j)));
    }
  container_vec_free (all);
  return names;
}

static int
remove_child (void *arg, struct error **err)
{
  return fs_remove_tree (arg, err);
}

int
volumes_remove (struct skiff_context *ctx, const char *name, bool is_force, struct error **err)
{
  cleanup_close int lk = -1;
  cleanup_strv char **used = NULL;
  cleanup_free char *dir = NULL, *trash = NULL;

  if (!volumes_name_valid (name) || !volume_exists (ctx, name))
    return err_make (err, 0, "no volume with name \"%s\" found: no such volume", name);
  used = volumes_in_use (ctx, err);
  if (used == NULL)
    return -1;
  for (char **u = used; *u && !is_force; u++)
    if (strcmp (*u, name) == 0)
      return err_make_code (err, 2, 0, "volume %s is being used by a container: volume is "
                            "being used", name);
  lk = lock_volumes (ctx, err);
  if (lk < 0)
    return -1;
  dir = volume_dir (ctx, name);
  trash = xasprintf ("%s/volumes/.trash-%s", ctx->root, name);
  if (rename (dir, trash) < 0)
    return err_make (err, errno, "remove volume \"%s\"", name);
  if (ctx->is_rootless)
    return context_run_in_userns (ctx, remove_child, trash, err);
  return fs_remove_tree (trash, err);
}

/* The volume a container uses is recorded in its config ("Volumes"), so
 * `volume rm` can refuse while it is in use. */
static void
record_use (struct container *c, const char *name)
{
  json_object *v = jobj_get_array (c->config, "Volumes");

  if (v == NULL)
    {
      v = json_object_new_array ();
      json_object_object_add (c->config, "Volumes", v);
    }
  for (size_t i = 0; i < json_object_array_length (v); i++)
    if (strcmp (json_object_get_string (json_object_array_get_idx (v, i)), name) == 0)
      return;
  json_object_array_add (v, json_object_new_string (name));
}

int
volumes_resolve (struct skiff_context *ctx, struct container *c, struct runtime_mount *m,
                 struct error **err)
{
  cleanup_free char *name = NULL;

  if (volumes_create (ctx, m->source, NULL, true, &name, err) < 0)
    return -1;
  record_use (c, name);
  free (m->source);
  m->source = xasprintf ("%s/volumes/%s/_data", ctx->root, name);
  m->type = RUNTIME_MOUNT_BIND;
  return 0;
}
