/* Growable buffers and the small string helpers everything else uses.
 * Allocation aborts on out-of-memory (mem.h), so nothing here can fail;
 * a size that would overflow size_t is treated the same way. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

#define BUF_MIN_CAP 64

static void __attribute__ ((noreturn))
size_overflow (void)
{
  /* Only a corrupted length gets here; treat it like out-of-memory. */
  fputs ("Error: buffer size overflow\n", stderr);
  abort ();
}

void
buf_reserve (struct buf *b, size_t extra)
{
  size_t need, cap;

  if (extra > SIZE_MAX - b->len - 1)
    size_overflow ();
  need = b->len + extra + 1; /* room for the NUL */
  if (need <= b->cap)
    return;
  cap = b->cap ? b->cap : BUF_MIN_CAP;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  b->data = xrealloc (b->data, cap);
  b->data[b->len] = '\0'; /* a first allocation holds "" */
  b->cap = cap;
}

void
buf_append (struct buf *b, const void *data, size_t len)
{
  buf_reserve (b, len);
  if (len > 0)
    memcpy (b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void
buf_append_str (struct buf *b, const char *s)
{
  buf_append (b, s, strlen (s));
}

void
buf_append_char (struct buf *b, char c)
{
  buf_append (b, &c, 1);
}

void
buf_append_utf8 (struct buf *b, uint32_t cp)
{
  char out[4];
  size_t n;

  if (cp < 0x80)
    out[0] = (char) cp, n = 1;
  else if (cp < 0x800)
    out[0] = (char) (0xc0 | (cp >> 6)), out[1] = (char) (0x80 | (cp & 0x3f)), n = 2;
  else if (cp < 0x10000)
    out[0] = (char) (0xe0 | (cp >> 12)), out[1] = (char) (0x80 | ((cp >> 6) & 0x3f)),
    out[2] = (char) (0x80 | (cp & 0x3f)), n = 3;
  else
    out[0] = (char) (0xf0 | (cp >> 18)), out[1] = (char) (0x80 | ((cp >> 12) & 0x3f)),
    out[2] = (char) (0x80 | ((cp >> 6) & 0x3f)), out[3] = (char) (0x80 | (cp & 0x3f)), n = 4;
  buf_append (b, out, n);
}

void
buf_vprintf (struct buf *b, const char *fmt, va_list ap)
{
  va_list ap2;
  int n;

  /* Try the free space first; most lines fit and need one pass. */
  buf_reserve (b, BUF_MIN_CAP);
  va_copy (ap2, ap);
  n = vsnprintf (b->data + b->len, b->cap - b->len, fmt, ap2);
  va_end (ap2);
  if (n < 0)
    {
      /* Only an invalid format gets here; keep the buffer as it was. */
      b->data[b->len] = '\0';
      return;
    }
  if ((size_t) n >= b->cap - b->len)
    {
      buf_reserve (b, (size_t) n);
      vsnprintf (b->data + b->len, b->cap - b->len, fmt, ap);
    }
  b->len += (size_t) n;
}

void
buf_printf (struct buf *b, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  buf_vprintf (b, fmt, ap);
  va_end (ap);
}

void
buf_truncate (struct buf *b, size_t len)
{
  if (len >= b->len)
    return;
  b->len = len;
  b->data[len] = '\0';
}

char *
buf_steal (struct buf *b)
{
  char *s = b->data ? b->data : xstrdup ("");

  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  return s;
}

void
buf_free (struct buf *b)
{
  free (b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

bool
str_has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

bool
str_has_suffix (const char *s, const char *suffix)
{
  size_t ls = strlen (s), lx = strlen (suffix);

  return lx <= ls && memcmp (s + ls - lx, suffix, lx) == 0;
}

char **
str_split (const char *s, char sep)
{
  size_t n = 1, i = 0;
  char **v;

  for (const char *p = s; *p; p++)
    if (*p == sep)
      n++;
  v = xcalloc (n + 1, sizeof *v);
  for (const char *p = s;; p++)
    if (*p == sep || *p == '\0')
      {
        v[i++] = xstrndup (s, (size_t) (p - s));
        if (*p == '\0')
          break;
        s = p + 1;
      }
  v[i] = NULL;
  return v;
}

char *
str_join (char *const *v, const char *sep)
{
  struct buf b = BUF_INIT;

  for (size_t i = 0; v && v[i]; i++)
    {
      if (i > 0)
        buf_append_str (&b, sep);
      buf_append_str (&b, v[i]);
    }
  return buf_steal (&b);
}

char *
str_strip (char *s)
{
  size_t start = 0, end = strlen (s);

  while (start < end && isspace ((unsigned char) s[start]))
    start++;
  while (end > start && isspace ((unsigned char) s[end - 1]))
    end--;
  memmove (s, s + start, end - start);
  s[end - start] = '\0';
  return s;
}

char *
str_quotable (const char *s, size_t len, size_t max)
{
  size_t n = len > max ? max : len;
  char *out = xmalloc (n + 4);

  for (size_t i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char) s[i];
      out[i] = (c < 0x20 || c == 0x7f || c == '"') ? '?' : (char) c;
    }
  strcpy (out + n, len > n ? "..." : "");
  return out;
}
