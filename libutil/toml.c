/* TOML v1.0 over json-c; see toml.h.
 *
 * One recursive-descent pass over input that was checked to be UTF-8 first.
 * The TOML rules on (re)defining tables need to know how each table came to
 * be (enum node_kind); that, with the line number, lives in the json-c
 * userdata of every node the parser makes, so no side structure mirrors the
 * tree. */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "parse.h"
#include "fs.h"
#include "jobj.h"
#include "mem.h"
#include "toml.h"

/* How a table or array was made; decides what later lines may do to it
 * (TOML 1.0 "Table", "Inline Table" and "Array of Tables"). */
enum node_kind
{
  NODE_VALUE = 0,      /* scalars and static arrays */
  NODE_TABLE_IMPLICIT, /* parent made by a [header]: may be defined once */
  NODE_TABLE_HEADER,   /* defined by [header] or an [[array]] element */
  NODE_TABLE_DOTTED,   /* made by a dotted key: only dotted keys extend it */
  NODE_TABLE_INLINE,   /* { ... }: sealed */
  NODE_ARRAY_TABLES,   /* [[header]]: later headers reach its last element */
};

#define KIND_BITS 3
#define KIND_MASK ((uintptr_t) 7)

struct parser
{
  const char *cur;
  const char *end;
  const char *name;
  unsigned line;
  json_object *section; /* where key/value lines go */
  int section_depth;    /* its depth below the root */
  struct error **err;
};

static void
tag (json_object *o, unsigned line, enum node_kind kind)
{
  json_object_set_userdata (o, (void *) (((uintptr_t) line << KIND_BITS) | kind), NULL);
}

static enum node_kind
kind_of (json_object *o)
{
  return (enum node_kind) ((uintptr_t) json_object_get_userdata (o) & KIND_MASK);
}

unsigned
toml_line (json_object *o)
{
  if (o == NULL)
    return 0;
  return (unsigned) ((uintptr_t) json_object_get_userdata (o) >> KIND_BITS);
}

static int __attribute__ ((format (printf, 2, 3)))
fail (struct parser *p, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = xvasprintf (fmt, ap);
  va_end (ap);
  return err_make (p->err, 0, "%s:%u: %s", p->name, p->line, msg);
}

static json_object *
new_table (struct parser *p, enum node_kind kind)
{
  json_object *t = json_object_new_object ();

  tag (t, p->line, kind);
  return t;
}

/* --- characters ---------------------------------------------------------- */

static bool
at_end (const struct parser *p)
{
  return p->cur >= p->end;
}

static int
peek_at (const struct parser *p, size_t off)
{
  if ((size_t) (p->end - p->cur) <= off)
    return -1;
  return (unsigned char) p->cur[off];
}

static int
peek (const struct parser *p)
{
  return peek_at (p, 0);
}

static bool
starts_with (const struct parser *p, const char *s)
{
  size_t n = strlen (s);

  return (size_t) (p->end - p->cur) >= n && memcmp (p->cur, s, n) == 0;
}

/* TOML forbids control characters other than tab in strings and comments. */
static bool
is_control (int c)
{
  return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

static bool
is_digit (int c)
{
  return c >= '0' && c <= '9';
}

static bool
is_alpha (int c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_bare_key_char (int c)
{
  return is_alpha (c) || is_digit (c) || c == '_' || c == '-';
}

static bool
is_newline (const struct parser *p)
{
  return peek (p) == '\n' || (peek (p) == '\r' && peek_at (p, 1) == '\n');
}

static void
eat_newline (struct parser *p)
{
  p->cur += peek (p) == '\r' ? 2 : 1;
  p->line++;
}

static void
skip_ws (struct parser *p)
{
  while (peek (p) == ' ' || peek (p) == '\t')
    p->cur++;
}

static int
skip_comment (struct parser *p)
{
  if (peek (p) != '#')
    return 0;
  for (p->cur++; !at_end (p) && !is_newline (p); p->cur++)
    if (is_control ((unsigned char) *p->cur))
      return fail (p, "control character in comment");
  return 0;
}

/* Whitespace, comments and newlines, as allowed between array elements. */
static int
skip_blank (struct parser *p)
{
  for (;;)
    {
      skip_ws (p);
      if (skip_comment (p) < 0)
        return -1;
      if (!is_newline (p))
        return 0;
      eat_newline (p);
    }
}

/* After a key/value pair or a header only a comment may follow on the line. */
static int
expect_line_end (struct parser *p, const char *after)
{
  skip_ws (p);
  if (skip_comment (p) < 0)
    return -1;
  if (at_end (p))
    return 0;
  if (!is_newline (p))
    return fail (p, "expected the end of the line after %s", after);
  eat_newline (p);
  return 0;
}

/* Length of the UTF-8 sequence at S (N bytes available), 0 when it is not
 * valid UTF-8: overlong forms, surrogates and values past U+10FFFF are
 * rejected too. */
static size_t
utf8_seq_len (const unsigned char *s, size_t n)
{
  uint32_t cp, min;
  size_t len;

  if (s[0] < 0x80)
    return 1;
  if ((s[0] & 0xe0) == 0xc0)
    len = 2, cp = s[0] & 0x1f, min = 0x80;
  else if ((s[0] & 0xf0) == 0xe0)
    len = 3, cp = s[0] & 0x0f, min = 0x800;
  else if ((s[0] & 0xf8) == 0xf0)
    len = 4, cp = s[0] & 0x07, min = 0x10000;
  else
    return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i] & 0x3f);
    }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

static int
check_utf8 (struct parser *p)
{
  const unsigned char *s = (const unsigned char *) p->cur;
  size_t n = (size_t) (p->end - p->cur);
  unsigned line = 1;

  for (size_t i = 0; i < n;)
    {
      size_t len = utf8_seq_len (s + i, n - i);
      if (len == 0)
        {
          p->line = line;
          return fail (p, "invalid UTF-8");
        }
      if (s[i] == '\n')
        line++;
      i += len;
    }
  return 0;
}

/* --- strings ------------------------------------------------------------- */

/* \uXXXX or \UXXXXXXXX (P->cur just past the letter): a Unicode scalar
 * value.  NUL is refused because json-c getters return C strings, where it
 * would silently cut the value. */
static int
parse_unicode_escape (struct parser *p, struct buf *b, int ndigits)
{
  uint32_t cp = 0;

  for (int i = 0; i < ndigits; i++)
    {
      int d = parse_hex_digit (peek (p));
      if (d < 0)
        return fail (p, "invalid unicode escape: expected %d hex digits", ndigits);
      cp = (cp << 4) | (uint32_t) d;
      p->cur++;
    }
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return fail (p, "invalid unicode escape: U+%04X is not a scalar value", (unsigned) cp);
  if (cp == 0)
    return fail (p, "NUL characters are not supported in strings");
  buf_append_utf8 (b, cp);
  return 0;
}

static int
parse_escape (struct parser *p, struct buf *b)
{
  static const char from[] = "btnfr\"\\";
  static const char to[] = "\b\t\n\f\r\"\\";
  int c = peek_at (p, 1);
  const char *hit;

  if (c == -1)
    return fail (p, "unterminated string");
  if (c == 'u' || c == 'U')
    {
      p->cur += 2;
      return parse_unicode_escape (p, b, c == 'u' ? 4 : 8);
    }
  hit = c != 0 ? strchr (from, c) : NULL;
  if (hit == NULL)
    {
      if (c > 0x20 && c < 0x7f)
        return fail (p, "invalid escape sequence \"\\%c\"", c);
      return fail (p, "invalid escape sequence");
    }
  buf_append_char (b, to[hit - from]);
  p->cur += 2;
  return 0;
}

/* "..." on one line. */
static int
parse_basic_string (struct parser *p, struct buf *b)
{
  for (p->cur++;;)
    {
      int c = peek (p);

      if (c == -1 || c == '\n' || c == '\r')
        return fail (p, "unterminated string");
      if (c == '"')
        {
          p->cur++;
          return 0;
        }
      if (c == '\\')
        {
          if (parse_escape (p, b) < 0)
            return -1;
          continue;
        }
      if (is_control (c))
        return fail (p, "control character in string");
      buf_append_char (b, (char) c);
      p->cur++;
    }
}

/* '...' on one line, no escapes. */
static int
parse_literal_string (struct parser *p, struct buf *b)
{
  for (p->cur++;;)
    {
      int c = peek (p);

      if (c == -1 || c == '\n' || c == '\r')
        return fail (p, "unterminated string");
      if (c == '\'')
        {
          p->cur++;
          return 0;
        }
      if (is_control (c))
        return fail (p, "control character in string");
      buf_append_char (b, (char) c);
      p->cur++;
    }
}

/* At a closing triple quote: one or two more quotes right before the
 * delimiter belong to the content ("""a"""" is 'a"'). */
static void
close_multiline (struct parser *p, struct buf *b, char quote)
{
  size_t extra = 0;

  while (extra < 2 && peek_at (p, 3 + extra) == quote)
    extra++;
  for (size_t i = 0; i < extra; i++)
    buf_append_char (b, quote);
  p->cur += 3 + extra;
}

/* A backslash that ends a line (trailing whitespace allowed) in a
 * multi-line basic string trims all whitespace and newlines after it. */
static bool
is_line_ending_backslash (const struct parser *p)
{
  const char *q = p->cur + 1;

  while (q < p->end && (*q == ' ' || *q == '\t'))
    q++;
  return q < p->end && (*q == '\n' || (*q == '\r' && q + 1 < p->end && q[1] == '\n'));
}

static void
trim_after_backslash (struct parser *p)
{
  for (p->cur++;;)
    {
      skip_ws (p);
      if (!is_newline (p))
        return;
      eat_newline (p);
    }
}

/* """...""" or '''...''': newlines allowed (normalised to \n), and one
 * right after the opening delimiter is dropped. */
static int
parse_multiline_string (struct parser *p, struct buf *b, char quote)
{
  const char delim[4] = { quote, quote, quote, '\0' };

  p->cur += 3;
  if (is_newline (p))
    eat_newline (p);
  for (;;)
    {
      int c = peek (p);

      if (c == -1)
        return fail (p, "unterminated multi-line string");
      if (starts_with (p, delim))
        {
          close_multiline (p, b, quote);
          return 0;
        }
      if (is_newline (p))
        {
          buf_append_char (b, '\n');
          eat_newline (p);
          continue;
        }
      if (c == '\\' && quote == '"')
        {
          if (is_line_ending_backslash (p))
            trim_after_backslash (p);
          else if (parse_escape (p, b) < 0)
            return -1;
          continue;
        }
      if (is_control (c))
        return fail (p, "control character in string");
      buf_append_char (b, (char) c);
      p->cur++;
    }
}

static int
parse_any_string (struct parser *p, struct buf *b)
{
  if (starts_with (p, "\"\"\""))
    return parse_multiline_string (p, b, '"');
  if (starts_with (p, "'''"))
    return parse_multiline_string (p, b, '\'');
  if (peek (p) == '"')
    return parse_basic_string (p, b);
  return parse_literal_string (p, b);
}

/* --- keys ---------------------------------------------------------------- */

static char *
parse_simple_key (struct parser *p)
{
  const char *start = p->cur;

  if (peek (p) == '"' || peek (p) == '\'')
    {
      cleanup_buf struct buf b = BUF_INIT;

      if (starts_with (p, "\"\"\"") || starts_with (p, "'''"))
        {
          fail (p, "a key cannot be a multi-line string");
          return NULL;
        }
      if (parse_any_string (p, &b) < 0)
        return NULL;
      return buf_steal (&b);
    }
  while (is_bare_key_char (peek (p)))
    p->cur++;
  if (p->cur == start)
    {
      fail (p, "expected a key");
      return NULL;
    }
  return xstrndup (start, (size_t) (p->cur - start));
}

/* a.b."c d": simple keys joined by dots, whitespace allowed around them.
 * Returns a NULL-terminated vector with *N parts. */
static char **
parse_key (struct parser *p, size_t *n)
{
  cleanup_strv char **parts = NULL;
  size_t count = 0;

  for (;;)
    {
      cleanup_free char *part = parse_simple_key (p);

      if (part == NULL)
        return NULL;
      if (count == TOML_MAX_DEPTH)
        {
          fail (p, "key has more than %d parts", TOML_MAX_DEPTH);
          return NULL;
        }
      parts = strv_append (parts, part);
      count++;
      skip_ws (p);
      if (peek (p) != '.')
        break;
      p->cur++;
      skip_ws (p);
    }
  *n = count;
  return steal_ptr (&parts);
}

/* "a.b" for messages, each part quoted when it is not a bare key. */
static char *
key_display (char *const *keys, size_t n)
{
  cleanup_buf struct buf b = BUF_INIT;

  for (size_t i = 0; i < n; i++)
    {
      bool is_bare = keys[i][0] != '\0';

      for (const char *c = keys[i]; *c; c++)
        is_bare = is_bare && is_bare_key_char ((unsigned char) *c);
      if (i > 0)
        buf_append_char (&b, '.');
      if (is_bare)
        buf_append_str (&b, keys[i]);
      else
        buf_printf (&b, "'%s'", keys[i]);
    }
  return buf_steal (&b);
}

/* --- scalars ------------------------------------------------------------- */

static int
digit_value (int c, int base)
{
  int d = parse_hex_digit (c);

  return d >= 0 && d < base ? d : -1;
}

/* DIGIT *( [_] DIGIT ) in BASE: returns the end, or NULL when S does not
 * start with a digit or an underscore is not between two digits. */
static const char *
scan_digits (const char *s, int base)
{
  if (digit_value ((unsigned char) *s, base) < 0)
    return NULL;
  for (s++;;)
    {
      if (*s == '_')
        {
          if (digit_value ((unsigned char) s[1], base) < 0)
            return NULL;
          s += 2;
        }
      else if (digit_value ((unsigned char) *s, base) >= 0)
        s++;
      else
        return s;
    }
}

/* A decimal integer part (of an integer or a float): no leading zeros. */
static const char *
scan_dec_int (const char *s)
{
  const char *end = scan_digits (s, 10);

  if (end == NULL || (s[0] == '0' && end - s > 1))
    return NULL;
  return end;
}

static char *
without_underscores (const char *s)
{
  char *out = xstrdup (s), *w = out;

  for (; *s; s++)
    if (*s != '_')
      *w++ = *s;
  *w = '\0';
  return out;
}

static json_object *
make_integer (struct parser *p, const char *tok, const char *digits, int base)
{
  cleanup_free char *clean = without_underscores (digits);
  long long v;

  errno = 0;
  v = strtoll (clean, NULL, base);
  if (errno == ERANGE)
    {
      fail (p, "integer \"%s\" out of range", tok);
      return NULL;
    }
  return json_object_new_int64 (v);
}

static json_object *
parse_integer (struct parser *p, const char *tok)
{
  static const struct
  {
    char letter;
    int base;
  } prefixes[] = { { 'x', 16 }, { 'o', 8 }, { 'b', 2 } };
  const char *s = tok + (tok[0] == '+' || tok[0] == '-');
  const char *end;

  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (s[0] == '0' && s[1] == prefixes[i].letter)
      {
        end = scan_digits (s + 2, prefixes[i].base);
        if (s != tok || end == NULL || *end != '\0')
          {
            fail (p, "invalid integer \"%s\"", tok);
            return NULL;
          }
        return make_integer (p, tok, s + 2, prefixes[i].base);
      }
  end = scan_dec_int (s);
  if (end == NULL || *end != '\0')
    {
      fail (p, "invalid value \"%s\"", tok);
      return NULL;
    }
  return make_integer (p, tok, tok[0] == '+' ? tok + 1 : tok, 10);
}

/* strtod in the C locale whatever LC_NUMERIC says: "1.5" must not depend
 * on the user's decimal separator. */
static double
strtod_c (const char *s)
{
  static locale_t c_locale;

  if (c_locale == (locale_t) 0)
    c_locale = newlocale (LC_NUMERIC_MASK, "C", (locale_t) 0);
  if (c_locale == (locale_t) 0)
    return strtod (s, NULL);
  return strtod_l (s, NULL, c_locale);
}

static json_object *
parse_float (struct parser *p, const char *tok)
{
  const char *s = tok + (tok[0] == '+' || tok[0] == '-');
  cleanup_free char *clean = NULL;
  double v;

  s = scan_dec_int (s);
  if (s != NULL && *s == '.')
    s = scan_digits (s + 1, 10);
  if (s != NULL && (*s == 'e' || *s == 'E'))
    {
      s++;
      s = scan_digits (s + (*s == '+' || *s == '-'), 10);
    }
  if (s == NULL || *s != '\0')
    {
      fail (p, "invalid float \"%s\"", tok);
      return NULL;
    }
  clean = without_underscores (tok);
  v = strtod_c (clean);
  if (isinf (v))
    {
      fail (p, "float \"%s\" out of range", tok);
      return NULL;
    }
  return json_object_new_double (v);
}

static bool
is_date_or_time (const char *tok)
{
  bool four = is_digit (tok[0]) && is_digit (tok[1]) && is_digit (tok[2]) && is_digit (tok[3]);
  bool two = is_digit (tok[0]) && is_digit (tok[1]);

  return (four && tok[4] == '-') || (two && tok[2] == ':');
}

static json_object *
parse_special_float (const char *tok)
{
  const char *s = tok + (tok[0] == '+' || tok[0] == '-');

  if (strcmp (s, "inf") == 0)
    return json_object_new_double (tok[0] == '-' ? -INFINITY : INFINITY);
  if (strcmp (s, "nan") == 0)
    return json_object_new_double (NAN);
  return NULL;
}

static bool
is_token_char (int c)
{
  return is_bare_key_char (c) || c == '+' || c == '.' || c == ':';
}

/* Booleans, integers and floats: read the whole token, then classify. */
static json_object *
parse_scalar (struct parser *p)
{
  const char *start = p->cur;
  cleanup_free char *tok = NULL;
  const char *digits;
  json_object *special;

  while (is_token_char (peek (p)))
    p->cur++;
  if (p->cur == start)
    {
      if (at_end (p) || is_newline (p))
        fail (p, "expected a value");
      else
        fail (p, "expected a value, found \"%c\"", *p->cur);
      return NULL;
    }
  tok = xstrndup (start, (size_t) (p->cur - start));
  if (strcmp (tok, "true") == 0 || strcmp (tok, "false") == 0)
    return json_object_new_boolean (tok[0] == 't');
  special = parse_special_float (tok);
  if (special)
    return special;
  if (is_date_or_time (tok))
    {
      fail (p, "dates and times are not supported (\"%s\")", tok);
      return NULL;
    }
  digits = tok + (tok[0] == '+' || tok[0] == '-');
  if (!is_digit ((unsigned char) digits[0]))
    {
      fail (p, "invalid value \"%s\"", tok);
      return NULL;
    }
  if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o' || digits[1] == 'b'))
    return parse_integer (p, tok);
  if (strpbrk (tok, ".eE"))
    return parse_float (p, tok);
  return parse_integer (p, tok);
}

/* --- arrays, inline tables, key/value pairs ------------------------------ */

static json_object *parse_value (struct parser *p, int depth);
static int parse_keyval (struct parser *p, json_object *table, int depth);

static json_object *
parse_array (struct parser *p, int depth)
{
  cleanup_json json_object *arr = json_object_new_array ();

  tag (arr, p->line, NODE_VALUE);
  for (p->cur++;;)
    {
      json_object *v;

      if (skip_blank (p) < 0)
        return NULL;
      if (peek (p) == ']')
        break;
      if (at_end (p))
        {
          fail (p, "unterminated array");
          return NULL;
        }
      v = parse_value (p, depth + 1);
      if (v == NULL)
        return NULL;
      json_object_array_add (arr, v);
      if (skip_blank (p) < 0)
        return NULL;
      if (peek (p) == ']')
        break;
      if (peek (p) != ',')
        {
          fail (p, at_end (p) ? "unterminated array" : "expected ',' or ']' in array");
          return NULL;
        }
      p->cur++;
    }
  p->cur++;
  return steal_ptr (&arr);
}

/* { k = v, ... } on one line (TOML 1.0), no trailing comma; sealed once
 * closed. */
static json_object *
parse_inline_table (struct parser *p, int depth)
{
  cleanup_json json_object *tbl = new_table (p, NODE_TABLE_INLINE);

  p->cur++;
  skip_ws (p);
  if (peek (p) == '}')
    {
      p->cur++;
      return steal_ptr (&tbl);
    }
  for (;;)
    {
      skip_ws (p);
      if (parse_keyval (p, tbl, depth) < 0)
        return NULL;
      skip_ws (p);
      if (peek (p) == '}')
        break;
      if (peek (p) != ',')
        {
          fail (p, at_end (p) || is_newline (p)
                       ? "unterminated inline table (it must close on the same line)"
                       : "expected ',' or '}' in inline table");
          return NULL;
        }
      p->cur++;
    }
  p->cur++;
  return steal_ptr (&tbl);
}

/* DEPTH is the nesting depth the value will have below the root. */
static json_object *
parse_value (struct parser *p, int depth)
{
  unsigned line = p->line;
  json_object *v;
  int c = peek (p);

  if (depth > TOML_MAX_DEPTH)
    {
      fail (p, "values nested more than %d deep", TOML_MAX_DEPTH);
      return NULL;
    }
  if (c == '[')
    return parse_array (p, depth);
  if (c == '{')
    return parse_inline_table (p, depth);
  if (c == '"' || c == '\'')
    {
      cleanup_buf struct buf b = BUF_INIT;

      if (parse_any_string (p, &b) < 0)
        return NULL;
      v = json_object_new_string_len (b.data ? b.data : "", (int) b.len);
    }
  else
    v = parse_scalar (p);
  if (v)
    tag (v, line, NODE_VALUE);
  return v;
}

/* Walk (creating as needed) the tables a dotted key names before its last
 * part.  Only tables made by dotted keys may be walked: a table from a
 * header, an inline table or a value cannot be extended this way. */
static json_object *
dotted_parent (struct parser *p, json_object *table, char **keys, size_t n)
{
  for (size_t i = 0; i + 1 < n; i++)
    {
      json_object *child;

      if (!json_object_object_get_ex (table, keys[i], &child))
        {
          child = new_table (p, NODE_TABLE_DOTTED);
          json_object_object_add (table, keys[i], child);
        }
      else if (!json_object_is_type (child, json_type_object)
               || kind_of (child) != NODE_TABLE_DOTTED)
        {
          cleanup_free char *whole = key_display (keys, n);
          cleanup_free char *part = key_display (keys, i + 1);
          fail (p, "cannot set \"%s\": \"%s\" was already defined on line %u", whole,
                part, toml_line (child));
          return NULL;
        }
      table = child;
    }
  return table;
}

/* KEY = VALUE into TABLE (the current section or an inline table being
 * built), which sits DEPTH levels below the root. */
static int
parse_keyval (struct parser *p, json_object *table, int depth)
{
  cleanup_strv char **keys = NULL;
  json_object *parent, *v;
  size_t n = 0;

  keys = parse_key (p, &n);
  if (keys == NULL)
    return -1;
  skip_ws (p);
  if (peek (p) != '=')
    return fail (p, "expected '=' after key");
  p->cur++;
  skip_ws (p);
  parent = dotted_parent (p, table, keys, n);
  if (parent == NULL)
    return -1;
  if (json_object_object_get_ex (parent, keys[n - 1], &v))
    {
      cleanup_free char *whole = key_display (keys, n);
      return fail (p, "duplicate key \"%s\" (first defined on line %u)", whole,
                   toml_line (v));
    }
  v = parse_value (p, depth + (int) n);
  if (v == NULL)
    return -1;
  json_object_object_add (parent, keys[n - 1], v);
  return 0;
}

/* --- [table] and [[array of tables]] headers ----------------------------- */

/* One step of a header's path through an existing or implicit table; an
 * array of tables leads to its last element. */
static json_object *
header_step (struct parser *p, json_object *table, char **keys, size_t i, int *depth)
{
  json_object *child;

  if (!json_object_object_get_ex (table, keys[i], &child))
    {
      child = new_table (p, NODE_TABLE_IMPLICIT);
      json_object_object_add (table, keys[i], child);
    }
  else if (json_object_is_type (child, json_type_array)
           && kind_of (child) == NODE_ARRAY_TABLES)
    {
      child = json_object_array_get_idx (child, json_object_array_length (child) - 1);
      (*depth)++;
    }
  else if (!json_object_is_type (child, json_type_object)
           || kind_of (child) == NODE_TABLE_INLINE)
    {
      cleanup_free char *part = key_display (keys, i + 1);
      fail (p, "\"%s\" is not a table that can be extended (defined on line %u)", part,
            toml_line (child));
      return NULL;
    }
  if (++*depth > TOML_MAX_DEPTH)
    {
      fail (p, "tables nested more than %d deep", TOML_MAX_DEPTH);
      return NULL;
    }
  return child;
}

static json_object *
define_table (struct parser *p, json_object *parent, char **keys, size_t n)
{
  json_object *t;

  if (!json_object_object_get_ex (parent, keys[n - 1], &t))
    {
      t = new_table (p, NODE_TABLE_HEADER);
      json_object_object_add (parent, keys[n - 1], t);
      return t;
    }
  if (json_object_is_type (t, json_type_object) && kind_of (t) == NODE_TABLE_IMPLICIT)
    {
      tag (t, p->line, NODE_TABLE_HEADER);
      return t;
    }
  cleanup_free char *whole = key_display (keys, n);
  fail (p, "table \"%s\" is already defined on line %u", whole, toml_line (t));
  return NULL;
}

static json_object *
append_array_table (struct parser *p, json_object *parent, char **keys, size_t n)
{
  json_object *arr, *t;

  if (!json_object_object_get_ex (parent, keys[n - 1], &arr))
    {
      arr = json_object_new_array ();
      tag (arr, p->line, NODE_ARRAY_TABLES);
      json_object_object_add (parent, keys[n - 1], arr);
    }
  else if (!json_object_is_type (arr, json_type_array)
           || kind_of (arr) != NODE_ARRAY_TABLES)
    {
      cleanup_free char *whole = key_display (keys, n);
      fail (p, "cannot define array of tables \"%s\": already defined on line %u as "
            "another type", whole, toml_line (arr));
      return NULL;
    }
  t = new_table (p, NODE_TABLE_HEADER);
  json_object_array_add (arr, t);
  return t;
}

static int
parse_header (struct parser *p, json_object *root)
{
  bool is_array = starts_with (p, "[[");
  cleanup_strv char **keys = NULL;
  json_object *t = root;
  int depth = 0;
  size_t n = 0;

  p->cur += is_array ? 2 : 1;
  skip_ws (p);
  keys = parse_key (p, &n);
  if (keys == NULL)
    return -1;
  if (is_array ? !starts_with (p, "]]") : peek (p) != ']')
    return fail (p, is_array ? "expected \"]]\" after the array of tables name"
                             : "expected ']' after the table name");
  p->cur += is_array ? 2 : 1;
  for (size_t i = 0; i + 1 < n; i++)
    {
      t = header_step (p, t, keys, i, &depth);
      if (t == NULL)
        return -1;
    }
  depth += is_array ? 2 : 1;
  if (depth > TOML_MAX_DEPTH)
    return fail (p, "tables nested more than %d deep", TOML_MAX_DEPTH);
  t = is_array ? append_array_table (p, t, keys, n) : define_table (p, t, keys, n);
  if (t == NULL)
    return -1;
  p->section = t;
  p->section_depth = depth;
  return expect_line_end (p, "the table header");
}

static int
parse_document (struct parser *p, json_object *root)
{
  p->section = root;
  p->section_depth = 0;
  while (!at_end (p))
    {
      skip_ws (p);
      if (skip_comment (p) < 0)
        return -1;
      if (at_end (p))
        break;
      if (is_newline (p))
        {
          eat_newline (p);
          continue;
        }
      if (peek (p) == '[')
        {
          if (parse_header (p, root) < 0)
            return -1;
          continue;
        }
      if (parse_keyval (p, p->section, p->section_depth) < 0)
        return -1;
      if (expect_line_end (p, "the value") < 0)
        return -1;
    }
  return 0;
}

json_object *
toml_parse (const char *data, size_t len, const char *name, struct error **err)
{
  struct parser p = { .cur = data, .end = data + len, .name = name ? name : "<input>",
                      .line = 1, .err = err };
  cleanup_json json_object *root = NULL;

  if (len > TOML_MAX_FILE_SIZE)
    {
      err_make (err, EFBIG, "%s: larger than %u bytes", p.name, TOML_MAX_FILE_SIZE);
      return NULL;
    }
  if (check_utf8 (&p) < 0)
    return NULL;
  if (starts_with (&p, "\xef\xbb\xbf"))
    p.cur += 3;
  root = json_object_new_object ();
  if (parse_document (&p, root) < 0)
    return NULL;
  return steal_ptr (&root);
}

json_object *
toml_parse_file (const char *path, struct error **err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;

  data = fs_read_file (path, TOML_MAX_FILE_SIZE, &len, err);
  if (data == NULL)
    return NULL;
  return toml_parse (data, len, path, err);
}
