/* skiff load / image load: read images from a docker-archive or an OCI
 * archive into local storage. */
#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "events.h"
#include "image_archive.h"
#include "libutil/mem.h"

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "input", required_argument, NULL, 'i' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct image_archive_load_opts o = { 0 };
  cleanup_strv char **loaded = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+i:qh", opts, &cmd_load_command, err)) != -1)
    switch (c)
      {
      case 'i':
        o.input = optarg;
        break;
      case 'q':
        o.is_quiet = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_load_command, argc - optind, 0, 0, err) < 0)
    return -1;
  if (image_archive_load (ctx, &o, &loaded, err) < 0)
    return -1;
  for (char **n = loaded; *n; n++)
    {
      printf ("Loaded image: %s\n", *n);
      events_image (ctx, "load", NULL, *n);
    }
  return 0;
}

const struct command cmd_load_command = {
  .name = "load",
  .summary = "Load image(s) from a tar archive",
  .usage = "load [options]",
  .options_help = "  -i, --input string   Read from specified archive file (default: stdin)\n"
                  "  -q, --quiet          Suppress the output\n",
  .run = run,
};
