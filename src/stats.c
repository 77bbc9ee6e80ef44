/* /proc parsers and the CPU % arithmetic for `skiff stats`. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* Parse one unsigned decimal at *P, skipping leading blanks; advance *P
 * past it. */
static int
parse_u64 (const char **p, uint64_t *out)
{
  const char *s = *p;
  char *end;
  unsigned long long v;

  while (*s == ' ' || *s == '\t')
    s++;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno != 0)
    return -1;
  *out = v;
  *p = end;
  return 0;
}

/* Skip N blank-separated fields at *P. */
static int
skip_fields (const char **p, int n)
{
  const char *s = *p;

  for (int i = 0; i < n; i++)
    {
      while (*s == ' ')
        s++;
      if (*s == '\0' || *s == '\n')
        return -1;
      while (*s != '\0' && *s != ' ' && *s != '\n')
        s++;
    }
  *p = s;
  return 0;
}

int
stats_parse_proc_stat (const char *text, uint64_t *ticks)
{
  const char *p = strrchr (text, ')');
  uint64_t utime, stime;

  /* After ")" come field 3 (state) to 13; utime and stime are 14 and 15. */
  if (p == NULL)
    return -1;
  p++;
  if (skip_fields (&p, 11) < 0 || parse_u64 (&p, &utime) < 0 || parse_u64 (&p, &stime) < 0)
    return -1;
  if (utime > UINT64_MAX - stime)
    return -1;
  *ticks = utime + stime;
  return 0;
}

int
stats_parse_statm (const char *text, uint64_t *pages)
{
  const char *p = text;
  uint64_t size;

  if (parse_u64 (&p, &size) < 0 || parse_u64 (&p, pages) < 0)
    return -1;
  return 0;
}

int
stats_parse_net_dev (const char *text, uint64_t *rx, uint64_t *tx)
{
  const char *line = text;
  uint64_t sum_rx = 0, sum_tx = 0;
  int n = 0;

  for (; line && *line; line = strchr (line, '\n'), line = line ? line + 1 : NULL)
    {
      const char *colon, *name, *p;
      const char *eol = strchr (line, '\n');
      uint64_t r, t;
      size_t name_len;

      /* The two header lines hold '|' where interface lines hold ':'. */
      if (n++ < 2)
        continue;
      if (eol == line)
        continue;
      colon = strchr (line, ':');
      if (colon == NULL || (eol && colon > eol))
        return -1;
      for (name = line; *name == ' '; name++)
        ;
      name_len = colon - name;
      p = colon + 1;
      if (parse_u64 (&p, &r) < 0 || skip_fields (&p, 7) < 0 || parse_u64 (&p, &t) < 0)
        return -1;
      if (name_len == 2 && strncmp (name, "lo", 2) == 0)
        continue;
      if (r > UINT64_MAX - sum_rx || t > UINT64_MAX - sum_tx)
        return -1;
      sum_rx += r;
      sum_tx += t;
    }
  if (n < 2)
    return -1;
  *rx = sum_rx;
  *tx = sum_tx;
  return 0;
}

/* The value of "KEY:" at the start of a line of TEXT. */
static int
find_key (const char *text, const char *key, uint64_t *out)
{
  size_t klen = strlen (key);

  for (const char *line = text; line; line = strchr (line, '\n'), line = line ? line + 1 : NULL)
    if (strncmp (line, key, klen) == 0 && line[klen] == ':')
      {
        const char *p = line + klen + 1;
        return parse_u64 (&p, out);
      }
  return -1;
}

int
stats_parse_io (const char *text, uint64_t *read_bytes, uint64_t *write_bytes)
{
  uint64_t r, w;

  if (find_key (text, "read_bytes", &r) < 0 || find_key (text, "write_bytes", &w) < 0)
    return -1;
  *read_bytes = r;
  *write_bytes = w;
  return 0;
}

int
stats_parse_meminfo_total (const char *text, uint64_t *bytes)
{
  uint64_t kb;

  if (find_key (text, "MemTotal", &kb) < 0 || kb > UINT64_MAX / 1024)
    return -1;
  *bytes = kb * 1024;
  return 0;
}

double
stats_cpu_percent (uint64_t ticks_delta, long ticks_per_sec, int64_t wall_ns)
{
  if (wall_ns <= 0 || ticks_per_sec <= 0)
    return 0.0;
  return (double) ticks_delta / (double) ticks_per_sec * 1e9 / (double) wall_ns * 100.0;
}

void
stats_binary_size (uint64_t bytes, char *out, size_t len)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  double v = (double) bytes;
  size_t i = 0;

  while (v >= 1024.0 && i + 1 < sizeof units / sizeof *units)
    {
      v /= 1024.0;
      i++;
    }
  snprintf (out, len, "%.4g%s", v, units[i]);
}
