/* Loading an image archive into the store:
 *
 *  1. read_input: every regular file of the tarball (or layout directory)
 *     is copied once, hashed on the way: small ones into memory, large
 *     ones into blob stages in the store (same file system, so a layer
 *     blob is committed by a rename, never copied again).  Links are kept
 *     as names.  Archive names are never used as file system paths.
 *  2. index_members: sorted for lookup; duplicate names are an error.
 *  3. load_all: the format decides how images are found (manifest.json,
 *     index.json + oci-layout, or a "dir:" layout); every path is cleaned
 *     and resolved inside the archive only (resolve_member), every blob
 *     checked against its digest and size, every uncompressed docker layer
 *     against its diff ID, before anything is stored.
 *  4. commit_pending, per image: blobs, config, layers (extracted in the
 *     user namespace by image_layers_ensure(), which checks the diff IDs),
 *     manifest, then the image record: the commit point. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_archive.h"
#include "image_archive_internal.h"
#include "image_layers.h"
#include "images.h"
#include "libutil/fs.h"
#include "libutil/human.h"
#include "libutil/log.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "manifest.h"
#include "reference.h"
#include "storage/storage.h"

#define MAX_LINK_HOPS 16
#define MAX_DIR_DEPTH 16

/* ==== load: the archive's files ========================================== */

struct loader
{
  struct skiff_context *ctx;
  const struct image_archive_load_opts *opts;
  struct storage_store *s;
  struct member *m;   /* sorted by name once read */
  size_t n, cap;
  size_t mem_budget;
  char **loaded;
};

static struct member *
new_member (struct loader *l, const char *raw_name, struct error **err)
{
  cleanup_free char *name = image_archive_clean_path_mode (raw_name, PATH_MEMBER, err);
  struct member *m;

  if (name == NULL)
    return err_wrap (err, "archive entry"), NULL;
  if (l->n >= IMAGE_ARCHIVE_MAX_MEMBERS)
    return err_make (err, 0, "the archive has more than %d entries", IMAGE_ARCHIVE_MAX_MEMBERS),
           NULL;
  if (l->n == l->cap)
    {
      l->cap = l->cap ? 2 * l->cap : 64;
      l->m = xrealloc (l->m, l->cap * sizeof *l->m);
    }
  m = &l->m[l->n++];
  memset (m, 0, sizeof *m);
  m->name = steal_ptr (&name);
  return m;
}

static ssize_t
read_archive_data (void *src, void *buf, size_t len, struct error **err)
{
  la_ssize_t n = archive_read_data (src, buf, len);

  if (n < 0)
    return image_archive_fail (src, "read archive", err);
  return n;
}

static int
add_archive_entry (struct loader *l, struct archive *a, struct archive_entry *e,
                   struct error **err)
{
  const char *path = archive_entry_pathname (e);
  const char *hardlink = archive_entry_hardlink (e);
  mode_t type = archive_entry_filetype (e);
  struct member *m;

  if (path == NULL)
    return err_make (err, 0, "archive entry without a name");
  /* Directories are implied by the names; devices and FIFOs are nothing an
   * image archive holds and are never created, so they are skipped. */
  if (hardlink == NULL && type != AE_IFREG && type != AE_IFLNK)
    return 0;
  m = new_member (l, path, err);
  if (m == NULL)
    return -1;
  if (hardlink)
    {
      m->is_hardlink = true;
      m->link = image_archive_clean_path_mode (hardlink, PATH_MEMBER, err);
      return m->link ? 0 : err_wrap (err, "hard link \"%s\"", m->name);
    }
  if (type == AE_IFLNK)
    {
      const char *target = archive_entry_symlink (e);
      if (target == NULL || *target == '\0')
        return err_make (err, 0, "symlink \"%s\" has no target", m->name);
      m->link = xstrdup (target);
      return 0;
    }
  return image_archive_ingest (l->s, &l->mem_budget, m,
                               archive_entry_size_is_set (e) ? archive_entry_size (e) : -1,
                               read_archive_data, a, err);
}

static int
read_archive (struct loader *l, int fd, struct error **err)
{
  cleanup_archive_read struct archive *a = archive_read_new ();
  struct archive_entry *e;
  int r;

  if (image_archive_enable_filters (a, err) < 0)
    return -1;
  if (archive_read_support_format_tar (a) != ARCHIVE_OK)
    return image_archive_fail (a, "enable tar reading", err);
  if (archive_read_open_fd (a, fd, COPY_BUF_SIZE) != ARCHIVE_OK)
    return image_archive_fail (a, "read archive", err);
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    if (add_archive_entry (l, a, e, err) < 0)
      return -1;
  if (r != ARCHIVE_EOF)
    return image_archive_fail (a, "read archive", err);
  return 0;
}

static int read_dir (struct loader *l, int dirfd, const char *prefix, int depth,
                     struct error **err);

static int
add_dir_entry (struct loader *l, int dirfd, const char *entry, const char *name, int depth,
               struct error **err)
{
  cleanup_close int fd = -1;
  struct member *m;
  struct stat st;

  if (fstatat (dirfd, entry, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return err_make (err, errno, "stat \"%s\"", name);
  if (S_ISDIR (st.st_mode))
    {
      if (depth >= MAX_DIR_DEPTH)
        return err_make (err, 0, "\"%s\": directories nested too deep", name);
      fd = openat (dirfd, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return err_make (err, errno, "open \"%s\"", name);
      return read_dir (l, fd, name, depth + 1, err);
    }
  if (!S_ISREG (st.st_mode) && !S_ISLNK (st.st_mode))
    return 0;
  m = new_member (l, name, err);
  if (m == NULL)
    return -1;
  if (S_ISLNK (st.st_mode))
    {
      char target[IMAGE_ARCHIVE_PATH_MAX + 1];
      ssize_t n = readlinkat (dirfd, entry, target, sizeof target);
      if (n < 0 || n >= (ssize_t) sizeof target || n == 0)
        return err_make (err, n < 0 ? errno : ENAMETOOLONG, "read symlink \"%s\"", name);
      m->link = xstrndup (target, (size_t) n);
      return 0;
    }
  fd = openat (dirfd, entry, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    return err_make (err, errno, "open \"%s\"", name);
  if (!S_ISREG (st.st_mode))
    return err_make (err, 0, "\"%s\" changed while it was read", name);
  return image_archive_ingest (l->s, &l->mem_budget, m, (int64_t) st.st_size,
                               image_archive_read_fd_data, &fd, err);
}

/* A layout directory: the same members an archive of it would give. */
static int
read_dir (struct loader *l, int dirfd, const char *prefix, int depth, struct error **err)
{
  int dup_fd = fcntl (dirfd, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *d = dup_fd >= 0 ? fdopendir (dup_fd) : NULL;
  struct dirent *de;

  if (d == NULL)
    {
      int saved = errno;
      if (dup_fd >= 0)
        close (dup_fd);
      return err_make (err, saved, "read directory \"%s\"", prefix ? prefix : ".");
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      cleanup_free char *name = NULL;

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      name = prefix ? xasprintf ("%s/%s", prefix, de->d_name) : xstrdup (de->d_name);
      if (add_dir_entry (l, dirfd, de->d_name, name, depth, err) < 0)
        return -1;
    }
  if (errno != 0)
    return err_make (err, errno, "read directory \"%s\"", prefix ? prefix : ".");
  return 0;
}

static int
member_cmp (const void *a, const void *b)
{
  return strcmp (((const struct member *) a)->name, ((const struct member *) b)->name);
}

static int
index_members (struct loader *l, struct error **err)
{
  if (l->n > 1)
    qsort (l->m, l->n, sizeof *l->m, member_cmp);
  for (size_t i = 1; i < l->n; i++)
    if (strcmp (l->m[i - 1].name, l->m[i].name) == 0)
      return err_make (err, 0, "the archive has two entries named \"%s\"", l->m[i].name);
  return 0;
}

static struct member *
find_member (struct loader *l, const char *name)
{
  struct member key = { .name = (char *) name };

  if (l->n == 0)
    return NULL;
  return bsearch (&key, l->m, l->n, sizeof *l->m, member_cmp);
}

/* Where link M points, as a cleaned name inside the archive. */
static char *
link_target (const struct member *m, struct error **err)
{
  const char *slash = strrchr (m->name, '/');
  cleanup_free char *joined = NULL;
  char *target;

  if (m->is_hardlink)
    return xstrdup (m->link);
  if (m->link[0] == '/')
    return err_make (err, 0, "symlink \"%s\" points to the absolute path \"%s\"", m->name,
                     m->link), NULL;
  joined = slash ? xasprintf ("%.*s/%s", (int) (slash - m->name), m->name, m->link)
                 : xstrdup (m->link);
  target = image_archive_clean_path_mode (joined, PATH_RELATIVE, err);
  if (target == NULL)
    err_wrap (err, "symlink \"%s\" -> \"%s\"", m->name, m->link);
  return target;
}

/* The file PATH (cleaned) names, following links inside the archive. */
static struct member *
resolve_member (struct loader *l, const char *path, struct error **err)
{
  cleanup_free char *cur = xstrdup (path);

  for (int hops = 0; hops <= MAX_LINK_HOPS; hops++)
    {
      struct member *m = find_member (l, cur);
      char *next;

      if (m == NULL)
        return err_make (err, 0, "the archive has no file \"%s\"", cur), NULL;
      if (m->link == NULL)
        return m;
      next = link_target (m, err);
      if (next == NULL)
        return NULL;
      free (cur);
      cur = next;
    }
  return err_make (err, 0, "\"%s\": too many levels of links", path), NULL;
}

/* M's bytes (at most MAX), NUL-terminated, checked against its digest
 * again since a staged file lives on disk. */
static char *
member_read (const struct member *m, size_t max, size_t *len, struct error **err)
{
  cleanup_free char *data = NULL;
  char hex[SHA256_HEX_LEN + 1];
  size_t n = 0;

  if (m->size > max)
    return err_make (err, 0, "\"%s\": %llu bytes is more than the %zu allowed", m->name,
                     (unsigned long long) m->size, max), NULL;
  if (m->data)
    {
      data = xmalloc (m->size + 1);
      memcpy (data, m->data, m->size + 1);
      n = m->size;
    }
  else
    {
      data = fs_read_file (storage_blob_stage_path (m->stage), max, &n, err);
      if (data == NULL)
        return err_wrap (err, "read \"%s\"", m->name), NULL;
    }
  sha256_buf_hex (data, n, hex);
  if (strcmp (hex, m->digest + 7) != 0)
    return err_make (err, 0, "\"%s\" changed while it was loaded", m->name), NULL;
  *len = n;
  return steal_ptr (&data);
}

/* Whether the stored blob DIGEST decompresses to DIFF_ID. */
static int
verify_blob_diff_id (struct storage_store *s, const char *digest, const char *diff_id,
                     struct error **err)
{
  cleanup_close int fd = storage_blob_open (s, digest, err);
  char hex[SHA256_HEX_LEN + 1];
  uint64_t size = 0;

  if (fd < 0)
    return -1;
  if (image_archive_decompress_fd (fd, NULL, NULL, &size, hex, err) < 0)
    return err_wrap (err, "layer %s", digest);
  if (strcmp (hex, diff_id + 7) != 0)
    return err_make (err, 0, "layer %s: its content has diff ID sha256:%s but the config "
                     "says %s", digest, hex, diff_id);
  return 0;
}

/* ==== load: images ======================================================= */

struct pending_layer
{
  struct member *m;
  const char *diff_id; /* in config below */
  enum blob_compression compression;
};

struct pending
{
  char *config_digest;
  char *config_data;
  size_t config_len;
  struct manifest_config *config;
  struct pending_layer *layers;
  size_t n_layers;
  char *manifest_data;  /* found in the archive, or made for it */
  size_t manifest_len;
  char *manifest_type;
  char **names;         /* normalised */
};

static void
pending_clear (struct pending *p)
{
  free (p->config_digest);
  free (p->config_data);
  manifest_config_free (p->config);
  free (p->layers);
  free (p->manifest_data);
  free (p->manifest_type);
  strv_free (p->names);
  memset (p, 0, sizeof *p);
}

static void
pendings_free (struct pending *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    pending_clear (&v[i]);
  free (v);
}

/* The config member M, parsed for N_LAYERS layers. */
static int
take_config (struct pending *p, const struct member *m, long n_layers, struct error **err)
{
  p->config_data = member_read (m, MANIFEST_CONFIG_MAX_SIZE, &p->config_len, err);
  if (p->config_data == NULL)
    return err_wrap (err, "config");
  p->config_digest = xstrdup (m->digest);
  if (manifest_config_parse (p->config_data, p->config_len, n_layers, &p->config, err) < 0)
    return err_wrap (err, "config \"%s\"", m->name);
  p->n_layers = p->config->n_diff_ids;
  p->layers = xcalloc (p->n_layers + 1, sizeof *p->layers);
  return 0;
}

static int
docker_names (struct pending *p, char *const *tags, struct error **err)
{
  p->names = xcalloc (1, sizeof *p->names);
  for (size_t i = 0; tags && tags[i]; i++)
    {
      cleanup_free char *name = images_normalize_name (tags[i], err);
      if (name == NULL)
        return err_wrap (err, "RepoTags");
      image_archive_add_name (&p->names, name);
    }
  return 0;
}

/* A docker-archive layer: the uncompressed tar (the diff ID is its digest)
 * or a compressed one that extraction checks. */
static int
docker_layer (struct loader *l, const char *path, struct pending *p, size_t i,
              struct error **err)
{
  struct pending_layer *pl = &p->layers[i];

  pl->m = resolve_member (l, path, err);
  if (pl->m == NULL)
    return -1;
  pl->diff_id = p->config->diff_ids[i];
  pl->compression = image_archive_sniff_compression (pl->m->magic, pl->m->n_magic);
  if (pl->compression == COMP_XZ || pl->compression == COMP_BZIP2)
    return err_make (err, 0, "layer \"%s\": xz and bzip2 layers cannot be stored; "
                     "recompress it with gzip or zstd", path);
  if (pl->compression == COMP_NONE && strcmp (pl->m->digest, pl->diff_id) != 0)
    return err_make (err, 0, "layer \"%s\": its content has digest %s but the config says "
                     "diff ID %s", path, pl->m->digest, pl->diff_id);
  return 0;
}

/* Docker schema2 when every layer is plain or gzip, else OCI (zstd). */
static int
docker_manifest (struct pending *p, struct error **err)
{
  cleanup_free struct manifest_layer *ml = xcalloc (p->n_layers + 1, sizeof *ml);
  bool is_docker = true;

  for (size_t i = 0; i < p->n_layers; i++)
    {
      ml[i].digest = p->layers[i].m->digest;
      ml[i].size = p->layers[i].m->size;
      ml[i].compression = p->layers[i].compression;
      is_docker = is_docker && image_archive_layer_media_type (ml[i].compression, true) != NULL;
    }
  p->manifest_data = image_archive_make_manifest (is_docker, p->config_digest, p->config_len,
                                                  ml, p->n_layers, err);
  if (p->manifest_data == NULL)
    return -1;
  p->manifest_len = strlen (p->manifest_data);
  p->manifest_type = xstrdup (is_docker ? MANIFEST_MT_DOCKER_MANIFEST : MANIFEST_MT_OCI_MANIFEST);
  return 0;
}

static int
prepare_docker (struct loader *l, const struct image_archive_docker_entry *e, struct pending *p,
                struct error **err)
{
  struct member *cm = resolve_member (l, e->config, err);

  if (cm == NULL || take_config (p, cm, (long) e->n_layers, err) < 0)
    return -1;
  for (size_t i = 0; i < e->n_layers; i++)
    if (docker_layer (l, e->layers[i], p, i, err) < 0)
      return -1;
  if (docker_names (p, e->repo_tags, err) < 0)
    return -1;
  return docker_manifest (p, err);
}

/* BLOB_DIR + hex of DIGEST, checked against DIGEST and SIZE (unless
 * negative). */
static struct member *
layout_blob (struct loader *l, const char *blob_dir, const char *digest, int64_t size,
             struct error **err)
{
  cleanup_free char *path = xasprintf ("%s%s", blob_dir, digest + 7);
  struct member *m = resolve_member (l, path, err);

  if (m == NULL)
    return NULL;
  if (strcmp (m->digest, digest) != 0)
    return err_make (err, 0, "blob %s in the archive is corrupt: its content has digest %s",
                     digest, m->digest), NULL;
  if (size >= 0 && m->size != (uint64_t) size)
    return err_make (err, 0, "blob %s in the archive has %llu bytes, its descriptor says %lld",
                     digest, (unsigned long long) m->size, (long long) size), NULL;
  return m;
}

/* The name an OCI layout gives an image: a full reference as it is, a
 * short one under localhost/ (as podman reads it).  One that is no valid
 * reference is dropped with a warning: the image still loads. */
static void
oci_names (struct pending *p, const char *name)
{
  cleanup_error struct error *e = NULL;
  cleanup_free char *full = NULL, *normal = NULL;
  cleanup_image_ref struct image_ref ref = { 0 };

  p->names = xcalloc (1, sizeof *p->names);
  if (name == NULL)
    return;
  if (reference_parse (name, &ref, &e) == 0)
    full = reference_is_short_name (name) ? xasprintf ("localhost/%s", name) : xstrdup (name);
  if (full)
    normal = images_normalize_name (full, &e);
  if (normal == NULL)
    {
      log_warn ("ignoring the image name \"%s\" in the archive: %s", name,
                e ? e->msg : "invalid reference");
      return;
    }
  image_archive_add_name (&p->names, normal);
}

static int prepare_layout_manifest (struct loader *l, const char *blob_dir,
                                    const struct member *mm, const char *media_type,
                                    bool can_descend, struct pending *p, struct error **err);

/* An index in the layout: the entry for this platform. */
static int
prepare_layout_index (struct loader *l, const char *blob_dir, struct manifest *index,
                      struct pending *p, struct error **err)
{
  struct manifest_platform host = { 0 };
  const struct manifest_descriptor *d;
  struct member *mm;

  manifest_platform_host (&host);
  d = manifest_select_platform (index, &host, err);
  manifest_platform_clear (&host);
  if (d == NULL)
    return -1;
  mm = layout_blob (l, blob_dir, d->digest, d->size, err);
  if (mm == NULL)
    return -1;
  return prepare_layout_manifest (l, blob_dir, mm, d->media_type, false, p, err);
}

static int
prepare_layout_manifest (struct loader *l, const char *blob_dir, const struct member *mm,
                         const char *media_type, bool can_descend, struct pending *p,
                         struct error **err)
{
  cleanup_manifest struct manifest *m = NULL;
  struct member *cm;

  p->manifest_data = member_read (mm, MANIFEST_MAX_SIZE, &p->manifest_len, err);
  if (p->manifest_data == NULL)
    return -1;
  if (manifest_parse (p->manifest_data, p->manifest_len, media_type, &m, err) < 0)
    return err_wrap (err, "\"%s\"", mm->name);
  if (m->kind == MANIFEST_INDEX)
    {
      if (!can_descend)
        return err_make (err, 0, "\"%s\": an index inside an index is not supported", mm->name);
      free (steal_ptr (&p->manifest_data));
      return prepare_layout_index (l, blob_dir, m, p, err);
    }
  p->manifest_type = xstrdup (m->media_type);
  cm = layout_blob (l, blob_dir, m->config.digest, m->config.size, err);
  if (cm == NULL || take_config (p, cm, (long) m->n_layers, err) < 0)
    return -1;
  for (size_t i = 0; i < p->n_layers; i++)
    {
      struct pending_layer *pl = &p->layers[i];
      pl->m = layout_blob (l, blob_dir, m->layers[i].digest, m->layers[i].size, err);
      if (pl->m == NULL)
        return -1;
      pl->diff_id = p->config->diff_ids[i];
      pl->compression = image_archive_sniff_compression (pl->m->magic, pl->m->n_magic);
    }
  return 0;
}

static int
prepare_oci (struct loader *l, const struct image_archive_oci_entry *e, struct pending *p,
             struct error **err)
{
  struct member *mm = layout_blob (l, "blobs/sha256/", e->digest, e->size, err);

  if (mm == NULL || prepare_layout_manifest (l, "blobs/sha256/", mm, e->media_type, true, p,
                                             err) < 0)
    return -1;
  oci_names (p, e->name);
  return 0;
}

/* P's layer blobs into the store; SPECS get what extraction needs. */
static int
store_layer_blobs (struct loader *l, struct pending *p, struct image_layer_spec *specs,
                   struct error **err)
{
  cleanup_strv char **expected = NULL;

  if (storage_chain_ids (p->config->diff_ids, &expected, err) < 0)
    return -1;
  for (size_t i = 0; i < p->n_layers; i++)
    {
      struct pending_layer *pl = &p->layers[i];
      bool was_stored = pl->m->is_stored || storage_blob_exists (l->s, pl->m->digest);

      if (image_archive_store_member (l->s, pl->m, err) < 0)
        return -1;
      /* A layer the store has is not extracted again, so nothing else
       * would check that a new compressed blob really holds it. */
      if (!was_stored && pl->compression != COMP_NONE
          && storage_layer_exists (l->s, expected[i])
          && verify_blob_diff_id (l->s, pl->m->digest, pl->diff_id, err) < 0)
        return -1;
      specs[i].blob_digest = pl->m->digest;
      specs[i].blob_size = (int64_t) pl->m->size;
      specs[i].diff_id = pl->diff_id;
      image_archive_say (l->opts->is_quiet, "Copying blob %.12s done\n", pl->m->digest + 7);
    }
  return 0;
}

/* The image record, the commit point, with a repo digest per name. */
static int
record_image (struct loader *l, struct pending *p, char **chain_ids,
              const char *manifest_digest, struct error **err)
{
  cleanup_strv char **blobs = xcalloc (1, sizeof *blobs);
  cleanup_strv char **digests = xcalloc (1, sizeof *digests);
  struct storage_image img = { 0 };

  for (size_t i = 0; i < p->n_layers; i++)
    blobs = strv_append (blobs, p->layers[i].m->digest);
  for (char **n = p->names; *n; n++)
    {
      cleanup_image_ref struct image_ref ref = { 0 };
      if (reference_parse (*n, &ref, NULL) == 0)
        {
          cleanup_free char *repo = reference_repo_string (&ref);
          cleanup_free char *rd = xasprintf ("%s@%s", repo, manifest_digest);
          image_archive_add_name (&digests, rd);
        }
    }
  if (p->config->created)
    human_parse_rfc3339 (p->config->created, &img.created, NULL);
  img.id = p->config_digest;
  img.names = p->names;
  img.digests = digests;
  img.manifest_digest = (char *) manifest_digest;
  img.manifest_type = p->manifest_type;
  img.layers = chain_ids;
  img.layer_blobs = blobs;
  if (storage_image_put (l->s, &img, err) < 0)
    return err_wrap (err, "store image");
  return 0;
}

/* Store P: blobs, config, layers, manifest, then the image record. */
static int
commit_pending (struct loader *l, struct pending *p, struct error **err)
{
  cleanup_free struct image_layer_spec *specs = xcalloc (p->n_layers + 1, sizeof *specs);
  cleanup_strv char **chain_ids = NULL;
  cleanup_free char *manifest_digest = NULL;
  bool is_quiet = l->opts->is_quiet;

  image_archive_say (is_quiet, "Getting image source signatures\n");
  if (store_layer_blobs (l, p, specs, err) < 0)
    return -1;
  if (storage_blob_put_bytes (l->s, p->config_digest, p->config_data, p->config_len, NULL,
                              err) < 0)
    return err_wrap (err, "store config");
  image_archive_say (is_quiet, "Copying config %.10s done\n", p->config_digest + 7);
  if (image_layers_ensure (l->ctx, l->s, specs, p->n_layers, &chain_ids, NULL, err) < 0)
    return -1;
  image_archive_say (is_quiet, "Writing manifest to image destination\n");
  if (storage_blob_put_bytes (l->s, NULL, p->manifest_data, p->manifest_len, &manifest_digest,
                              err) < 0)
    return err_wrap (err, "store manifest");
  if (record_image (l, p, chain_ids, manifest_digest, err) < 0)
    return -1;
  if (p->names[0] == NULL)
    l->loaded = strv_append (l->loaded, p->config_digest);
  for (char **n = p->names; *n; n++)
    l->loaded = strv_append (l->loaded, *n);
  return 0;
}

static int
commit_all (struct loader *l, struct pending *v, size_t n, struct error **err)
{
  for (size_t i = 0; i < n; i++)
    if (commit_pending (l, &v[i], err) < 0)
      return -1;
  return 0;
}

/* Each loader checks every image of the archive (prepare_*) before it
 * stores any, so a bad archive stores nothing. */
static int
load_docker (struct loader *l, const struct member *manifest_json, struct error **err)
{
  struct image_archive_docker_entry *entries = NULL;
  cleanup_free char *data = NULL;
  struct pending *v = NULL;
  size_t len = 0, n = 0;
  int r = 0;

  data = member_read (manifest_json, IMAGE_ARCHIVE_JSON_MAX, &len, err);
  if (data == NULL
      || image_archive_parse_docker_manifest (data, len, &entries, &n, err) < 0)
    return -1;
  v = xcalloc (n, sizeof *v);
  for (size_t i = 0; i < n && r == 0; i++)
    if (prepare_docker (l, &entries[i], &v[i], err) < 0)
      r = err_wrap (err, "manifest.json: image %zu", i + 1);
  if (r == 0)
    r = commit_all (l, v, n, err);
  pendings_free (v, n);
  image_archive_docker_entries_free (entries, n);
  return r;
}

static int
load_oci (struct loader *l, const struct member *index_json, struct error **err)
{
  struct image_archive_oci_entry *entries = NULL;
  cleanup_free char *data = NULL;
  struct pending *v = NULL;
  size_t len = 0, n = 0;
  int r = 0;

  data = member_read (index_json, IMAGE_ARCHIVE_JSON_MAX, &len, err);
  if (data == NULL || image_archive_parse_oci_index (data, len, &entries, &n, err) < 0)
    return -1;
  v = xcalloc (n, sizeof *v);
  for (size_t i = 0; i < n && r == 0; i++)
    if (prepare_oci (l, &entries[i], &v[i], err) < 0)
      r = err_wrap (err, "manifest %s", entries[i].digest);
  if (r == 0)
    r = commit_all (l, v, n, err);
  pendings_free (v, n);
  image_archive_oci_entries_free (entries, n);
  return r;
}

/* containers/image's "dir:" layout: manifest.json is the manifest, the
 * blobs are named by their hex digest; it carries no name. */
static int
load_dir_transport (struct loader *l, const struct member *manifest_json, struct error **err)
{
  struct pending p = { 0 };
  int r;

  r = prepare_layout_manifest (l, "", manifest_json, NULL, true, &p, err);
  if (r == 0)
    {
      p.names = xcalloc (1, sizeof *p.names);
      r = commit_pending (l, &p, err);
    }
  pending_clear (&p);
  return r;
}

static bool
is_dir_transport (struct loader *l)
{
  struct member *m = find_member (l, "version");
  size_t prefix = strlen ("Directory Transport Version:");

  return m && m->data && m->size >= prefix && memcmp (m->data, DIR_TRANSPORT_VERSION, prefix) == 0;
}

static struct member *
top_file (struct loader *l, const char *name, struct error **err)
{
  if (find_member (l, name) == NULL)
    return NULL;
  return resolve_member (l, name, err);
}

static int
load_all (struct loader *l, struct error **err)
{
  struct member *m;

  if (find_member (l, "oci-layout") && find_member (l, "index.json"))
    {
      m = top_file (l, "index.json", err);
      return m ? load_oci (l, m, err) : -1;
    }
  if (find_member (l, "manifest.json"))
    {
      m = top_file (l, "manifest.json", err);
      if (m == NULL)
        return -1;
      return is_dir_transport (l) ? load_dir_transport (l, m, err) : load_docker (l, m, err);
    }
  return err_make (err, 0, "not an image archive: it has neither manifest.json "
                   "(docker-archive) nor oci-layout and index.json (oci-archive)");
}

/* A stream of a large archive keeps one blob stage (two descriptors) open
 * per layer until the images are stored; the soft limit of 1024 would cap
 * that well below MANIFEST_MAX_LAYERS, so take what the hard limit allows. */
static void
raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
        log_debug ("raise the open file limit: %s", strerror (errno));
    }
}

static int
read_input (struct loader *l, struct error **err)
{
  const char *input = l->opts->input;
  cleanup_close int fd = -1;
  struct stat st;

  if (input == NULL)
    {
      if (isatty (0))
        return err_make (err, 0, "cannot read from terminal, use command-line redirection "
                         "or the --input flag");
      return read_archive (l, 0, err);
    }
  fd = open (input, O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    return err_make (err, errno, "open \"%s\"", input);
  if (S_ISDIR (st.st_mode))
    return read_dir (l, fd, NULL, 0, err);
  return read_archive (l, fd, err);
}

int
image_archive_load (struct skiff_context *ctx, const struct image_archive_load_opts *opts,
                    char ***loaded, struct error **err)
{
  struct loader l = { .ctx = ctx, .opts = opts, .mem_budget = MEMBERS_MEM_MAX };
  int r;

  raise_fd_limit ();
  l.loaded = xcalloc (1, sizeof *l.loaded);
  r = images_open (ctx, true, &l.s, err);
  if (r == 0)
    r = read_input (&l, err);
  if (r == 0)
    r = index_members (&l, err);
  if (r == 0)
    r = load_all (&l, err);
  if (r < 0)
    err_wrap (err, "load \"%s\"", opts->input ? opts->input : "stdin");
  else
    *loaded = steal_ptr (&l.loaded);
  for (size_t i = 0; i < l.n; i++)
    image_archive_member_clear (&l.m[i]);
  free (l.m);
  strv_free (l.loaded);
  storage_close (l.s);
  return r;
}
