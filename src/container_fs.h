/* A container's files from outside it: a function run in a child process
 * whose "/" is the container's root, as root of the container's user
 * namespace (so subordinate owners read and write as they are), whether
 * the container runs or not.  cp and export are built on it. */
#ifndef SKIFF_SRC_CONTAINER_FS_H
#define SKIFF_SRC_CONTAINER_FS_H

#include "cli.h"
#include "container.h"

enum container_fs_view
{
  /* What the container's processes see: with its volumes, binds, /proc
   * and /dev while it runs; the root file system alone when it does not. */
  CONTAINER_FS_LIVE,
  /* The root file system alone (image layers under the writable layer),
   * without anything mounted on it. */
  CONTAINER_FS_ROOTFS,
};

/* Runs in the child with "/" and the working directory at the container's
 * root.  0, or negative with *err set (it reaches the caller).  The host's
 * libraries are out of reach there: FN may use libarchive, which
 * container_fs_start() loads first, and no other lazily loaded library
 * (libutil/lazylib.h). */
typedef int (*container_fs_fn) (void *arg, struct error **err);

struct container_fs_proc;

/* Start FN(ARG) in such a child and return while it runs, so the caller
 * can stream to or from it over descriptors the child inherited.  A
 * running container's namespaces are joined (user first); a stopped one's
 * root file system is mounted in a private mount namespace of the child
 * and unmounted after FN, with C's lock held until container_fs_wait() so
 * it is not started meanwhile.  *OUT is released by container_fs_wait().
 * Forks: not for threaded callers. */
int container_fs_start (struct skiff_context *ctx, struct container *c,
                        enum container_fs_view view, container_fs_fn fn, void *arg,
                        struct container_fs_proc **out, struct error **err)
    __attribute__ ((warn_unused_result));

/* Wait for the child and release P.  Returns FN's error, or an error when
 * the child could not enter the container or died. */
int container_fs_wait (struct container_fs_proc *p, struct error **err)
    __attribute__ ((warn_unused_result));

/* container_fs_start() then container_fs_wait(). */
int container_fs_run (struct skiff_context *ctx, struct container *c,
                      enum container_fs_view view, container_fs_fn fn, void *arg,
                      struct error **err) __attribute__ ((warn_unused_result));

#endif
