/* Helpers shared by the files of build_copy (build_copy.c: the plan, the
 * digest and the tar; build_copy_view.c: the image below; _archive.c:
 * ADD's local archives; _url.c: ADD's downloads).  Nothing outside
 * build_copy*.c includes this. */
#ifndef SKIFF_SRC_BUILD_COPY_INTERNAL_H
#define SKIFF_SRC_BUILD_COPY_INTERNAL_H

#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#include "build_copy.h"
#include "container_tar.h"
#include "libutil/error.h"
#include "userns.h"

/* ---- paths (build_copy.c) ---- */

/* PATH's components, cleaned lexically: empty and "." ones dropped, ".."
 * removing the one before and never going above the top.  NULL-terminated,
 * free with strv_free(). */
char **build_copy_path_components (const char *path);
/* "A/B", or the other one when either is "".  Malloc'd. */
char *build_copy_join (const char *a, const char *b);
/* The last component of a relative path (a pointer into it). */
const char *build_copy_base_name (const char *rel);

/* ---- the image below (build_copy_view.c) ---- */

/* The image as it is before the step: a root directory, or its layer
 * directories merged on lookup as overlayfs would. */
struct build_copy_view
{
  int root_fd;    /* build_copy_opts.dest_root_fd, or -1 */
  int *layer_fds; /* O_PATH, top first */
  size_t n_layers;
  const struct userns_idmap *uidmap, *gidmap; /* NULL: owners as found */
};

/* From O's dest_root_fd or dest_layers (neither: an empty view, where
 * nothing exists).  The maps are dropped when this process already runs
 * in a user namespace, where stat() shows container IDs.  Fails when a
 * layer directory cannot be opened. */
int build_copy_view_open (struct build_copy_view *v, const struct build_copy_opts *o,
                          struct error **err) __attribute__ ((warn_unused_result));
void build_copy_view_close (struct build_copy_view *v);

/* lstat() of REL (relative, "" the root) in the view, owners as container
 * IDs; *FD_OUT is the directory REL is relative to in the layer that
 * holds it (for readlinkat).  -1 when it does not exist. */
int build_copy_view_lstat (const struct build_copy_view *v, const char *rel, struct stat *st,
                           int *fd_out);

/* REL resolved in the view as the image will see it: symlinks followed
 * with the view's root as "/" ("var/run" is "run" in Debian images), so
 * the layer puts files where they will be seen and never replaces a
 * symlinked directory; missing components kept as written.  Relative,
 * malloc'd; fails on a symlink loop. */
char *build_copy_resolve_dest (const struct build_copy_view *v, const char *rel,
                               struct error **err);

/* ---- local archives (build_copy_archive.c) ---- */

/* A local archive ADD extracts under DEST_DIR. */
struct build_copy_archive
{
  char *src;      /* under the source root */
  char *dest_dir; /* tar name prefix, "" for "/" */
};

/* Is SRC under ROOT_FD a tar, plain or gzip/bzip2/xz/zstd compressed, as
 * docker tells (the head's magic or tar header, and a first header that
 * reads)? */
bool build_copy_is_archive (int root_fd, const char *src);

/* A's entries into T, re-rooted under A->DEST_DIR, owned by UID:GID (-1:
 * the archive's own owners).  Entries that are not files, directories,
 * symlinks or hard links are left out; names with "..", entries below a
 * symlink of the archive, hard links to names not seen before and
 * whiteout names fail, as does a corrupt or truncated archive. */
int build_copy_write_archive (struct container_tar *t, int root_fd,
                              const struct build_copy_archive *a, long uid, long gid,
                              struct error **err) __attribute__ ((warn_unused_result));

/* ---- URLs (build_copy_url.c) ---- */

/* The file name URL gives: its path's last element, query and fragment
 * dropped; fails when there is none. */
char *build_copy_url_name (const char *url, struct error **err);

/* GET URL (http or https, redirects followed) into a new anonymous file
 * *OUT_FD, at most BUILD_COPY_URL_MAX bytes, *SIZE of them; *MTIME from
 * Last-Modified, else now.  Fails on a transfer error or a status other
 * than 2xx. */
int build_copy_download (const char *url, int *out_fd, struct timespec *mtime, off_t *size,
                         struct error **err) __attribute__ ((warn_unused_result));

#endif
