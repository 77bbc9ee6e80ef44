/* skiff logs: print a container's k8s-file log, also while it runs and
 * after it exited; -f follows it until the container stops. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "container_ops.h"
#include "ctr_log.h"
#include "libutil/buf.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"

/* Append what FD holds from its current offset to B. */
static int
read_more (int fd, struct buf *b, struct error **err)
{
  char chunk[65536];
  ssize_t n;

  while ((n = read (fd, chunk, sizeof chunk)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "read log");
      buf_append (b, chunk, (size_t) n);
    }
  return 0;
}

static void
print_pending (struct buf *b, const struct ctr_log_read_opts *o)
{
  size_t used = 0;

  ctr_log_print (b->data ? b->data : "", b->len, o, stdout, stderr, &used);
  fflush (stdout);
  fflush (stderr);
  if (used)
    {
      memmove (b->data, b->data + used, b->len - used);
      buf_truncate (b, b->len - used);
    }
}

/* Follow: sleep on inotify for changes of the log and a pidfd for the
 * monitor's exit; no polling loop. */
static int
follow (struct container *c, int fd, const char *path, struct buf *b,
        struct ctr_log_read_opts *o, struct error **err)
{
  cleanup_close int in = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  cleanup_close int pfd = -1;

  if (in < 0 || inotify_add_watch (in, path, IN_MODIFY) < 0)
    return err_make (err, errno, "watch log \"%s\"", path);
  if (container_is_running (c))
    pfd = (int) syscall (SYS_pidfd_open, c->state.monitor_pid, 0);
  o->tail = -1;
  while (pfd >= 0)
    {
      struct pollfd p[2] = { { .fd = in, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
      char ev[4096];

      if (poll (p, 2, -1) < 0 && errno != EINTR)
        return err_make (err, errno, "poll");
      while (read (in, ev, sizeof ev) > 0)
        ;
      if (read_more (fd, b, err) < 0)
        return -1;
      print_pending (b, o);
      if (p[1].revents)
        break;
    }
  if (read_more (fd, b, err) < 0)
    return -1;
  print_pending (b, o);
  return 0;
}

static int
show (struct container *c, struct ctr_log_read_opts *o, bool is_follow, struct error **err)
{
  cleanup_free char *path = xasprintf ("%s/ctr.log", c->dir);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  cleanup_buf struct buf b = BUF_INIT;
  const char *driver = jobj_get_string (jobj_get_object (jobj_get_object (c->config,
                                                                          "HostConfig"),
                                                         "LogConfig"), "Type");

  if (driver && strcmp (driver, "k8s-file") != 0)
    return err_make (err, 0, "this container is using the \"%s\" log driver, cannot read "
                     "back logs", driver);
  if (fd < 0 && errno != ENOENT)
    return err_make (err, errno, "open log \"%s\"", path);
  if (fd < 0)
    return 0; /* never started: nothing logged yet */
  if (read_more (fd, &b, err) < 0)
    return -1;
  print_pending (&b, o);
  if (!is_follow)
    return 0;
  return follow (c, fd, path, &b, o, err);
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_SINCE = 1000, OPT_UNTIL, OPT_TAIL };
  static const struct option opts[] = {
    { "follow", no_argument, NULL, 'f' },
    { "timestamps", no_argument, NULL, 't' },
    { "since", required_argument, NULL, OPT_SINCE },
    { "until", required_argument, NULL, OPT_UNTIL },
    { "tail", required_argument, NULL, OPT_TAIL },
    { "names", no_argument, NULL, 'n' },
    { "latest", no_argument, NULL, 'l' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ctr_log_read_opts o = { .tail = -1 };
  cleanup_container struct container *c = NULL;
  bool is_follow = false;
  int64_t now = container_now_ns ();
  int ch;

  cli_getopt_reset ();
  while ((ch = cli_getopt (argc, argv, "+ftnh", opts, &cmd_logs_command, err)) != -1)
    switch (ch)
      {
      case 'f':
        is_follow = true;
        break;
      case 't':
        o.has_timestamps = true;
        break;
      case 'n':
        break;
      case OPT_SINCE:
        if (ctr_log_parse_time (optarg, now, &o.since_ns, err) < 0)
          return -1;
        break;
      case OPT_UNTIL:
        if (ctr_log_parse_time (optarg, now, &o.until_ns, err) < 0)
          return -1;
        break;
      case OPT_TAIL:
        {
          char *end;
          long v = strtol (optarg, &end, 10);
          if (*end || end == optarg)
            return err_make (err, 0, "invalid --tail \"%s\": use a number", optarg);
          o.tail = v < 0 ? -1 : v;
        }
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_logs_command, argc - optind, 1, 1, err) < 0)
    return -1;
  if (container_require (ctx, argv[optind], &c, err) < 0)
    return -1;
  return show (c, &o, is_follow, err);
}

const struct command cmd_logs_command = {
  .name = "logs",
  .summary = "Fetch the logs of a container",
  .usage = "logs [options] CONTAINER",
  .options_help = "  -f, --follow          Follow log output\n"
                  "      --since string    Show logs since TIMESTAMP or DURATION\n"
                  "      --tail int        Output the specified number of LINES at the end of the logs (default -1)\n"
                  "  -t, --timestamps      Output the timestamps in the log\n"
                  "      --until string    Show logs until TIMESTAMP or DURATION\n",
  .run = run,
};
