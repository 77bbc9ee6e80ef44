/* skiff exec: run a process inside a running container, joining all its
 * namespaces; the exit code is the process's. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_ops.h"
#include "container_start.h"
#include "events.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "run_opts.h"
#include "runtime.h"
#include "tty_relay.h"

struct exec_opts
{
  bool is_interactive, is_tty, is_detach, is_privileged;
  const char *user, *workdir;
  char **env, **env_files;
};

/* The container's environment with --env-file and -e on top, merged as
 * run merges them. */
static int
exec_env (struct container *c, const struct exec_opts *o, char ***out, struct error **err)
{
  cleanup_free char *hostname = container_start_hostname (c);
  cleanup_strv char **base = container_start_env (c, hostname, o->is_tty);

  return run_opts_env (base, false, o->env_files, o->env, out, err);
}

static int
exec_in (struct skiff_context *ctx, struct container *c, const struct exec_opts *o,
         char **argv, struct error **err)
{
  struct runtime_exec_spec spec = { 0 };
  struct runtime_proc proc = RUNTIME_PROC_INIT;
  json_object *cfg = jobj_get_object (c->config, "Config");
  cleanup_strv char **env = NULL;
  cleanup_close int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  const char *wd = o->workdir ? o->workdir : jobj_get_string (cfg, "WorkingDir");
  const char *user = o->user ? o->user : jobj_get_string (cfg, "User");
  int code = 0;

  if (!container_is_running (c))
    return err_make (err, 0, "can only create exec sessions on running containers: "
                     "container state improper");
  if (exec_env (c, o, &env, err) < 0
      || container_start_caps (c, o->is_privileged, &spec.process.caps, err) < 0)
    return -1;
  spec.process.argv = argv;
  spec.process.env = env;
  spec.process.cwd = wd && *wd ? wd : "/";
  spec.process.user = user && *user ? user : NULL;
  spec.process.is_tty = o->is_tty;
  spec.process.stdio[0] = o->is_interactive && !o->is_detach ? -1 : devnull;
  spec.process.stdio[1] = o->is_detach ? devnull : -1;
  spec.process.stdio[2] = o->is_detach ? devnull : -1;
  if (!o->is_detach && tty_relay_block (err) < 0)
    return -1;
  if (runtime_exec (c->state.pid, &spec, &proc, err) < 0)
    return -1;
  events_container (ctx, c, "exec");
  if (o->is_detach)
    {
      if (proc.pty_master >= 0)
        close (proc.pty_master);
      return 0;
    }
  if (tty_relay_wait (proc.pid, proc.pty_master, o->is_interactive, &code, err) < 0)
    return -1;
  events_container_exit (ctx, c, "exec_died", code);
  if (proc.pty_master >= 0)
    close (proc.pty_master);
  return code;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_ENV_FILE = 1000, OPT_PRIVILEGED, OPT_DETACH_KEYS };
  static const struct option opts[] = {
    { "interactive", no_argument, NULL, 'i' },
    { "tty", no_argument, NULL, 't' },
    { "detach", no_argument, NULL, 'd' },
    { "env", required_argument, NULL, 'e' },
    { "env-file", required_argument, NULL, OPT_ENV_FILE },
    { "user", required_argument, NULL, 'u' },
    { "workdir", required_argument, NULL, 'w' },
    { "privileged", no_argument, NULL, OPT_PRIVILEGED },
    { "detach-keys", required_argument, NULL, OPT_DETACH_KEYS },
    { "latest", no_argument, NULL, 'l' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct exec_opts o = { 0 };
  cleanup_strv char **env = NULL, **env_files = NULL;
  cleanup_container struct container *c = NULL;
  cleanup_strv char **cmd = NULL;
  int ch;

  cli_getopt_reset ();
  while ((ch = cli_getopt (argc, argv, "+itde:u:w:h", opts, &cmd_exec_command, err)) != -1)
    switch (ch)
      {
      case 'i': o.is_interactive = true; break;
      case 't': o.is_tty = true; break;
      case 'd': o.is_detach = true; break;
      case 'e': env = strv_append (env, optarg); break;
      case OPT_ENV_FILE: env_files = strv_append (env_files, optarg); break;
      case 'u': o.user = optarg; break;
      case 'w': o.workdir = optarg; break;
      case OPT_PRIVILEGED: o.is_privileged = true; break;
      case OPT_DETACH_KEYS: break;
      case CLI_OPT_HELP: return 0;
      default: return -1;
      }
  if (cli_require_args (&cmd_exec_command, argc - optind, 2, -1, err) < 0)
    return -1;
  o.env = env;
  o.env_files = env_files;
  if (container_require (ctx, argv[optind], &c, err) < 0)
    return -1;
  cmd = xcalloc (1, sizeof *cmd);
  for (int i = optind + 1; i < argc; i++)
    cmd = strv_append (cmd, argv[i]);
  return exec_in (ctx, c, &o, cmd, err);
}

const struct command cmd_exec_command = {
  .name = "exec",
  .summary = "Run a process in a running container",
  .usage = "exec [options] CONTAINER COMMAND [ARG...]",
  .options_help = "  -d, --detach              Run the exec session in detached mode (backgrounded)\n"
                  "  -e, --env stringArray     Set environment variables\n"
                  "      --env-file strings    Read in a file of environment variables\n"
                  "  -i, --interactive         Keep STDIN open even if not attached\n"
                  "      --privileged          Give the process extended Linux capabilities\n"
                  "  -t, --tty                 Allocate a pseudo-TTY\n"
                  "  -u, --user string         Sets the username or UID used and optionally the groupname or GID\n"
                  "  -w, --workdir string      Working directory inside the container\n",
  .run = run,
};
