/* JSON over json-c: strict parsing of untrusted input with errors that say
 * what was being parsed and where it went wrong, typed lookups, and
 * serialisation written atomically. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "jobj.h"
#include "mem.h"

#define JOBJ_FILE_MAX_DEFAULT ((size_t) 64 << 20)

void
jobj_putp (json_object **o)
{
  if (*o)
    json_object_put (*o);
  *o = NULL;
}

static bool
only_whitespace (const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
      return false;
  return true;
}

/* Parse with json-c's tokener.  A top-level number or literal ("123",
 * "true") is only complete once the tokener sees what follows it, so at
 * the end of DATA it reports "continue"; feeding it the terminating NUL
 * json_tokener_parse() would have passed finishes it. */
static json_object *
tokenize (const char *data, size_t len, const char *what, struct error **err)
{
  json_tokener *tok = json_tokener_new ();
  enum json_tokener_error jerr;
  json_object *o;
  size_t end;

  if (tok == NULL)
    return err_make (err, ENOMEM, "parse %s", what), NULL;
  /* Strict: registries and our own files write standard JSON, and a
   * lenient parser is more attack surface for hostile input. */
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  o = json_tokener_parse_ex (tok, data, (int) len);
  jerr = json_tokener_get_error (tok);
  end = json_tokener_get_parse_end (tok);
  if (o == NULL && jerr == json_tokener_continue)
    {
      o = json_tokener_parse_ex (tok, "", 1);
      jerr = json_tokener_get_error (tok);
      end = len;
    }
  json_tokener_free (tok);
  /* json-c represents null as NULL, which would read as a failure. */
  if (o == NULL && jerr == json_tokener_success)
    return err_make (err, 0, "parse %s: the document is null", what), NULL;
  if (o == NULL)
    return err_make (err, 0, "parse %s: %s at offset %zu", what,
                     json_tokener_error_desc (jerr), end),
           NULL;
  /* An embedded NUL stops the tokener early without an error. */
  if (end < len && !only_whitespace (data + end, len - end))
    {
      json_object_put (o);
      return err_make (err, 0, "parse %s: unexpected data after the JSON value at offset %zu",
                       what, end),
             NULL;
    }
  return o;
}

json_object *
jobj_parse (const char *data, size_t len, const char *what, struct error **err)
{
  if (what == NULL)
    what = "JSON";
  if (len == 0 || only_whitespace (data, len))
    return err_make (err, 0, "parse %s: empty input", what), NULL;
  /* json-c takes an int length. */
  if (len >= INT_MAX)
    return err_make (err, EFBIG, "parse %s", what), NULL;
  return tokenize (data, len, what, err);
}

json_object *
jobj_parse_file (const char *path, size_t max, struct error **err)
{
  cleanup_free char *data = NULL;
  cleanup_free char *what = NULL;
  size_t len = 0;

  data = fs_read_file (path, max ? max : JOBJ_FILE_MAX_DEFAULT, &len, err);
  if (data == NULL)
    return NULL;
  what = xasprintf ("\"%s\"", path);
  return jobj_parse (data, len, what, err);
}

static json_object *
get_typed (json_object *o, const char *key, json_type type)
{
  json_object *v = NULL;

  if (o == NULL || !json_object_object_get_ex (o, key, &v))
    return NULL;
  return json_object_is_type (v, type) ? v : NULL;
}

const char *
jobj_get_string (json_object *o, const char *key)
{
  json_object *v = get_typed (o, key, json_type_string);

  return v ? json_object_get_string (v) : NULL;
}

json_object *
jobj_get_object (json_object *o, const char *key)
{
  return get_typed (o, key, json_type_object);
}

json_object *
jobj_get_array (json_object *o, const char *key)
{
  return get_typed (o, key, json_type_array);
}

int64_t
jobj_get_int (json_object *o, const char *key, int64_t def)
{
  json_object *v = get_typed (o, key, json_type_int);

  return v ? json_object_get_int64 (v) : def;
}

bool
jobj_get_bool (json_object *o, const char *key, bool def)
{
  json_object *v = get_typed (o, key, json_type_boolean);

  return v ? json_object_get_boolean (v) : def;
}

const char *
jobj_require_string (json_object *o, const char *key, const char *what, struct error **err)
{
  json_object *v = NULL;

  if (what == NULL)
    what = "JSON";
  if (!json_object_is_type (o, json_type_object))
    return err_make (err, 0, "%s: expected an object, got %s", what,
                     json_type_to_name (json_object_get_type (o))),
           NULL;
  if (!json_object_object_get_ex (o, key, &v))
    return err_make (err, 0, "%s: missing \"%s\"", what, key), NULL;
  if (!json_object_is_type (v, json_type_string))
    return err_make (err, 0, "%s: \"%s\" must be a string, not %s", what, key,
                     json_type_to_name (json_object_get_type (v))),
           NULL;
  return json_object_get_string (v);
}

char *
jobj_to_string (json_object *o, bool pretty)
{
  /* Slashes unescaped, as docker and podman print them ("a/b", not
   * "a\/b"); both forms are valid JSON. */
  int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

  flags |= pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
  return xstrdup (json_object_to_json_string_ext (o, flags));
}

int
jobj_write_file (const char *path, json_object *o, bool pretty, struct error **err)
{
  cleanup_free char *s = jobj_to_string (o, pretty);

  return fs_write_atomic (path, s, strlen (s), 0600, err);
}

json_object *
jobj_copy (json_object *o)
{
  json_object *out = NULL;

  if (o == NULL)
    return json_object_new_object ();
  if (json_object_deep_copy (o, &out, NULL) < 0)
    abort ();
  return out;
}
