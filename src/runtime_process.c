/* The last steps of a container's process, shared by the first process
 * (runtime_start) and by exec (runtime_exec).  They run in the container's
 * namespaces, after pivot_root, as root of the user namespace:
 *
 *   1. runtime_user_lookup: --user against the container's /etc/passwd
 *      and /etc/group, and the environment's HOME.
 *   2. prepare_cwd (start only): a missing working directory is made and
 *      given to the user, as podman does.
 *   3. setup_terminal or setup_stdio: a new session; a pseudo-terminal made
 *      from the container's own /dev/ptmx (its master sent to the parent)
 *      becomes the controlling terminal and descriptors 0-2, or the given
 *      descriptors are.
 *   4. chdir to the working directory while still root (runc does the
 *      same: the user may lack search permission on a parent).
 *   5. runtime_rlimits_apply, while CAP_SYS_RESOURCE is still ours.
 *   6. runtime_caps_prepare: the bounding set; keep capabilities across
 *      the user switch.
 *   7. runtime_user_switch: groups, GID, UID.
 *   8. runtime_no_new_privs when asked.
 *   9. runtime_caps_apply: effective, permitted, inheritable, ambient.
 *  10. Every descriptor above the preserved ones is made close-on-exec.
 *  11. Wait for the parent's go-ahead (its created hook ran).
 *  12. runtime_process_exec, or with --init runtime_init_run. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "libutil/buf.h"
#include "libutil/mem.h"
#include "runtime_internal.h"

/* What Docker and podman use when the image sets no PATH. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define PTS_NAME_MAX 64

static void
cleanup_user (struct runtime_user *u)
{
  runtime_user_clear (u);
}

void
runtime_process_reset_signals (void)
{
  struct sigaction dfl = { .sa_handler = SIG_DFL };
  sigset_t none;

  sigemptyset (&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      sigaction (sig, &dfl, NULL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

/* ---- finding and running the command ------------------------------------ */

static const char *
env_path (char *const *env)
{
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp (env[i], "PATH=", 5) == 0)
      return env[i] + 5;
  return DEFAULT_PATH;
}

static int
exec_failed (const char *file, int errnum, struct error **err)
{
  if (errnum == ENOENT || errnum == ENOTDIR)
    return err_make_code (err, 127, errnum, "executable file \"%s\" not found", file);
  return err_make_code (err, 126, errnum, "exec \"%s\"", file);
}

/* Like Go's exec.LookPath, which podman's users know: an empty PATH entry
 * means the working directory, directories are skipped, and a file
 * without any execute bit does not count as found. */
int
runtime_process_exec (char *const *argv, char *const *env, struct error **err)
{
  cleanup_strv char **dirs = NULL;
  bool saw_denied = false;

  if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
    return err_make (err, 0, "no command given for the container");
  if (strchr (argv[0], '/'))
    {
      execve (argv[0], argv, env);
      return exec_failed (argv[0], errno, err);
    }
  dirs = str_split (env_path (env), ':');
  for (size_t i = 0; dirs[i]; i++)
    {
      cleanup_free char *file = xasprintf ("%s/%s", dirs[i][0] ? dirs[i] : ".", argv[0]);
      struct stat st;

      if (stat (file, &st) < 0 || S_ISDIR (st.st_mode))
        continue;
      if ((st.st_mode & 0111) == 0 || faccessat (AT_FDCWD, file, X_OK, AT_EACCESS) < 0)
        {
          saw_denied = true;
          continue;
        }
      execve (file, argv, env);
      return exec_failed (file, errno, err);
    }
  if (saw_denied)
    return err_make_code (err, 126, EACCES, "exec \"%s\"", argv[0]);
  return err_make_code (err, 127, ENOENT, "executable file \"%s\" not found in $PATH",
                        argv[0]);
}

/* ---- the working directory ---------------------------------------------- */

/* mkdir -p, each directory made given to the user.  Failures are left to
 * the chdir that follows, which names the directory. */
static void
prepare_cwd (const char *cwd, const struct runtime_user *u)
{
  cleanup_free char *path = xstrdup (cwd);

  for (char *p = path + 1;; p++)
    {
      bool is_end = *p == '\0';

      if (*p != '/' && !is_end)
        continue;
      *p = '\0';
      if (mkdir (path, 0755) == 0 && chown (path, u->uid, u->gid) < 0)
        return;
      if (is_end)
        return;
      *p = '/';
    }
}

/* ---- standard streams --------------------------------------------------- */

/* Move each given descriptor to 0, 1, 2 through copies above 2, so a
 * descriptor that is already one of them is not overwritten early. */
static int
setup_stdio (const int stdio[3], struct error **err)
{
  int tmp[3] = { -1, -1, -1 };

  for (int i = 0; i < 3; i++)
    if (stdio[i] >= 0 && (tmp[i] = fcntl (stdio[i], F_DUPFD_CLOEXEC, 3)) < 0)
      return err_make (err, errno, "duplicate the descriptor for stream %d", i);
  for (int i = 0; i < 3; i++)
    {
      if (tmp[i] < 0)
        continue;
      if (dup2 (tmp[i], i) < 0)
        return err_make (err, errno, "set up stream %d", i);
      close (tmp[i]);
    }
  return 0;
}

static int
open_pty (const struct runtime_process *p, const struct runtime_user *u, int *master_out,
          int *slave_out, char name[PTS_NAME_MAX], struct error **err)
{
  cleanup_close int master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  cleanup_close int slave = -1;
  struct winsize ws = { .ws_row = p->tty_rows, .ws_col = p->tty_cols };

  if (master < 0)
    return err_make (err, errno, "open \"/dev/ptmx\" in the container");
  if (unlockpt (master) < 0 || ptsname_r (master, name, PTS_NAME_MAX) != 0)
    return err_make (err, errno, "set up the pseudo-terminal");
  slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return err_make (err, errno, "open \"%s\" in the container", name);
  /* The user's terminal, as crun makes it. */
  if (fchown (slave, u->uid, u->gid) < 0)
    return err_make (err, errno, "give \"%s\" to user %u", name, (unsigned) u->uid);
  if (ws.ws_row && ws.ws_col && ioctl (slave, TIOCSWINSZ, &ws) < 0)
    return err_make (err, errno, "set the terminal size");
  *master_out = steal_fd (&master);
  *slave_out = steal_fd (&slave);
  return 0;
}

static int
setup_terminal (const struct runtime_process *p, const struct runtime_user *u,
                const struct runtime_process_opts *o, struct error **err)
{
  cleanup_close int master = -1, slave = -1;
  char name[PTS_NAME_MAX];
  int fds[3];

  if (open_pty (p, u, &master, &slave, name, err) < 0)
    return -1;
  if (o->bind_console && mount (name, "/dev/console", NULL, MS_BIND, NULL) < 0)
    return err_make (err, errno, "bind \"%s\" on \"/dev/console\"", name);
  if (runtime_sync_send (o->sync_fd, RUNTIME_SYNC_PTY, 0, master, err) < 0)
    return err_wrap (err, "pass the terminal to skiff");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return err_make (err, errno, "make \"%s\" the controlling terminal", name);
  fds[0] = fds[1] = fds[2] = slave;
  return setup_stdio (fds, err);
}

/* A new session either way: terminal signals reach the container only
 * through its own terminal, or through skiff forwarding them. */
static int
setup_streams (const struct runtime_process *p, const struct runtime_user *u,
               const struct runtime_process_opts *o, struct error **err)
{
  if (setsid () < 0)
    return err_make (err, errno, "start a new session");
  if (p->is_tty)
    return setup_terminal (p, u, o, err);
  return setup_stdio (p->stdio, err);
}

/* ---- the whole ---------------------------------------------------------- */

static int
become_user (const struct runtime_process *p, const struct runtime_user *u,
             struct error **err)
{
  if (runtime_rlimits_apply (p->rlimits, p->n_rlimits, err) < 0
      || runtime_caps_prepare (&p->caps, err) < 0 || runtime_user_switch (u, err) < 0)
    return -1;
  if (p->no_new_privs && runtime_no_new_privs (err) < 0)
    return -1;
  return runtime_caps_apply (&p->caps, u->uid, err);
}

/* Descriptors 3 .. 3 + N - 1 are the caller's to pass (--preserve-fds). */
static int
pass_descriptors (unsigned int preserve_fds, struct error **err)
{
  for (unsigned int i = 0; i < preserve_fds; i++)
    if (fcntl ((int) (3 + i), F_SETFD, 0) < 0)
      return err_make (err, errno, "pass descriptor %u", 3 + i);
  return runtime_fs_cloexec_from ((int) (3 + preserve_fds), false, err);
}

struct exec_args
{
  char *const *argv;
  char *const *env;
};

static int
exec_command (void *arg, struct error **err)
{
  const struct exec_args *a = arg;

  return runtime_process_exec (a->argv, a->env, err);
}

int
runtime_process_run (const struct runtime_process *p, const struct runtime_process_opts *o,
                     struct error **err)
{
  __attribute__ ((cleanup (cleanup_user))) struct runtime_user u = { 0 };
  cleanup_strv char **env = NULL;
  const char *cwd = p->cwd ? p->cwd : "/";
  struct exec_args a;
  bool is_in_cwd;

  if (runtime_user_lookup (p, &u, err) < 0)
    return -1;
  env = runtime_user_env (p->env, &u);
  if (o->create_cwd)
    prepare_cwd (cwd, &u);
  if (setup_streams (p, &u, o, err) < 0)
    return -1;
  /* The parent's on-created work (the network) opens /proc/PID/ns/ files, which
   * the kernel refuses once a change of user has made us non-dumpable: wait
   * for it before becoming the user. */
  if (o->go_fd >= 0 && runtime_sync_wait_go (o->go_fd, err) < 0)
    return -1;
  is_in_cwd = chdir (cwd) == 0;
  if (become_user (p, &u, err) < 0)
    return -1;
  if (!is_in_cwd && chdir (cwd) < 0)
    return err_make (err, errno, "change to the working directory \"%s\"", cwd);
  if (pass_descriptors (p->preserve_fds, err) < 0)
    return -1;
  a = (struct exec_args) { p->argv, env };
  if (o->init)
    return runtime_init_run (exec_command, &a, p->is_tty, err);
  return exec_command (&a, err);
}
