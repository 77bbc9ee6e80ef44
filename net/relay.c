/* The relay of published TCP ports, in the owner's poll loop.
 *
 * libslirp's forwarding carries a host connection through slirp's own
 * user-mode TCP, which has no window scaling: 64 KB in flight per round
 * trip, so container <-> host throughput was well below podman's (whose
 * rootlessport connects to the container from inside its namespace).  The
 * relay instead listens on the host port itself and, for each client,
 * connects a socket made inside the container's network namespace (a
 * socket stays in the namespace it was made in, wherever it is used from;
 * tap.c makes a pool of them, net_netns_fill more) to the container's
 * address: the kernel's TCP over the namespace's loopback on that side,
 * ours on the host side, and the relay copies between the two.  No
 * process or thread is added: the copying is done by whoever polls
 * (net_slirp_poll_prepare/done call us).
 *
 * A connection, client (side 0) and container (side 1):
 *
 *   1. accept; take a pool socket (refill the pool through a short child
 *      when it runs low; none to be had closes the client); connect it
 *      without blocking.  Refused (nothing listens in the container):
 *      close the client, as docker's proxy does.
 *   2. while connecting, only the container side is polled, for POLLOUT;
 *      SO_ERROR says how it went.
 *   3. connected: each direction has a buffer.  Read while it has room
 *      and the reader saw no EOF; write while it holds bytes.  EOF, once
 *      the buffer is written, is passed on with shutdown(SHUT_WR); when
 *      both directions did so, both sockets close.  Any error (a reset, a
 *      write to a closed peer) closes both at once.
 *
 * At most max_conns connections (NET_RELAY_CONNS_MAX, less when the
 * descriptor limit is low); beyond that the listeners are not polled until
 * one closes.  Nothing here has a timer: an idle relay polls only its
 * listeners and sleeps. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libutil/log.h"
#include "libutil/mem.h"
#include "internal.h"

#define ACCEPT_BATCH 16  /* connections accepted per round, so others get a turn */
#define PUMP_ROUNDS 4    /* read/write pairs per direction per round */
#define FDS_RESERVED 64  /* descriptors kept for everything but connections */

struct relay_dir
{
  size_t off, len;  /* the bytes waiting in the buffer */
  bool is_eof;      /* the reading side ended */
  bool is_shut;     /* ... and the writing side was told */
};

struct relay_conn
{
  int fd[2];                /* 0: the client, 1: the container */
  bool is_connecting;
  size_t idx[2];            /* where prepare put fd[] in the poll array; SIZE_MAX: not */
  struct relay_dir dir[2];  /* dir[i]: read from fd[i], written to fd[1 - i] */
  uint8_t buf[2][NET_RELAY_BUF];
};

struct relay_listener
{
  int fd;
  uint16_t container_port;
  size_t idx;
};

struct net_relay
{
  struct net_netns ns;
  struct in_addr guest;
  struct relay_listener *ls;
  size_t n_ls;
  struct relay_conn **conns;
  size_t n_conns, max_conns;
};

static size_t
conns_max (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
    return NET_RELAY_CONNS_MAX;
  if (rl.rlim_cur <= FDS_RESERVED + NET_NETNS_POOL + 2)
    return 1;
  rl.rlim_cur = (rl.rlim_cur - FDS_RESERVED - NET_NETNS_POOL) / 2;
  return rl.rlim_cur < NET_RELAY_CONNS_MAX ? (size_t) rl.rlim_cur : NET_RELAY_CONNS_MAX;
}

struct net_relay *
net_relay_new (struct net_netns *ns, struct in_addr guest)
{
  struct net_relay *r = xmalloc0 (sizeof *r);

  r->ns = *ns;
  net_netns_init (ns);
  r->guest = guest;
  r->max_conns = conns_max ();
  r->conns = xmalloc (r->max_conns * sizeof *r->conns);
  return r;
}

static void
conn_close (struct relay_conn *c)
{
  close (c->fd[0]);
  close (c->fd[1]);
  free (c);
}

void
net_relay_free (struct net_relay *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_conns; i++)
    conn_close (r->conns[i]);
  for (size_t i = 0; i < r->n_ls; i++)
    close (r->ls[i].fd);
  net_netns_close (&r->ns);
  free (r->conns);
  free (r->ls);
  free (r);
}

size_t
net_relay_n_conns (const struct net_relay *r)
{
  return r->n_conns;
}

int
net_relay_add_port (struct net_relay *r, struct net_port *p, struct error **err)
{
  int fd = p->reserved_fd;
  int fl;

  if (p->host_port == 0 || fd < 0)
    return err_make (err, 0, "publish %u/tcp: the host port was not reserved",
                     p->container_port);
  /* net_ports_reserve listened with a backlog of 1, enough to hold the
   * port; a burst of clients needs more. */
  fl = fcntl (fd, F_GETFL);
  if (fl < 0 || fcntl (fd, F_SETFL, fl | O_NONBLOCK) < 0 || listen (fd, SOMAXCONN) < 0)
    {
      int saved = errno;
      cleanup_free char *what = net_port_describe (p);

      return err_make (err, saved, "publish %s", what);
    }
  r->ls = xrealloc (r->ls, (r->n_ls + 1) * sizeof *r->ls);
  r->ls[r->n_ls++] = (struct relay_listener) { steal_fd (&p->reserved_fd), p->container_port,
                                               SIZE_MAX };
  return 0;
}

/* ---- accepting ---------------------------------------------------------- */

/* A socket of the container's namespace, or -1 when none can be made. */
static int
take_socket (struct net_relay *r)
{
  cleanup_error struct error *err = NULL;
  int fd;

  if (r->ns.n_pool == 0 && net_netns_fill (&r->ns, &err) < 0)
    {
      log_warn ("relay: %s", err->msg);
      return -1;
    }
  if (r->ns.n_pool == 0)
    return -1;
  fd = r->ns.pool[--r->ns.n_pool];
  /* Refill ahead, so that a burst rarely waits for a child. */
  if (r->ns.n_pool < NET_RELAY_POOL_LOW && net_netns_fill (&r->ns, &err) < 0)
    log_debug ("relay: %s", err->msg);
  return fd;
}

static void
start_conn (struct net_relay *r, int client, uint16_t port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port),
                            .sin_addr = r->guest };
  struct relay_conn *c;
  int fd = take_socket (r);

  if (fd < 0)
    {
      close (client);
      return;
    }
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS)
    {
      /* Refused: nothing listens on the port in the container. */
      log_debug ("relay: connect to the container's port %u: %s", port, strerror (errno));
      close (fd);
      close (client);
      return;
    }
  c = xmalloc (sizeof *c);
  c->fd[0] = client;
  c->fd[1] = fd;
  c->is_connecting = true;
  memset (c->dir, 0, sizeof c->dir);
  c->idx[0] = c->idx[1] = SIZE_MAX;
  r->conns[r->n_conns++] = c;
}

static void
accept_some (struct net_relay *r, struct relay_listener *l)
{
  for (int i = 0; i < ACCEPT_BATCH && r->n_conns < r->max_conns; i++)
    {
      int client = accept4 (l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

      if (client < 0)
        {
          /* EAGAIN: no more; a client that gave up before we came
           * (ECONNABORTED) or no descriptor to spare (EMFILE) waits for
           * the next round. */
          if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            log_debug ("relay: accept: %s", strerror (errno));
          return;
        }
      start_conn (r, client, l->container_port);
    }
}

/* ---- copying ------------------------------------------------------------ */

static bool
is_transient (int e)
{
  return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* Move bytes from fd[I] to fd[1 - I] until either would block.  Returns
 * -1 when the connection failed. */
static int
pump (struct relay_conn *c, int i)
{
  struct relay_dir *d = &c->dir[i];
  uint8_t *buf = c->buf[i];

  for (int round = 0; round < PUMP_ROUNDS; round++)
    {
      bool is_progress = false;
      ssize_t n;

      if (!d->is_eof && d->off + d->len < NET_RELAY_BUF)
        {
          n = read (c->fd[i], buf + d->off + d->len, NET_RELAY_BUF - d->off - d->len);
          if (n > 0)
            d->len += (size_t) n, is_progress = true;
          else if (n == 0)
            d->is_eof = true;
          else if (!is_transient (errno))
            return -1;
        }
      if (d->len > 0)
        {
          n = send (c->fd[1 - i], buf + d->off, d->len, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n > 0)
            {
              d->off += (size_t) n, d->len -= (size_t) n, is_progress = true;
              if (d->len == 0)
                d->off = 0;
            }
          else if (n < 0 && !is_transient (errno))
            return -1;
        }
      if (!is_progress)
        break;
    }
  if (d->is_eof && d->len == 0 && !d->is_shut)
    {
      /* The peer may already be gone entirely: its reset comes as an
       * error of the other direction. */
      shutdown (c->fd[1 - i], SHUT_WR);
      d->is_shut = true;
    }
  return 0;
}

/* Returns false when C is over. */
static bool
finish_connect (struct relay_conn *c)
{
  int e = 0;
  socklen_t len = sizeof e;

  if (getsockopt (c->fd[1], SOL_SOCKET, SO_ERROR, &e, &len) < 0)
    e = errno;
  if (e == 0)
    {
      c->is_connecting = false;
      return true;
    }
  if (is_transient (e) || e == EINPROGRESS)
    return true;
  log_debug ("relay: connect to the container: %s", strerror (e));
  return false;
}

static short
revents_of (const struct relay_conn *c, int side, const struct pollfd *fds, size_t n_fds)
{
  return c->idx[side] < n_fds ? fds[c->idx[side]].revents : 0;
}

/* Whether side SIDE of C failed: an error, or a hang-up we did not cause
 * by shutting its writing (a reset: nothing more can go to it). */
static bool
is_broken (const struct relay_conn *c, int side, short re)
{
  return (re & POLLERR) || ((re & POLLHUP) && !c->dir[1 - side].is_shut);
}

/* Serve C after poll; returns false when it is over. */
static bool
serve_conn (struct relay_conn *c, const struct pollfd *fds, size_t n_fds)
{
  short re0 = revents_of (c, 0, fds, n_fds), re1 = revents_of (c, 1, fds, n_fds);

  if (re0 == 0 && re1 == 0)
    return true;
  if (c->is_connecting)
    {
      /* The client gave up while we connected. */
      if (re0 & (POLLERR | POLLHUP))
        return false;
      if (!finish_connect (c))
        return false;
      if (c->is_connecting)
        return true;
    }
  /* Copy first: bytes that came before a reset still go. */
  if (pump (c, 0) < 0 || pump (c, 1) < 0)
    return false;
  if (is_broken (c, 0, re0) || is_broken (c, 1, re1))
    return false;
  return !(c->dir[0].is_shut && c->dir[1].is_shut);
}

/* ---- the poll loop ------------------------------------------------------ */

/* The events to poll side SIDE of C for; -1 when it has no more to do
 * (its end came and its writing was shut), so that its lasting hang-up
 * does not wake every round. */
static int
events_of (const struct relay_conn *c, int side)
{
  const struct relay_dir *in = &c->dir[side], *out = &c->dir[1 - side];
  short ev = 0;

  if (c->is_connecting)
    return side == 1 ? POLLOUT : 0;
  if (in->is_eof && out->is_shut)
    return -1;
  if (!in->is_eof && in->off + in->len < NET_RELAY_BUF)
    ev |= POLLIN;
  if (out->len > 0)
    ev |= POLLOUT;
  return ev;
}

void
net_relay_poll_prepare (struct net_relay *r, net_relay_push_fn push, void *opaque)
{
  bool is_accepting = r->n_conns < r->max_conns;

  for (size_t i = 0; i < r->n_ls; i++)
    r->ls[i].idx = is_accepting ? push (opaque, r->ls[i].fd, POLLIN) : SIZE_MAX;
  for (size_t i = 0; i < r->n_conns; i++)
    {
      struct relay_conn *c = r->conns[i];

      for (int side = 0; side < 2; side++)
        {
          int ev = events_of (c, side);

          /* A side with no events is still polled, for its errors and
           * hang-ups. */
          c->idx[side] = ev < 0 ? SIZE_MAX : push (opaque, c->fd[side], (short) ev);
        }
    }
}

void
net_relay_poll_done (struct net_relay *r, const struct pollfd *fds, size_t n_fds)
{
  for (size_t i = 0; i < r->n_conns;)
    {
      struct relay_conn *c = r->conns[i];

      if (serve_conn (c, fds, n_fds))
        {
          i++;
          continue;
        }
      conn_close (c);
      r->conns[i] = r->conns[--r->n_conns];
    }
  /* Connections accepted now join the next round's poll (their idx is
   * SIZE_MAX until then). */
  for (size_t i = 0; i < r->n_ls; i++)
    if (r->ls[i].idx < n_fds && (fds[r->ls[i].idx].revents & POLLIN))
      accept_some (r, &r->ls[i]);
}
