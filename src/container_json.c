/* Containers as the JSON and the strings docker and podman print. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "container_json.h"
#include "container_ops.h"
#include "container_start.h"
#include "net/net.h"
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

json_object *
container_json_inspect (const struct container *c)
{
  json_object *o = json_object_new_object ();
  json_object *ns = json_object_new_object ();
  char t[64];

  json_object_object_add (o, "Id", json_object_new_string (c->id));
  rfc (c->created, t, sizeof t);
  json_object_object_add (o, "Created", json_object_new_string (t));
  json_object_object_add (o, "Path", argv_json (c, true));
  json_object_object_add (o, "Args", argv_json (c, false));
  json_object_object_add (o, "State", state_json (c));
  json_object_object_add (o, "Image", json_object_new_string (c->image_id ? c->image_id : ""));
  json_object_object_add (o, "ImageName", json_object_new_string (c->image_name ? c->image_name
                                                                                : ""));
  json_object_object_add (o, "Name", json_object_new_string (c->name));
  json_object_object_add (o, "RestartCount", json_object_new_int (c->state.restart_count));
  json_object_object_add (o, "Driver", json_object_new_string (container_driver (c)));
  json_object_object_add (o, "Mounts", copy (get (c, "HostConfig", "Binds"),
                                             json_object_new_array ()));
  json_object_object_add (o, "Config", copy (jobj_get_object (c->config, "Config"),
                                             json_object_new_object ()));
  json_object_object_add (o, "HostConfig", copy (jobj_get_object (c->config, "HostConfig"),
                                                 json_object_new_object ()));
  if (c->state.network && container_is_running (c))
    {
      json_object_put (ns);
      ns = json_object_get (c->state.network);
    }
  else
    {
      json_object_object_add (ns, "IPAddress", json_object_new_string (""));
      json_object_object_add (ns, "Ports", json_object_new_object ());
    }
  json_object_object_add (o, "NetworkSettings", ns);
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
