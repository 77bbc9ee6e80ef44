/* Man pages rendered from the command descriptors: NAME and SYNOPSIS from
 * the summary and usage, DESCRIPTION from the description, OPTIONS parsed
 * out of the same options_help block that --help prints, COMMANDS for
 * families.  The build runs `skiff help --man-dir` to write them, so the
 * pages cannot drift from the binary. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/mem.h"
#include "man.h"

/* Append N bytes of S escaped for troff text.  A backslash would start an
 * escape sequence and a leading '.' or '\'' a request, so both are
 * neutralised; '-' becomes a real minus so flags can be copied. */
static void
append_escaped (struct buf *b, const char *s, size_t n)
{
  bool is_line_start = b->len == 0 || b->data[b->len - 1] == '\n';

  for (size_t i = 0; i < n && s[i]; i++)
    {
      if (is_line_start && (s[i] == '.' || s[i] == '\''))
        buf_append_str (b, "\\&");
      is_line_start = s[i] == '\n';
      if (s[i] == '\\')
        buf_append_str (b, "\\e");
      else if (s[i] == '-')
        buf_append_str (b, "\\-");
      else
        buf_append_char (b, s[i]);
    }
}

static void
append_text (struct buf *b, const char *s)
{
  append_escaped (b, s, strlen (s));
}

/* "-a" or "--all-tags": what getopt_long would accept as a name. */
static bool
is_flag (const char *w, size_t n)
{
  if (n == 2 && w[0] == '-')
    return isalnum ((unsigned char) w[1]);
  if (n < 3 || w[0] != '-' || w[1] != '-' || !isalnum ((unsigned char) w[2]))
    return false;
  for (size_t i = 3; i < n; i++)
    if (!isalnum ((unsigned char) w[i]) && w[i] != '-')
      return false;
  return true;
}

void
man_option_clear (struct man_option *opt)
{
  strv_free (opt->flags);
  free (opt->type);
  free (opt->text);
  memset (opt, 0, sizeof *opt);
}

/* Read the flag list at *P ("-a, --all"): every word that is a flag, with
 * its trailing comma, each separated by one space. */
static void
parse_flags (const char **p, struct man_option *opt)
{
  const char *s = *p;

  for (;;)
    {
      size_t n = strcspn (s, " ,");
      if (!is_flag (s, n))
        break;
      cleanup_free char *flag = xstrndup (s, n);
      opt->flags = strv_append (opt->flags, flag);
      s += n;
      if (*s == ',')
        s++;
      *p = s;
      if (*s != ' ' || s[1] == ' ')
        break;
      s++;
    }
}

enum man_line_kind
man_parse_option (const char *line, struct man_option *opt)
{
  const char *p = line + strspn (line, " ");
  const char *after;

  memset (opt, 0, sizeof *opt);
  if (*p == '\0')
    return MAN_LINE_BLANK;
  parse_flags (&p, opt);
  if (opt->flags == NULL || (*p != ' ' && *p != '\0'))
    {
      strv_free (opt->flags);
      opt->flags = NULL;
      opt->text = xstrdup (line + strspn (line, " "));
      return MAN_LINE_TEXT;
    }
  /* one space then a word: the value type ("--name string") */
  if (p[0] == ' ' && p[1] != ' ' && p[1] != '\0')
    {
      size_t n = strcspn (p + 1, " ");
      opt->type = xstrndup (p + 1, n);
      p += 1 + n;
    }
  after = p + strspn (p, " ");
  opt->text = xstrdup (after);
  return MAN_LINE_OPTION;
}

char *
man_page_name (const char *path)
{
  char *name = xstrdup (path);

  for (char *c = name; *c; c++)
    if (*c == ' ')
      *c = '-';
  return name;
}

static void
append_option (struct buf *b, const struct man_option *opt)
{
  buf_append_str (b, ".TP\n");
  for (size_t i = 0; opt->flags[i]; i++)
    {
      buf_append_str (b, i ? ", \\fB" : "\\fB");
      append_text (b, opt->flags[i]);
      buf_append_str (b, "\\fR");
    }
  if (opt->type)
    {
      buf_append_str (b, " \\fI");
      append_text (b, opt->type);
      buf_append_str (b, "\\fR");
    }
  buf_append_char (b, '\n');
}

/* The options_help block as .TP entries; continuation lines join the
 * entry above them. */
static void
append_options (struct buf *b, const char *title, const char *help)
{
  cleanup_strv char **lines = str_split (help, '\n');
  bool has_entry = false;

  buf_printf (b, ".SH %s\n", title);
  for (size_t i = 0; lines[i]; i++)
    {
      struct man_option opt;
      enum man_line_kind kind = man_parse_option (lines[i], &opt);

      if (kind == MAN_LINE_OPTION)
        {
          append_option (b, &opt);
          has_entry = true;
        }
      else if (kind == MAN_LINE_TEXT && !has_entry)
        buf_append_str (b, ".PP\n");
      if (opt.text && *opt.text)
        {
          append_text (b, opt.text);
          buf_append_char (b, '\n');
        }
      man_option_clear (&opt);
    }
}

/* Paragraphs are separated by blank lines, as in the help text. */
static void
append_paragraphs (struct buf *b, const char *text)
{
  const char *p = text;

  while (*p)
    {
      const char *end = strstr (p, "\n\n");
      size_t n = end ? (size_t) (end - p) : strlen (p);

      while (n > 0 && p[n - 1] == '\n')
        n--;
      if (n > 0)
        {
          buf_append_str (b, ".PP\n");
          append_escaped (b, p, n);
          buf_append_char (b, '\n');
        }
      if (end == NULL)
        break;
      p = end + strspn (end, "\n");
    }
}

static void
append_page_ref (struct buf *b, const char *path)
{
  cleanup_free char *name = man_page_name (path);

  buf_append_str (b, "\\fB");
  append_text (b, name);
  buf_append_str (b, "\\fR(1)");
}

static void
append_commands (struct buf *b, const struct command *cmd, const char *path)
{
  buf_append_str (b, ".SH COMMANDS\n");
  for (const struct command *const *s = cmd->subs; *s; s++)
    {
      cleanup_free char *sub = xasprintf ("%s %s", path, (*s)->name);
      buf_append_str (b, ".TP\n");
      append_page_ref (b, sub);
      buf_append_char (b, '\n');
      append_text (b, (*s)->summary);
      buf_append_char (b, '\n');
    }
}

static void
append_header (struct buf *b, const struct command *cmd, const char *path)
{
  cleanup_free char *name = man_page_name (path);
  cleanup_free char *usage = cli_usage_line (cmd, path);
  const char *ops = usage + strlen (path);

  buf_append_str (b, ".TH \"");
  for (const char *c = name; *c; c++)
    buf_append_char (b, (char) (*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c));
  buf_printf (b, "\" 1 \"\" \"skiff %s\" \"User Commands\"\n", PACKAGE_VERSION);
  buf_append_str (b, ".SH NAME\n");
  append_text (b, name);
  buf_append_str (b, " \\- ");
  append_text (b, cli_documented (cmd)->summary);
  buf_append_str (b, "\n.SH SYNOPSIS\n\\fB");
  append_text (b, path);
  buf_append_str (b, "\\fR");
  append_text (b, ops);
  buf_append_char (b, '\n');
}

char *
man_render_page (const struct command *cmd, const char *path)
{
  const struct command *doc = cli_documented (cmd);
  bool is_root = cmd == cli_root () || strchr (path, ' ') == NULL;
  cleanup_free char *aliases = cli_aliases_line (cmd);
  struct buf b = BUF_INIT;

  append_header (&b, cmd, path);
  buf_append_str (&b, ".SH DESCRIPTION\n");
  append_paragraphs (&b, cli_description (cmd));
  if (aliases)
    {
      buf_append_str (&b, ".SH ALIASES\n");
      append_text (&b, aliases);
      buf_append_char (&b, '\n');
    }
  if (doc->options_help)
    append_options (&b, is_root ? "GLOBAL OPTIONS" : "OPTIONS", doc->options_help);
  if (doc->subs)
    append_commands (&b, doc, path);
  if (!is_root)
    {
      const char *last = strrchr (path, ' ');
      cleanup_free char *parent = xstrndup (path, (size_t) (last - path));

      buf_append_str (&b, ".SH SEE ALSO\n");
      append_page_ref (&b, parent);
      buf_append_char (&b, '\n');
    }
  return buf_steal (&b);
}

struct page_writer
{
  const char *dir;
  bool is_list;
  struct error **err;
  int ret;
};

static void
write_page (const struct command *cmd, const char *path, void *data)
{
  struct page_writer *w = data;
  cleanup_free char *name = NULL;
  cleanup_free char *file = NULL;
  cleanup_free char *page = NULL;

  if (w->ret < 0)
    return;
  name = man_page_name (path);
  file = xasprintf ("%s/%s.1", w->dir, name);
  page = man_render_page (cmd, path);
  w->ret = fs_write_atomic_nosync (file, page, strlen (page), 0644, w->err);
  if (w->ret < 0)
    err_wrap (w->err, "write man page \"%s\"", file);
  else if (w->is_list)
    printf ("%s\n", file);
}

int
man_write_pages (const struct command *root, const char *dir, bool is_list,
                 struct error **err)
{
  struct page_writer w = { dir, is_list, err, 0 };

  if (fs_mkdir_p (dir, 0755, err) < 0)
    return -1;
  cli_walk (root, write_page, &w);
  return w.ret;
}
