/* The one logger.  Levels follow podman's --log-level names; the default is
 * warn.  Lines go to stderr (or the file set with log_set_fd(), as the
 * monitor does) in one shape: "level: message". */
#ifndef SKIFF_LIBUTIL_LOG_H
#define SKIFF_LIBUTIL_LOG_H

#include <stdbool.h>

enum log_level
{
  LOG_LEVEL_ERROR = 0,
  LOG_LEVEL_WARN = 1,
  LOG_LEVEL_INFO = 2,
  LOG_LEVEL_DEBUG = 3,
};

extern enum log_level log_current_level;

/* Parse a level name ("error", "warn"/"warning", "info", "debug", and
 * podman's "trace", "fatal", "panic" mapped to the nearest).  Returns
 * negative for an unknown name. */
int log_parse_level (const char *name, enum log_level *out);
void log_set_level (enum log_level level);
/* Send log lines to FD instead of stderr; -1 restores stderr. */
void log_set_fd (int fd);

void log_print (enum log_level level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#define log_enabled(lvl) (__builtin_expect (log_current_level >= (lvl), 0))
#define log_error(...) log_print (LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_print (LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)                                                     \
  do { if (log_enabled (LOG_LEVEL_INFO)) log_print (LOG_LEVEL_INFO, __VA_ARGS__); } while (0)
#define log_debug(...)                                                    \
  do { if (log_enabled (LOG_LEVEL_DEBUG)) log_print (LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)

#endif
