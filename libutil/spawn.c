/* Running helper programs: posix_spawn with an argv we build (never a
 * shell), stdin fed from memory, stdout and stderr captured through one
 * poll loop so a child that fills one pipe while we write the other cannot
 * deadlock us, and wait statuses turned into words. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
#include "spawn.h"

#define PIPE_CHUNK 65536
/* How much of a failed program's stderr goes into the error message. */
#define STDERR_IN_ERROR_MAX 4096

/* One end of a pipe to the child: what we write to its stdin, or where its
 * stdout or stderr goes. */
struct stream
{
  int fd;           /* our end, -1 once closed or when unused */
  struct buf *sink; /* read into this; NULL for the stdin writer */
  const char *src;  /* stdin data still to write */
  size_t src_len;
};

static void
stream_close (struct stream *s)
{
  if (s->fd >= 0)
    close (s->fd);
  s->fd = -1;
}

/* pipe2() with both ends above 2: posix_spawn's dup2 onto 0, 1 or 2 would
 * not clear close-on-exec if a pipe end already had that number (as
 * happens when our own stdin is closed). */
static int
pipe_high (int fds[2])
{
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return -1;
  for (int i = 0; i < 2; i++)
    if (fds[i] <= 2)
      {
        int moved = fcntl (fds[i], F_DUPFD_CLOEXEC, 3);
        if (moved < 0)
          {
            int saved = errno;
            close (fds[0]);
            close (fds[1]);
            errno = saved;
            return -1;
          }
        close (fds[i]);
        fds[i] = moved;
      }
  return 0;
}

struct child_pipes
{
  int in[2];
  int out[2];
  int errp[2];
};

static void
close_pair (int p[2])
{
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0)
      {
        close (p[i]);
        p[i] = -1;
      }
}

static void
close_child_pipes (struct child_pipes *p)
{
  close_pair (p->in);
  close_pair (p->out);
  close_pair (p->errp);
}

static int
make_pipes (const struct spawn_opts *o, struct child_pipes *p, struct error **err)
{
  if ((o->stdin_data && pipe_high (p->in) < 0) || (o->out && pipe_high (p->out) < 0)
      || (o->errout && pipe_high (p->errp) < 0))
    return err_make (err, errno, "create pipe");
  /* Our stdin end must not block: poll says there is room, not how much,
   * and a blocked write while the child waits for us to read would hang. */
  if (p->in[1] >= 0 && fcntl (p->in[1], F_SETFL, O_NONBLOCK) < 0)
    return err_make (err, errno, "set pipe non-blocking");
  return 0;
}

/* Start ARGV with the child ends of P as its 0, 1, 2; the child gets
 * default signal dispositions and an empty signal mask, whatever ours are
 * (the monitor blocks signals it reads from a signalfd). */
static int
start_child (const char *prog, char *const argv[], const struct spawn_opts *o,
             struct child_pipes *p, pid_t *pid)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, all;
  int r;

  posix_spawn_file_actions_init (&fa);
  posix_spawnattr_init (&attr);
  if (p->in[0] >= 0)
    posix_spawn_file_actions_adddup2 (&fa, p->in[0], 0);
  else
    posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  if (p->out[1] >= 0)
    posix_spawn_file_actions_adddup2 (&fa, p->out[1], 1);
  if (p->errp[1] >= 0)
    posix_spawn_file_actions_adddup2 (&fa, p->errp[1], 2);
  sigemptyset (&none);
  sigfillset (&all);
  posix_spawnattr_setsigmask (&attr, &none);
  posix_spawnattr_setsigdefault (&attr, &all);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  r = posix_spawn (pid, prog, &fa, &attr, argv, o->envp ? o->envp : environ);
  posix_spawnattr_destroy (&attr);
  posix_spawn_file_actions_destroy (&fa);
  return r;
}

static void
pump_write (struct stream *s)
{
  size_t len = s->src_len < PIPE_CHUNK ? s->src_len : PIPE_CHUNK;
  ssize_t n = write (s->fd, s->src, len);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n < 0)
    {
      /* EPIPE: the child closed its stdin without reading everything.
       * That is the child's business; its exit status tells the rest. */
      stream_close (s);
      return;
    }
  s->src += n;
  s->src_len -= (size_t) n;
  if (s->src_len == 0)
    stream_close (s); /* EOF for the child */
}

static int
pump_read (struct stream *s, struct error **err)
{
  ssize_t n;

  buf_reserve (s->sink, PIPE_CHUNK);
  n = read (s->fd, s->sink->data + s->sink->len, PIPE_CHUNK);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n < 0)
    {
      int saved = errno;
      stream_close (s);
      return err_make (err, saved, "read output of child");
    }
  if (n == 0)
    {
      stream_close (s);
      return 0;
    }
  s->sink->len += (size_t) n;
  s->sink->data[s->sink->len] = '\0';
  return 0;
}

/* Move data until the child has closed stdout and stderr and taken all of
 * stdin (or closed it). */
static int
pump (struct stream st[3], struct error **err)
{
  for (;;)
    {
      struct pollfd pfd[3];
      struct stream *which[3];
      nfds_t n = 0;

      for (int i = 0; i < 3; i++)
        if (st[i].fd >= 0)
          {
            pfd[n].fd = st[i].fd;
            pfd[n].events = st[i].sink ? POLLIN : POLLOUT;
            pfd[n].revents = 0;
            which[n++] = &st[i];
          }
      if (n == 0)
        return 0;
      if (poll (pfd, n, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return err_make (err, errno, "poll pipes of child");
        }
      for (nfds_t i = 0; i < n; i++)
        {
          if (pfd[i].revents == 0)
            continue;
          if (which[i]->sink == NULL)
            pump_write (which[i]);
          else if (pump_read (which[i], err) < 0)
            return -1;
        }
    }
}

/* Writing to a pipe whose reader has gone raises SIGPIPE, which would kill
 * us; block it while we feed the child, and discard one that we caused. */
static void
block_sigpipe (sigset_t *old, bool *was_pending)
{
  sigset_t set, pending;

  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  sigpending (&pending);
  *was_pending = sigismember (&pending, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &set, old);
}

static void
restore_sigpipe (const sigset_t *old, bool was_pending)
{
  sigset_t set, pending;
  struct timespec zero = { 0, 0 };

  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  sigpending (&pending);
  if (!was_pending && sigismember (&pending, SIGPIPE))
    while (sigtimedwait (&set, NULL, &zero) < 0 && errno == EINTR)
      ;
  pthread_sigmask (SIG_SETMASK, old, NULL);
}

static int
wait_child (pid_t pid, int *status, struct error **err)
{
  while (waitpid (pid, status, 0) < 0)
    if (errno != EINTR)
      return err_make (err, errno, "wait for process %d", (int) pid);
  return 0;
}

int
spawn_run (char *const argv[], const struct spawn_opts *opts, int *status, struct error **err)
{
  static const struct spawn_opts defaults;
  struct child_pipes p = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
  cleanup_free char *prog = NULL;
  cleanup_pid pid_t pid = -1;
  struct stream st[3];
  sigset_t old_mask;
  bool was_pending;
  int r;

  if (opts == NULL)
    opts = &defaults;
  if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
    return err_make (err, EINVAL, "run: empty command");
  /* Our own PATH search rather than posix_spawnp(): a missing program is
   * then ENOENT, not the EACCES of some unreadable PATH entry. */
  prog = strchr (argv[0], '/') ? xstrdup (argv[0]) : spawn_find_program (argv[0]);
  if (prog == NULL)
    return err_make (err, ENOENT, "run \"%s\": not found in $PATH", argv[0]);
  if (make_pipes (opts, &p, err) < 0)
    {
      close_child_pipes (&p);
      return -1;
    }
  r = start_child (prog, argv, opts, &p, &pid);
  if (r != 0)
    {
      close_child_pipes (&p);
      return err_make (err, r, "run \"%s\"", argv[0]);
    }
  /* Keep only our ends, so EOF arrives when the child closes its own. */
  st[0] = (struct stream){ p.in[1], NULL, opts->stdin_data, opts->stdin_len };
  st[1] = (struct stream){ p.out[0], opts->out, NULL, 0 };
  st[2] = (struct stream){ p.errp[0], opts->errout, NULL, 0 };
  p.in[1] = p.out[0] = p.errp[0] = -1;
  close_child_pipes (&p);
  if (st[0].fd >= 0 && st[0].src_len == 0)
    stream_close (&st[0]);

  block_sigpipe (&old_mask, &was_pending);
  r = pump (st, err);
  restore_sigpipe (&old_mask, was_pending);
  for (int i = 0; i < 3; i++)
    stream_close (&st[i]);
  if (r < 0)
    return err_wrap (err, "run \"%s\"", argv[0]);
  if (wait_child (pid, status, err) < 0)
    return -1;
  pid = -1;
  return 0;
}

/* The tail of what the program wrote to stderr after offset FROM, without
 * surrounding whitespace, for an error message. */
static char *
stderr_excerpt (const struct buf *b, size_t from)
{
  cleanup_free char *s = NULL;
  size_t len;

  if (b->data == NULL || from >= b->len)
    return xstrdup ("");
  s = str_strip (xstrndup (b->data + from, b->len - from));
  len = strlen (s);
  if (len <= STDERR_IN_ERROR_MAX)
    return steal_ptr (&s);
  return xstrdup (s + len - STDERR_IN_ERROR_MAX);
}

int
spawn_check (char *const argv[], const struct spawn_opts *opts, struct error **err)
{
  cleanup_buf struct buf own = BUF_INIT;
  struct spawn_opts o = { 0 };
  cleanup_free char *how = NULL;
  cleanup_free char *text = NULL;
  size_t from;
  int status;

  if (opts)
    o = *opts;
  if (o.errout == NULL)
    o.errout = &own;
  from = o.errout->len;
  if (spawn_run (argv, &o, &status, err) < 0)
    return -1;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  how = spawn_status_text (status);
  text = stderr_excerpt (o.errout, from);
  if (*text == '\0')
    return err_make (err, 0, "\"%s\" %s", argv[0], how);
  return err_make (err, 0, "\"%s\" %s: %s", argv[0], how, text);
}

char *
spawn_status_text (int status)
{
  if (WIFEXITED (status))
    return xasprintf ("exited with status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return xasprintf ("killed by signal %d%s", WTERMSIG (status),
                      WCOREDUMP (status) ? " (core dumped)" : "");
  if (WIFSTOPPED (status))
    return xasprintf ("stopped by signal %d", WSTOPSIG (status));
  return xasprintf ("ended with unknown status 0x%x", (unsigned) status);
}

static bool
is_executable_file (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 && S_ISREG (st.st_mode)
         && faccessat (AT_FDCWD, path, X_OK, AT_EACCESS) == 0;
}

char *
spawn_find_program (const char *prog)
{
  const char *path = getenv ("PATH");

  if (prog == NULL || *prog == '\0')
    return NULL;
  if (strchr (prog, '/'))
    return is_executable_file (prog) ? xstrdup (prog) : NULL;
  /* glibc's execvp() default when PATH is unset. */
  if (path == NULL)
    path = "/bin:/usr/bin";
  for (const char *p = path;;)
    {
      const char *end = strchrnul (p, ':');
      /* An empty PATH entry means the current directory. */
      char *cand = end == p ? xasprintf ("./%s", prog)
                            : xasprintf ("%.*s/%s", (int) (end - p), p, prog);

      if (is_executable_file (cand))
        return cand;
      free (cand);
      if (*end == '\0')
        return NULL;
      p = end + 1;
    }
}

void
spawn_kill_pidp (pid_t *pid)
{
  int saved = errno;

  if (*pid > 0)
    {
      kill (*pid, SIGKILL);
      while (waitpid (*pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  *pid = -1;
  errno = saved;
}
