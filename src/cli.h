/* The CLI frame shared by main.c and the command files: the global context,
 * the command descriptor, and option parsing with podman's error shape. */
#ifndef SKIFF_SRC_CLI_H
#define SKIFF_SRC_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
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
  const char *description;  /* paragraphs for help and man; NULL: summary */
  const char *options_help; /* the "Options:" block, may be NULL */
  command_fn run;           /* NULL for a family that only has subs */
  const struct command *const *subs; /* NULL-terminated, for families */
  const char *aliases[4];   /* other names: "ls" for "list", ... */
  /* This entry is another name for SAME_AS ("image ls" runs "images"):
   * its help, man page and options are SAME_AS's. */
  const struct command *same_as;
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

/* Print CMD's help to stdout in docker's layout (Usage, description,
 * Aliases, Options, the command groups).  PATH is the command as typed
 * ("skiff image ls"); NULL means the path recorded by cli_set_current()
 * when CMD is the running command, else CMD's first place in the tree.
 * Implemented in cli_help.c. */
void cli_print_help (const struct command *cmd, const char *path);
void cli_fprint_help (FILE *out, const struct command *cmd, const char *path);

/* The command tree's root: main.c's "skiff" descriptor, whose subs are the
 * top-level commands.  Set once by main before dispatching. */
void cli_set_root (const struct command *root);
const struct command *cli_root (void);

/* Record that CMD runs as PATH ("skiff container ls"), so that its help
 * and flag errors name the command the user typed.  PATH is copied. */
void cli_set_current (const struct command *cmd, const char *path);

/* PATH of CMD as its help shows it: the recorded path when CMD is the
 * running command, else CMD's first place in the tree, else "skiff NAME".
 * Returns an allocated string. */
char *cli_command_path (const struct command *cmd);

/* Call FN for the root and every command below it, depth first, in table
 * order, with its path ("skiff", "skiff image", "skiff image ls").  A
 * descriptor listed in several families (run, container run) is visited
 * once per place. */
typedef void (*cli_walk_fn) (const struct command *cmd, const char *path, void *data);
void cli_walk (const struct command *root, cli_walk_fn fn, void *data);

/* "skiff run [OPTIONS] IMAGE [COMMAND [ARG...]]": PATH followed by the
 * operands of CMD's usage, with podman's "[options]" spelled as docker
 * does.  Returns an allocated string. */
char *cli_usage_line (const struct command *cmd, const char *path);

/* Every path CMD answers to, deepest first as docker lists them ("skiff
 * container ls", "skiff container list", "skiff ps"...), joined by ", ";
 * NULL when the command has a single name.  Returns an allocated string. */
char *cli_aliases_line (const struct command *cmd);

/* CMD's description: the description field, else the summary. */
const char *cli_description (const struct command *cmd);

/* The descriptor that documents CMD: CMD->same_as, else CMD. */
const struct command *cli_documented (const struct command *cmd);

/* FAMILY's subcommand called NAME (or with NAME among its aliases), or
 * NULL. */
const struct command *cli_find_sub (const struct command *family, const char *name);

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
