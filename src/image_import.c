/* Importing a rootfs tarball as a one-layer image: the tarball becomes a
 * layer blob and a layer as in load, and a config is made for it with the
 * --change instructions applied (image_change.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image_archive.h"
#include "image_archive_internal.h"
#include "image_change.h"
#include "image_layers.h"
#include "images.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "manifest.h"
#include "reference.h"
#include "storage/storage.h"

static int
write_chunk (void *arg, const void *buf, size_t len, struct error **err)
{
  return image_archive_write_all (*(int *) arg, buf, len, err);
}

/* The tarball as a staged blob, hashed; xz and bzip2 are decompressed
 * into a second stage, since no manifest can name them. */
static int
stage_tarball (struct storage_store *s, int fd, const char *name, struct member *m,
               struct error **err)
{
  enum blob_compression c;
  cleanup_close int in = -1;
  struct member plain = { 0 };
  char hex[SHA256_HEX_LEN + 1];
  int out;

  m->name = xstrdup (name);
  if (image_archive_ingest (s, NULL, m, -1, image_archive_read_fd_data, &fd, err) < 0)
    return -1;
  c = image_archive_sniff_compression (m->magic, m->n_magic);
  if (c != COMP_XZ && c != COMP_BZIP2)
    return 0;
  in = open (storage_blob_stage_path (m->stage), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return err_make (err, errno, "open \"%s\"", storage_blob_stage_path (m->stage));
  plain.name = xstrdup (name);
  if (storage_blob_stage_new (s, &plain.stage, err) < 0)
    {
      image_archive_member_clear (&plain);
      return -1;
    }
  out = storage_blob_stage_fd (plain.stage);
  if (image_archive_decompress_fd (in, write_chunk, &out, &plain.size, hex, err) < 0)
    {
      image_archive_member_clear (&plain);
      return err_wrap (err, "\"%s\"", name);
    }
  snprintf (plain.digest, sizeof plain.digest, "sha256:%s", hex);
  image_archive_member_clear (m);
  *m = plain;
  return 0;
}

static json_object *
import_config (const struct image_archive_import_opts *o, json_object *inner,
               const char *diff_id)
{
  struct manifest_platform host = { 0 };
  json_object *cfg = json_object_new_object ();
  json_object *rootfs = json_object_new_object ();
  json_object *diff_ids = json_object_new_array ();
  json_object *history = json_object_new_array ();
  json_object *h = json_object_new_object ();
  const char *variant;
  struct timespec now;
  char created[64];

  clock_gettime (CLOCK_REALTIME, &now);
  human_rfc3339 (now.tv_sec, now.tv_nsec, created, sizeof created);
  manifest_platform_host (&host);
  variant = o->variant ? o->variant : o->arch ? NULL : host.variant;
  json_object_object_add (cfg, "created", json_object_new_string (created));
  json_object_object_add (cfg, "architecture",
                          json_object_new_string (o->arch ? o->arch : host.architecture));
  if (variant)
    json_object_object_add (cfg, "variant", json_object_new_string (variant));
  json_object_object_add (cfg, "os", json_object_new_string (o->os ? o->os : host.os));
  if (o->message)
    json_object_object_add (cfg, "comment", json_object_new_string (o->message));
  json_object_object_add (cfg, "config", json_object_get (inner));
  json_object_array_add (diff_ids, json_object_new_string (diff_id));
  json_object_object_add (rootfs, "type", json_object_new_string ("layers"));
  json_object_object_add (rootfs, "diff_ids", diff_ids);
  json_object_object_add (cfg, "rootfs", rootfs);
  json_object_object_add (h, "created", json_object_new_string (created));
  {
    cleanup_free char *by = xasprintf ("/bin/sh -c #(nop) ADD file:%s in /", diff_id + 7);
    json_object_object_add (h, "created_by", json_object_new_string (by));
  }
  json_object_object_add (h, "comment", json_object_new_string (o->message
                                                                 ? o->message
                                                                 : "imported from tarball"));
  json_object_array_add (history, h);
  json_object_object_add (cfg, "history", history);
  manifest_platform_clear (&host);
  return cfg;
}

static int
import_name (const char *reference, char ***names, struct error **err)
{
  cleanup_image_ref struct image_ref ref = { 0 };
  cleanup_free char *name = NULL;

  *names = xcalloc (1, sizeof **names);
  if (reference == NULL)
    return 0;
  if (reference_parse (reference, &ref, err) < 0)
    return -1;
  if (ref.digest)
    return err_make (err, 0, "invalid reference \"%s\": an image name cannot contain a digest",
                     reference);
  name = reference_to_string (&ref);
  *names = strv_append (*names, name);
  return 0;
}

struct importer
{
  struct skiff_context *ctx;
  const struct image_archive_import_opts *opts;
  struct storage_store *s;
  struct member layer;
  char **names;
  char *diff_id;
  char *config_data;
  char *config_digest;
  char *manifest_digest;
  char *chain_id;
};

static int
import_layer (struct importer *im, struct error **err)
{
  const char *input = im->opts->input;
  cleanup_close int fd = -1;
  enum blob_compression c;
  struct image_layer_spec spec = { 0 };
  cleanup_strv char **chain_ids = NULL, **diff_ids = NULL;

  if (strcmp (input, "-") != 0)
    {
      fd = open (input, O_RDONLY | O_NOCTTY | O_CLOEXEC);
      if (fd < 0)
        return err_make (err, errno, "open \"%s\"", input);
    }
  else if (isatty (0))
    return err_make (err, 0, "cannot read from terminal, use command-line redirection");
  if (stage_tarball (im->s, fd >= 0 ? fd : 0, input, &im->layer, err) < 0
      || image_archive_store_member (im->s, &im->layer, err) < 0)
    return -1;
  image_archive_say (im->opts->is_quiet,
                     "Getting image source signatures\nCopying blob %.12s done\n",
                     im->layer.digest + 7);
  c = image_archive_sniff_compression (im->layer.magic, im->layer.n_magic);
  spec.blob_digest = im->layer.digest;
  spec.blob_size = (int64_t) im->layer.size;
  spec.diff_id = c == COMP_NONE || im->layer.n_magic == 0 ? im->layer.digest : NULL;
  if (image_layers_ensure (im->ctx, im->s, &spec, 1, &chain_ids, &diff_ids, err) < 0)
    return -1;
  im->chain_id = xstrdup (chain_ids[0]);
  im->diff_id = xstrdup (diff_ids[0]);
  return 0;
}

static int
import_store (struct importer *im, json_object *inner, struct error **err)
{
  cleanup_json json_object *cfg = import_config (im->opts, inner, im->diff_id);
  struct manifest_layer ml = { 0 };
  cleanup_free char *manifest = NULL;
  char *layers[] = { im->chain_id, NULL };
  char *blobs[] = { im->layer.digest, NULL };
  struct storage_image img = { 0 };

  im->config_data = jobj_to_string (cfg, false);
  if (storage_blob_put_bytes (im->s, NULL, im->config_data, strlen (im->config_data),
                              &im->config_digest, err) < 0)
    return err_wrap (err, "store config");
  image_archive_say (im->opts->is_quiet, "Copying config %.10s done\n", im->config_digest + 7);
  ml.digest = im->layer.digest;
  ml.size = im->layer.size;
  ml.compression = image_archive_sniff_compression (im->layer.magic, im->layer.n_magic);
  manifest = image_archive_make_manifest (false, im->config_digest, strlen (im->config_data),
                                          &ml, 1, err);
  if (manifest == NULL)
    return -1;
  image_archive_say (im->opts->is_quiet, "Writing manifest to image destination\n");
  if (storage_blob_put_bytes (im->s, NULL, manifest, strlen (manifest), &im->manifest_digest,
                              err) < 0)
    return err_wrap (err, "store manifest");
  img.id = im->config_digest;
  img.names = im->names;
  img.manifest_digest = im->manifest_digest;
  img.manifest_type = (char *) MANIFEST_MT_OCI_MANIFEST;
  img.layers = layers;
  img.layer_blobs = blobs;
  img.created = (int64_t) time (NULL);
  if (storage_image_put (im->s, &img, err) < 0)
    return err_wrap (err, "store image");
  return 0;
}

int
image_archive_import (struct skiff_context *ctx, const struct image_archive_import_opts *opts,
                      char **id, struct error **err)
{
  struct importer im = { .ctx = ctx, .opts = opts };
  cleanup_json json_object *inner = json_object_new_object ();
  int r = 0;

  if (strncmp (opts->input, "http://", 7) == 0 || strncmp (opts->input, "https://", 8) == 0)
    return err_make (err, 0, "importing from a URL is not supported: download \"%s\" and "
                     "import the file", opts->input);
  /* Changes and name first: a typo fails before any work. */
  for (size_t i = 0; opts->changes && opts->changes[i] && r == 0; i++)
    r = image_change_apply (inner, opts->changes[i], err);
  if (r == 0)
    r = import_name (opts->reference, &im.names, err);
  if (r == 0)
    r = images_open (ctx, true, &im.s, err);
  if (r == 0)
    r = import_layer (&im, err);
  if (r == 0)
    r = import_store (&im, inner, err);
  if (r == 0)
    *id = steal_ptr (&im.config_digest);
  else
    err_wrap (err, "import \"%s\"", opts->input);
  image_archive_member_clear (&im.layer);
  strv_free (im.names);
  free (im.diff_id);
  free (im.chain_id);
  free (im.config_data);
  free (im.config_digest);
  free (im.manifest_digest);
  storage_close (im.s);
  return r;
}
