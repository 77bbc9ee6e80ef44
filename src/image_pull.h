/* Pulling an image from a registry into the local store. */
#ifndef SKIFF_SRC_IMAGE_PULL_H
#define SKIFF_SRC_IMAGE_PULL_H

#include <stdbool.h>

#include "cli.h"

struct image_pull_opts
{
  const char *platform;   /* "os/arch[/variant]", NULL: the host's */
  bool is_quiet;          /* no progress output */
  bool has_tls_verify;    /* --tls-verify was given */
  bool is_tls_verify;     /* its value */
  const char *creds;      /* "user:password" */
  const char *authfile;
  const char *cert_dir;
};

/* Pull NAME (a short or full reference; short names go through
 * registries.conf) and store it under its full name.  Progress goes to
 * stderr: bars on a terminal, one line per blob otherwise.  *ID_OUT gets
 * the image ID ("sha256:<hex>").  Layers and blobs the store has are not
 * transferred again.  A failure leaves the store as it was, except for
 * complete layers that a later pull reuses. */
int image_pull (struct skiff_context *ctx, const char *name,
                const struct image_pull_opts *opts, char **id_out, struct error **err)
    __attribute__ ((warn_unused_result));

/* The digest of the image manifest a pull of NAME would store, asking
 * the registry for the manifest only: NAME resolved as image_pull() does
 * (registries.conf candidates and mirrors) and an index narrowed to the
 * platform pull would choose.  Returns "sha256:<hex>", malloc'd, or NULL
 * with *ERR set when no candidate answers.  Prints nothing. */
char *image_pull_remote_digest (struct skiff_context *ctx, const char *name,
                                const struct image_pull_opts *opts, struct error **err);

#endif
