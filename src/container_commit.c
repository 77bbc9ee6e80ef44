/* commit (see container_commit.h), in order:
 *
 *   1. check the changes and the name: a typo fails before any work (the
 *      config itself is built by container_commit_config.c)
 *   2. open the store, read the image's config and manifest
 *   3. with -p, stop the container's processes (SIGSTOP each; SIGCONT on
 *      every way out)
 *   4. write_layer: in a child in the user namespace, the changes
 *      (container_changes_collect, with ancestors) go through libarchive as a
 *      tar, hashed on the way (the diff ID), into a second libarchive
 *      writer that gzips it, hashed again (the blob digest), into a staged
 *      blob; the hashes come back in shared memory
 *   5. commit the blob; image_layers_ensure turns the chain of the image's
 *      layers plus the new one into layers (only the new one is extracted)
 *   6. the config and an OCI manifest as blobs, then storage_image_put, the
 *      commit point
 *
 * Steps 4 to 6 are container_commit_write_layer and container_commit_store,
 * which `build` uses for its RUN steps too. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "container_commit.h"
#include "container_changes.h"
#include "container_procs.h"
#include "container_start.h"
#include "container_tar.h"
#include "context.h"
#include "image_change.h"
#include "image_json.h"
#include "image_layers.h"
#include "images.h"
#include "libutil/human.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "manifest.h"
#include "runtime.h"
#include "storage/storage.h"

/* ---- the layer: the child and its two hashes ------------------------------------- */

/* Filled by the child in shared memory. */
struct layer_result
{
  char diff_id[SHA256_DIGEST_STR_LEN];
  char digest[SHA256_DIGEST_STR_LEN];
  uint64_t size;      /* compressed */
  uint64_t tar_size;
};

struct layer_job
{
  struct container_changes_src src;
  int blob_fd;
  struct layer_result *result; /* MAP_SHARED */
  struct sha256_ctx *tar_hash, *gz_hash;
  struct archive *gz;
  struct error *gz_error;
};

static la_ssize_t
gz_write (struct archive *a, void *data, const void *buf, size_t len)
{
  struct layer_job *j = data;

  (void) a;
  sha256_update (j->gz_hash, buf, len);
  j->result->size += len;
  if (container_tar_fd_sink (&j->blob_fd, buf, len, &j->gz_error) < 0)
    return -1;
  return (la_ssize_t) len;
}

/* The tar's bytes: hashed, then gzipped. */
static int
tar_sink (void *arg, const void *buf, size_t len, struct error **err)
{
  struct layer_job *j = arg;

  sha256_update (j->tar_hash, buf, len);
  j->result->tar_size += len;
  if (archive_write_data (j->gz, buf, len) < 0)
    {
      if (j->gz_error)
        {
          err_release (err);
          *err = steal_ptr (&j->gz_error);
          return -1;
        }
      return err_make (err, 0, "compress the layer: %s", archive_error_string (j->gz));
    }
  return 0;
}

static int
open_gzip (struct layer_job *j, struct error **err)
{
  struct archive_entry *e = archive_entry_new ();
  int r = 0;

  j->gz = archive_write_new ();
  archive_write_set_format_raw (j->gz);
  archive_write_add_filter_gzip (j->gz);
  /* A compressed stream is not padded to tar's blocks. */
  archive_write_set_bytes_in_last_block (j->gz, 1);
  archive_entry_set_filetype (e, AE_IFREG);
  if (archive_write_open (j->gz, j, NULL, gz_write, NULL) != ARCHIVE_OK
      || archive_write_header (j->gz, e) != ARCHIVE_OK)
    r = err_make (err, 0, "compress the layer: %s", archive_error_string (j->gz));
  archive_entry_free (e);
  return r;
}

/* The parent of PATH ("/a/b" -> "a"), resolved inside the tree so that a
 * directory a running container swapped for a symlink leads nowhere else. */
static int
open_parent (int tree, const char *path, const char **base)
{
  const char *slash = strrchr (path, '/');
  cleanup_free char *dir = xstrndup (path, (size_t) (slash - path));

  *base = slash + 1;
  if (*dir == '\0')
    return fcntl (tree, F_DUPFD_CLOEXEC, 3);
  return runtime_fs_open_in_root (tree, dir, O_RDONLY | O_DIRECTORY, 0);
}

static int
add_change (struct container_tar *t, int tree, const struct container_change *ch,
            struct error **err)
{
  cleanup_free char *marker = NULL;
  cleanup_close int parent = -1;
  const char *base;

  if (ch->kind == CONTAINER_CHANGE_DELETE)
    {
      marker = container_changes_whiteout_name (ch->path);
      return container_tar_add_marker (t, marker, err);
    }
  parent = open_parent (tree, ch->path, &base);
  if (parent < 0)
    return err_make (err, errno, "open the directory of \"%s\"", ch->path);
  if (container_tar_add (t, parent, base, ch->path + 1, false, err) < 0)
    return -1;
  if (!ch->is_opaque)
    return 0;
  marker = container_changes_opaque_name (ch->path);
  return container_tar_add_marker (t, marker, err);
}

static int
write_changes (struct layer_job *j, const struct container_changes *c, struct error **err)
{
  cleanup_container_tar struct container_tar *t = container_tar_new (tar_sink, j);
  cleanup_close int tree = open (j->src.tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (tree < 0 && errno != ENOENT)
    return err_make (err, errno, "open \"%s\"", j->src.tree);
  for (size_t i = 0; i < c->n; i++)
    if (add_change (t, tree, &c->v[i], err) < 0)
      return -1;
  return container_tar_finish (t, err);
}

static void
finish_hash (struct sha256_ctx *h, char out[SHA256_DIGEST_STR_LEN])
{
  char hex[SHA256_HEX_LEN + 1];

  sha256_final_hex (h, hex);
  snprintf (out, SHA256_DIGEST_STR_LEN, "sha256:%s", hex);
}

/* Runs as root of the user namespace. */
static int
layer_child (void *arg, struct error **err)
{
  struct layer_job *j = arg;
  struct container_changes c = { 0 };
  int r;

  j->tar_hash = sha256_new ();
  j->gz_hash = sha256_new ();
  r = open_gzip (j, err);
  if (r == 0)
    r = container_changes_collect (&j->src, &c, err);
  if (r == 0)
    {
      container_changes_with_ancestors (&c);
      r = write_changes (j, &c, err);
    }
  if (r == 0 && archive_write_close (j->gz) != ARCHIVE_OK)
    r = err_make (err, 0, "compress the layer: %s", archive_error_string (j->gz));
  if (r == 0)
    {
      finish_hash (j->tar_hash, j->result->diff_id);
      finish_hash (j->gz_hash, j->result->digest);
    }
  container_changes_clear (&c);
  return r;
}

static int
write_layer (struct skiff_context *ctx, struct container *c, struct layer_job *j,
             struct error **err)
{
  struct container_rootfs rootfs;
  cleanup_free char *tree = NULL;
  int r;

  if (container_rootfs_init (ctx, c, &rootfs, err) < 0)
    {
      container_rootfs_clear (&rootfs);
      return -1;
    }
  j->src.is_upper = strcmp (rootfs.driver->name, STORAGE_DRIVER_VFS) != 0;
  tree = xasprintf ("%s/%s", rootfs.storage_dir, j->src.is_upper ? "upper" : "rootfs");
  j->src.tree = tree;
  j->src.lower = rootfs.lower;
  if (ctx->is_rootless)
    r = context_run_in_userns (ctx, layer_child, j, err);
  else
    r = layer_child (j, err);
  if (j->tar_hash)
    sha256_free (j->tar_hash);
  if (j->gz_hash)
    sha256_free (j->gz_hash);
  if (j->gz)
    archive_write_free (j->gz);
  err_release (&j->gz_error);
  container_rootfs_clear (&rootfs);
  return r;
}

int
container_commit_write_layer (struct skiff_context *ctx, struct storage_store *s,
                              struct container *c, struct container_commit_layer *out,
                              struct error **err)
{
  cleanup_blob_stage struct storage_blob_stage *stage = NULL;
  struct layer_result *res;
  struct layer_job j = { 0 };
  int r;

  /* The child hashes; the hashes come back through shared memory. */
  res = mmap (NULL, sizeof *res, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (res == MAP_FAILED)
    return err_make (err, errno, "mmap");
  memset (res, 0, sizeof *res);
  r = storage_blob_stage_new (s, &stage, err);
  if (r == 0)
    {
      j.blob_fd = storage_blob_stage_fd (stage);
      j.result = res;
      r = write_layer (ctx, c, &j, err);
    }
  if (r == 0)
    r = storage_blob_stage_commit (s, stage, res->digest, err);
  if (r == 0)
    {
      memcpy (out->diff_id, res->diff_id, sizeof out->diff_id);
      memcpy (out->digest, res->digest, sizeof out->digest);
      out->size = res->size;
      out->compression = MANIFEST_COMPRESSION_GZIP;
    }
  munmap (res, sizeof *res);
  return r;
}

/* ---- the image: shared by commit and build --------------------------------------- */

/* The layers BASE names plus LAYER: extracted only where missing. */
static int
ensure_layers (struct skiff_context *ctx, struct storage_store *s, json_object *cfg,
               const struct manifest *base, const struct container_commit_layer *layer,
               char ***chain_ids, struct error **err)
{
  json_object *ids = jobj_get_array (jobj_get_object (cfg, "rootfs"), "diff_ids");
  size_t n_base = base ? base->n_layers : 0, n = n_base + (layer ? 1 : 0);
  cleanup_free struct image_layer_spec *specs = xcalloc (n + 1, sizeof *specs);

  if (n == 0)
    {
      *chain_ids = xcalloc (1, sizeof **chain_ids);
      return 0;
    }
  if (ids == NULL || json_object_array_length (ids) != n)
    return err_make (err, 0, "the image config and its layers disagree");
  for (size_t i = 0; i < n_base; i++)
    {
      specs[i].blob_digest = base->layers[i].digest;
      specs[i].blob_size = base->layers[i].size;
      specs[i].diff_id = json_object_get_string (json_object_array_get_idx (ids, i));
    }
  if (layer)
    {
      specs[n_base].blob_digest = layer->digest;
      specs[n_base].blob_size = (int64_t) layer->size;
      specs[n_base].diff_id = layer->diff_id;
    }
  return image_layers_ensure (ctx, s, specs, n, chain_ids, NULL, err);
}

static json_object *
descriptor (const char *media_type, const char *digest, int64_t size)
{
  json_object *d = json_object_new_object ();

  json_object_object_add (d, "mediaType", json_object_new_string (media_type));
  json_object_object_add (d, "digest", json_object_new_string (digest));
  json_object_object_add (d, "size", json_object_new_int64 (size));
  return d;
}

/* A layer's media type in an OCI or a Docker schema 2 manifest; NULL for
 * zstd, which Docker's format has no type for. */
static const char *
layer_type (enum manifest_compression c, bool is_docker)
{
  switch (c)
    {
    case MANIFEST_COMPRESSION_GZIP:
      return is_docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                       : "application/vnd.oci.image.layer.v1.tar+gzip";
    case MANIFEST_COMPRESSION_ZSTD:
      return is_docker ? NULL : "application/vnd.oci.image.layer.v1.tar+zstd";
    default:
      return is_docker ? "application/vnd.docker.image.rootfs.diff.tar"
                       : "application/vnd.oci.image.layer.v1.tar";
    }
}

static int
add_layer (json_object *layers, enum manifest_compression c, const char *digest, int64_t size,
           bool is_docker, struct error **err)
{
  const char *type = layer_type (c, is_docker);

  if (type == NULL)
    return err_make (err, 0, "layer %s is zstd-compressed, which the docker format cannot "
                     "describe: use --format oci", digest);
  json_object_array_add (layers, descriptor (type, digest, size));
  return 0;
}

static char *
make_manifest (const struct manifest *base, const struct container_commit_layer *layer,
               bool is_docker, const char *config_digest, size_t config_size, struct error **err)
{
  cleanup_json json_object *m = json_object_new_object ();
  json_object *layers = json_object_new_array ();

  json_object_object_add (m, "schemaVersion", json_object_new_int (2));
  json_object_object_add (m, "mediaType",
                          json_object_new_string (is_docker ? MANIFEST_MT_DOCKER_MANIFEST
                                                            : MANIFEST_MT_OCI_MANIFEST));
  json_object_object_add (m, "config",
                          descriptor (is_docker ? MANIFEST_MT_DOCKER_CONFIG : MANIFEST_MT_OCI_CONFIG,
                                      config_digest, (int64_t) config_size));
  json_object_object_add (m, "layers", layers);
  for (size_t i = 0; base && i < base->n_layers; i++)
    {
      const struct manifest_descriptor *l = &base->layers[i];
      if (add_layer (layers, l->compression, l->digest, l->size, is_docker, err) < 0)
        return NULL;
    }
  if (layer
      && add_layer (layers, layer->compression, layer->digest, (int64_t) layer->size, is_docker,
                    err) < 0)
    return NULL;
  return jobj_to_string (m, false);
}

int
container_commit_store (struct skiff_context *ctx, struct storage_store *s, json_object *cfg,
                        const struct manifest *base, const struct container_commit_layer *layer,
                        bool is_docker_format, char *const *names, int64_t created, char **id,
                        struct error **err)
{
  cleanup_free char *cfg_text = NULL, *cfg_digest = NULL, *manifest = NULL;
  cleanup_free char *manifest_digest = NULL;
  cleanup_strv char **blobs = NULL;
  cleanup_strv char **chain_ids = NULL;
  struct storage_image img = { 0 };

  if (ensure_layers (ctx, s, cfg, base, layer, &chain_ids, err) < 0)
    return -1;
  cfg_text = jobj_to_string (cfg, false);
  if (storage_blob_put_bytes (s, NULL, cfg_text, strlen (cfg_text), &cfg_digest, err) < 0)
    return err_wrap (err, "store the config");
  manifest = make_manifest (base, layer, is_docker_format, cfg_digest, strlen (cfg_text), err);
  if (manifest == NULL)
    return -1;
  if (storage_blob_put_bytes (s, NULL, manifest, strlen (manifest), &manifest_digest, err) < 0)
    return err_wrap (err, "store the manifest");
  for (size_t i = 0; base && i < base->n_layers; i++)
    blobs = strv_append (blobs, base->layers[i].digest);
  if (layer)
    blobs = strv_append (blobs, layer->digest);
  img.id = cfg_digest;
  img.names = names && names[0] ? (char **) names : NULL;
  img.manifest_digest = manifest_digest;
  img.manifest_type
    = (char *) (is_docker_format ? MANIFEST_MT_DOCKER_MANIFEST : MANIFEST_MT_OCI_MANIFEST);
  img.layers = chain_ids;
  img.layer_blobs = blobs;
  img.created = created;
  if (storage_image_put (s, &img, err) < 0)
    return err_wrap (err, "store the image");
  *id = steal_ptr (&cfg_digest);
  return 0;
}

/* ---- commit ------------------------------------------------------------------------ */

struct commit
{
  struct skiff_context *ctx;
  struct container *c;
  const struct container_commit_opts *o;
  struct storage_store *s;
  struct storage_image *img;
  json_object *parent_cfg;
  struct manifest *parent_manifest;
  char *name;
  bool is_paused;
};

static void
say (const struct commit *cm, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
say (const struct commit *cm, const char *fmt, ...)
{
  va_list ap;

  if (cm->o->is_quiet)
    return;
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
}

static int
read_parent (struct commit *cm, struct error **err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;

  if (images_open (cm->ctx, true, &cm->s, err) < 0)
    return -1;
  if (storage_image_lookup (cm->s, cm->c->image_id, &cm->img, err) < 0)
    return -1;
  if (cm->img == NULL)
    return err_make (err, 0, "image %s of container %s is not in the store any more",
                     cm->c->image_id, cm->c->name);
  cm->parent_cfg = image_json_config (cm->s, cm->img, err);
  if (cm->parent_cfg == NULL)
    return -1;
  if (cm->img->manifest_digest == NULL)
    return err_make (err, 0, "image %s has no manifest to build on", cm->img->id);
  data = storage_blob_read (cm->s, cm->img->manifest_digest, MANIFEST_MAX_SIZE, &len, err);
  if (data == NULL)
    return -1;
  return manifest_parse (data, len, cm->img->manifest_type, &cm->parent_manifest, err);
}

static int
store_image (struct commit *cm, const struct container_commit_layer *layer, char **id,
             struct error **err)
{
  struct container_commit_config_opts co = { .diff_id = layer->diff_id,
                                             .author = cm->o->author,
                                             .message = cm->o->message,
                                             .changes = cm->o->changes };
  cleanup_json json_object *cfg = NULL;
  char *names[] = { cm->name, NULL };
  char created[64];
  struct timespec now;

  clock_gettime (CLOCK_REALTIME, &now);
  human_rfc3339 (now.tv_sec, now.tv_nsec, created, sizeof created);
  co.created = created;
  cfg = container_commit_config (cm->parent_cfg, jobj_get_object (cm->c->config, "Config"),
                                 &co, err);
  if (cfg == NULL)
    return -1;
  if (container_commit_store (cm->ctx, cm->s, cfg, cm->parent_manifest, layer, false, names,
                              now.tv_sec, id, err) < 0)
    return -1;
  say (cm, "Writing manifest to image destination\n");
  return 0;
}

/* ---- pausing ------------------------------------------------------------------------ */

static void
pause_container (struct commit *cm)
{
  struct error *e = NULL;

  if (!cm->o->is_pause || cm->c->state.status != CONTAINER_RUNNING)
    return;
  if (container_procs_signal (cm->c, SIGSTOP, &e) < 0)
    {
      log_warn ("%s", e->msg);
      err_release (&e);
    }
  cm->is_paused = true;
}

static void
resume_container (struct commit *cm)
{
  struct error *e = NULL;

  if (!cm->is_paused)
    return;
  if (container_procs_signal (cm->c, SIGCONT, &e) < 0)
    {
      log_warn ("%s", e->msg);
      err_release (&e);
    }
  cm->is_paused = false;
}

/* ---- the entry point ---------------------------------------------------------------- */

static int
check_changes (char *const *changes, struct error **err)
{
  cleanup_json json_object *scratch = json_object_new_object ();

  for (char *const *c = changes; c && *c; c++)
    if (image_change_apply (scratch, *c, err) < 0)
      return err_wrap (err, "--change");
  return 0;
}

static int
layer_and_image (struct commit *cm, char **id, struct error **err)
{
  struct container_commit_layer layer;
  int r;

  say (cm, "Getting image source signatures\n");
  pause_container (cm);
  r = container_commit_write_layer (cm->ctx, cm->s, cm->c, &layer, err);
  resume_container (cm);
  if (r < 0)
    return -1;
  say (cm, "Copying blob %.12s done\n", layer.digest + 7);
  return store_image (cm, &layer, id, err);
}

static void
commit_clear (struct commit *cm)
{
  resume_container (cm);
  storage_image_free (cm->img);
  json_object_put (cm->parent_cfg);
  manifest_free (cm->parent_manifest);
  free (cm->name);
  storage_close (cm->s);
}

int
container_commit (struct skiff_context *ctx, struct container *c,
                  const struct container_commit_opts *o, char **id, struct error **err)
{
  struct commit cm = { .ctx = ctx, .c = c, .o = o };
  cleanup_close int lk = -1;
  int r;

  if (check_changes (o->changes, err) < 0)
    return -1;
  if (o->reference)
    {
      cm.name = container_commit_name (o->reference, err);
      if (cm.name == NULL)
        return -1;
    }
  /* A stopped container must not start while its layer is read. */
  lk = container_lock (ctx, c, err);
  r = lk < 0 ? -1 : container_state_load (c, err);
  if (r == 0)
    r = read_parent (&cm, err);
  if (r == 0)
    r = layer_and_image (&cm, id, err);
  commit_clear (&cm);
  if (r < 0)
    return err_wrap (err, "commit container %s", c->name);
  return 0;
}
