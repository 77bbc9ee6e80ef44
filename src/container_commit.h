/* `commit`: a container's writable layer becomes a new image on top of
 * its image.  The layer is the container's changes (container_diff.h) as
 * an OCI layer tar, whiteouts written back as ".wh." entries, gzip
 * compressed; the config is the image's with the container's settings,
 * the -c/--change instructions, a history entry and the new diff ID. */
#ifndef SKIFF_SRC_CONTAINER_COMMIT_H
#define SKIFF_SRC_CONTAINER_COMMIT_H

#include <json-c/json.h>
#include <stdbool.h>

#include "cli.h"
#include "container.h"

struct container_commit_opts
{
  const char *reference;  /* name of the new image, NULL for none */
  char *const *changes;   /* Dockerfile instructions (import's syntax), or NULL */
  const char *message;    /* -m: the history comment */
  const char *author;     /* --author */
  bool is_pause;          /* -p: stop the container's processes meanwhile */
  bool is_quiet;          /* no progress lines on stderr */
};

/* Commit container C (running or not).  *ID gets the new image's ID
 * ("sha256:<hex>", malloc'd).  The image record is the commit point: a
 * failure leaves at most a blob or layer that the next repair collects. */
int container_commit (struct skiff_context *ctx, struct container *c,
                      const struct container_commit_opts *o, char **id, struct error **err)
    __attribute__ ((warn_unused_result));

/* The parts of the new config that do not come from the parent. */
struct container_commit_config_opts
{
  const char *diff_id;    /* the new layer's */
  const char *created;    /* RFC 3339 */
  const char *author;     /* NULL: none */
  const char *message;    /* NULL: none */
  char *const *changes;   /* applied last, in order */
};

/* The new image config: PARENT (an image config; NULL for none) with
 * "config" taking the container's User, ExposedPorts, Env, Entrypoint,
 * Cmd, Volumes, WorkingDir, Labels and StopSignal from CTR_CONFIG (the
 * container's "Config") where it sets them, then O->changes; "created",
 * "author", "comment"; the diff ID appended to rootfs.diff_ids and a
 * history entry (created_by: the container's command) appended.  Pure:
 * PARENT and CTR_CONFIG are not changed.  Fails on a bad change. */
json_object *container_commit_config (json_object *parent, json_object *ctr_config,
                                      const struct container_commit_config_opts *o,
                                      struct error **err);

/* The name a committed image gets for REFERENCE: as podman, a name
 * without a registry lives under localhost/ ("app" ->
 * "localhost/app:latest"); a digest is refused.  Malloc'd. */
char *container_commit_name (const char *reference, struct error **err);

#endif
