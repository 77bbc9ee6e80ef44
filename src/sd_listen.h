/* Socket activation passed through to the container.  systemd starts
 * skiff with listening sockets as descriptors 3 .. 3 + N - 1, and
 * LISTEN_FDS=N, LISTEN_PID=<skiff's pid>, LISTEN_FDNAMES=a:b (see
 * sd_listen_fds(3)).  The container's first process gets the same
 * descriptors at the same numbers with LISTEN_FDS=N, LISTEN_PID=1 (it is
 * pid 1 of its pid namespace; podman says 1 too) and the names.  Between
 * the two, the sockets are close-on-exec, so the helpers skiff runs do not
 * hold them, and a detached container's monitor keeps them for restarts. */
#ifndef SKIFF_SRC_SD_LISTEN_H
#define SKIFF_SRC_SD_LISTEN_H

#include <sys/types.h>

#include "libutil/error.h"

struct sd_listen
{
  unsigned int n_fds; /* 0: no sockets */
  char *names;        /* LISTEN_FDNAMES as given, or NULL */
};

/* From the variables' values (each may be NULL) for the process SELF:
 * nothing (n_fds 0) when they are absent or meant for another process.
 * Fails on a LISTEN_FDS or LISTEN_PID that is not a decimal number in
 * range.  OUT->names is malloc'd: sd_listen_clear(). */
int sd_listen_parse (const char *fds, const char *pid, const char *names, pid_t self,
                     struct sd_listen *out, struct error **err)
    __attribute__ ((warn_unused_result));

void sd_listen_clear (struct sd_listen *l);

/* Take this process's sockets, once, before anything is run: mark them
 * close-on-exec and remove the variables from the environment (what
 * sd_listen_fds(1) does), and remember them for sd_listen_get().  Values
 * that are malformed, or name a descriptor that is not open, are warned
 * about and leave nothing to pass. */
void sd_listen_take (void);

/* What sd_listen_take() took (n_fds 0 when nothing). */
const struct sd_listen *sd_listen_get (void);

/* The container's environment entries for L: LISTEN_FDS, LISTEN_PID and
 * LISTEN_FDNAMES when given; NULL-terminated and malloc'd (an empty
 * vector when L has no sockets). */
char **sd_listen_env (const struct sd_listen *l);

#endif
