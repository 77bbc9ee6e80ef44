/* `cp`: files between a container and the host, in either direction, or a
 * tar archive on stdin or stdout, with docker's rules for what lands
 * where.  One side writes a tar of the source (its first entry is the
 * source itself, named after it, or "." for "DIR/." which means "the
 * contents"), the other extracts it at the destination, so both
 * directions share one sender and one receiver; inside the container they
 * run as root of its user namespace with "/" at its root
 * (container_fs.h), so symlinks there resolve within it. */
#ifndef SKIFF_SRC_CONTAINER_COPY_H
#define SKIFF_SRC_CONTAINER_COPY_H

#include <stdbool.h>

#include "cli.h"
#include "libutil/error.h"

/* One argument of cp: "CONTAINER:PATH", a host path, or "-" (a tar archive
 * on stdin or stdout).  As docker reads it: a colon makes a container
 * reference unless the part before it is empty, starts with "." or holds a
 * "/" (write "./a:b" for a host file named "a:b").  An empty container path
 * means "/". */
struct container_copy_arg
{
  char *container; /* NULL for the host */
  char *path;      /* "-" for the archive on stdin or stdout */
};

int container_copy_parse_arg (const char *arg, struct container_copy_arg *out, struct error **err)
    __attribute__ ((warn_unused_result));
void container_copy_arg_clear (struct container_copy_arg *a);

/* How a path names what it copies: its parent directory and last
 * component, whether it ended in "/", and whether it means a directory's
 * contents ("DIR/.", ".", "..", "/"), in which case DIR is the whole path
 * and BASE is ".". */
struct container_copy_path
{
  char *dir;
  char *base;
  bool has_trailing_slash;
  bool is_contents;
};

void container_copy_split (const char *path, struct container_copy_path *out);
void container_copy_path_clear (struct container_copy_path *p);

/* What the receiver does with the archive's top entry TOP (its first
 * entry's name, "." for contents; IS_TOP_DIR whether it is a directory),
 * given the destination's state.  *EXTRACT_DIR gets the directory to
 * extract into (DEST or its parent) and *RENAME the name TOP takes there
 * (NULL: TOP stays; "" for "." means the entries go straight in).  Fails
 * with docker's errors: a directory onto a file, a file onto a missing
 * "DIR/", a missing parent. */
struct container_copy_dest
{
  bool exists;
  bool is_dir;
  bool parent_exists;
};

int container_copy_plan (const char *dest, const struct container_copy_dest *state,
                         const char *top, bool is_top_dir, char **extract_dir, char **rename,
                         struct error **err) __attribute__ ((warn_unused_result));

/* ENTRY (a path in the archive) with its first component TOP replaced by
 * RENAME ("" drops it); NULL when ENTRY is TOP itself and RENAME is "",
 * or when ENTRY is not below TOP.  Malloc'd. */
char *container_copy_rename (const char *entry, const char *top, const char *rename);

struct container_copy_opts
{
  bool is_archive; /* -a: keep owners; otherwise files copied into the
                      container belong to its root, onto the host to us */
};

/* `cp SRC DEST` with SRC and DEST as parsed above; exactly one of them is
 * in a container, which may run or not. */
int container_copy (struct skiff_context *ctx, const struct container_copy_arg *src,
                    const struct container_copy_arg *dest, const struct container_copy_opts *o,
                    struct error **err) __attribute__ ((warn_unused_result));

#endif
