/* The container's network as its owner runs it; see container_net.h. */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "container_net.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"

static int
exposed_ports (struct container *c, struct net_ports *out, struct error **err)
{
  json_object *ep = jobj_get_object (jobj_get_object (c->config, "Config"), "ExposedPorts");

  if (ep == NULL)
    return 0;
  json_object_object_foreach (ep, key, val)
    {
      (void) val;
      if (net_ports_parse_exposed (key, out, err) < 0)
        return -1;
    }
  return 0;
}

int
container_net_prepare (struct container *c, struct container_net **out, struct error **err)
{
  json_object *hc = jobj_get_object (c->config, "HostConfig");
  struct container_net *n = xmalloc0 (sizeof *n);

  n->ports = (struct net_ports) NET_PORTS_INIT;
  n->exposed = (struct net_ports) NET_PORTS_INIT;
  if (net_mode_parse (jobj_get_string (hc, "NetworkMode"), &n->mode, err) < 0
      || exposed_ports (c, &n->exposed, err) < 0
      || net_ports_from_bindings (jobj_get_object (hc, "PortBindings"), &n->ports, err) < 0)
    goto fail;
  if (jobj_get_bool (hc, "PublishAllPorts", false))
    net_ports_publish_all (&n->ports, &n->exposed);
  if (n->ports.n > 0 && n->mode.kind == NET_MODE_CONTAINER)
    {
      /* podman's words: the ports are the other container's to publish. */
      err_make (err, 0, "invalid config provided: published ports and container network "
                "mode are mutually exclusive; ports cannot be published with container "
                "network mode");
      goto fail;
    }
  if (n->ports.n > 0 && n->mode.kind != NET_MODE_SLIRP)
    {
      err_make (err, 0, "published ports need the slirp4netns network, not --network %s",
                jobj_get_string (hc, "NetworkMode"));
      goto fail;
    }
  /* Check (and choose random) host ports now, so a used port fails before
   * anything starts; release them at once, since the container's first
   * process is forked from us and would keep copies of the sockets.  The
   * created hook takes them again, for slirp. */
  if (net_ports_reserve (&n->ports, err) < 0)
    goto fail;
  net_ports_release (&n->ports);
  net_slirp_opts_addrs (&n->mode.slirp, &n->addrs);
  *out = n;
  return 0;

fail:
  container_net_free (n);
  return -1;
}

int
container_net_created (void *data, pid_t pid, struct error **err)
{
  struct container_net *n = data;
  struct net_tap_config tc;
  struct net_netns ns;
  int tap = -1;

  if (n->mode.kind == NET_MODE_NONE)
    return net_loopback_up (pid, err);
  if (n->mode.kind != NET_MODE_SLIRP)
    return 0;
  if (net_ports_reserve (&n->ports, err) < 0)
    return -1;
  net_tap_config_from_opts (&n->mode.slirp, &tc);
  if (net_tap_open (pid, &tc, &tap, &ns, err) < 0)
    return err_wrap (err, "set up the network");
  n->slirp = net_slirp_new (&n->mode.slirp, tap, &ns, err);
  if (n->slirp == NULL)
    return err_wrap (err, "set up the network");
  if (net_slirp_add_ports (n->slirp, &n->ports, err) < 0)
    return -1;
  return 0;
}

json_object *
container_net_settings (const struct container_net *n)
{
  json_object *o = json_object_new_object ();
  char ip[INET_ADDRSTRLEN] = "", gw[INET_ADDRSTRLEN] = "";
  bool is_slirp = n->mode.kind == NET_MODE_SLIRP;

  json_object_object_add (o, "Ports", net_ports_to_settings (&n->ports, &n->exposed));
  if (is_slirp)
    {
      inet_ntop (AF_INET, &n->addrs.guest, ip, sizeof ip);
      inet_ntop (AF_INET, &n->addrs.gateway, gw, sizeof gw);
    }
  json_object_object_add (o, "IPAddress", json_object_new_string (ip));
  json_object_object_add (o, "Gateway", json_object_new_string (gw));
  json_object_object_add (o, "IPPrefixLen",
                          json_object_new_int (is_slirp ? (int) n->addrs.prefix_len : 0));
  return o;
}

struct pollfd *
container_net_poll_prepare (struct container_net *n, struct pollfd *own, size_t n_own,
                            size_t *n_fds, int *timeout_ms)
{
  if (n == NULL || n->slirp == NULL)
    {
      *n_fds = n_own;
      return own;
    }
  return net_slirp_poll_prepare (n->slirp, own, n_own, n_fds, timeout_ms);
}

void
container_net_poll_done (struct container_net *n, int poll_rc)
{
  if (n && n->slirp)
    net_slirp_poll_done (n->slirp, poll_rc);
}

void
container_net_free (struct container_net *n)
{
  if (n == NULL)
    return;
  net_slirp_free (n->slirp);
  net_ports_clear (&n->ports);
  net_ports_clear (&n->exposed);
  net_mode_clear (&n->mode);
  free (n);
}
