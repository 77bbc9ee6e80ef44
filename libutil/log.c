/* Leveled logging.  The line shape is decided here and only here. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

enum log_level log_current_level = LOG_LEVEL_WARN;
static int log_fd = -1;

static const struct
{
  const char *name;
  enum log_level level;
} level_names[] = {
  { "panic", LOG_LEVEL_ERROR }, { "fatal", LOG_LEVEL_ERROR },
  { "error", LOG_LEVEL_ERROR }, { "warn", LOG_LEVEL_WARN },
  { "warning", LOG_LEVEL_WARN }, { "info", LOG_LEVEL_INFO },
  { "debug", LOG_LEVEL_DEBUG }, { "trace", LOG_LEVEL_DEBUG },
};

static const char *const level_labels[] = { "error", "warning", "info", "debug" };

int
log_parse_level (const char *name, enum log_level *out)
{
  for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
    if (strcasecmp (name, level_names[i].name) == 0)
      {
        *out = level_names[i].level;
        return 0;
      }
  return -1;
}

void
log_set_level (enum log_level level)
{
  log_current_level = level;
}

void
log_set_fd (int fd)
{
  log_fd = fd;
}

void
log_print (enum log_level level, const char *fmt, ...)
{
  char line[4096];
  int saved = errno;
  va_list ap;
  int n, r;

  if (level > log_current_level)
    return;
  /* A level beyond the table (a caller's arithmetic) prints as debug
   * rather than reading past level_labels. */
  if ((unsigned) level > LOG_LEVEL_DEBUG)
    level = LOG_LEVEL_DEBUG;
  n = snprintf (line, sizeof line, "%s: ", level_labels[level]);
  va_start (ap, fmt);
  r = vsnprintf (line + n, sizeof line - n - 1, fmt, ap);
  va_end (ap);
  /* An encoding error leaves the label alone on the line. */
  if (r > 0)
    n += r;
  if (n > (int) sizeof line - 2)
    n = sizeof line - 2;
  line[n++] = '\n';
  /* One write per line so concurrent writers do not interleave. */
  ssize_t w = write (log_fd >= 0 ? log_fd : 2, line, n);
  (void) w;
  errno = saved;
}
