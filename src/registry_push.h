/* Uploading to a registry (OCI distribution spec, "Pushing"): blobs with
 * a HEAD check first, a cross-repository mount when another repository of
 * the same registry has the blob, then a monolithic (POST, PUT) or chunked
 * (POST, PATCH..., PUT) upload that follows each Location the registry
 * hands out; manifests last.  Also the pure parts a push needs: resolving
 * a Location, and writing an image manifest in the OCI or Docker schema2
 * format.  The transport is registry.c's client; nothing here logs a
 * secret or an upload URL's query. */
#ifndef SKIFF_SRC_REGISTRY_PUSH_H
#define SKIFF_SRC_REGISTRY_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libutil/error.h"
#include "libutil/sha256.h"
#include "manifest.h"
#include "registry.h"

/* The longest Location we follow. */
#define REGISTRY_PUSH_LOCATION_MAX 8192

enum registry_push_result
{
  REGISTRY_PUSH_UPLOADED, /* the bytes went up */
  REGISTRY_PUSH_EXISTS,   /* the repository had it (HEAD) */
  REGISTRY_PUSH_MOUNTED,  /* mounted from another repository */
};

struct registry_push_blob_req
{
  const char *digest;     /* "sha256:<hex>" of the content */
  uint64_t size;
  int fd;                 /* the content, read with pread() from offset 0 */
  /* Another repository of the same registry that may have the blob
   * ("library/busybox"), or NULL: tried as a mount before uploading. */
  const char *mount_from;
  /* 0: one PUT with the whole blob; otherwise PATCH chunks of at most this
   * many bytes, then an empty PUT. */
  uint64_t chunk_size;
  registry_progress_fn progress; /* bytes sent, may be NULL */
  void *progress_data;
};

/* Make the client's repository hold REQ's blob.  A blob the repository
 * has is not sent; a mount that the registry refuses or answers with an
 * upload session falls back to the upload.  An upload that fails on the
 * way (connection, 429, 5xx) starts over with a new session, up to the
 * client's retry count.  The registry's Docker-Content-Digest, when it
 * sends one, must be REQ's digest.  *RESULT says what happened.  The
 * client needs push access (registry_options.want_push). */
int registry_push_blob (struct registry_client *c, const struct registry_push_blob_req *req,
                        enum registry_push_result *result, struct error **err)
    __attribute__ ((warn_unused_result));

/* Ask the registry to mount blob DIGEST from repository FROM (of the same
 * registry) into the client's repository, without any content at hand:
 * 1 when the repository has the blob now (or had it), 0 when the registry
 * cannot mount it (the upload session it opened instead is cancelled). */
int registry_push_mount (struct registry_client *c, const char *digest, const char *from,
                         struct error **err) __attribute__ ((warn_unused_result));

/* PUT LEN bytes of DATA as the manifest REFERENCE (a tag or a digest) of
 * the client's repository, with MEDIA_TYPE as its Content-Type.  DIGEST
 * gets the sha256 of DATA, which the registry's Docker-Content-Digest must
 * equal when it sends one. */
int registry_push_manifest (struct registry_client *c, const char *reference, const char *data,
                            size_t len, const char *media_type,
                            char digest[SHA256_DIGEST_STR_LEN], struct error **err)
    __attribute__ ((warn_unused_result));

/* ---- pure parts (exported for the unit tests) ---- */

/* The absolute URL a Location header means (RFC 7231: relative to the URL
 * of the request it answered, REQUEST_URL, an absolute http(s) URL): an
 * absolute URL as it is, "//host/p" with the request's scheme, "/p" on the
 * request's scheme and host, "p" beside the request path's last segment.
 * The query string is kept, a fragment dropped.  Empty values, values
 * longer than REGISTRY_PUSH_LOCATION_MAX and bytes outside printable ASCII
 * (spaces included) are errors.  Malloc'd. */
char *registry_push_resolve_location (const char *request_url, const char *location,
                                      struct error **err);

/* URL with PARAM ("digest=sha256:...") added to its query string: after
 * "&" when it has one, else after "?".  Malloc'd. */
char *registry_push_url_add_query (const char *url, const char *param);

/* The layer media type for compression C in a Docker schema2 (IS_DOCKER)
 * or an OCI manifest; NULL for zstd in Docker schema2, which has none. */
const char *registry_push_layer_media_type (enum manifest_compression c, bool is_docker);

/* A Docker schema2 (IS_DOCKER) or OCI image manifest for CONFIG (digest and
 * size used) and the N LAYERS (digest, size and compression used), with
 * the media types of that format, serialised compactly.  Fails when a
 * layer's compression has no media type in that format. */
char *registry_push_make_manifest (bool is_docker, const struct manifest_descriptor *config,
                                   const struct manifest_descriptor *layers, size_t n,
                                   struct error **err);

#endif
