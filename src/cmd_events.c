/* skiff events: print the events log (events.h) and, by default, follow it
 * as other invocations append to it.  Following sleeps in poll(2) on an
 * inotify watch of the log's directory, a signalfd for SIGINT and SIGTERM
 * (which end the stream with status 0, as podman's) and, with --until, a
 * timeout: no polling loop.  A rotation renames a new file over the log;
 * the follower then resumes after the new file's last "rotate" event. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "context.h"
#include "ctr_log.h"
#include "events.h"
#include "format.h"
#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"

struct events_opts
{
  struct events_filter *filter;
  const char *format;  /* NULL: podman's line */
  bool is_json;
  bool is_stream;
  bool is_trunc;
  bool is_from_start;  /* --since, --until or --stream=false */
  int64_t until_ns;
};

/* The log as one reader sees it: the open file and what was read of it
 * past the last complete line. */
struct reader
{
  const char *path;
  int fd;
  struct buf pending;
};

static int
print_event (const struct events_opts *o, json_object *ev, struct error **err)
{
  cleanup_buf struct buf out = BUF_INIT;

  if (o->is_json || o->format)
    {
      cleanup_json json_object *r = events_report_object (ev, o->is_json);
      if (o->is_json)
        {
          cleanup_free char *text = jobj_to_string (r, false);
          buf_append_str (&out, text);
        }
      else if (format_render (r, o->format, &out, err) < 0)
        return -1;
    }
  else
    events_format_human (ev, o->is_trunc, &out);
  buf_append_char (&out, '\n');
  if (fwrite (out.data, 1, out.len, stdout) != out.len || fflush (stdout) != 0)
    return err_make (err, errno, "write events");
  return 0;
}

static int
handle_line (const struct events_opts *o, const char *line, size_t len, struct error **err)
{
  struct error *bad = NULL;
  cleanup_json json_object *ev = events_parse_line (line, len, &bad);

  /* One damaged line (a full disk, an editor) must not hide the rest. */
  if (ev == NULL)
    {
      log_debug ("events log: skipped a line: %s", bad->msg);
      err_release (&bad);
      return 0;
    }
  if (!events_filter_match (o->filter, ev))
    return 0;
  return print_event (o, ev, err);
}

static bool
is_rotate_marker (const char *line, size_t len)
{
  cleanup_json json_object *ev = NULL;

  /* Parse only the candidates: a follower reads this after every
   * rotation, up to the whole log. */
  if (memmem (line, len, "\"rotate\"", strlen ("\"rotate\"")) == NULL)
    return false;
  ev = events_parse_line (line, len, NULL);
  return ev && strcmp (jobj_get_string (ev, "Type"), EVENTS_SYSTEM) == 0
         && strcmp (jobj_get_string (ev, "Status"), "rotate") == 0;
}

/* Where the lines in DATA that follow its last rotate marker start. */
static size_t
after_last_marker (const char *data, size_t len)
{
  size_t start = 0, pos = 0;

  while (pos < len)
    {
      const char *nl = memchr (data + pos, '\n', len - pos);
      size_t end = nl ? (size_t) (nl - data) : len;

      if (nl && is_rotate_marker (data + pos, end - pos))
        start = end + 1;
      pos = end + 1;
    }
  return start;
}

/* Handle the complete lines of R's pending data, keeping a partial one. */
static int
consume (struct reader *r, const struct events_opts *o, size_t from, struct error **err)
{
  size_t pos = from;

  while (pos < r->pending.len)
    {
      const char *nl = memchr (r->pending.data + pos, '\n', r->pending.len - pos);
      if (nl == NULL)
        break;
      if (nl > r->pending.data + pos
          && handle_line (o, r->pending.data + pos, (size_t) (nl - r->pending.data) - pos, err)
                 < 0)
        return -1;
      pos = (size_t) (nl - r->pending.data) + 1;
    }
  if (pos > 0)
    {
      memmove (r->pending.data, r->pending.data + pos, r->pending.len - pos);
      buf_truncate (&r->pending, r->pending.len - pos);
    }
  return 0;
}

static int
read_more (struct reader *r, struct error **err)
{
  char chunk[65536];
  ssize_t n;

  while (r->fd >= 0 && (n = read (r->fd, chunk, sizeof chunk)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "read events log \"%s\"", r->path);
      buf_append (&r->pending, chunk, (size_t) n);
    }
  return 0;
}

/* Open the log when it exists.  AT_END skips what it holds (a plain
 * stream shows new events only); IS_ROTATED skips up to its last rotate
 * marker, which is what a follower has already seen. */
static int
reader_open (struct reader *r, const struct events_opts *o, bool at_end, bool is_rotated,
             struct error **err)
{
  r->fd = open (r->path, O_RDONLY | O_CLOEXEC);
  if (r->fd < 0)
    return errno == ENOENT ? 0 : err_make (err, errno, "open events log \"%s\"", r->path);
  buf_truncate (&r->pending, 0);
  if (at_end)
    return lseek (r->fd, 0, SEEK_END) < 0 ? err_make (err, errno, "seek events log") : 0;
  if (read_more (r, err) < 0)
    return -1;
  return consume (r, o, is_rotated ? after_last_marker (r->pending.data, r->pending.len) : 0,
                  err);
}

/* Whether the log at R's path is another file than the one R reads. */
static bool
is_replaced (const struct reader *r)
{
  struct stat a, b;

  if (stat (r->path, &b) < 0)
    return false;
  return r->fd < 0 || fstat (r->fd, &a) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

static int
catch_up (struct reader *r, const struct events_opts *o, struct error **err)
{
  bool was_open = r->fd >= 0;

  if (read_more (r, err) < 0 || consume (r, o, 0, err) < 0)
    return -1;
  if (!is_replaced (r))
    return 0;
  if (r->fd >= 0)
    close (r->fd);
  r->fd = -1;
  return reader_open (r, o, false, was_open, err);
}

static int
signal_fd (sigset_t *old, struct error **err)
{
  sigset_t set;
  int fd;

  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  /* An ignored signal is discarded even while blocked, and a shell starts
   * background jobs with SIGINT ignored: `skiff events &` must still end
   * on `kill -INT`. */
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  if (sigprocmask (SIG_BLOCK, &set, old) < 0)
    return err_make (err, errno, "block signals");
  fd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0)
    return err_make (err, errno, "signalfd");
  return fd;
}

/* Milliseconds until --until, -1 without one. */
static int
until_timeout (const struct events_opts *o)
{
  int64_t left;

  if (o->until_ns == 0)
    return -1;
  left = (o->until_ns - container_now_ns ()) / 1000000;
  if (left <= 0)
    return 0;
  return left > 3600000 ? 3600000 : (int) left + 1;
}

static int
follow (struct reader *r, const struct events_opts *o, const char *dir, struct error **err)
{
  cleanup_close int in = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  cleanup_close int sfd = -1;
  sigset_t old;
  int ret = 0;

  if (in < 0 || inotify_add_watch (in, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
    return err_make (err, errno, "watch events log directory \"%s\"", dir);
  sfd = signal_fd (&old, err);
  if (sfd < 0)
    return -1;
  /* Opened after the watch: nothing written in between is missed. */
  if (catch_up (r, o, err) < 0)
    ret = -1;
  while (ret == 0)
    {
      struct pollfd p[2] = { { .fd = in, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
      int timeout = until_timeout (o);
      struct signalfd_siginfo si;
      char ev[4096];

      if (timeout == 0)
        break;
      if (poll (p, 2, timeout) < 0 && errno != EINTR)
        {
          ret = err_make (err, errno, "poll");
          break;
        }
      /* Taken from the signalfd, so unblocking does not deliver it. */
      if (p[1].revents && read (sfd, &si, sizeof si) > 0)
        break;
      while (read (in, ev, sizeof ev) > 0)
        ;
      ret = catch_up (r, o, err);
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  return ret;
}

static int
show (struct skiff_context *ctx, const struct events_opts *o, struct error **err)
{
  cleanup_free char *path = events_log_path (ctx->runroot);
  cleanup_free char *dir = xasprintf ("%s/events", ctx->runroot);
  struct reader r = { .path = path, .fd = -1, .pending = BUF_INIT };
  int ret;

  if (o->is_stream
      && (context_ensure_runroot (ctx, err) < 0 || fs_mkdir_p (dir, 0700, err) < 0))
    return -1;
  ret = reader_open (&r, o, o->is_stream && !o->is_from_start, false, err);
  if (ret == 0 && o->is_stream)
    ret = follow (&r, o, dir, err);
  if (r.fd >= 0)
    close (r.fd);
  buf_free (&r.pending);
  return ret;
}

/* A template error is the user's before the first event, not after it. */
static int
check_format (const char *format, struct error **err)
{
  cleanup_buf struct buf out = BUF_INIT;
  cleanup_json json_object *sample = json_object_new_object ();
  cleanup_json json_object *r = NULL;

  json_object_object_add (sample, "Type", json_object_new_string (EVENTS_CONTAINER));
  json_object_object_add (sample, "Status", json_object_new_string ("create"));
  r = events_report_object (sample, false);
  return format_render (r, format, &out, err);
}

static int
parse_time (const char *flag, const char *value, int64_t *out, struct error **err)
{
  if (ctr_log_parse_time (value, container_now_ns (), out, err) < 0)
    return err_wrap (err, "unable to convert %s time of %s", flag, value);
  return 0;
}

static int
run (struct skiff_context *ctx, int argc, char **argv, struct error **err)
{
  enum { OPT_SINCE = 1000, OPT_UNTIL, OPT_STREAM, OPT_FORMAT, OPT_NO_TRUNC };
  static const struct option opts[] = {
    { "filter", required_argument, NULL, 'f' },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "since", required_argument, NULL, OPT_SINCE },
    { "until", required_argument, NULL, OPT_UNTIL },
    { "stream", optional_argument, NULL, OPT_STREAM },
    { "no-trunc", optional_argument, NULL, OPT_NO_TRUNC },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct events_opts o = { .is_stream = true };
  cleanup_strv char **filters = NULL;
  cleanup_events_filter struct events_filter *filter = NULL;
  int64_t since_ns = 0;
  bool is_no_trunc = true;
  int ch;

  cli_getopt_reset ();
  while ((ch = cli_getopt (argc, argv, "+f:h", opts, &cmd_events_command, err)) != -1)
    switch (ch)
      {
      case 'f':
        filters = strv_append (filters, optarg);
        break;
      case OPT_FORMAT:
        o.format = optarg;
        break;
      case OPT_SINCE:
        if (parse_time ("since", optarg, &since_ns, err) < 0)
          return -1;
        o.is_from_start = true;
        break;
      case OPT_UNTIL:
        if (parse_time ("until", optarg, &o.until_ns, err) < 0)
          return -1;
        o.is_from_start = true;
        break;
      case OPT_STREAM:
        if (optarg && cli_parse_bool ("stream", optarg, &o.is_stream, err) < 0)
          return -1;
        if (optarg == NULL)
          o.is_stream = true;
        break;
      case OPT_NO_TRUNC:
        if (optarg && cli_parse_bool ("no-trunc", optarg, &is_no_trunc, err) < 0)
          return -1;
        if (optarg == NULL)
          is_no_trunc = true;
        break;
      case CLI_OPT_HELP:
        return 0;
      default:
        return -1;
      }
  if (cli_require_args (&cmd_events_command, argc - optind, 0, 0, err) < 0)
    return -1;
  filter = events_filter_new (filters, since_ns, o.until_ns, err);
  if (filter == NULL)
    return err_wrap (err, "failed to parse event filters");
  o.filter = filter;
  o.is_trunc = !is_no_trunc;
  o.is_from_start = o.is_from_start || !o.is_stream;
  if (o.format && *o.format == '\0')
    o.format = NULL;
  o.is_json = o.format && format_is_json (o.format);
  if (o.format && !o.is_json && check_format (o.format, err) < 0)
    return -1;
  return show (ctx, &o, err);
}

const struct command cmd_events_command = {
  .name = "events",
  .summary = "Show skiff events",
  .usage = "events [options]",
  .options_help = "  -f, --filter stringArray   filter output\n"
                  "      --format string        format the output using a Go template\n"
                  "      --no-trunc             do not truncate the output (default true)\n"
                  "      --since string         show all events created since timestamp\n"
                  "      --stream               stream events and do not exit when returning the last known event (default true)\n"
                  "      --until string         show all events until timestamp\n",
  .run = run,
};
