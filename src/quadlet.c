/* Quadlet translation.  A generated service is the source unit itself with
 * its [Container] (or [Volume]) group renamed X-Container, so systemd
 * ignores it, and with podman 4.x's keys added to [Unit] and [Service]:
 * the user's own [Unit], [Service] and [Install] entries come first and
 * stay, as podman's generator (pkg/systemd/quadlet/quadlet.go) does.
 *
 * The container runs as `skiff run -d --sdnotify=conmon`: the monitor
 * tells systemd READY=1 and its own MAINPID once the container runs, which
 * is podman 4.x's `-d` with conmon as the main process.  Every flag put on
 * the command line is one `skiff run` accepts; what skiff cannot honour is
 * left out with a warning rather than failing at start. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "libutil/buf.h"
#include "libutil/mem.h"
#include "quadlet.h"

#define CONTAINER_GROUP "Container"
#define VOLUME_GROUP "Volume"

/* Keys whose value is one flag's value: the last one counts. */
struct flag_key
{
  const char *key;
  const char *flag;
};

static const struct flag_key container_string_keys[] = {
  { "Entrypoint", "--entrypoint" },   { "WorkingDir", "--workdir" },
  { "HostName", "--hostname" },       { "StopSignal", "--stop-signal" },
  { "StopTimeout", "--stop-timeout" }, { "Pull", "--pull" },
  { "UserNS", "--userns" },
};

/* Keys that may repeat: one flag per value. */
static const struct flag_key container_list_keys[] = {
  { "Ulimit", "--ulimit" },       { "DNS", "--dns" },           { "DNSOption", "--dns-option" },
  { "DNSSearch", "--dns-search" }, { "GroupAdd", "--group-add" }, { "AddHost", "--add-host" },
  { "LogOpt", "--log-opt" },
};

/* Boolean keys: the flag when true. */
static const struct flag_key container_bool_keys[] = {
  { "RunInit", "--init" },
  { "EnvironmentHost", "--env-host" },
  { "ReadOnly", "--read-only" },
  { "NoNewPrivileges", "--security-opt=no-new-privileges" },
};

/* Keys handled by code below rather than by the tables above. */
static const char *const container_other_keys[] = {
  "Image", "ContainerName", "Exec", "Environment", "EnvironmentFile", "PublishPort",
  "ExposeHostPort", "Volume", "Tmpfs", "Mount", "User", "Group", "Label", "Network",
  "AddCapability", "DropCapability", "Notify", "PodmanArgs", "SkiffArgs", "GlobalArgs",
  "AutoUpdate", "LogDriver", "CgroupsMode", "VolatileTmp", NULL,
};

/* podman's keys that skiff has no way to honour (no SELinux, seccomp
 * profiles, health checks, secrets, pods, devices, ID maps or resource
 * limits): named in a warning, left out of the command. */
static const char *const container_ignored_keys[] = {
  "AddDevice", "Annotation", "ContainersConfModule", "HealthCmd", "HealthInterval",
  "HealthOnFailure", "HealthRetries", "HealthStartPeriod", "HealthStartupCmd",
  "HealthStartupInterval", "HealthStartupRetries", "HealthStartupSuccess",
  "HealthStartupTimeout", "HealthTimeout", "IP", "IP6", "Mask", "Memory", "NetworkAlias",
  "PidsLimit", "Pod", "ReadOnlyTmpfs", "RemapGid", "RemapUid", "RemapUidSize", "RemapUsers",
  "Rootfs", "SeccompProfile", "Secret", "SecurityLabelDisable", "SecurityLabelFileType",
  "SecurityLabelLevel", "SecurityLabelNested", "SecurityLabelType", "ShmSize", "Sysctl",
  "Timezone", "UIDMap", "GIDMap", "SubUIDMap", "SubGIDMap", "Unmask", "ReloadCmd",
  "ReloadSignal", "HealthLogDestination", "HealthMaxLogCount", "HealthMaxLogSize", "Retry",
  "RetryDelay", "ServiceName", "StartWithPod", NULL,
};

static const char *const volume_keys[] = {
  "VolumeName", "Label", "Driver", "PodmanArgs", "SkiffArgs", "GlobalArgs", NULL,
};

/* skiff volumes are plain directories of the local driver. */
static const char *const volume_ignored_keys[] = {
  "Copy", "Device", "Group", "Image", "Options", "Type", "User", "ContainersConfModule",
  "ServiceName", NULL,
};

struct conv
{
  const struct quadlet_unit *src;
  struct quadlet_unit *const *units;
  const struct quadlet_opts *o;
  const char *group;
  struct quadlet_unit *service;
  char **args;
  char ***warnings;
};

static void
warn (struct conv *c, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
warn (struct conv *c, const char *fmt, ...)
{
  va_list ap;
  cleanup_free char *msg = NULL;

  va_start (ap, fmt);
  msg = xvasprintf (fmt, ap);
  va_end (ap);
  *c->warnings = strv_append (*c->warnings, msg);
}

static void
add (struct conv *c, const char *word)
{
  c->args = strv_append (c->args, word);
}

static void
add2 (struct conv *c, const char *flag, const char *value)
{
  add (c, flag);
  add (c, value);
}

static bool
in_table (const struct flag_key *t, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (t[i].key, key) == 0)
      return true;
  return false;
}

#define IN_TABLE(t, key) in_table (t, sizeof t / sizeof t[0], key)

static bool
is_container_key (const char *key)
{
  return IN_TABLE (container_string_keys, key) || IN_TABLE (container_list_keys, key)
         || IN_TABLE (container_bool_keys, key) || strv_contains (container_other_keys, key);
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* One warning per key of the source's group that is ignored or unknown,
 * in name order (sorting makes repeated keys one warning, also in a
 * hostile file with thousands of them). */
static void
check_keys (struct conv *c, bool (*is_known) (const char *), const char *const *ignored)
{
  const struct quadlet_group *g = quadlet_unit_group (c->src, c->group);
  cleanup_free const char **odd = xcalloc ((g ? g->n_entries : 0) + 1, sizeof *odd);
  size_t n = 0;

  for (size_t i = 0; g && i < g->n_entries; i++)
    if (!is_known (g->entries[i].key))
      odd[n++] = g->entries[i].key;
  qsort (odd, n, sizeof *odd, compare_strings);
  for (size_t i = 0; i < n; i++)
    {
      if (i > 0 && strcmp (odd[i], odd[i - 1]) == 0)
        continue;
      if (strv_contains (ignored, odd[i]))
        warn (c, "key '%s' in group '%s' in %s is not supported by skiff, ignoring", odd[i],
              c->group, c->src->path);
      else
        warn (c, "unknown key '%s' in group '%s' in %s, ignoring", odd[i], c->group,
              c->src->path);
    }
}

static const char *
lookup (struct conv *c, const char *key)
{
  const char *v = quadlet_unit_lookup (c->src, c->group, key);

  return v && *v ? v : NULL;
}

static bool
lookup_bool (struct conv *c, const char *key)
{
  const char *v = lookup (c, key);
  bool b = false;

  if (v && quadlet_parse_bool (v, &b) < 0)
    warn (c, "invalid boolean '%s' for key '%s' in %s, using false", v, key, c->src->path);
  return b;
}

/* The words of every KEY value, in order. */
static int
lookup_all_words (struct conv *c, const char *key, char ***out, struct error **err)
{
  cleanup_strv char **values = quadlet_unit_lookup_all (c->src, c->group, key);
  char **all = xcalloc (1, sizeof *all);

  for (char **v = values; *v; v++)
    {
      cleanup_strv char **words = NULL;
      if (quadlet_split_words (*v, &words, err) < 0)
        {
          strv_free (all);
          return err_wrap (err, "%s", key);
        }
      for (char **w = words; *w; w++)
        all = strv_append (all, *w);
    }
  *out = all;
  return 0;
}

/* "FILE" relative to the source file's directory, as podman resolves
 * EnvironmentFile= and "./dir" volume sources.  Absolute paths and those
 * starting with a specifier (%h/...) are systemd's to resolve. */
static char *
source_relative (struct conv *c, const char *file)
{
  const char *slash = strrchr (c->src->path, '/');

  if (file[0] == '/' || file[0] == '%' || slash == NULL)
    return xstrdup (file);
  while (str_has_prefix (file, "./"))
    file += 2;
  return xasprintf ("%.*s/%s", (int) (slash - c->src->path), c->src->path, file);
}

/* ---- name=value lists ------------------------------------------------------- */

struct kv_list
{
  char **keys;
  char **values;
};

static void
kv_clear (struct kv_list *l)
{
  strv_free (l->keys);
  strv_free (l->values);
}

static void
kv_set (struct kv_list *l, const char *key, const char *value)
{
  for (size_t i = 0; l->keys && l->keys[i]; i++)
    if (strcmp (l->keys[i], key) == 0)
      {
        free (l->values[i]);
        l->values[i] = xstrdup (value);
        return;
      }
  l->keys = strv_append (l->keys, key);
  l->values = strv_append (l->values, value);
}

/* Every NAME=VALUE word of KEY's values, a later NAME replacing an
 * earlier one; a word without '=' is warned about and skipped. */
static int
lookup_kv (struct conv *c, const char *key, struct kv_list *l, struct error **err)
{
  cleanup_strv char **words = NULL;

  if (lookup_all_words (c, key, &words, err) < 0)
    return -1;
  for (char **w = words; *w; w++)
    {
      char *eq = strchr (*w, '=');
      if (eq == NULL || eq == *w)
        {
          warn (c, "invalid %s assignment '%s' in %s, ignoring", key, *w, c->src->path);
          continue;
        }
      *eq = '\0';
      kv_set (l, *w, eq + 1);
    }
  return 0;
}

static int
compare_keys (const void *a, const void *b, void *keys)
{
  char **k = keys;
  return strcmp (k[*(const size_t *) a], k[*(const size_t *) b]);
}

/* "--flag NAME=VALUE" for each entry, sorted by name as podman does. */
static void
add_kv_sorted (struct conv *c, const char *flag, const struct kv_list *l)
{
  size_t n = l->keys ? strv_len (l->keys) : 0;
  cleanup_free size_t *order = xcalloc (n + 1, sizeof *order);

  for (size_t i = 0; i < n; i++)
    order[i] = i;
  qsort_r (order, n, sizeof *order, compare_keys, l->keys);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *kv = xasprintf ("%s=%s", l->keys[order[i]], l->values[order[i]]);
      add2 (c, flag, kv);
    }
}

/* ---- [Container] pieces ------------------------------------------------------ */

static void
add_table_keys (struct conv *c)
{
  for (size_t i = 0; i < sizeof container_string_keys / sizeof container_string_keys[0]; i++)
    {
      const char *v = lookup (c, container_string_keys[i].key);
      if (v)
        add2 (c, container_string_keys[i].flag, v);
    }
  for (size_t i = 0; i < sizeof container_list_keys / sizeof container_list_keys[0]; i++)
    {
      cleanup_strv char **vs = quadlet_unit_lookup_all (c->src, c->group,
                                                        container_list_keys[i].key);
      for (char **v = vs; *v; v++)
        add2 (c, container_list_keys[i].flag, *v);
    }
  for (size_t i = 0; i < sizeof container_bool_keys / sizeof container_bool_keys[0]; i++)
    if (lookup_bool (c, container_bool_keys[i].key))
      add (c, container_bool_keys[i].flag);
}

static int
add_capabilities (struct conv *c, struct error **err)
{
  static const struct flag_key caps[] = { { "DropCapability", "--cap-drop" },
                                          { "AddCapability", "--cap-add" } };

  for (size_t i = 0; i < 2; i++)
    {
      cleanup_strv char **words = NULL;
      if (lookup_all_words (c, caps[i].key, &words, err) < 0)
        return -1;
      for (char **w = words; *w; w++)
        {
          for (char *p = *w; *p; p++)
            *p = (char) tolower ((unsigned char) *p);
          add2 (c, caps[i].flag, *w);
        }
    }
  return 0;
}

static int
add_user (struct conv *c, struct error **err)
{
  const char *user = lookup (c, "User");
  const char *group = lookup (c, "Group");

  if (user == NULL)
    return group ? err_make (err, 0, "invalid Group set without User") : 0;
  if (group == NULL)
    {
      add2 (c, "--user", user);
      return 0;
    }
  {
    cleanup_free char *ug = xasprintf ("%s:%s", user, group);
    add2 (c, "--user", ug);
  }
  return 0;
}

static int
add_tmpfs (struct conv *c, struct error **err)
{
  cleanup_strv char **values = quadlet_unit_lookup_all (c->src, c->group, "Tmpfs");

  const char *read_only = lookup (c, "ReadOnly");
  bool is_read_only = false;

  /* ReadOnly= was warned about, when malformed, with the other flags. */
  if (read_only)
    (void) quadlet_parse_bool (read_only, &is_read_only);
  if (lookup_bool (c, "VolatileTmp") && !is_read_only)
    add2 (c, "--tmpfs", "/tmp:rw,size=512M,mode=1777");
  for (char **v = values; *v; v++)
    {
      const char *colon = strchr (*v, ':');
      if (colon && strchr (colon + 1, ':'))
        return err_make (err, 0, "invalid tmpfs format '%s'", *v);
      add2 (c, "--tmpfs", *v);
    }
  return 0;
}

/* The .volume unit named NAME among the files found, or NULL. */
static const struct quadlet_unit *
find_unit (struct conv *c, const char *name)
{
  for (size_t i = 0; c->units && c->units[i]; i++)
    if (strcmp (c->units[i]->name, name) == 0)
      return c->units[i];
  return NULL;
}

/* A volume source as podman's handleStorageSource(): "./x" is made
 * absolute, an absolute path gets RequiresMountsFor=, and "name.volume"
 * becomes that unit's volume, which the service requires and follows. */
static char *
storage_source (struct conv *c, const char *source)
{
  char *s = source[0] == '.' ? source_relative (c, source) : xstrdup (source);

  if (s[0] == '/')
    quadlet_unit_add (c->service, "Unit", "RequiresMountsFor", s);
  else if (quadlet_kind_of (s) == QUADLET_VOLUME)
    {
      const struct quadlet_unit *v = find_unit (c, s);
      /* podman 4.x names an unknown one's volume from its file name. */
      cleanup_quadlet_unit struct quadlet_unit *bare = v ? NULL : quadlet_unit_new (s);
      cleanup_free char *unit = quadlet_service_name (s);
      char *name = quadlet_volume_name (v ? v : bare);

      quadlet_unit_add (c->service, "Unit", "Requires", unit);
      quadlet_unit_add (c->service, "Unit", "After", unit);
      free (s);
      s = name;
    }
  return s;
}

static void
add_volumes (struct conv *c)
{
  cleanup_strv char **values = quadlet_unit_lookup_all (c->src, c->group, "Volume");

  for (char **v = values; *v; v++)
    {
      cleanup_strv char **parts = str_split (*v, ':');
      size_t n = strv_len (parts);
      cleanup_buf struct buf spec = BUF_INIT;

      if (n < 2 || parts[0][0] == '\0')
        {
          add2 (c, "-v", *v);
          continue;
        }
      {
        cleanup_free char *src = storage_source (c, parts[0]);
        buf_append_str (&spec, src);
      }
      for (size_t i = 1; i < n; i++)
        buf_printf (&spec, ":%s", parts[i]);
      add2 (c, "-v", spec.data);
    }
}

/* --mount: a "source=" or "src=" naming a .volume or a "./" path is
 * resolved as Volume= sources are. */
static void
add_mounts (struct conv *c)
{
  cleanup_strv char **values = quadlet_unit_lookup_all (c->src, c->group, "Mount");

  for (char **v = values; *v; v++)
    {
      cleanup_strv char **fields = str_split (*v, ',');
      cleanup_free char *joined = NULL;

      for (char **f = fields; *f; f++)
        {
          const char *eq = strchr (*f, '=');
          size_t klen = eq ? (size_t) (eq - *f) : 0;
          if (eq && ((klen == 6 && strncmp (*f, "source", 6) == 0)
                     || (klen == 3 && strncmp (*f, "src", 3) == 0)))
            {
              cleanup_free char *src = storage_source (c, eq + 1);
              char *nf = xasprintf ("%.*s=%s", (int) klen, *f, src);
              free (*f);
              *f = nf;
            }
        }
      joined = str_join (fields, ",");
      add2 (c, "--mount", joined);
    }
}

/* "PORT[-PORT][/tcp|/udp]", as podman checks ExposeHostPort=. */
static bool
is_port_range (const char *s)
{
  size_t n = strspn (s, "0123456789");

  if (n == 0)
    return false;
  s += n;
  if (*s == '-')
    {
      n = strspn (++s, "0123456789");
      if (n == 0)
        return false;
      s += n;
    }
  return *s == '\0' || strcmp (s, "/tcp") == 0 || strcmp (s, "/udp") == 0;
}

static int
add_ports (struct conv *c, struct error **err)
{
  cleanup_strv char **exposed = quadlet_unit_lookup_all (c->src, c->group, "ExposeHostPort");
  cleanup_strv char **published = quadlet_unit_lookup_all (c->src, c->group, "PublishPort");

  for (char **p = exposed; *p; p++)
    {
      if (!is_port_range (*p))
        return err_make (err, 0, "invalid port format '%s'", *p);
      add2 (c, "--expose", *p);
    }
  for (char **p = published; *p; p++)
    add2 (c, "--publish", *p);
  return 0;
}

static int
add_networks (struct conv *c, struct error **err)
{
  cleanup_strv char **values = quadlet_unit_lookup_all (c->src, c->group, "Network");

  for (char **v = values; *v; v++)
    {
      if (quadlet_kind_of (*v) == QUADLET_NETWORK)
        return err_make (err, 0, "Network=%s: skiff has no user-defined networks (use "
                         "slirp4netns, none, host or container:NAME)", *v);
      add2 (c, "--network", *v);
    }
  return 0;
}

static int
add_environment (struct conv *c, struct error **err)
{
  struct kv_list env = { 0 };
  cleanup_strv char **files = NULL;
  int r = lookup_kv (c, "Environment", &env, err);

  if (r == 0)
    add_kv_sorted (c, "--env", &env);
  kv_clear (&env);
  if (r < 0 || lookup_all_words (c, "EnvironmentFile", &files, err) < 0)
    return -1;
  for (char **f = files; *f; f++)
    {
      cleanup_free char *abs = source_relative (c, *f);
      add2 (c, "--env-file", abs);
    }
  return 0;
}

static int
add_labels (struct conv *c, struct error **err)
{
  struct kv_list labels = { 0 };
  const char *update = lookup (c, "AutoUpdate");
  int r = lookup_kv (c, "Label", &labels, err);

  if (r == 0)
    {
      if (update)
        kv_set (&labels, "io.containers.autoupdate", update);
      add_kv_sorted (c, "--label", &labels);
    }
  kv_clear (&labels);
  return r;
}

/* PodmanArgs= and its skiff name SkiffArgs=, word by word. */
static int
add_extra_args (struct conv *c, struct error **err)
{
  static const char *const keys[] = { "PodmanArgs", "SkiffArgs" };

  for (size_t i = 0; i < 2; i++)
    {
      cleanup_strv char **words = NULL;
      if (lookup_all_words (c, keys[i], &words, err) < 0)
        return -1;
      for (char **w = words; *w; w++)
        add (c, *w);
    }
  return 0;
}

/* skiff and the GlobalArgs= words: the head of every command. */
static int
command_head (struct conv *c, char ***out, struct error **err)
{
  cleanup_strv char **global = NULL;
  char **head = xcalloc (1, sizeof *head);

  if (lookup_all_words (c, "GlobalArgs", &global, err) < 0)
    {
      strv_free (head);
      return -1;
    }
  head = strv_append (head, c->o->exe);
  for (char **g = global; *g; g++)
    head = strv_append (head, *g);
  *out = head;
  return 0;
}

static char *
joined (char *const *head, const char *const *rest, const char *prefix)
{
  cleanup_strv char **v = xcalloc (1, sizeof *v);
  cleanup_free char *line = NULL;

  for (char *const *h = head; *h; h++)
    v = strv_append (v, *h);
  for (; *rest; rest++)
    v = strv_append (v, *rest);
  line = quadlet_join_cmdline (v);
  return xasprintf ("%s%s", prefix, line);
}

static char *
container_name (const struct quadlet_unit *src)
{
  const char *name = quadlet_unit_lookup (src, CONTAINER_GROUP, "ContainerName");

  if (name && *name)
    return xstrdup (name);
  /* A template's instances need a name each. */
  return xstrdup (strchr (src->name, '@') ? "systemd-%p_%i" : "systemd-%N");
}

/* podman's service keys: the unit variable auto-update reads, KillMode
 * (mixed or control-group only), the cleanup commands, notify. */
static int
container_service_keys (struct conv *c, char *const *head, struct error **err)
{
  static const char *const rm[] = { "rm", "-f", "-i", "--cidfile=%t/%N.cid", NULL };
  const char *kill_mode = quadlet_unit_lookup (c->service, "Service", "KillMode");
  cleanup_free char *stop = joined (head, rm, "");
  cleanup_free char *stop_post = joined (head, rm, "-");

  quadlet_unit_add (c->service, "Service", "Environment", "PODMAN_SYSTEMD_UNIT=%n");
  if (kill_mode && strcmp (kill_mode, "mixed") != 0 && strcmp (kill_mode, "control-group") != 0)
    return err_make (err, 0, "invalid KillMode '%s'", kill_mode);
  if (kill_mode == NULL)
    quadlet_unit_set (c->service, "Service", "KillMode", "mixed");
  quadlet_unit_add (c->service, "Service", "ExecStop", stop);
  quadlet_unit_add (c->service, "Service", "ExecStopPost", stop_post);
  /* `skiff rm` leaves the file, and `run --cidfile` refuses to replace
   * one: podman 4.x removes it here too. */
  quadlet_unit_add (c->service, "Service", "ExecStopPost", "-rm -f %t/%N.cid");
  quadlet_unit_add (c->service, "Service", "Delegate", "yes");
  quadlet_unit_set (c->service, "Service", "Type", "notify");
  quadlet_unit_set (c->service, "Service", "NotifyAccess", "all");
  if (quadlet_unit_lookup (c->service, "Service", "SyslogIdentifier") == NULL)
    quadlet_unit_set (c->service, "Service", "SyslogIdentifier", "%N");
  return 0;
}

/* The run command's flags, in the order podman 4.x writes its own. */
static int
container_run_args (struct conv *c, struct error **err)
{
  cleanup_free char *name = container_name (c->src);
  cleanup_free char *name_flag = xasprintf ("--name=%s", name);
  const char *log_driver = lookup (c, "LogDriver");
  const char *cgroups = lookup (c, "CgroupsMode");

  add (c, "run");
  add (c, name_flag);
  add (c, "--cidfile=%t/%N.cid");
  add (c, "--replace");
  add (c, "--rm");
  if (log_driver)
    add2 (c, "--log-driver", log_driver);
  if (cgroups)
    add2 (c, "--cgroups", cgroups);
  else
    add (c, "--cgroups=split");
  add (c, lookup_bool (c, "Notify") ? "--sdnotify=container" : "--sdnotify=conmon");
  add (c, "-d");
  add_table_keys (c);
  if (add_capabilities (c, err) < 0 || add_user (c, err) < 0 || add_tmpfs (c, err) < 0)
    return -1;
  add_volumes (c);
  if (add_ports (c, err) < 0 || add_networks (c, err) < 0 || add_environment (c, err) < 0
      || add_labels (c, err) < 0)
    return -1;
  add_mounts (c);
  return add_extra_args (c, err);
}

static int
convert_container (struct conv *c, struct error **err)
{
  const char *image = lookup (c, "Image");
  cleanup_strv char **head = NULL;
  cleanup_strv char **exec = NULL;
  cleanup_free char *start = NULL;
  const char *exec_value = lookup (c, "Exec");

  check_keys (c, is_container_key, container_ignored_keys);
  if (image == NULL)
    return err_make (err, 0, "no Image key specified");
  if (exec_value && quadlet_split_words (exec_value, &exec, err) < 0)
    return err_wrap (err, "Exec");
  if (command_head (c, &head, err) < 0 || container_service_keys (c, head, err) < 0)
    return -1;
  c->args = xcalloc (1, sizeof *c->args);
  for (char **h = head; *h; h++)
    add (c, *h);
  if (container_run_args (c, err) < 0)
    return -1;
  add (c, image);
  for (char **w = exec; w && *w; w++)
    add (c, *w);
  start = quadlet_join_cmdline (c->args);
  quadlet_unit_add (c->service, "Service", "ExecStart", start);
  return 0;
}

static bool
is_volume_key (const char *key)
{
  return strv_contains (volume_keys, key);
}

static int
convert_volume (struct conv *c, struct error **err)
{
  struct kv_list labels = { 0 };
  const char *driver = lookup (c, "Driver");
  cleanup_free char *name = quadlet_volume_name (c->src);
  cleanup_free char *start = NULL;
  int r;

  check_keys (c, is_volume_key, volume_ignored_keys);
  if (driver && strcmp (driver, "local") != 0)
    warn (c, "volume driver '%s' in %s is not supported by skiff, using local", driver,
          c->src->path);
  if (command_head (c, &c->args, err) < 0)
    return -1;
  add (c, "volume");
  add (c, "create");
  add (c, "--ignore");
  r = lookup_kv (c, "Label", &labels, err);
  if (r == 0)
    add_kv_sorted (c, "--label", &labels);
  kv_clear (&labels);
  if (r < 0 || add_extra_args (c, err) < 0)
    return -1;
  add (c, name);
  start = quadlet_join_cmdline (c->args);
  quadlet_unit_add (c->service, "Service", "ExecStart", start);
  quadlet_unit_set (c->service, "Service", "Type", "oneshot");
  quadlet_unit_set (c->service, "Service", "RemainAfterExit", "yes");
  quadlet_unit_set (c->service, "Service", "SyslogIdentifier", "%N");
  return 0;
}

/* ---- public ------------------------------------------------------------------ */

static const struct
{
  const char *ext;
  enum quadlet_kind kind;
  const char *service_suffix;
} kinds[] = {
  { ".container", QUADLET_CONTAINER, "" },
  { ".volume", QUADLET_VOLUME, "-volume" },
  { ".network", QUADLET_NETWORK, "-network" },
};

enum quadlet_kind
quadlet_kind_of (const char *name)
{
  size_t n = strlen (name);

  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    {
      size_t e = strlen (kinds[i].ext);
      if (n > e && strcmp (name + n - e, kinds[i].ext) == 0)
        return kinds[i].kind;
    }
  return QUADLET_NONE;
}

char *
quadlet_service_name (const char *name)
{
  enum quadlet_kind kind = quadlet_kind_of (name);

  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (kinds[i].kind == kind)
      return xasprintf ("%.*s%s.service", (int) (strlen (name) - strlen (kinds[i].ext)), name,
                        kinds[i].service_suffix);
  return NULL;
}

char *
quadlet_volume_name (const struct quadlet_unit *volume)
{
  const char *name = quadlet_unit_lookup (volume, VOLUME_GROUP, "VolumeName");
  const char *dot = strrchr (volume->name, '.');
  size_t n;

  if (name && *name)
    return xstrdup (name);
  n = dot ? (size_t) (dot - volume->name) : strlen (volume->name);
  return xasprintf ("systemd-%.*s", (int) n, volume->name);
}

struct quadlet_unit *
quadlet_convert (const struct quadlet_unit *source, struct quadlet_unit *const *units,
                 const struct quadlet_opts *o, char ***warnings, struct error **err)
{
  enum quadlet_kind kind = quadlet_kind_of (source->name);
  cleanup_quadlet_unit struct quadlet_unit *service = NULL;
  struct conv c = { .src = source, .units = units, .o = o, .warnings = warnings };
  int r;

  if (kind == QUADLET_NONE)
    {
      err_make (err, 0, "unsupported file type \"%s\"", source->name);
      return NULL;
    }
  if (kind == QUADLET_NETWORK)
    {
      err_make (err, 0, "skiff has no user-defined networks: containers use slirp4netns, "
                "none, host or container:NAME");
      return NULL;
    }
  c.group = kind == QUADLET_CONTAINER ? CONTAINER_GROUP : VOLUME_GROUP;
  service = c.service = quadlet_unit_dup (source);
  free (service->name);
  service->name = quadlet_service_name (source->name);
  quadlet_unit_rename_group (service, c.group,
                             kind == QUADLET_CONTAINER ? "X-Container" : "X-Volume");
  quadlet_unit_add (service, "Unit", "SourcePath", source->path);
  /* skiff's run directory ($XDG_RUNTIME_DIR/skiff): the store's locks
   * and state live there, where podman's are under %t/containers. */
  if (kind == QUADLET_CONTAINER)
    quadlet_unit_add (service, "Unit", "RequiresMountsFor", "%t/skiff");
  r = kind == QUADLET_CONTAINER ? convert_container (&c, err) : convert_volume (&c, err);
  strv_free (c.args);
  return r < 0 ? NULL : steal_ptr (&service);
}

char *
quadlet_service_text (const struct quadlet_unit *service)
{
  cleanup_free char *body = quadlet_unit_render (service);

  return xasprintf ("# Automatically generated by skiff quadlet\n#\n%s", body);
}

/* Whether NAME may be a link in the generator's directory. */
static bool
is_plain_unit_name (const char *name)
{
  return *name && *name != '.' && strchr (name, '/') == NULL;
}

char **
quadlet_install_links (const struct quadlet_unit *service)
{
  static const struct
  {
    const char *key;
    const char *dir_suffix; /* NULL: the link is the name itself */
  } keys[] = { { "Alias", NULL }, { "WantedBy", ".wants" }, { "RequiredBy", ".requires" } };
  char **links = xcalloc (1, sizeof *links);

  for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
    {
      cleanup_strv char **values = quadlet_unit_lookup_all (service, "Install", keys[k].key);
      for (char **v = values; *v; v++)
        {
          struct error *e = NULL;
          cleanup_strv char **words = NULL;
          if (quadlet_split_words (*v, &words, &e) < 0)
            {
              err_release (&e);
              continue;
            }
          for (char **w = words; *w; w++)
            {
              cleanup_free char *link = NULL;
              if (!is_plain_unit_name (*w))
                continue;
              link = keys[k].dir_suffix
                         ? xasprintf ("%s%s/%s", *w, keys[k].dir_suffix, service->name)
                         : xstrdup (*w);
              links = strv_append (links, link);
            }
        }
    }
  return links;
}
