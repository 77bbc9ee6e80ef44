/* What the lifecycle commands do to a container from outside its monitor:
 * signal it, stop it, wait for it, remove it. */
#ifndef SKIFF_SRC_CONTAINER_OPS_H
#define SKIFF_SRC_CONTAINER_OPS_H

#include "cli.h"
#include "container.h"

/* Whether C's process runs (running, paused or stopping). */
bool container_is_running (const struct container *c);

/* Send SIG to C's first process.  With IS_USER_STOP the monitor is told not
 * to restart it.  Fails when C does not run. */
int container_signal (struct container *c, int sig, bool is_user_stop, struct error **err)
    __attribute__ ((warn_unused_result));

/* Stop C: its stop signal (SIG, or the configured StopSignal, or SIGTERM),
 * then SIGKILL after TIMEOUT seconds (< 0: the configured StopTimeout),
 * and wait until its monitor recorded the exit.  A stopped container is
 * no error. */
int container_stop (struct skiff_context *ctx, struct container *c, int sig, int timeout,
                    struct error **err) __attribute__ ((warn_unused_result));

/* Wait until C is not running any more and its exit is recorded; reload
 * its state.  TIMEOUT_MS < 0 waits forever.  1 when it timed out. */
int container_wait_exit (struct container *c, int timeout_ms, struct error **err)
    __attribute__ ((warn_unused_result));

/* Keep C's recorded exit code beside its runtime directory, where it
 * outlives the record: an --rm container's monitor calls this before it
 * removes the container, so that `wait` can still print the code. */
int container_keep_exit_code (const struct container *c, struct error **err)
    __attribute__ ((warn_unused_result));

/* Remove C; a running container only with IS_FORCE (it is killed first),
 * otherwise the error podman gives, exit code 2. */
int container_rm (struct skiff_context *ctx, struct container *c, bool is_force,
                  struct error **err) __attribute__ ((warn_unused_result));

/* Parse a signal name or number ("TERM", "SIGTERM", "15", "KILL"). */
int container_parse_signal (const char *s, int *sig, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
