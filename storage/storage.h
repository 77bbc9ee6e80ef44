/* storage/: the image and layer store, layer extraction, and the overlay
 * drivers.  Uses libutil/ only.  This is the module's one public header;
 * each part below has its own section. */
#ifndef SKIFF_STORAGE_STORAGE_H
#define SKIFF_STORAGE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libutil/error.h"

/* === overlay probe (overlay_probe.c) ==================================== */

/* The storage driver names, as --storage-driver takes them. */
#define STORAGE_DRIVER_OVERLAY "overlay"
#define STORAGE_DRIVER_FUSE_OVERLAYFS "fuse-overlayfs"
#define STORAGE_DRIVER_VFS "vfs"

/* Whether kernel overlayfs mounts inside an unprivileged user namespace
 * (option "userxattr", Linux 5.11+) on the filesystem of DIR (the store
 * root), with whiteouts (0:0 character devices) in lower layers honoured
 * and creatable in the upper one.  The probe runs in a forked child in a
 * scratch directory under DIR, which is created when missing; the answer
 * is cached in DIR/overlay-probe keyed by the kernel release, so it runs
 * once per kernel.  SKIFF_OVERLAY_PROBE_FORCE=ok or =fail overrides both.
 * Never fails: whatever stops the probe counts as "no", with the reason
 * logged at debug level.  Not for use after fork. */
bool storage_overlay_probe (const char *dir);

/* The fuse-overlayfs program found in PATH (malloc'd), or NULL. */
char *storage_fuse_overlayfs_path (void);

/* Whether /dev/fuse opens for reading and writing, which FUSE needs. */
bool storage_fuse_usable (void);

/* The driver to use: FORCED when not NULL (--storage-driver; one of the
 * names above, anything else is an error naming them), otherwise
 * "overlay" when storage_overlay_probe (PROBE_DIR) says yes, else
 * "fuse-overlayfs" when the program is installed and /dev/fuse usable,
 * else "vfs".  *OUT is one of the static names above. */
int storage_choose_driver (const char *forced, const char *probe_dir, const char **out,
                           struct error **err);

/* === layer extraction (extract.c) ======================================= */

/* Layer blobs (OCI image spec, layer.md) become directory trees: one fresh
 * directory per layer for the overlay drivers, or applied in place onto a
 * copy of the layers below for the vfs driver. */

#include "libutil/sha256.h"

/* How a layer's whiteouts are stored once extracted. */
enum storage_whiteout_format
{
  /* ".wh.NAME" becomes a char device 0:0 NAME and ".wh..wh..opq" the opaque
   * xattr on its directory: what kernel overlayfs reads. */
  WHITEOUT_OVERLAY,
  /* ".wh." files are kept as the tar has them: fuse-overlayfs reads these
   * where whiteout devices cannot be made. */
  WHITEOUT_AUFS,
};

struct storage_extract_opts
{
  enum storage_whiteout_format whiteouts;
  /* With WHITEOUT_OVERLAY: when a probe in the destination finds that
   * whiteout devices or the opaque xattr cannot be made here, write the
   * layer as WHITEOUT_AUFS instead of failing (the result says so).  The
   * environment variable SKIFF_NO_OVERLAY_WHITEOUTS=1 fails the probe. */
  bool can_fallback_aufs;
  /* The user namespace maps one ID: a chown the kernel refuses (EINVAL,
   * EPERM) leaves the entry owned by the caller, root in the namespace. */
  bool is_rootless_single_id;
  /* The opaque-directory xattr; NULL means "trusted.overlay.opaque" (real
   * root).  Kernel overlay mounted with userxattr in a user namespace reads
   * "user.overlay.opaque". */
  const char *opaque_xattr;
};

struct storage_extract_result
{
  char diff_id[SHA256_DIGEST_STR_LEN]; /* "sha256:<hex>" of the uncompressed tar */
  uint64_t size;                       /* bytes of the uncompressed tar */
  uint64_t n_entries;                  /* tar entries read */
  enum storage_whiteout_format whiteouts; /* the format written */
};

/* Extract the layer read from BLOB_FD (gzip, zstd, xz, bzip2 or plain tar,
 * told apart by their bytes; read from the current offset, not closed) into
 * the empty directory DEST_DIRFD, with whiteouts in OPTS->whiteouts (OPTS
 * may be NULL for the defaults), and fill RES.  One pass: the decompressed
 * stream is hashed while it is parsed.
 *
 * The archive is hostile input.  Every entry is resolved beneath DEST_DIRFD
 * on descriptors and no symlink is ever followed: names with "..", entries
 * below a symlink, hardlinks leaving the layer or to missing targets, and
 * corrupt or truncated archives fail the whole extraction.  Absolute names
 * count from the layer root.  Device nodes and sockets are skipped: the
 * runtime provides /dev.
 *
 * Owners other than the caller's need the caller to run as root in the
 * layer's user namespace; this function makes no namespace or process and
 * is safe after fork, not in a signal handler.  On failure DEST_DIRFD holds
 * a partial layer that the caller must remove: extract into a temporary
 * directory and rename it into place on success. */
int storage_extract_layer (int blob_fd, int dest_dirfd,
                           const struct storage_extract_opts *opts,
                           struct storage_extract_result *res, struct error **err)
    __attribute__ ((warn_unused_result));

/* The same walk for the copying vfs driver: apply the layer onto DEST_DIRFD,
 * which already holds the layers below it.  ".wh.NAME" removes NAME,
 * ".wh..wh..opq" removes what lower layers put in its directory and keeps
 * this layer's entries, whatever their order in the tar; any other entry
 * replaces what is there, except that a directory over a directory keeps
 * its contents.  OPTS->whiteouts and can_fallback_aufs are ignored.  Fails
 * as storage_extract_layer() does, leaving a half-applied tree the caller
 * must discard. */
int storage_apply_layer (int blob_fd, int dest_dirfd,
                         const struct storage_extract_opts *opts,
                         struct storage_extract_result *res, struct error **err)
    __attribute__ ((warn_unused_result));


/* === the store (store.c) ================================================ */

/* The on-disk image store under one root directory (DESIGN.md "Storage"):
 *
 *   store.lock            flock: shared for readers, exclusive for writers
 *   images.json           the image index: every image record, one read
 *   blobs/sha256/<hex>    manifests, configs, compressed layer blobs (kept
 *                         byte for byte, so push and save reproduce them)
 *   layers/<chain hex>/   layer.json and diff/, the extracted tree
 *   tmp/                  staging (same file system: commits are renames),
 *                         leases, and trash waiting for removal
 *
 * Commit points, so a process killed anywhere leaves nothing half-made: a
 * blob counts once renamed into blobs/, a layer once its staging directory,
 * with layer.json already inside, is renamed into layers/, an image once
 * its record is in images.json, which is written last and atomically.
 *
 * Locking: changes to the image index need the exclusive lock.  A caller
 * may hold a lock across several calls with storage_lock(); otherwise each
 * call takes what it needs for itself.  Readers need no lock (every file
 * is replaced atomically).  Staging and blob or layer commits take the
 * shared lock for an instant so they never interleave with repair or
 * delete.  Whatever a handle committed or claimed is "leased" until
 * storage_close(): repair and delete leave it alone even before an image
 * references it, so a pull in progress is never collected under it.
 *
 * Files inside layers may belong to subordinate IDs, which the user cannot
 * remove.  So removal is two-phase: the store renames what goes into
 * tmp/trash-* (always possible for the owner of the layer directory), and
 * storage_purge_trash(), run by the caller inside the user namespace,
 * removes it.  Leftover trash is purged by any later run. */

struct storage_store;

/* Open the store at ROOT, creating it and its directories (0700) when
 * missing.  Takes no lock and touches nothing else; writers call
 * storage_repair() first.  Not safe in a signal handler. */
int storage_open (const char *root, struct storage_store **out, struct error **err)
    __attribute__ ((warn_unused_result));
/* Release the lock and the lease (in the process that opened S; a forked
 * child closing its copy releases nothing of its parent's). */
void storage_close (struct storage_store *s);
void storage_closep (struct storage_store **s);
#define cleanup_storage __attribute__ ((cleanup (storage_closep)))
/* The absolute store root. */
const char *storage_root (const struct storage_store *s);

/* Hold the store lock until storage_unlock() or storage_close(); while held,
 * the image index is read once and kept.  Locking again with the other mode
 * converts the lock, not atomically (flock(2)).  The descriptor is
 * close-on-exec but survives fork: do not fork a long-lived process while
 * holding it. */
int storage_lock (struct storage_store *s, bool is_exclusive, struct error **err)
    __attribute__ ((warn_unused_result));
void storage_unlock (struct storage_store *s);

/* ---- blobs: content by digest ("sha256:<hex>"; any other digest string
 * is refused before it comes near a path) ---- */

/* <root>/blobs/sha256/<hex>, malloc'd; whether it exists is not checked. */
char *storage_blob_path (const struct storage_store *s, const char *digest,
                         struct error **err);
bool storage_blob_exists (const struct storage_store *s, const char *digest);
/* Like storage_blob_exists(), and on yes lease the blob to this handle so
 * it survives until an image references it.  1 present, 0 missing. */
int storage_blob_claim (struct storage_store *s, const char *digest, struct error **err);
/* Open a blob for reading (O_RDONLY | O_CLOEXEC). */
int storage_blob_open (const struct storage_store *s, const char *digest, struct error **err);
/* Read a blob of at most MAX bytes into a NUL-terminated buffer and check
 * its digest: a blob that does not hash to its name is an error. */
char *storage_blob_read (const struct storage_store *s, const char *digest, size_t max,
                         size_t *len, struct error **err);
/* Store LEN bytes of DATA.  DIGEST, when not NULL, must match what the data
 * hashes to; *DIGEST_OUT (when not NULL) gets the digest.  An existing blob
 * is claimed, not rewritten. */
int storage_blob_put_bytes (struct storage_store *s, const char *digest, const void *data,
                            size_t len, char **digest_out, struct error **err);

/* A new blob written in tmp/ and renamed into blobs/ by commit.  The
 * caller streams into storage_blob_stage_fd() and hashes as it goes. */
struct storage_blob_stage;
int storage_blob_stage_new (struct storage_store *s, struct storage_blob_stage **out,
                            struct error **err);
int storage_blob_stage_fd (const struct storage_blob_stage *st);
const char *storage_blob_stage_path (const struct storage_blob_stage *st);
/* fsync and rename under DIGEST, which the caller has verified while
 * writing; the blob is leased to S.  After a failure the stage is still
 * uncommitted: free it, which deletes the file. */
int storage_blob_stage_commit (struct storage_store *s, struct storage_blob_stage *st,
                               const char *digest, struct error **err);
/* Free a stage; an uncommitted one is deleted. */
void storage_blob_stage_free (struct storage_blob_stage *st);
void storage_blob_stage_freep (struct storage_blob_stage **st);
#define cleanup_blob_stage __attribute__ ((cleanup (storage_blob_stage_freep)))

/* ---- layers: extracted trees by chain ID ---- */

struct storage_layer
{
  char *chain_id;    /* "sha256:<hex>" */
  char *diff_id;     /* digest of the uncompressed tar */
  char *parent;      /* chain ID of the layer below, NULL for a base layer */
  char *blob_digest; /* compressed blob it came from, NULL when unknown */
  uint64_t blob_size;
  uint64_t size;     /* uncompressed */
  int64_t created;   /* when committed, seconds since the epoch */
};
void storage_layer_free (struct storage_layer *l);

/* The OCI chain ID: DIFF_ID itself for a base layer (PARENT NULL), else
 * "sha256:" + hex(sha256(PARENT + " " + DIFF_ID)).  Malloc'd. */
char *storage_chain_id (const char *parent, const char *diff_id, struct error **err);
/* Chain IDs of a whole NULL-terminated list of diff IDs, bottom first. */
int storage_chain_ids (char *const *diff_ids, char ***out, struct error **err);

bool storage_layer_exists (const struct storage_store *s, const char *chain_id);
/* Existence plus a lease, as storage_blob_claim().  1 present, 0 missing. */
int storage_layer_claim (struct storage_store *s, const char *chain_id, struct error **err);
/* Read and check a layer's layer.json. */
int storage_layer_get (const struct storage_store *s, const char *chain_id,
                       struct storage_layer **out, struct error **err);
/* <root>/layers/<hex>/diff, malloc'd; existence is not checked. */
char *storage_layer_diff_path (const struct storage_store *s, const char *chain_id,
                               struct error **err);

/* A layer being extracted: tmp/layer-<pid>-<random>/diff.  The staging
 * directory carries a flock while the stage lives, which is how repair
 * tells a live stage from a crashed one. */
struct storage_layer_stage;
int storage_layer_stage_new (struct storage_store *s, struct storage_layer_stage **out,
                             struct error **err);
/* The diff directory, for storage_extract_layer(); inherited by a forked
 * extraction child. */
int storage_layer_stage_diff_fd (const struct storage_layer_stage *st);
const char *storage_layer_stage_diff_path (const struct storage_layer_stage *st);
/* Write layer.json from LAYER (chain_id is required and must match parent
 * and diff_id; created 0 means now) and rename the stage into layers/.
 * When another process committed the same chain ID first, this stage goes
 * to the trash and the call succeeds.  The parent must exist.  The layer
 * is leased to S in the calling process, so commit in the process that
 * goes on to store the image (extract in a child, commit in the parent).
 * The stage is spent on success. */
int storage_layer_stage_commit (struct storage_store *s, struct storage_layer_stage *st,
                                const struct storage_layer *layer, struct error **err);
/* Free a stage; an uncommitted one is moved to the trash. */
void storage_layer_stage_free (struct storage_layer_stage *st);
void storage_layer_stage_freep (struct storage_layer_stage **st);
#define cleanup_layer_stage __attribute__ ((cleanup (storage_layer_stage_freep)))

/* ---- images: records in images.json ---- */

struct storage_image
{
  char *id;              /* config digest, "sha256:<hex>" */
  char **names;          /* "docker.io/library/busybox:latest"; may be empty */
  char **digests;        /* repo digests "docker.io/library/busybox@sha256:..." */
  char *manifest_digest; /* NULL for an image without a manifest yet */
  char *manifest_type;   /* its media type */
  char **layers;         /* chain IDs, bottom first */
  char **layer_blobs;    /* compressed blobs the manifest names, or NULL */
  int64_t created;       /* from the config, seconds since the epoch */
  int64_t added;         /* when first stored (set by the store) */
  uint64_t size;         /* sum of the layers' sizes (set by the store) */
};
/* String vectors are NULL-terminated; NULL reads as empty. */
void storage_image_free (struct storage_image *img);
void storage_image_vec_free (struct storage_image **v);

/* Create or update the record IMG->id.  Its config blob, manifest blob,
 * layer blobs and layers must be in the store, the layers forming one
 * chain.  An existing record keeps its names and gains IMG's; a name or
 * repo digest held by another image moves here (the other image keeps the
 * rest; once its last name is gone it keeps no repo digest either and is
 * dangling, "<none>").  An image stored with repo digests and no names (a
 * pull by digest) is named by them, not dangling. */
int storage_image_put (struct storage_store *s, const struct storage_image *img,
                       struct error **err);
/* Every image, in the order they were added: a NULL-terminated vector,
 * free with storage_image_vec_free().  One read of images.json. */
int storage_image_list (struct storage_store *s, struct storage_image ***out,
                        struct error **err);
/* Find the image REF names: a name or repo digest exactly as stored (the
 * caller normalizes), else an ID: full, with or without "sha256:", or a
 * unique prefix of its hex.  0 with *OUT NULL when nothing matches; an
 * ambiguous prefix is an error. */
int storage_image_lookup (struct storage_store *s, const char *ref,
                          struct storage_image **out, struct error **err);
/* Give image ID (full "sha256:<hex>") the name NAME, taking it from the
 * image that holds it (which loses its repo digests with its last name). */
int storage_image_tag (struct storage_store *s, const char *id, const char *name,
                       struct error **err);
/* Remove NAME (or a repo digest) from the image holding it; an unknown
 * name is an error.  The last name takes the repo digests with it. */
int storage_image_untag (struct storage_store *s, const char *name, struct error **err);

/* Called under the exclusive lock before a record goes; a negative return
 * (with *err set) refuses the deletion.  The hook for "image in use by a
 * container".  It may read the store but not change it. */
typedef int (*storage_image_check_fn) (const struct storage_image *img, void *data,
                                       struct error **err);
/* Delete image ID (full "sha256:<hex>") and whatever only it used: its
 * layers go to the trash, its blobs are removed.  *REMOVED_LAYERS (when
 * not NULL) gets the chain IDs that went.  CHECK may be NULL.  Content
 * another image or a live lease uses stays. */
int storage_image_delete (struct storage_store *s, const char *id,
                          storage_image_check_fn check, void *data, char ***removed_layers,
                          struct error **err);

/* ---- repair and removal ---- */

/* Clean up after crashed invocations: staging entries whose owner is gone
 * go to the trash, dead leases and index temporaries are removed, layer
 * directories without layer.json go to the trash.  COLLECT_ORPHANS also
 * collects layers and blobs no image or lease uses (rmi, prune); without
 * it, layers of an interrupted pull stay for the next pull to reuse.
 * Takes the exclusive lock unless held.  Cheap when nothing crashed. */
int storage_repair (struct storage_store *s, bool collect_orphans, struct error **err);
/* Whether tmp/ holds trash, so a caller knows whether to start a user
 * namespace for storage_purge_trash(). */
bool storage_has_trash (const struct storage_store *s);
/* Remove the trash.  Run it where the subordinate-owned files are
 * removable (inside the user namespace, or as root); elsewhere it fails on
 * them and leaves the entry for a later run.  Needs no store lock and is
 * safe in a forked child; concurrent purges skip each other's entries. */
int storage_purge_trash (const struct storage_store *s, struct error **err);

/* === container root filesystems (rootfs*.c) ============================= */

/* A container's root filesystem: the image's layers under a writable layer
 * of the container's own, made by one of three drivers (DESIGN.md
 * "Storage"), all keeping their files in a per-container directory:
 *
 *   overlay         kernel overlayfs: upper/, work/, merged/ (the root)
 *   fuse-overlayfs  the same directories, mounted by the fuse-overlayfs
 *                   program, which stays behind as the file system's daemon
 *   vfs             rootfs/: a full copy of the layers, made on first use
 *
 * Layers store whiteouts as 0:0 character devices and the opaque xattr, or,
 * where the file system refused those at extraction, as ".wh." files.
 * fuse-overlayfs and vfs read both forms; kernel overlayfs reads only the
 * first, and the store does not record which form a layer has.
 *
 * Every call below runs where the container's root will be used: inside
 * its mount namespace, and its user namespace when rootless, as root of
 * that namespace.  Removing the container directory is the caller's job
 * (inside the user namespace, since upper/ and rootfs/ hold files of
 * subordinate IDs). */

struct storage_rootfs_req
{
  /* The layers' diff directories, top first as overlay lists them,
   * NULL-terminated; NULL or empty for an image without layers.  Absolute
   * paths. */
  char *const *lower_dirs;
  /* The container's own directory, absolute, made by the caller. */
  const char *container_dir;
  /* The fuse-overlayfs program; NULL searches PATH. */
  const char *mount_program;
  /* Writes need not survive a crash (run --rm): overlay's "volatile",
   * fuse-overlayfs's "fsync=0". */
  bool is_volatile;
  /* In a user namespace: overlay needs "userxattr", and the layers carry
   * "user.overlay.opaque" rather than "trusted.overlay.opaque" (as
   * src/image_layers.c extracts them). */
  bool is_rootless;
};

struct storage_rootfs_driver
{
  const char *name;        /* STORAGE_DRIVER_* */
  const char *target_name; /* the directory in container_dir that is the root */
  /* Make what the driver keeps in the container directory; idempotent. */
  int (*prepare) (const struct storage_rootfs_req *req, struct error **err);
  /* Mount the root on TARGET (the prepared target directory). */
  int (*mount) (const struct storage_rootfs_req *req, const char *target, struct error **err);
  /* Detach what mount made; not mounted is no error. */
  int (*unmount) (const char *target, struct error **err);
};

/* The driver named NAME (STORAGE_DRIVER_*), or NULL for any other name. */
const struct storage_rootfs_driver *storage_rootfs_driver_get (const char *name);

/* Whether REQ is usable: container_dir and every lower directory set and
 * absolute.  Does not look at the file system. */
int storage_rootfs_check_req (const struct storage_rootfs_req *req, struct error **err)
    __attribute__ ((warn_unused_result));

/* The path that will be the container's root: CONTAINER_DIR/merged or
 * CONTAINER_DIR/rootfs.  Malloc'd; nothing is checked. */
char *storage_rootfs_target (const struct storage_rootfs_driver *d, const char *container_dir);

/* Prepare and mount REQ's root with driver D and set *TARGET_OUT
 * (malloc'd) to the path to pivot into: always a mount point, whatever the
 * driver.  Mounting again after storage_rootfs_unmount() reuses upper/
 * (or rootfs/), so a restarted container keeps its changes.  The overlay
 * drivers may change the working directory for the duration of the call
 * (storage_rootfs_in_dir()): not for threaded callers.  Safe after fork,
 * not in a signal handler. */
int storage_rootfs_mount (const struct storage_rootfs_driver *d,
                          const struct storage_rootfs_req *req, char **target_out,
                          struct error **err) __attribute__ ((warn_unused_result));

/* Detach (MNT_DETACH) the root that storage_rootfs_mount() made in
 * CONTAINER_DIR; a root that is not mounted is no error, so this suits
 * cleanup paths.  A fuse-overlayfs daemon exits once its mount is gone. */
int storage_rootfs_unmount (const struct storage_rootfs_driver *d, const char *container_dir,
                            struct error **err);

/* ---- shared by the drivers (rootfs*.c) and their unit tests ---- */

/* Which program reads the option string storage_rootfs_options() makes. */
enum storage_rootfs_opts_kind
{
  ROOTFS_OPTS_OVERLAY, /* mount(2) data for kernel overlayfs */
  ROOTFS_OPTS_FUSE,    /* fuse-overlayfs -o */
};

/* The option string "lowerdir=A:B,upperdir=U,workdir=W" plus "userxattr"
 * (rootless) and "volatile" for KIND overlay, or "fsync=0" (volatile) for
 * fuse-overlayfs.  The names are the absolute paths when none holds ',',
 * ':' or '\\' (neither program reads escapes the same way) and the string
 * is shorter than LIMIT bytes; otherwise they are relative to container_dir
 * ("l/0:l/1", "upper", "work"), *IS_RELATIVE is set, and the caller must
 * make the links (storage_rootfs_make_links()) and mount from
 * container_dir.  Without lower layers the lower is the empty directory
 * "empty".  E2BIG when even the short form does not fit. */
char *storage_rootfs_options (const struct storage_rootfs_req *req,
                              enum storage_rootfs_opts_kind kind, size_t limit,
                              bool *is_relative, struct error **err);

/* CONTAINER_DIR/l/<i> -> the i-th lower directory (CONTAINER_DIR/empty
 * when there is none), replacing what l/ held: short names for option
 * strings that must stay under a page. */
int storage_rootfs_make_links (const struct storage_rootfs_req *req, struct error **err)
    __attribute__ ((warn_unused_result));

/* Call FN (ARG, ERR) with DIR as the working directory, then return to the
 * one before: how relative option names reach the kernel or the program.
 * Not for threaded callers. */
int storage_rootfs_in_dir (const char *dir, int (*fn) (void *arg, struct error **err),
                           void *arg, struct error **err);

/* The drivers' own steps, reached through the table. */
int storage_rootfs_overlay_mount (const struct storage_rootfs_req *req, const char *target,
                                  struct error **err);
int storage_rootfs_fuse_mount (const struct storage_rootfs_req *req, const char *target,
                               struct error **err);
int storage_rootfs_fuse_unmount (const char *target, struct error **err);
/* Copy the layers bottom-up into CONTAINER_DIR/rootfs unless it is there:
 * built in rootfs.partial and renamed, so a crash leaves no half copy that
 * counts.  Whiteouts in either form delete what lower layers put there,
 * opaque directories (xattr or ".wh..wh..opq") hide their lower content;
 * owners, modes, times and xattrs are kept, except overlay's own xattrs;
 * hard links inside a layer stay hard links. */
int storage_rootfs_vfs_prepare (const struct storage_rootfs_req *req, struct error **err);

#endif
