/* Blob and manifest uploads, as the distribution spec's "Pushing" section
 * describes them:
 *
 * 1. HEAD /v2/REPO/blobs/DIGEST: the repository has it, nothing to do
 * 2. POST /v2/REPO/blobs/uploads/?mount=DIGEST&from=OTHER when another
 *    repository of the registry may have it: 201 is a mount; 202 (the
 *    registry could not mount) is an upload session we go on with
 * 3. POST /v2/REPO/blobs/uploads/: 202 with the session's Location
 * 4. monolithic: PUT LOCATION?digest=DIGEST with the whole blob; chunked:
 *    PATCH LOCATION with Content-Range per chunk, each answer giving the
 *    next Location, then PUT LOCATION?digest=DIGEST without a body
 * 5. manifests last: PUT /v2/REPO/manifests/REF with their Content-Type
 *
 * A Location may be absolute or relative and carries the registry's own
 * query string (docker-registry keeps the session state there), so it is
 * resolved against the URL of the request it answered and extended, never
 * rebuilt.  Requests that append to a session are not retried blindly: a
 * session that fails on the way is abandoned and the upload starts over. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "libutil/buf.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "reference.h"
#include "registry_internal.h"
#include "registry_push.h"

#define OCTET_STREAM "application/octet-stream"
#define LAYER_DOCKER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define LAYER_DOCKER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define LAYER_OCI_TAR "application/vnd.oci.image.layer.v1.tar"
#define LAYER_OCI_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define LAYER_OCI_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

/* ---- URLs ---------------------------------------------------------------- */

static bool
is_url_text (const char *s)
{
  for (; *s; s++)
    if (*s <= ' ' || *s >= 127)
      return false;
  return true;
}

/* The length of "scheme://host[:port]" at the start of URL, 0 when URL is
 * not an absolute http(s) URL with a host. */
static size_t
origin_len (const char *url)
{
  const char *rest;
  size_t host;

  if (strncasecmp (url, "https://", 8) == 0)
    rest = url + 8;
  else if (strncasecmp (url, "http://", 7) == 0)
    rest = url + 7;
  else
    return 0;
  host = strcspn (rest, "/?#");
  return host == 0 ? 0 : (size_t) (rest - url) + host;
}

char *
registry_push_resolve_location (const char *request_url, const char *location,
                                struct error **err)
{
  size_t len = strlen (location), olen = origin_len (request_url);
  cleanup_free char *loc = NULL;
  const char *path, *slash;

  if (len == 0)
    return err_make (err, 0, "the registry sent an empty Location"), NULL;
  if (len > REGISTRY_PUSH_LOCATION_MAX || !is_url_text (location))
    return err_make (err, 0, "the registry sent an invalid Location"), NULL;
  if (olen == 0)
    return err_make (err, 0, "\"%.100s\" is not an absolute URL", request_url), NULL;
  loc = xstrndup (location, strcspn (location, "#"));
  if (origin_len (loc) > 0)
    return steal_ptr (&loc);
  if (strncasecmp (loc, "http:", 5) == 0 || strncasecmp (loc, "https:", 6) == 0)
    return err_make (err, 0, "the registry sent an invalid Location"), NULL;
  if (loc[0] == '/' && loc[1] == '/')
    return xasprintf ("%.*s%s", (int) (strstr (request_url, "//") - request_url), request_url,
                      loc);
  if (loc[0] == '/')
    return xasprintf ("%.*s%s", (int) olen, request_url, loc);
  /* A relative path replaces the last segment of the request's path. */
  path = request_url + olen;
  slash = NULL;
  for (const char *p = path; *p && *p != '?' && *p != '#'; p++)
    if (*p == '/')
      slash = p;
  if (slash == NULL)
    return xasprintf ("%.*s/%s", (int) olen, request_url, loc);
  return xasprintf ("%.*s%s", (int) (slash + 1 - request_url), request_url, loc);
}

char *
registry_push_url_add_query (const char *url, const char *param)
{
  return xasprintf ("%s%c%s", url, strchr (url, '?') ? '&' : '?', param);
}

/* A URL for a log line: without the query, which holds session state. */
static char *
shown_url (const char *url)
{
  return xstrndup (url, strcspn (url, "?#"));
}

/* A repository name is put into a query string: it must be one, which the
 * reference grammar (lower case, digits, separators) guarantees. */
static bool
is_repository_name (const char *s)
{
  size_t n = strlen (s);

  if (n == 0 || n > REFERENCE_NAME_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
          || strchr ("._-/", s[i])))
      return false;
  return true;
}

/* ---- blobs ------------------------------------------------------------------ */

struct upload
{
  struct registry_client *c;
  const struct registry_push_blob_req *req;
  const char *base;        /* "https://host" */
  char *location;          /* the session's current absolute URL */
  uint64_t offset;         /* chunk progress */
  bool is_transient;       /* the last failure may pass on another try */
};

static void
on_chunk_progress (void *opaque, uint64_t done, uint64_t total)
{
  struct upload *u = opaque;

  (void) total;
  if (u->req->progress)
    u->req->progress (u->req->progress_data, u->offset + done, u->req->size);
}

static void
sleep_ms (uint64_t ms)
{
  struct timespec ts = { (time_t) (ms / 1000), (long) (ms % 1000) * 1000000L };

  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* A reply status that is worth a new session. */
static bool
is_transient_status (long status)
{
  return status == 429 || status >= 500;
}

/* A request that got no reply at all (connection trouble, retries used
 * up) may pass later; a file we cannot read will not. */
static int
no_reply (struct upload *u, struct error **err)
{
  u->is_transient = (*err)->errnum == 0;
  return -1;
}

static int
bad_reply (struct upload *u, const char *what, const struct registry_reply *r, struct error **err)
{
  u->is_transient = is_transient_status (r->status);
  return err_make (err, 0, "%s: %s", what,
                   r->message ? r->message : "unexpected reply from the registry");
}

/* Take the Location of reply R to the request on URL as the session's. */
static int
follow_location (struct upload *u, const char *url, const struct registry_reply *r,
                 struct error **err)
{
  char *next;

  if (r->location == NULL)
    return err_make (err, 0, "the registry sent no upload Location (HTTP %ld)", r->status);
  next = registry_push_resolve_location (url, r->location, err);
  if (next == NULL)
    return -1;
  free (u->location);
  u->location = next;
  return 0;
}

/* POST an upload session (or a mount).  Returns 1 when the blob was
 * mounted, 0 with u->location set for an upload. */
static int
start_session (struct upload *u, const char *mount_from, struct error **err)
{
  const struct registry_push_blob_req *q = u->req;
  const char *repo = registry_client_repository (u->c);
  cleanup_free char *path = NULL, *url = NULL;
  struct registry_reply r = { 0 };
  int ret = 0;

  if (mount_from)
    path = xasprintf ("/v2/%s/blobs/uploads/?mount=%s&from=%s", repo, q->digest, mount_from);
  else
    path = xasprintf ("/v2/%s/blobs/uploads/", repo);
  url = xasprintf ("%s%s", u->base, path);
  if (registry_send (u->c, "POST", path, NULL, NULL, true, &r, err) < 0)
    return no_reply (u, err);
  if (mount_from && r.status == 201)
    ret = 1;
  else if (r.status == 202)
    ret = follow_location (u, url, &r, err);
  else
    ret = bad_reply (u, "start the upload", &r, err);
  registry_reply_clear (&r);
  return ret;
}

/* The registry's own digest of what it stored, when it says. */
static int
check_digest_header (const struct registry_reply *r, const char *digest, struct error **err)
{
  if (r->docker_digest && str_has_prefix (r->docker_digest, "sha256:")
      && strcmp (r->docker_digest, digest) != 0)
    return err_make (err, 0, "the registry stored digest %.80s, not %s", r->docker_digest,
                     digest);
  return 0;
}

/* PUT LOCATION?digest=: with the rest of the blob (BODY) or nothing. */
static int
finish_session (struct upload *u, const struct registry_body *body, struct error **err)
{
  const struct registry_push_blob_req *q = u->req;
  cleanup_free char *param = xasprintf ("digest=%s", q->digest);
  cleanup_free char *url = registry_push_url_add_query (u->location, param);
  struct registry_reply r = { 0 };
  int ret;

  if (registry_send (u->c, "PUT", url, OCTET_STREAM, body, false, &r, err) < 0)
    return no_reply (u, err);
  if (r.status == 201)
    ret = check_digest_header (&r, q->digest, err);
  else
    ret = bad_reply (u, "complete the upload", &r, err);
  registry_reply_clear (&r);
  return ret;
}

/* The registry's Range after a chunk ("0-N", some registries write
 * "bytes=0-N") must say it holds every byte sent so far, END included. */
static int
check_range (const struct registry_reply *r, uint64_t end, struct error **err)
{
  const char *s = r->range;
  char *rest;
  unsigned long long last;

  if (s == NULL)
    return 0;
  if (str_has_prefix (s, "bytes="))
    s += 6;
  if (strncmp (s, "0-", 2) != 0)
    return err_make (err, 0, "upload a chunk: the registry sent an invalid Range");
  errno = 0;
  last = strtoull (s + 2, &rest, 10);
  if (errno != 0 || rest == s + 2 || *rest != '\0')
    return err_make (err, 0, "upload a chunk: the registry sent an invalid Range");
  if (last != end)
    return err_make (err, 0, "upload a chunk: the registry holds bytes 0-%llu, not 0-%" PRIu64,
                     last, end);
  return 0;
}

/* One PATCH of bytes [u->offset, u->offset + len). */
static int
send_chunk (struct upload *u, uint64_t len, struct error **err)
{
  cleanup_free char *range = xasprintf ("%" PRIu64 "-%" PRIu64, u->offset, u->offset + len - 1);
  cleanup_free char *url = xstrdup (u->location);
  struct registry_body body = {
    .fd = u->req->fd, .offset = u->offset, .len = len, .range = range,
    .progress = on_chunk_progress, .progress_data = u,
  };
  struct registry_reply r = { 0 };
  int ret;

  if (registry_send (u->c, "PATCH", url, OCTET_STREAM, &body, false, &r, err) < 0)
    return no_reply (u, err);
  if (r.status != 202)
    ret = bad_reply (u, "upload a chunk", &r, err);
  else if ((ret = check_range (&r, u->offset + len - 1, err)) == 0)
    ret = follow_location (u, url, &r, err);
  registry_reply_clear (&r);
  if (ret == 0)
    u->offset += len;
  return ret;
}

static int
upload_monolithic (struct upload *u, struct error **err)
{
  struct registry_body body = {
    .fd = u->req->fd, .len = u->req->size,
    .progress = u->req->progress, .progress_data = u->req->progress_data,
  };

  return finish_session (u, &body, err);
}

static int
upload_chunked (struct upload *u, struct error **err)
{
  const struct registry_push_blob_req *q = u->req;

  u->offset = 0;
  while (u->offset < q->size)
    {
      uint64_t left = q->size - u->offset;
      if (send_chunk (u, left < q->chunk_size ? left : q->chunk_size, err) < 0)
        return -1;
    }
  return finish_session (u, NULL, err);
}

/* Try the mount: 1 when it worked, 0 with a session to upload into (the
 * registry's answer to a mount it cannot do), negative on failure.  A
 * refusal (no pull access to the other repository, say) is no failure:
 * *MOUNT_FROM is cleared, so no later attempt asks again, and a plain
 * session is started. */
static int
try_mount (struct upload *u, const char **mount_from, struct error **err)
{
  int r = start_session (u, *mount_from, err);

  if (r >= 0 || u->is_transient)
    return r;
  log_debug ("blob %s: mount from %s refused: %s", u->req->digest, *mount_from, (*err)->msg);
  err_release (err);
  *mount_from = NULL;
  return start_session (u, NULL, err);
}

/* One attempt: a session (or a mount) and the upload. */
static int
upload_once (struct upload *u, const char **mount_from, enum registry_push_result *result,
             struct error **err)
{
  int r;

  u->is_transient = false;
  r = *mount_from ? try_mount (u, mount_from, err) : start_session (u, NULL, err);
  if (r < 0)
    return -1;
  if (r == 1)
    {
      *result = REGISTRY_PUSH_MOUNTED;
      return 0;
    }
  *result = REGISTRY_PUSH_UPLOADED;
  if (u->req->chunk_size > 0 && u->req->size > u->req->chunk_size)
    return upload_chunked (u, err);
  return upload_monolithic (u, err);
}

static int
check_blob_req (const struct registry_push_blob_req *q, struct error **err)
{
  if (!sha256_digest_valid (q->digest))
    return err_make (err, 0, "invalid blob digest \"%.100s\"", q->digest ? q->digest : "");
  if (q->fd < 0)
    return err_make (err, EBADF, "blob %s: no content", q->digest);
  if (q->mount_from && !is_repository_name (q->mount_from))
    return err_make (err, 0, "blob %s: invalid repository \"%.100s\" to mount from", q->digest,
                     q->mount_from);
  return 0;
}

int
registry_push_blob (struct registry_client *c, const struct registry_push_blob_req *req,
                    enum registry_push_result *result, struct error **err)
{
  struct upload u = { .c = c, .req = req };
  const char *mount_from = req->mount_from;
  unsigned max_retries, delay_ms;
  uint64_t wait_ms;
  int r;

  if (check_blob_req (req, err) < 0)
    return -1;
  if (registry_client_repository (c) == NULL)
    return err_make (err, 0, "push blob %s: no repository", req->digest);
  r = registry_blob_exists (c, req->digest, NULL, err);
  if (r < 0)
    return err_wrap (err, "push blob %s", req->digest);
  if (r == 1)
    {
      *result = REGISTRY_PUSH_EXISTS;
      return 0;
    }
  if (mount_from && strcmp (mount_from, registry_client_repository (c)) == 0)
    mount_from = NULL;
  if (registry_client_base (c, &u.base, err) < 0)
    return -1;
  registry_client_retry_policy (c, &max_retries, &delay_ms);
  for (unsigned attempt = 0;; attempt++)
    {
      r = upload_once (&u, &mount_from, result, err);
      if (r == 0 || !u.is_transient || attempt >= max_retries)
        break;
      wait_ms = (uint64_t) delay_ms << (attempt < 16 ? attempt : 16);
      log_warn ("push blob %s: %s, starting over in %" PRIu64 " ms (%u/%u)", req->digest,
                (*err)->msg, wait_ms, attempt + 1, max_retries);
      err_release (err);
      sleep_ms (wait_ms);
    }
  if (r == 0 && *result == REGISTRY_PUSH_MOUNTED)
    log_debug ("blob %s: mounted from %s", req->digest, mount_from);
  else if (r == 0 && log_enabled (LOG_LEVEL_DEBUG))
    {
      cleanup_free char *shown = shown_url (u.location);
      log_debug ("blob %s: uploaded to %s", req->digest, shown);
    }
  free (u.location);
  return r < 0 ? err_wrap (err, "push blob %s", req->digest) : 0;
}

/* An upload session nobody will finish: the registry would keep it until
 * its purge; tell it now.  A failure only costs the registry space. */
static void
cancel_session (struct upload *u)
{
  cleanup_error struct error *e = NULL;
  struct registry_reply r = { 0 };

  if (registry_send (u->c, "DELETE", u->location, NULL, NULL, true, &r, &e) < 0)
    log_debug ("cancel upload: %s", e->msg);
  registry_reply_clear (&r);
}

int
registry_push_mount (struct registry_client *c, const char *digest, const char *from,
                     struct error **err)
{
  struct registry_push_blob_req req = { .digest = digest, .fd = -1, .mount_from = from };
  struct upload u = { .c = c, .req = &req };
  int r;

  if (!sha256_digest_valid (digest))
    return err_make (err, 0, "invalid blob digest \"%.100s\"", digest ? digest : "");
  if (from == NULL || !is_repository_name (from) || registry_client_repository (c) == NULL)
    return err_make (err, 0, "mount blob %s: no valid repository to mount from", digest);
  r = registry_blob_exists (c, digest, NULL, err);
  if (r != 0)
    return r < 0 ? err_wrap (err, "mount blob %s", digest) : 1;
  if (strcmp (from, registry_client_repository (c)) == 0)
    return 0;
  if (registry_client_base (c, &u.base, err) < 0)
    return -1;
  r = start_session (&u, from, err);
  if (r < 0)
    {
      if (u.is_transient)
        return err_wrap (err, "mount blob %s", digest);
      log_debug ("blob %s: mount from %s refused: %s", digest, from, (*err)->msg);
      err_release (err);
      r = 0;
    }
  else if (r == 0)
    cancel_session (&u);
  free (u.location);
  return r;
}

/* ---- manifests ------------------------------------------------------------- */

int
registry_push_manifest (struct registry_client *c, const char *reference, const char *data,
                        size_t len, const char *media_type, char digest[SHA256_DIGEST_STR_LEN],
                        struct error **err)
{
  const char *repo = registry_client_repository (c);
  struct registry_body body = { .data = data, .fd = -1, .len = len };
  struct registry_reply r = { 0 };
  cleanup_free char *path = NULL;
  char hex[SHA256_HEX_LEN + 1];
  int ret = 0;

  if (repo == NULL || !(reference_is_valid_tag (reference) || sha256_digest_valid (reference)))
    return err_make (err, 0, "push manifest \"%.100s\": invalid tag or digest", reference);
  if (len > MANIFEST_MAX_SIZE)
    return err_make (err, 0, "push manifest: %zu bytes is too large", len);
  sha256_buf_hex (data, len, hex);
  snprintf (digest, SHA256_DIGEST_STR_LEN, "sha256:%s", hex);
  if (sha256_digest_valid (reference) && strcmp (reference, digest) != 0)
    return err_make (err, 0, "push manifest: its digest is %s, not %s", digest, reference);
  path = xasprintf ("/v2/%s/manifests/%s", repo, reference);
  if (registry_send (c, "PUT", path, media_type, &body, true, &r, err) < 0)
    return err_wrap (err, "push manifest \"%s\"", reference);
  if (r.status != 201 && r.status != 200)
    ret = err_make (err, 0, "push manifest \"%s\": %s", reference,
                    r.message ? r.message : "unexpected reply from the registry");
  else if (check_digest_header (&r, digest, err) < 0)
    ret = err_wrap (err, "push manifest \"%s\"", reference);
  registry_reply_clear (&r);
  return ret;
}

/* ---- manifest formats ------------------------------------------------------ */

const char *
registry_push_layer_media_type (enum manifest_compression c, bool is_docker)
{
  switch (c)
    {
    case MANIFEST_COMPRESSION_GZIP:
      return is_docker ? LAYER_DOCKER_GZIP : LAYER_OCI_GZIP;
    case MANIFEST_COMPRESSION_ZSTD:
      return is_docker ? NULL : LAYER_OCI_ZSTD;
    case MANIFEST_COMPRESSION_NONE:
      return is_docker ? LAYER_DOCKER_TAR : LAYER_OCI_TAR;
    }
  return NULL;
}

static json_object *
descriptor (const char *media_type, const struct manifest_descriptor *d)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "mediaType", json_object_new_string (media_type));
  json_object_object_add (o, "digest", json_object_new_string (d->digest));
  json_object_object_add (o, "size", json_object_new_int64 (d->size));
  return o;
}

char *
registry_push_make_manifest (bool is_docker, const struct manifest_descriptor *config,
                             const struct manifest_descriptor *layers, size_t n,
                             struct error **err)
{
  cleanup_json json_object *m = json_object_new_object ();
  json_object *a = json_object_new_array ();

  json_object_object_add (m, "schemaVersion", json_object_new_int (2));
  json_object_object_add (m, "mediaType",
                          json_object_new_string (is_docker ? MANIFEST_MT_DOCKER_MANIFEST
                                                            : MANIFEST_MT_OCI_MANIFEST));
  json_object_object_add (m, "config",
                          descriptor (is_docker ? MANIFEST_MT_DOCKER_CONFIG
                                                : MANIFEST_MT_OCI_CONFIG, config));
  json_object_object_add (m, "layers", a);
  for (size_t i = 0; i < n; i++)
    {
      const char *mt = registry_push_layer_media_type (layers[i].compression, is_docker);
      if (mt == NULL)
        return err_make (err, 0, "layer %s is zstd-compressed, which Docker schema2 cannot "
                         "describe: push it with --format oci or --compression-format gzip",
                         layers[i].digest), NULL;
      json_object_array_add (a, descriptor (mt, &layers[i]));
    }
  return jobj_to_string (m, false);
}
