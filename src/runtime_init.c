/* --init: skiff itself as the container's PID 1, without exec'ing another
 * program (the job of podman's catatonit or docker's tini).  A process
 * that is PID 1 of a pid namespace gets no signal it has no handler for,
 * and inherits every orphan; most commands are not written for that.  So
 * PID 1 forks the command and then only:
 *
 *   - forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and
 *     SIGWINCH to it (they are blocked and taken with sigwaitinfo, so
 *     nothing runs in a signal handler);
 *   - reaps every child that exits;
 *   - exits with the command's status (128 + signal when it was killed),
 *     which ends the namespace and kills whatever is left in it. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "runtime_internal.h"

static const int forwarded_signals[] = {
  SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};

static void
init_signal_set (sigset_t *set)
{
  sigemptyset (set);
  sigaddset (set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
    sigaddset (set, forwarded_signals[i]);
}

/* The command gets its own process group and, with a terminal, becomes
 * its foreground group, so ^C reaches it once, from the terminal, and not
 * a second time through us.  SIGTTOU is ignored meanwhile: a background
 * group calling tcsetpgrp would be stopped by it. */
static void
take_terminal (bool is_tty)
{
  struct sigaction ign = { .sa_handler = SIG_IGN }, old;

  setpgid (0, 0);
  if (!is_tty)
    return;
  sigemptyset (&ign.sa_mask);
  sigaction (SIGTTOU, &ign, &old);
  tcsetpgrp (STDIN_FILENO, getpgrp ());
  sigaction (SIGTTOU, &old, NULL);
}

static int
exit_code (int status)
{
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return WEXITSTATUS (status);
}

/* Reap everything that has exited; 1 with *STATUS once CHILD is among
 * them. */
static int
reap_all (pid_t child, int *status)
{
  int found = 0;
  pid_t pid;
  int st;

  while ((pid = waitpid (-1, &st, WNOHANG)) > 0)
    if (pid == child)
      {
        *status = st;
        found = 1;
      }
  return found;
}

static int
supervise (pid_t child, const sigset_t *set)
{
  int status = 0;

  for (;;)
    {
      siginfo_t info;
      int sig = sigwaitinfo (set, &info);

      if (sig < 0)
        continue;
      if (sig != SIGCHLD)
        {
          kill (child, sig);
          continue;
        }
      if (reap_all (child, &status))
        return exit_code (status);
    }
}

int
runtime_init_run (int (*exec_fn) (void *arg, struct error **err), void *arg, bool is_tty,
                  struct error **err)
{
  sigset_t set, old;
  pid_t child;

  init_signal_set (&set);
  if (sigprocmask (SIG_BLOCK, &set, &old) < 0)
    return err_make (err, errno, "block signals in the container's init");
  child = fork ();
  if (child < 0)
    return err_make (err, errno, "fork the container's command");
  if (child == 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      take_terminal (is_tty);
      return exec_fn (arg, err);
    }
  /* PID 1 is a copy of skiff: show a name, not the host's command line
   * with its paths. */
  cli_set_process_name ("skiff-init");
  /* The command holds what it needs; ours would keep the sync sockets
   * open after its exec, and the parent would never see it start. */
  if (runtime_fs_cloexec_from (3, true, err) < 0)
    {
      kill (child, SIGKILL);
      return -1;
    }
  return supervise (child, &set);
}
