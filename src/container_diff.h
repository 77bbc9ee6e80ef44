/* `diff`: a container's changes (container_changes.h) read where the
 * files of its writable layer are readable, in docker's order. */
#ifndef SKIFF_SRC_CONTAINER_DIFF_H
#define SKIFF_SRC_CONTAINER_DIFF_H

#include "cli.h"
#include "container.h"
#include "container_changes.h"

/* `diff`: container C's changes in docker's order (C stopped or running). */
int container_diff (struct skiff_context *ctx, struct container *c, struct container_changes *out,
                    struct error **err) __attribute__ ((warn_unused_result));

#endif
