/* skiff completion bash|zsh|fish: print (or write with --file) the
 * completion script that `make install` installs for that shell. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "completion_scripts.h"
#include "libutil/fs.h"

static const struct
{
  const char *shell;
  const char *script;
} scripts[] = {
  { "bash", completion_scripts_bash },
  { "zsh", completion_scripts_zsh },
  { "fish", completion_scripts_fish },
};

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "file", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *file = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+f:h", opts, &cmd_completion_command, err)) != -1)
    switch (c)
      {
      case 'f':
        file = optarg;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_completion_command, argc - optind, 1, 1, err) < 0)
    return -1;
  for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++)
    {
      if (strcmp (scripts[i].shell, argv[optind]) != 0)
        continue;
      if (file && strcmp (file, "-") != 0)
        return fs_write_atomic_nosync (file, scripts[i].script, strlen (scripts[i].script),
                                       0644, err);
      fputs (scripts[i].script, stdout);
      return 0;
    }
  return err_make (err, 0, "invalid argument \"%s\" for \"skiff completion\": use bash, "
                   "zsh or fish", argv[optind]);
}

const struct command cmd_completion_command = {
  .name = "completion",
  .summary = "Generate shell autocompletions",
  .usage = "completion [options] bash|zsh|fish",
  .description = "Generate shell autocompletions.\n\n"
                 "Print the completion script for the given shell, the same file that "
                 "`make install` installs.  For example, for the current bash session: "
                 "source <(skiff completion bash)",
  .options_help = "  -f, --file string   Output the completion to file rather than stdout\n",
  .run = run,
};
