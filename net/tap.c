/* The tap device inside a container's network namespace, made from the
 * host side the way slirp4netns does it: the caller (the monitor) keeps
 * the host's view, and a short child does the work inside.
 *
 * net_tap_open, in order:
 *
 *   1. check_other_netns: refuse a process in our own network namespace,
 *      where a tap would land on the host.
 *   2. A SOCK_SEQPACKET socketpair for the child's one reply; fork.
 *   3. The child:
 *      a. join_namespaces: the container's user namespace when it is not
 *         ours (rootless: CAP_NET_ADMIN over a network namespace counts in
 *         the user namespace that owns it, and joining the namespace we
 *         created gives us every capability there), then its network
 *         namespace.  The mount namespace stays the host's, so
 *         /dev/net/tun is the host's device node and nothing the image
 *         controls is looked up.
 *      b. set_link_up "lo".
 *      c. create_tap: /dev/net/tun, TUNSETIFF
 *         with IFF_TAP | IFF_NO_PI.
 *      d. configure_tap: MTU, address, netmask, up, default route.  IPv6
 *         needs nothing: the kernel solicits a router when the link comes
 *         up and slirp's advertisement gives it fd00::/64 and a route.
 *      e. create_pool: NET_NETNS_POOL unconnected TCP sockets, for the
 *         relay of published ports (relay.c): a socket stays in the
 *         namespace it was made in, and we can connect it from outside.
 *      f. reply: the descriptors over SCM_RIGHTS, or the error, then _exit.
 *   4. receive_reply, then reap the child.  EOF without a reply means the
 *      child died; the error says how.
 *
 * The parent opens the namespaces the child joins (step 3a) and keeps them
 * in a struct net_netns: net_netns_fill later runs a child with steps 3a,
 * 3e and 3f only, to make more sockets.  It cannot reopen
 * /proc/PID/ns then: a container that changed to a non-root user is not
 * dumpable and those files refuse us (see runtime_process.c).
 *
 * net_loopback_up runs the same child with steps 3a, 3b and 3f only. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "libutil/mem.h"
#include "net.h"

#define REPLY_MSG_MAX 512

#define REPLY_FDS_MAX (1 + NET_NETNS_POOL)

/* The child's reply; N_FDS descriptors travel with it when there is no
 * error: the tap first when one was asked for, then the sockets. */
struct reply
{
  int errnum;
  int has_error;
  int n_fds;
  char msg[REPLY_MSG_MAX];
};

/* What the child is to do. */
struct child_job
{
  int user_fd;                      /* the namespaces to join; -1: stay */
  int net_fd;
  bool is_lo;                       /* bring lo up */
  const struct net_tap_config *tap; /* NULL: no tap */
  size_t n_sockets;                 /* TCP sockets to make */
};

/* What the child sent back. */
struct child_fds
{
  int fds[REPLY_FDS_MAX];
  size_t n;
};

/* ---- inside the container's network namespace --------------------------------- */

static int
ioctl_sock (struct error **err)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return err_make (err, errno, "create a socket for interface ioctls");
  return fd;
}

static int
set_link_up (int sock, const char *name, struct error **err)
{
  struct ifreq ifr;

  memset (&ifr, 0, sizeof ifr);
  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  if (ioctl (sock, SIOCGIFFLAGS, &ifr) < 0)
    return err_make (err, errno, "read the flags of \"%s\"", name);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (sock, SIOCSIFFLAGS, &ifr) < 0)
    return err_make (err, errno, "bring \"%s\" up", name);
  return 0;
}

int
net_loopback_up_self (struct error **err)
{
  cleanup_close int sock = ioctl_sock (err);

  if (sock < 0)
    return -1;
  return set_link_up (sock, "lo", err);
}

static int
create_tap (const char *name, struct error **err)
{
  struct ifreq ifr;
  cleanup_close int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

  if (fd < 0)
    return err_make (err, errno, "open \"/dev/net/tun\"");
  memset (&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    return err_make (err, errno, "create the tap device \"%s\"", name);
  return steal_fd (&fd);
}

static void
set_sockaddr (struct sockaddr *sa, struct in_addr addr)
{
  struct sockaddr_in *in = (struct sockaddr_in *) sa;

  memset (in, 0, sizeof *in);
  in->sin_family = AF_INET;
  in->sin_addr = addr;
}

static int
set_ifreq (int sock, unsigned long req, struct ifreq *ifr, const char *what, struct error **err)
{
  if (ioctl (sock, req, ifr) < 0)
    return err_make (err, errno, "set the %s of \"%s\"", what, ifr->ifr_name);
  return 0;
}

static int
add_default_route (int sock, const struct net_tap_config *cfg, struct error **err)
{
  struct rtentry rt;
  char gw[INET_ADDRSTRLEN];

  memset (&rt, 0, sizeof rt);
  set_sockaddr (&rt.rt_dst, (struct in_addr) { INADDR_ANY });
  set_sockaddr (&rt.rt_genmask, (struct in_addr) { INADDR_ANY });
  set_sockaddr (&rt.rt_gateway, cfg->gateway);
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  rt.rt_dev = (char *) cfg->name;
  if (ioctl (sock, SIOCADDRT, &rt) < 0)
    return err_make (err, errno, "add the default route via %s",
                     inet_ntop (AF_INET, &cfg->gateway, gw, sizeof gw));
  return 0;
}

static int
configure_tap (int sock, const struct net_tap_config *cfg, struct error **err)
{
  struct ifreq ifr;
  struct in_addr mask = { htonl (cfg->prefix_len ? ~0u << (32 - cfg->prefix_len) : 0) };

  memset (&ifr, 0, sizeof ifr);
  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "%s", cfg->name);
  ifr.ifr_mtu = (int) cfg->mtu;
  if (set_ifreq (sock, SIOCSIFMTU, &ifr, "MTU", err) < 0)
    return -1;
  set_sockaddr (&ifr.ifr_addr, cfg->addr);
  if (set_ifreq (sock, SIOCSIFADDR, &ifr, "address", err) < 0)
    return -1;
  set_sockaddr (&ifr.ifr_netmask, mask);
  if (set_ifreq (sock, SIOCSIFNETMASK, &ifr, "netmask", err) < 0)
    return -1;
  if (set_link_up (sock, cfg->name, err) < 0)
    return -1;
  return add_default_route (sock, cfg, err);
}

/* ---- joining the namespaces ---------------------------------------------------- */

static int
open_ns (pid_t pid, const char *ns, struct error **err)
{
  char path[64];
  int fd;

  if (pid > 0)
    snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) pid, ns);
  else
    snprintf (path, sizeof path, "/proc/self/ns/%s", ns);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return err_make (err, errno, "open \"%s\"", path);
  return fd;
}

/* Whether process PID is in our namespace of kind NS. */
static int
is_same_ns (pid_t pid, const char *ns, bool *out, struct error **err)
{
  cleanup_close int theirs = open_ns (pid, ns, err);
  cleanup_close int ours = theirs >= 0 ? open_ns (0, ns, err) : -1;
  struct stat a, b;

  if (ours < 0)
    return -1;
  if (fstat (theirs, &a) < 0 || fstat (ours, &b) < 0)
    return err_make (err, errno, "stat the %s namespace of process %d", ns, (int) pid);
  *out = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  return 0;
}

static int
check_other_netns (pid_t pid, struct error **err)
{
  bool is_same;

  if (is_same_ns (pid, "net", &is_same, err) < 0)
    return -1;
  if (is_same)
    return err_make (err, 0, "process %d shares our network namespace", (int) pid);
  return 0;
}

static int
join_namespaces (const struct child_job *job, struct error **err)
{
  if (job->user_fd >= 0 && setns (job->user_fd, CLONE_NEWUSER) < 0)
    return err_make (err, errno, "join the container's user namespace");
  if (job->net_fd >= 0 && setns (job->net_fd, CLONE_NEWNET) < 0)
    return err_make (err, errno, "join the container's network namespace");
  return 0;
}

/* ---- the child ----------------------------------------------------------------- */

static int
send_reply (int sock, const struct error *e, const struct child_fds *fds)
{
  struct reply r;
  struct iovec iov = { &r, sizeof r };
  char cbuf[CMSG_SPACE (sizeof (int) * REPLY_FDS_MAX)];
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t n;

  memset (&r, 0, sizeof r);
  if (e)
    {
      r.has_error = 1;
      r.errnum = e->errnum;
      snprintf (r.msg, sizeof r.msg, "%s", e->msg);
    }
  if (e == NULL && fds->n > 0)
    {
      struct cmsghdr *c;

      r.n_fds = (int) fds->n;
      memset (cbuf, 0, sizeof cbuf);
      msg.msg_control = cbuf;
      msg.msg_controllen = CMSG_SPACE (sizeof (int) * fds->n);
      c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int) * fds->n);
      memcpy (CMSG_DATA (c), fds->fds, sizeof (int) * fds->n);
    }
  do
    n = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t) sizeof r ? 0 : -1;
}

/* Sockets for the relay (relay.c), made in this child's network
 * namespace, appended to FDS. */
static int
create_pool (size_t n, struct child_fds *fds, struct error **err)
{
  for (size_t i = 0; i < n && fds->n < REPLY_FDS_MAX; i++)
    {
      int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

      if (fd < 0)
        return err_make (err, errno, "create a socket in the container's network namespace");
      fds->fds[fds->n++] = fd;
    }
  return 0;
}

static int
child_work (const struct child_job *job, struct child_fds *fds, struct error **err)
{
  cleanup_close int sock = -1;
  int tap_fd;

  if (join_namespaces (job, err) < 0)
    return -1;
  if (job->is_lo)
    {
      sock = ioctl_sock (err);
      if (sock < 0 || set_link_up (sock, "lo", err) < 0)
        return -1;
    }
  if (job->tap)
    {
      tap_fd = create_tap (job->tap->name, err);
      if (tap_fd < 0)
        return -1;
      fds->fds[fds->n++] = tap_fd;
      if (configure_tap (sock, job->tap, err) < 0)
        return -1;
    }
  return create_pool (job->n_sockets, fds, err);
}

static __attribute__ ((noreturn)) void
child_main (const struct child_job *job, int sock)
{
  cleanup_error struct error *err = NULL;
  struct child_fds fds = { .n = 0 };
  int rc = child_work (job, &fds, &err);

  if (send_reply (sock, rc < 0 ? err : NULL, &fds) < 0)
    _exit (1);
  _exit (rc < 0 ? 1 : 0);
}

/* ---- the parent ---------------------------------------------------------------- */

static void
close_fds (struct child_fds *fds)
{
  for (size_t i = 0; i < fds->n; i++)
    close (fds->fds[i]);
  fds->n = 0;
}

static void
take_fds (struct msghdr *msg, struct child_fds *fds)
{
  for (struct cmsghdr *c = CMSG_FIRSTHDR (msg); c; c = CMSG_NXTHDR (msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      {
        size_t n = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);

        for (size_t i = 0; i < n; i++)
          {
            int fd;

            memcpy (&fd, CMSG_DATA (c) + i * sizeof fd, sizeof fd);
            if (fds->n < REPLY_FDS_MAX)
              fds->fds[fds->n++] = fd;
            else
              close (fd);
          }
      }
}

static int
receive_reply (int sock, struct child_fds *fds, struct error **err)
{
  struct reply r;
  struct iovec iov = { &r, sizeof r };
  char cbuf[CMSG_SPACE (sizeof (int) * REPLY_FDS_MAX)];
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf };
  ssize_t n;

  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return err_make (err, errno, "read the network helper's reply");
  if (n == 0)
    return 1; /* EOF: the child died; its status says how */
  take_fds (&msg, fds);
  if (n != (ssize_t) sizeof r)
    return err_make (err, 0, "the network helper sent a short reply");
  if (r.has_error)
    {
      r.msg[sizeof r.msg - 1] = '\0';
      return err_make (err, r.errnum, "%s", r.msg);
    }
  if ((msg.msg_flags & MSG_CTRUNC) || r.n_fds < 0 || (size_t) r.n_fds != fds->n)
    return err_make (err, 0, "the network helper passed %zu descriptors, not %d", fds->n,
                     r.n_fds);
  return 0;
}

static int
reap (pid_t child, struct error **err)
{
  int status;

  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      return err_make (err, errno, "wait for the network helper");
  if (WIFSIGNALED (status))
    return err_make (err, 0, "the network helper was killed by signal %d", WTERMSIG (status));
  if (WEXITSTATUS (status) != 0)
    return err_make (err, 0, "the network helper exited with status %d", WEXITSTATUS (status));
  return 0;
}

static int
run_child (const struct child_job *job, struct child_fds *fds, struct error **err)
{
  cleanup_error struct error *reap_err = NULL;
  int sv[2];
  pid_t child;
  int rc;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return err_make (err, errno, "create the network helper's socket");
  child = fork ();
  if (child < 0)
    {
      int saved = errno;

      close (sv[0]);
      close (sv[1]);
      return err_make (err, saved, "fork the network helper");
    }
  if (child == 0)
    {
      close (sv[0]);
      child_main (job, sv[1]);
    }
  close (sv[1]);
  rc = receive_reply (sv[0], fds, err);
  close (sv[0]);
  if (reap (child, &reap_err) < 0 && rc >= 0)
    rc = err_make (err, reap_err->errnum, "%s", reap_err->msg);
  else if (rc > 0)
    rc = err_make (err, 0, "the network helper exited without a reply");
  if (rc != 0)
    close_fds (fds);
  return rc;
}

/* Open the namespaces of process PID for a child to join: its user
 * namespace only when it is not ours (rootless: CAP_NET_ADMIN over a
 * network namespace counts in the user namespace that owns it, and joining
 * the namespace we created gives us every capability there). */
static int
open_container_ns (pid_t pid, struct net_netns *ns, struct error **err)
{
  bool is_same_user;

  if (check_other_netns (pid, err) < 0 || is_same_ns (pid, "user", &is_same_user, err) < 0)
    return -1;
  if (!is_same_user)
    {
      ns->user_fd = open_ns (pid, "user", err);
      if (ns->user_fd < 0)
        return -1;
    }
  ns->net_fd = open_ns (pid, "net", err);
  return ns->net_fd < 0 ? -1 : 0;
}

void
net_netns_init (struct net_netns *ns)
{
  ns->user_fd = -1;
  ns->net_fd = -1;
  ns->n_pool = 0;
}

void
net_netns_close (struct net_netns *ns)
{
  if (ns->user_fd >= 0)
    close (ns->user_fd);
  if (ns->net_fd >= 0)
    close (ns->net_fd);
  for (size_t i = 0; i < ns->n_pool; i++)
    close (ns->pool[i]);
  net_netns_init (ns);
}

static void
add_to_pool (struct net_netns *ns, struct child_fds *fds, size_t from)
{
  for (size_t i = from; i < fds->n; i++)
    if (ns->n_pool < NET_NETNS_POOL)
      ns->pool[ns->n_pool++] = fds->fds[i];
    else
      close (fds->fds[i]);
}

int
net_netns_fill (struct net_netns *ns, struct error **err)
{
  struct child_job job = { ns->user_fd, ns->net_fd, false, NULL, NET_NETNS_POOL - ns->n_pool };
  struct child_fds fds = { .n = 0 };

  if (job.n_sockets == 0)
    return 0;
  if (run_child (&job, &fds, err) != 0)
    return err_wrap (err, "create sockets in the container's network namespace");
  add_to_pool (ns, &fds, 0);
  return 0;
}

int
net_tap_open (pid_t container_pid, const struct net_tap_config *cfg, int *tap_fd,
              struct net_netns *ns, struct error **err)
{
  struct child_job job = { -1, -1, true, cfg, NET_NETNS_POOL };
  struct child_fds fds = { .n = 0 };

  net_netns_init (ns);
  if (open_container_ns (container_pid, ns, err) < 0)
    goto fail;
  job.user_fd = ns->user_fd;
  job.net_fd = ns->net_fd;
  if (run_child (&job, &fds, err) != 0)
    goto fail;
  if (fds.n == 0)
    {
      err_make (err, 0, "the helper passed no descriptor");
      goto fail;
    }
  *tap_fd = fds.fds[0];
  add_to_pool (ns, &fds, 1);
  return 0;

fail:
  net_netns_close (ns);
  return err_wrap (err, "create \"%s\" in the network namespace of process %d", cfg->name,
                   (int) container_pid);
}

int
net_loopback_up (pid_t container_pid, struct error **err)
{
  struct child_job job = { -1, -1, true, NULL, 0 };
  struct child_fds fds = { .n = 0 };
  struct net_netns ns;

  net_netns_init (&ns);
  if (open_container_ns (container_pid, &ns, err) < 0)
    goto fail;
  job.user_fd = ns.user_fd;
  job.net_fd = ns.net_fd;
  if (run_child (&job, &fds, err) != 0)
    goto fail;
  close_fds (&fds);
  net_netns_close (&ns);
  return 0;

fail:
  net_netns_close (&ns);
  return err_wrap (err, "bring lo up in the network namespace of process %d",
                   (int) container_pid);
}

void
net_tap_config_from_opts (const struct net_slirp_opts *o, struct net_tap_config *out)
{
  struct net_addrs a;

  net_slirp_opts_addrs (o, &a);
  out->name = NET_TAP_NAME;
  out->mtu = o->mtu;
  out->addr = a.guest;
  out->prefix_len = a.prefix_len;
  out->gateway = a.gateway;
}
