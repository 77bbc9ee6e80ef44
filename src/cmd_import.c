/* skiff import / image import: make an image from a rootfs tarball. */
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
  enum { OPT_ARCH = 1000, OPT_OS, OPT_VARIANT };
  static const struct option opts[] = {
    { "change", required_argument, NULL, 'c' },
    { "message", required_argument, NULL, 'm' },
    { "quiet", no_argument, NULL, 'q' },
    { "arch", required_argument, NULL, OPT_ARCH },
    { "os", required_argument, NULL, OPT_OS },
    { "variant", required_argument, NULL, OPT_VARIANT },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct image_archive_import_opts o = { 0 };
  cleanup_strv char **changes = xcalloc (1, sizeof *changes);
  cleanup_free char *id = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+c:m:qh", opts, &cmd_import_command, err)) != -1)
    switch (c)
      {
      case 'c':
        changes = strv_append (changes, optarg);
        break;
      case 'm':
        o.message = optarg;
        break;
      case 'q':
        o.is_quiet = true;
        break;
      case OPT_ARCH:
        o.arch = optarg;
        break;
      case OPT_OS:
        o.os = optarg;
        break;
      case OPT_VARIANT:
        o.variant = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_import_command, argc - optind, 1, 2, err) < 0)
    return -1;
  o.input = argv[optind];
  o.reference = optind + 1 < argc ? argv[optind + 1] : NULL;
  o.changes = changes;
  if (image_archive_import (ctx, &o, &id, err) < 0)
    return -1;
  events_image (ctx, "import", id, o.reference);
  printf ("%s\n", id);
  return 0;
}

const struct command cmd_import_command = {
  .name = "import",
  .summary = "Import a tarball to create a filesystem image",
  .usage = "import [options] PATH [REFERENCE]",
  .options_help =
    "      --arch string          Set the architecture of the imported image\n"
    "  -c, --change stringArray   Apply the following possible instructions to the created image: CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR\n"
    "  -m, --message string       Set commit message for imported image\n"
    "      --os string            Set the OS of the imported image\n"
    "  -q, --quiet                Suppress output\n"
    "      --variant string       Set the variant of the imported image\n",
  .run = run,
};
