/* skiff help [COMMAND...]: the same text as `skiff COMMAND --help`.  Two
 * hidden flags serve the build: --man prints the command's man page and
 * --man-dir DIR writes every page into DIR. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "commands.h"
#include "libutil/mem.h"
#include "man.h"

enum
{
  OPT_MAN = 1000,
  OPT_MAN_DIR,
};

/* Descend from the root along WORDS as dispatch would. */
static const struct command *
resolve (char **words, int n, char **path, struct error **err)
{
  const struct command *cmd = cli_root ();

  *path = xstrdup (cmd->name);
  for (int i = 0; i < n; i++)
    {
      const struct command *sub = cli_find_sub (cmd, words[i]);
      char *longer;

      if (sub == NULL)
        {
          err_make (err, 0, "unrecognized command `%s %s`\nTry '%s --help' for more "
                    "information", *path, words[i], *path);
          return NULL;
        }
      longer = xasprintf ("%s %s", *path, sub->name);
      free (*path);
      *path = longer;
      cmd = sub;
    }
  return cmd;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "man", no_argument, NULL, OPT_MAN },
    { "man-dir", required_argument, NULL, OPT_MAN_DIR },
    { NULL, 0, NULL, 0 },
  };
  const struct command *cmd;
  cleanup_free char *path = NULL;
  const char *man_dir = NULL;
  bool is_man = false;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+h", opts, &cmd_help_command, err)) != -1)
    switch (c)
      {
      case OPT_MAN:
        is_man = true;
        break;
      case OPT_MAN_DIR:
        man_dir = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (man_dir)
    {
      if (cli_require_args (&cmd_help_command, argc - optind, 0, 0, err) < 0)
        return -1;
      return man_write_pages (cli_root (), man_dir, true, err);
    }
  cmd = resolve (argv + optind, argc - optind, &path, err);
  if (cmd == NULL)
    return -1;
  if (is_man)
    {
      cleanup_free char *page = man_render_page (cmd, path);
      fputs (page, stdout);
      return 0;
    }
  cli_print_help (cmd, path);
  return 0;
}

const struct command cmd_help_command = {
  .name = "help",
  .summary = "Help about any command",
  .usage = "help [COMMAND...]",
  .description = "Help about any command: `skiff help COMMAND` prints the same text as "
                 "`skiff COMMAND --help`.",
  .run = run,
};
