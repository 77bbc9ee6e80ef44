/* The error chain: allocation, wrapping, printing.  See error.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mem.h"

static int
ret_for (const struct error *e)
{
  return e->errnum > 0 ? -e->errnum : -1;
}

static int
make_v (struct error **err, int code, int errnum, const char *fmt, va_list ap)
{
  struct error *e = xmalloc0 (sizeof *e);

  e->errnum = errnum;
  e->code = code;
  e->msg = xvasprintf (fmt, ap);
  if (err == NULL)
    {
      int r = ret_for (e);
      free (e->msg);
      free (e);
      return r;
    }
  err_release (err);
  *err = e;
  return ret_for (e);
}

int
err_make (struct error **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = make_v (err, 0, errnum, fmt, ap);
  va_end (ap);
  return r;
}

int
err_make_code (struct error **err, int code, int errnum, const char *fmt, ...)
{
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = make_v (err, code, errnum, fmt, ap);
  va_end (ap);
  return r;
}

int
err_wrap (struct error **err, const char *fmt, ...)
{
  cleanup_free char *prefix = NULL;
  struct error *e;
  va_list ap;

  if (err == NULL || *err == NULL)
    return -1;
  e = *err;
  va_start (ap, fmt);
  prefix = xvasprintf (fmt, ap);
  va_end (ap);
  char *joined = xasprintf ("%s: %s", prefix, e->msg);
  free (e->msg);
  e->msg = joined;
  return ret_for (e);
}

void
err_release (struct error **err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}

char *
err_text (const struct error *err)
{
  if (err->errnum > 0)
    return xasprintf ("%s: %s", err->msg, strerror (err->errnum));
  return xstrdup (err->msg);
}

void
err_print (const struct error *err, FILE *out)
{
  cleanup_free char *text = err_text (err);

  fprintf (out, "Error: %s\n", text);
  fflush (out);
}

int
err_exit_code (const struct error *err)
{
  return err->code ? err->code : 125;
}
