/* Image manifests, indexes and configs (OCI image spec, Docker schema2):
 * parsing and validating the bytes a registry sent, choosing a platform
 * from an index, and reading an image config.  Pure functions over
 * buffers: no I/O, so everything here can be tested without a registry.
 * All input is treated as hostile: sizes are bounded, digests must be
 * sha256 and well formed, and every field has its type checked. */
#ifndef SKIFF_SRC_MANIFEST_H
#define SKIFF_SRC_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libutil/error.h"

#define MANIFEST_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MANIFEST_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MANIFEST_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MANIFEST_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MANIFEST_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MANIFEST_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MANIFEST_MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MANIFEST_MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* The Accept header value for fetching a manifest: indexes and lists first,
 * then single-image manifests, then schema1 (accepted only so that we can
 * recognise it and say it is unsupported). */
#define MANIFEST_ACCEPT                                                       \
  MANIFEST_MT_OCI_INDEX ", " MANIFEST_MT_DOCKER_LIST ", " MANIFEST_MT_OCI_MANIFEST \
  ", " MANIFEST_MT_DOCKER_MANIFEST ", " MANIFEST_MT_DOCKER_SCHEMA1_SIGNED ", "  \
  MANIFEST_MT_DOCKER_SCHEMA1

/* Bounds on what we accept from a registry. */
#define MANIFEST_MAX_SIZE (4u << 20)     /* manifest or index bytes */
#define MANIFEST_CONFIG_MAX_SIZE (8u << 20)
#define MANIFEST_MAX_LAYERS 1000
#define MANIFEST_MAX_ENTRIES 1000        /* index entries */

enum manifest_kind
{
  MANIFEST_INDEX, /* OCI index or Docker manifest list */
  MANIFEST_IMAGE, /* OCI image manifest or Docker schema2 manifest */
};

enum manifest_compression
{
  MANIFEST_COMPRESSION_NONE,
  MANIFEST_COMPRESSION_GZIP,
  MANIFEST_COMPRESSION_ZSTD,
};

/* os/architecture[/variant] as the OCI spec names them ("linux", "arm64",
 * "v8").  Strings are malloc'd; VARIANT and OS_VERSION may be NULL. */
struct manifest_platform
{
  char *os;
  char *architecture;
  char *variant;
  char *os_version;
};

struct manifest_descriptor
{
  char *media_type;
  char *digest;  /* "sha256:<64 hex>", validated */
  int64_t size;  /* >= 0 */
  enum manifest_compression compression; /* layers only */
  bool has_platform;                     /* index entries only */
  struct manifest_platform platform;
};

struct manifest
{
  enum manifest_kind kind;
  char *media_type; /* what the bytes are, one of the MANIFEST_MT_* above */

  /* MANIFEST_INDEX: the entries that are image manifests (entries of other
   * types, such as nested indexes or artifacts, are skipped). */
  struct manifest_descriptor *entries;
  size_t n_entries;

  /* MANIFEST_IMAGE */
  struct manifest_descriptor config;
  struct manifest_descriptor *layers;
  size_t n_layers;
};

/* Parse LEN bytes of a manifest or index.  MEDIA_TYPE is the registry's
 * Content-Type (parameters after ';' are ignored); when it is NULL or
 * generic ("application/json", "text/plain") the JSON's own "mediaType"
 * decides, then its shape ("manifests" for an index, "config" and "layers"
 * for an image).  A Content-Type that contradicts "mediaType" is an error,
 * as are schema1 manifests (with a message saying so), a schemaVersion
 * other than 2, missing or mistyped fields, invalid digests, negative
 * sizes, more than MANIFEST_MAX_LAYERS layers, layer types we cannot
 * extract (non-distributable/foreign layers included) and configs that are
 * not container image configs (artifacts).  On success *OUT is a new
 * manifest (free with manifest_free()). */
int manifest_parse (const char *data, size_t len, const char *media_type,
                    struct manifest **out, struct error **err)
    __attribute__ ((warn_unused_result));
void manifest_free (struct manifest *m);
void manifest_freep (struct manifest **m);
#define cleanup_manifest __attribute__ ((cleanup (manifest_freep)))

/* True for the media types of an index/list, of an image manifest. */
bool manifest_media_type_is_index (const char *media_type);
bool manifest_media_type_is_image (const char *media_type);

/* Parse "os/arch[/variant]" (as --platform takes it) or "arch" alone (os
 * defaults to linux); the architecture is normalised as in
 * manifest_platform_normalize(). */
int manifest_platform_parse (const char *s, struct manifest_platform *out,
                             struct error **err) __attribute__ ((warn_unused_result));

/* The platform we run on: linux and the architecture from uname(2). */
void manifest_platform_host (struct manifest_platform *out);

/* Map a uname(2) machine name ("x86_64", "aarch64", "armv7l", "i686",
 * "ppc64le", "s390x", "riscv64") to the OCI architecture and variant.
 * *VARIANT may be set to NULL.  Unknown names are passed through. */
void manifest_arch_from_uname (const char *machine, char **arch, char **variant);

/* Normalise aliases the way containerd does ("x86_64" -> amd64, "aarch64"
 * -> arm64, "armhf" -> arm/v7, "i386" -> 386, variant "8" -> "v8") and fill
 * the default variant (arm64 -> v8, arm -> v7). */
void manifest_platform_normalize (struct manifest_platform *p);

/* "linux/arm64/v8", malloc'd. */
char *manifest_platform_format (const struct manifest_platform *p);

void manifest_platform_clear (struct manifest_platform *p);

/* Choose the entry of index M for WANT: same os and architecture (after
 * normalisation) and the same variant; for arm, an older variant (v7 can
 * run v6 and v5) when there is no exact match.  The first match in index
 * order wins.  Fails when M is not an index or nothing matches; the error
 * lists the platforms the index offers. */
const struct manifest_descriptor *manifest_select_platform (const struct manifest *m,
                                                            const struct manifest_platform *want,
                                                            struct error **err);

struct manifest_history
{
  char *created;
  char *created_by;
  char *author;
  char *comment;
  bool empty_layer;
};

/* The parts of an image config that skiff uses.  Vectors are
 * NULL-terminated; a vector or string is NULL when the config does not set
 * it (an empty JSON array gives an empty vector, which matters for
 * Entrypoint and Cmd).  LABEL_KEYS/LABEL_VALUES are parallel. */
struct manifest_config
{
  char *architecture;
  char *os;
  char *variant;
  char *created;
  char *author;

  char *user;
  char **env;
  char **entrypoint;
  char **cmd;
  char *working_dir;
  char **label_keys;
  char **label_values;
  char **exposed_ports; /* "80/tcp" */
  char **volumes;
  char *stop_signal;

  char **diff_ids;      /* rootfs.diff_ids, validated digests */
  size_t n_diff_ids;
  struct manifest_history *history;
  size_t n_history;
};

/* Parse an image config.  N_LAYERS is the layer count of the manifest that
 * names it, and rootfs.diff_ids must have exactly that many entries (pass
 * -1 to skip the check).  rootfs.type must be "layers".  Mistyped fields are
 * errors, unknown ones are ignored. */
int manifest_config_parse (const char *data, size_t len, long n_layers,
                           struct manifest_config **out, struct error **err)
    __attribute__ ((warn_unused_result));
void manifest_config_free (struct manifest_config *c);
void manifest_config_freep (struct manifest_config **c);
#define cleanup_manifest_config __attribute__ ((cleanup (manifest_config_freep)))

#endif
