/* Option parsing and help output shared by every command. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "cli.h"

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

void
cli_print_help (const struct command *cmd, const char *path)
{
  printf ("%s\n\nUsage:\n  skiff %s\n", cmd->summary, cmd->usage);
  if (cmd->subs)
    {
      printf ("\nAvailable Commands:\n");
      for (const struct command *const *s = cmd->subs; *s; s++)
        printf ("  %-12s %s\n", (*s)->name, (*s)->summary);
    }
  if (cmd->options_help)
    printf ("\nOptions:\n%s", cmd->options_help);
  printf ("  -h, --help   help for %s\n", path ? path : cmd->name);
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
      if (optopt && (bad == NULL || strncmp (bad, "--", 2) != 0))
        err_make (err, 0, "unknown shorthand flag: '%c' in -%c\nSee 'skiff %s --help'",
                  optopt, optopt, cmd->name);
      else
        err_make (err, 0, "unknown flag: %s\nSee 'skiff %s --help'", bad, cmd->name);
      return CLI_OPT_ERROR;
    }
  if (c == ':')
    {
      err_make (err, 0, "flag needs an argument: %s\nSee 'skiff %s --help'",
                argv[optind - 1], cmd->name);
      return CLI_OPT_ERROR;
    }
  return c;
}

int
cli_require_args (const struct command *cmd, int nargs, int min, int max,
                  struct error **err)
{
  if (nargs >= min && (max < 0 || nargs <= max))
    return 0;
  if (min == max && min == 0)
    return err_make (err, 0, "`skiff %s` takes no arguments", cmd->name);
  if (max < 0)
    return err_make (err, 0, "`skiff %s` requires at least %d argument%s",
                     cmd->name, min, min == 1 ? "" : "s");
  if (min == max)
    return err_make (err, 0, "`skiff %s` accepts %d arg%s, received %d", cmd->name,
                     min, min == 1 ? "" : "s", nargs);
  return err_make (err, 0, "`skiff %s` accepts %d to %d args, received %d",
                   cmd->name, min, max, nargs);
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
