/* The JSON shapes of images for `inspect` (docker's keys) and `images
 * --format json` (podman's list entry). */
#ifndef SKIFF_SRC_IMAGE_JSON_H
#define SKIFF_SRC_IMAGE_JSON_H

#include <json-c/json.h>

#include "storage/storage.h"

/* The image's config blob, parsed (it is verified against its digest). */
json_object *image_json_config (struct storage_store *s, const struct storage_image *img,
                                struct error **err);

/* A new object with CONFIG's members (CONFIG may be NULL) and docker's
 * container.Config keys that are not omitempty added where missing, with
 * what docker prints for them unset ("", false, null), so that templates
 * and jq filters written for docker find every key. */
json_object *image_json_docker_config (json_object *config);

/* docker inspect's object for IMG. */
json_object *image_json_inspect (struct storage_store *s, const struct storage_image *img,
                                 struct error **err);

/* podman images --format json's object for IMG. */
json_object *image_json_list_entry (struct storage_store *s, const struct storage_image *img,
                                    struct error **err);

#endif
