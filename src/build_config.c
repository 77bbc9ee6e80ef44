/* The config side of `build`'s instructions (see build.h): each config
 * instruction changes docker's keys of the image config's "config" object
 * (Env, Labels, ExposedPorts, Volumes, User, WorkingDir, StopSignal, Cmd,
 * Entrypoint, Shell, Healthcheck, OnBuild) the way docker's builder does.
 * Pure JSON work: no store, no file system. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "libutil/buf.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/parse.h"

const char *
build_vars_lookup (const char *name, void *data)
{
  const struct build_vars *v = data;
  size_t len = strlen (name);
  const char *found = NULL;

  for (size_t i = 0; v->env && i < json_object_array_length (v->env); i++)
    {
      const char *e = json_object_get_string (json_object_array_get_idx (v->env, i));
      if (e && strncmp (e, name, len) == 0 && e[len] == '=')
        return e + len + 1;
    }
  for (char *const *a = v->args; a && *a; a++)
    if (strncmp (*a, name, len) == 0 && (*a)[len] == '=')
      found = *a + len + 1;
  return found;
}

/* ---- helpers -------------------------------------------------------------- */

struct apply
{
  json_object *cfg;
  json_object *inner; /* cfg's "config" */
  const struct df_instruction *in;
  char escape;
  const struct build_vars *vars;
  struct buf text; /* created_by */
};

static int
fail (struct apply *a, struct error **err, const char *what, const char *value)
{
  return err_make (err, 0, "%s: %s \"%s\"", df_kind_name (a->in->kind), what, value);
}

static int
expand (struct apply *a, const char *word, unsigned int flags, char **out, struct error **err)
{
  if (df_expand (word, a->escape, flags, build_vars_lookup, (void *)a->vars, out, err) < 0)
    return err_wrap (err, "%s", df_kind_name (a->in->kind));
  return 0;
}

static json_object *
strv_to_json (char *const *v, size_t n)
{
  json_object *a = json_object_new_array ();

  for (size_t i = 0; i < n; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  return a;
}

char **
build_config_shell (json_object *cfg)
{
  json_object *sh = jobj_get_array (jobj_get_object (cfg, "config"), "Shell");
  char **out = NULL;

  if (sh == NULL || json_object_array_length (sh) == 0)
    {
      out = strv_append (out, "/bin/sh");
      return strv_append (out, "-c");
    }
  for (size_t i = 0; i < json_object_array_length (sh); i++)
    out = strv_append (out, json_object_get_string (json_object_array_get_idx (sh, i)));
  return out;
}

/* A command: the JSON form as it is, the shell form behind the shell. */
static json_object *
command_json (struct apply *a, char *const *args, size_t n)
{
  json_object *arr;
  cleanup_strv char **sh = NULL;

  if (a->in->is_json)
    return strv_to_json (args, n);
  sh = build_config_shell (a->cfg);
  arr = strv_to_json (sh, strv_len (sh));
  if (n > 0)
    json_object_array_add (arr, json_object_new_string (args[0]));
  return arr;
}

static void
env_set (json_object *inner, const char *key, const char *value)
{
  json_object *env = jobj_get_array (inner, "Env");
  size_t len = strlen (key);
  char *kv = xasprintf ("%s=%s", key, value);

  if (env == NULL)
    {
      env = json_object_new_array ();
      json_object_object_add (inner, "Env", env);
    }
  for (size_t i = 0; i < json_object_array_length (env); i++)
    {
      const char *e = json_object_get_string (json_object_array_get_idx (env, i));
      if (e && strncmp (e, key, len) == 0 && e[len] == '=')
        {
          json_object_array_put_idx (env, i, json_object_new_string (kv));
          free (kv);
          return;
        }
    }
  json_object_array_add (env, json_object_new_string (kv));
  free (kv);
}

static json_object *
object_member (json_object *o, const char *key)
{
  json_object *m = jobj_get_object (o, key);

  if (m == NULL)
    {
      m = json_object_new_object ();
      json_object_object_add (o, key, m);
    }
  return m;
}

/* ---- the instructions ------------------------------------------------------- */

static int
apply_pairs (struct apply *a, bool is_env, struct error **err)
{
  const struct df_instruction *in = a->in;

  for (size_t i = 0; i + 1 < in->n_args; i += 2)
    {
      cleanup_free char *k = NULL, *v = NULL;
      if (expand (a, in->args[i], 0, &k, err) < 0 || expand (a, in->args[i + 1], 0, &v, err) < 0)
        return -1;
      if (*k == '\0')
        return fail (a, err, "empty name in", in->original);
      if (is_env)
        env_set (a->inner, k, v);
      else
        json_object_object_add (object_member (a->inner, "Labels"), k, json_object_new_string (v));
      buf_printf (&a->text, " %s=%s", k, v);
    }
  return 0;
}

static bool
is_port (const char *s, unsigned long *out)
{
  char *end;

  if (*s < '0' || *s > '9')
    return false;
  *out = strtoul (s, &end, 10);
  return *end == '\0' && *out <= 65535;
}

/* "80", "80/udp", "8000-8002/tcp": each port of a range is its own key. */
static int
add_port (struct apply *a, const char *word, struct error **err)
{
  cleanup_free char *w = xstrdup (word);
  char *proto = strchr (w, '/'), *dash;
  unsigned long lo, hi;
  json_object *ports = object_member (a->inner, "ExposedPorts");

  if (proto)
    {
      *proto++ = '\0';
      for (char *p = proto; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    }
  else
    proto = (char *)"tcp";
  if (strcmp (proto, "tcp") != 0 && strcmp (proto, "udp") != 0 && strcmp (proto, "sctp") != 0)
    return fail (a, err, "invalid protocol in", word);
  dash = strchr (w, '-');
  if (dash)
    *dash++ = '\0';
  if (!is_port (w, &lo) || (dash && !is_port (dash, &hi)))
    return fail (a, err, "invalid port", word);
  if (!dash)
    hi = lo;
  if (hi < lo)
    return fail (a, err, "invalid port range", word);
  for (unsigned long p = lo; p <= hi; p++)
    {
      char key[32];
      snprintf (key, sizeof key, "%lu/%s", p, proto);
      json_object_object_add (ports, key, json_object_new_object ());
    }
  return 0;
}

static int
apply_words (struct apply *a, struct error **err)
{
  const struct df_instruction *in = a->in;
  unsigned int flags = in->is_json ? DF_EXPAND_NO_QUOTES : 0;

  for (size_t i = 0; i < in->n_args; i++)
    {
      cleanup_free char *w = NULL;
      if (expand (a, in->args[i], flags, &w, err) < 0)
        return -1;
      if (in->kind == DF_EXPOSE && add_port (a, w, err) < 0)
        return -1;
      if (in->kind == DF_VOLUME)
        {
          if (*w == '\0')
            return fail (a, err, "empty path in", in->original);
          json_object_object_add (object_member (a->inner, "Volumes"), w,
                                  json_object_new_object ());
        }
      buf_printf (&a->text, " %s", w);
    }
  return 0;
}

/* "/a/./b/../c/" -> "/a/c". */
static char *
clean_path (const char *path)
{
  cleanup_strv char **parts = str_split (path, '/');
  char **keep = xcalloc (strv_len (parts) + 1, sizeof *keep);
  size_t n = 0;
  struct buf b = BUF_INIT;

  for (char **p = parts; *p; p++)
    {
      if (**p == '\0' || strcmp (*p, ".") == 0)
        continue;
      if (strcmp (*p, "..") == 0)
        {
          n -= n > 0;
          continue;
        }
      keep[n++] = *p;
    }
  for (size_t i = 0; i < n; i++)
    buf_printf (&b, "/%s", keep[i]);
  free (keep);
  if (b.len == 0)
    buf_append_str (&b, "/");
  return buf_steal (&b);
}

static int
apply_single (struct apply *a, struct error **err)
{
  const struct df_instruction *in = a->in;
  cleanup_free char *w = NULL;

  if (in->n_args < 1)
    return fail (a, err, "missing argument in", in->original);
  if (expand (a, in->args[0], 0, &w, err) < 0)
    return -1;
  switch (in->kind)
    {
    case DF_USER:
      json_object_object_add (a->inner, "User", json_object_new_string (w));
      break;
    case DF_STOPSIGNAL:
      json_object_object_add (a->inner, "StopSignal", json_object_new_string (w));
      break;
    case DF_WORKDIR:
      {
        const char *cur = jobj_get_string (a->inner, "WorkingDir");
        cleanup_free char *joined
            = *w == '/' ? xstrdup (w) : xasprintf ("%s/%s", cur && *cur ? cur : "/", w);
        cleanup_free char *clean = clean_path (joined);
        json_object_object_add (a->inner, "WorkingDir", json_object_new_string (clean));
        buf_printf (&a->text, " %s", clean);
        return 0;
      }
    default:
      break;
    }
  buf_printf (&a->text, " %s", w);
  return 0;
}

static const struct
{
  const char *flag;
  const char *key;
} health_durations[] = {
  { "interval", "Interval" },
  { "timeout", "Timeout" },
  { "start-period", "StartPeriod" },
  { "start-interval", "StartInterval" },
};

static int
health_flags (struct apply *a, json_object *hc, struct error **err)
{
  const char *v;

  for (size_t i = 0; i < sizeof health_durations / sizeof *health_durations; i++)
    {
      int64_t ns;
      v = df_flag (a->in, health_durations[i].flag);
      if (v == NULL)
        continue;
      if (parse_duration (v, &ns, err) < 0 || ns < 0)
        return err_make (err, 0, "HEALTHCHECK: invalid --%s \"%s\"", health_durations[i].flag, v);
      json_object_object_add (hc, health_durations[i].key, json_object_new_int64 (ns));
    }
  v = df_flag (a->in, "retries");
  if (v)
    {
      uint64_t n;
      if (parse_uint (v, 1000000, "--retries", &n, err) < 0)
        return err_wrap (err, "HEALTHCHECK");
      json_object_object_add (hc, "Retries", json_object_new_int64 ((int64_t)n));
    }
  return 0;
}

static int
apply_healthcheck (struct apply *a, struct error **err)
{
  const struct df_instruction *in = a->in;
  json_object *hc, *test;

  if (in->n_args < 1)
    return fail (a, err, "missing argument in", in->original);
  hc = json_object_new_object ();
  if (strcmp (in->args[0], "NONE") == 0)
    {
      test = json_object_new_array ();
      json_object_array_add (test, json_object_new_string ("NONE"));
    }
  else
    {
      test = json_object_new_array ();
      json_object_array_add (test, json_object_new_string (in->is_json ? "CMD" : "CMD-SHELL"));
      for (size_t i = 1; i < in->n_args; i++)
        json_object_array_add (test, json_object_new_string (in->args[i]));
    }
  json_object_object_add (hc, "Test", test);
  if (health_flags (a, hc, err) < 0)
    {
      json_object_put (hc);
      return -1;
    }
  json_object_object_add (a->inner, "Healthcheck", hc);
  return 0;
}

static int
apply_kind (struct apply *a, bool is_cmd_set, struct error **err)
{
  const struct df_instruction *in = a->in;

  switch (in->kind)
    {
    case DF_ENV:
      return apply_pairs (a, true, err);
    case DF_LABEL:
      return apply_pairs (a, false, err);
    case DF_EXPOSE:
    case DF_VOLUME:
      return apply_words (a, err);
    case DF_USER:
    case DF_WORKDIR:
    case DF_STOPSIGNAL:
      return apply_single (a, err);
    case DF_CMD:
      json_object_object_add (a->inner, "Cmd", command_json (a, in->args, in->n_args));
      return 0;
    case DF_ENTRYPOINT:
      json_object_object_add (a->inner, "Entrypoint", command_json (a, in->args, in->n_args));
      if (!is_cmd_set)
        json_object_object_add (a->inner, "Cmd", NULL);
      return 0;
    case DF_SHELL:
      if (!in->is_json || in->n_args == 0)
        return fail (a, err, "SHELL requires the arguments to be in JSON form:", in->original);
      json_object_object_add (a->inner, "Shell", strv_to_json (in->args, in->n_args));
      return 0;
    case DF_HEALTHCHECK:
      return apply_healthcheck (a, err);
    case DF_ONBUILD:
      if (in->onbuild == NULL)
        return fail (a, err, "missing instruction in", in->original);
      if (jobj_get_array (a->inner, "OnBuild") == NULL)
        json_object_object_add (a->inner, "OnBuild", json_object_new_array ());
      json_object_array_add (jobj_get_array (a->inner, "OnBuild"),
                             json_object_new_string (in->onbuild->original));
      return 0;
    case DF_MAINTAINER:
      if (in->n_args < 1)
        return fail (a, err, "missing argument in", in->original);
      json_object_object_add (a->cfg, "author", json_object_new_string (in->args[0]));
      return 0;
    default:
      return err_make (err, 0, "%s is not a config instruction", df_kind_name (in->kind));
    }
}

/* The history text of instructions whose words are not expanded: as
 * written. */
static bool
is_text_verbatim (enum df_kind k)
{
  return k == DF_CMD || k == DF_ENTRYPOINT || k == DF_SHELL || k == DF_HEALTHCHECK
         || k == DF_ONBUILD || k == DF_MAINTAINER;
}

int
build_config_apply (json_object *cfg, const struct df_instruction *in, char escape,
                    const struct build_vars *vars, bool is_cmd_set, char **created_by,
                    struct error **err)
{
  struct apply a = { .cfg = cfg, .in = in, .escape = escape, .vars = vars, .text = BUF_INIT };
  int r;

  a.inner = object_member (cfg, "config");
  buf_append_str (&a.text, df_kind_name (in->kind));
  r = apply_kind (&a, is_cmd_set, err);
  if (r < 0)
    {
      buf_free (&a.text);
      return -1;
    }
  if (is_text_verbatim (in->kind))
    {
      buf_free (&a.text);
      *created_by = xstrdup (in->original);
      return 0;
    }
  *created_by = buf_steal (&a.text);
  return 0;
}
