/* Manifest lists (multi-platform images) built locally and pushed, as
 * podman's `manifest create|add|remove|inspect|push|rm` do.  A list is an
 * OCI image index of images that live in registries: each entry is an
 * image manifest with its platform, and the list remembers the repository
 * each entry came from, so that push can copy the entries' blobs and
 * manifests to the destination (mounting them when it is the same
 * registry) before the index itself.
 *
 * Lists live beside the store, one file per list in <root>/manifests/,
 * named by the sha256 of the list's name: {"name", "index", "sources"}.
 * Changes are read-modify-write under an exclusive flock of
 * <root>/manifests/lock, written atomically. */
#ifndef SKIFF_SRC_MANIFEST_LIST_H
#define SKIFF_SRC_MANIFEST_LIST_H

#include <stdbool.h>
#include <json-c/json.h>

#include "cli.h"
#include "libutil/error.h"
#include "manifest.h"

/* How to reach registries (the flags of pull and push). */
struct manifest_list_access
{
  bool has_tls_verify;
  bool is_tls_verify;
  const char *creds;
  const char *authfile;
  const char *cert_dir;
};

struct manifest_list_add_opts
{
  struct manifest_list_access access;
  bool is_all;           /* an index: add all of its images, not the host's */
  const char *os;        /* override the platform the entry says */
  const char *arch;
  const char *variant;
};

/* Make the empty list NAME (a short name is under localhost/, as podman
 * names it) and add IMAGES (NULL-terminated, may be NULL) to it.  An
 * existing list of that name is an error.  *ID_OUT gets the list's ID:
 * the hex sha256 of the file that holds it. */
int manifest_list_create (struct skiff_context *ctx, const char *name, char *const *images,
                          const struct manifest_list_add_opts *opts, char **id_out,
                          struct error **err) __attribute__ ((warn_unused_result));

/* Add the registry image IMAGE ("docker://" optional) to list NAME: its
 * manifest digest, size and media type, and the platform of its config
 * (or of OPTS).  An index adds the entry for this host's platform (or
 * every image with OPTS->is_all).  An entry with the same digest is
 * replaced.  *ID_OUT as for create. */
int manifest_list_add (struct skiff_context *ctx, const char *name, const char *image,
                       const struct manifest_list_add_opts *opts, char **id_out,
                       struct error **err) __attribute__ ((warn_unused_result));

/* Remove the entry DIGEST from list NAME. */
int manifest_list_remove (struct skiff_context *ctx, const char *name, const char *digest,
                          char **id_out, struct error **err) __attribute__ ((warn_unused_result));

/* The list NAME's index, as JSON text (indented).  When no list has that
 * name, NAME is taken as a registry reference and its manifest is fetched
 * with ACCESS, as podman's inspect does. */
int manifest_list_inspect (struct skiff_context *ctx, const char *name,
                           const struct manifest_list_access *access, char **json_out,
                           struct error **err) __attribute__ ((warn_unused_result));

/* Delete list NAME. */
int manifest_list_delete (struct skiff_context *ctx, const char *name, struct error **err)
    __attribute__ ((warn_unused_result));

struct manifest_list_push_opts
{
  struct manifest_list_access access;
  const char *format;     /* "oci" (an OCI index, the default) or "v2s2"
                             (a Docker manifest list) */
  const char *digestfile; /* the pushed index's digest goes here */
  bool is_quiet;
  bool is_remove;         /* delete the list once pushed */
};

/* Push list NAME to DEST (a registry reference, "docker://" optional;
 * NULL: the list's own name): every entry's blobs and manifest (by
 * digest) to DEST's repository, each blob skipped when there, mounted
 * from its source repository on the same registry, else copied from the
 * source registry; then the index under DEST's tag. */
int manifest_list_push (struct skiff_context *ctx, const char *name, const char *dest,
                        const struct manifest_list_push_opts *opts, struct error **err)
    __attribute__ ((warn_unused_result));

/* ---- the index (pure; exported for the unit tests) ---- */

/* An empty OCI image index. */
json_object *manifest_list_index_new (void);

/* Add to INDEX the image manifest DIGEST (SIZE bytes, MEDIA_TYPE an image
 * manifest type) for PLATFORM (os and architecture required), replacing an
 * entry with the same digest. */
int manifest_list_index_add (json_object *index, const char *media_type, const char *digest,
                             int64_t size, const struct manifest_platform *platform,
                             struct error **err) __attribute__ ((warn_unused_result));

/* Remove INDEX's entry DIGEST: 1 when it was there, 0 when not. */
int manifest_list_index_remove (json_object *index, const char *digest);

/* INDEX as pushed: an OCI index, or with IS_DOCKER a Docker manifest
 * list, which can only hold Docker schema2 manifests.  Compact JSON. */
char *manifest_list_index_serialize (json_object *index, bool is_docker, struct error **err);

/* The name a list gets: a short name under localhost/, a tag ("latest")
 * added; digests are refused.  Malloc'd. */
char *manifest_list_normalize_name (const char *name, struct error **err);

#endif
