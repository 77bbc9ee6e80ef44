/* The functions a template can call: Go's builtins (text/template
 * funcs.go) and the ones docker and podman add (json, join, split, lower,
 * upper, title, truncate, pad).  Each takes evaluated json-c values and
 * returns a new reference, or fails with the text Go would put after
 * "error calling NAME: ".  Where Go's static types would reject a value
 * our untyped JSON cannot avoid (join over []interface{}), the function
 * takes it. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gotmpl_internal.h"
#include "jobj.h"
#include "mem.h"

int
gotmpl_call_fail (struct gotmpl_call *c, const char *fmt, ...)
{
  va_list ap;

  free (c->msg);
  va_start (ap, fmt);
  c->msg = xvasprintf (fmt, ap);
  va_end (ap);
  return -1;
}

int
gotmpl_call_charge (struct gotmpl_call *c, size_t len)
{
  if (len > c->max_value)
    return gotmpl_call_fail (c, "result longer than %zu bytes", c->max_value);
  *c->produced += len;
  if (*c->produced > c->max_produced)
    return gotmpl_call_fail (c, "template built more than %llu bytes",
                             (unsigned long long) c->max_produced);
  return 0;
}

bool
gotmpl_truth (json_object *v)
{
  switch (json_object_get_type (v))
    {
    case json_type_null: return false;
    case json_type_boolean: return json_object_get_boolean (v);
    case json_type_double: return json_object_get_double (v) != 0;
    case json_type_int: return json_object_get_int64 (v) != 0;
    case json_type_string: return json_object_get_string_len (v) > 0;
    case json_type_array: return json_object_array_length (v) > 0;
    case json_type_object: return json_object_object_length (v) > 0;
    }
  return false;
}

/* ---- argument checks -------------------------------------------------- */

static int
want_string (struct gotmpl_call *c, json_object *v, const char **s, size_t *len)
{
  if (v == NULL)
    return gotmpl_call_fail (c, "invalid value; expected string");
  if (!json_object_is_type (v, json_type_string))
    return gotmpl_call_fail (c, "wrong type for value; expected string; got %s",
                             gotmpl_type_name (v));
  *s = json_object_get_string (v);
  *len = (size_t) json_object_get_string_len (v);
  return 0;
}

/* An integer, also a float64 holding one (as Go accepts 1e3 for an
 * int). */
static bool
as_int (json_object *v, int64_t *i)
{
  double d;

  if (json_object_is_type (v, json_type_int))
    {
      *i = json_object_get_int64 (v);
      return true;
    }
  if (!json_object_is_type (v, json_type_double))
    return false;
  d = json_object_get_double (v);
  if (!(d >= -9e18 && d <= 9e18) || d != (double) (int64_t) d)
    return false;
  *i = (int64_t) d;
  return true;
}

static int
want_int (struct gotmpl_call *c, json_object *v, int64_t *i)
{
  if (v == NULL)
    return gotmpl_call_fail (c, "invalid value; expected int");
  if (!as_int (v, i))
    return gotmpl_call_fail (c, "wrong type for value; expected int; got %s",
                             gotmpl_type_name (v));
  return 0;
}

static int
new_string (struct gotmpl_call *c, const char *s, size_t len, json_object **out)
{
  if (gotmpl_call_charge (c, len) < 0)
    return -1;
  *out = json_object_new_string_len (s ? s : "", (int) len);
  return 0;
}

static int
buf_result (struct gotmpl_call *c, struct buf *b, json_object **out)
{
  return new_string (c, b->data, b->len, out);
}

/* ---- Go's builtins ---------------------------------------------------- */

static int
fn_not (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  (void) c, (void) n;
  *out = json_object_new_boolean (!gotmpl_truth (a[0]));
  return 0;
}

static int
fn_len (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  (void) n;
  switch (json_object_get_type (a[0]))
    {
    case json_type_string:
      *out = json_object_new_int64 (json_object_get_string_len (a[0]));
      return 0;
    case json_type_array:
      *out = json_object_new_int64 ((int64_t) json_object_array_length (a[0]));
      return 0;
    case json_type_object:
      *out = json_object_new_int64 (json_object_object_length (a[0]));
      return 0;
    case json_type_null:
      return gotmpl_call_fail (c, "len of nil pointer");
    default:
      return gotmpl_call_fail (c, "len of type %s", gotmpl_type_name (a[0]));
    }
}

/* An index into something of LEN elements (CAP for slice bounds). */
static int
index_arg (struct gotmpl_call *c, json_object *v, size_t cap, size_t *x)
{
  int64_t i;

  if (v == NULL)
    return gotmpl_call_fail (c, "cannot index slice/array with nil");
  if (!json_object_is_type (v, json_type_int) || !as_int (v, &i))
    return gotmpl_call_fail (c, "cannot index slice/array with type %s", gotmpl_type_name (v));
  if (i < 0 || (uint64_t) i > cap)
    return gotmpl_call_fail (c, "index out of range: %lld", (long long) i);
  *x = (size_t) i;
  return 0;
}

static int
index_one (struct gotmpl_call *c, json_object *item, json_object *key, json_object **next)
{
  size_t x, len;

  switch (json_object_get_type (item))
    {
    case json_type_array:
    case json_type_string:
      len = json_object_is_type (item, json_type_array)
                ? json_object_array_length (item)
                : (size_t) json_object_get_string_len (item);
      if (index_arg (c, key, len, &x) < 0)
        return -1;
      if (x == len)
        return gotmpl_call_fail (c, "index out of range: %zu", x);
      if (json_object_is_type (item, json_type_string))
        *next = json_object_new_int64 ((unsigned char) json_object_get_string (item)[x]);
      else
        *next = json_object_get (json_object_array_get_idx (item, x));
      return 0;
    case json_type_object:
      if (key == NULL)
        return gotmpl_call_fail (c, "value is nil; should be of type string");
      if (!json_object_is_type (key, json_type_string))
        return gotmpl_call_fail (c, "value has type %s; should be string",
                                 gotmpl_type_name (key));
      *next = json_object_get (json_object_object_get (item, json_object_get_string (key)));
      return 0;
    case json_type_null:
      return gotmpl_call_fail (c, "index of nil pointer");
    default:
      return gotmpl_call_fail (c, "can't index item of type %s", gotmpl_type_name (item));
    }
}

/* index X 1 "key" ...: Go's index; a missing map key gives nil. */
static int
fn_index (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  json_object *item;

  if (a[0] == NULL)
    return gotmpl_call_fail (c, "index of untyped nil");
  item = json_object_get (a[0]);
  for (size_t i = 1; i < n; i++)
    {
      json_object *next = NULL;
      int r = index_one (c, item, a[i], &next);
      json_object_put (item);
      if (r < 0)
        return -1;
      item = next;
    }
  *out = item;
  return 0;
}

static json_object *
sub_array (json_object *a, size_t from, size_t to)
{
  json_object *r = json_object_new_array_ext ((int) (to - from));
  for (size_t i = from; i < to; i++)
    json_object_array_add (r, json_object_get (json_object_array_get_idx (a, i)));
  return r;
}

/* slice X i j (k): Go's slice over strings and arrays. */
static int
fn_slice (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  size_t idx[3] = { 0, 0, 0 }, len;
  bool is_string = json_object_is_type (a[0], json_type_string);

  if (a[0] == NULL)
    return gotmpl_call_fail (c, "slice of untyped nil");
  if (n > 4)
    return gotmpl_call_fail (c, "too many slice indexes: %zu", n - 1);
  if (!is_string && !json_object_is_type (a[0], json_type_array))
    return gotmpl_call_fail (c, "can't slice item of type %s", gotmpl_type_name (a[0]));
  if (is_string && n == 4)
    return gotmpl_call_fail (c, "cannot 3-index slice a string");
  len = is_string ? (size_t) json_object_get_string_len (a[0]) : json_object_array_length (a[0]);
  idx[1] = len;
  for (size_t i = 1; i < n; i++)
    if (index_arg (c, a[i], len, &idx[i - 1]) < 0)
      return -1;
  if (idx[0] > idx[1])
    return gotmpl_call_fail (c, "invalid slice index: %zu > %zu", idx[0], idx[1]);
  if (n == 4 && idx[1] > idx[2])
    return gotmpl_call_fail (c, "invalid slice index: %zu > %zu", idx[1], idx[2]);
  if (is_string)
    return new_string (c, json_object_get_string (a[0]) + idx[0], idx[1] - idx[0], out);
  *out = sub_array (a[0], idx[0], idx[1]);
  return 0;
}

static int
fn_print (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  cleanup_buf struct buf b = BUF_INIT;
  gotmpl_sprint (a, n, false, &b);
  return buf_result (c, &b, out);
}

static int
fn_println (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  cleanup_buf struct buf b = BUF_INIT;
  gotmpl_sprint (a, n, true, &b);
  return buf_result (c, &b, out);
}

static int
fn_printf (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  cleanup_buf struct buf b = BUF_INIT;
  const char *fmt;
  size_t len;

  if (want_string (c, a[0], &fmt, &len) < 0)
    return -1;
  if (gotmpl_sprintf (c, fmt, len, a + 1, n - 1, &b) < 0)
    return -1;
  return buf_result (c, &b, out);
}

/* html, js and urlquery escape their one string argument, or what print
 * makes of several. */
static void
escape_args (json_object *const *a, size_t n, struct buf *text)
{
  if (n == 1 && json_object_is_type (a[0], json_type_string))
    buf_append (text, json_object_get_string (a[0]), (size_t) json_object_get_string_len (a[0]));
  else
    gotmpl_sprint (a, n, false, text);
}

static int
fn_html (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  cleanup_buf struct buf text = BUF_INIT;
  cleanup_buf struct buf b = BUF_INIT;

  escape_args (a, n, &text);
  for (size_t i = 0; i < text.len; i++)
    switch (text.data[i])
      {
      case '"': buf_append_str (&b, "&#34;"); break;
      case '\'': buf_append_str (&b, "&#39;"); break;
      case '&': buf_append_str (&b, "&amp;"); break;
      case '<': buf_append_str (&b, "&lt;"); break;
      case '>': buf_append_str (&b, "&gt;"); break;
      case '\0': buf_append_str (&b, "\xef\xbf\xbd"); break;
      default: buf_append_char (&b, text.data[i]);
      }
  return buf_result (c, &b, out);
}

static int
fn_js (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  cleanup_buf struct buf text = BUF_INIT;
  cleanup_buf struct buf b = BUF_INIT;

  escape_args (a, n, &text);
  for (size_t i = 0; i < text.len; i++)
    {
      unsigned char ch = (unsigned char) text.data[i];
      if (ch == '\\' || ch == '\'' || ch == '"')
        buf_printf (&b, "\\%c", ch);
      else if (ch == '<' || ch == '>' || ch == '&' || ch == '=' || ch < 0x20)
        buf_printf (&b, "\\u%04X", ch);
      else
        buf_append_char (&b, (char) ch);
    }
  return buf_result (c, &b, out);
}

static int
fn_urlquery (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  cleanup_buf struct buf text = BUF_INIT;
  cleanup_buf struct buf b = BUF_INIT;

  escape_args (a, n, &text);
  for (size_t i = 0; i < text.len; i++)
    {
      unsigned char ch = (unsigned char) text.data[i];
      if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
          || strchr ("-_.~", ch) != NULL)
        buf_append_char (&b, (char) ch);
      else if (ch == ' ')
        buf_append_char (&b, '+');
      else
        buf_printf (&b, "%%%02X", ch);
    }
  return buf_result (c, &b, out);
}

/* ---- comparisons ------------------------------------------------------ */

enum kind
{
  KIND_NIL,
  KIND_BOOL,
  KIND_INT,
  KIND_FLOAT,
  KIND_STRING,
  KIND_OTHER,
};

static enum kind
basic_kind (json_object *v)
{
  switch (json_object_get_type (v))
    {
    case json_type_null: return KIND_NIL;
    case json_type_boolean: return KIND_BOOL;
    case json_type_int: return KIND_INT;
    case json_type_double: return KIND_FLOAT;
    case json_type_string: return KIND_STRING;
    default: return KIND_OTHER;
    }
}

static bool
is_number (enum kind k)
{
  return k == KIND_INT || k == KIND_FLOAT;
}

/* -1, 0 or 1 for two values of one ordered kind (numbers of either
 * kind compare by value, which Go would refuse for int against float). */
static int
compare_ordered (json_object *x, json_object *y, enum kind kx, enum kind ky)
{
  if (kx == KIND_STRING)
    {
      size_t lx = (size_t) json_object_get_string_len (x);
      size_t ly = (size_t) json_object_get_string_len (y);
      int r = memcmp (json_object_get_string (x), json_object_get_string (y),
                      lx < ly ? lx : ly);
      return r != 0 ? (r < 0 ? -1 : 1) : (lx > ly) - (lx < ly);
    }
  if (kx == KIND_INT && ky == KIND_INT)
    {
      int64_t a = json_object_get_int64 (x), b = json_object_get_int64 (y);
      return (a > b) - (a < b);
    }
  {
    double a = json_object_get_double (x), b = json_object_get_double (y);
    return (a > b) - (a < b);
  }
}

static int
equal (struct gotmpl_call *c, json_object *x, json_object *y, bool *truth)
{
  enum kind kx = basic_kind (x), ky = basic_kind (y);

  if (kx != ky && !(is_number (kx) && is_number (ky)))
    {
      if (kx == KIND_NIL || ky == KIND_NIL)
        {
          *truth = false;
          return 0;
        }
      return gotmpl_call_fail (c, "incompatible types for comparison");
    }
  switch (kx)
    {
    case KIND_NIL:
      *truth = true;
      return 0;
    case KIND_BOOL:
      *truth = json_object_get_boolean (x) == json_object_get_boolean (y);
      return 0;
    case KIND_OTHER:
      return gotmpl_call_fail (c, "non-comparable type %s", gotmpl_type_name (x));
    default:
      *truth = compare_ordered (x, y, kx, ky) == 0;
      return 0;
    }
}

/* eq X Y Z...: true when X equals any of the others. */
static int
fn_eq (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  bool truth = false;

  if (n < 2)
    return gotmpl_call_fail (c, "missing argument for comparison");
  for (size_t i = 1; i < n && !truth; i++)
    if (equal (c, a[0], a[i], &truth) < 0)
      return -1;
  *out = json_object_new_boolean (truth);
  return 0;
}

static int
fn_ne (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  bool truth;

  (void) n;
  if (equal (c, a[0], a[1], &truth) < 0)
    return -1;
  *out = json_object_new_boolean (!truth);
  return 0;
}

/* Order of A[0] against A[1] in *CMP, or a failure for what does not
 * order. */
static int
order (struct gotmpl_call *c, json_object *const *a, int *cmp)
{
  enum kind kx = basic_kind (a[0]), ky = basic_kind (a[1]);

  if (kx == KIND_NIL || kx == KIND_OTHER || ky == KIND_NIL || ky == KIND_OTHER)
    return gotmpl_call_fail (c, "invalid type for comparison");
  if (kx != ky && !(is_number (kx) && is_number (ky)))
    return gotmpl_call_fail (c, "incompatible types for comparison");
  if (kx == KIND_BOOL)
    return gotmpl_call_fail (c, "invalid type for comparison");
  *cmp = compare_ordered (a[0], a[1], kx, ky);
  return 0;
}

#define ORDER_FN(name, test)                                                                  \
  static int name (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out) \
  {                                                                                           \
    int cmp;                                                                                  \
    (void) n;                                                                                 \
    if (order (c, a, &cmp) < 0)                                                               \
      return -1;                                                                              \
    *out = json_object_new_boolean (test);                                                    \
    return 0;                                                                                 \
  }

ORDER_FN (fn_lt, cmp < 0)
ORDER_FN (fn_le, cmp <= 0)
ORDER_FN (fn_gt, cmp > 0)
ORDER_FN (fn_ge, cmp >= 0)

/* ---- docker's and podman's -------------------------------------------- */

/* json: compact JSON without HTML escaping, as podman's encoder prints
 * it. */
static int
fn_json (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  cleanup_free char *s = NULL;

  (void) n;
  if (a[0] == NULL)
    return new_string (c, "null", 4, out);
  s = jobj_to_string (a[0], false);
  return new_string (c, s, strlen (s), out);
}

/* join: Go's strings.Join; elements that are not strings print as
 * print would show them. */
static int
fn_join (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  cleanup_buf struct buf b = BUF_INIT;
  const char *sep;
  size_t sep_len;

  (void) n;
  if (want_string (c, a[1], &sep, &sep_len) < 0)
    return -1;
  if (a[0] != NULL && !json_object_is_type (a[0], json_type_array))
    return gotmpl_call_fail (c, "wrong type for value; expected []string; got %s",
                             gotmpl_type_name (a[0]));
  for (size_t i = 0; a[0] && i < json_object_array_length (a[0]); i++)
    {
      if (i > 0)
        buf_append (&b, sep, sep_len);
      gotmpl_print_value (json_object_array_get_idx (a[0], i), &b);
      if (b.len > c->max_value)
        return gotmpl_call_fail (c, "result longer than %zu bytes", c->max_value);
    }
  return buf_result (c, &b, out);
}

/* split: Go's strings.Split; an empty separator splits into UTF-8
 * characters. */
static int
fn_split (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  const char *s, *sep;
  size_t len, sep_len, start = 0;
  json_object *r;

  (void) n;
  if (want_string (c, a[0], &s, &len) < 0 || want_string (c, a[1], &sep, &sep_len) < 0)
    return -1;
  if (gotmpl_call_charge (c, len) < 0)
    return -1;
  r = json_object_new_array ();
  for (size_t i = 0; sep_len == 0 && i < len; i++)
    if (i + 1 == len || ((unsigned char) s[i + 1] & 0xc0) != 0x80)
      {
        json_object_array_add (r, json_object_new_string_len (s + start, (int) (i + 1 - start)));
        start = i + 1;
      }
  if (sep_len > 0)
    {
      const char *hit;
      while ((hit = memmem (s + start, len - start, sep, sep_len)) != NULL)
        {
          json_object_array_add (r, json_object_new_string_len (s + start,
                                                                (int) (hit - s - (ptrdiff_t) start)));
          start = (size_t) (hit - s) + sep_len;
        }
      json_object_array_add (r, json_object_new_string_len (s + start, (int) (len - start)));
    }
  *out = r;
  return 0;
}

/* lower, upper, title: ASCII letters change, other bytes stay. */
static bool
is_word_byte (unsigned char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
         || ch == '_' || ch >= 0x80;
}

static int
change_case (struct gotmpl_call *c, json_object *v, int how, json_object **out)
{
  cleanup_free char *copy = NULL;
  const char *s;
  size_t len;
  unsigned char prev = ' ';

  if (want_string (c, v, &s, &len) < 0)
    return -1;
  copy = xstrndup (s, len);
  for (size_t i = 0; i < len; i++)
    {
      unsigned char ch = (unsigned char) copy[i];
      bool is_upper = how == 'U' || (how == 'T' && !is_word_byte (prev));
      if (is_upper && ch >= 'a' && ch <= 'z')
        copy[i] = (char) (ch - 'a' + 'A');
      else if (how == 'L' && ch >= 'A' && ch <= 'Z')
        copy[i] = (char) (ch - 'A' + 'a');
      prev = ch;
    }
  return new_string (c, copy, len, out);
}

static int
fn_lower (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  (void) n;
  return change_case (c, a[0], 'L', out);
}

static int
fn_upper (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  (void) n;
  return change_case (c, a[0], 'U', out);
}

static int
fn_title (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  (void) n;
  return change_case (c, a[0], 'T', out);
}

/* truncate S N: the first N bytes of S, as docker's truncateWithLength. */
static int
fn_truncate (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  const char *s;
  size_t len;
  int64_t max;

  (void) n;
  if (want_string (c, a[0], &s, &len) < 0 || want_int (c, a[1], &max) < 0)
    return -1;
  if (max < 0)
    return gotmpl_call_fail (c, "negative length %lld", (long long) max);
  return new_string (c, s, (uint64_t) max < len ? (size_t) max : len, out);
}

/* pad S L R: L spaces, S, R spaces; an empty S stays empty (docker's
 * padWithSpace). */
static int
fn_pad (struct gotmpl_call *c, json_object *const *a, size_t n, json_object **out)
{
  cleanup_buf struct buf b = BUF_INIT;
  const char *s;
  size_t len;
  int64_t left, right;

  (void) n;
  if (want_string (c, a[0], &s, &len) < 0 || want_int (c, a[1], &left) < 0
      || want_int (c, a[2], &right) < 0)
    return -1;
  if (left < 0 || right < 0)
    return gotmpl_call_fail (c, "negative repeat count");
  if (len == 0)
    return new_string (c, "", 0, out);
  if ((uint64_t) left > c->max_value || (uint64_t) right > c->max_value
      || len + (size_t) left + (size_t) right > c->max_value)
    return gotmpl_call_fail (c, "result longer than %zu bytes", c->max_value);
  buf_printf (&b, "%*s%.*s%*s", (int) left, "", (int) len, s, (int) right, "");
  return buf_result (c, &b, out);
}

/* ---- the table -------------------------------------------------------- */

static const struct gotmpl_func funcs[] = {
  { "and", 1, SIZE_MAX, NULL, false },
  { "eq", 1, SIZE_MAX, fn_eq, false },
  { "ge", 2, 2, fn_ge, false },
  { "gt", 2, 2, fn_gt, false },
  { "html", 0, SIZE_MAX, fn_html, false },
  { "index", 1, SIZE_MAX, fn_index, false },
  { "join", 2, 2, fn_join, true },
  { "js", 0, SIZE_MAX, fn_js, false },
  { "json", 1, 1, fn_json, true },
  { "le", 2, 2, fn_le, false },
  { "len", 1, 1, fn_len, false },
  { "lower", 1, 1, fn_lower, true },
  { "lt", 2, 2, fn_lt, false },
  { "ne", 2, 2, fn_ne, false },
  { "not", 1, 1, fn_not, false },
  { "or", 1, SIZE_MAX, NULL, false },
  { "pad", 3, 3, fn_pad, false },
  { "print", 0, SIZE_MAX, fn_print, false },
  { "printf", 1, SIZE_MAX, fn_printf, false },
  { "println", 0, SIZE_MAX, fn_println, false },
  { "slice", 1, SIZE_MAX, fn_slice, false },
  { "split", 2, 2, fn_split, true },
  { "title", 1, 1, fn_title, true },
  { "truncate", 2, 2, fn_truncate, true },
  { "upper", 1, 1, fn_upper, true },
  { "urlquery", 0, SIZE_MAX, fn_urlquery, false },
};

const struct gotmpl_func *
gotmpl_func_lookup (const char *name)
{
  for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
    if (strcmp (funcs[i].name, name) == 0)
      return &funcs[i];
  return NULL;
}
