/* Sizes, durations and timestamps for people.  The thresholds follow
 * go-units so tables read the same as docker's. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "human.h"

void
human_size (uint64_t bytes, char *out, size_t len)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
  double v = (double) bytes;
  size_t u = 0;

  while (v >= 1000.0 && u + 1 < sizeof units / sizeof units[0])
    {
      v /= 1000.0;
      u++;
    }
  /* docker prints three significant digits: "4.26MB", "123kB". */
  snprintf (out, len, "%.3g%s", v, units[u]);
}

void
human_duration (int64_t seconds, char *out, size_t len)
{
  int64_t minutes = seconds / 60;
  int64_t hours = (seconds + 1800) / 3600; /* go-units rounds hours */

  if (seconds < 1)
    snprintf (out, len, "Less than a second");
  else if (seconds == 1)
    snprintf (out, len, "1 second");
  else if (seconds < 60)
    snprintf (out, len, "%lld seconds", (long long) seconds);
  else if (minutes == 1)
    snprintf (out, len, "About a minute");
  else if (minutes < 60)
    snprintf (out, len, "%lld minutes", (long long) minutes);
  else if (hours == 1)
    snprintf (out, len, "About an hour");
  else if (hours < 48)
    snprintf (out, len, "%lld hours", (long long) hours);
  else if (hours < 24 * 7 * 2)
    snprintf (out, len, "%lld days", (long long) (hours / 24));
  else if (hours < 24 * 30 * 2)
    snprintf (out, len, "%lld weeks", (long long) (hours / 24 / 7));
  else if (hours < 24 * 365 * 2)
    snprintf (out, len, "%lld months", (long long) (hours / 24 / 30));
  else
    snprintf (out, len, "%lld years", (long long) (hours / 24 / 365));
}

void
human_ago (time_t then, time_t now, char *out, size_t len)
{
  char d[64];

  human_duration (now > then ? (int64_t) (now - then) : 0, d, sizeof d);
  snprintf (out, len, "%s ago", d);
}

void
human_rfc3339 (int64_t seconds, long nanos, char *out, size_t len)
{
  time_t t = (time_t) seconds;
  struct tm tm;
  char base[64];

  gmtime_r (&t, &tm);
  strftime (base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  if (nanos > 0)
    {
      char frac[16];
      int n = snprintf (frac, sizeof frac, "%09ld", nanos);
      while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
      snprintf (out, len, "%s.%sZ", base, frac);
    }
  else
    snprintf (out, len, "%sZ", base);
}

static int
digits (const char **p, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++)
    {
      if (!isdigit ((unsigned char) (*p)[i]))
        return -1;
      v = v * 10 + ((*p)[i] - '0');
    }
  *p += n;
  *out = v;
  return 0;
}

static int
expect (const char **p, char c)
{
  if (**p != c && !(c == 'T' && (**p == 't' || **p == ' ')))
    return -1;
  (*p)++;
  return 0;
}

int
human_parse_rfc3339 (const char *s, int64_t *seconds, long *nanos)
{
  struct tm tm = { 0 };
  int y, mo, d, h, mi, sec, off = 0;
  long ns = 0;

  if (digits (&s, 4, &y) < 0 || expect (&s, '-') < 0 || digits (&s, 2, &mo) < 0
      || expect (&s, '-') < 0 || digits (&s, 2, &d) < 0 || expect (&s, 'T') < 0
      || digits (&s, 2, &h) < 0 || expect (&s, ':') < 0 || digits (&s, 2, &mi) < 0
      || expect (&s, ':') < 0 || digits (&s, 2, &sec) < 0)
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return -1;
  if (*s == '.')
    {
      int n = 0;
      s++;
      if (!isdigit ((unsigned char) *s))
        return -1;
      for (; isdigit ((unsigned char) *s); s++, n++)
        if (n < 9)
          ns = ns * 10 + (*s - '0');
      for (; n < 9; n++)
        ns *= 10;
    }
  if (*s == 'Z' || *s == 'z')
    s++;
  else if (*s == '+' || *s == '-')
    {
      int sign = *s == '-' ? -1 : 1, oh, om;
      s++;
      if (digits (&s, 2, &oh) < 0 || expect (&s, ':') < 0 || digits (&s, 2, &om) < 0)
        return -1;
      off = sign * (oh * 3600 + om * 60);
    }
  else
    return -1;
  if (*s != '\0')
    return -1;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  *seconds = (int64_t) timegm (&tm) - off;
  if (nanos)
    *nanos = ns;
  return 0;
}
