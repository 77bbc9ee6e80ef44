/* A container's files as tar streams: trees for export and cp, single
 * entries and whiteouts for commit's layer, written with libarchive (pax,
 * numeric owners, xattrs except overlay's own, hard links kept).  Files
 * are read on descriptors and no symlink is ever followed; directories
 * holding kernel file systems (proc, sysfs, devpts, cgroup, mqueue) are
 * written empty.  Runs where the files are readable: inside the user
 * namespace for subordinate-owned trees.  Safe after fork. */
#ifndef SKIFF_SRC_CONTAINER_TAR_H
#define SKIFF_SRC_CONTAINER_TAR_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "container.h"
#include "libutil/error.h"

struct archive_entry;

/* Where the tar's bytes go; 0 or negative with *err set. */
typedef int (*container_tar_sink) (void *arg, const void *buf, size_t len, struct error **err);

/* A sink writing to the descriptor *(int *)ARG. */
int container_tar_fd_sink (void *arg, const void *buf, size_t len, struct error **err);

struct container_tar;

struct container_tar *container_tar_new (container_tar_sink sink, void *arg);
void container_tar_free (struct container_tar *t);
void container_tar_freep (struct container_tar **t);
#define cleanup_container_tar __attribute__ ((cleanup (container_tar_freep)))

/* Add NAME in DIRFD (NAME "." for DIRFD itself) as ARCNAME, and what is
 * below it when it is a directory and IS_RECURSIVE.  ARCNAME "" adds only
 * the entries below a directory, named without a prefix. */
int container_tar_add (struct container_tar *t, int dirfd, const char *name, const char *arcname,
                       bool is_recursive, struct error **err) __attribute__ ((warn_unused_result));

/* An empty regular file ARCNAME, mode 0, owned by 0:0: how OCI layers say
 * ".wh.NAME" and ".wh..wh..opq". */
int container_tar_add_marker (struct container_tar *t, const char *arcname, struct error **err)
    __attribute__ ((warn_unused_result));

/* An entry built by the caller (pathname, type, mode, owner, times, size,
 * link target all set in E, which stays the caller's), for content that
 * is not a file under a directory: build's here-documents, downloads and
 * re-rooted archive entries.  A regular file's SIZE bytes follow with
 * container_tar_write(); fewer are padded with zeros, more are cut. */
int container_tar_begin_entry (struct container_tar *t, struct archive_entry *e, struct error **err)
    __attribute__ ((warn_unused_result));
int container_tar_write (struct container_tar *t, const void *buf, size_t len, struct error **err)
    __attribute__ ((warn_unused_result));

/* Write the end of the archive.  The sink sees nothing after it. */
int container_tar_finish (struct container_tar *t, struct error **err)
    __attribute__ ((warn_unused_result));

/* `export`: container C's root file system (without volumes or anything
 * else mounted on it) as a tar written to OUT_FD, whether C runs or not. */
int container_tar_export (struct skiff_context *ctx, struct container *c, int out_fd,
                          struct error **err) __attribute__ ((warn_unused_result));

#endif
