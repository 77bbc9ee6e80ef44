/* Option parsing and help output shared by every command. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "cli.h"
#include "libutil/mem.h"

char *cli_argv_area;
size_t cli_argv_area_len;

void
cli_set_process_name (const char *name)
{
  size_t n;

  if (cli_argv_area == NULL || cli_argv_area_len == 0)
    return;
  n = strlen (name);
  if (n >= cli_argv_area_len)
    n = cli_argv_area_len - 1;
  memset (cli_argv_area, 0, cli_argv_area_len);
  memcpy (cli_argv_area, name, n);
  prctl (PR_SET_NAME, name, 0, 0, 0);
}

bool
cli_confirm (const char *question)
{
  char line[32];

  printf ("%s [y/N] ", question);
  fflush (stdout);
  if (fgets (line, sizeof line, stdin) == NULL)
    return false;
  return strcmp (line, "y\n") == 0 || strcmp (line, "Y\n") == 0
         || strcmp (line, "yes\n") == 0;
}

void
cli_getopt_reset (void)
{
  optind = 0; /* 0 makes glibc re-initialise, also for "+" */
  opterr = 0;
}

int
cli_getopt (int argc, char **argv, const char *shortopts,
            const struct option *longopts, const struct command *cmd,
            struct error **err)
{
  int c;

  opterr = 0;
  c = getopt_long (argc, argv, shortopts, longopts, NULL);
  /* "-h" is help unless the command gives it an argument (run's -h
   * HOSTNAME, as docker has it). */
  if (c == 'h' && optarg == NULL)
    {
      cli_print_help (cmd, NULL);
      return CLI_OPT_HELP;
    }
  if (c == '?')
    {
      const char *bad = argv[optind - 1];
      cleanup_free char *path = cli_command_path (cmd);
      if (optopt && (bad == NULL || strncmp (bad, "--", 2) != 0))
        err_make (err, 0, "unknown shorthand flag: '%c' in -%c\nSee '%s --help'",
                  optopt, optopt, path);
      else
        err_make (err, 0, "unknown flag: %s\nSee '%s --help'", bad, path);
      return CLI_OPT_ERROR;
    }
  if (c == ':')
    {
      cleanup_free char *path = cli_command_path (cmd);
      err_make (err, 0, "flag needs an argument: %s\nSee '%s --help'",
                argv[optind - 1], path);
      return CLI_OPT_ERROR;
    }
  return c;
}

int
cli_require_args (const struct command *cmd, int nargs, int min, int max,
                  struct error **err)
{
  cleanup_free char *path = NULL;

  if (nargs >= min && (max < 0 || nargs <= max))
    return 0;
  path = cli_command_path (cmd);
  if (min == max && min == 0)
    return err_make (err, 0, "`%s` takes no arguments", path);
  if (max < 0)
    return err_make (err, 0, "`%s` requires at least %d argument%s",
                     path, min, min == 1 ? "" : "s");
  if (min == max)
    return err_make (err, 0, "`%s` accepts %d arg%s, received %d", path,
                     min, min == 1 ? "" : "s", nargs);
  return err_make (err, 0, "`%s` accepts %d to %d args, received %d",
                   path, min, max, nargs);
}

int
cli_parse_bool (const char *flag, const char *value, bool *out, struct error **err)
{
  if (value == NULL || strcmp (value, "true") == 0 || strcmp (value, "1") == 0)
    *out = true;
  else if (strcmp (value, "false") == 0 || strcmp (value, "0") == 0)
    *out = false;
  else
    return err_make (err, 0, "invalid argument \"%s\" for \"--%s\" flag: "
                     "expected true or false", value, flag);
  return 0;
}
