/* Starting a container's process from its record: the root filesystem
 * from the image's layers, the /etc files, volumes and the runtime spec. */
#ifndef SKIFF_SRC_CONTAINER_START_H
#define SKIFF_SRC_CONTAINER_START_H

#include "cli.h"
#include "container.h"
#include "container_net.h"
#include "runtime.h"
#include "storage/storage.h"

/* Where the container's standard streams go. */
struct container_io
{
  int stdio[3];        /* descriptors for 0, 1, 2; -1 inherits ours */
  bool is_tty;         /* a terminal inside the container; its master comes back */
  unsigned short rows, cols;
};

/* Start C's process (C is locked by the caller) and record it as running
 * with its network NET (container_net_prepare(); its hook makes the tap and
 * slirp once the namespaces exist; NULL: no network setup)
 * with MONITOR_PID as the process that will wait for it.  OUT->pid is our
 * child.  On failure the state records the error and stays "created" or
 * "exited", and *err carries the exit code the CLI should use (125, 126,
 * 127). */
int container_start_process (struct skiff_context *ctx, struct container *c,
                             const struct container_io *io, struct container_net *net,
                             pid_t monitor_pid, struct runtime_proc *out, struct error **err)
    __attribute__ ((warn_unused_result));

/* The environment C's processes get: the configured one plus PATH,
 * TERM (with a terminal), HOSTNAME and container=skiff when missing. */
char **container_start_env (struct container *c, const char *hostname, bool is_tty);
/* C's hostname: the configured one or the short ID.  Malloc'd. */
char *container_start_hostname (struct container *c);
/* C's capability sets, or all of them when IS_PRIVILEGED. */
int container_start_caps (struct container *c, bool is_privileged, struct runtime_caps *out,
                          struct error **err) __attribute__ ((warn_unused_result));

/* The storage driver C uses, as recorded when it was created. */
const char *container_driver (const struct container *c);

/* What mounts C's root file system: its driver and the request naming the
 * image's layer directories (top first) and C's storage directory
 * (<dir>/storage, made when missing), for storage_rootfs_mount() and the
 * data commands that read C's writable layer. */
struct container_rootfs
{
  const struct storage_rootfs_driver *driver;
  struct storage_rootfs_req req; /* points into LOWER and STORAGE_DIR */
  char **lower;                  /* owned, NULL-terminated */
  char *storage_dir;             /* owned */
};

int container_rootfs_init (struct skiff_context *ctx, struct container *c,
                           struct container_rootfs *out, struct error **err)
    __attribute__ ((warn_unused_result));
void container_rootfs_clear (struct container_rootfs *r);

/* Remove C's files (its writable layer may belong to subordinate IDs, so
 * this runs in the user namespace) and its record. */
int container_remove (struct skiff_context *ctx, struct container *c, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
