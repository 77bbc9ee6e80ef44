/* Go's fmt over json-c values: how {{.}}, print and printf show a value.
 * Strings are Go strings, json-c integers int, doubles float64 (printed
 * without exponent when they hold an integer, as our JSON stores sizes
 * and counts that way), arrays []interface{} and objects
 * map[string]interface{} with sorted keys.  The printf verbs, flags,
 * width, precision, argument indexes and the "%!d(string=x)" complaints
 * follow fmt/print.go and fmt/format.go; where Go would complain about an
 * integer under a float verb or an integral float under %d, we print the
 * number. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotmpl_internal.h"
#include "mem.h"

/* Composite values nest at most this deep when printed; json-c's parser
 * stops at 32 levels, so only values built in code get here. */
#define PRINT_MAX_DEPTH 64
/* fmt's tooLarge(): a larger width or precision is malformed. */
#define FMT_MAX_NUM 1000000

struct spec
{
  bool minus, plus, sharp, space, zero;
  bool plus_v, sharp_v;
  bool has_width, has_prec;
  int width, prec;
};

static void print_arg (const struct spec *f, json_object *v, int verb, int depth,
                       struct buf *out);

/* ---- padding and quoting ---------------------------------------------- */

static size_t
rune_count (const char *s, size_t len)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += ((unsigned char) s[i] & 0xc0) != 0x80;
  return n;
}

/* Byte length of the first N runes of S. */
static size_t
rune_prefix (const char *s, size_t len, size_t n)
{
  size_t i = 0;
  for (; i < len; i++)
    if (((unsigned char) s[i] & 0xc0) != 0x80 && n-- == 0)
      break;
  return i;
}

static void
write_padding (struct buf *out, size_t n, char c)
{
  buf_reserve (out, n);
  memset (out->data + out->len, c, n);
  out->len += n;
  out->data[out->len] = '\0';
}

/* fmt.pad: S padded to the width, left unless '-'; zeros only when
 * ZERO_OK (numbers). */
static void
pad (const struct spec *f, const char *s, size_t len, bool zero_ok, struct buf *out)
{
  size_t runes = rune_count (s, len);
  size_t fill = f->has_width && (size_t) f->width > runes ? (size_t) f->width - runes : 0;

  if (!f->minus)
    write_padding (out, fill, zero_ok && f->zero ? '0' : ' ');
  buf_append (out, s, len);
  if (f->minus)
    write_padding (out, fill, ' ');
}

static size_t
utf8_len (const unsigned char *s, size_t len)
{
  size_t n;

  if (s[0] < 0x80)
    return 1;
  if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
    n = 2;
  else if ((s[0] & 0xf0) == 0xe0)
    n = 3;
  else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
    n = 4;
  else
    return 0;
  if (n > len)
    return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  return n;
}

static uint32_t
utf8_rune (const unsigned char *s, size_t n)
{
  static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
  uint32_t r = s[0] & lead_mask[n];
  for (size_t i = 1; i < n; i++)
    r = (r << 6) | (s[i] & 0x3f);
  return r;
}

static void
quote_byte (unsigned char c, char q, struct buf *out)
{
  static const char esc[] = "\aa\bb\ff\nn\rr\tt\vv";
  const char *e = c ? strchr (esc, c) : NULL;

  if (c == (unsigned char) q || c == '\\')
    buf_printf (out, "\\%c", c);
  else if (c >= 0x20 && c < 0x7f)
    buf_append_char (out, (char) c);
  else if (e && ((e - esc) % 2) == 0)
    buf_printf (out, "\\%c", e[1]);
  else
    buf_printf (out, "\\x%02x", c);
}

static void
quote_runes (const char *s, size_t len, bool is_ascii, char q, struct buf *out)
{
  const unsigned char *u = (const unsigned char *) s;

  for (size_t i = 0; i < len;)
    {
      size_t n = utf8_len (u + i, len - i);
      if (n <= 1)
        {
          quote_byte (u[i], q, out);
          i++;
          continue;
        }
      if (is_ascii)
        {
          uint32_t r = utf8_rune (u + i, n);
          buf_printf (out, r < 0x10000 ? "\\u%04x" : "\\U%08x", r);
        }
      else
        buf_append (out, s + i, n);
      i += n;
    }
}

void
gotmpl_quote (const char *s, size_t len, bool is_ascii, struct buf *out)
{
  buf_append_char (out, '"');
  quote_runes (s, len, is_ascii, '"', out);
  buf_append_char (out, '"');
}

/* strconv.CanBackquote. */
static bool
can_backquote (const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) s[i];
      if (c == '`' || c == 0x7f || (c < 0x20 && c != '\t'))
        return false;
      if (c >= 0x80)
        {
          size_t n = utf8_len ((const unsigned char *) s + i, len - i);
          if (n == 0)
            return false;
          i += n - 1;
        }
    }
  return true;
}

/* ---- scalars ---------------------------------------------------------- */

static void
fmt_string (const struct spec *f, const char *s, size_t len, int verb, struct buf *out)
{
  cleanup_buf struct buf tmp = BUF_INIT;

  if (f->has_prec)
    len = rune_prefix (s, len, (size_t) f->prec);
  if (verb == 'x' || verb == 'X')
    {
      const char *digits = verb == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
      for (size_t i = 0; i < len; i++)
        {
          unsigned char c = (unsigned char) s[i];
          if (i > 0 && f->space)
            buf_append_char (&tmp, ' ');
          if (f->sharp && (i == 0 || f->space))
            buf_append_str (&tmp, verb == 'x' ? "0x" : "0X");
          buf_append_char (&tmp, digits[c >> 4]);
          buf_append_char (&tmp, digits[c & 15]);
        }
    }
  else if (verb == 'q' || f->sharp_v)
    {
      if (f->sharp && can_backquote (s, len))
        {
          buf_append_char (&tmp, '`');
          buf_append (&tmp, s, len);
          buf_append_char (&tmp, '`');
        }
      else
        gotmpl_quote (s, len, f->plus, &tmp);
    }
  else
    buf_append (&tmp, s, len);
  pad (f, tmp.data ? tmp.data : "", tmp.len, false, out);
}

/* fmt.fmtInteger: digits in BASE, precision or zero padding, the '#'
 * prefixes, the sign, then the width. */
static void
fmt_integer (const struct spec *f, uint64_t u, bool is_negative, int base, int verb,
             struct buf *out)
{
  const char *digits = verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[72];
  size_t i = sizeof tmp;
  cleanup_buf struct buf s = BUF_INIT;
  int prec = 0;
  struct spec g = *f;

  if (f->has_prec)
    {
      prec = f->prec;
      if (prec == 0 && u == 0)
        {
          g.zero = false;
          pad (&g, "", 0, false, out);
          return;
        }
    }
  else if (f->zero && !f->minus && f->has_width)
    prec = f->width - (is_negative || f->plus || f->space);
  do
    tmp[--i] = digits[u % (unsigned) base];
  while ((u /= (unsigned) base) > 0);
  if (f->sharp && base == 8 && tmp[i] != '0')
    tmp[--i] = '0';
  if (is_negative)
    buf_append_char (&s, '-');
  else if (f->plus)
    buf_append_char (&s, '+');
  else if (f->space)
    buf_append_char (&s, ' ');
  if (f->sharp && base == 2)
    buf_append_str (&s, "0b");
  if (f->sharp && base == 16)
    buf_append_str (&s, verb == 'X' ? "0X" : "0x");
  if (verb == 'O')
    buf_append_str (&s, "0o");
  if (prec > 0 && (size_t) prec > sizeof tmp - i)
    write_padding (&s, (size_t) prec - (sizeof tmp - i), '0');
  buf_append (&s, tmp + i, sizeof tmp - i);
  g.zero = false;
  pad (&g, s.data, s.len, false, out);
}

void
gotmpl_append_rune (uint64_t r, struct buf *out)
{
  char u[4];
  size_t n;

  if (r > 0x10ffff || (r >= 0xd800 && r < 0xe000))
    r = 0xfffd;
  if (r < 0x80)
    u[0] = (char) r, n = 1;
  else if (r < 0x800)
    u[0] = (char) (0xc0 | (r >> 6)), u[1] = (char) (0x80 | (r & 0x3f)), n = 2;
  else if (r < 0x10000)
    u[0] = (char) (0xe0 | (r >> 12)), u[1] = (char) (0x80 | ((r >> 6) & 0x3f)),
    u[2] = (char) (0x80 | (r & 0x3f)), n = 3;
  else
    u[0] = (char) (0xf0 | (r >> 18)), u[1] = (char) (0x80 | ((r >> 12) & 0x3f)),
    u[2] = (char) (0x80 | ((r >> 6) & 0x3f)), u[3] = (char) (0x80 | (r & 0x3f)), n = 4;
  buf_append (out, u, n);
}

/* %c, %q and %U on an integer: the rune itself, as a character literal,
 * or as "U+0041" ("U+0041 'A'" with '#'). */
static void
fmt_rune (const struct spec *f, uint64_t r, int verb, struct buf *out)
{
  cleanup_buf struct buf s = BUF_INIT;
  cleanup_buf struct buf ch = BUF_INIT;

  gotmpl_append_rune (r, &ch);
  if (verb == 'c')
    buf_append (&s, ch.data, ch.len);
  else if (verb == 'q')
    {
      buf_append_char (&s, '\'');
      quote_runes (ch.data, ch.len, f->plus, '\'', &s);
      buf_append_char (&s, '\'');
    }
  else
    {
      buf_printf (&s, "U+%0*llX", f->has_prec && f->prec > 4 ? f->prec : 4,
                  (unsigned long long) r);
      if (f->sharp && r <= 0x10ffff && r >= 0x20 && r != 0x7f)
        buf_printf (&s, " '%s'", ch.data);
    }
  pad (f, s.data, s.len, false, out);
}

/* A json-c integer as magnitude and sign (json-c keeps uint64 values above
 * INT64_MAX too). */
static uint64_t
int_magnitude (json_object *v, bool *is_negative)
{
  int64_t i = json_object_get_int64 (v);

  *is_negative = i < 0;
  if (i == INT64_MAX)
    return json_object_get_uint64 (v);
  return i < 0 ? 0 - (uint64_t) i : (uint64_t) i;
}

/* No libm: skiff does not link it for one function. */
static double
abs_double (double d)
{
  return d < 0 ? -d : d;
}

/* A double holding an integer small enough to print in full (every
 * double from 2^53 on is an integer). */
static bool
is_integral (double d)
{
  double a = abs_double (d);
  return isfinite (d) && a < 1e21 && (a >= 9007199254740992.0 || d == (double) (int64_t) d);
}

/* strconv's shortest digits of D > 0: DIGITS (no dot, no trailing zeros),
 * and DP, the decimal point's position (D = 0.DIGITS * 10^DP). */
static void
shortest_digits (double d, char *digits, size_t size, int *dp)
{
  char tmp[40];
  size_t nd = 0;
  char *e;

  for (int p = 1; p <= 17; p++)
    {
      snprintf (tmp, sizeof tmp, "%.*e", p - 1, d);
      if (strtod (tmp, NULL) == d)
        break;
    }
  e = strchr (tmp, 'e');
  for (char *c = tmp; c < e && nd + 1 < size; c++)
    if (*c != '.')
      digits[nd++] = *c;
  while (nd > 1 && digits[nd - 1] == '0')
    nd--;
  digits[nd] = '\0';
  *dp = atoi (e + 1) + 1;
}

/* strconv.FormatFloat(d, 'g', -1, 64) for D > 0: %e form when the
 * exponent is below -4 or at least 6. */
static void
format_shortest (double d, int verb, struct buf *out)
{
  char digits[24];
  int dp, nd, exp;

  shortest_digits (d, digits, sizeof digits, &dp);
  nd = (int) strlen (digits);
  exp = dp - 1;
  if (exp < -4 || exp >= 6)
    {
      buf_append_char (out, digits[0]);
      if (nd > 1)
        buf_printf (out, ".%s", digits + 1);
      buf_printf (out, "%c%c%02d", verb == 'G' ? 'E' : 'e', exp < 0 ? '-' : '+', abs (exp));
      return;
    }
  if (dp <= 0)
    {
      buf_append_str (out, "0.");
      write_padding (out, (size_t) -dp, '0');
      buf_append_str (out, digits);
    }
  else if (dp >= nd)
    {
      buf_append_str (out, digits);
      write_padding (out, (size_t) (dp - nd), '0');
    }
  else
    buf_printf (out, "%.*s.%s", dp, digits, digits + dp);
}

/* The digits of |D| under VERB; false when VERB does not apply. */
static bool
float_text (const struct spec *f, double d, int verb, struct buf *num)
{
  int prec = f->has_prec ? f->prec : -1;
  double a = abs_double (d);

  if (isnan (d) || isinf (d))
    buf_append_str (num, isnan (d) ? "NaN" : "Inf");
  else if (verb == 'v' && is_integral (d))
    buf_printf (num, "%.0f", a);
  else if (verb == 'v' || ((verb == 'g' || verb == 'G') && prec < 0))
    {
      if (a == 0)
        buf_append_char (num, '0');
      else
        format_shortest (a, verb, num);
    }
  else if (verb == 'g' || verb == 'G')
    buf_printf (num, verb == 'g' ? "%.*g" : "%.*G", prec == 0 ? 1 : prec, a);
  else if (verb == 'e' || verb == 'E')
    buf_printf (num, verb == 'e' ? "%.*e" : "%.*E", prec < 0 ? 6 : prec, a);
  else if (verb == 'f' || verb == 'F')
    buf_printf (num, "%.*f", prec < 0 ? 6 : prec, a);
  else if (verb == 'x' || verb == 'X')
    buf_printf (num, verb == 'x' ? "%.*a" : "%.*A", prec < 0 ? 13 : prec, a);
  else
    return false;
  return true;
}

/* fmt.fmtFloat: the sign, then zeros after it or spaces before it. */
static bool
fmt_float (const struct spec *f, double d, int verb, struct buf *out)
{
  cleanup_buf struct buf num = BUF_INIT;
  cleanup_buf struct buf s = BUF_INIT;
  struct spec g = *f;
  char sign = 0;

  if (verb == 'd' && is_integral (d) && abs_double (d) < 9e18)
    {
      fmt_integer (f, (uint64_t) abs_double (d), d < 0, 10, 'd', out);
      return true;
    }
  if (!float_text (f, d, verb, &num))
    return false;
  if (signbit (d) && !isnan (d))
    sign = '-';
  else if (f->plus || isinf (d))
    sign = '+';
  else if (f->space)
    sign = ' ';
  if (sign && f->zero && !f->minus && f->has_width && isfinite (d)
      && (size_t) f->width > num.len + 1)
    {
      buf_append_char (out, sign);
      write_padding (out, (size_t) f->width - num.len - 1, '0');
      buf_append (out, num.data, num.len);
      return true;
    }
  if (sign)
    buf_append_char (&s, sign);
  buf_append (&s, num.data, num.len);
  g.zero = g.zero && isfinite (d);
  pad (&g, s.data, s.len, true, out);
  return true;
}

static bool
fmt_int (const struct spec *f, json_object *v, int verb, struct buf *out)
{
  bool is_negative;
  uint64_t u = int_magnitude (v, &is_negative);

  switch (verb)
    {
    case 'v':
    case 'd':
      fmt_integer (f, u, is_negative, 10, verb, out);
      return true;
    case 'b':
      fmt_integer (f, u, is_negative, 2, verb, out);
      return true;
    case 'o':
    case 'O':
      fmt_integer (f, u, is_negative, 8, verb, out);
      return true;
    case 'x':
    case 'X':
      fmt_integer (f, u, is_negative, 16, verb, out);
      return true;
    case 'c':
    case 'q':
    case 'U':
      fmt_rune (f, is_negative ? 0 - u : u, verb, out);
      return true;
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
      return fmt_float (f, is_negative ? -(double) u : (double) u, verb, out);
    default:
      return false;
    }
}

/* ---- any value -------------------------------------------------------- */

const char *
gotmpl_type_name (json_object *v)
{
  switch (json_object_get_type (v))
    {
    case json_type_null: return "<nil>";
    case json_type_boolean: return "bool";
    case json_type_double: return "float64";
    case json_type_int: return "int";
    case json_type_string: return "string";
    case json_type_array: return "[]interface {}";
    case json_type_object: return "map[string]interface {}";
    }
  return "<nil>";
}

static void
append_verb (int verb, struct buf *out)
{
  gotmpl_append_rune ((uint64_t) verb, out);
}

/* fmt's complaint about a verb that does not fit the value:
 * "%!d(string=hello)". */
static void
bad_verb (json_object *v, int verb, int depth, struct buf *out)
{
  static const struct spec plain;

  buf_append_str (out, "%!");
  append_verb (verb, out);
  buf_append_char (out, '(');
  if (v == NULL)
    buf_append_str (out, "<nil>");
  else
    {
      buf_printf (out, "%s=", gotmpl_type_name (v));
      print_arg (&plain, v, 'v', depth, out);
    }
  buf_append_char (out, ')');
}

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Go prints a map with its keys sorted: "map[a:1 b:2]". */
static void
print_object (const struct spec *f, json_object *v, int verb, int depth, struct buf *out)
{
  size_t n = (size_t) json_object_object_length (v), i = 0;
  cleanup_free char **keys = xcalloc (n + 1, sizeof *keys);

  json_object_object_foreach (v, key, val)
    {
      (void) val;
      keys[i++] = key;
    }
  qsort (keys, i, sizeof *keys, compare_keys);
  buf_append_str (out, "map[");
  for (size_t k = 0; k < i; k++)
    {
      json_object *name = json_object_new_string (keys[k]);
      if (k > 0)
        buf_append_char (out, ' ');
      print_arg (f, name, verb, depth + 1, out);
      json_object_put (name);
      buf_append_char (out, ':');
      print_arg (f, json_object_object_get (v, keys[k]), verb, depth + 1, out);
    }
  buf_append_char (out, ']');
}

static void
print_array (const struct spec *f, json_object *v, int verb, int depth, struct buf *out)
{
  size_t n = json_object_array_length (v);

  buf_append_char (out, '[');
  for (size_t i = 0; i < n; i++)
    {
      if (i > 0)
        buf_append_char (out, ' ');
      print_arg (f, json_object_array_get_idx (v, i), verb, depth + 1, out);
    }
  buf_append_char (out, ']');
}

static void
print_arg (const struct spec *f, json_object *v, int verb, int depth, struct buf *out)
{
  bool is_done = false;
  const char *s;

  if (verb == 'T')
    {
      s = gotmpl_type_name (v);
      fmt_string (f, s, strlen (s), 's', out);
      return;
    }
  if (depth > PRINT_MAX_DEPTH)
    {
      buf_append_str (out, "...");
      return;
    }
  switch (json_object_get_type (v))
    {
    case json_type_null:
      if ((is_done = verb == 'v'))
        pad (f, "<nil>", 5, false, out);
      break;
    case json_type_boolean:
      s = json_object_get_boolean (v) ? "true" : "false";
      if ((is_done = verb == 'v' || verb == 't'))
        pad (f, s, strlen (s), false, out);
      break;
    case json_type_int:
      is_done = fmt_int (f, v, verb, out);
      break;
    case json_type_double:
      is_done = fmt_float (f, json_object_get_double (v), verb, out);
      break;
    case json_type_string:
      if ((is_done = verb < 0x80 && strchr ("vsqxX", verb) != NULL))
        fmt_string (f, json_object_get_string (v), (size_t) json_object_get_string_len (v),
                    verb, out);
      break;
    case json_type_array:
      print_array (f, v, verb, depth, out);
      is_done = true;
      break;
    case json_type_object:
      print_object (f, v, verb, depth, out);
      is_done = true;
      break;
    }
  if (!is_done)
    bad_verb (v, verb, depth + 1, out);
}

void
gotmpl_print_value (json_object *v, struct buf *out)
{
  static const struct spec plain;
  print_arg (&plain, v, 'v', 0, out);
}

void
gotmpl_sprint (json_object *const *args, size_t nargs, bool is_ln, struct buf *out)
{
  bool was_string = false;

  for (size_t i = 0; i < nargs; i++)
    {
      bool is_string = json_object_is_type (args[i], json_type_string);
      if (i > 0 && (is_ln || (!is_string && !was_string)))
        buf_append_char (out, ' ');
      gotmpl_print_value (args[i], out);
      was_string = is_string;
    }
  if (is_ln)
    buf_append_char (out, '\n');
}

/* ---- printf ----------------------------------------------------------- */

struct printf_state
{
  const char *fmt;
  size_t end;
  size_t i;
  json_object *const *args;
  size_t nargs;
  size_t arg;
  bool is_reordered;
  bool is_good_arg;
  struct spec f;
  struct buf *out;
};

/* fmt's parsenum: digits, false when none or absurdly many. */
static bool
parse_num (struct printf_state *p, int *num)
{
  bool is_num = false;

  *num = 0;
  while (p->i < p->end && p->fmt[p->i] >= '0' && p->fmt[p->i] <= '9')
    {
      if (*num > FMT_MAX_NUM)
        {
          p->i = p->end;
          *num = 0;
          return false;
        }
      *num = *num * 10 + (p->fmt[p->i++] - '0');
      is_num = true;
    }
  return is_num;
}

/* The n of "[n]": digits only. */
static bool
parse_index (const char *s, size_t len, int *n)
{
  *n = 0;
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9' || *n > FMT_MAX_NUM)
        return false;
      *n = *n * 10 + (s[i] - '0');
    }
  return true;
}

/* "[n]" before a width, precision or verb picks argument n (1-based).
 * Returns whether one was written, well-formed (fmt's argNumber). */
static bool
arg_index (struct printf_state *p)
{
  size_t close;
  bool is_ok;
  int n;

  if (p->i >= p->end || p->fmt[p->i] != '[')
    return false;
  p->is_reordered = true;
  for (close = p->i + 1; close < p->end && p->fmt[close] != ']'; close++)
    ;
  if (close >= p->end)
    {
      p->i++;
      p->is_good_arg = false;
      return false;
    }
  is_ok = parse_index (p->fmt + p->i + 1, close - p->i - 1, &n);
  p->i = close + 1;
  if (is_ok && n >= 1 && (size_t) n <= p->nargs)
    {
      p->arg = (size_t) n - 1;
      return true;
    }
  p->is_good_arg = false;
  return is_ok;
}

/* A '*' width or precision from the next argument, which must be an
 * integer of sane size. */
static bool
int_from_arg (struct printf_state *p, int *num)
{
  json_object *v;
  int64_t n;

  *num = 0;
  if (p->arg >= p->nargs)
    return false;
  v = p->args[p->arg++];
  if (!json_object_is_type (v, json_type_int))
    return false;
  n = json_object_get_int64 (v);
  if (n > FMT_MAX_NUM || n < -FMT_MAX_NUM)
    return false;
  *num = (int) n;
  return true;
}

static void
parse_flags (struct printf_state *p)
{
  memset (&p->f, 0, sizeof p->f);
  for (; p->i < p->end; p->i++)
    switch (p->fmt[p->i])
      {
      case '#': p->f.sharp = true; break;
      case '0': p->f.zero = !p->f.minus; break;
      case '+': p->f.plus = true; break;
      case '-': p->f.minus = true, p->f.zero = false; break;
      case ' ': p->f.space = true; break;
      default: return;
      }
}

/* Width, a number or '*'; returns whether an index still applies. */
static bool
parse_width (struct printf_state *p, bool after_index)
{
  if (p->i < p->end && p->fmt[p->i] == '*')
    {
      p->i++;
      p->f.has_width = int_from_arg (p, &p->f.width);
      if (!p->f.has_width)
        buf_append_str (p->out, "%!(BADWIDTH)");
      if (p->f.width < 0)
        {
          p->f.width = -p->f.width;
          p->f.minus = true;
          p->f.zero = false;
        }
      return false;
    }
  p->f.has_width = parse_num (p, &p->f.width);
  if (after_index && p->f.has_width)
    p->is_good_arg = false;
  return after_index;
}

/* ".prec" or ".*"; returns whether an index came after it. */
static bool
parse_prec (struct printf_state *p, bool after_index)
{
  if (!(p->i + 1 < p->end && p->fmt[p->i] == '.'))
    return after_index;
  p->i++;
  if (after_index)
    p->is_good_arg = false;
  after_index = arg_index (p);
  if (p->i < p->end && p->fmt[p->i] == '*')
    {
      p->i++;
      p->f.has_prec = int_from_arg (p, &p->f.prec);
      if (p->f.prec < 0)
        p->f.prec = 0, p->f.has_prec = false;
      if (!p->f.has_prec)
        buf_append_str (p->out, "%!(BADPREC)");
      return false;
    }
  p->f.has_prec = parse_num (p, &p->f.prec);
  if (!p->f.has_prec)
    p->f.prec = 0, p->f.has_prec = true;
  return after_index;
}

static int
next_verb (struct printf_state *p)
{
  const unsigned char *u = (const unsigned char *) p->fmt + p->i;
  size_t n = utf8_len (u, p->end - p->i);

  if (n == 0)
    n = 1;
  p->i += n;
  return n == 1 ? u[0] : (int) utf8_rune (u, n);
}

/* One "%..." directive, P->i just past the '%'.  False when the format
 * ended inside it. */
static bool
directive (struct printf_state *p)
{
  bool after_index;
  int verb;

  p->is_good_arg = true;
  parse_flags (p);
  after_index = parse_width (p, arg_index (p));
  after_index = parse_prec (p, after_index);
  if (!after_index)
    arg_index (p);
  if (p->i >= p->end)
    {
      buf_append_str (p->out, "%!(NOVERB)");
      return false;
    }
  verb = next_verb (p);
  if (verb == '%')
    buf_append_char (p->out, '%');
  else if (!p->is_good_arg || p->arg >= p->nargs)
    {
      buf_append_str (p->out, "%!");
      append_verb (verb, p->out);
      buf_append_str (p->out, p->is_good_arg ? "(MISSING)" : "(BADINDEX)");
    }
  else
    {
      if (verb == 'v')
        {
          p->f.sharp_v = p->f.sharp, p->f.sharp = false;
          p->f.plus_v = p->f.plus, p->f.plus = false;
        }
      print_arg (&p->f, p->args[p->arg++], verb, 0, p->out);
    }
  return true;
}

static void
extra_args (struct printf_state *p)
{
  buf_append_str (p->out, "%!(EXTRA ");
  for (size_t i = p->arg; i < p->nargs; i++)
    {
      if (i > p->arg)
        buf_append_str (p->out, ", ");
      if (p->args[i] == NULL)
        buf_append_str (p->out, "<nil>");
      else
        {
          buf_printf (p->out, "%s=", gotmpl_type_name (p->args[i]));
          gotmpl_print_value (p->args[i], p->out);
        }
    }
  buf_append_char (p->out, ')');
}

int
gotmpl_sprintf (struct gotmpl_call *c, const char *fmt, size_t fmt_len,
                json_object *const *args, size_t nargs, struct buf *out)
{
  struct printf_state p = { .fmt = fmt, .end = fmt_len, .args = args, .nargs = nargs,
                            .out = out };
  size_t start = out->len;

  while (p.i < p.end)
    {
      const char *pct = memchr (fmt + p.i, '%', p.end - p.i);
      size_t at = pct ? (size_t) (pct - fmt) : p.end;

      buf_append (out, fmt + p.i, at - p.i);
      p.i = at;
      if (p.i >= p.end)
        break;
      p.i++;
      if (!directive (&p))
        break;
      if (out->len - start > c->max_value)
        return gotmpl_call_fail (c, "result longer than %zu bytes", c->max_value);
    }
  if (!p.is_reordered && p.arg < p.nargs)
    extra_args (&p);
  return 0;
}
