/* The text of a systemd service unit for a container, shaped like the
 * units `podman generate systemd` writes, and the command line a --new
 * unit runs, derived from the one that created the container.  Pure
 * string work: cmd_generate.c gathers the facts. */
#ifndef SKIFF_SRC_SYSTEMD_UNIT_H
#define SKIFF_SRC_SYSTEMD_UNIT_H

#include <stdbool.h>

#include "libutil/error.h"

struct systemd_unit_opts
{
  const char *exe;             /* absolute path of skiff */
  const char *service;         /* "container-NAME.service" */
  const char *container;       /* name or ID to start and stop (without --new) */
  const char *runroot;         /* RequiresMountsFor= without --new */
  char **global_args;          /* skiff's global options (--root...) for every command */
  bool is_new;
  char **run_args;             /* --new: systemd_unit_run_args()'s result */
  const char *restart_policy;  /* NULL: on-failure */
  int restart_sec;             /* -1: not set */
  int stop_timeout;            /* seconds */
  char **wants, **after, **requires; /* user-defined dependencies, may be NULL */
  char **env;                  /* extra Environment= lines, may be NULL */
  const char *header_date;     /* the header's date; NULL: no header (--no-header) */
};

/* The unit file for O.  Never fails: every value was checked on the way in. */
char *systemd_unit_render (const struct systemd_unit_opts *o);

/* The arguments after the executable for a --new unit's ExecStart, from
 * the recorded CREATE_COMMAND (argv[0] is the old executable): the global
 * options up to VERB (the index of "run" or "create"), then "run" with the
 * unit's own flags, then the recorded options between VERB and IMAGE (the
 * index of the image) without those the unit sets itself (-d, --rm,
 * --replace, --cidfile, --sdnotify, --cgroups, --restart), then the image
 * and the container's command.  Fails when the indexes do not fit. */
char **systemd_unit_run_args (char *const *create_command, int verb, int image,
                              struct error **err);

/* ARG as systemd reads one word of a command line: quoted when it holds
 * blanks or quotes, '%' and '$' doubled so they are not specifiers. */
char *systemd_unit_quote (const char *arg);

/* Whether RESTART is a policy systemd's Restart= knows. */
bool systemd_unit_is_restart_policy (const char *restart);

#endif
