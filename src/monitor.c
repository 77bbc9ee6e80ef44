/* The monitor loop.  One process per running container waits for it: the
 * CLI in the foreground, a forked process in its own session for detached
 * containers.  It sleeps in poll(2) on a signalfd and the container's
 * output; nothing ticks while the container is quiet.
 *
 * 1. plan_streams: which descriptors the container gets (ours directly,
 *    pipes to relay and log, or a terminal)
 * 2. start: container_start_process with SIGCHLD and the forwarded
 *    signals blocked, so none is lost before the signalfd reads them
 * 3. loop: relay output, forward signals, reap the container
 * 4. finish: record the exit, then restart per policy or remove (--rm)
 *
 * A detached monitor also serves attach (container_attach.h): its socket
 * and clients are polled with the rest, output goes to them as to the
 * log, and with -i it keeps a pipe to the container's stdin for them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "container_attach.h"
#include "container_ops.h"
#include "container_net.h"
#include "container_start.h"
#include "ctr_log.h"
#include "events.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/parse.h"
#include "monitor.h"
#include "sd_notify.h"
#include "sd_notify_relay.h"
#include "volumes.h"

#define RELAY_BUF (64 * 1024)

static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
                                         SIGWINCH };

struct mon
{
  struct skiff_context *ctx;
  struct container *c;
  const struct monitor_opts *o;
  bool is_foreground;
  int sigfd;
  int out_fd, err_fd;    /* read ends of the output pipes, or -1 */
  int pty;               /* terminal master, or -1 */
  int stdin_fd;          /* what we relay into the terminal, or -1 */
  int ctr_stdin;         /* detached -i: the container's stdin, for attach, or -1 */
  struct container_attach_server *attach; /* detached: attach clients */
  struct ctr_log_writer *log;
  struct container_net *net;   /* the network this process serves */
  struct sd_notify_relay *notify; /* --sdnotify=container: the container's socket, or NULL */
  pid_t pid;
  int exit_code;
  bool is_raw;
  struct termios saved_termios;
};

/* ---- 1. streams ------------------------------------------------------------ */

static const char *
log_driver (struct container *c)
{
  const char *t = jobj_get_string (jobj_get_object (jobj_get_object (c->config, "HostConfig"),
                                                   "LogConfig"), "Type");
  return t ? t : "k8s-file";
}

static uint64_t
log_max_size (struct container *c)
{
  json_object *opts = jobj_get_object (jobj_get_object (jobj_get_object (c->config,
                                                                         "HostConfig"),
                                                        "LogConfig"), "Config");
  const char *max = jobj_get_string (opts, "max-size");
  uint64_t n = 0;

  if (max && parse_size (max, &n, NULL) < 0)
    n = 0;
  return n;
}

static bool
is_auto_remove (struct container *c)
{
  return jobj_get_bool (jobj_get_object (c->config, "HostConfig"), "AutoRemove", false);
}

static int
open_log (struct mon *m, struct error **err)
{
  cleanup_free char *path = NULL;

  if (strcmp (log_driver (m->c), "k8s-file") != 0 || m->log)
    return 0;
  path = xasprintf ("%s/ctr.log", m->c->dir);
  m->log = ctr_log_open (path, log_max_size (m->c), err);
  return m->log ? 0 : -1;
}

static int
make_pipe (int *read_end, int *write_end, struct error **err)
{
  int p[2];

  if (pipe2 (p, O_CLOEXEC) < 0)
    return err_make (err, errno, "pipe");
  *read_end = p[0];
  *write_end = p[1];
  return 0;
}

/* Detached with -i: attach clients write into the container's stdin.  The
 * write end is non-blocking, so a container that does not read never
 * stalls this loop. */
static int
open_stdin_pipe (struct mon *m, struct container_io *io, int child_fds[3], struct error **err)
{
  int read_end = -1;

  if (make_pipe (&read_end, &m->ctr_stdin, err) < 0)
    return -1;
  if (fcntl (m->ctr_stdin, F_SETFL, O_NONBLOCK) < 0)
    return err_make (err, errno, "make the container's stdin non-blocking");
  close (child_fds[0]);
  child_fds[0] = read_end;
  io->stdio[0] = read_end;
  return 0;
}

/* The container's streams.  In the foreground with nothing to log (--rm,
 * passthrough) it gets our descriptors themselves: no relay, no copies. */
static int
plan_streams (struct mon *m, struct container_io *io, int child_fds[3], struct error **err)
{
  bool is_direct = m->is_foreground && !m->o->is_tty && !m->o->no_stdout && !m->o->no_stderr
                   && (is_auto_remove (m->c) || strcmp (log_driver (m->c), "k8s-file") != 0);
  int devnull;

  memset (io, 0, sizeof *io);
  for (int i = 0; i < 3; i++)
    child_fds[i] = -1;
  io->is_tty = m->o->is_tty;
  if (io->is_tty)
    {
      struct winsize ws;
      if (m->is_foreground && ioctl (1, TIOCGWINSZ, &ws) == 0)
        {
          io->rows = ws.ws_row;
          io->cols = ws.ws_col;
        }
      io->stdio[0] = io->stdio[1] = io->stdio[2] = -1;
      return open_log (m, err);
    }
  devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0)
    return err_make (err, errno, "open /dev/null");
  child_fds[0] = devnull;
  io->stdio[0] = m->is_foreground && m->o->is_interactive ? 0 : devnull;
  if (!m->is_foreground && m->o->is_interactive && open_stdin_pipe (m, io, child_fds, err) < 0)
    return -1;
  if (is_direct)
    {
      io->stdio[1] = 1;
      io->stdio[2] = 2;
      return 0;
    }
  if (make_pipe (&m->out_fd, &child_fds[1], err) < 0
      || make_pipe (&m->err_fd, &child_fds[2], err) < 0)
    return -1;
  io->stdio[1] = child_fds[1];
  io->stdio[2] = child_fds[2];
  return open_log (m, err);
}

/* ---- 2. signals and the terminal ----------------------------------------- */

static int
block_signals (struct mon *m, sigset_t *old, struct error **err)
{
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
    sigaddset (&set, forwarded_signals[i]);
  if (sigprocmask (SIG_BLOCK, &set, old) < 0)
    return err_make (err, errno, "sigprocmask");
  m->sigfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (m->sigfd < 0)
    return err_make (err, errno, "signalfd");
  return 0;
}

static void
set_raw (struct mon *m)
{
  struct termios t;

  if (!m->is_foreground || !m->o->is_tty || !isatty (0) || tcgetattr (0, &m->saved_termios) < 0)
    return;
  t = m->saved_termios;
  cfmakeraw (&t);
  t.c_oflag |= OPOST; /* keep output newline translation: only input is raw */
  if (tcsetattr (0, TCSANOW, &t) == 0)
    m->is_raw = true;
}

static void
restore_terminal (struct mon *m)
{
  if (m->is_raw)
    tcsetattr (0, TCSANOW, &m->saved_termios);
  m->is_raw = false;
}

static void
resize_pty (struct mon *m)
{
  struct winsize ws;

  if (m->pty >= 0 && ioctl (1, TIOCGWINSZ, &ws) == 0)
    ioctl (m->pty, TIOCSWINSZ, &ws);
}

/* ---- 3. the loop ------------------------------------------------------------ */

static void
emit (struct mon *m, int which, const char *data, size_t len)
{
  if (m->log && ctr_log_write (m->log, which == 2 ? CTR_LOG_STDERR : CTR_LOG_STDOUT, data, len,
                               NULL) < 0)
    log_debug ("container %.12s: log write failed", m->c->id);
  container_attach_broadcast (m->attach, which == 2 ? CONTAINER_ATTACH_STDERR
                                                    : CONTAINER_ATTACH_STDOUT, data, len);
  if (m->is_foreground && m->o->is_attached && !(which == 2 ? m->o->no_stderr : m->o->no_stdout))
    for (size_t off = 0; off < len;)
      {
        ssize_t n = write (which == 2 ? 2 : 1, data + off, len - off);
        if (n < 0 && errno == EINTR)
          continue;
        if (n <= 0)
          break;
        off += (size_t) n;
      }
}

/* Relay what FD has; false once it reached EOF. */
static bool
relay (struct mon *m, int *fd, int which)
{
  char buf[RELAY_BUF];
  ssize_t n = read (*fd, buf, sizeof buf);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    {
      close (*fd);
      *fd = -1;
      return false;
    }
  emit (m, which, buf, (size_t) n);
  return true;
}

static void
forward_stdin (struct mon *m)
{
  char buf[4096];
  ssize_t n = read (m->stdin_fd, buf, sizeof buf);

  if (n <= 0)
    {
      /* End of our input: the terminal sees end-of-file as ^D does. */
      if (n == 0 && m->pty >= 0 && write (m->pty, "\004", 1) < 0)
        log_debug ("stdin eof to terminal: %s", strerror (errno));
      m->stdin_fd = -1;
      return;
    }
  for (ssize_t off = 0; off < n;)
    {
      ssize_t w = write (m->pty, buf + off, (size_t) (n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return;
      off += w;
    }
}

/* Returns true when the container exited (m->exit_code set). */
static bool
handle_signal (struct mon *m)
{
  struct signalfd_siginfo si;
  int status;

  while (read (m->sigfd, &si, sizeof si) == sizeof si)
    {
      if (si.ssi_signo == SIGWINCH)
        {
          resize_pty (m);
          continue;
        }
      if (si.ssi_signo != SIGCHLD)
        {
          if (m->o->has_sig_proxy || !m->is_foreground)
            kill (m->pid, (int) si.ssi_signo);
          continue;
        }
    }
  /* Reap everything: with fuse-overlayfs or --init other children exist. */
  for (;;)
    {
      pid_t p = waitpid (-1, &status, WNOHANG);
      if (p <= 0)
        break;
      if (p == m->pid)
        {
          m->exit_code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
          m->pid = -1;
        }
    }
  return m->pid < 0;
}

static void
drain (struct mon *m)
{
  while (m->out_fd >= 0 && relay (m, &m->out_fd, 1))
    ;
  while (m->err_fd >= 0 && relay (m, &m->err_fd, 2))
    ;
  while (m->pty >= 0 && relay (m, &m->pty, 1))
    ;
}

static void
wait_exit (struct mon *m)
{
  for (;;)
    {
      struct pollfd p[6 + CONTAINER_ATTACH_MAX_FDS];
      int n = 0, ip_sig, ip_out = -1, ip_err = -1, ip_pty = -1, ip_in = -1, ip_ntf = -1, ip_att;
      size_t n_att;

      ip_sig = n;
      p[n++] = (struct pollfd) { .fd = m->sigfd, .events = POLLIN };
      if (m->out_fd >= 0)
        ip_out = n, p[n++] = (struct pollfd) { .fd = m->out_fd, .events = POLLIN };
      if (m->err_fd >= 0)
        ip_err = n, p[n++] = (struct pollfd) { .fd = m->err_fd, .events = POLLIN };
      if (m->pty >= 0)
        ip_pty = n, p[n++] = (struct pollfd) { .fd = m->pty, .events = POLLIN };
      if (m->stdin_fd >= 0)
        ip_in = n, p[n++] = (struct pollfd) { .fd = m->stdin_fd, .events = POLLIN };
      if (m->notify)
        ip_ntf = n, p[n++] = (struct pollfd) { .fd = sd_notify_relay_fd (m->notify),
                                               .events = POLLIN };
      ip_att = n;
      n_att = container_attach_pollfds (m->attach, p + n, CONTAINER_ATTACH_MAX_FDS);
      n += (int) n_att;
      {
        /* slirp's descriptors ride along in the same poll; its timeout
         * stays -1 (sleep) while the network is idle. */
        int timeout = -1, rc, saved;
        size_t nfds;
        struct pollfd *fds = container_net_poll_prepare (m->net, p, (size_t) n, &nfds, &timeout);
        rc = poll (fds, (nfds_t) nfds, timeout);
        saved = errno;
        if (fds != p)
          for (int i = 0; i < n; i++)
            p[i].revents = fds[i].revents;
        container_net_poll_done (m->net, rc);
        if (rc < 0)
          {
            if (saved == EINTR)
              continue;
            return;
          }
      }
      if (ip_out >= 0 && p[ip_out].revents)
        relay (m, &m->out_fd, 1);
      if (ip_err >= 0 && p[ip_err].revents)
        relay (m, &m->err_fd, 2);
      if (ip_pty >= 0 && p[ip_pty].revents)
        relay (m, &m->pty, 1);
      if (ip_in >= 0 && p[ip_in].revents)
        forward_stdin (m);
      if (ip_ntf >= 0 && p[ip_ntf].revents)
        sd_notify_relay_handle (m->notify, getpid ());
      container_attach_handle (m->attach, p + ip_att, n_att, m->pty, m->ctr_stdin);
      if (p[ip_sig].revents && handle_signal (m))
        {
          drain (m);
          return;
        }
    }
}

/* ---- 4. after the exit ------------------------------------------------------ */

static bool
should_restart (struct container *c, int exit_code)
{
  json_object *rp = jobj_get_object (jobj_get_object (c->config, "HostConfig"),
                                     "RestartPolicy");
  const char *name = jobj_get_string (rp, "Name");
  int max = (int) jobj_get_int (rp, "MaximumRetryCount", 0);

  if (name == NULL || *name == '\0' || strcmp (name, "no") == 0 || c->state.is_stop_requested)
    return false;
  if (strcmp (name, "on-failure") == 0)
    return exit_code != 0 && (max == 0 || c->state.restart_count < max);
  return true; /* always, unless-stopped */
}

static int
record_exit (struct mon *m, struct error **err)
{
  struct container *c = m->c;
  int code = m->exit_code;

  /* Reread: `stop` may have asked for no restart meanwhile. */
  if (container_state_load (c, err) < 0)
    return -1;
  c->state.status = CONTAINER_EXITED;
  c->state.exit_code = code;
  c->state.pid = 0;
  c->state.finished_at = container_now_ns ();
  c->state.is_restarting = should_restart (c, code);
  return container_state_save (c, err);
}

/* Wait DELAY_MS for the restart backoff, still forwarding signals: a
 * SIGTERM during the wait cancels the restart.  False when cancelled. */
static bool
backoff (struct mon *m, int delay_ms)
{
  struct pollfd p = { .fd = m->sigfd, .events = POLLIN };
  struct signalfd_siginfo si;

  while (poll (&p, 1, delay_ms) > 0)
    if (read (m->sigfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD
        && si.ssi_signo != SIGWINCH)
      return false;
    else
      delay_ms = delay_ms > 10 ? delay_ms / 2 : 0;
  return true;
}

static void
close_streams (struct mon *m)
{
  if (m->out_fd >= 0)
    close (m->out_fd);
  if (m->err_fd >= 0)
    close (m->err_fd);
  if (m->pty >= 0)
    close (m->pty);
  if (m->ctr_stdin >= 0)
    close (m->ctr_stdin);
  m->out_fd = m->err_fd = m->pty = m->ctr_stdin = -1;
  container_attach_hangup (m->attach);
  /* The network goes with the container's namespace; a restart makes a
   * new one and reserves the ports again. */
  container_net_free (m->net);
  m->net = NULL;
}

static int
start_once (struct mon *m, struct error **err)
{
  struct container_io io;
  struct runtime_proc proc = RUNTIME_PROC_INIT;
  int child_fds[3];
  int r;

  r = plan_streams (m, &io, child_fds, err);
  if (r == 0)
    r = container_net_prepare (m->c, &m->net, err);
  if (r == 0)
    r = container_start_process (m->ctx, m->c, &io, m->net, getpid (), &proc, err);
  for (int i = 0; i < 3; i++)
    if (child_fds[i] >= 0)
      close (child_fds[i]);
  if (r < 0)
    {
      close_streams (m);
      return -1;
    }
  m->pid = proc.pid;
  m->pty = proc.pty_master;
  events_container (m->ctx, m->c, "init");
  events_container (m->ctx, m->c, "start");
  if (m->pty >= 0 && m->is_foreground && m->o->is_interactive)
    m->stdin_fd = 0;
  return 0;
}

/* --sdnotify: the unit's main process is this monitor, which outlives
 * restarts.  "conmon" also says the service is ready once the container
 * runs; "container" leaves READY=1 to the container, whose messages come
 * through the relay (open_notify_relay); "ignore" tells nothing.  A socket that cannot be
 * told is worth a warning, not a failed start. */
static const char *
sdnotify_mode (struct container *c)
{
  return jobj_get_string (jobj_get_object (c->config, "HostConfig"), "SdNotifyMode");
}

static void
notify_ready (struct mon *m)
{
  const char *mode = sdnotify_mode (m->c);
  struct error *e = NULL;
  int r = 0;

  if (mode == NULL || strcmp (mode, "conmon") == 0)
    r = sd_notify_ready (getpid (), &e);
  else if (strcmp (mode, "container") == 0)
    r = sd_notify_mainpid (getpid (), &e);
  if (r < 0)
    {
      log_warn ("container %.12s: %s", m->c->id, e->msg);
      err_release (&e);
    }
}

/* --sdnotify=container: the container's socket exists before the
 * container, which finds it bind-mounted (container_start.c), and lasts
 * across its restarts. */
static int
open_notify_relay (struct mon *m, struct error **err)
{
  if (!sd_notify_relay_wanted (sdnotify_mode (m->c)))
    return 0;
  return sd_notify_relay_open (m->c->run_dir, &m->notify, err);
}

/* The restart policy's next run, after the backoff.  Under the container's
 * lock, as `stop` cancels a restart under it: either the stop request is
 * seen here, or `stop` finds the container running again.  1 when it was
 * restarted, 0 when cancelled. */
static int
restart (struct mon *m, int delay_ms, struct error **err)
{
  struct container *c = m->c;
  bool is_cancelled = !backoff (m, delay_ms);
  cleanup_close int lk = container_lock (m->ctx, c, err);

  if (lk < 0 || container_state_load (c, err) < 0)
    return -1;
  c->state.is_restarting = false;
  if (is_cancelled || c->state.is_stop_requested)
    return container_state_save (c, err) < 0 ? -1 : 0;
  /* Saved with "running" by the start: a waiter never reads a state that
   * is neither running nor restarting in between. */
  c->state.restart_count++;
  return start_once (m, err) < 0 ? -1 : 1;
}

/* `rename` changes the record, not the monitor's copy: the exit's events
 * name the container as it is called now.  Keeps the old name when the
 * record cannot be read. */
static void
refresh_name (struct mon *m)
{
  cleanup_container struct container *now = NULL;

  if (container_find (m->ctx, m->c->id, &now, NULL) == 0 && now
      && strcmp (now->name, m->c->name) != 0)
    {
      free (m->c->name);
      m->c->name = steal_ptr (&now->name);
    }
}

/* Wait for the running container, then restart it as long as its policy
 * says so.  Returns the last exit code. */
static int
supervise (struct mon *m, struct error **err)
{
  int delay = 100, r;

  for (;;)
    {
      set_raw (m);
      wait_exit (m);
      restore_terminal (m);
      close_streams (m);
      if (record_exit (m, err) < 0)
        return -1;
      refresh_name (m);
      events_container_exit (m->ctx, m->c, "died", m->exit_code);
      events_container (m->ctx, m->c, "cleanup");
      if (!m->c->state.is_restarting)
        return 0;
      r = restart (m, delay, err);
      if (r <= 0)
        return r;
      delay = delay < 30000 ? delay * 2 : delay;
    }
}

static int
finish (struct mon *m, struct error **err)
{
  int r = supervise (m, err);

  ctr_log_close (m->log);
  m->log = NULL;
  if (r == 0 && is_auto_remove (m->c))
    {
      /* A detached container's waiters read the code after the removal;
       * in the foreground we are the only one who reports it. */
      if (!m->is_foreground && container_keep_exit_code (m->c, NULL) < 0)
        log_debug ("container %.12s: exit code not kept", m->c->id);
      r = container_remove (m->ctx, m->c, err);
      if (r == 0)
        volumes_remove_anonymous (m->ctx, m->c);
    }
  return r;
}

static void
mon_init (struct mon *m, struct skiff_context *ctx, struct container *c,
          const struct monitor_opts *o, bool is_foreground)
{
  memset (m, 0, sizeof *m);
  m->ctx = ctx;
  m->c = c;
  m->o = o;
  m->is_foreground = is_foreground;
  m->sigfd = m->out_fd = m->err_fd = m->pty = m->stdin_fd = m->ctr_stdin = -1;
  m->pid = -1;
}

int
monitor_foreground (struct skiff_context *ctx, struct container *c,
                    const struct monitor_opts *o, int *lock_fd, int *exit_code,
                    struct error **err)
{
  struct mon m;
  sigset_t old;
  int r;

  mon_init (&m, ctx, c, o, true);
  r = block_signals (&m, &old, err);
  if (r == 0)
    r = open_notify_relay (&m, err);
  if (r == 0)
    r = start_once (&m, err);
  if (*lock_fd >= 0)
    {
      close (*lock_fd);
      *lock_fd = -1;
    }
  if (r == 0)
    {
      notify_ready (&m);
      r = finish (&m, err);
    }
  *exit_code = m.exit_code;
  sd_notify_relay_close (m.notify);
  close (m.sigfd);
  sigprocmask (SIG_SETMASK, &old, NULL);
  return r;
}

/* ---- detached ------------------------------------------------------------ */

/* What the monitor tells the CLI about the start. */
struct report
{
  int ok;
  int code;
  int errnum;
  char msg[4000];
};

static void
send_report (int fd, int r, struct error *e)
{
  struct report rep = { .ok = r == 0 };

  if (e)
    {
      rep.code = e->code;
      rep.errnum = e->errnum;
      snprintf (rep.msg, sizeof rep.msg, "%s", e->msg);
    }
  if (write (fd, &rep, sizeof rep) != (ssize_t) sizeof rep)
    log_debug ("report to the CLI lost");
  close (fd);
}

static void
detach_from_terminal (struct skiff_context *ctx, struct container *c)
{
  cleanup_free char *path = xasprintf ("%s/monitor.log", c->run_dir);
  int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  int logfd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

  (void) ctx;
  setsid ();
  signal (SIGHUP, SIG_IGN);
  if (devnull >= 0)
    {
      dup2 (devnull, 0);
      dup2 (devnull, 1);
      dup2 (logfd >= 0 ? logfd : devnull, 2);
      close (devnull);
    }
  if (logfd >= 0)
    log_set_fd (logfd);
}

static void __attribute__ ((noreturn))
monitor_main (struct skiff_context *ctx, struct container *c, const struct monitor_opts *o,
              int report_fd, int *lock_fd)
{
  struct mon m;
  sigset_t old;
  struct error *e = NULL;
  int r;

  detach_from_terminal (ctx, c);
  mon_init (&m, ctx, c, o, false);
  /* Listening before the start: a client may attach as soon as `run -d`
   * returns.  Without the socket the container still runs. */
  if (container_attach_listen (c, &m.attach, &e) < 0)
    {
      log_warn ("%s", e->msg);
      err_release (&e);
    }
  r = block_signals (&m, &old, &e);
  if (r == 0)
    r = open_notify_relay (&m, &e);
  if (r == 0)
    r = start_once (&m, &e);
  /* Before the report: the unit must learn its main PID before `run -d`,
   * the process systemd started, exits. */
  if (r == 0)
    notify_ready (&m);
  send_report (report_fd, r, e);
  if (*lock_fd >= 0)
    close (*lock_fd);
  if (r < 0)
    {
      container_attach_close (m.attach);
      sd_notify_relay_close (m.notify);
      _exit (1);
    }
  err_release (&e);
  r = finish (&m, &e);
  container_attach_close (m.attach);
  sd_notify_relay_close (m.notify);
  if (r < 0)
    {
      log_error ("container %.12s: %s", c->id, e->msg);
      _exit (1);
    }
  _exit (0);
}

int
monitor_detached (struct skiff_context *ctx, struct container *c, const struct monitor_opts *o,
                  int *lock_fd, struct error **err)
{
  struct report rep = { 0 };
  int p[2];
  pid_t pid;
  ssize_t n;

  if (pipe2 (p, O_CLOEXEC) < 0)
    return err_make (err, errno, "pipe");
  fflush (NULL);
  pid = fork ();
  if (pid < 0)
    {
      close (p[0]);
      close (p[1]);
      return err_make (err, errno, "fork the monitor");
    }
  if (pid == 0)
    {
      close (p[0]);
      /* A second fork: the monitor must not be our child, or an
       * interrupted CLI would take it down with its process group. */
      if (fork () != 0)
        _exit (0);
      monitor_main (ctx, c, o, p[1], lock_fd);
    }
  close (p[1]);
  waitpid (pid, NULL, 0);
  do
    n = read (p[0], &rep, sizeof rep);
  while (n < 0 && errno == EINTR);
  close (p[0]);
  if (n != (ssize_t) sizeof rep)
    return err_make (err, 0, "container %.12s: the monitor died before the container started "
                     "(see %s/monitor.log)", c->id, c->run_dir);
  if (!rep.ok)
    return err_make_code (err, rep.code, rep.errnum, "%s", rep.msg);
  return 0;
}
