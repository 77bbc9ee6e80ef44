/* The registry client (OCI distribution spec over libcurl): one client per
 * registry host and repository.  It finds out how to talk to the registry
 * (https, or plain http for an insecure one), authenticates as the
 * registry's challenge asks (Bearer token or Basic, credentials from the
 * caller or from the auth files), fetches manifests and blobs with digest
 * verification, retries transient failures, and downloads several blobs
 * in parallel.  Mirrors and registries.conf are the caller's business: the
 * client talks to exactly the host it is given.  Nothing here logs a
 * secret; debug lines name URLs without their query.
 *
 * Not thread-safe: one client is used by one thread.  Never use it after
 * fork.  libcurl is initialised on the first registry_client_new(). */
#ifndef SKIFF_SRC_REGISTRY_H
#define SKIFF_SRC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libutil/error.h"
#include "libutil/sha256.h"
#include "registry_auth.h"

struct registry_options
{
  /* --tls-verify=false or an insecure registry: try https without
   * certificate verification, then fall back to plain http. */
  bool is_insecure;
  /* --cert-dir: CA certificates (*.crt) and a client certificate and key
   * (NAME.cert, NAME.key).  NULL: certs.d/HOST under
   * ~/.config/containers (rootless only), /etc/containers, /etc/docker,
   * the first that exists. */
  const char *cert_dir;
  /* --creds; NULL: look the registry up in the auth files. */
  const struct registry_creds *creds;
  /* --authfile; NULL: podman's defaults (see registry_auth_lookup()). */
  const char *authfile;
  /* Ask for push access too (the token scope "pull,push"). */
  bool want_push;
  /* More token scopes to ask for up front, NULL-terminated, or NULL:
   * "repository:other/repo:pull" lets a push mount that repository's blobs
   * without a second token round trip. */
  const char *const *extra_scopes;
  unsigned max_parallel;   /* blob transfers at once; 0: 6 */
  unsigned max_retries;    /* per request after the first try; 0: 3 */
  unsigned retry_delay_ms; /* first backoff, doubling; 0: 1000 */
};

struct registry_client; /* opaque */

/* A client for REPOSITORY ("library/busybox"; may be NULL for a client that
 * only pings, as login does) on REGISTRY ("docker.io", "127.0.0.1:5000";
 * docker.io is reached at registry-1.docker.io).  Copies what it needs of
 * OPTS.  Fails on a malformed host or repository and on unreadable
 * certificates.  No network traffic happens until the first request. */
struct registry_client *registry_client_new (const char *registry, const char *repository,
                                             const struct registry_options *opts,
                                             struct error **err);
void registry_client_free (struct registry_client *c);
void registry_client_freep (struct registry_client **c);
#define cleanup_registry_client __attribute__ ((cleanup (registry_client_freep)))

/* GET /v2/, authenticating as the registry asks: succeeds when the registry
 * answers 200, which with credentials means they were accepted (what
 * `login` checks). */
int registry_ping (struct registry_client *c, struct error **err)
    __attribute__ ((warn_unused_result));

/* A manifest as the registry sent it. */
struct registry_manifest
{
  char *data;
  size_t len;
  char *media_type;                     /* Content-Type without parameters, or NULL */
  char digest[SHA256_DIGEST_STR_LEN];   /* sha256 of DATA, computed here */
};

void registry_manifest_clear (struct registry_manifest *m);

/* GET /v2/REPO/manifests/REFERENCE (a tag or a "sha256:" digest), accepting
 * every manifest and index type (manifest.h MANIFEST_ACCEPT), at most
 * MANIFEST_MAX_SIZE bytes.  The digest of the bytes is computed; it must
 * equal REFERENCE when that is a digest and the Docker-Content-Digest
 * header when the registry sends one.  Fails with the registry's own
 * message ("manifest unknown") on an error status. */
int registry_get_manifest (struct registry_client *c, const char *reference,
                           struct registry_manifest *out, struct error **err)
    __attribute__ ((warn_unused_result));

/* GET a blob into memory (configs): at most MAX bytes, and its sha256 must
 * equal DIGEST.  *DATA is malloc'd and NUL-terminated. */
int registry_get_blob (struct registry_client *c, const char *digest, size_t max, char **data,
                       size_t *len, struct error **err) __attribute__ ((warn_unused_result));

/* HEAD a blob: returns 1 when the registry has it (*SIZE gets its
 * Content-Length when known, else -1; SIZE may be NULL), 0 when it does not
 * (404), negative on other failures. */
int registry_blob_exists (struct registry_client *c, const char *digest, int64_t *size,
                          struct error **err) __attribute__ ((warn_unused_result));

/* Called as bytes of a blob arrive, and with DONE 0 when a retry restarts
 * it.  TOTAL is the expected size, 0 when unknown. */
typedef void (*registry_progress_fn) (void *opaque, uint64_t done, uint64_t total);

struct registry_blob_req
{
  const char *digest;   /* "sha256:..." */
  int64_t size;         /* expected size, -1 when unknown */
  const char *path;     /* destination file, created (0600) or truncated */
  int fd;               /* used when PATH is NULL: a regular file opened
                           for writing; written from offset 0, truncated on
                           a retry, never closed here */
  registry_progress_fn progress; /* may be NULL */
  void *progress_data;
};

/* Download N blobs, up to max_parallel at once (curl multi interface),
 * streaming each into its file while hashing it.  A blob counts only when
 * its size (if given) and sha256 match; a blob growing beyond its expected
 * size is cut off at once.  Redirects to storage hosts are followed, and
 * the registry's credentials are not sent to another host.  Connection
 * errors, 429 and 5xx replies and short bodies are retried with backoff,
 * restarting the blob from zero; an expired token is renewed.  Stops at the
 * first blob that fails for good and returns its error; files of blobs not
 * verified may then hold partial data (the caller removes them).  Files are
 * not fsynced. */
int registry_fetch_blobs (struct registry_client *c, const struct registry_blob_req *reqs,
                          size_t n, struct error **err) __attribute__ ((warn_unused_result));

#endif
