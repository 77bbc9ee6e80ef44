/* Dockerfile change instructions (`import --change`), applied to the
 * "config" object of an image config.  Pure JSON work: nothing here
 * touches the store or the file system, so `commit` and `build` can apply
 * the same instructions. */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "image_archive_internal.h"
#include "image_change.h"
#include "libutil/buf.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/parse.h"

/* VALUE as a JSON array of strings (the exec form), or NULL. */
static json_object *
exec_form (const char *value)
{
  json_object *o;

  if (value[0] != '[')
    return NULL;
  o = jobj_parse (value, strlen (value), "change", NULL);
  if (o == NULL)
    return NULL;
  if (!json_object_is_type (o, json_type_array))
    {
      json_object_put (o);
      return NULL;
    }
  for (size_t i = 0; i < json_object_array_length (o); i++)
    if (!json_object_is_type (json_object_array_get_idx (o, i), json_type_string))
      {
        json_object_put (o);
        return NULL;
      }
  return o;
}

/* The exec form, or the shell form run by /bin/sh -c. */
static json_object *
command_form (const char *value)
{
  json_object *o = exec_form (value);

  if (o != NULL)
    return o;
  o = json_object_new_array ();
  json_object_array_add (o, json_object_new_string ("/bin/sh"));
  json_object_array_add (o, json_object_new_string ("-c"));
  json_object_array_add (o, json_object_new_string (value));
  return o;
}

/* CONFIG[KEY] when it has TYPE; otherwise a new empty one put there. */
static json_object *
member_of_type (json_object *config, const char *key, json_type type)
{
  json_object *v = NULL;

  if (json_object_object_get_ex (config, key, &v) && json_object_is_type (v, type))
    return v;
  v = type == json_type_array ? json_object_new_array () : json_object_new_object ();
  json_object_object_add (config, key, v);
  return v;
}

/* Words as a Dockerfile splits ENV, LABEL and VOLUME arguments: blanks
 * separate, quotes group, a backslash escapes the next character (inside
 * double quotes only '"' and '\'; inside single quotes nothing). */
static int
split_words (const char *value, char ***out, struct error **err)
{
  cleanup_strv char **words = xcalloc (1, sizeof *words);
  const char *p = value;

  for (;;)
    {
      cleanup_buf struct buf w = BUF_INIT;
      char quote = 0;

      while (isspace ((unsigned char) *p))
        p++;
      if (*p == '\0')
        break;
      for (; *p && (quote || !isspace ((unsigned char) *p)); p++)
        {
          if (quote == 0 && (*p == '"' || *p == '\''))
            quote = *p;
          else if (quote && *p == quote)
            quote = 0;
          else if (*p == '\\' && quote != '\'' && p[1] != '\0'
                   && (quote == 0 || p[1] == '"' || p[1] == '\\'))
            buf_append_char (&w, *++p);
          else
            buf_append_char (&w, *p);
        }
      if (quote)
        return err_make (err, 0, "unterminated %s quote", quote == '"' ? "double" : "single");
      words = strv_append (words, w.data ? w.data : "");
    }
  *out = steal_ptr (&words);
  return 0;
}

/* KEY=VALUE pairs (every word) or the legacy "KEY VALUE..." form, where
 * the value is the rest of the line. */
static int
parse_pairs (const char *what, const char *value, char ***keys, char ***values,
             struct error **err)
{
  cleanup_strv char **words = NULL, **k = xcalloc (1, sizeof *k), **v = xcalloc (1, sizeof *v);

  if (split_words (value, &words, err) < 0)
    return -1;
  if (words[0] == NULL)
    return err_make (err, 0, "%s needs KEY=VALUE", what);
  if (strchr (words[0], '=') == NULL)
    {
      const char *rest = value + strcspn (value, " \t\r\n\v\f");

      while (isspace ((unsigned char) *rest))
        rest++;
      if (*rest == '\0')
        return err_make (err, 0, "%s needs a value for \"%s\"", what, words[0]);
      k = strv_append (k, words[0]);
      v = strv_append (v, rest);
    }
  else
    for (char **w = words; *w; w++)
      {
        char *eq = strchr (*w, '=');
        cleanup_free char *key = NULL;

        if (eq == NULL)
          return err_make (err, 0, "%s: \"%s\" is not KEY=VALUE", what, *w);
        if (eq == *w)
          return err_make (err, 0, "%s: empty key in \"%s\"", what, *w);
        key = xstrndup (*w, (size_t) (eq - *w));
        k = strv_append (k, key);
        v = strv_append (v, eq + 1);
      }
  *keys = steal_ptr (&k);
  *values = steal_ptr (&v);
  return 0;
}

static int
change_cmd (json_object *config, const char *value, struct error **err)
{
  if (*value == '\0')
    return err_make (err, 0, "CMD needs a command");
  json_object_object_add (config, "Cmd", command_form (value));
  return 0;
}

static int
change_entrypoint (json_object *config, const char *value, struct error **err)
{
  (void) err;
  /* An empty ENTRYPOINT clears it, as "ENTRYPOINT []" does. */
  json_object_object_add (config, "Entrypoint",
                          *value ? command_form (value) : json_object_new_array ());
  return 0;
}

static void
set_env (json_object *env, const char *key, const char *value)
{
  size_t klen = strlen (key);
  char *entry = xasprintf ("%s=%s", key, value);

  for (size_t i = 0; i < json_object_array_length (env); i++)
    {
      const char *s = json_object_get_string (json_object_array_get_idx (env, i));
      if (s && strncmp (s, key, klen) == 0 && s[klen] == '=')
        {
          json_object_array_put_idx (env, i, json_object_new_string (entry));
          free (entry);
          return;
        }
    }
  json_object_array_add (env, json_object_new_string (entry));
  free (entry);
}

static int
change_env (json_object *config, const char *value, struct error **err)
{
  cleanup_strv char **keys = NULL, **values = NULL;
  json_object *env;

  if (parse_pairs ("ENV", value, &keys, &values, err) < 0)
    return -1;
  env = member_of_type (config, "Env", json_type_array);
  for (size_t i = 0; keys[i]; i++)
    set_env (env, keys[i], values[i]);
  return 0;
}

static int
change_label (json_object *config, const char *value, struct error **err)
{
  cleanup_strv char **keys = NULL, **values = NULL;
  json_object *labels;

  if (parse_pairs ("LABEL", value, &keys, &values, err) < 0)
    return -1;
  labels = member_of_type (config, "Labels", json_type_object);
  for (size_t i = 0; keys[i]; i++)
    json_object_object_add (labels, keys[i], json_object_new_string (values[i]));
  return 0;
}

/* "PORT[-END][/PROTO]" added to PORTS as "PORT/proto" keys. */
static int
add_ports (json_object *ports, const char *spec, struct error **err)
{
  const char *slash = strchr (spec, '/');
  cleanup_free char *range = slash ? xstrndup (spec, (size_t) (slash - spec)) : xstrdup (spec);
  cleanup_free char *proto = xstrdup (slash ? slash + 1 : "tcp");
  char *dash = strchr (range, '-');
  uint64_t lo = 0, hi = 0;

  for (char *c = proto; *c; c++)
    *c = (char) tolower ((unsigned char) *c);
  if (strcmp (proto, "tcp") != 0 && strcmp (proto, "udp") != 0 && strcmp (proto, "sctp") != 0)
    return err_make (err, 0, "EXPOSE: unknown protocol \"%s\" in \"%s\" (use tcp, udp or sctp)",
                     proto, spec);
  if (dash)
    *dash = '\0';
  if (parse_uint (range, 65535, "port", &lo, err) < 0
      || (dash && parse_uint (dash + 1, 65535, "port", &hi, err) < 0))
    return err_wrap (err, "EXPOSE \"%s\"", spec);
  if (!dash)
    hi = lo;
  if (lo == 0 || hi < lo)
    return err_make (err, 0, "EXPOSE: invalid port \"%s\"", spec);
  for (uint64_t p = lo; p <= hi; p++)
    {
      char key[32];
      snprintf (key, sizeof key, "%u/%s", (unsigned) p, proto);
      json_object_object_add (ports, key, json_object_new_object ());
    }
  return 0;
}

static void
merge_keys (json_object *dst, json_object *src)
{
  json_object_object_foreach (src, key, val)
    json_object_object_add (dst, key, json_object_get (val));
}

static int
change_expose (json_object *config, const char *value, struct error **err)
{
  cleanup_strv char **words = NULL;
  cleanup_json json_object *ports = json_object_new_object ();

  if (split_words (value, &words, err) < 0)
    return -1;
  if (words[0] == NULL)
    return err_make (err, 0, "EXPOSE needs a port");
  for (char **w = words; *w; w++)
    if (add_ports (ports, *w, err) < 0)
      return -1;
  merge_keys (member_of_type (config, "ExposedPorts", json_type_object), ports);
  return 0;
}

static int
change_volume (json_object *config, const char *value, struct error **err)
{
  cleanup_json json_object *array = exec_form (value);
  cleanup_json json_object *vols = json_object_new_object ();
  cleanup_strv char **words = NULL;

  if (array == NULL && split_words (value, &words, err) < 0)
    return -1;
  if (array)
    for (size_t i = 0; i < json_object_array_length (array); i++)
      words = strv_append (words ? words : xcalloc (1, sizeof *words),
                           json_object_get_string (json_object_array_get_idx (array, i)));
  if (words == NULL || words[0] == NULL)
    return err_make (err, 0, "VOLUME needs a path");
  for (char **w = words; *w; w++)
    {
      if (**w == '\0')
        return err_make (err, 0, "VOLUME paths must not be empty");
      json_object_object_add (vols, *w, json_object_new_object ());
    }
  merge_keys (member_of_type (config, "Volumes", json_type_object), vols);
  return 0;
}

static int
change_workdir (json_object *config, const char *value, struct error **err)
{
  const char *base = jobj_get_string (config, "WorkingDir");
  cleanup_free char *joined = NULL, *clean = NULL;

  if (*value == '\0')
    return err_make (err, 0, "WORKDIR needs a path");
  /* A relative WORKDIR continues from the one before, as in a Dockerfile. */
  joined = value[0] == '/' ? xstrdup (value) : xasprintf ("%s/%s", base ? base : "", value);
  clean = image_archive_clean_path_mode (joined, PATH_CLAMP_ROOT, err);
  if (clean == NULL)
    return -1;
  free (joined);
  joined = xasprintf ("/%s", clean);
  json_object_object_add (config, "WorkingDir", json_object_new_string (joined));
  return 0;
}

static int
change_user (json_object *config, const char *value, struct error **err)
{
  if (*value == '\0')
    return err_make (err, 0, "USER needs a user");
  json_object_object_add (config, "User", json_object_new_string (value));
  return 0;
}

static const char *const signal_names[] = {
  "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
  "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
  "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
};

/* "SIGTERM", "TERM", "15", "SIGRTMIN+3", "RTMAX-1". */
static bool
is_signal (const char *s)
{
  uint64_t n = 0;

  if (isdigit ((unsigned char) *s))
    return parse_uint (s, 64, "signal", &n, NULL) == 0 && n >= 1;
  if (strncasecmp (s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
    if (strcasecmp (s, signal_names[i]) == 0)
      return true;
  if (strncasecmp (s, "RTMIN", 5) == 0 || strncasecmp (s, "RTMAX", 5) == 0)
    {
      char sign = strncasecmp (s, "RTMIN", 5) == 0 ? '+' : '-';
      if (s[5] == '\0')
        return true;
      return s[5] == sign && parse_uint (s + 6, 30, "signal", &n, NULL) == 0 && n >= 1;
    }
  return false;
}

static int
change_stopsignal (json_object *config, const char *value, struct error **err)
{
  if (!is_signal (value))
    return err_make (err, 0, "STOPSIGNAL: unknown signal \"%s\"", value);
  json_object_object_add (config, "StopSignal", json_object_new_string (value));
  return 0;
}

static int
change_onbuild (json_object *config, const char *value, struct error **err)
{
  size_t n = strspn (value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

  if (n == 0)
    return err_make (err, 0, "ONBUILD needs an instruction");
  if ((n == 7 && strncasecmp (value, "ONBUILD", 7) == 0)
      || (n == 4 && strncasecmp (value, "FROM", 4) == 0)
      || (n == 10 && strncasecmp (value, "MAINTAINER", 10) == 0))
    return err_make (err, 0, "ONBUILD cannot trigger %.*s", (int) n, value);
  json_object_array_add (member_of_type (config, "OnBuild", json_type_array),
                         json_object_new_string (value));
  return 0;
}

typedef int (*change_fn) (json_object *config, const char *value, struct error **err);

static const struct
{
  const char *name;
  change_fn apply;
} change_table[] = {
  { "CMD", change_cmd },
  { "ENTRYPOINT", change_entrypoint },
  { "ENV", change_env },
  { "EXPOSE", change_expose },
  { "LABEL", change_label },
  { "ONBUILD", change_onbuild },
  { "STOPSIGNAL", change_stopsignal },
  { "USER", change_user },
  { "VOLUME", change_volume },
  { "WORKDIR", change_workdir },
};

int
image_change_apply (json_object *config, const char *change, struct error **err)
{
  const char *p = change, *word;
  cleanup_free char *value = NULL;
  size_t n;

  while (isspace ((unsigned char) *p))
    p++;
  word = p;
  while (isalpha ((unsigned char) *p))
    p++;
  n = (size_t) (p - word);
  if (n == 0 || (*p && *p != '=' && !isspace ((unsigned char) *p)))
    return err_make (err, 0, "invalid change \"%s\": expected an instruction and its value, "
                     "such as 'CMD [\"sh\"]'", change);
  value = xstrdup (*p ? p + 1 : p);
  str_strip (value);
  for (size_t i = 0; i < sizeof change_table / sizeof change_table[0]; i++)
    if (strlen (change_table[i].name) == n && strncasecmp (word, change_table[i].name, n) == 0)
      {
        if (change_table[i].apply (config, value, err) < 0)
          return err_wrap (err, "invalid change \"%s\"", change);
        return 0;
      }
  return err_make (err, 0, "invalid change \"%s\": unknown instruction \"%.*s\" (use CMD, "
                   "ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or "
                   "WORKDIR)", change, (int) n, word);
}
