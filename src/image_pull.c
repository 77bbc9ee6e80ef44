/* Pull: resolve the name, fetch and check the manifest and config, fetch
 * the missing layer blobs in parallel, extract the missing layers inside
 * the user namespace, then record the image.
 *
 * 1. resolve_candidates: registries.conf short names, aliases, mirrors
 * 2. fetch_manifest: by tag or digest; an index gives way to the platform's
 *    manifest; schema1 and artifacts are refused by manifest_parse()
 * 3. fetch_config: verified against its digest, diff_ids counted
 * 4. plan_layers: which blobs the store lacks (present ones are claimed)
 * 5. fetch_blobs: missing blobs streamed into store stages, verified
 * 6. extract_layers: image_layers_ensure() extracts the layers the store
 *    lacks inside the user namespace, checks each diff_id, commits in order
 * 7. store_image: manifest and config blobs, then the image record (the
 *    commit point: an interrupted pull lists nothing) */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "image_archive.h"
#include "image_pull.h"
#include "image_layers.h"
#include "image_transport.h"
#include "images.h"
#include "libutil/human.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "manifest.h"
#include "reference.h"
#include "registries_conf.h"
#include "registry.h"
#include "storage/storage.h"

struct pull_layer
{
  const struct manifest_descriptor *desc;
  const char *diff_id;
  bool needs_blob;                  /* blob must be fetched */
  struct storage_blob_stage *blob_stage;
  uint64_t done;                    /* progress */
  struct pull *pull;
};

struct pull
{
  struct skiff_context *ctx;
  const struct image_pull_opts *opts;
  struct storage_store *store;
  struct registry_client *client;
  struct image_ref ref;             /* the source actually used */
  struct image_ref wanted;          /* what was asked for: the image's name,
                                       whichever mirror or location served it */
  struct registry_manifest raw;     /* the image manifest's bytes */
  struct manifest *manifest;
  char *config_data;
  size_t config_len;
  struct manifest_config *config;
  struct pull_layer *layers;
  size_t n_layers;
  char **chain_ids;                 /* filled by extract_layers */
  bool is_tty;
  int drawn_lines;
  struct timespec last_draw;
};

/* ---- progress ----------------------------------------------------------- */

static void
say (struct pull *p, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
say (struct pull *p, const char *fmt, ...)
{
  va_list ap;

  if (p->opts->is_quiet)
    return;
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
}

static void
draw_bars (struct pull *p, bool is_final)
{
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
      struct pull_layer *l = &p->layers[i];
      char done[32], total[32];
      int width = 30, fill;

      if (!l->needs_blob)
        continue;
      human_size (l->done, done, sizeof done);
      human_size ((uint64_t) l->desc->size, total, sizeof total);
      fill = l->desc->size > 0 ? (int) (l->done * width / (uint64_t) l->desc->size) : width;
      fprintf (stderr, "\033[2KCopying blob %.12s [%.*s%*s] %s / %s\n",
               l->desc->digest + 7, fill, "==============================",
               width - fill, "", done, total);
      p->drawn_lines++;
    }
  fflush (stderr);
}

static void
on_progress (void *opaque, uint64_t done, uint64_t total)
{
  struct pull_layer *l = opaque;

  (void) total;
  l->done = done;
  if (l->pull->is_tty && !l->pull->opts->is_quiet)
    draw_bars (l->pull, false);
}

/* ---- 1-3: manifest and config ------------------------------------------- */

static struct registry_client *
open_client (struct pull *p, const struct registry_pull_source *src, struct error **err)
{
  struct registry_options ro = { 0 };
  struct registry_creds creds = { 0 };
  struct registry_client *c;

  ro.is_insecure = p->opts->has_tls_verify ? !p->opts->is_tls_verify : src->is_insecure;
  /* A mirror that is down must not hold up the fall-back to the location. */
  if (src->is_mirror)
    {
      ro.max_retries = 1;
      ro.retry_delay_ms = 100;
    }
  ro.cert_dir = p->opts->cert_dir;
  ro.authfile = p->opts->authfile;
  if (p->opts->creds)
    {
      if (registry_creds_parse (p->opts->creds, &creds, err) < 0)
        return NULL;
      ro.creds = &creds;
    }
  c = registry_client_new (src->ref.registry, src->ref.repository, &ro, err);
  registry_creds_clear (&creds);
  return c;
}

static int
select_platform (struct pull *p, struct manifest *index, const char **digest,
                 struct error **err)
{
  struct manifest_platform want = { 0 };
  const struct manifest_descriptor *d;

  if (p->opts->platform)
    {
      if (manifest_platform_parse (p->opts->platform, &want, err) < 0)
        return -1;
    }
  else
    manifest_platform_host (&want);
  d = manifest_select_platform (index, &want, err);
  manifest_platform_clear (&want);
  if (d == NULL)
    return -1;
  *digest = d->digest;
  return 0;
}

static int
fetch_manifest (struct pull *p, struct error **err)
{
  const char *tag_or_digest = p->ref.digest ? p->ref.digest : p->ref.tag;
  cleanup_manifest struct manifest *first = NULL;
  const char *digest = NULL;

  if (registry_get_manifest (p->client, tag_or_digest, &p->raw, err) < 0)
    return -1;
  if (manifest_parse (p->raw.data, p->raw.len, p->raw.media_type, &first, err) < 0)
    return -1;
  if (first->kind == MANIFEST_IMAGE)
    {
      p->manifest = steal_ptr (&first);
      return 0;
    }
  if (select_platform (p, first, &digest, err) < 0)
    return -1;
  cleanup_free char *want = xstrdup (digest);
  registry_manifest_clear (&p->raw);
  if (registry_get_manifest (p->client, want, &p->raw, err) < 0)
    return -1;
  if (strcmp (p->raw.digest, want) != 0)
    return err_make (err, 0, "manifest %s: registry sent content with digest %s", want,
                     p->raw.digest);
  if (manifest_parse (p->raw.data, p->raw.len, p->raw.media_type, &p->manifest, err) < 0)
    return err_wrap (err, "manifest %s", want);
  if (p->manifest->kind != MANIFEST_IMAGE)
    return err_make (err, 0, "manifest %s: an index inside an index is not supported", want);
  return 0;
}

static int
fetch_config (struct pull *p, struct error **err)
{
  const struct manifest_descriptor *cd = &p->manifest->config;

  if (cd->size > (int64_t) MANIFEST_CONFIG_MAX_SIZE)
    return err_make (err, 0, "config %s: %lld bytes is too large", cd->digest,
                     (long long) cd->size);
  if (storage_blob_exists (p->store, cd->digest))
    p->config_data = storage_blob_read (p->store, cd->digest, MANIFEST_CONFIG_MAX_SIZE,
                                        &p->config_len, NULL);
  if (p->config_data == NULL
      && registry_get_blob (p->client, cd->digest, MANIFEST_CONFIG_MAX_SIZE, &p->config_data,
                            &p->config_len, err) < 0)
    return err_wrap (err, "fetch config");
  if (manifest_config_parse (p->config_data, p->config_len, (long) p->manifest->n_layers,
                             &p->config, err) < 0)
    return err_wrap (err, "config %s", cd->digest);
  return 0;
}

static int
try_source (struct pull *p, const struct registry_pull_source *src, struct error **err)
{
  registry_client_free (p->client);
  p->client = open_client (p, src, err);
  if (p->client == NULL)
    return -1;
  reference_free (&p->ref);
  reference_copy (&src->ref, &p->ref);
  registry_manifest_clear (&p->raw);
  manifest_free (p->manifest);
  p->manifest = NULL;
  return fetch_manifest (p, err);
}

/* Try each place REF can come from; the error of the last one is kept. */
static int
resolve_source (struct pull *p, const struct registries_conf *conf,
                const struct image_ref *ref, struct error **err)
{
  struct registry_pull_source *srcs = NULL;
  size_t n = 0;
  int r = -1;

  if (registries_conf_pull_sources (conf, ref, &srcs, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n && r < 0; i++)
    {
      if (i > 0)
        err_release (err);
      r = try_source (p, &srcs[i], err);
      if (r < 0 && srcs[i].is_mirror)
        log_info ("mirror %s failed: %s", srcs[i].ref.registry, (*err)->msg);
    }
  registries_conf_free_sources (srcs, n);
  return r;
}

/* ---- 4: which blobs are missing ------------------------------------------------- */

static int
plan_layers (struct pull *p, struct error **err)
{
  p->n_layers = p->manifest->n_layers;
  p->layers = xcalloc (p->n_layers ? p->n_layers : 1, sizeof *p->layers);
  for (size_t i = 0; i < p->n_layers; i++)
    {
      struct pull_layer *l = &p->layers[i];
      int have;

      l->desc = &p->manifest->layers[i];
      l->diff_id = p->config->diff_ids[i];
      l->pull = p;
      have = storage_blob_claim (p->store, l->desc->digest, err);
      if (have < 0)
        return -1;
      /* The compressed blob is kept for push and save even when the layer
       * is present, so the image can be shared byte for byte. */
      l->needs_blob = have == 0;
    }
  return 0;
}

/* ---- 5: blobs ----------------------------------------------------------- */

static int
fetch_blobs (struct pull *p, struct error **err)
{
  cleanup_free struct registry_blob_req *reqs = xcalloc (p->n_layers + 1, sizeof *reqs);
  size_t n = 0;

  for (size_t i = 0; i < p->n_layers; i++)
    {
      struct pull_layer *l = &p->layers[i];
      if (!l->needs_blob)
        continue;
      if (storage_blob_stage_new (p->store, &l->blob_stage, err) < 0)
        return -1;
      reqs[n].digest = l->desc->digest;
      reqs[n].size = l->desc->size;
      reqs[n].fd = storage_blob_stage_fd (l->blob_stage);
      reqs[n].progress = on_progress;
      reqs[n].progress_data = l;
      n++;
    }
  if (n == 0)
    return 0;
  if (registry_fetch_blobs (p->client, reqs, n, err) < 0)
    return -1;
  if (p->is_tty && !p->opts->is_quiet)
    draw_bars (p, true);
  for (size_t i = 0; i < p->n_layers; i++)
    {
      struct pull_layer *l = &p->layers[i];
      if (!l->needs_blob)
        continue;
      if (storage_blob_stage_commit (p->store, l->blob_stage, l->desc->digest, err) < 0)
        return -1;
      storage_blob_stage_free (l->blob_stage);
      l->blob_stage = NULL;
      if (!p->is_tty)
        say (p, "Copying blob %.12s done\n", l->desc->digest + 7);
    }
  return 0;
}

/* ---- 6: layers ---------------------------------------------------------- */

static int
extract_layers (struct pull *p, struct error **err)
{
  cleanup_free struct image_layer_spec *specs = xcalloc (p->n_layers + 1, sizeof *specs);

  for (size_t i = 0; i < p->n_layers; i++)
    {
      specs[i].blob_digest = p->layers[i].desc->digest;
      specs[i].blob_size = p->layers[i].desc->size;
      specs[i].diff_id = p->layers[i].diff_id;
    }
  return image_layers_ensure (p->ctx, p->store, specs, p->n_layers, &p->chain_ids, NULL, err);
}

/* ---- 7: the image record ------------------------------------------------ */

static int
store_image (struct pull *p, char **id_out, struct error **err)
{
  struct storage_image img = { 0 };
  cleanup_strv char **names = NULL, **digests = NULL, **layers = NULL, **blobs = NULL;
  cleanup_free char *repo = reference_repo_string (&p->wanted);
  int64_t created = 0;

  if (storage_blob_put_bytes (p->store, p->manifest->config.digest, p->config_data,
                              p->config_len, NULL, err) < 0)
    return err_wrap (err, "store config");
  if (storage_blob_put_bytes (p->store, p->raw.digest, p->raw.data, p->raw.len, NULL, err) < 0)
    return err_wrap (err, "store manifest");
  names = xcalloc (1, sizeof *names);
  digests = xcalloc (1, sizeof *digests);
  layers = xcalloc (1, sizeof *layers);
  blobs = xcalloc (1, sizeof *blobs);
  if (p->wanted.tag)
    {
      cleanup_free char *full = xasprintf ("%s:%s", repo, p->wanted.tag);
      names = strv_append (names, full);
    }
  {
    cleanup_free char *rd = xasprintf ("%s@%s", repo, p->raw.digest);
    digests = strv_append (digests, rd);
  }
  for (size_t i = 0; i < p->n_layers; i++)
    {
      layers = strv_append (layers, p->chain_ids[i]);
      blobs = strv_append (blobs, p->layers[i].desc->digest);
    }
  if (p->config->created)
    human_parse_rfc3339 (p->config->created, &created, NULL);
  img.id = p->manifest->config.digest;
  img.names = names;
  img.digests = digests;
  img.manifest_digest = p->raw.digest;
  img.manifest_type = p->manifest->media_type;
  img.layers = layers;
  img.layer_blobs = blobs;
  img.created = created;
  if (storage_image_put (p->store, &img, err) < 0)
    return err_wrap (err, "store image");
  *id_out = xstrdup (img.id);
  return 0;
}

/* ---- the whole pull ----------------------------------------------------- */

static void
pull_clear (struct pull *p)
{
  for (size_t i = 0; i < p->n_layers; i++)
    {
      storage_blob_stage_free (p->layers[i].blob_stage);
    }
  free (p->layers);
  strv_free (p->chain_ids);
  manifest_config_free (p->config);
  free (p->config_data);
  manifest_free (p->manifest);
  registry_manifest_clear (&p->raw);
  reference_free (&p->ref);
  reference_free (&p->wanted);
  registry_client_free (p->client);
  storage_close (p->store);
}

/* A layer that failed to extract, or lost the race with a concurrent pull
 * of the same layer, went to the trash: empty it now rather than leave it
 * to the next writer.  Leftover trash only costs space. */
static void
purge_trash (struct pull *p)
{
  cleanup_error struct error *err = NULL;

  if (images_purge_trash (p->ctx, p->store, &err) < 0)
    log_warn ("%s", err->msg);
}

static int
pull_from_candidates (struct pull *p, const char *name, struct error **err)
{
  cleanup_registries_conf struct registries_conf *conf = NULL;
  struct image_ref *cands = NULL;
  size_t n = 0;
  int r = -1;

  if (registries_conf_load (&conf, err) < 0)
    return -1;
  if (registries_conf_resolve (conf, name, &cands, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n && r < 0; i++)
    {
      cleanup_free char *full = reference_to_string (&cands[i]);
      if (i > 0)
        {
          log_info ("%s", (*err)->msg);
          err_release (err);
        }
      say (p, "Trying to pull %s...\n", full);
      reference_free (&p->wanted);
      reference_copy (&cands[i], &p->wanted);
      r = resolve_source (p, conf, &cands[i], err);
      if (r < 0)
        err_wrap (err, "initializing source %s", full);
    }
  registries_conf_free_refs (cands, n);
  return r;
}

/* ---- local transports (oci:, oci-archive:, docker-archive:, dir:) ------ */

/* Whether the loaded name NAME is what REF says: as written, normalised,
 * or as a short name under localhost/ (what load makes of an OCI tag). */
static bool
loaded_name_matches (const char *name, const char *ref)
{
  cleanup_free char *normal = images_normalize_name (ref, NULL);
  cleanup_free char *local_ref = xasprintf ("localhost/%s", ref);
  cleanup_free char *local = images_normalize_name (local_ref, NULL);

  return strcmp (name, ref) == 0 || (normal && strcmp (name, normal) == 0)
         || (local && strcmp (name, local) == 0);
}

/* Load every image SRC holds (image_archive_load()); *ID_OUT gets the one
 * SRC's reference names, or the first. */
static int
pull_from_transport (struct skiff_context *ctx, const struct image_transport_ref *src,
                     const struct image_pull_opts *opts, char **id_out, struct error **err)
{
  struct image_archive_load_opts lo = { .input = src->path, .is_quiet = opts->is_quiet };
  cleanup_storage struct storage_store *s = NULL;
  cleanup_image struct storage_image *img = NULL;
  cleanup_strv char **loaded = NULL;
  const char *chosen = NULL;

  if (image_archive_load (ctx, &lo, &loaded, err) < 0)
    return -1;
  for (size_t i = 0; src->ref && loaded[i] && chosen == NULL; i++)
    if (loaded_name_matches (loaded[i], src->ref))
      chosen = loaded[i];
  if (chosen == NULL)
    chosen = loaded[0];
  if (chosen == NULL)
    return err_make (err, 0, "\"%s\" holds no image", src->path);
  if (images_open (ctx, false, &s, err) < 0 || images_require (s, chosen, &img, err) < 0)
    return -1;
  *id_out = xstrdup (img->id);
  return 0;
}

char *
image_pull_remote_digest (struct skiff_context *ctx, const char *name,
                          const struct image_pull_opts *opts, struct error **err)
{
  struct image_pull_opts quiet = *opts;
  struct pull p = { .ctx = ctx, .opts = &quiet };
  char *digest = NULL;

  quiet.is_quiet = true;
  if (pull_from_candidates (&p, name, err) == 0)
    digest = xstrdup (p.raw.digest);
  pull_clear (&p);
  return digest;
}

int
image_pull (struct skiff_context *ctx, const char *name, const struct image_pull_opts *opts,
            char **id_out, struct error **err)
{
  struct pull p = { .ctx = ctx, .opts = opts, .is_tty = isatty (2) == 1 };
  struct image_transport_ref tr = { 0 };
  int r;

  r = image_transport_parse (name, &tr, err);
  if (r != 0)
    {
      if (r > 0 && tr.transport == IMAGE_TRANSPORT_DOCKER)
        r = image_pull (ctx, tr.ref, opts, id_out, err);
      else if (r > 0)
        r = pull_from_transport (ctx, &tr, opts, id_out, err);
      image_transport_ref_clear (&tr);
      return r;
    }
  r = images_open (ctx, true, &p.store, err);
  if (r == 0)
    r = pull_from_candidates (&p, name, err);
  if (r == 0)
    r = fetch_config (&p, err);
  if (r == 0)
    {
      say (&p, "Getting image source signatures\n");
      r = plan_layers (&p, err);
    }
  if (r == 0)
    r = fetch_blobs (&p, err);
  if (r == 0)
    {
      say (&p, "Copying config %.10s done\n", p.manifest->config.digest + 7);
      r = extract_layers (&p, err);
    }
  if (r == 0)
    {
      say (&p, "Writing manifest to image destination\n");
      r = store_image (&p, id_out, err);
      if (r == 0)
        events_image (ctx, "pull", id_out ? *id_out : NULL, name);
    }
  if (p.store)
    purge_trash (&p);
  pull_clear (&p);
  return r;
}
