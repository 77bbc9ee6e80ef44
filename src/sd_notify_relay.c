/* The --sdnotify=container relay (see sd_notify_relay.h).
 *
 * The socket lives in the container's runtime directory, whose path may be
 * longer than sun_path holds; it is bound as /proc/self/fd/N/notify.sock
 * through a descriptor of the directory, as the attach socket is.  The
 * container reaches it through a bind mount, which takes any path.  No
 * SO_PASSCRED: whoever can reach the socket (the container, this user) is
 * trusted by the unit alike, and a descriptor passed along with a message
 * (FDSTORE=1) is discarded by the kernel since we read no control data. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "libutil/buf.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "sd_notify.h"
#include "sd_notify_relay.h"

#define SOCKET_NAME "notify.sock"

struct sd_notify_relay
{
  int fd;
  int dir_fd; /* the runtime directory, to remove the socket */
};

bool
sd_notify_relay_wanted (const char *mode)
{
  const char *path = getenv ("NOTIFY_SOCKET");

  return mode && strcmp (mode, "container") == 0 && path && *path;
}

char *
sd_notify_relay_socket_path (const char *run_dir)
{
  return xasprintf ("%s/" SOCKET_NAME, run_dir);
}

int
sd_notify_relay_fd (const struct sd_notify_relay *r)
{
  return r->fd;
}

void
sd_notify_relay_close (struct sd_notify_relay *r)
{
  if (r == NULL)
    return;
  if (r->fd >= 0)
    close (r->fd);
  if (r->dir_fd >= 0)
    {
      unlinkat (r->dir_fd, SOCKET_NAME, 0);
      close (r->dir_fd);
    }
  free (r);
}

int
sd_notify_relay_open (const char *run_dir, struct sd_notify_relay **out, struct error **err)
{
  struct sd_notify_relay *r = xmalloc0 (sizeof *r);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int saved;

  r->fd = -1;
  r->dir_fd = open (run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (r->dir_fd < 0)
    {
      saved = errno;
      sd_notify_relay_close (r);
      return err_make (err, saved, "open \"%s\"", run_dir);
    }
  unlinkat (r->dir_fd, SOCKET_NAME, 0);
  snprintf (sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/" SOCKET_NAME, r->dir_fd);
  r->fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  /* Sending needs write permission on the socket file, and the container
   * may run as any of its users. */
  if (r->fd < 0 || bind (r->fd, (struct sockaddr *) &sa, sizeof sa) < 0
      || fchmodat (r->dir_fd, SOCKET_NAME, 0666, 0) < 0)
    {
      saved = errno;
      sd_notify_relay_close (r);
      return err_make (err, saved, "create the notify socket in \"%s\"", run_dir);
    }
  *out = r;
  return 0;
}

/* Lines passed as they are: what systemd does with them means the same
 * from the container as from us. */
static const char *const passed_exact[] = { "READY=1", "RELOADING=1", "STOPPING=1", NULL };
static const char *const passed_prefix[] = { "STATUS=", "ERRNO=", "BUSERROR=",
                                             "EXTEND_TIMEOUT_USEC=", NULL };

static bool
is_passed (const char *line, size_t len)
{
  for (const char *const *p = passed_exact; *p; p++)
    if (strlen (*p) == len && memcmp (line, *p, len) == 0)
      return true;
  for (const char *const *p = passed_prefix; *p; p++)
    if (strlen (*p) <= len && memcmp (line, *p, strlen (*p)) == 0)
      return true;
  return false;
}

char *
sd_notify_relay_translate (const char *msg, size_t len, pid_t mainpid)
{
  cleanup_buf struct buf out = BUF_INIT;
  bool has_mainpid = false;
  size_t start = 0;

  if (memchr (msg, '\0', len))
    return NULL;
  while (start < len)
    {
      const char *nl = memchr (msg + start, '\n', len - start);
      size_t end = nl ? (size_t) (nl - msg) : len;
      const char *line = msg + start;
      size_t n = end - start;

      start = end + 1;
      if (n >= 8 && memcmp (line, "MAINPID=", 8) == 0)
        {
          if (!has_mainpid)
            buf_printf (&out, "MAINPID=%ld\n", (long) mainpid);
          has_mainpid = true;
        }
      else if (is_passed (line, n))
        {
          buf_append (&out, line, n);
          buf_append_char (&out, '\n');
        }
    }
  return out.len ? buf_steal (&out) : NULL;
}

static void
relay_one (const char *msg, size_t len, pid_t mainpid)
{
  cleanup_free char *state = sd_notify_relay_translate (msg, len, mainpid);
  const char *path = getenv ("NOTIFY_SOCKET");
  struct error *e = NULL;

  if (state == NULL || path == NULL || *path == '\0')
    return;
  if (sd_notify_send (path, state, &e) < 0)
    {
      log_warn ("relay the container's notification: %s", e->msg);
      err_release (&e);
    }
}

void
sd_notify_relay_handle (struct sd_notify_relay *r, pid_t mainpid)
{
  char buf[SD_NOTIFY_RELAY_MAX + 1];

  for (;;)
    {
      /* MSG_TRUNC: the datagram's real length, to drop what did not fit
       * rather than relay half a message. */
      ssize_t n = recv (r->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return;
      if ((size_t) n > SD_NOTIFY_RELAY_MAX)
        {
          log_warn ("dropped a notification of %zd bytes from the container", n);
          continue;
        }
      relay_one (buf, (size_t) n, mainpid);
    }
}
