/* attach, both sides (see container_attach.h).
 *
 * The socket lives in the container's runtime directory, whose path may be
 * longer than sun_path holds (108 bytes); it is bound and reached as
 * /proc/self/fd/N/attach through a descriptor of the directory, as conmon
 * does.
 *
 * The client (container_attach):
 *   1. connect; the container must run and have a monitor serving it
 *   2. with a terminal: raw mode, our window size sent, SIGWINCH resends
 *   3. poll: output messages to stdout/stderr; our stdin through the
 *      detach-key matcher to the monitor; our signals to the container
 *      (non-terminal --sig-proxy)
 *   4. at hangup: wait until the exit is recorded and return its code */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "container_attach.h"
#include "container_ops.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"

#define SOCKET_NAME "attach"
#define MSG_MAX (64 * 1024 + 1)
#define DEFAULT_DETACH_KEYS "ctrl-p,ctrl-q"

struct container_attach_server
{
  int listen_fd;
  int dir_fd; /* the runtime directory, to reach and remove the socket */
  int clients[CONTAINER_ATTACH_MAX_CLIENTS];
};

static void
socket_address (int dir_fd, struct sockaddr_un *sa)
{
  memset (sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  snprintf (sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/" SOCKET_NAME, dir_fd);
}

/* ---- the monitor's side ---------------------------------------------------------- */

int
container_attach_listen (struct container *c, struct container_attach_server **out,
                         struct error **err)
{
  struct container_attach_server *s = xmalloc0 (sizeof *s);
  struct sockaddr_un sa;

  s->listen_fd = -1;
  for (size_t i = 0; i < CONTAINER_ATTACH_MAX_CLIENTS; i++)
    s->clients[i] = -1;
  s->dir_fd = open (c->run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (s->dir_fd < 0)
    {
      container_attach_close (s);
      return err_make (err, errno, "open \"%s\"", c->run_dir);
    }
  unlinkat (s->dir_fd, SOCKET_NAME, 0);
  socket_address (s->dir_fd, &sa);
  s->listen_fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->listen_fd < 0 || bind (s->listen_fd, (struct sockaddr *) &sa, sizeof sa) < 0
      || listen (s->listen_fd, CONTAINER_ATTACH_MAX_CLIENTS) < 0)
    {
      int saved = errno;
      container_attach_close (s);
      return err_make (err, saved, "container %.12s: listen on its attach socket", c->id);
    }
  *out = s;
  return 0;
}

size_t
container_attach_pollfds (const struct container_attach_server *s, struct pollfd *p, size_t max)
{
  size_t n = 0;

  if (s == NULL || max == 0)
    return 0;
  p[n++] = (struct pollfd) { .fd = s->listen_fd, .events = POLLIN };
  for (size_t i = 0; i < CONTAINER_ATTACH_MAX_CLIENTS && n < max; i++)
    if (s->clients[i] >= 0)
      p[n++] = (struct pollfd) { .fd = s->clients[i], .events = POLLIN };
  return n;
}

static void
drop_client (struct container_attach_server *s, int fd)
{
  for (size_t i = 0; i < CONTAINER_ATTACH_MAX_CLIENTS; i++)
    if (s->clients[i] == fd)
      {
        close (fd);
        s->clients[i] = -1;
      }
}

static void
accept_client (struct container_attach_server *s)
{
  int fd = accept4 (s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

  if (fd < 0)
    return;
  for (size_t i = 0; i < CONTAINER_ATTACH_MAX_CLIENTS; i++)
    if (s->clients[i] < 0)
      {
        s->clients[i] = fd;
        return;
      }
  log_debug ("attach: too many clients, one refused");
  close (fd);
}

/* Input for the container, never blocking the monitor: what the terminal
 * or the pipe cannot take now is dropped. */
static void
deliver (int fd, const char *data, size_t len)
{
  struct pollfd p = { .fd = fd, .events = POLLOUT };

  while (len > 0 && poll (&p, 1, 0) == 1 && (p.revents & POLLOUT))
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      data += n;
      len -= (size_t) n;
    }
}

static void
resize (int pty, const char *data, size_t len)
{
  struct winsize ws = { 0 };
  uint16_t rc[2];

  if (pty < 0 || len < sizeof rc)
    return;
  memcpy (rc, data, sizeof rc);
  ws.ws_row = rc[0];
  ws.ws_col = rc[1];
  if (ioctl (pty, TIOCSWINSZ, &ws) < 0)
    log_debug ("attach: resize: %s", strerror (errno));
}

static void
read_client (struct container_attach_server *s, int fd, int pty, int stdin_fd)
{
  char buf[MSG_MAX];
  ssize_t n = recv (fd, buf, sizeof buf, 0);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      drop_client (s, fd);
      return;
    }
  if (buf[0] == CONTAINER_ATTACH_RESIZE)
    resize (pty, buf + 1, (size_t) n - 1);
  else if (buf[0] == CONTAINER_ATTACH_INPUT && (pty >= 0 || stdin_fd >= 0))
    deliver (pty >= 0 ? pty : stdin_fd, buf + 1, (size_t) n - 1);
}

void
container_attach_handle (struct container_attach_server *s, const struct pollfd *p, size_t n,
                         int pty, int stdin_fd)
{
  for (size_t i = 0; s && i < n; i++)
    {
      if (p[i].revents == 0)
        continue;
      if (p[i].fd == s->listen_fd)
        accept_client (s);
      else
        read_client (s, p[i].fd, pty, stdin_fd);
    }
}

void
container_attach_broadcast (struct container_attach_server *s, int stream, const char *data,
                            size_t len)
{
  unsigned char tag = (unsigned char) stream;
  struct iovec iov[2] = { { &tag, 1 }, { (void *) data, len } };
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

  for (size_t i = 0; s && i < CONTAINER_ATTACH_MAX_CLIENTS; i++)
    if (s->clients[i] >= 0 && sendmsg (s->clients[i], &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
      {
        if (errno == EAGAIN || errno == ENOBUFS)
          log_debug ("attach: a slow client missed %zu bytes", len);
        else
          drop_client (s, s->clients[i]);
      }
}

void
container_attach_hangup (struct container_attach_server *s)
{
  for (size_t i = 0; s && i < CONTAINER_ATTACH_MAX_CLIENTS; i++)
    if (s->clients[i] >= 0)
      drop_client (s, s->clients[i]);
}

void
container_attach_close (struct container_attach_server *s)
{
  if (s == NULL)
    return;
  container_attach_hangup (s);
  if (s->listen_fd >= 0)
    close (s->listen_fd);
  if (s->dir_fd >= 0)
    {
      unlinkat (s->dir_fd, SOCKET_NAME, 0);
      close (s->dir_fd);
    }
  free (s);
}

/* ---- the client ------------------------------------------------------------------------ */

struct client
{
  struct container *c;
  const struct container_attach_opts *o;
  struct container_attach_keys keys;
  int sock;
  int sigfd;
  bool is_tty, is_stdin;
  bool is_raw;
  struct termios saved;
};

static const int client_signals[] = { SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
                                      SIGUSR2 };

static int
connect_monitor (struct client *cl, struct error **err)
{
  cleanup_close int dir = open (cl->c->run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct sockaddr_un sa;

  if (dir < 0)
    return err_make (err, errno, "open \"%s\"", cl->c->run_dir);
  socket_address (dir, &sa);
  cl->sock = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (cl->sock < 0)
    return err_make (err, errno, "socket");
  if (connect (cl->sock, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      if (errno == ENOENT || errno == ECONNREFUSED)
        return err_make (err, 0, "container %s has no monitor to attach to: only a container "
                         "started in the background (run -d, start) can be attached",
                         cl->c->name);
      return err_make (err, errno, "connect to the monitor of container %s", cl->c->name);
    }
  return 0;
}

static int
send_msg (int sock, int kind, const void *data, size_t len)
{
  unsigned char tag = (unsigned char) kind;
  struct iovec iov[2] = { { &tag, 1 }, { (void *) data, len } };
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

  return sendmsg (sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

static void
send_size (struct client *cl)
{
  struct winsize ws;
  uint16_t rc[2];

  if (!cl->is_tty || (ioctl (0, TIOCGWINSZ, &ws) < 0 && ioctl (1, TIOCGWINSZ, &ws) < 0))
    return;
  rc[0] = ws.ws_row;
  rc[1] = ws.ws_col;
  send_msg (cl->sock, CONTAINER_ATTACH_RESIZE, rc, sizeof rc);
}

static void
set_raw (struct client *cl)
{
  struct termios t;

  if (!cl->is_tty || !cl->is_stdin || !isatty (0) || tcgetattr (0, &cl->saved) < 0)
    return;
  t = cl->saved;
  cfmakeraw (&t);
  t.c_oflag |= OPOST;
  if (tcsetattr (0, TCSANOW, &t) == 0)
    cl->is_raw = true;
}

static void
restore_terminal (struct client *cl)
{
  if (cl->is_raw)
    tcsetattr (0, TCSANOW, &cl->saved);
  cl->is_raw = false;
}

static int
block_signals (struct client *cl, sigset_t *old, struct error **err)
{
  sigset_t set;

  sigemptyset (&set);
  for (size_t i = 0; i < sizeof client_signals / sizeof *client_signals; i++)
    sigaddset (&set, client_signals[i]);
  if (sigprocmask (SIG_BLOCK, &set, old) < 0)
    return err_make (err, errno, "sigprocmask");
  cl->sigfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (cl->sigfd < 0)
    {
      int saved = errno;
      sigprocmask (SIG_SETMASK, old, NULL);
      return err_make (err, saved, "signalfd");
    }
  return 0;
}

static void
on_signal (struct client *cl)
{
  struct signalfd_siginfo si;
  struct error *e = NULL;

  while (read (cl->sigfd, &si, sizeof si) == sizeof si)
    {
      if (si.ssi_signo == SIGWINCH)
        send_size (cl);
      else if (cl->o->has_sig_proxy && !cl->is_tty
               && container_signal (cl->c, (int) si.ssi_signo, false, &e) < 0)
        err_release (&e);
    }
}

static int
write_out (int fd, const char *data, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      data += n;
      len -= (size_t) n;
    }
  return 0;
}

/* false once the monitor hung up. */
static bool
on_output (struct client *cl)
{
  char buf[MSG_MAX];
  ssize_t n = recv (cl->sock, buf, sizeof buf, 0);

  if (n < 0 && errno == EINTR)
    return true;
  if (n <= 0)
    return false;
  if (n > 1)
    write_out (buf[0] == CONTAINER_ATTACH_STDERR ? 2 : 1, buf + 1, (size_t) n - 1);
  return true;
}

/* false on detach; *IS_EOF at the end of our stdin. */
static bool
on_input (struct client *cl, bool *is_eof)
{
  char in[4096], out[sizeof in + CONTAINER_ATTACH_MAX_KEYS];
  ssize_t n = read (0, in, sizeof in);
  bool is_detach = false;
  size_t len;

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    {
      *is_eof = true;
      return true;
    }
  len = container_attach_keys_feed (&cl->keys, in, (size_t) n, out, &is_detach);
  if (len > 0)
    send_msg (cl->sock, CONTAINER_ATTACH_INPUT, out, len);
  return !is_detach;
}

/* 1 when detached, 0 when the container ended. */
static int
relay (struct client *cl)
{
  bool is_eof = !cl->is_stdin;

  for (;;)
    {
      struct pollfd p[3] = { { .fd = cl->sock, .events = POLLIN },
                             { .fd = cl->sigfd, .events = POLLIN },
                             { .fd = is_eof ? -1 : 0, .events = POLLIN } };

      if (poll (p, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return 0;
        }
      if (p[1].revents)
        on_signal (cl);
      if (p[2].revents && !on_input (cl, &is_eof))
        return 1;
      if (p[0].revents && !on_output (cl))
        return 0;
    }
}

int
container_attach (struct container *c, const struct container_attach_opts *o, int *exit_code,
                  struct error **err)
{
  struct client cl = { .c = c, .o = o, .sock = -1, .sigfd = -1 };
  json_object *cfg = jobj_get_object (c->config, "Config");
  sigset_t old;
  int r;

  if (!container_is_running (c))
    return err_make (err, 0, "you cannot attach to a stopped container, start it first");
  if (container_attach_parse_keys (o->detach_keys ? o->detach_keys : DEFAULT_DETACH_KEYS,
                                   &cl.keys, err) < 0)
    return -1;
  cl.is_tty = jobj_get_bool (cfg, "Tty", false);
  cl.is_stdin = !o->is_no_stdin && jobj_get_bool (cfg, "OpenStdin", false);
  r = connect_monitor (&cl, err);
  if (r == 0)
    r = block_signals (&cl, &old, err);
  if (r == 0)
    {
      set_raw (&cl);
      send_size (&cl);
      r = relay (&cl);
      restore_terminal (&cl);
      sigprocmask (SIG_SETMASK, &old, NULL);
    }
  if (cl.sigfd >= 0)
    close (cl.sigfd);
  if (cl.sock >= 0)
    close (cl.sock);
  if (r < 0)
    return -1;
  *exit_code = 0;
  if (r == 1)
    return 0;
  if (container_wait_exit (c, -1, err) < 0)
    return -1;
  *exit_code = c->state.exit_code >= 0 ? c->state.exit_code : 125;
  return 0;
}
