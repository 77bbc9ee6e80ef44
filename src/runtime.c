/* Starting a container: the order of operations.
 *
 * The parent (runtime_start):
 *
 *   1. check_keep_id: with --userns=keep-id, CFG must hold the keep-id maps.
 *   2. userns_spawn: a child in new user (rootless), mount, pid, uts, ipc,
 *      cgroup and network namespaces; it is PID 1 of its pid namespace,
 *      root of its user namespace, and "/" is already a slave mount.  With
 *      JOIN_NET_PID (--network container:NAME), userns_spawn_join instead:
 *      the user and network namespaces are that container's.
 *   3. The created hook (the network, from our side), then the go-ahead on
 *      the runtime's sync socket; the terminal's master comes back on it.
 *   4. userns_proc_wait_exec: EOF when the command was exec'd, or the
 *      error of the step that failed in the child.
 *
 * The child (container_main), in order:
 *
 *   1. runtime_process_reset_signals: nothing of skiff's signal state
 *      reaches the container.
 *   2. runtime_mounts_rootfs: the storage driver's callback mounts the
 *      root filesystem; it is bound onto itself.
 *   3. runtime_mounts_setup: /proc, /sys, /dev, devpts, /dev/shm,
 *      /dev/mqueue, cgroup, the /etc files, volumes, masked and read-only
 *      paths (runtime_mounts.c lists the details).
 *   4. runtime_mounts_pivot: pivot_root, the old root detached, "/"
 *      read-only with --read-only.
 *   5. set_hostname.
 *   6. runtime_process_run: user, terminal, rlimits, capabilities,
 *      working directory, the go-ahead, exec (runtime_process.c); with
 *      --init the child stays as PID 1 and the command is its child
 *      (runtime_init.c).
 *
 * A failing step returns its error; userns_spawn() carries it to the
 * parent, which reports it with its exit code (127, 126, or 125). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libutil/mem.h"
#include "runtime_internal.h"

struct container_args
{
  const struct runtime_spec *spec;
  bool is_gid5_mapped;
  bool has_cgroupns;
  int sync_fd;   /* the child's end of the runtime's socket, or -1 */
  int parent_fd; /* the parent's end, closed first so EOF means the parent died */
};

/* ---- the child ----------------------------------------------------------- */

static int
set_hostname (const struct runtime_spec *spec, struct error **err)
{
  const char *name = spec->hostname;

  if (name && sethostname (name, strlen (name)) < 0)
    return err_make (err, errno, "set the hostname \"%s\"", name);
  return 0;
}

static int
container_main (void *arg, struct error **err)
{
  const struct container_args *a = arg;
  struct runtime_mount_ctx m = {
    .spec = a->spec,
    .is_gid5_mapped = a->is_gid5_mapped,
    .has_cgroupns = a->has_cgroupns,
    .root_fd = -1,
  };
  struct runtime_process_opts o = {
    .sync_fd = a->sync_fd,
    .go_fd = a->spec->on_created ? a->sync_fd : -1,
    .create_cwd = true,
    .bind_console = a->spec->process.is_tty,
    .init = a->spec->init,
  };

  if (a->parent_fd >= 0)
    close (a->parent_fd);
  runtime_process_reset_signals ();
  if (runtime_mounts_rootfs (&m, err) < 0 || runtime_mounts_setup (&m, err) < 0
      || runtime_mounts_pivot (&m, err) < 0)
    return -1;
  close (steal_fd (&m.root_fd));
  if (set_hostname (a->spec, err) < 0)
    return -1;
  return runtime_process_run (&a->spec->process, &o, err);
}

/* ---- the parent ---------------------------------------------------------- */

/* With keep-id the caller passes userns_config_keep_id()'s config; a plain
 * one would run the container with the user as root instead. */
static int
check_keep_id (const struct userns_config *cfg, const struct runtime_spec *spec,
               struct error **err)
{
  if (!spec->keep_id)
    return 0;
  for (size_t i = 0; i < cfg->uidmap.n; i++)
    {
      const struct userns_idmap_entry *e = &cfg->uidmap.entries[i];

      if (e->container_id == cfg->uid && e->host_id == cfg->uid && e->size == 1)
        return 0;
    }
  return err_make (err, 0, "--userns=keep-id: the user namespace config does not keep "
                   "UID %u (make it with userns_config_keep_id())", (unsigned) cfg->uid);
}

static bool
is_gid_mapped (const struct userns_config *cfg, uint32_t gid)
{
  if (!cfg->is_rootless)
    return true;
  for (size_t i = 0; i < cfg->gidmap.n; i++)
    {
      const struct userns_idmap_entry *e = &cfg->gidmap.entries[i];

      if (gid >= e->container_id && gid - e->container_id < e->size)
        return true;
    }
  return false;
}

/* Cgroup namespaces came with Linux 4.6. */
static bool
has_cgroup_namespaces (void)
{
  return access ("/proc/self/ns/cgroup", F_OK) == 0;
}

static int
clone_flags (const struct runtime_spec *spec, bool has_cgroupns)
{
  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;

  if (!spec->is_host_network && spec->join_net_fd <= 0)
    flags |= CLONE_NEWNET;
  if (has_cgroupns)
    flags |= CLONE_NEWCGROUP;
  return flags;
}

/* The hook failed: the child's own failure, if it had one, is the real
 * cause; otherwise the hook's error stands. */
static int
created_hook_failed (struct userns_proc *proc, struct error **err)
{
  struct error *child_err = NULL;

  kill (proc->pid, SIGKILL);
  if (userns_proc_wait_exec (proc, &child_err) < 0)
    {
      err_release (err);
      *err = child_err;
      return -1;
    }
  return err_wrap (err, "set up the container from the host");
}

/* Steps 3 and 4 of the parent. */
static int
sync_with_child (const struct runtime_spec *spec, struct userns_proc *proc, int sock,
                 struct runtime_proc *out, struct error **err)
{
  struct runtime_sync_msg m = { .fd = -1 };
  cleanup_error struct error *sync_err = NULL;

  if (spec->on_created && spec->on_created (spec->created_data, proc->pid, err) < 0)
    return created_hook_failed (proc, err);
  /* A failure here means the child died; its own error says why. */
  if (spec->on_created && runtime_sync_send (sock, RUNTIME_SYNC_GO, 0, -1, &sync_err) < 0)
    return userns_proc_wait_exec (proc, err) < 0 ? -1 : err_make (err, 0, "%s", sync_err->msg);
  if (spec->process.is_tty && runtime_sync_recv (sock, &m, &sync_err) > 0)
    {
      err_release (&m.error);
      if (m.kind == RUNTIME_SYNC_PTY)
        out->pty_master = m.fd;
      else if (m.fd >= 0)
        close (m.fd);
    }
  if (userns_proc_wait_exec (proc, err) < 0)
    return -1;
  if (spec->process.is_tty && out->pty_master < 0)
    return err_make (err, 0, "the container did not pass its terminal back");
  return 0;
}

int
runtime_start (const struct userns_config *cfg, const struct runtime_spec *spec,
               struct runtime_proc *out, struct error **err)
{
  cleanup_userns_proc struct userns_proc proc = USERNS_PROC_INIT;
  struct runtime_proc res = RUNTIME_PROC_INIT;
  cleanup_close int parent_sock = -1, child_sock = -1;
  struct container_args a = { .spec = spec, .sync_fd = -1, .parent_fd = -1 };

  if (spec->mount_rootfs == NULL)
    return err_make (err, 0, "start a container: no root filesystem");
  if (check_keep_id (cfg, spec, err) < 0)
    return -1;
  a.is_gid5_mapped = is_gid_mapped (cfg, 5);
  a.has_cgroupns = has_cgroup_namespaces ();
  if (spec->on_created || spec->process.is_tty)
    {
      int sv[2];

      if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return err_make (err, errno, "create the runtime's sync socket");
      parent_sock = a.parent_fd = sv[0];
      child_sock = a.sync_fd = sv[1];
    }
  if (spec->join_net_fd > 0
      ? userns_spawn_join (cfg, spec->join_net_fd, clone_flags (spec, a.has_cgroupns),
                           container_main, &a, &proc, err) < 0
      : userns_spawn (cfg, clone_flags (spec, a.has_cgroupns), container_main, &a, &proc,
                      err) < 0)
    return -1;
  if (child_sock >= 0)
    close (steal_fd (&child_sock));
  if (sync_with_child (spec, &proc, parent_sock, &res, err) < 0)
    {
      if (res.pty_master >= 0)
        close (res.pty_master);
      return -1;
    }
  res.pid = proc.pid;
  proc.pid = -1;
  *out = res;
  return 0;
}
