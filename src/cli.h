/* The CLI frame shared by main.c and the command files: the global context,
 * the command descriptor, and option parsing with podman's error shape. */
#ifndef SKIFF_SRC_CLI_H
#define SKIFF_SRC_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <sys/types.h>

#include "libutil/error.h"

/* What global options and the environment decide for every command. */
struct skiff_context
{
  char *root;            /* image and container store */
  char *runroot;         /* runtime state (locks, pids, sockets) */
  char *storage_driver;  /* NULL: choose automatically */
  char **storage_opts;   /* NULL-terminated "key=value" list */
  bool is_rootless;      /* not running as real root */
  uid_t uid;
  gid_t gid;
  struct userns_config *userns; /* loaded on first use: context_userns() */
};

struct command;
struct userns_config;
typedef int (*command_fn) (struct skiff_context *ctx, int argc, char **argv,
                           struct error **err);

struct command
{
  const char *name;
  const char *summary;      /* one line, for the command list */
  const char *usage;        /* "version [options]" (without "skiff ") */
  const char *options_help; /* the "Options:" block, may be NULL */
  command_fn run;           /* NULL for a family that only has subs */
  const struct command *const *subs; /* NULL-terminated, for families */
  const char *aliases[4];   /* other names: "ls" for "list", ... */
};

/* Values cli_getopt() returns besides the option characters. */
#define CLI_OPT_HELP (-2)  /* help was printed: the command returns 0 */
#define CLI_OPT_ERROR (-3) /* *err is set: the command returns -1 */

/* getopt_long() with skiff's conventions: "-h/--help" prints CMD's help and
 * returns CLI_OPT_HELP; an unknown flag or a missing argument fills *err with
 * podman's message and returns CLI_OPT_ERROR; -1 at the end of options.
 * SHORTOPTS should start with "+" to stop at the first operand.  Call
 * cli_getopt_reset() before the first call for a new argv. */
int cli_getopt (int argc, char **argv, const char *shortopts,
                const struct option *longopts, const struct command *cmd,
                struct error **err);
void cli_getopt_reset (void);

/* Print CMD's help to stdout. */
void cli_print_help (const struct command *cmd, const char *path);

/* Fill *err with "accepts N arg(s), received M" style errors. */
int cli_require_args (const struct command *cmd, int nargs, int min, int max,
                      struct error **err);

/* Where the process's argv strings lie (set by main), so a long-lived copy
 * of skiff (the container's --init) can rename itself in /proc/PID/cmdline
 * rather than show the host's command line inside the container. */
extern char *cli_argv_area;
extern size_t cli_argv_area_len;

/* Overwrite the argv area with NAME (cut to fit). */
void cli_set_process_name (const char *name);

/* Print QUESTION followed by " [y/N] " and read the answer from stdin:
 * true only for y, Y or yes (no input, as in CI, is no). */
bool cli_confirm (const char *question);

/* Parse a bool flag value the way podman does ("true", "false", "1", "0"). */
int cli_parse_bool (const char *flag, const char *value, bool *out,
                    struct error **err);

#endif
