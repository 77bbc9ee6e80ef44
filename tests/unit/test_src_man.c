/* Tests for src/man.c and src/cli_help.c: option lines parsed out of help
 * text (well-formed, sloppy and hostile), troff escaping, page names, and
 * docker's help layout over a small command tree. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libutil/mem.h"
#include "src/cli.h"
#include "src/man.h"

/* A tree shaped like skiff's: a common command, a plain one, a family
 * whose "ls" is another name for the top-level "images", and "run" listed
 * both at the top and in the family. */
static const struct command t_images = {
  .name = "images",
  .summary = "List images",
  .usage = "images [options] [IMAGE]",
  .options_help = "  -a, --all             Show all images\n"
                  "  -f, --filter filters  Filter output\n",
};
static const struct command t_run = {
  .name = "run",
  .summary = "Run a command in a new container",
  .usage = "run [options] IMAGE [COMMAND [ARG...]]",
  .description = "Run a command.\n\nSecond paragraph.",
  .options_help = "      --rm   Remove the container\n",
};
static const struct command t_tag = {
  .name = "tag",
  .summary = "Add a name",
  .usage = "tag SOURCE TARGET",
};
static const struct command t_image_ls = {
  .name = "ls",
  .summary = "List images",
  .usage = "image ls [options]",
  .aliases = { "list" },
  .same_as = &t_images,
};
static const struct command *const t_image_subs[] = { &t_image_ls, &t_run, NULL };
static const struct command t_image = {
  .name = "image",
  .summary = "Manage images",
  .usage = "image COMMAND",
  .subs = t_image_subs,
};
static const struct command *const t_top[] = { &t_image, &t_images, &t_run, &t_tag, NULL };
static const struct command t_root = {
  .name = "skiff",
  .summary = "Manage containers",
  .usage = "skiff [options] COMMAND",
  .options_help = "      --root string   store root\n",
  .subs = t_top,
};

static int
setup_tree (void **state)
{
  (void) state;
  cli_set_root (&t_root);
  return 0;
}

static char *
help_text (const struct command *cmd, const char *path)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&text, &len);

  assert_non_null (f);
  cli_fprint_help (f, cmd, path);
  fclose (f);
  return text;
}

static void
test_parse_option_with_type (void **state)
{
  struct man_option o;

  (void) state;
  assert_int_equal (man_parse_option ("  -a, --attach stringArray   Attach to STDIN", &o),
                    MAN_LINE_OPTION);
  assert_string_equal (o.flags[0], "-a");
  assert_string_equal (o.flags[1], "--attach");
  assert_null (o.flags[2]);
  assert_string_equal (o.type, "stringArray");
  assert_string_equal (o.text, "Attach to STDIN");
  man_option_clear (&o);
}

static void
test_parse_option_switch (void **state)
{
  struct man_option o;

  (void) state;
  assert_int_equal (man_parse_option ("      --rm   Remove the container", &o), MAN_LINE_OPTION);
  assert_string_equal (o.flags[0], "--rm");
  assert_null (o.type);
  assert_string_equal (o.text, "Remove the container");
  man_option_clear (&o);
}

static void
test_parse_option_several_long_flags (void **state)
{
  struct man_option o;

  (void) state;
  assert_int_equal (man_parse_option ("      --dns, --dns-option, --dns-search   DNS settings", &o),
                    MAN_LINE_OPTION);
  assert_string_equal (o.flags[2], "--dns-search");
  assert_null (o.type);
  assert_string_equal (o.text, "DNS settings");
  man_option_clear (&o);
}

/* one space between the type and the text, as in manifest push */
static void
test_parse_option_single_space_text (void **state)
{
  struct man_option o;

  (void) state;
  assert_int_equal (man_parse_option ("      --digestfile string write the digest", &o),
                    MAN_LINE_OPTION);
  assert_string_equal (o.type, "string");
  assert_string_equal (o.text, "write the digest");
  man_option_clear (&o);
}

static void
test_parse_option_flag_only (void **state)
{
  struct man_option o;

  (void) state;
  assert_int_equal (man_parse_option ("  -q", &o), MAN_LINE_OPTION);
  assert_string_equal (o.flags[0], "-q");
  assert_string_equal (o.text, "");
  man_option_clear (&o);
}

static void
test_parse_blank_and_text (void **state)
{
  struct man_option o;

  (void) state;
  assert_int_equal (man_parse_option ("", &o), MAN_LINE_BLANK);
  man_option_clear (&o);
  assert_int_equal (man_parse_option ("     ", &o), MAN_LINE_BLANK);
  man_option_clear (&o);
  assert_int_equal (man_parse_option ("        continued text", &o), MAN_LINE_TEXT);
  assert_string_equal (o.text, "continued text");
  assert_null (o.flags);
  man_option_clear (&o);
}

/* Not flags: each is kept as text rather than misparsed or dropped. */
static void
test_parse_malformed_flags (void **state)
{
  static const char *const bad[] = {
    "  -",         "  --",        "  - x   text", "  --a!b   text", "  ---x   text",
    "  -ab   text", "  -a,--b   text", "  --x\\y   text", "  -\xff   text",
  };
  struct man_option o;

  (void) state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      assert_int_equal (man_parse_option (bad[i], &o), MAN_LINE_TEXT);
      assert_null (o.flags);
      assert_string_equal (o.text, bad[i] + 2);
      man_option_clear (&o);
    }
}

static void
test_page_name (void **state)
{
  char *n;

  (void) state;
  n = man_page_name ("skiff image ls");
  assert_string_equal (n, "skiff-image-ls");
  free (n);
  n = man_page_name ("skiff");
  assert_string_equal (n, "skiff");
  free (n);
}

static void
test_usage_line (void **state)
{
  char *u;

  (void) state;
  u = cli_usage_line (&t_run, "skiff image run");
  assert_string_equal (u, "skiff image run [OPTIONS] IMAGE [COMMAND [ARG...]]");
  free (u);
  u = cli_usage_line (&t_image_ls, "skiff image ls");
  assert_string_equal (u, "skiff image ls [OPTIONS] [IMAGE]");
  free (u);
  u = cli_usage_line (&t_root, "skiff");
  assert_string_equal (u, "skiff [OPTIONS] COMMAND");
  free (u);
  u = cli_usage_line (&t_tag, "skiff tag");
  assert_string_equal (u, "skiff tag SOURCE TARGET");
  free (u);
}

static void
test_aliases_line (void **state)
{
  char *a;

  (void) state;
  a = cli_aliases_line (&t_run);
  assert_string_equal (a, "skiff image run, skiff run");
  free (a);
  a = cli_aliases_line (&t_images);
  assert_string_equal (a, "skiff image ls, skiff image list, skiff images");
  free (a);
  assert_null (cli_aliases_line (&t_tag));
}

static void
test_find_sub (void **state)
{
  (void) state;
  assert_ptr_equal (cli_find_sub (&t_image, "list"), &t_image_ls);
  assert_ptr_equal (cli_find_sub (&t_image, "ls"), &t_image_ls);
  assert_null (cli_find_sub (&t_image, "nope"));
  assert_null (cli_find_sub (&t_tag, "x"));
}

static void
test_help_root_layout (void **state)
{
  char *h;

  (void) state;
  h = help_text (&t_root, "skiff");
  assert_string_equal (h, "\nUsage:  skiff [OPTIONS] COMMAND\n\n"
                          "Manage containers\n\n"
                          "Common Commands:\n"
                          "  run         Run a command in a new container\n"
                          "  images      List images\n\n"
                          "Management Commands:\n"
                          "  image       Manage images\n\n"
                          "Commands:\n"
                          "  tag         Add a name\n\n"
                          "Global Options:\n"
                          "      --root string   store root\n\n"
                          "Run 'skiff COMMAND --help' for more information on a command.\n");
  free (h);
}

static void
test_help_command_layout (void **state)
{
  char *h;

  (void) state;
  h = help_text (&t_run, "skiff run");
  assert_string_equal (h, "\nUsage:  skiff run [OPTIONS] IMAGE [COMMAND [ARG...]]\n\n"
                          "Run a command.\n\nSecond paragraph.\n\n"
                          "Aliases:\n  skiff image run, skiff run\n\n"
                          "Options:\n      --rm   Remove the container\n");
  free (h);
}

static void
test_help_same_as_uses_target (void **state)
{
  char *h;

  (void) state;
  h = help_text (&t_image_ls, "skiff image ls");
  assert_non_null (strstr (h, "Usage:  skiff image ls [OPTIONS] [IMAGE]\n"));
  assert_non_null (strstr (h, "  -f, --filter filters  Filter output\n"));
  free (h);
}

/* Without a path, the path recorded for the running command wins, also
 * for the command it is another name for. */
static void
test_help_current_path (void **state)
{
  char *p;

  (void) state;
  cli_set_current (&t_image_ls, "skiff image list");
  p = cli_command_path (&t_images);
  assert_string_equal (p, "skiff image list");
  free (p);
  p = cli_command_path (&t_tag);
  assert_string_equal (p, "skiff tag");
  free (p);
  cli_set_current (NULL, "");
}

static void
test_help_family_layout (void **state)
{
  char *h;

  (void) state;
  h = help_text (&t_image, "skiff image");
  assert_string_equal (h, "\nUsage:  skiff image COMMAND\n\n"
                          "Manage images\n\n"
                          "Commands:\n"
                          "  ls          List images\n"
                          "  run         Run a command in a new container\n\n"
                          "Run 'skiff image COMMAND --help' for more information on a command.\n");
  free (h);
}

static void
test_render_page (void **state)
{
  char *page;

  (void) state;
  page = man_render_page (&t_images, "skiff images");
  assert_non_null (strstr (page, ".TH \"SKIFF-IMAGES\" 1 "));
  assert_non_null (strstr (page, ".SH NAME\nskiff\\-images \\- List images\n"));
  assert_non_null (strstr (page, ".SH SYNOPSIS\n\\fBskiff images\\fR [OPTIONS] [IMAGE]\n"));
  assert_non_null (strstr (page, ".TP\n\\fB\\-f\\fR, \\fB\\-\\-filter\\fR \\fIfilters\\fR\n"
                                 "Filter output\n"));
  assert_non_null (strstr (page, ".SH SEE ALSO\n\\fBskiff\\fR(1)\n"));
  free (page);
}

static void
test_render_family_lists_pages (void **state)
{
  char *page;

  (void) state;
  page = man_render_page (&t_image, "skiff image");
  assert_non_null (strstr (page, ".SH COMMANDS\n.TP\n\\fBskiff\\-image\\-ls\\fR(1)\nList images\n"));
  free (page);
}

/* Help text that looks like troff must stay text. */
static void
test_render_escapes (void **state)
{
  static const struct command hostile = {
    .name = "x",
    .summary = "a \\fB back\\slash",
    .usage = "x",
    .description = ".so /etc/passwd\n'br\nplain",
    .options_help = "  -a   .TH evil\n        \\(co more\n",
  };
  char *page;

  (void) state;
  page = man_render_page (&hostile, "skiff x");
  assert_non_null (strstr (page, "a \\efB back\\eslash"));
  assert_non_null (strstr (page, "\n\\&.so /etc/passwd\n\\&'br\nplain\n"));
  assert_null (strstr (page, "\n.so"));
  assert_non_null (strstr (page, "\n\\&.TH evil\n\\e(co more\n"));
  free (page);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_option_with_type),
    cmocka_unit_test (test_parse_option_switch),
    cmocka_unit_test (test_parse_option_several_long_flags),
    cmocka_unit_test (test_parse_option_single_space_text),
    cmocka_unit_test (test_parse_option_flag_only),
    cmocka_unit_test (test_parse_blank_and_text),
    cmocka_unit_test (test_parse_malformed_flags),
    cmocka_unit_test (test_page_name),
    cmocka_unit_test (test_usage_line),
    cmocka_unit_test (test_aliases_line),
    cmocka_unit_test (test_find_sub),
    cmocka_unit_test (test_help_root_layout),
    cmocka_unit_test (test_help_command_layout),
    cmocka_unit_test (test_help_same_as_uses_target),
    cmocka_unit_test (test_help_current_path),
    cmocka_unit_test (test_help_family_layout),
    cmocka_unit_test (test_render_page),
    cmocka_unit_test (test_render_family_lists_pages),
    cmocka_unit_test (test_render_escapes),
  };
  return cmocka_run_group_tests (tests, setup_tree, NULL);
}
