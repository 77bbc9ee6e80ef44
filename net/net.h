/* net/: libslirp glue, the tap device and port forwarding.  Uses libutil/
 * only.  The module's one public header. */
#ifndef SKIFF_NET_NET_H
#define SKIFF_NET_NET_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "libutil/error.h"

/* === libslirp information (slirp_info.c) ================================ */

/* The version of the libslirp loaded at run time ("4.7.0"), which may
 * differ from the one skiff was built against.  Static string. */
const char *net_slirp_version (void);

/* === network modes: --network (netmode.c) ============================== */

/* What --network asks for. */
enum net_mode_kind
{
  NET_MODE_SLIRP,     /* a new network namespace served by libslirp (the default;
                         also "bridge", "private" and "default") */
  NET_MODE_NONE,      /* a new network namespace with only lo */
  NET_MODE_HOST,      /* the host's network namespace */
  NET_MODE_CONTAINER, /* another container's namespace, TARGET names it */
  NET_MODE_NS,        /* the namespace file at the absolute path TARGET */
};

#define NET_DEFAULT_MTU 65520
#define NET_TAP_NAME "tap0"

/* The slirp network, with podman's "slirp4netns:OPT=V,..." names. */
struct net_slirp_opts
{
  struct in_addr network;      /* cidr=: 10.0.2.0; gateway .2, DNS .3, us .100 */
  unsigned prefix_len;         /* cidr=: 24, at most 25 so .100 fits */
  unsigned mtu;                /* mtu=: 65520, 68..65521 (1280 with IPv6) */
  bool is_ipv6_enabled;        /* enable_ipv6=: true; fd00::/64 */
  bool is_host_loopback_allowed; /* allow_host_loopback=: false; true lets
                                    the container reach the host's 127.0.0.1
                                    as the gateway address */
  char *outbound_addr;         /* outbound_addr=: IPv4 address or interface, or NULL */
  char *outbound_addr6;        /* outbound_addr6=: IPv6 address or interface, or NULL */
};

struct net_mode
{
  enum net_mode_kind kind;
  char *target;                /* CONTAINER and NS only, else NULL */
  struct net_slirp_opts slirp; /* SLIRP only; defaults otherwise */
};

/* The defaults: 10.0.2.0/24, MTU 65520, IPv6 on, host loopback off. */
void net_slirp_opts_init (struct net_slirp_opts *o);

/* Parse a --network value: NULL, "", "default", "bridge", "private" and
 * "slirp4netns[:OPTS]" give SLIRP (skiff has no bridge driver: like
 * rootless podman it serves a private namespace with slirp, as root too);
 * "none", "host", "container:NAME", "ns:/PATH".  OPTS: allow_host_loopback,
 * cidr, enable_ipv6, mtu, outbound_addr, outbound_addr6 and
 * port_handler=slirp4netns.  Fails naming the value for pasta, rootlesskit,
 * named networks, unknown or malformed options.  OUT is released with
 * net_mode_clear() (also after a failure). */
int net_mode_parse (const char *spec, struct net_mode *out, struct error **err)
    __attribute__ ((warn_unused_result));
void net_mode_clear (struct net_mode *m);

/* The addresses a slirp network derives from its CIDR, as slirp4netns does. */
struct net_addrs
{
  struct in_addr network, netmask;
  struct in_addr gateway;       /* network + 2: the host, host.containers.internal */
  struct in_addr dns;           /* network + 3: nameserver for /etc/resolv.conf */
  struct in_addr guest;         /* network + 100: the container */
  unsigned prefix_len;
  struct in6_addr prefix6;      /* fd00:: /64 */
  struct in6_addr gateway6;     /* fd00::2 */
  struct in6_addr dns6;         /* fd00::3 */
};

void net_slirp_opts_addrs (const struct net_slirp_opts *o, struct net_addrs *out);

/* === the tap device (tap.c) ============================================== */

struct net_tap_config
{
  const char *name;        /* NET_TAP_NAME */
  unsigned mtu;
  struct in_addr addr;     /* the container's address */
  unsigned prefix_len;
  struct in_addr gateway;  /* the default route's next hop */
};

/* The tap of a slirp network with options O (addresses from
 * net_slirp_opts_addrs()). */
void net_tap_config_from_opts (const struct net_slirp_opts *o, struct net_tap_config *out);

/* A container's network namespace as its owner keeps it: the namespaces,
 * opened while they could be (a container that changed to a non-root user
 * is not dumpable, and its /proc/PID/ns files refuse us), and a pool of
 * unconnected non-blocking TCP sockets made inside it, which the relay of
 * published ports (relay.c) connects to the container from outside. */
#define NET_NETNS_POOL 32

struct net_netns
{
  int user_fd;                 /* the container's user namespace; -1: ours */
  int net_fd;                  /* its network namespace; -1: ours (tests) */
  int pool[NET_NETNS_POOL];
  size_t n_pool;
};

/* Empty: no descriptors. */
void net_netns_init (struct net_netns *ns);
/* Close every descriptor of NS; it is empty after. */
void net_netns_close (struct net_netns *ns);

/* Fill NS's pool up to NET_NETNS_POOL sockets through a short child that
 * joins NS's namespaces, makes them and passes them back.  Reaps its
 * child itself; forks, as net_tap_open(). */
int net_netns_fill (struct net_netns *ns, struct error **err)
    __attribute__ ((warn_unused_result));

/* Create the tap device CFG describes inside the network namespace of
 * CONTAINER_PID and return its descriptor (close-on-exec, non-blocking) in
 * *TAP_FD, the namespaces and a full pool of sockets in *NS (released with
 * net_netns_close(); empty after a failure).  A short child joins the
 * container's user namespace (when it is not ours: the rights over a
 * network namespace are held in the user namespace that owns it) and
 * network namespace, brings lo up, creates and configures the tap (MTU,
 * address, up, default route; IPv6 comes from slirp's router
 * advertisements), makes the sockets and passes the descriptors back with
 * SCM_RIGHTS; its failure comes back as the error.  Refuses a process that
 * shares our network namespace.  Forks: call it from a single-threaded
 * process, and reap nothing with waitpid(-1) meanwhile (it reaps its own
 * child). */
int net_tap_open (pid_t container_pid, const struct net_tap_config *cfg, int *tap_fd,
                  struct net_netns *ns, struct error **err) __attribute__ ((warn_unused_result));

/* Bring lo up in the network namespace of CONTAINER_PID (--network none),
 * through the same kind of short child as net_tap_open(). */
int net_loopback_up (pid_t container_pid, struct error **err)
    __attribute__ ((warn_unused_result));

/* Bring lo up in the caller's own network namespace: for a process already
 * inside the container's namespaces with CAP_NET_ADMIN there.  Safe after
 * fork. */
int net_loopback_up_self (struct error **err) __attribute__ ((warn_unused_result));

/* === published ports: -p, -P, --expose (portfwd.c) ====================== */

enum net_proto
{
  NET_PROTO_TCP,
  NET_PROTO_UDP,
};

/* One host port forwarded to one container port. */
struct net_port
{
  char host_ip[INET6_ADDRSTRLEN]; /* without brackets; "" = every IPv4 address */
  bool is_ipv6;                   /* HOST_IP is an IPv6 address */
  uint16_t host_port;             /* 0: any free port, chosen by net_ports_reserve() */
  uint16_t host_port_last;        /* > HOST_PORT: a free one of HOST_PORT..LAST is
                                     chosen ("-p 8000-8010:80"); else == HOST_PORT */
  uint16_t container_port;
  enum net_proto proto;
  int reserved_fd;                /* the socket holding the host port between
                                     net_ports_reserve() and the forward, or -1 */
};

/* A list of ports, in the order given. */
struct net_ports
{
  struct net_port *v;
  size_t n;
};

#define NET_PORTS_INIT { NULL, 0 }

/* Append the ports of one -p value, "[hostIP:][hostPort:]containerPort[/proto]":
 * IPv6 host addresses in brackets ("[::1]:8080:80"), an empty or missing
 * host port for any free one, equal-length ranges ("8000-8010:80-90", one
 * entry per port), a host range for one container port ("8000-8010:80"),
 * protocols tcp, udp or "tcp,udp".  Fails naming SPEC on anything else
 * (sctp included: slirp cannot carry it); PORTS is unchanged then. */
int net_ports_parse (const char *spec, struct net_ports *ports, struct error **err)
    __attribute__ ((warn_unused_result));

/* Append the ports of one --expose value or image ExposedPorts key,
 * "containerPort[-last][/proto]", as unpublished entries (host port 0). */
int net_ports_parse_exposed (const char *spec, struct net_ports *ports, struct error **err)
    __attribute__ ((warn_unused_result));

/* -P: append a random-host-port entry for every port of EXPOSED whose
 * container port and protocol PORTS does not publish yet. */
void net_ports_publish_all (struct net_ports *ports, const struct net_ports *exposed);

/* Before the container starts, in the process that will run slirp: check
 * every host port is free by binding a socket to it, choose the free ports
 * asked for (port 0 or a range) and keep each socket in reserved_fd until
 * net_slirp_add_ports() or net_ports_release().  Fails, with nothing kept,
 * naming the port: already in use (also twice in PORTS), privileged (names
 * net.ipv4.ip_unprivileged_port_start and its value), or a host address that
 * is not ours. */
int net_ports_reserve (struct net_ports *ports, struct error **err)
    __attribute__ ((warn_unused_result));

/* Close the reservation sockets that are still open. */
void net_ports_release (struct net_ports *ports);
/* Release and free; PORTS is empty and reusable after. */
void net_ports_clear (struct net_ports *ports);

/* HostConfig.PortBindings in docker's shape:
 * {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}, HostPort "" for any
 * free port and "8000-8010" for a range to choose from.  New reference. */
json_object *net_ports_to_bindings (const struct net_ports *ports);

/* Append the ports of a HostConfig.PortBindings object (as
 * net_ports_to_bindings() writes it; NULL is empty).  Validates it as
 * hostile input; fails naming the key. */
int net_ports_from_bindings (json_object *bindings, struct net_ports *ports,
                             struct error **err) __attribute__ ((warn_unused_result));

/* NetworkSettings.Ports in docker's shape: each published port's key
 * ("80/tcp") with [{"HostIp": "0.0.0.0", "HostPort": "8080"}], then each
 * port of EXPOSED (may be NULL) that is not published with null.  New
 * reference. */
json_object *net_ports_to_settings (const struct net_ports *ports,
                                    const struct net_ports *exposed);

/* The PORTS column of ps: "0.0.0.0:8080->80/tcp, [::1]:53->53/udp", runs of
 * consecutive ports folded ("0.0.0.0:8000-8002->80-82/tcp"), then exposed
 * but unpublished ports ("443/tcp").  Malloc'd, "" when none. */
char *net_ports_format_ps (const struct net_ports *ports, const struct net_ports *exposed);

/* `port CTR [PORT[/PROTO]]`: with FILTER NULL one line per published port,
 * "80/tcp -> 0.0.0.0:8080"; with FILTER ("80", "80/udp") the host
 * addresses of that port, "0.0.0.0:8080".  Each line ends in "\n".  Fails
 * for a malformed FILTER or one that is not published. */
char *net_ports_format_port (const struct net_ports *ports, const char *filter,
                             struct error **err);

/* === the slirp network (slirp.c) ========================================= */

/* One libslirp instance serving one container's tap.  Opaque. */
struct net_slirp;

/* Start slirp with options O on TAP_FD and NS (from net_tap_open()), which
 * it owns from now on, also when this fails (NS is empty after): 10.0.2.0/24 (or O's CIDR), gateway
 * .2, DNS .3 forwarded to the first nameserver of the host's
 * /etc/resolv.conf (libslirp rereads it when it changes; a resolver on the
 * host's loopback works, the host loopback option does not apply to DNS),
 * the container at .100, fd00::/64 with router advertisements.  Unless O
 * allows it, the container cannot reach the host's loopback through the
 * gateway: its TCP connections there are refused and its datagrams
 * dropped, but answers to clients on the host's loopback that came in
 * through a published UDP port pass (libslirp's own switch would drop
 * them too). */
struct net_slirp *net_slirp_new (const struct net_slirp_opts *o, int tap_fd, struct net_netns *ns,
                                 struct error **err);

/* Stop slirp: close every socket, the listeners and the tap.  NULL is a no-op. */
void net_slirp_free (struct net_slirp *n);

/* Forward every port of PORTS (reserved by net_ports_reserve()).  TCP
 * ports go through the relay (relay.c): the reservation socket becomes its
 * listener, and each connection is relayed to the container through a
 * socket of the pool.  UDP ports go through slirp's forwarding: each
 * reservation socket is closed right before slirp binds the port, so the
 * port stays taken until then.  Fails naming the first port that could
 * not be bound; the forwards added before it stay. */
int net_slirp_add_ports (struct net_slirp *n, struct net_ports *ports, struct error **err)
    __attribute__ ((warn_unused_result));

/* One round of the owner's poll loop, which serves slirp alongside its own
 * descriptors:
 *
 *     struct pollfd own[K] = { ...the owner's descriptors... };
 *     int timeout = -1;       (or the owner's own timeout in ms)
 *     size_t nfds;
 *     struct pollfd *fds = net_slirp_poll_prepare (n, own, K, &nfds, &timeout);
 *     int rc = poll (fds, nfds, timeout);
 *     net_slirp_poll_done (n, rc);
 *     ...fds[0..K) carry the revents of the owner's descriptors...
 *
 * poll_prepare copies OWN to the front of an array that N owns (valid
 * until the next prepare), appends the tap, slirp's sockets and the relay's
 * (published TCP ports), and lowers
 * *TIMEOUT_MS (-1: none) to slirp's next deadline.  While the network is
 * idle there is none: no timer ticks, poll sleeps until a descriptor wakes
 * it.  poll_done (RC is poll's result; negative for an error such as
 * EINTR) feeds the tap's frames to slirp, serves its sockets, runs its
 * due timers and serves the relay.  Neither fails; neither is safe in a signal handler. */
struct pollfd *net_slirp_poll_prepare (struct net_slirp *n, const struct pollfd *own,
                                       size_t n_own, size_t *n_fds, int *timeout_ms);
void net_slirp_poll_done (struct net_slirp *n, int poll_rc);

#endif
