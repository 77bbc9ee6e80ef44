/* Named volumes: directories under <root>/volumes/<name>/_data with a
 * volume.json beside, created on first use or by `volume create`. */
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

/* Every volume name, sorted. */
char **volumes_list (struct skiff_context *ctx, struct error **err);

/* Remove volume NAME (its data may belong to subordinate IDs: removed in
 * the user namespace).  Refuses one a container uses unless IS_FORCE. */
int volumes_remove (struct skiff_context *ctx, const char *name, bool is_force,
                    struct error **err) __attribute__ ((warn_unused_result));

/* Names of the volumes containers use, NULL-terminated. */
char **volumes_in_use (struct skiff_context *ctx, struct error **err);

/* Turn M (a RUNTIME_MOUNT_VOLUME of container C) into a bind of the
 * volume's directory, creating the volume on first use. */
int volumes_resolve (struct skiff_context *ctx, struct container *c, struct runtime_mount *m,
                     struct error **err) __attribute__ ((warn_unused_result));

/* Whether S is a valid volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
bool volumes_name_valid (const char *s);

#endif
