/* How much disk a container's writable layer uses (ps -s). */
#ifndef SKIFF_SRC_CONTAINER_SIZE_H
#define SKIFF_SRC_CONTAINER_SIZE_H

#include <stdint.h>

#include "cli.h"
#include "container.h"

/* For each of the N containers in V: the bytes of its writable layer in
 * RW[i] and of its image in IMAGE[i].  The layer may hold directories of
 * subordinate IDs, so the walk runs inside the user namespace.  Sizes of
 * what cannot be read count as 0. */
int container_size_compute (struct skiff_context *ctx, struct container **v, size_t n,
                            uint64_t *rw, uint64_t *image, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
