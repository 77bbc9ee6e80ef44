/* Named volumes.  Layout: <root>/volumes/<name>/volume.json and _data/.
 * Creation makes _data first and writes volume.json last (atomically), so
 * a volume without volume.json is a crashed creation and is redone.
 *
 * Which containers use a volume is read from their records: the named
 * volumes of -v and --mount, and the "Volumes" list a start records (it
 * also holds anonymous volumes, whose random names only exist once made).
 * A new volume carries "NeedsCopyUp" (podman's name) until a container
 * started with it: the runtime then fills an empty volume with what the
 * image has at the mount point. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "context.h"
#include "events.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/lock.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "volumes.h"

#define VOLUME_JSON_MAX (1u << 20)

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

static char *
meta_path (struct skiff_context *ctx, const char *name)
{
  return xasprintf ("%s/volumes/%s/volume.json", ctx->root, name);
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
labels_json (char **labels, json_object **out, struct error **err)
{
  cleanup_json json_object *l = json_object_new_object ();

  for (char **p = labels; p && *p; p++)
    {
      cleanup_free char *k = NULL, *v = NULL;
      if (parse_kv (*p, true, &k, &v, err) < 0)
        return err_wrap (err, "--label");
      json_object_object_add (l, k, json_object_new_string (v ? v : ""));
    }
  *out = steal_ptr (&l);
  return 0;
}

static int
write_meta (struct skiff_context *ctx, const char *name, char **labels, struct error **err)
{
  cleanup_free char *dir = volume_dir (ctx, name);
  cleanup_free char *data = xasprintf ("%s/_data", dir);
  cleanup_free char *meta = meta_path (ctx, name);
  cleanup_json json_object *o = json_object_new_object ();
  json_object *l = NULL;
  char created[64];

  if (labels_json (labels, &l, err) < 0)
    return -1;
  json_object_object_add (o, "Labels", l);
  if (fs_mkdir_p (data, 0755, err) < 0)
    return -1;
  human_rfc3339 (container_now_ns () / 1000000000, 0, created, sizeof created);
  json_object_object_add (o, "Name", json_object_new_string (name));
  json_object_object_add (o, "Driver", json_object_new_string ("local"));
  json_object_object_add (o, "Mountpoint", json_object_new_string (data));
  json_object_object_add (o, "CreatedAt", json_object_new_string (created));
  json_object_object_add (o, "Scope", json_object_new_string ("local"));
  json_object_object_add (o, "Options", json_object_new_object ());
  json_object_object_add (o, "NeedsCopyUp", json_object_new_boolean (true));
  return jobj_write_file (meta, o, true, err);
}

static bool
volume_exists (struct skiff_context *ctx, const char *name)
{
  cleanup_free char *meta = meta_path (ctx, name);
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
  else
    events_volume (ctx, "create", chosen);
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
  meta = meta_path (ctx, name);
  return jobj_parse_file (meta, VOLUME_JSON_MAX, err);
}

bool
volumes_exists (struct skiff_context *ctx, const char *name)
{
  return volumes_name_valid (name) && volume_exists (ctx, name);
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

/* ---- which containers use which volume ------------------------------------ */

static char **
add_unique (char **v, const char *s)
{
  for (char **p = v; p && *p; p++)
    if (strcmp (*p, s) == 0)
      return v;
  return strv_append (v, s);
}

typedef int (*mount_parser) (const char *spec, struct runtime_mount *out, struct error **err);

/* The named volumes of C's -v or --mount specs under KEY.  A spec that no
 * longer parses cannot name a volume: it is skipped. */
static char **
add_named (char **names, struct container *c, const char *key, mount_parser parse)
{
  json_object *specs = jobj_get_array (jobj_get_object (c->config, "HostConfig"), key);

  for (size_t i = 0; specs && i < json_object_array_length (specs); i++)
    {
      struct runtime_mount m = { 0 };
      struct error *e = NULL;
      const char *spec = json_object_get_string (json_object_array_get_idx (specs, i));

      if (spec == NULL || parse (spec, &m, &e) < 0)
        {
          err_release (&e);
          continue;
        }
      if (m.type == RUNTIME_MOUNT_VOLUME && m.source)
        names = add_unique (names, m.source);
      runtime_mount_clear (&m);
    }
  return names;
}

char **
volumes_of_container (struct container *c)
{
  char **names = xcalloc (1, sizeof *names);
  json_object *v = jobj_get_array (c->config, "Volumes");

  names = add_named (names, c, "Binds", runtime_mount_parse_volume);
  names = add_named (names, c, "Mounts", runtime_mount_parse_mount);
  for (size_t j = 0; v && j < json_object_array_length (v); j++)
    {
      const char *s = json_object_get_string (json_object_array_get_idx (v, j));
      if (s)
        names = add_unique (names, s);
    }
  return names;
}

static bool
strv_has (char *const *v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
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
      cleanup_strv char **mine = volumes_of_container (all[i]);
      for (char **p = mine; *p; p++)
        names = add_unique (names, *p);
    }
  container_vec_free (all);
  return names;
}

int
volumes_users (struct skiff_context *ctx, const char *name, struct container ***out,
               struct error **err)
{
  struct container **all = NULL;
  size_t n = 0;

  if (container_list (ctx, &all, err) < 0)
    return -1;
  *out = xcalloc (1, sizeof **out);
  for (size_t i = 0; all[i]; i++)
    {
      cleanup_strv char **mine = volumes_of_container (all[i]);
      if (!strv_has (mine, name))
        {
          container_free (all[i]);
          continue;
        }
      *out = xrealloc (*out, (n + 2) * sizeof **out);
      (*out)[n++] = all[i];
      (*out)[n] = NULL;
    }
  free (all);
  return 0;
}

/* ---- removal ------------------------------------------------------------- */

static int
remove_child (void *arg, struct error **err)
{
  return fs_remove_tree (arg, err);
}

static int
in_use_error (struct skiff_context *ctx, const char *name, struct error **err)
{
  struct container **users = NULL;
  cleanup_buf struct buf ids = BUF_INIT;

  if (volumes_users (ctx, name, &users, err) < 0)
    return -1;
  for (size_t i = 0; users[i]; i++)
    buf_printf (&ids, "%s%s", i ? ", " : "", users[i]->id);
  container_vec_free (users);
  if (ids.len == 0)
    return 0;
  return err_make_code (err, 2, 0, "volume %s is being used by the following container(s): "
                        "%s: volume is being used", name, ids.data);
}

int
volumes_remove (struct skiff_context *ctx, const char *name, bool is_force, struct error **err)
{
  cleanup_close int lk = -1;
  cleanup_free char *dir = NULL, *trash = NULL;

  if (!volumes_exists (ctx, name))
    return err_make (err, 0, "no volume with name \"%s\" found: no such volume", name);
  if (!is_force && in_use_error (ctx, name, err) < 0)
    return -1;
  lk = lock_volumes (ctx, err);
  if (lk < 0)
    return -1;
  dir = volume_dir (ctx, name);
  trash = xasprintf ("%s/volumes/.trash-%s", ctx->root, name);
  if (rename (dir, trash) < 0)
    return err_make (err, errno, "remove volume \"%s\"", name);
  events_volume (ctx, "remove", name);
  if (ctx->is_rootless)
    return context_run_in_userns (ctx, remove_child, trash, err);
  return fs_remove_tree (trash, err);
}

/* ---- use by a container ---------------------------------------------------- */

static bool
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
      return false;
  json_object_array_add (v, json_object_new_string (name));
  return true;
}

void
volumes_remove_anonymous (struct skiff_context *ctx, struct container *c)
{
  json_object *a = jobj_get_object (c->config, "AnonymousVolumes");

  if (a == NULL)
    return;
  json_object_object_foreach (a, dest, name)
    {
      struct error *e = NULL;
      (void) dest;
      if (volumes_remove (ctx, json_object_get_string (name), true, &e) < 0)
        {
          log_warn ("remove anonymous volume %s: %s", json_object_get_string (name), e->msg);
          err_release (&e);
        }
    }
}

/* An anonymous volume is made once per destination and kept in the record
 * ("AnonymousVolumes": destination -> name), so a restart finds its data. */
static const char *
anonymous_for (struct container *c, const char *destination)
{
  return jobj_get_string (jobj_get_object (c->config, "AnonymousVolumes"), destination);
}

static void
record_anonymous (struct container *c, const char *destination, const char *name)
{
  json_object *a = jobj_get_object (c->config, "AnonymousVolumes");

  if (a == NULL)
    {
      a = json_object_new_object ();
      json_object_object_add (c->config, "AnonymousVolumes", a);
    }
  json_object_object_add (a, destination, json_object_new_string (name));
}

static int
save_record (struct container *c, struct error **err)
{
  cleanup_free char *path = xasprintf ("%s/config.json", c->dir);
  return jobj_write_file (path, c->config, false, err);
}

static bool
needs_copy_up (struct skiff_context *ctx, const char *name)
{
  cleanup_free char *meta = meta_path (ctx, name);
  cleanup_json json_object *o = jobj_parse_file (meta, VOLUME_JSON_MAX, NULL);

  return jobj_get_bool (o, "NeedsCopyUp", false);
}

int
volumes_resolve (struct skiff_context *ctx, struct container *c, struct runtime_mount *m,
                 struct error **err)
{
  cleanup_free char *name = NULL;
  const char *wanted = m->source ? m->source : anonymous_for (c, m->destination);
  bool is_changed;

  if (volumes_create (ctx, wanted, NULL, true, &name, err) < 0)
    return -1;
  is_changed = record_use (c, name);
  if (m->source == NULL && (wanted == NULL || strcmp (wanted, name) != 0))
    {
      record_anonymous (c, m->destination, name);
      is_changed = true;
    }
  /* The caller holds C's lock: the record may be rewritten. */
  if (is_changed && save_record (c, err) < 0)
    return err_wrap (err, "container %.12s: record volume \"%s\"", c->id, name);
  m->is_copy_up = !m->is_nocopy && needs_copy_up (ctx, name);
  free (m->source);
  m->source = xasprintf ("%s/volumes/%s/_data", ctx->root, name);
  m->type = RUNTIME_MOUNT_BIND;
  return 0;
}

static void
clear_copy_up (struct skiff_context *ctx, const char *name)
{
  cleanup_free char *meta = meta_path (ctx, name);
  cleanup_json json_object *o = jobj_parse_file (meta, VOLUME_JSON_MAX, NULL);
  struct error *e = NULL;

  if (!jobj_get_bool (o, "NeedsCopyUp", false))
    return;
  json_object_object_add (o, "NeedsCopyUp", json_object_new_boolean (false));
  if (jobj_write_file (meta, o, true, &e) < 0)
    {
      log_warn ("volume %s: %s", name, e->msg);
      err_release (&e);
    }
}

void
volumes_copy_up_done (struct skiff_context *ctx, struct container *c)
{
  cleanup_strv char **names = volumes_of_container (c);
  struct error *e = NULL;
  int lk;

  /* The hot path (no volumes) takes no lock. */
  if (names[0] == NULL)
    return;
  lk = lock_volumes (ctx, &e);
  if (lk < 0)
    {
      log_warn ("volumes: %s", e->msg);
      err_release (&e);
      return;
    }
  for (char **n = names; *n; n++)
    if (volumes_exists (ctx, *n))
      clear_copy_up (ctx, *n);
  close (lk);
}
