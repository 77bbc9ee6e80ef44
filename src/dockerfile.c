/* Dockerfile parsing, following BuildKit's parser (moby/buildkit
 * frontend/dockerfile/parser and instructions): physical lines become
 * logical ones (directives, comments, continuations), each logical line
 * is split into keyword, flags and arguments, here-document bodies are
 * collected after the line that opens them, and the instructions are
 * grouped into stages.  Arguments stay raw: quotes and $VAR are the
 * builder's business (df_expand), because their meaning depends on the ARG
 * and ENV values at the point of use.
 *
 * The steps, in file order:
 *  1. next_line: one physical line, CR and LF removed.
 *  2. read_logical: directives, comments, blank lines, continuations.
 *  3. parse_line: keyword, flags (split_flags), then the per-keyword
 *     argument parser from the keyword table.
 *  4. read_heredocs: the bodies of "<<EOF" words of RUN, COPY and ADD.
 *  5. add_instruction: global ARGs, stages, stage names. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>

#include "libutil/buf.h"
#include "libutil/error.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "src/dockerfile.h"

/* A Dockerfile larger than this is not a Dockerfile. */
#define DF_FILE_MAX (32u << 20)
/* How much of a hostile word an error message quotes. */
#define MAX_QUOTED 64

struct parser
{
  const char *path;
  const char *text;
  size_t len;
  size_t pos;
  unsigned int line; /* of the last line read */
  char escape;
  bool is_directives_done;
  bool has_seen_escape;
  bool has_seen_syntax;
  bool has_seen_check;
  struct dockerfile *df;
  struct error **err;
};

/* ---- flags ------------------------------------------------------------ */

enum flag_type
{
  FLAG_STRING,
  FLAG_BOOL,
};

struct flag_spec
{
  const char *name;
  enum flag_type type;
  bool is_repeatable;
};

static const struct flag_spec from_flags[] = {
  { "platform", FLAG_STRING, false },
  { NULL, FLAG_STRING, false },
};

static const struct flag_spec run_flags[] = {
  { "mount", FLAG_STRING, true },
  { "network", FLAG_STRING, false },
  { "security", FLAG_STRING, false },
  { NULL, FLAG_STRING, false },
};

static const struct flag_spec copy_flags[] = {
  { "from", FLAG_STRING, false }, { "chown", FLAG_STRING, false }, { "chmod", FLAG_STRING, false },
  { "link", FLAG_BOOL, false },   { "parents", FLAG_BOOL, false }, { "exclude", FLAG_STRING, true },
  { NULL, FLAG_STRING, false },
};

static const struct flag_spec add_flags[] = {
  { "chown", FLAG_STRING, false },      { "chmod", FLAG_STRING, false },
  { "link", FLAG_BOOL, false },         { "checksum", FLAG_STRING, false },
  { "keep-git-dir", FLAG_BOOL, false }, { "exclude", FLAG_STRING, true },
  { NULL, FLAG_STRING, false },
};

static const struct flag_spec healthcheck_flags[] = {
  { "interval", FLAG_STRING, false },     { "timeout", FLAG_STRING, false },
  { "start-period", FLAG_STRING, false }, { "start-interval", FLAG_STRING, false },
  { "retries", FLAG_STRING, false },      { NULL, FLAG_STRING, false },
};

static const struct flag_spec no_flags[] = {
  { NULL, FLAG_STRING, false },
};

/* ---- the keyword table -------------------------------------------------- */

typedef int (*args_fn) (struct parser *p, struct df_instruction *in, const char *rest);

static int args_from (struct parser *p, struct df_instruction *in, const char *rest);
static int args_maybe_json (struct parser *p, struct df_instruction *in, const char *rest);
static int args_json_or_words (struct parser *p, struct df_instruction *in, const char *rest);
static int args_name_value (struct parser *p, struct df_instruction *in, const char *rest);
static int args_string (struct parser *p, struct df_instruction *in, const char *rest);
static int args_words (struct parser *p, struct df_instruction *in, const char *rest);
static int args_arg (struct parser *p, struct df_instruction *in, const char *rest);
static int args_onbuild (struct parser *p, struct df_instruction *in, const char *rest);
static int args_healthcheck (struct parser *p, struct df_instruction *in, const char *rest);
static int args_shell (struct parser *p, struct df_instruction *in, const char *rest);

struct keyword
{
  const char *name;
  enum df_kind kind;
  const struct flag_spec *flags;
  args_fn parse_args;
  bool can_heredoc;
};

static const struct keyword keywords[] = {
  { "FROM", DF_FROM, from_flags, args_from, false },
  { "RUN", DF_RUN, run_flags, args_maybe_json, true },
  { "CMD", DF_CMD, no_flags, args_maybe_json, false },
  { "LABEL", DF_LABEL, no_flags, args_name_value, false },
  { "MAINTAINER", DF_MAINTAINER, no_flags, args_string, false },
  { "EXPOSE", DF_EXPOSE, no_flags, args_words, false },
  { "ENV", DF_ENV, no_flags, args_name_value, false },
  { "ADD", DF_ADD, add_flags, args_json_or_words, true },
  { "COPY", DF_COPY, copy_flags, args_json_or_words, true },
  { "ENTRYPOINT", DF_ENTRYPOINT, no_flags, args_maybe_json, false },
  { "VOLUME", DF_VOLUME, no_flags, args_json_or_words, false },
  { "USER", DF_USER, no_flags, args_string, false },
  { "WORKDIR", DF_WORKDIR, no_flags, args_string, false },
  { "ARG", DF_ARG, no_flags, args_arg, false },
  { "ONBUILD", DF_ONBUILD, no_flags, args_onbuild, false },
  { "STOPSIGNAL", DF_STOPSIGNAL, no_flags, args_string, false },
  { "HEALTHCHECK", DF_HEALTHCHECK, healthcheck_flags, args_healthcheck, false },
  { "SHELL", DF_SHELL, no_flags, args_shell, false },
};

#define N_KEYWORDS (sizeof (keywords) / sizeof (keywords[0]))

static const struct keyword *
keyword_by_kind (enum df_kind kind)
{
  for (size_t i = 0; i < N_KEYWORDS; i++)
    if (keywords[i].kind == kind)
      return &keywords[i];
  return NULL;
}

static const struct keyword *
keyword_lookup (const char *word, size_t len)
{
  for (size_t i = 0; i < N_KEYWORDS; i++)
    if (strlen (keywords[i].name) == len && strncasecmp (keywords[i].name, word, len) == 0)
      return &keywords[i];
  return NULL;
}

const char *
df_kind_name (enum df_kind kind)
{
  const struct keyword *k = keyword_by_kind (kind);

  return k ? k->name : "UNKNOWN";
}

/* ---- errors ------------------------------------------------------------- */

static int perr (struct parser *p, unsigned int line, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
perr (struct parser *p, unsigned int line, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = xvasprintf (fmt, ap);
  va_end (ap);
  return err_make (p->err, 0, "%s:%u: %s", p->path, line, msg);
}

/* ---- small string helpers ----------------------------------------------- */

static bool
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static bool
is_space (char c)
{
  return is_blank (c) || c == '\n';
}

static const char *
skip_space (const char *s)
{
  while (is_space (*s))
    s++;
  return s;
}

static size_t
rtrim_len (const char *s, size_t len)
{
  while (len > 0 && is_space (s[len - 1]))
    len--;
  return len;
}

/* Append S to the vector V of *N elements, doubling its size at each
 * power of two so a line of a million words costs few reallocations. */
static void
push_str (char ***v, size_t *n, char *s)
{
  if ((*n & (*n - 1)) == 0)
    *v = xrealloc (*v, (*n ? *n * 2 : 1) * sizeof (**v));
  (*v)[(*n)++] = s;
}

static void
instruction_clear (struct df_instruction *in)
{
  free (in->original);
  for (size_t i = 0; i < in->n_flags; i++)
    {
      free (in->flags[i].name);
      free (in->flags[i].value);
    }
  free (in->flags);
  for (size_t i = 0; i < in->n_args; i++)
    free (in->args[i]);
  free (in->args);
  for (size_t i = 0; i < in->n_heredocs; i++)
    {
      free (in->heredocs[i].name);
      free (in->heredocs[i].content);
    }
  free (in->heredocs);
  if (in->onbuild)
    {
      instruction_clear (in->onbuild);
      free (in->onbuild);
    }
  memset (in, 0, sizeof (*in));
}

/* ---- word splitting ------------------------------------------------------ */

/* Split REST at unquoted white space into raw words (quotes and escapes
 * kept), as BuildKit's parseWords.  An escape character takes the next
 * character with it, also a quote, except inside single quotes.  Fails on
 * an unterminated quote. */
static int
split_words (struct parser *p, unsigned int line, const char *rest, char ***words, size_t *n)
{
  cleanup_buf struct buf w = BUF_INIT;
  bool in_word = false;
  char quote = '\0';
  const char *s = rest;

  for (; *s != '\0'; s++)
    {
      char c = *s;

      if (quote == '\0' && is_space (c))
        {
          if (in_word)
            push_str (words, n, buf_steal (&w));
          in_word = false;
          continue;
        }
      in_word = true;
      if (c == p->escape && quote != '\'')
        {
          /* A trailing escape is dropped, as BuildKit does. */
          if (s[1] == '\0')
            break;
          buf_append_char (&w, c);
          c = *++s;
        }
      else if (quote == '\0' && (c == '\'' || c == '"'))
        quote = c;
      else if (c == quote)
        quote = '\0';
      buf_append_char (&w, c);
    }
  if (quote != '\0')
    {
      cleanup_free char *q = str_quotable (rest, strlen (rest), MAX_QUOTED);
      return perr (p, line, "unterminated %s quote in \"%s\"", quote == '"' ? "double" : "single",
                   q);
    }
  if (in_word && w.len > 0)
    push_str (words, n, buf_steal (&w));
  return 0;
}

/* ---- JSON form ------------------------------------------------------------ */

enum json_result
{
  JSON_NOT, /* not a JSON array: the shell form applies */
  JSON_OK,
  JSON_ERROR, /* an array of something else than strings: *err is set */
};

static enum json_result
parse_json (struct parser *p, struct df_instruction *in, const char *rest)
{
  cleanup_json json_object *arr = NULL;
  cleanup_error struct error *jerr = NULL;
  size_t n;

  rest = skip_space (rest);
  if (*rest != '[')
    return JSON_NOT;
  arr = jobj_parse (rest, strlen (rest), "JSON", &jerr);
  if (arr == NULL || !json_object_is_type (arr, json_type_array))
    return JSON_NOT;
  n = json_object_array_length (arr);
  for (size_t i = 0; i < n; i++)
    if (!json_object_is_type (json_object_array_get_idx (arr, i), json_type_string))
      {
        perr (p, in->line,
              "%s: when using JSON array syntax, arrays must be comprised of "
              "strings only",
              df_kind_name (in->kind));
        return JSON_ERROR;
      }
  /* Appended: HEALTHCHECK has its "CMD" in args[0] already. */
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx (arr, i);
      const char *s = json_object_get_string (e);
      size_t len = (size_t)json_object_get_string_len (e);

      if (memchr (s, '\0', len) != NULL)
        {
          perr (p, in->line, "%s: NUL byte in JSON string", df_kind_name (in->kind));
          return JSON_ERROR;
        }
      push_str (&in->args, &in->n_args, xstrndup (s, len));
    }
  in->is_json = true;
  return JSON_OK;
}

/* ---- argument parsers ----------------------------------------------------- */

static int
need_args (struct parser *p, struct df_instruction *in, size_t min, const char *what)
{
  if (in->n_args >= min)
    return 0;
  return perr (p, in->line, "%s requires %s", df_kind_name (in->kind), what);
}

static int
args_words (struct parser *p, struct df_instruction *in, const char *rest)
{
  if (split_words (p, in->line, rest, &in->args, &in->n_args) < 0)
    return -1;
  return need_args (p, in, 1, "at least one argument");
}

static char *
lower_dup (const char *s)
{
  char *l = xstrdup (s);

  for (char *c = l; *c != '\0'; c++)
    if (*c >= 'A' && *c <= 'Z')
      *c = (char)(*c - 'A' + 'a');
  return l;
}

static bool
is_valid_stage_name (const char *s)
{
  if (!(*s >= 'a' && *s <= 'z'))
    return false;
  for (s++; *s != '\0'; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr ("-_.", *s) != NULL))
      return false;
  return true;
}

static int
args_from (struct parser *p, struct df_instruction *in, const char *rest)
{
  if (split_words (p, in->line, rest, &in->args, &in->n_args) < 0)
    return -1;
  if (in->n_args == 0)
    return perr (p, in->line, "FROM requires the name of a base image");
  if (in->n_args == 3 && strcasecmp (in->args[1], "as") == 0)
    {
      cleanup_free char *name = lower_dup (in->args[2]);

      if (!is_valid_stage_name (name))
        {
          cleanup_free char *q = str_quotable (in->args[2], strlen (in->args[2]), MAX_QUOTED);
          return perr (p, in->line,
                       "invalid name for build stage \"%s\": it must start with a letter and "
                       "contain only letters, digits, '-', '_' and '.'",
                       q);
        }
      return 0;
    }
  if (in->n_args != 1)
    return perr (p, in->line, "FROM takes an image and optionally \"AS name\", got %zu words",
                 in->n_args);
  return 0;
}

static int
args_maybe_json (struct parser *p, struct df_instruction *in, const char *rest)
{
  switch (parse_json (p, in, rest))
    {
    case JSON_OK:
      /* CMD [] and ENTRYPOINT [] reset; RUN [] would run nothing. */
      return in->kind == DF_RUN ? need_args (p, in, 1, "at least one argument") : 0;
    case JSON_ERROR:
      return -1;
    case JSON_NOT:
      break;
    }
  if (*rest == '\0')
    return perr (p, in->line, "%s requires at least one argument", df_kind_name (in->kind));
  push_str (&in->args, &in->n_args, xstrdup (rest));
  return 0;
}

static int
args_json_or_words (struct parser *p, struct df_instruction *in, const char *rest)
{
  switch (parse_json (p, in, rest))
    {
    case JSON_ERROR:
      return -1;
    case JSON_NOT:
      if (split_words (p, in->line, rest, &in->args, &in->n_args) < 0)
        return -1;
      break;
    case JSON_OK:
      break;
    }
  if (in->kind == DF_VOLUME)
    {
      for (size_t i = 0; i < in->n_args; i++)
        if (*skip_space (in->args[i]) == '\0')
          return perr (p, in->line, "VOLUME path can not be an empty string");
      return need_args (p, in, 1, "at least one argument");
    }
  return need_args (p, in, 2, "at least two arguments: the sources and the destination");
}

static int
args_string (struct parser *p, struct df_instruction *in, const char *rest)
{
  if (*rest == '\0')
    return perr (p, in->line, "%s requires exactly one argument", df_kind_name (in->kind));
  push_str (&in->args, &in->n_args, xstrdup (rest));
  return 0;
}

static int
args_shell (struct parser *p, struct df_instruction *in, const char *rest)
{
  switch (parse_json (p, in, rest))
    {
    case JSON_ERROR:
      return -1;
    case JSON_NOT:
      return perr (p, in->line,
                   "SHELL requires the arguments in JSON form, as SHELL "
                   "[\"/bin/sh\", \"-c\"]");
    case JSON_OK:
      break;
    }
  return need_args (p, in, 1, "at least one argument");
}

static int
args_arg (struct parser *p, struct df_instruction *in, const char *rest)
{
  if (split_words (p, in->line, rest, &in->args, &in->n_args) < 0)
    return -1;
  for (size_t i = 0; i < in->n_args; i++)
    if (in->args[i][0] == '=')
      return perr (p, in->line, "ARG names can not be blank");
  return need_args (p, in, 1, "at least one argument");
}

/* "KEY value with spaces": one pair, the value the rest of the line. */
static int
name_value_legacy (struct parser *p, struct df_instruction *in, const char *rest)
{
  size_t klen = 0;
  const char *value;

  while (rest[klen] != '\0' && !is_space (rest[klen]))
    klen++;
  value = skip_space (rest + klen);
  if (*value == '\0')
    return perr (p, in->line, "%s must have two arguments: a name and a value, or name=value",
                 df_kind_name (in->kind));
  push_str (&in->args, &in->n_args, xstrndup (rest, klen));
  push_str (&in->args, &in->n_args, xstrdup (value));
  return 0;
}

/* One "key=value" word: the pair, raw. */
static int
name_value_pair (struct parser *p, struct df_instruction *in, const char *word)
{
  const char *eq = strchr (word, '=');

  if (eq == NULL)
    {
      cleanup_free char *q = str_quotable (word, strlen (word), MAX_QUOTED);
      return perr (p, in->line, "%s: no \"=\" in \"%s\": the form is name=value",
                   df_kind_name (in->kind), q);
    }
  if (eq == word)
    return perr (p, in->line, "%s names can not be blank", df_kind_name (in->kind));
  push_str (&in->args, &in->n_args, xstrndup (word, (size_t)(eq - word)));
  push_str (&in->args, &in->n_args, xstrdup (eq + 1));
  return 0;
}

/* ENV and LABEL: "k=v k2=v2" pairs, or the legacy "KEY value..." form,
 * chosen by whether the first word has a "=". */
static int
args_name_value (struct parser *p, struct df_instruction *in, const char *rest)
{
  char **words = NULL;
  size_t n = 0;
  int ret = 0;

  if (split_words (p, in->line, rest, &words, &n) < 0)
    ret = -1;
  else if (n == 0)
    ret = perr (p, in->line, "%s requires at least one argument", df_kind_name (in->kind));
  else if (strchr (words[0], '=') == NULL)
    ret = name_value_legacy (p, in, rest);
  else
    for (size_t i = 0; ret == 0 && i < n; i++)
      ret = name_value_pair (p, in, words[i]);
  for (size_t i = 0; i < n; i++)
    free (words[i]);
  free (words);
  return ret;
}

static int
args_healthcheck (struct parser *p, struct df_instruction *in, const char *rest)
{
  size_t tlen = 0;
  cleanup_free char *type = NULL;
  const char *cmd;

  while (rest[tlen] != '\0' && !is_space (rest[tlen]))
    tlen++;
  if (tlen == 0)
    return perr (p, in->line, "HEALTHCHECK requires at least one argument");
  type = xstrndup (rest, tlen);
  for (char *c = type; *c != '\0'; c++)
    if (*c >= 'a' && *c <= 'z')
      *c = (char)(*c - 'a' + 'A');
  cmd = skip_space (rest + tlen);
  if (strcmp (type, "NONE") == 0)
    {
      if (*cmd != '\0')
        return perr (p, in->line, "HEALTHCHECK NONE takes no arguments");
      push_str (&in->args, &in->n_args, steal_ptr (&type));
      return 0;
    }
  if (strcmp (type, "CMD") != 0)
    {
      cleanup_free char *q = str_quotable (rest, tlen, MAX_QUOTED);
      return perr (p, in->line, "unknown type \"%s\" in HEALTHCHECK (try CMD)", q);
    }
  push_str (&in->args, &in->n_args, steal_ptr (&type));
  switch (parse_json (p, in, cmd))
    {
    case JSON_ERROR:
      return -1;
    case JSON_OK:
      if (in->n_args > 1)
        return 0;
      break;
    case JSON_NOT:
      if (*cmd != '\0')
        {
          push_str (&in->args, &in->n_args, xstrdup (cmd));
          return 0;
        }
      break;
    }
  return perr (p, in->line, "missing command after HEALTHCHECK CMD");
}

/* ---- one logical line ----------------------------------------------------- */

static int parse_line (struct parser *p, const char *line, unsigned int lineno,
                       struct df_instruction *in);

static int
args_onbuild (struct parser *p, struct df_instruction *in, const char *rest)
{
  size_t klen = 0;
  const struct keyword *k;

  while (rest[klen] != '\0' && !is_blank (rest[klen]))
    klen++;
  if (klen == 0)
    return perr (p, in->line, "ONBUILD requires at least one argument");
  k = keyword_lookup (rest, klen);
  if (k != NULL && k->kind == DF_ONBUILD)
    return perr (p, in->line, "chaining ONBUILD via \"ONBUILD ONBUILD\" isn't allowed");
  if (k != NULL && (k->kind == DF_FROM || k->kind == DF_MAINTAINER))
    return perr (p, in->line, "%s isn't allowed as an ONBUILD trigger", k->name);
  in->onbuild = xmalloc0 (sizeof (*in->onbuild));
  if (parse_line (p, rest, in->line, in->onbuild) < 0)
    return -1;
  /* The wrapped keyword upper-cased here too. */
  free (in->original);
  in->original = xasprintf ("ONBUILD %s", in->onbuild->original);
  return 0;
}

static const struct flag_spec *
flag_spec_find (const struct flag_spec *specs, const char *name)
{
  for (; specs->name != NULL; specs++)
    if (strcmp (specs->name, name) == 0)
      return specs;
  return NULL;
}

/* Check one "--name[=value]" word (quotes already removed) against the
 * instruction's flags, as BuildKit's BFlags.Parse, and record it. */
static int
add_flag (struct parser *p, struct df_instruction *in, const struct flag_spec *specs,
          const char *word)
{
  const char *name = word + 2;
  const char *eq = strchr (name, '=');
  cleanup_free char *n = eq ? xstrndup (name, (size_t)(eq - name)) : xstrdup (name);
  const struct flag_spec *spec = flag_spec_find (specs, n);
  const char *value = eq ? eq + 1 : NULL;
  const char *pre = NULL;
  const char *post = "";

  if (spec == NULL)
    pre = "unknown flag ";
  else if (!spec->is_repeatable && df_has_flag (in, n))
    pre = "duplicate flag ";
  else if (spec->type == FLAG_STRING && value == NULL)
    pre = "missing a value on flag ";
  else if (spec->type == FLAG_BOOL && value != NULL && strcasecmp (value, "true") != 0
           && strcasecmp (value, "false") != 0)
    {
      pre = "flag ";
      post = " takes true or false";
    }
  if (pre != NULL)
    {
      cleanup_free char *q = str_quotable (n, strlen (n), MAX_QUOTED);
      return perr (p, in->line, "%s\"--%s\" for %s%s", pre, q, df_kind_name (in->kind), post);
    }
  in->flags = xrealloc (in->flags, (in->n_flags + 1) * sizeof (*in->flags));
  in->flags[in->n_flags].name = steal_ptr (&n);
  in->flags[in->n_flags].value = value ? xstrdup (value) : NULL;
  in->n_flags++;
  return 0;
}

/* The leading "--flag" words of S, quotes removed (BuildKit's
 * extractBuilderFlags, where the escape is always '\\'); "--" alone ends
 * them.  *REST is set to what follows. */
static int
split_flags (struct parser *p, struct df_instruction *in, const struct flag_spec *specs,
             const char *s, const char **rest)
{
  for (;;)
    {
      cleanup_buf struct buf w = BUF_INIT;
      char quote = '\0';

      s = skip_space (s);
      if (s[0] != '-' || s[1] != '-')
        break;
      for (; *s != '\0' && (quote != '\0' || !is_space (*s)); s++)
        {
          if (quote == '\0' && (*s == '\'' || *s == '"'))
            quote = *s;
          else if (quote != '\0' && *s == quote)
            quote = '\0';
          else if (*s == '\\' && s[1] != '\0')
            buf_append_char (&w, *++s);
          else if (*s != '\\')
            buf_append_char (&w, *s);
        }
      if (quote != '\0')
        return perr (p, in->line, "unterminated quote in flag of %s", df_kind_name (in->kind));
      if (strcmp (w.data, "--") == 0)
        break;
      if (add_flag (p, in, specs, w.data) < 0)
        return -1;
    }
  *rest = skip_space (s);
  return 0;
}

/* Keyword, flags and arguments of LINE (already without leading white
 * space and with continuations joined). */
static int
parse_line (struct parser *p, const char *line, unsigned int lineno, struct df_instruction *in)
{
  cleanup_free char *args = NULL;
  const struct keyword *k;
  const char *rest = NULL;
  size_t klen = 0;
  size_t len = rtrim_len (line, strlen (line));

  while (klen < len && !is_blank (line[klen]))
    klen++;
  in->line = lineno;
  k = keyword_lookup (line, klen);
  if (k == NULL)
    {
      cleanup_free char *q = str_quotable (line, klen, MAX_QUOTED);
      for (char *c = q; *c != '\0'; c++)
        if (*c >= 'a' && *c <= 'z')
          *c = (char)(*c - 'a' + 'A');
      return perr (p, lineno, "unknown instruction \"%s\"", q);
    }
  in->kind = k->kind;
  in->original = xmalloc (len + 1);
  memcpy (in->original, k->name, klen);
  memcpy (in->original + klen, line + klen, len - klen);
  in->original[len] = '\0';

  args = xstrndup (line + klen, len - klen);
  if (split_flags (p, in, k->flags, args, &rest) < 0)
    return -1;
  return k->parse_args (p, in, rest);
}

/* ---- physical and logical lines ----------------------------------------- */

/* The next physical line without its "\n" and a trailing "\r". */
static bool
next_line (struct parser *p, const char **line, size_t *len)
{
  const char *s;
  const char *nl;
  size_t n;

  if (p->pos >= p->len)
    return false;
  s = p->text + p->pos;
  nl = memchr (s, '\n', p->len - p->pos);
  n = nl ? (size_t)(nl - s) : p->len - p->pos;
  p->pos += n + (nl ? 1 : 0);
  if (p->line == 0 && n >= 3 && memcmp (s, "\xef\xbb\xbf", 3) == 0)
    {
      s += 3;
      n -= 3;
    }
  while (n > 0 && s[n - 1] == '\r')
    n--;
  p->line++;
  *line = s;
  *len = n;
  return true;
}

static size_t
lskip (const char *s, size_t len)
{
  size_t i = 0;

  while (i < len && is_blank (s[i]))
    i++;
  return i;
}

/* A parser directive "# key=value" (key case-insensitive), as BuildKit's
 * reDirectives.  Directives are only looked for before anything else: the
 * first line that is not one ends them. */
static int
check_directive (struct parser *p, const char *s, size_t len)
{
  size_t i = 1, kstart, kend, vstart, vend;
  cleanup_free char *key = NULL;

  if (len == 0 || s[0] != '#')
    goto done;
  i += lskip (s + i, len - i);
  kstart = i;
  if (i >= len || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
    goto done;
  while (i < len
         && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
             || (s[i] >= '0' && s[i] <= '9')))
    i++;
  kend = i;
  i += lskip (s + i, len - i);
  if (i >= len || s[i] != '=')
    goto done;
  i++;
  i += lskip (s + i, len - i);
  vstart = i;
  vend = rtrim_len (s, len);
  if (vend <= vstart)
    goto done;
  key = xstrndup (s + kstart, kend - kstart);
  if (strcasecmp (key, "escape") == 0)
    {
      if (p->has_seen_escape)
        return perr (p, p->line, "only one escape parser directive can be used");
      p->has_seen_escape = true;
      if (vend - vstart != 1 || (s[vstart] != '\\' && s[vstart] != '`'))
        {
          cleanup_free char *q = str_quotable (s + vstart, vend - vstart, MAX_QUOTED);
          return perr (p, p->line, "invalid escape token \"%s\": it must be ` or \\", q);
        }
      p->escape = s[vstart];
      return 0;
    }
  if (strcasecmp (key, "syntax") == 0)
    {
      if (p->has_seen_syntax)
        return perr (p, p->line, "only one syntax parser directive can be used");
      p->has_seen_syntax = true;
      p->df->syntax = xstrndup (s + vstart, vend - vstart);
      return 0;
    }
  if (strcasecmp (key, "check") == 0)
    {
      /* BuildKit's lint configuration: accepted, no linter here. */
      if (p->has_seen_check)
        return perr (p, p->line, "only one check parser directive can be used");
      p->has_seen_check = true;
      return 0;
    }
done:
  p->is_directives_done = true;
  return 0;
}

/* Remove a line continuation from the end of S: the escape character
 * followed only by blanks, unless the escape is itself escaped (BuildKit's
 * lineContinuationRegex).  Returns whether there was one. */
static bool
trim_continuation (struct parser *p, const char *s, size_t *len)
{
  size_t n = *len;

  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  if (n == 0 || s[n - 1] != p->escape)
    return false;
  if (n >= 2 && s[n - 2] == p->escape)
    return false;
  *len = n - 1;
  return true;
}

static bool
is_comment (const char *s, size_t len)
{
  size_t i = 0;

  while (i < len && is_space (s[i]))
    i++;
  return i < len && s[i] == '#';
}

/* The next logical line into OUT (its first line in *START); false at the
 * end of the text.  Comment lines and blank lines inside a continuation
 * are skipped, as docker does; a continuation at the end of the file just
 * ends the instruction. */
static int
read_logical (struct parser *p, struct buf *out, unsigned int *start)
{
  const char *s;
  size_t len;

  buf_truncate (out, 0);
  while (next_line (p, &s, &len))
    {
      size_t skip = lskip (s, len);
      bool is_cont;

      s += skip;
      len -= skip;
      if (!p->is_directives_done && check_directive (p, s, len) < 0)
        return -1;
      if (len > 0 && s[0] == '#')
        continue;
      *start = p->line;
      is_cont = trim_continuation (p, s, &len);
      if (!is_cont && len == 0)
        continue;
      buf_append (out, s, len);
      while (is_cont && next_line (p, &s, &len))
        {
          if (is_comment (s, len) || lskip (s, len) == len)
            continue;
          is_cont = trim_continuation (p, s, &len);
          buf_append (out, s, len);
        }
      if (out->len > 0 && rtrim_len (out->data, out->len) > 0)
        return 1;
      buf_truncate (out, 0);
    }
  return 0;
}

/* ---- here-documents ------------------------------------------------------- */

/* The words of LINE for here-document detection: split at unquoted white
 * space with quotes and escapes kept (BuildKit lexes with RawQuotes and
 * RawEscapes and '\\' as the escape).  False on an unterminated quote, in
 * which case BuildKit finds no here-document either. */
static bool
heredoc_words (const char *line, char ***words, size_t *n)
{
  cleanup_buf struct buf w = BUF_INIT;
  bool in_word = false;
  char quote = '\0';

  for (const char *s = line; *s != '\0'; s++)
    {
      if (quote == '\0' && is_space (*s))
        {
          if (in_word)
            push_str (words, n, buf_steal (&w));
          in_word = false;
          continue;
        }
      in_word = true;
      if (*s == '\\' && quote != '\'' && s[1] != '\0')
        {
          buf_append_char (&w, *s++);
          buf_append_char (&w, *s);
          continue;
        }
      if (quote == '\0' && (*s == '\'' || *s == '"'))
        quote = *s;
      else if (*s == quote)
        quote = '\0';
      buf_append_char (&w, *s);
    }
  if (in_word)
    push_str (words, n, buf_steal (&w));
  return quote == '\0';
}

/* Quote removal of a delimiter word: false when it is not exactly one
 * word (an unquoted blank) or has an unterminated quote. */
static bool
unquote_delimiter (const char *s, struct buf *out)
{
  char quote = '\0';

  for (; *s != '\0'; s++)
    {
      if (quote == '\0' && (*s == '\'' || *s == '"'))
        quote = *s;
      else if (*s == quote)
        quote = '\0';
      else if (*s == '\\' && quote != '\'' && s[1] != '\0'
               && (quote == '\0' || s[1] == '"' || s[1] == '$' || s[1] == '\\'))
        buf_append_char (out, *++s);
      else if (quote == '\0' && is_space (*s))
        return false;
      else
        buf_append_char (out, *s);
    }
  return quote == '\0';
}

static size_t
count_quotes (const char *s)
{
  size_t n = 0;

  for (; *s != '\0'; s++)
    n += (*s == '\'' || *s == '"');
  return n;
}

/* Whether WORD opens a here-document (BuildKit's reHeredoc,
 * "^(\d*)<<(-?)([^<]*)$" with a non-empty rest); fills D and *IS_CHOMP. */
static bool
parse_heredoc_word (const char *word, struct df_heredoc *d, bool *is_chomp)
{
  cleanup_buf struct buf name = BUF_INIT;
  const char *s = word;

  while (*s >= '0' && *s <= '9')
    s++;
  if (s[0] != '<' || s[1] != '<')
    return false;
  s += 2;
  *is_chomp = *s == '-';
  if (*is_chomp)
    s++;
  if (*s == '\0' || strchr (s, '<') != NULL)
    return false;
  if (!unquote_delimiter (s, &name) || name.len == 0)
    return false;
  d->name = buf_steal (&name);
  d->is_expand = count_quotes (d->name) == count_quotes (s);
  return true;
}

static bool
is_heredoc_word (const char *word)
{
  struct df_heredoc d = { 0 };
  bool is_chomp;

  if (!parse_heredoc_word (word, &d, &is_chomp))
    return false;
  free (d.name);
  return true;
}

const struct df_heredoc *
df_heredoc_for_arg (const struct df_instruction *instr, const char *arg)
{
  struct df_heredoc d = { 0 };
  bool is_chomp;
  const struct df_heredoc *found = NULL;

  if (!parse_heredoc_word (arg, &d, &is_chomp))
    return NULL;
  for (size_t i = 0; i < instr->n_heredocs && found == NULL; i++)
    if (strcmp (instr->heredocs[i].name, d.name) == 0)
      found = &instr->heredocs[i];
  free (d.name);
  return found;
}

static void
append_body_line (struct buf *content, const char *s, size_t len, bool is_chomp, bool has_nl)
{
  if (is_chomp)
    while (len > 0 && *s == '\t')
      {
        s++;
        len--;
      }
  buf_append (content, s, len);
  if (has_nl)
    buf_append_char (content, '\n');
}

/* Read the body of D: raw lines up to one equal to the delimiter (after
 * removing leading tabs with "<<-"). */
static int
read_heredoc_body (struct parser *p, struct df_heredoc *d, bool is_chomp, unsigned int start)
{
  cleanup_buf struct buf content = BUF_INIT;
  size_t nlen = strlen (d->name);

  while (p->pos < p->len)
    {
      const char *s = p->text + p->pos;
      const char *nl = memchr (s, '\n', p->len - p->pos);
      size_t n = nl ? (size_t)(nl - s) : p->len - p->pos;
      size_t cmp = n;
      const char *c = s;

      p->pos += n + (nl ? 1 : 0);
      p->line++;
      while (cmp > 0 && (c[cmp - 1] == '\r'))
        cmp--;
      if (is_chomp)
        while (cmp > 0 && *c == '\t')
          {
            c++;
            cmp--;
          }
      if (cmp == nlen && memcmp (c, d->name, nlen) == 0)
        {
          d->content = buf_steal (&content);
          return 0;
        }
      append_body_line (&content, s, n, is_chomp, nl != NULL);
    }
  {
    cleanup_free char *q = str_quotable (d->name, nlen, MAX_QUOTED);
    return perr (p, start, "unterminated heredoc \"%s\"", q);
  }
}

/* The here-documents opened on LINE, if the instruction can have them. */
static int
read_heredocs (struct parser *p, const char *line, struct df_instruction *in)
{
  const struct keyword *k = keyword_by_kind (in->kind);
  char **words = NULL;
  size_t n = 0;
  int ret = 0;

  if (in->kind == DF_ONBUILD && in->onbuild != NULL)
    {
      ret = read_heredocs (p, line, in->onbuild);
      for (size_t i = 0; ret == 0 && i < in->onbuild->n_heredocs; i++)
        {
          struct df_heredoc *d = &in->onbuild->heredocs[i];
          char *o = xasprintf ("%s\n%s%s", in->onbuild->original, d->content, d->name);

          free (in->onbuild->original);
          in->onbuild->original = o;
        }
      return ret;
    }
  if (k == NULL || !k->can_heredoc || in->is_json || strstr (line, "<<") == NULL)
    return 0;
  if (heredoc_words (line, &words, &n))
    for (size_t i = 0; ret == 0 && i < n; i++)
      {
        struct df_heredoc d = { 0 };
        bool is_chomp;

        if (!parse_heredoc_word (words[i], &d, &is_chomp))
          continue;
        in->heredocs = xrealloc (in->heredocs, (in->n_heredocs + 1) * sizeof (*in->heredocs));
        in->heredocs[in->n_heredocs++] = d;
        ret = read_heredoc_body (p, &in->heredocs[in->n_heredocs - 1], is_chomp, in->line);
      }
  for (size_t i = 0; i < n; i++)
    free (words[i]);
  free (words);
  if (ret == 0 && (in->kind == DF_COPY || in->kind == DF_ADD) && in->n_args > 0
      && is_heredoc_word (in->args[in->n_args - 1]))
    return perr (p, in->line, "%s cannot accept a heredoc as the destination",
                 df_kind_name (in->kind));
  return ret;
}

/* ---- stages ------------------------------------------------------------- */

static int
start_stage (struct parser *p, struct df_instruction *in)
{
  struct dockerfile *df = p->df;
  struct df_stage *st;
  cleanup_free char *name = in->n_args == 3 ? lower_dup (in->args[2]) : NULL;

  for (size_t i = 0; name && i < df->n_stages; i++)
    if (df->stages[i].name && strcmp (df->stages[i].name, name) == 0)
      return perr (p, in->line, "duplicate stage name \"%s\"", name);
  df->stages = xrealloc (df->stages, (df->n_stages + 1) * sizeof (*df->stages));
  st = &df->stages[df->n_stages];
  memset (st, 0, sizeof (*st));
  st->index = (unsigned int)df->n_stages++;
  st->base = xstrdup (in->args[0]);
  st->name = steal_ptr (&name);
  st->platform = df_flag (in, "platform") ? xstrdup (df_flag (in, "platform")) : NULL;
  return 0;
}

static void
push_instruction (struct df_instruction **v, size_t *n, struct df_instruction *in)
{
  /* Grow by doubling: a 10,000-line file must not cost 10,000 reallocs. */
  if ((*n & (*n - 1)) == 0)
    *v = xrealloc (*v, (*n ? *n * 2 : 1) * sizeof (**v));
  (*v)[(*n)++] = *in;
  memset (in, 0, sizeof (*in));
}

static int
add_instruction (struct parser *p, struct df_instruction *in)
{
  struct dockerfile *df = p->df;
  struct df_stage *st;

  if (in->kind == DF_FROM)
    {
      if (start_stage (p, in) < 0)
        return -1;
    }
  else if (df->n_stages == 0)
    {
      if (in->kind == DF_ARG)
        {
          push_instruction (&df->global_args, &df->n_global_args, in);
          return 0;
        }
      return perr (p, in->line, "%s before the first FROM: only ARG may come before it",
                   df_kind_name (in->kind));
    }
  st = &df->stages[df->n_stages - 1];
  push_instruction (&st->instrs, &st->n_instrs, in);
  return 0;
}

/* ---- entry points --------------------------------------------------------- */

static int
parse_all (struct parser *p)
{
  cleanup_buf struct buf line = BUF_INIT;
  struct df_instruction in = { 0 };
  unsigned int start = 0;
  int r;

  while ((r = read_logical (p, &line, &start)) > 0)
    {
      if (parse_line (p, line.data, start, &in) < 0 || read_heredocs (p, line.data, &in) < 0
          || add_instruction (p, &in) < 0)
        {
          instruction_clear (&in);
          return -1;
        }
    }
  if (r < 0)
    return -1;
  if (p->df->n_stages == 0 && p->df->n_global_args == 0)
    return perr (p, p->line ? p->line : 1, "file with no instructions");
  if (p->df->n_stages == 0)
    return perr (p, p->line, "no FROM instruction");
  return 0;
}

struct dockerfile *
df_parse (const char *path, const char *text, size_t len, struct error **err)
{
  struct dockerfile *df = xmalloc0 (sizeof (*df));
  struct parser p = {
    .path = path,
    .text = text,
    .len = len,
    .escape = '\\',
    .df = df,
    .err = err,
  };
  const char *nul = memchr (text, '\0', len);

  df->path = xstrdup (path);
  if (nul != NULL)
    {
      unsigned int line = 1;

      for (const char *s = text; s < nul; s++)
        line += (*s == '\n');
      perr (&p, line, "NUL byte in the file: not a text file");
      df_free (df);
      return NULL;
    }
  if (parse_all (&p) < 0)
    {
      df_free (df);
      return NULL;
    }
  df->escape = p.escape;
  return df;
}

struct dockerfile *
df_parse_file (const char *path, struct error **err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;

  text = fs_read_file (path, DF_FILE_MAX, &len, err);
  if (text == NULL)
    return NULL;
  return df_parse (path, text, len, err);
}

void
df_free (struct dockerfile *df)
{
  if (df == NULL)
    return;
  for (size_t i = 0; i < df->n_global_args; i++)
    instruction_clear (&df->global_args[i]);
  free (df->global_args);
  for (size_t i = 0; i < df->n_stages; i++)
    {
      struct df_stage *st = &df->stages[i];

      for (size_t j = 0; j < st->n_instrs; j++)
        instruction_clear (&st->instrs[j]);
      free (st->instrs);
      free (st->base);
      free (st->name);
      free (st->platform);
    }
  free (df->stages);
  free (df->path);
  free (df->syntax);
  free (df);
}

const char *
df_flag (const struct df_instruction *instr, const char *name)
{
  for (size_t i = 0; i < instr->n_flags; i++)
    if (strcmp (instr->flags[i].name, name) == 0)
      return instr->flags[i].value;
  return NULL;
}

bool
df_has_flag (const struct df_instruction *instr, const char *name)
{
  for (size_t i = 0; i < instr->n_flags; i++)
    if (strcmp (instr->flags[i].name, name) == 0)
      return true;
  return false;
}

const struct df_stage *
df_stage_find (const struct dockerfile *df, const char *name)
{
  char *end = NULL;
  unsigned long idx;

  for (size_t i = 0; i < df->n_stages; i++)
    if (df->stages[i].name && strcasecmp (df->stages[i].name, name) == 0)
      return &df->stages[i];
  if (*name < '0' || *name > '9')
    return NULL;
  idx = strtoul (name, &end, 10);
  if (*end != '\0' || idx >= df->n_stages)
    return NULL;
  return &df->stages[idx];
}
