/* attach: the monitor of a detached container serves a unix socket,
 * <run_dir>/attach, that streams the container's output to attached
 * clients as it comes and passes their input to the container's stdin
 * (a pipe the monitor keeps for -i) or terminal (-t).  `skiff attach` is
 * the client: it relays our terminal, detaches on ctrl-p ctrl-q (docker's
 * keys, or --detach-keys), and ends with the container, returning its
 * exit code.
 *
 * The socket is SOCK_SEQPACKET, so each message keeps its bounds; the
 * first byte says what follows:
 *   monitor -> client   1 stdout data, 2 stderr data
 *   client -> monitor   0 input data, 1 resize (rows, cols: two uint16_t)
 * Only new output is sent: the log (`logs`) holds the past.  A client
 * that cannot keep up loses messages rather than stalling the monitor. */
#ifndef SKIFF_SRC_CONTAINER_ATTACH_H
#define SKIFF_SRC_CONTAINER_ATTACH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "container.h"

#define CONTAINER_ATTACH_MAX_CLIENTS 16
/* Descriptors the monitor polls for attach: the socket and the clients. */
#define CONTAINER_ATTACH_MAX_FDS (CONTAINER_ATTACH_MAX_CLIENTS + 1)

enum container_attach_msg
{
  CONTAINER_ATTACH_INPUT = 0,   /* client -> monitor */
  CONTAINER_ATTACH_RESIZE = 1,  /* client -> monitor */
  CONTAINER_ATTACH_STDOUT = 1,  /* monitor -> client */
  CONTAINER_ATTACH_STDERR = 2,  /* monitor -> client */
};

/* ---- the monitor's side ---------------------------------------------------- */

struct container_attach_server;

/* Listen on C's attach socket (replacing a stale one). */
int container_attach_listen (struct container *c, struct container_attach_server **out,
                             struct error **err) __attribute__ ((warn_unused_result));

/* Fill up to MAX entries of P with what to poll (the socket, then each
 * client); returns how many.  Nothing here ticks: idle, it is all poll. */
size_t container_attach_pollfds (const struct container_attach_server *s, struct pollfd *p,
                                 size_t max);

/* After poll: accept new clients and read their messages.  Input goes to
 * PTY (a terminal, which resize messages also reach) when PTY >= 0, else
 * to STDIN_FD when >= 0 (non-blocking; what does not fit is dropped),
 * else nowhere. */
void container_attach_handle (struct container_attach_server *s, const struct pollfd *p,
                              size_t n, int pty, int stdin_fd);

/* Send output (STREAM CONTAINER_ATTACH_STDOUT or _STDERR) to every client. */
void container_attach_broadcast (struct container_attach_server *s, int stream,
                                 const char *data, size_t len);

/* The container exited: hang up on the clients (they then read its exit
 * code from its state), keep listening. */
void container_attach_hangup (struct container_attach_server *s);

/* Stop listening, remove the socket, free S (NULL is fine). */
void container_attach_close (struct container_attach_server *s);

/* ---- the client ------------------------------------------------------------ */

struct container_attach_opts
{
  bool is_no_stdin;        /* --no-stdin */
  bool has_sig_proxy;      /* forward our signals to the container */
  const char *detach_keys; /* NULL: "ctrl-p,ctrl-q"; "" disables */
};

/* Attach to running container C until it exits (*EXIT_CODE its code) or
 * the detach keys are typed (*EXIT_CODE 0). */
int container_attach (struct container *c, const struct container_attach_opts *o,
                      int *exit_code, struct error **err) __attribute__ ((warn_unused_result));

/* ---- detach keys (pure) ---------------------------------------------------- */

#define CONTAINER_ATTACH_MAX_KEYS 16

struct container_attach_keys
{
  unsigned char keys[CONTAINER_ATTACH_MAX_KEYS];
  size_t n;       /* 0: detaching is off */
  size_t matched; /* how many of KEYS the input has just typed */
};

/* docker's --detach-keys: comma-separated keys, each one character or
 * "ctrl-X" with X a letter or one of @ [ \ ] ^ _.  "" turns detaching off.
 * Fails on an empty or unknown key and on too many keys. */
int container_attach_parse_keys (const char *spec, struct container_attach_keys *out,
                                 struct error **err) __attribute__ ((warn_unused_result));

/* Pass LEN bytes of input through the matcher: what should reach the
 * container now goes to OUT (room for LEN + CONTAINER_ATTACH_MAX_KEYS
 * bytes: a held partial sequence comes out when it breaks off), and its
 * length is returned.  *IS_DETACH is set once the whole sequence was
 * typed; input after it is dropped. */
size_t container_attach_keys_feed (struct container_attach_keys *k, const char *in, size_t len,
                                   char *out, bool *is_detach);

#endif
