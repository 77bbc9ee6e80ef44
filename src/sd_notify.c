/* sd_notify(3) without libsystemd: the protocol is one datagram, and a
 * dependency for it would be heavier than the code. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "libutil/mem.h"
#include "sd_notify.h"

int
sd_notify_send (const char *path, const char *state, struct error **err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  size_t len = strlen (path);
  cleanup_close int fd = -1;
  socklen_t salen;

  if (len == 0 || len >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
    return err_make (err, 0, "invalid NOTIFY_SOCKET \"%s\"", path);
  memcpy (sa.sun_path, path, len);
  /* '@' names a socket in the abstract namespace: a leading NUL byte,
   * and the length says where the name ends. */
  if (path[0] == '@')
    sa.sun_path[0] = '\0';
  salen = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len + (path[0] == '/'));
  fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return err_make (err, errno, "socket");
  if (sendto (fd, state, strlen (state), MSG_NOSIGNAL, (struct sockaddr *) &sa, salen) < 0)
    return err_make (err, errno, "notify \"%s\"", path);
  return 0;
}

static int
notify_env (const char *state, struct error **err)
{
  const char *path = getenv ("NOTIFY_SOCKET");

  if (path == NULL || *path == '\0')
    return 0;
  return sd_notify_send (path, state, err);
}

int
sd_notify_ready (pid_t mainpid, struct error **err)
{
  cleanup_free char *state = xasprintf ("MAINPID=%ld\nREADY=1\n", (long) mainpid);
  return notify_env (state, err);
}

int
sd_notify_mainpid (pid_t mainpid, struct error **err)
{
  cleanup_free char *state = xasprintf ("MAINPID=%ld\n", (long) mainpid);
  return notify_env (state, err);
}
