/* See tty_relay.h.  One poll loop over a signalfd, our stdin and the pty. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "libutil/mem.h"
#include "tty_relay.h"

static void
fill_set (sigset_t *set)
{
  static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
                              SIGWINCH };
  sigemptyset (set);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaddset (set, sigs[i]);
}

int
tty_relay_block (struct error **err)
{
  sigset_t set;

  fill_set (&set);
  if (sigprocmask (SIG_BLOCK, &set, NULL) < 0)
    return err_make (err, errno, "sigprocmask");
  return 0;
}

static bool
copy_once (int from, int to)
{
  char buf[16384];
  ssize_t n = read (from, buf, sizeof buf);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    return false;
  for (ssize_t off = 0; off < n;)
    {
      ssize_t w = write (to, buf + off, (size_t) (n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return false;
      off += w;
    }
  return true;
}

static bool
reap (pid_t pid, int *exit_code)
{
  int status;
  pid_t r = waitpid (pid, &status, WNOHANG);

  if (r != pid)
    return false;
  *exit_code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  return true;
}

int
tty_relay_wait (pid_t pid, int master, bool is_stdin, int *exit_code, struct error **err)
{
  sigset_t set;
  cleanup_close int sfd = -1;
  struct termios saved, raw;
  bool is_raw = false, is_done = false;
  int in = is_stdin && master >= 0 ? 0 : -1;

  fill_set (&set);
  sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0)
    return err_make (err, errno, "signalfd");
  if (master >= 0 && isatty (0) && tcgetattr (0, &saved) == 0)
    {
      struct winsize ws;
      raw = saved;
      cfmakeraw (&raw);
      raw.c_oflag |= OPOST;
      is_raw = tcsetattr (0, TCSANOW, &raw) == 0;
      if (ioctl (1, TIOCGWINSZ, &ws) == 0)
        ioctl (master, TIOCSWINSZ, &ws);
    }
  while (!is_done)
    {
      struct pollfd p[3] = { { .fd = sfd, .events = POLLIN }, { .fd = master, .events = POLLIN },
                             { .fd = in, .events = POLLIN } };
      struct signalfd_siginfo si;

      if (poll (p, 3, -1) < 0 && errno != EINTR)
        break;
      if (master >= 0 && p[1].revents && !copy_once (master, 1))
        master = -1;
      if (in >= 0 && p[2].revents && !copy_once (in, master))
        in = -1;
      while (read (sfd, &si, sizeof si) == sizeof si)
        {
          struct winsize ws;
          if (si.ssi_signo == SIGWINCH && master >= 0 && ioctl (1, TIOCGWINSZ, &ws) == 0)
            ioctl (master, TIOCSWINSZ, &ws);
          else if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH)
            kill (pid, (int) si.ssi_signo);
        }
      is_done = reap (pid, exit_code);
    }
  while (master >= 0 && copy_once (master, 1))
    ;
  if (is_raw)
    tcsetattr (0, TCSANOW, &saved);
  return 0;
}
