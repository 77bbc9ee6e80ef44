/* The local images as commands see them: opening the store for this
 * invocation, finding an image by what the user typed, and running store
 * work on subordinate-owned files inside the user namespace. */
#ifndef SKIFF_SRC_IMAGES_H
#define SKIFF_SRC_IMAGES_H

#include "cli.h"
#include "storage/storage.h"
#include "userns.h"

/* Open the store at ctx->root.  Writers pass IS_WRITER: the store is then
 * repaired after crashed invocations (cheap when nothing crashed) and left
 * trash is purged in the user namespace. */
int images_open (struct skiff_context *ctx, bool is_writer, struct storage_store **out,
                 struct error **err) __attribute__ ((warn_unused_result));

/* Find the image NAME means: an ID or unique ID prefix, a full name as
 * stored, the normalised reference ("busybox" -> docker.io/library/
 * busybox:latest), or a short name under localhost/ and the search
 * registries, as podman resolves local images.  0 with *OUT NULL when
 * nothing matches; an ambiguous ID prefix is an error. */
int images_find (struct storage_store *s, const char *name, struct storage_image **out,
                 struct error **err) __attribute__ ((warn_unused_result));

/* images_find() that fails with "No such image: NAME" when nothing matches. */
int images_require (struct storage_store *s, const char *name, struct storage_image **out,
                    struct error **err) __attribute__ ((warn_unused_result));

/* The name a stored image gets for what the user typed: the normalised
 * reference as a string, malloc'd ("busybox" -> "docker.io/library/
 * busybox:latest"; "localhost/x" stays).  Fails on an invalid name. */
char *images_normalize_name (const char *name, struct error **err);

/* Remove the store's trash inside the user namespace, when there is any. */
int images_purge_trash (struct skiff_context *ctx, struct storage_store *s,
                        struct error **err) __attribute__ ((warn_unused_result));

/* A storage_image_check_fn (DATA: the skiff_context) refusing to delete
 * an image a container uses: exit code 2 and the container named, as
 * podman says it. */
int images_check_unused (const struct storage_image *img, void *data, struct error **err);

/* Told of each image images_prune() removed, for the caller's output. */
typedef void (*images_pruned_fn) (const struct storage_image *img, void *data);

/* Remove the dangling images (no name and no repo digest: one pulled by
 * digest is named by that), or with IS_ALL every image, skipping those a
 * container uses (read now, so containers just removed hold none); then
 * drop the build cache, whose entries were among them, repair the store
 * and purge its trash.  Each removal is an event and goes to ON_PRUNED
 * (may be NULL) with DATA.  Image prune and system prune share it. */
int images_prune (struct skiff_context *ctx, bool is_all, images_pruned_fn on_pruned, void *data,
                  struct error **err) __attribute__ ((warn_unused_result));

/* Remove every container made from image ID (for rmi -f). */
int images_remove_containers (struct skiff_context *ctx, const char *id, struct error **err)
    __attribute__ ((warn_unused_result));

void images_freep (struct storage_image **img);
#define cleanup_image __attribute__ ((cleanup (images_freep)))

/* The hex part of an ID ("sha256:ab12..." -> "ab12..."), a pointer into
 * ID; tables print the first 12 characters of it. */
const char *images_hex_id (const char *id);

#endif
