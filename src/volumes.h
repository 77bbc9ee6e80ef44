/* Named volumes: directories under <root>/volumes/<name>/_data with a
 * volume.json beside (docker's inspect object plus podman's NeedsCopyUp),
 * created on first use or by `volume create`. */
#ifndef SKIFF_SRC_VOLUMES_H
#define SKIFF_SRC_VOLUMES_H

#include <json-c/json.h>
#include <stdbool.h>

#include "cli.h"
#include "container.h"
#include "runtime.h"

/* Create volume NAME (NULL: an anonymous one with a random name) with
 * LABELS ("k=v" vector, may be NULL).  An existing name is an error unless
 * IS_IGNORE_EXISTING.  *NAME_OUT (when not NULL) gets the name. */
int volumes_create (struct skiff_context *ctx, const char *name, char **labels,
                    bool is_ignore_existing, char **name_out, struct error **err)
    __attribute__ ((warn_unused_result));

/* docker's volume inspect object, or NULL with "no such volume" in *err. */
json_object *volumes_inspect (struct skiff_context *ctx, const char *name, struct error **err);

/* Whether volume NAME exists (a valid name with its volume.json). */
bool volumes_exists (struct skiff_context *ctx, const char *name);

/* Every volume name, sorted. */
char **volumes_list (struct skiff_context *ctx, struct error **err);

/* Remove volume NAME (its data may belong to subordinate IDs: removed in
 * the user namespace).  Refuses one a container uses unless IS_FORCE, with
 * podman's message naming the containers and exit code 2. */
int volumes_remove (struct skiff_context *ctx, const char *name, bool is_force,
                    struct error **err) __attribute__ ((warn_unused_result));

/* The volumes container C uses: the named ones of its -v and --mount
 * options and those its starts recorded (anonymous ones included),
 * NULL-terminated, without repeats.  Never fails. */
char **volumes_of_container (struct container *c);

/* Names of the volumes any container uses, NULL-terminated. */
char **volumes_in_use (struct skiff_context *ctx, struct error **err);

/* The containers that use volume NAME, NULL-terminated (free with
 * container_vec_free()). */
int volumes_users (struct skiff_context *ctx, const char *name, struct container ***out,
                   struct error **err) __attribute__ ((warn_unused_result));

/* Turn M (a RUNTIME_MOUNT_VOLUME of container C) into a bind of the
 * volume's directory, creating the volume on first use; an anonymous
 * volume is made once per destination and reused by later starts.  The
 * volume is recorded in C's config.json (C must be locked by the caller).
 * M->is_copy_up is set while the volume is new and M does not say nocopy. */
int volumes_resolve (struct skiff_context *ctx, struct container *c, struct runtime_mount *m,
                     struct error **err) __attribute__ ((warn_unused_result));

/* After C started: its volumes are no longer new, so later containers do
 * not copy their image's files in.  Failures are logged, not returned. */
void volumes_copy_up_done (struct skiff_context *ctx, struct container *c);

/* Remove the anonymous volumes C made (rm -v, --rm); named ones stay.
 * Failures are logged, not returned: the container is gone already. */
void volumes_remove_anonymous (struct skiff_context *ctx, struct container *c);

/* Whether S is a valid volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
bool volumes_name_valid (const char *s);

#endif
