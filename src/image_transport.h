/* Image names with a transport prefix, as podman and skopeo write them
 * (containers-transports(5)): "docker://REF" for a registry, and the local
 * ones, "oci:DIR[:REF]", "oci-archive:FILE[:REF]", "docker-archive:FILE
 * [:REF]" and "dir:DIR".  push writes an image to a local transport and
 * pull reads one, through the save and load of image_archive.h. */
#ifndef SKIFF_SRC_IMAGE_TRANSPORT_H
#define SKIFF_SRC_IMAGE_TRANSPORT_H

#include <stdbool.h>

#include "image_archive.h"
#include "libutil/error.h"

enum image_transport
{
  IMAGE_TRANSPORT_DOCKER,         /* docker://REF: a registry */
  IMAGE_TRANSPORT_OCI_DIR,        /* oci:DIR[:REF] */
  IMAGE_TRANSPORT_OCI_ARCHIVE,    /* oci-archive:FILE[:REF] */
  IMAGE_TRANSPORT_DOCKER_ARCHIVE, /* docker-archive:FILE[:REF] */
  IMAGE_TRANSPORT_DIR,            /* dir:DIR */
};

struct image_transport_ref
{
  enum image_transport transport;
  char *path; /* the file or directory; NULL for docker:// */
  char *ref;  /* docker://'s reference, or the optional name or tag after
                 the path (the first ':' ends the path); NULL when absent */
};

/* Split NAME into its transport, path and reference.  Returns 1 when NAME
 * starts with one of the transports above, 0 when it has none (a plain
 * image reference, which *OUT is left zeroed for), negative for
 * "containers-storage:" and other transports skiff does not have, and for
 * an empty path or reference.  Release *OUT with
 * image_transport_ref_clear(). */
int image_transport_parse (const char *name, struct image_transport_ref *out,
                           struct error **err) __attribute__ ((warn_unused_result));
void image_transport_ref_clear (struct image_transport_ref *t);

/* The save/load format of a local transport. */
enum image_archive_format image_transport_format (enum image_transport t);

#endif
