/* Pushing a local image to a registry, or to a local transport (oci:,
 * oci-archive:, docker-archive:, dir:). */
#ifndef SKIFF_SRC_IMAGE_PUSH_H
#define SKIFF_SRC_IMAGE_PUSH_H

#include <stdbool.h>

#include "cli.h"
#include "libutil/error.h"

struct image_push_opts
{
  const char *format;             /* "oci", "v2s2" ("docker"); NULL: as stored */
  const char *compression_format; /* "gzip", "zstd"; NULL: as stored */
  const char *digestfile;         /* write the manifest digest here */
  bool is_quiet;                  /* no progress output */
  bool has_tls_verify;            /* --tls-verify was given */
  bool is_tls_verify;             /* its value */
  const char *creds;              /* "user:password" */
  const char *authfile;
  const char *cert_dir;
};

/* Push the local image SOURCE (a name or ID, resolved as images_find()
 * does) to DESTINATION: a registry reference, "docker://REF", or a local
 * transport; NULL means SOURCE's own name.  For a registry: blobs first
 * (each skipped when the repository has it, mounted when another
 * repository of the registry it came from has it, else uploaded), the
 * manifest last.  Without a format or compression change the stored
 * manifest and blobs go as they are, so a pulled image keeps every digest;
 * --format rewrites the manifest's media types, --compression-format
 * recompresses the layers of another compression (checked against their
 * diff IDs) and makes a new manifest.  registries.conf "blocked" refuses
 * the push, "insecure" allows plain HTTP.  Progress goes to stderr: bars
 * on a terminal, one line per blob otherwise.  With OPTS->digestfile the
 * manifest digest is written there. */
int image_push (struct skiff_context *ctx, const char *source, const char *destination,
                const struct image_push_opts *opts, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
