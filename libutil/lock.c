/* flock(2) locks on lock files.  flock locks belong to the open file
 * description, so two descriptors from two open() calls conflict even in
 * one process, and the lock goes away with the last descriptor: a killed
 * invocation cannot leave a stale lock. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "lock.h"
#include "mem.h"

/* Open (creating) the lock file.  A read-only store (shared lock taken by
 * a user who may not write it) is opened read-only: flock does not care
 * about the access mode. */
static int
open_lock_file (const char *path, struct error **err)
{
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);

  if (fd < 0 && (errno == EACCES || errno == EROFS))
    fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return err_make (err, errno, "open lock file \"%s\"", path);
  return fd;
}

static int
take_lock (const char *path, enum lock_mode mode, bool wait, struct error **err)
{
  cleanup_close int fd = open_lock_file (path, err);
  int op = mode == LOCK_SHARED_MODE ? LOCK_SH : LOCK_EX;
  int r;

  if (fd < 0)
    return fd;
  if (!wait)
    op |= LOCK_NB;
  do
    r = flock (fd, op);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno == EWOULDBLOCK)
    return err_make (err, EWOULDBLOCK, "\"%s\" is locked by another process", path);
  if (r < 0)
    return err_make (err, errno, "lock \"%s\"", path);
  return steal_fd (&fd);
}

int
lock_acquire (const char *path, enum lock_mode mode, struct error **err)
{
  return take_lock (path, mode, true, err);
}

int
lock_try (const char *path, enum lock_mode mode, struct error **err)
{
  return take_lock (path, mode, false, err);
}
