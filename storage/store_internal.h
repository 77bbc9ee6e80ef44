/* Shared between the store's files (store.c, store_blobs.c,
 * store_layers.c, store_index.c, store_images.c, store_repair.c) and
 * nothing else.  The layout and the commit rules are described in
 * storage.h, section "the store". */
#ifndef SKIFF_STORAGE_STORE_INTERNAL_H
#define SKIFF_STORAGE_STORE_INTERNAL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "libutil/error.h"
#include "storage/storage.h"

#define STORE_INDEX_NAME "images.json"
#define STORE_LAYER_META "layer.json"
#define STORE_LAYER_DIFF "diff"

/* Prefixes of the entries in tmp/.  Each names its owner's pid for people
 * reading the directory; liveness is decided by flock, never by the pid. */
#define STORE_TMP_BLOB "blob-"
#define STORE_TMP_LAYER "layer-"
#define STORE_TMP_LEASE "lease-"
#define STORE_TMP_TRASH "trash-"

struct store_index;

struct storage_store
{
  char *root;      /* absolute */
  char *lock_path; /* <root>/store.lock */
  char *index_path;
  int root_fd;
  int tmp_fd;
  int layers_fd;
  int blobs_fd;    /* blobs/sha256 */
  int lock_fd;     /* held through storage_lock(), -1 otherwise */
  bool is_lock_exclusive;
  /* The parsed index, kept only while lock_fd is held: nobody else can
   * write it then, so it stays fresh. */
  struct store_index *index;
  int lease_fd;    /* -1 until the first commit through this handle */
  char *lease_name;
  pid_t owner_pid; /* a forked child must not remove its parent's lease */
};

/* ---- store.c ------------------------------------------------------------ */

/* Take the store lock for one operation unless this handle already holds
 * it.  *FD gets the descriptor to close afterwards, -1 when nothing was
 * taken.  Asking for exclusive while the handle holds shared fails. */
int store_hold_lock (struct storage_store *s, bool is_exclusive, int *fd,
                     struct error **err);

/* Record DIGEST in this handle's lease so repair and delete leave it alone
 * until the handle is closed.  Call with the store lock held (shared is
 * enough): the lease file is created unlocked for an instant, and repair
 * runs under the exclusive lock. */
int store_lease_record (struct storage_store *s, const char *digest, struct error **err);

/* "<prefix><pid>-<12 hex digits>" */
char *store_tmp_name (const char *prefix);

/* Move entry NAME of DIRFD into the trash in tmp/ (TMP_FD), from where
 * storage_purge_trash() removes it.  Always possible for the owner of the
 * entry, whoever owns the files inside. */
int store_trash_at (int tmp_fd, int dirfd, const char *name, struct error **err);

/* Take a non-blocking exclusive flock on FD: 1 taken, 0 held by another
 * open file description, negative on other failures. */
int store_try_flock (int fd, bool is_exclusive);

/* opendir() on DIRFD itself, leaving DIRFD open. */
DIR *store_opendir (int dirfd, const char *what, struct error **err);

/* Directory entries other than "." and "..". */
bool store_dirent_skip (const struct dirent *de);

/* The 64 hex digits of a valid "sha256:<hex>", NULL otherwise. */
const char *store_digest_hex (const char *digest);

int store_fsync_dir (int dirfd, const char *what, struct error **err);

/* renameat() that never replaces: plain rename(2) would silently replace
 * an empty directory.  Fails with EEXIST or ENOTEMPTY when NEWNAME is
 * there. */
int store_rename_noreplace (int olddir, const char *oldname, int newdir, const char *newname);

/* ---- store_index.c ------------------------------------------------------ */

struct store_index
{
  struct storage_image **images; /* n records, not NULL-terminated */
  size_t n;
};

/* Read images.json (a missing file is an empty index).  Every record is
 * validated; a corrupt file fails with an error naming it. */
struct store_index *store_index_load (struct storage_store *s, struct error **err);
int store_index_save (struct storage_store *s, const struct store_index *idx,
                      struct error **err);
void store_index_free (struct store_index *idx);
void store_index_freep (struct store_index **idx);
#define cleanup_index __attribute__ ((cleanup (store_index_freep)))

/* JSON field readers for our own metadata files, which may still be
 * corrupt or edited: every failure names WHAT and KEY.  A digest must be a
 * valid "sha256:<hex>"; an optional one missing gives NULL. */
int store_json_digest (json_object *o, const char *key, const char *what, bool is_required,
                       const char **out, struct error **err);
/* A required integer; IS_SIZE also refuses negatives. */
int store_json_int (json_object *o, const char *key, const char *what, bool is_size,
                    int64_t *out, struct error **err);

struct storage_image *store_image_copy (const struct storage_image *img);
/* A copy of V (NULL copies as empty), never NULL. */
char **store_strv_copy (char *const *v);
/* A name or repo digest as stored: 1..1024 bytes of [A-Za-z0-9._-/:@]. */
bool store_name_valid (const char *name);
bool store_media_type_valid (const char *type);

/* ---- store_repair.c ----------------------------------------------------- */

/* The digests (image IDs, manifests, layer chain IDs, layer blobs) that
 * must stay: those of every image in IDX and of every live lease.  Call
 * with the exclusive lock held; dead leases found on the way are removed. */
struct store_refs
{
  char **v; /* sorted */
  size_t n;
  size_t cap;
};

int store_refs_collect (struct storage_store *s, const struct store_index *idx,
                        struct store_refs *refs, struct error **err);
bool store_refs_has (const struct store_refs *refs, const char *digest);
void store_refs_free (struct store_refs *refs);

#endif
