/* The monitor: the process that owns a running container (the conmon
 * role).  In the foreground it is the CLI itself; for detached containers
 * a forked process in its own session.  It relays or logs the container's
 * output, forwards signals, records the exit code and time, applies --rm
 * and the restart policy. */
#ifndef SKIFF_SRC_MONITOR_H
#define SKIFF_SRC_MONITOR_H

#include <stdbool.h>

#include "cli.h"
#include "container.h"

struct monitor_opts
{
  bool is_interactive;   /* -i: stdin reaches the container */
  bool is_tty;           /* -t */
  bool has_sig_proxy;    /* forward our signals (foreground) */
  bool is_attached;      /* foreground: output goes to our stdout/stderr too */
  bool no_stdout;        /* attached, but -a left stdout out: it is only logged */
  bool no_stderr;        /* the same for stderr */
};

/* Run container C in the foreground: start it, relay its streams, forward
 * signals, wait, record, remove it with --rm, restart it per its policy.
 * *EXIT_CODE gets the container's status (128+N for a signal).  C must be
 * locked by the caller for the start; the lock is released once running. */
int monitor_foreground (struct skiff_context *ctx, struct container *c,
                        const struct monitor_opts *o, int *lock_fd, int *exit_code,
                        struct error **err) __attribute__ ((warn_unused_result));

/* Start container C detached: fork a monitor in a new session that starts
 * it, and return once the container runs (or with the real error of the
 * failed start, its exit code kept).  The lock is handed to the monitor
 * for the start and dropped by both sides afterwards. */
int monitor_detached (struct skiff_context *ctx, struct container *c,
                      const struct monitor_opts *o, int *lock_fd, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
