/* flock-based locks on files.  A lock is a descriptor: close it (or let
 * cleanup_close do it) to release.  Locks die with the process, so a killed
 * invocation never leaves a stale lock behind. */
#ifndef SKIFF_LIBUTIL_LOCK_H
#define SKIFF_LIBUTIL_LOCK_H

#include <stdbool.h>

#include "error.h"

enum lock_mode
{
  LOCK_SHARED_MODE,
  LOCK_EXCLUSIVE_MODE,
};

/* Open (creating, 0600) PATH and take the lock, waiting for it.  Returns the
 * descriptor (close-on-exec) or negative. */
int lock_acquire (const char *path, enum lock_mode mode, struct error **err);

/* Same, without waiting: returns -EWOULDBLOCK-style failure with errno
 * EWOULDBLOCK in *err when somebody else holds it. */
int lock_try (const char *path, enum lock_mode mode, struct error **err);

#endif
