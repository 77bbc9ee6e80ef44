/* skiff image: the image command family (image ls, image rm, ...), and
 * the commands that only exist inside it: image prune and image exists. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "images.h"
#include "libutil/mem.h"

static void
print_pruned (const struct storage_image *img, void *data)
{
  (void) data;
  printf ("%s\n", images_hex_id (img->id));
}

static int
run_prune (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool is_all = false, is_force = false;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+afh", opts, &cmd_image_prune_command, err)) != -1)
    switch (c)
      {
      case 'a':
        is_all = true;
        break;
      case 'f':
        is_force = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_image_prune_command, argc - optind, 0, 0, err) < 0)
    return -1;
  if (!is_force
      && !cli_confirm (is_all ? "WARNING! This command removes all images without at least "
                            "one container associated with them.\nAre you sure you want "
                            "to continue?"
                          : "WARNING! This command removes all dangling images.\nAre you "
                            "sure you want to continue?"))
    return 0;
  return images_prune (ctx, is_all, print_pruned, NULL, err);
}

static int
run_exists (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_storage struct storage_store *s = NULL;
  cleanup_image struct storage_image *img = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+h", opts, &cmd_image_exists_command, err)) != -1)
    return c == CLI_OPT_HELP ? 0 : -1;
  if (cli_require_args (&cmd_image_exists_command, argc - optind, 1, 1, err) < 0)
    return -1;
  if (images_open (ctx, false, &s, err) < 0 || images_find (s, argv[optind], &img, err) < 0)
    return -1;
  return img ? 0 : 1;
}

const struct command cmd_image_prune_command = {
  .name = "prune",
  .summary = "Remove unused images",
  .usage = "image prune [options]",
  .options_help = "  -a, --all     Remove all images not in use by containers, not just dangling ones\n"
                  "  -f, --force   Do not prompt for confirmation\n",
  .run = run_prune,
};

const struct command cmd_image_exists_command = {
  .name = "exists",
  .summary = "Check if an image exists in local storage",
  .usage = "image exists IMAGE",
  .run = run_exists,
};

/* The family's own names for commands that also exist at the top level. */
static int
run_ls (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  return cmd_images_command.run (ctx, argc, argv, err);
}

static int
run_rm (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  return cmd_rmi_command.run (ctx, argc, argv, err);
}

static const struct command image_ls = {
  .name = "ls",
  .summary = "List images in local storage",
  .usage = "image ls [options]",
  .run = run_ls,
  .aliases = { "list" },
  .same_as = &cmd_images_command,
};

static const struct command image_rm = {
  .name = "rm",
  .summary = "Remove one or more images from local storage",
  .usage = "image rm [options] IMAGE [IMAGE...]",
  .run = run_rm,
  .aliases = { "remove" },
  .same_as = &cmd_rmi_command,
};

static const struct command *const image_subs[] = {
  &cmd_build_command,
  &cmd_image_exists_command,
  &cmd_history_command,
  &cmd_import_command,
  &cmd_inspect_command,
  &cmd_load_command,
  &image_ls,
  &cmd_image_prune_command,
  &cmd_pull_command,
  &cmd_push_command,
  &image_rm,
  &cmd_save_command,
  &cmd_tag_command,
  &cmd_untag_command,
  NULL,
};

const struct command cmd_image_command = {
  .name = "image",
  .summary = "Manage images",
  .usage = "image COMMAND",
  .subs = image_subs,
};
