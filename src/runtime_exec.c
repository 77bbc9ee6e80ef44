/* exec: a new process inside a running container, the order of operations.
 *
 * The parent (runtime_exec):
 *
 *   1. open_namespaces: /proc/PID/ns/{user,mnt,pid,uts,ipc,net,cgroup} of
 *      the container, every one before any setns (once in the container's
 *      mount namespace, /proc would be the container's), skipping those
 *      we already share (setns into our own user namespace fails).
 *   2. fork the helper.
 *   3. collect: read the sync socket until EOF (the helper exited and the
 *      process exec'd): the process's pid, the terminal, or an error.
 *
 * The helper (join_and_spawn):
 *
 *   4. setns into the user namespace first: as its owner we get every
 *      capability in it, which the other joins need; then mnt, pid, uts,
 *      ipc, net, cgroup.  Joining the mount namespace also puts us at the
 *      container's root (the kernel follows mounts on the namespace's
 *      root, see mntns_install).
 *   5. clone with CLONE_PARENT: setns(CLONE_NEWPID) moves only children
 *      into the pid namespace, and CLONE_PARENT makes that child the
 *      caller's, so the caller can wait for it (crun joins the same way).
 *   6. send the child's pid, exit.
 *
 * The process (exec_main): runtime_process_run, as for the first process
 * but without creating the working directory; a failure is sent to the
 * caller with its exit code (127, 126, 125). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libutil/mem.h"
#include "libutil/spawn.h"
#include "runtime_internal.h"

#define STACK_SIZE (1024u * 1024)

/* In the order they are joined. */
static const struct
{
  const char *name;
  int flag;
} namespaces[] = {
  { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS }, { "pid", CLONE_NEWPID },
  { "uts", CLONE_NEWUTS },   { "ipc", CLONE_NEWIPC }, { "net", CLONE_NEWNET },
  { "cgroup", CLONE_NEWCGROUP },
};

#define N_NAMESPACES (sizeof namespaces / sizeof namespaces[0])

struct exec_ctx
{
  const struct runtime_exec_spec *spec;
  int ns_fds[N_NAMESPACES]; /* -1: shared with us, nothing to join */
  int sock;                 /* the helper's and the process's end */
};

static void
close_namespaces (struct exec_ctx *c)
{
  for (size_t i = 0; i < N_NAMESPACES; i++)
    if (c->ns_fds[i] >= 0)
      close (steal_fd (&c->ns_fds[i]));
}

static bool
is_same_file (int fd, const char *path)
{
  struct stat a, b;

  return fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_dev == b.st_dev
         && a.st_ino == b.st_ino;
}

static int
open_namespaces (pid_t pid, struct exec_ctx *c, struct error **err)
{
  for (size_t i = 0; i < N_NAMESPACES; i++)
    {
      cleanup_free char *path = xasprintf ("/proc/%d/ns/%s", (int) pid, namespaces[i].name);
      cleanup_free char *ours = xasprintf ("/proc/self/ns/%s", namespaces[i].name);
      int fd = open (path, O_RDONLY | O_CLOEXEC);

      /* A kernel without cgroup namespaces has no such file. */
      if (fd < 0 && errno == ENOENT && namespaces[i].flag == CLONE_NEWCGROUP)
        continue;
      if (fd < 0 && errno == ENOENT)
        return err_make (err, ESRCH, "the container's process %d is not running", (int) pid);
      if (fd < 0)
        return err_make (err, errno, "open \"%s\"", path);
      if (is_same_file (fd, ours))
        close (fd);
      else
        c->ns_fds[i] = fd;
    }
  return 0;
}

/* ---- the process --------------------------------------------------------- */

static int
exec_main (void *arg)
{
  struct exec_ctx *c = arg;
  struct runtime_process_opts o = { .sync_fd = c->sock, .go_fd = -1 };
  struct error *err = NULL;

  runtime_process_reset_signals ();
  runtime_process_run (&c->spec->process, &o, &err);
  runtime_sync_send_error (c->sock, err);
  fflush (NULL);
  _exit (err_exit_code (err));
}

/* ---- the helper ---------------------------------------------------------- */

static int
join_namespaces (struct exec_ctx *c, struct error **err)
{
  for (size_t i = 0; i < N_NAMESPACES; i++)
    if (c->ns_fds[i] >= 0 && setns (c->ns_fds[i], namespaces[i].flag) < 0)
      return err_make (err, errno, "join the container's %s namespace", namespaces[i].name);
  close_namespaces (c);
  return 0;
}

static int
spawn_process (struct exec_ctx *c, pid_t *pid, struct error **err)
{
  void *stack = mmap (NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

  if (stack == MAP_FAILED)
    return err_make (err, errno, "allocate a stack for the process");
  *pid = clone (exec_main, (char *) stack + STACK_SIZE, CLONE_PARENT | SIGCHLD, c);
  if (*pid < 0)
    return err_make (err, errno, "start a process in the container");
  return 0;
}

static void __attribute__ ((noreturn))
join_and_spawn (struct exec_ctx *c)
{
  struct error *err = NULL;
  pid_t pid = -1;

  if (join_namespaces (c, &err) < 0 || spawn_process (c, &pid, &err) < 0
      || runtime_sync_send (c->sock, RUNTIME_SYNC_PID, (int) pid, -1, &err) < 0)
    {
      runtime_sync_send_error (c->sock, err);
      _exit (125);
    }
  _exit (0);
}

/* ---- the parent ---------------------------------------------------------- */

struct exec_result
{
  pid_t pid;
  int pty_master;
  struct error *error;
};

static void
take_message (struct runtime_sync_msg *m, struct exec_result *res)
{
  if (m->kind == RUNTIME_SYNC_PID && m->value > 0)
    res->pid = m->value;
  else if (m->kind == RUNTIME_SYNC_PTY && res->pty_master < 0 && m->fd >= 0)
    res->pty_master = steal_fd (&m->fd);
  else if (m->kind == RUNTIME_SYNC_ERROR && res->error == NULL)
    res->error = steal_ptr (&m->error);
  if (m->fd >= 0)
    close (m->fd);
  err_release (&m->error);
}

/* Until EOF: the helper and the process (once exec'd) are gone from it. */
static int
collect (int sock, struct exec_result *res, struct error **err)
{
  for (;;)
    {
      struct runtime_sync_msg m;
      int r = runtime_sync_recv (sock, &m, err);

      if (r <= 0)
        return r;
      take_message (&m, res);
    }
}

static void
reap (pid_t pid, int *status)
{
  while (waitpid (pid, status, 0) < 0 && errno == EINTR)
    ;
}

static int
finish (pid_t helper, struct exec_result *res, bool is_tty, struct error **err)
{
  cleanup_free char *how = NULL;
  int status = 0;

  reap (helper, &status);
  if (res->error)
    {
      if (res->pid > 0)
        reap (res->pid, NULL);
      err_release (err);
      *err = steal_ptr (&res->error);
      return -1;
    }
  if (res->pid <= 0)
    {
      how = spawn_status_text (status);
      return err_make (err, 0, "the exec helper %s before starting the process", how);
    }
  if (is_tty && res->pty_master < 0)
    {
      kill (res->pid, SIGKILL);
      reap (res->pid, NULL);
      return err_make (err, 0, "the process did not pass its terminal back");
    }
  return 0;
}

int
runtime_exec (pid_t container_pid, const struct runtime_exec_spec *spec,
              struct runtime_proc *out, struct error **err)
{
  struct exec_ctx c = { .spec = spec, .sock = -1 };
  struct exec_result res = { .pid = -1, .pty_master = -1 };
  cleanup_close int sock = -1;
  int sv[2];
  pid_t helper;
  int r;

  for (size_t i = 0; i < N_NAMESPACES; i++)
    c.ns_fds[i] = -1;
  if (open_namespaces (container_pid, &c, err) < 0)
    goto fail;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    {
      err_make (err, errno, "create the runtime's sync socket");
      goto fail;
    }
  sock = sv[0];
  c.sock = sv[1];
  fflush (NULL);
  helper = fork ();
  if (helper < 0)
    {
      err_make (err, errno, "fork the exec helper");
      goto fail;
    }
  if (helper == 0)
    {
      close (sock);
      join_and_spawn (&c);
    }
  close (steal_fd (&c.sock));
  close_namespaces (&c);
  r = collect (sock, &res, err);
  if (r < 0)
    {
      reap (helper, NULL);
      if (res.pid > 0)
        {
          kill (res.pid, SIGKILL);
          reap (res.pid, NULL);
        }
    }
  if (r < 0 || finish (helper, &res, spec->process.is_tty, err) < 0)
    {
      if (res.pty_master >= 0)
        close (res.pty_master);
      err_release (&res.error);
      return -1;
    }
  *out = (struct runtime_proc) { res.pid, res.pty_master };
  return 0;

fail:
  if (c.sock >= 0)
    close (c.sock);
  close_namespaces (&c);
  return -1;
}
