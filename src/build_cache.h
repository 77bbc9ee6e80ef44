/* `build`'s layer cache: which image a build step made from which parent,
 * so that a rebuild reuses it.  The cache entries are images (unnamed
 * "intermediate" images, as podman keeps them); this module keeps only the
 * index that finds them, under <root>/build-cache/:
 *
 *   keys/<hex>     the ID of the image the step with cache key <hex> made
 *   images/<hex>   present when image sha256:<hex> is an intermediate
 *                  image of a build (`images` hides those unless -a)
 *   mounts/<hex>/  RUN --mount=type=cache directories, by sha256 of the id
 *
 * An entry is one small file written atomically, so a lookup costs one
 * open and read, with no scan of the store.  An entry whose image has
 * gone (image prune, rmi) is a miss; build_cache_drop() forgets them all. */
#ifndef SKIFF_SRC_BUILD_CACHE_H
#define SKIFF_SRC_BUILD_CACHE_H

#include <stdbool.h>

#include "libutil/error.h"

/* What identifies a step.  Everything a step's result depends on that its
 * parent image does not already carry (the parent's config holds ENV,
 * WORKDIR, USER, SHELL...). */
struct build_cache_step
{
  const char *parent_id;      /* image ID the step starts from; NULL or "" for scratch */
  const char *instruction;    /* the instruction after expansion, flags included */
  char *const *build_args;    /* "NAME=value" of the ARGs the step sees; NULL-terminated,
                                 may be NULL; order does not matter */
  const char *content_digest; /* COPY/ADD: digest of the sources' contents; else NULL */
};

/* The step's cache key, "sha256:<hex>" (malloc'd): a hash over length-
 * prefixed fields, so no two different steps share an encoding.  Pure. */
char *build_cache_key (const struct build_cache_step *step);

/* The image ID recorded for KEY in the store at ROOT: 0 with *IMAGE_ID
 * NULL when there is none.  Fails only on an unreadable entry. */
int build_cache_lookup (const char *root, const char *key, char **image_id, struct error **err)
    __attribute__ ((warn_unused_result));

/* Record that KEY made IMAGE_ID, and mark IMAGE_ID intermediate. */
int build_cache_record (const char *root, const char *key, const char *image_id, struct error **err)
    __attribute__ ((warn_unused_result));

/* Whether IMAGE_ID ("sha256:<hex>") was made as a build step. */
bool build_cache_is_intermediate (const char *root, const char *image_id);

/* IMAGE_ID is a build's result: `images` shows it even without a name
 * (its key stays, so the step is still reused).  Not being marked is no
 * error. */
int build_cache_unmark (const char *root, const char *image_id, struct error **err)
    __attribute__ ((warn_unused_result));

/* Forget every key and mark (the images themselves are the store's; prune
 * removes them).  The cache mounts stay, as podman keeps them. */
int build_cache_drop (const char *root, struct error **err) __attribute__ ((warn_unused_result));

/* The directory of RUN --mount=type=cache with id ID, created (mode 0755)
 * when missing.  Malloc'd. */
char *build_cache_mount_dir (const char *root, const char *id, struct error **err);

#endif
