/* Shared between registry.c (the transport) and registry_push.c (uploads)
 * and nothing else: one authenticated request that carries a body, on the
 * client's connection, with its retries and credential renewal.  The
 * public API of both is registry.h and registry_push.h. */
#ifndef SKIFF_SRC_REGISTRY_INTERNAL_H
#define SKIFF_SRC_REGISTRY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libutil/error.h"
#include "registry.h"

/* What a request sends: LEN bytes of DATA in memory (FD negative), or LEN
 * bytes of FD from OFFSET, read with pread() so that a retry can start
 * over.  PROGRESS, when set, hears the bytes sent so far. */
struct registry_body
{
  const char *data;
  int fd;
  uint64_t offset;
  uint64_t len;
  const char *range; /* the Content-Range of a chunk ("0-1023"), or NULL */
  registry_progress_fn progress;
  void *progress_data;
};

/* What came back.  Strings are malloc'd, NULL when absent. */
struct registry_reply
{
  long status;
  char *location;      /* Location */
  char *docker_digest; /* Docker-Content-Digest */
  char *range;         /* Range */
  char *message;       /* for a status >= 400: the registry's error text,
                          printable, "blob unknown (HTTP 404)" */
};

void registry_reply_clear (struct registry_reply *r);

/* METHOD on TARGET, a path on the registry ("/v2/...") or an absolute URL
 * the registry handed out (an upload's Location), with CONTENT_TYPE (may be
 * NULL) and BODY (NULL: empty).  Credentials go with it only when TARGET is
 * on the registry's own scheme, host and port.  Connection failures, 429
 * and 5xx replies are retried with backoff, the body sent again from its
 * start, when CAN_RETRY (a request that appends to an upload must not be
 * repeated blindly); a 401 renews the credentials once.  Returns 0 with
 * *REPLY filled whatever the HTTP status, negative when no reply came (and
 * *REPLY empty). */
int registry_send (struct registry_client *c, const char *method, const char *target,
                   const char *content_type, const struct registry_body *body, bool can_retry,
                   struct registry_reply *reply, struct error **err)
    __attribute__ ((warn_unused_result));

/* "https://host[:port]" (or http for an insecure registry), contacting
 * the registry first when that has not happened yet. */
int registry_client_base (struct registry_client *c, const char **base, struct error **err)
    __attribute__ ((warn_unused_result));

/* How often and how patiently the client retries (registry_options). */
void registry_client_retry_policy (const struct registry_client *c, unsigned *max_retries,
                                   unsigned *retry_delay_ms);

/* The registry and repository the client was made for. */
const char *registry_client_registry (const struct registry_client *c);
const char *registry_client_repository (const struct registry_client *c);

#endif
