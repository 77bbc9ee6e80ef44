/* Turning layer blobs in the store into extracted layers: the step pull,
 * load and import share. */
#ifndef SKIFF_SRC_IMAGE_LAYERS_H
#define SKIFF_SRC_IMAGE_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "storage/storage.h"

struct image_layer_spec
{
  const char *blob_digest; /* compressed (or plain) tar, already in the store */
  int64_t blob_size;
  const char *diff_id;     /* what the config promises; NULL: take what it is */
};

/* Make sure every layer of SPECS (bottom first) is in the store: layers
 * whose chain ID is present are claimed, the others are extracted from
 * their blobs in one child inside the user namespace and committed in
 * order, each checked against its promised diff ID.  *CHAIN_IDS (when not
 * NULL) gets the chain IDs, NULL-terminated; *DIFF_IDS (when not NULL) the
 * diff IDs.  Layers committed before a failure stay for a later run. */
int image_layers_ensure (struct skiff_context *ctx, struct storage_store *s,
                         const struct image_layer_spec *specs, size_t n, char ***chain_ids,
                         char ***diff_ids, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
