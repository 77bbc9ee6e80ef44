/* The runtime's own sync socket (SOCK_SEQPACKET, one message per step),
 * next to the one userns_spawn() keeps: the parent's go-ahead after its
 * created hook, the terminal's master passed back with SCM_RIGHTS, and
 * for exec, which has no userns_spawn(), the new process's pid and a
 * failed step's error.  A peer that dies shows as EOF, so no step waits
 * forever. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libutil/mem.h"
#include "runtime_internal.h"

struct wire
{
  uint32_t kind;
  int32_t value;
  int32_t errnum;
  int32_t code;
  char text[4000];
};

#define WIRE_HEADER_SIZE offsetof (struct wire, text)

static int
send_wire (int sock, const struct wire *w, int fd)
{
  size_t len = WIRE_HEADER_SIZE + strnlen (w->text, sizeof w->text - 1) + 1;
  struct iovec iov = { (void *) w, len };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t n;

  if (fd >= 0)
    {
      struct cmsghdr *cm;

      memset (&control, 0, sizeof control);
      mh.msg_control = control.buf;
      mh.msg_controllen = sizeof control.buf;
      cm = CMSG_FIRSTHDR (&mh);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (cm), &fd, sizeof fd);
    }
  do
    n = sendmsg (sock, &mh, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t) len ? 0 : -1;
}

int
runtime_sync_send (int sock, enum runtime_sync_kind kind, int value, int fd,
                   struct error **err)
{
  struct wire w = { .kind = kind, .value = value };

  if (send_wire (sock, &w, fd) < 0)
    return err_make (err, errno, "send sync step %d", (int) kind);
  return 0;
}

void
runtime_sync_send_error (int sock, const struct error *e)
{
  struct wire w = { .kind = RUNTIME_SYNC_ERROR, .errnum = e->errnum, .code = e->code };

  snprintf (w.text, sizeof w.text, "%s", e->msg);
  (void) send_wire (sock, &w, -1);
}

/* The descriptor passed with the message, if any; any extra is closed. */
static int
take_fd (struct msghdr *mh)
{
  int fd = -1;

  for (struct cmsghdr *cm = CMSG_FIRSTHDR (mh); cm; cm = CMSG_NXTHDR (mh, cm))
    {
      size_t n;

      if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
        continue;
      n = (cm->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (size_t i = 0; i < n; i++)
        {
          int got;

          memcpy (&got, CMSG_DATA (cm) + i * sizeof (int), sizeof got);
          if (fd < 0)
            fd = got;
          else
            close (got);
        }
    }
  return fd;
}

int
runtime_sync_recv (int sock, struct runtime_sync_msg *m, struct error **err)
{
  struct wire w;
  struct iovec iov = { &w, sizeof w };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
    .msg_controllen = sizeof control.buf,
  };
  size_t text_len;
  ssize_t n;

  do
    n = recvmsg (sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return err_make (err, errno, "read the runtime's sync socket");
  if (n == 0)
    return 0;
  *m = (struct runtime_sync_msg) { .kind = w.kind, .value = w.value, .fd = take_fd (&mh) };
  if ((size_t) n < WIRE_HEADER_SIZE)
    {
      if (m->fd >= 0)
        close (m->fd);
      return err_make (err, 0, "read the runtime's sync socket: short message of %zd bytes", n);
    }
  if (m->kind == RUNTIME_SYNC_ERROR)
    {
      /* The sender includes the NUL; do not trust it to. */
      text_len = (size_t) n - WIRE_HEADER_SIZE;
      w.text[text_len < sizeof w.text ? text_len : sizeof w.text - 1] = '\0';
      err_make_code (&m->error, w.code, w.errnum, "%s", w.text);
    }
  return 1;
}

int
runtime_sync_wait_go (int sock, struct error **err)
{
  struct runtime_sync_msg m;
  int r = runtime_sync_recv (sock, &m, err);

  if (r < 0)
    return -1;
  if (r > 0)
    {
      if (m.fd >= 0)
        close (m.fd);
      err_release (&m.error);
      if (m.kind == RUNTIME_SYNC_GO)
        return 0;
    }
  return err_make (err, 0, "the parent gave up before the container's command started");
}
