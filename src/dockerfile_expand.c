/* Docker's word processing for Dockerfile arguments (moby/buildkit
 * frontend/dockerfile/shell/lex.go, ProcessWord): variable substitution
 * with the $VAR, ${VAR}, ${VAR:-w}, ${VAR-w}, ${VAR:+w} and ${VAR+w}
 * forms, quote removal and escapes.  The input is hostile: every malformed
 * construct is an error, and nesting of "${" is bounded so a crafted word
 * cannot exhaust the stack. */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/mem.h"
#include "src/dockerfile.h"

/* Deeper "${A:-${B:-...}}" nesting than any real Dockerfile uses. */
#define MAX_NESTING 64
/* How much of the word an error message quotes. */
#define MAX_QUOTED 200

struct expander
{
  const char *s;
  size_t len;
  size_t pos;
  char escape;
  bool is_raw; /* DF_EXPAND_NO_QUOTES */
  df_lookup_fn lookup;
  void *data;
  unsigned int depth;
  const char *problem; /* static text of the first error */
  char modifier[3];    /* for "unsupported modifier" */
};

static int process_until (struct expander *x, char stop, struct buf *out);

static int
fail (struct expander *x, const char *problem)
{
  x->problem = problem;
  return -1;
}

static bool
is_special_param (char c)
{
  return c != '\0' && strchr ("@*#?-$!0", c) != NULL;
}

static bool
is_name_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A name as the shell reads it: all digits ("$10"), one special parameter
 * character ("$@"), or letters, digits and underscores.  Empty when none. */
static char *
read_name (struct expander *x)
{
  size_t start = x->pos;

  if (x->pos < x->len && x->s[x->pos] >= '0' && x->s[x->pos] <= '9')
    {
      while (x->pos < x->len && x->s[x->pos] >= '0' && x->s[x->pos] <= '9')
        x->pos++;
    }
  else if (x->pos < x->len && is_special_param (x->s[x->pos]))
    x->pos++;
  else
    while (x->pos < x->len && is_name_char (x->s[x->pos]))
      x->pos++;
  return xstrndup (x->s + start, x->pos - start);
}

static const char *
lookup (struct expander *x, const char *name)
{
  return x->lookup ? x->lookup (name, x->data) : NULL;
}

/* The part of "${NAME...}" after NAME: "}", or a modifier and its word. */
static int
expand_braced_rest (struct expander *x, const char *name, struct buf *out)
{
  cleanup_buf struct buf word = BUF_INIT;
  bool is_null_unset = false;
  const char *value;
  char c;

  if (x->pos >= x->len)
    return fail (x, "missing '}'");
  c = x->s[x->pos++];
  if (c == '}')
    {
      value = lookup (x, name);
      buf_append_str (out, value ? value : "");
      return 0;
    }
  if (c == ':')
    {
      if (x->pos >= x->len)
        return fail (x, "missing '}'");
      is_null_unset = true;
      c = x->s[x->pos++];
    }
  if (c != '-' && c != '+')
    {
      if (!is_null_unset && strchr ("?#%/=", c) == NULL)
        return fail (x, "bad substitution");
      x->modifier[0] = is_null_unset ? ':' : c;
      x->modifier[1] = is_null_unset ? c : '\0';
      x->modifier[2] = '\0';
      return fail (x, "unsupported modifier");
    }
  if (process_until (x, '}', &word) < 0)
    return -1;
  value = lookup (x, name);
  if (value == NULL || (is_null_unset && *value == '\0'))
    {
      if (c == '-')
        buf_append_str (out, word.data ? word.data : "");
      return 0;
    }
  buf_append_str (out, c == '-' ? value : (word.data ? word.data : ""));
  return 0;
}

static int
expand_dollar (struct expander *x, struct buf *out)
{
  cleanup_free char *name = NULL;
  const char *value;
  int ret;

  x->pos++; /* '$' */
  if (x->pos >= x->len || x->s[x->pos] != '{')
    {
      name = read_name (x);
      if (*name == '\0')
        {
          buf_append_char (out, '$');
          return 0;
        }
      value = lookup (x, name);
      buf_append_str (out, value ? value : "");
      return 0;
    }
  x->pos++; /* '{' */
  if (x->pos >= x->len)
    return fail (x, "missing '}'");
  if (strchr ("{}:", x->s[x->pos]) != NULL)
    return fail (x, "bad substitution");
  if (x->depth >= MAX_NESTING)
    return fail (x, "substitutions nested too deeply");
  name = read_name (x);
  if (*name == '\0')
    return fail (x, "bad substitution");
  x->depth++;
  ret = expand_braced_rest (x, name, out);
  x->depth--;
  return ret;
}

static int
single_quote (struct expander *x, struct buf *out)
{
  const char *end;

  x->pos++;
  end = memchr (x->s + x->pos, '\'', x->len - x->pos);
  if (end == NULL)
    return fail (x, "unterminated single quote");
  buf_append (out, x->s + x->pos, (size_t)(end - (x->s + x->pos)));
  x->pos = (size_t)(end - x->s) + 1;
  return 0;
}

/* Inside double quotes the escape character only escapes '"', '$' and
 * itself; before anything else it stays, as in sh. */
static int
double_quote (struct expander *x, struct buf *out)
{
  x->pos++;
  for (;;)
    {
      char c;

      if (x->pos >= x->len)
        return fail (x, "unterminated double quote");
      c = x->s[x->pos];
      if (c == '"')
        {
          x->pos++;
          return 0;
        }
      if (c == '$')
        {
          if (expand_dollar (x, out) < 0)
            return -1;
          continue;
        }
      x->pos++;
      if (c == x->escape && x->pos < x->len
          && (x->s[x->pos] == '"' || x->s[x->pos] == '$' || x->s[x->pos] == x->escape))
        c = x->s[x->pos++];
      else if (c == x->escape && x->pos >= x->len)
        continue;
      buf_append_char (out, c);
    }
}

/* Outside quotes the escape character takes the next character literally
 * and disappears (a trailing one is dropped).  In raw mode both stay and
 * the escaped character has no special meaning ("\$A" stays "\$A"). */
static void
escaped (struct expander *x, struct buf *out)
{
  x->pos++;
  if (x->is_raw)
    buf_append_char (out, x->escape);
  if (x->pos < x->len)
    buf_append_char (out, x->s[x->pos++]);
}

/* Process up to STOP (consumed) or, with STOP '\0', to the end. */
static int
process_until (struct expander *x, char stop, struct buf *out)
{
  while (x->pos < x->len)
    {
      char c = x->s[x->pos];
      int ret = 0;

      if (stop != '\0' && c == stop)
        {
          x->pos++;
          return 0;
        }
      if (c == '$')
        ret = expand_dollar (x, out);
      else if (c == '\'' && !x->is_raw)
        ret = single_quote (x, out);
      else if (c == '"' && !x->is_raw)
        ret = double_quote (x, out);
      else if (c == x->escape)
        escaped (x, out);
      else
        {
          buf_append_char (out, c);
          x->pos++;
        }
      if (ret < 0)
        return -1;
    }
  if (stop != '\0')
    return fail (x, "missing '}'");
  return 0;
}

int
df_expand (const char *word, char escape, unsigned int flags, df_lookup_fn lookup_fn, void *data,
           char **out, struct error **err)
{
  cleanup_buf struct buf result = BUF_INIT;
  struct expander x = {
    .s = word,
    .len = strlen (word),
    .escape = escape,
    .is_raw = (flags & DF_EXPAND_NO_QUOTES) != 0,
    .lookup = lookup_fn,
    .data = data,
  };

  if (process_until (&x, '\0', &result) < 0)
    {
      cleanup_free char *q = str_quotable (word, x.len, MAX_QUOTED);

      if (x.modifier[0] != '\0')
        return err_make (err, 0, "\"%s\": unsupported modifier (%s) in substitution", q,
                         x.modifier);
      return err_make (err, 0, "\"%s\": %s", q, x.problem);
    }
  *out = buf_steal (&result);
  return 0;
}
