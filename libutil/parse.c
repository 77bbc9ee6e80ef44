/* Parsers for the small value syntaxes of the command line: docker's sizes,
 * Go's durations, key=value items and bounded integers.  Their input comes
 * from users and from image configs, so each rejects anything it does not
 * fully understand rather than guessing. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mem.h"
#include "parse.h"

/* Wide enough for a fraction (< 10^18) times a unit (< 2^63). */
__extension__ typedef unsigned __int128 u128;

/* Fraction digits beyond this many change a result by less than a unit's
 * 1e-18 part; they are checked but not accumulated. */
#define FRAC_DIGITS_MAX 18

/* A decimal number "D+[.D+]" (or, when LEADING_DOT, also ".D+") at *P:
 * integer part, fraction digits and their scale (10^n).  Advances *P.
 * Returns -1 when there are no digits, -2 on integer overflow. */
static int
scan_decimal (const char **p, bool leading_dot, uint64_t *ip, uint64_t *frac,
              uint64_t *scale)
{
  const char *s = *p;
  bool has_int = false, has_frac = false;

  *ip = 0;
  *frac = 0;
  *scale = 1;
  for (; isdigit ((unsigned char) *s); s++)
    {
      unsigned d = (unsigned) (*s - '0');
      if (*ip > (UINT64_MAX - d) / 10)
        return -2;
      *ip = *ip * 10 + d;
      has_int = true;
    }
  if (*s == '.' && (has_int || leading_dot))
    {
      int n = 0;
      for (s++; isdigit ((unsigned char) *s); s++, n++)
        if (n < FRAC_DIGITS_MAX)
          {
            *frac = *frac * 10 + (uint64_t) (*s - '0');
            *scale *= 10;
          }
      has_frac = n > 0;
      if (!has_frac && !leading_dot)
        return -1; /* "1." is not a size */
    }
  if (!has_int && !has_frac)
    return -1;
  *p = s;
  return 0;
}

/* IP.FRAC (FRAC/SCALE) times UNIT, when it fits in [0, LIMIT]. */
static int
scale_by (uint64_t ip, uint64_t frac, uint64_t scale, uint64_t unit, uint64_t limit,
          uint64_t *out)
{
  u128 v = (u128) ip * unit + (u128) frac * unit / scale;

  if (v > limit)
    return -1;
  *out = (uint64_t) v;
  return 0;
}

/* ---- sizes -------------------------------------------------------------- */

/* The multiplier of a size suffix: "", "b", or one of k m g t p followed by
 * nothing, "b" or "ib", in any case. */
static int
size_unit (const char *u, uint64_t *mult)
{
  static const char letters[] = "kmgtp";
  const char *l;

  *mult = 1;
  if (*u == '\0' || strcasecmp (u, "b") == 0)
    return 0;
  l = strchr (letters, tolower ((unsigned char) *u));
  if (l == NULL)
    return -1;
  u++;
  if (*u != '\0' && strcasecmp (u, "b") != 0 && strcasecmp (u, "ib") != 0)
    return -1;
  for (const char *x = letters; x <= l; x++)
    *mult *= 1024;
  return 0;
}

int
parse_size (const char *s, uint64_t *out, struct error **err)
{
  uint64_t ip, frac, scale, mult;
  const char *p = s;
  int r;

  if (s == NULL || *s == '\0')
    return err_make (err, 0, "invalid size \"\": expected a number with an optional unit");
  r = scan_decimal (&p, false, &ip, &frac, &scale);
  if (r == -2)
    return err_make (err, 0, "invalid size \"%s\": too large", s);
  /* docker allows one space before the unit ("10 MB"). */
  if (r == 0 && p[0] == ' ' && p[1] != '\0')
    p++;
  if (r < 0 || size_unit (p, &mult) < 0)
    return err_make (err, 0,
                     "invalid size \"%s\": expected a number with an optional unit b, k, m, "
                     "g, t or p (for example 512m)",
                     s);
  /* Sizes end up in off_t and in int64 JSON fields: cap at INT64_MAX. */
  if (scale_by (ip, frac, scale, mult, INT64_MAX, out) < 0)
    return err_make (err, 0, "invalid size \"%s\": too large", s);
  return 0;
}

/* ---- durations ---------------------------------------------------------- */

#define NS_PER_US 1000ULL
#define NS_PER_MS (1000ULL * NS_PER_US)
#define NS_PER_S (1000ULL * NS_PER_MS)

static const struct
{
  const char *name;
  uint64_t ns;
} duration_units[] = {
  { "ns", 1 },
  { "us", NS_PER_US },
  { "\xc2\xb5s", NS_PER_US }, /* U+00B5 micro sign, as Go accepts */
  { "\xce\xbcs", NS_PER_US }, /* U+03BC Greek mu */
  { "ms", NS_PER_MS },
  { "s", NS_PER_S },
  { "m", 60 * NS_PER_S },
  { "h", 3600 * NS_PER_S },
};

/* The unit at *P: everything up to the next digit or '.'.  Advances *P. */
static int
duration_unit (const char **p, uint64_t *ns)
{
  size_t len = strcspn (*p, "0123456789.");

  for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++)
    if (strlen (duration_units[i].name) == len
        && memcmp (*p, duration_units[i].name, len) == 0)
      {
        *ns = duration_units[i].ns;
        *p += len;
        return 0;
      }
  return -1;
}

static int
bad_duration (const char *s, const char *why, struct error **err)
{
  return err_make (err, 0,
                   "invalid duration \"%s\": %s (use a number with a unit such as 10s, "
                   "1m30s or 500ms)",
                   s, why);
}

/* Go's time.ParseDuration ("1h2m3.5s", "-1.5h", "0"), and a bare number as
 * seconds.  Overflow beyond int64 nanoseconds (about 292 years) fails. */
int
parse_duration (const char *s, int64_t *out_ns, struct error **err)
{
  const char *p = s;
  uint64_t total = 0;
  bool neg = false;

  if (s == NULL || *s == '\0')
    return bad_duration ("", "empty", err);
  if (*p == '-' || *p == '+')
    neg = *p++ == '-';
  if (*p == '\0')
    return bad_duration (s, "no number", err);
  for (bool first = true; *p; first = false)
    {
      uint64_t ip, frac, scale, unit, v;
      int r = scan_decimal (&p, true, &ip, &frac, &scale);

      if (r == -2)
        return bad_duration (s, "too large", err);
      if (r < 0)
        return bad_duration (s, "expected a number", err);
      if (*p == '\0' && first)
        unit = NS_PER_S; /* a bare number: seconds, as docker's --time */
      else if (duration_unit (&p, &unit) < 0)
        return bad_duration (s, *p == '\0' || isdigit ((unsigned char) *p) || *p == '.'
                                    ? "missing unit"
                                    : "unknown unit",
                             err);
      if (scale_by (ip, frac, scale, unit, (uint64_t) INT64_MAX + 1, &v) < 0
          || v > (uint64_t) INT64_MAX + 1 - total)
        return bad_duration (s, "too large", err);
      total += v;
    }
  if (!neg && total > INT64_MAX)
    return bad_duration (s, "too large", err);
  *out_ns = neg ? (int64_t) (0 - total) : (int64_t) total;
  return 0;
}

/* ---- key=value ---------------------------------------------------------- */

int
parse_kv (const char *s, bool allow_bare, char **key, char **value, struct error **err)
{
  const char *eq;

  if (s == NULL || *s == '\0')
    return err_make (err, 0, "invalid \"\": expected KEY=VALUE");
  eq = strchr (s, '=');
  if (eq == s)
    return err_make (err, 0, "invalid \"%s\": empty key", s);
  if (eq == NULL && !allow_bare)
    return err_make (err, 0, "invalid \"%s\": expected KEY=VALUE", s);
  if (eq == NULL)
    {
      *key = xstrdup (s);
      *value = NULL;
      return 0;
    }
  *key = xstrndup (s, (size_t) (eq - s));
  *value = xstrdup (eq + 1);
  return 0;
}

int
parse_kv_list (const char *s, char ***keys, char ***values, struct error **err)
{
  cleanup_strv char **items = NULL;
  cleanup_strv char **k = NULL;
  cleanup_strv char **v = NULL;
  size_t n;

  if (s == NULL)
    return err_make (err, 0, "invalid key=value list: none given");
  items = *s ? str_split (s, ',') : xcalloc (1, sizeof *items);
  n = strv_len (items);
  k = xcalloc (n + 1, sizeof *k);
  v = xcalloc (n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    if (parse_kv (items[i], false, &k[i], &v[i], err) < 0)
      return err_wrap (err, "in \"%s\"", s);
  *keys = steal_ptr (&k);
  *values = steal_ptr (&v);
  return 0;
}

/* ---- integers ----------------------------------------------------------- */

int
parse_uint (const char *s, uint64_t max, const char *what, uint64_t *out, struct error **err)
{
  uint64_t v = 0;

  if (what == NULL)
    what = "number";
  if (s == NULL || *s == '\0')
    return err_make (err, 0, "invalid %s \"\": expected a non-negative integer", what);
  for (const char *p = s; *p; p++)
    {
      unsigned d = (unsigned) (*p - '0');
      if (!isdigit ((unsigned char) *p))
        return err_make (err, 0, "invalid %s \"%s\": expected a non-negative integer", what, s);
      if (v > (UINT64_MAX - d) / 10)
        return err_make (err, 0, "invalid %s \"%s\": at most %" PRIu64 " allowed", what, s,
                         max);
      v = v * 10 + d;
    }
  if (v > max)
    return err_make (err, 0, "invalid %s \"%s\": at most %" PRIu64 " allowed", what, s, max);
  *out = v;
  return 0;
}

int
parse_hex_digit (int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}
