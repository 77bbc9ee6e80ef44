/* skiff system: the system command family (system df, system prune,
 * system reset, and system info, the family's name for `info`). */
#include "config.h"

#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_json.h"
#include "container_ops.h"
#include "container_size.h"
#include "context.h"
#include "events.h"
#include "format.h"
#include "images.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/table.h"
#include "storage/storage.h"
#include "volumes.h"

/* What system df and system prune look at, gathered once. */
struct usage
{
  struct storage_image **images;
  struct container **ctrs;
  size_t nctrs;
  uint64_t *ctr_rw;
  uint64_t *ctr_image;
  char **vols;
  char **vols_used;
  uint64_t *vol_size;
  size_t nvols;
  uint64_t *img_shared; /* per image: bytes of layers other images use too */
};

static void
usage_free (struct usage *u)
{
  storage_image_vec_free (u->images);
  container_vec_free (u->ctrs);
  free (u->ctr_rw);
  free (u->ctr_image);
  strv_free (u->vols);
  strv_free (u->vols_used);
  free (u->vol_size);
  free (u->img_shared);
  memset (u, 0, sizeof *u);
}

/* nftw passes no user data, so the walk sums into this. */
static uint64_t walk_total;

static int
walk_add (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void) path;
  (void) ftw;
  if (type == FTW_F)
    walk_total += (uint64_t) st->st_size;
  return 0;
}

/* Bytes of the files under volume NAME's data.  Directories owned by
 * subordinate IDs that we cannot read count as 0, as container sizes do. */
static uint64_t
volume_size (struct skiff_context *ctx, const char *name)
{
  struct error *err = NULL;
  json_object *o = volumes_inspect (ctx, name, &err);
  const char *mp;

  if (!o)
    {
      err_release (&err);
      return 0;
    }
  mp = jobj_get_string (o, "Mountpoint");
  walk_total = 0;
  if (mp)
    (void) nftw (mp, walk_add, 16, FTW_PHYS);
  json_object_put (o);
  return walk_total;
}

static bool
strv_has (char **v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

/* How many images are built on layer CHAIN_ID. */
static size_t
layer_users (const struct usage *u, const char *chain_id)
{
  size_t n = 0;

  for (size_t i = 0; u->images[i]; i++)
    n += strv_has (u->images[i]->layers, chain_id);
  return n;
}

/* Docker's SHARED SIZE: the layers of each image that another image has
 * too (an unreadable layer record counts as 0). */
static void
usage_sharing (const struct storage_store *s, struct usage *u)
{
  size_t n = 0;

  while (u->images[n])
    n++;
  u->img_shared = xcalloc (n + 1, sizeof *u->img_shared);
  for (size_t i = 0; i < n; i++)
    for (char **l = u->images[i]->layers; l && *l; l++)
      {
        struct storage_layer *layer = NULL;
        struct error *e = NULL;

        if (layer_users (u, *l) < 2)
          continue;
        if (storage_layer_get (s, *l, &layer, &e) < 0)
          {
            err_release (&e);
            continue;
          }
        u->img_shared[i] += layer->size;
        storage_layer_free (layer);
      }
}

static int
usage_load (struct skiff_context *ctx, struct usage *u, struct error **err)
{
  cleanup_storage struct storage_store *s = NULL;

  if (images_open (ctx, false, &s, err) < 0 || storage_image_list (s, &u->images, err) < 0)
    return -1;
  usage_sharing (s, u);
  if (container_list (ctx, &u->ctrs, err) < 0)
    return -1;
  while (u->ctrs[u->nctrs])
    u->nctrs++;
  u->ctr_rw = xcalloc (u->nctrs + 1, sizeof *u->ctr_rw);
  u->ctr_image = xcalloc (u->nctrs + 1, sizeof *u->ctr_image);
  if (u->nctrs && container_size_compute (ctx, u->ctrs, u->nctrs, u->ctr_rw, u->ctr_image, err) < 0)
    return -1;
  u->vols = volumes_list (ctx, err);
  if (!u->vols)
    return -1;
  u->vols_used = volumes_in_use (ctx, err);
  if (!u->vols_used)
    return -1;
  while (u->vols[u->nvols])
    u->nvols++;
  u->vol_size = xcalloc (u->nvols + 1, sizeof *u->vol_size);
  for (size_t i = 0; i < u->nvols; i++)
    u->vol_size[i] = volume_size (ctx, u->vols[i]);
  return 0;
}

/* How many containers use image ID. */
static size_t
image_users (const struct usage *u, const char *id)
{
  size_t n = 0;
  for (size_t i = 0; i < u->nctrs; i++)
    if (u->ctrs[i]->image_id && strcmp (u->ctrs[i]->image_id, id) == 0)
      n++;
  return n;
}

static json_object *
df_row (const char *type, size_t total, size_t active, uint64_t size, uint64_t reclaimable)
{
  json_object *o = json_object_new_object ();
  char hs[32], hr[32];
  cleanup_free char *rec = NULL;

  human_size (size, hs, sizeof hs);
  human_size (reclaimable, hr, sizeof hr);
  rec = xasprintf ("%s (%" PRIu64 "%%)", hr, size ? reclaimable * 100 / size : 0);
  json_object_object_add (o, "Type", json_object_new_string (type));
  json_object_object_add (o, "Total", json_object_new_int64 ((int64_t) total));
  json_object_object_add (o, "Active", json_object_new_int64 ((int64_t) active));
  json_object_object_add (o, "Size", json_object_new_string (hs));
  json_object_object_add (o, "Reclaimable", json_object_new_string (rec));
  json_object_object_add (o, "RawSize", json_object_new_int64 ((int64_t) size));
  json_object_object_add (o, "RawReclaimable", json_object_new_int64 ((int64_t) reclaimable));
  return o;
}

static json_object *
df_summary (const struct usage *u)
{
  json_object *rows = json_object_new_array ();
  size_t total = 0, active = 0;
  uint64_t size = 0, rec = 0;

  for (size_t i = 0; u->images[i]; i++, total++)
    {
      size += u->images[i]->size;
      if (image_users (u, u->images[i]->id))
        active++;
      else
        rec += u->images[i]->size;
    }
  json_object_array_add (rows, df_row ("Images", total, active, size, rec));

  active = 0, size = 0, rec = 0;
  for (size_t i = 0; i < u->nctrs; i++)
    {
      size += u->ctr_rw[i];
      if (container_is_running (u->ctrs[i]))
        active++;
      else
        rec += u->ctr_rw[i];
    }
  json_object_array_add (rows, df_row ("Containers", u->nctrs, active, size, rec));

  active = 0, size = 0, rec = 0;
  for (size_t i = 0; i < u->nvols; i++)
    {
      size += u->vol_size[i];
      if (strv_has (u->vols_used, u->vols[i]))
        active++;
      else
        rec += u->vol_size[i];
    }
  json_object_array_add (rows, df_row ("Local Volumes", u->nvols, active, size, rec));
  return rows;
}

static void
print_summary (json_object *rows)
{
  static const char *const headers[] = { "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE" };
  cleanup_table struct table *t = table_new (5, headers);

  for (size_t i = 0; i < json_object_array_length (rows); i++)
    {
      json_object *r = json_object_array_get_idx (rows, i);
      char total[24], active[24];
      snprintf (total, sizeof total, "%" PRId64, jobj_get_int (r, "Total", 0));
      snprintf (active, sizeof active, "%" PRId64, jobj_get_int (r, "Active", 0));
      const char *cells[] = { jobj_get_string (r, "Type"), total, active,
                              jobj_get_string (r, "Size"), jobj_get_string (r, "Reclaimable") };
      table_add_row (t, cells);
    }
  table_print (t, false, stdout);
}

/* Split "registry/repo:tag" at the tag's colon (not a port's). */
static void
split_name (const char *name, char **repo, char **tag)
{
  const char *slash = strrchr (name, '/');
  const char *colon = strrchr (slash ? slash : name, ':');

  *repo = colon ? xstrndup (name, (size_t) (colon - name)) : xstrdup (name);
  *tag = xstrdup (colon ? colon + 1 : "<none>");
}

static void
print_verbose_images (const struct usage *u, time_t now)
{
  static const char *const headers[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE",
                                         "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS" };
  cleanup_table struct table *t = table_new (8, headers);

  for (size_t i = 0; u->images[i]; i++)
    {
      const struct storage_image *img = u->images[i];
      cleanup_free char *repo = NULL, *tag = NULL;
      char id[13], created[64], size[32], shared[32], unique[32], users[24];
      uint64_t nshared = u->img_shared[i] < img->size ? u->img_shared[i] : img->size;

      if (img->names && img->names[0])
        split_name (img->names[0], &repo, &tag);
      else
        {
          repo = xstrdup ("<none>");
          tag = xstrdup ("<none>");
        }
      snprintf (id, sizeof id, "%.12s", images_hex_id (img->id));
      human_ago ((time_t) img->created, now, created, sizeof created);
      human_size (img->size, size, sizeof size);
      human_size (nshared, shared, sizeof shared);
      human_size (img->size - nshared, unique, sizeof unique);
      snprintf (users, sizeof users, "%zu", image_users (u, img->id));
      const char *cells[] = { repo, tag, id, created, size, shared, unique, users };
      table_add_row (t, cells);
    }
  printf ("Images space usage:\n\n");
  table_print (t, false, stdout);
}

static void
print_verbose_containers (const struct usage *u, time_t now)
{
  static const char *const headers[] = { "CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES",
                                         "SIZE", "CREATED", "STATUS", "NAMES" };
  cleanup_table struct table *t = table_new (8, headers);

  for (size_t i = 0; i < u->nctrs; i++)
    {
      struct container *c = u->ctrs[i];
      cleanup_strv char **vols = volumes_of_container (c);
      /* ps's row: the same ID, command, age and status texts */
      json_object *row = container_json_ps_row (c, false, now);
      char nvols[24], size[32];

      snprintf (nvols, sizeof nvols, "%zu", strv_len (vols));
      human_size (u->ctr_rw[i], size, sizeof size);
      const char *cells[] = { jobj_get_string (row, "ID"), jobj_get_string (row, "Image"),
                              jobj_get_string (row, "Command"), nvols, size,
                              jobj_get_string (row, "CreatedAt"),
                              jobj_get_string (row, "Status"), jobj_get_string (row, "Names") };
      table_add_row (t, cells);
      json_object_put (row);
    }
  printf ("\nContainers space usage:\n\n");
  table_print (t, false, stdout);
}

static void
print_verbose_volumes (struct skiff_context *ctx, const struct usage *u)
{
  static const char *const headers[] = { "VOLUME NAME", "LINKS", "SIZE" };
  cleanup_table struct table *t = table_new (3, headers);

  for (size_t i = 0; i < u->nvols; i++)
    {
      struct container **users = NULL;
      struct error *e = NULL;
      size_t n = 0;
      char links[24], size[32];

      if (volumes_users (ctx, u->vols[i], &users, &e) < 0)
        err_release (&e);
      while (users && users[n])
        n++;
      container_vec_free (users);
      snprintf (links, sizeof links, "%zu", n);
      human_size (u->vol_size[i], size, sizeof size);
      const char *cells[] = { u->vols[i], links, size };
      table_add_row (t, cells);
    }
  printf ("\nLocal Volumes space usage:\n\n");
  table_print (t, false, stdout);
}

static int
run_df (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'F' },
    { "help", no_argument, NULL, 'h' },
    { "verbose", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  const char *format = NULL;
  bool is_verbose = false;
  struct usage u = { 0 };
  json_object *rows = NULL;
  int c, r = 0;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+hv", opts, &cmd_system_df_command, err)) != -1)
    switch (c)
      {
      case 'F':
        format = optarg;
        break;
      case 'v':
        is_verbose = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_system_df_command, argc - optind, 0, 0, err) < 0)
    return -1;
  if (usage_load (ctx, &u, err) < 0)
    {
      usage_free (&u);
      return -1;
    }
  if (is_verbose && !format)
    {
      time_t now = time (NULL);
      print_verbose_images (&u, now);
      print_verbose_containers (&u, now);
      print_verbose_volumes (ctx, &u);
      usage_free (&u);
      return 0;
    }
  rows = df_summary (&u);
  usage_free (&u);
  if (format && format_is_json (format))
    {
      cleanup_free char *text = jobj_to_string (rows, true);
      printf ("%s\n", text);
    }
  else if (format)
    {
      cleanup_buf struct buf out = BUF_INIT;
      r = format_render_rows (rows, format, NULL, false, &out, err);
      if (r == 0 && out.data)
        fputs (out.data, stdout);
    }
  else
    print_summary (rows);
  json_object_put (rows);
  return r;
}

/* Remove the containers that do not run; adds their writable layers'
 * sizes to *RECLAIMED. */
static int
prune_containers (struct skiff_context *ctx, const struct usage *u, uint64_t *reclaimed,
                  struct error **err)
{
  bool is_first = true;

  for (size_t i = 0; i < u->nctrs; i++)
    {
      struct container *c = u->ctrs[i];
      if (container_is_running (c))
        continue;
      if (container_rm (ctx, c, false, err) < 0)
        return -1;
      if (is_first)
        printf ("Deleted Containers\n");
      is_first = false;
      printf ("%s\n", c->id);
      *reclaimed += u->ctr_rw[i];
    }
  return 0;
}

/* system prune's image part: "Deleted Images", then their IDs, counted. */
struct pruned_images
{
  bool is_first;
  uint64_t *reclaimed;
};

static void
count_pruned (const struct storage_image *img, void *data)
{
  struct pruned_images *p = data;

  if (p->is_first)
    printf ("Deleted Images\n");
  p->is_first = false;
  printf ("%s\n", images_hex_id (img->id));
  *p->reclaimed += img->size;
}

/* Remove the volumes no container uses, looked up again after the
 * containers went. */
static int
prune_volumes (struct skiff_context *ctx, uint64_t *reclaimed, struct error **err)
{
  cleanup_strv char **vols = volumes_list (ctx, err);
  cleanup_strv char **used = NULL;
  bool is_first = true;

  if (!vols)
    return -1;
  used = volumes_in_use (ctx, err);
  if (!used)
    return -1;
  for (size_t i = 0; vols[i]; i++)
    {
      uint64_t size;
      if (strv_has (used, vols[i]))
        continue;
      size = volume_size (ctx, vols[i]);
      if (volumes_remove (ctx, vols[i], false, err) < 0)
        return -1;
      if (is_first)
        printf ("Deleted Volumes\n");
      is_first = false;
      printf ("%s\n", vols[i]);
      *reclaimed += size;
    }
  return 0;
}

static int
run_prune (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { "volumes", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  bool is_all = false, is_force = false, is_volumes = false;
  struct usage u = { 0 };
  uint64_t reclaimed = 0;
  char total[32];
  int c, r;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+afh", opts, &cmd_system_prune_command, err)) != -1)
    switch (c)
      {
      case 'a':
        is_all = true;
        break;
      case 'f':
        is_force = true;
        break;
      case 'V':
        is_volumes = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_system_prune_command, argc - optind, 0, 0, err) < 0)
    return -1;
  if (!is_force)
    {
      cleanup_free char *q
          = xasprintf ("WARNING! This command removes:\n"
                       "\t- all stopped containers\n"
                       "%s"
                       "\t- %s\n\n"
                       "Are you sure you want to continue?",
                       is_volumes ? "\t- all volumes not used by at least one container\n" : "",
                       is_all ? "all images without at least one container associated with them"
                              : "all dangling images");
      if (!cli_confirm (q))
        return 0;
    }
  r = usage_load (ctx, &u, err);
  if (r == 0)
    r = prune_containers (ctx, &u, &reclaimed, err);
  usage_free (&u);
  if (r == 0)
    {
      struct pruned_images p = { .is_first = true, .reclaimed = &reclaimed };
      r = images_prune (ctx, is_all, count_pruned, &p, err);
    }
  if (r == 0 && is_volumes)
    r = prune_volumes (ctx, &reclaimed, err);
  if (r < 0)
    return -1;
  human_size (reclaimed, total, sizeof total);
  printf ("Total reclaimed space: %s\n", total);
  return 0;
}

/* In the user namespace, where the store's subordinate-owned files are
 * ours to remove. */
static int
reset_remove_trees (void *arg, struct error **err)
{
  struct skiff_context *ctx = arg;

  if (fs_remove_tree (ctx->root, err) < 0)
    return -1;
  return fs_remove_tree (ctx->runroot, err);
}

static int
run_reset (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct container **ctrs = NULL;
  bool is_force = false;
  int c, r = 0;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+fh", opts, &cmd_system_reset_command, err)) != -1)
    switch (c)
      {
      case 'f':
        is_force = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_system_reset_command, argc - optind, 0, 0, err) < 0)
    return -1;
  if (!is_force
      && !cli_confirm ("WARNING! This will remove:\n"
                       "\t- all containers\n"
                       "\t- all images\n"
                       "\t- all volumes\n"
                       "Are you sure you want to continue?"))
    return 0;
  /* Containers first, so that their processes, monitors and mounts are
   * gone before the files under them. */
  if (container_list (ctx, &ctrs, err) < 0)
    return -1;
  for (size_t i = 0; ctrs[i] && r == 0; i++)
    r = container_rm (ctx, ctrs[i], true, err);
  container_vec_free (ctrs);
  if (r < 0 || context_run_in_userns (ctx, reset_remove_trees, ctx, err) < 0)
    return -1;
  events_system (ctx, "reset");
  return 0;
}

static int
run_info (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  return cmd_info_command.run (ctx, argc, argv, err);
}

const struct command cmd_system_df_command = {
  .name = "df",
  .summary = "Show skiff disk usage",
  .usage = "system df [options]",
  .options_help = "      --format string   Pretty-print the output with a Go template or json\n"
                  "  -v, --verbose         Show detailed information on disk usage\n",
  .run = run_df,
};

const struct command cmd_system_prune_command = {
  .name = "prune",
  .summary = "Remove unused data",
  .usage = "system prune [options]",
  .options_help = "  -a, --all       Remove all unused images, not just dangling ones\n"
                  "  -f, --force     Do not prompt for confirmation\n"
                  "      --volumes   Prune volumes\n",
  .run = run_prune,
};

const struct command cmd_system_reset_command = {
  .name = "reset",
  .summary = "Reset skiff storage",
  .usage = "system reset [options]",
  .options_help = "  -f, --force   Do not prompt for confirmation\n",
  .run = run_reset,
};

static const struct command system_info = {
  .name = "info",
  .summary = "Display skiff system information",
  .usage = "system info [options]",
  .run = run_info,
  .same_as = &cmd_info_command,
};

static const struct command *const system_subs[] = {
  &cmd_system_df_command,
  &cmd_events_command,
  &system_info,
  &cmd_system_prune_command,
  &cmd_system_reset_command,
  NULL,
};

const struct command cmd_system_command = {
  .name = "system",
  .summary = "Manage skiff",
  .usage = "system COMMAND",
  .subs = system_subs,
};
