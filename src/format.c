/* The field-access subset of Go templates; see format.h. */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "format.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"

bool
format_is_json (const char *format)
{
  cleanup_free char *f = str_strip (xstrdup (format));
  return strcmp (f, "json") == 0 || strcmp (f, "{{json .}}") == 0
         || strcmp (f, "{{ json . }}") == 0;
}

static json_object *
lookup_field (json_object *o, const char *name)
{
  if (!json_object_is_type (o, json_type_object))
    return NULL;
  json_object_object_foreach (o, key, val)
    if (strcasecmp (key, name) == 0)
      return val;
  return NULL;
}

static int
lookup_path (json_object *root, const char *path, json_object **out, struct error **err)
{
  cleanup_strv char **parts = NULL;

  if (strcmp (path, ".") == 0)
    {
      *out = root;
      return 0;
    }
  if (path[0] != '.')
    return err_make (err, 0, "template: unsupported action \"%s\": use {{.Field}} or "
                     "{{json .Field}}", path);
  parts = str_split (path + 1, '.');
  for (char **p = parts; *p; p++)
    {
      root = lookup_field (root, *p);
      if (root == NULL)
        return err_make (err, 0, "template: can't evaluate field %s in \"%s\"", *p, path);
    }
  *out = root;
  return 0;
}

static int
render_action (struct buf *b, json_object *root, const char *action, struct error **err)
{
  cleanup_free char *a = str_strip (xstrdup (action));
  const char *path = a;
  bool as_json = false;
  json_object *v = NULL;

  if (str_has_prefix (a, "json ") || str_has_prefix (a, "json\t"))
    {
      as_json = true;
      path = a + 5;
      while (isspace ((unsigned char) *path))
        path++;
    }
  if (lookup_path (root, path, &v, err) < 0)
    return -1;
  if (!as_json && json_object_is_type (v, json_type_string))
    buf_append_str (b, json_object_get_string (v));
  else
    {
      cleanup_free char *s = jobj_to_string (v, false);
      buf_append_str (b, s);
    }
  return 0;
}

int
format_render (json_object *root, const char *fmt, struct buf *out, struct error **err)
{
  const char *p = fmt;

  while (*p)
    {
      const char *open = strstr (p, "{{");
      const char *close;
      cleanup_free char *action = NULL;

      if (open == NULL)
        {
          buf_append_str (out, p);
          break;
        }
      buf_append (out, p, (size_t) (open - p));
      close = strstr (open + 2, "}}");
      if (close == NULL)
        return err_make (err, 0, "template: unclosed action in \"%s\"", fmt);
      action = xstrndup (open + 2, (size_t) (close - open - 2));
      if (render_action (out, root, action, err) < 0)
        return -1;
      p = close + 2;
    }
  return 0;
}

