/* --sdnotify=container: the monitor's own notify socket, which the
 * container sees as /run/notify/notify.sock (NOTIFY_SOCKET in its
 * environment), and the relay of what arrives there to the unit's
 * $NOTIFY_SOCKET.  The container's messages say what systemd should hear
 * (READY=1 above all), but not its MAINPID: a pid inside the container's
 * pid namespace means nothing to systemd, so the relay names the monitor,
 * the unit's main process (podman names conmon).
 *
 * The relay works for the container's whole life, across restarts, and
 * is one more descriptor in the monitor's poll: nothing ticks. */
#ifndef SKIFF_SRC_SD_NOTIFY_RELAY_H
#define SKIFF_SRC_SD_NOTIFY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "libutil/error.h"

/* Where the socket appears inside the container (podman's place). */
#define SD_NOTIFY_RELAY_CONTAINER_PATH "/run/notify/notify.sock"

/* Largest datagram relayed; systemd reads no more either. */
#define SD_NOTIFY_RELAY_MAX 4096

struct sd_notify_relay;

/* True when a container in sd-notify mode MODE (NULL: conmon) gets the
 * relay: MODE is "container" and we have a $NOTIFY_SOCKET to relay to. */
bool sd_notify_relay_wanted (const char *mode);

/* The socket's host path for the container whose runtime directory is
 * RUN_DIR: RUN_DIR/notify.sock.  Malloc'd. */
char *sd_notify_relay_socket_path (const char *run_dir);

/* Bind the socket in RUN_DIR (replacing a stale one), writable by every
 * user of the container.  The path may be longer than sun_path holds. */
int sd_notify_relay_open (const char *run_dir, struct sd_notify_relay **out,
                          struct error **err) __attribute__ ((warn_unused_result));

/* The descriptor to poll for input. */
int sd_notify_relay_fd (const struct sd_notify_relay *r);

/* After poll: read every waiting datagram and pass its translation to
 * $NOTIFY_SOCKET with MAINPID as the main pid.  Failures to send are
 * logged, not fatal: the container runs on. */
void sd_notify_relay_handle (struct sd_notify_relay *r, pid_t mainpid);

/* Remove the socket and free R (NULL is fine). */
void sd_notify_relay_close (struct sd_notify_relay *r);

/* The message for the host from the container's datagram MSG (LEN bytes):
 * the lines systemd acts on and can trust from us (READY=1, RELOADING=1,
 * STOPPING=1, STATUS=, ERRNO=, BUSERROR=, EXTEND_TIMEOUT_USEC=), in their
 * order, each ending in '\n', with a MAINPID= line rewritten to MAINPID.
 * Lines that need what a relay cannot give (FDSTORE=1 and the descriptors
 * it refers to, WATCHDOG=1 without a watchdog passed in, BARRIER=1) are
 * dropped, as is any message with a NUL byte.  NULL when nothing is left. */
char *sd_notify_relay_translate (const char *msg, size_t len, pid_t mainpid);

#endif
