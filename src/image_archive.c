/* Image archives: what load (image_load.c), save (image_save.c) and
 * import (image_import.c) share, declared in image_archive_internal.h:
 *
 *  - paths inside an archive, made canonical and kept inside it;
 *  - the parsers of a docker-archive's manifest.json and an OCI layout's
 *    index.json;
 *  - blobs: compression sniffing, streaming decompression with hashing,
 *    the manifests made for stored layers, and files of an archive copied
 *    into memory or into blob stages of the store (struct member).
 *
 * The Dockerfile instructions of --change live in image_change.c. */
#include "config.h"

#include <archive.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_archive.h"
#include "image_archive_internal.h"
#include "image_change.h"
#include "libutil/buf.h"
#include "libutil/jobj.h"
#include "libutil/mem.h"
#include "libutil/sha256.h"
#include "manifest.h"
#include "storage/storage.h"

/* ==== paths inside an archive ============================================ */

char *
image_archive_clean_path_mode (const char *path, enum path_mode mode, struct error **err)
{
  cleanup_buf struct buf out = BUF_INIT;
  const char *p = path;

  if (strlen (path) > IMAGE_ARCHIVE_PATH_MAX)
    return err_make (err, ENAMETOOLONG, "invalid path \"%.64s...\": longer than %d bytes",
                     path, IMAGE_ARCHIVE_PATH_MAX), NULL;
  if (*p == '/' && mode == PATH_RELATIVE)
    return err_make (err, 0, "invalid path \"%s\": absolute paths are not allowed", path),
           NULL;
  while (*p)
    {
      const char *end = strchr (p, '/');
      size_t n;

      if (end == NULL)
        end = p + strlen (p);
      n = (size_t) (end - p);
      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          char *slash = out.len ? strrchr (out.data, '/') : NULL;

          if (out.len == 0 && mode != PATH_CLAMP_ROOT)
            return err_make (err, 0, "invalid path \"%s\": it leads outside the archive", path),
                   NULL;
          if (out.len)
            buf_truncate (&out, slash ? (size_t) (slash - out.data) : 0);
        }
      else if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (out.len)
            buf_append_char (&out, '/');
          buf_append (&out, p, n);
        }
      p = *end ? end + 1 : end;
    }
  if (out.len == 0 && mode != PATH_CLAMP_ROOT)
    return err_make (err, 0, "invalid path \"%s\": it names no file", path), NULL;
  return buf_steal (&out);
}

char *
image_archive_clean_path (const char *path, struct error **err)
{
  return image_archive_clean_path_mode (path, PATH_RELATIVE, err);
}

/* ==== manifest.json and index.json ======================================= */

static json_object *
parse_json_doc (const char *data, size_t len, const char *what, json_type type,
                struct error **err)
{
  json_object *o;

  if (len > IMAGE_ARCHIVE_JSON_MAX)
    return err_make (err, 0, "%s: %zu bytes is more than the %u allowed", what, len,
                     IMAGE_ARCHIVE_JSON_MAX), NULL;
  o = jobj_parse (data, len, what, err);
  if (o == NULL)
    return NULL;
  if (!json_object_is_type (o, type))
    {
      json_object_put (o);
      return err_make (err, 0, "%s: expected a JSON %s", what,
                       type == json_type_array ? "array" : "object"), NULL;
    }
  return o;
}

/* O[KEY] as a vector of at most MAX strings.  A missing or null member is
 * an empty vector unless IS_REQUIRED.  With IS_PATH each is cleaned. */
static int
get_strings (json_object *o, const char *key, bool is_required, size_t max, bool is_path,
             char ***out, size_t *n_out, struct error **err)
{
  cleanup_strv char **v = xcalloc (1, sizeof *v);
  json_object *a = NULL;
  size_t n;

  if (!json_object_object_get_ex (o, key, &a) || a == NULL)
    {
      if (is_required)
        return err_make (err, 0, "\"%s\" is missing", key);
      *out = steal_ptr (&v);
      *n_out = 0;
      return 0;
    }
  if (!json_object_is_type (a, json_type_array))
    return err_make (err, 0, "\"%s\" must be an array of strings", key);
  n = json_object_array_length (a);
  if (n > max)
    return err_make (err, 0, "\"%s\" has %zu entries, more than the %zu allowed", key, n, max);
  for (size_t i = 0; i < n; i++)
    {
      json_object *s = json_object_array_get_idx (a, i);
      cleanup_free char *clean = NULL;

      if (!json_object_is_type (s, json_type_string))
        return err_make (err, 0, "\"%s\"[%zu] must be a string", key, i);
      if (is_path)
        {
          clean = image_archive_clean_path_mode (json_object_get_string (s), PATH_RELATIVE, err);
          if (clean == NULL)
            return err_wrap (err, "\"%s\"[%zu]", key, i);
        }
      v = strv_append (v, clean ? clean : json_object_get_string (s));
    }
  *out = steal_ptr (&v);
  *n_out = n;
  return 0;
}

static int
parse_docker_entry (json_object *o, struct image_archive_docker_entry *e, struct error **err)
{
  json_object *config = NULL;
  size_t n_tags = 0;

  if (!json_object_is_type (o, json_type_object))
    return err_make (err, 0, "not a JSON object");
  if (!json_object_object_get_ex (o, "Config", &config)
      || !json_object_is_type (config, json_type_string))
    return err_make (err, 0, "\"Config\" must be a string");
  e->config = image_archive_clean_path_mode (json_object_get_string (config), PATH_RELATIVE, err);
  if (e->config == NULL)
    return err_wrap (err, "\"Config\"");
  if (get_strings (o, "RepoTags", false, IMAGE_ARCHIVE_MAX_TAGS, false, &e->repo_tags, &n_tags,
                   err) < 0)
    return -1;
  return get_strings (o, "Layers", true, MANIFEST_MAX_LAYERS, true, &e->layers, &e->n_layers,
                      err);
}

int
image_archive_parse_docker_manifest (const char *data, size_t len,
                                     struct image_archive_docker_entry **out, size_t *n_out,
                                     struct error **err)
{
  cleanup_json json_object *root = parse_json_doc (data, len, "manifest.json",
                                                   json_type_array, err);
  struct image_archive_docker_entry *v;
  size_t n;

  if (root == NULL)
    return -1;
  n = json_object_array_length (root);
  if (n == 0)
    return err_make (err, 0, "manifest.json lists no image");
  if (n > IMAGE_ARCHIVE_MAX_IMAGES)
    return err_make (err, 0, "manifest.json lists %zu images, more than the %d allowed", n,
                     IMAGE_ARCHIVE_MAX_IMAGES);
  v = xcalloc (n, sizeof *v);
  for (size_t i = 0; i < n; i++)
    if (parse_docker_entry (json_object_array_get_idx (root, i), &v[i], err) < 0)
      {
        image_archive_docker_entries_free (v, n);
        return err_wrap (err, "manifest.json: image %zu", i + 1);
      }
  *out = v;
  *n_out = n;
  return 0;
}

void
image_archive_docker_entries_free (struct image_archive_docker_entry *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    {
      free (v[i].config);
      strv_free (v[i].repo_tags);
      strv_free (v[i].layers);
    }
  free (v);
}

/* 1 when O is an image or index image_archive_descriptor (filled into E), 0 for other
 * media types. */
static int
parse_oci_entry (json_object *o, struct image_archive_oci_entry *e, struct error **err)
{
  json_object *annotations = NULL, *size = NULL;
  const char *mt, *digest, *name;

  if (!json_object_is_type (o, json_type_object))
    return err_make (err, 0, "not a JSON object");
  mt = jobj_require_string (o, "mediaType", "descriptor", err);
  if (mt == NULL)
    return -1;
  if (!manifest_media_type_is_image (mt) && !manifest_media_type_is_index (mt))
    return 0;
  digest = jobj_require_string (o, "digest", "descriptor", err);
  if (digest == NULL)
    return -1;
  if (!sha256_digest_valid (digest))
    return err_make (err, 0, "invalid digest \"%s\": expected sha256:<64 hex digits>", digest);
  if (!json_object_object_get_ex (o, "size", &size) || !json_object_is_type (size, json_type_int)
      || json_object_get_int64 (size) < 0)
    return err_make (err, 0, "\"size\" must be a non-negative integer");
  annotations = jobj_get_object (o, "annotations");
  name = jobj_get_string (annotations, ANNOTATION_CONTAINERD_NAME);
  if (name == NULL || *name == '\0')
    name = jobj_get_string (annotations, ANNOTATION_REF_NAME);
  e->media_type = xstrdup (mt);
  e->digest = xstrdup (digest);
  e->size = json_object_get_int64 (size);
  e->name = name && *name ? xstrdup (name) : NULL;
  return 1;
}

int
image_archive_parse_oci_index (const char *data, size_t len, struct image_archive_oci_entry **out,
                               size_t *n_out, struct error **err)
{
  cleanup_json json_object *root = parse_json_doc (data, len, "index.json",
                                                   json_type_object, err);
  struct image_archive_oci_entry *v;
  json_object *manifests, *version = NULL;
  size_t n, used = 0;

  if (root == NULL)
    return -1;
  if (json_object_object_get_ex (root, "schemaVersion", &version)
      && (!json_object_is_type (version, json_type_int) || json_object_get_int64 (version) != 2))
    return err_make (err, 0, "index.json: \"schemaVersion\" must be 2");
  manifests = jobj_get_array (root, "manifests");
  if (manifests == NULL)
    return err_make (err, 0, "index.json: \"manifests\" must be an array");
  n = json_object_array_length (manifests);
  if (n > MANIFEST_MAX_ENTRIES)
    return err_make (err, 0, "index.json lists %zu manifests, more than the %d allowed", n,
                     MANIFEST_MAX_ENTRIES);
  v = xcalloc (n ? n : 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    {
      int r = parse_oci_entry (json_object_array_get_idx (manifests, i), &v[used], err);
      if (r < 0)
        {
          image_archive_oci_entries_free (v, used);
          return err_wrap (err, "index.json: manifests[%zu]", i);
        }
      used += (size_t) r;
    }
  if (used == 0)
    {
      free (v);
      return err_make (err, 0, "index.json lists no image");
    }
  *out = v;
  *n_out = used;
  return 0;
}

void
image_archive_oci_entries_free (struct image_archive_oci_entry *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    {
      free (v[i].media_type);
      free (v[i].digest);
      free (v[i].name);
    }
  free (v);
}

/* ==== format names ======================================================= */

static const struct
{
  const char *name;
  enum image_archive_format format;
} formats[] = {
  { "docker-archive", IMAGE_ARCHIVE_DOCKER_ARCHIVE },
  { "oci-archive", IMAGE_ARCHIVE_OCI_ARCHIVE },
  { "oci-dir", IMAGE_ARCHIVE_OCI_DIR },
  { "docker-dir", IMAGE_ARCHIVE_DOCKER_DIR },
};

const char *
image_archive_format_name (enum image_archive_format f)
{
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (formats[i].format == f)
      return formats[i].name;
  return "?";
}

int
image_archive_parse_format (const char *s, enum image_archive_format *out, struct error **err)
{
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (strcmp (s, formats[i].name) == 0)
      {
        *out = formats[i].format;
        return 0;
      }
  return err_make (err, 0, "unknown format \"%s\": use docker-archive, oci-archive, oci-dir "
                   "or docker-dir", s);
}

/* ==== blobs: compression, decompression, manifests ======================= */

enum blob_compression
image_archive_sniff_compression (const unsigned char *b, size_t n)
{
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
    return COMP_GZIP;
  if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
    return COMP_ZSTD;
  if (n >= 6 && memcmp (b, "\xfd" "7zXZ", 6) == 0)
    return COMP_XZ;
  if (n >= 3 && memcmp (b, "BZh", 3) == 0)
    return COMP_BZIP2;
  return COMP_NONE;
}

/* The layer media type for C in a docker or OCI manifest; NULL when that
 * manifest cannot name it. */
const char *
image_archive_layer_media_type (enum blob_compression c, bool is_docker)
{
  switch (c)
    {
    case COMP_NONE:
      return is_docker ? "application/vnd.docker.image.rootfs.diff.tar"
                       : "application/vnd.oci.image.layer.v1.tar";
    case COMP_GZIP:
      return is_docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                       : "application/vnd.oci.image.layer.v1.tar+gzip";
    case COMP_ZSTD:
      return is_docker ? NULL : "application/vnd.oci.image.layer.v1.tar+zstd";
    default:
      return NULL;
    }
}

json_object *
image_archive_descriptor (const char *media_type, const char *digest, uint64_t size)
{
  json_object *d = json_object_new_object ();

  json_object_object_add (d, "mediaType", json_object_new_string (media_type));
  json_object_object_add (d, "digest", json_object_new_string (digest));
  json_object_object_add (d, "size", json_object_new_int64 ((int64_t) size));
  return d;
}

/* A docker schema2 (IS_DOCKER) or OCI image manifest, serialised; NULL when
 * a layer's compression has no media type there. */
char *
image_archive_make_manifest (bool is_docker, const char *config_digest, size_t config_size,
                             const struct manifest_layer *layers, size_t n, struct error **err)
{
  cleanup_json json_object *m = json_object_new_object ();
  json_object *array = json_object_new_array ();

  json_object_object_add (m, "schemaVersion", json_object_new_int (2));
  json_object_object_add (m, "mediaType", json_object_new_string (
                                              is_docker ? MANIFEST_MT_DOCKER_MANIFEST
                                                        : MANIFEST_MT_OCI_MANIFEST));
  json_object_object_add (m, "config",
                          image_archive_descriptor (is_docker ? MANIFEST_MT_DOCKER_CONFIG
                                                              : MANIFEST_MT_OCI_CONFIG,
                                                    config_digest, config_size));
  json_object_object_add (m, "layers", array);
  for (size_t i = 0; i < n; i++)
    {
      const char *mt = image_archive_layer_media_type (layers[i].compression, is_docker);
      if (mt == NULL)
        return err_make (err, 0, "layer %s: a %s manifest cannot describe its compression",
                         layers[i].digest, is_docker ? "docker" : "OCI"), NULL;
      json_object_array_add (array,
                             image_archive_descriptor (mt, layers[i].digest, layers[i].size));
    }
  return jobj_to_string (m, false);
}

void
image_archive_read_freep (struct archive **a)
{
  if (*a != NULL)
    archive_read_free (*a);
}

int
image_archive_fail (struct archive *a, const char *what, struct error **err)
{
  const char *msg = archive_error_string (a);
  int e = archive_errno (a);

  /* libarchive reports bad input as EILSEQ (ARCHIVE_ERRNO_FILE_FORMAT) and
   * its own misuse as EINVAL: its message says more than their text. */
  if (e == EILSEQ || e == EINVAL || e < 0)
    e = 0;
  return err_make (err, e, "%s: %s", what, msg ? msg : "unknown libarchive error");
}

/* The decompressors libarchive has built in.  A filter whose library is
 * missing would run an external program on hostile bytes: not offered. */
int
image_archive_enable_filters (struct archive *a, struct error **err)
{
  static const struct
  {
    const char *(*version) (void);
    int (*support) (struct archive *);
  } filters[] = {
    { archive_zlib_version, archive_read_support_filter_gzip },
    { archive_libzstd_version, archive_read_support_filter_zstd },
    { archive_liblzma_version, archive_read_support_filter_xz },
    { archive_bzlib_version, archive_read_support_filter_bzip2 },
  };

  for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
    if (filters[i].version () != NULL && filters[i].support (a) != ARCHIVE_OK)
      return image_archive_fail (a, "enable decompression", err);
  return 0;
}

/* Stream the decompressed content of FD (gzip, zstd, xz, bzip2 or plain)
 * to FN, hashing it: *SIZE and HEX get what went by. */
int
image_archive_decompress_fd (int fd, chunk_fn fn, void *arg, uint64_t *size,
                             char hex[SHA256_HEX_LEN + 1], struct error **err)
{
  cleanup_archive_read struct archive *a = archive_read_new ();
  cleanup_sha256 struct sha256_ctx *h = sha256_new ();
  struct archive_entry *e;
  int r;

  *size = 0;
  if (image_archive_enable_filters (a, err) < 0)
    return -1;
  if (archive_read_support_format_raw (a) != ARCHIVE_OK
      || archive_read_support_format_empty (a) != ARCHIVE_OK)
    return image_archive_fail (a, "enable raw reading", err);
  if (archive_read_open_fd (a, fd, COPY_BUF_SIZE) != ARCHIVE_OK)
    return image_archive_fail (a, "decompress", err);
  r = archive_read_next_header (a, &e);
  if (r < ARCHIVE_WARN)
    return image_archive_fail (a, "decompress", err);
  while (r != ARCHIVE_EOF)
    {
      const void *buf;
      size_t len = 0;
      la_int64_t off;

      r = archive_read_data_block (a, &buf, &len, &off);
      if (r < ARCHIVE_WARN)
        return image_archive_fail (a, "decompress", err);
      if (r == ARCHIVE_EOF || len == 0)
        continue;
      sha256_update (h, buf, len);
      *size += len;
      if (fn && fn (arg, buf, len, err) < 0)
        return -1;
    }
  sha256_final_hex (h, hex);
  return 0;
}

int
image_archive_write_all (int fd, const void *buf, size_t len, struct error **err)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_make (err, errno, "write");
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

void
image_archive_say (bool is_quiet, const char *fmt, ...)
{
  va_list ap;

  if (is_quiet)
    return;
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
}

/* ==== blobs: the files of an archive ====================================== */

void
image_archive_member_clear (struct member *m)
{
  free (m->name);
  free (m->link);
  free (m->data);
  storage_blob_stage_free (m->stage);
}

/* Copy M's content from READ_FN, hashing it.  It goes into memory when
 * *MEM_BUDGET (NULL: never) still allows, into a blob stage otherwise.
 * SIZE, when not negative, is what the content must measure. */
int
image_archive_ingest (struct storage_store *s, size_t *mem_budget, struct member *m,
                      int64_t size, source_fn read_fn, void *src, struct error **err)
{
  cleanup_sha256 struct sha256_ctx *h = sha256_new ();
  cleanup_free char *buf = xmalloc (COPY_BUF_SIZE);
  char hex[SHA256_HEX_LEN + 1];
  bool is_small = mem_budget && size >= 0 && (uint64_t) size <= MEMBER_SMALL_MAX
                  && (uint64_t) size <= *mem_budget;
  int fd = -1;

  if (is_small)
    {
      m->data = xmalloc ((size_t) size + 1);
      *mem_budget -= (size_t) size;
    }
  else
    {
      if (storage_blob_stage_new (s, &m->stage, err) < 0)
        return -1;
      fd = storage_blob_stage_fd (m->stage);
    }
  for (;;)
    {
      ssize_t n = read_fn (src, buf, COPY_BUF_SIZE, err);

      if (n < 0)
        return err_wrap (err, "read \"%s\"", m->name);
      if (n == 0)
        break;
      if (size >= 0 && m->size + (uint64_t) n > (uint64_t) size)
        return err_make (err, 0, "\"%s\" is longer than its %lld bytes", m->name,
                         (long long) size);
      if (m->n_magic < MAGIC_LEN)
        {
          size_t k = MAGIC_LEN - m->n_magic < (size_t) n ? MAGIC_LEN - m->n_magic : (size_t) n;
          memcpy (m->magic + m->n_magic, buf, k);
          m->n_magic += k;
        }
      sha256_update (h, buf, (size_t) n);
      if (is_small)
        memcpy (m->data + m->size, buf, (size_t) n);
      else if (image_archive_write_all (fd, buf, (size_t) n, err) < 0)
        return err_wrap (err, "stage \"%s\"", m->name);
      m->size += (uint64_t) n;
    }
  if (size >= 0 && m->size != (uint64_t) size)
    return err_make (err, 0, "\"%s\" is truncated", m->name);
  if (is_small)
    m->data[m->size] = '\0';
  sha256_final_hex (h, hex);
  snprintf (m->digest, sizeof m->digest, "sha256:%s", hex);
  return 0;
}

ssize_t
image_archive_read_fd_data (void *src, void *buf, size_t len, struct error **err)
{
  ssize_t n;

  do
    n = read (*(int *) src, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return err_make (err, errno, "read");
  return n;
}

/* Make M a blob of the store: commit its stage, or claim the blob when
 * the store has it already. */
int
image_archive_store_member (struct storage_store *s, struct member *m, struct error **err)
{
  int have;

  if (m->is_stored)
    return 0;
  have = storage_blob_claim (s, m->digest, err);
  if (have < 0)
    return -1;
  if (have == 0 && m->stage
      && storage_blob_stage_commit (s, m->stage, m->digest, err) < 0)
    return err_wrap (err, "store \"%s\"", m->name);
  if (have == 0 && m->data
      && storage_blob_put_bytes (s, m->digest, m->data, m->size, NULL, err) < 0)
    return err_wrap (err, "store \"%s\"", m->name);
  m->is_stored = true;
  return 0;
}

void
image_archive_add_name (char ***names, const char *name)
{
  for (char **n = *names; n && *n; n++)
    if (strcmp (*n, name) == 0)
      return;
  *names = strv_append (*names, name);
}

/* ==== Dockerfile change instructions ===================================== */

int
image_archive_apply_change (json_object *config, const char *change, struct error **err)
{
  return image_change_apply (config, change, err);
}
