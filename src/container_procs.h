/* The processes of a running container, as the host sees them: every PID
 * whose pid and mount namespaces are those of the container's first
 * process (which leaves out a fuse-overlayfs daemon).  For
 * `top` and for pausing during `commit -p`. */
#ifndef SKIFF_SRC_CONTAINER_PROCS_H
#define SKIFF_SRC_CONTAINER_PROCS_H

#include <stddef.h>
#include <sys/types.h>

#include "container.h"

/* The PIDs of C's processes, ascending, in a malloc'd array.  Fails when C
 * does not run.  A process may end while or after the list is made. */
int container_procs_list (const struct container *c, pid_t **out, size_t *n,
                          struct error **err) __attribute__ ((warn_unused_result));

/* Send SIG to each of C's processes (a signal to PID 1 alone would not
 * stop the others, which SIGSTOP must). */
int container_procs_signal (const struct container *c, int sig, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
