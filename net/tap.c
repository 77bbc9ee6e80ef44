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
 *      c. disable_time_wait, then create_tap: /dev/net/tun, TUNSETIFF
 *         with IFF_TAP | IFF_NO_PI.
 *      d. configure_tap: MTU, address, netmask, up, default route.  IPv6
 *         needs nothing: the kernel solicits a router when the link comes
 *         up and slirp's advertisement gives it fd00::/64 and a route.
 *      e. reply: the descriptor over SCM_RIGHTS, or the error, then _exit.
 *   4. receive_reply, then reap the child.  EOF without a reply means the
 *      child died; the error says how.
 *
 * net_loopback_up runs the same child with steps 3a, 3b and 3e only. */
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

/* The child's reply; an fd travels with it when ERRNUM and MSG are empty. */
struct reply
{
  int errnum;
  int has_error;
  char msg[REPLY_MSG_MAX];
};

/* What the child is to do. */
struct child_job
{
  pid_t pid;
  const struct net_tap_config *tap; /* NULL: only lo */
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
join_ns (pid_t pid, const char *ns, int nstype, struct error **err)
{
  cleanup_close int fd = open_ns (pid, ns, err);

  if (fd < 0)
    return -1;
  if (setns (fd, nstype) < 0)
    return err_make (err, errno, "join the %s namespace of process %d", ns, (int) pid);
  return 0;
}

static int
join_namespaces (pid_t pid, struct error **err)
{
  bool is_same_user;

  if (is_same_ns (pid, "user", &is_same_user, err) < 0)
    return -1;
  if (!is_same_user && join_ns (pid, "user", CLONE_NEWUSER, err) < 0)
    return -1;
  return join_ns (pid, "net", CLONE_NEWNET, err);
}

/* ---- the child ----------------------------------------------------------------- */

static int
send_reply (int sock, const struct error *e, int fd)
{
  struct reply r;
  struct iovec iov = { &r, sizeof r };
  char cbuf[CMSG_SPACE (sizeof (int))];
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t n;

  memset (&r, 0, sizeof r);
  if (e)
    {
      r.has_error = 1;
      r.errnum = e->errnum;
      snprintf (r.msg, sizeof r.msg, "%s", e->msg);
    }
  if (fd >= 0)
    {
      struct cmsghdr *c;

      memset (cbuf, 0, sizeof cbuf);
      msg.msg_control = cbuf;
      msg.msg_controllen = sizeof cbuf;
      c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &fd, sizeof fd);
    }
  do
    n = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t) sizeof r ? 0 : -1;
}

/* No TIME_WAIT in the container's network namespace.  libslirp connects
 * to the container for a published port with the host client's source
 * port (as from the gateway), and hosts reuse source ports within the 60
 * seconds a server that closed first holds the old connection: the new
 * SYN then meets that TIME_WAIT, which refuses it unless its sequence
 * number is after the old connection's (slirp's grow slowly; see the end
 * of guard.c), and slirp may still hold the old connection too, so that
 * the two get each other's segments; under load some connections stall
 * or are reset.  The namespace is the container's alone, and its only
 * link is slirp, which neither duplicates nor delays segments past a
 * connection's end: what TIME_WAIT guards against cannot come.  Linux
 * then closes such a connection at once (the per-namespace limit on
 * TIME_WAIT sockets, as if the table were full).  Best effort: without
 * it, net_synretry still repeats refused SYNs. */
static void
disable_time_wait (void)
{
  int fd = open ("/proc/sys/net/ipv4/tcp_max_tw_buckets", O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    return;
  /* A failure leaves the kernel's default, which net_synretry copes with. */
  while (write (fd, "0\n", 2) < 0 && errno == EINTR)
    ;
  close (fd);
}

static int
child_work (const struct child_job *job, int *tap_fd, struct error **err)
{
  cleanup_close int sock = -1;

  if (join_namespaces (job->pid, err) < 0)
    return -1;
  sock = ioctl_sock (err);
  if (sock < 0 || set_link_up (sock, "lo", err) < 0)
    return -1;
  if (job->tap == NULL)
    return 0;
  /* /proc/sys/net is the namespace of whoever opens it: this child's. */
  disable_time_wait ();
  *tap_fd = create_tap (job->tap->name, err);
  if (*tap_fd < 0)
    return -1;
  return configure_tap (sock, job->tap, err);
}

static __attribute__ ((noreturn)) void
child_main (const struct child_job *job, int sock)
{
  cleanup_error struct error *err = NULL;
  int tap_fd = -1;
  int rc = child_work (job, &tap_fd, &err);

  if (send_reply (sock, rc < 0 ? err : NULL, rc < 0 ? -1 : tap_fd) < 0)
    _exit (1);
  _exit (rc < 0 ? 1 : 0);
}

/* ---- the parent ---------------------------------------------------------------- */

static int
receive_reply (int sock, int *fd, struct error **err)
{
  struct reply r;
  struct iovec iov = { &r, sizeof r };
  char cbuf[CMSG_SPACE (sizeof (int))];
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf };
  struct cmsghdr *c;
  ssize_t n;

  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return err_make (err, errno, "read the network helper's reply");
  if (n == 0)
    return 1; /* EOF: the child died; its status says how */
  c = CMSG_FIRSTHDR (&msg);
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
    memcpy (fd, CMSG_DATA (c), sizeof *fd);
  if (n != (ssize_t) sizeof r)
    return err_make (err, 0, "the network helper sent a short reply");
  if (r.has_error)
    {
      r.msg[sizeof r.msg - 1] = '\0';
      return err_make (err, r.errnum, "%s", r.msg);
    }
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
run_child (const struct child_job *job, int *fd, struct error **err)
{
  cleanup_error struct error *reap_err = NULL;
  int sv[2];
  pid_t child;
  int rc;

  if (check_other_netns (job->pid, err) < 0)
    return -1;
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
  rc = receive_reply (sv[0], fd, err);
  close (sv[0]);
  if (reap (child, &reap_err) < 0 && rc >= 0)
    rc = err_make (err, reap_err->errnum, "%s", reap_err->msg);
  if (rc < 0 && *fd >= 0)
    close (steal_fd (fd));
  return rc;
}

int
net_tap_open (pid_t container_pid, const struct net_tap_config *cfg, int *tap_fd,
              struct error **err)
{
  struct child_job job = { container_pid, cfg };
  int fd = -1;

  if (run_child (&job, &fd, err) < 0)
    return err_wrap (err, "create \"%s\" in the network namespace of process %d", cfg->name,
                     (int) container_pid);
  if (fd < 0)
    return err_make (err, 0, "create \"%s\" in the network namespace of process %d: the "
                     "helper passed no descriptor", cfg->name, (int) container_pid);
  *tap_fd = fd;
  return 0;
}

int
net_loopback_up (pid_t container_pid, struct error **err)
{
  struct child_job job = { container_pid, NULL };
  int fd = -1;

  if (run_child (&job, &fd, err) < 0)
    return err_wrap (err, "bring lo up in the network namespace of process %d",
                     (int) container_pid);
  if (fd >= 0)
    close (fd);
  return 0;
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
