/* `commit`: a container's writable layer becomes a new image on top of
 * its image.  The layer is the container's changes (container_diff.h) as
 * an OCI layer tar, whiteouts written back as ".wh." entries, gzip
 * compressed; the config is the image's with the container's settings,
 * the -c/--change instructions, a history entry and the new diff ID. */
#ifndef SKIFF_SRC_CONTAINER_COMMIT_H
#define SKIFF_SRC_CONTAINER_COMMIT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "container.h"
#include "libutil/sha256.h"
#include "manifest.h"
#include "storage/storage.h"

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

/* A layer blob in the store, as the manifest lists it. */
struct container_commit_layer
{
  char diff_id[SHA256_DIGEST_STR_LEN]; /* of the uncompressed tar */
  char digest[SHA256_DIGEST_STR_LEN];  /* of the blob */
  uint64_t size;                       /* of the blob */
  enum manifest_compression compression;
};

/* C's writable layer (its changes against its image, whiteouts as ".wh."
 * entries) as a gzip layer blob committed to S and leased to it.  The
 * tree is read in a child inside the user namespace.  The caller keeps C
 * from starting or changing meanwhile.  Used by commit and build. */
int container_commit_write_layer (struct skiff_context *ctx, struct storage_store *s,
                                  struct container *c, struct container_commit_layer *out,
                                  struct error **err) __attribute__ ((warn_unused_result));

/* Store the image whose config is CFG (rootfs.diff_ids listing BASE's
 * layers then LAYER's): the layers of BASE (an image manifest, NULL for an
 * image without layers) plus LAYER (NULL for none) extracted where missing,
 * the config and a manifest stored as blobs (OCI, or Docker schema 2 with
 * IS_DOCKER_FORMAT, which cannot list zstd layers), then the record with
 * NAMES (NULL-terminated, may be NULL) and CREATED (seconds), the commit
 * point; storing an existing config again replaces its manifest.  *ID gets
 * the config digest (malloc'd). */
int container_commit_store (struct skiff_context *ctx, struct storage_store *s, json_object *cfg,
                            const struct manifest *base,
                            const struct container_commit_layer *layer, bool is_docker_format,
                            char *const *names, int64_t created, char **id, struct error **err)
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

/* Append DIFF_ID to CFG's rootfs.diff_ids (an image config), creating
 * rootfs {"type": "layers"} when CFG has none.  Commit and build both
 * record their new layers this way. */
void container_commit_config_add_diff_id (json_object *cfg, const char *diff_id);

/* The name a committed image gets for REFERENCE: as podman, a name
 * without a registry lives under localhost/ ("app" ->
 * "localhost/app:latest"); a digest is refused.  Malloc'd. */
char *container_commit_name (const char *reference, struct error **err);

#endif
