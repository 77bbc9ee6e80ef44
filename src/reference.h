/* Image references ("busybox", "quay.io/a/b:tag", "host:5000/x@sha256:...")
 * parsed and normalised the way docker does (distribution/reference):
 * "busybox" is "docker.io/library/busybox:latest".  Also the helpers that
 * tell a short name (no registry given) and an image ID prefix apart. */
#ifndef SKIFF_SRC_REFERENCE_H
#define SKIFF_SRC_REFERENCE_H

#include <stdbool.h>

#include "libutil/error.h"

/* Longest repository name, registry included ("docker.io/library/x"). */
#define REFERENCE_NAME_MAX 255
#define REFERENCE_TAG_MAX 128

struct image_ref
{
  char *registry;   /* "docker.io", "127.0.0.1:5000", "localhost" */
  char *repository; /* "library/busybox" */
  char *tag;        /* NULL when only a digest was given; "latest" when neither */
  char *digest;     /* "sha256:<64 hex>" or NULL */
};

/* Parse and normalise S into *OUT (which the caller releases with
 * reference_free()).  The first path component is the registry when it
 * contains '.' or ':', is "localhost", or has upper case letters; otherwise
 * the registry is docker.io, and a one-component name there gets
 * "library/".  "index.docker.io" becomes "docker.io".  A name:tag@digest
 * keeps both.  Only sha256 digests are accepted.  Fails with
 * 'invalid reference format "S": <why>' and leaves *OUT zeroed. */
int reference_parse (const char *s, struct image_ref *out, struct error **err)
    __attribute__ ((warn_unused_result));

/* True when S names no registry ("busybox", "library/busybox:1",
 * "x@sha256:..."): such names are resolved through registries.conf aliases
 * and unqualified-search-registries.  Only meaningful for strings that
 * reference_parse() accepts; "docker.io/busybox" is not short. */
bool reference_is_short_name (const char *s);

/* True when S can be an image ID or a unique prefix of one: 3 to 64 lower
 * case hex characters, optionally after "sha256:" (callers strip that
 * prefix before matching). */
bool reference_looks_like_id (const char *s);

/* Grammar checks, for registries.conf and for building references:
 * host[:port] (domain name, IPv4, or [IPv6]); a tag; a "sha256:<hex>"
 * digest. */
bool reference_is_valid_domain (const char *s);
bool reference_is_valid_tag (const char *s);
bool reference_is_valid_digest (const char *s);

/* "docker.io/library/busybox:latest", "host/a@sha256:...",
 * "host/a:t@sha256:...".  Newly allocated. */
char *reference_to_string (const struct image_ref *r);

/* "registry/repository", without tag or digest.  Newly allocated. */
char *reference_repo_string (const struct image_ref *r);

/* Docker's short display form: "busybox:latest", "user/app:1",
 * "quay.io/a/b:t" (docker.io and its "library/" are dropped).  Newly
 * allocated. */
char *reference_familiar (const struct image_ref *r);

/* Deep copy of SRC into *DST (release with reference_free()). */
void reference_copy (const struct image_ref *src, struct image_ref *dst);

/* Release the strings of R and zero it; R itself is not freed. */
void reference_free (struct image_ref *r);

#define cleanup_image_ref __attribute__ ((cleanup (reference_free)))

#endif
