/* start, stop, kill, restart, rm, wait, rename, pause, unpause: the
 * lifecycle commands that act on existing containers. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_ops.h"
#include "container_procs.h"
#include "events.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "monitor.h"
#include "volumes.h"

/* Each named container in turn; every failure but the last is printed, the
 * last becomes the command's error (podman's behaviour for many names). */
typedef int (*per_container_fn) (struct skiff_context *ctx, struct container *c, void *data,
                                 struct error **err);

static int
for_each (struct skiff_context *ctx, char **names, per_container_fn fn, void *data,
          struct error **err)
{
  cleanup_error struct error *last = NULL;

  for (char **n = names; *n; n++)
    {
      cleanup_container struct container *c = NULL;
      struct error *e = NULL;
      if (container_require (ctx, *n, &c, &e) < 0 || fn (ctx, c, data, &e) < 0)
        {
          if (last)
            err_print (last, stderr);
          err_release (&last);
          last = e;
        }
    }
  if (last)
    {
      *err = steal_ptr (&last);
      return -1;
    }
  return 0;
}

static char **
all_names (struct skiff_context *ctx, bool only_running, struct error **err)
{
  struct container **all = NULL;
  char **names = xcalloc (1, sizeof *names);

  if (container_list (ctx, &all, err) < 0)
    {
      strv_free (names);
      return NULL;
    }
  for (size_t i = 0; all[i]; i++)
    if (!only_running || container_is_running (all[i]))
      names = strv_append (names, all[i]->id);
  container_vec_free (all);
  return names;
}

static char **
operands (int argc, char **argv)
{
  char **v = xcalloc (1, sizeof *v);
  for (int i = optind; i < argc; i++)
    v = strv_append (v, argv[i]);
  return v;
}

/* NAMES plus the container ID each --cidfile file (CIDFILES) holds.  With
 * IS_IGNORE, podman's --ignore: a missing file and a name no container
 * has are dropped rather than errors, which a unit's ExecStop relies on
 * when the container is gone already. */
static char **
add_cidfiles (struct skiff_context *ctx, char **names, char *const *cidfiles, bool is_ignore,
              struct error **err)
{
  cleanup_strv char **out = names;

  for (char *const *f = cidfiles; f && *f; f++)
    {
      struct error *e = NULL;
      cleanup_free char *id = fs_read_file (*f, 4096, NULL, &e);

      if (id == NULL && is_ignore && e->errnum == ENOENT)
        {
          err_release (&e);
          continue;
        }
      if (id == NULL)
        {
          *err = e;
          return NULL;
        }
      str_strip (id);
      if (*id == '\0')
        {
          err_make (err, 0, "container id file \"%s\" is empty", *f);
          return NULL;
        }
      out = strv_append (out, id);
    }
  if (is_ignore)
    {
      char **known = xcalloc (1, sizeof *known);
      for (char **n = out; *n; n++)
        {
          cleanup_container struct container *ct = NULL;
          if (container_find (ctx, *n, &ct, NULL) == 0 && ct)
            known = strv_append (known, *n);
        }
      strv_free (out);
      out = known;
    }
  return steal_ptr (&out);
}

/* ---- start ---------------------------------------------------------------- */

struct start_data
{
  bool is_attach;
  bool is_interactive;
  int exit_code;
};

static int
start_one (struct skiff_context *ctx, struct container *c, void *data, struct error **err)
{
  struct start_data *d = data;
  struct monitor_opts mo = { 0 };
  cleanup_close int lk = container_lock (ctx, c, err);
  json_object *cfg = jobj_get_object (c->config, "Config");

  if (lk < 0 || container_state_load (c, err) < 0)
    return -1;
  if (container_is_running (c))
    return 0;
  mo.is_tty = jobj_get_bool (cfg, "Tty", false);
  mo.is_interactive = d->is_interactive;
  mo.has_sig_proxy = true;
  mo.is_attached = d->is_attach;
  c->state.is_stop_requested = false;
  if (d->is_attach)
    return monitor_foreground (ctx, c, &mo, &lk, &d->exit_code, err);
  return monitor_detached (ctx, c, &mo, &lk, err);
}

static int
run_start (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "attach", no_argument, NULL, 'a' },
    { "interactive", no_argument, NULL, 'i' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct start_data d = { 0 };
  cleanup_strv char **names = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+aih", opts, &cmd_start_command, err)) != -1)
    switch (c)
      {
      case 'a':
        d.is_attach = true;
        break;
      case 'i':
        d.is_interactive = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_start_command, argc - optind, 1, -1, err) < 0)
    return -1;
  if (d.is_attach && argc - optind > 1)
    return err_make (err, 0, "you cannot start and attach multiple containers at once");
  names = operands (argc, argv);
  if (for_each (ctx, names, start_one, &d, err) < 0)
    return -1;
  if (d.is_attach)
    return d.exit_code;
  for (char **n = names; *n; n++)
    printf ("%s\n", *n);
  return 0;
}

/* ---- stop, kill, restart ---------------------------------------------------- */

struct stop_data
{
  int timeout;
  int sig;
  bool is_ignore;
};

static int
stop_one (struct skiff_context *ctx, struct container *c, void *data, struct error **err)
{
  struct stop_data *d = data;
  return container_stop (ctx, c, d->sig, d->timeout, err);
}

static int
kill_one (struct skiff_context *ctx, struct container *c, void *data, struct error **err)
{
  struct stop_data *d = data;
  if (container_signal (c, d->sig, d->sig == SIGKILL || d->sig == SIGTERM, err) < 0)
    return -1;
  events_container (ctx, c, "kill");
  return 0;
}

static int
restart_one (struct skiff_context *ctx, struct container *c, void *data, struct error **err)
{
  struct start_data sd = { 0 };
  if (stop_one (ctx, c, data, err) < 0 || start_one (ctx, c, &sd, err) < 0)
    return -1;
  events_container (ctx, c, "restart");
  return 0;
}

static int
run_signal_cmd (const struct command *cmd, per_container_fn fn, struct skiff_context *ctx,
                int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "time", required_argument, NULL, 't' },
    { "timeout", required_argument, NULL, 't' },
    { "signal", required_argument, NULL, 's' },
    { "latest", no_argument, NULL, 'l' },
    { "cidfile", required_argument, NULL, 'C' },
    { "ignore", no_argument, NULL, 'i' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct stop_data d = { .timeout = -1, .sig = fn == kill_one ? SIGKILL : 0 };
  cleanup_strv char **names = NULL;
  cleanup_strv char **cidfiles = NULL;
  bool is_all = false;
  uint64_t t;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+at:s:ih", opts, cmd, err)) != -1)
    switch (c)
      {
      case 'a':
        is_all = true;
        break;
      case 'C':
        cidfiles = strv_append (cidfiles, optarg);
        break;
      case 'i':
        d.is_ignore = true;
        break;
      case 't':
        if (parse_uint (optarg, 1u << 30, "--time", &t, err) < 0)
          return -1;
        d.timeout = (int) t;
        break;
      case 's':
        if (container_parse_signal (optarg, &d.sig, err) < 0)
          return -1;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (is_all)
    names = all_names (ctx, true, err);
  else if (cidfiles || cli_require_args (cmd, argc - optind, 1, -1, err) == 0)
    names = add_cidfiles (ctx, operands (argc, argv), cidfiles, d.is_ignore, err);
  if (names == NULL)
    return -1;
  if (for_each (ctx, names, fn, &d, err) < 0)
    return -1;
  for (char **n = names; *n; n++)
    printf ("%s\n", *n);
  return 0;
}

static int
run_stop (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  return run_signal_cmd (&cmd_stop_command, stop_one, ctx, argc, argv, err);
}

static int
run_kill (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  return run_signal_cmd (&cmd_kill_command, kill_one, ctx, argc, argv, err);
}

static int
run_restart (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  return run_signal_cmd (&cmd_restart_command, restart_one, ctx, argc, argv, err);
}

/* ---- rm ---------------------------------------------------------------------- */

struct rm_data
{
  bool is_force;
  bool is_volumes;
};

static int
rm_one (struct skiff_context *ctx, struct container *c, void *data, struct error **err)
{
  struct rm_data *d = data;

  if (container_rm (ctx, c, d->is_force, err) < 0)
    return -1;
  if (d->is_volumes)
    volumes_remove_anonymous (ctx, c);
  return 0;
}

static int
run_rm (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "force", no_argument, NULL, 'f' },
    { "volumes", no_argument, NULL, 'v' },
    { "ignore", no_argument, NULL, 'i' },
    { "cidfile", required_argument, NULL, 'C' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **names = NULL;
  cleanup_strv char **cidfiles = NULL;
  bool is_all = false, is_ignore = false;
  struct rm_data d = { 0 };
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+afvih", opts, &cmd_rm_command, err)) != -1)
    switch (c)
      {
      case 'a':
        is_all = true;
        break;
      case 'f':
        d.is_force = true;
        break;
      case 'C':
        cidfiles = strv_append (cidfiles, optarg);
        break;
      case 'i':
        is_ignore = true;
        break;
      case 'v':
        d.is_volumes = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (is_all)
    names = all_names (ctx, false, err);
  else if (cidfiles || cli_require_args (&cmd_rm_command, argc - optind, 1, -1, err) == 0)
    names = add_cidfiles (ctx, operands (argc, argv), cidfiles, is_ignore, err);
  if (names == NULL)
    return -1;
  if (for_each (ctx, names, rm_one, &d, err) < 0)
    return -1;
  for (char **n = names; *n; n++)
    printf ("%s\n", *n);
  return 0;
}

/* ---- wait -------------------------------------------------------------------- */

static int
wait_one (struct skiff_context *ctx, struct container *c, void *data, struct error **err)
{
  (void) ctx;
  (void) data;
  if (container_wait_exit (c, -1, err) < 0)
    return -1;
  printf ("%d\n", c->state.exit_code);
  fflush (stdout);
  return 0;
}

static int
run_wait (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "condition", required_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **names = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+c:h", opts, &cmd_wait_command, err)) != -1)
    switch (c)
      {
      case 'c':
        if (strcmp (optarg, "stopped") != 0 && strcmp (optarg, "exited") != 0)
          return err_make (err, 0, "unsupported wait condition \"%s\": use stopped or exited",
                           optarg);
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_wait_command, argc - optind, 1, -1, err) < 0)
    return -1;
  names = operands (argc, argv);
  return for_each (ctx, names, wait_one, NULL, err);
}

/* ---- rename ------------------------------------------------------------------ */

static int
run_rename (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_container struct container *c = NULL;
  int o;

  cli_getopt_reset ();
  while ((o = cli_getopt (argc, argv, "+h", opts, &cmd_rename_command, err)) != -1)
    return o == CLI_OPT_HELP ? 0 : -1;
  if (cli_require_args (&cmd_rename_command, argc - optind, 2, 2, err) < 0)
    return -1;
  if (container_require (ctx, argv[optind], &c, err) < 0)
    return -1;
  if (container_rename (ctx, c, argv[optind + 1], err) < 0)
    return -1;
  events_container (ctx, c, "rename");
  return 0;
}

/* ---- pause, unpause ------------------------------------------------------------ */

/* Without a delegated cgroup freezer (the rootless case here), every
 * process of the container is stopped with SIGSTOP and resumed with
 * SIGCONT (container_procs_signal: all of them, not the mount program's
 * daemon). */
static int
pause_one (struct skiff_context *ctx, struct container *c, void *data, struct error **err)
{
  bool *is_pause = data;
  cleanup_close int lk = container_lock (ctx, c, err);

  if (lk < 0 || container_state_load (c, err) < 0)
    return -1;
  if (*is_pause ? c->state.status != CONTAINER_RUNNING : c->state.status != CONTAINER_PAUSED)
    return err_make (err, 0, "\"%s\" is not %s, can't %s: container state improper", c->name,
                     *is_pause ? "running" : "paused", *is_pause ? "pause" : "unpause");
  if (container_procs_signal (c, *is_pause ? SIGSTOP : SIGCONT, err) < 0)
    return -1;
  c->state.status = *is_pause ? CONTAINER_PAUSED : CONTAINER_RUNNING;
  if (container_state_save (c, err) < 0)
    return -1;
  events_container (ctx, c, *is_pause ? "pause" : "unpause");
  return 0;
}

static int
run_pause_cmd (const struct command *cmd, bool is_pause, struct skiff_context *ctx, int argc,
               char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **names = NULL;
  bool is_all = false;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+ah", opts, cmd, err)) != -1)
    switch (c)
      {
      case 'a':
        is_all = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (is_all)
    names = all_names (ctx, true, err);
  else if (cli_require_args (cmd, argc - optind, 1, -1, err) == 0)
    names = operands (argc, argv);
  if (names == NULL || for_each (ctx, names, pause_one, &is_pause, err) < 0)
    return -1;
  for (char **n = names; *n; n++)
    printf ("%s\n", *n);
  return 0;
}

static int
run_pause (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  return run_pause_cmd (&cmd_pause_command, true, ctx, argc, argv, err);
}

static int
run_unpause (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  return run_pause_cmd (&cmd_unpause_command, false, ctx, argc, argv, err);
}

const struct command cmd_start_command = {
  .name = "start", .summary = "Start one or more containers",
  .usage = "start [options] CONTAINER [CONTAINER...]",
  .options_help = "  -a, --attach        Attach container's STDOUT and STDERR\n"
                  "  -i, --interactive   Make STDIN available to the contained process\n",
  .run = run_start,
};
const struct command cmd_stop_command = {
  .name = "stop", .summary = "Stop one or more containers",
  .usage = "stop [options] CONTAINER [CONTAINER...]",
  .options_help = "  -a, --all              Stop all running containers\n"
                  "      --cidfile string   Read the container ID from the file\n"
                  "  -i, --ignore           Ignore errors when a specified container is missing\n"
                  "  -t, --time uint        Seconds to wait for stop before killing the container\n",
  .run = run_stop,
};
const struct command cmd_kill_command = {
  .name = "kill", .summary = "Kill one or more running containers with a specific signal",
  .usage = "kill [options] CONTAINER [CONTAINER...]",
  .options_help = "  -a, --all             Signal all running containers\n"
                  "  -s, --signal string   Signal to send to the container (default \"KILL\")\n",
  .run = run_kill,
};
const struct command cmd_restart_command = {
  .name = "restart", .summary = "Restart one or more containers",
  .usage = "restart [options] CONTAINER [CONTAINER...]",
  .options_help = "  -a, --all          Restart all running containers\n"
                  "  -t, --time uint    Seconds to wait for stop before killing the container\n",
  .run = run_restart,
};
const struct command cmd_rm_command = {
  .name = "rm", .summary = "Remove one or more containers",
  .usage = "rm [options] CONTAINER [CONTAINER...]",
  .options_help = "  -a, --all       Remove all containers\n"
                  "      --cidfile string   Read the container ID from the file\n"
                  "  -f, --force     Force removal of a running or unusable container\n"
                  "  -i, --ignore    Ignore errors when a specified container is missing\n"
                  "  -v, --volumes   Remove anonymous volumes associated with the container\n",
  .run = run_rm,
};
const struct command cmd_wait_command = {
  .name = "wait", .summary = "Block on one or more containers",
  .usage = "wait [options] CONTAINER [CONTAINER...]",
  .options_help = "      --condition string   Condition to wait on (stopped, exited)\n",
  .run = run_wait,
};
const struct command cmd_rename_command = {
  .name = "rename", .summary = "Rename an existing container",
  .usage = "rename CONTAINER NAME", .run = run_rename,
};
const struct command cmd_pause_command = {
  .name = "pause", .summary = "Pause all the processes in one or more containers",
  .usage = "pause [options] CONTAINER [CONTAINER...]",
  .options_help = "  -a, --all   Pause all running containers\n",
  .run = run_pause,
};
const struct command cmd_unpause_command = {
  .name = "unpause", .summary = "Unpause the processes in one or more containers",
  .usage = "unpause [options] CONTAINER [CONTAINER...]",
  .options_help = "  -a, --all   Unpause all paused containers\n",
  .run = run_unpause,
};
