/* skiff save / image save: write images to a docker-archive or an OCI
 * archive (or their directory forms). */
#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "events.h"
#include "image_archive.h"

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_FORMAT = 1000 };
  static const struct option opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "quiet", no_argument, NULL, 'q' },
    { "multi-image-archive", no_argument, NULL, 'm' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct image_archive_save_opts o = { .format = IMAGE_ARCHIVE_DOCKER_ARCHIVE };
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+o:qmh", opts, &cmd_save_command, err)) != -1)
    switch (c)
      {
      case 'o':
        o.output = optarg;
        break;
      case OPT_FORMAT:
        if (image_archive_parse_format (optarg, &o.format, err) < 0)
          return -1;
        break;
      case 'q':
        o.is_quiet = true;
        break;
      case 'm':
        o.is_multi_image = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_save_command, argc - optind, 1, -1, err) < 0)
    return -1;
  /* Progress would only interleave with a pipe's reader (podman is quiet
   * here too). */
  if (o.output == NULL)
    o.is_quiet = true;
  if (image_archive_save (ctx, argv + optind, &o, err) < 0)
    return -1;
  for (int i = optind; i < argc; i++)
    events_image (ctx, "save", NULL, argv[i]);
  return 0;
}

const struct command cmd_save_command = {
  .name = "save",
  .summary = "Save image(s) to an archive",
  .usage = "save [options] IMAGE [IMAGE...]",
  .options_help =
    "      --format string         Save image to oci-archive, oci-dir (directory with oci manifest type), docker-archive, docker-dir (directory with v2s2 manifest type) (default \"docker-archive\")\n"
    "  -m, --multi-image-archive   Interpret additional arguments as images not tags and create a multi-image-archive (only for docker-archive)\n"
    "  -o, --output string         Write to a specified file (default: stdout, which must be redirected)\n"
    "  -q, --quiet                 Suppress the output\n",
  .run = run,
};
