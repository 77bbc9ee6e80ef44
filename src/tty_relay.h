/* Relaying a terminal: our stdin to a pty master and the master to our
 * stdout, with our terminal in raw mode and its size forwarded, until a
 * child exits.  Used by `exec -t`; the monitor has its own loop because it
 * also logs. */
#ifndef SKIFF_SRC_TTY_RELAY_H
#define SKIFF_SRC_TTY_RELAY_H

#include <stdbool.h>
#include <sys/types.h>

#include "libutil/error.h"

/* Relay between MASTER (may be -1: nothing to relay) and our terminal
 * while waiting for PID (our child); forward SIGTERM, SIGINT, SIGHUP,
 * SIGQUIT, SIGUSR1, SIGUSR2 to it.  Returns its exit code (128+N for a
 * signal).  IS_STDIN: relay our stdin too. */
int tty_relay_wait (pid_t pid, int master, bool is_stdin, int *exit_code, struct error **err)
    __attribute__ ((warn_unused_result));

/* Block the signals tty_relay_wait() handles; call before starting the
 * child so none is lost. */
int tty_relay_block (struct error **err) __attribute__ ((warn_unused_result));

#endif
