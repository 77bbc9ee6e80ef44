/* The slirp network: one libslirp instance serving one container's tap,
 * driven by its owner's poll loop (the monitor, or the foreground CLI).
 *
 * The loop costs nothing while the network is idle.  libslirp needs a
 * wake-up only for its TCP timers, and asks for more than it needs:
 * slirp_pollfds_fill() caps every timeout at one second even with nothing
 * to do, and asks for its slow timer (499 ms) whenever any TCP socket
 * exists, the listeners of published ports included (slirp_update_timeout
 * and slirp_pollfds_fill in slirp.c, libslirp 4.7).  So slirp_wait() reads
 * its answer: the fast timer (delayed ACKs) is always honoured; the slow
 * one only while a connection, a UDP or ICMP session (the descriptors
 * slirp registers through register_poll_fd; listeners are not registered)
 * or an IPv4 fragment being reassembled exists; the one-second cap never.
 * A slow timer skipped while idle runs at the next wake-up, which is all
 * it would have done.  The only timer of our own list, the IPv6 router
 * advertisement, fires every 200 to 600 seconds.
 *
 * One round of the loop (net_slirp_poll_done):
 *
 *   1. slirp_pollfds_poll: timers, then the sockets.  It runs first
 *      because it is where libslirp reads the clock: frames fed to it
 *      after a long sleep would otherwise get a stale time (and a UDP
 *      session created then would expire at once).
 *   2. read_tap: the guest's frames, past the host loopback guard
 *      (guard.c), into slirp_input, a bounded batch.  libslirp sends
 *      packets that waited for the guest's ARP reply only from
 *      slirp_pollfds_poll, so after frames the next round does not sleep.
 *   3. run_timers: our timer list.
 *   4. net_relay_poll_done: the relay of published TCP ports (relay.c),
 *      whose descriptors poll_prepare appended after slirp's.  Published
 *      UDP ports stay with slirp's forwarding. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <libslirp.h>

#include "libutil/log.h"
#include "libutil/mem.h"
#include "internal.h"
#include "net.h"

#define SLIRP_FAST_MS 2       /* libslirp's TIMEOUT_FAST: a delayed ACK is due */
#define SLIRP_CAP_MS 1000     /* libslirp's cap on any timeout, not a deadline */
#define FRAG_TTL_MS 30000     /* IPFRAGTTL: 60 slow ticks of 500 ms */
#define TAP_BATCH 64          /* frames read per round, so the owner's fds get a turn */
#define ETH_OVERHEAD 18       /* Ethernet header and one VLAN tag */
#define ETH_HLEN_ 14
#define ETHERTYPE_IPV4 0x0800
#define IPV4_FRAG_MASK 0x3fff /* the MF flag and the fragment offset */

struct net_timer
{
  struct net_timer *next;
  SlirpTimerCb cb;
  void *cb_opaque;
  int64_t expire_ms; /* -1 while not armed */
};

struct net_slirp
{
  Slirp *slirp;
  int tap_fd;
  struct net_guard *guard;     /* NULL with allow_host_loopback=true */
  bool is_tap_dead;            /* a read failed for good: no longer polled */
  bool needs_flush;            /* frames went in: run another round at once */
  struct net_timer *timers;
  struct pollfd *fds;          /* the owner's, the tap, slirp's sockets */
  size_t n_fds, cap_fds;
  size_t tap_idx;              /* the tap's index in fds, SIZE_MAX when not polled */
  size_t n_sessions;           /* descriptors slirp registered: live connections */
  int64_t last_fragment_ms;    /* when the guest last sent an IPv4 fragment */
  uint8_t *frame;
  size_t frame_size;
  struct net_relay *relay;       /* published TCP ports */
  struct sockaddr_in outbound;   /* slirp keeps pointers to these */
  struct sockaddr_in6 outbound6;
};

static int64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- libslirp's callbacks ---------------------------------------------------- */

static void
write_tap (struct net_slirp *n, const void *buf, size_t len)
{
  ssize_t w;

  do
    w = write (n->tap_fd, buf, len);
  while (w < 0 && errno == EINTR);
  /* A frame the tap cannot take now is dropped, as on a busy link: TCP
   * retransmits.  Reporting it would make libslirp print a g_critical. */
  if (w < 0 && errno != EAGAIN)
    log_debug ("slirp: write to the tap: %s", strerror (errno));
}

static ssize_t
send_packet (const void *buf, size_t len, void *opaque)
{
  struct net_slirp *n = opaque;

  if (n->guard)
    net_guard_inbound (n->guard, buf, len, now_ms ());
  write_tap (n, buf, len);
  return (ssize_t) len;
}

static void
guest_error (const char *msg, void *opaque)
{
  log_debug ("slirp: the container sent a bad packet: %s", msg);
}

static int64_t
clock_get_ns (void *opaque)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *
timer_new (SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
  struct net_slirp *n = opaque;
  struct net_timer *t = xmalloc0 (sizeof *t);

  t->cb = cb;
  t->cb_opaque = cb_opaque;
  t->expire_ms = -1;
  t->next = n->timers;
  n->timers = t;
  return t;
}

static void
timer_free (void *timer, void *opaque)
{
  struct net_slirp *n = opaque;

  for (struct net_timer **p = &n->timers; *p; p = &(*p)->next)
    if (*p == timer)
      {
        *p = (*p)->next;
        free (timer);
        return;
      }
}

static void
timer_mod (void *timer, int64_t expire_ms, void *opaque)
{
  ((struct net_timer *) timer)->expire_ms = expire_ms;
}

static void
register_poll_fd (int fd, void *opaque)
{
  ((struct net_slirp *) opaque)->n_sessions++;
}

static void
unregister_poll_fd (int fd, void *opaque)
{
  struct net_slirp *n = opaque;

  /* Removing a listener unregisters a descriptor that was never registered. */
  if (n->n_sessions > 0)
    n->n_sessions--;
}

static void
notify (void *opaque)
{
  /* Socket buffer space came free.  The next poll_prepare asks slirp
   * afresh which descriptors to watch, and this loop has one thread, so
   * there is nobody to wake. */
}

static const SlirpCb callbacks = {
  .send_packet = send_packet,
  .guest_error = guest_error,
  .clock_get_ns = clock_get_ns,
  .timer_new = timer_new,
  .timer_free = timer_free,
  .timer_mod = timer_mod,
  .register_poll_fd = register_poll_fd,
  .unregister_poll_fd = unregister_poll_fd,
  .notify = notify,
};

/* ---- creating ---------------------------------------------------------------- */

/* ADDR is an address of family AF, or the name of an interface that has
 * one: the first such address in *OUT. */
static int
resolve_outbound (const char *addr, int af, void *out, struct error **err)
{
  struct ifaddrs *ifs, *i;

  if (inet_pton (af, addr, out) == 1)
    return 0;
  if (getifaddrs (&ifs) < 0)
    return err_make (err, errno, "list the host's interfaces");
  for (i = ifs; i; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == af && strcmp (i->ifa_name, addr) == 0)
      break;
  if (i && af == AF_INET)
    memcpy (out, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, sizeof (struct in_addr));
  else if (i)
    memcpy (out, &((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr, sizeof (struct in6_addr));
  freeifaddrs (ifs);
  if (i == NULL)
    return err_make (err, 0, "outbound address \"%s\" is neither an IPv%c address nor an "
                     "interface with one", addr, af == AF_INET ? '4' : '6');
  return 0;
}

static int
set_outbound (struct net_slirp *n, const struct net_slirp_opts *o, SlirpConfig *cfg,
              struct error **err)
{
  if (o->outbound_addr)
    {
      n->outbound.sin_family = AF_INET;
      if (resolve_outbound (o->outbound_addr, AF_INET, &n->outbound.sin_addr, err) < 0)
        return -1;
      cfg->outbound_addr = &n->outbound;
    }
  if (o->outbound_addr6)
    {
      n->outbound6.sin6_family = AF_INET6;
      if (resolve_outbound (o->outbound_addr6, AF_INET6, &n->outbound6.sin6_addr, err) < 0)
        return -1;
      cfg->outbound_addr6 = &n->outbound6;
    }
  return 0;
}

static void
fill_config (const struct net_slirp_opts *o, SlirpConfig *cfg)
{
  struct net_addrs a;

  net_slirp_opts_addrs (o, &a);
  memset (cfg, 0, sizeof *cfg);
  cfg->version = 4;
  cfg->in_enabled = true;
  cfg->vnetwork = a.network;
  cfg->vnetmask = a.netmask;
  cfg->vhost = a.gateway;
  cfg->vnameserver = a.dns;
  cfg->vdhcp_start = a.guest;
  cfg->in6_enabled = o->is_ipv6_enabled;
  cfg->vprefix_addr6 = a.prefix6;
  cfg->vprefix_len = 64;
  cfg->vhost6 = a.gateway6;
  cfg->vnameserver6 = a.dns6;
  cfg->if_mtu = o->mtu;
  cfg->if_mru = o->mtu;
  /* The guard keeps the host loopback closed instead (see guard.c). */
  cfg->disable_host_loopback = false;
}

static void
on_sigpipe (int sig)
{
  (void) sig;
}

/* libslirp writes to the host's sockets with send() and no MSG_NOSIGNAL
 * (slirp_send in slirp.c, from sowrite and sbappend, 4.7), also after the
 * peer reset the connection: a client that closes with unread data while
 * the container still sends kills the owner with SIGPIPE, and every
 * published port with it (seen under ab load: the monitor's exit status
 * was signal 13, the container kept running offline).  A
 * handler that does nothing turns that into the EPIPE slirp handles.  Not
 * SIG_IGN, which the processes the owner starts would inherit through
 * exec (a container restarted by the monitor); a handler is reset there.
 * A disposition the owner chose itself stays. */
static void
catch_sigpipe (void)
{
  struct sigaction old, sa = { .sa_handler = on_sigpipe, .sa_flags = SA_RESTART };

  if (sigaction (SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL
      && !(old.sa_flags & SA_SIGINFO))
    {
      sigemptyset (&sa.sa_mask);
      sigaction (SIGPIPE, &sa, NULL);
    }
}

struct net_slirp *
net_slirp_new (const struct net_slirp_opts *o, int tap_fd, struct net_netns *ns,
               struct error **err)
{
  struct net_slirp *n = xmalloc0 (sizeof *n);
  struct net_addrs addrs;
  SlirpConfig cfg;

  catch_sigpipe ();
  net_slirp_opts_addrs (o, &addrs);
  n->relay = net_relay_new (ns, addrs.guest);
  n->tap_fd = tap_fd;
  n->tap_idx = SIZE_MAX;
  n->last_fragment_ms = INT64_MIN / 2;
  n->frame_size = o->mtu + ETH_OVERHEAD;
  n->frame = xmalloc (n->frame_size);
  if (!o->is_host_loopback_allowed)
    {
      struct net_addrs a;

      net_slirp_opts_addrs (o, &a);
      n->guard = xmalloc (sizeof *n->guard);
      net_guard_init (n->guard, &a);
    }
  fill_config (o, &cfg);
  if (set_outbound (n, o, &cfg, err) < 0)
    goto fail;
  n->slirp = slirp_new (&cfg, &callbacks, n);
  if (n->slirp == NULL)
    {
      err_make (err, 0, "libslirp %s refused the network configuration",
                slirp_version_string ());
      goto fail;
    }
  return n;

fail:
  net_slirp_free (n);
  return NULL;
}

/* The last close of a tap device unregisters it, which waits for an RCU
 * grace period (~16 ms here): a foreground `run --rm` would spend that
 * after the container exited.  Leave the last reference to an orphan that
 * holds nothing else: it closes its other descriptors at once (no lock
 * stays held), waits until our own close is done, then closes the tap and
 * exits, with nobody waiting for it. */
static void
close_tap_detached (int tap)
{
  int p[2];
  pid_t mid;

  if (pipe2 (p, O_CLOEXEC) < 0)
    {
      close (tap);
      return;
    }
  mid = fork ();
  if (mid == 0)
    {
      if (fork () == 0)
        {
          char c;
          for (int fd = 0; fd < 1024; fd++)
            if (fd != tap && fd != p[0])
              close (fd);
          while (read (p[0], &c, 1) < 0 && errno == EINTR)
            ;
          close (tap);
        }
      _exit (0);
    }
  if (mid > 0)
    while (waitpid (mid, NULL, 0) < 0 && errno == EINTR)
      ;
  close (tap);
  close (p[0]);
  close (p[1]);
}

void
net_slirp_free (struct net_slirp *n)
{
  if (n == NULL)
    return;
  net_relay_free (n->relay);
  if (n->slirp)
    slirp_cleanup (n->slirp);
  while (n->timers)
    timer_free (n->timers, n);
  if (n->tap_fd >= 0)
    close_tap_detached (n->tap_fd);
  free (n->fds);
  free (n->frame);
  free (n->guard);
  free (n);
}

/* ---- published ports ------------------------------------------------------- */

static socklen_t
guest_sockaddr (const struct net_port *p, struct sockaddr_storage *ss)
{
  memset (ss, 0, sizeof *ss);
  if (p->is_ipv6)
    {
      /* in6addr_any: libslirp takes the guest's SLAAC address from its
       * neighbour table at the first connection. */
      struct sockaddr_in6 *a = (struct sockaddr_in6 *) ss;

      a->sin6_family = AF_INET6;
      a->sin6_port = htons (p->container_port);
      return sizeof *a;
    }
  struct sockaddr_in *a = (struct sockaddr_in *) ss;

  /* INADDR_ANY: libslirp uses vdhcp_start, the container's address. */
  a->sin_family = AF_INET;
  a->sin_port = htons (p->container_port);
  return sizeof *a;
}

static int
add_port (struct net_slirp *n, struct net_port *p, struct error **err)
{
  struct sockaddr_storage host, guest;
  socklen_t host_len = net_port_host_sockaddr (p, p->host_port, &host);
  socklen_t guest_len = guest_sockaddr (p, &guest);
  int flags = SLIRP_HOSTFWD_UDP | (p->is_ipv6 ? SLIRP_HOSTFWD_V6ONLY : 0);

  if (p->proto == NET_PROTO_TCP)
    return net_relay_add_port (n->relay, p, err);
  if (p->host_port == 0)
    return err_make (err, 0, "publish %u/udp: the host port was not reserved",
                     p->container_port);
  if (p->reserved_fd >= 0)
    close (steal_fd (&p->reserved_fd));
  if (slirp_add_hostxfwd (n->slirp, (struct sockaddr *) &host, host_len,
                          (struct sockaddr *) &guest, guest_len, flags) < 0)
    {
      int saved = errno;
      cleanup_free char *what = net_port_describe (p);

      return err_make (err, saved, "publish %s", what);
    }
  return 0;
}

int
net_slirp_add_ports (struct net_slirp *n, struct net_ports *ports, struct error **err)
{
  for (size_t i = 0; i < ports->n; i++)
    if (add_port (n, &ports->v[i], err) < 0)
      return -1;
  return 0;
}

/* ---- the poll loop ----------------------------------------------------------- */

static size_t
push_fd (struct net_slirp *n, int fd, short events)
{
  if (n->n_fds == n->cap_fds)
    {
      n->cap_fds = n->cap_fds ? n->cap_fds * 2 : 16;
      n->fds = xrealloc (n->fds, n->cap_fds * sizeof *n->fds);
    }
  n->fds[n->n_fds] = (struct pollfd) { .fd = fd, .events = events };
  return n->n_fds++;
}

static size_t
relay_push (void *opaque, int fd, short events)
{
  return push_fd (opaque, fd, events);
}

static int
add_poll (int fd, int events, void *opaque)
{
  short ev = 0;

  if (events & SLIRP_POLL_IN)
    ev |= POLLIN;
  if (events & SLIRP_POLL_OUT)
    ev |= POLLOUT;
  if (events & SLIRP_POLL_PRI)
    ev |= POLLPRI;
  return (int) push_fd (opaque, fd, ev);
}

static int
get_revents (int idx, void *opaque)
{
  struct net_slirp *n = opaque;
  short re;
  int out = 0;

  if (idx < 0 || (size_t) idx >= n->n_fds)
    return 0;
  re = n->fds[idx].revents;
  if (re & POLLIN)
    out |= SLIRP_POLL_IN;
  if (re & POLLOUT)
    out |= SLIRP_POLL_OUT;
  if (re & POLLPRI)
    out |= SLIRP_POLL_PRI;
  if (re & POLLERR)
    out |= SLIRP_POLL_ERR;
  if (re & POLLHUP)
    out |= SLIRP_POLL_HUP;
  return out;
}

/* How long slirp may sleep, from the timeout slirp_pollfds_fill() left
 * (see the top of this file); -1 for as long as it likes. */
static int
slirp_wait (const struct net_slirp *n, uint32_t t, int64_t now)
{
  if (t >= SLIRP_CAP_MS)
    return -1;
  if (t > SLIRP_FAST_MS && n->n_sessions == 0 && now - n->last_fragment_ms > FRAG_TTL_MS)
    return -1;
  return (int) t;
}

static int
timers_wait (const struct net_slirp *n, int64_t now)
{
  int64_t first = -1;

  for (const struct net_timer *t = n->timers; t; t = t->next)
    if (t->expire_ms >= 0 && (first < 0 || t->expire_ms < first))
      first = t->expire_ms;
  if (first < 0)
    return -1;
  if (first <= now)
    return 0;
  return first - now > INT_MAX ? INT_MAX : (int) (first - now);
}

static void
lower_timeout (int *timeout, int ms)
{
  if (ms >= 0 && (*timeout < 0 || ms < *timeout))
    *timeout = ms;
}

struct pollfd *
net_slirp_poll_prepare (struct net_slirp *n, const struct pollfd *own, size_t n_own,
                        size_t *n_fds, int *timeout_ms)
{
  uint32_t t = UINT32_MAX;
  int64_t now = now_ms ();

  n->n_fds = 0;
  for (size_t i = 0; i < n_own; i++)
    push_fd (n, own[i].fd, own[i].events);
  n->tap_idx = n->is_tap_dead ? SIZE_MAX : push_fd (n, n->tap_fd, POLLIN);
  slirp_pollfds_fill (n->slirp, &t, add_poll, n);
  net_relay_poll_prepare (n->relay, relay_push, n);
  lower_timeout (timeout_ms, slirp_wait (n, t, now));
  lower_timeout (timeout_ms, timers_wait (n, now));
  if (n->needs_flush)
    *timeout_ms = 0;
  n->needs_flush = false;
  *n_fds = n->n_fds;
  return n->fds;
}

static bool
is_ipv4_fragment (const uint8_t *f, size_t len)
{
  if (len < ETH_HLEN_ + 20 || ((f[12] << 8) | f[13]) != ETHERTYPE_IPV4)
    return false;
  return (((f[ETH_HLEN_ + 6] << 8) | f[ETH_HLEN_ + 7]) & IPV4_FRAG_MASK) != 0;
}

/* Whether frame F of LEN bytes may reach slirp; a refused TCP SYN gets
 * its RST here. */
static bool
pass_guard (struct net_slirp *n, const uint8_t *f, size_t len)
{
  uint8_t rst[NET_GUARD_RST_MAX];
  size_t rst_len;

  switch (n->guard ? net_guard_outbound (n->guard, f, len, now_ms ()) : NET_GUARD_PASS)
    {
    case NET_GUARD_PASS:
      return true;
    case NET_GUARD_REJECT:
      rst_len = net_guard_reset (f, len, rst, sizeof rst);
      if (rst_len > 0)
        send_packet (rst, rst_len, n);
      return false;
    case NET_GUARD_DROP:
    default:
      return false;
    }
}

static void
read_tap (struct net_slirp *n)
{
  for (int i = 0; i < TAP_BATCH; i++)
    {
      ssize_t len = read (n->tap_fd, n->frame, n->frame_size);

      if (len < 0 && errno == EINTR)
        continue;
      if (len < 0 && errno != EAGAIN)
        {
          log_warn ("slirp: read from the container's tap: %s; the container is offline",
                    strerror (errno));
          n->is_tap_dead = true;
        }
      if (len <= 0)
        return;
      if (!pass_guard (n, n->frame, (size_t) len))
        continue;
      if (is_ipv4_fragment (n->frame, (size_t) len))
        n->last_fragment_ms = now_ms ();
      slirp_input (n->slirp, n->frame, (int) len);
      n->needs_flush = true;
    }
}

/* Each due timer once: a callback that re-arms its timer in the past waits
 * for the next round. */
static void
run_timers (struct net_slirp *n)
{
  int64_t now = now_ms ();
  size_t count = 0;

  for (struct net_timer *t = n->timers; t; t = t->next)
    count++;
  while (count-- > 0)
    {
      struct net_timer *due = NULL;

      for (struct net_timer *t = n->timers; t && due == NULL; t = t->next)
        if (t->expire_ms >= 0 && t->expire_ms <= now)
          due = t;
      if (due == NULL)
        return;
      due->expire_ms = -1;
      due->cb (due->cb_opaque);
    }
}

void
net_slirp_poll_done (struct net_slirp *n, int poll_rc)
{
  short tap_revents = n->tap_idx < n->n_fds ? n->fds[n->tap_idx].revents : 0;

  slirp_pollfds_poll (n->slirp, poll_rc < 0, get_revents, n);
  if (poll_rc > 0 && tap_revents)
    read_tap (n);
  run_timers (n);
  net_relay_poll_done (n->relay, n->fds, n->n_fds);
}
