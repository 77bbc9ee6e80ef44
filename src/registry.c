/* The registry transport: libcurl handles set up per client (TLS, certs.d,
 * user agent, redirects), the first contact that picks https or http and
 * learns the auth challenge, the token flow, requests with retries, and
 * the parallel blob downloader on the curl multi interface.
 *
 * Credentials only ever reach libcurl through CURLOPT_XOAUTH2_BEARER or
 * CURLOPT_USERNAME/PASSWORD, never as a custom header: libcurl drops those
 * on a redirect to another host, scheme or port (unrestricted_auth is
 * off), which is what keeps registry tokens away from the storage hosts
 * blobs are redirected to. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "libutil/buf.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "manifest.h"
#include "reference.h"
#include "registry.h"
#include "registry_internal.h"

#define DEFAULT_MAX_PARALLEL 6
#define DEFAULT_MAX_RETRIES 3
#define DEFAULT_RETRY_DELAY_MS 1000
/* Longest wait we accept from Retry-After or backoff before giving up. */
#define MAX_RETRY_WAIT_MS (60 * 1000)
#define ERROR_BODY_MAX (64 * 1024)
#define TOKEN_REPLY_MAX (1u << 20)
#define HEADER_VALUE_MAX 8192
#define CERT_FILE_MAX (1u << 20)
/* A stalled transfer (under 1 byte/s for this long) is a transient error. */
#define LOW_SPEED_TIME_S 60
#define CONNECT_TIMEOUT_S 30

struct registry_client
{
  char *registry;   /* as named: the key for credentials and certs.d */
  char *host;       /* host[:port] we connect to */
  char *repository; /* NULL for a ping-only client */
  char *base;       /* "https://host" once the first contact decided */
  char *authfile;
  bool is_insecure;
  bool want_push;
  char **extra_scopes; /* NULL-terminated, or NULL */
  unsigned max_parallel;
  unsigned max_retries;
  unsigned retry_delay_ms;

  char *ca_pem;      /* system bundle plus certs.d *.crt, NULL: defaults */
  size_t ca_pem_len;
  char *client_cert; /* certs.d NAME.cert and NAME.key paths */
  char *client_key;

  struct registry_creds creds;
  bool has_creds;
  bool creds_resolved; /* explicit, or the auth files were searched */

  struct registry_challenge challenge; /* scheme NONE: open registry */
  char *token;
  uint64_t token_deadline_ms;
  unsigned token_generation; /* counts renewals, see finish_transfer() */

  CURL *easy;      /* reused for sequential requests: keeps connections */
  CURLSH *share;   /* DNS and TLS sessions shared with blob transfers */
  char *user_agent;
};

/* What we keep of an HTTP response. */
struct response
{
  long status;
  struct buf body;
  size_t max_body;
  bool is_too_large;
  char *content_type;
  char *docker_digest;
  char *www_authenticate;
  char *retry_after;
  char *location;
  char *range;
  int64_t content_length;
};

static void
response_reset_headers (struct response *r)
{
  free (r->content_type);
  free (r->docker_digest);
  free (r->www_authenticate);
  free (r->retry_after);
  free (r->location);
  free (r->range);
  r->content_type = r->docker_digest = r->www_authenticate = r->retry_after = NULL;
  r->location = r->range = NULL;
  r->content_length = -1;
}

static void
response_clear (struct response *r)
{
  response_reset_headers (r);
  buf_free (&r->body);
  r->status = 0;
  r->is_too_large = false;
}

static uint64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms (uint64_t ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* URL for a log line: the query may carry signatures (redirects to
 * storage) or scopes, so it is cut off. */
static char *
url_for_log (const char *url)
{
  return xstrndup (url, strcspn (url, "?#"));
}

/* Printable ASCII of at most 200 characters from a registry's message:
 * the text ends up on the user's terminal. */
static char *
sanitize (const char *s)
{
  struct buf b = BUF_INIT;

  for (; *s && b.len < 200; s++)
    buf_append_char (&b, (*s >= ' ' && *s < 127) ? *s : '?');
  return buf_steal (&b);
}

/* The registry's explanation of an error reply: the first "message" (or
 * "code") of the distribution spec's {"errors": [...]}, else "HTTP N". */
static char *
error_text (const struct response *r)
{
  cleanup_json json_object *o = NULL;
  json_object *errors, *first;
  const char *msg = NULL;

  if (r->body.len > 0)
    o = jobj_parse (r->body.data, r->body.len, "error reply", NULL);
  errors = o ? jobj_get_array (o, "errors") : NULL;
  first = errors && json_object_array_length (errors) > 0 ? json_object_array_get_idx (errors, 0)
                                                           : NULL;
  if (first && json_object_is_type (first, json_type_object))
    {
      msg = jobj_get_string (first, "message");
      if (msg == NULL || *msg == '\0')
        msg = jobj_get_string (first, "code");
    }
  if (msg && *msg)
    {
      cleanup_free char *clean = sanitize (msg);
      return xasprintf ("%s (HTTP %ld)", clean, r->status);
    }
  return xasprintf ("HTTP %ld", r->status);
}

/* ---- validation of names that go into URLs ----------------------------- */

/* Hosts, tags and digests follow reference.h's grammar.  A repository is
 * lower case alphanumerics with separators (".", "_", "-", "/") only between
 * them, which also keeps it a plain URL path: no "..", no empty component. */
static bool
is_valid_repository (const char *s)
{
  size_t len = strlen (s);

  if (len == 0 || len > REFERENCE_NAME_MAX)
    return false;
  for (size_t i = 0; i < len; i++)
    {
      bool is_alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
      bool at_edge = i == 0 || s[i - 1] == '/' || i == len - 1 || s[i + 1] == '/';

      if (!is_alnum && (at_edge || strchr ("._-/", s[i]) == NULL))
        return false;
    }
  return true;
}

/* ---- certs.d ----------------------------------------------------------- */

static int
filter_cert_files (const struct dirent *d)
{
  return str_has_suffix (d->d_name, ".crt") || str_has_suffix (d->d_name, ".cert")
         || str_has_suffix (d->d_name, ".key");
}

static char *
find_cert_dir (struct registry_client *c, const char *cert_dir)
{
  cleanup_free char *user = NULL;
  const char *home = getenv ("HOME");
  const char *candidates[3];
  size_t n = 0;

  if (cert_dir)
    return xstrdup (cert_dir);
  /* As podman: the user's directory only when rootless. */
  if (geteuid () != 0 && home && *home)
    user = xasprintf ("%s/.config/containers/certs.d", home);
  if (user)
    candidates[n++] = user;
  candidates[n++] = "/etc/containers/certs.d";
  candidates[n++] = "/etc/docker/certs.d";
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *dir = xasprintf ("%s/%s", candidates[i], c->registry);
      if (fs_exists (dir))
        return steal_ptr (&dir);
    }
  return NULL;
}

/* The default CA bundle, so that certs.d certificates add to it rather than
 * replace it (CURLOPT_CAINFO_BLOB takes the place of CURLOPT_CAINFO). */
static void
append_system_bundle (struct buf *pem)
{
#if LIBCURL_VERSION_NUM >= 0x075400
  CURL *h = curl_easy_init ();
  char *path = NULL;

  if (h && curl_easy_getinfo (h, CURLINFO_CAINFO, &path) == CURLE_OK && path)
    {
      cleanup_free char *data = NULL;
      size_t len = 0;
      struct error *ignored = NULL;

      data = fs_read_file (path, 16u << 20, &len, &ignored);
      if (data)
        {
          buf_append (pem, data, len);
          buf_append_char (pem, '\n');
        }
      err_release (&ignored);
    }
  if (h)
    curl_easy_cleanup (h);
#else
  (void) pem;
#endif
}

/* DIR/NAME with SUFFIX replaced by NEW_SUFFIX. */
static char *
sibling (const char *dir, const char *name, const char *suffix, const char *new_suffix)
{
  return xasprintf ("%s/%.*s%s", dir, (int) (strlen (name) - strlen (suffix)), name, new_suffix);
}

/* One certs.d file: NAME.crt is a CA certificate (appended to CRTS);
 * NAME.cert and NAME.key are a client certificate and its key, which must
 * come in pairs as podman requires. */
static int
add_cert_file (struct registry_client *c, const char *dir, const char *name, struct buf *crts,
               struct error **err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, name);
  cleanup_free char *other = NULL;

  if (str_has_suffix (name, ".crt"))
    {
      cleanup_free char *data = NULL;
      size_t len;

      data = fs_read_file (path, CERT_FILE_MAX, &len, err);
      if (data == NULL)
        return -1;
      buf_append (crts, data, len);
      buf_append_char (crts, '\n');
      return 0;
    }
  if (str_has_suffix (name, ".key"))
    {
      other = sibling (dir, name, ".key", ".cert");
      if (!fs_exists (other))
        return err_make (err, 0, "missing client certificate \"%s\" for key \"%s\"", other, path);
      return 0;
    }
  other = sibling (dir, name, ".cert", ".key");
  if (!fs_exists (other))
    return err_make (err, 0, "missing key \"%s\" for client certificate \"%s\"", other, path);
  /* libcurl takes one client certificate: the first in name order. */
  if (c->client_cert == NULL)
    {
      c->client_cert = steal_ptr (&path);
      c->client_key = steal_ptr (&other);
    }
  return 0;
}

/* Trust CRTS on top of the system's authorities. */
static int
use_ca_certs (struct registry_client *c, const char *dir, const struct buf *crts,
              struct error **err)
{
#if LIBCURL_VERSION_NUM >= 0x074d00
  struct buf all = BUF_INIT;

  (void) err;

  append_system_bundle (&all);
  buf_append (&all, crts->data, crts->len);
  c->ca_pem_len = all.len;
  c->ca_pem = buf_steal (&all);
  log_debug ("registry %s: CA certificates from \"%s\"", c->registry, dir);
  return 0;
#else
  (void) crts;
  return err_make (err, 0, "CA certificates in \"%s\" need libcurl 7.77 or later", dir);
#endif
}

static int
load_certs (struct registry_client *c, const char *cert_dir, struct error **err)
{
  cleanup_free char *dir = find_cert_dir (c, cert_dir);
  cleanup_buf struct buf crts = BUF_INIT;
  struct dirent **names = NULL;
  int n, r = 0;

  if (dir == NULL)
    return 0;
  n = scandir (dir, &names, filter_cert_files, alphasort);
  if (n < 0)
    {
      /* A missing directory, even a given one, is no certificates. */
      if (errno == ENOENT)
        return 0;
      return err_make (err, errno, "read certificate directory \"%s\"", dir);
    }
  for (int i = 0; i < n; i++)
    {
      if (r == 0 && add_cert_file (c, dir, names[i]->d_name, &crts, err) < 0)
        r = -1;
      free (names[i]);
    }
  free (names);
  if (r < 0 || crts.len == 0)
    return r;
  return use_ca_certs (c, dir, &crts, err);
}

/* ---- client ------------------------------------------------------------ */

static bool
is_docker_hub (const char *registry)
{
  return strcmp (registry, "docker.io") == 0 || strcmp (registry, "index.docker.io") == 0;
}

static void
init_curl_once (void)
{
  static bool done;

  if (!done)
    curl_global_init (CURL_GLOBAL_DEFAULT);
  done = true;
}

struct registry_client *
registry_client_new (const char *registry, const char *repository,
                     const struct registry_options *opts, struct error **err)
{
  static const struct registry_options defaults = { 0 };
  struct registry_client *c;

  if (opts == NULL)
    opts = &defaults;
  if (!reference_is_valid_domain (registry))
    return err_make (err, 0, "invalid registry host \"%.100s\"", registry), NULL;
  if (repository && !is_valid_repository (repository))
    return err_make (err, 0, "invalid repository name \"%.100s\"", repository), NULL;
  init_curl_once ();
  c = xmalloc0 (sizeof *c);
  c->registry = xstrdup (registry);
  /* Docker Hub's API lives on another host than its name. */
  c->host = xstrdup (is_docker_hub (registry) ? "registry-1.docker.io" : registry);
  c->repository = xstrdup (repository);
  c->authfile = xstrdup (opts->authfile);
  c->is_insecure = opts->is_insecure;
  c->want_push = opts->want_push;
  for (const char *const *s = opts->extra_scopes; s && *s; s++)
    c->extra_scopes = strv_append (c->extra_scopes, *s);
  c->max_parallel = opts->max_parallel ? opts->max_parallel : DEFAULT_MAX_PARALLEL;
  c->max_retries = opts->max_retries ? opts->max_retries : DEFAULT_MAX_RETRIES;
  c->retry_delay_ms = opts->retry_delay_ms ? opts->retry_delay_ms : DEFAULT_RETRY_DELAY_MS;
  c->user_agent = xstrdup ("skiff/" PACKAGE_VERSION);
  if (opts->creds)
    {
      c->creds.username = xstrdup (opts->creds->username);
      c->creds.password = xstrdup (opts->creds->password ? opts->creds->password : "");
      c->has_creds = c->creds_resolved = c->creds.username != NULL;
    }
  if (load_certs (c, opts->cert_dir, err) < 0)
    {
      registry_client_free (c);
      return NULL;
    }
  c->easy = curl_easy_init ();
  c->share = curl_share_init ();
  if (c->easy == NULL || c->share == NULL)
    {
      registry_client_free (c);
      return err_make (err, ENOMEM, "initialise libcurl"), NULL;
    }
  curl_share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return c;
}

void
registry_client_free (struct registry_client *c)
{
  if (c == NULL)
    return;
  if (c->easy)
    curl_easy_cleanup (c->easy);
  if (c->share)
    curl_share_cleanup (c->share);
  free (c->registry);
  free (c->host);
  free (c->repository);
  free (c->base);
  free (c->authfile);
  strv_free (c->extra_scopes);
  free (c->ca_pem);
  free (c->client_cert);
  free (c->client_key);
  registry_creds_clear (&c->creds);
  registry_challenge_clear (&c->challenge);
  if (c->token)
    explicit_bzero (c->token, strlen (c->token));
  free (c->token);
  free (c->user_agent);
  free (c);
}

void
registry_client_freep (struct registry_client **c)
{
  registry_client_free (*c);
  *c = NULL;
}

/* ---- curl handles ------------------------------------------------------ */

static size_t
on_header (char *data, size_t size, size_t n, void *opaque)
{
  static const struct
  {
    const char *name;
    size_t offset;
  } wanted[] = {
    { "content-type", offsetof (struct response, content_type) },
    { "docker-content-digest", offsetof (struct response, docker_digest) },
    { "www-authenticate", offsetof (struct response, www_authenticate) },
    { "retry-after", offsetof (struct response, retry_after) },
    { "location", offsetof (struct response, location) },
    { "range", offsetof (struct response, range) },
  };
  struct response *r = opaque;
  size_t len = size * n;
  const char *colon;

  /* Each response of a redirect chain starts with its status line. */
  if (len >= 5 && strncmp (data, "HTTP/", 5) == 0)
    {
      response_reset_headers (r);
      return len;
    }
  colon = memchr (data, ':', len);
  if (colon == NULL)
    return len;
  size_t name_len = colon - data;
  size_t vlen = len - name_len - 1;
  const char *v = colon + 1;
  while (vlen > 0 && (*v == ' ' || *v == '\t'))
    v++, vlen--;
  while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
    vlen--;
  if (vlen > HEADER_VALUE_MAX)
    return len;
  if (name_len == 14 && strncasecmp (data, "content-length", 14) == 0)
    {
      cleanup_free char *s = xstrndup (v, vlen);
      char *end;
      long long cl = strtoll (s, &end, 10);
      r->content_length = (*s && *end == '\0' && cl >= 0) ? cl : -1;
      return len;
    }
  for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++)
    if (strlen (wanted[i].name) == name_len && strncasecmp (data, wanted[i].name, name_len) == 0)
      {
        char **slot = (char **) ((char *) r + wanted[i].offset);
        free (*slot);
        *slot = xstrndup (v, vlen);
      }
  return len;
}

/* Body into memory, bounded. */
static size_t
on_body (char *data, size_t size, size_t n, void *opaque)
{
  struct response *r = opaque;
  size_t len = size * n;

  if (r->body.len + len > r->max_body)
    {
      r->is_too_large = true;
      return 0;
    }
  buf_append (&r->body, data, len);
  return len;
}

static void
set_protocols (CURL *h, bool allow_http)
{
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt (h, CURLOPT_PROTOCOLS_STR, allow_http ? "http,https" : "https");
  curl_easy_setopt (h, CURLOPT_REDIR_PROTOCOLS_STR, allow_http ? "http,https" : "https");
#else
  long p = CURLPROTO_HTTPS | (allow_http ? CURLPROTO_HTTP : 0);
  curl_easy_setopt (h, CURLOPT_PROTOCOLS, p);
  curl_easy_setopt (h, CURLOPT_REDIR_PROTOCOLS, p);
#endif
}

static void
set_tls (struct registry_client *c, CURL *h)
{
  curl_easy_setopt (h, CURLOPT_SSL_VERIFYPEER, c->is_insecure ? 0L : 1L);
  curl_easy_setopt (h, CURLOPT_SSL_VERIFYHOST, c->is_insecure ? 0L : 2L);
#if LIBCURL_VERSION_NUM >= 0x074d00
  if (c->ca_pem)
    {
      struct curl_blob blob = { c->ca_pem, c->ca_pem_len, CURL_BLOB_NOCOPY };
      curl_easy_setopt (h, CURLOPT_CAINFO_BLOB, &blob);
    }
#endif
  if (c->client_cert)
    {
      curl_easy_setopt (h, CURLOPT_SSLCERT, c->client_cert);
      curl_easy_setopt (h, CURLOPT_SSLKEY, c->client_key);
    }
}

/* Credentials the registry's challenge asked for, through libcurl's own
 * auth options (see the top of this file for why). */
static void
set_auth (struct registry_client *c, CURL *h)
{
  if (c->challenge.scheme == REGISTRY_AUTH_BEARER && c->token)
    {
      curl_easy_setopt (h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
      curl_easy_setopt (h, CURLOPT_XOAUTH2_BEARER, c->token);
    }
  else if (c->challenge.scheme == REGISTRY_AUTH_BASIC && c->has_creds)
    {
      curl_easy_setopt (h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
      curl_easy_setopt (h, CURLOPT_USERNAME, c->creds.username);
      curl_easy_setopt (h, CURLOPT_PASSWORD, c->creds.password);
    }
}

/* Everything but credentials: transport, TLS, redirects, headers. */
static void
setup_handle (struct registry_client *c, CURL *h, const char *url, struct response *r,
              char *errbuf)
{
  curl_easy_setopt (h, CURLOPT_URL, url);
  curl_easy_setopt (h, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT, (long) CONNECT_TIMEOUT_S);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_TIME, (long) LOW_SPEED_TIME_S);
  curl_easy_setopt (h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt (h, CURLOPT_UNRESTRICTED_AUTH, 0L);
  set_protocols (h, c->is_insecure);
  set_tls (c, h);
  curl_easy_setopt (h, CURLOPT_SHARE, c->share);
  curl_easy_setopt (h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (h, CURLOPT_HEADERDATA, r);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, errbuf);
  errbuf[0] = '\0';
}

/* Connection-level failures worth another try. */
static bool
is_transient_curl (CURLcode rc)
{
  switch (rc)
    {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
    }
}

static bool
is_transient_status (long status)
{
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

static bool
is_tls_failure (CURLcode rc)
{
  return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION
         || rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE;
}

static int
curl_failure (struct registry_client *c, const char *method, const char *url, CURLcode rc,
              const char *errbuf, struct error **err)
{
  cleanup_free char *shown = url_for_log (url);
  const char *why = errbuf && *errbuf ? errbuf : curl_easy_strerror (rc);
  const char *hint = "";

  if (is_tls_failure (rc) && !c->is_insecure)
    hint = ": if the registry does not use TLS or has a self-signed certificate, "
           "use --tls-verify=false";
  return err_make (err, 0, "%s \"%s\": %s%s", method, shown, why, hint);
}

/* The wait before retry ATTEMPT (0-based): Retry-After when the registry
 * sent one, else exponential backoff.  Returns false when the registry
 * asks for a longer wait than we are willing to do. */
static bool
retry_wait (struct registry_client *c, const struct response *r, unsigned attempt,
            uint64_t *wait_ms)
{
  uint64_t backoff = (uint64_t) c->retry_delay_ms << (attempt < 16 ? attempt : 16);

  *wait_ms = backoff < MAX_RETRY_WAIT_MS ? backoff : MAX_RETRY_WAIT_MS;
  if (r && r->retry_after)
    {
      char *end;
      long long secs = strtoll (r->retry_after, &end, 10);

      if (*end != '\0' || end == r->retry_after)
        {
          time_t when = curl_getdate (r->retry_after, NULL);
          secs = when > 0 ? (long long) (when - time (NULL)) : 0;
        }
      if (secs > MAX_RETRY_WAIT_MS / 1000)
        return false;
      if (secs > 0 && (uint64_t) secs * 1000 > *wait_ms)
        *wait_ms = (uint64_t) secs * 1000;
    }
  return true;
}

enum auth_mode
{
  AUTH_NONE,     /* first contact, token requests without credentials */
  AUTH_REGISTRY, /* what the registry's challenge asked for */
  AUTH_CREDS,    /* Basic with the user's credentials (token requests) */
};

/* What a request sends (registry_send()): a body and its type. */
struct send_spec
{
  const char *content_type;
  const struct registry_body *body; /* NULL: empty */
  bool can_retry;
  struct error *read_err; /* why reading the body failed */
};

struct body_reader
{
  struct send_spec *send;
  uint64_t done;
};

/* libcurl pulls the body from here; an attempt starts again from byte 0. */
static size_t
on_read_body (char *out, size_t size, size_t n, void *opaque)
{
  struct body_reader *rd = opaque;
  const struct registry_body *b = rd->send->body;
  uint64_t left = b ? b->len - rd->done : 0;
  size_t want = size * n < left ? size * n : (size_t) left;
  ssize_t got;

  if (want == 0)
    return 0;
  if (b->fd < 0)
    {
      memcpy (out, b->data + rd->done, want);
      got = (ssize_t) want;
    }
  else
    {
      do
        got = pread (b->fd, out, want, (off_t) (b->offset + rd->done));
      while (got < 0 && errno == EINTR);
      if (got <= 0)
        {
          err_make (&rd->send->read_err, got < 0 ? errno : 0, "read the data to send%s",
                    got == 0 ? ": the file is shorter than expected" : "");
          return CURL_READFUNC_ABORT;
        }
    }
  rd->done += (uint64_t) got;
  if (b->progress)
    b->progress (b->progress_data, rd->done, b->len);
  return (size_t) got;
}

/* libcurl rewinds the body when a redirect or an auth exchange makes it
 * send the request again. */
static int
on_seek_body (void *opaque, curl_off_t offset, int origin)
{
  struct body_reader *rd = opaque;
  uint64_t len = rd->send->body ? rd->send->body->len : 0;

  if (origin != SEEK_SET || offset < 0 || (uint64_t) offset > len)
    return CURL_SEEKFUNC_CANTSEEK;
  rd->done = (uint64_t) offset;
  return CURL_SEEKFUNC_OK;
}

/* Make H send METHOD with SEND's body.  PUT is libcurl's upload; POST and
 * PATCH are uploads under another name, so that every body comes from one
 * reader with a known length (never chunked transfer encoding). */
static struct curl_slist *
setup_send (CURL *h, const char *method, struct send_spec *send, struct body_reader *rd,
            struct curl_slist *headers)
{
  cleanup_free char *type_line = NULL, *range_line = NULL;

  rd->send = send;
  rd->done = 0;
  curl_easy_setopt (h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt (h, CURLOPT_INFILESIZE_LARGE,
                    (curl_off_t) (send->body ? send->body->len : 0));
  curl_easy_setopt (h, CURLOPT_READFUNCTION, on_read_body);
  curl_easy_setopt (h, CURLOPT_READDATA, rd);
  curl_easy_setopt (h, CURLOPT_SEEKFUNCTION, on_seek_body);
  curl_easy_setopt (h, CURLOPT_SEEKDATA, rd);
  if (strcmp (method, "PUT") != 0)
    curl_easy_setopt (h, CURLOPT_CUSTOMREQUEST, method);
  if (send->content_type)
    {
      type_line = xasprintf ("Content-Type: %s", send->content_type);
      headers = curl_slist_append (headers, type_line);
    }
  if (send->body && send->body->range)
    {
      range_line = xasprintf ("Content-Range: %s", send->body->range);
      headers = curl_slist_append (headers, range_line);
    }
  /* No "Expect: 100-continue" round trip before each large body. */
  return curl_slist_append (headers, "Expect:");
}

/* One HTTP exchange on the client's reusable handle, no retries.  Returns
 * the curl result; R holds the status, headers and (bounded) body.  SEND,
 * when not NULL, is the body to send. */
static CURLcode
perform_once (struct registry_client *c, const char *method, const char *url,
              const char *accept, struct send_spec *send, enum auth_mode auth,
              struct response *r, char *errbuf)
{
  struct curl_slist *headers = NULL;
  cleanup_free char *accept_line = NULL;
  struct body_reader rd = { 0 };
  uint64_t start = now_ms ();
  CURLcode rc;

  response_clear (r);
  curl_easy_reset (c->easy);
  setup_handle (c, c->easy, url, r, errbuf);
  curl_easy_setopt (c->easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (c->easy, CURLOPT_WRITEDATA, r);
  if (strcmp (method, "HEAD") == 0)
    curl_easy_setopt (c->easy, CURLOPT_NOBODY, 1L);
  if (accept)
    {
      accept_line = xasprintf ("Accept: %s", accept);
      headers = curl_slist_append (headers, accept_line);
    }
  if (send)
    headers = setup_send (c->easy, method, send, &rd, headers);
  if (headers)
    curl_easy_setopt (c->easy, CURLOPT_HTTPHEADER, headers);
  if (auth == AUTH_REGISTRY)
    set_auth (c, c->easy);
  else if (auth == AUTH_CREDS && c->has_creds)
    {
      curl_easy_setopt (c->easy, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
      curl_easy_setopt (c->easy, CURLOPT_USERNAME, c->creds.username);
      curl_easy_setopt (c->easy, CURLOPT_PASSWORD, c->creds.password);
    }
  rc = curl_easy_perform (c->easy);
  curl_easy_getinfo (c->easy, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all (headers);
  if (log_enabled (LOG_LEVEL_DEBUG))
    {
      cleanup_free char *shown = url_for_log (url);
      if (rc == CURLE_OK)
        log_debug ("registry: %s %s: HTTP %ld, %zu bytes in %" PRIu64 " ms", method, shown,
                   r->status, r->body.len, now_ms () - start);
      else
        log_debug ("registry: %s %s: %s", method, shown, curl_easy_strerror (rc));
    }
  return rc;
}

/* perform_once() with retries of transient failures (connection errors,
 * 429, 5xx), unless SEND forbids them.  Returns 0 with R filled whatever
 * the HTTP status, negative when no usable reply came. */
static int
perform_retrying (struct registry_client *c, const char *method, const char *url,
                  const char *accept, struct send_spec *send, enum auth_mode auth,
                  struct response *r, struct error **err)
{
  unsigned max_retries = send && !send->can_retry ? 0 : c->max_retries;
  char errbuf[CURL_ERROR_SIZE];

  for (unsigned attempt = 0;; attempt++)
    {
      CURLcode rc = perform_once (c, method, url, accept, send, auth, r, errbuf);
      bool transient = rc != CURLE_OK ? is_transient_curl (rc) : is_transient_status (r->status);
      uint64_t wait;

      if (rc == CURLE_WRITE_ERROR && r->is_too_large)
        {
          cleanup_free char *shown = url_for_log (url);
          return err_make (err, 0, "%s \"%s\": reply larger than %zu bytes", method, shown,
                           r->max_body);
        }
      if (rc == CURLE_ABORTED_BY_CALLBACK && send && send->read_err)
        {
          *err = steal_ptr (&send->read_err);
          return -1;
        }
      if (!transient || attempt >= max_retries || !retry_wait (c, r, attempt, &wait))
        return rc == CURLE_OK ? 0 : curl_failure (c, method, url, rc, errbuf, err);
      if (log_enabled (LOG_LEVEL_WARN))
        {
          cleanup_free char *shown = url_for_log (url);
          cleanup_free char *why = rc == CURLE_OK ? xasprintf ("HTTP %ld", r->status)
                                                  : xstrdup (curl_easy_strerror (rc));
          log_warn ("%s %s: %s, retrying in %" PRIu64 " ms (%u/%u)", method, shown, why, wait,
                    attempt + 1, max_retries);
        }
      sleep_ms (wait);
    }
}

/* ---- first contact and authentication ---------------------------------- */

static int
resolve_creds (struct registry_client *c, struct error **err)
{
  int r;

  if (c->creds_resolved)
    return 0;
  r = registry_auth_lookup (c->authfile, c->registry, c->repository, &c->creds, err);
  if (r < 0)
    return -1;
  c->has_creds = r > 0;
  c->creds_resolved = true;
  log_debug ("registry %s: %s", c->registry,
             c->has_creds ? "using stored credentials" : "no stored credentials");
  return 0;
}

static char *
token_url (struct registry_client *c)
{
  cleanup_free char *scope = NULL;
  size_t n_extra = strv_len (c->extra_scopes), n = 0;
  cleanup_free const char **scopes = xcalloc (n_extra + 3, sizeof *scopes);

  if (c->repository)
    scopes[n++] = scope = xasprintf ("repository:%s:%s", c->repository,
                                     c->want_push ? "pull,push" : "pull");
  for (size_t i = 0; i < n_extra; i++)
    scopes[n++] = c->extra_scopes[i];
  /* A 401 may name a scope we did not ask for (insufficient_scope). */
  if (c->challenge.scope && (scope == NULL || strcmp (c->challenge.scope, scope) != 0))
    scopes[n++] = c->challenge.scope;
  return registry_auth_token_url (c->challenge.realm, c->challenge.service, scopes);
}

/* The Bearer token flow: GET realm?service=..&scope=.., anonymously or with
 * Basic credentials. */
static int
fetch_token (struct registry_client *c, struct error **err)
{
  cleanup_free char *url = token_url (c);
  cleanup_free char *shown = url_for_log (url);
  struct response r = { .max_body = TOKEN_REPLY_MAX };
  int64_t expires_in;
  char *token = NULL;
  int ret;

  if (c->has_creds && !c->is_insecure && strncasecmp (url, "https://", 8) != 0)
    return err_make (err, 0, "token service \"%s\" is not https: refusing to send credentials",
                     shown);
  ret = perform_retrying (c, "GET", url, "application/json", NULL, AUTH_CREDS, &r, err);
  if (ret == 0 && (r.status == 401 || r.status == 403))
    {
      cleanup_free char *why = error_text (&r);
      ret = err_make (err, 0, "authenticating to \"%s\": %s%s", c->registry,
                      c->has_creds ? "unauthorized: invalid username or password: " : "", why);
    }
  else if (ret == 0 && r.status != 200)
    {
      cleanup_free char *why = error_text (&r);
      ret = err_make (err, 0, "token service \"%s\": %s", shown, why);
    }
  else if (ret == 0)
    ret = registry_auth_parse_token (r.body.data, r.body.len, &token, &expires_in, err);
  if (r.body.data)
    explicit_bzero (r.body.data, r.body.len);
  response_clear (&r);
  if (ret < 0)
    return -1;
  if (c->token)
    explicit_bzero (c->token, strlen (c->token));
  free (c->token);
  c->token = token;
  c->token_generation++;
  /* Renew a little early so a request does not race the expiry. */
  c->token_deadline_ms = now_ms () + (uint64_t) (expires_in - 10) * 1000;
  log_debug ("registry %s: got a token valid for %" PRId64 " s", c->registry, expires_in);
  return 0;
}

static int
authenticate (struct registry_client *c, struct error **err)
{
  if (resolve_creds (c, err) < 0)
    return -1;
  if (c->challenge.scheme == REGISTRY_AUTH_BASIC && !c->has_creds)
    return err_make (err, 0, "\"%s\" requires authentication: log in with \"skiff login %s\" "
                                  "or pass --creds",
                     c->registry, c->registry);
  if (c->challenge.scheme == REGISTRY_AUTH_BEARER)
    return fetch_token (c, err);
  return 0;
}

/* Take the challenge of a 401 reply as the client's.  Keeps the old one
 * when the header is missing or unusable. */
static void
adopt_challenge (struct registry_client *c, const char *header)
{
  struct registry_challenge ch = { 0 };
  struct error *ignored = NULL;

  if (header == NULL)
    return;
  if (registry_auth_parse_challenge (header, &ch, &ignored) < 0)
    {
      log_debug ("registry %s: ignoring challenge: %s", c->registry, ignored->msg);
      err_release (&ignored);
      return;
    }
  registry_challenge_clear (&c->challenge);
  c->challenge = ch;
}

static int
ensure_token (struct registry_client *c, struct error **err)
{
  if (c->challenge.scheme == REGISTRY_AUTH_BEARER
      && (c->token == NULL || now_ms () >= c->token_deadline_ms))
    return fetch_token (c, err);
  return 0;
}

/* GET /v2/ on SCHEME; an insecure client's https try gets no retries, so
 * that the fallback to http is quick. */
static int
probe (struct registry_client *c, const char *scheme, bool retry, struct response *r,
       struct error **err)
{
  cleanup_free char *url = xasprintf ("%s://%s/v2/", scheme, c->host);
  char errbuf[CURL_ERROR_SIZE];
  CURLcode rc;

  if (retry)
    return perform_retrying (c, "GET", url, NULL, NULL, AUTH_NONE, r, err);
  rc = perform_once (c, "GET", url, NULL, NULL, AUTH_NONE, r, errbuf);
  return rc == CURLE_OK ? 0 : curl_failure (c, "GET", url, rc, errbuf, err);
}

/* The first contact: pick https (or http for an insecure registry when
 * https fails, as podman does), learn the challenge and authenticate. */
static int
discover (struct registry_client *c, struct error **err)
{
  struct response r = { .max_body = ERROR_BODY_MAX };
  const char *scheme = "https";
  int ret;

  if (c->base)
    return 0;
  ret = probe (c, scheme, !c->is_insecure, &r, err);
  if (ret < 0 && c->is_insecure)
    {
      log_debug ("registry %s: https failed (%s), trying http", c->registry, (*err)->msg);
      err_release (err);
      scheme = "http";
      ret = probe (c, scheme, true, &r, err);
    }
  if (ret < 0)
    {
      response_clear (&r);
      return err_wrap (err, "pinging container registry %s", c->registry);
    }
  registry_challenge_clear (&c->challenge);
  if (r.status == 401)
    {
      ret = registry_auth_parse_challenge (r.www_authenticate, &c->challenge, err);
      if (ret < 0)
        err_wrap (err, "pinging container registry %s", c->registry);
      /* A scope in the ping's challenge is about /v2/, not our repository. */
      free (c->challenge.scope);
      c->challenge.scope = NULL;
    }
  else if (r.status != 200)
    {
      cleanup_free char *why = error_text (&r);
      ret = err_make (err, 0, "pinging container registry %s: GET /v2/: %s: not a registry?",
                      c->registry, why);
    }
  response_clear (&r);
  if (ret < 0)
    return -1;
  c->base = xasprintf ("%s://%s", scheme, c->host);
  log_debug ("registry %s: %s, %s", c->registry, c->base,
             c->challenge.scheme == REGISTRY_AUTH_BEARER  ? "token auth"
             : c->challenge.scheme == REGISTRY_AUTH_BASIC ? "basic auth"
                                                          : "no auth");
  if (c->challenge.scheme != REGISTRY_AUTH_NONE && authenticate (c, err) < 0)
    {
      free (c->base);
      c->base = NULL;
      return -1;
    }
  return 0;
}

/* An authenticated request to URL with retries; a 401 renews the
 * credentials once (expired token, or a challenge asking for another
 * scope).  SEND may be NULL.  Without IS_OURS (a URL on another host) no
 * credentials are sent. */
static int
request_url (struct registry_client *c, const char *method, const char *url,
             const char *accept, struct send_spec *send, bool is_ours, size_t max_body,
             struct response *r, struct error **err)
{
  bool is_reauthed = false;

  for (;;)
    {
      if (is_ours && ensure_token (c, err) < 0)
        return -1;
      r->max_body = max_body;
      if (perform_retrying (c, method, url, accept, send, is_ours ? AUTH_REGISTRY : AUTH_NONE,
                            r, err) < 0)
        return -1;
      if (r->status != 401 || is_reauthed || !is_ours)
        return 0;
      adopt_challenge (c, r->www_authenticate);
      if (c->challenge.scheme == REGISTRY_AUTH_NONE)
        return 0;
      if (authenticate (c, err) < 0)
        return -1;
      is_reauthed = true;
    }
}

/* request_url() of PATH on the registry, without a body. */
static int
request (struct registry_client *c, const char *method, const char *path, const char *accept,
         size_t max_body, struct response *r, struct error **err)
{
  cleanup_free char *url = NULL;

  if (discover (c, err) < 0)
    return -1;
  url = xasprintf ("%s%s", c->base, path);
  return request_url (c, method, url, accept, NULL, true, max_body, r, err);
}

int
registry_ping (struct registry_client *c, struct error **err)
{
  struct response r = { 0 };
  int ret;

  if (discover (c, err) < 0)
    return -1;
  if (c->challenge.scheme == REGISTRY_AUTH_NONE)
    return 0;
  ret = request (c, "GET", "/v2/", NULL, ERROR_BODY_MAX, &r, err);
  if (ret == 0 && r.status != 200)
    {
      cleanup_free char *why = error_text (&r);
      ret = err_make (err, 0, "logging in to \"%s\": %s%s", c->registry,
                      r.status == 401 && c->has_creds ? "unauthorized: invalid username or password: " : "", why);
    }
  response_clear (&r);
  return ret;
}

/* ---- manifests and small blobs ----------------------------------------- */

void
registry_manifest_clear (struct registry_manifest *m)
{
  free (m->data);
  free (m->media_type);
  memset (m, 0, sizeof *m);
}

static int
check_manifest_digest (const char *reference, const char *digest, const struct response *r,
                       struct error **err)
{
  if (sha256_digest_valid (reference) && strcmp (reference, digest) != 0)
    return err_make (err, 0, "digest mismatch: the registry sent %s", digest);
  /* Only a sha256 header can be compared with what we computed. */
  if (r->docker_digest && str_has_prefix (r->docker_digest, "sha256:")
      && strcmp (r->docker_digest, digest) != 0)
    return err_make (err, 0, "digest mismatch: Docker-Content-Digest says %.80s, the content is %s",
                     r->docker_digest, digest);
  return 0;
}

int
registry_get_manifest (struct registry_client *c, const char *reference,
                       struct registry_manifest *out, struct error **err)
{
  cleanup_free char *path = NULL;
  struct response r = { 0 };
  char hex[SHA256_HEX_LEN + 1];
  int ret;

  if (c->repository == NULL
      || !(reference_is_valid_tag (reference) || sha256_digest_valid (reference)))
    return err_make (err, 0, "fetch manifest \"%.100s\": invalid tag or digest", reference);
  path = xasprintf ("/v2/%s/manifests/%s", c->repository, reference);
  ret = request (c, "GET", path, MANIFEST_ACCEPT, MANIFEST_MAX_SIZE, &r, err);
  if (ret == 0 && r.status != 200)
    {
      cleanup_free char *why = error_text (&r);
      /* An anonymous token that grants nothing (a private repository)
       * ends here rather than in authenticate(): say what to do too. */
      if ((r.status == 401 || r.status == 403) && !c->has_creds)
        ret = err_make (err, 0, "%s: log in with \"skiff login %s\" or pass --creds", why,
                        c->registry);
      else
        ret = err_make (err, 0, "%s", why);
    }
  if (ret == 0)
    {
      sha256_buf_hex (r.body.data ? r.body.data : "", r.body.len, hex);
      memset (out, 0, sizeof *out);
      snprintf (out->digest, sizeof out->digest, "sha256:%s", hex);
      ret = check_manifest_digest (reference, out->digest, &r, err);
    }
  if (ret < 0)
    {
      response_clear (&r);
      return err_wrap (err, "fetch manifest \"%s\" of \"%s/%s\"", reference, c->registry,
                       c->repository);
    }
  if (r.content_type)
    {
      out->media_type = xstrndup (r.content_type, strcspn (r.content_type, ";"));
      str_strip (out->media_type);
    }
  out->len = r.body.len;
  out->data = buf_steal (&r.body);
  response_clear (&r);
  return 0;
}

static int
get_blob (struct registry_client *c, const char *digest, size_t max, struct response *r,
          struct error **err)
{
  cleanup_free char *path = NULL;
  char hex[SHA256_HEX_LEN + 1];

  if (c->repository == NULL || !sha256_digest_valid (digest))
    return err_make (err, 0, "invalid blob digest \"%.100s\"", digest);
  path = xasprintf ("/v2/%s/blobs/%s", c->repository, digest);
  if (request (c, "GET", path, NULL, max, r, err) < 0)
    return -1;
  if (r->status != 200)
    {
      cleanup_free char *why = error_text (r);
      return err_make (err, 0, "%s", why);
    }
  sha256_buf_hex (r->body.data ? r->body.data : "", r->body.len, hex);
  if (strcmp (hex, digest + 7) != 0)
    return err_make (err, 0, "digest mismatch: the content is sha256:%s", hex);
  return 0;
}

int
registry_get_blob (struct registry_client *c, const char *digest, size_t max, char **data,
                   size_t *len, struct error **err)
{
  struct response r = { 0 };

  if (get_blob (c, digest, max, &r, err) < 0)
    {
      response_clear (&r);
      return err_wrap (err, "fetch blob %.100s", digest);
    }
  *len = r.body.len;
  *data = buf_steal (&r.body);
  response_clear (&r);
  return 0;
}

int
registry_blob_exists (struct registry_client *c, const char *digest, int64_t *size,
                      struct error **err)
{
  cleanup_free char *path = NULL;
  struct response r = { 0 };
  int ret;

  if (c->repository == NULL || !sha256_digest_valid (digest))
    return err_make (err, 0, "invalid blob digest \"%.100s\"", digest);
  path = xasprintf ("/v2/%s/blobs/%s", c->repository, digest);
  ret = request (c, "HEAD", path, NULL, ERROR_BODY_MAX, &r, err);
  if (ret == 0 && r.status == 200)
    {
      if (size)
        *size = r.content_length;
      ret = 1;
    }
  else if (ret == 0 && r.status != 404)
    {
      cleanup_free char *why = error_text (&r);
      ret = err_make (err, 0, "check blob %s: %s", digest, why);
    }
  response_clear (&r);
  return ret;
}

/* ---- requests with a body (registry_internal.h) ------------------------ */

int
registry_client_base (struct registry_client *c, const char **base, struct error **err)
{
  if (discover (c, err) < 0)
    return -1;
  *base = c->base;
  return 0;
}

void
registry_client_retry_policy (const struct registry_client *c, unsigned *max_retries,
                              unsigned *retry_delay_ms)
{
  *max_retries = c->max_retries;
  *retry_delay_ms = c->retry_delay_ms;
}

const char *
registry_client_registry (const struct registry_client *c)
{
  return c->registry;
}

const char *
registry_client_repository (const struct registry_client *c)
{
  return c->repository;
}

void
registry_reply_clear (struct registry_reply *r)
{
  free (r->location);
  free (r->docker_digest);
  free (r->range);
  free (r->message);
  memset (r, 0, sizeof *r);
}

/* Whether URL is on the registry's own scheme, host and port: only there
 * do credentials go. */
static bool
is_own_url (const struct registry_client *c, const char *url)
{
  size_t n = strlen (c->base);

  return strncasecmp (url, c->base, n) == 0 && strchr ("/?#", url[n]) != NULL;
}

int
registry_send (struct registry_client *c, const char *method, const char *target,
               const char *content_type, const struct registry_body *body, bool can_retry,
               struct registry_reply *reply, struct error **err)
{
  struct send_spec send = { .content_type = content_type, .body = body, .can_retry = can_retry };
  struct response r = { 0 };
  cleanup_free char *url = NULL;
  bool is_ours = true;
  int ret;

  memset (reply, 0, sizeof *reply);
  if (discover (c, err) < 0)
    return -1;
  if (target[0] == '/')
    url = xasprintf ("%s%s", c->base, target);
  else if (str_has_prefix (target, "https://") || str_has_prefix (target, "http://"))
    {
      url = xstrdup (target);
      is_ours = is_own_url (c, url);
    }
  else
    return err_make (err, 0, "%s: not a URL or an absolute path", method);
  ret = request_url (c, method, url, NULL, &send, is_ours, ERROR_BODY_MAX, &r, err);
  err_release (&send.read_err);
  if (ret == 0)
    {
      reply->status = r.status;
      reply->location = steal_ptr (&r.location);
      reply->docker_digest = steal_ptr (&r.docker_digest);
      reply->range = steal_ptr (&r.range);
      if (r.status >= 400)
        reply->message = error_text (&r);
    }
  response_clear (&r);
  return ret;
}

/* ---- parallel blob downloads ------------------------------------------- */

struct transfer
{
  struct registry_client *c;
  const struct registry_blob_req *req;
  char *url;
  CURL *h;
  int fd;
  bool owns_fd;
  struct sha256_ctx *sha;
  uint64_t done;
  unsigned attempts;
  unsigned token_generation; /* the client's when this attempt started */
  bool is_reauthed;          /* this attempt follows a 401 */
  bool is_running;
  bool is_finished;
  uint64_t not_before_ms;
  uint64_t started_ms;
  struct response resp; /* headers, and the body of an error reply */
  struct error *werr;   /* why the write callback stopped the transfer */
  char errbuf[CURL_ERROR_SIZE];
};

static int
write_at (int fd, const char *data, size_t len, uint64_t off)
{
  while (len > 0)
    {
      ssize_t n = pwrite (fd, data, len, (off_t) off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      data += n;
      len -= (size_t) n;
      off += (uint64_t) n;
    }
  return 0;
}

static size_t
on_blob_data (char *data, size_t size, size_t n, void *opaque)
{
  struct transfer *t = opaque;
  const struct registry_blob_req *q = t->req;
  size_t len = size * n;
  long status = 0;

  curl_easy_getinfo (t->h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200)
    {
      /* An error reply: keep (a bounded part of) it for the message. */
      if (t->resp.body.len + len <= ERROR_BODY_MAX)
        buf_append (&t->resp.body, data, len);
      return len;
    }
  if (q->size >= 0
      && (t->done + len > (uint64_t) q->size || t->resp.content_length > q->size))
    {
      err_make (&t->werr, 0, "blob %s: more data than the expected %" PRId64 " bytes", q->digest,
                q->size);
      return 0;
    }
  if (write_at (t->fd, data, len, t->done) < 0)
    {
      err_make (&t->werr, errno, "write blob %s", q->digest);
      return 0;
    }
  sha256_update (t->sha, data, len);
  t->done += len;
  if (q->progress)
    q->progress (q->progress_data, t->done, q->size > 0 ? (uint64_t) q->size : 0);
  return len;
}

static int
open_destination (struct transfer *t, struct error **err)
{
  if (t->fd >= 0)
    return 0;
  if (t->req->path == NULL)
    {
      if (t->req->fd < 0)
        return err_make (err, EBADF, "blob %s: no destination", t->req->digest);
      t->fd = t->req->fd;
      return 0;
    }
  t->fd = open (t->req->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (t->fd < 0)
    return err_make (err, errno, "open \"%s\"", t->req->path);
  t->owns_fd = true;
  return 0;
}

/* (Re)start T from byte zero. */
static int
start_transfer (struct transfer *t, CURLM *m, struct error **err)
{
  struct registry_client *c = t->c;

  if (open_destination (t, err) < 0)
    return -1;
  if (ftruncate (t->fd, 0) < 0)
    return err_make (err, errno, "truncate the file of blob %s", t->req->digest);
  if (ensure_token (c, err) < 0)
    return -1;
  sha256_free (t->sha);
  t->sha = sha256_new ();
  t->done = 0;
  response_clear (&t->resp);
  err_release (&t->werr);
  if (t->req->progress)
    t->req->progress (t->req->progress_data, 0, t->req->size > 0 ? (uint64_t) t->req->size : 0);
  if (t->h == NULL)
    t->h = curl_easy_init ();
  else
    curl_easy_reset (t->h);
  if (t->h == NULL)
    return err_make (err, ENOMEM, "initialise libcurl");
  setup_handle (c, t->h, t->url, &t->resp, t->errbuf);
  curl_easy_setopt (t->h, CURLOPT_WRITEFUNCTION, on_blob_data);
  curl_easy_setopt (t->h, CURLOPT_WRITEDATA, t);
  curl_easy_setopt (t->h, CURLOPT_PRIVATE, t);
  /* Prefer multiplexing on an existing HTTP/2 connection. */
  curl_easy_setopt (t->h, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt (t->h, CURLOPT_BUFFERSIZE, 128L * 1024);
  set_auth (c, t->h);
  t->token_generation = c->token_generation;
  if (curl_multi_add_handle (m, t->h) != CURLM_OK)
    return err_make (err, 0, "blob %s: cannot start the transfer", t->req->digest);
  t->is_running = true;
  t->started_ms = now_ms ();
  return 0;
}

/* Judge a finished transfer.  Returns 0 when the blob is complete and
 * verified; otherwise an error, with *IS_TRANSIENT telling whether another
 * try may help. */
static int
judge_transfer (struct transfer *t, CURLcode rc, bool *is_transient, struct error **err)
{
  const struct registry_blob_req *q = t->req;
  char hex[SHA256_HEX_LEN + 1];

  *is_transient = false;
  if (t->werr)
    {
      *err = steal_ptr (&t->werr);
      return -1;
    }
  if (rc != CURLE_OK)
    {
      *is_transient = is_transient_curl (rc);
      return curl_failure (t->c, "GET", t->url, rc, t->errbuf, err);
    }
  if (t->resp.status != 200)
    {
      cleanup_free char *why = error_text (&t->resp);
      *is_transient = is_transient_status (t->resp.status);
      return err_make (err, 0, "fetch blob %s: %s", q->digest, why);
    }
  if (q->size >= 0 && t->done != (uint64_t) q->size)
    {
      *is_transient = true;
      return err_make (err, 0, "fetch blob %s: got %" PRIu64 " of %" PRId64 " bytes", q->digest,
                       t->done, q->size);
    }
  sha256_final_hex (t->sha, hex);
  if (strcmp (hex, q->digest + 7) != 0)
    return err_make (err, 0, "fetch blob %s: digest mismatch: the content is sha256:%s",
                     q->digest, hex);
  return 0;
}

/* A transfer ended: verify it, or schedule a retry, or fail.  Returns
 * negative only for a failure that ends the whole download. */
static int
finish_transfer (struct transfer *t, CURLM *m, CURLcode rc, struct error **err)
{
  struct registry_client *c = t->c;
  struct error *e = NULL;
  bool is_transient;
  uint64_t wait;

  curl_multi_remove_handle (m, t->h);
  t->is_running = false;
  curl_easy_getinfo (t->h, CURLINFO_RESPONSE_CODE, &t->resp.status);
  if (rc == CURLE_OK && t->resp.status == 401 && !t->is_reauthed)
    {
      /* The token expired or needs another scope: renew it, unless a
       * parallel transfer already did, and go again. */
      t->is_reauthed = true;
      t->not_before_ms = 0;
      if (t->token_generation != c->token_generation)
        return 0;
      adopt_challenge (c, t->resp.www_authenticate);
      return authenticate (c, err);
    }
  t->is_reauthed = false;
  if (judge_transfer (t, rc, &is_transient, &e) == 0)
    {
      t->is_finished = true;
      log_debug ("blob %s: %" PRIu64 " bytes in %" PRIu64 " ms", t->req->digest, t->done,
                 now_ms () - t->started_ms);
      return 0;
    }
  if (!is_transient || t->attempts >= c->max_retries
      || !retry_wait (c, &t->resp, t->attempts, &wait))
    {
      *err = e;
      return -1;
    }
  log_warn ("%s, retrying in %" PRIu64 " ms (%u/%u)", e->msg, wait, t->attempts + 1,
            c->max_retries);
  err_release (&e);
  t->attempts++;
  t->not_before_ms = now_ms () + wait;
  return 0;
}

struct transfer_set
{
  CURLM *m;
  struct transfer *t;
  size_t n;
};

static void
transfer_set_free (struct transfer_set *s)
{
  for (size_t i = 0; i < s->n && s->t; i++)
    {
      struct transfer *t = &s->t[i];

      if (t->h && t->is_running)
        curl_multi_remove_handle (s->m, t->h);
      if (t->h)
        curl_easy_cleanup (t->h);
      if (t->owns_fd && t->fd >= 0)
        close (t->fd);
      sha256_free (t->sha);
      response_clear (&t->resp);
      err_release (&t->werr);
      free (t->url);
    }
  free (s->t);
  if (s->m)
    curl_multi_cleanup (s->m);
}

/* Start what may start now, keeping at most CAP running.  *NEXT_MS gets
 * the time the next transfer in backoff may start (UINT64_MAX: none). */
static int
start_ready (struct transfer_set *s, size_t *running, unsigned cap, uint64_t *next_ms,
             struct error **err)
{
  uint64_t now = now_ms ();

  *next_ms = UINT64_MAX;
  for (size_t i = 0; i < s->n && *running < cap; i++)
    {
      struct transfer *t = &s->t[i];

      if (t->is_running || t->is_finished)
        continue;
      if (t->not_before_ms > now)
        {
          if (t->not_before_ms < *next_ms)
            *next_ms = t->not_before_ms;
          continue;
        }
      if (start_transfer (t, s->m, err) < 0)
        return -1;
      (*running)++;
    }
  return 0;
}

static int
drain_messages (struct transfer_set *s, size_t *running, size_t *finished, struct error **err)
{
  CURLMsg *msg;
  int left;

  while ((msg = curl_multi_info_read (s->m, &left)))
    {
      CURLcode rc = msg->data.result;
      struct transfer *t;
      char *priv = NULL;

      if (msg->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, &priv);
      t = (struct transfer *) priv;
      (*running)--;
      if (finish_transfer (t, s->m, rc, err) < 0)
        return -1;
      if (t->is_finished)
        (*finished)++;
    }
  return 0;
}

static int
run_transfers (struct registry_client *c, struct transfer_set *s, struct error **err)
{
  size_t running = 0, finished = 0;

  while (finished < s->n)
    {
      uint64_t next_ms, now;
      int still = 0;
      long timeout;

      if (start_ready (s, &running, c->max_parallel, &next_ms, err) < 0)
        return -1;
      if (curl_multi_perform (s->m, &still) != CURLM_OK)
        return err_make (err, 0, "blob download: curl multi interface failed");
      if (drain_messages (s, &running, &finished, err) < 0)
        return -1;
      if (finished == s->n)
        break;
      now = now_ms ();
      timeout = 1000;
      if (next_ms != UINT64_MAX)
        timeout = next_ms > now ? (long) (next_ms - now < 1000 ? next_ms - now : 1000) : 0;
      if (running > 0 || timeout > 0)
        curl_multi_poll (s->m, NULL, 0, (int) timeout, NULL);
    }
  return 0;
}

int
registry_fetch_blobs (struct registry_client *c, const struct registry_blob_req *reqs, size_t n,
                      struct error **err)
{
  struct transfer_set s = { 0 };
  int ret;

  if (c->repository == NULL)
    return err_make (err, 0, "fetch blobs: no repository");
  for (size_t i = 0; i < n; i++)
    if (!sha256_digest_valid (reqs[i].digest))
      return err_make (err, 0, "fetch blobs: invalid digest \"%.100s\"",
                       reqs[i].digest ? reqs[i].digest : "");
  if (n == 0)
    return 0;
  if (discover (c, err) < 0)
    return -1;
  s.m = curl_multi_init ();
  if (s.m == NULL)
    return err_make (err, ENOMEM, "initialise libcurl");
  s.t = xcalloc (n, sizeof *s.t);
  s.n = n;
  for (size_t i = 0; i < n; i++)
    {
      s.t[i].c = c;
      s.t[i].req = &reqs[i];
      s.t[i].fd = -1;
      s.t[i].url = xasprintf ("%s/v2/%s/blobs/%s", c->base, c->repository, reqs[i].digest);
      s.t[i].resp.content_length = -1;
    }
  ret = run_transfers (c, &s, err);
  transfer_set_free (&s);
  return ret;
}
