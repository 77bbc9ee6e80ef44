/* The unit file reader and writer behind Quadlet.  The reading rules are
 * systemd's config_parse() (src/shared/conf-parser.c): physical lines
 * first lose a trailing "\r", comment lines are dropped even inside a
 * continuation, an unescaped trailing backslash joins the next line, and
 * each logical line is a section header, a KEY=VALUE assignment or blank.
 * Files come from users' directories, so every malformed shape fails with
 * the file and line named rather than being guessed at. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "libutil/buf.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "quadlet_unit.h"

static const char blanks[] = " \t\n\r";

struct quadlet_unit *
quadlet_unit_new (const char *path)
{
  struct quadlet_unit *u = xmalloc0 (sizeof *u);
  const char *slash = strrchr (path, '/');

  u->path = xstrdup (path);
  u->name = xstrdup (slash ? slash + 1 : path);
  return u;
}

void
quadlet_unit_free (struct quadlet_unit *u)
{
  if (u == NULL)
    return;
  for (size_t g = 0; g < u->n_groups; g++)
    {
      for (size_t i = 0; i < u->groups[g].n_entries; i++)
        {
          free (u->groups[g].entries[i].key);
          free (u->groups[g].entries[i].value);
        }
      free (u->groups[g].entries);
      free (u->groups[g].name);
    }
  free (u->groups);
  free (u->path);
  free (u->name);
  free (u);
}

void
quadlet_unit_freep (struct quadlet_unit **u)
{
  quadlet_unit_free (*u);
}

struct quadlet_unit *
quadlet_unit_dup (const struct quadlet_unit *u)
{
  struct quadlet_unit *d = quadlet_unit_new (u->path);

  free (d->name);
  d->name = xstrdup (u->name);
  for (size_t g = 0; g < u->n_groups; g++)
    {
      const struct quadlet_group *src = &u->groups[g];
      for (size_t i = 0; i < src->n_entries; i++)
        quadlet_unit_add (d, src->name, src->entries[i].key, src->entries[i].value);
      if (src->n_entries == 0 && quadlet_unit_group (d, src->name) == NULL)
        {
          d->groups = xrealloc (d->groups, (d->n_groups + 1) * sizeof *d->groups);
          d->groups[d->n_groups++] = (struct quadlet_group) { .name = xstrdup (src->name) };
        }
    }
  return d;
}

struct quadlet_group *
quadlet_unit_group (const struct quadlet_unit *u, const char *name)
{
  for (size_t g = 0; g < u->n_groups; g++)
    if (strcmp (u->groups[g].name, name) == 0)
      return &u->groups[g];
  return NULL;
}

static struct quadlet_group *
ensure_group (struct quadlet_unit *u, const char *name)
{
  struct quadlet_group *g = quadlet_unit_group (u, name);

  if (g)
    return g;
  u->groups = xrealloc (u->groups, (u->n_groups + 1) * sizeof *u->groups);
  g = &u->groups[u->n_groups++];
  *g = (struct quadlet_group) { .name = xstrdup (name) };
  return g;
}

void
quadlet_unit_rename_group (struct quadlet_unit *u, const char *from, const char *to)
{
  struct quadlet_group *g = quadlet_unit_group (u, from);

  if (g == NULL)
    return;
  free (g->name);
  g->name = xstrdup (to);
}

void
quadlet_unit_add (struct quadlet_unit *u, const char *group, const char *key, const char *value)
{
  struct quadlet_group *g = ensure_group (u, group);

  g->entries = xrealloc (g->entries, (g->n_entries + 1) * sizeof *g->entries);
  g->entries[g->n_entries++] = (struct quadlet_entry) { xstrdup (key), xstrdup (value) };
}

static struct quadlet_entry *
find_last (const struct quadlet_group *g, const char *key)
{
  for (size_t i = g ? g->n_entries : 0; i > 0; i--)
    if (strcmp (g->entries[i - 1].key, key) == 0)
      return &g->entries[i - 1];
  return NULL;
}

void
quadlet_unit_set (struct quadlet_unit *u, const char *group, const char *key, const char *value)
{
  struct quadlet_entry *e = find_last (quadlet_unit_group (u, group), key);

  if (e == NULL)
    {
      quadlet_unit_add (u, group, key, value);
      return;
    }
  free (e->value);
  e->value = xstrdup (value);
}

const char *
quadlet_unit_lookup (const struct quadlet_unit *u, const char *group, const char *key)
{
  struct quadlet_entry *e = find_last (quadlet_unit_group (u, group), key);

  return e ? e->value : NULL;
}

char **
quadlet_unit_lookup_all (const struct quadlet_unit *u, const char *group, const char *key)
{
  const struct quadlet_group *g = quadlet_unit_group (u, group);
  char **out = xcalloc (1, sizeof *out);

  for (size_t i = 0; g && i < g->n_entries; i++)
    {
      if (strcmp (g->entries[i].key, key) != 0)
        continue;
      if (g->entries[i].value[0] == '\0')
        {
          strv_free (out);
          out = xcalloc (1, sizeof *out);
        }
      else
        out = strv_append (out, g->entries[i].value);
    }
  return out;
}

/* ---- parsing -------------------------------------------------------------- */

struct parser
{
  struct quadlet_unit *u;
  char *group; /* the current section, NULL before the first */
  size_t n_entries;
};

static char *
strip (char *s)
{
  char *end;

  s += strspn (s, blanks);
  end = s + strlen (s);
  while (end > s && strchr (blanks, end[-1]))
    *--end = '\0';
  return s;
}

static int
parse_header (struct parser *p, char *l, size_t lineno, struct error **err)
{
  size_t n = strlen (l);

  if (n < 3 || l[n - 1] != ']')
    return err_make (err, 0, "\"%s\" line %zu: invalid section header \"%s\"", p->u->path,
                     lineno, l);
  l[n - 1] = '\0';
  if (strpbrk (l + 1, "[]"))
    return err_make (err, 0, "\"%s\" line %zu: invalid section name \"%s\"", p->u->path,
                     lineno, l + 1);
  if (quadlet_unit_group (p->u, l + 1) == NULL && p->u->n_groups >= QUADLET_MAX_GROUPS)
    return err_make (err, 0, "\"%s\" line %zu: more than %d sections", p->u->path, lineno,
                     QUADLET_MAX_GROUPS);
  free (p->group);
  p->group = xstrdup (l + 1);
  ensure_group (p->u, p->group);
  return 0;
}

static int
parse_logical_line (struct parser *p, char *line, size_t lineno, struct error **err)
{
  char *l = strip (line);
  char *eq, *key;

  if (*l == '\0')
    return 0;
  if (*l == '[')
    return parse_header (p, l, lineno, err);
  eq = strchr (l, '=');
  if (eq == NULL)
    return err_make (err, 0, "\"%s\" line %zu: missing '=' in \"%.64s\"", p->u->path, lineno,
                     l);
  if (p->group == NULL)
    return err_make (err, 0, "\"%s\" line %zu: assignment outside of a section", p->u->path,
                     lineno);
  *eq = '\0';
  key = strip (l);
  if (*key == '\0' || strpbrk (key, blanks))
    return err_make (err, 0, "\"%s\" line %zu: invalid key \"%s\"", p->u->path, lineno, key);
  if (++p->n_entries > QUADLET_MAX_ENTRIES)
    return err_make (err, 0, "\"%s\" line %zu: more than %d assignments", p->u->path,
                     lineno, QUADLET_MAX_ENTRIES);
  quadlet_unit_add (p->u, p->group, key, strip (eq + 1));
  return 0;
}

/* Whether LINE ends in a backslash that is not itself escaped. */
static bool
ends_in_continuation (const char *line, size_t n)
{
  size_t k = 0;

  while (k < n && line[n - 1 - k] == '\\')
    k++;
  return k % 2 == 1;
}

static int
parse_lines (struct parser *p, const char *text, size_t len, struct error **err)
{
  cleanup_buf struct buf logical = BUF_INIT;
  bool is_continued = false;
  size_t lineno = 0, first = 0;

  for (size_t pos = 0; pos < len;)
    {
      const char *nl = memchr (text + pos, '\n', len - pos);
      size_t n = (nl ? (size_t) (nl - text) : len) - pos;
      const char *line = text + pos;
      const char *content;

      pos += n + (nl != NULL);
      lineno++;
      if (n > 0 && line[n - 1] == '\r')
        n--;
      if (lineno == 1 && n >= 3 && memcmp (line, "\xef\xbb\xbf", 3) == 0)
        line += 3, n -= 3;
      content = line;
      while (content < line + n && strchr (" \t", *content))
        content++;
      if (content < line + n && (*content == '#' || *content == ';'))
        continue;
      if (!is_continued)
        {
          buf_truncate (&logical, 0);
          first = lineno;
        }
      if (logical.len + n > QUADLET_LINE_MAX)
        return err_make (err, 0, "\"%s\" line %zu: line longer than %d bytes", p->u->path,
                         first, QUADLET_LINE_MAX);
      buf_append (&logical, line, n);
      is_continued = ends_in_continuation (logical.data, logical.len);
      if (is_continued)
        {
          logical.data[logical.len - 1] = ' ';
          continue;
        }
      if (parse_logical_line (p, logical.data, first, err) < 0)
        return -1;
    }
  if (is_continued && parse_logical_line (p, logical.data, first, err) < 0)
    return -1;
  return 0;
}

struct quadlet_unit *
quadlet_unit_parse (const char *path, const char *text, size_t len, struct error **err)
{
  cleanup_quadlet_unit struct quadlet_unit *u = quadlet_unit_new (path);
  struct parser p = { .u = u };
  const char *nul = memchr (text, '\0', len);
  int r;

  if (nul)
    {
      size_t lineno = 1;
      for (const char *c = text; c < nul; c++)
        lineno += *c == '\n';
      err_make (err, 0, "\"%s\" line %zu: NUL byte in a unit file", path, lineno);
      return NULL;
    }
  r = parse_lines (&p, text, len, err);
  free (p.group);
  return r < 0 ? NULL : steal_ptr (&u);
}

/* ---- words ---------------------------------------------------------------- */

/* Decode the escape at *P (just past the backslash) into B, as systemd's
 * cunescape_one(); *P moves past it.  Returns -1 on a malformed one. */
static int
unescape_one (const char **p, struct buf *b)
{
  /* "\ " is systemd's EXTRACT_UNESCAPE_SEPARATORS for command lines. */
  static const char simple[] = "abfnrtv\\\"'s ";
  static const char decoded[] = "\a\b\f\n\r\t\v\\\"'  ";
  const char *c = *p;
  const char *hit = *c ? strchr (simple, *c) : NULL;
  uint32_t v = 0;
  int digits = 0, base = 16;

  if (hit)
    {
      buf_append_char (b, decoded[hit - simple]);
      *p = c + 1;
      return 0;
    }
  if (*c == 'x')
    digits = 2;
  else if (*c == 'u')
    digits = 4;
  else if (*c == 'U')
    digits = 8;
  else if (*c >= '0' && *c <= '7')
    digits = 3, base = 8, c--;
  else
    return -1;
  c++;
  for (int i = 0; i < digits; i++)
    {
      int d = parse_hex_digit (c[i]);
      if (d < 0 || d >= base)
        return -1;
      v = v * (uint32_t) base + (uint32_t) d;
    }
  if (v == 0 || v > 0x10ffff || (digits == 3 && v > 0xff))
    return -1;
  if (digits <= 3)
    buf_append_char (b, (char) v);
  else
    buf_append_utf8 (b, v);
  *p = c + digits;
  return 0;
}

int
quadlet_split_words (const char *value, char ***out, struct error **err)
{
  cleanup_strv char **words = xcalloc (1, sizeof *words);
  const char *p = value;

  for (;;)
    {
      cleanup_buf struct buf w = BUF_INIT;
      char quote = 0;

      p += strspn (p, blanks);
      if (*p == '\0')
        break;
      buf_append (&w, "", 0);
      while (*p && (quote || !strchr (blanks, *p)))
        {
          const char *start = p;
          if (quote && *p == quote)
            quote = 0, p++;
          else if (!quote && (*p == '"' || *p == '\''))
            quote = *p++;
          else if (*p == '\\')
            {
              p++;
              if (unescape_one (&p, &w) < 0)
                return err_make (err, 0, "invalid escape \"%.6s\" in \"%s\"", start, value);
            }
          else
            buf_append_char (&w, *p++);
        }
      if (quote)
        return err_make (err, 0, "unterminated quote in \"%s\"", value);
      words = strv_append (words, w.data);
    }
  *out = steal_ptr (&words);
  return 0;
}

int
quadlet_parse_bool (const char *value, bool *out)
{
  static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
  static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    if (strcasecmp (value, yes[i]) == 0)
      {
        *out = true;
        return 0;
      }
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    if (strcasecmp (value, no[i]) == 0)
      {
        *out = false;
        return 0;
      }
  return -1;
}

/* ---- writing -------------------------------------------------------------- */

char *
quadlet_quote_word (const char *word)
{
  struct buf b = BUF_INIT;
  bool is_quoted = *word == '\0' || strcmp (word, ";") == 0;

  for (const char *c = word; *c && !is_quoted; c++)
    is_quoted = strchr (" \t\n\r\"'\\", *c) || iscntrl ((unsigned char) *c);
  if (!is_quoted)
    return xstrdup (word);
  buf_append_char (&b, '"');
  for (const char *c = word; *c; c++)
    switch (*c)
      {
      case '"': buf_append_str (&b, "\\\""); break;
      case '\\': buf_append_str (&b, "\\\\"); break;
      case '\n': buf_append_str (&b, "\\n"); break;
      case '\t': buf_append_str (&b, "\\t"); break;
      case '\r': buf_append_str (&b, "\\r"); break;
      default:
        if (iscntrl ((unsigned char) *c))
          buf_printf (&b, "\\x%02x", (unsigned char) *c);
        else
          buf_append_char (&b, *c);
      }
  buf_append_char (&b, '"');
  return buf_steal (&b);
}

char *
quadlet_join_cmdline (char *const *argv)
{
  struct buf b = BUF_INIT;

  for (size_t i = 0; argv[i]; i++)
    {
      cleanup_free char *q = quadlet_quote_word (argv[i]);
      if (i > 0)
        buf_append_char (&b, ' ');
      buf_append_str (&b, q);
    }
  return buf_steal (&b);
}

char *
quadlet_unit_render (const struct quadlet_unit *u)
{
  struct buf b = BUF_INIT;

  for (size_t g = 0; g < u->n_groups; g++)
    {
      const struct quadlet_group *grp = &u->groups[g];
      buf_printf (&b, "%s[%s]\n", g > 0 ? "\n" : "", grp->name);
      for (size_t i = 0; i < grp->n_entries; i++)
        buf_printf (&b, "%s=%s\n", grp->entries[i].key, grp->entries[i].value);
    }
  return buf_steal (&b);
}
