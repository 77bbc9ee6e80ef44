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

#endif
