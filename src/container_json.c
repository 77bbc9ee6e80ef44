/* Containers as the JSON and the strings docker and podman print. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "container_json.h"
#include "container_ops.h"
#include "container_start.h"
#include "image_json.h"
#include "net/net.h"
#include "runtime.h"
#include "storage/storage.h"
#include "libutil/buf.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"

static json_object *
get (const struct container *c, const char *section, const char *key)
{
  json_object *v = NULL;
  json_object_object_get_ex (jobj_get_object (c->config, section), key, &v);
  return v;
}

static json_object *
copy (json_object *v, json_object *def)
{
  if (v == NULL)
    return def;
  json_object_put (def);
  return json_object_get (v);
}

static void
rfc (int64_t ns, char *out, size_t len)
{
  if (ns <= 0)
    snprintf (out, len, "0001-01-01T00:00:00Z");
  else
    human_rfc3339 (ns / 1000000000, (long) (ns % 1000000000), out, len);
}

char *
container_json_command (const struct container *c)
{
  cleanup_buf struct buf b = BUF_INIT;
  json_object *parts[] = { get (c, "Config", "Entrypoint"), get (c, "Config", "Cmd") };

  for (size_t p = 0; p < 2; p++)
    for (size_t i = 0; parts[p] && i < json_object_array_length (parts[p]); i++)
      {
        if (b.len)
          buf_append_char (&b, ' ');
        buf_append_str (&b, json_object_get_string (json_object_array_get_idx (parts[p], i)));
      }
  return buf_steal (&b);
}

void
container_json_status (const struct container *c, time_t now, char *out, size_t len)
{
  char d[64];
  const struct container_state *s = &c->state;

  switch (s->status)
    {
    case CONTAINER_RUNNING:
    case CONTAINER_STOPPING:
      human_duration (now - s->started_at / 1000000000, d, sizeof d);
      snprintf (out, len, "Up %s", d);
      break;
    case CONTAINER_PAUSED:
      human_duration (now - s->started_at / 1000000000, d, sizeof d);
      snprintf (out, len, "Up %s (Paused)", d);
      break;
    case CONTAINER_EXITED:
      human_ago (s->finished_at / 1000000000, now, d, sizeof d);
      snprintf (out, len, "Exited (%d) %s", s->exit_code, d);
      break;
    default:
      snprintf (out, len, "Created");
    }
}

static json_object *
path_json (const char *dir, const char *file)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, file);
  return json_object_new_string (p);
}

static json_object *
state_json (const struct container *c)
{
  const struct container_state *s = &c->state;
  json_object *o = json_object_new_object ();
  char t[64];

  json_object_object_add (o, "Status", json_object_new_string (
                                           s->status == CONTAINER_STOPPING
                                               ? "running"
                                               : container_status_name (s->status)));
  json_object_object_add (o, "Running", json_object_new_boolean (
                                            s->status == CONTAINER_RUNNING
                                            || s->status == CONTAINER_STOPPING));
  json_object_object_add (o, "Paused", json_object_new_boolean (s->status == CONTAINER_PAUSED));
  json_object_object_add (o, "Restarting", json_object_new_boolean (s->is_restarting));
  json_object_object_add (o, "OOMKilled", json_object_new_boolean (false));
  json_object_object_add (o, "Dead", json_object_new_boolean (false));
  json_object_object_add (o, "Pid", json_object_new_int (s->status == CONTAINER_EXITED ? 0
                                                                                      : s->pid));
  json_object_object_add (o, "ExitCode", json_object_new_int (s->exit_code));
  json_object_object_add (o, "Error", json_object_new_string (s->error ? s->error : ""));
  rfc (s->started_at, t, sizeof t);
  json_object_object_add (o, "StartedAt", json_object_new_string (t));
  rfc (s->finished_at, t, sizeof t);
  json_object_object_add (o, "FinishedAt", json_object_new_string (t));
  return o;
}

static json_object *
argv_json (const struct container *c, bool is_path)
{
  json_object *ep = get (c, "Config", "Entrypoint"), *cmd = get (c, "Config", "Cmd");
  json_object *all = json_object_new_array ();

  for (size_t i = 0; ep && i < json_object_array_length (ep); i++)
    json_object_array_add (all, json_object_get (json_object_array_get_idx (ep, i)));
  for (size_t i = 0; cmd && i < json_object_array_length (cmd); i++)
    json_object_array_add (all, json_object_get (json_object_array_get_idx (cmd, i)));
  if (is_path)
    {
      json_object *first = json_object_array_length (all)
                               ? json_object_get (json_object_array_get_idx (all, 0))
                               : json_object_new_string ("");
      json_object_put (all);
      return first;
    }
  if (json_object_array_length (all))
    json_object_array_del_idx (all, 0, 1);
  return all;
}

/* docker's HostConfig members that skiff has no option for, with what
 * docker prints for a container that does not set them (a member the
 * creation recorded wins). */
static const struct
{
  const char *key;
  const char *json;
} host_config_defaults[] = {
  { "ContainerIDFile", "\"\"" },
  { "VolumeDriver", "\"\"" },
  { "VolumesFrom", "null" },
  { "ConsoleSize", "[0, 0]" },
  { "CgroupnsMode", "\"private\"" },
  { "IpcMode", "\"private\"" },
  { "Cgroup", "\"\"" },
  { "Links", "null" },
  { "OomScoreAdj", "0" },
  { "PidMode", "\"\"" },
  { "UTSMode", "\"\"" },
  { "ShmSize", "67108864" },
  { "Runtime", "\"skiff\"" },
  { "Isolation", "\"\"" },
  { "CpuShares", "0" },
  { "Memory", "0" },
  { "NanoCpus", "0" },
  { "CgroupParent", "\"\"" },
  { "BlkioWeight", "0" },
  { "BlkioWeightDevice", "[]" },
  { "BlkioDeviceReadBps", "[]" },
  { "BlkioDeviceWriteBps", "[]" },
  { "BlkioDeviceReadIOps", "[]" },
  { "BlkioDeviceWriteIOps", "[]" },
  { "CpuPeriod", "0" },
  { "CpuQuota", "0" },
  { "CpuRealtimePeriod", "0" },
  { "CpuRealtimeRuntime", "0" },
  { "CpusetCpus", "\"\"" },
  { "CpusetMems", "\"\"" },
  { "Devices", "[]" },
  { "DeviceCgroupRules", "null" },
  { "DeviceRequests", "null" },
  { "MemoryReservation", "0" },
  { "MemorySwap", "0" },
  { "MemorySwappiness", "null" },
  { "OomKillDisable", "null" },
  { "PidsLimit", "null" },
  { "CpuCount", "0" },
  { "CpuPercent", "0" },
  { "IOMaximumIOps", "0" },
  { "IOMaximumBandwidth", "0" },
};

static json_object *
paths_json (const char *const *paths, size_t n)
{
  json_object *a = json_object_new_array ();
  for (size_t i = 0; i < n; i++)
    json_object_array_add (a, json_object_new_string (paths[i]));
  return a;
}

/* A deep copy (the record stays as it was read), completed to docker's
 * shape: its restart policy "no" rather than "", and the paths the runtime
 * masks (null for --privileged, as docker prints). */
static json_object *
host_config_json (const struct container *c)
{
  json_object *hc = NULL, *rp;
  const char *const *masked, *const *readonly;
  size_t n_masked, n_readonly;
  bool is_privileged;

  if (json_object_deep_copy (jobj_get_object (c->config, "HostConfig"), &hc, NULL) < 0
      || hc == NULL)
    hc = json_object_new_object ();
  rp = jobj_get_object (hc, "RestartPolicy");
  if (rp && (jobj_get_string (rp, "Name") == NULL || *jobj_get_string (rp, "Name") == '\0'))
    json_object_object_add (rp, "Name", json_object_new_string ("no"));
  for (size_t i = 0; i < sizeof host_config_defaults / sizeof host_config_defaults[0]; i++)
    if (!json_object_object_get_ex (hc, host_config_defaults[i].key, NULL))
      json_object_object_add (hc, host_config_defaults[i].key,
                              json_tokener_parse (host_config_defaults[i].json));
  is_privileged = jobj_get_bool (hc, "Privileged", false);
  masked = runtime_masked_paths (&n_masked);
  readonly = runtime_readonly_paths (&n_readonly);
  json_object_object_add (hc, "MaskedPaths", is_privileged ? NULL : paths_json (masked, n_masked));
  json_object_object_add (hc, "ReadonlyPaths",
                          is_privileged ? NULL : paths_json (readonly, n_readonly));
  return hc;
}

/* docker's Config: every key it prints, the hostname the container gets,
 * a missing entrypoint as null, and the published ports among the exposed
 * ones (docker's CLI adds them). */
static json_object *
config_json (const struct container *c)
{
  json_object *cfg = image_json_docker_config (jobj_get_object (c->config, "Config"));
  json_object *ep = jobj_get_array (cfg, "Entrypoint");
  json_object *exposed = json_object_new_object ();
  json_object *bindings = get (c, "HostConfig", "PortBindings");
  const char *hn = jobj_get_string (cfg, "Hostname");

  if (hn == NULL || *hn == '\0')
    {
      char short_id[13];
      snprintf (short_id, sizeof short_id, "%.12s", c->id);
      json_object_object_add (cfg, "Hostname", json_object_new_string (short_id));
    }
  if (ep && json_object_array_length (ep) == 0)
    json_object_object_add (cfg, "Entrypoint", NULL);
  if (jobj_get_object (cfg, "ExposedPorts"))
    {
      json_object_object_foreach (jobj_get_object (cfg, "ExposedPorts"), k, v)
        json_object_object_add (exposed, k, json_object_get (v));
    }
  if (bindings && json_object_is_type (bindings, json_type_object))
    {
      json_object_object_foreach (bindings, k, v)
        {
          (void) v;
          if (!json_object_object_get_ex (exposed, k, NULL))
            json_object_object_add (exposed, k, json_object_new_object ());
        }
    }
  json_object_object_add (cfg, "ExposedPorts", exposed);
  return cfg;
}

/* <root> of C, whose directory is <root>/containers/<id>. */
static char *
store_root (const struct container *c)
{
  char *root = xstrdup (c->dir);

  for (int i = 0; i < 2; i++)
    {
      char *slash = strrchr (root, '/');
      if (slash && slash != root)
        *slash = '\0';
    }
  return root;
}

/* The anonymous volume a start made for DEST, or NULL. */
static const char *
anonymous_volume (const struct container *c, const char *dest)
{
  return jobj_get_string (jobj_get_object (c->config, "AnonymousVolumes"), dest);
}

/* One entry of docker's Mounts (its MountPoint) for M; MODE is what -v
 * gave after the destination, "" otherwise. */
static json_object *
mount_point_json (const struct container *c, const char *root, const struct runtime_mount *m,
                  const char *mode)
{
  json_object *o = json_object_new_object ();
  const char *name = m->source ? m->source : anonymous_volume (c, m->destination);
  const char *prop = runtime_mount_propagation_name (m->propagation);
  cleanup_free char *source = NULL;

  switch (m->type)
    {
    case RUNTIME_MOUNT_VOLUME:
      source = name ? xasprintf ("%s/volumes/%s/_data", root, name) : xstrdup ("");
      json_object_object_add (o, "Type", json_object_new_string ("volume"));
      json_object_object_add (o, "Name", json_object_new_string (name ? name : ""));
      break;
    case RUNTIME_MOUNT_BIND:
      source = xstrdup (m->source ? m->source : "");
      json_object_object_add (o, "Type", json_object_new_string ("bind"));
      prop = prop ? prop : "rprivate";
      break;
    default:
      source = xstrdup ("");
      json_object_object_add (o, "Type", json_object_new_string ("tmpfs"));
      break;
    }
  json_object_object_add (o, "Source", json_object_new_string (source));
  json_object_object_add (o, "Destination", json_object_new_string (m->destination));
  if (m->type == RUNTIME_MOUNT_VOLUME)
    json_object_object_add (o, "Driver", json_object_new_string ("local"));
  json_object_object_add (o, "Mode", json_object_new_string (mode));
  json_object_object_add (o, "RW", json_object_new_boolean (!m->is_readonly));
  json_object_object_add (o, "Propagation", json_object_new_string (prop ? prop : ""));
  return o;
}

static bool
has_destination (json_object *mounts, const char *dest)
{
  for (size_t i = 0; i < json_object_array_length (mounts); i++)
    if (strcmp (jobj_get_string (json_object_array_get_idx (mounts, i), "Destination"), dest) == 0)
      return true;
  return false;
}

/* The -v (IS_VOLUME_FLAG) or --mount specs under HostConfig KEY.  A spec
 * that no longer parses was refused at creation: it is left out. */
static void
add_mounts (json_object *out, const struct container *c, const char *root, const char *key,
            bool is_volume_flag)
{
  json_object *specs = get (c, "HostConfig", key);

  for (size_t i = 0; specs && i < json_object_array_length (specs); i++)
    {
      const char *spec = json_object_get_string (json_object_array_get_idx (specs, i));
      struct runtime_mount m = { 0 };
      struct error *e = NULL;
      const char *mode = "";
      int r;

      if (spec == NULL)
        continue;
      r = is_volume_flag ? runtime_mount_parse_volume (spec, &m, &e)
                         : runtime_mount_parse_mount (spec, &m, &e);
      if (r < 0)
        {
          err_release (&e);
          continue;
        }
      if (is_volume_flag && strchr (spec, ':') && strchr (strchr (spec, ':') + 1, ':'))
        mode = strchr (strchr (spec, ':') + 1, ':') + 1;
      json_object_array_add (out, mount_point_json (c, root, &m, mode));
      runtime_mount_clear (&m);
    }
}

/* docker's Mounts: -v and --mount specs, then the anonymous volumes its
 * starts made for the image's VOLUMEs. */
static json_object *
mounts_json (const struct container *c)
{
  json_object *a = json_object_new_array ();
  json_object *anon = jobj_get_object (c->config, "AnonymousVolumes");
  cleanup_free char *root = store_root (c);

  add_mounts (a, c, root, "Binds", true);
  add_mounts (a, c, root, "Mounts", false);
  if (anon)
    {
      json_object_object_foreach (anon, dest, name)
        {
          struct runtime_mount m = { .type = RUNTIME_MOUNT_VOLUME, .destination = dest };

          (void) name;
          if (!has_destination (a, dest))
            json_object_array_add (a, mount_point_json (c, root, &m, ""));
        }
    }
  return a;
}

static json_object *
graph_driver_json (const struct container *c)
{
  json_object *g = json_object_new_object ();
  json_object *data = json_object_new_object ();
  const struct storage_rootfs_driver *d = storage_rootfs_driver_get (container_driver (c));

  if (d)
    {
      cleanup_free char *merged = storage_rootfs_target (d, c->dir);
      json_object_object_add (data, "MergedDir", json_object_new_string (merged));
    }
  json_object_object_add (g, "Data", data);
  json_object_object_add (g, "Name", json_object_new_string (container_driver (c)));
  return g;
}

static void
add_str (json_object *o, const char *key, const char *value)
{
  json_object_object_add (o, key, json_object_new_string (value ? value : ""));
}

/* docker's EndpointSettings for the one network a container has. */
static json_object *
endpoint_json (const char *mode, json_object *st)
{
  json_object *e = json_object_new_object ();

  json_object_object_add (e, "IPAMConfig", NULL);
  json_object_object_add (e, "Links", NULL);
  json_object_object_add (e, "Aliases", NULL);
  add_str (e, "NetworkID", mode);
  add_str (e, "EndpointID", "");
  add_str (e, "Gateway", jobj_get_string (st, "Gateway"));
  add_str (e, "IPAddress", jobj_get_string (st, "IPAddress"));
  json_object_object_add (e, "IPPrefixLen",
                          json_object_new_int ((int) jobj_get_int (st, "IPPrefixLen", 0)));
  add_str (e, "IPv6Gateway", "");
  add_str (e, "GlobalIPv6Address", "");
  json_object_object_add (e, "GlobalIPv6PrefixLen", json_object_new_int (0));
  add_str (e, "MacAddress", "");
  json_object_object_add (e, "DriverOpts", NULL);
  return e;
}

/* docker's NetworkSettings from what the running container's state
 * recorded (nothing once it stopped, as docker empties it).  Networks
 * holds one entry named after the network mode, so that `{{range
 * .NetworkSettings.Networks}}{{.IPAddress}}{{end}}` works; a container
 * that joined another's namespace has none, as in docker. */
static json_object *
network_settings_json (const struct container *c)
{
  json_object *ns = json_object_new_object ();
  json_object *st = container_is_running (c) ? c->state.network : NULL;
  json_object *ports = jobj_get_object (st, "Ports");
  json_object *nets = json_object_new_object ();
  const char *mode = jobj_get_string (jobj_get_object (c->config, "HostConfig"), "NetworkMode");
  char key[64] = "";

  if (container_is_running (c) && c->state.pid > 0)
    snprintf (key, sizeof key, "/proc/%d/ns/net", (int) c->state.pid);
  add_str (ns, "Bridge", "");
  add_str (ns, "SandboxID", "");
  json_object_object_add (ns, "HairpinMode", json_object_new_boolean (false));
  add_str (ns, "LinkLocalIPv6Address", "");
  json_object_object_add (ns, "LinkLocalIPv6PrefixLen", json_object_new_int (0));
  json_object_object_add (ns, "Ports", ports ? json_object_get (ports) : json_object_new_object ());
  add_str (ns, "SandboxKey", key);
  json_object_object_add (ns, "SecondaryIPAddresses", NULL);
  json_object_object_add (ns, "SecondaryIPv6Addresses", NULL);
  add_str (ns, "EndpointID", "");
  add_str (ns, "Gateway", jobj_get_string (st, "Gateway"));
  add_str (ns, "GlobalIPv6Address", "");
  json_object_object_add (ns, "GlobalIPv6PrefixLen", json_object_new_int (0));
  add_str (ns, "IPAddress", jobj_get_string (st, "IPAddress"));
  json_object_object_add (ns, "IPPrefixLen",
                          json_object_new_int ((int) jobj_get_int (st, "IPPrefixLen", 0)));
  add_str (ns, "IPv6Gateway", "");
  add_str (ns, "MacAddress", "");
  if (mode && *mode && strncmp (mode, "container:", 10) != 0)
    json_object_object_add (nets, mode, endpoint_json (mode, st));
  json_object_object_add (ns, "Networks", nets);
  return ns;
}

/* docker's inspect object, its keys in docker's order; "ImageName" is
 * podman's.  The name has no leading "/": podman's form, which the rest of
 * skiff takes back as a name (docker scripts strip the "/" anyway). */
json_object *
container_json_inspect (const struct container *c)
{
  json_object *o = json_object_new_object ();
  char t[64];

  json_object_object_add (o, "Id", json_object_new_string (c->id));
  rfc (c->created, t, sizeof t);
  json_object_object_add (o, "Created", json_object_new_string (t));
  json_object_object_add (o, "Path", argv_json (c, true));
  json_object_object_add (o, "Args", argv_json (c, false));
  json_object_object_add (o, "State", state_json (c));
  json_object_object_add (o, "Image", json_object_new_string (c->image_id ? c->image_id : ""));
  json_object_object_add (o, "ImageName",
                          json_object_new_string (c->image_name ? c->image_name : ""));
  json_object_object_add (o, "ResolvConfPath", path_json (c->run_dir, "resolv.conf"));
  json_object_object_add (o, "HostnamePath", path_json (c->run_dir, "hostname"));
  json_object_object_add (o, "HostsPath", path_json (c->run_dir, "hosts"));
  json_object_object_add (o, "LogPath", path_json (c->dir, "ctr.log"));
  json_object_object_add (o, "Name", json_object_new_string (c->name));
  json_object_object_add (o, "RestartCount", json_object_new_int (c->state.restart_count));
  json_object_object_add (o, "Driver", json_object_new_string (container_driver (c)));
  json_object_object_add (o, "Platform", json_object_new_string ("linux"));
  json_object_object_add (o, "MountLabel", json_object_new_string (""));
  json_object_object_add (o, "ProcessLabel", json_object_new_string (""));
  json_object_object_add (o, "AppArmorProfile", json_object_new_string (""));
  json_object_object_add (o, "ExecIDs", NULL);
  json_object_object_add (o, "HostConfig", host_config_json (c));
  json_object_object_add (o, "GraphDriver", graph_driver_json (c));
  json_object_object_add (o, "Mounts", mounts_json (c));
  json_object_object_add (o, "Config", config_json (c));
  json_object_object_add (o, "NetworkSettings", network_settings_json (c));
  return o;
}

json_object *
container_json_ps (const struct container *c)
{
  json_object *o = json_object_new_object ();
  json_object *names = json_object_new_array ();
  char t[64];

  json_object_object_add (o, "AutoRemove", copy (get (c, "HostConfig", "AutoRemove"),
                                                 json_object_new_boolean (false)));
  {
    json_object *cmd = argv_json (c, false);
    json_object_array_put_idx (cmd, 0, NULL);
    json_object_put (cmd);
  }
  json_object *full = json_object_new_array ();
  json_object *ep = get (c, "Config", "Entrypoint"), *cmd = get (c, "Config", "Cmd");
  for (size_t i = 0; ep && i < json_object_array_length (ep); i++)
    json_object_array_add (full, json_object_get (json_object_array_get_idx (ep, i)));
  for (size_t i = 0; cmd && i < json_object_array_length (cmd); i++)
    json_object_array_add (full, json_object_get (json_object_array_get_idx (cmd, i)));
  json_object_object_add (o, "Command", full);
  rfc (c->created, t, sizeof t);
  json_object_object_add (o, "CreatedAt", json_object_new_string (t));
  json_object_object_add (o, "Created", json_object_new_int64 (c->created / 1000000000));
  json_object_object_add (o, "Exited", json_object_new_boolean (c->state.status
                                                                == CONTAINER_EXITED));
  json_object_object_add (o, "ExitedAt", json_object_new_int64 (c->state.finished_at
                                                                / 1000000000));
  json_object_object_add (o, "ExitCode", json_object_new_int (c->state.exit_code));
  json_object_object_add (o, "Id", json_object_new_string (c->id));
  json_object_object_add (o, "Image", json_object_new_string (c->image_name ? c->image_name
                                                                            : ""));
  json_object_object_add (o, "ImageID", json_object_new_string (
                                            c->image_id && strlen (c->image_id) > 7
                                                ? c->image_id + 7 : ""));
  json_object_object_add (o, "Labels", copy (get (c, "Config", "Labels"),
                                             json_object_new_object ()));
  json_object_array_add (names, json_object_new_string (c->name));
  json_object_object_add (o, "Names", names);
  json_object_object_add (o, "Pid", json_object_new_int (c->state.pid));
  json_object_object_add (o, "Ports", json_object_new_array ());
  json_object_object_add (o, "StartedAt", json_object_new_int64 (c->state.started_at
                                                                 / 1000000000));
  json_object_object_add (o, "State", json_object_new_string (
                                          container_status_name (c->state.status)));
  return o;
}

char *
container_json_ports (const struct container *c)
{
  struct net_ports ports = NET_PORTS_INIT, none = NET_PORTS_INIT;
  char *s;

  if (c->state.network == NULL || !container_is_running (c)
      || net_ports_from_bindings (jobj_get_object (c->state.network, "Ports"), &ports, NULL) < 0)
    {
      net_ports_clear (&ports);
      return xstrdup ("");
    }
  s = net_ports_format_ps (&ports, &none);
  net_ports_clear (&ports);
  return s;
}

/* Docker's COMMAND cell: cut to 20 columns ending in "…" unless
 * IS_NO_TRUNC (its formatter.Ellipsis), then quoted as Go's
 * strconv.Quote quotes it. */
static char *
ps_command (const char *cmd, bool is_no_trunc)
{
  struct buf b = BUF_INIT;
  size_t runes = 0, cut = strlen (cmd);

  for (size_t i = 0; cmd[i]; i++)
    if (((unsigned char) cmd[i] & 0xc0) != 0x80 && runes++ == 19)
      cut = i;
  if (is_no_trunc || runes <= 20)
    cut = strlen (cmd);
  buf_append_char (&b, '"');
  for (size_t i = 0; i < cut; i++)
    {
      unsigned char ch = (unsigned char) cmd[i];
      if (ch == '"' || ch == '\\')
        buf_printf (&b, "\\%c", ch);
      else if (ch == '\n')
        buf_append_str (&b, "\\n");
      else if (ch == '\t')
        buf_append_str (&b, "\\t");
      else if (ch < 0x20 || ch == 0x7f)
        buf_printf (&b, "\\x%02x", ch);
      else
        buf_append_char (&b, (char) ch);
    }
  if (cut < strlen (cmd))
    buf_append_str (&b, "\u2026");
  buf_append_char (&b, '"');
  return buf_steal (&b);
}

json_object *
container_json_ps_row (const struct container *c, bool is_no_trunc, time_t now)
{
  json_object *o = json_object_new_object ();
  cleanup_free char *full = container_json_command (c);
  cleanup_free char *cmd = ps_command (full, is_no_trunc);
  char status[96], created[64], id[80];
  cleanup_buf struct buf labels = BUF_INIT;
  json_object *l = get (c, "Config", "Labels");
  cleanup_free char *ports = container_json_ports (c);

  snprintf (id, sizeof id, is_no_trunc ? "%s" : "%.12s", c->id);
  container_json_status (c, now, status, sizeof status);
  human_ago (c->created / 1000000000, now, created, sizeof created);
  if (l && json_object_is_type (l, json_type_object))
    {
      json_object_object_foreach (l, k, v)
        buf_printf (&labels, "%s%s=%s", labels.len ? "," : "", k, json_object_get_string (v));
    }
  json_object_object_add (o, "ID", json_object_new_string (id));
  json_object_object_add (o, "Names", json_object_new_string (c->name));
  json_object_object_add (o, "Image", json_object_new_string (c->image_name ? c->image_name
                                                                            : ""));
  json_object_object_add (o, "Command", json_object_new_string (cmd));
  json_object_object_add (o, "CreatedAt", json_object_new_string (created));
  json_object_object_add (o, "RunningFor", json_object_new_string (created));
  json_object_object_add (o, "Status", json_object_new_string (status));
  json_object_object_add (o, "State", json_object_new_string (
                                          container_status_name (c->state.status)));
  json_object_object_add (o, "Ports", json_object_new_string (ports));
  json_object_object_add (o, "Labels", json_object_new_string (labels.data ? labels.data : ""));
  json_object_object_add (o, "Mounts", json_object_new_string (""));
  return o;
}
