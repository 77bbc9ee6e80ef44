/* The events log: appending (with rotation), parsing lines back, filters
 * and the output shapes of `skiff events`.  See events.h for the format
 * and the locking. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "libutil/fs.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/parse.h"

/* The longest log line a reader accepts: ours stay below PIPE_BUF, this
 * leaves room for lines podman or an older skiff wrote. */
#define EVENTS_MAX_READ_LINE (64 * 1024)

_Static_assert (EVENTS_MAX_LINE <= PIPE_BUF, "an event line must be written atomically");

static const char *const known_types[] = { EVENTS_CONTAINER, EVENTS_IMAGE, EVENTS_VOLUME,
                                           EVENTS_SYSTEM, "pod", "network", NULL };

char *
events_log_path (const char *runroot)
{
  return xasprintf ("%s/events/events.log", runroot);
}

/* ---- writing ----------------------------------------------------------- */

static void
add_string (json_object *o, const char *key, const char *value)
{
  if (value && *value)
    json_object_object_add (o, key, json_object_new_string (value));
}

static json_object *
line_object (const struct events_event *e, bool has_attributes)
{
  int64_t ns = e->time_ns ? e->time_ns : container_now_ns ();
  json_object *o = json_object_new_object ();
  char when[64];

  human_rfc3339 (ns / 1000000000, (long) (ns % 1000000000), when, sizeof when);
  if (e->has_exit_code)
    json_object_object_add (o, "ContainerExitCode", json_object_new_int (e->exit_code));
  add_string (o, "ID", e->id);
  add_string (o, "Image", e->image);
  add_string (o, "Name", e->name);
  json_object_object_add (o, "Status", json_object_new_string (e->status));
  json_object_object_add (o, "Time", json_object_new_string (when));
  json_object_object_add (o, "Type", json_object_new_string (e->type));
  if (has_attributes && e->attributes && json_object_object_length (e->attributes) > 0)
    json_object_object_add (o, "Attributes", json_object_get (e->attributes));
  return o;
}

void
events_to_line (const struct events_event *e, struct buf *out)
{
  cleanup_json json_object *o = line_object (e, true);
  cleanup_free char *text = jobj_to_string (o, false);

  /* Labels can be long; the event without them still says what happened. */
  if (strlen (text) >= EVENTS_MAX_LINE)
    {
      json_object_put (o);
      o = line_object (e, false);
      free (text);
      text = jobj_to_string (o, false);
    }
  buf_append_str (out, text);
}

static uint64_t
max_size_from_env (uint64_t max_size)
{
  const char *v = getenv ("SKIFF_EVENTS_LOGFILE_MAX_SIZE");
  uint64_t n;

  if (max_size)
    return max_size;
  if (v && *v && parse_size (v, &n, NULL) == 0 && n > 0)
    return n;
  return EVENTS_DEFAULT_MAX_SIZE;
}

/* Whether FD still is the file at PATH (a rotation renames a new one over
 * it). */
static bool
is_current (int fd, const char *path)
{
  struct stat a, b;

  return fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_dev == b.st_dev
         && a.st_ino == b.st_ino;
}

/* Replace the log by its newer half and a "rotate" event.  The caller holds
 * the exclusive lock on the old file, so no writer appends meanwhile. */
static int
rotate (const char *path, struct error **err)
{
  size_t len = 0;
  cleanup_free char *data = fs_read_file (path, 0, &len, err);
  cleanup_buf struct buf b = BUF_INIT;
  struct events_event marker = { .type = EVENTS_SYSTEM, .status = "rotate" };
  const char *nl;

  if (data == NULL)
    return err_wrap (err, "rotate events log");
  /* Keep whole lines from the middle on. */
  nl = len ? memchr (data + len / 2, '\n', len - len / 2) : NULL;
  if (nl)
    buf_append (&b, nl + 1, len - (size_t) (nl + 1 - data));
  events_to_line (&marker, &b);
  buf_append_char (&b, '\n');
  if (fs_write_atomic_nosync (path, b.data, b.len, 0600, err) < 0)
    return err_wrap (err, "rotate events log");
  return 0;
}

static int
open_log (const char *path, struct error **err)
{
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  int fd;

  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == ENOENT && slash && slash != dir)
    {
      *slash = '\0';
      if (fs_mkdir_p (dir, 0700, err) < 0)
        return err_wrap (err, "open events log \"%s\"", path);
      fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
  if (fd < 0)
    return err_make (err, errno, "open events log \"%s\"", path);
  return fd;
}

static int
lock_fd (int fd, int op)
{
  int r;

  do
    r = flock (fd, op);
  while (r < 0 && errno == EINTR);
  return r;
}

/* Open the current log under a shared lock, rotating it first when the
 * line would take it past MAX.  After one rotation of ours the line goes
 * in regardless: a MAX below two lines could never be met. */
static int
open_current (const char *path, size_t line_len, uint64_t max, struct error **err)
{
  bool has_rotated = false;

  for (int tries = 0; tries < 100; tries++)
    {
      cleanup_close int fd = open_log (path, err);
      struct stat st;

      if (fd < 0)
        return -1;
      if (lock_fd (fd, LOCK_SH) < 0)
        return err_make (err, errno, "lock events log \"%s\"", path);
      if (!is_current (fd, path))
        continue;
      if (fstat (fd, &st) < 0)
        return err_make (err, errno, "stat events log \"%s\"", path);
      if ((uint64_t) st.st_size + line_len <= max || st.st_size == 0 || has_rotated)
        return steal_fd (&fd);
      /* Converting the lock lets other writers in between: check again. */
      if (lock_fd (fd, LOCK_EX) < 0)
        return err_make (err, errno, "lock events log \"%s\"", path);
      if (is_current (fd, path) && fstat (fd, &st) == 0
          && (uint64_t) st.st_size + line_len > max)
        {
          if (rotate (path, err) < 0)
            return -1;
          has_rotated = true;
        }
    }
  return err_make (err, 0, "events log \"%s\" keeps being replaced", path);
}

int
events_append (const char *path, const struct events_event *e, uint64_t max_size,
               struct error **err)
{
  cleanup_buf struct buf line = BUF_INIT;
  cleanup_close int fd = -1;
  ssize_t n;

  events_to_line (e, &line);
  buf_append_char (&line, '\n');
  if (line.len > EVENTS_MAX_LINE)
    return err_make (err, 0, "%s event for \"%s\" too long to log", e->status,
                     e->name ? e->name : e->id ? e->id : "");
  fd = open_current (path, line.len, max_size_from_env (max_size), err);
  if (fd < 0)
    return -1;
  do
    n = write (fd, line.data, line.len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return err_make (err, errno, "write events log \"%s\"", path);
  if ((size_t) n != line.len)
    return err_make (err, ENOSPC, "write events log \"%s\": short write", path);
  return 0;
}

void
events_write (struct skiff_context *ctx, const struct events_event *e)
{
  cleanup_free char *path = events_log_path (ctx->runroot);
  struct error *err = NULL;

  if (events_append (path, e, 0, &err) < 0)
    {
      log_warn ("unable to write %s event: %s", e->status, err->msg);
      err_release (&err);
    }
}

static void
container_event (struct skiff_context *ctx, const struct container *c, const char *status,
                 bool has_exit_code, int exit_code)
{
  json_object *labels = jobj_get_object (jobj_get_object (c->config, "Config"), "Labels");
  struct events_event e = {
    .type = EVENTS_CONTAINER,
    .status = status,
    .id = c->id,
    .name = c->name,
    .image = c->image_name,
    .has_exit_code = has_exit_code,
    .exit_code = exit_code,
    .attributes = labels,
  };

  events_write (ctx, &e);
}

void
events_container (struct skiff_context *ctx, const struct container *c, const char *status)
{
  container_event (ctx, c, status, false, 0);
}

void
events_container_exit (struct skiff_context *ctx, const struct container *c,
                       const char *status, int exit_code)
{
  container_event (ctx, c, status, true, exit_code);
}

void
events_image (struct skiff_context *ctx, const char *status, const char *id, const char *name)
{
  struct events_event e = { .type = EVENTS_IMAGE, .status = status, .name = name };

  if (id && str_has_prefix (id, "sha256:"))
    id += strlen ("sha256:");
  e.id = id;
  events_write (ctx, &e);
}

void
events_volume (struct skiff_context *ctx, const char *status, const char *name)
{
  struct events_event e = { .type = EVENTS_VOLUME, .status = status, .name = name };

  events_write (ctx, &e);
}

void
events_system (struct skiff_context *ctx, const char *status)
{
  struct events_event e = { .type = EVENTS_SYSTEM, .status = status };

  events_write (ctx, &e);
}

/* ---- reading ----------------------------------------------------------- */

static bool
is_known_type (const char *t)
{
  for (const char *const *k = known_types; *k; k++)
    if (strcmp (*k, t) == 0)
      return true;
  return false;
}

static void
copy_string (json_object *from, json_object *to, const char *key)
{
  const char *v = jobj_get_string (from, key);

  if (v)
    json_object_object_add (to, key, json_object_new_string (v));
}

/* Attributes are a string map; anything else in them is dropped. */
static json_object *
copy_attributes (json_object *from)
{
  json_object *to = json_object_new_object ();

  if (from == NULL || !json_object_is_type (from, json_type_object))
    return to;
  json_object_object_foreach (from, k, v)
    if (json_object_is_type (v, json_type_string))
      json_object_object_add (to, k, json_object_get (v));
  return to;
}

json_object *
events_parse_line (const char *line, size_t len, struct error **err)
{
  cleanup_json json_object *in = NULL;
  json_object *out, *code;
  const char *type, *status, *when;
  int64_t secs;
  long nanos;

  if (len > EVENTS_MAX_READ_LINE)
    return err_make (err, 0, "event line too long"), NULL;
  in = jobj_parse (line, len, "event", err);
  if (in == NULL)
    return NULL;
  type = jobj_get_string (in, "Type");
  status = jobj_get_string (in, "Status");
  when = jobj_get_string (in, "Time");
  if (type == NULL || !is_known_type (type))
    return err_make (err, 0, "event type \"%s\" is not valid", type ? type : ""), NULL;
  if (status == NULL || *status == '\0')
    return err_make (err, 0, "event without a status"), NULL;
  if (when == NULL || human_parse_rfc3339 (when, &secs, &nanos) < 0 || secs < 0
      || secs > INT64_MAX / 1000000000 - 1)
    return err_make (err, 0, "event time \"%s\" is not valid", when ? when : ""), NULL;
  out = json_object_new_object ();
  code = json_object_object_get (in, "ContainerExitCode");
  if (code && json_object_is_type (code, json_type_int))
    json_object_object_add (out, "ContainerExitCode",
                            json_object_new_int (json_object_get_int (code)));
  copy_string (in, out, "ID");
  copy_string (in, out, "Image");
  copy_string (in, out, "Name");
  copy_string (in, out, "Status");
  copy_string (in, out, "Type");
  json_object_object_add (out, "TimeNano", json_object_new_int64 (secs * 1000000000 + nanos));
  json_object_object_add (out, "Attributes",
                          copy_attributes (json_object_object_get (in, "Attributes")));
  return out;
}

/* ---- filters ----------------------------------------------------------- */

enum filter_key
{
  FILTER_CONTAINER,
  FILTER_IMAGE,
  FILTER_EVENT,
  FILTER_TYPE,
  FILTER_LABEL,
  FILTER_VOLUME,
  FILTER_NKEYS,
};

static const struct
{
  const char *name;
  enum filter_key key;
} filter_names[] = {
  { "container", FILTER_CONTAINER }, { "image", FILTER_IMAGE },   { "event", FILTER_EVENT },
  { "status", FILTER_EVENT },        { "type", FILTER_TYPE },     { "label", FILTER_LABEL },
  { "volume", FILTER_VOLUME },
};

struct events_filter
{
  char **values[FILTER_NKEYS]; /* NULL when the key is not used */
  int64_t since_ns;
  int64_t until_ns;
};

static int
filter_key_of (const char *name, enum filter_key *out)
{
  for (size_t i = 0; i < sizeof filter_names / sizeof filter_names[0]; i++)
    if (strcasecmp (name, filter_names[i].name) == 0)
      {
        *out = filter_names[i].key;
        return 0;
      }
  return -1;
}

struct events_filter *
events_filter_new (char *const *filters, int64_t since_ns, int64_t until_ns,
                   struct error **err)
{
  struct events_filter *f = xmalloc0 (sizeof *f);

  f->since_ns = since_ns;
  f->until_ns = until_ns;
  for (char *const *p = filters; p && *p; p++)
    {
      const char *eq = strchr (*p, '=');
      cleanup_free char *name = eq ? xstrndup (*p, (size_t) (eq - *p)) : NULL;
      enum filter_key k;

      if (eq == NULL || filter_key_of (name, &k) < 0)
        {
          events_filter_free (f);
          return err_make (err, 0, "%s is an invalid filter", *p), NULL;
        }
      f->values[k] = strv_append (f->values[k], eq + 1);
    }
  return f;
}

void
events_filter_free (struct events_filter *f)
{
  if (f == NULL)
    return;
  for (int k = 0; k < FILTER_NKEYS; k++)
    strv_free (f->values[k]);
  free (f);
}

void
events_filter_freep (struct events_filter **f)
{
  events_filter_free (*f);
}

static bool
str_eq (const char *a, const char *b)
{
  return a && b && strcmp (a, b) == 0;
}

/* Podman's rule for containers and images: the exact name or an ID
 * prefix, for events of that type only. */
static bool
object_match (json_object *ev, const char *type, const char *value)
{
  const char *id = jobj_get_string (ev, "ID");

  if (!str_eq (jobj_get_string (ev, "Type"), type))
    return false;
  if (str_eq (jobj_get_string (ev, "Name"), value))
    return true;
  return id && *value && str_has_prefix (id, value);
}

static bool
label_match (json_object *ev, const char *value)
{
  json_object *attrs = jobj_get_object (ev, "Attributes");
  const char *eq = strchr (value, '=');
  cleanup_free char *key = eq ? xstrndup (value, (size_t) (eq - value)) : xstrdup (value);
  const char *have = jobj_get_string (attrs, key);

  /* "label=key" matches any value, as docker's filter does. */
  return have && (eq == NULL || strcmp (have, eq + 1) == 0);
}

static bool
value_match (json_object *ev, enum filter_key k, const char *value)
{
  switch (k)
    {
    case FILTER_CONTAINER:
      return object_match (ev, EVENTS_CONTAINER, value);
    case FILTER_IMAGE:
      return object_match (ev, EVENTS_IMAGE, value)
             || (str_eq (jobj_get_string (ev, "Type"), EVENTS_CONTAINER)
                 && str_eq (jobj_get_string (ev, "Image"), value));
    case FILTER_EVENT:
      return str_eq (jobj_get_string (ev, "Status"), value);
    case FILTER_TYPE:
      return str_eq (jobj_get_string (ev, "Type"), value);
    case FILTER_LABEL:
      return label_match (ev, value);
    case FILTER_VOLUME:
      return str_eq (jobj_get_string (ev, "Type"), EVENTS_VOLUME)
             && (str_eq (jobj_get_string (ev, "Name"), value)
                 || str_eq (jobj_get_string (ev, "ID"), value));
    case FILTER_NKEYS:
      break;
    }
  return false;
}

bool
events_filter_match (const struct events_filter *f, json_object *ev)
{
  int64_t t = jobj_get_int (ev, "TimeNano", 0);

  if (f->since_ns && t < f->since_ns)
    return false;
  if (f->until_ns && t > f->until_ns)
    return false;
  for (int k = 0; k < FILTER_NKEYS; k++)
    {
      bool any = f->values[k] == NULL;

      for (char **v = f->values[k]; v && *v && !any; v++)
        any = value_match (ev, (enum filter_key) k, *v);
      if (!any)
        return false;
    }
  return true;
}

/* ---- output ------------------------------------------------------------ */

/* Go's time.Time.String() for a UTC time: "2006-01-02 15:04:05.999999999
 * +0000 UTC", trailing zeros of the fraction dropped. */
static void
append_go_time (struct buf *out, int64_t ns)
{
  time_t secs = (time_t) (ns / 1000000000);
  long frac = (long) (ns % 1000000000);
  struct tm tm;
  char day[32], digits[16];
  int n;

  gmtime_r (&secs, &tm);
  strftime (day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm);
  buf_append_str (out, day);
  if (frac > 0)
    {
      n = snprintf (digits, sizeof digits, "%09ld", frac);
      while (n > 0 && digits[n - 1] == '0')
        digits[--n] = '\0';
      buf_printf (out, ".%s", digits);
    }
  buf_append_str (out, " +0000 UTC");
}

static const char *
str_or_empty (const char *s)
{
  return s ? s : "";
}

static void
append_attributes (json_object *ev, struct buf *out)
{
  json_object *attrs = jobj_get_object (ev, "Attributes");
  cleanup_strv char **keys = NULL;

  /* Sorted, so the line is the same every time (podman's is map order). */
  json_object_object_foreach (attrs, k, v)
    {
      (void) v;
      keys = strv_append (keys, k);
    }
  if (keys)
    qsort (keys, strv_len (keys), sizeof *keys, (int (*) (const void *, const void *)) strcmp);
  for (char **key = keys; key && *key; key++)
    buf_printf (out, ", %s=%s", *key, str_or_empty (jobj_get_string (attrs, *key)));
}

void
events_format_human (json_object *ev, bool is_trunc, struct buf *out)
{
  const char *type = str_or_empty (jobj_get_string (ev, "Type"));
  const char *status = str_or_empty (jobj_get_string (ev, "Status"));
  const char *id = str_or_empty (jobj_get_string (ev, "ID"));
  const char *name = str_or_empty (jobj_get_string (ev, "Name"));
  int idlen = is_trunc ? 12 : (int) strlen (id);

  append_go_time (out, jobj_get_int (ev, "TimeNano", 0));
  buf_printf (out, " %s %s", type, status);
  if (strcmp (type, EVENTS_CONTAINER) == 0 || strcmp (type, "pod") == 0)
    {
      buf_printf (out, " %.*s (image=%s, name=%s", idlen, id,
                  str_or_empty (jobj_get_string (ev, "Image")), name);
      append_attributes (ev, out);
      buf_append_char (out, ')');
    }
  else if (strcmp (type, EVENTS_IMAGE) == 0)
    buf_printf (out, " %.*s %s", idlen, id, name);
  else if (*name || strcmp (type, EVENTS_SYSTEM) != 0)
    buf_printf (out, " %s", name);
}

static void
copy_member (json_object *from, json_object *to, const char *key, const char *as)
{
  json_object *v = json_object_object_get (from, key);

  if (v)
    json_object_object_add (to, as, json_object_get (v));
}

/* Docker's Actor: the object's ID and its attributes with the name, the
 * image and, for an exit, the code. */
static json_object *
docker_actor (json_object *ev)
{
  json_object *actor = json_object_new_object ();
  json_object *attrs = copy_attributes (jobj_get_object (ev, "Attributes"));
  json_object *code = json_object_object_get (ev, "ContainerExitCode");

  add_string (attrs, "image", jobj_get_string (ev, "Image"));
  add_string (attrs, "name", jobj_get_string (ev, "Name"));
  if (code)
    json_object_object_add (attrs, "exitCode",
                            json_object_new_string (json_object_get_string (code)));
  json_object_object_add (actor, "ID", json_object_new_string (str_or_empty (
                                           jobj_get_string (ev, "ID"))));
  json_object_object_add (actor, "Attributes", attrs);
  return actor;
}

/* An absent member is Go's zero value in podman's struct: templates see
 * it ("" or <nil>), JSON omits it as omitempty does. */
static void
copy_field (json_object *from, json_object *to, const char *key, bool is_json)
{
  json_object *v = json_object_object_get (from, key);

  if (v)
    json_object_object_add (to, key, json_object_get (v));
  else if (!is_json)
    json_object_object_add (to, key, json_object_new_string (""));
}

json_object *
events_report_object (json_object *ev, bool is_json)
{
  json_object *o = json_object_new_object ();
  json_object *attrs = jobj_get_object (ev, "Attributes");
  json_object *code = json_object_object_get (ev, "ContainerExitCode");
  int64_t ns = jobj_get_int (ev, "TimeNano", 0);

  if (code || !is_json)
    json_object_object_add (o, "ContainerExitCode", code ? json_object_get (code) : NULL);
  copy_field (ev, o, "ID", is_json);
  copy_field (ev, o, "Image", is_json);
  copy_field (ev, o, "Name", is_json);
  copy_field (ev, o, "Status", false);
  json_object_object_add (o, "time", json_object_new_int64 (ns / 1000000000));
  json_object_object_add (o, "timeNano", json_object_new_int64 (ns));
  copy_field (ev, o, "Type", false);
  json_object_object_add (o, "Attributes",
                          attrs && json_object_object_length (attrs) > 0
                              ? json_object_get (attrs)
                              : NULL);
  if (!is_json)
    {
      copy_member (ev, o, "Status", "Action");
      json_object_object_add (o, "Actor", docker_actor (ev));
    }
  return o;
}
