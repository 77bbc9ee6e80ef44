/* File helpers: reading, atomic writes, mkdir -p, and recursive removal
 * that never leaves its tree. */
#ifndef SKIFF_LIBUTIL_FS_H
#define SKIFF_LIBUTIL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Read a whole file (at most MAX bytes, 0 = no limit) into a malloc'd,
 * NUL-terminated buffer; *len gets its size when LEN is not NULL.
 * DIRFD may be AT_FDCWD.  Fails (EFBIG) on a larger file, and on a
 * directory; a pipe is read to its end. */
char *fs_read_file_at (int dirfd, const char *path, size_t max, size_t *len,
                       struct error **err);
char *fs_read_file (const char *path, size_t max, size_t *len, struct error **err);

/* Write DATA to PATH atomically: a temporary file in the same directory,
 * fsync, rename over PATH, then fsync the directory.  Never leaves a
 * partial PATH; the temporary file is removed on failure. */
int fs_write_atomic (const char *path, const void *data, size_t len, mode_t mode,
                     struct error **err);
int fs_write_atomic_at (int dirfd, const char *name, const void *data, size_t len,
                        mode_t mode, struct error **err);

/* The same without the fsyncs, for files that need not survive a crash of
 * the machine: data under the runtime directory (gone at reboot anyway,
 * and regenerated) and throw-away state.  Readers still see the old or the
 * new content, never a partial file, also when the writer is killed; after
 * a power loss or a kernel crash PATH may be empty or hold the old
 * content.  An fsync costs a journal commit on most file systems. */
int fs_write_atomic_nosync (const char *path, const void *data, size_t len, mode_t mode,
                            struct error **err);
int fs_write_atomic_nosync_at (int dirfd, const char *name, const void *data, size_t len,
                               mode_t mode, struct error **err);

/* mkdir -p: create PATH and missing parents with MODE; an existing
 * directory is fine, an existing non-directory is an error. */
int fs_mkdir_p (const char *path, mode_t mode, struct error **err);

/* Remove PATH and everything below it.  Symlinks are removed, never
 * followed; works on descriptors (openat/unlinkat with O_NOFOLLOW) so a
 * concurrent rename cannot redirect it.  A missing PATH is not an error.
 * Directories without write permission are made writable to empty them.
 * A final component "." or ".." is refused (EINVAL). */
int fs_remove_tree (const char *path, struct error **err);
int fs_remove_tree_at (int dirfd, const char *name, struct error **err);

/* True when PATH resolves to something (following symlinks, as stat()). */
bool fs_exists (const char *path);
/* Copy a regular file's contents (used for small files such as configs) to
 * DST with MODE, atomically as fs_write_atomic(). */
int fs_copy_file (const char *src, const char *dst, mode_t mode, struct error **err);

#endif
