/* skiff container: the container command family (container ls, container
 * rm, ...), and container prune and container exists. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_ops.h"
#include "libutil/mem.h"

static int
run_prune (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct container **all = NULL;
  bool is_force = false;
  int c, r = 0;

  cli_getopt_reset ();
  while ((c = cli_getopt (argc, argv, "+fh", opts, &cmd_container_prune_command, err)) != -1)
    switch (c)
      {
      case 'f':
        is_force = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_container_prune_command, argc - optind, 0, 0, err) < 0)
    return -1;
  if (!is_force && !cli_confirm ("WARNING! This will remove all non running containers.\n"
                                  "Are you sure you want to continue?"))
    return 0;
  if (container_list (ctx, &all, err) < 0)
    return -1;
  for (size_t i = 0; all[i] && r == 0; i++)
    {
      if (container_is_running (all[i]))
        continue;
      r = container_rm (ctx, all[i], false, err);
      if (r == 0)
        printf ("%s\n", all[i]->id);
    }
  container_vec_free (all);
  return r;
}

static int
run_exists (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  static const struct option opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_container struct container *c = NULL;
  int o;

  cli_getopt_reset ();
  while ((o = cli_getopt (argc, argv, "+h", opts, &cmd_container_exists_command, err)) != -1)
    return o == CLI_OPT_HELP ? 0 : -1;
  if (cli_require_args (&cmd_container_exists_command, argc - optind, 1, 1, err) < 0)
    return -1;
  if (container_find (ctx, argv[optind], &c, err) < 0)
    return -1;
  return c ? 0 : 1;
}

const struct command cmd_container_prune_command = {
  .name = "prune", .summary = "Remove all non running containers",
  .usage = "container prune [options]",
  .options_help = "  -f, --force   Do not prompt for confirmation\n",
  .run = run_prune,
};

const struct command cmd_container_exists_command = {
  .name = "exists", .summary = "Check if a container exists in local storage",
  .usage = "container exists CONTAINER", .run = run_exists,
};

static int
run_ls (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  return cmd_ps_command.run (ctx, argc, argv, err);
}

static const struct command container_ls = {
  .name = "ls", .summary = "List containers", .usage = "container ls [options]",
  .run = run_ls, .aliases = { "list", "ps" }, .same_as = &cmd_ps_command,
};

static const struct command *const container_subs[] = {
  &cmd_attach_command, &cmd_commit_command, &cmd_cp_command, &cmd_create_command,
  &cmd_diff_command, &cmd_exec_command, &cmd_container_exists_command, &cmd_export_command,
  &cmd_inspect_command, &cmd_kill_command, &cmd_logs_command, &container_ls,
  &cmd_mount_command, &cmd_pause_command, &cmd_port_command, &cmd_container_prune_command,
  &cmd_rename_command, &cmd_restart_command, &cmd_rm_command, &cmd_run_command,
  &cmd_start_command, &cmd_stats_command, &cmd_stop_command, &cmd_top_command,
  &cmd_unmount_command, &cmd_unpause_command, &cmd_wait_command, NULL,
};

const struct command cmd_container_command = {
  .name = "container",
  .summary = "Manage containers",
  .usage = "container COMMAND",
  .subs = container_subs,
};
