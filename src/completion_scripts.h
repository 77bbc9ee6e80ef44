/* The shell completion scripts of completions/, embedded at build time
 * (the Makefile generates completion_scripts.c from those files), so that
 * `skiff completion SHELL` and the installed files are the same text. */
#ifndef SKIFF_SRC_COMPLETION_SCRIPTS_H
#define SKIFF_SRC_COMPLETION_SCRIPTS_H

extern const char completion_scripts_bash[];
extern const char completion_scripts_zsh[];
extern const char completion_scripts_fish[];

#endif
