/* COPY and ADD of `build` as a tar producer: the sources (files and
 * directories under a root, here-documents, and for ADD local tar archives
 * and http(s) URLs) become one uncompressed OCI layer tar that puts them at
 * the destination; the builder turns that tar into the step's layer.  The
 * work is split so the cache can be asked first:
 *
 *   1. build_copy_prepare() resolves every source (globs, directories,
 *      the ignore file, docker's rules for where each lands) into a plan,
 *      and downloads URLs into anonymous temporary files;
 *   2. build_copy_digest() hashes the plan's content for the cache key;
 *   3. build_copy_write() writes the layer tar, when the cache missed.
 *
 * Everything a source names is resolved beneath the source root as if it
 * were "/" (openat2 RESOLVE_IN_ROOT or the component walk of
 * runtime_fs_open_in_root): ".." and symlinks, absolute or not, never leave
 * it.  A source that is a symlink is followed (as docker does for the
 * named source); symlinks found inside a copied directory are copied as
 * symlinks.  Local archives ADD extracts are hostile input: entries are
 * re-rooted under the destination, and names with "..", entries below a
 * symlink of the same archive, hard links to names outside the archive or
 * not yet seen, and whiteout names (".wh.") fail the step.
 *
 * The tar (pax, numeric owners) holds, in this order: the parent
 * directories of the destination (with their metadata from the image
 * below, DEST_ROOT_FD or DEST_LAYERS, when they exist there, so the layer
 * does not change them; else 0755 root:root), then the copied entries
 * sorted by name (a later source wins over an earlier one for the same
 * name), then the entries of extracted archives in archive order.  Names
 * have no leading "/" or "./".  Mtimes come from the sources; downloaded
 * files take Last-Modified (else the time of download) and mode 0600;
 * here-documents are 0644 with the time of the build.  Xattrs and hard
 * links between copied files are not kept.
 *
 * None of these functions makes a process or changes namespaces: the
 * caller runs them where the source root is readable (the build context:
 * as the user; a stage's root file system: inside its user namespace).
 * URL downloads use libcurl.  They allocate, so they are fine in the
 * forked child of a single-threaded process (the builder copies from a
 * stage's root inside its user namespace that way), never in a signal
 * handler. */
#ifndef SKIFF_SRC_BUILD_COPY_H
#define SKIFF_SRC_BUILD_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "build_ignore.h"
#include "dockerfile.h"
#include "userns.h"
#include "libutil/error.h"
#include "libutil/sha256.h"

/* Largest file ADD downloads (bounds a hostile or broken server). */
#define BUILD_COPY_URL_MAX (8ull << 30)

struct build_copy_opts
{
  /* "COPY" or "ADD": the prefix of docker's messages ("COPY failed: ..."). */
  const char *instruction;
  bool is_add; /* URLs and local archive extraction allowed */

  /* The tree the source words are resolved in: the context directory's
   * build_context.dirfd, or the root of a stage or image for --from.  -1
   * when there is none (Dockerfile on stdin): only here-documents and
   * URLs can be copied then. */
  int src_root_fd;
  /* The context's ignore rules, or NULL (always NULL for --from). */
  const struct build_ignore *ignore;

  /* The source words, already expanded by the builder: paths relative to
   * the source root (a leading "/" is allowed and means the same), with
   * Go filepath.Match globs in any component; "http://" or "https://" URLs
   * (ADD only); "<<NAME" (also "<<-NAME", "<<'NAME'", "<<\"NAME\"")
   * naming one of HEREDOCS.  A directory source copies its contents. */
  char *const *srcs;
  size_t n_srcs;
  /* The instruction's here-documents; the builder has already expanded
   * the CONTENT of those with is_expand. */
  const struct df_heredoc *heredocs;
  size_t n_heredocs;

  /* Absolute destination in the image, WORKDIR already joined.  It names
   * a directory when it ends in "/", when there are several sources (after
   * glob expansion), when a source is a directory, or when it exists as a
   * directory in DEST_ROOT_FD; otherwise the one file source is written
   * under that name (docker's file-to-file rule). */
  const char *dest;
  /* The image's root file system as it is before this step, to tell an
   * existing destination directory, to follow symlinks in the destination
   * ("/var/run" is "/run") and to keep its parents' metadata in the layer
   * (a COPY into /tmp/ must not turn /tmp 0755); -1 when not available. */
  int dest_root_fd;
  /* Without DEST_ROOT_FD, the same view from the image's layer directories
   * as the store keeps them (NULL-terminated, top first), merged here as
   * the overlay would (whiteout devices and ".wh." files, opaque
   * directories by xattr or ".wh..wh..opq") with no mount; the owners
   * found there are host IDs, turned into container IDs through the maps
   * (NULL: the same numbers, as for real root).  NULL: no view. */
  char *const *dest_layers;
  const struct userns_idmap *dest_uidmap;
  const struct userns_idmap *dest_gidmap;

  /* Owner of every copied entry, and of the destination directory when
   * this step creates it: the --chown value resolved by the builder, or
   * 0:0 for sources from the context and URLs without --chown (docker's
   * rule); -1 keeps each source's own owner (--from without --chown).
   * Entries of an extracted archive keep the archive's owners unless
   * HAS_CHOWN. */
  long uid;
  long gid;
  bool has_chown;
  /* --chmod as given (octal, "755" or "0644"; checked here), or NULL:
   * applied to every copied file and directory, not to extracted archive
   * entries. */
  const char *chmod;
};

struct build_copy; /* the resolved plan, opaque */

/* Resolve O's sources into *OUT (see the file comment).  Fails with
 * docker's messages: "COPY failed: no source files were specified" (no
 * source word, or globs that matched nothing), "COPY failed: file not
 * found in build context or excluded by .dockerignore: stat SRC: file does
 * not exist", a URL in COPY, a here-document that is not in HEREDOCS, a
 * bad --chmod, several sources onto an existing file, an HTTP status
 * other than 2xx.  O's pointers need not outlive the call. */
int build_copy_prepare (const struct build_copy_opts *o, struct build_copy **out,
                        struct error **err) __attribute__ ((warn_unused_result));

/* The content key of the plan, "sha256:<hex>" in OUT: the destination,
 * chown and chmod, then for each entry in tar order its name, type, mode
 * (after --chmod), owner (after --chown), symlink target and the bytes of
 * its content (files, here-documents, downloads, whole archives); never
 * mtimes, so touching a file keeps the key and changing one byte changes
 * it.  Reads every copied file once; fails when one cannot be read. */
int build_copy_digest (const struct build_copy *c, char out[SHA256_DIGEST_STR_LEN],
                       struct error **err) __attribute__ ((warn_unused_result));

/* Write the layer tar (uncompressed) to OUT_FD; the descriptor is not
 * closed.  Fails on a read error, an archive that turns out hostile, or a
 * write error. */
int build_copy_write (const struct build_copy *c, int out_fd, struct error **err)
    __attribute__ ((warn_unused_result));

/* Number of entries the tar will hold (parents and copied entries; not
 * counting extracted archive entries): for "STEP" output and tests. */
size_t build_copy_n_entries (const struct build_copy *c);

void build_copy_free (struct build_copy *c);
void build_copy_freep (struct build_copy **c);
#define cleanup_build_copy __attribute__ ((cleanup (build_copy_freep)))

/* True for "http://..." and "https://..." (ADD's remote sources). */
bool build_copy_is_url (const char *src);

/* Parse a --chmod value: octal digits only, at most 07777.  Returns 0 and
 * *MODE, or a negative error "invalid --chmod value \"x\"". */
int build_copy_parse_chmod (const char *s, mode_t *mode, struct error **err)
    __attribute__ ((warn_unused_result));

#endif
