/* The events log: what `skiff events` reports, written by every invocation
 * that changes a container, image or volume, with no daemon to collect it.
 * The format is podman's "file" events backend: <runroot>/events/events.log,
 * one JSON object per line ({"ID":...,"Image":...,"Name":...,"Status":
 * "start","Time":"<RFC 3339>","Type":"container","Attributes":{...}}).
 *
 * Writers append one line with a single write(2) on an O_APPEND descriptor,
 * under a shared flock, so concurrent writers never interleave.  When the
 * file outgrows its limit (podman's events_logfile_max_size, 1 MiB; the
 * SKIFF_EVENTS_LOGFILE_MAX_SIZE environment variable overrides it) the
 * writer that notices takes the lock exclusively and replaces the file by
 * its newer half followed by a system "rotate" event, which is how a
 * follower knows where its reading resumes. */
#ifndef SKIFF_SRC_EVENTS_H
#define SKIFF_SRC_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "cli.h"
#include "container.h"
#include "libutil/buf.h"
#include "libutil/error.h"

/* Longest line a writer appends: a line stays below PIPE_BUF so that no
 * reader ever sees half of one.  Attributes are dropped to fit. */
#define EVENTS_MAX_LINE 4096

/* Default size past which the log is rotated. */
#define EVENTS_DEFAULT_MAX_SIZE ((uint64_t) 1 << 20)

/* Event types (podman's events.Type). */
#define EVENTS_CONTAINER "container"
#define EVENTS_IMAGE "image"
#define EVENTS_VOLUME "volume"
#define EVENTS_SYSTEM "system"

/* One event.  STATUS is podman's word: container create, init, start,
 * died, stop, kill, pause, unpause, remove, attach, exec, exec_died,
 * cleanup, rename, restart, commit; image pull, push, tag, untag, remove,
 * save, load, import, build; volume create, remove, prune; system
 * refresh, reset, rotate. */
struct events_event
{
  const char *type;        /* EVENTS_CONTAINER... */
  const char *status;
  const char *id;          /* may be NULL */
  const char *name;        /* may be NULL */
  const char *image;       /* may be NULL */
  int64_t time_ns;         /* since the epoch; 0 means now */
  bool has_exit_code;      /* "died" and "exec_died" */
  int exit_code;
  json_object *attributes; /* string values (labels...); may be NULL, borrowed */
};

/* The log's path under RUNROOT, newly allocated. */
char *events_log_path (const char *runroot);

/* Append E to the log at PATH, creating the file (and its directory) when
 * missing, rotating it past MAX_SIZE bytes (0: EVENTS_DEFAULT_MAX_SIZE).
 * Safe against concurrent writers and readers; not async-signal-safe. */
int events_append (const char *path, const struct events_event *e, uint64_t max_size,
                   struct error **err) __attribute__ ((warn_unused_result));

/* Record E in CTX's log.  An event is a side note to the operation that
 * caused it: a failure is a warning, never the operation's error. */
void events_write (struct skiff_context *ctx, const struct events_event *e);

/* The calls the lifecycle code makes.  events_container() names C, its
 * image and its labels; events_container_exit() adds the exit code
 * ("died", "exec_died"). */
void events_container (struct skiff_context *ctx, const struct container *c,
                       const char *status);
void events_container_exit (struct skiff_context *ctx, const struct container *c,
                            const char *status, int exit_code);
/* ID "sha256:..." or hex (stored without the prefix, as podman), NAME the
 * reference involved (may be NULL). */
void events_image (struct skiff_context *ctx, const char *status, const char *id,
                   const char *name);
void events_volume (struct skiff_context *ctx, const char *status, const char *name);
void events_system (struct skiff_context *ctx, const char *status);

/* The log line for E without the newline, as events_append() writes it. */
void events_to_line (const struct events_event *e, struct buf *out);

/* Parse one log line into a new JSON object with podman's keys, its Time
 * turned into "TimeNano" (int, nanoseconds).  NULL with *err for malformed
 * lines, unknown types and missing status or time. */
json_object *events_parse_line (const char *line, size_t len, struct error **err)
    __attribute__ ((warn_unused_result));

/* --since, --until and --filter, parsed once. */
struct events_filter;
/* FILTERS is a NULL-terminated list of "key=value" (container, image,
 * event/status, type, label, volume); keys AND together, repeated keys
 * OR.  SINCE_NS/UNTIL_NS 0 for none. */
struct events_filter *events_filter_new (char *const *filters, int64_t since_ns,
                                         int64_t until_ns, struct error **err)
    __attribute__ ((warn_unused_result));
bool events_filter_match (const struct events_filter *f, json_object *ev);
void events_filter_free (struct events_filter *f);
void events_filter_freep (struct events_filter **f);
#define cleanup_events_filter __attribute__ ((cleanup (events_filter_freep)))

/* Podman's default line: "2024-01-02 15:04:05.123 +0000 UTC container start
 * <id> (image=..., name=..., k=v)", the ID cut to 12 digits when
 * IS_TRUNC. */
void events_format_human (json_object *ev, bool is_trunc, struct buf *out);
/* The object --format templates see: podman's fields (.ID .Name .Image
 * .Status .Type .Time in seconds .TimeNano .Attributes
 * .ContainerExitCode) and docker's .Action and .Actor.ID/.Actor.Attributes.
 * IS_JSON leaves docker's out, for `--format json`. */
json_object *events_report_object (json_object *ev, bool is_json);

#endif
