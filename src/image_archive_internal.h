/* Shared between the image archive files (image_archive.c, image_change.c,
 * image_load.c, image_save.c, image_import.c) and nothing else; the
 * functions are defined in image_archive.c.  Their public API is
 * image_archive.h (and image_change.h). */
#ifndef SKIFF_SRC_IMAGE_ARCHIVE_INTERNAL_H
#define SKIFF_SRC_IMAGE_ARCHIVE_INTERNAL_H

#include <archive.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "image_archive.h"
#include "libutil/error.h"
#include "libutil/sha256.h"
#include "storage/storage.h"

#define COPY_BUF_SIZE (256u << 10)
/* Files up to this size are kept in memory while an archive is read (the
 * JSON files, small layers), up to MEMBERS_MEM_MAX in all. */
#define MEMBER_SMALL_MAX (1u << 20)
#define MEMBERS_MEM_MAX (64u << 20)
#define MAGIC_LEN 6

#define ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"
#define DIR_TRANSPORT_VERSION "Directory Transport Version: 1.1\n"

/* ---- paths inside an archive -------------------------------------------- */

enum path_mode
{
  PATH_RELATIVE,    /* a reference in manifest.json: "/x" is an error */
  PATH_MEMBER,      /* a tar member name: "/x" counts from the root */
  PATH_CLAMP_ROOT,  /* a WORKDIR: ".." at the root stays there */
};

/* PATH made canonical and relative as MODE reads it (see
 * image_archive_clean_path() for PATH_RELATIVE).  Malloc'd. */
char *image_archive_clean_path_mode (const char *path, enum path_mode mode, struct error **err);

/* ---- format names -------------------------------------------------------- */

/* F's name for `save --format` ("docker-archive"...). */
const char *image_archive_format_name (enum image_archive_format f);

/* ---- blobs: compression, decompression, manifests ----------------------- */

enum blob_compression
{
  COMP_NONE,
  COMP_GZIP,
  COMP_ZSTD,
  COMP_XZ,
  COMP_BZIP2,
};

/* The compression the first bytes B (N of them) announce. */
enum blob_compression image_archive_sniff_compression (const unsigned char *b, size_t n);

/* The layer media type for C in a docker or OCI manifest; NULL when that
 * manifest cannot name it. */
const char *image_archive_layer_media_type (enum blob_compression c, bool is_docker);

struct manifest_layer
{
  const char *digest;
  uint64_t size;
  enum blob_compression compression;
};

/* A descriptor object {mediaType, digest, size}. */
json_object *image_archive_descriptor (const char *media_type, const char *digest,
                                       uint64_t size);

/* A docker schema2 (IS_DOCKER) or OCI image manifest, serialised; NULL when
 * a layer's compression has no media type there. */
char *image_archive_make_manifest (bool is_docker, const char *config_digest, size_t config_size,
                                   const struct manifest_layer *layers, size_t n,
                                   struct error **err);

/* The cleanup of a libarchive reader. */
void image_archive_read_freep (struct archive **a);
#define cleanup_archive_read __attribute__ ((cleanup (image_archive_read_freep)))

/* A libarchive failure of A while doing WHAT, as an error; returns -1. */
int image_archive_fail (struct archive *a, const char *what, struct error **err);

/* Offer the decompressors libarchive has built in to reader A. */
int image_archive_enable_filters (struct archive *a, struct error **err)
    __attribute__ ((warn_unused_result));

typedef int (*chunk_fn) (void *arg, const void *buf, size_t len, struct error **err);

/* Stream the decompressed content of FD (gzip, zstd, xz, bzip2 or plain)
 * to FN (may be NULL), hashing it: *SIZE and HEX get what went by. */
int image_archive_decompress_fd (int fd, chunk_fn fn, void *arg, uint64_t *size,
                                 char hex[SHA256_HEX_LEN + 1], struct error **err)
    __attribute__ ((warn_unused_result));

/* write(2) all of BUF to FD, retrying on EINTR. */
int image_archive_write_all (int fd, const void *buf, size_t len, struct error **err)
    __attribute__ ((warn_unused_result));

/* Progress on stderr, unless IS_QUIET. */
void image_archive_say (bool is_quiet, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* ---- blobs: the files of an archive ------------------------------------- */

struct member
{
  char *name;        /* cleaned path inside the archive */
  char *link;        /* symlink target as written, hardlink target cleaned;
                        NULL for a file */
  bool is_hardlink;
  char digest[SHA256_DIGEST_STR_LEN];
  uint64_t size;
  unsigned char magic[MAGIC_LEN];
  size_t n_magic;
  char *data;                        /* a small file, in memory */
  struct storage_blob_stage *stage;  /* a large one, staged in the store */
  bool is_stored;                    /* committed or claimed as a blob */
};

typedef ssize_t (*source_fn) (void *src, void *buf, size_t len, struct error **err);

/* Free what M holds (not M). */
void image_archive_member_clear (struct member *m);

/* Copy M's content from READ_FN, hashing it: into memory when *MEM_BUDGET
 * (NULL: never) still allows, into a blob stage otherwise.  SIZE, when not
 * negative, is what the content must measure. */
int image_archive_ingest (struct storage_store *s, size_t *mem_budget, struct member *m,
                          int64_t size, source_fn read_fn, void *src, struct error **err)
    __attribute__ ((warn_unused_result));

/* A source_fn reading the descriptor *(int *) SRC, retrying on EINTR. */
ssize_t image_archive_read_fd_data (void *src, void *buf, size_t len, struct error **err);

/* Make M a blob of the store: commit its stage, or claim the blob when the
 * store has it already. */
int image_archive_store_member (struct storage_store *s, struct member *m, struct error **err)
    __attribute__ ((warn_unused_result));

/* Append NAME to the NULL-terminated *NAMES unless it is there. */
void image_archive_add_name (char ***names, const char *name);

#endif
