/* skiff rmi / image rm: untag or delete images, and the layers only they
 * used.  Exit codes as podman: 1 when an image is not known, 2 when it is
 * in use, 125 otherwise. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "events.h"
#include "images.h"
#include "libutil/log.h"
#include "libutil/mem.h"

struct rmi_opts
{
  bool is_force;
  bool is_all; /* the arguments are every image's ID */
};

/* Whether the user named the image by one of its names rather than its ID:
 * then only that name goes when the image has others (docker's rule). */
static const char *
named_as (const struct storage_image *img, const char *arg)
{
  cleanup_free char *normal = images_normalize_name (arg, NULL);

  for (char **n = img->names; n && *n; n++)
    if (strcmp (*n, arg) == 0 || (normal && strcmp (*n, normal) == 0))
      return *n;
  return NULL;
}

static int
delete_image (struct skiff_context *ctx, struct storage_store *s,
              const struct storage_image *img, bool is_force, struct error **err)
{
  if (is_force && images_remove_containers (ctx, img->id, err) < 0)
    return err_wrap (err, "remove image %.12s", images_hex_id (img->id));
  if (images_check_unused (img, ctx, err) < 0)
    return -1;
  for (char **n = img->names; n && *n; n++)
    printf ("Untagged: %s\n", *n);
  if (storage_image_delete (s, img->id, images_check_unused, ctx, NULL, err) < 0)
    return err_wrap (err, "remove image %.12s", images_hex_id (img->id));
  for (char **n = img->names; n && *n; n++)
    events_image (ctx, "untag", img->id, *n);
  events_image (ctx, "remove", img->id, img->names ? img->names[0] : NULL);
  printf ("Deleted: %s\n", images_hex_id (img->id));
  return 0;
}

static int
remove_one (struct skiff_context *ctx, struct storage_store *s, const char *arg,
            const struct rmi_opts *o,
            struct error **err)
{
  cleanup_image struct storage_image *img = NULL;
  const char *name;

  if (images_find (s, arg, &img, err) < 0)
    return -1;
  if (img == NULL)
    return err_make_code (err, 1, 0, "%s: image not known", arg);
  name = named_as (img, arg);
  if (name && strv_len (img->names) > 1 && !o->is_force)
    {
      printf ("Untagged: %s\n", name);
      if (storage_image_untag (s, name, err) < 0)
        return -1;
      events_image (ctx, "untag", img->id, name);
      return 0;
    }
  /* An ID names every tag at once: removing them all takes --force, as
   * with podman and docker. */
  if (name == NULL && strv_len (img->names) > 1 && !o->is_force && !o->is_all)
    return err_make (err, 0, "unable to delete image \"%s\" by ID with more than one tag: "
                     "please force removal (rmi -f)", images_hex_id (img->id));
  return delete_image (ctx, s, img, o->is_force, err);
}

static char **
all_image_ids (struct storage_store *s, struct error **err)
{
  struct storage_image **all = NULL;
  char **ids = NULL;

  if (storage_image_list (s, &all, err) < 0)
    return NULL;
  ids = xcalloc (1, sizeof *ids);
  for (size_t i = 0; all[i]; i++)
    ids = strv_append (ids, all[i]->id);
  storage_image_vec_free (all);
  return ids;
}

/* Report every failure but the last, which becomes the command's error, so
 * `rmi a b` removes b even when a is unknown (podman does the same). */
static int
remove_all (struct skiff_context *ctx, char **args, const struct rmi_opts *o,
            struct error **err)
{
  cleanup_storage struct storage_store *s = NULL;
  cleanup_error struct error *last = NULL;

  if (images_open (ctx, true, &s, err) < 0)
    return -1;
  if (storage_lock (s, true, err) < 0)
    return -1;
  for (char **a = args; *a; a++)
    {
      struct error *e = NULL;
      if (remove_one (ctx, s, *a, o, &e) < 0)
        {
          if (last)
            err_print (last, stderr);
          err_release (&last);
          last = e;
        }
    }
  storage_unlock (s);
  if (images_purge_trash (ctx, s, err) < 0)
    {
      log_warn ("%s", (*err)->msg);
      err_release (err);
    }
  if (last)
    {
      *err = steal_ptr (&last);
      return -1;
    }
  return 0;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct rmi_opts o = { 0 };
  cleanup_strv char **args = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+afh", opts, &cmd_rmi_command, err)) != -1)
    switch (c)
      {
      case 'a':
        o.is_all = true;
        break;
      case 'f':
        o.is_force = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (o.is_all)
    {
      cleanup_storage struct storage_store *s = NULL;
      if (argc > optind)
        return err_make (err, 0, "when using the --all switch, you may not pass any "
                         "images names or IDs");
      if (images_open (ctx, false, &s, err) < 0 || (args = all_image_ids (s, err)) == NULL)
        return -1;
      if (args[0] == NULL)
        return 0;
    }
  else
    {
      if (cli_require_args (&cmd_rmi_command, argc - optind, 1, -1, err) < 0)
        return -1;
      args = xcalloc (1, sizeof *args);
      for (int i = optind; i < argc; i++)
        args = strv_append (args, argv[i]);
    }
  return remove_all (ctx, args, &o, err);
}

const struct command cmd_rmi_command = {
  .name = "rmi",
  .summary = "Remove one or more images from local storage",
  .usage = "rmi [options] IMAGE [IMAGE...]",
  .options_help = "  -a, --all     Remove all images\n"
                  "  -f, --force   Remove all names of the image, not just the one given\n",
  .run = run,
};
