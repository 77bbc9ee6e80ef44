/* The command descriptors each cmd_*.c file exports; main.c's table lists
 * them. */
#ifndef SKIFF_SRC_COMMANDS_H
#define SKIFF_SRC_COMMANDS_H

#include "cli.h"

extern const struct command cmd_version_command;
extern const struct command cmd_info_command;
extern const struct command cmd_unshare_command;

#endif
