/* Saving images from the store: the stored config, manifest and layer
 * blobs are written as they are (OCI and dir formats) or with layers
 * decompressed to the tar a docker-archive wants, hashed while written and
 * checked against the diff ID. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_archive.h"
#include "image_archive_internal.h"
#include "images.h"
#include "libutil/fs.h"
#include "libutil/jobj.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "manifest.h"
#include "reference.h"
#include "storage/storage.h"

/* ==== save: where the output goes ======================================== */

struct output
{
  int fd;         /* the archive, or the directory */
  char *path;     /* NULL for stdout */
  char *tmp;      /* an archive file is written here, renamed to PATH */
  bool is_dir_created;
};

static int
open_output_file (struct output *o, const char *path, struct error **err)
{
  struct stat st;
  bool is_there;
  mode_t mask;

  o->path = xstrdup (path);
  is_there = stat (path, &st) == 0;
  if (is_there && S_ISDIR (st.st_mode))
    return err_make (err, EISDIR, "\"%s\" is a directory", path);
  /* A device or FIFO (/dev/stdout, a pipe) is written as it is. */
  if (is_there && !S_ISREG (st.st_mode))
    {
      o->fd = open (path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
      return o->fd < 0 ? err_make (err, errno, "open \"%s\"", path) : 0;
    }
  o->tmp = xasprintf ("%s.skiff-XXXXXX", path);
  o->fd = mkostemp (o->tmp, O_CLOEXEC);
  if (o->fd < 0)
    {
      int saved = errno;
      free (steal_ptr (&o->tmp));
      return err_make (err, saved, "create \"%s\"", path);
    }
  mask = umask (0);
  umask (mask);
  if (fchmod (o->fd, 0666 & ~mask) < 0)
    return err_make (err, errno, "chmod \"%s\"", o->tmp);
  return 0;
}

static int
open_output_dir (struct output *o, const char *path, struct error **err)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd;

  o->path = xstrdup (path);
  if (mkdir (path, 0755) == 0)
    o->is_dir_created = true;
  else if (errno != EEXIST)
    return err_make (err, errno, "create directory \"%s\"", path);
  o->fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (o->fd < 0)
    return err_make (err, errno, "open directory \"%s\"", path);
  if (o->is_dir_created)
    return 0;
  fd = fcntl (o->fd, F_DUPFD_CLOEXEC, 3);
  d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      return err_make (err, saved, "read directory \"%s\"", path);
    }
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      return err_make (err, EEXIST, "directory \"%s\" is not empty", path);
  return 0;
}

static int
finish_output (struct output *o, struct error **err)
{
  if (o->tmp == NULL)
    return 0;
  if (fsync (o->fd) < 0)
    return err_make (err, errno, "sync \"%s\"", o->tmp);
  if (rename (o->tmp, o->path) < 0)
    return err_make (err, errno, "rename \"%s\" to \"%s\"", o->tmp, o->path);
  free (steal_ptr (&o->tmp));
  return 0;
}

/* Undo a failed save: nothing half-written stays behind. */
static void
abandon_output (struct output *o)
{
  if (o->tmp)
    unlink (o->tmp);
  if (o->is_dir_created && fs_remove_tree (o->path, NULL) < 0)
    log_warn ("could not remove \"%s\"", o->path);
  if (o->fd > 2)
    close (o->fd);
  free (o->tmp);
  free (o->path);
  memset (o, 0, sizeof *o);
  o->fd = -1;
}

static void
output_close (struct output *o)
{
  if (o->fd > 2)
    close (o->fd);
  free (o->tmp);
  free (o->path);
}

/* ==== save: writing files into a tarball or a directory ================== */

struct sink
{
  struct archive *tar; /* archive formats */
  int tar_fd;          /* its own descriptor of the output */
  int dirfd;           /* directory formats */
  int fd;              /* the file being written into DIRFD */
  char **written;      /* names written, so shared content goes once */
};

static bool
sink_has (struct sink *k, const char *name)
{
  for (char **w = k->written; w && *w; w++)
    if (strcmp (*w, name) == 0)
      return true;
  return false;
}

static int
tar_fail (struct sink *k, const char *name, struct error **err)
{
  return image_archive_fail (k->tar, name, err);
}

static int
sink_dir (struct sink *k, const char *name, struct error **err)
{
  struct archive_entry *e;
  int r;

  if (sink_has (k, name))
    return 0;
  k->written = strv_append (k->written ? k->written : xcalloc (1, sizeof (char *)), name);
  if (k->tar == NULL)
    {
      if (mkdirat (k->dirfd, name, 0755) < 0 && errno != EEXIST)
        return err_make (err, errno, "create directory \"%s\"", name);
      return 0;
    }
  e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFDIR);
  archive_entry_set_perm (e, 0755);
  r = archive_write_header (k->tar, e);
  archive_entry_free (e);
  return r < ARCHIVE_WARN ? tar_fail (k, name, err) : 0;
}

static int
sink_begin (struct sink *k, const char *name, uint64_t size, struct error **err)
{
  struct archive_entry *e;
  int r;

  k->written = strv_append (k->written ? k->written : xcalloc (1, sizeof (char *)), name);
  if (k->tar == NULL)
    {
      k->fd = openat (k->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0644);
      return k->fd < 0 ? err_make (err, errno, "create \"%s\"", name) : 0;
    }
  /* Fixed owner, mode and time: the same images make the same archive. */
  e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) size);
  r = archive_write_header (k->tar, e);
  archive_entry_free (e);
  return r < ARCHIVE_WARN ? tar_fail (k, name, err) : 0;
}

static int
sink_data (void *arg, const void *buf, size_t len, struct error **err)
{
  struct sink *k = arg;

  if (k->tar == NULL)
    return image_archive_write_all (k->fd, buf, len, err);
  while (len > 0)
    {
      la_ssize_t n = archive_write_data (k->tar, buf, len);
      if (n < 0)
        return image_archive_fail (k->tar, "write archive", err);
      /* More than the header's size: the entry cannot take it. */
      if (n == 0)
        return err_make (err, EFBIG, "write archive: more data than the entry's size");
      buf = (const char *) buf + n;
      len -= (size_t) n;
    }
  return 0;
}

static int
sink_end (struct sink *k, struct error **err)
{
  if (k->tar == NULL)
    {
      int r = close (k->fd);
      k->fd = -1;
      return r < 0 ? err_make (err, errno, "close") : 0;
    }
  if (archive_write_finish_entry (k->tar) < ARCHIVE_WARN)
    return image_archive_fail (k->tar, "write archive", err);
  return 0;
}

static int
sink_bytes (struct sink *k, const char *name, const void *data, size_t len, struct error **err)
{
  if (sink_has (k, name))
    return 0;
  if (sink_begin (k, name, len, err) < 0 || sink_data (k, data, len, err) < 0
      || sink_end (k, err) < 0)
    return err_wrap (err, "write \"%s\"", name);
  return 0;
}

static int
sink_json (struct sink *k, const char *name, json_object *o, struct error **err)
{
  cleanup_free char *text = jobj_to_string (o, false);

  return sink_bytes (k, name, text, strlen (text), err);
}

/* The stored blob DIGEST as file NAME, byte for byte, hashed on the way:
 * a corrupt blob must not leave under a name it does not match. */
static int
sink_blob (struct sink *k, struct storage_store *s, const char *name, const char *digest,
           struct error **err)
{
  cleanup_sha256 struct sha256_ctx *h = sha256_new ();
  cleanup_close int fd = -1;
  cleanup_free char *buf = NULL;
  char hex[SHA256_HEX_LEN + 1];
  struct stat st;
  uint64_t done = 0;

  if (sink_has (k, name))
    return 0;
  fd = storage_blob_open (s, digest, err);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return err_make (err, errno, "stat blob %s", digest);
  if (sink_begin (k, name, (uint64_t) st.st_size, err) < 0)
    return -1;
  buf = xmalloc (COPY_BUF_SIZE);
  for (;;)
    {
      ssize_t n = image_archive_read_fd_data (&fd, buf, COPY_BUF_SIZE, err);
      if (n < 0)
        return err_wrap (err, "blob %s", digest);
      if (n == 0)
        break;
      sha256_update (h, buf, (size_t) n);
      if (sink_data (k, buf, (size_t) n, err) < 0)
        return err_wrap (err, "write \"%s\"", name);
      done += (uint64_t) n;
    }
  if (done != (uint64_t) st.st_size)
    return err_make (err, 0, "blob %s changed while it was saved", digest);
  sha256_final_hex (h, hex);
  if (strcmp (hex, digest + 7) != 0)
    return err_make (err, 0, "blob %s is corrupt (its content hashes to sha256:%s): remove "
                     "the image and pull it again", digest, hex);
  return sink_end (k, err);
}

static void
archive_write_freep (struct archive **a)
{
  if (*a != NULL)
    archive_write_free (*a);
}

#define cleanup_archive_write __attribute__ ((cleanup (archive_write_freep)))

/* ==== save: the images =================================================== */

struct save_item
{
  struct storage_image *img;
  char **tags; /* names it goes under, normalised; may be empty */
};

struct saver
{
  struct skiff_context *ctx;
  const struct image_archive_save_opts *opts;
  struct storage_store *s;
  struct save_item *items;
  size_t n;
  struct sink sink;
  json_object *manifest;     /* docker-archive: manifest.json */
  json_object *repositories; /* docker-archive: repositories */
  json_object *index;        /* OCI: index.json's "manifests" */
};

/* The stored name ARG meant, or NULL when ARG is the image's ID (then the
 * archive names no tag, as podman does). */
static const char *
name_used (const struct storage_image *img, const char *arg)
{
  cleanup_free char *normal = images_normalize_name (arg, NULL);
  cleanup_free char *local_arg = xasprintf ("localhost/%s", arg);
  cleanup_free char *local = images_normalize_name (local_arg, NULL);
  const char *hex = images_hex_id (arg);

  for (char **n = img->names; n && *n; n++)
    if (strcmp (*n, arg) == 0 || (normal && strcmp (*n, normal) == 0)
        || (local && strcmp (*n, local) == 0))
      return *n;
  if (reference_looks_like_id (arg) && strncmp (images_hex_id (img->id), hex, strlen (hex)) == 0)
    return NULL;
  /* A short name found through the search registries. */
  return img->names && img->names[0] ? img->names[0] : NULL;
}

static int
add_item (struct saver *sv, const char *arg, struct error **err)
{
  struct storage_image *img = NULL;
  const char *tag;
  struct save_item *it = NULL;

  if (images_require (sv->s, arg, &img, err) < 0)
    return -1;
  for (size_t i = 0; i < sv->n && it == NULL; i++)
    if (strcmp (sv->items[i].img->id, img->id) == 0)
      it = &sv->items[i];
  if (it == NULL)
    {
      sv->items = xrealloc (sv->items, (sv->n + 1) * sizeof *sv->items);
      it = &sv->items[sv->n++];
      it->img = img;
      it->tags = xcalloc (1, sizeof *it->tags);
    }
  tag = name_used (img, arg);
  if (tag)
    image_archive_add_name (&it->tags, tag);
  if (it->img != img)
    storage_image_free (img);
  return 0;
}

/* More names for the first image (save IMAGE TAG...). */
static int
add_tags (struct saver *sv, char *const *tags, struct error **err)
{
  for (size_t i = 0; tags[i]; i++)
    {
      cleanup_image_ref struct image_ref ref = { 0 };
      cleanup_free char *name = NULL;

      if (reference_parse (tags[i], &ref, err) < 0)
        return err_wrap (err, "tag \"%s\"", tags[i]);
      if (ref.digest)
        return err_make (err, 0, "invalid tag \"%s\": a tag cannot contain a digest", tags[i]);
      name = reference_to_string (&ref);
      image_archive_add_name (&sv->items[0].tags, name);
    }
  return 0;
}

static int
collect_items (struct saver *sv, char *const *args, struct error **err)
{
  enum image_archive_format f = sv->opts->format;
  size_t n = strv_len (args);

  if (f != IMAGE_ARCHIVE_DOCKER_ARCHIVE && sv->opts->is_multi_image)
    return err_make (err, 0, "--multi-image-archive can only be used with docker-archive");
  if (f != IMAGE_ARCHIVE_DOCKER_ARCHIVE && n > 1)
    return err_make (err, 0, "--format %s holds one image; save several with "
                     "--format docker-archive --multi-image-archive",
                     image_archive_format_name (f));
  if (!sv->opts->is_multi_image)
    return add_item (sv, args[0], err) < 0 ? -1 : add_tags (sv, args + 1, err);
  for (size_t i = 0; i < n; i++)
    if (add_item (sv, args[i], err) < 0)
      return -1;
  return 0;
}

static char *
read_config (struct saver *sv, const struct storage_image *img, size_t *len,
             struct manifest_config **config, struct error **err)
{
  cleanup_free char *data = storage_blob_read (sv->s, img->id, MANIFEST_CONFIG_MAX_SIZE, len,
                                               err);

  if (data == NULL)
    return NULL;
  if (manifest_config_parse (data, *len, (long) strv_len (img->layers), config, err) < 0)
    return err_wrap (err, "config %s", img->id), NULL;
  if (img->layer_blobs == NULL || strv_len (img->layer_blobs) != strv_len (img->layers))
    return err_make (err, 0, "image %.12s has no layer blobs to save: pull it again",
                     images_hex_id (img->id)), NULL;
  return steal_ptr (&data);
}

struct layer_writer
{
  struct sink *sink;
  uint64_t size; /* what the tar header promised */
  uint64_t done;
  bool has_write_failed; /* the output failed, not the blob */
};

static int
write_layer_chunk (void *arg, const void *buf, size_t len, struct error **err)
{
  struct layer_writer *w = arg;

  if (len > w->size - w->done)
    return err_make (err, 0, "it decompresses to more than the %llu bytes of the layer",
                     (unsigned long long) w->size);
  w->done += len;
  w->has_write_failed = sink_data (w->sink, buf, len, err) < 0;
  return w->has_write_failed ? -1 : 0;
}

/* A layer as the uncompressed tar a docker-archive holds, hashed on the
 * way and checked against the diff ID: the tar header needs the size up
 * front, which the store recorded when it extracted the layer. */
static int
write_layer_tar (struct saver *sv, const char *name, const char *blob, const char *chain_id,
                 const char *diff_id, struct error **err)
{
  cleanup_close int fd = storage_blob_open (sv->s, blob, err);
  struct layer_writer w = { .sink = &sv->sink };
  struct storage_layer *layer = NULL;
  char hex[SHA256_HEX_LEN + 1];
  uint64_t got = 0;

  if (fd < 0 || storage_layer_get (sv->s, chain_id, &layer, err) < 0)
    return -1;
  w.size = layer->size;
  storage_layer_free (layer);
  if (sink_begin (&sv->sink, name, w.size, err) < 0)
    return -1;
  if (image_archive_decompress_fd (fd, write_layer_chunk, &w, &got, hex, err) < 0)
    {
      cleanup_free char *cause = NULL;
      if (w.has_write_failed)
        return err_wrap (err, "write \"%s\"", name);
      cause = xstrdup ((*err)->msg);
      return err_make (err, 0, "layer %s: the stored blob %s is corrupt (%s): remove the "
                       "image and pull it again", diff_id, blob, cause);
    }
  if (got != w.size || strcmp (hex, diff_id + 7) != 0)
    return err_make (err, 0, "layer %s: the stored blob %s is corrupt (it decompresses to "
                     "%llu bytes with diff ID sha256:%s): remove the image and pull it again",
                     diff_id, blob, (unsigned long long) got, hex);
  return sink_end (&sv->sink, err);
}

/* The per-layer "json" of the legacy docker layout; the top layer's also
 * carries parts of the image config, as docker writes it. */
static json_object *
legacy_layer_json (const char *id, const char *parent, json_object *config)
{
  static const char *const keys[] = { "architecture", "config", "container",
                                      "container_config", "created", "docker_version", "os" };
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "id", json_object_new_string (id));
  if (parent)
    json_object_object_add (o, "parent", json_object_new_string (parent));
  for (size_t i = 0; config && i < sizeof keys / sizeof keys[0]; i++)
    {
      json_object *v = NULL;
      if (json_object_object_get_ex (config, keys[i], &v))
        json_object_object_add (o, keys[i], json_object_get (v));
    }
  return o;
}

/* <id>/VERSION, <id>/json and <id>/layer.tar, with the layer's chain ID
 * as <id>: what docker save writes, and what both docker and podman load. */
static int
save_docker_layer (struct saver *sv, const struct storage_image *img, size_t i,
                   const struct manifest_config *mc, json_object *config, struct error **err)
{
  const char *id = images_hex_id (img->layers[i]);
  const char *parent = i > 0 ? images_hex_id (img->layers[i - 1]) : NULL;
  bool is_top = img->layers[i + 1] == NULL;
  cleanup_free char *tar = xasprintf ("%s/layer.tar", id);
  cleanup_free char *version = xasprintf ("%s/VERSION", id);
  cleanup_free char *json = xasprintf ("%s/json", id);
  cleanup_json json_object *legacy = NULL;

  if (sink_has (&sv->sink, tar))
    return 0;
  legacy = legacy_layer_json (id, parent, is_top ? config : NULL);
  if (sink_dir (&sv->sink, id, err) < 0 || sink_bytes (&sv->sink, version, "1.0", 3, err) < 0
      || sink_json (&sv->sink, json, legacy, err) < 0
      || write_layer_tar (sv, tar, img->layer_blobs[i], img->layers[i], mc->diff_ids[i],
                          err) < 0)
    return -1;
  image_archive_say (sv->opts->is_quiet, "Copying blob %.12s done\n", img->layer_blobs[i] + 7);
  return 0;
}

static void
add_repositories (json_object *repositories, char *const *tags, const char *top)
{
  for (size_t i = 0; tags[i]; i++)
    {
      const char *slash = strrchr (tags[i], '/');
      const char *colon = strrchr (slash ? slash : tags[i], ':');
      cleanup_free char *repo = NULL;
      json_object *r = NULL;

      if (colon == NULL || top == NULL)
        continue;
      repo = xstrndup (tags[i], (size_t) (colon - tags[i]));
      if (!json_object_object_get_ex (repositories, repo, &r))
        {
          r = json_object_new_object ();
          json_object_object_add (repositories, repo, r);
        }
      json_object_object_add (r, colon + 1, json_object_new_string (top));
    }
}

static json_object *
strv_to_json (char *const *v)
{
  json_object *a = json_object_new_array ();

  for (size_t i = 0; v && v[i]; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  return a;
}

static int
save_docker_image (struct saver *sv, const struct save_item *it, struct error **err)
{
  const struct storage_image *img = it->img;
  cleanup_manifest_config struct manifest_config *mc = NULL;
  cleanup_json json_object *config = NULL;
  cleanup_free char *data = NULL, *config_name = NULL;
  json_object *entry, *layers;
  size_t len = 0, n = strv_len (img->layers);

  data = read_config (sv, img, &len, &mc, err);
  if (data == NULL)
    return -1;
  config = jobj_parse (data, len, "image config", err);
  if (config == NULL)
    return -1;
  config_name = xasprintf ("%s.json", images_hex_id (img->id));
  if (sink_bytes (&sv->sink, config_name, data, len, err) < 0)
    return -1;
  layers = json_object_new_array ();
  entry = json_object_new_object ();
  json_object_object_add (entry, "Config", json_object_new_string (config_name));
  json_object_object_add (entry, "RepoTags", strv_to_json (it->tags));
  json_object_object_add (entry, "Layers", layers);
  json_object_array_add (sv->manifest, entry);
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *tar = xasprintf ("%s/layer.tar", images_hex_id (img->layers[i]));
      if (save_docker_layer (sv, img, i, mc, config, err) < 0)
        return -1;
      json_object_array_add (layers, json_object_new_string (tar));
    }
  image_archive_say (sv->opts->is_quiet, "Copying config %.10s done\n", images_hex_id (img->id));
  add_repositories (sv->repositories, it->tags, n ? images_hex_id (img->layers[n - 1]) : NULL);
  return 0;
}

/* The stored manifest of IMG, parsed; *DATA and *LEN get its bytes. */
static struct manifest *
read_manifest (struct saver *sv, const struct storage_image *img, char **data, size_t *len,
               struct error **err)
{
  struct manifest *m = NULL;

  if (img->manifest_digest == NULL)
    return err_make (err, 0, "image %.12s has no manifest to save: pull it again",
                     images_hex_id (img->id)), NULL;
  *data = storage_blob_read (sv->s, img->manifest_digest, MANIFEST_MAX_SIZE, len, err);
  if (*data == NULL)
    return NULL;
  if (manifest_parse (*data, *len, img->manifest_type, &m, err) < 0)
    return err_wrap (err, "manifest %s", img->manifest_digest), NULL;
  if (m->kind != MANIFEST_IMAGE || strcmp (m->config.digest, img->id) != 0)
    {
      manifest_free (m);
      return err_make (err, 0, "manifest %s does not describe image %.12s",
                       img->manifest_digest, images_hex_id (img->id)), NULL;
    }
  return m;
}

/* Config and layer blobs under BLOB_DIR, named by their hex digest. */
static int
save_blobs (struct saver *sv, const struct manifest *m, const char *blob_dir, struct error **err)
{
  for (size_t i = 0; i < m->n_layers; i++)
    {
      cleanup_free char *name = xasprintf ("%s%s", blob_dir, m->layers[i].digest + 7);
      if (sink_blob (&sv->sink, sv->s, name, m->layers[i].digest, err) < 0)
        return -1;
      image_archive_say (sv->opts->is_quiet, "Copying blob %.12s done\n", m->layers[i].digest + 7);
    }
  {
    cleanup_free char *name = xasprintf ("%s%s", blob_dir, m->config.digest + 7);
    if (sink_blob (&sv->sink, sv->s, name, m->config.digest, err) < 0)
      return -1;
    image_archive_say (sv->opts->is_quiet, "Copying config %.10s done\n", m->config.digest + 7);
  }
  return 0;
}

static int
save_oci_image (struct saver *sv, const struct save_item *it, struct error **err)
{
  cleanup_free char *data = NULL, *manifest_name = NULL;
  cleanup_manifest struct manifest *m = NULL;
  json_object *d;
  size_t len = 0;

  m = read_manifest (sv, it->img, &data, &len, err);
  if (m == NULL || save_blobs (sv, m, "blobs/sha256/", err) < 0)
    return -1;
  manifest_name = xasprintf ("blobs/sha256/%s", it->img->manifest_digest + 7);
  if (sink_bytes (&sv->sink, manifest_name, data, len, err) < 0)
    return -1;
  d = image_archive_descriptor (m->media_type, it->img->manifest_digest, len);
  /* The full name in both: podman and skopeo read the OCI one, docker
   * (25 and later) containerd's. */
  if (it->tags[0])
    {
      json_object *a = json_object_new_object ();
      json_object_object_add (a, ANNOTATION_CONTAINERD_NAME, json_object_new_string (it->tags[0]));
      json_object_object_add (a, ANNOTATION_REF_NAME, json_object_new_string (it->tags[0]));
      json_object_object_add (d, "annotations", a);
    }
  json_object_array_add (sv->index, d);
  return 0;
}

static enum blob_compression
compression_of (enum manifest_compression c)
{
  return c == MANIFEST_COMPRESSION_GZIP ? COMP_GZIP
         : c == MANIFEST_COMPRESSION_ZSTD ? COMP_ZSTD : COMP_NONE;
}

/* The "dir:" layout wants a docker schema2 manifest: an OCI one is
 * rewritten with the same blobs. */
static char *
docker_dir_manifest (const struct manifest *m, char *data, size_t len, size_t *out_len,
                     struct error **err)
{
  cleanup_free struct manifest_layer *ml = NULL;
  char *made;

  if (strcmp (m->media_type, MANIFEST_MT_DOCKER_MANIFEST) == 0)
    {
      *out_len = len;
      return xstrndup (data, len);
    }
  ml = xcalloc (m->n_layers + 1, sizeof *ml);
  for (size_t i = 0; i < m->n_layers; i++)
    {
      ml[i].digest = m->layers[i].digest;
      ml[i].size = (uint64_t) m->layers[i].size;
      ml[i].compression = compression_of (m->layers[i].compression);
    }
  made = image_archive_make_manifest (true, m->config.digest, (size_t) m->config.size, ml,
                                      m->n_layers, err);
  if (made)
    *out_len = strlen (made);
  return made;
}

static int
save_docker_dir_image (struct saver *sv, const struct save_item *it, struct error **err)
{
  cleanup_free char *data = NULL, *out = NULL;
  cleanup_manifest struct manifest *m = NULL;
  size_t len = 0, out_len = 0;

  m = read_manifest (sv, it->img, &data, &len, err);
  if (m == NULL || save_blobs (sv, m, "", err) < 0)
    return -1;
  out = docker_dir_manifest (m, data, len, &out_len, err);
  if (out == NULL)
    return -1;
  if (sink_bytes (&sv->sink, "manifest.json", out, out_len, err) < 0)
    return -1;
  return sink_bytes (&sv->sink, "version", DIR_TRANSPORT_VERSION,
                     strlen (DIR_TRANSPORT_VERSION), err);
}

static int
save_items (struct saver *sv, struct error **err)
{
  enum image_archive_format f = sv->opts->format;
  bool is_oci = f == IMAGE_ARCHIVE_OCI_ARCHIVE || f == IMAGE_ARCHIVE_OCI_DIR;

  if (is_oci && (sink_dir (&sv->sink, "blobs", err) < 0
                 || sink_dir (&sv->sink, "blobs/sha256", err) < 0))
    return -1;
  for (size_t i = 0; i < sv->n; i++)
    {
      int r = f == IMAGE_ARCHIVE_DOCKER_ARCHIVE ? save_docker_image (sv, &sv->items[i], err)
              : is_oci                          ? save_oci_image (sv, &sv->items[i], err)
                                                : save_docker_dir_image (sv, &sv->items[i], err);
      if (r < 0)
        return err_wrap (err, "save image %.12s", images_hex_id (sv->items[i].img->id));
    }
  image_archive_say (sv->opts->is_quiet, "Writing manifest to image destination\n");
  if (f == IMAGE_ARCHIVE_DOCKER_ARCHIVE)
    return sink_json (&sv->sink, "manifest.json", sv->manifest, err) < 0
               ? -1
               : sink_json (&sv->sink, "repositories", sv->repositories, err);
  if (is_oci)
    {
      cleanup_json json_object *index = json_object_new_object ();
      cleanup_json json_object *layout = json_object_new_object ();

      json_object_object_add (layout, "imageLayoutVersion", json_object_new_string ("1.0.0"));
      json_object_object_add (index, "schemaVersion", json_object_new_int (2));
      json_object_object_add (index, "manifests", json_object_get (sv->index));
      if (sink_json (&sv->sink, "oci-layout", layout, err) < 0)
        return -1;
      return sink_json (&sv->sink, "index.json", index, err);
    }
  return 0;
}

/* The writer gets a descriptor of its own, which discard_tar() can point
 * elsewhere. */
static int
open_tar (struct saver *sv, int fd, struct error **err)
{
  cleanup_archive_write struct archive *a = archive_write_new ();

  sv->sink.tar_fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  if (sv->sink.tar_fd < 0)
    return err_make (err, errno, "duplicate the output descriptor");
  if (archive_write_set_format_pax_restricted (a) != ARCHIVE_OK
      || archive_write_add_filter_none (a) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK
      || archive_write_open_fd (a, sv->sink.tar_fd) != ARCHIVE_OK)
    return image_archive_fail (a, "write archive", err);
  sv->sink.tar = steal_ptr (&a);
  return 0;
}

/* Close a failed archive into /dev/null: a reader of the output (stdout,
 * a FIFO) must not get the end marker that would make it look whole.
 * (archive_write_fail() would do, but libarchive then leaks its buffer.) */
static void
discard_tar (struct sink *k)
{
  int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);

  if (null < 0 || dup3 (null, k->tar_fd, O_CLOEXEC) < 0)
    archive_write_fail (k->tar);
  if (null >= 0)
    close (null);
  archive_write_close (k->tar);
}

static int
close_tar (struct saver *sv, struct error **err)
{
  int r = archive_write_close (sv->sink.tar);

  if (r != ARCHIVE_OK)
    return image_archive_fail (sv->sink.tar, "write archive", err);
  return 0;
}

static bool
is_dir_format (enum image_archive_format f)
{
  return f == IMAGE_ARCHIVE_OCI_DIR || f == IMAGE_ARCHIVE_DOCKER_DIR;
}

static int
open_output (struct saver *sv, struct output *o, struct error **err)
{
  const char *path = sv->opts->output;

  if (is_dir_format (sv->opts->format))
    {
      if (path == NULL)
        return err_make (err, 0, "--format %s writes a directory: name it with -o DIRECTORY",
                         image_archive_format_name (sv->opts->format));
      if (open_output_dir (o, path, err) < 0)
        return -1;
      sv->sink.dirfd = o->fd;
      return 0;
    }
  if (path == NULL)
    {
      if (isatty (1))
        return err_make (err, 0, "refusing to save to terminal. Use -o flag or redirect");
      o->fd = 1;
    }
  else if (open_output_file (o, path, err) < 0)
    return -1;
  return open_tar (sv, o->fd, err);
}

static void
saver_clear (struct saver *sv)
{
  for (size_t i = 0; i < sv->n; i++)
    {
      storage_image_free (sv->items[i].img);
      strv_free (sv->items[i].tags);
    }
  free (sv->items);
  if (sv->sink.tar)
    archive_write_free (sv->sink.tar);
  if (sv->sink.fd >= 0)
    close (sv->sink.fd);
  if (sv->sink.tar_fd >= 0)
    close (sv->sink.tar_fd);
  strv_free (sv->sink.written);
  json_object_put (sv->manifest);
  json_object_put (sv->repositories);
  json_object_put (sv->index);
  storage_close (sv->s);
}

int
image_archive_save (struct skiff_context *ctx, char *const *args,
                    const struct image_archive_save_opts *opts, struct error **err)
{
  struct saver sv = { .ctx = ctx, .opts = opts };
  struct output o = { .fd = -1 };
  int r;

  sv.sink.dirfd = sv.sink.fd = sv.sink.tar_fd = -1;
  sv.manifest = json_object_new_array ();
  sv.repositories = json_object_new_object ();
  sv.index = json_object_new_array ();
  r = images_open (ctx, false, &sv.s, err);
  if (r == 0)
    r = collect_items (&sv, args, err);
  if (r == 0)
    r = open_output (&sv, &o, err);
  if (r == 0)
    r = save_items (&sv, err);
  if (r == 0 && sv.sink.tar)
    r = close_tar (&sv, err);
  if (r == 0)
    r = finish_output (&o, err);
  if (r < 0 && sv.sink.tar)
    discard_tar (&sv.sink);
  if (r < 0)
    abandon_output (&o);
  else
    output_close (&o);
  saver_clear (&sv);
  return r;
}
