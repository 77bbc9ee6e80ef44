/* Stop, signal, wait and remove, done from any invocation.  Waiting uses
 * pidfds of the container's process and of its monitor: no sleeps, and a
 * polling loop only while a restart policy's backoff runs, which has no
 * event to wait for. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "container_ops.h"
#include "container_start.h"
#include "events.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"

static const struct
{
  const char *name;
  int sig;
} signal_names[] = {
  { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "ILL", SIGILL },
  { "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS },   { "FPE", SIGFPE },
  { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
  { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
  { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
  { "TTOU", SIGTTOU }, { "URG", SIGURG },   { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
  { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
  { "PWR", SIGPWR },   { "SYS", SIGSYS },
};

int
container_parse_signal (const char *s, int *sig, struct error **err)
{
  const char *name = s;
  char *end;
  long n;

  if (s == NULL || *s == '\0')
    return err_make (err, 0, "invalid signal: empty");
  n = strtol (s, &end, 10);
  if (*end == '\0' && n > 0 && n < NSIG)
    {
      *sig = (int) n;
      return 0;
    }
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
    if (strcasecmp (name, signal_names[i].name) == 0)
      {
        *sig = signal_names[i].sig;
        return 0;
      }
  return err_make (err, 0, "invalid signal: %s", s);
}

bool
container_is_running (const struct container *c)
{
  return c->state.status == CONTAINER_RUNNING || c->state.status == CONTAINER_PAUSED
         || c->state.status == CONTAINER_STOPPING;
}

static int
pidfd_of (pid_t pid)
{
  if (pid <= 0)
    return -1;
  return (int) syscall (SYS_pidfd_open, pid, 0);
}

/* Wait until PID is gone, at most TIMEOUT_MS (< 0: forever).  1: timed out. */
static int
wait_pid_gone (pid_t pid, uint64_t start, int timeout_ms)
{
  cleanup_close int fd = pidfd_of (pid);
  struct pollfd p;

  if (fd < 0)
    return 0;
  /* The PID may already be another process's: check after opening. */
  if (!container_pid_alive (pid, start))
    return 0;
  p = (struct pollfd) { .fd = fd, .events = POLLIN };
  for (;;)
    {
      int r = poll (&p, 1, timeout_ms);
      if (r < 0 && errno == EINTR)
        continue;
      return r == 0 ? 1 : 0;
    }
}

static char *
exit_file (const struct container *c)
{
  return xasprintf ("%s.exit", c->run_dir);
}

int
container_keep_exit_code (const struct container *c, struct error **err)
{
  cleanup_free char *path = exit_file (c);
  char text[32];
  int n = snprintf (text, sizeof text, "%d\n", c->state.exit_code);

  return fs_write_atomic_nosync (path, text, (size_t) n, 0600, err);
}

/* C's record went while we waited: its --rm monitor left the exit code. */
static int
removed_exit (struct container *c, struct error **err)
{
  cleanup_free char *path = exit_file (c);
  cleanup_free char *text = fs_read_file (path, 32, NULL, NULL);
  char *end = NULL;
  long code = text ? strtol (text, &end, 10) : 0;

  if (text == NULL || end == text || (*end != '\n' && *end != '\0') || code < -1 || code > 255)
    return err_make (err, 0, "container %.12s was removed before its exit code could be read",
                     c->id);
  c->state.status = CONTAINER_EXITED;
  c->state.exit_code = (int) code;
  c->state.pid = 0;
  return 0;
}

/* How often a waiter looks whether a restarting container runs again. */
#define RESTART_POLL_MS 100

int
container_wait_exit (struct container *c, int timeout_ms, struct error **err)
{
  bool is_own = c->state.monitor_pid == getpid ();

  /* A container that its restart policy restarts has not finished yet:
   * wait through every run, as docker does. */
  while (container_is_running (c) || (c->state.is_restarting && !is_own))
    {
      if (!container_is_running (c))
        wait_pid_gone (c->state.monitor_pid, 0, RESTART_POLL_MS);
      else if (wait_pid_gone (c->state.pid, c->state.pid_start, timeout_ms) == 1)
        return 1;
      /* The monitor records the exit (and maybe removes the container)
       * right after; it exits unless it restarts the container. */
      else if (!is_own)
        wait_pid_gone (c->state.monitor_pid, 0, 5000);
      if (!fs_exists (c->dir))
        return removed_exit (c, err);
      if (container_state_load (c, err) < 0)
        return -1;
    }
  if (!fs_exists (c->dir))
    return removed_exit (c, err);
  return container_state_load (c, err) < 0 ? -1 : 0;
}

int
container_signal (struct container *c, int sig, bool is_user_stop, struct error **err)
{
  if (!container_is_running (c))
    return err_make (err, 0, "can only kill running containers. %.12s is in state %s: "
                     "container state improper", c->id, container_status_name (c->state.status));
  if (is_user_stop && !c->state.is_stop_requested)
    {
      c->state.is_stop_requested = true;
      if (container_state_save (c, err) < 0)
        return -1;
    }
  if (c->state.status == CONTAINER_PAUSED && sig == SIGKILL)
    kill (c->state.pid, SIGCONT);
  if (kill (c->state.pid, sig) < 0 && errno != ESRCH)
    return err_make (err, errno, "kill container %.12s", c->id);
  return 0;
}

static int
stop_signal (struct container *c, int sig)
{
  const char *name = jobj_get_string (jobj_get_object (c->config, "Config"), "StopSignal");
  int s = SIGTERM;

  if (sig > 0)
    return sig;
  if (name && *name && container_parse_signal (name, &s, NULL) < 0)
    s = SIGTERM;
  return s;
}

/* C is between two runs of its restart policy: under its lock (see the
 * monitor's restart()), ask for no restart and cut the backoff short with
 * SIGTERM to the monitor; or find C running again. */
static int
cancel_restart (struct skiff_context *ctx, struct container *c, struct error **err)
{
  cleanup_close int lk = container_lock (ctx, c, err);

  if (lk < 0 || container_state_load (c, err) < 0)
    return -1;
  if (!c->state.is_restarting)
    return 0;
  c->state.is_stop_requested = true;
  if (container_state_save (c, err) < 0)
    return -1;
  if (kill (c->state.monitor_pid, SIGTERM) < 0 && errno != ESRCH)
    return err_make (err, errno, "signal the monitor of container %.12s", c->id);
  close (steal_fd (&lk));
  wait_pid_gone (c->state.monitor_pid, 0, 5000);
  return container_state_load (c, err);
}

int
container_stop (struct skiff_context *ctx, struct container *c, int sig, int timeout,
                struct error **err)
{
  if (c->state.is_restarting && cancel_restart (ctx, c, err) < 0)
    return -1;
  if (!container_is_running (c))
    return 0;
  if (timeout < 0)
    timeout = (int) jobj_get_int (jobj_get_object (c->config, "Config"), "StopTimeout", 10);
  if (container_signal (c, stop_signal (c, sig), true, err) < 0)
    return -1;
  /* SIGKILL (rm -f) cannot fail: no grace period, no warning. */
  if (stop_signal (c, sig) != SIGKILL
      && wait_pid_gone (c->state.pid, c->state.pid_start, timeout * 1000) == 1)
    {
      const char *abbrev = sigabbrev_np (stop_signal (c, sig));
      log_warn ("StopSignal SIG%s failed to stop container %s in %d seconds, resorting to "
                "SIGKILL", abbrev ? abbrev : "?", c->name, timeout);
      if (kill (c->state.pid, SIGKILL) < 0 && errno != ESRCH)
        return err_make (err, errno, "kill container %.12s", c->id);
    }
  if (container_wait_exit (c, -1, err) < 0)
    return -1;
  events_container (ctx, c, "stop");
  return 0;
}

int
container_rm (struct skiff_context *ctx, struct container *c, bool is_force, struct error **err)
{
  /* A restarting container's monitor would start it again. */
  if (container_is_running (c) || c->state.is_restarting)
    {
      if (!is_force)
        return err_make_code (err, 2, 0, "cannot remove container %s as it is %s - running "
                              "or paused containers cannot be removed without force: "
                              "container state improper", c->id,
                              c->state.is_restarting ? "restarting"
                                                     : container_status_name (c->state.status));
      if (container_stop (ctx, c, SIGKILL, 0, err) < 0)
        return -1;
    }
  /* The monitor of an --rm container removes it itself once it exits. */
  if (!fs_exists (c->dir))
    return 0;
  return container_remove (ctx, c, err);
}
