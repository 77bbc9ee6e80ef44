/* cp's arguments and docker's rules for where a copy lands (see
 * container_copy.h).  Pure string work, no file system. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "container_copy.h"
#include "libutil/mem.h"

int
container_copy_parse_arg (const char *arg, struct container_copy_arg *out, struct error **err)
{
  const char *colon = strchr (arg, ':');

  memset (out, 0, sizeof *out);
  if (*arg == '\0')
    return err_make (err, 0, "empty path: give a host path or CONTAINER:PATH");
  if (colon == NULL || colon == arg || arg[0] == '.' || arg[0] == '/'
      || memchr (arg, '/', (size_t) (colon - arg)) != NULL)
    {
      out->path = xstrdup (arg);
      return 0;
    }
  out->container = xstrndup (arg, (size_t) (colon - arg));
  out->path = xstrdup (colon[1] ? colon + 1 : "/");
  return 0;
}

void
container_copy_arg_clear (struct container_copy_arg *a)
{
  free (a->container);
  free (a->path);
  memset (a, 0, sizeof *a);
}

void
container_copy_split (const char *path, struct container_copy_path *out)
{
  cleanup_free char *copy = xstrdup (path);
  size_t len = strlen (copy);
  char *slash;

  memset (out, 0, sizeof *out);
  while (len > 1 && copy[len - 1] == '/')
    {
      out->has_trailing_slash = true;
      copy[--len] = '\0';
    }
  slash = strrchr (copy, '/');
  if (strcmp (copy, "/") == 0 || strcmp (slash ? slash + 1 : copy, ".") == 0
      || strcmp (slash ? slash + 1 : copy, "..") == 0)
    {
      /* The directory itself, and "." names its contents. */
      out->is_contents = true;
      out->dir = xstrdup (copy);
      out->base = xstrdup (".");
      return;
    }
  out->base = xstrdup (slash ? slash + 1 : copy);
  if (slash == NULL)
    out->dir = xstrdup (".");
  else if (slash == copy)
    out->dir = xstrdup ("/");
  else
    out->dir = xstrndup (copy, (size_t) (slash - copy));
}

void
container_copy_path_clear (struct container_copy_path *p)
{
  free (p->dir);
  free (p->base);
  memset (p, 0, sizeof *p);
}

int
container_copy_plan (const char *dest, const struct container_copy_dest *state, const char *top,
                     bool is_top_dir, char **extract_dir, char **rename, struct error **err)
{
  struct container_copy_path d;
  bool is_contents = strcmp (top, ".") == 0;
  int r = 0;

  *extract_dir = *rename = NULL;
  container_copy_split (dest, &d);
  if (state->exists && state->is_dir)
    {
      *extract_dir = xstrdup (dest);
      *rename = is_contents ? xstrdup ("") : NULL;
    }
  else if (d.is_contents)
    r = err_make (err, state->exists ? ENOTDIR : ENOENT, "\"%s\"", dest);
  else if (state->exists && is_top_dir)
    r = err_make (err, 0, "cannot overwrite non-directory \"%s\" with a directory", dest);
  else if (state->exists && d.has_trailing_slash)
    r = err_make (err, ENOTDIR, "\"%s\"", dest);
  else if (!state->exists && !state->parent_exists)
    r = err_make (err, ENOENT, "\"%s\"", d.dir);
  else if (!state->exists && d.has_trailing_slash && !is_top_dir)
    r = err_make (err, 0, "destination directory \"%s\" does not exist", dest);
  else
    {
      *extract_dir = xstrdup (d.dir);
      *rename = xstrdup (d.base);
    }
  container_copy_path_clear (&d);
  return r;
}

char *
container_copy_rename (const char *entry, const char *top, const char *rename)
{
  size_t n = strlen (top);
  const char *rest;

  if (rename == NULL)
    return xstrdup (entry);
  if (strncmp (entry, top, n) != 0 || (entry[n] != '\0' && entry[n] != '/'))
    return NULL;
  rest = entry + n;
  while (*rest == '/')
    rest++;
  if (*rest == '\0')
    return *rename ? xstrdup (rename) : NULL;
  return *rename ? xasprintf ("%s/%s", rename, rest) : xstrdup (rest);
}

