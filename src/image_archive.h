/* Image archives: the docker-archive and oci-archive tarballs (and their
 * directory forms) that `save` writes from the store and `load` reads into
 * it, and the rootfs tarballs `import` turns into one-layer images.  Each
 * command calls one entry point here.  The parsers of the hostile parts
 * (paths inside an archive, manifest.json, index.json, Dockerfile change
 * instructions) are exported for the unit tests. */
#ifndef SKIFF_SRC_IMAGE_ARCHIVE_H
#define SKIFF_SRC_IMAGE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "cli.h"
#include "libutil/error.h"

/* Bounds on what an archive may hold. */
#define IMAGE_ARCHIVE_JSON_MAX (8u << 20)  /* manifest.json, index.json */
#define IMAGE_ARCHIVE_MAX_IMAGES 1000      /* images in one archive */
#define IMAGE_ARCHIVE_MAX_TAGS 1000        /* RepoTags of one image */
#define IMAGE_ARCHIVE_MAX_MEMBERS 100000   /* entries in one archive */
#define IMAGE_ARCHIVE_PATH_MAX 4096        /* one path inside it */

/* The formats of `save --format`, named as podman names them. */
enum image_archive_format
{
  IMAGE_ARCHIVE_DOCKER_ARCHIVE, /* `docker save` tarball */
  IMAGE_ARCHIVE_OCI_ARCHIVE,    /* OCI image layout in a tarball */
  IMAGE_ARCHIVE_OCI_DIR,        /* OCI image layout directory */
  IMAGE_ARCHIVE_DOCKER_DIR,     /* containers/image "dir:" directory */
};

/* "docker-archive" -> IMAGE_ARCHIVE_DOCKER_ARCHIVE...; anything else is an
 * error listing the names. */
int image_archive_parse_format (const char *s, enum image_archive_format *out,
                                struct error **err) __attribute__ ((warn_unused_result));

struct image_archive_save_opts
{
  enum image_archive_format format;
  const char *output;  /* file or directory; NULL: stdout (archives only) */
  bool is_quiet;       /* no progress on stderr */
  bool is_multi_image; /* every argument is an image; otherwise the ones
                          after the first are more tags for it */
};

/* Write the images ARGS (NULL-terminated) name to OPTS->output.  An image
 * named by a name (not its ID) carries that name into the archive.  Layers
 * go into a docker-archive uncompressed, each checked against its diff ID
 * on the way; the OCI and dir formats get the stored blobs and manifest
 * byte for byte.  An output file appears only complete (written beside it
 * and renamed); writing to stdout fails when stdout is a terminal. */
int image_archive_save (struct skiff_context *ctx, char *const *args,
                        const struct image_archive_save_opts *opts, struct error **err)
    __attribute__ ((warn_unused_result));

struct image_archive_load_opts
{
  const char *input; /* archive file or layout directory; NULL: stdin */
  bool is_quiet;     /* no progress on stderr */
};

/* Load every image of a docker-archive, an OCI layout (tarball or
 * directory) or a "dir:" directory, the tarball possibly compressed.  Each
 * image is checked whole (digests, sizes, diff IDs, paths) and recorded
 * only when complete: the image record is the commit point, so a failure
 * stores nothing a listing would show.  *LOADED gets, for each image, its
 * names or else "sha256:<id>" (NULL-terminated), what `load` prints. */
int image_archive_load (struct skiff_context *ctx, const struct image_archive_load_opts *opts,
                        char ***loaded, struct error **err) __attribute__ ((warn_unused_result));

struct image_archive_import_opts
{
  const char *input;     /* rootfs tarball (any compression), "-" for stdin */
  const char *reference; /* name for the image, NULL for none */
  char *const *changes;  /* NULL-terminated Dockerfile instructions, or NULL */
  const char *message;   /* history comment, NULL for the default */
  const char *arch;      /* NULL: the host's */
  const char *os;
  const char *variant;
  bool is_quiet;
};

/* Make a one-layer image from a rootfs tarball: the layer blob is the
 * tarball as given (xz and bzip2 are stored decompressed, since manifests
 * cannot name them), the config is generated with OPTS's changes applied.
 * *ID gets the image ID ("sha256:<hex>", malloc'd). */
int image_archive_import (struct skiff_context *ctx, const struct image_archive_import_opts *opts,
                          char **id, struct error **err) __attribute__ ((warn_unused_result));

/* ---- parsers (pure; exported for the unit tests) ---- */

/* PATH (a name inside an archive, as manifest.json writes it) made
 * canonical and relative: "./a//b/" -> "a/b", "a/../b" -> "b".  Empty
 * paths, absolute paths, paths that climb out of the archive and paths
 * longer than IMAGE_ARCHIVE_PATH_MAX are errors.  Malloc'd. */
char *image_archive_clean_path (const char *path, struct error **err);

/* One image of a docker-archive's manifest.json.  Paths are cleaned. */
struct image_archive_docker_entry
{
  char *config;     /* the config file */
  char **repo_tags; /* as written ("busybox:latest"), NULL-terminated */
  char **layers;    /* layer tars, bottom first, NULL-terminated */
  size_t n_layers;
};

/* Parse manifest.json: a non-empty array of at most
 * IMAGE_ARCHIVE_MAX_IMAGES objects, each with "Config" (string), "Layers"
 * (array of strings, at most MANIFEST_MAX_LAYERS) and optional "RepoTags"
 * (array of strings or null).  Wrong types, bad paths and excess entries
 * are errors naming the entry. */
int image_archive_parse_docker_manifest (const char *data, size_t len,
                                         struct image_archive_docker_entry **out, size_t *n,
                                         struct error **err) __attribute__ ((warn_unused_result));
void image_archive_docker_entries_free (struct image_archive_docker_entry *v, size_t n);

/* One entry of an OCI layout's index.json. */
struct image_archive_oci_entry
{
  char *media_type; /* an image manifest or an index */
  char *digest;     /* validated sha256 digest */
  int64_t size;
  char *name;       /* io.containerd.image.name, else
                       org.opencontainers.image.ref.name; NULL when neither */
};

/* Parse index.json: "manifests" with at most MANIFEST_MAX_ENTRIES
 * descriptors.  Entries of other media types (artifacts) are skipped; an
 * index without any image is an error. */
int image_archive_parse_oci_index (const char *data, size_t len,
                                   struct image_archive_oci_entry **out, size_t *n,
                                   struct error **err) __attribute__ ((warn_unused_result));
void image_archive_oci_entries_free (struct image_archive_oci_entry *v, size_t n);

/* The same as image_change_apply() (image_change.h): one Dockerfile
 * instruction applied to the "config" object CONFIG. */
int image_archive_apply_change (json_object *config, const char *change, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
