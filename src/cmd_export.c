/* skiff export / container export: a container's root file system as a
 * tar, to a file (written beside it and renamed, so it appears only
 * complete) or to stdout when that is not a terminal. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_tar.h"
#include "libutil/mem.h"

static int
export_to_file (struct skiff_context *ctx, struct container *c, const char *path,
                struct error **err)
{
  cleanup_free char *tmp = xasprintf ("%s.skiff-export-%d", path, (int) getpid ());
  cleanup_close int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd < 0)
    return err_make (err, errno, "create \"%s\"", tmp);
  if (container_tar_export (ctx, c, fd, err) < 0 || fsync (fd) < 0
      || close (steal_fd (&fd)) < 0 || rename (tmp, path) < 0)
    {
      if (*err == NULL)
        err_make (err, errno, "write \"%s\"", path);
      unlink (tmp);
      return -1;
    }
  return 0;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_container struct container *c = NULL;
  const char *output = NULL;
  int o;

  cli_getopt_reset ();
  while ((o = cli_getopt (argc, argv, "+o:h", opts, &cmd_export_command, err)) != -1)
    switch (o)
      {
      case 'o':
        output = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_export_command, argc - optind, 1, 1, err) < 0)
    return -1;
  if (output == NULL && isatty (1))
    return err_make (err, 0, "refusing to export to terminal. Use -o flag or redirect");
  if (container_require (ctx, argv[optind], &c, err) < 0)
    return -1;
  if (output)
    return export_to_file (ctx, c, output, err);
  fflush (stdout);
  return container_tar_export (ctx, c, 1, err);
}

const struct command cmd_export_command = {
  .name = "export",
  .summary = "Export container's filesystem contents as a tar archive",
  .usage = "export [options] CONTAINER",
  .options_help = "  -o, --output string   Write to a specified file (default: stdout, which must be redirected)\n",
  .run = run,
};
