/* A container's network, from the side of the process that owns it (the
 * foreground CLI or the monitor): the mode, the published ports reserved
 * before the start, and the libslirp instance serving the container's tap
 * device, driven from the owner's poll loop. */
#ifndef SKIFF_SRC_CONTAINER_NET_H
#define SKIFF_SRC_CONTAINER_NET_H

#include <poll.h>
#include <stdbool.h>

#include "container.h"
#include "net/net.h"

struct container_net
{
  struct net_mode mode;
  struct net_ports ports;    /* published, host ports reserved */
  struct net_ports exposed;
  struct net_addrs addrs;    /* slirp's addresses (SLIRP mode) */
  struct net_slirp *slirp;   /* once the container exists */
};

/* Parse C's network mode and reserve its published host ports (random ones
 * chosen now), before anything starts: a used port fails here, naming it.
 * *OUT is released with container_net_free(). */
int container_net_prepare (struct container *c, struct container_net **out, struct error **err)
    __attribute__ ((warn_unused_result));

/* The runtime's on_created hook (DATA: the container_net): the tap device
 * in the new network namespace and the slirp instance with the port
 * forwards, or just lo up for --network none. */
int container_net_created (void *data, pid_t pid, struct error **err);

/* What the state records for NetworkSettings: Ports (docker's shape),
 * IPAddress, Gateway and IPPrefixLen ("" and 0 without slirp), new
 * reference. */
json_object *container_net_settings (const struct container_net *n);

/* The poll set to wait on: OWN plus slirp's descriptors, and the timeout
 * slirp's timers need (*TIMEOUT_MS stays -1 while the network is idle).
 * Without slirp, OWN itself.  Call container_net_poll_done() after poll. */
struct pollfd *container_net_poll_prepare (struct container_net *n, struct pollfd *own,
                                           size_t n_own, size_t *n_fds, int *timeout_ms);
void container_net_poll_done (struct container_net *n, int poll_rc);

void container_net_free (struct container_net *n);

#endif
