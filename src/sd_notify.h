/* The sd_notify(3) protocol, sender side: one datagram of newline
 * separated KEY=VALUE lines to the AF_UNIX socket named by $NOTIFY_SOCKET,
 * which is how a Type=notify unit learns that its service is ready. */
#ifndef SKIFF_SRC_SD_NOTIFY_H
#define SKIFF_SRC_SD_NOTIFY_H

#include <sys/types.h>

#include "libutil/error.h"

/* Send STATE to the socket at PATH (a file path, or an abstract name
 * starting with '@').  Fails on a path that does not fit a sockaddr_un
 * or a socket that cannot be reached. */
int sd_notify_send (const char *path, const char *state, struct error **err)
    __attribute__ ((warn_unused_result));

/* Tell $NOTIFY_SOCKET, when set, that the service is ready with MAINPID
 * as its main process ("READY=1\nMAINPID=N").  Returns 0 without a
 * socket to tell. */
int sd_notify_ready (pid_t mainpid, struct error **err) __attribute__ ((warn_unused_result));

/* Only "MAINPID=N": readiness is someone else's to tell. */
int sd_notify_mainpid (pid_t mainpid, struct error **err) __attribute__ ((warn_unused_result));

#endif
