/* skiff tag / untag: add and remove names of a local image. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "events.h"
#include "images.h"
#include "libutil/mem.h"
#include "reference.h"

/* A tag target must be a name with a tag, not a digest: digests are what
 * the content is, not something one assigns. */
static char *
target_name (const char *arg, struct error **err)
{
  cleanup_image_ref struct image_ref ref = { 0 };

  if (reference_parse (arg, &ref, err) < 0)
    return NULL;
  if (ref.digest)
    {
      err_make (err, 0, "invalid tag \"%s\": a tag cannot contain a digest", arg);
      return NULL;
    }
  return reference_to_string (&ref);
}

static int
run_tag (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_storage struct storage_store *s = NULL;
  cleanup_image struct storage_image *img = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+h", opts, &cmd_tag_command, err)) != -1)
    return c == CLI_OPT_HELP ? 0 : -1;
  if (cli_require_args (&cmd_tag_command, argc - optind, 2, -1, err) < 0)
    return -1;
  if (images_open (ctx, false, &s, err) < 0 || storage_lock (s, true, err) < 0)
    return -1;
  if (images_require (s, argv[optind], &img, err) < 0)
    return -1;
  for (int i = optind + 1; i < argc; i++)
    {
      cleanup_free char *name = target_name (argv[i], err);
      if (name == NULL || storage_image_tag (s, img->id, name, err) < 0)
        return err_wrap (err, "tag \"%s\"", argv[i]);
      events_image (ctx, "tag", img->id, name);
    }
  return 0;
}

/* Names to remove: the ones given (normalised) or, with none, all, and the
 * repo digests an image pulled by digest is named by: it is dangling
 * afterwards, as with podman. */
static int
untag (struct skiff_context *ctx, struct storage_store *s, const struct storage_image *img,
       const char *name, struct error **err)
{
  if (storage_image_untag (s, name, err) < 0)
    return -1;
  events_image (ctx, "untag", img->id, name);
  return 0;
}

static int
untag_names (struct skiff_context *ctx, struct storage_store *s,
             const struct storage_image *img, char **names, int n, struct error **err)
{
  if (n == 0)
    {
      for (char **p = img->names; p && *p; p++)
        if (untag (ctx, s, img, *p, err) < 0)
          return -1;
      if (img->names == NULL || img->names[0] == NULL)
        for (char **p = img->digests; p && *p; p++)
          if (untag (ctx, s, img, *p, err) < 0)
            return -1;
      return 0;
    }
  for (int i = 0; i < n; i++)
    {
      cleanup_free char *name = target_name (names[i], err);
      bool is_ours = false;

      if (name == NULL)
        return -1;
      for (char **p = img->names; p && *p; p++)
        is_ours = is_ours || strcmp (*p, name) == 0;
      if (!is_ours)
        return err_make (err, 0, "%s: tag not known", names[i]);
      if (untag (ctx, s, img, name, err) < 0)
        return -1;
    }
  return 0;
}

static int
run_untag (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_storage struct storage_store *s = NULL;
  cleanup_image struct storage_image *img = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+h", opts, &cmd_untag_command, err)) != -1)
    return c == CLI_OPT_HELP ? 0 : -1;
  if (cli_require_args (&cmd_untag_command, argc - optind, 1, -1, err) < 0)
    return -1;
  if (images_open (ctx, false, &s, err) < 0 || storage_lock (s, true, err) < 0)
    return -1;
  if (images_require (s, argv[optind], &img, err) < 0)
    return -1;
  return untag_names (ctx, s, img, argv + optind + 1, argc - optind - 1, err);
}

const struct command cmd_tag_command = {
  .name = "tag",
  .summary = "Add an additional name to a local image",
  .usage = "tag IMAGE TARGET_NAME [TARGET_NAME...]",
  .run = run_tag,
};

const struct command cmd_untag_command = {
  .name = "untag",
  .summary = "Remove a name from a local image",
  .usage = "untag IMAGE [IMAGE...]",
  .run = run_untag,
};
