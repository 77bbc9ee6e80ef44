/* Help text in docker's layout, and the walk over the command tree that
 * help, man pages and aliases share.  Everything is derived from the
 * command descriptors, so a new command documents itself. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "libutil/buf.h"
#include "libutil/mem.h"

/* Docker's "Common Commands", in the order `docker --help` lists them;
 * the ones skiff lacks are skipped. */
static const char *const common_names[] = {
  "run", "exec", "ps", "build", "pull", "push", "images", "login", "logout",
  "search", "version", "info", NULL,
};

/* Cobra's minimum name column, which docker's templates pad to plus one. */
#define NAME_PADDING_MIN 11

static const struct command *root_command;
static const struct command *current_command;
static char *current_path;

void
cli_set_root (const struct command *root)
{
  root_command = root;
}

const struct command *
cli_root (void)
{
  return root_command;
}

void
cli_set_current (const struct command *cmd, const char *path)
{
  free (current_path);
  current_path = xstrdup (path);
  current_command = cmd;
}

static void
walk (const struct command *cmd, const char *path, cli_walk_fn fn, void *data)
{
  fn (cmd, path, data);
  for (const struct command *const *s = cmd->subs; s && *s; s++)
    {
      cleanup_free char *sub = xasprintf ("%s %s", path, (*s)->name);
      walk (*s, sub, fn, data);
    }
}

void
cli_walk (const struct command *root, cli_walk_fn fn, void *data)
{
  if (root)
    walk (root, root->name, fn, data);
}

struct find_path
{
  const struct command *cmd;
  char *path;
};

static void
find_first (const struct command *cmd, const char *path, void *data)
{
  struct find_path *f = data;

  if (cmd == f->cmd && f->path == NULL)
    f->path = xstrdup (path);
}

char *
cli_command_path (const struct command *cmd)
{
  struct find_path f = { cmd, NULL };

  if (current_command && current_path
      && (cmd == current_command || cmd == current_command->same_as))
    return xstrdup (current_path);
  cli_walk (root_command, find_first, &f);
  if (f.path)
    return f.path;
  return xasprintf ("skiff %s", cmd->name);
}

/* The operands part of CMD's usage: what follows the command's own name
 * ("image prune [options]" -> "[options]"). */
static const char *
usage_operands (const struct command *cmd)
{
  const char *u = cmd->usage ? cmd->usage : "";
  size_t n = strlen (cmd->name);

  for (const char *p = u; (p = strstr (p, cmd->name)) != NULL; p++)
    if ((p == u || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
      return p + n + strspn (p + n, " ");
  return u;
}

char *
cli_usage_line (const struct command *cmd, const char *path)
{
  const char *ops = usage_operands (cli_documented (cmd));
  const char *lower = strstr (ops, "[options]");
  struct buf b = BUF_INIT;

  buf_append_str (&b, path);
  if (*ops == '\0')
    return buf_steal (&b);
  buf_append_char (&b, ' ');
  if (lower == NULL)
    buf_append_str (&b, ops);
  else
    {
      buf_append (&b, ops, (size_t) (lower - ops));
      buf_append_str (&b, "[OPTIONS]");
      buf_append_str (&b, lower + strlen ("[options]"));
    }
  return buf_steal (&b);
}

const struct command *
cli_documented (const struct command *cmd)
{
  return cmd->same_as ? cmd->same_as : cmd;
}

const char *
cli_description (const struct command *cmd)
{
  cmd = cli_documented (cmd);
  return cmd->description ? cmd->description : cmd->summary;
}

const struct command *
cli_find_sub (const struct command *family, const char *name)
{
  for (const struct command *const *c = family->subs; c && *c; c++)
    {
      if (strcmp ((*c)->name, name) == 0)
        return *c;
      for (size_t i = 0; i < sizeof (*c)->aliases / sizeof (*c)->aliases[0]; i++)
        if ((*c)->aliases[i] && strcmp ((*c)->aliases[i], name) == 0)
          return *c;
    }
  return NULL;
}

struct alias_places
{
  const struct command *cmd;
  char **paths;
  int *depths;
  size_t n;
};

static int
path_depth (const char *path)
{
  int d = 0;

  for (; *path; path++)
    d += *path == ' ';
  return d;
}

static void
add_place (struct alias_places *a, const char *path)
{
  a->paths = xrealloc (a->paths, (a->n + 1) * sizeof *a->paths);
  a->depths = xrealloc (a->depths, (a->n + 1) * sizeof *a->depths);
  a->paths[a->n] = xstrdup (path);
  a->depths[a->n] = path_depth (path);
  a->n++;
}

static void
collect_place (const struct command *cmd, const char *path, void *data)
{
  struct alias_places *a = data;
  const char *last;

  /* "image ls" answers for "images" too */
  if (cli_documented (cmd) != a->cmd)
    return;
  add_place (a, path);
  last = strrchr (path, ' ');
  for (size_t i = 0; i < sizeof cmd->aliases / sizeof cmd->aliases[0]; i++)
    if (cmd->aliases[i] && last)
      {
        cleanup_free char *alias = xasprintf ("%.*s %s", (int) (last - path), path,
                                              cmd->aliases[i]);
        add_place (a, alias);
      }
}

char *
cli_aliases_line (const struct command *cmd)
{
  struct alias_places a = { cli_documented (cmd), NULL, NULL, 0 };
  struct buf b = BUF_INIT;
  int max = 0;

  cli_walk (root_command, collect_place, &a);
  for (size_t i = 0; i < a.n; i++)
    if (a.depths[i] > max)
      max = a.depths[i];
  /* deepest first, table order within a depth: "skiff container run, skiff run" */
  for (int d = max; d >= 0 && a.n > 1; d--)
    for (size_t i = 0; i < a.n; i++)
      if (a.depths[i] == d)
        {
          if (b.len)
            buf_append_str (&b, ", ");
          buf_append_str (&b, a.paths[i]);
        }
  for (size_t i = 0; i < a.n; i++)
    free (a.paths[i]);
  free (a.paths);
  free (a.depths);
  return b.len ? buf_steal (&b) : NULL;
}

static bool
is_common (const struct command *cmd)
{
  for (const char *const *n = common_names; *n; n++)
    if (strcmp (*n, cmd->name) == 0)
      return true;
  return false;
}

static int
name_padding (const struct command *family)
{
  int width = NAME_PADDING_MIN;

  for (const struct command *const *s = family->subs; *s; s++)
    if ((int) strlen ((*s)->name) > width)
      width = (int) strlen ((*s)->name);
  return width + 1;
}

static void
print_entry (FILE *out, const struct command *cmd, int width)
{
  fprintf (out, "  %-*s%s\n", width, cmd->name, cmd->summary);
}

/* The root's groups as `docker --help` has them: Common Commands,
 * Management Commands (families), then Commands (the rest). */
static void
print_root_groups (FILE *out, const struct command *root, int width)
{
  bool is_any = false;

  for (const char *const *n = common_names; *n; n++)
    for (const struct command *const *s = root->subs; *s; s++)
      if (strcmp ((*s)->name, *n) == 0)
        {
          fprintf (out, "%s", is_any ? "" : "\nCommon Commands:\n");
          is_any = true;
          print_entry (out, *s, width);
        }
  is_any = false;
  for (const struct command *const *s = root->subs; *s; s++)
    if ((*s)->subs && !is_common (*s))
      {
        fprintf (out, "%s", is_any ? "" : "\nManagement Commands:\n");
        is_any = true;
        print_entry (out, *s, width);
      }
  is_any = false;
  for (const struct command *const *s = root->subs; *s; s++)
    if ((*s)->subs == NULL && !is_common (*s))
      {
        fprintf (out, "%s", is_any ? "" : "\nCommands:\n");
        is_any = true;
        print_entry (out, *s, width);
      }
}

static void
print_text (FILE *out, const char *text)
{
  size_t n = strlen (text);

  while (n > 0 && text[n - 1] == '\n')
    n--;
  fprintf (out, "%.*s\n", (int) n, text);
}

void
cli_fprint_help (FILE *out, const struct command *cmd, const char *path)
{
  cleanup_free char *own_path = path ? NULL : cli_command_path (cmd);
  cleanup_free char *usage = NULL;
  cleanup_free char *aliases = NULL;
  bool is_root = cmd == root_command;

  if (path == NULL)
    path = own_path;
  usage = cli_usage_line (cmd, path);
  fprintf (out, "\nUsage:  %s\n\n", usage);
  print_text (out, cli_description (cmd));
  aliases = cli_aliases_line (cmd);
  if (aliases)
    fprintf (out, "\nAliases:\n  %s\n", aliases);
  if (cli_documented (cmd)->options_help && !is_root)
    fprintf (out, "\nOptions:\n%s", cli_documented (cmd)->options_help);
  if (cmd->subs && is_root)
    print_root_groups (out, cmd, name_padding (cmd));
  else if (cmd->subs)
    {
      int width = name_padding (cmd);

      fprintf (out, "\nCommands:\n");
      for (const struct command *const *s = cmd->subs; *s; s++)
        print_entry (out, *s, width);
    }
  if (cmd->options_help && is_root)
    fprintf (out, "\nGlobal Options:\n%s", cmd->options_help);
  if (cmd->subs)
    fprintf (out, "\nRun '%s COMMAND --help' for more information on a command.\n", path);
}

void
cli_print_help (const struct command *cmd, const char *path)
{
  cli_fprint_help (stdout, cmd, path);
}
