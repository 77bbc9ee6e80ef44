/* Lexing and parsing of Go templates, following text/template/parse
 * (lex.go and parse.go) closely enough that the same input is accepted,
 * the same tree comes out and the same error is reported first.  The lexer
 * runs to the end or to its first error, which it records as a token: the
 * parser reports it only when it reaches it, so an earlier parse error
 * wins, as in Go where the two run in lockstep.  Every node is also kept
 * in the template's node list, so a failed parse frees a half-built tree
 * without walking it. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gotmpl_internal.h"
#include "mem.h"
#include "parse.h"

enum tok_type
{
  TOK_ERROR,
  TOK_EOF,
  TOK_TEXT,
  TOK_LEFT,
  TOK_RIGHT,
  TOK_SPACE,
  TOK_IDENT,
  TOK_FIELD,
  TOK_VARIABLE,
  TOK_DOT,
  TOK_STRING,
  TOK_RAW_STRING,
  TOK_CHAR_CONST,
  TOK_NUMBER,
  TOK_BOOL,
  TOK_PIPE,
  TOK_LPAREN,
  TOK_RPAREN,
  TOK_DECLARE,
  TOK_ASSIGN,
  TOK_CHAR,
  TOK_KEYWORD, /* the keywords follow; Go prints them as "<if>" */
  TOK_BLOCK,
  TOK_BREAK,
  TOK_CONTINUE,
  TOK_DEFINE,
  TOK_ELSE,
  TOK_END,
  TOK_IF,
  TOK_NIL,
  TOK_RANGE,
  TOK_TEMPLATE,
  TOK_WITH,
};

struct token
{
  enum tok_type type;
  size_t pos;
  size_t len;
  int line;
  char *msg; /* TOK_ERROR only */
};

static const struct
{
  const char *word;
  enum tok_type type;
} keywords[] = {
  { "block", TOK_BLOCK }, { "break", TOK_BREAK }, { "continue", TOK_CONTINUE },
  { "define", TOK_DEFINE }, { "else", TOK_ELSE }, { "end", TOK_END },
  { "if", TOK_IF }, { "nil", TOK_NIL }, { "range", TOK_RANGE },
  { "template", TOK_TEMPLATE }, { "with", TOK_WITH },
};

struct lexer
{
  const char *s;
  size_t n;
  size_t pos;
  int paren_depth;
  struct token *toks;
  size_t ntoks;
  size_t cap;
  size_t line_pos; /* lines are counted up to here */
  int line;
};

/* ---- lexer ------------------------------------------------------------ */

static bool
is_space (int c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Go's isAlphaNumeric; bytes of multi-byte UTF-8 count as letters. */
static bool
is_alnum (int c)
{
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || c >= 0x80;
}

static bool
has_prefix_at (const struct lexer *l, size_t pos, const char *p)
{
  size_t len = strlen (p);
  return pos <= l->n && l->n - pos >= len && memcmp (l->s + pos, p, len) == 0;
}

static int
peek_char (const struct lexer *l)
{
  return l->pos < l->n ? (unsigned char) l->s[l->pos] : -1;
}

static int
line_at (struct lexer *l, size_t pos)
{
  for (; l->line_pos < pos; l->line_pos++)
    if (l->s[l->line_pos] == '\n')
      l->line++;
  return l->line;
}

static struct token *
emit (struct lexer *l, enum tok_type type, size_t start, size_t end)
{
  struct token *t;

  if (l->ntoks == l->cap)
    {
      l->cap = l->cap ? l->cap * 2 : 64;
      l->toks = xrealloc (l->toks, l->cap * sizeof *l->toks);
    }
  t = &l->toks[l->ntoks++];
  t->type = type;
  t->pos = start;
  t->len = end - start;
  t->line = line_at (l, start);
  t->msg = NULL;
  return t;
}

static bool __attribute__ ((format (printf, 2, 3)))
lex_error (struct lexer *l, const char *fmt, ...)
{
  va_list ap;
  struct token *t = emit (l, TOK_ERROR, l->pos, l->pos);

  va_start (ap, fmt);
  t->msg = xvasprintf (fmt, ap);
  va_end (ap);
  return false;
}

/* Go's %#U: "U+007D '}'" for printable ASCII, "U+0001" otherwise. */
static char *
rune_name (const struct lexer *l, size_t pos)
{
  int c = pos < l->n ? (unsigned char) l->s[pos] : 0;
  if (c > 0x20 && c < 0x7f)
    return xasprintf ("U+%04X '%c'", c, c);
  return xasprintf ("U+%04X", c);
}

static bool
bad_char (struct lexer *l)
{
  cleanup_free char *name = rune_name (l, l->pos);
  return lex_error (l, "bad character %s", name);
}

static bool
at_right_delim (const struct lexer *l, size_t pos, bool *is_trim)
{
  *is_trim = false;
  if (pos + 1 < l->n && is_space ((unsigned char) l->s[pos]) && l->s[pos + 1] == '-'
      && has_prefix_at (l, pos + 2, "}}"))
    {
      *is_trim = true;
      return true;
    }
  return has_prefix_at (l, pos, "}}");
}

static bool
at_terminator (const struct lexer *l)
{
  int c = peek_char (l);
  if (c < 0 || is_space (c) || strchr (".,|:()", c))
    return true;
  return has_prefix_at (l, l->pos, "}}");
}

static void
skip_spaces (struct lexer *l)
{
  while (l->pos < l->n && is_space ((unsigned char) l->s[l->pos]))
    l->pos++;
}

static bool
lex_comment (struct lexer *l)
{
  const char *end;
  bool is_trim;

  l->pos += 2;
  end = memmem (l->s + l->pos, l->n - l->pos, "*/", 2);
  if (end == NULL)
    return lex_error (l, "unclosed comment");
  l->pos = (size_t) (end - l->s) + 2;
  if (!at_right_delim (l, l->pos, &is_trim))
    return lex_error (l, "comment ends before closing delimiter");
  l->pos += is_trim ? 4 : 2;
  if (is_trim)
    skip_spaces (l);
  return true;
}

/* Text up to the next action.  Returns true with a TOK_LEFT emitted when
 * an action follows, false at the end or on an error. */
static bool
lex_text (struct lexer *l)
{
  for (;;)
    {
      const char *open = memmem (l->s + l->pos, l->n - l->pos, "{{", 2);
      size_t at, end;
      bool is_trim;

      if (open == NULL)
        {
          if (l->pos < l->n)
            emit (l, TOK_TEXT, l->pos, l->n);
          emit (l, TOK_EOF, l->n, l->n);
          return false;
        }
      at = (size_t) (open - l->s);
      end = at;
      is_trim = at + 3 < l->n && l->s[at + 2] == '-' && is_space ((unsigned char) l->s[at + 3]);
      if (is_trim)
        while (end > l->pos && is_space ((unsigned char) l->s[end - 1]))
          end--;
      if (end > l->pos)
        emit (l, TOK_TEXT, l->pos, end);
      l->pos = at + 2 + (is_trim ? 2 : 0);
      if (!has_prefix_at (l, l->pos, "/*"))
        {
          emit (l, TOK_LEFT, at, at + 2);
          l->paren_depth = 0;
          return true;
        }
      if (!lex_comment (l))
        return false;
    }
}

/* A run of spaces; one that only precedes " -}}" is not emitted. */
static void
lex_space (struct lexer *l)
{
  size_t start = l->pos;

  skip_spaces (l);
  if (l->pos < l->n && l->s[l->pos] == '-' && has_prefix_at (l, l->pos + 1, "}}"))
    {
      l->pos--;
      if (l->pos == start)
        return;
    }
  emit (l, TOK_SPACE, start, l->pos);
}

static bool
accept (struct lexer *l, const char *valid)
{
  int c = peek_char (l);
  if (c > 0 && strchr (valid, c))
    {
      l->pos++;
      return true;
    }
  return false;
}

static void
accept_run (struct lexer *l, const char *valid)
{
  while (accept (l, valid))
    ;
}

/* Go's scanNumber: sign, base prefix, digits, fraction, exponent. */
static bool
lex_number (struct lexer *l)
{
  size_t start = l->pos;
  const char *digits = "0123456789_";

  accept (l, "+-");
  if (accept (l, "0"))
    {
      if (accept (l, "xX"))
        digits = "0123456789abcdefABCDEF_";
      else if (accept (l, "oO"))
        digits = "01234567_";
      else if (accept (l, "bB"))
        digits = "01_";
    }
  accept_run (l, digits);
  if (accept (l, "."))
    accept_run (l, digits);
  if (strlen (digits) == 11 && accept (l, "eE"))
    {
      accept (l, "+-");
      accept_run (l, "0123456789_");
    }
  if (strlen (digits) == 23 && accept (l, "pP"))
    {
      accept (l, "+-");
      accept_run (l, "0123456789_");
    }
  accept (l, "i");
  if (peek_char (l) >= 0 && is_alnum (peek_char (l)))
    {
      cleanup_buf struct buf q = BUF_INIT;
      l->pos++;
      gotmpl_quote (l->s + start, l->pos - start, false, &q);
      return lex_error (l, "bad number syntax: %s", q.data);
    }
  emit (l, TOK_NUMBER, start, l->pos);
  return true;
}

/* A quoted string, character constant or raw string, from its opening
 * quote Q. */
static bool
lex_quoted (struct lexer *l, char q, enum tok_type type, const char *unterminated)
{
  size_t start = l->pos++;

  for (;;)
    {
      int c = peek_char (l);
      if (c < 0 || (c == '\n' && q != '`'))
        return lex_error (l, "%s", unterminated);
      l->pos++;
      if (c == q)
        break;
      if (c == '\\' && q != '`')
        {
          c = peek_char (l);
          if (c < 0 || c == '\n')
            return lex_error (l, "%s", unterminated);
          l->pos++;
        }
    }
  emit (l, type, start, l->pos);
  return true;
}

/* ".Field" or "$var" (the sigil already consumed), or a lone "." / "$". */
static bool
lex_field_or_variable (struct lexer *l, size_t start, enum tok_type type)
{
  if (at_terminator (l))
    {
      emit (l, type == TOK_VARIABLE ? TOK_VARIABLE : TOK_DOT, start, l->pos);
      return true;
    }
  while (peek_char (l) >= 0 && is_alnum (peek_char (l)))
    l->pos++;
  if (!at_terminator (l))
    return bad_char (l);
  emit (l, type, start, l->pos);
  return true;
}

static bool
lex_identifier (struct lexer *l)
{
  size_t start = l->pos;
  size_t len;
  enum tok_type type = TOK_IDENT;

  while (peek_char (l) >= 0 && is_alnum (peek_char (l)))
    l->pos++;
  if (!at_terminator (l))
    return bad_char (l);
  len = l->pos - start;
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
    if (strlen (keywords[i].word) == len && memcmp (keywords[i].word, l->s + start, len) == 0)
      type = keywords[i].type;
  if ((len == 4 && memcmp (l->s + start, "true", 4) == 0)
      || (len == 5 && memcmp (l->s + start, "false", 5) == 0))
    type = TOK_BOOL;
  emit (l, type, start, l->pos);
  return true;
}

static bool
lex_right_delim (struct lexer *l, bool is_trim)
{
  if (l->paren_depth > 0)
    return lex_error (l, "unclosed left paren");
  if (is_trim)
    l->pos += 2;
  emit (l, TOK_RIGHT, l->pos, l->pos + 2);
  l->pos += 2;
  if (is_trim)
    skip_spaces (l);
  return true;
}

static bool
lex_paren (struct lexer *l, int c)
{
  l->pos++;
  if (c == '(')
    {
      l->paren_depth++;
      emit (l, TOK_LPAREN, l->pos - 1, l->pos);
      return true;
    }
  if (--l->paren_depth < 0)
    return lex_error (l, "unexpected right paren");
  emit (l, TOK_RPAREN, l->pos - 1, l->pos);
  return true;
}

/* One item inside an action; *IS_DONE when the action ended. */
static bool
lex_action_item (struct lexer *l, bool *is_done)
{
  bool is_trim;
  size_t start = l->pos;
  int c;

  if (at_right_delim (l, l->pos, &is_trim))
    {
      *is_done = true;
      return lex_right_delim (l, is_trim);
    }
  c = peek_char (l);
  if (c < 0)
    return lex_error (l, "unclosed action");
  if (is_space (c))
    {
      lex_space (l);
      return true;
    }
  if (c == '.' && l->pos + 1 < l->n && (l->s[l->pos + 1] < '0' || l->s[l->pos + 1] > '9'))
    {
      l->pos++;
      return lex_field_or_variable (l, start, TOK_FIELD);
    }
  if (c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9'))
    return lex_number (l);
  if (c == '"')
    return lex_quoted (l, '"', TOK_STRING, "unterminated quoted string");
  if (c == '`')
    return lex_quoted (l, '`', TOK_RAW_STRING, "unterminated raw quoted string");
  if (c == '\'')
    return lex_quoted (l, '\'', TOK_CHAR_CONST, "unterminated character constant");
  if (c == '$')
    {
      l->pos++;
      return lex_field_or_variable (l, start, TOK_VARIABLE);
    }
  if (is_alnum (c))
    return lex_identifier (l);
  if (c == '(' || c == ')')
    return lex_paren (l, c);
  l->pos++;
  if (c == '=')
    emit (l, TOK_ASSIGN, start, l->pos);
  else if (c == ':')
    {
      if (!accept (l, "="))
        return lex_error (l, "expected :=");
      emit (l, TOK_DECLARE, start, l->pos);
    }
  else if (c == '|')
    emit (l, TOK_PIPE, start, l->pos);
  else if (c > 0x20 && c < 0x7f)
    emit (l, TOK_CHAR, start, l->pos);
  else
    {
      cleanup_free char *name = rune_name (l, start);
      l->pos = start;
      return lex_error (l, "unrecognized character in action: %s", name);
    }
  return true;
}

static void
lex (struct lexer *l)
{
  while (lex_text (l))
    {
      bool is_done = false;
      while (!is_done)
        if (!lex_action_item (l, &is_done))
          return;
    }
}

/* ---- literals --------------------------------------------------------- */

/* Decode one UTF-8 sequence at S (LEN bytes left); invalid bytes decode
 * as themselves, one at a time. */
static uint32_t
decode_utf8 (const unsigned char *s, size_t len, size_t *used)
{
  uint32_t r;
  size_t n;

  *used = 1;
  if (s[0] < 0x80)
    return s[0];
  if ((s[0] & 0xe0) == 0xc0)
    n = 2, r = s[0] & 0x1f;
  else if ((s[0] & 0xf0) == 0xe0)
    n = 3, r = s[0] & 0x0f;
  else if ((s[0] & 0xf8) == 0xf0)
    n = 4, r = s[0] & 0x07;
  else
    return s[0];
  if (n > len)
    return s[0];
  for (size_t i = 1; i < n; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return s[0];
      r = (r << 6) | (s[i] & 0x3f);
    }
  *used = n;
  return r;
}

/* Go's strconv.UnquoteChar for the escape at S[*I] (after the
 * backslash); Q is the enclosing quote.  Returns the rune or -1. */
static int64_t
unescape (const char *s, size_t len, size_t *i, char q, bool *is_byte)
{
  char c = s[(*i)++];
  int digits = 0, base = 16;
  int64_t v = 0;

  *is_byte = false;
  switch (c)
    {
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    case '\\': return '\\';
    case '\'':
    case '"': return c == q ? c : -1;
    case 'x': digits = 2, *is_byte = true; break;
    case 'u': digits = 4; break;
    case 'U': digits = 8; break;
    default:
      if (c < '0' || c > '7')
        return -1;
      base = 8, digits = 3, *is_byte = true, (*i)--;
    }
  for (int k = 0; k < digits; k++)
    {
      int d = *i < len ? parse_hex_digit (s[*i]) : -1;
      if (d < 0 || d >= base)
        return -1;
      v = v * base + d;
      (*i)++;
    }
  if ((*is_byte && v > 255) || v > 0x10ffff || (v >= 0xd800 && v < 0xe000 && !*is_byte))
    return -1;
  return v;
}

/* Go's strconv.Unquote for a "..." literal S of LEN bytes. */
static int
unquote_string (const char *s, size_t len, struct buf *out)
{
  for (size_t i = 1; i + 1 < len;)
    {
      bool is_byte;
      int64_t r;

      if (s[i] != '\\')
        {
          buf_append_char (out, s[i++]);
          continue;
        }
      i++;
      r = unescape (s, len - 1, &i, '"', &is_byte);
      if (r < 0)
        return -1;
      if (is_byte)
        buf_append_char (out, (char) r);
      else
        buf_append_utf8 (out, (uint32_t) r);
    }
  return 0;
}

/* A character constant 'x' as its rune value. */
static int
unquote_char (const char *s, size_t len, int64_t *rune)
{
  size_t i = 1, used;
  bool is_byte;

  if (len < 3)
    return -1;
  if (s[1] == '\\')
    {
      i = 2;
      *rune = unescape (s, len - 1, &i, '\'', &is_byte);
      if (*rune < 0)
        return -1;
    }
  else
    {
      *rune = decode_utf8 ((const unsigned char *) s + 1, len - 2, &used);
      i += used;
    }
  return i == len - 1 ? 0 : -1;
}

static bool
is_digit_in_base (int c, int base)
{
  int d = parse_hex_digit (c);
  return d >= 0 && d < base;
}

/* Copy a number literal without Go's digit-separating underscores; an
 * underscore must sit between digits (or after a base prefix). */
static char *
strip_underscores (const char *s, size_t len, int base)
{
  cleanup_buf struct buf b = BUF_INIT;

  for (size_t i = 0; i < len; i++)
    {
      if (s[i] != '_')
        {
          buf_append_char (&b, s[i]);
          continue;
        }
      if (i == 0 || i + 1 == len || !is_digit_in_base (s[i + 1], base)
          || !(is_digit_in_base (s[i - 1], base) || strchr ("xXoObB", s[i - 1])))
        return NULL;
    }
  return buf_steal (&b);
}

static int
number_base (const char *s)
{
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    return 16;
  if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
    return 8;
  if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
    return 2;
  if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
    return 8;
  return 10;
}

static json_object *
parse_integer (const char *digits, int base, bool is_negative)
{
  char *end;
  unsigned long long u;

  if (base != 10 && base != 8)
    digits += 2;
  else if (base == 8 && (digits[1] == 'o' || digits[1] == 'O'))
    digits += 2;
  if (*digits == '\0' || *digits == '+' || *digits == '-')
    return NULL;
  errno = 0;
  u = strtoull (digits, &end, base);
  if (errno != 0 || *end != '\0')
    return NULL;
  if (!is_negative && u > INT64_MAX)
    return json_object_new_uint64 (u);
  if (is_negative && u > (unsigned long long) INT64_MAX + 1)
    return NULL;
  return json_object_new_int64 (is_negative ? (int64_t) (0 - u) : (int64_t) u);
}

/* A number literal as Go's parser reads it: an integer when it is written
 * as one (any base, underscores), otherwise a float64. */
static json_object *
parse_number (const char *s, size_t len)
{
  bool is_negative = s[0] == '-';
  size_t sign = s[0] == '-' || s[0] == '+';
  cleanup_free char *body = NULL;
  int base;
  bool is_float;
  json_object *v;
  char *end;
  double d;

  if (len == sign || s[len - 1] == 'i')
    return NULL;
  base = number_base (s + sign);
  body = strip_underscores (s + sign, len - sign, base == 8 ? 10 : base);
  if (body == NULL)
    return NULL;
  is_float = strchr (body, '.') != NULL
             || (base == 16 ? strpbrk (body, "pP") != NULL : strpbrk (body, "eE") != NULL);
  if (!is_float && (v = parse_integer (body, base, is_negative)) != NULL)
    return v;
  if (base == 2 || (base == 8 && !is_float && strpbrk (body, "oO")))
    return NULL;
  errno = 0;
  d = strtod (body, &end);
  if (errno != 0 || *end != '\0' || end == body)
    return NULL;
  return json_object_new_double (is_negative ? -d : d);
}

/* ---- parser ----------------------------------------------------------- */

struct parser
{
  struct gotmpl *t;
  struct token *toks;
  size_t ntoks;
  size_t i; /* next token */
  int line; /* line of the token read last, for messages */
  int action_line;
  const char **vars;
  size_t nvars;
  size_t vars_cap;
  int range_depth;
  int depth;
  struct error **err;
};

static struct gotmpl_node *
new_node (struct parser *p, enum gotmpl_node_type type, size_t pos)
{
  struct gotmpl_node *n = xmalloc0 (sizeof *n);

  n->type = type;
  n->pos = pos;
  if ((p->t->nnodes & (p->t->nnodes - 1)) == 0)
    p->t->nodes = xrealloc (p->t->nodes, (p->t->nnodes ? p->t->nnodes * 2 : 1) * sizeof n);
  p->t->nodes[p->t->nnodes++] = n;
  return n;
}

static void
append_kid (struct gotmpl_node *parent, struct gotmpl_node *kid)
{
  parent->kids = xrealloc (parent->kids, (parent->nkids + 1) * sizeof kid);
  parent->kids[parent->nkids++] = kid;
}

static void
append_ident (char ***v, size_t *n, const char *s, size_t len)
{
  *v = xrealloc (*v, (*n + 2) * sizeof **v);
  (*v)[(*n)++] = xstrndup (s, len);
  (*v)[*n] = NULL;
}

static struct gotmpl_node *__attribute__ ((format (printf, 2, 3)))
parse_fail (struct parser *p, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = xvasprintf (fmt, ap);
  va_end (ap);
  err_make (p->err, 0, "template: %s:%d: %s", p->t->name, p->line, msg);
  return NULL;
}

static struct token *
tok_at (struct parser *p, size_t i)
{
  struct token *t = &p->toks[i < p->ntoks ? i : p->ntoks - 1];
  p->line = t->line;
  return t;
}

static struct token *
next (struct parser *p)
{
  struct token *t = tok_at (p, p->i);
  /* Past the last token (EOF or an error) stays there, one step on so
   * that backup() returns to it. */
  if (p->i < p->ntoks)
    p->i++;
  return t;
}

static struct token *
peek (struct parser *p)
{
  return tok_at (p, p->i);
}

static void
skip_space_tokens (struct parser *p)
{
  while (p->i < p->ntoks && p->toks[p->i].type == TOK_SPACE)
    p->i++;
}

static struct token *
next_non_space (struct parser *p)
{
  skip_space_tokens (p);
  return next (p);
}

static struct token *
peek_non_space (struct parser *p)
{
  skip_space_tokens (p);
  return peek (p);
}

static void
backup (struct parser *p)
{
  p->i--;
}

/* Go's item.String(): EOF, the error text, <keyword>, or the quoted value
 * cut at ten characters. */
static void
token_string (const struct parser *p, const struct token *t, struct buf *out)
{
  const char *v = p->t->text + t->pos;
  size_t len = t->len, cut = 0, runes = 0;

  if (t->type == TOK_EOF)
    buf_append_str (out, "EOF");
  else if (t->type == TOK_ERROR)
    buf_append_str (out, t->msg);
  else if (t->type > TOK_KEYWORD)
    buf_printf (out, "<%.*s>", (int) len, v);
  else
    {
      while (cut < len && runes < 10)
        {
          size_t used;
          decode_utf8 ((const unsigned char *) v + cut, len - cut, &used);
          cut += used, runes++;
        }
      gotmpl_quote (v, cut, false, out);
      if (cut < len)
        buf_append_str (out, "...");
    }
}

static struct gotmpl_node *
unexpected (struct parser *p, const struct token *t, const char *context)
{
  cleanup_buf struct buf s = BUF_INIT;

  token_string (p, t, &s);
  if (t->type != TOK_ERROR)
    return parse_fail (p, "unexpected %s in %s", s.data, context);
  if (p->action_line != 0 && p->action_line != t->line)
    return parse_fail (p, "%s%s started at %s:%d", s.data,
                       str_has_suffix (s.data, " action") ? "" : " in action", p->t->name,
                       p->action_line);
  return parse_fail (p, "%s", s.data);
}

/* The "}}" closing {{end}} or {{else}}; returns the node TYPE stands
 * for. */
static struct gotmpl_node *
expect_close (struct parser *p, enum gotmpl_node_type type, const char *context)
{
  struct token *t = next_non_space (p);
  if (t->type != TOK_RIGHT)
    return unexpected (p, t, context);
  return new_node (p, type, t->pos);
}

static bool
enter (struct parser *p)
{
  if (++p->depth > GOTMPL_MAX_DEPTH)
    {
      parse_fail (p, "max expression depth exceeded");
      return false;
    }
  return true;
}

static void
push_var (struct parser *p, const char *name)
{
  if (p->nvars == p->vars_cap)
    {
      p->vars_cap = p->vars_cap ? p->vars_cap * 2 : 8;
      p->vars = xrealloc (p->vars, p->vars_cap * sizeof *p->vars);
    }
  p->vars[p->nvars++] = name;
}

static struct gotmpl_node *pipeline (struct parser *p, const char *context, enum tok_type end);
static struct gotmpl_node *item_list (struct parser *p, struct gotmpl_node **next_node);

static struct gotmpl_node *
use_var (struct parser *p, const struct token *t)
{
  const char *name = p->t->text + t->pos;
  struct gotmpl_node *n;

  for (size_t i = 0; i < p->nvars; i++)
    if (strlen (p->vars[i]) == t->len && memcmp (p->vars[i], name, t->len) == 0)
      {
        n = new_node (p, NODE_VARIABLE, t->pos);
        append_ident (&n->idents, &n->nidents, name, t->len);
        return n;
      }
  return parse_fail (p, "undefined variable \"%.*s\"", (int) t->len, name);
}

static struct gotmpl_node *
literal (struct parser *p, const struct token *t, json_object *v)
{
  struct gotmpl_node *n = new_node (p, NODE_LITERAL, t->pos);
  n->value = v;
  n->text = xstrndup (p->t->text + t->pos, t->len);
  n->text_len = t->len;
  return n;
}

static struct gotmpl_node *
number (struct parser *p, const struct token *t)
{
  const char *s = p->t->text + t->pos;
  cleanup_buf struct buf q = BUF_INIT;
  json_object *v = NULL;
  int64_t rune;

  if (t->type == TOK_CHAR_CONST)
    {
      if (unquote_char (s, t->len, &rune) == 0)
        return literal (p, t, json_object_new_int64 (rune));
      return parse_fail (p, "malformed character constant: %.*s", (int) t->len, s);
    }
  v = parse_number (s, t->len);
  if (v)
    return literal (p, t, v);
  gotmpl_quote (s, t->len, false, &q);
  return parse_fail (p, "illegal number syntax: %s", q.data);
}

static struct gotmpl_node *
string_literal (struct parser *p, const struct token *t)
{
  const char *s = p->t->text + t->pos;
  cleanup_buf struct buf b = BUF_INIT;

  if (t->type == TOK_RAW_STRING)
    {
      for (size_t i = 1; i + 1 < t->len; i++)
        if (s[i] != '\r')
          buf_append_char (&b, s[i]);
    }
  else if (unquote_string (s, t->len, &b) < 0)
    return parse_fail (p, "invalid syntax");
  return literal (p, t, json_object_new_string_len (b.data ? b.data : "", (int) b.len));
}

static struct gotmpl_node *
identifier (struct parser *p, const struct token *t)
{
  cleanup_free char *name = xstrndup (p->t->text + t->pos, t->len);
  const struct gotmpl_func *f = gotmpl_func_lookup (name);
  struct gotmpl_node *n;

  if (f == NULL)
    return parse_fail (p, "function \"%s\" not defined", name);
  n = new_node (p, NODE_IDENT, t->pos);
  n->func = f;
  n->text = steal_ptr (&name);
  return n;
}

static struct gotmpl_node *
paren_pipeline (struct parser *p)
{
  struct gotmpl_node *n;

  if (!enter (p))
    return NULL;
  n = pipeline (p, "parenthesized pipeline", TOK_RPAREN);
  p->depth--;
  return n;
}

/* Go's term: a literal, function name, dot, field, variable or
 * parenthesized pipeline.  *IS_NONE when the next token is none of
 * those (not an error). */
static struct gotmpl_node *
term (struct parser *p, bool *is_none)
{
  struct token *t = next_non_space (p);
  struct gotmpl_node *n;

  *is_none = false;
  switch (t->type)
    {
    case TOK_IDENT:
      return identifier (p, t);
    case TOK_DOT:
      return new_node (p, NODE_DOT, t->pos);
    case TOK_NIL:
      return new_node (p, NODE_NIL, t->pos);
    case TOK_VARIABLE:
      return use_var (p, t);
    case TOK_FIELD:
      n = new_node (p, NODE_FIELD, t->pos);
      append_ident (&n->idents, &n->nidents, p->t->text + t->pos + 1, t->len - 1);
      return n;
    case TOK_BOOL:
      return literal (p, t, json_object_new_boolean (t->len == 4));
    case TOK_CHAR_CONST:
    case TOK_NUMBER:
      return number (p, t);
    case TOK_LPAREN:
      return paren_pipeline (p);
    case TOK_STRING:
    case TOK_RAW_STRING:
      return string_literal (p, t);
    default:
      backup (p);
      *is_none = true;
      return NULL;
    }
}

/* Fields written after a term (".A.B" after "$x" or "(...)"). */
static struct gotmpl_node *
field_chain (struct parser *p, struct gotmpl_node *term_node)
{
  struct gotmpl_node *n;
  size_t pos = peek (p)->pos;
  cleanup_buf struct buf s = BUF_INIT;

  switch (term_node->type)
    {
    case NODE_FIELD:
    case NODE_VARIABLE:
      /* As in Go: more fields on the same node, positioned at the chain. */
      n = term_node;
      n->pos = pos;
      break;
    case NODE_LITERAL:
    case NODE_NIL:
    case NODE_DOT:
      gotmpl_node_string (term_node, &s);
      {
        cleanup_buf struct buf q = BUF_INIT;
        gotmpl_quote (s.data, s.len, false, &q);
        return parse_fail (p, "unexpected . after term %s", q.data);
      }
    default:
      n = new_node (p, NODE_CHAIN, pos);
      n->pipe = term_node;
    }
  while (peek (p)->type == TOK_FIELD)
    {
      struct token *t = next (p);
      append_ident (&n->idents, &n->nidents, p->t->text + t->pos + 1, t->len - 1);
    }
  return n;
}

static struct gotmpl_node *
operand (struct parser *p, bool *is_none)
{
  struct gotmpl_node *n = term (p, is_none);

  if (n == NULL || peek (p)->type != TOK_FIELD)
    return n;
  return field_chain (p, n);
}

static struct gotmpl_node *
command (struct parser *p)
{
  struct gotmpl_node *cmd = new_node (p, NODE_COMMAND, peek_non_space (p)->pos);

  for (;;)
    {
      bool is_none;
      struct gotmpl_node *op;
      struct token *t;

      peek_non_space (p);
      op = operand (p, &is_none);
      if (op == NULL && !is_none)
        return NULL;
      if (op)
        append_kid (cmd, op);
      t = next (p);
      if (t->type == TOK_SPACE)
        continue;
      if (t->type == TOK_RIGHT || t->type == TOK_RPAREN)
        backup (p);
      else if (t->type != TOK_PIPE)
        return unexpected (p, t, "operand");
      break;
    }
  if (cmd->nkids == 0)
    return parse_fail (p, "empty command");
  return cmd;
}

static struct gotmpl_node *
check_pipeline (struct parser *p, struct gotmpl_node *pipe, const char *context)
{
  if (pipe->nkids == 0)
    return parse_fail (p, "missing value for %s", context);
  for (size_t i = 1; i < pipe->nkids; i++)
    switch (pipe->kids[i]->kids[0]->type)
      {
      case NODE_LITERAL:
      case NODE_DOT:
      case NODE_NIL:
        return parse_fail (p, "non executable command in pipeline stage %zu", i + 1);
      default:
        break;
      }
  return pipe;
}

static void
add_decl (struct parser *p, struct gotmpl_node *pipe, const struct token *v)
{
  append_ident (&pipe->decls, &pipe->ndecls, p->t->text + v->pos, v->len);
  push_var (p, pipe->decls[pipe->ndecls - 1]);
}

/* "$x :=", "$x =", "$i, $e :=" at the start of a pipeline.  Returns
 * false on a parse error. */
static bool
declarations (struct parser *p, struct gotmpl_node *pipe, const char *context)
{
  for (;;)
    {
      size_t save;
      struct token *v, *nx;

      skip_space_tokens (p);
      save = p->i;
      v = peek (p);
      if (v->type != TOK_VARIABLE)
        return true;
      next (p);
      nx = peek_non_space (p);
      if (nx->type == TOK_ASSIGN || nx->type == TOK_DECLARE)
        {
          pipe->is_assign = nx->type == TOK_ASSIGN;
          next_non_space (p);
          add_decl (p, pipe, v);
          return true;
        }
      if (nx->type != TOK_CHAR || p->t->text[nx->pos] != ',')
        {
          p->i = save;
          return true;
        }
      next_non_space (p);
      add_decl (p, pipe, v);
      if (strcmp (context, "range") != 0 || pipe->ndecls >= 2)
        return parse_fail (p, "too many declarations in %s", context) != NULL;
      nx = peek_non_space (p);
      if (nx->type != TOK_VARIABLE && nx->type != TOK_RIGHT && nx->type != TOK_RPAREN)
        return parse_fail (p, "range can only initialize variables") != NULL;
    }
}

static struct gotmpl_node *
pipeline (struct parser *p, const char *context, enum tok_type end)
{
  struct gotmpl_node *pipe = new_node (p, NODE_PIPE, peek_non_space (p)->pos);

  if (!declarations (p, pipe, context))
    return NULL;
  for (;;)
    {
      struct token *t = next_non_space (p);
      struct gotmpl_node *cmd;

      if (t->type == end)
        return check_pipeline (p, pipe, context);
      switch (t->type)
        {
        case TOK_BOOL:
        case TOK_CHAR_CONST:
        case TOK_DOT:
        case TOK_FIELD:
        case TOK_IDENT:
        case TOK_NUMBER:
        case TOK_NIL:
        case TOK_RAW_STRING:
        case TOK_STRING:
        case TOK_VARIABLE:
        case TOK_LPAREN:
          backup (p);
          cmd = command (p);
          if (cmd == NULL)
            return NULL;
          append_kid (pipe, cmd);
          break;
        default:
          return unexpected (p, t, context);
        }
    }
}

static struct gotmpl_node *control (struct parser *p, enum gotmpl_node_type type,
                                    const char *context);

/* The list after {{else}}: a chained "else if" / "else with" is an
 * if/with nested in the else list that consumes the shared {{end}}. */
static struct gotmpl_node *
else_list (struct parser *p, enum gotmpl_node_type type, const char *context,
           const struct gotmpl_node *else_node)
{
  struct gotmpl_node *list, *end = NULL, *nested;
  cleanup_buf struct buf s = BUF_INIT;

  if ((type == NODE_IF && peek (p)->type == TOK_IF)
      || (type == NODE_WITH && peek (p)->type == TOK_WITH))
    {
      next (p);
      list = new_node (p, NODE_LIST, else_node->pos);
      nested = control (p, type, context);
      if (nested == NULL)
        return NULL;
      append_kid (list, nested);
      return list;
    }
  list = item_list (p, &end);
  if (list == NULL)
    return NULL;
  if (end->type != NODE_END)
    {
      gotmpl_node_string (end, &s);
      return parse_fail (p, "expected end; found %s", s.data);
    }
  return list;
}

/* {{if}}, {{range}} and {{with}}: the pipeline, the list and an optional
 * else list.  Variables declared inside end with the control. */
static struct gotmpl_node *
control (struct parser *p, enum gotmpl_node_type type, const char *context)
{
  size_t nvars = p->nvars;
  struct gotmpl_node *n, *end = NULL;

  if (!enter (p))
    return NULL;
  n = new_node (p, type, peek_non_space (p)->pos);
  n->pipe = pipeline (p, context, TOK_RIGHT);
  if (n->pipe == NULL)
    return NULL;
  n->pos = n->pipe->pos;
  p->range_depth += type == NODE_RANGE;
  n->list = item_list (p, &end);
  p->range_depth -= type == NODE_RANGE;
  if (n->list == NULL)
    return NULL;
  if (end->type == NODE_ELSE && (n->else_list = else_list (p, type, context, end)) == NULL)
    return NULL;
  p->nvars = nvars;
  p->depth--;
  return n;
}

static struct gotmpl_node *
loop_control (struct parser *p, const struct token *kw, enum gotmpl_node_type type)
{
  const char *name = type == NODE_BREAK ? "{{break}}" : "{{continue}}";
  struct token *t = next_non_space (p);

  if (t->type != TOK_RIGHT)
    return unexpected (p, t, name);
  if (p->range_depth == 0)
    return parse_fail (p, "%s outside {{range}}", name);
  return new_node (p, type, kw->pos);
}

static struct gotmpl_node *
else_control (struct parser *p)
{
  struct token *t = peek_non_space (p);

  if (t->type == TOK_IF || t->type == TOK_WITH)
    return new_node (p, NODE_ELSE, t->pos);
  return expect_close (p, NODE_ELSE, "else");
}

static struct gotmpl_node *
action (struct parser *p)
{
  struct token *t = next_non_space (p);
  struct gotmpl_node *n;

  switch (t->type)
    {
    case TOK_BLOCK:
    case TOK_DEFINE:
    case TOK_TEMPLATE:
      return parse_fail (p, "{{%.*s}} is not supported", (int) t->len, p->t->text + t->pos);
    case TOK_BREAK:
      return loop_control (p, t, NODE_BREAK);
    case TOK_CONTINUE:
      return loop_control (p, t, NODE_CONTINUE);
    case TOK_ELSE:
      return else_control (p);
    case TOK_END:
      return expect_close (p, NODE_END, "end");
    case TOK_IF:
      return control (p, NODE_IF, "if");
    case TOK_RANGE:
      return control (p, NODE_RANGE, "range");
    case TOK_WITH:
      return control (p, NODE_WITH, "with");
    default:
      break;
    }
  backup (p);
  n = new_node (p, NODE_ACTION, peek (p)->pos);
  n->pipe = pipeline (p, "command", TOK_RIGHT);
  return n->pipe ? n : NULL;
}

static struct gotmpl_node *
text_or_action (struct parser *p)
{
  struct token *t = next_non_space (p);
  struct gotmpl_node *n;

  if (t->type == TOK_TEXT)
    {
      n = new_node (p, NODE_TEXT, t->pos);
      n->text = xstrndup (p->t->text + t->pos, t->len);
      n->text_len = t->len;
      return n;
    }
  if (t->type != TOK_LEFT)
    return unexpected (p, t, "input");
  p->action_line = t->line;
  n = action (p);
  p->action_line = 0;
  return n;
}

/* Nodes up to {{end}} or {{else}}, which is returned in *NEXT_NODE. */
static struct gotmpl_node *
item_list (struct parser *p, struct gotmpl_node **next_node)
{
  struct gotmpl_node *list = new_node (p, NODE_LIST, peek_non_space (p)->pos);

  while (peek_non_space (p)->type != TOK_EOF)
    {
      struct gotmpl_node *n = text_or_action (p);
      if (n == NULL)
        return NULL;
      if (n->type == NODE_END || n->type == NODE_ELSE)
        {
          *next_node = n;
          return list;
        }
      append_kid (list, n);
    }
  return parse_fail (p, "unexpected EOF");
}

static struct gotmpl_node *
parse_root (struct parser *p)
{
  struct gotmpl_node *root = new_node (p, NODE_LIST, 0);

  while (peek (p)->type != TOK_EOF)
    {
      struct gotmpl_node *n = text_or_action (p);
      cleanup_buf struct buf s = BUF_INIT;

      if (n == NULL)
        return NULL;
      if (n->type == NODE_END || n->type == NODE_ELSE)
        {
          gotmpl_node_string (n, &s);
          return parse_fail (p, "unexpected %s", s.data);
        }
      append_kid (root, n);
    }
  return root;
}

/* ---- node strings ----------------------------------------------------- */

static void
idents_string (const struct gotmpl_node *n, size_t from, struct buf *out)
{
  for (size_t i = from; i < n->nidents; i++)
    {
      if (i > 0 || n->type != NODE_VARIABLE)
        buf_append_char (out, '.');
      buf_append_str (out, n->idents[i]);
    }
}

static void
pipe_string (const struct gotmpl_node *n, struct buf *out)
{
  for (size_t i = 0; i < n->ndecls; i++)
    buf_printf (out, "%s%s", i ? ", " : "", n->decls[i]);
  if (n->ndecls)
    buf_append_str (out, n->is_assign ? " = " : " := ");
  for (size_t i = 0; i < n->nkids; i++)
    {
      if (i)
        buf_append_str (out, " | ");
      gotmpl_node_string (n->kids[i], out);
    }
}

static void
control_string (const struct gotmpl_node *n, const char *kw, struct buf *out)
{
  buf_printf (out, "{{%s ", kw);
  pipe_string (n->pipe, out);
  buf_append_str (out, "}}");
  gotmpl_node_string (n->list, out);
  if (n->else_list)
    {
      buf_append_str (out, "{{else}}");
      gotmpl_node_string (n->else_list, out);
    }
  buf_append_str (out, "{{end}}");
}

static void
operand_string (const struct gotmpl_node *n, struct buf *out)
{
  if (n->type != NODE_PIPE)
    {
      gotmpl_node_string (n, out);
      return;
    }
  buf_append_char (out, '(');
  pipe_string (n, out);
  buf_append_char (out, ')');
}

void
gotmpl_node_string (const struct gotmpl_node *n, struct buf *out)
{
  switch (n->type)
    {
    case NODE_LIST:
      for (size_t i = 0; i < n->nkids; i++)
        gotmpl_node_string (n->kids[i], out);
      break;
    case NODE_TEXT:
    case NODE_LITERAL:
    case NODE_IDENT:
      buf_append (out, n->text, n->type == NODE_IDENT ? strlen (n->text) : n->text_len);
      break;
    case NODE_ACTION:
      buf_append_str (out, "{{");
      pipe_string (n->pipe, out);
      buf_append_str (out, "}}");
      break;
    case NODE_IF: control_string (n, "if", out); break;
    case NODE_RANGE: control_string (n, "range", out); break;
    case NODE_WITH: control_string (n, "with", out); break;
    case NODE_BREAK: buf_append_str (out, "{{break}}"); break;
    case NODE_CONTINUE: buf_append_str (out, "{{continue}}"); break;
    case NODE_END: buf_append_str (out, "{{end}}"); break;
    case NODE_ELSE: buf_append_str (out, "{{else}}"); break;
    case NODE_PIPE: pipe_string (n, out); break;
    case NODE_COMMAND:
      for (size_t i = 0; i < n->nkids; i++)
        {
          if (i)
            buf_append_char (out, ' ');
          operand_string (n->kids[i], out);
        }
      break;
    case NODE_FIELD:
    case NODE_VARIABLE:
      idents_string (n, 0, out);
      break;
    case NODE_CHAIN:
      operand_string (n->pipe, out);
      for (size_t i = 0; i < n->nidents; i++)
        buf_printf (out, ".%s", n->idents[i]);
      break;
    case NODE_DOT: buf_append_char (out, '.'); break;
    case NODE_NIL: buf_append_str (out, "nil"); break;
    }
}

/* ---- public ----------------------------------------------------------- */

static void
free_node (struct gotmpl_node *n)
{
  free (n->text);
  if (n->value)
    json_object_put (n->value);
  strv_free (n->idents);
  strv_free (n->decls);
  free (n->kids);
  free (n);
}

void
gotmpl_free (struct gotmpl *t)
{
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->nnodes; i++)
    free_node (t->nodes[i]);
  free (t->nodes);
  free (t->name);
  free (t->text);
  free (t);
}

void
gotmpl_freep (struct gotmpl **t)
{
  gotmpl_free (*t);
  *t = NULL;
}

static void
free_tokens (struct lexer *l)
{
  for (size_t i = 0; i < l->ntoks; i++)
    free (l->toks[i].msg);
  free (l->toks);
}

struct gotmpl *
gotmpl_parse (const char *name, const char *text, struct error **err)
{
  cleanup_gotmpl struct gotmpl *t = NULL;
  size_t len = strlen (text);
  struct lexer l = { .n = len, .line = 1 };
  struct parser p = { .err = err, .line = 1 };

  if (len > GOTMPL_MAX_TEXT)
    {
      err_make (err, 0, "template: %s: template text too long (%zu bytes, at most %zu)", name,
                len, GOTMPL_MAX_TEXT);
      return NULL;
    }
  t = xmalloc0 (sizeof *t);
  t->name = xstrdup (name);
  t->text = xstrdup (text);
  p.t = t;
  l.s = t->text;
  lex (&l);
  p.toks = l.toks;
  p.ntoks = l.ntoks;
  push_var (&p, "$");
  t->root = parse_root (&p);
  free (p.vars);
  free_tokens (&l);
  if (t->root == NULL)
    return NULL;
  return steal_ptr (&t);
}
