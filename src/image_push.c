/* Push: a local image to a registry (or to a local transport).
 *
 * 1. resolve_destination: a transport prefix, or a registry reference;
 *    registries.conf may block it or allow plain HTTP
 * 2. load_image: the image record, its stored manifest (or, for an image
 *    that has none, descriptors made from its config and layer blobs)
 * 3. plan_blobs: what goes up, with an open descriptor each (so a
 *    concurrent rmi cannot pull a blob away mid-push); layers of another
 *    compression than --compression-format are recompressed into store
 *    stages, their diff IDs checked on the way
 * 4. make_manifest: the stored bytes when nothing changed, else a new
 *    manifest in the format asked for
 * 5. push_blobs: layers, then the config (registry_push_blob(): HEAD,
 *    mount, upload)
 * 6. the manifest, last: only then does the tag point at complete content */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "image_archive.h"
#include "image_push.h"
#include "image_transport.h"
#include "images.h"
#include "libutil/fs.h"
#include "libutil/human.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "manifest.h"
#include "reference.h"
#include "registries_conf.h"
#include "registry.h"
#include "registry_push.h"
#include "storage/storage.h"

#define COPY_BUF_SIZE (256u << 10)

enum blob_state
{
  BLOB_PENDING,
  BLOB_DONE,
  BLOB_SKIPPED,
};

struct push_blob
{
  struct manifest_descriptor desc; /* what the pushed manifest says */
  int fd;
  struct storage_blob_stage *stage; /* a recompressed copy, or NULL */
  enum blob_state state;
  uint64_t done;
  struct push *push;
};

struct push
{
  struct skiff_context *ctx;
  const struct image_push_opts *opts;
  struct storage_store *store;
  struct storage_image *img;
  struct image_ref dest;
  bool is_insecure;
  char *mount_from;          /* a repository of dest's registry with the blobs */
  struct manifest *stored;   /* the stored manifest, NULL when there is none */
  char *stored_data;
  size_t stored_len;
  char **diff_ids;           /* from the config */
  bool is_docker;            /* the format pushed */
  bool is_changed;           /* blobs or format differ from what is stored */
  struct push_blob config;
  struct push_blob *layers;
  size_t n_layers;
  char *manifest;
  size_t manifest_len;
  char digest[SHA256_DIGEST_STR_LEN];
  struct registry_client *client;
  bool is_tty;
  int drawn_lines;
  struct timespec last_draw;
};

/* ---- progress ------------------------------------------------------------- */

static void say (struct push *p, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
say (struct push *p, const char *fmt, ...)
{
  va_list ap;

  if (p->opts->is_quiet)
    return;
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
}

static void
draw_bars (struct push *p, bool is_final)
{
  static const char bar[] = "==============================";
  const int width = (int) sizeof bar - 1;
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  if (!is_final && (now.tv_sec - p->last_draw.tv_sec) * 1000000000L
                       + (now.tv_nsec - p->last_draw.tv_nsec) < 100000000L)
    return;
  p->last_draw = now;
  if (p->drawn_lines)
    fprintf (stderr, "\033[%dA", p->drawn_lines);
  p->drawn_lines = 0;
  for (size_t i = 0; i < p->n_layers; i++)
    {
      const struct push_blob *b = &p->layers[i];
      uint64_t size = (uint64_t) b->desc.size;
      char done[32], total[32];
      int fill = size > 0 ? (int) (b->done * (uint64_t) width / size) : width;

      human_size (b->done, done, sizeof done);
      human_size (size, total, sizeof total);
      if (b->state == BLOB_SKIPPED)
        fprintf (stderr, "\033[2KCopying blob %.12s skipped: already exists\n",
                 b->desc.digest + 7);
      else
        fprintf (stderr, "\033[2KCopying blob %.12s [%.*s%*s] %s / %s\n", b->desc.digest + 7,
                 fill, bar, width - fill, "", done, total);
      p->drawn_lines++;
    }
  fflush (stderr);
}

static void
on_progress (void *opaque, uint64_t done, uint64_t total)
{
  struct push_blob *b = opaque;

  (void) total;
  b->done = done;
  if (b->push->is_tty && !b->push->opts->is_quiet)
    draw_bars (b->push, false);
}

/* ---- 1: the destination ------------------------------------------------------ */

/* What SOURCE names, for a push without a destination: the stored name it
 * matched, as save does; an ID names nothing. */
static char *
default_destination (const struct storage_image *img, const char *source, struct error **err)
{
  cleanup_free char *normal = images_normalize_name (source, NULL);
  cleanup_free char *local_src = xasprintf ("localhost/%s", source);
  cleanup_free char *local = images_normalize_name (local_src, NULL);

  for (char **n = img->names; n && *n; n++)
    if (strcmp (*n, source) == 0 || (normal && strcmp (*n, normal) == 0)
        || (local && strcmp (*n, local) == 0))
      return xstrdup (*n);
  if (normal == NULL || reference_looks_like_id (source))
    return err_make (err, 0, "push \"%s\": name a destination: an image ID has no "
                     "registry to go to", source), NULL;
  return steal_ptr (&normal);
}

static int
check_registries_conf (struct push *p, struct error **err)
{
  cleanup_registries_conf struct registries_conf *conf = NULL;
  cleanup_free char *name = reference_to_string (&p->dest);
  const struct registry_entry *e;

  if (registries_conf_load (&conf, err) < 0)
    return -1;
  e = registries_conf_find (conf, name);
  if (e && e->is_blocked)
    return err_make (err, 0, "image \"%s\" is blocked by registries.conf (prefix \"%s\")", name,
                     e->prefix);
  p->is_insecure = p->opts->has_tls_verify ? !p->opts->is_tls_verify : e && e->is_insecure;
  return 0;
}

static int
resolve_destination (struct push *p, const char *dest, struct error **err)
{
  if (reference_parse (dest, &p->dest, err) < 0)
    return -1;
  return check_registries_conf (p, err);
}

/* A repository of the destination's registry that the image came from
 * (its repo digests, then its names): the registry can mount blobs from
 * there instead of taking them again. */
static void
find_mount_source (struct push *p)
{
  char **lists[2] = { p->img->digests, p->img->names };

  for (size_t l = 0; l < 2 && p->mount_from == NULL; l++)
    for (char **n = lists[l]; n && *n && p->mount_from == NULL; n++)
      {
        cleanup_image_ref struct image_ref ref = { 0 };

        if (reference_parse (*n, &ref, NULL) < 0)
          continue;
        if (strcmp (ref.registry, p->dest.registry) == 0
            && strcmp (ref.repository, p->dest.repository) != 0)
          p->mount_from = xstrdup (ref.repository);
      }
}

/* ---- 2: the image --------------------------------------------------------- */

static int
load_config (struct push *p, struct error **err)
{
  cleanup_free char *data = NULL;
  cleanup_manifest_config struct manifest_config *mc = NULL;
  size_t len = 0;

  data = storage_blob_read (p->store, p->img->id, MANIFEST_CONFIG_MAX_SIZE, &len, err);
  if (data == NULL)
    return err_wrap (err, "config");
  if (manifest_config_parse (data, len, (long) strv_len (p->img->layers), &mc, err) < 0)
    return err_wrap (err, "config %s", p->img->id);
  p->diff_ids = mc->diff_ids;
  mc->diff_ids = NULL;
  return 0;
}

static int
load_manifest (struct push *p, struct error **err)
{
  const struct storage_image *img = p->img;
  size_t n = strv_len (img->layer_blobs);

  if (img->layer_blobs == NULL || n != strv_len (img->layers))
    return err_make (err, 0, "image %.12s has no layer blobs to push: pull it again",
                     images_hex_id (img->id));
  if (img->manifest_digest == NULL)
    return 0;
  p->stored_data = storage_blob_read (p->store, img->manifest_digest, MANIFEST_MAX_SIZE,
                                      &p->stored_len, err);
  if (p->stored_data == NULL)
    return err_wrap (err, "manifest");
  if (manifest_parse (p->stored_data, p->stored_len, img->manifest_type, &p->stored, err) < 0)
    return err_wrap (err, "manifest %s", img->manifest_digest);
  if (p->stored->kind != MANIFEST_IMAGE || strcmp (p->stored->config.digest, img->id) != 0
      || p->stored->n_layers != n)
    return err_make (err, 0, "manifest %s does not describe image %.12s",
                     img->manifest_digest, images_hex_id (img->id));
  for (size_t i = 0; i < n; i++)
    if (strcmp (p->stored->layers[i].digest, img->layer_blobs[i]) != 0)
      return err_make (err, 0, "manifest %s does not describe image %.12s",
                       img->manifest_digest, images_hex_id (img->id));
  return 0;
}

/* ---- 3: the blobs ----------------------------------------------------------- */

static enum manifest_compression
sniff_compression (int fd)
{
  unsigned char m[4] = { 0 };
  ssize_t n = pread (fd, m, sizeof m, 0);

  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
    return MANIFEST_COMPRESSION_GZIP;
  if (n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
    return MANIFEST_COMPRESSION_ZSTD;
  return MANIFEST_COMPRESSION_NONE;
}

/* B gets the stored blob DIGEST, open, with the descriptor FROM (the
 * stored manifest's) or one made from the file. */
static int
open_blob (struct push *p, struct push_blob *b, const char *digest,
           const struct manifest_descriptor *from, struct error **err)
{
  struct stat st;

  b->push = p;
  b->fd = storage_blob_open (p->store, digest, err);
  if (b->fd < 0)
    return -1;
  if (fstat (b->fd, &st) < 0)
    return err_make (err, errno, "stat blob %s", digest);
  b->desc.digest = xstrdup (digest);
  b->desc.size = st.st_size;
  b->desc.compression = from ? from->compression : sniff_compression (b->fd);
  if (from && from->size != st.st_size)
    return err_make (err, 0, "blob %s: the store has %lld bytes, the manifest says %lld: pull "
                     "the image again", digest, (long long) st.st_size, (long long) from->size);
  return 0;
}

static int
parse_compression (const char *s, enum manifest_compression *out, struct error **err)
{
  if (strcmp (s, "gzip") == 0)
    *out = MANIFEST_COMPRESSION_GZIP;
  else if (strcmp (s, "zstd") == 0)
    *out = MANIFEST_COMPRESSION_ZSTD;
  else
    return err_make (err, 0, "invalid compression format \"%s\": use gzip or zstd", s);
  return 0;
}

struct compressor
{
  int fd;
  struct sha256_ctx *sha;
  uint64_t size;
  struct error *werr;
};

static la_ssize_t
write_compressed (struct archive *a, void *opaque, const void *buf, size_t len)
{
  struct compressor *c = opaque;
  const char *p = buf;
  size_t left = len;

  (void) a;
  while (left > 0)
    {
      ssize_t n = write (c->fd, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          err_make (&c->werr, errno, "write the recompressed layer");
          return -1;
        }
      p += n;
      left -= (size_t) n;
    }
  sha256_update (c->sha, buf, len);
  c->size += len;
  return (la_ssize_t) len;
}

static void
archive_freep (struct archive **a)
{
  if (*a)
    archive_free (*a);
}

#define cleanup_archive __attribute__ ((cleanup (archive_freep)))

static int
archive_failure (struct archive *a, const char *what, struct error **err)
{
  const char *why = a ? archive_error_string (a) : NULL;

  return err_make (err, a ? archive_errno (a) : 0, "%s: %s", what, why ? why : "failed");
}

/* A raw-format reader that undoes any compression of FD. */
static struct archive *
open_decompressor (int fd, struct error **err)
{
  cleanup_archive struct archive *r = archive_read_new ();
  struct archive_entry *e;

  if (archive_read_support_filter_all (r) != ARCHIVE_OK
      || archive_read_support_format_raw (r) != ARCHIVE_OK
      || archive_read_open_fd (r, fd, COPY_BUF_SIZE) != ARCHIVE_OK
      || archive_read_next_header (r, &e) != ARCHIVE_OK)
    return archive_failure (r, "read the layer", err), NULL;
  return steal_ptr (&r);
}

/* A raw-format writer compressing into C, reproducibly: the same layer
 * makes the same blob (no gzip timestamp, no block padding). */
static struct archive *
open_compressor (struct compressor *c, enum manifest_compression to, struct error **err)
{
  cleanup_archive struct archive *w = archive_write_new ();
  struct archive_entry *e;
  int r;

  r = to == MANIFEST_COMPRESSION_ZSTD ? archive_write_add_filter_zstd (w)
                                      : archive_write_add_filter_gzip (w);
  if (r == ARCHIVE_OK && to == MANIFEST_COMPRESSION_GZIP)
    r = archive_write_set_filter_option (w, "gzip", "timestamp", NULL);
  if (r != ARCHIVE_OK || archive_write_set_format_raw (w) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (w, 1) != ARCHIVE_OK
      || archive_write_open2 (w, c, NULL, write_compressed, NULL, NULL) != ARCHIVE_OK)
    return archive_failure (w, "compress the layer", err), NULL;
  e = archive_entry_new ();
  archive_entry_set_pathname (e, "layer");
  archive_entry_set_filetype (e, AE_IFREG);
  r = archive_write_header (w, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return archive_failure (w, "compress the layer", err), NULL;
  return steal_ptr (&w);
}

/* Copy R's decompressed data into W, hashing it into HEX. */
static int
pump (struct archive *r, struct archive *w, struct compressor *c, char hex[SHA256_HEX_LEN + 1],
      struct error **err)
{
  cleanup_sha256 struct sha256_ctx *diff = sha256_new ();
  cleanup_free char *buf = xmalloc (COPY_BUF_SIZE);

  for (;;)
    {
      la_ssize_t n = archive_read_data (r, buf, COPY_BUF_SIZE);
      if (n < 0)
        return archive_failure (r, "read the layer", err);
      if (n == 0)
        break;
      sha256_update (diff, buf, (size_t) n);
      if (archive_write_data (w, buf, (size_t) n) != n)
        {
          if (c->werr)
            return *err = steal_ptr (&c->werr), -1;
          return archive_failure (w, "compress the layer", err);
        }
    }
  if (archive_write_close (w) != ARCHIVE_OK)
    {
      if (c->werr)
        return *err = steal_ptr (&c->werr), -1;
      return archive_failure (w, "compress the layer", err);
    }
  sha256_final_hex (diff, hex);
  return 0;
}

/* Replace layer B's blob by one compressed with TO, made in a store stage
 * from the stored blob; its content must be DIFF_ID. */
static int
recompress (struct push *p, struct push_blob *b, enum manifest_compression to,
            const char *diff_id, struct error **err)
{
  cleanup_archive struct archive *r = NULL, *w = NULL;
  cleanup_sha256 struct sha256_ctx *sha = sha256_new ();
  struct compressor c = { .sha = sha };
  char diff_hex[SHA256_HEX_LEN + 1], hex[SHA256_HEX_LEN + 1];

  if (storage_blob_stage_new (p->store, &b->stage, err) < 0)
    return -1;
  c.fd = storage_blob_stage_fd (b->stage);
  r = open_decompressor (b->fd, err);
  w = r ? open_compressor (&c, to, err) : NULL;
  if (w == NULL || pump (r, w, &c, diff_hex, err) < 0)
    {
      err_release (&c.werr);
      return err_wrap (err, "layer %s", b->desc.digest);
    }
  if (strcmp (diff_hex, diff_id + 7) != 0)
    return err_make (err, 0, "layer %s: the stored blob is corrupt (its content is sha256:%s, "
                     "not %s): remove the image and pull it again", b->desc.digest, diff_hex,
                     diff_id);
  sha256_final_hex (sha, hex);
  log_debug ("layer %s: recompressed to sha256:%s, %llu bytes", b->desc.digest, hex,
             (unsigned long long) c.size);
  close (b->fd);
  b->fd = open (storage_blob_stage_path (b->stage), O_RDONLY | O_CLOEXEC);
  if (b->fd < 0)
    return err_make (err, errno, "open \"%s\"", storage_blob_stage_path (b->stage));
  free (b->desc.digest);
  b->desc.digest = xasprintf ("sha256:%s", hex);
  b->desc.size = (int64_t) c.size;
  b->desc.compression = to;
  p->is_changed = true;
  return 0;
}

static int
plan_blobs (struct push *p, struct error **err)
{
  enum manifest_compression want = MANIFEST_COMPRESSION_NONE;
  const char *cf = p->opts->compression_format;

  if (cf && parse_compression (cf, &want, err) < 0)
    return -1;
  if (open_blob (p, &p->config, p->img->id, p->stored ? &p->stored->config : NULL, err) < 0)
    return err_wrap (err, "config");
  p->n_layers = strv_len (p->img->layer_blobs);
  p->layers = xcalloc (p->n_layers + 1, sizeof *p->layers);
  for (size_t i = 0; i < p->n_layers; i++)
    p->layers[i].fd = -1;
  for (size_t i = 0; i < p->n_layers; i++)
    {
      struct push_blob *b = &p->layers[i];

      if (open_blob (p, b, p->img->layer_blobs[i], p->stored ? &p->stored->layers[i] : NULL,
                     err) < 0)
        return -1;
      if (cf && b->desc.compression != want
          && recompress (p, b, want, p->diff_ids[i], err) < 0)
        return -1;
    }
  return 0;
}

/* ---- 4: the manifest -------------------------------------------------------- */

static int
parse_format (struct push *p, struct error **err)
{
  const char *f = p->opts->format;
  bool is_stored_docker = p->stored && strcmp (p->stored->media_type,
                                               MANIFEST_MT_DOCKER_MANIFEST) == 0;

  if (f == NULL)
    p->is_docker = is_stored_docker;
  else if (strcmp (f, "oci") == 0)
    p->is_docker = false;
  else if (strcmp (f, "v2s2") == 0 || strcmp (f, "docker") == 0)
    p->is_docker = true;
  else if (strcmp (f, "v2s1") == 0)
    return err_make (err, 0, "--format v2s1: Docker schema1 is not supported: use v2s2 or oci");
  else
    return err_make (err, 0, "invalid manifest format \"%s\": use oci or v2s2", f);
  if (p->stored == NULL || p->is_docker != is_stored_docker)
    p->is_changed = true;
  return 0;
}

static int
make_manifest (struct push *p, struct error **err)
{
  cleanup_free struct manifest_descriptor *layers = NULL;
  char hex[SHA256_HEX_LEN + 1];

  if (parse_format (p, err) < 0)
    return -1;
  if (!p->is_changed)
    {
      p->manifest = steal_ptr (&p->stored_data);
      p->manifest_len = p->stored_len;
    }
  else
    {
      layers = xcalloc (p->n_layers + 1, sizeof *layers);
      for (size_t i = 0; i < p->n_layers; i++)
        layers[i] = p->layers[i].desc;
      p->manifest = registry_push_make_manifest (p->is_docker, &p->config.desc, layers,
                                                 p->n_layers, err);
      if (p->manifest == NULL)
        return -1;
      p->manifest_len = strlen (p->manifest);
    }
  sha256_buf_hex (p->manifest, p->manifest_len, hex);
  snprintf (p->digest, sizeof p->digest, "sha256:%s", hex);
  return 0;
}

/* ---- 5, 6: the registry -------------------------------------------------------- */

static int
open_client (struct push *p, struct error **err)
{
  struct registry_options ro = { .want_push = true };
  struct registry_creds creds = { 0 };
  cleanup_free char *scope = NULL;
  const char *scopes[2] = { NULL, NULL };

  ro.is_insecure = p->is_insecure;
  ro.cert_dir = p->opts->cert_dir;
  ro.authfile = p->opts->authfile;
  if (p->mount_from)
    {
      scopes[0] = scope = xasprintf ("repository:%s:pull", p->mount_from);
      ro.extra_scopes = scopes;
    }
  if (p->opts->creds)
    {
      if (registry_creds_parse (p->opts->creds, &creds, err) < 0)
        return -1;
      ro.creds = &creds;
    }
  p->client = registry_client_new (p->dest.registry, p->dest.repository, &ro, err);
  registry_creds_clear (&creds);
  return p->client ? 0 : -1;
}

/* SKIFF_PUSH_CHUNK_SIZE (bytes) makes uploads chunked: tests and
 * registries that want small requests.  0 or unset: one PUT per blob. */
static uint64_t
chunk_size (void)
{
  const char *s = getenv ("SKIFF_PUSH_CHUNK_SIZE");
  char *end;
  unsigned long long v;

  if (s == NULL || *s == '\0')
    return 0;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno != 0 || *end != '\0')
    {
      log_warn ("ignoring SKIFF_PUSH_CHUNK_SIZE=\"%s\": not a number of bytes", s);
      return 0;
    }
  return v;
}

static int
push_one (struct push *p, struct push_blob *b, bool is_config, struct error **err)
{
  struct registry_push_blob_req req = {
    .digest = b->desc.digest,
    .size = (uint64_t) b->desc.size,
    .fd = b->fd,
    .mount_from = p->mount_from,
    .chunk_size = chunk_size (),
    .progress = on_progress,
    .progress_data = b,
  };
  enum registry_push_result result;

  if (registry_push_blob (p->client, &req, &result, err) < 0)
    return -1;
  b->state = result == REGISTRY_PUSH_UPLOADED ? BLOB_DONE : BLOB_SKIPPED;
  b->done = (uint64_t) b->desc.size;
  if (is_config)
    say (p, "Copying config %.10s done\n", b->desc.digest + 7);
  else if (p->is_tty && !p->opts->is_quiet)
    draw_bars (p, true);
  else
    say (p, "Copying blob %.12s %s\n", b->desc.digest + 7,
         b->state == BLOB_DONE ? "done" : "skipped: already exists");
  return 0;
}

static int
push_blobs (struct push *p, struct error **err)
{
  say (p, "Getting image source signatures\n");
  for (size_t i = 0; i < p->n_layers; i++)
    if (push_one (p, &p->layers[i], false, err) < 0)
      return -1;
  return push_one (p, &p->config, true, err);
}

static int
push_manifest (struct push *p, struct error **err)
{
  const char *reference = p->dest.tag ? p->dest.tag : p->dest.digest;
  char got[SHA256_DIGEST_STR_LEN];

  say (p, "Writing manifest to image destination\n");
  if (registry_push_manifest (p->client, reference, p->manifest, p->manifest_len,
                              p->is_docker ? MANIFEST_MT_DOCKER_MANIFEST
                                           : MANIFEST_MT_OCI_MANIFEST,
                              got, err) < 0)
    return -1;
  if (p->opts->digestfile
      && fs_write_atomic (p->opts->digestfile, p->digest, strlen (p->digest), 0644, err) < 0)
    return err_wrap (err, "write the digest file");
  return 0;
}

/* ---- the whole push ---------------------------------------------------------- */

static void
blob_clear (struct push_blob *b)
{
  if (b->fd >= 0)
    close (b->fd);
  storage_blob_stage_free (b->stage);
  free (b->desc.digest);
}

static void
push_clear (struct push *p)
{
  for (size_t i = 0; i < p->n_layers; i++)
    blob_clear (&p->layers[i]);
  free (p->layers);
  blob_clear (&p->config);
  free (p->manifest);
  free (p->stored_data);
  manifest_free (p->stored);
  strv_free (p->diff_ids);
  free (p->mount_from);
  reference_free (&p->dest);
  registry_client_free (p->client);
  storage_image_free (p->img);
  storage_close (p->store);
}

static int
push_to_registry (struct push *p, const char *source, const char *destination,
                  struct error **err)
{
  cleanup_free char *dest = NULL;

  if (images_open (p->ctx, false, &p->store, err) < 0
      || images_require (p->store, source, &p->img, err) < 0)
    return -1;
  dest = destination ? xstrdup (destination) : default_destination (p->img, source, err);
  if (dest == NULL || resolve_destination (p, dest, err) < 0)
    return -1;
  find_mount_source (p);
  if (load_manifest (p, err) < 0 || load_config (p, err) < 0 || plan_blobs (p, err) < 0
      || make_manifest (p, err) < 0 || open_client (p, err) < 0 || push_blobs (p, err) < 0
      || push_manifest (p, err) < 0)
    {
      cleanup_free char *full = reference_to_string (&p->dest);
      return p->dest.registry ? err_wrap (err, "push \"%s\"", full) : -1;
    }
  return 0;
}

/* SOURCE's ID: saved by ID, an archive carries no name of the source's,
 * so the one the destination gives is its only name. */
static char *
source_id (struct skiff_context *ctx, const char *source, struct error **err)
{
  cleanup_storage struct storage_store *s = NULL;
  cleanup_image struct storage_image *img = NULL;

  if (images_open (ctx, false, &s, err) < 0 || images_require (s, source, &img, err) < 0)
    return NULL;
  return xstrdup (img->id);
}

/* To a local transport: what save writes, the stored blobs and manifest
 * as they are (a docker-archive's layers uncompressed).  A docker-archive
 * is named by the destination's reference when it has one; the OCI
 * layouts carry the image's own name (save writes one name for them). */
static int
push_local (struct skiff_context *ctx, const char *source, const struct image_transport_ref *dest,
            const struct image_push_opts *opts, struct error **err)
{
  struct image_archive_save_opts o = {
    .format = image_transport_format (dest->transport),
    .output = dest->path,
    .is_quiet = opts->is_quiet,
  };
  cleanup_free char *id = NULL;
  char *args[3] = { (char *) source, NULL, NULL };

  if (opts->format || opts->compression_format || opts->digestfile)
    return err_make (err, 0, "--format, --compression-format and --digestfile apply to "
                     "registry destinations only");
  /* Only a docker-archive takes a name besides the image's own. */
  if (dest->ref && dest->transport == IMAGE_TRANSPORT_DOCKER_ARCHIVE)
    {
      id = source_id (ctx, source, err);
      if (id == NULL)
        return -1;
      args[0] = id;
      args[1] = dest->ref;
    }
  if (image_archive_save (ctx, args, &o, err) < 0)
    return err_wrap (err, "push to \"%s\"", dest->path);
  return 0;
}

int
image_push (struct skiff_context *ctx, const char *source, const char *destination,
            const struct image_push_opts *opts, struct error **err)
{
  struct push p = { .ctx = ctx, .opts = opts, .is_tty = isatty (2) == 1 };
  struct image_transport_ref tr = { 0 };
  int r;

  p.config.fd = -1;
  r = destination ? image_transport_parse (destination, &tr, err) : 0;
  if (r < 0)
    return -1;
  if (r > 0 && tr.transport != IMAGE_TRANSPORT_DOCKER)
    r = push_local (ctx, source, &tr, opts, err);
  else
    r = push_to_registry (&p, source, r > 0 ? tr.ref : destination, err);
  image_transport_ref_clear (&tr);
  push_clear (&p);
  if (r == 0)
    events_image (ctx, "push", NULL, destination ? destination : source);
  return r;
}
