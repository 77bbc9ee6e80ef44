/* The command descriptors each cmd_*.c file exports; main.c's table lists
 * them. */
#ifndef SKIFF_SRC_COMMANDS_H
#define SKIFF_SRC_COMMANDS_H

#include "cli.h"

extern const struct command cmd_version_command;
extern const struct command cmd_info_command;
extern const struct command cmd_unshare_command;
extern const struct command cmd_images_command;
extern const struct command cmd_rmi_command;
extern const struct command cmd_tag_command;
extern const struct command cmd_untag_command;
extern const struct command cmd_inspect_command;
extern const struct command cmd_history_command;
extern const struct command cmd_image_command;
extern const struct command cmd_pull_command;
extern const struct command cmd_image_prune_command;
extern const struct command cmd_image_exists_command;
extern const struct command cmd_save_command;
extern const struct command cmd_load_command;
extern const struct command cmd_import_command;
extern const struct command cmd_push_command;
extern const struct command cmd_login_command;
extern const struct command cmd_logout_command;
extern const struct command cmd_manifest_command;
extern const struct command cmd_manifest_create_command;
extern const struct command cmd_manifest_add_command;
extern const struct command cmd_manifest_remove_command;
extern const struct command cmd_manifest_inspect_command;
extern const struct command cmd_manifest_push_command;
extern const struct command cmd_manifest_rm_command;

extern const struct command cmd_run_command;
extern const struct command cmd_create_command;
extern const struct command cmd_start_command;
extern const struct command cmd_stop_command;
extern const struct command cmd_kill_command;
extern const struct command cmd_restart_command;
extern const struct command cmd_rm_command;
extern const struct command cmd_wait_command;
extern const struct command cmd_rename_command;
extern const struct command cmd_pause_command;
extern const struct command cmd_unpause_command;
extern const struct command cmd_ps_command;
extern const struct command cmd_port_command;
extern const struct command cmd_stats_command;
extern const struct command cmd_logs_command;
extern const struct command cmd_exec_command;
extern const struct command cmd_container_command;
extern const struct command cmd_container_prune_command;
extern const struct command cmd_container_exists_command;

extern const struct command cmd_volume_command;
extern const struct command cmd_cp_command;
extern const struct command cmd_diff_command;
extern const struct command cmd_commit_command;
extern const struct command cmd_build_command;
extern const struct command cmd_export_command;
extern const struct command cmd_top_command;
extern const struct command cmd_mount_command;
extern const struct command cmd_unmount_command;
extern const struct command cmd_attach_command;

extern const struct command cmd_generate_command;
extern const struct command cmd_auto_update_command;
extern const struct command cmd_quadlet_command;

/* skiff run as the Quadlet generator (cmd_quadlet.c): whether ARGV0's
 * file name is one of the generator's installed names, and the generator
 * itself, which takes systemd's generator arguments instead of a
 * command. */
bool cmd_quadlet_is_generator (const char *argv0);
int cmd_quadlet_generator (int argc, char **argv, struct error **err);

extern const struct command cmd_events_command;
extern const struct command cmd_system_command;
extern const struct command cmd_system_df_command;
extern const struct command cmd_system_prune_command;
extern const struct command cmd_system_reset_command;

extern const struct command cmd_help_command;
extern const struct command cmd_completion_command;

#endif
