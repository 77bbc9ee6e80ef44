/* skiff commit / container commit: a new image from a container's
 * changes; prints the new image's ID. */
#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_commit.h"
#include "events.h"
#include "libutil/mem.h"

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "author", required_argument, NULL, 'a' },
    { "change", required_argument, NULL, 'c' },
    { "message", required_argument, NULL, 'm' },
    { "pause", optional_argument, NULL, 'p' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct container_commit_opts o = { 0 };
  cleanup_strv char **changes = NULL;
  cleanup_container struct container *c = NULL;
  cleanup_free char *id = NULL;
  int ch;

  cli_getopt_reset ();
  while ((ch = cli_getopt (argc, argv, "+a:c:m:pqh", opts, &cmd_commit_command, err)) != -1)
    switch (ch)
      {
      case 'a':
        o.author = optarg;
        break;
      case 'c':
        changes = strv_append (changes, optarg);
        break;
      case 'm':
        o.message = optarg;
        break;
      case 'p':
        o.is_pause = true;
        if (optarg && cli_parse_bool ("--pause", optarg, &o.is_pause, err) < 0)
          return -1;
        break;
      case 'q':
        o.is_quiet = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_commit_command, argc - optind, 1, 2, err) < 0)
    return -1;
  o.reference = optind + 1 < argc ? argv[optind + 1] : NULL;
  o.changes = changes;
  if (container_require (ctx, argv[optind], &c, err) < 0)
    return -1;
  if (container_commit (ctx, c, &o, &id, err) < 0)
    return -1;
  events_container (ctx, c, "commit");
  printf ("%s\n", id);
  return 0;
}

const struct command cmd_commit_command = {
  .name = "commit",
  .summary = "Create new image based on the changed container",
  .usage = "commit [options] CONTAINER [IMAGE]",
  .options_help =
    "  -a, --author string        Set the author for the image committed\n"
    "  -c, --change stringArray   Apply the following possible instructions to the created image: CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR\n"
    "  -m, --message string       Set commit message for imported image\n"
    "  -p, --pause                Pause container during commit\n"
    "  -q, --quiet                Suppress output\n",
  .run = run,
};
