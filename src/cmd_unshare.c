/* skiff unshare: run a command inside skiff's user namespace with a new
 * mount namespace, as podman unshare does, so the store's files (owned by
 * subordinate IDs) can be inspected and changed.  As root it just runs the
 * command.  The exit status is the command's (127 not found, 126 not
 * executable, 128 + signal when killed). */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "libutil/mem.h"
#include "libutil/spawn.h"
#include "userns.h"

struct unshare_args
{
  char **argv;
  const struct skiff_context *ctx;
};

static int
exec_error (const char *cmd, int errnum, struct error **err)
{
  if (errnum == ENOENT || errnum == ENOTDIR)
    return err_make_code (err, 127, errnum, "exec: \"%s\"", cmd);
  return err_make_code (err, 126, errnum, "exec: \"%s\"", cmd);
}

/* Runs in the child, as root of the namespace; never returns on success.
 * The PATH search is ours, not execvp's: like podman (Go's LookPath) it
 * skips directories we may not search instead of failing with EACCES, and
 * does not run a file without a #! line through /bin/sh. */
static int
exec_command (void *arg, struct error **err)
{
  const struct unshare_args *a = arg;
  cleanup_free char *path = NULL;

  if (setenv ("CONTAINERS_GRAPHROOT", a->ctx->root, 1) < 0
      || setenv ("CONTAINERS_RUNROOT", a->ctx->runroot, 1) < 0)
    return err_make (err, errno, "set the environment");
  if (strchr (a->argv[0], '/') == NULL)
    {
      path = spawn_find_program (a->argv[0]);
      if (path == NULL)
        return err_make_code (err, 127, 0, "exec: \"%s\": executable file not found in $PATH",
                              a->argv[0]);
    }
  execv (path ? path : a->argv[0], a->argv);
  return exec_error (a->argv[0], errno, err);
}

/* While the command runs we stay its parent: the terminal's SIGINT and
 * SIGQUIT reach it directly (same process group), so we ignore them; a
 * SIGTERM or SIGHUP sent to us alone is passed on. */
static volatile sig_atomic_t child_pid;

static void
forward_signal (int sig)
{
  if (child_pid > 0)
    kill ((pid_t) child_pid, sig);
}

static void
set_parent_signals (pid_t pid)
{
  struct sigaction ign = { .sa_handler = SIG_IGN };
  struct sigaction fwd = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };

  child_pid = pid;
  sigemptyset (&fwd.sa_mask);
  sigemptyset (&ign.sa_mask);
  sigaction (SIGINT, &ign, NULL);
  sigaction (SIGQUIT, &ign, NULL);
  sigaction (SIGTERM, &fwd, NULL);
  sigaction (SIGHUP, &fwd, NULL);
}

static char **
default_command (void)
{
  const char *shell = getenv ("SHELL");
  char **argv = NULL;

  return strv_append (argv, shell && *shell ? shell : "/bin/sh");
}

static int
run_in_namespace (struct skiff_context *ctx, char **argv, struct error **err)
{
  struct userns_config cfg;
  cleanup_userns_proc struct userns_proc proc = USERNS_PROC_INIT;
  struct unshare_args a = { argv, ctx };
  int status;
  int r;

  if (userns_load_config (ctx->uid, ctx->gid, ctx->is_rootless, &cfg, err) < 0)
    return -1;
  r = userns_spawn (&cfg, ctx->is_rootless ? CLONE_NEWNS : 0, exec_command, &a, &proc, err);
  userns_config_free (&cfg);
  if (r < 0)
    return -1;
  set_parent_signals (proc.pid);
  if (userns_proc_wait (&proc, &status, err) < 0)
    return -1;
  return userns_exit_code (status);
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_strv char **shell = NULL;
  int c;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+h", opts, &cmd_unshare_command, err)) != -1)
    switch (c)
      {
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (optind < argc)
    return run_in_namespace (ctx, argv + optind, err);
  shell = default_command ();
  return run_in_namespace (ctx, shell, err);
}

const struct command cmd_unshare_command = {
  .name = "unshare",
  .summary = "Run a command in a modified user namespace",
  .usage = "unshare [options] [COMMAND [ARG...]]",
  .run = run,
};
