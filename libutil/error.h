/* The one error type of skiff: an errno value (0 when the failure is not a
 * system error) and a message chain.  A function that fails fills *err and
 * returns a negative value (or NULL); on success it leaves *err alone.
 * Callers add context on the way up with err_wrap(); main.c prints the chain
 * once with err_print() and chooses the exit code. */
#ifndef SKIFF_LIBUTIL_ERROR_H
#define SKIFF_LIBUTIL_ERROR_H

#include <stdio.h>

struct error
{
  int errnum;  /* errno of the root cause, 0 when none */
  int code;    /* exit status the CLI should use, 0 means the default 125 */
  char *msg;   /* "context: context: cause" */
};

/* Fill *err with a new error.  Returns -1 (or -errnum when errnum > 0) so a
 * failure is one line.  When *err is already set, the old one is released
 * first.  Safe after fork (it allocates, so not in a signal handler). */
int err_make (struct error **err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Same as err_make() but also records the exit status the CLI should use
 * (126, 127, or a container's status). */
int err_make_code (struct error **err, int code, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

/* Prefix context to an existing error: "context: old message".  Keeps errno
 * and code.  Returns the same negative value err_make() would have. */
int err_wrap (struct error **err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Release an error a caller has handled; *err becomes NULL. */
void err_release (struct error **err);

/* The full message with the errno text appended ("msg: No such file"),
 * newly allocated. */
char *err_text (const struct error *err);

/* Print "Error: <text>\n" to OUT. */
void err_print (const struct error *err, FILE *out);

/* The exit status for this error: err->code when set, otherwise 125. */
int err_exit_code (const struct error *err);

#define cleanup_error __attribute__ ((cleanup (err_release)))

#endif
