/* skiff's entry point: global options, the command table, and the one place
 * where errors are printed and the exit code chosen. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "context.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "sd_listen.h"

static const struct command *const commands[] = {
  &cmd_attach_command,
  &cmd_auto_update_command,
  &cmd_build_command,
  &cmd_commit_command,
  &cmd_completion_command,
  &cmd_container_command,
  &cmd_cp_command,
  &cmd_create_command,
  &cmd_diff_command,
  &cmd_events_command,
  &cmd_exec_command,
  &cmd_export_command,
  &cmd_generate_command,
  &cmd_help_command,
  &cmd_history_command,
  &cmd_image_command,
  &cmd_images_command,
  &cmd_import_command,
  &cmd_info_command,
  &cmd_inspect_command,
  &cmd_kill_command,
  &cmd_load_command,
  &cmd_login_command,
  &cmd_logout_command,
  &cmd_logs_command,
  &cmd_manifest_command,
  &cmd_mount_command,
  &cmd_pause_command,
  &cmd_port_command,
  &cmd_ps_command,
  &cmd_pull_command,
  &cmd_push_command,
  &cmd_quadlet_command,
  &cmd_rename_command,
  &cmd_restart_command,
  &cmd_rm_command,
  &cmd_rmi_command,
  &cmd_run_command,
  &cmd_save_command,
  &cmd_start_command,
  &cmd_stats_command,
  &cmd_stop_command,
  &cmd_system_command,
  &cmd_tag_command,
  &cmd_top_command,
  &cmd_unmount_command,
  &cmd_unpause_command,
  &cmd_unshare_command,
  &cmd_untag_command,
  &cmd_version_command,
  &cmd_volume_command,
  &cmd_wait_command,
  NULL,
};

static const char global_options_help[] =
  "      --log-level string        log messages above specified level (debug, info, warn, error) (default \"warn\")\n"
  "      --root string             path to the root directory in which data, including images, is stored\n"
  "      --runroot string          path to the 'run directory' where all state information is stored\n"
  "      --storage-driver string   select which storage driver is used to manage storage of images and containers\n"
  "      --storage-opt stringArray used to pass an option to the storage driver\n"
  "  -v, --version                 version for skiff\n";

/* The tree's root: help, man pages and `skiff help` start here. */
static const struct command root_command = {
  .name = "skiff",
  .summary = "Manage containers and images, rootless and without a daemon",
  .usage = "skiff [options] COMMAND",
  .description = "Manage containers and images, rootless and without a daemon.\n\n"
                 "skiff runs OCI containers as the invoking user.  Each invocation is\n"
                 "a short-lived process, with no daemon, and the command line is\n"
                 "docker's, so `alias docker=skiff` works for everyday use.",
  .options_help = global_options_help,
  .subs = commands,
};

static void
print_main_help (FILE *out)
{
  cli_fprint_help (out, &root_command, "skiff");
}

static const struct command *
find_command (const struct command *const *table, const char *name)
{
  for (const struct command *const *c = table; c && *c; c++)
    {
      if (strcmp ((*c)->name, name) == 0)
        return *c;
      for (size_t i = 0; i < sizeof (*c)->aliases / sizeof (*c)->aliases[0]; i++)
        if ((*c)->aliases[i] && strcmp ((*c)->aliases[i], name) == 0)
          return *c;
    }
  return NULL;
}

enum
{
  OPT_ROOT = 1000,
  OPT_RUNROOT,
  OPT_LOG_LEVEL,
  OPT_STORAGE_DRIVER,
  OPT_STORAGE_OPT,
};

static const struct option global_opts[] = {
  { "root", required_argument, NULL, OPT_ROOT },
  { "runroot", required_argument, NULL, OPT_RUNROOT },
  { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
  { "storage-driver", required_argument, NULL, OPT_STORAGE_DRIVER },
  { "storage-opt", required_argument, NULL, OPT_STORAGE_OPT },
  { "help", no_argument, NULL, 'h' },
  { "version", no_argument, NULL, 'v' },
  { NULL, 0, NULL, 0 },
};

/* Returns 1 when the invocation is complete (help/version printed). */
static int
parse_global (int argc, char **argv, struct skiff_context *ctx, struct error **err)
{
  enum log_level level;
  int c;

  cli_getopt_reset ();
  while ((c = getopt_long (argc, argv, "+:hv", global_opts, NULL)) != -1)
    {
      switch (c)
        {
        case OPT_ROOT:
          free (ctx->root);
          ctx->root = xstrdup (optarg);
          break;
        case OPT_RUNROOT:
          free (ctx->runroot);
          ctx->runroot = xstrdup (optarg);
          break;
        case OPT_LOG_LEVEL:
          if (log_parse_level (optarg, &level) < 0)
            return err_make (err, 0, "invalid log level \"%s\": use one of debug, "
                             "info, warn, error", optarg);
          log_set_level (level);
          break;
        case OPT_STORAGE_DRIVER:
          free (ctx->storage_driver);
          ctx->storage_driver = xstrdup (optarg);
          break;
        case OPT_STORAGE_OPT:
          ctx->storage_opts = strv_append (ctx->storage_opts, optarg);
          break;
        case 'h':
          print_main_help (stdout);
          return 1;
        case 'v':
          printf ("skiff version %s\n", PACKAGE_VERSION);
          return 1;
        case ':':
          return err_make (err, 0, "flag needs an argument: %s", argv[optind - 1]);
        default:
          return err_make (err, 0, "unknown flag: %s\nSee 'skiff --help'",
                           argv[optind - 1]);
        }
    }
  return 0;
}

/* Find the command (descending into families such as "image ls") and run
 * it with its own argv, whose argv[0] is the command's name. */
static int
dispatch (struct skiff_context *ctx, const struct command *const *table,
          const char *path, int argc, char **argv, struct error **err)
{
  const struct command *cmd;

  if (argc == 0)
    {
      if (table == commands)
        print_main_help (stderr);
      return err_make (err, 0, "missing command '%s COMMAND'", path);
    }
  cmd = find_command (table, argv[0]);
  if (cmd == NULL)
    return err_make (err, 0, "unrecognized command `%s %s`\nTry '%s --help' for more "
                     "information", path, argv[0], path);
  cleanup_free char *cmd_path = xasprintf ("%s %s", path, cmd->name);
  if (cmd->subs && argc > 1 && argv[1][0] != '-')
    return dispatch (ctx, cmd->subs, cmd_path, argc - 1, argv + 1, err);
  cli_set_current (cmd, cmd_path);
  if (cmd->run == NULL)
    {
      if (argc > 1 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
        {
          cli_print_help (cmd, cmd_path);
          return 0;
        }
      return err_make (err, 0, "missing command '%s COMMAND'", cmd_path);
    }
  return cmd->run (ctx, argc, argv, err);
}

int
main (int argc, char **argv)
{
  struct skiff_context ctx = { 0 };
  cleanup_error struct error *err = NULL;
  int ret;

  if (argc > 0)
    {
      cli_argv_area = argv[0];
      cli_argv_area_len = (size_t) (argv[argc - 1] + strlen (argv[argc - 1]) + 1 - argv[0]);
    }
  /* Linked as a systemd generator, skiff is the Quadlet generator: it
   * takes systemd's arguments (output directories), not a command. */
  if (argc > 0 && cmd_quadlet_is_generator (argv[0]))
    {
      if (cmd_quadlet_generator (argc, argv, &err) == 0)
        return 0;
      err_print (err, stderr);
      return err_exit_code (err);
    }
  cli_set_root (&root_command);
  /* Before anything runs a helper that would inherit systemd's sockets. */
  sd_listen_take ();
  /* A command returns its exit status (0, or a container's status) or a
   * negative value with err set. */
  ret = parse_global (argc, argv, &ctx, &err);
  if (ret == 1)
    ret = 0;
  else if (ret == 0 && context_init (&ctx, &err) == 0)
    {
      int first = optind;
      ret = dispatch (&ctx, commands, "skiff", argc - first, argv + first, &err);
    }
  else
    ret = -1;
  context_free (&ctx);
  if (ret < 0)
    {
      err_print (err, stderr);
      return err_exit_code (err);
    }
  return ret;
}
