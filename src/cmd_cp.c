/* skiff cp / container cp: copy files between a container (running or
 * not) and the host, or a tar archive on stdin or stdout with "-". */
#include "config.h"

#include "cli.h"
#include "commands.h"
#include "container_copy.h"

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "archive", no_argument, NULL, 'a' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct container_copy_opts o = { 0 };
  struct container_copy_arg src = { 0 }, dest = { 0 };
  int c, r;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+ah", opts, &cmd_cp_command, err)) != -1)
    switch (c)
      {
      case 'a':
        o.is_archive = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_cp_command, argc - optind, 2, 2, err) < 0)
    return -1;
  r = container_copy_parse_arg (argv[optind], &src, err);
  if (r == 0)
    r = container_copy_parse_arg (argv[optind + 1], &dest, err);
  if (r == 0)
    r = container_copy (ctx, &src, &dest, &o, err);
  container_copy_arg_clear (&src);
  container_copy_arg_clear (&dest);
  return r;
}

const struct command cmd_cp_command = {
  .name = "cp",
  .summary = "Copy files/folders between a container and the local filesystem",
  .usage = "cp [options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
  .options_help = "  -a, --archive   Archive mode: keep the owners (uid/gid) of the source\n",
  .run = run,
};
