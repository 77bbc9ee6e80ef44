/* The k8s-file log format: writing with one write(2) per chunk of output,
 * reading with filters.  See ctr_log.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctr_log.h"
#include "libutil/buf.h"
#include "libutil/human.h"
#include "libutil/mem.h"
#include "libutil/parse.h"

struct ctr_log_writer
{
  int fd;
  uint64_t max_size;
  uint64_t size;
  struct buf out;
};

struct ctr_log_writer *
ctr_log_open (const char *path, uint64_t max_size, struct error **err)
{
  struct ctr_log_writer *w;
  struct stat st;
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      err_make (err, errno, "open log \"%s\"", path);
      return NULL;
    }
  w = xmalloc0 (sizeof *w);
  w->fd = fd;
  w->max_size = max_size;
  w->size = fstat (fd, &st) == 0 ? (uint64_t) st.st_size : 0;
  return w;
}

static void
stamp (char *out, size_t len)
{
  struct timespec ts;
  struct tm tm;
  char base[32];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (out, len, "%s.%09ld+00:00", base, ts.tv_nsec);
}

static void
add_record (struct buf *b, const char *ts, enum ctr_log_stream s, bool is_partial,
            const char *text, size_t len)
{
  buf_printf (b, "%s %s %c ", ts, s == CTR_LOG_STDOUT ? "stdout" : "stderr",
              is_partial ? 'P' : 'F');
  buf_append (b, text, len);
  buf_append_char (b, '\n');
}

int
ctr_log_write (struct ctr_log_writer *w, enum ctr_log_stream stream, const char *data,
               size_t len, struct error **err)
{
  char ts[64];
  size_t start = 0;
  const char *p;
  ssize_t n;

  stamp (ts, sizeof ts);
  buf_truncate (&w->out, 0);
  while (start < len && (p = memchr (data + start, '\n', len - start)) != NULL)
    {
      add_record (&w->out, ts, stream, false, data + start, (size_t) (p - data - start));
      start = (size_t) (p - data) + 1;
    }
  if (start < len)
    add_record (&w->out, ts, stream, true, data + start, len - start);
  if (w->max_size && w->size + w->out.len > w->max_size)
    {
      if (ftruncate (w->fd, 0) < 0)
        return err_make (err, errno, "truncate log");
      w->size = 0;
    }
  for (size_t off = 0; off < w->out.len; off += (size_t) n)
    {
      n = write (w->fd, w->out.data + off, w->out.len - off);
      if (n < 0 && errno == EINTR)
        {
          n = 0;
          continue;
        }
      if (n < 0)
        return err_make (err, errno, "write log");
    }
  w->size += w->out.len;
  return 0;
}

void
ctr_log_close (struct ctr_log_writer *w)
{
  if (w == NULL)
    return;
  close (w->fd);
  buf_free (&w->out);
  free (w);
}

int
ctr_log_parse_line (const char *line, size_t len, struct ctr_log_record *out)
{
  const char *sp1 = memchr (line, ' ', len), *sp2, *sp3;
  cleanup_free char *ts = NULL;
  int64_t secs;
  long nanos;

  if (sp1 == NULL)
    return -1;
  sp2 = memchr (sp1 + 1, ' ', len - (size_t) (sp1 + 1 - line));
  if (sp2 == NULL)
    return -1;
  sp3 = memchr (sp2 + 1, ' ', len - (size_t) (sp2 + 1 - line));
  if (sp3 == NULL || sp3 != sp2 + 2)
    {
      /* "F" or "P" with nothing after it and no space: an empty record. */
      if (!(sp2 + 2 == line + len))
        return -1;
      sp3 = line + len - 1;
    }
  if (sp2 - sp1 - 1 == 6 && memcmp (sp1 + 1, "stdout", 6) == 0)
    out->stream = CTR_LOG_STDOUT;
  else if (sp2 - sp1 - 1 == 6 && memcmp (sp1 + 1, "stderr", 6) == 0)
    out->stream = CTR_LOG_STDERR;
  else
    return -1;
  if (sp2[1] != 'F' && sp2[1] != 'P')
    return -1;
  out->is_partial = sp2[1] == 'P';
  ts = xstrndup (line, (size_t) (sp1 - line));
  if (human_parse_rfc3339 (ts, &secs, &nanos) < 0)
    return -1;
  out->time_ns = secs * 1000000000 + nanos;
  out->timestamp = line;
  out->timestamp_len = (size_t) (sp1 - line);
  out->text = sp3 + 1 <= line + len ? sp3 + 1 : line + len;
  out->text_len = (size_t) (line + len - out->text);
  return 0;
}

/* Where the last TAIL complete lines start: walk back over "F" records. */
static size_t
tail_start (const char *data, size_t len, long tail)
{
  long seen = 0;
  size_t end = len;

  if (tail < 0)
    return 0;
  while (end > 0)
    {
      size_t start = end - 1;
      struct ctr_log_record r;
      while (start > 0 && data[start - 1] != '\n')
        start--;
      if (ctr_log_parse_line (data + start, end - 1 - start, &r) == 0 && !r.is_partial)
        {
          if (seen == tail)
            return end;
          seen++;
        }
      end = start;
    }
  return 0;
}

void
ctr_log_print (const char *data, size_t len, const struct ctr_log_read_opts *opts, FILE *out,
               FILE *errout, size_t *consumed)
{
  size_t pos = tail_start (data, len, opts->tail);
  bool is_line_start[2] = { true, true };

  while (pos < len)
    {
      const char *nl = memchr (data + pos, '\n', len - pos);
      struct ctr_log_record r;
      FILE *f;

      if (nl == NULL)
        break;
      if (ctr_log_parse_line (data + pos, (size_t) (nl - data - pos), &r) == 0
          && (opts->since_ns == 0 || r.time_ns >= opts->since_ns)
          && (opts->until_ns == 0 || r.time_ns <= opts->until_ns))
        {
          f = r.stream == CTR_LOG_STDOUT ? out : errout;
          if (opts->has_timestamps && is_line_start[r.stream])
            fprintf (f, "%.*s ", (int) r.timestamp_len, r.timestamp);
          fwrite (r.text, 1, r.text_len, f);
          if (!r.is_partial)
            fputc ('\n', f);
          is_line_start[r.stream] = !r.is_partial;
        }
      pos = (size_t) (nl - data) + 1;
    }
  if (consumed)
    *consumed = pos;
}

int
ctr_log_parse_time (const char *s, int64_t now_ns, int64_t *out, struct error **err)
{
  int64_t secs, dur;
  long nanos;
  char *end;
  double d;

  if (human_parse_rfc3339 (s, &secs, &nanos) == 0)
    {
      *out = secs * 1000000000 + nanos;
      return 0;
    }
  errno = 0;
  d = strtod (s, &end);
  if (*s && *end == '\0' && errno == 0 && d >= 0)
    {
      *out = (int64_t) (d * 1e9);
      return 0;
    }
  if (parse_duration (s, &dur, NULL) == 0 && dur >= 0)
    {
      *out = now_ns - dur;
      return 0;
    }
  return err_make (err, 0, "invalid time \"%s\": use RFC 3339, a Unix timestamp or a "
                   "duration such as 10m", s);
}
