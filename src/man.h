/* Man pages (troff with the man macros) rendered from the command
 * descriptors, so `skiff run --help` and `man skiff-run` share one source. */
#ifndef SKIFF_SRC_MAN_H
#define SKIFF_SRC_MAN_H

#include <stdbool.h>

#include "cli.h"

/* One line of an options_help block ("  -a, --all   Remove all ..."). */
enum man_line_kind
{
  MAN_LINE_BLANK,  /* nothing but spaces */
  MAN_LINE_OPTION, /* flags, maybe a value type, then the text */
  MAN_LINE_TEXT,   /* not a flag line: continues the previous text */
};

struct man_option
{
  char **flags; /* "-a", "--all"; NULL-terminated */
  char *type;   /* "string", or NULL for a switch */
  char *text;   /* the description, maybe "" */
};

/* Split LINE (without its newline) into OPT.  Anything that is not a
 * well-formed flag list is MAN_LINE_TEXT with OPT->text set, so hostile or
 * sloppy help text still renders.  Free OPT with man_option_clear(). */
enum man_line_kind man_parse_option (const char *line, struct man_option *opt);
void man_option_clear (struct man_option *opt);

/* "skiff image ls" -> "skiff-image-ls", the page's name.  Allocated. */
char *man_page_name (const char *path);

/* CMD's page for the place PATH ("skiff run"), as an allocated string. */
char *man_render_page (const struct command *cmd, const char *path);

/* Write a page for ROOT and for every command below it into DIR, as
 * DIR/skiff.1, DIR/skiff-run.1, DIR/skiff-image-ls.1...  When IS_LIST,
 * print each written file's name on stdout.  Fails on the first file that
 * cannot be written. */
int man_write_pages (const struct command *root, const char *dir, bool is_list,
                     struct error **err);

#endif
